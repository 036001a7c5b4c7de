/*
 * graph - the Microsoft Graph client of the host (docs/DESIGN.md section
 * 6); the only module that knows libcurl.  What Graph does that it relies
 * on is in docs/graph.md (A4 paging, A5 throttling, A6 errors, A8 tokens,
 * A9 $batch).
 *
 * One client per process keeps one curl handle (connections are reused)
 * and the app tokens of each tenant, in memory only, until shortly before
 * they expire.  A request gets a token by client credentials when needed,
 * refreshes it once on 401 InvalidAuthenticationToken, honours
 * Retry-After (seconds or an HTTP date) on 429/503/504 or backs off
 * exponentially with jitter, within the retry count and the run's wait
 * budget, and its waits end early when the run is canceled.  Transport
 * errors are retried for idempotent methods only.  Graph's OData errors
 * (and Intune's JSON nested in their message) become one line with the
 * code, the message and Graph's request-id.  A malformed 2xx answer (a
 * page or a $batch answer that is not the JSON it must be) is a failure
 * too, never a short list: one line with what is wrong, the URL and the
 * request-id.
 *
 * Messages show URLs without user:password@ and without the values of
 * query options that may be secrets or paging tokens ($skiptoken, code,
 * sig, ...): those become <redacted>.
 *
 * Secrets: the client secret is read from its file for each token request
 * and wiped after; tokens are wiped when replaced and at close.  Neither
 * ever reaches a log line, an error message or the store.
 */
#ifndef OPRUN_GRAPH_H
#define OPRUN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct graph_client;

/* What one run brings to its Graph calls. */
struct graph_call {
	const char *tenant;		/* [tenant NAME] */
	int (*canceled)(void *arg);	/* polled while waiting; may be NULL */
	void *arg;
	int64_t wait_budget_ms;		/* left to spend on retry waits */
	const char *user_token;		/* delegated: use it, never renew */
};

struct graph_response {
	long status;			/* HTTP status, 0 if none came */
	char *body;			/* response text, "" if none; owned */
	size_t body_len;
	char request_id[80];		/* Graph's request-id header */
	char client_request_id[80];	/* as answered, else as sent */
	char content_type[128];		/* the Content-Type header */
	char error[1024];		/* one line when the call failed */
};

/* Opens a client for cfg (kept by pointer: it must outlive the client).
 * Returns 0, or -1 with a reason in err. */
int	graph_client_open(struct graph_client **out, const struct config *cfg,
	    char *err, size_t errlen);
/* Wipes the cached tokens and frees the client; NULL is fine. */
void	graph_client_close(struct graph_client *gc);

/* Sends METHOD to base_url + path (a path with its query, such as
 * "/v1.0/groups?$top=5", or an absolute URL under base_url, such as an
 * @odata.nextLink), with extra headers ("Name: value", NULL-terminated,
 * may be NULL) and an optional JSON body.  Returns 0 when a final answer
 * came (any status: resp->error says what a non-2xx one means), or -1 when
 * none could be had (token refused, transport failure, retries or wait
 * budget spent, run canceled) or a 2xx answer says it is JSON but is not
 * (cut short), with the reason in resp->error.  Free resp with
 * graph_response_free either way. */
int	graph_request(struct graph_client *gc, struct graph_call *call,
	    const char *method, const char *path, const char *const *headers,
	    const char *body, struct graph_response *resp);
void	graph_response_free(struct graph_response *resp);

/* GETs path and every @odata.nextLink after it, verbatim, resending the
 * same headers on every page, and calls page() with each page's JSON text
 * (a non-zero return stops the walk and is returned).  Every page must be
 * a JSON object (Content-Type application/json) with a "value" array and
 * no "@odata.nextLink" other than a string; anything else is a failed
 * page, not the end of the list.  Returns 0 when the last page was read,
 * -1 on a failure (reason in resp->error: the page's URL, its number and
 * request-id, and that the list was not completed; status of the failing
 * page in resp->status). */
int	graph_list(struct graph_client *gc, struct graph_call *call,
	    const char *path, const char *const *headers,
	    int (*page)(void *arg, const char *json), void *arg,
	    struct graph_response *resp);

/* JSON $batch: requests is a JSON array of at most 20 objects {"id",
 * "method", "url" (relative, such as "/deviceManagement/..."), optional
 * "headers" and "body"}, sent to /VERSION/$batch.  Items answered 429,
 * 503 or 504 are sent again (alone, in a new batch) after the longest
 * Retry-After among them, within the retry count and the wait budget.
 * On 0, resp->body is a JSON array of {"id", "status", "headers", "body"}
 * in the order of the requests.  An item without a usable answer is
 * {"id", "status", "error"} with a one-line error: status 429 if it was
 * still throttled when retries ran out, 0 if the answer left it out (it
 * is not sent again: it may have run) or its 2xx body claims JSON but is
 * not.  -1: the batch itself failed (reason in resp->error), including an
 * answer that is not 200 with a JSON object whose "responses" array
 * answers only requests that were sent, each once, with an id and an
 * HTTP status. */
int	graph_batch(struct graph_client *gc, struct graph_call *call,
	    const char *version, const char *requests,
	    struct graph_response *resp);

#endif
