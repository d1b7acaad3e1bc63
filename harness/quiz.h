/*
 * quiz.h - leaklab quiz: predict, then run.
 *
 *   leaklab quiz N [--seed S] [--answer X | --show]
 *
 * prints a scenario for lab N, with sizes drawn from the seed, and one
 * question whose answer the lab's run decides; --answer X runs the lab
 * and judges X, --show runs it and prints the answer. quiz.c has the
 * details; leaklab.c only hands its command line over.
 */
#ifndef LEAKLAB_QUIZ_H
#define LEAKLAB_QUIZ_H

/* leaklab quiz: argv[0] is "quiz", the rest its arguments. Returns the
 * exit code: 0 after the scenario, --show, --help or a right answer; 1
 * for a wrong answer or a runtime failure (a path and its strerror, or
 * what went wrong in the run, on stderr). Exits 2, with one line naming
 * it, on a bad argument, and 128 + signal on SIGINT, SIGTERM or SIGHUP,
 * having stopped the run and removed its temporary directory. */
int quiz_main(int argc, char **argv);

#endif
