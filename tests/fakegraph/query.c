/*
 * query - the $filter and $search subsets fakegraph understands (S6),
 * parsed into one small expression tree and evaluated per item.
 *
 * $filter: startswith(prop,'x'), prop eq 'x' (with '' for a quote),
 * prop eq true|false|null, joined by and/or with parentheses.  String
 * comparisons ignore case, as directory queries do.
 *
 * $search: "prop:text" clauses joined by AND/OR (upper case) with
 * parentheses; \" and \\ escape inside a clause.  displayName and
 * description match by tokens (split on spaces, symbols, digits and
 * lower-to-upper case changes), each query token a case-insensitive
 * prefix of some value token, in any order; other properties match by
 * startsWith.  No "contains", as in real Graph.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Deeper nesting than this is refused rather than recursed into. */
#define MAX_DEPTH	32

enum qkind {
	Q_AND,
	Q_OR,
	Q_EQ,
	Q_STARTS,
	Q_SEARCH
};

enum lit {
	LIT_STRING,
	LIT_TRUE,
	LIT_FALSE,
	LIT_NULL
};

struct qnode {
	enum qkind kind;
	struct qnode *l;
	struct qnode *r;
	char *prop;
	char *text;
	enum lit lit;
	char **tok;
	size_t ntok;
	bool tokenized;
};

struct parser {
	const char *p;
	int depth;
	char *err;
	size_t errlen;
	bool failed;
};

static void
perr(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->errlen, fmt, ap);
	va_end(ap);
}

void
query_free(struct qnode *q)
{
	size_t i;

	if (q == NULL)
		return;
	query_free(q->l);
	query_free(q->r);
	free(q->prop);
	free(q->text);
	for (i = 0; i < q->ntok; i++)
		free(q->tok[i]);
	free(q->tok);
	free(q);
}

static struct qnode *
qnew(enum qkind kind)
{
	struct qnode *q = xcalloc(1, sizeof(*q));

	q->kind = kind;
	return q;
}

static struct qnode *
qjoin(enum qkind kind, struct qnode *l, struct qnode *r)
{
	struct qnode *q = qnew(kind);

	q->l = l;
	q->r = r;
	return q;
}

static void
skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

/* Consumes keyword kw (followed by a non-identifier character). */
static bool
keyword(struct parser *ps, const char *kw, bool any_case)
{
	size_t n = strlen(kw);
	int c;

	skip_ws(ps);
	if ((any_case ? strncasecmp(ps->p, kw, n) : strncmp(ps->p, kw, n)) != 0)
		return false;
	c = (unsigned char)ps->p[n];
	if (isalnum(c) || c == '_')
		return false;
	ps->p += n;
	return true;
}

/* ---- tokenizing for $search ------------------------------------------ */

static int
char_class(unsigned char c)
{
	if (isdigit(c))
		return 'd';
	if (isupper(c))
		return 'u';
	if (islower(c) || c >= 0x80)
		return 'l';
	return 0;
}

static void
add_token(char ***tok, size_t *n, const char *s, size_t len)
{
	char *t = xstrndup(s, len);
	size_t i;

	for (i = 0; i < len; i++)
		t[i] = (char)tolower((unsigned char)t[i]);
	*tok = xrealloc(*tok, (*n + 1) * sizeof(**tok));
	(*tok)[(*n)++] = t;
}

/* A token ends at a separator, between letters and digits, and where a
 * lower-case letter is followed by an upper-case one. */
static void
tokenize(const char *s, char ***tok, size_t *n)
{
	const char *start = NULL;
	int prev = 0, cur;

	for (;; s++) {
		cur = *s != '\0' ? char_class((unsigned char)*s) : 0;
		if (start != NULL && (cur == 0 || (prev == 'd') != (cur == 'd')
		    || (prev == 'l' && cur == 'u'))) {
			add_token(tok, n, start, (size_t)(s - start));
			start = NULL;
		}
		if (cur != 0 && start == NULL)
			start = s;
		prev = cur;
		if (*s == '\0')
			break;
	}
}

static void
free_tokens(char **tok, size_t n)
{
	while (n > 0)
		free(tok[--n]);
	free(tok);
}

/* ---- $filter --------------------------------------------------------- */

static struct qnode *filter_or(struct parser *ps);

static char *
parse_ident(struct parser *ps)
{
	const char *start;

	skip_ws(ps);
	start = ps->p;
	while (isalnum((unsigned char)*ps->p) || *ps->p == '_' || *ps->p == '@'
	    || *ps->p == '.')
		ps->p++;
	if (ps->p == start) {
		perr(ps, "a property name is expected at '%.20s'", start);
		return NULL;
	}
	return xstrndup(start, (size_t)(ps->p - start));
}

/* 'text' with '' standing for one quote. */
static char *
parse_string(struct parser *ps)
{
	struct buf b = {0};

	skip_ws(ps);
	if (*ps->p != '\'') {
		perr(ps, "a quoted string is expected at '%.20s'", ps->p);
		return NULL;
	}
	for (ps->p++;; ps->p++) {
		if (*ps->p == '\0') {
			perr(ps, "unterminated string");
			free(b.p);
			return NULL;
		}
		if (*ps->p == '\'' && ps->p[1] != '\'')
			break;
		if (*ps->p == '\'')
			ps->p++;
		buf_add(&b, ps->p, 1);
	}
	ps->p++;
	return buf_take(&b);
}

static bool
expect(struct parser *ps, char c)
{
	skip_ws(ps);
	if (*ps->p != c) {
		perr(ps, "'%c' is expected at '%.20s'", c, ps->p);
		return false;
	}
	ps->p++;
	return true;
}

static struct qnode *
filter_startswith(struct parser *ps)
{
	struct qnode *q = qnew(Q_STARTS);

	if (!expect(ps, '(') || (q->prop = parse_ident(ps)) == NULL ||
	    !expect(ps, ',') || (q->text = parse_string(ps)) == NULL ||
	    !expect(ps, ')')) {
		query_free(q);
		return NULL;
	}
	return q;
}

static struct qnode *
filter_eq(struct parser *ps)
{
	struct qnode *q = qnew(Q_EQ);

	if ((q->prop = parse_ident(ps)) == NULL)
		goto out_fail;
	if (!keyword(ps, "eq", true)) {
		perr(ps, "only 'eq' and startswith() are supported, at "
		    "'%.20s'", ps->p);
		goto out_fail;
	}
	skip_ws(ps);
	if (keyword(ps, "true", true))
		q->lit = LIT_TRUE;
	else if (keyword(ps, "false", true))
		q->lit = LIT_FALSE;
	else if (keyword(ps, "null", true))
		q->lit = LIT_NULL;
	else if ((q->text = parse_string(ps)) == NULL)
		goto out_fail;
	return q;
out_fail:
	query_free(q);
	return NULL;
}

static struct qnode *
filter_primary(struct parser *ps)
{
	struct qnode *q;

	skip_ws(ps);
	if (*ps->p == '(') {
		ps->p++;
		if (++ps->depth > MAX_DEPTH) {
			perr(ps, "too deeply nested");
			return NULL;
		}
		q = filter_or(ps);
		ps->depth--;
		if (q != NULL && !expect(ps, ')')) {
			query_free(q);
			return NULL;
		}
		return q;
	}
	if (keyword(ps, "startswith", true))
		return filter_startswith(ps);
	return filter_eq(ps);
}

static struct qnode *
filter_and(struct parser *ps)
{
	struct qnode *l = filter_primary(ps), *r;

	while (l != NULL && keyword(ps, "and", true)) {
		if ((r = filter_primary(ps)) == NULL) {
			query_free(l);
			return NULL;
		}
		l = qjoin(Q_AND, l, r);
	}
	return l;
}

static struct qnode *
filter_or(struct parser *ps)
{
	struct qnode *l = filter_and(ps), *r;

	while (l != NULL && keyword(ps, "or", true)) {
		if ((r = filter_and(ps)) == NULL) {
			query_free(l);
			return NULL;
		}
		l = qjoin(Q_OR, l, r);
	}
	return l;
}

static int
parse_top(struct qnode *(*top)(struct parser *), const char *s,
    struct qnode **out, char *err, size_t errlen)
{
	struct parser ps = {s, 0, err, errlen, false};
	struct qnode *q = top(&ps);

	skip_ws(&ps);
	if (q != NULL && *ps.p != '\0')
		perr(&ps, "unexpected '%.20s'", ps.p);
	if (q == NULL || ps.failed) {
		perr(&ps, "invalid expression");
		query_free(q);
		return -1;
	}
	*out = q;
	return 0;
}

int
query_parse_filter(const char *s, struct qnode **out, char *err,
    size_t errlen)
{
	return parse_top(filter_or, s, out, err, errlen);
}

/* ---- $search --------------------------------------------------------- */

static struct qnode *search_or(struct parser *ps);

/* The body of a quoted clause, unescaped.  NULL on error. */
static char *
clause_text(struct parser *ps)
{
	struct buf b = {0};

	for (ps->p++; *ps->p != '"'; ps->p++) {
		if (*ps->p == '\0') {
			perr(ps, "unterminated search clause");
			free(b.p);
			return NULL;
		}
		if (*ps->p == '\\' && ps->p[1] != '\0')
			ps->p++;
		buf_add(&b, ps->p, 1);
	}
	ps->p++;
	return buf_take(&b);
}

static bool
search_prop_ok(const char *prop, bool *tokenized)
{
	static const char *const tok_props[] = {"displayName", "description",
	    NULL};
	static const char *const prefix_props[] = {"mail", "mailNickname",
	    "onPremisesSamAccountName", NULL};
	size_t i;

	for (i = 0; tok_props[i] != NULL; i++)
		if (strcmp(prop, tok_props[i]) == 0)
			return *tokenized = true;
	*tokenized = false;
	for (i = 0; prefix_props[i] != NULL; i++)
		if (strcmp(prop, prefix_props[i]) == 0)
			return true;
	return false;
}

static struct qnode *
search_clause(struct parser *ps)
{
	char *body = clause_text(ps), *colon;
	struct qnode *q;

	if (body == NULL)
		return NULL;
	q = qnew(Q_SEARCH);
	if ((colon = strchr(body, ':')) == NULL || colon == body) {
		perr(ps, "a search clause is \"property:text\", not \"%.40s\"",
		    body);
		goto out_fail;
	}
	q->prop = xstrndup(body, (size_t)(colon - body));
	q->text = xstrdup(colon + 1);
	if (!search_prop_ok(q->prop, &q->tokenized)) {
		perr(ps, "property '%.40s' cannot be searched", q->prop);
		goto out_fail;
	}
	tokenize(q->text, &q->tok, &q->ntok);
	if (q->ntok == 0) {
		perr(ps, "the search text of '%.40s' is empty", q->prop);
		goto out_fail;
	}
	free(body);
	return q;
out_fail:
	free(body);
	query_free(q);
	return NULL;
}

static struct qnode *
search_primary(struct parser *ps)
{
	struct qnode *q;

	skip_ws(ps);
	if (*ps->p == '"')
		return search_clause(ps);
	if (*ps->p != '(') {
		perr(ps, "a quoted \"property:text\" clause is expected at "
		    "'%.20s'", ps->p);
		return NULL;
	}
	ps->p++;
	if (++ps->depth > MAX_DEPTH) {
		perr(ps, "too deeply nested");
		return NULL;
	}
	q = search_or(ps);
	ps->depth--;
	if (q != NULL && !expect(ps, ')')) {
		query_free(q);
		return NULL;
	}
	return q;
}

static struct qnode *
search_and(struct parser *ps)
{
	struct qnode *l = search_primary(ps), *r;

	while (l != NULL && keyword(ps, "AND", false)) {
		if ((r = search_primary(ps)) == NULL) {
			query_free(l);
			return NULL;
		}
		l = qjoin(Q_AND, l, r);
	}
	return l;
}

static struct qnode *
search_or(struct parser *ps)
{
	struct qnode *l = search_and(ps), *r;

	while (l != NULL && keyword(ps, "OR", false)) {
		if ((r = search_and(ps)) == NULL) {
			query_free(l);
			return NULL;
		}
		l = qjoin(Q_OR, l, r);
	}
	return l;
}

int
query_parse_search(const char *s, struct qnode **out, char *err,
    size_t errlen)
{
	return parse_top(search_or, s, out, err, errlen);
}

/* ---- evaluation ------------------------------------------------------ */

/* Every query token is a prefix of some token of value. */
static bool
tokens_match(const struct qnode *q, const char *value)
{
	char **vt = NULL;
	size_t nv = 0, i, j;
	bool all = true, one;

	tokenize(value, &vt, &nv);
	for (i = 0; i < q->ntok && all; i++) {
		one = false;
		for (j = 0; j < nv && !one; j++)
			one = strncmp(vt[j], q->tok[i], strlen(q->tok[i])) == 0;
		all = one;
	}
	free_tokens(vt, nv);
	return all;
}

static bool
eq_match(const struct qnode *q, const cJSON *v)
{
	switch (q->lit) {
	case LIT_TRUE:
		return cJSON_IsTrue(v);
	case LIT_FALSE:
		return cJSON_IsFalse(v);
	case LIT_NULL:
		return v == NULL || cJSON_IsNull(v);
	case LIT_STRING:
		return cJSON_IsString(v) && strcasecmp(v->valuestring,
		    q->text) == 0;
	}
	return false;
}

bool
query_match(const struct qnode *q, const cJSON *item)
{
	const cJSON *v;

	switch (q->kind) {
	case Q_AND:
		return query_match(q->l, item) && query_match(q->r, item);
	case Q_OR:
		return query_match(q->l, item) || query_match(q->r, item);
	default:
		break;
	}
	v = cJSON_GetObjectItemCaseSensitive(item, q->prop);
	if (q->kind == Q_EQ)
		return eq_match(q, v);
	if (!cJSON_IsString(v))
		return false;
	if (q->kind == Q_SEARCH && q->tokenized)
		return tokens_match(q, v->valuestring);
	return strncasecmp(v->valuestring, q->text, strlen(q->text)) == 0;
}
