#define _DEFAULT_SOURCE /* explicit_bzero */
#include "graph.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/rand.h>

#include "run.h"
#include "util.h"

#define MAX_BODY	(32 * 1024 * 1024)	/* one Graph response */
#define MAX_SECRET	4096
#define MAX_TOKENS	64			/* tenants with a cached token */
#define TOKEN_MARGIN_MS	(5 * 60 * 1000)		/* renew this long before expiry */
#define BACKOFF_MAX_MS	(32 * 1000)
#define GRAPH_SCOPE	"https://graph.microsoft.com/.default"
#define URL_SHOWN	200	/* bytes of a URL quoted in a message */

struct token {
	char tenant[RUN_MAX_NAME + 1];
	char *value;		/* wiped when replaced */
	int64_t renew_at_ms;	/* monotonic */
};

struct graph_client {
	const struct config *cfg;
	CURL *curl;
	struct token tokens[MAX_TOKENS];
	size_t ntokens;
};

/* ---- buffers ----------------------------------------------------- */

struct recv {
	struct graph_response *resp;
	char retry_after[128];
	int too_big;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct recv *rv = arg;
	struct graph_response *r = rv->resp;
	size_t len = size * n;

	if (r->body_len + len > MAX_BODY) {
		rv->too_big = 1;
		return 0;
	}
	r->body = xrealloc(r->body, r->body_len + len + 1);
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

/* Copies the value of header `name` if line is that header. */
static void
header_value(const char *line, size_t len, const char *name, char *out,
    size_t outlen)
{
	size_t nl = strlen(name), v;

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 ||
	    line[nl] != ':')
		return;
	for (v = nl + 1; v < len && (line[v] == ' ' || line[v] == '\t'); v++)
		;
	while (len > v && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
	    line[len - 1] == ' '))
		len--;
	snprintf(out, outlen, "%.*s", (int)(len - v), line + v);
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct recv *rv = arg;
	size_t len = size * n;

	/* A new response (after a redirect or 100): forget the last one. */
	if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
		rv->retry_after[0] = '\0';
		rv->resp->request_id[0] = '\0';
		rv->resp->client_request_id[0] = '\0';
		rv->resp->content_type[0] = '\0';
	}
	header_value(line, len, "request-id", rv->resp->request_id,
	    sizeof(rv->resp->request_id));
	header_value(line, len, "client-request-id",
	    rv->resp->client_request_id, sizeof(rv->resp->client_request_id));
	header_value(line, len, "content-type", rv->resp->content_type,
	    sizeof(rv->resp->content_type));
	header_value(line, len, "retry-after", rv->retry_after,
	    sizeof(rv->retry_after));
	return len;
}

void
graph_response_free(struct graph_response *resp)
{
	/* Bodies can hold secrets (a decrypted OMA value, a token answer):
	 * wiped before they go back to the allocator. */
	if (resp->body != NULL)
		explicit_bzero(resp->body, resp->body_len);
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

static void
response_reset(struct graph_response *resp)
{
	graph_response_free(resp);
	resp->status = 0;
	resp->request_id[0] = '\0';
	resp->client_request_id[0] = '\0';
	resp->content_type[0] = '\0';
	resp->error[0] = '\0';
}

/* ---- client ------------------------------------------------------ */

int
graph_client_open(struct graph_client **out, const struct config *cfg,
    char *err, size_t errlen)
{
	static int global_done;
	struct graph_client *gc;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return errf(err, errlen, "libcurl failed to start");
		global_done = 1;
	}
	gc = xcalloc(1, sizeof(*gc));
	gc->cfg = cfg;
	gc->curl = curl_easy_init();
	if (gc->curl == NULL) {
		free(gc);
		return errf(err, errlen, "libcurl: cannot create a handle");
	}
	*out = gc;
	return 0;
}

static void
token_wipe(struct token *t)
{
	if (t->value != NULL) {
		explicit_bzero(t->value, strlen(t->value));
		free(t->value);
		t->value = NULL;
	}
}

void
graph_client_close(struct graph_client *gc)
{
	if (gc == NULL)
		return;
	for (size_t i = 0; i < gc->ntokens; i++)
		token_wipe(&gc->tokens[i]);
	curl_easy_cleanup(gc->curl);
	free(gc);
}

static struct token *
token_slot(struct graph_client *gc, const char *tenant)
{
	for (size_t i = 0; i < gc->ntokens; i++)
		if (strcmp(gc->tokens[i].tenant, tenant) == 0)
			return &gc->tokens[i];
	if (gc->ntokens == MAX_TOKENS) {
		token_wipe(&gc->tokens[0]);
		memmove(gc->tokens, gc->tokens + 1,
		    (MAX_TOKENS - 1) * sizeof(gc->tokens[0]));
		gc->ntokens--;
	}
	memset(&gc->tokens[gc->ntokens], 0, sizeof(gc->tokens[0]));
	snprintf(gc->tokens[gc->ntokens].tenant, sizeof(gc->tokens[0].tenant),
	    "%s", tenant);
	return &gc->tokens[gc->ntokens++];
}

/* ---- one HTTP exchange ------------------------------------------- */

struct exchange {
	const char *method, *url, *body;
	struct curl_slist *headers;
	struct graph_response *resp;
	char retry_after[128];
	char curl_error[CURL_ERROR_SIZE];
};

/* Performs one request; returns the CURLcode. */
static CURLcode
perform(struct graph_client *gc, struct exchange *x)
{
	struct recv rv = { .resp = x->resp };
	CURL *c = gc->curl;
	CURLcode rc;

	response_reset(x->resp);
	curl_easy_reset(c);
	x->curl_error[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, x->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rv);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &rv);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_error);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)gc->cfg->graph_timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (x->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
	} else if (strcmp(x->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	rc = curl_easy_perform(c);
	/* The form body may hold the client secret: forget curl's pointer. */
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->resp->status);
	else if (rv.too_big)
		snprintf(x->curl_error, sizeof(x->curl_error), "response larger "
		    "than %d bytes", MAX_BODY);
	if (x->resp->body == NULL)
		x->resp->body = xcalloc(1, 1);
	snprintf(x->retry_after, sizeof(x->retry_after), "%s", rv.retry_after);
	return rc;
}

/* ---- errors ------------------------------------------------------ */

/* Appends n bytes of p to out (*used bytes so far), cutting at cap. */
static void
add_text(char *out, size_t cap, size_t *used, const char *p, size_t n)
{
	if (*used + n >= cap)
		n = cap - 1 - *used;
	memcpy(out + *used, p, n);
	*used += n;
	out[*used] = '\0';
}

/* Query options whose values may be secrets or paging tokens
 * ($skiptoken, $deltatoken, code, sig, ...): messages never show them. */
static int
secret_option(const char *name, size_t len)
{
	static const char *const words[] = { "token", "secret", "password",
		"passwd", "sig", "key", "code", "assertion", "auth",
		"credential", NULL };
	char lower[64];
	size_t i;

	if (len >= sizeof(lower))
		return 1;
	for (i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[len] = '\0';
	for (i = 0; words[i] != NULL; i++)
		if (strstr(lower, words[i]) != NULL)
			return 1;
	return 0;
}

/* url as a message may show it: without user:password@, a #fragment or
 * the values of secret options, and at most URL_SHOWN bytes of it. */
static void
url_shown(const char *url, char *out, size_t len)
{
	char s[URL_SHOWN + 64];
	const char *p = url, *q = strstr(url, "://"), *host, *end, *c;
	size_t n = 0, k, name;

	s[0] = '\0';
	if (q != NULL && (size_t)(q - url) < strcspn(url, "/?#")) {
		end = q + 3 + strcspn(q + 3, "/?#");
		host = q + 3;
		for (c = host; c < end; c++)
			if (*c == '@')
				host = c + 1;
		add_text(s, sizeof(s), &n, url, (size_t)(q + 3 - url));
		add_text(s, sizeof(s), &n, host, (size_t)(end - host));
		p = end;
	}
	k = strcspn(p, "?#");
	add_text(s, sizeof(s), &n, p, k);
	p += k;
	if (*p == '?') {
		add_text(s, sizeof(s), &n, "?", 1);
		for (p++; *p != '\0' && *p != '#'; ) {
			k = strcspn(p, "&#");
			name = strcspn(p, "=&#");
			if (name < k && secret_option(p, name)) {
				add_text(s, sizeof(s), &n, p, name);
				add_text(s, sizeof(s), &n, "=<redacted>", 11);
			} else {
				add_text(s, sizeof(s), &n, p, k);
			}
			p += k;
			if (*p == '&') {
				add_text(s, sizeof(s), &n, "&", 1);
				p++;
			}
		}
	}
	snprintf(out, len, "%.*s%s", URL_SHOWN, s, n > URL_SHOWN ? "..." : "");
}

/* The ids a message names: Graph's request-id, or else the
 * client-request-id (which Graph echoes and we send). */
static const char *
id_text(const struct graph_response *resp, char *out, size_t len)
{
	if (resp->request_id[0] != '\0')
		snprintf(out, len, "request-id %s", resp->request_id);
	else if (resp->client_request_id[0] != '\0')
		snprintf(out, len, "no request-id; client-request-id %s",
		    resp->client_request_id);
	else
		snprintf(out, len, "no request-id");
	return out;
}

/* Intune puts a JSON document in message; its "Message" is the text. */
static void
unwrap_intune(const char *message, char *out, size_t len)
{
	cJSON *inner = cJSON_Parse(message);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(inner, "Message");

	snprintf(out, len, "%s", cJSON_IsString(m) ? m->valuestring : message);
	cJSON_Delete(inner);
}

/* Fills resp->error from an OData error body (or the bare status). */
static void
describe_graph_error(struct graph_response *resp)
{
	cJSON *root = cJSON_Parse(resp->body);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "innerError");
	const cJSON *rid;
	char text[768] = "", ids[160];

	if (inner == NULL)
		inner = cJSON_GetObjectItemCaseSensitive(e, "innererror");
	rid = cJSON_GetObjectItemCaseSensitive(inner, "request-id");
	if (cJSON_IsString(rid) && resp->request_id[0] == '\0')
		snprintf(resp->request_id, sizeof(resp->request_id), "%s",
		    rid->valuestring);
	if (cJSON_IsString(msg))
		unwrap_intune(msg->valuestring, text, sizeof(text));
	snprintf(resp->error, sizeof(resp->error), "HTTP %ld %s: %s (%s)",
	    resp->status, cJSON_IsString(code) ? code->valuestring : "error",
	    text[0] ? text : "no message", id_text(resp, ids, sizeof(ids)));
	cJSON_Delete(root);
}

/* Entra's OAuth error: the AADSTS text, and what usually fixes it. */
static void
describe_token_error(const char *tenant, const struct graph_response *resp,
    char *out, size_t len)
{
	cJSON *root = cJSON_Parse(resp->body);
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root,
	    "error_description");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "error");
	char text[512] = "no description";
	const char *fix = "check tenant_id, client_id and client_secret_file";
	char *cut;

	if (cJSON_IsString(desc)) {
		snprintf(text, sizeof(text), "%s", desc->valuestring);
		/* The trace and correlation ids follow; keep the sentence. */
		if ((cut = strstr(text, " Trace ID")) != NULL)
			*cut = '\0';
	}
	if (strstr(text, "AADSTS7000215") || strstr(text, "AADSTS7000222"))
		fix = "the client secret is wrong or expired: put the current "
		    "one in client_secret_file";
	else if (strstr(text, "AADSTS700016"))
		fix = "no such app in this directory: check client_id and "
		    "tenant_id";
	else if (strstr(text, "AADSTS90002"))
		fix = "no such directory: check tenant_id";
	snprintf(out, len, "tenant %s: Entra refused the token request (HTTP "
	    "%ld %s): %s; %s", tenant, resp->status, cJSON_IsString(code) ?
	    code->valuestring : "error", text, fix);
	cJSON_Delete(root);
}

/* ---- waiting ----------------------------------------------------- */

/* The wait before retry n: Retry-After (seconds or an HTTP date), else
 * exponential backoff with jitter. */
static int64_t
retry_wait_ms(const char *retry_after, int n)
{
	int64_t base, ms;
	unsigned char r;
	time_t when;

	if (retry_after[0] >= '0' && retry_after[0] <= '9')
		return (int64_t)strtol(retry_after, NULL, 10) * 1000;
	if (retry_after[0] != '\0' && (when = curl_getdate(retry_after,
	    NULL)) > 0)
		return when > time(NULL) ? (int64_t)(when - time(NULL)) * 1000 :
		    0;
	base = (int64_t)1000 << (n < 5 ? n : 5);
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	if (RAND_bytes(&r, 1) != 1)
		r = 128;
	/* Half the base plus up to half again, so clients spread out. */
	ms = base / 2 + base / 2 * r / 255;
	return ms;
}

/* Sleeps ms in small steps; returns -1 as soon as the run is canceled. */
static int
wait_ms(struct graph_call *call, int64_t ms)
{
	/* Microseconds: a millisecond clock could end the wait up to 1 ms
	 * before Retry-After has passed. */
	int64_t end = monotonic_us() + ms * 1000;

	for (;;) {
		int64_t left = end - monotonic_us();
		struct timespec step = { 0, 50 * 1000 * 1000 };

		if (call->canceled != NULL && call->canceled(call->arg))
			return -1;
		if (left <= 0)
			return 0;
		if (left < 50 * 1000)
			step.tv_nsec = (long)left * 1000;
		nanosleep(&step, NULL);
	}
}

/* ---- tokens ------------------------------------------------------ */

static char *
form_escape(CURL *c, const char *s)
{
	char *e = curl_easy_escape(c, s, 0);
	char *copy = xstrdup(e != NULL ? e : "");

	if (e != NULL) {
		explicit_bzero(e, strlen(e));
		curl_free(e);
	}
	return copy;
}

/* The form body of a client-credentials request; the caller wipes it. */
static char *
token_form(struct graph_client *gc, const char *client_id,
    const char *secret)
{
	char *id = form_escape(gc->curl, client_id);
	char *sec = form_escape(gc->curl, secret);
	char *scope = form_escape(gc->curl, GRAPH_SCOPE);
	size_t n = strlen(id) + strlen(sec) + strlen(scope) + 96;
	char *form = xmalloc(n);

	snprintf(form, n, "client_id=%s&client_secret=%s&scope=%s"
	    "&grant_type=client_credentials", id, sec, scope);
	explicit_bzero(sec, strlen(sec));
	free(id);
	free(sec);
	free(scope);
	return form;
}

static int
read_secret(const char *path, char **secret, char *err, size_t errlen)
{
	size_t n;

	if (read_file(path, MAX_SECRET, secret, &n, err, errlen) != 0)
		return -1;
	while (n > 0 && ((*secret)[n - 1] == '\n' || (*secret)[n - 1] == '\r' ||
	    (*secret)[n - 1] == ' '))
		(*secret)[--n] = '\0';
	return 0;
}

/* Takes access_token and expires_in from a token response. */
static int
adopt_token(struct token *t, const char *body)
{
	cJSON *root = cJSON_Parse(body);
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root,
	    "access_token");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	int64_t life_ms;
	int rc = -1;

	if (cJSON_IsString(tok) && cJSON_IsNumber(exp)) {
		token_wipe(t);
		t->value = xstrdup(tok->valuestring);
		life_ms = (int64_t)exp->valuedouble * 1000;
		/* Renew early; a short-lived token at half its life. */
		t->renew_at_ms = monotonic_ms() + (life_ms > 2 * TOKEN_MARGIN_MS ?
		    life_ms - TOKEN_MARGIN_MS : life_ms / 2);
		rc = 0;
	}
	if (cJSON_IsString(tok))
		explicit_bzero(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(root);
	return rc;
}

static int
fetch_token(struct graph_client *gc, const struct config_section *tenant,
    struct token *t, char *err, size_t errlen)
{
	struct graph_response resp = { 0 };
	struct exchange x = { .method = "POST", .resp = &resp };
	char url[1024], *secret = NULL, *form, shown[URL_SHOWN + 4];
	CURLcode rc;
	int ok = -1;

	if (read_secret(config_section_get(tenant, "client_secret_file"),
	    &secret, err, errlen) != 0)
		return errf(err, errlen, "tenant %s: cannot read "
		    "client_secret_file: %s", tenant->name, err);
	form = token_form(gc, config_section_get(tenant, "client_id"), secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token",
	    gc->cfg->login_url, config_section_get(tenant, "tenant_id"));
	x.url = url;
	x.body = form;
	x.headers = curl_slist_append(NULL,
	    "Content-Type: application/x-www-form-urlencoded");
	rc = perform(gc, &x);
	explicit_bzero(form, strlen(form));
	free(form);
	curl_slist_free_all(x.headers);
	url_shown(gc->cfg->login_url, shown, sizeof(shown));
	if (rc != CURLE_OK)
		errf(err, errlen, "tenant %s: token request to %s failed: %s",
		    tenant->name, shown, x.curl_error[0] ?
		    x.curl_error : curl_easy_strerror(rc));
	else if (resp.status != 200)
		describe_token_error(tenant->name, &resp, err, errlen);
	else if ((ok = adopt_token(t, resp.body)) != 0)
		errf(err, errlen, "tenant %s: the token endpoint answered "
		    "without access_token or expires_in", tenant->name);
	if (resp.body != NULL)
		explicit_bzero(resp.body, resp.body_len);
	graph_response_free(&resp);
	return ok;
}

/* A valid app token for the call's tenant, fetched if needed. */
static const char *
app_token(struct graph_client *gc, struct graph_call *call, int renew,
    char *err, size_t errlen)
{
	const struct config_section *tenant = config_tenant(gc->cfg,
	    call->tenant);
	struct token *t;

	if (tenant == NULL || !config_tenant_has_app(tenant)) {
		errf(err, errlen, "tenant %s has no app credentials: set "
		    "tenant_id, client_id and client_secret_file in [tenant %s]",
		    call->tenant, call->tenant);
		return NULL;
	}
	t = token_slot(gc, call->tenant);
	if (!renew && t->value != NULL && monotonic_ms() < t->renew_at_ms)
		return t->value;
	if (fetch_token(gc, tenant, t, err, errlen) != 0)
		return NULL;
	return t->value;
}

/* ---- requests ---------------------------------------------------- */

/* The request's headers; the client-request-id sent goes to crid. */
static struct curl_slist *
request_headers(const char *token, const char *const *extra, int has_body,
    char *crid, size_t cridlen)
{
	struct curl_slist *h = NULL;
	unsigned char id[16];
	char line[8192];

	snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, line);
	explicit_bzero(line, sizeof(line));
	crid[0] = '\0';
	if (RAND_bytes(id, sizeof(id)) == 1) {
		snprintf(crid, cridlen, "%02x%02x%02x%02x-%02x%02x-4%x%02x-"
		    "%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2],
		    id[3], id[4], id[5], id[6] & 0xf, id[7],
		    (id[8] & 0x3f) | 0x80, id[9], id[10], id[11], id[12], id[13],
		    id[14], id[15]);
		snprintf(line, sizeof(line), "client-request-id: %s", crid);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Accept: application/json");
	if (has_body)
		h = curl_slist_append(h, "Content-Type: application/json");
	for (; extra != NULL && *extra != NULL; extra++)
		h = curl_slist_append(h, *extra);
	return h;
}

static void
wipe_headers(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static int
idempotent_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 ||
	    strcmp(m, "DELETE") == 0 || strcmp(m, "HEAD") == 0;
}

static int
throttled(long status)
{
	return status == 429 || status == 503 || status == 504;
}

/* Builds the URL: an absolute one must stay under base_url, so a token
 * is never sent to another host. */
static int
build_url(const struct config *cfg, const char *path, char *url, size_t len,
    char *err, size_t errlen)
{
	size_t blen = strlen(cfg->graph_base_url);
	char shown[URL_SHOWN + 4], base[URL_SHOWN + 4];

	url_shown(path, shown, sizeof(shown));
	url_shown(cfg->graph_base_url, base, sizeof(base));
	if (strncmp(path, "http://", 7) == 0 ||
	    strncmp(path, "https://", 8) == 0) {
		if (strncmp(path, cfg->graph_base_url, blen) != 0 ||
		    path[blen] != '/')
			return errf(err, errlen, "refusing to follow %s: it "
			    "is not under [graph] base_url %s", shown, base);
		snprintf(url, len, "%s", path);
	} else if (path[0] == '/') {
		snprintf(url, len, "%s%s", cfg->graph_base_url, path);
	} else {
		return errf(err, errlen, "Graph path %s must start with "
		    "/v1.0/ or /beta/", shown);
	}
	return strlen(url) + 1 >= len ? errf(err, errlen, "URL too long") : 0;
}

/* Decides what to do after one attempt: 0 done, 1 retry (after *wait),
 * -1 give up (resp->error says why). */
static int
after_attempt(struct graph_client *gc, struct graph_call *call,
    struct exchange *x, CURLcode rc, int attempt, int64_t *wait)
{
	struct graph_response *resp = x->resp;
	int retryable = rc != CURLE_OK ? idempotent_method(x->method) :
	    throttled(resp->status);
	char shown[URL_SHOWN + 4];

	if (rc == CURLE_OK && !throttled(resp->status))
		return 0;
	url_shown(x->url, shown, sizeof(shown));
	if (rc != CURLE_OK)
		snprintf(resp->error, sizeof(resp->error), "%s %s: %s%s",
		    x->method, shown, x->curl_error[0] ? x->curl_error :
		    curl_easy_strerror(rc), retryable ? "" :
		    " (not retried: the method is not idempotent)");
	else
		describe_graph_error(resp);
	if (!retryable)
		return -1;
	if ((uint64_t)attempt >= gc->cfg->graph_max_retries) {
		strncat(resp->error, "; gave up after the retries allowed by "
		    "[graph] max_retries", sizeof(resp->error) -
		    strlen(resp->error) - 1);
		return -1;
	}
	*wait = retry_wait_ms(x->retry_after, attempt);
	if (*wait > call->wait_budget_ms) {
		strncat(resp->error, "; the run's wait budget ([graph] "
		    "max_wait_s) is spent", sizeof(resp->error) -
		    strlen(resp->error) - 1);
		return -1;
	}
	return 1;
}

/* 401 InvalidAuthenticationToken: the token expired or was revoked. */
static int
token_rejected(const struct graph_response *resp)
{
	return resp->status == 401 &&
	    strstr(resp->body, "InvalidAuthenticationToken") != NULL;
}

/* graph_request without the check of its body: any final answer is 0. */
static int
request(struct graph_client *gc, struct graph_call *call,
    const char *method, const char *path, const char *const *headers,
    const char *body, struct graph_response *resp)
{
	struct exchange x = { .method = method, .body = body, .resp = resp };
	char url[8192], crid[64], shown[URL_SHOWN + 4];
	int renewed = 0, rc = -1;

	memset(resp, 0, sizeof(*resp));
	if (build_url(gc->cfg, path, url, sizeof(url), resp->error,
	    sizeof(resp->error)) != 0)
		return -1;
	x.url = url;
	for (int attempt = 0;; attempt++) {
		const char *token = call->user_token != NULL ? call->user_token :
		    app_token(gc, call, 0, resp->error, sizeof(resp->error));
		int64_t wait = 0;
		CURLcode crc;
		int next;

		if (token == NULL)
			break;
		x.headers = request_headers(token, headers, body != NULL, crid,
		    sizeof(crid));
		crc = perform(gc, &x);
		wipe_headers(x.headers);
		if (resp->client_request_id[0] == '\0')
			snprintf(resp->client_request_id,
			    sizeof(resp->client_request_id), "%s", crid);
		if (crc == CURLE_OK && token_rejected(resp) && !renewed &&
		    call->user_token == NULL) {
			renewed = 1;	/* once: a second 401 is an answer */
			if (app_token(gc, call, 1, resp->error,
			    sizeof(resp->error)) == NULL)
				break;
			attempt--;
			continue;
		}
		next = after_attempt(gc, call, &x, crc, attempt, &wait);
		if (next <= 0) {
			rc = next == 0 ? 0 : -1;
			if (rc == 0 && (resp->status < 200 || resp->status > 299))
				describe_graph_error(resp);
			break;
		}
		call->wait_budget_ms -= wait;
		if (wait_ms(call, wait) != 0) {
			url_shown(url, shown, sizeof(shown));
			snprintf(resp->error, sizeof(resp->error), "canceled "
			    "while waiting to retry %s %s", method, shown);
			break;
		}
	}
	if (resp->body == NULL)
		resp->body = xcalloc(1, 1);
	return rc;
}

/* ---- malformed answers ------------------------------------------ */

/* A media type of JSON: application/json, with or without parameters. */
static int
json_type(const char *ct)
{
	size_t n = strlen("application/json");

	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* Parses text as one JSON value with nothing but whitespace after it
 * (cJSON_Parse would ignore trailing bytes), or NULL. */
static cJSON *
json_whole(const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *root;

	if (memchr(text, '\0', len) != NULL)
		return NULL;
	if ((root = cJSON_ParseWithLengthOpts(text, len, &end, 0)) == NULL)
		return NULL;
	while (end < text + len && isspace((unsigned char)*end))
		end++;
	if (end != text + len) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static const char *
json_kind(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "null";
}

#define NOT_JSON	"its body is not valid JSON (cut short or garbled)"

/* Parses a 2xx answer that must be a JSON object (a page, a $batch
 * answer).  Returns its root (the caller deletes it), or NULL with what
 * is wrong with it in why ("its body is empty"). */
static cJSON *
answer_object(const struct graph_response *resp, char *why, size_t len)
{
	cJSON *root;

	if (resp->body_len == 0) {
		snprintf(why, len, "its body is empty");
		return NULL;
	}
	if (resp->content_type[0] == '\0') {
		snprintf(why, len, "it has no Content-Type (JSON expected)");
		return NULL;
	}
	if (!json_type(resp->content_type)) {
		snprintf(why, len, "its Content-Type is %.60s, not JSON",
		    resp->content_type);
		return NULL;
	}
	if ((root = json_whole(resp->body, resp->body_len)) == NULL) {
		snprintf(why, len, NOT_JSON);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(why, len, "its body is %s, not a JSON object",
		    json_kind(root));
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Writes "METHOD URL: WHAT answered HTTP N but WHY (IDS); DONE" to out;
 * what may be "" (the request itself). */
static void
malformed(struct graph_client *gc, char *out, size_t len, const char *method,
    const char *path, const char *what, long status, const char *why,
    const char *ids, const char *done)
{
	char url[8192], shown[URL_SHOWN + 4], err[8];

	if (build_url(gc->cfg, path, url, sizeof(url), err, sizeof(err)) != 0)
		snprintf(url, sizeof(url), "%s", path);
	url_shown(url, shown, sizeof(shown));
	snprintf(out, len, "%s %s: %s%sanswered HTTP %ld but %s (%s); %s",
	    method, shown, what, what[0] ? " " : "", status, why, ids, done);
}

/* malformed() for the answer in resp. */
static void
malformed_answer(struct graph_client *gc, struct graph_response *resp,
    const char *method, const char *path, const char *what, const char *why,
    const char *done)
{
	char ids[160];

	malformed(gc, resp->error, sizeof(resp->error), method, path, what,
	    resp->status, why, id_text(resp, ids, sizeof(ids)), done);
}

int
graph_request(struct graph_client *gc, struct graph_call *call,
    const char *method, const char *path, const char *const *headers,
    const char *body, struct graph_response *resp)
{
	int rc = request(gc, call, method, path, headers, body, resp);
	cJSON *root;

	/* An answer that says it is JSON must be JSON: a cut-short body
	 * must not pass for a complete one. */
	if (rc == 0 && resp->status >= 200 && resp->status <= 299 &&
	    resp->body_len > 0 && json_type(resp->content_type)) {
		if ((root = json_whole(resp->body, resp->body_len)) == NULL) {
			malformed_answer(gc, resp, method, path, "", NOT_JSON,
			    "the answer was not used");
			rc = -1;
		}
		cJSON_Delete(root);
	}
	return rc;
}

/* Checks one page of a list: a JSON object with a "value" array and, if
 * there is one, a string "@odata.nextLink" (copied to *next).  Returns 0,
 * or -1 with why. */
static int
page_check(const struct graph_response *resp, char **next, char *why,
    size_t len)
{
	cJSON *root = answer_object(resp, why, len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "value");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(root,
	    "@odata.nextLink");
	int rc = -1;

	*next = NULL;
	if (root == NULL)
		return -1;
	if (v == NULL)
		snprintf(why, len, "it has no \"value\" array");
	else if (!cJSON_IsArray(v))
		snprintf(why, len, "its \"value\" is %s, not an array",
		    json_kind(v));
	else if (n != NULL && !cJSON_IsString(n))
		snprintf(why, len, "its \"@odata.nextLink\" is %s, not a "
		    "string", json_kind(n));
	else
		rc = 0;
	if (rc == 0 && n != NULL)
		*next = xstrdup(n->valuestring);
	cJSON_Delete(root);
	return rc;
}

int
graph_list(struct graph_client *gc, struct graph_call *call,
    const char *path, const char *const *headers,
    int (*page)(void *arg, const char *json), void *arg,
    struct graph_response *resp)
{
	char *link = xstrdup(path), *next, why[160], what[32], done[64];
	int rc = 0, pages = 0;

	while (link != NULL) {
		rc = request(gc, call, "GET", link, headers, NULL, resp);
		if (rc != 0 || resp->status < 200 || resp->status > 299) {
			rc = -1;
			break;
		}
		/* A malformed page is a failure, never the end of the list. */
		if (page_check(resp, &next, why, sizeof(why)) != 0) {
			snprintf(what, sizeof(what), "page %d", pages + 1);
			snprintf(done, sizeof(done), "the list was not "
			    "completed (%d page%s read)", pages,
			    pages == 1 ? "" : "s");
			malformed_answer(gc, resp, "GET", link, what, why, done);
			rc = -1;
			break;
		}
		pages++;
		free(link);
		link = next;
		if ((rc = page(arg, resp->body)) != 0)
			break;
		if (link != NULL)
			graph_response_free(resp);
	}
	free(link);
	return rc;
}

/* ---- $batch ------------------------------------------------------ */

#define BATCH_MAX 20

/* Checks the caller's requests: an array of 1 to 20 objects with unique
 * string ids. */
static int
batch_check(const cJSON *reqs, char *err, size_t errlen)
{
	const cJSON *r, *o;
	int n = cJSON_GetArraySize(reqs), i = 0;

	if (!cJSON_IsArray(reqs) || n < 1 || n > BATCH_MAX)
		return errf(err, errlen, "$batch: give 1 to %d requests",
		    BATCH_MAX);
	cJSON_ArrayForEach(r, reqs) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		int j = 0;

		if (!cJSON_IsString(id) || !cJSON_IsString(
		    cJSON_GetObjectItemCaseSensitive(r, "url")))
			return errf(err, errlen, "$batch: request %d needs a "
			    "string id and url", i + 1);
		cJSON_ArrayForEach(o, reqs) {
			const cJSON *oid = cJSON_GetObjectItemCaseSensitive(o,
			    "id");

			if (j++ < i && cJSON_IsString(oid) &&
			    strcmp(oid->valuestring, id->valuestring) == 0)
				return errf(err, errlen, "$batch: id %s appears "
				    "twice", id->valuestring);
		}
		i++;
	}
	return 0;
}

/* An item's Retry-After header, in ms (0 when absent). */
static int64_t
item_retry_ms(const cJSON *item, int attempt)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(item, "headers");
	const cJSON *ra = cJSON_GetObjectItem(h, "Retry-After");

	if (cJSON_IsString(ra))
		return retry_wait_ms(ra->valuestring, attempt);
	if (cJSON_IsNumber(ra))
		return (int64_t)ra->valuedouble * 1000;
	return retry_wait_ms("", attempt);
}

struct batch_state {
	cJSON *reqs;		/* the caller's requests */
	cJSON **answers;	/* per request, NULL while pending */
	int n;
	const char *version;	/* "v1.0" or "beta" */
	/* Per request, in the current round: 0 not sent, 1 sent and not
	 * answered (yet), 2 answered. */
	char sent[BATCH_MAX];
};

#define BATCH_NOT_DONE	"the batch was not completed (its items may have run)"

/* The index of the request whose id is id, or -1. */
static int
batch_index(const struct batch_state *bs, const char *id)
{
	const cJSON *r;
	int i = 0;

	cJSON_ArrayForEach(r, bs->reqs) {
		if (strcmp(cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring,
		    id) == 0)
			return i;
		i++;
	}
	return -1;
}

/* Checks the shape of a $batch answer: a "responses" array of objects,
 * each with the string id of a request sent in this round (once) and an
 * HTTP status.  Returns 0, or -1 with why. */
static int
batch_answer_check(const cJSON *root, const struct batch_state *bs,
    char *why, size_t len)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "responses");
	const cJSON *item;
	char seen[BATCH_MAX] = { 0 };
	int k = 0, i;

	if (list == NULL)
		return errf(why, len, "it has no \"responses\" array");
	if (!cJSON_IsArray(list))
		return errf(why, len, "its \"responses\" is %s, not an array",
		    json_kind(list));
	cJSON_ArrayForEach(item, list) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(item,
		    "status");

		k++;
		if (!cJSON_IsObject(item))
			return errf(why, len, "its response %d is %s, not an "
			    "object", k, json_kind(item));
		if (!cJSON_IsString(id))
			return errf(why, len, "its response %d has no string "
			    "\"id\"", k);
		if (!cJSON_IsNumber(st))
			return errf(why, len, "its response \"%.40s\" has no "
			    "numeric \"status\"", id->valuestring);
		if (st->valuedouble < 100 || st->valuedouble > 599 ||
		    st->valuedouble != (double)(int)st->valuedouble)
			return errf(why, len, "its response \"%.40s\" has "
			    "status %g, not an HTTP status", id->valuestring,
			    st->valuedouble);
		if ((i = batch_index(bs, id->valuestring)) < 0 ||
		    bs->sent[i] == 0)
			return errf(why, len, "its response \"%.40s\" answers "
			    "no request that was sent", id->valuestring);
		if (seen[i]++)
			return errf(why, len, "it answers request \"%.40s\" "
			    "twice", id->valuestring);
	}
	return 0;
}

/* 'item "ID" (METHOD /VERSION/URL)', for messages. */
static void
item_what(const struct batch_state *bs, int i, char *out, size_t len)
{
	const cJSON *r = cJSON_GetArrayItem(bs->reqs, i);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "method");
	const char *url = cJSON_GetObjectItemCaseSensitive(r, "url")->valuestring;
	char path[8192], shown[URL_SHOWN + 4];

	snprintf(path, sizeof(path), "/%s%s%s", bs->version,
	    url[0] == '/' ? "" : "/", url);
	url_shown(path, shown, sizeof(shown));
	snprintf(out, len, "item \"%.40s\" (%.10s %s)",
	    cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring,
	    cJSON_IsString(m) ? m->valuestring : "?", shown);
}

/* The item's own request-id, else the batch's ids. */
static const char *
item_ids(const cJSON *item, const struct graph_response *resp, char *out,
    size_t len)
{
	const cJSON *rid = cJSON_GetObjectItem(
	    cJSON_GetObjectItemCaseSensitive(item, "headers"), "request-id");

	if (cJSON_IsString(rid) && rid->valuestring[0] != '\0') {
		snprintf(out, len, "request-id %.79s", rid->valuestring);
		return out;
	}
	return id_text(resp, out, len);
}

/* A 2xx item whose headers say JSON must carry JSON: Graph sends such a
 * body as JSON, so a string that does not parse is a cut-short one.
 * Returns 0, or -1 with why. */
static int
item_body_check(const cJSON *item, long status, char *why, size_t len)
{
	const cJSON *ct = cJSON_GetObjectItem(
	    cJSON_GetObjectItemCaseSensitive(item, "headers"), "Content-Type");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(item, "body");
	cJSON *parsed;

	if (status < 200 || status > 299 || !cJSON_IsString(ct) ||
	    !json_type(ct->valuestring) || !cJSON_IsString(body) ||
	    body->valuestring[0] == '\0')
		return 0;
	if ((parsed = json_whole(body->valuestring,
	    strlen(body->valuestring))) == NULL)
		return errf(why, len, NOT_JSON);
	cJSON_Delete(parsed);
	return 0;
}

/* The answer of an item that got no usable one: status 0 and why. */
static cJSON *
item_error(const char *id, const char *msg)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "id", id);
	cJSON_AddNumberToObject(a, "status", 0);
	cJSON_AddStringToObject(a, "error", msg);
	return a;
}

/* Files the answers of one round: throttled items stay pending (their
 * wait raises *wait), malformed ones and the ones left out get an
 * item_error. */
static void
batch_file(struct graph_client *gc, struct graph_call *call,
    const char *path, struct batch_state *bs, const cJSON *root,
    int attempt, int64_t *wait, const struct graph_response *resp)
{
	char why[160], what[URL_SHOWN + 80], ids[160], msg[1024];
	char url[8192], shown[URL_SHOWN + 4];
	const cJSON *item;
	int64_t w;
	int i;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root,
	    "responses")) {
		const char *id = cJSON_GetObjectItemCaseSensitive(item,
		    "id")->valuestring;
		long st = (long)cJSON_GetObjectItemCaseSensitive(item,
		    "status")->valuedouble;

		i = batch_index(bs, id);
		bs->sent[i] = 2;
		if (throttled(st) &&
		    (uint64_t)attempt < gc->cfg->graph_max_retries &&
		    (w = item_retry_ms(item, attempt)) <= call->wait_budget_ms) {
			if (w > *wait)
				*wait = w;
			continue;	/* sent again in the next round */
		}
		if (item_body_check(item, st, why, sizeof(why)) != 0) {
			item_what(bs, i, what, sizeof(what));
			malformed(gc, msg, sizeof(msg), "POST", path, what, st,
			    why, item_ids(item, resp, ids, sizeof(ids)),
			    "the item was not completed");
			bs->answers[i] = item_error(id, msg);
		} else {
			bs->answers[i] = cJSON_Duplicate(item, 1);
		}
	}
	/* An item the answer left out may have run: never sent again. */
	if (build_url(gc->cfg, path, url, sizeof(url), msg, sizeof(msg)) != 0)
		snprintf(url, sizeof(url), "%s", path);
	url_shown(url, shown, sizeof(shown));
	for (i = 0; i < bs->n; i++) {
		if (bs->sent[i] != 1)
			continue;
		item_what(bs, i, what, sizeof(what));
		snprintf(msg, sizeof(msg), "POST %s: the $batch answer (HTTP "
		    "%ld) has no response for %s (%s); the item was not "
		    "completed and was not sent again (it may have run)", shown,
		    resp->status, what, id_text(resp, ids, sizeof(ids)));
		bs->answers[i] = item_error(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetArrayItem(bs->reqs, i), "id")->valuestring, msg);
	}
}

/* Sends the pending requests once; files the answers; returns the wait
 * before the next round (0: none pending), or -1 on failure (reason in
 * resp->error). */
static int64_t
batch_round(struct graph_client *gc, struct graph_call *call,
    const char *path, struct batch_state *bs, int attempt,
    struct graph_response *resp)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(body, "requests"), *root;
	char *text, why[160];
	int64_t wait = 0;
	int rc, i = 0;
	const cJSON *r;

	cJSON_ArrayForEach(r, bs->reqs) {
		bs->sent[i] = bs->answers[i] == NULL;
		if (bs->sent[i])
			cJSON_AddItemToArray(list, cJSON_Duplicate(r, 1));
		i++;
	}
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	/* request() starts from a zeroed resp: free the last round's body. */
	graph_response_free(resp);
	rc = request(gc, call, "POST", path, NULL, text, resp);
	free(text);
	if (rc != 0 || resp->status < 200 || resp->status > 299)
		return -1;
	root = resp->status == 200 ? answer_object(resp, why, sizeof(why)) :
	    NULL;
	if (resp->status != 200)
		snprintf(why, sizeof(why), "a $batch is answered with 200");
	if (root == NULL || batch_answer_check(root, bs, why,
	    sizeof(why)) != 0) {
		malformed_answer(gc, resp, "POST", path, "the $batch", why,
		    BATCH_NOT_DONE);
		cJSON_Delete(root);
		return -1;
	}
	batch_file(gc, call, path, bs, root, attempt, &wait, resp);
	cJSON_Delete(root);
	/* Anything still without an answer is pending; wait at least a bit. */
	for (i = 0; i < bs->n; i++)
		if (bs->answers[i] == NULL && wait == 0)
			wait = retry_wait_ms("", attempt);
	return wait;
}

static char *
batch_result(struct batch_state *bs)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *r;
	char *text;
	int i = 0;

	cJSON_ArrayForEach(r, bs->reqs) {
		cJSON *a = bs->answers[i++];

		if (a == NULL) {
			a = item_error(cJSON_GetObjectItemCaseSensitive(r,
			    "id")->valuestring, "still throttled when the "
			    "retries or the wait budget ran out");
			cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(a,
			    "status"), 429);
		}
		cJSON_AddItemToArray(out, a);
		bs->answers[i - 1] = NULL;
	}
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	return text;
}

int
graph_batch(struct graph_client *gc, struct graph_call *call,
    const char *version, const char *requests, struct graph_response *resp)
{
	struct batch_state bs = { 0 };
	char path[64];
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	bs.reqs = cJSON_Parse(requests);
	if (batch_check(bs.reqs, resp->error, sizeof(resp->error)) != 0)
		goto out;
	bs.n = cJSON_GetArraySize(bs.reqs);
	bs.answers = xcalloc((size_t)bs.n, sizeof(*bs.answers));
	bs.version = strcmp(version, "beta") == 0 ? "beta" : "v1.0";
	snprintf(path, sizeof(path), "/%s/$batch", bs.version);
	for (int attempt = 0;; attempt++) {
		int64_t wait = batch_round(gc, call, path, &bs, attempt, resp);
		int pending = 0;

		if (wait < 0)
			goto out;
		for (int i = 0; i < bs.n; i++)
			pending += bs.answers[i] == NULL;
		if (pending == 0 || (uint64_t)attempt >= gc->cfg->graph_max_retries ||
		    wait > call->wait_budget_ms)
			break;
		call->wait_budget_ms -= wait;
		if (wait_ms(call, wait) != 0) {
			snprintf(resp->error, sizeof(resp->error), "canceled "
			    "while waiting to retry throttled $batch items");
			goto out;
		}
	}
	graph_response_free(resp);
	resp->body = batch_result(&bs);
	resp->body_len = strlen(resp->body);
	resp->status = 200;
	rc = 0;
out:
	for (int i = 0; i < bs.n; i++)
		cJSON_Delete(bs.answers[i]);
	free(bs.answers);
	cJSON_Delete(bs.reqs);
	if (resp->body == NULL)
		resp->body = xcalloc(1, 1);
	return rc;
}
