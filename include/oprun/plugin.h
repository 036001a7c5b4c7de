/*
 * oprun plugin ABI - the only header a plugin author needs.
 *
 * ABI changelog
 *   1.0  First version: plugin descriptor, operations (validate, identity,
 *        run), host table with logging, progress, per-item results, result
 *        JSON, cancel check, config lookup and plugin-scoped key/value
 *        storage.
 *   1.1  Host table: graph_request, graph_list and graph_batch, the
 *        Microsoft Graph client (struct oprun_graph_response), and
 *        has_delegated_token / graph_request_user for operations flagged
 *        OPRUN_OP_NEEDS_DELEGATED_TOKEN.
 *   1.2  Host table: run documents (doc_put, doc_get, doc_list), the
 *        directory cache (directory_begin/put/commit, directory_find_by_name,
 *        directory_get, directory_synced_at; written only by operations
 *        flagged OPRUN_OP_DIRECTORY_WRITER), sealed values (seal, unseal)
 *        and last_error, the reason the last of these calls failed.
 *
 * Compatibility rules
 *   - Every struct that crosses the ABI starts with its size as compiled.
 *   - Within one major version structs only grow at the end.  The host
 *     accepts a plugin whose abi_major equals its own and whose abi_minor is
 *     not newer than its own, and copies min(size) bytes of each struct into
 *     a zeroed one, so members a plugin does not know read as zero/NULL.
 *   - A plugin tests host members newer than 1.0 with OPRUN_HOST_HAS().
 *     The Graph client arrived that way in 1.1, run documents, the
 *     directory cache and sealed values in 1.2; plugins built against 1.0
 *     or 1.1 keep working unchanged.
 *
 * Rules for plugins
 *   - Export exactly one symbol, oprun_plugin_describe (use OPRUN_EXPORT);
 *     build with -fvisibility=hidden.
 *   - JSON crosses the ABI as text.  Parse it with your own JSON library.
 *   - Never touch the store, credentials, signals, fork, exit, or threads
 *     that outlive a call into the plugin.  Strings the host passes are
 *     valid only during the call that received them.
 *   - All host calls are made from the thread that entered the plugin.
 *
 * Self-contained on purpose: no LMDB, cJSON or curl types appear here, so
 * upgrading those libraries never breaks the ABI.
 */
#ifndef OPRUN_PLUGIN_H
#define OPRUN_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OPRUN_ABI_MAJOR 1
#define OPRUN_ABI_MINOR 2

#define OPRUN_EXPORT __attribute__((visibility("default")))

/* Outcome of an operation's run callback.  Whether an interrupted run is
 * retried is the host's decision, made from OPRUN_OP_IDEMPOTENT. */
enum oprun_outcome {
	OPRUN_OK = 0,	    /* every item succeeded (or was skipped) */
	OPRUN_PARTIAL = 1,  /* some items failed, some succeeded */
	OPRUN_FAILED = 2,   /* failed; say why with set_reason() */
	OPRUN_CANCELED = 3, /* stopped because cancel_requested() said so */
};

/* Operation flags. */
#define OPRUN_OP_IDEMPOTENT 0x1u /* safe to run again after a crash */
#define OPRUN_OP_NEEDS_DELEGATED_TOKEN 0x2u /* acts as the initiator */
#define OPRUN_OP_CANCELLABLE 0x4u /* run() polls cancel_requested() */
/* ABI 1.2: may write the directory cache of its run's tenant (one
 * plugin per host may declare it; every other plugin only reads). */
#define OPRUN_OP_DIRECTORY_WRITER 0x8u

enum oprun_log_level {
	OPRUN_LOG_DEBUG = 0,
	OPRUN_LOG_INFO = 1,
	OPRUN_LOG_WARN = 2,
	OPRUN_LOG_ERROR = 3,
};

enum oprun_item_status {
	OPRUN_ITEM_SUCCEEDED = 0,
	OPRUN_ITEM_FAILED = 1,
	OPRUN_ITEM_SKIPPED = 2,
};

/* Every string seal() makes starts with this (ABI 1.2). */
#define OPRUN_SEALED_PREFIX "oprun-sealed:v1:"

/* Opaque per-call context; pass it back to every host function. */
struct oprun_ctx;

/* The answer to a Graph call (ABI 1.1).  The strings stay valid until
 * the next Graph call with the same ctx or the end of the callback. */
struct oprun_graph_response {
	uint32_t size;		 /* set by the plugin: sizeof(*resp) */
	long status;		 /* HTTP status, 0 when none came */
	const char *body;	 /* response text (JSON), "" if none */
	const char *request_id;	 /* Graph's request-id, "" if none */
	const char *error;	 /* one line when status is not 2xx, or why
				  * no answer came; "" otherwise */
};

/* The host function table.  Append-only within a major version. */
struct oprun_host {
	uint32_t size;
	uint16_t abi_major;
	uint16_t abi_minor;

	/* One log line, attributed to the plugin and the run (if any). */
	void (*log)(struct oprun_ctx *ctx, enum oprun_log_level level,
		    const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

	/* Declares how many items the run will process (may be raised). */
	void (*set_total)(struct oprun_ctx *ctx, uint64_t total);

	/* Reports one item: counts it as processed and as succeeded, failed
	 * or skipped.  A failed item's message is kept in the run's failure
	 * list (item and message are copied; message may be NULL). */
	void (*item_done)(struct oprun_ctx *ctx, const char *item,
			  enum oprun_item_status status, const char *message);

	/* Sets the run's result: a JSON object as text, copied.  Returns 0,
	 * or -1 if it is not a JSON object or is too large (see log). */
	int (*set_result)(struct oprun_ctx *ctx, const char *json_object);

	/* Says, in words a user understands, why the run failed or was
	 * canceled.  Copied; the last call wins. */
	void (*set_reason)(struct oprun_ctx *ctx, const char *reason);

	/* Returns 1 once a user canceled the run or its deadline passed;
	 * then return OPRUN_CANCELED soon.  Cheap: call it between items. */
	int (*cancel_requested)(struct oprun_ctx *ctx);

	/* Value of KEY in the plugin's own [plugin NAME] section, or its
	 * declared default, or NULL.  Valid until the plugin's fini. */
	const char *(*config_get)(struct oprun_ctx *ctx, const char *key);

	/* Plugin-scoped key/value storage, durable, shared by all runs of
	 * this plugin.  Keys are at most 255 bytes, values at most 64 KiB.
	 * Usable in init, validate and run (the callbacks given a ctx).
	 * kv_get copies min(cap, length) bytes of the value into buf and
	 * stores the full length in *len; it does not NUL-terminate (the
	 * bytes of buf after the copy are left as they were), and a value
	 * longer than cap is cut and still returns 0, so compare *len with
	 * cap.  Returns 0, 1 if the key does not exist, -1 on error.
	 * kv_put and kv_delete return 0 or -1. */
	int (*kv_get)(struct oprun_ctx *ctx, const char *key, void *buf,
		      size_t cap, size_t *len);
	int (*kv_put)(struct oprun_ctx *ctx, const char *key, const void *val,
		      size_t len);
	int (*kv_delete)(struct oprun_ctx *ctx, const char *key);

	/* ABI 1.1: Microsoft Graph as the run's tenant app (client
	 * credentials; the plugin never sees a secret or a token).  path is
	 * "/v1.0/..." or "/beta/..." with its query, or an absolute URL under
	 * the configured base (an @odata.nextLink).  headers: "Name: value"
	 * strings, NULL-terminated, or NULL.  body: JSON text or NULL.  The
	 * host retries 429/503/504 (honouring Retry-After) within the run's
	 * budget, renews tokens, and turns OData errors into resp->error with
	 * Graph's request-id.  Returns 0 when an answer came (any status), -1
	 * when none could be had or a 2xx answer says it is JSON but is not
	 * (reason in resp->error).  Only during run. */
	int (*graph_request)(struct oprun_ctx *ctx, const char *method,
			     const char *path, const char *const *headers,
			     const char *body,
			     struct oprun_graph_response *resp);

	/* GETs path and follows every @odata.nextLink verbatim, resending
	 * headers on each page; calls page(arg, page_json) per page (non-zero
	 * stops and is returned).  Returns 0 after the last page, -1 on a
	 * failed page (resp says which and why), including a 2xx page that
	 * is not a JSON object with a "value" array: the list was not
	 * completed, so never treat what came as the whole list. */
	int (*graph_list)(struct oprun_ctx *ctx, const char *path,
			  const char *const *headers,
			  int (*page)(void *arg, const char *json), void *arg,
			  struct oprun_graph_response *resp);

	/* JSON $batch to /VERSION/$batch ("v1.0" or "beta"): requests is a
	 * JSON array of at most 20 {"id", "method", "url", "headers",
	 * "body"} with relative urls.  Items answered 429/503/504 are sent
	 * again after their Retry-After, within the run's retry budget.  On 0
	 * resp->body is a JSON array of {"id", "status", "headers", "body"}
	 * in request order; an item without a usable answer is {"id",
	 * "status", "error"} (status 0, or 429 if still throttled) with a
	 * one-line reason.  -1 if the batch itself failed, its answer
	 * included (malformed: its items may have run). */
	int (*graph_batch)(struct oprun_ctx *ctx, const char *version,
			   const char *requests,
			   struct oprun_graph_response *resp);

	/* 1 if this run carries its initiator's delegated token (operations
	 * flagged OPRUN_OP_NEEDS_DELEGATED_TOKEN get one or do not run). */
	int (*has_delegated_token)(struct oprun_ctx *ctx);

	/* graph_request as the initiator, with the delegated token (never
	 * renewed: a 401 is the answer).  -1 without a delegated token. */
	int (*graph_request_user)(struct oprun_ctx *ctx, const char *method,
				  const char *path, const char *const *headers,
				  const char *body,
				  struct oprun_graph_response *resp);

	/* ABI 1.2 members follow.  Each returns 0 on success and -1 on
	 * failure, with the one-line reason in last_error(); strings the host
	 * hands out stay valid until the next call of the same member with
	 * this ctx, or the end of the callback.  Test them with
	 * OPRUN_HOST_HAS before use. */

	/* Stores document NAME of this run (only during run): name is a
	 * relative path of [A-Za-z0-9._-] segments joined by '/', at most
	 * 500 bytes (e.g. "deviceConfigurations/<id>.json"); json is JSON
	 * text of at most 16 MiB, validated.  A later put of the same name
	 * replaces it.  Writes are batched with the run's progress, so a
	 * document is durable at the next progress save or the run's end;
	 * a retried attempt starts with the earlier attempt's documents
	 * removed. */
	int (*doc_put)(struct oprun_ctx *ctx, const char *name,
		       const char *json);

	/* Reads document NAME of run RUN_ID (any run, e.g. a backup being
	 * restored) into *json.  Returns 0, 1 if there is no such document
	 * (or run), -1 on error. */
	int (*doc_get)(struct oprun_ctx *ctx, uint64_t run_id,
		       const char *name, const char **json);

	/* Calls each(arg, name, json) for every document of run RUN_ID whose
	 * name starts with prefix ("" = all), in name order, one document
	 * in memory at a time; each returning non-zero stops the walk and
	 * is returned.  0 after the last, -1 on error. */
	int (*doc_list)(struct oprun_ctx *ctx, uint64_t run_id,
			const char *prefix,
			int (*each)(void *arg, const char *name,
				    const char *json),
			void *arg);

	/* The directory cache of the run's tenant, per kind ("groups",
	 * "assignmentFilters" or "roleScopeTags").  begin starts a new
	 * snapshot of KIND, put adds one object to it (id, display name, the
	 * object as JSON), commit replaces the tenant's snapshot of KIND with
	 * it in one step.  Until commit readers see the previous snapshot,
	 * and a run that ends without commit leaves it whole.  Only during
	 * run, only for OPRUN_OP_DIRECTORY_WRITER operations. */
	int (*directory_begin)(struct oprun_ctx *ctx, const char *kind);
	int (*directory_put)(struct oprun_ctx *ctx, const char *kind,
			     const char *id, const char *display_name,
			     const char *json);
	int (*directory_commit)(struct oprun_ctx *ctx, const char *kind);

	/* Calls each(arg, id, display_name, json) for the cached objects
	 * of TENANT's KIND whose display name equals NAME ignoring ASCII
	 * case (the first 64 of them), so the caller sees an ambiguity.
	 * Returns the number of hits, all counted (0: none), -1 on error. */
	int (*directory_find_by_name)(struct oprun_ctx *ctx, const char *tenant,
				      const char *kind, const char *name,
				      int (*each)(void *arg, const char *id,
						  const char *display_name,
						  const char *json),
				      void *arg);

	/* The cached object ID of TENANT's KIND: 0 with *display_name and
	 * *json set, 1 if the cache does not hold it, -1 on error. */
	int (*directory_get)(struct oprun_ctx *ctx, const char *tenant,
			     const char *kind, const char *id,
			     const char **display_name, const char **json);

	/* When TENANT's KIND was last committed, in ms since the epoch; 0 if
	 * it never was, -1 on error. */
	int64_t (*directory_synced_at)(struct oprun_ctx *ctx,
				       const char *tenant, const char *kind);

	/* Seals plaintext into an opaque "oprun-sealed:v1:..." string
	 * (AES-256-GCM, key from [store] secrets_key_file, which the plugin
	 * never sees).  Store the sealed string, never the plaintext. */
	int (*seal)(struct oprun_ctx *ctx, const char *plaintext,
		    const char **sealed);
	/* Opens a string made by seal (only during run).  The host wipes
	 * *plaintext at the next call or the end of the callback; do not
	 * copy it anywhere that outlives the call that writes it. */
	int (*unseal)(struct oprun_ctx *ctx, const char *sealed,
		      const char **plaintext);

	/* Why the last ABI 1.2 call with this ctx failed, one line ("" if
	 * none failed). */
	const char *(*last_error)(struct oprun_ctx *ctx);

	/* Later minor versions append members here. */
};

/* True when the host table carries MEMBER and it is set. */
#define OPRUN_HOST_HAS(host, member)                                        \
	((host)->size >= offsetof(struct oprun_host, member) +               \
			     sizeof((host)->member) &&                       \
	 (host)->member != NULL)

/* The run as the plugin sees it: read-only, valid during run(). */
struct oprun_run_info {
	uint32_t size;
	uint64_t id;
	const char *tenant;
	const char *type;
	const char *target;    /* "" when the run has no target */
	const char *initiator;
	const char *payload;   /* JSON object text */
	uint32_t attempt;      /* 1 for the first attempt */
	int64_t deadline_ms;   /* ms since the epoch, 0 = none */
};

/* One operation.  Validate and identity run at submit time, in the
 * submitting process, before anything is written. */
struct oprun_operation {
	uint32_t size;
	const char *type;	 /* e.g. "backup-capture": [a-z0-9_-], unique */
	const char *description; /* one line for `oprun plugins list` */
	uint32_t flags;		 /* OPRUN_OP_* */

	/* Optional.  Returns 0 if payload (a JSON object) is acceptable,
	 * else -1 with a one-line reason in err naming the field. */
	int (*validate)(const struct oprun_host *host, struct oprun_ctx *ctx,
			const char *payload, char *err, size_t errlen);

	/* Optional.  Narrows the dedupe identity: writes into out a JSON
	 * object holding only the payload fields that make two runs the
	 * same operation.  Returns 0, or -1 if out is too small. */
	int (*identity)(const char *payload, char *out, size_t outlen);

	/* Required.  Does the work, reporting through host. */
	enum oprun_outcome (*run)(const struct oprun_host *host,
				  struct oprun_ctx *ctx,
				  const struct oprun_run_info *run);
};

/* Declared config key of the plugin's [plugin NAME] section.  Frozen in
 * ABI 1: arrays of it end with an entry whose name is NULL. */
struct oprun_config_key {
	const char *name;
	const char *description;
	const char *default_value; /* NULL = no default */
	int required;		   /* 1 = config check fails without it */
};

/* The plugin descriptor, returned by oprun_plugin_describe. */
struct oprun_plugin {
	uint32_t size;
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *name;    /* [a-z0-9_-], names the [plugin NAME] section */
	const char *version; /* free-form, e.g. "1.2.0" */
	const char *description;

	const struct oprun_config_key *config_keys; /* NULL or {NULL}-ended */
	/* NULL-terminated array of pointers, so each operation carries its
	 * own size and can grow independently. */
	const struct oprun_operation *const *operations;

	/* Optional.  Called once per process before the first validate or
	 * run.  Return 0, or -1 with a message in err: the plugin's
	 * operations then fail closed with that message. */
	int (*init)(const struct oprun_host *host, struct oprun_ctx *ctx,
		    char *err, size_t errlen);
	/* Optional.  Called once at process exit if init succeeded. */
	void (*fini)(void);
};

/* The entry symbol.  The host passes its own ABI version; return a
 * pointer to a static descriptor (or NULL to refuse to load). */
typedef const struct oprun_plugin *(*oprun_describe_fn)(
    uint16_t host_abi_major, uint16_t host_abi_minor);

#define OPRUN_ENTRY_SYMBOL "oprun_plugin_describe"

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* OPRUN_PLUGIN_H */
