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
 * The server is real, and so is its load, both in this process, on
 * 127.0.0.1 only. harness/httpd.c serves HTTP with libmicrohttpd in a
 * thread of its own: POST /login ("user=NAME&pass=PASSWORD", which sets
 * a sid cookie; a wrong password gets 403), GET /page ("hello NAME" for
 * a live session, else 401), POST /logout, and GET /static/P (beneath
 * --root, never a byte from outside it). harness/loadgen.c is the
 * client, libcurl in the main thread. An iteration is one batch of
 * --requests requests (3 in 10 log in, 1 in 10 logs out, the rest view
 * the page or, about one in ten overall, fail to log in; drawn from
 * --seed), and its row, taken when the last reply is in, has requests
 * (sent so far), sessions (in the table now) and errors (replies of 400
 * and up so far). Every session carries a --size payload (its profile:
 * cart, preferences, tokens), written in full so that it is resident.
 * This file is the lesson: the session store, the leak each mode has,
 * and what the routes do with a session.
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
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../harness/httpd.h"
#include "../harness/lab.h"
#include "../harness/loadgen.h"
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

#define USER_MAX 32         /* longest user name */
#define NBUCKETS 4096       /* hash buckets: chains stay short */
#define PASSWORD "open-sesame"   /* every user's password, in this lab */

struct session {
    char id[SID_LEN + 1];         /* the cookie's value */
    char user[USER_MAX + 1];      /* who logged in */
    long born;                    /* store.clock when it was added */
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
    struct audit *audit;                  /* hidden: newest first */
    size_t held;                          /* bytes held, for messages */
} store = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The bucket an id hashes to: its first 8 hex digits, random. No errors. */
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

/* Puts s in the table, newest in login order. Lock held; no errors. */
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

/* The session with this id, or NULL if none. Lock held; no errors. */
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

/* Takes s out of the table and frees it. Lock held; no errors. */
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
 * nothing, ever: that is its leak. Lock held; no errors. */
static void store_expire(void)
{
    if (store.leak == FREQUENT)
        return;
    while (store.oldest && store.clock - store.oldest->born >= store.ttl)
        session_end(store.oldest);
}

/* At shutdown (no errors): every mode but frequent frees its table
 * (frequent leaves it, still reachable, as a process that never cleans
 * up does), and hidden its audit list: why Valgrind finds nothing. */
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
 * The routes: what the server does with a session (harness/httpd.c has
 * checked the method, the body's size and the cookie first)
 * --------------------------------------------------------------------- */

/* Is u a user name: 1 to USER_MAX letters, digits, '.', '_' or '-'? */
static bool good_user(const char *u)
{
    size_t n = strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                         "WXYZ0123456789._-");
    return n > 0 && u[n] == '\0';
}

/* POST /login. The session, profile and all, is made first (as many
 * handlers load the user before checking the password); a wrong password
 * must then free it, and occasional's error path forgets to. Answers
 * 400 for a bad form, 503 if session_new fails, 403 for a wrong
 * password. */
static enum MHD_Result handle_login(struct MHD_Connection *c,
                                    const char *body)
{
    char user[USER_MAX + 1], pass[64];
    if (!httpd_form_field(body, "user", user, sizeof user) ||
        !good_user(user) || !httpd_form_field(body, "pass", pass, sizeof pass))
        return httpd_reply(c, MHD_HTTP_BAD_REQUEST,
                           "want user=NAME&pass=...\n", NULL);
    struct session *s = session_new(user);
    if (s == NULL)
        return httpd_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "out of memory\n", NULL);
    if (strcmp(pass, PASSWORD) != 0) {
        if (store.leak != OCCASIONAL)   /* read-only after start-up */
            free(s);
        /* occasional: the error path returns here without the free, and
         * s, profile and all, has no pointer left anywhere. */
        return httpd_reply(c, MHD_HTTP_FORBIDDEN, "wrong password\n", NULL);
    }
    char sid[SID_LEN + 1];
    memcpy(sid, s->id, sizeof sid);
    pthread_mutex_lock(&store.lock);
    store_add(s);
    pthread_mutex_unlock(&store.lock);
    return httpd_reply(c, MHD_HTTP_OK, "welcome\n", sid);
}

/* GET /page and POST /logout: the seed's session check, then the page or
 * the end of the session. Answers 401 if sid names no live session. */
static enum MHD_Result handle_session(struct MHD_Connection *c,
                                      const char *sid, bool logout)
{
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
        return httpd_reply(c, MHD_HTTP_UNAUTHORIZED, "no such session\n",
                           NULL);
    return httpd_reply(c, MHD_HTTP_OK, text, NULL);
}

/* Every request: the TTL's clock ticks, old sessions end. No errors. */
static void on_tick(void)
{
    pthread_mutex_lock(&store.lock);
    store.clock++;
    store_expire();
    pthread_mutex_unlock(&store.lock);
}

static const struct httpd_routes server_routes = {
    .login = handle_login, .session = handle_session, .tick = on_tick,
};

/* ------------------------------------------------------------------------
 * The rows, and the client's one way to run out
 * --------------------------------------------------------------------- */

/* --serve's row: requests and errors as the server counts them, and the
 * sessions in its table. Cannot fail. */
static void server_counts(int64_t extra[3])
{
    pthread_mutex_lock(&store.lock);
    extra[0] = store.clock;
    extra[1] = store.live;
    pthread_mutex_unlock(&store.lock);
    extra[2] = httpd_errors();
}

/* A batch's row: requests and errors as the client counts them, and the
 * sessions in the server's table. Cannot fail. */
static void client_counts(int64_t extra[3])
{
    long requests, errors;
    loadgen_counts(&requests, &errors);
    pthread_mutex_lock(&store.lock);
    extra[0] = requests;
    extra[1] = store.live;
    extra[2] = errors;
    pthread_mutex_unlock(&store.lock);
}

/* The server answered what with 503: exits 3, naming what it holds. */
static void out_of_memory(const char *what)
{
    pthread_mutex_lock(&store.lock);
    long live = store.live;
    double held = mib(store.held);
    pthread_mutex_unlock(&store.lock);
    lab_wall("the server is out of memory: %s got 503, with %ld "
             "sessions (%.1f MiB) in its table", what, live, held);
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
    if (root_dir)
        httpd_root(root_dir);
    signal(SIGPIPE, SIG_IGN);       /* a peer gone is an error, not death */
    if (serve_only)
        httpd_serve_signals();      /* before any thread */
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
    struct MHD_Daemon *daemon = httpd_start(port, &bound, &server_routes);
    if (serve_only) {
        printf("listening on http://127.0.0.1:%ld/\n", bound);
        fflush(stdout);
        server_counts(extra);
        probe_sample(0, extra);
        httpd_serve(server_counts);
    } else {
        if (!a.quiet)
            printf("%s: %ld batches of %ld requests to http://127.0.0.1:%ld/"
                   "\n", modes[mode].name, a.iterations, requests_per_batch,
                   bound);
        const struct loadgen_config load = {
            .requests = requests_per_batch, .bad = bad_per_batch,
            .seed = seed, .password = PASSWORD,
            .out_of_memory = out_of_memory,
        };
        loadgen_start(bound, &load);
        for (long i = 1; i <= a.iterations; i++) {
            loadgen_batch();        /* one batch, every reply in */
            httpd_settle();         /* the server at rest */
            client_counts(extra);
            probe_sample(i, extra);
        }
        loadgen_stop();
    }
    httpd_stop(daemon);
    store_free();
    probe_finish();
    (void)routes;                   /* once: never freed, on purpose */
    return EXIT_DONE;
}
