/*
 * text - UTF-8 validation, repair and escaping: the one place that says
 * what clean text is.
 *
 * Valid UTF-8 is RFC 3629's: no overlong forms, no surrogates (U+D800 to
 * U+DFFF), nothing above U+10FFFF, no truncated sequence.  Text people
 * give (payloads, names) is checked with text_utf8_check and refused when
 * it is not valid; text from outside (plugins, Graph) is repaired with
 * text_utf8_repair before it is stored; text printed on a terminal or in
 * a log line goes through text_escape, so it can neither start a new line
 * nor send a control sequence.  Functions returning char * allocate (the
 * caller frees); none of them fails.
 */
#ifndef OPRUN_TEXT_H
#define OPRUN_TEXT_H

#include <stddef.h>

/* Returns 0 if s[0..len) is valid UTF-8, else -1 with the offset of the
 * first byte of the first invalid sequence in *bad_at. */
int	 text_utf8_check(const char *s, size_t len, size_t *bad_at);

/* A copy of s in which each invalid sequence (each maximal subpart, as
 * Unicode recommends) is replaced by U+FFFD. */
char	*text_utf8_repair(const char *s);

/* Returns the offset of the first control character in s (C0, DEL, or a
 * C1 control U+0080 to U+009F), or -1 if there is none.  s must be valid
 * UTF-8 for C1 controls to be found. */
long	 text_find_control(const char *s);

/* Escaping for terminals and log lines: invalid UTF-8 becomes U+FFFD,
 * newline, carriage return and tab become \n \r \t, other C0 controls and
 * DEL become \xNN, C1 controls become \u0080 to \u009f.  Other text,
 * backslashes included, is kept.  With TEXT_ESC_QUOTES '"' and '\\' are
 * escaped too (a quoted logfmt value). */
#define TEXT_ESC_QUOTES	0x1u

/* Writes the escaped s into buf (len > 0), NUL-terminated, cutting it
 * short rather than splitting a character or an escape; returns the
 * length written. */
size_t	 text_escape_buf(const char *s, unsigned flags, char *buf,
	    size_t len);
/* The escaped s, whole. */
char	*text_escape(const char *s, unsigned flags);
/* 1 if text_escape(s, flags) differs from s. */
int	 text_needs_escape(const char *s, unsigned flags);

/* Makes JSON text (as cJSON prints it) safe to print: invalid UTF-8 is
 * repaired and DEL and C1 controls, which JSON allows raw but terminals
 * obey, become \u007f and \u0080 to \u009f.  Such bytes only occur inside
 * strings, so the result is the same JSON value. */
char	*text_json_safe(const char *json);

#endif
