#define _DEFAULT_SOURCE /* explicit_bzero */
#include "hostapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "graph.h"
#include "log.h"
#include "text.h"
#include "util.h"

#define KV_MAX_KEY	255
#define KV_MAX_VALUE	(64 * 1024)

static void host_log(struct oprun_ctx *ctx, enum oprun_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
host_log(struct oprun_ctx *ctx, enum oprun_log_level level, const char *fmt,
    ...)
{
	const struct run *r = ctx->run;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event((int)level, r != NULL ? r->id : 0,
	    r != NULL ? r->type : NULL, r != NULL ? r->tenant : NULL,
	    "plugin %s: %s", ctx->plugin->desc.name, msg);
}

int
hostapi_flush(struct oprun_ctx *ctx, char *err, size_t errlen)
{
	int cancel = 0, rc;

	if (ctx->run == NULL || ctx->st == NULL || ctx->lost)
		return ctx->lost ? 1 : 0;
	rc = store_progress(ctx->st, ctx->run, &ctx->writes, &cancel, err,
	    errlen);
	if (rc < 0) {
		/* Once per run: the counts stay in memory and are saved by a
		 * later flush or with the run's end. */
		if (!ctx->progress_warned)
			log_event(OPRUN_LOG_WARN, ctx->run->id, ctx->run->type,
			    ctx->run->tenant, "cannot save progress yet (kept "
			    "in memory): %s", err);
		ctx->progress_warned = 1;
		return -1;
	}
	if (rc == 1) {
		/* Someone else resolved the run: stop the plugin. */
		ctx->lost = 1;
		cancel = 1;
	}
	store_writes_clear(&ctx->writes);
	ctx->cancel_requested |= cancel;
	ctx->dirty = 0;
	ctx->last_flush_ms = monotonic_ms();
	return rc;
}

int
hostapi_save(struct oprun_ctx *ctx, char *err, size_t errlen)
{
	int rc;

	while ((rc = hostapi_flush(ctx, err, errlen)) < 0) {
		if (!store_is_full(ctx->st) || ctx->wait_for_room == NULL)
			return -1;
		ctx->wait_for_room(ctx->wait_arg, err);
	}
	if (rc == 1)
		return errf(err, errlen, "the run was resolved elsewhere "
		    "while it ran");
	return 0;
}

static void
maybe_flush(struct oprun_ctx *ctx)
{
	char err[512];

	if (monotonic_ms() - ctx->last_flush_ms >= HOSTAPI_FLUSH_MS)
		hostapi_flush(ctx, err, sizeof(err));
}

static void
host_set_total(struct oprun_ctx *ctx, uint64_t total)
{
	if (ctx->run == NULL)
		return;
	ctx->run->counts.total = total;
	ctx->dirty = 1;
}

static void
host_item_done(struct oprun_ctx *ctx, const char *item,
    enum oprun_item_status status, const char *message)
{
	struct run_counts *c;

	if (ctx->run == NULL)
		return;
	c = &ctx->run->counts;
	c->processed++;
	if (c->processed > c->total)
		c->total = c->processed;
	if (status == OPRUN_ITEM_FAILED) {
		c->failed++;
		run_add_failure(ctx->run, item, message);
	} else if (status == OPRUN_ITEM_SKIPPED) {
		c->skipped++;
	} else {
		c->succeeded++;
	}
	ctx->dirty = 1;
	maybe_flush(ctx);
}

static int
host_set_result(struct oprun_ctx *ctx, const char *json_object)
{
	cJSON *v;
	char *text;

	if (ctx->run == NULL || json_object == NULL)
		return -1;
	/* cJSON keeps a string's bytes as they are: repair them first, so
	 * the stored result is valid UTF-8 like every run text. */
	text = text_utf8_repair(json_object);
	v = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(v)) {
		host_log(ctx, OPRUN_LOG_ERROR, "set_result: not a JSON object");
		cJSON_Delete(v);
		return -1;
	}
	text = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	if (text == NULL || strlen(text) > RUN_MAX_RESULT) {
		host_log(ctx, OPRUN_LOG_ERROR, "set_result: result larger "
		    "than %d bytes; keep big data in plugin storage",
		    RUN_MAX_RESULT);
		free(text);
		return -1;
	}
	free(ctx->run->result);
	ctx->run->result = text;
	return 0;
}

static void
host_set_reason(struct oprun_ctx *ctx, const char *reason)
{
	if (ctx->run != NULL)
		run_set_text(&ctx->run->reason, reason, RUN_MAX_MESSAGE);
}

static int
host_cancel_requested(struct oprun_ctx *ctx)
{
	if (ctx->run == NULL)
		return 0;
	maybe_flush(ctx);
	return ctx->cancel_requested;
}

static const char *
host_config_get(struct oprun_ctx *ctx, const char *key)
{
	return key == NULL ? NULL : plugins_config_get(ctx->plugin, key);
}

static int
kv_key_ok(struct oprun_ctx *ctx, const char *key)
{
	if (ctx->st == NULL) {
		host_log(ctx, OPRUN_LOG_ERROR, "key/value storage is not "
		    "available here");
		return 0;
	}
	if (key == NULL || *key == '\0' || strlen(key) > KV_MAX_KEY) {
		host_log(ctx, OPRUN_LOG_ERROR, "key/value: key must be 1 to %d "
		    "bytes", KV_MAX_KEY);
		return 0;
	}
	return 1;
}

static int
host_kv_get(struct oprun_ctx *ctx, const char *key, void *buf, size_t cap,
    size_t *len)
{
	char err[512];
	int rc;

	if (!kv_key_ok(ctx, key) || len == NULL || (buf == NULL && cap > 0))
		return -1;
	rc = store_kv_get(ctx->st, ctx->plugin->desc.name, key, buf, cap, len,
	    err, sizeof(err));
	if (rc < 0)
		host_log(ctx, OPRUN_LOG_ERROR, "%s", err);
	return rc;
}

static int
host_kv_put(struct oprun_ctx *ctx, const char *key, const void *val,
    size_t len)
{
	char err[512];

	if (!kv_key_ok(ctx, key) || (val == NULL && len > 0))
		return -1;
	if (len > KV_MAX_VALUE) {
		host_log(ctx, OPRUN_LOG_ERROR, "key/value: value of %zu bytes "
		    "is over the %d byte limit", len, KV_MAX_VALUE);
		return -1;
	}
	if (store_kv_put(ctx->st, ctx->plugin->desc.name, key, val, len, err,
	    sizeof(err)) != 0) {
		host_log(ctx, OPRUN_LOG_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

static int
host_kv_delete(struct oprun_ctx *ctx, const char *key)
{
	char err[512];

	if (!kv_key_ok(ctx, key))
		return -1;
	if (store_kv_delete(ctx->st, ctx->plugin->desc.name, key, err,
	    sizeof(err)) != 0) {
		host_log(ctx, OPRUN_LOG_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

static int
graph_canceled(void *arg)
{
	return host_cancel_requested(arg);
}

/* The process's Graph client, opened on first use. */
static struct graph_client *
graph_client(struct oprun_ctx *ctx, char *err, size_t errlen)
{
	if (ctx->graph == NULL || ctx->cfg == NULL || ctx->run == NULL) {
		errf(err, errlen, "Graph calls are only possible while a run "
		    "runs");
		return NULL;
	}
	if (*ctx->graph == NULL && graph_client_open(ctx->graph, ctx->cfg, err,
	    errlen) != 0)
		return NULL;
	return *ctx->graph;
}

/* Hands the plugin a view of resp, which ctx keeps until the next call. */
static void
expose(struct oprun_ctx *ctx, struct oprun_graph_response *out)
{
	struct oprun_graph_response view = {
		.size = sizeof(view),
		.status = ctx->last->status,
		.body = ctx->last->body != NULL ? ctx->last->body : "",
		.request_id = ctx->last->request_id,
		.error = ctx->last->error,
	};
	size_t n = out->size < sizeof(view) ? out->size : sizeof(view);

	/* Copy no more than the plugin's struct holds (its size says). */
	memcpy(out, &view, n);
	out->size = (uint32_t)n;
}

/* The arguments of one plugin Graph call, whichever kind it is. */
struct graph_args {
	const char *method, *path, *body, *version;
	const char *const *headers;
	int (*page)(void *arg, const char *json);
	void *page_arg;
};

typedef int (*graph_fn)(struct graph_client *gc, struct graph_call *call,
    const struct graph_args *a, struct graph_response *out);

static int
do_request(struct graph_client *gc, struct graph_call *call,
    const struct graph_args *a, struct graph_response *out)
{
	return graph_request(gc, call, a->method, a->path, a->headers, a->body,
	    out);
}

static int
do_list(struct graph_client *gc, struct graph_call *call,
    const struct graph_args *a, struct graph_response *out)
{
	return graph_list(gc, call, a->path, a->headers, a->page, a->page_arg,
	    out);
}

static int
do_batch(struct graph_client *gc, struct graph_call *call,
    const struct graph_args *a, struct graph_response *out)
{
	return graph_batch(gc, call, a->version, a->body, out);
}

/*
 * Runs one Graph call for the plugin: the answer goes to ctx->last (kept
 * until the next call) and resp gets a view of it.  usage is the error
 * when the plugin left out a required argument (valid = 0); user makes
 * it a call with the run's delegated token.
 */
static int
plugin_graph_call(struct oprun_ctx *ctx, struct oprun_graph_response *resp,
    graph_fn fn, const struct graph_args *a, int valid, const char *usage,
    int user)
{
	struct graph_call call = { .tenant = ctx->run != NULL ?
		ctx->run->tenant : "", .canceled = graph_canceled, .arg = ctx,
		.wait_budget_ms = ctx->graph_wait_budget_ms,
		.user_token = user ? ctx->delegated_token : NULL };
	struct graph_client *gc;
	int rc = -1;

	if (resp == NULL || resp->size < sizeof(uint32_t))
		return -1;
	if (ctx->last == NULL)
		ctx->last = xcalloc(1, sizeof(*ctx->last));
	graph_response_free(ctx->last);
	memset(ctx->last, 0, sizeof(*ctx->last));
	gc = graph_client(ctx, ctx->last->error, sizeof(ctx->last->error));
	if (gc != NULL && user && call.user_token == NULL) {
		usage = "this run has no delegated token: flag the operation "
		    "OPRUN_OP_NEEDS_DELEGATED_TOKEN";
		valid = 0;
	}
	if (gc != NULL && valid)
		rc = fn(gc, &call, a, ctx->last);
	else if (gc != NULL)
		snprintf(ctx->last->error, sizeof(ctx->last->error), "%s",
		    usage);
	ctx->graph_wait_budget_ms = call.wait_budget_ms;
	expose(ctx, resp);
	return rc;
}

/* graph_request as the run's tenant app, or (user) as its initiator. */
static int
request_as(struct oprun_ctx *ctx, const char *method, const char *path,
    const char *const *headers, const char *body,
    struct oprun_graph_response *resp, int user)
{
	struct graph_args a = { .method = method, .path = path, .body = body,
		.headers = headers };

	return plugin_graph_call(ctx, resp, do_request, &a,
	    method != NULL && path != NULL,
	    "graph_request: method and path are required", user);
}

static int
host_graph_request(struct oprun_ctx *ctx, const char *method,
    const char *path, const char *const *headers, const char *body,
    struct oprun_graph_response *resp)
{
	return request_as(ctx, method, path, headers, body, resp, 0);
}

static int
host_graph_list(struct oprun_ctx *ctx, const char *path,
    const char *const *headers, int (*page)(void *arg, const char *json),
    void *arg, struct oprun_graph_response *resp)
{
	struct graph_args a = { .path = path, .headers = headers,
		.page = page, .page_arg = arg };

	return plugin_graph_call(ctx, resp, do_list, &a,
	    path != NULL && page != NULL,
	    "graph_list: path and page are required", 0);
}

static int
host_graph_batch(struct oprun_ctx *ctx, const char *version,
    const char *requests, struct oprun_graph_response *resp)
{
	struct graph_args a = { .version = version, .body = requests };

	return plugin_graph_call(ctx, resp, do_batch, &a,
	    version != NULL && requests != NULL,
	    "graph_batch: version and requests are required", 0);
}

static int
host_has_delegated_token(struct oprun_ctx *ctx)
{
	return ctx->delegated_token != NULL;
}

static int
host_graph_request_user(struct oprun_ctx *ctx, const char *method,
    const char *path, const char *const *headers, const char *body,
    struct oprun_graph_response *resp)
{
	return request_as(ctx, method, path, headers, body, resp, 1);
}

void
hostapi_ctx_done(struct oprun_ctx *ctx)
{
	if (ctx->delegated_token != NULL) {
		explicit_bzero(ctx->delegated_token,
		    strlen(ctx->delegated_token));
		free(ctx->delegated_token);
		ctx->delegated_token = NULL;
	}
	if (ctx->last != NULL) {
		graph_response_free(ctx->last);
		free(ctx->last);
		ctx->last = NULL;
	}
	hostapi_store_done(ctx);
}

const struct oprun_host hostapi_table = {
	.size = sizeof(struct oprun_host),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.log = host_log,
	.set_total = host_set_total,
	.item_done = host_item_done,
	.set_result = host_set_result,
	.set_reason = host_set_reason,
	.cancel_requested = host_cancel_requested,
	.config_get = host_config_get,
	.kv_get = host_kv_get,
	.kv_put = host_kv_put,
	.kv_delete = host_kv_delete,
	.graph_request = host_graph_request,
	.graph_list = host_graph_list,
	.graph_batch = host_graph_batch,
	.has_delegated_token = host_has_delegated_token,
	.graph_request_user = host_graph_request_user,
	.doc_put = hostapi_doc_put,
	.doc_get = hostapi_doc_get,
	.doc_list = hostapi_doc_list,
	.directory_begin = hostapi_directory_begin,
	.directory_put = hostapi_directory_put,
	.directory_commit = hostapi_directory_commit,
	.directory_find_by_name = hostapi_directory_find_by_name,
	.directory_get = hostapi_directory_get,
	.directory_synced_at = hostapi_directory_synced_at,
	.seal = hostapi_seal,
	.unseal = hostapi_unseal,
	.last_error = hostapi_last_error,
};

static int
init_plugin(struct loaded_plugin *p, struct oprun_ctx *ctx, char *msg,
    size_t len)
{
	int rc = p->desc.init(&hostapi_table, ctx, msg, len);

	hostapi_ctx_done(ctx);
	return rc;
}

int
hostapi_plugin_ready(struct loaded_plugin *p, struct store *st, char *err,
    size_t errlen)
{
	struct oprun_ctx ctx = { .plugin = p, .st = st };
	char msg[384] = "";

	if (p->init_state == 0) {
		p->init_state = 1;
		if (p->desc.init != NULL &&
		    init_plugin(p, &ctx, msg, sizeof(msg)) != 0) {
			p->init_state = -1;
			snprintf(p->init_err, sizeof(p->init_err), "plugin %s "
			    "refused to start: %s", p->desc.name,
			    msg[0] != '\0' ? msg : "no reason given");
		}
	}
	if (p->init_state < 0)
		return errf(err, errlen, "%s", p->init_err);
	return 0;
}
