/*
 * submit - validates a submit request and creates the run
 * (docs/DESIGN.md section 4).
 *
 * Checks, in order, each failing with one line that says what was wrong,
 * where, and how to fix it, before anything is written: the type, names
 * and target are UTF-8 (the byte offset of the first bad byte), operation
 * type, tenant, initiator, target (no control character), payload size,
 * payload is a UTF-8 JSON object, plugin init, the plugin's validate
 * hook.  Then computes the identity
 * (narrowed by the plugin's identity hook) and calls store_submit, which
 * returns an active run with the same identity instead of a new one.
 * Returns 0, or -1 with the reason in err (bad input), or -2 when the
 * store failed (err says why).
 */
#ifndef OPRUN_SUBMIT_H
#define OPRUN_SUBMIT_H

#include <stddef.h>

#include "runtime.h"
#include "store.h"

struct submit_request {
	const char *type, *tenant, *target, *initiator, *payload;
	const char *actor;	/* who submits, for the history */
};

int	submit_run(struct runtime *rt, const struct submit_request *req,
	    struct store_submit_result *res, char *err, size_t errlen);

/* submit_run in two steps, for a submit that `oprun serve` completes:
 * submit_prepare does every check and fills r (the caller run_frees it);
 * submit_commit writes it (store_submit) and wakes the runner. */
int	submit_prepare(struct runtime *rt, const struct submit_request *req,
	    struct run *r, char *err, size_t errlen);
int	submit_commit(struct runtime *rt, struct run *r, const char *actor,
	    struct store_submit_result *res, char *err, size_t errlen);

#endif
