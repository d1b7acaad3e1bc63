#!/usr/bin/env bats
# Lab 7's Node.js twin (labs/node/lab7-server.js): a real node:http server
# and its own client in one process, the C lab's load drawn by the C lab's
# generator. The mapping, measured: the twin's requests, sessions and
# errors equal the C lab's row for row; each class of leak has its shape
# in V8's heapUsed, per batch, tied to what the server keeps; the server
# answers as the C lab's does and serves nothing outside --root. The runs
# the shape tests read are made once, in setup_file, through the runner,
# at classroom sizes. Without node (make deps installs nodejs) they skip.

load test_helper

SIZE=1M        # a session's profile: well above the ~300 KiB V8's heap
               # moves by from row to row whatever the server holds
ITERS=20       # batches
TTL=5          # batches a session lives (but in frequent)
STEADY=10      # sessions once TTL batches have passed: (3 in - 1 out) x TTL
SESSION_KIB=$(kib $SIZE)
TWIN=labs/node/lab7-server.js

setup_file() {
    export NODE7_OUT=$BATS_FILE_TMPDIR/out
    command -v node >/dev/null || return 0
    local log=$BATS_FILE_TMPDIR/runs.log
    (
        # A twin that never exits (a handle left open) times out: exit 1.
        for m in frequent occasional once hidden fixed; do
            "$BUILD/leaklab" run 7 --node --mode "$m" --quiet --timeout 120 --out "$NODE7_OUT" \
                -- --size "$SIZE" --iterations "$ITERS" --ttl "$TTL" || exit 1
        done
        # At make lab7's sizes, for LESSONS.md's table.
        "$BUILD/leaklab" run 7 --node --mode frequent --quiet --timeout 120 --out "$NODE7_OUT/default" || exit 1
        # Heap snapshots, the seed's method: a session lives one batch.
        mkdir -p "$NODE7_OUT/snaps"
        for m in frequent hidden fixed; do
            timeout 120 node "$LEAKLAB_ROOT/$TWIN" --quiet --mode "$m" --size 64K --iterations 12 \
                --ttl 1 --snapshots "$NODE7_OUT/snaps" || exit 1
        done
    ) >"$log" 2>&1 || { cat "$log" >&3; return 1; }
}

setup() {
    command -v node >/dev/null || skip "node is not installed (make deps installs nodejs)"
    O=$NODE7_OUT/lab7
    TWIN_JS=$LEAKLAB_ROOT/$TWIN
    BODY=$BATS_TEST_TMPDIR/body   # the last reply's body (status, below)
}

teardown() {
    if [[ -n ${SERVER:-} ]]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    if [[ -n ${RUNNER:-} ]]; then kill -KILL "$RUNNER" 2>/dev/null || true; wait "$RUNNER" 2>/dev/null || true; fi
    if [[ -n ${CHILD:-} ]] && ! is_gone "$CHILD"; then kill -KILL "$CHILD" 2>/dev/null || true; fi
}

# --------------------------------------------------------------------------
# Each class of leak, as the twin's records show it
#
# Each shape is a function, so that a test can show it fails on the
# neighbouring mode's record: a check that any record passes checks nothing.
# --------------------------------------------------------------------------

# table_fills FILE - sessions climb by 2 a batch (3 logins, 1 logout) to
# STEADY, then hold: what every mode but frequent keeps in its table.
table_fills() {
    assert_every_row "$1" "sessions == (iter < $TTL ? 2 * iter : $STEADY)"
}

# frequent_shape FILE - every login stays, 3 a batch, and heapUsed grows by
# their 3 profiles a batch (within 5%), while external (Buffers) stays
# within 1 MiB of flat: the profiles live on V8's heap.
frequent_shape() {
    assert_every_row "$1" "sessions == 3 * iter" || return
    assert_step "$1" heap_used_kib $(( 3 * SESSION_KIB )) 5 || return
    assert_flat "$1" external_kib 1024
}

# hidden_shape FILE - the table fills and holds, and heapUsed grows by one
# profile a batch (the batch's one logout, kept on the audit list) from
# then on, within 5%.
hidden_shape() {
    table_fills "$1" || return
    assert_slope_from "$1" heap_used_kib $(( TTL + 1 )) $(( SESSION_KIB * 95 / 100 )) $(( SESSION_KIB * 105 / 100 ))
}

# fixed_shape FILE - the table fills and holds, and heapUsed stays within
# half a profile of flat from batch TTL on.
fixed_shape() {
    table_fills "$1" || return
    assert_flat_from "$1" heap_used_kib $TTL $(( SESSION_KIB / 2 ))
}

# once_shape FILE - heapUsed steps by at least the 16 MiB route table at
# the first batch, then (the table filled) stays within half a profile of
# flat from batch TTL on.
once_shape() {
    local step
    step=$(tsv_column "$1" heap_used_kib | sed -n 2p)
    step=$(( step - $(tsv_column "$1" heap_used_kib | sed -n 1p) ))
    (( step >= 16384 )) || fail "the first batch added $step KiB; expected the 16 MiB route table" || return
    assert_flat_from "$1" heap_used_kib $TTL $(( SESSION_KIB / 2 ))
}

# occasional_shape FILE - the table fills and holds; from batch TTL on,
# each batch's heapUsed growth is its failed logins times a profile,
# within a quarter of one; and some batches fail no login (flat) while
# others do (a step): a staircase whose steps are the failed logins.
occasional_shape() {
    table_fills "$1" || return
    local got
    got=$(tsv_columns "$1" iter heap_used_kib failed_logins | awk -F'\t' -v s="$SESSION_KIB" -v from=$TTL '
        $1 > from { d = $2 - heap; k = $3 - failed; off = d - k * s; if (off < 0) off = -off
                    if (off > s / 4) bad = bad " batch " $1 ": +" d " KiB with " k " failed"
                    if (k == 0) flat++; else up++ }
        { heap = $2; failed = $3 }
        END { printf "%d %d%s\n", flat, up, bad }')
    [[ $got =~ ^([0-9]+)\ ([0-9]+)(.*)$ ]] || fail "$1: cannot read its steps: $got" || return
    [[ -z ${BASH_REMATCH[3]} ]] || fail "growth is not failed logins x $SESSION_KIB KiB:${BASH_REMATCH[3]}" || return
    (( BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > 0 )) ||
        fail "${BASH_REMATCH[1]} batches without a failed login and ${BASH_REMATCH[2]} with: no staircase"
}

@test "every run finished through the runner, with whole rows and the C lab's columns" {
    local m
    for m in frequent occasional once hidden fixed; do
        assert_meta "$O/node-$m.meta" verdict finished
        assert_rows_whole "$O/node-$m.tsv"
        [[ $(tsv_header "$O/node-$m.tsv") == *$'\trequests\tsessions\terrors\tfailed_logins' ]] ||
            fail "$O/node-$m.tsv: $(tsv_header "$O/node-$m.tsv")"
        assert_every_row "$O/node-$m.tsv" "requests == 10 * iter && errors <= requests"
    done
}

@test "frequent keeps every login, and heapUsed grows by their 3 profiles a batch, on V8's heap" {
    frequent_shape "$O/node-frequent.tsv"
}

@test "hidden keeps a steady table, yet heapUsed grows by one profile a batch: the logout kept for later" {
    hidden_shape "$O/node-hidden.tsv"
}

@test "fixed is flat once its first --ttl batches have passed" {
    fixed_shape "$O/node-fixed.tsv"
}

@test "once steps by its 16 MiB route table at the first batch, then stays flat" {
    once_shape "$O/node-once.tsv"
}

@test "occasional climbs a staircase whose steps are its failed logins, a profile each" {
    occasional_shape "$O/node-occasional.tsv"
}

@test "each shape check fails on the neighbouring mode's record" {
    local check wrong
    for check in "frequent_shape hidden" "hidden_shape fixed" "hidden_shape frequent" \
                 "fixed_shape hidden" "fixed_shape occasional" "once_shape fixed" \
                 "once_shape hidden" "occasional_shape fixed" "occasional_shape hidden"; do
        read -r check wrong <<<"$check"
        run "$check" "$O/node-$wrong.tsv"
        [[ $status -ne 0 ]] || fail "$check passed on $wrong's record"
    done
}

# --------------------------------------------------------------------------
# --snapshots: three heap snapshots, compared as DevTools compares them
# --------------------------------------------------------------------------

# snapshot_leak TSV PROFILES - the comparison's first row (by the last
# Size Delta) is "(array)", as the seed's was, marked leak?, and in each
# interval of 4 batches it grew by PROFILES profiles of 64 KiB: Delta
# that many, give or take 2, and Size Delta that many profiles, give or
# take 16 KiB (a quarter of one). V8's own small arrays come and go
# beside them: a 152-byte one is added in each interval, and in about one
# run in three a 448-byte "(object properties)" array alive at one
# snapshot is gone at the next, leaving Size Delta 232 bytes short.
snapshot_leak() {
    local class d1 s1 d2 s2 leak d s want=$(( $2 * 64 * 1024 ))
    IFS=$'\t' read -r class _ _ _ _ _ _ d1 s1 d2 s2 leak < <(sed -n 2p "$1")
    [[ $class == "(array)" && $leak == 1 ]] || fail "$1: the first row is '$class', leak=$leak" || return
    for d in "$d1 $s1" "$d2 $s2"; do
        read -r d s <<<"$d"
        [[ $d =~ ^-?[0-9]+$ && $s =~ ^-?[0-9]+$ ]] || fail "$1: Delta '$d', Size Delta '$s': not numbers" || return
        (( d >= $2 - 2 && d <= $2 + 2 && s >= want - 16384 && s <= want + 16384 )) ||
            fail "$1: (array) grew by $d objects, $s bytes; expected $2 profiles, $want bytes" || return
    done
}

@test "--snapshots: frequent's comparison puts (array) first by Size Delta, 3 profiles a batch, marked leak?" {
    snapshot_leak "$NODE7_OUT/snaps/lab7-frequent-compare.tsv" 12
    [[ -s $NODE7_OUT/snaps/lab7-frequent-12.heapsnapshot ]] || fail "no snapshot after batch 12"
}

@test "--snapshots: hidden's comparison puts (array) first too, one logged-out profile a batch" {
    snapshot_leak "$NODE7_OUT/snaps/lab7-hidden-compare.tsv" 4
}

@test "--snapshots: a class whose name holds a tab and a newline stays one row and one line, escaped" {
    local d=$BATS_TEST_TMPDIR/snaps
    mkdir -p "$d"
    # Three snapshot files made by hand (V8 itself keeps such names out
    # of its snapshots, but the comparison reads whatever a file holds):
    # 1, 2, then 3 objects of 100 KB of a class named with a tab and a
    # newline, a leak? row whose name would forge a row of its own.
    run node -e '
        const fs = require("node:fs"), path = require("node:path");
        const h = require(process.argv[1]), dir = process.argv[2];
        const snaps = [1, 2, 3].map((i) => {
            const file = path.join(dir, `odd-${i}.heapsnapshot`);
            fs.writeFileSync(file, JSON.stringify({
                snapshot: { meta: { node_fields: ["type", "name", "self_size"], node_types: [["object"]] } },
                nodes: Array.from({ length: i }, () => [0, 0, 100000]).flat(),
                strings: ["Odd\tclass\nforged\t1"] }));
            return { batch: i, file };
        });
        h.compare(dir, "odd", "odd", snaps);' "$LEAKLAB_ROOT/labs/node/heapdiff.js" "$d"
    assert_success
    assert_equal "${#lines[@]}" 6        # the title, 2 heads, 1 row, 2 verdicts
    local want='Odd\tclass\nforged\t1'   # as record_escape writes it
    run grep -cxF -- "$want" < <(cut -f1 "$d/odd-compare.tsv")
    assert_output 1
    run grep -c '^forged' "$d/odd-compare.tsv"
    assert_output 0
    assert_equal "$(awk -F'\t' '{ print NF }' "$d/odd-compare.tsv" | sort -u)" 12
}

@test "--snapshots: fixed's comparison marks nothing, and the leak check fails on it" {
    local marked
    marked=$(awk -F'\t' 'NR > 1 && $NF == 1 { print $1 }' "$NODE7_OUT/snaps/lab7-fixed-compare.tsv")
    [[ -z $marked ]] || fail "fixed: marked leak?: $marked"
    run snapshot_leak "$NODE7_OUT/snaps/lab7-fixed-compare.tsv" 4
    assert_failure
    run snapshot_leak "$NODE7_OUT/snaps/lab7-hidden-compare.tsv" 12
    assert_failure
}

# --------------------------------------------------------------------------
# The mapping: the same load as the C lab's, row for row
# --------------------------------------------------------------------------

# pair NAME [LAB ARGS...] - the C lab and the twin, bare, with the same
# arguments: C's TSV in $C_TSV, the twin's in $N_TSV.
pair() {
    local name=$1; shift
    C_TSV=$BATS_TEST_TMPDIR/c-$name.tsv N_TSV=$BATS_TEST_TMPDIR/n-$name.tsv
    "$BUILD/lab7" --quiet --tsv "$C_TSV" "$@" || fail "lab7 $*: exit $?"
    node "$TWIN_JS" --quiet --tsv "$N_TSV" "$@" || fail "the twin $*: exit $?"
}

@test "the twin's requests, sessions and errors equal the C lab's row for row, for the same seed" {
    pair frequent --mode frequent --size 4K --iterations 15
    assert_same_rows "$C_TSV" "$N_TSV" iter,requests,sessions,errors
    pair odd --mode occasional --seed 5 --requests 17 --ttl 2 --size 4K --iterations 15
    assert_same_rows "$C_TSV" "$N_TSV" iter,requests,sessions,errors
    # The battery of malformed requests: each must get the C lab's status,
    # or the twin's client exits 1.
    pair bad --mode fixed --seed 9 --requests 7 --bad 12 --size 4K --iterations 6
    assert_same_rows "$C_TSV" "$N_TSV" iter,requests,sessions,errors
    (( $(last_value "$N_TSV" errors) >= 6 * 12 )) || fail "errors: $(last_value "$N_TSV" errors)"
}

@test "the row-for-row comparison has teeth: another seed's traffic differs" {
    "$BUILD/lab7" --quiet --tsv "$BATS_TEST_TMPDIR/c.tsv" --mode fixed --size 4K --iterations 15 --seed 1
    node "$TWIN_JS" --quiet --tsv "$BATS_TEST_TMPDIR/n.tsv" --mode fixed --size 4K --iterations 15 --seed 2
    run assert_same_rows "$BATS_TEST_TMPDIR/c.tsv" "$BATS_TEST_TMPDIR/n.tsv" requests,sessions,errors
    assert_failure
}

@test "mystery: --reveal names the class the C lab names, seed by seed" {
    local seed c n
    for seed in 1 2 3 4 5 6 7 8; do
        c=$("$BUILD/lab7" --mode mystery --seed $seed --reveal)
        n=$(node "$TWIN_JS" --mode mystery --seed $seed --reveal)
        [[ ${n%%:*} == "${c%%:*}" ]] || fail "seed $seed: C says '$c', the twin '$n'"
    done
}

@test "LESSONS.md's lab 7 Node table has the shape of a fresh run: the same last row, heap_used growth within 10%" {
    local made here row last kib d=$NODE7_OUT/default/lab7/node-frequent.tsv
    made=$(sed -n 's/.*make lab7 (C, and node v\([0-9]*\)\..*/\1/p' "$LEAKLAB_ROOT/LESSONS.md" | head -n 1)
    here=$(node --version | sed 's/^v\([0-9]*\).*/\1/')
    [[ -n $made ]] || fail "LESSONS.md has no lab 7 table made by make node-tables"
    [[ $made == "$here" ]] ||
        skip "LESSONS.md's table comes from Node $made, this machine runs Node $here: make node-tables"
    row=$(awk -F'|' '$0 == "<!-- node-table:lab7 -->" { on = 1; next }
                     $0 == "<!-- /node-table:lab7 -->" { on = 0 }
                     on && $2 ~ /`frequent`/ && $3 ~ /^ *Node *$/ { print $5, $7; exit }' "$LEAKLAB_ROOT/LESSONS.md")
    read -r last kib unit <<<"$row"
    [[ -n $last && -n $kib ]] || fail "LESSONS.md has no Node row for lab 7's frequent"
    [[ $unit == MiB ]] && kib=$(awk -v k="$kib" 'BEGIN { print k * 1024 }')
    assert_equal "$last" "$(last_iter "$d")"
    read -r _ _ _ _ _ slope < <(tsv_stats "$d" heap_used_kib)
    assert_within "$slope" "$kib" 10 "heap_used per batch in a fresh run (KiB), against LESSONS.md's"
}

# --------------------------------------------------------------------------
# The server alone: --serve, driven by curl
# --------------------------------------------------------------------------

# start_twin [ARGS...] - the twin --serve --quiet on a free port, through
# start_serve: sets URL, PORT and SERVER.
start_twin() {
    start_serve node "$TWIN_JS" --serve --port 0 --quiet "$@"
}

@test "the seed's session check: a login's cookie sees the page until logout; a wrong password gets 403" {
    start_twin
    assert_equal "$(status "/page")" 401
    login ada
    assert_equal "$(status -b "sid=$SID" "/page")" 200
    assert_equal "$(cat "$BODY")" "hello ada"
    assert_equal "$(status -b "sid=$SID" -X POST "/logout")" 200
    assert_equal "$(status -b "sid=$SID" "/page")" 401
    assert_equal "$(status --data "user=ada&pass=guess" "/login")" 403
}

@test "a cookie that is not hex gets 400, a DELETE 405, and a route it does not have 404" {
    start_twin
    assert_equal "$(status -b "sid=nothex" "/page")" 400
    assert_equal "$(status -X DELETE "/login")" 405
    assert_equal "$(status "/admin")" 404
}

@test "/static serves files beneath --root, and not a byte from outside it: every escape the C lab is tried with, each a 4xx" {
    make_root
    start_twin --root "$ROOT"
    no_escape
    assert_equal "$(status "/static/link-out")" 403
    assert_equal "$(status "/static/%2e%2e/secret.txt")" 403
    assert_equal "$(status "/static/link-in")" 200
    assert_equal "$(cat "$BODY")" "inner page"
}

@test "--serve prints, on each row's one line, the server's requests, sessions and errors beside memory" {
    local out=$BATS_TEST_TMPDIR/serve.out
    start_serve node "$TWIN_JS" --serve --port 0 --no-cap
    assert_equal "$(status --data "user=ada&pass=open-sesame" "/login")" 200
    assert_equal "$(status "/admin")" 404
    # Two requests, one session, one error: a row a second shows them.
    wait_until grep -q '^row [0-9]*: requests 2, sessions 1, errors 1 | Process: heapTotal [0-9.]* MB heapUsed ' "$out"
    local line bad=0
    while IFS= read -r line; do
        [[ $line =~ ^row\ [0-9]+:\ requests\ [0-9]+,\ sessions\ [0-9]+,\ errors\ [0-9]+\ \|\ Process:\ .*\ MB$ ]] || bad=1
    done < <(tail -n +2 "$out")
    (( bad == 0 )) || fail "a row that is not one line of counts and memory: $(cat "$out")"
}

# usr2_line [NODE FLAGS...] - the twin --serve, started as node FLAGS,
# sent SIGUSR2 once: its SIGUSR2 line on stderr in $USR2, run in
# $BATS_TEST_TMPDIR/cwd (where V8 writes a snapshot of its own).
usr2_line() {
    local cwd=$BATS_TEST_TMPDIR/cwd
    mkdir -p "$cwd"
    (cd "$cwd" && exec node "$@" "$TWIN_JS" --serve --port 0 --quiet --no-cap >serve.out 2>serve.err 3>&-) &
    SERVER=$!
    wait_until grep -q '^listening on ' "$cwd/serve.out"
    kill -USR2 "$SERVER"
    wait_until grep -q 'SIGUSR2: ' "$cwd/serve.err"
    USR2=$(grep 'SIGUSR2: ' "$cwd/serve.err")
}

@test "--serve's SIGUSR2 line promises a heap snapshot only when node was started to write one" {
    usr2_line
    [[ $USR2 == *"SIGUSR2: heapUsed "*" KiB, rss "*" KiB, 0 sessions" ]] || fail "without the flag: $USR2"
    kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=""
    usr2_line --heapsnapshot-signal=SIGUSR2
    [[ $USR2 == *"0 sessions (and V8 writes a heap snapshot"* ]] || fail "with the flag: $USR2"
    wait_until compgen -G "$BATS_TEST_TMPDIR/cwd/Heap.*.heapsnapshot"
}

@test "--serve listens on 127.0.0.1 only" {
    start_twin
    assert_equal "$(sockets_on "$PORT" 0A)" "0100007F:$(printf '%04X' "$PORT")"
}

@test "--serve after SIGTERM exits 0 with its socket closed" {
    start_twin
    [[ -n $(sockets_on "$PORT" 0A) ]] || fail "not listening on $PORT"
    kill -TERM "$SERVER"
    local rc=0
    wait "$SERVER" || rc=$?
    SERVER=""
    assert_equal "$rc" 0
    assert_equal "$(sockets_on "$PORT" 0A)" ""
}

@test "a batch run closes its server and its client's socket, and exits by itself" {
    # A handle left open would keep node running: timeout's 124 says so.
    run timeout 60 node "$TWIN_JS" --mode frequent --size 4K --iterations 3 --no-cap
    assert_success
    local port
    port=$(sed -n 's|.* to http://127.0.0.1:\([0-9]*\)/$|\1|p' <<<"$output")
    [[ -n $port ]] || fail "no URL in: $output"
    assert_equal "$(sockets_on "$port" 0A)$(sockets_on "$port" 01)" ""
}

@test "the twin dies with its runner" {
    "$BUILD/leaklab" run 7 --node --mode fixed --quiet --out "$BATS_TEST_TMPDIR/out" \
        -- --size 4K --iterations 100000000 3>&- &
    RUNNER=$!
    wait_until has_rows "$BATS_TEST_TMPDIR/out/lab7/node-fixed.tsv" 5
    CHILD=$(pgrep -P "$RUNNER")
    [[ -n $CHILD ]] || fail "no twin under the runner"
    kill -KILL "$RUNNER"
    wait "$RUNNER" || true
    RUNNER=""
    wait_until is_gone "$CHILD"
}

@test "the twin run by hand with --serve dies with the shell that started it" {
    local pidfile=$BATS_TEST_TMPDIR/pid out=$BATS_TEST_TMPDIR/serve.out
    bash -c 'node "$1" --serve --quiet >"$3" 2>&1 & echo $! >"$2"; wait' _ "$TWIN_JS" "$pidfile" "$out" 3>&- &
    local shell=$!
    wait_until grep -q '^listening on ' "$out"   # it has seen its parent
    CHILD=$(cat "$pidfile")
    kill -KILL "$shell"
    wait "$shell" || true
    wait_until is_gone "$CHILD"
}

# --------------------------------------------------------------------------
# Usage
# --------------------------------------------------------------------------

@test "bad options exit 2 with one line naming them" {
    assert_bad_argument "--requests" node "$TWIN_JS" --requests 0
    assert_bad_argument "--port" node "$TWIN_JS" --port 70000
    assert_bad_argument "--seed" node "$TWIN_JS" --seed -1
    assert_bad_argument "--ttl" node "$TWIN_JS" --ttl x
    assert_bad_argument "--root" node "$TWIN_JS" --root ''
    assert_bad_argument "--reveal" node "$TWIN_JS" --mode fixed --reveal
    # A twin that took these would serve for ever: timeout's 124 says so.
    assert_bad_argument "--iterations" timeout 30 node "$TWIN_JS" --serve --iterations 3
    assert_bad_argument "--bad" timeout 30 node "$TWIN_JS" --serve --bad 1
    assert_bad_argument "--snapshots" node "$TWIN_JS" --snapshots "$BATS_TEST_TMPDIR" --iterations 2
    assert_bad_argument "--size" node "$TWIN_JS" --size 1G
    assert_bad_argument "nope" node "$TWIN_JS" --mode nope
}

@test "a whole-number flag out of range names what was typed and the range it wants" {
    local flag value want
    for flag in "requests 0 1 100000" "ttl x 1 100000" "seed 99999999999 0 2147483647" \
                "port 70000 0 65535" "bad 1001 0 1000"; do
        read -r flag value want <<<"$flag"
        run --separate-stderr node "$TWIN_JS" "--$flag" "$value"
        assert_failure 2
        # shellcheck disable=SC2154  # set by bats' run --separate-stderr
        assert_equal "$stderr" "lab7-server.js: bad --$flag '$value': want a whole number from ${want/ / to }"
    done
}

@test "--help gives each whole-number flag's range" {
    run node "$TWIN_JS" --help
    assert_success
    assert_line --regexp '^ +--requests N .* 1 to 100000 '
    assert_line --regexp '^ +--ttl N .*\(1 to 100000\)'
    assert_line --regexp '^ +--seed N .* 0 to 2147483647 '
    assert_line --regexp '^ +--port N .* 0 to 65535'
    assert_line --regexp '^ +--bad N .* 0 to 1000 '
}

@test "--help says --ttl ends sessions in every mode except frequent" {
    run node "$TWIN_JS" --help
    assert_success
    assert_line --regexp '^ +--ttl N +sessions live N batches .*, except in frequent '
}

@test "--help says --snapshots DIR must exist" {
    run node "$TWIN_JS" --help
    assert_success
    assert_line --regexp '^ +--snapshots DIR .*DIR \(which must exist\)'
}

@test "--size above 512M is refused naming the size as it was typed" {
    run --separate-stderr node "$TWIN_JS" --size 1G
    assert_failure 2
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "lab7-server.js: bad --size '1G': a session's profile is one Array, at most 512M"
    run --separate-stderr node "$TWIN_JS" -qs 1024M -mmystery
    assert_failure 2
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "lab7-server.js: bad --size '1024M': a session's profile is one Array, at most 512M"
}

@test "--snapshots DIR missing or not a directory: exit 1 naming it, before the first batch" {
    local dir tsv=$BATS_TEST_TMPDIR/rows.tsv
    touch "$BATS_TEST_TMPDIR/a file"
    for dir in "$BATS_TEST_TMPDIR/no such dir" "$BATS_TEST_TMPDIR/a file"; do
        run --separate-stderr timeout 60 node "$TWIN_JS" --quiet --size 4K --iterations 3 \
            --snapshots "$dir" --tsv "$tsv"
        if [[ $dir == *file ]]; then assert_error_line "$dir" "Not a directory"
        else assert_error_line "$dir" "No such file or directory"; fi
        [[ ! -e $tsv ]] || fail "$dir: it ran first: $(cat "$tsv")"
    done
}

# A preload that makes V8 refuse every profile of 1 MiB after the first
# $FILL_OK, as a full heap would: the twin's session then gets 503.
FAIL_FILL='const fill = Array.prototype.fill; let n = 0;
Array.prototype.fill = function (...a) {
  if (this.length === 131072 && ++n > Number(process.env.FILL_OK)) throw new RangeError("injected");
  return fill.apply(this, a);
};'

@test "the out-of-memory message counts all the server holds: table, pending logins, audit list" {
    local mode sessions pending audit held
    printf '%s\n' "$FAIL_FILL" >"$BATS_TEST_TMPDIR/fail-fill.js"
    for mode in occasional hidden; do
        run --separate-stderr env FILL_OK=40 node -r "$BATS_TEST_TMPDIR/fail-fill.js" "$TWIN_JS" \
            --quiet --no-cap --mode "$mode" --size 1M --iterations 40
        assert_failure 3
        # shellcheck disable=SC2154  # set by bats' run --separate-stderr
        [[ $stderr =~ holding\ ([0-9]+)\ sessions\ in\ its\ table,\ ([0-9]+)\ failed\ logins\ left\ pending\ and\ ([0-9]+)\ ended\ sessions\ on\ the\ audit\ list\ \(([0-9]+)\.00\ MiB\ of\ profiles\)$ ]] ||
            fail "$mode: $stderr"
        sessions=${BASH_REMATCH[1]} pending=${BASH_REMATCH[2]} audit=${BASH_REMATCH[3]} held=${BASH_REMATCH[4]}
        (( held == sessions + pending + audit )) || fail "$mode: $stderr"
        if [[ $mode == occasional ]]; then (( pending > 0 && audit == 0 )) || fail "$mode: $stderr"
        else (( pending == 0 && audit > 0 )) || fail "$mode: $stderr"; fi
    done
}

@test "a port in use is a runtime error: exit 1 naming the address" {
    start_twin
    run --separate-stderr node "$TWIN_JS" --quiet --port "$PORT" --iterations 1
    assert_error_line "127.0.0.1:$PORT" "Address already in use"
}
