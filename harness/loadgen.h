/*
 * loadgen.h - lab 7's client: the load, sent with libcurl
 * (libcurl4-openssl-dev) over loopback to the lab's own server, one
 * handle and one connection kept alive, in the lab's main thread.
 *
 * A batch is --requests requests: 3 in 10 log a new user in, 1 in 10
 * logs the newest session out, and each of the rest is a page view or,
 * 1 time in 6, a failed login, in an order drawn from --seed; then the
 * --bad malformed requests (a battery that cycles through twelve, each
 * with the status it must get), and a page view last. Every reply is
 * checked: a status the server must not give ends the lab.
 *
 * Linked into lab 7 alone (the Makefile's LAB7_DEPS).
 */
#ifndef LEAKLAB_LOADGEN_H
#define LEAKLAB_LOADGEN_H

/* What the load is, and what the lab says when the server runs out. */
struct loadgen_config {
    long requests;                /* per batch (--requests), at least 1 */
    long bad;                     /* malformed ones added (--bad) */
    long seed;                    /* the traffic's order (--seed) */
    const char *password;         /* the right one, for logins */
    /* A reply of 503 to what ("a login"): the server is out of memory.
     * Says so, with what the server holds, and exits 3 (lab_wall). */
    void (*out_of_memory)(const char *what);
};

/* Sets up libcurl for http://127.0.0.1:port, with no proxy whatever the
 * environment says. Keeps config (it must outlive the client). Exits 1
 * if libcurl cannot start, 3 if malloc fails. */
void loadgen_start(long port, const struct loadgen_config *config);

/* Sends one batch, and returns when its last reply is in. Exits 1 if a
 * request gets no reply (the server died, or 10 s passed) or a status it
 * must not get, 3 (config's out_of_memory) for a 503. */
void loadgen_batch(void);

/* Requests sent so far, and replies of 400 and up. Cannot fail. */
void loadgen_counts(long *requests, long *errors);

/* Closes the client. Cannot fail. */
void loadgen_stop(void);

#endif
