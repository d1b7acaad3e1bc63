#!/usr/bin/env bats
# leaklab quiz (harness/quiz.c): a scenario per seed, the same on every
# machine; an answer judged by a run of the lab, right within the
# tolerance the question states and wrong past it; bad input refused
# before anything runs; nothing left behind, even after a Ctrl-C.
#
# Time: a quiz run of labs 2 to 7 takes milliseconds (a few MiB), so
# each of them is checked on 20 seeds, --show then --answer. Lab 1's
# runs under Valgrind, a quarter of a second each however small the lab
# (most of it Valgrind's own start), so lab 1 is checked on 10 seeds:
# 20 runs, about 6 s, rather than 40 runs and 12 s of `make test`'s
# three minutes. Seeds 1 to 10 meet lose, sometimes and narrow: both
# ways to lose bytes, and a mode whose bytes are not lost.

load test_helper

setup() {
    QUIZ_TMP=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$QUIZ_TMP"
    FAKE=$BATS_TEST_TMPDIR/fake
}

# A test that fails halfway leaves nothing running.
teardown() {
    [[ -z ${QUIZ_PID:-} ]] || kill -KILL "$QUIZ_PID" 2>/dev/null || true
    [[ ! -s $FAKE/pid ]] || kill -KILL "$(cat "$FAKE/pid")" 2>/dev/null || true
}

# quiz ARGS... - build/leaklab quiz ARGS, under `run --separate-stderr`,
# with TMPDIR a directory of the test's own.
quiz() {
    run --separate-stderr env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz "$@"
}

# show_answer N SEED - `quiz N --seed SEED --show`; sets ANSWER to the X of
# its last line, "answer: X". Fails unless it exits 0 with such a line.
show_answer() {
    quiz "$1" --seed "$2" --show
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $status -eq 0 ]] || fail "quiz $1 --seed $2 --show: exit $status: $stderr" || return
    [[ ${lines[-1]} =~ ^answer:\ (.+)$ ]] ||
        fail "quiz $1 --seed $2 --show: the last line is '${lines[-1]}', not 'answer: X'" || return
    ANSWER=${BASH_REMATCH[1]}
}

# assert_judged N SEED ANSWER right|wrong - `quiz N --seed SEED --answer
# ANSWER` exits 0 and says right, or exits 1 and says wrong; either way
# with the measured value ("you said") and a why line.
assert_judged() {
    local n=$1 seed=$2 answer=$3 verdict=$4 want=0
    [[ $verdict == right ]] || want=1
    quiz "$n" --seed "$seed" --answer "$answer"
    [[ $status -eq $want && ${lines[1]:-} == "$verdict: "*"; you said $answer "* &&
       ${lines[2]:-} == "why: "?* ]] ||
        fail "quiz $n --seed $seed --answer $answer: exit $status, expected $want ($verdict):
$output
$stderr"
}

# assert_show_is_right N COUNT - for seeds seed1 to seedCOUNT, the answer
# --show gives is judged right by --answer.
assert_show_is_right() {
    local n=$1 seed k
    # Not i: bats' run sets an i of its own, which would be this one.
    for ((k = 1; k <= $2; k++)); do
        seed=seed$k
        show_answer "$n" "$seed" || return
        assert_judged "$n" "$seed" "$ANSWER" right || return
    done
}

# scenario_commands N SEED - the command lines of the scenario: what it
# runs, without the lines naming the seed.
scenario_commands() {
    "$BUILD/leaklab" quiz "$1" --seed "$2" | grep -E '^    (build/lab|valgrind)|^    build/leaklab run'
}

# --------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------

@test "quiz N prints a scenario and a question with its tolerance, and runs nothing" {
    local title=(x "closure-captured state" "heap growth to the cap" "off-heap buffers"
                 "unbounded queue" "stream copy" "unbounded cache" "a leak in a running server")
    local tolerance=(x "tolerance is 0" "tolerance is 0" "within 1.5 MiB either way"
                     "tolerance is 0" "within 0.5 MiB of 4 MiB" "tolerance is 0" "tolerance is 0")
    for n in 1 2 3 4 5 6 7; do
        quiz "$n" --seed alice
        assert_success
        assert_line --index 0 "Quiz for lab $n, ${title[n]} (seed alice)"
        assert_line --partial "Question: "
        [[ $(tr '\n' ' ' <<<"$output") == *"${tolerance[n]}"* ]] ||
            fail "quiz $n does not state its tolerance ('${tolerance[n]}'): $output"
        assert_line "    build/leaklab quiz $n --seed alice --answer X   runs it and judges X"
    done
    run find "$QUIZ_TMP" -mindepth 1
    assert_output ""
}

@test "the same seed prints the same scenario, byte for byte" {
    for n in 1 2 3 4 5 6 7; do
        "$BUILD/leaklab" quiz "$n" --seed 'same.seed' >"$BATS_TEST_TMPDIR/a"
        "$BUILD/leaklab" quiz "$n" --seed 'same.seed' >"$BATS_TEST_TMPDIR/b"
        assert_same_file "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
    done
}

# These lines were printed on the machine that wrote the test: the seed
# alone decides them (integer arithmetic, no rand(), nothing read from the
# machine), so every machine prints them.
@test "a seed gives the same scenario on every machine" {
    run scenario_commands 1 golden
    assert_output "    valgrind --leak-check=full build/lab1 --quiet --mode release --iterations 24 --size 39K"
    run scenario_commands 2 golden
    assert_output "    build/leaklab run 2 --mode budget -- --size 3264K --max-heap 16M --iterations 40"
    run scenario_commands 3 golden
    assert_output "    build/leaklab run 3 --mode offheap --cap 16M -- --size 3M --max-heap 4M --iterations 4"
    run scenario_commands 4 golden
    assert_output "    build/leaklab run 4 --mode unbounded -- --size 4K --produce 2 --consume 1 --capacity 11 --iterations 25"
    run scenario_commands 5 golden
    assert_output "    build/lab5 --make-input 5888K in.bin
    build/leaklab run 5 -- --buffer 6M in.bin copy.bin"
    run scenario_commands 6 golden
    assert_output "    build/leaklab run 6 --mode limit -- --size 4K --requests 169 --new-keys 33 --max-entries 164 --iterations 5"
    run scenario_commands 7 golden
    assert_output "    build/leaklab run 7 --mode hidden -- --size 4K --requests 27 --ttl 7 --iterations 13"
}

@test "different seeds give different scenarios" {
    for n in 1 2 3 4 5 6 7; do
        a=$(scenario_commands "$n" alice) b=$(scenario_commands "$n" bob)
        [[ -n $a && $a != "$b" ]] || fail "quiz $n: alice and bob get the same run: $a"
    done
}

@test "the default seed is the user name" {
    id -un >/dev/null 2>&1 || skip "this uid has no user name"
    for n in 1 2 3 4 5 6 7; do
        "$BUILD/leaklab" quiz "$n" >"$BATS_TEST_TMPDIR/default"
        "$BUILD/leaklab" quiz "$n" --seed "$(id -un)" >"$BATS_TEST_TMPDIR/named"
        assert_same_file "$BATS_TEST_TMPDIR/named" "$BATS_TEST_TMPDIR/default"
    done
    run "$BUILD/leaklab" quiz 2
    assert_line --index 0 --partial "(seed $(id -un))"
}

# A user the password database does not know (a uid without an entry, as
# in some containers): the name comes from $USER, then $LOGNAME. Only
# root can take another uid, with setpriv.
@test "a user without a password entry gets \$USER, then \$LOGNAME, as the seed" {
    [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null || skip "needs root and setpriv"
    ! getent passwd 54321 >/dev/null || skip "uid 54321 has a password entry here"
    as_nobody() { setpriv --reuid=54321 --regid=54321 --clear-groups env -u USER -u LOGNAME "$@"; }
    as_nobody USER=carol LOGNAME=dave "$BUILD/leaklab" quiz 2 >"$BATS_TEST_TMPDIR/user"
    "$BUILD/leaklab" quiz 2 --seed carol >"$BATS_TEST_TMPDIR/carol"
    assert_same_file "$BATS_TEST_TMPDIR/carol" "$BATS_TEST_TMPDIR/user"
    as_nobody LOGNAME=dave "$BUILD/leaklab" quiz 2 >"$BATS_TEST_TMPDIR/logname"
    "$BUILD/leaklab" quiz 2 --seed dave >"$BATS_TEST_TMPDIR/dave"
    assert_same_file "$BATS_TEST_TMPDIR/dave" "$BATS_TEST_TMPDIR/logname"
    run as_nobody "$BUILD/leaklab" quiz 2
    assert_line --index 0 --partial "(seed uid54321)"
}

# --------------------------------------------------------------------------
# Judging: --show's answer is right, an answer past the tolerance wrong
# --------------------------------------------------------------------------

@test "quiz 1: for 10 seeds, the answer --show gives is judged right (Valgrind's bytes)" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    assert_show_is_right 1 10
}

@test "quiz 2: for 20 seeds, the answer --show gives is judged right (the iteration it dies)" {
    assert_show_is_right 2 20
}

@test "quiz 3: for 20 seeds, the answer --show gives is judged right (peak rss)" {
    skip_if_sanitized "a sanitizer build cannot take quiz 3's RLIMIT_AS cap"
    assert_show_is_right 3 20
}

@test "quiz 4: for 20 seeds, the answer --show gives is judged right (the depth)" {
    assert_show_is_right 4 20
}

@test "quiz 5: for 20 seeds, the answer --show gives is judged right (modes under 4 MiB)" {
    assert_show_is_right 5 20
}

@test "quiz 6: for 20 seeds, the answer --show gives is judged right (the cache's entries)" {
    assert_show_is_right 6 20
}

@test "quiz 7: for 20 seeds, the answer --show gives is judged right (the server's sessions)" {
    assert_show_is_right 7 20
}

@test "quiz 1: a byte more or less than Valgrind's count is wrong" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    for seed in w1 w2; do
        show_answer 1 "$seed"
        assert_judged 1 "$seed" $((ANSWER + 1)) wrong
        (( ANSWER == 0 )) || assert_judged 1 "$seed" $((ANSWER - 1)) wrong
    done
}

@test "quiz 2: one iteration early or late is wrong" {
    for seed in w1 w2 w3; do
        show_answer 2 "$seed"
        assert_judged 2 "$seed" $((ANSWER + 1)) wrong
        assert_judged 2 "$seed" $((ANSWER - 1)) wrong
    done
}

@test "quiz 6: one entry more or less is wrong" {
    for seed in w1 w2 w3; do
        show_answer 6 "$seed"
        assert_judged 6 "$seed" $((ANSWER + 1)) wrong
        assert_judged 6 "$seed" $((ANSWER - 1)) wrong
    done
}

@test "quiz 7: one session more or less is wrong" {
    for seed in w1 w2 w3; do
        show_answer 7 "$seed"
        assert_judged 7 "$seed" $((ANSWER + 1)) wrong
        assert_judged 7 "$seed" $((ANSWER - 1)) wrong
    done
}

# The tolerance is 1.5 MiB. Two runs of the same scenario differ by a
# fraction of that, so 1.0 MiB off is still right and 2.0 MiB off wrong.
@test "quiz 3: 1 MiB off is right, 2 MiB off is wrong: the tolerance is 1.5 MiB" {
    skip_if_sanitized "a sanitizer build cannot take quiz 3's RLIMIT_AS cap"
    for seed in w1 w2 w3; do
        show_answer 3 "$seed"
        assert_judged 3 "$seed" "$(awk -v a="$ANSWER" 'BEGIN { printf "%.1f", a + 1.0 }')" right
        assert_judged 3 "$seed" "$(awk -v a="$ANSWER" 'BEGIN { printf "%.1f", a - 1.0 }')" right
        assert_judged 3 "$seed" "$(awk -v a="$ANSWER" 'BEGIN { printf "%.1f", a + 2.0 }')" wrong
        assert_judged 3 "$seed" "$(awk -v a="$ANSWER" 'BEGIN { printf "%.1f", a - 2.0 }')" wrong
    done
}

@test "quiz 4: one job more or less is wrong" {
    for seed in w1 w2 w3; do
        show_answer 4 "$seed"
        assert_judged 4 "$seed" $((ANSWER + 1)) wrong
        (( ANSWER == 0 )) || assert_judged 4 "$seed" $((ANSWER - 1)) wrong
    done
}

# zerocopy's peak is the lab's own rss, far from the 4 MiB line (1.5 MiB
# under it; 2 MiB over it under ASan): naming it wrongly is never within
# the tolerance.
@test "quiz 5: a mode named or left out wrongly is wrong" {
    for seed in w1 w2 w3; do
        show_answer 5 "$seed"
        local flipped
        if [[ ,$ANSWER, == *,zerocopy,* ]]; then
            flipped=$(tr ',' '\n' <<<"$ANSWER" | grep -vx zerocopy | paste -sd,)
            flipped=${flipped:-none}
        elif [[ $ANSWER == none ]]; then
            flipped=zerocopy
        else
            flipped=$ANSWER,zerocopy
        fi
        assert_judged 5 "$seed" "$flipped" wrong
        assert_judged 5 "$seed" "$ANSWER" right
    done
}

@test "quiz 3 takes MiB written with M or MiB after the number" {
    skip_if_sanitized "a sanitizer build cannot take quiz 3's RLIMIT_AS cap"
    show_answer 3 spelling
    assert_judged 3 spelling "${ANSWER}MiB" right
    assert_judged 3 spelling "${ANSWER}M" right
}

@test "quiz 1 takes bytes written with thousands commas, as Valgrind writes them" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    show_answer 1 commas
    (( ANSWER >= 1000 )) || fail "seed 'commas' loses $ANSWER bytes; this test wants 1000 or more"
    assert_judged 1 commas "$(rev <<<"$ANSWER" | sed 's/[0-9]\{3\}/&,/g; s/,$//' | rev)" right
}

@test "quiz 5 takes the modes in any order" {
    show_answer 5 order
    # Under ASan every mode's rss is over 4 MiB: the answer is none.
    [[ $ANSWER == *,* ]] || skip "seed 'order' has fewer than two modes under the line here: $ANSWER"
    assert_judged 5 order "$(tr ',' '\n' <<<"$ANSWER" | tac | paste -sd,)" right
}

# The tests above compare the quiz with itself. These compare it with the
# lab run by hand, with the golden scenarios' arguments: the answer must
# be what the lab's own records say, and what the arithmetic says where
# the rules decide.
@test "quiz 1's answer is the bytes Valgrind reports for the same run by hand" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    run scenario_commands 1 commas
    assert_output "    valgrind --leak-check=full build/lab1 --quiet --mode lose --iterations 18 --size 54K"
    run_memcheck 1 --mode lose --iterations 18 --size 54K
    assert_equal "$(leak_bytes "$VGLOG" "definitely lost")" $((17 * (54 * 1024 + 16)))
    show_answer 1 commas
    assert_equal "$ANSWER" $((17 * (54 * 1024 + 16)))
}

@test "quiz 2's and quiz 4's answers are what the records say, and the arithmetic" {
    leaklab_run 2 budget -- --size 3264K --max-heap 16M --iterations 40
    assert_meta "$META" verdict limit
    assert_equal $(( $(last_iter "$TSV") + 1 )) $((16 * 1024 / 3264 + 1))
    show_answer 2 golden
    assert_equal "$ANSWER" $((16 * 1024 / 3264 + 1))
    leaklab_run 4 unbounded -- --size 4K --produce 2 --consume 1 --capacity 11 --iterations 25
    assert_equal "$(last_value "$TSV" depth)" $((25 * (2 - 1)))
    show_answer 4 golden
    assert_equal "$ANSWER" $((25 * (2 - 1)))
}

@test "quiz 6's and quiz 7's answers are what the records say, and the arithmetic" {
    leaklab_run 6 limit -- --size 4K --requests 169 --new-keys 33 --max-entries 164 --iterations 5
    assert_equal "$(last_value "$TSV" entries)" 164            # min(164, 33 x 5)
    show_answer 6 golden
    assert_equal "$ANSWER" 164
    leaklab_run 7 hidden -- --size 4K --requests 27 --ttl 7 --iterations 13
    assert_equal "$(last_value "$TSV" sessions)" $(((27 * 3 / 10 - 27 / 10) * 7))
    show_answer 7 golden
    assert_equal "$ANSWER" $(((27 * 3 / 10 - 27 / 10) * 7))
}

@test "quiz 3's answer is the peak rss the runner records for the same run, within 0.5 MiB" {
    skip_if_sanitized "a sanitizer build cannot take quiz 3's RLIMIT_AS cap"
    leaklab_run 3 offheap --cap 16M -- --size 3M --max-heap 4M --iterations 4
    local peak
    peak=$(meta_number "$META" peak_rss_kib)
    show_answer 3 golden
    awk -v a="$ANSWER" -v p="$peak" 'BEGIN { d = a - p / 1024; exit !(d <= 0.5 && d >= -0.5) }' ||
        fail "quiz 3 says $ANSWER MiB; the runner recorded a peak of $peak KiB"
}

@test "quiz 5's answer is the modes whose recorded peak is under 4 MiB" {
    local dir=$BATS_TEST_TMPDIR/copy mode under=()
    mkdir -p "$dir"
    "$BUILD/lab5" --quiet --make-input 5888K "$dir/in.bin"
    for mode in slurp stream zerocopy; do
        leaklab_run 5 "$mode" -- --buffer 6M "$dir/in.bin" "$dir/copy.bin"
        (( $(meta_value "$META" peak_rss_kib) < 4096 )) && under+=("$mode")
    done
    show_answer 5 golden
    local IFS=,
    assert_equal "$ANSWER" "${under[*]:-none}"
}

# --------------------------------------------------------------------------
# Bad input: exit 2, one line naming it, before anything runs
# --------------------------------------------------------------------------

@test "a bad --answer exits 2 naming it, and runs nothing" {
    for bad in "" x -1 4.0 +4 " 4" 1e3 1,00 ,100 1,0000 7x; do
        assert_bad_argument "'$bad'" env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz 2 --seed a --answer "$bad"
        assert_bad_argument "'$bad'" env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz 4 --seed a --answer "$bad"
        assert_bad_argument "'$bad'" env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz 1 --seed a --answer "$bad"
        assert_bad_argument "'$bad'" env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz 6 --seed a --answer "$bad"
        assert_bad_argument "'$bad'" env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz 7 --seed a --answer "$bad"
    done
    for bad in "" x -1 nan inf 1. .5 12MB 0x10 1e3; do
        assert_bad_argument "'$bad'" env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz 3 --seed a --answer "$bad"
    done
    for bad in "" slurp,foo "stream," ",stream" stream,stream None none,stream "stream zerocopy"; do
        assert_bad_argument "'$bad'" env TMPDIR="$QUIZ_TMP" "$BUILD/leaklab" quiz 5 --seed a --answer "$bad"
    done
    assert_bad_argument "'4\n'" "$BUILD/leaklab" quiz 2 --answer $'4\n'
    run find "$QUIZ_TMP" -mindepth 1
    assert_output ""
}

@test "a bad --seed exits 2 naming it" {
    for bad in "" "a b" .dot -dash +plus "é" "a/b" "a'b" "$(printf 'x%.0s' {1..65})"; do
        assert_bad_argument "'$bad'" "$BUILD/leaklab" quiz 2 --seed "$bad"
    done
    assert_bad_argument "'a\nb'" "$BUILD/leaklab" quiz 2 --seed $'a\nb'
    run "$BUILD/leaklab" quiz 2 --seed "$(printf 'x%.0s' {1..64})"
    assert_success
}

@test "a bad lab number or option exits 2 naming it" {
    assert_bad_argument "lab number" "$BUILD/leaklab" quiz
    for bad in 0 8 x lab lab02 02 -1; do
        assert_bad_argument "$bad" "$BUILD/leaklab" quiz -- "$bad"
    done
    assert_bad_argument "'3'" "$BUILD/leaklab" quiz 2 3
    assert_bad_argument "--frob" "$BUILD/leaklab" quiz 2 --frob
    assert_bad_argument "--seed" "$BUILD/leaklab" quiz 2 --seed
    assert_bad_argument "--show" "$BUILD/leaklab" quiz 2 --show=1
    assert_bad_argument "--show" "$BUILD/leaklab" quiz 2 --show --answer 3
    run "$BUILD/leaklab" quiz --seed bob lab2
    assert_success
    assert_line --index 0 "Quiz for lab 2, heap growth to the cap (seed bob)"
}

# Valgrind cannot run an ASan build, and RLIMIT_AS cannot cap one: quiz 1
# and quiz 3 say so rather than ask a question the run cannot decide.
@test "quizzes 1 and 3 under a sanitizer build say why they cannot run" {
    for n in 1 3; do
        run --separate-stderr env LEAKLAB_SANITIZER=address TMPDIR="$QUIZ_TMP" \
            "$BUILD/leaklab" quiz "$n" --seed a --show
        assert_failure 1
        local why=(x Valgrind x RLIMIT_AS)
        # shellcheck disable=SC2154  # set by bats' run --separate-stderr
        [[ ${#stderr_lines[@]} -eq 1 && $stderr == *"quiz $n cannot run on a sanitizer build"*"${why[n]}"* ]] ||
            fail "quiz $n: expected one line about ${why[n]} and the sanitizer: $stderr"
        assert_output ""
    done
    run find "$QUIZ_TMP" -mindepth 1
    assert_output ""
}

# --------------------------------------------------------------------------
# Nothing left behind
# --------------------------------------------------------------------------

@test "--answer and --show leave no temporary directory behind" {
    quiz 5 --seed tidy --show
    assert_success
    quiz 2 --seed tidy --answer 999
    assert_failure 1
    assert_line --index 1 --partial "wrong: "
    run find "$QUIZ_TMP" -mindepth 1
    assert_output ""
}

# A fake lab 2 (real --describe, then a long sleep) stands in for a long
# run: the quiz is stopped while its runner waits for the lab.
@test "a SIGINT or SIGTERM mid-run stops the lab and removes the temporary directory" {
    mkdir -p "$FAKE"
    cp "$BUILD/leaklab" "$FAKE/leaklab"
    printf '%s\n' "#!/usr/bin/env bash" \
        "[[ \$1 == --describe ]] && exec $(printf %q "$BUILD/lab2") --describe" \
        "echo \$\$ >$(printf %q "$FAKE/pid")" \
        "exec sleep 600" >"$FAKE/lab2"
    chmod +x "$FAKE/lab2"
    for sig in INT TERM; do
        rm -f "$FAKE/pid"
        TMPDIR=$QUIZ_TMP "$FAKE/leaklab" quiz 2 --seed a --show >/dev/null 2>&1 3>&- &
        QUIZ_PID=$!
        wait_until test -s "$FAKE/pid"
        local lab
        lab=$(cat "$FAKE/pid")
        run find "$QUIZ_TMP" -maxdepth 1 -name 'leaklab-quiz.*'
        assert_output --partial leaklab-quiz.
        kill -"$sig" "$QUIZ_PID"
        local rc=0
        wait "$QUIZ_PID" || rc=$?
        assert_equal "$rc" $((128 + $(kill -l "$sig")))
        QUIZ_PID=
        wait_until is_gone "$lab"
        run find "$QUIZ_TMP" -mindepth 1
        assert_output ""
    done
}

@test "leaklab --help names quiz, and quiz --help its options" {
    run "$BUILD/leaklab" --help
    assert_success
    assert_line --partial "leaklab quiz N [--seed S] [--answer X | --show]"
    run "$BUILD/leaklab" quiz --help
    assert_success
    for opt in --seed --answer --show --help "Exit codes"; do
        assert_line --partial -- "$opt"
    done
}
