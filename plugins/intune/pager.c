/* Graph lists page by page, or whole; see pager.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pager.h"

/* graph_list's page callback returns this to stop after one page. */
#define ONE_PAGE 1
#define BAD_PAGE 2

int
intune_pager_init(struct intune_pager *p, const struct oprun_host *host,
    struct oprun_ctx *ctx, const char *path, const char *const *headers)
{
	memset(p, 0, sizeof(*p));
	p->host = host;
	p->ctx = ctx;
	p->headers = headers;
	p->next = strdup(path);
	return p->next != NULL ? 0 : -1;
}

/* Keeps the page and its nextLink, then stops the walk. */
static int
keep_page(void *arg, const char *json)
{
	struct intune_pager *p = arg;
	const char *next;

	cJSON_Delete(p->page);
	p->page = intune_json_object(json);
	next = intune_json_str(p->page, "@odata.nextLink");
	free(p->next);
	p->next = next != NULL ? strdup(next) : NULL;
	if (p->page == NULL || (next != NULL && p->next == NULL) ||
	    !cJSON_IsArray(
		cJSON_GetObjectItemCaseSensitive(p->page, "value"))) {
		p->parse_failed = 1;
		return BAD_PAGE;
	}
	return ONE_PAGE;
}

int
intune_pager_next(struct intune_pager *p, const cJSON **items, char *err,
    size_t errlen)
{
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	char *url = p->next;
	int rc;

	*items = NULL;
	if (url == NULL)
		return 0;
	p->next = NULL;
	rc = p->host->graph_list(p->ctx, url, p->headers, keep_page, p, &resp);
	free(url);
	if (rc == ONE_PAGE) {
		p->pages++;
		*items = cJSON_GetObjectItemCaseSensitive(p->page, "value");
		return 1;
	}
	free(p->next);
	p->next = NULL;
	if (p->parse_failed)
		return intune_errf(err, errlen,
		    "page %d: the answer could not be read (out of memory?); "
		    "the list was not completed",
		    p->pages + 1);
	return intune_errf(err, errlen, "page %d: %s", p->pages + 1,
	    resp.error != NULL && resp.error[0] ? resp.error :
						  "the host gave no reason");
}

void
intune_pager_free(struct intune_pager *p)
{
	free(p->next);
	cJSON_Delete(p->page);
	memset(p, 0, sizeof(*p));
}

struct gather {
	cJSON *dest;
	size_t max, count;
	int full;
};

/* Moves a page's items to the caller's array. */
static int
gather_page(void *arg, const char *json)
{
	struct gather *g = arg;
	cJSON *page = intune_json_object(json), *v, *item;

	v = cJSON_GetObjectItemCaseSensitive(page, "value");
	if (!cJSON_IsArray(v)) {
		cJSON_Delete(page);
		return BAD_PAGE;
	}
	while ((item = cJSON_DetachItemFromArray(v, 0)) != NULL) {
		if (g->count++ >= g->max ||
		    !cJSON_AddItemToArray(g->dest, item)) {
			cJSON_Delete(item);
			g->full = 1;
			break;
		}
	}
	cJSON_Delete(page);
	return g->full ? BAD_PAGE : 0;
}

int
intune_list_all(const struct oprun_host *host, struct oprun_ctx *ctx,
    const char *path, const char *const *headers, cJSON *dest, size_t max_items,
    char *err, size_t errlen)
{
	struct oprun_graph_response resp = { .size = sizeof(resp) };
	struct gather g = { dest, max_items, 0, 0 };
	int rc = host->graph_list(ctx, path, headers, gather_page, &g, &resp);

	if (rc == 0)
		return 0;
	if (g.full)
		return intune_errf(err, errlen,
		    "the list has more than %zu items, or memory ran out; not "
		    "captured",
		    max_items);
	if (rc == BAD_PAGE)
		return intune_errf(err, errlen,
		    "a page could not be read (out of memory?); the list was "
		    "not completed");
	return intune_errf(err, errlen, "%s",
	    resp.error != NULL && resp.error[0] ? resp.error :
						  "the host gave no reason");
}
