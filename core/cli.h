/*
 * cli - the `oprun` command line (DESIGN section 8).
 *
 * cli_main parses `oprun [-c FILE] COMMAND [ARGS]` and runs the command.
 * It returns the process exit status:
 *   0 success (wait: the run succeeded)
 *   1 runtime error (store, plugin directory) (wait: the run failed)
 *   2 usage error or bad input, with one line saying what and where
 *   3 wait: the run ended partial
 *   4 wait: the run was canceled
 *   5 wait: --timeout passed before the run ended
 */
#ifndef OPRUN_CLI_H
#define OPRUN_CLI_H

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2
#define EXIT_PARTIAL	3
#define EXIT_CANCELED	4
#define EXIT_TIMEOUT	5

int	cli_main(int argc, char **argv);

#endif
