/*
 * Unit tests for the shared Intune library (plugins/intune), through its
 * public functions and a fake host table: graph_list serves scripted
 * pages, graph_batch answers from a table of URLs, graph_request answers
 * the decrypt function, seal and unseal are reversible stand-ins.  Covers
 * the family table, strip-on-write, paging across pages, $batch
 * splitting at 20, failed-item reporting and sealed values.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../plugins/intune/intune.h"

#define MAX_ROUTES 128
#define MAX_CALLS 64
#define PLAIN "contoso-oma-wifi-key"

/* One scripted answer: a page for graph_list, an item for graph_batch
 * or an answer for graph_request, by exact URL. */
struct route {
	char url[256];
	long status;
	char body[4096];
	char request_id[64];
};

/* The fake host's state; the ctx plugins pass back is this. */
struct oprun_ctx {
	struct route routes[MAX_ROUTES];
	int nroutes;
	char list_urls[MAX_CALLS][256];
	int list_calls;
	int batch_sizes[MAX_CALLS];
	char batch_urls[MAX_CALLS * 20][256];
	int batch_calls, batch_items;
	int batch_fails;		/* the next N graph_batch calls fail */
	char *answer;			/* the last batch answer (ours) */
	char error[1024];		/* resp->error of the last call */
	char sealed[512], plain[512];
	int seal_calls, seal_fails;
	char last_error[128];
};

static struct oprun_ctx *
new_ctx(void)
{
	struct oprun_ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	return c;
}

static void
free_ctx(struct oprun_ctx *c)
{
	free(c->answer);
	free(c);
}

/* Adds a route answering url with status and body. */
static void
route(struct oprun_ctx *c, const char *url, long status, const char *body,
    const char *rid)
{
	struct route *r;

	assert_true(c->nroutes < MAX_ROUTES);
	r = &c->routes[c->nroutes++];
	snprintf(r->url, sizeof(r->url), "%s", url);
	r->status = status;
	snprintf(r->body, sizeof(r->body), "%s", body);
	snprintf(r->request_id, sizeof(r->request_id), "%s",
	    rid != NULL ? rid : "");
}

static const struct route *
find(const struct oprun_ctx *c, const char *url)
{
	for (int i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].url, url) == 0)
			return &c->routes[i];
	return NULL;
}

static void
answer(struct oprun_ctx *c, struct oprun_graph_response *resp, long status,
    const char *body, const char *rid, const char *error)
{
	snprintf(c->error, sizeof(c->error), "%s", error);
	resp->status = status;
	resp->body = body;
	resp->request_id = rid;
	resp->error = c->error;
}

static int
fake_list(struct oprun_ctx *c, const char *path, const char *const *headers,
    int (*page)(void *arg, const char *json), void *arg,
    struct oprun_graph_response *resp)
{
	char url[256];
	int rc;

	(void)headers;
	snprintf(url, sizeof(url), "%s", path);
	for (;;) {
		const struct route *r = find(c, url);
		cJSON *root;
		const char *next;

		assert_true(c->list_calls < MAX_CALLS);
		snprintf(c->list_urls[c->list_calls++], 256, "%s", url);
		if (r == NULL || r->status != 200) {
			answer(c, resp, r != NULL ? r->status : 404, "",
			    "rid-fail", "HTTP 503 ServiceUnavailable: try "
			    "later (request-id rid-fail)");
			return -1;
		}
		answer(c, resp, 200, r->body, r->request_id, "");
		if ((rc = page(arg, r->body)) != 0)
			return rc;
		root = cJSON_Parse(r->body);
		next = intune_json_str(root, "@odata.nextLink");
		if (next == NULL) {
			cJSON_Delete(root);
			return 0;
		}
		snprintf(url, sizeof(url), "%s", next);
		cJSON_Delete(root);
	}
}

/* One item of a batch answer, from the route of its url. */
static cJSON *
batch_item(struct oprun_ctx *c, const cJSON *req, const char *version)
{
	const char *id = intune_json_str(req, "id");
	const char *url = intune_json_str(req, "url");
	char full[300];
	const struct route *r;
	cJSON *item = cJSON_CreateObject(), *h;

	snprintf(full, sizeof(full), "/%s%s", version, url);
	r = find(c, full);
	snprintf(c->batch_urls[c->batch_items++], 256, "%s", url);
	cJSON_AddStringToObject(item, "id", id);
	if (r != NULL && r->status == 0) {
		/* The host's "no usable answer" shape. */
		cJSON_AddNumberToObject(item, "status", 429);
		cJSON_AddStringToObject(item, "error", r->body);
		return item;
	}
	cJSON_AddNumberToObject(item, "status", r != NULL ? r->status : 404);
	h = cJSON_AddObjectToObject(item, "headers");
	cJSON_AddStringToObject(h, "Request-Id", r != NULL && r->request_id[0] ?
	    r->request_id : "rid-none");
	cJSON_AddItemToObject(item, "body", cJSON_Parse(r != NULL ? r->body :
	    "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"no "
	    "route\"}}"));
	return item;
}

static int
fake_batch(struct oprun_ctx *c, const char *version, const char *requests,
    struct oprun_graph_response *resp)
{
	cJSON *reqs = cJSON_Parse(requests), *out = cJSON_CreateArray();
	const cJSON *r;

	assert_true(cJSON_IsArray(reqs));
	assert_true(c->batch_calls < MAX_CALLS);
	c->batch_sizes[c->batch_calls++] = cJSON_GetArraySize(reqs);
	assert_in_range(cJSON_GetArraySize(reqs), 1, 20);
	free(c->answer);
	c->answer = NULL;
	if (c->batch_fails > 0) {
		c->batch_fails--;
		cJSON_Delete(reqs);
		cJSON_Delete(out);
		answer(c, resp, 502, "", "rid-batch", "POST /beta/$batch: HTTP "
		    "502 BadGateway: upstream (request-id rid-batch)");
		return -1;
	}
	cJSON_ArrayForEach(r, reqs)
		cJSON_AddItemToArray(out, batch_item(c, r, version));
	c->answer = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	cJSON_Delete(reqs);
	answer(c, resp, 200, c->answer, "rid-batch", "");
	return 0;
}

static int
fake_request(struct oprun_ctx *c, const char *method, const char *path,
    const char *const *headers, const char *body,
    struct oprun_graph_response *resp)
{
	const struct route *r = find(c, path);

	(void)headers;
	(void)body;
	assert_string_equal(method, "GET");
	if (r == NULL) {
		answer(c, resp, 404, "", "rid-404", "HTTP 404 ResourceNotFound: "
		    "no such reference (request-id rid-404)");
		return 0;
	}
	answer(c, resp, r->status, r->body, r->request_id, r->status == 200 ?
	    "" : "HTTP 500 InternalServerError: boom (request-id rid-500)");
	return 0;
}

/* Seals by reversing the text behind the prefix, so tests can see the
 * plain value is gone from what was stored. */
static int
fake_seal(struct oprun_ctx *c, const char *plaintext, const char **sealed)
{
	size_t n = strlen(plaintext), p = strlen(OPRUN_SEALED_PREFIX);

	c->seal_calls++;
	snprintf(c->plain, sizeof(c->plain), "%s", plaintext);
	if (c->seal_fails) {
		snprintf(c->last_error, sizeof(c->last_error), "seal: no key");
		return -1;
	}
	assert_true(p + n < sizeof(c->sealed));
	memcpy(c->sealed, OPRUN_SEALED_PREFIX, p);
	for (size_t i = 0; i < n; i++)
		c->sealed[p + i] = plaintext[n - 1 - i];
	c->sealed[p + n] = '\0';
	*sealed = c->sealed;
	return 0;
}

static int
fake_unseal(struct oprun_ctx *c, const char *sealed, const char **plaintext)
{
	size_t p = strlen(OPRUN_SEALED_PREFIX), n = strlen(sealed) - p;

	for (size_t i = 0; i < n; i++)
		c->plain[i] = sealed[p + n - 1 - i];
	c->plain[n] = '\0';
	*plaintext = c->plain;
	return 0;
}

static const char *
fake_last_error(struct oprun_ctx *c)
{
	return c->last_error;
}

static struct oprun_host
host_table(void)
{
	struct oprun_host h = { .size = sizeof(h), .abi_major = 1,
		.abi_minor = 2, .graph_request = fake_request,
		.graph_list = fake_list, .graph_batch = fake_batch,
		.seal = fake_seal, .unseal = fake_unseal,
		.last_error = fake_last_error };

	return h;
}

/* A page body: items with ids PREFIX0.. PREFIX(n-1) from first, and a
 * nextLink when next is not NULL. */
static void
page_body(char *out, size_t len, const char *prefix, int first, int n,
    const char *next)
{
	cJSON *root = cJSON_CreateObject(), *v, *item;
	char id[64], *text;

	if (next != NULL)
		cJSON_AddStringToObject(root, "@odata.nextLink", next);
	v = cJSON_AddArrayToObject(root, "value");
	for (int i = first; i < first + n; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "id", id);
		cJSON_AddItemToArray(v, item);
	}
	text = cJSON_PrintUnformatted(root);
	snprintf(out, len, "%s", text);
	cJSON_free(text);
	cJSON_Delete(root);
}

/* ---- the family table -------------------------------------------- */

static void
the_seven_families_are_found_by_name_and_use_beta(void **state)
{
	static const char *const names[] = { "deviceConfigurations",
		"deviceCompliancePolicies", "configurationPolicies",
		"groupPolicyConfigurations", "deviceManagementScripts",
		"assignmentFilters", "roleScopeTags" };
	const struct intune_family *f;

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		f = intune_family_find(names[i]);
		assert_non_null(f);
		assert_ptr_equal(f, &intune_families[i]);
		assert_string_equal(f->version, "beta");
		assert_true(strncmp(f->path, "/deviceManagement/", 18) == 0);
	}
	assert_null(intune_family_find("deviceconfigurations"));
	assert_null(intune_family_find("groups"));
	assert_null(intune_family_find(NULL));
	assert_string_equal(intune_family_find("configurationPolicies")->
	    name_prop, "name");
	assert_string_equal(intune_family_find("deviceConfigurations")->
	    name_prop, "displayName");
	assert_true(intune_family_find("deviceManagementScripts")->flags &
	    INTUNE_F_GET_EACH);
	assert_false(intune_family_find("roleScopeTags")->flags &
	    INTUNE_F_ASSIGNMENTS);
	assert_non_null(intune_family_find("deviceConfigurations")->secret);
	assert_string_equal(intune_family_find("configurationPolicies")->
	    update_method, "PUT");
	assert_string_equal(intune_family_find("deviceManagementScripts")->
	    assign_key, "deviceManagementScriptAssignments");
}

static void
sub_collections_name_settings_definition_values_and_scheduled_actions(
    void **state)
{
	const struct intune_family *gp =
	    intune_family_find("groupPolicyConfigurations");
	const struct intune_family *cp =
	    intune_family_find("configurationPolicies");
	const struct intune_family *dc =
	    intune_family_find("deviceCompliancePolicies");

	(void)state;
	assert_string_equal(cp->subs[0].name, "settings");
	assert_null(cp->subs[1].name);
	assert_string_equal(gp->subs[0].name, "definitionValues");
	assert_string_equal(gp->subs[0].query, "$expand=definition");
	assert_string_equal(gp->subs[0].each->name, "presentationValues");
	assert_string_equal(gp->subs[0].each->query, "$expand=presentation");
	assert_string_equal(dc->subs[0].name, "scheduledActionsForRule");
	assert_string_equal(dc->subs[0].query,
	    "$expand=scheduledActionConfigurations");
	assert_null(intune_family_find("deviceConfigurations")->subs);
}

static void
derived_type_names_and_urls_follow_the_family_rule(void **state)
{
	cJSON *cfg = cJSON_Parse("{\"@odata.type\":\"#microsoft.graph."
	    "windows10CustomConfiguration\",\"displayName\":\"Win\"}");
	cJSON *cat = cJSON_Parse("{\"name\":\"Lock\",\"platforms\":"
	    "\"windows10\",\"technologies\":\"mdm\"}");
	cJSON *bare = cJSON_Parse("{\"displayName\":\"x\"}");
	char out[128];

	(void)state;
	assert_int_equal(intune_object_type(&intune_families[0], cfg, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "#microsoft.graph.windows10CustomConfiguration");
	assert_int_equal(intune_object_type(&intune_families[2], cat, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "windows10|mdm");
	assert_int_equal(intune_object_type(&intune_families[0], bare, out,
	    sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(intune_object_type(&intune_families[5], bare, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "assignmentFilters");
	assert_string_equal(intune_object_name(&intune_families[2], cat),
	    "Lock");
	assert_null(intune_object_name(&intune_families[2], cfg));
	assert_int_equal(intune_family_url(&intune_families[0], "beta", "id1",
	    "/assignments", out, sizeof(out)), 0);
	assert_string_equal(out,
	    "/beta/deviceManagement/deviceConfigurations/id1/assignments");
	assert_int_equal(intune_family_url(&intune_families[6], NULL, NULL,
	    NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "/deviceManagement/roleScopeTags");
	assert_int_equal(intune_family_url(&intune_families[6], NULL, NULL,
	    NULL, out, 10), -1);
	cJSON_Delete(cfg);
	cJSON_Delete(cat);
	cJSON_Delete(bare);
}

/* Strips obj (JSON text) for family name and returns it printed. */
static char *
stripped(const char *family, const char *obj, enum intune_write mode)
{
	cJSON *o = cJSON_Parse(obj);
	char *text;

	assert_non_null(o);
	intune_strip_for_write(intune_family_find(family), o, mode);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static void
strip_on_write_removes_server_owned_members_and_annotations(void **state)
{
	char *t;

	(void)state;
	t = stripped("deviceConfigurations", "{\"@odata.context\":\"c\","
	    "\"@odata.type\":\"#t\",\"id\":\"1\",\"version\":3,"
	    "\"createdDateTime\":\"d\",\"lastModifiedDateTime\":\"d\","
	    "\"supportsScopeTags\":true,\"assignments\":[],\"displayName\":"
	    "\"Win\",\"omaSettings\":[{\"value@odata.type\":\"#Binary\","
	    "\"value\":\"v\",\"isEncrypted\":true,\"secretReferenceValueId\":"
	    "\"r\"}],\"x@odata.navigationLink\":\"n\",\"deviceStatuses\":[]}",
	    INTUNE_WRITE_CREATE);
	assert_string_equal(t, "{\"@odata.type\":\"#t\",\"displayName\":"
	    "\"Win\",\"omaSettings\":[{\"value\":\"v\",\"isEncrypted\":true}]}");
	cJSON_free(t);
	t = stripped("groupPolicyConfigurations", "{\"id\":\"g\","
	    "\"displayName\":\"GP\",\"definitionValues\":[{\"id\":\"d\"}],"
	    "\"policyConfigurationIngestionType\":\"builtIn\",\"v\":{"
	    "\"definition@odata.bind\":\"u\",\"a@odata.context\":\"c\"}}",
	    INTUNE_WRITE_CREATE);
	assert_string_equal(t, "{\"displayName\":\"GP\",\"v\":{"
	    "\"definition@odata.bind\":\"u\"}}");
	cJSON_free(t);
}

static void
strip_on_update_differs_per_family(void **state)
{
	const char *comp = "{\"id\":\"c\",\"displayName\":\"C\","
	    "\"scheduledActionsForRule\":[{\"id\":\"r\",\"ruleName\":\"P\","
	    "\"scheduledActionConfigurations\":[{\"id\":\"a\",\"actionType\":"
	    "\"block\"}]}]}";
	const char *cat = "{\"id\":\"p\",\"name\":\"N\",\"settingCount\":2,"
	    "\"creationSource\":null,\"isAssigned\":true,\"settings\":[{\"id\":"
	    "\"0\",\"settingInstance\":{}}]}";
	char *t;

	(void)state;
	t = stripped("deviceCompliancePolicies", comp, INTUNE_WRITE_CREATE);
	assert_string_equal(t, "{\"displayName\":\"C\","
	    "\"scheduledActionsForRule\":[{\"ruleName\":\"P\","
	    "\"scheduledActionConfigurations\":[{\"actionType\":\"block\"}]}]}");
	cJSON_free(t);
	t = stripped("deviceCompliancePolicies", comp, INTUNE_WRITE_UPDATE);
	assert_string_equal(t, "{\"displayName\":\"C\"}");
	cJSON_free(t);
	/* A settings catalog update is a PUT that carries its settings. */
	t = stripped("configurationPolicies", cat, INTUNE_WRITE_UPDATE);
	assert_string_equal(t, "{\"name\":\"N\",\"settings\":[{"
	    "\"settingInstance\":{}}]}");
	cJSON_free(t);
	t = stripped("assignmentFilters", "{\"id\":\"f\",\"platform\":\"iOS\","
	    "\"rule\":\"r\"}", INTUNE_WRITE_UPDATE);
	assert_string_equal(t, "{\"rule\":\"r\"}");
	cJSON_free(t);
	t = stripped("roleScopeTags", "{\"id\":\"1\",\"isBuiltIn\":false,"
	    "\"displayName\":\"T\"}", INTUNE_WRITE_CREATE);
	assert_string_equal(t, "{\"displayName\":\"T\"}");
	cJSON_free(t);
}

/* ---- paging ------------------------------------------------------- */

static void
the_pager_reads_every_page_one_at_a_time(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	static const char *const hdr[] = { "ConsistencyLevel: eventual",
		NULL };
	struct intune_pager p;
	const cJSON *items;
	char body[4096], err[INTUNE_ERR_MAX];
	int total = 0, pages = 0;

	(void)state;
	page_body(body, sizeof(body), "a", 0, 25, "http://g/beta/x?$skiptoken=1");
	route(c, "/beta/x?$top=25", 200, body, "r1");
	page_body(body, sizeof(body), "a", 25, 25, "http://g/beta/x?$skiptoken=2");
	route(c, "http://g/beta/x?$skiptoken=1", 200, body, "r2");
	page_body(body, sizeof(body), "a", 50, 3, NULL);
	route(c, "http://g/beta/x?$skiptoken=2", 200, body, "r3");
	assert_int_equal(intune_pager_init(&p, &h, c, "/beta/x?$top=25", hdr),
	    0);
	while (intune_pager_next(&p, &items, err, sizeof(err)) == 1) {
		pages++;
		total += cJSON_GetArraySize(items);
		/* Between pages the caller may call Graph itself. */
		assert_int_equal(c->list_calls, pages);
	}
	assert_int_equal(pages, 3);
	assert_int_equal(total, 53);
	assert_int_equal(p.pages, 3);
	assert_int_equal(intune_pager_next(&p, &items, err, sizeof(err)), 0);
	assert_int_equal(c->list_calls, 3);
	assert_string_equal(c->list_urls[1], "http://g/beta/x?$skiptoken=1");
	assert_string_equal(c->list_urls[2], "http://g/beta/x?$skiptoken=2");
	intune_pager_free(&p);
	free_ctx(c);
}

static void
a_failed_page_fails_the_pager_naming_the_page_and_request_id(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	struct intune_pager p;
	const cJSON *items;
	char body[4096], err[INTUNE_ERR_MAX];

	(void)state;
	page_body(body, sizeof(body), "a", 0, 2, "http://g/next");
	route(c, "/beta/x", 200, body, "r1");
	intune_pager_init(&p, &h, c, "/beta/x", NULL);
	assert_int_equal(intune_pager_next(&p, &items, err, sizeof(err)), 1);
	assert_int_equal(intune_pager_next(&p, &items, err, sizeof(err)), -1);
	assert_null(items);
	assert_non_null(strstr(err, "page 2: "));
	assert_non_null(strstr(err, "request-id rid-fail"));
	/* Failed for good: never taken for the end of the list. */
	assert_int_equal(intune_pager_next(&p, &items, err, sizeof(err)), 0);
	intune_pager_free(&p);
	free_ctx(c);
}

static void
list_all_gathers_every_page_within_its_bound(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	cJSON *dest = cJSON_CreateArray();
	char body[4096], err[INTUNE_ERR_MAX];

	(void)state;
	page_body(body, sizeof(body), "s", 0, 25, "http://g/p2");
	route(c, "/beta/s", 200, body, NULL);
	page_body(body, sizeof(body), "s", 25, 5, NULL);
	route(c, "http://g/p2", 200, body, NULL);
	assert_int_equal(intune_list_all(&h, c, "/beta/s", NULL, dest, 1000,
	    err, sizeof(err)), 0);
	assert_int_equal(cJSON_GetArraySize(dest), 30);
	assert_string_equal(intune_json_str(cJSON_GetArrayItem(dest, 29), "id"),
	    "s29");
	cJSON_Delete(dest);
	dest = cJSON_CreateArray();
	assert_int_equal(intune_list_all(&h, c, "/beta/s", NULL, dest, 26,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 26 items"));
	cJSON_Delete(dest);
	free_ctx(c);
}

/* ---- $batch ------------------------------------------------------- */

struct got {
	int calls;
	long status;
	char body_id[64];
	char error[INTUNE_ERR_MAX];
};

static void
on_answer(void *arg, const struct intune_answer *a)
{
	struct got *g = arg;

	g->calls++;
	g->status = a->status;
	snprintf(g->body_id, sizeof(g->body_id), "%s",
	    intune_json_str(a->body, "id") != NULL ?
	    intune_json_str(a->body, "id") : "");
	snprintf(g->error, sizeof(g->error), "%s", a->error);
}

static void
on_list(void *arg, const char *error)
{
	struct got *g = arg;

	g->calls++;
	snprintf(g->error, sizeof(g->error), "%s", error);
}

static void
a_batch_of_45_gets_is_sent_as_20_20_and_5(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	struct intune_batch *b = intune_batch_new(&h, c, "beta");
	struct got got[45];
	char url[64], full[80], body[64];

	(void)state;
	memset(got, 0, sizeof(got));
	for (int i = 0; i < 45; i++) {
		snprintf(url, sizeof(url), "/deviceManagement/o/%d", i);
		snprintf(full, sizeof(full), "/beta%s", url);
		snprintf(body, sizeof(body), "{\"id\":\"o%d\"}", i);
		route(c, full, 200, body, NULL);
		assert_int_equal(intune_batch_get(b, url, on_answer, &got[i]),
		    0);
	}
	assert_int_equal(c->batch_calls, 0);
	assert_int_equal(intune_batch_run(b), 3);
	assert_int_equal(c->batch_calls, 3);
	assert_int_equal(c->batch_sizes[0], 20);
	assert_int_equal(c->batch_sizes[1], 20);
	assert_int_equal(c->batch_sizes[2], 5);
	for (int i = 0; i < 45; i++) {
		snprintf(body, sizeof(body), "o%d", i);
		assert_int_equal(got[i].calls, 1);
		assert_int_equal(got[i].status, 200);
		assert_string_equal(got[i].body_id, body);
		assert_string_equal(got[i].error, "");
	}
	/* Relative URLs, without the version. */
	assert_string_equal(c->batch_urls[44], "/deviceManagement/o/44");
	assert_int_equal(intune_batch_run(b), 0);
	intune_batch_free(b);
	free_ctx(c);
}

static void
failed_batch_items_carry_graphs_message_and_request_id(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	struct intune_batch *b = intune_batch_new(&h, c, "beta");
	struct got ok = { 0 }, busy = { 0 }, nested = { 0 }, throttled = { 0 },
	    missing = { 0 };

	(void)state;
	route(c, "/beta/a", 200, "{\"id\":\"a\"}", "rid-a");
	route(c, "/beta/b", 503, "{\"error\":{\"code\":\"ServiceUnavailable\","
	    "\"message\":\"Service is busy\"}}", "rid-b");
	route(c, "/beta/c", 400, "{\"error\":{\"code\":\"BadRequest\","
	    "\"message\":\"{\\\"_version\\\":3,\\\"Message\\\":\\\"Invalid "
	    "filter - Operation ID: x\\\"}\",\"innerError\":{\"request-id\":"
	    "\"rid-inner\"}}}", NULL);
	route(c, "/beta/d", 0, "still throttled after 5 retries", NULL);
	intune_batch_get(b, "/a", on_answer, &ok);
	intune_batch_get(b, "/b", on_answer, &busy);
	intune_batch_get(b, "/c", on_answer, &nested);
	intune_batch_get(b, "/d", on_answer, &throttled);
	intune_batch_get(b, "/e", on_answer, &missing);
	assert_int_equal(intune_batch_run(b), 1);
	assert_string_equal(ok.error, "");
	assert_string_equal(busy.error, "GET /beta/b: HTTP 503 "
	    "ServiceUnavailable: Service is busy (request-id rid-b)");
	assert_int_equal(busy.status, 503);
	/* The header's request-id wins; rid-none is what the fake sends. */
	assert_string_equal(nested.error, "GET /beta/c: HTTP 400 BadRequest: "
	    "Invalid filter - Operation ID: x (request-id rid-none)");
	assert_string_equal(throttled.error, "GET /beta/d: still throttled "
	    "after 5 retries");
	assert_int_equal(throttled.status, 429);
	assert_non_null(strstr(missing.error, "HTTP 404 ResourceNotFound"));
	intune_batch_free(b);
	free_ctx(c);
}

static void
a_failed_batch_fails_each_of_its_items_with_the_reason(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	struct intune_batch *b = intune_batch_new(&h, c, "beta");
	struct got g[25];

	(void)state;
	memset(g, 0, sizeof(g));
	route(c, "/beta/x", 200, "{\"id\":\"x\"}", NULL);
	for (int i = 0; i < 25; i++)
		intune_batch_get(b, "/x", on_answer, &g[i]);
	c->batch_fails = 1;
	assert_int_equal(intune_batch_run(b), 2);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_non_null(strstr(g[i].error, "the $batch failed: POST "
		    "/beta/$batch: HTTP 502 BadGateway"));
		assert_non_null(strstr(g[i].error, "rid-batch"));
	}
	/* The next batch went out and came back. */
	assert_string_equal(g[24].error, "");
	assert_int_equal(g[24].calls, 1);
	intune_batch_free(b);
	free_ctx(c);
}

static void
a_batched_list_follows_its_next_links_in_later_batches_in_order(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	struct intune_batch *b = intune_batch_new(&h, c, "beta");
	cJSON *dest = cJSON_CreateArray(), *other = cJSON_CreateArray();
	cJSON *odd = cJSON_CreateArray();
	struct got g = { 0 }, bad = { 0 }, weird = { 0 };
	char body[4096];

	(void)state;
	page_body(body, sizeof(body), "as", 0, 25, "http://g/beta/p/as?s=2");
	route(c, "/beta/p/assignments", 200, body, NULL);
	page_body(body, sizeof(body), "as", 25, 25, "http://g/beta/p/as?s=3");
	route(c, "/beta/p/as?s=2", 200, body, NULL);
	page_body(body, sizeof(body), "as", 50, 1, NULL);
	route(c, "/beta/p/as?s=3", 200, body, NULL);
	/* A nextLink not under /beta is read with graph_list. */
	page_body(body, sizeof(body), "q", 0, 2, "http://g/elsewhere/x");
	route(c, "/beta/q/settings", 200, body, NULL);
	route(c, "/beta/r/settings", 200, "{\"value\":[],\"@odata.nextLink\":"
	    "42}", "rid-r");
	intune_batch_list(b, "/p/assignments", dest, 1000, on_list, &g);
	intune_batch_list(b, "/q/settings", other, 1000, on_list, &bad);
	intune_batch_list(b, "/r/settings", odd, 1000, on_list, &weird);
	assert_int_equal(intune_batch_run(b), 3);
	assert_int_equal(c->batch_sizes[0], 3);
	assert_int_equal(c->batch_sizes[1], 1);
	assert_int_equal(c->batch_items, 5);
	assert_string_equal(c->batch_urls[3], "/p/as?s=2");
	assert_int_equal(g.calls, 1);
	assert_string_equal(g.error, "");
	assert_int_equal(cJSON_GetArraySize(dest), 51);
	for (int i = 0; i < 51; i++) {
		snprintf(body, sizeof(body), "as%d", i);
		assert_string_equal(intune_json_str(cJSON_GetArrayItem(dest,
		    i), "id"), body);
	}
	/* A later page that fails fails the list, never a short one. */
	assert_string_equal(c->list_urls[0], "http://g/elsewhere/x");
	assert_int_equal(bad.calls, 1);
	assert_non_null(strstr(bad.error, "request-id rid-fail"));
	assert_int_equal(weird.calls, 1);
	assert_non_null(strstr(weird.error, "GET /beta/r/settings: answered "
	    "HTTP 200 with an @odata.nextLink that is not a string"));
	cJSON_Delete(dest);
	cJSON_Delete(other);
	cJSON_Delete(odd);
	intune_batch_free(b);
	free_ctx(c);
}

static void
pump_sends_only_full_batches(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	struct intune_batch *b = intune_batch_new(&h, c, "beta");
	struct got g[45];

	(void)state;
	memset(g, 0, sizeof(g));
	route(c, "/beta/x", 200, "{\"id\":\"x\"}", NULL);
	for (int i = 0; i < 45; i++)
		intune_batch_get(b, "/x", on_answer, &g[i]);
	assert_int_equal(intune_batch_pump(b), 2);
	assert_int_equal(intune_batch_queued(b), 5);
	assert_int_equal(g[39].calls, 1);
	assert_int_equal(g[40].calls, 0);
	assert_int_equal(intune_batch_pump(b), 0);
	assert_int_equal(intune_batch_run(b), 1);
	assert_int_equal(intune_batch_queued(b), 0);
	assert_int_equal(g[44].calls, 1);
	/* What is still queued is dropped with the queue. */
	intune_batch_get(b, "/x", on_answer, &g[0]);
	intune_batch_free(b);
	assert_int_equal(g[0].calls, 1);
	free_ctx(c);
}

struct chain {
	struct intune_batch *b;
	struct got first, second[30];
};

/* Queues 30 more requests from inside a callback. */
static void
queue_more(void *arg, const struct intune_answer *a)
{
	struct chain *ch = arg;

	on_answer(&ch->first, a);
	for (int i = 0; i < 30; i++)
		intune_batch_get(ch->b, "/x", on_answer, &ch->second[i]);
}

static void
requests_queued_by_a_callback_go_in_later_batches(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	struct chain ch;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	ch.b = intune_batch_new(&h, c, "v1.0");
	route(c, "/v1.0/x", 200, "{\"id\":\"x\"}", NULL);
	intune_batch_get(ch.b, "/x", queue_more, &ch);
	assert_int_equal(intune_batch_run(ch.b), 3);
	assert_int_equal(c->batch_sizes[0], 1);
	assert_int_equal(c->batch_sizes[1], 20);
	assert_int_equal(c->batch_sizes[2], 10);
	for (int i = 0; i < 30; i++)
		assert_int_equal(ch.second[i].calls, 1);
	intune_batch_free(ch.b);
	free_ctx(c);
}

/* ---- sealed values ------------------------------------------------ */

#define DECRYPT "/beta/deviceManagement/deviceConfigurations/p1/" \
	"getOmaSettingPlainTextValue(secretReferenceValueId='ref-1')"

static const char oma_object[] = "{\"id\":\"p1\",\"omaSettings\":["
    "{\"displayName\":\"Plain\",\"value\":0},"
    "{\"displayName\":\"WiFiKey\",\"value\":\"********\","
    "\"isEncrypted\":true,\"secretReferenceValueId\":\"ref-1\"}]}";

static void
an_encrypted_oma_value_is_fetched_sealed_and_stored_sealed_only(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	const struct intune_family *f = intune_family_find(
	    "deviceConfigurations");
	cJSON *o = cJSON_Parse(oma_object);
	char err[INTUNE_ERR_MAX] = "", *text;

	(void)state;
	route(c, DECRYPT, 200, "{\"@odata.context\":\"x\",\"value\":\"" PLAIN
	    "\"}", "rid-d");
	assert_int_equal(intune_seal_secrets(&h, c, f, "p1", o, err,
	    sizeof(err)), 1);
	assert_int_equal(c->seal_calls, 1);
	assert_string_equal(c->plain, PLAIN);
	text = cJSON_PrintUnformatted(o);
	assert_null(strstr(text, PLAIN));
	assert_null(strstr(text, "********"));
	assert_non_null(strstr(text, "\"value\":\"" OPRUN_SEALED_PREFIX
	    "yek-ifiw-amo-osotnoc\""));
	assert_non_null(strstr(text, "\"secretReferenceValueId\":\"ref-1\""));
	cJSON_free(text);
	/* And back, for a restore: then wiped before it is freed. */
	assert_int_equal(intune_unseal_secrets(&h, c, f, o, err,
	    sizeof(err)), 1);
	text = cJSON_PrintUnformatted(o);
	assert_non_null(strstr(text, "\"value\":\"" PLAIN "\""));
	cJSON_free(text);
	intune_wipe_secrets(f, o);
	text = cJSON_PrintUnformatted(o);
	assert_null(strstr(text, PLAIN));
	cJSON_free(text);
	cJSON_Delete(o);
	free_ctx(c);
}

static void
a_secret_that_cannot_be_sealed_fails_without_its_value(void **state)
{
	struct oprun_ctx *c = new_ctx();
	struct oprun_host h = host_table();
	const struct intune_family *f = intune_family_find(
	    "deviceConfigurations");
	cJSON *o = cJSON_Parse(oma_object);
	char err[INTUNE_ERR_MAX] = "";

	(void)state;
	route(c, DECRYPT, 200, "{\"value\":\"" PLAIN "\"}", "rid-d");
	c->seal_fails = 1;
	assert_int_equal(intune_seal_secrets(&h, c, f, "p1", o, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "sealing setting 'WiFiKey' failed: seal: no "
	    "key");
	assert_null(strstr(err, PLAIN));
	/* A host without seal: the object fails before anything is read. */
	h.seal = NULL;
	assert_int_equal(intune_seal_secrets(&h, c, f, "p1", o, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot seal"));
	assert_int_equal(c->seal_calls, 1);
	/* A decrypt that fails says so with Graph's words. */
	h.seal = fake_seal;
	c->seal_fails = 0;
	c->nroutes = 0;
	route(c, DECRYPT, 500, "", "rid-500");
	assert_int_equal(intune_seal_secrets(&h, c, f, "p1", o, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "decrypting setting 'WiFiKey': HTTP 500 "
	    "InternalServerError: boom (request-id rid-500)");
	cJSON_Delete(o);
	free_ctx(c);
}

/* ---- helpers ------------------------------------------------------ */

static void
graph_errors_read_like_the_hosts(void **state)
{
	cJSON *b = cJSON_Parse("{\"error\":{\"code\":\"Forbidden\",\"message\":"
	    "\"{\\\"_version\\\":3,\\\"Message\\\":\\\"Application is not "
	    "authorized\\\"}\",\"innerError\":{\"request-id\":\"r-1\"}}}");
	char out[256];

	(void)state;
	intune_graph_error(403, b, NULL, out, sizeof(out));
	assert_string_equal(out, "HTTP 403 Forbidden: Application is not "
	    "authorized (request-id r-1)");
	intune_graph_error(500, NULL, "", out, sizeof(out));
	assert_string_equal(out, "HTTP 500 error: no message (no request-id)");
	cJSON_Delete(b);
}

static void
host_checks_times_and_outcomes(void **state)
{
	struct oprun_host h = host_table();
	char err[256], when[32];

	(void)state;
	assert_int_equal(intune_host_check(&h, INTUNE_NEED_GRAPH, err,
	    sizeof(err)), 0);
	assert_int_equal(intune_host_check(&h, INTUNE_NEED_DOCS, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "this oprun host lacks doc_put (plugin ABI "
	    "1.2); upgrade oprun");
	h.size = offsetof(struct oprun_host, doc_put);
	h.graph_batch = NULL;
	assert_int_equal(intune_host_check(&h, INTUNE_NEED_GRAPH, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "graph_batch (plugin ABI 1.1)"));
	intune_rfc3339(1796024372952, when, sizeof(when));
	assert_string_equal(when, "2026-11-30T07:39:32.952Z");
	assert_int_equal(intune_outcome(3, 0), OPRUN_OK);
	assert_int_equal(intune_outcome(3, 1), OPRUN_PARTIAL);
	assert_int_equal(intune_outcome(0, 1), OPRUN_FAILED);
	assert_int_equal(intune_outcome(0, 0), OPRUN_OK);
	assert_true(intune_safe_id("f7e8e6ad-a256-5ecf-a2e8-c01e954081bd"));
	assert_true(intune_safe_id("0"));
	assert_false(intune_safe_id(".."));
	assert_false(intune_safe_id("a/b"));
	assert_false(intune_safe_id(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    the_seven_families_are_found_by_name_and_use_beta),
		cmocka_unit_test(
		    sub_collections_name_settings_definition_values_and_scheduled_actions),
		cmocka_unit_test(
		    derived_type_names_and_urls_follow_the_family_rule),
		cmocka_unit_test(
		    strip_on_write_removes_server_owned_members_and_annotations),
		cmocka_unit_test(strip_on_update_differs_per_family),
		cmocka_unit_test(the_pager_reads_every_page_one_at_a_time),
		cmocka_unit_test(
		    a_failed_page_fails_the_pager_naming_the_page_and_request_id),
		cmocka_unit_test(list_all_gathers_every_page_within_its_bound),
		cmocka_unit_test(a_batch_of_45_gets_is_sent_as_20_20_and_5),
		cmocka_unit_test(
		    failed_batch_items_carry_graphs_message_and_request_id),
		cmocka_unit_test(
		    a_failed_batch_fails_each_of_its_items_with_the_reason),
		cmocka_unit_test(
		    a_batched_list_follows_its_next_links_in_later_batches_in_order),
		cmocka_unit_test(pump_sends_only_full_batches),
		cmocka_unit_test(
		    requests_queued_by_a_callback_go_in_later_batches),
		cmocka_unit_test(
		    an_encrypted_oma_value_is_fetched_sealed_and_stored_sealed_only),
		cmocka_unit_test(
		    a_secret_that_cannot_be_sealed_fails_without_its_value),
		cmocka_unit_test(graph_errors_read_like_the_hosts),
		cmocka_unit_test(host_checks_times_and_outcomes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
