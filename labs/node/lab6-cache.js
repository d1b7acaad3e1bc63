'use strict';
/*
 * Lab 6 in Node.js: the unbounded cache. The twin of labs/lab6-cache.c,
 * run by `leaklab run 6 --node` beside it.
 *
 * The lesson is the C lab's: a cache that nothing bounds is a leak with a
 * hit rate. The first seed, *Node.js memory notes*, names the cache first
 * among the causes of leaks and gives four steps of advice, each a mode
 * here as in C: entries that expire (ttl), a map with a size limit
 * (limit), an LRU (lru), a cache outside the process (redis).
 *
 * The workload is the C lab's, draw for draw. A batch (an iteration, a
 * row) is --requests lookups; a miss computes a --size value and stores
 * it. The key space grows by --new-keys a batch, each new key asked for
 * once as it arrives, the rest drawn with a Zipf-like popularity from
 * splitmix64 seeded by --seed: the C lab's generator, ported bit for bit
 * (BigInt for its 64-bit words; the draw's floating point is the same
 * IEEE arithmetic, Math.exp and Math.log1p in place of libm's). So the
 * in-process modes record the C lab's hits, misses, entries, evictions
 * and cache_kib on every row, and labs/node-lab6.bats checks that they
 * do, byte for byte.
 *
 * The cache is a Map at module level, as a Node service's would be: a
 * Map remembers insertion order, which gives limit its FIFO (the first
 * key is the oldest insertion) and lru its order of use (a hit deletes
 * and sets the key again, so the first key is the least recently used).
 *
 *   unbounded  a Map that never evicts: every key ever asked for stays.
 *   limit      at most --max-entries; a full Map drops its first key.
 *   lru        bounded by --max-bytes; a hit moves its key to the end,
 *              and the first keys go while the count is over the bound.
 *   ttl        each entry dies --ttl batches after it was written, on the
 *              lab's batch clock (not Date.now(): the rows must not depend
 *              on how fast this machine is).
 *   redis      the cache in a private redis-server, this twin's child,
 *              started as harness/redis.c starts the C lab's. The twin
 *              holds no value: its heap and rss stay flat, the server
 *              holds the bytes (server_rss_kib). Its external does not
 *              stay flat: see what external counts, below.
 *
 * This file holds the lesson: the workload, the cache and its bounds,
 * and what the redis mode does with its server. Starting that server and
 * speaking RESP2 to it are machinery, apart in labs/node/redis.js, as the
 * C lab's are in harness/redis.c and hiredis.
 *
 * The values are Buffers, made with Buffer.allocUnsafeSlow: each its own
 * block outside V8's heap, counted in `external`. A cached response is
 * bytes, and Buffers are how Node holds bytes; it is also the C lab's
 * split, a small entry pointing at a large block. So the chart shows
 * where the memory went: heapUsed carries the Map and its small entry
 * objects, external the values. (allocUnsafe would slice values under
 * 4 KiB from a shared pool, so that an evicted value frees nothing while
 * a neighbour lives. Strings would put the values on V8's heap, where
 * --max-old-space-size is the wall: lab 2's story, not this one.)
 *
 * cache_kib is the C lab's count, not V8's: each entry charged its value
 * and C's 40 bytes of bookkeeping, and the table 8 bytes a slot, doubling
 * as C's buckets do. lru bounds that count, so it evicts at the moments
 * C's does. What V8 really spends is in heap_used_kib and external_kib.
 *
 * Each row comes after a full garbage collection (--gc, this twin's
 * default): an evicted Buffer's bytes go back only when V8 collects it,
 * and the rows count what the cache holds, as C's do.
 *
 * external counts more than the cache (LESSONS.md, lab 6, "Its Node.js
 * twin", has the numbers): the values held; Node's own built-in source
 * text, about 1.5 MiB from row 0; and the Buffers the batch let go, which
 * V8 takes off external only at its next collection. So the redis mode,
 * which holds nothing, still shows external rising by a few MiB.
 * On every row: hits + misses = requests, and for the in-process modes
 * entries = the last row's entries + misses - evictions.
 *
 * Run it:  build/leaklab run 6 --node      or
 *          node labs/node/lab6-cache.js --mode lru --iterations 40
 */
const { spawnSync } = require('node:child_process');
const probe = require('./probe');
const redis = require('./redis');   /* the redis mode's server and client */

const own = {                  /* the lab's flags, with the C lab's defaults */
  requests: 200,               /* --requests: lookups per batch */
  'new-keys': 20,              /* --new-keys: key space growth per batch */
  'max-bytes': 4 << 20,        /* --max-bytes: lru's bound, redis's maxmemory */
  'max-entries': 0,            /* --max-entries: limit's bound; 0: from max-bytes */
  ttl: 10,                     /* --ttl: batches an entry lives */
  seed: 1n,                    /* --seed: splitmix64's, a BigInt */
  bench: 0,                    /* --bench N: time N lookups instead */
};

const lab = {
  number: 6,
  twinOf: 'labs/lab6-cache.c',
  title: 'unbounded cache, in Node.js',
  takeaway: 'A Map that never evicts keeps every key it ever saw: bound it, '
    + 'or move it out of the process',
  showcase: 'unbounded',
  claim: 'A cache without a bound is a leak with a hit rate',
  recap: { leak: 'a module-level Map that never evicts',
    fix: 'a byte bound with LRU, or Redis', tool: 'cache_kib against hit_rate' },
  modes: [
    { name: 'unbounded', capKind: 'rlimit', expect: 'finished',
      caption: 'A Map that never evicts: every key ever asked for stays' },
    { name: 'limit', capKind: 'rlimit', expect: 'finished',
      caption: 'At most --max-entries; a full Map drops its first key, the '
        + 'oldest insertion' },
    { name: 'lru', capKind: 'rlimit', expect: 'finished',
      caption: 'At most --max-bytes; a hit moves its key to the end (delete, '
        + 'set), the first go' },
    { name: 'ttl', capKind: 'rlimit', expect: 'finished',
      caption: 'Entries die --ttl batches after they are written: memory = '
        + 'write rate x ttl' },
    { name: 'redis', capKind: 'rlimit', expect: 'finished',
      caption: 'The cache in a private redis-server, spoken to in RESP over '
        + 'node:net: the twin holds no value' },
  ],
  defaultSize: 16 << 10,
  defaultIterations: 200,
  gcBeforeRow: true,
  extraColumns: ['requests', 'entries', 'cache_kib', 'hits', 'misses', 'evictions',
    'hit_rate', 'server_rss_kib', 'used_memory_kib', 'evicted_keys'],
  y2Columns: ['hit_rate'],
  xLabel: 'batch of requests',
  compareColumns: ['heap_used_kib', 'server_rss_kib'],
  options: [
    { name: 'requests', arg: 'N', help: 'lookups per batch, an iteration (default 200)' },
    { name: 'new-keys', arg: 'N', help: 'keys the key space grows by per batch (default 20)' },
    { name: 'max-bytes', arg: 'SIZE', help: 'lru\'s bound, and redis\'s maxmemory (default 4M)' },
    { name: 'max-entries', arg: 'N', help: 'limit\'s bound (default: what fits in --max-bytes)' },
    { name: 'ttl', arg: 'N', help: 'batches an entry lives, ttl mode (default 10)' },
    { name: 'seed', arg: 'N', help: 'the request stream\'s seed (default 1)' },
    { name: 'bench', arg: 'N', help: 'time N lookups on a warm cache of 100000 keys instead' },
  ],
  notes: 'hit_rate is per mille, per batch. The redis mode needs redis-server and\n'
    + 'setpriv (util-linux); it speaks RESP2 itself: Node has no Redis client of\n'
    + 'its own, and the twins use no npm package. --bench N prints the time per\n'
    + 'lookup (redis: round trips per second, then redis-benchmark\'s) and writes\n'
    + 'no TSV.',
  /* Returns false for a value that is not a number in range (lab.c's
   * parse_long and parse_size). */
  onOption(name, value) {
    if (name === 'max-bytes') {
      const n = probe.parseSize(value);
      if (!n) return false;
      own[name] = n;
      return true;
    }
    if (!/^[0-9]+$/.test(value)) return false;
    const n = Number(value);
    if (n < (name === 'seed' ? 0 : 1) || n > 100000000) return false;
    own[name] = name === 'seed' ? BigInt(n) : n;
    return true;
  },
};

/* ------------------------------------------------------------------------
 * The request stream: the C lab's, bit for bit
 * --------------------------------------------------------------------- */

const M64 = (1n << 64n) - 1n;
let rngState = 0n;   /* splitmix64's state, from --seed */

/* The next 64 random bits: splitmix64, as next_random() in C. */
function nextRandom() {
  rngState = (rngState + 0x9e3779b97f4a7c15n) & M64;
  let z = rngState;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/* A key in [0, nkeys) with probability falling as 1/(key + 1), as
 * zipf_key() in C: u is the top 53 bits over 2^53, exact in a double;
 * then the same exp and log1p of the same doubles. */
function zipfKey(nkeys) {
  const u = Number(nextRandom() >> 11n) * 2 ** -53;
  const k = Math.floor(Math.exp(u * Math.log1p(nkeys))) - 1;
  return k < nkeys ? k : nkeys - 1;
}

/* The value for key: what a miss costs, a fresh Buffer written in full so
 * that it is resident; its first 8 bytes are the key (little-endian, as
 * C's), so that a hit can be checked. Exits 3 if its bytes cannot be had. */
function computeValue(key, size, entries) {
  let value;
  try {
    value = Buffer.allocUnsafeSlow(size);
  } catch (err) {
    probe.wall(`Buffer.allocUnsafeSlow(${size}) failed (${err.message}) with `
      + `${entries} entries in the cache`);
  }
  const words = new Uint32Array(value.buffer, 0, size >>> 2);
  let w = (key * 2654435761) >>> 0;     /* a 32-bit LCG from the key */
  for (let i = 0; i < words.length; i++) {
    words[i] = w;
    w = (Math.imul(w, 1664525) + 1013904223) >>> 0;
  }
  value.fill(0xa5, words.length * 4);   /* a size not a multiple of 4 */
  keyBytes(key).copy(value, 0, 0, Math.min(8, size));
  return value;
}

/* key as C's uint64_t in memory: 8 bytes, little-endian (one Buffer,
 * reused). */
const keyHead = Buffer.alloc(8);
function keyBytes(key) {
  keyHead.writeBigUInt64LE(BigInt(key));
  return keyHead;
}

/* ------------------------------------------------------------------------
 * The in-process cache: one Map, in insertion (or use) order
 * --------------------------------------------------------------------- */

/* C's bookkeeping, for the count the bounds read (see the header). */
const ENTRY_OVERHEAD = 40;   /* sizeof(struct entry) in the C lab */
const FIRST_SLOTS = 64;      /* FIRST_BUCKETS */
const SLOT_BYTES = 8;        /* a bucket: one pointer */

const cache = new Map();     /* key -> { value, written }: the cache */
const c = {
  mode: '',                  /* which mode runs */
  size: 0,                   /* --size */
  slots: 0,                  /* C's buckets: doubles as entries pass it */
  bytes: 0,                  /* C's count: entries and values, and slots */
  hits: 0, misses: 0,        /* this batch */
  evictions: 0,              /* this batch (ttl: expiries) */
  sink: 0,                   /* a byte of each hit, read so it is used */
};

const entryBytes = () => ENTRY_OVERHEAD + c.size;

/* As C's grow_table: the table's slots double, and the count with them. */
function growTable() {
  const n = c.slots;
  c.slots = n ? 2 * n : FIRST_SLOTS;
  c.bytes += (c.slots - n) * SLOT_BYTES;
}

/* The entry for key, or undefined. An lru hit becomes the newest: deleted
 * and set again, it goes to the Map's end. */
function cacheGet(key) {
  const e = cache.get(key);
  if (e !== undefined && c.mode === 'lru') {
    cache.delete(key);
    cache.set(key, e);
  }
  return e;
}

/* Drops the Map's first key: the oldest insertion, or the least recently
 * used. Its Buffer is garbage, freed at the next collection. */
function evictOldest() {
  const first = cache.keys().next().value;
  cache.delete(first);
  c.bytes -= entryBytes();
  c.evictions++;
}

/* Computes key's value and stores it, in batch iter; then the mode's bound
 * evicts what it must. Exits 3 if the value cannot be had. */
function cachePut(key, iter) {
  const value = computeValue(key, c.size, cache.size);
  if (cache.size + 1 > c.slots) growTable();
  cache.set(key, { value, written: iter });
  c.bytes += entryBytes();
  if (c.mode === 'limit') {
    while (cache.size > own['max-entries']) evictOldest();   /* hot or not */
  } else if (c.mode === 'lru') {
    while (c.bytes > own['max-bytes'] && cache.size > 1) evictOldest();
  }
}

/* ttl, at the start of batch iter: drops what was written ttl batches ago
 * or earlier. Nothing moves a key in ttl's Map, so it is in order of
 * writing, oldest first. */
function expire(iter) {
  for (const [, e] of cache) {
    if (e.written + own.ttl > iter) break;
    evictOldest();
  }
}

/* A lookup in batch iter: true on a hit, whose value it reads; a miss
 * computes the value and stores it (exits 3, as cachePut, if it cannot
 * have the value). */
function localLookup(key, iter) {
  const e = cacheGet(key);
  if (e === undefined) {
    cachePut(key, iter);
    return false;
  }
  c.sink ^= e.value[c.size - 1];
  return true;
}

/* ------------------------------------------------------------------------
 * The redis mode: the same lookups, in a server of the twin's own
 *
 * redis.js starts the server (as harness/redis.c starts the C lab's) and
 * speaks RESP2 to it; here is what the mode does with it. The cache is
 * the server's keys "key:K"; a miss computes the value here and SETs
 * it, and the server's maxmemory with allkeys-lru is the bound, so the
 * twin holds no value between lookups.
 * --------------------------------------------------------------------- */

/* GET key; on a miss, compute the value and SET it. Returns true on a
 * hit. Exits 1 on a Redis error or a value that is not ours. */
async function redisLookup(key) {
  const k = `key:${key}`;
  const r = await redis.call('GET', k);
  if (r !== null) {
    const n = Math.min(8, r.length);
    if (r.length !== c.size || keyBytes(key).compare(r, 0, n, 0, n) !== 0)
      redis.fail(`redis GET ${k}: a value that is not the one we stored`);
    return true;
  }
  await redis.call('SET', k, computeValue(key, c.size, 0));
  return false;
}

/* ------------------------------------------------------------------------
 * Batches, and the bench
 * --------------------------------------------------------------------- */

/* --bench for the in-process modes, as C's bench_lookups: n lookups of
 * keys drawn as the batches draw them, on a cache warmed with keys 0 to
 * 99999, the best of five passes. Exits 3 through cachePut, as a batch
 * does, if memory runs out. */
function benchLookups(n) {
  const WARM = 100000;
  const PASSES = 5;
  for (let k = 0; k < WARM; k++) cachePut(k, 0);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = zipfKey(WARM);
  let hits = 0;
  let best = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    hits = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) hits += cacheGet(keys[i]) !== undefined ? 1 : 0;
    const ns = Number(process.hrtime.bigint() - t0);
    if (pass === 0 || ns < best) best = ns;
  }
  console.log(`bench: ${c.mode}: ${n} lookups on ${cache.size} entries, ${hits} hits: `
    + `${(best / n).toFixed(1)} ns per lookup (the best of ${PASSES} passes)`);
}

/* --bench in the redis mode: n GETs of one value, a round trip each, then
 * redis-benchmark's GET on the same socket. */
async function redisBench(n) {
  await redis.call('SET', 'key:0', computeValue(0, c.size, 0));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await redis.call('GET', 'key:0');
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`bench: redis: ${n} round trips (GET, ${c.size} bytes) in ${s.toFixed(3)} s: `
    + `${(n / s).toFixed(0)} per second`);
  const r = spawnSync('redis-benchmark', ['-s', redis.socketPath(), '-c', '1', '-n', String(n),
    '-d', String(c.size), '-t', 'set,get', '--csv'], { stdio: 'inherit' });
  if (r.error || r.status !== 0) redis.fail('redis-benchmark did not run to the end');
}

/* The lab's columns of the row for the batch just run (all 0 at the
 * baseline), by name: the cache's counters, or for redis, what the
 * server says (a redis error exits 1, one line, as redis.call does). */
let evictedBefore = 0;   /* the server's evicted_keys, last row */
async function fillRow() {
  const requests = c.hits + c.misses;
  const r = {
    requests, entries: cache.size, cache_kib: Math.floor(c.bytes / 1024),
    hits: c.hits, misses: c.misses, evictions: c.evictions,
    hit_rate: requests ? Math.floor(c.hits * 1000 / requests) : 0,
    server_rss_kib: 0, used_memory_kib: 0, evicted_keys: 0,
  };
  if (c.mode === 'redis') {
    const s = await redis.info();
    r.entries = s.keys;
    r.cache_kib = 0;                     /* the twin holds no value */
    r.evictions = s.evictedKeys - evictedBefore;
    evictedBefore = s.evictedKeys;
    r.server_rss_kib = redis.rssKib();
    r.used_memory_kib = Math.floor(s.usedMemory / 1024);
    r.evicted_keys = s.evictedKeys;
  }
  return r;
}

/* A row as probe.sample() takes it: the numbers in lab.extraColumns's
 * order. */
const columnsOf = (r) => lab.extraColumns.map((name) => r[name]);

/* Runs the mode's batches, a row each. Resolves to the exit code: 0 when
 * every batch ran; 2 on a bad argument and 3 at the memory wall exit from
 * inside (probe.usage, probe.wall), 1 on a runtime failure (probe.fail). */
async function main() {
  const a = probe.parse(lab, process.argv.slice(2));
  c.mode = a.mode.name;
  c.size = a.size;
  if (own['new-keys'] > own.requests)
    probe.usage(`bad --new-keys '${own['new-keys']}': more than the ${own.requests} `
      + 'requests of a batch');
  const least = entryBytes() + FIRST_SLOTS * SLOT_BYTES;
  if (own['max-bytes'] < least)
    probe.usage(`bad --max-bytes '${a.own['max-bytes'] || '4M'}': smaller than one value of --size `
      + `${c.size} bytes and its ${least - c.size} bytes of bookkeeping: the cache could `
      + 'not hold one');
  /* limit gets the same budget as lru: what fits in --max-bytes, each
   * entry charged its own bytes and two table slots (C's buckets double
   * as entries pass them, so a full table has up to two slots an entry). */
  if (own['max-entries'] === 0)
    own['max-entries'] = Math.floor(own['max-bytes'] / (entryBytes() + 2 * SLOT_BYTES));
  rngState = own.seed;
  growTable();

  if (c.mode === 'redis') {
    await redis.open(own['max-bytes']);
    if (own.bench) {
      await redisBench(own.bench);
      redis.close();
      return probe.EXIT_DONE;
    }
    redis.forgetSocket();   /* connected: nothing left on disk */
  } else if (own.bench) {
    benchLookups(own.bench);
    return probe.EXIT_DONE;
  }
  if (!a.quiet)
    console.log(`${c.mode}: batches of ${own.requests} requests for values of `
      + `${(c.size / 1024).toFixed(0)} KiB; the key space grows by ${own['new-keys']} keys a batch`);

  probe.start(lab, a);
  probe.sample(0, columnsOf(await fillRow()));
  let nkeys = 0;       /* the key space so far: keys 0 to nkeys - 1 */
  let totalHits = 0;
  let row = null;      /* the last batch's columns, by name */
  for (let iter = 1; iter <= a.iterations; iter++) {
    const firstNew = nkeys;   /* this batch's new keys come first */
    nkeys += own['new-keys'];
    c.hits = c.misses = c.evictions = 0;
    if (c.mode === 'ttl') expire(iter);
    for (let r = 0; r < own.requests; r++) {
      const key = r < own['new-keys'] ? firstNew + r : zipfKey(nkeys);
      const hit = c.mode === 'redis' ? await redisLookup(key) : localLookup(key, iter);
      if (hit) c.hits++;
      else c.misses++;
    }
    totalHits += c.hits;
    row = await fillRow();
    /* What the cache holds: the twin's count, or the server's. */
    const held = ((row.cache_kib + row.used_memory_kib) / 1024).toFixed(1);
    if (!a.quiet)
      console.log(`batch ${iter}: ${c.hits} hits, ${c.misses} misses (hit rate `
        + `${(c.hits * 100 / own.requests).toFixed(1)}%), ${row.entries} entries, `
        + `${held} MiB held${row.used_memory_kib ? ' (the server\'s used_memory)' : ''}`);
    probe.sample(iter, columnsOf(row));
  }
  if (!a.quiet && a.iterations > 0)
    console.log(`${c.mode}: hit rate ${(totalHits * 100 / (own.requests * a.iterations)).toFixed(1)}% `
      + `over ${own.requests * a.iterations} requests; at the end ${row.entries} entries, `
      + `${((row.cache_kib + row.used_memory_kib) / 1024).toFixed(1)} MiB held`);
  probe.finish();
  if (c.mode === 'redis') redis.close();
  return probe.EXIT_DONE;
}

main().then((code) => { process.exitCode = code; });
