/*
 * cli_docs - the CLI for what runs store beside their records: `docs`
 * (a run's documents), `export` (a backup as files), `backups`,
 * `directory` (the directory cache) and `keygen` (the sealing key).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cjson/cJSON.h>

#include "cli_internal.h"
#include "hostapi.h"
#include "oprun/plugin.h"
#include "seal.h"
#include "store.h"
#include "text.h"
#include "util.h"

#define BACKUP_TYPE   "backup-capture"
#define FILE_NAME_MAX 120 /* bytes of a display name in a file name */

/* ---- keygen ------------------------------------------------------ */

int
cmd_keygen(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	char err[1024];
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0)
		return rc;
	if (seal_keygen(a->pos[0], err, sizeof(err)) != 0) {
		complain(a->cmd, "%s", err);
		return EXIT_RUNTIME;
	}
	printf("wrote a new key to %s (mode 0600); set secrets_key_file = %s "
	       "in the [store] section, and keep a copy somewhere safe: values "
	       "sealed with it cannot be opened without it\n",
	    a->pos[0], a->pos[0]);
	return 0;
}

/* ---- docs -------------------------------------------------------- */

/* Opens the store and checks run id exists: 0 or an exit code. */
static int
open_run(struct runtime *rt, struct args *a, const char *id_text, uint64_t *id,
    struct run *r)
{
	char err[1024];
	int rc;

	if ((rc = parse_id(a, id_text, id)) != 0 ||
	    (rc = open_rt(rt, a, RUNTIME_STORE)) != 0)
		return rc;
	rc = store_get_run(rt->st, *id, r, err, sizeof(err));
	if (rc == 0)
		return 0;
	if (rc < 0)
		complain(a->cmd, "%s", err);
	runtime_close(rt);
	return rc == 1 ? no_such_run(a->cmd, *id) : EXIT_RUNTIME;
}

static int
print_one_doc(struct runtime *rt, struct args *a, uint64_t id, const char *name)
{
	char err[1024], *json, *safe;
	size_t len;
	int rc = store_doc_get(rt->st, id, name, &json, &len, err, sizeof(err));

	if (rc < 0) {
		complain(a->cmd, "%s", err);
		return EXIT_RUNTIME;
	}
	if (rc == 1) {
		complain(a->cmd,
		    "run %llu has no document %s; list them with "
		    "`oprun docs %llu`",
		    (unsigned long long)id, name, (unsigned long long)id);
		return EXIT_USAGE;
	}
	safe = text_json_safe(json);
	printf("%s\n", safe);
	free(safe);
	free(json);
	return 0;
}

struct doc_listing {
	int json;
	uint64_t count, bytes;
};

static int
list_doc(void *arg, const char *name, const char *json, size_t len)
{
	struct doc_listing *l = arg;

	(void)json;
	if (l->json) {
		cJSON *o = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddNumberToObject(o, "bytes", (double)len);
		s = cJSON_PrintUnformatted(o);
		printf("%s%s", l->count > 0 ? "," : "", s != NULL ? s : "{}");
		free(s);
		cJSON_Delete(o);
	} else {
		printf("%-64s %10zu\n", name, len);
	}
	l->count++;
	l->bytes += len;
	return 0;
}

int
cmd_docs(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "prefix", 1, NULL }, { "json", 0, NULL },
		{ NULL, 0, NULL } };
	struct doc_listing l = { 0 };
	const char *prefix;
	struct runtime rt;
	struct run r;
	char err[1024];
	uint64_t id;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 2)) != 0 ||
	    (rc = open_run(&rt, a, a->pos[0], &id, &r)) != 0)
		return rc;
	run_free(&r);
	if (a->npos == 2) {
		rc = print_one_doc(&rt, a, id, a->pos[1]);
		runtime_close(&rt);
		return rc;
	}
	prefix = opt_get(opts, "prefix");
	l.json = opt_get(opts, "json") != NULL;
	if (l.json)
		printf("{\"run\":\"%llu\",\"documents\":[",
		    (unsigned long long)id);
	rc = store_doc_list(rt.st, id, prefix != NULL ? prefix : "", "",
	    list_doc, &l, err, sizeof(err));
	if (l.json)
		printf("],\"count\":%llu,\"bytes\":%llu}\n",
		    (unsigned long long)l.count, (unsigned long long)l.bytes);
	else
		printf("%llu documents, %llu bytes\n",
		    (unsigned long long)l.count, (unsigned long long)l.bytes);
	if (rc != 0) {
		complain(a->cmd, "%s", err);
		rc = EXIT_RUNTIME;
	}
	runtime_close(&rt);
	return rc;
}

/* ---- export ------------------------------------------------------ */

#define TEMP_PREFIX ".oprun-export."

static volatile sig_atomic_t export_stop;

static void
on_export_signal(int sig)
{
	export_stop = sig;
}

struct exporter {
	const char *cmd, *dir;
	struct seal_key key; /* loaded for --reveal-secrets */
	int reveal;
	uint64_t files, secrets;
	char temp[4200];
	char err[1024];
};

/* Sorts the members of every object by name, so two exports of the same
 * backup are byte-identical and diff cleanly. */
static int
member_cmp(const void *x, const void *y)
{
	const cJSON *a = *(cJSON *const *)x, *b = *(cJSON *const *)y;

	return strcmp(a->string != NULL ? a->string : "",
	    b->string != NULL ? b->string : "");
}

static void
json_sort(cJSON *v)
{
	size_t n = 0, k = 0;
	cJSON **items, *c;

	for (c = v->child; c != NULL; c = c->next, n++)
		json_sort(c);
	if (!cJSON_IsObject(v) || n < 2)
		return;
	items = xcalloc(n, sizeof(*items));
	for (c = v->child; c != NULL; c = c->next)
		items[k++] = c;
	qsort(items, n, sizeof(*items), member_cmp);
	for (k = 0; k < n; k++) {
		items[k]->prev = k > 0 ? items[k - 1] : items[n - 1];
		items[k]->next = k + 1 < n ? items[k + 1] : NULL;
	}
	v->child = items[0];
	free(items);
}

/* Opens every sealed string of v in place (--reveal-secrets). */
static int
reveal(struct exporter *ex, cJSON *v)
{
	for (cJSON *c = v->child; c != NULL; c = c->next)
		if (reveal(ex, c) != 0)
			return -1;
	if (cJSON_IsString(v) && seal_is_sealed(v->valuestring)) {
		char *plain;
		size_t len;

		if (seal_open(&ex->key, v->valuestring, &plain, &len, ex->err,
			sizeof(ex->err)) != 0)
			return -1;
		free(v->valuestring);
		v->valuestring = plain;
		ex->secrets++;
	}
	return 0;
}

/* Wipes the strings of v before it is freed (revealed secrets). */
static void
wipe_strings(cJSON *v)
{
	for (cJSON *c = v->child; c != NULL; c = c->next)
		wipe_strings(c);
	if (cJSON_IsString(v) && v->valuestring != NULL)
		memset(v->valuestring, 0, strlen(v->valuestring));
}

/* A display name as a file name: no '/', control characters or the
 * characters Windows refuses, no leading dot, at most FILE_NAME_MAX
 * bytes cut at a character boundary. */
static void
file_part(const char *name, char *out, size_t len)
{
	size_t n = 0, max = len - 1 < FILE_NAME_MAX ? len - 1 : FILE_NAME_MAX;

	for (const unsigned char *p = (const unsigned char *)name;
	     *p != '\0' && n < max; p++) {
		unsigned char c = *p;

		if (c < 0x20 || c == 0x7f || strchr("/\\:*?\"<>|", c) != NULL)
			c = '_';
		if (n == 0 && c == '.')
			c = '_';
		out[n++] = (char)c;
	}
	while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
		n--; /* a cut character: drop its start too */
	if (n > 0 && ((unsigned char)out[n - 1] & 0x80))
		n--;
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, len, "unnamed");
}

static int
word_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* Where document name goes: <family>/<display name>__<id>.json for a
 * backup object, else the document's own name. */
static void
export_path(const char *name, const cJSON *doc, char *rel, size_t len)
{
	const char *family = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(doc, "family"));
	const char *id = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(doc, "id"));
	const char *dn = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(doc, "displayName"));
	char part[FILE_NAME_MAX + 1], idpart[FILE_NAME_MAX + 1];

	if (!word_ok(family) || id == NULL) {
		snprintf(rel, len, "%s", name);
		return;
	}
	file_part(dn != NULL ? dn : "", part, sizeof(part));
	file_part(id, idpart, sizeof(idpart));
	snprintf(rel, len, "%s/%s__%s.json", family, part, idpart);
}

static int
mkdirs(const char *dir, const char *rel)
{
	char path[4200];
	const char *slash = strrchr(rel, '/');

	for (const char *p = rel; slash != NULL && p <= slash; p++) {
		if (*p != '/')
			continue;
		snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(p - rel),
		    rel);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes text to DIR/rel through a temp name, so the file is whole or
 * absent, never half written. */
static int
write_file(struct exporter *ex, const char *rel, const char *text)
{
	char path[4200];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", ex->dir, rel);
	if (mkdirs(ex->dir, rel) != 0)
		return errf(ex->err, sizeof(ex->err), "%s: %s", path,
		    strerror(errno));
	fd = open(ex->temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    ex->reveal ? 0600 : 0644);
	if (fd < 0)
		return errf(ex->err, sizeof(ex->err), "%s: %s", ex->temp,
		    strerror(errno));
	if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1))
		rc = -1;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && rename(ex->temp, path) != 0)
		rc = -1;
	if (rc != 0) {
		errf(ex->err, sizeof(ex->err), "%s: %s", path, strerror(errno));
		unlink(ex->temp);
	}
	return rc;
}

static int
export_doc(void *arg, const char *name, const char *json, size_t len)
{
	struct exporter *ex = arg;
	cJSON *doc = cJSON_ParseWithLength(json, len);
	char rel[1024], *text = NULL;
	int rc = -1;

	if (export_stop)
		return errf(ex->err, sizeof(ex->err),
		    "interrupted by signal "
		    "%d",
		    (int)export_stop);
	if (doc == NULL)
		return errf(ex->err, sizeof(ex->err),
		    "document %s is not "
		    "JSON",
		    name);
	export_path(name, doc, rel, sizeof(rel));
	if (ex->reveal && reveal(ex, doc) != 0)
		goto out;
	json_sort(doc);
	text = cJSON_Print(doc);
	if (text == NULL) {
		errf(ex->err, sizeof(ex->err), "%s: out of memory", name);
		goto out;
	}
	rc = write_file(ex, rel, text);
	if (rc == 0)
		ex->files++;
out:
	if (ex->reveal) {
		wipe_strings(doc);
		if (text != NULL)
			memset(text, 0, strlen(text));
	}
	free(text);
	cJSON_Delete(doc);
	return rc;
}

/* DIR must be empty (but for our own leftover temp files, removed) or
 * missing (made), unless force. */
static int
prepare_dir(struct exporter *ex, int force)
{
	DIR *d;
	struct dirent *e;
	int others = 0;

	if (mkdir(ex->dir, 0755) == 0)
		return 0;
	if (errno != EEXIST || (d = opendir(ex->dir)) == NULL)
		return errf(ex->err, sizeof(ex->err), "%s: %s", ex->dir,
		    strerror(errno == EEXIST ? ENOTDIR : errno));
	while ((e = readdir(d)) != NULL) {
		char path[4200];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strncmp(e->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0) {
			snprintf(path, sizeof(path), "%s/%s", ex->dir,
			    e->d_name);
			unlink(path);
			continue;
		}
		others++;
	}
	closedir(d);
	if (others > 0 && !force)
		return errf(ex->err, sizeof(ex->err),
		    "%s is not empty: export "
		    "into a new or empty directory, or add --force to write "
		    "over the files there",
		    ex->dir);
	return 0;
}

static int
check_exportable(struct exporter *ex, const struct run *r)
{
	if (!run_state_terminal(r->state))
		return errf(ex->err, sizeof(ex->err),
		    "run %llu is %s: export "
		    "it once it has finished (`oprun wait %llu`)",
		    (unsigned long long)r->id, run_state_name(r->state),
		    (unsigned long long)r->id);
	if (r->state != RUN_SUCCEEDED)
		fprintf(stderr,
		    "oprun export: note: run %llu ended %s (%llu "
		    "items failed): the export holds what it captured\n",
		    (unsigned long long)r->id, run_state_name(r->state),
		    (unsigned long long)r->counts.failed);
	return 0;
}

static void
catch_export_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_export_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int
run_export(struct exporter *ex, struct runtime *rt, const struct run *r,
    int force)
{
	if (check_exportable(ex, r) != 0 || prepare_dir(ex, force) != 0)
		return EXIT_USAGE;
	if (ex->reveal &&
	    (rt->cfg.secrets_key_file == NULL ||
		seal_key_load(&ex->key, rt->cfg.secrets_key_file,
		    "[store] secrets_key_file", ex->err,
		    sizeof(ex->err)) != 0)) {
		if (rt->cfg.secrets_key_file == NULL)
			errf(ex->err, sizeof(ex->err),
			    "--reveal-secrets needs "
			    "the key: set [store] secrets_key_file in %s",
			    rt->cfg.file);
		return EXIT_USAGE;
	}
	snprintf(ex->temp, sizeof(ex->temp), "%s/" TEMP_PREFIX "%ld.tmp",
	    ex->dir, (long)getpid());
	catch_export_signals();
	if (store_doc_list(rt->st, r->id, "", "", export_doc, ex, ex->err,
		sizeof(ex->err)) != 0)
		return EXIT_RUNTIME;
	return 0;
}

int
cmd_export(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "force", 0, NULL },
		{ "reveal-secrets", 0, NULL }, { NULL, 0, NULL } };
	struct exporter ex = { 0 };
	struct runtime rt;
	struct run r;
	uint64_t id;
	int rc;

	if ((rc = parse_args(a, argc, argv, i, opts, 2, 2)) != 0 ||
	    (rc = open_run(&rt, a, a->pos[0], &id, &r)) != 0)
		return rc;
	ex.cmd = a->cmd;
	ex.dir = a->pos[1];
	ex.reveal = opt_get(opts, "reveal-secrets") != NULL;
	rc = run_export(&ex, &rt, &r, opt_get(opts, "force") != NULL);
	if (rc != 0) {
		complain(a->cmd, "%s%s", ex.err,
		    ex.files > 0 ?
			"; the files "
			"written so far are whole: run it again with --force to "
			"finish" :
			"");
	} else {
		printf("exported %llu documents of run %llu to %s\n",
		    (unsigned long long)ex.files, (unsigned long long)id,
		    ex.dir);
		if (ex.reveal)
			fprintf(stderr,
			    "oprun export: %llu secret values "
			    "written in plain text (files mode 0600): keep "
			    "%s private\n",
			    (unsigned long long)ex.secrets, ex.dir);
	}
	seal_key_wipe(&ex.key);
	run_free(&r);
	runtime_close(&rt);
	return rc;
}

/* ---- backups ----------------------------------------------------- */

/* "N objects, M failed" from a backup's result ({"families":{F:
 * {"captured","failed"}}}). */
static void
backup_counts(const struct run *r, double *captured, double *failed,
    int *families)
{
	cJSON *res = r->result != NULL ? cJSON_Parse(r->result) : NULL;
	cJSON *fam = cJSON_GetObjectItemCaseSensitive(res, "families"), *f;

	*captured = *failed = 0;
	*families = 0;
	cJSON_ArrayForEach(f, fam) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "captured");
		cJSON *x = cJSON_GetObjectItemCaseSensitive(f, "failed");

		*captured += cJSON_IsNumber(c) ? c->valuedouble : 0;
		*failed += cJSON_IsNumber(x) ? x->valuedouble : 0;
		(*families)++;
	}
	cJSON_Delete(res);
}

static cJSON *
backup_json(const struct run *r, uint64_t docs)
{
	cJSON *o = cJSON_CreateObject();
	char id[24], at[40];
	double captured, failed;
	int families;

	backup_counts(r, &captured, &failed, &families);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)r->id);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "tenant", r->tenant);
	cJSON_AddStringToObject(o, "state", run_state_name(r->state));
	format_rfc3339(r->created_at, at, sizeof(at));
	cJSON_AddStringToObject(o, "created_at", at);
	if (r->finished_at > 0) {
		format_rfc3339(r->finished_at, at, sizeof(at));
		cJSON_AddStringToObject(o, "finished_at", at);
	} else {
		cJSON_AddNullToObject(o, "finished_at");
	}
	cJSON_AddNumberToObject(o, "families", families);
	cJSON_AddNumberToObject(o, "objects", captured);
	cJSON_AddNumberToObject(o, "failed", failed);
	cJSON_AddNumberToObject(o, "documents", (double)docs);
	return o;
}

static void
print_backup(const struct run *r, uint64_t docs)
{
	char at[40] = "-";
	double captured, failed;
	int families;

	backup_counts(r, &captured, &failed, &families);
	if (r->finished_at > 0)
		format_rfc3339(r->finished_at, at, sizeof(at));
	printf("%-8llu %-16s %-10s %-24s %8.0f %7.0f %9llu\n",
	    (unsigned long long)r->id, r->tenant, run_state_name(r->state), at,
	    captured, failed, (unsigned long long)docs);
}

int
cmd_backups(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "tenant", 1, NULL }, { "limit", 1, NULL },
		{ "json", 0, NULL }, { NULL, 0, NULL } };
	struct run_filter f = { .type = BACKUP_TYPE, .limit = 50 };
	const char *limit = NULL;
	struct runtime rt;
	struct run *runs = NULL;
	uint64_t lim;
	size_t n = 0;
	char err[1024];
	int rc, json;
	cJSON *arr;

	if ((rc = parse_args(a, argc, argv, i, opts, 0, 0)) != 0)
		return rc;
	f.tenant = opt_get(opts, "tenant");
	limit = opt_get(opts, "limit");
	if (limit != NULL && (parse_u64(limit, 10000, &lim) != 0 || lim == 0))
		return usage_error(a->cmd, "--limit '%s': expected 1 to 10000",
		    limit);
	if (limit != NULL)
		f.limit = lim;
	json = opt_get(opts, "json") != NULL;
	if ((rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	if (store_list_runs(rt.st, &f, &runs, &n, err, sizeof(err)) != 0) {
		complain(a->cmd, "%s", err);
		runtime_close(&rt);
		return EXIT_RUNTIME;
	}
	arr = json ? cJSON_CreateArray() : NULL;
	if (!json)
		printf("%-8s %-16s %-10s %-24s %8s %7s %9s\n", "ID", "TENANT",
		    "STATE", "FINISHED", "OBJECTS", "FAILED", "DOCUMENTS");
	for (size_t k = 0; k < n; k++) {
		uint64_t docs = 0, bytes = 0;

		store_doc_count(rt.st, runs[k].id, &docs, &bytes, err,
		    sizeof(err));
		if (json)
			cJSON_AddItemToArray(arr, backup_json(&runs[k], docs));
		else
			print_backup(&runs[k], docs);
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "backups", arr);
		print_json(o);
	}
	store_runs_free(runs, n);
	runtime_close(&rt);
	return 0;
}

/* ---- directory --------------------------------------------------- */

struct dir_listing {
	int json;
	cJSON *items;
	uint64_t n;
};

static int
list_dir_obj(void *arg, const char *id, const char *display_name,
    const char *json)
{
	struct dir_listing *l = arg;

	(void)json;
	l->n++;
	if (l->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "displayName", display_name);
		cJSON_AddItemToArray(l->items, o);
	} else {
		char *safe = text_escape(display_name, 0);

		printf("%-40s %s\n", id, safe);
		free(safe);
	}
	return 0;
}

static int
known_tenant(const struct config *cfg, const char *tenant)
{
	for (size_t k = 0; k < cfg->ntenants; k++)
		if (strcmp(cfg->tenants[k].name, tenant) == 0)
			return 1;
	return 0;
}

static cJSON *
kind_summary(struct runtime *rt, const char *tenant, const char *kind, int json,
    char *err, size_t errlen)
{
	struct store_dir_info info;
	char at[40] = "never";
	cJSON *o;

	if (store_dir_info(rt->st, tenant, kind, &info, err, errlen) != 0)
		return NULL;
	if (info.synced_at > 0)
		format_rfc3339(info.synced_at, at, sizeof(at));
	if (!json) {
		printf("%-18s %8llu  synced %s\n", kind,
		    (unsigned long long)info.count, at);
		return cJSON_CreateNull();
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddNumberToObject(o, "count", (double)info.count);
	if (info.synced_at > 0)
		cJSON_AddStringToObject(o, "synced_at", at);
	else
		cJSON_AddNullToObject(o, "synced_at");
	return o;
}

static int
dir_summary(struct runtime *rt, const char *tenant, int json, char *err,
    size_t errlen)
{
	cJSON *arr = json ? cJSON_CreateArray() : NULL, *o = NULL;

	for (size_t k = 0; hostapi_directory_kinds[k] != NULL; k++) {
		cJSON *one = kind_summary(rt, tenant,
		    hostapi_directory_kinds[k], json, err, errlen);

		if (one == NULL) {
			cJSON_Delete(arr);
			return -1;
		}
		if (json)
			cJSON_AddItemToArray(arr, one);
		else
			cJSON_Delete(one);
	}
	if (json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "tenant", tenant);
		cJSON_AddItemToObject(o, "kinds", arr);
		print_json(o);
	}
	return 0;
}

static int
valid_kind(const char *kind)
{
	for (size_t k = 0; hostapi_directory_kinds[k] != NULL; k++)
		if (strcmp(kind, hostapi_directory_kinds[k]) == 0)
			return 1;
	return 0;
}

static int
dir_objects(struct runtime *rt, const char *tenant, const char *kind,
    const char *name, int json, char *err, size_t errlen)
{
	struct dir_listing l = { json, json ? cJSON_CreateArray() : NULL, 0 };
	size_t hits = 0;
	int rc;

	if (name != NULL)
		rc = store_dir_find(rt->st, tenant, kind, name, list_dir_obj,
		    &l, &hits, err, errlen);
	else
		rc = store_dir_list(rt->st, tenant, kind, "", 0, list_dir_obj,
		    &l, err, errlen);
	if (rc == 0 && json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "tenant", tenant);
		cJSON_AddStringToObject(o, "kind", kind);
		cJSON_AddItemToObject(o, "objects", l.items);
		print_json(o);
		l.items = NULL;
	} else if (rc == 0) {
		printf("%llu %s\n", (unsigned long long)l.n, kind);
	}
	cJSON_Delete(l.items);
	return rc;
}

int
cmd_directory(struct args *a, int argc, char **argv, int i)
{
	struct opt opts[] = { { "kind", 1, NULL }, { "name", 1, NULL },
		{ "json", 0, NULL }, { NULL, 0, NULL } };
	const char *kind, *name;
	struct runtime rt;
	char err[1024];
	int rc, json;

	if ((rc = parse_args(a, argc, argv, i, opts, 1, 1)) != 0)
		return rc;
	kind = opt_get(opts, "kind");
	name = opt_get(opts, "name");
	json = opt_get(opts, "json") != NULL;
	if (kind != NULL && !valid_kind(kind))
		return usage_error(a->cmd,
		    "--kind '%s': expected groups, "
		    "assignmentFilters or roleScopeTags",
		    kind);
	if (name != NULL && kind == NULL)
		return usage_error(a->cmd, "--name needs --kind");
	if ((rc = open_rt(&rt, a, RUNTIME_STORE)) != 0)
		return rc;
	if (!known_tenant(&rt.cfg, a->pos[0])) {
		rc = usage_error(a->cmd, "no [tenant %s] section in %s",
		    a->pos[0], rt.cfg.file);
		runtime_close(&rt);
		return rc;
	}
	rc = kind == NULL ?
	    dir_summary(&rt, a->pos[0], json, err, sizeof(err)) :
	    dir_objects(&rt, a->pos[0], kind, name, json, err, sizeof(err));
	if (rc != 0) {
		complain(a->cmd, "%s", err);
		rc = EXIT_RUNTIME;
	}
	runtime_close(&rt);
	return rc;
}
