#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "text.h"
#include "util.h"

static const char *const state_names[RUN_STATE_COUNT] = {
	"queued", "running", "succeeded", "partial", "failed", "canceled",
};

const char *
run_state_name(enum run_state s)
{
	if ((unsigned)s >= RUN_STATE_COUNT)
		return "invalid";
	return state_names[s];
}

int
run_state_parse(const char *name, enum run_state *out)
{
	for (int i = 0; i < RUN_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum run_state)i;
			return 0;
		}
	}
	return -1;
}

int
run_state_terminal(enum run_state s)
{
	return s == RUN_SUCCEEDED || s == RUN_PARTIAL || s == RUN_FAILED ||
	    s == RUN_CANCELED;
}

/*
 * The lifecycle of docs/DESIGN.md section 1, and the only statement of
 * it:
 *   queued  -> running (claim) | canceled (cancel) | failed (dispatch)
 *   running -> succeeded | partial | failed | canceled (finish, cancel,
 *              timeout, crash) | queued (crash of an idempotent run)
 * Terminal states never change.
 */
int
run_transition_allowed(enum run_state from, enum run_state to)
{
	switch (from) {
	case RUN_QUEUED:
		return to == RUN_RUNNING || to == RUN_CANCELED ||
		    to == RUN_FAILED;
	case RUN_RUNNING:
		return to == RUN_SUCCEEDED || to == RUN_PARTIAL ||
		    to == RUN_FAILED || to == RUN_CANCELED || to == RUN_QUEUED;
	default:
		return 0;
	}
}

void
run_free(struct run *r)
{
	free(r->tenant);
	free(r->type);
	free(r->target);
	free(r->initiator);
	free(r->payload);
	run_reset_attempt(r);
	for (size_t i = 0; i < r->nhistory; i++) {
		free(r->history[i].actor);
		free(r->history[i].reason);
	}
	free(r->history);
	memset(r, 0, sizeof(*r));
}

/*
 * Copies at most max bytes of s, never cutting a UTF-8 sequence.  Every
 * text a run records passes here (plugin reasons, failure items and
 * messages, history), so invalid UTF-8 from a plugin or from Graph is
 * replaced by U+FFFD (text.h) before it can be stored.
 */
static char *
dup_truncated(const char *s, size_t max)
{
	char *p = text_utf8_repair(s);
	size_t n = strlen(p);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
		p[n] = '\0';
	}
	return p;
}

void
run_reset_attempt(struct run *r)
{
	for (size_t i = 0; i < r->nfailures; i++) {
		free(r->failures[i].item);
		free(r->failures[i].message);
	}
	free(r->failures);
	r->failures = NULL;
	r->nfailures = 0;
	r->failures_total = 0;
	memset(&r->counts, 0, sizeof(r->counts));
	run_set_text(&r->result, NULL, 0);
	run_set_text(&r->reason, NULL, 0);
	r->started_at = 0;
}

void
run_set_text(char **dst, const char *src, size_t max)
{
	free(*dst);
	*dst = src == NULL ? NULL : dup_truncated(src, max);
}

void
run_add_event(struct run *r, enum run_state state, int64_t at,
    const char *actor, const char *reason)
{
	struct run_event *ev;

	if (r->nhistory == RUN_MAX_HISTORY) {
		free(r->history[0].actor);
		free(r->history[0].reason);
		memmove(r->history, r->history + 1,
		    (r->nhistory - 1) * sizeof(*r->history));
		r->nhistory--;
	}
	r->history = xrealloc(r->history,
	    (r->nhistory + 1) * sizeof(*r->history));
	ev = &r->history[r->nhistory++];
	ev->state = state;
	ev->at_ms = at;
	ev->actor = dup_truncated(actor, RUN_MAX_NAME);
	ev->reason = reason == NULL ? NULL :
	    dup_truncated(reason, RUN_MAX_MESSAGE);
}

void
run_add_failure(struct run *r, const char *item, const char *message)
{
	struct run_failure *f;

	r->failures_total++;
	if (r->nfailures == RUN_MAX_FAILURES)
		return;
	r->failures = xrealloc(r->failures,
	    (r->nfailures + 1) * sizeof(*r->failures));
	f = &r->failures[r->nfailures++];
	f->item = dup_truncated(item != NULL ? item : "", RUN_MAX_ITEM);
	f->message = dup_truncated(message != NULL ? message : "failed",
	    RUN_MAX_MESSAGE);
}

void
run_dedupe_hex(const struct run *r, char *buf)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		buf[2 * i] = hex[r->dedupe_key[i] >> 4];
		buf[2 * i + 1] = hex[r->dedupe_key[i] & 0xF];
	}
	buf[64] = '\0';
}

static void
add_time(cJSON *obj, const char *name, int64_t ms)
{
	char buf[32];

	if (ms == 0) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	format_rfc3339(ms, buf, sizeof(buf));
	cJSON_AddStringToObject(obj, name, buf);
}

static void
add_string_or_null(cJSON *obj, const char *name, const char *s)
{
	if (s == NULL)
		cJSON_AddNullToObject(obj, name);
	else
		cJSON_AddStringToObject(obj, name, s);
}

/*
 * Adds a stored JSON text (the canonical payload, the result) as it is:
 * the stored text is the source of truth, so numbers beyond 2^53 keep
 * every digit (a cJSON number is a double).  A damaged record - not JSON,
 * not UTF-8 - still renders, as a string, rather than vanishing or making
 * the output invalid.
 */
static void
add_json_text(cJSON *obj, const char *name, const char *text)
{
	cJSON *v;
	char *fixed;
	size_t bad;

	if (text == NULL) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	v = cJSON_Parse(text);
	if (v != NULL && text_utf8_check(text, strlen(text), &bad) == 0) {
		cJSON_Delete(v);
		cJSON_AddItemToObject(obj, name, cJSON_CreateRaw(text));
		return;
	}
	cJSON_Delete(v);
	fixed = text_utf8_repair(text);
	cJSON_AddItemToObject(obj, name, cJSON_CreateString(fixed));
	free(fixed);
}

static cJSON *
counts_to_json(const struct run_counts *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "total", (double)c->total);
	cJSON_AddNumberToObject(o, "processed", (double)c->processed);
	cJSON_AddNumberToObject(o, "succeeded", (double)c->succeeded);
	cJSON_AddNumberToObject(o, "failed", (double)c->failed);
	cJSON_AddNumberToObject(o, "skipped", (double)c->skipped);
	return o;
}

static cJSON *
failures_to_json(const struct run *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *items = cJSON_AddArrayToObject(o, "items");

	cJSON_AddNumberToObject(o, "total", (double)r->failures_total);
	for (size_t i = 0; i < r->nfailures; i++) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "item", r->failures[i].item);
		cJSON_AddStringToObject(f, "message", r->failures[i].message);
		cJSON_AddItemToArray(items, f);
	}
	return o;
}

static cJSON *
history_to_json(const struct run *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < r->nhistory; i++) {
		const struct run_event *ev = &r->history[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "state", run_state_name(ev->state));
		add_time(e, "at", ev->at_ms);
		cJSON_AddStringToObject(e, "actor", ev->actor);
		add_string_or_null(e, "reason", ev->reason);
		cJSON_AddItemToArray(a, e);
	}
	return a;
}

cJSON *
run_to_json(const struct run *r, int detail)
{
	cJSON *o = cJSON_CreateObject();
	char hex[65];

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddStringToObject(o, "tenant", r->tenant);
	cJSON_AddStringToObject(o, "type", r->type);
	add_string_or_null(o, "target", r->target);
	cJSON_AddStringToObject(o, "initiator", r->initiator);
	add_json_text(o, "payload", r->payload);
	run_dedupe_hex(r, hex);
	cJSON_AddStringToObject(o, "dedupe_key", hex);
	cJSON_AddStringToObject(o, "state", run_state_name(r->state));
	cJSON_AddNumberToObject(o, "attempt", r->attempt);
	cJSON_AddBoolToObject(o, "cancel_requested",
	    (r->flags & RUN_FLAG_CANCEL_REQUESTED) != 0);
	cJSON_AddItemToObject(o, "summary", counts_to_json(&r->counts));
	cJSON_AddItemToObject(o, "failures", failures_to_json(r));
	add_json_text(o, "result", r->result);
	add_string_or_null(o, "reason", r->reason);
	add_time(o, "created_at", r->created_at);
	add_time(o, "started_at", r->started_at);
	add_time(o, "finished_at", r->finished_at);
	if (detail)
		cJSON_AddItemToObject(o, "history", history_to_json(r));
	return o;
}
