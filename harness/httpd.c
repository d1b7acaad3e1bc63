/*
 * httpd.c - lab 7's HTTP server: libmicrohttpd on 127.0.0.1, its request
 * bodies, its checks, and the static-file router. See httpd.h.
 */
#define _GNU_SOURCE
#include "httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

#include "lab.h"
#include "probe.h"

/* What the server counts, between its thread and the lab's. */
static struct {
    pthread_mutex_t lock;                 /* all of this struct */
    const struct httpd_routes *routes;    /* the lab's part */
    long errors;                          /* replies of 400 and up */
    long started, completed;              /* requests our handler took up,
                                             and those libmicrohttpd has
                                             finished with */
    pthread_cond_t idle;                  /* completed caught up */
} server = {.lock = PTHREAD_MUTEX_INITIALIZER,
            .idle = PTHREAD_COND_INITIALIZER};

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

void httpd_root(const char *dir)
{
    root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0 || realpath(dir, root_real) == NULL)
        lab_fail(dir);
}

/* ------------------------------------------------------------------------
 * Replies, forms, cookies
 * --------------------------------------------------------------------- */

enum MHD_Result httpd_reply(struct MHD_Connection *c, unsigned status,
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
        pthread_mutex_lock(&server.lock);
        server.errors++;
        pthread_mutex_unlock(&server.lock);
    }
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

bool httpd_form_field(const char *body, const char *field, char *out,
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

long httpd_errors(void)
{
    pthread_mutex_lock(&server.lock);
    long n = server.errors;
    pthread_mutex_unlock(&server.lock);
    return n;
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

/* GET /page and POST /logout: the cookie checked, then the lab's route.
 * Without a good cookie, 401 or 400. */
static enum MHD_Result handle_session(struct MHD_Connection *c, bool logout)
{
    unsigned status = 0;
    const char *sid = cookie_sid(c, &status);
    if (sid == NULL)
        return httpd_reply(c, status, status == MHD_HTTP_UNAUTHORIZED
                                          ? "log in first\n"
                                          : "bad cookie\n", NULL);
    return server.routes->session(c, sid, logout);
}

/* GET /static/REL: the file beneath --root, or 403 for a path that would
 * leave it, 404 for one that is not there or not a regular file. */
static enum MHD_Result handle_static(struct MHD_Connection *c,
                                     const char *rel)
{
    if (!plain_path(rel))
        return httpd_reply(c, MHD_HTTP_FORBIDDEN, "not a plain path\n", NULL);
    if (root_fd < 0)
        return httpd_reply(c, MHD_HTTP_NOT_FOUND, "no files here\n", NULL);
    int fd = open_beneath(rel);
    if (fd < 0)
        return httpd_reply(c, errno == EXDEV || errno == ELOOP
                                  ? MHD_HTTP_FORBIDDEN : MHD_HTTP_NOT_FOUND,
                           errno == EXDEV || errno == ELOOP
                                  ? "outside the root\n" : "no such file\n",
                           NULL);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return httpd_reply(c, MHD_HTTP_NOT_FOUND, "no such file\n", NULL);
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

/* ------------------------------------------------------------------------
 * The server: libmicrohttpd calls on_request for every request, in its
 * own thread
 * --------------------------------------------------------------------- */

/* What a POST collects while its body arrives. */
struct upload {
    size_t len;                      /* bytes in body */
    bool too_large;                  /* more than HTTPD_MAX_BODY arrived */
    char body[HTTPD_MAX_BODY + 1];   /* NUL-terminated */
};

/* A GET or any request without a body needs no state: this marks it. */
static int no_upload;

/* libmicrohttpd's access handler: called once when the headers are in
 * (*state still NULL), then with each piece of the body, then once with
 * none left, when we answer. A body past HTTPD_MAX_BODY gets 413 at
 * once. Returns MHD_NO (the connection dropped) if calloc fails. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)cls;
    (void)version;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (*state == NULL) {
        pthread_mutex_lock(&server.lock);
        server.started++;
        pthread_mutex_unlock(&server.lock);
        const char *length = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (post && length && strtoull(length, NULL, 10) > HTTPD_MAX_BODY) {
            *state = &no_upload;        /* refused before it is sent */
            return httpd_reply(c, MHD_HTTP_CONTENT_TOO_LARGE,
                               "body too large\n", NULL);
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
        if (u->too_large || *data_size > HTTPD_MAX_BODY - u->len) {
            u->too_large = true;
            *data_size = 0;
            return httpd_reply(c, MHD_HTTP_CONTENT_TOO_LARGE,
                               "body too large\n", NULL);
        }
        memcpy(u->body + u->len, data, *data_size);
        u->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    if (u && u->too_large)
        return MHD_YES;                /* answered already */

    server.routes->tick();             /* a request: the lab's clock */

    if (url[0] != '/')                 /* a %00 in the path: see unescape */
        return httpd_reply(c, MHD_HTTP_BAD_REQUEST, "bad path\n", NULL);
    if (strcmp(url, "/login") == 0 || strcmp(url, "/logout") == 0) {
        if (!post)
            return httpd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only\n",
                               NULL);
        return url[3] == 'g' && url[4] == 'i'
                   ? server.routes->login(c, u->body)
                   : handle_session(c, true);
    }
    if (strcmp(url, "/page") == 0 || strncmp(url, "/static/", 8) == 0) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
            return httpd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n",
                               NULL);
        return url[1] == 'p' ? handle_session(c, false)
                             : handle_static(c, url + 8);
    }
    return httpd_reply(c, MHD_HTTP_NOT_FOUND, "no such route\n", NULL);
}

/* Frees what on_request kept for a request, however it ended. Cannot
 * fail. */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    if (*state != NULL && *state != &no_upload)
        free(*state);
    *state = NULL;
    pthread_mutex_lock(&server.lock);
    server.completed++;
    pthread_cond_broadcast(&server.idle);
    pthread_mutex_unlock(&server.lock);
}

void httpd_settle(void)
{
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += 10;
    pthread_mutex_lock(&server.lock);
    int err = 0;
    while (server.completed < server.started && err == 0)
        err = pthread_cond_timedwait(&server.idle, &server.lock, &limit);
    pthread_mutex_unlock(&server.lock);
    if (err != 0) {
        errno = err;
        lab_fail("waiting for the server to finish its requests");
    }
}

/* libmicrohttpd's own decoding of the path, once, with one refusal: a
 * %00 would cut the path short where our checks look at it (a%00/../x
 * would look like "a"). Such a path becomes "", which the router
 * answers with 400. Returns the decoded length. */
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

struct MHD_Daemon *httpd_start(long want, long *bound,
                               const struct httpd_routes *routes)
{
    server.routes = routes;
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

void httpd_stop(struct MHD_Daemon *d)
{
    MHD_stop_daemon(d);
    if (root_fd >= 0)
        close(root_fd);
    root_fd = -1;
}

/* ------------------------------------------------------------------------
 * --serve: the server alone, a row a second, until Ctrl-C
 * --------------------------------------------------------------------- */

static sigset_t serve_signals;   /* SIGINT, SIGTERM, SIGUSR2: ours */

void httpd_serve_signals(void)
{
    sigemptyset(&serve_signals);
    sigaddset(&serve_signals, SIGINT);
    sigaddset(&serve_signals, SIGTERM);
    sigaddset(&serve_signals, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &serve_signals, NULL);   /* before any thread */
    prctl(PR_SET_PDEATHSIG, SIGTERM);                   /* dies with its shell */
}

/* SIGUSR2 in --serve: a snapshot taken on demand, as a production
 * server's is (the lecture's are timed for the small hours). Under
 * Valgrind memcheck, what grew since the last leak check, site by site,
 * in Valgrind's log; elsewhere, one line of the probe's numbers, with
 * live sessions. Cannot fail. */
static void snapshot(long live)
{
    if (RUNNING_ON_VALGRIND) {
        (void)VALGRIND_MONITOR_COMMAND("leak_check full reachable increased");
        fprintf(stderr, "%s: SIGUSR2: memcheck's leak_check, what grew since "
                "the last one, is in Valgrind's log\n", lab_progname());
        return;
    }
    struct probe_reading r = probe_read();
    fprintf(stderr, "%s: SIGUSR2: heap_used %llu KiB, rss %llu KiB, %ld "
            "sessions (under valgrind, this signal takes memcheck's snapshot "
            "site by site)\n", lab_progname(),
            (unsigned long long)r.heap_used_kib,
            (unsigned long long)r.rss_kib, live);
}

void httpd_serve(void (*counts)(int64_t extra[3]))
{
    int64_t extra[3];
    struct timespec second = {1, 0};
    for (long t = 1;;) {
        int sig = sigtimedwait(&serve_signals, NULL, &second);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        if (sig == SIGUSR2) {
            counts(extra);
            snapshot((long)extra[1]);
            continue;
        }
        counts(extra);
        if (!probe_quiet())   /* the counts, then the probe ends the line */
            printf("row %ld: requests %lld, sessions %lld, errors %lld | ", t,
                   (long long)extra[0], (long long)extra[1],
                   (long long)extra[2]);
        probe_sample(t++, extra);
    }
}
