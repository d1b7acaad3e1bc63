#!/usr/bin/env bats
# make bench's script and chart: the speed numbers themselves are not
# tested (they are wall-clock); what a class sees while it runs is.

load test_helper

# A tiny bench: one round, a 1 MiB copy, 50 queue ticks, written under a
# directory whose name has a space and a quote.
tiny_bench() {
    # bench-run caps what it times with RLIMIT_AS, which a sanitizer
    # build cannot start under (it reserves terabytes of address space).
    skip_if_sanitized "make bench times the normal build"
    BENCH_DIR="$BATS_TEST_TMPDIR/bench 'q' dir"
    BENCH_ROUNDS=1 BENCH_COPY_SIZE=1M BENCH_TICKS=50 \
        run --separate-stderr "$LEAKLAB_ROOT/harness/bench.sh" "$BUILD" "$BENCH_DIR"
}

@test "bench shows each race and round on stderr as it runs" {
    tiny_bench
    assert_success
    # shellcheck disable=SC2154  # set by bats' run --separate-stderr
    assert_equal "$(grep -c 'copy round 1/1: stream zerocopy cp dd' <<<"$stderr")" 1
    assert_equal "$(grep -c 'queue round 1/1: unbounded bounded$' <<<"$stderr")" 1
}

@test "bench draws its chart under a path with a space and a quote" {
    command -v gnuplot >/dev/null || skip "no gnuplot"
    tiny_bench
    assert_success
    [[ -s $BENCH_DIR/bench.png && -s $BENCH_DIR/bench.svg ]]
}

@test "bench's chart title names the size it copied, not always 1 GiB" {
    command -v gnuplot >/dev/null || skip "no gnuplot"
    tiny_bench
    assert_success
    run grep -c 'copying 1M,' "$BENCH_DIR/bench.svg"
    assert_output 1
}
