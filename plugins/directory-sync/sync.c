/*
 * directory-sync - reads the run's tenant's groups, assignment filters
 * and scope tags into the host's directory cache (DESIGN.md 11).
 *
 * Operation "directory-sync", payload {} (no options).  One item per
 * kind ("groups", "assignmentFilters", "roleScopeTags"): each is read
 * page by page (every @odata.nextLink) into a new snapshot, which
 * replaces the cached one only once the whole list came
 * (directory_commit).  A kind whose list fails is an item failure with
 * Graph's message and request-id, is not committed (readers keep the
 * previous snapshot, whole), and the other kinds go on: the run is then
 * partial.  Result:
 *   {"groups":{"count":245,"committed":true},
 *    "assignmentFilters":{...},"roleScopeTags":{...},
 *    "synced_at":"2026-11-30T07:39:32.952Z"}
 * with "error" beside "committed":false for a kind that failed.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

#include "../intune/intune.h"

#define SYNC_CANCELED 1

/* Puts every object of one page into the snapshot of kind. */
static int
put_page(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct intune_dir_kind *k, const cJSON *items, int page,
    uint64_t *count, char *err, size_t errlen)
{
	const cJSON *item;
	const char *id, *name;
	char *json;
	int rc;

	cJSON_ArrayForEach(item, items) {
		id = intune_json_str(item, "id");
		name = intune_json_str(item, k->name_prop);
		if (id == NULL)
			return intune_errf(err, errlen,
			    "page %d: an object without an id; the list was "
			    "not used",
			    page);
		if ((json = cJSON_PrintUnformatted(item)) == NULL)
			return intune_errf(err, errlen, "out of memory");
		rc = host->directory_put(ctx, k->kind, id,
		    name != NULL ? name : "", json);
		cJSON_free(json);
		if (rc != 0)
			return intune_errf(err, errlen, "directory_put %s: %s",
			    id, intune_last_error(host, ctx));
		(*count)++;
	}
	return 0;
}

/* Reads kind k whole into a new snapshot and commits it.  Returns 0,
 * SYNC_CANCELED, or -1 with err; *count says how many objects came. */
static int
sync_kind(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct intune_dir_kind *k, uint64_t *count, char *err, size_t errlen)
{
	struct intune_pager pager;
	const cJSON *items;
	int rc;

	*count = 0;
	if (host->directory_begin(ctx, k->kind) != 0)
		return intune_errf(err, errlen, "directory_begin: %s",
		    intune_last_error(host, ctx));
	if (intune_pager_init(&pager, host, ctx, k->path, NULL) != 0)
		return intune_errf(err, errlen, "out of memory");
	while ((rc = intune_pager_next(&pager, &items, err, errlen)) == 1) {
		if (put_page(host, ctx, k, items, pager.pages, count, err,
			errlen) != 0) {
			rc = -1;
			break;
		}
		if (host->cancel_requested(ctx)) {
			rc = SYNC_CANCELED;
			break;
		}
	}
	intune_pager_free(&pager);
	/* A cancel ends the host's waits early: the list then fails. */
	if (rc < 0 && host->cancel_requested(ctx))
		rc = SYNC_CANCELED;
	if (rc == 0 && host->directory_commit(ctx, k->kind) != 0)
		rc = intune_errf(err, errlen, "directory_commit: %s",
		    intune_last_error(host, ctx));
	return rc;
}

/* Adds {"count":N,"committed":B[,"error":E]} as result[kind]. */
static void
add_kind_result(cJSON *result, const char *kind, uint64_t count, int committed,
    const char *error)
{
	cJSON *o = cJSON_AddObjectToObject(result, kind);

	cJSON_AddNumberToObject(o, "count", (double)count);
	cJSON_AddBoolToObject(o, "committed", committed);
	if (!committed && error != NULL && error[0] != '\0')
		cJSON_AddStringToObject(o, "error", error);
}

static void
set_result(const struct oprun_host *host, struct oprun_ctx *ctx, cJSON *result)
{
	char now[32], *text;

	intune_rfc3339(intune_now_ms(), now, sizeof(now));
	cJSON_AddStringToObject(result, "synced_at", now);
	if ((text = cJSON_PrintUnformatted(result)) == NULL ||
	    host->set_result(ctx, text) != 0)
		host->log(ctx, OPRUN_LOG_ERROR, "could not set the result");
	cJSON_free(text);
}

static enum oprun_outcome
sync_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	cJSON *result = cJSON_CreateObject();
	char err[INTUNE_ERR_MAX], first[INTUNE_ERR_MAX + 32] = "";
	uint64_t ok = 0, failed = 0, count;
	enum oprun_outcome outcome = OPRUN_CANCELED;
	size_t i;
	int rc = 0;

	(void)run;
	if (intune_host_check(host, INTUNE_NEED_GRAPH | INTUNE_NEED_DIR_WRITE,
		err, sizeof(err)) != 0 ||
	    result == NULL) {
		host->set_reason(ctx, result != NULL ? err : "out of memory");
		cJSON_Delete(result);
		return OPRUN_FAILED;
	}
	host->set_total(ctx, INTUNE_DIR_KIND_COUNT);
	for (i = 0; i < INTUNE_DIR_KIND_COUNT; i++) {
		const struct intune_dir_kind *k = &intune_dir_kinds[i];

		err[0] = '\0';
		if ((rc = sync_kind(host, ctx, k, &count, err, sizeof(err))) ==
		    SYNC_CANCELED) {
			host->set_reason(ctx,
			    "canceled: the kind being read keeps its previous "
			    "snapshot");
			break;
		}
		add_kind_result(result, k->kind, count, rc == 0, err);
		host->item_done(ctx, k->kind,
		    rc == 0 ? OPRUN_ITEM_SUCCEEDED : OPRUN_ITEM_FAILED,
		    rc == 0 ? NULL : err);
		if (rc == 0) {
			ok++;
			host->log(ctx, OPRUN_LOG_INFO,
			    "%s: %llu objects committed", k->kind,
			    (unsigned long long)count);
			continue;
		}
		failed++;
		host->log(ctx, OPRUN_LOG_WARN,
		    "%s not committed, the previous snapshot stays: %s",
		    k->kind, err);
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s: %s", k->kind, err);
	}
	if (rc != SYNC_CANCELED) {
		outcome = intune_outcome(ok, failed);
		if (outcome == OPRUN_FAILED)
			host->set_reason(ctx, first);
	}
	set_result(host, ctx, result);
	cJSON_Delete(result);
	return outcome;
}

static int
sync_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *payload, char *err, size_t errlen)
{
	cJSON *p = intune_json_object(payload);
	int rc = 0;

	(void)host;
	(void)ctx;
	if (p == NULL)
		rc = intune_errf(err, errlen, "payload: must be a JSON object");
	else if (p->child != NULL)
		rc = intune_errf(err, errlen,
		    "payload.%s: unknown field (directory-sync takes no "
		    "options: give {})",
		    p->child->string);
	cJSON_Delete(p);
	return rc;
}

INTUNE_OPERATION(sync_op, "directory-sync",
    "read the tenant's groups, assignment filters and scope tags into the "
    "directory cache",
    OPRUN_OP_IDEMPOTENT | OPRUN_OP_DIRECTORY_WRITER | OPRUN_OP_CANCELLABLE,
    sync_validate, sync_run);

INTUNE_PLUGIN("directory-sync", "1.0.0",
    "Intune directory cache: groups, assignment filters, scope tags", &sync_op)
