/* Unit tests for log.c: one logfmt line per event, whatever the text. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "oprun/plugin.h"
#include "testutil.h"
#include "text.h"

struct fixture {
	char dir[PATH_MAX];
	char file[PATH_MAX + 16];
	int saved_stderr;
	char out[8192];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_mkdtemp(f->dir, sizeof(f->dir), "oprun-log");
	snprintf(f->file, sizeof(f->file), "%s/stderr", f->dir);
	f->saved_stderr = dup(STDERR_FILENO);
	assert_true(f->saved_stderr >= 0);
	log_set_level(OPRUN_LOG_DEBUG);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Logs one event with msg and type as given, capturing what reaches
 * stderr in f->out. */
static void
capture(struct fixture *f, const char *type, const char *msg)
{
	FILE *fp = fopen(f->file, "w+");
	size_t n;

	assert_non_null(fp);
	fflush(stderr);
	assert_true(dup2(fileno(fp), STDERR_FILENO) >= 0);
	log_event(OPRUN_LOG_WARN, 7, type, "contoso", "plugin p: %s", msg);
	fflush(stderr);
	dup2(f->saved_stderr, STDERR_FILENO);
	rewind(fp);
	n = fread(f->out, 1, sizeof(f->out) - 1, fp);
	f->out[n] = '\0';
	fclose(fp);
}

/* The captured output is one line: valid UTF-8, no control character
 * but its final newline. */
static void
assert_one_clean_line(const struct fixture *f)
{
	size_t len = strlen(f->out), at;

	assert_true(len > 0);
	if (f->out[len - 1] != '\n' || strchr(f->out, '\n') != f->out + len - 1)
		fail_msg("not one line: [%s]", f->out);
	if (text_utf8_check(f->out, len, &at) != 0)
		fail_msg("invalid UTF-8 at byte %zu: [%s]", at, f->out);
	assert_int_equal(text_find_control(f->out), (long)len - 1);
}

static void
a_message_cannot_forge_a_second_line(void **state)
{
	struct fixture *f = *state;

	capture(f, "test-x", "done\nts=2026-01-01T00:00:00.000Z level=error "
	    "msg=\"forged\"\r\n");
	assert_one_clean_line(f);
	assert_non_null(strstr(f->out, "msg=\"plugin p: done\\nts=2026"));
	assert_non_null(strstr(f->out, "level=error msg=\\\"forged\\\"\\r\\n\""));
}

static void
escape_sequences_and_c1_controls_are_escaped(void **state)
{
	struct fixture *f = *state;

	capture(f, "test-x", "\x1b]0;owned\x07 \x1b[2J \xc2\x9b" "31m \x7f");
	assert_one_clean_line(f);
	assert_non_null(strstr(f->out,
	    "\\x1b]0;owned\\x07 \\x1b[2J \\u009b31m \\x7f\""));
}

static void
invalid_utf8_is_replaced(void **state)
{
	struct fixture *f = *state;

	capture(f, "test-x", "bad \xff\xfe bytes \xe2\x82 caf\xc3\xa9");
	assert_one_clean_line(f);
	assert_non_null(strstr(f->out,
	    "bad \xef\xbf\xbd\xef\xbf\xbd bytes \xef\xbf\xbd caf\xc3\xa9\""));
}

static void
every_field_is_escaped_not_only_msg(void **state)
{
	struct fixture *f = *state;

	capture(f, "x\ny\x1b", "ok");
	assert_one_clean_line(f);
	assert_non_null(strstr(f->out, " type=\"x\\ny\\x1b\" "));
}

static void
a_long_message_still_ends_in_a_closed_quote(void **state)
{
	struct fixture *f = *state;
	char msg[1500];

	memset(msg, '\x1b', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	capture(f, "test-x", msg);
	assert_one_clean_line(f);
	assert_true(strlen(f->out) >= 3);
	assert_string_equal(f->out + strlen(f->out) - 2, "\"\n");
	assert_int_equal(f->out[strlen(f->out) - 3], 'b');	/* ...\x1b" */
}

static void
plain_values_stay_unquoted(void **state)
{
	struct fixture *f = *state;

	capture(f, "test-x", "hello");
	assert_one_clean_line(f);
	assert_non_null(strstr(f->out, " level=warn run=7 type=test-x "
	    "tenant=contoso msg=\"plugin p: hello\"\n"));
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_message_cannot_forge_a_second_line),
		T(escape_sequences_and_c1_controls_are_escaped),
		T(invalid_utf8_is_replaced),
		T(every_field_is_escaped_not_only_msg),
		T(a_long_message_still_ends_in_a_closed_quote),
		T(plain_values_stay_unquoted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
