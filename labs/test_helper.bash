# test_helper.bash - running labs and asserting on what they recorded.
#
# Every .bats file starts with `load test_helper`. Then, in a test:
#
#   run_lab 1 --mode retain --iterations 20        # build/lab1, TSV in $TSV
#   assert_success
#   assert_grows_per_iter "$TSV" rss_kib 900        # at least 900 KiB/iter
#
#   leaklab_run 2 kill --cap 64M                    # through the runner
#   assert_meta "$META" verdict killed
#
# The memory assertions read a TSV column by its header name, ignore the
# '#' comment lines, and say what they saw when they fail. Sizes in KiB.
# Students: use these to check your own fixes (see LESSONS.md).

bats_require_minimum_version 1.7.0   # bats_load_library

# --------------------------------------------------------------------------
# Before the first test: the tools, then binaries no older than their sources
# --------------------------------------------------------------------------

# leaklab_abort MESSAGE - one line on stderr, then the test file stops
# before its first test (bats reports "setup_file failed", then the line).
leaklab_abort() {
    printf 'leaklab tests: %s\n' "$1" >&2
    exit 1
}

# leaklab_load_tools - loads bats-support and bats-assert, and checks for
# every command the suite runs (COMMAND:DEBIAN-PACKAGE). Whatever is
# missing is named in one line, with `make deps`, which installs the
# Makefile's DEBS; bats_load_library alone would stop at a missing
# bats-support in its own words, naming neither.
leaklab_load_tools() {
    local missing=() lib tool pkg
    command -v make >/dev/null ||
        leaklab_abort "make is missing: sudo apt-get install make, then make deps installs the rest"
    for lib in bats-support bats-assert; do
        bats_load_library_safe "$lib" 2>/dev/null || missing+=("$lib")
    done
    for tool in cc:clang clang:clang gnuplot:gnuplot-nox valgrind:valgrind \
                pdfinfo:poppler-utils xmllint:libxml2-utils patch:patch curl:curl \
                heaptrack:heaptrack; do
        pkg=${tool#*:}
        command -v "${tool%%:*}" >/dev/null || [[ " ${missing[*]} " == *" $pkg "* ]] ||
            missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] ||
        leaklab_abort "missing Debian packages: ${missing[*]}; make deps installs them"
}

# leaklab_build - sets LEAKLAB_ROOT (the clone) and BUILD (the binaries
# under test), both absolute. BUILD is the clone's build/, brought up to
# date by the Makefile's own incremental `make build` once per test file,
# under a lock so that files run in parallel (bats --jobs) build one at a
# time: a fresh clone needs nothing typed, and a source newer than its
# binary is rebuilt before any test runs it. LEAKLAB_BUILD names another
# build instead (make sanitize's build/asan, make tsan's build/tsan, made
# with flags only their targets know): it must exist and be up to date.
# Any other case stops the file with one line, never a build in /.
leaklab_build() {
    LEAKLAB_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd) && [[ -f $LEAKLAB_ROOT/Makefile ]] ||
        leaklab_abort "no Makefile above $BATS_TEST_DIRNAME: run the tests inside the clone's labs/"
    BUILD=$(realpath -m -- "${LEAKLAB_BUILD:-$LEAKLAB_ROOT/build}") && [[ $BUILD == /?* ]] ||
        leaklab_abort "LEAKLAB_BUILD='$LEAKLAB_BUILD' names no build directory"
    local checked=$BATS_FILE_TMPDIR/leaklab-build-checked
    local log=$BATS_FILE_TMPDIR/leaklab-build.log
    [[ ! -e $checked ]] || return 0
    if [[ $BUILD == "$LEAKLAB_ROOT/build" ]]; then
        flock "$LEAKLAB_ROOT/Makefile" \
            make -C "$LEAKLAB_ROOT" --no-print-directory build >"$log" 2>&1 || {
            cat "$log" >&2
            leaklab_abort "make build failed in $LEAKLAB_ROOT (its output is above)"
        }
    else
        [[ -x $BUILD/leaklab ]] ||
            leaklab_abort "LEAKLAB_BUILD=$LEAKLAB_BUILD has no leaklab: unset it, or build it first (make sanitize: build/asan, make tsan: build/tsan)"
        # make -q: are the binaries there at least as new as what they
        # are made from? Inside the clone, BUILD goes to make as make
        # wrote it (relative), so that the header dependencies apply.
        local dir=${BUILD#"$LEAKLAB_ROOT"/} targets=() f rc=0
        for f in "$BUILD"/lab[0-9]* "$BUILD"/leaklab "$BUILD"/bench-* "$BUILD"/*.so; do
            if [[ -f $f && $f != *.d ]]; then targets+=("$dir/${f##*/}"); fi
        done
        make -C "$LEAKLAB_ROOT" -q BUILD="$dir" "${targets[@]}" >"$log" 2>&1 || rc=$?
        [[ $rc -ne 2 ]] || { cat "$log" >&2; leaklab_abort "make -q failed in $LEAKLAB_ROOT"; }
        [[ $rc -eq 0 ]] ||
            leaklab_abort "LEAKLAB_BUILD=$LEAKLAB_BUILD is older than its sources: rebuild it (make sanitize, make tsan), or unset it"
    fi
    : >"$checked"
}

leaklab_load_tools
leaklab_build

# MAKE_BUILD - BUILD as the Makefile should be given it: relative to the
# clone when it is inside it, since make cannot name a target whose path
# holds a space, and a clone's path may.
# shellcheck disable=SC2034  # read by the .bats files
MAKE_BUILD=${BUILD#"$LEAKLAB_ROOT"/}

# classroom_out - every lab run at classroom sizes and the deck drawn
# (make slides), once per bats run, into a directory the test files that
# read charts share (slides.bats, charts.bats): running every lab is the
# slowest thing the suite does, and its records are only read. Prints the
# directory; fails, with make's output on fd 3, if make fails.
classroom_out() {
    local dir=$BATS_RUN_TMPDIR/classroom
    (
        flock 9
        [[ -e $dir/.done ]] && exit 0
        rm -rf "$dir"
        make -s --no-print-directory -C "$LEAKLAB_ROOT" BUILD="$MAKE_BUILD" \
            OUT="$dir" slides >"$dir.log" 2>&1 || { cat "$dir.log" >&3; exit 1; }
        touch "$dir/.done"
    ) 9>"$BATS_RUN_TMPDIR/classroom.lock" || return 1
    printf '%s\n' "$dir"
}

# preload SO - the path to give LD_PRELOAD for build/SO. LD_PRELOAD splits
# its list at spaces and colons, so a shim under a clone whose path holds
# either is first copied into the test's own temporary directory.
preload() {
    local so=$BUILD/$1
    if [[ $so == *[\ :]* ]]; then
        cp -- "$so" "$BATS_TEST_TMPDIR/$1"
        so=$BATS_TEST_TMPDIR/$1
    fi
    printf '%s\n' "$so"
}

# --------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------

# run_lab N [LAB ARGS...] - runs build/labN quietly with a TSV of its own.
# Sets TSV; leaves status and output as bats' `run` does.
run_lab() {
    local n=$1; shift
    TSV=$BATS_TEST_TMPDIR/lab$n-$BATS_TEST_NUMBER-$RANDOM.tsv
    run "$BUILD/lab$n" --quiet --tsv "$TSV" "$@"
}

# leaklab_run N MODE [RUNNER ARGS...] [-- LAB ARGS...] - one run through
# the runner, records under $BATS_TEST_TMPDIR/out. Sets TSV and META.
leaklab_run() {
    local n=$1 mode=$2; shift 2
    local out=$BATS_TEST_TMPDIR/out
    TSV=$out/lab$n/$mode.tsv
    # shellcheck disable=SC2034  # for the caller, as TSV is
    META=$out/lab$n/$mode.meta
    run "$BUILD/leaklab" run "$n" --mode "$mode" --quiet --out "$out" "$@"
}

# start_long_run - a lab1 run through the runner, in the background, that
# would take minutes; returns once the lab has written rows. Records under
# $BATS_TEST_TMPDIR/out. Sets RUNNER and LAB (their pids). Call
# stop_long_run from teardown.
start_long_run() {
    "$BUILD/leaklab" run 1 --mode release --quiet --out "$BATS_TEST_TMPDIR/out" \
        -- --iterations 100000000 --size 4K 3>&- &
    RUNNER=$!
    wait_until has_rows "$BATS_TEST_TMPDIR/out/lab1/release.tsv" 10
    LAB=$(pgrep -P "$RUNNER")
    [[ -n $LAB ]] || fail "no lab under the runner"
}

# stop_long_run - for teardown: SIGINT takes the runner and its lab down,
# SIGCONT lets a stopped one see it; a lab that outlived its runner (the
# bug a test caught) is killed by its pid.
stop_long_run() {
    [[ -n ${RUNNER:-} ]] || return 0
    kill -INT "$RUNNER" 2>/dev/null || true
    kill -CONT "$RUNNER" 2>/dev/null || true
    wait "$RUNNER" 2>/dev/null || true
    [[ -z ${LAB:-} ]] || is_gone "$LAB" || kill -KILL "$LAB" 2>/dev/null || true
}

# is_gone PID - no such process, or only its zombie (dead, holding no
# memory, waiting for whoever reaps orphans).
is_gone() {
    [[ ! -e /proc/$1/stat ]] || [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]
}

# run_memcheck N [LAB ARGS...] - runs build/labN under Valgrind memcheck
# with a full leak check. Sets VGLOG to its report. Memory errors make
# `status` 99; leaks do not (read them with leak_bytes).
run_memcheck() {
    local n=$1; shift
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    VGLOG=$BATS_TEST_TMPDIR/memcheck-$n-$BATS_TEST_NUMBER.log
    run valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all \
        --errors-for-leak-kinds=none --error-exitcode=99 \
        --log-file="$VGLOG" "$BUILD/lab$n" --quiet "$@"
}

# skip_if_sanitized REASON - under `make sanitize` the allocator is ASan's:
# malloc's own numbers (mallinfo2) and Valgrind mean nothing there.
skip_if_sanitized() {
    [[ -z ${LEAKLAB_SANITIZER:-} ]] || skip "$1"
}

# expected_rlimit_kind - "rlimit", or "kill" under ASan (see leaklab.c).
expected_rlimit_kind() {
    [[ ${LEAKLAB_SANITIZER:-} == address ]] && echo kill || echo rlimit
}

# kib SIZE - a size such as 64K or 1M, in KiB (numfmt does the parsing).
kib() {
    echo $(( $(numfmt --from=iec "$1") / 1024 ))
}

# --------------------------------------------------------------------------
# Reading records
# --------------------------------------------------------------------------

# tsv_column FILE COLUMN - the column's values, one per data row. Every
# value is a number (digits, a sign, one decimal point) or the function
# stops there, saying so on stderr, and fails: the tests put these values
# in $(( )), and bash would run a command hidden in a record's field.
tsv_column() {
    awk -F'\t' -v want="$2" '
        /^#/ { next }
        !hdr { for (i = 1; i <= NF; i++) if ($i == want) c = i; hdr = 1
               if (!c) { print "no column " want > "/dev/stderr"; exit 1 }
               next }
        $c !~ /^-?[0-9]+(\.[0-9]+)?$/ {
               print FILENAME ": " want " is not a number: " $c > "/dev/stderr"; exit 1 }
        { print $c }' "$1"
}

# tsv_columns FILE COLUMN... - the named columns of each data row, tab-
# separated, in the order named: for comparing two runs row for row.
tsv_columns() {
    local file=$1; shift
    awk -F'\t' -v OFS='\t' -v want="$*" '
        BEGIN { n = split(want, w, " ") }
        /^#/ { next }
        !hdr { for (i = 1; i <= NF; i++) col[$i] = i; hdr = 1; next }
        { line = $col[w[1]]; for (i = 2; i <= n; i++) line = line OFS $col[w[i]]; print line }' "$file"
}

# tsv_header FILE - the header row: the first line that is not a comment.
tsv_header() {
    awk '!/^#/ { print; exit }' "$1"
}

# tsv_rows FILE - how many data rows.
tsv_rows() {
    awk '!/^#/ { n++ } END { print (n ? n - 1 : 0) }' "$1"
}

# has_rows FILE N - FILE exists and has at least N data rows.
has_rows() {
    [[ -e $1 ]] && (( $(tsv_rows "$1") >= $2 ))
}

# wait_until COMMAND... - runs COMMAND every 10 ms until it succeeds; fails
# the test after 1000 tries. For a background run to reach a state (rows
# written, a process stopped); what the test asserts is the state, never
# how long it took.
wait_until() {
    local tries=0
    until "$@"; do
        (( ++tries < 1000 )) || fail "gave up waiting for: $*"
        sleep 0.01
    done
}

# meta_value FILE KEY - one value from a runner's .meta.
meta_value() {
    sed -n "s/^$2=//p" "$1" | head -n 1
}

# meta_number META KEY - KEY's value in META when it is a number (for
# $(( ))); otherwise nothing, a line on stderr, and a failure.
meta_number() {
    local v
    v=$(meta_value "$1" "$2")
    [[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || { echo "$1: $2 is not a number: '$v'" >&2; return 1; }
    printf '%s\n' "$v"
}

# tsv_stats FILE COLUMN [FROM] - "rows first last min max slope" over the
# rows from iteration FROM on (default 1: iteration 0 is the baseline
# before any work); slope is the least-squares growth per iteration.
tsv_stats() {
    awk -F'\t' -v want="$2" -v from="${3:-1}" '
        /^#/ { next }
        !hdr { for (i = 1; i <= NF; i++) { if ($i == want) c = i; if ($i == "iter") it = i }
               if (!c) { print "no column " want > "/dev/stderr"; exit 1 }
               hdr = 1; next }
        NR && $it >= from + 0 {
            x = $it; y = $c; n++
            if (n == 1) { first = y; min = y; max = y }
            last = y; if (y < min) min = y; if (y > max) max = y
            sx += x; sy += y; sxx += x * x; sxy += x * y
        }
        END {
            d = n * sxx - sx * sx
            printf "%d %s %s %s %s %.3f\n", n, first, last, min, max,
                   (d > 0 ? (n * sxy - sx * sy) / d : 0)
        }' "$1"
}

# leak_bytes VGLOG KIND - bytes Valgrind put under KIND ("definitely lost",
# "still reachable", ...); 0 when it says no leaks are possible.
leak_bytes() {
    if grep -q 'All heap blocks were freed -- no leaks are possible' "$1"; then
        echo 0
        return
    fi
    sed -n "s/.*$2: \([0-9,]*\) bytes in.*/\1/p" "$1" | tr -d , | head -n 1 |
        grep . || echo 0
}

# --------------------------------------------------------------------------
# Memory assertions
# --------------------------------------------------------------------------

# assert_grows_per_iter FILE COLUMN MIN_KIB - the column rises by at least
# MIN_KIB per iteration (least-squares slope from iteration 1 on).
assert_grows_per_iter() {
    local n slope
    read -r n _ _ _ _ slope < <(tsv_stats "$1" "$2")
    awk -v s="$slope" -v m="$3" 'BEGIN { exit !(s >= m) }' ||
        fail "$2 grows by $slope KiB per iteration; expected at least $3 (over $n rows of $1)"
}

# assert_slope_between FILE COLUMN LO_KIB HI_KIB - growth per iteration
# (least-squares) lies in [LO, HI].
assert_slope_between() {
    local n slope
    read -r n _ _ _ _ slope < <(tsv_stats "$1" "$2")
    awk -v s="$slope" -v lo="$3" -v hi="$4" 'BEGIN { exit !(s >= lo && s <= hi) }' ||
        fail "$2 grows by $slope KiB per iteration; expected between $3 and $4 (over $n rows of $1)"
}

# assert_flat FILE COLUMN TOL_KIB - from iteration 1 on, the column stays
# within TOL_KIB of itself (max - min).
assert_flat() {
    local n min max
    read -r n _ _ min max _ < <(tsv_stats "$1" "$2")
    [[ $n -gt 0 ]] || fail "$1 has no rows after the baseline"
    (( max - min <= $3 )) ||
        fail "$2 moves by $((max - min)) KiB (from $min to $max); expected at most $3 (over $n rows of $1)"
}

# assert_flat_from FILE COLUMN FROM TOL_KIB - as assert_flat, over the rows
# from iteration FROM on: for a run that fills up first (a warm-up), then
# holds.
assert_flat_from() {
    local n min max
    read -r n _ _ min max _ < <(tsv_stats "$1" "$2" "$3")
    [[ $n -gt 0 ]] || fail "$1 has no rows from iteration $3 on"
    (( max - min <= $4 )) ||
        fail "$2 moves by $((max - min)) KiB (from $min to $max) from iteration $3 on; expected at most $4 (over $n rows of $1)"
}

# assert_slope_from FILE COLUMN FROM LO_KIB HI_KIB - growth per iteration
# (least-squares) over the rows from iteration FROM on lies in [LO, HI].
assert_slope_from() {
    local n slope
    read -r n _ _ _ _ slope < <(tsv_stats "$1" "$2" "$3")
    awk -v s="$slope" -v lo="$4" -v hi="$5" 'BEGIN { exit !(s >= lo && s <= hi) }' ||
        fail "$2 grows by $slope KiB per iteration from iteration $3 on; expected between $4 and $5 (over $n rows of $1)"
}

# assert_growth_below FILE COLUMN KIB - last row minus the baseline row
# (iteration 0) is below KIB.
assert_growth_below() {
    local g
    g=$(growth "$1" "$2")
    (( g < $3 )) || fail "$2 grew by $g KiB over the run; expected less than $3 ($1)"
}

# assert_growth_at_least FILE COLUMN KIB - last row minus baseline >= KIB.
assert_growth_at_least() {
    local g
    g=$(growth "$1" "$2")
    (( g >= $3 )) || fail "$2 grew by $g KiB over the run; expected at least $3 ($1)"
}

# growth FILE COLUMN - last value minus first (the baseline), in KiB.
growth() {
    local values
    values=$(tsv_column "$1" "$2")
    echo $(( $(tail -n 1 <<<"$values") - $(head -n 1 <<<"$values") ))
}

# assert_peak_below FILE COLUMN KIB - no row reaches KIB.
assert_peak_below() {
    local peak
    peak=$(max_value "$1" "$2")
    (( peak < $3 )) || fail "$2 peaked at $peak KiB; expected below $3 ($1)"
}

# assert_every_row FILE 'EXPRESSION' - an awk expression over the column
# names holds on every data row, e.g. 'produced == consumed + depth'.
assert_every_row() {
    local header prog="" i=1 col bad
    header=$(tsv_header "$1")
    for col in $header; do prog+="$col = \$$i; "; i=$((i + 1)); done
    bad=$(awk -F'\t' "/^#/ { next } !hdr { hdr = 1; next }
                      { $prog if (!($2)) print \"row \" NR \": \" \$0 }" "$1")
    [[ -n $header ]] || fail "$1 has no header"
    [[ -z $bad ]] || fail "not on every row of $1: $2
$(head -n 5 <<<"$bad")"
}

# assert_rows_whole FILE - every data row has every column, all numbers:
# what a crash or a SIGKILL must never break.
assert_rows_whole() {
    local bad
    bad=$(awk -F'\t' '
        /^#/ { next }
        !hdr { n = NF; hdr = 1; next }
        NF != n { print "row " NR " has " NF " fields, not " n; next }
        { for (i = 1; i <= NF; i++) if ($i !~ /^-?[0-9]+(\.[0-9]+)?$/) { print "row " NR ": " $0; next } }
        END { if (!hdr) print "no header" }' "$1")
    [[ -z $bad ]] || fail "torn rows in $1: $bad"
}

# assert_meta FILE KEY VALUE - the runner recorded KEY=VALUE.
assert_meta() {
    local got
    got=$(meta_value "$1" "$2")
    [[ $got == "$3" ]] || fail "$1: $2=$got; expected $2=$3
$(cat "$1")"
}

# assert_killed_near_cap META CAP_KIB BELOW_KIB ABOVE_KIB - the kill
# watchdog ended the run (verdict=killed, SIGKILL) once it saw rss over the
# cap, and wait4's peak lies within [cap - BELOW, cap + ABOVE]. The two are
# readings of the kernel's batched rss counter, taken at different moments:
# the watchdog's is over the cap by construction; the peak, read at exit,
# can come in a little under it (LESSONS, chapter 0).
assert_killed_near_cap() {
    local meta=$1 cap=$2 below=$3 above=$4 seen peak
    # Each check returns on failure, so that the helper fails under `run`
    # too, where bats does not stop at the first failing line.
    assert_meta "$meta" verdict killed || return
    assert_meta "$meta" signal_name SIGKILL || return
    assert_meta "$meta" killed_by watchdog || return
    seen=$(meta_number "$meta" watchdog_rss_kib) && peak=$(meta_number "$meta" peak_rss_kib) ||
        fail "$meta: no watchdog_rss_kib and peak_rss_kib to compare" || return
    (( seen > cap )) ||
        fail "the watchdog killed at $seen KiB, not over the $cap KiB cap" || return
    (( peak >= cap - below && peak <= cap + above )) ||
        fail "peak rss $peak KiB; expected within $below KiB under and $above KiB over the $cap KiB cap"
}

# assert_leak KIND VGLOG [MIN_BYTES] - Valgrind put at least MIN_BYTES
# (default 1) under KIND.
assert_leak() {
    local b
    b=$(leak_bytes "$2" "$1")
    (( b >= ${3:-1} )) || fail "Valgrind reports $b bytes $1; expected at least ${3:-1} ($2)"
}

# refute_leak KIND VGLOG - Valgrind put nothing under KIND.
refute_leak() {
    local b
    b=$(leak_bytes "$2" "$1")
    (( b == 0 )) || fail "Valgrind reports $b bytes $1; expected none ($2)"
}

# assert_memcheck_clean VGLOG - no invalid reads, writes or frees.
assert_memcheck_clean() {
    grep -q 'ERROR SUMMARY: 0 errors' "$1" ||
        fail "memcheck found errors: $(grep 'ERROR SUMMARY' "$1")"
}

# --------------------------------------------------------------------------
# Labs 4 and 5: rows, files and error lines
# --------------------------------------------------------------------------

# last_value FILE COLUMN - the column's value on the last data row.
last_value() {
    local -
    set -o pipefail   # a field that is not a number fails it (tsv_column)
    tsv_column "$1" "$2" | tail -n 1
}

# max_value FILE COLUMN - the column's largest value over all data rows.
max_value() {
    local -
    set -o pipefail   # a field that is not a number fails it (tsv_column)
    tsv_column "$1" "$2" | sort -n | tail -n 1
}

# assert_same_rows FILE1 FILE2 COLUMNS - two runs recorded the same values
# in COLUMNS (comma-separated names), row for row: what a run that does not
# depend on the scheduler or the clock must do.
assert_same_rows() {
    local a b col
    for col in ${3//,/ }; do
        a=$(tsv_column "$1" "$col") || return
        b=$(tsv_column "$2" "$col") || return
        [[ $a == "$b" ]] || fail "column $col differs between $1 and $2:
$(diff <(echo "$a") <(echo "$b") | head -n 6)"
    done
}

# assert_same_file EXPECTED ACTUAL - byte for byte (cmp), sizes included.
assert_same_file() {
    [[ -e $2 ]] || fail "$2 does not exist"
    cmp "$1" "$2" >/dev/null 2>&1 ||
        fail "$2 differs from $1: $(cmp "$1" "$2" 2>&1 | head -n 1) ($(stat -c %s "$1") vs $(stat -c %s "$2") bytes)"
}

# assert_error_line PATH TEXT - after `run --separate-stderr`: exit 1, and
# stderr is exactly one line naming PATH and TEXT (a strerror message).
assert_error_line() {
    assert_failure 1
    local n
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    n=$(printf '%s' "$stderr" | grep -c '')
    [[ $n -eq 1 ]] || fail "expected one line on stderr, got $n:
$stderr"
    [[ $stderr == *"$1: $2"* ]] || fail "expected '$1: $2' on stderr, got: $stderr"
}

# assert_bad_argument VALUE COMMAND... - COMMAND exits 2 with one line on
# stderr, and the line names VALUE (empty: any line will do).
assert_bad_argument() {
    local value=$1; shift
    run --separate-stderr "$@"
    assert_failure 2
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "${#stderr_lines[@]}" 1
    [[ $stderr == *"$value"* ]] || fail "$*: '$stderr' does not name $value"
}

# --------------------------------------------------------------------------
# Charts, slides and documents (slides.bats)
# --------------------------------------------------------------------------

# png_size FILE - "WIDTH HEIGHT" from the PNG's IHDR chunk (bytes 16-23,
# two big-endian 32-bit numbers).
png_size() {
    od -An -tu1 -j16 -N8 "$1" |
        awk '{ printf "%d %d\n", (($1 * 256 + $2) * 256 + $3) * 256 + $4,
                                 (($5 * 256 + $6) * 256 + $7) * 256 + $8 }'
}

# assert_png_size FILE WIDTH HEIGHT
assert_png_size() {
    [[ -s $1 ]] || fail "$1 is missing or empty"
    local size
    size=$(png_size "$1")
    [[ $size == "$2 $3" ]] || fail "$1 is ${size/ /x}; expected $2x$3"
}

# pdf_pages FILE - how many pages pdfinfo counts.
pdf_pages() {
    pdfinfo "$1" | awk '/^Pages:/ { print $2 }'
}

# --------------------------------------------------------------------------
# Growth per step and walls (labs 2 and 3)
# --------------------------------------------------------------------------

# assert_step FILE COLUMN KIB PCT - the column grows by KIB per iteration
# (least-squares slope from iteration 1 on), within PCT percent of it.
assert_step() {
    local n slope
    read -r n _ _ _ _ slope < <(tsv_stats "$1" "$2")
    [[ $n -ge 2 ]] || fail "$1 has $n rows after the baseline; a step needs 2"
    awk -v s="$slope" -v k="$3" -v p="$4" 'BEGIN { d = s - k; if (d < 0) d = -d; exit !(d <= k * p / 100) }' ||
        fail "$2 grows by $slope KiB per iteration; expected $3 within $4% (over $n rows of $1)"
}

# assert_within A B PCT WHAT - A lies within PCT percent of B (of its
# size, when B is negative). WHAT names A in the failure.
assert_within() {
    awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d
                                             exit !(d <= (b < 0 ? -b : b) * p / 100) }' ||
        fail "$4: $1 is not within $3% of $2"
}

# last_iter FILE - the iteration of the last whole row.
last_iter() {
    local -
    set -o pipefail   # a field that is not a number fails it (tsv_column)
    tsv_column "$1" iter | tail -n 1
}

# wall_iteration TEXT - the N in the "iteration N" a lab's wall message
# names (labs 2 and 3), or nothing.
wall_iteration() {
    sed -n 's/.*iteration \([0-9][0-9]*\).*/\1/p' <<<"$1" | head -n 1
}

# --------------------------------------------------------------------------
# Lab 6's redis mode, in C and in Node: a private server, and nothing left
# --------------------------------------------------------------------------

# server_of PID - the redis-server the lab or twin PID started, once it
# runs (its child, by name); nothing if there is none.
server_of() {
    pgrep -P "$1" -x redis-server
}

# assert_no_tmp [WHAT] - nothing left in TMPDIR: no socket, no directory.
# WHAT, if given, leads the failure ("SIGTERM: left in TMPDIR: ...").
assert_no_tmp() {
    [[ -z $(ls -A "$TMPDIR") ]] || fail "${1:+$1: }left in TMPDIR: $(ls -A "$TMPDIR")"
}

# --------------------------------------------------------------------------
# Lab 7's server, in C and in Node: requests, --root, nothing outside it
# --------------------------------------------------------------------------

# start_serve COMMAND... - a lab 7 server (C or Node, --serve) started in
# the background, its stdout in $BATS_TEST_TMPDIR/serve.out and stderr in
# serve.err; returns once it has printed its URL, which must be on
# 127.0.0.1. Sets SERVER (its pid), URL and PORT.
# shellcheck disable=SC2034  # SERVER and PORT are the test's
start_serve() {
    local out=$BATS_TEST_TMPDIR/serve.out
    "$@" >"$out" 2>"$BATS_TEST_TMPDIR/serve.err" 3>&- &
    SERVER=$!
    wait_until grep -q '^listening on ' "$out"
    URL=$(sed -n '1s/^listening on \(http:[^ ]*\)$/\1/p' "$out")
    [[ $URL == http://127.0.0.1:*/ ]] || fail "first line: $(head -n 1 "$out")"
    PORT=${URL##*:} PORT=${PORT%/}
}

# status [CURL ARGS...] PATH - the status code of one request to $URL's
# PATH, sent as typed (no .. squashed); the body goes to $BODY. The test
# file sets URL (from the server's first line) and BODY.
status() {
    local path=${*: -1}
    curl -s --noproxy '*' --path-as-is -o "$BODY" -w '%{http_code}' "${@:1:$#-1}" "${URL%/}$path"
}

SECRET="top secret: not for the web"

# login NAME - logs NAME in; sets SID to the session cookie's value.
login() {
    SID=$(curl -s --noproxy '*' -D - -o /dev/null --data "user=$1&pass=open-sesame" "${URL}login" |
        sed -n 's/^[Ss]et-[Cc]ookie: sid=\([0-9a-f]*\);.*/\1/p')
    [[ ${#SID} -eq 32 ]] || fail "no session cookie for $1"
}

# sockets_on PORT STATE - lines of /proc/net/tcp{,6} for local port PORT in
# STATE (0A listening, 01 established): "address:port".
sockets_on() {
    awk -v p=":$(printf '%04X' "$1")" -v st="$2" '$4 == st && $2 ~ p "$" { print $2 }' /proc/net/tcp /proc/net/tcp6
}

# no_escape - every path in STATIC_ESCAPES (below) gets a 4xx from the
# server at $URL, and no reply holds a byte of make_root's secret; the
# files inside --root are still served.
no_escape() {
    local path code
    for path in "${STATIC_ESCAPES[@]}"; do
        code=$(status "$path")
        [[ $code == 4?? ]] || fail "$path: $code, expected 4xx"
        ! grep -q "secret" "$BODY" || fail "$path: the reply holds the secret"
    done
    assert_equal "$(status "/static/index.txt")" 200
    assert_equal "$(cat "$BODY")" "hello from the root"
    assert_equal "$(status "/static/sub/inner.txt")" 200
}

# make_root - $BATS_TEST_TMPDIR/site/{root,secret.txt}: a root with two
# files and three links, one inside and two leading out, and a secret
# beside it. Sets ROOT.
make_root() {
    local site=$BATS_TEST_TMPDIR/site
    ROOT=$site/root
    mkdir -p "$ROOT/sub"
    echo "$SECRET" >"$site/secret.txt"
    echo "hello from the root" >"$ROOT/index.txt"
    echo "inner page" >"$ROOT/sub/inner.txt"
    ln -s sub/inner.txt "$ROOT/link-in"
    ln -s ../secret.txt "$ROOT/link-out"
    ln -s .. "$ROOT/up"
    ln -s "$site/secret.txt" "$ROOT/abs-out"
}

# The ways out of --root a test of lab 7's router (C and Node) tries: ".."
# as typed, encoded, doubled, cut by the seed's replace('..', ''), with
# other separators, through make_root's links, and absolute.
# shellcheck disable=SC2034  # used by lab7-server.bats and node-lab7.bats
STATIC_ESCAPES=(
    "/static/../secret.txt"
    "/static/sub/../../secret.txt"
    "/static/./../secret.txt"
    "/static/%2e%2e/secret.txt"
    "/static/%2E%2E/secret.txt"
    "/static/.%2e/secret.txt"
    "/static/..%2fsecret.txt"
    "/static/%2e%2e%2fsecret.txt"
    "/static/sub%2f..%2f..%2fsecret.txt"
    "/static/%252e%252e/secret.txt"
    "/static/%252e%252e%252fsecret.txt"
    "/static/..../secret.txt"
    "/static/....//secret.txt"
    "/static/.../.../secret.txt"
    "/static/..\\secret.txt"
    "/static/..%5csecret.txt"
    "/static/sub\\..\\..\\secret.txt"
    "/static/..%5c..%5csecret.txt"
    "/static//etc/passwd"
    "/static/%2fetc%2fpasswd"
    "/static/a%00/../../secret.txt"
    "/static/index.txt%00/../../secret.txt"
    "/static/link-out"
    "/static/up/secret.txt"
    "/static/up/root/../secret.txt"
    "/static/abs-out"
    "/static/sub/../link-out"
    "/static/%2e%2e/root/index.txt"
)
