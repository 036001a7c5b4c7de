/*
 * exitcodes - the exit statuses of the `oprun` process, whichever command
 * runs: the command line (cli.c) and `oprun serve` (supervisor.c) return
 * them from main.  Scripts and the README's "Exit status" table rely on
 * the numbers, so a value never changes meaning; a new status gets a new
 * number.
 *
 *   0 success (wait: the run succeeded)
 *   1 runtime error (store, plugin directory) (wait: the run failed)
 *   2 usage error or bad input, with one line saying what and where
 *   3 wait: the run ended partial
 *   4 wait: the run was canceled
 *   5 wait: --timeout passed before the run ended
 *
 * The lowest layer (docs/DESIGN.md section 9): it includes nothing, so
 * any module may use it.
 */
#ifndef OPRUN_EXITCODES_H
#define OPRUN_EXITCODES_H

#define EXIT_RUNTIME  1
#define EXIT_USAGE    2
#define EXIT_PARTIAL  3
#define EXIT_CANCELED 4
#define EXIT_TIMEOUT  5

#endif
