/* Unit tests for text.c: UTF-8 validation, repair and escaping. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

#define FFFD "\xef\xbf\xbd"

/* Asserts s is valid UTF-8. */
static void
assert_valid(const char *s)
{
	size_t at = 12345;

	if (text_utf8_check(s, strlen(s), &at) != 0)
		fail_msg("valid text refused at byte %zu", at);
}

/* Asserts s is invalid, the first bad sequence starting at byte at. */
static void
assert_invalid_at(const char *s, size_t want)
{
	size_t at = 12345;

	assert_int_equal(text_utf8_check(s, strlen(s), &at), -1);
	assert_int_equal(at, want);
}

static void
assert_repaired(const char *s, const char *want)
{
	char *got = text_utf8_repair(s);

	if (strcmp(got, want) != 0) {
		print_error("repair: got \"%s\", want \"%s\"\n", got, want);
		free(got);
		fail();
	}
	free(got);
}

static void
assert_escaped(const char *s, unsigned flags, const char *want)
{
	char *got = text_escape(s, flags);

	if (strcmp(got, want) != 0) {
		print_error("escape: got \"%s\", want \"%s\"\n", got, want);
		free(got);
		fail();
	}
	assert_int_equal(text_needs_escape(s, flags), strcmp(s, want) != 0);
	free(got);
}

static void
valid_multibyte_text_is_accepted(void **state)
{
	(void)state;
	assert_valid("");
	assert_valid("plain ASCII, with punctuation ~!");
	assert_valid("\xc3\xa9t\xc3\xa9");		/* été: 2 bytes */
	assert_valid("\xe2\x82\xac 100");		/* €: 3 bytes */
	assert_valid("\xf0\x9f\x98\x80");		/* U+1F600: 4 bytes */
	assert_valid("\xc2\x80 \xdf\xbf");		/* U+0080, U+07FF */
	assert_valid("\xe0\xa0\x80 \xef\xbf\xbf");	/* U+0800, U+FFFF */
	assert_valid("\xed\x9f\xbf \xee\x80\x80");	/* around surrogates */
	assert_valid("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf"); /* U+10000-10FFFF */
}

static void
overlong_encodings_are_refused(void **state)
{
	(void)state;
	assert_invalid_at("a\xc0\xaf", 1);		/* '/' in 2 bytes */
	assert_invalid_at("\xc1\xbf", 0);
	assert_invalid_at("ab\xe0\x80\xaf", 2);		/* '/' in 3 bytes */
	assert_invalid_at("\xe0\x9f\xbf", 0);		/* U+07FF in 3 */
	assert_invalid_at("\xf0\x80\x80\xaf", 0);	/* '/' in 4 bytes */
	assert_invalid_at("\xf0\x8f\xbf\xbf", 0);	/* U+FFFF in 4 */
	assert_invalid_at("\xc0\x80", 0);		/* "modified UTF-8" NUL */
}

static void
surrogates_are_refused(void **state)
{
	(void)state;
	assert_invalid_at("\xed\xa0\x80", 0);		/* U+D800 */
	assert_invalid_at("x\xed\xbf\xbf", 1);		/* U+DFFF */
	/* CESU-8: a surrogate pair encoded as two 3-byte sequences. */
	assert_invalid_at("\xed\xa0\xbd\xed\xb8\x80", 0);
}

static void
code_points_above_10ffff_are_refused(void **state)
{
	(void)state;
	assert_invalid_at("\xf4\x90\x80\x80", 0);	/* U+110000 */
	assert_invalid_at("ok \xf5\x80\x80\x80", 3);
	assert_invalid_at("\xf7\xbf\xbf\xbf", 0);
	assert_invalid_at("\xf8\x88\x80\x80\x80", 0);	/* old 5-byte form */
	assert_invalid_at("\xfc\x84\x80\x80\x80\x80", 0);
	assert_invalid_at("\xfe", 0);
	assert_invalid_at("\xff", 0);
}

static void
truncated_and_stray_sequences_are_refused(void **state)
{
	size_t at;

	(void)state;
	assert_invalid_at("\xc3", 0);			/* lead at the end */
	assert_invalid_at("abc\xe2\x82", 3);
	assert_invalid_at("\xf0\x9f\x98", 0);
	assert_invalid_at("\xe2\x82x", 0);		/* cut by ASCII */
	assert_invalid_at("\x80", 0);			/* lone continuation */
	assert_invalid_at("\xc3\xa9\xa9", 2);
	/* A length cuts a sequence: the bytes past it do not count. */
	assert_int_equal(text_utf8_check("\xc3\xa9", 1, &at), -1);
	assert_int_equal(at, 0);
	/* NUL is a valid character when a length is given. */
	assert_int_equal(text_utf8_check("a\0b", 3, &at), 0);
}

static void
repair_replaces_each_maximal_subpart_with_one_fffd(void **state)
{
	(void)state;
	assert_repaired("fine \xc3\xa9", "fine \xc3\xa9");
	assert_repaired("a\xffz", "a" FFFD "z");
	/* A truncated sequence is one subpart: one U+FFFD. */
	assert_repaired("a\xe2\x82z", "a" FFFD "z");
	assert_repaired("\xf0\x9f\x98", FFFD);
	/* Bytes that can never start a sequence: one U+FFFD each. */
	assert_repaired("\xc0\xaf", FFFD FFFD);
	assert_repaired("\xed\xa0\x80", FFFD FFFD FFFD);
	assert_repaired("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	/* Unicode's own example (table 3-8). */
	assert_repaired("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	    "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
	assert_repaired("", "");
}

static void
control_characters_are_found_with_their_offset(void **state)
{
	(void)state;
	assert_int_equal(text_find_control("policy-42"), -1);
	assert_int_equal(text_find_control("caf\xc3\xa9"), -1);
	assert_int_equal(text_find_control("a\nb"), 1);
	assert_int_equal(text_find_control("ab\x1b[2J"), 2);
	assert_int_equal(text_find_control("abc\x7f"), 3);
	assert_int_equal(text_find_control("\xc3\xa9\xc2\x9b"), 2);	/* CSI */
	assert_int_equal(text_find_control("\xc2\xa0 nbsp"), -1);
}

static void
escaping_keeps_text_on_one_line_and_sends_no_control(void **state)
{
	(void)state;
	assert_escaped("nothing to do", 0, "nothing to do");
	assert_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_escaped("line one\nts=x level=error msg=forged", 0,
	    "line one\\nts=x level=error msg=forged");
	assert_escaped("a\rb\tc", 0, "a\\rb\\tc");
	assert_escaped("\x1b[31mred\x1b[0m", 0, "\\x1b[31mred\\x1b[0m");
	assert_escaped("bell\x07 del\x7f", 0, "bell\\x07 del\\x7f");
	assert_escaped("\xc2\x9b" "2J and \xc2\x85", 0, "\\u009b2J and \\u0085");
	assert_escaped("bad \xff byte", 0, "bad " FFFD " byte");
	/* Backslashes and quotes stay, unless a quoted value asks. */
	assert_escaped("C:\\dir \"x\"", 0, "C:\\dir \"x\"");
	assert_escaped("C:\\dir \"x\"", TEXT_ESC_QUOTES,
	    "C:\\\\dir \\\"x\\\"");
}

static void
a_bounded_escape_never_splits_a_character_or_an_escape(void **state)
{
	char buf[8];

	(void)state;
	/* "ab" + \x1b would be 6 bytes: with room for 5, it stops at "ab". */
	assert_int_equal(text_escape_buf("ab\x1b", 0, buf, 6), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(text_escape_buf("ab\x1b", 0, buf, 7), 6);
	assert_string_equal(buf, "ab\\x1b");
	assert_int_equal(text_escape_buf("a\xe2\x82\xac", 0, buf, 4), 1);
	assert_string_equal(buf, "a");
	assert_int_equal(text_escape_buf("abc", 0, buf, 1), 0);
	assert_string_equal(buf, "");
}

static void
json_output_is_repaired_and_gets_no_raw_c1_or_del(void **state)
{
	char *got;

	(void)state;
	got = text_json_safe("{\"s\":\"\xc2\x9b" "2J\x7f \xff \xc3\xa9\"}");
	assert_string_equal(got,
	    "{\"s\":\"\\u009b2J\\u007f " FFFD " \xc3\xa9\"}");
	free(got);
	got = text_json_safe("{\"n\":12345678901234567890}");
	assert_string_equal(got, "{\"n\":12345678901234567890}");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_multibyte_text_is_accepted),
		cmocka_unit_test(overlong_encodings_are_refused),
		cmocka_unit_test(surrogates_are_refused),
		cmocka_unit_test(code_points_above_10ffff_are_refused),
		cmocka_unit_test(truncated_and_stray_sequences_are_refused),
		cmocka_unit_test(
		    repair_replaces_each_maximal_subpart_with_one_fffd),
		cmocka_unit_test(
		    control_characters_are_found_with_their_offset),
		cmocka_unit_test(
		    escaping_keeps_text_on_one_line_and_sends_no_control),
		cmocka_unit_test(
		    a_bounded_escape_never_splits_a_character_or_an_escape),
		cmocka_unit_test(
		    json_output_is_repaired_and_gets_no_raw_c1_or_del),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
