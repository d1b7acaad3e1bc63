'use strict';
/*
 * probe.js - what every Node twin shares: its command line, its
 * --describe, the three bad endings, and the probe that writes memory at
 * every iteration. It is harness/lab.c and harness/probe.c again, in
 * JavaScript, so that a twin and its C lab answer the runner alike and
 * write records the same scripts read.
 *
 * A twin describes itself in one object, `lab`: the fields of C's struct
 * lab_info (harness/lab.h), camelCased, and a few of its own:
 *
 *   number title takeaway showcase claim   as in C
 *   twinOf        the C lab it mirrors: "labs/lab2-heap-cap.c"
 *   recap         { leak, fix, tool }: the deck's closing line
 *   modes         [{ name, capKind, cap, caption, wall, expect, pair }]:
 *                 C's struct lab_mode; pair names the C mode it mirrors
 *                 when the names differ (lab 5's pipe is its stream)
 *   defaultSize defaultIterations presets (with maxHeap)   as in C
 *   extraColumns  the lab's own TSV columns, after Node's seven
 *   y2Columns xLabel compareColumns once positional maxPositional notes
 *   options onOption   the lab's own flags, as in C
 *   gcBeforeRow   true: a full garbage collection before each row
 *                 unless --no-gc (see sample())
 *
 * It calls parse() first thing, then start(), sample() once before its
 * first iteration and once after each, and finish(). Node's standard
 * library only: no npm package.
 *
 * The TSV is the C probe's (harness/probe.h), with Node's own columns:
 *
 *   rss_kib            process.memoryUsage().rss     (C: /proc statm)
 *   heap_total_kib     .heapTotal: V8's heap, reserved (C: mallinfo2 arena)
 *   heap_used_kib      .heapUsed: live objects on it (C: uordblks)
 *   external_kib       .external: bytes V8 objects own outside the heap,
 *                      Buffers and ArrayBuffers among them (C: mmap_kib)
 *   array_buffers_kib  .arrayBuffers: the ArrayBuffer part of external
 *
 * then the lab's own columns. Every row goes out in one write(2) to a
 * file opened O_APPEND, as in C: V8's abort lands between two rows, and
 * so does a SIGKILL, unless the row straddles a page boundary (Linux stops
 * a file write between pages for SIGKILL; the runner cuts such a last row
 * off, see harness/probe.h). A row the disk cuts short is cut off again
 * (ftruncate to the last whole row) and the twin exits 1 naming the file.
 *
 * Exit codes, the suite's: 0 done, 1 a runtime error (a path and why),
 * 2 bad usage (one line naming the argument), 3 a memory wall the twin
 * saw itself (a RangeError from an allocation). V8's own heap limit is not
 * an exit at all: V8 prints its FATAL ERROR line and aborts the process
 * (SIGABRT); the runner records that as the wall, "V8 heap limit".
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');

const EXIT_DONE = 0;
const EXIT_ERROR = 1;
const EXIT_USAGE = 2;
const EXIT_WALL = 3;

const KIB = 1024;
const MIB = 1024 * 1024;

/* The program's name in messages: the twin's file name. */
const progname = path.basename(process.argv[1] || 'twin');

/* ------------------------------------------------------------------------
 * The bad endings: one line on stderr each, then the exit code
 * --------------------------------------------------------------------- */

/* A message as one line of text: control characters escaped as the
 * runner's record_escape does, so that no argument can forge a line. */
function oneLine(text) {
  return String(text).replace(/[\\\x00-\x1f\x7f]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\t' ? '\\t'
      : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

function say(text) {
  fs.writeSync(2, `${progname}: ${oneLine(text)}\n`);
}

/* Bad usage: exit 2, one line naming the bad argument. */
function usage(text) {
  say(text);
  process.exit(EXIT_USAGE);
}

/* A runtime failure: exit 1, "path: why". err is a Node system error. */
function fail(where, err) {
  say(`${where}: ${describeError(err)}`);
  process.exit(EXIT_ERROR);
}

/* A memory wall the twin met and can still speak about: exit 3. */
function wall(text) {
  say(text);
  process.exit(EXIT_WALL);
}

/* "No space left on device" for ENOSPC, as strerror says it: Node's own
 * message carries the syscall and the path, which the caller names. */
function describeError(err) {
  const byCode = {
    ENOENT: 'No such file or directory', EACCES: 'Permission denied',
    ENOSPC: 'No space left on device', EFBIG: 'File too large',
    EISDIR: 'Is a directory', EEXIST: 'File exists', EIO: 'Input/output error',
    EROFS: 'Read-only file system', ENOTDIR: 'Not a directory',
    EDQUOT: 'Disk quota exceeded',
  };
  if (err && byCode[err.code]) return byCode[err.code];
  return err && err.code ? err.code : String(err && err.message || err);
}

/* ------------------------------------------------------------------------
 * Sizes and numbers, as lab.c reads them
 * --------------------------------------------------------------------- */

/* 4096, 64K, 16M, 2G, 1T (powers of 1024; "MiB" and "MB" too) as a
 * number of bytes, or null. Never above 2^53: a JavaScript number counts
 * bytes exactly only that far. */
function parseSize(text) {
  const m = /^([0-9]+)(?:([kKmMgGtT])(i?)B?|B)?$/.exec(String(text));
  if (!m) return null;
  const shift = { k: 10, m: 20, g: 30, t: 40 }[(m[2] || '').toLowerCase()] || 0;
  const bytes = Number(m[1]) * 2 ** shift;
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/* A whole number in [min, max], or null. */
function parseWhole(text, min, max) {
  if (!/^-?[0-9]+$/.test(String(text))) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/* A size the way a user would type it: 1M rather than 1048576. */
function formatSize(bytes) {
  let u = -1;
  while (u < 3 && bytes !== 0 && bytes % 1024 === 0) {
    bytes /= 1024;
    u++;
  }
  return u < 0 ? String(bytes) : `${bytes}${'KMGT'[u]}`;
}

function mib(bytes) {
  return (bytes / MIB).toFixed(2);
}

/* The runner's default cap (lab.c's default_cap): the smaller of 2 GiB
 * and a quarter of physical memory. */
function defaultCap() {
  return Math.min(2 * 1024 * MIB, Math.floor(os.totalmem() / 4));
}

/* ------------------------------------------------------------------------
 * --help and --describe
 * --------------------------------------------------------------------- */

function printHelp(lab) {
  const first = lab.presets ? lab.presets[0] : null;
  const lines = [
    `Usage: node ${progname} [OPTIONS]${lab.positional ? ' ' + lab.positional : ''}`,
    `Lab ${lab.number}: ${lab.title} (the twin of ${lab.twinOf}).`,
    lab.takeaway, '', 'Modes (--mode), with the wall each one meets:',
  ];
  for (const m of lab.modes)
    lines.push(`  ${m.name.padEnd(10)} ${m.capKind.padEnd(7)} ${m.caption}`);
  lines.push('', 'Options:',
    `  -m, --mode MODE        which mode to run (default ${lab.modes[0].name})`);
  if (!lab.once)
    lines.push(
      `  -n, --iterations N     iterations to run (default ${first ? first.iterations : lab.defaultIterations})`,
      `  -s, --size SIZE        bytes per iteration, K/M/G suffixes (default ${formatSize(first ? first.size : lab.defaultSize)})`);
  lines.push(
    '      --tsv FILE         write one TSV row per iteration to FILE',
    '                         (default: $LEAKLAB_TSV, else no file)',
    '  -q, --quiet            no human-readable table on stdout',
    '      --describe         one machine-readable line, for leaklab',
    '      --no-cap           no check of its own rss (see below)',
    `      --gc               a full garbage collection before each row${lab.gcBeforeRow ? ' (default)' : ''}`,
    `      --no-gc            none: the rows show V8's own sawtooth${lab.gcBeforeRow ? '' : ' (default)'}`,
    '  -h, --help             this text');
  if (first) {
    lines.push(`      --preset NAME      the sizes, where --size, --iterations and --max-heap`,
      `                         are left out (default ${first.name}):`);
    for (const p of lab.presets) lines.push(`                           ${p.name.padEnd(10)} ${p.help}`);
    lines.push('      --max-heap SIZE    the heap budget: V8\'s --max-old-space-size, for the',
      `                         modes that keep one (default: the preset's, ${formatSize(first.maxHeap)})`);
  }
  for (const o of lab.options || [])
    lines.push(`      ${`--${o.name}${o.arg ? ' ' + o.arg : ''}`.padEnd(18)} ${o.help}`);
  if (lab.notes) lines.push('', lab.notes);
  lines.push('', 'Run by hand, with nothing else capping it (leaklab, ulimit -v), a twin',
    `checks its own rss at every row against the runner's default cap, ${Math.round(defaultCap() / MIB)} MiB`,
    'here, and stops at it (exit 3); --no-cap lifts that check. Node cannot set',
    'RLIMIT_AS on itself, and V8 needs some 700 MiB of address space to start.',
    '', 'Exit codes: 0 done, 1 runtime error, 2 bad usage, 3 memory wall; V8\'s own',
    'heap limit aborts the process (SIGABRT) after its FATAL ERROR line.');
  process.stdout.write(lines.join('\n') + '\n');
}

/* One line of tab-separated key=value pairs, as lab.c's print_describe
 * writes them, so that the runner checks and records a twin like a lab. */
function printDescribe(lab) {
  const f = [`lab=${lab.number}`, `title=${lab.title}`, `takeaway=${lab.takeaway}`,
    `showcase=${lab.showcase}`, `modes=${lab.modes.map((m) => m.name).join(',')}`];
  for (const m of lab.modes) {
    f.push(`cap_kind.${m.name}=${m.capKind}`, `caption.${m.name}=${m.caption}`);
    if (m.cap) f.push(`cap.${m.name}=${m.cap}`);
    if (m.wall) f.push(`wall.${m.name}=${m.wall}`);
    f.push(`expect.${m.name}=${m.expect}`);
    if (m.pair) f.push(`pair.${m.name}=${m.pair}`);   /* the C mode it mirrors */
  }
  const columns = ['external_kib', 'array_buffers_kib', ...(lab.extraColumns || [])];
  f.push(`columns=${columns.join(',')}`);
  if (lab.y2Columns) f.push(`y2=${lab.y2Columns.join(',')}`);
  if (lab.xLabel) f.push(`xlabel=${lab.xLabel}`);
  if (lab.claim) f.push(`claim=${lab.claim}`);
  if (lab.recap) f.push(`recap.leak=${lab.recap.leak}`, `recap.fix=${lab.recap.fix}`,
    `recap.tool=${lab.recap.tool}`);
  if (lab.compareColumns) f.push(`compare=${lab.compareColumns.join(',')}`);
  f.push(`twin_of=${lab.twinOf}`, `runtime=node ${process.version}`, 'sanitizer=none');
  process.stdout.write(f.join('\t') + '\n');
}

/* ------------------------------------------------------------------------
 * The command line
 * --------------------------------------------------------------------- */

/* getopt_long takes "-n -1" as -n with the value -1; util.parseArgs
 * refuses it as ambiguous. So an option that takes a value, written apart
 * from a value that looks like a negative number, is joined to it first
 * ("--iterations=-1"), and the value's own check then names it, as in C.
 * Nothing after "--" is touched. */
function joinNegatives(argv, options) {
  const takesValue = (t) => {
    if (t.startsWith('--')) return options[t.slice(2)] && options[t.slice(2)].type === 'string'
      ? t.slice(2) : null;
    if (/^-[A-Za-z]$/.test(t))
      for (const [name, o] of Object.entries(options))
        if (o.short === t[1] && o.type === 'string') return name;
    return null;
  };
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return out.concat(argv.slice(i));
    const name = takesValue(argv[i]);
    if (name && i + 1 < argv.length && /^-[0-9.]/.test(argv[i + 1])) {
      out.push(`--${name}=${argv[++i]}`);
      continue;
    }
    out.push(argv[i]);
  }
  return out;
}

/* util.parseArgs's error as the C labs' getopt_long words it, in one
 * line: "unknown option '--frobnicate'", "option '--mode' needs a value",
 * "option '--quiet' takes no value", each named as typed (argv: the
 * command line); anything else, its first sentence. */
function parseError(err, options, argv) {
  const text = String(err.message);
  const named = /'(-[^' ,]+)(?:, (--[^' ]+))?/.exec(text);
  const opt = named ? (named[2] || named[1]) : '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      /* A long one is named from argv, not from Node's message, which
       * cuts it at a space, a quote or a comma: up to its '=', as
       * getopt_long names it. */
      const end = argv.indexOf('--');
      const long = (end < 0 ? argv : argv.slice(0, end)).map((t) => t.split('=')[0])
        .find((t) => t.startsWith('--') && t.length > 2 && !options[t.slice(2)]);
      return `unknown option '${opt.startsWith('--') && long ? long : opt}' (see --help)`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      if (/ does not take an argument/.test(text)) return `option '${opt}' takes no value (see --help)`;
      /* Named as typed, -m or --mode: the one with no value after it. */
      const name = opt.replace(/^-+/, '');
      const forms = [`--${name}`, options[name] && options[name].short ? `-${options[name].short}` : null];
      const i = argv.findIndex((t, k) => forms.includes(t) && (k + 1 === argv.length || argv[k + 1].startsWith('-')));
      return `option '${i >= 0 ? argv[i] : opt}' needs a value (see --help)`;
    }
    default:
      return `${text.split(/\.(?:\s|$)|\n/)[0]} (see --help)`;
  }
}

/* Parses the common flags and the lab's own, as lab_parse() does: exits
 * 0 after --help or --describe, 2 on any bad argument (one line naming
 * it), and otherwise returns what to run:
 *   { mode, iterations, iterationsGiven, size, tsv, quiet, preset, maxHeap,
 *     noCap, gc, positional, own: { name: value } } */
function parse(lab, argv) {
  const options = {
    mode: { type: 'string', short: 'm' },
    iterations: { type: 'string', short: 'n' },
    size: { type: 'string', short: 's' },
    tsv: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    describe: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    'no-cap': { type: 'boolean' },
    gc: { type: 'boolean' },
    'no-gc': { type: 'boolean' },
  };
  if (lab.presets) {
    options.preset = { type: 'string' };
    options['max-heap'] = { type: 'string' };
  }
  for (const o of lab.options || []) options[o.name] = { type: o.arg ? 'string' : 'boolean' };

  let tokens;
  try {
    ({ tokens } = parseArgs({ args: joinNegatives(argv, options), options, strict: true,
      allowPositionals: true, tokens: true }));
  } catch (err) {
    usage(parseError(err, options, argv));
  }
  const first = lab.presets ? lab.presets[0] : null;
  const a = {
    mode: lab.modes[0], iterations: null, size: null,
    tsv: process.env.LEAKLAB_TSV || null, quiet: false, preset: first, maxHeap: null,
    noCap: false, gc: Boolean(lab.gcBeforeRow), positional: [], own: {}, sizeText: null,
  };
  for (const t of tokens) {
    if (t.kind === 'positional') { a.positional.push(t.value); continue; }
    if (t.kind !== 'option') continue;
    const v = t.value;
    switch (t.name) {
      case 'mode':
        a.mode = lab.modes.find((m) => m.name === v);
        if (!a.mode) usage(`unknown mode '${v}' (see --help)`);
        break;
      case 'iterations':
        if (lab.once) usage(`--iterations does not apply to ${progname}: it runs once over its input (see --help)`);
        a.iterations = parseWhole(v, 0, 100000000);
        if (a.iterations === null) usage(`bad --iterations '${v}': want a whole number from 0 to 100000000`);
        break;
      case 'size':
        if (lab.once) usage(`--size does not apply to ${progname}: it runs once over its input (see --help)`);
        a.size = parseSize(v);
        a.sizeText = v;          /* as typed, for a lab's own message */
        if (!a.size) usage(`bad --size '${v}': want a size such as 64K, 1M or 2G`);
        break;
      case 'tsv': a.tsv = v; break;
      case 'quiet': a.quiet = true; break;
      case 'no-cap': a.noCap = true; break;
      case 'gc': a.gc = true; break;
      case 'no-gc': a.gc = false; break;
      case 'describe': printDescribe(lab); process.exit(EXIT_DONE); break;
      case 'help': printHelp(lab); process.exit(EXIT_DONE); break;
      case 'preset':
        a.preset = lab.presets.find((p) => p.name === v);
        if (!a.preset) usage(`unknown preset '${v}' (see --help)`);
        break;
      case 'max-heap':
        a.maxHeap = parseSize(v);
        if (!a.maxHeap) usage(`bad --max-heap '${v}': want a size such as 280M or 1400M`);
        break;
      default:
        if (!lab.onOption(t.name, v)) usage(`bad --${t.name} '${v === undefined ? '' : v}' (see --help)`);
        a.own[t.name] = v === undefined ? true : v;
    }
  }
  a.iterationsGiven = a.iterations !== null;   /* before the default fills it */
  if (a.size === null) a.size = a.preset ? a.preset.size : lab.defaultSize;
  if (a.sizeText === null) a.sizeText = formatSize(a.size);
  if (a.iterations === null) a.iterations = a.preset ? a.preset.iterations : lab.defaultIterations;
  if (a.maxHeap === null) a.maxHeap = a.preset ? a.preset.maxHeap : 0;
  const max = lab.maxPositional || 0;
  if (a.positional.length > max)
    usage(`unexpected argument '${a.positional[max]}' (usage: ${progname} [OPTIONS]${lab.positional ? ' ' + lab.positional : ''})`);
  return a;
}

/* ------------------------------------------------------------------------
 * V8's heap limit is fixed when the process starts
 * --------------------------------------------------------------------- */

/* V8 reads --max-old-space-size once, when the process starts: setting it
 * later changes nothing. A twin whose mode keeps a heap budget calls this
 * with it. Without the flag, the twin starts a second node with it, on the
 * same script and arguments, waits for it, and ends as it ended (its exit
 * code, or its signal: V8's abort is SIGABRT). The second node watches
 * that its parent is still there at every row (sample()), so that it dies
 * with it, as everything the runner starts does. Returns in that second
 * node; never returns in the first. */
function runWithHeapLimit(maxHeapBytes) {
  const flag = `--max-old-space-size=${Math.ceil(maxHeapBytes / MIB)}`;
  if (process.execArgv.includes(flag)) return;
  const r = spawnSync(process.execPath, [...process.execArgv, flag, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, LEAKLAB_NODE_PARENT: String(process.pid) },
  });
  if (r.error) fail(process.execPath, r.error);
  if (r.signal) {
    process.kill(process.pid, r.signal);   /* the same death, for wait4 */
    process.exit(128 + (os.constants.signals[r.signal] || 0));
  }
  process.exit(r.status);
}

/* ------------------------------------------------------------------------
 * The probe
 * --------------------------------------------------------------------- */

const P = {
  fd: -1,            /* the TSV, O_APPEND, or -1 for none */
  path: null,        /* its name, for messages */
  end: 0,            /* where its last whole row ends */
  quiet: false,      /* no human table */
  t0: 0n,            /* process.hrtime.bigint() at start() */
  nextra: 0,         /* the lab's own columns */
  selfCap: 0,        /* rss in bytes a bare run stops at; 0: none */
  parent: 0,         /* the first node's pid, in a re-started one */
  gc: null,          /* --gc: V8's full collection, run before each row */
};

/* Appends text (the header, or one row) whole, or not at all; on failure
 * cuts the file back to its last whole row, names it and exits 1. */
function writeWhole(text) {
  const buf = Buffer.from(text);
  let done = 0;
  let err = null;
  while (done < buf.length) {
    try {
      const n = fs.writeSync(P.fd, buf, done, buf.length - done);
      if (n <= 0) { err = { code: 'EIO' }; break; }
      done += n;                 /* short: the next write says why */
    } catch (e) {
      if (e.code === 'EINTR' || e.code === 'EAGAIN') continue;
      err = e;
      break;
    }
  }
  if (!err) { P.end += buf.length; return; }
  try {
    fs.ftruncateSync(P.fd, P.end);
  } catch (e) {
    say(`${P.path}: ${describeError(err)}, and the partial row stays: ${describeError(e)}`);
    process.exit(EXIT_ERROR);
  }
  fail(P.path, err);
}

/* Something else caps this process: the runner (LEAKLAB_CAP), or a
 * finite RLIMIT_AS (ulimit -v), which /proc/self/limits shows. */
function cappedFromOutside() {
  if (process.env.LEAKLAB_CAP) return true;
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8')
      .split('\n').find((l) => l.startsWith('Max address space'));
    return Boolean(line) && !/unlimited\s+unlimited/.test(line);
  } catch {
    return false;
  }
}

/* Opens the TSV (args.tsv; none if null) and writes its # lines and its
 * header, every string escaped; says once on stderr what caps a bare run.
 * Exits 1 naming the TSV if it cannot be written. */
function start(lab, args) {
  P.quiet = args.quiet;
  P.t0 = process.hrtime.bigint();
  P.nextra = (lab.extraColumns || []).length;
  P.parent = Number(process.env.LEAKLAB_NODE_PARENT || 0);
  if (args.gc) {
    /* global.gc() without starting node with --expose-gc: the flag is
     * read when a context is made, so a fresh one has the function. */
    v8.setFlagsFromString('--expose-gc');
    P.gc = require('node:vm').runInNewContext('gc');
  }
  if (!args.noCap && !cappedFromOutside()) {
    P.selfCap = defaultCap();
    if (!args.quiet)
      say(`capped at ${Math.round(P.selfCap / MIB)} MiB of rss, checked at every row, the runner's default, as nothing else caps this run; --no-cap lifts it`);
  }
  if (!args.tsv) return;
  P.path = args.tsv;
  const c = fs.constants;
  try {
    P.fd = fs.openSync(args.tsv, c.O_WRONLY | c.O_CREAT | c.O_TRUNC | c.O_APPEND, 0o644);
  } catch (err) {
    fail(args.tsv, err);
  }
  const e = (s) => oneLine(s);
  const heapLimit = v8.getHeapStatistics().heap_size_limit;
  let head = `# lab=${lab.number}\n# title=${e(lab.title)}\n# mode=${e(args.mode.name)}\n`;
  head += `# argv=${[process.argv0, ...process.execArgv, ...process.argv.slice(1)].map(e).join(' ')}\n`;
  head += `# size=${args.size}\n# iterations=${args.iterations}\n`;
  if (args.maxHeap) head += `# max_heap=${args.maxHeap}\n`;
  head += `# runtime=node ${process.version}\n# v8=${process.versions.v8}\n`;
  head += `# gc_before_row=${args.gc ? 1 : 0}\n`;
  head += `# heap_size_limit=${heapLimit}\n# start=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n`;
  head += ['iter', 't_ms', 'rss_kib', 'heap_total_kib', 'heap_used_kib', 'external_kib',
    'array_buffers_kib', ...(lab.extraColumns || [])].join('\t') + '\n';
  writeWhole(head);
}

/* Memory now, in bytes, without recording anything. */
function read() {
  const m = process.memoryUsage();
  return {
    tMs: Number(process.hrtime.bigint() - P.t0) / 1e6,
    rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed,
    external: m.external, arrayBuffers: m.arrayBuffers,
  };
}

/* Takes one sample and writes it: a TSV row and, unless quiet, the line
 * the C probe prints each row (the seed's "Process: heapTotal ... MB":
 * its MB are MiB, as the seed's were). extra: one number per column of the lab's
 * own. Returns the reading. With --gc, V8 collects first: the row then
 * counts what the program still reaches, not the garbage V8 has not yet
 * come back for (C's rows never hold garbage: free() is immediate). A
 * bare run whose rss passed the default cap stops here, exit 3; a
 * re-started node whose parent is gone, exit 1. */
function sample(iter, extra = []) {
  if (P.parent && process.ppid !== P.parent) process.exit(EXIT_ERROR);
  if (P.gc) P.gc();
  const r = read();
  if (P.fd >= 0) {
    const kib = (b) => Math.floor(b / KIB);
    const cols = [iter, r.tMs.toFixed(3), kib(r.rss), kib(r.heapTotal), kib(r.heapUsed),
      kib(r.external), kib(r.arrayBuffers)];
    for (let i = 0; i < P.nextra; i++) cols.push(Math.trunc(extra[i] || 0));
    writeWhole(cols.join('\t') + '\n');
  }
  if (!P.quiet)
    process.stdout.write(`Process: heapTotal ${mib(r.heapTotal)} MB heapUsed ${mib(r.heapUsed)} MB rss ${mib(r.rss)} MB external ${mib(r.external)} MB\n`);
  if (P.selfCap && r.rss > P.selfCap)
    wall(`rss ${mib(r.rss)} MiB passed the ${mib(P.selfCap)} MiB cap at iteration ${iter} (a twin run by hand checks its own rss; --no-cap lifts it)`);
  return r;
}

/* Closes the TSV. Safe when start() opened none. */
function finish() {
  if (P.fd >= 0) fs.closeSync(P.fd);
  P.fd = -1;
}

module.exports = {
  EXIT_DONE, EXIT_ERROR, EXIT_USAGE, EXIT_WALL, KIB, MIB,
  parse, start, sample, read, finish, usage, fail, wall, say, mib, parseSize,
  runWithHeapLimit, oneLine,
};
