/*
 * Graph lists through host->graph_list, two ways:
 *
 *   - intune_pager reads one page per call, so the caller can work (and
 *     make other Graph calls, which graph_list's page callback may not)
 *     between pages and never holds more than a page: the family lists
 *     of a backup, the directory kinds of a sync;
 *   - intune_list_all reads every page into one array: sub-collections.
 *
 * Every @odata.nextLink is followed verbatim, with the same headers; a
 * page that fails means the list was not completed, and says so.
 */
#ifndef INTUNE_PAGER_H
#define INTUNE_PAGER_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

struct intune_pager {
	const struct oprun_host *host;
	struct oprun_ctx *ctx;
	const char *const *headers;
	char *next;  /* the next page's URL; NULL after the last page */
	cJSON *page; /* the page read last (owned) */
	int pages;   /* pages read so far */
	int parse_failed;
};

/* Starts at path ("/beta/..." with its query); headers ("Name: value",
 * NULL-terminated, or NULL) must outlive the pager.  Free it with
 * intune_pager_free whatever happened. */
int intune_pager_init(struct intune_pager *p, const struct oprun_host *host,
    struct oprun_ctx *ctx, const char *path, const char *const *headers);

/* Reads the next page: returns 1 with *items its "value" array (owned by
 * the pager, valid until the next call), 0 when there is no page left,
 * or -1 with err ("page N: " and the host's reason, with Graph's
 * request-id and status); after -1 the list is not complete. */
int intune_pager_next(struct intune_pager *p, const cJSON **items, char *err,
    size_t errlen);

void intune_pager_free(struct intune_pager *p);

/* Appends every item of every page of path to the array dest (a JSON
 * array the caller owns), at most max_items in all (more is an error:
 * every growable list has a bound).  Returns 0, or -1 with err; after -1
 * dest may hold a part of the list. */
int intune_list_all(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *path, const char *const *headers, cJSON *dest, size_t max_items,
    char *err, size_t errlen);

/* The most items one sub-collection may have: 100000 (a policy with
 * more settings or assignments than that is not a real one). */
#define INTUNE_LIST_MAX 100000

#endif
