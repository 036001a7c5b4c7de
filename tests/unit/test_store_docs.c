/* Unit tests for the store's documents and directory cache (store.h):
 * batching with progress, requeue and prune, streaming lists, snapshot
 * generations, case-insensitive lookup and check-store. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "testutil.h"

#define ERR f->err, sizeof(f->err)

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	struct store *st;
	char err[1024];
};

static const struct store_claimant claimant = { .epoch = 7, .pid = 4242,
	.start = 99, .actor = "worker:test" };

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_options o = { f->path, 64, 0, "test.ini" };

	assert_non_null(f);
	tu_mkdtemp(f->dir, sizeof(f->dir), "oprun-docs");
	snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
	if (store_open(&f->st, &o, ERR) != 0)
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

/* Submits and claims one run of type t; r is the claimed run. */
static void
claim_one(struct fixture *f, const char *t, struct run *r)
{
	struct run s = { 0 };
	struct store_submit_result res;

	s.tenant = strdup("contoso");
	s.type = strdup(t);
	s.initiator = strdup("alice");
	s.payload = strdup("{}");
	memset(s.dedupe_key, (int)strlen(t), sizeof(s.dedupe_key));
	s.created_at = 1;
	assert_int_equal(store_submit(f->st, &s, "test", &res, ERR), 0);
	run_free(&s);
	assert_int_equal(store_claim(f->st, &claimant, NULL, NULL, r, ERR), 1);
}

static void
put_docs(struct fixture *f, const struct run *r, int from, int n)
{
	struct store_writes w = { 0 };
	int cancel;

	for (int i = from; i < from + n; i++) {
		char name[32], json[64];

		snprintf(name, sizeof(name), "d/%03d.json", i);
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		assert_int_equal(store_writes_add_doc(&w, name, json,
		    strlen(json)), 0);
	}
	assert_int_equal(store_progress(f->st, r, &w, &cancel, ERR), 0);
	store_writes_clear(&w);
}

static void
put_docs_named(struct fixture *f, const struct run *r, const char *name)
{
	struct store_writes w = { 0 };
	int cancel;

	assert_int_equal(store_writes_add_doc(&w, name, "{}", 2), 0);
	assert_int_equal(store_progress(f->st, r, &w, &cancel, ERR), 0);
	store_writes_clear(&w);
}

struct seen {
	int n;
	char last[64];
	int stop_at;
};

static int
see_doc(void *arg, const char *name, const char *json, size_t len)
{
	struct seen *s = arg;

	assert_true(strcmp(name, s->last) > 0);
	assert_int_equal(strlen(json), len);
	snprintf(s->last, sizeof(s->last), "%s", name);
	return ++s->n == s->stop_at ? 7 : 0;
}

static void
documents_are_saved_with_progress_and_listed_in_order(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	struct run r;
	char *json;
	size_t len;
	uint64_t n, bytes;

	claim_one(f, "a", &r);
	put_docs(f, &r, 0, 300);
	assert_int_equal(store_doc_list(f->st, r.id, "d/", "", see_doc, &s,
	    ERR), 0);
	assert_int_equal(s.n, 300);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_doc_list(f->st, r.id, "d/1", "d/150.json",
	    see_doc, &s, ERR), 0);
	assert_int_equal(s.n, 49);	/* d/151 .. d/199 */
	memset(&s, 0, sizeof(s));
	put_docs_named(f, &r, "a.json");
	assert_int_equal(store_doc_list(f->st, r.id, "d/2", "a", see_doc, &s,
	    ERR), 0);
	assert_int_equal(s.n, 100);	/* d/200 .. d/299, after "a" */
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	assert_int_equal(store_doc_list(f->st, r.id, "", "", see_doc, &s,
	    ERR), 7);
	assert_int_equal(store_doc_get(f->st, r.id, "d/042.json", &json, &len,
	    ERR), 0);
	assert_string_equal(json, "{\"n\":42}");
	free(json);
	assert_int_equal(store_doc_get(f->st, r.id, "d/nope", &json, &len,
	    ERR), 1);
	assert_int_equal(store_doc_count(f->st, r.id, &n, &bytes, ERR), 0);
	assert_int_equal(n, 301);
	assert_int_equal(store_doc_count(f->st, r.id + 1, &n, &bytes, ERR), 0);
	assert_int_equal(n, 0);
	run_free(&r);
}

static void
a_requeued_run_loses_its_documents_a_lost_one_writes_none(void **state)
{
	struct fixture *f = *state;
	struct store_writes w = { 0 };
	struct run r, again;
	uint64_t n, bytes;
	int cancel;

	claim_one(f, "a", &r);
	put_docs(f, &r, 0, 10);
	assert_int_equal(store_resolve(f->st, r.id, claimant.epoch,
	    claimant.pid, RUN_QUEUED, "supervisor", "crash", ERR), 0);
	assert_int_equal(store_doc_count(f->st, r.id, &n, &bytes, ERR), 0);
	assert_int_equal(n, 0);
	/* The old claim no longer holds the run: its writes are refused. */
	assert_int_equal(store_writes_add_doc(&w, "x.json", "1", 1), 0);
	assert_int_equal(store_progress(f->st, &r, &w, &cancel, ERR), 1);
	store_writes_clear(&w);
	assert_int_equal(store_doc_count(f->st, r.id, &n, &bytes, ERR), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_claim(f->st, &claimant, NULL, NULL, &again,
	    ERR), 1);
	assert_int_equal(again.attempt, 2);
	put_docs(f, &again, 0, 2);
	assert_int_equal(store_finish(f->st, &again, RUN_SUCCEEDED, "w", ERR),
	    0);
	assert_int_equal(store_doc_count(f->st, r.id, &n, &bytes, ERR), 0);
	assert_int_equal(n, 2);
	run_free(&r);
	run_free(&again);
}

static void
add_rows(struct store_writes *w, uint64_t gen, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++) {
		char id[16];

		snprintf(id, sizeof(id), "g%d", i);
		assert_int_equal(store_writes_add_row(w, "contoso", "groups",
		    gen, id, names[i], "{}"), 0);
	}
}

static int
count_hit(void *arg, const char *id, const char *name, const char *json)
{
	(void)id;
	(void)name;
	(void)json;
	(*(int *)arg)++;
	return 0;
}

static void
snapshots_flip_in_one_commit(void **state)
{
	struct fixture *f = *state;
	const char *const first[] = { "HR", "Finance", "hr", NULL };
	const char *const second[] = { "New", NULL };
	struct store_writes w = { 0 };
	struct store_dir_info info;
	struct run r;
	uint64_t gen, gen2, count;
	size_t hits;
	int cancel, called = 0;
	char *name, *json;

	claim_one(f, "sync", &r);
	assert_int_equal(store_dir_begin(f->st, r.id, "contoso", "groups",
	    &gen, ERR), 0);
	add_rows(&w, gen, first);
	assert_int_equal(store_progress(f->st, &r, &w, &cancel, ERR), 0);
	store_writes_clear(&w);
	/* Not visible before the commit. */
	assert_int_equal(store_dir_get(f->st, "contoso", "groups", "g0", &name,
	    &json, ERR), 1);
	assert_int_equal(store_dir_commit(f->st, "contoso", "groups", gen, 1000,
	    &count, ERR), 0);
	assert_int_equal(count, 3);
	assert_int_equal(store_dir_find(f->st, "contoso", "groups", "hR",
	    count_hit, &called, &hits, ERR), 0);
	assert_int_equal(hits, 2);
	assert_int_equal(called, 2);
	assert_int_equal(store_dir_info(f->st, "contoso", "groups", &info,
	    ERR), 0);
	assert_int_equal(info.synced_at, 1000);
	assert_int_equal(store_dir_info(f->st, "fabrikam", "groups", &info,
	    ERR), 0);
	assert_int_equal(info.synced_at, 0);
	/* A second sync that never commits: the first stays whole, and its
	 * rows go when the run ends. */
	assert_int_equal(store_dir_begin(f->st, r.id, "contoso", "groups",
	    &gen2, ERR), 0);
	add_rows(&w, gen2, second);
	assert_int_equal(store_progress(f->st, &r, &w, &cancel, ERR), 0);
	store_writes_clear(&w);
	assert_int_equal(store_finish(f->st, &r, RUN_FAILED, "w", ERR), 0);
	assert_int_equal(store_dir_commit(f->st, "contoso", "groups", gen2, 2,
	    &count, ERR), 1);
	assert_int_equal(store_dir_get(f->st, "contoso", "groups", "g1", &name,
	    &json, ERR), 0);
	assert_string_equal(name, "Finance");
	free(name);
	free(json);
	assert_int_equal(store_check(f->st, NULL, NULL, ERR), 0);
	run_free(&r);
}

static void
no_problem(const char *problem, void *arg)
{
	(void)arg;
	fail_msg("check-store: %s", problem);
}

static void
check_store_accepts_documents_and_snapshots(void **state)
{
	struct fixture *f = *state;
	const char *const names[] = { "A", "B", NULL };
	struct store_writes w = { 0 };
	struct run r;
	uint64_t gen, count;
	int cancel;

	claim_one(f, "sync", &r);
	put_docs(f, &r, 0, 5);
	assert_int_equal(store_dir_begin(f->st, r.id, "contoso",
	    "roleScopeTags", &gen, ERR), 0);
	for (int i = 0; names[i] != NULL; i++)
		assert_int_equal(store_writes_add_row(&w, "contoso",
		    "roleScopeTags", gen, names[i], names[i], "{}"), 0);
	/* The same id twice: the later one wins, with its name. */
	assert_int_equal(store_writes_add_row(&w, "contoso", "roleScopeTags",
	    gen, "A", "A2", "{}"), 0);
	assert_int_equal(store_progress(f->st, &r, &w, &cancel, ERR), 0);
	store_writes_clear(&w);
	assert_int_equal(store_check(f->st, no_problem, NULL, ERR), 0);
	assert_int_equal(store_dir_commit(f->st, "contoso", "roleScopeTags",
	    gen, 5, &count, ERR), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_check(f->st, no_problem, NULL, ERR), 0);
	run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    documents_are_saved_with_progress_and_listed_in_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_requeued_run_loses_its_documents_a_lost_one_writes_none,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(snapshots_flip_in_one_commit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    check_store_accepts_documents_and_snapshots, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
