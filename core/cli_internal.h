/*
 * cli_internal - what the files of the CLI share: parsed arguments and
 * options, messages on stderr, opening the runtime, JSON output.  Only
 * cli*.c include it.
 */
#ifndef OPRUN_CLI_INTERNAL_H
#define OPRUN_CLI_INTERNAL_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "exitcodes.h"
#include "runtime.h"

#define MAX_POSITIONAL 4

/* One command's options, filled by parse_args. */
struct opt {
	const char *name; /* without the leading "--" */
	int has_arg;
	const char *value; /* the argument, or "1" for a flag */
};

struct args {
	const char *config;
	const char *cmd;
	const char *pos[MAX_POSITIONAL];
	int npos;
};

/* "oprun CMD: MESSAGE" on stderr, escaped, one line. */
void complain(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* complain() plus a pointer to `oprun help`; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Fills opts and a->pos from argv[i..]: 0 or an exit code. */
int parse_args(struct args *a, int argc, char **argv, int i, struct opt *opts,
    int min_pos, int max_pos);
const char *opt_get(const struct opt *opts, const char *name);
/* A positive run id: 0, or EXIT_USAGE after saying what is wrong. */
int parse_id(const struct args *a, const char *s, uint64_t *id);
/* Loads the config and opens what (RUNTIME_*): 0 or an exit code. */
int open_rt(struct runtime *rt, const struct args *a, unsigned what);
/* Prints o as one line of safe JSON and frees it. */
void print_json(cJSON *o);
int no_such_run(const char *cmd, uint64_t id);

/* cli_docs.c: documents, export, backups, directory, keygen. */
int cmd_docs(struct args *a, int argc, char **argv, int i);
int cmd_export(struct args *a, int argc, char **argv, int i);
int cmd_backups(struct args *a, int argc, char **argv, int i);
int cmd_directory(struct args *a, int argc, char **argv, int i);
int cmd_keygen(struct args *a, int argc, char **argv, int i);

#endif
