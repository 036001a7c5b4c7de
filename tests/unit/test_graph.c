/* The Graph client (graph.h) against a tiny scripted HTTP server in a
 * child process: malformed 2xx answers fail graph_list, graph_request
 * and graph_batch with one line naming the URL (without secrets) and
 * the request id, and are never taken for a short list.  The fake Graph
 * server (tests/e2e/graph.bats) covers the common shapes; these are the
 * byte-level ones it cannot send (trailing bytes, NUL bytes, no
 * Content-Type, a null nextLink, no request-id). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "graph.h"
#include "testutil.h"
#include "util.h"

/* One scripted answer: for METHOD (NULL: any) and the exact request
 * target (path and query). */
struct route {
	const char *method, *target;
	int status;
	const char *ctype;	/* NULL: no Content-Type */
	const char *body;
	size_t len;		/* 0: strlen(body) */
	int ids;		/* 0: request-id and the client-request-id
				 * echoed; 1: only the echo; 2: neither */
};

#define TOKEN_ROUTE { "POST", "/unit.onmicrosoft.com/oauth2/v2.0/token", 200, \
	"application/json; charset=utf-8", "{\"access_token\":\"unit-token\"," \
	"\"token_type\":\"Bearer\",\"expires_in\":3599}", 0, 0 }
#define END_ROUTE { NULL, NULL, 0, NULL, NULL, 0, 0 }
#define JSON "application/json;odata.metadata=minimal"

struct fixture {
	char dir[PATH_MAX];
	int fd;
	unsigned port;
	pid_t child;
	struct config cfg;
	struct graph_client *gc;
	struct graph_call call;
	struct graph_response resp;
	int pages;
};

/* The value of header name in the request head, or "". */
static void
request_header(const char *head, const char *name, char *out, size_t len)
{
	const char *p = head;
	size_t n = strlen(name), k;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			k = strcspn(p, "\r\n");
			snprintf(out, len, "%.*s", (int)k, p);
			return;
		}
	}
}

/* Answers one request on connection c from the script. */
static void
serve_one(int c, const struct route *routes, unsigned seq)
{
	char head[65536], method[16], target[8192], crid[128], cl[32];
	char line[1024];
	const struct route *r;
	size_t n = 0, want;
	ssize_t got;
	char *end;
	int hl;

	while ((end = strstr(head, "\r\n\r\n")) == NULL || n == 0) {
		if (n + 1 >= sizeof(head) || (got = read(c, head + n,
		    sizeof(head) - n - 1)) <= 0)
			return;
		n += (size_t)got;
		head[n] = '\0';
	}
	request_header(head, "Content-Length", cl, sizeof(cl));
	want = (size_t)(end + 4 - head) + strtoul(cl, NULL, 10);
	while (n < want && n + 1 < sizeof(head) && (got = read(c, head + n,
	    sizeof(head) - n - 1)) > 0)
		n += (size_t)got;
	if (sscanf(head, "%15s %8191s", method, target) != 2)
		return;
	request_header(head, "client-request-id", crid, sizeof(crid));
	for (r = routes; r->target != NULL; r++)
		if ((r->method == NULL || strcmp(r->method, method) == 0) &&
		    strcmp(r->target, target) == 0)
			break;
	if (r->target == NULL) {
		dprintf(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		return;
	}
	want = r->len != 0 ? r->len : strlen(r->body);
	hl = snprintf(line, sizeof(line), "HTTP/1.1 %d X\r\nContent-Length: "
	    "%zu\r\nConnection: close\r\n", r->status, want);
	if (r->ids == 0)
		hl += snprintf(line + hl, sizeof(line) - (size_t)hl,
		    "request-id: rid-%u\r\n", seq);
	if (r->ids < 2 && crid[0] != '\0')
		hl += snprintf(line + hl, sizeof(line) - (size_t)hl,
		    "client-request-id: %s\r\n", crid);
	if (r->ctype != NULL)
		hl += snprintf(line + hl, sizeof(line) - (size_t)hl,
		    "Content-Type: %s\r\n", r->ctype);
	hl += snprintf(line + hl, sizeof(line) - (size_t)hl, "\r\n");
	if (write(c, line, (size_t)hl) != hl || write(c, r->body, want) < 0)
		return;
}

/* Forks the server for routes; request-ids count rid-1, rid-2, ... */
static void
serve(struct fixture *f, const struct route *routes)
{
	unsigned seq = 0;
	int c;

	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child > 0)
		return;
	for (;;) {
		if ((c = accept(f->fd, NULL, NULL)) < 0)
			_exit(1);
		serve_one(c, routes, ++seq);
		close(c);
	}
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char path[PATH_MAX + 32], ini[PATH_MAX + 1024], err[256];
	struct diag diag = { 0 };

	assert_non_null(f);
	tu_mkdtemp(f->dir, sizeof(f->dir), "oprun-graph");
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->fd, 16), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	snprintf(path, sizeof(path), "%s/secret", f->dir);
	tu_write_file(path, "unit-secret\n");
	assert_int_equal(chmod(path, 0600), 0);
	/* userinfo in base_url: a message must never show it. */
	snprintf(ini, sizeof(ini), "[store]\npath = store\n"
	    "[graph]\nbase_url = http://user:PASSWORD-SECRET@127.0.0.1:%u\n"
	    "login_url = http://127.0.0.1:%u\nmax_retries = 0\n"
	    "timeout_s = 10\n"
	    "[tenant contoso]\ntenant_id = unit.onmicrosoft.com\n"
	    "client_id = 11111111-2222-3333-4444-555555555555\n"
	    "client_secret_file = %s\n", f->port, f->port, path);
	snprintf(path, sizeof(path), "%s/oprun.ini", f->dir);
	tu_write_file(path, ini);
	if (config_load(path, &f->cfg, &diag) != 0)
		fail_msg("config_load: %s", diag.n > 0 ? diag.lines[0] : "?");
	diag_free(&diag);
	assert_int_equal(graph_client_open(&f->gc, &f->cfg, err, sizeof(err)),
	    0);
	f->call.tenant = "contoso";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	close(f->fd);
	graph_response_free(&f->resp);
	graph_client_close(f->gc);
	config_free(&f->cfg);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static int
count_page(void *arg, const char *json)
{
	struct fixture *f = arg;

	(void)json;
	f->pages++;
	return 0;
}

static int
list(struct fixture *f, const char *path)
{
	return graph_list(f->gc, &f->call, path, NULL, count_page, f, &f->resp);
}

#define assert_has(text, part) do {					\
	if (strstr((text), (part)) == NULL)				\
		fail_msg("\"%s\" lacks \"%s\"", (text), (part));	\
} while (0)

#define assert_lacks(text, part) do {					\
	if (strstr((text), (part)) != NULL)				\
		fail_msg("\"%s\" has \"%s\"", (text), (part));		\
} while (0)

static void
list_reads_every_page(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, "application/json; charset=utf-8",
		  "{\"value\":[1],\"@odata.nextLink\":\"/v1.0/groups?p=2\"}",
		  0, 0 },
		{ "GET", "/v1.0/groups?p=2", 200,
		  "Application/JSON;odata.metadata=minimal",
		  " {\"value\":[2]}\r\n", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), 0);
	assert_int_equal(f->pages, 2);
	assert_string_equal(f->resp.error, "");
}

/* cJSON_Parse alone stops at the end of the first value. */
static void
list_fails_on_bytes_after_the_json(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, JSON,
		  "{\"value\":[]}<html>proxy</html>", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;
	char want[512];

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), -1);
	assert_int_equal(f->pages, 0);
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%u/v1.0/groups: "
	    "page 1 answered HTTP 200 but its body is not valid JSON (cut "
	    "short or garbled) (request-id rid-2); the list was not completed "
	    "(0 pages read)", f->port);
	assert_string_equal(f->resp.error, want);
}

static void
list_fails_on_a_nul_byte(void **state)
{
	static const char body[] = "{\"value\":[]}\0{\"value\":[1]}";
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, JSON, body, sizeof(body) - 1, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), -1);
	assert_has(f->resp.error, "its body is not valid JSON");
}

static void
list_fails_on_a_null_next_link(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, JSON,
		  "{\"value\":[1],\"@odata.nextLink\":null}", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), -1);
	assert_int_equal(f->pages, 0);
	assert_has(f->resp.error, "its \"@odata.nextLink\" is null, not a "
	    "string");
}

static void
list_fails_on_a_page_that_is_not_an_object(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, JSON, "[{\"id\":\"1\"}]", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), -1);
	assert_has(f->resp.error, "its body is an array, not a JSON object");
}

static void
list_fails_on_a_page_without_content_type(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, NULL, "{\"value\":[]}", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), -1);
	assert_has(f->resp.error, "it has no Content-Type (JSON expected)");
}

/* Paging tokens, secret-looking query values and userinfo never reach a
 * message; the rest of the URL does. */
static void
list_message_hides_secrets(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, JSON, "{\"value\":[1],"
		  "\"@odata.nextLink\":\"/v1.0/groups?$skiptoken=SKIP-SECRET"
		  "&$top=2&code=CODE-SECRET&sig=SIG-SECRET&keep=visible\"}",
		  0, 0 },
		{ "GET", "/v1.0/groups?$skiptoken=SKIP-SECRET&$top=2&"
		  "code=CODE-SECRET&sig=SIG-SECRET&keep=visible", 200,
		  "text/html", "<html></html>", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;
	char want[512];

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), -1);
	assert_int_equal(f->pages, 1);
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%u/v1.0/groups?"
	    "$skiptoken=<redacted>&$top=2&code=<redacted>&sig=<redacted>&"
	    "keep=visible: page 2 answered HTTP 200 but its Content-Type is "
	    "text/html, not JSON (request-id rid-3); the list was not "
	    "completed (1 page read)", f->port);
	assert_string_equal(f->resp.error, want);
	assert_lacks(f->resp.error, "SECRET");
}

/* Without Graph's request-id the message names the client-request-id,
 * echoed or as sent. */
static void
list_message_names_the_client_request_id(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups", 200, "text/html", "x", 0, 1 },
		{ "GET", "/v1.0/users", 200, "text/html", "x", 0, 2 },
		END_ROUTE };
	static const char prefix[] = "(no request-id; client-request-id ";
	struct fixture *f = *state;
	char *p;

	serve(f, r);
	assert_int_equal(list(f, "/v1.0/groups"), -1);
	assert_non_null(p = strstr(f->resp.error, prefix));
	/* A GUID the client made: 8-4-4-4-12 hex digits, then ")". */
	p += sizeof(prefix) - 1;
	assert_int_equal(strspn(p, "0123456789abcdef-"), 36);
	assert_int_equal(p[36], ')');
	graph_response_free(&f->resp);
	assert_int_equal(list(f, "/v1.0/users"), -1);
	assert_has(f->resp.error, "(no request-id; client-request-id ");
}

static void
request_fails_on_json_cut_short_only(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "GET", "/v1.0/groups/1", 200, JSON, "{\"id\":\"1\",\"disp",
		  0, 0 },
		{ "GET", "/v1.0/groups/$count", 200, "text/plain", "12", 0, 0 },
		{ "DELETE", "/v1.0/groups/1", 204, NULL, "", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;
	char want[512];

	serve(f, r);
	assert_int_equal(graph_request(f->gc, &f->call, "GET",
	    "/v1.0/groups/1", NULL, NULL, &f->resp), -1);
	assert_int_equal(f->resp.status, 200);
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%u/v1.0/groups/1: "
	    "answered HTTP 200 but its body is not valid JSON (cut short or "
	    "garbled) (request-id rid-2); the answer was not used", f->port);
	assert_string_equal(f->resp.error, want);
	graph_response_free(&f->resp);
	/* Text that does not claim to be JSON, and no body, are answers. */
	assert_int_equal(graph_request(f->gc, &f->call, "GET",
	    "/v1.0/groups/$count", NULL, NULL, &f->resp), 0);
	assert_string_equal(f->resp.body, "12");
	graph_response_free(&f->resp);
	assert_int_equal(graph_request(f->gc, &f->call, "DELETE",
	    "/v1.0/groups/1", NULL, NULL, &f->resp), 0);
	assert_int_equal(f->resp.status, 204);
}

static const char batch_requests[] = "[{\"id\":\"a\",\"method\":\"GET\","
	"\"url\":\"/groups\"},{\"id\":\"b\",\"method\":\"GET\","
	"\"url\":\"/groups?$skiptoken=B-SECRET\"}]";

static int
batch(struct fixture *f)
{
	return graph_batch(f->gc, &f->call, "v1.0", batch_requests, &f->resp);
}

static void
batch_fails_on_a_request_answered_twice(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "POST", "/v1.0/$batch", 200, JSON, "{\"responses\":["
		  "{\"id\":\"a\",\"status\":200},{\"id\":\"a\",\"status\":200}]}",
		  0, 0 },
		END_ROUTE };
	struct fixture *f = *state;
	char want[512];

	serve(f, r);
	assert_int_equal(batch(f), -1);
	snprintf(want, sizeof(want), "POST http://127.0.0.1:%u/v1.0/$batch: "
	    "the $batch answered HTTP 200 but it answers request \"a\" twice "
	    "(request-id rid-2); the batch was not completed (its items may "
	    "have run)", f->port);
	assert_string_equal(f->resp.error, want);
}

static void
batch_fails_on_a_status_that_is_not_http(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "POST", "/v1.0/$batch", 200, JSON, "{\"responses\":["
		  "{\"id\":\"b\",\"status\":42},{\"id\":\"a\",\"status\":200}]}",
		  0, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(batch(f), -1);
	assert_has(f->resp.error, "its response \"b\" has status 42, not an "
	    "HTTP status");
}

static void
batch_fails_on_responses_that_are_not_an_array(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "POST", "/v1.0/$batch", 200, JSON,
		  "{\"responses\":{\"id\":\"a\"}}", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(batch(f), -1);
	assert_has(f->resp.error, "its \"responses\" is an object, not an "
	    "array");
}

static void
batch_fails_on_a_2xx_that_is_not_200(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "POST", "/v1.0/$batch", 204, NULL, "", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;

	serve(f, r);
	assert_int_equal(batch(f), -1);
	assert_has(f->resp.error, "the $batch answered HTTP 204 but a $batch "
	    "is answered with 200 (request-id rid-2)");
}

/* A missing item and a cut-short item body fail those items only, with
 * status 0 and a message without the item URL's secrets. */
static void
batch_fails_only_the_items_without_a_usable_answer(void **state)
{
	static const struct route r[] = { TOKEN_ROUTE,
		{ "POST", "/v1.0/$batch", 200, JSON, "{\"responses\":[{\"id\":"
		  "\"b\",\"status\":200,\"headers\":{\"content-type\":"
		  "\"application/json\",\"Request-Id\":\"item-b\"},"
		  "\"body\":\"{\\\"value\\\":[\"}]}", 0, 0 },
		END_ROUTE };
	struct fixture *f = *state;
	cJSON *answers;
	const cJSON *a, *b;

	serve(f, r);
	assert_int_equal(batch(f), 0);
	answers = cJSON_Parse(f->resp.body);
	a = cJSON_GetArrayItem(answers, 0);
	b = cJSON_GetArrayItem(answers, 1);
	assert_string_equal(cJSON_GetObjectItem(a, "id")->valuestring, "a");
	assert_int_equal(cJSON_GetObjectItem(a, "status")->valueint, 0);
	assert_has(cJSON_GetObjectItem(a, "error")->valuestring,
	    "the $batch answer (HTTP 200) has no response for item \"a\" "
	    "(GET /v1.0/groups) (request-id rid-2); the item was not "
	    "completed and was not sent again (it may have run)");
	assert_int_equal(cJSON_GetObjectItem(b, "status")->valueint, 0);
	assert_has(cJSON_GetObjectItem(b, "error")->valuestring,
	    "item \"b\" (GET /v1.0/groups?$skiptoken=<redacted>) answered "
	    "HTTP 200 but its body is not valid JSON (cut short or garbled) "
	    "(request-id item-b); the item was not completed");
	assert_lacks(cJSON_GetObjectItem(a, "error")->valuestring, "SECRET");
	assert_lacks(cJSON_GetObjectItem(b, "error")->valuestring, "SECRET");
	cJSON_Delete(answers);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(list_reads_every_page,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list_fails_on_bytes_after_the_json, setup, teardown),
		cmocka_unit_test_setup_teardown(list_fails_on_a_nul_byte,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(list_fails_on_a_null_next_link,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list_fails_on_a_page_that_is_not_an_object, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    list_fails_on_a_page_without_content_type, setup, teardown),
		cmocka_unit_test_setup_teardown(list_message_hides_secrets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list_message_names_the_client_request_id, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    request_fails_on_json_cut_short_only, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    batch_fails_on_a_request_answered_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    batch_fails_on_a_status_that_is_not_http, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    batch_fails_on_responses_that_are_not_an_array, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    batch_fails_on_a_2xx_that_is_not_200, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    batch_fails_only_the_items_without_a_usable_answer, setup,
		    teardown),
	};

	/* A server child that died must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
