/*
 * routes - the URL space.  One server answers both "login" and "graph"
 * routes, so tests point both of oprun's base URLs at it:
 *
 *   POST /{tenant}/oauth2/v2.0/token          auth.c
 *   /{v1.0|beta}/$batch                       batch.c
 *   /{v1.0|beta}/deviceManagement/...         intune.c
 *   /{v1.0|beta}/groups[/{id}|/$count]        groups.c
 *   /_fake/...                                control.c (via http.c)
 *
 * Graph routes check, in order: duplicate query options, the bearer
 * token (401), then the family handler checks the path (400/404), the
 * permission (403), write throttling (429) and the request itself.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdlib.h>
#include <string.h>

/* No route we serve is deeper than this. */
#define MAX_SEG	8

void
route_no_route(struct resp *rs, const struct server *s,
    const struct req *rq)
{
	err_intunef(rs, s, rq, 400, "BadRequest", "No OData route exists that "
	    "match template ~/singleton/navigation/key/navigation with http "
	    "verb %.16s for request %.300s.", rq->method, rq->path);
}

/* Query options may not repeat (Graph says so with a 400). */
static bool
duplicate_option(const struct req *rq, struct resp *rs)
{
	const char *name;
	size_t i;

	for (i = 0; i < rq->args.n; i++) {
		name = rq->args.v[i].name;
		if (name[0] == '$' && kv_count(&rq->args, name) > 1) {
			err_graphf(rs, rq, 400, "BadRequest", "Query option "
			    "'%.40s' was specified more than once, but it must "
			    "be specified at most once.", name);
			return true;
		}
	}
	return false;
}

static void
graph_route(struct server *s, struct req *rq, struct resp *rs, char **seg,
    size_t n)
{
	const struct token *t;

	if (duplicate_option(rq, rs))
		return;
	if ((t = auth_bearer(s, rq, rs)) == NULL)
		return;
	if (n < 2)
		route_no_route(rs, s, rq);
	else if (strcmp(seg[1], "$batch") == 0 && n == 2)
		batch_handle(s, rq, rs, seg[0]);
	else if (strcmp(seg[1], "deviceManagement") == 0)
		intune_route(s, rq, rs, t, seg[0], seg + 1, n - 1);
	else if (strcmp(seg[1], "groups") == 0)
		groups_route(s, rq, rs, t, seg + 1, n - 1);
	else
		err_segment(rs, rq, seg[1]);
}

/* Splits path (modified in place) at '/'; a trailing slash is ignored.
 * Returns the count, or MAX_SEG + 1 if there are more. */
static size_t
split_path(char *path, char **seg)
{
	size_t n = 0, len = strlen(path);
	char *p = path;

	if (len > 1 && path[len - 1] == '/')
		path[len - 1] = '\0';
	if (*p == '/')
		p++;
	while (n <= MAX_SEG) {
		seg[n++] = p;
		if ((p = strchr(p, '/')) == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

void
route_request(struct server *s, struct req *rq, struct resp *rs)
{
	char *copy = xstrdup(rq->path), *seg[MAX_SEG + 1];
	size_t n = split_path(copy, seg);

	if (n > MAX_SEG)
		err_segment(rs, rq, seg[MAX_SEG]);
	else if (strcmp(seg[0], "v1.0") == 0 || strcmp(seg[0], "beta") == 0)
		graph_route(s, rq, rs, seg, n);
	else if (n == 4 && strcmp(seg[1], "oauth2") == 0 &&
	    strcmp(seg[2], "v2.0") == 0 && strcmp(seg[3], "token") == 0 &&
	    rq->batch_id == NULL)
		auth_token_endpoint(s, rq, rs, seg[0]);
	else
		err_graphf(rs, rq, 400, "BadRequest", "Invalid version: "
		    "'%.40s'; fakegraph serves /v1.0, /beta and "
		    "/{tenant}/oauth2/v2.0/token.", seg[0]);
	free(copy);
}
