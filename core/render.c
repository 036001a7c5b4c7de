#include "render.h"

#include <stdio.h>

#include <cjson/cJSON.h>

#include "util.h"

void
render_counts(const struct run_counts *c, char *buf, size_t len)
{
	snprintf(buf, len, "%llu of %llu processed, %llu succeeded, %llu "
	    "failed, %llu skipped", (unsigned long long)c->processed,
	    (unsigned long long)c->total, (unsigned long long)c->succeeded,
	    (unsigned long long)c->failed, (unsigned long long)c->skipped);
}

void
render_notification_text(const struct notification *n, char *buf,
    size_t len)
{
	char counts[256];

	if (n->kind == NOTIFY_QUEUED) {
		snprintf(buf, len, "run %llu (%s on %s) queued",
		    (unsigned long long)n->run_id, n->type, n->tenant);
		return;
	}
	render_counts(&n->counts, counts, sizeof(counts));
	snprintf(buf, len, "run %llu (%s on %s) finished %s: %s%s%s",
	    (unsigned long long)n->run_id, n->type, n->tenant,
	    run_state_name(n->state), counts, n->reason != NULL ? "; " : "",
	    n->reason != NULL ? n->reason : "");
}

cJSON *
render_notification_json(const struct notification *n)
{
	cJSON *o = cJSON_CreateObject();
	char text[1024], ts[32];

	render_notification_text(n, text, sizeof(text));
	format_rfc3339(n->created_at, ts, sizeof(ts));
	cJSON_AddNumberToObject(o, "id", (double)n->id);
	cJSON_AddNumberToObject(o, "run_id", (double)n->run_id);
	cJSON_AddStringToObject(o, "kind",
	    n->kind == NOTIFY_QUEUED ? "queued" : "finished");
	cJSON_AddStringToObject(o, "state", run_state_name(n->state));
	cJSON_AddBoolToObject(o, "read", n->read);
	cJSON_AddStringToObject(o, "created_at", ts);
	cJSON_AddStringToObject(o, "text", text);
	return o;
}
