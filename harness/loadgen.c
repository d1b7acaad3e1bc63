/*
 * loadgen.c - lab 7's client: libcurl, one handle, one connection kept
 * alive. See loadgen.h.
 */
#define _GNU_SOURCE
#include "loadgen.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"
#include "lab.h"

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
    const struct loadgen_config *cfg;   /* loadgen_start's */
    char bad_form[96];            /* --bad's form with a markup user */
} client;

/* libcurl hands us the reply's body: we do not need it. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* libcurl hands us each header line: keep a session cookie. No errors. */
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
        body = client.bad_form;
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

/* A random number in [0, n), from the seeded stream. No errors. */
static long draw(long n)
{
    return nrand48(client.rng) % n;
}

/* Exits 1 (3 for a server out of memory) saying what request got what. */
static noreturn void unexpected(const char *what, long status, long want)
{
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        client.cfg->out_of_memory(what);
    fflush(stdout);
    fprintf(stderr, "%s: %s got %ld; expected %ld\n", lab_progname(), what,
            status, want);
    exit(EXIT_ERROR);
}

/* Logs a new user in (right password or not). Exits as unexpected(). */
static void send_login(bool right)
{
    char body[96], sid[SID_LEN + 1];
    snprintf(body, sizeof body, "user=user%ld&pass=%s", ++client.users,
             right ? client.cfg->password : "guess");
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
 * cookie). An expired one gets 401, as it should. Exits as unexpected(). */
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

/* Logs the client's newest session out. Exits as unexpected(). */
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
void loadgen_batch(void)
{
    long n = client.cfg->requests;
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
            for (long b = 0; b < client.cfg->bad; b++)
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

void loadgen_start(long bound, const struct loadgen_config *config)
{
    client.cfg = config;
    CURLcode rc = curl_global_init(CURL_GLOBAL_NOTHING);
    if (rc != CURLE_OK || (client.curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "%s: libcurl: %s\n", lab_progname(),
                curl_easy_strerror(rc ? rc : CURLE_FAILED_INIT));
        exit(EXIT_ERROR);
    }
    client.kinds = malloc((size_t)config->requests * sizeof *client.kinds);
    if (client.kinds == NULL)
        lab_wall("malloc for a batch of %ld requests returned NULL",
                 config->requests);
    snprintf(client.base, sizeof client.base, "http://127.0.0.1:%ld", bound);
    client.rng[0] = 0x330e;                    /* srand48's layout */
    client.rng[1] = (unsigned short)config->seed;
    client.rng[2] = (unsigned short)(config->seed >> 16);
    client_options();
    memset(big, 'a', sizeof big);
    snprintf(client.bad_form, sizeof client.bad_form,
             "user=<script>&pass=%s", config->password);
}

void loadgen_stop(void)
{
    curl_easy_cleanup(client.curl);
    curl_global_cleanup();
    free(client.kinds);
}

void loadgen_counts(long *requests, long *errors)
{
    *requests = client.requests;
    *errors = client.errors;
}
