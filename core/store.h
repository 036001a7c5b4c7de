/*
 * store - durable state of oprun: runs, the queue, the active-identity
 * index, notifications, plugin key/value storage, listing indexes, run
 * documents and the directory cache.
 *
 * The only module that knows LMDB.  Every operation is one transaction:
 * a run, its queue entry, its identity row, its index rows, its history
 * and the notification that reports the change are written together or
 * not at all.  All lifecycle changes go through one internal function
 * that asks run_transition_allowed() first, so an illegal transition is
 * refused and never written.
 *
 * Errors: functions return 0 on success and -1 with a one-line reason in
 * err (errlen bytes); "not found" is returned as 1 where noted.  Runs and
 * arrays handed out are owned by the caller (run_free / store_*_free).
 */
#ifndef OPRUN_STORE_H
#define OPRUN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

/* Bump when a record layout or database changes meaning; a store written
 * by a newer schema is refused. */
#define STORE_SCHEMA_VERSION 2

struct store;

struct store_options {
	const char *path;	/* directory of the LMDB environment */
	uint64_t map_size_mb;	/* the most the store may grow to */
	int durable;		/* 1 = fsync every commit; 0 = relaxed */
	const char *config_file; /* named in "raise the setting" messages */
};

/* Opens the store at opts->path, creating it if the directory holds
 * none.  Once a store exists, opening takes no write transaction (a
 * reader never waits on a writer).  A data file that is missing beside
 * its lock file, empty, garbled or truncated is refused with a message
 * saying how to recover; it is never started afresh. */
int	store_open(struct store **out, const struct store_options *opts,
	    char *err, size_t errlen);
void	store_close(struct store *st);

/* 1 if the last failed write failed because the map or the disk was
 * full (err then named the setting or the disk); cleared by a commit.
 * Such a failure wrote nothing: retry later, do not fail the run. */
int	store_is_full(const struct store *st);

/* Publishes in *since_ms the monotonic ms at which this process's
 * current write transaction began holding the writer lock (0: none), so
 * a watchdog thread can see a stall.  since_ms outlives st. */
void	store_watch_writes(struct store *st, _Atomic int64_t *since_ms);

/* Marks this process as a runner of the store until store_close, and
 * with sole = 1 as its only supervisor (fails if another holds that).
 * The locks are flocks on the store's own files, so every path that
 * reaches the same files (symlinks, bind mounts, hard links) meets the
 * same locks. */
int	store_lock_runner(struct store *st, int sole, char *err,
	    size_t errlen);
/* 1 if a runner (`oprun serve` or `oprun worker`) is up on the store. */
int	store_runner_active(const struct store *st);

/* Writes a consistent, compacted copy of the store into directory dir
 * (created if missing; must not hold a data.mdb) while others use it. */
int	store_backup(struct store *st, const char *dir, char *err,
	    size_t errlen);

struct store_submit_result {
	uint64_t id;
	int deduplicated;
	enum run_state state;
};

/* Creates run r (tenant, type, target, initiator, payload, dedupe_key,
 * created_at set by the caller) as queued with a queued notification -
 * unless a queued or running run has the same dedupe key, whose id is then
 * returned with deduplicated = 1 and nothing is written.  On creation
 * r->id, state, attempt and history are filled in. */
int	store_submit(struct store *st, struct run *r, const char *actor,
	    struct store_submit_result *res, char *err, size_t errlen);

/* Who claims a run: a dead claimant can later be known exactly (the
 * runner's epoch, the pid and that process's start time).  The optional
 * callbacks get store_claim's arg: the run's time limit in ms for a type
 * (0 = none) and a tenant's concurrency cap (0 = unlimited). */
struct store_claimant {
	uint64_t epoch;
	int32_t pid;
	uint64_t start;
	const char *actor;
	int64_t (*timeout_ms)(const char *type, void *arg);
	uint32_t (*tenant_cap)(const char *tenant, void *arg);
	uint32_t global_cap;	/* most runs running at once, 0 = no cap */
	/* May this type be claimed ahead, in a batch, before it starts?
	 * Only for idempotent operations: a crash requeues them. */
	int (*batchable)(const char *type, void *arg);
};

/* Returns NULL when this process can run TYPE, else the reason it cannot
 * (e.g. "no plugin provides operation 'x'"). */
typedef const char *(*store_refuse_fn)(const char *type, void *arg);

/* Claims the oldest queued run that refuse() accepts, moving it to
 * running in the same transaction; queued runs refuse() rejects are
 * failed with its reason (identity released, initiator notified).
 * Returns 1 with *out filled, 0 when the queue is empty, -1 on error. */
int	store_claim(struct store *st, const struct store_claimant *who,
	    store_refuse_fn refuse, void *arg, struct run *out, char *err,
	    size_t errlen);

/* Claims up to max runs into out in one transaction: the first as
 * store_claim does, the following ones only while the oldest claimable
 * run is batchable.  *n gets how many (0: none).  Returns 0 or -1. */
int	store_claim_many(struct store *st, const struct store_claimant *who,
	    store_refuse_fn refuse, void *arg, struct run *out, size_t max,
	    size_t *n, char *err, size_t errlen);

/* What a running run writes besides its counts: documents and rows of
 * a directory snapshot it is building, kept by the caller until they are
 * saved with its progress.  Entries are owned by the batch. */
struct store_doc {
	char *name;
	char *json;
	size_t len;
};

struct store_dir_row {
	char *tenant, *kind, *id, *display_name, *json;
	uint64_t gen;		/* the snapshot it belongs to (store_dir_begin) */
};

struct store_writes {
	struct store_doc *docs;
	size_t ndocs, docs_cap;
	struct store_dir_row *rows;
	size_t nrows, rows_cap;
	size_t bytes;		/* of names and JSON held */
};

/* Adds copies to w; -1 (w unchanged) if memory ran out. */
int	store_writes_add_doc(struct store_writes *w, const char *name,
	    const char *json, size_t len);
int	store_writes_add_row(struct store_writes *w, const char *tenant,
	    const char *kind, uint64_t gen, const char *id,
	    const char *display_name, const char *json);
/* Empties w (after a save), keeping nothing. */
void	store_writes_clear(struct store_writes *w);

/* Saves r's counts and failures on the running run r->id, with w's
 * documents and snapshot rows (w may be NULL), and reports in
 * *cancel_requested whether someone asked to cancel it.  Returns 1 if the
 * run is no longer running (someone else resolved it; nothing written). */
int	store_progress(struct store *st, const struct run *r,
	    const struct store_writes *w, int *cancel_requested, char *err,
	    size_t errlen);

/* Moves run r->id from running to state `to` (terminal, or queued for a
 * retry) with r's counts, failures, result and reason.  Returns 1 if the
 * run is no longer running. */
int	store_finish(struct store *st, const struct run *r, enum run_state to,
	    const char *actor, char *err, size_t errlen);

/* store_finish, then store_claim of the next run for who, in one
 * transaction: one commit per run instead of two.  *lost is set if r was
 * no longer running.  Returns 1 with *next claimed, 0 if nothing could be
 * claimed, -1 on error (nothing written). */
int	store_finish_claim(struct store *st, const struct run *r,
	    enum run_state to, const struct store_claimant *who,
	    store_refuse_fn refuse, void *arg, struct run *next, int *lost,
	    char *err, size_t errlen);

/* Group commit: finishes ndone runs (done[i] ends as to[i]; lost[i] is
 * set if it was no longer its claimant's) and claims up to max next runs
 * as store_claim_many does, all in one transaction.  Returns 0 or -1
 * (nothing written). */
int	store_finish_many(struct store *st, const struct run *done,
	    const enum run_state *to, size_t ndone, int *lost,
	    const struct store_claimant *who, store_refuse_fn refuse,
	    void *arg, struct run *next, size_t max, size_t *nnext,
	    char *err, size_t errlen);

/* Cancels run id: a queued run becomes canceled at once; a running one is
 * flagged so the plugin sees it.  *state_after is the state afterwards.
 * Returns 1 if there is no such run, -1 if it is already terminal, -2 if
 * the store failed (err says which). */
int	store_cancel(struct store *st, uint64_t id, const char *actor,
	    enum run_state *state_after, char *err, size_t errlen);

/* Flags running run id for cancellation with reason in its history (a
 * deadline, a shutdown); the plugin sees it through its cancel check. */
int	store_request_cancel(struct store *st, uint64_t id, const char *actor,
	    const char *reason, char *err, size_t errlen);

/* Resolves run id if it is still running under the claim (epoch, pid):
 * moves it to `to` (queued for a retry, failed or canceled) with reason.
 * Returns 1 if that claimant no longer holds it. */
int	store_resolve(struct store *st, uint64_t id, uint64_t epoch,
	    int32_t pid, enum run_state to, const char *actor,
	    const char *reason, char *err, size_t errlen);

/* Reads run id into out.  Returns 0, 1 if not found, -1 on error. */
int	store_get_run(struct store *st, uint64_t id, struct run *out,
	    char *err, size_t errlen);

struct run_filter {
	const char *tenant, *type, *initiator;	/* NULL = any */
	int has_state;
	enum run_state state;
	uint64_t before_id;	/* 0 = from the newest */
	size_t limit;
};

/* Lists runs matching f, newest first, at most f->limit.  *out is an
 * array of *n runs; free it with store_runs_free. */
int	store_list_runs(struct store *st, const struct run_filter *f,
	    struct run **out, size_t *n, char *err, size_t errlen);
void	store_runs_free(struct run *runs, size_t n);
/* Frees the runs of a caller-owned array, not the array. */
void	store_runs_free_array(struct run *runs, size_t n);

enum notification_kind { NOTIFY_QUEUED = 0, NOTIFY_FINISHED = 1 };

struct notification {
	uint64_t id;
	uint64_t run_id;
	enum notification_kind kind;
	enum run_state state;		/* the run's state it reports */
	int read;
	int64_t created_at;
	struct run_counts counts;
	char *type, *tenant, *reason;	/* reason may be NULL */
};

/* Lists user's notifications, unread first, newest first within each,
 * at most limit; unread_only skips read ones.  *unread gets the number
 * of unread notifications.  Free with store_notifications_free. */
int	store_notifications(struct store *st, const char *user,
	    int unread_only, size_t limit, struct notification **out,
	    size_t *n, uint64_t *unread, char *err, size_t errlen);
void	store_notifications_free(struct notification *v, size_t n);
/* Marks notification id (or all when id is 0) of user read.  *marked gets
 * how many changed.  Returns 1 if id is not one of user's. */
int	store_notifications_mark_read(struct store *st, const char *user,
	    uint64_t id, uint64_t *marked, char *err, size_t errlen);

/* Plugin-scoped key/value storage.  kv_get returns 1 if absent; value is
 * copied (at most cap bytes) and *len is its full length. */
int	store_kv_get(struct store *st, const char *plugin, const char *key,
	    void *buf, size_t cap, size_t *len, char *err, size_t errlen);
int	store_kv_put(struct store *st, const char *plugin, const char *key,
	    const void *val, size_t len, char *err, size_t errlen);
int	store_kv_delete(struct store *st, const char *plugin, const char *key,
	    char *err, size_t errlen);

/* Documents of runs (a backup's objects, a preview's items).  A run's
 * documents go when it is requeued for another attempt or pruned. */

/* Reads document name of run_id into a malloc'd *json (NUL-terminated,
 * *len bytes).  Returns 0, 1 if there is none. */
int	store_doc_get(struct store *st, uint64_t run_id, const char *name,
	    char **json, size_t *len, char *err, size_t errlen);

/* Calls each() for the documents of run_id whose name starts with
 * prefix and sorts after `after` ("" = from the first), in name order;
 * the strings are valid during the call only.  No transaction is held
 * while each() runs, so it may be slow.  each returning non-zero stops
 * the walk and is returned; 0 after the last, -1 on error. */
typedef int (*store_doc_fn)(void *arg, const char *name, const char *json,
    size_t len);
int	store_doc_list(struct store *st, uint64_t run_id, const char *prefix,
	    const char *after, store_doc_fn each, void *arg, char *err,
	    size_t errlen);

/* Number and bytes of run_id's documents. */
int	store_doc_count(struct store *st, uint64_t run_id, uint64_t *n,
	    uint64_t *bytes, char *err, size_t errlen);

/* The directory cache: per tenant and kind, the snapshot the last
 * committed sync made.  A sync begins a new snapshot (generation gen,
 * invisible to readers), adds rows through store_writes with its
 * progress, and commits it: one transaction makes it current and drops
 * the previous one.  A sync that ends without commit leaves the current
 * snapshot as it was; its rows go when its run stops running. */
int	store_dir_begin(struct store *st, uint64_t run_id, const char *tenant,
	    const char *kind, uint64_t *gen, char *err, size_t errlen);
/* Returns 1 if gen is no longer the kind's snapshot in progress. */
int	store_dir_commit(struct store *st, const char *tenant,
	    const char *kind, uint64_t gen, int64_t synced_at, uint64_t *count,
	    char *err, size_t errlen);

struct store_dir_info {
	int64_t synced_at;	/* ms; 0 = never synced */
	uint64_t count;
};
int	store_dir_info(struct store *st, const char *tenant, const char *kind,
	    struct store_dir_info *info, char *err, size_t errlen);

/* Calls each() per cached object (strings valid during the call):
 * store_dir_find those whose display name equals name ignoring ASCII
 * case (*hits gets how many), store_dir_list all of them in id order
 * from after ("" = first, at most limit, 0 = all).  Non-zero from each
 * stops and is returned. */
typedef int (*store_dir_fn)(void *arg, const char *id,
    const char *display_name, const char *json);
int	store_dir_find(struct store *st, const char *tenant, const char *kind,
	    const char *name, store_dir_fn each, void *arg, size_t *hits,
	    char *err, size_t errlen);
int	store_dir_list(struct store *st, const char *tenant, const char *kind,
	    const char *after, size_t limit, store_dir_fn each, void *arg,
	    char *err, size_t errlen);
/* One object: 0 with malloc'd *display_name and *json, 1 if absent. */
int	store_dir_get(struct store *st, const char *tenant, const char *kind,
	    const char *id, char **display_name, char **json, char *err,
	    size_t errlen);

/* Deletes terminal runs that finished before cutoff_ms, and notifications
 * created before it.  Counts go to *runs and *notifications.  A run that
 * holds documents (a backup) is kept unless with_documents, and counted
 * in *kept. */
int	store_prune(struct store *st, int64_t cutoff_ms, int with_documents,
	    uint64_t *runs, uint64_t *notifications, uint64_t *kept,
	    char *err, size_t errlen);

/* Verifies every invariant (queue <-> queued runs, identity rows, index
 * rows, id counter) and calls report() once per broken record.  Returns
 * the number of problems found, or -1 if the check could not run. */
typedef void (*store_report_fn)(const char *problem, void *arg);
long	store_check(struct store *st, store_report_fn report, void *arg,
	    char *err, size_t errlen);

/* Storage figures for benchmarks: bytes in use (pages * page size). */
int	store_bytes_used(struct store *st, uint64_t *bytes);

#endif
