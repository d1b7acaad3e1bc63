#!/usr/bin/env bats
# Lab 6: the unbounded cache. Each test runs the lab and reads the numbers
# it recorded, one row per batch of requests; none looks at the clock. The
# request stream comes from --seed, so every run of a mode records the
# same counts, and the modes see the same stream.

load test_helper

SIZE=16K        # a value
REQ=100         # requests per batch
NK=10           # new keys per batch
ITERS=60        # batches
BUDGET=256K     # --max-bytes: 15 values of 16 KiB
MODES="unbounded limit lru ttl redis"
ARGS="--size $SIZE --requests $REQ --new-keys $NK --max-bytes $BUDGET"
# Redis needs more: an empty server's used_memory is 0.9 MiB already, and
# a maxmemory under it refuses every SET.
RARGS="--size $SIZE --requests $REQ --new-keys $NK --max-bytes 2M"

setup() {
    # The redis mode's socket directory goes under here, where a test can
    # see what is left of it.
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$TMPDIR"
}

# What a test started in the background, killed by its pid and reaped.
teardown() {
    local pid
    for pid in ${LAB_PID:-} ${SERVER_PID:-} ${DECOY_PID:-}; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# sum FILE COLUMN - the column summed over every row.
sum() {
    tsv_column "$1" "$2" | awk '{ s += $1 } END { print s + 0 }'
}

# mean_from FILE COLUMN ITER - the column's mean over the rows from
# iteration ITER on, rounded down.
mean_from() {
    paste <(tsv_column "$1" iter) <(tsv_column "$1" "$2") |
        awk -v from="$3" '$1 >= from { s += $2; n++ } END { printf "%d\n", n ? s / n : 0 }'
}

# assert_entries_follow FILE - on every row after the first, entries is
# the last row's entries plus this batch's misses (each stored) minus its
# evictions.
assert_entries_follow() {
    local bad
    bad=$(paste <(tsv_column "$1" iter) <(tsv_column "$1" entries) \
                <(tsv_column "$1" misses) <(tsv_column "$1" evictions) |
        awk 'NR > 1 && $2 != prev + $3 - $4 { print "batch " $1 ": entries " $2 ", not " prev " + " $3 " - " $4 }
             { prev = $2 }' | head -n 3)
    [[ -z $bad ]] || fail "entries do not follow misses - evictions in $1: $bad"
}

# ---------------------------------------------------------------------------
# Every mode
# ---------------------------------------------------------------------------

@test "every mode: hits + misses = requests, and entries follow misses - evictions" {
    local mode
    local args
    for mode in $MODES; do
        args=$ARGS
        [[ $mode != redis ]] || args=$RARGS
        run_lab 6 --mode $mode --iterations 30 $args
        assert_success
        assert_rows_whole "$TSV"
        assert_every_row "$TSV" "iter == 0 || (requests == $REQ && hits + misses == requests)"
        assert_every_row "$TSV" "hit_rate == (iter ? int(hits * 1000 / requests) : 0)"
        assert_entries_follow "$TSV"
    done
}

@test "the row checks fail for a row that does not add up" {
    run_lab 6 --mode lru --iterations 5 $ARGS
    assert_success
    # Batch 3 with one hit more than it had.
    awk -F'\t' -v OFS='\t' '!/^#/ && $1 == 3 { $10++ } { print }' "$TSV" >"$TSV.bad"
    run assert_every_row "$TSV.bad" "iter == 0 || hits + misses == requests"
    assert_failure
    awk -F'\t' -v OFS='\t' '!/^#/ && $1 == 3 { $8++ } { print }' "$TSV" >"$TSV.bad"
    run assert_entries_follow "$TSV.bad"
    assert_failure
}

@test "the same --seed records the same stream, row for row; another seed does not" {
    local first
    run_lab 6 --mode lru --iterations 40 $ARGS --seed 7
    first=$TSV
    run_lab 6 --mode lru --iterations 40 $ARGS --seed 7
    assert_same_rows "$first" "$TSV" iter,entries,cache_kib,hits,misses,evictions
    run_lab 6 --mode lru --iterations 40 $ARGS --seed 8
    run assert_same_rows "$first" "$TSV" hits
    assert_failure
}

# ---------------------------------------------------------------------------
# unbounded: the leak
# ---------------------------------------------------------------------------

@test "unbounded: cache_kib grows by new-keys x size a batch, and rss with it" {
    local step=$(( NK * $(kib $SIZE) ))
    run_lab 6 --mode unbounded --iterations $ITERS $ARGS
    assert_success
    assert_step "$TSV" cache_kib $step 10
    # (ASan's allocator adds red zones to every block, and rss with them.)
    [[ -n ${LEAKLAB_SANITIZER:-} ]] || assert_step "$TSV" rss_kib $step 10
    # Every key it has seen stays: it never evicts, and only new keys miss.
    assert_every_row "$TSV" "evictions == 0 && entries == iter * $NK && misses == (iter ? $NK : 0)"
}

@test "the growth check fails for lru, which stops growing" {
    run_lab 6 --mode lru --iterations $ITERS $ARGS
    assert_success
    run assert_step "$TSV" cache_kib $(( NK * $(kib $SIZE) )) 10
    assert_failure
}

# ---------------------------------------------------------------------------
# limit and lru: bounded
# ---------------------------------------------------------------------------

@test "limit and lru: entries within the limit, cache_kib within the bytes, rss flat" {
    local mode entries
    for mode in limit lru; do
        run_lab 6 --mode $mode --iterations $ITERS $ARGS --max-entries 14
        assert_success
        entries=$([[ $mode == limit ]] && echo 14 || echo 15)
        assert_every_row "$TSV" "entries <= $entries && cache_kib <= $(kib $BUDGET)"
        (( $(max_value "$TSV" entries) == entries )) || fail "$mode: entries never reached $entries"
        if [[ -z ${LEAKLAB_SANITIZER:-} ]]; then
            # After the warm-up (the first 5 batches fill it), rss moves by
            # less than the budget.
            assert_flat_from "$TSV" rss_kib 5 "$(kib $BUDGET)"
        fi
    done
}

@test "the bound checks fail for unbounded" {
    run_lab 6 --mode unbounded --iterations $ITERS $ARGS
    assert_success
    run assert_every_row "$TSV" "entries <= 15 && cache_kib <= $(kib $BUDGET)"
    assert_failure
    run assert_flat_from "$TSV" rss_kib 5 "$(kib $BUDGET)"
    assert_failure
}

@test "limit's default --max-entries is what fits in --max-bytes" {
    run_lab 6 --mode limit --iterations 20 $ARGS
    assert_success
    (( $(max_value "$TSV" entries) == 15 )) || fail "limit held $(max_value "$TSV" entries) entries"
    assert_every_row "$TSV" "cache_kib <= $(kib $BUDGET)"
}

@test "lru hits more than limit at the same budget, on the same stream" {
    local lru limit
    run_lab 6 --mode lru --iterations $ITERS $ARGS
    assert_success
    lru=$(sum "$TSV" hits)
    run_lab 6 --mode limit --iterations $ITERS $ARGS
    assert_success
    limit=$(sum "$TSV" hits)
    (( lru > limit )) || fail "lru hit $lru times, limit $limit"
}

# ---------------------------------------------------------------------------
# ttl: memory is write rate x ttl
# ---------------------------------------------------------------------------

@test "ttl: the plateau is write rate x ttl x size, within 15%" {
    local misses held
    run_lab 6 --mode ttl --ttl 5 --iterations $ITERS $ARGS
    assert_success
    # Every miss writes one value; each lives 5 batches.
    misses=$(mean_from "$TSV" misses 20) held=$(mean_from "$TSV" cache_kib 20)
    assert_within "$held" $(( misses * 5 * $(kib $SIZE) )) 15 "cache_kib from batch 20 on"
    # Nothing outlives its ttl: the entries are the last 5 batches' misses.
    assert_every_row "$TSV" "iter < 5 || entries <= 5 * $REQ"
}

@test "ttl: a higher arrival rate raises the plateau" {
    local slow fast
    run_lab 6 --mode ttl --ttl 5 --iterations $ITERS $ARGS
    assert_success
    slow=$(mean_from "$TSV" cache_kib 20)
    run_lab 6 --mode ttl --ttl 5 --iterations $ITERS $ARGS --new-keys $(( 2 * NK ))
    assert_success
    fast=$(mean_from "$TSV" cache_kib 20)
    # NK more keys a batch, each kept 5 batches, at the least.
    (( fast - slow >= NK * 5 * $(kib $SIZE) * 85 / 100 )) ||
        fail "the plateau went from $slow to $fast KiB with $NK more keys a batch"
}

@test "the ttl plateau check fails for lru, whose bound is bytes, not time" {
    local misses held
    run_lab 6 --mode lru --iterations $ITERS $ARGS
    assert_success
    misses=$(mean_from "$TSV" misses 20) held=$(mean_from "$TSV" cache_kib 20)
    run assert_within "$held" $(( misses * 5 * $(kib $SIZE) )) 15 "cache_kib"
    assert_failure
}

# ---------------------------------------------------------------------------
# redis: the cache in another process
# ---------------------------------------------------------------------------

@test "redis: the lab stays flat; the server holds the values, and evicts" {
    run_lab 6 --mode redis --iterations $ITERS $RARGS
    assert_success
    assert_every_row "$TSV" "cache_kib == 0"
    [[ -n ${LEAKLAB_SANITIZER:-} ]] || assert_flat_from "$TSV" rss_kib 1 512
    # 10 keys of 16 KiB a batch pass 2 MiB early: then the server evicts.
    assert_every_row "$TSV" "iter < 20 || (evicted_keys > 0 && used_memory_kib <= 2048)"
    (( $(last_value "$TSV" evicted_keys) == $(sum "$TSV" evictions) )) ||
        fail "evictions per batch do not add up to evicted_keys"
}

@test "redis: the server's rss stays under maxmemory plus its empty rss" {
    local base
    run_lab 6 --mode redis --iterations $ITERS $RARGS
    assert_success
    base=$(head -n 1 < <(tsv_column "$TSV" server_rss_kib))   # the empty server
    (( base > 0 )) || fail "no server rss at batch 0"
    assert_every_row "$TSV" "server_rss_kib <= 2048 + $base"
    # It does fill up: within 1 MiB of the bound at the end.
    (( $(last_value "$TSV" server_rss_kib) >= 2048 + base - 1024 )) ||
        fail "the server's rss ended at $(last_value "$TSV" server_rss_kib) KiB, far under 2048 + $base"
    # The bound is tight: a server given 8 MiB passes it.
    run_lab 6 --mode redis --iterations $ITERS $RARGS --max-bytes 8M
    assert_success
    run assert_every_row "$TSV" "server_rss_kib <= 2048 + $base"
    assert_failure
}

@test "redis: with room for every key, nothing is evicted" {
    run_lab 6 --mode redis --iterations 20 $RARGS --max-bytes 64M
    assert_success
    assert_every_row "$TSV" "evicted_keys == 0 && entries == iter * $NK"
}

@test "redis: the server is the lab's own: its child, on its own socket, no TCP, no config file" {
    local title
    "$BUILD/lab6" --quiet --mode redis --iterations 100000 $RARGS --tsv "$BATS_TEST_TMPDIR/r.tsv" 3>&- &
    LAB_PID=$!
    wait_until has_rows "$BATS_TEST_TMPDIR/r.tsv" 2
    SERVER_PID=$(server_of "$LAB_PID")
    [[ -n $SERVER_PID ]] || fail "no redis-server under the lab"
    # Redis sets its title to what it listens on: our socket, no TCP port
    # (a port would read "redis-server *:6379"). The lab itself refuses a
    # server whose INFO shows another pid, a TCP port or a config file.
    title=$(tr '\0' ' ' <"/proc/$SERVER_PID/cmdline")
    [[ $title == "redis-server unixsocket:$TMPDIR/leaklab-redis-"??????"/redis.sock"* ]] ||
        fail "the server's title: $title"
    run ss -Hltnp
    refute_output --partial "pid=$SERVER_PID,"
    # The socket's directory is gone once the lab has connected.
    assert_no_tmp
}

decoy_up() { redis-cli -p 6379 PING >/dev/null 2>&1; }

# connections - how many connections the Redis on 6379 has received.
connections() {
    redis-cli -p 6379 INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p'
}

@test "redis: a Redis on 6379, or none, is never touched" {
    command -v redis-cli >/dev/null || skip "no redis-cli"
    if ! redis-cli -p 6379 PING >/dev/null 2>&1; then
        # None there: the lab runs without one, then beside a decoy.
        run_lab 6 --mode redis --iterations 5 $RARGS
        assert_success
        redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no --logfile '' >/dev/null 3>&- &
        DECOY_PID=$!
        wait_until decoy_up
    elif [[ -z ${LEAKLAB_TEST_SYSTEM_REDIS:-} ]]; then
        skip "a Redis of this machine runs on 6379: LEAKLAB_TEST_SYSTEM_REDIS=1 lets this test read its INFO"
    fi
    local before after
    before=$(connections)
    run_lab 6 --mode redis --iterations 5 $RARGS
    assert_success
    after=$(connections)
    # One connection more: our own second INFO. None from the lab.
    (( after == before + 1 )) || fail "the Redis on 6379 received $(( after - before )) connections"
    (( $(last_value "$TSV" entries) == 5 * NK )) || fail "the lab's server holds $(last_value "$TSV" entries) keys"
}

@test "redis: SIGKILL the lab mid-run, and its server and socket directory go too" {
    "$BUILD/lab6" --quiet --mode redis --iterations 100000 $RARGS --tsv "$BATS_TEST_TMPDIR/r.tsv" 3>&- &
    LAB_PID=$!
    wait_until has_rows "$BATS_TEST_TMPDIR/r.tsv" 3
    SERVER_PID=$(server_of "$LAB_PID")
    [[ -n $SERVER_PID ]] || fail "no redis-server under the lab"
    kill -KILL "$LAB_PID"
    wait "$LAB_PID" 2>/dev/null || true
    wait_until is_gone "$SERVER_PID"
    assert_no_tmp
}

@test "redis: SIGTERM and SIGINT take the server and the directory down" {
    local sig
    for sig in TERM INT; do
        "$BUILD/lab6" --quiet --mode redis --iterations 100000 $RARGS --tsv "$BATS_TEST_TMPDIR/$sig.tsv" 3>&- &
        LAB_PID=$!
        wait_until has_rows "$BATS_TEST_TMPDIR/$sig.tsv" 3
        SERVER_PID=$(server_of "$LAB_PID")
        kill -$sig "$LAB_PID"
        status=0
        wait "$LAB_PID" || status=$?
        (( status == 128 + $(kill -l $sig) )) || fail "SIG$sig: exit $status"
        wait_until is_gone "$SERVER_PID"
        assert_no_tmp "SIG$sig"
    done
}

@test "redis: the server killed mid-run: exit 1 with Redis's error, not a crash" {
    local tsv=$BATS_TEST_TMPDIR/r.tsv err=$BATS_TEST_TMPDIR/err
    "$BUILD/lab6" --quiet --mode redis --iterations 100000 $RARGS --tsv "$tsv" 2>"$err" 3>&- &
    LAB_PID=$!
    wait_until has_rows "$tsv" 3
    SERVER_PID=$(server_of "$LAB_PID")
    kill -KILL "$SERVER_PID"
    status=0
    wait "$LAB_PID" || status=$?
    (( status == 1 )) || fail "exit $status, not 1: $(cat "$err")"
    [[ $(wc -l <"$err") -eq 1 ]] || fail "stderr: $(cat "$err")"
    # hiredis's words for a connection the server dropped, and how it went.
    grep -Eq '^lab6: redis (GET|SET|INFO): (Server closed the connection|Connection reset by peer|Broken pipe) \(the server: killed by SIGKILL\)$' "$err" ||
        fail "stderr: $(cat "$err")"
    assert_rows_whole "$tsv"
}

@test "redis: an error reply ends the run with exit 1 and Redis's own words" {
    # 512 KiB is less than an empty server uses: every SET is refused.
    run --separate-stderr "$BUILD/lab6" --quiet --mode redis --iterations 5 --size 4K --max-bytes 512K
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == "lab6: redis SET: OOM command not allowed when used memory > 'maxmemory'." ]] ||
        fail "stderr: $stderr"
    assert_no_tmp
}

@test "redis: without redis-server, one line names the package and make deps; lru still runs" {
    local bin=$BATS_TEST_TMPDIR/bin
    mkdir -p "$bin"
    run --separate-stderr env PATH="$bin" "$BUILD/lab6" --quiet --mode redis --iterations 3
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "lab6: the redis mode needs redis-server, which is not installed (Debian package redis-server): make deps installs it"
    assert_no_tmp
    run env PATH="$bin" "$BUILD/lab6" --quiet --mode lru --iterations 3
    assert_success
}

@test "redis: a lab built without hiredis names libhiredis-dev and make deps; lru still runs" {
    skip_if_sanitized "builds its own lab 6 with the plain flags"
    local build=$BATS_TEST_TMPDIR/nohiredis
    make -s -C "$LEAKLAB_ROOT" BUILD="$build" HIREDIS=no "$build/lab6" >/dev/null ||
        fail "make HIREDIS=no failed"
    run --separate-stderr "$build/lab6" --quiet --mode redis --iterations 3
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "lab6: the redis mode needs hiredis, which this build lacks (Debian package libhiredis-dev): make deps installs it, then make builds lab 6 again"
    run "$build/lab6" --quiet --mode lru --iterations 3
    assert_success
}

# ---------------------------------------------------------------------------
# The runner, Valgrind, arguments, the bench
# ---------------------------------------------------------------------------

@test "through the runner, every mode finishes, and no server outlives its run" {
    local mode
    for mode in $MODES; do
        leaklab_run 6 $mode -- --iterations 10 $RARGS
        assert_success
        assert_meta "$META" verdict finished
        assert_rows_whole "$TSV"
    done
    run pgrep -f "leaklab-redis-.*/redis.sock"
    assert_failure
}

@test "memcheck: limit, lru and ttl lose nothing, and make no error" {
    local mode
    for mode in limit lru ttl; do
        run_memcheck 6 --mode $mode --iterations 30 --size 1K --requests 50 --new-keys 5 --max-bytes 16K --ttl 3
        assert_success
        assert_memcheck_clean "$VGLOG"
        refute_leak "definitely lost" "$VGLOG"
        refute_leak "indirectly lost" "$VGLOG"
        refute_leak "possibly lost" "$VGLOG"
    done
}

# reachable_growth MODE - what Valgrind calls still reachable at exit,
# after 30 batches minus after 10 (1 KiB values, 5 new keys a batch).
reachable_growth() {
    local at10
    run_memcheck 6 --mode "$1" --iterations 10 --size 1K --requests 50 --new-keys 5 --max-bytes 16K
    [[ $status -eq 0 ]] || return 1
    refute_leak "definitely lost" "$VGLOG" || return 1
    at10=$(leak_bytes "$VGLOG" "still reachable")
    run_memcheck 6 --mode "$1" --iterations 30 --size 1K --requests 50 --new-keys 5 --max-bytes 16K
    [[ $status -eq 0 ]] || return 1
    echo $(( $(leak_bytes "$VGLOG" "still reachable") - at10 ))
}

@test "memcheck: unbounded is still reachable, and grows with the batches; lru's does not" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    local grew
    grew=$(reachable_growth unbounded)
    # 20 more batches, 5 new values of 1 KiB each: 100 KiB more, at least.
    (( grew >= 100 * 1024 )) || fail "unbounded: still reachable grew by $grew bytes"
    grew=$(reachable_growth lru)
    (( grew < 100 * 1024 )) || fail "lru: still reachable grew by $grew bytes"
}

@test "memcheck: the redis mode's client frees what hiredis gave it" {
    run_memcheck 6 --mode redis --iterations 5 --size 1K --requests 50 --new-keys 5
    assert_success
    assert_memcheck_clean "$VGLOG"
    refute_leak "definitely lost" "$VGLOG"
    refute_leak "indirectly lost" "$VGLOG"
}

@test "bad arguments are one line and exit 2" {
    assert_bad_argument "--requests" "$BUILD/lab6" --requests 0
    assert_bad_argument "--new-keys" "$BUILD/lab6" --new-keys 0
    assert_bad_argument "--new-keys '300'" "$BUILD/lab6" --new-keys 300 --requests 200
    assert_bad_argument "--ttl" "$BUILD/lab6" --ttl 0
    assert_bad_argument "--max-entries" "$BUILD/lab6" --max-entries x
    assert_bad_argument "--seed" "$BUILD/lab6" --seed -1
    assert_bad_argument "--bench" "$BUILD/lab6" --bench 0
    assert_bad_argument "--max-bytes" "$BUILD/lab6" --max-bytes 4Q
    assert_bad_argument "--max-bytes" "$BUILD/lab6" --max-bytes 0
}

@test "--max-bytes smaller than one value says so" {
    assert_bad_argument "bad --max-bytes '8K': smaller than one value of --size 16384 bytes" \
        "$BUILD/lab6" --mode lru --max-bytes 8K
}

@test "--bench times lookups on a warm cache of 100000 keys" {
    run "$BUILD/lab6" --mode lru --bench 1000 --size 64 --max-bytes 1G
    assert_success
    assert_output --regexp '^bench: lru: 1000 lookups on 100000 entries, 1000 hits: [0-9.]+ ns per lookup \(the best of 5 passes\)$'
}

@test "--bench in the redis mode: round trips, then redis-benchmark on the same socket" {
    command -v redis-benchmark >/dev/null || skip "no redis-benchmark"
    run "$BUILD/lab6" --mode redis --bench 200 --size 1K
    assert_success
    assert_line --regexp '^bench: redis: 200 round trips \(GET, 1024 bytes\) in [0-9.]+ s: [0-9]+ per second$'
    assert_line --regexp '^"GET","[0-9.]+"'
    assert_no_tmp
}

# ---------------------------------------------------------------------------
# The challenge (LESSONS.md, "Lab 6", Challenge): a mode per-request whose
# cache key holds the request's own id, as in a common real bug
# ---------------------------------------------------------------------------

# lab6_challenge BIN MODE - MODE of the lab BIN is the per-request cache:
# 30 batches of 50 requests for 4 KiB values (5 new keys a batch). On
# every row: no hit (no key repeats), every request missed and stored,
# nothing evicted, entries == 50 x iter; and cache_kib grows by 50 values
# a batch (200 KiB, within 10%). Returns 1 with what it missed.
lab6_challenge() {
    local tsv=$BATS_TEST_TMPDIR/challenge-$2.tsv
    "$1" --quiet --mode "$2" --iterations 30 --size 4K --requests 50 --new-keys 5 \
        --tsv "$tsv" || { echo "$2: exit $?, not 0"; return 1; }
    assert_every_row "$tsv" 'iter == 0 || (hits == 0 && misses == requests)' || return 1
    assert_every_row "$tsv" 'entries == 50 * iter && evictions == 0' || return 1
    assert_step "$tsv" cache_kib 200 10 || return 1
}

# build_challenge VARIANT - lab 6 with labs/solutions/lab6-challenge.patch
# applied ("solution"), or with the mode it adds doing nothing
# ("do-nothing": a case in every switch, each a break), built in the
# test's directory against $BUILD's objects. Sets CHALLENGE_BIN.
build_challenge() {
    local dir=$BATS_TEST_TMPDIR/challenge-$1
    mkdir -p "$dir/labs"
    cp "$LEAKLAB_ROOT/labs/lab6-cache.c" "$dir/labs/"
    patch -s -d "$dir" -p1 <"$LEAKLAB_ROOT/labs/solutions/lab6-challenge.patch" ||
        fail "the solution's patch does not apply"
    if [[ $1 == do-nothing ]]; then
        sed -i -e '/static uint64_t request_id;/d' \
            -e 's/^\( *\)return local_lookup(++request_id << 32 | key, iter);/\1break;/' \
            "$dir/labs/lab6-cache.c"
        ! grep -q 'request_id << 32' "$dir/labs/lab6-cache.c" || fail "the do-nothing edit did not apply"
    fi
    CHALLENGE_BIN=$dir/lab6
    cc -std=c11 -Wall -Wextra -Werror -O1 -I "$LEAKLAB_ROOT/labs" -DLEAKLAB_HIREDIS=0 \
        -o "$CHALLENGE_BIN" "$dir/labs/lab6-cache.c" \
        "$BUILD"/harness/{lab,probe,budget,dest,redis}.o -lm || fail "$1 does not build"
}

@test "challenge: your per-request mode never hits and keeps every value" {
    [[ -n ${LAB6_CHALLENGE_MODE:-} ]] ||
        skip "set LAB6_CHALLENGE_MODE to your mode (LESSONS.md, Lab 6, Challenge)"
    run lab6_challenge "$BUILD/lab6" "$LAB6_CHALLENGE_MODE"
    assert_success
}

@test "the challenge check passes the reference solution, and fails a mode that does nothing, unbounded and lru" {
    skip_if_sanitized "builds the solution against the plain objects"
    build_challenge solution
    run lab6_challenge "$CHALLENGE_BIN" per-request
    assert_success
    local mode
    for mode in unbounded lru; do
        run lab6_challenge "$CHALLENGE_BIN" $mode
        assert_failure
    done
    build_challenge do-nothing
    run lab6_challenge "$CHALLENGE_BIN" per-request
    assert_failure
    assert_output --partial "entries == 50 * iter"
}

@test "make bench: lru's lookup against unbounded's, and the redis client against redis-benchmark" {
    skip_if_sanitized "make bench times the plain build: bench-run's RLIMIT_AS stops an ASan one"
    local dir=$BATS_TEST_TMPDIR/bench
    BENCH_ROUNDS=1 BENCH_COPY_SIZE=1M BENCH_TICKS=20 BENCH_LOOKUPS=10000 BENCH_ROUND_TRIPS=300 \
        run --separate-stderr "$LEAKLAB_ROOT/harness/bench.sh" "$BUILD" "$dir"
    assert_success
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$(grep -c 'cache round 1/1: unbounded lru redis$' <<<"$stderr")" 1
    run cut -f1,3 "$dir/lookup.tsv"
    assert_output --regexp $'^mode\tratio_to_unbounded\nunbounded\t1.00\nlru\t[0-9]+\\.[0-9]{2}$'
    run cut -f1,3 "$dir/redis.tsv"
    assert_output --regexp $'^client\tratio_to_redis_benchmark\nredis-benchmark\t1.00\nlab6 redis\t[0-9]+\\.[0-9]{2}$'
    [[ -s $dir/bench-cache.png && -s $dir/bench-cache.svg ]] || fail "no bench-cache chart"
}
