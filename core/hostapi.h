/*
 * hostapi - the function table plugins call (struct oprun_host) and the
 * per-call context behind it.
 *
 * A context is made by the caller on its stack for one call into a plugin
 * (init, validate or run) and lives until that call returns.  During run
 * it collects counts, failures, result and reason in ctx->run and saves
 * progress to the store at most every HOSTAPI_FLUSH_MS, which is also
 * when it learns about cancel requests.
 */
#ifndef OPRUN_HOSTAPI_H
#define OPRUN_HOSTAPI_H

#include <stdint.h>

#include "config.h"
#include "loader.h"
#include "oprun/plugin.h"
#include "run.h"
#include "store.h"

#define HOSTAPI_FLUSH_MS 200

struct graph_client;

struct oprun_ctx {
	struct loaded_plugin *plugin;
	const struct config *cfg;
	struct graph_client **graph;	/* opened on first use; NULL: none */
	struct graph_response *last;	/* the answer plugins still see */
	int64_t graph_wait_budget_ms;	/* left for this run's retry waits */
	char *delegated_token;		/* the initiator's; wiped at the end */
	struct store *st;		/* NULL: key/value storage unavailable */
	struct run *run;		/* NULL outside run() */
	int cancel_requested;
	int lost;			/* the run was resolved by someone else */
	int64_t last_flush_ms;
	int dirty;			/* progress not yet saved */
	int progress_warned;		/* a failed save was logged */
};

extern const struct oprun_host hostapi_table;

/* Calls the plugin's init once per process.  Returns 0, or -1 with the
 * plugin's refusal in err (remembered: later calls refuse at once). */
int	hostapi_plugin_ready(struct loaded_plugin *p, struct store *st,
	    char *err, size_t errlen);
/* Saves pending progress now (used before finishing a run). */
void	hostapi_flush(struct oprun_ctx *ctx);
/* Frees what the context holds (the last Graph answer, the delegated
 * token, wiped); call when the plugin callback returned. */
void	hostapi_ctx_done(struct oprun_ctx *ctx);

#endif
