/*
 * gpo - administrative templates (S4, A1, A3): the definition values of a
 * groupPolicyConfiguration and their presentation values.
 *
 * A stored definition value is
 *   {"id", "enabled", "configurationType", "createdDateTime",
 *    "lastModifiedDateTime", "definition": {"id": D},
 *    "presentationValues": [{"@odata.type", "id", "value" | "values",
 *      "createdDateTime", "lastModifiedDateTime",
 *      "presentation": {"id": P}}]}
 * where D is a groupPolicyDefinition of the tenant and P one of its
 * presentations.  Clients write them the way Graph takes them, binding
 * by URL ("definition@odata.bind": ".../groupPolicyDefinitions('D')",
 * "presentation@odata.bind": ".../groupPolicyDefinitions('D')/
 * presentations('P')"); a bind to a definition the tenant does not have
 * (a custom ADMX of another tenant) is a 400, as is a presentation value
 * whose type does not fit its presentation.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GP_TYPE		"#microsoft.graph.groupPolicy"
#define DEF_BIND	"definition@odata.bind"
#define PRES_BIND	"presentation@odata.bind"
/* Property paths: a path names an element, a prop one of its parts. */
#define PATH_LEN	128
#define PROP_LEN	256

/* What the elements of a "values" list must be. */
enum elems {
	ELEMS_NONE,		/* a single "value" */
	ELEMS_NAME_VALUE,	/* {"name": s, "value": s} */
	ELEMS_STRING
};

/* Which value type fits which presentation, and how it holds its value. */
struct fit {
	const char *presentation;	/* after GP_TYPE */
	const char *value_type;
	const char *key;		/* "value" or "values" */
	int json_type;			/* cJSON_String, cJSON_Number, ... */
	enum elems elems;
};

static const struct fit fits[] = {
	{"PresentationTextBox", "PresentationValueText", "value", cJSON_String,
	    ELEMS_NONE},
	{"PresentationDropdownList", "PresentationValueText", "value",
	    cJSON_String, ELEMS_NONE},
	{"PresentationDecimalTextBox", "PresentationValueDecimal", "value",
	    cJSON_Number, ELEMS_NONE},
	{"PresentationLongDecimalTextBox", "PresentationValueLongDecimal",
	    "value", cJSON_Number, ELEMS_NONE},
	{"PresentationCheckBox", "PresentationValueBoolean", "value",
	    cJSON_True, ELEMS_NONE},
	{"PresentationListBox", "PresentationValueList", "values", cJSON_Array,
	    ELEMS_NAME_VALUE},
	{"PresentationMultiTextBox", "PresentationValueMultiText", "values",
	    cJSON_Array, ELEMS_STRING},
};

/* A problem with a written value: the property path and what is wrong. */
struct problem {
	char prop[PROP_LEN];
	char why[256];
};

static int
bad(struct problem *pb, const char *prop, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(struct problem *pb, const char *prop, const char *fmt, ...)
{
	va_list ap;

	snprintf(pb->prop, sizeof(pb->prop), "%s", prop);
	va_start(ap, fmt);
	vsnprintf(pb->why, sizeof(pb->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The id inside "name('id')" at the start of p; *end after the ")".
 * NULL if p does not start so. */
static char *
bound_id(const char *p, const char *name, const char **end)
{
	size_t n = strlen(name);
	const char *close;

	if (strncmp(p, name, n) != 0 || strncmp(p + n, "('", 2) != 0)
		return NULL;
	p += n + 2;
	if ((close = strstr(p, "')")) == NULL || close == p)
		return NULL;
	*end = close + 2;
	return xstrndup(p, (size_t)(close - p));
}

/* Parses ".../groupPolicyDefinitions('D')[/presentations('P')]" (the
 * base URL is not checked: Graph's own and ours both do).  Returns 0
 * with *def (and *pres when want_pres), or -1. */
static int
parse_bind(const char *url, char **def, char **pres, bool want_pres)
{
	const char *p = url != NULL ? strstr(url, "groupPolicyDefinitions(") :
	    NULL, *end = NULL;

	*def = NULL;
	*pres = NULL;
	if (p == NULL || (*def = bound_id(p, "groupPolicyDefinitions",
	    &end)) == NULL)
		goto fail;
	if (want_pres && (strncmp(end, "/presentations(", 15) != 0 ||
	    (*pres = bound_id(end + 1, "presentations", &end)) == NULL))
		goto fail;
	if (*end == '\0')
		return 0;
fail:
	free(*def);
	free(*pres);
	*def = NULL;
	*pres = NULL;
	return -1;
}

static const struct fit *
fit_of(const char *presentation_type)
{
	size_t i, n = strlen(GP_TYPE);

	if (presentation_type == NULL ||
	    strncmp(presentation_type, GP_TYPE, n) != 0)
		return NULL;
	for (i = 0; i < sizeof(fits) / sizeof(fits[0]); i++)
		if (strcmp(presentation_type + n, fits[i].presentation) == 0)
			return &fits[i];
	return NULL;
}

static bool
json_fits(const cJSON *v, const struct fit *fit)
{
	const cJSON *e;

	if (fit->json_type == cJSON_True)
		return cJSON_IsBool(v);
	if (v == NULL || (v->type & 0xff) != fit->json_type)
		return false;
	if (fit->elems == ELEMS_NONE)
		return true;
	cJSON_ArrayForEach(e, v) {
		if (fit->elems == ELEMS_STRING ? !cJSON_IsString(e) :
		    (data_str(e, "name") == NULL ||
		    data_str(e, "value") == NULL))
			return false;
	}
	return true;
}

/* "path.name", or "name" at the top. */
static void
join(char *out, size_t len, const char *path, const char *name)
{
	snprintf(out, len, "%s%s%s", path, path[0] ? "." : "", name);
}

/* Every member of obj is listed in allowed; else pb names the first
 * that is not. */
static int
only_keys(const cJSON *obj, const char *const *allowed, const char *path,
    const char *what, struct problem *pb)
{
	char prop[PROP_LEN];
	const cJSON *e;
	size_t i;

	cJSON_ArrayForEach(e, obj) {
		for (i = 0; allowed[i] != NULL &&
		    strcmp(allowed[i], e->string) != 0; i++)
			;
		if (allowed[i] == NULL) {
			join(prop, sizeof(prop), path, e->string);
			return bad(pb, prop, "is not a property of %s that can "
			    "be written", what);
		}
	}
	return 0;
}

/* The presentation of def named pid, and how a value fits it (NULL for
 * presentations that take none, such as static text). */
static const cJSON *
presentation_of(const cJSON *def, const char *pid, const struct fit **fit)
{
	const cJSON *pres = data_find(cJSON_GetObjectItemCaseSensitive(def,
	    "presentations"), pid);

	*fit = fit_of(data_str(pres, "@odata.type"));
	return pres;
}

/* The value type and the value of a written presentation value, and no
 * other members than those, its "id" (an update) or its bind (new). */
static int
check_value(const struct fit *fit, const cJSON *pv, const char *path,
    struct problem *pb)
{
	const char *allowed[] = {"@odata.type", data_str(pv, "id") != NULL ?
	    "id" : PRES_BIND, NULL, NULL};
	const char *type = data_str(pv, "@odata.type");
	size_t n = strlen(GP_TYPE);
	char prop[PROP_LEN];

	snprintf(prop, sizeof(prop), "%s.@odata.type", path);
	if (type == NULL || strncmp(type, GP_TYPE, n) != 0 ||
	    strcmp(type + n, fit->value_type) != 0)
		return bad(pb, prop, "must be %s%s for this presentation",
		    GP_TYPE, fit->value_type);
	snprintf(prop, sizeof(prop), "%s.%s", path, fit->key);
	if (!json_fits(cJSON_GetObjectItemCaseSensitive(pv, fit->key), fit))
		return bad(pb, prop, "is missing or of the wrong JSON type for "
		    "%s%s", type, fit->elems == ELEMS_NAME_VALUE ? " (a list "
		    "of {\"name\", \"value\"} strings)" : fit->elems ==
		    ELEMS_STRING ? " (a list of strings)" : "");
	allowed[2] = fit->key;
	return only_keys(pv, allowed, path, "a presentation value", pb);
}

/* A new presentation value of definition def (pv is turned into its
 * stored form in place). */
static int
new_presentation(const cJSON *def, cJSON *pv, const char *path,
    struct problem *pb)
{
	char prop[PROP_LEN], *defid = NULL, *presid = NULL;
	const struct fit *fit = NULL;
	const cJSON *pres = NULL;
	int rc = -1;

	snprintf(prop, sizeof(prop), "%s.%s", path, PRES_BIND);
	if (parse_bind(data_str(pv, PRES_BIND), &defid, &presid, true) != 0)
		return bad(pb, prop, "must be a URL ending in "
		    "groupPolicyDefinitions('<id>')/presentations('<id>')");
	if (str_ieq(defid, data_str(def, "id")))
		pres = presentation_of(def, presid, &fit);
	if (pres == NULL)
		bad(pb, prop, "names a presentation that the definition "
		    "'%.60s' does not have", data_str(def, "id"));
	else if (fit == NULL)
		bad(pb, prop, "names a %.80s, which takes no value",
		    data_str(pres, "@odata.type"));
	else
		rc = check_value(fit, pv, path, pb);
	if (rc == 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(pv, PRES_BIND);
		data_stamp_child(pv);
		data_set(pv, "presentation", cJSON_CreateObject());
		cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(pv,
		    "presentation"), "id", data_str(pres, "id"));
	}
	free(defid);
	free(presid);
	return rc;
}

static const char *
presentation_id(const cJSON *pv)
{
	return data_str(cJSON_GetObjectItemCaseSensitive(pv, "presentation"),
	    "id");
}

/* A written presentation value for the stored list of definition def:
 * with an "id" it changes that stored value, without one it is new. */
static int
merge_presentation(const cJSON *def, cJSON *stored, const cJSON *pv,
    const char *path, struct problem *pb)
{
	const char *id = data_str(pv, "id");
	const struct fit *fit = NULL;
	cJSON *old, *conv, *e;
	char prop[PROP_LEN];

	if (!cJSON_IsObject(pv))
		return bad(pb, path, "is not an object");
	if (id != NULL) {
		snprintf(prop, sizeof(prop), "%s.id", path);
		if ((old = data_find(stored, id)) == NULL ||
		    presentation_of(def, presentation_id(old), &fit) == NULL ||
		    fit == NULL)
			return bad(pb, prop, "names no presentation value of "
			    "this definition value");
		if (check_value(fit, pv, path, pb) != 0)
			return -1;
		data_set(old, fit->key, cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(pv, fit->key), 1));
		data_stamp_update(old, COLL_GPCONF);
		return 0;
	}
	conv = cJSON_Duplicate(pv, 1);
	if (new_presentation(def, conv, path, pb) != 0) {
		cJSON_Delete(conv);
		return -1;
	}
	cJSON_ArrayForEach(e, stored) {
		if (str_ieq(presentation_id(e), presentation_id(conv))) {
			cJSON_Delete(conv);
			snprintf(prop, sizeof(prop), "%s.%s", path, PRES_BIND);
			return bad(pb, prop, "names a presentation that "
			    "already has a value; change that one by its id");
		}
	}
	cJSON_AddItemToArray(stored, conv);
	return 0;
}

static int
merge_presentations(const cJSON *def, cJSON *stored, const cJSON *list,
    const char *path, struct problem *pb)
{
	const cJSON *pv;
	char sub[PATH_LEN];
	int i = 0;

	if (list != NULL && !cJSON_IsArray(list))
		return bad(pb, path, "must be an array");
	cJSON_ArrayForEach(pv, list) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i++);
		if (merge_presentation(def, stored, pv, sub, pb) != 0)
			return -1;
	}
	return 0;
}

/* The definition a stored value refers to. */
static const cJSON *
value_definition(const struct tenant *t, const cJSON *dv)
{
	return data_find(t->coll[COLL_GPDEF], data_str(
	    cJSON_GetObjectItemCaseSensitive(dv, "definition"), "id"));
}

static bool
defined_twice(const cJSON *values, const char *defid, const cJSON *self)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, values) {
		if (e != self && str_ieq(data_str(
		    cJSON_GetObjectItemCaseSensitive(e, "definition"), "id"),
		    defid))
			return true;
	}
	return false;
}

/* The definition a written value binds; NULL with pb set. */
static const cJSON *
bound_definition(const struct tenant *t, const cJSON *values,
    const cJSON *dv, const char *path, struct problem *pb)
{
	char prop[PROP_LEN], *defid = NULL, *none = NULL;
	const cJSON *def;

	join(prop, sizeof(prop), path, DEF_BIND);
	if (parse_bind(data_str(dv, DEF_BIND), &defid, &none, false) != 0) {
		bad(pb, prop, "must be a URL ending in "
		    "groupPolicyDefinitions('<id>')");
		return NULL;
	}
	def = data_find(t->coll[COLL_GPDEF], defid);
	if (def == NULL)
		bad(pb, prop, "names groupPolicyDefinitions('%.60s'), which "
		    "this tenant does not have", defid);
	else if (defined_twice(values, data_str(def, "id"), dv))
		bad(pb, prop, "names a definition this configuration already "
		    "has a value for");
	free(defid);
	return pb->prop[0] == '\0' ? def : NULL;
}

/* A written configurationType, if any, is policy or preference. */
static int
config_type_ok(const cJSON *dv, const char *path, struct problem *pb)
{
	const char *v = data_str(dv, "configurationType");
	char prop[PROP_LEN];

	if (cJSON_GetObjectItemCaseSensitive(dv, "configurationType") ==
	    NULL || (v != NULL && (strcmp(v, "policy") == 0 ||
	    strcmp(v, "preference") == 0)))
		return 0;
	join(prop, sizeof(prop), path, "configurationType");
	return bad(pb, prop, "must be policy or preference");
}

/* Checks a written definition value against the tenant's definitions
 * and the configuration's other values, and turns it into the stored
 * form in place. */
static int
load_value(const struct tenant *t, const cJSON *values, cJSON *dv,
    const char *path, struct problem *pb)
{
	static const char *const owned[] = {"id", "createdDateTime",
	    "lastModifiedDateTime", NULL};
	static const char *const new_keys[] = {"@odata.type", "enabled",
	    "configurationType", DEF_BIND, "presentationValues", NULL};
	const cJSON *def, *en;
	cJSON *list, *stored;
	char prop[PROP_LEN];
	size_t k;
	int rc;

	pb->prop[0] = '\0';
	if (!cJSON_IsObject(dv))
		return bad(pb, path[0] ? path : "body", "is not an object");
	for (k = 0; owned[k] != NULL; k++) {
		join(prop, sizeof(prop), path, owned[k]);
		if (cJSON_GetObjectItemCaseSensitive(dv, owned[k]) != NULL)
			return bad(pb, prop, "is assigned by the server");
	}
	join(prop, sizeof(prop), path, "definition");
	if (cJSON_GetObjectItemCaseSensitive(dv, "definition") != NULL)
		return bad(pb, prop, "cannot be written; bind the definition "
		    "with definition@odata.bind");
	if ((def = bound_definition(t, values, dv, path, pb)) == NULL)
		return -1;
	en = cJSON_GetObjectItemCaseSensitive(dv, "enabled");
	join(prop, sizeof(prop), path, "enabled");
	if (!cJSON_IsBool(en))
		return bad(pb, prop, "must be true or false");
	if (config_type_ok(dv, path, pb) != 0 ||
	    only_keys(dv, new_keys, path, "a definition value", pb) != 0)
		return -1;
	join(prop, sizeof(prop), path, "presentationValues");
	list = cJSON_DetachItemFromObjectCaseSensitive(dv,
	    "presentationValues");
	stored = cJSON_AddArrayToObject(dv, "presentationValues");
	rc = merge_presentations(def, stored, list, prop, pb);
	cJSON_Delete(list);
	if (rc != 0)
		return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(dv, DEF_BIND);
	data_set(dv, "definition", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(dv,
	    "definition"), "id", data_str(def, "id"));
	if (data_str(dv, "configurationType") == NULL)
		data_set(dv, "configurationType", cJSON_CreateString("policy"));
	data_stamp_child(dv);
	return 0;
}

int
gpo_load_values(const struct tenant *t, cJSON *conf, const char *where,
    char *err, size_t errlen)
{
	cJSON *values = cJSON_GetObjectItemCaseSensitive(conf,
	    "definitionValues"), *dv;
	struct problem pb;
	char path[PATH_LEN];
	int i = 0;

	cJSON_ArrayForEach(dv, values) {
		snprintf(path, sizeof(path), "definitionValues[%d]", i++);
		if (load_value(t, values, dv, path, &pb) != 0) {
			snprintf(err, errlen, "%s: %s %s", where, pb.prop,
			    pb.why);
			return -1;
		}
	}
	return 0;
}

/* Changes a stored value as an "updated" entry (or a PATCH) says. */
static int
update_value(const struct tenant *t, cJSON *stored, const cJSON *upd,
    const char *path, struct problem *pb)
{
	static const char *const upd_keys[] = {"@odata.type", "id", "enabled",
	    "configurationType", "presentationValues", NULL};
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(upd, "enabled");
	char prop[PROP_LEN];

	join(prop, sizeof(prop), path, "enabled");
	if (en != NULL && !cJSON_IsBool(en))
		return bad(pb, prop, "must be true or false");
	join(prop, sizeof(prop), path, DEF_BIND);
	if (cJSON_GetObjectItemCaseSensitive(upd, DEF_BIND) != NULL ||
	    cJSON_GetObjectItemCaseSensitive(upd, "definition") != NULL)
		return bad(pb, prop, "cannot change: delete the value and add "
		    "one for the other definition");
	if (config_type_ok(upd, path, pb) != 0 ||
	    only_keys(upd, upd_keys, path, "a definition value", pb) != 0)
		return -1;
	join(prop, sizeof(prop), path, "presentationValues");
	if (merge_presentations(value_definition(t, stored),
	    cJSON_GetObjectItemCaseSensitive(stored, "presentationValues"),
	    cJSON_GetObjectItemCaseSensitive(upd, "presentationValues"), prop,
	    pb) != 0)
		return -1;
	if (en != NULL)
		data_set(stored, "enabled", cJSON_Duplicate(en, 1));
	if (data_str(upd, "configurationType") != NULL)
		data_set(stored, "configurationType", cJSON_CreateString(
		    data_str(upd, "configurationType")));
	data_stamp_update(stored, COLL_GPCONF);
	return 0;
}

/* ---- output ---------------------------------------------------------- */

static cJSON *
project_presentation(const struct tenant *t, const cJSON *dv,
    const cJSON *pv, bool expand)
{
	cJSON *o = cJSON_Duplicate(pv, 1);
	const struct fit *fit;
	const cJSON *pres = presentation_of(value_definition(t, dv),
	    presentation_id(pv), &fit);

	if (expand && pres != NULL)
		data_set(o, "presentation", cJSON_Duplicate(pres, 1));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(o, "presentation");
	return o;
}

/* A definition without its presentations unless asked for. */
static cJSON *
project_definition(const cJSON *def, bool presentations)
{
	cJSON *o = cJSON_Duplicate(def, 1);

	if (!presentations)
		cJSON_DeleteItemFromObjectCaseSensitive(o, "presentations");
	return o;
}

cJSON *
gpo_project_value(const struct tenant *t, const cJSON *dv, bool definition,
    bool presentations)
{
	cJSON *o = cJSON_Duplicate(dv, 1), *list;
	const cJSON *def = value_definition(t, dv), *pv;

	if (definition && def != NULL)
		data_set(o, "definition", project_definition(def, false));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(o, "definition");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "presentationValues");
	if (presentations) {
		list = cJSON_AddArrayToObject(o, "presentationValues");
		cJSON_ArrayForEach(pv, cJSON_GetObjectItemCaseSensitive(dv,
		    "presentationValues"))
			cJSON_AddItemToArray(list, project_presentation(t, dv,
			    pv, false));
	}
	return o;
}

/* ---- routes ---------------------------------------------------------- */

struct list_ctx {
	const struct tenant *t;
	const cJSON *dv;
	bool expand_a;
	bool expand_b;
};

static cJSON *
project_value_item(const cJSON *item, const struct req *rq, void *ctx)
{
	const struct list_ctx *lc = ctx;

	(void)rq;
	return gpo_project_value(lc->t, item, lc->expand_a, lc->expand_b);
}

static cJSON *
project_presentation_item(const cJSON *item, const struct req *rq,
    void *ctx)
{
	const struct list_ctx *lc = ctx;

	(void)rq;
	return project_presentation(lc->t, lc->dv, item, lc->expand_a);
}

#define VALUE_CONTEXT	"deviceManagement/groupPolicyConfigurations/" \
	"definitionValues/$entity"

/* POST .../definitionValues: one new value, 201. */
static void
value_create(const struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *conf)
{
	cJSON *values = cJSON_GetObjectItemCaseSensitive(conf,
	    "definitionValues");
	cJSON *body = intune_body(rq, rs);
	struct problem pb;

	if (body == NULL || strict_nested(s, rq, rs, body, "") != 0) {
		cJSON_Delete(body);
		return;
	}
	if (load_value(t, values, body, "", &pb) != 0) {
		err_invalid(rs, s, rq, pb.prop, pb.why);
		cJSON_Delete(body);
		return;
	}
	cJSON_AddItemToArray(values, body);
	data_stamp_update(conf, COLL_GPCONF);
	resp_json(rs, 201, paging_entity(s, rq, gpo_project_value(t, body,
	    false, false), VALUE_CONTEXT));
}

/* PATCH .../definitionValues/{dv}: enabled or configurationType. */
static void
value_patch(const struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *conf, cJSON *dv)
{
	cJSON *body = intune_body(rq, rs);
	struct problem pb;

	pb.prop[0] = '\0';
	if (body == NULL || strict_nested(s, rq, rs, body, "") != 0) {
		cJSON_Delete(body);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "presentationValues") !=
	    NULL)
		bad(&pb, "presentationValues", "is a navigation property; "
		    "change presentation values with POST "
		    ".../updateDefinitionValues");
	else if (cJSON_GetObjectItemCaseSensitive(body, "id") != NULL)
		bad(&pb, "id", "is read-only: the server sets it");
	else if (update_value(t, dv, body, "", &pb) == 0)
		data_stamp_update(conf, COLL_GPCONF);
	if (pb.prop[0] != '\0')
		err_invalid(rs, s, rq, pb.prop, pb.why);
	else
		resp_empty(rs, 204);
	cJSON_Delete(body);
}

/* The three lists of an updateDefinitionValues body, checked. */
static int
update_lists(const cJSON *body, const cJSON **lists, struct problem *pb)
{
	static const char *const names[] = {"deletedIds", "updated", "added"};
	const cJSON *e;
	size_t i;

	cJSON_ArrayForEach(e, body) {
		for (i = 0; i < 3 && strcmp(e->string, names[i]) != 0; i++)
			;
		if (i == 3)
			return bad(pb, e->string, "is not a parameter of "
			    "updateDefinitionValues (added, updated, "
			    "deletedIds)");
		if (!cJSON_IsArray(e) && !cJSON_IsNull(e))
			return bad(pb, e->string, "must be an array");
	}
	for (i = 0; i < 3; i++)
		lists[i] = cJSON_GetObjectItemCaseSensitive(body, names[i]);
	return 0;
}

/* Applies deletes, then updates, then additions to work (a copy of the
 * stored values), stopping at the first problem. */
static int
apply_update(const struct tenant *t, cJSON *work, const cJSON *body,
    struct problem *pb)
{
	const cJSON *lists[3], *e;
	char path[PATH_LEN];
	cJSON *dv;
	int i;

	if (update_lists(body, lists, pb) != 0)
		return -1;
	i = 0;
	cJSON_ArrayForEach(e, lists[0]) {
		snprintf(path, sizeof(path), "deletedIds[%d]", i++);
		dv = cJSON_IsString(e) ? data_find(work, e->valuestring) : NULL;
		if (dv == NULL)
			return bad(pb, path, "names no definition value of "
			    "this configuration");
		cJSON_DeleteItemFromArray(work, data_index(work, dv));
	}
	i = 0;
	cJSON_ArrayForEach(e, lists[1]) {
		snprintf(path, sizeof(path), "updated[%d]", i++);
		dv = data_find(work, data_str(e, "id"));
		if (dv == NULL)
			return bad(pb, path, "needs the \"id\" of a definition "
			    "value of this configuration");
		if (update_value(t, dv, e, path, pb) != 0)
			return -1;
	}
	i = 0;
	cJSON_ArrayForEach(e, lists[2]) {
		snprintf(path, sizeof(path), "added[%d]", i++);
		dv = cJSON_Duplicate(e, 1);
		cJSON_AddItemToArray(work, dv);
		if (load_value(t, work, dv, path, pb) != 0)
			return -1;
	}
	return 0;
}

/* POST .../updateDefinitionValues: all of it or nothing, 204. */
static void
update_values(const struct server *s, const struct req *rq,
    struct resp *rs, const struct tenant *t, cJSON *conf)
{
	cJSON *body = intune_body(rq, rs), *work;
	struct problem pb;

	if (body == NULL || strict_nested(s, rq, rs, body, "") != 0) {
		cJSON_Delete(body);
		return;
	}
	work = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(conf,
	    "definitionValues"), 1);
	if (apply_update(t, work, body, &pb) != 0) {
		err_invalid(rs, s, rq, pb.prop, pb.why);
		cJSON_Delete(work);
	} else {
		data_set(conf, "definitionValues", work);
		data_stamp_update(conf, COLL_GPCONF);
		resp_empty(rs, 204);
	}
	cJSON_Delete(body);
}

/* GET .../{dv}/definition and .../{dv}/presentationValues[/{pv}]. */
static void
value_sub(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, const cJSON *dv, char **seg, size_t n)
{
	struct list_ctx lc = {t, dv, intune_expand_has(rq, "presentation"),
	    false};
	const cJSON *def = value_definition(t, dv), *pv;

	if (strcmp(seg[2], "definition") == 0 && n == 3 && def == NULL)
		intune_not_found(rs, s, rq, "groupPolicyDefinition", "");
	else if (strcmp(seg[2], "definition") == 0 && n == 3)
		resp_json(rs, 200, paging_entity(s, rq, project_definition(def,
		    intune_expand_has(rq, "presentations")),
		    "deviceManagement/groupPolicyDefinitions/$entity"));
	else if (n == 3)
		paging_list(s, rq, rs, t, cJSON_GetObjectItemCaseSensitive(dv,
		    "presentationValues"), PAGE_PRESVALUES,
		    project_presentation_item, &lc, "deviceManagement/"
		    "groupPolicyConfigurations/definitionValues/"
		    "presentationValues");
	else if ((pv = data_find(cJSON_GetObjectItemCaseSensitive(dv,
	    "presentationValues"), seg[3])) == NULL)
		intune_not_found(rs, s, rq, "presentationValue", seg[3]);
	else
		resp_json(rs, 200, paging_entity(s, rq, project_presentation(t,
		    dv, pv, lc.expand_a), "deviceManagement/"
		    "groupPolicyConfigurations/definitionValues/"
		    "presentationValues/$entity"));
}

static void
value_route(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *conf, char **seg, size_t n)
{
	cJSON *values = cJSON_GetObjectItemCaseSensitive(conf,
	    "definitionValues");
	cJSON *dv = data_find(values, seg[1]);
	bool def = intune_expand_has(rq, "definition");
	bool pres = intune_expand_has(rq, "presentationValues");

	if (dv == NULL)
		intune_not_found(rs, s, rq, "definitionValue", seg[1]);
	else if (n >= 3 && req_is(rq, "GET"))
		value_sub(s, rq, rs, t, dv, seg, n);
	else if (n >= 3)
		route_no_route(rs, s, rq);
	else if (req_is(rq, "GET"))
		resp_json(rs, 200, paging_entity(s, rq, gpo_project_value(t,
		    dv, def, pres), VALUE_CONTEXT));
	else if (req_is(rq, "PATCH"))
		value_patch(s, rq, rs, t, conf, dv);
	else if (req_is(rq, "DELETE")) {
		cJSON_DeleteItemFromArray(values, data_index(values, dv));
		data_stamp_update(conf, COLL_GPCONF);
		resp_empty(rs, 204);
	} else
		route_no_route(rs, s, rq);
}

void
gpo_route(struct server *s, struct req *rq, struct resp *rs,
    const struct tenant *t, cJSON *conf, char **seg, size_t n)
{
	struct list_ctx lc = {t, NULL, intune_expand_has(rq, "definition"),
	    intune_expand_has(rq, "presentationValues")};
	char ctx[120];

	if (strcmp(seg[0], "updateDefinitionValues") == 0) {
		if (req_is(rq, "POST"))
			update_values(s, rq, rs, t, conf);
		else
			route_no_route(rs, s, rq);
	} else if (n == 1 && req_is(rq, "GET")) {
		snprintf(ctx, sizeof(ctx), "deviceManagement/"
		    "groupPolicyConfigurations('%.40s')/definitionValues",
		    data_str(conf, "id"));
		paging_list(s, rq, rs, t, cJSON_GetObjectItemCaseSensitive(
		    conf, "definitionValues"), PAGE_DEFVALUES,
		    project_value_item, &lc, ctx);
	} else if (n == 1 && req_is(rq, "POST")) {
		value_create(s, rq, rs, t, conf);
	} else if (n == 1) {
		route_no_route(rs, s, rq);
	} else {
		value_route(s, rq, rs, t, conf, seg, n);
	}
}
