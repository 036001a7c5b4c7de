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
struct seal_key;

/* A directory snapshot this run began and has not committed. */
struct hostapi_stage {
	const char *kind;	/* one of hostapi_directory_kinds */
	uint64_t gen;
};

#define HOSTAPI_STAGES 3

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
	/* ABI 1.2 */
	uint32_t op_flags;		/* the running operation's OPRUN_OP_* */
	struct store_writes writes;	/* documents and rows not yet saved */
	struct hostapi_stage stages[HOSTAPI_STAGES];
	struct seal_key *seal;		/* loaded on first use; wiped */
	char *doc_out, *dir_name_out, *dir_json_out, *sealed_out;
	char *plain_out;		/* wiped */
	size_t plain_len;
	char last_error[512];
	/* Waits a while when the store is full (the worker's backoff);
	 * NULL: a full store fails the write at once. */
	void (*wait_for_room)(void *arg, const char *err);
	void *wait_arg;
};

extern const struct oprun_host hostapi_table;

/* The ABI 1.2 members (hostapi_store.c). */
int	hostapi_doc_put(struct oprun_ctx *ctx, const char *name,
	    const char *json);
int	hostapi_doc_get(struct oprun_ctx *ctx, uint64_t run_id,
	    const char *name, const char **json);
int	hostapi_doc_list(struct oprun_ctx *ctx, uint64_t run_id,
	    const char *prefix, int (*each)(void *, const char *, const char *),
	    void *arg);
int	hostapi_directory_begin(struct oprun_ctx *ctx, const char *kind);
int	hostapi_directory_put(struct oprun_ctx *ctx, const char *kind,
	    const char *id, const char *display_name, const char *json);
int	hostapi_directory_commit(struct oprun_ctx *ctx, const char *kind);
int	hostapi_directory_find_by_name(struct oprun_ctx *ctx,
	    const char *tenant, const char *kind, const char *name,
	    int (*each)(void *, const char *, const char *, const char *),
	    void *arg);
int	hostapi_directory_get(struct oprun_ctx *ctx, const char *tenant,
	    const char *kind, const char *id, const char **display_name,
	    const char **json);
int64_t	hostapi_directory_synced_at(struct oprun_ctx *ctx, const char *tenant,
	    const char *kind);
int	hostapi_seal(struct oprun_ctx *ctx, const char *plaintext,
	    const char **sealed);
int	hostapi_unseal(struct oprun_ctx *ctx, const char *sealed,
	    const char **plaintext);
const char *hostapi_last_error(struct oprun_ctx *ctx);
/* Frees what the ABI 1.2 members hold (hostapi_ctx_done calls it). */
void	hostapi_store_done(struct oprun_ctx *ctx);

/* Names of the directory kinds, NULL-terminated. */
extern const char *const hostapi_directory_kinds[];

/* Calls the plugin's init once per process.  Returns 0, or -1 with the
 * plugin's refusal in err (remembered: later calls refuse at once). */
int	hostapi_plugin_ready(struct loaded_plugin *p, struct store *st,
	    char *err, size_t errlen);
/* Saves pending progress, documents and snapshot rows now: 0, 1 if the
 * run was resolved by someone else, -1 with the reason in err. */
int	hostapi_flush(struct oprun_ctx *ctx, char *err, size_t errlen);
/* hostapi_flush until it works, waiting (wait_for_room) while the store
 * is full; -1 with err set if the writes cannot be saved. */
int	hostapi_save(struct oprun_ctx *ctx, char *err, size_t errlen);
/* Frees what the context holds (the last Graph answer, the delegated
 * token, wiped); call when the plugin callback returned. */
void	hostapi_ctx_done(struct oprun_ctx *ctx);

#endif
