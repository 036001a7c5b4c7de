/*
 * supervisor - `oprun serve` (docs/DESIGN.md section 4) and its
 * executors.
 *
 * The supervisor checks the configuration and the plugins, resolves runs
 * a dead runner left running, then keeps [runner] executors executor
 * processes alive.  Each executor is this binary re-executed as
 * `oprun executor`: it opens the store itself and drains the queue
 * through worker.c, so a plugin that crashes or hangs takes down only its
 * executor.  The supervisor never runs plugin code beyond reading the
 * descriptors; it enforces deadlines and cancels (flag first, kill after
 * the grace period), resolves the run of every executor that dies (failed
 * with the reason, or queued again for idempotent operations), respawns
 * executors, and fans out wake-ups from submitters.
 *
 * Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the config and
 * the plugin directory and replaces the executors.  A change in the
 * plugin directory reloads the same way by itself (plugin_watch.h), and
 * executors rescan it before failing a run of a type they do not know.
 *
 * Both functions return the process exit status (see exitcodes.h).
 */
#ifndef OPRUN_SUPERVISOR_H
#define OPRUN_SUPERVISOR_H

#include <stdint.h>

int	supervisor_serve(const char *config_file);
int	executor_main(const char *config_file, uint64_t epoch, int control_fd,
	    int heartbeat_fd);

#endif
