#!/usr/bin/env bats
# Lab 7: a leak in a running server. The lab's own client sends batches of
# requests to its own server over loopback; these tests read the numbers
# it recorded, one row per batch, which the batches make exact (3 logins
# and 1 logout in every 10 requests). Others start the server alone
# (--serve) and send it requests with curl: the session routes, the bad
# input, and every way out of --root that we know of.

load test_helper

SIZE=64K       # a session's profile
ITERS=20       # batches
TTL=5          # fixed: batches a session lives
STEADY=10      # sessions in the table once TTL batches have passed:
               # (3 logins - 1 logout) x TTL
SESSION_KIB=$(kib $SIZE)

# --------------------------------------------------------------------------
# The server alone: --serve, driven by curl
# --------------------------------------------------------------------------

# start_server [--loud] [LAB ARGS...] - build/lab7 --serve on a free port,
# --quiet unless --loud, through start_serve: sets URL, PORT and SERVER.
# teardown stops it.
start_server() {
    local quiet=--quiet
    [[ ${1:-} == --loud ]] && { quiet=""; shift; }
    start_serve "$BUILD/lab7" --serve --port 0 ${quiet:+"$quiet"} "$@"
}

setup() {
    BODY=$BATS_TEST_TMPDIR/body   # the last reply's body (status, below)
}

teardown() {
    if [[ -n ${SERVER:-} ]]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
}

@test "--serve prints its URL first, on 127.0.0.1 and a free port" {
    start_server
    [[ $URL =~ ^http://127\.0\.0\.1:[0-9]+/$ ]]
    local port=${URL##*:}
    port=${port%/}
    (( port > 0 ))
    # Loopback only: the one socket listening on the port is bound to
    # 127.0.0.1 (0100007F in /proc/net/tcp), not to every address.
    local hex
    hex=$(printf '%04X' "$port")
    assert_equal "$(sockets_on "$port" 0A)" "0100007F:$hex"
}

@test "the seed's session check: a login's cookie sees the page, until logout" {
    start_server
    assert_equal "$(status "/page")" 401
    login ada
    assert_equal "$(status -b "sid=$SID" "/page")" 200
    assert_equal "$(cat "$BODY")" "hello ada"
    assert_equal "$(status -b "sid=$SID" -X POST "/logout")" 200
    assert_equal "$(status -b "sid=$SID" "/page")" 401
    assert_equal "$(status --data "user=ada&pass=guess" "/login")" 403
}

@test "--serve prints the server's requests, sessions and errors on each row after the first" {
    start_server --loud
    login ada
    assert_equal "$(status "/nowhere")" 404
    # Once both replies are counted, a row says so, beside the memory.
    wait_until grep -Eq '^row [0-9]+: requests 2, sessions 1, errors 1 \| Process: heapTotal ' \
        "$BATS_TEST_TMPDIR/serve.out"    # And every row after the first (row 0, before any request) has them.
    local rows=$BATS_TEST_TMPDIR/rows
    grep 'Process: ' "$BATS_TEST_TMPDIR/serve.out" | tail -n +2 >"$rows"
    [[ -s $rows ]] || fail "no row after the first"
    assert_equal "$(grep -Evc '^row [0-9]+: requests [0-9]+, sessions [0-9]+, errors [0-9]+ \| Process: ' "$rows")" 0
}

@test "SIGTERM stops --serve, which exits 0" {
    start_server
    kill -TERM "$SERVER"
    local rc=0
    wait "$SERVER" || rc=$?
    SERVER=""
    assert_equal "$rc" 0
}

@test "oversized input is refused: body 413, header 431, URL 414" {
    start_server
    head -c 70000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
    assert_equal "$(status --data-binary "@$BATS_TEST_TMPDIR/big" "/login")" 413
    assert_equal "$(status -H "Cookie: sid=$(head -c 40000 "$BATS_TEST_TMPDIR/big")" "/page")" 431
    assert_equal "$(status "/page?x=$(head -c 40000 "$BATS_TEST_TMPDIR/big")")" 414
}

@test "malformed cookies, forms, methods and routes get 4xx" {
    start_server
    assert_equal "$(status -b "sid=nothex" "/page")" 400
    assert_equal "$(status -b "sid=$(printf '%032d' 0)" "/page")" 401
    assert_equal "$(status -H "Cookie: garbage" "/page")" 401
    assert_equal "$(status --data "user=<b>&pass=x" "/login")" 400
    assert_equal "$(status --data "nothing" "/login")" 400
    assert_equal "$(status -X DELETE "/login")" 405
    assert_equal "$(status --data "" "/page")" 405
    assert_equal "$(status "/admin")" 404
    assert_equal "$(status "/")" 404
}

@test "after every bad request the server keeps serving" {
    start_server
    head -c 70000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
    status --data-binary "@$BATS_TEST_TMPDIR/big" "/login" >/dev/null
    status -H "Cookie: sid=$(head -c 40000 "$BATS_TEST_TMPDIR/big")" "/page" >/dev/null
    status -b "sid=nothex" "/page" >/dev/null
    status "/static/%2e%2e/x" >/dev/null
    login grace
    assert_equal "$(status -b "sid=$SID" "/page")" 200
    kill -0 "$SERVER"
}

# --------------------------------------------------------------------------
# The router: --root, and nothing outside it
# --------------------------------------------------------------------------

@test "no way out of --root: 28 escapes, each a 4xx, not a byte of the secret (openat2)" {
    make_root
    start_server --root "$ROOT"
    no_escape
}

@test "no way out of --root without openat2 either: the realpath route" {
    make_root
    LEAKLAB_NO_OPENAT2=1 start_server --root "$ROOT"
    no_escape
}

@test "a link inside the root is served; links that lead out are refused with 403" {
    make_root
    start_server --root "$ROOT"
    assert_equal "$(status "/static/link-in")" 200
    assert_equal "$(cat "$BODY")" "inner page"
    assert_equal "$(status "/static/link-out")" 403
    assert_equal "$(status "/static/up/secret.txt")" 403
    assert_equal "$(status "/static/abs-out")" 403
}

@test "a .. segment is refused before any file is looked at: 403, with or without --root" {
    start_server
    assert_equal "$(status "/static/%2e%2e/etc/passwd")" 403
    assert_equal "$(status "/static/missing.txt")" 404
}

@test "the seed's replace('..', '') lets a path through that reaches the parent" {
    # What LESSONS shows: the first ".." is cut, and what is left is "..".
    local path="/static/..../secret.txt" cut
    cut=${path/../}
    assert_equal "$cut" "/static/../secret.txt"
    make_root
    start_server --root "$ROOT"
    assert_equal "$(status "$path")" 404         # a file named "....": none
    assert_equal "$(status "$cut")" 403
}

# --------------------------------------------------------------------------
# The classes of leak, from the records: a row per batch
# --------------------------------------------------------------------------

@test "every row counts 10 requests a batch, and the table's sessions" {
    run_lab 7 --mode fixed --iterations $ITERS --size $SIZE
    assert_success
    assert_rows_whole "$TSV"
    assert_every_row "$TSV" "requests == 10 * iter && errors <= requests"
    assert_equal "$(last_value "$TSV" errors)" "$(max_value "$TSV" errors)"
}

@test "frequent: the table keeps every login, 3 a batch, and heap_used grows by 3 sessions" {
    run_lab 7 --mode frequent --iterations $ITERS --size $SIZE
    assert_success
    assert_every_row "$TSV" "sessions == 3 * iter"
    skip_if_sanitized "heap_used comes from glibc's malloc"
    assert_step "$TSV" heap_used_kib $(( 3 * SESSION_KIB )) 5
}

@test "fixed: $STEADY sessions once $TTL batches have passed, and heap_used flat" {
    run_lab 7 --mode fixed --iterations $ITERS --size $SIZE --ttl $TTL
    assert_success
    assert_every_row "$TSV" "sessions == (iter < $TTL ? 2 * iter : $STEADY)"
    skip_if_sanitized "heap_used comes from glibc's malloc"
    assert_flat_from "$TSV" heap_used_kib $TTL 16
}

@test "occasional: a staircase, each step whole sessions lost at failed logins" {
    skip_if_sanitized "heap_used comes from glibc's malloc"
    run_lab 7 --mode occasional --iterations 30 --size $SIZE --ttl $TTL
    assert_success
    assert_every_row "$TSV" "sessions == (iter < $TTL ? 2 * iter : $STEADY)"
    # From the steady state on, each batch's growth is a whole number of
    # sessions (within 2 KiB), some batches none, some one or more.
    local steps
    steps=$(paste <(tsv_column "$TSV" iter) <(tsv_column "$TSV" heap_used_kib) | awk -v s=$SESSION_KIB -v from=$TTL '
        $1 > from { d = $2 - prev; k = int(d / s + 0.5)
                    if (d < -2 || (d - k * s) > 2 || (k * s - d) > 2) bad++
                    if (k == 0) flat++; else up++ }
        { prev = $2 }
        END { printf "%d %d %d\n", bad, flat, up }')
    read -r bad flat up <<<"$steps"
    (( bad == 0 )) || fail "$bad batches grew by no whole number of sessions"
    (( flat > 0 && up > 0 )) || fail "$flat flat batches and $up steps: no staircase"
}

@test "once: one step of the 16 MiB route table at the first batch, then flat" {
    skip_if_sanitized "heap_used comes from glibc's malloc"
    run_lab 7 --mode once --iterations $ITERS --size $SIZE --ttl $TTL
    assert_success
    local first second
    first=$(tsv_column "$TSV" heap_used_kib | sed -n 1p)
    second=$(tsv_column "$TSV" heap_used_kib | sed -n 2p)
    (( second - first >= 16384 )) || fail "the first batch added $((second - first)) KiB; expected the route table, 16 MiB"
    assert_flat_from "$TSV" heap_used_kib $TTL 16
}

@test "hidden: the table stays at $STEADY sessions while heap_used grows by a session a batch" {
    run_lab 7 --mode hidden --iterations $ITERS --size $SIZE --ttl $TTL
    assert_success
    assert_every_row "$TSV" "sessions == (iter < $TTL ? 2 * iter : $STEADY)"
    skip_if_sanitized "heap_used comes from glibc's malloc"
    # One logout a batch, and each logged-out session's copy is kept.
    assert_slope_from "$TSV" heap_used_kib $(( TTL + 1 )) $(( SESSION_KIB - 2 )) $(( SESSION_KIB + 4 ))
}

@test "mystery: --reveal names the class each --seed picks, and the run is that class's" {
    local seed class
    for seed in 1 2 3 4 5; do
        run "$BUILD/lab7" --mode mystery --seed $seed --reveal
        assert_success
        class=$(sed -n 's/^mystery with --seed [0-9]* is \([a-z]*\): .*/\1/p' <<<"$output")
        [[ $class == @(frequent|occasional|once|hidden) ]] || fail "--reveal said: $output"
        run_lab 7 --mode mystery --seed $seed --iterations 8 --size 16K
        assert_success
        local mystery=$TSV
        run_lab 7 --mode "$class" --seed $seed --iterations 8 --size 16K
        assert_success
        assert_same_rows "$mystery" "$TSV" requests,sessions,errors
    done
}

@test "--reveal goes with --mode mystery only, and --serve takes no --iterations" {
    assert_bad_argument "--reveal" "$BUILD/lab7" --mode fixed --reveal
    assert_bad_argument "--iterations" "$BUILD/lab7" --serve --iterations 3
    assert_bad_argument "--requests" "$BUILD/lab7" --requests 0
    assert_bad_argument "--port" "$BUILD/lab7" --port 70000
}

@test "a port in use is a runtime error: exit 1 naming the address" {
    start_server
    local port=${URL##*:}
    port=${port%/}
    run --separate-stderr "$BUILD/lab7" --quiet --port "$port" --iterations 1
    assert_error_line "127.0.0.1:$port" "Address already in use"
}

@test "fixed stays flat under the battery of bad requests, and counts each as an error" {
    run_lab 7 --mode fixed --iterations $ITERS --size $SIZE --ttl $TTL --bad 12
    assert_success
    (( $(last_value "$TSV" errors) >= 12 * ITERS )) || fail "errors: $(last_value "$TSV" errors)"
    skip_if_sanitized "heap_used comes from glibc's malloc"
    # The bad requests that reach the router tick the TTL's clock too, so
    # the batches no longer line up with it: the table holds 4 to 6.
    assert_flat_from "$TSV" heap_used_kib $TTL $(( 2 * SESSION_KIB + 16 ))
}

# --------------------------------------------------------------------------
# What Valgrind says at exit
# --------------------------------------------------------------------------

@test "memcheck: fixed frees every block, under the battery of bad requests too" {
    run_memcheck 7 --mode fixed --iterations 6 --size 16K --bad 12
    assert_success
    assert_memcheck_clean "$VGLOG"
    grep -q 'All heap blocks were freed -- no leaks are possible' "$VGLOG"
}

@test "memcheck: frequent leaves every session still reachable, none lost" {
    run_memcheck 7 --mode frequent --iterations 6 --size 16K
    assert_success
    assert_memcheck_clean "$VGLOG"
    refute_leak "definitely lost" "$VGLOG"
    grep -q 'still reachable: [0-9,]* bytes in 18 blocks' "$VGLOG" ||
        fail "expected 18 sessions still reachable: $(grep 'still reachable' "$VGLOG")"
}

@test "memcheck: occasional's failed logins are definitely lost, from session_new" {
    run_memcheck 7 --mode occasional --iterations 6 --size 16K
    assert_success
    assert_memcheck_clean "$VGLOG"
    assert_leak "definitely lost" "$VGLOG" 16384
    grep -A3 'definitely lost in loss record' "$VGLOG" | grep -q 'session_new'
}

@test "memcheck: once's route table is lost, 16 MiB in one block from build_route_table" {
    run_memcheck 7 --mode once --iterations 2 --size 16K
    assert_success
    # Definitely lost, or now and then possibly lost: some stray word in
    # memory happened to point inside its 16 MiB. Lost either way.
    local lost
    lost=$(( $(leak_bytes "$VGLOG" "definitely lost") + $(leak_bytes "$VGLOG" "possibly lost") ))
    (( lost >= 16 << 20 )) || fail "lost: $lost bytes; expected the 16 MiB table"
    grep -E 'in 1 blocks are (definitely|possibly) lost in loss record' -A3 "$VGLOG" |
        grep -q 'build_route_table'
}

@test "memcheck: hidden grows all run, yet not a byte is lost at exit" {
    skip_if_sanitized "heap_used comes from glibc's malloc"
    run_lab 7 --mode hidden --iterations 12 --size 16K
    assert_success
    assert_growth_at_least "$TSV" heap_used_kib $(( 12 * 16 ))
    run_memcheck 7 --mode hidden --iterations 12 --size 16K
    assert_success
    assert_memcheck_clean "$VGLOG"
    grep -q 'All heap blocks were freed -- no leaks are possible' "$VGLOG"
}

# said_times WORD FILE N - FILE has at least N lines with WORD.
said_times() {
    (( $(grep -c "$1" "$2") >= $3 ))
}

@test "memcheck: SIGUSR2 to --serve takes a snapshot of what grew: two logins, +2 blocks" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    local log=$BATS_TEST_TMPDIR/memcheck.log out=$BATS_TEST_TMPDIR/serve.out
    valgrind --log-file="$log" "$BUILD/lab7" --serve --port 0 --quiet --size 16K \
        >"$out" 2>"$BATS_TEST_TMPDIR/serve.err" 3>&- &
    SERVER=$!
    wait_until grep -q '^listening on ' "$out"
    URL=$(sed -n '1s/^listening on //p' "$out")
    login ada
    kill -USR2 "$SERVER"
    wait_until said_times SIGUSR2 "$BATS_TEST_TMPDIR/serve.err" 1
    login grace
    login hopper
    kill -USR2 "$SERVER"
    wait_until said_times SIGUSR2 "$BATS_TEST_TMPDIR/serve.err" 2
    kill -TERM "$SERVER"
    wait "$SERVER"
    SERVER=""
    # The second leak check lists what grew since the first: session_new's
    # loss record, two blocks more (the first check listed it whole).
    grep -A3 'in 3 (+2) blocks are still reachable' "$log" | grep -q 'session_new' ||
        fail "$(grep -B1 -A3 'session_new' "$log")"
}

# --------------------------------------------------------------------------
# The challenge in LESSONS.md, lab 7: an audit list that does not leak
# --------------------------------------------------------------------------

# audit_flat MODE - the challenge's check: 40 batches, the table at its
# steady size, and heap_used flat from batch 20 on (after the first 16
# logouts and the TTL), within 16 KiB.
audit_flat() {
    run_lab 7 --mode "$1" --iterations 40 --size $SIZE --ttl $TTL
    [[ $status -eq 0 ]] || fail "exit $status: $output"
    assert_every_row "$TSV" "sessions == (iter < $TTL ? 2 * iter : $STEADY)" || return
    assert_flat_from "$TSV" heap_used_kib 20 16
}

@test "challenge check has teeth: hidden, as shipped, fails it" {
    skip_if_sanitized "heap_used comes from glibc's malloc"
    run audit_flat hidden
    assert_failure
    assert_output --partial "heap_used_kib moves by"
}

@test "challenge: an audit list that keeps the last 16 sessions, and stays flat" {
    skip_if_sanitized "heap_used comes from glibc's malloc"
    local mode=${LAB7_CHALLENGE_MODE:-fixed}
    audit_flat "$mode"
}

# --------------------------------------------------------------------------
# LeakSanitizer, and the one kind of leak to suppress (LESSONS.md, lab 7)
# --------------------------------------------------------------------------

@test "LeakSanitizer reports once's route table; a leak: suppression silences it, and only it" {
    local lsan=$BATS_TEST_TMPDIR/lab7-lsan supp=$BATS_TEST_TMPDIR/once.supp
    clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=leak -o "$lsan" \
        "$LEAKLAB_ROOT/labs/lab7-server.c" "$LEAKLAB_ROOT/harness/lab.c" \
        "$LEAKLAB_ROOT/harness/probe.c" "$LEAKLAB_ROOT/harness/httpd.c" \
        "$LEAKLAB_ROOT/harness/loadgen.c" -lmicrohttpd -lcurl -pthread
    run --separate-stderr "$lsan" --quiet --mode once --iterations 2 --size 16K
    assert_failure 23
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == *"Direct leak of 16842752 byte(s) in 1 object(s) allocated from:"*"in build_route_table "* ]] ||
        fail "$stderr"
    echo "leak:build_route_table" >"$supp"
    LSAN_OPTIONS=suppressions=$supp run --separate-stderr "$lsan" --quiet --mode once --iterations 2 --size 16K
    assert_success
    # The same suppression does not hide occasional's leak: another site.
    LSAN_OPTIONS=suppressions=$supp run --separate-stderr "$lsan" --quiet --mode occasional --iterations 4 --size 16K
    assert_failure 23
    [[ $stderr == *"in session_new "* ]] || fail "$stderr"
}
