#define _POSIX_C_SOURCE 200809L
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostapi.h"
#include "log.h"
#include "plugin_watch.h"
#include "util.h"

/* store_claimant callbacks: the run's time limit and the tenant's cap. */
static int64_t
timeout_for(const char *type, void *arg)
{
	struct runtime *rt = arg;
	const struct loaded_op *op = plugins_find_op(&rt->plugins, type);

	return config_timeout_ms(&rt->cfg, op != NULL ?
	    op->plugin->desc.name : "", type);
}

static uint32_t
cap_for(const char *tenant, void *arg)
{
	struct runtime *rt = arg;

	return config_tenant_cap(&rt->cfg, tenant);
}

static int
idempotent_type(const char *type, void *arg)
{
	struct runtime *rt = arg;
	const struct loaded_op *op = plugins_find_op(&rt->plugins, type);

	return op != NULL && (op->op.flags & OPRUN_OP_IDEMPOTENT) != 0;
}

/* Plugins start here, before any claim: init may use the store, which
 * it must never do from inside the claim's write transaction. */
static void
start_plugins(struct runtime *rt)
{
	char err[600];

	for (size_t i = 0; i < rt->plugins.n; i++)
		if (hostapi_plugin_ready(rt->plugins.plugins[i], rt->st, err,
		    sizeof(err)) != 0)
			log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "%s; its "
			    "operations fail until it is fixed", err);
}

void
worker_init(struct worker *w, struct runtime *rt, uint64_t epoch)
{
	memset(w, 0, sizeof(*w));
	w->rt = rt;
	snprintf(w->actor, sizeof(w->actor), "worker:%ld", (long)getpid());
	w->who.epoch = epoch;
	w->who.pid = (int32_t)getpid();
	if (proc_start_time((long)getpid(), &w->who.start) != 0)
		w->who.start = 0;
	w->who.actor = w->actor;
	w->who.timeout_ms = timeout_for;
	w->who.tenant_cap = cap_for;
	w->who.global_cap = (uint32_t)rt->cfg.max_concurrent_runs;
	w->who.batchable = idempotent_type;
	w->batch = 1;
	start_plugins(rt);
}

/* store_claim's refuse callback: why this process cannot run TYPE.  It
 * runs inside the claim's write transaction, so it never calls a plugin;
 * an executor claims a type it does not know and rescans in execute(). */
static const char *
refuse_type(const char *type, void *arg)
{
	static char why[640];
	struct runtime *rt = arg;
	const struct loaded_op *op = plugins_find_op(&rt->plugins, type);

	if (op == NULL && rt->rescan != NULL)
		return NULL;
	if (op == NULL) {
		snprintf(why, sizeof(why), "no plugin provides operation '%s'",
		    type);
		return why;
	}
	if (op->plugin->init_state != 1) {
		snprintf(why, sizeof(why), "%s", op->plugin->init_err);
		return why;
	}
	return NULL;
}

/* Maps the plugin's outcome to a terminal state, trusting the counts. */
static enum run_state
outcome_state(struct run *r, enum oprun_outcome outcome)
{
	switch (outcome) {
	case OPRUN_OK:
		return r->counts.failed > 0 ? RUN_PARTIAL : RUN_SUCCEEDED;
	case OPRUN_PARTIAL:
		return r->counts.failed == 0 ? RUN_SUCCEEDED :
		    r->counts.succeeded == 0 ? RUN_FAILED : RUN_PARTIAL;
	case OPRUN_FAILED:
		if (r->reason == NULL)
			run_set_text(&r->reason, "the operation failed "
			    "(the plugin gave no reason)", RUN_MAX_MESSAGE);
		return RUN_FAILED;
	case OPRUN_CANCELED:
		if (r->reason == NULL)
			run_set_text(&r->reason, "canceled", RUN_MAX_MESSAGE);
		return RUN_CANCELED;
	}
	run_set_text(&r->reason, "the plugin returned an invalid outcome",
	    RUN_MAX_MESSAGE);
	return RUN_FAILED;
}

/* A run that stopped for its deadline's cancel request failed: it did
 * not finish in time.  The plugin's own words are kept after ours. */
static enum run_state
timed_out(struct run *r, enum run_state to)
{
	char why[RUN_MAX_MESSAGE];

	if (to != RUN_CANCELED || r->deadline_ms == 0 ||
	    now_ms() < r->deadline_ms)
		return to;
	snprintf(why, sizeof(why), "timed out after %lld s; the operation "
	    "stopped at its cancel check (%s)",
	    (long long)((r->deadline_ms - r->started_at + 500) / 1000),
	    r->reason != NULL ? r->reason : "no reason given");
	run_set_text(&r->reason, why, RUN_MAX_MESSAGE);
	return RUN_FAILED;
}

static void
wait_cb(void *arg, const char *err)
{
	worker_wait_for_room(arg, err);
}

/* Saves what the plugin wrote (documents, snapshot rows) before its end
 * is recorded: a run whose documents could not be saved fails. */
static enum run_state
save_writes(struct oprun_ctx *ctx, struct run *r, enum run_state to)
{
	char err[768], why[1024];

	if (hostapi_save(ctx, err, sizeof(err)) == 0 || ctx->lost)
		return to;
	snprintf(why, sizeof(why), "its documents could not be saved: %s",
	    err);
	run_set_text(&r->reason, why, RUN_MAX_MESSAGE);
	return RUN_FAILED;
}

/* Calls the plugin on claimed run r and returns the state it ends in;
 * *lost is set when someone else resolved the run meanwhile. */
static enum run_state
execute(struct worker *w, struct run *r, int *lost)
{
	const struct loaded_op *op = plugins_find_op(&w->rt->plugins, r->type);
	struct oprun_ctx ctx = { .st = w->rt->st,
		.run = r, .cfg = &w->rt->cfg, .graph = &w->rt->graph,
		.graph_wait_budget_ms =
		    (int64_t)w->rt->cfg.graph_max_wait_s * 1000 };
	struct oprun_run_info info = {
		.size = sizeof(info), .id = r->id, .tenant = r->tenant,
		.type = r->type, .target = r->target != NULL ? r->target : "",
		.initiator = r->initiator, .payload = r->payload,
		.attempt = r->attempt, .deadline_ms = r->deadline_ms,
	};
	enum run_state to;

	*lost = 0;
	if (op == NULL && (op = plugin_watch_rescan(w->rt, r)) == NULL)
		return RUN_FAILED;
	ctx.plugin = op->plugin;
	if ((op->op.flags & OPRUN_OP_NEEDS_DELEGATED_TOKEN) &&
	    (ctx.delegated_token = w->token_for != NULL ?
	    w->token_for(w->token_arg, r->id) : NULL) == NULL) {
		run_set_text(&r->reason, "delegated token no longer available; "
		    "submit again", RUN_MAX_MESSAGE);
		return RUN_FAILED;
	}
	ctx.op_flags = op->op.flags;
	ctx.wait_for_room = wait_cb;
	ctx.wait_arg = w;
	ctx.last_flush_ms = monotonic_ms();
	ctx.cancel_requested = (r->flags & RUN_FLAG_CANCEL_REQUESTED) != 0;
	log_event(OPRUN_LOG_DEBUG, r->id, r->type, r->tenant, "started");
	to = outcome_state(r, op->op.run(&hostapi_table, &ctx, &info));
	to = save_writes(&ctx, r, to);
	hostapi_ctx_done(&ctx);
	*lost = ctx.lost;
	return timed_out(r, to);
}

static void
log_end(const struct run *r, enum run_state to, int lost)
{
	if (lost)
		log_event(OPRUN_LOG_WARN, r->id, r->type, r->tenant, "run was "
		    "resolved elsewhere while running; result dropped");
	else
		log_event(OPRUN_LOG_INFO, r->id, r->type, r->tenant,
		    "finished state=%s processed=%llu failed=%llu",
		    run_state_name(to),
		    (unsigned long long)r->counts.processed,
		    (unsigned long long)r->counts.failed);
}

#define BACKOFF_FIRST_MS	50
#define BACKOFF_MAX_MS		2000

static void
full_changed(struct worker *w, int full, const char *err)
{
	w->full = full;
	if (w->full_changed != NULL)
		w->full_changed(w->full_arg, full, err);
	else if (full)
		log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "%s; runs wait "
		    "(none is failed) and go on by themselves once the store "
		    "can be written", err);
	else
		log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "the store can be "
		    "written again; runs go on");
}

void
worker_wait_for_room(struct worker *w, const char *err)
{
	struct timespec ts;

	if (!w->full) {
		full_changed(w, 1, err);
		w->backoff_ms = BACKOFF_FIRST_MS;
	}
	ts.tv_sec = w->backoff_ms / 1000;
	ts.tv_nsec = (w->backoff_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	w->backoff_ms *= 2;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
}

/* A write went through: if the store was full, say it is not. */
static void
store_wrote(struct worker *w)
{
	if (w->full && !store_is_full(w->rt->st))
		full_changed(w, 0, NULL);
}

/* Records the end of r on its own (no next claim), waiting for room in
 * a full store rather than dropping the outcome. */
static void
finish_alone(struct worker *w, struct run *r, enum run_state to, int lost)
{
	char err[1024];
	int rc = 1;

	while (!lost && (rc = store_finish(w->rt->st, r, to, w->actor, err,
	    sizeof(err))) < 0 && store_is_full(w->rt->st))
		worker_wait_for_room(w, err);
	if (rc >= 0 && !lost)
		store_wrote(w);
	if (rc < 0)
		log_event(OPRUN_LOG_ERROR, r->id, r->type, r->tenant,
		    "cannot record the end of the run: %s", err);
	else
		log_end(r, to, rc == 1);
}

int
worker_run_one(struct worker *w, char *err, size_t errlen)
{
	struct run r;
	enum run_state to;
	int lost, rc = store_claim(w->rt->st, &w->who, refuse_type, w->rt, &r,
	    err, errlen);

	if (rc != 1)
		return rc;
	to = execute(w, &r, &lost);
	finish_alone(w, &r, to, lost);
	run_free(&r);
	return 1;
}

/* Adaptive batch size: grows while runs take under FAST_RUN_US, so
 * quick idempotent runs share commits; drops to one at a slow run, so a
 * long run never keeps claimed runs waiting behind it. */
#define FAST_RUN_US	1000
#define SLOW_RUN_US	10000
#define GROUP_WINDOW_US	5000	/* longest a finished run waits to commit */

static void
adapt_batch(struct worker *w, int64_t took_us)
{
	if (took_us < FAST_RUN_US && w->batch < WORKER_BATCH_MAX)
		w->batch *= 2;
	else if (took_us > SLOW_RUN_US)
		w->batch = 1;
	if (w->batch > WORKER_BATCH_MAX)
		w->batch = WORKER_BATCH_MAX;
}

/* Runs claimed and not yet started (todo), and finished runs whose end is
 * not yet committed (done). */
struct batch {
	struct run todo[WORKER_BATCH_MAX], done[WORKER_BATCH_MAX];
	enum run_state to[WORKER_BATCH_MAX];
	size_t ntodo, next, ndone;
	int64_t first_done_us;
};

/* Commits the finished runs, claiming the next batch if claim is set. */
static int
commit_batch(struct worker *w, struct batch *b, int claim, char *err,
    size_t errlen)
{
	int lost[WORKER_BATCH_MAX];
	size_t nnext = 0;
	int rc;

	/* Finished runs are never dropped for a full store: their ends
	 * are written again until there is room. */
	while ((rc = store_finish_many(w->rt->st, b->done, b->to, b->ndone,
	    lost, &w->who, refuse_type, w->rt, b->todo, claim ? w->batch : 0,
	    &nnext, err, errlen)) != 0 && b->ndone > 0 &&
	    store_is_full(w->rt->st))
		worker_wait_for_room(w, err);
	if (rc == 0)
		store_wrote(w);

	for (size_t i = 0; i < b->ndone; i++) {
		if (rc == 0)
			log_end(&b->done[i], b->to[i], lost[i]);
		run_free(&b->done[i]);
	}
	b->ndone = 0;
	if (claim) {
		b->ntodo = nnext;
		b->next = 0;
	}
	return rc;
}

long
worker_drain(struct worker *w, int (*stop)(void *), void *arg, char *err,
    size_t errlen)
{
	struct batch *b = xcalloc(1, sizeof(*b));
	long ran = 0;
	int rc = store_claim_many(w->rt->st, &w->who, refuse_type, w->rt,
	    b->todo, w->batch, &b->ntodo, err, errlen);

	if (rc == 0)
		store_wrote(w);

	while (rc == 0 && b->next < b->ntodo) {
		struct run *r = &b->todo[b->next++];
		int64_t t0 = monotonic_us();
		int lost, stopping;

		b->to[b->ndone] = execute(w, r, &lost);
		adapt_batch(w, monotonic_us() - t0);
		if (b->ndone == 0)
			b->first_done_us = monotonic_us();
		b->done[b->ndone++] = *r;
		ran++;
		stopping = stop != NULL && stop(arg);
		/* Claimed runs are always run, even when stopping: they are
		 * quick, and leaving them claimed would strand them. */
		if (b->next == b->ntodo)
			rc = commit_batch(w, b, !stopping, err, errlen);
		else if (monotonic_us() - b->first_done_us > GROUP_WINDOW_US)
			rc = commit_batch(w, b, 0, err, errlen);
	}
	store_runs_free_array(b->todo + b->next, b->ntodo - b->next);
	store_runs_free_array(b->done, b->ndone);
	free(b);
	return rc < 0 ? -1 : ran;
}
