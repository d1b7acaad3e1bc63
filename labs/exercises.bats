#!/usr/bin/env bats
# The exercises (labs/exercises/, LESSONS.md's "Exercise" sections) and
# their check (harness/check.sh, `make check EX=N`): each starter fails
# on its memory budget and not on its output; each reference fix passes;
# a program that does no work fails on its output; the runner runs an
# exercise by its path. Records go in a directory whose name holds a
# space and a quote: the check quotes what it reads.

load test_helper

setup() {
    OUT="$BATS_TEST_TMPDIR/out dir 'q'"
}

# A program that does no work: it parses its command line and records
# its start, as the labs do, then writes nothing. Built once per file,
# with the sanitizer the build under test has.
setup_file() {
    local src=$BATS_FILE_TMPDIR/nothing.c san=()
    cat >"$src" <<'EOF'
#include "lab.h"
#include "probe.h"

static const struct lab_mode modes[] = {
    {.name = "nothing", .cap_kind = "rlimit", .caption = "does no work",
     .expect = "finished"},
    {0},
};

static const struct lab_info lab = {
    .number = 0, .title = "a program that does no work", .takeaway = "none",
    .showcase = "nothing", .modes = modes, .once = true,
    .positional = "ANYTHING...", .min_positional = 0, .max_positional = 64,
};

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    probe_start(&lab, &a, argc, argv);
    probe_sample(0, NULL);
    probe_finish();
    return EXIT_DONE;
}
EOF
    [[ ${LEAKLAB_SANITIZER:-} == address ]] &&
        san=("-fsanitize=address,undefined" -fno-omit-frame-pointer)
    cc -std=c11 -Wall -Wextra -Werror -O1 "${san[@]}" -I "$LEAKLAB_ROOT/harness" \
        -o "$BATS_FILE_TMPDIR/nothing" "$src" \
        "$BUILD/harness/lab.o" "$BUILD/harness/probe.o" ||
        leaklab_abort "the do-nothing program did not build"
}

# check N [ARGS...] - harness/check.sh on exercise N, records in $OUT.
check() {
    local n=$1; shift
    run "$LEAKLAB_ROOT/harness/check.sh" --build "$BUILD" --out "$OUT" --no-text "$@" "$n"
}

# criterion NAME VERDICT - the report has NAME's line, ending in VERDICT.
criterion() {
    local line
    line=$(grep -E "^  $1 " <<<"$output") || fail "no '$1' line in:
$output"
    [[ $line == *"  $2" ]] || fail "'$1' is not '$2':
$output"
}

# starter_fails_on_memory N - the starter's check: exit 1, output pass,
# memory not yet, the measured value beside the budget, and the chart.
starter_fails_on_memory() {
    check "$1"
    assert_failure 1
    criterion output pass
    criterion memory "not yet"
    assert_line --regexp '^  memory  (rss grows [0-9.]+ KiB per|peak rss [0-9.]+ MiB above).* budget: at most '
    assert_line --partial 'not yet: the hints are in LESSONS.md'
    local name
    name=$(basename "$LEAKLAB_ROOT"/labs/exercises/ex"$1"-*.c .c)
    assert_png_size "$OUT/exercises/$name/check.png" 1920 1080
    [[ -s $OUT/exercises/$name/check.svg ]] || fail "no check.svg"
}

# solution_passes N - the reference fix's check: exit 0, both criteria
# pass. Under ASan, whose quarantine keeps freed memory resident on
# purpose, only the output is judged.
solution_passes() {
    check "$1" --solution
    criterion output pass
    if [[ -n ${LEAKLAB_SANITIZER:-} ]]; then
        return 0
    fi
    assert_success
    criterion memory pass
    assert_line "pass: exercise $1 keeps its output and its budget"
}

# nothing_fails_on_output N - the do-nothing program, checked as
# exercise N: not yet, on its output.
nothing_fails_on_output() {
    check "$1" --program "$BATS_FILE_TMPDIR/nothing"
    assert_failure 1
    criterion output "not yet"
    assert_line --regexp '^  output  no .* written'
}

@test "exercise 1: the starter keeps its output but fails its memory budget" {
    starter_fails_on_memory 1
}

@test "exercise 1: the reference fix passes both criteria" {
    solution_passes 1
}

@test "exercise 1: a program that does no work fails on its output" {
    nothing_fails_on_output 1
}

@test "exercise 2: the starter keeps its output but fails its memory budget" {
    starter_fails_on_memory 2
}

@test "exercise 2: the reference fix passes both criteria" {
    solution_passes 2
}

@test "exercise 2: a program that does no work fails on its output" {
    nothing_fails_on_output 2
}

@test "exercise 3: the starter keeps its output but fails its memory budget" {
    starter_fails_on_memory 3
}

@test "exercise 3: the reference fix passes both criteria" {
    solution_passes 3
}

@test "exercise 3: a program that does no work fails on its output" {
    nothing_fails_on_output 3
}

@test "exercise 4: the starter keeps its output but fails its memory budget" {
    starter_fails_on_memory 4
}

@test "exercise 4: the reference fix passes both criteria" {
    solution_passes 4
}

@test "exercise 4: a program that does no work fails on its output" {
    nothing_fails_on_output 4
}

@test "exercise 5: the starter keeps its output but fails its memory budget" {
    starter_fails_on_memory 5
}

@test "exercise 5: the reference fix passes both criteria" {
    solution_passes 5
}

@test "exercise 5: a program that does no work fails on its output" {
    nothing_fails_on_output 5
}

@test "exercise 6: the starter keeps its output but fails its memory budget" {
    starter_fails_on_memory 6
}

@test "exercise 6: the reference fix passes both criteria" {
    solution_passes 6
}

@test "exercise 6: a program that does no work fails on its output" {
    nothing_fails_on_output 6
}

@test "exercise 7: the starter keeps its output but fails its memory budget" {
    starter_fails_on_memory 7
}

@test "exercise 7: the reference fix passes both criteria" {
    solution_passes 7
}

@test "exercise 7: a program that does no work fails on its output" {
    nothing_fails_on_output 7
}

@test "an output one byte off fails the output criterion, naming the line" {
    # The reference fix, then one byte of its index changed: a program
    # that does the work and gets one number wrong.
    local real=$BUILD/exercises/solutions/ex2-indexer prog=$BATS_TEST_TMPDIR/bin/off-by-one
    mkdir -p "${prog%/*}"
    cat >"$prog" <<EOF
#!/usr/bin/env bash
[[ \$1 == --describe ]] && exec $(printf %q "$real") --describe
$(printf %q "$real") "\$@" || exit
sed -i '3s/0/1/' "\${@: -1}"
EOF
    chmod +x "$prog"
    check 2 --program "$prog"
    assert_failure 1
    criterion output "not yet"
    assert_line --regexp '^  output  differs at line 3, byte [0-9]+ '
    criterion memory pass
}

@test "make check EX=N exits 0 for the reference fix and not for the starter" {
    run make --no-print-directory -C "$LEAKLAB_ROOT" check EX=3 SOLUTION=1 \
        BUILD="$MAKE_BUILD" OUT="$OUT"
    [[ -n ${LEAKLAB_SANITIZER:-} ]] || assert_success
    assert_line --partial 'exercise 3, a buffer pool: labs/exercises/solutions/ex3-pool.c'
    run make --no-print-directory -C "$LEAKLAB_ROOT" check EX=3 BUILD="$MAKE_BUILD" OUT="$OUT"
    assert_failure
    assert_line --partial 'exercise 3, a buffer pool: labs/exercises/ex3-pool.c'
}

@test "check.sh: an exercise that does not exist is exit 2, one line naming it" {
    assert_bad_argument "'9'" "$LEAKLAB_ROOT/harness/check.sh" --build "$BUILD" --out "$OUT" 9
    assert_bad_argument "'x'" "$LEAKLAB_ROOT/harness/check.sh" --build "$BUILD" --out "$OUT" x
    assert_bad_argument "--frob" "$LEAKLAB_ROOT/harness/check.sh" --frob 1
    run "$LEAKLAB_ROOT/harness/check.sh" --help
    assert_success
    assert_line --partial 'check.sh [OPTIONS] N'
}

@test "leaklab run PATH records under OUT/NAME, with the lab number it describes" {
    local in=$BATS_TEST_TMPDIR/requests
    printf '1 GET / a\n2 POST /upload bb\n' >"$in"
    run "$BUILD/leaklab" run "$BUILD/exercises/ex1-dispatcher" --quiet --out "$OUT" \
        -- "$in" "$BATS_TEST_TMPDIR/log"
    assert_success
    assert_meta "$OUT/ex1-dispatcher/lab.meta" lab 1
    assert_meta "$OUT/ex1-dispatcher/dispatch.meta" verdict finished
    assert_equal "$(tsv_rows "$OUT/ex1-dispatcher/dispatch.tsv")" 3
    assert_equal "$(cat "$BATS_TEST_TMPDIR/log")" $'1 GET / 200 1\n2 POST /upload 201 2'
}

@test "leaklab run PATH refuses a directory, a missing file and a file it cannot run" {
    : >"$BATS_TEST_TMPDIR/plain"
    assert_bad_argument "'$BUILD/exercises/'" "$BUILD/leaklab" run "$BUILD/exercises/"
    assert_bad_argument "'$BUILD/exercises'" "$BUILD/leaklab" run "$BUILD/exercises"
    assert_bad_argument "'$BATS_TEST_TMPDIR/missing'" "$BUILD/leaklab" run "$BATS_TEST_TMPDIR/missing"
    assert_bad_argument "'$BATS_TEST_TMPDIR/plain'" "$BUILD/leaklab" run "$BATS_TEST_TMPDIR/plain"
}

@test "versus.sh names a torn record, leaves its run out and exits 1" {
    check 1 --solution
    local ref=$OUT/exercises/solutions/ex1-dispatcher torn=$BATS_TEST_TMPDIR/torn
    cp -R "$ref" "$torn"
    printf '7\t1.0\t12' >>"$torn/dispatch.tsv"
    run --separate-stderr "$LEAKLAB_ROOT/plots/versus.sh" "$BATS_TEST_TMPDIR/chart" \
        good "$ref" torn "$torn"
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == *"$torn/dispatch.tsv: the last row is cut short"* ]] ||
        fail "stderr: $stderr"
    assert_png_size "$BATS_TEST_TMPDIR/chart.png" 1920 1080
}

@test "without the reference fixes, the check still judges the run and charts it alone" {
    local copy=$BATS_TEST_TMPDIR/handed-out
    mkdir -p "$copy/exercises"
    cp "$BUILD/leaklab" "$copy/"
    cp "$BUILD/exercises/ex1-dispatcher" "$copy/exercises/"
    run "$LEAKLAB_ROOT/harness/check.sh" --build "$copy" --out "$OUT" --no-text 1
    assert_failure 1
    criterion output pass
    criterion memory "not yet"
    assert_line --partial "check.png: yours (no reference fix in this copy"
    assert_png_size "$OUT/exercises/ex1-dispatcher/check.png" 1920 1080
    [[ ! -e $OUT/exercises/solutions ]] || fail "a reference fix ran: $(ls "$OUT/exercises/solutions")"
}

@test "a program that leaves no record is not judged on an earlier run's" {
    local prog=$BATS_TEST_TMPDIR/bin/ex5-checksum
    mkdir -p "${prog%/*}"
    cp "$BUILD/exercises/solutions/ex5-checksum" "$prog"
    check 5 --program "$prog"
    criterion output pass
    printf '#!/bin/sh\nexit 1\n' >"$prog"     # it cannot even describe itself
    check 5 --program "$prog"
    assert_failure 1
    criterion output "not yet"
    criterion memory "not yet"
    assert_line --regexp '^  memory  no record of the run'
}
