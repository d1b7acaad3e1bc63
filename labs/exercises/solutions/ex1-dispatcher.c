/*
 * Exercise 1, the reference fix: an event dispatcher (lab 1).
 *
 * The starter registered a handler per request and never unregistered
 * it. Each handler captured its whole request, body and all, and the bus
 * held every handler, so every request ever served stayed in memory: rss
 * grew by the size of a request, each request. (And every emit called
 * every handler so far, the time growing too.)
 *
 * The fix, two lines in main(): once "done" has been emitted, the handler
 * has done its one job, so unregister it (off) and free the request it
 * captured. The bus holds one handler at a time, the heap reuses the
 * same blocks, and rss stays flat.
 *
 * The other fix that passes: capture less. A handler that copies the id,
 * method, path and length into a small struct, and frees the request at
 * once, keeps 100 bytes per request instead of 30 KiB: under the budget,
 * though the table still grows (lab 1's `narrow`). Unregistering is the
 * real fix: a handler that has done its job has no reason to stay.
 *
 * Everything else is the starter, unchanged: diff the two files.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"      /* the lab library, in harness/: lab_parse, exits */
#include "probe.h"    /* memory at every row, the TSV */

/* ------------------------------------------------------------------------
 * What the runner and the charts need to know (nothing to change here)
 * --------------------------------------------------------------------- */

static const struct lab_mode modes[] = {
    {.name = "dispatch", .cap_kind = "rlimit", .cap = "256M",
     .caption = "One access-log line per request, from an event handler",
     .expect = "finished"},
    {0},
};

static const struct lab_info lab = {
    .number = 1,
    .title = "exercise 1, an event dispatcher",
    .takeaway = "Serves every request in REQUESTS, logs each one to LOG",
    .showcase = "dispatch",
    .modes = modes,
    .x_label = "request",
    .once = true,                 /* one pass over REQUESTS: a row each */
    .positional = "REQUESTS LOG",
    .min_positional = 2,
    .max_positional = 2,
    .notes = "Reads REQUESTS (a line each: ID METHOD PATH BODY), writes "
             "LOG (a line each:\nID METHOD PATH STATUS BYTES). A TSV row "
             "per request. make check EX=1 judges it.",
};

/* ------------------------------------------------------------------------
 * The event bus: handlers are closures, code plus what it captured
 * --------------------------------------------------------------------- */

/* What the bus tells its handlers. */
struct event {
    long id;                  /* the request the event is about */
    int status;               /* the status it was served with */
};

/* A handler: a function, and the environment it captured (lab 1). */
struct handler {
    void (*fn)(void *env, const struct event *ev);  /* the code */
    void *env;                                      /* what it captured */
};

static struct handler *handlers;  /* every handler registered, in order */
static size_t nhandlers;          /* how many */
static size_t handlers_cap;       /* slots allocated */

/* on(): registers fn, with env, for every event from now on. Exits 3 if
 * the table cannot grow. */
static void on(void (*fn)(void *, const struct event *), void *env)
{
    if (nhandlers == handlers_cap) {
        size_t cap = handlers_cap ? 2 * handlers_cap : 16;
        struct handler *grown = realloc(handlers, cap * sizeof *grown);
        if (grown == NULL)
            lab_wall("realloc of the handler table to %zu slots failed", cap);
        handlers = grown;
        handlers_cap = cap;
    }
    handlers[nhandlers++] = (struct handler){fn, env};
}

/* off(): unregisters the handler that captured env, if there is one.
 * The order of the others is kept. */
static inline void off(const void *env)
{
    for (size_t i = 0; i < nhandlers; i++)
        if (handlers[i].env == env) {
            memmove(&handlers[i], &handlers[i + 1],
                    (nhandlers - i - 1) * sizeof *handlers);
            nhandlers--;
            return;
        }
}

/* emit(): calls every handler registered, in order, with ev. */
static void emit(const struct event *ev)
{
    for (size_t i = 0; i < nhandlers; i++)
        handlers[i].fn(handlers[i].env, ev);
}

/* ------------------------------------------------------------------------
 * Requests
 * --------------------------------------------------------------------- */

/* One request, as it came in. */
struct request {
    long id;                  /* its number, from the client */
    char method[8];           /* GET, POST */
    char path[64];            /* /api/items, ... */
    size_t body_len;          /* bytes in body */
    char *body;               /* the bulk: headers, cookies, payload */
};

static const char *requests_path, *log_path;  /* as given, for messages */

/* Reads the next request from in, using *line (grown by getline) as its
 * buffer. Returns a request on the heap, or NULL at the end of the file.
 * Exits 1 naming REQUESTS on a read error or a malformed line, 3 if
 * malloc fails. */
static struct request *read_request(FILE *in, char **line, size_t *cap)
{
    ssize_t n = getline(line, cap, in);
    if (n < 0) {
        if (ferror(in))
            lab_fail(requests_path);
        return NULL;
    }
    if (n > 0 && (*line)[n - 1] == '\n')
        (*line)[--n] = '\0';

    struct request *req = malloc(sizeof *req);
    if (req == NULL)
        lab_wall("malloc(%zu) for a request returned NULL", sizeof *req);
    int body_at = 0;
    if (sscanf(*line, "%ld %7s %63s %n", &req->id, req->method, req->path,
               &body_at) != 3 || body_at == 0) {
        fprintf(stderr, "%s: %s: not a request: '%.40s'\n", lab_progname(),
                requests_path, *line);
        exit(EXIT_ERROR);
    }
    req->body_len = (size_t)n - (size_t)body_at;
    req->body = malloc(req->body_len + 1);
    if (req->body == NULL)
        lab_wall("malloc(%zu) for request %ld's body returned NULL",
                 req->body_len + 1, req->id);
    memcpy(req->body, *line + body_at, req->body_len + 1);
    return req;
}

/* Frees a request and its body. */
static void free_request(struct request *req)
{
    free(req->body);
    free(req);
}

/* The routes this server knows, and the status each one answers. */
static const struct {
    const char *method;       /* GET, POST */
    const char *path;         /* exact path */
    int status;               /* what it answers */
} routes[] = {
    {"GET", "/", 200},          {"GET", "/health", 200},
    {"GET", "/api/items", 200}, {"POST", "/api/items", 201},
    {"POST", "/upload", 201},   {"POST", "/login", 200},
};

/* Serves a request: the status its route answers, 404 for no route. */
static int serve(const struct request *req)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(routes[i].method, req->method) == 0 &&
            strcmp(routes[i].path, req->path) == 0)
            return routes[i].status;
    return 404;
}

/* ------------------------------------------------------------------------
 * The access log, written by a handler per request
 * --------------------------------------------------------------------- */

static FILE *access_log;      /* LOG */

/* The handler each request registers: when its own request is done, it
 * writes the access-log line. Events about other requests pass it by. */
static void log_when_done(void *env, const struct event *ev)
{
    const struct request *req = env;
    if (ev->id != req->id)
        return;
    fprintf(access_log, "%ld %s %s %d %zu\n", req->id, req->method,
            req->path, ev->status, req->body_len);
}

/* At shutdown: unregisters every handler still on the bus and frees the
 * request it captured, so that the server exits clean. */
static void shut_down(void)
{
    for (size_t i = 0; i < nhandlers; i++)
        free_request(handlers[i].env);
    free(handlers);
    handlers = NULL;
    nhandlers = handlers_cap = 0;
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    requests_path = a.positional[0];
    log_path = a.positional[1];

    FILE *in = fopen(requests_path, "r");
    if (in == NULL)
        lab_fail(requests_path);
    access_log = fopen(log_path, "w");
    if (access_log == NULL)
        lab_fail(log_path);

    probe_start(&lab, &a, argc, argv);
    probe_sample(0, NULL);
    char *line = NULL;
    size_t line_cap = 0;
    long served = 0;
    struct request *req;
    while ((req = read_request(in, &line, &line_cap)) != NULL) {
        on(log_when_done, req);            /* log it once it is served */
        struct event done = {.id = req->id, .status = serve(req)};
        emit(&done);
        off(req);                          /* its one job is done: */
        free_request(req);                 /* the fix, these two lines */
        probe_sample(++served, NULL);      /* a row per request */
    }
    probe_finish();

    shut_down();
    free(line);
    fclose(in);
    bool write_failed = ferror(access_log);
    if (fclose(access_log) != 0 || write_failed)
        lab_fail(log_path);
    if (!a.quiet)
        printf("%ld requests served, logged to %s\n", served, log_path);
    return EXIT_DONE;
}
