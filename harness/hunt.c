/*
 * hunt.c - leaklab hunt: the second seed's method, with real tools.
 *
 *   leaklab hunt N|PATH [--mode M] [--snapshots K | --at I,J,...]
 *                  [--out DIR] [--tool memcheck|heaptrack]
 *                  [--timeout SEC] [--quiet] [-- LAB ARGS...]
 *
 * The lecture 内存泄漏 ("Memory leaks") finds a leak by taking heap
 * snapshots at chosen moments and comparing them in DevTools, sorted by
 * Delta (objects) and Size Delta (bytes): what grew most is the leak.
 * The hunt does the same to any lab, in C:
 *
 *   1. It runs build/labN --mode M under Valgrind memcheck. At each
 *      chosen iteration the probe (harness/probe.c, $LEAKLAB_VG_AT) asks
 *      memcheck for two reports: `leak_check full reachable any`, every
 *      live block grouped by the stack that allocated it ("loss
 *      records"), and `xtmemory`, the same stacks with what each has
 *      allocated since the start. By default there are three snapshots,
 *      the Node diagnostics guide's discipline: warm up, snapshot, load,
 *      snapshot, the same load again, snapshot (40 iterations: after 14,
 *      27 and 40).
 *   2. It gives every block to a site: the first frame of its stack, from
 *      the allocation outwards, whose source file is in the project (a
 *      file under the folder that holds harness/lab.h). A block with no
 *      such frame (a library's own, in its own thread) goes to the
 *      library that called malloc.
 *   3. It prints, and writes to DIR/labN/M-hunt.tsv, a row per site:
 *      blocks and bytes at each snapshot, and for each interval Delta
 *      (blocks) and Size Delta (bytes), from memcheck's loss records;
 *      New and Alloc Size (blocks and bytes the site allocated in the
 *      interval), from xtmemory; and Deleted = New - Delta, Freed Size =
 *      Alloc Size - Size Delta, which follow: DevTools' own columns. Rows
 *      are sorted by Size Delta over the whole hunt; a site that grew in
 *      every interval is marked leak?. Memcheck's own report is kept in
 *      DIR/labN/M-hunt.log.
 *
 * Given a PATH instead of N (any argument with a '/', as `leaklab run`
 * takes one, such as build/exercises/ex7-sessions), it hunts that
 * program, which answers --describe as a lab does; its records go in
 * DIR/NAME, NAME being the program's file name, where run puts them.
 *
 * With --tool heaptrack it records the same run with heaptrack instead,
 * and prints what heaptrack_print says of the sites in the project that
 * held the most memory at the peak and at exit (DIR/labN/M-heaptrack.txt
 * keeps all of it): a second tool, with another method (it intercepts
 * malloc and free, and memcheck simulates the CPU), naming the same
 * function. No allocator of our own is interposed: both are the tools'.
 *
 * Like `leaklab run`, it caps the run (RLIMIT_AS at the runner's default,
 * on the tool and the lab together), kills it after --timeout, takes it
 * down with itself, and holds DIR/labN's lock while it writes there.
 * Exit codes: 0 the hunt ran and its records are written; 1 the lab did
 * not finish under the tool, the tool is missing, or a record cannot be
 * written; 2 a bad argument, ours or the lab's.
 */
#define _GNU_SOURCE
#include "hunt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"

#define MAX_SNAPS 16           /* snapshots in one hunt */
#define SHOWN_SITES 10         /* rows the printed table shows */

/* ------------------------------------------------------------------------
 * Messages and small tools
 * --------------------------------------------------------------------- */

static noreturn void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_line("leaklab hunt", fmt, ap);
    va_end(ap);
    exit(EXIT_USAGE);
}

static char tmp_dir[PATH_MAX];  /* our scratch directory, or "" */

/* Removes the scratch directory and what is in it (one level: we make
 * no subdirectories). Safe to call twice. */
static void remove_tmp(void)
{
    if (!tmp_dir[0])
        return;
    int dfd = open(tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        DIR *dp = fdopendir(dfd);
        struct dirent *e;
        /* cppcheck-suppress readdirCalled ; one thread, our own stream */
        while (dp && (e = readdir(dp)) != NULL)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(dfd, e->d_name, 0);
        if (dp)
            closedir(dp);
        else
            close(dfd);
    }
    rmdir(tmp_dir);
    tmp_dir[0] = '\0';
}

/* "path: strerror", exit 1, after removing the scratch directory. */
static noreturn void fail(const char *path)
{
    int err = errno;
    remove_tmp();
    char line[PATH_MAX * 4 + 64];
    record_escape(line, sizeof line, path);
    fprintf(stderr, "leaklab hunt: %s: %s\n", line, strerror(err));
    exit(EXIT_ERROR);
}

/* One line on stderr, exit 1, after removing the scratch directory. */
static noreturn void give_up(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static noreturn void give_up(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    remove_tmp();
    say_line("leaklab hunt", fmt, ap);
    va_end(ap);
    exit(EXIT_ERROR);
}

/* dst = a/b; exits 2 if it does not fit. */
static void join(char *dst, size_t len, const char *a, const char *b)
{
    if ((size_t)snprintf(dst, len, "%s/%s", a, b) >= len)
        usage_error("path too long: '%s/%s'", a, b);
}

/* malloc or exit 1. */
static void *must_alloc(size_t n)
{
    void *p = calloc(1, n);
    if (p == NULL)
        fail("malloc");
    return p;
}

static char *must_strdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        fail("malloc");
    return p;
}

/* Bytes as a person reads them: "15.0 MiB", "640 KiB", "96 B"; with a
 * sign when signed is true ("+5.0 MiB", "0"). */
static const char *human(long long bytes, bool sign, char *buf, size_t len)
{
    long long a = bytes < 0 ? -bytes : bytes;
    const char *s = !sign ? "" : bytes > 0 ? "+" : bytes < 0 ? "-" : "";
    if (a >= 10LL << 20)
        snprintf(buf, len, "%s%.1f MiB", s, a / 1048576.0);
    else if (a >= 1LL << 20)
        snprintf(buf, len, "%s%.2f MiB", s, a / 1048576.0);
    else if (a >= 10LL << 10)
        snprintf(buf, len, "%s%.0f KiB", s, a / 1024.0);
    else if (a >= 1LL << 10)
        snprintf(buf, len, "%s%.1f KiB", s, a / 1024.0);
    else
        snprintf(buf, len, "%s%lld B", s, a);
    return buf;
}

/* Reads a number Valgrind printed with thousands separators ("15,743,040"),
 * moving *p past it. */
static long long vg_number(const char **p)
{
    long long n = 0;
    while (**p >= '0' && **p <= '9') {
        n = n * 10 + (**p - '0');
        (*p)++;
        if (**p == ',')
            (*p)++;
    }
    return n;
}

/* ------------------------------------------------------------------------
 * The command line
 * --------------------------------------------------------------------- */

/* What `leaklab hunt` was asked for. */
struct hunt_options {
    int number;                  /* N; for a PATH, its --describe's lab= */
    const char *which;           /* N or PATH, as typed */
    char name[NAME_MAX + 1];     /* "labN", or PATH's file name: what
                                    messages call it, its records' folder */
    const char *mode;            /* --mode, or NULL for the showcase */
    long snapshots;              /* --snapshots */
    long at[MAX_SNAPS];          /* --at, increasing */
    int nat;                     /* how many; 0 without --at */
    const char *out;             /* --out */
    const char *tool;            /* "memcheck" or "heaptrack" */
    long timeout_s;              /* --timeout */
    bool quiet;                  /* --quiet: the verdict line only */
    char **lab_args;             /* after "--" */
    int nlab_args;               /* how many */
};

static void print_help(void)
{
    printf(
"Usage: leaklab hunt N|PATH [OPTIONS] [-- LAB-ARGS...]\n"
"\n"
"Runs build/labN under Valgrind memcheck, takes heap snapshots at chosen\n"
"iterations (leak_check and xtmemory, through the probe), and compares\n"
"them site by site, as DevTools' Comparison view does: blocks and bytes\n"
"at each snapshot, Delta and Size Delta for each interval, with New,\n"
"Deleted, Alloc Size and Freed Size. A site is the first frame of an\n"
"allocation's stack in the project's own source. Sorted by Size Delta;\n"
"a site that grew in every interval is marked leak?. Printed, and\n"
"written to DIR/labN/MODE-hunt.tsv (memcheck's report: MODE-hunt.log).\n"
"A PATH (any argument with a '/') hunts that program instead, as run\n"
"runs one, with records in DIR/NAME, NAME its file name. An exercise,\n"
"which samples once per 1000 requests (--at names those rows):\n"
"  leaklab hunt build/exercises/ex7-sessions --at 1,2,3 -- REQUESTS REPLIES\n"
"\n"
"Options:\n"
"  -m, --mode MODE        the mode to hunt (default: the lab's showcase)\n"
"  -k, --snapshots K      K snapshots, as far apart as the lab's\n"
"                         --iterations allow, the last at the end: a\n"
"                         warm-up, then K-1 equal loads (default 3)\n"
"  -a, --at I,J,...       snapshots at these iterations instead\n"
"  -o, --out DIR          where records go (default out)\n"
"      --tool TOOL        memcheck (default), or heaptrack: the same run\n"
"                         recorded by heaptrack, and heaptrack_print's\n"
"                         view of its sites (DIR/labN/MODE-heaptrack.txt)\n"
"  -t, --timeout SEC      kill the run after SEC seconds (default 300)\n"
"  -q, --quiet            print the verdict line only\n"
"  -h, --help             this text\n"
"LAB-ARGS may not set --mode, --tsv, --quiet, --describe or --help.\n"
"\n"
"Exit codes: 0 the hunt ran and wrote its records; 1 the lab did not\n"
"finish under the tool, a tool is missing, or a runtime error; 2 bad\n"
"usage, ours or the lab's.\n");
}

/* Parses "I,J,..." into o->at. False unless 2 to MAX_SNAPS whole
 * numbers, each larger than the one before. */
static bool parse_at(const char *text, struct hunt_options *o)
{
    o->nat = 0;
    for (const char *p = text; ; p++) {
        char num[32];
        size_t n = strcspn(p, ",");
        long v;
        if (n == 0 || n >= sizeof num || o->nat == MAX_SNAPS)
            return false;
        memcpy(num, p, n);
        num[n] = '\0';
        if (!parse_long(num, 0, 100000000, &v) ||
            (o->nat > 0 && v <= o->at[o->nat - 1]))
            return false;
        o->at[o->nat++] = v;
        p += n;
        if (*p == '\0')
            break;
    }
    return o->nat >= 2;
}

/* Refuses, exit 2, a lab argument that sets what the hunt sets: any
 * spelling of --mode, --tsv, --quiet, --describe, --help (or -m, -q, -h,
 * alone or in a cluster), up to a "--" of the lab's own. */
static void refuse_owned(char **args, int n)
{
    static const char *const owned[] = {"mode", "tsv", "quiet", "describe",
                                        "help"};
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (strcmp(a, "--") == 0)
            return;
        if (a[0] != '-' || a[1] == '\0')
            continue;
        if (a[1] == '-') {
            size_t len = strcspn(a + 2, "=");
            for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
                if (len > 0 && len <= strlen(owned[k]) &&
                    strncmp(a + 2, owned[k], len) == 0)
                    usage_error("lab argument '%s' is the lab's --%s, which "
                                "the hunt sets itself", a, owned[k]);
            continue;
        }
        for (const char *c = a + 1; *c && !strchr("ns", *c); c++)
            if (strchr("mqh", *c))
                usage_error("lab argument '%s' sets the lab's -%c, which "
                            "the hunt sets itself", a, *c);
    }
}

/* Parses hunt's command line into o. Returns false after --help; exits 2
 * on a bad argument. */
static bool parse_options(int argc, char **argv, struct hunt_options *o)
{
    enum { OPT_TOOL = 1000 };
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"snapshots", required_argument, NULL, 'k'},
        {"at", required_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},
        {"tool", required_argument, NULL, OPT_TOOL},
        {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    *o = (struct hunt_options){.snapshots = 3, .out = "out",
                               .tool = "memcheck", .timeout_s = 300};
    int nours = 0;
    while (nours < argc && strcmp(argv[nours], "--") != 0)
        nours++;
    o->lab_args = argv + nours + (nours < argc);
    o->nlab_args = argc - nours - (nours < argc);

    bool snapshots_given = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(nours, argv, ":m:k:a:o:t:qh", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'm': o->mode = optarg; break;
        case 'k':
            if (!parse_long(optarg, 2, MAX_SNAPS, &o->snapshots))
                usage_error("bad --snapshots '%s': want 2 to %d", optarg,
                            MAX_SNAPS);
            snapshots_given = true;
            break;
        case 'a':
            if (!parse_at(optarg, o))
                usage_error("bad --at '%s': want 2 to %d iterations, "
                            "increasing, such as 10,20,30", optarg,
                            MAX_SNAPS);
            break;
        case 'o': o->out = optarg; break;
        case OPT_TOOL:
            if (strcmp(optarg, "memcheck") && strcmp(optarg, "heaptrack"))
                usage_error("bad --tool '%s': want memcheck or heaptrack",
                            optarg);
            o->tool = optarg;
            break;
        case 't':
            if (!parse_long(optarg, 1, 86400, &o->timeout_s))
                usage_error("bad --timeout '%s': want whole seconds from 1 "
                            "to 86400", optarg);
            break;
        case 'q': o->quiet = true; break;
        case 'h': print_help(); return false;
        default: {
            char why[512];
            usage_error("%s (see leaklab hunt --help)",
                        option_error(c, argv[optind - 1], longopts, why,
                                     sizeof why));
        }
        }
    }
    if (optind >= nours)
        usage_error("hunt needs a lab number or a program's path (see "
                    "leaklab list)");
    o->which = argv[optind++];
    if (optind < nours)
        usage_error("unexpected argument '%s' (lab arguments go after --)",
                    argv[optind]);
    long n;
    const char *digits = strncmp(o->which, "lab", 3) == 0 ? o->which + 3
                                                          : o->which;
    if (strchr(o->which, '/')) {             /* a PATH, as run takes one */
        o->number = -1;
    } else if (parse_long(digits, 0, 9999, &n)) {
        o->number = (int)n;
        snprintf(o->name, sizeof o->name, "lab%d", o->number);
    } else {
        usage_error("unknown lab '%s': want a number such as 7, or a "
                    "program's path", o->which);
    }
    if (o->nat && snapshots_given)
        usage_error("--at and --snapshots both say when: give one");
    refuse_owned(o->lab_args, o->nlab_args);
    return true;
}

/* ------------------------------------------------------------------------
 * The lab: where it is, and what it says of itself
 * --------------------------------------------------------------------- */

/* The fields of labN --describe the hunt needs. */
struct lab_facts {
    char path[PATH_MAX];          /* build/labN, or the PATH given */
    char root[PATH_MAX];          /* the project: holds harness/lab.h */
    char line[16384];             /* the --describe line; the fields: */
    const char *title, *modes, *showcase, *sanitizer;
    const char *lab;              /* its lab=, or NULL */
};

/* The value of key in a --describe line split in place, or NULL. */
static const char *field(char *line, const char *key)
{
    size_t n = strlen(key);
    for (char *f = line; f; f = strchr(f, '\t') ? strchr(f, '\t') + 1
                                                : NULL)
        if (strncmp(f, key, n) == 0 && f[n] == '=')
            return f + n + 1;
    return NULL;
}

/* Runs path --describe (2 s at most) and reads its line into L->line,
 * then cuts it into the fields. Exits 1 if it cannot. */
static void describe(struct lab_facts *L)
{
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) < 0)
        fail("pipe");
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd[1], STDOUT_FILENO);
        execl(L->path, L->path, "--describe", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    struct pollfd p = {.fd = fd[0], .events = POLLIN};
    while (len < sizeof L->line - 1 && poll(&p, 1, 2000) > 0) {
        ssize_t got = read(fd[0], L->line + len, sizeof L->line - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd[0]);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    L->line[len] = '\0';
    L->line[strcspn(L->line, "\n")] = '\0';
    L->title = field(L->line, "title");
    L->modes = field(L->line, "modes");
    L->showcase = field(L->line, "showcase");
    L->sanitizer = field(L->line, "sanitizer");
    L->lab = field(L->line, "lab");
    if (!L->title || !L->modes)
        give_up("%s --describe: no answer the hunt can use", L->path);
    for (char *t = L->line; (t = strchr(t, '\t')) != NULL; )
        *t++ = '\0';                   /* each field its own string */
}

/* Is mode one of the comma-separated modes? */
static bool has_mode(const char *modes, const char *mode)
{
    size_t n = strlen(mode);
    for (const char *m = modes; m; m = strchr(m, ',') ? strchr(m, ',') + 1
                                                      : NULL)
        if (strncmp(m, mode, n) == 0 && (m[n] == ',' || m[n] == '\0'))
            return true;
    return false;
}

/* Finds build/labN beside this program (or checks the PATH given, as
 * `leaklab run PATH` does: exit 2 if it is not a program), and the
 * project above this program (the
 * nearest folder holding harness/lab.h; "" if none: then every frame
 * with a source file counts as the project's). Exits 2 for a lab not
 * built. */
static void find_lab(struct hunt_options *o, struct lab_facts *L)
{
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n < 0)
        fail("/proc/self/exe");
    dir[n] = '\0';
    *strrchr(dir, '/') = '\0';
    if (o->number < 0) {
        char why[PATH_MAX * 2];
        if (!program_path(o->which, L->path, sizeof L->path, o->name,
                          sizeof o->name, why, sizeof why))
            usage_error("%s", why);
    } else {
        join(L->path, sizeof L->path, dir, o->name);
        if (access(L->path, X_OK) != 0)
            usage_error("unknown lab '%s': %s is not built (see leaklab "
                        "list)", o->which, L->path);
    }
    L->root[0] = '\0';
    for (char *slash; (slash = strrchr(dir, '/')) != NULL; *slash = '\0') {
        char probe[PATH_MAX + 32];
        struct stat st;
        snprintf(probe, sizeof probe, "%s/harness/lab.h", dir);
        if (stat(probe, &st) == 0) {
            snprintf(L->root, sizeof L->root, "%s", dir);
            break;
        }
    }
}

/* ------------------------------------------------------------------------
 * Running the tool: capped, timed, in a process group of its own that
 * dies with us
 * --------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;   /* Ctrl-C, kill, hangup */

static void on_interrupt(int sig) { interrupted = sig; }

/* Runs argv (argv[0] found on PATH) with env (NAME=VALUE strings, NULL
 * ends them) added to ours, stdout to out_path (NULL: /dev/null), stderr
 * to err_path, under RLIMIT_AS at the runner's default cap. Waits for it,
 * at most timeout_s. Returns its wait status; exits 1 on a timeout, 130
 * and so on for a Ctrl-C (the group killed, the scratch removed). */
static int run_tool(char **argv, char **env, const char *out_path,
                    const char *err_path, long timeout_s)
{
    fflush(stdout);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(126);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int o = open(out_path ? out_path : "/dev/null",
                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(126);
        dup2(o, STDOUT_FILENO);
        dup2(e, STDERR_FILENO);
        struct rlimit rl = {default_cap(), default_cap()};
        if (setrlimit(RLIMIT_AS, &rl) < 0)
            _exit(126);
        unsetenv("LEAKLAB_TSV");
        setenv("LEAKLAB_CAP", "rlimit", 1);
        for (char **e2 = env; *e2; e2++)
            putenv(*e2);
        execvp(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    struct timespec start, now, tick = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            fail("waitpid");
        clock_gettime(CLOCK_MONOTONIC, &now);
        bool late = now.tv_sec - start.tv_sec >= timeout_s;
        if (interrupted || late) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            if (interrupted) {
                remove_tmp();
                fprintf(stderr, "leaklab hunt: interrupted; %s stopped\n",
                        argv[0]);
                exit(128 + interrupted);
            }
            give_up("%s ran past --timeout %ld s; killed it", argv[0],
                    timeout_s);
        }
        nanosleep(&tick, NULL);
    }
}

/* Does memcheck's log end with its report at exit: the HEAP SUMMARY and,
 * after it, the ERROR SUMMARY, both written once the lab has exited? */
static bool report_is_whole(const char *log_path)
{
    FILE *f = log_path ? fopen(log_path, "r") : NULL;
    if (!f)
        return false;
    char buf[1024];
    bool heap = false, errors = false;
    while (fgets(buf, sizeof buf, f)) {
        if (strstr(buf, "HEAP SUMMARY:"))
            heap = true;
        else if (heap && strstr(buf, "ERROR SUMMARY:"))
            errors = true;
    }
    fclose(f);
    return errors;
}

/* Copies the file at from to to (through a temporary and a rename).
 * Exits 1 if it cannot. */
static void copy_file(const char *from, const char *to)
{
    char tmp[PATH_MAX + 32], buf[65536];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", to, (int)getpid());
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        fail(from);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        fail(tmp);
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            break;
    int bad = n != 0;
    close(in);
    if (close(out) != 0 || bad || rename(tmp, to) != 0) {
        int err = errno ? errno : EIO;
        unlink(tmp);
        errno = err;
        fail(to);
    }
}

/* Checks how the tool's run ended: a lab that exits 2 passes its one line
 * on and exits 2; anything but 0 exits 1, naming the tool and pointing to
 * what it said. One exception, seen about once in 150 hunts of lab 7 on
 * a loaded machine before the hunt passed --show-below-main=yes (likely
 * the same Valgrind bug, met at exit; see hunt_memcheck): valgrind itself
 * killed by a signal after its report at exit is whole (the lab had
 * exited, every snapshot was written). The hunt says so in one line and
 * goes on with what it has. */
static void check_run(int status, const char *tool, const char *err_path,
                      const char *log_path, const char *kept_path)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (WIFSIGNALED(status) && report_is_whole(log_path)) {
        fprintf(stderr, "leaklab hunt: %s was killed by SIG%s after its "
                "report at exit; the lab's records are whole, the hunt "
                "goes on\n", tool, sigabbrev_np(WTERMSIG(status)));
        return;
    }
    char line[1024] = "";
    FILE *f = fopen(err_path, "r");
    if (f) {
        char buf[1024];
        while (fgets(buf, sizeof buf, f))      /* its last line */
            if (buf[0] != '\n' && strncmp(buf, "==", 2) != 0)
                snprintf(line, sizeof line, "%s", buf);
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_USAGE) {
        remove_tmp();
        fprintf(stderr, "%s\n", line[0] ? line : "leaklab hunt: the lab "
                "refused its arguments");
        exit(EXIT_USAGE);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        give_up("%s is missing: make deps installs it", tool);
    char kept[PATH_MAX + 32] = "";
    if (log_path && kept_path && access(log_path, R_OK) == 0) {
        copy_file(log_path, kept_path);  /* what the tool said, to read */
        snprintf(kept, sizeof kept, " (its report: %s)", kept_path);
    }
    if (WIFEXITED(status))
        give_up("the lab under %s exited %d%s%s%s", tool,
                WEXITSTATUS(status), line[0] ? ": " : "", line, kept);
    give_up("the lab under %s was killed by SIG%s%s%s%s", tool,
            sigabbrev_np(WTERMSIG(status)), line[0] ? ": " : "", line,
            kept);
}

/* ------------------------------------------------------------------------
 * Stacks: which frame is the project's
 * --------------------------------------------------------------------- */

/* One frame of a stack as Valgrind prints it after "at "/"by " (or a
 * heap tree's node): "0x10A4B6: make_context (labs/lab1-closure.c:178)",
 * or "0x48D5455: curl_easy_perform (in /usr/lib/.../libcurl.so.4.8.0)". */
struct frame {
    char fn[256];                 /* the function, "???" if unknown */
    char file[PATH_MAX];          /* its source file, or "" */
    long line;                    /* its line, or 0 */
    char obj[PATH_MAX];           /* the object file, when no source */
};

/* Parses text into f. Returns false if it is not a frame. */
static bool parse_frame(const char *text, struct frame *f)
{
    const char *colon = strstr(text, ": ");
    if (strncmp(text, "0x", 2) != 0 || colon == NULL)
        return false;
    const char *fn = colon + 2, *open = strrchr(fn, '(');
    size_t len = strlen(fn);
    while (len > 0 && (fn[len - 1] == '\n' || fn[len - 1] == ' '))
        len--;
    if (open == NULL || open == fn || fn[len - 1] != ')')
        return false;
    snprintf(f->fn, sizeof f->fn, "%.*s", (int)(open - 1 - fn), fn);
    const char *in = open + 1, *end = fn + len - 1;
    f->file[0] = f->obj[0] = '\0';
    f->line = 0;
    if (strncmp(in, "in ", 3) == 0) {
        snprintf(f->obj, sizeof f->obj, "%.*s", (int)(end - in - 3), in + 3);
        return true;
    }
    const char *c = end;
    while (c > in && c[-1] != ':')
        c--;
    if (c == in)
        return false;
    snprintf(f->file, sizeof f->file, "%.*s", (int)(c - 1 - in), in);
    f->line = strtol(c, NULL, 10);
    return true;
}

static const char *project_root;  /* where "in the project" is checked */

/* Is file (as Valgrind names it, relative to the project with
 * --fullpath-after) one of the project's own sources? Remembers its
 * answers for the files it has seen. */
static bool in_project(const char *file)
{
    static struct answer { char *file; bool yes; } seen[256];
    static int nseen;
    if (!file[0])
        return false;
    if (!project_root[0])
        return true;
    for (int i = 0; i < nseen; i++)
        if (strcmp(seen[i].file, file) == 0)
            return seen[i].yes;
    char path[PATH_MAX * 2 + 2];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", project_root, file);
    bool yes = file[0] != '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode);
    if (nseen < 256)
        seen[nseen++] = (struct answer){must_strdup(file), yes};
    return yes;
}

/* The file name alone: what an outside site is named by. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ------------------------------------------------------------------------
 * Sites, and what each snapshot says of them
 * --------------------------------------------------------------------- */

enum { KIND_DEFINITE = 1, KIND_INDIRECT = 2, KIND_POSSIBLE = 4,
       KIND_REACHABLE = 8 };

/* One allocation site and its numbers at each snapshot. */
struct site {
    char *name;                   /* the function, or "(outside)" */
    char *where;                  /* "labs/lab7-server.c:300", or the
                                     library outside sites are named by */
    long long bytes[MAX_SNAPS];   /* memcheck's loss records: live bytes, */
    long long blocks[MAX_SNAPS];  /* and blocks */
    long long xt_bytes[MAX_SNAPS];  /* xtmemory's curB and curBk: the same */
    long long xt_blocks[MAX_SNAPS]; /* thing, counted the other way */
    long long tot_bytes[MAX_SNAPS];  /* xtmemory's totB and totBk: all */
    long long tot_blocks[MAX_SNAPS]; /* it allocated since the start */
    unsigned kinds;               /* memcheck's kinds, at the last one, */
    long long kind_bytes[4];      /* and its bytes of each (KIND_ bit b) */
    long long growth;             /* bytes at the last minus the first */
    bool leak;                    /* grew in every interval */
};

static struct site *sites;        /* every site seen */
static int nsites, sites_cap;

/* The site named name at where; made if new. */
static struct site *find_site(const char *name, const char *where)
{
    for (int i = 0; i < nsites; i++)
        if (strcmp(sites[i].name, name) == 0 &&
            strcmp(sites[i].where, where) == 0)
            return &sites[i];
    if (nsites == sites_cap) {
        sites_cap = sites_cap ? 2 * sites_cap : 64;
        struct site *grown = realloc(sites, sites_cap * sizeof *grown);
        if (grown == NULL)
            fail("malloc");
        sites = grown;
    }
    struct site *s = &sites[nsites++];
    *s = (struct site){.name = must_strdup(name), .where = must_strdup(where)};
    return s;
}

/* The site of a project frame: its function, at file:line. */
static struct site *project_site(const struct frame *f)
{
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%ld", f->file, f->line);
    return find_site(f->fn, where);
}

/* The site of blocks no project frame allocated, named by lib. */
static struct site *outside_site(const char *lib)
{
    return find_site("(outside)", lib);
}

/* The outside name for a stack whose first frame past the allocator is
 * f: its library's file name, or its source file's. */
static const char *outside_name(const struct frame *f)
{
    return base_name(f->obj[0] ? f->obj : f->file[0] ? f->file : "?");
}

/* What memcheck said at exit (its LEAK SUMMARY after HEAP SUMMARY). */
static struct {
    bool seen;                    /* there was one */
    long long definite, indirect, possible, reachable;   /* bytes */
    long long reachable_blocks;   /* blocks still reachable */
} at_exit;

/* Reads memcheck's log: the loss records after each snapshot's marker go
 * to their sites, in snapshot k's columns (k: the marker's iteration's
 * place in at[]); then the exit summary. Returns how many snapshots it
 * found. Exits 1 if the log cannot be read. */
static int read_memcheck_log(const char *path, const long *at, int nat)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail(path);
    char *line = NULL;
    size_t cap = 0;
    int snap = -1, found = 0;
    bool in_record = false, in_exit = false, skipped_at = false;
    long long rec_bytes = 0, rec_blocks = 0;
    unsigned rec_kind = 0;
    struct site *rec_site = NULL;
    char lib[PATH_MAX] = "";
    while (getline(&line, &cap, f) > 0) {
        /* Strip "==PID== " (memcheck) or "**PID** " (the probe's marker). */
        const char *p = line;
        bool marker = strncmp(p, "**", 2) == 0;
        if (strncmp(p, "==", 2) == 0 || marker) {
            const char *end = strstr(p + 2, marker ? "** " : "== ");
            p = end ? end + 3 : p + strlen(p);
        }
        long iter;
        if (marker && sscanf(p, "leaklab snapshot at iteration %ld",
                             &iter) == 1) {
            snap = -1;
            for (int k = 0; k < nat; k++)
                if (at[k] == iter)
                    snap = k;
            found += snap >= 0;
            in_record = false;
            continue;
        }
        while (*p == ' ')
            p++;
        if (in_record && (strncmp(p, "at ", 3) == 0 ||
                          strncmp(p, "by ", 3) == 0)) {
            struct frame fr;
            if (!parse_frame(p + 3, &fr))
                continue;
            if (!skipped_at) {            /* "at": malloc itself */
                skipped_at = true;
                continue;
            }
            if (!lib[0])
                snprintf(lib, sizeof lib, "%s", outside_name(&fr));
            if (rec_site == NULL && in_project(fr.file))
                rec_site = project_site(&fr);
            continue;
        }
        if (in_record) {                  /* the blank line ends it */
            struct site *s = rec_site ? rec_site
                                      : outside_site(lib[0] ? lib : "?");
            s->bytes[snap] += rec_bytes;
            s->blocks[snap] += rec_blocks;
            if (snap == nat - 1) {
                s->kinds |= rec_kind;
                s->kind_bytes[__builtin_ctz(rec_kind)] += rec_bytes;
            }
            in_record = false;
        }
        if (strncmp(p, "HEAP SUMMARY:", 13) == 0) {
            in_exit = true;
            snap = -1;
            continue;
        }
        if (in_exit) {
            long long *slot = NULL;
            const char *q = NULL;
            if ((q = strstr(p, "definitely lost: ")) != NULL)
                slot = &at_exit.definite;
            else if ((q = strstr(p, "indirectly lost: ")) != NULL)
                slot = &at_exit.indirect;
            else if ((q = strstr(p, "possibly lost: ")) != NULL)
                slot = &at_exit.possible;
            else if ((q = strstr(p, "still reachable: ")) != NULL)
                slot = &at_exit.reachable;
            if (slot) {
                q = strchr(q, ':') + 2;
                *slot = vg_number(&q);
                if (slot == &at_exit.reachable && strncmp(q, " bytes in ",
                                                          10) == 0) {
                    q += 10;
                    at_exit.reachable_blocks = vg_number(&q);
                }
                at_exit.seen = true;
            } else if (strstr(p, "All heap blocks were freed")) {
                at_exit.seen = true;
            }
            continue;
        }
        if (snap < 0 || *p < '0' || *p > '9')
            continue;
        /* "65,552 bytes in 1 blocks are still reachable in loss record 2
         * of 2", or "1,234 (1,000 direct, 234 indirect) bytes in ..." */
        const char *q = p;
        long long total = vg_number(&q), direct = total;
        if (strncmp(q, " (", 2) == 0) {
            q += 2;
            direct = vg_number(&q);
            q = strstr(q, ")");
            if (q == NULL)
                continue;
            q++;
        }
        if (strncmp(q, " bytes in ", 10) != 0)
            continue;
        q += 10;
        rec_blocks = vg_number(&q);
        rec_bytes = direct;
        rec_kind = strstr(q, "definitely lost") ? KIND_DEFINITE
                 : strstr(q, "indirectly lost") ? KIND_INDIRECT
                 : strstr(q, "possibly lost")   ? KIND_POSSIBLE
                 : strstr(q, "still reachable") ? KIND_REACHABLE : 0;
        if (rec_kind == 0 || !strstr(q, "in loss record"))
            continue;
        in_record = true;
        skipped_at = false;
        rec_site = NULL;
        lib[0] = '\0';
    }
    free(line);
    fclose(f);
    return found;
}

/* One node of a heap tree being read: enough to give every byte under it
 * to one site. */
struct node {
    long long value;              /* its bytes or blocks */
    long long children;           /* what its children account for */
    bool given;                   /* it, or a node above, was given to a
                                     project site */
    char lib[PATH_MAX];           /* the outside name its stack gets */
};

/* Gives a node that ends (all its children read) what its children did
 * not account for: stacks cut at --num-callers, or a leaf. Outside sites
 * only: a project node gave all of it when it was read. */
static void close_node(struct node *n, int event, int snap)
{
    long long rest = n->value - n->children;
    if (n->given || rest <= 0)
        return;
    struct site *s = outside_site(n->lib);
    long long *col = event == 0 ? s->xt_bytes : event == 1 ? s->xt_blocks
                   : event == 2 ? s->tot_bytes : s->tot_blocks;
    col[snap] += rest;
}

/* Reads one xtmemory report (massif format: a heap tree for each of its
 * six events; we read curB, curBk, totB and totBk) into snapshot snap's
 * columns. The tree's nodes are stacks from the allocation outwards; a
 * node's value is all that was allocated below it. Returns false if the
 * file is not there. */
static bool read_xtree(const char *path, int snap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    static struct node stack[256];
    int depth = -1, event = -1;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        int d = (int)strspn(line, " ");
        const char *p = line + d;
        long long value;
        int used = 0;
        if (p[0] != 'n' || sscanf(p, "n%*d: %lld %n", &value, &used) != 1 ||
            used == 0) {
            while (depth > 0)        /* a tree ended: close its nodes */
                close_node(&stack[depth--], event, snap);
            depth = -1;
            continue;
        }
        const char *rest = p + used;
        if (d == 0) {                 /* the root names the event */
            event = strncmp(rest, "curBk ", 6) == 0 ? 1
                  : strncmp(rest, "curB ", 5) == 0  ? 0
                  : strncmp(rest, "totBk ", 6) == 0 ? 3
                  : strncmp(rest, "totB ", 5) == 0  ? 2 : -1;
            depth = 0;
            stack[0] = (struct node){.value = value};
            continue;
        }
        if (event < 0 || depth < 0 || d > depth + 1 || d >= 256)
            continue;
        while (depth >= d)
            close_node(&stack[depth--], event, snap);
        struct node *parent = &stack[d - 1], *n = &stack[d];
        *n = (struct node){.value = value, .given = parent->given};
        parent->children += value;
        struct frame fr;
        bool ok = parse_frame(rest, &fr);
        snprintf(n->lib, sizeof n->lib, "%s",
                 d > 1 ? parent->lib : ok ? outside_name(&fr) : "?");
        if (!n->given && ok && in_project(fr.file)) {
            struct site *s = project_site(&fr);
            long long *col = event == 0 ? s->xt_bytes
                           : event == 1 ? s->xt_blocks
                           : event == 2 ? s->tot_bytes : s->tot_blocks;
            col[snap] += value;
            n->given = true;
        }
        depth = d;
    }
    while (depth > 0)
        close_node(&stack[depth--], event, snap);
    free(line);
    fclose(f);
    return true;
}

/* ------------------------------------------------------------------------
 * The comparison: sort, mark, print, write
 * --------------------------------------------------------------------- */

static int nsnap;                 /* snapshots taken */
static long snap_at[MAX_SNAPS];   /* their iterations */

/* qsort: Size Delta over the hunt, largest first; then the most bytes at
 * the last snapshot; then by name, so that the order is the same every
 * time. */
static int by_growth(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    if (x->growth != y->growth)
        return x->growth < y->growth ? 1 : -1;
    if (x->bytes[nsnap - 1] != y->bytes[nsnap - 1])
        return x->bytes[nsnap - 1] < y->bytes[nsnap - 1] ? 1 : -1;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->where, y->where);
}

/* A site with nothing at any snapshot and nothing allocated between
 * them (xtmemory lists the sites of frees too) says nothing. */
static bool empty_site(const struct site *s)
{
    for (int k = 0; k < nsnap; k++)
        if (s->bytes[k] || s->blocks[k] || s->xt_bytes[k] ||
            (k > 0 && s->tot_blocks[k] != s->tot_blocks[k - 1]))
            return false;
    return true;
}

/* Sorts the sites, drops the empty ones, marks growth and leak?. */
static void compare(void)
{
    int kept = 0;
    for (int i = 0; i < nsites; i++) {
        struct site *s = &sites[i];
        if (empty_site(s))
            continue;
        s->growth = s->bytes[nsnap - 1] - s->bytes[0];
        s->leak = true;
        for (int k = 1; k < nsnap; k++)
            s->leak &= s->bytes[k] > s->bytes[k - 1];
        sites[kept++] = *s;
    }
    nsites = kept;
    qsort(sites, nsites, sizeof *sites, by_growth);
}

/* The site the hunt names: the first marked leak?, or, with none, the
 * largest at the last snapshot (a one-time leak: big, and flat). */
static const struct site *top_site(void)
{
    const struct site *big = NULL;
    for (int i = 0; i < nsites; i++) {
        if (sites[i].leak)
            return &sites[i];
        if (!big || sites[i].bytes[nsnap - 1] > big->bytes[nsnap - 1])
            big = &sites[i];
    }
    return big;
}

/* Memcheck's kinds of a site's blocks at the last snapshot, in its
 * words, joined; with the bytes of each when there are several. */
static const char *kind_words(const struct site *s, char *buf, size_t len)
{
    static const char *const words[] = {"definitely lost", "indirectly lost",
                                        "possibly lost", "still reachable"};
    bool several = s->kinds & (s->kinds - 1);
    buf[0] = '\0';
    for (int b = 0; b < 4; b++)
        if (s->kinds & (1u << b)) {
            size_t used = strlen(buf);
            char h[32];
            snprintf(buf + used, len - used, "%s%s%s%s", used ? ", " : "",
                     words[b], several ? " " : "",
                     several ? human(s->kind_bytes[b], false, h, sizeof h)
                             : "");
        }
    if (!buf[0])
        snprintf(buf, len, "-");
    return buf;
}

/* The verdict, one line (without the newline) into buf. */
static const char *verdict(char *buf, size_t len)
{
    const struct site *t = top_site();
    char a[32], b[160];
    if (t == NULL)
        snprintf(buf, len, "no heap blocks at any snapshot");
    else if (t->leak)
        snprintf(buf, len, "leak? %s (%s) grew in every interval: %s in "
                 "%+lld blocks, %s", t->name, t->where,
                 human(t->growth, true, a, sizeof a),
                 t->blocks[nsnap - 1] - t->blocks[0],
                 kind_words(t, b, sizeof b));
    else
        snprintf(buf, len, "no site grew in every interval; the largest at "
                 "the last snapshot is %s (%s), %s in %lld blocks, %s",
                 t->name, t->where, human(t->bytes[nsnap - 1], false, a,
                                          sizeof a),
                 t->blocks[nsnap - 1], t->growth == 0 ? "unchanged"
                                                      : "not growing");
    return buf;
}

/* Prints the table a person reads: the SHOWN_SITES first sites, with
 * Size Delta and Delta for each interval (DevTools' two sort keys), the
 * bytes at the last snapshot, and memcheck's kind for them. */
static void print_table(const char *title, const char *mode,
                        const char *lab, bool spread)
{
    printf("%s %s: %s\nmemcheck snapshots after iterations", lab, mode,
           title);
    for (int k = 0; k < nsnap; k++)
        printf("%s %ld", k == 0 ? "" : k == nsnap - 1 ? " and" : ",",
               snap_at[k]);
    if (spread)
        printf(": a warm-up, then %d equal loads", nsnap - 1);
    printf("\n\n");
    int w = 4;
    for (int i = 0; i < nsites && i < SHOWN_SITES; i++) {
        int n = (int)(strlen(sites[i].name) + 1 + strlen(sites[i].where));
        w = n > w ? n : w;
    }
    printf("  %-*s", w, "");
    for (int k = 1; k < nsnap; k++) {
        char span[64];
        snprintf(span, sizeof span, "%ld -> %ld", snap_at[k - 1],
                 snap_at[k]);
        printf("  %19s", span);
    }
    printf("  %10s\n  %-*s", "at the end", w, "site");
    for (int k = 1; k < nsnap; k++)
        printf("  %11s %7s", "Size Delta", "Delta");
    printf("  %10s  %s\n", "bytes", "kind");
    for (int i = 0; i < nsites && i < SHOWN_SITES; i++) {
        const struct site *s = &sites[i];
        char name[PATH_MAX + 300], a[32], kinds[160];
        snprintf(name, sizeof name, "%s %s", s->name, s->where);
        printf("  %-*s", w, name);
        for (int k = 1; k < nsnap; k++)
            printf("  %11s %+7lld",
                   human(s->bytes[k] - s->bytes[k - 1], true, a, sizeof a),
                   s->blocks[k] - s->blocks[k - 1]);
        printf("  %10s  %s%s\n", human(s->bytes[nsnap - 1], false, a,
                                        sizeof a),
               kind_words(s, kinds, sizeof kinds),
               s->leak ? "  leak?" : "");
    }
    if (nsites > SHOWN_SITES)
        printf("  (and %d more sites, in the TSV)\n", nsites - SHOWN_SITES);
    printf("\n");
}

/* Writes the table, every column, to path (through a temporary name and
 * a rename). Exits 1 if it cannot. */
static void write_tsv(const char *path, const struct lab_facts *L,
                      const struct hunt_options *o, const char *mode)
{
    char tmp[PATH_MAX + 32], buf[1024];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        fail(tmp);
    record_escape(buf, sizeof buf, L->title);
    fprintf(f, "# lab=%d\n# title=%s\n", o->number, buf);
    record_escape(buf, sizeof buf, mode);
    fprintf(f, "# mode=%s\n# tool=memcheck\n# at=", buf);
    for (int k = 0; k < nsnap; k++)
        fprintf(f, "%s%ld", k ? "," : "", snap_at[k]);
    fprintf(f, "\n# lab_args=");
    for (int i = 0; i < o->nlab_args; i++) {
        record_escape(buf, sizeof buf, o->lab_args[i]);
        fprintf(f, "%s%s", i ? " " : "", buf);
    }
    const struct site *t = top_site();
    fprintf(f, "\n# exit_definitely_lost=%lld\n# exit_indirectly_lost=%lld\n"
            "# exit_possibly_lost=%lld\n# exit_still_reachable=%lld\n",
            at_exit.definite, at_exit.indirect, at_exit.possible,
            at_exit.reachable);
    if (t) {
        record_escape(buf, sizeof buf, t->name);
        fprintf(f, "# top_site=%s\n", buf);
        record_escape(buf, sizeof buf, t->where);
        fprintf(f, "# top_location=%s\n# verdict=%s\n", buf,
                t->leak ? "leak" : "none");
    }
    fprintf(f, "rank\tsite\tlocation\tkind");
    for (int k = 1; k <= nsnap; k++)
        fprintf(f, "\tblocks_%d\tbytes_%d", k, k);
    for (int k = 1; k < nsnap; k++)
        fprintf(f, "\tdelta_%d\tsize_delta_%d\tnew_%d\tdeleted_%d"
                "\talloc_size_%d\tfreed_size_%d", k, k, k, k, k, k);
    fprintf(f, "\txt_bytes_%d\tleak\n", nsnap);
    for (int i = 0; i < nsites; i++) {
        const struct site *s = &sites[i];
        char name[600], where[PATH_MAX * 4], kinds[160];
        record_escape(name, sizeof name, s->name);
        record_escape(where, sizeof where, s->where);
        fprintf(f, "%d\t%s\t%s\t%s", i + 1, name, where,
                kind_words(s, kinds, sizeof kinds));
        for (int k = 0; k < nsnap; k++)
            fprintf(f, "\t%lld\t%lld", s->blocks[k], s->bytes[k]);
        for (int k = 1; k < nsnap; k++) {
            long long delta = s->blocks[k] - s->blocks[k - 1];
            long long size = s->bytes[k] - s->bytes[k - 1];
            long long news = s->tot_blocks[k] - s->tot_blocks[k - 1];
            long long alloc = s->tot_bytes[k] - s->tot_bytes[k - 1];
            long long xdelta = s->xt_blocks[k] - s->xt_blocks[k - 1];
            long long xsize = s->xt_bytes[k] - s->xt_bytes[k - 1];
            fprintf(f, "\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld", delta, size,
                    news, news - xdelta, alloc, alloc - xsize);
        }
        fprintf(f, "\t%lld\t%s\n", s->xt_bytes[nsnap - 1],
                s->leak ? "leak?" : "");
    }
    bool bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int err = errno ? errno : EIO;
        unlink(tmp);
        errno = err;
        fail(path);
    }
}

/* ------------------------------------------------------------------------
 * The records' directory, its lock, and our scratch
 * --------------------------------------------------------------------- */

/* Makes DIR and DIR/labN (DIR/NAME for a PATH), takes its .lock as
 * `leaklab run` does (for the rest of our life), and puts it in dir.
 * Exits 1 if another runner holds it. */
static void lock_out(const struct hunt_options *o, char *dir, size_t len)
{
    if (mkdir(o->out, 0755) < 0 && errno != EEXIST)
        fail(o->out);
    join(dir, len, o->out, o->name);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        fail(dir);
    char lock[PATH_MAX];
    join(lock, sizeof lock, dir, ".lock");
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        fail(lock);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK)
            fail(lock);
        char where[PATH_MAX * 4];
        record_escape(where, sizeof where, dir);
        fprintf(stderr, "leaklab hunt: %s in use by another leaklab; wait "
                "for it, or give another --out\n", where);
        exit(EXIT_ERROR);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        fail(lock);
    // cppcheck-suppress resourceLeak ; the lock is the open file: kept
}

/* Makes our scratch directory: under $TMPDIR, or /tmp if that name has
 * white space (a monitor command splits its file name at spaces). */
static void make_tmp(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base || strpbrk(base, " \t\n") ||
        strlen(base) > PATH_MAX - 64)
        base = "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/leaklab-hunt-XXXXXX", base);
    if (mkdtemp(tmp_dir) == NULL) {
        int err = errno;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", tmp_dir);
        tmp_dir[0] = '\0';
        errno = err;
        fail(path);
    }
}

/* $LEAKLAB_VG_AT for the probe, into buf: --at's list, or "spread:K"
 * for --snapshots K, which the probe spreads over the lab's own
 * --iterations (the hunt learns where from the markers in the log). */
static void env_at(const struct hunt_options *o, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "LEAKLAB_VG_AT=");
    if (o->nat == 0) {
        snprintf(buf + used, len - used, "spread:%ld", o->snapshots);
        return;
    }
    for (int k = 0; k < o->nat; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%ld",
                                 k ? "," : "", o->at[k]);
}

/* Reads the iterations of the markers in memcheck's log, in order, into
 * snap_at. */
static void markers(const char *log)
{
    FILE *f = fopen(log, "r");
    if (f == NULL)
        fail(log);
    char *line = NULL;
    size_t cap = 0;
    nsnap = 0;
    while (getline(&line, &cap, f) > 0) {
        const char *m = strstr(line, "** leaklab snapshot at iteration ");
        if (m && nsnap < MAX_SNAPS)
            snap_at[nsnap++] = strtol(m + 33, NULL, 10);
    }
    free(line);
    fclose(f);
}

/* ------------------------------------------------------------------------
 * The two tools
 * --------------------------------------------------------------------- */

/* The lab's own command line under a tool: prefix..., the lab, --mode,
 * --quiet, the lab arguments. Returns a NULL-terminated array. */
static char **lab_argv(char **prefix, int nprefix, const struct lab_facts *L,
                       const struct hunt_options *o, const char *mode)
{
    char **argv = must_alloc((size_t)(nprefix + o->nlab_args + 6) *
                             sizeof *argv);
    int n = 0;
    for (int i = 0; i < nprefix; i++)
        argv[n++] = prefix[i];
    argv[n++] = (char *)L->path;
    argv[n++] = "--mode";
    argv[n++] = (char *)mode;
    argv[n++] = "--quiet";
    for (int i = 0; i < o->nlab_args; i++)
        argv[n++] = o->lab_args[i];
    argv[n] = NULL;
    return argv;
}

/* The memcheck hunt. Returns the exit code. */
static int hunt_memcheck(const struct lab_facts *L,
                         const struct hunt_options *o, const char *mode,
                         const char *dir)
{
    char log[PATH_MAX], err[PATH_MAX], xtfile[PATH_MAX], fullpath[PATH_MAX +
                                                                   32];
    join(log, sizeof log, tmp_dir, "memcheck.log");
    join(err, sizeof err, tmp_dir, "stderr.txt");
    join(xtfile, sizeof xtfile, tmp_dir, "at-exit.%p");
    char log_opt[PATH_MAX + 32], xt_opt[PATH_MAX + 32];
    snprintf(log_opt, sizeof log_opt, "--log-file=%s", log);
    snprintf(xt_opt, sizeof xt_opt, "--xtree-memory-file=%s", xtfile);
    snprintf(fullpath, sizeof fullpath, "--fullpath-after=%s/", L->root);
    /* --show-below-main=yes keeps the frames below main in each stack.
     * It is not for the reader: without it Valgrind 3.19 trims each stack
     * at main, and the trimming can go wrong for a thread's short stack
     * (lab 7's server thread) once it has seen a deep main. It then reads
     * before the stack, and xtmemory recurses until Valgrind's own stack
     * runs out: a SIGSEGV in about 6 hunts of lab 7 in 1000. */
    char *prefix[] = {"valgrind", "--tool=memcheck", "--leak-check=summary",
                      "--xtree-memory=full", xt_opt, "--num-callers=40",
                      "--show-below-main=yes", log_opt,
                      L->root[0] ? fullpath : "--fullpath-after="};
    char **argv = lab_argv(prefix, sizeof prefix / sizeof prefix[0], L, o,
                           mode);
    char monitor[PATH_MAX + 128], at[MAX_SNAPS * 12 + 32];
    snprintf(monitor, sizeof monitor, "LEAKLAB_VG_MONITOR=leak_check full "
             "reachable any\nxtmemory %s/xt-{iter}.ms", tmp_dir);
    env_at(o, at, sizeof at);
    char *env[] = {monitor, at, NULL};
    char kept[PATH_MAX], name[256], line[1024];
    snprintf(name, sizeof name, "%s-hunt.log", mode);
    join(kept, sizeof kept, dir, name);
    int status = run_tool(argv, env, NULL, err, o->timeout_s);
    free(argv);
    check_run(status, "valgrind", err, log, kept);

    markers(log);
    if (nsnap < 2)
        give_up("memcheck took %d snapshot%s of %s %s: too few to "
                "compare (does --at name iterations the lab runs? "
                "--iterations is the lab's, after --; a program that "
                "runs once over its input needs --at)", nsnap,
                nsnap == 1 ? "" : "s", o->name, mode);
    int found = read_memcheck_log(log, snap_at, nsnap);
    for (int k = 0; k < nsnap; k++) {
        char xt[PATH_MAX], xt_name[64];
        snprintf(xt_name, sizeof xt_name, "xt-%ld.ms", snap_at[k]);
        join(xt, sizeof xt, tmp_dir, xt_name);
        if (!read_xtree(xt, k))
            give_up("memcheck wrote no xtmemory report at iteration %ld",
                    snap_at[k]);
    }
    if (found != nsnap)
        give_up("memcheck's log has %d of its %d snapshots", found, nsnap);
    compare();

    char tsv[PATH_MAX];
    snprintf(name, sizeof name, "%s-hunt.tsv", mode);
    join(tsv, sizeof tsv, dir, name);
    write_tsv(tsv, L, o, mode);
    copy_file(log, kept);
    if (!o->quiet)
        print_table(L->title, mode, o->name, o->nat == 0);
    printf("%s %s: %s\n", o->name, mode, verdict(line, sizeof line));
    if (!o->quiet) {
        char a[32], b[32], c[32], d[32];
        printf("memcheck at exit: definitely lost %s, indirectly lost %s, "
               "possibly lost %s, still reachable %s%s\n",
               human(at_exit.definite, false, a, sizeof a),
               human(at_exit.indirect, false, b, sizeof b),
               human(at_exit.possible, false, c, sizeof c),
               human(at_exit.reachable, false, d, sizeof d),
               at_exit.seen ? "" : " (no summary found)");
        printf("records: %s (every column), %s (memcheck's report)\n", tsv,
               kept);
    }
    return EXIT_DONE;
}

/* One entry of heaptrack_print's PEAK or LEAKS list: its first line
 * ("15.74M peak memory consumed over 175 calls from") and its first
 * frame in the project. */
struct ht_entry {
    char head[256];               /* the amount, as heaptrack says it */
    char fn[256];                 /* the project's function, or "" */
    char where[PATH_MAX];         /* its "at FILE:LINE" */
};

/* Reads the first want entries of section (e.g. "PEAK MEMORY CONSUMERS")
 * in heaptrack_print's output at path. Returns how many it read. */
static int read_heaptrack(const char *path, const char *section,
                          struct ht_entry *out, int want)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail(path);
    char *line = NULL, fn[256] = "";
    size_t cap = 0;
    int n = -1;
    bool in = false;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (!in) {
            in = strcmp(line, section) == 0;
            continue;
        }
        if (line[0] >= 'A' && line[0] <= 'Z' && strchr(line, ' ') &&
            strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ") == strlen(line))
            break;                        /* the next section */
        size_t len = strlen(line);
        if (line[0] >= '0' && line[0] <= '9' && len > 5 &&
            strcmp(line + len - 5, " from") == 0) {
            if (++n == want)
                break;
            out[n] = (struct ht_entry){0};
            snprintf(out[n].head, sizeof out[n].head, "%s", line);
            continue;
        }
        if (n < 0 || out[n].fn[0])
            continue;
        const char *p = line + strspn(line, " ");
        if (strncmp(p, "at ", 3) == 0) {
            char file[PATH_MAX];
            snprintf(file, sizeof file, "%s", p + 3);
            char *colon = strrchr(file, ':');
            if (colon)
                *colon = '\0';
            if (in_project(file)) {
                snprintf(out[n].fn, sizeof out[n].fn, "%s", fn);
                snprintf(out[n].where, sizeof out[n].where, "%s", p + 3);
            }
        } else if (strncmp(p, "in ", 3) != 0 && *p) {
            snprintf(fn, sizeof fn, "%s", p);
        }
    }
    free(line);
    fclose(f);
    return n + 1 < want ? n + 1 : want;
}

/* The heaptrack cross-check. Returns the exit code. */
static int hunt_heaptrack(const struct lab_facts *L,
                          const struct hunt_options *o, const char *mode,
                          const char *dir)
{
    char data[PATH_MAX], err[PATH_MAX], printed[PATH_MAX];
    join(data, sizeof data, tmp_dir, "run");
    join(err, sizeof err, tmp_dir, "stderr.txt");
    join(printed, sizeof printed, tmp_dir, "print.txt");
    char *prefix[] = {"heaptrack", "-o", data};
    char **argv = lab_argv(prefix, 3, L, o, mode);
    char *env[] = {NULL};
    int status = run_tool(argv, env, NULL, err, o->timeout_s);
    free(argv);
    check_run(status, "heaptrack", err, NULL, NULL);
    char file[PATH_MAX + 8];
    struct stat st;
    snprintf(file, sizeof file, "%s.zst", data);
    if (stat(file, &st) != 0)
        snprintf(file, sizeof file, "%s.gz", data);
    char *print_argv[] = {"heaptrack_print", "--file", file,
                          "--print-peaks", "1", "--print-leaks", "1",
                          "--print-allocators", "0", "--print-temporary",
                          "0", "--peak-limit", "10", NULL};
    status = run_tool(print_argv, env, printed, err, o->timeout_s);
    check_run(status, "heaptrack_print", err, NULL, NULL);

    char kept[PATH_MAX], name[256];
    snprintf(name, sizeof name, "%s-heaptrack.txt", mode);
    join(kept, sizeof kept, dir, name);
    copy_file(printed, kept);
    struct ht_entry peak[10], leaks[10];
    int np = read_heaptrack(printed, "PEAK MEMORY CONSUMERS", peak, 10);
    int nl = read_heaptrack(printed, "MEMORY LEAKS", leaks, 10);
    const struct ht_entry *top = NULL;
    for (int i = 0; i < np && !top; i++)
        if (peak[i].fn[0])
            top = &peak[i];
    if (!o->quiet) {
        printf("%s %s under heaptrack: the sites in the project, as "
               "heaptrack_print names them\n", o->name, mode);
        for (int i = 0; i < np; i++)
            if (peak[i].fn[0])
                printf("  peak:  %s %s (%s)\n", peak[i].head, peak[i].fn,
                       peak[i].where);
        for (int i = 0; i < nl; i++)
            if (leaks[i].fn[0])
                printf("  exit:  %s %s (%s)\n", leaks[i].head, leaks[i].fn,
                       leaks[i].where);
    }
    printf("%s %s: heaptrack's largest peak in the project is %s%s%s%s\n",
           o->name, mode, top ? top->fn : "(none)", top ? " (" : "",
           top ? top->where : "", top ? ")" : "");
    if (!o->quiet)
        printf("records: %s (heaptrack_print's whole report)\n", kept);
    return EXIT_DONE;
}

/* ------------------------------------------------------------------------
 * leaklab hunt
 * --------------------------------------------------------------------- */

int hunt_main(int argc, char **argv)
{
    struct hunt_options o;
    if (!parse_options(argc, argv, &o))
        return EXIT_DONE;
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    static struct lab_facts L;
    find_lab(&o, &L);
    describe(&L);
    long n;
    if (o.number < 0 && !(L.lab && parse_long(L.lab, 0, 9999, &n)))
        give_up("%s --describe: lab=%s; expected a lab number", L.path,
                L.lab ? L.lab : "(none)");
    if (o.number < 0)
        o.number = (int)n;            /* a PATH's lab=, as run reads it */
    project_root = L.root;
    const char *mode = o.mode ? o.mode : L.showcase ? L.showcase : L.modes;
    char first[128];
    if (mode == L.modes) {
        snprintf(first, sizeof first, "%.*s", (int)strcspn(mode, ","), mode);
        mode = first;
    }
    if (strlen(mode) > 64 || strchr(mode, '/') || !has_mode(L.modes, mode))
        usage_error("unknown mode '%s' for %s: want one of %s", mode,
                    o.name, L.modes);
    if (L.sanitizer && strcmp(L.sanitizer, "none") != 0)
        usage_error("%s is built with a sanitizer (%s), which %s cannot "
                    "run: hunt with the plain build", L.path, L.sanitizer,
                    o.tool);
    char dir[PATH_MAX];
    lock_out(&o, dir, sizeof dir);
    make_tmp();
    int rc = strcmp(o.tool, "heaptrack") == 0
                 ? hunt_heaptrack(&L, &o, mode, dir)
                 : hunt_memcheck(&L, &o, mode, dir);
    remove_tmp();
    return rc;
}

/* ------------------------------------------------------------------------
 * The runner's memwatch-style signal
 *
 * memwatch, the first seed's other tool, emits 'leak' when the heap has
 * grown after each of 5 consecutive full garbage collections. V8 runs
 * those seldom: a few over a run, not one per request. So the runner
 * looks at a run's record as memwatch would: at 20 rows spread evenly
 * over it (every row, for a run of 20 rows or fewer), and suspects a
 * leak where column grew at 5 of those looks in a row. A queue that
 * fills to its limit and stays there (lab 4's bounded) grows at one or
 * two looks; a table that only grows, at every one.
 *
 * Growth means more than LOOK_MIN_KIB. A heap nobody adds to still
 * creeps: V8 compiles and caches as a program runs, and a flat Node twin's
 * heapUsed rose by up to 13 KiB between looks, 5 in a row, which a bare
 * "grew" took for a leak. The smallest real leak the labs record grows by
 * more than three times that (lab 6's Node Map, about 44 KiB a look).
 * --------------------------------------------------------------------- */

enum { LOOK_MIN_KIB = 16 };   /* growth between two looks, to count */

long leak_suspected_at(const char *tsv, const char *column)
{
    FILE *f = fopen(tsv, "r");
    if (f == NULL)
        return -1;
    long long *value = NULL;
    long *iter = NULL;
    size_t rows = 0, cap = 0;
    int col = -1, iter_col = -1;
    char *line = NULL;
    size_t len = 0;
    while (getline(&line, &len, f) > 0) {
        if (line[0] == '#')
            continue;
        int c = 0;
        long long v = -1;
        long it = -1;
        char *save = NULL;
        bool header = col < 0;
        for (char *tok = strtok_r(line, "\t\n", &save); tok;
             tok = strtok_r(NULL, "\t\n", &save), c++) {
            if (header && strcmp(tok, column) == 0)
                col = c;
            else if (header && strcmp(tok, "iter") == 0)
                iter_col = c;
            else if (!header && c == col)
                v = strtoll(tok, NULL, 10);
            else if (!header && c == iter_col)
                it = strtol(tok, NULL, 10);
        }
        if (header) {
            if (col < 0 || iter_col < 0)
                break;
            continue;
        }
        if (rows == cap) {
            cap = cap ? 2 * cap : 256;
            long long *v2 = realloc(value, cap * sizeof *v2);
            long *i2 = v2 ? realloc(iter, cap * sizeof *i2) : NULL;
            if (v2)
                value = v2;
            if (i2 == NULL)
                break;
            iter = i2;
        }
        value[rows] = v;
        iter[rows++] = it;
    }
    free(line);
    fclose(f);
    long at = -1;
    size_t step = rows / 20 > 0 ? rows / 20 : 1;
    for (size_t r = step, grew = 0; r < rows && at < 0; r += step) {
        grew = value[r] - value[r - step] > LOOK_MIN_KIB ? grew + 1 : 0;
        if (grew == 5)
            at = iter[r];
    }
    free(value);
    free(iter);
    return at;
}
