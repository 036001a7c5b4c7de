/*
 * The capture of one object: its sub-collections and assignments by
 * $batch (every page), its encrypted values sealed, the group, filter
 * and scope tag names from the directory cache, and its document.  The
 * objects of a run share one queue of $batch requests, so batches go
 * out full whatever the family or page; an object is finished (its
 * document written, its item reported) when its last answer came, and
 * freed then.  See capture.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

#define URL_MAX 1024

/* A list queued for an object: where its items go, and the URL its
 * items' own sub-collections hang under.  Owned by the object. */
struct sub_req {
	struct object *o;
	const struct intune_sub *sub;
	cJSON *dest;
	struct intune_batch *b;
	char url[URL_MAX];
	struct sub_req *next;
};

/* One object being captured, on its run's list of objects in flight. */
struct object {
	struct capture *cap;
	const struct intune_family *fam;
	char id[160];
	cJSON *obj;	    /* as Graph returned it, sub-collections inlined */
	cJSON *assignments; /* as Graph returned them */
	int pending;	    /* requests queued whose answer did not come */
	int failed;
	char err[INTUNE_ERR_MAX];
	struct sub_req *reqs;
	struct object *prev, *next;
};

static const struct intune_sub assignments_sub = { "assignments", NULL, NULL };

/* Marks o failed with the first reason given. */
static void fail(struct object *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct object *o, const char *fmt, ...)
{
	va_list ap;

	if (o->failed)
		return;
	o->failed = 1;
	va_start(ap, fmt);
	vsnprintf(o->err, sizeof(o->err), fmt, ap);
	va_end(ap);
}

static void queue_list(struct object *o, struct intune_batch *b,
    const struct intune_sub *sub, const char *url, cJSON *dest);
static void settle(struct object *o);

/* a + sep + b into out; -1 if it does not fit. */
static int
join(char *out, size_t len, const char *a, const char *sep, const char *b)
{
	size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);

	if (na + ns + nb >= len)
		return -1;
	memcpy(out, a, na);
	memcpy(out + na, sep, ns);
	memcpy(out + na + ns, b, nb + 1);
	return 0;
}

/* The sub-collections of each item of a list just read. */
static void
queue_each(struct sub_req *r)
{
	char item_url[URL_MAX], url[URL_MAX];
	cJSON *item, *arr;
	const char *id;

	cJSON_ArrayForEach(item, r->dest) {
		id = intune_json_str(item, "id");
		if (id == NULL || !intune_safe_id(id) ||
		    join(item_url, sizeof(item_url), r->url, "/", id) != 0 ||
		    join(url, sizeof(url), item_url, "/", r->sub->each->name) !=
			0) {
			fail(r->o, "%s: an item without a usable id",
			    r->sub->name);
			return;
		}
		if (intune_json_set(item, r->sub->each->name,
			arr = cJSON_CreateArray()) != 0) {
			fail(r->o, "out of memory");
			return;
		}
		queue_list(r->o, r->b, r->sub->each, url, arr);
	}
}

static void
list_done(void *arg, const char *error)
{
	struct sub_req *r = arg;

	if (error[0] != '\0')
		fail(r->o, "%s", error);
	else if (r->sub->each != NULL && !r->o->failed)
		queue_each(r);
	settle(r->o);
}

/* Queues every page of url (+ the sub's query) into dest. */
static void
queue_list(struct object *o, struct intune_batch *b,
    const struct intune_sub *sub, const char *url, cJSON *dest)
{
	struct sub_req *r = calloc(1, sizeof(*r));
	char full[URL_MAX];

	if (r == NULL || join(r->url, sizeof(r->url), url, "", "") != 0 ||
	    join(full, sizeof(full), url, sub->query != NULL ? "?" : "",
		sub->query != NULL ? sub->query : "") != 0) {
		free(r);
		fail(o, "%s: URL too long or out of memory", sub->name);
		return;
	}
	r->o = o;
	r->sub = sub;
	r->dest = dest;
	r->b = b;
	r->next = o->reqs;
	o->reqs = r;
	if (intune_batch_list(b, full, dest, INTUNE_LIST_MAX, list_done, r) !=
	    0)
		fail(o, "%s: could not queue its request", sub->name);
	else
		o->pending++;
}

/* The answer of the per-item GET: its members replace the list's. */
static void
got_each(void *arg, const struct intune_answer *a)
{
	struct object *o = arg;
	const cJSON *m;

	if (a->error[0] != '\0')
		fail(o, "%s", a->error);
	else if (!cJSON_IsObject(a->body))
		fail(o,
		    "GET %s answered HTTP %ld without a JSON object "
		    "(request-id %s)",
		    o->id, a->status,
		    a->request_id[0] ? a->request_id : "none");
	for (m = o->failed ? NULL : a->body->child; m != NULL; m = m->next) {
		if (strcmp(m->string, "@odata.context") != 0 &&
		    intune_json_set(o->obj, m->string, cJSON_Duplicate(m, 1)) !=
			0) {
			fail(o, "out of memory");
			break;
		}
	}
	settle(o);
}

/* Queues what the object needs beyond its list entry. */
static void
queue_object(struct object *o, struct intune_batch *b)
{
	const struct intune_sub *sub;
	/* An id is at most 128 bytes: the URLs below always fit. */
	char base[URL_MAX / 2], url[URL_MAX];
	cJSON *arr;

	if (intune_family_url(o->fam, NULL, o->id, NULL, base, sizeof(base)) !=
	    0) {
		fail(o, "object id too long");
		return;
	}
	if (o->fam->flags & INTUNE_F_ASSIGNMENTS) {
		join(url, sizeof(url), base, "/", assignments_sub.name);
		queue_list(o, b, &assignments_sub, url, o->assignments);
	}
	for (sub = o->fam->subs; sub != NULL && sub->name != NULL; sub++) {
		if (intune_json_set(o->obj, sub->name,
			arr = cJSON_CreateArray()) != 0) {
			fail(o, "out of memory");
			return;
		}
		join(url, sizeof(url), base, "/", sub->name);
		queue_list(o, b, sub, url, arr);
	}
	if (o->fam->flags & INTUNE_F_GET_EACH) {
		if (intune_batch_get(b, base, got_each, o) != 0)
			fail(o, "could not queue its request");
		else
			o->pending++;
	}
}

/* {"id", "displayName", "inCache"} of id in the directory cache's kind,
 * or NULL (o failed) when the cache cannot be read. */
static cJSON *
cached(struct object *o, const char *kind, const char *id)
{
	const struct oprun_host *host = o->cap->host;
	const char *name = NULL, *json = NULL;
	int rc = host->directory_get(o->cap->ctx, o->cap->run->tenant, kind, id,
	    &name, &json);
	cJSON *ref;

	if (rc < 0) {
		fail(o, "directory cache, %s %s: %s", kind, id,
		    intune_last_error(host, o->cap->ctx));
		return NULL;
	}
	ref = cJSON_CreateObject();
	if (cJSON_AddStringToObject(ref, "id", id) == NULL ||
	    (rc == 0 && name != NULL ?
		    cJSON_AddStringToObject(ref, "displayName", name) :
		    cJSON_AddNullToObject(ref, "displayName")) == NULL ||
	    cJSON_AddBoolToObject(ref, "inCache", rc == 0) == NULL) {
		cJSON_Delete(ref);
		fail(o, "out of memory");
		return NULL;
	}
	return ref;
}

/* A target that names a group: group and exclusion group targets. */
static int
group_target(const char *type)
{
	static const char *const suffix[] = { ".groupAssignmentTarget",
		".exclusionGroupAssignmentTarget" };
	size_t i, n = type != NULL ? strlen(type) : 0, k;

	for (i = 0; i < 2; i++) {
		k = strlen(suffix[i]);
		if (n >= k && strcmp(type + n - k, suffix[i]) == 0)
			return 1;
	}
	return 0;
}

/* The assignment as Graph returned it, plus "group" and "filter" with
 * their names from the cache (a real filter only: the zero id is none). */
static cJSON *
annotated(struct object *o, const cJSON *a)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "target");
	const char *gid = intune_json_str(t, "groupId");
	const char *fid = intune_json_str(t,
	    "deviceAndAppManagementAssignmentFilterId");
	const char *ftype = intune_json_str(t,
	    "deviceAndAppManagementAssignmentFilterType");
	cJSON *out = cJSON_Duplicate(a, 1), *ref;

	if (gid != NULL && group_target(intune_json_str(t, "@odata.type")) &&
	    (ref = cached(o, "groups", gid)) != NULL)
		intune_json_set(out, "group", ref);
	if (fid != NULL && fid[0] != '\0' && strcmp(fid, INTUNE_NO_FILTER) &&
	    (ref = cached(o, "assignmentFilters", fid)) != NULL) {
		if ((ftype != NULL ?
			    cJSON_AddStringToObject(ref, "type", ftype) :
			    cJSON_AddNullToObject(ref, "type")) == NULL)
			fail(o, "out of memory");
		intune_json_set(out, "filter", ref);
	}
	return out;
}

static cJSON *
assignments(struct object *o)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *a;

	cJSON_ArrayForEach(a, o->assignments)
		cJSON_AddItemToArray(arr, annotated(o, a));
	return arr;
}

/* The object's scope tags, by id and cached name. */
static cJSON *
scope_tags(struct object *o)
{
	const cJSON *ids = o->fam->scope_prop != NULL ?
	    cJSON_GetObjectItemCaseSensitive(o->obj, o->fam->scope_prop) :
	    NULL;
	cJSON *arr = cJSON_CreateArray(), *ref;
	const cJSON *e;

	if (!cJSON_IsArray(ids))
		return arr;
	cJSON_ArrayForEach(e, ids) {
		if (cJSON_IsString(e) &&
		    (ref = cached(o, "roleScopeTags", e->valuestring)) != NULL)
			cJSON_AddItemToArray(arr, ref);
	}
	return arr;
}

/* The document of o (oprun.backup.v1) as text, or NULL (o failed).
 * Moves o->obj into it. */
static char *
document(struct object *o)
{
	const char *name = intune_object_name(o->fam, o->obj);
	cJSON *doc = cJSON_CreateObject(), *assigned = assignments(o);
	cJSON *tags = scope_tags(o);
	char now[32], *text = NULL;

	intune_rfc3339(intune_now_ms(), now, sizeof(now));
	cJSON_AddStringToObject(doc, "schema", "oprun.backup.v1");
	cJSON_AddStringToObject(doc, "family", o->fam->name);
	cJSON_AddStringToObject(doc, "id", o->id);
	if (name != NULL)
		cJSON_AddStringToObject(doc, "displayName", name);
	else
		cJSON_AddNullToObject(doc, "displayName");
	cJSON_AddStringToObject(doc, "capturedAt", now);
	/* Assignments live beside the object, never in it. */
	cJSON_DeleteItemFromObjectCaseSensitive(o->obj, "assignments");
	cJSON_AddItemToObject(doc, "object", o->obj);
	o->obj = NULL;
	cJSON_AddItemToObject(doc, "assignments", assigned);
	cJSON_AddItemToObject(doc, "scopeTags", tags);
	/* Nothing may go missing on the way, not even when memory runs
	 * out: every member and every assignment is there, or it fails. */
	if (cJSON_GetArraySize(doc) != 8 ||
	    cJSON_GetArraySize(assigned) != cJSON_GetArraySize(o->assignments))
		fail(o, "out of memory building its document");
	if (!o->failed && (text = cJSON_PrintUnformatted(doc)) == NULL)
		fail(o, "out of memory printing its document");
	cJSON_Delete(doc);
	return text;
}

/* Seals, writes the document and reports the item. */
static void
finish(struct object *o)
{
	struct capture *cap = o->cap;
	struct family_count *c = &cap->count[o->fam - intune_families];
	char item[256], doc_name[sizeof(item) + 8], *text = NULL;

	snprintf(item, sizeof(item), "%s/%s", o->fam->name, o->id);
	snprintf(doc_name, sizeof(doc_name), "%s.json", item);
	if (!o->failed &&
	    intune_seal_secrets(cap->host, cap->ctx, o->fam, o->id, o->obj,
		o->err, sizeof(o->err)) < 0)
		o->failed = 1;
	if (!o->failed)
		text = document(o);
	if (text != NULL && cap->host->doc_put(cap->ctx, doc_name, text) != 0)
		fail(o, "storing %s: %s", doc_name,
		    intune_last_error(cap->host, cap->ctx));
	cJSON_free(text);
	if (o->failed) {
		c->failed++;
		capture_failed(cap, item, o->err);
		return;
	}
	c->captured++;
	cap->ok++;
	cap->documents++;
	cap->host->item_done(cap->ctx, item, OPRUN_ITEM_SUCCEEDED, NULL);
}

static void
object_free(struct object *o)
{
	struct sub_req *r, *next;

	for (r = o->reqs; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
	cJSON_Delete(o->obj);
	cJSON_Delete(o->assignments);
	free(o);
}

/* Takes o off its run's list and frees it. */
static void
retire(struct object *o)
{
	struct capture *cap = o->cap;

	if (o->prev != NULL)
		o->prev->next = o->next;
	else
		cap->inflight = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	cap->ninflight--;
	object_free(o);
}

/* One answer of o's came: with the last, o is finished (unless the run
 * is being canceled: cancel is polled between objects) and freed. */
static void
settle(struct object *o)
{
	struct capture *cap = o->cap;

	if (--o->pending > 0)
		return;
	if (!cap->canceled && cap->host->cancel_requested(cap->ctx))
		cap->canceled = 1;
	if (!cap->canceled)
		finish(o);
	retire(o);
}

static struct object *
object_new(struct capture *cap, const struct intune_family *fam,
    const cJSON *item)
{
	const char *id = intune_json_str(item, "id");
	struct object *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->cap = cap;
	o->fam = fam;
	snprintf(o->id, sizeof(o->id), "%s", id != NULL ? id : "(no id)");
	o->obj = cJSON_Duplicate(item, 1);
	o->assignments = cJSON_CreateArray();
	if (o->obj == NULL || o->assignments == NULL)
		fail(o, "out of memory");
	else if (id == NULL || !intune_safe_id(id))
		fail(o, "the object has no id that can name a document");
	o->next = cap->inflight;
	if (o->next != NULL)
		o->next->prev = o;
	cap->inflight = o;
	cap->ninflight++;
	return o;
}

/* The run's queue for version (one per version, made on first use). */
static struct intune_batch *
batch_for(struct capture *cap, const char *version)
{
	size_t i;

	for (i = 0; i < CAPTURE_VERSIONS && cap->batch[i] != NULL; i++)
		if (strcmp(cap->batch_version[i], version) == 0)
			return cap->batch[i];
	if (i == CAPTURE_VERSIONS)
		return NULL;
	cap->batch[i] = intune_batch_new(cap->host, cap->ctx, version);
	cap->batch_version[i] = version;
	return cap->batch[i];
}

void
capture_object(struct capture *cap, size_t fi, const cJSON *item)
{
	const struct intune_family *fam = &intune_families[fi];
	struct intune_batch *b = batch_for(cap, fam->version);
	struct object *o = object_new(cap, fam, item);
	char name[256];

	if (o == NULL) {
		snprintf(name, sizeof(name), "%s/%s", fam->name,
		    intune_json_str(item, "id") != NULL ?
			intune_json_str(item, "id") :
			"(no id)");
		cap->count[fi].failed++;
		capture_failed(cap, name, "out of memory");
		return;
	}
	if (b == NULL)
		fail(o, "out of memory");
	if (!o->failed)
		queue_object(o, b);
	/* The answers settle it; without requests it is done now. */
	o->pending++;
	settle(o);
	if (b != NULL)
		intune_batch_pump(b);
}

void
capture_flush(struct capture *cap)
{
	size_t i;

	for (i = 0; i < CAPTURE_VERSIONS && cap->batch[i] != NULL; i++)
		intune_batch_run(cap->batch[i]);
}

void
capture_drop(struct capture *cap)
{
	size_t i;

	for (i = 0; i < CAPTURE_VERSIONS && cap->batch[i] != NULL; i++) {
		intune_batch_free(cap->batch[i]);
		cap->batch[i] = NULL;
	}
	while (cap->inflight != NULL)
		retire(cap->inflight);
}
