/* $batch GETs with per-item answers; see batch.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "json.h"
#include "pager.h"

struct pending {
	char *url;
	intune_answer_fn fn; /* a single GET, or */
	intune_list_fn done; /* a list into dest */
	cJSON *dest;
	size_t max;
	void *arg;
};

struct intune_batch {
	const struct oprun_host *host;
	struct oprun_ctx *ctx;
	char version[8];
	struct pending *q;
	size_t head, len, cap;
};

struct intune_batch *
intune_batch_new(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *version)
{
	struct intune_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->host = host;
	b->ctx = ctx;
	snprintf(b->version, sizeof(b->version), "%s", version);
	return b;
}

void
intune_batch_free(struct intune_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = b->head; i < b->len; i++)
		free(b->q[i].url);
	free(b->q);
	free(b);
}

static int
enqueue(struct intune_batch *b, const struct pending *p)
{
	struct pending *q;
	size_t cap;

	if (b->len - b->head >= INTUNE_BATCH_QUEUE_MAX)
		return -1;
	if (b->head > 0 && b->len == b->cap) {
		memmove(b->q, b->q + b->head, (b->len - b->head) * sizeof(*q));
		b->len -= b->head;
		b->head = 0;
	}
	if (b->len == b->cap) {
		cap = b->cap ? b->cap * 2 : 64;
		if ((q = realloc(b->q, cap * sizeof(*q))) == NULL)
			return -1;
		b->q = q;
		b->cap = cap;
	}
	b->q[b->len] = *p;
	if ((b->q[b->len].url = strdup(p->url)) == NULL)
		return -1;
	b->len++;
	return 0;
}

int
intune_batch_get(struct intune_batch *b, const char *url, intune_answer_fn fn,
    void *arg)
{
	struct pending p = { (char *)url, fn, NULL, NULL, 0, arg };

	return enqueue(b, &p);
}

int
intune_batch_list(struct intune_batch *b, const char *url, cJSON *dest,
    size_t max_items, intune_list_fn done, void *arg)
{
	struct pending p = { (char *)url, NULL, done, dest, max_items, arg };

	return enqueue(b, &p);
}

/* The requests of one $batch as JSON text (the caller frees it). */
static char *
batch_text(const struct pending *p, size_t n)
{
	cJSON *reqs = cJSON_CreateArray(), *r;
	char id[24], *text;
	size_t i;

	for (i = 0; reqs != NULL && i < n; i++) {
		snprintf(id, sizeof(id), "%zu", i + 1);
		if ((r = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(reqs, r) ||
		    cJSON_AddStringToObject(r, "id", id) == NULL ||
		    cJSON_AddStringToObject(r, "method", "GET") == NULL ||
		    cJSON_AddStringToObject(r, "url", p[i].url) == NULL) {
			cJSON_Delete(reqs);
			return NULL;
		}
	}
	text = reqs != NULL ? cJSON_PrintUnformatted(reqs) : NULL;
	cJSON_Delete(reqs);
	return text;
}

/* The part of an absolute nextLink after "/VERSION" (what a $batch item
 * asks for), or NULL when the link is not under the batch's version. */
static const char *
relative_link(const struct intune_batch *b, const char *link)
{
	const char *p = strstr(link, "://");
	size_t n = strlen(b->version);

	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return NULL;
	if (strncmp(p + 1, b->version, n) != 0 || p[1 + n] != '/')
		return NULL;
	return p + 1 + n;
}

/* The next page of a list: queued as a $batch item when it can be one
 * (so it shares a batch with other requests), else read here with
 * graph_list, every page to the end.  Returns 0 when queued (p's done
 * comes with that page), 1 when read, -1 with err. */
static int
follow(struct intune_batch *b, const struct pending *p, const char *next,
    char *err, size_t errlen)
{
	const char *rel = relative_link(b, next);
	struct pending more = *p;
	size_t have = (size_t)cJSON_GetArraySize(p->dest);

	more.url = (char *)rel;
	if (rel != NULL && enqueue(b, &more) == 0)
		return 0;
	if (intune_list_all(b->host, b->ctx, next, NULL, p->dest,
		p->max > have ? p->max - have : 0, err, errlen) != 0)
		return -1;
	return 1;
}

/* A page of a list came: keeps its items and follows its nextLink, or
 * says why the list cannot be completed. */
static void
list_answer(struct intune_batch *b, const struct pending *p,
    const struct intune_answer *a)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->body, "value");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(a->body,
	    "@odata.nextLink");
	char err[INTUNE_ERR_MAX] = "", what[96] = "";
	size_t have = (size_t)cJSON_GetArraySize(p->dest);
	const cJSON *item;

	if (a->error[0] != '\0') {
		p->done(p->arg, a->error);
		return;
	}
	/* A malformed page is a failure, never the end of the list. */
	if (!cJSON_IsArray(v))
		snprintf(what, sizeof(what), "without a \"value\" array");
	else if (next != NULL && !cJSON_IsString(next))
		snprintf(what, sizeof(what),
		    "with an @odata.nextLink that is not a string");
	for (item = what[0] == '\0' ? v->child : NULL; item != NULL;
	     item = item->next) {
		if (have++ >= p->max ||
		    !cJSON_AddItemToArray(p->dest, cJSON_Duplicate(item, 1))) {
			snprintf(what, sizeof(what),
			    "with more than %zu items, or memory ran out",
			    p->max);
			break;
		}
	}
	if (what[0] != '\0')
		snprintf(err, sizeof(err),
		    "GET /%s%s: answered HTTP %ld %s (request-id %s); the list "
		    "was not completed",
		    b->version, p->url, a->status, what,
		    a->request_id[0] ? a->request_id : "none");
	else if (next != NULL &&
	    follow(b, p, next->valuestring, err, sizeof(err)) == 0)
		return;
	p->done(p->arg, err);
}

/* Calls p's callback with the answer (status, body, request-id) or
 * with the reason there is none (why). */
static void
deliver(struct intune_batch *b, const struct pending *p, const cJSON *item,
    const char *why)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(item, "status");
	const cJSON *raw = cJSON_GetObjectItemCaseSensitive(item, "body");
	const char *herr = intune_json_str(item, "error");
	const char *rid = intune_json_header(
	    cJSON_GetObjectItemCaseSensitive(item, "headers"), "request-id");
	struct intune_answer a = { 0, NULL, rid != NULL ? rid : "", "" };
	char line[2 * INTUNE_ERR_MAX], text[INTUNE_ERR_MAX];
	cJSON *parsed = NULL;

	a.status = cJSON_IsNumber(st) ? (long)st->valuedouble : 0;
	if (cJSON_IsString(raw))
		a.body = parsed = intune_json_object(raw->valuestring);
	else if (cJSON_IsObject(raw))
		a.body = raw;
	if (why == NULL && herr == NULL && (a.status < 200 || a.status > 299))
		intune_graph_error(a.status, a.body, a.request_id, text,
		    sizeof(text));
	if (why != NULL || herr != NULL || a.status < 200 || a.status > 299) {
		snprintf(line, sizeof(line), "GET /%s%s: %.*s", b->version,
		    p->url, INTUNE_ERR_MAX,
		    why != NULL	     ? why :
			herr != NULL ? herr :
				       text);
		a.error = line;
	}
	if (p->fn != NULL)
		p->fn(p->arg, &a);
	else
		list_answer(b, p, &a);
	cJSON_Delete(parsed);
}

/* The answer of request number i (id "i+1") in the host's array. */
static const cJSON *
answer_of(const cJSON *answers, size_t i)
{
	const cJSON *item;
	char id[24];

	snprintf(id, sizeof(id), "%zu", i + 1);
	cJSON_ArrayForEach(item, answers) {
		const char *got = intune_json_str(item, "id");

		if (got != NULL && strcmp(got, id) == 0)
			return item;
	}
	return NULL;
}

/* Sends the n requests of p in one $batch and delivers every answer. */
static void
send_one(struct intune_batch *b, const struct pending *p, size_t n)
{
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	char *text = batch_text(p, n), why[INTUNE_ERR_MAX];
	cJSON *answers = NULL;
	const cJSON *item;
	size_t i;

	if (text == NULL)
		snprintf(why, sizeof(why), "out of memory building a $batch");
	else if (b->host->graph_batch(b->ctx, b->version, text, &resp) != 0)
		snprintf(why, sizeof(why), "the $batch failed: %s",
		    resp.error != NULL && resp.error[0] ?
			resp.error :
			"the host gave no reason");
	else if (!cJSON_IsArray(answers = cJSON_Parse(resp.body)))
		snprintf(why, sizeof(why),
		    "the $batch answer could not be read (out of memory?)");
	else
		why[0] = '\0';
	free(text);
	for (i = 0; i < n; i++) {
		item = why[0] ? NULL : answer_of(answers, i);
		if (why[0] == '\0' && item == NULL)
			deliver(b, &p[i], NULL,
			    "no answer for it in the $batch");
		else
			deliver(b, &p[i], item, why[0] ? why : NULL);
	}
	cJSON_Delete(answers);
}

/* Sends what is queued, 20 at a time, while at least min requests are
 * (callbacks may queue more); returns the number of $batch requests. */
static size_t
send_while(struct intune_batch *b, size_t min)
{
	struct pending chunk[INTUNE_BATCH_MAX];
	size_t n, i, sent = 0;

	while (b->len - b->head >= min && b->head < b->len) {
		n = b->len - b->head;
		if (n > INTUNE_BATCH_MAX)
			n = INTUNE_BATCH_MAX;
		memcpy(chunk, b->q + b->head, n * sizeof(chunk[0]));
		b->head += n;
		if (b->head == b->len)
			b->head = b->len = 0;
		send_one(b, chunk, n);
		for (i = 0; i < n; i++)
			free(chunk[i].url);
		sent++;
	}
	return sent;
}

size_t
intune_batch_pump(struct intune_batch *b)
{
	return send_while(b, INTUNE_BATCH_MAX);
}

size_t
intune_batch_run(struct intune_batch *b)
{
	return send_while(b, 1);
}

size_t
intune_batch_queued(const struct intune_batch *b)
{
	return b->len - b->head;
}
