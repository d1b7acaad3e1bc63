/*
 * redis.h - a private redis-server, started as a lab's child (lab 6's
 * redis mode), and nobody else's.
 *
 * The server is the lab's own, from start to end:
 *   - it listens on a unix socket in a new temporary directory (mkdtemp in
 *     $TMPDIR, else /tmp), never on TCP (--port 0): no other program on
 *     the machine can reach it, and it never meets a system Redis on 6379;
 *   - it reads no configuration file: every setting is on its command
 *     line (no persistence: --save '' --appendonly no; --maxmemory with
 *     allkeys-lru);
 *   - it dies with the lab: PR_SET_PDEATHSIG in the child (even a SIGKILL
 *     of the lab takes the server down), and a SIGKILL from redis_stop(),
 *     which runs at exit() and on SIGINT and SIGTERM;
 *   - its directory goes as soon as the lab has connected
 *     (redis_forget_socket), and otherwise at exit, SIGINT or SIGTERM.
 *     Only a SIGKILL of the lab in the few milliseconds between mkdtemp
 *     and the connection leaves it behind.
 *
 * No hiredis here: this file starts, watches and stops the server; the
 * lab is the client.
 */
#ifndef LEAKLAB_REDIS_H
#define LEAKLAB_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Starts the server with the given maxmemory, in bytes, and returns once
 * it accepts connections on its socket (redis_socket()). Installs the
 * SIGINT and SIGTERM handlers and the atexit() that stop it. Exits 1 with
 * one line if redis-server is not installed (naming the Debian package
 * and make deps), if it cannot be started, if it exits before its socket
 * accepts (with the last line of its log), or if 10 s pass first. */
void redis_start(uint64_t maxmemory);

/* The server's socket, while it has one; "" before redis_start and after
 * redis_forget_socket. */
const char *redis_socket(void);

/* The server's pid, or 0 if none was started. */
int redis_pid(void);

/* Removes the socket, the log and the directory: a connected client
 * needs none of them, and a lab killed later leaves nothing behind. */
void redis_forget_socket(void);

/* The server's resident set size, in bytes, from its /proc/PID/statm;
 * 0 once it is gone. */
uint64_t redis_rss(void);

/* Writes into buf how the server stands: "running", "exited with status
 * N", or "killed by SIGKILL", reaping it if it is gone. Waits up to
 * wait_ms for it to end first (a connection it dropped comes a moment
 * before its death). */
void redis_state(char *buf, size_t len, int wait_ms);

/* Kills the server (SIGKILL), reaps it and removes its directory. Safe
 * to call twice, and without a server. */
void redis_stop(void);

/* Runs `redis-benchmark -s SOCKET -c 1 -n N -d SIZE -t set,get --csv` on
 * the server's socket (one client, no pipelining: one round trip per
 * request, as the lab's own client makes them), its CSV on our stdout.
 * Returns its exit status, or -1 (with one line on stderr) if it could
 * not run. Needs the socket: call it before redis_forget_socket(). */
int redis_benchmark(long n, uint64_t size);

/* One line on stderr, "prog: " and the text, after stdout is flushed;
 * then exit 1: a runtime failure. */
noreturn void redis_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
