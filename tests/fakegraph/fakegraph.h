/*
 * fakegraph - a fake Microsoft Graph and Entra ID token server for the
 * end-to-end tests (see README.md for the control API and the emulated
 * behaviour, and docs/graph.md C2 for the spec it follows).  Section
 * names in the comments of tests/fakegraph (A3, S7) cite docs/graph.md:
 * A1-A9 are how Graph behaves, S1-S10 the parts of its section C2.
 *
 * Threading: libmicrohttpd runs one internal polling thread and every
 * request handler runs on it, so the state in struct server is touched by
 * that one thread only and nothing is locked.  main() loads the fixture
 * before the daemon starts and frees everything after it stopped.
 *
 * Errors: request handlers never fail as functions; every problem becomes
 * an HTTP response in struct resp.  Small internal allocations abort on
 * OOM (xmalloc); sizes that come from input are bounded first.
 */
#ifndef FAKEGRAPH_H
#define FAKEGRAPH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* 1 MiB: larger request bodies get 413, as no Graph write we emulate is
 * anywhere near that. */
#define FG_MAX_BODY	(1024 * 1024)
/* Caps that keep a long test run from growing the process without bound;
 * the oldest entries go first. */
#define FG_MAX_LOG	20000
/* 64 MiB of logged bodies at most (bodies plus a fixed 512 bytes per
 * entry for the rest); the oldest entries go first. */
#define FG_MAX_LOG_BYTES	(64 * 1024 * 1024)
#define FG_MAX_TOKENS	20000
#define FG_MAX_FAULTS	1000
/* Logged request bodies are cut here so a huge upload cannot bloat the
 * log; the entry then says "body_truncated": true. */
#define FG_MAX_LOGGED_BODY	(64 * 1024)
#define FG_GUID_LEN	37

#define ODATA_JSON	"application/json;odata.metadata=minimal"
#define AAD_JSON	"application/json; charset=utf-8"

/* ---- util.c ---------------------------------------------------------- */

/* xmalloc, xcalloc, xrealloc, xstrdup: oprun's core/util.h. */
#include "util.h"
char	*xstrndup(const char *s, size_t n);

/* A growable byte buffer, always NUL-terminated once non-empty. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
};
void	 buf_add(struct buf *b, const void *data, size_t n);
void	 buf_adds(struct buf *b, const char *s);
void	 buf_addf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Returns the NUL-terminated contents (never NULL); the caller frees. */
char	*buf_take(struct buf *b);

/* An ordered list of name/value pairs: headers, query and form args. */
struct kv {
	char *name;
	char *value;
};
struct kvlist {
	struct kv *v;
	size_t n;
	size_t cap;
};
void	 kv_add(struct kvlist *l, const char *name, const char *value);
/* Replaces the first pair named name (case-insensitively) or adds one. */
void	 kv_set(struct kvlist *l, const char *name, const char *value);
/* Case-insensitive lookup; NULL when absent. */
const char *kv_get(const struct kvlist *l, const char *name);
/* How many pairs are named name (case-insensitively). */
size_t	 kv_count(const struct kvlist *l, const char *name);
void	 kv_free(struct kvlist *l);

/* Percent-decodes n bytes of s ("+" is a space when plus is set).  A
 * malformed escape is kept literally.  The caller frees. */
char	*pct_decode(const char *s, size_t n, bool plus);
/* Parses "a=b&c=d" (form or query syntax) into out, decoding both. */
void	 form_parse(const char *s, size_t n, struct kvlist *out);

/* n bytes from the OpenSSL CSPRNG (aborts if it fails). */
void	 random_bytes(unsigned char *out, size_t n);
/* Random version-4 GUID, lower case, into out[FG_GUID_LEN]. */
void	 guid_new(char *out);
/* 2 * nbytes random hex digits into out (which holds 2 * nbytes + 1). */
void	 random_hex(char *out, size_t nbytes);
/* base64url without padding; the caller frees. */
char	*b64url_encode(const unsigned char *p, size_t n);
/* Decodes base64url (no padding) into out.  Returns 0, or -1 if s is not
 * base64url or decodes to more than max bytes. */
int	 b64url_decode(const char *s, unsigned char *out, size_t max,
	    size_t *outlen);

/* now_ms() and monotonic_us() come from core/util.h. */
/* "2025-02-13T10:17:05.123Z" (len >= 32). */
void	 fmt_iso_ms(int64_t ms, char *buf, size_t len);
/* "2025-02-13T10:17:05", the innerError date (len >= 32). */
void	 fmt_iso_s(int64_t ms, char *buf, size_t len);
/* "2025-02-13 10:17:05Z", the Entra error timestamp (len >= 32). */
void	 fmt_aad_time(int64_t ms, char *buf, size_t len);
/* "Thu, 13 Feb 2025 10:17:05 GMT" (len >= 40). */
void	 fmt_http_date(int64_t ms, char *buf, size_t len);

bool	 str_ieq(const char *a, const char *b);
bool	 str_iprefix(const char *s, const char *prefix);
bool	 str_suffix(const char *s, const char *suffix);
/* Parses a whole decimal integer in [min, max].  Returns 0 or -1. */
int	 parse_long(const char *s, long min, long max, long *out);

/* ---- server state ---------------------------------------------------- */

/* The Intune collections we store, in the order of the table in data.c. */
enum coll {
	COLL_DEVCONF,		/* deviceConfigurations */
	COLL_COMPLIANCE,	/* deviceCompliancePolicies */
	COLL_CONFPOL,		/* configurationPolicies (beta) */
	COLL_GPCONF,		/* groupPolicyConfigurations (beta) */
	COLL_GPDEF,		/* groupPolicyDefinitions (beta, read-only) */
	COLL_SCRIPTS,		/* deviceManagementScripts (beta) */
	COLL_FILTERS,		/* assignmentFilters (beta) */
	COLL_SCOPETAGS,		/* roleScopeTags (beta) */
	COLL_N
};

/* Every paged list has its own default and maximum page size; the first
 * COLL_N are the collections, (enum pager)c for collection c. */
enum pager {
	PAGE_SETTINGS = COLL_N,
	PAGE_ASSIGNMENTS,
	PAGE_DEFVALUES,
	PAGE_PRESVALUES,
	PAGE_PRESENTATIONS,
	PAGE_GROUPS,
	PAGE_N
};

/* What sets one Intune collection apart from the others (data.c). */
struct family {
	const char *name;	/* URL segment and fixture key */
	bool beta_only;		/* under /v1.0: "Resource not found" */
	bool read_only;		/* only GET routes */
	bool assignable;	/* /assign, /assignments */
	bool versioned;		/* carries "version" */
	bool timestamps;	/* carries created/lastModifiedDateTime */
	bool typed;		/* POST needs a derived @odata.type */
	bool int_ids;		/* ids "0", "1", ... (scope tags) */
	const char *assign_key;	/* the /assign body's list */
	int assign_status;	/* 200 with the set, or 204 */
	/* Navigation properties stored inline; output drops them unless
	 * $expand names them.  NULL-terminated. */
	const char *const *navs;
	/* Required string properties on POST; properties a PATCH or PUT may
	 * not change, and the message when one does.  NULL-terminated. */
	const char *const *required;
	const char *const *fixed;
	const char *fixed_msg;
	/* Read-only properties beyond the common server-owned ones. */
	const char *const *owned;
	/* Permissions: any of read for GET, any of write otherwise. */
	const char *const *read;
	const char *const *write;
};

const struct family *family_of(enum coll c);
/* 0 and *c for a URL segment, or -1. */
int	 family_lookup(const char *name, enum coll *c);

/* A tenant's data lives in the fixture's cJSON tree; these point into
 * it (the tree owns them). */
struct tenant {
	const char *id;
	const char *name;
	cJSON *obj;
	cJSON *apps;
	cJSON *users;
	cJSON *groups;
	cJSON *coll[COLL_N];
	/* Plain values of encrypted OMA settings by secretReferenceValueId;
	 * not part of the fixture tree (data_free frees it). */
	cJSON *secrets;
};

/* An issued access token.  grants is " A B C ": the roles (app) or scp
 * (user) padded with spaces so a lookup is one strstr. */
struct token {
	char *value;
	const struct tenant *tenant;
	int64_t exp_ms;
	bool app;
	char *grants;
	char *subject;
};

enum retry_kind {
	RETRY_NONE,
	RETRY_SECONDS,
	RETRY_HTTP_DATE
};

/* What a fault rule answers.  The first four replace the route's answer;
 * the others let the route answer and then spoil that answer (a page, or
 * a $batch answer), to test how clients take malformed 2xx answers. */
enum body_kind {
	BODY_GRAPH,
	BODY_INTUNE_NESTED,
	BODY_EMPTY,
	BODY_HTML,		/* a text/html sign-in page, not JSON */
	BODY_TEXT_TYPE,		/* the answer, sent as text/plain */
	BODY_TRUNCATED,		/* the first half of the answer */
	BODY_NO_VALUE,		/* the page without "value" */
	BODY_VALUE_NOT_ARRAY,	/* "value": {} */
	BODY_NEXT_LINK_NOT_STRING, /* "@odata.nextLink": 42 */
	BODY_NO_RESPONSES,	/* the $batch answer without "responses" */
	BODY_ITEM_MISSING,	/* its first response left out */
	BODY_ITEM_UNKNOWN_ID,	/* its first response's id changed */
	BODY_ITEM_NO_ID,	/* its first response without "id" */
	BODY_ITEM_NO_STATUS,	/* its first response without "status" */
	BODY_N
};

struct fault {
	char *method;		/* NULL matches any method */
	char *path;		/* the regex source, for GET /_fake/faults */
	regex_t re;
	char *query;		/* NULL, or a regex over the raw query */
	regex_t query_re;
	int status;
	enum retry_kind retry;
	long retry_after;
	long times;
	enum body_kind body;
};

/* A write token bucket per (tenant, app or user, Intune family). */
struct bucket {
	char *key;
	double tokens;
	int64_t last_ms;
};

struct server {
	cJSON *fixture;
	struct tenant *tenants;
	size_t ntenants;
	long token_lifetime_s;
	long page_size[PAGE_N];
	long page_max[PAGE_N];
	long throttle_writes;
	long throttle_window_s;
	bool batch_shuffle;
	uint64_t batch_seed;

	struct token *tokens;
	size_t ntokens;

	cJSON *log;
	uint64_t log_seq;
	size_t log_bytes;

	struct fault *faults;
	size_t nfaults;

	struct bucket *buckets;
	size_t nbuckets;

	unsigned char hmac_key[32];
	unsigned port;
	char base_url[48];
	int64_t start_us;
	/* Added to the wall clock for token expiry and throttling only, so
	 * tests can skip ahead without sleeping (POST /_fake/clock). */
	int64_t clock_offset_ms;
};

/* The fake clock: now_ms() plus the test-controlled offset. */
int64_t	 server_now_ms(const struct server *s);

/* ---- requests and responses (http.c) --------------------------------- */

struct req {
	char *method;
	char *path;		/* percent-decoded, no query */
	char *query;		/* raw query string without '?', maybe "" */
	struct kvlist args;	/* decoded query options, in order */
	struct kvlist headers;
	char *body;
	size_t body_len;
	bool body_truncated;	/* over FG_MAX_BODY: answered with 413 */
	const char *batch_id;	/* set for a $batch item */
	double time_ms;		/* arrival, ms since the server started */
	char request_id[FG_GUID_LEN];
	char client_request_id[FG_GUID_LEN + 64];
};

struct resp {
	int status;
	struct kvlist headers;
	char *body;
	size_t body_len;
	bool fault;		/* answered by a fault rule */
};

/* Fills rq from a method and a raw request URI ("/path?query"). */
void	 req_init(struct req *rq, const struct server *s, const char *method,
	    const char *uri);
/* Sets request-id and client-request-id once the headers are in. */
void	 req_ids(struct req *rq);
void	 req_free(struct req *rq);
const char *req_header(const struct req *rq, const char *name);
const char *req_arg(const struct req *rq, const char *name);
/* True if rq's method is method. */
bool	 req_is(const struct req *rq, const char *method);
/* True if the request carries "ConsistencyLevel: eventual". */
bool	 req_eventual(const struct req *rq);
void	 resp_free(struct resp *rs);

void	 resp_header(struct resp *rs, const char *name, const char *value);
/* Takes ownership of doc. */
void	 resp_json(struct resp *rs, int status, cJSON *doc);
void	 resp_json_ct(struct resp *rs, int status, cJSON *doc,
	    const char *content_type);
void	 resp_text(struct resp *rs, int status, const char *text);
void	 resp_empty(struct resp *rs, int status);
/* Takes ownership of body (a NUL-terminated string, or NULL). */
void	 resp_raw(struct resp *rs, int status, char *body,
	    const char *content_type);

/* Runs a request through faults, routing and logging; used for direct
 * requests and for each $batch item alike. */
void	 serve_request(struct server *s, struct req *rq, struct resp *rs);

/* Starts libmicrohttpd on the already listening socket fd. */
struct MHD_Daemon *http_start(struct server *s, int fd, char *err,
	    size_t errlen);

/* ---- errors.c -------------------------------------------------------- */

/* {"error":{"code","message","innerError":{date, request-id,
 * client-request-id}}} */
void	 err_graph(struct resp *rs, const struct req *rq, int status,
	    const char *code, const char *message);
void	 err_graphf(struct resp *rs, const struct req *rq, int status,
	    const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* The Intune variant: message is the JSON string {"_version":3,
 * "Message":"<text> - Operation ID ...", ...}. */
void	 err_intune(struct resp *rs, const struct server *s,
	    const struct req *rq, int status, const char *code,
	    const char *text);
void	 err_intunef(struct resp *rs, const struct server *s,
	    const struct req *rq, int status, const char *code,
	    const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/* 400 ModelValidationFailure "Invalid property '<prop>': it <why>." */
void	 err_invalid(struct resp *rs, const struct server *s,
	    const struct req *rq, const char *prop, const char *why);
/* The Entra token endpoint shape: error, error_description "AADSTSn:
 * ... Trace ID ... Correlation ID ... Timestamp ...", error_codes, ... */
void	 err_oauth(struct resp *rs, const struct req *rq, int status,
	    const char *error, long aadsts, const char *text);
/* "Resource not found for the segment 'name'." */
void	 err_segment(struct resp *rs, const struct req *rq, const char *name);
/* The Graph code and a message for a bare HTTP status (faults). */
const char *err_status_code(int status);
const char *err_status_message(int status);

/* ---- reqlog.c -------------------------------------------------------- */

void	 reqlog_add(struct server *s, const struct req *rq,
	    const struct resp *rs);
/* {"value":[...]} as a string the caller frees. */
char	*reqlog_print(const struct server *s);
void	 reqlog_clear(struct server *s);

/* ---- faults.c -------------------------------------------------------- */

/* Appends the rules of a POST /_fake/faults body.  Returns 0, or -1 with
 * a reason in err (no rule is added then). */
int	 faults_add(struct server *s, const cJSON *rules, char *err,
	    size_t errlen);
/* If a queued rule matches rq, consumes one of its times, fills rs (for
 * the kinds that spoil an answer, after route_request answered) and
 * returns true. */
bool	 faults_apply(struct server *s, struct req *rq, struct resp *rs);
cJSON	*faults_list(const struct server *s);
void	 faults_clear(struct server *s);

/* ---- auth.c ---------------------------------------------------------- */

/* POST /{tenant}/oauth2/v2.0/token. */
void	 auth_token_endpoint(struct server *s, struct req *rq,
	    struct resp *rs, const char *tenant);
/* Validates the bearer token of rq; on failure fills rs with the 401 and
 * returns NULL. */
const struct token *auth_bearer(struct server *s, const struct req *rq,
	    struct resp *rs);
/* Adds the WWW-Authenticate header Graph sends with every 401. */
void	 auth_challenge(struct resp *rs);
/* True if the token carries any of the NULL-terminated grants. */
bool	 auth_has_any(const struct token *t, const char *const *grants);
void	 auth_free(struct server *s);

/* ---- throttle.c ------------------------------------------------------ */

/* Takes one write token for t's (tenant, principal) in family (the
 * collection's name).  Returns 0, or -1 with the seconds to wait in
 * retry_after_s. */
int	 throttle_take(struct server *s, const struct token *t,
	    const char *family, long *retry_after_s);
void	 throttle_clear(struct server *s);

/* ---- data.c ---------------------------------------------------------- */

/* Loads and normalizes the fixture.  Returns 0, or -1 with a reason. */
int	 data_load(struct server *s, const char *path, char *err,
	    size_t errlen);
void	 data_free(struct server *s);
struct tenant *data_tenant(struct server *s, const char *id_or_name);
/* The element of array arr whose "id" is id, or NULL. */
cJSON	*data_find(const cJSON *arr, const char *id);
/* Index of item in arr, or -1. */
int	 data_index(const cJSON *arr, const cJSON *item);
/* Sets id, timestamps and version (as far as family c has them) on an
 * entity created in tenant t. */
void	 data_stamp_new(const struct tenant *t, cJSON *item, enum coll c);
/* Bumps version and lastModifiedDateTime after a PATCH or PUT. */
void	 data_stamp_update(cJSON *item, enum coll c);
/* A new entity's GUID id and timestamps, for nested entities. */
void	 data_stamp_child(cJSON *item);
/* Sets o[key] to v, replacing what was there (v is consumed). */
void	 data_set(cJSON *o, const char *key, cJSON *v);
/* Moves the plain values of an entity's encrypted OMA settings into the
 * tenant's secret table; GET shows them masked with a reference. */
void	 data_seal_oma(const struct tenant *t, cJSON *policy);
/* Gives a compliance policy's scheduled actions their ids. */
void	 data_number_actions(cJSON *policy);
/* Gives settings their ids ("0", "1", ...). */
void	 data_number_settings(cJSON *settings);
/* Gives a policy's assignments their ids (and, for settings catalog,
 * source and sourceId). */
void	 data_fix_assignments(cJSON *policy, enum coll c);
const char *data_str(const cJSON *obj, const char *key);
const char *coll_name(enum coll c);
/* Why a roleScopeTagIds/roleScopeTags list names a tag tenant t does not
 * have (into prop), or 0 if every one exists. */
int	 data_check_scope_tags(const struct tenant *t, const cJSON *body,
	    char *prop, size_t proplen);

/* ---- query.c --------------------------------------------------------- */

struct qnode;
/* $filter: startswith(prop,'x'), prop eq 'x' | true | false | null,
 * joined by and / or, with parentheses. */
int	 query_parse_filter(const char *s, struct qnode **out, char *err,
	    size_t errlen);
/* $search: "prop:text" clauses joined by AND / OR, with parentheses. */
int	 query_parse_search(const char *s, struct qnode **out, char *err,
	    size_t errlen);
bool	 query_match(const struct qnode *q, const cJSON *item);
void	 query_free(struct qnode *q);

/* ---- paging.c -------------------------------------------------------- */

struct page {
	size_t offset;
	size_t size;
	bool first;
};

/* Reads $top and $skiptoken for a list of kind in tenant t.  Returns 0,
 * or -1 with rs filled (400 with error code code). */
int	 paging_begin(struct server *s, const struct req *rq,
	    struct resp *rs, const struct tenant *t, enum pager kind,
	    const char *code, struct page *pg);

/* Turns an item into its output form for a list. */
typedef cJSON *(*project_fn)(const cJSON *item, const struct req *rq,
	    void *ctx);

/* Answers a list: the page of items (all matches, n of them) projected,
 * with @odata.context, @odata.count (first page, $count=true and
 * ConsistencyLevel: eventual) and @odata.nextLink. */
void	 paging_respond(struct server *s, const struct req *rq,
	    struct resp *rs, const struct tenant *t, const struct page *pg,
	    cJSON *const *items, size_t n, project_fn project, void *ctx,
	    const char *context);
/* Collects the elements of arr matching both queries (NULL matches
 * all) into *out, which the caller frees.  Returns the count. */
size_t	 paging_collect(const cJSON *arr, const struct qnode *a,
	    const struct qnode *b, cJSON ***out);
/* Answers GET of a whole list arr (a navigation property: no $filter)
 * page by page: paging_begin, then paging_respond. */
void	 paging_list(struct server *s, const struct req *rq,
	    struct resp *rs, const struct tenant *t, const cJSON *arr,
	    enum pager kind, project_fn project, void *ctx,
	    const char *context);
/* "$select=a,b": keeps only those properties (and @odata.type). */
void	 paging_select(cJSON *obj, const struct req *rq);
/* A single entity: obj (consumed) behind an "@odata.context" of name. */
cJSON	*paging_entity(const struct server *s, const struct req *rq,
	    cJSON *obj, const char *name);
/* "http://127.0.0.1:PORT/v1.0/$metadata#name" into a new string. */
char	*paging_context(const struct server *s, const struct req *rq,
	    const char *name);

/* ---- routes.c -------------------------------------------------------- */

void	 route_request(struct server *s, struct req *rq, struct resp *rs);
/* 400 "No OData route exists that match template ..." */
void	 route_no_route(struct resp *rs, const struct server *s,
	    const struct req *rq);

/* ---- strict.c -------------------------------------------------------- */

enum write_kind {
	WRITE_POST,
	WRITE_PATCH,
	WRITE_PUT
};

/* Checks a write body for server-owned properties (S7).  Returns 0, or -1
 * with the offending property in prop and why in why. */
int	 strict_check(const cJSON *body, enum coll c, enum write_kind w,
	    char *prop, size_t proplen, const char **why);
/* Checks the @odata.type of a POST to deviceConfigurations or
 * deviceCompliancePolicies.  Returns 0, or -1 with rs filled. */
int	 strict_type(const struct server *s, const struct req *rq,
	    struct resp *rs, const cJSON *body, enum coll c);
/* Checks an /assign body; returns 0, or -1 with rs filled. */
int	 strict_assign(const struct server *s, const struct req *rq,
	    struct resp *rs, const struct tenant *t, const cJSON *list,
	    const char *key);
/* Checks values that refer to the tenant or need a format: scope tag
 * ids, a script's base64 scriptContent and runAsAccount.  Returns 0, or
 * -1 with rs filled. */
int	 strict_values(const struct server *s, const struct req *rq,
	    struct resp *rs, const struct tenant *t, const cJSON *body,
	    enum coll c);
/* The scheduled action rules of body[key] (a compliance POST or
 * scheduleActionsForRules): rule names, action types, no ids.  Returns 0,
 * or -1 with rs filled. */
int	 strict_actions(const struct server *s, const struct req *rq,
	    struct resp *rs, const cJSON *body, const char *key);
/* check_nested alone: annotations and secret references anywhere in v
 * (path names v in the message).  0, or -1 with rs filled. */
int	 strict_nested(const struct server *s, const struct req *rq,
	    struct resp *rs, const cJSON *v, const char *path);
/* ---- intune.c / groups.c / batch.c / control.c ----------------------- */

/* The request body as a JSON object, or NULL with rs filled (400). */
cJSON	*intune_body(const struct req *rq, struct resp *rs);
/* 404 ResourceNotFound "No <what> with id '<id>' exists ...". */
void	 intune_not_found(struct resp *rs, const struct server *s,
	    const struct req *rq, const char *what, const char *id);
/* True if $expand names name at its top level ("a,b($expand=c)"). */
bool	 intune_expand_has(const struct req *rq, const char *name);

void	 intune_route(struct server *s, struct req *rq, struct resp *rs,
	    const struct token *t, const char *ver, char **seg, size_t n);
void	 groups_route(struct server *s, struct req *rq, struct resp *rs,
	    const struct token *t, char **seg, size_t n);
void	 batch_handle(struct server *s, struct req *rq, struct resp *rs,
	    const char *ver);
void	 control_route(struct server *s, struct req *rq, struct resp *rs);

/* ---- gpo.c: administrative templates' definition values ------------ */

/* Turns the definitionValues of a fixture's groupPolicyConfiguration
 * (written like POST bodies, with @odata.bind) into the stored form.
 * Returns 0, or -1 with a reason naming where. */
int	 gpo_load_values(const struct tenant *t, cJSON *conf,
	    const char *where, char *err, size_t errlen);
/* /{id}/definitionValues[/{dv}[/definition|/presentationValues[/{pv}]]]
 * and /{id}/updateDefinitionValues; seg[0] is the segment after the
 * configuration's id. */
void	 gpo_route(struct server *s, struct req *rq, struct resp *rs,
	    const struct tenant *t, cJSON *conf, char **seg, size_t n);
/* A stored definition value in its output form, with its definition
 * and presentation values only when asked for. */
cJSON	*gpo_project_value(const struct tenant *t, const cJSON *dv,
	    bool definition, bool presentations);
#endif
