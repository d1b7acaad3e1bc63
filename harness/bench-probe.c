/*
 * bench-probe - what one probe sample costs, against a bare pread of
 * /proc/self/statm timed in the same run. Prints both and their ratio;
 * the goal is a ratio of 2 or less.
 *
 *   bench-probe [--samples N] [--tsv FILE]
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
    {"sample", "rlimit", NULL, "probe_sample() against a bare pread", NULL},
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
    double best_pread = 1e30, best_probe = 1e30;
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
    }
    probe_finish();
    close(fd);
    printf("probe\tpread_statm_us\tprobe_sample_us\tratio\tgoal\n");
    printf("probe\t%.3f\t%.3f\t%.2f\t<= 2.00\n", best_pread / 1e3,
           best_probe / 1e3, best_probe / best_pread);
    return EXIT_DONE;
}
