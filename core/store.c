/*
 * store.c - the LMDB backend of store.h.
 *
 * Databases (all in one environment, one write transaction per change):
 *   meta     "schema" -> u64 (STORE_SCHEMA_VERSION), "next_id",
 *            "next_notif", "next_dir_gen" -> u64 counters
 *   runs     id (u64 big-endian, so key order is id order) -> run record
 *   queue    id -> "" for every queued run; the first key is the oldest
 *   active   dedupe key (32 bytes) -> id, for every queued/running run
 *   index    kind byte + value + NUL + id -> "" (t=tenant, s=state,
 *            y=type, i=initiator), scanned backwards for newest first
 *   notif    user + NUL + notification id -> notification record
 *   kv       plugin + NUL + key -> value
 *   docs     run documents (store_docs.c)
 *   dir, dirname, dirmeta
 *            the directory cache (store_dir.c)
 *
 * Records start with a format version byte and use host byte order: the
 * environment is local to one host.  Bump RUN_RECORD_VERSION (and teach
 * decode_run the old layout) whenever the layout below changes.
 */
#define _GNU_SOURCE /* fallocate */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "store_internal.h"
#include "util.h"

#define RUN_RECORD_VERSION	1
#define NOTIF_RECORD_VERSION	1
#define NO_STRING		0xFFFFFFFFu

struct run_list {
	struct run *v;
	size_t n, cap;
};

struct run_filter;
static int list_by_index(struct store *st, MDB_txn *txn, char kind,
    const char *value, const struct run_filter *f, struct run_list *l);

/* ---- encoding ---------------------------------------------------- */

struct enc {
	unsigned char *p;
	size_t len, cap;
};

static void
enc_put(struct enc *e, const void *src, size_t n)
{
	if (e->len + n > e->cap) {
		e->cap = (e->len + n) * 2 + 256;
		e->p = xrealloc(e->p, e->cap);
	}
	memcpy(e->p + e->len, src, n);
	e->len += n;
}

#define ENC_VAL(e, v) do { __typeof__(v) tmp_ = (v); \
	enc_put((e), &tmp_, sizeof(tmp_)); } while (0)

static void
enc_str(struct enc *e, const char *s)
{
	uint32_t n = s == NULL ? NO_STRING : (uint32_t)strlen(s);

	enc_put(e, &n, sizeof(n));
	if (s != NULL)
		enc_put(e, s, n);
}

struct dec {
	const unsigned char *p;
	size_t len, off;
	int bad;
};

static void
dec_get(struct dec *d, void *dst, size_t n)
{
	if (d->bad || d->len - d->off < n) {
		d->bad = 1;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, d->p + d->off, n);
	d->off += n;
}

static char *
dec_str(struct dec *d)
{
	uint32_t n;
	char *s;

	dec_get(d, &n, sizeof(n));
	if (d->bad || n == NO_STRING)
		return NULL;
	if (d->len - d->off < n) {
		d->bad = 1;
		return NULL;
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, d->p + d->off, n);
	s[n] = '\0';
	d->off += n;
	return s;
}

static void
encode_run(const struct run *r, struct enc *e)
{
	uint8_t version = RUN_RECORD_VERSION, state = (uint8_t)r->state;
	uint16_t nf = (uint16_t)r->nfailures, nh = (uint16_t)r->nhistory;

	ENC_VAL(e, version);
	ENC_VAL(e, state);
	ENC_VAL(e, r->attempt);
	ENC_VAL(e, r->flags);
	ENC_VAL(e, r->created_at);
	ENC_VAL(e, r->started_at);
	ENC_VAL(e, r->finished_at);
	ENC_VAL(e, r->deadline_ms);
	enc_put(e, &r->counts, sizeof(r->counts));
	ENC_VAL(e, r->claim_epoch);
	ENC_VAL(e, r->claim_start);
	ENC_VAL(e, r->claim_pid);
	ENC_VAL(e, r->failures_total);
	enc_put(e, r->dedupe_key, sizeof(r->dedupe_key));
	enc_str(e, r->tenant);
	enc_str(e, r->type);
	enc_str(e, r->target);
	enc_str(e, r->initiator);
	enc_str(e, r->payload);
	enc_str(e, r->result);
	enc_str(e, r->reason);
	ENC_VAL(e, nf);
	for (size_t i = 0; i < r->nfailures; i++) {
		enc_str(e, r->failures[i].item);
		enc_str(e, r->failures[i].message);
	}
	ENC_VAL(e, nh);
	for (size_t i = 0; i < r->nhistory; i++) {
		uint8_t hs = (uint8_t)r->history[i].state;

		ENC_VAL(e, hs);
		ENC_VAL(e, r->history[i].at_ms);
		enc_str(e, r->history[i].actor);
		enc_str(e, r->history[i].reason);
	}
}

static int
decode_run(const MDB_val *v, uint64_t id, struct run *r)
{
	struct dec d = { v->mv_data, v->mv_size, 0, 0 };
	uint8_t version, state;
	uint16_t nf, nh;

	memset(r, 0, sizeof(*r));
	r->id = id;
	dec_get(&d, &version, 1);
	if (version != RUN_RECORD_VERSION)
		return -1;
	dec_get(&d, &state, 1);
	r->state = state < RUN_STATE_COUNT ? (enum run_state)state : RUN_FAILED;
	dec_get(&d, &r->attempt, sizeof(r->attempt));
	dec_get(&d, &r->flags, sizeof(r->flags));
	dec_get(&d, &r->created_at, sizeof(r->created_at));
	dec_get(&d, &r->started_at, sizeof(r->started_at));
	dec_get(&d, &r->finished_at, sizeof(r->finished_at));
	dec_get(&d, &r->deadline_ms, sizeof(r->deadline_ms));
	dec_get(&d, &r->counts, sizeof(r->counts));
	dec_get(&d, &r->claim_epoch, sizeof(r->claim_epoch));
	dec_get(&d, &r->claim_start, sizeof(r->claim_start));
	dec_get(&d, &r->claim_pid, sizeof(r->claim_pid));
	dec_get(&d, &r->failures_total, sizeof(r->failures_total));
	dec_get(&d, r->dedupe_key, sizeof(r->dedupe_key));
	r->tenant = dec_str(&d);
	r->type = dec_str(&d);
	r->target = dec_str(&d);
	r->initiator = dec_str(&d);
	r->payload = dec_str(&d);
	r->result = dec_str(&d);
	r->reason = dec_str(&d);
	dec_get(&d, &nf, sizeof(nf));
	if (!d.bad && nf > 0) {
		r->failures = xcalloc(nf, sizeof(*r->failures));
		for (; r->nfailures < nf && !d.bad; r->nfailures++) {
			r->failures[r->nfailures].item = dec_str(&d);
			r->failures[r->nfailures].message = dec_str(&d);
		}
	}
	dec_get(&d, &nh, sizeof(nh));
	if (!d.bad && nh > 0) {
		r->history = xcalloc(nh, sizeof(*r->history));
		for (; r->nhistory < nh && !d.bad; r->nhistory++) {
			struct run_event *ev = &r->history[r->nhistory];
			uint8_t hs;

			dec_get(&d, &hs, 1);
			ev->state = hs < RUN_STATE_COUNT ? (enum run_state)hs :
			    RUN_FAILED;
			dec_get(&d, &ev->at_ms, sizeof(ev->at_ms));
			ev->actor = dec_str(&d);
			ev->reason = dec_str(&d);
		}
	}
	if (d.bad || r->tenant == NULL || r->type == NULL ||
	    r->initiator == NULL || r->payload == NULL) {
		run_free(r);
		return -1;
	}
	return 0;
}

static void
id_key(uint64_t id, unsigned char out[8])
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(id & 0xFF);
		id >>= 8;
	}
}

static uint64_t
key_id(const unsigned char *p)
{
	uint64_t id = 0;

	for (int i = 0; i < 8; i++)
		id = (id << 8) | p[i];
	return id;
}

/* ---- errors ------------------------------------------------------ */

/* The store could not grow: its map or the disk holding it is full. */
static int
rc_is_full(int rc)
{
	return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT ||
	    rc == EFBIG;
}

static int
lmdb_err(struct store *st, int rc, const char *what, char *err, size_t errlen)
{
	if (rc_is_full(rc))
		st->full = 1;
	if (rc == MDB_MAP_FULL)
		return errf(err, errlen, "store %s is full (%llu MiB): raise "
		    "[store] map_size_mb in %s or prune old runs with "
		    "`oprun prune`", st->path,
		    (unsigned long long)st->map_size_mb, st->config_file);
	if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG)
		return errf(err, errlen, "store %s: %s: the disk holding the "
		    "store is full (%s): free space on that filesystem (`df "
		    "%s`); nothing was lost and work resumes once there is "
		    "room", st->path, what, mdb_strerror(rc), st->path);
	if (rc == EIO)
		return errf(err, errlen, "store %s: %s: input/output error: "
		    "the disk holding the store is failing; check the kernel "
		    "log (dmesg), then `oprun check-store`, and restore from "
		    "a backup (`oprun store backup`) if it reports damage",
		    st->path, what);
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
		return errf(err, errlen, "store %s: %s: the store is damaged "
		    "(%s): stop oprun and restore data.mdb from a backup "
		    "(see README, Backups)", st->path, what,
		    mdb_strerror(rc));
	if (rc == EACCES || rc == EROFS)
		return errf(err, errlen, "store %s: %s: %s: oprun needs read "
		    "and write access to the directory and its files (check "
		    "owner and mode, or the mount)", st->path, what,
		    mdb_strerror(rc));
	return errf(err, errlen, "store %s: %s: %s", st->path, what,
	    mdb_strerror(rc));
}

int
store_is_full(const struct store *st)
{
	return st->full;
}

/* Begins a transaction, adopting a map grown by another process.  A
 * write transaction's start is published for the stall watchdog. */
static int
txn_begin(struct store *st, unsigned flags, MDB_txn **txn, char *err,
    size_t errlen)
{
	int rc = mdb_txn_begin(st->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(st->env, 0);
		rc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	if (rc != 0)
		return lmdb_err(st, rc, "begin transaction", err, errlen);
	if (!(flags & MDB_RDONLY) && st->write_since_ms != NULL)
		atomic_store(st->write_since_ms, monotonic_ms());
	return 0;
}

static void
write_done(struct store *st)
{
	if (st->write_since_ms != NULL)
		atomic_store(st->write_since_ms, 0);
}

static void
txn_abort(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	write_done(st);
}

static int
txn_commit(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	int rc = mdb_txn_commit(txn);

	write_done(st);
	if (rc != 0)
		return lmdb_err(st, rc, "commit", err, errlen);
	st->full = 0;
	return 0;
}

void
store_watch_writes(struct store *st, _Atomic int64_t *since_ms)
{
	st->write_since_ms = since_ms;
}

/* The helpers above, for the other files of the store module. */
int
store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn, char *err,
    size_t errlen)
{
	return txn_begin(st, flags, txn, err, errlen);
}

void
store_txn_abort(struct store *st, MDB_txn *txn)
{
	txn_abort(st, txn);
}

int
store_txn_commit(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	return txn_commit(st, txn, err, errlen);
}

int
store_lmdb_err(struct store *st, int rc, const char *what, char *err,
    size_t errlen)
{
	return lmdb_err(st, rc, what, err, errlen);
}

void
store_id_key(uint64_t id, unsigned char out[8])
{
	id_key(id, out);
}

uint64_t
store_key_id(const unsigned char *p)
{
	return key_id(p);
}

/* ---- open -------------------------------------------------------- */

static const struct {
	const char *name;
	size_t off;
	unsigned flags;
} db_names[] = {
	{ "meta", offsetof(struct store, meta), 0 },
	{ "runs", offsetof(struct store, runs), 0 },
	{ "queue", offsetof(struct store, queue), 0 },
	{ "active", offsetof(struct store, active), 0 },
	{ "index", offsetof(struct store, index), 0 },
	{ "notif", offsetof(struct store, notif), 0 },
	{ "kv", offsetof(struct store, kv), 0 },
	{ "docs", offsetof(struct store, docs), 0 },
	{ "dir", offsetof(struct store, dir), 0 },
	{ "dirname", offsetof(struct store, dirname), MDB_DUPSORT },
	{ "dirmeta", offsetof(struct store, dirmeta), 0 },
};

#define NDBS (sizeof(db_names) / sizeof(db_names[0]))

/* Opens every named database; create = 0 in a read-only transaction,
 * where a missing one is MDB_NOTFOUND (the store needs its upgrade). */
static int
open_dbs(struct store *st, MDB_txn *txn, int create)
{
	for (size_t i = 0; i < NDBS; i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)st + db_names[i].off);
		int rc = mdb_dbi_open(txn, db_names[i].name,
		    (create ? MDB_CREATE : 0) | db_names[i].flags, dbi);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
meta_get_u64(struct store *st, MDB_txn *txn, const char *name, uint64_t *v)
{
	MDB_val k = { strlen(name), (void *)name }, d;
	int rc = mdb_get(txn, st->meta, &k, &d);

	*v = 0;
	if (rc == 0 && d.mv_size == sizeof(*v))
		memcpy(v, d.mv_data, sizeof(*v));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
meta_put_u64(struct store *st, MDB_txn *txn, const char *name, uint64_t v)
{
	MDB_val k = { strlen(name), (void *)name }, d = { sizeof(v), &v };

	return mdb_put(txn, st->meta, &k, &d, 0);
}

/* Reads the schema: 0 with *schema set, or -1 if this oprun cannot use
 * the store (a newer schema). */
static int
read_schema(struct store *st, MDB_txn *txn, uint64_t *schema, char *err,
    size_t errlen)
{
	int rc = meta_get_u64(st, txn, "schema", schema);

	if (rc != 0)
		return lmdb_err(st, rc, "read schema", err, errlen);
	if (*schema > STORE_SCHEMA_VERSION)
		return errf(err, errlen, "store %s has schema version %llu; "
		    "this oprun understands up to %d: upgrade oprun or point "
		    "[store] path at another directory", st->path,
		    (unsigned long long)*schema, STORE_SCHEMA_VERSION);
	return 0;
}

/* Makes or upgrades the store: its databases and schema, in one write
 * transaction (the only one a reader ever needs, once). */
static int
create_schema(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	uint64_t schema = 0;
	int rc;

	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = open_dbs(st, txn, 1);
	if (rc != 0) {
		txn_abort(st, txn);
		return lmdb_err(st, rc, "create databases", err, errlen);
	}
	if (read_schema(st, txn, &schema, err, errlen) != 0) {
		txn_abort(st, txn);
		return -1;
	}
	/* Schema 2 only added databases (documents, the directory cache),
	 * made above; a store of schema 1 needs nothing else. */
	if (schema < STORE_SCHEMA_VERSION) {
		rc = meta_put_u64(st, txn, "schema", STORE_SCHEMA_VERSION);
		if (rc == 0 && schema == 0)
			rc = meta_put_u64(st, txn, "next_id", 1);
		if (rc == 0 && schema == 0)
			rc = meta_put_u64(st, txn, "next_notif", 1);
		if (rc != 0) {
			txn_abort(st, txn);
			return lmdb_err(st, rc, "write schema", err, errlen);
		}
	}
	return txn_commit(st, txn, err, errlen);
}

static int
damaged(const char *path, char *err, size_t errlen, const char *what)
{
	return errf(err, errlen, "store %s is damaged: %s; oprun will not "
	    "guess at its contents: stop oprun, then restore data.mdb from a "
	    "backup (README, Backups) or move the directory away to start an "
	    "empty store (run ids would start again at 1)", path, what);
}

/* Opens the databases of an existing, current store without the writer
 * lock: 0, 1 if the store must be made (nothing ever committed) or
 * upgraded (an older schema) first, -1 on error.  A store that has
 * commits but lacks a database of its schema is damaged, never made
 * afresh over its contents. */
static int
open_existing(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	uint64_t schema = 0;
	int rc;

	if (txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = mdb_dbi_open(txn, "meta", 0, &st->meta);
	if (rc == 0 && read_schema(st, txn, &schema, err, errlen) != 0)
		rc = -1;	/* err is set */
	else if (rc == 0 && schema == STORE_SCHEMA_VERSION)
		rc = open_dbs(st, txn, 0);
	/* The snapshot's own id, not the environment's last one: a store
	 * made by another process after this snapshot began is not damaged,
	 * it is just not in the snapshot (create_schema will see it). */
	if (rc == MDB_NOTFOUND && mdb_txn_id(txn) > 0)
		rc = damaged(st->path, err, errlen, "its databases are "
		    "missing (the file's pages are garbled)");
	else if (rc == MDB_NOTFOUND || (rc == 0 &&
	    schema < STORE_SCHEMA_VERSION))
		rc = 1;
	else if (rc != 0 && rc != -1)
		rc = lmdb_err(st, rc, "open databases", err, errlen);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* Committing a read-only transaction keeps its database handles. */
	rc = mdb_txn_commit(txn);
	return rc == 0 ? 0 : lmdb_err(st, rc, "open databases", err, errlen);
}

/* A data file LMDB would silently start afresh (missing beside its lock
 * file, or empty) is refused.  Returns 0, 1 if there is none yet (a new
 * store), -1 with err set. */
static int
check_data_file(const char *path, struct stat *sb, char *err, size_t errlen)
{
	char data[4200], lock[4200];
	struct stat lsb;

	snprintf(data, sizeof(data), "%s/data.mdb", path);
	snprintf(lock, sizeof(lock), "%s/lock.mdb", path);
	for (int tries = 0; tries < 40; tries++) {
		if (stat(data, sb) != 0) {
			if (errno != ENOENT)
				return errf(err, errlen, "store %s: cannot "
				    "read data.mdb: %s", path,
				    strerror(errno));
			if (stat(lock, &lsb) != 0)
				return 1;
			/* LMDB makes lock.mdb before data.mdb: another
			 * process may be creating the store this instant. */
			if (tries + 1 < 40) {
				usleep(25000);
				continue;
			}
			return damaged(path, err, errlen, "data.mdb is missing "
			    "but lock.mdb is there (the data file was deleted "
			    "or moved)");
		}
		if (!S_ISREG(sb->st_mode))
			return damaged(path, err, errlen, "data.mdb is not "
			    "a regular file");
		if (sb->st_size > 0)
			return 0;
		/* Another process may be creating it this instant. */
		usleep(25000);
	}
	return damaged(path, err, errlen, "data.mdb is empty (0 bytes)");
}

/* Reads the data file's header without a lock or a map that could fault:
 * a garbled header or a file shorter than its last committed page is
 * refused before anything touches its pages (a SIGBUS otherwise). */
static int
check_data_header(const char *path, const struct stat *sb, char *err,
    size_t errlen)
{
	MDB_env *env;
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t need;
	int rc = mdb_env_create(&env);

	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, 16);
	if (rc == 0)
		rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK |
		    MDB_NOTLS, 0600);
	if (rc == 0)
		rc = mdb_env_info(env, &info);
	if (rc == 0)
		rc = mdb_env_stat(env, &ms);
	mdb_env_close(env);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ||
	    rc == MDB_CORRUPTED)
		return damaged(path, err, errlen, "data.mdb is not a valid "
		    "LMDB file (its header is garbled)");
	if (rc != 0)
		return errf(err, errlen, "store %s: cannot read data.mdb: %s",
		    path, mdb_strerror(rc));
	need = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	if ((uint64_t)sb->st_size < need) {
		char what[200];

		snprintf(what, sizeof(what), "data.mdb is %lld bytes but its "
		    "committed pages need %llu (the file was truncated)",
		    (long long)sb->st_size, (unsigned long long)need);
		return damaged(path, err, errlen, what);
	}
	return 0;
}

/* LMDB stops on a page that makes no sense (a damaged file): say so in
 * words and exit, rather than die of an assertion. */
static void
lmdb_assert(MDB_env *env, const char *msg)
{
	const char *path = "";

	mdb_env_get_path(env, &path);
	fprintf(stderr, "oprun: store %s is damaged: LMDB found an "
	    "inconsistent page (%s); stop oprun, then restore data.mdb from "
	    "a backup (README, Backups)\n", path, msg);
	_exit(1);
}

static int
env_open(struct store *st, const struct store_options *o, unsigned flags)
{
	int rc = mdb_env_create(&st->env);

	if (rc == 0)
		rc = mdb_env_set_assert(st->env, lmdb_assert);

	if (rc == 0)
		rc = mdb_env_set_maxdbs(st->env, 16);
	if (rc == 0)
		rc = mdb_env_set_mapsize(st->env,
		    (size_t)o->map_size_mb * 1024 * 1024);
	if (rc == 0)
		rc = mdb_env_set_maxreaders(st->env, 512);
	if (rc == 0)
		rc = mdb_env_open(st->env, o->path, flags, 0600);
	if (rc != 0) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
	return rc;
}

/* A map written through (MDB_WRITEMAP) faults with SIGBUS when a page
 * lands on a full disk, so its whole file is allocated first; where that
 * cannot be done the store is written with pwrite, which fails cleanly. */
static int
writemap_allocated(struct store *st)
{
	int fd;

	if (mdb_env_get_fd(st->env, &fd) != 0)
		return 0;
	/* fallocate, not posix_fallocate: never emulated by writing
	 * zeros through the whole map. */
	return fallocate(fd, 0, 0, (off_t)st->map_size_mb * 1024 * 1024) == 0;
}

static int
env_create(struct store *st, const struct store_options *o, char *err,
    size_t errlen)
{
	/* Relaxed: no fsync, and pages written through a writable map
	 * rather than copied by pwrite (twice the submit rate).  A crash of
	 * the process loses nothing; power loss may lose the last writes. */
	unsigned flags = MDB_NOTLS | (o->durable ? 0 : MDB_NOSYNC);
	struct stat sb;
	int rc, dead = 0;

	if (mkdir(o->path, 0700) != 0 && errno != EEXIST)
		return errf(err, errlen, "store %s: cannot create directory: "
		    "%s; check [store] path", o->path, strerror(errno));
	rc = check_data_file(o->path, &sb, err, errlen);
	if (rc < 0 || (rc == 0 && check_data_header(o->path, &sb, err,
	    errlen) != 0))
		return -1;
	rc = env_open(st, o, flags | (o->durable ? 0 : MDB_WRITEMAP));
	if (rc == 0 && !o->durable && !writemap_allocated(st)) {
		mdb_env_close(st->env);
		rc = env_open(st, o, flags);
	}
	if (rc != 0)
		return lmdb_err(st, rc, "open", err, errlen);
	/* Reader slots of crashed processes would pin old pages forever. */
	mdb_reader_check(st->env, &dead);
	return 0;
}

int
store_open(struct store **out, const struct store_options *o, char *err,
    size_t errlen)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int rc;

	snprintf(st->path, sizeof(st->path), "%s", o->path);
	snprintf(st->config_file, sizeof(st->config_file), "%s",
	    o->config_file != NULL ? o->config_file : "the configuration");
	st->map_size_mb = o->map_size_mb;
	st->lock_fd = -1;
	st->up_fd = -1;
	if (env_create(st, o, err, errlen) != 0)
		goto fail;
	rc = open_existing(st, err, errlen);
	if (rc == 1)
		rc = create_schema(st, err, errlen);
	if (rc != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
	return -1;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	mdb_env_sync(st->env, 1);
	mdb_env_close(st->env);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	if (st->up_fd >= 0)
		close(st->up_fd);
	free(st);
}

static int
open_store_file(const struct store *st, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", st->path, name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Two flocks on the store's own files: a shared one on lock.mdb that
 * every runner holds (a runner is up), and for `oprun serve` an
 * exclusive one on data.mdb (the only supervisor). */
int
store_lock_runner(struct store *st, int sole, char *err, size_t errlen)
{
	int up = open_store_file(st, "lock.mdb");
	int data = sole ? open_store_file(st, "data.mdb") : -1;

	if (up < 0 || (sole && data < 0)) {
		errf(err, errlen, "store %s: cannot open its files to lock "
		    "them: %s", st->path, strerror(errno));
		goto fail;
	}
	if (sole && flock(data, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			errf(err, errlen, "another `oprun serve` is already "
			    "running on this store (%s, perhaps reached "
			    "through another path); stop it first", st->path);
		else
			errf(err, errlen, "store %s: cannot lock data.mdb: "
			    "%s", st->path, strerror(errno));
		goto fail;
	}
	if (flock(up, LOCK_SH) != 0) {
		errf(err, errlen, "store %s: cannot lock lock.mdb: %s",
		    st->path, strerror(errno));
		goto fail;
	}
	st->lock_fd = data;
	st->up_fd = up;
	return 0;
fail:
	if (up >= 0)
		close(up);
	if (data >= 0)
		close(data);
	return -1;
}

int
store_runner_active(const struct store *st)
{
	int fd = open_store_file(st, "lock.mdb"), busy;

	if (fd < 0)
		return 0;
	busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

int
store_backup(struct store *st, const char *dir, char *err, size_t errlen)
{
	char data[4200];
	struct stat sb;
	int rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return errf(err, errlen, "backup %s: cannot create the "
		    "directory: %s", dir, strerror(errno));
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	if (stat(data, &sb) == 0)
		return errf(err, errlen, "backup %s already holds a data.mdb; "
		    "name a new or empty directory", dir);
	rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
	if (rc != 0) {
		unlink(data);
		return lmdb_err(st, rc, "backup", err, errlen);
	}
	/* A backup holds what the store holds: no wider access. */
	chmod(data, 0600);
	return 0;
}

/* ---- records inside a transaction -------------------------------- */

static int
get_run(struct store *st, MDB_txn *txn, uint64_t id, struct run *r)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	id_key(id, kb);
	rc = mdb_get(txn, st->runs, &k, &v);
	if (rc != 0)
		return rc;
	return decode_run(&v, id, r) == 0 ? 0 : MDB_CORRUPTED;
}

static int
put_run(struct store *st, MDB_txn *txn, const struct run *r)
{
	unsigned char kb[8];
	struct enc e = { 0 };
	MDB_val k = { 8, kb }, v;
	int rc;

	id_key(r->id, kb);
	encode_run(r, &e);
	v.mv_size = e.len;
	v.mv_data = e.p;
	rc = mdb_put(txn, st->runs, &k, &v, 0);
	free(e.p);
	return rc;
}

/* kind + value + NUL + id(8); returns the key length or 0 if too long. */
static size_t
index_key(char kind, const char *value, uint64_t id, unsigned char *buf)
{
	size_t n = strlen(value);

	if (n + 10 > KEY_MAX)
		return 0;
	buf[0] = (unsigned char)kind;
	memcpy(buf + 1, value, n);
	buf[1 + n] = '\0';
	id_key(id, buf + 2 + n);
	return n + 10;
}

static int
index_op(struct store *st, MDB_txn *txn, char kind, const char *value,
    uint64_t id, int del)
{
	unsigned char kb[KEY_MAX];
	MDB_val k = { index_key(kind, value, id, kb), kb }, v = { 0, "" };
	int rc;

	if (k.mv_size == 0)
		return MDB_BAD_VALSIZE;
	rc = del ? mdb_del(txn, st->index, &k, NULL) :
	    mdb_put(txn, st->index, &k, &v, 0);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
index_all(struct store *st, MDB_txn *txn, const struct run *r, int del)
{
	int rc = index_op(st, txn, 't', r->tenant, r->id, del);

	if (rc == 0)
		rc = index_op(st, txn, 'y', r->type, r->id, del);
	if (rc == 0)
		rc = index_op(st, txn, 'i', r->initiator, r->id, del);
	if (rc == 0)
		rc = index_op(st, txn, 's', run_state_name(r->state), r->id,
		    del);
	return rc;
}

static int
queue_op(struct store *st, MDB_txn *txn, uint64_t id, int del)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v = { 0, "" };
	int rc;

	id_key(id, kb);
	rc = del ? mdb_del(txn, st->queue, &k, NULL) :
	    mdb_put(txn, st->queue, &k, &v, 0);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Deletes the identity row only if it still points at this run. */
static int
active_release(struct store *st, MDB_txn *txn, const struct run *r)
{
	MDB_val k = { 32, (void *)r->dedupe_key }, v;
	int rc = mdb_get(txn, st->active, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size == 8 && key_id(v.mv_data) == r->id)
		return mdb_del(txn, st->active, &k, NULL);
	return 0;
}

static int
next_counter(struct store *st, MDB_txn *txn, const char *name, uint64_t *v)
{
	int rc = meta_get_u64(st, txn, name, v);

	if (rc == 0 && *v == 0)
		*v = 1;
	if (rc == 0)
		rc = meta_put_u64(st, txn, name, *v + 1);
	return rc;
}

int
store_next_counter(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *v)
{
	return next_counter(st, txn, name, v);
}

static void
encode_notification(const struct notification *n, struct enc *e)
{
	uint8_t version = NOTIF_RECORD_VERSION, kind = (uint8_t)n->kind;
	uint8_t state = (uint8_t)n->state, read = (uint8_t)n->read;

	ENC_VAL(e, version);
	ENC_VAL(e, kind);
	ENC_VAL(e, state);
	ENC_VAL(e, read);
	ENC_VAL(e, n->run_id);
	ENC_VAL(e, n->created_at);
	if (n->kind == NOTIFY_FINISHED)
		enc_put(e, &n->counts, sizeof(n->counts));
	enc_str(e, n->type);
	enc_str(e, n->tenant);
	enc_str(e, n->reason);
}

static int
decode_notification(const MDB_val *v, uint64_t id, struct notification *n)
{
	struct dec d = { v->mv_data, v->mv_size, 0, 0 };
	uint8_t version, kind, state, read;

	memset(n, 0, sizeof(*n));
	n->id = id;
	dec_get(&d, &version, 1);
	dec_get(&d, &kind, 1);
	dec_get(&d, &state, 1);
	dec_get(&d, &read, 1);
	if (version != NOTIF_RECORD_VERSION || state >= RUN_STATE_COUNT)
		return -1;
	n->kind = kind == NOTIFY_FINISHED ? NOTIFY_FINISHED : NOTIFY_QUEUED;
	n->state = (enum run_state)state;
	n->read = read != 0;
	dec_get(&d, &n->run_id, sizeof(n->run_id));
	dec_get(&d, &n->created_at, sizeof(n->created_at));
	if (n->kind == NOTIFY_FINISHED)
		dec_get(&d, &n->counts, sizeof(n->counts));
	n->type = dec_str(&d);
	n->tenant = dec_str(&d);
	n->reason = dec_str(&d);
	if (d.bad || n->type == NULL || n->tenant == NULL) {
		store_notifications_free(n, 0);
		free(n->type);
		free(n->tenant);
		free(n->reason);
		return -1;
	}
	return 0;
}

static size_t
user_key(const char *user, uint64_t id, unsigned char *buf)
{
	size_t n = strlen(user);

	if (n + 9 > KEY_MAX)
		return 0;
	memcpy(buf, user, n);
	buf[n] = '\0';
	id_key(id, buf + n + 1);
	return n + 9;
}

/* Writes the notification that reports run r's new state to its
 * initiator, in the transaction that made the change. */
static int
notify(struct store *st, MDB_txn *txn, const struct run *r, int64_t at)
{
	struct notification n = { 0 };
	unsigned char kb[KEY_MAX];
	struct enc e = { 0 };
	MDB_val k, v;
	int rc;

	n.kind = r->state == RUN_QUEUED ? NOTIFY_QUEUED : NOTIFY_FINISHED;
	n.state = r->state;
	n.run_id = r->id;
	n.created_at = at;
	n.counts = r->counts;
	n.type = r->type;
	n.tenant = r->tenant;
	n.reason = r->reason;
	rc = next_counter(st, txn, "next_notif", &n.id);
	if (rc != 0)
		return rc;
	k.mv_size = user_key(r->initiator, n.id, kb);
	k.mv_data = kb;
	if (k.mv_size == 0)
		return MDB_BAD_VALSIZE;
	encode_notification(&n, &e);
	v.mv_size = e.len;
	v.mv_data = e.p;
	rc = mdb_put(txn, st->notif, &k, &v, 0);
	free(e.p);
	return rc;
}

/*
 * Applies a lifecycle transition of run r (already loaded, state = the
 * current one) inside txn, with every side effect it implies: queue entry,
 * identity row, state index, timestamps, claim, history and notification.
 * The one place a run's state changes; illegal transitions are refused.
 */
static int
transition(struct store *st, MDB_txn *txn, struct run *r, enum run_state to,
    const char *actor, const char *reason)
{
	enum run_state from = r->state;
	int64_t at = now_ms();
	int rc;

	if (!run_transition_allowed(from, to))
		return MDB_INCOMPATIBLE;
	rc = index_op(st, txn, 's', run_state_name(from), r->id, 1);
	if (rc == 0 && from == RUN_QUEUED)
		rc = queue_op(st, txn, r->id, 1);
	if (rc != 0)
		return rc;
	r->state = to;
	if (reason != NULL)
		run_set_text(&r->reason, reason, RUN_MAX_MESSAGE);
	/* A run that stops running drops the directory snapshots it did
	 * not commit; one requeued for another attempt also drops its
	 * documents, so the next attempt never mixes with this one. */
	if (from == RUN_RUNNING)
		rc = dir_drop_stages(st, txn, r->id);
	if (rc == 0 && from == RUN_RUNNING && to == RUN_QUEUED)
		rc = docs_delete_run(st, txn, r->id);
	if (rc != 0)
		return rc;
	if (to == RUN_RUNNING) {
		r->started_at = at;
	} else if (to == RUN_QUEUED) {
		run_reset_attempt(r);
		r->attempt++;
		r->claim_epoch = r->claim_start = 0;
		r->claim_pid = 0;
		rc = queue_op(st, txn, r->id, 0);
	} else {
		r->finished_at = at;
		r->claim_pid = 0;
		rc = active_release(st, txn, r);
		if (rc == 0)
			rc = notify(st, txn, r, at);
	}
	run_add_event(r, to, at, actor, reason);
	if (rc == 0)
		rc = index_op(st, txn, 's', run_state_name(to), r->id, 0);
	if (rc == 0)
		rc = put_run(st, txn, r);
	return rc;
}

static int
transition_err(struct store *st, int rc, const struct run *r,
    enum run_state to, char *err, size_t errlen)
{
	if (rc == MDB_INCOMPATIBLE)
		return errf(err, errlen, "run %llu is %s; it cannot become %s",
		    (unsigned long long)r->id, run_state_name(r->state),
		    run_state_name(to));
	return lmdb_err(st, rc, "update run", err, errlen);
}

/* ---- submit ------------------------------------------------------ */

static int
find_active(struct store *st, MDB_txn *txn, const uint8_t key[32],
    uint64_t *id)
{
	MDB_val k = { 32, (void *)key }, v;
	int rc = mdb_get(txn, st->active, &k, &v);

	if (rc == 0 && v.mv_size == 8)
		*id = key_id(v.mv_data);
	return rc;
}

static int
create_run(struct store *st, MDB_txn *txn, struct run *r, const char *actor)
{
	MDB_val k = { 32, r->dedupe_key }, v;
	unsigned char idb[8];
	int rc = next_counter(st, txn, "next_id", &r->id);

	if (rc != 0)
		return rc;
	r->state = RUN_QUEUED;
	r->attempt = 1;
	if (r->created_at == 0)
		r->created_at = now_ms();
	run_add_event(r, RUN_QUEUED, r->created_at, actor, NULL);
	id_key(r->id, idb);
	v.mv_size = 8;
	v.mv_data = idb;
	rc = mdb_put(txn, st->active, &k, &v, MDB_NOOVERWRITE);
	if (rc == 0)
		rc = queue_op(st, txn, r->id, 0);
	if (rc == 0)
		rc = index_all(st, txn, r, 0);
	if (rc == 0)
		rc = put_run(st, txn, r);
	if (rc == 0)
		rc = notify(st, txn, r, r->created_at);
	return rc;
}

int
store_submit(struct store *st, struct run *r, const char *actor,
    struct store_submit_result *res, char *err, size_t errlen)
{
	MDB_txn *txn;
	uint64_t existing = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = find_active(st, txn, r->dedupe_key, &existing);
	if (rc == 0) {
		struct run cur;

		res->id = existing;
		res->deduplicated = 1;
		res->state = RUN_QUEUED;
		if (get_run(st, txn, existing, &cur) == 0) {
			res->state = cur.state;
			run_free(&cur);
		}
		txn_abort(st, txn);
		return 0;
	}
	if (rc == MDB_NOTFOUND)
		rc = create_run(st, txn, r, actor);
	if (rc != 0) {
		txn_abort(st, txn);
		return lmdb_err(st, rc, "submit", err, errlen);
	}
	if (txn_commit(st, txn, err, errlen) != 0)
		return -1;
	res->id = r->id;
	res->state = RUN_QUEUED;
	return 0;
}

/* ---- claim, progress, finish, cancel ----------------------------- */

/* Running runs per tenant, counted once per claim when caps are set. */
struct running_count {
	char **tenants;
	size_t n;
};

static int
count_running(struct store *st, MDB_txn *txn, struct running_count *rc_out)
{
	struct run_filter f = { .has_state = 1, .state = RUN_RUNNING,
		.limit = SIZE_MAX };
	struct run_list l = { 0 };
	int rc = list_by_index(st, txn, 's', "running", &f, &l);

	rc_out->tenants = xcalloc(l.n, sizeof(char *));
	for (size_t i = 0; i < l.n; i++) {
		rc_out->tenants[i] = l.v[i].tenant;
		l.v[i].tenant = NULL;
		run_free(&l.v[i]);
	}
	rc_out->n = l.n;
	free(l.v);
	return rc;
}

static size_t
running_for(const struct running_count *c, const char *tenant)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += strcmp(c->tenants[i], tenant) == 0;
	return n;
}

static void
running_count_free(struct running_count *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->tenants[i]);
	free(c->tenants);
}

/* 1 if the run may start now under the claimant's concurrency caps. */
static int
under_caps(const struct store_claimant *who, const struct running_count *c,
    const struct run *r, void *arg)
{
	uint32_t cap;

	if (who->global_cap > 0 && c->n >= who->global_cap)
		return 0;
	cap = who->tenant_cap != NULL ? who->tenant_cap(r->tenant, arg) : 0;
	return cap == 0 || running_for(c, r->tenant) < cap;
}

/* The queued run with the smallest id above after, in *out. */
static int
next_queued(struct store *st, MDB_txn *txn, uint64_t after, struct run *out)
{
	unsigned char kb[8];
	MDB_cursor *cur;
	MDB_val k = { 8, kb }, v;
	int rc = mdb_cursor_open(txn, st->queue, &cur);

	if (rc != 0)
		return rc;
	id_key(after + 1, kb);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (rc != 0)
		return rc; /* MDB_NOTFOUND: no more queued runs */
	if (k.mv_size != 8)
		return MDB_CORRUPTED;
	return get_run(st, txn, key_id(k.mv_data), out);
}

/* Starts r for who: the claim stamp, the deadline, running. */
static int
start_run(struct store *st, MDB_txn *txn, const struct store_claimant *who,
    void *arg, struct run *r)
{
	int64_t timeout = who->timeout_ms != NULL ?
	    who->timeout_ms(r->type, arg) : 0;

	r->claim_epoch = who->epoch;
	r->claim_pid = who->pid;
	r->claim_start = who->start;
	r->deadline_ms = timeout > 0 ? now_ms() + timeout : 0;
	return transition(st, txn, r, RUN_RUNNING, who->actor, NULL);
}

/* Scanning a queue whose head is all capped tenants stops here. */
#define CLAIM_SCAN_MAX 10000

/*
 * Takes the oldest queued run that refuse() accepts and the caps allow;
 * refused runs are failed on the way, runs of tenants at their cap are
 * skipped (they keep their place), so one busy tenant never holds up the
 * others.  Returns 0 with *out, MDB_NOTFOUND if nothing can start.
 */
static int
claim_in_txn(struct store *st, MDB_txn *txn, const struct store_claimant *who,
    store_refuse_fn refuse, void *arg, int batch_only, struct run *out)
{
	struct running_count running = { 0 };
	uint64_t after = 0;
	int rc = 0, capped = who->tenant_cap != NULL || who->global_cap > 0;

	if (capped)
		rc = count_running(st, txn, &running);
	for (int scanned = 0; rc == 0; scanned++) {
		const char *why;

		if (scanned == CLAIM_SCAN_MAX ||
		    (who->global_cap > 0 && running.n >= who->global_cap)) {
			rc = MDB_NOTFOUND;
			break;
		}
		rc = next_queued(st, txn, after, out);
		if (rc != 0)
			break;
		after = out->id;
		why = refuse != NULL ? refuse(out->type, arg) : NULL;
		if (why != NULL) {
			rc = transition(st, txn, out, RUN_FAILED, "system", why);
			run_free(out);
			continue;
		}
		if (capped && !under_caps(who, &running, out, arg)) {
			run_free(out);
			continue;
		}
		if (batch_only && (who->batchable == NULL ||
		    !who->batchable(out->type, arg))) {
			/* Keep strict oldest-first order: end the batch. */
			run_free(out);
			rc = MDB_NOTFOUND;
			break;
		}
		rc = start_run(st, txn, who, arg, out);
		if (rc != 0)
			run_free(out);
		break;
	}
	running_count_free(&running);
	return rc;
}

/* Claims up to max runs into out (the first any claimable run, the rest
 * only batchable ones); *n gets how many.  LMDB code or 0. */
static int
claim_many_in_txn(struct store *st, MDB_txn *txn,
    const struct store_claimant *who, store_refuse_fn refuse, void *arg,
    struct run *out, size_t max, size_t *n)
{
	int rc = 0;

	for (*n = 0; *n < max; (*n)++) {
		rc = claim_in_txn(st, txn, who, refuse, arg, *n > 0, &out[*n]);
		if (rc != 0)
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0) {
		store_runs_free_array(out, *n);
		*n = 0;
	}
	return rc;
}

int
store_claim_many(struct store *st, const struct store_claimant *who,
    store_refuse_fn refuse, void *arg, struct run *out, size_t max,
    size_t *n, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	*n = 0;
	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = claim_many_in_txn(st, txn, who, refuse, arg, out, max, n);
	if (rc != 0) {
		txn_abort(st, txn);
		return lmdb_err(st, rc, "claim", err, errlen);
	}
	/* Commits even with nothing claimed: refused runs were failed. */
	if (txn_commit(st, txn, err, errlen) != 0) {
		store_runs_free_array(out, *n);
		*n = 0;
		return -1;
	}
	return 0;
}

int
store_claim(struct store *st, const struct store_claimant *who,
    store_refuse_fn refuse, void *arg, struct run *out, char *err,
    size_t errlen)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (store_claim_many(st, who, refuse, arg, out, 1, &n, err,
	    errlen) != 0)
		return -1;
	return n == 1 ? 1 : 0;
}

/* Copies what the executor reports onto the stored record. */
static void
copy_progress(struct run *dst, const struct run *src)
{
	dst->counts = src->counts;
	dst->failures_total = src->failures_total;
	for (size_t i = 0; i < dst->nfailures; i++) {
		free(dst->failures[i].item);
		free(dst->failures[i].message);
	}
	free(dst->failures);
	dst->failures = NULL;
	dst->nfailures = 0;
	if (src->nfailures > 0) {
		dst->failures = xcalloc(src->nfailures, sizeof(*dst->failures));
		for (size_t i = 0; i < src->nfailures; i++) {
			dst->failures[i].item = xstrdup(src->failures[i].item);
			dst->failures[i].message =
			    xstrdup(src->failures[i].message);
		}
		dst->nfailures = src->nfailures;
	}
}

/* Loads run r->id for an update by its claimant: 1 if not running. */
static int
load_claimed(struct store *st, MDB_txn *txn, const struct run *r,
    struct run *cur)
{
	int rc = get_run(st, txn, r->id, cur);

	if (rc != 0)
		return rc == MDB_NOTFOUND ? 1 : rc;
	if (cur->state != RUN_RUNNING || cur->claim_pid != r->claim_pid ||
	    cur->claim_epoch != r->claim_epoch) {
		run_free(cur);
		return 1;
	}
	return 0;
}

int
store_progress(struct store *st, const struct run *r,
    const struct store_writes *w, int *cancel_requested, char *err,
    size_t errlen)
{
	MDB_txn *txn;
	struct run cur;
	int rc;

	*cancel_requested = 0;
	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = load_claimed(st, txn, r, &cur);
	if (rc != 0) {
		txn_abort(st, txn);
		return rc == 1 ? 1 : lmdb_err(st, rc, "progress", err, errlen);
	}
	*cancel_requested = (cur.flags & RUN_FLAG_CANCEL_REQUESTED) != 0;
	copy_progress(&cur, r);
	rc = put_run(st, txn, &cur);
	run_free(&cur);
	if (rc == 0 && w != NULL)
		rc = docs_write(st, txn, r->id, w);
	if (rc == 0 && w != NULL)
		rc = dir_write(st, txn, r->id, w);
	if (rc != 0) {
		txn_abort(st, txn);
		return lmdb_err(st, rc, "progress", err, errlen);
	}
	return txn_commit(st, txn, err, errlen);
}

/* Records r's outcome on the stored run, if r's claimant still holds it:
 * 1 if it does not (someone else resolved it), else an LMDB code. */
static int
finish_in_txn(struct store *st, MDB_txn *txn, const struct run *r,
    enum run_state to, const char *actor)
{
	struct run cur;
	int rc = load_claimed(st, txn, r, &cur);

	if (rc != 0)
		return rc;
	copy_progress(&cur, r);
	run_set_text(&cur.result, r->result, RUN_MAX_RESULT);
	rc = transition(st, txn, &cur, to, actor, r->reason);
	run_free(&cur);
	return rc;
}

int
store_finish(struct store *st, const struct run *r, enum run_state to,
    const char *actor, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = finish_in_txn(st, txn, r, to, actor);
	if (rc != 0) {
		txn_abort(st, txn);
		if (rc == 1)
			return 1;
		return transition_err(st, rc, r, to, err, errlen);
	}
	return txn_commit(st, txn, err, errlen);
}

int
store_finish_many(struct store *st, const struct run *done,
    const enum run_state *to, size_t ndone, int *lost,
    const struct store_claimant *who, store_refuse_fn refuse, void *arg,
    struct run *next, size_t max, size_t *nnext, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc = 0;

	*nnext = 0;
	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < ndone && rc == 0; i++) {
		rc = finish_in_txn(st, txn, &done[i], to[i], who->actor);
		lost[i] = rc == 1;
		if (rc == 1)
			rc = 0;
		else if (rc != 0)
			transition_err(st, rc, &done[i], to[i], err, errlen);
	}
	if (rc == 0 && max > 0) {
		rc = claim_many_in_txn(st, txn, who, refuse, arg, next, max,
		    nnext);
		if (rc != 0)
			lmdb_err(st, rc, "claim", err, errlen);
	}
	if (rc != 0) {
		txn_abort(st, txn);
		return -1;
	}
	if (txn_commit(st, txn, err, errlen) != 0) {
		store_runs_free_array(next, *nnext);
		*nnext = 0;
		return -1;
	}
	return 0;
}

int
store_finish_claim(struct store *st, const struct run *r, enum run_state to,
    const struct store_claimant *who, store_refuse_fn refuse, void *arg,
    struct run *next, int *lost, char *err, size_t errlen)
{
	size_t n;

	memset(next, 0, sizeof(*next));
	if (store_finish_many(st, r, &to, 1, lost, who, refuse, arg, next, 1,
	    &n, err, errlen) != 0)
		return -1;
	return n == 1 ? 1 : 0;
}

int
store_resolve(struct store *st, uint64_t id, uint64_t epoch, int32_t pid,
    enum run_state to, const char *actor, const char *reason, char *err,
    size_t errlen)
{
	struct run key = { .id = id, .claim_epoch = epoch, .claim_pid = pid };
	MDB_txn *txn;
	struct run cur;
	int rc;

	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = load_claimed(st, txn, &key, &cur);
	if (rc == 0) {
		rc = transition(st, txn, &cur, to, actor, reason);
		if (rc != 0)
			transition_err(st, rc, &cur, to, err, errlen);
		run_free(&cur);
		rc = rc == 0 ? 0 : -1;
	} else if (rc != 1) {
		rc = lmdb_err(st, rc, "resolve", err, errlen);
	}
	if (rc != 0) {
		txn_abort(st, txn);
		return rc;
	}
	return txn_commit(st, txn, err, errlen);
}

/* Flags running run r for cancellation, once, with a history event. */
static int
flag_cancel(struct store *st, MDB_txn *txn, struct run *r, const char *actor,
    const char *reason, char *err, size_t errlen)
{
	int rc;

	if (r->flags & RUN_FLAG_CANCEL_REQUESTED)
		return 0;
	r->flags |= RUN_FLAG_CANCEL_REQUESTED;
	run_add_event(r, RUN_RUNNING, now_ms(), actor, reason);
	rc = put_run(st, txn, r);
	if (rc != 0)
		lmdb_err(st, rc, "cancel", err, errlen);
	return rc == 0 ? 0 : -2;
}

static int
cancel_in_txn(struct store *st, MDB_txn *txn, struct run *r,
    const char *actor, const char *why, char *err, size_t errlen)
{
	char reason[RUN_MAX_MESSAGE];
	int rc;

	if (why != NULL && r->state == RUN_RUNNING)
		return flag_cancel(st, txn, r, actor, why, err, errlen);
	snprintf(reason, sizeof(reason), "canceled by %s", actor);
	if (r->state == RUN_QUEUED) {
		rc = transition(st, txn, r, RUN_CANCELED, actor, reason);
		if (rc != 0)
			transition_err(st, rc, r, RUN_CANCELED, err, errlen);
		return rc == 0 ? 0 : -2;
	}
	if (r->state != RUN_RUNNING)
		return errf(err, errlen, "run %llu is already %s; only queued "
		    "or running runs can be canceled",
		    (unsigned long long)r->id, run_state_name(r->state));
	snprintf(reason, sizeof(reason), "cancel requested by %s", actor);
	return flag_cancel(st, txn, r, actor, reason, err, errlen);
}

static int
cancel_run(struct store *st, uint64_t id, const char *actor, const char *why,
    enum run_state *state_after, char *err, size_t errlen)
{
	MDB_txn *txn;
	struct run r;
	int rc;

	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -2;
	rc = get_run(st, txn, id, &r);
	if (rc != 0) {
		txn_abort(st, txn);
		if (rc == MDB_NOTFOUND) {
			errf(err, errlen, "run %llu does not exist",
			    (unsigned long long)id);
			return 1;
		}
		lmdb_err(st, rc, "cancel", err, errlen);
		return -2;
	}
	rc = cancel_in_txn(st, txn, &r, actor, why, err, errlen);
	*state_after = r.state;
	run_free(&r);
	if (rc != 0) {
		txn_abort(st, txn);
		return rc;
	}
	return txn_commit(st, txn, err, errlen) == 0 ? 0 : -2;
}

int
store_cancel(struct store *st, uint64_t id, const char *actor,
    enum run_state *state_after, char *err, size_t errlen)
{
	return cancel_run(st, id, actor, NULL, state_after, err, errlen);
}

int
store_request_cancel(struct store *st, uint64_t id, const char *actor,
    const char *reason, char *err, size_t errlen)
{
	enum run_state after;

	return cancel_run(st, id, actor, reason, &after, err, errlen);
}

/* ---- reading ----------------------------------------------------- */

int
store_get_run(struct store *st, uint64_t id, struct run *out, char *err,
    size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if (txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = get_run(st, txn, id, out);
	txn_abort(st, txn);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(st, rc, "read run", err, errlen);
	return 0;
}

void
store_runs_free_array(struct run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_free(&runs[i]);
}

void
store_runs_free(struct run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_free(&runs[i]);
	free(runs);
}

static int
run_matches(const struct run *r, const struct run_filter *f)
{
	if (f->tenant != NULL && strcmp(r->tenant, f->tenant) != 0)
		return 0;
	if (f->type != NULL && strcmp(r->type, f->type) != 0)
		return 0;
	if (f->initiator != NULL && strcmp(r->initiator, f->initiator) != 0)
		return 0;
	if (f->has_state && r->state != f->state)
		return 0;
	return 1;
}

/* Picks the index to walk: the most selective filter given. */
static int
pick_index(const struct run_filter *f, char *kind, const char **value)
{
	if (f->initiator != NULL) {
		*kind = 'i';
		*value = f->initiator;
	} else if (f->type != NULL) {
		*kind = 'y';
		*value = f->type;
	} else if (f->tenant != NULL) {
		*kind = 't';
		*value = f->tenant;
	} else if (f->has_state) {
		*kind = 's';
		*value = run_state_name(f->state);
	} else {
		return 0;
	}
	return 1;
}

static int
list_add(struct store *st, MDB_txn *txn, uint64_t id,
    const struct run_filter *f, struct run_list *l)
{
	struct run r;
	int rc = get_run(st, txn, id, &r);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (!run_matches(&r, f)) {
		run_free(&r);
		return 0;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = r;
	return 0;
}

/* Walks index rows kind+value newest first, below before_id. */
static int
list_by_index(struct store *st, MDB_txn *txn, char kind, const char *value,
    const struct run_filter *f, struct run_list *l)
{
	unsigned char kb[KEY_MAX];
	size_t plen = strlen(value) + 2;
	uint64_t start = f->before_id ? f->before_id : UINT64_MAX;
	MDB_cursor *cur;
	MDB_val k = { index_key(kind, value, start, kb), kb }, v;
	int rc;

	if (k.mv_size == 0)
		return 0;
	rc = mdb_cursor_open(txn, st->index, &cur);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
	    mdb_cursor_get(cur, &k, &v, MDB_LAST);
	while (rc == 0 && l->n < f->limit) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, kb, plen) != 0)
			break;
		rc = list_add(st, txn, key_id((unsigned char *)k.mv_data +
		    plen), f, l);
		if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
list_all(struct store *st, MDB_txn *txn, const struct run_filter *f,
    struct run_list *l)
{
	unsigned char kb[8];
	MDB_cursor *cur;
	MDB_val k = { 8, kb }, v;
	int rc;

	rc = mdb_cursor_open(txn, st->runs, &cur);
	if (rc != 0)
		return rc;
	if (f->before_id) {
		id_key(f->before_id, kb);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
		    mdb_cursor_get(cur, &k, &v, MDB_LAST);
	} else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	while (rc == 0 && l->n < f->limit) {
		rc = list_add(st, txn, key_id(k.mv_data), f, l);
		if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_list_runs(struct store *st, const struct run_filter *f,
    struct run **out, size_t *n, char *err, size_t errlen)
{
	struct run_list l = { 0 };
	MDB_txn *txn;
	const char *value;
	char kind;
	int rc;

	*out = NULL;
	*n = 0;
	if (txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	if (pick_index(f, &kind, &value))
		rc = list_by_index(st, txn, kind, value, f, &l);
	else
		rc = list_all(st, txn, f, &l);
	txn_abort(st, txn);
	if (rc != 0) {
		store_runs_free(l.v, l.n);
		return lmdb_err(st, rc, "list runs", err, errlen);
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

/* ---- notifications ----------------------------------------------- */

void
store_notifications_free(struct notification *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].type);
		free(v[i].tenant);
		free(v[i].reason);
	}
	if (n > 0)
		free(v);
}

struct notif_list {
	struct notification *v;
	size_t n, cap, limit;
	uint64_t unread;
};

/* Walks user's notifications newest first; want_read selects the pass. */
static int
notif_pass(struct store *st, MDB_txn *txn, const char *user, int want_read,
    struct notif_list *l)
{
	unsigned char kb[KEY_MAX];
	size_t plen = strlen(user) + 1;
	MDB_cursor *cur;
	MDB_val k = { user_key(user, UINT64_MAX, kb), kb }, v;
	int rc;

	if (k.mv_size == 0)
		return 0;
	rc = mdb_cursor_open(txn, st->notif, &cur);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
	    mdb_cursor_get(cur, &k, &v, MDB_LAST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		struct notification nt;

		if (k.mv_size != plen + 8 || memcmp(k.mv_data, kb, plen) != 0)
			break;
		if (decode_notification(&v, key_id((unsigned char *)k.mv_data +
		    plen), &nt) != 0)
			continue;
		if (!nt.read)
			l->unread++;
		if (nt.read != want_read || l->n >= l->limit) {
			store_notifications_free(&nt, 0);
			free(nt.type);
			free(nt.tenant);
			free(nt.reason);
			continue;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 16;
			l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = nt;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_notifications(struct store *st, const char *user, int unread_only,
    size_t limit, struct notification **out, size_t *n, uint64_t *unread,
    char *err, size_t errlen)
{
	struct notif_list l = { 0 };
	MDB_txn *txn;
	int rc;

	l.limit = limit;
	if (txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = notif_pass(st, txn, user, 0, &l);
	if (rc == 0 && !unread_only) {
		uint64_t unread_count = l.unread;

		rc = notif_pass(st, txn, user, 1, &l);
		l.unread = unread_count;
	}
	txn_abort(st, txn);
	if (rc != 0) {
		store_notifications_free(l.v, l.n);
		return lmdb_err(st, rc, "list notifications", err, errlen);
	}
	*out = l.v;
	*n = l.n;
	*unread = l.unread;
	return 0;
}

/* Sets the read byte (offset 3) of the record under the cursor. */
static int
mark_one(MDB_cursor *cur, MDB_val *k, MDB_val *v, uint64_t *marked)
{
	unsigned char buf[4096];

	if (v->mv_size < 4 || v->mv_size > sizeof(buf) ||
	    ((unsigned char *)v->mv_data)[3] != 0)
		return 0;
	memcpy(buf, v->mv_data, v->mv_size);
	buf[3] = 1;
	v->mv_data = buf;
	(*marked)++;
	return mdb_cursor_put(cur, k, v, MDB_CURRENT);
}

static int
mark_in_txn(struct store *st, MDB_txn *txn, const char *user, uint64_t id,
    uint64_t *marked)
{
	unsigned char kb[KEY_MAX];
	size_t plen = strlen(user) + 1;
	MDB_cursor *cur;
	MDB_val k = { user_key(user, id, kb), kb }, v;
	int rc;

	if (k.mv_size == 0)
		return MDB_NOTFOUND;
	rc = mdb_cursor_open(txn, st->notif, &cur);
	if (rc != 0)
		return rc;
	if (id != 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
		if (rc == 0)
			rc = mark_one(cur, &k, &v, marked);
	} else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size != plen + 8 ||
			    memcmp(k.mv_data, kb, plen) != 0)
				break;
			rc = mark_one(cur, &k, &v, marked);
			if (rc != 0)
				break;
		}
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	mdb_cursor_close(cur);
	return rc;
}

int
store_notifications_mark_read(struct store *st, const char *user,
    uint64_t id, uint64_t *marked, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	*marked = 0;
	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = mark_in_txn(st, txn, user, id, marked);
	if (rc != 0) {
		txn_abort(st, txn);
		if (rc == MDB_NOTFOUND) {
			errf(err, errlen, "notification %llu is not one of "
			    "%s's; list them with `oprun notifications --user "
			    "%s`", (unsigned long long)id, user, user);
			return 1;
		}
		return lmdb_err(st, rc, "mark read", err, errlen);
	}
	return txn_commit(st, txn, err, errlen);
}

/* ---- plugin key/value -------------------------------------------- */

static size_t
kv_key(const char *plugin, const char *key, unsigned char *buf)
{
	size_t pn = strlen(plugin), kn = strlen(key);

	if (kn == 0 || kn > 255 || pn + kn + 1 > KEY_MAX)
		return 0;
	memcpy(buf, plugin, pn);
	buf[pn] = '\0';
	memcpy(buf + pn + 1, key, kn);
	return pn + kn + 1;
}

int
store_kv_get(struct store *st, const char *plugin, const char *key,
    void *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	unsigned char kb[KEY_MAX];
	MDB_val k = { kv_key(plugin, key, kb), kb }, v;
	MDB_txn *txn;
	int rc;

	if (k.mv_size == 0)
		return errf(err, errlen, "key/value: key must be 1 to 255 "
		    "bytes");
	if (txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = mdb_get(txn, st->kv, &k, &v);
	if (rc == 0) {
		*len = v.mv_size;
		memcpy(buf, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
	}
	txn_abort(st, txn);
	if (rc == MDB_NOTFOUND)
		return 1;
	return rc == 0 ? 0 : lmdb_err(st, rc, "kv get", err, errlen);
}

static int
kv_write(struct store *st, const char *plugin, const char *key,
    const void *val, size_t len, int del, char *err, size_t errlen)
{
	unsigned char kb[KEY_MAX];
	MDB_val k = { kv_key(plugin, key, kb), kb }, v = { len, (void *)val };
	MDB_txn *txn;
	int rc;

	if (k.mv_size == 0)
		return errf(err, errlen, "key/value: key must be 1 to 255 "
		    "bytes");
	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = del ? mdb_del(txn, st->kv, &k, NULL) :
	    mdb_put(txn, st->kv, &k, &v, 0);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0) {
		txn_abort(st, txn);
		return lmdb_err(st, rc, "kv write", err, errlen);
	}
	return txn_commit(st, txn, err, errlen);
}

int
store_kv_put(struct store *st, const char *plugin, const char *key,
    const void *val, size_t len, char *err, size_t errlen)
{
	return kv_write(st, plugin, key, val, len, 0, err, errlen);
}

int
store_kv_delete(struct store *st, const char *plugin, const char *key,
    char *err, size_t errlen)
{
	return kv_write(st, plugin, key, NULL, 0, 1, err, errlen);
}

/* ---- prune ------------------------------------------------------- */

struct prune_counts {
	uint64_t runs, notifications, kept;
	int with_documents;
};

/* Deletes terminal run r if it finished before cutoff: 1 if it did, 0
 * if it is kept, else an LMDB code. */
static int
prune_one(struct store *st, MDB_txn *txn, MDB_cursor *cur,
    const struct run *r, int64_t cutoff, struct prune_counts *c)
{
	int rc, has;

	if (!run_state_terminal(r->state) || r->finished_at >= cutoff)
		return 0;
	has = docs_run_has(st, txn, r->id);
	if (has < 0)
		return MDB_PANIC;
	if (has && !c->with_documents) {
		c->kept++;
		return 0;
	}
	rc = has ? docs_delete_run(st, txn, r->id) : 0;
	if (rc == 0)
		rc = index_all(st, txn, r, 1);
	if (rc == 0)
		rc = mdb_cursor_del(cur, 0);
	return rc == 0 ? 1 : rc;
}

static int
prune_runs(struct store *st, MDB_txn *txn, int64_t cutoff,
    struct prune_counts *c)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, st->runs, &cur);

	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct run r;

		if (decode_run(&v, key_id(k.mv_data), &r) != 0)
			continue;
		rc = prune_one(st, txn, cur, &r, cutoff, c);
		run_free(&r);
		if (rc == 1) {
			c->runs++;
			rc = 0;
		}
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
prune_notifications(struct store *st, MDB_txn *txn, int64_t cutoff,
    uint64_t *count)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, st->notif, &cur);

	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t created;

		if (v.mv_size < 20)
			continue;
		memcpy(&created, (unsigned char *)v.mv_data + 12,
		    sizeof(created));
		if (created < cutoff) {
			rc = mdb_cursor_del(cur, 0);
			if (rc != 0)
				break;
			(*count)++;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_prune(struct store *st, int64_t cutoff_ms, int with_documents,
    uint64_t *runs, uint64_t *notifications, uint64_t *kept, char *err,
    size_t errlen)
{
	struct prune_counts c = { .with_documents = with_documents };
	MDB_txn *txn;
	int rc;

	*runs = *notifications = *kept = 0;
	if (txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = prune_runs(st, txn, cutoff_ms, &c);
	if (rc == 0)
		rc = prune_notifications(st, txn, cutoff_ms, &c.notifications);
	if (rc != 0) {
		txn_abort(st, txn);
		return lmdb_err(st, rc, "prune", err, errlen);
	}
	rc = txn_commit(st, txn, err, errlen);
	if (rc == 0) {
		*runs = c.runs;
		*notifications = c.notifications;
		*kept = c.kept;
	}
	return rc;
}

/* ---- invariants -------------------------------------------------- */

struct checker {
	struct store *st;
	MDB_txn *txn;
	store_report_fn report;
	void *arg;
	long problems;
};

static void vproblem(struct checker *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vproblem(struct checker *c, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	c->problems++;
	c->report(buf, c->arg);
}

static void problem(struct checker *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(c, fmt, ap);
	va_end(ap);
}

/* problem() for the checks of the other store files. */
static void checker_problem(void *arg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
checker_problem(void *arg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(arg, fmt, ap);
	va_end(ap);
}

static int
row_exists(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t len)
{
	MDB_val k = { len, (void *)key }, v;

	return mdb_get(txn, dbi, &k, &v) == 0;
}

static void
check_index_rows(struct checker *c, const struct run *r)
{
	const char kinds[4] = { 't', 'y', 'i', 's' };
	const char *values[4] = { r->tenant, r->type, r->initiator,
		run_state_name(r->state) };
	unsigned char kb[KEY_MAX];

	for (int i = 0; i < 4; i++) {
		size_t n = index_key(kinds[i], values[i], r->id, kb);

		if (n == 0 || !row_exists(c->txn, c->st->index, kb, n))
			problem(c, "run %llu: index row %c=%s is missing",
			    (unsigned long long)r->id, kinds[i], values[i]);
	}
}

static void
check_one_run(struct checker *c, const struct run *r, uint64_t next_id)
{
	unsigned char idb[8];
	MDB_val k = { 32, (void *)r->dedupe_key }, v;
	int queued = r->state == RUN_QUEUED;

	id_key(r->id, idb);
	if (r->id >= next_id)
		problem(c, "run %llu: id is not below the id counter %llu",
		    (unsigned long long)r->id, (unsigned long long)next_id);
	if (queued != row_exists(c->txn, c->st->queue, idb, 8))
		problem(c, "run %llu: %s but %s a queue entry",
		    (unsigned long long)r->id, run_state_name(r->state),
		    queued ? "has no" : "has");
	if (!run_state_terminal(r->state) &&
	    (mdb_get(c->txn, c->st->active, &k, &v) != 0 ||
	    v.mv_size != 8 || key_id(v.mv_data) != r->id))
		problem(c, "run %llu: %s but its identity row is missing or "
		    "points elsewhere", (unsigned long long)r->id,
		    run_state_name(r->state));
	check_index_rows(c, r);
}

static int
check_runs(struct checker *c, uint64_t next_id)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(c->txn, c->st->runs, &cur);

	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct run r;

		if (k.mv_size != 8 || decode_run(&v, key_id(k.mv_data),
		    &r) != 0) {
			problem(c, "runs: undecodable record");
			continue;
		}
		check_one_run(c, &r, next_id);
		run_free(&r);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Every row of dbi (queue or active) must point at a live run. */
static int
check_pointers(struct checker *c, MDB_dbi dbi, const char *what)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(c->txn, dbi, &cur);

	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const void *idp = dbi == c->st->queue ? k.mv_data : v.mv_data;
		size_t idlen = dbi == c->st->queue ? k.mv_size : v.mv_size;
		struct run r;
		uint64_t id;

		if (idlen != 8) {
			problem(c, "%s: malformed row", what);
			continue;
		}
		id = key_id(idp);
		if (get_run(c->st, c->txn, id, &r) != 0) {
			problem(c, "%s: row points at missing run %llu", what,
			    (unsigned long long)id);
			continue;
		}
		if (run_state_terminal(r.state) ||
		    (dbi == c->st->queue && r.state != RUN_QUEUED))
			problem(c, "%s: row points at run %llu, which is %s",
			    what, (unsigned long long)id,
			    run_state_name(r.state));
		else if (dbi == c->st->active &&
		    memcmp(r.dedupe_key, k.mv_data, 32) != 0)
			problem(c, "%s: row for run %llu has another identity",
			    what, (unsigned long long)id);
		run_free(&r);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
check_index(struct checker *c)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(c->txn, c->st->index, &cur);

	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const unsigned char *p = k.mv_data;
		uint64_t id;
		struct run r;

		if (k.mv_size < 10) {
			problem(c, "index: malformed row");
			continue;
		}
		id = key_id(p + k.mv_size - 8);
		if (get_run(c->st, c->txn, id, &r) != 0) {
			problem(c, "index: row %c=%.*s points at missing run "
			    "%llu", p[0], (int)(k.mv_size - 10), p + 1,
			    (unsigned long long)id);
			continue;
		}
		if (p[0] == 's' && (k.mv_size - 10 !=
		    strlen(run_state_name(r.state)) || memcmp(p + 1,
		    run_state_name(r.state), k.mv_size - 10) != 0))
			problem(c, "index: state row %.*s for run %llu, which "
			    "is %s", (int)(k.mv_size - 10), p + 1,
			    (unsigned long long)id, run_state_name(r.state));
		run_free(&r);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

long
store_check(struct store *st, store_report_fn report, void *arg, char *err,
    size_t errlen)
{
	struct checker c = { st, NULL, report, arg, 0 };
	uint64_t next_id = 0;
	int rc;

	if (txn_begin(st, MDB_RDONLY, &c.txn, err, errlen) != 0)
		return -1;
	rc = meta_get_u64(st, c.txn, "next_id", &next_id);
	if (rc == 0)
		rc = check_runs(&c, next_id);
	if (rc == 0)
		rc = check_pointers(&c, st->queue, "queue");
	if (rc == 0)
		rc = check_pointers(&c, st->active, "active identity");
	if (rc == 0)
		rc = check_index(&c);
	if (rc == 0)
		rc = docs_check(st, c.txn, checker_problem, &c);
	if (rc == 0)
		rc = dir_check(st, c.txn, checker_problem, &c);
	mdb_txn_abort(c.txn);
	if (rc != 0)
		return lmdb_err(st, rc, "check", err, errlen);
	return c.problems;
}

int
store_bytes_used(struct store *st, uint64_t *bytes)
{
	MDB_envinfo info;
	MDB_stat stat;

	if (mdb_env_info(st->env, &info) != 0 ||
	    mdb_env_stat(st->env, &stat) != 0)
		return -1;
	*bytes = (uint64_t)(info.me_last_pgno + 1) * stat.ms_psize;
	return 0;
}
