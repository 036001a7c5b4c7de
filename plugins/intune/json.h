/*
 * Small JSON and text helpers of the Intune plugin library (cJSON).
 *
 * Strings returned as const char * point into the cJSON value they came
 * from and live as long as it does.  Functions that fill an err buffer
 * write one line and return -1.
 */
#ifndef INTUNE_JSON_H
#define INTUNE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Room for one error line: the host's Graph messages are up to 1 KiB. */
#define INTUNE_ERR_MAX 1536

/* Writes fmt to err (of errlen bytes) and returns -1. */
int intune_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The string member key of obj, or NULL (absent, not a string, or obj
 * not an object). */
const char *intune_json_str(const cJSON *obj, const char *key);

/* Parses text; returns the JSON object (the caller cJSON_Deletes it), or
 * NULL if text is NULL, not JSON or not an object. */
cJSON *intune_json_object(const char *text);

/* Sets obj[key] = v, replacing a member of that name.  Takes v: on
 * failure (obj not an object, v NULL) v is freed.  Returns 0 or -1. */
int intune_json_set(cJSON *obj, const char *key, cJSON *v);

/* The value of header name (ASCII case ignored) in a $batch item's
 * "headers" object, or NULL. */
const char *intune_json_header(const cJSON *headers, const char *name);

/* One line for a Graph answer that is not 2xx, in the host's words:
 * "HTTP 404 ResourceNotFound: text (request-id ID)".  body is the answer
 * (an OData error object, or NULL); Intune's JSON nested in "message" is
 * unwrapped to its "Message".  request_id may be NULL or "" (then the
 * one in the body's innerError is used, if any). */
void intune_graph_error(long status, const cJSON *body, const char *request_id,
    char *out, size_t len);

/* Milliseconds since the epoch, now. */
int64_t intune_now_ms(void);

/* ms as RFC 3339 UTC with milliseconds: "2026-11-30T07:39:32.952Z".
 * out needs 25 bytes. */
void intune_rfc3339(int64_t ms, char *out, size_t len);

/* 1 if id can name a document segment and a Graph key: 1 to 128 of
 * [A-Za-z0-9._-], not "." or "..". */
int intune_safe_id(const char *id);

/* Overwrites a string value's bytes (a plain secret) before it is
 * freed; NULL and non-strings are ignored. */
void intune_json_wipe(cJSON *str);

#endif
