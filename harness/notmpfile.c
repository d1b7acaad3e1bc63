/*
 * notmpfile.so - an LD_PRELOAD shim for tests: a file system without
 * O_TMPFILE, as NFS and some older ones are.
 *
 *   LD_PRELOAD=build/notmpfile.so build/lab5 --mode stream SRC DST
 *
 * open(2) with O_TMPFILE fails with EOPNOTSUPP; every other open passes
 * through. Lab 5 then has to take its fallback, a named temporary
 * (harness/dest.c), and the tests check that it cleans that up.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>

int open(const char *path, int flags, ...)
{
    static int (*real)(const char *, int, ...);
    if (real == NULL)
        real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    mode_t mode = 0;
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return real(path, flags, mode);
}
