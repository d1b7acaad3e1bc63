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
static char target[PATH_MAX];            /* the file to replace: dest_path,
                                            or the file its symlink names */
static long name_max = NAME_MAX;         /* the longest name target's
                                            directory takes */
static char tmp_path[PATH_MAX];          /* the temporary's name, once it
                                            has one */
static volatile sig_atomic_t tmp_named;  /* tmp_path is on disk: remove it
                                            if the program does not commit */
static bool in_tmpfile;                  /* the fd is an O_TMPFILE: no name
                                            until dest_commit() */

/* ------------------------------------------------------------------------
 * Leaving nothing behind
 * --------------------------------------------------------------------- */

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

/* ------------------------------------------------------------------------
 * The temporary beside the target
 * --------------------------------------------------------------------- */

/* The length of target's directory part, its last slash included; 0 for
 * a bare name. The temporary must be in that directory for rename. */
static int dir_length(void)
{
    const char *slash = strrchr(target, '/');
    return slash ? (int)(slash - target) + 1 : 0;
}

/* Writes ".NAME.PROG-SUFFIX" in target's directory into tmp_path (PROG:
 * lab5). NAME is cut short where the whole would not fit in name_max: a
 * DST whose own name takes 242 to 255 bytes leaves no room for the rest.
 * Exits 1 naming the path if it does not fit in PATH_MAX. */
static void temporary_name(const char *suffix)
{
    int dirlen = dir_length();
    const char *name = target + dirlen;
    long room = name_max - 3 - (long)strlen(program_invocation_short_name) -
                (long)strlen(suffix);
    int keep = (int)strlen(name);
    if (keep > room)
        keep = room > 0 ? (int)room : 0;
    if (snprintf(tmp_path, sizeof tmp_path, "%.*s.%.*s.%s-%s", dirlen,
                 target, keep, name, program_invocation_short_name,
                 suffix) >= (int)sizeof tmp_path) {
        errno = ENAMETOOLONG;
        lab_fail(dest_path);
    }
}

/* A new, empty file in target's directory: unnamed (O_TMPFILE) where the
 * file system can, else named by temporary_name(). Returns its fd; exits
 * 1 naming the path (e.g. its directory does not exist). */
static int open_temporary(mode_t mode)
{
    char dir[PATH_MAX] = ".";
    int dirlen = dir_length();
    if (dirlen > 0 &&
        snprintf(dir, sizeof dir, "%.*s", dirlen, target) >= (int)sizeof dir) {
        errno = ENAMETOOLONG;
        lab_fail(dest_path);
    }
    long max = pathconf(dir, _PC_NAME_MAX);
    name_max = max > 0 && max < NAME_MAX ? max : NAME_MAX;
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
        lab_fail(dest_path);
    return fd;
}

/* Gives the new file fd the owner and group of the file it replaces,
 * where they differ (root copying over another's file, a setgid
 * directory). Returns false if we may not (EPERM); exits 1 otherwise. */
static bool take_owner(int fd, const struct stat *old)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        lab_fail(dest_path);
    if ((st.st_uid != old->st_uid || st.st_gid != old->st_gid) &&
        fchown(fd, old->st_uid, old->st_gid) < 0) {
        if (errno != EPERM)
            lab_fail(dest_path);
        return false;
    }
    return true;
}

/* Throws the temporary away: the copy goes in place after all. */
static void drop_temporary(int fd)
{
    close(fd);
    if (tmp_named)
        unlink(tmp_path);
    tmp_named = 0;
    in_tmpfile = false;
}

/* ------------------------------------------------------------------------
 * dest_open and dest_commit
 * --------------------------------------------------------------------- */

int dest_open(const char *path, mode_t mode)
{
    dest_path = path;
    if (snprintf(target, sizeof target, "%s", path) >= (int)sizeof target) {
        errno = ENAMETOOLONG;
        lab_fail(path);
    }
    struct stat st, link;
    if (stat(path, &st) < 0) {           /* a new file */
        if (errno != ENOENT)
            lab_fail(path);              /* a symlink loop, EACCES, ... */
        if (lstat(path, &link) == 0) {
            fprintf(stderr, "%s: %s: not writing through a dangling "
                    "symlink\n", lab_progname(), path);   /* as cp */
            exit(EXIT_ERROR);
        }
        mode_t mask = umask(0);
        umask(mask);
        int fd = open_temporary(mode & ~mask);
        if (fchmod(fd, mode & ~mask) < 0)  /* mkostemp's is 0600 */
            lab_fail(path);
        return fd;
    }
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        lab_fail(path);
    }
    /* What cp opens: DST itself, through a symlink. Here the kernel
     * checks that we may write it (not a 0444 file, unless we are root),
     * and a FIFO or a device is written through this fd. */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        lab_fail(path);
    if (!S_ISREG(st.st_mode))
        return fd;
    if (st.st_nlink == 1) {
        if (lstat(path, &link) == 0 && S_ISLNK(link.st_mode) &&
            realpath(path, target) == NULL)   /* the link stays a link */
            lab_fail(path);
        int tmp = open_temporary(st.st_mode & 07777);
        if (take_owner(tmp, &st)) {
            if (fchmod(tmp, st.st_mode & 07777) < 0)  /* after fchown,
                                                  which clears set-id bits */
                lab_fail(path);
            close(fd);
            return tmp;
        }
        drop_temporary(tmp);
    }
    /* Other names see what cp would show them: the copy, in place. */
    if (ftruncate(fd, 0) < 0)
        lab_fail(path);
    return fd;
}

void dest_commit(int fd)
{
    if (in_tmpfile) {
        /* An O_TMPFILE gets a name by linkat through /proc; linkat will
         * not replace the target, so it takes a temporary name to rename. */
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
        if (rename(tmp_path, target) < 0)
            lab_fail(dest_path);
        tmp_named = 0;
    }
}
