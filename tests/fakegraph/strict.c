/*
 * strict - write validation (docs/graph.md C2 S7).  Deliberately
 * stricter than Graph: real Graph ignores some server-owned properties
 * and rejects others, so the fake rejects them all.  A client that passes
 * here strips what it must before POST, PATCH, PUT and /assign
 * (docs/graph.md A3).
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <string.h>

static const char *const server_owned[] = {
	"id", "createdDateTime", "lastModifiedDateTime", "modifiedDateTime",
	"version", "settingCount", "isAssigned", "creationSource", NULL
};

static const char *const target_types[] = {
	"#microsoft.graph.groupAssignmentTarget",
	"#microsoft.graph.exclusionGroupAssignmentTarget",
	"#microsoft.graph.allDevicesAssignmentTarget",
	"#microsoft.graph.allLicensedUsersAssignmentTarget",
	"#microsoft.graph.configurationManagerCollectionAssignmentTarget",
	NULL
};

#define NO_FILTER	"00000000-0000-0000-0000-000000000000"

static bool
listed(const char *const *list, const char *name)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Annotations other than @odata.type and *@odata.bind, and secret
 * references, anywhere in the document. */
static int
check_nested(const cJSON *v, const char *path, char *prop, size_t proplen,
    const char **why)
{
	char sub[256];
	const cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, v) {
		if (cJSON_IsArray(v))
			snprintf(sub, sizeof(sub), "%s[%d]", path, i++);
		else
			snprintf(sub, sizeof(sub), "%s%s%s", path,
			    path[0] ? "." : "", e->string);
		if (cJSON_IsObject(v) && strstr(e->string, "@odata.") != NULL &&
		    strcmp(e->string, "@odata.type") != 0 &&
		    !str_suffix(e->string, "@odata.bind")) {
			*why = "is an OData annotation the server owns; only "
			    "@odata.type and *@odata.bind may be sent";
			snprintf(prop, proplen, "%s", sub);
			return -1;
		}
		if (cJSON_IsObject(v) && strcmp(e->string,
		    "secretReferenceValueId") == 0) {
			*why = "is invalid for create or update; send the "
			    "decrypted value instead";
			snprintf(prop, proplen, "%s", sub);
			return -1;
		}
		if ((cJSON_IsObject(e) || cJSON_IsArray(e)) &&
		    check_nested(e, sub, prop, proplen, why) != 0)
			return -1;
	}
	return 0;
}

/* Element ids of a server-numbered list (settings, scheduled actions
 * and their configurations). */
static int
check_element_ids(const cJSON *body, const char *list, const char *inner,
    char *prop, size_t proplen, const char **why)
{
	const cJSON *e, *in, *inner_list;
	int i = 0, j;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(body, list)) {
		if (cJSON_GetObjectItemCaseSensitive(e, "id") != NULL) {
			snprintf(prop, proplen, "%s[%d].id", list, i);
			*why = "is assigned by the server";
			return -1;
		}
		j = 0;
		inner_list = inner != NULL ?
		    cJSON_GetObjectItemCaseSensitive(e, inner) : NULL;
		cJSON_ArrayForEach(in, inner_list) {
			if (cJSON_GetObjectItemCaseSensitive(in, "id") !=
			    NULL) {
				snprintf(prop, proplen, "%s[%d].%s[%d].id",
				    list, i, inner, j);
				*why = "is assigned by the server";
				return -1;
			}
			j++;
		}
		i++;
	}
	return 0;
}

/* Navigation properties a write may not carry. */
static const char *
nav_problem(const char *name, enum coll c, enum write_kind w)
{
	if (strcmp(name, "assignments") == 0)
		return "is a navigation property; write assignments with "
		    "POST .../assign";
	if (strcmp(name, "settings") == 0 && w == WRITE_PATCH)
		return "cannot be PATCHed (Cannot PATCH navigation property "
		    "'settings'); PUT the whole policy instead";
	if (strcmp(name, "scheduledActionsForRule") == 0 &&
	    c == COLL_COMPLIANCE && w == WRITE_PATCH)
		return "cannot be PATCHed; use POST "
		    ".../scheduleActionsForRules";
	if (strcmp(name, "definitionValues") == 0 && c == COLL_GPCONF)
		return "is a navigation property; create the configuration "
		    "first, then POST .../definitionValues or "
		    ".../updateDefinitionValues";
	return NULL;
}

static int
check_top(const cJSON *e, enum coll c, enum write_kind w, const char **why)
{
	const char *nav = nav_problem(e->string, c, w);

	if (listed(server_owned, e->string) ||
	    listed(family_of(c)->owned, e->string))
		*why = "is read-only: the server sets it";
	else if (strcmp(e->string, "supportsScopeTags") == 0 &&
	    cJSON_IsTrue(e))
		*why = "true is rejected on write; send false or leave it out";
	else if (nav != NULL)
		*why = nav;
	else
		return 0;
	return -1;
}

int
strict_check(const cJSON *body, enum coll c, enum write_kind w, char *prop,
    size_t proplen, const char **why)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, body) {
		if (check_top(e, c, w, why) != 0) {
			snprintf(prop, proplen, "%s", e->string);
			return -1;
		}
	}
	if (check_element_ids(body, "settings", NULL, prop, proplen,
	    why) != 0 || check_element_ids(body, "scheduledActionsForRule",
	    "scheduledActionConfigurations", prop, proplen, why) != 0)
		return -1;
	return check_nested(body, "", prop, proplen, why);
}

int
strict_nested(const struct server *s, const struct req *rq,
    struct resp *rs, const cJSON *v, const char *path)
{
	const char *why = "";
	char prop[256];

	if (check_nested(v, path, prop, sizeof(prop), &why) == 0)
		return 0;
	err_invalid(rs, s, rq, prop, why);
	return -1;
}

/* Why scheduled action rule r is malformed (its path in prop), or NULL. */
static const char *
rule_problem(const cJSON *r, const char *path, char *prop, size_t proplen)
{
	static const char *const actions[] = {"noAction", "notification",
	    "block", "retire", "wipe", "removeResourceAccessProfiles",
	    "pushNotification", "remoteLock", NULL};
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(r,
	    "scheduledActionConfigurations"), *a;
	const char *type;
	int j = 0;

	snprintf(prop, proplen, "%s", path);
	if (!cJSON_IsObject(r) || data_str(r, "ruleName") == NULL)
		return "must be an object with a string ruleName";
	if (cJSON_GetObjectItemCaseSensitive(r, "id") != NULL) {
		snprintf(prop, proplen, "%s.id", path);
		return "is assigned by the server";
	}
	snprintf(prop, proplen, "%s.scheduledActionConfigurations", path);
	if (!cJSON_IsArray(list))
		return "must be an array";
	cJSON_ArrayForEach(a, list) {
		snprintf(prop, proplen, "%s.scheduledActionConfigurations[%d]",
		    path, j++);
		type = data_str(a, "actionType");
		if (!cJSON_IsObject(a) || type == NULL ||
		    !listed(actions, type))
			return "needs an actionType such as block, "
			    "notification or retire";
		if (cJSON_GetObjectItemCaseSensitive(a, "id") != NULL) {
			snprintf(prop + strlen(prop), proplen - strlen(prop),
			    ".id");
			return "is assigned by the server";
		}
	}
	return NULL;
}

int
strict_actions(const struct server *s, const struct req *rq,
    struct resp *rs, const cJSON *body, const char *key)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, key), *r;
	const char *why = NULL;
	char path[96], prop[256];
	int i = 0;

	if (!cJSON_IsArray(list)) {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure",
		    "The body must carry \"%s\":[...].", key);
		return -1;
	}
	cJSON_ArrayForEach(r, list) {
		snprintf(path, sizeof(path), "%s[%d]", key, i++);
		if ((why = rule_problem(r, path, prop, sizeof(prop))) != NULL)
			break;
	}
	if (why == NULL)
		return strict_nested(s, rq, rs, list, key);
	err_invalid(rs, s, rq, prop, why);
	return -1;
}

/* Standard base64 with padding, as Edm.Binary takes it. */
static bool
is_base64(const char *v)
{
	size_t n = strlen(v), i, pad = 0;

	if (n == 0 || n % 4 != 0)
		return false;
	for (i = 0; i < n; i++) {
		if (v[i] == '=' && i >= n - 2)
			pad++;
		else if (pad > 0 || (strchr("+/", v[i]) == NULL &&
		    !(v[i] >= 'A' && v[i] <= 'Z') &&
		    !(v[i] >= 'a' && v[i] <= 'z') &&
		    !(v[i] >= '0' && v[i] <= '9')))
			return false;
	}
	return true;
}

static int
script_values(const struct server *s, const struct req *rq,
    struct resp *rs, const cJSON *body)
{
	static const char *const accounts[] = {"system", "user", NULL};
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(body,
	    "scriptContent");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(body,
	    "runAsAccount");

	if (content != NULL && (!cJSON_IsString(content) ||
	    !is_base64(content->valuestring))) {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure", "Cannot "
		    "convert the literal '%.40s' to the expected type "
		    "'Edm.Binary': scriptContent must be base64.",
		    cJSON_IsString(content) ? content->valuestring : "");
		return -1;
	}
	if (run != NULL && (!cJSON_IsString(run) ||
	    !listed(accounts, run->valuestring))) {
		err_invalid(rs, s, rq, "runAsAccount",
		    "must be system or user");
		return -1;
	}
	return 0;
}

int
strict_values(const struct server *s, const struct req *rq,
    struct resp *rs, const struct tenant *t, const cJSON *body,
    enum coll c)
{
	char prop[64];

	/* Stricter than Graph: an unmapped scope tag is a test bug. */
	if (data_check_scope_tags(t, body, prop, sizeof(prop)) != 0) {
		err_invalid(rs, s, rq, prop, "names a scope tag that does not "
		    "exist in this tenant");
		return -1;
	}
	return c == COLL_SCRIPTS ? script_values(s, rq, rs, body) : 0;
}

int
strict_type(const struct server *s, const struct req *rq, struct resp *rs,
    const cJSON *body, enum coll c)
{
	const char *type = data_str(body, "@odata.type");
	const char *base = c == COLL_COMPLIANCE ?
	    "microsoft.graph.deviceCompliancePolicy" :
	    "microsoft.graph.deviceConfiguration";
	bool compliance;

	if (type == NULL || strcmp(type + (type[0] == '#'), base) == 0) {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure", "Cannot "
		    "create an abstract class. The body must carry the derived "
		    "'@odata.type' of the %s to create.", base);
		return -1;
	}
	if (strncmp(type, "#microsoft.graph.", 17) != 0 || type[17] == '\0') {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure", "A type "
		    "named '%.100s' could not be resolved by the model. When a "
		    "model is available, each type name must resolve to a "
		    "valid type.", type);
		return -1;
	}
	compliance = str_suffix(type, "CompliancePolicy");
	if (compliance != (c == COLL_COMPLIANCE)) {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure", "A "
		    "resource with type '%.100s' was found, but it is not "
		    "assignable to the expected type '%s'. The type specified "
		    "in the resource must be equal to either the expected type "
		    "or a derived type.", type + 1, base);
		return -1;
	}
	return 0;
}

/* Why target t of a tenant is not acceptable, or NULL. */
static const char *
target_problem(const struct tenant *ten, const cJSON *t)
{
	static const char *const filter_types[] = {"none", "include",
	    "exclude", NULL};
	const char *type = data_str(t, "@odata.type");
	const cJSON *ft = cJSON_GetObjectItemCaseSensitive(t,
	    "deviceAndAppManagementAssignmentFilterType");
	const cJSON *fid = cJSON_GetObjectItemCaseSensitive(t,
	    "deviceAndAppManagementAssignmentFilterId");
	const char *gid = data_str(t, "groupId");

	if (!cJSON_IsObject(t))
		return "has no \"target\" object";
	if (type == NULL || !listed(target_types, type))
		return "has a target '@odata.type' that is not an assignment "
		    "target type";
	if (ft != NULL && !cJSON_IsNull(ft) && (!cJSON_IsString(ft) ||
	    !listed(filter_types, ft->valuestring)))
		return "has a deviceAndAppManagementAssignmentFilterType that "
		    "is not none, include or exclude";
	if (fid != NULL && !cJSON_IsNull(fid) && !cJSON_IsString(fid))
		return "has a non-string "
		    "deviceAndAppManagementAssignmentFilterId";
	/* Stricter than Graph, as for groups: the zero GUID means none. */
	if (cJSON_IsString(fid) && strcmp(fid->valuestring, NO_FILTER) != 0 &&
	    data_find(ten->coll[COLL_FILTERS], fid->valuestring) == NULL)
		return "names a deviceAndAppManagementAssignmentFilterId that "
		    "is not an assignment filter of the tenant";
	if (strstr(type, "GroupAssignmentTarget") != NULL ||
	    strstr(type, "groupAssignmentTarget") != NULL) {
		if (gid == NULL)
			return "targets a group without a groupId";
		/* Stricter than Graph: an unmapped group id is a test bug. */
		if (data_find(ten->groups, gid) == NULL)
			return "targets a groupId that is not in the directory";
	}
	if (strstr(type, "configurationManagerCollection") != NULL &&
	    data_str(t, "collectionId") == NULL)
		return "targets a collection without a collectionId";
	return NULL;
}

int
strict_assign(const struct server *s, const struct req *rq,
    struct resp *rs, const struct tenant *t, const cJSON *list,
    const char *key)
{
	const char *problem;
	const cJSON *a;
	int i = 0;

	if (!cJSON_IsArray(list)) {
		err_intunef(rs, s, rq, 400, "ModelValidationFailure",
		    "The body must be {\"%s\":[...]}.", key);
		return -1;
	}
	cJSON_ArrayForEach(a, list) {
		problem = cJSON_IsObject(a) ? target_problem(t,
		    cJSON_GetObjectItemCaseSensitive(a, "target")) :
		    "is not an object";
		if (problem != NULL) {
			err_intunef(rs, s, rq, 400, "ModelValidationFailure",
			    "%s[%d] %s.", key, i, problem);
			return -1;
		}
		i++;
	}
	return 0;
}
