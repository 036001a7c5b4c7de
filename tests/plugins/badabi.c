/*
 * Test plugin "badabi": claims the next ABI major version, so the host must
 * refuse to load it and say which ABI it provides.  The operation itself is
 * harmless in case a broken host runs it anyway.
 */
#include <oprun/plugin.h>

static enum oprun_outcome badabi_run(const struct oprun_host *host,
				     struct oprun_ctx *ctx,
				     const struct oprun_run_info *run)
{
	(void)host;
	(void)ctx;
	(void)run;
	return OPRUN_OK;
}

static const struct oprun_operation badabi_op = {
    .size = sizeof(struct oprun_operation),
    .type = "test-badabi",
    .description = "test: never runs, its plugin has the wrong ABI",
    .run = badabi_run,
};

static const struct oprun_operation *const badabi_ops[] = {
    &badabi_op,
    NULL,
};

static const struct oprun_plugin badabi_plugin = {
    .size = sizeof(struct oprun_plugin),
    /* One major version ahead: structs may have changed incompatibly. */
    .abi_major = OPRUN_ABI_MAJOR + 1,
    .abi_minor = 0, /* "ABI 2.0": the tests expect these words */
    .name = "badabi",
    .version = "1.0.0",
    .description = "test plugin: built against a future ABI major",
    .operations = badabi_ops,
};

OPRUN_EXPORT const struct oprun_plugin *
oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
{
	/* Answer regardless, so the host's own check is what refuses it. */
	(void)host_abi_major;
	(void)host_abi_minor;
	return &badabi_plugin;
}
