/*
 * shortio.so - an LD_PRELOAD shim for tests: read(2) and write(2) as
 * unhelpful as POSIX allows them to be.
 *
 *   LD_PRELOAD=build/shortio.so build/lab5 --mode stream SRC DST
 *
 * Every call of 4 KiB or more (smaller ones, such as a TSV row, pass
 * untouched) either fails with EINTR, as if a signal had arrived, or
 * moves fewer bytes than asked: a short read or a short write. A copy loop
 * that assumes full reads or full writes, or gives up on EINTR, produces
 * a wrong file or an error under it; a correct loop copies byte-exact.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#define SMALL 4096   /* calls below this are left alone */

static unsigned long calls;   /* big calls so far, to vary the damage */

/* How many of n bytes this call may move: 1 to n - 1, varying, never 0
 * (0 would mean end of file to a reader). Sets EINTR and returns 0 when
 * the call should fail instead. */
static size_t damage(size_t n)
{
    unsigned long c = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    if (c % 3 == 0) {
        errno = EINTR;
        return 0;
    }
    return 1 + (c * 2654435761UL) % (n - 1);
}

ssize_t read(int fd, void *buf, size_t n)
{
    static ssize_t (*real)(int, void *, size_t);
    if (real == NULL)
        real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    if (n >= SMALL && (n = damage(n)) == 0)
        return -1;
    return real(fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (real == NULL)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
                                                            "write");
    if (n >= SMALL && (n = damage(n)) == 0)
        return -1;
    return real(fd, buf, n);
}
