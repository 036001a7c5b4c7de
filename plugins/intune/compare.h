/*
 * Comparing a backed-up object with a tenant's (graph-intune.md A3, D):
 * normalize both, diff them, match a backup object to tenant objects by
 * name and derived type, and map a backup's assignment targets and scope
 * tags to a destination tenant through its directory cache only.
 *
 * old and new: a diff is old (a) against new (b).  restore-preview
 * passes the tenant's object as a and the backup's as b, so "new" is
 * what a restore would write.
 */
#ifndef INTUNE_COMPARE_H
#define INTUNE_COMPARE_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

#include "family.h"

/* A new copy of object for comparison (the caller cJSON_Deletes it), or
 * NULL if object is not a JSON object or memory ran out.  It leaves out
 * what Graph owns (A3): the family's strip paths (except the
 * sub-collections compared here, definitionValues), at the top level
 * "id", "version", "settingCount", "creationSource", "isAssigned",
 * "supportsScopeTags" and "assignments"; at any depth
 * "createdDateTime", "lastModifiedDateTime", "modifiedDateTime",
 * "secretReferenceValueId" and every "@odata.*" annotation but the bare
 * "@odata.type"; and the "id" of each item of the unordered collections
 * that carry one (settings, scheduled actions and their configurations,
 * definition and presentation values).  A definition value's
 * "definition" (expanded by $expand=definition, or named by
 * "definition@odata.bind") becomes {"id": ID}, and so does a
 * presentation value's "presentation".  Members of every object are
 * sorted by name; the items of the unordered collections (compare.c's
 * table: settings, children, roleScopeTagIds, roleScopeTags,
 * omaSettings, scheduledActionsForRule, scheduledActionConfigurations,
 * definitionValues, presentationValues) are sorted by their key, so
 * their order never differs.  Numbers compare by value (1 equals 1.0),
 * strings as they are. */
cJSON *intune_normalize(const struct intune_family *fam, const cJSON *object);

/* What a difference is. */
enum intune_diff_kind {
	INTUNE_DIFF_CHANGED, /* both sides have the path, with other values */
	INTUNE_DIFF_ADDED,   /* only new (b) has it: old_json is "null" */
	INTUNE_DIFF_REMOVED, /* only old (a) has it: new_json is "null" */
};

/* Called per difference: path as "settings[ID].settingInstance.x",
 * with the sort key in brackets for keyed unordered collections and
 * "[n]" for ordered arrays (a set of strings, roleScopeTagIds, differs
 * as one value); old_json and new_json compact JSON text, the absent
 * side "null" with kind saying it is absent rather than null.  The
 * strings are valid during the call only.  A path longer than
 * INTUNE_PATH_MAX - 1 bytes is cut. */
typedef void (*intune_diff_fn)(void *arg, const char *path,
    const char *old_json, const char *new_json, enum intune_diff_kind kind);

#define INTUNE_PATH_MAX 2048

/* Walks two normalized objects (intune_normalize) and calls cb (may be
 * NULL) per difference, in member-name and key order.  Returns the
 * number of differences, or -1 if memory ran out. */
int intune_diff(const cJSON *a, const cJSON *b, intune_diff_fn cb, void *arg);

/* 1 if a and b (normalized) have no difference, else 0. */
int intune_equal(const cJSON *a, const cJSON *b);

/* How a backup object matched the tenant's objects of its family. */
enum intune_match_status {
	INTUNE_MATCH_NONE,	 /* no object of that name: create */
	INTUNE_MATCH_ONE,	 /* exactly one of that name and type */
	INTUNE_MATCH_SEVERAL,	 /* several of that name and type: conflict */
	INTUNE_MATCH_OTHER_TYPE, /* that name, only other types: conflict */
};

struct intune_match {
	enum intune_match_status status;
	size_t index;	   /* ONE: the matching tenant object's index */
	size_t count;	   /* objects of that name and type */
	size_t other_type; /* objects of that name and another type */
};

/* Matches the backup object (its "object", not the document) against
 * tenant, a cJSON array of the tenant's objects of fam (a list as Graph
 * returned it): same name (fam->name_prop, exact and case-sensitive) and
 * same derived type (intune_object_type).  Tenant objects without a name
 * are passed over.  Never guesses: several hits are SEVERAL with their
 * count.  Returns 0 with *out set, or -1 (err) when the backup object
 * has no name or no derived type, or tenant is not an array. */
int intune_match(const struct intune_family *fam, const cJSON *backup,
    const cJSON *tenant, struct intune_match *out, char *err, size_t errlen);

/* Maps one assignment of a backup document (an item of its
 * "assignments": {"target", "group", "filter"}) to dest_tenant through
 * its directory cache only (host->directory_find_by_name): a group or
 * exclusion group target by the stored group displayName (kind
 * "groups"), a filter by its stored displayName (kind
 * "assignmentFilters"); all-devices and all-licensed-users targets map
 * as they are; the filter id INTUNE_NO_FILTER, or the filter type
 * "none", is no filter.  Exactly one cached hit maps.  Returns 0 with
 * *out_target a new target (the caller cJSON_Deletes it) carrying the
 * destination's ids; 1 when it cannot be mapped (no hit, several, no
 * stored name, a target kind that has no name), with reason naming the
 * group or filter and the count; -1 when the host failed (reason).  The
 * target never carries a source id. */
int intune_map_assignment(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *dest_tenant, const cJSON *assignment, cJSON **out_target,
    char *reason, size_t len);

/* Maps a backup document's "scopeTags" ([{"id", "displayName"}]) to the
 * ids of dest_tenant's scope tags by name (kind "roleScopeTags"); the
 * built-in "Default" (id "0") maps to "0".  Returns 0 with *out_ids a
 * new JSON array of id strings, 1 when a tag cannot be mapped (reason,
 * as intune_map_assignment), -1 when the host failed. */
int intune_map_scope_tags(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *dest_tenant, const cJSON *scope_tags, cJSON **out_ids,
    char *reason, size_t len);

#endif
