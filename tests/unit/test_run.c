/* Unit tests for run.c: the lifecycle table and the bounded lists. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "run.h"
#include "text.h"

#define FFFD "\xef\xbf\xbd"

static void
only_documented_transitions_are_allowed(void **state)
{
	/* from \ to: queued running succeeded partial failed canceled */
	static const int allowed[RUN_STATE_COUNT][RUN_STATE_COUNT] = {
		{ 0, 1, 0, 0, 1, 1 },	/* queued */
		{ 1, 0, 1, 1, 1, 1 },	/* running */
		{ 0, 0, 0, 0, 0, 0 },	/* succeeded */
		{ 0, 0, 0, 0, 0, 0 },	/* partial */
		{ 0, 0, 0, 0, 0, 0 },	/* failed */
		{ 0, 0, 0, 0, 0, 0 },	/* canceled */
	};

	(void)state;
	for (int f = 0; f < RUN_STATE_COUNT; f++)
		for (int t = 0; t < RUN_STATE_COUNT; t++)
			assert_int_equal(run_transition_allowed(
			    (enum run_state)f, (enum run_state)t),
			    allowed[f][t]);
}

static void
state_names_round_trip(void **state)
{
	enum run_state s;

	(void)state;
	for (int i = 0; i < RUN_STATE_COUNT; i++) {
		assert_int_equal(run_state_parse(run_state_name(
		    (enum run_state)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(run_state_parse("done", &s), -1);
	assert_true(run_state_terminal(RUN_PARTIAL));
	assert_false(run_state_terminal(RUN_RUNNING));
}

static void
failure_list_is_bounded_but_counted(void **state)
{
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < RUN_MAX_FAILURES + 20; i++)
		run_add_failure(&r, "item", "broken");
	assert_int_equal(r.nfailures, RUN_MAX_FAILURES);
	assert_int_equal(r.failures_total, RUN_MAX_FAILURES + 20);
	run_free(&r);
}

static void
history_keeps_the_newest_events(void **state)
{
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < RUN_MAX_HISTORY + 5; i++)
		run_add_event(&r, RUN_RUNNING, i, "worker:1", NULL);
	assert_int_equal(r.nhistory, RUN_MAX_HISTORY);
	assert_int_equal(r.history[0].at_ms, 5);
	run_free(&r);
}

static void
long_messages_are_cut_at_a_character_boundary(void **state)
{
	char msg[RUN_MAX_MESSAGE + 10];
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(msg, 'a', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	/* A two-byte character straddling the limit must not be split. */
	msg[RUN_MAX_MESSAGE - 1] = (char)0xC3;
	msg[RUN_MAX_MESSAGE] = (char)0xA9;
	run_set_text(&r.reason, msg, RUN_MAX_MESSAGE);
	assert_int_equal(strlen(r.reason), RUN_MAX_MESSAGE - 1);
	run_free(&r);
}

/* Text from plugins and Graph reaches a run only through run_set_text,
 * run_add_failure and run_add_event: invalid UTF-8 never gets stored. */
static void
outside_text_is_repaired_before_it_is_stored(void **state)
{
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	run_set_text(&r.reason, "bad \xff byte", RUN_MAX_MESSAGE);
	assert_string_equal(r.reason, "bad " FFFD " byte");
	run_set_text(&r.result, "{\"s\":\"\xc3\"}", RUN_MAX_RESULT);
	assert_string_equal(r.result, "{\"s\":\"" FFFD "\"}");
	run_add_failure(&r, "item-\xfe", "cut \xe2\x82");
	assert_string_equal(r.failures[0].item, "item-" FFFD);
	assert_string_equal(r.failures[0].message, "cut " FFFD);
	run_add_event(&r, RUN_FAILED, 1, "worker:\xc0\x80",
	    "surrogate \xed\xa0\x80");
	assert_string_equal(r.history[0].actor, "worker:" FFFD FFFD);
	assert_string_equal(r.history[0].reason,
	    "surrogate " FFFD FFFD FFFD);
	/* Valid text is kept as it is. */
	run_set_text(&r.reason, "caf\xc3\xa9 \xe2\x82\xac", RUN_MAX_MESSAGE);
	assert_string_equal(r.reason, "caf\xc3\xa9 \xe2\x82\xac");
	run_free(&r);
}

static void
repaired_text_still_fits_the_limit(void **state)
{
	char msg[RUN_MAX_MESSAGE + 1];
	struct run r;
	size_t at;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(msg, 0xff, sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	run_set_text(&r.reason, msg, RUN_MAX_MESSAGE);
	assert_true(strlen(r.reason) <= RUN_MAX_MESSAGE);
	assert_int_equal(strlen(r.reason) % 3, 0);
	assert_int_equal(text_utf8_check(r.reason, strlen(r.reason), &at), 0);
	run_add_failure(&r, msg, msg);
	assert_true(strlen(r.failures[0].item) <= RUN_MAX_ITEM);
	assert_true(strlen(r.failures[0].message) <= RUN_MAX_MESSAGE);
	run_free(&r);
}

/* The stored canonical payload is the source of truth: --json embeds it
 * as it is, so numbers beyond 2^53 keep every digit. */
static void
json_embeds_the_canonical_payload_text(void **state)
{
	struct run r;
	cJSON *o;
	char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = 1;
	r.tenant = strdup("contoso");
	r.type = strdup("test-instant");
	r.initiator = strdup("alice");
	r.payload = strdup("{\"m\":-9007199254740993,\"n\":"
	    "12345678901234567890,\"x\":0.1000000000000000055511151231257827}");
	o = run_to_json(&r, 0);
	s = cJSON_PrintUnformatted(o);
	assert_non_null(strstr(s, "\"payload\":{\"m\":-9007199254740993,"
	    "\"n\":12345678901234567890,"
	    "\"x\":0.1000000000000000055511151231257827}"));
	free(s);
	cJSON_Delete(o);
	run_free(&r);
}

/* A damaged record still renders, as a string, and the JSON stays valid
 * UTF-8. */
static void
a_damaged_payload_renders_as_a_string(void **state)
{
	struct run r;
	cJSON *o;
	char *s;
	size_t at;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.tenant = strdup("contoso");
	r.type = strdup("test-instant");
	r.initiator = strdup("alice");
	r.payload = strdup("{\"a\":\"\xff\"}");
	o = run_to_json(&r, 0);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "payload")));
	s = cJSON_PrintUnformatted(o);
	assert_int_equal(text_utf8_check(s, strlen(s), &at), 0);
	free(s);
	cJSON_Delete(o);
	free(r.payload);
	r.payload = strdup("{\"a\":");
	o = run_to_json(&r, 0);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "payload")));
	cJSON_Delete(o);
	run_free(&r);
}

static void
json_has_the_documented_fields(void **state)
{
	struct run r;
	cJSON *o;
	static const char *const fields[] = { "id", "tenant", "type", "target",
		"initiator", "payload", "dedupe_key", "state", "summary",
		"failures", "result", "reason", "created_at", "started_at",
		"finished_at", NULL };

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = 7;
	r.tenant = strdup("contoso");
	r.type = strdup("test-items");
	r.initiator = strdup("alice");
	r.payload = strdup("{\"count\":1}");
	r.created_at = 1764486833123;
	o = run_to_json(&r, 1);
	for (int i = 0; fields[i] != NULL; i++)
		assert_non_null(cJSON_GetObjectItem(o, fields[i]));
	assert_string_equal(cJSON_GetObjectItem(o, "created_at")->valuestring,
	    "2025-11-30T07:13:53.123Z");
	/* The stored canonical text, embedded as it is. */
	assert_true(cJSON_IsRaw(cJSON_GetObjectItem(o, "payload")));
	assert_string_equal(cJSON_GetObjectItem(o, "payload")->valuestring,
	    "{\"count\":1}");
	cJSON_Delete(o);
	run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_documented_transitions_are_allowed),
		cmocka_unit_test(state_names_round_trip),
		cmocka_unit_test(failure_list_is_bounded_but_counted),
		cmocka_unit_test(history_keeps_the_newest_events),
		cmocka_unit_test(long_messages_are_cut_at_a_character_boundary),
		cmocka_unit_test(json_has_the_documented_fields),
		cmocka_unit_test(outside_text_is_repaired_before_it_is_stored),
		cmocka_unit_test(repaired_text_still_fits_the_limit),
		cmocka_unit_test(json_embeds_the_canonical_payload_text),
		cmocka_unit_test(a_damaged_payload_renders_as_a_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
