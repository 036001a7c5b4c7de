/* Normalizing, diffing, matching and mapping; see compare.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "json.h"
#include "kit.h"

/* The unordered collections, by member name at any depth: their items
 * are sorted by key (a path of member names joined by '/'; NULL: the
 * items are strings, a set), and strip_id drops each item's server-owned
 * "id".  A collection whose items do not all carry a distinct string key
 * is sorted by its items' JSON text instead, and diffs by index. */
struct unordered {
	const char *member;
	const char *key;
	int strip_id;
};

static const struct unordered unordered[] = {
	{ "settings", "settingInstance/settingDefinitionId", 1 },
	{ "children", "settingDefinitionId", 0 },
	{ "roleScopeTagIds", NULL, 0 },
	{ "roleScopeTags", NULL, 0 },
	{ "omaSettings", "omaUri", 0 },
	{ "scheduledActionsForRule", "ruleName", 1 },
	{ "scheduledActionConfigurations", "actionType", 1 },
	{ "definitionValues", "definition/id", 1 },
	{ "presentationValues", "presentation/id", 1 },
	{ NULL, NULL, 0 },
};

/* References compared by the id they name: an expanded object, or the
 * "<name>@odata.bind" URL, becomes {"id": ID}. */
static const char *const references[] = { "definition", "presentation", NULL };

/* Server-owned members of the object itself (A3). */
static const char *const top_owned[] = { "id", "version", "settingCount",
	"creationSource", "isAssigned", "supportsScopeTags", "assignments",
	NULL };

/* Server-owned members at any depth. */
static const char *const deep_owned[] = { "createdDateTime",
	"lastModifiedDateTime", "modifiedDateTime", "secretReferenceValueId",
	NULL };

/* Strip paths of a family that name what the comparison keeps. */
static const char *const compared[] = { "definitionValues", NULL };

static int
listed(const char *const *list, const char *s)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static const struct unordered *
unordered_find(const char *member)
{
	const struct unordered *u;

	for (u = unordered; member != NULL && u->member != NULL; u++)
		if (strcmp(u->member, member) == 0)
			return u;
	return NULL;
}

/* An annotation: any "...@odata.*" but "@odata.type" and "...@odata.bind"
 * (the references' binds are turned into {"id"} before this is asked). */
static int
annotation(const char *key)
{
	static const char bind[] = "@odata.bind";
	size_t n = strlen(key), k = sizeof(bind) - 1;

	if (strstr(key, "@odata.") == NULL || strcmp(key, "@odata.type") == 0)
		return 0;
	return !(n > k && strcmp(key + n - k, bind) == 0);
}

/* The string at path (names joined by '/') under item, or NULL. */
static const char *
key_of(const cJSON *item, const char *path)
{
	char head[128];
	const char *slash;

	while ((slash = strchr(path, '/')) != NULL) {
		if ((size_t)(slash - path) >= sizeof(head))
			return NULL;
		memcpy(head, path, (size_t)(slash - path));
		head[slash - path] = '\0';
		item = cJSON_IsObject(item) ?
		    cJSON_GetObjectItemCaseSensitive(item, head) :
		    NULL;
		path = slash + 1;
	}
	return intune_json_str(item, path);
}

/* The id a bind URL names: ".../groupPolicyDefinitions('ID')" or the
 * last segment; into out. */
static void
bind_id(const char *url, char *out, size_t len)
{
	const char *open = NULL, *p, *end;

	for (p = url; (p = strstr(p, "('")) != NULL; p++)
		open = p;
	if (open != NULL && (end = strstr(open + 2, "')")) != NULL) {
		snprintf(out, len, "%.*s", (int)(end - open - 2), open + 2);
		return;
	}
	p = strrchr(url, '/');
	snprintf(out, len, "%s", p != NULL ? p + 1 : url);
}

/* {"id": id}, or NULL. */
static cJSON *
id_object(const char *id)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL && cJSON_AddStringToObject(o, "id", id) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* Turns obj's references into {"id": ID}.  -1 if memory ran out. */
static int
reduce_references(cJSON *obj)
{
	const char *const *r;
	char key[64], id[512];

	for (r = references; *r != NULL; r++) {
		cJSON *ref = cJSON_GetObjectItemCaseSensitive(obj, *r);
		const char *url, *rid;

		snprintf(key, sizeof(key), "%s@odata.bind", *r);
		url = intune_json_str(obj, key);
		if (ref == NULL && url != NULL) {
			bind_id(url, id, sizeof(id));
			if (intune_json_set(obj, *r, id_object(id)) != 0)
				return -1;
		} else if (cJSON_IsObject(ref) &&
		    (rid = intune_json_str(ref, "id")) != NULL) {
			snprintf(id, sizeof(id), "%s", rid);
			if (intune_json_set(obj, *r, id_object(id)) != 0)
				return -1;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	}
	return 0;
}

/* Relinks node's children in the order of items (n of them). */
static void
relink(cJSON *node, cJSON **items, size_t n)
{
	size_t i;

	node->child = n > 0 ? items[0] : NULL;
	for (i = 0; i < n; i++) {
		items[i]->prev = i > 0 ? items[i - 1] : items[n - 1];
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
	}
}

/* node's children into a new array (*n of them); NULL with *n 0 if it
 * has none, or if memory ran out (*oom set). */
static cJSON **
children(const cJSON *node, size_t *n, int *oom)
{
	cJSON **items, *c;
	size_t i = 0;

	*n = 0;
	for (c = node->child; c != NULL; c = c->next)
		(*n)++;
	if (*n == 0)
		return NULL;
	if ((items = malloc(*n * sizeof(*items))) == NULL) {
		*n = 0;
		*oom = 1;
		return NULL;
	}
	for (c = node->child; c != NULL; c = c->next)
		items[i++] = c;
	return items;
}

static int
by_name(const void *x, const void *y)
{
	const cJSON *a = *(cJSON *const *)x, *b = *(cJSON *const *)y;

	return strcmp(a->string, b->string);
}

/* An item of an array being sorted, with what it sorts by. */
struct sortable {
	cJSON *item;
	const char *key; /* the key, or the item's JSON text */
	char *text;	 /* owned */
};

static int
by_key(const void *x, const void *y)
{
	const struct sortable *a = x, *b = y;

	return strcmp(a->key, b->key);
}

/* 1 if every item of arr has a string key (u's) and no two are equal. */
static int
keyed(const cJSON *arr, const struct unordered *u)
{
	const cJSON *a, *b;
	const char *ka, *kb;

	if (u == NULL || u->key == NULL)
		return 0;
	cJSON_ArrayForEach(a, arr) {
		if ((ka = key_of(a, u->key)) == NULL)
			return 0;
		for (b = a->next; b != NULL; b = b->next)
			if ((kb = key_of(b, u->key)) != NULL &&
			    strcmp(ka, kb) == 0)
				return 0;
	}
	return 1;
}

/* Sorts the unordered collection arr: by key when keyed, strings by
 * value, anything else by JSON text.  -1 if memory ran out. */
static int
sort_collection(cJSON *arr, const struct unordered *u)
{
	struct sortable *s;
	cJSON **items;
	size_t n, i;
	int oom = 0, by = keyed(arr, u), rc = 0;

	if ((items = children(arr, &n, &oom)) == NULL)
		return oom ? -1 : 0;
	if ((s = calloc(n, sizeof(*s))) == NULL) {
		free(items);
		return -1;
	}
	for (i = 0; i < n; i++) {
		s[i].item = items[i];
		if (by)
			s[i].key = key_of(items[i], u->key);
		else if (u->key == NULL && cJSON_IsString(items[i]))
			s[i].key = items[i]->valuestring;
		else if ((s[i].text = cJSON_PrintUnformatted(items[i])) != NULL)
			s[i].key = s[i].text;
		else
			rc = -1;
	}
	if (rc == 0) {
		qsort(s, n, sizeof(*s), by_key);
		for (i = 0; i < n; i++)
			items[i] = s[i].item;
		relink(arr, items, n);
	}
	for (i = 0; i < n; i++)
		free(s[i].text);
	free(s);
	free(items);
	return rc;
}

/* Normalizes node (the value of member name, NULL for an array item or
 * the root) in place.  -1 if memory ran out. */
static int
normalize(cJSON *node, const char *name)
{
	const struct unordered *u = unordered_find(name);
	cJSON *c, *next, **items;
	size_t n;
	int oom = 0;

	if (cJSON_IsArray(node)) {
		cJSON_ArrayForEach(c, node) {
			if (u != NULL && u->strip_id && cJSON_IsObject(c))
				cJSON_DeleteItemFromObjectCaseSensitive(c,
				    "id");
			if (normalize(c, NULL) != 0)
				return -1;
		}
		return u != NULL ? sort_collection(node, u) : 0;
	}
	if (!cJSON_IsObject(node))
		return 0;
	if (reduce_references(node) != 0)
		return -1;
	for (c = node->child; c != NULL; c = next) {
		next = c->next;
		if (listed(deep_owned, c->string) || annotation(c->string)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(node, c));
			continue;
		}
		if (normalize(c, c->string) != 0)
			return -1;
	}
	if ((items = children(node, &n, &oom)) != NULL) {
		qsort(items, n, sizeof(*items), by_name);
		relink(node, items, n);
		free(items);
	}
	return oom ? -1 : 0;
}

cJSON *
intune_normalize(const struct intune_family *fam, const cJSON *object)
{
	const char *const *p;
	cJSON *o;

	if (!cJSON_IsObject(object) || (o = cJSON_Duplicate(object, 1)) == NULL)
		return NULL;
	for (p = fam != NULL ? fam->strip : NULL; p != NULL && *p != NULL; p++)
		if (!listed(compared, *p))
			intune_strip_path(o, *p);
	for (p = top_owned; *p != NULL; p++)
		cJSON_DeleteItemFromObjectCaseSensitive(o, *p);
	if (normalize(o, NULL) != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* 1 if a and b are the same JSON value (numbers by value, object
 * members by name in any order). */
static int
same(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if ((a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a)) {
		for (x = a->child, y = b->child; x != NULL && y != NULL;
		     x = x->next, y = y->next)
			if (!same(x, y))
				return 0;
		return x == NULL && y == NULL;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		cJSON_ArrayForEach(x, a) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (y == NULL || !same(x, y))
				return 0;
		}
	}
	return 1; /* null, true, false */
}

/* A diff in progress. */
struct walk {
	intune_diff_fn cb;
	void *arg;
	int count, oom;
	char path[INTUNE_PATH_MAX];
};

/* Appends pre, s and post to w->path at len; returns the new length
 * (cut to fit). */
static size_t
append(struct walk *w, size_t len, const char *pre, const char *s,
    const char *post)
{
	size_t room = sizeof(w->path) - len;
	int n = snprintf(w->path + len, room, "%s%s%s", pre, s, post);

	if (n < 0)
		return len;
	return (size_t)n >= room ? sizeof(w->path) - 1 : len + (size_t)n;
}

static size_t
member_path(struct walk *w, size_t len, const char *name)
{
	return append(w, len, len > 0 ? "." : "", name, "");
}

static void
report(struct walk *w, const cJSON *a, const cJSON *b,
    enum intune_diff_kind kind)
{
	char *old = NULL, *new = NULL;

	w->count++;
	if (w->cb == NULL)
		return;
	if ((a != NULL && (old = cJSON_PrintUnformatted(a)) == NULL) ||
	    (b != NULL && (new = cJSON_PrintUnformatted(b)) == NULL))
		w->oom = 1;
	else
		w->cb(w->arg, w->path, old != NULL ? old : "null",
		    new != NULL ? new : "null", kind);
	free(old);
	free(new);
}

static void walk(struct walk *w, size_t len, const cJSON *a, const cJSON *b,
    const char *name);

/* Objects: a merge of their members, both sorted by name. */
static void
walk_object(struct walk *w, size_t len, const cJSON *a, const cJSON *b)
{
	const cJSON *x = a->child, *y = b->child;
	size_t l;
	int c;

	while (x != NULL || y != NULL) {
		c = x == NULL ? 1 :
		    y == NULL ? -1 :
				strcmp(x->string, y->string);
		l = member_path(w, len, c <= 0 ? x->string : y->string);
		if (c < 0)
			report(w, x, NULL, INTUNE_DIFF_REMOVED);
		else if (c > 0)
			report(w, NULL, y, INTUNE_DIFF_ADDED);
		else
			walk(w, l, x, y, x->string);
		w->path[len] = '\0';
		if (c <= 0)
			x = x->next;
		if (c >= 0)
			y = y->next;
	}
}

/* Keyed collections: a merge by key, both sorted by it. */
static void
walk_keyed(struct walk *w, size_t len, const cJSON *a, const cJSON *b,
    const struct unordered *u)
{
	const cJSON *x = a->child, *y = b->child;
	size_t l;
	int c;

	while (x != NULL || y != NULL) {
		c = x == NULL ? 1 :
		    y == NULL ? -1 :
				strcmp(key_of(x, u->key), key_of(y, u->key));
		l = append(w, len, "[", key_of(c <= 0 ? x : y, u->key), "]");
		if (c < 0)
			report(w, x, NULL, INTUNE_DIFF_REMOVED);
		else if (c > 0)
			report(w, NULL, y, INTUNE_DIFF_ADDED);
		else
			walk(w, l, x, y, NULL);
		w->path[len] = '\0';
		if (c <= 0)
			x = x->next;
		if (c >= 0)
			y = y->next;
	}
}

/* Ordered arrays: item by item. */
static void
walk_ordered(struct walk *w, size_t len, const cJSON *a, const cJSON *b)
{
	const cJSON *x = a->child, *y = b->child;
	char num[24];
	size_t l;
	int i;

	for (i = 0; x != NULL || y != NULL; i++) {
		snprintf(num, sizeof(num), "%d", i);
		l = append(w, len, "[", num, "]");
		if (y == NULL)
			report(w, x, NULL, INTUNE_DIFF_REMOVED);
		else if (x == NULL)
			report(w, NULL, y, INTUNE_DIFF_ADDED);
		else
			walk(w, l, x, y, NULL);
		w->path[len] = '\0';
		x = x != NULL ? x->next : NULL;
		y = y != NULL ? y->next : NULL;
	}
}

static void
walk(struct walk *w, size_t len, const cJSON *a, const cJSON *b,
    const char *name)
{
	const struct unordered *u = unordered_find(name);

	if (cJSON_IsObject(a) && cJSON_IsObject(b))
		walk_object(w, len, a, b);
	else if (cJSON_IsArray(a) && cJSON_IsArray(b) && u != NULL &&
	    u->key == NULL) {
		if (!same(a, b)) /* a set of strings: one value */
			report(w, a, b, INTUNE_DIFF_CHANGED);
	} else if (cJSON_IsArray(a) && cJSON_IsArray(b) && keyed(a, u) &&
	    keyed(b, u))
		walk_keyed(w, len, a, b, u);
	else if (cJSON_IsArray(a) && cJSON_IsArray(b))
		walk_ordered(w, len, a, b);
	else if (!same(a, b))
		report(w, a, b, INTUNE_DIFF_CHANGED);
}

int
intune_diff(const cJSON *a, const cJSON *b, intune_diff_fn cb, void *arg)
{
	struct walk *w;
	int n;

	if (a == NULL || b == NULL || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->cb = cb;
	w->arg = arg;
	walk(w, 0, a, b, NULL);
	n = w->oom ? -1 : w->count;
	free(w);
	return n;
}

int
intune_equal(const cJSON *a, const cJSON *b)
{
	return intune_diff(a, b, NULL, NULL) == 0;
}

int
intune_match(const struct intune_family *fam, const cJSON *backup,
    const cJSON *tenant, struct intune_match *out, char *err, size_t errlen)
{
	const char *name = intune_object_name(fam, backup), *tname;
	char type[512], ttype[512];
	const cJSON *t;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (name == NULL)
		return intune_errf(err, errlen, "the backup object has no %s",
		    fam->name_prop);
	if (intune_object_type(fam, backup, type, sizeof(type)) != 0)
		return intune_errf(err, errlen,
		    "the backup object '%s' has no derived type", name);
	if (!cJSON_IsArray(tenant))
		return intune_errf(err, errlen,
		    "the tenant's %s are not a list", fam->name);
	cJSON_ArrayForEach(t, tenant) {
		tname = intune_object_name(fam, t);
		if (tname != NULL && strcmp(tname, name) == 0) {
			if (intune_object_type(fam, t, ttype, sizeof(ttype)) ==
				0 &&
			    strcmp(ttype, type) == 0) {
				if (out->count++ == 0)
					out->index = i;
			} else {
				out->other_type++;
			}
		}
		i++;
	}
	if (out->count == 1)
		out->status = INTUNE_MATCH_ONE;
	else if (out->count > 1)
		out->status = INTUNE_MATCH_SEVERAL;
	else
		out->status = out->other_type > 0 ? INTUNE_MATCH_OTHER_TYPE :
						    INTUNE_MATCH_NONE;
	if (out->status != INTUNE_MATCH_ONE)
		out->index = 0;
	return 0;
}

/* What a directory kind's objects are called in a reason. */
struct dir_what {
	const char *kind, *one, *many;
};

static const struct dir_what dir_group = { "groups", "group", "groups" };
static const struct dir_what dir_filter = { "assignmentFilters", "filter",
	"filters" };
static const struct dir_what dir_tag = { "roleScopeTags", "scope tag",
	"scope tags" };

/* The first hit of a lookup. */
struct hit {
	int seen;
	char id[256];
};

static int
on_hit(void *arg, const char *id, const char *display_name, const char *json)
{
	struct hit *h = arg;

	(void)display_name;
	(void)json;
	if (h->seen++ == 0)
		snprintf(h->id, sizeof(h->id), "%s", id != NULL ? id : "");
	return 0;
}

/* Finds name of kind what in tenant's cache: 0 with out (of outlen) the
 * one hit's id, 1 (reason) for none or several, -1 (reason) if the host
 * failed. */
static int
lookup(const struct oprun_host *host, struct oprun_ctx *ctx, const char *tenant,
    const struct dir_what *what, const char *name, char *out, size_t outlen,
    char *reason, size_t len)
{
	struct hit h = { 0, "" };
	char when[32];
	int64_t synced;
	int n;

	if (!OPRUN_HOST_HAS(host, directory_find_by_name))
		return intune_errf(reason, len,
		    "this oprun host lacks directory_find_by_name (plugin ABI "
		    "1.2); upgrade oprun");
	n = host->directory_find_by_name(ctx, tenant, what->kind, name, on_hit,
	    &h);
	if (n < 0)
		return intune_errf(reason, len,
		    "cannot look up %s '%s' in the directory cache of %s: %s",
		    what->one, name, tenant, intune_last_error(host, ctx));
	if (n == 1 && h.id[0] != '\0') {
		snprintf(out, outlen, "%s", h.id);
		return 0;
	}
	if (n > 1) {
		intune_errf(reason, len,
		    "%s '%s' matches %d %s in the directory cache of %s",
		    what->one, name, n, what->many, tenant);
		return 1;
	}
	synced = OPRUN_HOST_HAS(host, directory_synced_at) ?
	    host->directory_synced_at(ctx, tenant, what->kind) :
	    -1;
	if (synced > 0)
		intune_rfc3339(synced, when, sizeof(when));
	intune_errf(reason, len,
	    "%s '%s' is not in the directory cache of %s (%s%s; run "
	    "directory-sync)",
	    what->one, name, tenant,
	    synced > 0	    ? "synced " :
		synced == 0 ? "never synced" :
			      "sync time unknown",
	    synced > 0 ? when : "");
	return 1;
}

/* The stored display name of a reference ({"id", "displayName"}), or
 * 1 with the reason when the backup has none. */
static int
stored_name(const cJSON *ref, const char *id, const struct dir_what *what,
    const char **name, char *reason, size_t len)
{
	*name = intune_json_str(ref, "displayName");
	if (*name != NULL)
		return 0;
	intune_errf(reason, len,
	    "the backup has no name for %s %s (it was not in the cache when "
	    "the backup was made)",
	    what->one, id != NULL ? id : "(no id)");
	return 1;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Maps the target's filter into copy; 0, 1 or -1 as lookup. */
static int
map_filter(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *tenant, const cJSON *assignment, const cJSON *target,
    cJSON *copy, char *reason, size_t len)
{
	static const char
	    fid_key[] = "deviceAndAppManagementAssignmentFilterId";
	static const char
	    ftype_key[] = "deviceAndAppManagementAssignmentFilterType";
	const char *fid = intune_json_str(target, fid_key);
	const char *ftype = intune_json_str(target, ftype_key);
	const char *name;
	char id[256];
	int rc;

	if (fid == NULL || strcmp(fid, INTUNE_NO_FILTER) == 0 ||
	    (ftype != NULL && strcmp(ftype, "none") == 0)) {
		/* No filter: never a source filter id either. */
		if (cJSON_GetObjectItemCaseSensitive(copy, fid_key) != NULL &&
		    intune_json_set(copy, fid_key,
			cJSON_CreateString(INTUNE_NO_FILTER)) != 0)
			return intune_errf(reason, len, "out of memory");
		return 0;
	}
	if ((rc = stored_name(
		 cJSON_GetObjectItemCaseSensitive(assignment, "filter"), fid,
		 &dir_filter, &name, reason, len)) != 0)
		return rc;
	if ((rc = lookup(host, ctx, tenant, &dir_filter, name, id, sizeof(id),
		 reason, len)) != 0)
		return rc;
	if (intune_json_set(copy, fid_key, cJSON_CreateString(id)) != 0)
		return intune_errf(reason, len, "out of memory");
	return 0;
}

int
intune_map_assignment(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *dest_tenant, const cJSON *assignment, cJSON **out_target,
    char *reason, size_t len)
{
	const cJSON *target = cJSON_IsObject(assignment) ?
	    cJSON_GetObjectItemCaseSensitive(assignment, "target") :
	    NULL;
	const char *type = intune_json_str(target, "@odata.type"), *name;
	cJSON *copy;
	char id[256];
	int rc = 0;

	*out_target = NULL;
	if (!cJSON_IsObject(target) || type == NULL) {
		intune_errf(reason, len, "the assignment has no target type");
		return 1;
	}
	if ((copy = cJSON_Duplicate(target, 1)) == NULL)
		return intune_errf(reason, len, "out of memory");
	if (ends_with(type, ".groupAssignmentTarget") ||
	    ends_with(type, ".exclusionGroupAssignmentTarget")) {
		const char *gid = intune_json_str(target, "groupId");

		rc = stored_name(
		    cJSON_GetObjectItemCaseSensitive(assignment, "group"), gid,
		    &dir_group, &name, reason, len);
		if (rc == 0)
			rc = lookup(host, ctx, dest_tenant, &dir_group, name,
			    id, sizeof(id), reason, len);
		if (rc == 0 &&
		    intune_json_set(copy, "groupId", cJSON_CreateString(id)) !=
			0)
			rc = intune_errf(reason, len, "out of memory");
	} else if (!ends_with(type, ".allDevicesAssignmentTarget") &&
	    !ends_with(type, ".allLicensedUsersAssignmentTarget")) {
		intune_errf(reason, len,
		    "a target of type %s cannot be mapped by name", type);
		rc = 1;
	}
	if (rc == 0)
		rc = map_filter(host, ctx, dest_tenant, assignment, target,
		    copy, reason, len);
	if (rc != 0) {
		cJSON_Delete(copy);
		return rc;
	}
	*out_target = copy;
	return 0;
}

int
intune_map_scope_tags(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *dest_tenant, const cJSON *scope_tags, cJSON **out_ids,
    char *reason, size_t len)
{
	const cJSON *tag;
	const char *id, *name;
	char mapped[256];
	cJSON *ids;
	int rc = 0;

	*out_ids = NULL;
	if (!cJSON_IsArray(scope_tags)) {
		intune_errf(reason, len,
		    "the backup's scopeTags are not a list");
		return 1;
	}
	if ((ids = cJSON_CreateArray()) == NULL)
		return intune_errf(reason, len, "out of memory");
	cJSON_ArrayForEach(tag, scope_tags) {
		id = intune_json_str(tag, "id");
		if (id != NULL && strcmp(id, "0") == 0)
			snprintf(mapped, sizeof(mapped), "0"); /* Default */
		else if ((rc = stored_name(tag, id, &dir_tag, &name, reason,
			      len)) != 0 ||
		    (rc = lookup(host, ctx, dest_tenant, &dir_tag, name, mapped,
			 sizeof(mapped), reason, len)) != 0)
			break;
		if (!cJSON_AddItemToArray(ids, cJSON_CreateString(mapped))) {
			rc = intune_errf(reason, len, "out of memory");
			break;
		}
	}
	if (rc != 0) {
		cJSON_Delete(ids);
		return rc;
	}
	*out_ids = ids;
	return 0;
}
