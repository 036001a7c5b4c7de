#include "runtime.h"

#include <string.h>

#include "log.h"

int
runtime_open(struct runtime *rt, const char *config_file, unsigned what,
    struct diag *diag)
{
	struct store_options so;
	char err[1024];

	memset(rt, 0, sizeof(*rt));
	rt->wake.fd = -1;
	if (config_load(config_pick_file(config_file), &rt->cfg, diag) != 0)
		return -1;
	log_set_level(rt->cfg.log_level);
	if (what & RUNTIME_PLUGINS)
		plugins_load_dir(&rt->plugins, rt->cfg.plugin_dir, &rt->cfg,
		    &rt->refusals);
	if (what & RUNTIME_STORE) {
		so.path = rt->cfg.store_path;
		so.map_size_mb = rt->cfg.map_size_mb;
		so.durable = rt->cfg.durable;
		so.config_file = rt->cfg.file;
		if (store_open(&rt->st, &so, err, sizeof(err)) != 0) {
			diag_add(diag, "%s", err);
			return -1;
		}
		wake_init(&rt->wake, rt->cfg.store_path);
	}
	return 0;
}

void
runtime_close(struct runtime *rt)
{
	plugins_unload(&rt->plugins);
	graph_client_close(rt->graph);
	wake_close(&rt->wake);
	store_close(rt->st);
	diag_free(&rt->refusals);
	config_free(&rt->cfg);
	memset(rt, 0, sizeof(*rt));
}
