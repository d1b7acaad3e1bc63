/*
 * Lab 5: stream copy.
 *
 * The lesson: to copy a file you never need the whole file in memory. Read
 * it all first and memory grows with the file, until a big enough file
 * meets the wall; move it through a small fixed buffer and memory stays
 * flat whatever the size. Faster still, let the kernel copy it and keep no
 * buffer at all.
 *
 * The seeds: the "big file" section of Node.js memory notes copies a file
 * with Node's streams twice, once by handing each chunk read to the
 * writer itself and once with pipe(). The lecture 内存泄漏 ("Memory
 * leaks") calls the whole-file read the "hidden" (隐性) class of leak:
 * harmless for a small file, fatal for a large one; asked in its comments
 * about big files, its author answers: use streams. LESSONS.md, "Lab 5:
 * stream copy", measures both Node copies (ours) beside this lab.
 *
 * Modes, the leak and its two fixes side by side:
 *   slurp     read the whole file into one buffer, then write it (Node's
 *             fs.readFile + fs.writeFile). Peak rss is the file's size.
 *   stream    a --buffer (64 KiB) read/write loop that copes with short
 *             reads, short writes and EINTR. Peak rss is flat.
 *   zerocopy  copy_file_range(2), else sendfile(2), else the stream loop
 *             where the kernel refuses both. No buffer in user space.
 *
 * Correctness, in every mode: a regular-file DST is written to a temporary
 * file beside it and renamed over DST only when the copy is complete, so a
 * failed copy never leaves a partial file under DST's name. Where a rename
 * would not do what cp does (a read-only DST, a symlink, a hard link), DST
 * is treated as cp treats it; a FIFO or a device is written directly
 * (harness/dest.c). Every failure is one line, path and strerror, exit 1.
 * The copy is not sparse: a hole in SRC is written out as zeros.
 *
 * Run it:  make lab5      or   build/lab5 --make-input 64M in.bin &&
 *                              build/leaklab run 5 -- in.bin out.bin
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/dest.h"
#include "../harness/lab.h"
#include "../harness/probe.h"

/* Each mode is a constant in `enum mode`, an entry in modes[] and a case
 * in every `switch (mode)` in main(), none of which has a `default:`. The
 * compiler keeps the three in step: a constant without its case is a
 * -Wswitch error, an entry needs its constant, and an entry past the end
 * fails the _Static_assert. A new mode goes last, MODE_COUNT after it. */
enum mode { SLURP, STREAM, ZEROCOPY };
enum { MODE_COUNT = ZEROCOPY + 1 };

static const struct lab_mode modes[] = {
    [SLURP] = {
        .name = "slurp", .cap_kind = "kill", .cap = "24M",
        .caption = "Read it all, then write: peak rss grows with the file's "
                   "size",
        .expect = "killed",
    },
    [STREAM] = {
        .name = "stream", .cap_kind = "rlimit",
        .caption = "A 64 KiB buffer in a loop: rss flat whatever the file's "
                   "size",
        .expect = "finished",
    },
    [ZEROCOPY] = {
        .name = "zerocopy", .cap_kind = "rlimit",
        .caption = "copy_file_range: the kernel copies, no buffer in user "
                   "space",
        .expect = "finished",
    },
    [MODE_COUNT] = {0},   /* the end: MODE_COUNT is the last mode + 1 */
};
_Static_assert(sizeof modes / sizeof modes[0] == MODE_COUNT + 1,
               "modes[]: one entry per enum mode, then [MODE_COUNT] = {0}");

static const struct lab_option options[] = {
    {"buffer", "SIZE", "stream's buffer (default 64K); a row per max(1M, "
                       "SIZE) copied"},
    {"make-input", "SIZE", "write SIZE bytes of test data to PATH and exit "
                           "(usage: --make-input SIZE PATH)"},
    {0},
};

static uint64_t buffer_size = 64 << 10;  /* --buffer */
static uint64_t make_input_size;         /* --make-input SIZE */
static bool make_input;                  /* --make-input was given */

/* Returns false for a size that is not a size (or a zero buffer). */
static bool on_option(const char *name, const char *arg)
{
    if (strcmp(name, "buffer") == 0)
        return parse_size(arg, &buffer_size) && buffer_size > 0 &&
               buffer_size <= (1ULL << 30);
    make_input = true;
    return parse_size(arg, &make_input_size);
}

static const struct lab_info lab = {
    .number = 5,
    .title = "stream copy",
    .takeaway = "Copy through a small buffer, or let the kernel copy: "
                "never hold the whole file",
    .showcase = "slurp",
    .claim = "Slurping a file costs memory as big as the file",
    .recap_leak = "the whole file in memory",
    .recap_fix = "a 64 KiB buffer, or zero-copy",
    .recap_tool = "peak rss against file size",
    .modes = modes,
    .default_size = 64 << 10,
    .default_iterations = 0,
    .extra_columns = "copied_kib",
    .y2_columns = "copied_kib",     /* progress, on the chart's right axis */
    .x_label = "row (one per MiB of the file)",
    .options = options,
    .on_option = on_option,
    .once = true,                   /* one copy: no --iterations, --size */
    .positional = "SRC DST",
    .min_positional = 0,   /* main() checks: 2, or 1 with --make-input */
    .max_positional = 2,
    .notes = "Lab 5 copies SRC to DST once (no --iterations, no --size): "
             "its rows come one\nper MiB copied (copied_kib), or one per "
             "--buffer when that is larger.\n--make-input SIZE PATH writes "
             "a test file quickly.",
};

/* ------------------------------------------------------------------------
 * Reading and writing all of it, whatever the kernel hands back at a time
 * --------------------------------------------------------------------- */

static const char *src_path, *dst_path;  /* as given, for messages */

/* Reads up to len bytes of SRC, retrying after a signal. Returns how many
 * (0 at the end of the file; fewer than len is fine). Exits 1 naming SRC
 * on failure. */
static size_t read_src(int fd, unsigned char *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return (size_t)n;
        if (errno != EINTR)
            lab_fail(src_path);
    }
}

/* Writes all of buf, retrying after a signal and after a short write.
 * Exits 1 naming DST on failure (ENOSPC on a full disk, EFBIG, ...). */
static void write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            lab_fail(dst_path);
        if (n == 0) {          /* no progress and no error: treat as full */
            errno = ENOSPC;
            lab_fail(dst_path);
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* ------------------------------------------------------------------------
 * Rows: one per MiB (or per buffer, if larger) copied
 * --------------------------------------------------------------------- */

static uint64_t row_every;   /* bytes between rows */
static uint64_t next_row;    /* take a row when progress reaches this */
static long row;             /* rows taken, after the baseline */
static uint64_t last_copied; /* copied_kib of the last row, in bytes */

/* Takes the rows that `progress` bytes are due, recording `copied`. */
static void rows_due(uint64_t progress, uint64_t copied)
{
    while (progress >= next_row) {
        int64_t extra[1] = {(int64_t)(copied / 1024)};
        probe_sample(++row, extra);
        next_row += row_every;
        last_copied = copied;
    }
}

/* The last row, if the copy ended between two rows. */
static void final_row(uint64_t copied)
{
    if (copied != last_copied || row == 0) {
        int64_t extra[1] = {(int64_t)(copied / 1024)};
        probe_sample(++row, extra);
        last_copied = copied;
    }
}

/* ------------------------------------------------------------------------
 * The three copies. Each returns the bytes copied, or exits.
 * --------------------------------------------------------------------- */

/* slurp: one buffer the size of the file (grown if the file grows), read
 * 1 MiB at a time so each row shows it filling, then one write_all.
 * Exits 3 when the buffer cannot be had: the file does not fit. */
static uint64_t copy_slurp(int in, int out, off_t size_hint)
{
    /* One byte more than the file, for the read that finds its end: an
     * exact fit would double the buffer just to learn there is no more. */
    size_t cap = size_hint > 0 ? (size_t)size_hint + 1 : 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL)
            lab_wall("slurp: no memory for a %.1f MiB buffer: all of %s "
                     "has to fit in memory at once", mib(cap), src_path);
        if (len == cap) {                  /* the file grew as we read */
            unsigned char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
            cap *= 2;
            continue;
        }
        size_t want = cap - len < (1 << 20) ? cap - len : 1 << 20;
        size_t n = read_src(in, buf + len, want);
        if (n == 0)
            break;
        len += n;
        rows_due(len, 0);   /* nothing written yet: it is all in memory */
    }
    write_all(out, buf, len);
    final_row(len);     /* before the free: this is the peak */
    free(buf);
    return len;
}

/* stream: read what there is (a short read is fine), write all of it. */
static uint64_t copy_stream(int in, int out, uint64_t copied)
{
    unsigned char *buf = malloc(buffer_size);
    if (buf == NULL)
        lab_wall("stream: malloc(%llu) for the buffer returned NULL",
                 (unsigned long long)buffer_size);
    for (;;) {
        size_t n = read_src(in, buf, buffer_size);
        if (n == 0)
            break;
        write_all(out, buf, n);
        copied += n;
        rows_due(copied, copied);
    }
    free(buf);
    return copied;
}

/* The kernel says it cannot do this copy this way, as opposed to the copy
 * failing (ENOSPC, EIO): try the next way. */
static bool refused(int err)
{
    return err == EINVAL || err == EXDEV || err == ENOSYS ||
           err == EOPNOTSUPP || err == EBADF || err == ESPIPE;
}

/* A failed in-kernel copy: name DST for write-side errors, else SRC. */
static noreturn void fail_kernel_copy(void)
{
    bool dst = errno == ENOSPC || errno == EDQUOT || errno == EFBIG ||
               errno == EPIPE || errno == EROFS;
    lab_fail(dst ? dst_path : src_path);
}

static const char *copied_via = "read/write";  /* what zerocopy used */

/* zerocopy: copy_file_range, then sendfile, then the stream loop. Both
 * calls move the file offsets, so each fallback goes on from where the
 * last one stopped. */
static uint64_t copy_zero(int in, int out, off_t size_hint)
{
    uint64_t copied = 0;
    for (int way = 0; way < 2; way++) {
        copied_via = way == 0 ? "copy_file_range" : "sendfile";
        for (;;) {
            ssize_t n = way == 0
                ? copy_file_range(in, NULL, out, NULL, row_every, 0)
                : sendfile(out, in, NULL, row_every);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && refused(errno))
                break;                     /* try the next way */
            if (n < 0)
                fail_kernel_copy();
            if (n == 0 && copied == 0 && size_hint == 0)
                break;   /* /proc files say size 0 and copy 0: read them */
            if (n == 0)
                return copied;
            copied += (uint64_t)n;
            rows_due(copied, copied);
        }
    }
    copied_via = "read/write (the kernel refused both)";
    return copy_stream(in, out, copied);
}

/* ------------------------------------------------------------------------
 * --make-input: test data, quickly
 * --------------------------------------------------------------------- */

/* Writes `size` bytes of xorshift64 output, so that a shifted, dropped or
 * repeated block never compares equal. Returns nothing; exits 1 on error. */
static void write_input(uint64_t size)
{
    int out = dest_open(dst_path, 0666);
    static uint64_t block[(1 << 20) / 8];
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    while (size > 0) {
        for (size_t i = 0; i < sizeof block / 8; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            block[i] = x;
        }
        size_t n = size < sizeof block ? (size_t)size : sizeof block;
        write_all(out, (const unsigned char *)block, n);
        size -= n;
    }
    dest_commit(out);
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    if (a.npositional != (make_input ? 1 : 2))
        lab_usage(make_input ? "--make-input wants one PATH after SIZE"
                  : a.npositional == 0
                      ? "missing SRC DST (usage: lab5 [OPTIONS] SRC DST)"
                      : "missing DST (usage: lab5 [OPTIONS] SRC DST)");
    dest_guard();   /* a copy that does not finish leaves no file */

    if (make_input) {
        dst_path = a.positional[0];
        write_input(make_input_size);
        return EXIT_DONE;
    }
    src_path = a.positional[0];
    dst_path = a.positional[1];
    enum mode mode = (enum mode)(a.mode - modes);   /* a.mode is modes[mode] */

    int in = open(src_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        lab_fail(src_path);
    struct stat st;
    if (fstat(in, &st) < 0)
        lab_fail(src_path);
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        lab_fail(src_path);
    }
    struct stat dst;   /* cp refuses this too: DST would be truncated */
    if (stat(dst_path, &dst) == 0 && dst.st_dev == st.st_dev &&
        dst.st_ino == st.st_ino)
        lab_usage("SRC '%s' and DST '%s' are the same file", src_path,
                  dst_path);
    int out = dest_open(dst_path, st.st_mode & 0777);

    row_every = buffer_size > (1 << 20) ? buffer_size : 1 << 20;
    next_row = row_every;
    probe_start(&lab, &a, argc, argv);
    int64_t zero[1] = {0};
    probe_sample(0, zero);

    uint64_t copied = 0;
    const char *via = "";        /* how it copied, for the last line */
    switch (mode) {
    case SLURP:
        copied = copy_slurp(in, out, st.st_size);
        via = "one whole-file buffer";
        break;
    case STREAM:
        copied = copy_stream(in, out, 0);
        via = "read/write";
        break;
    case ZEROCOPY:
        copied = copy_zero(in, out, st.st_size);
        via = copied_via;
        break;
    }
    final_row(copied);
    close(in);
    dest_commit(out);
    probe_finish();
    if (!a.quiet)
        printf("%s: copied %llu bytes from %s to %s via %s\n", a.mode->name,
               (unsigned long long)copied, src_path, dst_path, via);
    return EXIT_DONE;
}
