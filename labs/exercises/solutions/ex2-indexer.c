/*
 * Exercise 2, the reference fix: a log indexer (lab 2).
 *
 * The starter copied every line (strdup) and kept it, parsed, in a table
 * that only grew, to sort and count the whole table at the end: memory
 * grew by a line's size and more with every line, as lab 2's arrays did,
 * until on a big enough log a wall stops it, before the index is written.
 *
 * The fix: the index needs one counter per path and status, not the
 * lines. Count each line as it is read, into a table of keys (here 50 of
 * them), and keep no line: getline's one buffer is parsed in place and
 * reused. The table is sorted at the end, as the entries were, so the
 * index comes out the same, byte for byte. Memory stays flat whatever
 * the size of the log: it grows with the number of keys, not of lines.
 *
 * The starter's parse() and main() loop are kept; "The index" below
 * replaces "The entries": diff the two files.
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
 * The index: a counter per path and status, counted as the lines go by
 * --------------------------------------------------------------------- */

/* One line of the index. */
struct key {
    int status;               /* 200, 404, ... */
    size_t requests;          /* lines with this path and status */
    long bytes;               /* their sizes, summed */
    char path[];              /* its own copy: the line is gone */
};

static struct key **keys;      /* every path and status seen so far */
static size_t nkeys;           /* how many */
static size_t keys_cap;        /* slots allocated */

/* Appends key to the table. Exits 3 if the table cannot grow. */
static void add_key(struct key *key)
{
    if (nkeys == keys_cap) {
        size_t cap = keys_cap ? 2 * keys_cap : 64;
        struct key **grown = realloc(keys, cap * sizeof *grown);
        if (grown == NULL)
            lab_wall("realloc of the index to %zu keys returned NULL", cap);
        keys = grown;
        keys_cap = cap;
    }
    keys[nkeys++] = key;
}

/* Counts e under its path and status, adding the key if it is new.
 * Exits 3 if memory runs out. (A linear search: a few dozen keys. With
 * many thousands, a hash table.) */
static void count(const struct entry *e)
{
    struct key *k = NULL;
    for (size_t i = 0; i < nkeys && !k; i++)
        if (keys[i]->status == e->status && strcmp(keys[i]->path, e->path) == 0)
            k = keys[i];
    if (k == NULL) {
        size_t len = strlen(e->path) + 1;
        k = malloc(sizeof *k + len);
        if (k == NULL)
            lab_wall("malloc(%zu) for a key returned NULL", sizeof *k + len);
        *k = (struct key){.status = e->status};
        memcpy(k->path, e->path, len);
        add_key(k);
    }
    k->requests++;
    k->bytes += e->bytes;
}

/* qsort's order: by path (strcmp), then by status. */
static int by_path_status(const void *a, const void *b)
{
    const struct key *x = *(struct key *const *)a, *y = *(struct key *const *)b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->status > y->status) - (x->status < y->status);
}

/* Writes the index to out, in order, and frees it. */
static void write_index(FILE *out)
{
    if (nkeys > 0)
        qsort(keys, nkeys, sizeof *keys, by_path_status);
    for (size_t i = 0; i < nkeys; i++) {
        fprintf(out, "%s %d %zu %ld\n", keys[i]->path, keys[i]->status,
                keys[i]->requests, keys[i]->bytes);
        free(keys[i]);
    }
    free(keys);
    keys = NULL;
    nkeys = keys_cap = 0;
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
        struct entry e;             /* parsed in getline's own buffer */
        if (parse(buf, &e))
            count(&e);              /* counted, and the line let go */
        else
            skipped++;
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
