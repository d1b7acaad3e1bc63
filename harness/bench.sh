#!/usr/bin/env bash
# bench.sh BUILD OUTDIR - speed, always as a ratio against a reference timed
# in the same run. Prints a table and writes OUTDIR/*.tsv. Not a test.
set -euo pipefail
build=$1 out=$2
mkdir -p "$out"

echo "== probe: one sample against a bare pread of /proc/self/statm"
"$build/bench-probe" --tsv "$out/probe-samples.tsv" | tee "$out/probe.tsv" |
    column -t -s $'\t'
