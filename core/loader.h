/*
 * loader - finds, checks and dlopens operation plugins
 * (docs/DESIGN.md section 5) and keeps the registry of the operations
 * they provide.
 *
 * Only *.so files directly in the plugin directory are considered.  Each
 * is opened with O_NOFOLLOW, checked through its descriptor (regular file,
 * owned by root or us, not writable by group/others; the same for the
 * directory) and loaded from that very descriptor with RTLD_NOW |
 * RTLD_LOCAL.  A plugin that fails any check is refused with one line
 * (file, what, fix) in the refusal list; the others still load.  Two
 * plugins providing one operation type are both refused.  Plugins are
 * never dlclosed: their code may still be on a stack.
 */
#ifndef OPRUN_LOADER_H
#define OPRUN_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "oprun/plugin.h"
#include "util.h"

struct loaded_plugin;

struct loaded_op {
	struct oprun_operation op;	/* zero-extended copy */
	struct loaded_plugin *plugin;
};

struct loaded_plugin {
	char *path;
	struct oprun_plugin desc;	/* zero-extended copy */
	const struct config_section *section;
	struct loaded_op *ops;
	size_t nops;
	int init_state;			/* 0 = not yet, 1 = ok, -1 = refused */
	char init_err[512];
	int refused;			/* excluded from the registry */
	dev_t dev;			/* the file loaded, to know it again */
	ino_t ino;
};

struct plugin_registry {
	struct loaded_plugin **plugins;
	size_t n;
};

/* Loads every acceptable plugin of dir; refusals go to diag.  Returns 0,
 * or -1 if the directory itself cannot be used (reason in diag). */
int	 plugins_load_dir(struct plugin_registry *reg, const char *dir,
	    const struct config *cfg, struct diag *diag);
/* Loads the plugin files of dir that reg does not hold yet (a file is
 * known by its device and inode), with the checks of plugins_load_dir,
 * and adds them to reg (for `oprun serve`'s executors, which keep what
 * they have running).  A new plugin is also refused when its name or an
 * operation type is already in reg, or its [plugin NAME] section has a
 * problem.  Returns how many were added, or -1 if the directory itself
 * cannot be used (reason in diag). */
int	 plugins_load_new(struct plugin_registry *reg, const char *dir,
	    const struct config *cfg, struct diag *diag);
/* A digest of what the loader would see in dir (the directory and the
 * name, inode, size, mode, owner and times of each *.so): equal stamps
 * mean a reload would find the same files.  Returns 0, or -1 if dir
 * cannot be read. */
int	 plugins_dir_stamp(const char *dir, uint64_t *stamp);
/* Loads one file given by path (for `oprun plugins check`): the same
 * checks on the file, none on its directory.  0 or -1 (reason in diag). */
int	 plugins_load_file(struct plugin_registry *reg, const char *path,
	    const struct config *cfg, struct diag *diag);
/* The operation providing TYPE, or NULL. */
const struct loaded_op *plugins_find_op(const struct plugin_registry *reg,
	    const char *type);
/* Checks [plugin NAME] sections against declared keys: unknown key,
 * missing required key, section without plugin (FILE:LINE messages). */
void	 plugins_check_config(const struct plugin_registry *reg,
	    const struct config *cfg, struct diag *diag);
/* Value of key for plugin p: its section's, else the declared default. */
const char *plugins_config_get(const struct loaded_plugin *p,
	    const char *key);
/* Calls fini of initialised plugins and frees the registry. */
void	 plugins_unload(struct plugin_registry *reg);

#endif
