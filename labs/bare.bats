#!/usr/bin/env bats
# Labs run by hand ("bare"), without the runner: the cap a lab sets on
# itself when nothing else caps it, and how a command line names a bad
# option. Whatever goes past a cap here does it with lab 2's lazy mode,
# which reserves address space (what RLIMIT_AS counts) and touches none of
# it: gigabytes asked for, a few MiB used.

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

# default_cap_mib - the runner's default cap as lab.c computes it (the
# smaller of 2 GiB and a quarter of physical memory), in whole MiB.
default_cap_mib() {
    awk -v pages="$(getconf _PHYS_PAGES)" -v size="$(getconf PAGESIZE)" \
        'BEGIN { c = pages * size / 4; if (c > 2 ^ 31) c = 2 ^ 31
                 printf "%.0f\n", c / 1048576 }'
}

# reserve_4g [COMMAND...] - lab 2 lazy, 8 arrays of 512 MiB reserved and
# never touched (4 GiB of address space, more than any default cap), run
# under COMMAND (prlimit, valgrind, ...), stderr apart. Extra lab flags
# come from LAB_FLAGS.
reserve_4g() {
    run --separate-stderr "$@" "$BUILD/lab2" --mode lazy --size 512M \
        --iterations 8 ${LAB_FLAGS:+"$LAB_FLAGS"}
}

# assert_wall_at_mib CAP_MIB - the run met its wall (exit 3, malloc
# returned NULL) at the first 512 MiB array that takes the address space
# past CAP_MIB: within 64 MiB of the lab's own mappings under it.
assert_wall_at_mib() {
    assert_failure 3
    local k
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    k=$(wall_iteration "$stderr")
    [[ -n $k ]] || fail "no wall message: $stderr"
    (( (k - 1) * 512 < $1 && k * 512 > $1 - 64 )) ||
        fail "wall at array $k (of 512 MiB); expected it where $1 MiB ends: $stderr"
}

# --- the cap a bare lab sets itself ------------------------------------------

@test "a bare lab that nothing caps caps itself at the runner's default and says so in one line" {
    skip_if_sanitized "RLIMIT_AS cannot cap a sanitizer build"
    local cap
    cap=$(default_cap_mib)
    reserve_4g
    assert_wall_at_mib "$cap"
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "${#stderr_lines[@]}" 2
    assert_equal "${stderr_lines[0]}" "lab2: capped at $cap MiB of address space (RLIMIT_AS), the runner's default, as nothing else caps this run; --no-cap lifts it"
    [[ ${stderr_lines[1]} == *"returned NULL"* ]] || fail "stderr: $stderr"
}

@test "--no-cap lifts a bare lab's cap, and there is nothing to say" {
    LAB_FLAGS=--no-cap reserve_4g
    assert_success
    assert_equal "$stderr" ""
    run "$BUILD/lab2" --help
    assert_line --partial "--no-cap"
}

@test "--quiet keeps a bare lab's cap, without the line about it" {
    skip_if_sanitized "RLIMIT_AS cannot cap a sanitizer build"
    LAB_FLAGS=--quiet reserve_4g
    assert_wall_at_mib "$(default_cap_mib)"
    assert_equal "${#stderr_lines[@]}" 1
}

@test "a finite RLIMIT_AS from outside is the cap: the lab sets none of its own" {
    skip_if_sanitized "RLIMIT_AS cannot cap a sanitizer build"
    # A soft limit only, which the lab could raise: it must not.
    reserve_4g prlimit --as=$(( 1 << 30 )):
    assert_wall_at_mib 1024
    assert_equal "${#stderr_lines[@]}" 1
}

@test "LEAKLAB_CAP from the runner: the lab sets no cap of its own" {
    local kind
    for kind in rlimit kill none; do
        LEAKLAB_CAP=$kind reserve_4g
        assert_success
        assert_equal "$stderr" ""
    done
    LEAKLAB_CAP=nnoe assert_bad_argument nnoe "$BUILD/lab2" --mode lazy
}

@test "through the runner a lab has only the runner's cap" {
    skip_if_sanitized "a sanitizer build caps itself with nothing; its shadow memory is rss"
    # A kill cap leaves RLIMIT_AS unlimited: only LEAKLAB_CAP tells the lab
    # not to cap itself, and lazy's 4 GiB of reservations finish.
    leaklab_run 2 lazy --cap-kind kill --cap 64M -- --size 512M --iterations 8
    assert_success
    assert_meta "$META" verdict finished
    assert_meta "$META" cap_kind kill
    refute_output --partial "capped at"
}

@test "bench-run --no-cap runs its command with no cap at all" {
    run --separate-stderr "$BUILD/bench-run" --no-cap "$BUILD/lab2" --mode lazy \
        --size 512M --iterations 8
    assert_success
    assert_equal "$stderr" ""
}

@test "under Valgrind a bare lab caps itself just the same" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    reserve_4g valgrind -q --error-exitcode=99
    assert_wall_at_mib "$(default_cap_mib)"
    [[ ${stderr_lines[0]} == "lab2: capped at "* ]] || fail "stderr: $stderr"
}

@test "a sanitizer build says it is not capped, and why" {
    [[ -n ${LEAKLAB_SANITIZER:-} ]] || skip "only under make sanitize"
    run --separate-stderr "$BUILD/lab1" --iterations 1
    assert_success
    [[ $stderr == "lab1: not capped: "*"Sanitizer reserves terabytes of address space, so RLIMIT_AS cannot cap this build"* ]] ||
        fail "stderr: $stderr"
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

@test "a bad argument holding a newline is still one line on stderr" {
    assert_bad_argument 'x\ny' "$BUILD/lab1" --mode $'x\ny'
    assert_bad_argument 'a\nverdict=x' "$BUILD/leaklab" run 1 --mode $'a\nverdict=x'
    assert_bad_argument '1\n2' "$BUILD/bench-run" --cap $'1\n2' true
}

@test "a missing file whose name holds a newline is named on one line" {
    run --separate-stderr "$BUILD/lab5" --no-cap $'/no/such\nfile' "$BATS_TEST_TMPDIR/dst"
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "$stderr" 'lab5: /no/such\nfile: No such file or directory'
}
