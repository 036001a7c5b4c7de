#include "submit.h"

#include <stdlib.h>
#include <string.h>

#include "hostapi.h"
#include "identity.h"
#include "text.h"
#include "util.h"

/* Names and the target are refused unless they are UTF-8, before any of
 * them is echoed in a message or stored. */
static int
check_utf8(const char *field, const char *s, char *err, size_t errlen)
{
	size_t at;

	if (s == NULL || text_utf8_check(s, strlen(s), &at) == 0)
		return 0;
	return errf(err, errlen, "%s: invalid UTF-8 at byte offset %zu "
	    "(0x%02x); give it as UTF-8 text (convert it with iconv -t UTF-8)",
	    field, at, (unsigned char)s[at]);
}

static int
check_target(const char *target, char *err, size_t errlen)
{
	size_t n = strlen(target);
	long at;

	if (n == 0 || n > RUN_MAX_NAME)
		return errf(err, errlen, "--target: must be 1 to %d bytes",
		    RUN_MAX_NAME);
	if ((at = text_find_control(target)) >= 0)
		return errf(err, errlen, "--target: control character at byte "
		    "offset %ld; remove it (a target is one line of text)", at);
	return 0;
}

/* The request's names, before the plugin sees anything. */
static int
check_names(struct runtime *rt, const struct submit_request *req,
    char *err, size_t errlen)
{
	if (check_utf8("TYPE", req->type, err, errlen) != 0 ||
	    check_utf8("--tenant", req->tenant, err, errlen) != 0 ||
	    check_utf8("--initiator", req->initiator, err, errlen) != 0 ||
	    check_utf8("--target", req->target, err, errlen) != 0)
		return -1;
	if (plugins_find_op(&rt->plugins, req->type) == NULL)
		return errf(err, errlen, "unknown operation type '%s'; "
		    "`oprun plugins list` shows the available ones", req->type);
	if (config_tenant(&rt->cfg, req->tenant) == NULL)
		return errf(err, errlen, "unknown tenant '%s'; add a [tenant "
		    "%s] section to %s", req->tenant, req->tenant,
		    rt->cfg.file);
	if (!config_name_valid(req->initiator))
		return errf(err, errlen, "--initiator '%s': must be 1-128 "
		    "characters of A-Z a-z 0-9 . _ - @", req->initiator);
	if (req->target != NULL && check_target(req->target, err, errlen))
		return -1;
	if (strlen(req->payload) > rt->cfg.max_payload_bytes)
		return errf(err, errlen, "payload is %zu bytes; the limit is "
		    "%llu ([runner] max_payload_bytes in %s)",
		    strlen(req->payload),
		    (unsigned long long)rt->cfg.max_payload_bytes,
		    rt->cfg.file);
	return 0;
}

/* Asks the plugin to validate, then computes the (narrowed) identity. */
static int
plugin_checks(struct runtime *rt, const struct loaded_op *op,
    const char *canonical, struct run *r, char *err, size_t errlen)
{
	struct oprun_ctx ctx = { .plugin = op->plugin, .st = rt->st,
		.cfg = &rt->cfg };
	char msg[512] = "";
	char *narrow = NULL, *ident;
	size_t cap = (size_t)rt->cfg.max_payload_bytes + 1;
	int refused = 0;

	if (hostapi_plugin_ready(op->plugin, rt->st, err, errlen) != 0)
		return -1;
	if (op->op.validate != NULL) {
		refused = op->op.validate(&hostapi_table, &ctx, canonical, msg,
		    sizeof(msg)) != 0;
		hostapi_ctx_done(&ctx);
	}
	if (refused)
		return errf(err, errlen, "%s refused the payload: %s",
		    op->op.type, msg[0] != '\0' ? msg : "no reason given");
	if (op->op.identity != NULL) {
		narrow = xcalloc(1, cap);
		if (op->op.identity(canonical, narrow, cap) != 0) {
			free(narrow);
			return errf(err, errlen, "%s: its identity hook "
			    "failed; report this to the plugin's author",
			    op->op.type);
		}
		ident = identity_canonical_object(narrow, "identity", err,
		    errlen);
		free(narrow);
		if (ident == NULL)
			return -1;
	} else {
		ident = xstrdup(canonical);
	}
	identity_hash(r->tenant, r->type, r->target, ident, r->dedupe_key);
	free(ident);
	return 0;
}

int
submit_prepare(struct runtime *rt, const struct submit_request *req,
    struct run *r, char *err, size_t errlen)
{
	const struct loaded_op *op;

	memset(r, 0, sizeof(*r));
	if (check_names(rt, req, err, errlen) != 0)
		return -1;
	op = plugins_find_op(&rt->plugins, req->type);
	r->payload = identity_canonical_object(req->payload, "payload", err,
	    errlen);
	if (r->payload == NULL)
		return -1;
	r->tenant = xstrdup(req->tenant);
	r->type = xstrdup(req->type);
	r->target = xstrdup_or_null(req->target);
	r->initiator = xstrdup(req->initiator);
	if (plugin_checks(rt, op, r->payload, r, err, errlen) != 0) {
		run_free(r);
		return -1;
	}
	r->created_at = now_ms();
	return 0;
}

int
submit_commit(struct runtime *rt, struct run *r, const char *actor,
    struct store_submit_result *res, char *err, size_t errlen)
{
	if (store_submit(rt->st, r, actor, res, err, errlen) != 0)
		return -2;
	if (!res->deduplicated)
		wake_notify(&rt->wake);
	return 0;
}

int
submit_run(struct runtime *rt, const struct submit_request *req,
    struct store_submit_result *res, char *err, size_t errlen)
{
	struct run r;
	int rc;

	if (submit_prepare(rt, req, &r, err, errlen) != 0)
		return -1;
	rc = submit_commit(rt, &r, req->actor, res, err, errlen);
	run_free(&r);
	return rc;
}
