/*
 * A queue of Graph GETs sent as JSON $batch requests through
 * host->graph_batch, at most 20 per batch (A9), with relative URLs.
 *
 * Queue requests, then intune_batch_pump sends the full batches and
 * intune_batch_run all of them; each request's callback is called
 * exactly once with its own answer: per-item status, Graph's message and
 * request-id for an item that failed, or the reason the whole $batch
 * failed.  A callback may queue more requests (the presentation values
 * of the definition values just read) and make Graph calls of its own;
 * queued requests go in later batches.  Throttled items are retried by
 * the host, never here.  Freeing the queue drops what is still queued
 * without calling its callbacks.
 */
#ifndef INTUNE_BATCH_H
#define INTUNE_BATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

#define INTUNE_BATCH_MAX 20
/* Requests one queue may hold: callers queue a page of objects at a time. */
#define INTUNE_BATCH_QUEUE_MAX 20000

/* One item's answer, valid during the callback. */
struct intune_answer {
	long status;		/* its HTTP status; 0 if none came */
	const cJSON *body;	/* its JSON body, or NULL */
	const char *request_id; /* Graph's request-id, or "" */
	const char *error;	/* "" on 2xx; else one line: the request,
				 * the status, Graph's code and message and
				 * the request-id (or why no answer came) */
};

typedef void (*intune_answer_fn)(void *arg, const struct intune_answer *a);
/* A list is done: error is "" when every page came, else why not. */
typedef void (*intune_list_fn)(void *arg, const char *error);

struct intune_batch;

/* A new queue for version ("beta" or "v1.0"); NULL when out of memory. */
struct intune_batch *intune_batch_new(const struct oprun_host *host,
    struct oprun_ctx *ctx, const char *version);
void intune_batch_free(struct intune_batch *b);

/* Queues GET url (relative to the version: "/deviceManagement/...");
 * fn(arg, answer) is called when it was sent.  Returns 0, or -1 when
 * the queue is full or memory ran out (fn is then never called). */
int intune_batch_get(struct intune_batch *b, const char *url,
    intune_answer_fn fn, void *arg);

/* Queues a list: every page of it, each in a $batch as it comes (an
 * @odata.nextLink is asked for with its relative URL; one that is not
 * under the batch's version is read with host->graph_list); every item
 * is appended to dest (at most max_items in all), then done(arg, error)
 * is called once.  A page that is not a JSON object with a "value" array
 * and a string nextLink (if any) fails the list.  Returns 0 or -1 as
 * intune_batch_get. */
int intune_batch_list(struct intune_batch *b, const char *url, cJSON *dest,
    size_t max_items, intune_list_fn done, void *arg);

/* Sends full batches (20 requests) while enough are queued, so callers
 * can keep queueing and send no half-empty batch; the rest stays queued.
 * Returns the number of $batch requests it sent. */
size_t intune_batch_pump(struct intune_batch *b);

/* Sends everything queued until the queue is empty, calling every
 * callback.  Returns the number of $batch requests it sent. */
size_t intune_batch_run(struct intune_batch *b);

/* How many requests are queued. */
size_t intune_batch_queued(const struct intune_batch *b);

#endif
