#define _GNU_SOURCE /* IN_NONBLOCK, IN_CLOEXEC */
#include "plugin_watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "hostapi.h"
#include "log.h"
#include "util.h"

/* IN_CREATE and IN_MODIFY keep postponing the reload while a file is
 * written; IN_CLOSE_WRITE ends the burst; IN_ATTRIB catches the chmod
 * or chown that makes a refused file acceptable. */
#define WATCH_MASK (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | \
	IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_ONLYDIR)

/* ---- the supervisor's watch -------------------------------------- */

int
plugin_watch_open(struct plugin_watch *pw, const char *dir, char *err,
    size_t errlen)
{
	memset(pw, 0, sizeof(*pw));
	pw->wd = -1;
	pw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pw->fd < 0)
		return errf(err, errlen, "cannot watch plugin directory %s: "
		    "%s; plugins installed there are picked up on SIGHUP or "
		    "when a run needs one", dir, strerror(errno));
	return plugin_watch_follow(pw, dir, err, errlen);
}

int
plugin_watch_follow(struct plugin_watch *pw, const char *dir, char *err,
    size_t errlen)
{
	if (pw->fd < 0)
		return 0; /* no inotify: plugin_watch_open said so */
	if (pw->wd >= 0 && strcmp(pw->dir, dir) == 0)
		return 0;
	if (pw->wd >= 0)
		inotify_rm_watch(pw->fd, pw->wd);
	free(pw->dir);
	pw->dir = xstrdup(dir);
	pw->wd = inotify_add_watch(pw->fd, dir, WATCH_MASK);
	if (pw->wd < 0)
		return errf(err, errlen, "cannot watch plugin directory %s: "
		    "%s; plugins installed there are picked up on SIGHUP or "
		    "when a run needs one", dir, strerror(errno));
	return 0;
}

int
plugin_watch_fd(const struct plugin_watch *pw)
{
	return pw->fd;
}

/* The loader's rule: a name ending in .so, with something before it. */
static int
so_name(const char *name)
{
	size_t len = strlen(name);

	return len >= 4 && strcmp(name + len - 3, ".so") == 0;
}

/* 1 if ev calls for a reload. */
static int
event_matters(struct plugin_watch *pw, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return 1; /* events were lost: assume the worst */
	if (ev->wd != pw->wd || pw->wd < 0)
		return 0; /* a directory watched before */
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		log_event(OPRUN_LOG_WARN, 0, NULL, NULL, "plugin directory %s "
		    "was removed or moved; plugins installed there are picked "
		    "up on SIGHUP or when a run needs one", pw->dir);
		inotify_rm_watch(pw->fd, pw->wd);
		pw->wd = -1;
		return 1;
	}
	return ev->len > 0 && so_name(ev->name);
}

/* Sets the reload DELAY after now, but no later than MAX_DELAY after
 * the burst's first event, so steady writes cannot postpone it forever. */
static void
arm(struct plugin_watch *pw)
{
	int64_t now = monotonic_ms();

	if (pw->first_ms == 0)
		pw->first_ms = now;
	pw->due_ms = now + PLUGIN_WATCH_DELAY_MS;
	if (pw->due_ms > pw->first_ms + PLUGIN_WATCH_MAX_DELAY_MS)
		pw->due_ms = pw->first_ms + PLUGIN_WATCH_MAX_DELAY_MS;
}

void
plugin_watch_read(struct plugin_watch *pw)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;
	ssize_t n;

	if (pw->fd < 0)
		return;
	while ((n = read(pw->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct
		    inotify_event) <= n;) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)(buf + off);

			changed |= event_matters(pw, ev);
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
	}
	if (changed)
		arm(pw);
}

int
plugin_watch_timeout(const struct plugin_watch *pw)
{
	int64_t left;

	if (pw->due_ms == 0)
		return -1;
	left = pw->due_ms - monotonic_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

int
plugin_watch_due(struct plugin_watch *pw)
{
	if (pw->due_ms == 0 || monotonic_ms() < pw->due_ms)
		return 0;
	plugin_watch_disarm(pw);
	return 1;
}

void
plugin_watch_disarm(struct plugin_watch *pw)
{
	pw->first_ms = 0;
	pw->due_ms = 0;
}

void
plugin_watch_close(struct plugin_watch *pw)
{
	if (pw->fd >= 0)
		close(pw->fd);
	free(pw->dir);
	memset(pw, 0, sizeof(*pw));
	pw->fd = pw->wd = -1;
}

void
plugin_watch_summary(const struct plugin_registry *reg, char *buf,
    size_t len)
{
	char tail[48];
	size_t used = 0, room;

	snprintf(tail, sizeof(tail), "%s(%zu plugin%s)", reg->n ? " " :
	    "none ", reg->n, reg->n == 1 ? "" : "s");
	if (len <= strlen(tail) + 5) {
		snprintf(buf, len, "%s", tail);
		return;
	}
	room = len - strlen(tail) - 5; /* keeps space for ", ..." */
	buf[0] = '\0';
	for (size_t i = 0; i < reg->n; i++) {
		const struct oprun_plugin *d = &reg->plugins[i]->desc;
		int n = snprintf(buf + used, room - used, "%s%s %s",
		    i > 0 ? ", " : "", d->name, d->version);

		if (n < 0 || (size_t)n >= room - used) {
			/* Cut at the last whole plugin. */
			buf[used] = '\0';
			strcat(buf, i > 0 ? ", ..." : "...");
			used = strlen(buf);
			break;
		}
		used += (size_t)n;
	}
	snprintf(buf + used, len - used, "%s", tail);
}

/* ---- the executors' rescan --------------------------------------- */

/* Loads and starts what was added to the plugin directory since the
 * last rescan; an unchanged directory is not read again. */
static void
load_added(struct runtime *rt, struct plugin_rescan *rs, const struct run *r)
{
	const char *dir = rt->cfg.plugin_dir;
	size_t before = rt->plugins.n;
	struct diag d = { 0 };
	uint64_t stamp;
	char err[600];

	if (plugins_dir_stamp(dir, &stamp) == 0) {
		if (rs->scanned && stamp == rs->stamp)
			return;
		rs->scanned = 1;
		rs->stamp = stamp;
	} else {
		rs->scanned = 0; /* the load below says what is wrong */
	}
	plugins_load_new(&rt->plugins, dir, &rt->cfg, &d);
	for (size_t i = 0; i < d.n; i++)
		log_event(OPRUN_LOG_WARN, r->id, r->type, r->tenant, "%s",
		    d.lines[i]);
	diag_free(&d);
	for (size_t i = before; i < rt->plugins.n; i++) {
		struct loaded_plugin *p = rt->plugins.plugins[i];

		log_event(OPRUN_LOG_INFO, r->id, r->type, r->tenant, "plugin "
		    "%s %s loaded from %s", p->desc.name, p->desc.version,
		    p->path);
		if (hostapi_plugin_ready(p, rt->st, err, sizeof(err)) != 0)
			log_event(OPRUN_LOG_ERROR, r->id, r->type, r->tenant,
			    "%s; its operations fail until it is fixed", err);
	}
}

const struct loaded_op *
plugin_watch_rescan(struct runtime *rt, struct run *r)
{
	const struct loaded_op *op;
	char why[RUN_MAX_MESSAGE];

	load_added(rt, rt->rescan, r);
	op = plugins_find_op(&rt->plugins, r->type);
	if (op == NULL) {
		snprintf(why, sizeof(why), "no plugin in %s provides operation "
		    "'%s'; install the plugin that provides it there and "
		    "submit again (oprun plugins list shows what is loaded)",
		    rt->cfg.plugin_dir, r->type);
		log_event(OPRUN_LOG_WARN, r->id, r->type, r->tenant, "no "
		    "plugin in %s provides operation '%s', also after a "
		    "rescan; failing the run", rt->cfg.plugin_dir, r->type);
		run_set_text(&r->reason, why, RUN_MAX_MESSAGE);
		return NULL;
	}
	if (op->plugin->init_state != 1) {
		run_set_text(&r->reason, op->plugin->init_err,
		    RUN_MAX_MESSAGE);
		return NULL;
	}
	return op;
}
