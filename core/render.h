/*
 * render - text and JSON for people: notifications and run summaries,
 * shared by the CLI and (later) the web pages so both say the same.
 */
#ifndef OPRUN_RENDER_H
#define OPRUN_RENDER_H

#include <stddef.h>

#include "run.h"
#include "store.h"

struct cJSON;

/* "run 42 (test-items on contoso) finished partial: 5 processed, 3
 * succeeded, 2 failed, 0 skipped" */
void		 render_notification_text(const struct notification *n,
		    char *buf, size_t len);
struct cJSON	*render_notification_json(const struct notification *n);
/* "5 processed, 3 succeeded, 2 failed, 0 skipped (of 5)" */
void		 render_counts(const struct run_counts *c, char *buf,
		    size_t len);

#endif
