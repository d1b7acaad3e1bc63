/*
 * Exercise 6, the reference fix: a price quote service (lab 6).
 *
 * The starter memoised every product's price sheet in a hash map that
 * never let one go: its memory grew with the catalogue, a sheet (4 KiB)
 * per product ever quoted, as lab 6's unbounded mode grows with its key
 * space, and with no end while new products keep coming.
 *
 * The fix: the same map, bounded as lab 6's lru mode is. At most
 * MAX_SHEETS sheets (256, 1 MiB); each sheet is also on a doubly linked
 * list in order of use, a hit moved to its front; when a new sheet
 * would pass the bound, the sheet at the back (the least recently used)
 * is taken off its bucket and the list and freed. Hot products stay
 * cached; a product not quoted for a while is worked out again when it
 * comes back, to the same prices: QUOTES is byte for byte the same, and
 * memory stays flat once the cache is full.
 *
 * The starter's main() is kept; "The memo" below is what changed: diff
 * the two files.
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
    {.name = "quote", .cap_kind = "rlimit", .cap = "256M",
     .caption = "Quotes from memoised price sheets, one per product",
     .expect = "finished"},
    {0},
};

static const struct lab_info lab = {
    .number = 6,
    .title = "exercise 6, a price quote service",
    .takeaway = "Quotes each request in REQUESTS from the product's price sheet",
    .showcase = "quote",
    .modes = modes,
    .x_label = "thousand requests",
    .once = true,                 /* one pass over REQUESTS: a row per 1000 */
    .positional = "REQUESTS QUOTES",
    .min_positional = 2,
    .max_positional = 2,
    .notes = "Reads REQUESTS (a line per quote: SKU QUANTITY), writes "
             "QUOTES (SKU QUANTITY\nUNIT TOTAL). A TSV row per 1000 "
             "requests. make check EX=6 judges it.",
};

/* ------------------------------------------------------------------------
 * A price sheet: the slow part
 * --------------------------------------------------------------------- */

#define TIERS 512             /* quantities 1 to 511 each a tier; more: 511 */

/* One product's prices, in cents, at every quantity tier. */
struct sheet {
    long sku;                 /* the product: 123 for sku-000123 */
    struct sheet *next;       /* the next sheet in its hash bucket */
    struct sheet *newer;      /* the list in order of use: toward the front */
    struct sheet *older;      /* and toward the back (the next to go) */
    long cents[TIERS];        /* the unit price at each tier */
};

/* Works out sku's sheet: a base price from the product number, less a
 * volume discount of tier/2048 of it. Exits 3 if malloc fails. */
static struct sheet *work_out(long sku)
{
    struct sheet *s = malloc(sizeof *s);
    if (s == NULL)
        lab_wall("malloc(%zu) for the sheet of sku-%06ld returned NULL",
                 sizeof *s, sku);
    s->sku = sku;
    s->next = NULL;
    s->newer = s->older = NULL;
    long base = sku * 7919 % 90000 + 1000;
    for (int t = 0; t < TIERS; t++)
        s->cents[t] = base - base * t / 2048;
    return s;
}

/* ------------------------------------------------------------------------
 * The memo: a hash map from product to sheet, bounded, least recently
 * used first out
 * --------------------------------------------------------------------- */

#define BUCKETS 4096          /* chains; a power of two */
#define MAX_SHEETS 256        /* the bound: 256 sheets of 4 KiB, 1 MiB */

static struct sheet *buckets[BUCKETS];  /* the sheets held, by product */
static struct sheet *newest, *oldest;   /* the list in order of use */
static size_t held;                     /* sheets in the memo */

/* Takes s off the list of use (it stays in its bucket). */
static void unlink_use(struct sheet *s)
{
    if (s->newer)
        s->newer->older = s->older;
    else
        newest = s->older;
    if (s->older)
        s->older->newer = s->newer;
    else
        oldest = s->newer;
    s->newer = s->older = NULL;
}

/* Puts s at the front of the list of use: the most recently used. */
static void push_front(struct sheet *s)
{
    s->older = newest;
    s->newer = NULL;
    if (newest)
        newest->newer = s;
    newest = s;
    if (oldest == NULL)
        oldest = s;
}

/* Frees the least recently used sheet, off its bucket and the list. */
static void evict_oldest(void)
{
    struct sheet *s = oldest;
    struct sheet **p = &buckets[(unsigned long)s->sku % BUCKETS];
    while (*p != s)
        p = &(*p)->next;
    *p = s->next;
    unlink_use(s);
    free(s);
    held--;
}

/* sku's sheet: the memo's (now the most recently used), or a new one,
 * worked out and remembered, the least recently used sheet freed if the
 * memo is full. */
static const struct sheet *sheet_for(long sku)
{
    struct sheet **head = &buckets[(unsigned long)sku % BUCKETS];
    for (struct sheet *s = *head; s; s = s->next)
        if (s->sku == sku) {
            unlink_use(s);               /* a hit: no work, to the front */
            push_front(s);
            return s;
        }
    if (held == MAX_SHEETS)
        evict_oldest();
    struct sheet *s = work_out(sku);
    s->next = *head;
    *head = s;
    push_front(s);
    held++;
    return s;
}

/* ------------------------------------------------------------------------
 * The service
 * --------------------------------------------------------------------- */

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
    long requests = 0, skipped = 0;
    char *line = NULL;
    size_t line_cap = 0;
    while (getline(&line, &line_cap, in) >= 0) {
        long sku, qty;
        if (sscanf(line, "sku-%ld %ld", &sku, &qty) == 2 && sku >= 0 &&
            qty > 0) {
            const struct sheet *s = sheet_for(sku);
            long unit = s->cents[qty < TIERS ? qty : TIERS - 1];
            long total = unit * qty;
            fprintf(out, "sku-%06ld %ld %ld.%02ld %ld.%02ld\n", sku, qty,
                    unit / 100, unit % 100, total / 100, total % 100);
        } else {
            skipped++;
        }
        if (++requests % 1000 == 0)
            probe_sample(requests / 1000, NULL);  /* a row per 1000 */
    }
    if (ferror(in))
        lab_fail(in_path);
    probe_finish();

    free(line);
    fclose(in);
    bool write_failed = ferror(out);
    if (fclose(out) != 0 || write_failed)
        lab_fail(out_path);
    if (!a.quiet)
        printf("%ld requests quoted (%ld skipped) into %s\n",
               requests - skipped, skipped, out_path);
    return EXIT_DONE;
}
