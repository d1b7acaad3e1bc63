/*
 * Lab 7: a leak in a running server.
 *
 * The lesson: a server leaks in one of four ways, and the way it leaks
 * says how to find it. A leak on a path that runs all the time shows up
 * in any test; one on a rare path, one that happens once, and one that is
 * cleaned up at exit each hide from a different tool. What finds all four
 * is the record taken while the server runs: memory per batch of traffic,
 * and heap snapshots compared site by site (leaklab hunt).
 *
 * The seed: the lecture 内存泄漏 ("Memory leaks") sorts leaks into four
 * classes (frequent, occasional, one-time, hidden), then hunts one in a
 * Koa service: a session middleware keeps every user who ever logged in,
 * in a module-level object that nothing empties. It takes heap snapshots
 * on a timer, compares two of them in DevTools by Delta and Size Delta,
 * and follows the biggest growth to that object. It ends by hardening its
 * router against ".." in paths. LESSONS.md, "Lab 7: a leak in a running
 * server", has the story.
 *
 * The server is real: libmicrohttpd (Debian's libmicrohttpd-dev) parses
 * HTTP in a thread of its own, on 127.0.0.1 only. Its routes:
 *   POST /login      body "user=NAME&pass=PASSWORD": a session, and its id
 *                    in a cookie (sid); a wrong password gets 403
 *   GET  /page       with the cookie: "hello NAME", as the seed's session
 *                    check does; no session, 401
 *   POST /logout     with the cookie: the session ends
 *   GET  /static/P   the file P under --root, never a byte from outside it
 * Every session carries a --size payload (its profile: cart, preferences,
 * tokens), written in full so that it is resident.
 *
 * The load is real too: the main thread is the client, with libcurl
 * (libcurl4-openssl-dev), over loopback. An iteration is one batch of
 * --requests requests: 3 in 10 log a new user in, 1 in 10 logs the
 * newest session out, and each of the rest is a page view or, about one
 * request in ten overall, a failed login (drawn from --seed). A batch
 * ends when its last reply is in, and only then is its row taken, with
 * three columns: requests (sent so far), sessions (in the server's table
 * now) and errors (replies of 400 and up so far). After the last batch
 * the client closes, the server stops, and the lab exits.
 *
 * Modes, one per class of leak, named as the lecture names them:
 *   frequent    every login stays in the session table for ever, as the
 *               seed's loginUsers does: logout only marks it. A line up.
 *   occasional  a failed login returns on its error path without freeing
 *               the session it made for it: a staircase, one step per
 *               failed login. Valgrind: "definitely lost".
 *   once        a route table built at start-up and never freed: one step,
 *               then flat. Valgrind reports it at exit; it is harmless.
 *   hidden      sessions end properly, but each one logged out is
 *               copied to an audit list that is freed only at shutdown:
 *               a line up while it runs, and not one byte lost at exit.
 *   fixed       sessions end at logout, or --ttl batches after login, and
 *               are freed: flat once the first --ttl batches have passed.
 *   mystery     one of the four leaks, picked by --seed, unnamed: hunt it
 *               (--reveal tells which it was).
 *
 * --serve runs the server alone, until Ctrl-C, for curl and for tools
 * attached by hand; its first line is "listening on http://127.0.0.1:P/".
 * There, a row is taken every second, and its requests and errors are
 * the server's own counts; SIGUSR2 takes a snapshot (under memcheck,
 * what grew since the last one, site by site).
 *
 * Run it:  make lab7     or   build/leaklab run 7 --mode frequent
 *          build/leaklab hunt 7 --mode frequent    (the snapshots)
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#define VALGRIND_MONITOR_COMMAND(command) ((void)(command), 1)
#endif

#include "../harness/lab.h"
#include "../harness/probe.h"

/* Each mode is a constant in `enum mode`, an entry in modes[] and a case
 * in every `switch` on it, none with a `default:`: the compiler keeps the
 * three in step (-Wswitch), and the _Static_assert refuses an entry past
 * the end. A new mode goes last, before MODE_COUNT. */
enum mode { FREQUENT, OCCASIONAL, ONCE, HIDDEN, FIXED, MYSTERY };
enum { MODE_COUNT = MYSTERY + 1 };

static const struct lab_mode modes[] = {
    [FREQUENT] = {
        .name = "frequent", .cap_kind = "rlimit",
        .caption = "Every login stays in the session table: memory climbs "
                   "with every batch",
        .expect = "finished",
    },
    [OCCASIONAL] = {
        .name = "occasional", .cap_kind = "rlimit",
        .caption = "A failed login's error path skips the free: a step per "
                   "failed login",
        .expect = "finished",
    },
    [ONCE] = {
        .name = "once", .cap_kind = "rlimit",
        .caption = "A route table built at start-up, never freed: one step, "
                   "then flat",
        .expect = "finished",
    },
    [HIDDEN] = {
        .name = "hidden", .cap_kind = "rlimit",
        .caption = "Logged-out sessions copied to a list freed at shutdown: "
                   "grows, yet 0 bytes lost at exit",
        .expect = "finished",
    },
    [FIXED] = {
        .name = "fixed", .cap_kind = "rlimit",
        .caption = "Sessions end at logout or after --ttl batches, and are "
                   "freed: flat",
        .expect = "finished",
    },
    [MYSTERY] = {
        .name = "mystery", .cap_kind = "rlimit",
        .caption = "One of the four leaks, picked by --seed: hunt it, then "
                   "--reveal",
        .expect = "finished",
    },
    [MODE_COUNT] = {0},   /* the end: MODE_COUNT is the last mode + 1 */
};
_Static_assert(sizeof modes / sizeof modes[0] == MODE_COUNT + 1,
               "modes[]: one entry per enum mode, then [MODE_COUNT] = {0}");

static const struct lab_option options[] = {
    {"requests", "N", "requests per batch, one batch an iteration "
                      "(default 10)"},
    {"ttl", "N", "a session ends N batches after login, but in frequent "
                 "(default 5)"},
    {"seed", "N", "seeds the traffic, and the mystery (default 1)"},
    {"port", "N", "the port on 127.0.0.1; 0 picks a free one (default 0)"},
    {"root", "DIR", "GET /static/P serves DIR/P (default: no files)"},
    {"bad", "N", "add N malformed requests to each batch (default 0)"},
    {"serve", NULL, "serve until Ctrl-C, with no client; a row a second"},
    {"reveal", NULL, "mystery: say which leak --seed picks, and exit"},
    {0},
};

static long requests_per_batch = 10;   /* --requests */
static long ttl_batches = 5;           /* --ttl */
static long seed = 1;                  /* --seed */
static long port;                      /* --port */
static const char *root_dir;           /* --root, or NULL */
static long bad_per_batch;             /* --bad */
static bool serve_only;                /* --serve */
static bool reveal;                    /* --reveal */

/* Returns false for a value out of range. */
static bool on_option(const char *name, const char *arg)
{
    if (strcmp(name, "requests") == 0)
        return parse_long(arg, 1, 100000, &requests_per_batch);
    if (strcmp(name, "ttl") == 0)
        return parse_long(arg, 1, 100000, &ttl_batches);
    if (strcmp(name, "seed") == 0)
        return parse_long(arg, 0, INT_MAX, &seed);
    if (strcmp(name, "port") == 0)
        return parse_long(arg, 0, 65535, &port);
    if (strcmp(name, "root") == 0)
        return (root_dir = arg)[0] != '\0';
    if (strcmp(name, "bad") == 0)
        return parse_long(arg, 0, 1000, &bad_per_batch);
    if (strcmp(name, "serve") == 0)
        return serve_only = true;
    return reveal = true;
}

static const struct lab_info lab = {
    .number = 7,
    .title = "a leak in a running server",
    .takeaway = "Four classes of leak, and the record taken while the "
                "server runs finds them all",
    .showcase = "frequent",
    .claim = "Find a leak while the server runs",
    .recap_leak = "a session table that only grows",
    .recap_fix = "end sessions, free on every path",
    .recap_tool = "snapshots compared: leaklab hunt",
    .modes = modes,
    .default_size = 512 << 10,  /* 512 KiB of profile per session */
    .default_iterations = 40,   /* batches */
    .extra_columns = "requests\tsessions\terrors",
    .y2_columns = "sessions",
    .x_label = "batch of requests",
    .options = options,
    .on_option = on_option,
    .notes = "An iteration is one batch of --requests requests over "
             "loopback; --size is each\nsession's payload. --port, --root, "
             "--bad and --serve are for driving it by hand\n(LESSONS.md, "
             "Lab 7).",
};

/* ------------------------------------------------------------------------
 * The leak each mode has, and the mystery's pick
 * --------------------------------------------------------------------- */

/* The class mystery stands for with --seed s: the same for the same s. */
static enum mode mystery_pick(long s)
{
    static const enum mode classes[] = {FREQUENT, OCCASIONAL, ONCE, HIDDEN};
    unsigned long h = (unsigned long)s * 2654435761UL;   /* spread nearby */
    return classes[(h >> 7) % 4];
}

/* Where each class's memory is allocated: what a hunt should name. */
static const char *leak_site(enum mode m)
{
    switch (m) {
    case FREQUENT:   return "session_new";
    case OCCASIONAL: return "session_new";
    case ONCE:       return "build_route_table";
    case HIDDEN:     return "audit_append";
    case FIXED:      return "(none)";
    case MYSTERY:    break;
    }
    abort();   /* mystery is resolved to its class before anything asks */
}

/* ------------------------------------------------------------------------
 * The session store: the seed's loginUsers, in C
 *
 * A session is one block: the struct and its --size profile. The table
 * is a fixed array of hash buckets (allocated by nobody: it is static),
 * and a list in login order, oldest first, which expiry walks. The
 * server's thread writes it and the client's thread reads its counts,
 * so all of it is under one mutex.
 * --------------------------------------------------------------------- */

#define SID_LEN 32          /* hex digits in a session id */
#define USER_MAX 32         /* longest user name */
#define NBUCKETS 4096       /* hash buckets: chains stay short */
#define PASSWORD "open-sesame"   /* every user's password, in this lab */

struct session {
    char id[SID_LEN + 1];         /* the cookie's value */
    char user[USER_MAX + 1];      /* who logged in */
    long born;                    /* store.clock when it was made */
    bool logged_in;               /* frequent: false after logout, kept */
    struct session *chain;        /* next in its hash bucket */
    struct session *older;        /* login order: the one made before, */
    struct session *newer;        /* and the one made after */
    size_t len;                   /* bytes in profile */
    unsigned char profile[];      /* the payload a session carries */
};

/* hidden's audit list: a copy of every session that ended. */
struct audit {
    struct audit *next;           /* the one that ended before */
    char user[USER_MAX + 1];      /* whose session */
    long ended;                   /* store.clock when it ended */
    size_t len;                   /* bytes in copy */
    unsigned char copy[];         /* the session's profile, as it was */
};

static struct {
    pthread_mutex_t lock;                 /* all of the store */
    enum mode leak;                       /* the mode's class of leak */
    size_t profile_size;                  /* --size */
    long ttl;                             /* requests a session lives */
    struct session *bucket[NBUCKETS];     /* hash table on the id */
    struct session *oldest, *newest;      /* login order */
    long live;                            /* sessions in the table */
    long clock;                           /* requests handled: the TTL's */
    long errors;                          /* replies of 400 and up */
    long started, completed;              /* requests our handler took up,
                                             and those libmicrohttpd has
                                             finished with */
    pthread_cond_t idle;                  /* completed caught up */
    struct audit *audit;                  /* hidden: newest first */
    size_t held;                          /* bytes held, for messages */
} store = {.lock = PTHREAD_MUTEX_INITIALIZER,
           .idle = PTHREAD_COND_INITIALIZER};

/* The bucket an id hashes to (its first 8 hex digits, which are random). */
static size_t bucket_of(const char *id)
{
    return (size_t)strtoul((char[9]){id[0], id[1], id[2], id[3], id[4],
                                     id[5], id[6], id[7], 0}, NULL, 16) %
           NBUCKETS;
}

/* A new session for user, not yet in the table, with a fresh random id
 * and its profile written in full. Returns NULL if malloc does (the
 * caller answers 503) or the kernel has no randomness for the id. */
static struct session *session_new(const char *user)
{
    struct session *s = malloc(sizeof *s + store.profile_size);
    if (s == NULL)
        return NULL;
    unsigned char raw[SID_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(s->id + 2 * i, 3, "%02x", raw[i]);
    snprintf(s->user, sizeof s->user, "%s", user);
    s->logged_in = true;
    s->chain = s->older = s->newer = NULL;
    s->len = store.profile_size;
    memset(s->profile, (int)(raw[0] | 1), s->len);
    return s;
}

/* Puts s in the table, newest in login order. Lock held. */
static void store_add(struct session *s)
{
    size_t b = bucket_of(s->id);
    s->chain = store.bucket[b];
    store.bucket[b] = s;
    s->born = store.clock;
    s->older = store.newest;
    if (store.newest)
        store.newest->newer = s;
    else
        store.oldest = s;
    store.newest = s;
    store.live++;
    store.held += sizeof *s + s->len;
}

/* The session with this id, or NULL. Lock held. */
static struct session *store_find(const char *id)
{
    for (struct session *s = store.bucket[bucket_of(id)]; s; s = s->chain)
        if (strcmp(s->id, id) == 0)
            return s;
    return NULL;
}

/* hidden: keeps a copy of a logged-out session's profile on the audit
 * list, "for later". Nothing reads it; shutdown frees it. Lock held. A
 * failed malloc keeps nothing. */
static void audit_append(const struct session *s)
{
    struct audit *a = malloc(sizeof *a + s->len);
    if (a == NULL)
        return;
    memcpy(a->user, s->user, sizeof a->user);
    a->ended = store.clock;
    a->len = s->len;
    memcpy(a->copy, s->profile, s->len);
    a->next = store.audit;
    store.audit = a;
    store.held += sizeof *a + a->len;
}

/* Takes s out of the table and frees it. Lock held. */
static void session_end(struct session *s)
{
    struct session **p = &store.bucket[bucket_of(s->id)];
    while (*p != s)
        p = &(*p)->chain;
    *p = s->chain;
    if (s->older)
        s->older->newer = s->newer;
    else
        store.oldest = s->newer;
    if (s->newer)
        s->newer->older = s->older;
    else
        store.newest = s->older;
    store.live--;
    store.held -= sizeof *s + s->len;
    free(s);
}

/* Ends the sessions older than the TTL, oldest first. frequent ends
 * nothing, ever: that is its leak. Lock held. */
static void store_expire(void)
{
    if (store.leak == FREQUENT)
        return;
    while (store.oldest && store.clock - store.oldest->born >= store.ttl)
        session_end(store.oldest);
}

/* At shutdown: every mode but frequent frees its table (frequent leaves
 * it, still reachable, as a process that never cleans up does), and
 * hidden frees its audit list, which is why Valgrind finds nothing. */
static void store_free(void)
{
    if (store.leak == FREQUENT)
        return;
    while (store.oldest)
        session_end(store.oldest);
    while (store.audit) {
        struct audit *next = store.audit->next;
        free(store.audit);
        store.audit = next;
    }
}

/* ------------------------------------------------------------------------
 * once: the route table
 * --------------------------------------------------------------------- */

#define ROUTES 1024            /* entries in the route table */
#define ROUTE_PAGE (16 << 10)  /* a pre-rendered page per route */

/* One route, with its page rendered ahead of time. */
struct route {
    char path[64];                /* "/route/N" */
    char page[ROUTE_PAGE];        /* what it would serve */
};

/* once: builds the route table, 16 MiB in one block, as a framework does
 * at start-up. Nothing frees it, and nothing uses it after this: the
 * lecture's module loaded once and kept by the module cache. Exits 3 if
 * malloc returns NULL. */
static struct route *build_route_table(void)
{
    struct route *table = malloc(ROUTES * sizeof *table);
    if (table == NULL)
        lab_wall("malloc(%zu) for the route table returned NULL",
                 ROUTES * sizeof *table);
    for (int i = 0; i < ROUTES; i++) {
        snprintf(table[i].path, sizeof table[i].path, "/route/%d", i);
        memset(table[i].page, 'a' + i % 26, sizeof table[i].page);
    }
    return table;
}

/* ------------------------------------------------------------------------
 * The router: /static/P, beneath --root and nowhere else
 *
 * libmicrohttpd has decoded the path once (%2e%2e is "..", %2f is "/")
 * and refused a %00 (unescape, below). The route then refuses any path
 * that is not a plain relative path: an empty segment, ".", "..", a
 * backslash or a control character anywhere. What is left is opened
 * beneath the root with openat2(RESOLVE_BENEATH), which refuses any
 * resolution that leaves the root, a symbolic link leading out
 * included, in the kernel. Where openat2 is missing (a kernel before
 * 5.6, or Valgrind, which does not know the call), realpath() resolves
 * every link and the result must still lie beneath the root's own
 * realpath; that check and the open are two steps, so a link swapped in
 * between could still win: openat2 has no such gap.
 * --------------------------------------------------------------------- */

static int root_fd = -1;                /* --root, O_PATH */
static char root_real[PATH_MAX];        /* its realpath */

/* Is rel (after /static/) a plain relative path: segments of printable
 * bytes without backslashes, none empty, "." or ".."? */
static bool plain_path(const char *rel)
{
    if (*rel == '\0')
        return false;
    for (const char *seg = rel; seg; ) {
        const char *slash = strchr(seg, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
        if (len == 0 || (len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f ||
                seg[i] == '\\')
                return false;
        seg = slash ? slash + 1 : NULL;
    }
    return true;
}

/* The realpath route, for when openat2 is missing: resolves root/rel and
 * opens it only if it lies beneath the root. Returns the fd, or -1 with
 * errno (EXDEV for a path that leads out). */
static int open_beneath_realpath(const char *rel)
{
    char joined[PATH_MAX * 2], real[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", root_real, rel) >=
        sizeof joined) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (realpath(joined, real) == NULL)
        return -1;
    size_t n = strlen(root_real);
    if (strncmp(real, root_real, n) != 0 || real[n] != '/') {
        errno = EXDEV;
        return -1;
    }
    return open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Opens rel beneath the root. Returns the fd, or -1 with errno: EXDEV
 * (or ELOOP) for a path that would leave it. $LEAKLAB_NO_OPENAT2 takes
 * the realpath route, so that the tests can check both. */
static int open_beneath(const char *rel)
{
#ifdef RESOLVE_BENEATH
    if (!RUNNING_ON_VALGRIND && getenv("LEAKLAB_NO_OPENAT2") == NULL) {
        struct open_how how = {
            .flags = O_RDONLY | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
    }
#endif
    return open_beneath_realpath(rel);
}

/* ------------------------------------------------------------------------
 * The server: libmicrohttpd calls on_request for every request, in its
 * own thread
 * --------------------------------------------------------------------- */

#define MAX_BODY 1024          /* the largest body a route accepts */

/* What a POST collects while its body arrives. */
struct upload {
    size_t len;                   /* bytes in body */
    bool too_large;               /* more than MAX_BODY arrived */
    char body[MAX_BODY + 1];      /* NUL-terminated */
};

/* A GET or any request without a body needs no state: this marks it. */
static int no_upload;

/* Sends status with text as its body, and sid as a cookie if not NULL.
 * Counts a status of 400 and up. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *text, const char *sid)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; charset=utf-8");
    if (sid) {
        char cookie[SID_LEN + 40];
        snprintf(cookie, sizeof cookie, "sid=%s; Path=/; HttpOnly", sid);
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    }
    if (status >= 400) {
        pthread_mutex_lock(&store.lock);
        store.errors++;
        pthread_mutex_unlock(&store.lock);
    }
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* The value of field in a form body "a=1&b=2", copied to out (len
 * bytes); false if it is missing or does not fit. */
static bool form_field(const char *body, const char *field, char *out,
                       size_t len)
{
    size_t n = strlen(field);
    for (const char *p = body; p; p = strchr(p, '&') ? strchr(p, '&') + 1
                                                     : NULL) {
        if (strncmp(p, field, n) == 0 && p[n] == '=') {
            size_t v = strcspn(p + n + 1, "&");
            if (v >= len)
                return false;
            memcpy(out, p + n + 1, v);
            out[v] = '\0';
            return true;
        }
    }
    return false;
}

/* A user name: 1 to USER_MAX letters, digits, '.', '_' or '-'. */
static bool good_user(const char *u)
{
    size_t n = strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                         "WXYZ0123456789._-");
    return n > 0 && u[n] == '\0';
}

/* POST /login. The session, profile and all, is made first (as many
 * handlers load the user before checking the password); a wrong password
 * must then free it, and occasional's error path forgets to. */
static enum MHD_Result handle_login(struct MHD_Connection *c,
                                    const char *body)
{
    char user[USER_MAX + 1], pass[64];
    if (!form_field(body, "user", user, sizeof user) || !good_user(user) ||
        !form_field(body, "pass", pass, sizeof pass))
        return reply(c, MHD_HTTP_BAD_REQUEST, "want user=NAME&pass=...\n",
                     NULL);
    struct session *s = session_new(user);
    if (s == NULL)
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n",
                     NULL);
    if (strcmp(pass, PASSWORD) != 0) {
        if (store.leak != OCCASIONAL)   /* read-only after start-up */
            free(s);
        /* occasional: the error path returns here without the free, and
         * s, profile and all, has no pointer left anywhere. */
        return reply(c, MHD_HTTP_FORBIDDEN, "wrong password\n", NULL);
    }
    char sid[SID_LEN + 1];
    memcpy(sid, s->id, sizeof sid);
    pthread_mutex_lock(&store.lock);
    store_add(s);
    pthread_mutex_unlock(&store.lock);
    return reply(c, MHD_HTTP_OK, "welcome\n", sid);
}

/* The session id in the request's cookie, checked: NULL, with *status
 * set to 401 (no cookie) or 400 (not 32 lowercase hex digits). */
static const char *cookie_sid(struct MHD_Connection *c, unsigned *status)
{
    const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sid");
    if (sid == NULL) {
        *status = MHD_HTTP_UNAUTHORIZED;
        return NULL;
    }
    if (strlen(sid) != SID_LEN ||
        strspn(sid, "0123456789abcdef") != SID_LEN) {
        *status = MHD_HTTP_BAD_REQUEST;
        return NULL;
    }
    return sid;
}

/* GET /page and POST /logout: the seed's session check, then the page or
 * the end of the session. */
static enum MHD_Result handle_session(struct MHD_Connection *c, bool logout)
{
    unsigned status = 0;
    const char *sid = cookie_sid(c, &status);
    if (sid == NULL)
        return reply(c, status, status == MHD_HTTP_UNAUTHORIZED
                                    ? "log in first\n" : "bad cookie\n",
                     NULL);
    char text[USER_MAX + 16] = "";
    pthread_mutex_lock(&store.lock);
    struct session *s = store_find(sid);
    if (s && s->logged_in) {
        snprintf(text, sizeof text, "%s %s\n", logout ? "bye" : "hello",
                 s->user);
        if (logout && store.leak == FREQUENT) {
            s->logged_in = false;      /* marked, and kept: the leak */
        } else if (logout) {
            if (store.leak == HIDDEN)
                audit_append(s);       /* a copy "for later": the leak */
            session_end(s);
        }
    }
    pthread_mutex_unlock(&store.lock);
    if (text[0] == '\0')
        return reply(c, MHD_HTTP_UNAUTHORIZED, "no such session\n", NULL);
    return reply(c, MHD_HTTP_OK, text, NULL);
}

/* GET /static/REL: the file beneath --root, or 403 for a path that would
 * leave it, 404 for one that is not there or not a regular file. */
static enum MHD_Result handle_static(struct MHD_Connection *c,
                                     const char *rel)
{
    if (!plain_path(rel))
        return reply(c, MHD_HTTP_FORBIDDEN, "not a plain path\n", NULL);
    if (root_fd < 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "no files here\n", NULL);
    int fd = open_beneath(rel);
    if (fd < 0)
        return reply(c, errno == EXDEV || errno == ELOOP
                            ? MHD_HTTP_FORBIDDEN : MHD_HTTP_NOT_FOUND,
                     errno == EXDEV || errno == ELOOP
                            ? "outside the root\n" : "no such file\n", NULL);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return reply(c, MHD_HTTP_NOT_FOUND, "no such file\n", NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)st.st_size,
                                                         fd);
    if (r == NULL) {
        close(fd);
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* libmicrohttpd's access handler: called once when the headers are in
 * (*state still NULL), then with each piece of the body, then once with
 * none left, when we answer. A body past MAX_BODY gets 413 at once. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)cls;
    (void)version;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (*state == NULL) {
        pthread_mutex_lock(&store.lock);
        store.started++;
        pthread_mutex_unlock(&store.lock);
        const char *length = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (post && length && strtoull(length, NULL, 10) > MAX_BODY) {
            *state = &no_upload;        /* refused before it is sent */
            return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n",
                         NULL);
        }
        if (post) {
            struct upload *u = calloc(1, sizeof *u);
            if (u == NULL)
                return MHD_NO;
            *state = u;
        } else {
            *state = &no_upload;
        }
        return MHD_YES;
    }
    struct upload *u = post ? *state : NULL;
    if (u && *data_size > 0) {
        if (u->too_large || *data_size > MAX_BODY - u->len) {
            u->too_large = true;
            *data_size = 0;
            return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n",
                         NULL);
        }
        memcpy(u->body + u->len, data, *data_size);
        u->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    if (u && u->too_large)
        return MHD_YES;                /* answered already */

    pthread_mutex_lock(&store.lock);   /* a request: the TTL's clock */
    store.clock++;
    store_expire();
    pthread_mutex_unlock(&store.lock);

    if (url[0] != '/')                 /* a %00 in the path: see unescape */
        return reply(c, MHD_HTTP_BAD_REQUEST, "bad path\n", NULL);
    if (strcmp(url, "/login") == 0 || strcmp(url, "/logout") == 0) {
        if (!post)
            return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only\n",
                         NULL);
        return url[3] == 'g' && url[4] == 'i' ? handle_login(c, u->body)
                                              : handle_session(c, true);
    }
    if (strcmp(url, "/page") == 0 || strncmp(url, "/static/", 8) == 0) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
            return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n", NULL);
        return url[1] == 'p' ? handle_session(c, false)
                             : handle_static(c, url + 8);
    }
    return reply(c, MHD_HTTP_NOT_FOUND, "no such route\n", NULL);
}

/* Frees what on_request kept for a request, however it ended. */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    if (*state != NULL && *state != &no_upload)
        free(*state);
    *state = NULL;
    pthread_mutex_lock(&store.lock);
    store.completed++;
    pthread_cond_broadcast(&store.idle);
    pthread_mutex_unlock(&store.lock);
}

/* Waits until libmicrohttpd has finished with every request our handler
 * took up: a reply can reach the client a moment before the server has
 * freed what the request used. Then a row, or a snapshot, sees the
 * server at rest. Exits 1 if that takes over 10 s. */
static void server_settle(void)
{
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += 10;
    pthread_mutex_lock(&store.lock);
    int err = 0;
    while (store.completed < store.started && err == 0)
        err = pthread_cond_timedwait(&store.idle, &store.lock, &limit);
    pthread_mutex_unlock(&store.lock);
    if (err != 0) {
        errno = err;
        lab_fail("waiting for the server to finish its requests");
    }
}

/* libmicrohttpd's own decoding of the path, once, with one refusal: a
 * %00 would cut the path short where our checks look at it (a%00/../x
 * would look like "a"). Such a path becomes "", which the router
 * answers with 400. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *uri)
{
    (void)cls;
    (void)c;
    size_t len = MHD_http_unescape(uri);
    if (strlen(uri) != len) {
        uri[0] = '\0';
        return 0;
    }
    return len;
}

/* Listens on 127.0.0.1:port (0: a free one) and starts libmicrohttpd's
 * thread on that socket. Sets *bound to the port. Exits 1 naming the
 * address if it cannot listen, or if libmicrohttpd cannot start. */
static struct MHD_Daemon *server_start(long want, long *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        lab_fail("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)want),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%ld", want);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(fd, 64) < 0)
        lab_fail(where);
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *bound = ntohs(addr.sin_port);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
        on_request, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_CONNECTION_LIMIT, 64u,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_END);
    if (d == NULL) {
        close(fd);
        errno = errno ? errno : EIO;
        lab_fail("libmicrohttpd: MHD_start_daemon");
    }
    return d;
}

/* ------------------------------------------------------------------------
 * The client: libcurl, one handle, one connection kept alive
 * --------------------------------------------------------------------- */

#define RING 64                /* sessions the client remembers */

enum kind { LOGIN, FAILED_LOGIN, PAGE, LOGOUT, BAD };

static struct {
    CURL *curl;                   /* one handle, reused */
    char base[40];                /* "http://127.0.0.1:PORT" */
    char sid[SID_LEN + 1];        /* from the last reply's Set-Cookie */
    char ring[RING][SID_LEN + 1]; /* the client's sessions, a stack whose */
    int top, count;               /* oldest falls off when it is full */
    long users;                   /* user names made so far */
    long requests, errors;        /* sent, and replies of 400 and up */
    unsigned short rng[3];        /* nrand48's state, from --seed */
    enum kind *kinds;             /* one batch's requests, in order */
    long nbad;                    /* malformed requests sent so far */
} client;

/* libcurl hands us the reply's body: we do not need it. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* libcurl hands us each header line: keep a session cookie. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    (void)arg;
    size_t len = size * n;
    static const char want[] = "set-cookie: sid=";
    if (len > sizeof want + SID_LEN - 1 &&
        strncasecmp(line, want, sizeof want - 1) == 0) {
        memcpy(client.sid, line + sizeof want - 1, SID_LEN);
        client.sid[SID_LEN] = '\0';
    }
    return len;
}

/* Sends one request: method and path (taken as is: no "..", squashed),
 * a body for a POST (NULL: none), a cookie (NULL: none), one extra
 * header (NULL: none). Returns the status. Exits 1 if there is no reply
 * (the server died, or 10 s passed). */
static long send_request(const char *method, const char *path,
                         const char *body, size_t body_len,
                         const char *cookie, const char *header)
{
    char url[64 + 65536];
    snprintf(url, sizeof url, "%s%s", client.base, path);
    CURL *h = client.curl;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body_len);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
    struct curl_slist *headers = NULL, *more = NULL;
    if (header) {
        more = curl_slist_append(NULL, header);
        if (more == NULL)
            lab_wall("curl_slist_append returned NULL");
        headers = more;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    client.sid[0] = '\0';
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        fflush(stdout);
        fprintf(stderr, "%s: %s %s%.60s%s: no reply: %s\n", lab_progname(),
                method, client.base, path, strlen(path) > 60 ? "..." : "",
                curl_easy_strerror(rc));
        exit(EXIT_ERROR);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    client.requests++;
    client.errors += status >= 400;
    return status;
}

/* ------------------------------------------------------------------------
 * The load: one batch of requests, then the row
 * --------------------------------------------------------------------- */

/* The malformed requests --bad sends, in turn, and the status each must
 * get: libmicrohttpd itself refuses the oversized ones (431, 414) before
 * our handler sees them; the router refuses the rest. */
static const struct bad_request {
    const char *what;             /* for a message */
    const char *method, *path;    /* the request line */
    int body;                     /* 0 none, 1 64 KiB, 2 a bad form */
    int header;                   /* 0 none, 1 a 40 KiB cookie, 2 a bad
                                     sid, 3 a cookie with no sid */
    long want;                    /* the status it must get */
} battery[] = {
    {"a 64 KiB body", "POST", "/login", 1, 0, 413},
    {"a 40 KiB cookie", "GET", "/page", 0, 1, 431},
    {"a sid that is not hex", "GET", "/page", 0, 2, 400},
    {"a cookie without sid", "GET", "/page", 0, 3, 401},
    {"an unknown route", "GET", "/admin", 0, 0, 404},
    {"a method the route does not take", "DELETE", "/login", 0, 0, 405},
    {"a user name with markup", "POST", "/login", 2, 0, 400},
    {"a path with ..", "GET", "/static/../../etc/passwd", 0, 0, 403},
    {"a path with %2e%2e", "GET", "/static/%2e%2e/%2e%2e/etc/passwd", 0, 0,
     403},
    {"a path with %00", "GET", "/static/a%00/../../etc/passwd", 0, 0, 400},
    {"a 40 KiB URL", "GET", NULL, 0, 0, 414},
    {"a logout with no cookie", "POST", "/logout", 0, 0, 401},
};
#define NBATTERY (sizeof battery / sizeof battery[0])

static char big[64 << 10];   /* the oversized body, header and URL */

/* Sends the next request of the battery; exits 1 if its status is not
 * the one it must get. */
static void send_bad(void)
{
    const struct bad_request *b = &battery[client.nbad++ % NBATTERY];
    char header[(40 << 10) + 16], path[(40 << 10) + 16];
    const char *body = NULL, *hdr = NULL, *p = b->path;
    size_t body_len = 0;
    if (b->body == 1) {
        body = big;
        body_len = sizeof big;
    } else if (b->body == 2) {
        body = "user=<script>&pass=" PASSWORD;
        body_len = strlen(body);
    }
    if (b->header == 1) {
        snprintf(header, sizeof header, "Cookie: sid=%.*s", 40 << 10, big);
        hdr = header;
    } else if (b->header == 2) {
        hdr = "Cookie: sid=not-a-session-id";
    } else if (b->header == 3) {
        hdr = "Cookie: garbage";
    }
    if (p == NULL) {
        snprintf(path, sizeof path, "/page?x=%.*s", 40 << 10, big);
        p = path;
    }
    long status = send_request(b->method, p, body, body_len, NULL, hdr);
    if (status != b->want) {
        fflush(stdout);
        fprintf(stderr, "%s: %s (%s %.40s) got %ld; expected %ld\n",
                lab_progname(), b->what, b->method, p, status, b->want);
        exit(EXIT_ERROR);
    }
}

/* A random number in [0, n), from the seeded stream. */
static long draw(long n)
{
    return nrand48(client.rng) % n;
}

/* Exits 1 (3 for a server out of memory) saying what request got what. */
static noreturn void unexpected(const char *what, long status, long want)
{
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
        pthread_mutex_lock(&store.lock);
        long live = store.live;
        double held = mib(store.held);
        pthread_mutex_unlock(&store.lock);
        lab_wall("the server is out of memory: %s got 503, with %ld "
                 "sessions (%.1f MiB) in its table", what, live, held);
    }
    fflush(stdout);
    fprintf(stderr, "%s: %s got %ld; expected %ld\n", lab_progname(), what,
            status, want);
    exit(EXIT_ERROR);
}

/* Logs a new user in (with the right password, or not). */
static void send_login(bool right)
{
    char body[96], sid[SID_LEN + 1];
    snprintf(body, sizeof body, "user=user%ld&pass=%s", ++client.users,
             right ? PASSWORD : "guess");
    long status = send_request("POST", "/login", body, strlen(body), NULL,
                               NULL);
    if (!right) {
        if (status != MHD_HTTP_FORBIDDEN)
            unexpected("a wrong password", status, MHD_HTTP_FORBIDDEN);
        return;
    }
    if (status != MHD_HTTP_OK || client.sid[0] == '\0')
        unexpected("a login", status, MHD_HTTP_OK);
    memcpy(sid, client.sid, sizeof sid);
    client.top = (client.top + 1) % RING;
    memcpy(client.ring[client.top], sid, sizeof sid);
    if (client.count < RING)
        client.count++;
}

/* Views the page with one of the client's sessions (none yet: no
 * cookie). An expired one gets 401, as it should. */
static void send_page(void)
{
    char cookie[SID_LEN + 8] = "";
    if (client.count > 0) {
        long k = (client.top - draw(client.count) + RING) % RING;
        snprintf(cookie, sizeof cookie, "sid=%s", client.ring[k]);
    }
    long status = send_request("GET", "/page", NULL, 0,
                               cookie[0] ? cookie : NULL, NULL);
    if (status != MHD_HTTP_OK && status != MHD_HTTP_UNAUTHORIZED)
        unexpected("a page view", status, MHD_HTTP_OK);
}

/* Logs the client's newest session out. */
static void send_logout(void)
{
    char cookie[SID_LEN + 8] = "";
    if (client.count > 0) {
        snprintf(cookie, sizeof cookie, "sid=%s", client.ring[client.top]);
        client.top = (client.top - 1 + RING) % RING;
        client.count--;
    }
    long status = send_request("POST", "/logout", "", 0,
                               cookie[0] ? cookie : NULL, NULL);
    if (status != MHD_HTTP_OK && status != MHD_HTTP_UNAUTHORIZED)
        unexpected("a logout", status, MHD_HTTP_OK);
}

/* The handle's standing options: no proxy whatever the environment
 * says, a 10 s bound on every request, paths sent as typed, and our two
 * callbacks. */
static void client_options(void)
{
    CURL *h = client.curl;
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
}

/* One batch: 3 in 10 requests log in, 1 in 10 logs out, each of the rest
 * is a page view or, 1 time in 6, a failed login; in an order drawn from
 * --seed, except for two rules that make the end of every batch alike:
 * each logout comes after a login of its own batch (so that it ends a
 * session this batch made, and the table's size is exact), and the last
 * request is a page view (libcurl keeps what the last request left, its
 * URL and headers, until the next one: the same, whatever the batch).
 * The --bad malformed requests go just before that last one. */
static void run_batch(void)
{
    long n = requests_per_batch;
    long logins = n * 3 / 10 > 0 ? n * 3 / 10 : 1, logouts = n / 10;
    for (long i = 0; i < n; i++)
        client.kinds[i] = i < logins              ? LOGIN
                        : i < logins + logouts    ? LOGOUT
                        : draw(6) == 0            ? FAILED_LOGIN
                                                  : PAGE;
    for (long i = n - 1; i > 0; i--) {          /* Fisher-Yates */
        long j = draw(i + 1);
        enum kind t = client.kinds[i];
        client.kinds[i] = client.kinds[j];
        client.kinds[j] = t;
    }
    for (long j = n - 1; j >= 0; j--)           /* a page view last */
        if (client.kinds[j] == PAGE) {
            client.kinds[j] = client.kinds[n - 1];
            client.kinds[n - 1] = PAGE;
            break;
        }
    for (long i = 0, in = 0, out = 0; i < n; i++) {
        if (client.kinds[i] == LOGIN)
            in++;
        if (client.kinds[i] != LOGOUT || out++ < in)
            continue;
        long j = i + 1;                         /* a login comes first */
        while (client.kinds[j] != LOGIN)
            j++;
        client.kinds[j] = LOGOUT;
        client.kinds[i] = LOGIN;
        in++;
        out--;
    }
    for (long i = 0; i < n; i++) {
        if (i == n - 1)
            for (long b = 0; b < bad_per_batch; b++)
                send_bad();
        switch (client.kinds[i]) {
        case LOGIN:        send_login(true); break;
        case FAILED_LOGIN: send_login(false); break;
        case PAGE:         send_page(); break;
        case LOGOUT:       send_logout(); break;
        case BAD:          send_bad(); break;
        }
    }
}

/* Sets up libcurl for http://127.0.0.1:port, with no proxy whatever the
 * environment says. Exits 1 if libcurl cannot start, 3 if malloc fails. */
static void client_start(long bound)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_NOTHING);
    if (rc != CURLE_OK || (client.curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "%s: libcurl: %s\n", lab_progname(),
                curl_easy_strerror(rc ? rc : CURLE_FAILED_INIT));
        exit(EXIT_ERROR);
    }
    client.kinds = malloc((size_t)requests_per_batch * sizeof *client.kinds);
    if (client.kinds == NULL)
        lab_wall("malloc for a batch of %ld requests returned NULL",
                 requests_per_batch);
    snprintf(client.base, sizeof client.base, "http://127.0.0.1:%ld", bound);
    client.rng[0] = 0x330e;                    /* srand48's layout */
    client.rng[1] = (unsigned short)seed;
    client.rng[2] = (unsigned short)(seed >> 16);
    client_options();
    memset(big, 'a', sizeof big);
}

/* Closes the client. */
static void client_stop(void)
{
    curl_easy_cleanup(client.curl);
    curl_global_cleanup();
    free(client.kinds);
}

/* ------------------------------------------------------------------------
 * --serve: the server alone, a row a second, until Ctrl-C
 * --------------------------------------------------------------------- */

/* The row's counts, read under the lock: requests, sessions, errors. */
static void counts(int64_t extra[3], bool server_side)
{
    pthread_mutex_lock(&store.lock);
    extra[0] = server_side ? store.clock : client.requests;
    extra[1] = store.live;
    extra[2] = server_side ? store.errors : client.errors;
    pthread_mutex_unlock(&store.lock);
}

/* SIGUSR2 in --serve: a snapshot taken on demand, as a production
 * server's is (the lecture's are timed for the small hours). Under
 * Valgrind memcheck, what grew since the last leak check, site by site,
 * in Valgrind's log; elsewhere, one line of the probe's numbers. */
static void snapshot(void)
{
    if (RUNNING_ON_VALGRIND) {
        (void)VALGRIND_MONITOR_COMMAND("leak_check full reachable increased");
        fprintf(stderr, "%s: SIGUSR2: memcheck's leak_check, what grew since "
                "the last one, is in Valgrind's log\n", lab_progname());
        return;
    }
    struct probe_reading r = probe_read();
    pthread_mutex_lock(&store.lock);
    long live = store.live;
    pthread_mutex_unlock(&store.lock);
    fprintf(stderr, "%s: SIGUSR2: heap_used %llu KiB, rss %llu KiB, %ld "
            "sessions (under valgrind, this signal takes memcheck's snapshot "
            "site by site)\n", lab_progname(),
            (unsigned long long)r.heap_used_kib,
            (unsigned long long)r.rss_kib, live);
}

/* Serves until SIGINT or SIGTERM (blocked in every thread, and taken
 * here, with SIGUSR2), sampling once a second. */
static void serve(const sigset_t *signals)
{
    int64_t extra[3];
    struct timespec second = {1, 0};
    for (long t = 1;;) {
        int sig = sigtimedwait(signals, NULL, &second);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        if (sig == SIGUSR2) {
            snapshot();
            continue;
        }
        counts(extra, true);
        probe_sample(t++, extra);
    }
}

/* ------------------------------------------------------------------------
 * main
 * --------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    enum mode mode = (enum mode)(a.mode - modes);   /* a.mode is modes[mode] */
    if (reveal && mode != MYSTERY)
        lab_usage("--reveal goes with --mode mystery");
    if (serve_only && (a.iterations_given || bad_per_batch))
        lab_usage("--serve runs until Ctrl-C, with no client: "
                  "--iterations and --bad do not apply");
    enum mode leak = mode == MYSTERY ? mystery_pick(seed) : mode;
    if (reveal) {
        printf("mystery with --seed %ld is %s: the memory is allocated in "
               "%s\n", seed, modes[leak].name, leak_site(leak));
        return EXIT_DONE;
    }
    if (root_dir) {
        root_fd = open(root_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0 || realpath(root_dir, root_real) == NULL)
            lab_fail(root_dir);
    }
    signal(SIGPIPE, SIG_IGN);       /* a peer gone is an error, not death */
    sigset_t stop;                  /* --serve: taken by sigtimedwait */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGUSR2);
    if (serve_only) {
        pthread_sigmask(SIG_BLOCK, &stop, NULL);    /* before any thread */
        prctl(PR_SET_PDEATHSIG, SIGTERM);           /* dies with its shell */
    }
    store.leak = leak;
    store.profile_size = a.size;
    store.ttl = ttl_batches * requests_per_batch;

    probe_start(&lab, &a, argc, argv);
    int64_t extra[3] = {0, 0, 0};
    if (!serve_only)
        probe_sample(0, extra);     /* before the server: its start is a step */

    /* Start-up: once builds its route table here, in main, and forgets it
     * at the end: nothing frees it. */
    struct route *routes = leak == ONCE ? build_route_table() : NULL;
    long bound = 0;
    struct MHD_Daemon *daemon = server_start(port, &bound);
    if (serve_only) {
        printf("listening on http://127.0.0.1:%ld/\n", bound);
        fflush(stdout);
        counts(extra, true);
        probe_sample(0, extra);
        serve(&stop);
    } else {
        if (!a.quiet)
            printf("%s: %ld batches of %ld requests to http://127.0.0.1:%ld/"
                   "\n", modes[mode].name, a.iterations, requests_per_batch,
                   bound);
        client_start(bound);
        for (long i = 1; i <= a.iterations; i++) {
            run_batch();
            server_settle();
            counts(extra, false);
            probe_sample(i, extra);
        }
        client_stop();
    }
    MHD_stop_daemon(daemon);
    store_free();
    if (root_fd >= 0)
        close(root_fd);
    probe_finish();
    (void)routes;                   /* once: never freed, on purpose */
    return EXIT_DONE;
}
