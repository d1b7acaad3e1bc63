#!/usr/bin/env bats
# The Node.js twins (labs/node/): each lab's experiment in JavaScript, run
# by the same runner, and the mapping LESSONS.md draws between the two
# languages, measured on this machine: growth per row, the iteration a run
# dies at, what stays flat. Every run is made once, in setup_file, through
# the runner at classroom sizes unless a test says otherwise; the tests
# read the records. Without node (make deps installs nodejs) they skip.

load test_helper

setup_file() {
    export NODE_OUT=$BATS_FILE_TMPDIR/out BIG_OUT=$BATS_FILE_TMPDIR/big
    command -v node >/dev/null || return 0
    local tmp=$BATS_FILE_TMPDIR log=$BATS_FILE_TMPDIR/runs.log
    {
        twin 1 retain && twin 1 release &&
        lab 2 budget && twin 2 budget &&
        lab 3 offheap && twin 3 offheap &&
        twin 4 unbounded && twin 4 bounded &&
        "$BUILD/lab5" --make-input 32M "$tmp/in32.bin" &&
        twin 5 data -- "$tmp/in32.bin" "$tmp/copy.bin" &&
        "$BUILD/lab5" --make-input 240M "$tmp/in240.bin" &&
        twin 5 pipe --out "$BIG_OUT" -- --slow 1 "$tmp/in240.bin" "$tmp/copy.bin"
    } >"$log" 2>&1 || { cat "$log" >&3; return 1; }
    rm -f "$tmp/in240.bin" "$tmp/copy.bin"
}

# twin N MODE [RUNNER ARGS] [-- LAB ARGS] - lab N's twin, one mode, through
# the runner: records under NODE_OUT unless RUNNER ARGS say --out.
twin() {
    local n=$1 mode=$2; shift 2
    "$BUILD/leaklab" run "$n" --node --mode "$mode" --quiet --out "$NODE_OUT" "$@"
}

# lab N MODE - the C lab's run of the same mode, beside it; none under a
# sanitizer, whose rss is another story (the tests that need it skip).
lab() {
    [[ -n ${LEAKLAB_SANITIZER:-} ]] && return 0
    "$BUILD/leaklab" run "$1" --mode "$2" --quiet --out "$NODE_OUT"
}

setup() {
    command -v node >/dev/null || skip "node is not installed (make deps installs nodejs)"
    O=$NODE_OUT
}

# slope FILE COLUMN - the column's least-squares growth per row, from row 1.
slope() {
    local s
    read -r _ _ _ _ _ s < <(tsv_stats "$1" "$2")
    echo "$s"
}

# assert_offheap_shape FILE STEP_KIB - lab 3's offheap, as it reads in
# any language: heap_total within 2 MiB of flat, rss growing by STEP per
# row (within 5%), and the bytes outside the heap (external_kib) growing
# with it, rss - external staying within 4 MiB of itself on every row.
assert_offheap_shape() {
    assert_flat "$1" heap_total_kib 2048 || return
    assert_step "$1" rss_kib "$2" 5 || return
    assert_step "$1" external_kib "$2" 5 || return
    local gap
    gap=$(tsv_columns "$1" iter rss_kib external_kib |
        awk -F'\t' '$1 >= 1 { d = $2 - $3; if (n++ == 0 || d < lo) lo = d; if (d > hi) hi = d }
                    END { print hi - lo }')
    (( gap <= 4096 )) || fail "$1: rss - external moves by $gap KiB; external does not follow rss"
}

# lessons_row LAB MODE - "LAST KIB" from LESSONS.md's table of lab LAB:
# the Node row of MODE, its last row and its rss per row in KiB.
lessons_row() {
    awk -v lab="$1" -v mode="$2" -F'|' '
        $0 == "<!-- node-table:lab" lab " -->" { on = 1; next }
        $0 == "<!-- /node-table:lab" lab " -->" { on = 0 }
        on && $2 ~ "`" mode "`" && $3 ~ /^ *Node *$/ {
            last = $5 + 0; split($6, v, " ")
            print last, (v[2] == "MiB" ? v[1] * 1024 : v[1]); exit
        }' "$LEAKLAB_ROOT/LESSONS.md"
}

# --------------------------------------------------------------------------
# The mapping, lab by lab
# --------------------------------------------------------------------------

@test "lab 1: Node's retain grows by the 1 MiB context per iteration, and its fix, release, stays flat" {
    assert_meta "$O/lab1/node-retain.meta" verdict finished
    assert_grows_per_iter "$O/lab1/node-retain.tsv" rss_kib 921       # 90% of 1 MiB
    assert_step "$O/lab1/node-retain.tsv" heap_used_kib 1024 10
    assert_meta "$O/lab1/node-release.meta" verdict finished
    assert_flat "$O/lab1/node-release.tsv" heap_used_kib 1024
    assert_slope_between "$O/lab1/node-release.tsv" rss_kib -51 51    # 5% of a context
}

@test "lab 2: C and Node grow by the same array per iteration within 10%, and die at the same iteration of the budget within one" {
    skip_if_sanitized "the C lab's rss under a sanitizer holds shadow memory"
    local c=$O/lab2/budget n=$O/lab2/node-budget cdie ndie
    assert_meta "$c.meta" verdict limit
    assert_meta "$n.meta" verdict limit
    assert_meta "$n.meta" signal_name SIGABRT        # V8's abort, read as the wall
    assert_meta "$n.meta" reason "V8 heap limit"
    grep -qx '# max_heap=293601280' "$c.tsv" && grep -qx '# max_heap=293601280' "$n.tsv" ||
        fail "the two runs did not keep the same 280 MiB budget"
    grep -qx '# size=33554432' "$c.tsv" && grep -qx '# size=33554432' "$n.tsv" ||
        fail "the two runs did not use the same 32 MiB array"
    assert_within "$(slope "$n.tsv" rss_kib)" "$(slope "$c.tsv" rss_kib)" 10 \
        "Node's rss growth per iteration against C's"
    cdie=$(( $(last_iter "$c.tsv") + 1 )) ndie=$(( $(last_iter "$n.tsv") + 1 ))
    (( ndie - cdie <= 1 && cdie - ndie <= 1 )) ||
        fail "C died at iteration $cdie, Node at $ndie: more than one apart"
}

@test "lab 3: in Node, heapTotal stays within 2 MiB of flat while rss grows by the buffer per iteration and external follows it, as C's offheap" {
    assert_meta "$O/lab3/node-offheap.meta" verdict finished
    assert_offheap_shape "$O/lab3/node-offheap.tsv" 40960
    skip_if_sanitized "the C lab's heap_total comes from glibc's malloc, not ASan's"
    assert_offheap_shape "$O/lab3/offheap.tsv" 40960
}

@test "lab 4: Node's twin that ignores write()'s false grows per tick, and its 'drain' twin stays flat" {
    local u=$O/lab4/node-unbounded.tsv b=$O/lab4/node-bounded.tsv
    assert_grows_per_iter "$u" rss_kib 32               # half a 64 KiB chunk
    assert_step "$u" external_kib 64 10                 # the chunks it holds
    assert_every_row "$u" 'depth == iter'
    assert_slope_between "$b" rss_kib -6.4 6.4          # a tenth of a chunk
    assert_every_row "$b" 'depth <= 16'
    assert_every_row "$b" 'produced == consumed + depth + dropped'
}

@test "lab 5: pipe() stays within 12 MiB of its start copying a 240 MiB file, and the 'data' loop into a slow writer grows" {
    local p=$BIG_OUT/lab5/node-pipe.tsv d=$O/lab5/node-data.tsv
    assert_meta "$BIG_OUT/lab5/node-pipe.meta" verdict finished
    [[ $(last_value "$p" copied_kib) == $((240 * 1024)) ]] || fail "pipe copied $(last_value "$p" copied_kib) KiB, not 240 MiB"
    assert_peak_below "$p" rss_kib $(( $(tsv_column "$p" rss_kib | head -n 1) + 12 * 1024 ))
    assert_meta "$O/lab5/node-data.meta" verdict finished
    # Its writer takes one chunk for two read: half the file waits in it
    # once the reader is done; at least 12 MiB of the 16 must show.
    (( $(max_value "$d" rss_kib) - $(tsv_column "$d" rss_kib | head -n 1) >= 12 * 1024 )) ||
        fail "the 'data' loop grew by less than 12 MiB, with half its 32 MiB file queued"
}

@test "a twin words a bad argument as its C lab does, after the program's name" {
    local n c t args want
    for n in 1 6; do
        c=$BUILD/lab$n
        t=$(echo "$LEAKLAB_ROOT"/labs/node/lab"$n"-*.js)
        for args in "--frobnicate" "--mode" "-m" "-n -1" "--iterations -1" "-s -5" \
                    "--quiet=1" "--tsv" "--mode nope"; do
            # shellcheck disable=SC2086  # args: words on purpose
            run --separate-stderr "$c" $args
            assert_failure 2
            # shellcheck disable=SC2154  # set by bats' run --separate-stderr
            want=${stderr#"lab$n: "}
            # shellcheck disable=SC2086
            run --separate-stderr node "$t" $args
            assert_failure 2
            assert_equal "${stderr#*.js: }" "$want"
        done
        # One argument each, named whole, as getopt_long names it.
        for args in "--a b" "--a'b" "--x,y" "--x=y" "--mode=a b"; do
            run --separate-stderr "$c" "$args"
            assert_failure 2
            want=${stderr#"lab$n: "}
            run --separate-stderr node "$t" "$args"
            assert_failure 2
            assert_equal "${stderr#*.js: }" "$want"
        done
    done
}

@test "the runner suspects a leak in Node's retain, and none in a twin whose heap only warms up and creeps" {
    assert_meta "$O/lab1/node-retain.meta" leak_suspected_at 10
    local run
    for run in lab1/node-release lab4/node-bounded; do
        ! grep -q '^leak_suspected_at=' "$O/$run.meta" ||
            fail "$run: $(grep '^leak_suspected_at=' "$O/$run.meta"), for a heap that only warms up"
    done
}

# tables_of LAB - NODE_OUT's records of LAB copied to $T/out, and a file
# $T/L.md with that lab's two markers and a line before and after them.
tables_of() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/out"
    cp -r "$NODE_OUT/$1" "$T/out/"
    printf '%s\n' before "<!-- node-table:$1 -->" old "<!-- /node-table:$1 -->" after >"$T/L.md"
}

@test "node-tables keeps a record's text in its cell: no new column, no end marker, no line of its own" {
    tables_of lab2
    # The twin's budget run ended at V8's limit: its reason= is a cell.
    sed -i 's/^reason=.*/reason=V8 | forged `col`\\n<!-- \/node-table:lab2 -->\\nINJECTED/' \
        "$T/out/lab2/node-budget.meta"
    run "$LEAKLAB_ROOT/harness/node-tables.sh" "$T/out" "$T/L.md"
    assert_success
    assert_equal "$(grep -cx '<!-- /node-table:lab2 -->' "$T/L.md")" 1
    assert_equal "$(grep -c '^INJECTED' "$T/L.md")" 0
    assert_equal "$(tail -n 1 "$T/L.md")" after
    # Every row of the table: 9 bars that are not escaped, so 8 cells.
    assert_equal "$(awk '/^\| / { gsub(/\\\|/, ""); print gsub(/\|/, "") }' "$T/L.md" | sort -u)" 9
    grep -qF 'limit: V8 \| forged '"'"'col'"'"' <!-- /node-table:lab2 --> INJECTED' "$T/L.md" ||
        fail "the reason is not in its cell: $(grep -F forged "$T/L.md")"
}

@test "node-tables refuses a verdict it does not know, and leaves the file as it was" {
    tables_of lab2
    cp "$T/L.md" "$T/before.md"
    sed -i 's/^verdict=.*/verdict=weird | col/' "$T/out/lab2/node-budget.meta"
    run --separate-stderr "$LEAKLAB_ROOT/harness/node-tables.sh" "$T/out" "$T/L.md"
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == *"verdict=weird | col is none of"* ]] || fail "$stderr"
    cmp "$T/before.md" "$T/L.md"
}

@test "node-tables refuses a meta whose mode= is another mode's, and leaves the file as it was" {
    tables_of lab2
    cp "$T/L.md" "$T/before.md"
    sed -i 's/^mode=.*/mode=kill/' "$T/out/lab2/node-budget.meta"
    run --separate-stderr "$LEAKLAB_ROOT/harness/node-tables.sh" "$T/out" "$T/L.md"
    assert_failure 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == *"mode=kill, in the records of another mode"* ]] || fail "$stderr"
    cmp "$T/before.md" "$T/L.md"
}

# The last row must be the same, except where V8's heap limit ended the
# run: then within one. V8 decides at its limit after a last-resort
# collection whose outcome depends on its concurrent GC threads, so a
# busy machine moves the death by an array: lab 2's budget ended at row 9
# in 3 runs of 3 here, then at row 8 in 2 of 5 beside six busy loops.
@test "LESSONS.md's Node tables have the shape of a fresh run: the same last row (V8's limit: within one), and rss growth within 10%" {
    local made here row lab mode last kib fresh slack
    made=$(sed -n 's/.*(C, and node v\([0-9]*\)\..*/\1/p' "$LEAKLAB_ROOT/LESSONS.md" | head -n 1)
    here=$(node --version | sed 's/^v\([0-9]*\).*/\1/')
    [[ -n $made ]] || fail "LESSONS.md has no table made by make node-tables"
    [[ $made == "$here" ]] ||
        skip "LESSONS.md's tables come from Node $made, this machine runs Node $here: make node-tables"
    for row in "1 retain" "2 budget" "3 offheap" "4 unbounded"; do
        read -r lab mode <<<"$row"
        read -r last kib < <(lessons_row "$lab" "$mode")
        [[ -n $last && -n $kib ]] || fail "LESSONS.md has no Node row for lab $lab's $mode"
        fresh=$(last_iter "$O/lab$lab/node-$mode.tsv") slack=0
        [[ $last =~ ^[0-9]+$ && $fresh =~ ^[0-9]+$ ]] ||
            fail "lab $lab $mode: last rows '$last' (LESSONS) and '$fresh' (fresh run) are not numbers"
        [[ $(meta_value "$O/lab$lab/node-$mode.meta" reason 2>/dev/null) == "V8 heap limit" ]] && slack=1
        (( last - fresh <= slack && fresh - last <= slack )) ||
            fail "lab $lab $mode: LESSONS says the last row is $last, a fresh run's is $fresh"
        assert_within "$(slope "$O/lab$lab/node-$mode.tsv" rss_kib)" "$kib" 10 \
            "lab $lab $mode: a fresh run's rss per row against LESSONS.md's"
    done
}
