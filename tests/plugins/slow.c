/*
 * Test plugin "slow": sleeps for "seconds", polling cancel_requested every
 * 10 ms, so tests can cancel a running run, hit a deadline, or (with
 * "ignore_cancel") watch the host deal with a plugin that never stops.
 *
 * Payload: {"seconds": S, "ignore_cancel": true|false, "pad": "..."};
 * pad is ignored: it makes the run's record as large as a test needs.
 */
#define _POSIX_C_SOURCE 200809L

#include <oprun/plugin.h>

#include <cjson/cJSON.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* An hour: longer than any test should wait, short enough to catch typos. */
#define SLOW_MAX_SECONDS 3600

/* 10 ms between cancel checks, so a cancel is seen almost at once. */
#define SLOW_TICK_NS 10000000

struct slow_args {
	double seconds;
	int ignore_cancel;
};

/* Checks a parsed payload and fills args.
 * Returns 0, or -1 with a one-line reason in err. */
static int slow_check(const cJSON *root, struct slow_args *args, char *err,
		      size_t errlen)
{
	const cJSON *it, *sec, *ign;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "payload: must be a JSON object");
		return -1;
	}
	cJSON_ArrayForEach(it, root)
	{
		if (strcmp(it->string, "seconds") != 0 &&
		    strcmp(it->string, "ignore_cancel") != 0 &&
		    strcmp(it->string, "pad") != 0) {
			snprintf(err, errlen,
				 "payload: unknown key \"%s\"; allowed: "
				 "seconds, ignore_cancel, pad",
				 it->string);
			return -1;
		}
	}
	sec = cJSON_GetObjectItemCaseSensitive(root, "seconds");
	if (!cJSON_IsNumber(sec) || !(sec->valuedouble >= 0) ||
	    sec->valuedouble > SLOW_MAX_SECONDS) {
		snprintf(err, errlen,
			 "payload.seconds: must be a number from 0 to %d",
			 SLOW_MAX_SECONDS);
		return -1;
	}
	ign = cJSON_GetObjectItemCaseSensitive(root, "ignore_cancel");
	if (ign != NULL && !cJSON_IsBool(ign)) {
		snprintf(err, errlen,
			 "payload.ignore_cancel: must be true or false");
		return -1;
	}
	args->seconds = sec->valuedouble;
	args->ignore_cancel = cJSON_IsTrue(ign);
	return 0;
}

/* Parses and checks payload into args.
 * Returns 0, or -1 with a one-line reason in err. */
static int slow_parse(const char *payload, struct slow_args *args, char *err,
		      size_t errlen)
{
	cJSON *root;
	int rc;

	root = cJSON_Parse(payload);
	if (root == NULL) {
		snprintf(err, errlen, "payload: not valid JSON");
		return -1;
	}
	rc = slow_check(root, args, err, errlen);
	cJSON_Delete(root);
	return rc;
}

static int slow_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
			 const char *payload, char *err, size_t errlen)
{
	struct slow_args args;

	(void)host;
	(void)ctx;
	return slow_parse(payload, &args, err, errlen);
}

/* Monotonic time in nanoseconds: wall-clock jumps must not end a sleep. */
static int64_t slow_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps one tick, or less when less remains.  An interrupted sleep just
 * ends early; the caller's loop measures what is left. */
static void slow_tick(int64_t remaining_ns)
{
	struct timespec ts = {0, SLOW_TICK_NS};

	if (remaining_ns < SLOW_TICK_NS)
		ts.tv_nsec = (long)remaining_ns;
	nanosleep(&ts, NULL);
}

static enum oprun_outcome slow_run(const struct oprun_host *host,
				   struct oprun_ctx *ctx,
				   const struct oprun_run_info *run)
{
	struct slow_args args;
	int64_t end, now;
	char err[256];

	if (slow_parse(run->payload, &args, err, sizeof(err)) == -1) {
		host->set_reason(ctx, err);
		return OPRUN_FAILED;
	}
	host->set_total(ctx, 1);
	end = slow_now_ns() + (int64_t)(args.seconds * 1e9);
	while ((now = slow_now_ns()) < end) {
		if (!args.ignore_cancel && host->cancel_requested(ctx)) {
			host->set_reason(ctx, "canceled while sleeping");
			return OPRUN_CANCELED;
		}
		slow_tick(end - now);
	}
	host->item_done(ctx, "sleep", OPRUN_ITEM_SUCCEEDED, NULL);
	return OPRUN_OK;
}

static const struct oprun_operation slow_op = {
    .size = sizeof(struct oprun_operation),
    .type = "test-slow",
    .description = "test: sleep for a while, polling for cancel",
    .flags = OPRUN_OP_CANCELLABLE,
    .validate = slow_validate,
    .run = slow_run,
};

static const struct oprun_operation *const slow_ops[] = {
    &slow_op,
    NULL,
};

static const struct oprun_plugin slow_plugin = {
    .size = sizeof(struct oprun_plugin),
    .abi_major = OPRUN_ABI_MAJOR,
    .abi_minor = OPRUN_ABI_MINOR,
    .name = "slow",
    .version = "1.0.0",
    .description = "test plugin: a cancellable sleep",
    .operations = slow_ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	/* The host checks ABI compatibility from the descriptor. */
	(void)host_abi_major;
	(void)host_abi_minor;
	return &slow_plugin;
}
