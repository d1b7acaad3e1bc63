#!/usr/bin/env bats
# `bats labs/` is how a newcomer checks the suite: from a fresh clone, with
# nothing built, from whatever directory they stand in. These tests copy
# this working tree as a clone has it (no build/, no out/), run one lab's
# test file inside the copy, and check what that run built and where it
# wrote. Each nested run builds into its own copy, never into this clone.

load test_helper

# A copy of this working tree as `git clone` would give it, and an empty
# directory to run bats from; then one full run of lab 1's test file,
# recorded for the tests below (what / holds before and after, the
# output, the exit code). Under a sanitizer the build is not the subject:
# skipped, like the deck in slides.bats.
setup_file() {
    export CLONE=$BATS_FILE_TMPDIR/clone ELSEWHERE=$BATS_FILE_TMPDIR/elsewhere
    export FIRST=$BATS_FILE_TMPDIR/first-run
    [[ -n ${LEAKLAB_SANITIZER:-} ]] && return 0
    mkdir "$CLONE" "$ELSEWHERE" "$FIRST"
    tar -C "$LEAKLAB_ROOT" --exclude=./build --exclude=./out --exclude=./.git -cf - . |
        tar -C "$CLONE" -xf -
    list_tree "$CLONE" >"$FIRST/clone-before"
    ls -A / >"$FIRST/root-before"
    local rc=0
    (cd "$ELSEWHERE" && clone_bats "$CLONE/labs/lab1-closure.bats") >"$FIRST/output" 2>&1 || rc=$?
    echo "$rc" >"$FIRST/status"
    ls -A / >"$FIRST/root-after"
    list_tree "$CLONE" >"$FIRST/clone-after"
}

setup() {
    skip_if_sanitized "the fresh clone's build is the normal one"
}

# clone_bats ARGS... - bats as a newcomer types it: none of the variables
# make test or make sanitize set, and not on the outer run's fd 3.
clone_bats() {
    env -u LEAKLAB_BUILD -u LEAKLAB_SANITIZER -u ASAN_OPTIONS -u TSAN_OPTIONS \
        bats "$@" 3>&-
}

# list_tree DIR - every path under DIR, build/ and out/ left out, sorted.
list_tree() {
    (cd "$1" && find . \( -path ./build -o -path ./out \) -prune -o -print | LC_ALL=C sort)
}

# path_farm DIR TOOL... - DIR filled with a link to every command on PATH
# except TOOLs: a PATH on which those are not installed.
path_farm() {
    local farm=$1 dir i; shift
    local -a dirs
    mkdir -p "$farm"
    IFS=: read -ra dirs <<<"$PATH"
    for (( i = ${#dirs[@]} - 1; i >= 0; i-- )); do   # the first on PATH wins
        dir=${dirs[i]}
        [[ -d $dir ]] && ln -sf -t "$farm" "$dir"/* 2>/dev/null || true
    done
    for dir in "$@"; do rm -f "$farm/$dir"; done
}

@test "bats on a lab's file, in a fresh clone and from another directory, builds first and passes" {
    run cat "$FIRST/output"
    assert_equal "$(cat "$FIRST/status")" 0
    assert_line --regexp '^1\.\.[0-9]+$'
    refute_line --partial 'not ok'
    [ -x "$CLONE/build/lab1" ] && [ -x "$CLONE/build/leaklab" ] ||
        fail "the clone has no build/lab1 or build/leaklab"
}

@test "that run writes nothing outside the clone but its build/: not where it ran, not in /" {
    run ls -A "$ELSEWHERE"
    assert_output ""                       # the working directory
    run diff "$FIRST/root-before" "$FIRST/root-after"
    assert_success                          # the filesystem root
    run diff "$FIRST/clone-before" "$FIRST/clone-after"
    assert_success                          # the clone, apart from build/
    [ -d "$CLONE/build" ]
}

@test "a source newer than its binary is rebuilt before any test runs it" {
    touch "$CLONE/labs/lab1-closure.c" "$CLONE/harness/probe.h"
    [[ $CLONE/labs/lab1-closure.c -nt $CLONE/build/lab1 ]]     # stale now
    run clone_bats --filter 'closure facts' "$CLONE/labs/lab1-closure.bats"
    assert_success
    assert_line --partial 'ok 1 the three closure facts'
    [[ $CLONE/build/lab1 -nt $CLONE/labs/lab1-closure.c ]] || fail "build/lab1 was not rebuilt"
    [[ $CLONE/build/harness/probe.o -nt $CLONE/harness/probe.h ]] ||
        fail "build/harness/probe.o was not rebuilt after probe.h changed"
}

@test "missing bats libraries are named in one line, with make deps" {
    mkdir "$BATS_TEST_TMPDIR/nolib"
    BATS_LIB_PATH=$BATS_TEST_TMPDIR/nolib run clone_bats "$CLONE/labs/lab1-closure.bats"
    assert_failure
    assert_line '# leaklab tests: missing Debian packages: bats-support bats-assert; make deps installs them'
}

@test "missing commands are named by their Debian packages in one line, with make deps" {
    path_farm "$BATS_TEST_TMPDIR/bin" valgrind gnuplot
    PATH=$BATS_TEST_TMPDIR/bin run clone_bats "$CLONE/labs/lab1-closure.bats"
    assert_failure
    assert_line '# leaklab tests: missing Debian packages: gnuplot-nox valgrind; make deps installs them'
}

@test "LEAKLAB_BUILD naming no build stops the file in one line and builds nothing" {
    local none=$BATS_TEST_TMPDIR/none
    LEAKLAB_BUILD=$none run bats "$CLONE/labs/lab1-closure.bats" 3>&-
    assert_failure
    assert_line "# leaklab tests: LEAKLAB_BUILD=$none has no leaklab: unset it, or build it first (make sanitize: build/asan, make tsan: build/tsan)"
    [ ! -e "$none" ]
}

@test "a LEAKLAB_BUILD older than its sources is refused, not tested" {
    local old=$BATS_TEST_TMPDIR/old
    cp -a "$CLONE/build" "$old"
    LEAKLAB_BUILD=$old run bats --filter 'closure facts' "$CLONE/labs/lab1-closure.bats" 3>&-
    assert_success                      # as new as its sources: used as it is
    touch "$CLONE/labs/lab1-closure.c"
    LEAKLAB_BUILD=$old run bats --filter 'closure facts' "$CLONE/labs/lab1-closure.bats" 3>&-
    assert_failure
    assert_line "# leaklab tests: LEAKLAB_BUILD=$old is older than its sources: rebuild it (make sanitize, make tsan), or unset it"
}
