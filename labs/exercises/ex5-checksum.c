/*
 * Exercise 5: a checksum tool (lab 5, stream copy).
 *
 * The job: write a manifest of files, as a backup tool does before it
 * uploads them: for each FILE, its POSIX checksum (the CRC that `cksum`
 * prints), its size and its name, one line each, exactly as `cksum FILE...`
 * prints them, into MANIFEST.
 *
 * The task: the tool reads each file whole into memory before it sums
 * it, so its peak memory is the size of the largest file: fine for a
 * letter, fatal for a disk image. Make its peak memory small and the same
 * whatever the size of the files, with MANIFEST exactly as it is.
 * `make check EX=5`:
 *   output  MANIFEST, byte for byte what `cksum FILE...` prints
 *   memory  peak rss at most 2 MiB above the start (the largest file
 *           is 8 MiB)
 * The hints, one at a time: LESSONS.md, "Lab 5", "Exercise".
 *
 * Run it by hand:  build/exercises/ex5-checksum MANIFEST FILE...
 * (make check writes FILEs: out/exercises/inputs/ex5-checksum/)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Reads all of path into memory. Returns the bytes (malloc'd; the caller
 * frees them) and their number in *size. Exits 1 naming path on an
 * error, 3 if the file does not fit in memory. */
static unsigned char *read_whole(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        lab_fail(path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        lab_fail(path);
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        lab_fail(path);
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 1, len = 0;
    unsigned char *buf = malloc(cap);
    if (buf == NULL)
        lab_wall("no memory for all %.1f MiB of %s", mib(cap), path);
    for (;;) {
        if (len == cap) {                  /* it grew as we read */
            unsigned char *bigger = realloc(buf, 2 * cap);
            if (bigger == NULL)
                lab_wall("no memory for all %.1f MiB of %s", mib(2 * cap),
                         path);
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - len < (1 << 20) ? cap - len : 1 << 20;
        ssize_t n = read(fd, buf + len, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            lab_fail(path);
        if (n == 0)
            break;
        len += (size_t)n;
        progress((size_t)n);
    }
    close(fd);
    *size = len;
    return buf;
}

/* The checksum of the file at path, and its size in *size. */
static uint32_t checksum(const char *path, uint64_t *size)
{
    unsigned char *data = read_whole(path, size);
    uint32_t crc = crc_finish(crc_update(0, data, *size), *size);
    free(data);
    return crc;
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
