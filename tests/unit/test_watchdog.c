/* Unit tests for watchdog.c, through watchdog.h: real child processes
 * that beat, stop beating, or hold the store's write lock, watched by
 * the supervisor-side thread. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "testutil.h"
#include "watchdog.h"

/* Generous: a heartbeat thread starved by a loaded machine (CI runs the
 * suites under ASan on two cores) must not count as a stall; the stall
 * cases are killed after about this long whatever it is. */
#define BOUND_MS 1500

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	struct watchdog *wd;
	char reason[256];
};

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_mkdtemp(f->dir, sizeof(f->dir), "oprun-watchdog");
	snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
	f->wd = watchdog_start(BOUND_MS);
	assert_non_null(f->wd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	watchdog_stop(f->wd);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static struct store *
open_store(const struct fixture *f)
{
	struct store_options o = { f->path, 64, 0, "test.ini" };
	struct store *st;
	char err[1024];

	if (store_open(&st, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		_exit(3);
	}
	return st;
}

/* Starts child(f) in a watched process with its own page; returns its
 * pid. */
static pid_t
spawn(struct fixture *f, void (*child)(struct fixture *, int))
{
	int slot, fd = watchdog_page(f->wd, &slot);
	pid_t pid;

	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child(f, fd);
		_exit(0);
	}
	close(fd);
	watchdog_watch(f->wd, slot, pid);
	return pid;
}

/* Waits at most 10 s for pid; returns its wait status. */
static int
reap(pid_t pid)
{
	int status = 0;

	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		sleep_us(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("process %ld did not end within 10 s", (long)pid);
	return status;
}

static void
child_healthy(struct fixture *f, int fd)
{
	(void)f;
	if (heartbeat_start(fd) != 0)
		_exit(2);
	sleep_us(3 * BOUND_MS * 1000L);
}

static void
child_stops(struct fixture *f, int fd)
{
	(void)f;
	if (heartbeat_start(fd) != 0)
		_exit(2);
	raise(SIGSTOP);
}

/* store_claim's refuse callback runs inside the claim's write
 * transaction: sleeping there holds the writer lock while the heartbeat
 * thread goes on beating. */
static const char *
refuse_slowly(const char *type, void *arg)
{
	(void)type;
	(void)arg;
	sleep(30);
	return NULL;
}

static void
child_holds_lock(struct fixture *f, int fd)
{
	struct store_claimant who = { .epoch = 1, .pid = (int32_t)getpid(),
		.actor = "worker:test" };
	struct store *st;
	struct run r;
	char err[1024];

	if (heartbeat_start(fd) != 0)
		_exit(2);
	st = open_store(f);
	heartbeat_watch_store(st);
	store_claim(st, &who, refuse_slowly, NULL, &r, err, sizeof(err));
	_exit(4);
}

static void
submit_one(struct fixture *f)
{
	struct store *st = open_store(f);
	struct store_submit_result res;
	struct run r = { 0 };
	char err[1024];

	r.tenant = strdup("contoso");
	r.type = strdup("test-items");
	r.initiator = strdup("alice");
	r.payload = strdup("{}");
	memcpy(r.dedupe_key, "lock", 4);
	if (store_submit(st, &r, "cli:test", &res, err, sizeof(err)) != 0)
		fail_msg("store_submit: %s", err);
	run_free(&r);
	store_close(st);
}

static void
a_beating_process_is_left_alone(void **state)
{
	struct fixture *f = *state;
	pid_t pid = spawn(f, child_healthy);
	int status = reap(pid);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(watchdog_forget(f->wd, pid, f->reason,
	    sizeof(f->reason)), 0);
}

static void
a_stopped_process_is_killed_for_its_missed_heartbeat(void **state)
{
	struct fixture *f = *state;
	pid_t pid = spawn(f, child_stops);
	int status = reap(pid);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(watchdog_forget(f->wd, pid, f->reason,
	    sizeof(f->reason)), 1);
	assert_non_null(strstr(f->reason, "stalled: no heartbeat"));
	/* Forgotten: asked again, it is not known. */
	assert_int_equal(watchdog_forget(f->wd, pid, f->reason,
	    sizeof(f->reason)), 0);
}

static void
a_process_holding_the_write_lock_is_killed_and_the_lock_freed(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct run r;
	char err[1024];
	pid_t pid;
	int status;

	submit_one(f);
	pid = spawn(f, child_holds_lock);
	status = reap(pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(watchdog_forget(f->wd, pid, f->reason,
	    sizeof(f->reason)), 1);
	assert_non_null(strstr(f->reason, "held the store's write lock"));
	/* The lock died with it: this process writes at once. */
	st = open_store(f);
	{
		struct store_claimant who = { .epoch = 2, .pid = 1,
			.actor = "worker:test" };

		assert_int_equal(store_claim(st, &who, NULL, NULL, &r, err,
		    sizeof(err)), 1);
		run_free(&r);
	}
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_beating_process_is_left_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_stopped_process_is_killed_for_its_missed_heartbeat, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    a_process_holding_the_write_lock_is_killed_and_the_lock_freed,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
