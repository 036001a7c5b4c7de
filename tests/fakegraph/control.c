/*
 * control - the test-facing API under /_fake/ (README.md documents it):
 * the request log, reset, the fault script and the fake clock.  These
 * requests need no token, are never logged and never hit a fault.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdlib.h>
#include <string.h>

static cJSON *
body_json(const struct req *rq)
{
	return rq->body != NULL ? cJSON_ParseWithLength(rq->body,
	    rq->body_len) : NULL;
}

static void
faults_post(struct server *s, const struct req *rq, struct resp *rs)
{
	cJSON *doc = body_json(rq), *out;
	char err[256];

	if (faults_add(s, cJSON_GetObjectItemCaseSensitive(doc, "rules"), err,
	    sizeof(err)) != 0) {
		err_graph(rs, rq, 400, "BadRequest", err);
	} else {
		out = cJSON_CreateObject();
		cJSON_AddItemToObject(out, "value", faults_list(s));
		resp_json(rs, 200, out);
	}
	cJSON_Delete(doc);
}

static void
faults_get(struct server *s, struct resp *rs)
{
	cJSON *out = cJSON_CreateObject();

	cJSON_AddItemToObject(out, "value", faults_list(s));
	resp_json(rs, 200, out);
}

static void
clock_answer(const struct server *s, struct resp *rs)
{
	cJSON *out = cJSON_CreateObject();

	cJSON_AddNumberToObject(out, "offset_ms", (double)s->clock_offset_ms);
	cJSON_AddNumberToObject(out, "now_ms", (double)server_now_ms(s));
	resp_json(rs, 200, out);
}

/* {"advance_s": N} or {"advance_ms": N} moves the fake clock forward. */
static void
clock_post(struct server *s, const struct req *rq, struct resp *rs)
{
	cJSON *doc = body_json(rq);
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(doc, "advance_s");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(doc, "advance_ms");
	double add = -1;

	if (cJSON_IsNumber(sec))
		add = sec->valuedouble * 1000;
	else if (cJSON_IsNumber(ms))
		add = ms->valuedouble;
	cJSON_Delete(doc);
	if (add < 0 || add > 1e12) {
		err_graph(rs, rq, 400, "BadRequest", "Send {\"advance_s\":N} or "
		    "{\"advance_ms\":N} with N >= 0.");
		return;
	}
	s->clock_offset_ms += (int64_t)add;
	clock_answer(s, rs);
}

static void
reset(struct server *s, struct resp *rs)
{
	reqlog_clear(s);
	faults_clear(s);
	throttle_clear(s);
	resp_empty(rs, 204);
}

void
control_route(struct server *s, struct req *rq, struct resp *rs)
{
	const char *what = rq->path + strlen("/_fake/");

	if (strcmp(what, "requests") == 0 && req_is(rq, "GET"))
		resp_raw(rs, 200, reqlog_print(s), ODATA_JSON);
	else if (strcmp(what, "reset") == 0 && req_is(rq, "POST"))
		reset(s, rs);
	else if (strcmp(what, "faults") == 0 && req_is(rq, "POST"))
		faults_post(s, rq, rs);
	else if (strcmp(what, "faults") == 0 && req_is(rq, "GET"))
		faults_get(s, rs);
	else if (strcmp(what, "clock") == 0 && req_is(rq, "GET"))
		clock_answer(s, rs);
	else if (strcmp(what, "clock") == 0 && req_is(rq, "POST"))
		clock_post(s, rq, rs);
	else
		err_graphf(rs, rq, 404, "NotFound", "No control route %.16s "
		    "%.100s; see tests/fakegraph/README.md.", rq->method,
		    rq->path);
}
