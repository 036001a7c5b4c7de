/*
 * Test plugin "crash": dies on purpose inside run(), so tests can check
 * that a crashing plugin takes down only its worker and the run is
 * recorded as failed (or retried) rather than lost.  Calling _exit breaks
 * the plugin rules deliberately; no real plugin may do it.
 *
 * Payload: {"how": "segv" | "abort" | "exit"}, "segv" by default.
 */
#define _POSIX_C_SOURCE 200809L

#include <oprun/plugin.h>

#include <cjson/cJSON.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Returns the "how" value of a parsed payload: "segv" when absent, NULL
 * when present but not a string. */
static const char *crash_how(const cJSON *root)
{
	const cJSON *how;

	how = cJSON_GetObjectItemCaseSensitive(root, "how");
	if (how == NULL)
		return "segv";
	return cJSON_GetStringValue(how);
}

static int crash_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
			  const char *payload, char *err, size_t errlen)
{
	const char *how;
	cJSON *root;
	int rc = -1;

	(void)host;
	(void)ctx;
	root = cJSON_Parse(payload);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "payload: must be a JSON object");
		goto out_root;
	}
	how = crash_how(root);
	if (how == NULL ||
	    (strcmp(how, "segv") != 0 && strcmp(how, "abort") != 0 &&
	     strcmp(how, "exit") != 0)) {
		snprintf(
		    err, errlen,
		    "payload.how: must be \"segv\", \"abort\" or \"exit\"");
		goto out_root;
	}
	rc = 0;
out_root:
	cJSON_Delete(root);
	return rc;
}

/* Dies the way how says; returns only if how is unknown or the host
 * survives the signal. */
static void crash_now(const char *how)
{
	if (strcmp(how, "segv") == 0)
		raise(SIGSEGV);
	else if (strcmp(how, "abort") == 0)
		abort();
	else if (strcmp(how, "exit") == 0)
		_exit(3);
}

static enum oprun_outcome crash_run(const struct oprun_host *host,
				    struct oprun_ctx *ctx,
				    const struct oprun_run_info *run)
{
	const char *how = NULL;
	cJSON *root;

	root = cJSON_Parse(run->payload);
	if (cJSON_IsObject(root))
		how = crash_how(root);
	if (how != NULL)
		crash_now(how);
	cJSON_Delete(root);
	/* Reached only if the crash did not happen. */
	host->set_reason(ctx, "the crash test plugin failed to crash");
	return OPRUN_FAILED;
}

static const struct oprun_operation crash_op = {
    .size = sizeof(struct oprun_operation),
    .type = "test-crash",
    .description = "test: crash the worker (segv, abort or exit)",
    .validate = crash_validate,
    .run = crash_run,
};

static const struct oprun_operation *const crash_ops[] = {
    &crash_op,
    NULL,
};

static const struct oprun_plugin crash_plugin = {
    .size = sizeof(struct oprun_plugin),
    .abi_major = OPRUN_ABI_MAJOR,
    .abi_minor = OPRUN_ABI_MINOR,
    .name = "crash",
    .version = "1.0.0",
    .description = "test plugin: crashes on purpose",
    .operations = crash_ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	/* The host checks ABI compatibility from the descriptor. */
	(void)host_abi_major;
	(void)host_abi_minor;
	return &crash_plugin;
}
