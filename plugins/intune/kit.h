/*
 * Plugin boilerplate shared by the Intune plugins: the descriptor in two
 * macros, the check that the host has the ABI members an operation
 * needs, and the outcome of a run from its item counts.
 *
 *     INTUNE_OPERATION(capture_op, "backup-capture", "capture ...",
 *         OPRUN_OP_IDEMPOTENT | OPRUN_OP_CANCELLABLE, capture_validate,
 *         capture_run);
 *     INTUNE_PLUGIN("backup-capture", "1.0.0", "Intune backup", &capture_op);
 */
#ifndef INTUNE_KIT_H
#define INTUNE_KIT_H

#include <stddef.h>
#include <stdint.h>

#include <oprun/plugin.h>

/* Defines the operation VAR (static const struct oprun_operation). */
#define INTUNE_OPERATION(VAR, TYPE, DESCRIPTION, FLAGS, VALIDATE, RUN)         \
	static const struct oprun_operation VAR = {                            \
		.size = sizeof(struct oprun_operation),                        \
		.type = TYPE,                                                  \
		.description = DESCRIPTION,                                    \
		.flags = FLAGS,                                                \
		.validate = VALIDATE,                                          \
		.run = RUN,                                                    \
	}

/* Defines the plugin descriptor and its entry symbol; the operations
 * (pointers to INTUNE_OPERATION variables) follow the description. */
#define INTUNE_PLUGIN(NAME, VERSION, DESCRIPTION, ...)                         \
	static const struct oprun_operation *const intune_operations_[] = {    \
		__VA_ARGS__, NULL                                              \
	};                                                                     \
	static const struct oprun_plugin intune_plugin_ = {                    \
		.size = sizeof(struct oprun_plugin),                           \
		.abi_major = OPRUN_ABI_MAJOR,                                  \
		.abi_minor = OPRUN_ABI_MINOR,                                  \
		.name = NAME,                                                  \
		.version = VERSION,                                            \
		.description = DESCRIPTION,                                    \
		.operations = intune_operations_,                              \
	};                                                                     \
	OPRUN_EXPORT const struct oprun_plugin *oprun_plugin_describe(         \
	    uint16_t host_abi_major, uint16_t host_abi_minor)                  \
	{                                                                      \
		(void)host_abi_major;                                          \
		(void)host_abi_minor;                                          \
		return &intune_plugin_;                                        \
	}

/* Host members an operation needs (intune_host_check). */
#define INTUNE_NEED_GRAPH     0x1u /* graph_request, graph_list, graph_batch */
#define INTUNE_NEED_DOCS      0x2u /* doc_put */
#define INTUNE_NEED_DIR_READ  0x4u /* directory_get, directory_synced_at */
#define INTUNE_NEED_DIR_WRITE 0x8u /* directory_begin, _put, _commit */

/* Returns 0 if host has every member need names, else -1 with err
 * naming the first missing one and the ABI version that brings it. */
int intune_host_check(const struct oprun_host *host, unsigned need, char *err,
    size_t errlen);

/* host->last_error(ctx), or a placeholder when there is none. */
const char *intune_last_error(const struct oprun_host *host,
    struct oprun_ctx *ctx);

/* The outcome of a run that processed ok items well and failed badly:
 * OK without failures, FAILED without successes, else PARTIAL. */
enum oprun_outcome intune_outcome(uint64_t ok, uint64_t failed);

#endif
