/*
 * runtime - what every command needs, opened in the order the daemon
 * reads top to bottom: configuration, plugins, store.
 *
 * runtime_open fills rt; every problem goes to diag as one line and the
 * function returns -1 (nothing half-open is left: runtime_close is safe
 * on whatever was filled).  Plugin refusals are not fatal: they are kept
 * in rt->refusals for the caller to print, and the other plugins work.
 */
#ifndef OPRUN_RUNTIME_H
#define OPRUN_RUNTIME_H

#include "config.h"
#include "graph.h"
#include "loader.h"
#include "store.h"
#include "util.h"
#include "wake.h"

struct plugin_rescan;

struct runtime {
	struct config cfg;
	struct plugin_registry plugins;
	struct diag refusals;
	struct store *st;
	struct wake wake;	/* tells a running `oprun serve` of new runs */
	struct graph_client *graph;	/* opened by the first Graph call */
	/* Set by `oprun serve`'s executors (their own, not owned here): a
	 * run of a type no loaded plugin provides is claimed and the plugin
	 * directory rescanned before it fails (plugin_watch.h).  NULL: such
	 * runs fail at the claim. */
	struct plugin_rescan *rescan;
};

#define RUNTIME_PLUGINS	0x1	/* load the plugin directory */
#define RUNTIME_STORE	0x2	/* open the store */

int	runtime_open(struct runtime *rt, const char *config_file,
	    unsigned what, struct diag *diag);
void	runtime_close(struct runtime *rt);

#endif
