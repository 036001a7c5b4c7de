/*
 * config - the INI file (the only user of inih).
 *
 * config_load parses FILE into cfg, checking every key it knows and
 * collecting each problem as "FILE:LINE: what; fix" in diag.  Returns 0
 * when diag stayed empty.  Relative paths are taken relative to the
 * directory of FILE.  [plugin NAME] keys are only recorded here; the
 * plugin registry checks them against what each plugin declares.
 * [schedule NAME] keys are only recorded here too: schedule.h checks
 * them (for `config check` and `oprun serve`, which are above this
 * layer).
 * config_free releases everything cfg owns.
 */
#ifndef OPRUN_CONFIG_H
#define OPRUN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct config_entry {
	char *key, *value;
	int line;
};

struct config_section {
	char *name;		/* NAME of [tenant NAME] / [plugin NAME] / ... */
	int line;
	struct config_entry *entries;
	size_t nentries;
};

struct config {
	char *file;		/* as given */
	char *store_path;
	char *secrets_key_file;		/* NULL: values cannot be sealed */
	uint64_t map_size_mb;
	int durable;
	char *plugin_dir;
	uint64_t max_payload_bytes;
	uint64_t executors;		/* executor processes of `serve` */
	uint64_t max_attempts;		/* of an idempotent run after crashes */
	uint64_t run_timeout_s;		/* 0 = no limit */
	uint64_t cancel_grace_s;	/* cancel flag -> kill */
	uint64_t stall_timeout_s;	/* missed heartbeat or held writer lock */
	uint64_t shutdown_grace_s;	/* SIGTERM -> interrupt running runs */
	uint64_t max_concurrent_runs;	/* all tenants; 0 = no cap */
	int log_level;		/* enum oprun_log_level */
	char *graph_base_url;		/* no trailing slash */
	char *login_url;		/* no trailing slash */
	uint64_t graph_timeout_s;	/* one HTTP request */
	uint64_t graph_max_retries;	/* per request, on 429/503/504 */
	uint64_t graph_max_wait_s;	/* all retry waits of one run */
	struct config_section *tenants, *plugins;
	size_t ntenants, nplugins;
	struct config_section *schedules;	/* in file order */
	size_t nschedules;
};

#define CONFIG_DEFAULT_FILE "conf/oprun.ini"

/* The config file to use: explicit, else $OPRUN_CONFIG, else default. */
const char	*config_pick_file(const char *explicit_file);
int		 config_load(const char *file, struct config *cfg,
		    struct diag *diag);
void		 config_free(struct config *cfg);

/* The section for tenant / plugin NAME, or NULL. */
const struct config_section *config_tenant(const struct config *cfg,
		    const char *name);
const struct config_section *config_plugin(const struct config *cfg,
		    const char *name);
/* Value of key in section s, or NULL. */
const char	*config_section_get(const struct config_section *s,
		    const char *key);

/* Time limit of a run of operation TYPE of plugin PLUGIN, in ms (0 =
 * none): [plugin P] run_timeout_s.TYPE, else [plugin P] run_timeout_s,
 * else [runner] run_timeout_s. */
int64_t		 config_timeout_ms(const struct config *cfg,
		    const char *plugin, const char *type);
/* [tenant NAME] max_concurrent_runs, 0 when unset (no cap). */
uint32_t	 config_tenant_cap(const struct config *cfg, const char *name);
/* 1 if KEY in a [plugin NAME] section belongs to the runner (timeouts),
 * not to the plugin; such keys are checked here, not by the plugin. */
int		 config_is_host_plugin_key(const char *key);

/* 1 if tenant section s has app credentials (tenant_id, client_id and
 * client_secret_file); config_load has checked they come together. */
int		 config_tenant_has_app(const struct config_section *s);

/* 1 if s is a valid name for a tenant, plugin or initiator:
 * 1-128 bytes of [A-Za-z0-9._@-]. */
int		 config_name_valid(const char *s);

#endif
