#!/usr/bin/env bash
# plot.sh [--text] [--formats "png svg ..."] OUT/labN - draw the charts for
# every run recorded there.
#
#   OUT/labN/MODE.png|svg     one run: rss, heap_total, heap_used (and the
#                             lab's own columns) per iteration, its walls,
#                             and a cross on its last row
#   OUT/labN/compare.png|svg  every mode side by side, one panel each, on
#                             the same axes: rss (and the lab's comparison
#                             columns), each mode's own walls, its cross
# With --text, print the comparison in the terminal instead (gnuplot dumb).
# --formats picks what to write (default "png svg"): also "pdf", a
# 1280x720 pt slide page per chart (make slides), and "small", an 800x450
# PNG (MODE-small.png, compare-small.png: README's example). See style.gp.
# --extra FILE: gnuplot commands loaded after plot.sh's own settings for
# every chart, before the chart script: slides.sh's page header (it may
# empty ttl and caption, and set labels numbered 901 and up). --top PX
# keeps the top PX of the 1080-pixel page free for it: the plot (or the
# comparison's panels) starts below.
#
# How the charts read (LESSONS.md, "How to read a chart", says the same):
#   - Modes never share a plot: a mode whose line would run under another
#     one's (lab 1's lose over retain) gets a panel of its own, and every
#     panel has the same axes, so heights compare across them.
#   - Each chart draws the walls of its own mode, each labelled with its
#     kind: the heap budget the run kept (its TSV's # max_heap= line), and
#     the runner's cap when it is near the data. A cap far above the data
#     is named at the top instead ("cap 2048 MiB (rlimit) ↑"), unless the
#     run kept a budget (that is its wall), or, on the comparison's small
#     panels, finished: a far cap it never met is left out there.
#   - The cross sits on the run's last recorded row, whatever its verdict;
#     the label beside it says how the run ended.
#   - Every label (walls, verdict) is placed in free space computed from
#     the data (plots/layout.awk), never on a line or another label; the
#     key sits below the plot.
#   - x has whole-number ticks; y starts at 0 and reaches at least
#     Y_FLOOR MiB, so that a flat line looks flat. A series that carries
#     no information (a count that never changes, a memory column that is
#     always 0) is left out.
#
# Everything a chart says comes from the records, and only from them: the
# lab's lab.meta (title, takeaway, modes, columns, axis names), each run's
# MODE.meta (cap, cap kind, verdict, how it died) and MODE.tsv (the rows,
# and the budget in its comments). No lab is run. lab.meta must hold lab,
# title, takeaway and modes; it may hold columns, y2, xlabel and compare
# (the _kib columns each panel of the comparison draws beside rss). A mode
# is drawn when it has a MODE.meta; lab.meta's cap_bytes.MODE says a mode
# was run, so that its missing record is an error rather than a mode left
# out.
#
# Nothing in a record is trusted (plots/lib.sh): a torn, empty or garbage
# TSV, or a meta without a key it needs, gets one line on stderr, the old
# chart of that mode is removed (never left to look current), the other
# modes are still drawn, and plot.sh exits 1.
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/lib.sh"

usage() {
    echo "usage: plot.sh [--text] [--formats \"png svg pdf small\"] [--extra FILE] [--top PX] OUT/labN" >&2
    exit 2
}
in_compare=0
chart_options text "$@"
dir=$(abs_dir "$chart_dir") || die "$chart_dir: cannot enter"
cd "$(dirname -- "$0")/.."   # gnuplot scripts load plots/style.gp

settings=$(mktemp)
layin=$(mktemp)
trap 'rm -f "$settings" "$layin"' EXIT

# unchart NAME - removes every chart file of NAME (a mode, or compare): a
# redraw that failed must not leave the last one looking current.
unchart() {
    [[ $text -eq 1 ]] || rm -f -- "$dir/$1".{png,svg,pdf} "$dir/$1-small.png"
}

# lab_fail MESSAGE - nothing can be drawn: every chart goes, exit 1.
lab_fail() {
    local m
    unchart compare
    for m in "$dir"/*.meta; do
        [[ $m == "$dir/lab.meta" ]] || unchart "$(basename -- "$m" .meta)"
    done
    die "$1"
}

# --- the lab: lab.meta -------------------------------------------------------

labmeta=$dir/lab.meta
[[ -e $labmeta ]] || lab_fail "$labmeta: missing (run the lab again: make labN, or leaklab run N)"
labnum=$(meta_uint "$labmeta" lab) || lab_fail "$labmeta: cannot draw without it"
title=$(meta_need "$labmeta" title) || lab_fail "$labmeta: cannot draw without it"
takeaway=$(meta_need "$labmeta" takeaway) || lab_fail "$labmeta: cannot draw without it"
modes_csv=$(meta_need "$labmeta" modes) || lab_fail "$labmeta: cannot draw without it"
xlabel=$(meta_get "$labmeta" xlabel) || xlabel="iteration"

# The runs, in the lab's own order of modes (leak first, then its fixes).
csv_list "$modes_csv"; modes=("${list[@]}")
[[ ${#modes[@]} -gt 0 ]] || lab_fail "$labmeta: modes= names no mode"
for mode in "${modes[@]}"; do
    is_mode_file "$mode" ||
        lab_fail "$labmeta: modes= names '$mode', which cannot be a file name"
done

# The lab's own columns: memory (_kib) on the left axis, the counts it
# names in y2= on the right one (a _kib column named there, like lab 5's
# copied_kib, is progress, not memory held); and the memory columns its
# comparison draws beside rss (compare=). Each is a plain name.
csv_list "$(meta_get "$labmeta" columns || true)"; columns=("${list[@]}")
csv_list "$(meta_get "$labmeta" y2 || true)"; y2_cols=("${list[@]}")
csv_list "$(meta_get "$labmeta" compare || true)"; cmp_cols=("${list[@]}")
mem_cols=()
for c in "${columns[@]}" "${y2_cols[@]}" "${cmp_cols[@]}"; do
    is_column_name "$c" || lab_fail "$labmeta: '$c' is not a column name"
done
for c in "${cmp_cols[@]}"; do
    [[ $c == *_kib && $c != rss_kib ]] ||
        lab_fail "$labmeta: compare= names '$c', not a memory column (NAME_kib) beside rss"
done
for c in "${columns[@]}"; do
    [[ $c == *_kib && " ${y2_cols[*]} " != *" $c "* ]] && mem_cols+=("$c")
done

# --- the page: sizes in pixels of the 1920x1080 PNG --------------------------

# Every format is that PNG scaled as a whole (style.gp), so one set of
# positions serves them all. gnuplot takes them as fractions of the page.
PAGE_W=1920 PAGE_H=1080
Y_FLOOR=10          # MiB: the least a memory axis shows (a flat line looks
                    # flat; a program's own baseline is about 2 MiB)
HEADROOM=1.15       # the y axis reaches 15% above the highest thing drawn
LEFT=190            # the y axis's tick labels and name
RIGHT=50            # a little air; 190 with a second axis
TOP=115             # under the title (a comparison: 165, under the
TOP_PANELS=165      # panels' own titles too)
PANEL_GAP_X=70      # between panels side by side (their x tick labels)
PANEL_GAP_Y=70      # between rows of panels (the lower one's title)
KEY_ROW=52          # one row of the key
KEY_BOTTOM=1010     # the key ends above the caption (centred at 1042)
XLABEL_BELOW=135    # the x axis's name, below the plot's bottom edge
YLABEL_X=30         # the y axis's name, from the page's left edge
LABEL_PT=30         # labels on a run's chart, and on the comparison's
PANEL_PT=26         # panels (pt; 4/3 px each on the PNG)
# --top PX: a band of the page kept free above the plot for whoever
# draws there (the slides' header, plots/header.gp, through --extra).
# That header carries the chart's title and caption, so the caption's
# band at the bottom is free for the plot too.
if [[ $top -gt 0 ]]; then
    TOP=$(( top > TOP ? top : TOP ))
    TOP_PANELS=$(( top + 50 > TOP_PANELS ? top + 50 : TOP_PANELS ))
    KEY_BOTTOM=1070
fi

# frac_x PX / frac_y PX - a pixel position as gnuplot's screen fraction.
frac_x() { awk -v p="$1" -v w="$PAGE_W" 'BEGIN { printf "%.5f\n", p / w }'; }
frac_y() { awk -v p="$1" -v h="$PAGE_H" 'BEGIN { printf "%.5f\n", 1 - p / h }'; }

# --- reading one run ---------------------------------------------------------

# What the end of a run is called on a chart, from its meta M.
verdict_label() {
    local m=$1 v s wd
    v=$(meta_need "$m" verdict) || return 1
    case $v in
        finished) echo "finished" ;;
        limit)    s=$(meta_get "$m" wall) || s=""; echo "${s:-limit: exit 3}" ;;
        killed)   s=$(meta_need "$m" signal_name) || return 1
                  # The watchdog's reading: after the last row, so the
                  # cross on that row cannot show it.
                  if wd=$(meta_get "$m" watchdog_rss_kib); then
                      is_uint "$wd" || { warn "$m: watchdog_rss_kib=$wd is not a number"; return 1; }
                      echo "killed: $s at rss $(calc "int($wd / 1024 + 0.5)") MiB"
                  else
                      echo "killed: $s"
                  fi ;;
        timeout)  echo "timeout: killed after --timeout" ;;
        crashed)  if s=$(meta_get "$m" signal_name); then echo "crashed: $s"
                  else s=$(meta_uint "$m" exit_code) || return 1; echo "crashed: exit $s"; fi ;;
        *)        warn "$m: verdict=$v is none of finished, limit, killed, timeout, crashed"; return 1 ;;
    esac
}

# What the charts need of each run drawn, index for index.
files=() names=() kinds=() cap_mibs=() budgets=() vlabels=() lastxs=()
lastys=() cmp_maxs=() rowss=()
failed=()

# read_run MODE - checks MODE's records and appends what the charts need
# to the arrays above; sets what its own chart needs besides: caption,
# left_max (MiB: the highest thing on the left axis), keep_mem and keep_y2
# (the lab's columns worth drawing for this run) and y2_max.
read_run() {
    local mode=$1 m=$dir/$1.meta tsv=$dir/$1.tsv got label kind cap_bytes
    local b budget="" stats rows last rss lo hi i c v cmp_max
    got=$(meta_need "$m" mode) || return 1
    [[ $got == "$mode" ]] || { warn "$m: says mode=$got, not $mode"; return 1; }
    meta_need "$m" verdict >/dev/null || return 1
    label=$(verdict_label "$m") || return 1
    kind=$(meta_need "$m" cap_kind) || return 1
    [[ $kind == @(rlimit|kill|none) ]] ||
        { warn "$m: cap_kind=$kind is none of rlimit, kill, none"; return 1; }
    cap_bytes=$(meta_uint "$m" cap_bytes) || return 1
    caption=$(meta_need "$m" caption) || return 1
    tsv_check "$tsv" rss_kib heap_total_kib heap_used_kib "${columns[@]}" \
        "${y2_cols[@]}" "${cmp_cols[@]}" || return 1
    if b=$(tsv_comment "$tsv" max_heap); then
        is_uint "$b" || { warn "$tsv: max_heap=$b is not a number"; return 1; }
        [[ $b == 0 ]] || budget=$(calc "$b / 1048576")
    fi
    mapfile -t stats < <(col_stats "$tsv" rss_kib heap_total_kib heap_used_kib \
        "${mem_cols[@]}" "${y2_cols[@]}" "${cmp_cols[@]}")
    read -r rows last rss <<<"${stats[0]:-}"
    if ! { is_uint "${rows:-}" && is_uint "${last:-}" && is_num "${rss:-}"; }; then
        warn "$tsv: cannot be summed up"
        return 1
    fi
    for v in "${stats[@]:1}"; do
        read -r lo hi <<<"$v"
        is_num "${lo:-}" && is_num "${hi:-}" ||
            { warn "$tsv: cannot be summed up"; return 1; }
    done
    # stats: [1] rss, [2] heap_total, [3] heap_used, then mem_cols,
    # y2_cols, cmp_cols: min and max of each.
    read -r lo hi <<<"${stats[1]}"
    left_max=$(calc "$hi / 1024") cmp_max=$(calc "$hi / 1024")
    i=2 keep_mem=() keep_y2=() y2_max=0
    for c in heap_total_kib heap_used_kib "${mem_cols[@]}"; do
        read -r lo hi <<<"${stats[$i]}"; i=$((i + 1))
        left_max=$(max2 "$(calc "$hi / 1024")" "$left_max")
        # A column of the lab's own that stays at 0 says nothing.
        [[ $c == heap_*_kib ]] || [[ $(calc "$lo == 0 && $hi == 0") == 1 ]] ||
            keep_mem+=("$c")
    done
    for c in "${y2_cols[@]}"; do
        read -r lo hi <<<"${stats[$i]}"; i=$((i + 1))
        # A count that never changes (lab 5's copied, 0 until the write
        # starts) is left out: a flat line on an axis of its own.
        [[ $(calc "$lo == $hi") == 1 ]] && continue
        keep_y2+=("$c")
        [[ $c == *_kib ]] && hi=$(calc "$hi / 1024")
        y2_max=$(max2 "$hi" "$y2_max")
    done
    for c in "${cmp_cols[@]}"; do
        read -r lo hi <<<"${stats[$i]}"; i=$((i + 1))
        cmp_max=$(max2 "$(calc "$hi / 1024")" "$cmp_max")
    done
    files+=("$tsv") names+=("$mode") kinds+=("$kind")
    cap_mibs+=("$(calc "int($cap_bytes / 1048576 + 0.5)")") budgets+=("$budget")
    vlabels+=("$label") lastxs+=("$last") lastys+=("$(calc "$rss / 1024")")
    cmp_maxs+=("$cmp_max") rowss+=("$rows")
}

# --- walls -------------------------------------------------------------------

# run_walls I DATA_MAX - the walls of run I, for a plot whose data reach
# DATA_MAX MiB: sets wall_ys, wall_styles, wall_texts and wall_alts (the
# same text on two lines, for a narrow plot): the lines to draw; and note
# and note_alt: a wall named at the top instead, or "".
run_walls() {
    local i=$1 data=$2 kind=${kinds[$1]} cap=${cap_mibs[$1]} budget=${budgets[$1]} mib
    wall_ys=() wall_styles=() wall_texts=() wall_alts=() note="" note_alt=""
    if [[ -n $budget ]]; then
        mib=$(calc "int($budget + 0.5)")
        wall_ys+=("$budget") wall_styles+=(12)
        wall_texts+=("heap budget $mib MiB") wall_alts+=("heap budget"$'\n'"$mib MiB")
    fi
    if [[ $kind == none ]]; then
        [[ -n $budget ]] || note="no cap" note_alt="no cap"
    elif [[ $(calc "$cap <= 3 * $data") == 1 ]]; then   # near the data
        wall_ys+=("$cap") wall_styles+=(10)
        wall_texts+=("cap $cap MiB ($kind)") wall_alts+=("cap $cap MiB"$'\n'"($kind)")
    elif [[ -z $budget && ! ( $in_compare -eq 1 && ${vlabels[$i]} == finished ) ]]; then
        # In the comparison's small panels a far cap is named only for a
        # run that did not finish: one that finished far under it never
        # met it, and its panel has no room to spare for the note.
        note="cap $cap MiB ($kind) ↑" note_alt="cap $cap MiB ↑"$'\n'"($kind)"
    fi
}

# y_top DATA_MAX WALL... - the y axis's top: the highest of the data, the
# walls drawn and Y_FLOOR, with headroom.
y_top() {
    local m=$Y_FLOOR v
    for v in "$@"; do m=$(max2 "$v" "$m"); done
    calc "$m * $HEADROOM"
}

# x_axis LAST MAX_TICKS - prints "xmax step": the x range's end (the last
# row with a 4% margin, for the cross to show whole) and a whole-number
# tick step (1, 2, 5, 10, 20, 25, 50, ...) giving at most MAX_TICKS ticks.
x_axis() {
    awk -v l="$1" -v n="$2" 'BEGIN {
        xmax = l > 0 ? l * 1.04 : 1
        split("1 2 2.5 5", f, " ")
        for (d = 1; ; d *= 10) for (k = 1; k <= 4; k++) {
            s = f[k] * d
            if (s == int(s) && l / s <= n - 1) { printf "%.4f %d\n", xmax, s; exit }
        }
    }'
}

# --- placing labels ----------------------------------------------------------

# What layout.awk is asked to place, and where it said, index for index:
# lab_forms[N,F] is label N's form F (lines apart by newlines).
declare -A lab_forms
lab_nforms=() lab_pts=() lab_colors=() lab_panels=() lab_fs=() lab_xs=() lab_ys=()

# want_label PANEL HOW X Y PT COLOR FORM... - queues a label for
# layout.awk (see there for HOW), in one or more forms to choose from, the
# best first; a form's lines apart by newlines. layout.awk gets only the
# text's width to go by: lines apart by US, forms by RS, and every other
# control character a space.
want_label() {
    local n=$(( ${#lab_nforms[@]} + 1 )) p=$1 how=$2 x=$3 y=$4 pt=$5 color=$6
    local f=0 form line lines measure="" m
    shift 6
    for form in "$@"; do
        f=$((f + 1))
        lab_forms[$n,$f]=$form
        mapfile -t lines < <(printf '%s\n' "$form")
        m=""
        for line in "${lines[@]}"; do
            m+="${m:+$'\037'}${line//[[:cntrl:]]/ }"
        done
        measure+="${measure:+$'\036'}$m"
    done
    lab_nforms+=("$f") lab_pts+=("$pt") lab_colors+=("$color") lab_panels+=("$p")
    printf 'label\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$p" "$how" "$x" "$y" \
        "$(calc "$pt * 4 / 3")" "$measure" >>"$layin"
}

# layout_points PANEL SERIES AXIS DIV FILE COLUMN - every row of COLUMN
# (divided by DIV) as points of one line, for layout.awk.
layout_points() {
    tsv_columns "$5" iter "$6" | LAY_HEAD="point	$1	$3	$2" LAY_DIV=$4 \
        LC_ALL=C awk -F'\t' '{ printf "%s\t%s\t%.6g\n", ENVIRON["LAY_HEAD"], $1, $2 / ENVIRON["LAY_DIV"] }' >>"$layin"
}

# layout_panel P X0 Y0 X1 Y1 XMAX YMAX Y2MAX - a plot box for layout.awk;
# each y axis starts a little under 0 (bottom_of).
layout_panel() {
    printf 'panel\t%s\t%s\t%s\t%s\t%s\t0\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
        "$6" "$(bottom_of "$7")" "$7" "$(bottom_of "$8")" "$8" >>"$layin"
}

# bottom_of TOP - where a y axis reaching TOP starts: 2.5% under 0, so
# that a line at 0 (lab 3's offheap heap_used) shows above the axis.
bottom_of() {
    calc "-0.025 * $1"
}

# place - runs layout.awk over what was queued; fills lab_fs, lab_xs and
# lab_ys.
place() {
    local n f x y rest
    lab_fs=() lab_xs=() lab_ys=()
    while IFS=$'\t' read -r n f x y rest; do
        is_uint "$n" && is_uint "$f" && is_num "$x" && is_num "$y" ||
            { warn "layout.awk: '$n $f $x $y': not a position"; return 1; }
        lab_fs[n - 1]=$f lab_xs[n - 1]=$x lab_ys[n - 1]=$y
    done < <(LC_ALL=C awk -f plots/layout.awk <"$layin")
    [[ ${#lab_xs[@]} -eq ${#lab_nforms[@]} ]] ||
        { warn "layout.awk placed ${#lab_xs[@]} of ${#lab_nforms[@]} labels"; return 1; }
}

# write_labels - the placed labels as gnuplot arrays, one entry per line
# of text (lt: text, lx, ly: where, lpt: font size, lc: colour, lp:
# panel). A label's further lines go 1.2 em under its first.
write_labels() {
    local i k lines=() l_t=() l_x=() l_y=() l_pt=() l_c=() l_p=()
    for i in "${!lab_nforms[@]}"; do
        mapfile -t lines < <(printf '%s\n' "${lab_forms[$((i + 1)),${lab_fs[$i]}]}")
        for k in "${!lines[@]}"; do
            l_t+=("${lines[$k]}") l_x+=("${lab_xs[$i]}") l_pt+=("${lab_pts[$i]}")
            l_y+=("$(calc "${lab_ys[$i]} - $k * 1.2 * ${lab_pts[$i]} * 4 / 3 / $PAGE_H")")
            l_c+=("${lab_colors[$i]}") l_p+=("${lab_panels[$i]}")
        done
    done
    echo "nl = ${#l_t[@]}"
    echo "array lt[${#l_t[@]}]; array lx[${#l_t[@]}]; array ly[${#l_t[@]}]; array lpt[${#l_t[@]}]; array lc[${#l_t[@]}]; array lp[${#l_t[@]}]"
    for i in "${!l_t[@]}"; do
        echo "lt[$((i + 1))] = $(gp_str "${l_t[$i]}")"
        echo "lx[$((i + 1))] = ${l_x[$i]}; ly[$((i + 1))] = ${l_y[$i]}"
        echo "lpt[$((i + 1))] = ${l_pt[$i]}; lc[$((i + 1))] = '${l_c[$i]}'; lp[$((i + 1))] = ${l_p[$i]}"
    done
}

# The key's entries, index for index: text, line style, and kind (line,
# linespoints or point); key_out: where layout.awk put each, a line
# "key I x0 x1 tx y" (see there); key_rows: in how many rows.
key_texts=() key_ls=() key_kinds=() key_out=() key_rows=1

# key_entry TEXT STYLE KIND - adds an entry to the key.
key_entry() {
    key_texts+=("$1") key_ls+=("$2") key_kinds+=("$3")
}

# place_key - lays the key out in rows across the page, the last of them
# just above the caption: sets key_out and key_rows.
place_key() {
    local all="" t
    for t in "${key_texts[@]}"; do all+="${all:+$'\036'}${t//[[:cntrl:]]/ }"; done
    key_rows=$(printf 'key\t0\t40\t%s\t%s\n' $((PAGE_W - 2 * LEFT)) "$all" |
        LC_ALL=C awk -f plots/layout.awk | cut -f6 | sort -u | grep -c .)
    mapfile -t key_out < <(printf 'key\t%s\t40\t%s\t%s\n' \
        $((KEY_BOTTOM - key_rows * KEY_ROW + KEY_ROW / 2)) $((PAGE_W - 2 * LEFT)) "$all" |
        LC_ALL=C awk -f plots/layout.awk)
}

# write_key - the key as gnuplot arrays (run.gp says which).
write_key() {
    local line tag i x0 x1 tx y n=${#key_texts[@]}
    echo "kn = $n"
    echo "array kt[$n]; array kls[$n]; array kkind[$n]; array ksx0[$n]; array ksx1[$n]; array ktx[$n]; array ky[$n]"
    for line in "${key_out[@]}"; do
        IFS=$'\t' read -r tag i x0 x1 tx y <<<"$line"
        [[ $tag == key ]] && is_uint "$i" && is_num "$x0" && is_num "$x1" && is_num "$tx" && is_num "$y" ||
            { warn "layout.awk: '$line': not a key entry"; return 1; }
        echo "kt[$i] = $(gp_str "${key_texts[$((i - 1))]}"); kls[$i] = ${key_ls[$((i - 1))]}; kkind[$i] = '${key_kinds[$((i - 1))]}'"
        echo "ksx0[$i] = $x0; ksx1[$i] = $x1; ktx[$i] = $tx; ky[$i] = $y"
    done
}

# Walls for gnuplot, index for index: y, line style, panel.
wall_y=() wall_ls=() wall_p=()

write_walls() {
    local i n=${#wall_y[@]}
    echo "nw = $n"
    # (gnuplot wants the arrays even when no loop reads them: at least one)
    echo "array wy[$(( n > 0 ? n : 1 ))]; array wls[$(( n > 0 ? n : 1 ))]; array wp[$(( n > 0 ? n : 1 ))]"
    [[ $n -gt 0 ]] || echo "wy[1] = 0; wls[1] = 10; wp[1] = 0"   # in no panel
    for i in "${!wall_y[@]}"; do
        echo "wy[$((i + 1))] = ${wall_y[$i]}; wls[$((i + 1))] = ${wall_ls[$i]}; wp[$((i + 1))] = ${wall_p[$i]}"
    done
}

# panel_walls I P DATA_MAX - run I's walls into panel P: lines for gnuplot
# and layout.awk, and their labels (or the note) queued.
panel_walls() {
    local i=$1 p=$2 pt=$4 k
    run_walls "$i" "$3"
    for k in "${!wall_ys[@]}"; do
        wall_y+=("${wall_ys[$k]}") wall_ls+=("${wall_styles[$k]}") wall_p+=("$p")
        printf 'hline\t%s\t%s\n' "$p" "${wall_ys[$k]}" >>"$layin"
        want_label "$p" along 0 "${wall_ys[$k]}" "$pt" vermilion \
            "${wall_texts[$k]}" "${wall_alts[$k]}"
    done
    [[ -z $note ]] || want_label "$p" top 0 0 "$pt" vermilion "$note" "$note_alt"
}

# verdict_label_at P I PT - run I's verdict beside its cross, in panel P;
# split after its first ": " when one line does not fit.
verdict_label_at() {
    local v=${vlabels[$2]}
    if [[ $v == *": "* ]]; then
        want_label "$1" near "${lastxs[$2]}" "${lastys[$2]}" "$3" black "$v" "${v/: /$':\n'}"
    else
        want_label "$1" near "${lastxs[$2]}" "${lastys[$2]}" "$3" black "$v"
    fi
}

# check_drawn NAME - every format gnuplot was to write for NAME is there
# and not empty.
check_drawn() {
    local f file
    for f in "${fmts[@]}"; do
        [[ $f == small ]] && file=$dir/$1-small.png || file=$dir/$1.$f
        [[ -s $file ]] || { warn "$file: gnuplot wrote nothing"; return 1; }
    done
}

# --- one chart per run -------------------------------------------------------

# draw_run MODE - the run's own chart, from what read_run found.
draw_run() {
    local mode=$1 tsv=$dir/$1.tsv i=$(( ${#files[@]} - 1 )) c k
    local ymax xmax xstep right x0 y0 x1 y1 y2top=1 series=0 ptn
    run_walls "$i" "$left_max"
    ymax=$(y_top "$left_max" "${wall_ys[@]}")
    read -r xmax xstep < <(x_axis "${lastxs[$i]}" 10)
    [[ ${#keep_y2[@]} -gt 0 ]] && y2top=$(calc "($y2_max > 0 ? $y2_max : 1) * $HEADROOM")
    # The key, below the plot: every series, and the cross.
    key_texts=() key_ls=() key_kinds=()
    key_entry rss 1 linespoints
    key_entry heap_total 21 line
    key_entry heap_used 22 line
    for k in "${!keep_mem[@]}"; do key_entry "${keep_mem[$k]%_kib}" $((23 + k)) line; done
    for k in "${!keep_y2[@]}"; do
        c=${keep_y2[$k]}
        if [[ $c == *_kib ]]; then c="${c%_kib} (MiB, right)"; else c+=" (right)"; fi
        key_entry "$c" $((25 + k)) line
    done
    key_entry "last row" 11 point
    place_key
    right=$RIGHT
    [[ ${#keep_y2[@]} -eq 0 ]] || right=190
    x0=$LEFT x1=$((PAGE_W - right)) y0=$TOP
    y1=$(( KEY_BOTTOM - key_rows * KEY_ROW - 40 - XLABEL_BELOW ))

    : >"$layin"
    lab_forms=() lab_nforms=() lab_pts=() lab_colors=() lab_panels=()
    wall_y=() wall_ls=() wall_p=()
    layout_panel 1 "$x0" "$y0" "$x1" "$y1" "$xmax" "$ymax" "$y2top"
    for c in rss_kib heap_total_kib heap_used_kib "${keep_mem[@]}"; do
        series=$((series + 1))
        layout_points 1 "$series" 1 1024 "$tsv" "$c"
    done
    for c in "${keep_y2[@]}"; do
        series=$((series + 1))
        if [[ $c == *_kib ]]; then k=1024; else k=1; fi
        layout_points 1 "$series" 2 "$k" "$tsv" "$c"
    done
    printf 'mark\t1\t%s\t%s\t16\n' "${lastxs[$i]}" "${lastys[$i]}" >>"$layin"
    verdict_label_at 1 "$i" "$LABEL_PT"
    panel_walls "$i" 1 "$left_max" "$LABEL_PT"
    place || return 1

    ptn=$(( rowss[i] > 20 ? rowss[i] / 10 : 1 ))
    y2_label=""
    for c in "${keep_y2[@]}"; do
        [[ $c == *_kib ]] && c="${c%_kib} (MiB)"
        y2_label+="${y2_label:+, }$c"
    done
    {
        echo "load 'plots/style.gp'"
        echo "fmts = $(gp_str "$formats")"
        echo "xlab = $(gp_str "$xlabel")"
        echo "tsv = $(gp_str "$tsv")"
        echo "out = $(gp_str "$dir/$mode")"
        echo "ttl = $(gp_str "Lab $labnum: $title - $mode")"
        echo "caption = $(gp_str "$caption")"
        echo "mem_cols = $(gp_str "${keep_mem[*]}")"
        echo "y2_cols = $(gp_str "${keep_y2[*]}")"
        echo "y2_label = $(gp_str "$y2_label")"
        echo "xmax = $xmax; xstep = $xstep; ptn = $ptn"
        echo "ymin = $(bottom_of "$ymax"); ymax = $ymax; y2min = $(bottom_of "$y2top"); y2max = $y2top"
        echo "lm = $(frac_x "$x0"); rm = $(frac_x "$x1"); tm = $(frac_y "$y0"); bm = $(frac_y "$y1")"
        echo "xlab_y = $(frac_y $((y1 + XLABEL_BELOW))); ylab_x = $(frac_x "$YLABEL_X")"
        echo "y2lab_x = $(frac_x $((PAGE_W - YLABEL_X)))"
        echo "ex = ${lastxs[$i]}; ey = ${lastys[$i]}"
        write_walls
        write_labels
        write_key
        [[ -z $extra ]] || echo "load $(gp_str "$extra")"
    } >"$settings"
    gnuplot "$settings" plots/run.gp && check_drawn "$mode"
}

seen=" "
for mode in "${modes[@]}"; do
    [[ $seen == *" $mode "* ]] && continue   # a mode named twice is drawn once
    seen+="$mode "
    if [[ ! -e $dir/$mode.meta ]]; then
        # Not run, unless lab.meta says it was: then its record is lost.
        meta_get "$labmeta" "cap_bytes.$mode" >/dev/null || continue
        warn "$dir/$mode.meta: missing, though lab.meta says $mode was run"
    elif read_run "$mode" && { [[ $text -eq 1 ]] || draw_run "$mode"; }; then
        continue
    fi
    failed+=("$mode")
    unchart "$mode"
    # A run read but not drawn stays out of the comparison too.
    if [[ ${#names[@]} -gt 0 && ${names[-1]} == "$mode" ]]; then
        unset 'files[-1]' 'names[-1]' 'kinds[-1]' 'cap_mibs[-1]' 'budgets[-1]' \
              'vlabels[-1]' 'lastxs[-1]' 'lastys[-1]' 'cmp_maxs[-1]' 'rowss[-1]'
    fi
done

if [[ ${#files[@]} -eq 0 ]]; then
    unchart compare
    die "$dir: no run to draw (run the lab first)"
fi

# --- the comparison ----------------------------------------------------------

# One panel per mode, the same axes in all: up to three side by side, then
# rows of three (four modes: two by two). A panel shows its x tick labels
# when no panel sits under it; only the first column shows y's.
n=${#files[@]}
if (( n <= 3 )); then cols=$n; elif (( n == 4 )); then cols=2; else cols=3; fi
prows=$(( (n + cols - 1) / cols ))
wall_y=() wall_ls=() wall_p=()
: >"$layin"
lab_forms=() lab_nforms=() lab_pts=() lab_colors=() lab_panels=()

# Shared axes: x to the longest run, y over every panel's data and walls.
in_compare=1   # run_walls: no far-cap note on a panel whose run finished
xlast=0 ytop_args=()
for i in "${!files[@]}"; do
    xlast=$(max2 "${lastxs[$i]}" "$xlast")
    run_walls "$i" "${cmp_maxs[$i]}"
    ytop_args+=("${cmp_maxs[$i]}" "${wall_ys[@]}")
done
ymax=$(y_top "${ytop_args[@]}")
key_texts=() key_ls=() key_kinds=()
key_entry rss 1 linespoints
cmp_ls=()
for c in "${cmp_cols[@]}"; do
    case $c in heap_total_kib) k=21 ;; heap_used_kib) k=22 ;; *) k=23 ;; esac
    cmp_ls+=("$k")
    key_entry "${c%_kib}" "$k" line
done
key_entry "last row" 11 point
place_key
bottom=$(( KEY_BOTTOM - key_rows * KEY_ROW - 40 - XLABEL_BELOW ))
pw=$(( (PAGE_W - LEFT - RIGHT - (cols - 1) * PANEL_GAP_X) / cols ))
ph=$(( (bottom - TOP_PANELS - (prows - 1) * PANEL_GAP_Y) / prows ))
read -r xmax xstep < <(x_axis "$xlast" $(( pw > 700 ? 8 : 5 )))

pbox=() ttexts=() tlines=() ttext_lines=1
for i in "${!files[@]}"; do
    p=$((i + 1)) r=$((i / cols)) c=$((i % cols))
    x0=$(( LEFT + c * (pw + PANEL_GAP_X) )) x1=$(( LEFT + c * (pw + PANEL_GAP_X) + pw ))
    y0=$(( TOP_PANELS + r * (ph + PANEL_GAP_Y) )) y1=$(( TOP_PANELS + r * (ph + PANEL_GAP_Y) + ph ))
    showx=$(( i + cols >= n ? 1 : 0 )) showy=$(( c == 0 ? 1 : 0 ))
    pbox+=("$(frac_x "$x0") $(frac_y "$y1") $(frac_x "$x1") $(frac_y "$y0") $showx $showy $(frac_x $(( (x0 + x1) / 2 ))) $(frac_y $((y0 - 32)))")
    layout_panel "$p" "$x0" "$y0" "$x1" "$y1" "$xmax" "$ymax" 1
    layout_points "$p" "$p.1" 1 1024 "${files[$i]}" rss_kib
    for k in "${!cmp_cols[@]}"; do
        layout_points "$p" "$p.$((k + 2))" 1 1024 "${files[$i]}" "${cmp_cols[$k]}"
    done
    printf 'mark\t%s\t%s\t%s\t16\n' "$p" "${lastxs[$i]}" "${lastys[$i]}" >>"$layin"
    verdict_label_at "$p" "$i" "$PANEL_PT"
    panel_walls "$i" "$p" "${cmp_maxs[$i]}" "$PANEL_PT"
    # The terminal's panel title: the mode, how it ended, each wall.
    t="${names[$i]}: ${vlabels[$i]}" k=1
    for w in "${wall_texts[@]}" ${note:+"$note"}; do t+=$'\n'"$w" k=$((k + 1)); done
    ttexts+=("$t") tlines+=("$k") ttext_lines=$(( k > ttext_lines ? k : ttext_lines ))
done
# Every title as many lines as the tallest, so that the panels line up.
for i in "${!ttexts[@]}"; do
    for (( k = tlines[i]; k < ttext_lines; k++ )); do ttexts[i]+=$'\n'; done
done
place || { unchart compare; die "$dir: the comparison could not be laid out"; }

{
    echo "load 'plots/style.gp'"
    echo "fmts = $(gp_str "$formats")"
    echo "xlab = $(gp_str "$xlabel")"
    echo "n = $n; prows = $prows; pcols = $cols"
    echo "array files[$n]; array names[$n]; array vlabels[$n]; array ex[$n]; array ey[$n]; array ttext[$n]"
    echo "text_rows = $((17 + ttext_lines))"
    echo "array bl[$n]; array bb[$n]; array br[$n]; array bt[$n]; array showx[$n]; array showy[$n]; array tx[$n]; array ty[$n]"
    for i in "${!files[@]}"; do
        p=$((i + 1))
        echo "files[$p] = $(gp_str "${files[$i]}")"
        echo "names[$p] = $(gp_str "${names[$i]}")"
        echo "vlabels[$p] = $(gp_str "${vlabels[$i]}")"
        echo "ex[$p] = ${lastxs[$i]}; ey[$p] = ${lastys[$i]}"
        echo "ttext[$p] = $(gp_str "${ttexts[$i]}")"
        read -r bl bb br bt sx sy tx ty <<<"${pbox[$i]}"
        echo "bl[$p] = $bl; bb[$p] = $bb; br[$p] = $br; bt[$p] = $bt"
        echo "showx[$p] = $sx; showy[$p] = $sy; tx[$p] = $tx; ty[$p] = $ty"
    done
    echo "cmp_cols = $(gp_str "${cmp_cols[*]}")"
    echo "array cmp_ls[$(( ${#cmp_ls[@]} > 0 ? ${#cmp_ls[@]} : 1 ))]"
    for k in "${!cmp_ls[@]}"; do echo "cmp_ls[$((k + 1))] = ${cmp_ls[$k]}"; done
    echo "out = $(gp_str "$dir/compare")"
    if [[ ${#cmp_cols[@]} -eq 0 ]]; then
        echo "ttl = $(gp_str "Lab $labnum: $title - rss of every mode")"
    else
        echo "ttl = $(gp_str "Lab $labnum: $title - rss of every mode, and ${cmp_cols[*]%_kib}")"
    fi
    echo "ylab = $(gp_str "$([[ ${#cmp_cols[@]} -eq 0 ]] && echo rss || echo memory) (MiB)")"
    echo "caption = $(gp_str "$takeaway")"
    echo "term = '$([[ $text -eq 1 ]] && echo text || echo files)'"
    # Points every ptn rows, counted on the longest run.
    echo "ptn = $(calc "$xlast + 1 > 20 ? int(($xlast + 1) / 10) : 1")"
    echo "xmax = $xmax; xstep = $xstep; ymin = $(bottom_of "$ymax"); ymax = $ymax"
    echo "xlab_x = $(frac_x $(( (LEFT + PAGE_W - RIGHT) / 2 ))); xlab_y = $(frac_y $((bottom + XLABEL_BELOW)))"
    echo "ylab_x = $(frac_x "$YLABEL_X"); ylab_y = $(frac_y $(( (TOP_PANELS + bottom) / 2 )))"
    write_walls
    write_labels
    write_key
    [[ -z $extra ]] || echo "load $(gp_str "$extra")"
} >"$settings"
if ! gnuplot "$settings" plots/compare.gp || { [[ $text -eq 0 ]] && ! check_drawn compare; }; then
    unchart compare
    die "$dir: the comparison could not be drawn"
fi

# --- the lab's other comparisons: compare-COLUMN ---------------------------

csv_list "$(meta_get "$labmeta" compare_charts || true)"; chart_cols=("${list[@]}")
for col in "${chart_cols[@]}"; do
    is_column_name "$col" && [[ " ${columns[*]} " == *" $col "* ]] ||
        lab_fail "$labmeta: compare_charts names '$col', not one of the lab's columns"
    [[ $text -eq 0 ]] || continue
    {
        echo "load 'plots/style.gp'"
        echo "fmts = $(gp_str "$formats")"
        echo "xlab = $(gp_str "$xlabel")"
        gp_array files "${files[@]}"
        gp_array names "${names[@]}"
        echo "col = $(gp_str "$col")"
        echo "out = $(gp_str "$dir/compare-$col")"
        echo "ttl = $(gp_str "Lab $labnum: $title - $col of every mode")"
        echo "caption = $(gp_str "$takeaway")"
    } >"$settings"
    if ! gnuplot "$settings" plots/compare-column.gp || ! check_drawn "compare-$col"; then
        unchart "compare-$col"
        die "$dir: the comparison of $col could not be drawn"
    fi
done

[[ ${#failed[@]} -eq 0 ]] || exit 1
