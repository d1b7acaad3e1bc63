/*
 * probe.h - memory at every iteration, as TSV rows and as the seed's table.
 *
 * A lab calls probe_start() once, probe_sample() once per iteration (and
 * once before the first, as the seed's showMem() does), and probe_finish()
 * at the end. Each sample reads:
 *
 *   rss_kib         resident pages, from /proc/self/statm   (Node: rss)
 *   heap_total_kib  what malloc holds from the OS: mallinfo2 arena + hblkhd
 *                                                          (Node: heapTotal)
 *   heap_used_kib   what the program has malloc'd and not freed:
 *                   uordblks + hblkhd                      (Node: heapUsed)
 *   mmap_kib        the part of both that malloc took with mmap: hblkhd
 *
 * What the TSV holds, at any moment and however the lab ends: the comment
 * lines and the header (written together), then whole rows, in order, and
 * nothing else.
 *
 *   - Each row (at most 512 bytes) goes out in one write(2) to a file
 *     opened with O_APPEND, so rows already written stay, and a kill lands
 *     between two rows, with one exception: Linux stops a write to a file
 *     between two pages when SIGKILL arrives, so a row that straddles a
 *     page boundary can be cut there. The runner cuts such a last row off
 *     when its lab dies by a signal (leaklab.c, cut_partial_row).
 *   - A file that cannot take a whole row (RLIMIT_FSIZE, a full disk, a
 *     quota) takes part of it: write(2) comes back short. The probe writes
 *     the rest once more (should that succeed, the row is whole and the
 *     run goes on). When it fails, and says why, the probe cuts the file
 *     back to the end of the last whole row (ftruncate) and exits 1 with
 *     the path and that error: "File too large" (EFBIG) past `ulimit -f`,
 *     "No space left on device" (ENOSPC) on a full disk. If the header
 *     itself did not fit, the file is left empty.
 *   - probe_start() ignores SIGXFSZ when it opens a TSV, so that passing
 *     RLIMIT_FSIZE is that EFBIG and not a kill by the kernel.
 *
 * One gap remains: a SIGKILL between a short write and the cut (a few
 * system calls, and only when the file cannot grow) leaves that row's
 * first part at the end of the file. Readers check every row (plot.sh
 * refuses a torn TSV). If the cut itself fails, the error line says the
 * partial row stays.
 *
 * Under Valgrind, $LEAKLAB_VG_MONITOR names a monitor command (the ones
 * vgdb sends) that every sample also runs, with "{iter}" replaced by the
 * iteration: "snapshot out/lab1/retain-massif/iter-{iter}.massif" makes
 * massif take a snapshot at the very point each TSV row is written (make
 * massif), "leak_check summary increased" has memcheck report what grew
 * since the last sample. Several commands, one a line, run in turn.
 * Outside Valgrind it does nothing.
 *
 * $LEAKLAB_VG_AT, if set, runs them at chosen iterations only: a list
 * ("14,27,40"), or "spread:K", K iterations as far apart as --iterations
 * allows, the last one last (40 iterations: 14, 27, 40). Before each, the
 * probe writes "leaklab snapshot at iteration N" to Valgrind's log, so
 * that a reader knows what the lines after it belong to (leaklab hunt,
 * harness/hunt.c).
 */
#ifndef LEAKLAB_PROBE_H
#define LEAKLAB_PROBE_H

#include <stdint.h>

#include "lab.h"

/* One sample, as the TSV row records it. */
struct probe_reading {
    double t_ms;              /* monotonic milliseconds since probe_start */
    uint64_t rss_kib;         /* resident set size */
    uint64_t heap_total_kib;  /* malloc's arena + mmapped chunks */
    uint64_t heap_used_kib;   /* bytes in use in both */
    uint64_t mmap_kib;        /* mmapped chunks alone */
};

/* Opens the TSV (args->tsv; none if NULL), ignores SIGXFSZ, and writes
 * its # comment lines (every string in them through record_escape, so
 * that no argument can add a line) and header. On failure it reports the
 * path and exits 1, leaving the file empty. */
void probe_start(const struct lab_info *lab, const struct lab_args *args,
                 int argc, char **argv);

/* Takes one sample and writes it: a TSV row, and unless --quiet the seed's
 * two lines on stdout. `extra` holds one value per column the lab named in
 * lab_info.extra_columns (NULL if it named none). Returns the reading. A
 * failed write to the TSV cuts the file back to its last whole row,
 * reports the path and the error, and exits 1 (see above). */
struct probe_reading probe_sample(long iter, const int64_t *extra);

/* Reads memory without recording anything. */
struct probe_reading probe_read(void);

/* Whether probe_start() was told --quiet: nothing for a human on stdout. */
bool probe_quiet(void);

/* Closes the TSV. Safe to call when probe_start() opened none. */
void probe_finish(void);

#endif
