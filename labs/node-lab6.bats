#!/usr/bin/env bats
# Lab 6's Node.js twin (labs/node/lab6-cache.js): the unbounded cache in
# a Map, its bounds, and the cache in a redis-server of its own, beside
# the C lab. The twin draws the C lab's key stream from the same --seed,
# so its in-process modes must record the C lab's counts row for row.
# The runs of the first tests are made once, in setup_file, at classroom
# sizes; the tests read the records. Without node they skip.

load test_helper

SIZE=16K        # a value
REQ=100         # requests per batch
NK=10           # new keys per batch
ITERS=60        # batches
ARGS="--iterations $ITERS --size $SIZE --requests $REQ --new-keys $NK --max-bytes 256K"
# Redis needs more room: an empty server's used_memory is 0.9 MiB.
RARGS="--iterations $ITERS --size $SIZE --requests $REQ --new-keys $NK --max-bytes 2M"
# Many small draws, for the key stream itself: 80,000 lookups.
STREAM="--iterations 40 --size 64 --requests 2000 --new-keys 5 --max-bytes 64K --ttl 3"
COUNTS=iter,requests,entries,cache_kib,hits,misses,evictions,hit_rate

setup_file() {
    export O=$BATS_FILE_TMPDIR/out
    export TMPDIR=$BATS_FILE_TMPDIR/tmp
    mkdir -p "$TMPDIR"
    command -v node >/dev/null || return 0
    local log=$BATS_FILE_TMPDIR/runs.log mode
    {
        for mode in unbounded limit lru ttl; do
            twin "$mode" $ARGS && lab "$mode" $ARGS || return 1
        done
        twin lru --out "$O/seed7" -- $STREAM --seed 7 && lab lru --out "$O/seed7" -- $STREAM --seed 7 &&
        twin ttl --out "$O/seed7" -- $STREAM --seed 7 && lab ttl --out "$O/seed7" -- $STREAM --seed 7 &&
        twin redis $RARGS
    } >"$log" 2>&1 || { cat "$log" >&3; return 1; }
}

# twin MODE [RUNNER ARGS --] LAB ARGS - the twin's MODE through the
# runner, records under $O unless RUNNER ARGS say --out.
twin() {
    local mode=$1; shift
    [[ " $* " == *" -- "* ]] || set -- -- "$@"
    "$BUILD/leaklab" run 6 --node --mode "$mode" --quiet --out "$O" "$@"
}

# lab MODE [RUNNER ARGS --] LAB ARGS - the C lab's MODE, beside it.
lab() {
    local mode=$1; shift
    [[ " $* " == *" -- "* ]] || set -- -- "$@"
    "$BUILD/leaklab" run 6 --mode "$mode" --quiet --out "$O" "$@"
}

setup() {
    command -v node >/dev/null || skip "node is not installed (make deps installs nodejs)"
    TWIN=$LEAKLAB_ROOT/labs/node/lab6-cache.js
}

# What a test started in the background, killed by its pid and reaped.
teardown() {
    local pid
    for pid in ${TWIN_PID:-} ${SERVER_PID:-}; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# twin_copy DIR - the twin and the modules it requires (probe.js,
# redis.js), copied into DIR (made), so that a test can edit one of them.
twin_copy() {
    mkdir -p "$1"
    cp "$LEAKLAB_ROOT"/labs/node/*.js "$1/"
}

# assert_cache_grows FILE - unbounded's shape: the values, new-keys x size
# a batch, land in external (within 10%) and in rss (15%), while V8's heap
# grows by less than a tenth of that; nothing is evicted, every key stays.
assert_cache_grows() {
    local step=$(( NK * $(kib $SIZE) ))
    assert_step "$1" external_kib $step 10 || return
    assert_step "$1" rss_kib $step 15 || return
    assert_slope_between "$1" heap_used_kib -$(( step / 10 )) $(( step / 10 )) || return
    assert_every_row "$1" "evictions == 0 && entries == iter * $NK"
}

# assert_bounded FILE - after a warm-up of 20 batches, rss stays within
# 4 MiB of itself and external within 2 MiB: the cache's 256 KiB and V8's
# own noise (its collector, its code), never a batch's 160 KiB a row.
assert_bounded() {
    assert_flat_from "$1" rss_kib 20 4096 || return
    assert_flat_from "$1" external_kib 20 2048 || return
    assert_slope_from "$1" external_kib 20 -16 16
}

# ---------------------------------------------------------------------------
# The leak and its bounds, in Node
# ---------------------------------------------------------------------------

@test "unbounded: the twin's Map grows by new-keys x size a batch, in external, not on V8's heap" {
    assert_meta "$O/lab6/node-unbounded.meta" verdict finished
    assert_cache_grows "$O/lab6/node-unbounded.tsv"
}

@test "the growth check fails for lru, which stops growing" {
    run assert_cache_grows "$O/lab6/node-lru.tsv"
    assert_failure
}

@test "limit and lru: the twin's rss and external stay flat after their warm-up" {
    local mode
    for mode in limit lru; do
        assert_meta "$O/lab6/node-$mode.meta" verdict finished
        assert_bounded "$O/lab6/node-$mode.tsv"
    done
    # What each keeps: limit and lru the C lab's 15 entries of 256 KiB.
    assert_every_row "$O/lab6/node-lru.tsv" "entries <= 15 && cache_kib <= 256"
}

@test "the flat check fails for unbounded" {
    run assert_bounded "$O/lab6/node-unbounded.tsv"
    assert_failure
}

# assert_ttl_holds FILE TTL - ttl's bound is set by the traffic: on every
# row it holds exactly what the last TTL batches wrote (their misses),
# and the twin's external follows those entries' values within 2 MiB.
assert_ttl_holds() {
    local bad
    bad=$(paste <(tsv_column "$1" iter) <(tsv_column "$1" entries) \
                <(tsv_column "$1" misses) <(tsv_column "$1" external_kib) | awk -F'\t' -v ttl="$2" -v kib="$(kib $SIZE)" '
        { m[$1] = $3; held = 0; for (i = $1 - ttl + 1; i <= $1; i++) if (i >= 1) held += m[i] }
        $1 == 0 { base = $4 }
        $2 != held { print "batch " $1 ": " $2 " entries, the last " ttl " batches wrote " held; exit }
        { d = $4 - base - $2 * kib; if (d < 0) d = -d }
        d > 2048 { print "batch " $1 ": external " $4 " KiB for " $2 " values"; exit }')
    [[ -z $bad ]] || fail "$1: $bad"
}

@test "ttl: the twin holds what the last --ttl batches wrote, and its external follows those values" {
    assert_meta "$O/lab6/node-ttl.meta" verdict finished
    assert_ttl_holds "$O/lab6/node-ttl.tsv" 10
}

@test "the ttl check fails for unbounded, and for a ttl one batch off" {
    run assert_ttl_holds "$O/lab6/node-unbounded.tsv" 10
    assert_failure
    run assert_ttl_holds "$O/lab6/node-ttl.tsv" 9
    assert_failure
}

# assert_external_is FILE W - what the twin's external counts (LESSONS,
# lab 6): on every row, row 0's external (Node's own) plus a value for
# each entry held and W for each the batch evicted, within 24 KiB. W is
# 1 with the probe's one collection a row: V8 takes a dead Buffer's
# bytes off external only at its next collection; 0 after a second one.
assert_external_is() {
    local bad
    bad=$(paste <(tsv_column "$1" iter) <(tsv_column "$1" entries) \
                <(tsv_column "$1" evictions) <(tsv_column "$1" external_kib) |
        awk -F'\t' -v w="$2" -v kib="$(kib $SIZE)" '
        $1 == 0 { base = $4 }
        { want = base + kib * ($2 + w * $3); d = $4 - want; if (d < 0) d = -d }
        d > 24 { print "batch " $1 ": external " $4 " KiB, not " want " (" $2 " held, " $3 " evicted)"; exit }')
    [[ -z $bad ]] || fail "$1: $bad"
}

@test "the twin's external is Node's own, the values held and the batch's evicted ones, on every row" {
    local mode
    for mode in unbounded limit lru ttl; do
        assert_external_is "$O/lab6/node-$mode.tsv" 1
    done
}

@test "the external check fails for limit when it leaves out the batch's evicted values" {
    run assert_external_is "$O/lab6/node-limit.tsv" 0
    assert_failure
}

@test "a second collection before each row takes the evicted values off external" {
    local dir=$BATS_TEST_TMPDIR/twice
    # The probe collecting twice before each row: external is then the
    # values held alone.
    twin_copy "$dir"
    sed 's/^  if (P\.gc) P\.gc();$/  if (P.gc) { P.gc(); P.gc(); }/' \
        "$LEAKLAB_ROOT/labs/node/probe.js" >"$dir/probe.js"
    ! cmp -s "$LEAKLAB_ROOT/labs/node/probe.js" "$dir/probe.js" || fail "the second-collection edit did not apply"
    node "$dir/lab6-cache.js" --quiet --mode limit $ARGS --tsv "$dir/limit.tsv"
    assert_external_is "$dir/limit.tsv" 0
    run assert_external_is "$dir/limit.tsv" 1
    assert_failure
}

# ---------------------------------------------------------------------------
# The mapping, measured: the same stream, the same counts
# ---------------------------------------------------------------------------

@test "in every in-process mode, the twin's hits, misses, entries and evictions equal the C lab's, row for row" {
    local mode
    for mode in unbounded limit lru ttl; do
        assert_same_rows "$O/lab6/$mode.tsv" "$O/lab6/node-$mode.tsv" $COUNTS
    done
    # 80,000 draws from seed 7 over a growing key space: the Zipf draw's
    # floating point gives C's keys, one by one, or the counts part.
    for mode in lru ttl; do
        assert_same_rows "$O/seed7/lab6/$mode.tsv" "$O/seed7/lab6/node-$mode.tsv" $COUNTS
    done
}

@test "the row comparison fails for the neighbouring mode, another seed, and a twin whose draw rounds" {
    run assert_same_rows "$O/lab6/limit.tsv" "$O/lab6/node-lru.tsv" $COUNTS
    assert_failure
    run "$BUILD/leaklab" run 6 --node --mode lru --quiet --out "$BATS_TEST_TMPDIR/s2" -- $ARGS --seed 2
    assert_success
    run assert_same_rows "$O/lab6/lru.tsv" "$BATS_TEST_TMPDIR/s2/lab6/node-lru.tsv" $COUNTS
    assert_failure
    # A twin one rounding away from C's generator: Math.round for floor.
    local dir=$BATS_TEST_TMPDIR/round
    twin_copy "$dir"
    sed 's/Math\.floor(Math\.exp(/Math.round(Math.exp(/' "$TWIN" >"$dir/lab6-cache.js"
    ! cmp -s "$TWIN" "$dir/lab6-cache.js" || fail "the rounding edit did not apply"
    node "$dir/lab6-cache.js" --quiet --mode lru $ARGS --tsv "$dir/lru.tsv"
    run assert_same_rows "$O/lab6/lru.tsv" "$dir/lru.tsv" $COUNTS
    assert_failure
}

# mmap_drawn SVG - succeeds if the chart draws C's mmap line: its key
# entry, or a solid orange line (Node's external is dashed orange).
mmap_drawn() {
    grep -q '>C mmap<' "$1" || grep -q "stroke='rgb(230, 159,   0)'  d=" "$1"
}

@test "the comparison chart leaves out C's mmap, 0 on every row of every panel, and its key entry" {
    local d=$BATS_TEST_TMPDIR/lab6
    cp -r -- "$O/lab6" "$d"
    run plots/node-compare.sh --formats svg "$d"
    assert_success
    ! mmap_drawn "$d/node-compare.svg" || fail "C's mmap, 0 on every row, is drawn"
    grep -q '>Node external<' "$d/node-compare.svg" || fail "Node's external is left out too"
    # One row of one run off 0, and the line and its key entry are back.
    awk -F'\t' -v OFS='\t' '/^#/ { print; next }
        !c { for (i = 1; i <= NF; i++) if ($i == "mmap_kib") c = i; print; next }
        $1 == 5 { $c = 64 } { print }' "$O/lab6/lru.tsv" >"$d/lru.tsv"
    run plots/node-compare.sh --formats svg "$d"
    assert_success
    mmap_drawn "$d/node-compare.svg" || fail "C's mmap, 64 KiB on one row, is not drawn"
}

# ---------------------------------------------------------------------------
# redis: the cache in a server of the twin's own
# ---------------------------------------------------------------------------

@test "redis: the twin's rss stays flat while server_rss_kib holds the cache" {
    local tsv=$O/lab6/node-redis.tsv
    assert_meta "$O/lab6/node-redis.meta" verdict finished
    assert_redis_shape "$tsv"
}

# assert_redis_shape FILE - the twin holds no value: after 20 batches its
# rss stays within 4 MiB of itself; the server's rss rises by at least
# 768 KiB over its first row, and its used_memory reaches 1.9 MiB of its
# 2 MiB maxmemory (0.9 MiB of it the empty server's own), and it evicts.
assert_redis_shape() {
    local first
    assert_flat_from "$1" rss_kib 20 4096 || return
    assert_every_row "$1" "cache_kib == 0" || return
    first=$(tsv_column "$1" server_rss_kib | head -n 1)
    (( first > 0 )) || fail "$1: no server_rss_kib on the first row" || return
    (( $(last_value "$1" server_rss_kib) >= first + 768 )) ||
        fail "$1: the server's rss went from $first to $(last_value "$1" server_rss_kib) KiB" || return
    (( $(last_value "$1" used_memory_kib) >= 1946 )) ||
        fail "$1: used_memory ended at $(last_value "$1" used_memory_kib) KiB" || return
    (( $(last_value "$1" evicted_keys) > 0 )) || fail "$1: the server evicted nothing"
}

@test "the redis check fails for unbounded, which holds the cache itself" {
    run assert_redis_shape "$O/lab6/node-unbounded.tsv"
    assert_failure
}

@test "redis: the server and its socket directory are gone once the twin is done" {
    node "$TWIN" --quiet --mode redis $RARGS --iterations 200 --tsv "$BATS_TEST_TMPDIR/r.tsv" 3>&- &
    TWIN_PID=$!
    wait_until has_rows "$BATS_TEST_TMPDIR/r.tsv" 2
    SERVER_PID=$(server_of "$TWIN_PID")
    [[ -n $SERVER_PID ]] || fail "no redis-server under the twin"
    # Its own, private: a unix socket in TMPDIR, no TCP port.
    [[ $(tr '\0' ' ' <"/proc/$SERVER_PID/cmdline") == "redis-server unixsocket:$TMPDIR/leaklab-redis-"* ]] ||
        fail "the server's title: $(tr '\0' ' ' <"/proc/$SERVER_PID/cmdline")"
    wait "$TWIN_PID"
    is_gone "$SERVER_PID" || fail "redis-server $SERVER_PID outlived the twin"
    assert_no_tmp
}

# redis_twin DIR - DIR's twin in the redis mode, started in the
# background and 3 rows in; sets TWIN_PID and SERVER_PID, its server.
redis_twin() {
    local tsv=$1/killed.tsv
    node "$1/lab6-cache.js" --quiet --mode redis $RARGS --iterations 100000 --tsv "$tsv" 3>&- &
    TWIN_PID=$!
    wait_until has_rows "$tsv" 3
    SERVER_PID=$(server_of "$TWIN_PID")
    [[ -n $SERVER_PID ]] || fail "no redis-server under the twin"
}

# kill_twin - SIGKILL the twin TWIN_PID, and reap it.
kill_twin() {
    kill -KILL "$TWIN_PID"
    wait "$TWIN_PID" 2>/dev/null || true
}

@test "redis: SIGKILL the twin mid-run and its server dies too; without setpriv's death signal it would not" {
    local dir orphan redis=$LEAKLAB_ROOT/labs/node/redis.js
    for dir in twin orphan; do
        twin_copy "$BATS_TEST_TMPDIR/$dir"
    done
    # The same twin spawning redis-server without --pdeathsig: an orphan.
    dir=$BATS_TEST_TMPDIR/orphan
    sed "s/\['--pdeathsig', 'KILL', /[/" "$redis" >"$dir/redis.js"
    ! cmp -s "$redis" "$dir/redis.js" || fail "the orphan edit did not apply"
    redis_twin "$dir"
    orphan=$SERVER_PID
    kill_twin
    # The real twin is killed after the orphan's, so that the orphan's
    # server has had at least the time the real one takes to die.
    redis_twin "$BATS_TEST_TMPDIR/twin"
    kill_twin
    wait_until is_gone "$SERVER_PID"
    SERVER_PID=$orphan                  # teardown kills it
    ! is_gone "$orphan" || fail "the server without a death signal died anyway"
}

@test "redis: without redis-server, one line names the package and exit 1; lru still runs" {
    local bin=$BATS_TEST_TMPDIR/bin node
    node=$(command -v node)
    mkdir -p "$bin"
    run --separate-stderr env PATH="$bin" "$node" "$TWIN" --quiet --mode redis --iterations 3
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$stderr" "lab6-cache.js: the redis mode needs redis-server, which is not installed (Debian package redis-server): make deps installs it"
    assert_no_tmp
    run env PATH="$bin" "$node" "$TWIN" --quiet --mode lru --iterations 3
    assert_success
}

# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

@test "bad options exit 2 with one line naming them" {
    assert_bad_argument "--requests" node "$TWIN" --requests 0
    assert_bad_argument "--new-keys '300'" node "$TWIN" --new-keys 300 --requests 200
    assert_bad_argument "--ttl" node "$TWIN" --ttl 0
    assert_bad_argument "--max-entries" node "$TWIN" --max-entries x
    assert_bad_argument "--seed" node "$TWIN" --seed -1
    assert_bad_argument "--max-bytes" node "$TWIN" --max-bytes 4Q
    assert_bad_argument "bad --max-bytes '8K': smaller than one value of --size 16384 bytes" \
        node "$TWIN" --mode lru --max-bytes 8K
    assert_bad_argument "mode 'nope'" node "$TWIN" --mode nope
}
