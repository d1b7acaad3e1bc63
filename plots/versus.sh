#!/usr/bin/env bash
# versus.sh [--text] [--budget-growth KIB | --budget-peak KIB]
#           [--caption TEXT] OUT LABEL DIR [LABEL DIR]...
# - one chart of several programs' runs: rss per row, each records
# directory (what `leaklab run PATH` writes) a line, named by its LABEL,
# and the memory budget the runs are judged by. `make check` draws the
# student's exercise beside the reference fix with it.
#
#   OUT.png, OUT.svg   the chart (1920x1080), drawn by versus.gp
#   --text             the chart in the terminal instead (gnuplot dumb)
#   --budget-growth K  the budget as a line rising K KiB per row from the
#                      first run's row 1 (growth is measured from there)
#   --budget-peak K    the budget as a level line K KiB above that start
#   --caption TEXT     the line under the chart (default: the first run's
#                      takeaway)
#
# Each DIR holds lab.meta and the records of one run: its first mode's
# MODE.tsv and MODE.meta. The title is the first DIR's lab and title. As
# in plot.sh, nothing in a record is trusted (plots/lib.sh), and a run
# that did not finish is marked where its record ends, with its verdict.
# A DIR whose records cannot be read is named on stderr and left out;
# with none left, or no chart drawn, exit 1. Bad arguments: exit 2.
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/lib.sh"

usage() {
    echo "usage: versus.sh [--text] [--budget-growth KIB | --budget-peak KIB] [--caption TEXT] OUT LABEL DIR [LABEL DIR]..." >&2
    exit 2
}
text=0 budget_kind="" budget_kib="" caption=""
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --text)          text=1; shift ;;
        --budget-growth) [[ $# -ge 2 ]] || usage; budget_kind=growth budget_kib=$2; shift 2 ;;
        --budget-peak)   [[ $# -ge 2 ]] || usage; budget_kind=peak budget_kib=$2; shift 2 ;;
        --caption)       [[ $# -ge 2 ]] || usage; caption=$2; shift 2 ;;
        --help)          sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *)               echo "versus.sh: unknown option '$1'" >&2; usage ;;
    esac
done
[[ -z $budget_kind ]] || is_num "$budget_kib" ||
    { echo "versus.sh: bad budget '$budget_kib': want KiB, a number" >&2; exit 2; }
[[ $# -ge 3 && $(( ($# - 1) % 2 )) -eq 0 ]] || usage
out=$1; shift
outdir=$(abs_dir "$(dirname -- "$out")") || die "$(dirname -- "$out"): cannot enter"
out=$outdir/$(basename -- "$out")
cd "$(dirname -- "$0")/.."   # gnuplot scripts load plots/style.gp

settings=$(mktemp)
trap 'rm -f "$settings"' EXIT

# --- each run: its one mode's TSV and meta --------------------------------

files=() names=() verdicts=() exs=() eys=()
title="" takeaway="" xlabel="" labnum="" base="" base1="" xlast=0 ymax=0 failed=0

# read_dir LABEL DIR - checks DIR's records and appends what the chart
# needs to the arrays above. Returns 1, with one line, if it cannot.
read_dir() {
    local label=$1 dir lm modes mode tsv m verdict stats rows last rss0 rss1 rssl rmax
    dir=$(abs_dir "$2") || { warn "$2: cannot enter"; return 1; }
    lm=$dir/lab.meta
    modes=$(meta_need "$lm" modes) || return 1
    mode=${modes%%,*}
    [[ -n $mode && $mode != */* && $mode != . && $mode != .. ]] ||
        { warn "$lm: modes= names '$mode', which cannot be a file name"; return 1; }
    tsv=$dir/$mode.tsv m=$dir/$mode.meta
    verdict=$(meta_need "$m" verdict) || return 1
    tsv_check "$tsv" rss_kib || return 1
    stats=$(tsv_columns "$tsv" iter rss_kib | awk -F'\t' '
        NR == 1 { rss0 = $2; rss1 = $2 } $1 >= 1 && !got1 { rss1 = $2; got1 = 1 }
        { rows++; last = $1; rssl = $2; if ($2 > max) max = $2 }
        END { printf "%d %d %.3f %.3f %.3f %.3f\n", rows, last, rss0 / 1024, rss1 / 1024,
              rssl / 1024, max / 1024 }')
    read -r rows last rss0 rss1 rssl rmax <<<"$stats"
    is_uint "$rows" && is_uint "$last" && is_num "$rss0" && is_num "$rss1" && is_num "$rssl" &&
        is_num "$rmax" ||
        { warn "$tsv: cannot be summed up"; return 1; }
    if [[ -z $title ]]; then   # the first run names the chart
        labnum=$(meta_uint "$lm" lab) || return 1
        title=$(meta_need "$lm" title) || return 1
        takeaway=$(meta_get "$lm" takeaway) || takeaway=""
        xlabel=$(meta_get "$lm" xlabel) || xlabel=""
        base=$rss0 base1=$rss1
    fi
    files+=("$tsv") names+=("$label") verdicts+=("$verdict") exs+=("$last") eys+=("$rssl")
    xlast=$(awk -v a="$xlast" -v b="$last" 'BEGIN { print (a > b ? a : b) }')
    ymax=$(awk -v a="$ymax" -v b="$rmax" 'BEGIN { print (a > b ? a : b) }')
}

while [[ $# -gt 0 ]]; do
    read_dir "$1" "$2" || failed=1
    shift 2
done
[[ ${#files[@]} -gt 0 ]] || { rm -f -- "$out.png" "$out.svg"; die "no run to draw"; }

# --- the chart: versus.gp, with the budget drawn as a cap is ----------------

# Where the budget line starts and ends: "x0 y0 y1", in rows and MiB.
budget_line() {
    awk -v kind="$budget_kind" -v k="$budget_kib" -v b="$base" -v b1="$base1" -v x="$xlast" 'BEGIN {
        if (kind == "growth") printf "%d %.3f %.3f\n", (x > 1), b1, b1 + (x > 1 ? x - 1 : 0) * k / 1024
        else printf "0 %.3f %.3f\n", b + k / 1024, b + k / 1024 }'
}

{
    echo "load 'plots/style.gp'"
    [[ -z $xlabel ]] || echo "xlab = $(gp_str "$xlabel")"
    gp_array files "${files[@]}"
    gp_array names "${names[@]}"
    echo "out = $(gp_str "$out")"
    echo "ttl = $(gp_str "Lab $labnum: $title")"
    echo "caption = $(gp_str "${caption:-$takeaway}")"
    echo "term = '$([[ $text -eq 1 ]] && echo text || echo files)'"
    awk -v r="$xlast" 'BEGIN { r++; printf "ptn = %d\n", (r > 20 ? int(r / 10) : 1) }'
    if [[ -n $budget_kind ]]; then
        read -r x0 y0 y1 < <(budget_line)
        ymax=$(awk -v a="$ymax" -v b="$y1" 'BEGIN { print (a > b ? a : b) }')
        echo "set arrow 1 from first $x0, first $y0 to first $xlast, first $y1 nohead ls 10 front"
        echo "set label 1 'budget' at first $xlast, first $y1 right offset -1, 0.9 tc rgb okabe_vermilion front"
    fi
    for i in "${!files[@]}"; do
        [[ ${verdicts[$i]} == finished ]] && continue
        echo "set label $((21 + i)) $(gp_str "${names[$i]}: ${verdicts[$i]}") at first ${exs[$i]}, first ${eys[$i]} right offset -1.2, 1.2 point ls 11 front"
    done
    awk -v m="$ymax" 'BEGIN { if (m < 1) m = 1; printf "ymax = %.3f\n", m * 1.15 }'
    [[ $xlast -gt 0 ]] || echo "xend = 1"
} >"$settings"

if ! gnuplot "$settings" plots/versus.gp; then
    rm -f -- "$out.png" "$out.svg"
    die "$out: the chart could not be drawn"
fi
if [[ $text -eq 0 ]]; then
    for f in png svg; do
        [[ -s $out.$f ]] || die "$out.$f: gnuplot wrote nothing"
    done
fi
exit "$failed"
