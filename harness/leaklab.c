/*
 * leaklab - runs the labs under a memory cap and writes what happened.
 *
 *   leaklab list
 *   leaklab run N [--mode M] [--cap SIZE] [--cap-kind rlimit|kill|none]
 *                 [--timeout SEC] [--out DIR] [--quiet] [-- LAB ARGS...]
 *
 * It knows nothing about any lab in advance. It finds build/labN next to
 * itself and asks each one `labN --describe` for its title, its modes and
 * the wall each mode wants to hit. For every run it writes DIR/labN/M.tsv
 * (the lab writes it, through $LEAKLAB_TSV) and DIR/labN/M.meta (we write
 * it, from wait4), whose `verdict` says how the run ended.
 *
 * The caps:
 *   rlimit  RLIMIT_AS on the lab: past it, malloc returns NULL and the lab
 *           can react (print, exit 3).
 *   kill    a watchdog polls the lab's rss every millisecond and SIGKILLs
 *           it over the cap: no message, no cleanup, as an OOM killer or a
 *           container limit does it.
 *   none    no cap at all; only when asked for by name.
 * Every run is capped unless told otherwise: the default is rlimit at the
 * smaller of 2 GiB and a quarter of physical memory.
 *
 * The lab runs in a process group of its own, so that a timeout kills all
 * of it; the terminal's Ctrl-C and Ctrl-Z reach only us, and we pass them
 * on: Ctrl-C kills the lab (no .meta: the run did not end by itself),
 * Ctrl-Z pauses it with us, and its timeout with it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"

#define TICK_NS 1000000L   /* watchdog and wait loop: one millisecond */

/* ------------------------------------------------------------------------
 * Messages and exits (the same codes as the labs)
 * --------------------------------------------------------------------- */

static noreturn void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("leaklab: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

static noreturn void fail(const char *path)
{
    fprintf(stderr, "leaklab: %s: %s\n", path, strerror(errno));
    exit(EXIT_ERROR);
}

static void print_help(void)
{
    printf(
"Usage: leaklab list\n"
"       leaklab run N [OPTIONS] [-- LAB-ARGS...]\n"
"\n"
"Runs build/labN under a memory cap and records each run in\n"
"DIR/labN/MODE.tsv (memory per iteration) and DIR/labN/MODE.meta (how it\n"
"ended: verdict=finished|limit|killed|timeout|crashed).\n"
"\n"
"Options for run:\n"
"  -m, --mode MODE        run one mode (default: every mode in turn)\n"
"  -c, --cap SIZE         memory cap, K/M/G suffixes (default: the mode's\n"
"                         classroom cap, else the smaller of 2G and a\n"
"                         quarter of physical memory)\n"
"  -k, --cap-kind KIND    rlimit (malloc returns NULL), kill (SIGKILL over\n"
"                         the cap) or none (default: what the mode asks)\n"
"  -t, --timeout SEC      kill the lab's process group after SEC seconds\n"
"                         of running (default 120; a Ctrl-Z pause does\n"
"                         not count)\n"
"  -o, --out DIR          where records go (default out)\n"
"  -q, --quiet            hide the lab's stdout (its stderr still shows)\n"
"  -h, --help             this text\n"
"\n"
"Exit codes: 0 every run was recorded (whatever its verdict), 1 runtime\n"
"error, 2 bad usage.\n");
}

/* ------------------------------------------------------------------------
 * What a lab says about itself (labN --describe)
 * --------------------------------------------------------------------- */

/* One lab binary and its parsed --describe line. */
struct lab_desc {
    int number;                 /* N */
    char path[PATH_MAX];        /* build/labN */
    char line[16384];           /* the raw line; keys and vals point in */
    char *key[128], *val[128];  /* tab-separated key=value pairs */
    int n;                      /* how many pairs */
};

/* Returns the value for key, or NULL. */
static const char *desc_get(const struct lab_desc *d, const char *key)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->key[i], key) == 0)
            return d->val[i];
    return NULL;
}

/* Returns desc_get(d, "prefix.mode"), or NULL. */
static const char *desc_mode(const struct lab_desc *d, const char *prefix,
                             const char *mode)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", prefix, mode);
    return desc_get(d, key);
}

/* The directory leaklab itself lives in: build/, or build/asan/. */
static void build_dir(char *dir, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n < 0)
        fail("/proc/self/exe");
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
}

/* Runs `path --describe` and parses its line into d. Returns false (with
 * a message on stderr) if the lab cannot run or says nothing useful. */
static bool describe(const char *path, int number, struct lab_desc *d)
{
    int fd[2];
    if (pipe(fd) < 0)
        fail("pipe");
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execl(path, path, "--describe", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    /* Ctrl-C interrupts these calls (our handlers do not restart them);
     * carry on, and let the flag stop us before the next run. */
    size_t len = 0;
    ssize_t got;
    while ((got = read(fd[0], d->line + len, sizeof d->line - 1 - len)) > 0 ||
           (got < 0 && errno == EINTR))
        len += got > 0 ? (size_t)got : 0;
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    d->line[len] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0) {
        fprintf(stderr, "leaklab: %s --describe failed\n", path);
        return false;
    }
    d->number = number;
    snprintf(d->path, sizeof d->path, "%s", path);
    d->n = 0;
    char *save, *field = strtok_r(d->line, "\t\n", &save);
    for (; field && d->n < 128; field = strtok_r(NULL, "\t\n", &save)) {
        char *eq = strchr(field, '=');
        if (!eq)
            continue;
        *eq = '\0';
        d->key[d->n] = field;
        d->val[d->n++] = eq + 1;
    }
    return desc_get(d, "modes") != NULL;
}

/* Is name "lab" followed by digits only? Returns the number, or -1. */
static int lab_number(const char *name)
{
    long n;
    if (strncmp(name, "lab", 3) != 0 || !parse_long(name + 3, 0, 9999, &n))
        return -1;
    return name[3] == '0' && name[4] ? -1 : (int)n;  /* no "lab01" */
}

/* qsort's order for lab numbers. */
static int compare_ints(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* leaklab list: a line per built lab, in number order. Returns 0; exits 1
 * if the build directory cannot be read. */
static int cmd_list(void)
{
    char dir[PATH_MAX];
    build_dir(dir, sizeof dir);
    DIR *dp = opendir(dir);
    if (!dp)
        fail(dir);
    int numbers[256], count = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL && count < 256) {
        int n = lab_number(e->d_name);
        if (n >= 0)
            numbers[count++] = n;
    }
    closedir(dp);
    qsort(numbers, count, sizeof numbers[0], compare_ints);
    static struct lab_desc d;
    for (int i = 0; i < count; i++) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/lab%d", dir, numbers[i]);
        if (describe(path, numbers[i], &d))
            printf("lab%d\t%s\tmodes: %s\n", numbers[i],
                   desc_get(&d, "title"), desc_get(&d, "modes"));
    }
    return EXIT_DONE;
}

/* Everything one run needs to know. */
struct run_plan {
    const struct lab_desc *lab;  /* which lab */
    const char *mode;            /* which mode */
    uint64_t cap;                /* bytes; 0 with cap_kind "none" */
    const char *cap_kind;        /* "rlimit", "kill" or "none" */
    long timeout_s;              /* whole-group SIGKILL after this */
    const char *out;             /* DIR */
    bool quiet;                  /* lab stdout to /dev/null */
    char **lab_args;             /* after "--" */
    int nlab_args;               /* how many */
};

/* ------------------------------------------------------------------------
 * Signals: the lab runs in its own process group (so that a timeout can
 * kill all of it), which puts it out of reach of the terminal's Ctrl-C and
 * Ctrl-Z. These handlers pass both on.
 * --------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;  /* SIGINT, SIGTERM or SIGHUP */
static volatile sig_atomic_t lab_group;    /* the running lab's, or 0 */
static volatile sig_atomic_t resumed;      /* SIGCONT since the last look */

/* Installs handler for sig, without SA_RESTART: a Ctrl-C must wake the
 * wait loop's nanosleep, not wait for it. Async-signal-safe. */
static void handle(int sig, void (*handler)(int))
{
    struct sigaction sa = {.sa_handler = handler};
    sigaction(sig, &sa, NULL);
}

/* Ctrl-C: the wait loop sees the flag and takes the lab down with us. */
static void on_interrupt(int sig) { interrupted = sig; }

/* Ctrl-Z: stop the lab too, then ourselves. A lab left running would go
 * on growing while our watchdog and our timer are stopped. */
static void on_stop(int sig)
{
    int saved = errno;
    if (lab_group > 0)
        kill(-lab_group, SIGSTOP);
    handle(sig, SIG_DFL);
    raise(sig);        /* blocked until this handler returns: then we stop */
    errno = saved;
}

/* fg or bg: the lab goes on when we do, and Ctrl-Z is ours again. */
static void on_continue(int sig)
{
    (void)sig;
    int saved = errno;
    if (lab_group > 0)
        kill(-lab_group, SIGCONT);
    handle(SIGTSTP, on_stop);
    resumed = 1;
    errno = saved;
}

/* Blocks (SIG_BLOCK) or unblocks (SIG_UNBLOCK) the signals above. */
static void mask_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGCONT);
    sigprocmask(how, &set, NULL);
}

/* Ctrl-C, kill and hangup mark us interrupted; Ctrl-Z and fg are passed
 * on to the running lab. */
static void install_handlers(void)
{
    handle(SIGINT, on_interrupt);
    handle(SIGTERM, on_interrupt);
    handle(SIGHUP, on_interrupt);
    handle(SIGTSTP, on_stop);
    handle(SIGCONT, on_continue);
}

/* ------------------------------------------------------------------------
 * Running one mode
 * --------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Reads the resident set of pid, in bytes, through an open statm fd.
 * Returns 0 if it cannot be read (the process is gone). */
static uint64_t rss_bytes(int statm_fd)
{
    char buf[128];
    ssize_t n = pread(statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strchr(buf, ' ');
    return p ? strtoull(p + 1, NULL, 10) * (uint64_t)sysconf(_SC_PAGESIZE)
             : 0;
}

/* mkdir that is fine with a directory that exists. Exits 1 on failure. */
static void make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        fail(path);
}

/* Runs one mode to the end and writes its .meta. Returns 0, or exits 1 on
 * a runtime failure of our own (fork, the output directory). */
static int run_one(const struct run_plan *plan)
{
    const struct lab_desc *lab = plan->lab;
    char dir[PATH_MAX], tsv[PATH_MAX + 64], meta[PATH_MAX + 64];
    make_dir(plan->out);
    snprintf(dir, sizeof dir, "%s/lab%d", plan->out, lab->number);
    make_dir(dir);
    snprintf(tsv, sizeof tsv, "%s/%s.tsv", dir, plan->mode);
    snprintf(meta, sizeof meta, "%s/%s.meta", dir, plan->mode);
    /* Stale records must never outlive a failed run: a lab that exits
     * before it opens its TSV must not leave last run's rows in place. */
    unlink(meta);
    unlink(tsv);

    if (interrupted)                 /* Ctrl-C between two runs */
        exit(128 + interrupted);

    char *argv[plan->nlab_args + 4];
    int argc = 0;
    argv[argc++] = (char *)lab->path;
    argv[argc++] = "--mode";
    argv[argc++] = (char *)plan->mode;
    for (int i = 0; i < plan->nlab_args; i++)
        argv[argc++] = plan->lab_args[i];
    argv[argc] = NULL;

    fflush(stdout);
    double t0 = now_ms();
    /* No signal may come between the fork and lab_group naming the new
     * group: a Ctrl-Z there would stop us and leave the lab running. */
    mask_signals(SIG_BLOCK);
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        setpgid(0, 0);   /* its own group, so a timeout takes all of it */
        handle(SIGINT, SIG_DFL);   /* exec resets our handlers, but a  */
        handle(SIGTERM, SIG_DFL);  /* signal pending now would arrive  */
        handle(SIGHUP, SIG_DFL);   /* before exec, at the unblock      */
        handle(SIGTSTP, SIG_DFL);
        handle(SIGCONT, SIG_DFL);
        mask_signals(SIG_UNBLOCK);
        setenv("LEAKLAB_TSV", tsv, 1);
        if (plan->quiet) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0)
                dup2(null, STDOUT_FILENO);
        }
        if (strcmp(plan->cap_kind, "rlimit") == 0) {
            struct rlimit rl = {plan->cap, plan->cap};
            if (setrlimit(RLIMIT_AS, &rl) < 0) {
                perror("leaklab: setrlimit(RLIMIT_AS)");
                _exit(126);
            }
        }
        setenv("LEAKLAB_CAP", plan->cap_kind, 1);  /* no cap of its own */
        execv(lab->path, argv);
        fprintf(stderr, "leaklab: %s: %s\n", lab->path, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);   /* same as the child's; whichever runs first */
    lab_group = pid;
    resumed = 0;
    mask_signals(SIG_UNBLOCK);

    /* The watchdog reads the lab's rss here. The lab is our unreaped
     * child, so /proc/PID exists until we wait for it: a failure is ours
     * (out of fds), and a kill cap must never quietly become no cap. */
    bool watch = strcmp(plan->cap_kind, "kill") == 0;
    char statm_path[64];
    snprintf(statm_path, sizeof statm_path, "/proc/%d/statm", (int)pid);
    int statm_fd = open(statm_path, O_RDONLY | O_CLOEXEC);
    if (statm_fd < 0 && watch) {
        int err = errno;
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        errno = err;
        fail(statm_path);
    }
    const char *killed_by = NULL;
    uint64_t watchdog_rss = 0;
    /* The timeout counts the time the lab could run: not a Ctrl-Z pause. */
    double ran_ms = 0, last = t0;

    int status = 0;
    struct rusage ru = {0};
    for (;;) {
        pid_t done = wait4(pid, &status, WNOHANG, &ru);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR) {
            int err = errno;
            kill(-pid, SIGKILL);     /* never leave it running unwatched */
            errno = err;
            fail("wait4");
        }
        if (interrupted) {           /* Ctrl-C: take the lab down with us */
            kill(-pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fprintf(stderr, "leaklab: interrupted; lab%d %s stopped\n",
                    lab->number, plan->mode);
            exit(128 + interrupted);
        }
        if (killed_by == NULL && watch && statm_fd >= 0) {
            uint64_t rss = rss_bytes(statm_fd);
            if (rss > plan->cap) {
                kill(-pid, SIGKILL);
                killed_by = "watchdog";
                watchdog_rss = rss;
            }
        }
        double now = now_ms();
        if (resumed)
            resumed = 0;             /* this tick held the pause */
        else
            ran_ms += now - last;
        last = now;
        if (killed_by == NULL && ran_ms > plan->timeout_s * 1e3) {
            kill(-pid, SIGKILL);
            killed_by = "timeout";
        }
        struct timespec tick = {0, TICK_NS};
        nanosleep(&tick, NULL);
    }
    lab_group = 0;
    double wall = now_ms() - t0;
    if (statm_fd >= 0)
        close(statm_fd);

    const char *verdict;
    if (WIFEXITED(status))
        verdict = WEXITSTATUS(status) == EXIT_DONE ? "finished"
                : WEXITSTATUS(status) == EXIT_WALL ? "limit"
                                                   : "crashed";
    else if (killed_by && strcmp(killed_by, "timeout") == 0)
        verdict = "timeout";
    else if (WTERMSIG(status) == SIGKILL)
        verdict = "killed";   /* our watchdog, or the kernel's OOM killer */
    else
        verdict = "crashed";

    /* Write the meta beside, then rename: readers see all of it or none. */
    char tmp[PATH_MAX + 80];
    snprintf(tmp, sizeof tmp, "%s.tmp", meta);
    FILE *f = fopen(tmp, "w");
    if (!f)
        fail(tmp);
    fprintf(f, "lab=%d\nmode=%s\ntitle=%s\ncaption=%s\nargv=", lab->number,
            plan->mode, desc_get(lab, "title"),
            desc_mode(lab, "caption", plan->mode));
    for (int i = 0; i < argc; i++)
        fprintf(f, "%s%s", i ? " " : "", argv[i]);
    fprintf(f, "\ntsv=%s\ncap_bytes=%llu\ncap_kind=%s\n", tsv,
            (unsigned long long)plan->cap, plan->cap_kind);
    if (WIFEXITED(status))
        fprintf(f, "exit_code=%d\n", WEXITSTATUS(status));
    else
        fprintf(f, "signal=%d\nsignal_name=SIG%s\n", WTERMSIG(status),
                sigabbrev_np(WTERMSIG(status)));
    const char *wall_text = desc_mode(lab, "wall", plan->mode);
    if (wall_text && strcmp(verdict, "limit") == 0)
        fprintf(f, "wall=%s\n", wall_text);
    if (killed_by)
        fprintf(f, "killed_by=%s\n", killed_by);
    if (watchdog_rss)
        fprintf(f, "watchdog_rss_kib=%llu\n",
                (unsigned long long)(watchdog_rss / 1024));
    fprintf(f, "peak_rss_kib=%ld\nwall_ms=%.0f\nverdict=%s\n", ru.ru_maxrss,
            wall, verdict);
    bool write_failed = ferror(f);   /* a full disk, seen at any fprintf */
    if (fclose(f) != 0 || write_failed)
        fail(tmp);
    if (rename(tmp, meta) < 0)
        fail(meta);

    /* wait4's peak and the watchdog's reading are two samples of the
     * kernel's batched rss counter; a killed run shows both, so that a peak
     * a hair under the cap does not look like a kill for nothing. */
    printf("lab%d %-8s %-8s peak rss %7.1f MiB  cap %s %.0f MiB", lab->number,
           plan->mode, verdict, ru.ru_maxrss / 1024.0, plan->cap_kind,
           mib(plan->cap));
    if (watchdog_rss)
        printf(" (watchdog saw %.1f MiB)", mib(watchdog_rss));
    printf("  -> %s\n", tsv);
    return 0;
}

/* ------------------------------------------------------------------------
 * leaklab run
 * --------------------------------------------------------------------- */

/* What the machine can give right now: MemAvailable, in bytes, or 0 if
 * /proc/meminfo cannot say. */
static uint64_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return (uint64_t)kib * 1024;
}

/* leaklab run: one mode, or each in turn. Returns 0 once every run is
 * recorded (whatever its verdict), 1 if the lab cannot describe itself;
 * exits 2 on a bad argument and 1 on a failure of our own. */
static int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"cap", required_argument, NULL, 'c'},
        {"cap-kind", required_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *mode = NULL, *cap_kind = NULL, *out = "out";
    uint64_t cap = 0;
    bool cap_given = false, quiet = false;
    long timeout_s = 120;
    /* Everything after "--" belongs to the lab; getopt sees what is
     * before it, in any order ("run 2 --mode kill" or "run --mode kill 2"). */
    int nours = 0;
    while (nours < argc && strcmp(argv[nours], "--") != 0)
        nours++;
    char **lab_args = argv + nours + (nours < argc);
    int nlab_args = argc - nours - (nours < argc);

    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(nours, argv, ":m:c:k:t:o:qh", longopts, NULL)) !=
           -1) {
        switch (c) {
        case 'm': mode = optarg; break;
        case 'c':
            if (!parse_size(optarg, &cap) || cap == 0)
                usage_error("bad --cap '%s': want a size such as 256M or 2G",
                            optarg);
            cap_given = true;
            break;
        case 'k':
            if (strcmp(optarg, "rlimit") && strcmp(optarg, "kill") &&
                strcmp(optarg, "none"))
                usage_error("bad --cap-kind '%s': want rlimit, kill or none",
                            optarg);
            cap_kind = optarg;
            break;
        case 't':
            if (!parse_long(optarg, 1, 86400, &timeout_s))
                usage_error("bad --timeout '%s': want whole seconds from 1 "
                            "to 86400", optarg);
            break;
        case 'o': out = optarg; break;
        case 'q': quiet = true; break;
        case 'h': print_help(); return EXIT_DONE;
        case ':': usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                usage_error("unknown option '-%c' (see --help)", optopt);
            usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind >= nours)
        usage_error("run needs a lab number (see leaklab list)");
    const char *which = argv[optind++];
    if (optind < nours)
        usage_error("unexpected argument '%s' (lab arguments go after --)",
                    argv[optind]);
    int number = lab_number(which);
    long n;
    if (number < 0 && parse_long(which, 0, 9999, &n))
        number = (int)n;
    if (number < 0)
        usage_error("unknown lab '%s': want a number such as 1", which);

    char dir[PATH_MAX], path[PATH_MAX + 16];
    build_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/lab%d", dir, number);
    if (access(path, X_OK) != 0)
        usage_error("unknown lab '%s': %s is not built (see leaklab list)",
                    which, path);
    static struct lab_desc lab;
    if (!describe(path, number, &lab))
        return EXIT_ERROR;

    /* Which modes: one, checked against the lab's own list, or all. */
    char modes[4096];
    snprintf(modes, sizeof modes, "%s", desc_get(&lab, "modes"));
    if (mode && !desc_mode(&lab, "cap_kind", mode))
        usage_error("unknown mode '%s' for lab%d: want one of %s", mode,
                    number, modes);
    if (cap_given && cap_kind && strcmp(cap_kind, "none") == 0)
        usage_error("--cap with --cap-kind none: a cap of kind none caps "
                    "nothing; drop one of them");
    uint64_t available = mem_available();

    char *save, *m = strtok_r(modes, ",", &save);
    for (; m; m = strtok_r(NULL, ",", &save)) {
        if (mode && strcmp(m, mode) != 0)
            continue;
        struct run_plan plan = {
            .lab = &lab, .mode = m, .timeout_s = timeout_s, .out = out,
            .quiet = quiet, .lab_args = lab_args, .nlab_args = nlab_args,
        };
        plan.cap_kind = cap_kind ? cap_kind : desc_mode(&lab, "cap_kind", m);
        plan.cap = cap_given ? cap : default_cap();
        const char *classroom = desc_mode(&lab, "cap", m);
        uint64_t cc;
        if (!cap_given && classroom && parse_size(classroom, &cc))
            plan.cap = cc;
        if (strcmp(plan.cap_kind, "none") == 0)
            plan.cap = 0;
        if (plan.cap && available && plan.cap > available)
            usage_error("--cap %.0f MiB is more than this machine can give "
                        "(MemAvailable %.0f MiB); not starting lab%d %s",
                        mib(plan.cap), mib(available), number, m);
        const char *san = desc_get(&lab, "sanitizer");
        if (san && strcmp(san, "none") != 0 &&
            strcmp(plan.cap_kind, "rlimit") == 0) {
            /* ASan and TSan both map terabytes of shadow memory. */
            fprintf(stderr, "leaklab: lab%d is built with %s, "
                    "which reserves terabytes of address space, so "
                    "RLIMIT_AS cannot cap it; capping with the kill "
                    "watchdog instead\n", number,
                    strcmp(san, "thread") == 0 ? "ThreadSanitizer"
                                               : "AddressSanitizer");
            plan.cap_kind = "kill";
        }
        run_one(&plan);
    }
    return EXIT_DONE;
}

int main(int argc, char **argv)
{
    install_handlers();

    if (argc < 2)
        usage_error("missing command: want 'list' or 'run' (see --help)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help();
        return EXIT_DONE;
    }
    if (strcmp(argv[1], "list") == 0) {
        if (argc > 2)
            usage_error("unexpected argument '%s' after list", argv[2]);
        return cmd_list();
    }
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    usage_error("unknown command '%s': want 'list' or 'run'", argv[1]);
}
