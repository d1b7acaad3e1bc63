#!/usr/bin/env bash
# slides.sh OUT - the classroom deck, OUT/slides.pdf, from the runs that
# `make labN` recorded under OUT/labN.
#
#   page 1          the title page, one line per lab (plots/slides.gp)
#   then, per lab   its comparison chart (every mode's rss, overlaid) and
#                   the chart of its most telling run, the lab's showcase
#                   mode, with its cap and the marker of how it ended
#
# Every page is 1280 x 720 pt (16:9) and carries a title and a one-line
# takeaway caption. The chart pages are the very charts plot.sh draws as
# 1920x1080 PNG and SVG, rendered again by pdfcairo at slide size (see the
# "pdf" format in style.gp): no LaTeX, just gnuplot and poppler's pdfunite.
#
# The labs are the ones recorded under OUT (OUT/labN/lab.meta, which the
# runner writes), in order of N: slides.sh reads only records and runs no
# lab. lab.meta must hold title, and showcase or modes (the showcase is
# then the first mode).
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/lib.sh"

[[ $# -eq 1 && -d $1 ]] || { echo "usage: slides.sh OUT (after make labN for every lab)" >&2; exit 2; }
out=$(abs_dir "$1") || die "$1: cannot enter"
cd "$(dirname -- "$0")/.."   # gnuplot scripts load plots/style.gp

pages=$(mktemp -d)
trap 'rm -rf "$pages"' EXIT

nums=()
for d in "$out"/lab*/; do
    n=${d%/}
    n=${n##*/lab}
    if is_uint "$n"; then nums+=("$n"); fi
done
[[ ${#nums[@]} -gt 0 ]] || die "$out: no labN/ records (run make labN first)"
mapfile -t nums < <(printf '%s\n' "${nums[@]}" | sort -n)

chart_pages=() lab_lines=()
for n in "${nums[@]}"; do
    dir=$out/lab$n
    title=$(meta_need "$dir/lab.meta" title) || exit 1
    showcase=$(meta_get "$dir/lab.meta" showcase) || showcase=""
    if [[ -z $showcase ]]; then
        showcase=$(meta_need "$dir/lab.meta" modes) || exit 1
        showcase=${showcase%%,*}
    fi
    [[ $showcase != */* ]] || die "$dir/lab.meta: showcase '$showcase' is not a mode"
    plots/plot.sh --formats pdf "$dir"
    for page in "$dir/compare.pdf" "$dir/$showcase.pdf"; do
        [[ -s $page ]] || die "$page: not drawn (no run of that mode?)"
        chart_pages+=("$page")
    done
    lab_lines+=("Lab $n   $title")
done

{
    echo "out = $(gp_str "$pages/title.pdf")"
    echo "nlabs = ${#lab_lines[@]}"
    for i in "${!lab_lines[@]}"; do
        echo "lab_line_$((i + 1)) = $(gp_str "${lab_lines[$i]}")"
    done
} >"$pages/title.gp"
gnuplot "$pages/title.gp" plots/slides.gp

pdfunite "$pages/title.pdf" "${chart_pages[@]}" "$out/slides.pdf"
echo "slides: $out/slides.pdf ($(( 1 + ${#chart_pages[@]} )) pages, 1280x720 pt)"
