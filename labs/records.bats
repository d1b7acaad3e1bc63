#!/usr/bin/env bats
# Records that cannot lie. The probe leaves whole rows or nothing, and says
# why it stopped (EFBIG, ENOSPC); the chart scripts trust nothing in a
# record, read only records, and work wherever the clone and --out are.

load test_helper

setup() {
    D=$BATS_TEST_TMPDIR
}

# ends_in_newline FILE - FILE is empty or its last byte is a newline.
ends_in_newline() {
    [[ ! -s $1 || $(tail -c 1 "$1" | od -An -tx1) == *0a* ]]
}

# --- the probe: whole rows or nothing ----------------------------------------

@test "past ulimit -f the probe exits 1 with EFBIG, naming the TSV, and keeps whole rows" {
    local tsv=$D/big.tsv
    # 1 KiB of file: the header and some 15 rows, then a row that only
    # half fits (a short write), then EFBIG. The old probe died of SIGXFSZ.
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

teardown() {
    ! mountpoint -q "$D/tiny" 2>/dev/null || umount "$D/tiny"
}

@test "a row the disk cut short is cut off again: the TSV ends at the last whole row" {
    local tsv=$D/cut.tsv
    # diskfull.so: the header and rows 0 and 1 go in, row 2 only half,
    # then the disk is full.
    LEAKLAB_DISKFULL_AFTER=3 LD_PRELOAD=$BUILD/diskfull.so \
        run --separate-stderr "$BUILD/lab1" --quiet --tsv "$tsv" --iterations 5 --size 4K
    assert_error_line "$tsv" "No space left on device"
    assert_rows_whole "$tsv"
    assert_equal "$(tsv_column "$tsv" iter | tr '\n' ' ')" "0 1 "
    ends_in_newline "$tsv" || fail "$tsv ends in a cut row: $(tail -c 40 "$tsv")"
}

@test "a header the disk cut short leaves the TSV empty" {
    local tsv=$D/nohead.tsv
    LEAKLAB_DISKFULL_AFTER=0 LD_PRELOAD=$BUILD/diskfull.so \
        run --separate-stderr "$BUILD/lab1" --quiet --tsv "$tsv" --iterations 5 --size 4K
    assert_error_line "$tsv" "No space left on device"
    [[ -e $tsv && ! -s $tsv ]] || fail "$tsv holds $(stat -c %s "$tsv") bytes: $(cat "$tsv")"
}
