/*
 * Unit tests for the comparison and mapping part of the Intune library
 * (plugins/intune/compare.h): normalizing (server-owned members
 * stripped, members and unordered collections sorted, numbers by value),
 * diffs with their paths, matching by name and derived type, and mapping
 * assignments and scope tags through a fake host's directory cache (an
 * in-memory table behind directory_find_by_name and
 * directory_synced_at).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../plugins/intune/intune.h"

/* One cached directory object. */
struct entry {
	const char *tenant, *kind, *id, *name;
};

static const struct entry directory[] = {
	{ "fabrikam", "groups", "g-pilot-fab", "Intune Pilot Devices" },
	{ "fabrikam", "groups", "g-hr-1", "HR Users" },
	{ "fabrikam", "groups", "g-hr-2", "hr users" },
	{ "fabrikam", "assignmentFilters", "f-win-fab", "Win corporate" },
	{ "fabrikam", "roleScopeTags", "7", "Paris" },
	{ "contoso", "groups", "g-pilot-con", "Intune Pilot Devices" },
};

/* The fake host's state; the ctx a plugin passes back is this. */
struct oprun_ctx {
	int finds;
	int fail; /* directory_find_by_name fails */
};

static int
fake_find(struct oprun_ctx *c, const char *tenant, const char *kind,
    const char *name,
    int (*each)(void *arg, const char *id, const char *display_name,
	const char *json),
    void *arg)
{
	size_t i;
	int n = 0;

	c->finds++;
	if (c->fail)
		return -1;
	for (i = 0; i < sizeof(directory) / sizeof(directory[0]); i++)
		if (strcmp(directory[i].tenant, tenant) == 0 &&
		    strcmp(directory[i].kind, kind) == 0 &&
		    strcasecmp(directory[i].name, name) == 0) {
			n++;
			each(arg, directory[i].id, directory[i].name, "{}");
		}
	return n;
}

static int64_t
fake_synced_at(struct oprun_ctx *c, const char *tenant, const char *kind)
{
	(void)c;
	(void)kind;
	/* 2026-12-02T10:00:00.000Z for fabrikam; contoso never synced. */
	return strcmp(tenant, "fabrikam") == 0 ? INT64_C(1796205600000) : 0;
}

static const char *
fake_last_error(struct oprun_ctx *c)
{
	return c->fail ? "the store is closed" : "";
}

static struct oprun_host host = {
	.size = sizeof(struct oprun_host),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.directory_find_by_name = fake_find,
	.directory_synced_at = fake_synced_at,
	.last_error = fake_last_error,
};

static cJSON *
parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	return j;
}

/* fam's normalized form of text. */
static cJSON *
norm(const char *family, const char *text)
{
	const struct intune_family *fam = intune_family_find(family);
	cJSON *j = parse(text), *n;

	assert_non_null(fam);
	n = intune_normalize(fam, j);
	assert_non_null(n);
	cJSON_Delete(j);
	return n;
}

/* The differences seen, as "path: old -> new (kind)" lines. */
struct seen {
	int n;
	char lines[8][512];
};

static void
collect(void *arg, const char *path, const char *old_json,
    const char *new_json, enum intune_diff_kind kind)
{
	struct seen *s = arg;
	static const char *const kinds[] = { "changed", "added", "removed" };

	if (s->n < 8)
		snprintf(s->lines[s->n], sizeof(s->lines[0]), "%s: %s -> %s (%s)",
		    path, old_json, new_json, kinds[kind]);
	s->n++;
}

#define SETTING(ID, VALUE)                                                     \
	"{\"id\":\"" ID "-sid\",\"settingInstance\":{\"@odata.type\":"       \
	"\"#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance\"," \
	"\"settingDefinitionId\":\"" ID "\",\"choiceSettingValue\":"         \
	"{\"value\":\"" VALUE "\",\"children\":[]}}}"

#define S1 "device_vendor_msft_policy_config_defender_setting1"
#define S2 "device_vendor_msft_policy_config_defender_setting2"
#define S3 "device_vendor_msft_policy_config_defender_setting3"

static void
reordered_settings_compare_equal_and_server_fields_never_diff(void **state)
{
	cJSON *a, *b;

	(void)state;
	a = norm("configurationPolicies",
	    "{\"@odata.context\":\"https://graph/$metadata#x\","
	    "\"id\":\"p-1\",\"name\":\"Defender\",\"platforms\":\"windows10\","
	    "\"technologies\":\"mdm\",\"createdDateTime\":\"2026-01-01T00:00:00Z\","
	    "\"lastModifiedDateTime\":\"2026-02-01T00:00:00Z\",\"settingCount\":3,"
	    "\"creationSource\":null,\"isAssigned\":true,\"roleScopeTagIds\":[\"0\",\"7\"],"
	    "\"settings@odata.context\":\"https://graph/x\","
	    "\"settings\":[" SETTING(S1, "a") "," SETTING(S2, "b") "," SETTING(S3,
		"c") "]}");
	b = norm("configurationPolicies",
	    "{\"technologies\":\"mdm\",\"roleScopeTagIds\":[\"7\",\"0\"],"
	    "\"id\":\"p-2\",\"name\":\"Defender\",\"platforms\":\"windows10\","
	    "\"settingCount\":9,\"isAssigned\":false,\"version\":4,"
	    "\"assignments\":[{\"id\":\"x\"}],"
	    "\"settings\":[" SETTING(S3, "c") "," SETTING(S1, "a") "," SETTING(S2,
		"b") "]}");
	assert_true(intune_equal(a, b));
	assert_int_equal(intune_diff(a, b, NULL, NULL), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "id"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "@odata.context"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "settings@odata.context"));
	assert_null(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "settings"), 0),
	    "id"));
	/* Members sorted by name: "name" first, then "platforms". */
	assert_string_equal(a->child->string, "name");
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void
a_changed_setting_gives_one_diff_with_its_path(void **state)
{
	struct seen s = { 0 };
	cJSON *a, *b;

	(void)state;
	a = norm("configurationPolicies",
	    "{\"name\":\"Defender\",\"platforms\":\"windows10\","
	    "\"technologies\":\"mdm\",\"settings\":[" SETTING(S1, "a") "," SETTING(
		S3, "old") "]}");
	b = norm("configurationPolicies",
	    "{\"name\":\"Defender\",\"platforms\":\"windows10\","
	    "\"technologies\":\"mdm\",\"settings\":[" SETTING(S3,
		"new") "," SETTING(S1, "a") "]}");
	assert_int_equal(intune_diff(a, b, collect, &s), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0],
	    "settings[" S3 "].settingInstance.choiceSettingValue.value: "
	    "\"old\" -> \"new\" (changed)");
	assert_false(intune_equal(a, b));
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void
absent_members_and_ordered_arrays_have_their_kind_and_index(void **state)
{
	struct seen s = { 0 };
	cJSON *a, *b;

	(void)state;
	a = norm("deviceConfigurations",
	    "{\"@odata.type\":\"#microsoft.graph.windows10GeneralConfiguration\","
	    "\"displayName\":\"W\",\"gone\":1,\"list\":[1,2],"
	    "\"roleScopeTagIds\":[\"0\"]}");
	b = norm("deviceConfigurations",
	    "{\"@odata.type\":\"#microsoft.graph.windows10GeneralConfiguration\","
	    "\"displayName\":\"W\",\"list\":[1,3,4],\"more\":null,"
	    "\"roleScopeTagIds\":[\"7\",\"0\"]}");
	assert_int_equal(intune_diff(a, b, collect, &s), 5);
	assert_string_equal(s.lines[0], "gone: 1 -> null (removed)");
	assert_string_equal(s.lines[1], "list[1]: 2 -> 3 (changed)");
	assert_string_equal(s.lines[2], "list[2]: null -> 4 (added)");
	assert_string_equal(s.lines[3], "more: null -> null (added)");
	assert_string_equal(s.lines[4],
	    "roleScopeTagIds: [\"0\"] -> [\"0\",\"7\"] (changed)");
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void
numbers_compare_by_value_and_keyed_collections_sort(void **state)
{
	struct seen s = { 0 };
	cJSON *a, *b;

	(void)state;
	a = norm("deviceCompliancePolicies",
	    "{\"@odata.type\":\"#microsoft.graph.windows10CompliancePolicy\","
	    "\"displayName\":\"C\",\"passwordMinimumLength\":8,"
	    "\"scheduledActionsForRule\":[{\"id\":\"r1\",\"ruleName\":\"PasswordRequired\","
	    "\"scheduledActionConfigurations\":[{\"id\":\"c1\",\"actionType\":\"block\","
	    "\"gracePeriodHours\":0},{\"id\":\"c2\",\"actionType\":\"notification\","
	    "\"gracePeriodHours\":24}]}]}");
	b = norm("deviceCompliancePolicies",
	    "{\"@odata.type\":\"#microsoft.graph.windows10CompliancePolicy\","
	    "\"displayName\":\"C\",\"passwordMinimumLength\":8.0,"
	    "\"scheduledActionsForRule\":[{\"ruleName\":\"PasswordRequired\","
	    "\"scheduledActionConfigurations\":[{\"actionType\":\"notification\","
	    "\"gracePeriodHours\":48},{\"actionType\":\"block\","
	    "\"gracePeriodHours\":0.0}]}]}");
	assert_int_equal(intune_diff(a, b, collect, &s), 1);
	assert_string_equal(s.lines[0],
	    "scheduledActionsForRule[PasswordRequired]."
	    "scheduledActionConfigurations[notification].gracePeriodHours: "
	    "24 -> 48 (changed)");
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void
oma_settings_and_definition_values_match_by_key(void **state)
{
	cJSON *a, *b, *c, *d;
	struct seen s = { 0 };

	(void)state;
	a = norm("deviceConfigurations",
	    "{\"@odata.type\":\"#microsoft.graph.windows10CustomConfiguration\","
	    "\"displayName\":\"O\",\"omaSettings\":[{\"omaUri\":\"./b\",\"value\":1,"
	    "\"isEncrypted\":true,\"secretReferenceValueId\":\"s1\"},"
	    "{\"omaUri\":\"./a\",\"value\":2}]}");
	b = norm("deviceConfigurations",
	    "{\"@odata.type\":\"#microsoft.graph.windows10CustomConfiguration\","
	    "\"displayName\":\"O\",\"omaSettings\":[{\"omaUri\":\"./a\",\"value\":2},"
	    "{\"omaUri\":\"./b\",\"value\":1,\"isEncrypted\":true,"
	    "\"secretReferenceValueId\":\"s2\"}]}");
	assert_true(intune_equal(a, b));
	/* Expanded definition against a bind URL; values in another order;
	 * the family's strip list drops definitionValues, the comparison
	 * keeps them. */
	c = norm("groupPolicyConfigurations",
	    "{\"displayName\":\"G\",\"definitionValues\":["
	    "{\"id\":\"v1\",\"enabled\":true,\"createdDateTime\":\"x\","
	    "\"definition@odata.context\":\"y\",\"definition\":{\"id\":\"d-1\","
	    "\"displayName\":\"Turn off\",\"lastModifiedDateTime\":\"z\"},"
	    "\"presentationValues\":[{\"id\":\"pv1\",\"value\":\"on\","
	    "\"presentation\":{\"id\":\"p-1\",\"label\":\"L\"}}]},"
	    "{\"id\":\"v2\",\"enabled\":false,\"definition\":{\"id\":\"d-2\"}}]}");
	d = norm("groupPolicyConfigurations",
	    "{\"displayName\":\"G\",\"definitionValues\":["
	    "{\"enabled\":false,\"definition@odata.bind\":"
	    "\"https://graph.microsoft.com/beta/deviceManagement/groupPolicyDefinitions('d-2')\"},"
	    "{\"enabled\":true,\"definition@odata.bind\":"
	    "\"https://graph.microsoft.com/beta/deviceManagement/groupPolicyDefinitions('d-1')\","
	    "\"presentationValues\":[{\"value\":\"off\",\"presentation@odata.bind\":"
	    "\"https://graph.microsoft.com/beta/deviceManagement/groupPolicyDefinitions('d-1')/presentations('p-1')\"}]}]}");
	assert_int_equal(intune_diff(c, d, collect, &s), 1);
	assert_string_equal(s.lines[0],
	    "definitionValues[d-1].presentationValues[p-1].value: \"on\" -> "
	    "\"off\" (changed)");
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(d);
}

#define WIN10 "#microsoft.graph.windows10CustomConfiguration"
#define IOS "#microsoft.graph.iosCustomConfiguration"

static void
match_finds_none_one_several_and_other_type(void **state)
{
	const struct intune_family *fam =
	    intune_family_find("deviceConfigurations");
	const struct intune_family *cat =
	    intune_family_find("configurationPolicies");
	cJSON *backup = parse("{\"@odata.type\":\"" WIN10
			      "\",\"displayName\":\"Pilot\"}");
	cJSON *tenant = parse("[{\"@odata.type\":\"" WIN10
			      "\",\"displayName\":\"pilot\"},"
			      "{\"@odata.type\":\"" IOS
			      "\",\"displayName\":\"Pilot\"},"
			      "{\"displayName\":\"Pilot\"},"
			      "{\"@odata.type\":\"" WIN10
			      "\",\"displayName\":\"Pilot\"}]");
	cJSON *none = parse("[{\"@odata.type\":\"" WIN10
			    "\",\"displayName\":\"Other\"}]");
	cJSON *other = parse("[{\"@odata.type\":\"" IOS
			     "\",\"displayName\":\"Pilot\"}]");
	cJSON *two = parse("[{\"@odata.type\":\"" WIN10
			   "\",\"displayName\":\"Pilot\"},{\"@odata.type\":\"" WIN10
			   "\",\"displayName\":\"Pilot\"}]");
	cJSON *cb = parse("{\"name\":\"P\",\"platforms\":\"windows10\","
			  "\"technologies\":\"mdm\"}");
	cJSON *ct = parse("[{\"name\":\"P\",\"platforms\":\"windows10\","
			  "\"technologies\":\"mdm,microsoftSense\"},"
			  "{\"name\":\"P\",\"platforms\":\"windows10\","
			  "\"technologies\":\"mdm\"}]");
	struct intune_match m;
	char err[256];

	(void)state;
	assert_int_equal(intune_match(fam, backup, tenant, &m, err, sizeof(err)),
	    0);
	assert_int_equal(m.status, INTUNE_MATCH_ONE);
	assert_int_equal(m.index, 3);
	assert_int_equal(m.count, 1);
	assert_int_equal(m.other_type, 2); /* iOS and the untyped one */
	assert_int_equal(intune_match(fam, backup, none, &m, err, sizeof(err)),
	    0);
	assert_int_equal(m.status, INTUNE_MATCH_NONE);
	assert_int_equal(intune_match(fam, backup, other, &m, err, sizeof(err)),
	    0);
	assert_int_equal(m.status, INTUNE_MATCH_OTHER_TYPE);
	assert_int_equal(m.other_type, 1);
	assert_int_equal(intune_match(fam, backup, two, &m, err, sizeof(err)),
	    0);
	assert_int_equal(m.status, INTUNE_MATCH_SEVERAL);
	assert_int_equal(m.count, 2);
	assert_int_equal(intune_match(cat, cb, ct, &m, err, sizeof(err)), 0);
	assert_int_equal(m.status, INTUNE_MATCH_ONE);
	assert_int_equal(m.index, 1);
	assert_int_equal(intune_match(cat, backup, ct, &m, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "the backup object has no name");
	cJSON_Delete(backup);
	cJSON_Delete(tenant);
	cJSON_Delete(none);
	cJSON_Delete(other);
	cJSON_Delete(two);
	cJSON_Delete(cb);
	cJSON_Delete(ct);
}

/* Maps assignment text for fabrikam; returns the code, target in *out. */
static int
map(struct oprun_ctx *c, const char *tenant, const char *text, cJSON **out,
    char *reason, size_t len)
{
	cJSON *a = parse(text);
	int rc = intune_map_assignment(&host, c, tenant, a, out, reason, len);

	cJSON_Delete(a);
	return rc;
}

#define GROUP_TARGET(GID, FID, FTYPE)                                          \
	"\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\"," \
	"\"groupId\":\"" GID "\","                                           \
	"\"deviceAndAppManagementAssignmentFilterId\":\"" FID "\","          \
	"\"deviceAndAppManagementAssignmentFilterType\":\"" FTYPE "\"}"

static void
one_cached_hit_maps_to_the_destination_ids(void **state)
{
	struct oprun_ctx c = { 0, 0 };
	char reason[512] = "";
	cJSON *t = NULL;

	(void)state;
	assert_int_equal(map(&c, "fabrikam",
			     "{\"id\":\"a1\"," GROUP_TARGET("g-src", "f-src",
				 "include") ","
						"\"group\":{\"id\":\"g-src\",\"displayName\":"
						"\"intune pilot devices\",\"inCache\":true},"
						"\"filter\":{\"id\":\"f-src\",\"displayName\":"
						"\"Win corporate\",\"inCache\":true,"
						"\"type\":\"include\"}}",
			     &t, reason, sizeof(reason)),
	    0);
	assert_non_null(t);
	assert_string_equal(intune_json_str(t, "groupId"), "g-pilot-fab");
	assert_string_equal(
	    intune_json_str(t, "deviceAndAppManagementAssignmentFilterId"),
	    "f-win-fab");
	assert_string_equal(
	    intune_json_str(t, "deviceAndAppManagementAssignmentFilterType"),
	    "include");
	assert_string_equal(intune_json_str(t, "@odata.type"),
	    "#microsoft.graph.groupAssignmentTarget");
	assert_int_equal(c.finds, 2);
	cJSON_Delete(t);
}

static void
ambiguous_missing_and_unnamed_groups_do_not_map(void **state)
{
	struct oprun_ctx c = { 0, 0 };
	char reason[512];
	cJSON *t = NULL;

	(void)state;
	assert_int_equal(map(&c, "fabrikam",
			     "{" GROUP_TARGET("g-src", INTUNE_NO_FILTER,
				 "none") ",\"group\":{\"id\":\"g-src\","
					 "\"displayName\":\"HR Users\","
					 "\"inCache\":true}}",
			     &t, reason, sizeof(reason)),
	    1);
	assert_null(t);
	assert_string_equal(reason,
	    "group 'HR Users' matches 2 groups in the directory cache of "
	    "fabrikam");
	assert_int_equal(map(&c, "fabrikam",
			     "{" GROUP_TARGET("g-src", INTUNE_NO_FILTER,
				 "none") ",\"group\":{\"id\":\"g-src\","
					 "\"displayName\":\"X\","
					 "\"inCache\":true}}",
			     &t, reason, sizeof(reason)),
	    1);
	assert_null(t);
	assert_string_equal(reason,
	    "group 'X' is not in the directory cache of fabrikam (synced "
	    "2026-12-02T10:00:00.000Z; run directory-sync)");
	assert_int_equal(map(&c, "contoso",
			     "{" GROUP_TARGET("g-src", INTUNE_NO_FILTER,
				 "none") ",\"group\":{\"id\":\"g-src\","
					 "\"displayName\":\"X\","
					 "\"inCache\":true}}",
			     &t, reason, sizeof(reason)),
	    1);
	assert_string_equal(reason,
	    "group 'X' is not in the directory cache of contoso (never "
	    "synced; run directory-sync)");
	c.finds = 0;
	assert_int_equal(map(&c, "fabrikam",
			     "{" GROUP_TARGET("g-src", INTUNE_NO_FILTER,
				 "none") ",\"group\":{\"id\":\"g-src\","
					 "\"displayName\":null,"
					 "\"inCache\":false}}",
			     &t, reason, sizeof(reason)),
	    1);
	assert_null(t);
	assert_int_equal(c.finds, 0);
	assert_string_equal(reason,
	    "the backup has no name for group g-src (it was not in the cache "
	    "when the backup was made)");
	/* A filter without a stored name, and one that matches nothing. */
	assert_int_equal(map(&c, "fabrikam",
			     "{" GROUP_TARGET("g-src", "f-src",
				 "exclude") ",\"group\":{\"id\":\"g-src\","
					    "\"displayName\":\"Intune Pilot "
					    "Devices\"},\"filter\":{\"id\":"
					    "\"f-src\",\"displayName\":null}}",
			     &t, reason, sizeof(reason)),
	    1);
	assert_null(t);
	assert_string_equal(reason,
	    "the backup has no name for filter f-src (it was not in the "
	    "cache when the backup was made)");
	assert_int_equal(map(&c, "fabrikam",
			     "{" GROUP_TARGET("g-src", "f-src",
				 "exclude") ",\"group\":{\"id\":\"g-src\","
					    "\"displayName\":\"Intune Pilot "
					    "Devices\"},\"filter\":{\"id\":"
					    "\"f-src\",\"displayName\":\"Mac\"}}",
			     &t, reason, sizeof(reason)),
	    1);
	assert_null(t);
	assert_string_equal(reason,
	    "filter 'Mac' is not in the directory cache of fabrikam (synced "
	    "2026-12-02T10:00:00.000Z; run directory-sync)");
	/* The host failing is -1, not a conflict. */
	c.fail = 1;
	assert_int_equal(map(&c, "fabrikam",
			     "{" GROUP_TARGET("g-src", INTUNE_NO_FILTER,
				 "none") ",\"group\":{\"id\":\"g-src\","
					 "\"displayName\":\"X\"}}",
			     &t, reason, sizeof(reason)),
	    -1);
	assert_string_equal(reason,
	    "cannot look up group 'X' in the directory cache of fabrikam: the "
	    "store is closed");
}

static void
all_devices_and_no_filter_map_as_they_are(void **state)
{
	struct oprun_ctx c = { 0, 0 };
	char reason[512];
	cJSON *t = NULL;

	(void)state;
	assert_int_equal(map(&c, "fabrikam",
			     "{\"target\":{\"@odata.type\":"
			     "\"#microsoft.graph.allDevicesAssignmentTarget\","
			     "\"deviceAndAppManagementAssignmentFilterId\":\"" INTUNE_NO_FILTER
			     "\",\"deviceAndAppManagementAssignmentFilterType\":"
			     "\"none\"}}",
			     &t, reason, sizeof(reason)),
	    0);
	assert_string_equal(intune_json_str(t, "@odata.type"),
	    "#microsoft.graph.allDevicesAssignmentTarget");
	assert_string_equal(
	    intune_json_str(t, "deviceAndAppManagementAssignmentFilterId"),
	    INTUNE_NO_FILTER);
	assert_int_equal(c.finds, 0);
	cJSON_Delete(t);
	/* Type none with a stale source filter id: no filter, and the
	 * source id does not survive. */
	assert_int_equal(map(&c, "fabrikam",
			     "{\"target\":{\"@odata.type\":"
			     "\"#microsoft.graph.allLicensedUsersAssignmentTarget\","
			     "\"deviceAndAppManagementAssignmentFilterId\":\"f-src\","
			     "\"deviceAndAppManagementAssignmentFilterType\":"
			     "\"none\"}}",
			     &t, reason, sizeof(reason)),
	    0);
	assert_string_equal(
	    intune_json_str(t, "deviceAndAppManagementAssignmentFilterId"),
	    INTUNE_NO_FILTER);
	assert_int_equal(c.finds, 0);
	cJSON_Delete(t);
	/* An exclusion group with no filter members at all. */
	assert_int_equal(map(&c, "fabrikam",
			     "{\"target\":{\"@odata.type\":"
			     "\"#microsoft.graph.exclusionGroupAssignmentTarget\","
			     "\"groupId\":\"g-src\"},\"group\":{\"id\":\"g-src\","
			     "\"displayName\":\"Intune Pilot Devices\"}}",
			     &t, reason, sizeof(reason)),
	    0);
	assert_string_equal(intune_json_str(t, "groupId"), "g-pilot-fab");
	assert_null(cJSON_GetObjectItemCaseSensitive(t,
	    "deviceAndAppManagementAssignmentFilterId"));
	cJSON_Delete(t);
	assert_int_equal(map(&c, "fabrikam",
			     "{\"target\":{\"@odata.type\":\"#microsoft.graph."
			     "configurationManagerCollectionAssignmentTarget\","
			     "\"collectionId\":\"SMS0001\"}}",
			     &t, reason, sizeof(reason)),
	    1);
	assert_null(t);
	assert_string_equal(reason,
	    "a target of type "
	    "#microsoft.graph.configurationManagerCollectionAssignmentTarget "
	    "cannot be mapped by name");
}

static void
scope_tags_map_default_and_by_name(void **state)
{
	struct oprun_ctx c = { 0, 0 };
	char reason[512];
	cJSON *tags, *ids = NULL;
	char *text;

	(void)state;
	tags = parse("[{\"id\":\"0\",\"displayName\":\"Default\",\"inCache\":true},"
		     "{\"id\":\"3\",\"displayName\":\"paris\",\"inCache\":true}]");
	assert_int_equal(intune_map_scope_tags(&host, &c, "fabrikam", tags,
			     &ids, reason, sizeof(reason)),
	    0);
	text = cJSON_PrintUnformatted(ids);
	assert_string_equal(text, "[\"0\",\"7\"]");
	free(text);
	cJSON_Delete(ids);
	cJSON_Delete(tags);
	assert_int_equal(c.finds, 1);
	tags = parse("[{\"id\":\"3\",\"displayName\":null,\"inCache\":false}]");
	assert_int_equal(intune_map_scope_tags(&host, &c, "fabrikam", tags,
			     &ids, reason, sizeof(reason)),
	    1);
	assert_null(ids);
	assert_string_equal(reason,
	    "the backup has no name for scope tag 3 (it was not in the cache "
	    "when the backup was made)");
	cJSON_Delete(tags);
	tags = parse("[{\"id\":\"3\",\"displayName\":\"Lyon\"}]");
	assert_int_equal(intune_map_scope_tags(&host, &c, "fabrikam", tags,
			     &ids, reason, sizeof(reason)),
	    1);
	assert_string_equal(reason,
	    "scope tag 'Lyon' is not in the directory cache of fabrikam "
	    "(synced 2026-12-02T10:00:00.000Z; run directory-sync)");
	cJSON_Delete(tags);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    reordered_settings_compare_equal_and_server_fields_never_diff),
		cmocka_unit_test(a_changed_setting_gives_one_diff_with_its_path),
		cmocka_unit_test(
		    absent_members_and_ordered_arrays_have_their_kind_and_index),
		cmocka_unit_test(
		    numbers_compare_by_value_and_keyed_collections_sort),
		cmocka_unit_test(oma_settings_and_definition_values_match_by_key),
		cmocka_unit_test(match_finds_none_one_several_and_other_type),
		cmocka_unit_test(one_cached_hit_maps_to_the_destination_ids),
		cmocka_unit_test(
		    ambiguous_missing_and_unnamed_groups_do_not_map),
		cmocka_unit_test(all_devices_and_no_filter_map_as_they_are),
		cmocka_unit_test(scope_tags_map_default_and_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
