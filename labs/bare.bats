#!/usr/bin/env bats
# Labs run by hand ("bare"), without the runner: how a command line names
# a bad option.

load test_helper

# lab_binaries - every build/labN, and bench-probe, which parses the same
# command line (lab_parse), into the array BINS.
lab_binaries() {
    local f
    BINS=()
    for f in "$BUILD"/lab[0-9]* "$BUILD/bench-probe"; do
        [[ $f == *.d ]] || BINS+=("$f")
    done
}

# --- a bad option, named as it was typed -------------------------------------

@test "--quiet=1 is reported as --quiet, not -q, by every lab and bench-probe" {
    local bin
    lab_binaries
    for bin in "${BINS[@]}"; do
        assert_bad_argument "option '--quiet' takes no value" "$bin" --quiet=1
    done
}

@test "--describe=1 is reported as --describe, and no message holds a byte the user did not type" {
    local bin
    lab_binaries
    for bin in "${BINS[@]}"; do
        assert_bad_argument "option '--describe' takes no value" "$bin" --describe=1
        ! LC_ALL=C grep -q $'[\x80-\xff]' <<<"$stderr" || fail "$bin: a raw byte in: $stderr"
    done
    # What the user typed comes back whole: é, not half of it.
    assert_bad_argument "unknown option in '-qé'" "$BUILD/lab1" -qé
    iconv -f UTF-8 -t UTF-8 <<<"$stderr" >/dev/null || fail "not UTF-8: $stderr"
}

@test "an ambiguous option says that it is ambiguous, and what it could be" {
    assert_bad_argument "option '--m' is ambiguous: --mode, --make-input" "$BUILD/lab5" --m
    assert_bad_argument "option '--m' is ambiguous: --mode, --max-heap" "$BUILD/lab2" --m=x
    # One option starting so is no ambiguity: --m is lab 1's --mode.
    assert_bad_argument "unknown mode 'x'" "$BUILD/lab1" --m x
}

@test "a missing value names the option as typed, in a bundle too" {
    assert_bad_argument "option '-s' needs a value" "$BUILD/lab1" -qs
    assert_bad_argument "option '--si' needs a value" "$BUILD/lab1" --si
    assert_bad_argument "unknown option '-x'" "$BUILD/lab1" -qx
}

@test "bench-run names its options as typed" {
    assert_bad_argument "option '--no-cap' takes no value" "$BUILD/bench-run" --no-cap=1 true
    assert_bad_argument "option '--help' takes no value" "$BUILD/bench-run" --help=x true
    assert_bad_argument "option '-c' needs a value" "$BUILD/bench-run" -c
}
