'use strict';
/*
 * Lab 3 in Node.js: off-heap buffers. The twin of labs/lab3-offheap.c,
 * run by `leaklab run 3 --node` beside it.
 *
 * The lesson is the C lab's: a heap budget only sees the heap. The first
 * seed, *Node.js memory notes*, shows it in its "memory outside heap"
 * section: lab 2's loop kept Buffers instead of arrays and ran to the
 * end, far past the limit that stopped the arrays. A Buffer is a small
 * object on V8's heap whose bytes come from malloc, outside it; V8 counts
 * them only as `external`. In C the handle comes from malloc and the bytes
 * from mmap: the same split, on the same columns.
 *
 *   offheap  Buffers filled and kept: rss and external rise by the
 *            buffer size each iteration, heapTotal and heapUsed stay
 *            flat, past the 280 MiB budget that stops `heap`.
 *   heap     the same bytes as arrays of numbers, on V8's heap, under
 *            --max-old-space-size from --max-heap: V8's FATAL line and
 *            SIGABRT, as in lab 2's budget mode.
 *   release  each Buffer dropped after use: once nothing reaches it, the
 *            collector frees its bytes. V8 collects when the external
 *            bytes it was told of pile up, so rss saws up and down by a
 *            buffer or two instead of climbing.
 *
 * Run it:  build/leaklab run 3 --node      or
 *          node labs/node/lab3-offheap.js --mode offheap
 */
const probe = require('./probe');

const lab = {
  number: 3,
  twinOf: 'labs/lab3-offheap.c',
  title: 'off-heap buffers, in Node.js',
  takeaway: 'V8\'s heap limit only sees its heap: Buffers pass it, only an OS '
    + 'cap stops them',
  showcase: 'offheap',
  claim: 'Off-heap memory walks past a heap budget',
  recap: { leak: 'Buffers kept', fix: 'let each Buffer go after use',
    tool: 'rss and external: heap tools miss it' },
  modes: [
    { name: 'offheap', capKind: 'kill', cap: '1G', expect: 'finished',
      caption: 'Buffers: rss and external climb, V8\'s heap stays flat' },
    { name: 'heap', capKind: 'rlimit', expect: 'limit',
      caption: 'The same bytes as arrays on V8\'s heap: its limit stops them, '
        + 'FATAL',
      wall: 'FATAL: V8 heap limit' },
    { name: 'release', capKind: 'kill', cap: '1G', expect: 'finished',
      caption: 'Each Buffer let go after use: the GC frees it, rss stays low' },
  ],
  presets: [
    { name: 'classroom', size: 40 * probe.MIB, iterations: 15, maxHeap: 280 * probe.MIB,
      help: '40M buffers x 15, budget 280M: the seed divided by five' },
    { name: 'seed', size: 200 * probe.MIB, iterations: 15, maxHeap: 1400 * probe.MIB,
      help: '200M buffers x 15, budget 1400M: the seed\'s own sizes' },
  ],
  compareColumns: ['heap_used_kib'],
  notes: '--size is the bytes of one buffer (heap: of one array, a multiple '
    + 'of 8).\nOnly --mode heap keeps a budget: it starts a second node with\n'
    + '--max-old-space-size set from --max-heap, since V8 reads it only at start.',
};

/* A Buffer of size bytes, every byte written so that every page is
 * resident (not with 0, as in the C lab). Exits 3 if its bytes cannot be
 * had: a RangeError, which JavaScript can catch, unlike V8's heap limit. */
function filledBuffer(size, iter) {
  let buf;
  try {
    buf = Buffer.allocUnsafe(size);
  } catch (err) {
    probe.wall(`Buffer.allocUnsafe(${size}) for buffer ${iter} failed: `
      + `${err.message}; an OS cap stopped it, V8's heap limit never saw it`);
  }
  return buf.fill((iter & 0xff) | 1);
}

/* The same bytes on V8's heap: an array of size / 8 numbers. */
function filledArray(size, iter) {
  const arr = new Array(size / 8);
  for (let i = 0; i < arr.length; i++) arr[i] = iter;
  return arr;
}

/* Reads a buffer back, a byte per page, as a program using it would. */
function checksum(buf) {
  let sum = 0;
  for (let i = 0; i < buf.length; i += 4096) sum += buf[i];
  return sum;
}

function main() {
  const a = probe.parse(lab, process.argv.slice(2));
  if (a.mode.name === 'heap') {
    if (a.size % 8 !== 0)
      probe.usage(`bad --size '${a.size}': an array holds 8-byte slots; want a multiple of 8`);
    probe.runWithHeapLimit(a.maxHeap);   /* returns in a node that has it */
  } else {
    a.maxHeap = 0;                       /* no budget: none on the record */
  }

  probe.start(lab, a);
  probe.sample(0);
  const kept = [];                       /* the seed's list */
  let sum = 0;
  for (let i = 1; i <= a.iterations; i++) {
    switch (a.mode.name) {
      case 'offheap': {
        const buf = filledBuffer(a.size, i);
        sum += checksum(buf);
        kept.push(buf);                  /* kept, as the seed's */
        break;
      }
      case 'heap':
        kept.push(filledArray(a.size, i));
        break;
      case 'release':
        sum += checksum(filledBuffer(a.size, i));   /* used, then let go */
        break;
    }
    probe.sample(i);
  }
  probe.finish();
  if (!a.quiet)
    console.log(`${kept.length} buffers held, checksum ${sum}`);
  return probe.EXIT_DONE;
}

process.exitCode = main();
