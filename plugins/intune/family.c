/* The Intune policy families and directory kinds; see family.h. */
#include <stdio.h>
#include <string.h>

#include "family.h"
#include "json.h"

/* Members every family's writes leave out (A3; IntuneCD remove_keys). */
#define SERVER_OWNED                                                           \
	"id", "createdDateTime", "lastModifiedDateTime", "modifiedDateTime",   \
	    "version", "supportsScopeTags", "assignments"
/* Reports Intune keeps beside a policy: navigation, never written. */
#define STATUS_NAVS                                                            \
	"deviceStatuses", "userStatuses", "deviceStatusOverview",              \
	    "userStatusOverview", "deviceSettingStateSummaries"

static const char *const strip_config[] = { SERVER_OWNED, STATUS_NAVS,
	"groupAssignments", NULL };
static const char *const strip_compliance[] = { SERVER_OWNED, STATUS_NAVS,
	"scheduledActionsForRule/id",
	"scheduledActionsForRule/scheduledActionConfigurations/id", NULL };
/* Scheduled actions change through scheduleActionsForRules, not PATCH. */
static const char *const strip_compliance_update[] = {
	"scheduledActionsForRule", NULL
};
static const char *const strip_catalog[] = { SERVER_OWNED, "settingCount",
	"creationSource", "isAssigned", "settings/id", NULL };
/* Values are written one by one, or with updateDefinitionValues. */
static const char *const strip_gpconf[] = { SERVER_OWNED, "definitionValues",
	"policyConfigurationIngestionType", NULL };
static const char *const strip_script[] = { SERVER_OWNED, "deviceRunStates",
	"runSummary", "userRunStates", "groupAssignments", NULL };
static const char *const strip_filter[] = { SERVER_OWNED, "payloads", NULL };
/* The platform of a filter is fixed once created. */
static const char *const strip_filter_update[] = { "platform", NULL };
static const char *const strip_tag[] = { SERVER_OWNED, "isBuiltIn", NULL };
static const char *const strip_none[] = { NULL };

static const struct intune_sub subs_compliance[] = {
	{ "scheduledActionsForRule", "$expand=scheduledActionConfigurations",
	    NULL },
	{ NULL, NULL, NULL },
};
static const struct intune_sub subs_catalog[] = {
	{ "settings", NULL, NULL },
	{ NULL, NULL, NULL },
};
static const struct intune_sub sub_presentation_values = { "presentationValues",
	"$expand=presentation", NULL };
static const struct intune_sub subs_gpconf[] = {
	{ "definitionValues", "$expand=definition", &sub_presentation_values },
	{ NULL, NULL, NULL },
};

static const struct intune_secret oma_secret = { "omaSettings", "isEncrypted",
	"secretReferenceValueId", "value", "getOmaSettingPlainTextValue" };

#define DM "/deviceManagement/"

const struct intune_family intune_families[INTUNE_FAMILY_COUNT] = {
	{ "deviceConfigurations", "beta", DM "deviceConfigurations",
	    "displayName", "roleScopeTagIds", INTUNE_TYPE_ODATA,
	    INTUNE_F_ASSIGNMENTS, NULL, &oma_secret, strip_config, strip_none,
	    "PATCH", "assignments" },
	{ "deviceCompliancePolicies", "beta", DM "deviceCompliancePolicies",
	    "displayName", "roleScopeTagIds", INTUNE_TYPE_ODATA,
	    INTUNE_F_ASSIGNMENTS, subs_compliance, NULL, strip_compliance,
	    strip_compliance_update, "PATCH", "assignments" },
	{ "configurationPolicies", "beta", DM "configurationPolicies", "name",
	    "roleScopeTagIds", INTUNE_TYPE_PLATFORMS, INTUNE_F_ASSIGNMENTS,
	    subs_catalog, NULL, strip_catalog, strip_none, "PUT",
	    "assignments" },
	{ "groupPolicyConfigurations", "beta", DM "groupPolicyConfigurations",
	    "displayName", "roleScopeTagIds", INTUNE_TYPE_NONE,
	    INTUNE_F_ASSIGNMENTS, subs_gpconf, NULL, strip_gpconf, strip_none,
	    "PATCH", "assignments" },
	{ "deviceManagementScripts", "beta", DM "deviceManagementScripts",
	    "displayName", "roleScopeTagIds", INTUNE_TYPE_NONE,
	    INTUNE_F_ASSIGNMENTS | INTUNE_F_GET_EACH, NULL, NULL, strip_script,
	    strip_none, "PATCH", "deviceManagementScriptAssignments" },
	{ "assignmentFilters", "beta", DM "assignmentFilters", "displayName",
	    "roleScopeTags", INTUNE_TYPE_NONE, 0, NULL, NULL, strip_filter,
	    strip_filter_update, "PATCH", NULL },
	{ "roleScopeTags", "beta", DM "roleScopeTags", "displayName", NULL,
	    INTUNE_TYPE_NONE, 0, NULL, NULL, strip_tag, strip_none, "PATCH",
	    NULL },
};

const struct intune_dir_kind intune_dir_kinds[INTUNE_DIR_KIND_COUNT] = {
	{ "groups",
	    "/v1.0/groups?$select=id,displayName,description,securityEnabled,groupTypes&$top=999",
	    "displayName" },
	{ "assignmentFilters", "/beta" DM "assignmentFilters", "displayName" },
	{ "roleScopeTags", "/beta" DM "roleScopeTags", "displayName" },
};

const struct intune_family *
intune_family_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < INTUNE_FAMILY_COUNT; i++)
		if (strcmp(intune_families[i].name, name) == 0)
			return &intune_families[i];
	return NULL;
}

const char *
intune_object_name(const struct intune_family *fam, const cJSON *obj)
{
	return intune_json_str(obj, fam->name_prop);
}

int
intune_object_type(const struct intune_family *fam, const cJSON *obj, char *out,
    size_t len)
{
	const char *type = intune_json_str(obj, "@odata.type");
	const char *plat = intune_json_str(obj, "platforms");
	const char *tech = intune_json_str(obj, "technologies");
	int n = -1;

	switch (fam->type_rule) {
	case INTUNE_TYPE_ODATA:
		if (type != NULL)
			n = snprintf(out, len, "%s", type);
		break;
	case INTUNE_TYPE_PLATFORMS:
		if (plat != NULL && tech != NULL)
			n = snprintf(out, len, "%s|%s", plat, tech);
		break;
	case INTUNE_TYPE_NONE:
		n = snprintf(out, len, "%s", fam->name);
		break;
	}
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int
intune_family_url(const struct intune_family *fam, const char *version,
    const char *id, const char *suffix, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s%s%s%s%s", version != NULL ? "/" : "",
	    version != NULL ? version : "", fam->path, id != NULL ? "/" : "",
	    id != NULL ? id : "", suffix != NULL ? suffix : "");

	return n >= 0 && (size_t)n < len ? 0 : -1;
}

/* Walks into objects and across arrays; see family.h. */
void
intune_strip_path(cJSON *node, const char *path)
{
	const char *slash = strchr(path, '/');
	char head[128];
	cJSON *child;

	if (cJSON_IsArray(node)) {
		cJSON_ArrayForEach(child, node)
			intune_strip_path(child, path);
		return;
	}
	if (!cJSON_IsObject(node))
		return;
	if (slash == NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(node, path);
		return;
	}
	if ((size_t)(slash - path) >= sizeof(head))
		return;
	memcpy(head, path, (size_t)(slash - path));
	head[slash - path] = '\0';
	intune_strip_path(cJSON_GetObjectItemCaseSensitive(node, head),
	    slash + 1);
}

/* An annotation Graph adds on reads and refuses on writes: any
 * "...@odata.*" but the bare "@odata.type" and "...@odata.bind". */
static int
read_annotation(const char *key)
{
	static const char bind[] = "@odata.bind";
	size_t n = strlen(key), k = sizeof(bind) - 1;

	if (strstr(key, "@odata.") == NULL || strcmp(key, "@odata.type") == 0)
		return 0;
	return !(n > k && strcmp(key + n - k, bind) == 0);
}

/* Removes annotations and secret references from node, at any depth. */
static void
strip_everywhere(cJSON *node, const char *ref)
{
	cJSON *child = node != NULL ? node->child : NULL, *next;

	for (; child != NULL; child = next) {
		next = child->next;
		if (cJSON_IsObject(node) && child->string != NULL &&
		    (read_annotation(child->string) ||
			strcmp(child->string, ref) == 0)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(node, child));
			continue;
		}
		strip_everywhere(child, ref);
	}
}

void
intune_strip_for_write(const struct intune_family *fam, cJSON *obj,
    enum intune_write mode)
{
	const char *const *p;

	for (p = fam->strip; *p != NULL; p++)
		intune_strip_path(obj, *p);
	for (p = fam->strip_update; mode == INTUNE_WRITE_UPDATE && *p != NULL;
	     p++)
		intune_strip_path(obj, *p);
	strip_everywhere(obj, "secretReferenceValueId");
}
