/*
 * schedule - [schedule NAME] sections: when a schedule is due, and what
 * it has done (DESIGN section 4: `oprun serve` submits scheduled runs).
 *
 * A rule is `every = N` with a unit s, m, h or d (slots at whole
 * multiples of N since the Unix epoch, so every = 6h is 00:00, 06:00,
 * 12:00 and 18:00 UTC), or a 5-field `cron` expression evaluated in UTC
 * at whole minutes.  Each slot is moved later by an offset in [0, jitter)
 * derived from the schedule's name alone, so a restart never moves it.
 * Times are milliseconds since the epoch; slots fall on whole seconds.
 *
 * schedule_check_config reports every problem of the sections as
 * "FILE:LINE: [schedule NAME] what; fix" (`config check` and `oprun
 * serve` call it; config_load, a layer below, only records them).
 * schedule_load builds the schedules of a configuration that passed it
 * (skipping any that would not); the caller frees them with
 * schedule_free_all.  The state of a schedule (the slots
 * handled, the last slot submitted and its run) lives in the store's
 * key/value storage under SCHEDULE_KV_NAMESPACE, which is no plugin name
 * (those are [a-z0-9_-]).  schedule_decide is the one place that says
 * what is due: a schedule fires once for all the slots it missed.
 */
#ifndef OPRUN_SCHEDULE_H
#define OPRUN_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "util.h"

struct cJSON;

#define SCHEDULE_KV_NAMESPACE	"@schedules"
#define SCHEDULE_RULE_MAX	192	/* bytes of a rule's text */
#define SCHEDULE_CRON_MAX	120	/* bytes of a cron expression */
/* Slot searches give up past this: 400 years hold every Gregorian date
 * and weekday pairing, so a cron rule matching nothing in it never
 * matches (config check refuses it). */
#define SCHEDULE_HORIZON_MS	(401LL * 366 * 86400 * 1000)

struct schedule_cron {
	uint64_t minutes;	/* bit m: minute m, 0-59 */
	uint32_t hours;		/* 0-23 */
	uint32_t mdays;		/* 1-31 */
	uint16_t months;	/* 1-12 */
	uint8_t wdays;		/* 0-6, Sunday 0 */
	/* The day field starts with '*': it does not restrict, so the other
	 * day field alone decides (cron's day-of-month/day-of-week rule). */
	int mday_star, wday_star;
};

struct schedule_rule {
	int64_t every_ms;	/* > 0: an every rule; 0: the cron rule */
	struct schedule_cron cron;
	int64_t jitter_ms;
	int64_t offset_ms;	/* in [0, jitter_ms), from the name */
	/* "every 6h" or "cron 0 2 * * *", then " jitter 5m" if any: shown
	 * to people and kept in the state, where a change re-arms. */
	char text[SCHEDULE_RULE_MAX];
};

struct schedule {
	char *name, *type, *tenant, *target, *initiator;	/* target: NULL */
	char *payload;		/* canonical JSON object text */
	int enabled;
	int line;		/* of the section, for messages */
	int type_line;
	struct schedule_rule rule;
};

/* Parses a duration "N" + unit s, m, h or d (30s, 90m, 6h, 1d) into ms,
 * at most max_ms.  Returns 0, or -1 with what is wrong in err. */
int	schedule_parse_duration(const char *s, int64_t max_ms, int64_t *ms,
	    char *err, size_t errlen);
/* Parses a 5-field cron expression.  Returns 0, or -1 with the field and
 * what is wrong with it in err. */
int	schedule_parse_cron(const char *s, struct schedule_cron *c, char *err,
	    size_t errlen);
/* Fills r from the given keys (exactly one of every and cron; jitter may
 * be NULL) for schedule name.  Returns 0, or -1 with err naming the key. */
int	schedule_rule_init(struct schedule_rule *r, const char *name,
	    const char *every, const char *cron, const char *jitter, char *err,
	    size_t errlen);
/* The offset in [0, jitter_ms) of schedule name, whole seconds. */
int64_t	schedule_jitter_offset(const char *name, int64_t jitter_ms);

/* The first slot strictly after after_ms, or -1 if none within
 * SCHEDULE_HORIZON_MS. */
int64_t	schedule_next(const struct schedule_rule *r, int64_t after_ms);
/* The last slot at or before at_ms, or -1 if none within the horizon. */
int64_t	schedule_prev(const struct schedule_rule *r, int64_t at_ms);
/* How many slots fall in (after_ms, upto_ms], counting at most cap. */
uint64_t schedule_count(const struct schedule_rule *r, int64_t after_ms,
	    int64_t upto_ms, uint64_t cap);

/* Checks every [schedule NAME] section of cfg; problems go to diag. */
void	schedule_check_config(const struct config *cfg, struct diag *diag);
/* The schedules of cfg (checked), in file order: *out has *n of them. */
void	schedule_load(const struct config *cfg, struct schedule **out,
	    size_t *n);
void	schedule_free_all(struct schedule *v, size_t n);

/* Bump SCHEDULE_STATE_VERSION when the record's fields change meaning;
 * a record of another version is taken for none (the schedule re-arms). */
#define SCHEDULE_STATE_VERSION 1

struct schedule_state {
	int present;		/* 0: never seen (nothing stored) */
	char rule[SCHEDULE_RULE_MAX];	/* the rule text it was kept for */
	int enabled;		/* the enabled setting it was kept for */
	int64_t since_ms;	/* every slot up to here is handled */
	int64_t last_slot_ms;	/* the last slot submitted, 0 = none */
	uint64_t last_run_id;	/* its run (new or deduplicated onto), 0 */
};

/* Reads the state of schedule name (present = 0 if none is stored).
 * Returns 0, or -1 with err if it cannot be read or is garbled. */
int	schedule_state_get(struct store *st, const char *name,
	    struct schedule_state *out, char *err, size_t errlen);
int	schedule_state_put(struct store *st, const char *name,
	    const struct schedule_state *s, char *err, size_t errlen);

enum schedule_action {
	SCHEDULE_IDLE,		/* nothing due */
	SCHEDULE_ARM,		/* new, changed, or enabled/disabled: start
				 * over from now, submitting nothing */
	SCHEDULE_FIRE,		/* submit once, for slot_ms */
};

struct schedule_decision {
	enum schedule_action action;
	int64_t slot_ms;	/* FIRE: the last due slot, the one submitted */
	int64_t first_ms;	/* FIRE: the first slot not yet handled */
	uint64_t slots;		/* FIRE: due slots it stands for (>= 1) */
	int64_t next_ms;	/* the next slot after now; -1: none */
};

#define SCHEDULE_COUNT_CAP 100000	/* due cron slots counted one by one */

/* What schedule s should do at now_ms given its stored state st. */
void	schedule_decide(const struct schedule *s,
	    const struct schedule_state *st, int64_t now_ms,
	    struct schedule_decision *d);
/* Updates st after d was carried out at now_ms; run_id is the run FIRE
 * submitted or was deduplicated onto (0: the submit failed). */
void	schedule_state_apply(struct schedule_state *st,
	    const struct schedule *s, const struct schedule_decision *d,
	    int64_t now_ms, uint64_t run_id);
/* When s is next due, as `oprun schedules` shows it: the first slot not
 * yet handled (in the past while no runner is up), or -1 if disabled. */
int64_t	schedule_next_due(const struct schedule *s,
	    const struct schedule_state *st, int64_t now_ms);

/* The JSON object `oprun schedules --json` prints for s (the caller
 * deletes it): due_ms from schedule_next_due (-1: null), last_state the
 * state of st's last run (NULL: none, or pruned). */
struct cJSON	*schedule_to_json(const struct schedule *s,
		    const struct schedule_state *st, int64_t due_ms,
		    const char *last_state);

#endif
