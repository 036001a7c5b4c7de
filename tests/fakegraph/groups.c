/*
 * groups - /groups, /groups/{id} and /groups/$count, read-only (S4-S6),
 * with the directory's advanced-query rules: $search and /$count need
 * "ConsistencyLevel: eventual" on every request, nextLink pages
 * included; $skip is refused; $orderby with $filter needs the header.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Least privileged first (docs/graph.md A7); the ReadWrite ones
 * include reading. */
static const char *const group_grants[] = {
	"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All",
	"Group.ReadWrite.All", "Directory.ReadWrite.All", NULL
};

#define SEARCH_NEEDS_HEADER "Request with $search query parameter only " \
	"works through MSGraph with a special request header: " \
	"'ConsistencyLevel: eventual'"

static cJSON *
project_group(const cJSON *item, const struct req *rq, void *ctx)
{
	(void)rq;
	(void)ctx;
	return cJSON_Duplicate(item, 1);
}

static int
unsupported(const struct req *rq, struct resp *rs, const char *msg)
{
	err_graph(rs, rq, 400, "Request_UnsupportedQuery", msg);
	return -1;
}

/* Parses $filter and $search under the directory's rules.  Returns 0,
 * or -1 with rs filled (and nothing to free). */
static int
group_queries(const struct req *rq, struct resp *rs, struct qnode **f,
    struct qnode **q)
{
	const char *filter = req_arg(rq, "$filter");
	const char *search = req_arg(rq, "$search");
	char err[200], msg[300];

	*f = *q = NULL;
	if (search != NULL && !req_eventual(rq))
		return unsupported(rq, rs, SEARCH_NEEDS_HEADER);
	if (req_arg(rq, "$orderby") != NULL)
		return unsupported(rq, rs, req_eventual(rq) ?
		    "$orderby is not supported by fakegraph." :
		    "Sorting not supported for current query.");
	if (filter != NULL && query_parse_filter(filter, f, err,
	    sizeof(err)) != 0) {
		snprintf(msg, sizeof(msg), "Unsupported or invalid query "
		    "filter clause: %s.", err);
		return unsupported(rq, rs, msg);
	}
	if (search != NULL && query_parse_search(search, q, err,
	    sizeof(err)) != 0) {
		query_free(*f);
		*f = NULL;
		snprintf(msg, sizeof(msg), "Unsupported or invalid $search "
		    "query: %s.", err);
		return unsupported(rq, rs, msg);
	}
	return 0;
}

static void
groups_list(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t)
{
	struct qnode *f = NULL, *q = NULL;
	cJSON **items = NULL;
	struct page pg;
	size_t n;

	if (req_arg(rq, "$skip") != NULL) {
		err_graph(rs, rq, 400, "Request_BadRequest",
		    "'$skip' is not supported by the service.");
		return;
	}
	if (group_queries(rq, rs, &f, &q) != 0)
		return;
	if (paging_begin(s, rq, rs, t, PAGE_GROUPS, "Request_BadRequest",
	    &pg) == 0) {
		n = paging_collect(t->groups, f, q, &items);
		paging_respond(s, rq, rs, t, &pg, items, n, project_group, NULL,
		    "groups");
	}
	free(items);
	query_free(f);
	query_free(q);
}

static void
groups_count(const struct req *rq, struct resp *rs, const struct tenant *t)
{
	struct qnode *f = NULL, *q = NULL;
	cJSON **items = NULL;
	char num[24];
	size_t n;

	if (!req_eventual(rq)) {
		err_graph(rs, rq, 400, "Request_BadRequest",
		    "$count is not currently supported.");
		return;
	}
	if (group_queries(rq, rs, &f, &q) != 0)
		return;
	n = paging_collect(t->groups, f, q, &items);
	snprintf(num, sizeof(num), "%zu", n);
	resp_text(rs, 200, num);
	free(items);
	query_free(f);
	query_free(q);
}

static void
groups_get(const struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, const char *id)
{
	const cJSON *g = data_find(t->groups, id);
	cJSON *o;

	if (g == NULL) {
		err_graphf(rs, rq, 404, "Request_ResourceNotFound", "Resource "
		    "'%.80s' does not exist or one of its queried "
		    "reference-property objects are not present.", id);
		return;
	}
	o = cJSON_Duplicate(g, 1);
	paging_select(o, rq);
	resp_json(rs, 200, paging_entity(s, rq, o, "groups/$entity"));
}

void
groups_route(struct server *s, struct req *rq, struct resp *rs,
    const struct token *t, char **seg, size_t n)
{
	if (n > 2) {
		err_segment(rs, rq, seg[2]);
		return;
	}
	if (!auth_has_any(t, group_grants)) {
		err_graph(rs, rq, 403, "Authorization_RequestDenied",
		    "Insufficient privileges to complete the operation.");
		return;
	}
	if (strcmp(rq->method, "GET") != 0) {
		err_graphf(rs, rq, 405, "Request_BadRequest", "fakegraph "
		    "serves groups read-only; %.16s is not supported.",
		    rq->method);
		return;
	}
	if (n == 1)
		groups_list(s, rq, rs, t->tenant);
	else if (strcmp(seg[1], "$count") == 0)
		groups_count(rq, rs, t->tenant);
	else
		groups_get(s, rq, rs, t->tenant, seg[1]);
}
