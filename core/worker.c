#define _POSIX_C_SOURCE 200809L
#include "worker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostapi.h"
#include "log.h"
#include "util.h"

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
	w->who.start = (uint64_t)now_ms();
	w->who.actor = w->actor;
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

static void
execute(struct worker *w, const struct loaded_op *op, struct run *r)
{
	struct oprun_ctx ctx = { .plugin = op->plugin, .st = w->rt->st,
		.run = r };
	struct oprun_run_info info = {
		.size = sizeof(info), .id = r->id, .tenant = r->tenant,
		.type = r->type, .target = r->target != NULL ? r->target : "",
		.initiator = r->initiator, .payload = r->payload,
		.attempt = r->attempt, .deadline_ms = r->deadline_ms,
	};
	enum oprun_outcome outcome;
	enum run_state to;
	char err[1024];

	ctx.last_flush_ms = monotonic_ms();
	ctx.cancel_requested = (r->flags & RUN_FLAG_CANCEL_REQUESTED) != 0;
	log_event(OPRUN_LOG_DEBUG, r->id, r->type, r->tenant, "started");
	outcome = op->op.run(&hostapi_table, &ctx, &info);
	to = outcome_state(r, outcome);
	if (ctx.lost) {
		log_event(OPRUN_LOG_WARN, r->id, r->type, r->tenant, "run was "
		    "resolved elsewhere while running; result dropped");
		return;
	}
	if (store_finish(w->rt->st, r, to, w->actor, err, sizeof(err)) != 0)
		log_event(OPRUN_LOG_ERROR, r->id, r->type, r->tenant,
		    "cannot record the end of the run: %s", err);
	else
		log_event(OPRUN_LOG_INFO, r->id, r->type, r->tenant,
		    "finished state=%s processed=%llu failed=%llu",
		    run_state_name(to),
		    (unsigned long long)r->counts.processed,
		    (unsigned long long)r->counts.failed);
}

int
worker_run_one(struct worker *w, char *err, size_t errlen)
{
	struct run r;
	int rc = store_claim(w->rt->st, &w->who, refuse_type, w->rt, &r, err,
	    errlen);

	if (rc != 1)
		return rc;
	execute(w, plugins_find_op(&w->rt->plugins, r.type), &r);
	run_free(&r);
	return 1;
}
