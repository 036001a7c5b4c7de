/* Unit tests for store.c, through store.h: lifecycle, dedupe, queue,
 * listing, notifications, key/value, prune, check and a full map. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store.h"
#include "testutil.h"

/* The error buffer every store call gets. */
#define ERR f->err, sizeof(f->err)
/* An expected list of run ids and its length. */
#define IDS(...) (const uint64_t[]){ __VA_ARGS__ }, \
	sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t)
#define FILTER(...) (struct run_filter){ __VA_ARGS__ }

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	struct store *st;
	enum run_state after;	/* of the last cancel() */
	char err[1024];
};

static const struct store_claimant claimant = { .epoch = 7, .pid = 4242,
	.start = 99, .actor = "worker:test" };

static int
open_store(struct fixture *f, uint64_t map_size_mb)
{
	struct store_options o = { f->path, map_size_mb, 0, "test.ini" };

	return store_open(&f->st, &o, ERR);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_mkdtemp(f->dir, sizeof(f->dir), "oprun-store");
	snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
	if (open_store(f, 64) != 0)
		fail_msg("store_open: %s", f->err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Submits a run whose identity is the label `identity`. */
static struct store_submit_result
submit_full(struct fixture *f, const char *tenant, const char *type,
    const char *initiator, const char *identity, const char *payload)
{
	struct store_submit_result res;
	struct run r = { 0 };

	r.tenant = strdup(tenant);
	r.type = strdup(type);
	r.initiator = strdup(initiator);
	r.payload = strdup(payload);
	memcpy(r.dedupe_key, identity,
	    strnlen(identity, sizeof(r.dedupe_key)));
	if (store_submit(f->st, &r, "cli:test", &res, ERR) != 0)
		fail_msg("store_submit: %s", f->err);
	if (!res.deduplicated)
		assert_int_equal(r.id, res.id);
	run_free(&r);
	return res;
}

static uint64_t
submit(struct fixture *f, const char *identity)
{
	return submit_full(f, "contoso", "test-items", "alice", identity,
	    "{}").id;
}

static int
claim(struct fixture *f, struct run *out)
{
	return store_claim(f->st, &claimant, NULL, NULL, out, ERR);
}

static int
finish(struct fixture *f, const struct run *r, enum run_state to)
{
	return store_finish(f->st, r, to, "worker:test", ERR);
}

static int
cancel(struct fixture *f, uint64_t id)
{
	return store_cancel(f->st, id, "cli:alice", &f->after, ERR);
}

static void
get(struct fixture *f, uint64_t id, struct run *r)
{
	if (store_get_run(f->st, id, r, ERR) != 0)
		fail_msg("run %llu: not found: %s", (unsigned long long)id,
		    f->err);
}

static enum run_state
state_of(struct fixture *f, uint64_t id)
{
	struct run r;
	enum run_state s;

	get(f, id, &r);
	s = r.state;
	run_free(&r);
	return s;
}

static void
report(const char *problem, void *arg)
{
	(void)arg;
	print_error("store_check: %s\n", problem);
}

static void
assert_healthy(struct fixture *f)
{
	assert_int_equal(store_check(f->st, report, NULL, ERR), 0);
}

/* Lists runs with filter fl (limit 0 = 100) and checks their ids. */
static void
assert_list(struct fixture *f, struct run_filter fl, const uint64_t *want,
    size_t nwant)
{
	struct run *v;
	size_t n;

	if (fl.limit == 0)
		fl.limit = 100;
	assert_int_equal(store_list_runs(f->st, &fl, &v, &n, ERR), 0);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].id, want[i]);
	store_runs_free(v, n);
}

static size_t
notes_of(struct fixture *f, const char *user, int unread_only,
    struct notification **v, uint64_t *unread)
{
	size_t n;

	assert_int_equal(store_notifications(f->st, user, unread_only, 100, v,
	    &n, unread, ERR), 0);
	return n;
}

/* Asserts user has n notifications, the newest about run_id in state s
 * (with reason, unless NULL). */
static void
assert_newest_note(struct fixture *f, const char *user, size_t n,
    uint64_t run_id, enum run_state s, const char *reason)
{
	struct notification *v;
	uint64_t unread;

	assert_int_equal(notes_of(f, user, 0, &v, &unread), n);
	assert_int_equal(v[0].run_id, run_id);
	assert_int_equal(v[0].state, s);
	assert_int_equal(v[0].kind, s == RUN_QUEUED ? NOTIFY_QUEUED :
	    NOTIFY_FINISHED);
	if (reason != NULL)
		assert_string_equal(v[0].reason, reason);
	store_notifications_free(v, n);
}

static void
submit_creates_queued_runs_numbered_from_one(void **state)
{
	struct fixture *f = *state;
	struct store_submit_result res;
	struct run r;

	res = submit_full(f, "contoso", "test-items", "alice", "one",
	    "{\"n\":1}");
	assert_int_equal(res.id, 1);
	assert_false(res.deduplicated);
	assert_int_equal(res.state, RUN_QUEUED);
	assert_int_equal(submit(f, "two"), 2);
	get(f, 1, &r);
	assert_int_equal(r.state, RUN_QUEUED);
	assert_int_equal(r.attempt, 1);
	assert_string_equal(r.tenant, "contoso");
	assert_string_equal(r.payload, "{\"n\":1}");
	assert_null(r.target);
	assert_true(r.created_at > 0);
	assert_int_equal(r.nhistory, 1);
	assert_string_equal(r.history[0].actor, "cli:test");
	run_free(&r);
	assert_int_equal(store_get_run(f->st, 3, &r, ERR), 1);
	assert_newest_note(f, "alice", 2, 2, RUN_QUEUED, NULL);
	assert_healthy(f);
}

static void
a_duplicate_submit_returns_the_active_run_and_adds_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_submit_result res;
	struct notification *v;
	uint64_t unread;
	struct run r;

	assert_int_equal(submit(f, "same"), 1);
	res = submit_full(f, "contoso", "test-items", "bob", "same",
	    "{\"other\":true}");
	assert_int_equal(res.id, 1);
	assert_true(res.deduplicated);
	assert_int_equal(res.state, RUN_QUEUED);
	assert_list(f, FILTER(.limit = 10), IDS(1));
	assert_newest_note(f, "alice", 1, 1, RUN_QUEUED, NULL);
	assert_int_equal(notes_of(f, "bob", 0, &v, &unread), 0);
	/* A running run still deduplicates, and says it is running. */
	assert_int_equal(claim(f, &r), 1);
	res = submit_full(f, "contoso", "test-items", "alice", "same", "{}");
	assert_int_equal(res.id, 1);
	assert_true(res.deduplicated);
	assert_int_equal(res.state, RUN_RUNNING);
	run_free(&r);
	assert_healthy(f);
}

static void
claim_takes_the_oldest_queued_run_and_0_when_empty(void **state)
{
	struct fixture *f = *state;
	struct run r;

	assert_int_equal(claim(f, &r), 0);
	submit(f, "k1");
	submit(f, "k2");
	submit(f, "k3");
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(claim(f, &r), 1);
		assert_int_equal(r.id, id);
		assert_int_equal(r.state, RUN_RUNNING);
		assert_true(r.started_at > 0);
		assert_int_equal(r.claim_pid, claimant.pid);
		assert_int_equal(r.claim_epoch, claimant.epoch);
		run_free(&r);
		assert_int_equal(state_of(f, id), RUN_RUNNING);
	}
	assert_int_equal(claim(f, &r), 0);
	assert_healthy(f);
}

static const char *
refuse_x(const char *type, void *arg)
{
	(*(int *)arg)++;
	return strcmp(type, "x") == 0 ? "no plugin provides operation 'x'" :
	    NULL;
}

static void
refused_runs_fail_with_the_reason_and_release_their_identity(void **state)
{
	static const char why[] = "no plugin provides operation 'x'";
	struct fixture *f = *state;
	int calls = 0;
	struct run r;

	submit_full(f, "contoso", "x", "alice", "ix", "{}");
	submit_full(f, "contoso", "test-items", "bob", "iy", "{}");
	submit_full(f, "contoso", "x", "carol", "iz", "{}");
	assert_int_equal(store_claim(f->st, &claimant, refuse_x, &calls, &r,
	    ERR), 1);
	assert_int_equal(r.id, 2);
	run_free(&r);
	get(f, 1, &r);
	assert_int_equal(r.state, RUN_FAILED);
	assert_string_equal(r.reason, why);
	assert_true(r.finished_at > 0);
	run_free(&r);
	assert_newest_note(f, "alice", 2, 1, RUN_FAILED, why);
	/* Only refused runs are left: they are failed, and saved, too. */
	assert_int_equal(store_claim(f->st, &claimant, refuse_x, &calls, &r,
	    ERR), 0);
	assert_int_equal(state_of(f, 3), RUN_FAILED);
	assert_newest_note(f, "carol", 2, 3, RUN_FAILED, why);
	assert_int_equal(calls, 3);
	/* The identity was released: the same submit makes a new run. */
	assert_int_equal(submit_full(f, "contoso", "x", "alice", "ix",
	    "{}").id, 4);
	assert_healthy(f);
}

static void
progress_saves_counts_and_reports_a_cancel_request(void **state)
{
	struct fixture *f = *state;
	int cancel_requested = -1;
	struct run r, got;

	submit(f, "p");
	assert_int_equal(claim(f, &r), 1);
	r.counts = (struct run_counts){ 10, 3, 2, 1, 0 };
	run_add_failure(&r, "item-3", "broken");
	assert_int_equal(store_progress(f->st, &r, NULL, &cancel_requested, ERR), 0);
	assert_int_equal(cancel_requested, 0);
	get(f, r.id, &got);
	assert_int_equal(got.counts.total, 10);
	assert_int_equal(got.counts.processed, 3);
	assert_int_equal(got.counts.failed, 1);
	assert_int_equal(got.nfailures, 1);
	assert_string_equal(got.failures[0].item, "item-3");
	run_free(&got);
	assert_int_equal(cancel(f, r.id), 0);
	assert_int_equal(f->after, RUN_RUNNING);
	assert_int_equal(store_progress(f->st, &r, NULL, &cancel_requested, ERR), 0);
	assert_int_equal(cancel_requested, 1);
	/* Someone who does not hold the claim cannot report progress. */
	r.claim_pid++;
	assert_int_equal(store_progress(f->st, &r, NULL, &cancel_requested, ERR), 1);
	run_free(&r);
	assert_healthy(f);
}

static void
finishing_releases_identity_and_notifies_with_counts(void **state)
{
	static const enum run_state ends[] = { RUN_SUCCEEDED, RUN_PARTIAL,
		RUN_FAILED, RUN_CANCELED };
	struct fixture *f = *state;
	struct notification *v;
	uint64_t unread;
	struct run r;

	for (uint64_t i = 0; i < 4; i++) {
		/* The same identity each time: only a release allows it. */
		assert_int_equal(submit(f, "same"), i + 1);
		assert_int_equal(claim(f, &r), 1);
		r.counts = (struct run_counts){ 4, 4, 3, 1, 0 };
		r.result = strdup("{\"done\":true}");
		r.reason = strdup("why");
		assert_int_equal(finish(f, &r, ends[i]), 0);
		run_free(&r);
		get(f, i + 1, &r);
		assert_int_equal(r.state, ends[i]);
		assert_true(r.finished_at >= r.started_at);
		assert_int_equal(r.counts.succeeded, 3);
		assert_string_equal(r.result, "{\"done\":true}");
		assert_string_equal(r.reason, "why");
		run_free(&r);
		assert_newest_note(f, "alice", (i + 1) * 2, i + 1, ends[i],
		    "why");
		notes_of(f, "alice", 0, &v, &unread);
		assert_int_equal(v[0].counts.total, 4);
		assert_int_equal(v[0].counts.failed, 1);
		store_notifications_free(v, (i + 1) * 2);
	}
	assert_healthy(f);
}

static void
finishing_as_queued_retries_with_the_next_attempt(void **state)
{
	struct fixture *f = *state;
	struct run r;

	submit(f, "retry");
	assert_int_equal(claim(f, &r), 1);
	assert_int_equal(finish(f, &r, RUN_QUEUED), 0);
	run_free(&r);
	assert_int_equal(state_of(f, 1), RUN_QUEUED);
	/* Still the active run of its identity, and nobody was told. */
	assert_true(submit_full(f, "contoso", "test-items", "alice", "retry",
	    "{}").deduplicated);
	assert_newest_note(f, "alice", 1, 1, RUN_QUEUED, NULL);
	assert_int_equal(claim(f, &r), 1);
	assert_int_equal(r.id, 1);
	assert_int_equal(r.attempt, 2);
	run_free(&r);
	assert_healthy(f);
}

static void
illegal_transitions_are_refused(void **state)
{
	struct fixture *f = *state;
	struct run r;

	submit(f, "a");
	get(f, 1, &r);
	/* Finishing a queued run: it is not running. */
	assert_int_equal(finish(f, &r, RUN_SUCCEEDED), 1);
	run_free(&r);
	assert_int_equal(state_of(f, 1), RUN_QUEUED);
	assert_int_equal(claim(f, &r), 1);
	assert_int_equal(finish(f, &r, RUN_RUNNING), -1);
	assert_non_null(strstr(f->err, "run 1 is running; it cannot become "
	    "running"));
	assert_int_equal(finish(f, &r, RUN_SUCCEEDED), 0);
	/* Terminal states never change. */
	assert_int_equal(finish(f, &r, RUN_FAILED), 1);
	run_free(&r);
	assert_int_equal(cancel(f, 1), -1);
	assert_non_null(strstr(f->err, "run 1 is already succeeded"));
	assert_int_equal(state_of(f, 1), RUN_SUCCEEDED);
	assert_int_equal(cancel(f, 99), 1);
	assert_non_null(strstr(f->err, "run 99 does not exist"));
	assert_healthy(f);
}

static void
cancel_of_a_queued_run_cancels_it_at_once(void **state)
{
	struct fixture *f = *state;
	struct run r;

	submit(f, "c");
	assert_int_equal(cancel(f, 1), 0);
	assert_int_equal(f->after, RUN_CANCELED);
	get(f, 1, &r);
	assert_int_equal(r.state, RUN_CANCELED);
	assert_string_equal(r.reason, "canceled by cli:alice");
	run_free(&r);
	assert_int_equal(claim(f, &r), 0);
	assert_newest_note(f, "alice", 2, 1, RUN_CANCELED,
	    "canceled by cli:alice");
	assert_int_equal(submit(f, "c"), 2);
	assert_healthy(f);
}

static void
list_runs_filters_newest_first_and_pages(void **state)
{
	static const char *const tenants[] = { "a", "b" };
	static const char *const types[] = { "x", "y" };
	static const char *const users[] = { "alice", "bob" };
	struct fixture *f = *state;
	struct run r;

	/* Ids 1-8: tenant = bit 2, type = bit 1, initiator = bit 0. */
	for (int i = 0; i < 8; i++) {
		char key[16];

		snprintf(key, sizeof(key), "r%d", i);
		submit_full(f, tenants[i >> 2], types[(i >> 1) & 1],
		    users[i & 1], key, "{}");
	}
	assert_int_equal(claim(f, &r), 1);	/* run 1 is running */
	run_free(&r);
	assert_list(f, FILTER(0), IDS(8, 7, 6, 5, 4, 3, 2, 1));
	assert_list(f, FILTER(.tenant = "a"), IDS(4, 3, 2, 1));
	assert_list(f, FILTER(.type = "y"), IDS(8, 7, 4, 3));
	assert_list(f, FILTER(.initiator = "bob"), IDS(8, 6, 4, 2));
	assert_list(f, FILTER(.has_state = 1, .state = RUN_RUNNING), IDS(1));
	assert_list(f, FILTER(.has_state = 1, .state = RUN_QUEUED,
	    .limit = 3), IDS(8, 7, 6));
	assert_list(f, FILTER(.tenant = "b", .type = "x",
	    .initiator = "alice"), IDS(5));
	assert_list(f, FILTER(.tenant = "a", .initiator = "alice",
	    .has_state = 1, .state = RUN_QUEUED), IDS(3));
	assert_list(f, FILTER(.tenant = "nobody"), NULL, 0);
	/* Paging: limit, then before_id = the last id seen. */
	assert_list(f, FILTER(.limit = 3), IDS(8, 7, 6));
	assert_list(f, FILTER(.before_id = 6, .limit = 3), IDS(5, 4, 3));
	assert_list(f, FILTER(.before_id = 3, .limit = 3), IDS(2, 1));
	assert_list(f, FILTER(.initiator = "alice", .before_id = 5,
	    .limit = 1), IDS(3));
	assert_list(f, FILTER(.tenant = "b", .before_id = 100), IDS(8, 7, 6,
	    5));
}

static void
notifications_list_unread_first_and_are_marked_read(void **state)
{
	struct fixture *f = *state;
	struct notification *v;
	uint64_t unread, marked, id2;
	size_t n;

	submit(f, "n1");
	submit(f, "n2");
	submit(f, "n3");
	submit_full(f, "contoso", "test-items", "bob", "bob", "{}");
	assert_int_equal(notes_of(f, "alice", 0, &v, &unread), 3);
	assert_int_equal(unread, 3);
	assert_int_equal(v[0].run_id, 3);
	assert_int_equal(v[2].run_id, 1);
	id2 = v[1].id;
	store_notifications_free(v, 3);
	assert_int_equal(store_notifications_mark_read(f->st, "alice", id2,
	    &marked, ERR), 0);
	assert_int_equal(marked, 1);
	n = notes_of(f, "alice", 0, &v, &unread);
	assert_int_equal(n, 3);
	assert_int_equal(unread, 2);
	assert_int_equal(v[0].run_id, 3);
	assert_int_equal(v[1].run_id, 1);
	assert_int_equal(v[2].run_id, 2);	/* read ones come last */
	assert_true(v[2].read);
	store_notifications_free(v, n);
	n = notes_of(f, "alice", 1, &v, &unread);
	assert_int_equal(n, 2);
	assert_false(v[0].read || v[1].read);
	store_notifications_free(v, n);
	/* Marking it again changes nothing; bob's is not alice's. */
	assert_int_equal(store_notifications_mark_read(f->st, "alice", id2,
	    &marked, ERR), 0);
	assert_int_equal(marked, 0);
	assert_int_equal(store_notifications_mark_read(f->st, "alice", 4,
	    &marked, ERR), 1);
	assert_non_null(strstr(f->err, "is not one of alice's"));
	assert_int_equal(store_notifications_mark_read(f->st, "alice", 0,
	    &marked, ERR), 0);
	assert_int_equal(marked, 2);
	assert_int_equal(notes_of(f, "alice", 1, &v, &unread), 0);
	assert_int_equal(unread, 0);
	n = notes_of(f, "bob", 1, &v, &unread);
	assert_int_equal(unread, 1);
	store_notifications_free(v, n);
}

static void
kv_values_are_scoped_per_plugin(void **state)
{
	struct fixture *f = *state;
	char buf[64] = "";
	size_t len = 0;

	assert_int_equal(store_kv_put(f->st, "p1", "k", "one", 3, ERR), 0);
	assert_int_equal(store_kv_put(f->st, "p2", "k", "two!", 4, ERR), 0);
	assert_int_equal(store_kv_get(f->st, "p1", "k", buf, 64, &len, ERR), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(store_kv_get(f->st, "p2", "k", buf, 64, &len, ERR), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "two!", 4);
	assert_int_equal(store_kv_get(f->st, "p3", "k", buf, 64, &len, ERR), 1);
	/* A small buffer gets a prefix, and len says how much there is. */
	assert_int_equal(store_kv_put(f->st, "p1", "long", "hello world", 11,
	    ERR), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(store_kv_get(f->st, "p1", "long", buf, 5, &len, ERR),
	    0);
	assert_int_equal(len, 11);
	assert_string_equal(buf, "hello");
	assert_int_equal(store_kv_delete(f->st, "p1", "k", ERR), 0);
	assert_int_equal(store_kv_get(f->st, "p1", "k", buf, 64, &len, ERR), 1);
	assert_int_equal(store_kv_get(f->st, "p2", "k", buf, 64, &len, ERR), 0);
	assert_int_equal(store_kv_delete(f->st, "p1", "k", ERR), 0);
	assert_int_equal(store_kv_put(f->st, "p1", "", "x", 1, ERR), -1);
}

static void
prune_removes_only_terminal_runs_finished_before_the_cutoff(void **state)
{
	struct fixture *f = *state;
	uint64_t runs, notes, kept;
	int64_t cutoff;
	struct run r;

	submit(f, "A");		/* 1: succeeded before the cutoff */
	submit(f, "B");		/* 2: canceled before the cutoff */
	submit(f, "E");		/* 3: running */
	submit(f, "D");		/* 4: queued */
	assert_int_equal(claim(f, &r), 1);
	assert_int_equal(finish(f, &r, RUN_SUCCEEDED), 0);
	run_free(&r);
	assert_int_equal(cancel(f, 2), 0);
	assert_int_equal(claim(f, &r), 1);
	run_free(&r);
	sleep_ms(5);
	cutoff = wall_ms();
	sleep_ms(5);
	submit(f, "C");		/* 5: canceled after the cutoff */
	assert_int_equal(cancel(f, 5), 0);
	assert_int_equal(store_prune(f->st, cutoff, 0, &runs, &notes, &kept, ERR),
	    0);
	assert_int_equal(kept, 0);
	assert_int_equal(runs, 2);
	/* 4 queued notifications, 1 succeeded, 1 canceled. */
	assert_int_equal(notes, 6);
	assert_int_equal(store_get_run(f->st, 1, &r, ERR), 1);
	assert_list(f, FILTER(0), IDS(5, 4, 3));
	assert_list(f, FILTER(.has_state = 1, .state = RUN_SUCCEEDED), NULL,
	    0);
	assert_list(f, FILTER(.tenant = "contoso"), IDS(5, 4, 3));
	assert_newest_note(f, "alice", 2, 5, RUN_CANCELED, NULL);
	assert_healthy(f);
	/* Ids are never reused after a prune. */
	assert_int_equal(submit(f, "F"), 6);
}

static void
a_reopened_store_keeps_its_runs_and_counters(void **state)
{
	struct fixture *f = *state;

	submit(f, "1");
	submit(f, "2");
	store_close(f->st);
	f->st = NULL;
	if (open_store(f, 64) != 0)
		fail_msg("reopen: %s", f->err);
	assert_int_equal(state_of(f, 2), RUN_QUEUED);
	assert_true(submit_full(f, "contoso", "test-items", "alice", "2",
	    "{}").deduplicated);
	assert_int_equal(submit(f, "3"), 3);
	assert_healthy(f);
}

static void
opening_a_regular_file_fails_with_a_message(void **state)
{
	struct fixture *f = *state;
	struct store_options o = { NULL, 64, 0, NULL };
	char file[PATH_MAX + 16], err[1024] = "";
	struct store *st = NULL;

	snprintf(file, sizeof(file), "%s/plain", f->dir);
	tu_write_file(file, "");
	o.path = file;
	assert_int_equal(store_open(&st, &o, err, sizeof(err)), -1);
	assert_null(st);
	assert_non_null(strstr(err, file));
	assert_non_null(strstr(err, "Not a directory"));
}

static void
a_full_map_fails_naming_map_size_mb_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	size_t big = 100 * 1024, ok = 0;
	char *payload = malloc(big + 16);
	struct run *v;
	size_t n;
	int rc = 0;

	assert_non_null(payload);
	store_close(f->st);
	f->st = NULL;
	snprintf(f->path, sizeof(f->path), "%s/small", f->dir);
	if (open_store(f, 1) != 0)
		fail_msg("store_open: %s", f->err);
	memset(payload, 'x', big);
	memcpy(payload, "{\"x\":\"", 6);
	memcpy(payload + big - 2, "\"}", 3);
	for (int i = 0; i < 100 && rc == 0; i++) {
		struct store_submit_result res;
		struct run r = { 0 };

		r.tenant = strdup("contoso");
		r.type = strdup("test-items");
		r.initiator = strdup("alice");
		r.payload = strdup(payload);
		snprintf((char *)r.dedupe_key, sizeof(r.dedupe_key), "%d", i);
		rc = store_submit(f->st, &r, "cli:test", &res, ERR);
		ok += rc == 0;
		run_free(&r);
	}
	free(payload);
	assert_int_equal(rc, -1);
	assert_true(ok > 0);
	assert_non_null(strstr(f->err, "map_size_mb"));
	assert_non_null(strstr(f->err, "test.ini"));
	assert_healthy(f);
	assert_int_equal(store_list_runs(f->st, &FILTER(.limit = 1000), &v,
	    &n, ERR), 0);
	assert_int_equal(n, ok);
	store_runs_free(v, n);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(submit_creates_queued_runs_numbered_from_one),
		T(a_duplicate_submit_returns_the_active_run_and_adds_nothing),
		T(claim_takes_the_oldest_queued_run_and_0_when_empty),
		T(refused_runs_fail_with_the_reason_and_release_their_identity),
		T(progress_saves_counts_and_reports_a_cancel_request),
		T(finishing_releases_identity_and_notifies_with_counts),
		T(finishing_as_queued_retries_with_the_next_attempt),
		T(illegal_transitions_are_refused),
		T(cancel_of_a_queued_run_cancels_it_at_once),
		T(list_runs_filters_newest_first_and_pages),
		T(notifications_list_unread_first_and_are_marked_read),
		T(kv_values_are_scoped_per_plugin),
		T(prune_removes_only_terminal_runs_finished_before_the_cutoff),
		T(a_reopened_store_keeps_its_runs_and_counters),
		T(opening_a_regular_file_fails_with_a_message),
		T(a_full_map_fails_naming_map_size_mb_and_writes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
