/*
 * Lab 4: the unbounded queue.
 *
 * The lesson: a queue between a fast producer and a slow consumer holds
 * every job the consumer has not reached yet. If nothing limits it, it
 * grows for as long as the producer is faster: a leak with no bug in it,
 * just a missing limit.
 *
 * The seed: the "memory leak" section of Node.js memory notes names it
 * second of three causes of leaks in Node.js, between caches and the
 * variables a scope keeps alive, and gives it no code. LESSONS.md, "Lab 4:
 * unbounded queue", makes it explicit in a few lines of Node of our own.
 *
 * In Node the queue is often invisible: every `writer.write(chunk)` whose
 * return value is ignored, every promise started per request and awaited
 * by nobody, is a job parked in some buffer until it is consumed.
 *
 * Here the queue is explicit: a producer thread and a consumer thread, real
 * POSIX threads, share it under one mutex with condition variables. Each
 * job carries a --size payload (64 KiB), written in full so it is resident.
 *
 * Modes, the leak and its two fixes side by side:
 *   unbounded  a linked list: every job offered is kept. depth and rss
 *              climb by (produce - consume) jobs per tick.
 *   bounded    a ring of --capacity slots: a full ring makes the producer
 *              wait until the consumer frees one (backpressure). depth
 *              stops at the capacity; the producer runs at the consumer's
 *              pace instead.
 *   shed       the same ring, but a full ring turns the new job away and
 *              counts it in `dropped` (load shedding): flat, and the loss
 *              is on the record, not silent.
 * In every mode, on every row: produced = consumed + depth + dropped. The
 * column oldest_id is the id of the oldest job still queued, the next one
 * the consumer takes (0 when none): it shows which jobs a full queue lost.
 *
 * The clock. Wall-clock sleeps would make every run record different
 * numbers, so the main thread is the clock instead. Each tick it gives the
 * producer --produce jobs to offer and waits until the producer has offered
 * them all or is blocked on a full ring; then it gives the consumer
 * --consume jobs to take and waits until the consumer is done and the
 * producer, woken by the freed slots, is done or blocked again. Only then,
 * with both threads at rest, does it take the tick's sample. What each row
 * says follows from the rules, not from the scheduler.
 *
 * Run it:  make lab4      or   build/leaklab run 4 --mode unbounded
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/lab.h"
#include "../harness/probe.h"

/* Each mode is a constant in `enum mode`, an entry in modes[] and a case
 * in every `switch` on it (the producer's, and main's), none of which has
 * a `default:`. The compiler keeps the three in step: a constant without
 * its case is a -Wswitch error, an entry needs its constant, and an entry
 * past the end fails the _Static_assert. A new mode goes last, MODE_COUNT
 * after it. */
enum mode { UNBOUNDED, BOUNDED, SHED };
enum { MODE_COUNT = SHED + 1 };

static const struct lab_mode modes[] = {
    [UNBOUNDED] = {
        .name = "unbounded", .cap_kind = "rlimit",
        .caption = "A list with no limit: every job not yet consumed stays "
                   "in memory",
        .expect = "finished",
    },
    [BOUNDED] = {
        .name = "bounded", .cap_kind = "rlimit",
        .caption = "A full ring makes the producer wait (backpressure): "
                   "depth <= capacity",
        .expect = "finished",
    },
    [SHED] = {
        .name = "shed", .cap_kind = "rlimit",
        .caption = "A full ring turns the new job away and counts it: flat, "
                   "losses visible",
        .expect = "finished",
    },
    [MODE_COUNT] = {0},   /* the end: MODE_COUNT is the last mode + 1 */
};
_Static_assert(sizeof modes / sizeof modes[0] == MODE_COUNT + 1,
               "modes[]: one entry per enum mode, then [MODE_COUNT] = {0}");

static const struct lab_option options[] = {
    {"produce", "N", "jobs the producer offers per tick (default 2)"},
    {"consume", "M", "jobs the consumer takes per tick (default 1)"},
    {"capacity", "N", "slots in the ring, bounded and shed (default 16)"},
    {0},
};

static long produce_per_tick = 2;  /* --produce */
static long consume_per_tick = 1;  /* --consume */
static long capacity = 16;         /* --capacity */

/* Returns false for a value that is not a whole number in range. */
static bool on_option(const char *name, const char *arg)
{
    if (strcmp(name, "produce") == 0)
        return parse_long(arg, 1, 1000000, &produce_per_tick);
    if (strcmp(name, "consume") == 0)
        return parse_long(arg, 1, 1000000, &consume_per_tick);
    return parse_long(arg, 1, 10000000, &capacity);
}

static const struct lab_info lab = {
    .number = 4,
    .title = "unbounded queue",
    .takeaway = "A producer faster than its consumer fills any queue that "
                "has no limit",
    .showcase = "unbounded",
    .claim = "A queue with no limit is a leak",
    .recap_leak = "a queue with no limit",
    .recap_fix = "a bounded ring: wait or shed",
    .recap_tool = "the depth column, per tick",
    .modes = modes,
    .default_size = 64 << 10,   /* 64 KiB of payload per job */
    .default_iterations = 200,  /* ticks */
    .extra_columns = "depth\tproduced\tconsumed\tdropped\toldest_id",
    .y2_columns = "depth,dropped",
    .options = options,
    .on_option = on_option,
};

/* ------------------------------------------------------------------------
 * Jobs
 * --------------------------------------------------------------------- */

/* One unit of work: an id and its payload. */
struct job {
    struct job *next;         /* the unbounded list's link; unused in a ring */
    long id;                  /* 1, 2, 3, ... in the order made */
    size_t len;               /* bytes in payload */
    unsigned char payload[];  /* the data: a request body, a row, a frame */
};

/* Makes a job and writes every byte of its payload, so it is resident.
 * Exits 3 if malloc returns NULL (the cap: the queue has eaten it all). */
static struct job *make_job(long id, size_t len, size_t depth)
{
    struct job *job = malloc(sizeof *job + len);
    if (job == NULL)
        lab_wall("malloc(%zu) for job %ld returned NULL with %zu jobs "
                 "(%.1f MiB) waiting in the queue", sizeof *job + len, id,
                 depth, mib((uint64_t)depth * (sizeof *job + len)));
    job->next = NULL;
    job->id = id;
    job->len = len;
    memset(job->payload, (int)(id & 0xff) | 1, len);
    return job;
}

/* The consumer's work: read every byte. Returns their sum, so the compiler
 * cannot skip the reading. */
static unsigned long consume_job(const struct job *job)
{
    unsigned long sum = 0;
    for (size_t i = 0; i < job->len; i += 64)
        sum += job->payload[i];
    return sum;
}

/* ------------------------------------------------------------------------
 * The queue, shared by three threads
 * --------------------------------------------------------------------- */

/* What the three threads share. `mode`, `job_size` and `ring` are set
 * before the threads start and never change; everything else is read and
 * written only while holding `lock`. */
static struct queue {
    pthread_mutex_t lock;      /* one lock for all of it: simple, and the
                                  work (make, consume) is done outside it */
    pthread_cond_t not_empty;  /* consumer waits here for a job */
    pthread_cond_t not_full;   /* producer waits here for a slot (bounded) */
    pthread_cond_t go;         /* both wait here for the clock's next quota */
    pthread_cond_t idle;       /* the clock waits here for both to settle */

    enum mode mode;            /* which mode */
    size_t job_size;           /* --size */
    struct job *head, *tail;   /* the list, when there is no ring:
                                  oldest first, newest last */
    struct job **ring;         /* `capacity` slots, or NULL for a list */
    size_t first;              /* ring index of the oldest job */
    size_t depth;              /* jobs waiting, in list or ring */

    long produced;             /* jobs made and offered: queued or dropped */
    long consumed;             /* jobs the consumer took out */
    long dropped;              /* jobs turned away at a full ring (shed) */
    long produce_left;         /* offers the producer still owes: a blocked
                                  producer carries them into the next tick */
    long consume_left;         /* takes left to the consumer this tick */
    bool producer_parked;      /* waiting on not_full with a job in hand */
    bool stop;                 /* the run is over: both threads return */
} q = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .not_empty = PTHREAD_COND_INITIALIZER,
    .not_full = PTHREAD_COND_INITIALIZER,
    .go = PTHREAD_COND_INITIALIZER,
    .idle = PTHREAD_COND_INITIALIZER,
};

/* Appends a job and wakes the consumer. The caller holds the lock and has
 * checked for room. */
static void put(struct job *job)
{
    if (q.ring == NULL) {
        if (q.tail)
            q.tail->next = job;
        else
            q.head = job;
        q.tail = job;
    } else {
        q.ring[(q.first + q.depth) % (size_t)capacity] = job;
    }
    q.depth++;
    pthread_cond_signal(&q.not_empty);
}

/* Removes the oldest job. The caller holds the lock; depth > 0. */
static struct job *take(void)
{
    struct job *job;
    if (q.ring == NULL) {
        job = q.head;
        q.head = job->next;
        if (q.head == NULL)
            q.tail = NULL;
    } else {
        job = q.ring[q.first];
        q.first = (q.first + 1) % (size_t)capacity;
    }
    q.depth--;
    q.consumed++;
    return job;
}

/* A full ring. A list is never full. The caller holds the lock. */
static bool is_full(void)
{
    return q.ring != NULL && q.depth == (size_t)capacity;
}

/* The id of the oldest job still queued, or 0 for none: the next one the
 * consumer takes. The caller holds the lock. */
static long oldest_id(void)
{
    if (q.depth == 0)
        return 0;
    return q.ring != NULL ? q.ring[q.first]->id : q.head->id;
}

/* Backpressure: the producer waits, job in hand, until the ring has a
 * slot. Returns false if the run stopped meanwhile. The caller holds the
 * lock. */
static bool wait_for_slot(void)
{
    while (is_full() && !q.stop) {
        q.producer_parked = true;
        pthread_cond_signal(&q.idle);
        pthread_cond_wait(&q.not_full, &q.lock);
    }
    q.producer_parked = false;
    return !q.stop;
}

/* ------------------------------------------------------------------------
 * The two workers
 * --------------------------------------------------------------------- */

/* GCC 12's -fanalyzer (make lint) follows a `default:` that the switch in
 * producer() does not have, and finds the job leaked there. There is no
 * such path: q.mode is always one of the enum's. */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif

/* Offers a job for each unit of produce_left, as the clock hands them out.
 * Returns NULL when the run stops; exits 3 if a job cannot be made. */
static void *producer(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&q.lock);
    for (long id = 1;; id++) {
        while (q.produce_left == 0 && !q.stop)
            pthread_cond_wait(&q.go, &q.lock);
        if (q.stop)
            break;
        /* Make the job outside the lock: that is the producer's work. */
        size_t depth = q.depth;
        pthread_mutex_unlock(&q.lock);
        struct job *job = make_job(id, q.job_size, depth);
        pthread_mutex_lock(&q.lock);

        switch (q.mode) {       /* what each mode does with the job */
        case UNBOUNDED:
            q.produced++;        /* a list has no limit: in it goes */
            put(job);
            break;
        case BOUNDED:
            if (!wait_for_slot()) {
                free(job);       /* the run is over: the loop ends below */
                break;
            }
            q.produced++;
            put(job);
            break;
        case SHED:
            q.produced++;
            if (is_full()) {     /* load shedding: turn the new job away */
                free(job);
                q.dropped++;
            } else {
                put(job);
            }
            break;
        }
        if (--q.produce_left == 0)
            pthread_cond_signal(&q.idle);
    }
    pthread_mutex_unlock(&q.lock);
    return NULL;
}
#ifndef __clang__
#pragma GCC diagnostic pop
#endif

/* Takes up to consume_left jobs a tick, each read in full, then freed.
 * Returns NULL when the run stops. */
static void *consumer(void *unused)
{
    (void)unused;
    volatile unsigned long sink = 0;   /* where the consumer's sums go */
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (q.consume_left == 0 && !q.stop)
            pthread_cond_wait(&q.go, &q.lock);
        if (q.stop)
            break;
        if (q.depth == 0) {
            /* A producer that still owes jobs will bring one, even if it
             * is still marked parked: our take just woke it. Giving up
             * here would let the scheduler decide how many we take. */
            if (q.produce_left > 0) {
                pthread_cond_wait(&q.not_empty, &q.lock);  /* one is coming */
                continue;
            }
            q.consume_left = 0;     /* nothing to take: idle this tick */
            pthread_cond_signal(&q.idle);
            continue;
        }
        struct job *job = take();
        pthread_cond_signal(&q.not_full);
        /* Do the work and free the job outside the lock. */
        pthread_mutex_unlock(&q.lock);
        sink += consume_job(job);
        free(job);
        pthread_mutex_lock(&q.lock);
        if (--q.consume_left == 0)
            pthread_cond_signal(&q.idle);
    }
    pthread_mutex_unlock(&q.lock);
    (void)sink;
    return NULL;
}

/* ------------------------------------------------------------------------
 * The clock
 * --------------------------------------------------------------------- */

/* The producer has nothing left to offer, or is blocked on a full ring. */
static bool producer_settled(void)
{
    return q.produce_left == 0 || (q.producer_parked && is_full());
}

/* Runs one tick; returns with the lock held and both threads at rest. */
static void tick(void)
{
    pthread_mutex_lock(&q.lock);
    q.produce_left += produce_per_tick;
    pthread_cond_broadcast(&q.go);
    while (!producer_settled())
        pthread_cond_wait(&q.idle, &q.lock);

    q.consume_left = consume_per_tick;
    pthread_cond_broadcast(&q.go);
    while (q.consume_left > 0 || !producer_settled())
        pthread_cond_wait(&q.idle, &q.lock);
}

/* Stops both threads, joins them and frees every job still queued. */
static void shut_down(pthread_t prod, pthread_t cons)
{
    pthread_mutex_lock(&q.lock);
    q.stop = true;
    pthread_cond_broadcast(&q.go);
    pthread_cond_broadcast(&q.not_full);
    pthread_cond_broadcast(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
    pthread_join(prod, NULL);
    pthread_join(cons, NULL);
    while (q.depth > 0)
        free(take());
    free(q.ring);
}

/* A ring of --capacity empty slots. Exits 3 if calloc returns NULL. */
static struct job **make_ring(void)
{
    struct job **ring = calloc((size_t)capacity, sizeof *ring);
    if (ring == NULL)
        lab_wall("calloc of a ring of %ld slots returned NULL", capacity);
    return ring;
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    enum mode mode = (enum mode)(a.mode - modes);   /* a.mode is modes[mode] */
    q.mode = mode;
    q.job_size = a.size;
    const char *rule = "";       /* what a full queue does, for the table */
    switch (mode) {              /* each mode's queue: a list or a ring */
    case UNBOUNDED:
        rule = "; no limit on the queue";
        break;
    case BOUNDED:
        rule = "; a full ring blocks the producer";
        q.ring = make_ring();
        break;
    case SHED:
        rule = "; a full ring drops the new job";
        q.ring = make_ring();
        break;
    }
    if (!a.quiet)
        printf("%s: the producer offers %ld jobs of %.0f KiB per tick, the "
               "consumer takes %ld%s\n", a.mode->name, produce_per_tick,
               a.size / 1024.0, consume_per_tick, rule);

    probe_start(&lab, &a, argc, argv);
    int64_t extra[5] = {0, 0, 0, 0, 0};
    probe_sample(0, extra);

    pthread_t prod, cons;
    int err = pthread_create(&prod, NULL, producer, NULL);
    if (err == 0)
        err = pthread_create(&cons, NULL, consumer, NULL);
    if (err != 0)
        lab_wall("pthread_create: %s", strerror(err));

    for (long t = 1; t <= a.iterations; t++) {
        tick();
        extra[0] = (int64_t)q.depth;
        extra[1] = q.produced;
        extra[2] = q.consumed;
        extra[3] = q.dropped;
        extra[4] = oldest_id();
        /* Sample while holding the lock: nothing moves until it is taken. */
        if (!a.quiet)
            printf("tick %ld: depth %zu produced %ld consumed %ld dropped "
                   "%ld\n", t, q.depth, q.produced, q.consumed, q.dropped);
        probe_sample(t, extra);
        pthread_mutex_unlock(&q.lock);
    }
    shut_down(prod, cons);
    probe_finish();
    return EXIT_DONE;
}
