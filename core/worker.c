#define _POSIX_C_SOURCE 200809L
#include "worker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostapi.h"
#include "log.h"
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
	start_plugins(rt);
}

/* store_claim's refuse callback: why this process cannot run TYPE.  It
 * runs inside the claim's write transaction, so it never calls a plugin. */
static const char *
refuse_type(const char *type, void *arg)
{
	static char why[640];
	struct runtime *rt = arg;
	const struct loaded_op *op = plugins_find_op(&rt->plugins, type);

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

/* Calls the plugin on claimed run r and returns the state it ends in;
 * *lost is set when someone else resolved the run meanwhile. */
static enum run_state
execute(struct worker *w, struct run *r, int *lost)
{
	const struct loaded_op *op = plugins_find_op(&w->rt->plugins, r->type);
	struct oprun_ctx ctx = { .plugin = op->plugin, .st = w->rt->st,
		.run = r };
	struct oprun_run_info info = {
		.size = sizeof(info), .id = r->id, .tenant = r->tenant,
		.type = r->type, .target = r->target != NULL ? r->target : "",
		.initiator = r->initiator, .payload = r->payload,
		.attempt = r->attempt, .deadline_ms = r->deadline_ms,
	};
	enum run_state to;

	ctx.last_flush_ms = monotonic_ms();
	ctx.cancel_requested = (r->flags & RUN_FLAG_CANCEL_REQUESTED) != 0;
	log_event(OPRUN_LOG_DEBUG, r->id, r->type, r->tenant, "started");
	to = outcome_state(r, op->op.run(&hostapi_table, &ctx, &info));
	*lost = ctx.lost;
	return to;
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

/* Records the end of r on its own (no next claim). */
static void
finish_alone(struct worker *w, struct run *r, enum run_state to, int lost)
{
	char err[1024];
	int rc = lost ? 1 : store_finish(w->rt->st, r, to, w->actor, err,
	    sizeof(err));

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

long
worker_drain(struct worker *w, int (*stop)(void *), void *arg, char *err,
    size_t errlen)
{
	struct run r, next;
	long done = 0;
	int lost, rc = store_claim(w->rt->st, &w->who, refuse_type, w->rt, &r,
	    err, errlen);

	while (rc == 1) {
		enum run_state to = execute(w, &r, &lost);

		done++;
		if (lost || (stop != NULL && stop(arg))) {
			finish_alone(w, &r, to, lost);
			run_free(&r);
			break;
		}
		rc = store_finish_claim(w->rt->st, &r, to, &w->who, refuse_type,
		    w->rt, &next, &lost, err, errlen);
		if (rc >= 0)
			log_end(&r, to, lost);
		run_free(&r);
		r = next;
	}
	return rc < 0 ? -1 : done;
}
