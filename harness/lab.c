/*
 * lab.c - the command line every lab shares, its --help and --describe,
 * size parsing, the three bad endings (exit 1, 2 and 3), and two helpers
 * the probe and the runner share: record escaping and the statm reader.
 */
#define _GNU_SOURCE
#include "lab.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char progname[32] = "lab";

/* stdout gets a static buffer so that printing the table never shows up
 * in the heap numbers it prints. lab_parse() sets it, as the first thing
 * a lab does: setvbuf is only allowed before a stream's first output. */
static char stdout_buffer[4096];

const char *lab_progname(void) { return progname; }

/* ------------------------------------------------------------------------
 * Numbers and sizes
 * --------------------------------------------------------------------- */

bool parse_size(const char *text, uint64_t *bytes)
{
    if (text == NULL || *text < '0' || *text > '9')
        return false;               /* strtoull would accept "-1" and " 1" */
    errno = 0;
    char *end;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno == ERANGE)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    }
    if (shift != 0 && *end == 'i')  /* "MiB" */
        end++;
    if (*end == 'B')                /* "MB", "MiB", or bytes as "4096B" */
        end++;
    if (*end != '\0')
        return false;
    if (shift != 0 && n > (UINT64_MAX >> shift))
        return false;               /* would not fit in 64 bits */
    *bytes = (uint64_t)n << shift;
    return true;
}

bool parse_long(const char *text, long min, long max, long *value)
{
    if (text == NULL || *text == '\0')
        return false;
    errno = 0;
    char *end;
    long n = strtol(text, &end, 10);
    if (errno == ERANGE || *end != '\0' || n < min || n > max)
        return false;
    *value = n;
    return true;
}

double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

uint64_t default_cap(void)
{
    uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) *
                    (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t two_gib = 2ULL << 30;
    return phys / 4 < two_gib ? phys / 4 : two_gib;
}

/* Writes a size the way a user would type it: 1M rather than 1048576. */
static void format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char units[] = "KMGT";
    int u = -1;
    while (u < 3 && bytes != 0 && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, len, "%" PRIu64, bytes);
    else
        snprintf(buf, len, "%" PRIu64 "%c", bytes, units[u]);
}

/* ------------------------------------------------------------------------
 * Records and memory, for the probe and the runner
 * --------------------------------------------------------------------- */

size_t record_escape(char *dst, size_t len, const char *src)
{
    size_t need = 0, used = 0;   /* whole text; what fits in dst */
    bool cut = false;            /* an escape did not fit: stop writing */
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char esc[8];
        size_t n = 2;
        switch (*p) {
        case '\\': memcpy(esc, "\\\\", 2); break;
        case '\n': memcpy(esc, "\\n", 2); break;
        case '\t': memcpy(esc, "\\t", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
            else
                esc[0] = (char)*p, n = 1;
        }
        need += n;
        if (!cut && used + n < len) {
            memcpy(dst + used, esc, n);
            used += n;
        } else {
            cut = true;
        }
    }
    if (len > 0)
        dst[used] = '\0';
    return need;
}

uint64_t statm_rss_bytes(int statm_fd)
{
    char buf[128];
    ssize_t n = pread(statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strchr(buf, ' ');   /* skip "size", read "resident" */
    return p ? strtoull(p + 1, NULL, 10) * (uint64_t)sysconf(_SC_PAGESIZE)
             : 0;
}

/* ------------------------------------------------------------------------
 * The bad endings
 * --------------------------------------------------------------------- */

void say_line(const char *prog, const char *fmt, va_list ap)
{
    char text[2048], line[4096];
    vsnprintf(text, sizeof text, fmt, ap);
    record_escape(line, sizeof line, text);
    fprintf(stderr, "%s: %s\n", prog, line);
}

noreturn void lab_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_line(progname, fmt, ap);
    va_end(ap);
    exit(EXIT_USAGE);
}

noreturn void lab_fail(const char *path)
{
    const char *why = strerror(errno);
    char line[PATH_MAX * 4 + 64];
    record_escape(line, sizeof line, path);
    fprintf(stderr, "%s: %s: %s\n", progname, line, why);
    exit(EXIT_ERROR);
}

noreturn void lab_wall(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);   /* the table so far, then the wall, in that order */
    say_line(progname, fmt, ap);
    va_end(ap);
    exit(EXIT_WALL);
}

/* ------------------------------------------------------------------------
 * --help and --describe
 * --------------------------------------------------------------------- */

static void print_help(const struct lab_info *lab)
{
    char size[32];
    const struct lab_preset *first = lab->presets;
    format_size(first ? first->size : lab->default_size, size, sizeof size);
    printf("Usage: %s [OPTIONS]%s%s\n", progname,
           lab->positional ? " " : "", lab->positional ? lab->positional : "");
    printf("Lab %d: %s.\n%s\n\nModes (--mode), with the wall each one meets:\n",
           lab->number, lab->title, lab->takeaway);
    for (const struct lab_mode *m = lab->modes; m->name; m++)
        printf("  %-10s %-7s %s\n", m->name, m->cap_kind, m->caption);
    printf("\nOptions:\n"
           "  -m, --mode MODE        which mode to run (default %s)\n",
           lab->modes[0].name);
    if (!lab->once)
        printf("  -n, --iterations N     iterations to run (default %ld)\n"
               "  -s, --size SIZE        bytes per iteration, K/M/G suffixes"
               " (default %s)\n",
               first ? first->iterations : lab->default_iterations, size);
    printf("      --tsv FILE         write one TSV row per iteration to FILE\n"
           "                         (default: $LEAKLAB_TSV, else no file)\n"
           "  -q, --quiet            no human-readable table on stdout\n"
           "      --describe         one machine-readable line, for leaklab\n"
           "      --no-cap           no memory cap of its own (see below)\n"
           "  -h, --help             this text\n");
    if (first) {
        char budget[32];
        format_size(first->max_heap, budget, sizeof budget);
        printf("      --preset NAME      the sizes, where --size, "
               "--iterations and --max-heap\n"
               "                         are left out (default %s):\n",
               first->name);
        for (const struct lab_preset *p = first; p->name; p++)
            printf("                           %-10s %s\n", p->name, p->help);
        printf("      --max-heap SIZE    the heap budget, as V8's "
               "--max-old-space-size\n"
               "                         (default: the preset's, %s)\n",
               budget);
    }
    for (const struct lab_option *o = lab->options; o && o->name; o++) {
        char flag[40];
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        printf("      %-18s %s\n", flag, o->help);
    }
    if (lab->notes)
        printf("\n%s\n", lab->notes);
    printf("\nRun by hand, with nothing else capping it (leaklab, ulimit -v), "
           "a lab caps\nits own address space at the runner's default, "
           "%.0f MiB here, and says so\non stderr (unless --quiet); "
           "--no-cap lifts that cap.\n", mib(default_cap()));
    printf("\nExit codes: 0 done, 1 runtime error, 2 bad usage, "
           "3 memory wall.\n");
}

/* The sanitizer this binary was built with: "address", "thread" or
 * "none". */
static const char *sanitizer(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return "address";
#elif defined(__SANITIZE_THREAD__)
    return "thread";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return "address";
#elif __has_feature(thread_sanitizer)
    return "thread";
#endif
#endif
    return "none";
}

/* One line of tab-separated key=value pairs. Values never hold a tab. */
static void print_describe(const struct lab_info *lab)
{
    printf("lab=%d\ttitle=%s\ttakeaway=%s\tshowcase=%s\tmodes=",
           lab->number, lab->title, lab->takeaway, lab->showcase);
    for (const struct lab_mode *m = lab->modes; m->name; m++)
        printf("%s%s", m == lab->modes ? "" : ",", m->name);
    for (const struct lab_mode *m = lab->modes; m->name; m++) {
        printf("\tcap_kind.%s=%s\tcaption.%s=%s", m->name, m->cap_kind,
               m->name, m->caption);
        if (m->cap)
            printf("\tcap.%s=%s", m->name, m->cap);
        if (m->wall)
            printf("\twall.%s=%s", m->name, m->wall);
        if (m->expect)
            printf("\texpect.%s=%s", m->name, m->expect);
    }
    if (lab->extra_columns && *lab->extra_columns) {
        printf("\tcolumns=");
        for (const char *c = lab->extra_columns; *c; c++)
            putchar(*c == '\t' ? ',' : *c);
    }
    if (lab->y2_columns)
        printf("\ty2=%s", lab->y2_columns);
    if (lab->x_label)
        printf("\txlabel=%s", lab->x_label);
    if (lab->leak_column)
        printf("\tleak_column=%s", lab->leak_column);
    if (lab->claim)                 /* the slides' words (plots/slides.sh) */
        printf("\tclaim=%s", lab->claim);
    if (lab->recap_leak && lab->recap_fix && lab->recap_tool)
        printf("\trecap.leak=%s\trecap.fix=%s\trecap.tool=%s",
               lab->recap_leak, lab->recap_fix, lab->recap_tool);
    if (lab->compare_columns)
        printf("\tcompare=%s", lab->compare_columns);
    if (lab->compare_charts)        /* charts of their own, compare-COL */
        printf("\tcompare_charts=%s", lab->compare_charts);
    printf("\tsanitizer=%s\n", sanitizer());
}

/* ------------------------------------------------------------------------
 * A bad option, in the words it was typed
 * --------------------------------------------------------------------- */

const char *option_error(int c, const char *typed,
                         const struct option *longopts, char *buf,
                         size_t len)
{
    if (strncmp(typed, "--", 2) != 0) {      /* -x, or a bundle: -qx */
        if (optopt > ' ' && optopt < 127)
            snprintf(buf, len, c == ':' ? "option '-%c' needs a value"
                                        : "unknown option '-%c'", optopt);
        else                                 /* no byte of half a char */
            snprintf(buf, len, "unknown option in '%s'", typed);
        return buf;
    }
    const char *name = typed + 2;            /* --name, or --name=value */
    int n = (int)strcspn(name, "=");
    if (c == ':') {
        snprintf(buf, len, "option '--%.*s' needs a value", n, name);
    } else if (optopt != 0) {                /* getopt's val for it */
        snprintf(buf, len, "option '--%.*s' takes no value", n, name);
    } else {              /* unknown, or the start of more than one */
        char which[256] = "";
        int matches = 0;
        for (const struct option *o = longopts; o->name; o++)
            if (n > 0 && strncmp(o->name, name, (size_t)n) == 0) {
                size_t used = strlen(which);
                snprintf(which + used, sizeof which - used, "%s--%s",
                         matches++ ? ", " : "", o->name);
            }
        if (matches > 1)
            snprintf(buf, len, "option '--%.*s' is ambiguous: %s", n, name,
                     which);
        else
            snprintf(buf, len, "unknown option '--%.*s'", n, name);
    }
    return buf;
}

/* ------------------------------------------------------------------------
 * The cap of a lab run by hand
 * --------------------------------------------------------------------- */

/* Defined by the LeakSanitizer runtime (in ASan's, and alone with
 * -fsanitize=leak, for which GCC defines no macro): NULL without it. */
void __lsan_do_leak_check(void) __attribute__((weak));

/* The sanitizer this binary runs with that reserves terabytes of address
 * space at start (so that under any RLIMIT_AS its next mmap, hence
 * malloc, fails), by name; NULL for none. */
static const char *reserving_sanitizer(void)
{
    if (strcmp(sanitizer(), "thread") == 0)
        return "ThreadSanitizer";
    if (strcmp(sanitizer(), "address") == 0)
        return "AddressSanitizer";
    return __lsan_do_leak_check ? "LeakSanitizer" : NULL;
}

static char cap_note[320];   /* what lab_parse() did about the cap, for
                                lab_say_cap() to print; "" for nothing */

/* A lab run by hand has nobody to cap it, and one typo in --size can ask
 * for more than the machine has. So a lab that nothing caps sets the
 * runner's default cap on itself. Something caps it when RLIMIT_AS is
 * finite (leaklab, bench-run, ulimit -v, prlimit) or $LEAKLAB_CAP names
 * the cap the runner applies (rlimit, kill or none: the runner's choice,
 * not ours). --no-cap (no_cap) asks for none. Exits 2 on a bad
 * $LEAKLAB_CAP. */
static void cap_bare_run(bool no_cap)
{
    const char *runner = getenv("LEAKLAB_CAP");
    if (runner && *runner) {
        if (strcmp(runner, "rlimit") != 0 && strcmp(runner, "kill") != 0 &&
            strcmp(runner, "none") != 0)
            lab_usage("bad LEAKLAB_CAP '%s': want rlimit, kill or none",
                      runner);
        return;
    }
    struct rlimit rl;
    if (no_cap || getrlimit(RLIMIT_AS, &rl) < 0 ||
        rl.rlim_cur != RLIM_INFINITY)
        return;
    const char *reserving = reserving_sanitizer();
    if (reserving) {
        snprintf(cap_note, sizeof cap_note, "%s: not capped: %s reserves "
                 "terabytes of address space, so RLIMIT_AS cannot cap this "
                 "build (leaklab's kill cap can)", progname,
                 reserving);
        return;
    }
    rl.rlim_cur = default_cap();   /* the soft limit: what malloc meets */
    if (setrlimit(RLIMIT_AS, &rl) < 0)
        lab_fail("setrlimit(RLIMIT_AS)");
    snprintf(cap_note, sizeof cap_note, "%s: capped at %.0f MiB of address "
             "space (RLIMIT_AS), the runner's default, as nothing else caps "
             "this run; --no-cap lifts it", progname, mib(rl.rlim_cur));
}

void lab_say_cap(bool quiet)
{
    if (!quiet && cap_note[0])
        fprintf(stderr, "%s\n", cap_note);
    cap_note[0] = '\0';
}

/* ------------------------------------------------------------------------
 * The TSV must not be one of the lab's files
 * --------------------------------------------------------------------- */

/* Exits 2 if args->tsv names the same regular file (device and inode, so
 * any name for it) as one of the positional arguments: writing the TSV
 * would truncate it, and lab 5's SRC is a student's file. from_env: the
 * name came from $LEAKLAB_TSV, not --tsv. */
static void refuse_tsv_on_input(const struct lab_info *lab,
                                const struct lab_args *args, bool from_env)
{
    struct stat tsv, arg;
    if (args->tsv == NULL || stat(args->tsv, &tsv) < 0 ||
        !S_ISREG(tsv.st_mode))
        return;
    const char *words = lab->positional ? lab->positional : "";
    for (int i = 0; i < args->npositional; i++) {
        int len = (int)strcspn(words, " ");   /* its name: SRC, DST */
        if (stat(args->positional[i], &arg) == 0 &&
            arg.st_dev == tsv.st_dev && arg.st_ino == tsv.st_ino)
            lab_usage("%s '%s' is the same file as %.*s%s'%s': writing the "
                      "TSV would destroy it", from_env ? "LEAKLAB_TSV"
                      : "--tsv", args->tsv, len, words, len ? " " : "",
                      args->positional[i]);
        words += len + (words[len] == ' ');
    }
}

/* ------------------------------------------------------------------------
 * lab_parse
 * --------------------------------------------------------------------- */

enum { OPT_TSV = 1000, OPT_DESCRIBE, OPT_NO_CAP, OPT_PRESET, OPT_MAX_HEAP,
       OPT_OWN /* + index of the lab's own */ };

void lab_parse(const struct lab_info *lab, int argc, char **argv,
               struct lab_args *out)
{
    setvbuf(stdout, stdout_buffer, _IOLBF, sizeof stdout_buffer);
    const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
    snprintf(progname, sizeof progname, "%s",
             base ? base + 1 : argc > 0 ? argv[0] : "lab");
    *out = (struct lab_args){
        .mode = &lab->modes[0],
        .iterations = lab->default_iterations,
        .size = lab->default_size,
        .tsv = getenv("LEAKLAB_TSV"),
    };
    if (out->tsv && *out->tsv == '\0')
        out->tsv = NULL;

    static const struct option common[] = {
        {"mode",       required_argument, NULL, 'm'},
        {"iterations", required_argument, NULL, 'n'},
        {"size",       required_argument, NULL, 's'},
        {"tsv",        required_argument, NULL, OPT_TSV},
        {"quiet",      no_argument,       NULL, 'q'},
        {"describe",   no_argument,       NULL, OPT_DESCRIBE},
        {"help",       no_argument,       NULL, 'h'},
        {"no-cap",     no_argument,       NULL, OPT_NO_CAP},
        {"preset",     required_argument, NULL, OPT_PRESET},    /* only */
        {"max-heap",   required_argument, NULL, OPT_MAX_HEAP},  /* with */
    };                                                 /* presets: below */
    enum { NALL = sizeof common / sizeof common[0], MAXOWN = 16 };
    const int ncommon = lab->presets ? NALL : NALL - 2;
    struct option longopts[NALL + MAXOWN + 1];
    memcpy(longopts, common, sizeof common);
    out->preset = lab->presets;
    bool max_heap_given = false, no_cap = false, tsv_given = false;
    int nown = 0;
    for (const struct lab_option *o = lab->options; o && o->name; o++) {
        if (nown == MAXOWN)
            abort();                  /* a lab with 17 flags needs a rethink */
        longopts[ncommon + nown] = (struct option){
            o->name, o->arg ? required_argument : no_argument, NULL,
            OPT_OWN + nown};
        nown++;
    }
    longopts[ncommon + nown] = (struct option){0};

    opterr = 0;   /* we print our own one-line messages */
    int c, at = optind;   /* at: the argument getopt is reading */
    for (; (c = getopt_long(argc, argv, "+:m:n:s:qh", longopts, NULL)) != -1;
         at = optind) {
        switch (c) {
        case 'm':
            out->mode = NULL;
            for (const struct lab_mode *m = lab->modes; m->name; m++)
                if (strcmp(m->name, optarg) == 0)
                    out->mode = m;
            if (out->mode == NULL)
                lab_usage("unknown mode '%s' (see --help)", optarg);
            break;
        case 'n':
            if (!parse_long(optarg, 0, 100000000, &out->iterations))
                lab_usage("bad --iterations '%s': want a whole number "
                          "from 0 to 100000000", optarg);
            out->iterations_given = true;
            if (lab->once)
                lab_usage("--iterations does not apply to %s: it runs once "
                          "over its input (see --help)", progname);
            break;
        case 's':
            if (!parse_size(optarg, &out->size) || out->size == 0)
                lab_usage("bad --size '%s': want a size such as 64K, 1M "
                          "or 2G", optarg);
            /* Every lab asks for --size bytes (plus a header) in one
             * block; past PTRDIFF_MAX no malloc can succeed, and the
             * header's few bytes would wrap size_t around to a tiny,
             * successful allocation. */
            if (out->size > PTRDIFF_MAX)
                lab_usage("bad --size '%s': larger than any one block of "
                          "memory can be", optarg);
            out->size_given = true;
            if (lab->once)
                lab_usage("--size does not apply to %s: it runs once over "
                          "its input (see --help)", progname);
            break;
        case OPT_PRESET:
            out->preset = NULL;
            for (const struct lab_preset *p = lab->presets; p->name; p++)
                if (strcmp(p->name, optarg) == 0)
                    out->preset = p;
            if (out->preset == NULL)
                lab_usage("unknown preset '%s' (see --help)", optarg);
            break;
        case OPT_MAX_HEAP:
            if (!parse_size(optarg, &out->max_heap) || out->max_heap == 0)
                lab_usage("bad --max-heap '%s': want a size such as 280M "
                          "or 1400M", optarg);
            max_heap_given = true;
            break;
        case OPT_TSV:     out->tsv = optarg; tsv_given = true; break;
        case 'q':         out->quiet = true; break;
        case OPT_NO_CAP:  no_cap = true; break;
        case OPT_DESCRIBE: print_describe(lab); exit(EXIT_DONE);
        case 'h':         print_help(lab); exit(EXIT_DONE);
        case '?':
        case ':': {
            char why[512];
            lab_usage("%s (see --help)",
                      option_error(c, argv[at], longopts, why, sizeof why));
        }
        default: {
            const struct lab_option *o = &lab->options[c - OPT_OWN];
            if (!lab->on_option(o->name, optarg))
                lab_usage("bad --%s '%s' (see --help)", o->name,
                          optarg ? optarg : "");
        }
        }
    }
    if (out->preset) {   /* fills in what the command line left out */
        if (!out->size_given)
            out->size = out->preset->size;
        if (!out->iterations_given)
            out->iterations = out->preset->iterations;
        if (!max_heap_given)
            out->max_heap = out->preset->max_heap;
    }
    out->positional = argv + optind;
    out->npositional = argc - optind;
    if (out->npositional < lab->min_positional ||
        out->npositional > lab->max_positional) {
        if (out->npositional > lab->max_positional)
            lab_usage("unexpected argument '%s' (usage: %s [OPTIONS]%s%s)",
                      argv[optind + lab->max_positional], progname,
                      lab->positional ? " " : "",
                      lab->positional ? lab->positional : "");
        lab_usage("missing %s (usage: %s [OPTIONS] %s)", lab->positional,
                  progname, lab->positional);
    }
    refuse_tsv_on_input(lab, out, !tsv_given);
    cap_bare_run(no_cap);
}

/* ------------------------------------------------------------------------
 * A program by its path (leaklab run PATH, leaklab hunt PATH)
 * --------------------------------------------------------------------- */

bool program_path(const char *which, char *path, size_t plen, char *name,
                  size_t nlen, char *why, size_t wlen)
{
    const char *slash = strrchr(which, '/');
    const char *base = slash ? slash + 1 : which;
    struct stat st;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        snprintf(why, wlen, "'%s' names a directory, not a program", which);
        return false;
    }
    if ((size_t)snprintf(path, plen, "%s", which) >= plen ||
        (size_t)snprintf(name, nlen, "%s", base) >= nlen) {
        snprintf(why, wlen, "path too long: '%s'", which);
        return false;
    }
    if (stat(path, &st) != 0) {
        snprintf(why, wlen, "'%s': %s", which, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
        snprintf(why, wlen, "'%s' is not a program: not an executable file",
                 which);
        return false;
    }
    return true;
}
