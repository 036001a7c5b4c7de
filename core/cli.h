/*
 * cli - the `oprun` command line (docs/DESIGN.md section 8).
 *
 * cli_main parses `oprun [-c FILE] COMMAND [ARGS]` and runs the command.
 * It returns the process exit status, one of exitcodes.h.
 */
#ifndef OPRUN_CLI_H
#define OPRUN_CLI_H

int	cli_main(int argc, char **argv);

#endif
