/*
 * Lab 2: heap growth to the cap.
 *
 * The lesson: a program that keeps everything it allocates grows until a
 * wall stops it, and which wall it meets decides what it can still do.
 * A budget the program keeps itself lets it say exactly what went wrong;
 * an OS limit lets it say a little; an OOM killer lets it say nothing.
 *
 * The seed: the "heap memory" section of Node.js memory notes fills an
 * array of 20 Mi numbers fifteen times, keeps every one in a list, and
 * prints process.memoryUsage() after each. Each array is 20 Mi slots of
 * 8 bytes: 160 MiB per iteration. Around 1.4 GB V8 stops the program with
 * a FATAL "out of memory" line. LESSONS.md, "Lab 2: heap growth to the
 * cap", shows its figures beside this lab's, with a Node version of ours.
 *
 * In C the array is malloc(n * 8) with every element written; `total` is a
 * table of pointers that only grows. The modes are one per kind of wall:
 *   budget   the lab keeps its own heap budget (--max-heap), as V8 keeps
 *            --max-old-space-size: it refuses the allocation that would
 *            cross it, prints a FATAL line with the totals, exits 3.
 *   rlimit   no budget. The runner's RLIMIT_AS makes malloc return NULL;
 *            the lab says which request failed and what it held, exits 3.
 *   kill     no budget, no rlimit. The runner's watchdog SIGKILLs the lab
 *            when its rss crosses the cap: no message, no last row.
 *   lazy     allocates and never touches: heap_total climbs (reserved),
 *            rss stays flat (nothing resident). Under RLIMIT_AS it still
 *            fails, because the address space is what that limit counts.
 *
 * Run it:  make lab2      or   build/leaklab run 2 --mode budget
 *          build/lab2 --preset seed --mode budget      (the seed's table)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../harness/budget.h"
#include "../harness/lab.h"
#include "../harness/probe.h"

/* Each mode is a constant in `enum mode`, an entry in modes[] and a case
 * in every `switch (mode)` in main(), none of which has a `default:`. The
 * compiler keeps the three in step: a constant without its case is a
 * -Wswitch error, an entry needs its constant, and an entry past the end
 * fails the _Static_assert. A new mode goes last, MODE_COUNT after it. */
enum mode { BUDGET, RLIMIT, KILL, LAZY };
enum { MODE_COUNT = LAZY + 1 };

/* budget runs under the runner's default cap (2 GiB) so that the seed's
 * 1400 MiB budget, not the cap, is what it meets; the others meet a
 * classroom cap after a few iterations, whatever the preset. */
static const struct lab_mode modes[] = {
    [BUDGET] = {
        .name = "budget", .cap_kind = "rlimit",
        .caption = "Own heap budget, like V8's --max-old-space-size: "
                   "FATAL, exit 3",
        .wall = "FATAL: heap out of memory", .expect = "limit",
    },
    [RLIMIT] = {
        .name = "rlimit", .cap_kind = "rlimit", .cap = "128M",
        .caption = "RLIMIT_AS: malloc returns NULL, the lab says what "
                   "failed, exit 3",
        .wall = "limit: malloc returned NULL", .expect = "limit",
    },
    [KILL] = {
        .name = "kill", .cap_kind = "kill", .cap = "192M",
        .caption = "Watchdog over the cap: SIGKILL, no message, no last row",
        .wall = "limit: malloc returned NULL", .expect = "killed",
    },
    [LAZY] = {
        .name = "lazy", .cap_kind = "kill", .cap = "192M",
        .caption = "Reserved, never touched: heap_total passes the cap, "
                   "rss stays flat",
        .wall = "limit: malloc returned NULL", .expect = "finished",
    },
    [MODE_COUNT] = {0},   /* the end: MODE_COUNT is the last mode + 1 */
};
_Static_assert(sizeof modes / sizeof modes[0] == MODE_COUNT + 1,
               "modes[]: one entry per enum mode, then [MODE_COUNT] = {0}");

/* The two sizes. The classroom one is the seed divided by five, budget
 * included, so both tables have the same shape: 8.75 arrays fit. */
static const struct lab_preset presets[] = {
    {"classroom", 4ULL * 1024 * 1024 * 8, 15, 280ULL << 20,
     "32M arrays x 15, budget 280M: the seed divided by five"},
    {"seed", 20ULL * 1024 * 1024 * 8, 15, 1400ULL << 20,
     "160M arrays x 15, budget 1400M: the seed's own sizes"},
    {0},
};

static const struct lab_info lab = {
    .number = 2,
    .title = "heap growth to the cap",
    .takeaway = "Memory kept for ever grows until a wall stops it: a "
                "budget, a NULL, or SIGKILL",
    .showcase = "kill",   /* the wall that leaves no last word */
    .claim = "Which wall a leak meets decides how it dies",
    .recap_leak = "arrays kept for ever",
    .recap_fix = "free what is done",
    .recap_tool = "heap_used per iteration",
    .modes = modes,
    .presets = presets,
    .compare_columns = "heap_used_kib",   /* what a budget counts */
    .notes = "--size is the bytes of one array (a multiple of 8: the "
             "elements are 8 bytes).\nOnly --mode budget keeps a budget; "
             "the other modes ignore --max-heap.\nThe seed's run: "
             "build/lab2 --preset seed --mode budget --max-heap 1400M",
};

/* ------------------------------------------------------------------------
 * The heap budget
 * --------------------------------------------------------------------- */

/* V8 knows how big its heap is because it is the allocator. This lab
 * knows because every array goes through budget_alloc() (harness/budget.c),
 * which keeps the books: n arrays fit when n x size <= --max-heap. Only the
 * budget mode sets a limit; the others go on until a wall outside. */
static struct heap_budget heap = {.unit = "arrays"};

/* ------------------------------------------------------------------------
 * useMem() and total.push()
 * --------------------------------------------------------------------- */

/* `var total = []`: a table of arrays that only grows. */
static uint64_t **total;        /* the arrays kept */
static size_t ntotal;           /* arrays in it */
static size_t total_cap;        /* slots allocated */

/* useMem(): an array of n 8-byte elements. With touch, every element is
 * written, so every page is resident; without, malloc only reserves the
 * address space. Exits 3 at a wall (see budget_alloc). */
static uint64_t *use_mem(size_t n, long iter, bool touch)
{
    uint64_t *arr = budget_alloc(&heap, n * sizeof *arr, iter);
    /* The seed writes 0. We write the iteration number: a compiler may
     * turn malloc plus a zero fill into calloc, which returns fresh mmap
     * pages without touching them, and the lab would turn lazy by itself. */
    if (touch)
        for (size_t i = 0; i < n; i++)
            arr[i] = (uint64_t)iter;
    return arr;
}

/* total.push(arr), growing the table by doubling. The table is a few
 * hundred bytes and stays off the budget's books, so that the budget's
 * arithmetic is the arrays' alone. Exits 3 if it cannot grow. */
static void push(uint64_t *arr, long iter)
{
    if (ntotal == total_cap) {
        size_t cap = total_cap ? 2 * total_cap : 16;
        uint64_t **grown = realloc(total, cap * sizeof *grown);
        if (grown == NULL)
            lab_wall("realloc of the table to %zu slots for iteration %ld "
                     "returned NULL, holding %.2f MiB in %ld arrays", cap,
                     iter, mib(heap.used), heap.blocks);
        total = grown;
        total_cap = cap;
    }
    total[ntotal++] = arr;
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    enum mode mode = (enum mode)(a.mode - modes);   /* a.mode is modes[mode] */

    if (a.size % 8 != 0)
        lab_usage("bad --size '%llu': the arrays hold 8-byte elements; "
                  "want a multiple of 8", (unsigned long long)a.size);
    /* Only budget keeps a budget; the other modes ignore --max-heap, so
     * that `leaklab run 2 -- --max-heap 1400M` can run every mode. */
    switch (mode) {
    case BUDGET:
        heap.limit = a.max_heap;
        break;
    case RLIMIT:
    case KILL:
    case LAZY:
        a.max_heap = 0;      /* no budget: none in the records either */
        break;
    }

    probe_start(&lab, &a, argc, argv);
    probe_sample(0, NULL);   /* showMem() before the first useMem() */
    for (long i = 1; i <= a.iterations; i++) {
        switch (mode) {
        case BUDGET:   /* its budget, set above, stops it */
        case RLIMIT:   /* no budget: a wall outside stops them */
        case KILL:
            push(use_mem(a.size / 8, i, true), i);
            break;
        case LAZY:
            /* Reserved, never touched. */
            push(use_mem(a.size / 8, i, false), i);
            break;
        }
        probe_sample(i, NULL);
    }
    probe_finish();

    /* Every mode keeps its arrays to the end on purpose: that is the
     * lesson, and Valgrind reports them as still reachable. */
    return EXIT_DONE;
}
