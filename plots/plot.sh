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
# Everything a chart says comes from the records: the TSV rows and the
# .meta the runner wrote (cap, cap kind, verdict, how it died).
set -euo pipefail

text=0 formats="png svg"
while [[ $# -gt 1 ]]; do
    case $1 in
        --text)    text=1; shift ;;
        --formats) formats=$2; shift 2 ;;
        *)         break ;;
    esac
done
[[ $# -eq 1 && -d $1 ]] || { echo "usage: plot.sh [--text] [--formats \"png svg pdf small\"] OUT/labN" >&2; exit 2; }
dir=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."   # gnuplot scripts load plots/style.gp

shopt -s nullglob
lab=$(basename "$dir")
describe=$("${LEAKLAB_BUILD:-build}/$lab" --describe 2>/dev/null | tr '\t' '\n' || true)
describe() { sed -n "s/^$1=//p" <<<"$describe"; }

# The runs, in the lab's own order of modes (leak first, then its fixes).
metas=()
for mode in $(describe modes | tr ',' ' '); do
    [[ -f $dir/$mode.meta ]] && metas+=("$dir/$mode.meta")
done
for m in "$dir"/*.meta; do
    [[ " ${metas[*]} " == *" $m "* ]] || metas+=("$m")
done
[[ ${#metas[@]} -gt 0 ]] || { echo "plot.sh: $dir: no .meta files (run the lab first)" >&2; exit 1; }

meta() { sed -n "s/^$2=//p" "$1" | head -n 1; }
gp_str() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }   # gnuplot literal

# The x axis's name, when the lab's rows are not iterations (lab 5).
xlab_line() {
    local x
    x=$(describe xlabel)
    [[ -z $x ]] || echo "xlab = $(gp_str "$x")"
}

# Prints: rows last_iter last_rss_mib max_mib, from a TSV's columns.
tsv_summary() {
    awk -F'\t' '
        /^#/ { next }
        !hdr { for (i = 1; i <= NF; i++) col[$i] = i; hdr = 1; next }
        {
            rows++; last = $col["iter"]; rss = $col["rss_kib"] / 1024
            for (c in col) if (c ~ /_kib$/ && c != "mmap_kib" && $col[c] / 1024 > max) max = $col[c] / 1024
        }
        END { printf "%d %s %.3f %.3f\n", rows, (rows ? last : 0), rss, max }' "$1"
}

# What the end of a run is called on a chart.
verdict_label() {
    local m=$1 v
    v=$(meta "$m" verdict)
    case $v in
        finished) echo "finished" ;;
        limit)    local w; w=$(meta "$m" wall); echo "${w:-limit: exit 3}" ;;
        killed)   echo "killed: $(meta "$m" signal_name)" ;;
        timeout)  echo "timeout: killed after --timeout" ;;
        *)        local s; s=$(meta "$m" signal_name); echo "crashed: ${s:-exit $(meta "$m" exit_code)}" ;;
    esac
}

# Where the run ended: "x y" in iterations and MiB. A run the watchdog
# killed died during the iteration after its last row, at the rss the
# watchdog saw.
end_point() {
    local m=$1 last=$2 rss=$3 wd
    wd=$(meta "$m" watchdog_rss_kib)
    if [[ -n $wd ]]; then
        awk -v l="$last" -v w="$wd" 'BEGIN { printf "%d %.3f\n", l + 1, w / 1024 }'
    else
        echo "$last $rss"
    fi
}

cap_label() {   # "cap 256 MiB (kill: SIGKILL over it)"
    local kind=$1 mib=$2
    case $kind in
        rlimit) echo "cap ${mib} MiB (rlimit)" ;;
        kill)   echo "cap ${mib} MiB (kill)" ;;
    esac
}

# The highest rss in a TSV, in MiB: the comparison draws rss alone, so
# its scale must not stretch to another column (lab 2's lazy heap_total).
rss_max() {
    awk -F'\t' '/^#/ { next }
        !hdr { for (i = 1; i <= NF; i++) if ($i == "rss_kib") c = i; hdr = 1; next }
        $c / 1024 > m { m = $c / 1024 }
        END { printf "%.3f\n", m }' "$1"
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

files=() names=()
gmax=0 xlast=0 xmark=0
for m in "${metas[@]}"; do
    mode=$(meta "$m" mode)
    tsv=$dir/$mode.tsv
    [[ -s $tsv ]] || { echo "plot.sh: $tsv: missing or empty" >&2; continue; }
    read -r rows last rss max < <(tsv_summary "$tsv")
    [[ $rows -gt 0 ]] || { echo "plot.sh: $tsv: no rows to plot" >&2; continue; }
    read -r ex ey < <(end_point "$m" "$last" "$rss")
    max=$(awk -v a="$max" -v b="$ey" 'BEGIN { print (a > b ? a : b) }')
    gmax=$(awk -v a="$(rss_max "$tsv")" -v b="$ey" -v g="$gmax" 'BEGIN { m = a > b ? a : b; print (m > g ? m : g) }')
    xlast=$(( last > xlast ? last : xlast )) xmark=$(( ex > xmark ? ex : xmark ))
    files+=("$tsv") names+=("$mode")
    [[ $text -eq 1 ]] && continue

    kind=$(meta "$m" cap_kind)
    cap_mib=$(awk -v b="$(meta "$m" cap_bytes)" 'BEGIN { printf "%.0f\n", b / 1048576 }')
    settings=$(mktemp)
    {
        echo "load 'plots/style.gp'"
        echo "fmts = $(gp_str "$formats")"
        xlab_line
        echo "tsv = $(gp_str "$tsv")"
        echo "out = $(gp_str "$dir/$mode")"
        echo "ttl = $(gp_str "Lab ${lab#lab}: $(meta "$m" title) - $mode")"
        echo "caption = $(gp_str "$(meta "$m" caption)")"
        # The lab's own columns: memory (_kib) on the left axis, the
        # counts it names in y2= on the right one (a _kib column named
        # there, like lab 5's copied_kib, is progress, not memory held).
        y2_cols=$(describe y2 | tr ',' ' ')
        mem_cols=$(describe columns | tr ',' '\n' | grep '_kib$' |
                   grep -vxF -f <(tr ' ' '\n' <<<"$y2_cols" | grep .) |
                   tr '\n' ' ' || true)
        y2_label=${y2_cols// /, }
        [[ $y2_label == *_kib ]] && y2_label="${y2_label%_kib} (MiB)"
        echo "mem_cols = $(gp_str "$mem_cols")"
        echo "y2_cols = $(gp_str "$y2_cols")"
        echo "y2_label = $(gp_str "$y2_label")"
        # Draw the cap when it is near the data; otherwise name it.
        if [[ $kind != none ]] && awk -v c="$cap_mib" -v d="$max" 'BEGIN { exit !(c <= 3 * d) }'; then
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
        echo "set label 2 $(gp_str "$(verdict_label "$m")") at first $ex, first $ey right offset -1.2, 1.2 point ls 11 front"
        xend_for "$ex" "$last"
    } >"$settings"
    gnuplot "$settings" plots/run.gp
    rm -f "$settings"
done

[[ ${#files[@]} -gt 0 ]] || exit 1

# The comparison. Caps are drawn once each when near the data.
settings=$(mktemp)
{
    echo "load 'plots/style.gp'"
    echo "fmts = $(gp_str "$formats")"
    xlab_line
    echo "files = $(gp_str "${files[*]}")"
    echo "names = $(gp_str "${names[*]}")"
    echo "out = $(gp_str "$dir/compare")"
    title=$(meta "${metas[0]}" title)
    echo "ttl = $(gp_str "Lab ${lab#lab}: $title - rss of every mode")"
    echo "caption = $(gp_str "$(describe takeaway)")"
    echo "term = '$([[ $text -eq 1 ]] && echo text || echo files)'"
    rows=$(awk -F'\t' '!/^#/ && NR > 1 { n++ } END { print n + 0 }' "${files[0]}")
    echo "ptn = $(( rows > 20 ? rows / 10 : 1 ))"
    n=0 shown="" dmax=$gmax   # caps qualify against the data, not each other
    for m in "${metas[@]}"; do
        kind=$(meta "$m" cap_kind)
        [[ $kind == none ]] && continue
        cap_mib=$(awk -v b="$(meta "$m" cap_bytes)" 'BEGIN { printf "%.0f\n", b / 1048576 }')
        [[ " $shown " == *" $cap_mib "* ]] && continue
        awk -v c="$cap_mib" -v d="$dmax" 'BEGIN { exit !(c <= 3 * d) }' || continue
        shown+=" $cap_mib" n=$((n + 1))
        gmax=$(awk -v a="$cap_mib" -v b="$gmax" 'BEGIN { print (a > b ? a : b) }')
        echo "set arrow $n from graph 0, first $cap_mib to graph 1, first $cap_mib nohead ls 10 front"
        echo "set label $n $(gp_str "$(cap_label "$kind" "$cap_mib")") at graph 0.02, first $cap_mib left offset 0, 0.9 tc rgb okabe_vermilion front"
    done
    i=0
    for m in "${metas[@]}"; do
        i=$((i + 1))
        [[ $(meta "$m" verdict) == finished ]] && continue
        mode=$(meta "$m" mode)
        read -r rows last rss max < <(tsv_summary "$dir/$mode.tsv")
        read -r ex ey < <(end_point "$m" "$last" "$rss")
        echo "set label $((20 + i)) $(gp_str "$mode:").\"\\n\".$(gp_str "$(verdict_label "$m")") at first $ex, first $ey $(label_side "$ex" $(( xmark > xlast ? xmark : xlast ))) point ls 11 front"
    done
    xend_for "$xmark" "$xlast"
    echo "ymax = $(ymax_for "$gmax" 0)"
} >"$settings"
gnuplot "$settings" plots/compare.gp
rm -f "$settings"
