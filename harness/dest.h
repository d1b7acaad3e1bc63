/*
 * dest.h - an output file that appears whole, or not at all.
 *
 * A program that writes straight into DST and then fails (a full disk, a
 * Ctrl-C, a SIGKILL) leaves a partial file under DST's name, and the next
 * reader takes it for the real thing. cp, editors and package managers
 * avoid that the same way: write a new file beside DST and rename(2) it
 * over DST only when it is complete. Lab 5 copies files; this is how it
 * makes every copy safe, so that lab5-stream.c can be about memory.
 *
 * A rename replaces a name, not a file, so where the result would differ
 * from cp's (which truncates DST and writes into it) this does what cp
 * does instead:
 *   - DST must be writable, as cp checks: a 0444 DST is refused (EACCES),
 *     not quietly replaced, unless the caller is root, as with cp;
 *   - a symlink is followed: the file it names is replaced, the link stays;
 *   - a file with other names (hard links), or one whose owner and group
 *     the new file cannot be given, is written in place, as cp does, so
 *     that every name sees the copy. Only there can a failed copy leave a
 *     partial DST: no rename can replace the contents of a file that has
 *     two names.
 *
 * One destination at a time per process.
 */
#ifndef LEAKLAB_DEST_H
#define LEAKLAB_DEST_H

#include <sys/types.h>

/* At exit, and on SIGINT, SIGTERM and SIGHUP, removes a temporary whose
 * copy did not finish; ignores SIGXFSZ, so that a write past RLIMIT_FSIZE
 * fails with EFBIG (and the temporary goes) instead of killing the
 * program. Call once, before dest_open(). */
void dest_guard(void);

/* Opens `path` for writing. A FIFO or a device is opened as it is and
 * written directly; so is a regular file with other names or an owner
 * the new file cannot take (see above). Anything else gets a new file in
 * the directory of path (or of the file its symlink names), with the
 * permissions, owner and group of the file it replaces, else `mode` less
 * the umask: an unnamed one (O_TMPFILE), so that even a SIGKILL, which no
 * cleanup can catch, leaves nothing; or, where the file system cannot
 * make one (NFS, ...), ".NAME.PROG-XXXXXX", NAME shortened to fit the
 * file system's longest name, removed if the program fails. Returns the
 * fd. Exits 1 naming path on failure (a directory, a missing directory,
 * a DST we may not write, a dangling symlink). */
int dest_open(const char *path, mode_t mode);

/* Closes fd and, for a new file, renames it over the path given to
 * dest_open() (or the file its symlink names). No fsync: as with cp, the
 * file survives the program failing, not the machine losing power. Exits
 * 1 naming the path on failure; the temporary is removed at exit. */
void dest_commit(int fd);

#endif
