/*
 * node.c - see node.h: the runner's side of the Node.js twins.
 */
#define _GNU_SOURCE
#include "node.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

const char *node_program(void)
{
    const char *node = getenv("LEAKLAB_NODE");
    return node && *node ? node : "node";
}

bool node_available(void)
{
    const char *node = node_program();
    if (strchr(node, '/'))
        return access(node, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *dir = path; ; ) {
        size_t n = strcspn(dir, ":");
        char file[PATH_MAX];
        if ((size_t)snprintf(file, sizeof file, "%.*s/%s", (int)n,
                             n ? dir : ".", node) < sizeof file &&
            access(file, X_OK) == 0)
            return true;
        if (dir[n] == '\0')
            return false;
        dir += n + 1;
    }
}

/* The one file dir/labN-*.js, into path (its real path). Returns 1 when
 * found, 0 when dir holds none (or cannot be read), -1 when it holds more
 * than one (path names the first two). */
static int twin_in(const char *dir, int number, char *path, size_t len)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    char prefix[32], first[NAME_MAX + 1] = "";
    snprintf(prefix, sizeof prefix, "lab%d-", number);
    int found = 0;
    struct dirent *e;
    /* cppcheck-suppress readdirCalled ; one thread, our own stream */
    while ((e = readdir(dp)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || n < 4 ||
            strcmp(e->d_name + n - 3, ".js") != 0)
            continue;
        if (found++ == 0) {
            snprintf(first, sizeof first, "%s", e->d_name);
            continue;
        }
        snprintf(path, len, "two twins of lab %d in %s: %s and %s", number,
                 dir, first, e->d_name);
        closedir(dp);
        return -1;
    }
    closedir(dp);
    if (!found)
        return 0;
    char joined[PATH_MAX * 2];
    snprintf(joined, sizeof joined, "%s/%s", dir, first);
    if (!realpath(joined, path)) {
        snprintf(path, len, "%s: cannot be resolved", joined);
        return -1;
    }
    return 1;
}

bool node_twin_path(int number, const char *bin_dir, char *path, size_t len)
{
    const char *given = getenv("LEAKLAB_NODE_DIR");
    if (given && *given) {
        int got = twin_in(given, number, path, len);
        if (got == 0)
            snprintf(path, len, "no lab%d-*.js in LEAKLAB_NODE_DIR (%s)",
                     number, given);
        return got == 1;
    }
    /* build/leaklab: the clone is one level up; build/asan/leaklab: two. */
    char dir[PATH_MAX];
    for (int levels = 1; levels <= 3; levels++) {
        if ((size_t)snprintf(dir, sizeof dir, "%s%.*s/labs/node", bin_dir,
                             3 * levels, "/../../..") >= sizeof dir)
            break;
        int got = twin_in(dir, number, path, len);
        if (got != 0)
            return got == 1;
    }
    snprintf(path, len, "no labs/node/lab%d-*.js in the clone above %s",
             number, bin_dir);
    return false;
}

void node_before_exec(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
}

/* Does the file at path hold text, on any line? If so, that line (its
 * first 4 KiB, without its newline) goes into line, cut to len. */
static bool log_says(const char *path, const char *text, char *line,
                     size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[4096];
    bool found = false;
    while (!found && fgets(buf, sizeof buf, f))
        found = strstr(buf, text) != NULL;
    fclose(f);
    if (found)
        snprintf(line, len, "%.*s", (int)strcspn(buf, "\n"), buf);
    return found;
}

const char *node_judge(int status, const char *log, char *line, size_t len)
{
    if (!WIFSIGNALED(status))
        return NULL;
    int sig = WTERMSIG(status);
    /* V8 aborts at its heap limit; it stops with a trap (int3, ud2) when
     * it cannot reserve what it needs to start. */
    if (sig != SIGABRT && sig != SIGTRAP && sig != SIGILL)
        return NULL;
    if (log_says(log, "JavaScript heap out of memory", line, len))
        return "V8 heap limit";
    if (log_says(log, "Fatal process out of memory", line, len) ||
        log_says(log, "Fatal process OOM", line, len))
        return "V8 could not reserve its address space";
    return NULL;
}
