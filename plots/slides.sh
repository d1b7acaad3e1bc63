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
# The labs are whatever `leaklab list` finds next to it: a new lab joins
# the deck as soon as it is built and run.
set -euo pipefail

[[ $# -eq 1 && -d $1 ]] || { echo "usage: slides.sh OUT (after make labN for every lab)" >&2; exit 2; }
out=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."   # gnuplot scripts load plots/style.gp
build=${LEAKLAB_BUILD:-build}

pages=$(mktemp -d)
trap 'rm -rf "$pages"' EXIT

gp_str() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }   # gnuplot literal

chart_pages=() lab_lines=()
while IFS=$'\t' read -r name title _; do
    dir=$out/$name
    [[ -d $dir ]] || { echo "slides.sh: $dir: no records (run make $name first)" >&2; exit 1; }
    describe=$("$build/$name" --describe | tr '\t' '\n')
    showcase=$(sed -n 's/^showcase=//p' <<<"$describe")
    [[ -n $showcase ]] || showcase=$(sed -n 's/^modes=//p' <<<"$describe" | cut -d, -f1)
    LEAKLAB_BUILD=$build plots/plot.sh --formats pdf "$dir"
    for page in "$dir/compare.pdf" "$dir/$showcase.pdf"; do
        [[ -s $page ]] || { echo "slides.sh: $page: not drawn (no run of that mode?)" >&2; exit 1; }
        chart_pages+=("$page")
    done
    lab_lines+=("Lab ${name#lab}   $title")
done < <("$build/leaklab" list)
[[ ${#lab_lines[@]} -gt 0 ]] || { echo "slides.sh: leaklab list found no labs in $build" >&2; exit 1; }

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
