#!/usr/bin/env bats
# The challenges of LESSONS.md fail for wrong answers. Each lab's check
# (challenge_checks.bash) runs against a mode with no code at all, against
# the shipped mode nearest to the answer, and against the reference
# solution in labs/solutions/: the first two fail it, the third passes.
# The modes that are not shipped are built here, from a copy of the lab,
# against the harness objects of the build under test. And a lab refuses
# to build a mode that has no code, or a name with no mode behind it.

load test_helper
load challenge_checks

# lab_source N - the path of lab N's source, labs/labN-name.c.
lab_source() {
    local src
    for src in "$LEAKLAB_ROOT/labs/lab$1"-*.c; do echo "$src"; done
}

# need_lab N - skips the test when the build under test has no labN
# (make tsan builds lab 4 alone).
need_lab() {
    [[ -x $BUILD/lab$1 ]] || skip "$BUILD has no lab$1"
}

# with_nothing SRC OUT - SRC with one mode more, "nothing": its constant
# at the end of enum mode (MODE_COUNT after it) and its entry in modes[],
# but no case in any switch: a mode with no code, as a student who only
# added a name would write. Fails if SRC's mode table has changed shape.
with_nothing() {
    sed -e 's/^enum mode { \(.*\) };$/enum mode { \1, NOTHING };/' \
        -e 's/^enum { MODE_COUNT = [A-Z_]* + 1 };$/enum { MODE_COUNT = NOTHING + 1 };/' \
        -e '/^static const struct lab_mode modes\[\] = {$/a\
    [NOTHING] = {.name = "nothing", .cap_kind = "rlimit", .caption = "no code", .expect = "finished"},' \
        "$1" >"$2"
    [[ $(grep -c NOTHING "$2") -eq 3 ]] ||
        fail "$1: no 'enum mode { ... };', 'enum { MODE_COUNT = LAST + 1 };' or modes[] to add a mode to"
}

# compile SRC OUT [CFLAGS...] - builds a lab from SRC as the Makefile does,
# linked with the harness objects of $BUILD, with the sanitizer $BUILD was
# built with (what its lab4's --describe says). Sets COMPILED to the
# compiler's words; returns its status.
compile() {
    local src=$1 out=$2 sanitizer flags=(); shift 2
    sanitizer=$("$BUILD/lab4" --describe | tr '\t' '\n' | sed -n 's/^sanitizer=//p')
    case $sanitizer in
    address) flags=("-fsanitize=address,undefined" -fno-sanitize-recover=undefined -fno-omit-frame-pointer) ;;
    thread) flags=(-fsanitize=thread) ;;
    esac
    COMPILED=$("${CC:-cc}" -std=c11 -Wall -Wextra -Werror -O2 -g -pthread "${flags[@]}" "$@" \
        -I "$LEAKLAB_ROOT/labs" -o "$out" "$src" "$BUILD/harness/lab.o" \
        "$BUILD/harness/probe.o" "$BUILD/harness/budget.o" "$BUILD/harness/dest.o" 2>&1)
}

# variant N [PATCH] - lab N with one mode more, built into a directory of
# its own beside a copy of the runner (which runs the labs it finds beside
# itself), and sets BUILD to that directory for the checks. With PATCH (a
# file in labs/solutions/) the mode is the patch's; without, it is
# "nothing" (with_nothing), compiled with -Wno-switch, the one flag that
# lets a mode without code build.
variant() {
    local n=$1 patch=${2:-} dir=$BATS_TEST_TMPDIR/variant src
    mkdir -p "$dir/labs"
    src=$dir/labs/$(basename "$(lab_source "$n")")
    if [[ -n $patch ]]; then
        cp "$(lab_source "$n")" "$src"
        patch -s -p1 -d "$dir" <"$LEAKLAB_ROOT/labs/solutions/$patch" ||
            fail "labs/solutions/$patch no longer applies to $(lab_source "$n")"
        compile "$src" "$dir/lab$n" || fail "$patch does not build: $COMPILED"
    else
        with_nothing "$(lab_source "$n")" "$src"
        compile "$src" "$dir/lab$n" -Wno-switch || fail "the mode nothing does not build: $COMPILED"
    fi
    cp "$BUILD/leaklab" "$dir/leaklab"
    BUILD=$dir
}

# --- the compiler: no mode without code, no name without a mode -------------

# refused SRC TEXT - the compiler, with the Makefile's warnings, refuses
# SRC and says TEXT.
refused() {
    LC_ALL=C run "${CC:-cc}" -std=c11 -Wall -Wextra -Werror -pthread \
        -fsyntax-only -I "$LEAKLAB_ROOT/labs" "$1"
    assert_failure
    assert_output --partial "$2"
}

@test "every lab refuses to build a mode without code: -Wswitch names it" {
    local n src=$BATS_TEST_TMPDIR/nothing.c
    for n in 1 2 3 4 5; do
        with_nothing "$(lab_source "$n")" "$src"
        refused "$src" "enumeration value 'NOTHING' not handled in switch"
    done
}

@test "every lab refuses to build a name in modes[] without its enum constant" {
    local n src=$BATS_TEST_TMPDIR/mine.c entry end='^    \[MODE_COUNT\] = {0},'
    entry='    {.name = "mine", .cap_kind = "rlimit", .caption = "mine", .expect = "finished"},'
    for n in 1 2 3 4 5; do
        # An entry with no constant, as the old tables had, before the end,
        sed "/$end/i\\
$entry" "$(lab_source "$n")" >"$src"
        refused "$src" "initialized field overwritten"
        # or after it,
        sed "/$end/a\\
$entry" "$(lab_source "$n")" >"$src"
        refused "$src" "modes[]: one entry per enum mode"
        # or with a constant the enum does not have.
        sed "/$end/i\\
    [MINE] = {.name = \"mine\", .cap_kind = \"rlimit\", .caption = \"mine\"}," \
            "$(lab_source "$n")" >"$src"
        refused "$src" "'MINE' undeclared"
    done
}

@test "a mode with no code, built anyway, runs no other mode's code" {
    need_lab 1
    variant 1
    run_lab 1 --mode nothing --iterations 3 --size 64K
    assert_success
    # No handler registered, none replied: the contexts made are leaked,
    # not handled by retain's code or any other.
    assert_every_row "$TSV" 'listeners == 0 && odd_replies == 0'
}

# --- lab 1: one slot, the newest handler, nothing lost ----------------------

@test "lab 1: the check fails for a mode with no code" {
    need_lab 1
    variant 1
    run lab1_challenge nothing
    assert_failure
    assert_output --partial "not on every row"
}

@test "lab 1: the check fails for lose and for release, the modes either side" {
    need_lab 1
    run lab1_challenge lose      # one slot, but each old context lost
    assert_failure
    if [[ -z ${LEAKLAB_SANITIZER:-} ]]; then
        assert_output --partial "heap_used_kib grew by"
    else
        assert_output --partial "LeakSanitizer found a leak"
    fi
    run lab1_challenge release   # nothing lost, but no handler stays
    assert_failure
    assert_output --partial "not on every row"
    run lab1_challenge retain    # every handler stays
    assert_failure
}

@test "lab 1: the reference solution, replace, passes the check" {
    need_lab 1
    variant 1 lab1-challenge.patch
    run lab1_challenge replace
    assert_success
}

# --- lab 2: the seed's 15 arrays under its budget -----------------------------
# At the classroom sizes (32 MiB arrays, a 280 MiB budget), which have the
# seed's shape and take a fifth of its time.

@test "lab 2: the check fails for a mode with no code" {
    need_lab 2
    variant 2
    run lab2_challenge nothing classroom 280M
    assert_failure
    assert_output --partial "make and fill every array"
}

@test "lab 2: the check fails for budget and for lazy, as shipped" {
    need_lab 2
    run lab2_challenge budget classroom 280M   # keeps every array: FATAL
    assert_failure
    assert_output --partial "verdict limit"
    run lab2_challenge lazy classroom 280M     # never touches one
    assert_failure
}

@test "lab 2: the reference solution, free, passes the check" {
    need_lab 2
    variant 2 lab2-challenge.patch
    run lab2_challenge free classroom 280M
    assert_success
}

# --- lab 3: off-heap buffers the budget sees ---------------------------------

@test "lab 3: the check fails for a mode with no code" {
    need_lab 3
    variant 3
    run lab3_challenge nothing
    assert_failure
    assert_output --partial "exit 0, not 3"
}

@test "lab 3: the check fails for offheap and for heap, the modes either side" {
    need_lab 3
    run lab3_challenge offheap   # in mmap, but the budget never sees it
    assert_failure
    assert_output --partial "exit 0, not 3"
    run lab3_challenge heap      # stops at the budget, but on the heap
    assert_failure
    assert_output --partial "external_kib == iter"
}

@test "lab 3: the reference solution, counted, passes the check" {
    need_lab 3
    variant 3 lab3-challenge.patch
    run lab3_challenge counted
    assert_success
}

# --- lab 4: drop the oldest ------------------------------------------------------

@test "lab 4: the check fails for a mode with no code" {
    need_lab 4
    variant 4
    run lab4_challenge nothing
    assert_failure
    assert_output --partial "produced == 2 * iter"
}

@test "lab 4: the check fails for shed, which drops the newest, and for bounded" {
    need_lab 4
    run lab4_challenge shed      # flat, never waits, but the wrong end
    assert_failure
    assert_output --partial "oldest_id == produced - depth + 1"
    run lab4_challenge bounded   # keeps every job: the producer waits
    assert_failure
    assert_output --partial "produced == 2 * iter"
}

@test "lab 4: the reference solution, drop-oldest, passes the check" {
    need_lab 4
    variant 4 lab4-challenge.patch
    run lab4_challenge drop-oldest
    assert_success
}

# --- lab 5: keep the holes -------------------------------------------------------

@test "lab 5: the check fails for a mode with no code" {
    need_lab 5
    variant 5
    run lab5_challenge nothing "$BATS_TEST_TMPDIR"
    assert_failure
    assert_output --partial "differs from"
}

@test "lab 5: the check fails for stream, which writes the holes out" {
    need_lab 5
    keeps_holes "$BATS_TEST_TMPDIR" || skip "the file system of $BATS_TEST_TMPDIR does not keep holes"
    run lab5_challenge stream "$BATS_TEST_TMPDIR"
    assert_failure
    assert_output --partial "its holes were written out"
}

@test "lab 5: the reference solution, sparse, passes the check" {
    need_lab 5
    keeps_holes "$BATS_TEST_TMPDIR" || skip "the file system of $BATS_TEST_TMPDIR does not keep holes"
    variant 5 lab5-challenge.patch
    run lab5_challenge sparse "$BATS_TEST_TMPDIR"
    assert_success
}
