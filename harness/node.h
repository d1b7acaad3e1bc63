/*
 * node.h - what the runner needs to run a lab's Node.js twin
 * (leaklab run N --node): where the twin is, which node runs it, and how
 * to read the way V8 ends a run.
 *
 * A twin is labs/node/labN-NAME.js. It answers --describe as a C lab does
 * (labs/node/probe.js), so the runner checks it, caps it, watches it and
 * records it like one, under out/labN/node-MODE.tsv, .meta and .log, with
 * its description in out/labN/node-lab.meta. Two things differ:
 *
 *   - The program run is node, with the twin's path as its first
 *     argument: `node labs/node/lab2-heap-cap.js --mode budget ...`.
 *   - V8 ends a run at its heap limit by printing "FATAL ERROR: ...
 *     JavaScript heap out of memory" and calling abort(): SIGABRT, which
 *     for a C lab would be a crash. For a twin it is the wall its lesson
 *     is about, so node_judge() calls it `limit`, "V8 heap limit"; and a
 *     V8 that could not even reserve its address space at start (under
 *     an RLIMIT_AS below some 700 MiB: "Fatal process out of memory",
 *     SIGTRAP) `limit`, "V8 could not reserve its address space".
 */
#ifndef LEAKLAB_NODE_H
#define LEAKLAB_NODE_H

#include <stdbool.h>
#include <stddef.h>

/* The node program to run: $LEAKLAB_NODE if set and not empty, else
 * "node", looked up in PATH by execvp. */
const char *node_program(void);

/* Is node_program() there to run? (A name without '/' is searched in
 * PATH, as execvp would.) */
bool node_available(void);

/* Finds lab N's twin: the one file labs/node/labN-*.js, in
 * $LEAKLAB_NODE_DIR if set, else in the first labs/node/ found above
 * bin_dir (the runner's own directory: build/, or build/asan/), and
 * writes its real path into path. Returns false, path holding a reason
 * fit for a message ("no labs/node/lab9-*.js above build"), if there is
 * none, or more than one. */
bool node_twin_path(int number, const char *bin_dir, char *path, size_t len);

/* In the child, before exec: no core file. V8's abort at the heap limit
 * is the expected end of a run, and would otherwise dump the whole heap
 * where core dumps are on. Async-signal-safe. */
void node_before_exec(void);

/* How a twin's run ended, when V8 ended it: status is wait4's, log the
 * file holding what it wrote on stderr. Returns the reason ("V8 heap
 * limit", "V8 could not reserve its address space") when V8 aborted the
 * run at a memory wall, with V8's own line ("FATAL ERROR: Reached heap
 * limit Allocation failed - JavaScript heap out of memory") in line (cut
 * to len), else NULL (judge the run as any lab's), line untouched. */
const char *node_judge(int status, const char *log, char *line, size_t len);

#endif
