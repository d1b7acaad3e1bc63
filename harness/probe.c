/*
 * probe.c - see probe.h. Kept cheap (about a microsecond a sample): one
 * pread of a file kept open, one mallinfo2(), one snprintf, one write.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Valgrind's client requests are macros in a header; without the header
 * (valgrind not installed) $LEAKLAB_VG_MONITOR is simply never honoured. */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#define VALGRIND_MONITOR_COMMAND(command) ((void)(command), 1)
#define VALGRIND_PRINTF(...) 0
#endif

static struct {
    int statm_fd;             /* /proc/self/statm, kept open for pread */
    int tsv_fd;               /* the TSV, O_APPEND, or -1 for none */
    off_t tsv_end;            /* where its last whole row ends */
    const char *tsv_path;     /* for error messages */
    long page_kib;            /* page size in KiB */
    int nextra;               /* how many extra columns the lab declared */
    int quiet;                /* no human table */
    struct timespec t0;       /* when probe_start ran */
    const char *vg_monitor;   /* $LEAKLAB_VG_MONITOR under Valgrind, or NULL */
    const char *vg_at;        /* $LEAKLAB_VG_AT, or NULL: every sample */
    long iterations;          /* --iterations, for "spread:K" */
} P = {.statm_fd = -1, .tsv_fd = -1};

static double ms_since_start(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - P.t0.tv_sec) * 1e3 +
           (double)(t.tv_nsec - P.t0.tv_nsec) / 1e6;
}

/* Appends buf (the header, or one row) whole, or not at all: see probe.h.
 * On failure it cuts the file back to the end of the last whole row,
 * reports the path and the write's own errno, and exits 1. */
static void write_row(const char *buf, size_t len)
{
    size_t done = 0;
    ssize_t n = 0;
    while (done < len) {
        n = write(P.tsv_fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* A regular file writes short only when it cannot grow (a full
         * disk, RLIMIT_FSIZE): the next write says why, with an errno. */
        done += (size_t)n;
    }
    if (done == len) {
        P.tsv_end += (off_t)len;
        return;
    }
    int err = n < 0 ? errno : EIO;   /* 0 bytes and no errno: never seen */
    if (ftruncate(P.tsv_fd, P.tsv_end) != 0) {
        fprintf(stderr, "%s: %s: %s, and the partial row stays: %s\n",
                lab_progname(), P.tsv_path, strerror(err), strerror(errno));
        exit(EXIT_ERROR);
    }
    errno = err;
    lab_fail(P.tsv_path);
}

void probe_start(const struct lab_info *lab, const struct lab_args *args,
                 int argc, char **argv)
{
    lab_say_cap(args->quiet);   /* the run begins: its cap, if lab.c set one */
    clock_gettime(CLOCK_MONOTONIC, &P.t0);
    P.quiet = args->quiet;
    P.page_kib = sysconf(_SC_PAGESIZE) / 1024;
    P.statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (P.statm_fd < 0)
        lab_fail("/proc/self/statm");

    const char *monitor = getenv("LEAKLAB_VG_MONITOR");
    P.vg_monitor = RUNNING_ON_VALGRIND && monitor && *monitor ? monitor : NULL;
    P.vg_at = getenv("LEAKLAB_VG_AT");
    P.iterations = args->iterations;

    P.nextra = 0;
    if (lab->extra_columns && *lab->extra_columns) {
        P.nextra = 1;
        for (const char *c = lab->extra_columns; *c; c++)
            P.nextra += *c == '\t';
    }
    if (args->tsv == NULL)
        return;
    P.tsv_path = args->tsv;
    /* Past RLIMIT_FSIZE, write(2) fails with EFBIG instead of the kernel
     * killing the lab with SIGXFSZ (and leaving a cut row). */
    signal(SIGXFSZ, SIG_IGN);
    P.tsv_end = 0;
    P.tsv_fd = open(args->tsv, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
                    O_CLOEXEC, 0644);
    if (P.tsv_fd < 0)
        lab_fail(args->tsv);

    /* The comment lines and the header, in one write as well. */
    char head[8192];
    size_t len = 0;
    char when[32];
    time_t now = time(NULL);
    struct tm utc;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
    /* Every string goes through record_escape: an argument holding a
     * newline must not forge a line before the header. */
    len += snprintf(head + len, sizeof head - len, "# lab=%d\n# title=",
                    lab->number);
    len += record_escape(head + len, sizeof head - len, lab->title);
    len += snprintf(head + len, sizeof head - len, "\n# mode=");
    len += record_escape(head + len, sizeof head - len, args->mode->name);
    len += snprintf(head + len, sizeof head - len, "\n# argv=");
    /* The argv line may fill all but the last 512 bytes, which the lines
     * after it need; a longer command line is cut there, not overflowed. */
    const size_t room = sizeof head - 512;
    for (int i = 0; i < argc && len + 1 < room; i++) {
        if (i)
            head[len++] = ' ';
        len += record_escape(head + len, room - len, argv[i]);
    }
    if (len >= room)
        len = strlen(head);           /* where the cut argument ended */
    len += snprintf(head + len, sizeof head - len,
                    "\n# size=%llu\n# iterations=%ld\n",
                    (unsigned long long)args->size, args->iterations);
    /* The heap budget the run keeps, for the charts to draw. */
    if (args->max_heap)
        len += snprintf(head + len, sizeof head - len, "# max_heap=%llu\n",
                        (unsigned long long)args->max_heap);
    len += snprintf(head + len, sizeof head - len,
                    "# page_size=%ld\n# libc=glibc %s\n# start=%s\n"
                    "iter\tt_ms\trss_kib\theap_total_kib\theap_used_kib"
                    "\tmmap_kib%s%s\n",
                    P.page_kib * 1024, gnu_get_libc_version(), when,
                    P.nextra ? "\t" : "", P.nextra ? lab->extra_columns : "");
    if (len >= sizeof head)
        abort();                /* a lab with 400 bytes of column names */
    write_row(head, len);
}

struct probe_reading probe_read(void)
{
    struct probe_reading r = {.t_ms = ms_since_start()};
    r.rss_kib = statm_rss_bytes(P.statm_fd) / 1024;
    struct mallinfo2 mi = mallinfo2();
    r.heap_total_kib = (mi.arena + mi.hblkhd) / 1024;
    r.heap_used_kib = (mi.uordblks + mi.hblkhd) / 1024;
    r.mmap_kib = mi.hblkhd / 1024;
    return r;
}

/* Is iter one of $LEAKLAB_VG_AT's iterations (see probe.h)? Every one
 * is, without it. */
static bool vg_due(long iter)
{
    long k, n = P.iterations;
    if (P.vg_at == NULL)
        return true;
    if (sscanf(P.vg_at, "spread:%ld", &k) == 1)
        return k > 0 && n / k > 0 && iter <= n && (n - iter) % (n / k) == 0 &&
               (n - iter) / (n / k) < k;
    for (const char *p = P.vg_at; *p; p += strcspn(p, ","), p += *p == ',')
        if (strtol(p, NULL, 10) == iter)
            return true;
    return false;
}

/* Runs each line of $LEAKLAB_VG_MONITOR with "{iter}" replaced by iter
 * (the first one). Valgrind prints its own complaint if a command is
 * unknown; a command too long for the buffer is not run at all, rather
 * than cut. */
static void vg_monitor(long iter)
{
    if (P.vg_at)
        VALGRIND_PRINTF("leaklab snapshot at iteration %ld\n", iter);
    for (const char *line = P.vg_monitor; *line; ) {
        size_t n = strcspn(line, "\n");
        char cmd[1024];
        const char *mark = memmem(line, n, "{iter}", 6);
        int len = mark ? snprintf(cmd, sizeof cmd, "%.*s%ld%.*s",
                                  (int)(mark - line), line, iter,
                                  (int)(line + n - mark - 6), mark + 6)
                       : snprintf(cmd, sizeof cmd, "%.*s", (int)n, line);
        if (len > 0 && (size_t)len < sizeof cmd)
            (void)VALGRIND_MONITOR_COMMAND(cmd);
        line += n + (line[n] == '\n');
    }
}

struct probe_reading probe_sample(long iter, const int64_t *extra)
{
    struct probe_reading r = probe_read();
    if (P.vg_monitor && vg_due(iter))
        vg_monitor(iter);
    if (P.tsv_fd >= 0) {
        /* t_ms goes out as integer microseconds split in two: formatting
         * a double would cost more than the pread itself. */
        long long us = (long long)(r.t_ms * 1e3);
        char row[512];
        int len = snprintf(row, sizeof row,
                           "%ld\t%lld.%03lld\t%llu\t%llu\t%llu\t%llu",
                           iter, us / 1000, us % 1000,
                           (unsigned long long)r.rss_kib,
                           (unsigned long long)r.heap_total_kib,
                           (unsigned long long)r.heap_used_kib,
                           (unsigned long long)r.mmap_kib);
        for (int i = 0; i < P.nextra; i++)
            len += snprintf(row + len, sizeof row - len, "\t%lld",
                            (long long)(extra ? extra[i] : 0));
        if ((size_t)len >= sizeof row)
            abort();            /* a lab with some 20 extra columns */
        row[len++] = '\n';
        write_row(row, (size_t)len);
    }
    if (!P.quiet)   /* the seed's showMem(), to the letter */
        printf("Process: heapTotal %.2f MB heapUsed %.2f MB rss %.2f MB\n"
               "-----------------------------------------------------------\n",
               r.heap_total_kib / 1024.0, r.heap_used_kib / 1024.0,
               r.rss_kib / 1024.0);
    return r;
}

bool probe_quiet(void)
{
    return P.quiet;
}

void probe_finish(void)
{
    if (P.tsv_fd >= 0)
        close(P.tsv_fd);
    if (P.statm_fd >= 0)
        close(P.statm_fd);
    P.tsv_fd = P.statm_fd = -1;
    fflush(stdout);
}
