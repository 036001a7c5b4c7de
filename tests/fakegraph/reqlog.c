/*
 * reqlog - the request log behind GET /_fake/requests.  Tests read it to
 * assert what a client sent (zero writes in a preview, ConsistencyLevel
 * on page 2, the wait before a retry), so it records requests as they
 * arrived, but never a secret: bearer tokens, client secrets, refresh
 * tokens and the plain values of encrypted OMA settings are replaced by
 * "<redacted>" before anything is stored.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdlib.h>
#include <string.h>

static const char *const secret_fields[] = {
	"client_secret", "refresh_token", "client_assertion", "assertion",
	"password", "code", NULL
};

static bool
secret_field(const char *name)
{
	size_t i;

	for (i = 0; secret_fields[i] != NULL; i++)
		if (strcmp(name, secret_fields[i]) == 0)
			return true;
	return false;
}

static bool
form_body(const struct req *rq)
{
	const char *ct = req_header(rq, "Content-Type");

	return (ct != NULL && str_iprefix(ct,
	    "application/x-www-form-urlencoded")) ||
	    str_suffix(rq->path, "/oauth2/v2.0/token");
}

/* The form body with every secret field's value replaced. */
static char *
redact_form(const char *body, size_t n)
{
	const char *end = body + n, *amp, *eq;
	struct buf b = {0};
	char *name;

	while (body < end) {
		amp = memchr(body, '&', (size_t)(end - body));
		if (amp == NULL)
			amp = end;
		eq = memchr(body, '=', (size_t)(amp - body));
		if (eq == NULL)
			eq = amp;
		name = pct_decode(body, (size_t)(eq - body), true);
		if (secret_field(name)) {
			buf_add(&b, body, (size_t)(eq - body));
			buf_adds(&b, "=<redacted>");
		} else {
			buf_add(&b, body, (size_t)(amp - body));
		}
		free(name);
		if (amp < end)
			buf_adds(&b, "&");
		body = amp + 1;
	}
	return buf_take(&b);
}

static char *redact_json(const char *body, size_t n);

/* Redacts member e of object v if it is a secret: a form-field-named
 * member, or a string "body" holding JSON with secrets in it (a $batch
 * item's).  Returns 1 if it did. */
static int
redact_member(cJSON *v, cJSON *e)
{
	char *inner;

	if (secret_field(e->string) && !cJSON_IsNull(e)) {
		cJSON_ReplaceItemViaPointer(v, e,
		    cJSON_CreateString("<redacted>"));
		return 1;
	}
	if (strcmp(e->string, "body") == 0 && cJSON_IsString(e) &&
	    (inner = redact_json(e->valuestring,
	    strlen(e->valuestring))) != NULL) {
		cJSON_ReplaceItemViaPointer(v, e, cJSON_CreateString(inner));
		free(inner);
		return 1;
	}
	return 0;
}

/* Redacts, at any depth, the "value" of every object marked
 * "isEncrypted": true and the members redact_member names.  Returns how
 * many. */
static int
redact_tree(cJSON *v)
{
	cJSON *e, *next;
	int n = 0;

	if (cJSON_IsObject(v) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    v, "isEncrypted")) && cJSON_GetObjectItemCaseSensitive(v,
	    "value") != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(v, "value",
		    cJSON_CreateString("<redacted>"));
		n++;
	}
	for (e = v->child; e != NULL; e = next) {
		next = e->next;
		if (cJSON_IsObject(v) && redact_member(v, e) != 0)
			n++;
		else
			n += redact_tree(e);
	}
	return n;
}

/* A JSON body with its secrets redacted (reprinted compact), or NULL if
 * it is not JSON or holds none. */
static char *
redact_json(const char *body, size_t n)
{
	cJSON *doc = cJSON_ParseWithLength(body, n);
	char *printed, *text = NULL;

	if (doc != NULL && redact_tree(doc) > 0 &&
	    (printed = cJSON_PrintUnformatted(doc)) != NULL) {
		text = xstrdup(printed);
		cJSON_free(printed);
	}
	cJSON_Delete(doc);
	return text;
}

/* What the log keeps of a body: JSON and form bodies with their secrets
 * redacted (whatever the Content-Type said), others as they came, cut at
 * FG_MAX_LOGGED_BODY (after redacting: a cut body would not parse).  A
 * body over FG_MAX_BODY (413) was never read whole: none is kept. */
static void
log_body(cJSON *e, const struct req *rq)
{
	char *json = rq->body != NULL && !rq->body_truncated ?
	    redact_json(rq->body, rq->body_len) : NULL;
	size_t n = json != NULL ? strlen(json) : rq->body_len;
	char *text;

	if (n > FG_MAX_LOGGED_BODY || rq->body_truncated) {
		n = n > FG_MAX_LOGGED_BODY ? FG_MAX_LOGGED_BODY : n;
		cJSON_AddTrueToObject(e, "body_truncated");
	}
	if (json != NULL)
		text = xstrndup(json, n);
	else if (rq->body == NULL || rq->body_truncated)
		text = xstrdup("");
	else if (form_body(rq) || memchr(rq->body, '=', rq->body_len) != NULL)
		text = redact_form(rq->body, n);
	else
		text = xstrndup(rq->body, n);
	cJSON_AddStringToObject(e, "body", text);
	free(json);
	free(text);
}

static void
log_headers(cJSON *e, const struct req *rq)
{
	cJSON *h = cJSON_AddObjectToObject(e, "headers");
	const char *name, *value;
	size_t i;

	for (i = 0; i < rq->headers.n; i++) {
		name = rq->headers.v[i].name;
		value = rq->headers.v[i].value;
		if (str_ieq(name, "Authorization"))
			value = str_iprefix(value, "Bearer ") ?
			    "Bearer <redacted>" : "<redacted>";
		cJSON_DeleteItemFromObjectCaseSensitive(h, name);
		cJSON_AddStringToObject(h, name, value);
	}
}

/* What an entry counts against FG_MAX_LOG_BYTES. */
static size_t
entry_cost(const cJSON *e)
{
	const char *body = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(e, "body"));

	return 512 + (body != NULL ? strlen(body) : 0);
}

void
reqlog_add(struct server *s, const struct req *rq, const struct resp *rs)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "seq", (double)++s->log_seq);
	cJSON_AddNumberToObject(e, "time_ms", rq->time_ms);
	cJSON_AddStringToObject(e, "method", rq->method);
	cJSON_AddStringToObject(e, "path", rq->path);
	cJSON_AddStringToObject(e, "query", rq->query);
	log_headers(e, rq);
	log_body(e, rq);
	cJSON_AddNumberToObject(e, "status", rs->status);
	cJSON_AddStringToObject(e, "request_id", rq->request_id);
	if (rs->fault)
		cJSON_AddTrueToObject(e, "fault");
	if (rq->batch_id != NULL)
		cJSON_AddStringToObject(e, "batch_id", rq->batch_id);
	cJSON_AddItemToArray(s->log, e);
	s->log_bytes += entry_cost(e);
	while (s->log->child != e && (cJSON_GetArraySize(s->log) > FG_MAX_LOG ||
	    s->log_bytes > FG_MAX_LOG_BYTES)) {
		s->log_bytes -= entry_cost(s->log->child);
		cJSON_DeleteItemFromArray(s->log, 0);
	}
}

char *
reqlog_print(const struct server *s)
{
	char *arr = cJSON_PrintUnformatted(s->log);
	struct buf b = {0};

	buf_adds(&b, "{\"value\":");
	buf_adds(&b, arr != NULL ? arr : "[]");
	buf_adds(&b, "}");
	cJSON_free(arr);
	return buf_take(&b);
}

void
reqlog_clear(struct server *s)
{
	cJSON_Delete(s->log);
	s->log = cJSON_CreateArray();
	s->log_bytes = 0;
}
