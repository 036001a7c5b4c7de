/*
 * Test plugin "record": writes one line "<type> <run id> <attempt>" to the
 * file named by [plugin record] file before doing anything else, then
 * sleeps payload.ms milliseconds (honouring cancel).  Crash tests count
 * the lines to prove no non-idempotent run was executed twice.
 * test-record-idem is idempotent, test-record-once is not.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

static int
record(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	const char *file = host->config_get(ctx, "file");
	char line[128];
	int fd, n, ok;

	if (file == NULL)
		return -1;
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "%s %llu %u\n", run->type,
	    (unsigned long long)run->id, run->attempt);
	/* One write(2) with O_APPEND: lines of concurrent runs never mix. */
	ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

static long
payload_ms(const char *payload)
{
	cJSON *root = cJSON_Parse(payload);
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "ms");
	long v = cJSON_IsNumber(ms) ? (long)ms->valuedouble : 0;

	cJSON_Delete(root);
	return v;
}

static enum oprun_outcome
record_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	struct timespec step = { 0, 5 * 1000 * 1000 };
	long ms = payload_ms(run->payload);

	if (record(host, ctx, run) != 0) {
		host->set_reason(ctx, "cannot append to [plugin record] file");
		return OPRUN_FAILED;
	}
	host->set_total(ctx, 1);
	for (long slept = 0; slept < ms; slept += 5) {
		if (host->cancel_requested(ctx))
			return OPRUN_CANCELED;
		nanosleep(&step, NULL);
	}
	host->item_done(ctx, "record", OPRUN_ITEM_SUCCEEDED, NULL);
	return OPRUN_OK;
}

static const struct oprun_operation idem_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-record-idem",
	.description = "test: record the execution, idempotent",
	.flags = OPRUN_OP_IDEMPOTENT | OPRUN_OP_CANCELLABLE,
	.run = record_run,
};

static const struct oprun_operation once_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-record-once",
	.description = "test: record the execution, must never run twice",
	.flags = OPRUN_OP_CANCELLABLE,
	.run = record_run,
};

static const struct oprun_operation *const record_ops[] = { &idem_op,
	&once_op, NULL };

static const struct oprun_config_key record_keys[] = {
	{ "file", "file that gets one line per execution", NULL, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct oprun_plugin record_plugin = {
	.size = sizeof(struct oprun_plugin),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.name = "record",
	.version = "1.0.0",
	.description = "test plugin: records each execution in a file",
	.config_keys = record_keys,
	.operations = record_ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	(void)host_abi_major;
	(void)host_abi_minor;
	return &record_plugin;
}
