/*
 * store_internal - what the files of the store module share: the
 * environment and its databases, transactions and LMDB error messages.
 * Only store*.c include it; everything else sees core/store.h.
 */
#ifndef OPRUN_STORE_INTERNAL_H
#define OPRUN_STORE_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store.h"

#define KEY_MAX 511 /* LMDB's default maximum key size */

struct store {
	MDB_env *env;
	MDB_dbi meta, runs, queue, active, index, notif, kv;
	MDB_dbi docs;	 /* run id + name -> JSON */
	MDB_dbi dir;	 /* tenant, kind, gen, id -> name + JSON */
	MDB_dbi dirname; /* tenant, kind, gen, lower(name) -> ids */
	MDB_dbi dirmeta; /* snapshots current and in progress */
	char path[4096];
	char config_file[1024];
	uint64_t map_size_mb;
	int full;    /* the last write failed: map or disk full */
	int lock_fd; /* data.mdb, flocked by the sole runner, or -1 */
	int up_fd;   /* lock.mdb, flocked shared by a runner, or -1 */
	_Atomic int64_t *write_since_ms; /* see store_watch_writes */
};

/* Transactions as store.c runs them (watchdog stamps, full-store
 * bookkeeping); store_lmdb_err writes the message for rc and returns -1. */
int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn, char *err,
    size_t errlen);
void store_txn_abort(struct store *st, MDB_txn *txn);
int store_txn_commit(struct store *st, MDB_txn *txn, char *err, size_t errlen);
int store_lmdb_err(struct store *st, int rc, const char *what, char *err,
    size_t errlen);
int store_next_counter(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *v);

/* A malloc'd, NUL-terminated copy of n bytes of s; NULL if memory ran
 * out (sizes come from the store, so this is checked, not xmalloc). */
char *store_copy(const void *s, size_t n);

/* Big-endian ids, so keys sort by id. */
void store_id_key(uint64_t id, unsigned char out[8]);
uint64_t store_key_id(const unsigned char *p);

/* store_docs.c: within a write transaction. */
int docs_write(struct store *st, MDB_txn *txn, uint64_t run_id,
    const struct store_writes *w);
int docs_delete_run(struct store *st, MDB_txn *txn, uint64_t run_id);
int docs_run_has(struct store *st, MDB_txn *txn, uint64_t run_id);
/* store_dir.c: within a write transaction. */
int dir_write(struct store *st, MDB_txn *txn, uint64_t run_id,
    const struct store_writes *w);
/* Drops the snapshots run_id began and did not commit. */
int dir_drop_stages(struct store *st, MDB_txn *txn, uint64_t run_id);

/* Checks for store_check: problem(arg, message) per broken record. */
typedef void (*store_problem_fn)(void *arg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int docs_check(struct store *st, MDB_txn *txn, store_problem_fn problem,
    void *arg);
int dir_check(struct store *st, MDB_txn *txn, store_problem_fn problem,
    void *arg);

#endif
