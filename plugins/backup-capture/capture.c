/*
 * backup-capture - captures a tenant's Intune policies as a backup set:
 * the run is the backup (its id is the backup's id) and its documents
 * are the objects, one each, "<family>/<id>.json" (schema
 * oprun.backup.v1, see README "backup-capture").
 *
 * Payload {"families": [...], "ids": [...]}, both optional: the families
 * to capture (default all seven) and the object ids to limit them to.
 * Family by family, page by page, object by object: their
 * sub-collections and assignments come by $batch (every page; one queue
 * for the run, so batches go out full), secrets are sealed by the host,
 * group, filter and scope tag names come from the directory cache, and
 * each document is written as soon as its object is complete, so the
 * tenant is never held in memory (a page and the objects whose answers
 * are still due, a batch's worth).  One item per object; a family
 * whose list cannot be read to the end is a failed item of its own.
 */
#include <stdio.h>
#include <string.h>

#include "capture.h"

void
capture_failed(struct capture *cap, const char *item, const char *why)
{
	cap->failed++;
	cap->host->item_done(cap->ctx, item, OPRUN_ITEM_FAILED, why);
	if (cap->first_error[0] == '\0')
		snprintf(cap->first_error, sizeof(cap->first_error),
		    "%.200s: %.1200s", item, why);
}

/* The wanted objects of one page, polling for cancel between them. */
static void
capture_page(struct capture *cap, size_t fi, const cJSON *items)
{
	const cJSON *item;
	size_t wanted = 0;

	cJSON_ArrayForEach(item, items) {
		if (selection_wants(&cap->sel, intune_json_str(item, "id")))
			wanted++;
	}
	cap->total += wanted;
	cap->host->set_total(cap->ctx, cap->total);
	cJSON_ArrayForEach(item, items) {
		if (!cap->canceled && cap->host->cancel_requested(cap->ctx))
			cap->canceled = 1;
		if (cap->canceled)
			return;
		if (selection_wants(&cap->sel, intune_json_str(item, "id")))
			capture_object(cap, fi, item);
	}
}

/* Every object of family fi, page by page. */
static void
capture_family(struct capture *cap, size_t fi)
{
	const struct intune_family *fam = &intune_families[fi];
	struct family_count *c = &cap->count[fi];
	struct intune_pager pager;
	const cJSON *items;
	char url[256], err[INTUNE_ERR_MAX], why[2 * INTUNE_ERR_MAX];
	int rc = -1;

	intune_family_url(fam, fam->version, NULL, NULL, url, sizeof(url));
	if (intune_pager_init(&pager, cap->host, cap->ctx, url, NULL) != 0)
		snprintf(err, sizeof(err), "out of memory");
	else
		while (!cap->canceled &&
		    (rc = intune_pager_next(&pager, &items, err,
			 sizeof(err))) == 1)
			capture_page(cap, fi, items);
	intune_pager_free(&pager);
	/* A cancel ends the host's waits early: the list then fails. */
	if (rc < 0 && cap->host->cancel_requested(cap->ctx))
		cap->canceled = 1;
	if (cap->canceled)
		return;
	if (rc == 0) {
		c->listed = 1;
		return;
	}
	/* Never a silently short backup: the family fails as an item. */
	snprintf(why, sizeof(why),
	    "the list of %s was not completed, so the backup lacks some of "
	    "them: %s",
	    fam->name, err);
	cap->host->set_total(cap->ctx, ++cap->total);
	capture_failed(cap, fam->name, why);
	cap->host->log(cap->ctx, OPRUN_LOG_WARN, "%s", why);
}

/* One log line per family captured. */
static void
log_counts(struct capture *cap)
{
	size_t i;

	for (i = 0; i < INTUNE_FAMILY_COUNT && !cap->canceled; i++)
		if (cap->sel.family[i])
			cap->host->log(cap->ctx, OPRUN_LOG_INFO,
			    "%s: %llu captured, %llu failed%s",
			    intune_families[i].name,
			    (unsigned long long)cap->count[i].captured,
			    (unsigned long long)cap->count[i].failed,
			    cap->count[i].listed ? "" : ", list not completed");
}

/* {"groups": "RFC3339" | null, ...}, warning of kinds never synced. */
static cJSON *
synced_at(struct capture *cap, cJSON *warnings)
{
	cJSON *o = cJSON_CreateObject();
	char when[32], text[256];
	int64_t ms;
	size_t i;

	for (i = 0; i < INTUNE_DIR_KIND_COUNT; i++) {
		const char *kind = intune_dir_kinds[i].kind;

		ms = cap->host->directory_synced_at(cap->ctx, cap->run->tenant,
		    kind);
		if (ms > 0) {
			intune_rfc3339(ms, when, sizeof(when));
			cJSON_AddStringToObject(o, kind, when);
			continue;
		}
		cJSON_AddNullToObject(o, kind);
		snprintf(text, sizeof(text),
		    "the directory cache of %s %s: they are recorded by id "
		    "only (inCache false); run directory-sync first",
		    kind, ms == 0 ? "was never synced" : "could not be read");
		cJSON_AddItemToArray(warnings, cJSON_CreateString(text));
		cap->host->log(cap->ctx, OPRUN_LOG_WARN, "%s", text);
	}
	return o;
}

/* The run's result: counts per family, documents, cache times. */
static void
set_result(struct capture *cap, cJSON *synced, cJSON *warnings)
{
	cJSON *r = cJSON_CreateObject(), *fams, *f;
	char *text;
	size_t i;

	fams = cJSON_AddObjectToObject(r, "families");
	for (i = 0; i < INTUNE_FAMILY_COUNT; i++) {
		if (!cap->sel.family[i])
			continue;
		f = cJSON_AddObjectToObject(fams, intune_families[i].name);
		cJSON_AddNumberToObject(f, "captured",
		    (double)cap->count[i].captured);
		cJSON_AddNumberToObject(f, "failed",
		    (double)cap->count[i].failed);
		cJSON_AddBoolToObject(f, "complete", cap->count[i].listed);
	}
	cJSON_AddNumberToObject(r, "documents", (double)cap->documents);
	cJSON_AddItemToObject(r, "directory_synced_at", synced);
	if (cJSON_GetArraySize(warnings) > 0)
		cJSON_AddItemToObject(r, "warnings", warnings);
	else
		cJSON_Delete(warnings);
	if ((text = cJSON_PrintUnformatted(r)) == NULL ||
	    cap->host->set_result(cap->ctx, text) != 0)
		cap->host->log(cap->ctx, OPRUN_LOG_ERROR,
		    "could not set the result");
	cJSON_free(text);
	cJSON_Delete(r);
}

static enum oprun_outcome
capture_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	struct capture cap = { .host = host, .ctx = ctx, .run = run };
	char err[INTUNE_ERR_MAX], reason[INTUNE_ERR_MAX + 64];
	enum oprun_outcome outcome;
	cJSON *warnings, *synced;
	size_t i;

	if (intune_host_check(host,
		INTUNE_NEED_GRAPH | INTUNE_NEED_DOCS | INTUNE_NEED_DIR_READ,
		err, sizeof(err)) != 0 ||
	    selection_parse(run->payload, &cap.sel, err, sizeof(err)) != 0) {
		host->set_reason(ctx, err);
		return OPRUN_FAILED;
	}
	warnings = cJSON_CreateArray();
	synced = synced_at(&cap, warnings);
	for (i = 0; i < INTUNE_FAMILY_COUNT && !cap.canceled; i++)
		if (cap.sel.family[i])
			capture_family(&cap, i);
	/* The last objects' answers; a cancel drops what is left. */
	if (!cap.canceled)
		capture_flush(&cap);
	capture_drop(&cap);
	log_counts(&cap);
	set_result(&cap, synced, warnings);
	selection_free(&cap.sel);
	if (cap.canceled) {
		snprintf(reason, sizeof(reason),
		    "canceled after %llu documents; the backup is incomplete",
		    (unsigned long long)cap.documents);
		host->set_reason(ctx, reason);
		return OPRUN_CANCELED;
	}
	outcome = intune_outcome(cap.ok, cap.failed);
	if (outcome == OPRUN_FAILED) {
		snprintf(reason, sizeof(reason),
		    "nothing could be captured: %s", cap.first_error);
		host->set_reason(ctx, reason);
	}
	return outcome;
}

static int
capture_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *payload, char *err, size_t errlen)
{
	struct selection sel;

	(void)host;
	(void)ctx;
	if (selection_parse(payload, &sel, err, errlen) != 0)
		return -1;
	selection_free(&sel);
	return 0;
}

INTUNE_OPERATION(capture_op, "backup-capture",
    "capture the tenant's Intune policies, with assignments, as a backup",
    OPRUN_OP_IDEMPOTENT | OPRUN_OP_CANCELLABLE, capture_validate, capture_run);

INTUNE_PLUGIN("backup-capture", "1.0.0",
    "Intune backup: policies, assignments, scripts, filters, scope tags",
    &capture_op)
