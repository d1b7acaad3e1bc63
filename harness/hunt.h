/*
 * hunt.h - leaklab hunt: heap snapshots of a running lab, compared site
 * by site (hunt.c). The runner's main hands it the command line from
 * "hunt" on.
 */
#ifndef LEAKLAB_HUNT_H
#define LEAKLAB_HUNT_H

/* Runs `leaklab hunt` with argv[0] = "hunt". Returns the exit code: 0 the
 * hunt ran and its records are written, 1 a runtime failure (the lab
 * under the tool did not finish, a record cannot be written), 2 a bad
 * argument (ours or the lab's); see hunt.c. */
int hunt_main(int argc, char **argv);

/* The runner's memwatch-style signal (see hunt.c): the iteration at which
 * column of the TSV at tsv had grown at 5 evenly spaced looks in a row,
 * or -1 (never, or the record cannot be read). */
long leak_suspected_at(const char *tsv, const char *column);

#endif
