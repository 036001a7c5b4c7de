/*
 * errors - the three error body shapes clients must parse: Graph OData
 * errors, the Intune variant with a JSON document inside "message", and
 * the Entra token endpoint's OAuth errors (docs/graph.md A6).
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
err_graph(struct resp *rs, const struct req *rq, int status,
    const char *code, const char *message)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(doc, "error");
	cJSON *inner;
	char date[32];

	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	inner = cJSON_AddObjectToObject(e, "innerError");
	fmt_iso_s(now_ms(), date, sizeof(date));
	cJSON_AddStringToObject(inner, "date", date);
	cJSON_AddStringToObject(inner, "request-id", rq->request_id);
	cJSON_AddStringToObject(inner, "client-request-id",
	    rq->client_request_id);
	resp_json(rs, status, doc);
}

void
err_graphf(struct resp *rs, const struct req *rq, int status,
    const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_graph(rs, rq, status, code, msg);
}

/* The nested document Intune puts in "message"; the caller frees. */
static char *
intune_message(const struct server *s, const struct req *rq,
    const char *text)
{
	cJSON *m = cJSON_CreateObject();
	struct buf b = {0};
	char op[FG_GUID_LEN];
	char *out;

	guid_new(op);
	buf_addf(&b, "%s - Operation ID (for customer support): %s - "
	    "Activity ID: %s - Url: %s%s%s%s", text, op, rq->request_id,
	    s->base_url, rq->path, rq->query[0] ? "?" : "", rq->query);
	cJSON_AddNumberToObject(m, "_version", 3);
	cJSON_AddStringToObject(m, "Message", b.p);
	cJSON_AddStringToObject(m, "CustomApiErrorPhrase", "");
	cJSON_AddNullToObject(m, "RetryAfter");
	cJSON_AddStringToObject(m, "ErrorSourceService", "");
	cJSON_AddStringToObject(m, "HttpHeaders", "{}");
	out = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	free(b.p);
	return out;
}

void
err_intune(struct resp *rs, const struct server *s, const struct req *rq,
    int status, const char *code, const char *text)
{
	char *msg = intune_message(s, rq, text);

	err_graph(rs, rq, status, code, msg);
	cJSON_free(msg);
}

void
err_intunef(struct resp *rs, const struct server *s, const struct req *rq,
    int status, const char *code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	err_intune(rs, s, rq, status, code, text);
}

void
err_oauth(struct resp *rs, const struct req *rq, int status,
    const char *error, long aadsts, const char *text)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *codes;
	struct buf b = {0};
	char ts[32], uri[80];

	fmt_aad_time(now_ms(), ts, sizeof(ts));
	buf_addf(&b, "AADSTS%ld: %s Trace ID: %s Correlation ID: %s "
	    "Timestamp: %s", aadsts, text, rq->request_id,
	    rq->client_request_id, ts);
	cJSON_AddStringToObject(doc, "error", error);
	cJSON_AddStringToObject(doc, "error_description", b.p);
	codes = cJSON_AddArrayToObject(doc, "error_codes");
	cJSON_AddItemToArray(codes, cJSON_CreateNumber((double)aadsts));
	cJSON_AddStringToObject(doc, "timestamp", ts);
	cJSON_AddStringToObject(doc, "trace_id", rq->request_id);
	cJSON_AddStringToObject(doc, "correlation_id", rq->client_request_id);
	free(b.p);
	snprintf(uri, sizeof(uri),
	    "https://login.microsoftonline.com/error?code=%ld", aadsts);
	cJSON_AddStringToObject(doc, "error_uri", uri);
	resp_json_ct(rs, status, doc, AAD_JSON);
}

void
err_segment(struct resp *rs, const struct req *rq, const char *name)
{
	err_graphf(rs, rq, 400, "BadRequest",
	    "Resource not found for the segment '%s'.", name);
}

const char *
err_status_code(int status)
{
	switch (status) {
	case 400: return "BadRequest";
	case 401: return "InvalidAuthenticationToken";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 409: return "Conflict";
	case 412: return "PreconditionFailed";
	case 413: return "RequestEntityTooLarge";
	case 423: return "Locked";
	case 429: return "TooManyRequests";
	case 500: return "InternalServerError";
	case 501: return "NotImplemented";
	case 502: return "BadGateway";
	case 503: return "ServiceUnavailable";
	case 504: return "GatewayTimeout";
	default: return "UnknownError";
	}
}

const char *
err_status_message(int status)
{
	switch (status) {
	case 401: return "Access token has expired or is not yet valid.";
	case 429: return "Too many requests.";
	case 500: return "An internal server error occurred.";
	case 502: return "Bad gateway.";
	case 503: return "The service is currently unavailable.";
	case 504: return "The gateway timed out waiting for the service.";
	default: return "Injected fault.";
	}
}

void
err_invalid(struct resp *rs, const struct server *s, const struct req *rq,
    const char *prop, const char *why)
{
	err_intunef(rs, s, rq, 400, "ModelValidationFailure", "Invalid "
	    "property '%s': it %s.", prop, why);
}
