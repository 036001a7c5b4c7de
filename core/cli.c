#define _DEFAULT_SOURCE /* explicit_bzero */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_internal.h"
#include "exitcodes.h"
#include "handoff.h"
#include "log.h"
#include "render.h"
#include "seal.h"
#include "runtime.h"
#include "schedule.h"
#include "serve_schedules.h"
#include "submit.h"
#include "supervisor.h"
#include "text.h"
#include "util.h"
#include "worker.h"

static const char usage_text[] =
    "usage: oprun [-c FILE] COMMAND [ARGS]\n"
    "commands:\n"
    "  submit TYPE --tenant T [--target ID] --initiator U\n"
    "         (--payload JSON | --payload-file F) [--wait] [--timeout S]"
    " [--json]\n"
    "         [--delegated-token-file F]\n"
    "  runs [--tenant T] [--type X] [--state S] [--initiator U]"
    " [--limit N]\n"
    "       [--before ID] [--json]\n"
    "  show ID [--json]\n"
    "  wait ID [--timeout S] [--json]\n"
    "  cancel ID [--as USER]\n"
    "  notifications --user U [--unread] [--mark-read ID | --all] [--json]\n"
    "  plugins list [--json] | plugins check FILE.so\n"
    "  config check\n"
    "  schedules [--json]\n"
    "  serve\n"
    "  worker [--once]\n"
    "  prune --older-than DAYS [--with-documents]\n"
    "  check-store\n"
    "  store backup DIR\n"
    "  docs RUN [NAME] [--prefix P] [--json]\n"
    "  export RUN DIR [--force] [--reveal-secrets]\n"
    "  backups [--tenant T] [--limit N] [--json]\n"
    "  directory TENANT [--kind K] [--name NAME] [--json]\n"
    "  keygen FILE\n"
    "exit status: 0 ok, 1 runtime error or run failed, 2 bad usage or input,"
    "\n  3 run partial, 4 run canceled, 5 wait timed out\n";

static void vcomplain(const char *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Prints "oprun CMD: MESSAGE" on stderr as one line: the message often
 * holds outside text (a plugin's refusal, a name given), so it is escaped
 * (text.h) and can neither break the line nor send a control sequence. */
static void
vcomplain(const char *cmd, const char *fmt, va_list ap)
{
	char msg[2048], line[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	text_escape_buf(msg, 0, line, sizeof(line));
	fprintf(stderr, "oprun%s%s: %s\n", cmd != NULL ? " " : "",
	    cmd != NULL ? cmd : "", line);
}

void
complain(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomplain(cmd, fmt, ap);
	va_end(ap);
}

int
usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	complain(cmd, "%s; see `oprun help`", msg);
	return EXIT_USAGE;
}

/* Terminal-safe copies (text.h) of stored or outside text, for one
 * printf: no value can break a table's line or send a control sequence.
 * safe_done frees them. */
#define SAFE_MAX 16

struct safe {
	char *v[SAFE_MAX];
	int n;
};

static const char *
safe(struct safe *sf, const char *text)
{
	if (text == NULL)
		return "";
	if (sf->n == SAFE_MAX)
		abort(); /* a programming error: call safe_done sooner */
	return sf->v[sf->n++] = text_escape(text, 0);
}

static void
safe_done(struct safe *sf)
{
	while (sf->n > 0)
		free(sf->v[--sf->n]);
}

static struct opt *
find_opt(struct opt *opts, const char *name, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

/* Parses argv[i..] into opts and positional arguments.  Returns 0 or
 * EXIT_USAGE (after printing the problem). */
int
parse_args(struct args *a, int argc, char **argv, int i, struct opt *opts,
    int min_pos, int max_pos)
{
	for (; i < argc; i++) {
		const char *s = argv[i], *eq;
		struct opt *o;

		if (strcmp(s, "-c") == 0)
			return usage_error(a->cmd, "-c FILE is a global option and "
			    "goes before the command: oprun -c FILE %s ...",
			    a->cmd);
		if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
			if (a->npos == max_pos || a->npos == MAX_POSITIONAL)
				return usage_error(a->cmd, "unexpected "
				    "argument '%s'", s);
			a->pos[a->npos++] = s;
			continue;
		}
		eq = strchr(s, '=');
		o = find_opt(opts, s + 2, eq ? (size_t)(eq - s - 2) :
		    strlen(s + 2));
		if (o == NULL)
			return usage_error(a->cmd, "unknown option %s", s);
		if (!o->has_arg)
			o->value = "1";
		else if (eq != NULL)
			o->value = eq + 1;
		else if (i + 1 < argc)
			o->value = argv[++i];
		else
			return usage_error(a->cmd, "%s needs a value", s);
	}
	if (a->npos < min_pos)
		return usage_error(a->cmd, "missing argument");
	return 0;
}

const char *
opt_get(const struct opt *opts, const char *name)
{
	for (; opts->name != NULL; opts++)
		if (strcmp(opts->name, name) == 0)
			return opts->value;
	return NULL;
}

/* A positive id of a run or (what) of another kind of record. */
static int
parse_record_id(const struct args *a, const char *what, const char *s,
    uint64_t *id)
{
	if (parse_u64(s, UINT64_MAX, id) != 0 || *id == 0)
		return usage_error(a->cmd, "'%s' is not a %s id (a positive "
		    "whole number)", s, what);
	return 0;
}

int
parse_id(const struct args *a, const char *s, uint64_t *id)
{
	return parse_record_id(a, "run", s, id);
}

/* Prints diag lines and any plugin refusals; returns EXIT_USAGE if diag
 * held config problems. */
static void
print_diag(const struct diag *d, const char *prefix)
{
	struct safe sf = { 0 };

	for (size_t i = 0; i < d->n; i++) {
		fprintf(stderr, "%s%s\n", prefix, safe(&sf, d->lines[i]));
		safe_done(&sf);
	}
}

/* A command that dies of a fault while it reads the store says what to
 * check: LMDB has no page checksums, and a garbled page inside the file
 * can make it fault.  The signal is raised again, so the exit status
 * still tells what happened. */
static char crash_note[600];

static void
on_fault(int sig)
{
	ssize_t unused = write(STDERR_FILENO, crash_note, strlen(crash_note));

	(void)unused;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
note_store_faults(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGABRT };
	struct sigaction sa;

	snprintf(crash_note, sizeof(crash_note), "oprun: stopped by a fault "
	    "while using the store ([store] path): it may be damaged; run "
	    "`oprun check-store`, and restore data.mdb from a backup (README, "
	    "Backups) if it reports damage\n");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int
open_rt(struct runtime *rt, const struct args *a, unsigned what)
{
	struct diag d = { 0 };
	int rc = 0;

	/* Not where plugins run in this process: their faults are theirs. */
	if ((what & RUNTIME_STORE) && !(what & RUNTIME_PLUGINS))
		note_store_faults();
	if (runtime_open(rt, a->config, what, &d) != 0) {
		print_diag(&d, "oprun: ");
		/* A bad configuration is bad input; a store error is not. */
		rc = rt->cfg.file != NULL && rt->st == NULL &&
		    (what & RUNTIME_STORE) && d.n == 1 &&
		    strncmp(d.lines[0], "store ", 6) == 0 ? EXIT_RUNTIME :
		    EXIT_USAGE;
		runtime_close(rt);
	} else {
		print_diag(&rt->refusals, "oprun: warning: ");
	}
	diag_free(&d);
	return rc;
}

void
print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	char *out = text_json_safe(s);

	/* Valid UTF-8, and no raw DEL or C1 control for a terminal. */
	printf("%s\n", out);
	free(out);
	free(s);
	cJSON_Delete(o);
}

/* A name given for the record (cancel --as): UTF-8, on one line. */
static int
check_given_name(const struct args *a, const char *opt, const char *v)
{
	size_t bad;
	long at;

	if (text_utf8_check(v, strlen(v), &bad) != 0)
		return usage_error(a->cmd, "%s: invalid UTF-8 at byte offset "
		    "%zu; give it as UTF-8 text", opt, bad);
	if ((at = text_find_control(v)) >= 0)
		return usage_error(a->cmd, "%s: control character at byte "
		    "offset %ld; remove it", opt, at);
	return 0;
}

static void
actor_name(char *buf, size_t len, const char *as)
{
	const char *user = as != NULL ? as : getenv("USER");

	snprintf(buf, len, "cli:%s", user != NULL && *user ? user : "unknown");
}

/* ---- wait -------------------------------------------------------- */

static int
exit_for_state(enum run_state s)
{
	switch (s) {
	case RUN_SUCCEEDED:
		return 0;
	case RUN_PARTIAL:
		return EXIT_PARTIAL;
	case RUN_CANCELED:
		return EXIT_CANCELED;
	default:
		return 1;
	}
}

static void
draw_bar(const struct run *r)
{
	const struct run_counts *c = &r->counts;
	int width = 30, filled = 0;
	char bar[64];

	if (c->total > 0)
		filled = (int)(c->processed * (uint64_t)width / c->total);
	if (filled > width)
		filled = width;
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '.', (size_t)(width - filled));
	bar[width] = '\0';
	fprintf(stderr, "\r[%s] %llu/%llu  %llu failed  %-9s", bar,
	    (unsigned long long)c->processed, (unsigned long long)c->total,
	    (unsigned long long)c->failed, run_state_name(r->state));
	fflush(stderr);
}

static void
print_outcome(const struct run *r)
{
	struct safe sf = { 0 };
	char counts[256];

	render_counts(&r->counts, counts, sizeof(counts));
	printf("run %llu %s: %s%s%s\n", (unsigned long long)r->id,
	    run_state_name(r->state), counts, r->reason ? "; " : "",
	    r->reason ? safe(&sf, r->reason) : "");
	safe_done(&sf);
}

/* The one message for a run id that names no run, whichever command. */
int
no_such_run(const char *cmd, uint64_t id)
{
	complain(cmd, "run %llu does not exist; list runs with `oprun runs`",
	    (unsigned long long)id);
	return EXIT_USAGE;
}

/* Polls run id until terminal or timeout_ms (< 0: forever). */
static int
wait_for(struct runtime *rt, uint64_t id, int64_t timeout_ms, int json)
{
	int64_t start = monotonic_ms();
	int bar = isatty(STDERR_FILENO) && !json, told = 0;
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	char err[1024];

	for (;;) {
		struct run r;
		int rc = store_get_run(rt->st, id, &r, err, sizeof(err));

		if (rc == 1)
			return no_such_run("wait", id);
		if (rc != 0) {
			complain("wait", "%s", err);
			return EXIT_RUNTIME;
		}
		if (bar)
			draw_bar(&r);
		if (run_state_terminal(r.state)) {
			if (bar)
				fputc('\n', stderr);
			rc = exit_for_state(r.state);
			if (json)
				print_json(run_to_json(&r, 1));
			else
				print_outcome(&r);
			run_free(&r);
			return rc;
		}
		/* After a second, so a runner that is starting is not
		 * taken for none. */
		if (r.state == RUN_QUEUED && !told &&
		    monotonic_ms() - start >= 1000 &&
		    !store_runner_active(rt->st)) {
			told = 1;
			fprintf(stderr, "oprun wait: run %llu is queued and no "
			    "runner is running on this store; start `oprun "
			    "serve` (or `oprun worker`) to run it\n",
			    (unsigned long long)id);
		}
		run_free(&r);
		if (timeout_ms >= 0 && monotonic_ms() - start >= timeout_ms) {
			if (bar)
				fputc('\n', stderr);
			complain("wait", "run %llu still not finished after the "
			    "timeout", (unsigned long long)id);
			return EXIT_TIMEOUT;
		}
		nanosleep(&pause, NULL);
	}
}

static int
parse_timeout(const struct args *a, const char *s, int64_t *ms)
{
	uint64_t secs;

	*ms = -1;
	if (s == NULL)
		return 0;
	if (parse_u64(s, 86400 * 365, &secs) != 0)
		return usage_error(a->cmd, "--timeout '%s': expected whole "
		    "seconds", s);
	*ms = (int64_t)secs * 1000;
	return 0;
}

/* ---- commands ---------------------------------------------------- */

/* The payload as given: the --payload argument, or the whole of the
 * --payload-file, which must not hold a NUL byte (the payload is handled
 * as a C string: a NUL would silently cut it short). */
static int
read_payload(const struct args *a, const char *inline_json,
    const char *file, size_t max, char **out)
{
	char err[1024];
	const char *nul;
	size_t n;

	if ((inline_json == NULL) == (file == NULL))
		return usage_error(a->cmd, "give exactly one of --payload JSON "
		    "or --payload-file FILE");
	if (inline_json != NULL) {
		*out = xstrdup(inline_json);
		return 0;
	}
	switch (read_file(file, max, out, &n, err, sizeof(err))) {
	case 0:
		break;
	case -2:
		complain(a->cmd, "--payload-file %s ([runner] "
		    "max_payload_bytes)", err);
		return EXIT_USAGE;
	default:
		complain(a->cmd, "--payload-file %s", err);
		return EXIT_USAGE;
	}
	if ((nul = memchr(*out, '\0', n)) != NULL) {
		complain(a->cmd, "--payload-file %s: NUL byte at byte offset "
		    "%td; a payload is JSON text without NUL bytes (a UTF-16 "
		    "file? convert it with iconv -f UTF-16 -t UTF-8)", file,
		    nul - *out);
		free(*out);
		*out = NULL;
		return EXIT_USAGE;
	}
	return 0;
}

static void
print_submitted(const struct runtime *rt, const struct store_submit_result
    *res, int json)
{
	struct run r;
	char err[256];

	if (json && store_get_run(rt->st, res->id, &r, err, sizeof(err)) == 0) {
		cJSON *o = run_to_json(&r, 0);

		cJSON_AddBoolToObject(o, "deduplicated", res->deduplicated);
		print_json(o);
		run_free(&r);
		return;
	}
	if (res->deduplicated)
		printf("run %llu is already %s with the same identity; nothing "
		    "new was created\n", (unsigned long long)res->id,
		    run_state_name(res->state));
	else
		printf("run %llu queued\n", (unsigned long long)res->id);
	printf("follow it: oprun show %llu  |  oprun wait %llu\n",
	    (unsigned long long)res->id, (unsigned long long)res->id);
}

/* Reads the delegated token file: one token, trimmed; the caller wipes
 * and frees it. */
static int
read_token(const char *file, char **token, char *err, size_t errlen)
{
	char why[600];
	size_t n;

	if (read_file(file, HANDOFF_MAX_TOKEN, token, &n, why,
	    sizeof(why)) != 0)
		return errf(err, errlen, "--delegated-token-file %s", why);
	while (n > 0 && strchr(" \t\r\n", (*token)[n - 1]) != NULL)
		(*token)[--n] = '\0';
	if (n == 0 || strpbrk(*token, " \t\r\n") != NULL) {
		explicit_bzero(*token, n);
		free(*token);
		return errf(err, errlen, "--delegated-token-file %s: expected "
		    "one access token on one line", file);
	}
	return 0;
}

/*
 * submit_run, except for operations that act as the initiator: those
 * need --delegated-token-file, and the run and its token go to the
 * running `oprun serve`, which alone holds the token (in memory).
 * Returns what submit_run returns (-1 bad input, -2 runtime).
 */
static int
submit_with_token(struct runtime *rt, const struct submit_request *req,
    const char *token_file, struct store_submit_result *res, char *err,
    size_t errlen)
{
	const struct loaded_op *op = plugins_find_op(&rt->plugins, req->type);
	int needs = op != NULL &&
	    (op->op.flags & OPRUN_OP_NEEDS_DELEGATED_TOKEN) != 0;
	char *token = NULL;
	struct run r;
	int rc;

	if (!needs && token_file == NULL)
		return submit_run(rt, req, res, err, errlen);
	if (!needs)
		return errf(err, errlen, "operation '%s' does not act as the "
		    "initiator; drop --delegated-token-file", req->type);
	if (token_file == NULL)
		return errf(err, errlen, "operation '%s' acts as the initiator: "
		    "give the user's token with --delegated-token-file FILE",
		    req->type);
	if (submit_prepare(rt, req, &r, err, errlen) != 0)
		return -1;
	rc = read_token(token_file, &token, err, errlen);
	if (rc == 0) {
		rc = handoff_submit(rt->cfg.store_path, &r, req->actor, token,
		    res, err, errlen);
		explicit_bzero(token, strlen(token));
		free(token);
	}
	run_free(&r);
	return rc;
}

static int
cmd_submit(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "tenant", 1, NULL }, { "target", 1, NULL },
		{ "initiator", 1, NULL }, { "payload", 1, NULL },
		{ "payload-file", 1, NULL }, { "wait", 0, NULL },
		{ "timeout", 1, NULL }, { "json", 0, NULL },
		{ "delegated-token-file", 1, NULL }, { NULL, 0, NULL } };
	struct submit_request req = { 0 };
	struct store_submit_result res;
	struct runtime rt;
	char actor[160], err[1024], *payload = NULL;
	int64_t timeout;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0)
		return rc;
	req.type = a->pos[0];
	req.tenant = opt_get(opts, "tenant");
	req.initiator = opt_get(opts, "initiator");
	req.target = opt_get(opts, "target");
	if (req.tenant == NULL || req.initiator == NULL)
		return usage_error(a->cmd, "--tenant and --initiator are "
		    "required");
	if ((rc = parse_timeout(a, opt_get(opts, "timeout"), &timeout)) != 0)
		return rc;
	if ((rc = open_rt(&rt, a, RUNTIME_PLUGINS | RUNTIME_STORE)) != 0)
		return rc;
	rc = read_payload(a, opt_get(opts, "payload"),
	    opt_get(opts, "payload-file"), rt.cfg.max_payload_bytes, &payload);
	if (rc != 0)
		goto out;
	actor_name(actor, sizeof(actor), req.initiator);
	req.payload = payload;
	req.actor = actor;
	rc = submit_with_token(&rt, &req, opt_get(opts, "delegated-token-file"),
	    &res, err, sizeof(err));
	if (rc != 0) {
		complain(a->cmd, "%s", err);
		rc = rc == -1 ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	if (opt_get(opts, "wait") != NULL)
		rc = wait_for(&rt, res.id, timeout, opt_get(opts, "json") != 0);
	else
		print_submitted(&rt, &res, opt_get(opts, "json") != NULL);
out:
	free(payload);
	runtime_close(&rt);
	return rc;
}

static void
print_run_row(const struct run *r)
{
	struct safe sf = { 0 };
	char ts[32];

	format_rfc3339(r->created_at, ts, sizeof(ts));
	printf("%-8llu %-10s %-20s %-14s %-14s %s  %llu/%llu %llu\n",
	    (unsigned long long)r->id, run_state_name(r->state),
	    safe(&sf, r->type), safe(&sf, r->tenant), safe(&sf, r->initiator),
	    ts, (unsigned long long)r->counts.processed,
	    (unsigned long long)r->counts.total,
	    (unsigned long long)r->counts.failed);
	safe_done(&sf);
}

static int
parse_filter(const struct args *a, const struct opt *opts,
    struct run_filter *f)
{
	const char *state = opt_get(opts, "state");
	const char *limit = opt_get(opts, "limit");
	const char *before = opt_get(opts, "before");
	uint64_t n = 50;

	memset(f, 0, sizeof(*f));
	f->tenant = opt_get(opts, "tenant");
	f->type = opt_get(opts, "type");
	f->initiator = opt_get(opts, "initiator");
	if (state != NULL) {
		if (run_state_parse(state, &f->state) != 0)
			return usage_error(a->cmd, "--state '%s': expected "
			    "queued, running, succeeded, partial, failed or "
			    "canceled", state);
		f->has_state = 1;
	}
	if (limit != NULL && (parse_u64(limit, 10000, &n) != 0 || n == 0))
		return usage_error(a->cmd, "--limit '%s': expected 1 to 10000",
		    limit);
	f->limit = (size_t)n;
	if (before != NULL && parse_id(a, before, &f->before_id) != 0)
		return EXIT_USAGE;
	return 0;
}

static int
cmd_runs(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "tenant", 1, NULL }, { "type", 1, NULL },
		{ "state", 1, NULL }, { "initiator", 1, NULL },
		{ "limit", 1, NULL }, { "before", 1, NULL }, { "json", 0, NULL },
		{ NULL, 0, NULL } };
	struct run_filter f;
	struct runtime rt;
	struct run *runs;
	size_t n;
	char err[1024];
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0 ||
	    (rc = parse_filter(a, opts, &f)) != 0 ||
	    (rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	if (store_list_runs(rt.st, &f, &runs, &n, err, sizeof(err)) != 0) {
		complain(a->cmd, "%s", err);
		runtime_close(&rt);
		return EXIT_RUNTIME;
	}
	if (opt_get(opts, "json") != NULL) {
		cJSON *arr = cJSON_CreateArray();

		for (size_t k = 0; k < n; k++)
			cJSON_AddItemToArray(arr, run_to_json(&runs[k], 0));
		print_json(arr);
	} else {
		printf("%-8s %-10s %-20s %-14s %-14s %-24s  %s\n", "ID",
		    "STATE", "TYPE", "TENANT", "INITIATOR", "CREATED",
		    "DONE/TOTAL FAILED");
		for (size_t k = 0; k < n; k++)
			print_run_row(&runs[k]);
		if (n == f.limit)
			printf("more: oprun runs --before %llu\n",
			    (unsigned long long)runs[n - 1].id);
	}
	store_runs_free(runs, n);
	runtime_close(&rt);
	return 0;
}

static void
print_run_detail(const struct run *r)
{
	char ts[32], counts[256], hex[65];
	struct safe sf = { 0 };

	run_dedupe_hex(r, hex);
	render_counts(&r->counts, counts, sizeof(counts));
	printf("run %llu: %s\n", (unsigned long long)r->id,
	    run_state_name(r->state));
	printf("  type       %s\n  tenant     %s\n  target     %s\n"
	    "  initiator  %s\n  attempt    %u\n  identity   %s\n",
	    safe(&sf, r->type), safe(&sf, r->tenant),
	    r->target ? safe(&sf, r->target) : "-", safe(&sf, r->initiator),
	    r->attempt, hex);
	printf("  payload    %s\n  summary    %s\n", safe(&sf, r->payload),
	    counts);
	if (r->reason != NULL)
		printf("  reason     %s\n", safe(&sf, r->reason));
	if (r->result != NULL)
		printf("  result     %s\n", safe(&sf, r->result));
	safe_done(&sf);
	if (r->flags & RUN_FLAG_CANCEL_REQUESTED)
		printf("  cancel     requested\n");
	printf("  history\n");
	for (size_t i = 0; i < r->nhistory; i++) {
		format_rfc3339(r->history[i].at_ms, ts, sizeof(ts));
		printf("    %s  %-9s by %s%s%s\n", ts,
		    run_state_name(r->history[i].state),
		    safe(&sf, r->history[i].actor),
		    r->history[i].reason ? ": " : "",
		    r->history[i].reason ? safe(&sf, r->history[i].reason) :
		    "");
		safe_done(&sf);
	}
	if (r->failures_total > 0) {
		printf("  failures (%llu, first %zu shown)\n",
		    (unsigned long long)r->failures_total, r->nfailures);
		for (size_t i = 0; i < r->nfailures; i++) {
			printf("    %s: %s\n", safe(&sf, r->failures[i].item),
			    safe(&sf, r->failures[i].message));
			safe_done(&sf);
		}
	}
}

static int
cmd_show(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "json", 0, NULL }, { NULL, 0, NULL } };
	struct runtime rt;
	struct run r;
	uint64_t id;
	char err[1024];
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0 ||
	    (rc = parse_id(a, a->pos[0], &id)) != 0 ||
	    (rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	rc = store_get_run(rt.st, id, &r, err, sizeof(err));
	if (rc == 0) {
		if (opt_get(opts, "json") != NULL)
			print_json(run_to_json(&r, 1));
		else
			print_run_detail(&r);
		run_free(&r);
	} else if (rc == 1) {
		rc = no_such_run(a->cmd, id);
	} else {
		complain(a->cmd, "%s", err);
		rc = EXIT_RUNTIME;
	}
	runtime_close(&rt);
	return rc;
}

static int
cmd_wait(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "timeout", 1, NULL }, { "json", 0, NULL },
		{ NULL, 0, NULL } };
	struct runtime rt;
	uint64_t id;
	int64_t timeout;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0 ||
	    (rc = parse_id(a, a->pos[0], &id)) != 0 ||
	    (rc = parse_timeout(a, opt_get(opts, "timeout"), &timeout)) != 0 ||
	    (rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	rc = wait_for(&rt, id, timeout, opt_get(opts, "json") != NULL);
	runtime_close(&rt);
	return rc;
}

static int
cmd_cancel(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "as", 1, NULL }, { NULL, 0, NULL } };
	struct runtime rt;
	enum run_state after;
	uint64_t id;
	char actor[160], err[1024];
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0 ||
	    (rc = parse_id(a, a->pos[0], &id)) != 0 ||
	    (opt_get(opts, "as") != NULL && (rc = check_given_name(a, "--as",
	    opt_get(opts, "as"))) != 0) ||
	    (rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	actor_name(actor, sizeof(actor), opt_get(opts, "as"));
	rc = store_cancel(rt.st, id, actor, &after, err, sizeof(err));
	if (rc != 0) {
		complain(a->cmd, "%s", err);
		rc = rc == -2 ? EXIT_RUNTIME : EXIT_USAGE;
	} else if (after == RUN_CANCELED) {
		printf("run %llu canceled\n", (unsigned long long)id);
	} else {
		printf("run %llu is running: cancel requested; the operation "
		    "stops at its next cancel check (follow it with `oprun "
		    "wait %llu`)\n", (unsigned long long)id,
		    (unsigned long long)id);
	}
	runtime_close(&rt);
	return rc;
}

static int
list_notifications(struct runtime *rt, const char *user, int unread_only,
    int json)
{
	struct safe sf = { 0 };
	struct notification *v;
	uint64_t unread;
	size_t n;
	char err[1024], text[1024], ts[32];

	if (store_notifications(rt->st, user, unread_only, 1000, &v, &n,
	    &unread, err, sizeof(err)) != 0) {
		complain("notifications", "%s", err);
		return EXIT_RUNTIME;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(o, "notifications");

		cJSON_AddNumberToObject(o, "unread", (double)unread);
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(arr,
			    render_notification_json(&v[i]));
		print_json(o);
	} else {
		for (size_t i = 0; i < n; i++) {
			render_notification_text(&v[i], text, sizeof(text));
			format_rfc3339(v[i].created_at, ts, sizeof(ts));
			printf("%s %-6llu %s  %s\n", v[i].read ? " " : "*",
			    (unsigned long long)v[i].id, ts, safe(&sf, text));
			safe_done(&sf);
		}
		printf("%llu unread\n", (unsigned long long)unread);
	}
	store_notifications_free(v, n);
	return 0;
}

static int
mark_read(struct runtime *rt, const struct args *a, const char *user,
    const char *id_text)
{
	uint64_t id = 0, marked;
	char err[1024];
	int rc;

	if (id_text != NULL &&
	    parse_record_id(a, "notification", id_text, &id) != 0)
		return EXIT_USAGE;
	rc = store_notifications_mark_read(rt->st, user, id, &marked, err,
	    sizeof(err));
	if (rc != 0) {
		complain(a->cmd, "%s", err);
		return rc == 1 ? EXIT_USAGE : EXIT_RUNTIME;
	}
	printf("%llu marked read\n", (unsigned long long)marked);
	return 0;
}

static int
cmd_notifications(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "user", 1, NULL }, { "unread", 0, NULL },
		{ "mark-read", 1, NULL }, { "all", 0, NULL },
		{ "json", 0, NULL }, { NULL, 0, NULL } };
	const char *user, *mark;
	struct runtime rt;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0)
		return rc;
	user = opt_get(opts, "user");
	mark = opt_get(opts, "mark-read");
	if (user == NULL)
		return usage_error(a->cmd, "--user is required");
	if (mark != NULL && opt_get(opts, "all") != NULL)
		return usage_error(a->cmd, "give --mark-read ID or --all, not "
		    "both");
	if ((rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	if (mark != NULL || opt_get(opts, "all") != NULL)
		rc = mark_read(&rt, a, user, mark);
	else
		rc = list_notifications(&rt, user,
		    opt_get(opts, "unread") != NULL,
		    opt_get(opts, "json") != NULL);
	runtime_close(&rt);
	return rc;
}

static cJSON *
plugin_json(const struct loaded_plugin *p)
{
	cJSON *o = cJSON_CreateObject(), *ops, *keys;
	const struct oprun_config_key *k;

	cJSON_AddStringToObject(o, "name", p->desc.name);
	char abi[16];

	snprintf(abi, sizeof(abi), "%u.%u", (unsigned)p->desc.abi_major,
	    (unsigned)p->desc.abi_minor);
	cJSON_AddStringToObject(o, "version", p->desc.version);
	cJSON_AddStringToObject(o, "abi", abi);
	cJSON_AddStringToObject(o, "file", p->path);
	cJSON_AddStringToObject(o, "description",
	    p->desc.description ? p->desc.description : "");
	ops = cJSON_AddArrayToObject(o, "operations");
	for (size_t i = 0; i < p->nops; i++) {
		const struct oprun_operation *op = &p->ops[i].op;
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "type", op->type);
		cJSON_AddStringToObject(j, "description",
		    op->description ? op->description : "");
		cJSON_AddBoolToObject(j, "idempotent",
		    (op->flags & OPRUN_OP_IDEMPOTENT) != 0);
		cJSON_AddBoolToObject(j, "cancellable",
		    (op->flags & OPRUN_OP_CANCELLABLE) != 0);
		cJSON_AddBoolToObject(j, "needs_delegated_token",
		    (op->flags & OPRUN_OP_NEEDS_DELEGATED_TOKEN) != 0);
		cJSON_AddBoolToObject(j, "directory_writer",
		    (op->flags & OPRUN_OP_DIRECTORY_WRITER) != 0);
		cJSON_AddItemToArray(ops, j);
	}
	keys = cJSON_AddArrayToObject(o, "config_keys");
	for (k = p->desc.config_keys; k != NULL && k->name != NULL; k++) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "name", k->name);
		cJSON_AddStringToObject(j, "description",
		    k->description ? k->description : "");
		if (k->default_value != NULL)
			cJSON_AddStringToObject(j, "default", k->default_value);
		cJSON_AddBoolToObject(j, "required", k->required != 0);
		cJSON_AddItemToArray(keys, j);
	}
	return o;
}

static void
print_plugin(const struct loaded_plugin *p)
{
	const struct oprun_config_key *k;
	struct safe sf = { 0 };

	/* Names are checked by the loader; the rest is the plugin's text. */
	printf("%s %s  (%s)\n", p->desc.name, safe(&sf, p->desc.version),
	    safe(&sf, p->path));
	if (p->desc.description != NULL)
		printf("  %s\n", safe(&sf, p->desc.description));
	safe_done(&sf);
	for (size_t i = 0; i < p->nops; i++) {
		const struct oprun_operation *op = &p->ops[i].op;

		printf("  operation %-22s%s%s%s  %s\n", op->type,
		    op->flags & OPRUN_OP_IDEMPOTENT ? " idempotent" : "",
		    op->flags & OPRUN_OP_CANCELLABLE ? " cancellable" : "",
		    op->flags & OPRUN_OP_NEEDS_DELEGATED_TOKEN ?
		    " needs-delegated-token" : "",
		    op->description ? safe(&sf, op->description) : "");
		safe_done(&sf);
	}
	for (k = p->desc.config_keys; k != NULL && k->name != NULL; k++) {
		printf("  config    %-22s %s%s%s%s\n", safe(&sf, k->name),
		    k->description ? safe(&sf, k->description) : "",
		    k->required ? " (required)" : "",
		    k->default_value ? " default: " : "",
		    k->default_value ? safe(&sf, k->default_value) : "");
		safe_done(&sf);
	}
}

static int
plugins_list(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "json", 0, NULL }, { NULL, 0, NULL } };
	struct runtime rt;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0 ||
	    (rc = open_rt(&rt, a, RUNTIME_PLUGINS)) != 0)
		return rc;
	if (opt_get(opts, "json") != NULL) {
		cJSON *o = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(o, "plugins");
		cJSON *ref = cJSON_AddArrayToObject(o, "refused");

		for (size_t k = 0; k < rt.plugins.n; k++)
			cJSON_AddItemToArray(arr,
			    plugin_json(rt.plugins.plugins[k]));
		for (size_t k = 0; k < rt.refusals.n; k++)
			cJSON_AddItemToArray(ref,
			    cJSON_CreateString(rt.refusals.lines[k]));
		print_json(o);
	} else {
		printf("plugin directory %s\n", rt.cfg.plugin_dir);
		for (size_t k = 0; k < rt.plugins.n; k++)
			print_plugin(rt.plugins.plugins[k]);
		if (rt.plugins.n == 0)
			printf("(no plugins loaded)\n");
	}
	runtime_close(&rt);
	return 0;
}

/* Checks one plugin file, with the configuration if there is one. */
static int
plugins_check(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct plugin_registry reg = { 0 };
	struct diag d = { 0 }, cd = { 0 };
	struct config cfg;
	int have_cfg, rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0)
		return rc;
	have_cfg = config_load(config_pick_file(a->config), &cfg, &cd) == 0;
	if (plugins_load_file(&reg, a->pos[0], have_cfg ? &cfg : NULL,
	    &d) != 0) {
		print_diag(&d, "oprun plugins check: ");
		rc = EXIT_USAGE;
	} else {
		print_plugin(reg.plugins[0]);
		printf("plugin OK\n");
	}
	plugins_unload(&reg);
	diag_free(&d);
	diag_free(&cd);
	config_free(&cfg); /* config_load fills it even when it fails */
	return rc;
}

static int
cmd_plugins(struct args *a, int argc, char **argv, int i)
{
	if (i < argc && strcmp(argv[i], "list") == 0)
		return plugins_list(a, argc, argv, i + 1);
	if (i < argc && strcmp(argv[i], "check") == 0)
		return plugins_check(a, argc, argv, i + 1);
	return usage_error(a->cmd, "expected `plugins list` or `plugins check "
	    "FILE.so`");
}

/* The sealing key must load (exist, mode 0600, hold a key) before a
 * capture needs it. */
static void
check_secrets_key(const struct config *cfg, struct diag *d)
{
	struct seal_key k;
	char err[1024];

	if (cfg->secrets_key_file == NULL)
		return;
	if (seal_key_load(&k, cfg->secrets_key_file,
	    "[store] secrets_key_file", err, sizeof(err)) != 0)
		diag_add(d, "%s", err);
	seal_key_wipe(&k);
}

static int
cmd_config(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct runtime rt;
	struct diag d = { 0 };
	int rc;

	if (i >= argc || strcmp(argv[i], "check") != 0)
		return usage_error(a->cmd, "expected `config check`");
	if ((rc = parse_args(a, argc, argv, i + 1, opts, 0, 0)) != 0)
		return rc;
	if (runtime_open(&rt, a->config, RUNTIME_PLUGINS, &d) == 0) {
		for (size_t k = 0; k < rt.refusals.n; k++)
			diag_add(&d, "%s", rt.refusals.lines[k]);
		plugins_check_config(&rt.plugins, &rt.cfg, &d);
		serve_schedules_check(&rt.plugins, &rt.cfg, &d);
		check_secrets_key(&rt.cfg, &d);
	}
	print_diag(&d, "");
	if (d.n == 0)
		printf("configuration OK\n");
	rc = d.n == 0 ? 0 : EXIT_USAGE;
	diag_free(&d);
	runtime_close(&rt);
	return rc;
}

/* One schedule of `oprun schedules`: a row, or an object added to arr. */
static void
schedule_row(struct runtime *rt, const struct schedule *s, int64_t now,
    cJSON *arr)
{
	struct schedule_state st;
	struct safe sf = { 0 };
	char next[32] = "-", last[64] = "-", err[1024];
	const char *state = NULL;
	int64_t due;
	struct run r;

	if (schedule_state_get(rt->st, s->name, &st, err, sizeof(err)) != 0)
		complain("schedules", "warning: %s", err);
	if (st.last_run_id != 0 && store_get_run(rt->st, st.last_run_id, &r,
	    err, sizeof(err)) == 0) {
		state = run_state_name(r.state);
		run_free(&r);
	}
	due = schedule_next_due(s, &st, now);
	if (arr != NULL) {
		cJSON_AddItemToArray(arr, schedule_to_json(s, &st, due, state));
		return;
	}
	if (due >= 0)
		format_rfc3339(due, next, sizeof(next));
	if (st.last_run_id != 0)
		snprintf(last, sizeof(last), "%llu %s",
		    (unsigned long long)st.last_run_id,
		    state != NULL ? state : "(pruned)");
	printf("%-20s %-20s %-14s %-7s %-24s  %-18s %s%s\n", safe(&sf, s->name),
	    safe(&sf, s->type), safe(&sf, s->tenant), s->enabled ? "yes" : "no",
	    next, last, s->rule.text, s->rule.every_ms > 0 ? "" : " (UTC)");
	safe_done(&sf);
}

static int
cmd_schedules(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "json", 0, NULL }, { NULL, 0, NULL } };
	struct diag d = { 0 };
	int json, rc;
	struct runtime rt;
	struct schedule *v;
	cJSON *arr = NULL;
	size_t n;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0 ||
	    (rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	json = opt_get(opts, "json") != NULL;
	/* A schedule with a problem is left out: say so (config check). */
	schedule_check_config(&rt.cfg, &d);
	print_diag(&d, "oprun: warning: ");
	diag_free(&d);
	schedule_load(&rt.cfg, &v, &n);
	if (json)
		arr = cJSON_CreateArray();
	else
		printf("%-20s %-20s %-14s %-7s %-24s  %-18s %s\n", "NAME", "TYPE",
		    "TENANT", "ENABLED", "NEXT DUE", "LAST RUN", "RULE");
	for (size_t k = 0; k < n; k++)
		schedule_row(&rt, &v[k], now_ms(), arr);
	if (json)
		print_json(arr);
	else if (rt.cfg.nschedules == 0)
		printf("(no [schedule NAME] sections in %s)\n", rt.cfg.file);
	schedule_free_all(v, n);
	runtime_close(&rt);
	return 0;
}

/* Internal: started by `oprun serve` for a due schedule, not by people. */
static int
cmd_schedule_submit(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0)
		return rc;
	return serve_schedules_child(a->config, a->pos[0]);
}

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
worker_should_stop(void *arg)
{
	(void)arg;
	return stop_requested;
}

static int
cmd_worker(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "once", 0, NULL }, { NULL, 0, NULL } };
	struct timespec idle = { 0, 200 * 1000 * 1000 };
	struct sigaction sa;
	struct runtime rt;
	struct worker w;
	char err[1024];
	int rc, once;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0 ||
	    (rc = open_rt(&rt, a, RUNTIME_PLUGINS | RUNTIME_STORE)) != 0)
		return rc;
	if (store_lock_runner(rt.st, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "oprun worker: %s\n", err);
		runtime_close(&rt);
		return EXIT_RUNTIME;
	}
	once = opt_get(opts, "once") != NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	worker_init(&w, &rt, (uint64_t)now_ms());
	while (!stop_requested) {
		long ran = worker_drain(&w, worker_should_stop, NULL, err,
		    sizeof(err));

		if (ran < 0 && !once && store_is_full(rt.st)) {
			worker_wait_for_room(&w, err);
			continue;
		}
		if (ran < 0) {
			log_event(OPRUN_LOG_ERROR, 0, NULL, NULL, "worker: %s",
			    err);
			rc = EXIT_RUNTIME;
			break;
		}
		if (once)
			break;
		if (ran == 0)
			nanosleep(&idle, NULL);
	}
	runtime_close(&rt);
	return rc;
}

static int
cmd_prune(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "older-than", 1, NULL },
		{ "with-documents", 0, NULL }, { NULL, 0, NULL } };
	const char *days_text;
	struct runtime rt;
	uint64_t days, runs, notes, kept;
	char err[1024];
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0)
		return rc;
	days_text = opt_get(opts, "older-than");
	if (days_text == NULL)
		return usage_error(a->cmd, "--older-than DAYS is required "
		    "(whole days, 0 to 36500)");
	if (days_text[0] == '-')
		return usage_error(a->cmd, "--older-than '%s': a number of days "
		    "cannot be negative; give whole days from 0 to 36500",
		    days_text);
	if (parse_u64(days_text, 36500, &days) != 0)
		return usage_error(a->cmd, "--older-than '%s': expected whole "
		    "days from 0 to 36500", days_text);
	if ((rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	if (store_prune(rt.st, now_ms() - (int64_t)days * 86400000,
	    opt_get(opts, "with-documents") != NULL, &runs, &notes, &kept,
	    err, sizeof(err)) != 0) {
		complain(a->cmd, "%s", err);
		rc = EXIT_RUNTIME;
	} else {
		printf("pruned %llu terminal runs and %llu notifications older "
		    "than %llu days\n", (unsigned long long)runs,
		    (unsigned long long)notes, (unsigned long long)days);
		if (kept > 0)
			printf("kept %llu runs that hold documents (backups, "
			    "previews); add --with-documents to prune them "
			    "too\n", (unsigned long long)kept);
	}
	runtime_close(&rt);
	return rc;
}

static void
report_problem(const char *problem, void *arg)
{
	(void)arg;
	printf("problem: %s\n", problem);
}

static int
cmd_check_store(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct runtime rt;
	char err[1024];
	long problems;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0 ||
	    (rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	problems = store_check(rt.st, report_problem, NULL, err, sizeof(err));
	if (problems < 0) {
		complain(a->cmd, "%s", err);
		rc = EXIT_RUNTIME;
	} else if (problems > 0) {
		printf("store %s: %ld problems\n", rt.cfg.store_path, problems);
		rc = EXIT_RUNTIME;
	} else {
		printf("store OK\n");
	}
	runtime_close(&rt);
	return rc;
}

/* store backup DIR: a hot, compacted copy (LMDB's own copy). */
static int
cmd_store(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct runtime rt;
	char err[1024];
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 2, 2)) != 0)
		return rc;
	if (strcmp(a->pos[0], "backup") != 0)
		return usage_error(a->cmd, "unknown subcommand '%s' (expected "
		    "backup DIR)", a->pos[0]);
	if ((rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	if (store_backup(rt.st, a->pos[1], err, sizeof(err)) != 0) {
		fprintf(stderr, "oprun store backup: %s\n", err);
		rc = EXIT_RUNTIME;
	} else {
		printf("backup of %s written to %s/data.mdb; to restore it, "
		    "stop oprun and copy it over the store's data.mdb\n",
		    rt.cfg.store_path, a->pos[1]);
	}
	runtime_close(&rt);
	return rc;
}

static int
cmd_serve(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0)
		return rc;
	return supervisor_serve(a->config);
}

/* Internal: started by `oprun serve`, not by people. */
static int
cmd_executor(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "epoch", 1, NULL }, { "control-fd", 1, NULL },
		{ "heartbeat-fd", 1, NULL }, { NULL, 0, NULL } };
	uint64_t epoch, fd, beat = 0;
	const char *beat_text;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0)
		return rc;
	if (opt_get(opts, "epoch") == NULL ||
	    parse_u64(opt_get(opts, "epoch"), UINT64_MAX, &epoch) != 0 ||
	    opt_get(opts, "control-fd") == NULL ||
	    parse_u64(opt_get(opts, "control-fd"), 1024, &fd) != 0)
		return usage_error(a->cmd, "is started by `oprun serve`, with "
		    "--epoch N --control-fd FD [--heartbeat-fd FD]");
	beat_text = opt_get(opts, "heartbeat-fd");
	if (beat_text != NULL && parse_u64(beat_text, 1024, &beat) != 0)
		return usage_error(a->cmd, "--heartbeat-fd %s: not a file "
		    "descriptor", beat_text);
	return executor_main(a->config, epoch, (int)fd,
	    beat_text != NULL ? (int)beat : -1);
}

static const struct {
	const char *name;
	int (*fn)(struct args *, int, char **, int);
} commands[] = {
	{ "submit", cmd_submit }, { "runs", cmd_runs }, { "show", cmd_show },
	{ "wait", cmd_wait }, { "cancel", cmd_cancel },
	{ "notifications", cmd_notifications }, { "plugins", cmd_plugins },
	{ "config", cmd_config }, { "worker", cmd_worker },
	{ "prune", cmd_prune }, { "check-store", cmd_check_store },
	{ "store", cmd_store }, { "serve", cmd_serve },
	{ "executor", cmd_executor }, { "keygen", cmd_keygen },
	{ "docs", cmd_docs }, { "export", cmd_export },
	{ "backups", cmd_backups }, { "directory", cmd_directory },
	{ "schedules", cmd_schedules },
	{ "schedule-submit", cmd_schedule_submit },
};

/*
 * Standard descriptors a parent left closed are opened read-only on
 * /dev/null: otherwise the store could open its files as descriptor 1 or
 * 2 and printf would write into them; this way a write to a closed
 * stdout fails (EBADF), and finish_output reports it.
 */
static void
guard_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		got = open("/dev/null", O_RDONLY);
		if (got != -1 && got != fd) {
			dup2(got, fd);
			close(got);
		}
	}
}

/* Output that could not be written is an error: a full disk, a closed
 * pipe or a closed stdout ends the command with status 1 and one line on
 * stderr, never with status 0 and the output silently lost. */
static int
finish_output(const char *cmd, int rc)
{
	int failed, e = 0;

	errno = 0;
	failed = fflush(stdout) != 0;
	if (failed)
		e = errno;
	failed |= ferror(stdout) != 0;
	if (fclose(stdout) != 0 && !failed) {
		failed = 1;
		e = errno;
	}
	if (!failed)
		return rc;
	complain(cmd, "cannot write to standard output: %s", e != 0 ?
	    strerror(e) : "write error");
	return EXIT_RUNTIME;
}

static int
run_command(struct args *a, int argc, char **argv)
{
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		a->config = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	a->cmd = argv[i];
	if (strcmp(a->cmd, "help") == 0 || strcmp(a->cmd, "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(commands[k].name, a->cmd) == 0)
			return commands[k].fn(a, argc, argv, i + 1);
	complain(NULL, "unknown command '%s'; see `oprun help`", a->cmd);
	return EXIT_USAGE;
}

int
cli_main(int argc, char **argv)
{
	struct args a = { 0 };
	int rc;

	/* A closed pipe must be an error we report (EPIPE), not a silent
	 * death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	guard_std_fds();
	rc = run_command(&a, argc, argv);
	return finish_output(a.cmd, rc);
}
