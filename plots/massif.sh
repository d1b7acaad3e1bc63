#!/usr/bin/env bash
# massif.sh N [MODE] OUT [-- LAB ARGS...] - a second witness: one lab mode
# under Valgrind's massif, drawn next to the probe's own heap_used.
#
#   OUT/labN/MODE.tsv, .meta        a normal run through the runner (the
#                                   probe's numbers: same mode, same args)
#   OUT/labN/MODE-massif/           one massif snapshot file per iteration
#   OUT/labN/MODE-massif.tsv        those snapshots as TSV: iter, time,
#                                   mem_heap_B, mem_heap_extra_B, mem_stacks_B
#   OUT/labN/MODE.massif.out        massif's own time-based snapshots (ms_print)
#   OUT/labN/MODE-massif.png|svg    both on one chart, per iteration
#
# MODE defaults to the lab's showcase. PAGES=yes runs massif with
# --pages-as-heap=yes: it then counts pages mapped (brk, mmap) instead of
# malloc'd blocks, which is how it sees memory a lab maps itself (lab 3).
#
# Why two runs. Under Valgrind, malloc is Valgrind's own: glibc's mallinfo2
# says nothing useful there, so the probe's heap numbers come from a normal
# run with the same mode and arguments. Both programs are deterministic,
# so iteration k does the same allocations in both.
#
# How snapshots map to iterations. massif's clock counts instructions,
# milliseconds or bytes (--time-unit), none of which is an iteration. So
# the massif run sets $LEAKLAB_VG_MONITOR (see harness/probe.h): at every
# sample, the probe asks massif for a snapshot ("snapshot FILE", the
# monitor command vgdb would send) at the very point it writes the TSV row.
# Snapshot k is iteration k, exactly; the time column is massif's own clock
# (instructions), kept for reference.
#
# The massif run is capped too: RLIMIT_AS at the mode's cap (from the
# normal run's .meta) plus 512 MiB for Valgrind itself, and a timeout.
set -euo pipefail

usage() { echo "usage: massif.sh N [MODE] OUT [-- LAB ARGS...]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
n=$1; shift
mode=""
if [[ $# -ge 2 && $2 != -- ]]; then mode=$1; shift; fi
out=$1; shift
if [[ $# -gt 0 ]]; then [[ $1 == -- ]] || usage; shift; fi
[[ $n =~ ^[0-9]+$ ]] || { echo "massif.sh: lab '$n' is not a number" >&2; exit 2; }

cd "$(dirname "$0")/.."
build=${LEAKLAB_BUILD:-build}
lab=$build/lab$n
[[ -x $lab ]] || { echo "massif.sh: $lab: no such lab (make build?)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "massif.sh: valgrind is not installed (make deps)" >&2; exit 1; }

describe=$("$lab" --describe | tr '\t' '\n')
describe() { sed -n "s/^$1=//p" <<<"$describe"; }
[[ -n $mode ]] || mode=$(describe showcase)
[[ ,$(describe modes), == *,"$mode",* ]] ||
    { echo "massif.sh: lab $n has no mode '$mode' (modes: $(describe modes))" >&2; exit 2; }

# 1. The probe's run: the runner, the mode's classroom cap, as make labN.
"$build/leaklab" run "$n" --mode "$mode" --quiet --out "$out" -- "$@" >/dev/null
dir=$(cd "$out/lab$n" && pwd)
meta=$dir/$mode.meta
verdict=$(sed -n 's/^verdict=//p' "$meta")
cap_bytes=$(sed -n 's/^cap_bytes=//p' "$meta")
[[ $cap_bytes =~ ^[0-9]+$ && $cap_bytes -gt 0 ]] || cap_bytes=$(( 2 << 30 ))

# 2. The same mode under massif, one snapshot per sample.
snaps=$dir/$mode-massif
rm -rf "$snaps" && mkdir -p "$snaps"
vg_opts=(--tool=massif --massif-out-file="$dir/$mode.massif.out")
if [[ ${PAGES:-no} == yes ]]; then
    vg_opts+=(--pages-as-heap=yes)      # incompatible with --stacks=yes
else
    vg_opts+=(--stacks=yes)
fi
set +e
LEAKLAB_VG_MONITOR="snapshot $snaps/iter-{iter}.massif" \
    prlimit --as=$(( cap_bytes + (512 << 20) )) \
    timeout --kill-after=5 300 \
    valgrind "${vg_opts[@]}" --log-file="$dir/$mode.massif.log" \
    "$lab" --quiet --mode "$mode" "$@"
rc=$?
set -e
case $rc in
    0|3) ;;   # finished, or met its wall as the lab means to
    *) echo "massif.sh: lab $n $mode under massif exited $rc (see $dir/$mode.massif.log)" >&2
       [[ $verdict == finished ]] && exit 1 ;;
esac

# 3. The snapshots as TSV, in iteration order: massif's file format is
#    "key=value" lines, one snapshot per file here.
tsv=$dir/$mode-massif.tsv
{
    printf '# lab=%s\n# mode=%s\n# massif=%s\n' "$n" "$mode" "${vg_opts[*]}"
    printf 'iter\ttime\tmem_heap_B\tmem_heap_extra_B\tmem_stacks_B\n'
    for f in "$snaps"/iter-*.massif; do
        k=${f##*/iter-}; k=${k%.massif}
        awk -F= -v k="$k" '
            $1 == "time_unit" { next }
            $1 == "time" || $1 == "mem_heap_B" || $1 == "mem_heap_extra_B" || $1 == "mem_stacks_B" { v[$1] = $2 }
            END { printf "%d\t%s\t%s\t%s\t%s\n", k, v["time"], v["mem_heap_B"], v["mem_heap_extra_B"], v["mem_stacks_B"] }' "$f"
    done | sort -n -k1,1
} >"$tsv"
rows=$(awk '!/^#/ { n++ } END { print n - 1 }' "$tsv")
[[ $rows -gt 0 ]] || { echo "massif.sh: massif took no snapshots (see $dir/$mode.massif.log)" >&2; exit 1; }

# 4. The chart. The caption says how far apart the two are at the last
#    iteration both recorded, from the numbers themselves.
gp_str() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }
# With PAGES=yes massif counts pages mapped, so the fair comparison is
# the probe's rss; otherwise it is heap_used against heap + extra.
probe_col=heap_used_kib probe_name="probe heap_used" massif_name="massif heap+extra"
if [[ ${PAGES:-no} == yes ]]; then
    probe_col=rss_kib probe_name="probe rss" massif_name="massif pages mapped"
fi
read -r last probe_kib massif_kib rss_kib < <(awk -F'\t' -v want="$probe_col" '
    FNR == 1 { hdr = 0 }
    /^#/ { next }
    !hdr { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i; hdr = 1; next }
    FILENAME == ARGV[1] { k = $col[FILENAME, "iter"]; used[k] = $col[FILENAME, want]
                          rss[k] = $col[FILENAME, "rss_kib"]; next }
    ($col[FILENAME, "iter"] in used) {
        k = $col[FILENAME, "iter"]
        m = ($col[FILENAME, "mem_heap_B"] + $col[FILENAME, "mem_heap_extra_B"]) / 1024
        last = k; p = used[k]; q = m; r = rss[k]
    }
    END { printf "%d %.3f %.3f %.3f\n", last, p, q, r }' "$dir/$mode.tsv" "$tsv")
caption=$(awk -v i="$last" -v p="$probe_kib" -v q="$massif_kib" -v r="$rss_kib" \
              -v pn="$probe_name" -v qn="$massif_name" 'BEGIN {
    d = p - q; if (d < 0) d = -d
    if (p >= 1024)
        printf "Iteration %d: %s %.1f MiB, %s %.1f MiB (%.1f%% apart)",
               i, pn, p / 1024, qn, q / 1024, 100 * d / p
    else   # a heap this small says nothing in percent; say where rss went
        printf "Iteration %d: %s %.0f KiB, %s %.0f KiB, yet rss %.1f MiB: outside malloc",
               i, pn, p, qn, q, r / 1024 }')
settings=$(mktemp)
trap 'rm -f "$settings"' EXIT
{
    echo "load 'plots/style.gp'"
    echo "probe = $(gp_str "$dir/$mode.tsv")"
    echo "massif = $(gp_str "$tsv")"
    echo "out = $(gp_str "$dir/$mode-massif")"
    echo "ttl = $(gp_str "Lab $n: $(describe title) - $mode: massif beside the probe")"
    echo "caption = $(gp_str "$caption")"
    echo "pages = $([[ ${PAGES:-no} == yes ]] && echo 1 || echo 0)"
} >"$settings"
gnuplot "$settings" plots/massif.gp
echo "massif: $dir/$mode-massif.png (.svg), $rows snapshots in $tsv"
