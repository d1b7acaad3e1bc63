/*
 * Exercise 7: a session store (lab 7, a leak in a running server).
 *
 * The job: a web service's session layer, fed from a request log rather
 * than a socket. Each line of REQUESTS is one request:
 *
 *   login USER PASSWORD    a session for USER, if the password is right
 *   page SID               the page of session SID, if it is alive
 *   logout SID             ends session SID
 *
 * and each line of REPLIES is its reply: "200 login ada sid=7", "403
 * login ada", "200 hello ada", "401 page 7", "200 bye ada", "401 logout
 * 7". A session ends at its logout, or TTL requests after its login,
 * whichever comes first. The last line of REPLIES is the shutdown
 * report: "logouts N, longest session D requests (USER)".
 *
 * The task: this service passes its leak check (valgrind --leak-check=
 * full says "All heap blocks were freed"), yet its memory grows with
 * every request it serves. Do not start by reading the code: hunt the
 * leak as LESSONS.md's lab 7 chapter does, with a record taken while it
 * runs, find the site that grows, then fix it, with REPLIES exactly as
 * it is. `make check EX=7`:
 *   output  REPLIES, byte for byte what it is now
 *   memory  rss grows by at most 64 KiB per 1000 requests
 * The hints, one at a time: LESSONS.md, "Lab 7", "Exercise".
 *
 * Run it by hand:  build/exercises/ex7-sessions REQUESTS REPLIES
 * (make check writes REQUESTS: out/exercises/inputs/ex7-sessions.requests)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"      /* the lab library, in harness/: lab_parse, exits */
#include "probe.h"    /* memory at every row, the TSV */

/* ------------------------------------------------------------------------
 * What the runner and the charts need to know (nothing to change here)
 * --------------------------------------------------------------------- */

static const struct lab_mode modes[] = {
    {.name = "serve", .cap_kind = "rlimit", .cap = "256M",
     .caption = "Logins, pages and logouts from a request log",
     .expect = "finished"},
    {0},
};

static const struct lab_info lab = {
    .number = 7,
    .title = "exercise 7, a session store",
    .takeaway = "Serves each request in REQUESTS from a table of sessions",
    .showcase = "serve",
    .modes = modes,
    .x_label = "thousand requests",
    .once = true,                 /* one pass over REQUESTS: a row per 1000 */
    .positional = "REQUESTS REPLIES",
    .min_positional = 2,
    .max_positional = 2,
    .notes = "Reads REQUESTS (login USER PASSWORD, page SID, logout SID), "
             "writes\nREPLIES (a line per request, then the shutdown "
             "report). A TSV row per 1000\nrequests. make check EX=7 "
             "judges it.",
};

/* ------------------------------------------------------------------------
 * Sessions
 * --------------------------------------------------------------------- */

#define TTL 300               /* requests a session lives at most */
#define PROFILE (8 * 1024)    /* bytes of a session's profile */
#define BUCKETS 1024          /* the table's chains; a power of two */
#define USER_MAX 32           /* bytes of a user name, with its NUL */

/* One logged-in user. */
struct session {
    long sid;                 /* its id: the logins so far, when it began */
    long born;                /* the request that made it */
    char user[USER_MAX];      /* who */
    struct session *next;     /* the next in its bucket */
    struct session *younger;  /* the list by age: toward the newest */
    struct session *elder;    /* and toward the oldest */
    unsigned char profile[PROFILE];  /* preferences, recent pages */
};

static struct session *table[BUCKETS];     /* live sessions, by sid */
static struct session *eldest, *youngest;  /* the same, by age */
static long clock_now;                     /* the request being served */
static long logins;                        /* successful logins so far */

/* A new session for user, born now, in the table. Exits 3 if malloc
 * fails. */
static struct session *session_new(const char *user)
{
    struct session *s = malloc(sizeof *s);
    if (s == NULL)
        lab_wall("malloc(%zu) for a session returned NULL", sizeof *s);
    *s = (struct session){.sid = ++logins, .born = clock_now,
                          .elder = youngest};
    snprintf(s->user, sizeof s->user, "%s", user);
    memset(s->profile, (int)(s->sid & 0xff), sizeof s->profile);
    struct session **head = &table[(unsigned long)s->sid % BUCKETS];
    s->next = *head;
    *head = s;
    if (youngest)
        youngest->younger = s;
    youngest = s;
    if (eldest == NULL)
        eldest = s;
    return s;
}

/* Session sid, or NULL if it never was or has ended. */
static struct session *session_find(long sid)
{
    for (struct session *s = table[(unsigned long)sid % BUCKETS]; s;
         s = s->next)
        if (s->sid == sid)
            return s;
    return NULL;
}

/* Takes s out of the table and frees it. */
static void session_end(struct session *s)
{
    struct session **p = &table[(unsigned long)s->sid % BUCKETS];
    while (*p != s)
        p = &(*p)->next;
    *p = s->next;
    if (s->younger)
        s->younger->elder = s->elder;
    else
        youngest = s->elder;
    if (s->elder)
        s->elder->younger = s->younger;
    else
        eldest = s->younger;
    free(s);
}

/* Ends every session TTL requests old or older. */
static void expire(void)
{
    while (eldest && clock_now - eldest->born >= TTL)
        session_end(eldest);
}

/* ------------------------------------------------------------------------
 * The audit: what the shutdown report is made from
 * --------------------------------------------------------------------- */

/* A session that logged out, as it was. */
struct audit {
    struct session copy;      /* the session, whole, at its logout */
    long ended;               /* the request that ended it */
    struct audit *next;       /* the next logout, in order */
};

static struct audit *audit_first, *audit_last;  /* every logout */

/* Keeps a copy of s, logging out now, for the report. Exits 3 if malloc
 * fails. */
static void audit_keep(const struct session *s)
{
    struct audit *a = malloc(sizeof *a);
    if (a == NULL)
        lab_wall("malloc(%zu) for an audit record returned NULL", sizeof *a);
    a->copy = *s;
    a->ended = clock_now;
    a->next = NULL;
    if (audit_last)
        audit_last->next = a;
    else
        audit_first = a;
    audit_last = a;
}

/* Writes the shutdown report to out, and frees the audit. */
static void audit_report(FILE *out)
{
    long n = 0, longest = -1;
    const char *who = "";
    for (const struct audit *a = audit_first; a; a = a->next) {
        n++;
        if (a->ended - a->copy.born > longest) {
            longest = a->ended - a->copy.born;
            who = a->copy.user;
        }
    }
    if (n == 0)
        fprintf(out, "logouts 0\n");
    else
        fprintf(out, "logouts %ld, longest session %ld requests (%s)\n", n,
                longest, who);
    while (audit_first) {
        struct audit *next = audit_first->next;
        free(audit_first);
        audit_first = next;
    }
    audit_last = NULL;
}

/* ------------------------------------------------------------------------
 * The service
 * --------------------------------------------------------------------- */

/* Serves one request line into out. Returns false for a line that is not
 * a request. */
static bool serve(const char *line, FILE *out)
{
    char verb[16], user[USER_MAX], pass[64];
    long sid;
    expire();
    if (sscanf(line, "login %31s %63s", user, pass) == 2) {
        if (strcmp(pass, "open-sesame") != 0) {
            fprintf(out, "403 login %s\n", user);
            return true;
        }
        fprintf(out, "200 login %s sid=%ld\n", user, session_new(user)->sid);
        return true;
    }
    if (sscanf(line, "%15s %ld", verb, &sid) != 2)
        return false;
    struct session *s = session_find(sid);
    if (strcmp(verb, "page") == 0) {
        if (s)
            fprintf(out, "200 hello %s\n", s->user);
        else
            fprintf(out, "401 page %ld\n", sid);
    } else if (strcmp(verb, "logout") == 0) {
        if (s) {
            fprintf(out, "200 bye %s\n", s->user);
            audit_keep(s);
            session_end(s);
        } else {
            fprintf(out, "401 logout %ld\n", sid);
        }
    } else {
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    const char *in_path = a.positional[0], *out_path = a.positional[1];

    FILE *in = fopen(in_path, "r");
    if (in == NULL)
        lab_fail(in_path);
    FILE *out = fopen(out_path, "w");
    if (out == NULL)
        lab_fail(out_path);

    probe_start(&lab, &a, argc, argv);
    probe_sample(0, NULL);
    long skipped = 0;
    char *line = NULL;
    size_t line_cap = 0;
    while (getline(&line, &line_cap, in) >= 0) {
        clock_now++;
        if (!serve(line, out))
            skipped++;
        if (clock_now % 1000 == 0)
            probe_sample(clock_now / 1000, NULL);  /* a row per 1000 */
    }
    if (ferror(in))
        lab_fail(in_path);
    probe_finish();

    audit_report(out);              /* shutdown: everything is freed */
    while (eldest)
        session_end(eldest);
    free(line);
    fclose(in);
    bool write_failed = ferror(out);
    if (fclose(out) != 0 || write_failed)
        lab_fail(out_path);
    if (!a.quiet)
        printf("%ld requests served (%ld skipped) into %s\n",
               clock_now - skipped, skipped, out_path);
    return EXIT_DONE;
}
