#include "identity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "text.h"
#include "util.h"

/* A growable text buffer; the caller bounds what goes in. */
struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void
put_string(struct buf *b, const char *s)
{
	char esc[8];

	buf_put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			buf_put(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			buf_put(b, esc, 6);
		} else {
			buf_put(b, s, 1);
		}
	}
	buf_put(b, "\"", 1);
}

/* A number of the source text: cJSON keeps only its double, so the text
 * each number node came from is found again (see number_tokens). */
struct numtok {
	const cJSON *node;
	const char *p;
	size_t n;
};

/* What canonicalising one document needs: the output and the numbers. */
struct canon {
	struct buf b;
	struct numtok *nums;
	size_t nnums;
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Integers with up to this many digits are written out in full. */
#define PLAIN_DIGITS 64

/*
 * Writes the significant digits d[0..nd) (no leading or trailing zero)
 * times 10^exp10 in its one spelling: integers of up to PLAIN_DIGITS
 * digits in full, other numbers from 1e-4 up positionally, the rest in
 * exponent form as printf's %g writes it (1e+64, 2.5e-300).
 */
static void
put_decimal(struct buf *b, int neg, const char *d, long nd, long exp10)
{
	long x = nd - 1 + exp10;	/* the exponent of the first digit */
	char tmp[32];

	if (neg)
		buf_put(b, "-", 1);
	if (exp10 >= 0 && x < PLAIN_DIGITS) {
		buf_put(b, d, (size_t)nd);
		for (long i = 0; i < exp10; i++)
			buf_put(b, "0", 1);
	} else if (exp10 < 0 && x >= -4) {
		if (x >= 0) {
			buf_put(b, d, (size_t)x + 1);
			buf_put(b, ".", 1);
			buf_put(b, d + x + 1, (size_t)(nd - x - 1));
		} else {
			buf_put(b, "0.", 2);
			for (long i = 0; i < -x - 1; i++)
				buf_put(b, "0", 1);
			buf_put(b, d, (size_t)nd);
		}
	} else {
		buf_put(b, d, 1);
		if (nd > 1) {
			buf_put(b, ".", 1);
			buf_put(b, d + 1, (size_t)nd - 1);
		}
		snprintf(tmp, sizeof(tmp), "e%c%02ld", x < 0 ? '-' : '+',
		    x < 0 ? -x : x);
		buf_puts(b, tmp);
	}
}

/*
 * One spelling per number, taken from its text rather than its double so
 * that no digit is lost: 1, 1.0, 1e0 and 10E-1 are all "1", and
 * 12345678901234567890 stays itself.  v is cJSON's reading of the same
 * text, used for the range (what a plugin's double can hold).
 */
static int
put_number(struct buf *b, const char *p, size_t n, double v,
    const char *where, char *err, size_t errlen)
{
	const char *s = p, *end = p + n;
	char *d = xmalloc(n + 1);
	long nd = 0, exp10 = 0, e = 0, lead = 0;
	int neg = 0, eneg = 0, rc = 0;

	if (s < end && *s == '-')
		neg = 1, s++;
	if (s == end || !is_digit(*s) ||
	    (*s == '0' && s + 1 < end && is_digit(s[1])))
		goto bad;
	while (s < end && is_digit(*s))
		d[nd++] = *s++;
	if (s < end && *s == '.') {
		if (++s == end || !is_digit(*s))
			goto bad;
		for (; s < end && is_digit(*s); exp10--)
			d[nd++] = *s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		if (++s < end && (*s == '+' || *s == '-'))
			eneg = *s++ == '-';
		if (s == end || !is_digit(*s))
			goto bad;
		for (; s < end && is_digit(*s); s++)
			if (e < 1000000)
				e = e * 10 + (*s - '0');
	}
	if (s != end)
		goto bad;
	exp10 += eneg ? -e : e;
	while (lead < nd && d[lead] == '0')
		lead++;
	if (lead == nd) {
		buf_put(b, "0", 1);	/* -0 and 0 are one value */
		goto out;
	}
	while (d[nd - 1] == '0')
		nd--, exp10++;
	if (!isfinite(v) || v == 0) {
		rc = errf(err, errlen, "%s: number out of range (a double "
		    "holds about 1e-308 to 1e308)", where);
		goto out;
	}
	put_decimal(b, neg, d + lead, nd - lead, exp10);
	goto out;
bad:
	rc = errf(err, errlen, "%s: %.*s is not a JSON number; write it as "
	    "JSON does, such as 5, -0.5 or 1e3 (no leading zeros, digits "
	    "after a point)", where, n > 40 ? 40 : (int)n, p);
out:
	free(d);
	return rc;
}

static int
cmp_numtok(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct numtok *)a)->node;
	uintptr_t y = (uintptr_t)((const struct numtok *)b)->node;

	return x < y ? -1 : x > y;
}

static int
put_number_node(struct canon *c, const cJSON *v, const char *where,
    char *err, size_t errlen)
{
	struct numtok key = { .node = v };
	const struct numtok *t = bsearch(&key, c->nums, c->nnums,
	    sizeof(*c->nums), cmp_numtok);

	if (t == NULL)
		return errf(err, errlen, "%s: number not found in the text; "
		    "report this as an oprun bug", where);
	return put_number(&c->b, t->p, t->n, v->valuedouble, where, err,
	    errlen);
}

static int
cmp_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static int put_value(struct canon *c, const cJSON *v, const char *where,
    int depth, char *err, size_t errlen);

static int
put_object(struct canon *cn, const cJSON *o, const char *where, int depth,
    char *err, size_t errlen)
{
	struct buf *b = &cn->b;
	size_t n = 0, i;
	const cJSON *c;
	const cJSON **keys;
	char sub[256];
	int rc = 0;

	cJSON_ArrayForEach(c, o)
		n++;
	keys = xcalloc(n, sizeof(*keys));
	n = 0;
	cJSON_ArrayForEach(c, o)
		keys[n++] = c;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	buf_put(b, "{", 1);
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(sub, sizeof(sub), "%s.%s", where, keys[i]->string);
		if (i > 0 && strcmp(keys[i - 1]->string, keys[i]->string) == 0) {
			rc = errf(err, errlen, "%s: duplicate key", sub);
			break;
		}
		if (i > 0)
			buf_put(b, ",", 1);
		put_string(b, keys[i]->string);
		buf_put(b, ":", 1);
		rc = put_value(cn, keys[i], sub, depth + 1, err, errlen);
	}
	buf_put(b, "}", 1);
	free(keys);
	return rc;
}

static int
put_array(struct canon *cn, const cJSON *a, const char *where, int depth,
    char *err, size_t errlen)
{
	struct buf *b = &cn->b;
	const cJSON *c;
	char sub[256];
	int i = 0;

	buf_put(b, "[", 1);
	cJSON_ArrayForEach(c, a) {
		snprintf(sub, sizeof(sub), "%s[%d]", where, i);
		if (i++ > 0)
			buf_put(b, ",", 1);
		if (put_value(cn, c, sub, depth + 1, err, errlen) != 0)
			return -1;
	}
	buf_put(b, "]", 1);
	return 0;
}

static int
put_value(struct canon *c, const cJSON *v, const char *where, int depth,
    char *err, size_t errlen)
{
	if (depth > 64)
		return errf(err, errlen, "%s: nested deeper than 64 levels",
		    where);
	if (cJSON_IsObject(v))
		return put_object(c, v, where, depth, err, errlen);
	if (cJSON_IsArray(v))
		return put_array(c, v, where, depth, err, errlen);
	if (cJSON_IsString(v)) {
		put_string(&c->b, v->valuestring);
		return 0;
	}
	if (cJSON_IsNumber(v))
		return put_number_node(c, v, where, err, errlen);
	if (cJSON_IsBool(v)) {
		buf_puts(&c->b, cJSON_IsTrue(v) ? "true" : "false");
		return 0;
	}
	if (cJSON_IsNull(v)) {
		buf_puts(&c->b, "null");
		return 0;
	}
	return errf(err, errlen, "%s: unsupported JSON value", where);
}

/* The number tokens of json, which cJSON parsed, in document order: a
 * number starts with '-' or a digit outside a string and runs over the
 * characters cJSON's number reader takes. */
static struct numtok *
number_tokens(const char *json, size_t *n)
{
	struct numtok *v = NULL;
	size_t cap = 0;

	*n = 0;
	for (const char *p = json; *p != '\0'; p++) {
		const char *start = p;

		if (*p == '"') {
			while (*++p != '\0' && *p != '"')
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				break;
			continue;
		}
		if (*p != '-' && !is_digit(*p))
			continue;
		while (p[1] != '\0' && strchr("0123456789+-.eE", p[1]) != NULL)
			p++;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[*n].node = NULL;
		v[*n].p = start;
		v[(*n)++].n = (size_t)(p - start) + 1;
	}
	return v;
}

/* Pairs each number node, in document order, with its token. */
static void
pair_numbers(const cJSON *v, struct numtok *toks, size_t n, size_t *i)
{
	const cJSON *c;

	if (cJSON_IsNumber(v)) {
		if (*i < n)
			toks[*i].node = v;
		(*i)++;
		return;
	}
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		cJSON_ArrayForEach(c, v)
			pair_numbers(c, toks, n, i);
}

/* Finds a \u0000 escape inside a string: cJSON ends its C strings there,
 * so "a\u0000b" would silently become "a" and collide with it. */
static const char *
find_nul_escape(const char *json)
{
	int in_string = 0;

	for (const char *p = json; *p != '\0'; p++) {
		if (*p == '"') {
			in_string = !in_string;
		} else if (in_string && *p == '\\') {
			if (strncmp(p + 1, "u0000", 5) == 0)
				return p;
			if (p[1] != '\0')
				p++;
		}
	}
	return NULL;
}

/* Refuses text that is not UTF-8, naming the first bad byte. */
static int
check_utf8(const char *json, const char *what, char *err, size_t errlen)
{
	size_t at;

	if (text_utf8_check(json, strlen(json), &at) == 0)
		return 0;
	return errf(err, errlen, "%s: invalid UTF-8 at byte offset %zu "
	    "(0x%02x); give the text as UTF-8 (convert it with iconv -t "
	    "UTF-8) or write the character as \\uXXXX", what, at,
	    (unsigned char)json[at]);
}

char *
identity_canonical_object(const char *json, const char *what, char *err,
    size_t errlen)
{
	const char *end = NULL, *nul;
	struct canon c = { 0 };
	cJSON *root;
	size_t paired = 0;

	if (check_utf8(json, what, err, errlen) != 0)
		return NULL;
	if ((nul = find_nul_escape(json)) != NULL) {
		errf(err, errlen, "%s: \\u0000 (NUL) at byte %td is not "
		    "allowed in strings; remove it", what, nul - json);
		return NULL;
	}
	root = cJSON_ParseWithOpts(json, &end, 1);
	if (root == NULL) {
		errf(err, errlen, "%s: not valid JSON (error near byte %td); "
		    "give a JSON object such as {\"key\":\"value\"}", what,
		    end != NULL ? end - json : (ptrdiff_t)0);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		errf(err, errlen, "%s: must be a JSON object such as "
		    "{\"key\":\"value\"}", what);
		goto out;
	}
	c.nums = number_tokens(json, &c.nnums);
	pair_numbers(root, c.nums, c.nnums, &paired);
	if (paired != c.nnums) {
		errf(err, errlen, "%s: %zu numbers parsed but %zu found in the "
		    "text; report this as an oprun bug", what, paired, c.nnums);
		goto out;
	}
	if (c.nnums > 0)
		qsort(c.nums, c.nnums, sizeof(*c.nums), cmp_numtok);
	if (put_value(&c, root, what, 0, err, errlen) != 0) {
		free(c.b.p);
		c.b.p = NULL;
	}
out:
	free(c.nums);
	cJSON_Delete(root);
	return c.b.p;
}

void
identity_hash(const char *tenant, const char *type, const char *target,
    const char *canonical_payload, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int outlen = 32;
	const char *parts[5] = { IDENTITY_VERSION, tenant, type,
		target != NULL ? target : "", canonical_payload };

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "oprun: SHA-256 unavailable\n");
		abort();
	}
	for (int i = 0; i < 5; i++)
		EVP_DigestUpdate(md, parts[i], strlen(parts[i]) + 1);
	EVP_DigestFinal_ex(md, out, &outlen);
	EVP_MD_CTX_free(md);
}
