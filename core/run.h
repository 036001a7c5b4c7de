/*
 * run - the operation run record (docs/DESIGN.md section 1) and its
 * state machine.
 *
 * run_transition_allowed() is the single place that says which lifecycle
 * transitions are legal; the store refuses every other one.  A struct run
 * owns its strings and arrays: run_free() releases them (the struct itself
 * belongs to the caller).  run_to_json() renders the public JSON object.
 */
#ifndef OPRUN_RUN_H
#define OPRUN_RUN_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

enum run_state {
	RUN_QUEUED = 0,
	RUN_RUNNING = 1,
	RUN_SUCCEEDED = 2,
	RUN_PARTIAL = 3,
	RUN_FAILED = 4,
	RUN_CANCELED = 5,
};
#define RUN_STATE_COUNT 6

/* Bounds that keep a run record small. */
#define RUN_MAX_FAILURES	100	/* failures kept; the total is counted */
#define RUN_MAX_HISTORY		32	/* transitions kept, oldest dropped */
#define RUN_MAX_MESSAGE		512	/* bytes of a reason or failure message */
#define RUN_MAX_ITEM		256	/* bytes of a failed item's name */
#define RUN_MAX_RESULT		(64 * 1024)
#define RUN_MAX_NAME		128	/* tenant, type, target, initiator */

#define RUN_FLAG_CANCEL_REQUESTED 0x1u

struct run_counts {
	uint64_t total, processed, succeeded, failed, skipped;
};

struct run_failure {
	char *item;
	char *message;
};

struct run_event {
	enum run_state state;
	int64_t at_ms;
	char *actor;	/* "cli:alice", "worker:1234", "system" */
	char *reason;	/* NULL when there is nothing to explain */
};

struct run {
	uint64_t id;
	char *tenant, *type, *target, *initiator;	/* target may be NULL */
	char *payload;			/* canonical JSON object text */
	uint8_t dedupe_key[32];		/* SHA-256 of the identity */
	enum run_state state;
	uint32_t attempt;
	uint32_t flags;			/* RUN_FLAG_* */
	int64_t created_at, started_at, finished_at, deadline_ms;
	struct run_counts counts;
	char *result;			/* JSON object text or NULL */
	char *reason;			/* NULL unless failed/canceled */
	/* Who holds the claim while running: lets a supervisor know a dead
	 * claimant exactly (epoch of the runner, pid and its start time). */
	uint64_t claim_epoch, claim_start;
	int32_t claim_pid;
	uint64_t failures_total;
	size_t nfailures;
	struct run_failure *failures;
	size_t nhistory;
	struct run_event *history;
};

const char	*run_state_name(enum run_state s);
/* Returns 0 and sets *out, or -1 for an unknown name. */
int		 run_state_parse(const char *name, enum run_state *out);
int		 run_state_terminal(enum run_state s);
/* 1 if from -> to is a legal lifecycle transition, else 0. */
int		 run_transition_allowed(enum run_state from, enum run_state to);

void		 run_free(struct run *r);
/* Appends a history event (copies actor and reason), dropping the oldest
 * past RUN_MAX_HISTORY. */
void		 run_add_event(struct run *r, enum run_state state, int64_t at,
		    const char *actor, const char *reason);
/* Appends a failure (copied, truncated to the limits) if the bounded list
 * has room; always counts it in failures_total. */
void		 run_add_failure(struct run *r, const char *item,
		    const char *message);
/* Forgets what an attempt reported (counts, failures, result, reason)
 * before the run is queued again, so a retry reports only itself. */
void		 run_reset_attempt(struct run *r);
/* Replaces *dst with a copy of src truncated to max bytes (NULL ok). */
void		 run_set_text(char **dst, const char *src, size_t max);

/* Hex of the dedupe key; buf holds 65 bytes. */
void		 run_dedupe_hex(const struct run *r, char *buf);
/* The public JSON object of docs/DESIGN.md section 1 (caller deletes
 * it).  With detail, history and failures are included.  payload and
 * result are their stored text embedded as cJSON raw items (exact
 * numbers): print the object; do not read them back as values. */
struct cJSON	*run_to_json(const struct run *r, int detail);

#endif
