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
#
# Records: the chart's words come from what the runner recorded (lab.meta,
# MODE.meta); the lab binary is run, as it must be, but not asked to
# describe itself, except for its showcase when MODE is not given and no
# lab.meta records it yet.
set -euo pipefail

# shellcheck source=plots/lib.sh
. "$(dirname -- "$0")/lib.sh"

usage() { echo "usage: massif.sh N [MODE] OUT [-- LAB ARGS...]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
n=$1; shift
mode=""
if [[ $# -ge 2 && $2 != -- ]]; then mode=$1; shift; fi
out=$1; shift
if [[ $# -gt 0 ]]; then [[ $1 == -- ]] || usage; shift; fi
[[ $n =~ ^[0-9]+$ ]] || { echo "massif.sh: lab '$n' is not a number" >&2; exit 2; }
[[ $out == /* ]] || out=$PWD/$out

cd "$(dirname -- "$0")/.."
build=${LEAKLAB_BUILD:-build}
lab=$build/lab$n
[[ -x $lab ]] || { echo "massif.sh: $lab: no such lab (make build?)" >&2; exit 2; }
command -v valgrind >/dev/null || die "valgrind is not installed (make deps)"

if [[ -z $mode ]]; then
    mode=$(meta_get "$out/lab$n/lab.meta" showcase) ||
        mode=$(meta_get /dev/stdin showcase < <("$lab" --describe | tr '\t' '\n')) ||
        die "lab $n names no showcase: give a MODE"
fi

# 1. The probe's run: the runner, the mode's classroom cap, as make labN.
#    The runner refuses a mode the lab does not have (exit 2, naming it);
#    a run that ended otherwise than its mode expects is still a record.
rc=0
"$build/leaklab" run "$n" --mode "$mode" --quiet --out "$out" -- "$@" >/dev/null || rc=$?
[[ $rc -ne 2 ]] || exit 2
dir=$(abs_dir "$out/lab$n") || die "$out/lab$n: no records"
meta=$dir/$mode.meta
[[ -e $meta ]] || die "$meta: the runner wrote no record (exit $rc)"
title=$(meta_need "$dir/lab.meta" title) || exit 1
verdict=$(meta_need "$meta" verdict) || exit 1
cap_bytes=$(meta_uint "$meta" cap_bytes) || exit 1
tsv_check "$dir/$mode.tsv" heap_used_kib rss_kib || exit 1
# Valgrind's own address space on top of the cap (2 GiB when uncapped).
as_limit=$(awk -v c="$cap_bytes" 'BEGIN { if (c == 0) c = 2 * 2^30; printf "%.0f\n", c + 512 * 2^20 }')

# 2. The same mode under massif, one snapshot per sample.
snaps=$dir/$mode-massif
rm -rf "$snaps" && mkdir -p "$snaps"
# Valgrind reads %p, %q{VAR} in a file name (%% is a %), and a monitor
# command is split at spaces: the snapshots go through a link whose path
# has neither.
link=$(mktemp -d)
trap 'rm -rf "$link"' EXIT
[[ $link != *[[:space:]%]* ]] || die "$link: a temporary directory with spaces (TMPDIR?)"
ln -s "$snaps" "$link/snaps"
vg_opts=(--tool=massif --massif-out-file="${dir//%/%%}/${mode//%/%%}.massif.out")
if [[ ${PAGES:-no} == yes ]]; then
    vg_opts+=(--pages-as-heap=yes)      # incompatible with --stacks=yes
else
    vg_opts+=(--stacks=yes)
fi
set +e
LEAKLAB_VG_MONITOR="snapshot $link/snaps/iter-{iter}.massif" \
    prlimit --as="$as_limit" \
    timeout --kill-after=5 300 \
    valgrind "${vg_opts[@]}" --log-file="${dir//%/%%}/${mode//%/%%}.massif.log" \
    "$lab" --quiet --mode "$mode" "$@"
rc=$?
set -e
case $rc in
    0|3) ;;   # finished, or met its wall as the lab means to
    *) warn "lab $n $mode under massif exited $rc (see $dir/$mode.massif.log)"
       [[ $verdict != finished ]] || exit 1 ;;
esac

# 3. The snapshots as TSV, in iteration order: massif's file format is
#    "key=value" lines, one snapshot per file here. Every value is checked
#    to be a number.
tsv=$dir/$mode-massif.tsv
{
    printf '# lab=%s\n# mode=%s\n# massif=%s\n' "$n" "$(meta_escape "$mode")" \
        "$(meta_escape "${vg_opts[*]}")"
    printf 'iter\ttime\tmem_heap_B\tmem_heap_extra_B\tmem_stacks_B\n'
    for f in "$snaps"/iter-*.massif; do
        [[ -e $f ]] || continue
        k=${f##*/iter-}; k=${k%.massif}
        is_uint "$k" || die "$f: not a snapshot this script asked for"
        LIB_K=$k awk -F= '
            $1 == "time" || $1 == "mem_heap_B" || $1 == "mem_heap_extra_B" || $1 == "mem_stacks_B" { v[$1] = $2 }
            END {
                for (key in v) { if (v[key] !~ /^[0-9]+$/) exit 1; n++ }
                if (n != 4) exit 1
                printf "%d\t%s\t%s\t%s\t%s\n", ENVIRON["LIB_K"], v["time"], v["mem_heap_B"], v["mem_heap_extra_B"], v["mem_stacks_B"]
            }' <"$f" || die "$f: not a massif snapshot (a value missing or not a number)"
    done | sort -n -k1,1
} >"$tsv"
[[ -n $(tsv_columns "$tsv" iter) ]] ||
    die "massif took no snapshots (see $dir/$mode.massif.log)"
tsv_check "$tsv" mem_heap_B mem_heap_extra_B mem_stacks_B || exit 1
rows=$(tsv_columns "$tsv" iter | wc -l)

# 4. The chart. The caption says how far apart the two are at the last
#    iteration both recorded, from the numbers themselves.
# With PAGES=yes massif counts pages mapped, so the fair comparison is
# the probe's rss; otherwise it is heap_used against heap + extra.
probe_col=heap_used_kib probe_name="probe heap_used" massif_name="massif heap+extra"
if [[ ${PAGES:-no} == yes ]]; then
    probe_col=rss_kib probe_name="probe rss" massif_name="massif pages mapped"
fi
read -r last probe_kib massif_kib rss_kib < <(awk -F'\t' '
    NR == FNR { used[$1] = $2; rss[$1] = $3; next }
    ($1 in used) { last = $1; p = used[$1]; q = ($2 + $3) / 1024; r = rss[$1] }
    END { printf "%d %.3f %.3f %.3f\n", last, p, q, r }' \
    <(tsv_columns "$dir/$mode.tsv" iter "$probe_col" rss_kib) \
    <(tsv_columns "$tsv" iter mem_heap_B mem_heap_extra_B))
if ! { is_uint "$last" && is_num "$probe_kib" && is_num "$massif_kib" && is_num "$rss_kib"; }; then
    die "$tsv: no iteration in common with $dir/$mode.tsv"
fi
caption=$(awk -v i="$last" -v p="$probe_kib" -v q="$massif_kib" -v r="$rss_kib" \
              -v pn="$probe_name" -v qn="$massif_name" 'BEGIN {
    d = p - q; if (d < 0) d = -d
    if (p >= 1024)
        printf "Iteration %d: %s %.1f MiB, %s %.1f MiB (%.1f%% apart)",
               i, pn, p / 1024, qn, q / 1024, 100 * d / p
    else   # a heap this small says nothing in percent; say where rss went
        printf "Iteration %d: %s %.0f KiB, %s %.0f KiB, yet rss %.1f MiB: outside malloc",
               i, pn, p, qn, q, r / 1024 }')
settings=$link/settings.gp
{
    echo "load 'plots/style.gp'"
    echo "probe = $(gp_str "$dir/$mode.tsv")"
    echo "massif = $(gp_str "$tsv")"
    echo "out = $(gp_str "$dir/$mode-massif")"
    echo "ttl = $(gp_str "Lab $n: $title - $mode: massif beside the probe")"
    echo "caption = $(gp_str "$caption")"
    echo "pages = $([[ ${PAGES:-no} == yes ]] && echo 1 || echo 0)"
} >"$settings"
gnuplot "$settings" plots/massif.gp
echo "massif: $dir/$mode-massif.png (.svg), $rows snapshots in $tsv"
