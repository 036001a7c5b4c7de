#define _GNU_SOURCE /* signalfd, prctl, SOCK_CLOEXEC */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "handoff.h"
#include "log.h"
#include "plugin_watch.h"
#include "runtime.h"
#include "serve_schedules.h"
#include "submit.h"
#include "util.h"
#include "wake.h"
#include "watchdog.h"
#include "worker.h"

#define MAX_EXECUTORS	130	/* 64 live + 64 retiring during a reload */
#define TICK_BUSY_MS	50	/* deadline and cancel checks, runs active */
#define TICK_IDLE_MS	1000
#define CRASH_WINDOW_MS	1000	/* an executor dying this fast is a crash loop */

struct executor {
	pid_t pid;
	int fd;			/* control socket: 'w' wake, 's' stop */
	int retiring;		/* told to stop after its current run */
	int64_t started_ms;
};

/* A run the supervisor acts on: its cancel grace, or the kill it did. */
struct watched {
	uint64_t id;
	int32_t pid;
	int64_t cancel_seen_ms;	/* when a user asked to cancel it */
	int deadline_flagged;		/* we set the flag for the deadline */
	int killed;
	enum run_state kill_state;
	char kill_reason[256];
};

/* A delegated token held for a queued run, in memory only. */
struct held_token {
	uint64_t run_id;
	char *token;
};

#define MAX_HELD_TOKENS 10000

struct supervisor {
	struct runtime rt;
	const char *config_file;
	struct watchdog *wd;	/* kills stalled executors */
	uint64_t epoch;
	int sigfd, wakefd, ctlfd;
	struct held_token *tokens;
	size_t ntokens;
	struct executor ex[MAX_EXECUTORS];
	size_t nex;
	struct watched *watch;
	size_t nwatch;
	size_t running;		/* runs running at the last tick */
	int64_t busy_until_ms;	/* tick fast until then (after a wake) */
	int stopping;
	int store_full;		/* an executor reported a full store */
	int64_t stop_deadline_ms;
	int64_t next_spawn_ms;
	int crash_streak;
	struct plugin_watch pw;	/* changes in plugin_dir: reload */
	struct serve_schedules sched;	/* [schedule NAME] sections */
};

static const char actor[] = "supervisor";

/* ---- resolving runs ---------------------------------------------- */

static int
op_idempotent(struct supervisor *sv, const char *type)
{
	const struct loaded_op *op = plugins_find_op(&sv->rt.plugins, type);

	return op != NULL && (op->op.flags & OPRUN_OP_IDEMPOTENT) != 0;
}

/* Ends run r, whose executor is gone, as `to` with reason; an interrupted
 * idempotent run goes back to the queue while attempts remain. */
static void
resolve(struct supervisor *sv, const struct run *r, enum run_state to,
    const char *reason, int retry_allowed)
{
	char why[512], err[1024];
	int rc;

	if (retry_allowed && op_idempotent(sv, r->type) &&
	    r->attempt < sv->rt.cfg.max_attempts) {
		to = RUN_QUEUED;
		snprintf(why, sizeof(why), "%s; queued again (attempt %u of "
		    "%llu)", reason, r->attempt + 1,
		    (unsigned long long)sv->rt.cfg.max_attempts);
	} else {
		snprintf(why, sizeof(why), "%s", reason);
	}
	rc = store_resolve(sv->rt.st, r->id, r->claim_epoch, r->claim_pid, to,
	    actor, why, err, sizeof(err));
	if (rc < 0)
		log_event(OPRUN_LOG_ERROR, r->id, r->type, r->tenant,
		    "cannot resolve run: %s", err);
	else if (rc == 0)
		log_event(to == RUN_QUEUED ? OPRUN_LOG_WARN : OPRUN_LOG_ERROR,
		    r->id, r->type, r->tenant, "%s: %s", run_state_name(to),
		    why);
	if (to == RUN_QUEUED && rc == 0)
		wake_notify(&sv->rt.wake);
}

static struct watched *
watched_find(struct supervisor *sv, uint64_t id)
{
	for (size_t i = 0; i < sv->nwatch; i++)
		if (sv->watch[i].id == id)
			return &sv->watch[i];
	return NULL;
}

static struct watched *
watched_get(struct supervisor *sv, const struct run *r)
{
	struct watched *w = watched_find(sv, r->id);

	if (w != NULL)
		return w;
	sv->watch = xrealloc(sv->watch, (sv->nwatch + 1) * sizeof(*w));
	w = &sv->watch[sv->nwatch++];
	memset(w, 0, sizeof(*w));
	w->id = r->id;
	w->pid = r->claim_pid;
	return w;
}

/* Forgets watched runs that are no longer running. */
static void
watched_prune(struct supervisor *sv, const struct run *running, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < sv->nwatch; i++) {
		size_t j;

		for (j = 0; j < n && running[j].id != sv->watch[i].id; j++)
			;
		if (j < n)
			sv->watch[kept++] = sv->watch[i];
	}
	sv->nwatch = kept;
}

static int
list_running(struct supervisor *sv, struct run **runs, size_t *n)
{
	struct run_filter f = { .has_state = 1, .state = RUN_RUNNING,
		.limit = 100000 };
	char err[1024];

	if (store_list_runs(sv->rt.st, &f, runs, n, err, sizeof(err)) != 0) {
		log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "%s", err);
		return -1;
	}
	return 0;
}

static int
claimant_alive(const struct run *r)
{
	uint64_t start;

	return r->claim_pid > 0 && proc_start_time(r->claim_pid, &start) == 0 &&
	    start == r->claim_start;
}

/* Runs left running by a runner that is gone: requeued or failed. */
static void
recover_interrupted(struct supervisor *sv)
{
	struct run *runs;
	size_t n;

	if (list_running(sv, &runs, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (runs[i].claim_epoch != sv->epoch && !claimant_alive(&runs[i]))
			resolve(sv, &runs[i], RUN_FAILED,
			    "interrupted by runner restart", 1);
	store_runs_free(runs, n);
}

/* ---- executors --------------------------------------------------- */

/* Puts fd at target, open across exec (fds are moved above 10 first,
 * so one never lands on the other's target). */
static int
fd_at(int fd, int target)
{
	int high = fcntl(fd, F_DUPFD, 10);

	if (high < 0 || dup2(high, target) != target)
		return -1;
	close(high);
	return 0;
}

/* The executor gets its control socket as fd 3 and its heartbeat page
 * as fd 4. */
static void
exec_executor(struct supervisor *sv, int fd, int page, pid_t parent)
{
	char epoch[32];
	sigset_t none;
	int high_fd = fcntl(fd, F_DUPFD, 10), high_page = fcntl(page,
	    F_DUPFD, 10);

	/* Executors die with the supervisor, never outlive it claiming. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (high_fd < 0 || high_page < 0 || fd_at(high_fd, 3) != 0 ||
	    fd_at(high_page, 4) != 0)
		_exit(1);
	snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)sv->epoch);
	execl("/proc/self/exe", "oprun", "-c", sv->rt.cfg.file, "executor",
	    "--epoch", epoch, "--control-fd", "3", "--heartbeat-fd", "4",
	    (char *)NULL);
	_exit(127);
}

static int
spawn_one(struct supervisor *sv)
{
	struct executor *e = &sv->ex[sv->nex];
	pid_t parent = getpid(), pid;
	int sp[2], slot, page = watchdog_page(sv->wd, &slot);

	if (page < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		close(page);
		watchdog_forget_slot(sv->wd, slot);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(sp[0]);
		exec_executor(sv, sp[1], page, parent);
	}
	close(sp[1]);
	close(page);
	if (pid < 0) {
		close(sp[0]);
		watchdog_forget_slot(sv->wd, slot);
		return -1;
	}
	watchdog_watch(sv->wd, slot, pid);
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->fd = sp[0];
	e->started_ms = monotonic_ms();
	sv->nex++;
	log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "executor %ld started",
	    (long)pid);
	return 0;
}

static size_t
live_executors(const struct supervisor *sv)
{
	size_t n = 0;

	for (size_t i = 0; i < sv->nex; i++)
		n += !sv->ex[i].retiring;
	return n;
}

static void
spawn_missing(struct supervisor *sv)
{
	if (sv->stopping || monotonic_ms() < sv->next_spawn_ms)
		return;
	while (live_executors(sv) < sv->rt.cfg.executors &&
	    sv->nex < MAX_EXECUTORS) {
		if (spawn_one(sv) != 0) {
			log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "cannot start "
			    "an executor: %s", strerror(errno));
			sv->next_spawn_ms = monotonic_ms() + 1000;
			return;
		}
	}
}

static void
tell(struct executor *e, char what)
{
	if (e->fd >= 0)
		(void)send(e->fd, &what, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
tell_all(struct supervisor *sv, char what)
{
	for (size_t i = 0; i < sv->nex; i++) {
		if (what == 's')
			sv->ex[i].retiring = 1;
		tell(&sv->ex[i], what);
	}
}

static void
describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		snprintf(buf, len, "executor killed: SIGKILL");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "executor crashed: SIG%s",
		    sigabbrev_np(WTERMSIG(status)) ?
		    sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(buf, len, "executor exited with status %d",
		    WEXITSTATUS(status));
}

/* Resolves every run the dead executor pid still held, with why it
 * ended. */
static void
resolve_orphans(struct supervisor *sv, pid_t pid, const char *why)
{
	struct run *runs;
	size_t n;

	if (list_running(sv, &runs, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct run *r = &runs[i];
		struct watched *w;

		if (r->claim_pid != pid || r->claim_epoch != sv->epoch)
			continue;
		w = watched_find(sv, r->id);
		if (w != NULL && w->killed)
			resolve(sv, r, w->kill_state, w->kill_reason, 0);
		else if (sv->stopping)
			resolve(sv, r, RUN_FAILED,
			    "interrupted by runner shutdown", 1);
		else
			resolve(sv, r, RUN_FAILED, why, 1);
	}
	store_runs_free(runs, n);
}

static void
forget_executor(struct supervisor *sv, size_t i, int status, const char *why)
{
	struct executor *e = &sv->ex[i];
	int64_t lived = monotonic_ms() - e->started_ms;

	log_event(e->retiring && WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
	    OPRUN_LOG_INFO : OPRUN_LOG_WARN, 0, NULL, NULL, "executor %ld "
	    "ended: %s", (long)e->pid, why);
	if (!e->retiring && lived < CRASH_WINDOW_MS) {
		/* Back off instead of respawning a crash loop at full speed. */
		sv->crash_streak++;
		sv->next_spawn_ms = monotonic_ms() +
		    (sv->crash_streak > 10 ? 10 : sv->crash_streak) * 500;
	} else {
		sv->crash_streak = 0;
	}
	close(e->fd);
	sv->ex[i] = sv->ex[--sv->nex];
}

static void
reap(struct supervisor *sv)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char why[256];

		if (!watchdog_forget(sv->wd, pid, why, sizeof(why)))
			describe_exit(status, why, sizeof(why));
		resolve_orphans(sv, pid, why);
		for (size_t i = 0; i < sv->nex; i++) {
			if (sv->ex[i].pid == pid) {
				forget_executor(sv, i, status, why);
				break;
			}
		}
	}
	spawn_missing(sv);
}

/* ---- deadlines and cancels --------------------------------------- */

static void
kill_run(struct supervisor *sv, struct watched *w, enum run_state state,
    const char *reason)
{
	w->killed = 1;
	w->kill_state = state;
	snprintf(w->kill_reason, sizeof(w->kill_reason), "%s", reason);
	log_event(OPRUN_LOG_WARN, w->id, NULL, NULL, "stopping executor %ld: "
	    "%s", (long)w->pid, reason);
	kill(w->pid, SIGKILL);
	(void)sv;
}

/* When the cancel was requested, from the run's history (the grace runs
 * from the request, not from when a tick noticed it). */
static int64_t
cancel_requested_at(const struct run *r, int64_t fallback)
{
	for (size_t i = r->nhistory; i-- > 0;) {
		const struct run_event *ev = &r->history[i];

		if (ev->state == RUN_RUNNING && ev->reason != NULL &&
		    strncmp(ev->reason, "cancel requested", 16) == 0)
			return ev->at_ms;
	}
	return fallback;
}

/* Enforces a user's cancel request on run r: the executor is stopped
 * one grace period after the request was first seen.  Returns 1 if so. */
static int
enforce_cancel(struct supervisor *sv, struct watched *w, const struct run *r,
    int64_t now)
{
	int64_t grace = (int64_t)sv->rt.cfg.cancel_grace_s * 1000;
	char why[256];

	if (!(r->flags & RUN_FLAG_CANCEL_REQUESTED) || w->deadline_flagged)
		return 0;
	if (w->cancel_seen_ms == 0)
		w->cancel_seen_ms = cancel_requested_at(r, now);
	if (now - w->cancel_seen_ms < grace)
		return 0;
	snprintf(why, sizeof(why), "canceled; the operation did not stop "
	    "within %llu s of the cancel request, so its executor was stopped",
	    (unsigned long long)sv->rt.cfg.cancel_grace_s);
	kill_run(sv, w, RUN_CANCELED, why);
	return 1;
}

/* Enforces run r's deadline: the cancel flag at the deadline, the kill
 * one grace period later. */
static void
enforce_deadline(struct supervisor *sv, struct watched *w,
    const struct run *r, int64_t now)
{
	int64_t grace = (int64_t)sv->rt.cfg.cancel_grace_s * 1000;
	long limit_s = (long)((r->deadline_ms - r->started_at + 500) / 1000);
	char why[256], err[1024];

	if (r->deadline_ms == 0 || now < r->deadline_ms)
		return;
	snprintf(why, sizeof(why), "timed out after %ld s", limit_s);
	if (now >= r->deadline_ms + grace) {
		kill_run(sv, w, RUN_FAILED, why);
		return;
	}
	if (r->flags & RUN_FLAG_CANCEL_REQUESTED)
		return;
	strncat(why, "; cancel requested", sizeof(why) - strlen(why) - 1);
	w->deadline_flagged = 1;
	if (store_request_cancel(sv->rt.st, r->id, actor, why, err,
	    sizeof(err)) != 0)
		log_event(OPRUN_LOG_ERROR, r->id, r->type, r->tenant, "%s",
		    err);
}

static void
enforce_run(struct supervisor *sv, const struct run *r, int64_t now)
{
	struct watched *w = watched_get(sv, r);

	if (w->killed || enforce_cancel(sv, w, r, now))
		return;
	enforce_deadline(sv, w, r, now);
}

/* A run of this epoch whose executor was reaped but whose resolve could
 * not be written then (a full store): resolved now, as it would have
 * been.  A reaped executor is no longer alive; a zombie still is. */
static void
resolve_lost(struct supervisor *sv, const struct run *r)
{
	struct watched *w = watched_find(sv, r->id);

	if (w != NULL && w->killed)
		resolve(sv, r, w->kill_state, w->kill_reason, 0);
	else
		resolve(sv, r, RUN_FAILED, "its executor ended", 1);
}

static void
tick(struct supervisor *sv)
{
	int64_t now = now_ms();
	struct run *runs;
	size_t n;

	if (list_running(sv, &runs, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (runs[i].claim_epoch == sv->epoch && claimant_alive(&runs[i]))
			enforce_run(sv, &runs[i], now);
		else if (runs[i].claim_epoch == sv->epoch)
			resolve_lost(sv, &runs[i]);
		else if (!claimant_alive(&runs[i]))
			resolve(sv, &runs[i], RUN_FAILED,
			    "interrupted by runner restart", 1);
	}
	watched_prune(sv, runs, n);
	sv->running = n;
	store_runs_free(runs, n);
}

/* ---- signals and reload ------------------------------------------ */

static int
open_signals(struct supervisor *sv)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	sv->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return sv->sigfd < 0 ? -1 : 0;
}

/* Checks a configuration the way `config check` does: every problem. */
static int
open_checked(struct runtime *rt, const char *file, unsigned what)
{
	struct diag d = { 0 };
	int rc = runtime_open(rt, file, what, &d);

	if (rc == 0) {
		for (size_t i = 0; i < rt->refusals.n; i++)
			log_event(OPRUN_LOG_WARN, 0, NULL, NULL, "%s",
			    rt->refusals.lines[i]);
		plugins_check_config(&rt->plugins, &rt->cfg, &d);
		serve_schedules_check(&rt->plugins, &rt->cfg, &d);
	}
	for (size_t i = 0; i < d.n; i++)
		log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "%s", d.lines[i]);
	if (d.n > 0 && rc == 0)
		rc = -1;
	diag_free(&d);
	if (rc != 0)
		runtime_close(rt);
	return rc;
}

/* After a reload: what is loaded now, and the watch on plugin_dir
 * (which the new configuration may have moved). */
static void
log_reloaded(struct supervisor *sv)
{
	char list[800], err[1024];

	plugin_watch_summary(&sv->rt.plugins, list, sizeof(list));
	log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "plugins reloaded: %s", list);
	if (plugin_watch_follow(&sv->pw, sv->rt.cfg.plugin_dir, err,
	    sizeof(err)) != 0)
		log_event(OPRUN_LOG_WARN, 0, NULL, NULL, "%s", err);
}

/* SIGHUP: a new config and plugin registry; executors are replaced so
 * new and replaced plugin files take effect in new processes. */
static void
reload(struct supervisor *sv)
{
	struct runtime fresh;

	plugin_watch_disarm(&sv->pw);
	log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "reloading %s",
	    sv->config_file);
	if (open_checked(&fresh, sv->config_file, RUNTIME_PLUGINS) != 0) {
		log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "reload refused: the "
		    "configuration above has problems; still running the old "
		    "one");
		return;
	}
	/* The store and its wake socket stay; config and plugins change. */
	plugins_unload(&sv->rt.plugins);
	diag_free(&sv->rt.refusals);
	config_free(&sv->rt.cfg);
	sv->rt.cfg = fresh.cfg;
	sv->rt.plugins = fresh.plugins;
	sv->rt.refusals = fresh.refusals;
	log_set_level(sv->rt.cfg.log_level);
	watchdog_set_bound(sv->wd,
	    (int64_t)sv->rt.cfg.stall_timeout_s * 1000);
	log_reloaded(sv);
	serve_schedules_load(&sv->sched, &sv->rt);
	tell_all(sv, 's');
	sv->next_spawn_ms = 0;
	spawn_missing(sv);
}

/* The plugin directory changed (PLUGIN_WATCH_DELAY_MS ago): reload as on
 * SIGHUP, so the executors start over with the plugins installed. */
static void
reload_if_plugins_changed(struct supervisor *sv)
{
	if (!plugin_watch_due(&sv->pw) || sv->stopping)
		return;
	log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "plugin directory %s "
	    "changed", sv->rt.cfg.plugin_dir);
	reload(sv);
}

static void
begin_stop(struct supervisor *sv)
{
	if (sv->stopping)
		return;
	log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "stopping: letting running "
	    "runs finish for up to %llu s",
	    (unsigned long long)sv->rt.cfg.shutdown_grace_s);
	sv->stopping = 1;
	sv->stop_deadline_ms = monotonic_ms() +
	    (int64_t)sv->rt.cfg.shutdown_grace_s * 1000;
	tell_all(sv, 's');
}

static void
handle_signals(struct supervisor *sv)
{
	struct signalfd_siginfo si;

	while (read(sv->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(sv);
		else if (si.ssi_signo == SIGHUP && !sv->stopping)
			reload(sv);
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_stop(sv);
	}
}

/* ---- delegated tokens -------------------------------------------- */

static void
token_drop(struct supervisor *sv, size_t i)
{
	explicit_bzero(sv->tokens[i].token, strlen(sv->tokens[i].token));
	free(sv->tokens[i].token);
	sv->tokens[i] = sv->tokens[--sv->ntokens];
}

/* Hands run id's token over (the holder forgets it), or NULL. */
static char *
token_take(struct supervisor *sv, uint64_t id)
{
	for (size_t i = 0; i < sv->ntokens; i++) {
		if (sv->tokens[i].run_id == id) {
			char *t = sv->tokens[i].token;

			sv->tokens[i] = sv->tokens[--sv->ntokens];
			return t;
		}
	}
	return NULL;
}

/* Forgets tokens of runs that ended without using them (canceled). */
static void
tokens_prune(struct supervisor *sv)
{
	for (size_t i = 0; i < sv->ntokens;) {
		struct run r;
		char err[256];
		int rc = store_get_run(sv->rt.st, sv->tokens[i].run_id, &r, err,
		    sizeof(err));

		if (rc == 1 || (rc == 0 && run_state_terminal(r.state))) {
			if (rc == 0)
				run_free(&r);
			token_drop(sv, i);
			continue;
		}
		if (rc == 0)
			run_free(&r);
		i++;
	}
}

/* A submit with a delegated token: written and its token held in one
 * step of this loop, before any executor can ask for it. */
static void
serve_submit(struct supervisor *sv, int conn)
{
	struct store_submit_result res = { 0 };
	char *who, *token, err[1024];
	struct run r;

	if (handoff_read(conn, &r, &who, &token) != 0) {
		handoff_reply(conn, NULL, "malformed submit request");
		return;
	}
	if (sv->ntokens == MAX_HELD_TOKENS)
		handoff_reply(conn, NULL, "oprun serve holds too many delegated "
		    "tokens; try again when queued runs have started");
	else if (submit_commit(&sv->rt, &r, who, &res, err, sizeof(err)) != 0)
		handoff_reply(conn, NULL, err);
	else {
		if (!res.deduplicated) {
			sv->tokens = xrealloc(sv->tokens,
			    (sv->ntokens + 1) * sizeof(*sv->tokens));
			sv->tokens[sv->ntokens].run_id = res.id;
			sv->tokens[sv->ntokens++].token = token;
			token = NULL;
		}
		handoff_reply(conn, &res, NULL);
	}
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	free(who);
	run_free(&r);
}

static void
accept_submits(struct supervisor *sv)
{
	int conn;

	while ((conn = accept4(sv->ctlfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve_submit(sv, conn);
		close(conn);
	}
}

/* One line when the first executor finds the store full, one when an
 * executor can write again: not one per executor and retry. */
static void
store_full_report(struct supervisor *sv, int full, const char *why)
{
	if (full && !sv->store_full)
		log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "%s; runs wait (none "
		    "is failed or charged an attempt) and go on by themselves "
		    "once the store can be written", why);
	else if (!full && sv->store_full)
		log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "the store can be "
		    "written again; runs go on");
	sv->store_full = full;
}

/* What an executor says: "t<id>" asks for the token of the run it
 * claimed; "F<reason>" / "R" report a full store and its end. */
static void
answer_executor(struct supervisor *sv, struct executor *e)
{
	char buf[1200], *token, *msg;
	ssize_t n = recv(e->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	size_t len;

	if (n >= 1 && (buf[0] == 'F' || buf[0] == 'R')) {
		buf[n] = '\0';
		store_full_report(sv, buf[0] == 'F', buf + 1);
		return;
	}
	if (n <= 1 || buf[0] != 't')
		return;
	buf[n] = '\0';
	token = token_take(sv, strtoull(buf + 1, NULL, 10));
	if (token == NULL) {
		(void)send(e->fd, "N", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		return;
	}
	len = strlen(token) + 1;
	msg = xmalloc(len);
	msg[0] = 'T';
	memcpy(msg + 1, token, len - 1);
	(void)send(e->fd, msg, len, MSG_NOSIGNAL);
	explicit_bzero(msg, len);
	explicit_bzero(token, len - 1);
	free(msg);
	free(token);
}

/* ---- the loop ---------------------------------------------------- */

static void
loop(struct supervisor *sv)
{
	while (!(sv->stopping && sv->nex == 0)) {
		struct pollfd pfd[4 + MAX_EXECUTORS] = { { sv->sigfd, POLLIN, 0 },
			{ sv->wakefd, POLLIN, 0 }, { sv->ctlfd, POLLIN, 0 } };
		size_t nex = sv->nex;
		int timeout = sv->running > 0 || sv->stopping ||
		    monotonic_ms() < sv->busy_until_ms ? TICK_BUSY_MS :
		    TICK_IDLE_MS;

		int watch_ms = plugin_watch_timeout(&sv->pw);
		int sched_ms = serve_schedules_timeout(&sv->sched);

		for (size_t i = 0; i < nex; i++) {
			pfd[3 + i].fd = sv->ex[i].fd;
			pfd[3 + i].events = POLLIN;
		}
		/* The plugin directory's watch comes after the executors. */
		pfd[3 + nex].fd = plugin_watch_fd(&sv->pw);
		pfd[3 + nex].events = POLLIN;
		if (watch_ms >= 0 && watch_ms < timeout)
			timeout = watch_ms;
		if (sched_ms >= 0 && sched_ms < timeout && !sv->stopping)
			timeout = sched_ms;
		if (poll(pfd, (nfds_t)(4 + nex), timeout) < 0 && errno != EINTR)
			break;
		/* Executors first: their slots move when one is reaped. */
		for (size_t i = 0; i < nex && i < sv->nex; i++)
			if (pfd[3 + i].revents & POLLIN &&
			    sv->ex[i].fd == pfd[3 + i].fd)
				answer_executor(sv, &sv->ex[i]);
		if (pfd[2].revents & POLLIN)
			accept_submits(sv);
		if (pfd[0].revents & POLLIN)
			handle_signals(sv);
		if (pfd[3 + nex].revents & POLLIN)
			plugin_watch_read(&sv->pw);
		reload_if_plugins_changed(sv);
		if ((pfd[1].revents & POLLIN) && wake_drain(sv->wakefd) > 0) {
			tell_all(sv, 'w');
			/* A run is starting: check often while it does. */
			sv->busy_until_ms = monotonic_ms() + 2000;
		}
		if (sv->stopping && monotonic_ms() >= sv->stop_deadline_ms)
			for (size_t i = 0; i < sv->nex; i++)
				kill(sv->ex[i].pid, SIGKILL);
		tick(sv);
		if (!sv->stopping)
			serve_schedules_tick(&sv->sched, &sv->rt);
		if (sv->ntokens > 0)
			tokens_prune(sv);
		spawn_missing(sv);
	}
}

int
supervisor_serve(const char *config_file)
{
	struct supervisor sv;
	char err[1024];

	memset(&sv, 0, sizeof(sv));
	sv.config_file = config_pick_file(config_file);
	if (open_checked(&sv.rt, sv.config_file,
	    RUNTIME_PLUGINS | RUNTIME_STORE) != 0) {
		fprintf(stderr, "oprun serve: refusing to start; fix the "
		    "problems above (`oprun config check` lists them)\n");
		return EXIT_USAGE;
	}
	/* Delegated tokens live in this process: no core dumps, no ptrace. */
	prctl(PR_SET_DUMPABLE, 0);
	sv.epoch = (uint64_t)now_ms();
	sv.ctlfd = -1;
	sv.wakefd = -1;
	if (store_lock_runner(sv.rt.st, 1, err, sizeof(err)) == 0)
		sv.wakefd = wake_listen(&sv.rt.wake, err, sizeof(err));
	if (sv.wakefd >= 0)
		sv.ctlfd = handoff_listen(sv.rt.cfg.store_path, err,
		    sizeof(err));
	if (sv.wakefd < 0 || sv.ctlfd < 0 || open_signals(&sv) != 0) {
		fprintf(stderr, "oprun serve: %s\n", sv.wakefd < 0 ||
		    sv.ctlfd < 0 ? err : strerror(errno));
		if (sv.wakefd >= 0)
			close(sv.wakefd);
		runtime_close(&sv.rt);
		return EXIT_RUNTIME;
	}
	sv.wd = watchdog_start((int64_t)sv.rt.cfg.stall_timeout_s * 1000);
	if (sv.wd == NULL) {
		fprintf(stderr, "oprun serve: cannot start the executor "
		    "watchdog: %s\n", strerror(errno));
		close(sv.wakefd);
		close(sv.ctlfd);
		runtime_close(&sv.rt);
		return EXIT_RUNTIME;
	}
	if (plugin_watch_open(&sv.pw, sv.rt.cfg.plugin_dir, err,
	    sizeof(err)) != 0)
		log_event(OPRUN_LOG_WARN, 0, NULL, NULL, "%s", err);
	recover_interrupted(&sv);
	log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "serving store %s with %llu "
	    "executors", sv.rt.cfg.store_path,
	    (unsigned long long)sv.rt.cfg.executors);
	spawn_missing(&sv);
	serve_schedules_load(&sv.sched, &sv.rt);
	loop(&sv);
	log_event(OPRUN_LOG_INFO, 0, NULL, NULL, "stopped");
	close(sv.sigfd);
	close(sv.wakefd);
	close(sv.ctlfd);
	plugin_watch_close(&sv.pw);
	while (sv.ntokens > 0)
		token_drop(&sv, 0);
	free(sv.tokens);
	free(sv.watch);
	serve_schedules_free(&sv.sched);
	watchdog_stop(sv.wd);
	runtime_close(&sv.rt);
	return 0;
}

/* ---- executor side ----------------------------------------------- */

struct control {
	int fd;
	int stop;
};

/* Reads what the supervisor said; EOF means it is gone: stop. */
static void
read_control(struct control *c)
{
	char buf[64];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->stop = 1;
			return;
		}
		/* One message per recv: a stop is the message "s". */
		if (buf[0] == 's')
			c->stop = 1;
	}
	c->stop = 1;
}

static int
control_stop(void *arg)
{
	struct control *c = arg;

	read_control(c);
	return c->stop;
}

/* Asks the supervisor for run id's delegated token ("t<id>"); its
 * answer is "T<token>" or "N".  Wake and stop messages that arrive
 * meanwhile are kept in mind. */
static char *
executor_token(void *arg, uint64_t id)
{
	struct control *c = arg;
	char req[32], *buf = xmalloc(HANDOFF_MAX_TOKEN + 2), *token = NULL;
	int64_t deadline = monotonic_ms() + 5000;
	int n = snprintf(req, sizeof(req), "t%llu", (unsigned long long)id);

	if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		goto out;
	while (monotonic_ms() < deadline) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		ssize_t got;

		if (poll(&pfd, 1, 500) <= 0)
			continue;
		got = recv(c->fd, buf, HANDOFF_MAX_TOKEN + 1, MSG_DONTWAIT);
		if (got <= 0) {
			c->stop = got == 0 || (errno != EAGAIN && errno != EINTR);
			if (c->stop)
				break;
			continue;
		}
		if (buf[0] == 's')
			c->stop = 1;
		if (buf[0] == 'T') {
			token = xmalloc((size_t)got);
			memcpy(token, buf + 1, (size_t)got - 1);
			token[got - 1] = '\0';
		}
		if (buf[0] == 'T' || buf[0] == 'N') {
			explicit_bzero(buf, (size_t)got);
			break;
		}
	}
out:
	free(buf);
	return token;
}

/* Tells the supervisor the store is full ("F<reason>") or writable
 * again ("R"); it logs one line for all executors. */
static void
executor_full(void *arg, int full, const char *err)
{
	struct control *c = arg;
	char msg[1100];
	int n = full ? snprintf(msg, sizeof(msg), "F%s", err) :
	    snprintf(msg, sizeof(msg), "R");

	if (n >= (int)sizeof(msg))
		n = (int)sizeof(msg) - 1;
	(void)send(c->fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int
executor_main(const char *config_file, uint64_t epoch, int control_fd,
    int heartbeat_fd)
{
	struct control ctl = { control_fd, 0 };
	struct plugin_rescan rescan = { 0 };
	struct runtime rt;
	struct worker w;
	struct diag d = { 0 };
	char err[1024];
	int rc = 0;

	if (heartbeat_fd >= 0 && heartbeat_start(heartbeat_fd) != 0)
		log_event(OPRUN_LOG_WARN, 0, NULL, NULL, "executor: no "
		    "heartbeat (%s): the supervisor will take it for stalled",
		    strerror(errno));
	if (runtime_open(&rt, config_file, RUNTIME_PLUGINS | RUNTIME_STORE,
	    &d) != 0) {
		log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "executor: %s",
		    d.n ? d.lines[0] : "cannot start");
		diag_free(&d);
		return EXIT_RUNTIME;
	}
	prctl(PR_SET_DUMPABLE, 0);
	heartbeat_watch_store(rt.st);
	rt.rescan = &rescan;
	worker_init(&w, &rt, epoch);
	w.token_for = executor_token;
	w.token_arg = &ctl;
	w.full_changed = executor_full;
	w.full_arg = &ctl;
	while (!ctl.stop) {
		struct pollfd pfd = { control_fd, POLLIN, 0 };

		if (worker_drain(&w, control_stop, &ctl, err, sizeof(err)) < 0) {
			if (store_is_full(rt.st)) {
				worker_wait_for_room(&w, err);
				read_control(&ctl);
				continue;
			}
			log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "executor: %s",
			    err);
			rc = EXIT_RUNTIME;
			break;
		}
		/* Idle: the supervisor wakes us; the timeout is a fallback. */
		if (!ctl.stop && poll(&pfd, 1, 5000) > 0)
			read_control(&ctl);
	}
	runtime_close(&rt);
	return rc;
}
