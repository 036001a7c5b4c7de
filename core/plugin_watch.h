/*
 * plugin_watch - plugins installed while `oprun serve` runs are picked
 * up, not fatal.  Two halves:
 *
 * The supervisor's watch.  plugin_watch_open puts an inotify watch on
 * the plugin directory; the supervisor polls plugin_watch_fd with its
 * other descriptors and calls plugin_watch_read when it is readable.
 * Any change to a *.so name (created, written, closed, renamed in or
 * out, deleted, chmod/chown), lost events, or the directory itself
 * going away arms a reload PLUGIN_WATCH_DELAY_MS after the last such
 * event (at most PLUGIN_WATCH_MAX_DELAY_MS after the first), so one
 * `cp` of a large file or a burst of installs is one reload.
 * plugin_watch_due says when; the supervisor then reloads exactly as on
 * SIGHUP.  Other names (README, x.so.part) are ignored.
 *
 * The executors' rescan.  An executor whose registry predates an install
 * may claim a run of a type it does not know (worker.c claims such runs
 * when rt->rescan is set).  plugin_watch_rescan then loads the plugin
 * files added since (plugins_load_new; at most once per change of the
 * directory, by plugins_dir_stamp), starts them and looks again; only a
 * type still unknown fails the run, with a reason that says what to do
 * and a log line.
 *
 * Ownership: a struct plugin_watch owns its descriptor and its copy of
 * the directory name (plugin_watch_close releases both); a struct
 * plugin_rescan holds no resources.  Functions that can fail return 0,
 * or -1 with one line in err; serve runs on without the watch then.
 */
#ifndef OPRUN_PLUGIN_WATCH_H
#define OPRUN_PLUGIN_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "loader.h"
#include "run.h"
#include "runtime.h"

#define PLUGIN_WATCH_DELAY_MS		300
#define PLUGIN_WATCH_MAX_DELAY_MS	5000

struct plugin_watch {
	int fd;			/* inotify, -1 without a watch */
	int wd;			/* the directory's watch, -1 when lost */
	char *dir;		/* the watched directory */
	int64_t first_ms;	/* monotonic: first event of a burst, 0 none */
	int64_t due_ms;		/* monotonic: when to reload, 0 = not armed */
};

/* Starts watching dir.  pw is usable (fd -1) even when this fails. */
int	plugin_watch_open(struct plugin_watch *pw, const char *dir,
	    char *err, size_t errlen);
/* After a reload: watches dir if it is not the directory watched (the
 * configuration changed plugin_dir) or the watch was lost. */
int	plugin_watch_follow(struct plugin_watch *pw, const char *dir,
	    char *err, size_t errlen);
/* The descriptor to poll for POLLIN; -1 without a watch. */
int	plugin_watch_fd(const struct plugin_watch *pw);
/* Reads every pending event; arms or postpones the reload. */
void	plugin_watch_read(struct plugin_watch *pw);
/* Milliseconds until the reload is due (0: now), -1 when not armed. */
int	plugin_watch_timeout(const struct plugin_watch *pw);
/* 1 (once) when the armed reload is due; it is then disarmed. */
int	plugin_watch_due(struct plugin_watch *pw);
/* A reload is starting: events read so far are covered by it. */
void	plugin_watch_disarm(struct plugin_watch *pw);
void	plugin_watch_close(struct plugin_watch *pw);

/* The loaded plugins as "instant 1.0.0, items 1.0.0 (2 plugins)",
 * shortened with "..." when they do not fit in len. */
void	plugin_watch_summary(const struct plugin_registry *reg, char *buf,
	    size_t len);

/* An executor's rescan state: rt->rescan points at one. */
struct plugin_rescan {
	int scanned;		/* stamp is that of the last rescan */
	uint64_t stamp;
};

/* For a claimed run r of a type rt->plugins lacks (rt->rescan set):
 * rescans as described above and returns the operation, ready to run,
 * or NULL with r->reason set (the run is to fail) and a line in the log.
 * Call it outside any store transaction: it starts plugins. */
const struct loaded_op *plugin_watch_rescan(struct runtime *rt,
	    struct run *r);

#endif
