'use strict';
/*
 * Lab 5 in Node.js: stream copy. The twin of labs/lab5-stream.c, run by
 * `leaklab run 5 --node -- SRC DST` beside it.
 *
 * The lesson is the C lab's: a copy never needs the whole file in memory.
 * The first seed, *Node.js memory notes*, copies a big file with streams
 * in its "big file" section, once by handing each chunk the reader emits
 * to the writer by hand, once with pipe(); the second seed, 内存泄漏
 * ("Memory leaks"), calls reading a whole file at once its "hidden" leak.
 * The three copies here:
 *
 *   slurp  the whole file into one Buffer, then one write: memory grows
 *          with the file (fs.readFile, then fs.writeFile). Its 64 MiB kill
 *          cap (V8 alone takes some 45 MiB) stops it before it writes.
 *   data   the seed's hand-made loop: on each 'data' chunk, write() it,
 *          and never look at what write() answers. When the writer is
 *          slower than the reader, every chunk it has not written yet
 *          waits in its buffer: lab 4's unbounded queue.
 *   pipe   reader.pipe(writer): pipe() pauses the reader whenever write()
 *          answers false and resumes it on 'drain'. Backpressure: memory
 *          stays at a buffer or two whatever the file's size.
 *
 * The writer is slow on purpose, the way a client on a slow network is,
 * and slow by rule rather than by the clock, so that every machine shows
 * the same: it finishes one chunk for every --slow N (default 2) the
 * reader delivers, lab 4's producer of two and consumer of one. While the
 * reader waits (paused, or done), the writer goes on alone, a chunk per
 * turn of the event loop. The reader reads 64 KiB chunks, as fs streams
 * do.
 *
 * Each row comes after a full garbage collection (--gc, this twin's
 * default): a chunk pipe() has written is garbage at once, but V8 frees
 * Buffers only when it collects, which it does when the bytes of Buffers
 * it was told about pile up (tens of MiB). The rows then show what each
 * copy holds; --no-gc shows V8's own sawtooth on top.
 *
 * Rows, as in C: one per MiB read, copied_kib the bytes written so far.
 * DST is written under a temporary name beside it and renamed over DST
 * when the copy is whole; a failure is one line, path and why, exit 1.
 *
 * Run it:  build/lab5 --make-input 32M in.bin &&
 *          build/leaklab run 5 --node -- in.bin out.bin
 */
const fs = require('node:fs');
const path = require('node:path');
const { Writable } = require('node:stream');
const probe = require('./probe');

const own = { slow: 2 };         /* the lab's flag: reads per write */
const CHUNK = 64 << 10;          /* what fs.createReadStream reads at a time */
const ROW = 1 << 20;             /* a row per MiB read */

const lab = {
  number: 5,
  twinOf: 'labs/lab5-stream.c',
  title: 'stream copy, in Node.js',
  takeaway: 'pipe() holds a buffer or two; a \'data\' loop that ignores '
    + 'write() holds the file',
  showcase: 'data',
  claim: 'Slurping a file costs memory as big as the file',
  recap: { leak: 'the file in memory, or in the writer', fix: 'pipe(): backpressure',
    tool: 'peak rss against file size' },
  modes: [
    { name: 'slurp', capKind: 'kill', cap: '64M', expect: 'killed',
      caption: 'Read it all, then write: memory grows with the file\'s size' },
    { name: 'data', capKind: 'kill', cap: '160M', expect: 'finished',
      caption: 'The seed\'s \'data\' loop: write()\'s false ignored, the slow '
        + 'writer queues the file' },
    { name: 'pipe', capKind: 'kill', cap: '160M', expect: 'finished', pair: 'stream',
      caption: 'pipe(): the reader pauses on false, resumes on \'drain\': flat' },
  ],
  defaultSize: 64 << 10,
  defaultIterations: 0,
  gcBeforeRow: true,
  extraColumns: ['copied_kib'],
  y2Columns: ['copied_kib'],
  xLabel: 'row (one per MiB of the file)',
  once: true,
  positional: 'SRC DST',
  maxPositional: 2,
  options: [
    { name: 'slow', arg: 'N', help: 'the writer finishes a chunk per N the reader delivers (default 2; 1: as fast)' },
  ],
  /* Returns false for a value that is not a whole number in range. */
  onOption(name, value) {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 1000) return false;
    own.slow = Number(value);
    return true;
  },
  notes: 'Lab 5\'s twin copies SRC to DST once: a row per MiB read, '
    + 'copied_kib the bytes\nwritten so far. build/lab5 --make-input SIZE PATH '
    + 'writes a test file.',
};

/* ------------------------------------------------------------------------
 * Rows: one per MiB read
 * --------------------------------------------------------------------- */

const rows = { n: 0, next: ROW, read: 0, written: 0 };

/* Takes the rows that reading `read` bytes in all has made due. */
function rowsDue(read) {
  rows.read = read;
  while (rows.read >= rows.next) {
    probe.sample(++rows.n, [Math.floor(rows.written / 1024)]);
    rows.next += ROW;
  }
}

/* The last row: where the copy ended, if not on a row already. */
function finalRow() {
  probe.sample(++rows.n, [Math.floor(rows.written / 1024)]);
}

/* ------------------------------------------------------------------------
 * The destination: a temporary name beside DST, renamed when whole
 * --------------------------------------------------------------------- */

function tempBeside(dst) {
  return path.join(path.dirname(dst), `.${path.basename(dst)}.${process.pid}.tmp`);
}

/* Renames the finished copy over DST; exits 1 naming DST if it cannot. */
function commit(tmp, dst) {
  try {
    fs.renameSync(tmp, dst);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    probe.fail(dst, err);
  }
}

/* A writer to tmp, slow by rule: each chunk goes to the file when it is
 * handed over, but the writer says it is done with it (and takes the
 * next) only once the reader has delivered --slow more chunks; while the
 * reader is paused or has ended, a chunk per turn of the event loop.
 * Until then the stream keeps every chunk handed to it in its buffer:
 * that buffer is what a copy that ignores write() fills. */
function slowWriter(tmp, dst, reader) {
  let fd;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
  } catch (err) {
    probe.fail(dst, err);
  }
  const pending = [];             /* done() of the chunk being written */
  let delivered = 0;
  let alone = false;              /* the writer goes on by itself */
  const finishOne = () => {
    const done = pending.shift();
    if (done) done();
  };
  const readerWaits = () => reader.isPaused() || reader.readableEnded;
  const goAlone = () => {
    if (alone) return;
    alone = true;
    const step = () => {
      if (pending.length === 0 || !readerWaits()) { alone = false; return; }
      finishOne();
      setImmediate(step);
    };
    setImmediate(step);
  };
  reader.on('data', () => { if (++delivered % own.slow === 0) finishOne(); });
  reader.on('pause', goAlone);
  reader.on('end', goAlone);
  return new Writable({
    highWaterMark: CHUNK,
    write(chunk, encoding, done) {
      try {
        fs.writeSync(fd, chunk);
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        probe.fail(dst, err);
      }
      rows.written += chunk.length;
      pending.push(done);
      if (readerWaits()) goAlone();
    },
    final(done) {
      fs.closeSync(fd);
      done();
    },
  });
}

/* ------------------------------------------------------------------------
 * The three copies
 * --------------------------------------------------------------------- */

/* slurp: one Buffer the size of the file, read a MiB at a time so that
 * each row shows it filling, then written in one go. */
function copySlurp(src, dst) {
  let fd;
  let size;
  try {
    fd = fs.openSync(src, 'r');
    size = fs.fstatSync(fd).size;
  } catch (err) {
    probe.fail(src, err);
  }
  let all;
  try {
    all = Buffer.allocUnsafe(size);
  } catch (err) {
    probe.wall(`slurp: no Buffer of ${probe.mib(size)} MiB for ${src} (${err.message}): `
      + 'all of it has to fit in memory at once');
  }
  let got = 0;
  for (;;) {
    let n;
    try {
      n = fs.readSync(fd, all, got, Math.min(ROW, size - got), got);
    } catch (err) {
      probe.fail(src, err);
    }
    if (n === 0) break;
    got += n;
    rowsDue(got);
  }
  fs.closeSync(fd);
  const tmp = tempBeside(dst);
  try {
    fs.writeFileSync(tmp, all.subarray(0, got));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    probe.fail(dst, err);
  }
  rows.written = got;
  commit(tmp, dst);
  finalRow();
}

/* data and pipe: a read stream into the slow writer. Resolves when DST
 * is whole. */
function copyStreaming(mode, src, dst) {
  return new Promise((resolve) => {
    const tmp = tempBeside(dst);
    const reader = fs.createReadStream(src, { highWaterMark: CHUNK });
    const writer = slowWriter(tmp, dst, reader);
    let read = 0;
    reader.on('error', (err) => {
      fs.rmSync(tmp, { force: true });
      probe.fail(src, err);
    });
    reader.on('data', (chunk) => {
      read += chunk.length;
      rowsDue(read);
    });
    if (mode === 'data') {
      reader.on('data', (chunk) => writer.write(chunk));   /* false ignored */
      reader.on('end', () => writer.end());
    } else {
      reader.pipe(writer);           /* pauses on false, resumes on 'drain' */
    }
    writer.on('finish', () => {
      commit(tmp, dst);
      finalRow();
      resolve();
    });
  });
}

async function main() {
  const a = probe.parse(lab, process.argv.slice(2));
  if (a.positional.length !== 2)
    probe.usage(a.positional.length === 0 ? 'missing SRC DST (usage: lab5-stream.js [OPTIONS] SRC DST)'
      : 'missing DST (usage: lab5-stream.js [OPTIONS] SRC DST)');
  const [src, dst] = a.positional;
  try {
    const s = fs.statSync(src);
    if (s.isDirectory()) probe.fail(src, { code: 'EISDIR' });
    const d = fs.statSync(dst, { throwIfNoEntry: false });
    if (d && d.dev === s.dev && d.ino === s.ino)
      probe.usage(`SRC '${src}' and DST '${dst}' are the same file`);
  } catch (err) {
    probe.fail(src, err);
  }
  probe.start(lab, a);
  probe.sample(0, [0]);
  if (a.mode.name === 'slurp')
    copySlurp(src, dst);
  else
    await copyStreaming(a.mode.name, src, dst);
  probe.finish();
  if (!a.quiet)
    console.log(`${a.mode.name}: copied ${rows.written} bytes from ${src} to ${dst}`);
  return probe.EXIT_DONE;
}

main().then((code) => { process.exitCode = code; });
