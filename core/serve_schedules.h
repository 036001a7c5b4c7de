/*
 * serve_schedules - the schedules (schedule.h) as `oprun serve` runs
 * them: it keeps each one's state, submits the due ones on the
 * supervisor's tick and logs one line for what it did.
 *
 * A scheduled submit is submit_run's (the checks, dedupe and
 * notifications of `oprun submit`; initiator the schedule's, actor
 * "schedule NAME"), made in a child process - this binary re-executed as
 * `oprun schedule-submit NAME`, the request on its stdin, the answer on
 * its stdout - so a plugin's validate hook never runs in the supervisor.
 * The supervisor waits for it, at most SERVE_SCHEDULES_SUBMIT_MS.  The
 * state is written after the submit: a crash between the two submits
 * that slot again at the next start, where dedupe returns the run if it
 * is still active.
 *
 * serve_schedules_load (start, and each reload) takes the schedules of
 * rt->cfg, keeping the state of those it already had and reading the
 * others' from the store.  serve_schedules_check adds to diag every
 * problem of the schedules: schedule_check_config's, then what only the
 * plugins can tell (config check, serve's start and reload call it).
 * serve_schedules_child is `oprun schedule-submit`; it returns the exit
 * status.  Everything in ss is owned by ss (serve_schedules_free).
 */
#ifndef OPRUN_SERVE_SCHEDULES_H
#define OPRUN_SERVE_SCHEDULES_H

#include <stddef.h>
#include <stdint.h>

#include "loader.h"
#include "runtime.h"
#include "schedule.h"

#define SERVE_SCHEDULES_SUBMIT_MS 10000

struct serve_schedule {
	struct schedule_state state;
	int64_t look_ms;	/* when to decide again (wall clock) */
	int at_start;		/* not decided since serve started */
};

struct serve_schedules {
	struct schedule *v;
	struct serve_schedule *w;	/* w[i] goes with v[i] */
	size_t n;
};

void	serve_schedules_load(struct serve_schedules *ss, struct runtime *rt);
/* Milliseconds until a schedule needs a look (0: now), or -1: none. */
int	serve_schedules_timeout(const struct serve_schedules *ss);
void	serve_schedules_tick(struct serve_schedules *ss, struct runtime *rt);
void	serve_schedules_free(struct serve_schedules *ss);

void	serve_schedules_check(const struct plugin_registry *reg,
	    const struct config *cfg, struct diag *diag);
int	serve_schedules_child(const char *config_file, const char *name);

#endif
