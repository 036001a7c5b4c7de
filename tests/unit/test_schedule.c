/* Unit tests for schedule.c: every/cron/jitter parsing, the next slot
 * (month, year and leap-day boundaries, the day-of-month/day-of-week
 * rule, steps), the jitter offset, what is due, and the stored state. */
#define _DEFAULT_SOURCE /* timegm */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "schedule.h"
#include "store.h"
#include "testutil.h"

#define MIN	(60LL * 1000)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

/* ms since the epoch of a UTC time. */
static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm) * 1000;
}

/* A rule from every or cron (one of them NULL) and jitter, or fail. */
static struct schedule_rule
rule(const char *every, const char *cron, const char *jitter)
{
	struct schedule_rule r;
	char err[512];

	if (schedule_rule_init(&r, "test", every, cron, jitter, err,
	    sizeof(err)) != 0)
		fail_msg("rule every=%s cron=%s: %s", every ? every : "-",
		    cron ? cron : "-", err);
	return r;
}

/* Asserts that the rule is refused with a message containing want. */
static void
refused(const char *every, const char *cron, const char *jitter,
    const char *want)
{
	struct schedule_rule r;
	char err[512] = "";

	if (schedule_rule_init(&r, "test", every, cron, jitter, err,
	    sizeof(err)) == 0)
		fail_msg("every=%s cron=%s jitter=%s was accepted",
		    every ? every : "-", cron ? cron : "-",
		    jitter ? jitter : "-");
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

static void
durations_take_a_number_and_one_unit(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = { { "30s", 30000 }, { "90m", 90 * MIN }, { "6h", 6 * HOUR },
		{ "1d", DAY }, { "0s", 0 }, { "365d", 365 * DAY } };
	static const char *const bad[] = { "", "6", "h", "6 h", "6hours",
		"1.5h", "-1s", "6H", "1w", "s5", "99999999999999999d" };
	char err[256];
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(schedule_parse_duration(good[i].text,
		    365 * DAY, &ms, err, sizeof(err)), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (schedule_parse_duration(bad[i], 365 * DAY, &ms, err,
		    sizeof(err)) == 0)
			fail_msg("duration '%s' was accepted", bad[i]);
	assert_int_equal(schedule_parse_duration("366d", 365 * DAY, &ms, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 365d"));
}

static void
every_must_be_at_least_a_second(void **state)
{
	(void)state;
	refused("0s", NULL, NULL, "every = 0s: must be at least 1s");
	refused("500ms", NULL, NULL, "below 1s");
	refused("366d", NULL, NULL, "more than 365d");
	refused("6", NULL, NULL, "a unit s, m, h or d");
	refused("6h", "0 * * * *", NULL, "exactly one of every and cron");
	refused(NULL, NULL, NULL, "exactly one of every and cron");
	refused("1h", NULL, "8d", "jitter = 8d: more than 7d");
	assert_int_equal(rule("1s", NULL, NULL).every_ms, 1000);
	/* The text is canonical: the same interval reads the same. */
	assert_string_equal(rule("5400s", NULL, NULL).text, "every 90m");
	assert_string_equal(rule("24h", NULL, "300s").text,
	    "every 1d jitter 5m");
	assert_string_equal(rule(NULL, " 0  2 * * *", NULL).text,
	    "cron 0 2 * * *");
}

static void
cron_fields_take_lists_ranges_and_steps(void **state)
{
	struct schedule_cron c;
	char err[256];

	(void)state;
	assert_int_equal(schedule_parse_cron("*/15 1-23/2 * * *", &c, err,
	    sizeof(err)), 0);
	assert_true(c.minutes == ((1ull << 0) | (1ull << 15) | (1ull << 30) |
	    (1ull << 45)));
	for (int h = 0; h < 24; h++)
		assert_int_equal((c.hours >> h) & 1, h % 2);
	assert_true(c.mday_star && c.wday_star);
	assert_int_equal(schedule_parse_cron("0 0 1,15,20-22 1-3,12 *", &c,
	    err, sizeof(err)), 0);
	assert_true(c.mdays == ((1u << 1) | (1u << 15) | (1u << 20) |
	    (1u << 21) | (1u << 22)));
	assert_true(c.months == ((1u << 1) | (1u << 2) | (1u << 3) |
	    (1u << 12)));
	assert_false(c.mday_star);
	/* Day-of-week 0 and 7 are both Sunday. */
	assert_int_equal(schedule_parse_cron("0 0 * * 7", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.wdays, 1);
	assert_int_equal(schedule_parse_cron("0 0 * * 5-7", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.wdays, (1 << 0) | (1 << 5) | (1 << 6));
	assert_int_equal(schedule_parse_cron("0 0 * * 0-7", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.wdays, 0x7f);
}

static void
bad_cron_fields_are_named(void **state)
{
	static const struct {
		const char *cron, *want;
	} cases[] = {
		{ "0 25 * * *", "hour field '25': 25 is out of range 0-23" },
		{ "60 * * * *", "minute field '60': 60 is out of range 0-59" },
		{ "* * 0 * *", "day-of-month field '0'" },
		{ "* * * 13 *", "month field '13'" },
		{ "* * * * 8", "day-of-week field '8': 8 is out of range 0-7" },
		{ "0 2 * *", "expected 5 fields" },
		{ "0 2 * * * *", "found 6" },
		{ "", "found 0" },
		{ "5-1 * * * *", "the range 5-1 runs backwards; write 1-5" },
		{ "5/15 * * * *", "a step needs a range or *: write 5-59/15" },
		{ "*/0 * * * *", "the step must be a number from 1 to 59" },
		{ "*/90 * * * *", "use every" },
		{ "a * * * *", "minute field 'a': expected a number" },
		{ "1,,2 * * * *", "an empty list item" },
		{ "1- * * * *", "expected a number" },
		{ "0 0 * * MON", "names such as MON are not supported" },
		{ "0 0 * JAN *", "names such as JAN are not supported" },
		{ "@daily", "macros such as @daily are not supported" },
		{ "0 0 30 2 *", "matches no date" },
		{ "0 0 31 4,6,9,11 *", "matches no date" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused(NULL, cases[i].cron, NULL, cases[i].want);
}

static void
every_slots_are_aligned_to_the_epoch(void **state)
{
	struct schedule_rule r = rule("6h", NULL, NULL);
	int64_t t = utc(2026, 3, 1, 5, 0, 0);

	(void)state;
	assert_int_equal(schedule_next(&r, t), utc(2026, 3, 1, 6, 0, 0));
	/* Strictly after: a slot is not its own next slot. */
	assert_int_equal(schedule_next(&r, utc(2026, 3, 1, 6, 0, 0)),
	    utc(2026, 3, 1, 12, 0, 0));
	assert_int_equal(schedule_prev(&r, utc(2026, 3, 1, 6, 0, 0)),
	    utc(2026, 3, 1, 6, 0, 0));
	assert_int_equal(schedule_prev(&r, t), utc(2026, 3, 1, 0, 0, 0));
	/* Across midnight and a month's end. */
	assert_int_equal(schedule_next(&r, utc(2026, 2, 28, 18, 0, 1)),
	    utc(2026, 3, 1, 0, 0, 0));
	assert_int_equal(schedule_count(&r, utc(2026, 3, 1, 0, 0, 0),
	    utc(2026, 3, 3, 0, 0, 0), 1000), 8);
}

static void
cron_next_crosses_month_year_and_leap_day(void **state)
{
	struct schedule_rule first = rule(NULL, "0 0 1 * *", NULL);
	struct schedule_rule eve = rule(NULL, "30 23 31 12 *", NULL);
	struct schedule_rule leap = rule(NULL, "0 12 29 2 *", NULL);
	struct schedule_rule d31 = rule(NULL, "0 0 31 * *", NULL);
	struct schedule_rule hourly = rule(NULL, "0 * * * *", NULL);

	(void)state;
	assert_int_equal(schedule_next(&first, utc(2026, 1, 31, 23, 59, 59)),
	    utc(2026, 2, 1, 0, 0, 0));
	assert_int_equal(schedule_next(&first, utc(2026, 12, 15, 0, 0, 0)),
	    utc(2027, 1, 1, 0, 0, 0));
	assert_int_equal(schedule_next(&eve, utc(2026, 12, 31, 23, 29, 59)),
	    utc(2026, 12, 31, 23, 30, 0));
	assert_int_equal(schedule_next(&eve, utc(2026, 12, 31, 23, 30, 0)),
	    utc(2027, 12, 31, 23, 30, 0));
	assert_int_equal(schedule_next(&leap, utc(2025, 3, 1, 0, 0, 0)),
	    utc(2028, 2, 29, 12, 0, 0));
	/* 2100 is not a leap year. */
	assert_int_equal(schedule_next(&leap, utc(2096, 3, 1, 0, 0, 0)),
	    utc(2104, 2, 29, 12, 0, 0));
	/* Months without a 31st are skipped, forwards and backwards. */
	assert_int_equal(schedule_next(&d31, utc(2026, 4, 1, 0, 0, 0)),
	    utc(2026, 5, 31, 0, 0, 0));
	assert_int_equal(schedule_prev(&d31, utc(2026, 5, 1, 0, 0, 0)),
	    utc(2026, 3, 31, 0, 0, 0));
	assert_int_equal(schedule_prev(&first, utc(2026, 1, 1, 0, 0, 0)),
	    utc(2026, 1, 1, 0, 0, 0));
	assert_int_equal(schedule_prev(&first, utc(2025, 12, 31, 23, 59, 0)),
	    utc(2025, 12, 1, 0, 0, 0));
	assert_int_equal(schedule_count(&hourly, utc(2026, 3, 1, 0, 0, 0),
	    utc(2026, 3, 2, 0, 0, 0), 1000), 24);
	assert_int_equal(schedule_count(&hourly, utc(2026, 3, 1, 0, 0, 0),
	    utc(2026, 3, 2, 0, 0, 0), 10), 10);
}

static void
restricted_day_fields_match_either_one(void **state)
{
	/* The 1st of the month or a Monday (2026-02-01 is a Sunday). */
	struct schedule_rule either = rule(NULL, "0 0 1 * 1", NULL);
	/* Day-of-month '*': Mondays only. */
	struct schedule_rule mondays = rule(NULL, "0 0 * * 1", NULL);
	/* A field starting with '*' does not restrict (as in Vixie cron and
	 * cronie), so this is odd days that are Mondays, not either. */
	struct schedule_rule odd = rule(NULL, "0 0 */2 * 1", NULL);
	struct schedule_rule fri13 = rule(NULL, "0 0 13 * 5", NULL);

	(void)state;
	assert_int_equal(schedule_next(&either, utc(2026, 1, 31, 12, 0, 0)),
	    utc(2026, 2, 1, 0, 0, 0));
	assert_int_equal(schedule_next(&either, utc(2026, 2, 1, 0, 0, 0)),
	    utc(2026, 2, 2, 0, 0, 0));
	assert_int_equal(schedule_next(&either, utc(2026, 2, 2, 0, 0, 0)),
	    utc(2026, 2, 9, 0, 0, 0));
	assert_int_equal(schedule_next(&either, utc(2026, 2, 23, 0, 0, 0)),
	    utc(2026, 3, 1, 0, 0, 0));
	assert_int_equal(schedule_next(&either, utc(2026, 3, 1, 0, 0, 0)),
	    utc(2026, 3, 2, 0, 0, 0));
	assert_int_equal(schedule_next(&mondays, utc(2026, 1, 1, 0, 0, 0)),
	    utc(2026, 1, 5, 0, 0, 0));
	assert_int_equal(schedule_next(&odd, utc(2025, 12, 31, 12, 0, 0)),
	    utc(2026, 1, 5, 0, 0, 0));
	/* Every Friday and every 13th of February 2026 (the 13th is a
	 * Friday): the 6th, 13th, 20th and 27th. */
	assert_int_equal(schedule_count(&fri13, utc(2026, 2, 1, 0, 0, 0),
	    utc(2026, 3, 1, 0, 0, 0), 100), 4);
	/* In April 2026 the 13th is a Monday: four Fridays and the 13th
	 * (the count ends before May 1st, a Friday). */
	assert_int_equal(schedule_count(&fri13, utc(2026, 4, 1, 0, 0, 0),
	    utc(2026, 5, 1, 0, 0, 0) - 1, 100), 5);
}

static void
stepped_ranges_give_the_listed_times(void **state)
{
	struct schedule_rule r = rule(NULL, "*/20 9-17/4 * * 1-5", NULL);
	static const int want[][2] = { { 9, 0 }, { 9, 20 }, { 9, 40 },
		{ 13, 0 }, { 13, 20 }, { 13, 40 }, { 17, 0 }, { 17, 20 },
		{ 17, 40 } };
	int64_t t = utc(2026, 1, 5, 0, 0, 0); /* a Monday */

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		t = schedule_next(&r, t);
		assert_int_equal(t, utc(2026, 1, 5, want[i][0], want[i][1], 0));
	}
	/* Friday's last slot, then Monday's first. */
	assert_int_equal(schedule_next(&r, utc(2026, 1, 9, 17, 40, 0)),
	    utc(2026, 1, 12, 9, 0, 0));
}

static void
jitter_is_fixed_by_the_name_and_below_the_bound(void **state)
{
	int64_t jitter = 5 * MIN, seen[300] = { 0 };
	struct schedule_rule a, b;
	char name[32], err[256];
	int distinct = 0;

	(void)state;
	assert_int_equal(schedule_jitter_offset("nightly", 0), 0);
	assert_int_equal(schedule_jitter_offset("nightly", 999), 0);
	for (int i = 0; i < 1000; i++) {
		int64_t off;

		snprintf(name, sizeof(name), "schedule-%d", i);
		off = schedule_jitter_offset(name, jitter);
		assert_int_equal(off, schedule_jitter_offset(name, jitter));
		assert_true(off >= 0 && off < jitter && off % 1000 == 0);
		distinct += seen[off / 1000]++ == 0;
	}
	/* 1000 names over 300 seconds: well spread, not a few values. */
	assert_true(distinct > 250);
	/* The rule's slots move by the offset and nothing else. */
	assert_int_equal(schedule_rule_init(&a, "backup-a", "1h", NULL, "5m",
	    err, sizeof(err)), 0);
	assert_int_equal(schedule_rule_init(&b, "backup-a", "1h", NULL, "5m",
	    err, sizeof(err)), 0);
	assert_int_equal(a.offset_ms, b.offset_ms);
	assert_int_equal(a.offset_ms,
	    schedule_jitter_offset("backup-a", 5 * MIN));
	assert_int_equal(schedule_next(&a, utc(2026, 1, 1, 0, 0, 0)) -
	    a.offset_ms, a.offset_ms > 0 ? utc(2026, 1, 1, 0, 0, 0) :
	    utc(2026, 1, 1, 1, 0, 0));
	assert_int_equal(schedule_rule_init(&a, "backup-a", NULL, "0 2 * * *",
	    "5m", err, sizeof(err)), 0);
	assert_int_equal(schedule_next(&a, utc(2026, 1, 1, 3, 0, 0)),
	    utc(2026, 1, 2, 2, 0, 0) + a.offset_ms);
}

/* A schedule every minute, enabled, named "m". */
static struct schedule
every_minute(void)
{
	struct schedule s = { .name = "m", .type = "test-instant",
		.tenant = "contoso", .initiator = "alice", .payload = "{}",
		.enabled = 1 };

	s.rule = rule("1m", NULL, NULL);
	return s;
}

static void
missed_slots_fire_once_for_the_last(void **state)
{
	struct schedule s = every_minute();
	struct schedule_state st = { 0 };
	struct schedule_decision d;
	int64_t t0 = utc(2026, 6, 1, 10, 0, 0);

	(void)state;
	/* New: armed, nothing submitted; the first slot is the next one. */
	schedule_decide(&s, &st, t0 + 500, &d);
	assert_int_equal(d.action, SCHEDULE_ARM);
	assert_int_equal(d.next_ms, t0 + MIN);
	schedule_state_apply(&st, &s, &d, t0 + 500, 0);
	schedule_decide(&s, &st, t0 + 30000, &d);
	assert_int_equal(d.action, SCHEDULE_IDLE);
	assert_int_equal(d.next_ms, t0 + MIN);
	/* Five slots pass unseen (the runner was down): one submit, for
	 * the last of them. */
	schedule_decide(&s, &st, t0 + 5 * MIN + 10000, &d);
	assert_int_equal(d.action, SCHEDULE_FIRE);
	assert_int_equal(d.slots, 5);
	assert_int_equal(d.first_ms, t0 + MIN);
	assert_int_equal(d.slot_ms, t0 + 5 * MIN);
	assert_int_equal(d.next_ms, t0 + 6 * MIN);
	schedule_state_apply(&st, &s, &d, t0 + 5 * MIN + 10000, 42);
	assert_int_equal(st.last_run_id, 42);
	assert_int_equal(st.last_slot_ms, t0 + 5 * MIN);
	/* Nothing more until the next slot, then exactly that one. */
	schedule_decide(&s, &st, t0 + 5 * MIN + 20000, &d);
	assert_int_equal(d.action, SCHEDULE_IDLE);
	schedule_decide(&s, &st, t0 + 6 * MIN, &d);
	assert_int_equal(d.action, SCHEDULE_FIRE);
	assert_int_equal(d.slots, 1);
	assert_int_equal(d.slot_ms, t0 + 6 * MIN);
	/* A failed submit handles the slot but keeps the last run. */
	schedule_state_apply(&st, &s, &d, t0 + 6 * MIN, 0);
	assert_int_equal(st.last_run_id, 42);
	assert_int_equal(st.since_ms, t0 + 6 * MIN);
	assert_int_equal(schedule_next_due(&s, &st, t0 + 6 * MIN),
	    t0 + 7 * MIN);
	/* While no runner is up, the next due time is the first missed. */
	assert_int_equal(schedule_next_due(&s, &st, t0 + 60 * MIN),
	    t0 + 7 * MIN);
}

static void
a_changed_or_toggled_schedule_starts_over(void **state)
{
	struct schedule s = every_minute();
	struct schedule_state st = { 0 };
	struct schedule_decision d;
	int64_t t0 = utc(2026, 6, 1, 10, 0, 0);

	(void)state;
	schedule_decide(&s, &st, t0, &d);
	schedule_state_apply(&st, &s, &d, t0, 0);
	/* A new rule: what the old one missed is not owed. */
	s.rule = rule("2m", NULL, NULL);
	schedule_decide(&s, &st, t0 + 10 * MIN + 1, &d);
	assert_int_equal(d.action, SCHEDULE_ARM);
	assert_int_equal(d.next_ms, t0 + 12 * MIN);
	schedule_state_apply(&st, &s, &d, t0 + 10 * MIN + 1, 0);
	assert_string_equal(st.rule, "every 2m");
	/* Disabled: armed once, then never due. */
	s.enabled = 0;
	schedule_decide(&s, &st, t0 + 11 * MIN, &d);
	assert_int_equal(d.action, SCHEDULE_ARM);
	assert_int_equal(d.next_ms, -1);
	schedule_state_apply(&st, &s, &d, t0 + 11 * MIN, 0);
	schedule_decide(&s, &st, t0 + 100 * MIN, &d);
	assert_int_equal(d.action, SCHEDULE_IDLE);
	assert_int_equal(d.next_ms, -1);
	assert_int_equal(schedule_next_due(&s, &st, t0), -1);
	/* Enabled again: no catch-up for the slots it was off. */
	s.enabled = 1;
	schedule_decide(&s, &st, t0 + 101 * MIN, &d);
	assert_int_equal(d.action, SCHEDULE_ARM);
	assert_int_equal(d.next_ms, t0 + 102 * MIN);
}

static void
state_round_trips_through_the_store(void **state)
{
	struct store_options o = { .map_size_mb = 16, .config_file = "test.ini" };
	struct schedule_state in = { .present = 1, .enabled = 1,
		.since_ms = 1796000000000, .last_slot_ms = 1795999999000,
		.last_run_id = 9007199254740000ull }, out;
	char dir[PATH_MAX], err[1024];
	struct store *st;

	(void)state;
	tu_mkdtemp(dir, sizeof(dir), "oprun-schedule");
	o.path = dir;
	if (store_open(&st, &o, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	snprintf(in.rule, sizeof(in.rule), "cron 0 2 * * * jitter 5m");
	assert_int_equal(schedule_state_get(st, "nightly", &out, err,
	    sizeof(err)), 0);
	assert_false(out.present);
	assert_int_equal(schedule_state_put(st, "nightly", &in, err,
	    sizeof(err)), 0);
	assert_int_equal(schedule_state_get(st, "nightly", &out, err,
	    sizeof(err)), 0);
	assert_true(out.present && out.enabled);
	assert_string_equal(out.rule, in.rule);
	assert_int_equal(out.since_ms, in.since_ms);
	assert_int_equal(out.last_slot_ms, in.last_slot_ms);
	assert_int_equal(out.last_run_id, in.last_run_id);
	/* The namespace is not a plugin's: a plugin "schedules" sees none. */
	assert_int_equal(store_kv_get(st, "schedules", "nightly", err, 0,
	    &(size_t){ 0 }, err, sizeof(err)), 1);
	/* A garbled record is an error, never half-read. */
	assert_int_equal(store_kv_put(st, SCHEDULE_KV_NAMESPACE, "bad",
	    "{\"v\":1", 6, err, sizeof(err)), 0);
	assert_int_equal(schedule_state_get(st, "bad", &out, err,
	    sizeof(err)), -1);
	assert_false(out.present);
	assert_non_null(strstr(err, "garbled"));
	store_close(st);
	tu_rmtree(dir);
}

/* Loads text as a config file in a temp dir; returns config_load's rc. */
static int
load_config(const char *text, char *dir, size_t dirlen, char *file,
    size_t filelen, struct config *cfg, struct diag *diag)
{
	tu_mkdtemp(dir, dirlen, "oprun-schedule-config");
	snprintf(file, filelen, "%s/oprun.ini", dir);
	tu_write_file(file, text);
	return config_load(file, cfg, diag);
}

static void
config_check_names_section_key_and_fix(void **state)
{
	static const char text[] =
	    "[store]\npath = store\n"			/* 1-2 */
	    "[tenant contoso]\n"			/* 3 */
	    "[schedule good]\n"			/* 4 */
	    "type = test-instant\ntenant = contoso\n"	/* 5-6 */
	    "initiator = alice\ncron = 0 2 * * 1-5\n"	/* 7-8 */
	    "jitter = 5m\npayload = {\"b\": 1, \"a\": [2]}\n" /* 9-10 */
	    "enabled = false\ntarget = policy-42\n"	/* 11-12 */
	    "[schedule bad]\n"				/* 13 */
	    "type = test-instant\ntenant = fabrikam\n"	/* 14-15 */
	    "payload = [1]\nevery = 0s\ncron = 0 25 * * *\n" /* 16-18 */
	    "colour = blue\njitter = soon\nenabled = maybe\n" /* 19-21 */
	    "[schedule none]\n"			/* 22 */
	    "type = test-instant\ntenant = contoso\ninitiator = bob\n"
	    "[schedule crony]\n"			/* 26 */
	    "type = x\ntenant = contoso\ninitiator = bob\n" /* 27-29 */
	    "cron = 0 25 * * *\nevery = 1h\n";		/* 30-31 */
	static const char *const want[] = {
		":19: [schedule bad] unknown key colour; the known keys are",
		":15: [schedule bad] tenant = fabrikam: there is no [tenant",
		":13: [schedule bad] has no initiator; add initiator = USER",
		":16: [schedule bad] payload: must be a JSON object",
		":18: [schedule bad] has both every (line 17) and cron (line 18)",
		":20: [schedule bad] jitter = soon: expected a whole number",
		":21: [schedule bad] enabled = maybe: expected true or false",
		":22: [schedule none] has neither every nor cron; add every = 6h",
		":31: [schedule crony] has both every (line 31) and cron",
	};
	char dir[PATH_MAX], file[PATH_MAX + 16];
	struct config cfg;
	struct diag diag = { 0 };
	struct schedule *v;
	size_t n;

	(void)state;
	/* config_load only records the sections; the checks are here. */
	assert_int_equal(load_config(text, dir, sizeof(dir), file,
	    sizeof(file), &cfg, &diag), 0);
	schedule_check_config(&cfg, &diag);
	for (size_t i = 0; i < diag.n; i++)
		printf("# %s\n", diag.lines[i]);
	assert_int_equal(diag.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < diag.n; i++)
		if (strncmp(diag.lines[i], file, strlen(file)) != 0 ||
		    strstr(diag.lines[i], want[i]) == NULL)
			fail_msg("diag %zu \"%s\" lacks \"%s\"", i,
			    diag.lines[i], want[i]);
	/* The good one loads as written. */
	schedule_load(&cfg, &v, &n);
	assert_true(n >= 1);
	assert_string_equal(v[0].name, "good");
	assert_string_equal(v[0].payload, "{\"a\":[2],\"b\":1}");
	assert_string_equal(v[0].target, "policy-42");
	assert_string_equal(v[0].rule.text, "cron 0 2 * * 1-5 jitter 5m");
	assert_false(v[0].enabled);
	assert_int_equal(v[0].type_line, 5);
	schedule_free_all(v, n);
	config_free(&cfg);
	diag_free(&diag);
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_take_a_number_and_one_unit),
		cmocka_unit_test(every_must_be_at_least_a_second),
		cmocka_unit_test(cron_fields_take_lists_ranges_and_steps),
		cmocka_unit_test(bad_cron_fields_are_named),
		cmocka_unit_test(every_slots_are_aligned_to_the_epoch),
		cmocka_unit_test(cron_next_crosses_month_year_and_leap_day),
		cmocka_unit_test(restricted_day_fields_match_either_one),
		cmocka_unit_test(stepped_ranges_give_the_listed_times),
		cmocka_unit_test(jitter_is_fixed_by_the_name_and_below_the_bound),
		cmocka_unit_test(missed_slots_fire_once_for_the_last),
		cmocka_unit_test(a_changed_or_toggled_schedule_starts_over),
		cmocka_unit_test(state_round_trips_through_the_store),
		cmocka_unit_test(config_check_names_section_key_and_fix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
