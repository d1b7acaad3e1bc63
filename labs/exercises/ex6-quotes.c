/*
 * Exercise 6: a price quote service (lab 6, unbounded cache).
 *
 * The job: answer quote requests. Each line of REQUESTS asks for a
 * product and a quantity, "sku-000123 37", and each line of QUOTES
 * answers it: "sku-000123 37 12.34 456.58", the unit price at that
 * quantity and the total. A product's price depends on the quantity
 * through its price sheet, 512 tiers worked out from the product's base
 * price; working a sheet out is the slow part, so the service memoises
 * each sheet, keyed by product, and a second quote for the same product
 * is a lookup.
 *
 * The task: the catalogue only grows (new products every day), and so
 * does the memo: it keeps the sheet of every product ever quoted, as lab
 * 6's unbounded mode keeps every key. Bound it: keep the cache (the hot
 * products are quoted again and again), but let its memory stay flat
 * however many products come, with QUOTES exactly as it is.
 * `make check EX=6`:
 *   output  QUOTES, byte for byte what it is now
 *   memory  rss grows by at most 64 KiB per 1000 requests
 * The hints, one at a time: LESSONS.md, "Lab 6", "Exercise".
 *
 * Run it by hand:  build/exercises/ex6-quotes REQUESTS QUOTES
 * (make check writes REQUESTS: out/exercises/inputs/ex6-quotes.requests)
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
    long base = sku * 7919 % 90000 + 1000;
    for (int t = 0; t < TIERS; t++)
        s->cents[t] = base - base * t / 2048;
    return s;
}

/* ------------------------------------------------------------------------
 * The memo: a hash map from product to sheet
 * --------------------------------------------------------------------- */

#define BUCKETS 4096          /* chains; a power of two */

static struct sheet *buckets[BUCKETS];  /* every sheet worked out so far */

/* sku's sheet: the memo's, or a new one, worked out and remembered. */
static const struct sheet *sheet_for(long sku)
{
    struct sheet **head = &buckets[(unsigned long)sku % BUCKETS];
    for (struct sheet *s = *head; s; s = s->next)
        if (s->sku == sku)
            return s;                    /* a hit: no work */
    struct sheet *s = work_out(sku);
    s->next = *head;                     /* remembered, for good */
    *head = s;
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
