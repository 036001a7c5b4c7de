/* The payload of backup-capture: which families and ids; see capture.h. */
#include <stdio.h>
#include <string.h>

#include "capture.h"

/* "a, b, c": the family names, for messages. */
static void
family_names(char *out, size_t len)
{
	size_t i, at = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < INTUNE_FAMILY_COUNT && at < len; i++) {
		n = snprintf(out + at, len - at, "%s%s", i ? ", " : "",
		    intune_families[i].name);
		at += n > 0 ? (size_t)n : 0;
	}
}

static int
parse_families(const cJSON *v, struct selection *sel, char *err, size_t errlen)
{
	const struct intune_family *fam;
	const cJSON *e;
	char known[512];
	int i = 0;

	if (v == NULL) {
		for (size_t k = 0; k < INTUNE_FAMILY_COUNT; k++)
			sel->family[k] = 1;
		return 0;
	}
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return intune_errf(err, errlen,
		    "payload.families: must be a non-empty array of family "
		    "names (leave it out for all)");
	cJSON_ArrayForEach(e, v) {
		family_names(known, sizeof(known));
		if (!cJSON_IsString(e))
			return intune_errf(err, errlen,
			    "payload.families[%d]: must be a family name (%s)",
			    i, known);
		if ((fam = intune_family_find(e->valuestring)) == NULL)
			return intune_errf(err, errlen,
			    "payload.families[%d]: unknown family '%.64s'; "
			    "known: %s",
			    i, e->valuestring, known);
		sel->family[fam - intune_families] = 1;
		i++;
	}
	return 0;
}

static int
parse_ids(const cJSON *v, struct selection *sel, char *err, size_t errlen)
{
	const cJSON *e;
	int i = 0;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 ||
	    cJSON_GetArraySize(v) > CAPTURE_MAX_IDS)
		return intune_errf(err, errlen,
		    "payload.ids: must be an array of 1 to %d object ids "
		    "(leave it out for all)",
		    CAPTURE_MAX_IDS);
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || !intune_safe_id(e->valuestring))
			return intune_errf(err, errlen,
			    "payload.ids[%d]: must be an object id (1 to 128 "
			    "of A-Z a-z 0-9 . _ -)",
			    i);
		i++;
	}
	if ((sel->ids = cJSON_Duplicate(v, 1)) == NULL)
		return intune_errf(err, errlen, "out of memory");
	return 0;
}

int
selection_parse(const char *payload, struct selection *sel, char *err,
    size_t errlen)
{
	cJSON *p = intune_json_object(payload);
	const cJSON *m;
	int rc = 0;

	memset(sel, 0, sizeof(*sel));
	if (p == NULL)
		rc = intune_errf(err, errlen, "payload: must be a JSON object");
	for (m = p != NULL ? p->child : NULL; rc == 0 && m != NULL; m = m->next)
		if (strcmp(m->string, "families") != 0 &&
		    strcmp(m->string, "ids") != 0)
			rc = intune_errf(err, errlen,
			    "payload.%.64s: unknown field; backup-capture "
			    "takes \"families\" and \"ids\"",
			    m->string);
	if (rc == 0)
		rc = parse_families(
		    cJSON_GetObjectItemCaseSensitive(p, "families"), sel, err,
		    errlen);
	if (rc == 0)
		rc = parse_ids(cJSON_GetObjectItemCaseSensitive(p, "ids"), sel,
		    err, errlen);
	cJSON_Delete(p);
	if (rc != 0)
		selection_free(sel);
	return rc;
}

int
selection_wants(const struct selection *sel, const char *id)
{
	const cJSON *e;

	if (sel->ids == NULL)
		return 1;
	cJSON_ArrayForEach(e, sel->ids) {
		if (id != NULL && strcmp(e->valuestring, id) == 0)
			return 1;
	}
	return 0;
}

void
selection_free(struct selection *sel)
{
	cJSON_Delete(sel->ids);
	sel->ids = NULL;
}
