/*
 * Test plugin "docstest" (ABI 1.2): drives run documents, the directory
 * cache and sealed values so the end-to-end tests can check the host's
 * side of them without Graph.
 *
 *   test-docs (idempotent)   {"count": N, "crash_after": K, "secret": S,
 *                             "bytes": B}: puts N documents
 *                             "items/NNNNN.json" {"n", "attempt", "pad"};
 *                             on attempt 1 dies (abort) after K of them
 *                             have been saved; seals S into
 *                             "secret.json" {"value": sealed}; reads its
 *                             own documents back and checks them.
 *   test-dir (directory writer) {"kind": K, "names": [..], "fail_after":
 *                             N}: a snapshot of K with one object per
 *                             name (id "id-<i>"), committed unless
 *                             fail_after stops it first.
 *   test-dir-read            {"kind": K, "name": NAME, "tenant": T}:
 *                             result {"hits", "ids", "synced_at",
 *                             "write_error"} (it tries to write too).
 *   test-unseal              {"run": ID}: unseals secret.json of run ID
 *                             and reports its length (never the value).
 */
#include <oprun/plugin.h>

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
num(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

static const char *
str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int
fail(const struct oprun_host *h, struct oprun_ctx *ctx, const char *what)
{
	char why[768];

	snprintf(why, sizeof(why), "%s: %s", what, h->last_error(ctx));
	h->set_reason(ctx, why);
	return OPRUN_FAILED;
}

static int
put_item(const struct oprun_host *h, struct oprun_ctx *ctx, int n,
    uint32_t attempt, int bytes)
{
	char name[64], *pad = calloc(1, (size_t)bytes + 1), *json;
	cJSON *o = cJSON_CreateObject();
	int rc;

	memset(pad, 'x', (size_t)bytes);
	cJSON_AddNumberToObject(o, "n", n);
	cJSON_AddNumberToObject(o, "attempt", attempt);
	cJSON_AddStringToObject(o, "pad", pad);
	json = cJSON_PrintUnformatted(o);
	snprintf(name, sizeof(name), "items/%05d.json", n);
	rc = h->doc_put(ctx, name, json);
	free(json);
	free(pad);
	cJSON_Delete(o);
	return rc;
}

struct readback {
	int n;
	uint32_t attempt;
	int bad;
};

static int
check_item(void *arg, const char *name, const char *json)
{
	struct readback *rb = arg;
	cJSON *o = cJSON_Parse(json);

	(void)name;
	if (num(o, "n", -1) != rb->n ||
	    (uint32_t)num(o, "attempt", 0) != rb->attempt)
		rb->bad++;
	rb->n++;
	cJSON_Delete(o);
	return 0;
}

static int
put_secret(const struct oprun_host *h, struct oprun_ctx *ctx,
    const char *secret)
{
	const char *sealed;
	char *json;
	cJSON *o;
	int rc;

	if (h->seal(ctx, secret, &sealed) != 0)
		return -1;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "value", sealed);
	json = cJSON_PrintUnformatted(o);
	rc = h->doc_put(ctx, "secret.json", json);
	free(json);
	cJSON_Delete(o);
	return rc;
}

static enum oprun_outcome
docs_run(const struct oprun_host *h, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *p = cJSON_Parse(run->payload);
	int count = num(p, "count", 3), crash = num(p, "crash_after", -1);
	int bytes = num(p, "bytes", 16), rc = OPRUN_OK;
	struct readback rb = { 0, run->attempt, 0 };
	const char *secret = str(p, "secret");
	char result[128];

	h->set_total(ctx, (uint64_t)count);
	for (int i = 0; i < count && rc == OPRUN_OK; i++) {
		if (put_item(h, ctx, i, run->attempt, bytes) != 0)
			rc = fail(h, ctx, "doc_put");
		else
			h->item_done(ctx, "item", OPRUN_ITEM_SUCCEEDED, NULL);
		if (run->attempt == 1 && i + 1 == crash) {
			h->doc_list(ctx, run->id, "none/", check_item, &rb);
			abort(); /* after a save: the documents are on disk */
		}
	}
	if (rc == OPRUN_OK && secret != NULL && put_secret(h, ctx, secret))
		rc = fail(h, ctx, "seal");
	if (rc == OPRUN_OK &&
	    h->doc_list(ctx, run->id, "items/", check_item, &rb) != 0)
		rc = fail(h, ctx, "doc_list");
	snprintf(result, sizeof(result), "{\"read\":%d,\"bad\":%d}", rb.n,
	    rb.bad);
	h->set_result(ctx, result);
	cJSON_Delete(p);
	return rb.bad == 0 ? rc : OPRUN_FAILED;
}

static enum oprun_outcome
dir_run(const struct oprun_host *h, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *p = cJSON_Parse(run->payload), *names, *n;
	const char *kind = str(p, "kind");
	int stop = num(p, "fail_after", -1), i = 0, rc = OPRUN_OK;

	(void)run;
	names = cJSON_GetObjectItemCaseSensitive(p, "names");
	if (h->directory_begin(ctx, kind != NULL ? kind : "groups") != 0)
		rc = fail(h, ctx, "directory_begin");
	cJSON_ArrayForEach(n, names) {
		char id[32], json[256];

		if (rc != OPRUN_OK)
			break;
		if (i == stop) {
			h->set_reason(ctx, "stopped on purpose");
			rc = OPRUN_FAILED;
			break;
		}
		snprintf(id, sizeof(id), "id-%d", i++);
		snprintf(json, sizeof(json), "{\"id\":\"%s\"}", id);
		if (h->directory_put(ctx, kind, id, n->valuestring, json) != 0)
			rc = fail(h, ctx, "directory_put");
	}
	if (rc == OPRUN_OK && h->directory_commit(ctx, kind) != 0)
		rc = fail(h, ctx, "directory_commit");
	cJSON_Delete(p);
	return rc;
}

struct hits {
	cJSON *ids;
};

static int
add_hit(void *arg, const char *id, const char *name, const char *json)
{
	struct hits *hs = arg;

	(void)name;
	(void)json;
	cJSON_AddItemToArray(hs->ids, cJSON_CreateString(id));
	return 0;
}

static enum oprun_outcome
dir_read_run(const struct oprun_host *h, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *p = cJSON_Parse(run->payload), *r = cJSON_CreateObject();
	const char *kind = str(p, "kind"), *tenant = str(p, "tenant");
	struct hits hs = { cJSON_CreateArray() };
	int hits;
	char *text;

	if (tenant == NULL)
		tenant = run->tenant;
	hits = h->directory_find_by_name(ctx, tenant, kind, str(p, "name"),
	    add_hit, &hs);
	cJSON_AddNumberToObject(r, "hits", hits);
	cJSON_AddItemToObject(r, "ids", hs.ids);
	cJSON_AddNumberToObject(r, "synced_at",
	    (double)h->directory_synced_at(ctx, tenant, kind));
	h->directory_begin(ctx, kind);
	cJSON_AddStringToObject(r, "write_error", h->last_error(ctx));
	text = cJSON_PrintUnformatted(r);
	h->set_result(ctx, text);
	free(text);
	cJSON_Delete(r);
	cJSON_Delete(p);
	return OPRUN_OK;
}

static enum oprun_outcome
unseal_run(const struct oprun_host *h, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *p = cJSON_Parse(run->payload), *doc;
	const char *json, *plain;
	char result[64];
	int rc = OPRUN_OK;

	if (h->doc_get(ctx, (uint64_t)num(p, "run", 0), "secret.json", &json) !=
	    0) {
		cJSON_Delete(p);
		return fail(h, ctx, "doc_get");
	}
	doc = cJSON_Parse(json);
	if (h->unseal(ctx, str(doc, "value"), &plain) != 0)
		rc = fail(h, ctx, "unseal");
	else
		snprintf(result, sizeof(result), "{\"plain_bytes\":%zu}",
		    strlen(plain));
	if (rc == OPRUN_OK)
		h->set_result(ctx, result);
	cJSON_Delete(doc);
	cJSON_Delete(p);
	return rc;
}

static const struct oprun_operation op_docs = { sizeof(op_docs), "test-docs",
	"writes documents", OPRUN_OP_IDEMPOTENT, NULL, NULL, docs_run };
static const struct oprun_operation op_dir = { sizeof(op_dir), "test-dir",
	"writes a directory snapshot", OPRUN_OP_DIRECTORY_WRITER, NULL, NULL,
	dir_run };
static const struct oprun_operation op_dir_read = { sizeof(op_dir_read),
	"test-dir-read", "reads the directory cache", 0, NULL, NULL,
	dir_read_run };
static const struct oprun_operation op_unseal = { sizeof(op_unseal),
	"test-unseal", "unseals a document's value", 0, NULL, NULL,
	unseal_run };
static const struct oprun_operation *const ops[] = { &op_docs, &op_dir,
	&op_dir_read, &op_unseal, NULL };

static const struct oprun_plugin plugin = {
	.size = sizeof(plugin),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.name = "docstest",
	.version = "1.0",
	.description = "ABI 1.2 test operations",
	.operations = ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t major, uint16_t minor)
{
	(void)major;
	(void)minor;
	return &plugin;
}
