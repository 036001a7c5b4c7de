/*
 * Test plugin "kvconfig": exercises the host's config lookup and the
 * plugin's durable key/value storage.  Each run bumps a stored counter and
 * reports it with the configured greeting and label, so tests can see that
 * storage survives restarts and that [plugin kvconfig] values arrive.
 * init refuses an empty greeting, to test a plugin that fails closed.
 */
#include <oprun/plugin.h>

#include <cjson/cJSON.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_COUNTER "counter"

static const struct oprun_config_key kv_keys[] = {
    {"greeting", "word put into each result", "hello", 0},
    /* Optional, so the sample configuration works without it. */
    {"label", "label put into each result", NULL, 0},
    {NULL, NULL, NULL, 0},
};

static int kv_init(const struct oprun_host *host, struct oprun_ctx *ctx,
		   char *err, size_t errlen)
{
	const char *greeting;

	/* NULL cannot happen while "greeting" has a default; treat it like
	 * an empty value rather than crash on a broken host. */
	greeting = host->config_get(ctx, "greeting");
	if (greeting == NULL || greeting[0] == '\0') {
		snprintf(err, errlen, "greeting must not be empty");
		return -1;
	}
	return 0;
}

/* Reads the stored counter into *n (0 when never stored).
 * Returns 0, or -1 with a reason set on ctx. */
static int kv_load_counter(const struct oprun_host *host, struct oprun_ctx *ctx,
			   int *n)
{
	char buf[32], *end;
	size_t len;
	long v;
	int rc;

	rc = host->kv_get(ctx, KV_COUNTER, buf, sizeof(buf) - 1, &len);
	if (rc == 1) {
		*n = 0;
		return 0;
	}
	if (rc != 0 || len >= sizeof(buf)) {
		host->set_reason(ctx, "cannot read the stored counter");
		return -1;
	}
	buf[len] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	/* Below INT_MAX, so the caller's increment cannot overflow. */
	if (errno != 0 || end == buf || *end != '\0' || v < 0 || v >= INT_MAX) {
		host->set_reason(ctx, "the stored counter is not a number");
		return -1;
	}
	*n = (int)v;
	return 0;
}

/* Adds key to obj as a string, or as null when value is NULL. */
static int kv_add_string(cJSON *obj, const char *key, const char *value)
{
	if (value == NULL)
		return cJSON_AddNullToObject(obj, key) != NULL;
	return cJSON_AddStringToObject(obj, key, value) != NULL;
}

/* Sets {"counter":n,"greeting":...,"label":...} as the result; cJSON does
 * the quoting because config values are free text.  Returns 0 or -1. */
static int kv_set_result(const struct oprun_host *host, struct oprun_ctx *ctx,
			 int n)
{
	cJSON *obj;
	char *text = NULL;
	int rc = -1;

	obj = cJSON_CreateObject();
	if (obj == NULL)
		return -1;
	if (cJSON_AddNumberToObject(obj, "counter", n) == NULL ||
	    !kv_add_string(obj, "greeting",
			   host->config_get(ctx, "greeting")) ||
	    !kv_add_string(obj, "label", host->config_get(ctx, "label")))
		goto out_obj;
	text = cJSON_PrintUnformatted(obj);
	if (text != NULL)
		rc = host->set_result(ctx, text);
	cJSON_free(text);
out_obj:
	cJSON_Delete(obj);
	return rc;
}

static enum oprun_outcome kv_run(const struct oprun_host *host,
				 struct oprun_ctx *ctx,
				 const struct oprun_run_info *run)
{
	char buf[32];
	int n, len;

	(void)run;
	if (kv_load_counter(host, ctx, &n) == -1)
		return OPRUN_FAILED;
	n++;
	len = snprintf(buf, sizeof(buf), "%d", n);
	if (host->kv_put(ctx, KV_COUNTER, buf, (size_t)len) == -1) {
		host->set_reason(ctx, "cannot store the counter");
		return OPRUN_FAILED;
	}
	host->log(ctx, OPRUN_LOG_INFO, "counter is now %d", n);
	if (kv_set_result(host, ctx, n) == -1) {
		host->set_reason(ctx, "cannot set the result");
		return OPRUN_FAILED;
	}
	return OPRUN_OK;
}

static const struct oprun_operation kv_op = {
    .size = sizeof(struct oprun_operation),
    .type = "test-kv",
    .description = "test: bump a stored counter and echo the config",
    .flags = OPRUN_OP_IDEMPOTENT,
    .run = kv_run,
};

static const struct oprun_operation *const kv_ops[] = {
    &kv_op,
    NULL,
};

static const struct oprun_plugin kv_plugin = {
    .size = sizeof(struct oprun_plugin),
    .abi_major = OPRUN_ABI_MAJOR,
    .abi_minor = OPRUN_ABI_MINOR,
    .name = "kvconfig",
    .version = "1.0.0",
    .description = "test plugin: config values and key/value storage",
    .config_keys = kv_keys,
    .operations = kv_ops,
    .init = kv_init,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	/* The host checks ABI compatibility from the descriptor. */
	(void)host_abi_major;
	(void)host_abi_minor;
	return &kv_plugin;
}
