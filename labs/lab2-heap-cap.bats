#!/usr/bin/env bats
# Lab 2: heap growth to the cap. Each test runs the lab, alone or through
# the runner, and reads the numbers and words it recorded; none of them
# looks at the clock. Classroom sizes: 32 MiB arrays, a 280 MiB budget.

load test_helper
load challenge_checks

SIZE=32M       # one array: 4 Mi elements of 8 bytes
BUDGET=280M    # the classroom --max-heap
STEP=4M        # a smaller array, for tests where only the step matters

# fatal_expected BUDGET SIZE - the iteration whose array would cross the
# budget: floor(budget / size) arrays fit, the next one does not.
fatal_expected() {
    echo $(( $(kib "$1") / $(kib "$2") + 1 ))
}

# --- budget: the program's own wall, as V8's -------------------------------

@test "budget prints the seed's table, then its FATAL line with the totals" {
    # --no-cap: no line about the cap a bare run would set (bare.bats)
    run --separate-stderr "$BUILD/lab2" --no-cap --mode budget
    assert_failure 3
    [ "$(grep -cE '^Process: heapTotal [0-9.]+ MB heapUsed [0-9.]+ MB rss [0-9.]+ MB$' <<<"$output")" -eq 9 ]
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "${#stderr_lines[@]}" 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == "lab2: FATAL ERROR: Reached heap limit Allocation failed - heap out of memory (iteration 9: 32.00 MiB requested, 256.00 MiB in use in 8 arrays, budget --max-heap 280.00 MiB)" ]] ||
        fail "unexpected FATAL line: $stderr"
}

@test "budget grows rss by the array size per iteration, within 5%" {
    run_lab 2 --mode budget --size $STEP --max-heap 35M   # 8 fit, as 8 x 32M do
    assert_failure 3
    assert_step "$TSV" rss_kib "$(kib $STEP)" 5
}

@test "budget grows heap_total and heap_used by the array size, within 5%" {
    skip_if_sanitized "heap_total and heap_used come from glibc's malloc, not ASan's"
    run_lab 2 --mode budget --size $STEP --max-heap 35M
    assert_failure 3
    assert_step "$TSV" heap_total_kib "$(kib $STEP)" 5
    assert_step "$TSV" heap_used_kib "$(kib $STEP)" 5
}

@test "budget dies at iteration floor(budget / size) + 1, earlier rows whole" {
    local budget size want
    for pair in "$BUDGET $SIZE" "100M 8M" "96M 32M" "1M 64K"; do
        read -r budget size <<<"$pair"
        want=$(fatal_expected "$budget" "$size")
        run_lab 2 --mode budget --max-heap "$budget" --size "$size" --iterations 100
        assert_failure 3
        assert_output --partial "heap out of memory"
        assert_equal "$(wall_iteration "$output")" "$want"
        assert_rows_whole "$TSV"
        assert_equal "$(last_iter "$TSV")" $(( want - 1 ))
        assert_equal "$(tsv_rows "$TSV")" "$want"   # the baseline + want - 1
    done
}

@test "--preset seed: 160 MiB arrays, 15 iterations, a 1400 MiB budget" {
    run_lab 2 --mode budget --preset seed --iterations 0
    assert_success
    grep -qx '# size=167772160' "$TSV"
    run_lab 2 --mode budget --preset seed --size 8
    assert_success
    grep -qx '# iterations=15' "$TSV"
    # One byte over the seed's budget fails at once, touching nothing.
    run_lab 2 --mode budget --preset seed --size 1401M
    assert_failure 3
    assert_output --partial "budget --max-heap 1400.00 MiB"
    assert_equal "$(wall_iteration "$output")" 1
}

@test "a bad --preset, --max-heap or --size is exit 2 naming the value" {
    for bad in "--preset=huge:huge" "--max-heap=lots:lots" "--max-heap=0:0" "--size=12:12"; do
        assert_bad_argument "${bad#*:}" "$BUILD/lab2" "${bad%%:*}"
    done
}

# --- rlimit and kill: the walls the runner puts up ---------------------------

@test "--describe: rlimit mode asks for an rlimit cap, kill mode for kill" {
    run "$BUILD/lab2" --describe
    assert_success
    assert_output --partial "cap_kind.rlimit=rlimit"
    assert_output --partial "cap_kind.kill=kill"
}

@test "rlimit at --cap 256M: malloc returns NULL, exit 3, verdict=limit" {
    skip_if_sanitized "RLIMIT_AS cannot cap ASan, which reserves terabytes"
    leaklab_run 2 rlimit --cap 256M
    assert_success
    assert_meta "$META" cap_kind rlimit
    assert_meta "$META" exit_code 3
    assert_meta "$META" verdict limit
    # It says which request failed and how much it held: every array
    # before that iteration.
    local it log
    log=$(cat "${META%.meta}.log")   # the lab's stderr, kept by the runner
    it=$(wall_iteration "$log")
    [[ -n $it ]] || fail "no iteration in: $log"
    run cat "${META%.meta}.log"
    assert_output --regexp "malloc\(33554432\) for iteration $it returned NULL \(Cannot allocate memory\), holding $(( (it - 1) * 32 )).00 MiB in $(( it - 1 )) arrays"
    assert_equal "$(last_iter "$TSV")" $(( it - 1 ))
    assert_rows_whole "$TSV"
}

@test "kill at --cap 256M: SIGKILL, verdict=killed, peak within one array of the cap" {
    run --separate-stderr "$BUILD/leaklab" run 2 --mode kill --cap 256M --quiet \
        --out "$BATS_TEST_TMPDIR/out"
    assert_success
    META=$BATS_TEST_TMPDIR/out/lab2/kill.meta
    assert_meta "$META" cap_kind kill
    assert_killed_near_cap "$META" "$(kib 256M)" "$(kib $SIZE)" "$(kib $SIZE)"   # one array
    assert_equal "$stderr" ""   # nothing printed at death
}

@test "kill: every row written before the SIGKILL is whole, none past one array over the cap" {
    leaklab_run 2 kill --cap 256M
    assert_success
    assert_meta "$META" verdict killed
    assert_rows_whole "$TSV"
    assert_equal "$(tsv_rows "$TSV")" $(( $(last_iter "$TSV") + 1 ))
    # The row of the array that crossed the cap may still get out before
    # the watchdog's next look (every millisecond); no later one can.
    assert_peak_below "$TSV" rss_kib $(( $(kib 256M) + $(kib $SIZE) ))
    (( $(last_iter "$TSV") < 15 )) || fail "the run finished all 15 iterations"
}

# --- lazy: reserved is not resident ------------------------------------------

@test "lazy: heap_total climbs by the array size, rss stays far below it" {
    skip_if_sanitized "heap_total comes from glibc's malloc, not ASan's"
    run_lab 2 --mode lazy
    assert_success
    assert_step "$TSV" heap_total_kib "$(kib $SIZE)" 5
    assert_growth_below "$TSV" rss_kib 1024
    local rss total
    rss=$(last_value "$TSV" rss_kib)
    total=$(last_value "$TSV" heap_total_kib)
    (( rss * 100 < total )) || fail "rss $rss KiB is not far below heap_total $total KiB"
}

@test "lazy survives the kill cap: only resident memory counts there" {
    leaklab_run 2 lazy
    assert_success
    assert_meta "$META" cap_kind kill
    assert_meta "$META" verdict finished
}

@test "lazy under an rlimit still hits the wall: RLIMIT_AS counts reservations" {
    skip_if_sanitized "RLIMIT_AS cannot cap ASan, which reserves terabytes"
    leaklab_run 2 lazy --cap-kind rlimit --cap 128M
    assert_failure 1   # not the verdict lazy expects: the runner says so
    assert_meta "$META" verdict limit
    assert_output --partial "returned NULL"
    (( $(meta_value "$META" peak_rss_kib) < 16384 )) ||
        fail "lazy touched memory: peak rss $(meta_value "$META" peak_rss_kib) KiB"
}

# --- Valgrind ------------------------------------------------------------------

@test "memcheck: every mode, no memory errors, every array still reachable" {
    for mode in budget rlimit kill lazy; do
        run_memcheck 2 --mode $mode --size 64K --iterations 5 --max-heap 200K
        if [[ $mode == budget ]]; then assert_failure 3; else assert_success; fi
        assert_memcheck_clean "$VGLOG"
        refute_leak "definitely lost" "$VGLOG"
        local arrays=5
        [[ $mode == budget ]] && arrays=3   # 3 x 64K fit in 200K
        assert_leak "still reachable" "$VGLOG" $(( arrays * 65536 ))
    done
}

# --- the challenge ---------------------------------------------------------

# The challenge in LESSONS.md, chapter 2: all 15 of the seed's 160 MiB
# arrays, under its 1400 MiB budget. The check is lab2_challenge
# (challenge_checks.bash); challenges.bats shows that it fails for wrong
# answers and passes labs/solutions/lab2-challenge.patch.
@test "challenge: 15 seed iterations under the 1400 MiB budget" {
    [[ -n ${LAB2_CHALLENGE_MODE:-} ]] ||
        skip "set LAB2_CHALLENGE_MODE to your mode (LESSONS.md, Lab 2, Challenge)"
    run lab2_challenge "$LAB2_CHALLENGE_MODE" seed 1400M
    assert_success
}
