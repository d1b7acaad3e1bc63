'use strict';
/*
 * loadgen.js - lab 7's client, for its Node twin: harness/loadgen.c's
 * load, ported draw for draw (glibc's nrand48 included), sent with
 * Node's own http.request through a keep-alive Agent of one socket, as
 * libcurl's one handle is in C, over loopback to the twin's own server,
 * in the twin's own process.
 *
 * A batch is --requests requests: 3 in 10 log a new user in, 1 in 10
 * logs the newest session out, and each of the rest is a page view or,
 * 1 time in 6, a failed login, in an order drawn from --seed; then the
 * --bad malformed requests (a battery that cycles through twelve, each
 * with the status it must get), and a page view last. Every reply is
 * checked: a status the server must not give ends the twin. The same
 * seed sends the same requests in the same order as the C lab's client,
 * so the twin's requests, sessions and errors equal the C lab's.
 *
 * Exports, loadgen.h's:
 *   start(port, config)  the Agent for 127.0.0.1:port, the stream seeded;
 *                        config: { requests, bad, seed, password,
 *                        outOfMemory(what) }, as struct loadgen_config
 *   batch()              one batch; resolves once its last reply is in
 *   counts()             { requests, errors, failed } so far
 *   stop()               closes the Agent and its socket
 *
 * It is apart from labs/node/lab7-server.js as harness/loadgen.c is from
 * labs/lab7-server.c: the lab is the server and what it keeps; the load
 * is what drives it, the same in both languages.
 */
const http = require('node:http');
const probe = require('./probe');

/* ------------------------------------------------------------------------
 * The client's state: one socket, kept alive, and the sessions it has
 * --------------------------------------------------------------------- */

const RING = 64;                 /* sessions the client remembers */

const client = {
  cfg: null,                     /* start()'s config */
  agent: null,                   /* one socket, kept alive */
  port: 0,                       /* the server's */
  rng: 0n,                       /* nrand48's 48-bit state, from --seed */
  ring: new Array(RING).fill(''),   /* the client's sessions, a stack */
  top: 0,                        /* whose oldest falls off when full */
  count: 0,
  users: 0,                      /* user names made so far */
  requests: 0,                   /* sent */
  errors: 0,                     /* replies of 400 and up */
  failed: 0,                     /* replies of 403 to a wrong password */
  nbad: 0,                       /* malformed requests sent so far */
  battery: [],                   /* --bad's requests: makeBattery's */
};

/* ------------------------------------------------------------------------
 * The stream: glibc's nrand48, as loadgen.c draws from it
 * --------------------------------------------------------------------- */

/* glibc's nrand48, exactly: X = (0x5DEECE66D X + 0xB) mod 2^48, and the
 * top 31 bits of X. Seeded as loadgen_start seeds it (srand48's layout:
 * 0x330E below the seed). */
function seedRng(seed) {
  client.rng = (BigInt(seed) << 16n) | 0x330en;
}

/* A random number in [0, n), from the seeded stream: nrand48() % n. */
function draw(n) {
  client.rng = (0x5deece66dn * client.rng + 0xbn) & 0xffffffffffffn;
  return Number(client.rng >> 17n) % n;
}

/* ------------------------------------------------------------------------
 * One request, and its reply checked
 * --------------------------------------------------------------------- */

/* Sends one request: method, path (sent as typed: no ".." squashed), a
 * body (null: none), a cookie (null: none), and one extra header
 * ([name, value], or null). Resolves to { status, sid } (sid from a
 * Set-Cookie, or ''). Exits 1 if there is no reply within 10 s. */
function send(method, target, body, cookie, header) {
  const headers = {};
  if (body !== null) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  if (cookie) headers.Cookie = cookie;
  if (header) headers[header[0]] = header[1];
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: client.port, method, path: target,
      headers, agent: client.agent }, (res) => {
      const sid = (res.headers['set-cookie'] || []).map((c) => /^sid=([0-9a-f]{32})/.exec(c))
        .find(Boolean);
      res.resume();                            /* the body: not needed */
      res.on('end', () => {
        client.requests++;
        if (res.statusCode >= 400) client.errors++;
        resolve({ status: res.statusCode, sid: sid ? sid[1] : '' });
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error('timed out after 10 s')));
    req.on('error', (err) => {
      const shown = target.length > 60 ? `${target.slice(0, 60)}...` : target;
      probe.say(`${method} http://127.0.0.1:${client.port}${shown}: no reply: ${err.message}`);
      process.exit(probe.EXIT_ERROR);
    });
    req.end(body === null ? undefined : body);
  });
}

/* Exits 1 saying what request got what; for a 503, the config's
 * outOfMemory says what the server holds and exits 3. */
function unexpected(what, status, want) {
  if (status === 503) client.cfg.outOfMemory(what);
  probe.say(`${what} got ${status}; expected ${want}`);
  process.exit(probe.EXIT_ERROR);
}

/* ------------------------------------------------------------------------
 * The requests of a batch, and --bad's battery
 * --------------------------------------------------------------------- */

/* The malformed requests --bad sends, in turn, and the status each must
 * get: loadgen.c's battery, one with the right password. Cannot fail. */
const BIG = 'a'.repeat(64 << 10);
function makeBattery(password) {
  return [
    { what: 'a 64 KiB body', method: 'POST', path: '/login', body: BIG, want: 413 },
    { what: 'a 40 KiB cookie', method: 'GET', path: '/page', header: ['Cookie', `sid=${BIG.slice(0, 40 << 10)}`], want: 431 },
    { what: 'a sid that is not hex', method: 'GET', path: '/page', header: ['Cookie', 'sid=not-a-session-id'], want: 400 },
    { what: 'a cookie without sid', method: 'GET', path: '/page', header: ['Cookie', 'garbage'], want: 401 },
    { what: 'an unknown route', method: 'GET', path: '/admin', want: 404 },
    { what: 'a method the route does not take', method: 'DELETE', path: '/login', body: '', want: 405 },
    { what: 'a user name with markup', method: 'POST', path: '/login', body: `user=<script>&pass=${password}`, want: 400 },
    { what: 'a path with ..', method: 'GET', path: '/static/../../etc/passwd', want: 403 },
    { what: 'a path with %2e%2e', method: 'GET', path: '/static/%2e%2e/%2e%2e/etc/passwd', want: 403 },
    { what: 'a path with %00', method: 'GET', path: '/static/a%00/../../etc/passwd', want: 400 },
    { what: 'a 40 KiB URL', method: 'GET', path: `/page?x=${BIG.slice(0, 40 << 10)}`, want: 414 },
    { what: 'a logout with no cookie', method: 'POST', path: '/logout', body: '', want: 401 },
  ];
}

/* Sends the next request of the battery; exits 1 if its status is not
 * the one it must get. */
async function sendBad() {
  const b = client.battery[client.nbad++ % client.battery.length];
  const r = await send(b.method, b.path, b.body === undefined ? null : b.body, null, b.header || null);
  if (r.status !== b.want) {
    probe.say(`${b.what} (${b.method} ${b.path.slice(0, 40)}) got ${r.status}; expected ${b.want}`);
    process.exit(probe.EXIT_ERROR);
  }
}

/* Logs a new user in (with the right password, or not). */
async function sendLogin(right) {
  const body = `user=user${++client.users}&pass=${right ? client.cfg.password : 'guess'}`;
  const r = await send('POST', '/login', body, null, null);
  if (!right) {
    if (r.status !== 403) unexpected('a wrong password', r.status, 403);
    client.failed++;
    return;
  }
  if (r.status !== 200 || r.sid === '') unexpected('a login', r.status, 200);
  client.top = (client.top + 1) % RING;
  client.ring[client.top] = r.sid;
  if (client.count < RING) client.count++;
}

/* Views the page with one of the client's sessions (none yet: no
 * cookie). An expired one gets 401, as it should. */
async function sendPage() {
  let cookie = null;
  if (client.count > 0) cookie = `sid=${client.ring[(client.top - draw(client.count) + RING) % RING]}`;
  const r = await send('GET', '/page', null, cookie, null);
  if (r.status !== 200 && r.status !== 401) unexpected('a page view', r.status, 200);
}

/* Logs the client's newest session out. */
async function sendLogout() {
  let cookie = null;
  if (client.count > 0) {
    cookie = `sid=${client.ring[client.top]}`;
    client.top = (client.top - 1 + RING) % RING;
    client.count--;
  }
  const r = await send('POST', '/logout', '', cookie, null);
  if (r.status !== 200 && r.status !== 401) unexpected('a logout', r.status, 200);
}

const LOGIN = 0;
const FAILED_LOGIN = 1;
const PAGE = 2;
const LOGOUT = 3;

/* One batch, drawn as loadgen_batch draws it, draw for draw: 3 in 10
 * requests log in, 1 in 10 logs out, each of the rest is a page view or,
 * 1 time in 6, a failed login; shuffled (Fisher-Yates), a page view moved
 * last, each logout moved after a login of its own batch; the --bad
 * malformed requests just before the last. Resolves when the last reply
 * is in. */
async function batch() {
  const n = client.cfg.requests;
  const logins = Math.floor(n * 3 / 10) > 0 ? Math.floor(n * 3 / 10) : 1;
  const logouts = Math.floor(n / 10);
  const kinds = new Array(n);
  for (let i = 0; i < n; i++) {
    if (i < logins) kinds[i] = LOGIN;
    else if (i < logins + logouts) kinds[i] = LOGOUT;
    else kinds[i] = draw(6) === 0 ? FAILED_LOGIN : PAGE;
  }
  for (let i = n - 1; i > 0; i--) {             /* Fisher-Yates */
    const j = draw(i + 1);
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  for (let j = n - 1; j >= 0; j--) {            /* a page view last */
    if (kinds[j] === PAGE) {
      kinds[j] = kinds[n - 1];
      kinds[n - 1] = PAGE;
      break;
    }
  }
  for (let i = 0, inn = 0, out = 0; i < n; i++) {
    if (kinds[i] === LOGIN) inn++;
    if (kinds[i] !== LOGOUT || out++ < inn) continue;
    let j = i + 1;                              /* a login comes first */
    while (kinds[j] !== LOGIN) j++;
    kinds[j] = LOGOUT;
    kinds[i] = LOGIN;
    inn++;
    out--;
  }
  for (let i = 0; i < n; i++) {
    if (i === n - 1) for (let b = 0; b < client.cfg.bad; b++) await sendBad();
    if (kinds[i] === LOGIN) await sendLogin(true);
    else if (kinds[i] === FAILED_LOGIN) await sendLogin(false);
    else if (kinds[i] === PAGE) await sendPage();
    else await sendLogout();
  }
}

/* ------------------------------------------------------------------------
 * The interface: loadgen.h's
 * --------------------------------------------------------------------- */

/* Sets up the client for http://127.0.0.1:port: one keep-alive socket,
 * the stream seeded from config.seed (see the header for config). Keeps
 * config. Cannot fail: a server that is not there shows at the first
 * request, which exits 1. */
function start(port, config) {
  client.cfg = config;
  client.port = port;
  client.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  client.battery = makeBattery(config.password);
  seedRng(config.seed);
}

/* Requests sent so far, replies of 400 and up, and the 403s to a wrong
 * password: { requests, errors, failed }. Cannot fail. */
function counts() {
  return { requests: client.requests, errors: client.errors, failed: client.failed };
}

/* Closes the client's socket. Cannot fail. */
function stop() {
  client.agent.destroy();
}

module.exports = { start, batch, counts, stop };
