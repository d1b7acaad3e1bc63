#!/usr/bin/env bash
# node-compare.sh [--formats "png svg ..."] [--extra FILE] [--top PX] OUT/labN
# - lab N beside its Node.js twin, from the records both left there:
#
#   OUT/labN/node-compare.png|svg   a panel per mode: the C lab's rss
#                                   solid, the twin's dashed, in the
#                                   same colour, on the same axes; a
#                                   cross on each run's last row, and
#                                   how each ended under the panel's
#                                   title ("C: limit, Node: limit (V8)":
#                                   beside two crosses, a label could
#                                   read as the other's)
#
# A lab whose comparison draws heap_used (lab.meta's or node-lab.meta's
# compare=: labs 2 and 3; the twins of labs 6 and 7) gets a second row
# of panels, the heap: C's heap_used beside V8's heapUsed, and the bytes
# C took from mmap (lab 3's external_kib, else malloc's mmap_kib) beside
# Node's external, each pair in one colour, C solid, Node dashed, with
# the heap budget the runs kept; a side's mmap'd line that is 0 on every
# row of every panel (C's in lab 6) is left out, as plot.sh leaves out a
# column that is always 0. Another process's memory in the lab's compare=
# (lab 6's server_rss_kib, its redis-server's rss) is drawn beside rss, C
# solid and Node dashed in reddish purple, in the panels whose runs have it.
#
# Modes pair by name; a twin's mode that mirrors a C mode of another name
# says so in node-lab.meta (pair.MODE=C_MODE: lab 5's pipe is its stream).
# A mode only one side has gets a panel of its own, named "(C)" or
# "(Node)". --formats, --extra and --top are plot.sh's (slides.sh draws
# the slide page with them).
#
# Like plot.sh it reads records only (lab.meta, node-lab.meta, each run's
# MODE.meta and .tsv, node-MODE.meta and .tsv), trusts none of them
# (plots/lib.sh), places every label in free space (plots/layout.awk):
# a wall's label in full, on two lines, or short ("cap 192 MiB"), and
# where a panel has no free place even for that, under its title; and on
# any record it cannot read says so in one line, removes the old
# chart and exits 1.
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/lib.sh"

usage() {
    echo "usage: node-compare.sh [--formats \"png svg pdf small\"] [--extra FILE] [--top PX] OUT/labN" >&2
    exit 2
}
chart_options notext "$@"
dir=$(abs_dir "$chart_dir") || die "$chart_dir: cannot enter"
cd "$(dirname -- "$0")/.."   # gnuplot scripts load plots/style.gp

settings=$(mktemp)
layin=$(mktemp)
trap 'rm -f "$settings" "$layin"' EXIT

# fail MESSAGE - nothing is drawn: the old chart goes, exit 1.
fail() {
    rm -f -- "$dir"/node-compare.{png,svg,pdf} "$dir/node-compare-small.png"
    die "$1"
}

# --- the lab and its twin ----------------------------------------------------

labmeta=$dir/lab.meta twinmeta=$dir/node-lab.meta
for m in "$labmeta" "$twinmeta"; do
    [[ -e $m ]] || fail "$m: missing (run make labN with node installed, or leaklab run N and leaklab run N --node)"
done
labnum=$(meta_uint "$labmeta" lab) || fail "$labmeta: cannot draw without it"
title=$(meta_need "$labmeta" title) || fail "$labmeta: cannot draw without it"
takeaway=$(meta_need "$twinmeta" takeaway) || fail "$twinmeta: cannot draw without it"
xlabel=$(meta_get "$labmeta" xlabel) || xlabel="iteration"
runtime=$(meta_get "$twinmeta" runtime) || runtime="node"

csv_list "$(meta_need "$labmeta" modes)" || fail "$labmeta: no modes"
c_modes=("${list[@]}")
csv_list "$(meta_need "$twinmeta" modes)" || fail "$twinmeta: no modes"
n_modes=("${list[@]}")
for m in "${c_modes[@]}" "${n_modes[@]}"; do
    is_mode_file "$m" ||
        fail "$dir: a lab.meta names a mode '$m', which cannot be a file name"
done
# The heap row: the lab's compare= or the twin's names heap_used_kib.
compares=,$(meta_get "$labmeta" compare || true),$(meta_get "$twinmeta" compare || true),
heap_row=0
[[ $compares == *,heap_used_kib,* ]] && heap_row=1
# Beside rss, another process's memory the lab records (lab 6's
# server_rss_kib, its redis-server's): the first other _kib column of
# the lab's compare=, drawn in the rss row where a run has it above 0.
csv_list "$(meta_get "$labmeta" compare || true)"
side_col=""
for c in "${list[@]}"; do
    is_column_name "$c" && [[ $c == *_kib && $c != heap_used_kib ]] && { side_col=$c; break; }
done

# --- the pairs: a panel each -------------------------------------------------

# pair_of N - the C mode twin mode N mirrors: its pair.N, else its own name.
pair_of() {
    meta_get "$twinmeta" "pair.$1" || printf '%s' "$1"
}

# Panels in the C lab's order, then the twin's modes no C mode matches.
# p_c and p_n: the C mode and the twin's mode of each ("" for none); only
# modes with a record are drawn.
p_c=() p_n=() used=" "
for c in "${c_modes[@]}"; do
    [[ -e $dir/$c.meta ]] || continue
    match=""
    for n in "${n_modes[@]}"; do
        [[ $used != *" $n "* && -e $dir/node-$n.meta && $(pair_of "$n") == "$c" ]] || continue
        match=$n
        break
    done
    p_c+=("$c") p_n+=("$match")
    [[ -z $match ]] || used+="$match "
done
for n in "${n_modes[@]}"; do
    [[ $used == *" $n "* || ! -e $dir/node-$n.meta ]] && continue
    p_c+=("") p_n+=("$n")
    used+="$n "
done
np=${#p_c[@]}
[[ $np -gt 0 ]] || fail "$dir: no run to draw (run the lab and its twin first)"

# --- reading one run ---------------------------------------------------------

# How a run ended, in a word or two: its verdict, and "(V8)" for a limit
# V8 met (the meta's reason says which; the panel has no room for it).
end_word() {
    local m=$1 v r
    v=$(meta_need "$m" verdict) || return 1
    [[ $v == @(finished|limit|killed|timeout|crashed) ]] ||
        { warn "$m: verdict=$v is none of finished, limit, killed, timeout, crashed"; return 1; }
    if [[ $v == limit ]] && r=$(meta_get "$m" reason) && [[ $r == V8* ]]; then
        echo "limit (V8)"
    else
        echo "$v"
    fi
}

# read_run STEM - checks STEM.meta and STEM.tsv (STEM: a mode, or
# node-MODE) and sets, for the panel: r_tsv, r_end (words), r_last (the
# last row's iter), r_rss (its rss, MiB), r_max (highest rss, MiB),
# r_heap and r_mmap (highest heap_used and mmap'd column, MiB), r_mcol
# (that column: external_kib where the TSV has it, else mmap_kib),
# r_mlow (the mmap'd column's lowest, MiB), r_cap and r_kind (the cap),
# r_budget (MiB, or "").
read_run() {
    local stem=$1 m=$dir/$1.meta b stats rss_kib rss_hi heap_hi mmap_lo mmap_hi
    r_tsv=$dir/$stem.tsv
    r_end=$(end_word "$m") || return 1
    r_kind=$(meta_need "$m" cap_kind) || return 1
    [[ $r_kind == @(rlimit|kill|none) ]] || { warn "$m: cap_kind=$r_kind is none of rlimit, kill, none"; return 1; }
    b=$(meta_uint "$m" cap_bytes) || return 1
    r_cap=$(calc "int($b / 1048576 + 0.5)")
    r_mcol=mmap_kib
    tsv_header "$r_tsv" 2>/dev/null | grep -qx external_kib && r_mcol=external_kib
    tsv_check "$r_tsv" rss_kib heap_used_kib "$r_mcol" || return 1
    r_budget=""
    if b=$(tsv_comment "$r_tsv" max_heap); then
        is_uint "$b" || { warn "$r_tsv: max_heap=$b is not a number"; return 1; }
        [[ $b == 0 ]] || r_budget=$(calc "$b / 1048576")
    fi
    # col_stats: "rows last rss", then "min max" of rss, heap_used, mmap'd.
    mapfile -t stats < <(col_stats "$r_tsv" rss_kib heap_used_kib "$r_mcol")
    read -r _ r_last rss_kib <<<"${stats[0]:-}"
    read -r _ rss_hi <<<"${stats[1]:-}"
    read -r _ heap_hi <<<"${stats[2]:-}"
    read -r mmap_lo mmap_hi <<<"${stats[3]:-}"
    is_num "${rss_kib:-}" && is_num "${rss_hi:-}" && is_num "${heap_hi:-}" &&
        is_num "${mmap_lo:-}" && is_num "${mmap_hi:-}" ||
        { warn "$r_tsv: cannot be summed up"; return 1; }
    read -r r_rss r_max r_heap r_mmap r_mlow < <(LC_ALL=C awk -v a="$rss_kib" -v b="$rss_hi" \
        -v c="$heap_hi" -v d="$mmap_hi" -v e="$mmap_lo" \
        'BEGIN { printf "%.6f %.6f %.6f %.6f %.6f\n", a / 1024, b / 1024, c / 1024, d / 1024, e / 1024 }')
    is_uint "${r_last:-}" && is_num "${r_rss:-}" && is_num "${r_max:-}" &&
        is_num "${r_heap:-}" && is_num "${r_mmap:-}" && is_num "${r_mlow:-}" ||
        { warn "$r_tsv: cannot be summed up"; return 1; }
    # side_col's highest value (MiB), 0 where the run lacks it.
    r_side=0
    if [[ -n $side_col ]] && tsv_header "$r_tsv" 2>/dev/null | grep -qx -- "$side_col"; then
        r_side=$(tsv_columns "$r_tsv" "$side_col" | LC_ALL=C awk '
            $1 > m { m = $1 } END { printf "%.6f\n", m / 1024 }')
        is_num "$r_side" || { warn "$r_tsv: $side_col cannot be summed up"; return 1; }
    fi
}

# Per panel and side (index 2p for C, 2p+1 for Node): what read_run found.
s_tsv=() s_end=() s_last=() s_rss=() s_max=() s_mcol=()
s_cap=() s_kind=() s_budget=() s_side=()
xlast=0 rss_top=0 heap_top=0
# Each side's mmap'd line (C's mmap_kib or external_kib, Node's external)
# is drawn only if some run of that side has it off 0 on some row: a
# column that is 0 on every row of every panel (C's mmap in lab 6) says
# nothing, and plot.sh leaves such a column out too; so does the key.
mshow=(0 0)
for ((p = 0; p < np; p++)); do
    for side in 0 1; do
        i=$((2 * p + side))
        if [[ $side == 0 ]]; then mode=${p_c[$p]} stem=${p_c[$p]}; else mode=${p_n[$p]} stem=node-${p_n[$p]}; fi
        if [[ -z $mode ]]; then
            s_tsv[i]=""
            continue
        fi
        read_run "$stem" || fail "$dir: cannot draw lab $labnum beside its twin"
        s_tsv[i]=$r_tsv s_end[i]=$r_end s_last[i]=$r_last s_rss[i]=$r_rss s_max[i]=$r_max
        s_mcol[i]=$r_mcol s_cap[i]=$r_cap s_kind[i]=$r_kind
        s_budget[i]=$r_budget s_side[i]=$r_side
        [[ $(calc "$r_mlow == 0 && $r_mmap == 0") == 1 ]] || mshow[side]=1
        rss_top=$(max2 "$r_side" "$rss_top")
        xlast=$(max2 "$r_last" "$xlast")
        rss_top=$(max2 "$r_max" "$rss_top")
        heap_top=$(max2 "$(max2 "$r_heap" "$r_mmap")" "$heap_top")
        [[ -z $r_budget ]] || heap_top=$(max2 "$r_budget" "$heap_top")
    done
done

# --- walls ---------------------------------------------------------------------

# Each panel's walls in its rss row: a cap near the data (within 2x:
# closer than plot.sh's 3x, as a panel here holds two runs and their
# labels; the runs' own charts name the others), named by side; one line
# for both when they are the same size. w_p w_y w_text w_alt w_short
# w_row: panel (1-based), MiB, label, the label on two lines, a short
# one for a crowded panel, and the row (0 rss, 1 heap).
w_p=() w_y=() w_text=() w_alt=() w_short=() w_row=()
for ((p = 0; p < np; p++)); do
    data=0
    for i in $((2 * p)) $((2 * p + 1)); do [[ -z ${s_tsv[i]} ]] || data=$(max2 "${s_max[i]}" "$data"); done
    near=()
    for i in $((2 * p)) $((2 * p + 1)); do
        [[ -n ${s_tsv[i]} && ${s_kind[i]} != none ]] || continue
        [[ $(calc "${s_cap[i]} <= 2 * $data") == 1 ]] && near+=("$i")
    done
    if [[ ${#near[@]} == 2 && ${s_cap[near[0]]} == "${s_cap[near[1]]}" ]]; then
        c=${near[0]} k=${near[1]}
        if [[ ${s_kind[c]} == "${s_kind[k]}" ]]; then kind=${s_kind[c]}; else kind="C ${s_kind[c]}, Node ${s_kind[k]}"; fi
        w_p+=($((p + 1))) w_y+=("${s_cap[c]}") w_row+=(0)
        w_text+=("cap ${s_cap[c]} MiB ($kind)") w_alt+=("cap ${s_cap[c]} MiB"$'\n'"($kind)")
        w_short+=("cap ${s_cap[c]} MiB")
        near=()
    fi
    for i in "${near[@]}"; do
        if (( i % 2 == 0 )); then who=C; else who=Node; fi
        w_p+=($((p + 1))) w_y+=("${s_cap[i]}") w_row+=(0)
        w_text+=("$who cap ${s_cap[i]} MiB (${s_kind[i]})") w_alt+=("$who cap ${s_cap[i]} MiB"$'\n'"(${s_kind[i]})")
        w_short+=("$who cap ${s_cap[i]} MiB")
    done
    for i in $((2 * p)) $((2 * p + 1)); do
        [[ -n ${s_tsv[i]} && ${s_kind[i]} != none ]] || continue
        [[ $(calc "${s_cap[i]} <= 2 * $data") == 1 ]] && rss_top=$(max2 "${s_cap[i]}" "$rss_top")
    done
    # The heap budget, in the heap row: one line, the same for both.
    if [[ $heap_row == 1 ]]; then
        for i in $((2 * p)) $((2 * p + 1)); do
            [[ -n ${s_tsv[i]} && -n ${s_budget[i]} ]] || continue
            w_p+=($((p + 1 + np))) w_y+=("${s_budget[i]}") w_row+=(1)
            w_text+=("heap budget $(calc "int(${s_budget[i]} + 0.5)") MiB")
            w_alt+=("heap budget"$'\n'"$(calc "int(${s_budget[i]} + 0.5)") MiB")
            w_short+=("budget $(calc "int(${s_budget[i]} + 0.5)") MiB")
            break
        done
    fi
done

# --- the page ------------------------------------------------------------------

PAGE_W=1920 PAGE_H=1080 Y_FLOOR=10 HEADROOM=1.15
LEFT=190 RIGHT=50 TOP_PANELS=195 PANEL_GAP_X=70 PANEL_GAP_Y=90
KEY_ROW=52 KEY_BOTTOM=1010 XLABEL_BELOW=135 YLABEL_X=30 PANEL_PT=22
END_PT=21           # how the runs ended, under each rss panel's title:
                    # at least 18 pt on a slide (style.gp's 8/9)
if [[ $top -gt 0 ]]; then
    TOP_PANELS=$(( top + 80 > TOP_PANELS ? top + 80 : TOP_PANELS ))
    KEY_BOTTOM=1070
fi
frac_x() { awk -v p="$1" -v w="$PAGE_W" 'BEGIN { printf "%.5f\n", p / w }'; }
frac_y() { awk -v p="$1" -v h="$PAGE_H" 'BEGIN { printf "%.5f\n", 1 - p / h }'; }

# Panels: with a heap row, one column per pair and two rows; without,
# up to three side by side (four: two by two), as plot.sh lays them.
if [[ $heap_row == 1 ]]; then cols=$np prows=2
elif (( np <= 3 )); then cols=$np prows=1
elif (( np == 4 )); then cols=2 prows=2
else cols=3 prows=$(( (np + 2) / 3 ))
fi
# Rows of rss panels: a lower row's titles have a second line too.
(( heap_row == 1 || prows == 1 )) || PANEL_GAP_Y=120
npanels=$(( heap_row == 1 ? 2 * np : np ))

# The key, below it all: what each line is, C solid and Node dashed.
key_texts=("C rss" "Node rss")
key_ls=(41 31) key_kinds=(linespoints linespoints)
if [[ $heap_row == 1 ]]; then
    mname=mmap
    for i in "${!s_mcol[@]}"; do [[ ${s_mcol[i]} == external_kib && $((i % 2)) == 0 ]] && mname=external; done
    key_texts+=("C heap_used" "Node heapUsed") key_ls+=(43 33) key_kinds+=(line line)
    [[ ${mshow[0]} == 0 ]] || { key_texts+=("C $mname") key_ls+=(42) key_kinds+=(line); }
    [[ ${mshow[1]} == 0 ]] || { key_texts+=("Node external") key_ls+=(32) key_kinds+=(line); }
fi
has_side=0
for i in "${!s_side[@]}"; do [[ $(calc "${s_side[i]} > 0") == 1 ]] && has_side=1; done
if [[ $has_side == 1 ]]; then
    key_texts+=("C ${side_col%_kib}" "Node ${side_col%_kib}") key_ls+=(44 34) key_kinds+=(line line)
fi
key_texts+=("last row") key_ls+=(11) key_kinds+=(point)
all=""
for t in "${key_texts[@]}"; do all+="${all:+$'\036'}$t"; done
key_rows=$(printf 'key\t0\t40\t%s\t%s\n' $((PAGE_W - 2 * LEFT)) "$all" |
    LC_ALL=C awk -f plots/layout.awk | cut -f6 | sort -u | grep -c .)
mapfile -t key_out < <(printf 'key\t%s\t40\t%s\t%s\n' \
    $((KEY_BOTTOM - key_rows * KEY_ROW + KEY_ROW / 2)) $((PAGE_W - 2 * LEFT)) "$all" |
    LC_ALL=C awk -f plots/layout.awk)
bottom=$(( KEY_BOTTOM - key_rows * KEY_ROW - 40 - XLABEL_BELOW ))
pw=$(( (PAGE_W - LEFT - RIGHT - (cols - 1) * PANEL_GAP_X) / cols ))
ph=$(( (bottom - TOP_PANELS - (prows - 1) * PANEL_GAP_Y) / prows ))
# With a heap row, the rss row takes three fifths of the height: it holds
# the caps and how each run ended, the heap row one budget at most.
ph0=$ph ph1=$ph
if [[ $heap_row == 1 ]]; then
    ph0=$(( 2 * ph * 3 / 5 )) ph1=$(( 2 * ph - ph0 ))
fi

# tick_step TOP N - a whole-number step (1, 2, 2.5, 5, 10, 20, ...) that
# puts at most N ticks on an axis from 0 to TOP.
tick_step() {
    awk -v l="$1" -v n="$2" 'BEGIN {
        split("1 2 2.5 5", f, " ")
        for (d = 1; ; d *= 10) for (k = 1; k <= 4; k++) {
            s = f[k] * d
            if (s == int(s) && l / s <= n - 1) { print s; exit }
        }
    }'
}

# The shared axes: x to the longest run, y per row over its data and walls,
# with as many ticks as a panel's height has room for.
xmax=$(calc "$xlast > 0 ? $xlast * 1.04 : 1")
xstep=$(tick_step "$xlast" $(( pw > 700 ? 8 : pw > 400 ? 5 : 3 )))   # narrow panels (lab 6: five), fewer
ymax_rss=$(calc "($rss_top > $Y_FLOOR ? $rss_top : $Y_FLOOR) * $HEADROOM")
ymax_heap=$(calc "($heap_top > $Y_FLOOR ? $heap_top : $Y_FLOOR) * $HEADROOM")
ystep_rss=$(tick_step "$ymax_rss" $(( ph0 > 400 ? 8 : ph0 > 200 ? 5 : 4 )))
ystep_heap=$(tick_step "$ymax_heap" $(( ph1 > 400 ? 8 : ph1 > 200 ? 5 : 4 )))

# --- placing labels (plots/layout.awk) --------------------------------------------

: >"$layin"
l_text=() l_panel=() l_wall=()
# want_label PANEL WALL HOW X Y FORM... - a label to place, as plot.sh
# asks (WALL: 1 for a wall's, drawn vermilion).
want_label() {
    local n=$(( ${#l_panel[@]} + 1 )) p=$1 how=$3 x=$4 y=$5 form measure="" m line lines
    l_wall+=("$2")
    shift 5
    for form in "$@"; do
        mapfile -t lines < <(printf '%s\n' "$form")
        m=""
        for line in "${lines[@]}"; do m+="${m:+$'\037'}${line//[[:cntrl:]]/ }"; done
        measure+="${measure:+$'\036'}$m"
    done
    l_panel+=("$p") l_text+=("$(printf '%s\036' "$@")")
    printf 'label\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$p" "$how" "$x" "$y" \
        "$(calc "$PANEL_PT * 4 / 3")" "$measure" >>"$layin"
}

# points P SERIES FILE COLUMN - a line of panel P, for layout.awk.
points() {
    tsv_columns "$3" iter "$4" | LAY_HEAD="point	$1	1	$2" LC_ALL=C awk -F'\t' \
        '{ printf "%s\t%s\t%.6g\n", ENVIRON["LAY_HEAD"], $1, $2 / 1024 }' >>"$layin"
}

# ends_line P - how panel P's runs ended, on one line: "both finished",
# "C: limit, Node: limit (V8)", "C: killed" for a mode one side lacks.
ends_line() {
    local c=${s_end[2 * $1]:-} n=${s_end[2 * $1 + 1]:-}
    [[ -n ${s_tsv[2 * $1]} ]] || c=""
    [[ -n ${s_tsv[2 * $1 + 1]} ]] || n=""
    if [[ -n $c && $c == "$n" ]]; then echo "both $c"
    elif [[ -n $c && -n $n ]]; then echo "C: $c, Node: $n"
    elif [[ -n $c ]]; then echo "C: $c"
    else echo "Node: $n"
    fi
}

pbox=() ptitle=() pymax=() pystep=() pends=()
for ((q = 0; q < npanels; q++)); do
    p=$((q % np)) row=$((q / np))
    if [[ $heap_row == 1 ]]; then r=$row c=$p; else r=$((q / cols)) c=$((q % cols)); fi
    x0=$(( LEFT + c * (pw + PANEL_GAP_X) )) x1=$(( LEFT + c * (pw + PANEL_GAP_X) + pw ))
    if [[ $heap_row == 1 && $row == 1 ]]; then
        y0=$(( TOP_PANELS + ph0 + PANEL_GAP_Y )) y1=$(( TOP_PANELS + ph0 + PANEL_GAP_Y + ph1 ))
    else
        y0=$(( TOP_PANELS + r * (ph + PANEL_GAP_Y) )) y1=$(( TOP_PANELS + r * (ph + PANEL_GAP_Y) + ph0 ))
    fi
    below=$(( heap_row == 1 ? row == 1 : q + cols >= npanels ))
    ym=$([[ $row == 1 ]] && echo "$ymax_heap" || echo "$ymax_rss")
    # The title over the panel; over an rss panel, how its runs ended
    # under it, in smaller type.
    if [[ $row == 0 ]]; then ty=$((y0 - 62)) pends+=("$(ends_line "$p")"); else ty=$((y0 - 32)) pends+=(""); fi
    pbox+=("$(frac_x "$x0") $(frac_y "$y1") $(frac_x "$x1") $(frac_y "$y0") $below $(( c == 0 ? 1 : 0 )) $(frac_x $(( (x0 + x1) / 2 ))) $(frac_y "$ty") $(frac_y $((y0 - 22)))")
    pymax+=("$ym")
    pystep+=("$([[ $row == 1 ]] && echo "$ystep_heap" || echo "$ystep_rss")")
    c_mode=${p_c[$p]} n_mode=${p_n[$p]}
    if [[ -z $n_mode ]]; then t="$c_mode (C)"
    elif [[ -z $c_mode ]]; then t="$n_mode (Node)"
    elif [[ $c_mode == "$n_mode" ]]; then t=$c_mode
    else t="C $c_mode, Node $n_mode"
    fi
    ptitle+=("$t")
    printf 'panel\t%d\t%d\t%d\t%d\t%d\t0\t%s\t%s\t%s\t%s\t%s\n' $((q + 1)) "$x0" "$y0" "$x1" "$y1" \
        "$xmax" "$(calc "-0.025 * $ym")" "$ym" "$(calc "-0.025 * $ym")" "$ym" >>"$layin"
    for side in 0 1; do
        i=$((2 * p + side))
        [[ -n ${s_tsv[i]} ]] || continue
        if [[ $row == 0 ]]; then
            points $((q + 1)) "$side.rss" "${s_tsv[i]}" rss_kib
            [[ $(calc "${s_side[i]:-0} > 0") == 0 ]] || points $((q + 1)) "$side.side" "${s_tsv[i]}" "$side_col"
            printf 'mark\t%d\t%s\t%s\t16\n' $((q + 1)) "${s_last[i]}" "${s_rss[i]}" >>"$layin"
        else
            points $((q + 1)) "$side.heap" "${s_tsv[i]}" heap_used_kib
            [[ ${mshow[side]} == 0 ]] ||
                points $((q + 1)) "$side.mmap" "${s_tsv[i]}" "$([[ $side == 1 ]] && echo external_kib || echo "${s_mcol[i]}")"
        fi
    done
done
for k in "${!w_p[@]}"; do
    printf 'hline\t%d\t%s\n' "${w_p[$k]}" "${w_y[$k]}" >>"$layin"
done
for k in "${!w_p[@]}"; do
    want_label "${w_p[$k]}" 1 along 0 "${w_y[$k]}" "${w_text[$k]}" "${w_alt[$k]}" "${w_short[$k]}"
done

placed=()
[[ -z ${NODE_COMPARE_LAYOUT:-} ]] || cp -- "$layin" "$NODE_COMPARE_LAYOUT"   # to debug a layout
mapfile -t placed < <(LC_ALL=C awk -f plots/layout.awk <"$layin")
[[ ${#placed[@]} -eq ${#l_panel[@]} ]] || fail "layout.awk placed ${#placed[@]} of ${#l_panel[@]} labels"

# A label with no free place in its panel (four narrow panels and two
# runs can fill one) is not set on the lines there: its full text goes
# under the panel's title instead, after how the runs ended (in the heap
# row, after the title), and the wall is still drawn.
moved=()
for line in "${placed[@]}"; do
    IFS=$'\t' read -r id _ _ _ crowd <<<"$line"
    [[ $crowd == crowded ]] && is_uint "$id" || continue
    q=$(( l_panel[id - 1] - 1 ))
    mapfile -d $'\036' -t forms < <(printf '%s' "${l_text[$((id - 1))]}")
    if [[ -n ${pends[q]} ]]; then pends[q]+="; ${forms[0]//$'\n'/ }"
    else ptitle[q]+=" - ${forms[0]//$'\n'/ }"
    fi
    moved[id]=1
done

# --- gnuplot -----------------------------------------------------------------------

{
    echo "load 'plots/style.gp'"
    echo "fmts = $(gp_str "$formats")"
    echo "xlab = $(gp_str "$xlabel")"
    echo "out = $(gp_str "$dir/node-compare")"
    echo "ttl = $(gp_str "Lab $labnum: $title - C solid, Node.js dashed ($runtime)")"
    echo "caption = $(gp_str "$takeaway")"
    echo "n = $npanels; np = $np; heap_row = $heap_row; cmshow = ${mshow[0]}; nmshow = ${mshow[1]}"
    echo "xmax = $xmax; xstep = $xstep"
    echo "ptn = $(calc "$xlast + 1 > 20 ? int(($xlast + 1) / 10) : 1")"
    echo "array bl[$npanels]; array bb[$npanels]; array br[$npanels]; array bt[$npanels]; array ymx[$npanels]; array ystep[$npanels]"
    echo "array showx[$npanels]; array showy[$npanels]; array tx[$npanels]; array ty[$npanels]; array ptitle[$npanels]"
    echo "array pends[$npanels]; array ey[$npanels]; end_pt = $END_PT"
    echo "array ctsv[$npanels]; array ntsv[$npanels]; array cmcol[$npanels]"
    echo "side_col = $(gp_str "$side_col"); array cside[$npanels]; array nside[$npanels]"
    echo "array cex[$npanels]; array cey[$npanels]; array nex[$npanels]; array ney[$npanels]"
    for ((q = 0; q < npanels; q++)); do
        k=$((q + 1)) p=$((q % np))
        read -r bl bb br bt sx sy tx ty eyp <<<"${pbox[$q]}"
        echo "bl[$k] = $bl; bb[$k] = $bb; br[$k] = $br; bt[$k] = $bt; ymx[$k] = ${pymax[$q]}; ystep[$k] = ${pystep[$q]}"
        echo "showx[$k] = $sx; showy[$k] = $sy; tx[$k] = $tx; ty[$k] = $ty"
        echo "ptitle[$k] = $(gp_str "${ptitle[$q]}"); pends[$k] = $(gp_str "${pends[$q]}"); ey[$k] = $eyp"
        echo "ctsv[$k] = $(gp_str "${s_tsv[2 * p]}"); ntsv[$k] = $(gp_str "${s_tsv[2 * p + 1]}")"
        echo "cmcol[$k] = $(gp_str "${s_mcol[2 * p]:-mmap_kib}")"
        echo "cside[$k] = $(calc "${s_side[2 * p]:-0} > 0"); nside[$k] = $(calc "${s_side[2 * p + 1]:-0} > 0")"
        echo "cex[$k] = ${s_last[2 * p]:-NaN}; cey[$k] = ${s_rss[2 * p]:-NaN}"
        echo "nex[$k] = ${s_last[2 * p + 1]:-NaN}; ney[$k] = ${s_rss[2 * p + 1]:-NaN}"
    done
    nw=${#w_p[@]}
    echo "nw = $nw"
    echo "array wy[$(( nw > 0 ? nw : 1 ))]; array wp[$(( nw > 0 ? nw : 1 ))]; array wls[$(( nw > 0 ? nw : 1 ))]"
    [[ $nw -gt 0 ]] || echo "wy[1] = 0; wp[1] = 0; wls[1] = 10"
    for k in "${!w_p[@]}"; do
        echo "wy[$((k + 1))] = ${w_y[$k]}; wp[$((k + 1))] = ${w_p[$k]}; wls[$((k + 1))] = $(( w_row[k] == 1 ? 12 : 10 ))"
    done
    # The labels, a line of text each: text, position, panel.
    lt=() lx=() ly=() lp=() lw=()
    for line in "${placed[@]}"; do
        IFS=$'\t' read -r id f sx sy _ <<<"$line"
        is_uint "$id" && is_uint "$f" && is_num "$sx" && is_num "$sy" ||
            fail "layout.awk: '$line': not a position"
        [[ -z ${moved[id]:-} ]] || continue
        mapfile -d $'\036' -t forms < <(printf '%s' "${l_text[$((id - 1))]}")
        mapfile -t lines < <(printf '%s\n' "${forms[$((f - 1))]}")
        for k in "${!lines[@]}"; do
            lt+=("${lines[$k]}") lx+=("$sx") lp+=("${l_panel[$((id - 1))]}") lw+=("${l_wall[$((id - 1))]}")
            ly+=("$(calc "$sy - $k * 1.2 * $PANEL_PT * 4 / 3 / $PAGE_H")")
        done
    done
    echo "nl = ${#lt[@]}"
    k=$(( ${#lt[@]} > 0 ? ${#lt[@]} : 1 ))   # gnuplot wants at least one
    echo "array lt[$k]; array lx[$k]; array ly[$k]; array lp[$k]; array lwall[$k]"
    for k in "${!lt[@]}"; do
        echo "lt[$((k + 1))] = $(gp_str "${lt[$k]}"); lx[$((k + 1))] = ${lx[$k]}; ly[$((k + 1))] = ${ly[$k]}; lp[$((k + 1))] = ${lp[$k]}; lwall[$((k + 1))] = ${lw[$k]}"
    done
    nk=${#key_texts[@]}
    echo "kn = $nk"
    echo "array kt[$nk]; array kls[$nk]; array kkind[$nk]; array ksx0[$nk]; array ksx1[$nk]; array ktx[$nk]; array ky[$nk]"
    for line in "${key_out[@]}"; do
        IFS=$'\t' read -r tag k x0 x1 tx y <<<"$line"
        [[ $tag == key ]] && is_uint "$k" && is_num "$x0" && is_num "$x1" && is_num "$tx" && is_num "$y" ||
            fail "layout.awk: '$line': not a key entry"
        echo "kt[$k] = $(gp_str "${key_texts[$((k - 1))]}"); kls[$k] = ${key_ls[$((k - 1))]}; kkind[$k] = '${key_kinds[$((k - 1))]}'"
        echo "ksx0[$k] = $x0; ksx1[$k] = $x1; ktx[$k] = $tx; ky[$k] = $y"
    done
    echo "panel_pt = $PANEL_PT"
    echo "xlab_x = $(frac_x $(( (LEFT + PAGE_W - RIGHT) / 2 ))); xlab_y = $(frac_y $((bottom + XLABEL_BELOW)))"
    echo "ylab_x = $(frac_x "$YLABEL_X")"
    if [[ $heap_row == 1 ]]; then
        echo "nylab = 2; array ylabt[2]; array ylaby[2]"
        echo "ylabt[1] = 'rss (MiB)'; ylaby[1] = $(frac_y $(( TOP_PANELS + ph0 / 2 )))"
        echo "ylabt[2] = 'heap (MiB)'; ylaby[2] = $(frac_y $(( TOP_PANELS + ph0 + PANEL_GAP_Y + ph1 / 2 )))"
    else
        echo "nylab = 1; array ylabt[1]; array ylaby[1]"
        echo "ylabt[1] = 'rss (MiB)'; ylaby[1] = $(frac_y $(( (TOP_PANELS + bottom) / 2 )))"
    fi
    [[ -z $extra ]] || echo "load $(gp_str "$extra")"
} >"$settings"
gnuplot "$settings" plots/node-compare.gp || fail "$dir: the comparison with the twin could not be drawn"
for f in "${fmts[@]}"; do
    [[ $f == small ]] && file=$dir/node-compare-small.png || file=$dir/node-compare.$f
    [[ -s $file ]] || fail "$file: gnuplot wrote nothing"
done
