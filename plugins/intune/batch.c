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

/* A list's first page came: keep its items, follow its nextLink. */
static void
list_answer(struct intune_batch *b, const struct pending *p,
    const struct intune_answer *a)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->body, "value");
	const char *next = intune_json_str(a->body, "@odata.nextLink");
	char err[INTUNE_ERR_MAX] = "";
	size_t have = (size_t)cJSON_GetArraySize(p->dest);
	const cJSON *item;

	if (a->error[0] != '\0') {
		p->done(p->arg, a->error);
		return;
	}
	if (!cJSON_IsArray(v)) {
		snprintf(err, sizeof(err),
		    "GET /%s%s: answered HTTP %ld without a \"value\" array "
		    "(request-id %s); the list was not completed",
		    b->version, p->url, a->status,
		    a->request_id[0] ? a->request_id : "none");
		p->done(p->arg, err);
		return;
	}
	cJSON_ArrayForEach(item, v) {
		if (have++ >= p->max ||
		    !cJSON_AddItemToArray(p->dest, cJSON_Duplicate(item, 1))) {
			snprintf(err, sizeof(err),
			    "GET /%s%s: the list has more than %zu items, or "
			    "memory ran out; not captured",
			    b->version, p->url, p->max);
			p->done(p->arg, err);
			return;
		}
	}
	if (next != NULL &&
	    intune_list_all(b->host, b->ctx, next, NULL, p->dest,
		p->max > have ? p->max - have : 0, err, sizeof(err)) != 0) {
		p->done(p->arg, err);
		return;
	}
	p->done(p->arg, "");
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
		deliver(b, &p[i], item,
		    why[0]	     ? why :
			item == NULL ? "no answer for it in the $batch" :
				       NULL);
	}
	cJSON_Delete(answers);
}

size_t
intune_batch_run(struct intune_batch *b)
{
	struct pending chunk[INTUNE_BATCH_MAX];
	size_t n, i, sent = 0;

	while (b->head < b->len) {
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
