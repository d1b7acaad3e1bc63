/*
 * leaklab - runs the labs under a memory cap and writes what happened.
 *
 *   leaklab list
 *   leaklab run N|PATH [--mode M] [--cap SIZE] [--cap-kind rlimit|kill|none]
 *                 [--timeout SEC] [--out DIR] [--quiet] [--node]
 *                 [-- LAB ARGS...]
 *   leaklab quiz N [--seed S] [--answer X | --show]     (quiz.c)
 *   leaklab hunt N|PATH [--mode M] [--snapshots K | --at I,J,...] ...
 *                                                          (hunt.c)
 *
 * It knows nothing about any lab in advance. It finds build/labN next to
 * itself and asks each one `labN --describe` for its title, its modes, the
 * wall each mode wants to hit and the verdict each mode expects. For every
 * run it writes DIR/labN/M.tsv (the lab writes it, through $LEAKLAB_TSV)
 * and DIR/labN/M.meta (we write it, from wait4), whose `verdict` says how
 * the run ended. Once per `leaklab run`, before the first mode, it writes
 * DIR/labN/lab.meta: what the lab described, and the caps applied (see
 * write_lab_meta for its format).
 *
 * Given a PATH instead of N (any argument with a '/' in it, such as
 * build/exercises/ex1-dispatcher), it runs that program, which answers
 * --describe as a lab does, and records it in DIR/NAME, NAME being the
 * program's file name: how `make check` runs an exercise.
 *
 * With --node it runs lab N's Node.js twin instead, labs/node/labN-*.js,
 * with node (node.c says where it finds both), exactly as it runs a lab,
 * and records it beside the C lab's runs: DIR/labN/node-M.tsv, .meta and
 * .log, and DIR/labN/node-lab.meta. V8's abort at its heap limit is that
 * run's wall: verdict limit, reason "V8 heap limit".
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
 * What the runner guarantees:
 *   - A lab dies with its runner. Even a SIGKILLed runner takes its lab
 *     down (PR_SET_PDEATHSIG): no lab goes on without its cap's watchdog
 *     or its timeout.
 *   - One runner per DIR/labN. It holds a lock (flock on DIR/labN/.lock,
 *     which holds its PID) from before the first record it touches until
 *     it exits; a second runner says who holds it and exits 1.
 *   - It exits with a verdict: 0 only when every run ended with the
 *     verdict its mode expects; 1 naming the runs that did not (or on a
 *     failure of its own); 2 on a bad argument, its own or the lab's: it
 *     stops at the first mode whose lab exits 2.
 *   - Records cannot lie. A lab argument may not set what the runner sets
 *     (--mode, --tsv, ...), nor name a record the runner replaces; every
 *     string written into a record goes through record_escape, so no
 *     argument can add a line; --describe is checked before it is used,
 *     and a lab that does not answer it within 2 s is killed.
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

#include "hunt.h"
#include "lab.h"
#include "node.h"
#include "quiz.h"

#define TICK_NS 1000000L   /* watchdog and wait loop: one millisecond */
#define DESCRIBE_MS 2000   /* how long a lab has to describe itself */
#define MAX_MODES 32       /* modes in one lab */
#define MAX_FIELDS 256     /* key=value fields in one --describe line */

/* The smallest cap the runner takes. Measured with prlimit --as on empty
 * runs (--iterations 0; lab 5 on an empty file): labs 1 to 3 start in
 * 3 MiB of address space and lab 5 in 5 MiB, each with under 2 MiB
 * resident (lab 4's two threads need 20 MiB; below that it starts, and
 * says pthread_create failed, exit 3). Under 2 MiB, not even libc can be
 * mapped: the exec fails, and the run shows nothing. 8 MiB leaves room
 * for a libc a little larger than ours. */
#define MIN_CAP (8ULL << 20)

/* ------------------------------------------------------------------------
 * Messages and exits (the same codes as the labs)
 * --------------------------------------------------------------------- */

static noreturn void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_line("leaklab", fmt, ap);
    va_end(ap);
    exit(EXIT_USAGE);
}

static noreturn void fail(const char *path)
{
    const char *why = strerror(errno);
    char line[PATH_MAX * 4 + 64];
    record_escape(line, sizeof line, path);
    fprintf(stderr, "leaklab: %s: %s\n", line, why);
    exit(EXIT_ERROR);
}

static void print_help(void)
{
    printf(
"Usage: leaklab list\n"
"       leaklab run N|PATH [OPTIONS] [-- LAB-ARGS...]\n"
"       leaklab quiz N [--seed S] [--answer X | --show]\n"
"       leaklab hunt N|PATH [OPTIONS] [-- LAB-ARGS...]  (leaklab hunt --help)\n"
"\n"
"Runs build/labN under a memory cap and records each run in\n"
"DIR/labN/MODE.tsv (memory per iteration), DIR/labN/MODE.meta (how it\n"
"ended: verdict=finished|limit|killed|timeout|crashed), DIR/labN/MODE.log\n"
"(what the lab said on stderr), and what the lab\n"
"says about itself in DIR/labN/lab.meta. The lab dies with the runner;\n"
"one runner at a time holds DIR/labN (DIR/labN/.lock).\n"
"A PATH (any argument with a '/') runs that program instead of build/labN:\n"
"one built with the lab library, such as build/exercises/ex1-dispatcher;\n"
"its records go in DIR/NAME, NAME being its file name.\n"
"\n"
"Options for run:\n"
"  -m, --mode MODE        run one mode (default: every mode in turn)\n"
"  -c, --cap SIZE         memory cap, K/M/G suffixes, at least 8M\n"
"                         (default: the mode's classroom cap, else the\n"
"                         smaller of 2G and a quarter of physical memory)\n"
"  -k, --cap-kind KIND    rlimit (malloc returns NULL), kill (SIGKILL over\n"
"                         the cap) or none (default: what the mode asks)\n"
"  -t, --timeout SEC      kill the lab's process group after SEC seconds\n"
"                         of running (default 120; a Ctrl-Z pause does\n"
"                         not count)\n"
"  -o, --out DIR          where records go (default out)\n"
"  -q, --quiet            hide the lab's stdout\n"
"  -v, --verbose          show what each lab said on stderr (it is always\n"
"                         in DIR/labN/MODE.log, and shown for a run that\n"
"                         did not end as its mode expects)\n"
"  -f, --fresh            first remove the records and charts of earlier\n"
"                         runs in DIR/labN (.tsv .meta .log .png .svg\n"
"                         .pdf .txt), under the lock; other files stay\n"
"                         (with --node, only the twin's: node-*)\n"
"      --node             run the lab's Node.js twin, labs/node/labN-*.js,\n"
"                         with node ($LEAKLAB_NODE, else node in PATH):\n"
"                         records DIR/labN/node-MODE.tsv, .meta, .log\n"
"  -h, --help             this text\n"
"LAB-ARGS may not set what the runner sets: --mode, --tsv, --describe,\n"
"--help, --quiet (nor -m, -q, -h, nor a prefix such as --mo).\n"
"\n"
"Exit codes: 0 every run ended with the verdict its mode expects (see\n"
"the lab's --describe, expect.MODE); 1 a run did not (each is named), a\n"
"lab that cannot describe itself, DIR/labN in use by another runner, or\n"
"a runtime error; 2 bad usage: ours, or the lab's (the runner stops at\n"
"the first mode whose lab exits 2).\n"
"\n"
"leaklab quiz N: predict, then run; a question on lab N whose sizes come\n"
"from your user name, or --seed (see leaklab quiz --help).\n");
}

/* ------------------------------------------------------------------------
 * Small tools: time, paths, files written whole
 * --------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* dst = "a/b". Exits 2 if it does not fit: a path cut short would name
 * another file. */
static void join(char *dst, size_t len, const char *a, const char *b)
{
    if ((size_t)snprintf(dst, len, "%s/%s", a, b) >= len)
        usage_error("path too long: '%s/%s'", a, b);
}

/* mkdir that is fine with a directory that exists. Exits 1 on failure. */
static void make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        fail(path);
}

/* Writes s to f through record_escape (lab.h). Exits 1 if out of memory. */
static void put_escaped(FILE *f, const char *s)
{
    size_t need = record_escape(NULL, 0, s);
    char *buf = malloc(need + 1);
    if (!buf)
        fail("malloc");
    record_escape(buf, need + 1, s);
    fputs(buf, f);
    free(buf);
}

/* One record line, "key=value\n", both escaped. */
static void put_field(FILE *f, const char *key, const char *value)
{
    put_escaped(f, key);
    fputc('=', f);
    put_escaped(f, value);
    fputc('\n', f);
}

/* Opens a temporary file beside path, named for this process alone
 * (path.PID.tmp), whose name goes in tmp. Exits 1 on failure. */
static FILE *open_temp(const char *path, char *tmp, size_t len)
{
    if ((size_t)snprintf(tmp, len, "%s.%d.tmp", path, (int)getpid()) >= len)
        usage_error("path too long: '%s'", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        fail(tmp);
    return f;
}

/* Closes f and renames tmp onto path: a reader sees all of it or none.
 * Exits 1, removing tmp, if any write failed (a full disk, at any
 * fprintf) or the rename does. */
static void commit_temp(FILE *f, const char *tmp, const char *path)
{
    bool write_failed = ferror(f);
    if (fclose(f) != 0 || write_failed) {
        int err = errno;
        unlink(tmp);
        errno = err ? err : EIO;
        fail(tmp);
    }
    if (rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        fail(path);
    }
}

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
    /* cppcheck-suppress unreachableCode ; raise() returns, here once
     * SIGCONT resumes us; cppcheck's library says it may not */
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

/* In a child just forked from the runner (whose pid was `runner`): the
 * kernel is to SIGKILL it when the runner dies, however the runner dies;
 * the request outlives exec. If the runner died before the request took
 * hold, nothing would ever send it: the child exits 126 at once. */
static void die_with_runner(pid_t runner)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
        perror("leaklab: prctl(PR_SET_PDEATHSIG)");
        _exit(126);
    }
    if (getppid() != runner)
        _exit(126);
}

/* Kills a process group we started and reaps its leader: for a failure
 * of ours, or a Ctrl-C, while it runs. */
static void kill_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------------
 * What a lab says about itself (labN --describe). Its line is input like
 * any other: a lab that does not answer, or answers something the runner
 * cannot use, is named and refused, never half-believed.
 * --------------------------------------------------------------------- */

/* One lab binary and its parsed --describe line. */
struct lab_desc {
    int number;                          /* N */
    char path[PATH_MAX];                 /* build/labN, or a PATH given */
    char name[NAME_MAX + 1];             /* "labN", or PATH's file name:
                                            its records are DIR/name */
    const char *interp;                  /* the program that runs path
                                            (node, for a twin), or NULL:
                                            path is the program */
    const char *prefix;                  /* before each record's name:
                                            "node-" for a twin, else "" */
    char line[16384];                    /* the raw line; key, val in it */
    char *key[MAX_FIELDS];               /* tab-separated key=value ... */
    char *val[MAX_FIELDS];               /* ... pairs, in the line's order */
    int n;                               /* how many pairs */
    char mode_names[4096];               /* a copy of modes=, split: */
    char *mode[MAX_MODES];               /* each mode, in the lab's order */
    int nmodes;                          /* how many */
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
    if ((size_t)snprintf(key, sizeof key, "%s.%s", prefix, mode) >=
        sizeof key)
        return NULL;
    return desc_get(d, key);
}

/* Is mode one of the lab's? */
static bool has_mode(const struct lab_desc *d, const char *mode)
{
    for (int i = 0; i < d->nmodes; i++)
        if (strcmp(d->mode[i], mode) == 0)
            return true;
    return false;
}

/* Says what is wrong with path's --describe, on stderr. Returns false. */
static bool bad_describe(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool bad_describe(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "leaklab: %s --describe: ", path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return false;
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

/* Runs `path --describe`, in a process group of its own that dies with
 * us, and reads what it prints into d->line, NUL-terminated. Gives it
 * DESCRIBE_MS to print and exit, then kills its group. Returns the bytes
 * read, or -1 with a message naming the lab (it could not run, timed out,
 * failed, or printed more than d->line holds). Exits 1 on a failure of
 * our own, 128 + signal on a Ctrl-C. */
static ssize_t read_describe(const char *path, struct lab_desc *d)
{
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) < 0)    /* never fds 0-2: main keeps those */
        fail("pipe");
    pid_t runner = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        setpgid(0, 0);
        die_with_runner(runner);
        dup2(fd[1], STDOUT_FILENO);   /* dup2 clears O_CLOEXEC on fd 1 */
        if (d->interp)
            execlp(d->interp, d->interp, path, "--describe", (char *)NULL);
        else
            execl(path, path, "--describe", (char *)NULL);
        fprintf(stderr, "leaklab: %s: %s\n", d->interp ? d->interp : path,
                strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);   /* same as the child's; whichever runs first */
    close(fd[1]);

    double deadline = now_ms() + DESCRIBE_MS;
    size_t len = 0;
    bool late = false, too_long = false;
    for (;;) {                                 /* read to EOF, or give up */
        if (interrupted) {
            kill_group(pid);
            exit(128 + interrupted);
        }
        double left = deadline - now_ms();
        if (left <= 0) {
            late = true;
            break;
        }
        struct pollfd p = {.fd = fd[0], .events = POLLIN};
        int ready = poll(&p, 1, (int)left + 1);
        if (ready < 0 && errno != EINTR) {
            int err = errno;
            kill_group(pid);
            errno = err;
            fail("poll");
        }
        if (ready <= 0)
            continue;
        if (len == sizeof d->line - 1) {
            too_long = true;
            break;
        }
        ssize_t got = read(fd[0], d->line + len, sizeof d->line - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;             /* EOF; an error is judged by its exit */
        len += (size_t)got;
    }
    close(fd[0]);
    d->line[len] = '\0';

    int status = 0;
    for (;;) {                                 /* reap it, or kill it */
        if (late || too_long || interrupted)
            kill(-pid, SIGKILL);
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR)
            fail("waitpid");
        if (now_ms() > deadline)
            late = true;
        struct timespec tick = {0, TICK_NS};
        nanosleep(&tick, NULL);
    }
    kill(-pid, SIGKILL);        /* whatever it left behind in its group */
    if (interrupted)
        exit(128 + interrupted);
    if (late)
        bad_describe(path, "no answer within %d s; killed it",
                     DESCRIBE_MS / 1000);
    else if (too_long)
        bad_describe(path, "more than %zu bytes", sizeof d->line - 1);
    else if (WIFSIGNALED(status))
        bad_describe(path, "killed by SIG%s", sigabbrev_np(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
        bad_describe(path, "exit %d", WEXITSTATUS(status));
    else
        return (ssize_t)len;
    return -1;
}

/* Splits d->line, len bytes, into its key=value pairs and its modes.
 * Returns false, with a message naming the lab, unless it is one line of
 * tab-separated key=value fields, with no other control character, no
 * key twice, and modes= listing at least one mode. */
static bool split_describe(struct lab_desc *d, size_t len)
{
    const char *path = d->path;
    if (len == 0 || d->line[len - 1] != '\n' || strlen(d->line) != len ||
        memchr(d->line, '\n', len - 1))
        return bad_describe(path, "not one line of text");
    d->line[len - 1] = '\0';
    for (const unsigned char *c = (unsigned char *)d->line; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            return bad_describe(path, "a control character (0x%02x)", *c);
    d->n = 0;
    for (char *field = d->line; field; ) {
        char *tab = strchr(field, '\t');
        if (tab)
            *tab = '\0';
        char *eq = strchr(field, '=');
        if (!eq || eq == field)
            return bad_describe(path, "'%s' is not key=value", field);
        if (d->n == MAX_FIELDS)
            return bad_describe(path, "more than %d fields", MAX_FIELDS);
        *eq = '\0';
        if (desc_get(d, field))
            return bad_describe(path, "%s given twice", field);
        d->key[d->n] = field;
        d->val[d->n++] = eq + 1;
        field = tab ? tab + 1 : NULL;
    }

    const char *modes = desc_get(d, "modes");
    if (!modes || !*modes)
        return bad_describe(path, "no modes");
    if ((size_t)snprintf(d->mode_names, sizeof d->mode_names, "%s", modes) >=
        sizeof d->mode_names)
        return bad_describe(path, "modes= too long");
    d->nmodes = 0;
    for (char *m = d->mode_names; m; ) {
        char *comma = strchr(m, ',');
        if (comma)
            *comma = '\0';
        if (d->nmodes == MAX_MODES)
            return bad_describe(path, "more than %d modes", MAX_MODES);
        d->mode[d->nmodes++] = m;
        m = comma ? comma + 1 : NULL;
    }
    return true;
}

/* Checks every field the runner uses. Returns false, with a message
 * naming the lab and the field, unless: lab= is number; title= is there;
 * each mode has a name fit for a file under DIR/labN (not empty, not
 * "lab", no '/', at most 64 bytes, not given twice), a cap_kind (rlimit
 * or kill), a caption, an expected verdict (finished, limit or killed),
 * and if it has a classroom cap, a size of at least MIN_CAP; sanitizer=,
 * if there, is none, address or thread. */
static bool check_describe(const struct lab_desc *d)
{
    const char *path = d->path, *v;
    long n;
    if (!(v = desc_get(d, "lab")) || !parse_long(v, 0, 9999, &n) ||
        n != d->number)
        return d->number < 0
            ? bad_describe(path, "lab=%s; expected a lab number",
                           v ? v : "(none)")
            : bad_describe(path, "lab=%s; expected lab=%d",
                           v ? v : "(none)", d->number);
    if (!(v = desc_get(d, "title")) || !*v)
        return bad_describe(path, "no title");
    for (int i = 0; i < d->nmodes; i++) {
        const char *m = d->mode[i];
        if (!*m || strcmp(m, "lab") == 0 || strchr(m, '/') ||
            strlen(m) > 64)
            return bad_describe(path, "mode '%s' cannot name a record "
                                "(empty, 'lab', a '/' or over 64 bytes)", m);
        for (int j = 0; j < i; j++)
            if (strcmp(d->mode[j], m) == 0)
                return bad_describe(path, "mode '%s' given twice", m);
        v = desc_mode(d, "cap_kind", m);
        if (!v || (strcmp(v, "rlimit") != 0 && strcmp(v, "kill") != 0))
            return bad_describe(path, "cap_kind.%s=%s; expected rlimit "
                                "or kill", m, v ? v : "(none)");
        if (!desc_mode(d, "caption", m))
            return bad_describe(path, "no caption.%s", m);
        v = desc_mode(d, "expect", m);
        if (!v || (strcmp(v, "finished") != 0 && strcmp(v, "limit") != 0 &&
                   strcmp(v, "killed") != 0))
            return bad_describe(path, "expect.%s=%s; expected finished, "
                                "limit or killed", m, v ? v : "(none)");
        uint64_t cap;
        v = desc_mode(d, "cap", m);
        if (v && (!parse_size(v, &cap) || cap < MIN_CAP))
            return bad_describe(path, "cap.%s=%s; expected a size of at "
                                "least %lluM", m, v, MIN_CAP >> 20);
    }
    v = desc_get(d, "sanitizer");
    if (v && strcmp(v, "none") != 0 && strcmp(v, "address") != 0 &&
        strcmp(v, "thread") != 0)
        return bad_describe(path, "sanitizer=%s; expected none, address "
                            "or thread", v);
    return true;
}

/* Asks the lab at path (lab number, or -1 for whichever number it says:
 * a program given by its path) to describe itself, into d, whose records
 * go under name. Returns false, with a message naming the lab, if it
 * cannot or says something the runner cannot use. */
static bool describe(const char *path, int number, const char *name,
                     struct lab_desc *d)
{
    d->number = number;
    if (!d->prefix)
        d->prefix = "";
    snprintf(d->path, sizeof d->path, "%s", path);
    snprintf(d->name, sizeof d->name, "%s", name);
    ssize_t len = read_describe(path, d);
    if (len < 0 || !split_describe(d, (size_t)len))
        return false;
    long n;
    if (number < 0 && parse_long(desc_get(d, "lab"), 0, 9999, &n))
        d->number = (int)n;
    return check_describe(d);
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

/* leaklab list: a line per built lab, in number order. Returns 0, or 1
 * if a lab could not describe itself (it is named, and the others are
 * still listed); exits 1 if the build directory cannot be read. */
static int cmd_list(void)
{
    char dir[PATH_MAX];
    build_dir(dir, sizeof dir);
    DIR *dp = opendir(dir);
    if (!dp)
        fail(dir);
    int numbers[256] = {0}, count = 0;
    struct dirent *e;
    /* cppcheck-suppress readdirCalled ; glibc deprecates readdir_r, and
     * readdir on a stream of our own, in one thread, is safe */
    while ((e = readdir(dp)) != NULL && count < 256) {
        int n = lab_number(e->d_name);
        if (n >= 0)
            numbers[count++] = n;
    }
    closedir(dp);
    qsort(numbers, count, sizeof numbers[0], compare_ints);
    static struct lab_desc d;
    int rc = EXIT_DONE;
    for (int i = 0; i < count; i++) {
        char path[PATH_MAX + 16];
        char name[32];
        snprintf(path, sizeof path, "%s/lab%d", dir, numbers[i]);
        snprintf(name, sizeof name, "lab%d", numbers[i]);
        if (describe(path, numbers[i], name, &d))
            printf("lab%d\t%s\tmodes: %s\n", numbers[i],
                   desc_get(&d, "title"), desc_get(&d, "modes"));
        else
            rc = EXIT_ERROR;
    }
    return rc;
}

/* ------------------------------------------------------------------------
 * Running one mode: prepare its records, spawn the lab, watch it, judge
 * how it ended, write its meta, print its line.
 * --------------------------------------------------------------------- */

/* Everything one run needs to know. */
struct run_plan {
    const struct lab_desc *lab;  /* which lab */
    const char *mode;            /* which mode */
    uint64_t cap;                /* bytes; 0 with cap_kind "none" */
    const char *cap_kind;        /* "rlimit", "kill" or "none" */
    bool switched;               /* the mode asked for rlimit, and gets the
                                    kill watchdog: a sanitizer build */
    const char *expect;          /* the verdict the mode expects */
    long timeout_s;              /* whole-group SIGKILL after this */
    const char *out;             /* DIR */
    bool quiet;                  /* lab stdout to /dev/null */
    bool verbose;                /* copy the lab's stderr log to ours */
    int name_width;              /* the longest mode name run, for the
                                    summary table's first column */
    char **lab_args;             /* after "--" */
    int nlab_args;               /* how many */
};

/* Where one run's records go. */
struct run_paths {
    char dir[PATH_MAX];          /* DIR/labN */
    char tsv[PATH_MAX];          /* DIR/labN/MODE.tsv */
    char meta[PATH_MAX];         /* DIR/labN/MODE.meta */
    char log[PATH_MAX];          /* DIR/labN/MODE.log: the lab's stderr */
};

/* How one run went, as watch_lab saw it. */
struct run_result {
    int status;                  /* from wait4 */
    struct rusage ru;            /* from wait4: ru_maxrss is the peak */
    const char *killed_by;       /* "watchdog", "timeout" or NULL */
    uint64_t watchdog_rss;       /* what the watchdog saw, bytes, or 0 */
    double wall_ms;              /* fork to reaping */
    const char *verdict;         /* judge()'s word */
    long suspected_at;           /* leak_suspected_at (hunt.c), or -1 */
    const char *reason;          /* why a twin's run is a limit: V8 said
                                    so (node_judge), or NULL */
    char message[512];           /* the last line the lab said on stderr,
                                    or "" */
};

/* DIR/labN (DIR/NAME for a program given by path): a lab's records. */
static void records_dir(char *dir, size_t len, const char *out,
                        const char *name)
{
    join(dir, len, out, name);
}

/* Fills in paths for plan's run. Exits 2 on a path too long. */
static void record_paths(const struct run_plan *plan, struct run_paths *p)
{
    char name[80];
    records_dir(p->dir, sizeof p->dir, plan->out, plan->lab->name);
    const char *pre = plan->lab->prefix;   /* "node-" for a twin */
    snprintf(name, sizeof name, "%s%s.tsv", pre, plan->mode);
    join(p->tsv, sizeof p->tsv, p->dir, name);
    snprintf(name, sizeof name, "%s%s.meta", pre, plan->mode);
    join(p->meta, sizeof p->meta, p->dir, name);
    snprintf(name, sizeof name, "%s%s.log", pre, plan->mode);
    join(p->log, sizeof p->log, p->dir, name);
}

/* Makes the records' directory and removes the last run's records of
 * this mode: a lab that exits before it opens its TSV must not leave the
 * last run's rows in place. Exits 1 if the directory cannot be made. */
static void prepare_records(const struct run_plan *plan, struct run_paths *p)
{
    record_paths(plan, p);
    make_dir(plan->out);
    make_dir(p->dir);
    unlink(p->meta);
    unlink(p->tsv);
    unlink(p->log);
}

/* Forks the lab, in a process group of its own (a timeout takes all of
 * it), to die with us, under plan's cap, writing its TSV to tsv. Returns
 * its pid, with lab_group naming it; exits 1 if fork fails. The child
 * execs argv or exits 126 (no cap, no death signal) or 127 (no exec). */
static pid_t spawn_lab(const struct run_plan *plan, const char *tsv,
                       const char *log, char **argv)
{
    fflush(stdout);
    /* The lab's stderr is a record: its FATAL line or its NULL from
     * malloc is the lesson, but in the middle of make's output it reads
     * as a failure. The summary table says how each run ended; the log
     * keeps the lab's own words (shown with --verbose). */
    int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
        fail(log);
    /* No signal may come between the fork and lab_group naming the new
     * group: a Ctrl-Z there would stop us and leave the lab running. */
    mask_signals(SIG_BLOCK);
    pid_t runner = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        setpgid(0, 0);
        die_with_runner(runner);
        handle(SIGINT, SIG_DFL);   /* exec resets our handlers, but a  */
        handle(SIGTERM, SIG_DFL);  /* signal pending now would arrive  */
        handle(SIGHUP, SIG_DFL);   /* before exec, at the unblock      */
        handle(SIGTSTP, SIG_DFL);
        handle(SIGCONT, SIG_DFL);
        mask_signals(SIG_UNBLOCK);
        setenv("LEAKLAB_TSV", tsv, 1);
        dup2(log_fd, STDERR_FILENO);   /* dup2 clears O_CLOEXEC on 2 */
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
        if (plan->lab->interp) {
            node_before_exec();
            execvp(plan->lab->interp, argv);
        } else {
            execv(plan->lab->path, argv);
        }
        fprintf(stderr, "leaklab: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(log_fd);
    setpgid(pid, pid);   /* same as the child's; whichever runs first */
    lab_group = pid;
    resumed = 0;
    mask_signals(SIG_UNBLOCK);
    return pid;
}

/* A lab killed by a signal may leave half a row after all: Linux stops a
 * write(2) to a file between two pages when SIGKILL arrives, so a row
 * that straddles a page boundary can be cut there (seen once, under load).
 * The probe's one write per row cannot prevent that; this does: the TSV
 * is cut back to the end of its last whole line. Quiet on any error: the
 * record is then as the lab left it. */
static void cut_partial_row(const char *tsv)
{
    int fd = open(tsv, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    char buf[4096];
    if (fstat(fd, &st) != 0) {
        close(fd);
        return;
    }
    off_t end = st.st_size, keep = 0;
    while (end > 0) {              /* from the end, a block at a time */
        size_t want = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        if (pread(fd, buf, want, end - (off_t)want) != (ssize_t)want) {
            keep = st.st_size;     /* unreadable: leave it as it is */
            break;
        }
        const char *nl = memrchr(buf, '\n', want);
        if (nl) {
            keep = end - (off_t)want + (nl - buf) + 1;
            break;
        }
        end -= (off_t)want;
    }
    if (keep < st.st_size)         /* on failure, as the lab left it */
        (void)!ftruncate(fd, keep);
    close(fd);
}

/* Waits for the lab, looking every TICK_NS: the kill cap's watchdog reads
 * its rss, the timeout counts the time it could run (not a Ctrl-Z pause),
 * and a Ctrl-C takes it down and exits 128 + signal, writing nothing.
 * Fills in r (not its verdict). Exits 1 on a failure of our own, after
 * killing the lab: a kill cap must never quietly become no cap. */
static void watch_lab(const struct run_plan *plan, pid_t pid, double t0,
                      struct run_result *r)
{
    /* The lab is our unreaped child, so /proc/PID exists until we wait
     * for it: a failure to open it is ours (out of fds). */
    bool watch = strcmp(plan->cap_kind, "kill") == 0;
    char statm_path[64];
    snprintf(statm_path, sizeof statm_path, "/proc/%d/statm", (int)pid);
    int statm_fd = open(statm_path, O_RDONLY | O_CLOEXEC);
    if (statm_fd < 0 && watch) {
        int err = errno;
        kill_group(pid);
        errno = err;
        fail(statm_path);
    }
    double ran_ms = 0, last = t0;
    for (;;) {
        pid_t done = wait4(pid, &r->status, WNOHANG, &r->ru);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR) {
            int err = errno;
            kill(-pid, SIGKILL);     /* never leave it running unwatched */
            errno = err;
            fail("wait4");
        }
        if (interrupted) {           /* Ctrl-C: take the lab down with us */
            kill_group(pid);
            fprintf(stderr, "leaklab: interrupted; %s %s stopped\n",
                    plan->lab->name, plan->mode);
            exit(128 + interrupted);
        }
        if (r->killed_by == NULL && watch) {
            uint64_t rss = statm_rss_bytes(statm_fd);
            if (rss > plan->cap) {
                kill(-pid, SIGKILL);
                r->killed_by = "watchdog";
                r->watchdog_rss = rss;
            }
        }
        double now = now_ms();
        if (resumed)
            resumed = 0;             /* this tick held the pause */
        else
            ran_ms += now - last;
        last = now;
        if (r->killed_by == NULL && ran_ms > plan->timeout_s * 1e3) {
            kill(-pid, SIGKILL);
            r->killed_by = "timeout";
        }
        struct timespec tick = {0, TICK_NS};
        nanosleep(&tick, NULL);
    }
    lab_group = 0;
    r->wall_ms = now_ms() - t0;
    if (statm_fd >= 0)
        close(statm_fd);
}

/* The verdict for how a run ended. */
static const char *judge(const struct run_result *r)
{
    if (WIFEXITED(r->status))
        return WEXITSTATUS(r->status) == EXIT_DONE ? "finished"
             : WEXITSTATUS(r->status) == EXIT_WALL ? "limit"
                                                   : "crashed";
    if (r->killed_by && strcmp(r->killed_by, "timeout") == 0)
        return "timeout";
    if (WTERMSIG(r->status) == SIGKILL)
        return "killed";   /* our watchdog, or the kernel's OOM killer */
    return "crashed";
}

/* Did the run end as its mode expects? Where the mode's rlimit cap became
 * the kill watchdog (a sanitizer build), its expected limit is met by
 * either wall: exit 3 (the lab's own budget) or the watchdog's SIGKILL
 * (the cap that stood in for RLIMIT_AS). */
static bool as_expected(const struct run_plan *plan, const char *verdict)
{
    return strcmp(verdict, plan->expect) == 0 ||
           (plan->switched && strcmp(plan->expect, "limit") == 0 &&
            strcmp(verdict, "killed") == 0);
}

/* Writes DIR/labN/MODE.meta, through a temporary name of this process's
 * own and a rename: lab, mode, title, caption, argv (each argument
 * escaped, joined by spaces), tsv, cap_bytes, cap_kind, expect,
 * exit_code or signal and signal_name, wall (a limit), killed_by and
 * watchdog_rss_kib (a kill), peak_rss_kib, wall_ms, verdict. Every string
 * goes through record_escape. Exits 1 if it cannot be written. */
static void write_meta(const struct run_plan *plan, const struct run_paths *p,
                       char **argv, const struct run_result *r)
{
    const struct lab_desc *lab = plan->lab;
    char tmp[PATH_MAX + 32];
    FILE *f = open_temp(p->meta, tmp, sizeof tmp);
    fprintf(f, "lab=%d\n", lab->number);
    put_field(f, "mode", plan->mode);
    put_field(f, "title", desc_get(lab, "title"));
    put_field(f, "caption", desc_mode(lab, "caption", plan->mode));
    fputs("argv=", f);
    for (int i = 0; argv[i]; i++) {
        if (i)
            fputc(' ', f);
        put_escaped(f, argv[i]);
    }
    fputc('\n', f);
    put_field(f, "tsv", p->tsv);
    fprintf(f, "cap_bytes=%llu\n", (unsigned long long)plan->cap);
    put_field(f, "cap_kind", plan->cap_kind);
    put_field(f, "expect", plan->expect);
    if (WIFEXITED(r->status))
        fprintf(f, "exit_code=%d\n", WEXITSTATUS(r->status));
    else
        fprintf(f, "signal=%d\nsignal_name=SIG%s\n", WTERMSIG(r->status),
                sigabbrev_np(WTERMSIG(r->status)));
    const char *wall = desc_mode(lab, "wall", plan->mode);
    if (wall && strcmp(r->verdict, "limit") == 0)
        put_field(f, "wall", wall);
    if (r->reason)
        put_field(f, "reason", r->reason);
    if (r->killed_by)
        put_field(f, "killed_by", r->killed_by);
    if (r->watchdog_rss)
        fprintf(f, "watchdog_rss_kib=%llu\n",
                (unsigned long long)(r->watchdog_rss / 1024));
    fprintf(f, "peak_rss_kib=%ld\nwall_ms=%.0f\n", r->ru.ru_maxrss,
            r->wall_ms);
    put_field(f, "log", p->log);
    if (r->message[0])
        put_field(f, "message", r->message);
    put_field(f, "verdict", r->verdict);
    if (r->suspected_at >= 0)    /* memwatch's 'leak': see hunt.c */
        fprintf(f, "leak_suspected_at=%ld\n", r->suspected_at);
    commit_temp(f, tmp, p->meta);
}

/* The summary table make prints: a heading per lab, then a row per run,
 *
 *   lab2: heap growth to the cap
 *     mode     verdict      peak rss  wall met
 *     budget   limit    ✓  257.6 MiB  FATAL: heap out of memory
 *     kill     killed   ✓  193.2 MiB  kill cap 192 MiB (watchdog saw 193.3 MiB)
 *
 * with ✓ where the run ended as its mode expects, and "✗ expected X"
 * where it did not. wait4's peak and the watchdog's reading are two
 * samples of the kernel's batched rss counter; a killed row shows both,
 * so that a peak a hair under the cap does not look like a kill for
 * nothing. */
static void print_heading(const struct run_plan *plan)
{
    int w = plan->name_width;
    printf("%s: %s\n", plan->lab->name, desc_get(plan->lab, "title"));
    printf("  %-*s  %-8s    %11s  %s\n", w, "mode", "verdict", "peak rss",
           "wall met");
}

/* One row of the table above, for a run that has ended; the heading
 * comes with the first row, so that a run stopped by a bad argument
 * prints none. */
static void print_summary(const struct run_plan *plan,
                          const struct run_result *r)
{
    static bool headed;
    if (!headed)
        print_heading(plan);
    headed = true;
    bool ok = as_expected(plan, r->verdict);
    printf("  %-*s  %-8s %s  %7.1f MiB  ", plan->name_width, plan->mode,
           r->verdict, ok ? "✓" : "✗", r->ru.ru_maxrss / 1024.0);
    const char *wall = desc_mode(plan->lab, "wall", plan->mode);
    if (strcmp(r->verdict, "limit") == 0 && wall &&
        strncmp(wall, "limit: ", 7) == 0 &&
        strcmp(plan->cap_kind, "rlimit") == 0)      /* a NULL at the cap */
        printf("%s cap %.0f MiB: %s", plan->cap_kind, mib(plan->cap),
               wall + 7);
    else if (strcmp(r->verdict, "limit") == 0)     /* the lab's own wall */
        printf("%s", wall ? wall : r->reason ? r->reason : "limit: exit 3");
    else if (strcmp(r->verdict, "killed") == 0 && r->watchdog_rss)
        printf("%s cap %.0f MiB (watchdog saw %.1f MiB)", plan->cap_kind,
               mib(plan->cap), mib(r->watchdog_rss));
    else if (strcmp(r->verdict, "timeout") == 0)
        printf("--timeout %ld s", plan->timeout_s);
    else if (strcmp(r->verdict, "finished") == 0)
        printf("none (under %s cap %.0f MiB)", plan->cap_kind,
               mib(plan->cap));
    else
        printf("%s", r->message[0] ? "see the log" : "no word from the lab");
    if (r->suspected_at >= 0)    /* memwatch's 'leak' (hunt.c) */
        printf("  leak suspected at %ld", r->suspected_at);
    if (!ok)
        printf("  (expected %s)", plan->expect);
    putchar('\n');
    fflush(stdout);
}

/* The last non-empty line of the file at path, without its newline, in
 * buf (cut to len), or "" if there is none or it cannot be read. */
static void last_line(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        size_t n = strlen(line);
        if (n == 0)
            continue;
        if (n >= len)
            n = len - 1;
        memcpy(buf, line, n);
        buf[n] = '\0';
    }
    fclose(f);
}

/* Copies the lab's log at path to our stderr, as the lab wrote it. */
static void show_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char chunk[4096];
    size_t n;
    fflush(stdout);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, stderr);
    fclose(f);
}

/* Runs one mode to the end and records it. Returns its verdict. A lab
 * that exits 2 (a bad argument: it said which, once) leaves no record,
 * and we exit 2 too: no later mode would take that argument either.
 * Exits 1 on a failure of our own (fork, the records). */
static const char *run_one(const struct run_plan *plan)
{
    struct run_paths paths;
    prepare_records(plan, &paths);
    if (interrupted)                 /* Ctrl-C between two runs */
        exit(128 + interrupted);

    char *argv[plan->nlab_args + 5];
    int argc = 0;
    if (plan->lab->interp)                   /* node labs/node/labN-*.js */
        argv[argc++] = (char *)plan->lab->interp;
    argv[argc++] = (char *)plan->lab->path;
    argv[argc++] = "--mode";
    argv[argc++] = (char *)plan->mode;
    for (int i = 0; i < plan->nlab_args; i++)
        argv[argc++] = plan->lab_args[i];
    argv[argc] = NULL;

    struct run_result r = {0};
    double t0 = now_ms();
    pid_t pid = spawn_lab(plan, paths.tsv, paths.log, argv);
    watch_lab(plan, pid, t0, &r);
    if (WIFSIGNALED(r.status))
        cut_partial_row(paths.tsv);
    if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == EXIT_USAGE) {
        show_log(paths.log);         /* the lab's one line, once */
        unlink(paths.tsv);
        unlink(paths.log);
        exit(EXIT_USAGE);
    }
    r.verdict = judge(&r);
    const char *watched = desc_get(plan->lab, "leak_column");
    r.suspected_at = leak_suspected_at(paths.tsv,
                                       watched ? watched : "heap_used_kib");
    last_line(paths.log, r.message, sizeof r.message);
    if (plan->lab->interp && (r.reason = node_judge(r.status, paths.log,
                                                    r.message,
                                                    sizeof r.message)))
        r.verdict = "limit";            /* V8's abort at its wall */
    write_meta(plan, &paths, argv, &r);
    print_summary(plan, &r);
    if (plan->verbose || !as_expected(plan, r.verdict))
        show_log(paths.log);
    return r.verdict;
}

/* ------------------------------------------------------------------------
 * leaklab run: check everything, take the lock, write lab.meta, then run
 * each mode and say whether each ended as it should.
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

/* The lab options the runner owns: it sets them itself, or they would
 * make the lab do something other than run (lab.c's lab_parse). */
static const struct {
    const char *name;   /* long name, without the dashes */
    char short_name;    /* its short form in lab_parse, or 0 */
    const char *why;    /* the rest of the refusal */
} owned[] = {
    {"mode", 'm', "the runner passes --mode itself; give it to leaklab, "
                  "before --"},
    {"tsv", 0, "the runner names the TSV itself, under --out"},
    {"describe", 0, "the runner asks for it itself; a run must run"},
    {"help", 'h', "a run must run; build/labN --help lists the lab's "
                  "options"},
    {"quiet", 'q', "give --quiet to leaklab, before --"},
};
#define NOWNED (sizeof owned / sizeof owned[0])

/* Refuses, exit 2 with one line naming it, a lab argument that would set
 * one of the options above, in any spelling the lab's getopt_long takes:
 * --mode, --mode=x, an abbreviation such as --mo, or a short option, alone
 * or in a cluster (-m x, -qn5). It looks at every argument up to a "--"
 * of the lab's own, values included: it does not know which of the lab's
 * own options take one, and a value that spells an owned option would be
 * a bad value anyway. (No lab's own option is a prefix of an owned one.) */
static void refuse_owned_options(char **args, int nargs)
{
    for (int i = 0; i < nargs; i++) {
        const char *a = args[i];
        if (strcmp(a, "--") == 0)
            return;                  /* what follows is positional */
        if (a[0] != '-' || a[1] == '\0')
            continue;
        if (a[1] == '-') {
            size_t len = strcspn(a + 2, "=");
            for (size_t k = 0; k < NOWNED && len > 0; k++)
                if (strncmp(a + 2, owned[k].name, len) == 0 &&
                    len <= strlen(owned[k].name))
                    usage_error("lab argument '%s' is the lab's --%s: %s",
                                a, owned[k].name, owned[k].why);
            continue;
        }
        for (const char *c = a + 1; *c; c++) {
            for (size_t k = 0; k < NOWNED; k++)
                if (*c == owned[k].short_name)
                    usage_error("lab argument '%s' is the lab's -%c (--%s): "
                                "%s", a, *c, owned[k].name, owned[k].why);
            if (strchr("ns", *c))    /* lab_parse's -n N, -s SIZE: the */
                break;               /* rest of the cluster is the value */
        }
    }
}

/* Refuses, exit 2 naming it, a lab argument that is the same file (device
 * and inode: any spelling, any hard or symbolic link to it) as one of the
 * records this run removes or replaces in dir (.lock, lab.meta, each
 * planned mode's TSV and meta), so that the runner never deletes a
 * student's file, such as lab 5's SRC given as out/lab5/stream.tsv. */
static void refuse_record_args(const struct run_plan *plans, int nplans,
                               const char *dir)
{
    static char records[2 + 2 * MAX_MODES][PATH_MAX];
    int nrecords = 0;
    char labmeta[32];
    snprintf(labmeta, sizeof labmeta, "%slab.meta", plans[0].lab->prefix);
    join(records[nrecords++], PATH_MAX, dir, ".lock");
    join(records[nrecords++], PATH_MAX, dir, labmeta);
    for (int i = 0; i < nplans; i++) {
        struct run_paths p;
        record_paths(&plans[i], &p);
        memcpy(records[nrecords++], p.tsv, PATH_MAX);
        memcpy(records[nrecords++], p.meta, PATH_MAX);
    }
    char **args = plans[0].lab_args;
    for (int r = 0; r < nrecords; r++) {
        struct stat rec, arg;
        if (lstat(records[r], &rec) < 0)
            continue;                /* nothing there to delete */
        for (int i = 0; i < plans[0].nlab_args; i++)
            if (stat(args[i], &arg) == 0 && arg.st_dev == rec.st_dev &&
                arg.st_ino == rec.st_ino)
                usage_error("lab argument '%s' is the runner's record %s, "
                            "which this run replaces; give the lab another "
                            "file, or leaklab another --out", args[i],
                            records[r]);
    }
}

/* Takes DIR/labN/.lock (flock, exclusive, without waiting) for the rest of
 * our life, and writes our pid into it. Another runner holding it: says
 * "DIR/labN in use by PID n" and exits 1; a lock that cannot be opened
 * exits 1 with its path. The lab never inherits it (O_CLOEXEC). */
static void lock_records(const char *dir)
{
    char path[PATH_MAX];
    join(path, sizeof path, dir, ".lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        fail(path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK)
            fail(path);
        char buf[32], where[PATH_MAX * 4];
        record_escape(where, sizeof where, dir);   /* one line */
        long holder = 0;
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (parse_long(buf, 1, LONG_MAX, &holder))
            fprintf(stderr, "leaklab: %s in use by PID %ld (another "
                    "leaklab run); wait for it, or give another --out\n",
                    where, holder);
        else      /* it has the lock, and has not written its pid yet */
            fprintf(stderr, "leaklab: %s in use by another leaklab run; "
                    "wait for it, or give another --out\n", where);
        exit(EXIT_ERROR);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        fail(path);
    /* fd stays open, and the lock held, until we exit: the lock is the
     * open file, so closing it would release it. */
    // cppcheck-suppress resourceLeak ; deliberate, see above
}

/* Writes DIR/labN/lab.meta, once per `leaklab run`, before the first mode
 * runs, through a temporary name of this process's own and a rename. The
 * chart scripts read it instead of running the lab. Its format:
 *
 *   one key=value per line: every tab-separated field the lab's
 *   --describe printed, in its order (lab, title, takeaway, showcase,
 *   modes, then per mode M cap_kind.M, caption.M, cap.M, wall.M, expect.M,
 *   then columns, y2, xlabel, sanitizer: whatever it printed), each key
 *   and value through record_escape. For each mode this run runs,
 *   cap_kind.M is the kind applied (kill where a sanitizer build cannot
 *   take rlimit; none under --cap-kind none), and is followed by
 *   cap_bytes.M=BYTES, the cap applied (0 for none). A mode not run keeps
 *   describe's cap_kind.M and has no cap_bytes.M.
 *
 * Exits 1 if it cannot be written. */
static void write_lab_meta(const struct lab_desc *lab, const char *dir,
                           const struct run_plan *plans, int nplans)
{
    char path[PATH_MAX], tmp[PATH_MAX + 32], name[32];
    snprintf(name, sizeof name, "%slab.meta", lab->prefix);
    join(path, sizeof path, dir, name);
    FILE *f = open_temp(path, tmp, sizeof tmp);
    for (int i = 0; i < lab->n; i++) {
        const struct run_plan *run = NULL;
        for (int k = 0; k < nplans; k++)
            if (strncmp(lab->key[i], "cap_kind.", 9) == 0 &&
                strcmp(lab->key[i] + 9, plans[k].mode) == 0)
                run = &plans[k];
        put_field(f, lab->key[i], run ? run->cap_kind : lab->val[i]);
        if (run) {
            fputs("cap_bytes.", f);
            put_escaped(f, run->mode);
            fprintf(f, "=%llu\n", (unsigned long long)run->cap);
        }
    }
    commit_temp(f, tmp, path);
}

/* What `leaklab run` was asked for. */
struct run_options {
    const char *which;           /* the lab as typed: "1" or "lab1" */
    int number;                  /* N */
    const char *mode;            /* --mode, or NULL for every mode */
    uint64_t cap;                /* --cap, bytes, if cap_given */
    bool cap_given;              /* --cap was on the command line */
    const char *cap_kind;        /* --cap-kind, or NULL for the mode's */
    long timeout_s;              /* --timeout */
    const char *out;             /* --out */
    bool quiet;                  /* --quiet */
    bool verbose;                /* --verbose */
    bool fresh;                  /* --fresh */
    bool node;                   /* --node: the lab's Node.js twin */
    char **lab_args;             /* after "--" */
    int nlab_args;               /* how many */
};

/* Parses run's command line into o. Returns false after printing --help;
 * exits 2 on a bad argument, including a lab argument the runner owns. */
static bool parse_run_options(int argc, char **argv, struct run_options *o)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"cap", required_argument, NULL, 'c'},
        {"cap-kind", required_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"fresh", no_argument, NULL, 'f'},
        {"node", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    *o = (struct run_options){.out = "out", .timeout_s = 120};
    /* Everything after "--" belongs to the lab; getopt sees what is
     * before it, in any order ("run 2 --mode kill" or "run --mode kill 2"). */
    int nours = 0;
    while (nours < argc && strcmp(argv[nours], "--") != 0)
        nours++;
    o->lab_args = argv + nours + (nours < argc);
    o->nlab_args = argc - nours - (nours < argc);

    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(nours, argv, ":m:c:k:t:o:qvfh", longopts, NULL)) !=
           -1) {
        switch (c) {
        case 'm': o->mode = optarg; break;
        case 'c':
            if (!parse_size(optarg, &o->cap) || o->cap == 0)
                usage_error("bad --cap '%s': want a size such as 256M or 2G",
                            optarg);
            if (o->cap < MIN_CAP)
                usage_error("--cap %s is below %lluM, the least a lab needs "
                            "to start", optarg, MIN_CAP >> 20);
            o->cap_given = true;
            break;
        case 'k':
            if (strcmp(optarg, "rlimit") && strcmp(optarg, "kill") &&
                strcmp(optarg, "none"))
                usage_error("bad --cap-kind '%s': want rlimit, kill or none",
                            optarg);
            o->cap_kind = optarg;
            break;
        case 't':
            if (!parse_long(optarg, 1, 86400, &o->timeout_s))
                usage_error("bad --timeout '%s': want whole seconds from 1 "
                            "to 86400", optarg);
            break;
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = true; break;
        case 'v': o->verbose = true; break;
        case 'f': o->fresh = true; break;
        case 'N': o->node = true; break;
        case 'h': print_help(); return false;
        default: {   /* '?' or ':': named as typed, --quiet=1 not -q */
            /* A long option is always consumed whole, so it is the one
             * before optind, even with "run 1 --x" permuted; a short
             * one is named from optopt whatever the word. */
            char why[512];
            usage_error("%s (see --help)",
                        option_error(c, argv[optind - 1], longopts, why,
                                     sizeof why));
        }
        }
    }
    if (optind >= nours)
        usage_error("run needs a lab number (see leaklab list)");
    o->which = argv[optind++];
    if (optind < nours)
        usage_error("unexpected argument '%s' (lab arguments go after --)",
                    argv[optind]);
    o->number = lab_number(o->which);
    long n;
    if (o->number < 0 && parse_long(o->which, 0, 9999, &n))
        o->number = (int)n;
    if (o->number < 0 && !strchr(o->which, '/'))   /* a PATH: cmd_run */
        usage_error("unknown lab '%s': want a number such as 1, or a "
                    "program's path", o->which);
    if (o->node && o->number < 0)
        usage_error("--node runs a lab's twin: want a lab number, not '%s'",
                    o->which);
    if (o->cap_given && o->cap_kind && strcmp(o->cap_kind, "none") == 0)
        usage_error("--cap with --cap-kind none: a cap of kind none caps "
                    "nothing; drop one of them");
    refuse_owned_options(o->lab_args, o->nlab_args);
    return true;
}

/* Fills in plans for the modes to run (--mode's, or every mode) with their
 * caps: --cap, else the mode's classroom cap, else default_cap(); the kind
 * --cap-kind gives, else the mode's, switched from rlimit to kill under a
 * sanitizer (RLIMIT_AS cannot cap it; say_switched says so). Returns how
 * many; exits 2 on a cap larger than the machine can give. */
static int plan_runs(const struct lab_desc *lab, const struct run_options *o,
                     struct run_plan *plans)
{
    uint64_t available = mem_available();
    const char *san = desc_get(lab, "sanitizer");
    bool sanitized = san && strcmp(san, "none") != 0;
    int n = 0;
    for (int i = 0; i < lab->nmodes; i++) {
        const char *m = lab->mode[i];
        if (o->mode && strcmp(m, o->mode) != 0)
            continue;
        struct run_plan *plan = &plans[n++];
        *plan = (struct run_plan){
            .lab = lab, .mode = m, .expect = desc_mode(lab, "expect", m),
            .timeout_s = o->timeout_s, .out = o->out, .quiet = o->quiet,
            .verbose = o->verbose,
            .lab_args = o->lab_args, .nlab_args = o->nlab_args,
        };
        plan->cap_kind = o->cap_kind ? o->cap_kind
                                     : desc_mode(lab, "cap_kind", m);
        const char *classroom = desc_mode(lab, "cap", m);
        if (o->cap_given)
            plan->cap = o->cap;
        else if (!classroom || !parse_size(classroom, &plan->cap))
            plan->cap = default_cap();    /* checked: a size, when there */
        if (strcmp(plan->cap_kind, "none") == 0)
            plan->cap = 0;
        if (plan->cap && available && plan->cap > available)
            usage_error("--cap %.0f MiB is more than this machine can give "
                        "(MemAvailable %.0f MiB); not starting %s %s",
                        mib(plan->cap), mib(available), lab->name, m);
        if (sanitized && strcmp(plan->cap_kind, "rlimit") == 0) {
            plan->cap_kind = "kill";   /* said by say_switched */
            plan->switched = true;
        }
    }
    int width = (int)strlen("mode");
    for (int i = 0; i < n; i++)
        if ((int)strlen(plans[i].mode) > width)
            width = (int)strlen(plans[i].mode);
    for (int i = 0; i < n; i++)
        plans[i].name_width = width;
    return n;
}

/* One line on stderr if a sanitizer build moved modes from rlimit to the
 * kill watchdog: ASan and TSan both map terabytes of shadow memory. */
static void say_switched(const struct run_plan *plans, int nplans)
{
    const char *san = desc_get(plans[0].lab, "sanitizer"), *sep = "";
    for (int i = 0; i < nplans; i++) {
        if (!plans[i].switched)
            continue;
        if (!*sep)
            fprintf(stderr, "leaklab: %s is built with %s, which "
                    "reserves terabytes of address space, so RLIMIT_AS "
                    "cannot cap it; capping with the kill watchdog "
                    "instead:", plans[0].lab->name,
                    strcmp(san, "thread") == 0 ? "ThreadSanitizer"
                                               : "AddressSanitizer");
        fprintf(stderr, "%s %s", sep, plans[i].mode);
        sep = ",";
    }
    if (*sep)
        fputc('\n', stderr);
}

/* After every run: 0 if each ended with the verdict its mode expects;
 * else one line on stderr naming the runs that did not, and 1. */
static int report_verdicts(const struct run_plan *plans,
                           const char *const *verdicts, int n)
{
    int missed = 0;
    for (int i = 0; i < n; i++)
        missed += !as_expected(&plans[i], verdicts[i]);
    if (missed == 0)
        return EXIT_DONE;
    fprintf(stderr, "leaklab: %s: %d of %d runs did not end as their "
            "modes expect:", plans[0].lab->name, missed, n);
    for (int i = 0, said = 0; i < n; i++)
        if (!as_expected(&plans[i], verdicts[i]))
            fprintf(stderr, "%s %s %s (expected %s)", said++ ? "," : "",
                    plans[i].mode, verdicts[i], plans[i].expect);
    fputc('\n', stderr);
    return EXIT_ERROR;
}

/* --fresh, under the lock: removes DIR/labN's regular files whose names
 * end as a record or a chart does (.tsv .meta .log .png .svg .pdf .txt),
 * so that no chart of a mode this run does not make is left standing.
 * Anything else (lab 5's input, a massif directory, .lock) stays. Only
 * names that start with prefix go: "node-" for a twin's run, which leaves
 * the C lab's records standing; "" for a lab's, which clears both. Exits 1
 * if a record cannot be removed. */
static void remove_old_records(const char *dir, const char *prefix)
{
    static const char *const ends[] = {".tsv", ".meta", ".log", ".png",
                                       ".svg", ".pdf", ".txt"};
    DIR *dp = opendir(dir);
    if (!dp)
        fail(dir);
    struct dirent *e;
    /* cppcheck-suppress readdirCalled ; glibc deprecates readdir_r, and
     * readdir on a stream of our own, in one thread, is safe */
    while ((e = readdir(dp)) != NULL) {
        size_t n = strlen(e->d_name);
        bool record = false;
        for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
            size_t k = strlen(ends[i]);
            record |= n > k && strcmp(e->d_name + n - k, ends[i]) == 0;
        }
        struct stat st;
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;              /* --node --fresh: the twin's alone */
        if (!record || fstatat(dirfd(dp), e->d_name, &st,
                               AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(dirfd(dp), e->d_name, 0) < 0 && errno != ENOENT) {
            char path[PATH_MAX];
            join(path, sizeof path, dir, e->d_name);
            fail(path);
        }
    }
    closedir(dp);
}

/* leaklab run: one mode, or each in turn. Returns 0 when every run ended
 * with the verdict its mode expects, 1 when one did not (each is named on
 * stderr) or the lab cannot describe itself; exits 2 on a bad argument
 * (ours, or the lab's) and 1 on a failure of our own or a lock held. */
static int cmd_run(int argc, char **argv)
{
    struct run_options o;
    if (!parse_run_options(argc, argv, &o))
        return EXIT_DONE;                      /* --help */

    char path[PATH_MAX + 16], name[NAME_MAX + 1];
    if (strchr(o.which, '/')) {
        /* A program by its path: records under its file name. */
        char why[PATH_MAX * 2];
        if (!program_path(o.which, path, sizeof path, name, sizeof name,
                          why, sizeof why))
            usage_error("%s", why);
        o.number = -1;
    } else if (o.node) {
        char bin[PATH_MAX];
        build_dir(bin, sizeof bin);
        if (!node_twin_path(o.number, bin, path, sizeof path))
            usage_error("--node: %s", path);
        if (!node_available()) {
            fprintf(stderr, "leaklab: --node: no %s to run lab %d's twin "
                    "(make deps installs nodejs)\n", node_program(), o.number);
            return EXIT_ERROR;
        }
        snprintf(name, sizeof name, "lab%d", o.number);
    } else {
        char bin[PATH_MAX];
        build_dir(bin, sizeof bin);
        snprintf(path, sizeof path, "%s/lab%d", bin, o.number);
        snprintf(name, sizeof name, "lab%d", o.number);
        if (access(path, X_OK) != 0)
            usage_error("unknown lab '%s': %s is not built (see leaklab "
                        "list)", o.which, path);
    }
    static struct lab_desc lab;
    if (o.node) {
        lab.interp = node_program();
        lab.prefix = "node-";
    }
    if (!describe(path, o.number, name, &lab))
        return EXIT_ERROR;
    if (o.mode && !has_mode(&lab, o.mode))
        usage_error("unknown mode '%s' for %s: want one of %s", o.mode,
                    lab.name, desc_get(&lab, "modes"));
    static struct run_plan plans[MAX_MODES];
    int nplans = plan_runs(&lab, &o, plans);

    char dir[PATH_MAX];
    records_dir(dir, sizeof dir, o.out, lab.name);
    refuse_record_args(plans, nplans, dir);
    make_dir(o.out);
    make_dir(dir);
    lock_records(dir);
    if (o.fresh)
        remove_old_records(dir, lab.prefix);
    say_switched(plans, nplans);
    write_lab_meta(&lab, dir, plans, nplans);
    const char *verdicts[MAX_MODES];
    for (int i = 0; i < nplans; i++)
        verdicts[i] = run_one(&plans[i]);
    return report_verdicts(plans, verdicts, nplans);
}

/* Opens /dev/null on each of fds 0, 1 and 2 that is closed, so that no
 * file we open later takes its place: with stdout closed (leaklab run 1
 * >&-), the describe pipe would become fd 1, and a lab would inherit a
 * record as its stdout. Exits 1 if /dev/null cannot be opened. */
static void keep_std_fds_open(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (null < 0)
            fail("/dev/null");
        if (null != fd) {            /* the lowest free fd: it is fd */
            dup2(null, fd);
            close(null);
        }
    }
}

int main(int argc, char **argv)
{
    keep_std_fds_open();
    install_handlers();

    if (argc < 2)
        usage_error("missing command: want 'list', 'run', 'hunt' or 'quiz' "
                    "(see --help)");
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
    if (strcmp(argv[1], "hunt") == 0)
        return hunt_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "quiz") == 0)
        return quiz_main(argc - 1, argv + 1);
    usage_error("unknown command '%s': want 'list', 'run', 'hunt' or "
                "'quiz'", argv[1]);
}
