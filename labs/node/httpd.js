'use strict';
/*
 * httpd.js - lab 7's HTTP server, for its Node twin: node:http on
 * 127.0.0.1 only, in the twin's own process. It is harness/httpd.c again
 * (libmicrohttpd, for the C lab), with the same checks, statuses and
 * messages.
 *
 * This file holds the machinery: the listening socket, each request's
 * sizes checked (a long target 414, long headers 431, as libmicrohttpd
 * refuses them), a POST's body collected (at most MAX_BODY bytes, else
 * 413), the path decoded once, the methods each route takes (else 405),
 * the session cookie checked (else 401 or 400), GET /static/P served from
 * beneath a root and nowhere else (its ".." and symbolic-link checks),
 * the counts a row shows, and --serve's loop.
 *
 * Exports, httpd.h's:
 *   root(dir)            GET /static/P serves dir/P from now on
 *   start(port, routes)  listens on 127.0.0.1:port, calling routes:
 *                        { login(res, body), session(res, sid, logout),
 *                        tick() }, as struct httpd_routes; resolves to
 *                        the port it bound
 *   stop()               closes the server and every connection
 *   reply(res, status, text, sid)   an answer, counted if 400 and up
 *   formField(body, field, max)     a field of a form body
 *   errors()             replies of 400 and up, so far
 *   settle()             resolves once every request taken up is done
 *   serve(port, counts, parent, quiet)  --serve's loop, until SIGINT or
 *                        SIGTERM
 *
 * It is apart from labs/node/lab7-server.js as harness/httpd.c is from
 * labs/lab7-server.c: the lab is the session store, the leak each mode
 * has, and what /login, /page and /logout do with a session; parsing,
 * routing and refusing requests is what carries them, the same whatever
 * the lab leaks.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const probe = require('./probe');

const MAX_BODY = 1024;           /* the largest body a route accepts */
const MAX_URL = 16 << 10;        /* the longest request target: else 414 */
const MAX_HEADERS = 16 << 10;    /* the headers' bytes: else 431 */

const server = {
  srv: null,                     /* the http.Server, once started */
  routes: null,                  /* the lab's part: start()'s routes */
  errors: 0,                     /* replies of 400 and up */
  started: 0,                    /* requests taken up */
  completed: 0,                  /* of those, responses closed */
  idle: null,                    /* settle()'s wake-up, or null */
  rootReal: null,                /* --root's realpath, or null */
};

/* ------------------------------------------------------------------------
 * The router: /static/P, beneath --root and nowhere else
 *
 * The path is decoded once (%2e%2e is "..", %2f is "/"), and a %00 or
 * bytes that are not UTF-8 make it a 400. The route then refuses any
 * path that is not a plain relative path (an empty segment, ".", "..", a
 * backslash or a control character anywhere: 403), as the C lab's does,
 * rather than editing it: the seed's replace('..', '') removes the first
 * ".." only. What is left is joined to the root with path.resolve, every
 * link in it resolved with fs.realpath, and served only if
 * path.relative(root, real) stays inside: a link that leads out is 403.
 *
 * It cannot do what harness/httpd.c does with openat2 and
 * RESOLVE_BENEATH (Node has no such call): a link swapped in between the
 * realpath check and the open could still win; the open at least refuses
 * a link at the last step (O_NOFOLLOW).
 * --------------------------------------------------------------------- */

/* GET /static/P serves dir/P from now on (without a call: 404, "no files
 * here"). Exits 1 naming dir if it cannot be resolved or is not a
 * directory. */
function root(dir) {
  try {
    server.rootReal = fs.realpathSync(dir);
    if (!fs.statSync(server.rootReal).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
  } catch (err) {
    probe.fail(dir, err);
  }
}

/* The path of a request target (before any '?'), %XX decoded once; null
 * for a %00, or for bytes that are not UTF-8. */
function decodePath(target) {
  const raw = Buffer.from(target.split('?')[0], 'latin1');   /* as it came */
  const out = [];
  for (let i = 0; i < raw.length; i++) {
    const hex = raw.toString('latin1', i + 1, i + 3);
    if (raw[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(raw[i]);
    }
  }
  const bytes = Buffer.from(out);
  const text = bytes.toString('utf8');
  if (bytes.includes(0) || !Buffer.from(text, 'utf8').equals(bytes)) return null;
  return text;
}

/* Is rel (after /static/) a plain relative path: segments of printable
 * characters without backslashes, none empty, "." or ".."? */
function plainPath(rel) {
  if (rel === '') return false;
  return rel.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'
    && !/[\x00-\x1f\x7f\\]/.test(seg));
}

/* Is real (a realpath) the root or beneath it? */
function beneathRoot(real) {
  const rel = path.relative(server.rootReal, real);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`)
    && !path.isAbsolute(rel);
}

/* GET /static/REL: the file beneath --root, or 403 for a path that would
 * leave it, 404 for one that is not there or not a regular file. */
function handleStatic(res, rel) {
  if (!plainPath(rel)) return reply(res, 403, 'not a plain path\n');
  if (server.rootReal === null) return reply(res, 404, 'no files here\n');
  let real;
  let fd;
  try {
    real = fs.realpathSync(path.resolve(server.rootReal, rel));
  } catch {
    return reply(res, 404, 'no such file\n');
  }
  if (!beneathRoot(real)) return reply(res, 403, 'outside the root\n');
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    return reply(res, err.code === 'ELOOP' ? 403 : 404,
      err.code === 'ELOOP' ? 'outside the root\n' : 'no such file\n');
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    return reply(res, 404, 'no such file\n');
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
  fs.createReadStream(null, { fd }).pipe(res);   /* a file of any size, in chunks */
  return undefined;
}

/* ------------------------------------------------------------------------
 * Replies, forms, cookies
 * --------------------------------------------------------------------- */

/* Sends status with text as its body, and sid as a cookie if given.
 * Counts a status of 400 and up (count false: a refusal the C lab's
 * libmicrohttpd makes before its handler, which it does not count).
 * Cannot fail: a client gone is node:http's to handle. */
function reply(res, status, text, sid = null, count = true) {
  const headers = { 'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text) };
  if (sid) headers['Set-Cookie'] = `sid=${sid}; Path=/; HttpOnly`;
  if (status >= 400 && count) server.errors++;
  res.writeHead(status, headers);
  res.end(text);
}

/* The value of field in a form body "a=1&b=2", or null if it is missing
 * or longer than max: httpd_form_field's, undecoded as there. */
function formField(body, field, max) {
  for (const pair of body.split('&')) {
    if (pair.startsWith(`${field}=`)) {
      const v = pair.slice(field.length + 1);
      return v.length <= max ? v : null;
    }
  }
  return null;
}

/* Replies of 400 and up, so far. Cannot fail. */
function errors() {
  return server.errors;
}

/* The sid in a Cookie header, checked: { sid }, or { status } 401 (no
 * sid) or 400 (not 32 lowercase hex digits). */
function cookieSid(header) {
  for (const part of (header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== 'sid') continue;
    const sid = part.slice(eq + 1).trim();
    return /^[0-9a-f]{32}$/.test(sid) ? { sid } : { status: 400 };
  }
  return { status: 401 };
}

/* ------------------------------------------------------------------------
 * The server: node:http calls onRequest for every request
 * --------------------------------------------------------------------- */

/* Routes a request whose body (a POST's) is in: the lab's clock ticks,
 * then the path decides (400 for a bad one, 404 for no route, 405 for
 * the wrong method), and the cookie for /page and /logout (401, 400). */
function route(req, res, body) {
  server.routes.tick();                      /* a request: the lab's clock */
  const url = decodePath(req.url);
  if (url === null) return reply(res, 400, 'bad path\n');
  const post = req.method === 'POST';
  if (url === '/login' || url === '/logout') {
    if (!post) return reply(res, 405, 'POST only\n');
    if (url === '/login') return server.routes.login(res, body);
  } else if (url === '/page' || url.startsWith('/static/')) {
    if (req.method !== 'GET') return reply(res, 405, 'GET only\n');
    if (url !== '/page') return handleStatic(res, url.slice(8));
  } else {
    return reply(res, 404, 'no such route\n');
  }
  const c = cookieSid(req.headers.cookie);
  if (c.sid === undefined)
    return reply(res, c.status, c.status === 401 ? 'log in first\n' : 'bad cookie\n');
  return server.routes.session(res, c.sid, url === '/logout');
}

/* Every request: the sizes checked first (a long target 414, long
 * headers 431, as libmicrohttpd refuses them before the C lab's handler
 * sees them), then a POST's body collected, at most MAX_BODY bytes (else
 * 413, at once if Content-Length says so), then the route. */
function onRequest(req, res) {
  server.started++;
  res.once('close', () => {
    server.completed++;
    if (server.idle && server.completed >= server.started) server.idle();
  });
  if (req.url.length > MAX_URL) return reply(res, 414, 'URL too long\n', null, false);
  const headerBytes = req.rawHeaders.reduce((n, h) => n + h.length + 2, 0);
  if (headerBytes > MAX_HEADERS) return reply(res, 431, 'headers too large\n', null, false);
  if (req.method === 'POST' && Number(req.headers['content-length']) > MAX_BODY)
    return reply(res, 413, 'body too large\n');
  const chunks = [];
  let len = 0;
  let answered = false;
  req.on('data', (chunk) => {
    if (answered || req.method !== 'POST') return;
    len += chunk.length;
    if (len > MAX_BODY) {
      answered = true;
      reply(res, 413, 'body too large\n');
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!answered) route(req, res, Buffer.concat(chunks).toString('latin1'));
  });
  return undefined;
}

/* Listens on 127.0.0.1:port (0: a free one), calling routes. Resolves to
 * the port bound once it listens; exits 1 naming the address if it
 * cannot. */
function start(port, routes) {
  server.routes = routes;
  /* The parser takes up to 64 KiB of request line and headers (Node's
   * own default is 16 KiB, over which it answers 431 itself), so that
   * onRequest can tell a long URL from long headers, as the C lab does. */
  const srv = http.createServer({ maxHeaderSize: 64 << 10 }, onRequest);
  server.srv = srv;
  return new Promise((resolve) => {
    srv.once('error', (err) => {
      const why = { EADDRINUSE: 'Address already in use', EACCES: 'Permission denied',
        EADDRNOTAVAIL: 'Cannot assign requested address' }[err.code] || err.code || err.message;
      probe.say(`127.0.0.1:${port}: ${why}`);
      process.exit(probe.EXIT_ERROR);
    });
    srv.listen(port, '127.0.0.1', () => resolve(srv.address().port));
  });
}

/* Closes the listening socket and every connection, so that nothing is
 * left to keep the process alive: it exits by itself. Resolves once
 * closed; cannot fail. */
function stop() {
  server.srv.closeAllConnections();
  return new Promise((resolve) => server.srv.close(resolve));
}

/* Resolves once the server has finished every request it took up (a
 * reply can reach the client a moment before the server has closed the
 * response): a row then sees the server at rest. Exits 1 after 10 s. */
function settle() {
  if (server.completed >= server.started) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      probe.say('waiting for the server to finish its requests: timed out after 10 s');
      process.exit(probe.EXIT_ERROR);
    }, 10000);
    server.idle = () => {
      clearTimeout(timer);
      server.idle = null;
      resolve();
    };
  });
}

/* ------------------------------------------------------------------------
 * --serve: the server alone, a row a second, until SIGINT or SIGTERM
 * --------------------------------------------------------------------- */

/* Was this node started with --heapsnapshot-signal=SIGUSR2 (either
 * spelling: "=SIGUSR2", or the value as the next argument)? Then V8
 * itself writes a heap snapshot on the signal, beside the line below. */
function snapshotOnSignal() {
  const argv = process.execArgv;
  return argv.some((f, i) => f === '--heapsnapshot-signal=SIGUSR2'
    || (f === '--heapsnapshot-signal' && argv[i + 1] === 'SIGUSR2'));
}

/* One row of --serve: the probe's sample, its TSV row and its line. The
 * line is one line a second with what the server counts first, then the
 * probe's memory: "row 3: requests 30, sessions 6, errors 1 | Process:
 * heapTotal ...". This writes the first part, without a newline, and
 * probe.sample() ends the line with its own; with quiet, neither. */
function serveRow(t, counts, quiet) {
  if (!quiet)
    process.stdout.write(`row ${t}: requests ${counts[0]}, sessions ${counts[1]}, `
      + `errors ${counts[2]} | `);
  probe.sample(t, counts);
}

/* Serves the server start() bound to port until SIGINT or SIGTERM (then
 * resolves). Its first line, "listening on http://127.0.0.1:PORT/", is
 * printed once the signals are handled, so that a script may signal it
 * as soon as it reads the line; then a row at once and a row a second
 * (serveRow's), its columns from counts() (requests, sessions, errors,
 * failed logins), no row on stdout with quiet. SIGUSR2 prints one line
 * of memory on stderr, with counts()'s sessions. Exits 1 once the
 * process whose pid is parent is no longer its parent: Node cannot ask
 * the kernel for a death signal, so it looks, five times a second. */
function serve(port, counts, parent, quiet) {
  const v8Snapshots = snapshotOnSignal();
  return new Promise((resolve) => {
    let rows = null;
    const watch = setInterval(() => {
      if (process.ppid !== parent) process.exit(probe.EXIT_ERROR);
    }, 200);
    const stopServing = () => {
      clearInterval(rows);
      clearInterval(watch);
      resolve();
    };
    process.once('SIGINT', stopServing);
    process.once('SIGTERM', stopServing);
    process.on('SIGUSR2', () => {
      const m = process.memoryUsage();
      probe.say(`SIGUSR2: heapUsed ${Math.floor(m.heapUsed / 1024)} KiB, rss `
        + `${Math.floor(m.rss / 1024)} KiB, ${counts()[1]} sessions`
        + (v8Snapshots ? ' (and V8 writes a heap snapshot, as node was started with '
          + '--heapsnapshot-signal=SIGUSR2)' : ''));
    });
    process.stdout.write(`listening on http://127.0.0.1:${port}/\n`);
    serveRow(0, counts(), quiet);
    let t = 1;
    rows = setInterval(() => {
      serveRow(t++, counts(), quiet);
    }, 1000);
  });
}

module.exports = { root, start, stop, reply, formField, errors, settle, serve };
