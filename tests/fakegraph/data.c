/*
 * data - the fixture (S10): loading, checking and normalizing it, and
 * small helpers over the cJSON tree that then holds every tenant's
 * groups and policies.  Writes change the tree in place; nothing is ever
 * written back to the fixture file.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* 64 MiB: far more than any fixture we write by hand or script. */
#define FIXTURE_MAX	(64 * 1024 * 1024)

static const char *const dmc_read[] = {
	"DeviceManagementConfiguration.Read.All",
	"DeviceManagementConfiguration.ReadWrite.All", NULL
};
static const char *const dmc_write[] = {
	"DeviceManagementConfiguration.ReadWrite.All", NULL
};
/* updateDefinitionValues is documented under ServiceConfig (A1). */
static const char *const gp_write[] = {
	"DeviceManagementConfiguration.ReadWrite.All",
	"DeviceManagementServiceConfig.ReadWrite.All", NULL
};
static const char *const rbac_read[] = {
	"DeviceManagementRBAC.Read.All", "DeviceManagementRBAC.ReadWrite.All",
	NULL
};
static const char *const rbac_write[] = {
	"DeviceManagementRBAC.ReadWrite.All", NULL
};

static const char *const none[] = {NULL};
static const char *const nav_assign[] = {"assignments", NULL};
static const char *const nav_compliance[] = {"assignments",
	"scheduledActionsForRule", NULL};
static const char *const nav_confpol[] = {"assignments", "settings", NULL};
static const char *const nav_gpconf[] = {"assignments", "definitionValues",
	NULL};
static const char *const nav_gpdef[] = {"presentations", NULL};
static const char *const req_confpol[] = {"name", "platforms",
	"technologies", NULL};
static const char *const req_name[] = {"displayName", NULL};
static const char *const req_scripts[] = {"displayName", "fileName",
	"scriptContent", NULL};
static const char *const req_filters[] = {"displayName", "platform", "rule",
	NULL};
static const char *const fixed_confpol[] = {"platforms", "technologies",
	NULL};
static const char *const fixed_filters[] = {"platform", NULL};
static const char *const owned_gpconf[] = {
	"policyConfigurationIngestionType", NULL
};
static const char *const owned_scopetags[] = {"isBuiltIn", NULL};

/* docs/graph.md A1-A3 and C2 S4, S7. */
static const struct family families[COLL_N] = {
	[COLL_DEVCONF] = {
		.name = "deviceConfigurations", .assignable = true,
		.versioned = true, .timestamps = true, .typed = true,
		.assign_key = "assignments", .assign_status = 200,
		.navs = nav_assign, .required = none, .fixed = none,
		.owned = none, .read = dmc_read, .write = dmc_write,
	},
	[COLL_COMPLIANCE] = {
		.name = "deviceCompliancePolicies", .assignable = true,
		.versioned = true, .timestamps = true, .typed = true,
		.assign_key = "assignments", .assign_status = 200,
		.navs = nav_compliance, .required = none, .fixed = none,
		.owned = none, .read = dmc_read, .write = dmc_write,
	},
	[COLL_CONFPOL] = {
		.name = "configurationPolicies", .beta_only = true,
		.assignable = true, .versioned = true, .timestamps = true,
		.assign_key = "assignments", .assign_status = 200,
		.navs = nav_confpol, .required = req_confpol,
		.fixed = fixed_confpol, .fixed_msg = "Platform, PolicyType, "
		"and CreationSource cannot be changed once created.",
		.owned = none, .read = dmc_read, .write = dmc_write,
	},
	[COLL_GPCONF] = {
		.name = "groupPolicyConfigurations", .beta_only = true,
		.assignable = true, .timestamps = true,
		.assign_key = "assignments", .assign_status = 200,
		.navs = nav_gpconf, .required = req_name, .fixed = none,
		.owned = owned_gpconf, .read = dmc_read, .write = gp_write,
	},
	[COLL_GPDEF] = {
		.name = "groupPolicyDefinitions", .beta_only = true,
		.read_only = true, .timestamps = true, .navs = nav_gpdef,
		.required = req_name, .fixed = none, .owned = none,
		.read = dmc_read, .write = dmc_write,
	},
	[COLL_SCRIPTS] = {
		.name = "deviceManagementScripts", .beta_only = true,
		.assignable = true, .timestamps = true,
		.assign_key = "deviceManagementScriptAssignments",
		.assign_status = 204, .navs = nav_assign,
		.required = req_scripts, .fixed = none, .owned = none,
		.read = dmc_read, .write = dmc_write,
	},
	[COLL_FILTERS] = {
		.name = "assignmentFilters", .beta_only = true,
		.timestamps = true, .navs = none, .required = req_filters,
		.fixed = fixed_filters, .fixed_msg = "The platform of an "
		"assignment filter cannot be changed once created.",
		.owned = none, .read = dmc_read, .write = dmc_write,
	},
	[COLL_SCOPETAGS] = {
		.name = "roleScopeTags", .beta_only = true, .int_ids = true,
		.navs = none, .required = req_name, .fixed = none,
		.owned = owned_scopetags, .read = rbac_read,
		.write = rbac_write,
	},
};

static const char *const pager_names[PAGE_N - COLL_N] = {
	"settings", "assignments", "definitionValues", "presentationValues",
	"presentations", "groups"
};

/* Defaults mirror real Graph (docs/graph.md A4 and C2 S5): settings
 * catalog policies and their settings 25, groups 100 (at most 999), the
 * rest 1000. */
static long
pager_default(int k)
{
	return k == COLL_CONFPOL || k == PAGE_SETTINGS ? 25 :
	    k == PAGE_GROUPS ? 100 : 1000;
}

static long
pager_max(int k)
{
	return k == PAGE_GROUPS ? 999 : 1000;
}

static const char *
pager_name(int k)
{
	return k < COLL_N ? families[k].name : pager_names[k - COLL_N];
}

/* Well-known assignment id suffixes Intune uses for the virtual groups. */
#define ALL_DEVICES_ID	"adadadad-808e-44e2-905a-0b7873a8a531"
#define ALL_USERS_ID	"acacacac-9df4-4c7d-9d50-4ef0226f57a9"
#define FIXTURE_DATE	"2025-01-01T00:00:00Z"

const char *
coll_name(enum coll c)
{
	return families[c].name;
}

const struct family *
family_of(enum coll c)
{
	return &families[c];
}

int
family_lookup(const char *name, enum coll *c)
{
	int i;

	for (i = 0; i < COLL_N; i++) {
		if (strcmp(name, families[i].name) == 0) {
			*c = (enum coll)i;
			return 0;
		}
	}
	return -1;
}

const char *
data_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *
data_find(const cJSON *arr, const char *id)
{
	cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		if (id != NULL && str_ieq(data_str(e, "id"), id))
			return e;
	}
	return NULL;
}

int
data_index(const cJSON *arr, const cJSON *item)
{
	const cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, arr) {
		if (e == item)
			return i;
		i++;
	}
	return -1;
}

void
data_set(cJSON *o, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	else
		cJSON_AddItemToObject(o, key, v);
}

static void
obj_default(cJSON *o, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key) == NULL)
		cJSON_AddItemToObject(o, key, v);
	else
		cJSON_Delete(v);
}

/* The next free small-integer id of arr ("0", "1", ...). */
static void
next_int_id(const cJSON *arr, char *out, size_t len)
{
	const cJSON *e;
	long id, max = -1;

	cJSON_ArrayForEach(e, arr) {
		if (parse_long(data_str(e, "id"), 0, 1000000000L, &id) == 0 &&
		    id > max)
			max = id;
	}
	snprintf(out, len, "%ld", max + 1);
}

static void
set_timestamps(cJSON *item)
{
	char now[32];

	fmt_iso_ms(now_ms(), now, sizeof(now));
	data_set(item, "createdDateTime", cJSON_CreateString(now));
	data_set(item, "lastModifiedDateTime", cJSON_CreateString(now));
}

void
data_stamp_child(cJSON *item)
{
	char id[FG_GUID_LEN];

	guid_new(id);
	data_set(item, "id", cJSON_CreateString(id));
	set_timestamps(item);
}

void
data_stamp_new(const struct tenant *t, cJSON *item, enum coll c)
{
	const struct family *f = &families[c];
	char id[FG_GUID_LEN];

	if (f->int_ids)
		next_int_id(t->coll[c], id, sizeof(id));
	else
		guid_new(id);
	data_set(item, "id", cJSON_CreateString(id));
	if (f->timestamps)
		set_timestamps(item);
	if (f->versioned)
		data_set(item, "version", cJSON_CreateNumber(1));
}

void
data_stamp_update(cJSON *item, enum coll c)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "version");
	char now[32];

	fmt_iso_ms(now_ms(), now, sizeof(now));
	if (families[c].timestamps)
		data_set(item, "lastModifiedDateTime", cJSON_CreateString(now));
	if (families[c].versioned)
		data_set(item, "version", cJSON_CreateNumber(
		    cJSON_IsNumber(v) ? v->valuedouble + 1 : 1));
}

/* What GET shows in place of an encrypted value (an approximation:
 * Graph sends an opaque encrypted string). */
#define OMA_MASK	"********"

void
data_seal_oma(const struct tenant *t, cJSON *policy)
{
	char ref[FG_GUID_LEN];
	cJSON *e, *v;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(policy,
	    "omaSettings")) {
		v = cJSON_GetObjectItemCaseSensitive(e, "value");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e,
		    "isEncrypted")) || !cJSON_IsString(v) ||
		    cJSON_GetObjectItemCaseSensitive(e,
		    "secretReferenceValueId") != NULL)
			continue;
		guid_new(ref);
		cJSON_AddStringToObject(t->secrets, ref, v->valuestring);
		data_set(e, "value", cJSON_CreateString(OMA_MASK));
		data_set(e, "secretReferenceValueId", cJSON_CreateString(ref));
	}
}

/* Gives obj a new GUID id unless it has one. */
static void
give_guid(cJSON *obj)
{
	char id[FG_GUID_LEN];

	if (!cJSON_IsObject(obj) || data_str(obj, "id") != NULL)
		return;
	guid_new(id);
	data_set(obj, "id", cJSON_CreateString(id));
}

void
data_number_actions(cJSON *policy)
{
	cJSON *rule, *act;

	cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(policy,
	    "scheduledActionsForRule")) {
		give_guid(rule);
		cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(rule,
		    "scheduledActionConfigurations"))
			give_guid(act);
	}
}

int
data_check_scope_tags(const struct tenant *t, const cJSON *body, char *prop,
    size_t proplen)
{
	static const char *const keys[] = {"roleScopeTagIds", "roleScopeTags",
	    NULL};
	const cJSON *list, *e;
	size_t k;
	int i;

	for (k = 0; keys[k] != NULL; k++) {
		list = cJSON_GetObjectItemCaseSensitive(body, keys[k]);
		if (list != NULL && !cJSON_IsArray(list)) {
			snprintf(prop, proplen, "%s", keys[k]);
			return -1;
		}
		i = 0;
		cJSON_ArrayForEach(e, list) {
			if (!cJSON_IsString(e) || data_find(
			    t->coll[COLL_SCOPETAGS], e->valuestring) == NULL) {
				snprintf(prop, proplen, "%s[%d]", keys[k], i);
				return -1;
			}
			i++;
		}
	}
	return 0;
}

void
data_number_settings(cJSON *settings)
{
	char id[24];
	cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, settings) {
		if (!cJSON_IsObject(e))
			continue;
		snprintf(id, sizeof(id), "%d", i++);
		data_set(e, "id", cJSON_CreateString(id));
	}
}

/* An assignment id like Intune's: "<policy>_<group or virtual group>",
 * made unique within the policy. */
static void
assignment_id(cJSON *arr, cJSON *a, const char *pid, int n)
{
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(a, "target");
	const char *type = data_str(target, "@odata.type");
	const char *gid = data_str(target, "groupId");
	struct buf b = {0};

	if (gid != NULL)
		buf_addf(&b, "%s_%s", pid, gid);
	else if (type != NULL && strstr(type, "allDevices") != NULL)
		buf_addf(&b, "%s_%s", pid, ALL_DEVICES_ID);
	else if (type != NULL && strstr(type, "allLicensedUsers") != NULL)
		buf_addf(&b, "%s_%s", pid, ALL_USERS_ID);
	else
		buf_addf(&b, "%s_%d", pid, n);
	if (data_find(arr, b.p) != NULL)
		buf_addf(&b, "_%d", n);
	data_set(a, "id", cJSON_CreateString(b.p));
	free(b.p);
}

void
data_fix_assignments(cJSON *policy, enum coll c)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(policy, "assignments");
	const char *pid = data_str(policy, "id");
	cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, arr) {
		if (!cJSON_IsObject(a))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(a, "id");
		assignment_id(arr, a, pid, n++);
		if (c == COLL_CONFPOL) {
			data_set(a, "source", cJSON_CreateString("direct"));
			data_set(a, "sourceId", cJSON_CreateString(pid));
		}
	}
}

struct tenant *
data_tenant(struct server *s, const char *id_or_name)
{
	struct tenant *t;
	size_t i, n;

	for (i = 0; i < s->ntenants; i++) {
		t = &s->tenants[i];
		n = strlen(t->name);
		if (str_ieq(t->id, id_or_name) || str_ieq(t->name, id_or_name))
			return t;
		/* "contoso.onmicrosoft.com" names the tenant too. */
		if (strncasecmp(id_or_name, t->name, n) == 0 &&
		    str_ieq(id_or_name + n, ".onmicrosoft.com"))
			return t;
	}
	return NULL;
}

/* ---- loading --------------------------------------------------------- */

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The array o[key], created empty if absent.  NULL if it is not one. */
static cJSON *
want_array(cJSON *o, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);

	if (a == NULL)
		a = cJSON_AddArrayToObject(o, key);
	return cJSON_IsArray(a) ? a : NULL;
}

/* Checks that every element of arr is an object with string keys. */
static int
want_strings(cJSON *arr, const char *what, const char *const *keys,
    char *err, size_t errlen)
{
	cJSON *e;
	size_t k;
	int i = 0;

	cJSON_ArrayForEach(e, arr) {
		for (k = 0; keys[k] != NULL; k++)
			if (!cJSON_IsObject(e) || data_str(e, keys[k]) == NULL)
				return fail(err, errlen, "%s[%d]: \"%s\" must "
				    "be a string", what, i, keys[k]);
		i++;
	}
	return 0;
}

static int
norm_principals(struct tenant *t, char *err, size_t errlen)
{
	static const char *const app_keys[] = {"client_id", "client_secret",
	    NULL};
	static const char *const user_keys[] = {"upn", "oid",
	    "refresh_token", NULL};
	static const char *const group_keys[] = {"id", "displayName", NULL};
	char what[96];
	cJSON *e;

	snprintf(what, sizeof(what), "tenant %s: apps", t->name);
	if (want_strings(t->apps, what, app_keys, err, errlen) != 0)
		return -1;
	snprintf(what, sizeof(what), "tenant %s: users", t->name);
	if (want_strings(t->users, what, user_keys, err, errlen) != 0)
		return -1;
	snprintf(what, sizeof(what), "tenant %s: groups", t->name);
	if (want_strings(t->groups, what, group_keys, err, errlen) != 0)
		return -1;
	cJSON_ArrayForEach(e, t->apps) {
		if (want_array(e, "roles") == NULL)
			return fail(err, errlen, "tenant %s: app %s: roles "
			    "must be an array", t->name,
			    data_str(e, "client_id"));
	}
	cJSON_ArrayForEach(e, t->users) {
		if (want_array(e, "scp") == NULL)
			return fail(err, errlen, "tenant %s: user %s: scp must "
			    "be an array", t->name, data_str(e, "upn"));
	}
	return 0;
}

static const char *const presentation_keys[] = {"id", "@odata.type", NULL};

static int
norm_policy(struct tenant *t, cJSON *p, enum coll c, const char *where,
    char *err, size_t errlen)
{
	const struct family *f = &families[c];
	const char *const *k;
	char id[FG_GUID_LEN], what[200];

	if (!cJSON_IsObject(p))
		return fail(err, errlen, "%s: not an object", where);
	if (data_str(p, "id") == NULL) {
		if (f->int_ids)
			next_int_id(t->coll[c], id, sizeof(id));
		else
			guid_new(id);
		data_set(p, "id", cJSON_CreateString(id));
	}
	if (f->typed && data_str(p, "@odata.type") == NULL)
		return fail(err, errlen, "%s: \"@odata.type\" is required",
		    where);
	for (k = f->required; *k != NULL; k++)
		if (data_str(p, *k) == NULL)
			return fail(err, errlen, "%s: \"%s\" is required",
			    where, *k);
	if (f->timestamps) {
		obj_default(p, "createdDateTime",
		    cJSON_CreateString(FIXTURE_DATE));
		obj_default(p, "lastModifiedDateTime",
		    cJSON_CreateString(FIXTURE_DATE));
	}
	if (f->versioned)
		obj_default(p, "version", cJSON_CreateNumber(1));
	for (k = f->navs; *k != NULL; k++)
		if (want_array(p, *k) == NULL)
			return fail(err, errlen, "%s: \"%s\" must be an array",
			    where, *k);
	if (f->assignable)
		data_fix_assignments(p, c);
	if (c == COLL_CONFPOL) {
		data_number_settings(cJSON_GetObjectItemCaseSensitive(p,
		    "settings"));
		obj_default(p, "creationSource", cJSON_CreateNull());
	}
	if (c == COLL_COMPLIANCE)
		data_number_actions(p);
	if (c == COLL_DEVCONF)
		data_seal_oma(t, p);
	if (c == COLL_SCOPETAGS)
		obj_default(p, "isBuiltIn", cJSON_CreateBool(strcmp(
		    data_str(p, "id"), "0") == 0));
	if (c == COLL_GPDEF) {
		snprintf(what, sizeof(what), "%s.presentations", where);
		return want_strings(cJSON_GetObjectItemCaseSensitive(p,
		    "presentations"), what, presentation_keys, err, errlen);
	}
	return 0;
}

/* Every tenant has the built-in scope tag "0" (A1). */
static void
builtin_scope_tag(struct tenant *t)
{
	cJSON *tag;

	if (data_find(t->coll[COLL_SCOPETAGS], "0") != NULL)
		return;
	tag = cJSON_CreateObject();
	cJSON_AddStringToObject(tag, "id", "0");
	cJSON_AddStringToObject(tag, "displayName", "Default");
	cJSON_AddStringToObject(tag, "description", "Built-in scope tag");
	cJSON_AddBoolToObject(tag, "isBuiltIn", true);
	cJSON_InsertItemInArray(t->coll[COLL_SCOPETAGS], 0, tag);
}

/* References between collections, once all of them are loaded: scope
 * tags and administrative template definitions. */
static int
norm_references(struct tenant *t, char *err, size_t errlen)
{
	char where[160], prop[64];
	cJSON *p;
	int c, i;

	for (c = 0; c < COLL_N; c++) {
		i = 0;
		cJSON_ArrayForEach(p, t->coll[c]) {
			snprintf(where, sizeof(where), "tenant %s: %s[%d]",
			    t->name, families[c].name, i++);
			if (data_check_scope_tags(t, p, prop,
			    sizeof(prop)) != 0)
				return fail(err, errlen, "%s: %s names a scope "
				    "tag the tenant does not have", where,
				    prop);
			if (c == COLL_GPCONF && gpo_load_values(t, p, where,
			    err, errlen) != 0)
				return -1;
		}
	}
	return 0;
}

static int
norm_tenant(struct tenant *t, cJSON *obj, char *err, size_t errlen)
{
	char where[160];
	cJSON *p;
	int c, i;

	t->obj = obj;
	t->id = data_str(obj, "id");
	t->name = data_str(obj, "name");
	t->secrets = cJSON_CreateObject();
	if (t->id == NULL || t->name == NULL)
		return fail(err, errlen, "every tenant needs a string \"id\" "
		    "and \"name\"");
	t->apps = want_array(obj, "apps");
	t->users = want_array(obj, "users");
	t->groups = want_array(obj, "groups");
	if (t->apps == NULL || t->users == NULL || t->groups == NULL)
		return fail(err, errlen, "tenant %s: apps, users and groups "
		    "must be arrays", t->name);
	for (c = 0; c < COLL_N; c++) {
		if ((t->coll[c] = want_array(obj, families[c].name)) == NULL)
			return fail(err, errlen, "tenant %s: %s must be an "
			    "array", t->name, families[c].name);
	}
	builtin_scope_tag(t);
	for (c = 0; c < COLL_N; c++) {
		i = 0;
		cJSON_ArrayForEach(p, t->coll[c]) {
			snprintf(where, sizeof(where), "tenant %s: %s[%d]",
			    t->name, families[c].name, i++);
			if (norm_policy(t, p, (enum coll)c, where, err,
			    errlen) != 0)
				return -1;
		}
	}
	if (norm_references(t, err, errlen) != 0)
		return -1;
	return norm_principals(t, err, errlen);
}

/* A whole number in [min, max] at o[key], or def when absent. */
static int
opt_long(const cJSON *o, const char *key, long min, long max, long def,
    long *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min ||
	    v->valuedouble > (double)max ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return fail(err, errlen, "\"%s\" must be a whole number "
		    "%ld-%ld", key, min, max);
	*out = (long)v->valuedouble;
	return 0;
}

static int
load_paging(struct server *s, char *err, size_t errlen)
{
	const cJSON *sizes = cJSON_GetObjectItemCaseSensitive(s->fixture,
	    "page_sizes");
	const cJSON *maxes = cJSON_GetObjectItemCaseSensitive(s->fixture,
	    "page_max");
	int k;

	for (k = 0; k < PAGE_N; k++) {
		if (opt_long(maxes, pager_name(k), 1, 100000, pager_max(k),
		    &s->page_max[k], err, errlen) != 0 ||
		    opt_long(sizes, pager_name(k), 1, s->page_max[k],
		    pager_default(k) < s->page_max[k] ? pager_default(k) :
		    s->page_max[k], &s->page_size[k], err, errlen) != 0)
			return -1;
	}
	return 0;
}

static int
load_options(struct server *s, char *err, size_t errlen)
{
	const cJSON *f = s->fixture, *th, *sh;
	long seed;

	th = cJSON_GetObjectItemCaseSensitive(f, "throttle");
	sh = cJSON_GetObjectItemCaseSensitive(f, "batch_shuffle");
	if (opt_long(f, "token_lifetime_s", 1, 864000, 3599,
	    &s->token_lifetime_s, err, errlen) != 0 ||
	    opt_long(th, "writes_per_window", 0, 1000000, 100,
	    &s->throttle_writes, err, errlen) != 0 ||
	    opt_long(th, "window_s", 1, 86400, 20, &s->throttle_window_s,
	    err, errlen) != 0 ||
	    opt_long(f, "batch_seed", 0, 2147483647L, 1, &seed, err,
	    errlen) != 0 || load_paging(s, err, errlen) != 0)
		return -1;
	if (sh != NULL && !cJSON_IsBool(sh))
		return fail(err, errlen, "\"batch_shuffle\" must be a boolean");
	s->batch_shuffle = sh == NULL || cJSON_IsTrue(sh);
	s->batch_seed = (uint64_t)seed;
	return 0;
}

static int
load_tenants(struct server *s, char *err, size_t errlen)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(s->fixture, "tenants");
	cJSON *e;
	size_t i, j;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return fail(err, errlen, "\"tenants\" must be a non-empty "
		    "array");
	s->ntenants = (size_t)cJSON_GetArraySize(arr);
	s->tenants = xcalloc(s->ntenants, sizeof(*s->tenants));
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsObject(e))
			return fail(err, errlen, "every tenant must be an "
			    "object");
		if (norm_tenant(&s->tenants[i], e, err, errlen) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (str_ieq(s->tenants[j].id, s->tenants[i].id) ||
			    str_ieq(s->tenants[j].name, s->tenants[i].name))
				return fail(err, errlen, "tenant %s appears "
				    "twice", s->tenants[i].name);
		i++;
	}
	return 0;
}

static int
read_all(const char *path, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct buf b = {0};
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (f == NULL)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > FIXTURE_MAX) {
			rc = fail(err, errlen, "%s: larger than %d bytes", path,
			    FIXTURE_MAX);
			goto out_close;
		}
		buf_add(&b, chunk, n);
	}
	if (ferror(f))
		rc = fail(err, errlen, "%s: read error", path);
out_close:
	fclose(f);
	*outlen = b.len;
	*out = buf_take(&b);
	return rc;
}

/* The 1-based line of position pos in text, for parse errors. */
static int
line_of(const char *text, const char *pos)
{
	int line = 1;

	for (; text < pos; text++)
		if (*text == '\n')
			line++;
	return line;
}

int
data_load(struct server *s, const char *path, char *err, size_t errlen)
{
	char *text, msg[400];
	const char *at;
	size_t len;
	int rc = -1;

	if (read_all(path, &text, &len, err, errlen) != 0)
		goto out_free;
	s->fixture = cJSON_ParseWithLengthOpts(text, len, &at, 0);
	if (s->fixture == NULL) {
		fail(err, errlen, "%s:%d: invalid JSON", path,
		    line_of(text, at != NULL ? at : text));
		goto out_free;
	}
	if (!cJSON_IsObject(s->fixture)) {
		fail(err, errlen, "%s: the fixture must be a JSON object",
		    path);
		goto out_free;
	}
	if (load_options(s, msg, sizeof(msg)) != 0 ||
	    load_tenants(s, msg, sizeof(msg)) != 0) {
		fail(err, errlen, "%s: %s", path, msg);
		goto out_free;
	}
	rc = 0;
out_free:
	free(text);
	return rc;
}

/* Plain OMA values are secrets: wiped before they are freed. */
static void
wipe_secrets(cJSON *secrets)
{
	cJSON *e;

	cJSON_ArrayForEach(e, secrets) {
		if (cJSON_IsString(e))
			OPENSSL_cleanse(e->valuestring, strlen(e->valuestring));
	}
	cJSON_Delete(secrets);
}

void
data_free(struct server *s)
{
	size_t i;

	for (i = 0; i < s->ntenants; i++)
		wipe_secrets(s->tenants[i].secrets);
	cJSON_Delete(s->fixture);
	free(s->tenants);
	s->fixture = NULL;
	s->tenants = NULL;
	s->ntenants = 0;
}
