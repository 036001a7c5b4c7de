#define _GNU_SOURCE /* SOCK_CLOEXEC, explicit_bzero */
#include "handoff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"
#include "wake.h"

/* A request is the run as JSON, a NUL, then the token. */
#define MAX_REQUEST	(2 * 1024 * 1024)

static void
set_timeout(int fd, int seconds)
{
	struct timeval tv = { seconds, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static char *
run_json(const struct run *r, const char *actor)
{
	cJSON *o = cJSON_CreateObject();
	char hex[65], *text;

	run_dedupe_hex(r, hex);
	cJSON_AddStringToObject(o, "tenant", r->tenant);
	cJSON_AddStringToObject(o, "type", r->type);
	if (r->target != NULL)
		cJSON_AddStringToObject(o, "target", r->target);
	cJSON_AddStringToObject(o, "initiator", r->initiator);
	cJSON_AddStringToObject(o, "payload", r->payload);
	cJSON_AddStringToObject(o, "dedupe_key", hex);
	cJSON_AddStringToObject(o, "actor", actor);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int
connect_control(const char *store_path, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	wake_socket_name(&addr, &len, "control", store_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, len) != 0) {
		if (fd >= 0)
			close(fd);
		return errf(err, errlen, "no `oprun serve` is running on store "
		    "%s to hold the delegated token; start it, then submit "
		    "again", store_path);
	}
	set_timeout(fd, 10);
	return fd;
}

static int
read_answer(int fd, struct store_submit_result *res, char *err,
    size_t errlen)
{
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	cJSON *o;
	const cJSON *id, *dedup, *state, *e;
	int rc = -2;

	if (n <= 0)
		return errf(err, errlen, "oprun serve did not answer the "
		    "submit: %s", n < 0 ? strerror(errno) : "closed") - 1;
	buf[n] = '\0';
	o = cJSON_Parse(buf);
	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	dedup = cJSON_GetObjectItemCaseSensitive(o, "deduplicated");
	state = cJSON_GetObjectItemCaseSensitive(o, "state");
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (cJSON_IsString(e)) {
		errf(err, errlen, "%s", e->valuestring);
	} else if (cJSON_IsNumber(id)) {
		res->id = (uint64_t)id->valuedouble;
		res->deduplicated = cJSON_IsTrue(dedup);
		if (!cJSON_IsString(state) ||
		    run_state_parse(state->valuestring, &res->state) != 0)
			res->state = RUN_QUEUED;
		rc = 0;
	} else {
		errf(err, errlen, "oprun serve gave an unreadable answer");
	}
	cJSON_Delete(o);
	return rc;
}

int
handoff_submit(const char *store_path, const struct run *r, const char *actor,
    const char *token, struct store_submit_result *res, char *err,
    size_t errlen)
{
	char *json, *msg;
	size_t jlen, tlen = strlen(token), n;
	int fd = connect_control(store_path, err, errlen), rc;

	if (fd < 0)
		return -1;
	json = run_json(r, actor);
	jlen = strlen(json);
	n = jlen + 1 + tlen;
	msg = xmalloc(n);
	memcpy(msg, json, jlen + 1);
	memcpy(msg + jlen + 1, token, tlen);
	free(json);
	if (n > MAX_REQUEST || send(fd, msg, n, MSG_NOSIGNAL) != (ssize_t)n)
		rc = errf(err, errlen, "cannot hand the submit to oprun serve: "
		    "%s", n > MAX_REQUEST ? "too large" : strerror(errno)) - 1;
	else
		rc = read_answer(fd, res, err, errlen);
	explicit_bzero(msg, n);
	free(msg);
	close(fd);
	return rc;
}

int
handoff_listen(const char *store_path, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);

	wake_socket_name(&addr, &len, "control", store_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, len) != 0 ||
	    listen(fd, 16) != 0) {
		errf(err, errlen, "control socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static char *
json_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static int
parse_hex(const char *hex, uint8_t out[32])
{
	if (hex == NULL || strlen(hex) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Builds r from the request's JSON part. */
static int
parse_run(const char *json, struct run *r, char **actor)
{
	cJSON *o = cJSON_Parse(json);
	char *hex = json_string(o, "dedupe_key");
	int rc;

	memset(r, 0, sizeof(*r));
	r->tenant = json_string(o, "tenant");
	r->type = json_string(o, "type");
	r->target = json_string(o, "target");
	r->initiator = json_string(o, "initiator");
	r->payload = json_string(o, "payload");
	*actor = json_string(o, "actor");
	rc = parse_hex(hex, r->dedupe_key);
	free(hex);
	cJSON_Delete(o);
	if (rc != 0 || r->tenant == NULL || r->type == NULL ||
	    r->initiator == NULL || r->payload == NULL || *actor == NULL) {
		run_free(r);
		free(*actor);
		*actor = NULL;
		return -1;
	}
	r->created_at = now_ms();
	return 0;
}

int
handoff_read(int conn, struct run *r, char **actor, char **token)
{
	char *buf = xmalloc(MAX_REQUEST + 1), *nul;
	ssize_t n;
	int rc = -1;

	*token = NULL;
	*actor = NULL;
	set_timeout(conn, 2);
	n = recv(conn, buf, MAX_REQUEST, 0);
	if (n > 0) {
		buf[n] = '\0';
		nul = memchr(buf, '\0', (size_t)n);
		if (nul != NULL && nul + 1 < buf + n &&
		    (size_t)(buf + n - nul - 1) <= HANDOFF_MAX_TOKEN &&
		    parse_run(buf, r, actor) == 0) {
			*token = xstrdup(nul + 1);
			rc = 0;
		}
		explicit_bzero(buf, (size_t)n);
	}
	free(buf);
	return rc;
}

void
handoff_reply(int conn, const struct store_submit_result *res,
    const char *error)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (error != NULL) {
		cJSON_AddStringToObject(o, "error", error);
	} else {
		cJSON_AddNumberToObject(o, "id", (double)res->id);
		cJSON_AddBoolToObject(o, "deduplicated", res->deduplicated);
		cJSON_AddStringToObject(o, "state", run_state_name(res->state));
	}
	text = cJSON_PrintUnformatted(o);
	(void)send(conn, text, strlen(text), MSG_NOSIGNAL);
	free(text);
	cJSON_Delete(o);
}
