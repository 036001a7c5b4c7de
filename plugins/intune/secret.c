/* Sealing and unsealing encrypted values; see secret.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "kit.h"
#include "secret.h"

/* The entries of obj that hold an encrypted value, one at a time:
 * returns the next one after prev (NULL: the first), or NULL. */
static cJSON *
next_secret(const struct intune_secret *s, cJSON *obj, cJSON *prev)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, s->array);
	cJSON *e = prev != NULL ? prev->next :
	    cJSON_IsArray(arr)	? arr->child :
				  NULL;

	for (; e != NULL; e = e->next)
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, s->flag)))
			return e;
	return NULL;
}

/* What names a setting in a message: its displayName or omaUri. */
static const char *
setting_label(const cJSON *e)
{
	const char *l = intune_json_str(e, "displayName");

	if (l == NULL)
		l = intune_json_str(e, "omaUri");
	return l != NULL ? l : "?";
}

static int
ref_ok(const char *ref)
{
	size_t n = ref != NULL ? strlen(ref) : 0;

	return n > 0 && n <= 256 &&
	    strspn(ref,
		"abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* Gets the plain value of entry e from Graph and puts the sealed one in
 * its place. */
static int
seal_one(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct intune_family *fam, const char *id, cJSON *e, char *err,
    size_t errlen)
{
	const struct intune_secret *s = fam->secret;
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	const char *ref = intune_json_str(e, s->ref), *sealed = NULL;
	char fn[320], url[768];
	cJSON *answer = NULL, *plain;
	int rc = -1;

	if (!ref_ok(ref))
		return intune_errf(err, errlen,
		    "setting '%s' is encrypted but has no usable %s",
		    setting_label(e), s->ref);
	/* GET .../{id}/getOmaSettingPlainTextValue(secretReferenceValueId='r') */
	snprintf(fn, sizeof(fn), "/%s(%s='%s')", s->decrypt, s->ref, ref);
	if (intune_family_url(fam, fam->version, id, fn, url, sizeof(url)) != 0)
		return intune_errf(err, errlen, "object id too long");
	if (host->graph_request(ctx, "GET", url, NULL, NULL, &resp) != 0 ||
	    resp.status < 200 || resp.status > 299) {
		intune_errf(err, errlen, "decrypting setting '%s': %s",
		    setting_label(e),
		    resp.error != NULL && resp.error[0] ? resp.error :
							  "no answer");
		goto out;
	}
	answer = intune_json_object(resp.body);
	plain = cJSON_GetObjectItemCaseSensitive(answer, "value");
	if (!cJSON_IsString(plain)) {
		intune_errf(err, errlen,
		    "decrypting setting '%s': the answer has no string value "
		    "(request-id %s)",
		    setting_label(e),
		    resp.request_id != NULL ? resp.request_id : "none");
		goto out;
	}
	if (host->seal(ctx, plain->valuestring, &sealed) != 0 ||
	    sealed == NULL ||
	    strncmp(sealed, OPRUN_SEALED_PREFIX, strlen(OPRUN_SEALED_PREFIX)) !=
		0) {
		intune_errf(err, errlen, "sealing setting '%s' failed: %s",
		    setting_label(e), intune_last_error(host, ctx));
		goto out;
	}
	rc = intune_json_set(e, s->value, cJSON_CreateString(sealed));
	if (rc != 0)
		intune_errf(err, errlen, "out of memory sealing '%s'",
		    setting_label(e));
out:
	intune_json_wipe(cJSON_GetObjectItemCaseSensitive(answer, "value"));
	cJSON_Delete(answer);
	return rc;
}

int
intune_seal_secrets(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct intune_family *fam, const char *id, cJSON *obj, char *err,
    size_t errlen)
{
	cJSON *e = NULL;
	int n = 0;

	if (fam->secret == NULL)
		return 0;
	while ((e = next_secret(fam->secret, obj, e)) != NULL) {
		if (!OPRUN_HOST_HAS(host, seal))
			return intune_errf(err, errlen,
			    "setting '%s' is encrypted and this host cannot "
			    "seal values (ABI 1.2 seal): not captured",
			    setting_label(e));
		if (seal_one(host, ctx, fam, id, e, err, errlen) != 0)
			return -1;
		n++;
	}
	return n;
}

int
intune_unseal_secrets(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct intune_family *fam, cJSON *obj, char *err, size_t errlen)
{
	const char *sealed, *plain = NULL;
	cJSON *e = NULL;
	int n = 0;

	if (fam->secret == NULL)
		return 0;
	while ((e = next_secret(fam->secret, obj, e)) != NULL) {
		sealed = intune_json_str(e, fam->secret->value);
		if (sealed == NULL ||
		    strncmp(sealed, OPRUN_SEALED_PREFIX,
			strlen(OPRUN_SEALED_PREFIX)) != 0)
			return intune_errf(err, errlen,
			    "setting '%s' is encrypted but its value is not "
			    "sealed",
			    setting_label(e));
		if (!OPRUN_HOST_HAS(host, unseal) ||
		    host->unseal(ctx, sealed, &plain) != 0 || plain == NULL)
			return intune_errf(err, errlen,
			    "unsealing setting '%s' failed: %s",
			    setting_label(e),
			    OPRUN_HOST_HAS(host, unseal) ?
				intune_last_error(host, ctx) :
				"this host cannot unseal values (ABI 1.2)");
		if (intune_json_set(e, fam->secret->value,
			cJSON_CreateString(plain)) != 0)
			return intune_errf(err, errlen, "out of memory");
		n++;
	}
	return n;
}

void
intune_wipe_secrets(const struct intune_family *fam, cJSON *obj)
{
	cJSON *e = NULL;

	if (fam->secret == NULL)
		return;
	while ((e = next_secret(fam->secret, obj, e)) != NULL)
		intune_json_wipe(
		    cJSON_GetObjectItemCaseSensitive(e, fam->secret->value));
}
