/*
 * bench-run - runs one command and prints how long it took and the most
 * memory it held, as the kernel counted them:
 *
 *   bench-run CMD [ARGS...]    ->   wall_s <TAB> peak_rss_kib
 *
 * wall_s is monotonic time from fork to wait4; peak_rss_kib is wait4's
 * ru_maxrss. The command's own output goes where ours goes. Exits with the
 * command's status (1 if it could not start, 128+N if killed by signal N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-run CMD [ARGS...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench-run: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "bench-run: %s: %s\n", argv[1], strerror(errno));
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
