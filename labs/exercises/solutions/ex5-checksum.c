/*
 * Exercise 5, the reference fix: a checksum tool (lab 5).
 *
 * The starter read each file whole into one buffer, then summed it: its
 * peak memory was the largest file (lab 5's slurp). Nothing in a CRC
 * needs the whole file at once: crc_update() takes the bytes in any
 * pieces, in order.
 *
 * The fix: read each file through one 64 KiB buffer, adding each piece
 * to the CRC as it comes (lab 5's stream), and count the size as it
 * goes. The buffer is the same for every file, so the peak is the same
 * for a letter and for a disk image: a few pages over the start.
 * (mmap of the file, then one crc_update, keeps the heap empty, but the
 * pages read in count in rss until they are unmapped: the peak grows
 * with the file again. Try it against the budget.)
 *
 * read_whole() is gone, checksum() streams; everything else is the
 * starter, unchanged: diff the two files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"      /* the lab library, in harness/: lab_parse, exits */
#include "probe.h"    /* memory at every row, the TSV */

/* ------------------------------------------------------------------------
 * What the runner and the charts need to know (nothing to change here)
 * --------------------------------------------------------------------- */

static const struct lab_mode modes[] = {
    {.name = "sum", .cap_kind = "rlimit", .cap = "256M",
     .caption = "The POSIX checksum of every FILE, into MANIFEST",
     .expect = "finished"},
    {0},
};

static const struct lab_info lab = {
    .number = 5,
    .title = "exercise 5, a checksum tool",
    .takeaway = "Writes MANIFEST: cksum's line for every FILE",
    .showcase = "sum",
    .modes = modes,
    .extra_columns = "read_kib",
    .y2_columns = "read_kib",        /* progress, on the right axis */
    .x_label = "row (one per MiB read)",
    .once = true,                    /* one pass over the FILEs */
    .positional = "MANIFEST FILE...",
    .min_positional = 2,
    .max_positional = 1000,
    .notes = "Writes MANIFEST: for every FILE, the line `cksum FILE` "
             "prints (CRC SIZE NAME).\nA TSV row per MiB read (read_kib, "
             "all files together). make check EX=5 judges it.",
};

/* ------------------------------------------------------------------------
 * The POSIX checksum (cksum): a CRC-32, most significant bit first, over
 * the bytes, then over the length
 * --------------------------------------------------------------------- */

static uint32_t crc_table[256];   /* the CRC of each byte value */

/* Fills crc_table, for the polynomial POSIX names (0x04C11DB7). */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i << 24;
        for (int k = 0; k < 8; k++)
            c = c & 0x80000000u ? (c << 1) ^ 0x04C11DB7u : c << 1;
        crc_table[i] = c;
    }
}

/* Adds len bytes to a CRC begun at 0: the calls may split the bytes
 * anywhere, crc_update(crc_update(0, a), b) is the CRC of a then b. */
static uint32_t crc_update(uint32_t crc, const unsigned char *buf,
                           size_t len)
{
    for (size_t i = 0; i < len; i++)
        crc = (crc << 8) ^ crc_table[(crc >> 24) ^ buf[i]];
    return crc;
}

/* Ends a CRC over size bytes: what cksum prints. */
static uint32_t crc_finish(uint32_t crc, uint64_t size)
{
    for (; size > 0; size >>= 8)
        crc = (crc << 8) ^ crc_table[((crc >> 24) ^ size) & 0xff];
    return ~crc;
}

/* ------------------------------------------------------------------------
 * Progress: a row per MiB read
 * --------------------------------------------------------------------- */

static uint64_t total_read;      /* bytes read, every file so far */
static uint64_t next_row = 1 << 20;  /* take a row when total_read gets here */
static long row;                 /* rows taken, after row 0 */

/* Call after every read of n bytes: takes the rows now due. */
static void progress(size_t n)
{
    total_read += n;
    while (total_read >= next_row) {
        int64_t read_kib = (int64_t)(total_read / 1024);
        probe_sample(++row, &read_kib);
        next_row += 1 << 20;
    }
}

/* ------------------------------------------------------------------------
 * Summing one file
 * --------------------------------------------------------------------- */

/* The checksum of the file at path, and its size in *size, read through
 * one small buffer: the fix. Exits 1 naming path on an error (a missing
 * file, a directory: EISDIR from read). */
static uint32_t checksum(const char *path, uint64_t *size)
{
    static unsigned char buf[64 << 10];  /* the one buffer, for every file */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        lab_fail(path);
    uint32_t crc = 0;
    uint64_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            lab_fail(path);
        if (n == 0)
            break;
        crc = crc_update(crc, buf, (size_t)n);
        len += (uint64_t)n;
        progress((size_t)n);
    }
    close(fd);
    *size = len;
    return crc_finish(crc, len);
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    const char *manifest_path = a.positional[0];

    FILE *manifest = fopen(manifest_path, "w");
    if (manifest == NULL)
        lab_fail(manifest_path);
    crc_init();

    probe_start(&lab, &a, argc, argv);
    int64_t zero = 0;
    probe_sample(0, &zero);
    for (int i = 1; i < a.npositional; i++) {
        const char *path = a.positional[i];
        uint64_t size;
        uint32_t crc = checksum(path, &size);
        fprintf(manifest, "%u %llu %s\n", (unsigned)crc,
                (unsigned long long)size, path);
    }
    int64_t read_kib = (int64_t)(total_read / 1024);
    probe_sample(++row, &read_kib);              /* the last row */
    probe_finish();

    bool write_failed = ferror(manifest);
    if (fclose(manifest) != 0 || write_failed)
        lab_fail(manifest_path);
    if (!a.quiet)
        printf("%d files summed into %s\n", a.npositional - 1,
               manifest_path);
    return EXIT_DONE;
}
