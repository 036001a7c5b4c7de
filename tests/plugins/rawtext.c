/*
 * Test plugin "rawtext": hands the host hostile text, as a careless
 * plugin (or a Graph error it passes on) might: invalid UTF-8, a newline
 * followed by a forged logfmt line, terminal escape sequences (ESC, BEL,
 * the C1 control CSI) and DEL.  test-rawtext logs such a line, fails one
 * item whose name and message hold them, sets such a reason and result
 * and fails; its validate refuses a payload with "refuse" in the same way.
 */
#include <string.h>

#include <oprun/plugin.h>

#define HOSTILE "bad \xff\xfe bytes, cut \xe2\x82, " \
	"\x1b]0;owned\x07\x1b[2J\xc2\x9b" "31m\x7f" \
	"\nts=2026-01-01T00:00:00.000Z level=error msg=forged"

static int
rawtext_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *payload, char *err, size_t errlen)
{
	(void)host;
	(void)ctx;
	if (strstr(payload, "refuse") == NULL)
		return 0;
	strncpy(err, "refused: " HOSTILE, errlen - 1);
	err[errlen - 1] = '\0';
	return -1;
}

static enum oprun_outcome
rawtext_run(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct oprun_run_info *run)
{
	(void)run;
	host->log(ctx, OPRUN_LOG_WARN, "log: %s", HOSTILE);
	host->set_total(ctx, 2);
	host->item_done(ctx, "good", OPRUN_ITEM_SUCCEEDED, NULL);
	host->item_done(ctx, "item-\xff\x1b[2J\nforged", OPRUN_ITEM_FAILED,
	    "message: " HOSTILE);
	host->set_result(ctx, "{\"note\":\"result \xff\xc2\x9b\x1b\"}");
	host->set_reason(ctx, "reason: " HOSTILE);
	return OPRUN_FAILED;
}

static const struct oprun_operation rawtext_op = {
	.size = sizeof(struct oprun_operation),
	.type = "test-rawtext",
	.description = "test: hand the host hostile text",
	.validate = rawtext_validate,
	.run = rawtext_run,
};

static const struct oprun_operation *const rawtext_ops[] = {
	&rawtext_op,
	NULL,
};

static const struct oprun_plugin rawtext_plugin = {
	.size = sizeof(struct oprun_plugin),
	.abi_major = OPRUN_ABI_MAJOR,
	.abi_minor = OPRUN_ABI_MINOR,
	.name = "rawtext",
	.version = "1.0.0",
	.description = "test plugin: hostile text from outside",
	.operations = rawtext_ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	(void)host_abi_major;
	(void)host_abi_minor;
	return &rawtext_plugin;
}
