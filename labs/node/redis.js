'use strict';
/*
 * redis.js - lab 6's Redis, for its Node twin's redis mode: a private
 * redis-server started as the twin's child and stopped with it, and a
 * small RESP2 client over node:net to speak to it. It is harness/redis.c
 * again (which starts the C lab's server), with the client the C lab
 * gets from hiredis; apart from labs/node/lab6-cache.js for the same
 * reason that file is apart from labs/lab6-cache.c: the lab is about the
 * cache, not about starting a server or framing its protocol.
 *
 * The server is the twin's own, from start to end, as redis.c's is:
 *   - it listens on a unix socket in a new temporary directory (mkdtemp
 *     in $TMPDIR, else /tmp), never on TCP (--port 0), and INFO must say
 *     that the server reached is this pid, with no TCP port and no
 *     configuration file;
 *   - every setting is on its command line: no persistence, --maxmemory
 *     with allkeys-lru;
 *   - it dies with the twin: setpriv --pdeathsig KILL (even a SIGKILL of
 *     the twin takes it down), a shell that checks its parent is still
 *     the twin before it becomes redis-server, and a SIGKILL from us at
 *     exit, SIGINT and SIGTERM;
 *   - its directory goes once the twin has connected (forgetSocket), and
 *     otherwise at exit, SIGINT or SIGTERM.
 *
 * Exports:
 *   open(maxmemory)     starts the server, connects, checks it is ours
 *   call(...args)       one command's reply; exits 1 on an error
 *   info()              INFO's used_memory, evicted_keys and db0's keys
 *   rssKib()            the server's rss, from /proc
 *   socketPath()        its socket, until forgetSocket()
 *   forgetSocket()      removes the socket's directory (connected)
 *   close()             closes the connection, kills the server
 *   fail(text)          one line, exit 1: a runtime failure
 * Node's standard library only: no npm package.
 */
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const probe = require('./probe');

/* ------------------------------------------------------------------------
 * RESP2: why the twin speaks Redis's protocol itself
 *
 * Node's standard library has no Redis client, and the twins use no npm
 * package (Debian's node-redis included): Node code here uses only its
 * standard library. Redis's protocol is small enough to speak over a
 * node:net socket. A command goes out as an array of bulk strings:
 *   *3\r\n$3\r\nSET\r\n$5\r\nkey:7\r\n$16384\r\n<16384 bytes>\r\n
 * and each reply is one of
 *   +OK\r\n          a simple string      -ERR text\r\n   an error
 *   :42\r\n          an integer           $5\r\nhello\r\n a bulk string
 *   $-1\r\n          nil (GET's miss)     *N\r\n...       N replies
 * A reply may arrive split over several reads (a 16 KiB value always
 * is), or several in one: the parser keeps what it has not used and
 * waits for more. Replies come in the order of the commands, so each
 * resolves the oldest command waiting.
 * --------------------------------------------------------------------- */

/* A reply the parser cannot use yet: more bytes are needed. */
const INCOMPLETE = Symbol('incomplete');

/* One reply from buf at offset pos: { value, end }, or INCOMPLETE. An
 * error reply's value is { error: text }; nil is null; a bulk string a
 * Buffer (a view into buf: copy it to keep it). Throws on bytes that are
 * not RESP. */
function parseReply(buf, pos) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return INCOMPLETE;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: { error: line }, end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return INCOMPLETE;
      return { value: buf.subarray(next, next + len), end: next + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, at);
        if (r === INCOMPLETE) return INCOMPLETE;
        items.push(r.value);
        at = r.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`not a RESP reply: '${type}'`);
  }
}

/* The socket's errors as strerror words them (and hiredis reports them). */
const SOCKET_ERRORS = { ECONNRESET: 'Connection reset by peer', EPIPE: 'Broken pipe' };

/* A connection to Redis: command() sends one command and resolves with
 * its reply, or rejects with an Error whose message is the connection's
 * trouble ("Server closed the connection", or the socket's error). */
class Resp {
  constructor(socket) {
    this.socket = socket;    /* the connected node:net socket */
    this.buf = Buffer.alloc(0);   /* bytes read and not yet parsed */
    this.waiting = [];       /* { resolve, reject } per command, oldest first */
    this.broken = null;      /* the Error that ended the connection */
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new Error(SOCKET_ERRORS[err.code] || err.message)));
    socket.on('close', () => this.fail(new Error('Server closed the connection')));
  }

  /* Sends args (strings or Buffers) as one command. */
  command(...args) {
    if (this.broken) return Promise.reject(this.broken);
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(Buffer.concat(parts));
    });
  }

  /* Appends what came, and hands out every whole reply in it. */
  onData(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let pos = 0;
    while (pos < this.buf.length && this.waiting.length) {
      let r;
      try {
        r = parseReply(this.buf, pos);
      } catch (err) {
        this.fail(err);
        return;
      }
      if (r === INCOMPLETE) break;
      pos = r.end;
      this.waiting.shift().resolve(r.value);
    }
    this.buf = pos < this.buf.length ? Buffer.from(this.buf.subarray(pos)) : Buffer.alloc(0);
  }

  /* The connection is over: every command waiting fails with err. */
  fail(err) {
    if (!this.broken) this.broken = err;
    for (const w of this.waiting.splice(0)) w.reject(this.broken);
  }

  close() {
    this.socket.destroy();
  }
}

/* ------------------------------------------------------------------------
 * The private redis-server, as harness/redis.c starts the C lab's
 * --------------------------------------------------------------------- */

const S = {
  child: null,     /* the server: our child process */
  pid: 0,          /* its pid, 0 before it starts */
  dir: '',         /* mkdtemp'd; '' when removed */
  socket: '',      /* dir/redis.sock */
  log: '',         /* dir/redis.log: its stdout and stderr */
  exited: null,    /* how it ended, once it has: "exited with status N" */
};
let rc = null;     /* our one connection */

/* One line, exit 1: a runtime failure, as redis_fail() in C. */
function fail(text) {
  probe.say(text);
  process.exit(probe.EXIT_ERROR);
}

/* Kills the server and removes its files. Synchronous: it runs at exit.
 * Cannot fail. */
function removeAll() {
  if (S.pid > 0 && S.exited === null) {
    try { process.kill(S.pid, 'SIGKILL'); } catch { /* gone already */ }
  }
  if (S.dir) fs.rmSync(S.dir, { recursive: true, force: true });
  S.dir = S.socket = S.log = '';
}

/* The socket, the log and the directory go: a connected client needs
 * none of them, and a twin killed later leaves nothing behind. Cannot
 * fail (force: what is gone already is no error). */
function forgetSocket() {
  if (S.dir) fs.rmSync(S.dir, { recursive: true, force: true });
  S.dir = S.socket = S.log = '';
}

/* The first executable name in PATH, or null: what execvp would run. */
function inPath(name) {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = path.join(dir || '.', name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch { /* not here */ }
  }
  return null;
}

/* The server's rss in KiB, from its /proc/PID/status; 0 once it is gone. */
function rssKib() {
  try {
    const m = /\nVmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${S.pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/* The last non-empty line of the server's log, or ''. */
function lastLogLine() {
  try {
    const lines = fs.readFileSync(S.log, 'utf8').split(/\r?\n/).filter(Boolean);
    return lines.length ? lines[lines.length - 1] : '';
  } catch {
    return '';
  }
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/* A connected socket to path, or null if nothing accepts there yet. */
function tryConnect(file) {
  return new Promise((resolve) => {
    const s = net.createConnection(file);
    s.once('connect', () => { s.removeAllListeners('error'); resolve(s); });
    s.once('error', () => { s.destroy(); resolve(null); });
  });
}

/* Starts the server with maxmemory bytes, connects, and checks through
 * INFO that the server reached is ours. Exits 1, with one line, if a
 * program is missing, the server will not start or is not ours. */
async function open(maxmemory) {
  if (!inPath('redis-server'))
    fail('the redis mode needs redis-server, which is not installed (Debian '
      + 'package redis-server): make deps installs it');
  const setpriv = inPath('setpriv');
  if (!setpriv)
    fail('the redis mode needs setpriv, which is not installed (Debian '
      + 'package util-linux)');
  const tmp = process.env.TMPDIR || os.tmpdir();
  try {
    S.dir = fs.mkdtempSync(path.join(tmp, 'leaklab-redis-'));
  } catch (err) {
    probe.fail(path.join(tmp, 'leaklab-redis-XXXXXX'), err);
  }
  S.socket = path.join(S.dir, 'redis.sock');
  S.log = path.join(S.dir, 'redis.log');
  if (Buffer.byteLength(S.socket) > 107) {
    removeAll();
    fail(`TMPDIR='${tmp}': too long for a unix socket's path (107 bytes at most): `
      + 'set TMPDIR to a shorter directory');
  }
  process.on('exit', removeAll);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {     /* the server goes, then we die of sig */
      removeAll();
      process.kill(process.pid, sig);
    });
  }
  /* Every setting on the command line, none from a file: no TCP, no
   * persistence, maxmemory with allkeys-lru. */
  const args = ['--port', '0', '--unixsocket', S.socket, '--unixsocketperm', '700',
    '--save', '', '--appendonly', 'no',
    '--maxmemory', String(maxmemory), '--maxmemory-policy', 'allkeys-lru',
    '--dir', S.dir, '--logfile', '', '--daemonize', 'no', '--databases', '1'];
  /* It dies with us: setpriv asks the kernel for a SIGKILL when its
   * parent (this node, whose main thread spawns it) dies, and keeps it
   * across exec. A node dead before that, between fork and setpriv's
   * prctl, would be missed; so the shell setpriv runs checks that its
   * parent is still us before it becomes redis-server (redis.c checks
   * getppid() the same way). The pid stays the same through both execs. */
  const log = fs.openSync(S.log, 'a', 0o600);
  S.child = spawn(setpriv, ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c',
    '[ "$PPID" = "$1" ] || exit 126; shift; exec "$@"', 'sh',
    String(process.pid), 'redis-server', ...args], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  S.child.on('error', (err) => fail(`${setpriv}: ${probe.describeError(err)}`));
  S.child.on('exit', (code, sig) => {
    S.exited = sig ? `killed by ${sig}` : `exited with status ${code}`;
  });
  S.pid = S.child.pid;

  let socket = null;
  for (let waited = 0; !socket; waited += 10) {
    if (S.exited !== null || waited >= 10000) {
      const line = lastLogLine();
      const state = S.exited !== null ? S.exited : 'still running after 10 s';
      removeAll();
      fail(`redis-server did not accept connections (${state})`
        + `${line ? '; its log says: ' + line : ''}`);
    }
    await sleep(10);
    if (S.exited === null) socket = await tryConnect(S.socket);
  }
  rc = new Resp(socket);
  const text = (await checked('INFO server', rc.command('INFO', 'server'))).toString('latin1');
  const pid = infoField(text, 'process_id');
  const port = infoField(text, 'tcp_port');
  const noConfig = text.includes('\nconfig_file:\r\n');
  if (pid !== S.pid || port !== 0 || !noConfig)
    fail(`redis: the server on ${S.socket} is not ours (pid ${pid}, TCP port ${port}, `
      + `${noConfig ? 'no' : 'a'} config file)`);
}

/* The number after "\nname:" (or "\nname=" for a name ending in ':', as
 * "db0:keys") in an INFO reply, or -1. */
function infoField(info, name) {
  const pattern = `\n${name}${name.includes(':') ? '=' : ':'}`;
  const at = info.indexOf(pattern);
  return at < 0 ? -1 : parseInt(info.slice(at + pattern.length), 10);
}

/* The reply to a command, unless it failed: then exit 1 with Redis's own
 * words (the error reply, or the connection's), and how the server is. */
async function checked(what, promise) {
  let r;
  try {
    r = await promise;
  } catch (err) {
    for (let i = 0; i < 50 && S.exited === null; i++) await sleep(10);
    fail(`redis ${what}: ${err.message} (the server: ${S.exited || 'running'})`);
  }
  if (r && r.error !== undefined) fail(`redis ${what}: ${r.error}`);
  return r;
}

/* Sends args (strings or Buffers: "GET", key) as one command, on the
 * connection open() made, and resolves to its reply (nil is null, a bulk
 * string a Buffer). Exits 1 on an error reply or a broken connection,
 * naming the command ("redis GET: ..."). */
function call(...args) {
  return checked(args[0], rc.command(...args));
}

/* INFO's memory, stats and keyspace numbers. Exits 1 on a Redis error. */
async function info() {
  const text = (await checked('INFO', rc.command('INFO'))).toString('latin1');
  const keys = infoField(text, 'db0:keys');
  return { usedMemory: infoField(text, 'used_memory'),
    evictedKeys: infoField(text, 'evicted_keys'), keys: keys < 0 ? 0 : keys };
}

/* The server's socket, for a program of its own (redis-benchmark); ''
 * before open() and after forgetSocket(). Cannot fail. */
function socketPath() {
  return S.socket;
}

/* Closes the connection, kills the server and removes its files.
 * Cannot fail. */
function close() {
  if (rc) rc.close();
  rc = null;
  removeAll();
}


module.exports = { open, call, info, rssKib, socketPath, forgetSocket, close, fail };
