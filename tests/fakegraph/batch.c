/*
 * batch - POST /{v1.0|beta}/$batch (S9).  The payload is checked whole
 * first (at most 20 requests, unique ids, a Content-Type for every body,
 * dependsOn naming other requests), then each item goes through
 * serve_request like a direct request - faults, auth from the outer
 * Authorization header, paging, throttling and the request log - with
 * the batch's version prefixed to its URL.  Items run in order, an item
 * after the items it depends on; a failed dependency gives 424.  The
 * answer is 200 with the items in a shuffled but deterministic order, so
 * clients cannot rely on order while tests stay reproducible.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX	20

struct item {
	const char *id;
	const cJSON *src;
	int status;
	bool done;
	cJSON *out;
};

static int
bad(const struct req *rq, struct resp *rs, const char *msg)
{
	err_graph(rs, rq, 400, "BadRequest", msg);
	return -1;
}

static int
check_headers(const struct req *rq, struct resp *rs, const cJSON *r)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "headers"), *e;
	bool ctype = false;

	if (h != NULL && !cJSON_IsObject(h))
		return bad(rq, rs, "A batch request's \"headers\" must be an "
		    "object.");
	cJSON_ArrayForEach(e, h) {
		if (!cJSON_IsString(e))
			return bad(rq, rs, "Batch request header values must "
			    "be strings.");
		if (str_ieq(e->string, "Content-Type"))
			ctype = true;
	}
	if (cJSON_GetObjectItemCaseSensitive(r, "body") != NULL && !ctype)
		return bad(rq, rs, "A batch request with a body must have a "
		    "Content-Type header.");
	return 0;
}

static int
check_item(const struct req *rq, struct resp *rs, const cJSON *r,
    const struct item *items, size_t i)
{
	const char *id = data_str(r, "id"), *url = data_str(r, "url");
	char msg[200];
	size_t j;

	if (!cJSON_IsObject(r) || id == NULL || id[0] == '\0' ||
	    data_str(r, "method") == NULL || url == NULL)
		return bad(rq, rs, "Every batch request needs string \"id\", "
		    "\"method\" and \"url\" properties.");
	if (strstr(url, "://") != NULL)
		return bad(rq, rs, "Batch request URLs must be relative, "
		    "such as /groups.");
	for (j = 0; j < i; j++) {
		if (strcmp(items[j].id, id) == 0) {
			snprintf(msg, sizeof(msg), "Request Id '%.40s' is "
			    "duplicated in the batch.", id);
			return bad(rq, rs, msg);
		}
	}
	return check_headers(rq, rs, r);
}

static const struct item *
item_by_id(const struct item *items, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (id != NULL && strcmp(items[i].id, id) == 0)
			return &items[i];
	return NULL;
}

static int
check_depends(const struct req *rq, struct resp *rs,
    const struct item *items, size_t n)
{
	const cJSON *deps, *d;
	size_t i;

	for (i = 0; i < n; i++) {
		deps = cJSON_GetObjectItemCaseSensitive(items[i].src,
		    "dependsOn");
		if (deps != NULL && !cJSON_IsArray(deps))
			return bad(rq, rs, "\"dependsOn\" must be an array of "
			    "request ids.");
		cJSON_ArrayForEach(d, deps) {
			if (!cJSON_IsString(d) || item_by_id(items, n,
			    d->valuestring) == NULL ||
			    strcmp(d->valuestring, items[i].id) == 0)
				return bad(rq, rs, "\"dependsOn\" must name "
				    "other requests of the same batch.");
		}
	}
	return 0;
}

/* Builds items from the payload.  Returns the count, or -1 with rs. */
static int
parse_items(const struct req *rq, struct resp *rs, const cJSON *doc,
    struct item *items)
{
	const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(doc, "requests");
	const cJSON *r;
	size_t n = 0;
	char msg[160];

	if (!cJSON_IsArray(reqs))
		return bad(rq, rs, "Invalid batch payload format: expected "
		    "{\"requests\":[...]}.");
	if (cJSON_GetArraySize(reqs) == 0)
		return bad(rq, rs, "A batch must contain at least one "
		    "request.");
	if (cJSON_GetArraySize(reqs) > BATCH_MAX) {
		snprintf(msg, sizeof(msg), "The batch has %d requests; the "
		    "limit is %d.", cJSON_GetArraySize(reqs), BATCH_MAX);
		return bad(rq, rs, msg);
	}
	cJSON_ArrayForEach(r, reqs) {
		if (check_item(rq, rs, r, items, n) != 0)
			return -1;
		items[n].id = data_str(r, "id");
		items[n].src = r;
		n++;
	}
	return check_depends(rq, rs, items, n) != 0 ? -1 : (int)n;
}

/* ---- running items --------------------------------------------------- */

static cJSON *
item_response(const char *id, const struct resp *rs)
{
	const char *ct = kv_get(&rs->headers, "Content-Type");
	cJSON *o = cJSON_CreateObject(), *h, *body = NULL;
	size_t i;

	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddNumberToObject(o, "status", rs->status);
	h = cJSON_AddObjectToObject(o, "headers");
	for (i = 0; i < rs->headers.n; i++)
		cJSON_AddStringToObject(h, rs->headers.v[i].name,
		    rs->headers.v[i].value);
	if (rs->body_len > 0 && ct != NULL && str_iprefix(ct,
	    "application/json"))
		body = cJSON_ParseWithLength(rs->body, rs->body_len);
	if (body == NULL && rs->body_len > 0)
		body = cJSON_CreateString(rs->body);
	if (body != NULL)
		cJSON_AddItemToObject(o, "body", body);
	return o;
}

static cJSON *
failed_dependency(const char *id, const char *dep)
{
	struct req rq;
	struct resp rs = {0};
	char msg[160];
	cJSON *o;

	/* A throwaway request only to give the error its ids. */
	memset(&rq, 0, sizeof(rq));
	guid_new(rq.request_id);
	snprintf(rq.client_request_id, sizeof(rq.client_request_id), "%s",
	    rq.request_id);
	snprintf(msg, sizeof(msg), "Request '%.40s' depends on request "
	    "'%.40s', which failed.", id, dep);
	err_graph(&rs, &rq, 424, "FailedDependency", msg);
	o = item_response(id, &rs);
	resp_free(&rs);
	return o;
}

static void
item_request(struct server *s, const struct req *outer, const struct item *it,
    const char *ver, struct req *rq)
{
	const char *url = data_str(it->src, "url"), *auth;
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(it->src, "body");
	const cJSON *h;
	struct buf uri = {0};
	char *text;

	buf_addf(&uri, "/%s%s%s", ver, url[0] == '/' ? "" : "/", url);
	req_init(rq, s, data_str(it->src, "method"), uri.p);
	free(uri.p);
	rq->time_ms = outer->time_ms;
	rq->batch_id = it->id;
	/* Items authenticate with the batch's own token. */
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(it->src,
	    "headers")) {
		if (!str_ieq(h->string, "Authorization"))
			kv_add(&rq->headers, h->string, h->valuestring);
	}
	if ((auth = req_header(outer, "Authorization")) != NULL)
		kv_add(&rq->headers, "Authorization", auth);
	req_ids(rq);
	if (body == NULL)
		return;
	if (cJSON_IsString(body)) {
		rq->body = xstrdup(body->valuestring);
	} else {
		text = cJSON_PrintUnformatted(body);
		rq->body = xstrdup(text);
		cJSON_free(text);
	}
	rq->body_len = strlen(rq->body);
}

static void
run_item(struct server *s, const struct req *outer, struct item *it,
    const char *ver)
{
	struct req rq;
	struct resp rs = {0};

	item_request(s, outer, it, ver, &rq);
	serve_request(s, &rq, &rs);
	it->status = rs.status;
	it->out = item_response(it->id, &rs);
	req_free(&rq);
	resp_free(&rs);
}

/* 1 if every dependency ran fine, 0 if one is pending, -1 if one failed
 * (its id in *failed). */
static int
deps_state(const struct item *items, size_t n, const struct item *it,
    const char **failed)
{
	const cJSON *d;
	const struct item *dep;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(it->src,
	    "dependsOn")) {
		dep = item_by_id(items, n, d->valuestring);
		if (!dep->done)
			return 0;
		if (dep->status < 200 || dep->status > 299) {
			*failed = dep->id;
			return -1;
		}
	}
	return 1;
}

static void
run_all(struct server *s, const struct req *outer, struct item *items,
    size_t n, const char *ver)
{
	const char *failed = NULL;
	bool progress = true;
	size_t i;
	int st;

	while (progress) {
		progress = false;
		for (i = 0; i < n; i++) {
			if (items[i].done ||
			    (st = deps_state(items, n, &items[i], &failed)) == 0)
				continue;
			if (st > 0)
				run_item(s, outer, &items[i], ver);
			else {
				items[i].status = 424;
				items[i].out = failed_dependency(
				    items[i].id, failed);
			}
			items[i].done = progress = true;
		}
	}
	/* What is left waits on a cycle: it can never run. */
	for (i = 0; i < n; i++) {
		if (!items[i].done) {
			items[i].status = 424;
			items[i].out = failed_dependency(items[i].id,
			    "(a dependency cycle)");
		}
	}
}

/* xorshift64*: small, and the same sequence on every platform. */
static uint64_t
next_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ULL;
}

/* Seeded by the fixture's batch_seed and the item ids, so the same batch
 * always comes back in the same order. */
static void
shuffle(const struct server *s, struct item *items, size_t n)
{
	uint64_t state = s->batch_seed ^ 0x9e3779b97f4a7c15ULL;
	struct item tmp;
	const char *p;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (p = items[i].id; *p != '\0'; p++)
			state = (state ^ (unsigned char)*p) * 1099511628211ULL;
	if (state == 0)
		state = 1;
	for (i = n; i > 1; i--) {
		j = (size_t)(next_rand(&state) % i);
		tmp = items[i - 1];
		items[i - 1] = items[j];
		items[j] = tmp;
	}
}

void
batch_handle(struct server *s, struct req *rq, struct resp *rs,
    const char *ver)
{
	struct item items[BATCH_MAX];
	cJSON *doc = NULL, *out, *arr;
	int n;
	size_t i;

	memset(items, 0, sizeof(items));
	if (rq->batch_id != NULL || strcmp(rq->method, "POST") != 0) {
		bad(rq, rs, "$batch takes one POST and cannot be nested.");
		return;
	}
	doc = rq->body != NULL ? cJSON_ParseWithLength(rq->body,
	    rq->body_len) : NULL;
	if ((n = parse_items(rq, rs, doc, items)) < 0)
		goto out_free;
	run_all(s, rq, items, (size_t)n, ver);
	if (s->batch_shuffle)
		shuffle(s, items, (size_t)n);
	out = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(out, "responses");
	for (i = 0; i < (size_t)n; i++) {
		cJSON_AddItemToArray(arr, items[i].out);
		items[i].out = NULL;
	}
	resp_json(rs, 200, out);
out_free:
	cJSON_Delete(doc);
}
