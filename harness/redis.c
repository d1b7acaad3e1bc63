/*
 * redis.c - a private redis-server as the lab's child: start it, watch
 * it, stop it, and leave nothing behind. See redis.h for the promises.
 */
#define _GNU_SOURCE
#include "redis.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"

#define START_TIMEOUT_MS 10000   /* how long the server has to accept */
#define POLL_MS 10               /* how often we look meanwhile */

/* The one server. The signal handler reads pid and the three paths, which
 * are set before the handler is installed or before the fork, and never
 * change while it could run. */
static struct {
    volatile sig_atomic_t pid;   /* the server, 0 before it starts */
    char dir[PATH_MAX];          /* mkdtemp'd; "" when removed */
    char socket[PATH_MAX];       /* dir/redis.sock; "" when removed */
    char log[PATH_MAX];          /* dir/redis.log: its stdout and stderr */
    int statm_fd;                /* /proc/PID/statm, or -1 */
    bool reaped;                 /* waitpid has returned it */
    int status;                  /* its wait status, once reaped */
} S = {.statm_fd = -1};

/* ------------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

noreturn void redis_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);   /* the table so far, then the error, in that order */
    say_line(lab_progname(), fmt, ap);
    va_end(ap);
    exit(EXIT_ERROR);
}

/* The last non-empty line of the server's log, into buf ("" if none). */
static void last_log_line(char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(S.log, "r");
    if (f == NULL)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            snprintf(buf, len, "%s", line);
    }
    fclose(f);
}

/* ------------------------------------------------------------------------
 * Stopping: at exit, on SIGINT and SIGTERM
 * --------------------------------------------------------------------- */

/* Kills the server and removes its files. Async-signal-safe: kill,
 * unlink and rmdir only, on paths set before any signal could come. */
static void remove_all(void)
{
    if (S.pid > 0 && !S.reaped)
        kill(S.pid, SIGKILL);
    if (S.socket[0])
        unlink(S.socket);
    if (S.log[0])
        unlink(S.log);
    if (S.dir[0])
        rmdir(S.dir);
}

/* SIGINT, SIGTERM: the server and its directory go, then we die of the
 * same signal, as if we had no handler. */
static void on_signal(int sig)
{
    remove_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void redis_stop(void)
{
    remove_all();
    S.socket[0] = S.log[0] = S.dir[0] = '\0';
    if (S.pid > 0 && !S.reaped) {
        while (waitpid(S.pid, &S.status, 0) < 0 && errno == EINTR)
            ;
        S.reaped = true;
    }
    if (S.statm_fd >= 0)
        close(S.statm_fd);
    S.statm_fd = -1;
}

void redis_forget_socket(void)
{
    unlink(S.socket);
    unlink(S.log);
    rmdir(S.dir);
    S.socket[0] = S.log[0] = S.dir[0] = '\0';
}

/* ------------------------------------------------------------------------
 * Starting
 * --------------------------------------------------------------------- */

/* dst = "dir/name"; exits 1 if it does not fit in len. */
static void path_in_dir(char *dst, size_t len, const char *name)
{
    if ((size_t)snprintf(dst, len, "%s/%s", S.dir, name) >= len)
        redis_fail("%s/%s: path too long (set TMPDIR to a shorter "
                   "directory)", S.dir, name);
}

/* In the child, between fork and exec: die with the lab, default signal
 * dispositions (we ignore SIGPIPE; exec would keep that), stdin from
 * /dev/null, stdout and stderr to the log. Then exec redis-server; if that
 * fails, send errno through err_fd and exit 127. */
static noreturn void exec_server(pid_t lab, int err_fd, char **argv)
{
    int err = 0;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != lab)
        _exit(126);             /* the lab is gone already: so are we */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int in = open("/dev/null", O_RDONLY);
    int log = open(S.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || log < 0 || dup2(in, STDIN_FILENO) < 0 ||
        dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0) {
        err = errno;
    } else {
        execvp(argv[0], argv);
        err = errno;
    }
    ssize_t ignored = write(err_fd, &err, sizeof err);
    (void)ignored;
    _exit(127);
}

/* Can a client connect to the socket yet? */
static bool accepts(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, S.socket, strlen(S.socket) + 1);  /* checked */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

void redis_start(uint64_t maxmemory)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    if ((size_t)snprintf(S.dir, sizeof S.dir, "%s/leaklab-redis-XXXXXX",
                         tmp) >= sizeof S.dir)
        redis_fail("TMPDIR='%s': path too long", tmp);
    if (mkdtemp(S.dir) == NULL) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", S.dir);
        S.dir[0] = '\0';
        lab_fail(dir);
    }
    path_in_dir(S.log, sizeof S.log, "redis.log");
    path_in_dir(S.socket, sizeof S.socket, "redis.sock");
    if (strlen(S.socket) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
        redis_stop();
        redis_fail("TMPDIR='%s': too long for a unix socket's path (%zu "
                   "bytes at most): set TMPDIR to a shorter directory", tmp,
                   sizeof ((struct sockaddr_un *)0)->sun_path - 1);
    }
    atexit(redis_stop);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char maxmem[32];
    snprintf(maxmem, sizeof maxmem, "%llu", (unsigned long long)maxmemory);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        lab_fail("pipe2");
    fflush(stdout);
    pid_t lab = getpid();
    pid_t pid = fork();
    if (pid < 0)
        lab_fail("fork");
    if (pid == 0) {
        /* Every setting on the command line, none from a file: a first
         * argument that does not start with "--" would be a config file. */
        char *argv[] = {
            "redis-server",
            "--port", "0",                        /* no TCP at all */
            "--unixsocket", S.socket, "--unixsocketperm", "700",
            "--save", "", "--appendonly", "no",   /* no persistence */
            "--maxmemory", maxmem, "--maxmemory-policy", "allkeys-lru",
            "--dir", S.dir, "--logfile", "", "--daemonize", "no",
            "--databases", "1",
            NULL,
        };
        exec_server(lab, pipefd[1], argv);
    }
    S.pid = pid;
    close(pipefd[1]);

    /* The pipe closes at exec (O_CLOEXEC), or brings exec's errno. */
    int err = 0;
    ssize_t n;
    while ((n = read(pipefd[0], &err, sizeof err)) < 0 && errno == EINTR)
        ;
    close(pipefd[0]);
    if (n == (ssize_t)sizeof err) {
        redis_stop();
        if (err == ENOENT)
            redis_fail("the redis mode needs redis-server, which is not "
                       "installed (Debian package redis-server): make deps "
                       "installs it");
        redis_fail("redis-server: %s", strerror(err));
    }
    char statm[64];
    snprintf(statm, sizeof statm, "/proc/%d/statm", (int)pid);
    S.statm_fd = open(statm, O_RDONLY | O_CLOEXEC);

    for (int waited = 0; !accepts(); waited += POLL_MS) {
        char state[64];
        redis_state(state, sizeof state, 0);
        if (S.reaped || waited >= START_TIMEOUT_MS) {
            char line[1024];
            last_log_line(line, sizeof line);
            if (!S.reaped)
                snprintf(state, sizeof state, "still running after %d s",
                         START_TIMEOUT_MS / 1000);
            redis_stop();
            redis_fail("redis-server did not accept connections (%s)%s%s",
                       state, line[0] ? "; its log says: " : "", line);
        }
        struct timespec t = {0, POLL_MS * 1000000L};
        nanosleep(&t, NULL);
    }
}

/* ------------------------------------------------------------------------
 * Watching
 * --------------------------------------------------------------------- */

const char *redis_socket(void) { return S.socket; }

int redis_pid(void) { return S.pid; }

uint64_t redis_rss(void)
{
    return S.statm_fd >= 0 ? statm_rss_bytes(S.statm_fd) : 0;
}

void redis_state(char *buf, size_t len, int wait_ms)
{
    for (int waited = 0; S.pid > 0 && !S.reaped; waited += POLL_MS) {
        if (waitpid(S.pid, &S.status, WNOHANG) == S.pid)
            S.reaped = true;
        else if (waited >= wait_ms)
            break;
        else
            nanosleep(&(struct timespec){0, POLL_MS * 1000000L}, NULL);
    }
    if (S.pid <= 0)
        snprintf(buf, len, "not started");
    else if (!S.reaped)
        snprintf(buf, len, "running");
    else if (WIFEXITED(S.status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(S.status));
    else
        snprintf(buf, len, "killed by SIG%s",
                 sigabbrev_np(WTERMSIG(S.status)));
}

int redis_benchmark(long n, uint64_t size)
{
    char count[32], bytes[32];
    snprintf(count, sizeof count, "%ld", n);
    snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)size);
    fflush(stdout);
    pid_t lab = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != lab)
            _exit(126);
        signal(SIGPIPE, SIG_DFL);
        char *argv[] = {
            "redis-benchmark", "-s", S.socket, "-c", "1", "-n", count,
            "-d", bytes, "-t", "set,get", "--csv", NULL,
        };
        execvp(argv[0], argv);
        fprintf(stderr, "%s: redis-benchmark: %s\n", lab_progname(),
                strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
