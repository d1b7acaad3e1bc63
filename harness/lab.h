/*
 * lab.h - what every lab shares: its self-description, its command line,
 * and the three ways a lab ends badly (usage, runtime failure, memory wall).
 *
 * A lab fills in one `struct lab_info`, calls lab_parse() first thing in
 * main(), and gets back a `struct lab_args`. The runner (leaklab) learns
 * everything about a lab from `labN --describe`, which lab_parse() answers
 * from the same struct, so adding a lab never means editing the runner.
 */
#ifndef LEAKLAB_LAB_H
#define LEAKLAB_LAB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Exit codes every binary in the suite uses. */
enum {
    EXIT_DONE  = 0,  /* the run finished */
    EXIT_ERROR = 1,  /* a runtime failure: a path and its strerror */
    EXIT_USAGE = 2,  /* a bad argument: one line naming the bad value */
    EXIT_WALL  = 3,  /* a memory wall: a budget, a NULL from malloc, ... */
};

/* One mode of a lab: the leak, or its fix. */
struct lab_mode {
    const char *name;      /* the --mode value, e.g. "retain" */
    const char *cap_kind;  /* wall it demonstrates: "rlimit" or "kill" */
    const char *cap;       /* classroom cap the runner uses, or NULL (default) */
    const char *caption;   /* one-line takeaway, shown under its chart */
    const char *wall;      /* how its exit 3 reads on a chart ("FATAL: heap
                              limit"), or NULL for "limit: exit 3" */
    const char *expect;    /* the verdict its classroom run ends with:
                              "finished", "limit" (exit 3) or "killed"
                              (the watchdog); leaklab run exits 1 when a
                              run ends otherwise */
};

/* A flag of the lab's own, beyond the common ones lab_parse() handles. */
struct lab_option {
    const char *name;      /* long name, without the dashes */
    const char *arg;       /* name of its argument ("SIZE"), NULL for none */
    const char *help;      /* one line for --help */
};

/* A named set of sizes (--preset), for labs with a classroom size and the
 * seed's own. Whatever the command line gives explicitly wins. */
struct lab_preset {
    const char *name;      /* the --preset value: "classroom", "seed" */
    uint64_t size;         /* the --size it implies */
    long iterations;       /* the --iterations it implies */
    uint64_t max_heap;     /* the --max-heap it implies (heap budget) */
    const char *help;      /* one line for --help */
};

/* Everything the suite knows about one lab. */
struct lab_info {
    int number;                      /* N in build/labN */
    const char *title;               /* "closure-captured state" */
    const char *takeaway;            /* the lesson in one line */
    const char *showcase;            /* the mode that tells the story best */
    const char *claim;               /* the lesson as a claim, short enough
                                        for a slide's title ("A queue with
                                        no limit is a leak"), or NULL */
    const char *recap_leak;          /* the deck's closing line for the lab,
                                        a few words each: the leak ("a
                                        queue with no limit"), */
    const char *recap_fix;           /* its fix ("a bounded ring"), */
    const char *recap_tool;          /* and what shows it ("the depth
                                        column"); all three, or NULL */
    const struct lab_mode *modes;    /* ends with an entry whose name is NULL */
    uint64_t default_size;           /* --size when not given (bytes) */
    long default_iterations;         /* --iterations when not given */
    const struct lab_preset *presets;/* --preset and --max-heap: the first
                                        is the default and overrides the
                                        two above. NULL-terminated, or
                                        NULL for a lab without presets */
    const char *extra_columns;       /* TSV columns after the common six,
                                        tab-separated, or NULL. Charts draw
                                        those ending in _kib as memory */
    const char *y2_columns;          /* extra columns charts draw on a
                                        second axis (counts), comma-separated,
                                        or NULL */
    const char *x_label;             /* what a row is, for the charts' x
                                        axis; NULL: "iteration" */
    const char *compare_columns;     /* memory columns the comparison
                                        draws beside rss_kib in every
                                        mode's panel, comma-separated, or
                                        NULL for rss alone */
    const char *compare_charts;      /* columns charts compare across
                                        modes besides rss, each in a chart
                                        of its own (compare-COLUMN.png,
                                        a panel per mode), comma-separated,
                                        or NULL (lab 6's hit_rate) */
    const char *leak_column;         /* the column the runner watches for
                                        a leak (leak_suspected_at): NULL
                                        for heap_used_kib; "rss_kib" for a
                                        lab whose memory is not malloc's */
    const struct lab_option *options;/* the lab's own flags, NULL-terminated */
    /* Called for each of the lab's own flags; arg is NULL for a flag that
     * takes none. Returns false when the value is bad (lab_parse then
     * reports it and exits 2). */
    bool (*on_option)(const char *name, const char *arg);
    bool once;                       /* runs once over its input (lab 5):
                                        --iterations and --size do not
                                        apply, and are refused with exit 2 */
    const char *positional;          /* e.g. "SRC DST", or NULL for none */
    int min_positional, max_positional;  /* how many it takes */
    const char *notes;               /* extra --help paragraph (how common
                                        flags apply to this lab), or NULL */
};

/* What lab_parse() hands back. */
struct lab_args {
    const struct lab_mode *mode;  /* the chosen mode (default: the first) */
    long iterations;              /* --iterations */
    uint64_t size;                /* --size, in bytes: 1 to PTRDIFF_MAX */
    bool size_given;              /* --size was on the command line */
    bool iterations_given;        /* --iterations was on the command line */
    const char *tsv;              /* --tsv, else $LEAKLAB_TSV, else NULL */
    bool quiet;                   /* --quiet: no human table on stdout */
    const struct lab_preset *preset; /* --preset (NULL without presets) */
    uint64_t max_heap;            /* --max-heap, else the preset's; 0 is
                                     no budget. The probe records it (the
                                     TSV's # max_heap= line) when not 0, so
                                     a mode that keeps no budget sets it
                                     to 0 before probe_start() */
    char **positional;            /* arguments after the flags */
    int npositional;              /* how many */
};

/* Parses the common flags (--mode --iterations --size --tsv --quiet --help
 * --describe --no-cap; --preset and --max-heap for a lab with presets) and
 * the lab's own. Exits 0 after --help or --describe and 2
 * on any bad argument (or a TSV that is the same file as an argument);
 * returns only when the lab should run. Call it
 * before printing anything: it gives stdout a static buffer (lab.c).
 * A lab run by hand, which nothing caps (no finite RLIMIT_AS, no
 * $LEAKLAB_CAP from the runner, no --no-cap), leaves it with RLIMIT_AS at
 * default_cap(); lab_say_cap() tells the user. */
void lab_parse(const struct lab_info *lab, int argc, char **argv,
               struct lab_args *out);

/* Prints, once, the line saying what lab_parse() did about a bare run's
 * cap, unless quiet. probe_start() calls it, once every check of the
 * command line has passed: a usage error stays one line. */
void lab_say_cap(bool quiet);

/* After getopt_long() returned '?' or ':', writes into buf what was wrong,
 * naming the option as it was typed: "unknown option '--frob'", "option
 * '--quiet' takes no value", "option '--m' is ambiguous: --mode,
 * --make-input", "option '-s' needs a value". `typed` is the argument
 * getopt_long() was reading: argv[optind] as it was before the call.
 * Returns buf; the text holds no byte the user did not type. */
struct option;
const char *option_error(int c, const char *typed,
                         const struct option *longopts, char *buf,
                         size_t len);

/* Parses a size such as 4096, 64K, 16M or 2G (powers of 1024; an optional
 * trailing "B" or "iB" is accepted). Returns false if the text is not a size
 * or does not fit in 64 bits. */
bool parse_size(const char *text, uint64_t *bytes);

/* Parses a whole number in [min, max]. Returns false otherwise. */
bool parse_long(const char *text, long min, long max, long *value);

/* The cap every harness run gets unless told otherwise (leaklab, and
 * bench-run): the smaller of 2 GiB and a quarter of physical memory. */
uint64_t default_cap(void);

/* Human-readable MiB, for messages: bytes / 1048576. */
double mib(uint64_t bytes);

/* The three bad endings. Each prints one line on stderr, prefixed with the
 * program's name, and exits with the matching code. */
noreturn void lab_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
noreturn void lab_fail(const char *path);  /* "path: strerror(errno)", 1 */
noreturn void lab_wall(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The one line every message above is: "prog: " and the formatted text,
 * its control characters escaped as record_escape does, so that an
 * argument holding a newline cannot split it (or forge a second line).
 * Cut at 2 KiB of text. */
void say_line(const char *prog, const char *fmt, va_list ap);

/* The program's name for messages ("lab1"): argv[0] without its path. */
const char *lab_progname(void);

/* Copies src to dst for a record line (a .meta value, a TSV '#' line), so
 * that no argument can forge a line or a field: backslash becomes \\,
 * newline \n, tab \t, any other byte below 0x20 and 0x7f \xHH; every
 * other byte, UTF-8 included, is kept. Writes at most len bytes with the
 * NUL, never half an escape. Returns the length the whole escaped text
 * needs, without the NUL, as snprintf does: a return >= len means cut. */
size_t record_escape(char *dst, size_t len, const char *src);

/* A program given by its path, as `leaklab run` and `leaklab hunt` take
 * one instead of a lab number: any argument with a '/' in it. Checks
 * that which names an executable file, copies it to path and its file
 * name (its records' folder) to name. Returns false, with a one-line
 * reason naming which in why, if it does not or does not fit. */
bool program_path(const char *which, char *path, size_t plen, char *name,
                  size_t nlen, char *why, size_t wlen);

/* Resident set size, in bytes, from an open /proc/PID/statm (pread at
 * offset 0, so the same fd serves every reading). Returns 0 if it cannot
 * be read: the process is gone. Shared by the probe and the runner's
 * watchdog. */
uint64_t statm_rss_bytes(int statm_fd);

#endif
