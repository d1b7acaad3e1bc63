'use strict';
/*
 * Lab 1 in Node.js: closure-captured state. The twin of
 * labs/lab1-closure.c, run by `leaklab run 1 --node` beside it.
 *
 * The lesson is the C lab's: a closure keeps alive everything it
 * captured, for as long as anyone keeps the closure. The first seed,
 * *Node.js memory notes*, makes the point in its "closure" section and
 * warns that what closures hold is not freed soon. Here the closures are
 * request handlers on an EventEmitter, a listener per request, each
 * capturing that request's context: an id and a 1 MiB body (an array of
 * numbers, on V8's heap, where the C lab's body is on malloc's).
 *
 *   retain     handlers added and never removed: every context stays.
 *              Node notices: past 10 listeners on one event it prints a
 *              MaxListenersExceededWarning, "Possible EventEmitter memory
 *              leak detected" (in out/lab1/node-retain.log).
 *   lose       one slot, overwritten. In C the old context is lost for
 *              good; here nothing reaches it any more, so the garbage
 *              collector takes it back: no leak. The one mode whose twin
 *              does not leak, and why JavaScript has no "definitely lost".
 *   release    each handler removed after the event: flat.
 *   narrow     the handler captures the id alone, made in a function of
 *              its own (V8 gives the closures made in one call one shared
 *              context, so a closure next to one that reads `ctx` would
 *              keep it too): bytes, not MiB, per handler.
 *   sometimes  release, but one request in ten takes an error path that
 *              returns before removing its handler: a staircase.
 *
 * Columns after the common ones, as in C: listeners (handlers
 * registered) and odd_replies (how many answered "odd" to the event).
 *
 * Run it:  build/leaklab run 1 --node      or
 *          node labs/node/lab1-closure.js --mode retain --iterations 20
 */
const { EventEmitter } = require('node:events');
const probe = require('./probe');

const lab = {
  number: 1,
  twinOf: 'labs/lab1-closure.c',
  title: 'closure-captured state, in Node.js',
  takeaway: 'A listener list that only grows keeps every captured context '
    + 'alive, GC or not',
  showcase: 'retain',
  claim: 'A closure keeps alive everything it captured',
  recap: { leak: 'closures kept in a listener list', fix: 'remove the listener',
    tool: 'heapUsed per iteration' },
  modes: [
    { name: 'retain', capKind: 'kill', cap: '256M', expect: 'finished',
      caption: 'Listeners never removed: every captured 1 MiB context stays '
        + 'alive' },
    { name: 'lose', capKind: 'kill', cap: '256M', expect: 'finished',
      caption: 'Slot overwritten: nothing reaches the old context, the GC '
        + 'frees it' },
    { name: 'release', capKind: 'kill', cap: '256M', expect: 'finished',
      caption: 'Remove the listener after the event: memory stays flat' },
    { name: 'narrow', capKind: 'kill', cap: '256M', expect: 'finished',
      caption: 'Capture the id, not the whole context: bytes, not MiB, per '
        + 'handler' },
    { name: 'sometimes', capKind: 'kill', cap: '256M', expect: 'finished',
      caption: 'The fix, but 1 request in 10 takes an error path that keeps '
        + 'its listener' },
  ],
  defaultSize: 1 << 20,
  defaultIterations: 50,
  gcBeforeRow: true,   /* rows count what is reachable, as C's heap_used
                          counts what is not freed: see main() */
  extraColumns: ['listeners', 'odd_replies'],
};

/* A request's context: its id and a body of `size` bytes, every slot
 * written so that it is resident, as the C lab's make_context(). */
function makeContext(id, size) {
  const body = new Array(Math.max(1, Math.floor(size / 8)));
  for (let i = 0; i < body.length; i++) body[i] = id & 0xff;
  return { id, body };
}

/* The handler that reaches the id through the whole context. */
function handlerFor(ctx) {
  return () => (ctx.id % 2 ? 'odd' : 'even');
}

/* The narrow handler: made here, from the id alone, so that its closure
 * has nothing else to keep. */
function narrowHandlerFor(id) {
  return () => (id % 2 ? 'odd' : 'even');
}

/* Calls every listener of 'request', as emit() would, and counts the
 * ones that answered "odd". */
function emitAndCount(bus) {
  let odd = 0;
  for (const listener of bus.listeners('request')) odd += listener() === 'odd';
  return odd;
}

function main() {
  const a = probe.parse(lab, process.argv.slice(2));
  const bus = new EventEmitter();   /* its default limit of 10 stays on */
  let slot = null;                  /* lose: the one handler kept */

  probe.start(lab, a);
  probe.sample(0, [0, 0]);
  for (let id = 1; id <= a.iterations; id++) {
    const ctx = makeContext(id, a.size);
    let odd = 0;
    switch (a.mode.name) {
      case 'retain':            /* the bug: on, never off */
        bus.on('request', handlerFor(ctx));
        odd = emitAndCount(bus);
        break;
      case 'lose':              /* overwritten: the old one is garbage */
        slot = handlerFor(ctx);
        odd = slot() === 'odd' ? 1 : 0;
        break;
      case 'release': {         /* the fix: off after the event */
        const h = handlerFor(ctx);
        bus.on('request', h);
        odd = emitAndCount(bus);
        bus.off('request', h);
        break;
      }
      case 'narrow':            /* the other fix: keep the id alone */
        bus.on('request', narrowHandlerFor(ctx.id));
        odd = emitAndCount(bus);
        break;
      case 'sometimes': {       /* the occasional leak */
        const h = handlerFor(ctx);
        bus.on('request', h);
        odd = emitAndCount(bus);
        if (id % 10 === 0) break;   /* the error path: returns early */
        bus.off('request', h);
        break;
      }
    }
    const listeners = a.mode.name === 'lose' ? 1 : bus.listenerCount('request');
    probe.sample(id, [listeners, odd]);
  }
  probe.finish();
  return probe.EXIT_DONE;
}

process.exitCode = main();
