'use strict';
/*
 * Lab 7 in Node.js: a leak in a running server. The twin of
 * labs/lab7-server.c, run by `leaklab run 7 --node` beside it.
 *
 * The lesson is the C lab's: a server leaks in one of four ways, and the
 * way it leaks says how to find it; what finds all four is the record
 * taken while the server runs. Here Node is at home: the second seed,
 * 内存泄漏 ("Memory leaks"), finds its leak in a Node server, a Koa
 * session middleware whose module-level object keeps every user who
 * ever logged in, by comparing two heap snapshots by Delta and Size
 * Delta. LESSONS.md, "Lab 7: a leak in a running server", has the story.
 *
 * The server is real, and so is its load, both in this process, on
 * 127.0.0.1 only: labs/node/httpd.js serves the C lab's routes with
 * node:http, and labs/node/loadgen.js sends a batch (an iteration) of
 * --requests requests drawn from --seed as harness/loadgen.c draws them,
 * so requests, sessions and errors equal the C lab's, row for row; each
 * module's header says how. The row is taken once the batch is done,
 * after a full garbage collection (--gc, the default): C frees at once,
 * V8 when it collects. failed_logins, the 403s so far, is what
 * occasional's steps follow. This file is the lesson: the session store,
 * the leak each mode has, and what the routes do with a session.
 *
 * Every session carries a --size profile, written in full: an Array of
 * numbers, one 8-byte double per 8 bytes (--size rounded up to 8), on
 * V8's heap. On the heap and not in a Buffer, because that is where a
 * Node server's sessions live (plain objects, as the seed's user table
 * was), where V8's heap limit counts them, and where a heap snapshot
 * weighs them: the seed found its leak as an "(array)" by Size Delta. A
 * Buffer's bytes would sit outside the heap (lab 3), in `external`, and a
 * heapUsed chart would stay flat while rss climbed. So the chart's heap
 * row shows Node's heapUsed climbing where C's heap_used does, and its
 * external flat.
 *
 * Modes, one per class of leak, named as the lecture names them:
 *   frequent    every login stays in `sessions`, the seed's module-level
 *               user table: logout only marks it. A line up.
 *   occasional  a failed login's error path forgets to undo what it did.
 *               In a garbage-collected language nothing can forget a
 *               free: what an error path forgets is the other half of
 *               what the normal path does, the delete from a Map, the
 *               removeListener, the clearTimeout. Here every login
 *               attempt is first put in `pending` with its session; the
 *               normal path deletes it from there, and occasional's 403
 *               returns without the delete: the session stays reachable
 *               from a structure nothing empties, so V8 may never collect
 *               it. A staircase, one step per failed login.
 *   once        a route table of 16 MiB built at start-up and kept at
 *               module level, never used again: the lecture's module
 *               required once and held by the module cache. One step,
 *               then flat.
 *   hidden      sessions end properly, but each one logged out is kept
 *               on an audit list (a reference is enough to keep its
 *               profile: nothing need be copied) that only shutdown
 *               empties: a line up while it runs, nothing held at exit.
 *   fixed       sessions end at logout, or --ttl batches after login, and
 *               the 403 path deletes its attempt too: flat once the first
 *               --ttl batches have passed.
 *   mystery     one of the four, picked by --seed as the C lab picks it,
 *               unnamed: --reveal tells which.
 *
 * --snapshots DIR is the seed's method: three heap snapshots written
 * while the load runs (after a warm-up, then two equal loads, as leaklab
 * hunt takes them), then compared as DevTools' Comparison view compares
 * them, class by class, by Delta and Size Delta (labs/node/heapdiff.js,
 * the tool, apart from the lab as harness/hunt.c is).
 *
 * --serve runs the server alone, for curl, until SIGINT, SIGTERM or its
 * parent's end: "listening on http://127.0.0.1:P/", then a row a second,
 * "row 3: requests 30, sessions 6, errors 1 | Process: heapTotal ...".
 * SIGUSR2 prints a line of memory and sessions on stderr, and says so
 * when V8 writes a heap snapshot (node --heapsnapshot-signal=SIGUSR2).
 *
 * Run it:  build/leaklab run 7 --node      or
 *          node labs/node/lab7-server.js --mode frequent --iterations 40
 */
const fs = require('node:fs');
const { randomBytes } = require('node:crypto');
const probe = require('./probe');
const httpd = require('./httpd');         /* the server: httpd.c's */
const loadgen = require('./loadgen');     /* the client: loadgen.c's load */
const heapdiff = require('./heapdiff');   /* --snapshots: taken, compared */

/* ------------------------------------------------------------------------
 * The lab: its modes and options, as the C lab's
 * --------------------------------------------------------------------- */

const own = {             /* the lab's flags */
  requests: 10,           /* --requests: per batch */
  ttl: 5,                 /* --ttl: batches a session lives */
  seed: 1,                /* --seed: the traffic, and the mystery */
  port: 0,                /* --port: 0 picks a free one */
  root: null,             /* --root: the static files, or none */
  bad: 0,                 /* --bad: malformed requests per batch */
  serve: false,           /* --serve: the server alone */
  reveal: false,          /* --reveal: name the mystery's class */
  snapshots: null,        /* --snapshots: their directory, or none */
};

/* The whole-number flags' ranges, the C lab's: checked by onOption, and
 * said by --help and by the one-line error. */
const RANGES = {
  requests: [1, 100000], ttl: [1, 100000], seed: [0, 2147483647],
  port: [0, 65535], bad: [0, 1000],
};

/* "1 to 100000", for --help. */
function span(name) {
  return `${RANGES[name][0]} to ${RANGES[name][1]}`;
}

const lab = {
  number: 7,
  twinOf: 'labs/lab7-server.c',
  title: 'a leak in a running server, in Node.js',
  takeaway: 'A session Map that only grows is the seed\'s leak: heapUsed '
    + 'climbs per batch of requests',
  showcase: 'frequent',
  claim: 'Find a leak while the server runs',
  recap: { leak: 'a session Map that only grows', fix: 'delete on every path, '
    + 'the error paths too', tool: 'heapUsed per batch; snapshots compared' },
  modes: [
    { name: 'frequent', capKind: 'rlimit', expect: 'finished',
      caption: 'Every login stays in the sessions Map: heapUsed climbs with '
        + 'every batch' },
    { name: 'occasional', capKind: 'rlimit', expect: 'finished',
      caption: 'A failed login\'s error path skips its delete: a step per '
        + 'failed login' },
    { name: 'once', capKind: 'rlimit', expect: 'finished',
      caption: 'A route table built at start-up, kept: one step, then flat' },
    { name: 'hidden', capKind: 'rlimit', expect: 'finished',
      caption: 'Logged-out sessions kept on an audit list emptied at '
        + 'shutdown: grows while it runs' },
    { name: 'fixed', capKind: 'rlimit', expect: 'finished',
      caption: 'Sessions deleted at logout or after --ttl batches: flat' },
    { name: 'mystery', capKind: 'rlimit', expect: 'finished',
      caption: 'One of the four leaks, picked by --seed: hunt it, then '
        + '--reveal' },
  ],
  defaultSize: 512 << 10,       /* a session's profile, as in C */
  defaultIterations: 40,        /* batches */
  gcBeforeRow: true,
  extraColumns: ['requests', 'sessions', 'errors', 'failed_logins'],
  y2Columns: ['sessions'],
  xLabel: 'batch of requests',
  compareColumns: ['heap_used_kib'],
  options: [
    { name: 'requests', arg: 'N', help: `requests per batch (an iteration), ${span('requests')} (default 10)` },
    { name: 'ttl', arg: 'N', help: `sessions live N batches (${span('ttl')}), except in frequent (default 5)` },
    { name: 'seed', arg: 'N', help: `seeds the traffic, and the mystery; ${span('seed')} (default 1)` },
    { name: 'port', arg: 'N', help: `the port on 127.0.0.1, ${span('port')}; 0 picks a free one (default 0)` },
    { name: 'root', arg: 'DIR', help: 'GET /static/P serves DIR/P (default: no files)' },
    { name: 'bad', arg: 'N', help: `add N malformed requests to each batch, ${span('bad')} (default 0)` },
    { name: 'serve', arg: null, help: 'serve until Ctrl-C, no client; a row a second: counts, memory' },
    { name: 'reveal', arg: null, help: 'mystery: say which leak --seed picks, and exit' },
    { name: 'snapshots', arg: 'DIR', help: 'three heap snapshots into DIR (which must exist), compared' },
  ],
  /* A whole-number flag out of its range exits 2 here, naming it, what
   * was typed and the range, as lab.c says --iterations'; returns false
   * for an empty DIR, as the C lab's on_option. */
  onOption(name, value) {
    if (RANGES[name]) {
      const [min, max] = RANGES[name];
      if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max)
        probe.usage(`bad --${name} '${value}': want a whole number from ${min} to ${max}`);
      own[name] = Number(value);
      return true;
    }
    if (name === 'root' || name === 'snapshots') {
      own[name] = value;
      return value !== '';
    }
    own[name] = true;           /* serve, reveal */
    return true;
  },
  notes: 'An iteration is one batch of --requests requests over loopback; '
    + '--size is each\nsession\'s profile, an Array of numbers on V8\'s heap. '
    + '--port, --root, --bad and\n--serve are for driving it by hand '
    + '(LESSONS.md, Lab 7).\n--snapshots compares the three by Delta and '
    + 'Size Delta, as DevTools does.',
};

/* ------------------------------------------------------------------------
 * The leak each mode has, and the mystery's pick
 * --------------------------------------------------------------------- */

/* The class mystery stands for with --seed s, as the C lab's mystery_pick
 * computes it: the same s, the same class, in both languages. */
function mysteryPick(s) {
  const classes = ['frequent', 'occasional', 'once', 'hidden'];
  const h = (BigInt(s) * 2654435761n) & 0xffffffffffffffffn;   /* unsigned long */
  return classes[Number((h >> 7n) % 4n)];
}

/* Where each class's memory is made: what a hunt should name. */
const leakSite = {
  frequent: 'sessionNew', occasional: 'sessionNew', once: 'buildRouteTable',
  hidden: 'auditAppend',
};

/* ------------------------------------------------------------------------
 * The session store: the seed's loginUsers, with sessions
 *
 * One Map, at module level, from session id to session, in login order
 * (a Map iterates in insertion order: the first entry is the oldest,
 * which expiry ends first). The server and the client share one thread,
 * so nothing needs a lock.
 * --------------------------------------------------------------------- */

const USER_MAX = 32;             /* longest user name */
const PASSWORD = 'open-sesame';  /* every user's password, in this lab */

const sessions = new Map();      /* sid -> session: the seed's loginUsers */
const pending = new Map();       /* sid -> session: logins being checked */
const audit = [];                /* hidden: every session that ended */
const store = {
  leak: 'fixed',                 /* the mode's class of leak */
  profileSize: 0,                /* --size */
  ttl: 0,                        /* requests a session lives */
  clock: 0,                      /* requests handled: the TTL's */
  held: 0,                       /* bytes of profiles held, for messages */
};

/* A new session for user, with a fresh random id and its profile of
 * numbers, every element written, and puts it in `pending` while its
 * login is checked. Returns null if V8 cannot make the profile (a
 * RangeError: the caller answers 503). */
function sessionNew(user) {
  let profile;
  try {
    /* A number with a fraction (the + 0.5) makes V8 keep the elements as
     * raw 8-byte doubles (a FixedDoubleArray), so a profile weighs 8
     * bytes an element in any build of V8. A whole number would be a
     * "small integer", kept tagged in the array: 8 bytes here too
     * (measured: 1.00 byte per byte either way, in this Node), but 4 in
     * a V8 built with pointer compression, as Chrome's and Electron's
     * are, and a profile would weigh half its --size. */
    profile = new Array(Math.ceil(store.profileSize / 8)).fill(store.clock + 0.5);
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
  const s = {
    id: randomBytes(16).toString('hex'),   /* the cookie's value */
    user,                                  /* who logged in */
    born: 0,                               /* store.clock when added */
    loggedIn: true,                        /* frequent: false after logout */
    profile,                               /* the payload a session carries */
  };
  pending.set(s.id, s);
  return s;
}

/* Puts s in the table, newest in login order. Cannot fail. */
function storeAdd(s) {
  s.born = store.clock;
  sessions.set(s.id, s);
  store.held += s.profile.length * 8;
}

/* hidden: keeps a logged-out session's user and profile on the audit
 * list, "for later". Nothing reads it; shutdown empties it. The C lab
 * copies the bytes; here a reference is all it takes to keep them. */
function auditAppend(s) {
  audit.push({ user: s.user, ended: store.clock, profile: s.profile });
  store.held += s.profile.length * 8;
}

/* Takes s out of the table: once nothing else reaches it, V8 may collect
 * it, and its profile with it. Cannot fail. */
function sessionEnd(s) {
  sessions.delete(s.id);
  store.held -= s.profile.length * 8;
}

/* Ends the sessions older than the TTL, oldest first. frequent ends
 * nothing, ever: that is its leak. Cannot fail. */
function storeExpire() {
  if (store.leak === 'frequent') return;
  for (const s of sessions.values()) {
    if (store.clock - s.born < store.ttl) break;
    sessionEnd(s);
  }
}

/* At shutdown, every mode but frequent empties its table, and hidden its
 * audit list: why a check at exit finds nothing of hidden's leak, which
 * grew only while the server ran. It leaves `pending` alone: the
 * sessions occasional's error path left there are its leak, which
 * nothing empties, there as they are in C (where memcheck at exit calls
 * them lost). Cannot fail. */
function storeFree() {
  if (store.leak === 'frequent') return;
  for (const s of sessions.values()) sessionEnd(s);
  audit.length = 0;
}

/* ------------------------------------------------------------------------
 * once: the route table
 * --------------------------------------------------------------------- */

const ROUTES = 1024;             /* entries in the route table */
const ROUTE_PAGE = 16 << 10;     /* a pre-rendered page per route, bytes */

/* once: builds the route table, 1024 pages of 16 KiB (strings of
 * one-byte characters, each a copy of one of 26 letters' Buffers: 16 MiB
 * on V8's heap), as a framework does at start-up. The 26 Buffers (416
 * KiB, outside the heap) are garbage once it returns, and V8 collects
 * them; the table stays. The caller keeps it at module level and nothing
 * uses it again: the lecture's module, required once and kept by the
 * cache. It fails only at V8's heap limit, where V8 aborts the process
 * (C exits 3): the runner records that as the wall, "V8 heap limit". */
function buildRouteTable() {
  const letters = [];
  for (let c = 0; c < 26; c++) letters.push(Buffer.alloc(ROUTE_PAGE, 97 + c));
  const table = new Map();
  for (let i = 0; i < ROUTES; i++)
    table.set(`/route/${i}`, letters[i % 26].toString('latin1'));
  return table;
}

/* once: the table, kept for ever. Nothing reads it again: what keeps it
 * is this binding, a variable of the module's scope, which lives as long
 * as any function of this file that can reach it does: main, until it
 * returns, and the routes httpd.js holds while the server runs. */
let routeTable = null;

/* ------------------------------------------------------------------------
 * The routes: what the server does with a session
 *
 * labs/node/httpd.js has checked the request by the time these run (its
 * size, method and path, a POST's body, the cookie's sid) and serves
 * GET /static/P itself; what is left is the lab's: the session store.
 * --------------------------------------------------------------------- */

/* A user name: 1 to USER_MAX letters, digits, '.', '_' or '-'. */
function goodUser(u) {
  return /^[A-Za-z0-9._-]+$/.test(u) && u.length <= USER_MAX;
}

/* POST /login. The session, profile and all, is made first (as many
 * handlers load the user before checking the password), and waits in
 * `pending`; a wrong password must then delete it from there, and
 * occasional's error path forgets to. Answers 400 for a bad form, 503 if
 * the profile cannot be had, 403 for a wrong password. */
function handleLogin(res, body) {
  const user = httpd.formField(body, 'user', USER_MAX);
  const pass = user !== null && goodUser(user) ? httpd.formField(body, 'pass', 63) : null;
  if (pass === null) return httpd.reply(res, 400, 'want user=NAME&pass=...\n');
  const s = sessionNew(user);
  if (s === null) return httpd.reply(res, 503, 'out of memory\n');
  if (pass !== PASSWORD) {
    if (store.leak !== 'occasional') pending.delete(s.id);
    /* occasional: the error path returns here without the delete, and
     * s, profile and all, stays in pending, which nothing empties. */
    return httpd.reply(res, 403, 'wrong password\n');
  }
  pending.delete(s.id);
  storeAdd(s);
  return httpd.reply(res, 200, 'welcome\n', s.id);
}

/* GET /page and POST /logout: the seed's session check, then the page or
 * the end of the session. Answers 401 if sid names no live session. */
function handleSession(res, sid, logout) {
  const s = sessions.get(sid);
  if (!s || !s.loggedIn) return httpd.reply(res, 401, 'no such session\n');
  const text = `${logout ? 'bye' : 'hello'} ${s.user}\n`;
  if (logout && store.leak === 'frequent') {
    s.loggedIn = false;              /* marked, and kept: the leak */
  } else if (logout) {
    if (store.leak === 'hidden') auditAppend(s);   /* "for later": the leak */
    sessionEnd(s);
  }
  return httpd.reply(res, 200, text);
}

/* Every request, once its body is in: the TTL's clock ticks, and old
 * sessions end. */
function onTick() {
  store.clock++;
  storeExpire();
}

/* The lab's part, which httpd.js calls: the C lab's struct httpd_routes. */
const routes = { login: handleLogin, session: handleSession, tick: onTick };

/* ------------------------------------------------------------------------
 * The rows, and the client's one way to run out
 *
 * The client is labs/node/loadgen.js, harness/loadgen.c's ported: main
 * hands it what the load is (--requests, --bad, --seed, the right
 * password) and outOfMemory; it sends a batch and checks every reply,
 * and its counts are a batch's row. --serve has no client: its rows are
 * the server's counts.
 * --------------------------------------------------------------------- */

/* --serve's row: requests and errors as the server counts them, the
 * sessions in its table, and no client to count failed logins. */
function serverCounts() {
  return [store.clock, sessions.size, httpd.errors(), 0];
}

/* The server answered what ("a login") with 503: exits 3, naming all it
 * holds, as the C lab's out_of_memory: the sessions in its table, and
 * those kept elsewhere, the attempts occasional left pending and hidden's
 * audit list, with their profiles' bytes. */
function outOfMemory(what) {
  let held = store.held;                 /* the table and the audit list */
  for (const s of pending.values()) held += s.profile.length * 8;
  probe.wall(`the server is out of memory: ${what} got 503, holding ${sessions.size} `
    + `sessions in its table, ${pending.size} failed logins left pending and `
    + `${audit.length} ended sessions on the audit list (${probe.mib(held)} MiB of profiles)`);
}

/* ------------------------------------------------------------------------
 * main
 * --------------------------------------------------------------------- */

/* --snapshots DIR must be a directory that exists and that this process
 * can write in: checked before the server starts, so that a bad DIR
 * costs no run. Exits 1 with "DIR: why" if it is not. */
function checkSnapshotDir(dir) {
  try {
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    probe.fail(dir, err);
  }
}

/* Serves, and drives its own load, a row a batch (or, with --serve, only
 * serves until SIGINT or SIGTERM). Resolves to the exit code: 0 when it
 * is done; 2 on a bad argument, 3 at the memory wall and 1 on a runtime
 * failure exit from inside (probe.usage, probe.wall, probe.fail). */
async function main() {
  const a = probe.parse(lab, process.argv.slice(2));
  const mode = a.mode.name;
  const parent = process.ppid;
  if (own.reveal && mode !== 'mystery') probe.usage('--reveal goes with --mode mystery');
  if (own.serve && (a.iterationsGiven || own.bad || own.snapshots !== null))
    probe.usage('--serve runs until Ctrl-C, with no client: --iterations, --bad and --snapshots do not apply');
  if (own.snapshots !== null && a.iterations < 3)
    probe.usage(`--snapshots takes three, after a warm-up and two equal loads: want --iterations 3 or more, not ${a.iterations}`);
  if (a.size > 512 << 20)
    probe.usage(`bad --size '${a.sizeText}': a session's profile is one Array, at most 512M`);
  const leak = mode === 'mystery' ? mysteryPick(own.seed) : mode;
  if (own.reveal) {
    process.stdout.write(`mystery with --seed ${own.seed} is ${leak}: the memory is `
      + `allocated in ${leakSite[leak]}\n`);
    return probe.EXIT_DONE;
  }
  if (own.root !== null) httpd.root(own.root);
  if (own.snapshots !== null) checkSnapshotDir(own.snapshots);
  store.leak = leak;
  store.profileSize = a.size;
  store.ttl = own.ttl * own.requests;

  probe.start(lab, a);
  if (!own.serve) probe.sample(0, [0, 0, 0, 0]);  /* before the server: its start is a step */

  /* Start-up: once builds its route table here and keeps it. */
  if (leak === 'once') routeTable = buildRouteTable();
  const bound = await httpd.start(own.port, routes);
  if (own.serve) {
    await httpd.serve(bound, serverCounts, parent, a.quiet);
  } else {
    if (!a.quiet)
      process.stdout.write(`${mode}: ${a.iterations} batches of ${own.requests} requests `
        + `to http://127.0.0.1:${bound}/\n`);
    loadgen.start(bound, { requests: own.requests, bad: own.bad, seed: own.seed,
      password: PASSWORD, outOfMemory });
    const at = heapdiff.batches(a.iterations);
    const snaps = [];
    for (let i = 1; i <= a.iterations; i++) {
      await loadgen.batch();        /* one batch, every reply in */
      await httpd.settle();         /* the server at rest */
      if (process.ppid !== parent) process.exit(probe.EXIT_ERROR);   /* orphaned */
      const n = loadgen.counts();
      probe.sample(i, [n.requests, sessions.size, n.errors, n.failed]);
      if (own.snapshots !== null && at.includes(i))
        snaps.push(heapdiff.take(own.snapshots, `lab7-${mode}`, i));
    }
    loadgen.stop();
    if (own.snapshots !== null)
      heapdiff.compare(own.snapshots, `lab7-${mode}`, `lab7 ${mode}`, snaps);
  }
  await httpd.stop();              /* nothing left to keep the process alive */
  storeFree();
  probe.finish();
  return probe.EXIT_DONE;
}

main().then((code) => { process.exitCode = code; });
