#!/usr/bin/env bats
# What the runner and make print: a summary table that reads as success
# when every run ended as its mode expects, with the labs' own words kept
# in the records (MODE.log) instead of in the middle of make's output.

load test_helper

OUT_DIR() { echo "$BATS_TEST_TMPDIR/out"; }

@test "the lab's stderr goes to MODE.log, not to the runner's stderr" {
    skip_if_sanitized "under a sanitizer the runner adds a line about its cap, and rlimit runs are killed instead"
    run --separate-stderr "$BUILD/leaklab" run 2 --mode budget --quiet --out "$(OUT_DIR)"
    assert_success
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" ""
    refute_output --partial "FATAL ERROR"
    grep -q '^lab2: FATAL ERROR: Reached heap limit' "$(OUT_DIR)/lab2/budget.log"
}

@test "the meta's message is the lab's last line on stderr" {
    leaklab_run 2 budget
    assert_success
    [[ $(meta_value "$META" message) == "lab2: FATAL ERROR: Reached heap limit"* ]]
    assert_meta "$META" log "$(OUT_DIR)/lab2/budget.log"
}

@test "--verbose shows what the lab said" {
    skip_if_sanitized "under a sanitizer the runner adds a line about its cap, and rlimit runs are killed instead"
    run --separate-stderr "$BUILD/leaklab" run 2 --mode budget --quiet --verbose --out "$(OUT_DIR)"
    assert_success
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == "lab2: FATAL ERROR: Reached heap limit"* ]] || fail "stderr: $stderr"
}

@test "a run that did not end as expected shows what the lab said" {
    skip_if_sanitized "under a sanitizer the runner adds a line about its cap, and rlimit runs are killed instead"
    run --separate-stderr "$BUILD/leaklab" run 1 --mode retain --cap 16M --quiet --out "$(OUT_DIR)"
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == *"lab1: malloc("*"returned NULL"* ]] || fail "stderr: $stderr"
    assert_line --regexp '^  retain +limit +✗ .*\(expected finished\)$'
}

@test "the summary table has a row per mode with a tick where the verdict is expected" {
    skip_if_sanitized "under a sanitizer the runner adds a line about its cap, and rlimit runs are killed instead"
    run "$BUILD/leaklab" run 2 --quiet --out "$(OUT_DIR)"
    assert_success
    assert_line --index 0 "lab2: heap growth to the cap"
    assert_line --regexp '^  mode +verdict +peak rss  wall met$'
    # The heap grows at every row but rlimit's, which stops too soon for
    # five looks: memwatch's leak signal (harness/hunt.c).
    assert_line --regexp '^  budget +limit +✓ +[0-9.]+ MiB  FATAL: heap out of memory  leak suspected at 5$'
    assert_line --regexp '^  rlimit +limit +✓ +[0-9.]+ MiB  rlimit cap 128 MiB: malloc returned NULL$'
    assert_line --regexp '^  kill +killed +✓ +[0-9.]+ MiB  kill cap 192 MiB \(watchdog saw [0-9.]+ MiB\)  leak suspected at 5$'
    assert_line --regexp '^  lazy +finished +✓ +[0-9.]+ MiB  none \(under kill cap 192 MiB\)  leak suspected at 5$'
    assert_equal "${#lines[@]}" 6
}

@test "the summary table's columns line up with a long mode name" {
    run --separate-stderr "$BUILD/leaklab" run 1 --quiet --out "$(OUT_DIR)" -- --iterations 3
    assert_success
    # Where "MiB" first stands on each row after the heading: one place.
    local cols
    cols=$(printf '%s\n' "${lines[@]:2}" | awk '{ print index($0, "MiB") }' | sort -u)
    assert_equal "$(wc -l <<<"$cols")" 1
    assert_line --regexp '^  sometimes +finished'
}

@test "--fresh removes the last run's records and charts, and nothing else" {
    local d=$BATS_TEST_TMPDIR/out/lab1
    mkdir -p "$d"
    touch "$d/gone.tsv" "$d/gone.meta" "$d/gone.png" "$d/gone.svg" "$d/gone.log" "$d/input.bin"
    mkdir "$d/keep.tsv"   # a directory, not a record
    run "$BUILD/leaklab" run 1 --mode release --quiet --fresh --out "$BATS_TEST_TMPDIR/out" -- --iterations 2
    assert_success
    [[ ! -e $d/gone.tsv && ! -e $d/gone.meta && ! -e $d/gone.png && ! -e $d/gone.svg && ! -e $d/gone.log ]]
    [[ -e $d/input.bin && -d $d/keep.tsv && -s $d/release.tsv ]]
}

@test "without --fresh the runner keeps other modes' records" {
    local d=$BATS_TEST_TMPDIR/out/lab1
    mkdir -p "$d"
    touch "$d/other.tsv"
    run "$BUILD/leaklab" run 1 --mode release --quiet --out "$BATS_TEST_TMPDIR/out" -- --iterations 2
    assert_success
    [[ -e $d/other.tsv ]]
}

@test "make labN echoes no empty -- and prints no lab's words for expected verdicts" {
    command -v gnuplot >/dev/null || skip "no gnuplot"
    run make -C "$LEAKLAB_ROOT" --no-print-directory lab2 OUT="$BATS_TEST_TMPDIR/out" \
        BUILD="$MAKE_BUILD" TEXT_CHARTS=no
    assert_success
    # The table names each wall met; the labs' own words ("FATAL ERROR:
    # Reached heap limit ...", "... (Cannot allocate memory)") stay in
    # the logs.
    refute_output --partial "FATAL ERROR"
    refute_output --partial "Cannot allocate memory"
    refute_output --regexp ' --$'
    assert_line --regexp '^  budget +limit +✓ '
}
