/*
 * Test plugin "graphtest": reaches Microsoft Graph (the fake server in
 * tests) only through the host's client.
 *
 * test-graph-list  {"path": "/v1.0/groups", "consistency": true}
 *     lists the collection through graph_list, one item per element of
 *     each page's "value"; "consistency" sends ConsistencyLevel: eventual.
 *     Result {"items": N, "pages": P}.  A failed page fails the run with
 *     the host's message.
 * test-graph-calls {"requests": [{"method": "GET", "path": "...",
 *                                 "body": {...}}]}
 *     one item per request: succeeded on 2xx, else failed with the host's
 *     message (status, OData code, text, request-id).  Not idempotent.
 * test-graph-user  {"path": "/v1.0/groups?$top=1"}
 *     acts as the initiator: one GET with the run's delegated token.
 * test-graph-batch {"version": "v1.0", "requests": [...]}
 *     one $batch through graph_batch; one item per answer, succeeded on
 *     2xx.  Result {"statuses": [...]} in request order.  A failed
 *     batch fails the run (and an item "batch") with the host's message;
 *     an answer the host marked with an "error" (no usable answer came
 *     for it) fails its item with that message and the run with the
 *     first one.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

struct walk {
	const struct oprun_host *host;
	struct oprun_ctx *ctx;
	long items, pages;
};

static int
on_page(void *arg, const char *json)
{
	struct walk *w = arg;
	cJSON *root = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "value");
	const cJSON *e;

	w->pages++;
	cJSON_ArrayForEach(e, v) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");

		w->host->item_done(w->ctx, cJSON_IsString(id) ? id->valuestring :
		    "?", OPRUN_ITEM_SUCCEEDED, NULL);
		w->items++;
	}
	cJSON_Delete(root);
	return 0;
}

static enum oprun_outcome
list_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	static const char *const eventual[] = { "ConsistencyLevel: eventual",
		NULL };
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	struct walk w = { host, ctx, 0, 0 };
	cJSON *p = cJSON_Parse(run->payload);
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(p, "path");
	int consistency = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
	    "consistency"));
	char result[96];
	int rc;

	if (!OPRUN_HOST_HAS(host, graph_list) || !cJSON_IsString(path)) {
		cJSON_Delete(p);
		host->set_reason(ctx, "no Graph client or no payload.path");
		return OPRUN_FAILED;
	}
	rc = host->graph_list(ctx, path->valuestring, consistency ? eventual :
	    NULL, on_page, &w, &resp);
	cJSON_Delete(p);
	snprintf(result, sizeof(result), "{\"items\":%ld,\"pages\":%ld}",
	    w.items, w.pages);
	host->set_result(ctx, result);
	if (rc != 0) {
		host->item_done(ctx, "list", OPRUN_ITEM_FAILED, resp.error);
		host->set_reason(ctx, resp.error);
		return OPRUN_FAILED;
	}
	return OPRUN_OK;
}

/* One request of the payload: an item named "METHOD path". */
static int
one_call(const struct oprun_host *host, struct oprun_ctx *ctx,
    const cJSON *req)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "path");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(req, "body");
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	char item[300], *text = body != NULL ? cJSON_PrintUnformatted(body) :
	    NULL;
	int ok;

	snprintf(item, sizeof(item), "%s %s", cJSON_IsString(m) ?
	    m->valuestring : "GET", cJSON_IsString(path) ? path->valuestring :
	    "?");
	ok = cJSON_IsString(path) && host->graph_request(ctx,
	    cJSON_IsString(m) ? m->valuestring : "GET", path->valuestring, NULL,
	    text, &resp) == 0 && resp.status >= 200 && resp.status <= 299;
	cJSON_free(text);
	host->item_done(ctx, item, ok ? OPRUN_ITEM_SUCCEEDED :
	    OPRUN_ITEM_FAILED, ok ? NULL : resp.error);
	return ok;
}

static enum oprun_outcome
calls_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *p = cJSON_Parse(run->payload);
	const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(p, "requests");
	const cJSON *r;
	int ok = 0, failed = 0;

	host->set_total(ctx, (uint64_t)cJSON_GetArraySize(reqs));
	cJSON_ArrayForEach(r, reqs) {
		if (host->cancel_requested(ctx)) {
			cJSON_Delete(p);
			return OPRUN_CANCELED;
		}
		if (one_call(host, ctx, r))
			ok++;
		else
			failed++;
	}
	cJSON_Delete(p);
	if (failed > 0 && ok == 0) {
		host->set_reason(ctx, "every Graph request failed");
		return OPRUN_FAILED;
	}
	return failed > 0 ? OPRUN_PARTIAL : OPRUN_OK;
}

static enum oprun_outcome
batch_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	cJSON *p = cJSON_Parse(run->payload), *answers, *result, *statuses;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "version");
	const cJSON *a, *first_error = NULL;
	enum oprun_outcome outcome = OPRUN_OK;
	char *reqs = cJSON_PrintUnformatted(
	    cJSON_GetObjectItemCaseSensitive(p, "requests"));
	int rc = host->graph_batch(ctx, cJSON_IsString(v) ? v->valuestring :
	    "v1.0", reqs != NULL ? reqs : "[]", &resp);
	char *text;

	cJSON_free(reqs);
	cJSON_Delete(p);
	if (rc != 0) {
		host->item_done(ctx, "batch", OPRUN_ITEM_FAILED, resp.error);
		host->set_reason(ctx, resp.error);
		return OPRUN_FAILED;
	}
	answers = cJSON_Parse(resp.body);
	result = cJSON_CreateObject();
	statuses = cJSON_AddArrayToObject(result, "statuses");
	cJSON_ArrayForEach(a, answers) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(a, "status");
		const cJSON *error = cJSON_GetObjectItemCaseSensitive(a, "error");
		int status = cJSON_IsNumber(st) ? (int)st->valuedouble : 0;
		char msg[64];

		snprintf(msg, sizeof(msg), "batch item answered HTTP %d", status);
		cJSON_AddItemToArray(statuses, cJSON_CreateNumber(status));
		if (cJSON_IsString(error) && first_error == NULL)
			first_error = error;
		host->item_done(ctx, cJSON_IsString(id) ? id->valuestring : "?",
		    status >= 200 && status <= 299 && !cJSON_IsString(error) ?
		    OPRUN_ITEM_SUCCEEDED : OPRUN_ITEM_FAILED,
		    cJSON_IsString(error) ? error->valuestring : msg);
	}
	text = cJSON_PrintUnformatted(result);
	host->set_result(ctx, text);
	if (first_error != NULL) {
		host->set_reason(ctx, first_error->valuestring);
		outcome = OPRUN_FAILED;
	}
	cJSON_free(text);
	cJSON_Delete(result);
	cJSON_Delete(answers);
	return outcome;
}

static enum oprun_outcome
user_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	cJSON *p = cJSON_Parse(run->payload);
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(p, "path");
	int ok;

	if (!OPRUN_HOST_HAS(host, graph_request_user) ||
	    !host->has_delegated_token(ctx)) {
		cJSON_Delete(p);
		host->set_reason(ctx, "no delegated token");
		return OPRUN_FAILED;
	}
	ok = host->graph_request_user(ctx, "GET", cJSON_IsString(path) ?
	    path->valuestring : "/v1.0/groups?$top=1", NULL, NULL, &resp) == 0 &&
	    resp.status == 200;
	cJSON_Delete(p);
	host->item_done(ctx, "as-user", ok ? OPRUN_ITEM_SUCCEEDED :
	    OPRUN_ITEM_FAILED, ok ? NULL : resp.error);
	if (!ok)
		host->set_reason(ctx, resp.error);
	return ok ? OPRUN_OK : OPRUN_FAILED;
}

static const struct oprun_operation user_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-graph-user",
	.description = "test: one Graph GET as the initiator",
	.flags = OPRUN_OP_NEEDS_DELEGATED_TOKEN,
	.run = user_run,
};

static const struct oprun_operation batch_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-graph-batch",
	.description = "test: one $batch through graph_batch",
	.flags = OPRUN_OP_IDEMPOTENT,
	.run = batch_run,
};

static const struct oprun_operation list_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-graph-list",
	.description = "test: list a Graph collection through graph_list",
	.flags = OPRUN_OP_IDEMPOTENT | OPRUN_OP_CANCELLABLE,
	.run = list_run,
};

static const struct oprun_operation calls_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-graph-calls",
	.description = "test: Graph requests, one item each",
	.flags = OPRUN_OP_CANCELLABLE,
	.run = calls_run,
};

static const struct oprun_operation *const ops[] = { &list_op, &calls_op,
	&batch_op, &user_op, NULL };

static const struct oprun_plugin graphtest_plugin = {
	.size = sizeof(struct oprun_plugin),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.name = "graphtest",
	.version = "1.0.0",
	.description = "test plugin: Graph calls through the host client",
	.operations = ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	(void)host_abi_major;
	(void)host_abi_minor;
	return &graphtest_plugin;
}
