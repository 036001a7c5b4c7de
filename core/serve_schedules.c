#define _GNU_SOURCE /* pipe2, sigabbrev_np */
#include "serve_schedules.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "exitcodes.h"
#include "log.h"
#include "submit.h"

#define ANSWER_MAX 4096
/* The request: names, target and payload, escaped as JSON strings. */
#define REQUEST_MAX (6 * (1024 * 1024 + 1024))

/* ---- checks ------------------------------------------------------- */

void
serve_schedules_check(const struct plugin_registry *reg,
    const struct config *cfg, struct diag *diag)
{
	struct schedule *v;
	size_t n;

	schedule_check_config(cfg, diag);
	schedule_load(cfg, &v, &n);
	for (size_t i = 0; i < n; i++) {
		const struct loaded_op *op = plugins_find_op(reg, v[i].type);

		if (op == NULL)
			diag_add(diag,
			    "%s:%d: [schedule %s] type = %s: no loaded plugin "
			    "provides this operation; install its plugin or fix "
			    "the type (`oprun plugins list` shows them)",
			    cfg->file, v[i].type_line, v[i].name, v[i].type);
		else if (op->op.flags & OPRUN_OP_NEEDS_DELEGATED_TOKEN)
			diag_add(diag,
			    "%s:%d: [schedule %s] type = %s: the operation "
			    "acts as its initiator and needs their delegated "
			    "token, which a schedule does not have; submit it "
			    "with `oprun submit --delegated-token-file`",
			    cfg->file, v[i].type_line, v[i].name, v[i].type);
	}
	schedule_free_all(v, n);
}

/* ---- the submit, in a child process ------------------------------- */

static char *
request_json(const struct schedule *s)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "type", s->type);
	cJSON_AddStringToObject(o, "tenant", s->tenant);
	if (s->target != NULL)
		cJSON_AddStringToObject(o, "target", s->target);
	cJSON_AddStringToObject(o, "initiator", s->initiator);
	cJSON_AddStringToObject(o, "payload", s->payload);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		abort(); /* out of memory, as xmalloc */
	return text;
}

static void
exec_child(int in, int out, const char *config_file, const char *name)
{
	sigset_t none;

	/* The supervisor blocks its signals for its signalfd. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) != 0 || dup2(out, 1) != 1)
		_exit(127);
	execl("/proc/self/exe", "oprun", "-c", config_file, "schedule-submit",
	    name, (char *)NULL);
	_exit(127);
}

/* Writes req to fd in (then closes it) and reads the answer from fd out
 * until EOF, within the deadline.  Returns the bytes read, or -1 on
 * timeout. */
static ssize_t
talk(int in, int out, const char *req, char *answer, size_t cap)
{
	int64_t deadline = monotonic_ms() + SERVE_SCHEDULES_SUBMIT_MS;
	size_t len = strlen(req), off = 0, got = 0;
	ssize_t rc = -1;

	fcntl(in, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd pfd[2] = { { out, POLLIN, 0 },
			{ in, POLLOUT, 0 } };
		int64_t left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0 ||
		    (poll(pfd, in >= 0 ? 2 : 1, (int)left) < 0 &&
			errno != EINTR))
			goto out;
		if (in >= 0 && (pfd[1].revents & (POLLOUT | POLLERR))) {
			n = write(in, req + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN) || off == len) {
				close(in);
				in = -1;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			n = read(out, answer + got, cap - 1 - got);
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0 && (got += (size_t)n) == cap - 1)
				break;
		}
	}
	answer[got] = '\0';
	rc = (ssize_t)got;
out:
	if (in >= 0)
		close(in);
	return rc;
}

/* Reads the child's answer.  Returns 0 (res filled), -1 (refused: bad
 * input) or -2 (the store or the child failed), with err. */
static int
read_answer(const char *answer, struct store_submit_result *res, char *err,
    size_t errlen)
{
	cJSON *o = cJSON_Parse(answer);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(o, "state");
	const cJSON *bad;
	int rc = -2;

	if (cJSON_IsString(e)) {
		errf(err, errlen, "%s", e->valuestring);
		bad = cJSON_GetObjectItemCaseSensitive(o, "bad_input");
		rc = cJSON_IsTrue(bad) ? -1 : -2;
	} else if (cJSON_IsNumber(id) && id->valuedouble >= 1 &&
	    cJSON_IsString(state) &&
	    run_state_parse(state->valuestring, &res->state) == 0) {
		res->id = (uint64_t)id->valuedouble;
		res->deduplicated = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(o, "deduplicated"));
		rc = 0;
	} else {
		errf(err, errlen, "its submit process gave no answer");
	}
	cJSON_Delete(o);
	return rc;
}

static void
describe_status(int status, char *buf, size_t len)
{
	const char *sig = WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) :
						NULL;

	if (WIFSIGNALED(status))
		snprintf(buf, len, "its submit process was killed by SIG%s",
		    sig != NULL ? sig : "?");
	else
		snprintf(buf, len, "its submit process exited with status %d",
		    WEXITSTATUS(status));
}

/* submit_run for schedule s in a child process; returns as read_answer. */
static int
submit_isolated(struct runtime *rt, const struct schedule *s,
    struct store_submit_result *res, char *err, size_t errlen)
{
	char answer[ANSWER_MAX], *req = request_json(s);
	int in[2], out[2], status, rc = -2;
	ssize_t got;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) != 0) {
		free(req);
		return errf(err, errlen, "cannot start its submit: %s",
		    strerror(errno));
	}
	if (pipe2(out, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		errf(err, errlen, "cannot start its submit: %s",
		    strerror(errno));
		close(in[0]);
		close(in[1]);
		free(req);
		return -2;
	}
	if (pid == 0)
		exec_child(in[0], out[1], rt->cfg.file, s->name);
	close(in[0]);
	close(out[1]);
	got = talk(in[1], out[0], req, answer, sizeof(answer));
	close(out[0]);
	free(req);
	if (got < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < 0)
		errf(err, errlen,
		    "its submit did not finish within %d s and was stopped",
		    SERVE_SCHEDULES_SUBMIT_MS / 1000);
	else if (got > 0)
		rc = read_answer(answer, res, err, errlen);
	else
		describe_status(status, err, errlen);
	return rc;
}

/* ---- deciding and firing ------------------------------------------ */

static void
ts(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		snprintf(buf, len, "never");
	else
		format_rfc3339(ms, buf, len);
}

/* The one line about slots that were missed, before the submit. */
static void
log_missed(const struct schedule *s, const struct serve_schedule *w,
    const struct schedule_decision *d)
{
	char first[32], last[32];
	const char *more = d->slots >= SCHEDULE_COUNT_CAP ? " or more" : "";
	const char *why = w->at_start ? "while the runner was down" :
					"since it was last checked";

	if (!w->at_start && d->slots <= 1)
		return;
	ts(d->first_ms, first, sizeof(first));
	ts(d->slot_ms, last, sizeof(last));
	if (d->slots <= 1)
		log_event(OPRUN_LOG_WARN, 0, s->type, s->tenant,
		    "schedule %s: 1 slot missed while the runner was down "
		    "(%s); submitting it now",
		    s->name, last);
	else
		log_event(OPRUN_LOG_WARN, 0, s->type, s->tenant,
		    "schedule %s: %llu%s slots missed %s (%s to %s); "
		    "submitting once, for the last",
		    s->name, (unsigned long long)d->slots, more, why, first,
		    last);
}

/* Submits slot d->slot_ms of s; returns the run it made or found, 0 if
 * none. */
static uint64_t
fire(struct runtime *rt, const struct schedule *s,
    const struct serve_schedule *w, const struct schedule_decision *d)
{
	struct store_submit_result res = { 0 };
	char slot[32], next[32], err[1024];
	int rc;

	log_missed(s, w, d);
	ts(d->slot_ms, slot, sizeof(slot));
	rc = submit_isolated(rt, s, &res, err, sizeof(err));
	if (rc != 0) {
		ts(d->next_ms, next, sizeof(next));
		log_event(OPRUN_LOG_ERROR, 0, s->type, s->tenant,
		    "schedule %s: slot %s not submitted: %s; the next slot is "
		    "%s",
		    s->name, slot, err, next);
		return 0;
	}
	if (res.deduplicated)
		log_event(OPRUN_LOG_INFO, res.id, s->type, s->tenant,
		    "schedule %s: slot %s deduplicated onto run %llu, which "
		    "is still %s; nothing new was queued",
		    s->name, slot, (unsigned long long)res.id,
		    run_state_name(res.state));
	else
		log_event(OPRUN_LOG_INFO, res.id, s->type, s->tenant,
		    "schedule %s: slot %s: run %llu queued", s->name, slot,
		    (unsigned long long)res.id);
	return res.id;
}

static void
save(struct runtime *rt, const struct schedule *s,
    const struct serve_schedule *w)
{
	char err[1024];

	if (schedule_state_put(rt->st, s->name, &w->state, err, sizeof(err)))
		log_event(OPRUN_LOG_ERROR, 0, s->type, s->tenant,
		    "schedule %s: cannot save its state (%s); a restart may "
		    "submit its last slot again",
		    s->name, err);
}

void
serve_schedules_tick(struct serve_schedules *ss, struct runtime *rt)
{
	int64_t now = now_ms();

	for (size_t i = 0; i < ss->n; i++) {
		const struct schedule *s = &ss->v[i];
		struct serve_schedule *w = &ss->w[i];
		struct schedule_decision d;
		uint64_t run_id = 0;
		char next[32];

		if (w->look_ms > now)
			continue;
		schedule_decide(s, &w->state, now, &d);
		if (d.action == SCHEDULE_FIRE)
			run_id = fire(rt, s, w, &d);
		if (d.action != SCHEDULE_IDLE) {
			schedule_state_apply(&w->state, s, &d, now, run_id);
			save(rt, s, w);
		}
		if (d.action == SCHEDULE_ARM || w->at_start) {
			ts(d.next_ms, next, sizeof(next));
			log_event(OPRUN_LOG_INFO, 0, s->type, s->tenant,
			    "schedule %s (%s%s): next slot %s", s->name,
			    s->rule.text, s->rule.every_ms > 0 ? "" : ", UTC",
			    s->enabled ? next : "none, disabled");
		}
		w->at_start = 0;
		w->look_ms = d.next_ms < 0 ? INT64_MAX : d.next_ms;
	}
}

int
serve_schedules_timeout(const struct serve_schedules *ss)
{
	int64_t soonest = INT64_MAX, now;

	for (size_t i = 0; i < ss->n; i++)
		if (ss->w[i].look_ms < soonest)
			soonest = ss->w[i].look_ms;
	if (soonest == INT64_MAX)
		return -1;
	now = now_ms();
	if (soonest <= now)
		return 0;
	return soonest - now > INT_MAX ? INT_MAX : (int)(soonest - now);
}

void
serve_schedules_load(struct serve_schedules *ss, struct runtime *rt)
{
	struct serve_schedule *w;
	struct schedule *v;
	size_t n;
	char err[1024];

	schedule_load(&rt->cfg, &v, &n);
	w = n > 0 ? xcalloc(n, sizeof(*w)) : NULL;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < ss->n && strcmp(ss->v[j].name, v[i].name); j++)
			;
		if (j < ss->n) {
			w[i].state = ss->w[j].state;
			continue;
		}
		w[i].at_start = 1;
		if (schedule_state_get(rt->st, v[i].name, &w[i].state, err,
			sizeof(err)) != 0)
			log_event(OPRUN_LOG_WARN, 0, v[i].type, v[i].tenant,
			    "schedule %s: %s; it starts over from now",
			    v[i].name, err);
	}
	serve_schedules_free(ss);
	ss->v = v;
	ss->w = w;
	ss->n = n;
}

void
serve_schedules_free(struct serve_schedules *ss)
{
	schedule_free_all(ss->v, ss->n);
	free(ss->w);
	memset(ss, 0, sizeof(*ss));
}

/* ---- `oprun schedule-submit NAME` --------------------------------- */

static void
answer(const struct store_submit_result *res, const char *error, int bad_input)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (error != NULL) {
		cJSON_AddStringToObject(o, "error", error);
		cJSON_AddBoolToObject(o, "bad_input", bad_input);
	} else {
		cJSON_AddNumberToObject(o, "id", (double)res->id);
		cJSON_AddBoolToObject(o, "deduplicated", res->deduplicated);
		cJSON_AddStringToObject(o, "state", run_state_name(res->state));
	}
	text = cJSON_PrintUnformatted(o);
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
}

static const char *
field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
serve_schedules_child(const char *config_file, const char *name)
{
	struct store_submit_result res = { 0 };
	struct submit_request req = { 0 };
	const struct loaded_op *op;
	struct diag d = { 0 };
	struct runtime rt;
	char actor[160], err[1024], *text = NULL;
	cJSON *o = NULL;
	int rc;

	if (read_file("/dev/stdin", REQUEST_MAX, &text, NULL, err, sizeof(err)))
		text = NULL;
	if (text == NULL || (o = cJSON_Parse(text)) == NULL) {
		answer(NULL, "malformed schedule-submit request", 0);
		free(text);
		return EXIT_USAGE;
	}
	free(text);
	req.type = field(o, "type");
	req.tenant = field(o, "tenant");
	req.target = field(o, "target");
	req.initiator = field(o, "initiator");
	req.payload = field(o, "payload");
	snprintf(actor, sizeof(actor), "schedule %s", name);
	req.actor = actor;
	if (req.type == NULL || req.tenant == NULL || req.initiator == NULL ||
	    req.payload == NULL) {
		answer(NULL, "malformed schedule-submit request", 0);
		cJSON_Delete(o);
		return EXIT_USAGE;
	}
	if (runtime_open(&rt, config_file, RUNTIME_PLUGINS | RUNTIME_STORE,
		&d) != 0) {
		snprintf(err, sizeof(err), "%s",
		    d.n > 0 ? d.lines[0] : "cannot open the configuration");
		answer(NULL, err, 0);
		rc = EXIT_RUNTIME;
		goto out;
	}
	op = plugins_find_op(&rt.plugins, req.type);
	if (op != NULL && (op->op.flags & OPRUN_OP_NEEDS_DELEGATED_TOKEN)) {
		rc = errf(err, sizeof(err),
		    "operation '%s' acts as the initiator and needs a "
		    "delegated token, which a schedule does not have",
		    req.type);
	} else {
		rc = submit_run(&rt, &req, &res, err, sizeof(err));
	}
	answer(&res, rc == 0 ? NULL : err, rc == -1);
	rc = rc == 0 ? 0 : rc == -1 ? EXIT_USAGE : EXIT_RUNTIME;
out:
	runtime_close(&rt);
	diag_free(&d);
	cJSON_Delete(o);
	return rc;
}
