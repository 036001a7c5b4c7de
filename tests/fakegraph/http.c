/*
 * http - the request and response objects every handler works on, and
 * the libmicrohttpd glue that turns a connection into one of them.
 *
 * The raw request URI comes from MHD's URI log callback, because the
 * access handler only gets the unescaped path and we need the query
 * exactly as sent (for the request log and for nextLinks that carry
 * every original option).
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

/* ---- requests -------------------------------------------------------- */

void
req_init(struct req *rq, const struct server *s, const char *method,
    const char *uri)
{
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);

	memset(rq, 0, sizeof(*rq));
	rq->method = xstrdup(method);
	rq->path = pct_decode(uri, plen, false);
	rq->query = xstrdup(q != NULL ? q + 1 : "");
	form_parse(rq->query, strlen(rq->query), &rq->args);
	rq->time_ms = (double)(monotonic_us() - s->start_us) / 1000.0;
	guid_new(rq->request_id);
	snprintf(rq->client_request_id, sizeof(rq->client_request_id), "%s",
	    rq->request_id);
}

/* A client-request-id is echoed in a header, so it must be one short
 * token of visible ASCII. */
static bool
id_ok(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n >= sizeof(((struct req *)0)->client_request_id))
		return false;
	for (i = 0; i < n; i++)
		if (v[i] <= 0x20 || v[i] >= 0x7f)
			return false;
	return true;
}

void
req_ids(struct req *rq)
{
	const char *v = kv_get(&rq->headers, "client-request-id");

	if (v != NULL && id_ok(v))
		snprintf(rq->client_request_id, sizeof(rq->client_request_id),
		    "%s", v);
}

void
req_free(struct req *rq)
{
	free(rq->method);
	free(rq->path);
	free(rq->query);
	free(rq->body);
	kv_free(&rq->args);
	kv_free(&rq->headers);
	memset(rq, 0, sizeof(*rq));
}

const char *
req_header(const struct req *rq, const char *name)
{
	return kv_get(&rq->headers, name);
}

bool
req_is(const struct req *rq, const char *method)
{
	return strcmp(rq->method, method) == 0;
}

const char *
req_arg(const struct req *rq, const char *name)
{
	return kv_get(&rq->args, name);
}

bool
req_eventual(const struct req *rq)
{
	return str_ieq(req_header(rq, "ConsistencyLevel"), "eventual");
}

/* ---- responses ------------------------------------------------------- */

void
resp_free(struct resp *rs)
{
	free(rs->body);
	kv_free(&rs->headers);
	memset(rs, 0, sizeof(*rs));
}

void
resp_header(struct resp *rs, const char *name, const char *value)
{
	kv_set(&rs->headers, name, value);
}

void
resp_raw(struct resp *rs, int status, char *body, const char *ctype)
{
	free(rs->body);
	rs->status = status;
	rs->body = body;
	rs->body_len = body != NULL ? strlen(body) : 0;
	if (ctype != NULL)
		resp_header(rs, "Content-Type", ctype);
}

void
resp_json_ct(struct resp *rs, int status, cJSON *doc,
    const char *content_type)
{
	char *printed = cJSON_PrintUnformatted(doc);

	cJSON_Delete(doc);
	if (printed == NULL) {
		fprintf(stderr, "fakegraph: cannot print a JSON response\n");
		abort();
	}
	resp_raw(rs, status, xstrdup(printed), content_type);
	cJSON_free(printed);
}

void
resp_json(struct resp *rs, int status, cJSON *doc)
{
	resp_json_ct(rs, status, doc, ODATA_JSON);
}

void
resp_text(struct resp *rs, int status, const char *text)
{
	resp_raw(rs, status, xstrdup(text), "text/plain");
}

void
resp_empty(struct resp *rs, int status)
{
	resp_raw(rs, status, NULL, NULL);
}

/* Every response names its request, so a test or a client's log can
 * quote the id a Graph support case would need. */
static void
resp_finish(const struct req *rq, struct resp *rs)
{
	if (rs->status == 0)
		err_graph(rs, rq, 500, "InternalServerError",
		    "No handler answered.");
	resp_header(rs, "request-id", rq->request_id);
	resp_header(rs, "client-request-id", rq->client_request_id);
}

void
serve_request(struct server *s, struct req *rq, struct resp *rs)
{
	/* The control API is neither logged nor subject to faults: tests
	 * read the log through it. */
	if (rq->batch_id == NULL && strncmp(rq->path, "/_fake/", 7) == 0) {
		control_route(s, rq, rs);
		resp_finish(rq, rs);
		return;
	}
	if (rq->body_truncated)
		err_graphf(rs, rq, 413, "RequestEntityTooLarge",
		    "The request body is larger than %d bytes.", FG_MAX_BODY);
	else if (!faults_apply(s, rq, rs))
		route_request(s, rq, rs);
	resp_finish(rq, rs);
	reqlog_add(s, rq, rs);
}

/* ---- libmicrohttpd glue ---------------------------------------------- */

struct conn {
	struct server *s;
	char *uri;
	int64_t arrival_us;
	bool started;
	struct req rq;
	struct buf body;
};

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn *cn = xcalloc(1, sizeof(*cn));

	(void)c;
	cn->s = cls;
	cn->uri = xstrdup(uri);
	cn->arrival_us = monotonic_us();
	return cn;
}

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	kv_add(cls, key, value != NULL ? value : "");
	return MHD_YES;
}

static bool
declared_too_large(const struct req *rq)
{
	const char *cl = req_header(rq, "Content-Length");
	long n;

	return cl != NULL && parse_long(cl, 0, 1L << 40, &n) == 0 &&
	    n > FG_MAX_BODY;
}

static enum MHD_Result
send_resp(struct MHD_Connection *c, const struct resp *rs)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t i;

	r = MHD_create_response_from_buffer(rs->body_len,
	    rs->body != NULL ? rs->body : (char *)"", MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	for (i = 0; i < rs->headers.n; i++)
		MHD_add_response_header(r, rs->headers.v[i].name,
		    rs->headers.v[i].value);
	ret = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
finish(struct conn *cn, struct MHD_Connection *c)
{
	struct resp rs = {0};
	enum MHD_Result ret;

	if (cn->body.len > 0) {
		cn->rq.body_len = cn->body.len;
		cn->rq.body = buf_take(&cn->body);
	}
	serve_request(cn->s, &cn->rq, &rs);
	ret = send_resp(c, &rs);
	resp_free(&rs);
	return ret;
}

static void
start(struct conn *cn, struct MHD_Connection *c, const char *method)
{
	cn->started = true;
	req_init(&cn->rq, cn->s, method, cn->uri);
	cn->rq.time_ms = (double)(cn->arrival_us - cn->s->start_us) / 1000.0;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header,
	    &cn->rq.headers);
	req_ids(&cn->rq);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)url;
	(void)version;
	if (cn == NULL)
		return MHD_NO;
	if (!cn->started) {
		start(cn, c, method);
		if (!declared_too_large(&cn->rq))
			return MHD_YES;
		cn->rq.body_truncated = true;
		return finish(cn, c);
	}
	if (*upload_size != 0) {
		/* Over the limit: keep reading (so the answer is a clean 413)
		 * but stop storing. */
		if (cn->body.len + *upload_size > FG_MAX_BODY)
			cn->rq.body_truncated = true;
		else
			buf_add(&cn->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return finish(cn, c);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn == NULL)
		return;
	req_free(&cn->rq);
	free(cn->body.p);
	free(cn->uri);
	free(cn);
	*con_cls = NULL;
}

struct MHD_Daemon *
http_start(struct server *s, int fd, char *err, size_t errlen)
{
	struct MHD_Daemon *d;

	/* One internal polling thread, no thread per connection: every
	 * handler runs on it, so the server state needs no locks.  HTTP/1.1
	 * keep-alive is MHD's default. */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    /* 256 KiB per connection: nextLinks of long $search queries
	     * must fit in the request line. */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_END);
	if (d == NULL)
		snprintf(err, errlen, "cannot start libmicrohttpd");
	return d;
}
