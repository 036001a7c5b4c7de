/*
 * backup-capture internals: the payload's selection (select.c), one
 * run's state, and the capture of its objects (object.c).
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

struct object;

/* Graph versions the families use (all beta today): one queue each. */
#define CAPTURE_VERSIONS 2

/* One run of backup-capture. */
struct capture {
	const struct oprun_host *host;
	struct oprun_ctx *ctx;
	const struct oprun_run_info *run;
	struct selection sel;
	uint64_t total, ok, failed, documents;
	struct family_count count[INTUNE_FAMILY_COUNT];
	struct intune_batch *batch[CAPTURE_VERSIONS];
	const char *batch_version[CAPTURE_VERSIONS];
	struct object *inflight; /* objects whose answers did not all come */
	size_t ninflight;
	int canceled;
	char first_error[INTUNE_ERR_MAX];
};

/* Starts the capture of item (an object of family fi as its list
 * returned it): queues what it needs in the run's $batch queue and sends
 * the full batches.  The object is finished (sealed, its document
 * written, its item reported, succeeded or failed with the reason) when
 * its last answer came, in this call or a later one; cancel is polled
 * then, and sets cap->canceled. */
void capture_object(struct capture *cap, size_t fi, const cJSON *item);

/* Sends everything still queued, finishing every object in flight. */
void capture_flush(struct capture *cap);

/* Drops what is queued and the objects in flight, unreported (cancel),
 * and frees the queues. */
void capture_drop(struct capture *cap);

/* Records a failed item: item_done, counts, first error. */
void capture_failed(struct capture *cap, const char *item, const char *why);

#endif
