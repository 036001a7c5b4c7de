/*
 * store_dir - the directory cache (core/store.h): per tenant and kind the
 * objects of the last committed sync, as generations of rows.
 *
 *   dir      tenant \0 kind \0 gen(8) id      -> u32 name length, name, JSON
 *   dirname  tenant \0 kind \0 gen(8) lower(name)  -> id (sorted duplicates)
 *   dirmeta  'c' tenant \0 kind               -> the current snapshot
 *            's' tenant \0 kind               -> the snapshot being made
 *            'r' run id(8) tenant \0 kind     -> "run made that stage"
 *
 * Readers look up the current generation and read only its rows, so a
 * commit (one transaction flipping 'c' and dropping the old rows) is the
 * only moment the cache changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "util.h"

#define LIST_CHUNK 256

struct snap { /* dirmeta 'c' */
	uint64_t gen;
	int64_t synced_at;
	uint64_t count;
};

struct stage { /* dirmeta 's' */
	uint64_t gen;
	uint64_t run_id;
};

/* tenant \0 kind \0 into buf (at most cap bytes): its length, 0 if the
 * names are too long to be a key. */
static size_t
tk_key(const char *tenant, const char *kind, unsigned char *buf, size_t cap)
{
	size_t t = strlen(tenant), k = strlen(kind);

	if (t + k + 2 > cap)
		return 0;
	memcpy(buf, tenant, t + 1);
	memcpy(buf + t + 1, kind, k + 1);
	return t + k + 2;
}

/* tenant \0 kind \0 gen: the prefix of a generation's rows. */
static size_t
gen_key(const char *tenant, const char *kind, uint64_t gen, unsigned char *buf)
{
	size_t n = tk_key(tenant, kind, buf, KEY_MAX - 8 - 1);

	if (n == 0)
		return 0;
	store_id_key(gen, buf + n);
	return n + 8;
}

static size_t
append(unsigned char *buf, size_t n, const char *s, size_t len)
{
	if (n == 0 || n + len > KEY_MAX)
		return 0;
	memcpy(buf + n, s, len);
	return n + len;
}

/* The lower-cased name, cut to what a key can hold after the prefix. */
static size_t
name_key(unsigned char *buf, size_t n, const char *name)
{
	size_t len = strlen(name);

	if (n == 0)
		return 0;
	if (n + len > KEY_MAX)
		len = KEY_MAX - n;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		buf[n + i] = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
	}
	return n + len;
}

static int
meta_get(struct store *st, MDB_txn *txn, char tag, const char *tenant,
    const char *kind, void *out, size_t size)
{
	unsigned char kb[KEY_MAX];
	MDB_val k = { 0, kb }, v;
	size_t n = tk_key(tenant, kind, kb + 1, sizeof(kb) - 1);
	int rc;

	memset(out, 0, size);
	if (n == 0)
		return MDB_NOTFOUND;
	kb[0] = (unsigned char)tag;
	k.mv_size = n + 1;
	rc = mdb_get(txn, st->dirmeta, &k, &v);
	if (rc == 0 && v.mv_size == size)
		memcpy(out, v.mv_data, size);
	return rc;
}

static int
meta_put(struct store *st, MDB_txn *txn, char tag, const char *tenant,
    const char *kind, const void *val, size_t size)
{
	unsigned char kb[KEY_MAX];
	size_t n = tk_key(tenant, kind, kb + 1, sizeof(kb) - 1);
	MDB_val k = { n + 1, kb }, v = { size, (void *)val };

	if (n == 0)
		return MDB_BAD_VALSIZE;
	kb[0] = (unsigned char)tag;
	return val != NULL ? mdb_put(txn, st->dirmeta, &k, &v, 0) :
			     mdb_del(txn, st->dirmeta, &k, NULL);
}

/* The 'r' row saying run_id made the stage of tenant/kind. */
static int
run_row(struct store *st, MDB_txn *txn, uint64_t run_id, const char *tenant,
    const char *kind, int del)
{
	unsigned char kb[KEY_MAX];
	size_t n = tk_key(tenant, kind, kb + 9, sizeof(kb) - 9);
	MDB_val k = { n + 9, kb }, v = { 1, "" };
	int rc;

	if (n == 0)
		return MDB_BAD_VALSIZE;
	kb[0] = 'r';
	store_id_key(run_id, kb + 1);
	if (!del)
		return mdb_put(txn, st->dirmeta, &k, &v, 0);
	rc = mdb_del(txn, st->dirmeta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Deletes every row of db under prefix (a generation); flags is
 * MDB_NODUPDATA for the sorted-duplicates database. */
static int
drop_prefix(MDB_txn *txn, MDB_dbi db, unsigned flags,
    const unsigned char *prefix, size_t n)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, db, &cur);

	if (rc != 0)
		return rc;
	for (;;) {
		k.mv_size = n;
		k.mv_data = (void *)prefix;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || k.mv_size < n || memcmp(k.mv_data, prefix, n))
			break;
		rc = mdb_cursor_del(cur, flags);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

static int
drop_gen(struct store *st, MDB_txn *txn, const char *tenant, const char *kind,
    uint64_t gen)
{
	unsigned char kb[KEY_MAX];
	size_t n = gen_key(tenant, kind, gen, kb);
	int rc;

	if (gen == 0 || n == 0)
		return 0;
	rc = drop_prefix(txn, st->dir, 0, kb, n);
	return rc == 0 ? drop_prefix(txn, st->dirname, MDB_NODUPDATA, kb, n) :
			 rc;
}

/* Drops the stage of tenant/kind, if any, with its rows. */
static int
drop_stage(struct store *st, MDB_txn *txn, const char *tenant, const char *kind)
{
	struct stage sg;
	int rc = meta_get(st, txn, 's', tenant, kind, &sg, sizeof(sg));

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = drop_gen(st, txn, tenant, kind, sg.gen);
	if (rc == 0)
		rc = run_row(st, txn, sg.run_id, tenant, kind, 1);
	return rc == 0 ? meta_put(st, txn, 's', tenant, kind, NULL, 0) : rc;
}

int
store_dir_begin(struct store *st, uint64_t run_id, const char *tenant,
    const char *kind, uint64_t *gen, char *err, size_t errlen)
{
	struct stage sg = { 0, run_id };
	MDB_txn *txn;
	int rc;

	if (strlen(tenant) + strlen(kind) > 256)
		return errf(err, errlen,
		    "directory: tenant or kind name too "
		    "long");
	if (store_txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = drop_stage(st, txn, tenant, kind);
	if (rc == 0)
		rc = store_next_counter(st, txn, "next_dir_gen", &sg.gen);
	if (rc == 0)
		rc = meta_put(st, txn, 's', tenant, kind, &sg, sizeof(sg));
	if (rc == 0)
		rc = run_row(st, txn, run_id, tenant, kind, 0);
	if (rc != 0) {
		store_txn_abort(st, txn);
		return store_lmdb_err(st, rc, "begin directory snapshot", err,
		    errlen);
	}
	*gen = sg.gen;
	return store_txn_commit(st, txn, err, errlen);
}

/* Removes the name row of the object stored as old (a row value). */
static void
drop_name_row(struct store *st, MDB_txn *txn, const MDB_val *old,
    unsigned char *nb, size_t g, MDB_val *idv)
{
	char oldname[KEY_MAX + 1];
	uint32_t on;
	size_t cut;
	MDB_val nk;

	if (old->mv_size < 4)
		return;
	memcpy(&on, old->mv_data, 4);
	if (on > old->mv_size - 4)
		return;
	cut = on < KEY_MAX ? on : KEY_MAX;
	memcpy(oldname, (char *)old->mv_data + 4, cut);
	oldname[cut] = '\0';
	nk.mv_data = nb;
	nk.mv_size = name_key(nb, g, oldname);
	mdb_del(txn, st->dirname, &nk, idv);
}

static int
put_row(struct store *st, MDB_txn *txn, const struct store_dir_row *r)
{
	unsigned char kb[KEY_MAX], nb[KEY_MAX];
	size_t g = gen_key(r->tenant, r->kind, r->gen, kb);
	size_t nlen = strlen(r->display_name), jlen = strlen(r->json);
	MDB_val k = { append(kb, g, r->id, strlen(r->id)), kb }, v, old;
	MDB_val nk, idv = { strlen(r->id), r->id };
	uint32_t n32 = (uint32_t)nlen;
	int rc;

	if (k.mv_size == 0 || idv.mv_size == 0)
		return MDB_BAD_VALSIZE;
	memcpy(nb, kb, g);
	/* The same id twice in one snapshot: the later one wins, and the
	 * name row of the earlier one goes with it. */
	if (mdb_get(txn, st->dir, &k, &old) == 0)
		drop_name_row(st, txn, &old, nb, g, &idv);
	v.mv_size = 4 + nlen + jlen;
	rc = mdb_put(txn, st->dir, &k, &v, MDB_RESERVE);
	if (rc != 0)
		return rc;
	memcpy(v.mv_data, &n32, 4);
	memcpy((char *)v.mv_data + 4, r->display_name, nlen);
	memcpy((char *)v.mv_data + 4 + nlen, r->json, jlen);
	nk.mv_data = nb;
	nk.mv_size = name_key(nb, g, r->display_name);
	rc = mdb_put(txn, st->dirname, &nk, &idv, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? 0 : rc;
}

int
dir_write(struct store *st, MDB_txn *txn, uint64_t run_id,
    const struct store_writes *w)
{
	for (size_t i = 0; i < w->nrows; i++) {
		const struct store_dir_row *r = &w->rows[i];
		struct stage sg;
		int rc = meta_get(st, txn, 's', r->tenant, r->kind, &sg,
		    sizeof(sg));

		/* Rows of a stage that is gone (a later sync began) are
		 * dropped; its commit will say so. */
		if (rc == MDB_NOTFOUND ||
		    (rc == 0 && (sg.gen != r->gen || sg.run_id != run_id)))
			continue;
		if (rc == 0)
			rc = put_row(st, txn, r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
count_gen(struct store *st, MDB_txn *txn, const unsigned char *prefix, size_t n,
    uint64_t *count)
{
	MDB_cursor *cur;
	MDB_val k = { n, (void *)prefix }, v;
	int rc = mdb_cursor_open(txn, st->dir, &cur);

	*count = 0;
	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size >= n && memcmp(k.mv_data, prefix, n) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		(*count)++;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int
store_dir_commit(struct store *st, const char *tenant, const char *kind,
    uint64_t gen, int64_t synced_at, uint64_t *count, char *err, size_t errlen)
{
	unsigned char kb[KEY_MAX];
	size_t n = gen_key(tenant, kind, gen, kb);
	struct stage sg;
	struct snap cur, next = { gen, synced_at, 0 };
	MDB_txn *txn;
	int rc;

	if (store_txn_begin(st, 0, &txn, err, errlen) != 0)
		return -1;
	rc = meta_get(st, txn, 's', tenant, kind, &sg, sizeof(sg));
	if (rc == MDB_NOTFOUND || (rc == 0 && sg.gen != gen)) {
		store_txn_abort(st, txn);
		return 1;
	}
	if (rc == 0)
		rc = count_gen(st, txn, kb, n, &next.count);
	if (rc == 0) {
		rc = meta_get(st, txn, 'c', tenant, kind, &cur, sizeof(cur));
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = drop_gen(st, txn, tenant, kind, cur.gen);
	if (rc == 0)
		rc = meta_put(st, txn, 'c', tenant, kind, &next, sizeof(next));
	if (rc == 0)
		rc = meta_put(st, txn, 's', tenant, kind, NULL, 0);
	if (rc == 0)
		rc = run_row(st, txn, sg.run_id, tenant, kind, 1);
	if (rc != 0) {
		store_txn_abort(st, txn);
		return store_lmdb_err(st, rc, "commit directory snapshot", err,
		    errlen);
	}
	*count = next.count;
	return store_txn_commit(st, txn, err, errlen);
}

int
dir_drop_stages(struct store *st, MDB_txn *txn, uint64_t run_id)
{
	unsigned char kb[9];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, st->dirmeta, &cur);

	kb[0] = 'r';
	store_id_key(run_id, kb + 1);
	while (rc == 0) {
		char tenant[KEY_MAX], *kind;
		struct stage sg;

		k.mv_size = 9;
		k.mv_data = kb;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || k.mv_size <= 9 || memcmp(k.mv_data, kb, 9))
			break;
		memcpy(tenant, (char *)k.mv_data + 9, k.mv_size - 9);
		tenant[k.mv_size - 9] = '\0';
		kind = tenant + strlen(tenant) + 1;
		rc = mdb_cursor_del(cur, 0);
		if (rc == 0 &&
		    meta_get(st, txn, 's', tenant, kind, &sg, sizeof(sg)) ==
			0 &&
		    sg.run_id == run_id)
			rc = drop_stage(st, txn, tenant, kind);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* ---- reads ------------------------------------------------------- */

/* One object as the callbacks get it, copied out of a transaction. */
struct dir_obj {
	char *id, *name, *json;
};

static void
objs_free(struct dir_obj *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].id);
		free(o[i].name);
		free(o[i].json);
	}
}

/* Copies row value v of object id (key bytes) into o. */
static int
obj_copy(const MDB_val *key_id, const MDB_val *v, struct dir_obj *o)
{
	uint32_t nlen;

	memset(o, 0, sizeof(*o));
	if (v->mv_size < 4)
		return MDB_CORRUPTED;
	memcpy(&nlen, v->mv_data, 4);
	if (nlen > v->mv_size - 4)
		return MDB_CORRUPTED;
	o->id = store_copy(key_id->mv_data, key_id->mv_size);
	o->name = store_copy((char *)v->mv_data + 4, nlen);
	o->json = store_copy((char *)v->mv_data + 4 + nlen,
	    v->mv_size - 4 - nlen);
	if (o->id == NULL || o->name == NULL || o->json == NULL) {
		objs_free(o, 1);
		return ENOMEM;
	}
	return 0;
}

int
store_dir_info(struct store *st, const char *tenant, const char *kind,
    struct store_dir_info *info, char *err, size_t errlen)
{
	struct snap sn;
	MDB_txn *txn;
	int rc;

	memset(info, 0, sizeof(*info));
	if (store_txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = meta_get(st, txn, 'c', tenant, kind, &sn, sizeof(sn));
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_lmdb_err(st, rc, "read directory", err, errlen);
	info->synced_at = sn.synced_at;
	info->count = sn.count;
	return 0;
}

static int
get_in(struct store *st, MDB_txn *txn, const unsigned char *gk, size_t g,
    const char *id, size_t idlen, struct dir_obj *o)
{
	unsigned char kb[KEY_MAX];
	MDB_val k = { 0, kb }, v, idv = { idlen, (void *)id };
	int rc;

	memcpy(kb, gk, g);
	k.mv_size = append(kb, g, id, idlen);
	if (k.mv_size == 0)
		return MDB_NOTFOUND;
	rc = mdb_get(txn, st->dir, &k, &v);
	return rc == 0 ? obj_copy(&idv, &v, o) : rc;
}

/* ASCII case-insensitive equality. */
static int
same_name(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		int ca = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
		int cb = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;

		if (ca != cb)
			return 0;
	}
	return *a == *b;
}

#define FIND_MAX 64 /* hits reported; more is an ambiguity anyway */

static int
find_in(struct store *st, MDB_txn *txn, const char *tenant, const char *kind,
    const char *name, struct dir_obj *hits, size_t *n, size_t *total)
{
	unsigned char gk[KEY_MAX], nk[KEY_MAX];
	struct snap sn;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t g;
	int rc = meta_get(st, txn, 'c', tenant, kind, &sn, sizeof(sn));

	if (rc != 0 || (g = gen_key(tenant, kind, sn.gen, gk)) == 0)
		return rc;
	memcpy(nk, gk, g);
	k.mv_data = nk;
	k.mv_size = name_key(nk, g, name);
	rc = mdb_cursor_open(txn, st->dirname, &cur);
	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		struct dir_obj o;

		if (get_in(st, txn, gk, g, v.mv_data, v.mv_size, &o) != 0)
			continue;
		if (!same_name(o.name, name) || *n == FIND_MAX) {
			(*total) += same_name(o.name, name);
			objs_free(&o, 1);
			continue;
		}
		hits[(*n)++] = o;
		(*total)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_dir_find(struct store *st, const char *tenant, const char *kind,
    const char *name, store_dir_fn each, void *arg, size_t *hits, char *err,
    size_t errlen)
{
	struct dir_obj found[FIND_MAX];
	size_t n = 0, total = 0;
	MDB_txn *txn;
	int rc;

	*hits = 0;
	if (store_txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = find_in(st, txn, tenant, kind, name, found, &n, &total);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		objs_free(found, n);
		return store_lmdb_err(st, rc, "find in directory", err, errlen);
	}
	*hits = total;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = each(arg, found[i].id, found[i].name, found[i].json);
	objs_free(found, n);
	return rc;
}

int
store_dir_get(struct store *st, const char *tenant, const char *kind,
    const char *id, char **display_name, char **json, char *err, size_t errlen)
{
	unsigned char gk[KEY_MAX];
	struct snap sn;
	struct dir_obj o = { 0 };
	MDB_txn *txn;
	size_t g;
	int rc;

	*display_name = *json = NULL;
	if (store_txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = meta_get(st, txn, 'c', tenant, kind, &sn, sizeof(sn));
	if (rc == 0 && (g = gen_key(tenant, kind, sn.gen, gk)) != 0)
		rc = get_in(st, txn, gk, g, id, strlen(id), &o);
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return store_lmdb_err(st, rc, "read directory", err, errlen);
	free(o.id);
	*display_name = o.name;
	*json = o.json;
	return 0;
}

/* Copies up to max objects of generation gk after id `after` into o. */
static int
list_chunk(struct store *st, MDB_txn *txn, const unsigned char *gk, size_t g,
    const char *after, struct dir_obj *o, size_t max, size_t *n)
{
	unsigned char kb[KEY_MAX];
	MDB_cursor *cur;
	MDB_val k = { 0, kb }, v;
	int rc;

	memcpy(kb, gk, g);
	k.mv_size = append(kb, g, after, strlen(after));
	if (k.mv_size == 0)
		k.mv_size = g;
	rc = mdb_cursor_open(txn, st->dir, &cur);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && after[0] != '\0' && k.mv_size == g + strlen(after) &&
	    memcmp((char *)k.mv_data + g, after, strlen(after)) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0 && *n < max && k.mv_size > g &&
	     memcmp(k.mv_data, gk, g) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		MDB_val idv = { k.mv_size - g, (char *)k.mv_data + g };

		rc = obj_copy(&idv, &v, &o[*n]);
		if (rc != 0)
			break;
		(*n)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Reads the next chunk of the current snapshot after `last`: 0 with *n
 * objects in chunk, EAGAIN if the snapshot is no longer *gen (set on the
 * first chunk), else an LMDB code (MDB_NOTFOUND: none). */
static int
next_chunk(struct store *st, const char *tenant, const char *kind,
    uint64_t *gen, const char *last, struct dir_obj *chunk, size_t max,
    size_t *n, char *err, size_t errlen)
{
	unsigned char gk[KEY_MAX];
	struct snap sn;
	MDB_txn *txn;
	size_t g = 0;
	int rc;

	*n = 0;
	if (store_txn_begin(st, MDB_RDONLY, &txn, err, errlen) != 0)
		return -1;
	rc = meta_get(st, txn, 'c', tenant, kind, &sn, sizeof(sn));
	if (rc == 0 && *gen != 0 && sn.gen != *gen)
		rc = EAGAIN;
	if (rc == 0 && (g = gen_key(tenant, kind, sn.gen, gk)) == 0)
		rc = MDB_NOTFOUND;
	if (rc == 0)
		rc = list_chunk(st, txn, gk, g, last, chunk, max, n);
	mdb_txn_abort(txn);
	*gen = sn.gen;
	return rc;
}

int
store_dir_list(struct store *st, const char *tenant, const char *kind,
    const char *after, size_t limit, store_dir_fn each, void *arg, char *err,
    size_t errlen)
{
	struct dir_obj *chunk = calloc(LIST_CHUNK, sizeof(*chunk));
	char last[KEY_MAX + 1];
	uint64_t gen = 0;
	size_t done = 0, max = LIST_CHUNK, n = LIST_CHUNK;
	int rc = 0, stop = 0;

	if (chunk == NULL)
		return errf(err, errlen, "list directory: out of memory");
	snprintf(last, sizeof(last), "%s", after != NULL ? after : "");
	while (stop == 0 && n == max) {
		if (limit > 0 && limit - done < max)
			max = limit - done;
		if (max == 0)
			break;
		rc = next_chunk(st, tenant, kind, &gen, last, chunk, max, &n,
		    err, errlen);
		if (rc != 0)
			break;
		for (size_t i = 0; i < n && stop == 0; i++) {
			stop = each(arg, chunk[i].id, chunk[i].name,
			    chunk[i].json);
			snprintf(last, sizeof(last), "%s", chunk[i].id);
		}
		objs_free(chunk, n);
		done += n;
	}
	free(chunk);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return stop;
	if (rc == EAGAIN)
		return errf(err, errlen,
		    "the directory of %s was synced again "
		    "while it was being listed: list it again",
		    tenant);
	return rc == -1 ? -1 :
			  store_lmdb_err(st, rc, "list directory", err, errlen);
}

/* ---- invariants -------------------------------------------------- */

/* Splits a row key into tenant, kind and generation; the rest (an id or
 * a name) starts at *rest.  -1 if the key is malformed. */
static int
split_key(const MDB_val *k, char *tenant, char *kind, uint64_t *gen,
    size_t *rest)
{
	const char *p = k->mv_data, *t_end, *k_end;

	t_end = memchr(p, '\0', k->mv_size);
	if (t_end == NULL)
		return -1;
	k_end = memchr(t_end + 1, '\0', k->mv_size - (size_t)(t_end + 1 - p));
	if (k_end == NULL || (size_t)(k_end + 1 - p) + 8 > k->mv_size)
		return -1;
	memcpy(tenant, p, (size_t)(t_end - p) + 1);
	memcpy(kind, t_end + 1, (size_t)(k_end - t_end));
	*gen = store_key_id((const unsigned char *)k_end + 1);
	*rest = (size_t)(k_end + 1 - p) + 8;
	return 0;
}

/* 1 if gen is the current snapshot or the stage of tenant/kind. */
static int
gen_known(struct store *st, MDB_txn *txn, const char *tenant, const char *kind,
    uint64_t gen)
{
	struct snap sn;
	struct stage sg;

	if (meta_get(st, txn, 'c', tenant, kind, &sn, sizeof(sn)) == 0 &&
	    sn.gen == gen)
		return 1;
	return meta_get(st, txn, 's', tenant, kind, &sg, sizeof(sg)) == 0 &&
	    sg.gen == gen;
}

static int
check_db(struct store *st, MDB_txn *txn, MDB_dbi db, store_problem_fn problem,
    void *arg)
{
	const char *what = db == st->dir ? "directory" : "directory names";
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, db, &cur);

	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char tenant[KEY_MAX], kind[KEY_MAX];
		uint64_t gen;
		size_t rest;
		struct dir_obj o;

		if (split_key(&k, tenant, kind, &gen, &rest) != 0) {
			problem(arg, "%s: malformed row", what);
		} else if (!gen_known(st, txn, tenant, kind, gen)) {
			problem(arg,
			    "%s: %s %s: row of snapshot %llu, which is "
			    "neither current nor being made",
			    what, tenant, kind, (unsigned long long)gen);
		} else if (db == st->dirname) {
			if (get_in(st, txn, k.mv_data, rest, v.mv_data,
				v.mv_size, &o) != 0)
				problem(arg,
				    "%s: %s %s: name row points at "
				    "missing object %.*s",
				    what, tenant, kind, (int)v.mv_size,
				    (const char *)v.mv_data);
			else
				objs_free(&o, 1);
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
dir_check(struct store *st, MDB_txn *txn, store_problem_fn problem, void *arg)
{
	int rc = check_db(st, txn, st->dir, problem, arg);

	return rc == 0 ? check_db(st, txn, st->dirname, problem, arg) : rc;
}
