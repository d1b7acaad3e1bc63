/*
 * diskfull.so - an LD_PRELOAD shim for tests: a disk that fills up at a
 * known write, so that a test can say which row was cut.
 *
 *   LEAKLAB_DISKFULL_AFTER=3 LD_PRELOAD=build/diskfull.so \
 *       build/lab1 --quiet --tsv T
 *
 * The first N writes to regular files pass (here: the TSV's header and
 * rows 0 and 1). The next one writes half of its bytes and returns short,
 * as a disk that fills in the middle of a write does; every write to a
 * regular file after that fails with ENOSPC. Writes to anything else (a
 * terminal, a pipe) pass untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static long writes;   /* writes to regular files so far */

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (real == NULL)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
                                                            "write");
    const char *after = getenv("LEAKLAB_DISKFULL_AFTER");
    struct stat st;
    if (after == NULL || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return real(fd, buf, n);
    long k = __atomic_add_fetch(&writes, 1, __ATOMIC_RELAXED);
    long full = atol(after);
    if (k <= full)
        return real(fd, buf, n);
    if (k == full + 1 && n > 1)
        return real(fd, buf, n / 2);   /* the disk fills mid-write */
    errno = ENOSPC;
    return -1;
}
