#!/usr/bin/env bats
# Records that cannot lie. The probe leaves whole rows or nothing, and says
# why it stopped (EFBIG, ENOSPC); the chart scripts trust nothing in a
# record, read only records, and work wherever the clone and --out are.

load test_helper

# Small recorded runs of three of lab 1's modes (the other two were not
# run, and are not drawn), and their charts, made once; each test draws
# from its own copy (records_copy).
setup_file() {
    local out=$BATS_FILE_TMPDIR/records mode
    for mode in retain lose release; do
        "$BUILD/leaklab" run 1 --mode $mode --quiet --out "$out" -- \
            --iterations 6 --size 64K >/dev/null
    done
    "$LEAKLAB_ROOT/plots/plot.sh" "$out/lab1"
}

setup() {
    D=$BATS_TEST_TMPDIR
}

# The full-disk test mounts a tmpfs at $D/tiny: never leave it mounted.
teardown() {
    ! mountpoint -q "$D/tiny" 2>/dev/null || umount "$D/tiny"
}

# ends_in_newline FILE - FILE is empty or its last byte is a newline.
ends_in_newline() {
    [[ ! -s $1 || $(tail -c 1 "$1" | od -An -tx1) == *0a* ]]
}

# asan_second - ASAN_OPTIONS that let a shim preload before ASan's runtime
# (under make sanitize; the shim's write still calls through to ASan's).
asan_second() {
    echo "${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

# --- the probe: whole rows or nothing ----------------------------------------

@test "past ulimit -f the probe exits 1 with EFBIG, naming the TSV, and keeps whole rows" {
    local tsv=$D/big.tsv
    # 1 KiB of file: the header and a few dozen rows, then (almost always)
    # a row that only half fits, a short write, then EFBIG.
    run --separate-stderr bash -c 'ulimit -f 1; exec "$@"' _ \
        "$BUILD/lab1" --quiet --tsv "$tsv" --iterations 100 --size 4K
    assert_error_line "$tsv" "File too large"
    assert_rows_whole "$tsv"
    ends_in_newline "$tsv" || fail "$tsv ends in a cut row: $(tail -c 40 "$tsv")"
    (( $(tsv_rows "$tsv") >= 1 )) || fail "no rows in $tsv"
    (( $(stat -c %s "$tsv") <= 1024 )) || fail "$tsv is over the 1 KiB limit"
}

@test "on a full disk (a one-page tmpfs) the probe exits 1 with ENOSPC and keeps whole rows" {
    local mnt=$D/tiny
    mkdir "$mnt"
    mount -t tmpfs -o size=4k tmpfs "$mnt" 2>/dev/null ||
        skip "cannot mount a tmpfs here (needs root)"
    run --separate-stderr "$BUILD/lab1" --quiet --tsv "$mnt/full.tsv" --iterations 300 --size 4K
    cp "$mnt/full.tsv" "$D/full.tsv"
    umount "$mnt"
    assert_error_line "$mnt/full.tsv" "No space left on device"
    assert_rows_whole "$D/full.tsv"
    ends_in_newline "$D/full.tsv" || fail "full.tsv ends in a cut row: $(tail -c 40 "$D/full.tsv")"
    (( $(tsv_rows "$D/full.tsv") >= 50 )) || fail "only $(tsv_rows "$D/full.tsv") rows in 4 KiB"
}

@test "a row the disk cut short is cut off again: the TSV ends at the last whole row" {
    local tsv=$D/cut.tsv
    # diskfull.so: the header and rows 0 and 1 go in, row 2 only half,
    # then the disk is full.
    LEAKLAB_DISKFULL_AFTER=3 LD_PRELOAD=$(preload diskfull.so) ASAN_OPTIONS=$(asan_second) \
        run --separate-stderr "$BUILD/lab1" --quiet --tsv "$tsv" --iterations 5 --size 4K
    assert_error_line "$tsv" "No space left on device"
    assert_rows_whole "$tsv"
    assert_equal "$(tsv_column "$tsv" iter | tr '\n' ' ')" "0 1 "
    ends_in_newline "$tsv" || fail "$tsv ends in a cut row: $(tail -c 40 "$tsv")"
}

@test "a header the disk cut short leaves the TSV empty" {
    local tsv=$D/nohead.tsv
    LEAKLAB_DISKFULL_AFTER=0 LD_PRELOAD=$(preload diskfull.so) ASAN_OPTIONS=$(asan_second) \
        run --separate-stderr "$BUILD/lab1" --quiet --tsv "$tsv" --iterations 5 --size 4K
    assert_error_line "$tsv" "No space left on device"
    [[ -e $tsv && ! -s $tsv ]] || fail "$tsv holds $(stat -c %s "$tsv") bytes: $(cat "$tsv")"
}

# --- the chart scripts: records only, trusted in nothing ---------------------

# records_copy [DIR] - a copy of the recorded lab 1, charts included, at
# DIR/lab1 (default $D/out); sets L to it.
records_copy() {
    local to=${1:-$D/out}
    mkdir -p "$to"
    cp -R "$BATS_FILE_TMPDIR/records/lab1" "$to/"
    L=$to/lab1
}

# plot [ARGS...] - plots/plot.sh under bats' `run`, stderr apart.
plot() {
    run --separate-stderr "$LEAKLAB_ROOT/plots/plot.sh" "$@"
}

# assert_charts DIR NAME... - each NAME's PNG is a 1920x1080 image and its
# SVG well-formed.
assert_charts() {
    local dir=$1 name; shift
    for name in "$@"; do
        assert_png_size "$dir/$name.png" 1920 1080
        xmllint --noout "$dir/$name.svg" || fail "$dir/$name.svg is not well-formed"
    done
}

# assert_no_chart DIR NAME - no chart file of NAME is left in DIR.
assert_no_chart() {
    local f
    for f in "$1/$2.png" "$1/$2.svg"; do
        [[ ! -e $f ]] || fail "$f is still there, left over from the last draw"
    done
}

@test "plot.sh evaluates no record: a crafted iter field runs no command" {
    local payload
    # The last row's iter is what the old plot.sh compared in $(( )). It
    # split the field at spaces, and under set -u stopped at an unset
    # array: the first payload has neither, and ran there.
    for payload in 'PATH[$(touch${IFS}'"$D"'/pwned)]' 'a[$(touch '"$D"'/pwned)]' \
                   'a[$(touch${IFS}'"$D"'/pwned)]'; do
        rm -rf "$D/out"
        records_copy
        PAYLOAD=$payload awk -F'\t' -v OFS='\t' '
            { rows[NR] = $0 } END { for (i = 1; i < NR; i++) print rows[i]
                                    $0 = rows[NR]; $1 = ENVIRON["PAYLOAD"]; print }' \
            "$BATS_FILE_TMPDIR/records/lab1/retain.tsv" >"$L/retain.tsv"
        assert_equal "$(tail -n 1 "$L/retain.tsv" | cut -f1)" "$payload"
        plot "$L"
        [[ ! -e $D/pwned ]] || fail "plot.sh ran the command in retain.tsv's iter field: $payload"
        assert_error_line "$L/retain.tsv" "line"
    done
}

@test "plot.sh evaluates no record: a newline in a lab.meta value stays text in gnuplot" {
    records_copy
    # gnuplot runs a line that starts with ! in the shell.
    sed -i "s|^title=.*|title=x'\\\\n!touch $D/pwned\\\\n|" "$L/lab.meta"
    plot "$L"
    [[ ! -e $D/pwned ]] || fail "gnuplot ran a line from lab.meta's title"
    assert_success
    assert_charts "$L" compare retain
}

@test "a torn last row: one line naming the TSV, exit 1, that mode's old chart removed" {
    records_copy
    truncate -s -3 "$L/retain.tsv"   # the last row, cut as a full disk would
    plot "$L"
    assert_error_line "$L/retain.tsv" "the last row is cut short"
    assert_no_chart "$L" retain
    assert_charts "$L" compare lose release
}

@test "an empty, a garbage and a rowless TSV each get one line and lose their chart" {
    local kind
    for kind in empty garbage rowless; do
        rm -rf "$D/out"
        records_copy
        case $kind in
            empty)   : >"$L/lose.tsv" ;;
            garbage) printf 'not\ta\trecord\n1\t2\t3\n' >"$L/lose.tsv" ;;
            rowless) grep -v '^[0-9]' "$BATS_FILE_TMPDIR/records/lab1/lose.tsv" >"$L/lose.tsv" ;;
        esac
        plot "$L"
        assert_error_line "$L/lose.tsv" ""
        assert_no_chart "$L" lose
        assert_charts "$L" compare retain
    done
}

@test "a meta missing a key: one line naming the file and the key, that mode's chart removed" {
    records_copy
    sed -i '/^cap_bytes=/d' "$L/release.meta"
    plot "$L"
    assert_error_line "$L/release.meta" "no cap_bytes= line"
    assert_no_chart "$L" release
    assert_charts "$L" compare retain
}

@test "a mode without a TSV does not stop the others: they are drawn, and plot.sh exits 1 naming it" {
    records_copy
    rm "$L/retain.tsv" "$L"/{compare,lose,release}.{png,svg}
    plot "$L"
    assert_error_line "$L/retain.tsv" "missing or empty"
    assert_no_chart "$L" retain
    assert_charts "$L" compare lose release
}

@test "when no run can be drawn, the old comparison goes too" {
    records_copy
    rm "$L"/*.tsv
    plot "$L"
    assert_failure 1
    assert_no_chart "$L" compare
}

@test "without lab.meta plot.sh draws nothing, says so in one line, and removes the old charts" {
    records_copy
    rm "$L/lab.meta"
    plot "$L"
    assert_error_line "$L/lab.meta" "missing"
    assert_no_chart "$L" compare
    assert_no_chart "$L" retain
}

@test "plot.sh refuses a --formats it does not know, naming it" {
    records_copy
    assert_bad_argument "jpeg" "$LEAKLAB_ROOT/plots/plot.sh" --formats "png jpeg" "$L"
}

@test "the chart scripts refuse an option they do not take, naming it" {
    records_copy
    local script
    for script in plot.sh node-compare.sh; do
        assert_bad_argument "'--frob'" "$LEAKLAB_ROOT/plots/$script" --frob "$L"
        assert_bad_argument "'$D/none'" "$LEAKLAB_ROOT/plots/$script" "$D/none"
        assert_bad_argument "--top: '0700'" "$LEAKLAB_ROOT/plots/$script" --top 0700 "$L"
    done
    assert_bad_argument "'--text'" "$LEAKLAB_ROOT/plots/node-compare.sh" --text "$L"
}

@test "the chart scripts answer --help with their usage line and exit 0" {
    local script
    for script in plot.sh node-compare.sh; do
        run --separate-stderr "$LEAKLAB_ROOT/plots/$script" --help
        assert_success
        assert_output --regexp "^usage: $script "
    done
}

@test "--top is read as decimal, leading zeros and all: 08 is eight pixels" {
    records_copy
    run "$LEAKLAB_ROOT/plots/plot.sh" --top 08 --formats svg "$L"
    assert_success
}

@test "the chart scripts run no lab: plot.sh and slides.sh draw from records alone" {
    records_copy
    # A build directory whose every program only says it was run.
    local fake=$D/fake-build prog
    mkdir "$fake"
    for prog in lab1 leaklab; do
        printf '#!/bin/sh\ntouch "%s/ran-%s"\n' "$D" "$prog" >"$fake/$prog"
        chmod +x "$fake/$prog"
    done
    LEAKLAB_BUILD=$fake run "$LEAKLAB_ROOT/plots/plot.sh" "$L"
    assert_success
    LEAKLAB_BUILD=$fake run "$LEAKLAB_ROOT/plots/slides.sh" "$D/out"
    assert_success
    [[ -z $(find "$D" -name 'ran-*') ]] || fail "ran: $(find "$D" -name 'ran-*')"
    [[ -s $D/out/slides.pdf ]] || fail "no slides.pdf"
}

# A directory name with a space, quotes, a tab, a newline and non-ASCII.
ODD=$'o u"t \'q\'\t\xc3\xa9\nx'

@test "--out and mode names may hold spaces, quotes, tabs, newlines and non-ASCII" {
    records_copy "$D/$ODD"
    # Mode release becomes "re lease 'q' é".
    local odd="re lease 'q' é" f
    for f in "$L"/release.*; do mv "$f" "$L/$odd.${f##*.}"; done
    sed -i "s/^mode=release\$/mode=$odd/" "$L/$odd.meta"
    sed -i "s/^modes=\\(.*\\)release/modes=\\1$odd/" "$L/lab.meta"
    plot "$L"
    assert_success
    assert_charts "$L" compare retain "$odd"
    grep -qF "re lease &apos;q&apos; é" "$L/compare.svg" || grep -qF "re lease 'q' é" "$L/compare.svg" ||
        fail "the comparison's key does not name the mode"
}

@test "the text chart draws every mode, from a path with spaces and odd mode names" {
    records_copy "$D/$ODD"
    local odd="re lease 'q' é" f
    for f in "$L"/release.*; do mv "$f" "$L/$odd.${f##*.}"; done
    sed -i "s/^mode=release\$/mode=$odd/" "$L/$odd.meta"
    sed -i "s/^modes=\\(.*\\)release/modes=\\1$odd/" "$L/lab.meta"
    plot --text "$L"
    assert_success
    assert_output --partial "Lab 1: closure-captured state - rss of every mode"
    for f in retain lose "$odd"; do
        assert_output --partial "$f"
    done
}

@test "make lab1 in a clone under a directory named with a space and quotes draws valid charts" {
    local clone="$D/a dir 'q'/clone"
    mkdir -p "$clone"
    # The working tree's files, as git has them (tracked, or new and not
    # ignored): what a clone of this commit holds.
    git -C "$LEAKLAB_ROOT" ls-files -z --cached --others --exclude-standard |
        (cd "$LEAKLAB_ROOT" && tar --null -T - -cf -) | tar -xf - -C "$clone"
    run make -s -C "$clone" TEXT_CHARTS=no LAB1_ARGS="--iterations 6 --size 64K" lab1
    assert_success
    assert_charts "$clone/out/lab1" compare retain lose release narrow sometimes
}

@test "massif.sh works when --out has a space and quotes" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    local out="$D/m a's s"
    run "$LEAKLAB_ROOT/plots/massif.sh" 1 release "$out" -- --iterations 3 --size 64K
    assert_success
    assert_equal "$(tsv_rows "$out/lab1/release-massif.tsv")" 4
    assert_charts "$out/lab1" release-massif
}

@test "the tests' record readers refuse a field that is not a number, and run nothing in it" {
    local tsv=$D/forged.tsv meta=$D/forged.meta
    # shellcheck disable=SC2016  # the field is meant to hold $( ), unexpanded
    printf 'iter\trss_kib\n0\t100\n1\ta[$(touch %q)]\n' "$D/ran" >"$tsv"
    # shellcheck disable=SC2016
    printf 'peak_rss_kib=a[$(touch %q)]\n' "$D/ran" >"$meta"
    run --separate-stderr last_value "$tsv" rss_kib
    assert_failure
    refute_output --partial 'a['
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == *"rss_kib is not a number"* ]] || fail "no word on stderr: $stderr"
    run meta_number "$meta" peak_rss_kib
    assert_failure
    assert_output --partial "peak_rss_kib is not a number"
    run bash -c 'v=$1; (( v > 0 ))' _ "$(tsv_column "$tsv" rss_kib 2>/dev/null | tail -n 1)"
    [[ ! -e $D/ran ]] || fail "a command in a record's field ran"
    printf 'iter\trss_kib\n0\t100\n1\t-2.5\n' >"$tsv"
    run last_value "$tsv" rss_kib
    assert_output "-2.5"
}
