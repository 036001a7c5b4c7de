/*
 * worker - the claim -> execute -> finish path, shared by `oprun worker`
 * (runs in this process) and, later, the supervisor's executors.
 *
 * worker_run_one claims the oldest queued run this process can run
 * (runs of types no loaded plugin provides, or whose plugin refused to
 * start, are failed on the way with the reason), calls the plugin, and
 * writes the terminal state with counts, failures, result, reason and the
 * initiator's notification.  Returns 1 if it ran one, 0 if the queue was
 * empty, -1 on a store error (err says why).
 */
#ifndef OPRUN_WORKER_H
#define OPRUN_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"
#include "store.h"

#define WORKER_BATCH_MAX 32

struct worker {
	struct runtime *rt;
	struct store_claimant who;
	char actor[64];
	size_t batch;		/* runs to claim at once (see worker.c) */
	/* Where a run's delegated token comes from (the supervisor); NULL:
	 * nowhere, so such runs fail.  Returns a token the worker wipes and
	 * frees, or NULL. */
	char *(*token_for)(void *arg, uint64_t run_id);
	void *token_arg;
};

void	worker_init(struct worker *w, struct runtime *rt, uint64_t epoch);
int	worker_run_one(struct worker *w, char *err, size_t errlen);
/* Runs queued runs until the queue is empty or stop(arg) returns 1
 * (asked after each run).  Finishing runs and claiming the next ones
 * share a transaction; quick idempotent runs are claimed and finished in
 * batches (group commit).  Returns how many ran, or -1 (err says why). */
long	worker_drain(struct worker *w, int (*stop)(void *), void *arg,
	    char *err, size_t errlen);

#endif
