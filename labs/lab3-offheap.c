/*
 * Lab 3: off-heap buffers.
 *
 * The lesson: a heap budget only sees the heap. Memory a program takes
 * straight from the kernel is outside it: the budget never counts it and
 * never stops it. Only a limit the operating system enforces can.
 *
 * The seed (shared/seeds/000_...txt, "memory outside heap") runs lab 2's
 * loop again with Buffers of 200 MiB instead of arrays:
 *
 *     var useMem = function () {
 *       var size = 200 * 1024 * 1024;
 *       var arr = new Buffer(size);
 *       for (var i = 0; i < size; i++) {
 *         arr[i] = 0;
 *       }
 *       return arr;
 *     };
 *
 * heapTotal stays at 10 MB while rss climbs 200 MB per iteration, and the
 * loop finishes, far past the 1.4 GB where lab 2's arrays died: a Buffer's
 * bytes live outside V8's heap; only its small handle object lives inside.
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

#include "../harness/lab.h"
#include "../harness/probe.h"

/* offheap's classroom cap (1 GiB) sits above its 600 MiB, on the chart:
 * the wall that would stop it. heap runs under the runner's default cap
 * (2 GiB), above the seed's 1400 MiB budget, so the budget stops it. */
static const struct lab_mode modes[] = {
    {"offheap", "rlimit", "1G",
     "Buffers from mmap: rss climbs, the heap budget never sees them",
     "limit: mmap failed"},
    {"heap", "rlimit", NULL,
     "The same buffers from malloc: the heap budget stops them, exit 3",
     "FATAL: heap out of memory"},
    {"release", "rlimit", NULL,
     "munmap each buffer after use: rss stays flat",
     "limit: mmap failed"},
    {0},
};

/* The two sizes. The classroom one is the seed divided by five, budget
 * included, as in lab 2: 600 MiB of buffers against a 280 MiB budget. */
struct preset {
    const char *name;      /* the --preset value */
    uint64_t buffer;       /* bytes per buffer */
    long iterations;       /* the seed's loop runs 15 times */
    uint64_t budget;       /* --max-heap when not given */
};

static const struct preset presets[] = {
    {"classroom", 40ULL << 20, 15, 280ULL << 20},
    {"seed", 200ULL << 20, 15, 1400ULL << 20},
};

static const struct lab_option options[] = {
    {"preset", "NAME", "classroom (40M x 15, budget 280M) or seed "
                       "(200M x 15, budget 1400M)"},
    {"max-heap", "SIZE", "heap budget, as in lab 2 (default: the "
                         "preset's)"},
    {0},
};

static const struct preset *preset = &presets[0];  /* --preset */
static uint64_t max_heap;                          /* --max-heap, 0: unset */

/* Takes --preset and --max-heap. Returns false on a bad value. */
static bool on_option(const char *name, const char *arg)
{
    if (strcmp(name, "preset") == 0) {
        for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
            if (strcmp(arg, presets[i].name) == 0) {
                preset = &presets[i];
                return true;
            }
        return false;
    }
    return parse_size(arg, &max_heap) && max_heap > 0;  /* --max-heap */
}

static const struct lab_info lab = {
    .number = 3,
    .title = "off-heap buffers",
    .takeaway = "A heap budget only sees the heap: mmap'd buffers pass it, "
                "only an OS cap stops them",
    .showcase = "offheap",
    .modes = modes,
    .default_size = 40ULL << 20,   /* presets[0].buffer */
    .default_iterations = 15,
    .extra_columns = "external_kib",
    .options = options,
    .on_option = on_option,
    .notes = "--size is the bytes of one buffer. --preset fills in --size, "
             "--iterations and\n--max-heap where you leave them out. The "
             "seed's 15 x 200 MiB needs 3 GiB, more\nthan leaklab's default "
             "cap (2 GiB), so give it one; leaklab refuses a cap\nlarger "
             "than the machine has free, and never raises one by itself:\n"
             "  build/leaklab run 3 --mode offheap --cap 4G -- --preset seed",
};

/* ------------------------------------------------------------------------
 * The heap budget (lab 2's), and what lives outside it
 * --------------------------------------------------------------------- */

/* Buffers from malloc go through heap_alloc() and count against the
 * budget, as in lab 2; buffers from mmap go around it. (The handles and
 * the table, a few hundred bytes, stay off the books in both modes, so
 * the arithmetic is the buffers' alone: n fit when n x size <= budget.) */
struct memory {
    uint64_t budget;          /* heap bytes allowed (--max-heap) */
    uint64_t heap;            /* bytes of buffers it holds from malloc */
    uint64_t external;        /* bytes it holds from mmap: external_kib */
    long buffers;             /* buffers it holds */
};

static struct memory mem;

/* Returns size fresh bytes from malloc. Exits 3 with lab 2's FATAL line if
 * they would cross the budget, or with what failed if malloc returns NULL. */
static void *heap_alloc(size_t size, long iter)
{
    if (mem.heap + size > mem.budget)
        lab_wall("FATAL ERROR: Reached heap limit Allocation failed - heap "
                 "out of memory (iteration %ld: %.2f MiB requested, "
                 "%.2f MiB in use in %ld buffers, budget --max-heap "
                 "%.2f MiB)", iter, mib(size), mib(mem.heap), mem.buffers,
                 mib(mem.budget));
    void *p = malloc(size);
    if (p == NULL)
        lab_wall("malloc(%zu) for iteration %ld returned NULL (%s), holding "
                 "%.2f MiB on the heap", size, iter, strerror(errno),
                 mib(mem.heap));
    mem.heap += size;
    return p;
}

/* Returns size bytes straight from the kernel, outside malloc's heap.
 * Exits 3 if the kernel refuses: only an OS limit (RLIMIT_AS, a machine
 * out of memory) can, since the budget never sees these bytes. */
static void *offheap_alloc(size_t size, long iter)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        lab_wall("mmap of %.2f MiB for buffer %ld failed (%s), holding "
                 "%.2f MiB off-heap: an OS cap stopped it; the heap budget "
                 "(%.2f MiB) never saw it. Through leaklab, a bigger --cap "
                 "lets it go on", mib(size), iter, strerror(errno),
                 mib(mem.external), mib(mem.budget));
    mem.external += size;
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
    b->data = off_heap ? offheap_alloc(size, iter) : heap_alloc(size, iter);
    /* Every byte written, so every page is resident. Not with 0, as the
     * seed does: malloc plus a zero fill may become calloc (see lab 2). */
    memset(b->data, (int)(iter & 0xff) | 1, size);
    mem.buffers++;
    return b;
}

/* Frees a buffer and its handle, and takes both off the books. */
static void buffer_free(struct buffer *b)
{
    if (b->mapped) {
        munmap(b->data, b->len);   /* cannot fail on a mapping we made */
        mem.external -= b->len;
    } else {
        free(b->data);
        mem.heap -= b->len;
    }
    free(b);
    mem.buffers--;
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
    const char *mode = a.mode->name;

    /* The preset fills in what the command line left out. */
    if (!a.size_given)
        a.size = preset->buffer;
    if (!a.iterations_given)
        a.iterations = preset->iterations;
    if (a.size > SIZE_MAX / 2)
        lab_usage("bad --size '%llu': too big for one buffer",
                  (unsigned long long)a.size);
    mem.budget = max_heap ? max_heap : preset->budget;
    bool off_heap = strcmp(mode, "heap") != 0;

    probe_start(&lab, &a, argc, argv);
    int64_t external_kib = 0;
    probe_sample(0, &external_kib);
    unsigned sum = 0;
    for (long i = 1; i <= a.iterations; i++) {
        struct buffer *b = buffer_new(a.size, i, off_heap);
        sum += checksum(b);
        if (strcmp(mode, "release") == 0)
            buffer_free(b);          /* used, then given back */
        else
            keep(b, i);              /* offheap and heap keep every one */
        external_kib = (int64_t)(mem.external / 1024);
        probe_sample(i, &external_kib);
    }
    probe_finish();
    if (!a.quiet)
        printf("%ld buffers held: %.2f MiB off-heap, %.2f MiB on the heap "
               "(budget %.2f MiB); checksum %u\n", mem.buffers,
               mib(mem.external), mib(mem.heap), mib(mem.budget), sum);

    /* offheap and heap keep their buffers to the end on purpose, as the
     * seed's `total` does. release leaves nothing behind. */
    if (strcmp(mode, "release") == 0)
        free(kept);
    return EXIT_DONE;
}
