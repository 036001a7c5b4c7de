#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* U+FFFD REPLACEMENT CHARACTER */
static const char replacement[] = "\xEF\xBF\xBD";

/*
 * The UTF-8 sequence at s, of which n bytes may be read (a NUL stops it
 * too, since NUL is never a continuation byte): returns its length if it
 * is valid, else minus the length of its maximal subpart (at least 1),
 * the bytes one U+FFFD replaces.  The ranges are Unicode's table 3-7.
 */
static int
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	int need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c == 0xE0)
		need = 2, lo = 0xA0;		/* no overlong forms */
	else if (c == 0xED)
		need = 2, hi = 0x9F;		/* no surrogates */
	else if (c >= 0xE1 && c <= 0xEF)
		need = 2;
	else if (c == 0xF0)
		need = 3, lo = 0x90;		/* no overlong forms */
	else if (c >= 0xF1 && c <= 0xF3)
		need = 3;
	else if (c == 0xF4)
		need = 3, hi = 0x8F;		/* nothing above U+10FFFF */
	else
		return -1;	/* 80-C1 (continuation, overlong), F5-FF */
	for (int i = 1; i <= need; i++) {
		if ((size_t)i >= n || s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

int
text_utf8_check(const char *s, size_t len, size_t *bad_at)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		int n = utf8_seq(p + i, len - i);

		if (n < 0) {
			*bad_at = i;
			return -1;
		}
		i += (size_t)n;
	}
	return 0;
}

/* 1 if the valid sequence at p of length n is a C1 control. */
static int
is_c1(const unsigned char *p, int n)
{
	return n == 2 && p[0] == 0xC2 && p[1] <= 0x9F;
}

long
text_find_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (p[i] != '\0') {
		int n = utf8_seq(p + i, SIZE_MAX);

		if (p[i] < 0x20 || p[i] == 0x7F || is_c1(p + i, n))
			return (long)i;
		i += (size_t)(n < 0 ? -n : n);
	}
	return -1;
}

enum text_mode { MODE_REPAIR, MODE_ESCAPE, MODE_JSON };

/*
 * The output for the unit at p (one valid character, or one invalid
 * subpart) into piece (at least 8 bytes); returns its length and sets
 * *used to the bytes of p it stands for.
 */
static size_t
one_unit(const unsigned char *p, enum text_mode mode, unsigned flags,
    char *piece, size_t *used)
{
	int n = utf8_seq(p, SIZE_MAX);
	unsigned c = p[0];

	if (n < 0) {
		*used = (size_t)-n;
		memcpy(piece, replacement, 3);
		return 3;
	}
	*used = (size_t)n;
	if (mode == MODE_ESCAPE && (c < 0x20 || c == 0x7F)) {
		if (c == '\n' || c == '\r' || c == '\t') {
			piece[0] = '\\';
			piece[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			return 2;
		}
		return (size_t)snprintf(piece, 8, "\\x%02x", c);
	}
	if (mode == MODE_ESCAPE && (flags & TEXT_ESC_QUOTES) &&
	    (c == '"' || c == '\\')) {
		piece[0] = '\\';
		piece[1] = (char)c;
		return 2;
	}
	if (mode != MODE_REPAIR && is_c1(p, n))
		return (size_t)snprintf(piece, 8, "\\u%04x", p[1]);
	if (mode == MODE_JSON && c == 0x7F)
		return (size_t)snprintf(piece, 8, "\\u007f");
	memcpy(piece, p, (size_t)n);
	return (size_t)n;
}

/* Converts s into buf (len > 0) unit by unit, stopping before a unit that
 * does not fit; returns the length written. */
static size_t
convert(const char *s, enum text_mode mode, unsigned flags, char *buf,
    size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, used, n;
	char piece[8];

	while (*p != '\0') {
		n = one_unit(p, mode, flags, piece, &used);
		if (off + n >= len)
			break;
		memcpy(buf + off, piece, n);
		off += n;
		p += used;
	}
	buf[off] = '\0';
	return off;
}

/* No unit grows more than 6 times: DEL as \u007f in JSON. */
static char *
convert_all(const char *s, enum text_mode mode, unsigned flags)
{
	size_t cap = strlen(s) * 6 + 1;
	char *out = xmalloc(cap);

	convert(s, mode, flags, out, cap);
	return out;
}

char *
text_utf8_repair(const char *s)
{
	return convert_all(s, MODE_REPAIR, 0);
}

size_t
text_escape_buf(const char *s, unsigned flags, char *buf, size_t len)
{
	return convert(s, MODE_ESCAPE, flags, buf, len);
}

char *
text_escape(const char *s, unsigned flags)
{
	return convert_all(s, MODE_ESCAPE, flags);
}

int
text_needs_escape(const char *s, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used, n;
	char piece[8];

	while (*p != '\0') {
		n = one_unit(p, MODE_ESCAPE, flags, piece, &used);
		if (n != used || memcmp(piece, p, n) != 0)
			return 1;
		p += used;
	}
	return 0;
}

char *
text_json_safe(const char *json)
{
	return convert_all(json, MODE_JSON, 0);
}
