#include "identity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

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

/* One spelling per number: 1, 1.0 and 1e0 are all "1". */
static int
put_number(struct buf *b, double v, const char *where, char *err,
    size_t errlen)
{
	char tmp[40];

	if (!isfinite(v))
		return errf(err, errlen, "%s: number out of range", where);
	if (v == 0)
		v = 0; /* -0 and 0 are one value */
	if (floor(v) == v && fabs(v) < 9007199254740992.0) {
		snprintf(tmp, sizeof(tmp), "%.0f", v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
	}
	buf_puts(b, tmp);
	return 0;
}

static int
cmp_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static int put_value(struct buf *b, const cJSON *v, const char *where,
    int depth, char *err, size_t errlen);

static int
put_object(struct buf *b, const cJSON *o, const char *where, int depth,
    char *err, size_t errlen)
{
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
		rc = put_value(b, keys[i], sub, depth + 1, err, errlen);
	}
	buf_put(b, "}", 1);
	free(keys);
	return rc;
}

static int
put_array(struct buf *b, const cJSON *a, const char *where, int depth,
    char *err, size_t errlen)
{
	const cJSON *c;
	char sub[256];
	int i = 0;

	buf_put(b, "[", 1);
	cJSON_ArrayForEach(c, a) {
		snprintf(sub, sizeof(sub), "%s[%d]", where, i);
		if (i++ > 0)
			buf_put(b, ",", 1);
		if (put_value(b, c, sub, depth + 1, err, errlen) != 0)
			return -1;
	}
	buf_put(b, "]", 1);
	return 0;
}

static int
put_value(struct buf *b, const cJSON *v, const char *where, int depth,
    char *err, size_t errlen)
{
	if (depth > 64)
		return errf(err, errlen, "%s: nested deeper than 64 levels",
		    where);
	if (cJSON_IsObject(v))
		return put_object(b, v, where, depth, err, errlen);
	if (cJSON_IsArray(v))
		return put_array(b, v, where, depth, err, errlen);
	if (cJSON_IsString(v)) {
		put_string(b, v->valuestring);
		return 0;
	}
	if (cJSON_IsNumber(v))
		return put_number(b, v->valuedouble, where, err, errlen);
	if (cJSON_IsBool(v)) {
		buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
		return 0;
	}
	if (cJSON_IsNull(v)) {
		buf_puts(b, "null");
		return 0;
	}
	return errf(err, errlen, "%s: unsupported JSON value", where);
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

char *
identity_canonical_object(const char *json, const char *what, char *err,
    size_t errlen)
{
	const char *end = NULL, *nul = find_nul_escape(json);
	cJSON *root;
	struct buf b = { 0 };

	if (nul != NULL) {
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
		cJSON_Delete(root);
		return NULL;
	}
	if (put_value(&b, root, what, 0, err, errlen) != 0) {
		free(b.p);
		b.p = NULL;
	}
	cJSON_Delete(root);
	return b.p;
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
