#!/usr/bin/env bash
# node-tables.sh OUT FILE - rewrites FILE's (LESSONS.md's) tables of Node
# figures from the records of each lab and its Node.js twin under OUT, so
# that no Node number in the lessons is typed by hand. make node-tables
# runs every lab first, twins included, then this.
#
# A table sits between two lines of FILE, each alone on its line:
#
#   <!-- node-table:labN -->
#   ... replaced, whatever is there ...
#   <!-- /node-table:labN -->
#
# and holds a row per run, the C lab's mode, then the twin's mode that
# mirrors it (same name, or the twin's pair.MODE), then the twin's modes
# that mirror none: how the run ended, its last row, the growth per row
# (least squares from row 1: rss, heap_used, and the bytes outside the
# heap: C's mmap'd ones, lab 3's external_kib or else malloc's mmap_kib,
# Node's external) and wait4's peak rss. A lab without a twin's records
# (OUT/labN/node-lab.meta) keeps its table as it is, and is named.
#
# Records are data (plots/lib.sh): nothing read is evaluated. Exits 1,
# FILE untouched, if a record cannot be read or a table's markers are not
# there; 2 on bad usage.
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/../plots/lib.sh"

[[ $# -eq 2 && -d $1 && -f $2 ]] || { echo "usage: node-tables.sh OUT LESSONS.md" >&2; exit 2; }
out=$1 file=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# amount KIB - a size as the lessons write it: MiB with one decimal, or
# whole KiB under 1 MiB.
amount() {
    LC_ALL=C awk -v k="$1" 'BEGIN {
        a = k < 0 ? -k : k
        if (a >= 1024) printf "%.1f MiB\n", k / 1024; else printf "%.0f KiB\n", k }'
}

# cell TEXT - TEXT as one cell of a Markdown table row: a control
# character (a newline that meta_get unescaped) becomes a space, a '|' is
# escaped and a backtick becomes a quote, so that no record's text can
# end the row, add a column, or stand alone on a line as a marker.
cell() {
    local t=${1//[[:cntrl:]]/ }
    t=${t//\`/\'}
    printf '%s' "${t//|/\\|}"
}

# row STEM WHO - the table's row for the run recorded as DIR/STEM.meta and
# .tsv, WHO its runtime (C or Node).
row() {
    local m=$dir/$1.meta tsv=$dir/$1.tsv who=$2 mode v end r w mcol peak stats
    mode=$(meta_need "$m" mode) || return 1
    [[ $1 == "$mode" || $1 == "node-$mode" ]] ||
        { warn "$m: mode=$mode, in the records of another mode"; return 1; }
    v=$(meta_need "$m" verdict) || return 1
    [[ $v == @(finished|limit|killed|timeout|crashed) ]] ||
        { warn "$m: verdict=$v is none of finished, limit, killed, timeout, crashed"; return 1; }
    case $v in
        limit)  if r=$(meta_get "$m" reason); then end="limit: $r"      # V8's
                elif w=$(meta_get "$m" wall); then end="limit: ${w#limit: }"
                else end="limit: exit 3"; fi ;;
        killed) end="killed: $(meta_get "$m" signal_name || echo SIGKILL)" ;;
        *)      end=$v ;;
    esac
    mcol=mmap_kib
    if [[ $who == Node ]] || tsv_header "$tsv" | grep -qx external_kib; then mcol=external_kib; fi
    tsv_check "$tsv" rss_kib heap_used_kib "$mcol" || return 1
    peak=$(meta_uint "$m" peak_rss_kib) || return 1
    # Rows from 1 on: the last row, and the least-squares slope of each
    # column (the baseline row 0 is before any work).
    stats=$(tsv_columns "$tsv" iter rss_kib heap_used_kib "$mcol" | LC_ALL=C awk -F'\t' '
        { last = $1 }
        $1 >= 1 { n++; sx += $1; sxx += $1 * $1
                  for (i = 2; i <= 4; i++) { sy[i] += $i; sxy[i] += $1 * $i } }
        END { d = n * sxx - sx * sx; printf "%d", last
              for (i = 2; i <= 4; i++) printf " %.3f", (d > 0 ? (n * sxy[i] - sx * sy[i]) / d : 0)
              printf "\n" }')
    read -r last s_rss s_heap s_mmap <<<"$stats"
    is_uint "${last:-}" && is_num "${s_rss:-}" && is_num "${s_heap:-}" && is_num "${s_mmap:-}" ||
        { warn "$tsv: cannot be summed up"; return 1; }
    printf '| `%s` | %s | %s | %s | %s | %s | %s | %s |\n' "$(cell "$mode")" "$who" "$(cell "$end")" "$last" \
        "$(amount "$s_rss")" "$(amount "$s_heap")" "$(amount "$s_mmap")" "$(amount "$peak")"
}

# table N - lab N's table, from OUT/labN, on stdout.
table() {
    local n=$1 c n_mode used=" " c_modes n_modes runtime
    dir=$out/lab$n
    csv_list "$(meta_need "$dir/lab.meta" modes)" || return 1
    c_modes=("${list[@]}")
    csv_list "$(meta_need "$dir/node-lab.meta" modes)" || return 1
    n_modes=("${list[@]}")
    for c in "${c_modes[@]}" "${n_modes[@]}"; do
        is_mode_file "$c" || { warn "$dir: a meta names a mode '$c', which cannot be a file name"; return 1; }
    done
    runtime=$(meta_get "$dir/node-lab.meta" runtime) || runtime=node
    [[ $runtime =~ ^[a-z0-9.\ -]+$ ]] || { warn "$dir/node-lab.meta: runtime=$runtime"; return 1; }
    echo "<!-- made by make node-tables from the runs of make lab$n (C, and $runtime); edit harness/node-tables.sh, not the table -->"
    echo "| mode | run | how it ended | last row | rss per row | heap_used per row | outside the heap per row | peak rss |"
    echo "|---|---|---|---:|---:|---:|---:|---:|"
    for c in "${c_modes[@]}"; do
        [[ -e $dir/$c.meta ]] || continue
        row "$c" C || return 1
        for n_mode in "${n_modes[@]}"; do
            [[ $used != *" $n_mode "* && -e $dir/node-$n_mode.meta ]] || continue
            [[ $(meta_get "$dir/node-lab.meta" "pair.$n_mode" || printf '%s' "$n_mode") == "$c" ]] || continue
            row "node-$n_mode" Node || return 1
            used+="$n_mode "
        done
    done
    for n_mode in "${n_modes[@]}"; do
        [[ $used != *" $n_mode "* && -e $dir/node-$n_mode.meta ]] || continue
        row "node-$n_mode" Node || return 1
    done
}

made=()
for d in "$out"/lab*/; do
    n=${d%/}
    n=${n##*/lab}
    is_uint "$n" || continue
    if [[ ! -e $out/lab$n/node-lab.meta ]]; then
        warn "lab $n: no twin's records in $out/lab$n: its table, if any, is left as it is"
        continue
    fi
    grep -qxF "<!-- node-table:lab$n -->" "$file" && grep -qxF "<!-- /node-table:lab$n -->" "$file" ||
        die "$file: no <!-- node-table:lab$n --> ... <!-- /node-table:lab$n --> lines for lab $n's table"
    table "$n" >"$work/lab$n" || die "$out/lab$n: cannot make lab $n's table"
    made+=("$n")
done
[[ ${#made[@]} -gt 0 ]] || die "$out: no lab with its twin's records (make labN with node installed)"

# Each table replaces what stands between its two lines; the rest of FILE
# is copied as it is. The tables are read from files: no record's text
# passes through awk's -v.
LC_ALL=C awk -v dir="$work" '
    match($0, /^<!-- node-table:lab[0-9]+ -->$/) {
        print
        n = substr($0, 20, length($0) - 23)
        f = dir "/lab" n
        if ((getline line < f) > 0) {
            print line
            while ((getline line < f) > 0) print line
            skip = 1
        }
        next
    }
    /^<!-- \/node-table:lab[0-9]+ -->$/ { skip = 0 }
    !skip { print }
' "$file" >"$work/new"
cmp -s "$work/new" "$file" || cat "$work/new" >"$file"
echo "node-tables: $file: the Node tables of lab ${made[*]} rewritten from $out"
