/*
 * bench-probe - what one probe sample costs, against a bare pread of
 * /proc/self/statm timed in the same run. Prints both and their ratio;
 * the goal is a ratio of 2 or less.
 *
 * It also times probe_read() alone (the measuring, without the TSV row):
 * a sample is two system calls, the pread and the write(2) that makes
 * its row crash-safe, so the row's write is shown apart from the rest.
 *
 *   bench-probe [--iterations N] [--tsv FILE]     (N samples of each kind)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "probe.h"

static const struct lab_mode modes[] = {
    {"sample", "rlimit", NULL, "probe_sample() against a bare pread", NULL,
     "finished"},
    {0},
};

static const struct lab_info bench = {
    .number = 0,
    .title = "probe cost",
    .takeaway = "A sample should cost about as much as reading statm once",
    .showcase = "sample",
    .modes = modes,
    .default_size = 1,
    .default_iterations = 200000,
};

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&bench, argc, argv, &a);
    a.quiet = true;   /* the stdout table is for people, not for timing */
    long n = a.iterations;

    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        lab_fail("/proc/self/statm");
    probe_start(&bench, &a, argc, argv);

    /* Interleave rounds of each so that drift hits both alike; keep the
     * best round of each (the least disturbed by the rest of the box). */
    double best_pread = 1e30, best_probe = 1e30, best_read = 1e30;
    long round = n / 10 > 0 ? n / 10 : 1;
    for (int r = 0; r < 10; r++) {
        char buf[128];
        double t = now_ns();
        for (long i = 0; i < round; i++)
            if (pread(fd, buf, sizeof buf, 0) <= 0)
                lab_fail("/proc/self/statm");
        double per = (now_ns() - t) / round;
        best_pread = per < best_pread ? per : best_pread;

        t = now_ns();
        for (long i = 0; i < round; i++)
            probe_sample(i, NULL);
        per = (now_ns() - t) / round;
        best_probe = per < best_probe ? per : best_probe;

        t = now_ns();
        for (long i = 0; i < round; i++)
            probe_read();
        per = (now_ns() - t) / round;
        best_read = per < best_read ? per : best_read;
    }
    probe_finish();
    close(fd);
    printf("what\tus_per_call\tpread_statm_us\tratio\tgoal\n");
    printf("probe_sample (row to TSV)\t%.3f\t%.3f\t%.2f\t<= 2.00\n",
           best_probe / 1e3, best_pread / 1e3, best_probe / best_pread);
    printf("probe_read (no row)\t%.3f\t%.3f\t%.2f\t-\n",
           best_read / 1e3, best_pread / 1e3, best_read / best_pread);
    return EXIT_DONE;
}
