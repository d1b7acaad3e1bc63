/*
 * Lab 6: the unbounded cache.
 *
 * The lesson: a cache that nothing bounds is a leak with a hit rate. Every
 * key it has ever seen stays, and in a real service the keys never stop
 * coming (user ids, URLs, queries). The fix is a bound: on the number of
 * entries, on the bytes, on their age, or on another process's memory.
 *
 * The seed: the "memory leak" section of Node.js memory notes names the
 * cache first of three causes of leaks, and gives advice in four steps:
 * entries must expire rather than live in memory forever; a map with a
 * size limit; an LRU for a smarter, faster limit; or, better, a cache
 * outside the process, such as Redis. LESSONS.md, "Lab 6: unbounded
 * cache", has the story, with a Node version of our own.
 *
 * The workload. One iteration is a batch of --requests lookups (200). A
 * lookup that misses computes the value, a --size record (16 KiB), and
 * stores it. The key space grows by --new-keys per batch (20), and each
 * new key is asked for once as it arrives; the rest of the batch draws
 * keys with a skewed, Zipf-like popularity (the oldest keys are the
 * hottest) from a generator seeded by --seed. So there is a hot set worth
 * caching and a tail that only grows, and every mode sees the same stream.
 *
 * Modes, each a step of the seed's advice:
 *   unbounded  a global hash map, never evicted: cache_kib grows by
 *              new-keys x size a batch, and the hit rate is the best there
 *              is, paid for with all of it.
 *   limit      the same map with at most --max-entries entries; a full map
 *              evicts the oldest insertion (FIFO), hot or not.
 *   lru        bounded by --max-bytes; evicts the least recently used. A
 *              hash map plus a doubly linked list: get and put are O(1).
 *   ttl        each entry is freed --ttl batches after it was written: the
 *              cache holds what was written in the last ttl batches, so
 *              its size is write rate x ttl, set by the traffic, not by us.
 *   redis      the cache in a real redis-server, the lab's own child
 *              (harness/redis.c), --maxmemory from --max-bytes with
 *              allkeys-lru; the client is hiredis. The lab stays flat; the
 *              server holds the memory (server_rss_kib).
 * On every row: hits + misses = requests, and for the in-process modes
 * entries = the last row's entries + misses - evictions.
 *
 * Run it:  make lab6      or   build/leaklab run 6 --mode unbounded
 */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness/lab.h"
#include "../harness/probe.h"
#include "../harness/redis.h"

/* make says whether hiredis is there: -DLEAKLAB_HIREDIS=0 or 1 (a lone
 * compile, as make lint's, assumes it is). Without it the redis mode
 * exits 1 naming the package; every other mode runs. */
#ifndef LEAKLAB_HIREDIS
#define LEAKLAB_HIREDIS 1
#endif
#if LEAKLAB_HIREDIS
#include <hiredis/hiredis.h>
#endif

/* Each mode is a constant here, an entry in modes[] and a case in every
 * switch on it, none with a default: -Wswitch refuses a mode without
 * code. A new mode goes last, MODE_COUNT after it. */
enum mode { UNBOUNDED, LIMIT, LRU, TTL, REDIS };
enum { MODE_COUNT = REDIS + 1 };

static const struct lab_mode modes[] = {
    [UNBOUNDED] = {
        .name = "unbounded", .cap_kind = "rlimit", .expect = "finished",
        .caption = "A map that never evicts: every key ever asked for stays",
    },
    [LIMIT] = {
        .name = "limit", .cap_kind = "rlimit", .expect = "finished",
        .caption = "At most --max-entries; a full map evicts the oldest "
                   "insertion, hot or not",
    },
    [LRU] = {
        .name = "lru", .cap_kind = "rlimit", .expect = "finished",
        .caption = "At most --max-bytes; evicts the least recently used: "
                   "flat, the best hit rate of the bounds",
    },
    [TTL] = {
        .name = "ttl", .cap_kind = "rlimit", .expect = "finished",
        .caption = "Entries die --ttl batches after they are written: "
                   "memory = write rate x ttl",
    },
    [REDIS] = {
        .name = "redis", .cap_kind = "rlimit", .expect = "finished",
        .caption = "The cache in a private redis-server: the lab is flat, "
                   "the server holds the bytes",
    },
    [MODE_COUNT] = {0},   /* the end: MODE_COUNT is the last mode + 1 */
};
_Static_assert(sizeof modes / sizeof modes[0] == MODE_COUNT + 1,
               "modes[]: one entry per enum mode, then [MODE_COUNT] = {0}");

static const struct lab_option options[] = {
    {"requests", "N", "lookups per batch, an iteration (default 200)"},
    {"new-keys", "N", "keys the key space grows by per batch (default 20)"},
    {"max-bytes", "SIZE", "lru's bound, and redis's maxmemory (default 4M)"},
    {"max-entries", "N", "limit's bound (default: what fits in --max-bytes)"},
    {"ttl", "N", "batches an entry lives, ttl mode (default 10)"},
    {"seed", "N", "the request stream's seed (default 1)"},
    {"bench", "N", "time N lookups on a warm cache of 100000 keys instead"},
    {0},
};

static long requests = 200;             /* --requests */
static long new_keys = 20;              /* --new-keys */
static uint64_t max_bytes = 4 << 20;    /* --max-bytes */
static const char *max_bytes_arg = "4M";/* as typed, for messages */
static long max_entries;                /* --max-entries; 0: from max_bytes */
static long ttl = 10;                   /* --ttl */
static long seed = 1;                   /* --seed */
static long bench;                      /* --bench; 0: the batches */

/* Returns false for a value that is not a number in range. */
static bool on_option(const char *name, const char *arg)
{
    if (strcmp(name, "max-bytes") == 0) {
        max_bytes_arg = arg;
        return parse_size(arg, &max_bytes) && max_bytes > 0;
    }
    long *value = strcmp(name, "requests") == 0    ? &requests
                : strcmp(name, "new-keys") == 0    ? &new_keys
                : strcmp(name, "max-entries") == 0 ? &max_entries
                : strcmp(name, "ttl") == 0         ? &ttl
                : strcmp(name, "seed") == 0        ? &seed
                                                   : &bench;
    return parse_long(arg, value == &seed ? 0 : 1, 100000000, value);
}

static const struct lab_info lab = {
    .number = 6,
    .title = "unbounded cache",
    .takeaway = "An unbounded cache keeps every key it ever saw: bound it, "
                "or move it out of the process",
    .claim = "A cache without a bound is a leak with a hit rate",
    .recap_leak = "a map that never evicts",
    .recap_fix = "a byte bound with LRU, or Redis",
    .recap_tool = "cache_kib against hit_rate",
    .showcase = "unbounded",
    .modes = modes,
    .default_size = 16 << 10,   /* 16 KiB per cached value */
    .default_iterations = 200,  /* batches */
    .extra_columns = "requests\tentries\tcache_kib\thits\tmisses\tevictions"
                     "\thit_rate\tserver_rss_kib\tused_memory_kib"
                     "\tevicted_keys",
    .y2_columns = "hit_rate",
    .x_label = "batch of requests",
    .compare_charts = "hit_rate",
    .compare_columns = "server_rss_kib",
    .options = options,
    .on_option = on_option,
    .notes = "hit_rate is per mille, per batch. --bench N prints the time per "
             "lookup (redis: round\ntrips per second, then redis-benchmark's "
             "on the same socket) and writes no TSV.",
};

/* ------------------------------------------------------------------------
 * The request stream: new keys as they arrive, then skewed popularity
 * --------------------------------------------------------------------- */

static uint64_t rng_state;   /* splitmix64's state, from --seed */

/* The next 64 random bits (splitmix64: small, fast, the same everywhere). */
static uint64_t next_random(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A key in [0, nkeys) with probability falling as 1/(key + 1): key 0 is
 * the hottest. (The inverse of the continuous 1/x law: (n + 1)^u.) */
static uint64_t zipf_key(uint64_t nkeys)
{
    double u = (double)(next_random() >> 11) * 0x1.0p-53;   /* [0, 1) */
    uint64_t k = (uint64_t)exp(u * log1p((double)nkeys)) - 1;
    return k < nkeys ? k : nkeys - 1;
}

/* The value for key: what a miss costs, written in full so it is
 * resident. Its first word is the key, so a hit can be checked. */
static void compute_value(uint64_t key, unsigned char *value, size_t size)
{
    uint64_t word = key;
    for (size_t i = 0; i < size; i += sizeof word) {
        size_t n = size - i < sizeof word ? size - i : sizeof word;
        memcpy(value + i, &word, n);
        word = word * 6364136223846793005ULL + 1442695040888963407ULL;
    }
}

/* ------------------------------------------------------------------------
 * The in-process cache: a hash map, plus a list from newest to oldest
 * --------------------------------------------------------------------- */

/* One cached value. */
struct entry {
    struct entry *chain;          /* the next entry in its bucket */
    struct entry *newer, *older;  /* the list: by insertion (limit, ttl) or
                                     by last use (lru) */
    uint64_t key;                 /* the key asked for */
    long written;                 /* the batch it was stored in */
    unsigned char value[];        /* value_size bytes */
};

/* What every mode's counters and the in-process cache hold. */
static struct cache {
    enum mode mode;          /* which mode runs */
    size_t value_size;       /* --size */
    struct entry **bucket;   /* nbuckets chains */
    size_t nbuckets;         /* a power of two: grows when entries pass it */
    size_t entries;          /* entries held */
    uint64_t bytes;          /* what the lab counts as held: each entry
                                and its value, plus the buckets */
    struct entry *newest;    /* the list's head */
    struct entry *oldest;    /* its tail: the next to go */
    long hits, misses;       /* this batch */
    long evictions;          /* this batch (ttl: expiries) */
} c;

enum { FIRST_BUCKETS = 64 };

static size_t entry_bytes(void) { return sizeof(struct entry) + c.value_size; }

/* The bucket of key: the high bits of a multiplicative hash. */
static struct entry **bucket_of(uint64_t key)
{
    return &c.bucket[(key * 0x9e3779b97f4a7c15ULL) >> 32 & (c.nbuckets - 1)];
}

/* Doubles the buckets and rehashes every entry. Exits 3 if calloc fails. */
static void grow_table(void)
{
    struct entry **old = c.bucket;
    size_t n = c.nbuckets;
    c.nbuckets = n ? 2 * n : FIRST_BUCKETS;
    c.bucket = calloc(c.nbuckets, sizeof *c.bucket);
    if (c.bucket == NULL)
        lab_wall("calloc of %zu buckets returned NULL with %zu entries "
                 "(%.1f MiB) in the cache", c.nbuckets, c.entries,
                 mib(c.bytes));
    c.bytes += (c.nbuckets - n) * sizeof *c.bucket;
    for (size_t i = 0; i < n; i++)
        for (struct entry *e = old[i], *next; e; e = next) {
            next = e->chain;
            struct entry **b = bucket_of(e->key);
            e->chain = *b;
            *b = e;
        }
    free(old);
}

static void list_unlink(struct entry *e)
{
    *(e->newer ? &e->newer->older : &c.newest) = e->older;
    *(e->older ? &e->older->newer : &c.oldest) = e->newer;
}

static void list_push_newest(struct entry *e)
{
    e->newer = NULL;
    e->older = c.newest;
    *(c.newest ? &c.newest->newer : &c.oldest) = e;
    c.newest = e;
}

/* The entry for key, or NULL. An lru hit becomes the newest. */
static struct entry *cache_get(uint64_t key)
{
    struct entry *e = *bucket_of(key);
    while (e && e->key != key)
        e = e->chain;
    if (e == NULL)
        return NULL;
    switch (c.mode) {
    case LRU:
        list_unlink(e);          /* O(1): the list is doubly linked */
        list_push_newest(e);
        break;
    case UNBOUNDED: case LIMIT: case TTL: case REDIS:
        break;                   /* a hit changes nothing */
    }
    return e;
}

/* Frees the oldest entry. */
static void evict_oldest(void)
{
    struct entry *e = c.oldest, **p = bucket_of(e->key);
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    list_unlink(e);
    free(e);
    c.entries--;
    c.bytes -= entry_bytes();
    c.evictions++;
}

/* Computes key's value and stores it, in batch iter; then the mode's bound
 * evicts what it must. Exits 3 if malloc fails (the cap). */
static void cache_put(uint64_t key, long iter)
{
    struct entry *e = malloc(entry_bytes());
    if (e == NULL)
        lab_wall("malloc(%zu) returned NULL with %zu entries (%.1f MiB) in "
                 "the cache", entry_bytes(), c.entries, mib(c.bytes));
    e->key = key;
    e->written = iter;
    compute_value(key, e->value, c.value_size);
    if (c.entries + 1 > c.nbuckets)
        grow_table();
    struct entry **b = bucket_of(key);
    e->chain = *b;
    *b = e;
    list_push_newest(e);
    c.entries++;
    c.bytes += entry_bytes();
    switch (c.mode) {
    case LIMIT:
        while (c.entries > (size_t)max_entries)
            evict_oldest();      /* the oldest insertion, hot or not */
        break;
    case LRU:
        while (c.bytes > max_bytes && c.oldest != e)
            evict_oldest();      /* the least recently used */
        break;
    case UNBOUNDED: case TTL: case REDIS:
        break;                   /* no bound at all; ttl's comes with time */
    }
}

/* ttl, at the start of batch iter: frees what was written ttl batches ago
 * or earlier. Nothing moves an entry in ttl's list, so the oldest
 * written is the list's tail. */
static void expire(long iter)
{
    while (c.oldest && c.oldest->written + ttl <= iter)
        evict_oldest();
}

/* ------------------------------------------------------------------------
 * The cache in Redis: the same lookups, over a unix socket
 * --------------------------------------------------------------------- */

/* What the server says about itself, at each sample. */
struct server_info {
    long long used_memory;    /* INFO memory: bytes its allocator holds */
    long long evicted_keys;   /* INFO stats: since it started */
    long long keys;           /* INFO keyspace: db0's keys */
};

#if LEAKLAB_HIREDIS
static redisContext *rc;         /* our one connection */
static unsigned char *scratch;   /* a value computed on a miss */

/* reply, unless the command failed: then exits 1 with Redis's own words
 * (the connection's error, or the error reply), and how the server is. */
static redisReply *checked(const char *what, void *reply)
{
    redisReply *r = reply;
    if (r == NULL) {
        char state[64];
        redis_state(state, sizeof state, 500);
        redis_fail("redis %s: %s (the server: %s)", what,
                   rc->errstr[0] ? rc->errstr : "no reply", state);
    }
    if (r->type == REDIS_REPLY_ERROR)
        redis_fail("redis %s: %s", what, r->str);
    return r;
}

/* The number after "\nname:" or "\nname=" (name ends in ':') in an
 * INFO reply, or -1. */
static long long info_field(const char *info, const char *name)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\n%s%s", name,
             strchr(name, ':') ? "=" : ":");
    const char *p = strstr(info, pattern);
    return p ? strtoll(p + strlen(pattern), NULL, 10) : -1;
}

/* Starts the server and connects; checks that the server we reached is
 * the one we started. Exits 1 on any failure, with its reason. */
static void redis_open(void)
{
    /* A server gone in the middle of a write is an EPIPE for hiredis to
     * report, not a SIGPIPE that kills us without a word. */
    signal(SIGPIPE, SIG_IGN);
    redis_start(max_bytes);
    rc = redisConnectUnix(redis_socket());
    if (rc == NULL || rc->err)
        redis_fail("redis: cannot connect to %s: %s", redis_socket(),
                   rc ? rc->errstr : "out of memory");
    redisReply *r = checked("INFO server", redisCommand(rc, "INFO server"));
    long long pid = info_field(r->str, "process_id");
    long long port = info_field(r->str, "tcp_port");
    bool no_config = strstr(r->str, "\nconfig_file:\r\n") != NULL;
    freeReplyObject(r);
    if (pid != redis_pid() || port != 0 || !no_config)
        redis_fail("redis: the server on %s is not ours (pid %lld, TCP "
                   "port %lld, %s config file)", redis_socket(), pid, port,
                   no_config ? "no" : "a");
    scratch = malloc(c.value_size);
    if (scratch == NULL)
        lab_wall("malloc(%zu) for a value returned NULL", c.value_size);
}

/* GET key; on a miss, compute the value and SET it. Returns true on a
 * hit. Exits 1 on a Redis error, 3 on a value not ours. */
static bool redis_lookup(uint64_t key)
{
    char k[32];
    size_t klen = (size_t)snprintf(k, sizeof k, "key:%llu",
                                   (unsigned long long)key);
    redisReply *r = checked("GET", redisCommand(rc, "GET %b", k, klen));
    bool hit = r->type == REDIS_REPLY_STRING;
    if (hit && (r->len != c.value_size ||
                memcmp(r->str, &key, r->len < 8 ? r->len : 8) != 0))
        redis_fail("redis GET %s: a value that is not the one we stored", k);
    freeReplyObject(r);
    if (!hit) {
        compute_value(key, scratch, c.value_size);
        freeReplyObject(checked("SET", redisCommand(rc, "SET %b %b", k, klen,
                                                    scratch, c.value_size)));
    }
    return hit;
}

/* INFO's memory, stats and keyspace numbers. Exits 1 on a Redis error. */
static struct server_info redis_info(void)
{
    redisReply *r = checked("INFO", redisCommand(rc, "INFO"));
    struct server_info s = {
        .used_memory = info_field(r->str, "used_memory"),
        .evicted_keys = info_field(r->str, "evicted_keys"),
        .keys = info_field(r->str, "db0:keys"),
    };
    freeReplyObject(r);
    if (s.keys < 0)
        s.keys = 0;   /* no db0 line: no keys yet */
    return s;
}

/* --bench in the redis mode: n GETs of one --size value, one round trip
 * each, then redis-benchmark's GET on the same socket. */
static void redis_bench(long n)
{
    compute_value(0, scratch, c.value_size);
    freeReplyObject(checked("SET", redisCommand(rc, "SET key:0 %b", scratch,
                                                c.value_size)));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++)
        freeReplyObject(checked("GET", redisCommand(rc, "GET key:0")));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("bench: redis: %ld round trips (GET, %zu bytes) in %.3f s: %.0f "
           "per second\n", n, c.value_size, s, n / s);
    if (redis_benchmark(n, c.value_size) != 0)
        redis_fail("redis-benchmark did not run to the end");
}

static void redis_close(void)
{
    redisFree(rc);
    free(scratch);
    redis_stop();
}
#else
static noreturn void no_hiredis(void)
{
    redis_fail("the redis mode needs hiredis, which this build lacks "
               "(Debian package libhiredis-dev): make deps installs it, then "
               "make builds lab 6 again");
}
static void redis_open(void) { no_hiredis(); }
static bool redis_lookup(uint64_t key) { (void)key; no_hiredis(); }
static struct server_info redis_info(void) { no_hiredis(); }
static void redis_bench(long n) { (void)n; no_hiredis(); }
static void redis_close(void) { no_hiredis(); }
#endif

/* ------------------------------------------------------------------------
 * Batches, and the bench
 * --------------------------------------------------------------------- */

/* A lookup in the in-process cache, in batch iter: true on a hit, whose
 * value it reads; a miss computes the value and stores it. */
static bool local_lookup(uint64_t key, long iter)
{
    struct entry *e = cache_get(key);
    if (e == NULL) {
        cache_put(key, iter);
        return false;
    }
    volatile unsigned char sink = e->value[c.value_size - 1];
    (void)sink;
    return true;
}

/* One lookup of key in batch iter, in whichever cache the mode has.
 * Returns true on a hit. */
static bool lookup(uint64_t key, long iter)
{
    switch (c.mode) {
    case UNBOUNDED: case LIMIT: case LRU: case TTL:
        return local_lookup(key, iter);
    case REDIS:
        return redis_lookup(key);
    }
    return false;
}

/* --bench for the in-process modes: n lookups of keys drawn as the batches
 * draw them, on a cache warmed with keys 0 to 99999, timed five times
 * over: the best pass is the one the rest of the machine disturbed least.
 * Prints its time per lookup. Exits 3 if the keys do not fit in memory. */
static void bench_lookups(long n)
{
    enum { WARM = 100000, PASSES = 5 };
    for (uint64_t k = 0; k < WARM; k++)
        cache_put(k, 0);
    uint64_t *keys = malloc((size_t)n * sizeof *keys);
    if (keys == NULL)
        lab_wall("malloc of %ld keys returned NULL", n);
    for (long i = 0; i < n; i++)
        keys[i] = zipf_key(WARM);
    long hits = 0;
    double best = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        struct timespec t0, t1;
        hits = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < n; i++)
            hits += cache_get(keys[i]) != NULL;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
                    (double)(t1.tv_nsec - t0.tv_nsec);
        if (pass == 0 || ns < best)
            best = ns;
    }
    printf("bench: %s: %ld lookups on %zu entries, %ld hits: %.1f ns per "
           "lookup (the best of %d passes)\n", modes[c.mode].name, n,
           c.entries, hits, best / (double)n, PASSES);
    free(keys);
}

/* The lab's columns of the row for the batch just run (all 0 at the
 * baseline): the cache's counters, or for redis, what the server says. */
static void fill_row(int64_t extra[10])
{
    static long long evicted_before;   /* the server's evicted_keys, last */
    struct server_info s;
    extra[0] = c.hits + c.misses;      /* requests */
    extra[1] = (int64_t)c.entries;
    extra[2] = (int64_t)(c.bytes / 1024);
    extra[3] = c.hits;
    extra[4] = c.misses;
    extra[5] = c.evictions;
    extra[6] = extra[0] ? c.hits * 1000 / extra[0] : 0;
    switch (c.mode) {
    case REDIS:
        s = redis_info();
        extra[1] = s.keys;
        extra[2] = 0;                  /* the lab holds no value */
        extra[5] = s.evicted_keys - evicted_before;
        evicted_before = s.evicted_keys;
        extra[7] = (int64_t)(redis_rss() / 1024);
        extra[8] = s.used_memory / 1024;
        extra[9] = s.evicted_keys;
        break;
    case UNBOUNDED: case LIMIT: case LRU: case TTL:
        break;                         /* no server */
    }
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    c.mode = (enum mode)(a.mode - modes);
    c.value_size = a.size;
    if (new_keys > requests)
        lab_usage("bad --new-keys '%ld': more than the %ld requests of a "
                  "batch", new_keys, requests);
    /* One entry, its value and the first buckets must fit in the bound. */
    uint64_t least = entry_bytes() + FIRST_BUCKETS * sizeof(void *);
    if (max_bytes < least)
        lab_usage("bad --max-bytes '%s': smaller than one value of --size "
                  "%zu bytes and its %zu bytes of bookkeeping: the cache could "
                  "not hold one", max_bytes_arg, c.value_size,
                  (size_t)(least - c.value_size));
    if (max_entries == 0)   /* limit gets the same budget as lru */
        max_entries = (long)(max_bytes / (entry_bytes() + 2 * sizeof(void *)));
    rng_state = (uint64_t)seed;
    grow_table();

    switch (c.mode) {        /* where the cache is; and --bench */
    case REDIS:
        redis_open();
        if (bench) {
            redis_bench(bench);
            redis_close();
            return EXIT_DONE;
        }
        redis_forget_socket();   /* connected: nothing left on disk */
        break;
    case UNBOUNDED: case LIMIT: case LRU: case TTL:
        if (bench) {
            bench_lookups(bench);
            return EXIT_DONE;
        }
        break;
    }
    if (!a.quiet)
        printf("%s: batches of %ld requests for values of %.0f KiB; the key "
               "space grows by %ld keys a batch\n", modes[c.mode].name,
               requests, a.size / 1024.0, new_keys);

    probe_start(&lab, &a, argc, argv);
    int64_t extra[10] = {0};
    fill_row(extra);
    probe_sample(0, extra);

    uint64_t nkeys = 0;   /* the key space so far: keys 0 to nkeys - 1 */
    long total_hits = 0;
    for (long iter = 1; iter <= a.iterations; iter++) {
        uint64_t first_new = nkeys;   /* this batch's new keys come first */
        nkeys += (uint64_t)new_keys;
        c.hits = c.misses = c.evictions = 0;
        switch (c.mode) {
        case TTL:
            expire(iter);
            break;
        case UNBOUNDED: case LIMIT: case LRU: case REDIS:
            break;
        }
        for (long r = 0; r < requests; r++) {
            uint64_t key = r < new_keys ? first_new + (uint64_t)r
                                        : zipf_key(nkeys);
            if (lookup(key, iter))
                c.hits++;
            else
                c.misses++;
        }
        total_hits += c.hits;
        fill_row(extra);
        if (!a.quiet)
            printf("batch %ld: %ld hits, %ld misses (hit rate %.1f%%), %lld "
                   "entries, %.1f MiB held%s\n", iter, c.hits, c.misses,
                   c.hits * 100.0 / requests, (long long)extra[1],
                   (extra[2] + extra[8]) / 1024.0,
                   extra[8] ? " (the server's used_memory)" : "");
        probe_sample(iter, extra);
    }
    if (!a.quiet && a.iterations > 0)
        printf("%s: hit rate %.1f%% over %ld requests; at the end %lld "
               "entries, %.1f MiB held\n", modes[c.mode].name,
               total_hits * 100.0 / ((double)requests * a.iterations),
               requests * a.iterations, (long long)extra[1],
               (extra[2] + extra[8]) / 1024.0);
    probe_finish();
    switch (c.mode) {
    case REDIS:
        redis_close();
        break;
    case UNBOUNDED: case LIMIT: case LRU: case TTL:
        /* The cache is a global, as in a real service: it lives until
         * exit, and nothing frees it. Valgrind: "still reachable". */
        break;
    }
    return EXIT_DONE;
}
