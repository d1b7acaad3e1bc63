/*
 * bench-run - runs one command and prints how long it took and the most
 * memory it held, as the kernel counted them:
 *
 *   bench-run [--cap SIZE | --no-cap] CMD [ARGS...]
 *       ->   wall_s <TAB> peak_rss_kib
 *
 * wall_s is monotonic time from fork to wait4; peak_rss_kib is wait4's
 * ru_maxrss. The command's own output goes where ours goes. Like every run
 * the harness makes, the command is capped (RLIMIT_AS, the same default as
 * leaklab's: the smaller of 2 GiB and a quarter of RAM) unless told not
 * to be; $LEAKLAB_CAP tells a lab which (rlimit, or none after --no-cap),
 * so that it sets no cap of its own (lab.h). Exits with the command's
 * status (1 if it could not start, 128+N if killed by signal N, 2 for a
 * bad argument).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"

static void usage(FILE *to)
{
    fprintf(to, "Usage: bench-run [--cap SIZE | --no-cap] CMD [ARGS...]\n"
                "Runs CMD and prints: wall_s<TAB>peak_rss_kib\n"
                "  -c, --cap SIZE   RLIMIT_AS on CMD (default: the smaller "
                "of 2G and RAM/4)\n"
                "      --no-cap     no cap at all\n"
                "  -h, --help       this text\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cap", required_argument, NULL, 'c'},
        {"no-cap", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    uint64_t cap = default_cap();
    int c, at = optind;   /* at: the argument getopt is reading */
    opterr = 0;
    /* "+": options stop at CMD, so CMD's own flags pass through. */
    for (; (c = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1;
         at = optind) {
        char why[512];
        switch (c) {
        case 'c':
            if (!parse_size(optarg, &cap) || cap == 0) {
                record_escape(why, sizeof why, optarg);  /* one line */
                fprintf(stderr, "bench-run: bad --cap '%s': want a size "
                        "such as 512M or 2G\n", why);
                return 2;
            }
            break;
        case 'N': cap = 0; break;
        case 'h': usage(stdout); return 0;
        default:   /* '?' or ':' */
            fprintf(stderr, "bench-run: %s (see --help)\n",
                    option_error(c, argv[at], longopts, why, sizeof why));
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "bench-run: missing CMD (see --help)\n");
        return 2;
    }
    char **cmd = argv + optind;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench-run: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        struct rlimit rl = {cap, cap};
        if (cap && setrlimit(RLIMIT_AS, &rl) < 0) {
            fprintf(stderr, "bench-run: setrlimit: %s\n", strerror(errno));
            _exit(126);
        }
        setenv("LEAKLAB_CAP", cap ? "rlimit" : "none", 1);
        execvp(cmd[0], cmd);
        fprintf(stderr, "bench-run: %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "bench-run: wait4: %s\n", strerror(errno));
            return 1;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.6f\t%ld\n", (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
