/*
 * intune - /deviceManagement/{deviceConfigurations,
 * deviceCompliancePolicies, configurationPolicies} (S4, S7): list, get,
 * create, update, delete, /assignments and /assign, and the settings
 * catalog's /settings.  configurationPolicies is beta-only.
 *
 * Stored entities keep their navigation properties (assignments,
 * settings, scheduledActionsForRule) inline; output drops them unless
 * $expand asks for them, as Graph does.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const read_grants[] = {
	"DeviceManagementConfiguration.Read.All",
	"DeviceManagementConfiguration.ReadWrite.All", NULL
};
static const char *const write_grants[] = {
	"DeviceManagementConfiguration.ReadWrite.All", NULL
};

static const enum pager coll_pager[COLL_N] = {
	PAGE_DEVCONF, PAGE_COMPLIANCE, PAGE_CONFPOL
};

/* What a request's $expand asks for. */
struct expand {
	enum coll c;
	bool assignments;
	bool settings;
	bool actions;
};

/* True if $expand names name at its top level ("a,b($expand=c)"). */
static bool
expand_has(const struct req *rq, const char *name)
{
	const char *p = req_arg(rq, "$expand"), *start;
	size_t n = strlen(name);
	int depth = 0;

	for (start = p; p != NULL; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if (depth == 0 && (*p == ',' || *p == '\0' || *p == '(')) {
			while (*start == ' ')
				start++;
			if ((size_t)(p - start) >= n &&
			    strncmp(start, name, n) == 0 &&
			    (start[n] == ',' || start[n] == '(' ||
			    start[n] == '\0' || start[n] == ' '))
				return true;
		}
		if (depth == 0 && *p == ',')
			start = p + 1;
		if (*p == '\0')
			break;
	}
	return false;
}

static struct expand
expand_of(const struct req *rq, enum coll c)
{
	struct expand x = {c, false, false, false};

	x.assignments = expand_has(rq, "assignments");
	x.settings = c == COLL_CONFPOL && expand_has(rq, "settings");
	x.actions = c == COLL_COMPLIANCE &&
	    expand_has(rq, "scheduledActionsForRule");
	return x;
}

static cJSON *
project_policy(const cJSON *item, const struct req *rq, void *ctx)
{
	const struct expand *x = ctx;
	cJSON *o = cJSON_Duplicate(item, 1);
	int na = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "assignments"));

	(void)rq;
	if (x->c == COLL_CONFPOL) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "settingCount");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "isAssigned");
		cJSON_AddNumberToObject(o, "settingCount", cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(o, "settings")));
		cJSON_AddBoolToObject(o, "isAssigned", na > 0);
		if (!x->settings)
			cJSON_DeleteItemFromObjectCaseSensitive(o, "settings");
	}
	if (x->c == COLL_COMPLIANCE && !x->actions)
		cJSON_DeleteItemFromObjectCaseSensitive(o,
		    "scheduledActionsForRule");
	if (!x->assignments)
		cJSON_DeleteItemFromObjectCaseSensitive(o, "assignments");
	return o;
}

static cJSON *
project_copy(const cJSON *item, const struct req *rq, void *ctx)
{
	(void)rq;
	(void)ctx;
	return cJSON_Duplicate(item, 1);
}

/* The request body as a JSON object, or NULL with rs filled. */
static cJSON *
body_object(const struct req *rq, struct resp *rs)
{
	cJSON *doc;

	if (rq->body == NULL || rq->body_len == 0) {
		err_graph(rs, rq, 400, "BadRequest",
		    "Empty Payload. JSON content expected.");
		return NULL;
	}
	doc = cJSON_ParseWithLength(rq->body, rq->body_len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		err_graph(rs, rq, 400, "BadRequest", "Unable to read JSON "
		    "request payload. Please ensure Content-Type header is set "
		    "and payload is of valid JSON format.");
		return NULL;
	}
	return doc;
}

/* strict_check as a 400 ModelValidationFailure naming the property. */
static int
strict(const struct server *s, const struct req *rq, struct resp *rs,
    const cJSON *body, enum coll c, enum write_kind w)
{
	const char *why = "";
	char prop[256];

	if (strict_check(body, c, w, prop, sizeof(prop), &why) == 0)
		return 0;
	err_intunef(rs, s, rq, 400, "ModelValidationFailure", "Invalid "
	    "property '%s': it %s.", prop, why);
	return -1;
}

static void
not_found(struct resp *rs, const struct server *s, const struct req *rq,
    const char *what, const char *id)
{
	err_intunef(rs, s, rq, 404, "ResourceNotFound", "No %s with id "
	    "'%.80s' exists in this tenant.", what, id);
}

/* ---- collections ----------------------------------------------------- */

static void
policy_list(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c)
{
	const char *filter = req_arg(rq, "$filter");
	struct expand x = expand_of(rq, c);
	struct qnode *q = NULL;
	cJSON **items = NULL;
	char err[200], ctx[64];
	struct page pg;
	size_t n;

	if (req_arg(rq, "$search") != NULL || req_arg(rq, "$skip") != NULL) {
		err_graph(rs, rq, 400, "BadRequest", "$search and $skip are "
		    "not supported on this resource by fakegraph.");
		return;
	}
	if (filter != NULL && query_parse_filter(filter, &q, err,
	    sizeof(err)) != 0) {
		err_graphf(rs, rq, 400, "BadRequest", "Invalid $filter: %s.",
		    err);
		return;
	}
	if (paging_begin(s, rq, rs, t, coll_pager[c], "BadRequest", &pg) == 0) {
		n = paging_collect(t->coll[c], q, NULL, &items);
		snprintf(ctx, sizeof(ctx), "deviceManagement/%s", coll_name(c));
		paging_respond(s, rq, rs, t, &pg, items, n, project_policy, &x,
		    ctx);
	}
	free(items);
	query_free(q);
}

static void
policy_get(const struct server *s, const struct req *rq, struct resp *rs,
    const cJSON *item, enum coll c)
{
	struct expand x = expand_of(rq, c);
	cJSON *o = project_policy(item, rq, &x);
	char ctx[80];

	paging_select(o, rq);
	snprintf(ctx, sizeof(ctx), "deviceManagement/%s/$entity",
	    coll_name(c));
	resp_json(rs, 200, paging_entity(s, rq, o, ctx));
}

/* Compliance policies need exactly one block action (A3). */
static int
block_actions(const cJSON *body)
{
	const cJSON *rule, *act;
	int n = 0;

	cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(body,
	    "scheduledActionsForRule")) {
		cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(rule,
		    "scheduledActionConfigurations")) {
			if (str_ieq(data_str(act, "actionType"), "block"))
				n++;
		}
	}
	return n;
}

/* Family rules of a POST beyond strict_check.  0, or -1 with rs set. */
static int
create_rules(const struct server *s, const struct req *rq, struct resp *rs,
    cJSON *body, enum coll c)
{
	static const char *const required[] = {"name", "platforms",
	    "technologies", NULL};
	size_t i;

	if (c != COLL_CONFPOL && strict_type(s, rq, rs, body, c) != 0)
		return -1;
	if (c == COLL_COMPLIANCE && block_actions(body) != 1) {
		err_intune(rs, s, rq, 400, "BadRequest", "Compliance policy "
		    "must have one and only one block scheduled action");
		return -1;
	}
	if (c != COLL_CONFPOL)
		return 0;
	for (i = 0; required[i] != NULL; i++) {
		if (data_str(body, required[i]) == NULL) {
			err_intunef(rs, s, rq, 400, "ModelValidationFailure",
			    "Property '%s' is required to create a settings "
			    "catalog policy.", required[i]);
			return -1;
		}
	}
	return 0;
}

static void
policy_create(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c)
{
	cJSON *body = body_object(rq, rs), *settings;
	struct expand x = {c, false, true, true};
	char ctx[80];

	if (body == NULL)
		return;
	if (strict(s, rq, rs, body, c, WRITE_POST) != 0 ||
	    create_rules(s, rq, rs, body, c) != 0) {
		cJSON_Delete(body);
		return;
	}
	cJSON_AddArrayToObject(body, "assignments");
	if (c == COLL_CONFPOL) {
		settings = cJSON_GetObjectItemCaseSensitive(body, "settings");
		if (!cJSON_IsArray(settings)) {
			cJSON_DeleteItemFromObjectCaseSensitive(body,
			    "settings");
			settings = cJSON_AddArrayToObject(body, "settings");
		}
		data_number_settings(settings);
		cJSON_AddNullToObject(body, "creationSource");
	}
	data_stamp_new(body);
	cJSON_AddItemToArray(t->coll[c], body);
	snprintf(ctx, sizeof(ctx), "deviceManagement/%s/$entity",
	    coll_name(c));
	resp_json(rs, 201, paging_entity(s, rq, project_policy(body, rq, &x),
	    ctx));
}

/* PATCH and PUT may not change what a policy is. */
static int
keeps_identity(const struct server *s, const struct req *rq,
    struct resp *rs, const cJSON *item, const cJSON *body)
{
	static const char *const fixed[] = {"platforms", "technologies",
	    NULL};
	const char *type = data_str(body, "@odata.type");
	const char *v;
	size_t i;

	if (type != NULL && !str_ieq(type, data_str(item, "@odata.type"))) {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure", "The "
		    "@odata.type '%.100s' differs from the stored type "
		    "'%.100s'; an update must keep the derived type.", type,
		    data_str(item, "@odata.type"));
		return -1;
	}
	for (i = 0; fixed[i] != NULL; i++) {
		v = data_str(body, fixed[i]);
		if (cJSON_GetObjectItemCaseSensitive(body, fixed[i]) != NULL &&
		    (v == NULL || !str_ieq(v, data_str(item, fixed[i])))) {
			err_intune(rs, s, rq, 400, "BadRequest", "Platform, "
			    "PolicyType, and CreationSource cannot be changed "
			    "once created.");
			return -1;
		}
	}
	return 0;
}

static void
merge_into(cJSON *item, const cJSON *body)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, body) {
		if (cJSON_GetObjectItemCaseSensitive(item, e->string) != NULL)
			cJSON_ReplaceItemInObjectCaseSensitive(item, e->string,
			    cJSON_Duplicate(e, 1));
		else
			cJSON_AddItemToObject(item, e->string,
			    cJSON_Duplicate(e, 1));
	}
}

static void
policy_patch(const struct server *s, const struct req *rq, struct resp *rs,
    cJSON *item, enum coll c)
{
	cJSON *body = body_object(rq, rs);

	if (body == NULL)
		return;
	if (strict(s, rq, rs, body, c, WRITE_PATCH) == 0 &&
	    keeps_identity(s, rq, rs, item, body) == 0) {
		merge_into(item, body);
		data_stamp_update(item);
		resp_empty(rs, 204);
	}
	cJSON_Delete(body);
}

/* PUT replaces a settings catalog policy whole, settings included; the
 * server-owned and fixed properties carry over. */
static void
policy_put(const struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *item)
{
	static const char *const keep[] = {"id", "createdDateTime",
	    "lastModifiedDateTime", "version", "creationSource", "platforms",
	    "technologies", "assignments", NULL};
	cJSON *body = body_object(rq, rs), *v;
	size_t i;

	if (body == NULL)
		return;
	if (strict(s, rq, rs, body, COLL_CONFPOL, WRITE_PUT) != 0 ||
	    keeps_identity(s, rq, rs, item, body) != 0) {
		cJSON_Delete(body);
		return;
	}
	for (i = 0; keep[i] != NULL; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(body, keep[i]);
		v = cJSON_DetachItemFromObjectCaseSensitive(item, keep[i]);
		if (v != NULL)
			cJSON_AddItemToObject(body, keep[i], v);
	}
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "settings"))) {
		cJSON_DeleteItemFromObjectCaseSensitive(body, "settings");
		cJSON_AddArrayToObject(body, "settings");
	}
	data_number_settings(cJSON_GetObjectItemCaseSensitive(body,
	    "settings"));
	data_stamp_update(body);
	cJSON_ReplaceItemViaPointer(t->coll[COLL_CONFPOL], item, body);
	resp_empty(rs, 204);
}

/* ---- assignments and settings ---------------------------------------- */

static void
sub_list(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, const cJSON *item, enum coll c,
    const char *sub)
{
	enum pager kind = strcmp(sub, "settings") == 0 ? PAGE_SETTINGS :
	    PAGE_ASSIGNMENTS;
	cJSON **items = NULL;
	struct page pg;
	char ctx[200];
	size_t n;

	if (paging_begin(s, rq, rs, t, kind, "BadRequest", &pg) != 0)
		return;
	n = paging_collect(cJSON_GetObjectItemCaseSensitive(item, sub), NULL,
	    NULL, &items);
	snprintf(ctx, sizeof(ctx), "deviceManagement/%s('%.60s')/%s",
	    coll_name(c), data_str(item, "id"), sub);
	paging_respond(s, rq, rs, t, &pg, items, n, project_copy, NULL, ctx);
	free(items);
}

static void
sub_get(const struct server *s, const struct req *rq, struct resp *rs,
    const cJSON *item, const char *sub, const char *id)
{
	const cJSON *e = data_find(cJSON_GetObjectItemCaseSensitive(item, sub),
	    id);

	if (e == NULL) {
		not_found(rs, s, rq, strcmp(sub, "settings") == 0 ? "setting" :
		    "assignment", id);
		return;
	}
	resp_json(rs, 200, cJSON_Duplicate(e, 1));
}

/* POST /assign replaces the whole set; [] clears it. */
static void
policy_assign(const struct server *s, const struct req *rq,
    struct resp *rs, const struct tenant *t, cJSON *item, enum coll c)
{
	cJSON *body = body_object(rq, rs), *list, *doc;
	char *ctx;

	if (body == NULL)
		return;
	list = cJSON_GetObjectItemCaseSensitive(body, "assignments");
	if (strict_assign(s, rq, rs, t, list) == 0) {
		cJSON_ReplaceItemInObjectCaseSensitive(item, "assignments",
		    cJSON_Duplicate(list, 1));
		data_fix_assignments(item, c);
		doc = cJSON_CreateObject();
		ctx = paging_context(s, rq, "Collection(microsoft.graph."
		    "deviceAndAppManagementAssignment)");
		cJSON_AddStringToObject(doc, "@odata.context", ctx);
		free(ctx);
		cJSON_AddItemToObject(doc, "value", cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(item, "assignments"), 1));
		resp_json(rs, 200, doc);
	}
	cJSON_Delete(body);
}

/* ---- dispatch -------------------------------------------------------- */

static bool
is(const struct req *rq, const char *method)
{
	return strcmp(rq->method, method) == 0;
}

static void
one_item(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c, cJSON *item)
{
	if (is(rq, "GET"))
		policy_get(s, rq, rs, item, c);
	else if (is(rq, "PATCH"))
		policy_patch(s, rq, rs, item, c);
	else if (is(rq, "PUT") && c == COLL_CONFPOL)
		policy_put(s, rq, rs, t, item);
	else if (is(rq, "DELETE")) {
		cJSON_DeleteItemFromArray(t->coll[c], data_index(t->coll[c],
		    item));
		resp_empty(rs, 204);
	} else
		route_no_route(rs, s, rq);
}

static void
item_route(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c, char **seg, size_t n)
{
	cJSON *item = data_find(t->coll[c], seg[2]);
	const char *sub = n > 3 ? seg[3] : "";
	bool settings = c == COLL_CONFPOL && strcmp(sub, "settings") == 0;
	bool assignments = strcmp(sub, "assignments") == 0;

	if (n > 3 && !settings && !assignments && strcmp(sub, "assign") != 0) {
		err_segment(rs, rq, seg[3]);
		return;
	}
	if (item == NULL) {
		not_found(rs, s, rq, coll_name(c), seg[2]);
		return;
	}
	if (n == 3)
		one_item(s, rq, rs, t, c, item);
	else if (n == 4 && (settings || assignments) && is(rq, "GET"))
		sub_list(s, rq, rs, t, item, c, seg[3]);
	else if (n == 5 && (settings || assignments) && is(rq, "GET"))
		sub_get(s, rq, rs, item, seg[3], seg[4]);
	else if (n == 4 && strcmp(sub, "assign") == 0 && is(rq, "POST"))
		policy_assign(s, rq, rs, t, item, c);
	else
		route_no_route(rs, s, rq);
}

static int
coll_lookup(const char *name, enum coll *c)
{
	int i;

	for (i = 0; i < COLL_N; i++) {
		if (strcmp(name, coll_name((enum coll)i)) == 0) {
			*c = (enum coll)i;
			return 0;
		}
	}
	return -1;
}

/* Permission (403) and write throttling (429).  0 to go on. */
static int
admit(struct server *s, const struct req *rq, struct resp *rs,
    const struct token *t)
{
	bool write = !is(rq, "GET");
	char num[24];
	long wait_s;

	if (!auth_has_any(t, write ? write_grants : read_grants)) {
		err_intunef(rs, s, rq, 403, "Forbidden", "Application is not "
		    "authorized to perform this operation. Application must "
		    "have one of the following scopes: %s",
		    write ? "DeviceManagementConfiguration.ReadWrite.All" :
		    "DeviceManagementConfiguration.Read.All, "
		    "DeviceManagementConfiguration.ReadWrite.All");
		return -1;
	}
	if (write && throttle_take(s, t, &wait_s) != 0) {
		err_graph(rs, rq, 429, "TooManyRequests", "Too many requests.");
		snprintf(num, sizeof(num), "%ld", wait_s);
		resp_header(rs, "Retry-After", num);
		return -1;
	}
	return 0;
}

void
intune_route(struct server *s, struct req *rq, struct resp *rs,
    const struct token *t, const char *ver, char **seg, size_t n)
{
	enum coll c;

	if (n < 2) {
		route_no_route(rs, s, rq);
		return;
	}
	if (coll_lookup(seg[1], &c) != 0 ||
	    (c == COLL_CONFPOL && strcmp(ver, "beta") != 0)) {
		err_segment(rs, rq, seg[1]);
		return;
	}
	if (n > 5) {
		err_segment(rs, rq, seg[5]);
		return;
	}
	if (admit(s, rq, rs, t) != 0)
		return;
	if (n == 2 && is(rq, "GET"))
		policy_list(s, rq, rs, t->tenant, c);
	else if (n == 2 && is(rq, "POST"))
		policy_create(s, rq, rs, t->tenant, c);
	else if (n == 2)
		route_no_route(rs, s, rq);
	else
		item_route(s, rq, rs, t->tenant, c, seg, n);
}
