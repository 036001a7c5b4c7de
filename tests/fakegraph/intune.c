/*
 * intune - the /deviceManagement collections of S4 and S7, driven by the
 * family table in data.c: list, get, create, update, delete, the
 * navigation lists (/assignments, /settings, /presentations, ...) and
 * the actions /assign, /scheduleActionsForRules and
 * getOmaSettingPlainTextValue.  Administrative templates' definition
 * values live in gpo.c.
 *
 * Stored entities keep their navigation properties (assignments,
 * settings, scheduledActionsForRule, definitionValues, presentations)
 * inline; output drops them unless $expand asks for them, as Graph does.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No family has more navigation properties than this. */
#define MAX_NAVS	4

/* What a request's $expand asks for, and how to project an entity. */
struct expand {
	enum coll c;
	const struct tenant *t;
	bool nav[MAX_NAVS];	/* by index into the family's navs */
	bool empty_assignments;	/* $expand=assignments without any */
	bool list;		/* an item of a list, not a single GET */
};

bool
intune_expand_has(const struct req *rq, const char *name)
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

static bool
has_nav(const struct family *f, const char *name)
{
	const char *const *k;

	for (k = f->navs; *k != NULL; k++)
		if (strcmp(*k, name) == 0)
			return true;
	return false;
}

static struct expand
expand_init(const struct tenant *t, enum coll c, bool list)
{
	struct expand x;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.t = t;
	x.list = list;
	return x;
}

static struct expand
expand_of(const struct req *rq, const struct tenant *t, enum coll c,
    bool list)
{
	const struct family *f = family_of(c);
	struct expand x = expand_init(t, c, list);
	size_t i;

	for (i = 0; i < MAX_NAVS && f->navs[i] != NULL; i++)
		x.nav[i] = intune_expand_has(rq, f->navs[i]);
	/* Scope tags and filters answer an expanded assignments with an
	 * empty list (IntuneManagement notes this for scope tags). */
	x.empty_assignments = !has_nav(f, "assignments") &&
	    intune_expand_has(rq, "assignments");
	return x;
}

/* What a create returns: the settings and scheduled actions it was
 * created with, but neither assignments nor definition values, which
 * are written separately. */
static struct expand
expand_created(const struct tenant *t, enum coll c)
{
	const struct family *f = family_of(c);
	struct expand x = expand_init(t, c, false);
	size_t i;

	for (i = 0; i < MAX_NAVS && f->navs[i] != NULL; i++)
		x.nav[i] = strcmp(f->navs[i], "assignments") != 0 &&
		    strcmp(f->navs[i], "definitionValues") != 0;
	return x;
}

/* Definition values in their output form, without their own
 * navigation properties. */
static void
project_values(cJSON *o, const struct tenant *t)
{
	cJSON *out = cJSON_CreateArray(), *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o,
	    "definitionValues"))
		cJSON_AddItemToArray(out, gpo_project_value(t, e, false,
		    false));
	data_set(o, "definitionValues", out);
}

static cJSON *
project_policy(const cJSON *item, const struct req *rq, void *ctx)
{
	const struct expand *x = ctx;
	const struct family *f = family_of(x->c);
	cJSON *o = cJSON_Duplicate(item, 1);
	int na = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "assignments"));
	size_t i;

	(void)rq;
	if (x->c == COLL_CONFPOL) {
		data_set(o, "settingCount", cJSON_CreateNumber(
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
		    "settings"))));
		data_set(o, "isAssigned", cJSON_CreateBool(na > 0));
	}
	for (i = 0; i < MAX_NAVS && f->navs[i] != NULL; i++) {
		if (!x->nav[i])
			cJSON_DeleteItemFromObjectCaseSensitive(o, f->navs[i]);
		else if (strcmp(f->navs[i], "definitionValues") == 0)
			project_values(o, x->t);
	}
	/* Lists leave the script out; GET the item for it (A1). */
	if (x->c == COLL_SCRIPTS && x->list)
		data_set(o, "scriptContent", cJSON_CreateNull());
	if (x->empty_assignments)
		cJSON_AddArrayToObject(o, "assignments");
	return o;
}

static cJSON *
project_copy(const cJSON *item, const struct req *rq, void *ctx)
{
	(void)rq;
	(void)ctx;
	return cJSON_Duplicate(item, 1);
}

/* The first member name that appears twice in one object of v, at any
 * depth, or NULL.  cJSON keeps both, and the checks would see only one. */
static const char *
duplicate_member(const cJSON *v)
{
	const cJSON *e, *f;
	const char *dup;

	cJSON_ArrayForEach(e, v) {
		for (f = e->next; cJSON_IsObject(v) && f != NULL; f = f->next)
			if (strcmp(e->string, f->string) == 0)
				return e->string;
		if ((dup = duplicate_member(e)) != NULL)
			return dup;
	}
	return NULL;
}

cJSON *
intune_body(const struct req *rq, struct resp *rs)
{
	const char *dup;
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
	if ((dup = duplicate_member(doc)) != NULL) {
		err_graphf(rs, rq, 400, "BadRequest", "The property '%.100s' "
		    "appears more than once in the request payload.", dup);
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

static int
check_strict(const struct server *s, const struct req *rq, struct resp *rs,
    const cJSON *body, enum coll c, enum write_kind w)
{
	const char *why = "";
	char prop[256];

	if (strict_check(body, c, w, prop, sizeof(prop), &why) == 0)
		return 0;
	err_invalid(rs, s, rq, prop, why);
	return -1;
}

void
intune_not_found(struct resp *rs, const struct server *s,
    const struct req *rq, const char *what, const char *id)
{
	err_intunef(rs, s, rq, 404, "ResourceNotFound", "No %s with id "
	    "'%.80s' exists in this tenant.", what, id);
}

static void
entity_respond(const struct server *s, const struct req *rq,
    struct resp *rs, cJSON *o, enum coll c, int status)
{
	char name[80];

	snprintf(name, sizeof(name), "deviceManagement/%s/$entity",
	    coll_name(c));
	resp_json(rs, status, paging_entity(s, rq, o, name));
}

/* ---- collections ----------------------------------------------------- */

static void
policy_list(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c)
{
	const char *filter = req_arg(rq, "$filter");
	struct expand x = expand_of(rq, t, c, true);
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
	if (paging_begin(s, rq, rs, t, (enum pager)c, "BadRequest",
	    &pg) == 0) {
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
    const struct tenant *t, const cJSON *item, enum coll c)
{
	struct expand x = expand_of(rq, t, c, false);
	cJSON *o = project_policy(item, rq, &x);

	paging_select(o, rq);
	entity_respond(s, rq, rs, o, c, 200);
}

/* Compliance policies need exactly one block action (A3). */
static int
block_actions(const cJSON *rules)
{
	const cJSON *rule, *act;
	int n = 0;

	cJSON_ArrayForEach(rule, rules) {
		cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(rule,
		    "scheduledActionConfigurations")) {
			if (str_ieq(data_str(act, "actionType"), "block"))
				n++;
		}
	}
	return n;
}

static int
one_block_action(const struct server *s, const struct req *rq,
    struct resp *rs, const cJSON *rules)
{
	if (block_actions(rules) == 1)
		return 0;
	err_intune(rs, s, rq, 400, "BadRequest", "Compliance policy must have "
	    "one and only one block scheduled action");
	return -1;
}

/* Family rules of a POST beyond strict_check.  0, or -1 with rs set. */
static int
create_rules(const struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *body, enum coll c)
{
	const struct family *f = family_of(c);
	const cJSON *rules;
	const char *const *k;

	if (f->typed && strict_type(s, rq, rs, body, c) != 0)
		return -1;
	rules = cJSON_GetObjectItemCaseSensitive(body,
	    "scheduledActionsForRule");
	if (c == COLL_COMPLIANCE && rules != NULL && strict_actions(s, rq, rs,
	    body, "scheduledActionsForRule") != 0)
		return -1;
	if (c == COLL_COMPLIANCE && one_block_action(s, rq, rs, rules) != 0)
		return -1;
	for (k = f->required; *k != NULL; k++) {
		if (data_str(body, *k) == NULL) {
			err_intunef(rs, s, rq, 400, "ModelValidationFailure",
			    "Property '%s' is required to create a %s entity.",
			    *k, f->name);
			return -1;
		}
	}
	return strict_values(s, rq, rs, t, body, c);
}

/* A navigation list the entity must have, numbered as the server does. */
static void
fresh_navs(cJSON *body, enum coll c)
{
	const struct family *f = family_of(c);
	const char *const *k;
	cJSON *v;

	for (k = f->navs; *k != NULL; k++) {
		v = cJSON_GetObjectItemCaseSensitive(body, *k);
		if (!cJSON_IsArray(v))
			data_set(body, *k, cJSON_CreateArray());
	}
	if (c == COLL_CONFPOL) {
		data_number_settings(cJSON_GetObjectItemCaseSensitive(body,
		    "settings"));
		cJSON_AddNullToObject(body, "creationSource");
	}
	if (c == COLL_COMPLIANCE)
		data_number_actions(body);
	if (c == COLL_SCOPETAGS)
		data_set(body, "isBuiltIn", cJSON_CreateFalse());
}

static void
policy_create(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c)
{
	cJSON *body = intune_body(rq, rs);
	struct expand x = expand_created(t, c);

	if (body == NULL)
		return;
	if (check_strict(s, rq, rs, body, c, WRITE_POST) != 0 ||
	    create_rules(s, rq, rs, t, body, c) != 0) {
		cJSON_Delete(body);
		return;
	}
	fresh_navs(body, c);
	if (c == COLL_DEVCONF)
		data_seal_oma(t, body);
	data_stamp_new(t, body, c);
	cJSON_AddItemToArray(t->coll[c], body);
	entity_respond(s, rq, rs, project_policy(body, rq, &x), c, 201);
}

/* PATCH and PUT may not change what an entity is. */
static int
keeps_identity(const struct server *s, const struct req *rq,
    struct resp *rs, const cJSON *item, const cJSON *body, enum coll c)
{
	const struct family *f = family_of(c);
	const char *type = data_str(body, "@odata.type");
	const char *stored = data_str(item, "@odata.type");
	const char *const *k;
	const char *v;

	/* Families without a stored type take any (Graph ignores it). */
	if (type != NULL && stored != NULL && !str_ieq(type, stored)) {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure", "The "
		    "@odata.type '%.100s' differs from the stored type "
		    "'%.100s'; an update must keep the derived type.", type,
		    stored);
		return -1;
	}
	for (k = f->fixed; *k != NULL; k++) {
		v = data_str(body, *k);
		if (cJSON_GetObjectItemCaseSensitive(body, *k) != NULL &&
		    (v == NULL || !str_ieq(v, data_str(item, *k)))) {
			err_intune(rs, s, rq, 400, "BadRequest", f->fixed_msg);
			return -1;
		}
	}
	return 0;
}

/* The built-in scope tag "0" cannot be changed or deleted. */
static int
changeable(const struct server *s, const struct req *rq, struct resp *rs,
    const cJSON *item, enum coll c)
{
	if (c != COLL_SCOPETAGS || !cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(item, "isBuiltIn")))
		return 0;
	err_intune(rs, s, rq, 400, "BadRequest", "The built-in scope tag "
	    "'Default' cannot be changed or deleted.");
	return -1;
}

static void
merge_into(cJSON *item, const cJSON *body)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, body)
		data_set(item, e->string, cJSON_Duplicate(e, 1));
}

static void
policy_patch(const struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *item, enum coll c)
{
	cJSON *body = intune_body(rq, rs);

	if (body == NULL)
		return;
	if (check_strict(s, rq, rs, body, c, WRITE_PATCH) == 0 &&
	    keeps_identity(s, rq, rs, item, body, c) == 0 &&
	    changeable(s, rq, rs, item, c) == 0 &&
	    strict_values(s, rq, rs, t, body, c) == 0) {
		merge_into(item, body);
		if (c == COLL_DEVCONF)
			data_seal_oma(t, item);
		data_stamp_update(item, c);
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
	cJSON *body = intune_body(rq, rs), *v;
	size_t i;

	if (body == NULL)
		return;
	if (check_strict(s, rq, rs, body, COLL_CONFPOL, WRITE_PUT) != 0 ||
	    keeps_identity(s, rq, rs, item, body, COLL_CONFPOL) != 0 ||
	    strict_values(s, rq, rs, t, body, COLL_CONFPOL) != 0) {
		cJSON_Delete(body);
		return;
	}
	for (i = 0; keep[i] != NULL; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(body, keep[i]);
		v = cJSON_DetachItemFromObjectCaseSensitive(item, keep[i]);
		if (v != NULL)
			cJSON_AddItemToObject(body, keep[i], v);
	}
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "settings")))
		data_set(body, "settings", cJSON_CreateArray());
	data_number_settings(cJSON_GetObjectItemCaseSensitive(body,
	    "settings"));
	data_stamp_update(body, COLL_CONFPOL);
	cJSON_ReplaceItemViaPointer(t->coll[COLL_CONFPOL], item, body);
	resp_empty(rs, 204);
}

/* ---- navigation lists and actions ------------------------------------ */

static enum pager
nav_pager(const char *nav)
{
	if (strcmp(nav, "settings") == 0)
		return PAGE_SETTINGS;
	if (strcmp(nav, "presentations") == 0)
		return PAGE_PRESENTATIONS;
	return PAGE_ASSIGNMENTS;
}

static void
sub_list(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, const cJSON *item, enum coll c,
    const char *sub)
{
	char ctx[200];

	snprintf(ctx, sizeof(ctx), "deviceManagement/%s('%.60s')/%s",
	    coll_name(c), data_str(item, "id"), sub);
	paging_list(s, rq, rs, t, cJSON_GetObjectItemCaseSensitive(item, sub),
	    nav_pager(sub), project_copy, NULL, ctx);
}

static void
sub_get(const struct server *s, const struct req *rq, struct resp *rs,
    const cJSON *item, const char *sub, const char *id)
{
	const cJSON *e = data_find(cJSON_GetObjectItemCaseSensitive(item, sub),
	    id);

	if (e == NULL) {
		intune_not_found(rs, s, rq, sub, id);
		return;
	}
	resp_json(rs, 200, cJSON_Duplicate(e, 1));
}

/* POST /assign replaces the whole set; [] clears it.  Scripts take
 * their own key and answer 204 (A2). */
static void
policy_assign(const struct server *s, const struct req *rq,
    struct resp *rs, const struct tenant *t, cJSON *item, enum coll c)
{
	const struct family *f = family_of(c);
	cJSON *body = intune_body(rq, rs), *list, *doc;
	char *ctx;

	if (body == NULL)
		return;
	list = cJSON_GetObjectItemCaseSensitive(body, f->assign_key);
	if (strict_assign(s, rq, rs, t, list, f->assign_key) == 0) {
		data_set(item, "assignments", cJSON_Duplicate(list, 1));
		data_fix_assignments(item, c);
		if (f->assign_status == 204) {
			resp_empty(rs, 204);
		} else {
			doc = cJSON_CreateObject();
			ctx = paging_context(s, rq, "Collection(microsoft."
			    "graph.deviceAndAppManagementAssignment)");
			cJSON_AddStringToObject(doc, "@odata.context", ctx);
			free(ctx);
			cJSON_AddItemToObject(doc, "value", cJSON_Duplicate(
			    cJSON_GetObjectItemCaseSensitive(item,
			    "assignments"), 1));
			resp_json(rs, 200, doc);
		}
	}
	cJSON_Delete(body);
}

/* POST .../scheduleActionsForRules replaces a compliance policy's
 * scheduled actions (A3); 204. */
#define ACTIONS_KEY	"deviceComplianceScheduledActionForRules"

static void
schedule_actions(const struct server *s, const struct req *rq,
    struct resp *rs, cJSON *item)
{
	cJSON *body = intune_body(rq, rs), *rules;

	if (body == NULL)
		return;
	rules = cJSON_GetObjectItemCaseSensitive(body, ACTIONS_KEY);
	if (cJSON_GetArraySize(body) != 1 || rules == NULL)
		err_intune(rs, s, rq, 400, "ModelValidationFailure", "The body "
		    "must be {\"" ACTIONS_KEY "\":[...]} and nothing else.");
	else if (strict_actions(s, rq, rs, body, ACTIONS_KEY) == 0 &&
	    one_block_action(s, rq, rs, rules) == 0) {
		data_set(item, "scheduledActionsForRule",
		    cJSON_Duplicate(rules, 1));
		data_number_actions(item);
		data_stamp_update(item, COLL_COMPLIANCE);
		resp_empty(rs, 204);
	}
	cJSON_Delete(body);
}

#define DECRYPT_FN	"getOmaSettingPlainTextValue"
#define DECRYPT_ARG	DECRYPT_FN "(secretReferenceValueId='"

/* GET .../{id}/getOmaSettingPlainTextValue(secretReferenceValueId='r'):
 * the plain value of one of this profile's encrypted OMA settings. */
static void
oma_plain_value(const struct server *s, const struct req *rq,
    struct resp *rs, const struct tenant *t, const cJSON *item,
    const char *seg)
{
	size_t n = strlen(DECRYPT_ARG), len = strlen(seg);
	const cJSON *e, *plain = NULL;
	char *ref, *ctx;
	cJSON *doc;

	if (strncmp(seg, DECRYPT_ARG, n) != 0 || len < n + 2 ||
	    strcmp(seg + len - 2, "')") != 0) {
		err_graphf(rs, rq, 400, "BadRequest", "The function %s needs "
		    "exactly one argument: %s<id>').", DECRYPT_FN,
		    DECRYPT_ARG);
		return;
	}
	ref = xstrndup(seg + n, len - n - 2);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(item,
	    "omaSettings")) {
		if (str_ieq(data_str(e, "secretReferenceValueId"), ref))
			plain = cJSON_GetObjectItemCaseSensitive(t->secrets,
			    data_str(e, "secretReferenceValueId"));
	}
	if (plain == NULL) {
		intune_not_found(rs, s, rq, "encrypted OMA setting", ref);
	} else {
		doc = cJSON_CreateObject();
		ctx = paging_context(s, rq, "Edm.String");
		cJSON_AddStringToObject(doc, "@odata.context", ctx);
		free(ctx);
		cJSON_AddStringToObject(doc, "value", plain->valuestring);
		resp_json(rs, 200, doc);
	}
	free(ref);
}

/* ---- dispatch -------------------------------------------------------- */

static void
policy_delete(const struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *item, enum coll c)
{
	if (changeable(s, rq, rs, item, c) != 0)
		return;
	cJSON_DeleteItemFromArray(t->coll[c], data_index(t->coll[c], item));
	resp_empty(rs, 204);
}

static void
one_item(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c, cJSON *item)
{
	if (req_is(rq, "GET"))
		policy_get(s, rq, rs, t, item, c);
	else if (req_is(rq, "PATCH"))
		policy_patch(s, rq, rs, t, item, c);
	else if (req_is(rq, "PUT") && c == COLL_CONFPOL)
		policy_put(s, rq, rs, t, item);
	else if (req_is(rq, "DELETE"))
		policy_delete(s, rq, rs, t, item, c);
	else
		route_no_route(rs, s, rq);
}

static bool
is_decrypt(enum coll c, const char *sub)
{
	return c == COLL_DEVCONF && strncmp(sub, DECRYPT_FN "(",
	    strlen(DECRYPT_FN) + 1) == 0;
}

/* The actions and functions bound to one entity of family c. */
static bool
is_action(enum coll c, const char *sub)
{
	const struct family *f = family_of(c);

	return (f->assignable && strcmp(sub, "assign") == 0) ||
	    (c == COLL_COMPLIANCE && strcmp(sub,
	    "scheduleActionsForRules") == 0) || is_decrypt(c, sub) ||
	    (c == COLL_GPCONF && strcmp(sub, "updateDefinitionValues") == 0);
}

/* The segment after seg[k] that no route has, or 0: an item takes one
 * navigation (with an id after it) or an action; a definition value
 * takes "definition" or "presentationValues" (with an id after it). */
static size_t
unknown_segment(enum coll c, char **seg, size_t n)
{
	bool values = c == COLL_GPCONF && n > 3 &&
	    strcmp(seg[3], "definitionValues") == 0;

	if (n > 3 && !has_nav(family_of(c), seg[3]) && !is_action(c, seg[3]))
		return 3;
	if (n > 4 && is_action(c, seg[3]))
		return 4;
	if (!values)
		return n > 5 ? 5 : 0;
	if (n > 5 && strcmp(seg[5], "definition") != 0 &&
	    strcmp(seg[5], "presentationValues") != 0)
		return 5;
	if (n > 6 && strcmp(seg[5], "definition") == 0)
		return 6;
	return n > 7 ? 7 : 0;
}

static void
action_route(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c, cJSON *item, const char *sub)
{
	if (is_decrypt(c, sub) && req_is(rq, "GET"))
		oma_plain_value(s, rq, rs, t, item, sub);
	else if (strcmp(sub, "assign") == 0 && req_is(rq, "POST"))
		policy_assign(s, rq, rs, t, item, c);
	else if (c == COLL_COMPLIANCE && !is_decrypt(c, sub) &&
	    strcmp(sub, "assign") != 0 && req_is(rq, "POST"))
		schedule_actions(s, rq, rs, item);
	else
		route_no_route(rs, s, rq);
}

/* /{id}[/...]; the path's shape was checked by unknown_segment. */
static void
item_route(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, enum coll c, char **seg, size_t n)
{
	cJSON *item = data_find(t->coll[c], seg[2]);
	const char *sub = n > 3 ? seg[3] : "";
	bool nav = n > 3 && has_nav(family_of(c), sub);

	if (item == NULL)
		intune_not_found(rs, s, rq, coll_name(c), seg[2]);
	else if (c == COLL_GPCONF && (strcmp(sub, "definitionValues") == 0 ||
	    strcmp(sub, "updateDefinitionValues") == 0))
		gpo_route(s, rq, rs, t, item, seg + 3, n - 3);
	else if (n == 3)
		one_item(s, rq, rs, t, c, item);
	else if (nav && n == 4 && req_is(rq, "GET"))
		sub_list(s, rq, rs, t, item, c, sub);
	else if (nav && n == 5 && req_is(rq, "GET"))
		sub_get(s, rq, rs, item, sub, seg[4]);
	else if (!nav)
		action_route(s, rq, rs, t, c, item, sub);
	else
		route_no_route(rs, s, rq);
}

/* "A, B" of a NULL-terminated list, for the 403 message. */
static void
grant_names(const char *const *list, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (; *list != NULL && used < len; list++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		    used > 0 ? ", " : "", *list);
}

/* Permission (403) and write throttling (429).  0 to go on.  Reading
 * an encrypted value needs the write permission (A1). */
static int
admit(struct server *s, const struct req *rq, struct resp *rs,
    const struct token *t, enum coll c, bool decrypt)
{
	const struct family *f = family_of(c);
	bool write = !req_is(rq, "GET");
	const char *const *need = write || decrypt ? f->write : f->read;
	char num[24], names[200];
	long wait_s;

	if (!auth_has_any(t, need)) {
		grant_names(need, names, sizeof(names));
		err_intunef(rs, s, rq, 403, "Forbidden", "Application is not "
		    "authorized to perform this operation. Application must "
		    "have one of the following scopes: %s", names);
		return -1;
	}
	if (write && throttle_take(s, t, f->name, &wait_s) != 0) {
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
	const struct tenant *ten = t->tenant;
	size_t bad;
	enum coll c;

	if (n < 2) {
		route_no_route(rs, s, rq);
		return;
	}
	if (family_lookup(seg[1], &c) != 0 ||
	    (family_of(c)->beta_only && strcmp(ver, "beta") != 0)) {
		err_segment(rs, rq, seg[1]);
		return;
	}
	/* The path (400) before the permission (403) and throttling. */
	if ((bad = unknown_segment(c, seg, n)) != 0) {
		err_segment(rs, rq, seg[bad]);
		return;
	}
	if (family_of(c)->read_only && !req_is(rq, "GET")) {
		route_no_route(rs, s, rq);
		return;
	}
	if (admit(s, rq, rs, t, c, n == 4 && is_decrypt(c, seg[3])) != 0)
		return;
	if (n == 2 && req_is(rq, "GET"))
		policy_list(s, rq, rs, ten, c);
	else if (n == 2 && req_is(rq, "POST"))
		policy_create(s, rq, rs, ten, c);
	else if (n == 2)
		route_no_route(rs, s, rq);
	else
		item_route(s, rq, rs, ten, c, seg, n);
}
