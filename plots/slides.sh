#!/usr/bin/env bash
# slides.sh OUT - the classroom deck, OUT/slides.pdf, from the runs that
# `make labN` recorded under OUT/labN. A lecture, in this order:
#
#   1  the title page, one line per lab (plots/slides.gp)
#   2  how to read every chart: one real run, its axes, its three memory
#      lines, its cap and its end cross, each with a callout and an arrow
#      (plots/howto.gp)
#   then, per lab, two pages, each titled with the lab's claim:
#      its showcase, the run that tells the story best, then its
#      comparison, every mode's rss: the leak beside its fixes; a third
#      where its Node.js twin ran too (OUT/labN/node-lab.meta): the lab
#      beside the twin (plots/node-compare.sh); and, for a lab whose
#      showcase was hunted (lab 7), the hunt's table (plots/hunt.sh --table)
#   last  one line per lab, the leak, its fix and the tool that shows it,
#      and a pointer to LESSONS.md (plots/recap.gp)
#
# Every page is 1280 x 720 pt (16:9). The chart pages are the very charts
# plot.sh draws as 1920x1080 PNG and SVG, rendered again by pdfcairo at
# slide size (see the "pdf" format in style.gp), with plots/header.gp on
# top: the claim as the title, the chart's takeaway under it and its name
# as a small subtitle. No LaTeX, just gnuplot and poppler's pdfunite.
#
# The labs are the ones recorded under OUT (OUT/labN/lab.meta, which the
# runner writes), in order of N: slides.sh reads only records and runs no
# lab. lab.meta must hold title, and showcase or modes (the showcase is
# then the first mode); it may hold claim (else the title is the claim)
# and recap.leak, recap.fix, recap.tool.
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

# showcase_of DIR - the lab's showcase mode: lab.meta's showcase, else its
# first mode.
showcase_of() {
    local s
    s=$(meta_get "$1/lab.meta" showcase) || s=""
    if [[ -z $s ]]; then
        s=$(meta_need "$1/lab.meta" modes) || return 1
        s=${s%%,*}
    fi
    [[ -n $s && $s != */* && $s != . && $s != .. ]] ||
        { warn "$1/lab.meta: showcase '$s' is not a mode"; return 1; }
    printf '%s' "$s"
}

# --- the lab pages -----------------------------------------------------------

chart_pages=() title_lines=() recap_lines=()
for n in "${nums[@]}"; do
    dir=$out/lab$n
    title=$(meta_need "$dir/lab.meta" title) || exit 1
    showcase=$(showcase_of "$dir") || exit 1
    claim=$(meta_get "$dir/lab.meta" claim) || claim=$title
    # plot.sh draws every chart of the lab as a page with this header.
    header=$pages/header-$n.gp
    printf 'claim = %s\nload %s\n' "$(gp_str "$claim")" "'plots/header.gp'" >"$header"
    plots/plot.sh --formats pdf --extra "$header" --top 280 "$dir"
    pages_of_lab=("$dir/$showcase.pdf" "$dir/compare.pdf")
    if [[ -e $dir/node-lab.meta ]]; then
        plots/node-compare.sh --formats pdf --extra "$header" --top 280 "$dir"
        pages_of_lab+=("$dir/node-compare.pdf")
    fi
    for page in "${pages_of_lab[@]}"; do
        [[ -s $page ]] || die "$page: not drawn (no run of that mode?)"
        chart_pages+=("$page")
    done
    # A lab whose showcase was hunted (make lab7 hunts lab 7's) gets the
    # hunt's table as a third page: the snapshots compared.
    if [[ -e $dir/$showcase-hunt.tsv ]]; then
        plots/hunt.sh --table --formats pdf "$dir/$showcase-hunt.tsv"
        chart_pages+=("$dir/$showcase-hunt-table.pdf")
    fi
    title_lines+=("Lab $n" "$title")
    if leak=$(meta_get "$dir/lab.meta" recap.leak) && fix=$(meta_get "$dir/lab.meta" recap.fix) &&
       tool=$(meta_get "$dir/lab.meta" recap.tool); then
        recap_lines+=("Lab $n" "$leak" "$fix" "$tool")
    else
        warn "$dir/lab.meta: no recap.leak, recap.fix, recap.tool: the last page names only its title"
        recap_lines+=("Lab $n" "$title" "-" "-")
    fi
done

# --- page 1: the title page --------------------------------------------------

{
    echo "out = $(gp_str "$pages/title.pdf")"
    echo "nlabs = ${#nums[@]}"
    for ((i = 0; i < ${#nums[@]}; i++)); do
        echo "lab_num_$((i + 1)) = $(gp_str "${title_lines[2 * i]}")"
        echo "lab_title_$((i + 1)) = $(gp_str "${title_lines[2 * i + 1]}")"
    done
} >"$pages/title.gp"
gnuplot "$pages/title.gp" plots/slides.gp

# --- page 2: how to read every chart -----------------------------------------

# The run it shows: lab 2's lazy, where rss and the heap part (reserved,
# never touched) and the heap lines cross the cap, which watches rss:
# every line tells something of its own. Without that record, the first
# lab's showcase.
howto_dir=$out/lab2 howto_mode=lazy
if [[ ! -e $howto_dir/$howto_mode.meta ]]; then
    howto_dir=$out/lab${nums[0]}
    howto_mode=$(showcase_of "$howto_dir") || exit 1
fi

# What each callout says, in a line or two (a newline breaks it).
declare -A howto_text=(
    [rss]=$'pages really in RAM: what the machine\npays for, what a kill cap watches'
    [heap_total]=$'what malloc holds from the kernel,\ntouched or not'
    [heap_used]=$'what the program malloc\'d and has\nnot freed: a leak keeps it climbing'
    [cap]=$'the wall this run was given, and\nits kind: rlimit or kill'
    [end]=$'where the run stopped, and how,\nin the runner\'s words'
)

# end_words META - how a run ended, in the runner's words, as on its chart.
end_words() {
    local v s
    v=$(meta_need "$1" verdict) || return 1
    case $v in
        limit)   s=$(meta_get "$1" wall) || s=""; echo "${s:-limit: exit 3}" ;;
        killed)  s=$(meta_get "$1" signal_name) || s="a signal"; echo "killed: $s" ;;
        *)       echo "$v" ;;
    esac
}

# howto_settings DIR MODE - the settings howto.gp needs, from the run's
# records: the chart, its cap, its end, and where each callout points.
howto_settings() {
    local dir=$1 mode=$2 meta=$1/$2.meta tsv=$1/$2.tsv
    local num title xlab kind cap_bytes end numbers callouts
    local ymax cap_mib drawn end_x end_y k y x term color key
    tsv_check "$tsv" rss_kib heap_total_kib heap_used_kib || return 1
    num=$(meta_uint "$dir/lab.meta" lab) || return 1
    title=$(meta_need "$dir/lab.meta" title) || return 1
    xlab=$(meta_get "$dir/lab.meta" xlabel) || xlab=iteration
    kind=$(meta_need "$meta" cap_kind) || return 1
    [[ $kind == @(rlimit|kill|none) ]] ||
        { warn "$meta: cap_kind=$kind is none of rlimit, kill, none"; return 1; }
    cap_bytes=$(meta_uint "$meta" cap_bytes) || return 1
    end=$(end_words "$meta") || return 1
    # The numbers, by awk from the rows. First line: the top of the y
    # axis, the cap in MiB and whether it is drawn (when near the data,
    # within 3x, as plot.sh draws it) and the last row (the end). Then a
    # callout a line, "level height x name colour key", with a point on its
    # line for the arrow, far enough apart along x that arrows do not meet.
    numbers=$(tsv_columns "$tsv" iter rss_kib heap_total_kib heap_used_kib |
        LC_ALL=C awk -F'\t' -v OFS='\t' -v cap="$cap_bytes" -v kind="$kind" '
            { it[NR] = $1; rss[NR] = $2 / 1024; tot[NR] = $3 / 1024; used[NR] = $4 / 1024
              for (i = 2; i <= 4; i++) if ($i / 1024 > max) max = $i / 1024 }
            function abs(v) { return v < 0 ? -v : v }
            function row(frac,    i, best) {   # the row nearest frac of the way
                best = 1
                for (i = 1; i <= NR; i++)
                    if (abs(it[i] - frac * it[NR]) < abs(it[best] - frac * it[NR])) best = i
                return best
            }
            END {
                cap_mib = cap / 1048576
                drawn = kind != "none" && cap_mib <= 3 * max
                top = drawn && cap_mib > max ? cap_mib : max
                ymax = (top < 1 ? 1 : top) * 1.15
                printf "%.3f %.0f %d %d %.3f\n", ymax, cap_mib, drawn, it[NR], rss[NR]
                r = row(0.35); callout(rss[r], it[r], "rss", "okabe_blue", "rss")
                r = row(0.85); callout(tot[r], it[r], "heap_total", "okabe_orange", "heap_total")
                r = row(0.55); callout(used[r], it[r], "heap_used", "okabe_green", "heap_used")
                if (drawn) callout(cap_mib, 0.92 * it[NR], "the cap", "okabe_vermilion", "cap")
                callout(rss[NR], it[NR], "the end ×", "okabe_black", "end")
            }
            # A callout line; its first field, the height in twentieths
            # of the axis, sorts it (points closer than that are level).
            function callout(y, x, term, color, key) {
                print int(20 * y / ymax), y, x, term, color, key
            }') || return 1
    read -r ymax cap_mib drawn end_x end_y <<<"${numbers%%$'\n'*}"
    echo "out = $(gp_str "$pages/howto.pdf")"
    echo "tsv = $(gp_str "$tsv")"
    echo "ttl = $(gp_str "Lab $num: $title - $mode")"
    echo "xlab = $(gp_str "$xlab")"
    echo "ymax = $ymax"
    echo "cap_mib = $cap_mib"
    if [[ $drawn == 1 ]]; then
        echo "cap_label = $(gp_str "cap $cap_mib MiB ($kind)")"
    else
        echo "cap_label = ''"
    fi
    echo "end_x = $end_x"
    echo "end_y = $end_y"
    echo "end_label = $(gp_str "$end")"
    # The callouts top to bottom by the height they point at (ties: the
    # one further left first), so that no two arrows cross.
    callouts=$(sed 1d <<<"$numbers" | sort -t $'\t' -k1,1nr -k3,3g)
    k=0
    echo "ncallouts = $(grep -c . <<<"$callouts")"
    echo "array co_term[ncallouts]; array co_color[ncallouts]; array co_text[ncallouts]"
    echo "array co_x[ncallouts]; array co_y[ncallouts]"
    while IFS=$'\t' read -r _ y x term color key; do
        k=$((k + 1))
        echo "co_term[$k] = $(gp_str "$term")"
        echo "co_color[$k] = $(gp_str "$color")"
        echo "co_text[$k] = $(gp_str "${howto_text[$key]}")"
        echo "co_x[$k] = $x"
        echo "co_y[$k] = $y"
    done <<<"$callouts"
}
howto_settings "$howto_dir" "$howto_mode" >"$pages/howto.gp" ||
    die "$howto_dir/$howto_mode: cannot show how to read a chart"
gnuplot "$pages/howto.gp" plots/howto.gp

# --- the last page: the leak, the fix, the tool ------------------------------

{
    echo "out = $(gp_str "$pages/recap.pdf")"
    echo "nlabs = ${#nums[@]}"
    for ((i = 0; i < ${#nums[@]}; i++)); do
        echo "rc_num_$((i + 1)) = $(gp_str "${recap_lines[4 * i]}")"
        echo "rc_leak_$((i + 1)) = $(gp_str "${recap_lines[4 * i + 1]}")"
        echo "rc_fix_$((i + 1)) = $(gp_str "${recap_lines[4 * i + 2]}")"
        echo "rc_tool_$((i + 1)) = $(gp_str "${recap_lines[4 * i + 3]}")"
    done
} >"$pages/recap.gp"
gnuplot "$pages/recap.gp" plots/recap.gp

pdfunite "$pages/title.pdf" "$pages/howto.pdf" "${chart_pages[@]}" "$pages/recap.pdf" "$out/slides.pdf"
echo "slides: $out/slides.pdf ($(( 3 + ${#chart_pages[@]} )) pages, 1280x720 pt)"
