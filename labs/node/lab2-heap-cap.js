'use strict';
/*
 * Lab 2 in Node.js: heap growth to the cap. The twin of
 * labs/lab2-heap-cap.c, run by `leaklab run 2 --node` beside it.
 *
 * The lesson is the C lab's: a program that keeps everything it allocates
 * grows until a wall stops it, and the wall decides what it can still say.
 * Here the program is the one the first seed, *Node.js memory notes*,
 * runs in its "heap memory" section: arrays of numbers, each kept in a
 * list for ever. In Node the walls look different from inside:
 *
 *   budget   V8's own heap limit, --max-old-space-size, set from
 *            --max-heap (280M, the C lab's budget). V8 prints
 *            "FATAL ERROR: ... JavaScript heap out of memory" and aborts:
 *            SIGABRT, not an exit code; JavaScript never gets a word in.
 *   rlimit   RLIMIT_AS, the C lab's NULL from malloc. V8 reserves some
 *            700 MiB of address space before it runs a line, so the cap
 *            is 1 GiB, not 128 MiB. When an array no longer fits, V8 says
 *            the very same FATAL line: from inside, a cap on address
 *            space and its own limit look alike.
 *   kill     the watchdog's SIGKILL, as in C: no word at all.
 *   lazy     ArrayBuffers, never written: Node asks for zeroed memory
 *            (calloc), the kernel hands out pages only when touched, so
 *            external climbs by the size and rss stays flat.
 *
 * An array of N numbers is N slots of 8 bytes on V8's heap (small whole
 * numbers are stored in the slot itself), so --size is the bytes of one
 * array, as in C: 32M is 4 Mi slots.
 *
 * Run it:  build/leaklab run 2 --node           (every mode, records in out/lab2)
 *          node labs/node/lab2-heap-cap.js --mode budget   (the table)
 */
const probe = require('./probe');

const lab = {
  number: 2,
  twinOf: 'labs/lab2-heap-cap.c',
  title: 'heap growth to the cap, in Node.js',
  takeaway: 'Arrays kept for ever grow until a wall stops them: V8\'s FATAL, '
    + 'or SIGKILL',
  showcase: 'budget',
  claim: 'Which wall a leak meets decides how it dies',
  recap: { leak: 'arrays kept for ever', fix: 'let go of what is done',
    tool: 'heapUsed per iteration' },
  modes: [
    { name: 'budget', capKind: 'rlimit', expect: 'limit',
      caption: 'V8\'s heap limit, --max-old-space-size from --max-heap: '
        + 'FATAL, SIGABRT',
      wall: 'FATAL: V8 heap limit' },
    { name: 'rlimit', capKind: 'rlimit', cap: '1G', expect: 'limit',
      caption: 'RLIMIT_AS: V8 says the same FATAL line as at its own limit',
      wall: 'FATAL: V8 heap limit (RLIMIT_AS)' },
    { name: 'kill', capKind: 'kill', cap: '192M', expect: 'killed',
      caption: 'Watchdog over the cap: SIGKILL, no message, no last row' },
    { name: 'lazy', capKind: 'kill', cap: '192M', expect: 'finished',
      caption: 'ArrayBuffers never written: external passes the cap, rss '
        + 'stays flat' },
  ],
  presets: [
    { name: 'classroom', size: 32 * probe.MIB, iterations: 15, maxHeap: 280 * probe.MIB,
      help: '32M arrays x 15, budget 280M: the seed divided by five' },
    { name: 'seed', size: 160 * probe.MIB, iterations: 15, maxHeap: 1400 * probe.MIB,
      help: '160M arrays x 15, budget 1400M: the seed\'s own sizes' },
  ],
  compareColumns: ['heap_used_kib'],
  notes: '--size is the bytes of one array (a multiple of 8: a slot is 8 '
    + 'bytes).\nOnly --mode budget keeps a budget: it starts a second node '
    + 'with\n--max-old-space-size set from --max-heap, since V8 reads it only '
    + 'at start.',
};

/* An array of `slots` numbers, each slot written (so every page of it is
 * resident), as the C lab's use_mem(). Writing the iteration, not 0,
 * as the C lab does. */
function filledArray(slots, value) {
  const arr = new Array(slots);
  for (let i = 0; i < slots; i++) arr[i] = value;
  return arr;
}

function main() {
  const a = probe.parse(lab, process.argv.slice(2));
  if (a.size % 8 !== 0)
    probe.usage(`bad --size '${a.size}': an array holds 8-byte slots; want a multiple of 8`);
  if (a.mode.name === 'budget')
    probe.runWithHeapLimit(a.maxHeap);   /* returns in a node that has it */
  else
    a.maxHeap = 0;                       /* no budget: none on the record */

  probe.start(lab, a);
  probe.sample(0);
  const kept = [];                       /* the seed's list: never let go */
  for (let i = 1; i <= a.iterations; i++) {
    if (a.mode.name === 'lazy')
      kept.push(new ArrayBuffer(a.size));        /* zeroed, never written */
    else
      kept.push(filledArray(a.size / 8, i));
    probe.sample(i);
  }
  probe.finish();
  return probe.EXIT_DONE;
}

process.exitCode = main();
