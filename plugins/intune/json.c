/* JSON and text helpers of the Intune plugin library; see json.h. */
#define _DEFAULT_SOURCE /* explicit_bzero, timegm-free gmtime_r */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json.h"

int
intune_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const char *
intune_json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_IsObject(obj) ?
	    cJSON_GetObjectItemCaseSensitive(obj, key) :
	    NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *
intune_json_object(const char *text)
{
	cJSON *root = text != NULL ? cJSON_Parse(text) : NULL;

	if (root != NULL && !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		root = NULL;
	}
	return root;
}

int
intune_json_set(cJSON *obj, const char *key, cJSON *v)
{
	cJSON_bool ok = 0;

	if (v != NULL && cJSON_IsObject(obj)) {
		if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
			ok = cJSON_ReplaceItemInObjectCaseSensitive(obj, key,
			    v);
		else
			ok = cJSON_AddItemToObject(obj, key, v);
	}
	if (!ok)
		cJSON_Delete(v);
	return ok ? 0 : -1;
}

const char *
intune_json_header(const cJSON *headers, const char *name)
{
	const cJSON *h;

	if (!cJSON_IsObject(headers))
		return NULL;
	cJSON_ArrayForEach(h, headers) {
		if (h->string != NULL && strcasecmp(h->string, name) == 0 &&
		    cJSON_IsString(h))
			return h->valuestring;
	}
	return NULL;
}

/* Intune puts a JSON document in message; its "Message" is the text. */
static void
unwrap_intune(const char *message, char *out, size_t len)
{
	cJSON *inner = cJSON_Parse(message);
	const char *m = intune_json_str(inner, "Message");

	snprintf(out, len, "%s", m != NULL ? m : message);
	cJSON_Delete(inner);
}

void
intune_graph_error(long status, const cJSON *body, const char *request_id,
    char *out, size_t len)
{
	const cJSON *e = cJSON_IsObject(body) ?
	    cJSON_GetObjectItemCaseSensitive(body, "error") :
	    NULL;
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "innerError");
	const char *code = intune_json_str(e, "code");
	const char *msg = intune_json_str(e, "message");
	char text[768] = "";

	if (inner == NULL)
		inner = cJSON_GetObjectItemCaseSensitive(e, "innererror");
	if (request_id == NULL || request_id[0] == '\0')
		request_id = intune_json_str(inner, "request-id");
	if (msg != NULL)
		unwrap_intune(msg, text, sizeof(text));
	snprintf(out, len, "HTTP %ld %s: %s (%s%s)", status,
	    code != NULL ? code : "error", text[0] ? text : "no message",
	    request_id != NULL && request_id[0] ? "request-id " :
						  "no request-id",
	    request_id != NULL ? request_id : "");
}

int64_t
intune_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
intune_rfc3339(int64_t ms, char *out, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL) {
		snprintf(out, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(ms % 1000));
}

int
intune_safe_id(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > 128 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return 0;
	return strspn(id,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._-") == n;
}

void
intune_json_wipe(cJSON *str)
{
	if (cJSON_IsString(str) && str->valuestring != NULL)
		explicit_bzero(str->valuestring, strlen(str->valuestring));
}
