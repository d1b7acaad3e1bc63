#!/usr/bin/env bats
# The shared machinery: the probe's records, the runner's verdicts, and
# every binary's handling of bad arguments. Lab 1 is the test subject.

load test_helper

# --- the probe -------------------------------------------------------------

@test "the TSV opens with # lines: lab, mode, argv, page size, libc, start" {
    run_lab 1 --mode release --iterations 2 --size 64K
    assert_success
    run grep '^#' "$TSV"
    assert_line "# lab=1"
    assert_line "# mode=release"
    assert_line --regexp "^# argv=.*lab1 --quiet --tsv .* --mode release --iterations 2 --size 64K$"
    assert_line "# page_size=$(getconf PAGESIZE)"
    assert_line --regexp '^# libc=glibc [0-9]+\.[0-9]+$'
    assert_line --regexp '^# start=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
}

@test "the TSV header starts with the six common columns" {
    run_lab 1 --mode release --iterations 2 --size 64K
    assert_success
    run tsv_header "$TSV"   # the six, then lab 1's own two
    assert_output "$(printf 'iter\tt_ms\trss_kib\theap_total_kib\theap_used_kib\tmmap_kib\tlisteners\todd_replies')"
}

@test "the TSV has a baseline row and one row per iteration, all whole" {
    run_lab 1 --mode release --iterations 7 --size 64K
    assert_success
    [ "$(tsv_rows "$TSV")" -eq 8 ]
    assert_equal "$(tsv_column "$TSV" iter | tr '\n' ' ')" "0 1 2 3 4 5 6 7 "
    assert_rows_whole "$TSV"
}

@test "rss in the TSV is what /proc/self/statm said: positive, in KiB" {
    run_lab 1 --mode retain --iterations 3 --size 1M
    assert_success
    assert_grows_per_iter "$TSV" rss_kib 1000
    assert_peak_below "$TSV" rss_kib 64000
}

@test "sizes take K, M and G suffixes" {
    run_lab 1 --mode release --iterations 1 --size 64K
    assert_success
    grep -qx '# size=65536' "$TSV"
    run_lab 1 --mode release --iterations 1 --size 2M
    assert_success
    grep -qx '# size=2097152' "$TSV"
    run_lab 1 --mode release --iterations 0 --size 3G   # 0: nothing allocated
    assert_success
    grep -qx '# size=3221225472' "$TSV"
}

@test "a command line too long for the TSV's header is cut, and the rows stay whole" {
    local zeros
    zeros=$(printf '0%.0s' {1..9000})   # --iterations 000...03 is 3
    run_lab 1 --mode release --iterations "${zeros}3" --size 64K
    assert_success
    run tsv_header "$TSV"   # the six, then lab 1's own two
    assert_output "$(printf 'iter\tt_ms\trss_kib\theap_total_kib\theap_used_kib\tmmap_kib\tlisteners\todd_replies')"
    [ "$(tsv_rows "$TSV")" -eq 4 ]
    assert_rows_whole "$TSV"
    (( $(grep '^# argv=' "$TSV" | wc -c) < 8192 )) || fail "the argv line was not cut"
}

@test "LEAKLAB_TSV names the file when --tsv is not given" {
    local file=$BATS_TEST_TMPDIR/from-env.tsv
    LEAKLAB_TSV=$file run "$BUILD/lab1" --quiet --iterations 2 --size 64K
    assert_success
    [ "$(tsv_rows "$file")" -eq 3 ]
}

@test "--tsv wins over LEAKLAB_TSV" {
    local env_file=$BATS_TEST_TMPDIR/env.tsv flag_file=$BATS_TEST_TMPDIR/flag.tsv
    LEAKLAB_TSV=$env_file run "$BUILD/lab1" --quiet --iterations 1 --tsv "$flag_file"
    assert_success
    [ -s "$flag_file" ]
    [ ! -e "$env_file" ]
}

@test "a TSV that cannot be opened is exit 1 with its path and strerror" {
    run --separate-stderr "$BUILD/lab1" --quiet --tsv /nonexistent/dir/x.tsv
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "lab1: /nonexistent/dir/x.tsv: No such file or directory"
}

# Linux stops a write(2) to a file between two pages when SIGKILL comes,
# so a bare lab's last row, if it straddled a page boundary, may be cut
# (seen once in CI, under load): everything before it is whole. The
# runner cuts such a row off (runner.bats).
@test "SIGKILL in the middle of a run leaves whole rows, all but a cut last one" {
    local file=$BATS_TEST_TMPDIR/killed.tsv whole=$BATS_TEST_TMPDIR/whole.tsv
    "$BUILD/lab1" --quiet --mode release --iterations 100000000 --size 4K --tsv "$file" 3>&- &
    local pid=$!
    wait_until has_rows "$file" 2000
    kill -KILL "$pid"
    wait "$pid" || true
    if [[ $(tail -c 1 "$file" | od -An -c | tr -d ' ') == '\n' ]]; then
        cp -- "$file" "$whole"
    else
        sed '$d' "$file" >"$whole"      # the cut row, and only it, goes
    fi
    (( $(tsv_rows "$whole") >= 1999 ))
    assert_rows_whole "$whole"
}

# --- the runner ------------------------------------------------------------

@test "leaklab list shows every lab with its title and modes" {
    run "$BUILD/leaklab" list
    assert_success
    assert_line "$(printf 'lab1\tclosure-captured state\tmodes: retain,lose,release,narrow,sometimes')"
}

@test "a finished run writes its meta with every key" {
    leaklab_run 1 release -- --iterations 3 --size 64K
    assert_success
    assert_meta "$META" verdict finished
    assert_meta "$META" exit_code 0
    assert_meta "$META" lab 1
    assert_meta "$META" mode release
    for key in argv cap_bytes cap_kind peak_rss_kib wall_ms; do
        [ -n "$(meta_value "$META" $key)" ] || fail "no $key in $META"
    done
    [ "$(tsv_rows "$TSV")" -eq 4 ]
}

@test "by default a run is capped with rlimit at min(2 GiB, RAM / 4)" {
    leaklab_run 1 release -- --iterations 1 --size 64K
    assert_success
    local ram quarter
    ram=$(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) ))
    quarter=$(( ram / 4 ))
    assert_meta "$META" cap_kind "$(expected_rlimit_kind)"
    assert_meta "$META" cap_bytes $(( quarter < 2147483648 ? quarter : 2147483648 ))
}

@test "a run that meets the rlimit cap ends verdict=limit" {
    skip_if_sanitized "RLIMIT_AS cannot cap an ASan build"
    leaklab_run 1 retain --cap 48M -- --iterations 200 --size 1M
    assert_failure 1   # retain expects to finish under its classroom cap
    assert_meta "$META" verdict limit
    assert_meta "$META" exit_code 3
    assert_rows_whole "$TSV"
}

@test "a run over the kill cap is SIGKILLed: verdict=killed, peak near the cap" {
    leaklab_run 1 retain --cap-kind kill --cap 32M -- --iterations 200 --size 1M
    assert_failure 1   # retain expects to finish under its classroom cap
    # Peak: at most one iteration (1 MiB) under the cap, at most 8 MiB over.
    assert_killed_near_cap "$META" "$(kib 32M)" 1024 $(( 8 * 1024 ))
    local saw   # the summary gives the watchdog's reading, as recorded
    saw=$(awk -v k="$(meta_number "$META" watchdog_rss_kib)" 'BEGIN { printf "%.1f", k / 1024 }')
    assert_output --regexp "retain +killed +✗ +[0-9.]+ MiB  kill cap 32 MiB \(watchdog saw ${saw//./\\.} MiB\)(  leak suspected at [0-9]+)?  \(expected finished\)"
    assert_rows_whole "$TSV"
}

@test "assert_killed_near_cap fails a peak outside its band, or a kill under the cap" {
    local m=$BATS_TEST_TMPDIR/killed.meta
    printf '%s\n' verdict=killed signal_name=SIGKILL killed_by=watchdog \
        watchdog_rss_kib=33000 peak_rss_kib=32900 >"$m"
    assert_killed_near_cap "$m" 32768 1024 1024
    run assert_killed_near_cap "$m" 34000 8192 8192   # the watchdog read 33000
    assert_failure
    run assert_killed_near_cap "$m" 31000 1024 1024   # the peak is 1900 over
    assert_failure
    run assert_killed_near_cap "$m" 32950 0 8192      # the peak is 50 under
    assert_failure
}

@test "an ASan build is capped by the kill watchdog, since RLIMIT_AS cannot" {
    [[ -n ${LEAKLAB_SANITIZER:-} ]] || skip "only under make sanitize"
    run --separate-stderr "$BUILD/leaklab" run 1 --mode retain --cap 48M --quiet \
        --out "$BATS_TEST_TMPDIR/out" -- --iterations 200 --size 1M
    assert_failure 1   # retain expects to finish under its classroom cap
    [[ $stderr == *"RLIMIT_AS cannot cap it"* ]]
    META=$BATS_TEST_TMPDIR/out/lab1/retain.meta
    assert_meta "$META" cap_kind kill
    assert_meta "$META" verdict killed
}

@test "a run past --timeout is killed with its group: verdict=timeout" {
    leaklab_run 1 release --timeout 1 -- --iterations 100000000 --size 4K
    assert_failure 1   # release expects to finish
    assert_meta "$META" verdict timeout
    assert_meta "$META" signal_name SIGKILL
    assert_rows_whole "$TSV"
}

@test "a lab that fails before its first row leaves no TSV from an earlier run" {
    leaklab_run 1 release -- --iterations 2 --size 64K
    assert_success
    [ -s "$TSV" ]
    leaklab_run 1 release -- --bogus
    assert_failure 2
    [ ! -e "$META" ] || fail "a meta for a run that never was: $(cat "$META")"
    [ ! -e "$TSV" ] || fail "last run's $TSV is still there"
}

# A test that fails halfway must not leave its background run behind.
teardown() { stop_long_run; }

# is_stopped PID - its state in /proc/PID/stat is T (stopped by a signal).
is_stopped() { [[ $(awk '{ print $3 }' "/proc/$1/stat") == T ]]; }
is_running() { ! is_stopped "$1"; }

@test "Ctrl-C (SIGINT) to the runner kills the lab too, and writes no meta" {
    start_long_run
    kill -INT "$RUNNER"
    local rc=0
    wait "$RUNNER" || rc=$?
    assert_equal "$rc" 130
    ! kill -0 "$LAB" 2>/dev/null || fail "the lab ($LAB) outlived the runner"
    [ ! -e "$BATS_TEST_TMPDIR/out/lab1/release.meta" ]
}

@test "Ctrl-Z (SIGTSTP) to the runner stops the lab too; SIGCONT resumes both" {
    start_long_run
    kill -TSTP "$RUNNER"
    wait_until is_stopped "$LAB"
    kill -CONT "$RUNNER"
    wait_until is_running "$LAB"
}

@test "--cap-kind none must be asked for, and then caps nothing" {
    leaklab_run 1 release --cap-kind none -- --iterations 1 --size 64K
    assert_success
    assert_meta "$META" cap_kind none
    assert_meta "$META" cap_bytes 0
}

@test "a cap larger than the machine can give is refused, not raised" {
    run --separate-stderr "$BUILD/leaklab" run 1 --mode release --cap 64T --out "$BATS_TEST_TMPDIR/out"
    assert_failure 2
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "${#stderr_lines[@]}" 1
    [[ $stderr == *"more than this machine can give"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/out/lab1/release.meta" ]
}

@test "leaklab run without --mode runs every mode in turn" {
    run "$BUILD/leaklab" run 1 --quiet --out "$BATS_TEST_TMPDIR/out" -- --iterations 2 --size 64K
    assert_success
    for mode in retain lose release narrow sometimes; do
        assert_meta "$BATS_TEST_TMPDIR/out/lab1/$mode.meta" verdict finished
    done
}

# --- every binary's command line -------------------------------------------

# binaries, labs - fill the array bins with the built programs (a clone's
# path may hold spaces, so no word splitting).
binaries() { bins=(); local f; for f in "$BUILD"/lab[0-9]* "$BUILD/leaklab" "$BUILD/bench-probe" "$BUILD/bench-run"; do [[ $f == *.d ]] || bins+=("$f"); done; }
labs() { bins=(); local f; for f in "$BUILD"/lab[0-9]*; do [[ $f == *.d ]] || bins+=("$f"); done; }

@test "every binary answers --help with exit 0 and a usage line" {
    local bins bin
    binaries
    for bin in "${bins[@]}"; do
        run "$bin" --help
        assert_success
        assert_line --partial "Usage: $(basename "$bin")"
    done
}

@test "every lab describes itself in one line the runner can read" {
    local bins bin
    labs
    for bin in "${bins[@]}"; do
        run "$bin" --describe
        assert_success
        assert_equal "${#lines[@]}" 1
        assert_output --regexp "^lab=[0-9]+	title=[^	]+	.*modes=[a-z,]+"
        for mode in $(tr '\t' '\n' <<<"$output" | sed -n 's/^modes=//p' | tr , ' '); do
            assert_output --regexp "cap_kind\.$mode=(rlimit|kill)"
        done
    done
}

@test "every lab turns a bad argument into exit 2 and one line naming it" {
    local bins bin
    binaries
    for bin in "${bins[@]}"; do
        [[ $(basename "$bin") == leaklab || $(basename "$bin") == bench-run ]] &&
            continue   # their own command lines: tested below
        for bad in "--mode=nosuch:nosuch" "--size=12Q:12Q" \
                   "--size=99999999999G:99999999999G" "--iterations=-1:-1" \
                   "--size=9223372036854775808:9223372036854775808" \
                   "--bogus:--bogus" "--size:--size"; do
            assert_bad_argument "${bad#*:}" "$bin" "${bad%%:*}"
        done
        assert_bad_argument "" "$bin" a b c
    done
}

@test "leaklab turns a bad argument into exit 2 and one line naming it" {
    local bad
    for bad in "run 1 --cap 12Q:12Q" "run 1 --cap-kind bogus:bogus" \
               "run nosuch:nosuch" "run 99:99" "run 1 --mode nosuch:nosuch" \
               "run 1 --timeout 0:0" "frob:frob" "run 1 --cap 99999999999G:99999999999G"; do
        # shellcheck disable=SC2086 # the words of one command line
        assert_bad_argument "${bad#*:}" "$BUILD/leaklab" ${bad%%:*} --out "$BATS_TEST_TMPDIR/out"
    done
}

@test "bench-run turns a bad argument into exit 2 and one line naming it" {
    assert_bad_argument 12Q "$BUILD/bench-run" --cap 12Q true
    assert_bad_argument --frob "$BUILD/bench-run" --frob true
    assert_bad_argument CMD "$BUILD/bench-run"
}

@test "bench-run caps its command like the runner: RLIMIT_AS makes malloc fail" {
    skip_if_sanitized "RLIMIT_AS cannot cap an ASan build"
    run --separate-stderr "$BUILD/bench-run" --cap 48M "$BUILD/lab1" --quiet --mode retain --iterations 200
    assert_failure 3
    [[ $stderr == *"returned NULL"* ]] || fail "stderr: $stderr"
    run "$BUILD/bench-run" --no-cap "$BUILD/lab1" --quiet --mode retain --iterations 60
    assert_success
}
