/*
 * watchdog - notices an executor of `oprun serve` that stopped: frozen
 * (SIGSTOP, a debugger, swapped out) or stuck holding the store's writer
 * lock, where it would freeze every other writer.
 *
 * Each executor shares one small page with the supervisor (a memfd
 * passed at exec).  In the executor a heartbeat thread stamps the page
 * every HEARTBEAT_MS and the store publishes there when its current write
 * transaction began.  In the supervisor a watchdog thread reads every
 * page; an executor whose heartbeat is older than the bound, or that has
 * held a write transaction longer than it, is SIGKILLed (which releases
 * LMDB's lock), and the reason is kept for the supervisor to resolve the
 * executor's runs with.  The thread only reads pages and sends signals:
 * it never touches the store, so it works while the main loop waits on
 * the lock.
 */
#ifndef OPRUN_WATCHDOG_H
#define OPRUN_WATCHDOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

#define HEARTBEAT_MS 200

/* ---- supervisor side --------------------------------------------- */

struct watchdog;

/* Starts the watchdog thread with the stall bound in ms.  NULL if the
 * thread cannot start (errno says why). */
struct watchdog *watchdog_start(int64_t bound_ms);
/* Stops the thread and frees everything. */
void	watchdog_stop(struct watchdog *wd);
/* Makes the page for a new executor.  Returns its fd (to pass to the
 * executor, close after fork) and *slot, or -1. */
int	watchdog_page(struct watchdog *wd, int *slot);
/* A new bound (after a reload). */
void	watchdog_set_bound(struct watchdog *wd, int64_t bound_ms);
/* Watches pid through page slot from now on. */
void	watchdog_watch(struct watchdog *wd, int slot, pid_t pid);
/* Gives back a page no executor got (fork failed). */
void	watchdog_forget_slot(struct watchdog *wd, int slot);
/* Forgets pid (reaped).  If the watchdog killed it, copies why into
 * reason and returns 1; else 0. */
int	watchdog_forget(struct watchdog *wd, pid_t pid, char *reason,
	    size_t len);

/* ---- executor side ----------------------------------------------- */

/* Maps page fd (and closes it) and starts the heartbeat thread, first
 * thing, so a slow start is not taken for a stall.  Returns 0 or -1. */
int	heartbeat_start(int fd);
/* From now on st publishes its write transactions on the page. */
void	heartbeat_watch_store(struct store *st);

#endif
