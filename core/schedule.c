#include "schedule.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "identity.h"
#include "text.h"

#define MINUTE_MS     60000LL
#define DAY_MINUTES   1440LL
#define EVERY_MAX_MS  (365LL * 86400 * 1000)
#define JITTER_MAX_MS (7LL * 86400 * 1000)

static const struct {
	char unit;
	int64_t ms;
} units[] = { { 'd', 86400000 }, { 'h', 3600000 }, { 'm', 60000 },
	{ 's', 1000 } };

static const char *const schedule_keys[] = { "type", "tenant", "payload",
	"initiator", "target", "every", "cron", "jitter", "enabled", NULL };

/* ---- durations ---------------------------------------------------- */

/* ms in the largest unit that divides it: 5400000 is "90m". */
static void
duration_text(int64_t ms, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%c",
			    (long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lldms", (long long)ms);
}

int
schedule_parse_duration(const char *s, int64_t max_ms, int64_t *ms, char *err,
    size_t errlen)
{
	size_t n = strspn(s, "0123456789");
	char digits[16], most[32];
	uint64_t v;

	if (n > 0 && strcmp(s + n, "ms") == 0)
		return errf(err, errlen, "below 1s; the smallest unit is s");
	if (n == 0 || n >= sizeof(digits) || s[n] == '\0' || s[n + 1] != '\0')
		return errf(err, errlen,
		    "expected a whole number and a unit s, m, h or d, such as "
		    "30s, 90m, 6h or 1d");
	memcpy(digits, s, n);
	digits[n] = '\0';
	duration_text(max_ms, most, sizeof(most));
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s[n] != units[i].unit)
			continue;
		/* Compared here: parse_u64 wraps for a max below 9. */
		if (parse_u64(digits, UINT64_MAX, &v) != 0 ||
		    v > (uint64_t)(max_ms / units[i].ms))
			return errf(err, errlen,
			    "more than %s, the most allowed", most);
		*ms = (int64_t)v * units[i].ms;
		return 0;
	}
	return errf(err, errlen,
	    "unknown unit '%c'; use s, m, h or d, such as 30s, 90m, 6h or 1d",
	    s[n]);
}

/* ---- cron expressions --------------------------------------------- */

static const struct {
	const char *name;
	int lo, hi;
	const char *hint; /* after "expected a number from LO to HI" */
} cron_fields[5] = { { "minute", 0, 59, "" }, { "hour", 0, 23, "" },
	{ "day-of-month", 1, 31, "" },
	{ "month", 1, 12, " (names such as JAN are not supported)" },
	{ "day-of-week", 0, 7,
	    " (0 and 7 are Sunday; names such as MON are not supported)" } };

static const char cron_fix[] = "; the fields are minute hour day-of-month "
			       "month day-of-week, e.g. cron = 0 2 * * *";

/* Reads a number of field f at *p; moves *p past it. */
static int
cron_number(const char **p, int f, int *out, char *err, size_t errlen)
{
	size_t n = strspn(*p, "0123456789");
	int v = 0;

	if (n == 0)
		return errf(err, errlen, "expected a number from %d to %d%s",
		    cron_fields[f].lo, cron_fields[f].hi, cron_fields[f].hint);
	for (size_t i = 0; i < n && i < 4; i++)
		v = v * 10 + ((*p)[i] - '0');
	if (n > 3 || v < cron_fields[f].lo || v > cron_fields[f].hi)
		return errf(err, errlen, "%.*s is out of range %d-%d", (int)n,
		    *p, cron_fields[f].lo, cron_fields[f].hi);
	*p += n;
	*out = v;
	return 0;
}

/* One list item: '*', N or N-M, each optionally followed by /STEP. */
static int
cron_item(const char *item, int f, uint64_t *bits, char *err, size_t errlen)
{
	const char *p = item;
	int lo = cron_fields[f].lo, hi = cron_fields[f].hi, step = 1;
	int span = hi - lo, single = 0;
	size_t n;

	if (*p == '*') {
		p++;
	} else {
		if (cron_number(&p, f, &lo, err, errlen) != 0)
			return -1;
		hi = lo;
		if (*p == '-') {
			p++;
			if (cron_number(&p, f, &hi, err, errlen) != 0)
				return -1;
		} else {
			single = 1;
		}
		if (hi < lo)
			return errf(err, errlen,
			    "the range %d-%d runs backwards; write %d-%d", lo,
			    hi, hi, lo);
	}
	if (*p == '/') {
		p++;
		if (single)
			return errf(err, errlen,
			    "a step needs a range or *: write %d-%d/%s", lo,
			    cron_fields[f].hi, p);
		n = strspn(p, "0123456789");
		if (n == 0 || n > 3 || (step = atoi(p)) < 1 || step > span)
			return errf(err, errlen,
			    "the step must be a number from 1 to %d%s", span,
			    f < 2 ? "; for other intervals use every" : "");
		p += n;
	}
	if (*p != '\0')
		return errf(err, errlen,
		    "unexpected '%c'; an item is *, N or N-M, optionally "
		    "followed by /STEP",
		    *p);
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ull << v;
	return 0;
}

/* One field: a comma-separated list of items, at most SCHEDULE_CRON_MAX
 * bytes (the caller checked). */
static int
cron_field(const char *text, int f, uint64_t *bits, char *err, size_t errlen)
{
	char buf[SCHEDULE_CRON_MAX + 1], why[160], *save = NULL, *item;
	size_t n = strlen(text);

	*bits = 0;
	snprintf(buf, sizeof(buf), "%s", text);
	if (n == 0 || text[0] == ',' || text[n - 1] == ',' ||
	    strstr(text, ",,") != NULL)
		return errf(err, errlen, "%s field '%s': an empty list item",
		    cron_fields[f].name, text);
	for (item = strtok_r(buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (cron_item(item, f, bits, why, sizeof(why)) != 0)
			return errf(err, errlen, "%s field '%s': %s",
			    cron_fields[f].name, text, why);
	}
	return 0;
}

int
schedule_parse_cron(const char *s, struct schedule_cron *c, char *err,
    size_t errlen)
{
	char fields[5][SCHEDULE_CRON_MAX + 1];
	uint64_t bits[5];
	int words = 0;

	memset(c, 0, sizeof(*c));
	if (s[0] == '@')
		return errf(err, errlen,
		    "macros such as @daily are not supported; write the 5 "
		    "fields (0 0 * * * is daily)");
	if (strlen(s) > SCHEDULE_CRON_MAX)
		return errf(err, errlen, "longer than %d bytes",
		    SCHEDULE_CRON_MAX);
	for (const char *p = s; *(p += strspn(p, " \t")) != '\0'; words++) {
		size_t len = strcspn(p, " \t");

		if (words < 5) {
			memcpy(fields[words], p, len);
			fields[words][len] = '\0';
		}
		p += len;
	}
	if (words != 5)
		return errf(err, errlen,
		    "expected 5 fields (minute hour day-of-month month "
		    "day-of-week), found %d; e.g. 0 2 * * * is 02:00 UTC "
		    "every day",
		    words);
	for (int f = 0; f < 5; f++)
		if (cron_field(fields[f], f, &bits[f], err, errlen) != 0)
			return -1;
	c->minutes = bits[0];
	c->hours = (uint32_t)bits[1];
	c->mdays = (uint32_t)bits[2];
	c->months = (uint16_t)bits[3];
	/* Day-of-week 7 is Sunday, like 0. */
	c->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);
	c->mday_star = fields[2][0] == '*';
	c->wday_star = fields[4][0] == '*';
	return 0;
}

/* The canonical cron text: the fields as written, one space apart. */
static void
cron_text(const char *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const char *p = s; *(p += strspn(p, " \t")) != '\0';) {
		size_t n = strcspn(p, " \t");

		off += (size_t)snprintf(buf + off, off < len ? len - off : 0,
		    "%s%.*s", off > 0 ? " " : "", (int)n, p);
		p += n;
	}
}

/* ---- calendar (proleptic Gregorian, UTC) --------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* A day matches when both day fields do - unless both restrict (neither
 * starts with '*'): then either one is enough, as in every cron. */
static int
cron_day_matches(const struct schedule_cron *c, int64_t days, int mday)
{
	int wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
	int md = (c->mdays >> mday) & 1, wd = (c->wdays >> wday) & 1;

	if (!c->mday_star && !c->wday_star)
		return md || wd;
	return md && wd;
}

/* Where minute t (since the epoch) stands in the calendar. */
struct cal {
	int64_t days, year;
	int month, mday, hour, minute;
};

static void
cal_of(int64_t t, struct cal *c)
{
	int64_t in_day;

	c->days = floor_div(t, DAY_MINUTES);
	in_day = t - c->days * DAY_MINUTES;
	c->hour = (int)(in_day / 60);
	c->minute = (int)(in_day % 60);
	civil_from_days(c->days, &c->year, &c->month, &c->mday);
}

/* The first matching minute > after (minutes since the epoch), or -1.
 * Each step skips a whole month, day, hour or minute that cannot match,
 * so this takes at most a few thousand steps a year searched. */
static int64_t
cron_next_minute(const struct schedule_cron *cr, int64_t after)
{
	int64_t t = after + 1, limit = after + SCHEDULE_HORIZON_MS / MINUTE_MS;
	struct cal c;

	while (t <= limit) {
		cal_of(t, &c);
		if (!((cr->months >> c.month) & 1))
			t = days_from_civil(c.year + (c.month == 12),
				c.month == 12 ? 1 : c.month + 1, 1) *
			    DAY_MINUTES;
		else if (!cron_day_matches(cr, c.days, c.mday))
			t = (c.days + 1) * DAY_MINUTES;
		else if (!((cr->hours >> c.hour) & 1))
			t = c.days * DAY_MINUTES + (c.hour + 1) * 60;
		else if (!((cr->minutes >> c.minute) & 1))
			t++;
		else
			return t;
	}
	return -1;
}

/* The last matching minute <= at, or -1. */
static int64_t
cron_prev_minute(const struct schedule_cron *cr, int64_t at)
{
	int64_t t = at, limit = at - SCHEDULE_HORIZON_MS / MINUTE_MS;
	struct cal c;

	while (t >= limit) {
		cal_of(t, &c);
		if (!((cr->months >> c.month) & 1))
			t = days_from_civil(c.year, c.month, 1) * DAY_MINUTES -
			    1;
		else if (!cron_day_matches(cr, c.days, c.mday))
			t = c.days * DAY_MINUTES - 1;
		else if (!((cr->hours >> c.hour) & 1))
			t = c.days * DAY_MINUTES + c.hour * 60 - 1;
		else if (!((cr->minutes >> c.minute) & 1))
			t--;
		else
			return t;
	}
	return -1;
}

/* ---- slots -------------------------------------------------------- */

int64_t
schedule_jitter_offset(const char *name, int64_t jitter_ms)
{
	uint64_t h = 0xcbf29ce484222325ull;
	int64_t secs = jitter_ms / 1000;

	if (secs <= 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	/* FNV-1a's low bits follow the last bytes closely; mixing them
	 * (splitmix64's finalizer) spreads names that differ in one digit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (int64_t)(h % (uint64_t)secs) * 1000;
}

int64_t
schedule_next(const struct schedule_rule *r, int64_t after_ms)
{
	int64_t base = after_ms - r->offset_ms, m;

	if (r->every_ms > 0)
		return (floor_div(base, r->every_ms) + 1) * r->every_ms +
		    r->offset_ms;
	m = cron_next_minute(&r->cron, floor_div(base, MINUTE_MS));
	return m < 0 ? -1 : m * MINUTE_MS + r->offset_ms;
}

int64_t
schedule_prev(const struct schedule_rule *r, int64_t at_ms)
{
	int64_t base = at_ms - r->offset_ms, m;

	if (r->every_ms > 0)
		return floor_div(base, r->every_ms) * r->every_ms +
		    r->offset_ms;
	m = cron_prev_minute(&r->cron, floor_div(base, MINUTE_MS));
	return m < 0 ? -1 : m * MINUTE_MS + r->offset_ms;
}

uint64_t
schedule_count(const struct schedule_rule *r, int64_t after_ms, int64_t upto_ms,
    uint64_t cap)
{
	uint64_t n = 0;

	if (upto_ms <= after_ms)
		return 0;
	if (r->every_ms > 0) {
		n = (uint64_t)(floor_div(upto_ms - r->offset_ms, r->every_ms) -
		    floor_div(after_ms - r->offset_ms, r->every_ms));
		return n < cap ? n : cap;
	}
	for (int64_t t = schedule_next(r, after_ms);
	     t >= 0 && t <= upto_ms && n < cap; t = schedule_next(r, t))
		n++;
	return n;
}

int
schedule_rule_init(struct schedule_rule *r, const char *name, const char *every,
    const char *cron, const char *jitter, char *err, size_t errlen)
{
	char why[256], text[SCHEDULE_CRON_MAX + 8], jt[32];

	memset(r, 0, sizeof(*r));
	if ((every == NULL) == (cron == NULL))
		return errf(err, errlen, "give exactly one of every and cron");
	if (every != NULL) {
		if (schedule_parse_duration(every, EVERY_MAX_MS, &r->every_ms,
			why, sizeof(why)) != 0)
			return errf(err, errlen, "every = %s: %s", every, why);
		if (r->every_ms < 1000)
			return errf(err, errlen,
			    "every = %s: must be at least 1s", every);
		duration_text(r->every_ms, jt, sizeof(jt));
		snprintf(text, sizeof(text), "every %s", jt);
	} else {
		if (schedule_parse_cron(cron, &r->cron, why, sizeof(why)) != 0)
			return errf(err, errlen, "cron = %s: %s", cron, why);
		if (cron_next_minute(&r->cron, 0) < 0)
			return errf(err, errlen,
			    "cron = %s: matches no date in 400 years; check "
			    "the day-of-month against the month (30 2 never "
			    "happens)",
			    cron);
		memcpy(text, "cron ", 5);
		cron_text(cron, text + 5, sizeof(text) - 5);
	}
	if (jitter != NULL &&
	    schedule_parse_duration(jitter, JITTER_MAX_MS, &r->jitter_ms, why,
		sizeof(why)) != 0)
		return errf(err, errlen, "jitter = %s: %s", jitter, why);
	r->offset_ms = schedule_jitter_offset(name, r->jitter_ms);
	if (r->jitter_ms > 0) {
		duration_text(r->jitter_ms, jt, sizeof(jt));
		snprintf(r->text, sizeof(r->text), "%s jitter %s", text, jt);
	} else {
		snprintf(r->text, sizeof(r->text), "%s", text);
	}
	return 0;
}

/* ---- configuration ------------------------------------------------ */

static const struct config_entry *
entry_of(const struct config_section *s, const char *key)
{
	for (size_t i = 0; i < s->nentries; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	return NULL;
}

static void sched_bad(struct diag *d, const struct config *cfg, int line,
    const struct config_section *s, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
sched_bad(struct diag *d, const struct config *cfg, int line,
    const struct config_section *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(d, "%s:%d: [schedule %s] %s", cfg->file, line, s->name, msg);
}

static int
parse_enabled(const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return 0;
	}
	return -1;
}

static void
check_keys(const struct config *cfg, const struct config_section *s,
    struct diag *d)
{
	for (size_t i = 0; i < s->nentries; i++) {
		const struct config_entry *e = &s->entries[i];
		int k;

		for (k = 0; schedule_keys[k] != NULL; k++)
			if (strcmp(e->key, schedule_keys[k]) == 0)
				break;
		if (schedule_keys[k] == NULL)
			sched_bad(d, cfg, e->line, s,
			    "unknown key %s; the known keys are type, tenant, "
			    "payload, initiator, target, every, cron, jitter "
			    "and enabled",
			    e->key);
	}
}

/* Who runs what: type, tenant, initiator, target, payload. */
static void
check_request(const struct config *cfg, const struct config_section *s,
    struct diag *d)
{
	const struct config_entry *e;
	char why[512], *canon;
	size_t bad_at;

	if (entry_of(s, "type") == NULL)
		sched_bad(d, cfg, s->line, s,
		    "has no type; add type = OPERATION (`oprun plugins list` "
		    "shows them)");
	if ((e = entry_of(s, "tenant")) == NULL)
		sched_bad(d, cfg, s->line, s,
		    "has no tenant; add tenant = NAME, naming a [tenant NAME] "
		    "section");
	else if (config_tenant(cfg, e->value) == NULL)
		sched_bad(d, cfg, e->line, s,
		    "tenant = %s: there is no [tenant %s] section; add one or "
		    "name an existing tenant",
		    e->value, e->value);
	if ((e = entry_of(s, "initiator")) == NULL)
		sched_bad(d, cfg, s->line, s,
		    "has no initiator; add initiator = USER, who gets the "
		    "notifications of its runs");
	else if (!config_name_valid(e->value))
		sched_bad(d, cfg, e->line, s,
		    "initiator = %s: must be 1-128 characters of A-Z a-z 0-9 "
		    ". _ - @",
		    e->value);
	if ((e = entry_of(s, "target")) != NULL &&
	    (e->value[0] == '\0' || strlen(e->value) > RUN_MAX_NAME ||
		text_utf8_check(e->value, strlen(e->value), &bad_at) != 0 ||
		text_find_control(e->value) >= 0))
		sched_bad(d, cfg, e->line, s,
		    "target: must be 1 to %d bytes of UTF-8 text on one line; "
		    "remove the key for no target",
		    RUN_MAX_NAME);
	if ((e = entry_of(s, "payload")) == NULL)
		return;
	if ((canon = identity_canonical_object(e->value, "payload", why,
		 sizeof(why))) == NULL)
		sched_bad(d, cfg, e->line, s, "%s", why);
	else if (strlen(canon) > cfg->max_payload_bytes)
		sched_bad(d, cfg, e->line, s,
		    "payload is %zu bytes; the limit is %llu ([runner] "
		    "max_payload_bytes)",
		    strlen(canon), (unsigned long long)cfg->max_payload_bytes);
	free(canon);
}

/* When: every or cron, jitter, enabled. */
static void
check_rule(const struct config *cfg, const struct config_section *s,
    struct diag *d)
{
	const struct config_entry *every = entry_of(s, "every");
	const struct config_entry *cron = entry_of(s, "cron");
	const struct config_entry *jitter = entry_of(s, "jitter");
	const struct config_entry *en = entry_of(s, "enabled");
	struct schedule_rule r;
	char why[512];
	int on;

	if (every != NULL && cron != NULL)
		sched_bad(d, cfg,
		    every->line > cron->line ? every->line : cron->line, s,
		    "has both every (line %d) and cron (line %d); keep one",
		    every->line, cron->line);
	else if (every == NULL && cron == NULL)
		sched_bad(d, cfg, s->line, s,
		    "has neither every nor cron; add every = 6h (an interval: "
		    "s, m, h or d) or cron = 0 2 * * * (minute hour "
		    "day-of-month month day-of-week, in UTC)");
	else if (schedule_rule_init(&r, s->name, every ? every->value : NULL,
		     cron ? cron->value : NULL, NULL, why, sizeof(why)) != 0)
		sched_bad(d, cfg, every ? every->line : cron->line, s, "%s%s",
		    why, every ? "" : cron_fix);
	if (jitter != NULL &&
	    schedule_parse_duration(jitter->value, JITTER_MAX_MS, &r.jitter_ms,
		why, sizeof(why)) != 0)
		sched_bad(d, cfg, jitter->line, s, "jitter = %s: %s",
		    jitter->value, why);
	if (en != NULL && parse_enabled(en->value, &on) != 0)
		sched_bad(d, cfg, en->line, s,
		    "enabled = %s: expected true or false", en->value);
}

void
schedule_check_config(const struct config *cfg, struct diag *diag)
{
	for (size_t i = 0; i < cfg->nschedules; i++) {
		check_keys(cfg, &cfg->schedules[i], diag);
		check_request(cfg, &cfg->schedules[i], diag);
		check_rule(cfg, &cfg->schedules[i], diag);
	}
}

void
schedule_load(const struct config *cfg, struct schedule **out, size_t *n)
{
	*out = cfg->nschedules > 0 ? xcalloc(cfg->nschedules, sizeof(**out)) :
				     NULL;
	*n = 0;
	for (size_t i = 0; i < cfg->nschedules; i++) {
		const struct config_section *sec = &cfg->schedules[i];
		const struct config_entry *type = entry_of(sec, "type");
		const char *payload = config_section_get(sec, "payload");
		const char *en = config_section_get(sec, "enabled");
		struct schedule *s = &(*out)[*n];
		char err[512];

		if (type == NULL ||
		    schedule_rule_init(&s->rule, sec->name,
			config_section_get(sec, "every"),
			config_section_get(sec, "cron"),
			config_section_get(sec, "jitter"), err,
			sizeof(err)) != 0)
			continue; /* not a checked configuration */
		s->payload = identity_canonical_object(payload ? payload : "{}",
		    "payload", err, sizeof(err));
		if (s->payload == NULL)
			continue;
		s->name = xstrdup(sec->name);
		s->type = xstrdup(type->value);
		s->tenant = xstrdup(config_section_get(sec, "tenant"));
		s->initiator = xstrdup(config_section_get(sec, "initiator"));
		s->target = xstrdup_or_null(config_section_get(sec, "target"));
		s->enabled = en == NULL || strcmp(en, "false") != 0;
		s->line = sec->line;
		s->type_line = type->line;
		(*n)++;
	}
}

void
schedule_free_all(struct schedule *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].type);
		free(v[i].tenant);
		free(v[i].target);
		free(v[i].initiator);
		free(v[i].payload);
	}
	free(v);
}

/* ---- state -------------------------------------------------------- */

static int64_t
json_i64(const cJSON *o, const char *key, int *ok)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > 9007199254740992.0) {
		*ok = 0;
		return 0;
	}
	return (int64_t)v->valuedouble;
}

int
schedule_state_get(struct store *st, const char *name,
    struct schedule_state *out, char *err, size_t errlen)
{
	char buf[1024];
	size_t len = 0;
	cJSON *o, *rule;
	int rc, ok = 1;

	memset(out, 0, sizeof(*out));
	rc = store_kv_get(st, SCHEDULE_KV_NAMESPACE, name, buf, sizeof(buf) - 1,
	    &len, err, errlen);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if (len >= sizeof(buf))
		return errf(err, errlen,
		    "the stored state of schedule %s is garbled (%zu bytes)",
		    name, len);
	buf[len] = '\0';
	o = cJSON_Parse(buf);
	rule = cJSON_GetObjectItemCaseSensitive(o, "rule");
	if (json_i64(o, "v", &ok) != SCHEDULE_STATE_VERSION ||
	    !cJSON_IsString(rule) ||
	    strlen(rule->valuestring) >= SCHEDULE_RULE_MAX)
		ok = 0;
	if (ok) {
		snprintf(out->rule, sizeof(out->rule), "%s", rule->valuestring);
		out->enabled = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(o, "enabled"));
		out->since_ms = json_i64(o, "since", &ok);
		out->last_slot_ms = json_i64(o, "last_slot", &ok);
		out->last_run_id = (uint64_t)json_i64(o, "last_run", &ok);
	}
	cJSON_Delete(o);
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return errf(err, errlen,
		    "the stored state of schedule %s is garbled or of another "
		    "version",
		    name);
	}
	out->present = 1;
	return 0;
}

int
schedule_state_put(struct store *st, const char *name,
    const struct schedule_state *s, char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	int rc;

	cJSON_AddNumberToObject(o, "v", SCHEDULE_STATE_VERSION);
	cJSON_AddStringToObject(o, "rule", s->rule);
	cJSON_AddBoolToObject(o, "enabled", s->enabled);
	cJSON_AddNumberToObject(o, "since", (double)s->since_ms);
	cJSON_AddNumberToObject(o, "last_slot", (double)s->last_slot_ms);
	cJSON_AddNumberToObject(o, "last_run", (double)s->last_run_id);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		return errf(err, errlen, "out of memory");
	rc = store_kv_put(st, SCHEDULE_KV_NAMESPACE, name, text, strlen(text),
	    err, errlen);
	free(text);
	return rc;
}

/* ---- deciding ----------------------------------------------------- */

/* The state was kept for this rule and this enabled setting. */
static int
state_current(const struct schedule *s, const struct schedule_state *st)
{
	return st->present && strcmp(st->rule, s->rule.text) == 0 &&
	    st->enabled == s->enabled;
}

void
schedule_decide(const struct schedule *s, const struct schedule_state *st,
    int64_t now_ms, struct schedule_decision *d)
{
	int64_t first;

	memset(d, 0, sizeof(*d));
	d->action = SCHEDULE_IDLE;
	d->next_ms = -1;
	if (!state_current(s, st)) {
		/* New, or its rule or enabled setting changed: what was
		 * missed under the old one is not owed under the new one. */
		d->action = SCHEDULE_ARM;
		if (s->enabled)
			d->next_ms = schedule_next(&s->rule, now_ms);
		return;
	}
	if (!s->enabled || (first = schedule_next(&s->rule, st->since_ms)) < 0)
		return;
	if (first > now_ms) {
		d->next_ms = first;
		return;
	}
	d->action = SCHEDULE_FIRE;
	d->first_ms = first;
	d->slot_ms = schedule_prev(&s->rule, now_ms);
	if (d->slot_ms < first)
		d->slot_ms = first;
	d->slots = schedule_count(&s->rule, st->since_ms, d->slot_ms,
	    SCHEDULE_COUNT_CAP);
	if (d->slots == 0)
		d->slots = 1;
	d->next_ms = schedule_next(&s->rule, d->slot_ms);
}

void
schedule_state_apply(struct schedule_state *st, const struct schedule *s,
    const struct schedule_decision *d, int64_t now_ms, uint64_t run_id)
{
	switch (d->action) {
	case SCHEDULE_IDLE:
		break;
	case SCHEDULE_ARM:
		st->present = 1;
		snprintf(st->rule, sizeof(st->rule), "%s", s->rule.text);
		st->enabled = s->enabled;
		st->since_ms = now_ms;
		break;
	case SCHEDULE_FIRE:
		st->since_ms = d->slot_ms;
		if (run_id != 0) {
			st->last_slot_ms = d->slot_ms;
			st->last_run_id = run_id;
		}
		break;
	}
}

int64_t
schedule_next_due(const struct schedule *s, const struct schedule_state *st,
    int64_t now_ms)
{
	if (!s->enabled)
		return -1;
	return schedule_next(&s->rule,
	    state_current(s, st) ? st->since_ms : now_ms);
}

/* ---- listing ------------------------------------------------------ */

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char ts[32];

	if (ms < 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	format_rfc3339(ms, ts, sizeof(ts));
	cJSON_AddStringToObject(o, key, ts);
}

cJSON *
schedule_to_json(const struct schedule *s, const struct schedule_state *st,
    int64_t due_ms, const char *last_state)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "type", s->type);
	cJSON_AddStringToObject(o, "tenant", s->tenant);
	cJSON_AddStringToObject(o, "initiator", s->initiator);
	if (s->target != NULL)
		cJSON_AddStringToObject(o, "target", s->target);
	else
		cJSON_AddNullToObject(o, "target");
	/* Canonical JSON text: embedded as it is, numbers exact. */
	cJSON_AddRawToObject(o, "payload", s->payload);
	cJSON_AddStringToObject(o, "rule", s->rule.text);
	cJSON_AddBoolToObject(o, "enabled", s->enabled);
	add_time(o, "next_due", due_ms);
	add_time(o, "last_slot", st->last_slot_ms > 0 ? st->last_slot_ms : -1);
	if (st->last_run_id != 0)
		cJSON_AddNumberToObject(o, "last_run", (double)st->last_run_id);
	else
		cJSON_AddNullToObject(o, "last_run");
	if (last_state != NULL)
		cJSON_AddStringToObject(o, "last_run_state", last_state);
	else
		cJSON_AddNullToObject(o, "last_run_state");
	return o;
}
