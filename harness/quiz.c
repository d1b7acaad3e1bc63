/*
 * quiz.c - leaklab quiz: predict, then run.
 *
 *   leaklab quiz N [--seed S]               the scenario and the question
 *   leaklab quiz N [--seed S] --answer X    run it, judge X: exit 0 or 1
 *   leaklab quiz N [--seed S] --show        run it, print the answer
 *
 * As OSTEP's homework simulators do with -s SEED and -c, a seed draws the
 * sizes of a small run of lab N, and the student predicts one number the
 * run will record (lab 2: the iteration at which the budget kills it;
 * lab 4: the queue's depth after T ticks; lab 6: the cache's entries;
 * lab 7: the server's sessions; ...). Then the run decides.
 *
 * The seed is a name or a number. Its default is the user name, so that
 * one command on the board gives every student in the room numbers of
 * their own, and a teacher can redo anyone's quiz with --seed NAME. The
 * scenario comes from the seed alone, through FNV-1a and splitmix64, in
 * integers: no rand(), nothing read from the machine, so the same seed
 * prints the same bytes on every machine.
 *
 * The answer comes from a run, never from a formula: labs 2 to 7 run
 * through the runner (this same binary, `leaklab run`: capped, dying
 * with us) into a temporary directory of our own, and the answer is read
 * from the records it writes (the TSV's columns, the .meta's peak and
 * verdict). Lab 1's question is Valgrind's, so lab 1 runs under
 * Valgrind, capped and dying with us too, and the answer is read from its
 * "definitely lost" line. The temporary directory goes at exit, on
 * Ctrl-C, SIGTERM and SIGHUP too.
 *
 * An answer is judged within a tolerance each question states: none for
 * what the rules decide exactly (an iteration, a depth, Valgrind's
 * bytes), some for rss, which differs a little from machine to machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "quiz.h"

#define NLABS 7            /* quizzes for labs 1 to NLABS */
#define SEED_MAX 64        /* bytes in a seed */
#define RUN_TIMEOUT_S 30   /* the runner kills a lab after this */
#define CHILD_TIMEOUT_S 60 /* we kill anything we started after this */
#define VALGRIND_CAP (512ULL << 20)  /* RLIMIT_AS for lab 1 under Valgrind */
#define MIB (1ULL << 20)
#define KIB (1ULL << 10)

/* ------------------------------------------------------------------------
 * Messages and exits (the codes of lab.h)
 * --------------------------------------------------------------------- */

static noreturn void quiz_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static noreturn void quiz_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("leaklab: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

/* A failure of the run or of ours, in words: exit 1. */
static noreturn void quiz_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static noreturn void quiz_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("leaklab: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_ERROR);
}

/* A system call that failed on path: "path: strerror", exit 1. */
static noreturn void quiz_fail(const char *path)
{
    quiz_error("%s: %s", path, strerror(errno));
}

/* text as one line for a message: record_escape's \n, \t, \xHH for
 * control bytes, and cut at 200 bytes. Four at a time stay valid. */
static const char *visible(const char *text)
{
    static char bufs[4][208];
    static int next;
    char *buf = bufs[next++ % 4];
    if (record_escape(buf, 201, text) > 200)
        strcpy(buf + 197, "...");
    return buf;
}

static void print_help(void)
{
    printf(
"Usage: leaklab quiz N [--seed S] [--answer X | --show]\n"
"\n"
"Predict, then run. Prints a scenario for lab N (1 to %d), with sizes\n"
"drawn from the seed, and one question whose answer the lab's run\n"
"decides. Nothing runs until you ask:\n"
"  -a, --answer X   run the lab with those sizes and judge X: right or\n"
"                   wrong, with the measured value and a one-line why\n"
"      --show       run the lab and print the answer, without judging;\n"
"                   the last line is 'answer: X', X as --answer takes it\n"
"  -s, --seed S     the seed: a name or a number (letters, digits and\n"
"                   . _ @ + -, at most %d bytes, starting with a letter,\n"
"                   a digit or _). Default: your user name, so that each\n"
"                   student gets numbers of their own and a teacher can\n"
"                   redo anyone's quiz with --seed NAME\n"
"  -h, --help       this text\n"
"\n"
"The same seed prints the same scenario on every machine. Each question\n"
"states its tolerance: exact for what the rules decide, a little either\n"
"way for rss. The runs are small (a few MiB, well under a second each):\n"
"labs 2 to 7 run through the runner, capped and dying with it, lab 1\n"
"under Valgrind; their records go to a temporary directory that is\n"
"removed at exit (also on Ctrl-C).\n"
"\n"
"Exit codes: 0 the scenario, --show, or a right answer; 1 a wrong answer,\n"
"or a run that failed (quizzes 1 and 3 cannot run on a sanitizer build:\n"
"Valgrind cannot run one, nor RLIMIT_AS cap one); 2 bad usage, a bad\n"
"seed, or an answer that is not one.\n",
           NLABS, SEED_MAX);
}

/* ------------------------------------------------------------------------
 * The seed: a name, hashed, then splitmix64
 * --------------------------------------------------------------------- */

/* Is text a seed? 1 to SEED_MAX bytes of letters, digits and . _ @ + -,
 * the first a letter, a digit or '_': a user name fits, and so does any
 * number, and each prints as one shell word that no option parser takes
 * for an option. */
static bool valid_seed(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len > SEED_MAX || !strchr(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
            text[0]))
        return false;
    return strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._@+-") == len;
}

/* The default seed: the user name from the password database, else
 * $USER, else $LOGNAME, the first that is a seed; else "uidN". */
static void default_seed(char *seed, size_t len)
{
    struct passwd entry, *pw = NULL;
    char buf[16384];                     /* the entry's strings */
    if (getpwuid_r(getuid(), &entry, buf, sizeof buf, &pw) != 0)
        pw = NULL;
    const char *names[] = {pw ? pw->pw_name : NULL, getenv("USER"),
                           getenv("LOGNAME")};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i] && valid_seed(names[i])) {
            snprintf(seed, len, "%s", names[i]);
            return;
        }
    snprintf(seed, len, "uid%u", (unsigned)getuid());
}

/* 64-bit FNV-1a of the lab's number and the seed: one stream per lab. */
static uint64_t seed_state(int lab, const char *seed)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    char text[SEED_MAX + 16];
    snprintf(text, sizeof text, "lab%d:%s", lab, seed);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        h ^= *c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* splitmix64 (Steele, Lea and Flood): the next 64 random bits. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A whole number from lo to hi, both included (lo <= hi). The modulo's
 * bias is below 2^-50 here, and the same on every machine. */
static long draw(uint64_t *state, long lo, long hi)
{
    return lo + (long)(next_random(state) % (uint64_t)(hi - lo + 1));
}

/* ------------------------------------------------------------------------
 * A scenario: the sizes of one run, and how to say them
 * --------------------------------------------------------------------- */

/* Everything the seed decides. Each lab uses the fields it names. */
struct scenario {
    int lab;                  /* N */
    char seed[SEED_MAX + 1];  /* as given, or the default */
    const char *mode;         /* the mode run (lab 5: NULL, every mode) */
    uint64_t size;            /* --size: bytes per iteration (labs 1-4) */
    long iterations;          /* --iterations (labs 1-4) */
    uint64_t max_heap;        /* --max-heap (labs 2, 3) */
    uint64_t cap;             /* the runner's --cap, or 0: the mode's own
                                 (lab 3) */
    long produce;             /* --produce (lab 4) */
    long consume;             /* --consume (lab 4) */
    long capacity;            /* --capacity (lab 4) */
    uint64_t file;            /* the input's bytes (lab 5) */
    uint64_t buffer;          /* --buffer (lab 5) */
    long requests;            /* --requests: a batch's (labs 6, 7) */
    long new_keys;            /* --new-keys (lab 6) */
    long max_entries;         /* --max-entries (lab 6's limit) */
    long ttl;                 /* --ttl, in batches (lab 7) */
};

/* An argument vector built piece by piece, with room for its strings. */
struct args {
    char text[24][PATH_MAX];  /* the strings */
    char *v[25];              /* pointers into text, then NULL */
    int n;                    /* how many */
};

/* Appends one argument, printf-style. Exits 1 if it does not fit (a
 * bug, or a temporary directory path near PATH_MAX). */
static void add(struct args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add(struct args *a, const char *fmt, ...)
{
    if (a->n == (int)(sizeof a->text / sizeof a->text[0]))
        quiz_error("too many arguments for one command");
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(a->text[a->n], PATH_MAX, fmt, ap);
    va_end(ap);
    if (len < 0 || len >= PATH_MAX)
        quiz_error("an argument longer than %d bytes", PATH_MAX - 1);
    a->v[a->n] = a->text[a->n];
    a->v[++a->n] = NULL;
}

/* A size as the labs take it: "4M" if whole MiB, "3584K" if whole KiB,
 * else bytes. */
static const char *size_arg(uint64_t bytes, char *buf, size_t len)
{
    if (bytes % MIB == 0)
        snprintf(buf, len, "%lluM", (unsigned long long)(bytes / MIB));
    else if (bytes % KIB == 0)
        snprintf(buf, len, "%lluK", (unsigned long long)(bytes / KIB));
    else
        snprintf(buf, len, "%llu", (unsigned long long)bytes);
    return buf;
}

/* Appends a size argument (size_arg's spelling). */
static void add_size(struct args *a, uint64_t bytes)
{
    char buf[32];
    add(a, "%s", size_arg(bytes, buf, sizeof buf));
}

/* Prints an argument vector as one indented command line. Only for the
 * scenario's own arguments, every one a shell word as it stands. */
static void print_command(const struct args *a)
{
    fputs("    ", stdout);
    for (int i = 0; i < a->n; i++)
        printf("%s%s", i ? " " : "", a->v[i]);
    putchar('\n');
}

/* Prints a paragraph, printf-style, wrapped at 72 columns. A word is
 * never broken; one longer than a line stands alone on it. */
static void paragraph(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void paragraph(const char *fmt, ...)
{
    char text[2048], *save = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t col = 0;
    for (char *w = strtok_r(text, " \n", &save); w;
         w = strtok_r(NULL, " \n", &save)) {
        size_t len = strlen(w);
        if (col > 0 && col + 1 + len > 72) {
            putchar('\n');
            col = 0;
        } else if (col > 0) {
            putchar(' ');
            col++;
        }
        fputs(w, stdout);
        col += len;
    }
    putchar('\n');
}

/* A size for people: "64 KiB", "4 MiB", or "2.44 MiB". */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
    if (bytes % MIB == 0)
        snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes / MIB));
    else if (bytes < MIB && bytes % KIB == 0)
        snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes / KIB));
    else
        snprintf(buf, len, "%.2f MiB", mib(bytes));
    return buf;
}

/* ------------------------------------------------------------------------
 * The temporary directory, and the signals that must not leave it behind
 * --------------------------------------------------------------------- */

static char temp_dir[PATH_MAX];             /* ours, or "" */
static pid_t temp_owner;                    /* who made it */
static volatile sig_atomic_t interrupted;   /* SIGINT, SIGTERM or SIGHUP */

static void on_interrupt(int sig) { interrupted = sig; }

/* Ctrl-C, kill and hangup set `interrupted`, without SA_RESTART, so that
 * the wait for a child wakes and stops it; then we exit 128 + signal and
 * atexit removes the directory. Ctrl-Z stops us with our children. */
static void install_handlers(void)
{
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTSTP, &sa, NULL);
    sigaction(SIGCONT, &sa, NULL);
}

/* Exits 128 + signal if one came. Every wait calls it. */
static void check_interrupt(void)
{
    if (interrupted)
        exit(128 + interrupted);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);      /* what cannot go stays; nothing else to do */
    return 0;
}

/* atexit: removes the directory and all in it, in the process that made
 * it (a child that failed to exec leaves it to us). */
static void remove_temp_dir(void)
{
    if (temp_dir[0] && getpid() == temp_owner)
        nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes $TMPDIR/leaklab-quiz.XXXXXX (or under /tmp), ours alone (0700),
 * removed at exit. Exits 1 if it cannot. */
static void make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(temp_dir, sizeof temp_dir, "%s/leaklab-quiz.XXXXXX",
                         base) >= sizeof temp_dir - 64)
        quiz_error("TMPDIR too long: '%s'", visible(base));
    temp_owner = getpid();
    if (!mkdtemp(temp_dir)) {
        int err = errno;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", temp_dir);
        temp_dir[0] = '\0';
        errno = err;
        quiz_fail(path);
    }
    atexit(remove_temp_dir);
    check_interrupt();
}

/* ------------------------------------------------------------------------
 * Children: each dies with us, under a cap, and is waited for
 * --------------------------------------------------------------------- */

/* The sanitizer this build was made with (ASan, TSan: the labs are built
 * with our flags, beside us; make sanitize also says so in
 * $LEAKLAB_SANITIZER), or NULL. Valgrind cannot run such a build, and
 * RLIMIT_AS cannot cap it: it reserves terabytes of address space. */
static const char *sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return "AddressSanitizer";
#elif defined(__SANITIZE_THREAD__)
    return "ThreadSanitizer";
#else
    const char *env = getenv("LEAKLAB_SANITIZER");
    return env && *env && strcmp(env, "none") != 0 ? env : NULL;
#endif
}

/* The directory this binary lives in: build/, or build/asan/. */
static void build_dir(char *dir, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n < 0)
        quiz_fail("/proc/self/exe");
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
}

/* Opens path for writing onto fd (1 or 2), or /dev/null for NULL. In a
 * child: returns false if it cannot. */
static bool redirect(int fd, const char *path)
{
    int f = open(path ? path : "/dev/null",
                 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return f >= 0 && dup2(f, fd) == fd;
}

/* Forks file (a path, or a command looked up in $PATH) with argv, to die
 * with us (PR_SET_PDEATHSIG), with stdout into out (NULL: /dev/null),
 * stderr into err, RLIMIT_AS at cap (0: as it is), and none of the
 * runner's variables (LEAKLAB_TSV would give a lab a record to write,
 * LEAKLAB_CAP would tell it a cap it does not have). Returns its pid;
 * exits 1 if fork fails. The child exits 126 if it cannot be set up and
 * 127 if exec fails, saying why into err. */
static pid_t spawn(const char *file, char *const argv[], const char *out,
                   const char *err, uint64_t cap)
{
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        quiz_fail("fork");
    if (pid > 0)
        return pid;
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGHUP, &dfl, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(126);         /* we died already, or cannot take it along */
    if (!redirect(STDOUT_FILENO, out) || !redirect(STDERR_FILENO, err))
        _exit(126);
    if (cap) {
        struct rlimit rl = {cap, cap};
        if (setrlimit(RLIMIT_AS, &rl) < 0) {
            perror("leaklab: setrlimit(RLIMIT_AS)");
            _exit(126);
        }
    }
    unsetenv("LEAKLAB_TSV");
    unsetenv("LEAKLAB_CAP");
    execvp(file, argv);
    fprintf(stderr, "leaklab: %s: %s\n", file, strerror(errno));
    _exit(127);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Stops a child: SIGTERM (the runner then takes its lab down and reaps
 * it, so that nothing writes into the directory we remove), SIGKILL if
 * it has not gone within two seconds. Returns once it is reaped. */
static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    double deadline = now_s() + 2;
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
            return;
        }
        struct timespec tick = {0, 2000000};
        nanosleep(&tick, NULL);
    }
}

/* Waits for a child of spawn(), looking every 2 ms. Returns its wait
 * status. On a signal it stops the child and exits 128 + signal; after
 * CHILD_TIMEOUT_S it stops it and exits 1, naming what. */
static int wait_child(pid_t pid, const char *what)
{
    double deadline = now_s() + CHILD_TIMEOUT_S;
    int status;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            quiz_fail("waitpid");
        if (interrupted) {
            stop_child(pid);
            check_interrupt();
        }
        if (now_s() > deadline) {
            stop_child(pid);
            quiz_error("%s took more than %d s; stopped it", what,
                       CHILD_TIMEOUT_S);
        }
        struct timespec tick = {0, 2000000};
        nanosleep(&tick, NULL);
    }
}

/* Copies a child's stderr file to ours: what it said before it failed. */
static void show_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

/* ------------------------------------------------------------------------
 * Records: the runner's .meta and the lab's TSV, read as data
 * --------------------------------------------------------------------- */

/* A path in the temporary directory: temp_dir/name. */
static void temp_path(char *path, size_t len, const char *name)
{
    if ((size_t)snprintf(path, len, "%s/%s", temp_dir, name) >= len)
        quiz_error("path too long: '%s/%s'", temp_dir, name);
}

/* Is text a whole number (an optional '-', then digits) that fits?
 * Stores it in value. */
static bool whole_number(const char *text, long long *value)
{
    const char *digits = text + (text[0] == '-');
    if (!*digits || strspn(digits, "0123456789") != strlen(digits) ||
        strlen(digits) > 18)
        return false;
    *value = strtoll(text, NULL, 10);
    return true;
}

/* The value of key in the .meta at path, a whole number. Exits 1,
 * naming the file and the key, if either is missing or it is not one. */
static long long meta_number(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        quiz_fail(path);
    char line[1024];
    size_t klen = strlen(key);
    long long value = 0;
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, key, klen) == 0 && line[klen] == '=')
            found = whole_number(line + klen + 1, &value);
    }
    fclose(f);
    if (!found)
        quiz_error("%s: no whole number for %s", path, key);
    return value;
}

/* Does the .meta at path say verdict=word? Exits 1 if it cannot be read. */
static bool meta_verdict(const char *path, const char *word)
{
    FILE *f = fopen(path, "r");
    if (!f)
        quiz_fail(path);
    char line[1024];
    bool is = false;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "verdict=", 8) == 0) {
            line[strcspn(line, "\n")] = '\0';
            is = strcmp(line + 8, word) == 0;
        }
    fclose(f);
    return is;
}

/* The value of column on the TSV's last data row (the header is its first
 * line that is not a '#' comment), a whole number. Exits 1, naming the
 * file, if it has no such column, no row, or not a whole number there. */
static long long tsv_last(const char *path, const char *column)
{
    FILE *f = fopen(path, "r");
    if (!f)
        quiz_fail(path);
    char line[4096], last[4096] = "";
    int col = -1;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = '\0';
        if (col >= 0) {
            memcpy(last, line, sizeof last);
            continue;
        }
        int i = 0;                         /* the header: find the column */
        for (char *name = line; name; i++) {
            char *tab = strchr(name, '\t');
            if (tab)
                *tab = '\0';
            if (strcmp(name, column) == 0)
                col = i;
            name = tab ? tab + 1 : NULL;
        }
        if (col < 0)
            break;
    }
    fclose(f);
    char *field = last;
    for (int i = 0; i < col && field; i++) {
        field = strchr(field, '\t');
        if (field)
            field++;
    }
    long long value;
    if (col < 0 || !*last || !field)
        quiz_error("%s: no row with a %s column", path, column);
    field[strcspn(field, "\t")] = '\0';
    if (!whole_number(field, &value))
        quiz_error("%s: %s is '%s' on the last row, not a whole number",
                   path, column, field);
    return value;
}

/* ------------------------------------------------------------------------
 * Running a lab through the runner
 * --------------------------------------------------------------------- */

/* The runner's own options for the scenario: "run N [--mode M] [--cap C]",
 * into a. */
static void add_runner_options(struct args *a, const struct scenario *s)
{
    add(a, "run");
    add(a, "%d", s->lab);
    if (s->mode) {
        add(a, "--mode");
        add(a, "%s", s->mode);
    }
    if (s->cap) {
        add(a, "--cap");
        add_size(a, s->cap);
    }
}

/* Runs `leaklab run N ... --quiet --out TEMP -- LAB-ARGS` (ourselves, as
 * /proc/self/exe: the runner caps the lab and takes it down with it),
 * its stdout and stderr in TEMP/run.out and TEMP/run.err. lab_args ends
 * with the lab's arguments. Returns once the runner has written a .meta
 * for each mode it ran; else exits 1 with what the runner said. */
static void run_through_runner(const struct scenario *s,
                               const struct args *lab_args,
                               const char *const *modes, int nmodes)
{
    static struct args a;
    a.n = 0;
    add(&a, "leaklab");
    add_runner_options(&a, s);
    add(&a, "--quiet");
    add(&a, "--timeout");
    add(&a, "%d", RUN_TIMEOUT_S);
    add(&a, "--out");
    add(&a, "%s", temp_dir);
    add(&a, "--");
    for (int i = 0; i < lab_args->n; i++)
        add(&a, "%s", lab_args->v[i]);

    char out[PATH_MAX], err[PATH_MAX];
    temp_path(out, sizeof out, "run.out");
    temp_path(err, sizeof err, "run.err");
    /* argv[0] is "leaklab"; the file, this very binary */
    pid_t pid = spawn("/proc/self/exe", a.v, out, err, 0);
    int status = wait_child(pid, "the run");
    /* 0: every run ended as its mode expects; 1: one did not, which a
     * quiz often asks for (lab 3's offheap at a small cap). */
    bool ran = WIFEXITED(status) && WEXITSTATUS(status) <= 1;
    for (int i = 0; ran && i < nmodes; i++) {
        char name[PATH_MAX], path[PATH_MAX];
        snprintf(name, sizeof name, "lab%d/%s.meta", s->lab, modes[i]);
        temp_path(path, sizeof path, name);
        ran = access(path, F_OK) == 0;
    }
    if (!ran) {
        show_file(err);
        quiz_error("the run of lab %d failed (%s %d); nothing to judge",
                   s->lab, WIFEXITED(status) ? "exit" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status)
                                     : WTERMSIG(status));
    }
}

/* A record of mode's run: TEMP/labN/MODE.EXT. */
static void record(char *path, size_t len, const struct scenario *s,
                   const char *mode, const char *ext)
{
    char name[128];
    snprintf(name, sizeof name, "lab%d/%s.%s", s->lab, mode, ext);
    temp_path(path, len, name);
}

/* ------------------------------------------------------------------------
 * What a run measured, and what an answer is
 * --------------------------------------------------------------------- */

/* How a question's answer is written and judged. */
enum kind {
    ANSWER_WHOLE,  /* a whole number, commas allowed: right if exact */
    ANSWER_MIB,    /* MiB, a number such as 12.5: within the tolerance */
    ANSWER_MODES,  /* lab 5's modes, comma-separated, or "none" */
};

/* Lab 5's modes, in its order: bit i of a mode set is modes5[i]. */
static const char *const modes5[] = {"slurp", "stream", "zerocopy"};
#define NMODES5 3

/* What one run decided. */
struct result {
    double value;           /* a number: the answer, measured */
    unsigned under;         /* modes: those whose peak stayed under */
    unsigned close;         /* modes: those within the tolerance of the
                               line, right whether named or not */
    char measured[256];     /* what the run showed, as a clause */
    char why[640];          /* why, in one line */
    char answer[64];        /* the answer as --answer takes it */
};

/* Writes into r->why, printf-style. */
static void why(struct result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void why(struct result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* A whole number with thousands commas, as Valgrind prints it. */
static const char *commas(long long n, char *buf, size_t len)
{
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    size_t o = 0;
    if (n < 0 && o + 1 < len)
        buf[o++] = '-';
    for (int i = 0; i < nd && o + 1 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------
 * Lab 1: how many bytes does memcheck call "definitely lost"?
 *
 * Each iteration mallocs a request context of --size bytes plus 16 (its
 * id and length). lose overwrites one slot: n - 1 contexts lost at exit.
 * sometimes skips the free on every tenth request: n / 10 lost. retain
 * and narrow keep a pointer to all they hold (still reachable, not lost);
 * release frees it all. Valgrind counts bytes, so the answer is exact.
 * --------------------------------------------------------------------- */

/* One mode of lab 1 in the quiz: what it does, in the scenario's words. */
static const struct {
    const char *name;         /* the mode */
    const char *does;         /* what it does with each context */
} lab1_modes[] = {
    {"lose", "keeps one table slot for its handler and overwrites it with "
             "each new handler, without freeing the context the old one "
             "captured."},
    {"sometimes", "unregisters each handler after use and frees its "
                  "context, except that every tenth request (ids 10, 20, "
                  "...) takes an error path that skips the free."},
    {"retain", "registers a handler per request that captures the whole "
               "context, in a listener table that only grows, and never "
               "removes one."},
    {"narrow", "registers a handler per request that captures only the "
               "id (8 bytes, a malloc of its own), in a table that only "
               "grows, and frees the context."},
    {"release", "registers a handler per request, then unregisters it "
                "after use and frees its context."},
};

/* lose and sometimes three times in nine, the others once each. */
static void draw1(struct scenario *s, uint64_t *state)
{
    static const int pick[] = {0, 0, 0, 1, 1, 1, 2, 3, 4};
    int m = pick[draw(state, 0, 8)];
    s->mode = lab1_modes[m].name;
    s->size = KIB * (uint64_t)draw(state, 1, 64);
    s->iterations = m == 1 ? draw(state, 10, 45) : draw(state, 2, 30);
}

/* The lab's own arguments: --quiet --mode M --iterations N --size S. */
static void args1(const struct scenario *s, struct args *a)
{
    add(a, "--quiet");
    add(a, "--mode");
    add(a, "%s", s->mode);
    add(a, "--iterations");
    add(a, "%ld", s->iterations);
    add(a, "--size");
    add_size(a, s->size);
}

static void print1(const struct scenario *s)
{
    const char *does = "";
    for (size_t i = 0; i < sizeof lab1_modes / sizeof lab1_modes[0]; i++)
        if (strcmp(lab1_modes[i].name, s->mode) == 0)
            does = lab1_modes[i].does;
    struct args a = {.n = 0};
    add(&a, "valgrind");
    add(&a, "--leak-check=full");
    add(&a, "build/lab1");
    args1(s, &a);
    printf("The run:\n");
    print_command(&a);
    putchar('\n');
    paragraph("Each of its %ld iterations builds a request context, one "
              "malloc of --size (%llu bytes) plus 16 (the context's id and "
              "length), every byte written, and makes a handler that "
              "captures it. Mode %s %s", s->iterations,
              (unsigned long long)s->size, s->mode, does);
    putchar('\n');
    paragraph("Question: how many bytes does memcheck call \"definitely "
              "lost\" at exit?");
    paragraph("Answer in bytes, a whole number (commas allowed). The "
              "tolerance is 0: Valgrind counts bytes, and only the exact "
              "number is right.");
}


/* Finds "definitely lost: N bytes in B blocks" in Valgrind's log at path;
 * "All heap blocks were freed" is 0 in 0. Returns false if neither. */
static bool definitely_lost(const char *path, long long *bytes,
                            long long *blocks)
{
    FILE *f = fopen(path, "r");
    if (!f)
        quiz_fail(path);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strstr(line, "All heap blocks were freed -- no leaks are "
                         "possible")) {
            *bytes = *blocks = 0;
            found = true;
            continue;
        }
        const char *at = strstr(line, "definitely lost: ");
        if (!at)
            continue;
        char digits[32] = "";
        size_t n = 0;                     /* "262,208" -> "262208" */
        for (at += 17; (*at >= '0' && *at <= '9') || *at == ','; at++)
            if (*at != ',' && n + 1 < sizeof digits)
                digits[n++] = *at;
        digits[n] = '\0';
        found = whole_number(digits, bytes) &&
                sscanf(at, " bytes in %lld blocks", blocks) == 1;
    }
    fclose(f);
    return found;
}

/* Runs lab 1 under `valgrind --leak-check=full`, capped and dying with
 * us, and reads its "definitely lost" bytes. Exits 1 on a sanitizer
 * build, without Valgrind, or on a run that fails. */
static void run1(const struct scenario *s, struct result *r)
{
    char bin[PATH_MAX], log[PATH_MAX], err[PATH_MAX];
    build_dir(bin, sizeof bin);
    temp_path(log, sizeof log, "memcheck.log");
    temp_path(err, sizeof err, "valgrind.err");
    static struct args a;
    a.n = 0;
    add(&a, "valgrind");
    add(&a, "--leak-check=full");
    add(&a, "--log-file=%s", log);
    add(&a, "%s/lab1", bin);
    args1(s, &a);
    int status = wait_child(spawn("valgrind", a.v, NULL, err, VALGRIND_CAP),
                            "valgrind");
    long long bytes, blocks;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        !definitely_lost(log, &bytes, &blocks)) {
        show_file(err);
        show_file(log);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            quiz_error("quiz 1 needs Valgrind: make deps installs it");
        quiz_error("lab 1 under Valgrind failed; nothing to judge");
    }
    char b[32], each[32];
    r->value = (double)bytes;
    snprintf(r->answer, sizeof r->answer, "%lld", bytes);
    snprintf(r->measured, sizeof r->measured, "memcheck called %s bytes "
             "in %lld blocks definitely lost", commas(bytes, b, sizeof b),
             blocks);
    commas(blocks ? bytes / blocks : (long long)s->size + 16, each,
           sizeof each);
    if (strcmp(s->mode, "lose") == 0)
        why(r, "each overwrite of the slot drops the only pointer to the "
            "context before it: %lld of the %ld contexts of %s bytes "
            "(--size + 16), all but the last, still in the slot", blocks,
            s->iterations, each);
    else if (strcmp(s->mode, "sometimes") == 0)
        why(r, "the error path skipped the free of every tenth request: "
            "%lld of the %ld contexts, of %s bytes each (--size + 16)",
            blocks, s->iterations, each);
    else if (strcmp(s->mode, "release") == 0)
        why(r, "release frees every context after use: at exit nothing "
            "is held, so nothing can be lost");
    else
        why(r, "%s's table still points at every handler, and each at "
            "what it captured: memcheck calls that \"still reachable\", "
            "not lost, however much it is", s->mode);
}

/* ------------------------------------------------------------------------
 * Lab 2: at which iteration does the budget run die?
 *
 * budget keeps one more array of --size each iteration; the lab refuses
 * the array that would take its books past --max-heap: n arrays fit when
 * n x size <= budget, and it dies at the next one, FATAL, exit 3, before
 * that iteration's row. Arithmetic, so the answer is exact.
 * --------------------------------------------------------------------- */

/* Arrays of 512K to 4M in 64K steps; a budget of 3M to 16M, in a quarter
 * of the draws an exact multiple of the array (does n x size == budget
 * fit?). 40 iterations: always more than fit. */
static void draw2(struct scenario *s, uint64_t *state)
{
    s->mode = "budget";
    s->size = 64 * KIB * (uint64_t)draw(state, 8, 64);
    if (draw(state, 0, 3) == 0)
        s->max_heap = s->size * (uint64_t)draw(state, 2,
                                               (long)(16 * MIB / s->size));
    else
        s->max_heap = 256 * KIB * (uint64_t)draw(state, 12, 64);
    s->iterations = 40;
}

static void args2(const struct scenario *s, struct args *a)
{
    add(a, "--size");
    add_size(a, s->size);
    add(a, "--max-heap");
    add_size(a, s->max_heap);
    add(a, "--iterations");
    add(a, "%ld", s->iterations);
}

static void print2(const struct scenario *s)
{
    char size[32], budget[32];
    struct args a = {.n = 0};
    add(&a, "build/leaklab");
    add_runner_options(&a, s);
    add(&a, "--");
    args2(s, &a);
    printf("The run:\n");
    print_command(&a);
    putchar('\n');
    paragraph("Each iteration keeps one more array of --size bytes (%s), "
              "every element written. Mode budget keeps its own books, as "
              "V8 does: it refuses the array that would take what it holds "
              "past --max-heap (%s), and dies: FATAL, exit 3, before that "
              "iteration's row.", human(s->size, size, sizeof size),
              human(s->max_heap, budget, sizeof budget));
    putchar('\n');
    paragraph("Question: at which iteration does the run die?");
    paragraph("Answer with the iteration, a whole number. The tolerance is "
              "0: the budget's arithmetic decides, the same on every "
              "machine.");
}

/* Runs budget through the runner: it died at the iteration after the
 * last row. Exits 1 if it did not die at the budget. */
static void run2(const struct scenario *s, struct result *r)
{
    static struct args a;
    a.n = 0;
    args2(s, &a);
    run_through_runner(s, &a, &s->mode, 1);
    char meta[PATH_MAX], tsv[PATH_MAX];
    record(meta, sizeof meta, s, s->mode, "meta");
    record(tsv, sizeof tsv, s, s->mode, "tsv");
    if (!meta_verdict(meta, "limit"))
        quiz_error("%s: the run did not end at the budget (no "
                   "verdict=limit); nothing to judge", meta);
    long long died = tsv_last(tsv, "iter") + 1;
    r->value = (double)died;
    snprintf(r->answer, sizeof r->answer, "%lld", died);
    snprintf(r->measured, sizeof r->measured, "it died at iteration %lld",
             died);
    char size[32], budget[32], fit[32], over[32];
    why(r, "%lld array%s of %s (%s) fit in the %s budget; array %lld would "
        "have made %s, so the lab refused it: FATAL, exit 3", died - 1,
        died - 1 == 1 ? "" : "s", human(s->size, size, sizeof size),
        human(s->size * (uint64_t)(died - 1), fit, sizeof fit),
        human(s->max_heap, budget, sizeof budget), died,
        human(s->size * (uint64_t)died, over, sizeof over));
}

/* ------------------------------------------------------------------------
 * Lab 3: what is the peak rss when it stops?
 *
 * offheap keeps one more mmap'd buffer of --size each iteration, every
 * byte written. The heap budget never sees them; the cap (RLIMIT_AS, of
 * address space) does. The lab starts with about 2.5 MiB of address
 * space mapped (1.5 MiB resident), so a cap of fit x size + 4 MiB holds
 * `fit` buffers and not one more, with a margin of 1.5 MiB either way
 * for a libc of another size. Half the scenarios run out of iterations
 * first. rss differs a little from machine to machine: +-1.5 MiB, less
 * than one buffer (3 MiB at least), so a buffer too many is wrong.
 * --------------------------------------------------------------------- */

static void draw3(struct scenario *s, uint64_t *state)
{
    s->mode = "offheap";
    s->size = 512 * KIB * (uint64_t)draw(state, 6, 10);
    long fit = draw(state, 2, 5);
    s->cap = (uint64_t)fit * s->size + 4 * MIB;
    s->iterations = draw(state, 0, 1) ? fit + draw(state, 2, 8)
                                      : draw(state, 1, fit);
    s->max_heap = MIB * (uint64_t)draw(state, 2, 8);
}

static void args3(const struct scenario *s, struct args *a)
{
    add(a, "--size");
    add_size(a, s->size);
    add(a, "--max-heap");
    add_size(a, s->max_heap);
    add(a, "--iterations");
    add(a, "%ld", s->iterations);
}

#define TOLERANCE3 1.5   /* MiB either way */

static void print3(const struct scenario *s)
{
    char size[32], budget[32], cap[32];
    struct args a = {.n = 0};
    add(&a, "build/leaklab");
    add_runner_options(&a, s);
    add(&a, "--");
    args3(s, &a);
    printf("The run:\n");
    print_command(&a);
    putchar('\n');
    paragraph("It runs %ld iteration%s. Each keeps one more buffer of "
              "--size bytes (%s), from mmap, every byte written. --max-heap "
              "is a "
              "heap budget of %s. --cap caps the lab's address space "
              "(RLIMIT_AS) at %s. Before its first buffer the lab has "
              "about 2.5 MiB of address space mapped, about 1.5 MiB of it "
              "resident.", s->iterations, s->iterations == 1 ? "" : "s",
              human(s->size, size, sizeof size),
              human(s->max_heap, budget, sizeof budget),
              human(s->cap, cap, sizeof cap));
    putchar('\n');
    paragraph("Question: what is the lab's peak rss, in MiB, when it "
              "stops?");
    paragraph("Answer in MiB, a number such as 12.5: right within %.1f MiB "
              "either way (rss differs a little from machine to machine).",
              TOLERANCE3);
}

/* Runs offheap through the runner: the answer is wait4's peak rss, from
 * the .meta; the last row says how many buffers it held. */
static void run3(const struct scenario *s, struct result *r)
{
    static struct args a;
    a.n = 0;
    args3(s, &a);
    run_through_runner(s, &a, &s->mode, 1);
    char meta[PATH_MAX], tsv[PATH_MAX];
    record(meta, sizeof meta, s, s->mode, "meta");
    record(tsv, sizeof tsv, s, s->mode, "tsv");
    bool finished = meta_verdict(meta, "finished");
    if (!finished && !meta_verdict(meta, "limit"))
        quiz_error("%s: the run ended neither at the cap nor after its "
                   "iterations; nothing to judge", meta);
    double peak = (double)meta_number(meta, "peak_rss_kib") / 1024;
    long long held = tsv_last(tsv, "iter");
    double own = peak - mib(s->size * (uint64_t)held);
    const char *plural = held == 1 ? "" : "s";
    char size[32], budget[32], cap[32];
    human(s->size, size, sizeof size);
    human(s->max_heap, budget, sizeof budget);
    human(s->cap, cap, sizeof cap);
    r->value = peak;
    snprintf(r->answer, sizeof r->answer, "%.1f", peak);
    snprintf(r->measured, sizeof r->measured, "its peak rss was %.1f MiB; "
             "it stopped %s, holding %lld buffer%s", peak,
             finished ? "after its last iteration" : "at the cap", held,
             plural);
    if (finished)
        why(r, "its %lld buffer%s fit under the %s cap, and the %s heap "
            "budget never saw %s (mmap, not malloc): %lld x %s, plus the "
            "lab's own %.1f MiB", held, plural, cap, budget,
            held == 1 ? "it" : "them", held, size, own);
    else
        why(r, "the %s heap budget never saw the mmap'd buffers; the cap "
            "did: %lld x %s filled the %s of address space with the lab's "
            "own mappings, and buffer %lld did not fit; rss is the buffers "
            "plus the lab's own %.1f MiB", budget, held, size, cap,
            held + 1, own);
}

/* ------------------------------------------------------------------------
 * Lab 4: what is the depth after T ticks?
 *
 * Each tick the producer offers --produce jobs, then the consumer takes
 * up to --consume. unbounded keeps them all: T x (p - c). bounded stops
 * the producer at a full ring of K and refills what the consumer frees:
 * min(K, T x (p - c)). shed turns away what a full ring cannot take, and
 * the consumer then takes c: min(K - c, T x (p - c)). The lab's clock
 * makes each row follow from these rules on any machine: exact.
 * --------------------------------------------------------------------- */

static const char *const modes4[] = {"unbounded", "bounded", "shed"};

static void draw4(struct scenario *s, uint64_t *state)
{
    s->mode = modes4[draw(state, 0, 2)];
    s->produce = draw(state, 2, 6);
    s->consume = draw(state, 1, s->produce - 1);
    s->capacity = draw(state, 6, 30);
    s->iterations = draw(state, 3, 30);
    s->size = 4 * KIB;
}

static void args4(const struct scenario *s, struct args *a)
{
    add(a, "--size");
    add_size(a, s->size);
    add(a, "--produce");
    add(a, "%ld", s->produce);
    add(a, "--consume");
    add(a, "%ld", s->consume);
    add(a, "--capacity");
    add(a, "%ld", s->capacity);
    add(a, "--iterations");
    add(a, "%ld", s->iterations);
}

static void print4(const struct scenario *s)
{
    static const char *const rule[] = {
        "a linked list with no limit: every job offered waits in it until "
        "the consumer takes it. (--capacity sizes a ring, which this mode "
        "does not have.)",
        "a ring of --capacity slots: when it is full, the producer waits, "
        "job in hand, until the consumer frees a slot (backpressure).",
        "a ring of --capacity slots: a job offered to a full ring is "
        "turned away and counted in the dropped column (load shedding).",
    };
    int m = 0;
    while (m < 2 && strcmp(modes4[m], s->mode) != 0)
        m++;
    struct args a = {.n = 0};
    add(&a, "build/leaklab");
    add_runner_options(&a, s);
    add(&a, "--");
    args4(s, &a);
    printf("The run:\n");
    print_command(&a);
    putchar('\n');
    paragraph("Each tick the producer offers --produce jobs (%ld), then "
              "the consumer takes up to --consume of them (%ld). The queue "
              "of mode %s is %s", s->produce, s->consume, s->mode, rule[m]);
    putchar('\n');
    paragraph("Question: how many jobs wait in the queue after tick %ld "
              "(the depth column of the last row)?", s->iterations);
    paragraph("Answer with a whole number. The tolerance is 0: the lab's "
              "clock makes every row follow from the rules, the same on "
              "every machine.");
}

/* Runs the mode through the runner; the answer is the last row's depth,
 * which must be tick T's. */
static void run4(const struct scenario *s, struct result *r)
{
    static struct args a;
    a.n = 0;
    args4(s, &a);
    run_through_runner(s, &a, &s->mode, 1);
    char meta[PATH_MAX], tsv[PATH_MAX];
    record(meta, sizeof meta, s, s->mode, "meta");
    record(tsv, sizeof tsv, s, s->mode, "tsv");
    long long tick = tsv_last(tsv, "iter");
    if (!meta_verdict(meta, "finished") || tick != s->iterations)
        quiz_error("%s: the run stopped at tick %lld of %ld; nothing to "
                   "judge", meta, tick, s->iterations);
    long long depth = tsv_last(tsv, "depth");
    long long produced = tsv_last(tsv, "produced");
    long long consumed = tsv_last(tsv, "consumed");
    long long dropped = tsv_last(tsv, "dropped");
    r->value = (double)depth;
    snprintf(r->answer, sizeof r->answer, "%lld", depth);
    snprintf(r->measured, sizeof r->measured, "after tick %lld the depth "
             "was %lld", tick, depth);
    char rule[256];
    long gain = s->produce - s->consume;
    if (strcmp(s->mode, "unbounded") == 0)
        snprintf(rule, sizeof rule, "nothing limits the list: it grows "
                 "by %ld - %ld = %ld jobs a tick", s->produce, s->consume,
                 gain);
    else if (depth < s->capacity - (dropped ? s->consume : 0))
        snprintf(rule, sizeof rule, "the ring has not filled yet: it "
                 "grows by %ld - %ld = %ld jobs a tick", s->produce,
                 s->consume, gain);
    else if (strcmp(s->mode, "bounded") == 0)
        snprintf(rule, sizeof rule, "the ring is full at %ld: the "
                 "producer waits there, and refills each slot the consumer "
                 "frees", s->capacity);
    else
        snprintf(rule, sizeof rule, "each tick the offers fill the ring "
                 "to %ld and the rest are dropped, then the consumer takes "
                 "%ld: %ld - %ld", s->capacity, s->consume, s->capacity,
                 s->consume);
    why(r, "%s; the row says produced %lld - consumed %lld - dropped %lld "
        "= %lld waiting", rule, produced, consumed, dropped, depth);
}

/* ------------------------------------------------------------------------
 * Lab 5: which modes' peak rss stays under 4 MiB for this file?
 *
 * slurp holds the whole file; stream holds its --buffer, or as much of
 * it as the file fills (the pages a read never touched are not
 * resident); zerocopy holds no buffer. Each adds the lab's own 1.5 MiB
 * or so. Files of 256K to 1.25M, or of 4M to 12M, and buffers from 16K to
 * 8M keep each mode's peak a good MiB from the line on this machine; a
 * mode within TOLERANCE5 of it counts either way, for other machines.
 * --------------------------------------------------------------------- */

#define LINE5 4.0        /* MiB: the line */
#define TOLERANCE5 0.5   /* MiB either side of it */

static void draw5(struct scenario *s, uint64_t *state)
{
    static const uint64_t buffers[] = {16 * KIB, 64 * KIB, 256 * KIB, MIB,
                                       4 * MIB, 6 * MIB, 8 * MIB};
    s->mode = NULL;                          /* every mode */
    s->file = draw(state, 0, 2) == 0
                  ? 64 * KIB * (uint64_t)draw(state, 4, 20)
                  : 64 * KIB * (uint64_t)draw(state, 64, 192);
    s->buffer = buffers[draw(state, 0, 6)];
}

/* The lab's arguments; dir NULL: as printed ("in.bin copy.bin"). */
static void args5(const struct scenario *s, struct args *a, const char *dir)
{
    add(a, "--buffer");
    add_size(a, s->buffer);
    add(a, "%s%sin.bin", dir ? dir : "", dir ? "/" : "");
    add(a, "%s%scopy.bin", dir ? dir : "", dir ? "/" : "");
}

static void print5(const struct scenario *s)
{
    char file[32], buffer[32];
    struct args make = {.n = 0}, run = {.n = 0};
    add(&make, "build/lab5");
    add(&make, "--make-input");
    add_size(&make, s->file);
    add(&make, "in.bin");
    add(&run, "build/leaklab");
    add_runner_options(&run, s);
    add(&run, "--");
    args5(s, &run, NULL);
    printf("The run:\n");
    print_command(&make);
    print_command(&run);
    putchar('\n');
    paragraph("A file of %s is copied three ways, one mode after the "
              "other. slurp reads all of it into one buffer, then writes "
              "it. stream loops through a --buffer of %s (a read fills "
              "only as much of it as the file has). zerocopy lets the "
              "kernel copy (copy_file_range), with no buffer of its own. "
              "Each run starts with about 1.5 MiB resident.",
              human(s->file, file, sizeof file),
              human(s->buffer, buffer, sizeof buffer));
    putchar('\n');
    paragraph("Question: which modes' peak rss stays under %.0f MiB for "
              "this file?", LINE5);
    paragraph("Answer with the modes, comma-separated (such as "
              "slurp,stream), or none. Tolerance: a mode whose peak lies "
              "within %.1f MiB of %.0f MiB is right whether you name it or "
              "not (rss differs a little from machine to machine).",
              TOLERANCE5, LINE5);
}

/* Makes the input with lab5 --make-input, runs every mode through the
 * runner, and reads each mode's peak from its .meta. */
static void run5(const struct scenario *s, struct result *r)
{
    char bin[PATH_MAX], err[PATH_MAX];
    build_dir(bin, sizeof bin);
    temp_path(err, sizeof err, "make-input.err");
    static struct args a;
    a.n = 0;
    add(&a, "%s/lab5", bin);
    add(&a, "--make-input");
    add_size(&a, s->file);
    add(&a, "%s/in.bin", temp_dir);
    /* A bare lab caps itself (at the runner's default): no cap of ours,
     * which a sanitizer build could not even start under. */
    int status = wait_child(spawn(a.v[0], a.v, NULL, err, 0),
                            "lab5 --make-input");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        show_file(err);
        quiz_error("lab5 --make-input failed; nothing to judge");
    }
    a.n = 0;
    args5(s, &a, temp_dir);
    run_through_runner(s, &a, modes5, NMODES5);

    double peak[NMODES5];
    char said[NMODES5][48], *sep = "";
    r->under = r->close = 0;
    r->answer[0] = '\0';
    for (int i = 0; i < NMODES5; i++) {
        char meta[PATH_MAX];
        record(meta, sizeof meta, s, modes5[i], "meta");
        peak[i] = (double)meta_number(meta, "peak_rss_kib") / 1024;
        snprintf(said[i], sizeof said[i], "%s %.1f MiB", modes5[i],
                 peak[i]);
        double off = peak[i] - LINE5;
        if (peak[i] < LINE5) {
            r->under |= 1u << i;
            strcat(r->answer, sep);
            strcat(r->answer, modes5[i]);
            sep = ",";
        }
        if (off <= TOLERANCE5 && off >= -TOLERANCE5)
            r->close |= 1u << i;
    }
    if (!r->under)
        strcpy(r->answer, "none");
    snprintf(r->measured, sizeof r->measured, "peak rss: %s, %s, %s; "
             "under %.0f MiB: %s", said[0], said[1], said[2], LINE5,
             r->answer);
    char file[32], held[32];
    human(s->file, file, sizeof file);
    human(s->buffer < s->file ? s->buffer : s->file, held, sizeof held);
    why(r, "slurp holds the whole file, %s; stream holds %s, its buffer "
        "or as much of it as the file fills; zerocopy holds no buffer, "
        "so its %.1f MiB is the lab's own, which the other two add to",
        file, held, peak[2]);
}

/* ------------------------------------------------------------------------
 * Lab 6: how many entries does the cache hold after batch T?
 *
 * The key space grows by --new-keys a batch, each new key asked for once
 * as it arrives (a miss, stored); every other lookup draws a key already
 * seen, so a hit or a miss of a key that was evicted. unbounded never
 * evicts: T x new keys. limit evicts one entry per insertion past
 * --max-entries: min(M, T x new keys). The stream does not change that:
 * exact. (The redis mode is not asked: it needs a server.)
 * --------------------------------------------------------------------- */

static const char *const modes6[] = {"unbounded", "limit"};

/* limit twice as often as unbounded: its bound is the interesting part. */
static void draw6(struct scenario *s, uint64_t *state)
{
    s->mode = modes6[draw(state, 0, 2) == 0 ? 0 : 1];
    s->size = KIB * (uint64_t)draw(state, 1, 16);
    s->requests = draw(state, 50, 300);
    s->new_keys = draw(state, 3, 40);
    s->max_entries = draw(state, 20, 400);
    s->iterations = draw(state, 3, 30);
}

static void args6(const struct scenario *s, struct args *a)
{
    add(a, "--size");
    add_size(a, s->size);
    add(a, "--requests");
    add(a, "%ld", s->requests);
    add(a, "--new-keys");
    add(a, "%ld", s->new_keys);
    if (strcmp(s->mode, "limit") == 0) {
        add(a, "--max-entries");
        add(a, "%ld", s->max_entries);
    }
    add(a, "--iterations");
    add(a, "%ld", s->iterations);
}

static void print6(const struct scenario *s)
{
    struct args a = {.n = 0};
    add(&a, "build/leaklab");
    add_runner_options(&a, s);
    add(&a, "--");
    args6(s, &a);
    printf("The run:\n");
    print_command(&a);
    putchar('\n');
    paragraph("Each batch is --requests lookups (%ld). The key space grows "
              "by --new-keys (%ld) a batch, and each new key is asked for "
              "once as it arrives: a miss, whose value is computed and "
              "stored. Every other lookup asks for a key already seen. %s",
              s->requests, s->new_keys,
              strcmp(s->mode, "limit") == 0
                  ? "Mode limit holds at most --max-entries entries: a "
                    "full map evicts its oldest insertion to store a new "
                    "one."
                  : "Mode unbounded never evicts anything.");
    putchar('\n');
    paragraph("Question: how many entries does the cache hold after batch "
              "%ld (the entries column of the last row)?", s->iterations);
    paragraph("Answer with a whole number. The tolerance is 0: the rules "
              "decide it, whatever the request stream draws.");
}

/* Runs the mode through the runner; the answer is the last row's
 * entries, which must be batch T's. */
static void run6(const struct scenario *s, struct result *r)
{
    static struct args a;
    a.n = 0;
    args6(s, &a);
    run_through_runner(s, &a, &s->mode, 1);
    char meta[PATH_MAX], tsv[PATH_MAX];
    record(meta, sizeof meta, s, s->mode, "meta");
    record(tsv, sizeof tsv, s, s->mode, "tsv");
    long long batch = tsv_last(tsv, "iter");
    if (!meta_verdict(meta, "finished") || batch != s->iterations)
        quiz_error("%s: the run stopped at batch %lld of %ld; nothing to "
                   "judge", meta, batch, s->iterations);
    long long entries = tsv_last(tsv, "entries");
    long long evictions = tsv_last(tsv, "evictions");
    r->value = (double)entries;
    snprintf(r->answer, sizeof r->answer, "%lld", entries);
    snprintf(r->measured, sizeof r->measured, "after batch %lld the cache "
             "held %lld entries", batch, entries);
    long seen = s->new_keys * s->iterations;
    if (strcmp(s->mode, "unbounded") == 0)
        why(r, "nothing is evicted, so every key ever seen stays: %ld new "
            "keys a batch x %ld batches = %ld", s->new_keys, s->iterations,
            seen);
    else if (seen <= s->max_entries)
        why(r, "%ld keys seen (%ld x %ld) fit under --max-entries %ld: "
            "nothing evicted yet", seen, s->new_keys, s->iterations,
            s->max_entries);
    else
        why(r, "%ld keys seen (%ld x %ld), but the map is full at "
            "--max-entries %ld: each new key past it evicted the oldest "
            "(%lld evictions in the last batch)", seen, s->new_keys,
            s->iterations, s->max_entries, evictions);
}

/* ------------------------------------------------------------------------
 * Lab 7: how many sessions does the server hold after batch T?
 *
 * A batch of R requests has R x 3 / 10 logins (at least 1) and R / 10
 * logouts, each of a session the batch made. frequent keeps every
 * session (logout only marks it): T x logins. hidden and fixed end a
 * session at logout, or --ttl batches after its login: (logins -
 * logouts) x min(T, ttl). The lab's rules make the table's size exact.
 * --------------------------------------------------------------------- */

static const char *const modes7[] = {"frequent", "hidden", "fixed"};

static void draw7(struct scenario *s, uint64_t *state)
{
    s->mode = modes7[draw(state, 0, 2)];
    s->size = 4 * KIB;
    s->requests = draw(state, 10, 40);
    s->ttl = draw(state, 2, 8);
    s->iterations = draw(state, 3, 16);
}

static void args7(const struct scenario *s, struct args *a)
{
    add(a, "--size");
    add_size(a, s->size);
    add(a, "--requests");
    add(a, "%ld", s->requests);
    add(a, "--ttl");
    add(a, "%ld", s->ttl);
    add(a, "--iterations");
    add(a, "%ld", s->iterations);
}

/* A batch's logins and logouts, as lab 7 counts them. */
static long logins7(const struct scenario *s)
{
    return s->requests * 3 / 10 > 0 ? s->requests * 3 / 10 : 1;
}

static void print7(const struct scenario *s)
{
    static const char *const rule[] = {
        "keeps every session in its table: a logout only marks it "
        "logged out (--ttl does not apply to this mode).",
        "ends a session at its logout, or --ttl batches after its "
        "login, and takes it out of the table (a logout first copies it "
        "to an audit list, which is not the table).",
        "ends a session at its logout, or --ttl batches after its "
        "login, and takes it out of the table.",
    };
    int m = 0;
    while (m < 2 && strcmp(modes7[m], s->mode) != 0)
        m++;
    struct args a = {.n = 0};
    add(&a, "build/leaklab");
    add_runner_options(&a, s);
    add(&a, "--");
    args7(s, &a);
    printf("The run:\n");
    print_command(&a);
    putchar('\n');
    paragraph("Each batch is --requests requests (%ld) to the server: %ld "
              "of them log a new user in, %ld log out a session that the "
              "same batch made, and the rest are page views and failed "
              "logins, which make no session. Mode %s %s", s->requests,
              logins7(s), s->requests / 10, s->mode, rule[m]);
    putchar('\n');
    paragraph("Question: how many sessions does the server's table hold "
              "after batch %ld (the sessions column of the last row)?",
              s->iterations);
    paragraph("Answer with a whole number. The tolerance is 0: the lab's "
              "rules decide the table's size, the same on every machine.");
}

/* Runs the mode through the runner; the answer is the last row's
 * sessions, which must be batch T's. */
static void run7(const struct scenario *s, struct result *r)
{
    static struct args a;
    a.n = 0;
    args7(s, &a);
    run_through_runner(s, &a, &s->mode, 1);
    char meta[PATH_MAX], tsv[PATH_MAX];
    record(meta, sizeof meta, s, s->mode, "meta");
    record(tsv, sizeof tsv, s, s->mode, "tsv");
    long long batch = tsv_last(tsv, "iter");
    if (!meta_verdict(meta, "finished") || batch != s->iterations)
        quiz_error("%s: the run stopped at batch %lld of %ld; nothing to "
                   "judge", meta, batch, s->iterations);
    long long sessions = tsv_last(tsv, "sessions");
    r->value = (double)sessions;
    snprintf(r->answer, sizeof r->answer, "%lld", sessions);
    snprintf(r->measured, sizeof r->measured, "after batch %lld the table "
             "held %lld sessions", batch, sessions);
    long in = logins7(s), out = s->requests / 10;
    if (strcmp(s->mode, "frequent") == 0)
        why(r, "no session ever leaves the table: %ld logins a batch x %ld "
            "batches = %ld", in, s->iterations, in * s->iterations);
    else
        why(r, "each batch leaves %ld - %ld = %ld sessions, and each lives "
            "--ttl %ld batches: %ld x min(%ld, %ld) = %ld", in, out,
            in - out, s->ttl, in - out, s->iterations, s->ttl,
            (in - out) * (s->iterations < s->ttl ? s->iterations : s->ttl));
}

/* ------------------------------------------------------------------------
 * The quizzes, and judging an answer
 * --------------------------------------------------------------------- */

/* One lab's quiz. */
static const struct quiz {
    const char *title;        /* the lab's title */
    const char *asks;         /* the question, short, for --answer */
    enum kind kind;           /* what an answer is */
    double tolerance;         /* MiB: either way, or around lab 5's line */
    const char *want;         /* what --answer wants, for its error */
    const char *plain_only;   /* why a sanitizer build cannot run it, or
                                 NULL if it can */
    void (*draw)(struct scenario *s, uint64_t *state);
    void (*print)(const struct scenario *s);
    void (*run)(const struct scenario *s, struct result *r);
} quizzes[NLABS] = {
    {"closure-captured state",
     "how many bytes does memcheck call \"definitely lost\"?",
     ANSWER_WHOLE, 0, "a whole number of bytes, such as 196608 or 196,608",
     "it runs lab 1 under Valgrind, which cannot run such a build",
     draw1, print1, run1},
    {"heap growth to the cap", "at which iteration does the run die?",
     ANSWER_WHOLE, 0, "the iteration, a whole number such as 7", NULL,
     draw2, print2, run2},
    {"off-heap buffers", "what is the peak rss, in MiB, when it stops?",
     ANSWER_MIB, TOLERANCE3, "MiB, a number such as 12.5",
     "it asks what an RLIMIT_AS cap does, which such a build cannot take "
     "(the runner caps it with the kill watchdog instead, and the answer "
     "would change from run to run)",
     draw3, print3, run3},
    {"unbounded queue", "how many jobs wait after the last tick?",
     ANSWER_WHOLE, 0, "a whole number of jobs, such as 12", NULL,
     draw4, print4, run4},
    {"stream copy", "which modes' peak rss stays under 4 MiB?",
     ANSWER_MODES, TOLERANCE5,
     "modes, comma-separated, such as slurp,stream, or none", NULL,
     draw5, print5, run5},
    {"unbounded cache", "how many entries after the last batch?",
     ANSWER_WHOLE, 0, "a whole number of entries, such as 84", NULL,
     draw6, print6, run6},
    {"a leak in a running server", "how many sessions after the last batch?",
     ANSWER_WHOLE, 0, "a whole number of sessions, such as 12", NULL,
     draw7, print7, run7},
};

/* An answer, checked before anything runs. */
struct answer {
    const char *text;         /* as typed */
    double value;             /* a whole number, or MiB */
    unsigned modes;           /* lab 5's: a bit per mode */
};

/* A whole number, in plain digits or with commas every three digits
 * ("196,608"). Returns false for anything else, or past 10^15. */
static bool parse_whole(const char *text, double *value)
{
    static const char *const digit = "0123456789";
    char digits[32];
    size_t first = strspn(text, digit), n = 0;
    const char *p = text + first;
    if (first == 0 || (*p == ',' && first > 3))
        return false;
    while (*p == ',' && strspn(p + 1, digit) == 3)
        p += 4;                           /* a group: ",ddd" */
    if (*p)
        return false;
    for (p = text; *p && n + 1 < sizeof digits; p++)
        if (*p != ',')
            digits[n++] = *p;
    digits[n] = '\0';
    long long v;
    if (n > 15 || !whole_number(digits, &v))
        return false;
    *value = (double)v;
    return true;
}

/* MiB: digits, an optional fraction, an optional "M" or "MiB". */
static bool parse_mib(const char *text, double *value)
{
    size_t whole = strspn(text, "0123456789");
    if (whole == 0 || whole > 6)
        return false;
    const char *rest = text + whole;
    if (*rest == '.') {
        size_t frac = strspn(rest + 1, "0123456789");
        if (frac == 0)
            return false;
        rest += 1 + frac;
    }
    if (*rest && strcmp(rest, "M") != 0 && strcmp(rest, "MiB") != 0)
        return false;
    *value = strtod(text, NULL);
    return true;
}

/* Lab 5's modes, comma-separated, each at most once, or "none". Returns
 * false for an empty name, an unknown one, or one named twice. */
static bool parse_modes(const char *text, unsigned *modes)
{
    *modes = 0;
    if (strcmp(text, "none") == 0)
        return true;
    for (const char *name = text;;) {
        size_t len = strcspn(name, ",");
        int i = 0;
        while (i < NMODES5 && (strlen(modes5[i]) != len ||
                               strncmp(modes5[i], name, len) != 0))
            i++;
        if (i == NMODES5 || (*modes & (1u << i)))
            return false;
        *modes |= 1u << i;
        if (!name[len])
            return true;
        name += len + 1;
    }
}

/* Checks text as an answer to q, into a. Exits 2, naming it, if it is
 * not one. */
static void parse_answer(const struct quiz *q, int lab, const char *text,
                         struct answer *a)
{
    a->text = text;
    bool ok = q->kind == ANSWER_WHOLE ? parse_whole(text, &a->value)
            : q->kind == ANSWER_MIB   ? parse_mib(text, &a->value)
                               : parse_modes(text, &a->modes);
    if (!ok)
        quiz_usage("bad --answer '%s' for quiz %d: want %s", visible(text),
                   lab, q->want);
}

/* Is a right, by what r measured, within q's tolerance? */
static bool judge(const struct quiz *q, const struct answer *a,
                  const struct result *r)
{
    if (q->kind == ANSWER_MODES)   /* each named as measured, or close */
        return ((a->modes ^ r->under) & ~r->close) == 0;
    double off = a->value - r->value;
    return off <= q->tolerance + 1e-9 && off >= -q->tolerance - 1e-9;
}

/* How q's tolerance reads after an answer. */
static void print_tolerance(const struct quiz *q)
{
    if (q->kind == ANSWER_WHOLE)
        printf("(the tolerance is 0)");
    else if (q->kind == ANSWER_MIB)
        printf("(right within %.1f MiB either way)", q->tolerance);
    else
        printf("(a mode within %.1f MiB of the line counts either way)",
               q->tolerance);
}

/* ------------------------------------------------------------------------
 * leaklab quiz
 * --------------------------------------------------------------------- */

/* Parses "2" or "lab2" for a lab with a quiz. Exits 2 otherwise. */
static int quiz_number(const char *which)
{
    long n;
    const char *digits = strncmp(which, "lab", 3) == 0 ? which + 3 : which;
    if (!parse_long(digits, 0, 9999, &n) || (digits[0] == '0' && digits[1]))
        quiz_usage("unknown lab '%s': want a number from 1 to %d",
                   visible(which), NLABS);
    if (n < 1 || n > NLABS)
        quiz_usage("no quiz for lab %ld: quizzes are for labs 1 to %d", n,
                   NLABS);
    return (int)n;
}

int quiz_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"answer", required_argument, NULL, 'a'},
        {"show", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    install_handlers();
    const char *seed = NULL, *answer_text = NULL, *which = NULL;
    bool show = false, options = true;
    /* Options and the lab number in any order: getopt stops at each
     * word that is not an option ("+"), which we take, and goes on. So
     * argv[at] is always what getopt is reading, for option_error. */
    opterr = 0;
    optind = 1;
    for (int at = optind; optind < argc; at = optind) {
        int c = options ? getopt_long(argc, argv, "+:s:a:h", longopts, NULL)
                        : -1;
        char buf[256];
        switch (c) {
        case 's': seed = optarg; break;
        case 'a': answer_text = optarg; break;
        case 'S': show = true; break;
        case 'h': print_help(); return EXIT_DONE;
        case -1:                          /* a word, or the end, or "--" */
            if (optind == at + 1 && strcmp(argv[at], "--") == 0) {
                options = false;          /* what follows is words */
                break;
            }
            if (optind >= argc)
                break;
            if (which)
                quiz_usage("unexpected argument '%s' after the lab number",
                           visible(argv[optind]));
            which = argv[optind++];
            break;
        default:
            quiz_usage("%s (see leaklab quiz --help)",
                       option_error(c, argv[at], longopts, buf, sizeof buf));
        }
    }
    if (!which)
        quiz_usage("quiz needs a lab number, 1 to %d (see leaklab quiz "
                   "--help)", NLABS);
    int lab = quiz_number(which);
    if (show && answer_text)
        quiz_usage("--answer and --show together: --show gives the answer "
                   "away; choose one");
    if (seed && !valid_seed(seed))
        quiz_usage("bad --seed '%s': want 1 to %d letters, digits or "
                   ". _ @ + -, starting with a letter, a digit or _",
                   visible(seed), SEED_MAX);

    const struct quiz *q = &quizzes[lab - 1];
    struct scenario s = {.lab = lab};
    if (seed)
        snprintf(s.seed, sizeof s.seed, "%s", seed);
    else
        default_seed(s.seed, sizeof s.seed);
    uint64_t state = seed_state(lab, s.seed);
    q->draw(&s, &state);

    struct answer a = {0};
    if (answer_text)
        parse_answer(q, lab, answer_text, &a);

    if (!answer_text && !show) {                /* the scenario alone */
        printf("Quiz for lab %d, %s (seed %s)\n\n", lab, q->title, s.seed);
        q->print(&s);
        printf("\nPredict, then run:\n"
               "    build/leaklab quiz %d --seed %s --answer X   runs it "
               "and judges X\n"
               "    build/leaklab quiz %d --seed %s --show       runs it "
               "and shows the answer\n", lab, s.seed, lab, s.seed);
        return EXIT_DONE;
    }

    const char *san = sanitized();
    if (san && q->plain_only)
        quiz_error("quiz %d cannot run on a sanitizer build (%s): %s; use a "
                   "plain build: make build, then build/leaklab quiz %d",
                   lab, san, q->plain_only, lab);
    make_temp_dir();
    struct result r = {0};
    q->run(&s, &r);
    check_interrupt();

    printf("quiz %d (seed %s): %s\n", lab, s.seed, q->asks);
    if (show) {
        printf("measured: %s.\nwhy: %s.\nanswer: %s\n", r.measured, r.why,
               r.answer);
        return EXIT_DONE;
    }
    bool right = judge(q, &a, &r);
    printf("%s: %s; you said %s ", right ? "right" : "wrong", r.measured,
           a.text);
    print_tolerance(q);
    printf(".\nwhy: %s.\n", r.why);
    return right ? EXIT_DONE : EXIT_ERROR;
}
