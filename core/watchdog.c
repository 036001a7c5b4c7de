#define _GNU_SOURCE /* memfd_create */
#include "watchdog.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* The shared page: written by the executor, read by the supervisor. */
struct beat_page {
	_Atomic int64_t beat_ms;	/* monotonic ms of the last heartbeat */
	_Atomic int64_t write_since_ms;	/* current write transaction, or 0 */
};

#define MAX_WATCHED 160

struct watched_exec {
	struct beat_page *page;	/* NULL: slot free */
	pid_t pid;		/* 0 until watched */
	int64_t since_ms;	/* when watching began (before any beat) */
	int fired;
	char reason[200];
};

struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	int stop;
	int64_t bound_ms;
	struct watched_exec slots[MAX_WATCHED];
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Why executor e must be stopped now, or 0. */
static int
stalled(struct watchdog *wd, struct watched_exec *e, int64_t now)
{
	int64_t beat = atomic_load(&e->page->beat_ms);
	int64_t since = atomic_load(&e->page->write_since_ms);

	if (beat < e->since_ms)
		beat = e->since_ms;
	if (now - beat > wd->bound_ms) {
		snprintf(e->reason, sizeof(e->reason), "executor %ld stalled: "
		    "no heartbeat for %.1f s (stopped or frozen), so it was "
		    "killed", (long)e->pid, (double)(now - beat) / 1000);
		return 1;
	}
	if (since != 0 && now - since > wd->bound_ms) {
		snprintf(e->reason, sizeof(e->reason), "executor %ld stalled: "
		    "it held the store's write lock for %.1f s, so it was "
		    "killed", (long)e->pid, (double)(now - since) / 1000);
		return 1;
	}
	return 0;
}

static void *
watch_loop(void *arg)
{
	struct watchdog *wd = arg;

	for (;;) {
		int64_t now = monotonic_ms();

		pthread_mutex_lock(&wd->lock);
		if (wd->stop) {
			pthread_mutex_unlock(&wd->lock);
			return NULL;
		}
		for (size_t i = 0; i < MAX_WATCHED; i++) {
			struct watched_exec *e = &wd->slots[i];

			if (e->page == NULL || e->pid <= 0 || e->fired)
				continue;
			if (stalled(wd, e, now)) {
				e->fired = 1;
				kill(e->pid, SIGKILL);
			}
		}
		pthread_mutex_unlock(&wd->lock);
		sleep_ms(HEARTBEAT_MS / 2);
	}
}

struct watchdog *
watchdog_start(int64_t bound_ms)
{
	struct watchdog *wd = xcalloc(1, sizeof(*wd));
	int rc;

	wd->bound_ms = bound_ms;
	pthread_mutex_init(&wd->lock, NULL);
	rc = pthread_create(&wd->thread, NULL, watch_loop, wd);
	if (rc != 0) {
		pthread_mutex_destroy(&wd->lock);
		free(wd);
		errno = rc;
		return NULL;
	}
	return wd;
}

void
watchdog_stop(struct watchdog *wd)
{
	if (wd == NULL)
		return;
	pthread_mutex_lock(&wd->lock);
	wd->stop = 1;
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	for (size_t i = 0; i < MAX_WATCHED; i++)
		if (wd->slots[i].page != NULL)
			munmap(wd->slots[i].page, sizeof(struct beat_page));
	pthread_mutex_destroy(&wd->lock);
	free(wd);
}

int
watchdog_page(struct watchdog *wd, int *slot)
{
	struct beat_page *page;
	int fd = memfd_create("oprun-heartbeat", MFD_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, sizeof(*page)) != 0)
		goto out_close;
	page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (page == MAP_FAILED)
		goto out_close;
	pthread_mutex_lock(&wd->lock);
	for (int i = 0; i < MAX_WATCHED && rc != 0; i++) {
		if (wd->slots[i].page != NULL)
			continue;
		memset(&wd->slots[i], 0, sizeof(wd->slots[i]));
		wd->slots[i].page = page;
		*slot = i;
		rc = 0;
	}
	pthread_mutex_unlock(&wd->lock);
	if (rc == 0)
		return fd;
	munmap(page, sizeof(*page));
	errno = EMFILE;
out_close:
	close(fd);
	return -1;
}

void
watchdog_set_bound(struct watchdog *wd, int64_t bound_ms)
{
	pthread_mutex_lock(&wd->lock);
	wd->bound_ms = bound_ms;
	pthread_mutex_unlock(&wd->lock);
}

void
watchdog_watch(struct watchdog *wd, int slot, pid_t pid)
{
	pthread_mutex_lock(&wd->lock);
	wd->slots[slot].pid = pid;
	wd->slots[slot].since_ms = monotonic_ms();
	pthread_mutex_unlock(&wd->lock);
}

void
watchdog_forget_slot(struct watchdog *wd, int slot)
{
	pthread_mutex_lock(&wd->lock);
	munmap(wd->slots[slot].page, sizeof(struct beat_page));
	memset(&wd->slots[slot], 0, sizeof(wd->slots[slot]));
	pthread_mutex_unlock(&wd->lock);
}

int
watchdog_forget(struct watchdog *wd, pid_t pid, char *reason, size_t len)
{
	int fired = 0;

	pthread_mutex_lock(&wd->lock);
	for (size_t i = 0; i < MAX_WATCHED; i++) {
		struct watched_exec *e = &wd->slots[i];

		if (e->page == NULL || e->pid != pid)
			continue;
		fired = e->fired;
		if (fired)
			snprintf(reason, len, "%s", e->reason);
		munmap(e->page, sizeof(*e->page));
		memset(e, 0, sizeof(*e));
	}
	pthread_mutex_unlock(&wd->lock);
	return fired;
}

/* ---- executor side ----------------------------------------------- */

static struct beat_page *own_page;	/* this executor's page */

static void *
beat_loop(void *arg)
{
	struct beat_page *page = arg;

	for (;;) {
		atomic_store(&page->beat_ms, monotonic_ms());
		sleep_ms(HEARTBEAT_MS);
	}
	return NULL;
}

int
heartbeat_start(int fd)
{
	struct beat_page *page = mmap(NULL, sizeof(*page), PROT_READ |
	    PROT_WRITE, MAP_SHARED, fd, 0);
	pthread_t t;
	int rc;

	close(fd);
	if (page == MAP_FAILED)
		return -1;
	atomic_store(&page->beat_ms, monotonic_ms());
	rc = pthread_create(&t, NULL, beat_loop, page);
	if (rc != 0) {
		munmap(page, sizeof(*page));
		errno = rc;
		return -1;
	}
	pthread_detach(t);
	own_page = page;
	return 0;
}

void
heartbeat_watch_store(struct store *st)
{
	if (own_page != NULL)
		store_watch_writes(st, &own_page->write_since_ms);
}
