/*
 * util - buffers, name/value lists, encodings and time for fakegraph.
 * The x* allocators come from oprun's core/util.c (they abort on OOM;
 * this fixture bounds its inputs before allocating).
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- buffers --------------------------------------------------------- */

static void
buf_reserve(struct buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;

	if (want <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < want)
		b->cap *= 2;
	b->p = xrealloc(b->p, b->cap);
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
buf_take(struct buf *b)
{
	char *p = b->p;

	if (p == NULL)
		p = xstrdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- name/value lists ------------------------------------------------ */

void
kv_add(struct kvlist *l, const char *name, const char *value)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].name = xstrdup(name);
	l->v[l->n].value = xstrdup(value);
	l->n++;
}

void
kv_set(struct kvlist *l, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcasecmp(l->v[i].name, name) == 0) {
			free(l->v[i].value);
			l->v[i].value = xstrdup(value);
			return;
		}
	}
	kv_add(l, name, value);
}

const char *
kv_get(const struct kvlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			return l->v[i].value;
	return NULL;
}

size_t
kv_count(const struct kvlist *l, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			n++;
	return n;
}

void
kv_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* ---- encodings ------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
pct_decode(const char *s, size_t n, bool plus)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (plus && s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

void
form_parse(const char *s, size_t n, struct kvlist *out)
{
	const char *end = s + n, *amp, *eq;
	char *name, *value;

	while (s < end) {
		amp = memchr(s, '&', (size_t)(end - s));
		if (amp == NULL)
			amp = end;
		if (amp > s) {
			eq = memchr(s, '=', (size_t)(amp - s));
			if (eq == NULL)
				eq = amp;
			name = pct_decode(s, (size_t)(eq - s), true);
			value = eq < amp ?
			    pct_decode(eq + 1, (size_t)(amp - eq - 1), true) :
			    xstrdup("");
			kv_add(out, name, value);
			free(name);
			free(value);
		}
		s = amp + 1;
	}
}

void
random_bytes(unsigned char *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1) {
		fprintf(stderr, "fakegraph: RAND_bytes failed\n");
		abort();
	}
}

void
random_hex(char *out, size_t nbytes)
{
	unsigned char raw[64];
	size_t i;

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	random_bytes(raw, nbytes);
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	out[2 * nbytes] = '\0';
}

void
guid_new(char *out)
{
	char h[33];

	random_hex(h, 16);
	/* Version 4, variant 10xx, as real request ids are. */
	h[12] = '4';
	h[16] = "89ab"[hexval((unsigned char)h[16]) & 3];
	snprintf(out, FG_GUID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8,
	    h + 12, h + 16, h + 20);
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
b64url_encode(const unsigned char *p, size_t n)
{
	char *out = xmalloc((n + 2) / 3 * 4 + 1);
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return out;
}

static int
b64url_val(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;

	return p == NULL ? -1 : (int)(p - b64url);
}

int
b64url_decode(const char *s, unsigned char *out, size_t max, size_t *outlen)
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if ((v = b64url_val(*s)) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == max)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero padding, so one token has one form. */
	if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = o;
	return 0;
}

/* ---- time ------------------------------------------------------------ */

static void
to_tm(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms / 1000);

	gmtime_r(&t, tm);
}

void
fmt_iso_ms(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	char s[24];

	to_tm(ms, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ms % 1000));
}

void
fmt_iso_s(int64_t ms, char *buf, size_t len)
{
	struct tm tm;

	to_tm(ms, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

void
fmt_aad_time(int64_t ms, char *buf, size_t len)
{
	struct tm tm;

	to_tm(ms, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

void
fmt_http_date(int64_t ms, char *buf, size_t len)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;

	/* Spelled out rather than strftime("%a"), which follows the locale. */
	to_tm(ms, &tm);
	snprintf(buf, len, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
	    days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- strings --------------------------------------------------------- */

bool
str_ieq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

bool
str_iprefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	long v = 0;
	bool neg = false;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (1L << 40))
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (*s != '\0')
		return -1;
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
