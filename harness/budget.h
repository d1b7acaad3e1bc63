/*
 * budget.h - a heap budget the program keeps itself.
 *
 * V8 refuses to grow its heap past --max-old-space-size and dies with
 * "FATAL ERROR: ... JavaScript heap out of memory". malloc has no such
 * wall: it grows until the operating system says no. A program that
 * wants V8's wall has to keep the books itself, and this is those books.
 *
 * Every block goes through budget_alloc(), which counts bytes itself
 * rather than asking mallinfo2 (so the arithmetic is exact under any
 * allocator, ASan's included): n blocks of s bytes fit when n x s <= limit.
 * Labs 2 and 3 share it: lab 2 fills it, lab 3 walks around it.
 */
#ifndef LEAKLAB_BUDGET_H
#define LEAKLAB_BUDGET_H

#include <stddef.h>
#include <stdint.h>

/* The books. */
struct heap_budget {
    uint64_t limit;          /* bytes allowed (--max-heap); 0: no budget */
    uint64_t used;           /* bytes held through budget_alloc */
    long blocks;             /* blocks held */
    const char *unit;        /* what a block is called: "arrays", "buffers" */
};

/* Returns size fresh bytes from malloc, on the books. Never returns NULL:
 * exits 3 with V8's FATAL line and the totals if they would cross the
 * limit, or with what failed and what is held if malloc returns NULL
 * (RLIMIT_AS, or a machine out of memory). `iter` is for the message. */
void *budget_alloc(struct heap_budget *b, size_t size, long iter);

/* Frees a block from budget_alloc and takes it off the books. */
void budget_free(struct heap_budget *b, void *block, size_t size);

#endif
