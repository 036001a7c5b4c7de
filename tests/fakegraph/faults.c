/*
 * faults - the per-test fault script (POST /_fake/faults).  Rules are
 * kept in the order they were queued; the first rule whose method and
 * path regex match a request answers it and uses up one of its "times".
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fault_free(struct fault *f)
{
	free(f->method);
	free(f->path);
	regfree(&f->re);
	if (f->query != NULL) {
		free(f->query);
		regfree(&f->query_re);
	}
}

static int
parse_retry(const cJSON *v, struct fault *f, char *err, size_t errlen)
{
	if (v == NULL || cJSON_IsNull(v)) {
		f->retry = RETRY_NONE;
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble <= 86400) {
		f->retry = RETRY_SECONDS;
		f->retry_after = (long)v->valuedouble;
	} else if (cJSON_IsString(v) && strcmp(v->valuestring,
	    "http-date") == 0) {
		f->retry = RETRY_HTTP_DATE;
		f->retry_after = 2;
	} else {
		snprintf(err, errlen, "retry_after must be seconds (0-86400), "
		    "\"http-date\" or absent");
		return -1;
	}
	return 0;
}

/* The body_kind names, in enum body_kind order; "routed" kinds let the
 * route answer first and then spoil its answer. */
static const struct {
	const char *name;
	bool routed;
} kinds[BODY_N] = {
	[BODY_GRAPH] = {"graph", false},
	[BODY_INTUNE_NESTED] = {"intune_nested", false},
	[BODY_EMPTY] = {"empty", false},
	[BODY_HTML] = {"html", false},
	[BODY_TEXT_TYPE] = {"text_type", true},
	[BODY_TRUNCATED] = {"truncated", true},
	[BODY_NO_VALUE] = {"no_value", true},
	[BODY_VALUE_NOT_ARRAY] = {"value_not_array", true},
	[BODY_NEXT_LINK_NOT_STRING] = {"next_link_not_string", true},
	[BODY_NO_RESPONSES] = {"no_responses", true},
	[BODY_ITEM_MISSING] = {"item_missing", true},
	[BODY_ITEM_UNKNOWN_ID] = {"item_unknown_id", true},
	[BODY_ITEM_NO_ID] = {"item_no_id", true},
	[BODY_ITEM_NO_STATUS] = {"item_no_status", true},
};

static int
parse_body_kind(const cJSON *v, struct fault *f, char *err, size_t errlen)
{
	const char *k = cJSON_IsString(v) ? v->valuestring : NULL;
	struct buf names = {0};
	int i;

	if (v == NULL) {
		f->body = BODY_GRAPH;
		return 0;
	}
	for (i = 0; i < BODY_N; i++) {
		if (str_ieq(k, kinds[i].name)) {
			f->body = (enum body_kind)i;
			return 0;
		}
	}
	for (i = 0; i < BODY_N; i++)
		buf_addf(&names, "%s%s", i == 0 ? "" : i == BODY_N - 1 ?
		    " or " : ", ", kinds[i].name);
	snprintf(err, errlen, "body_kind must be %s", names.p);
	free(names.p);
	return -1;
}

static int
parse_numbers(const cJSON *r, struct fault *f, char *err, size_t errlen)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
	const cJSON *times = cJSON_GetObjectItemCaseSensitive(r, "times");

	if (!cJSON_IsNumber(st) || st->valuedouble < 100 ||
	    st->valuedouble > 599) {
		snprintf(err, errlen, "status must be a number 100-599");
		return -1;
	}
	f->status = (int)st->valuedouble;
	f->times = 1;
	if (times != NULL) {
		if (!cJSON_IsNumber(times) || times->valuedouble < 1 ||
		    times->valuedouble > 1e6) {
			snprintf(err, errlen, "times must be 1-1000000");
			return -1;
		}
		f->times = (long)times->valuedouble;
	}
	return 0;
}

static int
compile(regex_t *re, const char *src, const char *what, char *err,
    size_t errlen)
{
	char rerr[128];
	int rc;

	if ((rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, re, rerr, sizeof(rerr));
		snprintf(err, errlen, "%s regex: %s", what, rerr);
		return -1;
	}
	return 0;
}

/* Parses one rule into f; on failure nothing in f needs freeing. */
static int
parse_rule(const cJSON *r, struct fault *f, char *err, size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "method");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "path");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(r, "query");

	memset(f, 0, sizeof(*f));
	if (!cJSON_IsObject(r) || !cJSON_IsString(p) ||
	    (m != NULL && !cJSON_IsString(m)) ||
	    (q != NULL && !cJSON_IsString(q))) {
		snprintf(err, errlen, "a rule is an object with a string "
		    "\"path\" (regex), an optional string \"query\" (regex) "
		    "and an optional string \"method\"");
		return -1;
	}
	if (parse_numbers(r, f, err, errlen) != 0 ||
	    parse_retry(cJSON_GetObjectItemCaseSensitive(r, "retry_after"),
	    f, err, errlen) != 0 ||
	    parse_body_kind(cJSON_GetObjectItemCaseSensitive(r, "body_kind"),
	    f, err, errlen) != 0)
		return -1;
	if (compile(&f->re, p->valuestring, "path", err, errlen) != 0)
		return -1;
	if (q != NULL && compile(&f->query_re, q->valuestring, "query", err,
	    errlen) != 0) {
		regfree(&f->re);
		return -1;
	}
	f->path = xstrdup(p->valuestring);
	f->query = q != NULL ? xstrdup(q->valuestring) : NULL;
	f->method = m != NULL ? xstrdup(m->valuestring) : NULL;
	return 0;
}

int
faults_add(struct server *s, const cJSON *rules, char *err, size_t errlen)
{
	size_t n = (size_t)cJSON_GetArraySize(rules), i = 0;
	struct fault *add;
	const cJSON *r;
	int rc = 0;

	if (!cJSON_IsArray(rules) || s->nfaults + n > FG_MAX_FAULTS) {
		snprintf(err, errlen, "\"rules\" must be an array, and at most "
		    "%d rules can be queued", FG_MAX_FAULTS);
		return -1;
	}
	add = xcalloc(n, sizeof(*add));
	cJSON_ArrayForEach(r, rules) {
		if (parse_rule(r, &add[i], err, errlen) != 0) {
			rc = -1;
			goto out_free;
		}
		i++;
	}
	s->faults = xrealloc(s->faults, (s->nfaults + n) * sizeof(*add));
	memcpy(s->faults + s->nfaults, add, n * sizeof(*add));
	s->nfaults += n;
	i = 0;
out_free:
	while (i > 0)
		fault_free(&add[--i]);
	free(add);
	return rc;
}

/* A captive portal or proxy page: what a 200 that is not Graph's looks
 * like. */
#define HTML_PAGE	"<!DOCTYPE html><html><head><title>Sign in</title>" \
	"</head><body><p>This network requires you to sign in.</p></body>" \
	"</html>"

/* Re-sends doc (consumed) as the answer, with the answer's content type. */
static void
answer_replace(struct resp *rs, cJSON *doc)
{
	const char *ct = kv_get(&rs->headers, "Content-Type");
	char *type = xstrdup(ct != NULL ? ct : ODATA_JSON);

	resp_json_ct(rs, rs->status, doc, type);
	free(type);
}

/* Spoils the route's answer as kind says; an answer that is not the JSON
 * the kind expects is left as it is. */
static void
answer_spoil(struct resp *rs, enum body_kind kind)
{
	cJSON *doc, *list, *first;

	if (kind == BODY_TEXT_TYPE) {
		resp_header(rs, "Content-Type", "text/plain");
		return;
	}
	if (kind == BODY_TRUNCATED) {
		rs->body_len /= 2;
		if (rs->body != NULL)
			rs->body[rs->body_len] = '\0';
		return;
	}
	doc = rs->body_len > 0 ? cJSON_ParseWithLength(rs->body, rs->body_len) :
	    NULL;
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return;
	}
	list = cJSON_GetObjectItemCaseSensitive(doc, "responses");
	first = cJSON_GetArrayItem(list, 0);
	switch (kind) {
	case BODY_NO_VALUE:
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "value");
		break;
	case BODY_VALUE_NOT_ARRAY:
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "value");
		cJSON_AddObjectToObject(doc, "value");
		break;
	case BODY_NEXT_LINK_NOT_STRING:
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "@odata.nextLink");
		cJSON_AddNumberToObject(doc, "@odata.nextLink", 42);
		break;
	case BODY_NO_RESPONSES:
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "responses");
		break;
	case BODY_ITEM_MISSING:
		if (first != NULL)
			cJSON_DeleteItemFromArray(list, 0);
		break;
	case BODY_ITEM_UNKNOWN_ID:
		if (first != NULL) {
			cJSON_DeleteItemFromObjectCaseSensitive(first, "id");
			cJSON_AddStringToObject(first, "id",
			    "fakegraph-unknown-id");
		}
		break;
	case BODY_ITEM_NO_ID:
		cJSON_DeleteItemFromObjectCaseSensitive(first, "id");
		break;
	case BODY_ITEM_NO_STATUS:
		cJSON_DeleteItemFromObjectCaseSensitive(first, "status");
		break;
	default:
		break;
	}
	answer_replace(rs, doc);
}

static void
fault_respond(struct server *s, const struct fault *f, struct req *rq,
    struct resp *rs)
{
	char date[40];

	if (kinds[f->body].routed) {
		route_request(s, rq, rs);
		answer_spoil(rs, f->body);
		rs->status = f->status;
	} else if (f->body == BODY_HTML) {
		resp_raw(rs, f->status, xstrdup(HTML_PAGE),
		    "text/html; charset=utf-8");
	} else if (f->body == BODY_EMPTY) {
		resp_empty(rs, f->status);
	} else if (f->body == BODY_INTUNE_NESTED) {
		err_intune(rs, s, rq, f->status, err_status_code(f->status),
		    err_status_message(f->status));
	} else {
		err_graph(rs, rq, f->status, err_status_code(f->status),
		    err_status_message(f->status));
	}
	/* A 401 looks like Graph's, so clients renew their token. */
	if (f->status == 401)
		auth_challenge(rs);
	if (f->retry == RETRY_SECONDS) {
		snprintf(date, sizeof(date), "%ld", f->retry_after);
		resp_header(rs, "Retry-After", date);
	} else if (f->retry == RETRY_HTTP_DATE) {
		/* An HTTP-date has whole seconds, so round up: the client
		 * must never be told to wait less than retry_after. */
		fmt_http_date(now_ms() + f->retry_after * 1000 + 999, date,
		    sizeof(date));
		resp_header(rs, "Retry-After", date);
	}
	rs->fault = true;
}

bool
faults_apply(struct server *s, struct req *rq, struct resp *rs)
{
	struct fault *f, rule;
	size_t i;

	for (i = 0; i < s->nfaults; i++) {
		f = &s->faults[i];
		if (f->method != NULL && !str_ieq(f->method, rq->method))
			continue;
		if (regexec(&f->re, rq->path, 0, NULL, 0) != 0)
			continue;
		if (f->query != NULL && regexec(&f->query_re, rq->query, 0,
		    NULL, 0) != 0)
			continue;
		/* Used up before answering: a routed $batch runs its items
		 * through faults_apply again, which may change the queue.
		 * The copy's strings and regex may be freed by then; only
		 * its numbers and kind are used. */
		rule = *f;
		if (--f->times == 0) {
			fault_free(f);
			memmove(f, f + 1, (s->nfaults - i - 1) * sizeof(*f));
			s->nfaults--;
		}
		fault_respond(s, &rule, rq, rs);
		return true;
	}
	return false;
}

cJSON *
faults_list(const struct server *s)
{
	cJSON *arr = cJSON_CreateArray(), *r;
	const struct fault *f;
	size_t i;

	for (i = 0; i < s->nfaults; i++) {
		f = &s->faults[i];
		r = cJSON_CreateObject();
		if (f->method != NULL)
			cJSON_AddStringToObject(r, "method", f->method);
		cJSON_AddStringToObject(r, "path", f->path);
		if (f->query != NULL)
			cJSON_AddStringToObject(r, "query", f->query);
		cJSON_AddNumberToObject(r, "status", f->status);
		if (f->retry == RETRY_SECONDS)
			cJSON_AddNumberToObject(r, "retry_after",
			    (double)f->retry_after);
		else if (f->retry == RETRY_HTTP_DATE)
			cJSON_AddStringToObject(r, "retry_after", "http-date");
		cJSON_AddNumberToObject(r, "times", (double)f->times);
		cJSON_AddStringToObject(r, "body_kind", kinds[f->body].name);
		cJSON_AddItemToArray(arr, r);
	}
	return arr;
}

void
faults_clear(struct server *s)
{
	size_t i;

	for (i = 0; i < s->nfaults; i++)
		fault_free(&s->faults[i]);
	free(s->faults);
	s->faults = NULL;
	s->nfaults = 0;
}
