/*
 * Test plugin "items": processes "count" numbered items and fails the ones
 * listed in "fail", so tests can produce OK, PARTIAL and FAILED runs, item
 * failure lists, cancellation between items and dedupe by identity.
 *
 * Payload: {"count": N, "fail": [i, ...], "comment": "..."}.  "comment"
 * is not part of the identity, so it lets tests submit the same operation
 * with different payload text.
 */
#include <oprun/plugin.h>

#include <cjson/cJSON.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A million items keeps the largest test run well under a minute. */
#define ITEMS_MAX 1000000

/* True when item is a number holding an integer in [lo, hi]. */
static int items_is_int(const cJSON *item, double lo, double hi)
{
	double d;

	if (!cJSON_IsNumber(item))
		return 0;
	d = item->valuedouble;
	/* Range first, so the cast below is defined. */
	return d >= lo && d <= hi && d == (double)(int64_t)d;
}

/* Checks that root holds only keys the payload may have. */
static int items_check_keys(const cJSON *root, char *err, size_t errlen)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, root)
	{
		if (strcmp(it->string, "count") != 0 &&
		    strcmp(it->string, "fail") != 0 &&
		    strcmp(it->string, "comment") != 0) {
			snprintf(err, errlen,
				 "payload: unknown key \"%s\"; allowed: count, "
				 "fail, comment",
				 it->string);
			return -1;
		}
	}
	return 0;
}

/* Checks that every entry of fail is an item number from 1 to count. */
static int items_check_fail(const cJSON *fail, uint32_t count, char *err,
			    size_t errlen)
{
	const cJSON *it;
	int i = 0;

	if (!cJSON_IsArray(fail)) {
		snprintf(err, errlen,
			 "payload.fail: must be an array of item numbers");
		return -1;
	}
	cJSON_ArrayForEach(it, fail)
	{
		if (!items_is_int(it, -1e15, 1e15)) {
			snprintf(err, errlen,
				 "payload.fail[%d]: must be an integer item "
				 "number from 1 to %u",
				 i, count);
			return -1;
		}
		if (!items_is_int(it, 1, count)) {
			snprintf(err, errlen,
				 "payload.fail[%d]: %.0f is not an item number "
				 "from 1 to %u",
				 i, it->valuedouble, count);
			return -1;
		}
		i++;
	}
	return 0;
}

/* Checks a parsed payload and stores its item count in *count.
 * Returns 0, or -1 with a one-line reason in err. */
static int items_check(const cJSON *root, uint32_t *count, char *err,
		       size_t errlen)
{
	const cJSON *n, *fail, *comment;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "payload: must be a JSON object");
		return -1;
	}
	if (items_check_keys(root, err, errlen) == -1)
		return -1;
	n = cJSON_GetObjectItemCaseSensitive(root, "count");
	if (!items_is_int(n, 0, ITEMS_MAX)) {
		snprintf(err, errlen,
			 "payload.count: must be an integer from 0 to %d",
			 ITEMS_MAX);
		return -1;
	}
	*count = (uint32_t)n->valuedouble;
	comment = cJSON_GetObjectItemCaseSensitive(root, "comment");
	if (comment != NULL && !cJSON_IsString(comment)) {
		snprintf(err, errlen, "payload.comment: must be a string");
		return -1;
	}
	fail = cJSON_GetObjectItemCaseSensitive(root, "fail");
	if (fail != NULL)
		return items_check_fail(fail, *count, err, errlen);
	return 0;
}

static int items_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
			  const char *payload, char *err, size_t errlen)
{
	cJSON *root;
	uint32_t count;
	int rc;

	(void)host;
	(void)ctx;
	root = cJSON_Parse(payload);
	if (root == NULL) {
		snprintf(err, errlen, "payload: not valid JSON");
		return -1;
	}
	rc = items_check(root, &count, err, errlen);
	cJSON_Delete(root);
	return rc;
}

/* Writes {"count":N,"fail":[...]} or {"count":N}: the comment is left out
 * on purpose.  Also returns -1 for a payload that validate would refuse,
 * which the host never passes. */
static int items_identity(const char *payload, char *out, size_t outlen)
{
	cJSON *root, *id, *count, *fail;
	int len, rc = -1;

	len = outlen > INT_MAX ? INT_MAX : (int)outlen;
	root = cJSON_Parse(payload);
	if (root == NULL)
		return -1;
	id = cJSON_CreateObject();
	if (id == NULL)
		goto out_root;
	count = cJSON_GetObjectItemCaseSensitive(root, "count");
	fail = cJSON_GetObjectItemCaseSensitive(root, "fail");
	if (count == NULL ||
	    !cJSON_AddItemToObject(id, "count", cJSON_Duplicate(count, 1)))
		goto out_id;
	if (fail != NULL &&
	    !cJSON_AddItemToObject(id, "fail", cJSON_Duplicate(fail, 1)))
		goto out_id;
	if (cJSON_PrintPreallocated(id, out, len, 0))
		rc = 0;
out_id:
	cJSON_Delete(id);
out_root:
	cJSON_Delete(root);
	return rc;
}

/* Returns a zeroed array indexed by item number with 1 for each item to
 * fail, or NULL if out of memory.  The caller frees it. */
static unsigned char *items_fail_marks(const cJSON *root, uint32_t count)
{
	const cJSON *fail, *it;
	unsigned char *marks;

	marks = calloc((size_t)count + 1, 1);
	if (marks == NULL)
		return NULL;
	fail = cJSON_GetObjectItemCaseSensitive(root, "fail");
	cJSON_ArrayForEach(it, fail)
	{
		marks[(uint32_t)it->valuedouble] = 1;
	}
	return marks;
}

/* Reports every item; returns OPRUN_CANCELED if asked to stop, else
 * OPRUN_OK with the number of failed items in *failed. */
static enum oprun_outcome items_process(const struct oprun_host *host,
					struct oprun_ctx *ctx,
					const unsigned char *marks,
					uint32_t count, uint32_t *failed)
{
	char name[32], msg[64];
	uint32_t i;

	*failed = 0;
	for (i = 1; i <= count; i++) {
		if (host->cancel_requested(ctx)) {
			host->set_reason(ctx, "canceled by request");
			return OPRUN_CANCELED;
		}
		snprintf(name, sizeof(name), "item-%u", i);
		if (marks[i]) {
			snprintf(msg, sizeof(msg),
				 "simulated failure of item-%u", i);
			host->item_done(ctx, name, OPRUN_ITEM_FAILED, msg);
			(*failed)++;
		} else {
			host->item_done(ctx, name, OPRUN_ITEM_SUCCEEDED, NULL);
		}
	}
	return OPRUN_OK;
}

/* Sets the result and picks the outcome from the failure count. */
static enum oprun_outcome items_finish(const struct oprun_host *host,
				       struct oprun_ctx *ctx, uint32_t count,
				       uint32_t failed)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "{\"processed\":%u,\"failed\":%u}", count,
		 failed);
	host->set_result(ctx, buf);
	if (count > 0 && failed == count) {
		snprintf(buf, sizeof(buf), "all %u items failed", count);
		host->set_reason(ctx, buf);
		return OPRUN_FAILED;
	}
	return failed > 0 ? OPRUN_PARTIAL : OPRUN_OK;
}

static enum oprun_outcome items_run(const struct oprun_host *host,
				    struct oprun_ctx *ctx,
				    const struct oprun_run_info *run)
{
	enum oprun_outcome rc = OPRUN_FAILED;
	unsigned char *marks;
	uint32_t count, failed;
	char err[256];
	cJSON *root;

	root = cJSON_Parse(run->payload);
	if (root == NULL) {
		host->set_reason(ctx, "payload: not valid JSON");
		return OPRUN_FAILED;
	}
	/* Checked again: a stored run may predate a stricter validate. */
	if (items_check(root, &count, err, sizeof(err)) == -1) {
		host->set_reason(ctx, err);
		goto out_root;
	}
	marks = items_fail_marks(root, count);
	if (marks == NULL) {
		host->set_reason(ctx, "out of memory for the failure list");
		goto out_root;
	}
	host->set_total(ctx, count);
	rc = items_process(host, ctx, marks, count, &failed);
	if (rc == OPRUN_OK)
		rc = items_finish(host, ctx, count, failed);
	free(marks);
out_root:
	cJSON_Delete(root);
	return rc;
}

static const struct oprun_operation items_op = {
    .size = sizeof(struct oprun_operation),
    .type = "test-items",
    .description = "test: process N items, failing the listed ones",
    .flags = OPRUN_OP_CANCELLABLE,
    .validate = items_validate,
    .identity = items_identity,
    .run = items_run,
};

static const struct oprun_operation *const items_ops[] = {
    &items_op,
    NULL,
};

static const struct oprun_plugin items_plugin = {
    .size = sizeof(struct oprun_plugin),
    .abi_major = OPRUN_ABI_MAJOR,
    .abi_minor = OPRUN_ABI_MINOR,
    .name = "items",
    .version = "1.0.0",
    .description = "test plugin: numbered items with chosen failures",
    .operations = items_ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	/* The host checks ABI compatibility from the descriptor. */
	(void)host_abi_major;
	(void)host_abi_minor;
	return &items_plugin;
}
