#!/usr/bin/env bats
# The runner's promises (harness/leaklab.c): a lab dies with it; nothing
# after -- contradicts it; it exits with a verdict; it holds its records
# alone; it refuses caps and descriptions it cannot use; and no argument
# can forge a line in its records. Lab 1 is the usual test subject; fake
# labs (small scripts) stand in for broken ones.

load test_helper

setup() {
    OUT=$BATS_TEST_TMPDIR/out
    FAKE=$BATS_TEST_TMPDIR/fake
}

# A test that fails halfway leaves nothing running: neither a long run
# nor what a fake lab started.
teardown() {
    stop_long_run
    [[ ! -s $FAKE/pid ]] || kill -KILL "$(cat "$FAKE/pid")" 2>/dev/null || true
}

# --------------------------------------------------------------------------
# Fake labs
# --------------------------------------------------------------------------

# fake_lab_script SCRIPT - $FAKE, a build directory of its own: a copy of
# leaklab (it looks for labs beside itself, through /proc/self/exe) and
# lab7, holding SCRIPT.
fake_lab_script() {
    mkdir -p "$FAKE"
    cp "$BUILD/leaklab" "$FAKE/leaklab"
    printf '%s\n' "$1" >"$FAKE/lab7"
    chmod +x "$FAKE/lab7"
}

# fake_lab KEY=VALUE... - lab7 answers --describe with these fields, tab-
# separated; asked to run, it leaves $FAKE/ran and becomes lab 1's retain
# (1 MiB more each iteration), whatever mode it was given.
fake_lab() {
    local IFS=$'\t'
    fake_lab_script "#!/usr/bin/env bash
[[ \$1 == --describe ]] && exec cat $(printf %q "$FAKE/describe")
touch $(printf %q "$FAKE/ran")
exec $(printf %q "$BUILD/lab1") --quiet --mode retain --iterations 200 --size 1M"
    printf '%s\n' "$*" >"$FAKE/describe"
}

# The fields of a lab the runner accepts: one mode, a, killed at 16 MiB.
GOOD=(lab=7 title=fake modes=a cap_kind.a=kill cap.a=16M caption.a=c expect.a=killed)

# --------------------------------------------------------------------------
# A lab dies with its runner
# --------------------------------------------------------------------------

@test "a SIGKILLed runner takes its lab with it" {
    start_long_run
    kill -KILL "$RUNNER"
    wait "$RUNNER" || true
    wait_until is_gone "$LAB"
}

# --------------------------------------------------------------------------
# Lab arguments
# --------------------------------------------------------------------------

@test "a lab killed in the middle of a row leaves the runner's TSV at its last whole row" {
    local lab=$BATS_TEST_TMPDIR/cut-lab tsv=$BATS_TEST_TMPDIR/out/cut-lab/retain.tsv
    # A lab that is lab 1 to --describe, then writes a header, a row and
    # half a row, and dies by SIGKILL: what a page boundary can do.
    cat >"$lab" <<EOF
#!/bin/bash
case " \$* " in *" --describe "*) exec "$BUILD/lab1" --describe ;; esac
printf 'iter\\tt_ms\\trss_kib\\n0\\t0.100\\t1768\\n1\\t0.4' >"\$LEAKLAB_TSV"
kill -KILL \$\$
EOF
    chmod +x "$lab"
    run "$BUILD/leaklab" run "$lab" --mode retain --quiet --out "$BATS_TEST_TMPDIR/out"
    assert_failure 1                    # retain expects to finish
    assert_meta "${tsv%.tsv}.meta" signal_name SIGKILL
    assert_equal "$(cat "$tsv")" "$(printf 'iter\tt_ms\trss_kib\n0\t0.100\t1768')"
    [[ $(tail -c 1 "$tsv" | od -An -c | tr -d ' ') == '\n' ]] || fail "$tsv does not end with its last whole row"
}

@test "a lab argument may not set what the runner sets, in any spelling" {
    local bad
    for bad in --mode --mode=retain --mo -m -mretain -qn5 --tsv --tsv=x --t \
               --describe --d --help --h -h --quiet --quiet=1 --q -q; do
        assert_bad_argument "$bad" "$BUILD/leaklab" run 1 --mode release \
            --out "$OUT" -- --iterations 1 "$bad" retain
        [[ ! -e $OUT/lab1/release.meta ]] || fail "$bad: a run was recorded"
    done
}

@test "after the lab's own --, a file may be called -q" {
    cd "$BATS_TEST_TMPDIR"
    "$BUILD/lab5" --make-input 64K ./-q
    run "$BUILD/leaklab" run 5 --mode stream --quiet --out "$OUT" -- -- -q copy
    assert_success
    assert_same_file ./-q copy
}

@test "a lab argument that is one of the runner's records is refused, and the file kept" {
    local in=$BATS_TEST_TMPDIR/in arg
    "$BUILD/lab5" --make-input 64K "$in"
    leaklab_run 5 stream -- "$in" "$BATS_TEST_TMPDIR/copy"
    assert_success
    cp "$TSV" "$BATS_TEST_TMPDIR/saved"
    ln "$TSV" "$BATS_TEST_TMPDIR/hard"
    ln -s "$TSV" "$BATS_TEST_TMPDIR/soft"
    for arg in "$TSV" "$OUT/lab5/../lab5/stream.tsv" "$BATS_TEST_TMPDIR/hard" \
               "$BATS_TEST_TMPDIR/soft" "$META" "$OUT/lab5/lab.meta"; do
        assert_bad_argument "$arg" "$BUILD/leaklab" run 5 --mode stream --quiet \
            --out "$OUT" -- "$arg" "$BATS_TEST_TMPDIR/copy2"
        assert_same_file "$BATS_TEST_TMPDIR/saved" "$TSV"
    done
}

# --------------------------------------------------------------------------
# Exit codes: a verdict
# --------------------------------------------------------------------------

# but_switch_notice - $stderr without the line a sanitizer build adds
# (its rlimit modes capped by the watchdog instead).
but_switch_notice() {
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    grep -v 'RLIMIT_AS cannot cap it' <<<"$stderr" || true
}

@test "a lab's usage error stops the runner at the first mode: its one line, exit 2, no records" {
    run --separate-stderr "$BUILD/leaklab" run 5 --quiet --out "$OUT"
    assert_failure 2
    assert_equal "$(but_switch_notice | grep -c '')" 1
    [[ $(but_switch_notice) == "lab5: missing SRC DST"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$BUILD/leaklab" run 1 --quiet --out "$OUT" -- --iterations abc
    assert_failure 2
    assert_equal "$(but_switch_notice | grep -c '')" 1
    [[ $(but_switch_notice) == "lab1: bad --iterations 'abc'"* ]] || fail "stderr: $stderr"
    run find "$OUT" -name '*.tsv' -o -name '*.meta' ! -name lab.meta
    assert_output ""
}

@test "every mode of every lab declares the verdict it expects" {
    local bin mode
    for bin in "$BUILD"/lab[0-9]*; do
        [[ $bin != *.d ]] || continue
        run "$bin" --describe
        assert_success
        for mode in $(tr '\t' '\n' <<<"$output" | sed -n 's/^modes=//p' | tr , ' '); do
            assert_output --regexp "	expect\.$mode=(finished|limit|killed)(	|$)"
        done
    done
}

@test "lab 2's classroom run ends as each mode expects, and leaklab exits 0" {
    run "$BUILD/leaklab" run 2 --quiet --out "$OUT"
    assert_success
    local pair mode want got
    for pair in budget:limit rlimit:limit kill:killed lazy:finished; do
        mode=${pair%%:*} want=${pair#*:}
        assert_meta "$OUT/lab2/$mode.meta" expect "$want"
        got=$(meta_value "$OUT/lab2/$mode.meta" verdict)
        # Under ASan the kill watchdog stands in for RLIMIT_AS (below).
        [[ $got == "$want" ]] ||
            [[ $(expected_rlimit_kind) == kill && $want == limit && $got == killed ]] ||
            fail "lab2 $mode ended $got; expected $want"
    done
}

@test "leaklab run exits 1 and names each run that did not end as its mode expects" {
    # Three modes, one lab run: each is killed at 16 MiB; only a expects it.
    fake_lab lab=7 title=fake modes=a,b,c caption.a=c caption.b=c caption.c=c \
        cap_kind.a=kill cap_kind.b=kill cap_kind.c=kill cap.a=16M cap.b=16M cap.c=16M \
        expect.a=killed expect.b=finished expect.c=limit
    run --separate-stderr "$FAKE/leaklab" run 7 --quiet --out "$OUT"
    assert_failure 1
    assert_equal "$stderr" "leaklab: lab7: 2 of 3 runs did not end as their modes expect: b killed (expected finished), c killed (expected limit)"
    assert_line --regexp '^  b +killed +✗ .*\(expected finished\)$'
    assert_line --regexp '^  a +killed +✓ '
    refute_line --regexp '^  a .*expected'
    local mode
    for mode in a b c; do   # it went on after b
        assert_meta "$OUT/lab7/$mode.meta" verdict killed
    done
}

@test "where a sanitizer's watchdog stands in for RLIMIT_AS, killed meets an expected limit" {
    fake_lab lab=7 title=fake modes=a cap_kind.a=rlimit cap.a=16M caption.a=c \
        expect.a=limit sanitizer=address
    run --separate-stderr "$FAKE/leaklab" run 7 --quiet --out "$OUT"
    assert_success
    [[ $stderr == *"RLIMIT_AS cannot cap it"* ]] || fail "stderr: $stderr"
    assert_meta "$OUT/lab7/a.meta" cap_kind kill
    assert_meta "$OUT/lab7/a.meta" verdict killed
    # The rule stretches limit to killed, and nothing else to anything.
    sed -i 's/expect.a=limit/expect.a=finished/' "$FAKE/describe"
    run "$FAKE/leaklab" run 7 --quiet --out "$OUT"
    assert_failure 1
}

# --------------------------------------------------------------------------
# One runner per records directory
# --------------------------------------------------------------------------

@test "a second runner on the same --out says who holds it, exits 1 and touches nothing" {
    start_long_run
    run --separate-stderr "$BUILD/leaklab" run 1 --mode retain --quiet --out "$OUT" \
        -- --iterations 1
    assert_failure 1
    assert_equal "$stderr" "leaklab: $OUT/lab1 in use by PID $RUNNER (another leaklab run); wait for it, or give another --out"
    [[ ! -e $OUT/lab1/retain.tsv ]] || fail "the second runner started retain"
    kill -0 "$LAB"   # the first run goes on
}

@test "lab.meta is written before the first mode runs" {
    start_long_run
    assert_meta "$OUT/lab1/lab.meta" modes retain,lose,release,narrow,sometimes
}

@test "the meta goes through a temporary name of the runner's own" {
    # Where the old shared temporary name is taken (here by directories),
    # the runner must not need it.
    mkdir -p "$OUT/lab1/release.meta.tmp" "$OUT/lab1/lab.meta.tmp"
    leaklab_run 1 release -- --iterations 1 --size 64K
    assert_success
    assert_meta "$META" verdict finished
    run find "$OUT/lab1" -name '*.tmp' -type f
    assert_output ""
}

# --------------------------------------------------------------------------
# Caps
# --------------------------------------------------------------------------

@test "a cap below what a lab needs to start is refused, with the minimum" {
    local cap
    for cap in 1 4K 1M 7M; do
        assert_bad_argument "--cap $cap is below 8M" "$BUILD/leaklab" run 1 \
            --mode release --cap "$cap" --out "$OUT"
        [[ ! -e $OUT/lab1/release.meta ]] || fail "--cap $cap: a run was recorded"
    done
    skip_if_sanitized "a sanitizer's shadow memory needs more than 8 MiB"
    leaklab_run 1 release --cap 8M -- --iterations 1 --size 64K
    assert_success
}

# --------------------------------------------------------------------------
# --describe is input too
# --------------------------------------------------------------------------

@test "a --describe the runner cannot use is refused: exit 1, one line naming the lab and the field" {
    local case fields want
    # Each case: what the line says instead of GOOD, then what the message names.
    for case in \
        "lab=7 title=fake modes=a cap.a=16M caption.a=c expect.a=killed|cap_kind.a=(none)" \
        "lab=7 title=fake modes=a cap_kind.a=bogus caption.a=c expect.a=killed|cap_kind.a=bogus" \
        "lab=7 title=fake modes=a cap_kind.a=none caption.a=c expect.a=killed|cap_kind.a=none" \
        "lab=7 title=fake modes=a cap_kind.a=kill caption.a=c|expect.a=(none)" \
        "lab=7 title=fake modes=a cap_kind.a=kill caption.a=c expect.a=maybe|expect.a=maybe" \
        "lab=7 title=fake modes=a cap_kind.a=kill cap.a=16Q caption.a=c expect.a=killed|cap.a=16Q" \
        "lab=7 title=fake modes=a cap_kind.a=kill cap.a=1M caption.a=c expect.a=killed|cap.a=1M" \
        "lab=7 title=fake modes=a cap_kind.a=kill expect.a=killed|caption.a" \
        "lab=8 title=fake modes=a cap_kind.a=kill caption.a=c expect.a=killed|lab=8" \
        "lab=7 modes=a cap_kind.a=kill caption.a=c expect.a=killed|no title" \
        "lab=7 title=fake cap_kind.a=kill caption.a=c expect.a=killed|no modes" \
        "lab=7 title=fake modes=lab cap_kind.lab=kill caption.lab=c expect.lab=killed|mode 'lab'" \
        "lab=7 title=fake modes=a cap_kind.a=kill cap_kind.a=kill caption.a=c expect.a=killed|cap_kind.a given twice" \
        "lab=7 title=fake modes=a cap_kind.a=kill caption.a=c expect.a=killed sanitizer=msan|sanitizer=msan" \
        "lab=7 title=fake modes=a cap_kind.a=kill caption.a=c expect.a=killed garbage|'garbage'"; do
        read -ra fields <<<"${case%|*}"
        want=${case#*|}
        rm -f "$FAKE/ran"
        fake_lab "${fields[@]}"
        for cmd in "run 7 --out $OUT" list; do
            # shellcheck disable=SC2086 # the words of one command line
            run --separate-stderr "$FAKE/leaklab" $cmd
            assert_failure 1
            # shellcheck disable=SC2154  # set by bats' run --separate-stderr
            assert_equal "${#stderr_lines[@]}" 1
            [[ $stderr == "leaklab: $FAKE/lab7 --describe: "*"$want"* ]] ||
                fail "${case%|*}: '$stderr' does not name $want"
        done
        [[ ! -e $FAKE/ran ]] || fail "${case%|*}: the lab ran"
    done
}

@test "a --describe of two lines is refused" {
    fake_lab "${GOOD[@]}"
    printf 'modes=b\n' >>"$FAKE/describe"
    run --separate-stderr "$FAKE/leaklab" run 7 --out "$OUT"
    assert_failure 1
    assert_equal "$stderr" "leaklab: $FAKE/lab7 --describe: not one line of text"
}

@test "a lab that does not answer --describe is killed after 2 s, with all it started" {
    fake_lab_script "#!/bin/sh
sleep 600 &
echo \$! >$(printf %q "$FAKE/pid")
wait"
    local cmd
    for cmd in "run 7 --out $OUT" list; do
        # timeout: so that a runner that waits for ever fails, not hangs.
        # shellcheck disable=SC2086 # the words of one command line
        run --separate-stderr timeout -k 5 30 "$FAKE/leaklab" $cmd
        assert_failure 1
        assert_equal "$stderr" "leaklab: $FAKE/lab7 --describe: no answer within 2 s; killed it"
        wait_until is_gone "$(cat "$FAKE/pid")"
    done
}

@test "the fields of a good fake lab are accepted: it runs, and ends as it expects" {
    fake_lab "${GOOD[@]}"
    run "$FAKE/leaklab" run 7 --quiet --out "$OUT"
    assert_success
    [[ -e $FAKE/ran ]]
    assert_meta "$OUT/lab7/a.meta" verdict killed
}

# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------

@test "with stdout closed, a run still works and nothing the lab prints lands in a record" {
    # shellcheck disable=SC2016 # $1 and $2 are the inner shell's
    run --separate-stderr bash -c '"$1" run 1 --mode release --out "$2" -- --iterations 2 --size 64K >&-' \
        _ "$BUILD/leaklab" "$OUT"
    assert_success
    assert_meta "$OUT/lab1/release.meta" verdict finished
    assert_rows_whole "$OUT/lab1/release.tsv"
    assert_equal "$(tsv_rows "$OUT/lab1/release.tsv")" 3
}

@test "a newline in a lab argument cannot forge a line in the meta or the TSV" {
    local in=$BATS_TEST_TMPDIR/in
    "$BUILD/lab5" --make-input 64K "$in"
    leaklab_run 5 stream -- "$in" "$BATS_TEST_TMPDIR/x"$'\nverdict=killed'
    assert_success
    assert_equal "$(grep -c '^verdict=' "$META")" 1
    assert_meta "$META" verdict finished
    grep -qF 'x\nverdict=killed' "$META" || fail "argv not escaped: $(cat "$META")"
    run tsv_header "$TSV"
    assert_output --regexp '^iter	t_ms	'
    grep -qF 'x\nverdict=killed' "$TSV" || fail "# argv not escaped"
}

@test "records write a backslash, a tab and other control bytes as escapes" {
    local in=$BATS_TEST_TMPDIR/in
    "$BUILD/lab5" --make-input 64K "$in"
    leaklab_run 5 stream -- "$in" "$BATS_TEST_TMPDIR/"$'a\\b\tc\x01d\x7fe'
    assert_success
    grep -qF '/a\\b\tc\x01d\x7fe' "$META" || fail "argv: $(grep '^argv=' "$META")"
    grep -qF '/a\\b\tc\x01d\x7fe' "$TSV" || fail "TSV: $(grep '^# argv=' "$TSV")"
}

@test "lab.meta holds every field of --describe, one a line, with the cap applied" {
    leaklab_run 1 release -- --iterations 1 --size 64K
    assert_success
    local lab_meta=$OUT/lab1/lab.meta ram quarter
    diff <("$BUILD/lab1" --describe | tr '\t' '\n' |
           sed "s/^cap_kind\.release=.*/cap_kind.release=$(expected_rlimit_kind)/") \
         <(grep -v '^cap_bytes\.' "$lab_meta") || fail "lab.meta is not describe's fields"
    ram=$(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) ))
    quarter=$(( ram / 4 ))
    assert_equal "$(grep '^cap_bytes\.' "$lab_meta")" \
        "cap_bytes.release=$(( quarter < 2147483648 ? quarter : 2147483648 ))"
}

@test "lab.meta gives the cap kind applied, and escapes what it copies" {
    fake_lab lab=7 'title=back\slash' modes=a cap_kind.a=kill cap.a=16M \
        caption.a=c expect.a=killed
    run "$FAKE/leaklab" run 7 --quiet --cap-kind rlimit --cap 64M --out "$OUT"
    assert_failure 1     # it expects the kill cap's verdict
    grep -qxF 'title=back\\slash' "$OUT/lab7/lab.meta" || fail "$(cat "$OUT/lab7/lab.meta")"
    assert_meta "$OUT/lab7/lab.meta" cap_kind.a rlimit
    assert_meta "$OUT/lab7/lab.meta" cap_bytes.a $(( 64 << 20 ))
}

@test "leaklab --help gives the exit codes: 0 only when every run ends as its mode expects" {
    run "$BUILD/leaklab" --help
    assert_success
    assert_output --partial "Exit codes: 0 every run ended with the verdict its mode expects"
}

@test "the runner names a bad option as it was typed, not as its short form" {
    assert_bad_argument "'--quiet' takes no value" "$BUILD/leaklab" run 1 --quiet=1
    assert_bad_argument "'--help' takes no value" "$BUILD/leaklab" run --help=1 1
    assert_bad_argument "'--frob'" "$BUILD/leaklab" run 1 --frob
}

@test "the runner calls an ambiguous option ambiguous and lists what it could be" {
    assert_bad_argument "'--c' is ambiguous: --cap, --cap-kind" "$BUILD/leaklab" run 1 --c 8M
}
