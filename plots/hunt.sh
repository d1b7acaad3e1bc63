#!/usr/bin/env bash
# hunt.sh [--table] [--formats "png svg pdf"] OUT/labN/MODE-hunt.tsv - what
# `leaklab hunt` found, drawn from its record:
#
#   MODE-hunt.png|svg|pdf        Size Delta per site, a bar per interval
#                                between snapshots, for the first sites of
#                                the hunt's order (its largest growth first)
#   MODE-hunt-table.png|pdf      with --table: the same sites as a table,
#                                Size Delta and Delta per interval, the
#                                bytes at the end and leak? (a slide page)
#
# Like plot.sh, it reads only the record and runs nothing (plots/lib.sh):
# a TSV that is not a whole hunt record (a header naming site, location,
# leak and, per interval k, delta_k and size_delta_k, and the columns of
# its snapshots; rows of that many fields, numbers where numbers go) gets
# one line on stderr, the old chart removed, and exit 1.
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/lib.sh"

usage() {
    echo "usage: hunt.sh [--table] [--formats \"png svg pdf\"] OUT/labN/MODE-hunt.tsv" >&2
    exit 2
}
table=0 formats="png svg"
while [[ $# -gt 1 ]]; do
    case $1 in
        --table)   table=1; shift ;;
        --formats) formats=$2; shift 2 ;;
        *)         break ;;
    esac
done
[[ $# -eq 1 && $1 == *-hunt.tsv ]] || usage
read -ra fmts <<<"$formats"
for f in "${fmts[@]}"; do
    [[ $f == @(png|svg|pdf) ]] ||
        { echo "hunt.sh: --formats: '$f' is not one of png svg pdf" >&2; exit 2; }
done
dir=$(abs_dir "$(dirname -- "$1")") || die "$1: cannot enter its folder"
tsv=$dir/$(basename -- "$1")
name=$(basename -- "$tsv" .tsv)
[[ $table -eq 0 ]] || name+=-table
cd "$(dirname -- "$0")/.."   # gnuplot scripts load plots/style.gp

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# unchart - a chart that cannot be drawn must not stay looking current.
unchart() {
    rm -f -- "$dir/$name".{png,svg,pdf}
}

# comment KEY - the value of the record's "# KEY=" line, or nothing.
comment() {
    LIB_KEY=$1 LC_ALL=C awk '/^#/ && index($0, "# " ENVIRON["LIB_KEY"] "=") == 1 {
        print substr($0, length(ENVIRON["LIB_KEY"]) + 4); exit }' <"$tsv"
}

[[ -s $tsv ]] || { unchart; die "$tsv: missing or empty (run leaklab hunt first)"; }
lab=$(comment lab) mode=$(comment mode) at=$(comment at)
title=$(comment title) top=$(comment top_site) verdict=$(comment verdict)
is_uint "$lab" && [[ -n $mode && -n $title && $at =~ ^[0-9]+(,[0-9]+)+$ ]] ||
    { unchart; die "$tsv: not a hunt record (no lab, mode, title or at= line)"; }
IFS=, read -ra snaps <<<"$at"
nint=$(( ${#snaps[@]} - 1 ))

# The rows drawn: the first 6 in the hunt's order, one line each, "site
# location leak size_delta_1 ... delta_1 ... bytes_last", tab-separated;
# every field checked. Too few columns, or a number that is not one,
# stop it here.
rows=$work/rows.tsv
why=$(LC_ALL=C awk -F'\t' -v OFS='\t' -v nint="$nint" -v out="$rows" '
    function bad(w) { print w; failed = 1; exit }
    /^#/ { next }
    !hdr { n = NF; hdr = 1; for (i = 1; i <= NF; i++) c[$i] = i
           split("site location leak", need, " ")
           for (k = 1; k <= nint; k++) { need[3 + k] = "size_delta_" k; need[3 + nint + k] = "delta_" k }
           need[4 + 2 * nint] = "bytes_" (nint + 1)
           for (i in need) if (!(need[i] in c)) bad("no column " need[i] " in its header")
           next }
    NF != n { bad("line " NR " has " NF " fields, not " n) }
    ++rows <= 6 {
        line = $c["site"] OFS $c["location"] OFS ($c["leak"] == "leak?" ? "leak?" : "-")
        for (k = 4; k <= 4 + 2 * nint; k++) {
            v = $c[need[k]]
            if (v !~ /^-?[0-9]+$/) bad("line " NR ", " need[k] ": not a number")
            line = line OFS v
        }
        print line > out
    }
    END { if (!failed && !hdr) print "no header row"; else if (!failed && !rows) print "no sites" }
' <"$tsv") || why="cannot be read"
[[ -z $why ]] || { unchart; die "$tsv: $why"; }

# The unit of the chart's Size Delta axis: the largest in which the
# largest |Size Delta| is still 5 or more, so that the axis's ticks are
# whole numbers (MiB, KiB, or bytes). The table says each value in its own.
unit=$(LC_ALL=C awk -F'\t' -v nint="$nint" '
    { for (k = 4; k < 4 + nint; k++) { v = $k < 0 ? -$k : $k; if (v > m) m = v } }
    END { print (m >= 5 * 1048576 ? "MiB" : m >= 5 * 1024 ? "KiB" : "B") }' "$rows")
case $unit in MiB) scale=1048576 ;; KiB) scale=1024 ;; *) scale=1 ;; esac

if [[ $verdict == leak ]]; then
    caption="leak? $top grew in every interval: the site to read first"
else
    caption="No site grew in every interval: nothing marked leak?"
fi
spans=()
for ((k = 1; k <= nint; k++)); do spans+=("${snaps[k - 1]} -> ${snaps[k]}"); done

{
    echo "load 'plots/style.gp'"
    echo "fmts = $(gp_str "$formats")"
    echo "rows = $(gp_str "$rows")"
    echo "nrows = $(grep -c '' "$rows")"
    echo "nint = $nint"
    echo "unit = $(gp_str "$unit")"
    echo "scale = $scale."
    echo "out = $(gp_str "$dir/$name")"
    echo "ttl = $(gp_str "Lab $lab: $title - $mode, heap snapshots compared")"
    echo "caption = $(gp_str "$caption")"
    echo "array spans[$nint]"
    for ((k = 1; k <= nint; k++)); do
        echo "spans[$k] = $(gp_str "iterations ${spans[k - 1]}")"
    done
    echo "table = $table"
} >"$work/settings.gp"
gnuplot "$work/settings.gp" plots/hunt.gp || { unchart; die "$tsv: gnuplot failed"; }
for f in "${fmts[@]}"; do
    [[ -s $dir/$name.$f ]] || { unchart; die "$dir/$name.$f: gnuplot wrote nothing"; }
done
