/*
 * submit_storm - a test tool: one process submitting runs in a tight loop
 * through the same submit function as `oprun submit`, without a process
 * start per submit.  Used by the end-to-end tests to race many submitters
 * on one identity and to SIGKILL a submitter in the middle of its
 * transactions.
 *
 *   submit_storm -c CONFIG --type T --tenant T [--count N] [--same]
 * --same submits one identity every time; otherwise each payload is new.
 * --count 0 submits until killed.  Prints "created C deduplicated D".
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"
#include "submit.h"

int
main(int argc, char **argv)
{
	const char *config = NULL, *type = "test-instant", *tenant = "contoso";
	unsigned long count = 1000, created = 0, dedup = 0;
	int same = 0;
	struct runtime rt;
	struct diag d = { 0 };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			type = argv[++i];
		else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
			tenant = argv[++i];
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--same") == 0)
			same = 1;
		else {
			fprintf(stderr, "submit_storm: bad argument %s\n",
			    argv[i]);
			return 2;
		}
	}
	if (runtime_open(&rt, config, RUNTIME_PLUGINS | RUNTIME_STORE,
	    &d) != 0) {
		fprintf(stderr, "submit_storm: %s\n", d.n ? d.lines[0] : "?");
		return 1;
	}
	for (unsigned long i = 0; count == 0 || i < count; i++) {
		struct submit_request req = { .type = type, .tenant = tenant,
			.initiator = "storm", .actor = "cli:storm" };
		struct store_submit_result res;
		char payload[128], err[1024];

		snprintf(payload, sizeof(payload), "{\"pid\":%ld,\"n\":%lu}",
		    same ? 0L : (long)getpid(), same ? 0UL : i);
		req.payload = payload;
		if (submit_run(&rt, &req, &res, err, sizeof(err)) != 0) {
			fprintf(stderr, "submit_storm: %s\n", err);
			runtime_close(&rt);
			return 1;
		}
		if (res.deduplicated)
			dedup++;
		else
			created++;
	}
	printf("created %lu deduplicated %lu\n", created, dedup);
	runtime_close(&rt);
	return 0;
}
