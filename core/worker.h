/*
 * worker - the claim -> execute -> finish path, shared by `oprun worker`
 * (runs in this process) and, later, the supervisor's executors.
 *
 * worker_run_one claims the oldest queued run this process can run
 * (runs of types no loaded plugin provides, or whose plugin refused to
 * start, are failed on the way with the reason; serve's executors claim
 * an unknown type and rescan the plugin directory first, see
 * runtime.h), calls the plugin, and
 * writes the terminal state with counts, failures, result, reason and the
 * initiator's notification.  Returns 1 if it ran one, 0 if the queue was
 * empty, -1 on a store error (err says why).
 *
 * A full store (map or disk) never costs a run: a claim that cannot be
 * written claims nothing (-1, store_is_full() says why: the caller waits
 * with worker_wait_for_room and tries again), and a finished run whose
 * end cannot be written is kept in memory and written again, backing
 * off, until it is.
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
	/* Told once when the store cannot be written because its map or
	 * disk is full (full = 1, err says which and what to do) and once
	 * when it can again (full = 0); NULL: the worker logs it. */
	void (*full_changed)(void *arg, int full, const char *err);
	void *full_arg;
	int full;		/* waiting for room in the store */
	int64_t backoff_ms;
};

void	worker_init(struct worker *w, struct runtime *rt, uint64_t epoch);
int	worker_run_one(struct worker *w, char *err, size_t errlen);
/* Runs queued runs until the queue is empty or stop(arg) returns 1
 * (asked after each run).  Finishing runs and claiming the next ones
 * share a transaction; quick idempotent runs are claimed and finished in
 * batches (group commit).  Returns how many ran, or -1 (err says why). */
long	worker_drain(struct worker *w, int (*stop)(void *), void *arg,
	    char *err, size_t errlen);
/* After a write failed for a full store: tells full_changed the first
 * time, then sleeps a little longer each call (at most 2 s). */
void	worker_wait_for_room(struct worker *w, const char *err);

#endif
