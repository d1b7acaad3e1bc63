/*
 * Exercise 2: a log indexer (lab 2, heap growth to the cap).
 *
 * The job: read a web server's access log and write its index: for each
 * path and status, how many requests and how many bytes, sorted by path,
 * then status. Each line of LOG looks like
 *
 *   10.0.3.7 - - [12/Mar/2024:10:00:01 +0000] "GET /api/items HTTP/1.1" 200 5123 "-" "curl/8.0"
 *
 * and each line of INDEX like "/api/items 200 1234 6318841": path, status,
 * requests, bytes.
 *
 * The task: the indexer's memory grows with the log. On a day's log of a
 * busy site (40 GB) it grows until a wall stops it, as lab 2's arrays do,
 * and the index it never wrote has 50 lines. Make its memory stay flat
 * however long the log, with INDEX exactly as it is. `make check EX=2`:
 *   output  INDEX, byte for byte what it is now
 *   memory  rss grows by at most 16 KiB per 1000 lines read
 * The hints, one at a time: LESSONS.md, "Lab 2", "Exercise".
 *
 * Run it by hand:  build/exercises/ex2-indexer LOG INDEX
 * (make check writes a LOG: out/exercises/inputs/ex2-indexer.log)
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
    {.name = "index", .cap_kind = "rlimit", .cap = "256M",
     .caption = "Requests and bytes per path and status, from a log",
     .expect = "finished"},
    {0},
};

static const struct lab_info lab = {
    .number = 2,
    .title = "exercise 2, a log indexer",
    .takeaway = "Counts the requests and bytes per path and status in LOG",
    .showcase = "index",
    .modes = modes,
    .x_label = "thousand lines read",
    .once = true,                 /* one pass over LOG: a row per 1000 */
    .positional = "LOG INDEX",
    .min_positional = 2,
    .max_positional = 2,
    .notes = "Reads LOG (an access log), writes INDEX (a line per path and "
             "status: PATH STATUS\nREQUESTS BYTES). A TSV row per 1000 "
             "lines. make check EX=2 judges it.",
};

/* ------------------------------------------------------------------------
 * Parsing a line
 * --------------------------------------------------------------------- */

/* One line of the log, parsed. */
struct entry {
    char *line;               /* the line, as read (the fields point in it) */
    const char *path;         /* the request's path, NUL-terminated */
    int status;               /* 200, 404, ... */
    long bytes;               /* the response's size */
};

static const char *log_path, *index_path;  /* as given, for messages */

/* Parses line (which it modifies: the path gets its NUL) into e. Returns
 * false for a line that is not a request: no quoted "METHOD PATH
 * PROTOCOL", or no status and size after it. */
static bool parse(char *line, struct entry *e)
{
    char *q = strchr(line, '"');             /* "GET /path HTTP/1.1" */
    char *path = q ? strchr(q, ' ') : NULL;
    char *end = path ? strchr(path + 1, ' ') : NULL;
    char *close = end ? strchr(end, '"') : NULL;
    if (!close)
        return false;
    *end = '\0';
    e->line = line;
    e->path = path + 1;
    return sscanf(close + 1, "%d %ld", &e->status, &e->bytes) == 2;
}

/* ------------------------------------------------------------------------
 * The entries, and the index made from them
 * --------------------------------------------------------------------- */

static struct entry *entries;  /* every line parsed, in the log's order */
static size_t nentries;        /* how many */
static size_t entries_cap;     /* slots allocated */

/* Appends e to the entries. Exits 3 if the table cannot grow. */
static void keep(const struct entry *e)
{
    if (nentries == entries_cap) {
        size_t cap = entries_cap ? 2 * entries_cap : 1024;
        struct entry *grown = realloc(entries, cap * sizeof *grown);
        if (grown == NULL)
            lab_wall("realloc of the entries to %zu slots returned NULL",
                     cap);
        entries = grown;
        entries_cap = cap;
    }
    entries[nentries++] = *e;
}

/* qsort's order: by path (strcmp), then by status. */
static int by_path_status(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->status > y->status) - (x->status < y->status);
}

/* Writes the index of the entries to out: one line per path and status,
 * in order, with its requests and bytes. */
static void write_index(FILE *out)
{
    if (nentries > 0)
        qsort(entries, nentries, sizeof *entries, by_path_status);
    for (size_t i = 0; i < nentries;) {
        size_t j = i;
        long bytes = 0;
        for (; j < nentries && by_path_status(&entries[i], &entries[j]) == 0;
             j++)
            bytes += entries[j].bytes;
        fprintf(out, "%s %d %zu %ld\n", entries[i].path, entries[i].status,
                j - i, bytes);
        i = j;
    }
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    log_path = a.positional[0];
    index_path = a.positional[1];

    FILE *in = fopen(log_path, "r");
    if (in == NULL)
        lab_fail(log_path);
    FILE *out = fopen(index_path, "w");
    if (out == NULL)
        lab_fail(index_path);

    probe_start(&lab, &a, argc, argv);
    probe_sample(0, NULL);
    long lines = 0, skipped = 0;
    char *buf = NULL;
    size_t buf_cap = 0;
    while (getline(&buf, &buf_cap, in) >= 0) {
        char *line = strdup(buf);
        if (line == NULL)
            lab_wall("strdup of line %ld returned NULL", lines + 1);
        struct entry e;
        if (parse(line, &e)) {
            keep(&e);
        } else {
            free(line);
            skipped++;
        }
        if (++lines % 1000 == 0)
            probe_sample(lines / 1000, NULL);   /* a row per 1000 lines */
    }
    if (ferror(in))
        lab_fail(log_path);
    write_index(out);
    probe_finish();

    free(buf);
    fclose(in);
    bool write_failed = ferror(out);
    if (fclose(out) != 0 || write_failed)
        lab_fail(index_path);
    if (!a.quiet)
        printf("%ld lines indexed (%ld skipped) into %s\n", lines - skipped,
               skipped, index_path);
    return EXIT_DONE;
}
