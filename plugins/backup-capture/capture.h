/*
 * backup-capture internals: the payload's selection (select.c), one
 * run's state, and the capture of a chunk of objects (object.c).
 */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

#include "../intune/intune.h"

#define CAPTURE_MAX_IDS 10000

/* What a payload asks for: the families (default all) and the ids. */
struct selection {
	int family[INTUNE_FAMILY_COUNT]; /* by index in intune_families */
	cJSON *ids;			 /* array of strings; NULL: every id */
};

/* Parses and checks payload.  Returns 0 (free sel with selection_free),
 * or -1 with one line in err naming the field. */
int selection_parse(const char *payload, struct selection *sel, char *err,
    size_t errlen);
int selection_wants(const struct selection *sel, const char *id);
void selection_free(struct selection *sel);

/* Counts of one family. */
struct family_count {
	uint64_t captured, failed;
	int listed; /* 1 once its list was read to the end */
};

/* One run of backup-capture. */
struct capture {
	const struct oprun_host *host;
	struct oprun_ctx *ctx;
	const struct oprun_run_info *run;
	struct selection sel;
	uint64_t total, ok, failed, documents;
	struct family_count count[INTUNE_FAMILY_COUNT];
	int canceled;
	char first_error[INTUNE_ERR_MAX];
};

/* Captures the objects items[0..n) of family fam (index fi) and writes
 * one document each, reporting each object as an item (succeeded, or
 * failed with its reason).  Polls for cancel between objects and sets
 * cap->canceled when it stops for it. */
void capture_chunk(struct capture *cap, size_t fi, const cJSON *const *items,
    size_t n);

/* Records a failed item: item_done, counts, first error. */
void capture_failed(struct capture *cap, const char *item, const char *why);

#endif
