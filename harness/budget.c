/*
 * budget.c - see budget.h.
 */
#include "budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

void *budget_alloc(struct heap_budget *b, size_t size, long iter)
{
    /* Refuse before asking malloc, as V8 does: the wall is ours, so the
     * message can say exactly where it stands. */
    if (b->limit && size > b->limit - b->used)   /* used <= limit: no wrap */
        lab_wall("FATAL ERROR: Reached heap limit Allocation failed - heap "
                 "out of memory (iteration %ld: %.2f MiB requested, "
                 "%.2f MiB in use in %ld %s, budget --max-heap %.2f MiB)",
                 iter, mib(size), mib(b->used), b->blocks, b->unit,
                 mib(b->limit));
    void *block = malloc(size);
    if (block == NULL)
        lab_wall("malloc(%zu) for iteration %ld returned NULL (%s), holding "
                 "%.2f MiB in %ld %s", size, iter, strerror(errno),
                 mib(b->used), b->blocks, b->unit);
    b->used += size;
    b->blocks++;
    return block;
}

void budget_free(struct heap_budget *b, void *block, size_t size)
{
    free(block);
    b->used -= size;
    b->blocks--;
}
