'use strict';
/*
 * Lab 4 in Node.js: the unbounded queue. The twin of labs/lab4-queue.c,
 * run by `leaklab run 4 --node` beside it.
 *
 * The lesson is the C lab's: a queue between a fast producer and a slow
 * consumer holds every job not yet consumed; with no limit it grows for as
 * long as the producer is faster. The first seed, *Node.js memory notes*,
 * names it among the causes of leaks and gives it no code. In Node the
 * queue is usually a Writable stream's buffer: write() queues the chunk
 * whatever it answers, and answers false once the buffer holds its
 * highWaterMark. Here the stream is a Writable whose consumer finishes
 * --consume chunks a tick (default 1) while the producer offers --produce
 * (default 2), each a --size (64 KiB) Buffer.
 *
 *   unbounded  write()'s false is ignored: every chunk queues in the
 *              stream, depth and rss climb by one chunk a tick.
 *   bounded    write()'s false is respected: the producer stops until the
 *              stream emits 'drain'. The stream emits it only once its
 *              buffer is empty, so depth saws from --capacity (16) down
 *              to 1 and back; it never passes the capacity.
 *   shed       a full stream (highWaterMark reached) turns the new chunk
 *              away and counts it in `dropped`: flat, the loss on record.
 *
 * The clock is the C lab's, without threads: each tick the producer
 * offers what it owes, the consumer takes its share, the producer (woken
 * by 'drain', if it waited) goes on, and only then the row is taken; then
 * the event loop turns once (setImmediate). What each row says follows
 * from the rules, not from timing. Each row comes after a full garbage
 * collection (--gc, this twin's default), so that rss counts the chunks
 * still queued, not the consumed ones the collector has not reached yet.
 * On every row: produced = consumed + depth + dropped.
 *
 * Run it:  build/leaklab run 4 --node      or
 *          node labs/node/lab4-queue.js --mode bounded --iterations 40
 */
const { Writable } = require('node:stream');
const { setImmediate: nextTurn } = require('node:timers/promises');
const probe = require('./probe');

const own = { produce: 2, consume: 1, capacity: 16 };   /* the lab's flags */

const lab = {
  number: 4,
  twinOf: 'labs/lab4-queue.c',
  title: 'unbounded queue, in Node.js',
  takeaway: 'A producer that ignores write()\'s false fills the stream\'s '
    + 'buffer without limit',
  showcase: 'unbounded',
  claim: 'A queue with no limit is a leak',
  recap: { leak: 'write()\'s false ignored', fix: 'wait for \'drain\', or shed',
    tool: 'the depth column, per tick' },
  modes: [
    { name: 'unbounded', capKind: 'rlimit', expect: 'finished',
      caption: 'write()\'s false ignored: every chunk not yet written stays in '
        + 'memory' },
    { name: 'bounded', capKind: 'rlimit', expect: 'finished',
      caption: 'false respected: the producer waits for \'drain\', depth <= '
        + 'capacity' },
    { name: 'shed', capKind: 'rlimit', expect: 'finished',
      caption: 'A full stream turns the new chunk away and counts it: flat, '
        + 'losses visible' },
  ],
  defaultSize: 64 << 10,
  defaultIterations: 200,
  gcBeforeRow: true,
  extraColumns: ['depth', 'produced', 'consumed', 'dropped', 'oldest_id'],
  y2Columns: ['depth', 'dropped'],
  xLabel: 'tick',
  options: [
    { name: 'produce', arg: 'N', help: 'chunks the producer offers per tick (default 2)' },
    { name: 'consume', arg: 'M', help: 'chunks the consumer takes per tick (default 1)' },
    { name: 'capacity', arg: 'N', help: 'the stream\'s highWaterMark, in chunks (default 16)' },
  ],
  /* Returns false for a value that is not a whole number in range. */
  onOption(name, value) {
    const n = Number(value);
    const max = name === 'capacity' ? 10000000 : 1000000;
    if (!/^[0-9]+$/.test(value) || n < 1 || n > max) return false;
    own[name] = n;
    return true;
  },
};

/* The slow consumer: a Writable that holds each chunk it is given until
 * the clock lets it take one (take()). The stream queues the rest. */
class Consumer extends Writable {
  constructor(chunkSize, capacity) {
    super({ highWaterMark: chunkSize * capacity });
    this.held = null;      /* { chunk, done }: the chunk being written */
    this.sum = 0;          /* what consuming read, so it is not skipped */
  }

  _write(chunk, encoding, done) {
    this.held = { chunk, done };
  }

  /* Finishes the held chunk (reading every 64th byte), which makes the
   * stream hand over the next one. Returns false when there was none. */
  take() {
    if (!this.held) return false;
    const { chunk, done } = this.held;
    this.held = null;
    for (let i = 0; i < chunk.length; i += 64) this.sum += chunk[i];
    done();
    return true;
  }

  /* The id of the chunk being written: the oldest still queued, or 0. */
  oldestId() {
    return this.held ? this.held.chunk.readUInt32LE(0) : 0;
  }
}

/* A job: a chunk of size bytes, every byte written, its id in the first
 * four. Exits 3 if its bytes cannot be had. */
function makeChunk(id, size, depth) {
  let chunk;
  try {
    chunk = Buffer.allocUnsafe(size).fill((id & 0xff) | 1);
  } catch (err) {
    probe.wall(`Buffer.allocUnsafe(${size}) for chunk ${id} failed (${err.message}) `
      + `with ${depth} chunks waiting in the stream`);
  }
  chunk.writeUInt32LE(id, 0);
  return chunk;
}

async function main() {
  const a = probe.parse(lab, process.argv.slice(2));
  if (a.size < 4) probe.usage(`bad --size '${a.size}': a chunk carries its 4-byte id; want 4 or more`);
  const mode = a.mode.name;
  const out = new Consumer(a.size, own.capacity);
  const n = { produced: 0, consumed: 0, dropped: 0, owed: 0 };
  let waiting = false;             /* bounded: write() said false */
  out.on('drain', () => { waiting = false; });
  const depth = () => n.produced - n.consumed - n.dropped;

  /* The producer offers what it owes, unless it waits for 'drain'. */
  const produce = () => {
    while (n.owed > 0 && !waiting) {
      const full = out.writableLength + a.size > out.writableHighWaterMark;
      const id = ++n.produced;
      n.owed--;
      if (mode === 'shed' && full) {   /* load shedding: turned away */
        n.dropped++;
        continue;
      }
      const ok = out.write(makeChunk(id, a.size, depth()));
      if (mode === 'bounded' && !ok) waiting = true;   /* backpressure */
      /* unbounded: ok is thrown away, as so many write() calls do */
    }
  };

  if (!a.quiet)
    console.log(`${mode}: the producer offers ${own.produce} chunks of ${a.size / 1024} KiB `
      + `per tick, the consumer takes ${own.consume}; highWaterMark ${own.capacity} chunks`);
  probe.start(lab, a);
  probe.sample(0, [0, 0, 0, 0, 0]);
  for (let t = 1; t <= a.iterations; t++) {
    n.owed += own.produce;
    produce();
    for (let k = 0; k < own.consume && out.take(); k++) n.consumed++;
    produce();
    probe.sample(t, [depth(), n.produced, n.consumed, n.dropped, out.oldestId()]);
    await nextTurn();
  }
  probe.finish();
  out.destroy();
  return probe.EXIT_DONE;
}

main().then((code) => { process.exitCode = code; });
