#!/usr/bin/env bash
# plot.sh [--text] [--formats "png svg ..."] OUT/labN - draw the charts for
# every run recorded there.
#
#   OUT/labN/MODE.png|svg   one run: rss, heap_total, heap_used per iteration
#   OUT/labN/compare.png|svg  rss of every mode, overlaid
# With --text, print the comparison in the terminal instead (gnuplot dumb).
# --formats picks what to write (default "png svg"): also "pdf", a
# 1280x720 pt slide page per chart (make slides), and "small", an 800x450
# PNG (MODE-small.png, compare-small.png: README's example). See style.gp.
#
# Everything a chart says comes from the records, and only from them: the
# lab's lab.meta (title, takeaway, modes, columns, axis names), each run's
# MODE.meta (cap, cap kind, verdict, how it died) and MODE.tsv (the rows).
# No lab is run. lab.meta must hold lab, title, takeaway and modes; it may
# hold columns, y2 and xlabel. A mode is drawn when it has a MODE.meta;
# lab.meta's cap_bytes.MODE says a mode was run, so that its missing
# record is an error rather than a mode left out.
#
# Nothing in a record is trusted (plots/lib.sh): a torn, empty or garbage
# TSV, or a meta without a key it needs, gets one line on stderr, the old
# chart of that mode is removed (never left to look current), the other
# modes are still drawn, and plot.sh exits 1.
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/lib.sh"

usage() {
    echo "usage: plot.sh [--text] [--formats \"png svg pdf small\"] OUT/labN" >&2
    exit 2
}
text=0 formats="png svg"
while [[ $# -gt 1 ]]; do
    case $1 in
        --text)    text=1; shift ;;
        --formats) formats=$2; shift 2 ;;
        *)         break ;;
    esac
done
[[ $# -eq 1 && -d $1 ]] || usage
read -ra fmts <<<"$formats"
for f in "${fmts[@]}"; do
    [[ $f == @(png|svg|pdf|small) ]] ||
        { echo "plot.sh: --formats: '$f' is not one of png svg pdf small" >&2; exit 2; }
done
dir=$(abs_dir "$1") || die "$1: cannot enter"
cd "$(dirname -- "$0")/.."   # gnuplot scripts load plots/style.gp

settings=$(mktemp)
trap 'rm -f "$settings"' EXIT

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
xlabel=$(meta_get "$labmeta" xlabel) || xlabel=""

# csv_list VALUE - the comma-separated VALUE into the array `list`.
csv_list() {
    list=()
    [[ -z $1 ]] || mapfile -d , -t list < <(printf '%s' "$1")
}

# The runs, in the lab's own order of modes (leak first, then its fixes).
csv_list "$modes_csv"; modes=("${list[@]}")
[[ ${#modes[@]} -gt 0 ]] || lab_fail "$labmeta: modes= names no mode"
for mode in "${modes[@]}"; do
    [[ -n $mode && $mode != */* && $mode != . && $mode != .. && $mode != lab ]] ||
        lab_fail "$labmeta: modes= names '$mode', which cannot be a file name"
done

# The lab's own columns: memory (_kib) on the left axis, the counts it
# names in y2= on the right one (a _kib column named there, like lab 5's
# copied_kib, is progress, not memory held). Each is a plain name.
csv_list "$(meta_get "$labmeta" columns || true)"; columns=("${list[@]}")
csv_list "$(meta_get "$labmeta" y2 || true)"; y2_cols=("${list[@]}")
mem_cols=()
for c in "${columns[@]}" "${y2_cols[@]}"; do
    is_column_name "$c" || lab_fail "$labmeta: '$c' is not a column name"
done
for c in "${columns[@]}"; do
    [[ $c == *_kib && " ${y2_cols[*]} " != *" $c "* ]] && mem_cols+=("$c")
done
# Columns compared across modes besides rss, each in compare-COLUMN.png
# (compare=), and _kib columns the rss comparison draws beside a mode's
# rss where they are not all 0 (rss_also=, lab 6's server_rss_kib).
csv_list "$(meta_get "$labmeta" compare || true)"; cmp_cols=("${list[@]}")
csv_list "$(meta_get "$labmeta" rss_also || true)"; also_cols=("${list[@]}")
for c in "${cmp_cols[@]}" "${also_cols[@]}"; do
    is_column_name "$c" || lab_fail "$labmeta: '$c' is not a column name"
done
y2_label=${y2_cols[*]}
y2_label=${y2_label// /, }
[[ $y2_label == *_kib ]] && y2_label="${y2_label%_kib} (MiB)"

# The x axis's name, when the lab's rows are not iterations (lab 5).
xlab_line() {
    [[ -z $xlabel ]] || echo "xlab = $(gp_str "$xlabel")"
}

# --- reading one run ---------------------------------------------------------

# What the end of a run is called on a chart, from its meta M.
verdict_label() {
    local m=$1 v s
    v=$(meta_need "$m" verdict) || return 1
    case $v in
        finished) echo "finished" ;;
        limit)    s=$(meta_get "$m" wall) || s=""; echo "${s:-limit: exit 3}" ;;
        killed)   s=$(meta_need "$m" signal_name) || return 1; echo "killed: $s" ;;
        timeout)  echo "timeout: killed after --timeout" ;;
        crashed)  if s=$(meta_get "$m" signal_name); then echo "crashed: $s"
                  else s=$(meta_uint "$m" exit_code) || return 1; echo "crashed: exit $s"; fi ;;
        *)        warn "$m: verdict=$v is none of finished, limit, killed, timeout, crashed"; return 1 ;;
    esac
}

# Prints: rows last_iter last_rss_mib max_mib rss_max_mib, from a TSV that
# tsv_check passed. max is over every _kib column but mmap_kib (a part of
# heap_total); the comparison draws rss alone, so its scale must not
# stretch to another column (lab 2's lazy heap_total).
tsv_summary() {
    local kib=() c
    while IFS= read -r c; do
        [[ $c == *_kib && $c != mmap_kib ]] && kib+=("$c")
    done < <(tsv_header "$1")
    tsv_columns "$1" iter rss_kib "${kib[@]}" | awk -F'\t' '
        { rows++; last = $1; rss = $2 / 1024
          if (rss > rmax) rmax = rss
          for (i = 3; i <= NF; i++) if ($i / 1024 > max) max = $i / 1024 }
        END { printf "%d %d %.3f %.3f %.3f\n", rows, last, rss, max, rmax }'
}

# nonzero FILE COLUMN... - the COLUMNs that are not 0 on every row of
# FILE: a run draws only those (lab 6's server_rss_kib is 0 but in redis).
nonzero() {
    local file=$1; shift
    [[ $# -gt 0 ]] || return 0
    tsv_columns "$file" "$@" | awk -F'\t' -v names="$*" '
        { for (i = 1; i <= NF; i++) if ($i != 0) seen[i] = 1 }
        END { n = split(names, name, " "); for (i = 1; i <= n; i++) if (seen[i]) print name[i] }'
}

# Where the run ended: "x y" in iterations and MiB. A run the watchdog
# killed died during the iteration after its last row, at the rss the
# watchdog saw.
end_point() {
    local m=$1 last=$2 rss=$3 wd
    if wd=$(meta_get "$m" watchdog_rss_kib); then
        is_uint "$wd" || { warn "$m: watchdog_rss_kib=$wd is not a number"; return 1; }
        awk -v l="$last" -v w="$wd" 'BEGIN { printf "%d %.3f\n", l + 1, w / 1024 }'
    else
        echo "$last $rss"
    fi
}

cap_label() {   # "cap 256 MiB (rlimit)"
    local kind=$1 mib=$2
    case $kind in
        rlimit) echo "cap ${mib} MiB (rlimit)" ;;
        kill)   echo "cap ${mib} MiB (kill)" ;;
    esac
}

# How a verdict label sits by its marker on the comparison: above and to
# the left, where a rising line leaves room, unless the marker is in the
# left half of the chart, where long text would run over the axis or over
# the lines still rising to the right; there below and to the right.
label_side() {
    awk -v x="$1" -v span="$2" 'BEGIN { print (x < 0.5 * span ? "left offset 1.2, -1.2" : "right offset -1.2, 1.2") }'
}

# The x range to set when a marker lies past the last row (a run killed in
# the middle of an iteration): up to the marker, with the 4% margin the
# autoscaled axis gets. Prints nothing otherwise.
xend_for() {
    awk -v e="$1" -v l="$2" 'BEGIN { if (e > l) printf "xend = %.3f\n", e * 1.04 }'
}

ymax_for() {   # data max and cap (if drawn) with headroom
    awk -v d="$1" -v c="$2" 'BEGIN { m = d > c ? d : c; if (m < 1) m = 1; printf "%.3f\n", m * 1.15 }'
}

max_of() {   # the larger of two numbers
    awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'
}

near() {   # a cap of C MiB is drawn when it is within 3x the data's D
    awk -v c="$1" -v d="$2" 'BEGIN { exit !(c <= 3 * d) }'
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

# What the comparison needs of each run drawn, index for index.
files=() names=() kinds=() cap_mibs=() verdicts=() labels=() exs=() eys=()
failed=()
gmax=0 xlast=0 xmark=0

# read_run MODE - checks MODE's records and appends what the charts need
# to the arrays above; sets what its own chart needs besides: kind,
# cap_mib, caption, max, last, ex, ey.
read_run() {
    local mode=$1 m=$dir/$1.meta tsv=$dir/$1.tsv got rows rss rmax
    local cap_bytes verdict label
    got=$(meta_need "$m" mode) || return 1
    [[ $got == "$mode" ]] || { warn "$m: says mode=$got, not $mode"; return 1; }
    verdict=$(meta_need "$m" verdict) || return 1
    label=$(verdict_label "$m") || return 1
    kind=$(meta_need "$m" cap_kind) || return 1
    [[ $kind == @(rlimit|kill|none) ]] ||
        { warn "$m: cap_kind=$kind is none of rlimit, kill, none"; return 1; }
    cap_bytes=$(meta_uint "$m" cap_bytes) || return 1
    caption=$(meta_need "$m" caption) || return 1
    tsv_check "$tsv" rss_kib heap_total_kib heap_used_kib "${columns[@]}" "${y2_cols[@]}" || return 1
    read -r rows last rss max rmax < <(tsv_summary "$tsv")
    if ! { is_uint "$rows" && is_uint "$last" && is_num "$rss" && is_num "$max" && is_num "$rmax"; }; then
        warn "$tsv: cannot be summed up"
        return 1
    fi
    read -r ex ey < <(end_point "$m" "$last" "$rss") || return 1
    is_num "$ex" && is_num "$ey" || return 1
    max=$(max_of "$max" "$ey")
    gmax=$(max_of "$gmax" "$(max_of "$rmax" "$ey")")
    xlast=$(max_of "$last" "$xlast") xmark=$(max_of "$ex" "$xmark")
    cap_mib=$(awk -v b="$cap_bytes" 'BEGIN { printf "%.0f\n", b / 1048576 }')
    files+=("$tsv") names+=("$mode") kinds+=("$kind") cap_mibs+=("$cap_mib")
    verdicts+=("$verdict") labels+=("$label") exs+=("$ex") eys+=("$ey")
}

# draw_run MODE - the run's own chart, from what read_run found.
draw_run() {
    local mode=$1 tsv=$dir/$1.tsv i=$(( ${#files[@]} - 1 ))
    {
        echo "load 'plots/style.gp'"
        echo "fmts = $(gp_str "$formats")"
        xlab_line
        echo "tsv = $(gp_str "$tsv")"
        echo "out = $(gp_str "$dir/$mode")"
        echo "ttl = $(gp_str "Lab $labnum: $title - $mode")"
        echo "caption = $(gp_str "$caption")"
        echo "mem_cols = $(gp_str "$(nonzero "$tsv" "${mem_cols[@]}" | paste -sd ' ')")"
        echo "y2_cols = $(gp_str "${y2_cols[*]}")"
        echo "y2_label = $(gp_str "$y2_label")"
        # Draw the cap when it is near the data; otherwise name it.
        if [[ $kind != none ]] && near "$cap_mib" "$max"; then
            echo "ymax = $(ymax_for "$max" "$cap_mib")"
            echo "set arrow 1 from graph 0, first $cap_mib to graph 1, first $cap_mib nohead ls 10 front"
            echo "set label 1 $(gp_str "$(cap_label "$kind" "$cap_mib")") at graph 0.02, first $cap_mib left offset 0, 0.9 tc rgb okabe_vermilion front"
        else
            echo "ymax = $(ymax_for "$max" 0)"
            if [[ $kind == none ]]; then
                echo "capnote = 'no cap'"
            else
                echo "capnote = $(gp_str "$kind cap $cap_mib MiB ↑")"   # above the chart
            fi
        fi
        echo "set label 2 $(gp_str "${labels[$i]}") at first $ex, first $ey right offset -1.2, 1.2 point ls 11 front"
        xend_for "$ex" "$last"
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
        unset 'files[-1]' 'names[-1]' 'kinds[-1]' 'cap_mibs[-1]' \
              'verdicts[-1]' 'labels[-1]' 'exs[-1]' 'eys[-1]'
    fi
done

if [[ ${#files[@]} -eq 0 ]]; then
    unchart compare
    die "$dir: no run to draw (run the lab first)"
fi

# --- the comparison ----------------------------------------------------------

# Caps are drawn once each when near the data.
{
    echo "load 'plots/style.gp'"
    echo "fmts = $(gp_str "$formats")"
    xlab_line
    echo "array files[${#files[@]}]"
    echo "array names[${#files[@]}]"
    for i in "${!files[@]}"; do
        echo "files[$((i + 1))] = $(gp_str "${files[$i]}")"
        echo "names[$((i + 1))] = $(gp_str "${names[$i]}")"
    done
    echo "out = $(gp_str "$dir/compare")"
    echo "ttl = $(gp_str "Lab $labnum: $title - rss of every mode")"
    echo "caption = $(gp_str "$takeaway")"
    echo "term = '$([[ $text -eq 1 ]] && echo text || echo files)'"
    # Points every ptn rows, counted (header included) on the first run.
    awk -v r="$(tsv_summary "${files[0]}" | cut -d' ' -f1)" \
        'BEGIN { r++; printf "ptn = %d\n", (r > 20 ? int(r / 10) : 1) }'
    # rss_also: a dashed line beside the rss of each run where it is not
    # all 0, in that run's colour, counted in the y range.
    also=()
    for i in "${!files[@]}"; do
        while IFS= read -r c; do
            [[ -n $c ]] && also+=("$i" "$c")
        done < <(nonzero "${files[$i]}" "${also_cols[@]}")
    done
    if [[ ${#also[@]} -gt 0 ]]; then
        echo "array also_files[$(( ${#also[@]} / 2 ))]"
        echo "array also_cols[$(( ${#also[@]} / 2 ))]"
        echo "array also_titles[$(( ${#also[@]} / 2 ))]"
        echo "array also_ls[$(( ${#also[@]} / 2 ))]"
        for (( k = 0; k < ${#also[@]}; k += 2 )); do
            i=${also[$k]} c=${also[$((k + 1))]} j=$(( k / 2 + 1 ))
            echo "also_files[$j] = $(gp_str "${files[$i]}")"
            echo "also_cols[$j] = $(gp_str "$c")"
            echo "also_titles[$j] = $(gp_str "${names[$i]}: ${c%_kib}")"
            echo "also_ls[$j] = $(( i + 1 ))"
            gmax=$(max_of "$gmax" "$(tsv_columns "${files[$i]}" "$c" | sort -n | tail -n 1 | awk '{ printf "%.3f", $1 / 1024 }')")
        done
    fi
    n=0 shown="" dmax=$gmax   # caps qualify against the data, not each other
    for i in "${!files[@]}"; do
        kind=${kinds[$i]} cap_mib=${cap_mibs[$i]}
        [[ $kind == none ]] && continue
        [[ " $shown " == *" $cap_mib "* ]] && continue
        near "$cap_mib" "$dmax" || continue
        shown+=" $cap_mib" n=$((n + 1))
        gmax=$(max_of "$cap_mib" "$gmax")
        echo "set arrow $n from graph 0, first $cap_mib to graph 1, first $cap_mib nohead ls 10 front"
        echo "set label $n $(gp_str "$(cap_label "$kind" "$cap_mib")") at graph 0.02, first $cap_mib left offset 0, 0.9 tc rgb okabe_vermilion front"
    done
    span=$(max_of "$xmark" "$xlast")
    for i in "${!files[@]}"; do
        [[ ${verdicts[$i]} == finished ]] && continue
        echo "set label $((21 + i)) $(gp_str "${names[$i]}:"$'\n'"${labels[$i]}") at first ${exs[$i]}, first ${eys[$i]} $(label_side "${exs[$i]}" "$span") point ls 11 front"
    done
    xend_for "$xmark" "$xlast"
    echo "ymax = $(ymax_for "$gmax" 0)"
} >"$settings"
if ! gnuplot "$settings" plots/compare.gp || { [[ $text -eq 0 ]] && ! check_drawn compare; }; then
    unchart compare
    die "$dir: the comparison could not be drawn"
fi

# --- the lab's other comparisons: compare-COLUMN ---------------------------

for col in "${cmp_cols[@]}"; do
    [[ $text -eq 0 ]] || continue
    {
        echo "load 'plots/style.gp'"
        echo "fmts = $(gp_str "$formats")"
        xlab_line
        echo "array files[${#files[@]}]"
        echo "array names[${#files[@]}]"
        for i in "${!files[@]}"; do
            echo "files[$((i + 1))] = $(gp_str "${files[$i]}")"
            echo "names[$((i + 1))] = $(gp_str "${names[$i]}")"
        done
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
