/*
 * oprun - a job runner for long-running Intune / Entra operations.
 * main only hands over to the command line; see cli.c.
 */
#include "cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
