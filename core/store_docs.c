/*
 * store_docs - run documents and the write batch a running run keeps
 * (core/store.h).  Key: the run id (8 bytes, big-endian) then the name,
 * so one run's documents are one key range, in name order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "util.h"

#define DOC_NAME_MAX (KEY_MAX - 8)

/* ---- the write batch --------------------------------------------- */

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *nv;

	if (n < *cap)
		return 0;
	nv = realloc(*v, ncap * size);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

char *
store_copy(const void *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int
store_writes_add_doc(struct store_writes *w, const char *name, const char *json,
    size_t len)
{
	struct store_doc d = { store_copy(name, strlen(name)),
		store_copy(json, len), len };

	if (d.name == NULL || d.json == NULL ||
	    grow((void **)&w->docs, &w->docs_cap, w->ndocs, sizeof(*w->docs)) !=
		0) {
		free(d.name);
		free(d.json);
		return -1;
	}
	w->docs[w->ndocs++] = d;
	w->bytes += strlen(name) + len;
	return 0;
}

static void
row_free(struct store_dir_row *r)
{
	free(r->tenant);
	free(r->kind);
	free(r->id);
	free(r->display_name);
	free(r->json);
}

int
store_writes_add_row(struct store_writes *w, const char *tenant,
    const char *kind, uint64_t gen, const char *id, const char *display_name,
    const char *json)
{
	struct store_dir_row r = {
		store_copy(tenant, strlen(tenant)),
		store_copy(kind, strlen(kind)),
		store_copy(id, strlen(id)),
		store_copy(display_name, strlen(display_name)),
		store_copy(json, strlen(json)),
		gen,
	};

	if (r.tenant == NULL || r.kind == NULL || r.id == NULL ||
	    r.display_name == NULL || r.json == NULL ||
	    grow((void **)&w->rows, &w->rows_cap, w->nrows, sizeof(*w->rows)) !=
		0) {
		row_free(&r);
		return -1;
	}
	w->rows[w->nrows++] = r;
	w->bytes += strlen(id) + strlen(display_name) + strlen(json);
	return 0;
}

void
store_writes_clear(struct store_writes *w)
{
	for (size_t i = 0; i < w->ndocs; i++) {
		free(w->docs[i].name);
		free(w->docs[i].json);
	}
	for (size_t i = 0; i < w->nrows; i++)
		row_free(&w->rows[i]);
	free(w->docs);
	free(w->rows);
	memset(w, 0, sizeof(*w));
}

/* ---- within a write transaction ---------------------------------- */

static size_t
doc_key(uint64_t run_id, const char *name, unsigned char *buf)
{
	size_t n = strlen(name);

	if (n > DOC_NAME_MAX)
		return 0;
	store_id_key(run_id, buf);
	memcpy(buf + 8, name, n);
	return 8 + n;
}

int
docs_write(struct store *st, MDB_txn *txn, uint64_t run_id,
    const struct store_writes *w)
{
	unsigned char kb[KEY_MAX];

	for (size_t i = 0; i < w->ndocs; i++) {
		MDB_val k = { doc_key(run_id, w->docs[i].name, kb), kb };
		MDB_val v = { w->docs[i].len, w->docs[i].json };
		int rc;

		if (k.mv_size == 0)
			return MDB_BAD_VALSIZE;
		rc = mdb_put(txn, st->docs, &k, &v, 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
same_run(const MDB_val *k, const unsigned char id[8])
{
	return k->mv_size >= 8 && memcmp(k->mv_data, id, 8) == 0;
}

int
docs_delete_run(struct store *st, MDB_txn *txn, uint64_t run_id)
{
	unsigned char id[8];
	MDB_cursor *cur;
	MDB_val k = { 8, id }, v;
	int rc = mdb_cursor_open(txn, st->docs, &cur);

	if (rc != 0)
		return rc;
	store_id_key(run_id, id);
	for (;;) {
		k.mv_size = 8;
		k.mv_data = id;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || !same_run(&k, id))
			break;
		rc = mdb_cursor_del(cur, 0);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* 1 if run_id holds a document, 0 if not, -1 on error. */
int
docs_run_has(struct store *st, MDB_txn *txn, uint64_t run_id)
{
	unsigned char id[8];
	MDB_cursor *cur;
	MDB_val k = { 8, id }, v;
	int rc = mdb_cursor_open(txn, st->docs, &cur);

	if (rc != 0)
		return -1;
	store_id_key(run_id, id);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? same_run(&k, id) : -1;
}

int
docs_check(struct store *st, MDB_txn *txn, store_problem_fn problem, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t last = 0;
	int rc = mdb_cursor_open(txn, st->docs, &cur);

	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		MDB_val rk = { 8, k.mv_data }, rv;
		uint64_t id;

		if (k.mv_size <= 8 || v.mv_size == 0) {
			problem(arg, "documents: malformed row");
			continue;
		}
		id = store_key_id(k.mv_data);
		if (id != last && mdb_get(txn, st->runs, &rk, &rv) != 0)
			problem(arg,
			    "documents: %.*s belongs to missing run "
			    "%llu",
			    (int)(k.mv_size - 8), (const char *)k.mv_data + 8,
			    (unsigned long long)id);
		last = id;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- reads ------------------------------------------------------- */

int
store_doc_get(struct store *st, uint64_t run_id, const char *name, char **json,
    size_t *len, char *err, size_t errlen)
{
	unsigned char kb[KEY_MAX];
	MDB_val k = { doc_key(run_id, name, kb), kb }, v;
	MDB_txn *txn;
	int rc;

	*json = NULL;
	*len = 0;
	if (k.mv_size == 0)
		return 1;
	if (store_txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = mdb_get(txn, st->docs, &k, &v);
	if (rc == 0 && (*json = store_copy(v.mv_data, v.mv_size)) == NULL)
		rc = ENOMEM;
	if (rc == 0)
		*len = v.mv_size;
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 1;
	return rc == 0 ? 0 :
			 store_lmdb_err(st, rc, "read document", err, errlen);
}

/* Copies the first document of run_id at or after key (kb, *klen) (after
 * it unless inclusive) that starts with prefix into *name and *json: 0, 1
 * when there is none, -1 with err set. */
static int
next_doc(struct store *st, uint64_t run_id, const char *prefix,
    unsigned char *kb, size_t *klen, int inclusive, char **name, char **json,
    size_t *len, char *err, size_t errlen)
{
	unsigned char id[8];
	size_t plen = strlen(prefix);
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k = { *klen, kb }, v;
	int rc;

	if (store_txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	store_id_key(run_id, id);
	rc = mdb_cursor_open(txn, st->docs, &cur);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && !inclusive && k.mv_size == *klen &&
	    memcmp(k.mv_data, kb, *klen) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	if (rc == 0 &&
	    (!same_run(&k, id) || k.mv_size - 8 < plen ||
		memcmp((char *)k.mv_data + 8, prefix, plen) != 0))
		rc = MDB_NOTFOUND;
	if (rc == 0) {
		memcpy(kb, k.mv_data, k.mv_size);
		*klen = k.mv_size;
		*name = store_copy((char *)k.mv_data + 8, k.mv_size - 8);
		*json = store_copy(v.mv_data, v.mv_size);
		*len = v.mv_size;
		if (*name == NULL || *json == NULL) {
			free(*name);
			free(*json);
			*name = *json = NULL;
			rc = ENOMEM;
		}
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 1;
	return rc == 0 ? 0 :
			 store_lmdb_err(st, rc, "list documents", err, errlen);
}

int
store_doc_list(struct store *st, uint64_t run_id, const char *prefix,
    const char *after, store_doc_fn each, void *arg, char *err, size_t errlen)
{
	unsigned char kb[KEY_MAX];
	size_t klen;
	int inclusive = after == NULL || after[0] == '\0', rc;

	if (strlen(prefix) > DOC_NAME_MAX)
		return 0;
	/* A cursor before the prefix starts at the prefix: the walk stops at
	 * the first name outside it. */
	if (!inclusive && strcmp(after, prefix) < 0)
		inclusive = 1;
	klen = doc_key(run_id, inclusive ? prefix : after, kb);
	if (klen == 0)
		return 0;
	for (;;) {
		char *name = NULL, *json = NULL;
		size_t len = 0;

		rc = next_doc(st, run_id, prefix, kb, &klen, inclusive, &name,
		    &json, &len, err, errlen);
		if (rc != 0)
			return rc == 1 ? 0 : -1;
		rc = each(arg, name, json, len);
		free(name);
		free(json);
		if (rc != 0)
			return rc;
		inclusive = 0;
	}
}

int
store_doc_count(struct store *st, uint64_t run_id, uint64_t *n, uint64_t *bytes,
    char *err, size_t errlen)
{
	unsigned char id[8];
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { 8, id }, v;
	int rc;

	*n = *bytes = 0;
	if (store_txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	store_id_key(run_id, id);
	rc = mdb_cursor_open(txn, st->docs, &cur);
	if (rc == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		     rc == 0 && same_run(&k, id);
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			(*n)++;
			*bytes += v.mv_size;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_lmdb_err(st, rc, "count documents", err, errlen);
	return 0;
}
