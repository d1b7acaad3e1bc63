#!/usr/bin/env bats
# Lab 3: off-heap buffers. Each test runs the lab, alone or through the
# runner, and reads the numbers and words it recorded; none of them looks
# at the clock. Classroom sizes: 40 MiB buffers, 15 of them, a 280 MiB
# heap budget (lab 2's).

load test_helper
load challenge_checks

SIZE=40M       # one buffer
BUDGET=280M    # the classroom --max-heap, as in lab 2
STEP=4M        # a smaller buffer, for tests where only the step matters

# --- offheap: past the budget, because the budget never sees it ------------

@test "the TSV adds external_kib after the six common columns" {
    run_lab 3 --mode offheap --iterations 1 --size 64K
    assert_success
    run tsv_header "$TSV"
    assert_output "$(printf 'iter\tt_ms\trss_kib\theap_total_kib\theap_used_kib\tmmap_kib\texternal_kib')"
}

@test "offheap prints the seed's table and what it holds where" {
    run "$BUILD/lab3" --mode offheap
    assert_success
    [ "$(grep -c '^Process: heapTotal' <<<"$output")" -eq 16 ]
    assert_line --regexp '^15 buffers held: 600\.00 MiB off-heap, 0\.00 MiB on the heap \(budget 280\.00 MiB\); checksum [0-9]+$'
}

@test "offheap grows rss and external by the buffer size per iteration, within 5%" {
    run_lab 3 --mode offheap --size $STEP
    assert_success
    assert_step "$TSV" rss_kib "$(kib $STEP)" 5
    assert_step "$TSV" external_kib "$(kib $STEP)" 5
}

@test "offheap keeps heap_total and heap_used flat, within 1 MiB, all run long" {
    skip_if_sanitized "heap_total and heap_used come from glibc's malloc, not ASan's"
    run_lab 3 --mode offheap --size $STEP
    assert_success
    assert_flat "$TSV" heap_total_kib 1024
    assert_flat "$TSV" heap_used_kib 1024
    assert_growth_below "$TSV" heap_total_kib 1024   # from the baseline too
    assert_growth_below "$TSV" heap_used_kib 1024
}

@test "offheap finishes through the runner, holding over twice the heap budget" {
    leaklab_run 3 offheap
    assert_success
    assert_meta "$META" verdict finished
    assert_equal "$(last_iter "$TSV")" 15
    assert_growth_at_least "$TSV" external_kib $(( 2 * $(kib $BUDGET) ))
}

# --- heap: the same buffers, counted, die like lab 2 -------------------------

@test "heap dies at iteration floor(budget / size) + 1 with the FATAL line" {
    local budget size want
    for pair in "$BUDGET $SIZE" "100M 8M"; do
        read -r budget size <<<"$pair"
        want=$(( $(kib "$budget") / $(kib "$size") + 1 ))
        run_lab 3 --mode heap --max-heap "$budget" --size "$size" --iterations 100
        assert_failure 3
        assert_output --partial "FATAL ERROR: Reached heap limit Allocation failed - heap out of memory (iteration $want:"
        assert_rows_whole "$TSV"
        assert_equal "$(last_iter "$TSV")" $(( want - 1 ))
    done
}

@test "heap grows heap_used by the buffer size per iteration, external stays 0" {
    skip_if_sanitized "heap_used comes from glibc's malloc, not ASan's"
    run_lab 3 --mode heap --size $STEP --max-heap 28M   # 7 fit, as 7 x 40M do
    assert_failure 3
    assert_step "$TSV" heap_used_kib "$(kib $STEP)" 5
    assert_every_row "$TSV" 'external_kib == 0'
}

@test "through the runner, heap ends verdict=limit where offheap finished" {
    leaklab_run 3 heap
    assert_success
    assert_meta "$META" exit_code 3
    assert_meta "$META" verdict limit
}

# --- release: given back each time --------------------------------------------

@test "release keeps rss flat, within 1 MiB, and holds nothing off-heap" {
    run_lab 3 --mode release --size $STEP
    assert_success
    assert_flat "$TSV" rss_kib 1024
    assert_growth_below "$TSV" rss_kib 1024
    assert_every_row "$TSV" 'external_kib == 0'
}

# --- the seed's sizes and the OS cap ------------------------------------------

@test "--preset seed: 200 MiB buffers, 15 iterations, a 1400 MiB budget" {
    run_lab 3 --mode offheap --preset seed --iterations 0
    assert_success
    grep -qx '# size=209715200' "$TSV"
    run_lab 3 --mode offheap --preset seed --size 4K
    assert_success
    grep -qx '# iterations=15' "$TSV"
    # One byte over the seed's budget fails at once, touching nothing.
    run_lab 3 --mode heap --preset seed --size 1401M
    assert_failure 3
    assert_output --partial "budget --max-heap 1400.00 MiB"
}

@test "only an OS cap stops offheap: mmap fails, exit 3, verdict=limit" {
    skip_if_sanitized "RLIMIT_AS cannot cap ASan, which reserves terabytes"
    leaklab_run 3 offheap --cap 256M
    assert_failure 1   # not the verdict offheap expects: the runner says so
    assert_meta "$META" verdict limit
    assert_output --regexp "mmap of 40\.00 MiB for buffer [0-9]+ failed \(Cannot allocate memory\), holding [0-9]+\.00 MiB off-heap: an OS cap stopped it"
    assert_output --partial "a bigger --cap"
    assert_rows_whole "$TSV"
}

@test "a cap past what the machine can give is refused with a message, not raised" {
    local avail
    avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
    run --separate-stderr "$BUILD/leaklab" run 3 --mode offheap \
        --cap $(( avail + 1048576 ))K --out "$BATS_TEST_TMPDIR/out" -- --preset seed
    assert_failure 2
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "${#stderr_lines[@]}" 1
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    [[ $stderr == *"more than this machine can give"* ]] || fail "unexpected: $stderr"
    [ ! -e "$BATS_TEST_TMPDIR/out/lab3/offheap.meta" ]
}

# --- Valgrind ------------------------------------------------------------------

@test "memcheck: offheap is clean, and Valgrind sees only the handles" {
    run_memcheck 3 --mode offheap --size 64K --iterations 5
    assert_success
    assert_memcheck_clean "$VGLOG"
    refute_leak "definitely lost" "$VGLOG"
    # 5 x 64 KiB are held, but in mmap: memcheck's leak check, like a V8
    # heap snapshot, sees only the small objects on the heap.
    local reachable
    reachable=$(leak_bytes "$VGLOG" "still reachable")
    (( reachable > 0 && reachable < 1024 )) || fail "still reachable: $reachable bytes"
}

@test "memcheck: heap is clean and keeps its buffers reachable until the FATAL" {
    run_memcheck 3 --mode heap --size 64K --iterations 5 --max-heap 200K
    assert_failure 3
    assert_memcheck_clean "$VGLOG"
    refute_leak "definitely lost" "$VGLOG"
    assert_leak "still reachable" "$VGLOG" $(( 3 * 65536 ))
}

@test "memcheck: release frees every block, no leaks are possible" {
    run_memcheck 3 --mode release --size 64K --iterations 5
    assert_success
    assert_memcheck_clean "$VGLOG"
    grep -q 'All heap blocks were freed -- no leaks are possible' "$VGLOG"
}

# --- the challenge ---------------------------------------------------------

# The challenge in LESSONS.md, chapter 3: a mode that keeps its buffers in
# mmap but counts them against --max-heap, and stops at the buffer that
# would cross it. The check is lab3_challenge (challenge_checks.bash);
# challenges.bats shows that it fails for wrong answers and passes
# labs/solutions/lab3-challenge.patch.
@test "challenge: off-heap buffers counted against the budget" {
    [[ -n ${LAB3_CHALLENGE_MODE:-} ]] ||
        skip "set LAB3_CHALLENGE_MODE to your mode (LESSONS.md, Lab 3, Challenge)"
    run lab3_challenge "$LAB3_CHALLENGE_MODE"
    assert_success
}
