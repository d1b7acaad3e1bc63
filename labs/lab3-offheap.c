/*
 * Lab 3: off-heap buffers.
 *
 * The lesson: a heap budget only sees the heap. Memory a program takes
 * straight from the kernel is outside it: the budget never counts it and
 * never stops it. Only a limit the operating system enforces can.
 *
 * The seed: the "memory outside heap" section of Node.js memory notes
 * repeats lab 2's experiment, keeping fifteen Buffers of 200 MB instead
 * of arrays. heapTotal stays at 10 MB while rss climbs 200 MB per
 * iteration, and the loop finishes, far past the 1.4 GB where lab 2's
 * arrays died: a Buffer's bytes live outside V8's heap; only its small
 * handle object lives inside. LESSONS.md, "Lab 3: off-heap buffers", has
 * the figures and a Node version of ours.
 *
 * In C the Buffer is a small handle from malloc (on the heap, counted by
 * the budget) whose bytes come from mmap(2), outside malloc's heap:
 * mallinfo2() never sees them, exactly as V8's heap statistics never see a
 * Buffer's bytes. The column external_kib counts them, as
 * process.memoryUsage().external does.
 *
 * Modes:
 *   offheap  buffers from mmap, filled, kept: rss and external rise by the
 *            buffer size each iteration, heap_total and heap_used stay
 *            flat, and the run finishes past the heap budget.
 *   heap     the same buffers from malloc, under the same --max-heap
 *            budget: it dies like lab 2's budget mode.
 *   release  each buffer is munmapped after use: rss stays flat.
 *
 * Run it:  make lab3      or   build/leaklab run 3 --mode offheap
 *          build/leaklab run 3 --mode offheap --cap 4G -- --preset seed
 *          (the seed's 15 x 200 MiB needs 3 GiB: more than the default cap)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../harness/budget.h"
#include "../harness/lab.h"
#include "../harness/probe.h"

/* Each mode is a constant in `enum mode`, an entry in modes[] and a case
 * in every `switch (mode)` in main(), none of which has a `default:`. The
 * compiler keeps the three in step: a constant without its case is a
 * -Wswitch error, an entry needs its constant, and an entry past the end
 * fails the _Static_assert. A new mode goes last, MODE_COUNT after it. */
enum mode { OFFHEAP, HEAP, RELEASE };
enum { MODE_COUNT = RELEASE + 1 };

/* offheap's classroom cap (1 GiB) sits above its 600 MiB, on the chart:
 * the wall that would stop it. heap runs under the runner's default cap
 * (2 GiB), above the seed's 1400 MiB budget, so the budget stops it. */
static const struct lab_mode modes[] = {
    [OFFHEAP] = {
        .name = "offheap", .cap_kind = "rlimit", .cap = "1G",
        .caption = "Buffers from mmap: rss climbs, the heap budget never "
                   "sees them",
        .wall = "limit: mmap failed", .expect = "finished",
    },
    [HEAP] = {
        .name = "heap", .cap_kind = "rlimit",
        .caption = "The same buffers from malloc: the heap budget stops "
                   "them, exit 3",
        .wall = "FATAL: heap out of memory", .expect = "limit",
    },
    [RELEASE] = {
        .name = "release", .cap_kind = "rlimit",
        .caption = "munmap each buffer after use: rss stays flat",
        .wall = "limit: mmap failed", .expect = "finished",
    },
    [MODE_COUNT] = {0},   /* the end: MODE_COUNT is the last mode + 1 */
};
_Static_assert(sizeof modes / sizeof modes[0] == MODE_COUNT + 1,
               "modes[]: one entry per enum mode, then [MODE_COUNT] = {0}");

/* The two sizes. The classroom one is the seed divided by five, budget
 * included, as in lab 2: 600 MiB of buffers against a 280 MiB budget. */
static const struct lab_preset presets[] = {
    {"classroom", 40ULL << 20, 15, 280ULL << 20,
     "40M buffers x 15, budget 280M: the seed divided by five"},
    {"seed", 200ULL << 20, 15, 1400ULL << 20,
     "200M buffers x 15, budget 1400M: the seed's own sizes"},
    {0},
};

static const struct lab_info lab = {
    .number = 3,
    .title = "off-heap buffers",
    .takeaway = "A heap budget only sees the heap: mmap'd buffers pass it, "
                "only an OS cap stops them",
    .showcase = "offheap",
    .claim = "Off-heap memory walks past a heap budget",
    .recap_leak = "buffers outside the heap",
    .recap_fix = "munmap after use",
    .recap_tool = "rss: heap tools miss it",
    .modes = modes,
    .presets = presets,
    .extra_columns = "external_kib",
    .compare_columns = "heap_used_kib",   /* flat, or at the budget */
    .leak_column = "rss_kib",   /* the buffers are mmap's, not malloc's */
    .notes = "--size is the bytes of one buffer. The "
             "seed's 15 x 200 MiB needs 3 GiB, more\nthan leaklab's default "
             "cap (2 GiB), so give it one; leaklab refuses a cap\nlarger "
             "than the machine has free, and never raises one by itself:\n"
             "  build/leaklab run 3 --mode offheap --cap 4G -- --preset seed",
};

/* ------------------------------------------------------------------------
 * The heap budget (lab 2's), and what lives outside it
 * --------------------------------------------------------------------- */

/* Buffers from malloc go through budget_alloc() (harness/budget.c, lab
 * 2's books) and count against the budget; buffers from mmap go around
 * it. (The handles and the table, a few hundred bytes, stay off the books
 * in both modes, so the arithmetic is the buffers' alone: n fit when
 * n x size <= budget.) */
static struct heap_budget heap = {.unit = "buffers"};
static uint64_t external;     /* bytes held from mmap: external_kib. The
                                 bytes asked for, as Node's external
                                 counts them; the kernel maps whole pages */
static long nbuffers;         /* buffers held, wherever their bytes are */

/* Returns size bytes straight from the kernel, outside malloc's heap.
 * Exits 3 if the kernel refuses: only an OS limit (RLIMIT_AS, a machine
 * out of memory) can, since the budget never sees these bytes. */
static void *offheap_alloc(size_t size, long iter)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   /* cppcheck-suppress invalidFunctionArg ; fd -1 is what
                    * mmap(2) asks for with MAP_ANONYMOUS, not an error */
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        lab_wall("mmap of %.2f MiB for buffer %ld failed (%s), holding "
                 "%.2f MiB off-heap: an OS cap stopped it; the heap budget "
                 "(%.2f MiB) never saw it. Through leaklab, a bigger --cap "
                 "lets it go on", mib(size), iter, strerror(errno),
                 mib(external), mib(heap.limit));
    external += size;
    return p;
}

/* ------------------------------------------------------------------------
 * Buffers
 * --------------------------------------------------------------------- */

/* A Node Buffer: a small object on the heap, its bytes elsewhere. */
struct buffer {
    unsigned char *data;      /* the bytes: mmap (offheap) or malloc (heap) */
    size_t len;               /* how many */
    bool mapped;              /* data came from mmap: munmap, not free */
};

static struct buffer **kept;  /* `var total = []`: buffers kept */
static size_t nkept;          /* buffers in it */
static size_t kept_cap;       /* slots allocated */

/* new Buffer(size), filled as the seed fills it. The handle always comes
 * from malloc; the bytes from mmap when off_heap. Exits 3 at a wall. */
static struct buffer *buffer_new(size_t size, long iter, bool off_heap)
{
    struct buffer *b = malloc(sizeof *b);
    if (b == NULL)
        lab_wall("malloc(%zu) for the handle of buffer %ld returned NULL",
                 sizeof *b, iter);
    b->len = size;
    b->mapped = off_heap;
    b->data = off_heap ? offheap_alloc(size, iter)
                       : budget_alloc(&heap, size, iter);
    /* Every byte written, so every page is resident. Not with 0, as the
     * seed does: malloc plus a zero fill may become calloc (see lab 2). */
    memset(b->data, (int)(iter & 0xff) | 1, size);
    nbuffers++;
    return b;
}

/* Frees a buffer and its handle, and takes both off the books. */
static void buffer_free(struct buffer *b)
{
    if (b->mapped) {
        munmap(b->data, b->len);   /* cannot fail on a mapping we made */
        external -= b->len;
    } else {
        budget_free(&heap, b->data, b->len);
    }
    free(b);
    nbuffers--;
}

/* total.push(b), the table growing by doubling. Exits 3 if it cannot. */
static void keep(struct buffer *b, long iter)
{
    if (nkept == kept_cap) {
        size_t cap = kept_cap ? 2 * kept_cap : 16;
        struct buffer **grown = realloc(kept, cap * sizeof *grown);
        if (grown == NULL)
            lab_wall("realloc of the table to %zu slots for buffer %ld "
                     "returned NULL", cap, iter);
        kept = grown;
        kept_cap = cap;
    }
    kept[nkept++] = b;
}

/* Reads a buffer back, as a program using it would: a byte per page. */
static unsigned checksum(const struct buffer *b)
{
    unsigned sum = 0;
    for (size_t i = 0; i < b->len; i += 4096)
        sum += b->data[i];
    return sum;
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    enum mode mode = (enum mode)(a.mode - modes);   /* a.mode is modes[mode] */

    heap.limit = a.max_heap;

    probe_start(&lab, &a, argc, argv);
    int64_t external_kib = 0;
    probe_sample(0, &external_kib);
    unsigned sum = 0;
    for (long i = 1; i <= a.iterations; i++) {
        struct buffer *b;
        switch (mode) {
        case OFFHEAP:
            b = buffer_new(a.size, i, true);    /* bytes from mmap */
            sum += checksum(b);
            keep(b, i);                         /* kept, as the seed's */
            break;
        case HEAP:
            b = buffer_new(a.size, i, false);   /* bytes from the budget */
            sum += checksum(b);
            keep(b, i);
            break;
        case RELEASE:
            b = buffer_new(a.size, i, true);
            sum += checksum(b);
            buffer_free(b);                     /* used, then given back */
            break;
        }
        external_kib = (int64_t)(external / 1024);
        probe_sample(i, &external_kib);
    }
    probe_finish();
    if (!a.quiet)
        printf("%ld buffers held: %.2f MiB off-heap, %.2f MiB on the heap "
               "(budget %.2f MiB); checksum %u\n", nbuffers,
               mib(external), mib(heap.used), mib(heap.limit), sum);

    /* offheap and heap keep their buffers to the end on purpose, as the
     * seed's `total` does. release leaves nothing behind. */
    switch (mode) {
    case OFFHEAP:
    case HEAP:
        break;
    case RELEASE:
        free(kept);
        break;
    }
    return EXIT_DONE;
}
