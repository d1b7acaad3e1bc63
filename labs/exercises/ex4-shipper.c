/*
 * Exercise 4: a log shipper (lab 4, the unbounded queue).
 *
 * The job: ship a log to a log server, as Filebeat or Fluent Bit do. A
 * reader takes the log in batches of --batch bytes (64 KiB) and queues
 * them; a sender takes batches off the queue and ships them to the server
 * (here, SHIPPED, a file standing in for it). The server is slower than
 * the disk: it accepts one batch per tick, while the reader can read two.
 * Time goes in ticks, as in lab 4, so every run records the same rows.
 *
 * The task: the queue between the reader and the sender holds every batch
 * read and not yet shipped, and it grows by a batch every tick for as
 * long as there is log to read. Keep the shipper's memory small whatever
 * the size of the log, without losing a byte: everything read must be
 * shipped, in order. The server's pace is not yours to change (the
 * sender may ship at most SHIP_PER_TICK batches a tick). `make check EX=4`:
 *   output  SHIPPED, byte for byte the LOG
 *   memory  peak rss at most 2 MiB above the start
 * The hints, one at a time: LESSONS.md, "Lab 4", "Exercise".
 *
 * Run it by hand:  build/exercises/ex4-shipper LOG SHIPPED
 * (make check writes a LOG: out/exercises/inputs/ex4-shipper.log)
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
        /* The reader: as much as the disk gives in a tick. */
        for (int i = 0; i < READ_PER_TICK && !end_of_log; i++) {
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
