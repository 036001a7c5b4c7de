/*
 * paging - server-driven paging (S5).  A nextLink is an absolute URL on
 * this server with every original query option plus a $skiptoken, which
 * is base64url(offset, HMAC-SHA256 tag).  The tag covers the tenant, the
 * path, the other query options and the offset under a key drawn at
 * start-up, so a token that was edited, moved to another query or kept
 * from an earlier server process is refused with 400.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define TAG_LEN		16
#define TOKEN_LEN	(8 + TAG_LEN)

/* The raw query without its $skiptoken option(s), order kept. */
static char *
query_without_skiptoken(const char *raw)
{
	const char *end = raw + strlen(raw), *amp, *eq;
	struct buf b = {0};
	char *name;

	while (raw < end) {
		amp = strchr(raw, '&');
		if (amp == NULL)
			amp = end;
		eq = memchr(raw, '=', (size_t)(amp - raw));
		name = pct_decode(raw, (size_t)((eq != NULL ? eq : amp) - raw),
		    true);
		if (strcmp(name, "$skiptoken") != 0 && amp > raw) {
			if (b.len > 0)
				buf_adds(&b, "&");
			buf_add(&b, raw, (size_t)(amp - raw));
		}
		free(name);
		raw = amp + 1;
	}
	return buf_take(&b);
}

static void
token_tag(const struct server *s, const struct tenant *t,
    const struct req *rq, const char *query, uint64_t offset,
    unsigned char *tag)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf b = {0};

	buf_addf(&b, "%s\n%s\n%s\n%llu", t->id, rq->path, query,
	    (unsigned long long)offset);
	HMAC(EVP_sha256(), s->hmac_key, (int)sizeof(s->hmac_key),
	    (const unsigned char *)b.p, b.len, md, &mdlen);
	memcpy(tag, md, TAG_LEN);
	free(b.p);
}

static char *
token_make(const struct server *s, const struct tenant *t,
    const struct req *rq, const char *query, uint64_t offset)
{
	unsigned char raw[TOKEN_LEN];
	int i;

	for (i = 0; i < 8; i++)
		raw[i] = (unsigned char)(offset >> (56 - 8 * i));
	token_tag(s, t, rq, query, offset, raw + 8);
	return b64url_encode(raw, sizeof(raw));
}

/* Returns 0 and the offset, or -1 if the token is not one we made for
 * this tenant, path and query. */
static int
token_check(const struct server *s, const struct tenant *t,
    const struct req *rq, const char *token, uint64_t *offset)
{
	unsigned char raw[TOKEN_LEN], tag[TAG_LEN];
	char *query = query_without_skiptoken(rq->query);
	uint64_t off = 0;
	size_t n;
	int i, rc = -1;

	if (b64url_decode(token, raw, sizeof(raw), &n) != 0 || n != TOKEN_LEN)
		goto out_free;
	for (i = 0; i < 8; i++)
		off = off << 8 | raw[i];
	token_tag(s, t, rq, query, off, tag);
	if (CRYPTO_memcmp(tag, raw + 8, TAG_LEN) != 0 || off > (1u << 30))
		goto out_free;
	*offset = off;
	rc = 0;
out_free:
	free(query);
	return rc;
}

int
paging_begin(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, enum pager kind, const char *code,
    struct page *pg)
{
	const char *top = req_arg(rq, "$top");
	const char *tok = req_arg(rq, "$skiptoken");
	uint64_t off = 0;
	long n;

	pg->size = (size_t)s->page_size[kind];
	if (top != NULL) {
		if (parse_long(top, 1, 1L << 30, &n) != 0) {
			err_graphf(rs, rq, 400, code, "Invalid page size "
			    "specified: '%.20s'. Must be between 1 and %ld "
			    "inclusive.", top, s->page_max[kind]);
			return -1;
		}
		/* Above the maximum: capped silently, as Graph does. */
		pg->size = (size_t)(n < s->page_max[kind] ? n :
		    s->page_max[kind]);
	}
	if (tok != NULL && token_check(s, t, rq, tok, &off) != 0) {
		err_graph(rs, rq, 400, code, "The $skiptoken is invalid or "
		    "was modified.");
		return -1;
	}
	pg->offset = (size_t)off;
	pg->first = tok == NULL;
	return 0;
}

static char *
next_link(const struct server *s, const struct tenant *t,
    const struct req *rq, uint64_t offset)
{
	char *query = query_without_skiptoken(rq->query);
	char *tok = token_make(s, t, rq, query, offset);
	struct buf b = {0};

	buf_addf(&b, "%s%s?%s%s$skiptoken=%s", s->base_url, rq->path, query,
	    query[0] != '\0' ? "&" : "", tok);
	free(query);
	free(tok);
	return buf_take(&b);
}

char *
paging_context(const struct server *s, const struct req *rq,
    const char *name)
{
	const char *v = rq->path + 1, *slash = strchr(v, '/');
	struct buf b = {0};

	buf_addf(&b, "%s/%.*s/$metadata#%s", s->base_url,
	    (int)(slash != NULL ? slash - v : (long)strlen(v)), v, name);
	return buf_take(&b);
}

/* obj with "@odata.context" first, as Graph sends single entities. */
cJSON *
paging_entity(const struct server *s, const struct req *rq, cJSON *obj,
    const char *name)
{
	cJSON *doc = cJSON_CreateObject(), *e;
	char *ctx = paging_context(s, rq, name);

	cJSON_AddStringToObject(doc, "@odata.context", ctx);
	free(ctx);
	while ((e = obj->child) != NULL) {
		cJSON_DetachItemViaPointer(obj, e);
		cJSON_AddItemToObject(doc, e->string, e);
	}
	cJSON_Delete(obj);
	return doc;
}

static bool
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ',' || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

void
paging_select(cJSON *obj, const struct req *rq)
{
	const char *sel = req_arg(rq, "$select");
	cJSON *e, *next;

	if (sel == NULL || !cJSON_IsObject(obj))
		return;
	for (e = obj->child; e != NULL; e = next) {
		next = e->next;
		/* The derived type and expanded navigation properties stay,
		 * as in Graph. */
		if (strcmp(e->string, "@odata.type") == 0 ||
		    in_list("assignments,settings,scheduledActionsForRule,"
		    "definitionValues,presentationValues,definition,"
		    "presentation,presentations", e->string) ||
		    in_list(sel, e->string))
			continue;
		cJSON_Delete(cJSON_DetachItemViaPointer(obj, e));
	}
}

void
paging_respond(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, const struct page *pg, cJSON *const *items,
    size_t n, project_fn project, void *ctx, const char *context)
{
	cJSON *doc = cJSON_CreateObject(), *value, *o;
	size_t i, end = pg->offset + pg->size;
	char *str;

	str = paging_context(s, rq, context);
	cJSON_AddStringToObject(doc, "@odata.context", str);
	free(str);
	if (pg->first && str_ieq(req_arg(rq, "$count"), "true") &&
	    req_eventual(rq))
		cJSON_AddNumberToObject(doc, "@odata.count", (double)n);
	if (end < n) {
		str = next_link(s, t, rq, end);
		cJSON_AddStringToObject(doc, "@odata.nextLink", str);
		free(str);
	}
	value = cJSON_AddArrayToObject(doc, "value");
	for (i = pg->offset; i < end && i < n; i++) {
		o = project(items[i], rq, ctx);
		paging_select(o, rq);
		cJSON_AddItemToArray(value, o);
	}
	resp_json(rs, 200, doc);
}

size_t
paging_collect(const cJSON *arr, const struct qnode *a, const struct qnode *b,
    cJSON ***out)
{
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(arr);
	cJSON *e;

	*out = xcalloc(cap, sizeof(**out));
	cJSON_ArrayForEach(e, arr) {
		if ((a == NULL || query_match(a, e)) &&
		    (b == NULL || query_match(b, e)) && n < cap)
			(*out)[n++] = e;
	}
	return n;
}

void
paging_list(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, const cJSON *arr, enum pager kind,
    project_fn project, void *ctx, const char *context)
{
	static const char *const unsupported[] = {"$filter", "$search",
	    "$skip", NULL};
	cJSON **items = NULL;
	struct page pg;
	size_t i, n;

	for (i = 0; unsupported[i] != NULL; i++) {
		if (req_arg(rq, unsupported[i]) != NULL) {
			err_graphf(rs, rq, 400, "BadRequest", "%s is not "
			    "supported on this navigation list by fakegraph.",
			    unsupported[i]);
			return;
		}
	}
	if (paging_begin(s, rq, rs, t, kind, "BadRequest", &pg) != 0)
		return;
	n = paging_collect(arr, NULL, NULL, &items);
	paging_respond(s, rq, rs, t, &pg, items, n, project, ctx, context);
	free(items);
}
