/*
 * Exercise 3: a buffer pool (lab 3, off-heap buffers).
 *
 * The job: a filter that copies IN to OUT with every lowercase ASCII
 * letter made uppercase, as `tr a-z A-Z` does, one block at a time. Its
 * blocks come from a pool of I/O buffers taken straight from the kernel
 * with mmap(2): page-aligned, as direct I/O and many drivers want them,
 * and outside malloc's heap.
 *
 * The task: the filter's rss grows by a block for every block it copies,
 * while its heap stays flat: malloc's numbers, like V8's heap statistics
 * in lab 3, never see it. Find where the memory goes and make rss stay
 * flat, with OUT exactly as it is. `make check EX=3`:
 *   output  OUT, byte for byte what `tr a-z A-Z < IN` writes
 *   memory  rss grows by at most 8 KiB per block (blocks are 64 KiB)
 * The hints, one at a time: LESSONS.md, "Lab 3", "Exercise".
 *
 * Run it by hand:  build/exercises/ex3-pool IN OUT
 * (make check writes an IN: out/exercises/inputs/ex3-pool.txt)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lab.h"      /* the lab library, in harness/: lab_parse, exits */
#include "probe.h"    /* memory at every row, the TSV */

/* ------------------------------------------------------------------------
 * What the runner and the charts need to know (nothing to change here)
 * --------------------------------------------------------------------- */

static const struct lab_mode modes[] = {
    {.name = "filter", .cap_kind = "rlimit", .cap = "256M",
     .caption = "IN to OUT in uppercase, a block at a time, from a pool",
     .expect = "finished"},
    {0},
};

static const struct lab_option options[] = {
    {.name = "block", .arg = "SIZE",
     .help = "bytes per block (default 64K), a multiple of 4K"},
    {0},
};

static uint64_t block_size = 64 << 10;   /* --block */

/* Returns false for a size that is not a whole number of pages. */
static bool on_option(const char *name, const char *arg)
{
    (void)name;                            /* --block, the only one */
    return parse_size(arg, &block_size) && block_size > 0 &&
           block_size % 4096 == 0 && block_size <= (1ULL << 30);
}

static const struct lab_info lab = {
    .number = 3,
    .title = "exercise 3, a buffer pool",
    .takeaway = "Copies IN to OUT in uppercase, through a pool of buffers",
    .showcase = "filter",
    .modes = modes,
    .extra_columns = "mapped_kib",   /* what the pool holds from mmap */
    .x_label = "block",
    .options = options,
    .on_option = on_option,
    .once = true,                    /* one pass over IN: a row a block */
    .positional = "IN OUT",
    .min_positional = 2,
    .max_positional = 2,
    .notes = "Copies IN to OUT, a-z made A-Z, --block bytes at a time. A "
             "TSV row per block;\nmapped_kib is what the pool holds from "
             "mmap. make check EX=3 judges it.",
};

/* ------------------------------------------------------------------------
 * The buffer pool
 * --------------------------------------------------------------------- */

/* Buffers of one size, from mmap. */
struct pool {
    size_t size;              /* bytes in each buffer */
    unsigned char **idle;     /* buffers given back, not in use */
    size_t nidle;             /* how many */
    size_t idle_cap;          /* slots allocated */
    uint64_t mapped;          /* bytes mapped from the kernel, in all */
};

/* pool_get(): a buffer of p->size bytes, page-aligned. Exits 3 if the
 * kernel refuses the mapping. */
static unsigned char *pool_get(struct pool *p)
{
    void *buf = mmap(NULL, p->size, PROT_READ | PROT_WRITE,
                     /* cppcheck-suppress invalidFunctionArg ; fd -1 is
                      * what mmap(2) asks for with MAP_ANONYMOUS */
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        lab_wall("mmap of a %zu-byte buffer failed (%s), the pool holding "
                 "%.2f MiB", p->size, strerror(errno), mib(p->mapped));
    p->mapped += p->size;
    return buf;
}

/* pool_put(): gives a buffer back to the pool, which keeps it. Exits 3
 * if the list cannot grow. */
static void pool_put(struct pool *p, unsigned char *buf)
{
    if (p->nidle == p->idle_cap) {
        size_t cap = p->idle_cap ? 2 * p->idle_cap : 16;
        unsigned char **grown = realloc(p->idle, cap * sizeof *grown);
        if (grown == NULL)
            lab_wall("realloc of the pool's list to %zu slots failed", cap);
        p->idle = grown;
        p->idle_cap = cap;
    }
    p->idle[p->nidle++] = buf;
}

/* pool_destroy(): unmaps every buffer the pool holds. */
static void pool_destroy(struct pool *p)
{
    for (size_t i = 0; i < p->nidle; i++) {
        munmap(p->idle[i], p->size);   /* cannot fail on our own mapping */
        p->mapped -= p->size;
    }
    free(p->idle);
    *p = (struct pool){0};
}

/* ------------------------------------------------------------------------
 * The filter
 * --------------------------------------------------------------------- */

static const char *in_path, *out_path;   /* as given, for messages */

/* Reads up to len bytes into buf, as many as the file has: a short read
 * is read on from. Returns how many (less than len only at the end of
 * the file). Exits 1 naming IN on an error. */
static size_t read_block(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            lab_fail(in_path);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* Writes all of buf. Exits 1 naming OUT on an error. */
static void write_block(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            lab_fail(out_path);
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* The filter's own work: a-z to A-Z, in place. */
static void to_upper(unsigned char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] -= 'a' - 'A';
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    in_path = a.positional[0];
    out_path = a.positional[1];

    int in = open(in_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        lab_fail(in_path);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0)
        lab_fail(out_path);

    struct pool pool = {.size = block_size};
    probe_start(&lab, &a, argc, argv);
    int64_t mapped_kib = 0;
    probe_sample(0, &mapped_kib);
    long blocks = 0;
    for (;;) {
        unsigned char *buf = pool_get(&pool);
        size_t n = read_block(in, buf, pool.size);
        if (n > 0) {
            to_upper(buf, n);
            write_block(out, buf, n);
        }
        pool_put(&pool, buf);
        if (n == 0)
            break;
        mapped_kib = (int64_t)(pool.mapped / 1024);
        probe_sample(++blocks, &mapped_kib);    /* a row per block */
    }
    probe_finish();

    pool_destroy(&pool);
    close(in);
    if (close(out) < 0)
        lab_fail(out_path);
    if (!a.quiet)
        printf("%ld blocks of %llu bytes filtered into %s\n", blocks,
               (unsigned long long)block_size, out_path);
    return EXIT_DONE;
}
