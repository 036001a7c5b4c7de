/*
 * The Intune policy families (graph-intune.md A1, A3) and the directory
 * kinds, as one static table each: where a family lives in Graph, what a
 * backup captures with each object, how an object is named and typed,
 * and what a write must leave out.  Everything here is read-only data
 * and pure functions over cJSON; nothing calls the host.
 */
#ifndef INTUNE_FAMILY_H
#define INTUNE_FAMILY_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* What decides an object's derived type within its family. */
enum intune_type_rule {
	INTUNE_TYPE_NONE,      /* one type per family */
	INTUNE_TYPE_ODATA,     /* "@odata.type" (polymorphic collections) */
	INTUNE_TYPE_PLATFORMS, /* settings catalog: platforms + technologies */
};

/* A sub-collection captured with each object: GET
 * <object>/<name>[?query], every page, inlined under name.  each, if
 * set, is a sub-collection of every item of it (presentationValues of
 * each definitionValue). */
struct intune_sub {
	const char *name;
	const char *query;
	const struct intune_sub *each;
};

/* Encrypted values inside an object: array[] entries whose flag member
 * is true hold value masked and a reference ref; the function
 * GET <object>/decrypt(ref='<reference>') answers the plain value
 * (encrypted OMA settings). */
struct intune_secret {
	const char *array, *flag, *ref, *value, *decrypt;
};

#define INTUNE_F_ASSIGNMENTS 0x1u /* has /assignments and /assign */
#define INTUNE_F_GET_EACH    0x2u /* list items are incomplete: GET each */

struct intune_family {
	const char *name;	/* "deviceConfigurations" */
	const char *version;	/* "beta" (all families, A0.1) */
	const char *path;	/* "/deviceManagement/deviceConfigurations" */
	const char *name_prop;	/* "displayName", or "name" */
	const char *scope_prop; /* member holding scope tag ids, or NULL */
	enum intune_type_rule type_rule;
	unsigned flags;		       /* INTUNE_F_* */
	const struct intune_sub *subs; /* ends with a NULL name; may be NULL */
	const struct intune_secret *secret; /* NULL: none */
	/* Server-owned members stripped before a write, as paths of member
	 * names joined by '/' that walk into objects and across arrays
	 * ("settings/id": the id of every setting).  strip applies to every
	 * write, strip_update also to an update. */
	const char *const *strip;
	const char *const *strip_update;
	const char *update_method; /* "PATCH" or "PUT" */
	const char *assign_key;	   /* body member of /assign, or NULL */
};

/* The seven families, in capture order. */
#define INTUNE_FAMILY_COUNT 7
extern const struct intune_family intune_families[INTUNE_FAMILY_COUNT];

/* The family named name (exact case), or NULL. */
const struct intune_family *intune_family_find(const char *name);

/* The object's name (its name_prop), or NULL if it has none. */
const char *intune_object_name(const struct intune_family *fam,
    const cJSON *obj);

/* Writes the object's derived type to out: its "@odata.type", its
 * "platforms|technologies", or the family name.  Returns 0, or -1 (out
 * set to "") when the members the rule needs are missing. */
int intune_object_type(const struct intune_family *fam, const cJSON *obj,
    char *out, size_t len);

/* "/VERSION" + path + ["/" id] + [suffix] into out; -1 if it does not
 * fit.  With version NULL the path is relative to the version, as a
 * $batch item's url is. */
int intune_family_url(const struct intune_family *fam, const char *version,
    const char *id, const char *suffix, char *out, size_t len);

enum intune_write {
	INTUNE_WRITE_CREATE, /* POST */
	INTUNE_WRITE_UPDATE, /* PATCH or PUT (update_method) */
};

/* Removes from obj what Graph owns or refuses in a write (A3): the
 * family's strip paths (and strip_update ones for an update), every
 * "secretReferenceValueId", and at any depth every "@odata.*" annotation
 * except "@odata.type" and "*@odata.bind".  The object's sub-collections
 * that are written another way (assignments, definitionValues) are in
 * the strip lists. */
void intune_strip_for_write(const struct intune_family *fam, cJSON *obj,
    enum intune_write mode);

/* Removes the member path (names joined by '/', as in a strip list)
 * from node, walking into objects and across arrays. */
void intune_strip_path(cJSON *node, const char *path);

/* A kind of the directory cache and where directory-sync reads it. */
struct intune_dir_kind {
	const char *kind; /* "groups", "assignmentFilters", "roleScopeTags" */
	const char *path; /* the list, with its query */
	const char *name_prop; /* "displayName" */
};

#define INTUNE_DIR_KIND_COUNT 3
extern const struct intune_dir_kind intune_dir_kinds[INTUNE_DIR_KIND_COUNT];

/* The filter id Graph uses for "no filter". */
#define INTUNE_NO_FILTER "00000000-0000-0000-0000-000000000000"

#endif
