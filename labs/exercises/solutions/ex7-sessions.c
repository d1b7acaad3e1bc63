/*
 * Exercise 7, the reference fix: a session store (lab 7).
 *
 * The starter's leak is of lab 7's hidden class. Sessions end properly,
 * at logout or after TTL requests, and are freed; but each logout first
 * copied the whole session, its 8 KiB profile too, to an audit list that
 * only the shutdown report read, and only shutdown freed. So memory grew
 * by a session per logout for as long as the service ran, and a leak
 * checker at exit found nothing: by then every block was freed. The
 * probe's rows showed the climb; heaptrack's peak consumers (or leaklab
 * hunt's snapshots, on lab 7) named audit_keep.
 *
 * The fix: the report needs three numbers, not the sessions. Count the
 * logouts, and keep the longest session's length and user, as each
 * logout happens. The report is the same line, byte for byte (the first
 * of equally long sessions wins, as the list's walk did), and memory
 * stays flat, bounded by the live sessions.
 *
 * Only "The audit" below changed: diff the two files.
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

static long audit_logouts;                /* logouts so far */
static long audit_longest = -1;           /* the longest session, in
                                             requests, or -1: none yet */
static char audit_who[USER_MAX];          /* whose it was (the first, of
                                             equally long ones) */

/* Counts s, logging out now, for the report: no copy is kept. */
static void audit_keep(const struct session *s)
{
    audit_logouts++;
    if (clock_now - s->born > audit_longest) {
        audit_longest = clock_now - s->born;
        memcpy(audit_who, s->user, sizeof audit_who);
    }
}

/* Writes the shutdown report to out. */
static void audit_report(FILE *out)
{
    if (audit_logouts == 0)
        fprintf(out, "logouts 0\n");
    else
        fprintf(out, "logouts %ld, longest session %ld requests (%s)\n",
                audit_logouts, audit_longest, audit_who);
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
