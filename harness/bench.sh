#!/usr/bin/env bash
# bench.sh BUILD OUTDIR - speed, always as a ratio against a reference timed
# in the same run. Prints a table and writes OUTDIR/*.tsv. Not a test.
set -euo pipefail
build=$1 out=$2
mkdir -p "$out"

echo "== probe: one sample against a bare pread of /proc/self/statm"
"$build/bench-probe" --tsv "$out/probe-samples.tsv" | tee "$out/probe.tsv" |
    column -t -s $'\t'

# median - the median of the numbers on stdin, one a line.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ROUNDS=${BENCH_ROUNDS:-7}

# Progress on stderr, one line a round, each contender named as it starts:
#   copy round 3/7: stream zerocopy cp dd
# so a class watching a 40-second bench sees which race is being run.
progress_start() { printf '  %s round %d/%d:' "$1" "$2" "$ROUNDS" >&2; }
progress()       { printf ' %s' "$1" >&2; }
progress_end()   { printf '\n' >&2; }

# --------------------------------------------------------------------------
# Lab 5: copy 1 GiB (in the page cache) with lab5 stream, lab5 zerocopy,
# cp (coreutils 9 copies with copy_file_range, in the kernel), dd bs=64K
# (coreutils' own read/write loop, the fair match for stream) and, when
# node is installed, the seed's own pipe(). Rounds interleave
# the tools so that drift (writeback, other load) hits all of them alike.
# --------------------------------------------------------------------------
echo
copy_size=${BENCH_COPY_SIZE:-1G}
echo "== copy: $copy_size bytes in the page cache, $ROUNDS interleaved rounds, medians"
out=$(cd "$out" && pwd) root=$(cd "$(dirname "$0")/.." && pwd)
src=$out/copy-in.bin dst=$out/copy-out.bin
trap 'rm -f "$src" "$dst"' EXIT
"$build/lab5" --make-input "$copy_size" "$src"
cat "$src" >/dev/null                    # into the page cache
node_js='const fs = require("fs");
fs.createReadStream(process.argv[1]).pipe(fs.createWriteStream(process.argv[2]));'
tools=(stream zerocopy cp dd)
command -v node >/dev/null && tools+=(node-pipe)
run_tool() {
    case $1 in
        stream|zerocopy) "$build/bench-run" "$build/lab5" --quiet --mode "$1" "$src" "$dst" ;;
        cp)              "$build/bench-run" cp "$src" "$dst" ;;
        dd)              "$build/bench-run" dd if="$src" of="$dst" bs=64K status=none ;;
        node-pipe)       "$build/bench-run" node -e "$node_js" "$src" "$dst" ;;
    esac
}
printf 'round\ttool\twall_s\tpeak_rss_kib\n' >"$out/copy-runs.tsv"
for round in $(seq 1 "$ROUNDS"); do
    progress_start "copy" "$round"
    for tool in "${tools[@]}"; do
        progress "$tool"
        rm -f "$dst"
        sync -f "$out" 2>/dev/null || true   # the last run's writeback, not ours
        read -r wall rss < <(run_tool "$tool")
        printf '%s\t%s\t%s\t%s\n' "$round" "$tool" "$wall" "$rss" >>"$out/copy-runs.tsv"
        if [[ $round -eq 1 ]] && ! cmp -s "$src" "$dst"; then
            echo "bench: $tool did not copy byte for byte" >&2
            exit 1
        fi
    done
    progress_end
done
rm -f "$dst"
col() { awk -F'\t' -v t="$1" -v c="$2" '$2 == t { print $c }' "$out/copy-runs.tsv"; }
cp_wall=$(col cp 3 | median)
{
    printf 'tool\twall_s\tratio_to_cp\tpeak_rss_mib\tgoal\tmet\n'
    for tool in "${tools[@]}"; do
        wall=$(col "$tool" 3 | median)
        rss=$(col "$tool" 4 | median)
        awk -v t="$tool" -v w="$wall" -v c="$cp_wall" -v r="$rss" 'BEGIN {
            ratio = w / c; mib = r / 1024
            if (t == "stream")        { goal = "ratio <= 1.05, rss <= 4"; met = ratio <= 1.05 && mib <= 4 }
            else if (t == "zerocopy") { goal = "ratio <= 1.00, rss <= 4"; met = ratio <= 1.00 && mib <= 4 }
            else                      { goal = "(reference)"; met = -1 }
            printf "%s\t%.3f\t%.2f\t%.1f\t%s\t%s\n", t, w, ratio, mib, goal,
                   met < 0 ? "-" : (met ? "yes" : "NO")
        }'
    done
} >"$out/copy.tsv"
column -t -s $'\t' "$out/copy.tsv"
rm -f "$src"

# --------------------------------------------------------------------------
# Lab 4: consumer throughput with backpressure (bounded) against without
# (unbounded): jobs consumed per second, from the run's own last row.
# --------------------------------------------------------------------------
echo
echo "== queue: consumer throughput, bounded against unbounded, $ROUNDS interleaved rounds"
ticks=${BENCH_TICKS:-4000}
printf 'round\tmode\tconsumed\tt_ms\tjobs_per_s\tpeak_rss_kib\n' >"$out/queue-runs.tsv"
for round in $(seq 1 "$ROUNDS"); do
    progress_start "queue" "$round"
    for mode in unbounded bounded; do
        progress "$mode"
        tsv=$out/queue-$mode.tsv
        read -r _ rss < <("$build/bench-run" "$build/lab4" --quiet --mode "$mode" \
                          --iterations "$ticks" --tsv "$tsv")
        awk -F'\t' -v r="$round" -v m="$mode" -v rss="$rss" '
            /^#/ { next } !hdr { for (i = 1; i <= NF; i++) c[$i] = i; hdr = 1; next }
            { n = $c["consumed"]; t = $c["t_ms"] }
            END { printf "%s\t%s\t%d\t%.3f\t%.0f\t%s\n", r, m, n, t, n / (t / 1000), rss }' \
            "$tsv" >>"$out/queue-runs.tsv"
    done
    progress_end
done
qcol() { awk -F'\t' -v m="$1" -v c="$2" '$2 == m { print $c }' "$out/queue-runs.tsv"; }
unb=$(qcol unbounded 5 | median)
{
    printf 'mode\tjobs_per_s\tratio_to_unbounded\tpeak_rss_mib\tgoal\tmet\n'
    for mode in unbounded bounded; do
        awk -v m="$mode" -v j="$(qcol "$mode" 5 | median)" -v u="$unb" \
            -v r="$(qcol "$mode" 6 | median)" 'BEGIN {
            ratio = j / u
            printf "%s\t%.0f\t%.2f\t%.1f\t%s\t%s\n", m, j, ratio, r / 1024,
                   m == "bounded" ? "ratio >= 0.95" : "(reference)",
                   m == "bounded" ? (ratio >= 0.95 ? "yes" : "NO") : "-"
        }'
    done
} >"$out/queue.tsv"
column -t -s $'\t' "$out/queue.tsv"

# --------------------------------------------------------------------------
# Lab 6: a lookup in lru's map (a hash map plus a list, the hit moved to
# the front) against one in unbounded's (the map alone): ns per lookup,
# on a warm cache of 100000 keys. And the redis mode's client, one round
# trip per GET over the unix socket (no pipelining), against
# redis-benchmark's GET (one client, -c 1) on the same socket, which the
# lab runs right after its own, in the same run.
# --------------------------------------------------------------------------
echo
lookups=${BENCH_LOOKUPS:-1000000} trips=${BENCH_ROUND_TRIPS:-20000}
echo "== cache: $lookups lookups on 100000 keys, lru against unbounded; $trips GETs of 1 KiB, the lab against redis-benchmark; $ROUNDS interleaved rounds, medians"
printf 'round\tmode\tns_per_lookup\n' >"$out/lookup-runs.tsv"
printf 'round\tclient\tround_trips_per_s\n' >"$out/redis-runs.tsv"
for round in $(seq 1 "$ROUNDS"); do
    progress_start "cache" "$round"
    for mode in unbounded lru; do
        progress "$mode"
        "$build/lab6" --mode "$mode" --bench "$lookups" --size 64 --max-bytes 1G |
            sed -n "s/^bench: .* \([0-9.]*\) ns per lookup .*/$round\t$mode\t\1/p" >>"$out/lookup-runs.tsv"
    done
    if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
        progress "redis"
        "$build/lab6" --mode redis --bench "$trips" --size 1K | awk -F'"' -v r="$round" '
            /^bench: redis:/ { printf "%s\tlab6 redis\t%s\n", r, $0 }
            $2 == "GET" { printf "%s\tredis-benchmark\t%s\n", r, $4 }' |
            sed 's/\tbench: .*: \([0-9]*\) per second$/\t\1/' >>"$out/redis-runs.tsv"
    fi
    progress_end
done
lcol() { awk -F'\t' -v m="$1" '$2 == m { print $3 }' "$out/lookup-runs.tsv"; }
unb=$(lcol unbounded | median)
{
    printf 'mode\tns_per_lookup\tratio_to_unbounded\tgoal\tmet\n'
    for mode in unbounded lru; do
        awk -v m="$mode" -v n="$(lcol "$mode" | median)" -v u="$unb" 'BEGIN {
            ratio = n / u
            printf "%s\t%.1f\t%.2f\t%s\t%s\n", m, n, ratio,
                   m == "lru" ? "ratio <= 1.5" : "(reference)",
                   m == "lru" ? (ratio <= 1.5 ? "yes" : "NO") : "-"
        }'
    done
} >"$out/lookup.tsv"
column -t -s $'\t' "$out/lookup.tsv"
if [[ $(wc -l <"$out/redis-runs.tsv") -gt 1 ]]; then
    rcol() { awk -F'\t' -v c="$1" '$2 == c { print $3 }' "$out/redis-runs.tsv"; }
    ref=$(rcol redis-benchmark | median)
    {
        printf 'client\tround_trips_per_s\tratio_to_redis_benchmark\n'
        for client in "redis-benchmark" "lab6 redis"; do
            awk -v c="$client" -v n="$(rcol "$client" | median)" -v r="$ref" \
                'BEGIN { printf "%s\t%.0f\t%.2f\n", c, n, n / r }'
        done
    } >"$out/redis.tsv"
    column -t -s $'\t' "$out/redis.tsv"
else
    echo "(no redis-server or redis-benchmark: make deps installs redis-server)"
fi

if command -v gnuplot >/dev/null; then
    (cd "$root" && gnuplot -c plots/bench.gp "$out/copy.tsv" "$out/queue.tsv" \
        "$out/bench" "$copy_size") && echo "chart: $out/bench.png, $out/bench.svg"
    if [[ -s $out/redis.tsv ]]; then
        (cd "$root" && gnuplot -c plots/bench-cache.gp "$out/lookup.tsv" "$out/redis.tsv" \
            "$out/bench-cache" "$lookups") && echo "chart: $out/bench-cache.png, $out/bench-cache.svg"
    fi
fi
