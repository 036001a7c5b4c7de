#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "oprun/plugin.h"

struct parse_state {
	struct config *cfg;
	struct diag *diag;
	char *dir;			/* directory of the file, for paths */
	int line;			/* counted by line_reader */
	FILE *f;
	char section[256];		/* the section being read */
	int section_ok;			/* 0 after a bad section header */
	struct config_section *current; /* tenant/plugin being read */
	unsigned seen;			/* simple keys already given */
	int fixed_line[4];		/* where [store] .. [graph] began */
};

/* The sections with fixed keys, in fixed_line order. */
static const char *const fixed_sections[4] = { "store", "runner", "log",
	"graph" };

/* Keys of the fixed sections; a bit each in parse_state.seen. */
enum key_id {
	K_STORE_PATH, K_DURABILITY, K_PLUGIN_DIR, K_LOG_LEVEL, K_GRAPH_BASE,
	K_LOGIN_BASE, K_SECRETS_KEY, K_NUMERIC
};

static const struct {
	const char *section, *key;
} known_keys[K_NUMERIC] = {
	[K_STORE_PATH] = { "store", "path" },
	[K_DURABILITY] = { "store", "durability" },
	[K_PLUGIN_DIR] = { "runner", "plugin_dir" },
	[K_LOG_LEVEL] = { "log", "level" },
	[K_GRAPH_BASE] = { "graph", "base_url" },
	[K_LOGIN_BASE] = { "graph", "login_url" },
	[K_SECRETS_KEY] = { "store", "secrets_key_file" },
};

/* Whole-number keys: section, key, range, and the field they set. */
static const struct {
	const char *section, *key;
	uint64_t min, max;
	size_t offset;
} numeric_keys[] = {
	{ "store", "map_size_mb", 1, 1048576,
	    offsetof(struct config, map_size_mb) },
	{ "runner", "max_payload_bytes", 2, 1048576,
	    offsetof(struct config, max_payload_bytes) },
	{ "runner", "executors", 1, 64, offsetof(struct config, executors) },
	{ "runner", "max_attempts", 1, 100,
	    offsetof(struct config, max_attempts) },
	{ "runner", "run_timeout_s", 0, 604800,
	    offsetof(struct config, run_timeout_s) },
	{ "runner", "cancel_grace_s", 0, 3600,
	    offsetof(struct config, cancel_grace_s) },
	{ "runner", "stall_timeout_s", 1, 3600,
	    offsetof(struct config, stall_timeout_s) },
	{ "runner", "shutdown_grace_s", 0, 3600,
	    offsetof(struct config, shutdown_grace_s) },
	{ "runner", "max_concurrent_runs", 0, 100000,
	    offsetof(struct config, max_concurrent_runs) },
	{ "graph", "timeout_s", 1, 600, offsetof(struct config, graph_timeout_s) },
	{ "graph", "max_retries", 0, 20,
	    offsetof(struct config, graph_max_retries) },
	{ "graph", "max_wait_s", 0, 3600,
	    offsetof(struct config, graph_max_wait_s) },
};
#define NUMERIC_COUNT (sizeof(numeric_keys) / sizeof(numeric_keys[0]))

static const char *const tenant_keys[] = { "description",
	"max_concurrent_runs", "tenant_id", "client_id", "client_secret_file",
	NULL };

const char *
config_pick_file(const char *explicit_file)
{
	const char *env = getenv("OPRUN_CONFIG");

	if (explicit_file != NULL)
		return explicit_file;
	if (env != NULL && *env != '\0')
		return env;
	return CONFIG_DEFAULT_FILE;
}

int
config_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128)
		return 0;
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == '@'))
			return 0;
	}
	return 1;
}

/* inih calls the reader once per line, so counting here gives each
 * handler call its line number. */
static void enter_section(struct parse_state *ps, const char *section);

/* Section headers are noticed here rather than in the handler, because
 * inih calls the handler only for keys and a [tenant NAME] section with
 * no keys still defines a tenant. */
static void
notice_section(struct parse_state *ps, const char *line)
{
	char name[256];
	const char *end;
	size_t n;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '[' || (end = strchr(line, ']')) == NULL)
		return;
	n = (size_t)(end - line - 1);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, line + 1, n);
	name[n] = '\0';
	enter_section(ps, name);
}

/* inih calls the reader once per line, so counting here gives each
 * handler call its line number. */
static char *
line_reader(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *s = fgets(str, num, ps->f);
	size_t n;
	int c;

	if (s == NULL)
		return NULL;
	ps->line++;
	n = strlen(s);
	if (n > 0 && s[n - 1] != '\n' && !feof(ps->f)) {
		/* inih reads lines into a fixed buffer: a longer comment is
		 * skipped whole, a longer setting is one clear problem rather
		 * than pieces misread as several lines. */
		size_t skip = strspn(s, " \t");

		if (s[skip] != ';' && s[skip] != '#')
			diag_add(ps->diag, "%s:%d: line longer than %d bytes; "
			    "shorten it", ps->cfg->file, ps->line, num - 2);
		while ((c = fgetc(ps->f)) != EOF && c != '\n')
			;
		strcpy(s, "\n");
		return s;
	}
	notice_section(ps, s);
	return s;
}

static char *
resolve_path(const struct parse_state *ps, const char *value)
{
	size_t n;
	char *p;

	if (value[0] == '/' || ps->dir[0] == '\0')
		return xstrdup(value);
	n = strlen(ps->dir) + strlen(value) + 2;
	p = xmalloc(n);
	snprintf(p, n, "%s/%s", ps->dir, value);
	return p;
}

static void bad(struct parse_state *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bad(struct parse_state *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(ps->diag, "%s:%d: %s", ps->cfg->file, ps->line, msg);
}

static void
set_number(struct parse_state *ps, const char *key, const char *value,
    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (parse_u64(value, max, &v) != 0 || v < min) {
		diag_add(ps->diag, "%s:%d: %s = %s: expected a whole number "
		    "from %llu to %llu", ps->cfg->file, ps->line, key, value,
		    (unsigned long long)min, (unsigned long long)max);
		return;
	}
	*out = v;
}

static void
set_log_level(struct parse_state *ps, const char *value)
{
	static const char *const names[] = { "debug", "info", "warn",
		"error" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(value, names[i]) == 0) {
			ps->cfg->log_level = i;
			return;
		}
	}
	bad(ps, "level = %s: expected debug, info, warn or error", value);
}

/* Base URLs: http(s)://host[:port], kept without a trailing slash. */
static void
set_url(struct parse_state *ps, char **dst, const char *key,
    const char *value)
{
	size_t n = strlen(value);

	if ((strncmp(value, "https://", 8) != 0 &&
	    strncmp(value, "http://", 7) != 0) || n > 512 ||
	    strpbrk(value, " \t?#") != NULL) {
		bad(ps, "%s = %s: expected an http:// or https:// URL such as "
		    "https://graph.microsoft.com", key, value);
		return;
	}
	while (n > 0 && value[n - 1] == '/')
		n--;
	free(*dst);
	*dst = xmalloc(n + 1);
	memcpy(*dst, value, n);
	(*dst)[n] = '\0';
}

static void
set_simple(struct parse_state *ps, enum key_id id, const char *value)
{
	struct config *cfg = ps->cfg;

	switch (id) {
	case K_STORE_PATH:
		if (value[0] == '\0') {
			bad(ps, "path is empty; set path = DIR, the store "
			    "directory (relative to this file)");
			break;
		}
		free(cfg->store_path);
		cfg->store_path = resolve_path(ps, value);
		break;
	case K_DURABILITY:
		if (strcmp(value, "full") == 0 || strcmp(value, "relaxed") == 0)
			cfg->durable = strcmp(value, "full") == 0;
		else
			bad(ps, "durability = %s: expected full or relaxed",
			    value);
		break;
	case K_SECRETS_KEY:
		if (value[0] == '\0') {
			bad(ps, "secrets_key_file is empty; set it to a key "
			    "file made by `oprun keygen FILE` (relative to "
			    "this file)");
			break;
		}
		free(cfg->secrets_key_file);
		cfg->secrets_key_file = resolve_path(ps, value);
		break;
	case K_PLUGIN_DIR:
		if (value[0] == '\0') {
			bad(ps, "plugin_dir is empty; set plugin_dir = DIR, the "
			    "plugin directory (relative to this file)");
			break;
		}
		free(cfg->plugin_dir);
		cfg->plugin_dir = resolve_path(ps, value);
		break;
	case K_LOG_LEVEL:
		set_log_level(ps, value);
		break;
	case K_GRAPH_BASE:
	case K_LOGIN_BASE:
		set_url(ps, id == K_GRAPH_BASE ? &cfg->graph_base_url :
		    &cfg->login_url, known_keys[id].key, value);
		break;
	case K_NUMERIC:
		break;
	}
}

static struct config_section *
add_section(struct parse_state *ps, struct config_section **v, size_t *n,
    const char *kind, const char *name)
{
	struct config_section *s;

	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i].name, name) == 0) {
			diag_add(ps->diag, "%s:%d: [%s %s] appears twice (first "
			    "at line %d); merge the two sections",
			    ps->cfg->file, ps->line, kind, name, (*v)[i].line);
			/* Read on as if merged, so the problems in the
			 * second one are reported too. */
			return &(*v)[i];
		}
	}
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	s = &(*v)[(*n)++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->line = ps->line;
	return s;
}

/* Called for each section header line. */
static void
enter_section(struct parse_state *ps, const char *section)
{
	struct config *cfg = ps->cfg;
	const char *name;

	snprintf(ps->section, sizeof(ps->section), "%s", section);
	ps->current = NULL;
	ps->section_ok = 1;
	for (int i = 0; i < 4; i++) {
		if (strcmp(section, fixed_sections[i]) != 0)
			continue;
		/* A repeated section is reported; its keys are still read
		 * (a key given in both is then "set twice"). */
		if (ps->fixed_line[i] != 0)
			bad(ps, "[%s] appears twice (first at line %d); merge "
			    "the two sections", section, ps->fixed_line[i]);
		else
			ps->fixed_line[i] = ps->line;
		return;
	}
	if (strncmp(section, "schedule ", 9) == 0) {
		name = section + 9 + strspn(section + 9, " ");
		if (!config_name_valid(name))
			bad(ps, "[%s]: the name must be 1-128 characters of "
			    "A-Z a-z 0-9 . _ - @", section);
		else
			ps->current = add_section(ps, &cfg->schedules,
			    &cfg->nschedules, "schedule", name);
		ps->section_ok = ps->current != NULL;
		return;
	}
	if (strncmp(section, "tenant ", 7) == 0 ||
	    strncmp(section, "plugin ", 7) == 0) {
		int tenant = section[0] == 't';

		name = section + 7;
		while (*name == ' ')
			name++;
		if (!config_name_valid(name)) {
			bad(ps, "[%s]: the name must be 1-128 characters of "
			    "A-Z a-z 0-9 . _ - @", section);
		} else {
			ps->current = tenant ?
			    add_section(ps, &cfg->tenants, &cfg->ntenants,
			    "tenant", name) :
			    add_section(ps, &cfg->plugins, &cfg->nplugins,
			    "plugin", name);
		}
		ps->section_ok = ps->current != NULL;
		return;
	}
	ps->section_ok = 0;
	bad(ps, "unknown section [%s]; known: [store], [runner], [log], "
	    "[graph], [tenant NAME], [plugin NAME], [schedule NAME]", section);
}

static void
add_entry(struct parse_state *ps, const char *key, const char *value)
{
	struct config_section *s = ps->current;
	struct config_entry *e;

	if (config_section_get(s, key) != NULL) {
		bad(ps, "%s is set twice in [%s]; keep one", key, ps->section);
		return;
	}
	s->entries = xrealloc(s->entries,
	    (s->nentries + 1) * sizeof(*s->entries));
	e = &s->entries[s->nentries++];
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->line = ps->line;
}

/* The secret must be a file only its owner can read: it is read when a
 * run needs a token, never copied anywhere else. */
static void
check_secret_file(struct parse_state *ps, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		bad(ps, "client_secret_file %s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISREG(sb.st_mode))
		bad(ps, "client_secret_file %s: not a regular file", path);
	else if (sb.st_mode & (S_IRWXG | S_IRWXO))
		bad(ps, "client_secret_file %s: readable or writable by group "
		    "or others; run `chmod 600 %s`", path, path);
}

/* Tenant and client ids: a GUID, or for tenant_id a domain name. */
static void
check_id(struct parse_state *ps, const char *key, const char *value)
{
	size_t n = strlen(value);
	int guidish = n == 36;

	for (size_t i = 0; i < n && guidish; i++)
		guidish = (i == 8 || i == 13 || i == 18 || i == 23) ?
		    value[i] == '-' : strchr("0123456789abcdefABCDEF",
		    value[i]) != NULL;
	if (guidish)
		return;
	if (strcmp(key, "tenant_id") == 0 && n > 0 && n < 256 &&
	    strspn(value, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n &&
	    strchr(value, '.') != NULL)
		return;
	bad(ps, "%s = %s: expected a GUID such as "
	    "00000000-0000-0000-0000-000000000000%s", key, value,
	    strcmp(key, "tenant_id") == 0 ? " or a domain such as "
	    "contoso.onmicrosoft.com" : "");
}

static void
tenant_key(struct parse_state *ps, const char *key, const char *value)
{
	uint64_t cap;

	for (int i = 0; tenant_keys[i] != NULL; i++) {
		if (strcmp(key, tenant_keys[i]) != 0)
			continue;
		if (strcmp(key, "max_concurrent_runs") == 0)
			set_number(ps, key, value, 0, 100000, &cap);
		if (strcmp(key, "client_secret_file") == 0) {
			char *path = resolve_path(ps, value);

			check_secret_file(ps, path);
			add_entry(ps, key, path);
			free(path);
			return;
		}
		if (strcmp(key, "tenant_id") == 0 ||
		    strcmp(key, "client_id") == 0)
			check_id(ps, key, value);
		add_entry(ps, key, value);
		return;
	}
	bad(ps, "unknown key %s in [%s]; known: description, "
	    "max_concurrent_runs, tenant_id, client_id, client_secret_file",
	    key, ps->section);
}

/* An unknown key in a fixed section: the message lists the known ones. */
static void
bad_key(struct parse_state *ps, const char *key)
{
	char known[256] = "";
	size_t off = 0;

	for (unsigned i = 0; i < K_NUMERIC + NUMERIC_COUNT; i++) {
		const char *sec = i < K_NUMERIC ? known_keys[i].section :
		    numeric_keys[i - K_NUMERIC].section;
		const char *name = i < K_NUMERIC ? known_keys[i].key :
		    numeric_keys[i - K_NUMERIC].key;

		if (strcmp(sec, ps->section) == 0 && off < sizeof(known))
			off += (size_t)snprintf(known + off, sizeof(known) - off,
			    "%s%s", off > 0 ? ", " : "", name);
	}
	bad(ps, "unknown key %s in [%s]; the known keys are %s", key,
	    ps->section, known);
}

/* Marks key id as given in this file; a second time is a problem. */
static void
mark_seen(struct parse_state *ps, unsigned bit, const char *key)
{
	if (ps->seen & (1u << bit))
		bad(ps, "%s is set twice in [%s]; keep one", key, ps->section);
	ps->seen |= 1u << bit;
}

static void
simple_key(struct parse_state *ps, const char *key, const char *value)
{
	for (unsigned i = 0; i < K_NUMERIC; i++) {
		if (strcmp(known_keys[i].section, ps->section) != 0 ||
		    strcmp(known_keys[i].key, key) != 0)
			continue;
		mark_seen(ps, i, key);
		set_simple(ps, (enum key_id)i, value);
		return;
	}
	for (unsigned i = 0; i < NUMERIC_COUNT; i++) {
		if (strcmp(numeric_keys[i].section, ps->section) != 0 ||
		    strcmp(numeric_keys[i].key, key) != 0)
			continue;
		mark_seen(ps, K_NUMERIC + i, key);
		set_number(ps, key, value, numeric_keys[i].min,
		    numeric_keys[i].max, (uint64_t *)(void *)((char *)ps->cfg +
		    numeric_keys[i].offset));
		return;
	}
	bad_key(ps, key);
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *ps = user;

	if (key == NULL || !ps->section_ok)
		return 1;
	if (section[0] == '\0') {
		bad(ps, "%s = ... appears before any [section]; move it into "
		    "one", key);
		return 1;
	}
	if (strncmp(section, "plugin ", 7) == 0 ||
	    strncmp(section, "schedule ", 9) == 0)
		add_entry(ps, key, value);
	else if (strncmp(section, "tenant ", 7) == 0)
		tenant_key(ps, key, value);
	else
		simple_key(ps, key, value);
	return 1;
}

static void
set_defaults(struct config *cfg, const char *dir)
{
	struct parse_state ps = { .cfg = cfg, .dir = (char *)dir };

	cfg->store_path = resolve_path(&ps, "../var/store");
	cfg->plugin_dir = resolve_path(&ps, "../build/plugins");
	cfg->map_size_mb = 1024;
	cfg->durable = 1;
	cfg->max_payload_bytes = 64 * 1024;
	cfg->executors = 2;
	cfg->max_attempts = 3;
	cfg->run_timeout_s = 3600;
	cfg->cancel_grace_s = 10;
	cfg->stall_timeout_s = 5;
	cfg->shutdown_grace_s = 30;
	cfg->graph_base_url = xstrdup("https://graph.microsoft.com");
	cfg->login_url = xstrdup("https://login.microsoftonline.com");
	cfg->graph_timeout_s = 30;
	cfg->graph_max_retries = 5;
	cfg->graph_max_wait_s = 120;
	cfg->log_level = OPRUN_LOG_INFO;
}

static char *
dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	char *d;

	if (slash == NULL)
		return xstrdup(".");
	d = xmalloc((size_t)(slash - file) + 2);
	memcpy(d, file, (size_t)(slash - file));
	d[slash - file] = '\0';
	if (d[0] == '\0')
		strcpy(d, "/");
	return d;
}

static const char *const credential_keys[] = { "tenant_id", "client_id",
	"client_secret_file" };

/* App credentials come as a set of three, or not at all. */
static void
check_credentials(const struct config *cfg, struct diag *diag)
{
	for (size_t i = 0; i < cfg->ntenants; i++) {
		const struct config_section *t = &cfg->tenants[i];
		int have = 0;

		for (int k = 0; k < 3; k++)
			have += config_section_get(t, credential_keys[k]) != NULL;
		if (have != 0 && have != 3)
			diag_add(diag, "%s:%d: [tenant %s] needs tenant_id, "
			    "client_id and client_secret_file together; add the "
			    "missing ones or remove the others", cfg->file,
			    t->line, t->name);
	}
}

int
config_tenant_has_app(const struct config_section *s)
{
	for (int k = 0; k < 3; k++)
		if (config_section_get(s, credential_keys[k]) == NULL)
			return 0;
	return 1;
}

int
config_load(const char *file, struct config *cfg, struct diag *diag)
{
	struct parse_state ps = { .cfg = cfg, .diag = diag, .section_ok = 1 };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->file = xstrdup(file);
	ps.dir = dir_of(file);
	set_defaults(cfg, ps.dir);
	ps.f = fopen(file, "r");
	if (ps.f == NULL) {
		diag_add(diag, "%s: cannot open configuration: %s; pass -c FILE "
		    "or set OPRUN_CONFIG", file, strerror(errno));
		free(ps.dir);
		return -1;
	}
	rc = ini_parse_stream(line_reader, &ps, handler, &ps);
	if (rc > 0)
		diag_add(diag, "%s:%d: syntax error; expected [section] or "
		    "key = value", file, rc);
	else if (rc < 0)
		diag_add(diag, "%s: could not be parsed (error %d)", file, rc);
	fclose(ps.f);
	free(ps.dir);
	check_credentials(cfg, diag);
	return diag->n == 0 ? 0 : -1;
}

static void
free_sections(struct config_section *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].nentries; j++) {
			free(v[i].entries[j].key);
			free(v[i].entries[j].value);
		}
		free(v[i].entries);
		free(v[i].name);
	}
	free(v);
}

void
config_free(struct config *cfg)
{
	free(cfg->file);
	free(cfg->store_path);
	free(cfg->secrets_key_file);
	free(cfg->plugin_dir);
	free(cfg->graph_base_url);
	free(cfg->login_url);
	free_sections(cfg->tenants, cfg->ntenants);
	free_sections(cfg->plugins, cfg->nplugins);
	free_sections(cfg->schedules, cfg->nschedules);
	memset(cfg, 0, sizeof(*cfg));
}

static const struct config_section *
find_section(const struct config_section *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

const struct config_section *
config_tenant(const struct config *cfg, const char *name)
{
	return find_section(cfg->tenants, cfg->ntenants, name);
}

const struct config_section *
config_plugin(const struct config *cfg, const char *name)
{
	return find_section(cfg->plugins, cfg->nplugins, name);
}

const char *
config_section_get(const struct config_section *s, const char *key)
{
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < s->nentries; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return s->entries[i].value;
	return NULL;
}

int
config_is_host_plugin_key(const char *key)
{
	return strcmp(key, "run_timeout_s") == 0 ||
	    strncmp(key, "run_timeout_s.", 14) == 0;
}

static int64_t
seconds_ms(const char *v, int64_t fallback)
{
	uint64_t secs;

	if (v == NULL || parse_u64(v, 604800, &secs) != 0)
		return fallback;
	return (int64_t)secs * 1000;
}

int64_t
config_timeout_ms(const struct config *cfg, const char *plugin,
    const char *type)
{
	const struct config_section *s = config_plugin(cfg, plugin);
	int64_t ms = (int64_t)cfg->run_timeout_s * 1000;
	char key[128];

	snprintf(key, sizeof(key), "run_timeout_s.%s", type);
	ms = seconds_ms(config_section_get(s, "run_timeout_s"), ms);
	return seconds_ms(config_section_get(s, key), ms);
}

uint32_t
config_tenant_cap(const struct config *cfg, const char *name)
{
	const char *v = config_section_get(config_tenant(cfg, name),
	    "max_concurrent_runs");
	uint64_t cap = 0;

	if (v != NULL && parse_u64(v, 100000, &cap) != 0)
		cap = 0;
	return (uint32_t)cap;
}
