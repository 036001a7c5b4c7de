/*
 * example - a complete oprun plugin, built out of tree against the
 * installed header only:
 *
 *     make -C plugins/example      (uses `pkg-config oprun-plugin`)
 *
 * Operation "example-greet" greets each name of its payload:
 *     {"names": ["alice", "bob"], "fail": ["bob"]}
 * Each name is one item; names listed in "fail" fail (to show partial
 * runs).  It honours cancel between items, reports progress, keeps a
 * count of greetings in plugin storage, reads its [plugin example]
 * section, and narrows its dedupe identity to "names" (so "fail" does
 * not make two runs different).  It parses JSON by hand to need nothing
 * but libc; real plugins use a JSON library of their own.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oprun/plugin.h>

#define MAX_NAMES 256
#define MAX_NAME 64

struct names {
	char v[MAX_NAMES][MAX_NAME];
	int n;
};

/* Reads the array of strings under "key" (no escapes, no nesting). */
static int
parse_names(const char *payload, const char *key, struct names *out)
{
	char pattern[32];
	const char *p;

	out->n = 0;
	snprintf(pattern, sizeof(pattern), "\"%s\":[", key);
	if ((p = strstr(payload, pattern)) == NULL)
		return 1; /* absent */
	p += strlen(pattern);
	while (*p == '"') {
		const char *end = strchr(p + 1, '"');
		size_t len;

		if (end == NULL || out->n == MAX_NAMES ||
		    (len = (size_t)(end - p - 1)) == 0 || len >= MAX_NAME ||
		    memchr(p + 1, '\\', len) != NULL)
			return -1;
		memcpy(out->v[out->n], p + 1, len);
		out->v[out->n++][len] = '\0';
		p = end + 1;
		if (*p == ',')
			p++;
	}
	return *p == ']' ? 0 : -1;
}

static int
contains(const struct names *set, const char *name)
{
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->v[i], name) == 0)
			return 1;
	return 0;
}

/* Submit time: refuse a bad payload before anything is written. */
static int
greet_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *payload, char *err, size_t errlen)
{
	struct names names, fail;

	(void)host;
	(void)ctx;
	if (parse_names(payload, "names", &names) != 0 || names.n == 0) {
		snprintf(err, errlen, "payload.names: give a non-empty array "
		    "of plain strings (at most %d, each under %d bytes)",
		    MAX_NAMES, MAX_NAME);
		return -1;
	}
	if (parse_names(payload, "fail", &fail) < 0) {
		snprintf(err, errlen, "payload.fail: must be an array of "
		    "plain strings");
		return -1;
	}
	return 0;
}

/* Dedupe on the names only. */
static int
greet_identity(const char *payload, char *out, size_t outlen)
{
	const char *p = strstr(payload, "\"names\":[");
	const char *end = p != NULL ? strchr(p, ']') : NULL;
	int n;

	if (end == NULL)
		return -1;
	n = snprintf(out, outlen, "{%.*s}", (int)(end - p + 1), p);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Adds n to the plugin's running count of greetings. */
static long
count_greetings(const struct oprun_host *host, struct oprun_ctx *ctx, int n)
{
	char buf[32];
	size_t len = 0;
	long total = 0;

	if (host->kv_get(ctx, "greetings", buf, sizeof(buf) - 1, &len) == 0 &&
	    len < sizeof(buf)) {
		buf[len] = '\0';
		total = atol(buf);
	}
	total += n;
	len = (size_t)snprintf(buf, sizeof(buf), "%ld", total);
	if (host->kv_put(ctx, "greetings", buf, len) != 0)
		host->log(ctx, OPRUN_LOG_WARN, "could not save the count");
	return total;
}

static enum oprun_outcome
greet_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	const char *greeting = host->config_get(ctx, "greeting");
	struct names names, fail;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	char result[128], msg[160];
	int ok = 0, failed = 0;

	if (parse_names(run->payload, "names", &names) != 0 ||
	    parse_names(run->payload, "fail", &fail) < 0) {
		host->set_reason(ctx, "payload no longer parses");
		return OPRUN_FAILED;
	}
	host->set_total(ctx, (uint64_t)names.n);
	for (int i = 0; i < names.n; i++) {
		if (host->cancel_requested(ctx)) {
			host->set_reason(ctx, "canceled between greetings");
			return OPRUN_CANCELED;
		}
		nanosleep(&pause, NULL); /* stands in for real work */
		if (contains(&fail, names.v[i])) {
			snprintf(msg, sizeof(msg), "could not greet %s",
			    names.v[i]);
			host->item_done(ctx, names.v[i], OPRUN_ITEM_FAILED, msg);
			failed++;
			continue;
		}
		host->log(ctx, OPRUN_LOG_DEBUG, "%s, %s", greeting, names.v[i]);
		host->item_done(ctx, names.v[i], OPRUN_ITEM_SUCCEEDED, NULL);
		ok++;
	}
	snprintf(result, sizeof(result), "{\"greeted\":%d,\"all_time\":%ld}",
	    ok, count_greetings(host, ctx, ok));
	host->set_result(ctx, result);
	if (failed > 0 && ok == 0) {
		host->set_reason(ctx, "no name could be greeted");
		return OPRUN_FAILED;
	}
	return failed > 0 ? OPRUN_PARTIAL : OPRUN_OK;
}

static const struct oprun_operation greet = {
	.size = sizeof(struct oprun_operation),
	.type = "example-greet",
	.description = "greet each name of payload.names",
	.flags = OPRUN_OP_IDEMPOTENT | OPRUN_OP_CANCELLABLE,
	.validate = greet_validate,
	.identity = greet_identity,
	.run = greet_run,
};

static const struct oprun_operation *const operations[] = { &greet, NULL };

static const struct oprun_config_key config_keys[] = {
	{ "greeting", "word to greet with", "hello", 0 },
	{ NULL, NULL, NULL, 0 },
};

static const struct oprun_plugin plugin = {
	.size = sizeof(struct oprun_plugin),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.name = "example",
	.version = "1.0.0",
	.description = "example plugin: greets names, one item each",
	.config_keys = config_keys,
	.operations = operations,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	(void)host_abi_major;
	(void)host_abi_minor;
	return &plugin;
}
