'use strict';
/*
 * heapdiff.js - heap snapshots, taken while a twin runs and compared as
 * DevTools' Comparison view compares them, class by class, by Delta and
 * Size Delta: the second seed's method, for lab 7's twin (--snapshots).
 * It is the Node side of harness/hunt.c (`leaklab hunt`), which takes the
 * same three snapshots of a C lab under Valgrind and compares them site
 * by site; apart from labs/node/lab7-server.js as hunt.c is from the C
 * labs: the lab is the server and its leak, and this is the tool that
 * finds it, reading V8's snapshot format.
 *
 * Exports:
 *   batches(n)                     after which of n batches to take them
 *   take(dir, stem, batch)         writes DIR/STEM-BATCH.heapsnapshot
 *   compare(dir, stem, title, snaps)
 *                                  reads them back, writes
 *                                  DIR/STEM-compare.tsv, prints the top
 * Node's standard library only: no npm package.
 */
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const probe = require('./probe');

/* ------------------------------------------------------------------------
 * Three snapshots, compared
 *
 * Three, as leaklab hunt takes them (the Node diagnostics
 * guide's discipline): after a warm-up, then after two equal loads, so
 * that what grows in both intervals is what the load leaves behind.
 * v8.writeHeapSnapshot writes each (a full collection first), in the
 * format DevTools loads; then each is read back and its objects counted
 * by class, as DevTools' Constructor column groups them (an object by
 * its constructor's name, every array and backing store as "(array)",
 * strings as "(string)", compiled code as "(compiled code)"). The
 * comparison of each pair is DevTools' Comparison view: Delta (objects
 * now minus then) and Size Delta (bytes now minus then).
 * --------------------------------------------------------------------- */

const LEAK_MIN = 64 << 10;       /* Size Delta a class must pass in every
                                    interval to be marked "leak?": V8
                                    warming up (its code, its caches)
                                    adds a few KiB a batch */

/* The batches after which the three snapshots are taken: n - 2k, n - k
 * and n, k = floor(n / 3) (40 batches: 14, 27, 40). */
function batches(n) {
  const k = Math.floor(n / 3);
  return [n - 2 * k, n - k, n];
}

/* Writes a heap snapshot after batch i: DIR/STEM-I.heapsnapshot (stem
 * "lab7-frequent"). Returns { batch, file }. Exits 1 naming the file if
 * it cannot. */
function take(dir, stem, i) {
  const file = path.join(dir, `${stem}-${i}.heapsnapshot`);
  try {
    v8.writeHeapSnapshot(file);
  } catch (err) {
    probe.fail(file, err);
  }
  return { batch: i, file };
}

/* DevTools' class of a snapshot node: its Constructor column. */
function classOf(type, name) {
  switch (type) {
    case 'object': case 'native': return name;
    case 'array': return '(array)';
    case 'string': case 'concatenated string': case 'sliced string': return '(string)';
    case 'code': return '(compiled code)';
    case 'closure': return '(closure)';
    case 'regexp': return '(regexp)';
    case 'number': return '(number)';
    case 'bigint': return '(bigint)';
    default: return '(system)';
  }
}

/* A snapshot's objects by class: Map class -> { count, size }. Exits 1
 * naming the file if it cannot be read. */
function readSnapshot(file) {
  let snap;
  try {
    snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    probe.fail(file, err);
  }
  const meta = snap.snapshot.meta;
  const width = meta.node_fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => meta.node_fields.indexOf(f));
  const types = meta.node_types[typeAt];
  const byClass = new Map();
  for (let n = 0; n < snap.nodes.length; n += width) {
    const type = types[snap.nodes[n + typeAt]];
    if (type === 'synthetic') continue;             /* the roots */
    const c = classOf(type, snap.strings[snap.nodes[n + nameAt]]);
    const e = byClass.get(c) || { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[n + sizeAt];
    byClass.set(c, e);
  }
  return byClass;
}

/* Compares the snapshots (take()'s, in order) pair by pair: writes
 * DIR/STEM-compare.tsv (a row per class: count and bytes at each
 * snapshot, delta and size_delta for each interval, leak 1 if it grew by
 * LEAK_MIN or more in every one), and prints its first rows, sorted by
 * the last Size Delta, each line led by title ("lab7 frequent"). A class
 * name is escaped as the runner's record_escape does (probe.oneLine), in
 * the TSV and on screen, so that no name can forge a row. Exits 1
 * naming a snapshot that cannot be read, or the TSV if it cannot be
 * written. */
function compare(dir, stem, title, snaps) {
  const maps = snaps.map((s) => readSnapshot(s.file));
  const classes = new Set(maps.flatMap((m) => [...m.keys()]));
  const rows = [...classes].map((c) => {
    const at = maps.map((m) => m.get(c) || { count: 0, size: 0 });
    const delta = at.slice(1).map((x, k) => x.count - at[k].count);
    const sizeDelta = at.slice(1).map((x, k) => x.size - at[k].size);
    return { c: probe.oneLine(c), at, delta, sizeDelta, leak: sizeDelta.every((d) => d >= LEAK_MIN) };
  }).sort((x, y) => y.sizeDelta[y.sizeDelta.length - 1] - x.sizeDelta[x.sizeDelta.length - 1]);
  const b = snaps.map((s) => s.batch);
  const head = ['class', ...b.flatMap((i) => [`count_${i}`, `bytes_${i}`]),
    ...b.slice(1).flatMap((i, k) => [`delta_${b[k]}_${i}`, `size_delta_${b[k]}_${i}`]), 'leak'];
  const lines = [head.join('\t'), ...rows.map((r) => [r.c, ...r.at.flatMap((x) => [x.count, x.size]),
    ...r.delta.flatMap((d, k) => [d, r.sizeDelta[k]]), r.leak ? 1 : 0].join('\t'))];
  const tsv = path.join(dir, `${stem}-compare.tsv`);
  try {
    fs.writeFileSync(tsv, lines.join('\n') + '\n');
  } catch (err) {
    probe.fail(tsv, err);
  }
  const kib = (n) => `${n >= 0 ? '+' : ''}${(n / 1024).toFixed(0)} KiB`;
  const out = [`${title}: heap snapshots after batches ${b.join(', ')}: a warm-up, then 2 equal loads`,
    `  ${'class'.padEnd(30)}${b.slice(1).map((i, k) => `${b[k]} -> ${i}`.padStart(26)).join('')}`,
    `  ${''.padEnd(30)}${b.slice(1).map(() => `${'Size Delta'.padStart(16)}${'Delta'.padStart(10)}`).join('')}`];
  for (const r of rows.slice(0, 6)) {
    out.push(`  ${r.c.slice(0, 29).padEnd(30)}${r.delta.map((d, k) => `${kib(r.sizeDelta[k]).padStart(16)}`
      + `${(d >= 0 ? '+' : '') + d}`.padStart(10)).join('')}${r.leak ? '  leak?' : ''}`);
  }
  const leaks = rows.filter((r) => r.leak).map((r) => r.c);
  const last = (r) => r.at[r.at.length - 1];
  const largest = [...rows].sort((x, y) => last(y).size - last(x).size)[0];
  out.push(leaks.length ? `${title}: leak? ${leaks.join(', ')} grew by 64 KiB or more in every interval`
    : `${title}: no class grew by 64 KiB or more in every interval; the largest at the last `
      + `snapshot is ${largest.c}, ${probe.mib(last(largest).size)} MiB in ${last(largest).count} objects`,
  `${title}: the snapshots, for DevTools' Memory tab (Load, then Comparison), and the table: ${probe.oneLine(dir)}`);
  process.stdout.write(out.join('\n') + '\n');
}

module.exports = { batches, take, compare };
