/*
 * httpd.h - lab 7's HTTP server, on 127.0.0.1 only: libmicrohttpd
 * (Debian's libmicrohttpd-dev) parsing requests in a thread of its own.
 *
 * This file holds the machinery: the listening socket, each request's
 * body collected (at most HTTPD_MAX_BODY bytes, else 413), the methods
 * each route takes (else 405), the session cookie checked (else 401 or
 * 400), GET /static/P served from beneath a root and nowhere else (its
 * ".." and symbolic-link checks), the counts a row shows, and --serve's
 * loop. The lab keeps what it teaches: the session store, and what
 * /login, /page and /logout do with it (struct httpd_routes).
 *
 * Linked into lab 7 alone (the Makefile's LAB7_DEPS).
 */
#ifndef LEAKLAB_HTTPD_H
#define LEAKLAB_HTTPD_H

#include <microhttpd.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SID_LEN 32             /* hex digits in a session id */
#define HTTPD_MAX_BODY 1024    /* the largest body a route accepts */

/* The lab's routes: what it does with a request once the machinery has
 * checked it. Each answers with httpd_reply (or returns MHD_NO to drop
 * the connection). Called in libmicrohttpd's thread. */
struct httpd_routes {
    /* POST /login, with its body (NUL-terminated, at most
     * HTTPD_MAX_BODY bytes). */
    enum MHD_Result (*login)(struct MHD_Connection *c, const char *body);
    /* GET /page (logout false) and POST /logout (true), with the cookie's
     * sid, checked: SID_LEN lowercase hex digits. */
    enum MHD_Result (*session)(struct MHD_Connection *c, const char *sid,
                               bool logout);
    /* Every request, once its body is in and before it is routed: the
     * lab's clock. */
    void (*tick)(void);
};

/* GET /static/P serves dir/P from now on (without a call: 404, "no
 * files here"). Exits 1 naming dir if it cannot be opened. */
void httpd_root(const char *dir);

/* Listens on 127.0.0.1:want (0: a free one) and starts libmicrohttpd's
 * thread on that socket, calling routes. Sets *bound to the port. Exits
 * 1 naming the address if it cannot listen, or if libmicrohttpd cannot
 * start. */
struct MHD_Daemon *httpd_start(long want, long *bound,
                               const struct httpd_routes *routes);

/* Stops the server's thread and closes the root. Cannot fail. */
void httpd_stop(struct MHD_Daemon *d);

/* Sends status with text as its body, and sid as a cookie if not NULL.
 * Counts a status of 400 and up (httpd_errors). Returns MHD_NO if
 * libmicrohttpd cannot make the response. */
enum MHD_Result httpd_reply(struct MHD_Connection *c, unsigned status,
                            const char *text, const char *sid);

/* The value of field in a form body "a=1&b=2", copied to out (len
 * bytes); false if it is missing or does not fit. */
bool httpd_form_field(const char *body, const char *field, char *out,
                      size_t len);

/* Replies of 400 and up, so far. Cannot fail. */
long httpd_errors(void);

/* Waits until libmicrohttpd has finished with every request the server
 * took up: a reply can reach the client a moment before the server has
 * freed what the request used. Then a row, or a snapshot, sees the
 * server at rest. Exits 1 if that takes over 10 s. */
void httpd_settle(void);

/* --serve, before any thread starts: blocks SIGINT, SIGTERM and SIGUSR2
 * (httpd_serve takes them) and asks for SIGTERM when the parent dies.
 * Cannot fail. */
void httpd_serve_signals(void);

/* --serve: until SIGINT or SIGTERM, a row a second, its columns from
 * counts (requests, sessions, errors); SIGUSR2 takes a snapshot: under
 * Valgrind memcheck, what grew since the last one, site by site, in
 * Valgrind's log; elsewhere, one line of the probe's numbers. Returns on
 * SIGINT or SIGTERM; cannot fail. */
void httpd_serve(void (*counts)(int64_t extra[3]));

#endif
