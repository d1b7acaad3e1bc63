/*
 * dest.c - see dest.h.
 */
#define _GNU_SOURCE
#include "dest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab.h"

static const char *dest_path;            /* as given, for messages */
static char tmp_path[PATH_MAX];          /* the temporary's name, once it
                                            has one */
static volatile sig_atomic_t tmp_named;  /* tmp_path is on disk: remove it
                                            if the program does not commit */
static bool in_tmpfile;                  /* the fd is an O_TMPFILE: no name
                                            until dest_commit() */

/* Runs at every exit: a file that was not committed leaves nothing. */
static void remove_temporary(void)
{
    if (tmp_named)
        unlink(tmp_path);
}

/* Ctrl-C, kill, a closed terminal: the same, then die of the signal. */
static void remove_temporary_and_die(int sig)
{
    remove_temporary();
    signal(sig, SIG_DFL);
    raise(sig);
}

void dest_guard(void)
{
    signal(SIGXFSZ, SIG_IGN);
    atexit(remove_temporary);
    signal(SIGINT, remove_temporary_and_die);
    signal(SIGTERM, remove_temporary_and_die);
    signal(SIGHUP, remove_temporary_and_die);
}

/* Publishes tmp_path (written in full) to the signal handler. */
static void name_temporary(void)
{
    atomic_signal_fence(memory_order_seq_cst);  /* the name before the flag */
    tmp_named = 1;
}

/* The length of the path's directory part, its last slash included; 0
 * for a bare name. The temporary must be in that directory for rename. */
static int dir_length(void)
{
    const char *slash = strrchr(dest_path, '/');
    return slash ? (int)(slash - dest_path) + 1 : 0;
}

/* Writes ".NAME.PROG-SUFFIX" in the path's directory into tmp_path
 * (PROG: lab5). Exits 1 naming the path if it does not fit. */
static void temporary_name(const char *suffix)
{
    int dirlen = dir_length();
    if (snprintf(tmp_path, sizeof tmp_path, "%.*s.%s.%s-%s", dirlen,
                 dest_path, dest_path + dirlen, program_invocation_short_name,
                 suffix) >= (int)sizeof tmp_path) {
        errno = ENAMETOOLONG;
        lab_fail(dest_path);
    }
}

int dest_open(const char *path, mode_t mode)
{
    dest_path = path;
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            errno = EISDIR;
            lab_fail(path);
        }
        if (!S_ISREG(st.st_mode)) {
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0)
                lab_fail(path);
            return fd;
        }
        mode = st.st_mode & 07777;
    }
    char dir[PATH_MAX] = ".";
    int dirlen = dir_length();
    if (dirlen > 0 &&
        snprintf(dir, sizeof dir, "%.*s", dirlen, path) >= (int)sizeof dir) {
        errno = ENAMETOOLONG;
        lab_fail(path);
    }
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    if (fd >= 0) {
        in_tmpfile = true;
    } else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
        temporary_name("XXXXXX");      /* no O_TMPFILE here */
        fd = mkostemp(tmp_path, O_CLOEXEC);
        if (fd >= 0)
            name_temporary();
    }
    if (fd < 0)
        lab_fail(path);       /* e.g. its directory does not exist */
    if (fchmod(fd, mode) < 0) /* exactly the mode asked for, whatever umask */
        lab_fail(path);
    return fd;
}

void dest_commit(int fd)
{
    if (in_tmpfile) {
        /* An O_TMPFILE gets a name by linkat through /proc; linkat will
         * not replace the path, so it takes a temporary name to rename. */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        for (int attempt = 0;; attempt++) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, "%d-%d", (int)getpid(), attempt);
            temporary_name(suffix);
            if (linkat(AT_FDCWD, self, AT_FDCWD, tmp_path,
                       AT_SYMLINK_FOLLOW) == 0)
                break;
            if (errno != EEXIST || attempt == 100)
                lab_fail(dest_path);
        }
        name_temporary();
        in_tmpfile = false;
    }
    if (close(fd) < 0)
        lab_fail(dest_path);
    if (tmp_named) {
        if (rename(tmp_path, dest_path) < 0)
            lab_fail(dest_path);
        tmp_named = 0;
    }
}
