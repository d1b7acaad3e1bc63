#!/usr/bin/env bats
# leaklab hunt: heap snapshots under memcheck, compared site by site (the
# second seed's method), and the runner's memwatch-style signal. The
# hunts of lab 7's five named modes run once, in setup_file, at a small
# size (9 batches: snapshots after 3, 6 and 9); the tests read what they
# printed and the TSVs they wrote. Every number comes from the records.

load test_helper

# The lab's arguments for every hunt of lab 7: small and quick, with a
# TTL shorter than the warm-up, so that fixed has settled by the first
# snapshot.
HUNT7=(--iterations 9 --ttl 2 --size 16K)

setup_file() {
    export HUNTS=$BATS_FILE_TMPDIR/out
    [[ -z ${LEAKLAB_SANITIZER:-} ]] || return 0   # each test skips
    local mode
    for mode in frequent occasional hidden once fixed; do
        "$BUILD/leaklab" hunt 7 --mode $mode --out "$HUNTS" -- "${HUNT7[@]}" \
            >"$BATS_FILE_TMPDIR/$mode.out" 2>&1 ||
            { cat "$BATS_FILE_TMPDIR/$mode.out" >&3; return 1; }
    done
}

setup() {
    skip_if_sanitized "Valgrind and heaptrack cannot run a sanitizer build"
}

# hunt_tsv MODE - lab 7's hunt record for MODE, from setup_file.
hunt_tsv() {
    echo "$HUNTS/lab7/$1-hunt.tsv"
}

# hunt_comment FILE KEY - a "# KEY=value" line of a hunt's TSV.
hunt_comment() {
    sed -n "s/^# $2=//p" "$1" | head -n 1
}

# first_leak FILE - the site of the first row marked leak?, or nothing.
first_leak() {
    awk -F'\t' '/^#/ { next } !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
                $c["leak"] == "leak?" { print $c["site"]; exit }' "$1"
}

# leak_rows FILE - how many rows are marked leak? (the leak column is
# text, which tsv_column, a reader of numbers, refuses).
leak_rows() {
    awk -F'\t' '/^#/ { next } !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1
                                  if (!c["leak"]) { bad = 1; exit 1 } next }
                $c["leak"] == "leak?" { n++ } END { if (!bad) print n + 0 }' "$1"
}

@test "hunt frequent: the top leak? row is session_new, which holds the sessions" {
    assert_equal "$(first_leak "$(hunt_tsv frequent)")" session_new
    assert_equal "$(hunt_comment "$(hunt_tsv frequent)" top_site)" session_new
    grep -q '^lab7 frequent: leak? session_new (labs/lab7-server.c:[0-9]*) grew in every interval' \
        "$BATS_FILE_TMPDIR/frequent.out"
}

@test "hunt occasional: the top leak? row is session_new, its lost blocks definitely lost" {
    local tsv
    tsv=$(hunt_tsv occasional)
    assert_equal "$(first_leak "$tsv")" session_new
    awk -F'\t' '!/^#/ && $2 == "session_new" && $4 ~ /^definitely lost/' "$tsv" | grep -q . ||
        fail "session_new's kind: $(awk -F'\t' '$2 == "session_new" { print $4 }' "$tsv")"
}

@test "hunt hidden: audit_append grows in every snapshot, yet memcheck's exit summary says 0 bytes lost" {
    local tsv
    tsv=$(hunt_tsv hidden)
    assert_equal "$(first_leak "$tsv")" audit_append
    assert_equal "$(hunt_comment "$tsv" exit_definitely_lost)" 0
    assert_equal "$(hunt_comment "$tsv" exit_indirectly_lost)" 0
    assert_equal "$(hunt_comment "$tsv" exit_possibly_lost)" 0
    assert_equal "$(hunt_comment "$tsv" exit_still_reachable)" 0
    grep -q '^memcheck at exit: definitely lost 0 B, indirectly lost 0 B, possibly lost 0 B, still reachable 0 B$' \
        "$BATS_FILE_TMPDIR/hidden.out"
}

@test "hunt once: no site is marked leak?, and the largest is build_route_table, unchanged" {
    local tsv
    tsv=$(hunt_tsv once)
    assert_equal "$(leak_rows "$tsv")" 0
    assert_equal "$(hunt_comment "$tsv" verdict)" none
    assert_equal "$(hunt_comment "$tsv" top_site)" build_route_table
    grep -q 'the largest at the last snapshot is build_route_table (labs/lab7-server.c:[0-9]*), 16.1 MiB in 1 blocks, unchanged' \
        "$BATS_FILE_TMPDIR/once.out"
}

@test "hunt fixed: no site is marked leak?" {
    assert_equal "$(leak_rows "$(hunt_tsv fixed)")" 0
    assert_equal "$(hunt_comment "$(hunt_tsv fixed)" verdict)" none
}

@test "hunt mystery, seeds 1 to 5: the top site is the one --reveal names" {
    local seed named
    for seed in 1 2 3 4 5; do
        run "$BUILD/lab7" --mode mystery --seed $seed --reveal
        assert_success
        named=${output##* }
        run "$BUILD/leaklab" hunt 7 --mode mystery --quiet --out "$BATS_TEST_TMPDIR/out" -- \
            "${HUNT7[@]}" --seed $seed
        assert_success
        assert_equal "$(hunt_comment "$BATS_TEST_TMPDIR/out/lab7/mystery-hunt.tsv" top_site)" "$named"
    done
}

@test "hunt lab 1: retain's leak is make_context; release marks no site" {
    run "$BUILD/leaklab" hunt 1 --mode retain --quiet --out "$BATS_TEST_TMPDIR/out" -- --iterations 9 --size 64K
    assert_success
    assert_output --partial "lab1 retain: leak? make_context (labs/lab1-closure.c:"
    assert_equal "$(first_leak "$BATS_TEST_TMPDIR/out/lab1/retain-hunt.tsv")" make_context
    run "$BUILD/leaklab" hunt 1 --mode release --quiet --out "$BATS_TEST_TMPDIR/out" -- --iterations 9 --size 64K
    assert_success
    assert_equal "$(leak_rows "$BATS_TEST_TMPDIR/out/lab1/release-hunt.tsv")" 0
}

@test "heaptrack names the function memcheck's hunt names, for frequent" {
    run "$BUILD/leaklab" hunt 7 --mode frequent --tool heaptrack --out "$BATS_TEST_TMPDIR/out" -- "${HUNT7[@]}"
    assert_success
    assert_line --regexp "^lab7 frequent: heaptrack's largest peak in the project is session_new \(labs/lab7-server.c:[0-9]+\)$"
    assert_equal "$(hunt_comment "$(hunt_tsv frequent)" top_site)" session_new
    [[ -s $BATS_TEST_TMPDIR/out/lab7/frequent-heaptrack.txt ]]
}

@test "memcheck's two reports agree on every site: Delta = New - Deleted, Size Delta = Alloc - Freed" {
    local mode bad
    for mode in frequent occasional hidden once fixed; do
        # deleted and freed_size come from xtmemory's own counts; delta
        # and size_delta from the loss records. They meet only if both
        # reports saw the same blocks at the same sites.
        bad=$(awk -F'\t' '/^#/ { next } !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
            { for (k = 1; c["delta_" k]; k++)
                if ($c["delta_" k] != $c["new_" k] - $c["deleted_" k] ||
                    $c["size_delta_" k] != $c["alloc_size_" k] - $c["freed_size_" k] ||
                    $c["deleted_" k] < 0 || $c["freed_size_" k] < 0)
                    print $c["site"] " " $c["location"] ", interval " k
              if ($c["bytes_3"] != $c["xt_bytes_3"]) print $c["site"] ": bytes_3 " $c["bytes_3"] " != " $c["xt_bytes_3"] }' \
            "$(hunt_tsv $mode)")
        [[ -z $bad ]] || fail "$mode: $bad"
    done
}

@test "the rows are sorted by Size Delta over the hunt, largest first" {
    local mode
    for mode in frequent occasional hidden; do
        awk -F'\t' '/^#/ { next } !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
            { g = $c["bytes_3"] - $c["bytes_1"]; if (NR > 1 && seen && g > last) exit 1; last = g; seen = 1 }' \
            "$(hunt_tsv $mode)" || fail "$mode: a row grew more than the one above it"
    done
}

@test "--at takes the snapshots there; by default three, a warm-up and two equal loads" {
    assert_equal "$(hunt_comment "$(hunt_tsv frequent)" at)" 3,6,9
    grep -q '^memcheck snapshots after iterations 3, 6 and 9: a warm-up, then 2 equal loads$' \
        "$BATS_FILE_TMPDIR/frequent.out"
    run "$BUILD/leaklab" hunt 7 --mode frequent --at 2,5,7,9 --quiet --out "$BATS_TEST_TMPDIR/out" -- "${HUNT7[@]}"
    assert_success
    local tsv=$BATS_TEST_TMPDIR/out/lab7/frequent-hunt.tsv
    assert_equal "$(hunt_comment "$tsv" at)" 2,5,7,9
    tsv_header "$tsv" | grep -q $'\tbytes_4\t.*\tsize_delta_3\t'
}

@test "a hunt whose snapshots the lab never reaches exits 1 and says why" {
    run --separate-stderr "$BUILD/leaklab" hunt 7 --mode fixed --at 20,30 --out "$BATS_TEST_TMPDIR/out" -- "${HUNT7[@]}"
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == "leaklab hunt: memcheck took 0 snapshots of lab7 fixed: too few to compare"* ]] || fail "$stderr"
}

# hunt_retain - lab 1's retain, hunted small and quiet into
# $BATS_TEST_TMPDIR/out: the hunt the fake valgrinds below stand under.
hunt_retain() {
    "$BUILD/leaklab" hunt 1 --mode retain --quiet --out "$BATS_TEST_TMPDIR/out" -- --iterations 9 --size 64K
}

# fake_valgrind WHEN - a valgrind first in PATH around the real one. It
# dies by SIGSEGV "after" the real one has run and reported, "before" it
# runs at all, or "midway": its log cut after the first snapshot's leak
# summary, where Valgrind 3.19 died in lab 7's hunts. "exit" exits 1
# after the real one. "args" dies of nothing: it writes its arguments,
# one a line, to $BATS_TEST_TMPDIR/args.
fake_valgrind() {
    local dir=$BATS_TEST_TMPDIR/fakebin
    mkdir -p "$dir"
    {
        printf '#!/bin/bash\nreal=%q when=%q args=%q\n' "$(command -v valgrind)" "$1" "$BATS_TEST_TMPDIR/args"
        cat <<'FAKE'
case $when in
    before) kill -SEGV $$ ;;
    args) printf '%s\n' "$@" >"$args"; exec "$real" "$@" ;;
esac
"$real" "$@"
[[ $when != exit ]] || exit 1
if [[ $when == midway ]]; then
    for arg; do [[ $arg == --log-file=* ]] && log=${arg#--log-file=}; done
    sed -i '/LEAK SUMMARY:/,$ { /LEAK SUMMARY:/b; /suppressed:/q; }' "$log"
fi
kill -SEGV $$
FAKE
    } >"$dir/valgrind"
    chmod +x "$dir/valgrind"
    PATH=$dir:$PATH
}

@test "valgrind killed after its report at exit: the hunt says so and goes on" {
    fake_valgrind after
    run --separate-stderr hunt_retain
    assert_success
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "leaklab hunt: valgrind was killed by SIGSEGV after its report at exit; the lab's records are whole, the hunt goes on"
    assert_equal "$(first_leak "$BATS_TEST_TMPDIR/out/lab1/retain-hunt.tsv")" make_context
}

@test "valgrind killed before any report: the hunt fails, names the signal, and claims no report" {
    fake_valgrind before
    run --separate-stderr hunt_retain
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "leaklab hunt: the lab under valgrind was killed by SIGSEGV"
    [[ ! -e $BATS_TEST_TMPDIR/out/lab1/retain-hunt.log ]] || fail "a report was kept, yet valgrind wrote none"
}

@test "valgrind killed midway: the hunt fails and keeps memcheck's report where it says" {
    local out=$BATS_TEST_TMPDIR/out
    fake_valgrind midway
    run --separate-stderr hunt_retain
    assert_failure 1
    assert_equal "$stderr" "leaklab hunt: the lab under valgrind was killed by SIGSEGV (its report: $out/lab1/retain-hunt.log)"
    run grep -c 'leaklab snapshot at iteration' "$out/lab1/retain-hunt.log"
    assert_output 1
    run grep -c 'ERROR SUMMARY' "$out/lab1/retain-hunt.log"
    assert_output 0
    [[ ! -e $out/lab1/retain-hunt.tsv ]] || fail "a TSV was written from a cut report"
}

@test "valgrind exiting 1 after its report: the hunt fails and keeps the report" {
    local out=$BATS_TEST_TMPDIR/out
    fake_valgrind exit
    run --separate-stderr hunt_retain
    assert_failure 1
    assert_equal "$stderr" "leaklab hunt: the lab under valgrind exited 1 (its report: $out/lab1/retain-hunt.log)"
    run grep -c 'ERROR SUMMARY' "$out/lab1/retain-hunt.log"
    assert_output 1
}

@test "memcheck keeps the frames below main, which Valgrind 3.19's xtmemory needs with threads" {
    fake_valgrind args
    run hunt_retain
    assert_success
    run grep -cx -- --show-below-main=yes "$BATS_TEST_TMPDIR/args"
    assert_output 1
    assert_equal "$(first_leak "$BATS_TEST_TMPDIR/out/lab1/retain-hunt.tsv")" make_context
}

@test "bad arguments to hunt exit 2 with one line naming them" {
    assert_bad_argument "--at '5'" "$BUILD/leaklab" hunt 7 --at 5
    assert_bad_argument "--at '9,3'" "$BUILD/leaklab" hunt 7 --at 9,3
    assert_bad_argument "--snapshots '1'" "$BUILD/leaklab" hunt 7 --snapshots 1
    assert_bad_argument "--at and --snapshots" "$BUILD/leaklab" hunt 7 --at 2,4 --snapshots 3
    assert_bad_argument "'nosuch'" "$BUILD/leaklab" hunt 7 --mode nosuch
    assert_bad_argument "--tool 'gdb'" "$BUILD/leaklab" hunt 7 --tool gdb
    assert_bad_argument "'--mode=once'" "$BUILD/leaklab" hunt 7 -- --mode=once
    assert_bad_argument "'99'" "$BUILD/leaklab" hunt 99
}

@test "a bad lab argument is the lab's exit 2, passed on" {
    assert_bad_argument "--requests" "$BUILD/leaklab" hunt 7 --out "$BATS_TEST_TMPDIR/out" -- --requests 0
}

# --------------------------------------------------------------------------
# A program by its path: an exercise, as `leaklab run PATH` takes one
# --------------------------------------------------------------------------

# sessions_requests FILE - 2000 requests for exercise 7: a login, then its
# logout, 1000 times over (a row per 1000 requests: rows 1 and 2).
sessions_requests() {
    awk 'BEGIN { for (i = 1; i <= 1000; i++)
                     printf "login u%d open-sesame\nlogout %d\n", i % 50, i }' >"$1"
}

@test "hunt PATH: exercise 7's leak is audit_keep, recorded under OUT/ex7-sessions" {
    local out=$BATS_TEST_TMPDIR/out req=$BATS_TEST_TMPDIR/requests
    sessions_requests "$req"
    run "$BUILD/leaklab" hunt "$BUILD/exercises/ex7-sessions" --at 0,1,2 --out "$out" -- \
        "$req" "$BATS_TEST_TMPDIR/replies"
    assert_success
    assert_line --regexp '^ex7-sessions serve: leak\? audit_keep \(labs/exercises/ex7-sessions\.c:[0-9]+\) grew in every interval'
    local tsv=$out/ex7-sessions/serve-hunt.tsv
    assert_equal "$(first_leak "$tsv")" audit_keep
    assert_equal "$(hunt_comment "$tsv" top_site)" audit_keep
    assert_equal "$(hunt_comment "$tsv" at)" 0,1,2
    [[ -s $out/ex7-sessions/serve-hunt.log ]] || fail "no serve-hunt.log"
    [[ ! -e $out/lab7 ]] || fail "records went to $out/lab7"
}

@test "hunt PATH that is not an executable file exits 2 with one line naming it" {
    local plain=$BATS_TEST_TMPDIR/not-a-program
    printf 'hello\n' >"$plain"
    assert_bad_argument "'$plain' is not a program" "$BUILD/leaklab" hunt "$plain"
    assert_bad_argument "'$BATS_TEST_TMPDIR/nosuch'" "$BUILD/leaklab" hunt "$BATS_TEST_TMPDIR/nosuch"
}

# --------------------------------------------------------------------------
# The runner's memwatch-style signal: leak_suspected_at
# --------------------------------------------------------------------------

@test "leak_suspected_at is set for lab 7 frequent and lab 1 retain" {
    leaklab_run 7 frequent
    assert_success
    assert_meta "$META" leak_suspected_at 10
    assert_line --regexp '^  frequent +finished +✓ .*  leak suspected at 10$'
    leaklab_run 1 retain
    assert_success
    assert_meta "$META" leak_suspected_at 10
}

@test "leak_suspected_at is not set for lab 7 fixed and once, lab 1 release, lab 4 bounded" {
    local run
    for run in 7:fixed 7:once 1:release 4:bounded; do
        leaklab_run "${run%%:*}" "${run#*:}"
        assert_success
        ! grep -q '^leak_suspected_at=' "$META" || fail "$run: $(grep leak_suspected_at "$META")"
        refute_output --partial "leak suspected"
    done
}
