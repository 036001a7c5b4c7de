/*
 * auth - the Entra ID token endpoint (client credentials and refresh
 * token grants) and bearer token checks on Graph routes (S2, S3).
 *
 * Access tokens are unsigned, JWT-shaped strings: clients may decode the
 * claims (tid, exp, idtyp, roles or scp) but only this server's token
 * table makes one valid, so a token edited by hand is rejected.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAPH_APP_ID	"00000003-0000-0000-c000-000000000000"

static const cJSON *
find_by(const cJSON *arr, const char *key, const char *value)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		if (value != NULL && str_ieq(data_str(e, key), value))
			return e;
	}
	return NULL;
}

/* ---- the token table ------------------------------------------------- */

static void
token_free(struct token *t)
{
	free(t->value);
	free(t->grants);
	free(t->subject);
}

/* Makes room for one more token: drop expired ones, then the oldest. */
static void
tokens_make_room(struct server *s)
{
	int64_t now = server_now_ms(s);
	size_t i, o = 0;

	if (s->ntokens < FG_MAX_TOKENS)
		return;
	for (i = 0; i < s->ntokens; i++) {
		if (s->tokens[i].exp_ms <= now)
			token_free(&s->tokens[i]);
		else
			s->tokens[o++] = s->tokens[i];
	}
	s->ntokens = o;
	if (s->ntokens == FG_MAX_TOKENS) {
		token_free(&s->tokens[0]);
		memmove(s->tokens, s->tokens + 1,
		    --s->ntokens * sizeof(*s->tokens));
	}
}

/* " a b c " from an array of strings. */
static char *
grants_string(const cJSON *arr)
{
	struct buf b = {0};
	const cJSON *e;

	buf_adds(&b, " ");
	cJSON_ArrayForEach(e, arr) {
		if (cJSON_IsString(e))
			buf_addf(&b, "%s ", e->valuestring);
	}
	return buf_take(&b);
}

static char *
b64url_json(cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);
	char *out = b64url_encode((const unsigned char *)text, strlen(text));

	cJSON_free(text);
	cJSON_Delete(doc);
	return out;
}

/* Claims of a new token; appid is the client the token was issued to. */
static cJSON *
token_claims(const struct server *s, const struct tenant *t,
    const char *appid, const cJSON *principal, bool app, int64_t exp_ms)
{
	cJSON *c = cJSON_CreateObject();
	int64_t now_s = server_now_ms(s) / 1000;
	char uti[23], iss[128];
	struct buf scp = {0};
	const cJSON *e;

	random_hex(uti, 11);
	snprintf(iss, sizeof(iss), "https://sts.windows.net/%s/", t->id);
	cJSON_AddStringToObject(c, "aud", "https://graph.microsoft.com");
	cJSON_AddStringToObject(c, "iss", iss);
	cJSON_AddNumberToObject(c, "iat", (double)now_s);
	cJSON_AddNumberToObject(c, "nbf", (double)now_s);
	cJSON_AddNumberToObject(c, "exp", (double)((exp_ms + 999) / 1000));
	cJSON_AddStringToObject(c, "tid", t->id);
	cJSON_AddStringToObject(c, "appid", appid);
	cJSON_AddStringToObject(c, "idtyp", app ? "app" : "user");
	cJSON_AddStringToObject(c, "uti", uti);
	if (data_str(principal, "oid") != NULL)
		cJSON_AddStringToObject(c, "oid", data_str(principal, "oid"));
	if (app) {
		cJSON_AddItemToObject(c, "roles", cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(principal, "roles"), 1));
		return c;
	}
	cJSON_AddStringToObject(c, "upn", data_str(principal, "upn"));
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(principal,
	    "scp")) {
		if (cJSON_IsString(e))
			buf_addf(&scp, "%s%s", scp.len ? " " : "",
			    e->valuestring);
	}
	cJSON_AddStringToObject(c, "scp", scp.p != NULL ? scp.p : "");
	free(scp.p);
	return c;
}

/* Issues and records a token for principal (an app or a user of t). */
static const struct token *
token_issue(struct server *s, const struct tenant *t, const char *appid,
    const cJSON *principal, bool app)
{
	int64_t exp_ms = server_now_ms(s) + s->token_lifetime_s * 1000;
	cJSON *hdr = cJSON_CreateObject();
	unsigned char sig[32];
	char *h, *p, *g;
	struct token *tok;

	cJSON_AddStringToObject(hdr, "typ", "JWT");
	cJSON_AddStringToObject(hdr, "alg", "none");
	cJSON_AddStringToObject(hdr, "kid", "fakegraph");
	h = b64url_json(hdr);
	p = b64url_json(token_claims(s, t, appid, principal, app, exp_ms));
	/* The "signature" is random, which makes every token unique. */
	random_bytes(sig, sizeof(sig));
	g = b64url_encode(sig, sizeof(sig));
	tokens_make_room(s);
	s->tokens = xrealloc(s->tokens, (s->ntokens + 1) * sizeof(*tok));
	tok = &s->tokens[s->ntokens++];
	tok->value = xmalloc(strlen(h) + strlen(p) + strlen(g) + 3);
	sprintf(tok->value, "%s.%s.%s", h, p, g);
	tok->tenant = t;
	tok->exp_ms = exp_ms;
	tok->app = app;
	tok->grants = grants_string(cJSON_GetObjectItemCaseSensitive(
	    principal, app ? "roles" : "scp"));
	tok->subject = xstrdup(app ? appid : data_str(principal, "oid"));
	free(h);
	free(p);
	free(g);
	return tok;
}

/* ---- the token endpoint ---------------------------------------------- */

static void
token_response(struct server *s, struct resp *rs, const struct token *tok,
    const char *scope, const char *refresh)
{
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddStringToObject(doc, "token_type", "Bearer");
	if (scope != NULL)
		cJSON_AddStringToObject(doc, "scope", scope);
	cJSON_AddNumberToObject(doc, "expires_in", (double)s->token_lifetime_s);
	cJSON_AddNumberToObject(doc, "ext_expires_in",
	    (double)s->token_lifetime_s);
	cJSON_AddStringToObject(doc, "access_token", tok->value);
	if (refresh != NULL)
		cJSON_AddStringToObject(doc, "refresh_token", refresh);
	resp_json_ct(rs, 200, doc, AAD_JSON);
}

static void
missing_param(struct resp *rs, const struct req *rq, const char *name)
{
	char text[160];

	snprintf(text, sizeof(text), "The request body must contain the "
	    "following parameter: '%s'.", name);
	err_oauth(rs, rq, 400, "invalid_request", 900144, text);
}

/* The app client_id of t, checking its secret if one is sent (always
 * for client credentials).  NULL with rs filled on failure. */
static const cJSON *
client_check(struct resp *rs, const struct req *rq, const struct tenant *t,
    const struct kvlist *form, bool secret_required)
{
	const char *id = kv_get(form, "client_id");
	const char *secret = kv_get(form, "client_secret");
	const cJSON *app;
	char text[512];

	if (id == NULL) {
		missing_param(rs, rq, "client_id");
		return NULL;
	}
	if ((app = find_by(t->apps, "client_id", id)) == NULL) {
		snprintf(text, sizeof(text), "Application with identifier "
		    "'%.64s' was not found in the directory '%s'. This can "
		    "happen if the application has not been installed by the "
		    "administrator of the tenant or consented to by any user "
		    "in the tenant. You may have sent your authentication "
		    "request to the wrong tenant.", id, t->name);
		err_oauth(rs, rq, 400, "invalid_client", 700016, text);
		return NULL;
	}
	if (secret == NULL && secret_required) {
		err_oauth(rs, rq, 401, "invalid_client", 7000218, "The request "
		    "body must contain the following parameter: "
		    "'client_assertion' or 'client_secret'.");
		return NULL;
	}
	if (secret != NULL && strcmp(secret,
	    data_str(app, "client_secret")) != 0) {
		snprintf(text, sizeof(text), "Invalid client secret provided. "
		    "Ensure the secret being sent in the request is the client "
		    "secret value, not the client secret ID, for a secret "
		    "added to app '%s'.", data_str(app, "client_id"));
		err_oauth(rs, rq, 401, "invalid_client", 7000215, text);
		return NULL;
	}
	return app;
}

static void
grant_client_credentials(struct server *s, const struct req *rq,
    struct resp *rs, const struct tenant *t, const struct kvlist *form)
{
	const char *scope = kv_get(form, "scope");
	const cJSON *app;
	char text[512];

	if ((app = client_check(rs, rq, t, form, true)) == NULL)
		return;
	if (scope == NULL) {
		missing_param(rs, rq, "scope");
		return;
	}
	if (!str_suffix(scope, "/.default")) {
		snprintf(text, sizeof(text), "The provided value for scope "
		    "%.200s is not valid. Client credential flows must have a "
		    "scope value with /.default suffixed to the resource "
		    "identifier (application ID URI).", scope);
		err_oauth(rs, rq, 400, "invalid_scope", 1002012, text);
		return;
	}
	token_response(s, rs, token_issue(s, t, data_str(app, "client_id"),
	    app, true), NULL, NULL);
}

/* The user's scp as the token response's "scope" value. */
static char *
user_scope(const cJSON *user)
{
	struct buf b = {0};
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(user, "scp")) {
		if (cJSON_IsString(e))
			buf_addf(&b, "%shttps://graph.microsoft.com/%s",
			    b.len ? " " : "", e->valuestring);
	}
	return buf_take(&b);
}

static void
grant_refresh(struct server *s, const struct req *rq, struct resp *rs,
    const struct tenant *t, const struct kvlist *form)
{
	const char *rt = kv_get(form, "refresh_token");
	const cJSON *app, *user;
	char fresh[48], *scope;
	const struct token *tok;

	if (rt == NULL) {
		missing_param(rs, rq, "refresh_token");
		return;
	}
	if ((app = client_check(rs, rq, t, form, false)) == NULL)
		return;
	if ((user = find_by(t->users, "refresh_token", rt)) == NULL ||
	    strcmp(data_str(user, "refresh_token"), rt) != 0) {
		err_oauth(rs, rq, 400, "invalid_grant", 70000, "The provided "
		    "grant is invalid or malformed: the refresh token is "
		    "unknown, or was already redeemed and replaced.");
		return;
	}
	tok = token_issue(s, t, data_str(app, "client_id"), user, false);
	/* Refresh tokens rotate: the one just redeemed goes stale. */
	snprintf(fresh, sizeof(fresh), "fake-rt-");
	random_hex(fresh + 8, 16);
	cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)user, "refresh_token",
	    cJSON_CreateString(fresh));
	scope = user_scope(user);
	token_response(s, rs, tok, scope, fresh);
	free(scope);
}

void
auth_token_endpoint(struct server *s, struct req *rq, struct resp *rs,
    const char *tenant)
{
	const char *ct = req_header(rq, "Content-Type");
	struct kvlist form = {0};
	const struct tenant *t;
	const char *grant;
	char text[256];

	if (strcmp(rq->method, "POST") != 0) {
		snprintf(text, sizeof(text), "The endpoint only accepts POST "
		    "requests. Received a %.16s request.", rq->method);
		err_oauth(rs, rq, 400, "invalid_request", 900561, text);
		return;
	}
	if ((t = data_tenant(s, tenant)) == NULL) {
		snprintf(text, sizeof(text), "Tenant '%.64s' not found. Check "
		    "to make sure you have the correct tenant ID and are "
		    "signing into the correct cloud.", tenant);
		err_oauth(rs, rq, 400, "invalid_request", 90002, text);
		return;
	}
	if (ct != NULL && str_iprefix(ct, "application/x-www-form-urlencoded")
	    && rq->body != NULL)
		form_parse(rq->body, rq->body_len, &form);
	grant = kv_get(&form, "grant_type");
	if (grant == NULL)
		missing_param(rs, rq, "grant_type");
	else if (strcmp(grant, "client_credentials") == 0)
		grant_client_credentials(s, rq, rs, t, &form);
	else if (strcmp(grant, "refresh_token") == 0)
		grant_refresh(s, rq, rs, t, &form);
	else {
		snprintf(text, sizeof(text), "The app requested an unsupported "
		    "grant type '%.64s'.", grant);
		err_oauth(rs, rq, 400, "unsupported_grant_type", 70003, text);
	}
	kv_free(&form);
}

/* ---- bearer tokens on Graph routes ----------------------------------- */

void
auth_challenge(struct resp *rs)
{
	resp_header(rs, "WWW-Authenticate", "Bearer realm=\"\", "
	    "authorization_uri=\"https://login.microsoftonline.com/common/"
	    "oauth2/authorize\", client_id=\"" GRAPH_APP_ID "\"");
}

static void
unauthorized(struct resp *rs, const struct req *rq, const char *msg)
{
	err_graph(rs, rq, 401, "InvalidAuthenticationToken", msg);
	auth_challenge(rs);
}

const struct token *
auth_bearer(struct server *s, const struct req *rq, struct resp *rs)
{
	const char *h = req_header(rq, "Authorization");
	const struct token *t = NULL;
	size_t i;

	if (h == NULL || !str_iprefix(h, "Bearer ") || h[7] == '\0') {
		unauthorized(rs, rq, "Access token is empty.");
		return NULL;
	}
	for (i = 0; i < s->ntokens && t == NULL; i++)
		if (strcmp(s->tokens[i].value, h + 7) == 0)
			t = &s->tokens[i];
	if (t == NULL) {
		unauthorized(rs, rq, "Invalid token");
		return NULL;
	}
	if (server_now_ms(s) >= t->exp_ms) {
		unauthorized(rs, rq, "Access token has expired or is not yet "
		    "valid.");
		return NULL;
	}
	return t;
}

bool
auth_has_any(const struct token *t, const char *const *grants)
{
	char pad[128];
	size_t i;

	for (i = 0; grants[i] != NULL; i++) {
		snprintf(pad, sizeof(pad), " %s ", grants[i]);
		if (strstr(t->grants, pad) != NULL)
			return true;
	}
	return false;
}

void
auth_free(struct server *s)
{
	size_t i;

	for (i = 0; i < s->ntokens; i++)
		token_free(&s->tokens[i]);
	free(s->tokens);
	s->tokens = NULL;
	s->ntokens = 0;
}
