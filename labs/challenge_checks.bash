# challenge_checks.bash - the checks of the challenges in LESSONS.md, one
# function per lab: labN_challenge MODE [...] runs MODE of $BUILD/labN
# and returns 0 when it meets the challenge, else 1 with what it missed.
#
# Each check asserts the behaviour that tells the right answer from the
# wrong ones, not only that memory stays low: a mode with no code, or a
# shipped mode next to the answer, must fail it. labs/challenges.bats
# shows that they do, and that the reference solutions in labs/solutions/
# pass. A student runs one through the lab's own test file:
#
#   LAB1_CHALLENGE_MODE=yourmode bats -f challenge labs/lab1-closure.bats
#
# Every step returns on failure, so that a check fails under bats' `run`
# too, where bats does not stop at the first failing line.

# shellcheck disable=SC2154  # status and output: set by bats' run

# lab1_challenge MODE - one slot, as lose has, always holding the newest
# request's handler, and nothing lost. 20 requests of 1 MiB: every row has
# one listener, whose reply is the newest request's (odd_replies is iter
# % 2), and heap_used grows by less than 2 MiB over the run: one context
# held, not twenty. Then 5 requests of 64 KiB under Valgrind's memcheck:
# no errors, nothing definitely lost, less than two contexts still
# reachable. An ASan build has neither heap numbers nor Valgrind: its
# LeakSanitizer, which reports only what no pointer reaches, stands in.
lab1_challenge() {
    local mode=$1 reachable
    run_lab 1 --mode "$mode" --iterations 20 --size 1M
    [[ $status -eq 0 ]] || { echo "exit $status, not 0: $output"; return 1; }
    assert_every_row "$TSV" 'listeners == (iter > 0) && odd_replies == iter % 2' ||
        return 1
    case ${LEAKLAB_SANITIZER:-} in
    address)
        ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
            run "$BUILD/lab1" --quiet --mode "$mode" --iterations 5 --size 64K
        [[ $status -eq 0 ]] || { echo "LeakSanitizer found a leak: $output"; return 1; }
        ;;
    "")
        assert_growth_below "$TSV" heap_used_kib 2048 || return 1
        run_memcheck 1 --mode "$mode" --iterations 5 --size 64K
        [[ $status -eq 0 ]] || { echo "memcheck: exit $status ($VGLOG)"; return 1; }
        refute_leak "definitely lost" "$VGLOG" || return 1
        reachable=$(leak_bytes "$VGLOG" "still reachable")
        (( reachable < 2 * 65536 )) ||
            { echo "$reachable bytes still reachable at exit: more than one context"; return 1; }
        ;;
    esac
}

# lab2_challenge MODE [PRESET [BUDGET]] - all 15 iterations of PRESET
# (default: the seed's 160 MiB arrays) under the heap budget BUDGET
# (default 1400M), each array still made and filled. Through the runner:
# verdict finished, exit 0, a row for every iteration, heap_used never
# over the budget (not in a sanitizer build, where it means nothing), and
# a peak rss of at least one array: a mode that makes no array, or never
# touches one, has not done the work.
lab2_challenge() {
    local mode=$1 preset=${2:-seed} budget=${3:-1400M} verdict size peak
    leaklab_run 2 "$mode" -- --preset "$preset" --max-heap "$budget"
    [[ -f $META ]] || { echo "no run: $output"; return 1; }
    verdict=$(meta_value "$META" verdict)
    [[ $verdict == finished && $status -eq 0 ]] ||
        { echo "verdict $verdict, leaklab exit $status: $output"; return 1; }
    [[ $(last_iter "$TSV") -eq 15 && $(tsv_rows "$TSV") -eq 16 ]] ||
        { echo "the last row is iteration $(last_iter "$TSV"), not 15"; return 1; }
    if [[ -z ${LEAKLAB_SANITIZER:-} ]]; then
        peak=$(max_value "$TSV" heap_used_kib)
        (( peak <= $(kib "$budget") )) ||
            { echo "heap_used peaked at $peak KiB, over the $budget budget"; return 1; }
    fi
    size=$(sed -n 's/^# size=//p' "$TSV")
    peak=$(meta_value "$META" peak_rss_kib)
    (( peak >= size / 1024 )) ||
        { echo "peak rss $peak KiB, less than one array ($(( size / 1024 )) KiB): make and fill every array"; return 1; }
}

# lab3_challenge MODE - buffers kept in mmap, but counted against the heap
# budget. At the classroom sizes (40 MiB buffers, a 280 MiB budget): exit
# 3 with the FATAL line's "out of memory", the last row iteration 7 (the
# buffers that fit), and external_kib one buffer more on every row (each
# one kept, off the heap).
lab3_challenge() {
    local mode=$1 size_kib want
    size_kib=$(kib 40M)
    want=$(( $(kib 280M) / size_kib ))
    run_lab 3 --mode "$mode"
    [[ $status -eq 3 ]] || { echo "exit $status, not 3: $output"; return 1; }
    [[ $output == *"out of memory"* ]] || { echo "no 'out of memory' in: $output"; return 1; }
    [[ $(last_iter "$TSV") -eq $want ]] ||
        { echo "the last row is iteration $(last_iter "$TSV"), not $want"; return 1; }
    assert_every_row "$TSV" "external_kib == iter * $size_kib" || return 1
}

# lab4_challenge MODE - a full ring drops its OLDEST job for the new one.
# 200 ticks of 64 KiB jobs, 2 offered and 1 taken a tick, a ring of 8. On
# every row: the invariant; produced == 2 * iter (the producer never
# waits); depth <= 8; and, whenever a job waits, oldest_id == produced -
# depth + 1: the jobs queued are the newest ones, so the ones dropped were
# the oldest. Something dropped by the end, and rss flat within the ring's
# worth of jobs plus 1 MiB (not in a sanitizer build, whose allocator
# holds freed memory back).
lab4_challenge() {
    local mode=$1 cap=8 size=64K
    run_lab 4 --mode "$mode" --iterations 200 --size $size --capacity $cap
    [[ $status -eq 0 ]] || { echo "exit $status, not 0: $output"; return 1; }
    assert_every_row "$TSV" 'produced == consumed + depth + dropped' || return 1
    assert_every_row "$TSV" "produced == 2 * iter && depth <= $cap" || return 1
    assert_every_row "$TSV" 'depth == 0 || oldest_id == produced - depth + 1' || return 1
    (( $(last_value "$TSV" dropped) > 0 )) || { echo "nothing was dropped"; return 1; }
    if [[ -z ${LEAKLAB_SANITIZER:-} ]]; then
        assert_growth_below "$TSV" rss_kib $(( cap * $(kib $size) + 1024 )) || return 1
    fi
}

# make_sparse FILE - a 32 MiB file, mostly holes: 64 KiB of data at 0,
# 1 MiB at 8 MiB, 100 bytes at 20 MiB + 5, and a hole to the end.
make_sparse() {
    local data=$1.data
    "$BUILD/lab5" --make-input 1M "$data" || return 1
    truncate -s 32M "$1" &&
        dd if="$data" of="$1" bs=64K count=1 conv=notrunc status=none &&
        dd if="$data" of="$1" bs=1M seek=8 conv=notrunc status=none &&
        dd if="$data" of="$1" bs=1 count=100 seek=$(( 20 * 1048576 + 5 )) conv=notrunc status=none &&
        rm -f "$data"
}

# keeps_holes DIR - the file system of DIR stores a sparse file's holes
# (ext4, XFS, Btrfs and tmpfs do): make_sparse's file takes under 4 MiB.
keeps_holes() {
    make_sparse "$1/holes-probe" || return 1
    local blocks
    blocks=$(stat -c %b "$1/holes-probe")
    rm -f "$1/holes-probe"
    (( blocks * 512 < 4 * 1048576 ))
}

# lab5_challenge MODE DIR - keep SRC's holes, as cp does, in DIR (on a file
# system that keeps holes: see keeps_holes). Byte-exact at sizes 0, 1,
# 65535, 65536, 65537 and 3 MiB + 5 and on make_sparse's file, whose copy
# takes no more blocks than it does, plus 64 KiB (a copy that writes the
# holes out as zeros takes 32 MiB); and peak rss on a 32 MiB file within
# 512 KiB of stream's on a 2 MiB one, through the runner.
lab5_challenge() {
    local mode=$1 dir=$2 size src small big
    for size in 0 1 65535 65536 65537 3145733; do
        src=$dir/in-$size
        "$BUILD/lab5" --make-input $size "$src" || return 1
        run_lab 5 --mode "$mode" "$src" "$dir/out-$size"
        [[ $status -eq 0 ]] || { echo "exit $status, not 0: $output"; return 1; }
        assert_same_file "$src" "$dir/out-$size" || return 1
    done
    make_sparse "$dir/sparse" || return 1
    run_lab 5 --mode "$mode" "$dir/sparse" "$dir/sparse-copy"
    [[ $status -eq 0 ]] || { echo "exit $status, not 0: $output"; return 1; }
    assert_same_file "$dir/sparse" "$dir/sparse-copy" || return 1
    small=$(stat -c %b "$dir/sparse") big=$(stat -c %b "$dir/sparse-copy")
    (( big <= small + 128 )) ||
        { echo "the copy of a sparse file takes $(( big / 2 )) KiB on disk, the file $(( small / 2 )) KiB: its holes were written out"; return 1; }
    "$BUILD/lab5" --make-input 2M "$dir/in-2M" && "$BUILD/lab5" --make-input 32M "$dir/in-32M" ||
        return 1
    leaklab_run 5 stream -- "$dir/in-2M" "$dir/small"
    small=$(meta_value "$META" peak_rss_kib)
    leaklab_run 5 "$mode" -- "$dir/in-32M" "$dir/big"
    [[ $(meta_value "$META" verdict) == finished ]] ||
        { echo "through the runner: verdict $(meta_value "$META" verdict): $output"; return 1; }
    big=$(meta_value "$META" peak_rss_kib)
    (( big - small < 512 )) ||
        { echo "$mode peaked at $big KiB on 32 MiB; stream at $small KiB on 2 MiB"; return 1; }
}
