/*
 * Test plugin "docdump": lets end-to-end tests read what ABI 1.2 plugins
 * stored, through the same host table (tests/e2e/capture.bats).
 *
 * test-docs       {"run": N, "prefix": "", "out": "/abs/file"}
 *     writes every document of run N whose name starts with prefix to
 *     out, one JSON line {"name": ..., "doc": {...}} each, in name order
 *     (doc_list).  Result {"documents": N}.
 * test-directory  {"kind": "groups", "ids": ["..."], "out": "/abs/file"}
 *     looks each id up in the run's tenant's directory cache
 *     (directory_get) and writes one JSON line {"id", "displayName",
 *     "found"} each.  Result {"found": N, "missing": M, "synced_at": MS}.
 *
 * Neither is idempotent (they write a file); both fail the run with the
 * host's last_error when a call fails.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

struct dump {
	FILE *out;
	long n;
};

static int
each_doc(void *arg, const char *name, const char *json)
{
	struct dump *d = arg;
	cJSON *line = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(line, "name", name);
	cJSON_AddItemToObject(line, "doc", cJSON_Parse(json));
	text = cJSON_PrintUnformatted(line);
	fprintf(d->out, "%s\n", text != NULL ? text : "null");
	cJSON_free(text);
	cJSON_Delete(line);
	d->n++;
	return 0;
}

/* Opens payload.out for writing; NULL (reason set) if it cannot. */
static FILE *
open_out(const struct oprun_host *host, struct oprun_ctx *ctx,
    const cJSON *p)
{
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(p, "out");
	FILE *f = cJSON_IsString(out) ? fopen(out->valuestring, "w") : NULL;

	if (f == NULL)
		host->set_reason(ctx, "payload.out: cannot write it");
	return f;
}

static enum oprun_outcome
docs_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *p = cJSON_Parse(run->payload);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "run");
	const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(p, "prefix");
	struct dump d = { NULL, 0 };
	char result[64];
	int rc = -1;

	if (!OPRUN_HOST_HAS(host, doc_list) || !cJSON_IsNumber(id))
		host->set_reason(ctx, "no doc_list, or no payload.run");
	else if ((d.out = open_out(host, ctx, p)) != NULL &&
	    (rc = host->doc_list(ctx, (uint64_t)id->valuedouble,
	    cJSON_IsString(prefix) ? prefix->valuestring : "", each_doc,
	    &d)) != 0)
		host->set_reason(ctx, host->last_error(ctx));
	if (d.out != NULL)
		fclose(d.out);
	cJSON_Delete(p);
	snprintf(result, sizeof(result), "{\"documents\":%ld}", d.n);
	host->set_result(ctx, result);
	host->item_done(ctx, "docs", rc == 0 ? OPRUN_ITEM_SUCCEEDED :
	    OPRUN_ITEM_FAILED, rc == 0 ? NULL : "doc_list failed");
	return rc == 0 ? OPRUN_OK : OPRUN_FAILED;
}

/* One line for id; returns 1 if found, 0 if not, -1 on error. */
static int
look_up(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run, const char *kind, const char *id,
    FILE *out)
{
	const char *name = NULL, *json = NULL;
	int rc = host->directory_get(ctx, run->tenant, kind, id, &name, &json);
	cJSON *line = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(line, "id", id);
	if (rc == 0 && name != NULL)
		cJSON_AddStringToObject(line, "displayName", name);
	else
		cJSON_AddNullToObject(line, "displayName");
	cJSON_AddBoolToObject(line, "found", rc == 0);
	text = cJSON_PrintUnformatted(line);
	fprintf(out, "%s\n", text != NULL ? text : "null");
	cJSON_free(text);
	cJSON_Delete(line);
	return rc < 0 ? -1 : rc == 0;
}

static enum oprun_outcome
directory_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *p = cJSON_Parse(run->payload);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(p, "kind");
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "ids"), *e;
	long found = 0, missing = 0;
	char result[128];
	FILE *out = NULL;
	int rc = 0, hit;

	if (!OPRUN_HOST_HAS(host, directory_get) || !cJSON_IsString(kind) ||
	    !cJSON_IsArray(ids))
		host->set_reason(ctx, "no directory_get, or no payload.kind "
		    "and ids");
	else if ((out = open_out(host, ctx, p)) != NULL)
		cJSON_ArrayForEach(e, ids) {
			if (!cJSON_IsString(e))
				continue;
			hit = look_up(host, ctx, run, kind->valuestring,
			    e->valuestring, out);
			if (hit < 0) {
				host->set_reason(ctx, host->last_error(ctx));
				rc = -1;
				break;
			}
			if (hit)
				found++;
			else
				missing++;
		}
	if (out != NULL)
		fclose(out);
	snprintf(result, sizeof(result), "{\"found\":%ld,\"missing\":%ld,"
	    "\"synced_at\":%lld}", found, missing, (long long)(out != NULL ?
	    host->directory_synced_at(ctx, run->tenant, kind->valuestring) :
	    -1));
	host->set_result(ctx, result);
	cJSON_Delete(p);
	host->item_done(ctx, "directory", out != NULL && rc == 0 ?
	    OPRUN_ITEM_SUCCEEDED : OPRUN_ITEM_FAILED, NULL);
	return out != NULL && rc == 0 ? OPRUN_OK : OPRUN_FAILED;
}

static const struct oprun_operation docs_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-docs",
	.description = "test: write a run's documents to a file",
	.run = docs_run,
};

static const struct oprun_operation directory_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-directory",
	.description = "test: look ids up in the directory cache",
	.run = directory_run,
};

static const struct oprun_operation *const operations[] = { &docs_op,
	&directory_op, NULL };

static const struct oprun_plugin plugin = {
	.size = sizeof(struct oprun_plugin),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.name = "docdump",
	.version = "1.0.0",
	.description = "test plugin: reads documents and the directory cache",
	.operations = operations,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	(void)host_abi_major;
	(void)host_abi_minor;
	return &plugin;
}
