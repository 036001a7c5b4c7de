/*
 * hostapi_store - the ABI 1.2 members of the host table: run documents,
 * the directory cache and sealed values (include/oprun/plugin.h).
 *
 * Writes go into ctx->writes and are saved with the run's progress
 * (hostapi_flush), so a capture of thousands of objects commits a few
 * times a second, not once per object; past WRITES_MAX bytes a write
 * saves at once, so the executor never holds more than that.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hostapi.h"
#include "seal.h"
#include "util.h"

#define DOC_NAME_MAX	500
#define DOC_JSON_MAX	(16u << 20)
#define DIR_JSON_MAX	(1u << 20)
#define DIR_ID_MAX	255
#define DIR_NAME_MAX	1024
#define WRITES_MAX	(8u << 20)
#define WRITES_DOCS_MAX 1000

const char *const hostapi_directory_kinds[] = { "groups", "assignmentFilters",
	"roleScopeTags", NULL };

static int fail(struct oprun_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records why the call failed (for last_error) and returns -1. */
static int
fail(struct oprun_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, ap);
	va_end(ap);
	return -1;
}

static int
ok(struct oprun_ctx *ctx)
{
	ctx->last_error[0] = '\0';
	return 0;
}

const char *
hostapi_last_error(struct oprun_ctx *ctx)
{
	return ctx->last_error;
}

static int
need_run(struct oprun_ctx *ctx, const char *what)
{
	if (ctx->run == NULL || ctx->st == NULL)
		return fail(ctx, "%s: only during run()", what);
	return 0;
}

static int
need_store(struct oprun_ctx *ctx, const char *what)
{
	if (ctx->st == NULL)
		return fail(ctx, "%s: the store is not open here", what);
	return 0;
}

/* Saves the batch once it holds enough. */
static int
maybe_save(struct oprun_ctx *ctx, const char *what)
{
	char err[512];

	if (ctx->writes.bytes < WRITES_MAX &&
	    ctx->writes.ndocs + ctx->writes.nrows < WRITES_DOCS_MAX)
		return 0;
	if (hostapi_save(ctx, err, sizeof(err)) != 0)
		return fail(ctx, "%s: cannot save: %s", what, err);
	return 0;
}

/* ---- documents --------------------------------------------------- */

/* Names are relative paths of [A-Za-z0-9._-] segments; no segment is
 * empty, "." or "..", so a name is also a safe file path. */
static int
doc_name_ok(const char *name)
{
	size_t n = strlen(name), seg = 0;

	if (n == 0 || n > DOC_NAME_MAX)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = name[i];

		if (c == '/' || c == '\0') {
			if (seg == 0 || (seg == 1 && name[i - 1] == '.') ||
			    (seg == 2 && name[i - 1] == '.' &&
				name[i - 2] == '.'))
				return 0;
			seg = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return 0;
		seg++;
	}
	return 1;
}

/* 1 if text is one JSON value and nothing else. */
static int
json_ok(const char *text)
{
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithOpts(text, &end, 1);

	cJSON_Delete(v);
	return v != NULL;
}

int
hostapi_doc_put(struct oprun_ctx *ctx, const char *name, const char *json)
{
	size_t len;

	if (need_run(ctx, "doc_put") != 0)
		return -1;
	if (name == NULL || !doc_name_ok(name))
		return fail(ctx,
		    "doc_put: bad name: use a relative path of "
		    "[A-Za-z0-9._-] segments joined by '/', at most %d bytes",
		    DOC_NAME_MAX);
	len = json != NULL ? strlen(json) : 0;
	if (len == 0 || len > DOC_JSON_MAX)
		return fail(ctx, "doc_put %s: %s", name,
		    len == 0 ?
			"no JSON" :
			"larger than 16 MiB; split it into several documents");
	if (!json_ok(json))
		return fail(ctx, "doc_put %s: not valid JSON", name);
	if (store_writes_add_doc(&ctx->writes, name, json, len) != 0)
		return fail(ctx, "doc_put %s: out of memory", name);
	return maybe_save(ctx, "doc_put") != 0 ? -1 : ok(ctx);
}

int
hostapi_doc_get(struct oprun_ctx *ctx, uint64_t run_id, const char *name,
    const char **json)
{
	char err[512];
	size_t len;
	int rc;

	*json = NULL;
	if (need_store(ctx, "doc_get") != 0)
		return -1;
	free(ctx->doc_out);
	ctx->doc_out = NULL;
	if (name == NULL || !doc_name_ok(name))
		return ok(ctx) + 1;
	rc = store_doc_get(ctx->st, run_id, name, &ctx->doc_out, &len, err,
	    sizeof(err));
	if (rc < 0)
		return fail(ctx, "doc_get: %s", err);
	*json = ctx->doc_out;
	ok(ctx);
	return rc;
}

struct doc_walk {
	int (*each)(void *, const char *, const char *);
	void *arg;
};

static int
doc_each(void *arg, const char *name, const char *json, size_t len)
{
	struct doc_walk *w = arg;

	(void)len;
	return w->each(w->arg, name, json);
}

int
hostapi_doc_list(struct oprun_ctx *ctx, uint64_t run_id, const char *prefix,
    int (*each)(void *, const char *, const char *), void *arg)
{
	struct doc_walk w = { each, arg };
	char err[512];
	int rc;

	if (need_store(ctx, "doc_list") != 0)
		return -1;
	if (each == NULL)
		return fail(ctx, "doc_list: no callback");
	/* A run reading its own documents sees the unsaved ones too. */
	if (ctx->run != NULL && ctx->run->id == run_id &&
	    hostapi_save(ctx, err, sizeof(err)) != 0)
		return fail(ctx, "doc_list: %s", err);
	rc = store_doc_list(ctx->st, run_id, prefix != NULL ? prefix : "", "",
	    doc_each, &w, err, sizeof(err));
	if (rc == -1 && err[0] != '\0')
		return fail(ctx, "doc_list: %s", err);
	ok(ctx);
	return rc;
}

/* ---- the directory cache ----------------------------------------- */

static const char *
known_kind(const char *kind)
{
	for (size_t i = 0; kind != NULL && hostapi_directory_kinds[i]; i++)
		if (strcmp(kind, hostapi_directory_kinds[i]) == 0)
			return hostapi_directory_kinds[i];
	return NULL;
}

static int
bad_kind(struct oprun_ctx *ctx, const char *what, const char *kind)
{
	return fail(ctx,
	    "%s: unknown kind '%s': use groups, "
	    "assignmentFilters or roleScopeTags",
	    what, kind != NULL ? kind : "(null)");
}

static struct hostapi_stage *
stage_of(struct oprun_ctx *ctx, const char *kind)
{
	for (size_t i = 0; i < HOSTAPI_STAGES; i++)
		if (ctx->stages[i].kind == kind)
			return &ctx->stages[i];
	return NULL;
}

static int
need_writer(struct oprun_ctx *ctx, const char *what, const char *kind)
{
	if (need_run(ctx, what) != 0)
		return -1;
	if (!(ctx->op_flags & OPRUN_OP_DIRECTORY_WRITER))
		return fail(ctx,
		    "%s: operation %s may only read the directory "
		    "cache (it is not flagged OPRUN_OP_DIRECTORY_WRITER)",
		    what, ctx->run->type);
	if (known_kind(kind) == NULL)
		return bad_kind(ctx, what, kind);
	return 0;
}

int
hostapi_directory_begin(struct oprun_ctx *ctx, const char *kind)
{
	struct hostapi_stage *sg;
	char err[512];
	uint64_t gen;

	if (need_writer(ctx, "directory_begin", kind) != 0)
		return -1;
	kind = known_kind(kind);
	if (store_dir_begin(ctx->st, ctx->run->id, ctx->run->tenant, kind, &gen,
		err, sizeof(err)) != 0)
		return fail(ctx, "directory_begin %s: %s", kind, err);
	sg = stage_of(ctx, kind);
	if (sg == NULL)
		sg = stage_of(ctx, NULL);
	sg->kind = kind;
	sg->gen = gen;
	return ok(ctx);
}

int
hostapi_directory_put(struct oprun_ctx *ctx, const char *kind, const char *id,
    const char *display_name, const char *json)
{
	struct hostapi_stage *sg;

	if (need_writer(ctx, "directory_put", kind) != 0)
		return -1;
	sg = stage_of(ctx, known_kind(kind));
	if (sg == NULL)
		return fail(ctx,
		    "directory_put %s: call directory_begin "
		    "first",
		    kind);
	if (id == NULL || id[0] == '\0' || strlen(id) > DIR_ID_MAX)
		return fail(ctx,
		    "directory_put %s: the id is empty or longer "
		    "than %d bytes",
		    kind, DIR_ID_MAX);
	if (display_name == NULL || strlen(display_name) > DIR_NAME_MAX)
		return fail(ctx,
		    "directory_put %s %s: no display name, or one "
		    "longer than %d bytes",
		    kind, id, DIR_NAME_MAX);
	if (json == NULL || strlen(json) > DIR_JSON_MAX || !json_ok(json))
		return fail(ctx,
		    "directory_put %s %s: the object is not JSON "
		    "of at most 1 MiB",
		    kind, id);
	if (store_writes_add_row(&ctx->writes, ctx->run->tenant, sg->kind,
		sg->gen, id, display_name, json) != 0)
		return fail(ctx, "directory_put: out of memory");
	return maybe_save(ctx, "directory_put") != 0 ? -1 : ok(ctx);
}

int
hostapi_directory_commit(struct oprun_ctx *ctx, const char *kind)
{
	struct hostapi_stage *sg;
	char err[512];
	uint64_t count;
	int rc;

	if (need_writer(ctx, "directory_commit", kind) != 0)
		return -1;
	sg = stage_of(ctx, known_kind(kind));
	if (sg == NULL)
		return fail(ctx, "directory_commit %s: nothing begun", kind);
	if (hostapi_save(ctx, err, sizeof(err)) != 0)
		return fail(ctx, "directory_commit %s: %s", kind, err);
	rc = store_dir_commit(ctx->st, ctx->run->tenant, sg->kind, sg->gen,
	    now_ms(), &count, err, sizeof(err));
	sg->kind = NULL;
	if (rc == 1)
		return fail(ctx,
		    "directory_commit %s: another sync of tenant "
		    "%s began meanwhile; this snapshot was dropped",
		    kind, ctx->run->tenant);
	if (rc != 0)
		return fail(ctx, "directory_commit %s: %s", kind, err);
	return ok(ctx);
}

int
hostapi_directory_find_by_name(struct oprun_ctx *ctx, const char *tenant,
    const char *kind, const char *name,
    int (*each)(void *, const char *, const char *, const char *), void *arg)
{
	char err[512];
	size_t hits = 0;

	if (need_store(ctx, "directory_find_by_name") != 0)
		return -1;
	if (known_kind(kind) == NULL)
		return bad_kind(ctx, "directory_find_by_name", kind);
	if (tenant == NULL || name == NULL || each == NULL)
		return fail(ctx,
		    "directory_find_by_name: tenant, name and "
		    "callback are required");
	err[0] = '\0';
	if (store_dir_find(ctx->st, tenant, kind, name, each, arg, &hits, err,
		sizeof(err)) < 0 &&
	    err[0] != '\0')
		return fail(ctx, "directory_find_by_name: %s", err);
	ok(ctx);
	return hits > 1000000 ? 1000000 : (int)hits;
}

int
hostapi_directory_get(struct oprun_ctx *ctx, const char *tenant,
    const char *kind, const char *id, const char **display_name,
    const char **json)
{
	char err[512];
	int rc;

	*display_name = *json = NULL;
	if (need_store(ctx, "directory_get") != 0)
		return -1;
	if (known_kind(kind) == NULL)
		return bad_kind(ctx, "directory_get", kind);
	if (tenant == NULL || id == NULL)
		return fail(ctx, "directory_get: tenant and id are required");
	free(ctx->dir_name_out);
	free(ctx->dir_json_out);
	ctx->dir_name_out = ctx->dir_json_out = NULL;
	rc = store_dir_get(ctx->st, tenant, kind, id, &ctx->dir_name_out,
	    &ctx->dir_json_out, err, sizeof(err));
	if (rc < 0)
		return fail(ctx, "directory_get: %s", err);
	*display_name = ctx->dir_name_out;
	*json = ctx->dir_json_out;
	ok(ctx);
	return rc;
}

int64_t
hostapi_directory_synced_at(struct oprun_ctx *ctx, const char *tenant,
    const char *kind)
{
	struct store_dir_info info;
	char err[512];

	if (need_store(ctx, "directory_synced_at") != 0)
		return -1;
	if (known_kind(kind) == NULL)
		return bad_kind(ctx, "directory_synced_at", kind);
	if (tenant == NULL)
		return fail(ctx, "directory_synced_at: no tenant");
	if (store_dir_info(ctx->st, tenant, kind, &info, err, sizeof(err)) != 0)
		return fail(ctx, "directory_synced_at: %s", err);
	ok(ctx);
	return info.synced_at;
}

/* ---- sealed values ----------------------------------------------- */

static int
need_key(struct oprun_ctx *ctx, const char *what)
{
	char err[512];

	if (ctx->seal != NULL)
		return 0;
	if (ctx->cfg == NULL || ctx->cfg->secrets_key_file == NULL)
		return fail(ctx,
		    "%s: no key: set [store] secrets_key_file in "
		    "%s to a key made by `oprun keygen FILE`",
		    what, ctx->cfg != NULL ? ctx->cfg->file : "the config");
	ctx->seal = calloc(1, sizeof(*ctx->seal));
	if (ctx->seal == NULL)
		return fail(ctx, "%s: out of memory", what);
	if (seal_key_load(ctx->seal, ctx->cfg->secrets_key_file,
		"[store] secrets_key_file", err, sizeof(err)) != 0) {
		free(ctx->seal);
		ctx->seal = NULL;
		return fail(ctx, "%s: %s", what, err);
	}
	return 0;
}

int
hostapi_seal(struct oprun_ctx *ctx, const char *plaintext, const char **sealed)
{
	char err[512];

	*sealed = NULL;
	if (plaintext == NULL)
		return fail(ctx, "seal: no value");
	if (need_key(ctx, "seal") != 0)
		return -1;
	free(ctx->sealed_out);
	ctx->sealed_out = NULL;
	if (seal_value(ctx->seal, plaintext, strlen(plaintext),
		&ctx->sealed_out, err, sizeof(err)) != 0)
		return fail(ctx, "%s", err);
	*sealed = ctx->sealed_out;
	return ok(ctx);
}

static void
wipe_plain(struct oprun_ctx *ctx)
{
	seal_free_plain(ctx->plain_out, ctx->plain_len);
	ctx->plain_out = NULL;
	ctx->plain_len = 0;
}

int
hostapi_unseal(struct oprun_ctx *ctx, const char *sealed,
    const char **plaintext)
{
	char err[512];

	*plaintext = NULL;
	if (need_run(ctx, "unseal") != 0 || need_key(ctx, "unseal") != 0)
		return -1;
	wipe_plain(ctx);
	if (sealed == NULL ||
	    seal_open(ctx->seal, sealed, &ctx->plain_out, &ctx->plain_len, err,
		sizeof(err)) != 0)
		return fail(ctx, "%s",
		    sealed == NULL ? "unseal: no value" : err);
	*plaintext = ctx->plain_out;
	return ok(ctx);
}

void
hostapi_store_done(struct oprun_ctx *ctx)
{
	store_writes_clear(&ctx->writes);
	free(ctx->doc_out);
	free(ctx->dir_name_out);
	free(ctx->dir_json_out);
	free(ctx->sealed_out);
	ctx->doc_out = ctx->dir_name_out = ctx->dir_json_out = NULL;
	ctx->sealed_out = NULL;
	wipe_plain(ctx);
	if (ctx->seal != NULL) {
		seal_key_wipe(ctx->seal);
		free(ctx->seal);
		ctx->seal = NULL;
	}
}
