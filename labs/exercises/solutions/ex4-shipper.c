/*
 * Exercise 4, the reference fix: a log shipper (lab 4).
 *
 * The starter's reader read two batches every tick, whatever the queue
 * held, and the server took one: the queue grew by a batch a tick until
 * the log ran out, holding half the log at its peak (lab 4's unbounded).
 *
 * The fix is backpressure (lab 4's bounded): the queue has a capacity,
 * and a reader that finds it full waits, here by reading nothing more
 * this tick. The disk is patient; the log stays on it until there is
 * room. The queue holds at most CAPACITY batches, and memory stays flat
 * however big the log.
 *
 * Shedding (lab 4's shed) also keeps memory flat, but it drops batches:
 * SHIPPED would not be the log, and the check's output line says so. A
 * log shipper must not lose the log.
 *
 * Everything else is the starter, unchanged: diff the two files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"      /* the lab library, in harness/: lab_parse, exits */
#include "probe.h"    /* memory at every row, the TSV */

/* ------------------------------------------------------------------------
 * What the runner and the charts need to know (nothing to change here)
 * --------------------------------------------------------------------- */

static const struct lab_mode modes[] = {
    {.name = "ship", .cap_kind = "rlimit", .cap = "256M",
     .caption = "Batches read from LOG, queued, shipped one a tick",
     .expect = "finished"},
    {0},
};

static const struct lab_option options[] = {
    {.name = "batch", .arg = "SIZE",
     .help = "bytes the reader reads per batch (default 64K)"},
    {0},
};

static uint64_t batch_size = 64 << 10;   /* --batch */

/* Returns false for a size that is not a size, or zero. */
static bool on_option(const char *name, const char *arg)
{
    (void)name;                            /* --batch, the only one */
    return parse_size(arg, &batch_size) && batch_size > 0 &&
           batch_size <= (1ULL << 30);
}

static const struct lab_info lab = {
    .number = 4,
    .title = "exercise 4, a log shipper",
    .takeaway = "Ships LOG to a server that takes one batch per tick",
    .showcase = "ship",
    .modes = modes,
    .extra_columns = "depth\tread\tshipped",
    .y2_columns = "depth",
    .x_label = "tick",
    .options = options,
    .on_option = on_option,
    .once = true,                    /* one pass over LOG: a row a tick */
    .positional = "LOG SHIPPED",
    .min_positional = 2,
    .max_positional = 2,
    .notes = "Reads LOG in --batch bytes, ships it to SHIPPED one batch a "
             "tick. A TSV row per\ntick: depth (batches queued), read and "
             "shipped (batches, so far).\nmake check EX=4 judges it.",
};

/* The pace of each side, in batches per tick. */
enum {
    READ_PER_TICK = 2,        /* the disk: the reader is the faster */
    SHIP_PER_TICK = 1,        /* the server's limit: not yours to change */
    CAPACITY = 8,             /* the fix: batches the queue may hold */
};

/* ------------------------------------------------------------------------
 * Batches and the queue
 * --------------------------------------------------------------------- */

/* A batch of the log, read and not yet shipped. */
struct batch {
    struct batch *next;       /* the next one in the queue */
    size_t len;               /* bytes in data */
    unsigned char data[];     /* the log's bytes, as read */
};

/* The queue between the reader and the sender: oldest first. */
static struct {
    struct batch *head, *tail;  /* take from head, add at tail */
    long depth;                 /* batches in it */
    long read, shipped;         /* batches read and shipped so far */
} queue;

static void enqueue(struct batch *b)
{
    b->next = NULL;
    if (queue.tail)
        queue.tail->next = b;
    else
        queue.head = b;
    queue.tail = b;
    queue.depth++;
}

/* Takes the oldest batch. The queue must not be empty. */
static struct batch *dequeue(void)
{
    struct batch *b = queue.head;
    queue.head = b->next;
    if (queue.head == NULL)
        queue.tail = NULL;
    queue.depth--;
    return b;
}

/* ------------------------------------------------------------------------
 * The reader and the sender
 * --------------------------------------------------------------------- */

static const char *log_path, *shipped_path;  /* as given, for messages */

/* Reads the next batch of the log: up to batch_size bytes, fewer only at
 * its end. Returns NULL at the end of the log. Exits 1 naming LOG on a
 * read error, 3 if malloc fails. */
static struct batch *read_batch(int fd)
{
    struct batch *b = malloc(sizeof *b + batch_size);
    if (b == NULL)
        lab_wall("malloc(%llu) for a batch returned NULL, %ld batches "
                 "queued", (unsigned long long)batch_size, queue.depth);
    b->len = 0;
    while (b->len < batch_size) {
        ssize_t n = read(fd, b->data + b->len, batch_size - b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            lab_fail(log_path);
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    if (b->len == 0) {
        free(b);
        return NULL;
    }
    queue.read++;
    return b;
}

/* Ships a batch to the server (writes all of it to fd), then frees it.
 * Exits 1 naming SHIPPED on an error. */
static void ship(int fd, struct batch *b)
{
    for (size_t done = 0; done < b->len;) {
        ssize_t n = write(fd, b->data + done, b->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            lab_fail(shipped_path);
        }
        done += (size_t)n;
    }
    queue.shipped++;
    free(b);
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    log_path = a.positional[0];
    shipped_path = a.positional[1];

    int in = open(log_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        lab_fail(log_path);
    int out = open(shipped_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0666);
    if (out < 0)
        lab_fail(shipped_path);

    probe_start(&lab, &a, argc, argv);
    int64_t extra[3] = {0, 0, 0};
    probe_sample(0, extra);
    bool end_of_log = false;
    for (long tick = 1; !end_of_log || queue.depth > 0; tick++) {
        /* The reader: as much as the disk gives in a tick, while the
         * queue has room (the fix: backpressure). */
        for (int i = 0; i < READ_PER_TICK && !end_of_log &&
                        queue.depth < CAPACITY; i++) {
            struct batch *b = read_batch(in);
            if (b)
                enqueue(b);
            else
                end_of_log = true;
        }
        /* The sender: what the server accepts in a tick. */
        for (int i = 0; i < SHIP_PER_TICK && queue.depth > 0; i++)
            ship(out, dequeue());

        extra[0] = queue.depth;
        extra[1] = queue.read;
        extra[2] = queue.shipped;
        probe_sample(tick, extra);               /* a row per tick */
    }
    probe_finish();

    close(in);
    if (close(out) < 0)
        lab_fail(shipped_path);
    if (!a.quiet)
        printf("%ld batches shipped from %s to %s\n", queue.shipped,
               log_path, shipped_path);
    return EXIT_DONE;
}
