/*
 * Test plugin "instant": one operation that finishes at once with one
 * succeeded item.  Benchmarks use it to measure the runner's own overhead,
 * so run() does the least work the ABI allows.
 */
#include <oprun/plugin.h>

static enum oprun_outcome instant_run(const struct oprun_host *host,
				      struct oprun_ctx *ctx,
				      const struct oprun_run_info *run)
{
	(void)run;
	host->set_total(ctx, 1);
	host->item_done(ctx, "instant", OPRUN_ITEM_SUCCEEDED, NULL);
	host->set_result(ctx, "{\"ok\":true}");
	return OPRUN_OK;
}

static const struct oprun_operation instant_op = {
    .size = sizeof(struct oprun_operation),
    .type = "test-instant",
    .description = "test: succeed at once with one item",
    .flags = OPRUN_OP_IDEMPOTENT,
    .run = instant_run,
};

static const struct oprun_operation *const instant_ops[] = {
    &instant_op,
    NULL,
};

static const struct oprun_plugin instant_plugin = {
    .size = sizeof(struct oprun_plugin),
    .abi_major = OPRUN_ABI_MAJOR,
    .abi_minor = OPRUN_ABI_MINOR,
    .name = "instant",
    .version = "1.0.0",
    .description = "test plugin: an operation that finishes at once",
    .operations = instant_ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	/* The host checks ABI compatibility from the descriptor. */
	(void)host_abi_major;
	(void)host_abi_minor;
	return &instant_plugin;
}
