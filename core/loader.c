#define _GNU_SOURCE /* O_NOFOLLOW, openat, dirfd */
#include "loader.h"

#include <dirent.h>
#include <stddef.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file or directory we execute code from must be ours or root's and
 * writable by nobody else. */
static const char *
untrusted_why(const struct stat *sb)
{
	if (sb->st_uid != 0 && sb->st_uid != geteuid())
		return "is owned by another user";
	if (sb->st_mode & (S_IWGRP | S_IWOTH))
		return "is writable by group or others";
	return NULL;
}

static int
valid_type_name(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static void
free_plugin(struct loaded_plugin *p)
{
	free(p->path);
	free(p->ops);
	free(p);
}

/* The least a descriptor can be: up to its last required member (run of
 * an operation, operations of a plugin), all there since ABI 1.0. */
#define OPERATION_MIN_SIZE (offsetof(struct oprun_operation, run) + \
	sizeof(((struct oprun_operation *)0)->run))
#define PLUGIN_MIN_SIZE (offsetof(struct oprun_plugin, operations) + \
	sizeof(((struct oprun_plugin *)0)->operations))

/* Copies the operations out of the plugin's descriptor. */
static int
copy_ops(struct loaded_plugin *p, const char *file, struct diag *diag)
{
	const struct oprun_operation *const *ops = p->desc.operations;
	size_t n = 0;

	while (ops != NULL && ops[n] != NULL && n < 256)
		n++;
	if (n == 0) {
		diag_add(diag, "plugin %s: provides no operations; list them "
		    "in the descriptor's operations array", file);
		return -1;
	}
	p->ops = xcalloc(n, sizeof(*p->ops));
	for (size_t i = 0; i < n; i++) {
		size_t sz = ops[i]->size < sizeof(struct oprun_operation) ?
		    ops[i]->size : sizeof(struct oprun_operation);

		/* Every member up to run is ABI 1.0: a smaller size is a
		 * descriptor that forgot to set it. */
		if (sz < OPERATION_MIN_SIZE) {
			diag_add(diag, "plugin %s: operation %zu has size %u, "
			    "less than the %zu bytes that hold its run function; "
			    "set .size = sizeof(struct oprun_operation)", file,
			    i + 1, ops[i]->size, OPERATION_MIN_SIZE);
			return -1;
		}
		memcpy(&p->ops[i].op, ops[i], sz);
		p->ops[i].op.size = (uint32_t)sz;
		p->ops[i].plugin = p;
		if (!valid_type_name(p->ops[i].op.type) ||
		    p->ops[i].op.run == NULL) {
			diag_add(diag, "plugin %s: operation %zu has no valid "
			    "type ([a-z0-9_-], at most 64) or no run "
			    "function; fix its descriptor", file, i + 1);
			return -1;
		}
	}
	p->nops = n;
	return 0;
}

/* Checks the descriptor's ABI version before reading anything else. */
static int
adopt_descriptor(struct loaded_plugin *p, const struct oprun_plugin *d,
    const char *file, struct diag *diag)
{
	size_t sz;

	if (d == NULL) {
		diag_add(diag, "plugin %s: oprun_plugin_describe returned NULL "
		    "(the plugin refused runner ABI %d.%d)", file,
		    OPRUN_ABI_MAJOR, OPRUN_ABI_MINOR);
		return -1;
	}
	/* size, abi_major and abi_minor come first in every ABI. */
	if (d->size < 8 || (d->abi_major == OPRUN_ABI_MAJOR &&
	    d->abi_minor <= OPRUN_ABI_MINOR && d->size < PLUGIN_MIN_SIZE)) {
		diag_add(diag, "plugin %s: descriptor has size %u, less than "
		    "the %zu bytes that hold its operations; set .size = "
		    "sizeof(struct oprun_plugin)", file, d->size,
		    PLUGIN_MIN_SIZE);
		return -1;
	}
	if (d->abi_major != OPRUN_ABI_MAJOR ||
	    d->abi_minor > OPRUN_ABI_MINOR) {
		diag_add(diag, "plugin %s: ABI %u.%u, runner provides %d.%d; "
		    "rebuild it against oprun/plugin.h %d.%d", file,
		    d->abi_major, d->abi_minor, OPRUN_ABI_MAJOR,
		    OPRUN_ABI_MINOR, OPRUN_ABI_MAJOR, OPRUN_ABI_MINOR);
		return -1;
	}
	sz = d->size < sizeof(p->desc) ? d->size : sizeof(p->desc);
	memcpy(&p->desc, d, sz);
	if (p->desc.name == NULL || !valid_type_name(p->desc.name) ||
	    p->desc.version == NULL) {
		diag_add(diag, "plugin %s: descriptor lacks a valid name "
		    "([a-z0-9_-]) or version; fix the descriptor", file);
		return -1;
	}
	return copy_ops(p, file, diag);
}

/* The usual library of a symbol a plugin may forget to link. */
static const char *
library_of(const char *sym)
{
	if (strncmp(sym, "cJSON_", 6) == 0)
		return "-lcjson";
	if (strncmp(sym, "curl_", 5) == 0)
		return "-lcurl";
	if (strncmp(sym, "mdb_", 4) == 0)
		return "-llmdb";
	if (strncmp(sym, "EVP_", 4) == 0 || strncmp(sym, "SHA", 3) == 0)
		return "-lcrypto";
	return NULL;
}

/*
 * Reports why dlopen refused the plugin, naming the file rather than the
 * /proc/self/fd/N it was loaded through, with the fix for the cause: an
 * undefined symbol is a library the plugin was not linked with, a missing
 * shared object one that is not installed; anything else (not ELF, wrong
 * architecture) needs a rebuild.
 */
static void
report_dlerror(const char *path, const char *procpath, const char *why,
    struct diag *diag)
{
	size_t plen = strlen(procpath);
	const char *undef, *lib;
	char sym[128];

	if (why == NULL)
		why = "unknown error";
	if (strncmp(why, procpath, plen) == 0 && strncmp(why + plen, ": ",
	    2) == 0)
		why += plen + 2;
	if ((undef = strstr(why, "undefined symbol: ")) != NULL) {
		snprintf(sym, sizeof(sym), "%.*s", (int)strcspn(undef + 18,
		    " ,;()"), undef + 18);
		lib = library_of(sym);
		diag_add(diag, "plugin %s: cannot be loaded: undefined symbol "
		    "%s; link the library that provides it when building the "
		    "plugin (%s%s), and build with -Wl,-z,defs so a missing "
		    "library fails the build", path, sym, lib != NULL ? lib :
		    "e.g. -lcjson for cJSON_ symbols",
		    lib != NULL ? " for this one" : "");
		return;
	}
	if (strstr(why, "cannot open shared object file") != NULL) {
		diag_add(diag, "plugin %s: cannot be loaded: %s; install the "
		    "library it needs (or rebuild it against this system's "
		    "libraries)", path, why);
		return;
	}
	diag_add(diag, "plugin %s: cannot be loaded: %s; rebuild it against "
	    "this system's libraries", path, why);
}

/* dlopens the checked descriptor fd and reads the plugin's descriptor.
 * The dynamic linker recognises loaded objects by name, and our name is
 * /proc/self/fd/N: the descriptor of a loaded plugin is therefore kept
 * open for the life of the process (plugins are never unloaded), so no
 * later plugin can reuse N and be mistaken for it. */
static struct loaded_plugin *
load_fd(int fd, const char *path, struct diag *diag, int *keep_fd)
{
	char procpath[64];
	struct loaded_plugin *p;
	oprun_describe_fn describe;
	void *handle;

	snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", fd);
	handle = dlopen(procpath, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		report_dlerror(path, procpath, dlerror(), diag);
		return NULL;
	}
	*(void **)&describe = dlsym(handle, OPRUN_ENTRY_SYMBOL);
	if (describe == NULL) {
		diag_add(diag, "plugin %s: has no %s symbol; export it with "
		    "OPRUN_EXPORT (see CONTRIBUTING.md)", path,
		    OPRUN_ENTRY_SYMBOL);
		dlclose(handle); /* none of its code ever ran */
		return NULL;
	}
	*keep_fd = 1;
	p = xcalloc(1, sizeof(*p));
	p->path = xstrdup(path);
	if (adopt_descriptor(p, describe(OPRUN_ABI_MAJOR, OPRUN_ABI_MINOR),
	    path, diag) != 0) {
		free_plugin(p);
		/* Its code ran: keep it mapped and keep fd, never dlclose. */
		return NULL;
	}
	return p;
}

/* The descriptors kept for loaded files (see load_fd), by inode.  A file
 * loaded again (every reload loads the whole directory) is dlopened
 * through the descriptor kept for it: the dynamic linker hands back the
 * object it has, and no descriptor is added per reload.  While the kept
 * descriptor is open its inode cannot be reused, so a match is the same
 * file. */
struct kept_fd {
	dev_t dev;
	ino_t ino;
	int fd;
};

static struct kept_fd *kept_fds;
static size_t nkept;

static int
kept_fd_of(const struct stat *sb)
{
	for (size_t i = 0; i < nkept; i++)
		if (kept_fds[i].dev == sb->st_dev &&
		    kept_fds[i].ino == sb->st_ino)
			return kept_fds[i].fd;
	return -1;
}

static void
keep_fd_of(const struct stat *sb, int fd)
{
	kept_fds = xrealloc(kept_fds, (nkept + 1) * sizeof(*kept_fds));
	kept_fds[nkept].dev = sb->st_dev;
	kept_fds[nkept].ino = sb->st_ino;
	kept_fds[nkept++].fd = fd;
}

/* Opens name (relative to dirfd, or absolute with AT_FDCWD) without
 * following links, checks it through the descriptor, then loads it. */
static struct loaded_plugin *
load_checked(int dirfd, const char *name, const char *path,
    struct diag *diag)
{
	struct loaded_plugin *p = NULL;
	struct stat sb;
	const char *why;
	int keep_fd = 0, known;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1) {
		diag_add(diag, "plugin %s: cannot be opened: %s%s", path,
		    strerror(errno), errno == ELOOP ? " (symbolic links are "
		    "refused; copy the file in)" : "");
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		diag_add(diag, "plugin %s: is not a regular file; put only "
		    "plugin files in the plugin directory", path);
		goto out_close;
	}
	if ((why = untrusted_why(&sb)) != NULL) {
		diag_add(diag, "plugin %s: refused: the file %s; run `chown "
		    "root %s && chmod go-w %s`", path, why, path, path);
		goto out_close;
	}
	known = kept_fd_of(&sb);
	p = load_fd(known >= 0 ? known : fd, path, diag, &keep_fd);
	if (p != NULL) {
		p->dev = sb.st_dev;
		p->ino = sb.st_ino;
	}
	if (keep_fd && known < 0) {
		keep_fd_of(&sb, fd);
		return p; /* see load_fd */
	}
out_close:
	close(fd);
	return p;
}

static void
registry_add(struct plugin_registry *reg, struct loaded_plugin *p,
    const struct config *cfg)
{
	p->section = cfg != NULL ? config_plugin(cfg, p->desc.name) : NULL;
	reg->plugins = xrealloc(reg->plugins,
	    (reg->n + 1) * sizeof(*reg->plugins));
	reg->plugins[reg->n++] = p;
}

static const struct loaded_op *
find_in(const struct loaded_plugin *p, const char *type)
{
	for (size_t i = 0; i < p->nops; i++)
		if (strcmp(p->ops[i].op.type, type) == 0)
			return &p->ops[i];
	return NULL;
}

/* The first operation of p that may write the directory cache. */
static const char *
directory_writer(const struct loaded_plugin *p)
{
	for (size_t i = 0; i < p->nops; i++)
		if (p->ops[i].op.flags & OPRUN_OP_DIRECTORY_WRITER)
			return p->ops[i].op.type;
	return NULL;
}

/* Refuses every plugin that shares an operation type or a name with
 * another, naming both files, and two plugins that would both write the
 * directory cache (one writer, every other plugin reads). */
static void
refuse_duplicates(struct plugin_registry *reg, struct diag *diag)
{
	for (size_t i = 0; i < reg->n; i++) {
		struct loaded_plugin *a = reg->plugins[i];

		for (size_t j = i + 1; j < reg->n; j++) {
			struct loaded_plugin *b = reg->plugins[j];

			if (directory_writer(a) != NULL &&
			    directory_writer(b) != NULL) {
				diag_add(diag, "plugins %s and %s: both write "
				    "the directory cache (operations '%s' and "
				    "'%s' are flagged OPRUN_OP_DIRECTORY_WRITER); "
				    "both refused, remove one", a->path,
				    b->path, directory_writer(a),
				    directory_writer(b));
				a->refused = b->refused = 1;
			}

			if (strcmp(a->desc.name, b->desc.name) == 0) {
				diag_add(diag, "plugins %s and %s: both are "
				    "named '%s'; both refused, remove one",
				    a->path, b->path, a->desc.name);
				a->refused = b->refused = 1;
				continue;
			}
			for (size_t k = 0; k < a->nops; k++) {
				if (find_in(b, a->ops[k].op.type) == NULL)
					continue;
				diag_add(diag, "plugins %s and %s: both provide "
				    "operation '%s'; both refused, remove one",
				    a->path, b->path, a->ops[k].op.type);
				a->refused = b->refused = 1;
			}
		}
	}
}

static void
drop_refused(struct plugin_registry *reg)
{
	size_t kept = 0;

	for (size_t i = 0; i < reg->n; i++) {
		if (reg->plugins[i]->refused)
			free_plugin(reg->plugins[i]);
		else
			reg->plugins[kept++] = reg->plugins[i];
	}
	reg->n = kept;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of *.so entries in the open directory. */
static char **
list_so(DIR *d, size_t *n)
{
	char **names = NULL;
	struct dirent *e;

	*n = 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
			continue;
		names = xrealloc(names, (*n + 1) * sizeof(*names));
		names[(*n)++] = xstrdup(e->d_name);
	}
	if (*n > 0)
		qsort(names, *n, sizeof(*names), cmp_names);
	return names;
}

static int
check_dir(DIR *d, const char *dir, struct diag *diag)
{
	struct stat sb;
	const char *why;

	if (fstat(dirfd(d), &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		diag_add(diag, "plugin directory %s: not a directory; fix "
		    "[runner] plugin_dir", dir);
		return -1;
	}
	if ((why = untrusted_why(&sb)) != NULL) {
		diag_add(diag, "plugin directory %s: refused: it %s; run "
		    "`chown root %s && chmod go-w %s`", dir, why, dir, dir);
		return -1;
	}
	return 0;
}

/* 1 if reg holds a plugin loaded from the file name in directory dfd. */
static int
registry_holds(const struct plugin_registry *reg, int dfd, const char *name)
{
	struct stat sb;

	if (reg->n == 0 || fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	for (size_t i = 0; i < reg->n; i++)
		if (reg->plugins[i]->dev == sb.st_dev &&
		    reg->plugins[i]->ino == sb.st_ino)
			return 1;
	return 0;
}

/* Refuses each plugin of fresh whose name or an operation type reg
 * already has; the one in reg stays. */
static void
refuse_clashes(const struct plugin_registry *reg,
    struct plugin_registry *fresh, struct diag *diag)
{
	for (size_t i = 0; i < fresh->n; i++) {
		struct loaded_plugin *p = fresh->plugins[i];

		for (size_t j = 0; j < reg->n && !p->refused; j++) {
			const struct loaded_plugin *q = reg->plugins[j];

			if (strcmp(p->desc.name, q->desc.name) == 0) {
				diag_add(diag, "plugin %s: '%s' is already "
				    "loaded from %s; the new file takes effect "
				    "at the next reload", p->path, p->desc.name,
				    q->path);
				p->refused = 1;
				continue;
			}
			for (size_t k = 0; k < p->nops && !p->refused; k++) {
				if (find_in(q, p->ops[k].op.type) == NULL)
					continue;
				diag_add(diag, "plugin %s: provides operation "
				    "'%s', which %s already provides; refused, "
				    "remove one", p->path, p->ops[k].op.type,
				    q->path);
				p->refused = 1;
			}
		}
	}
}

static void check_section(const struct loaded_plugin *p,
    const struct config *cfg, struct diag *diag);

/* Refuses each plugin of fresh whose [plugin NAME] section has a problem
 * (at start and on reload, such a problem stops serve or the reload). */
static void
refuse_misconfigured(struct plugin_registry *fresh, const struct config *cfg,
    struct diag *diag)
{
	for (size_t i = 0; i < fresh->n; i++) {
		struct loaded_plugin *p = fresh->plugins[i];
		struct diag pd = { 0 };

		check_section(p, cfg, &pd);
		for (size_t k = 0; k < pd.n; k++)
			diag_add(diag, "%s; plugin %s refused until it is "
			    "fixed", pd.lines[k], p->path);
		p->refused |= pd.n > 0;
		diag_free(&pd);
	}
}

/* Moves every plugin of fresh to the end of reg. */
static void
registry_take(struct plugin_registry *reg, struct plugin_registry *fresh)
{
	if (fresh->n > 0) {
		reg->plugins = xrealloc(reg->plugins,
		    (reg->n + fresh->n) * sizeof(*reg->plugins));
		memcpy(reg->plugins + reg->n, fresh->plugins,
		    fresh->n * sizeof(*reg->plugins));
		reg->n += fresh->n;
	}
	free(fresh->plugins);
	fresh->plugins = NULL;
	fresh->n = 0;
}

/* Loads the *.so files of dir into reg.  With only_new, files reg holds
 * are skipped, and new plugins that clash with reg's or whose section
 * has a problem are refused.  Returns how many were added, or -1. */
static int
load_dir(struct plugin_registry *reg, const char *dir,
    const struct config *cfg, int only_new, struct diag *diag)
{
	struct plugin_registry fresh = { 0 };
	DIR *d = opendir(dir);
	char **names;
	size_t n;
	int added = -1;

	if (d == NULL) {
		diag_add(diag, "plugin directory %s: %s; fix [runner] "
		    "plugin_dir", dir, strerror(errno));
		return -1;
	}
	if (check_dir(d, dir, diag) != 0)
		goto out_close;
	names = list_so(d, &n);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct loaded_plugin *p;

		if (!only_new || !registry_holds(reg, dirfd(d), names[i])) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			p = load_checked(dirfd(d), names[i], path, diag);
			if (p != NULL)
				registry_add(&fresh, p, cfg);
		}
		free(names[i]);
	}
	free(names);
	refuse_duplicates(&fresh, diag);
	if (only_new) {
		refuse_clashes(reg, &fresh, diag);
		if (cfg != NULL)
			refuse_misconfigured(&fresh, cfg, diag);
	}
	drop_refused(&fresh);
	added = (int)fresh.n;
	registry_take(reg, &fresh);
out_close:
	closedir(d);
	return added;
}

int
plugins_load_dir(struct plugin_registry *reg, const char *dir,
    const struct config *cfg, struct diag *diag)
{
	return load_dir(reg, dir, cfg, 0, diag) < 0 ? -1 : 0;
}

int
plugins_load_new(struct plugin_registry *reg, const char *dir,
    const struct config *cfg, struct diag *diag)
{
	return load_dir(reg, dir, cfg, 1, diag);
}

/* FNV-1a, 64 bits: enough to tell two states of a directory apart. */
static uint64_t
fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *b = data;

	while (n-- > 0) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* What of sb the loader's checks and a new copy of a file change. */
static uint64_t
stamp_stat(uint64_t h, const struct stat *sb, int times)
{
	uint64_t v[9] = { (uint64_t)sb->st_dev, (uint64_t)sb->st_ino,
		(uint64_t)sb->st_mode, (uint64_t)sb->st_uid };

	if (times) {
		v[4] = (uint64_t)sb->st_size;
		v[5] = (uint64_t)sb->st_mtim.tv_sec;
		v[6] = (uint64_t)sb->st_mtim.tv_nsec;
		v[7] = (uint64_t)sb->st_ctim.tv_sec;
		v[8] = (uint64_t)sb->st_ctim.tv_nsec;
	}
	return fnv1a(h, v, sizeof(v));
}

int
plugins_dir_stamp(const char *dir, uint64_t *stamp)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	DIR *d = opendir(dir);
	struct stat sb;
	char **names;
	size_t n;

	if (d == NULL)
		return -1;
	/* Not the directory's times: they change with any file in it. */
	if (fstat(dirfd(d), &sb) == 0)
		h = stamp_stat(h, &sb, 0);
	names = list_so(d, &n);
	for (size_t i = 0; i < n; i++) {
		h = fnv1a(h, names[i], strlen(names[i]) + 1);
		if (fstatat(dirfd(d), names[i], &sb, AT_SYMLINK_NOFOLLOW) == 0)
			h = stamp_stat(h, &sb, 1);
		free(names[i]);
	}
	free(names);
	closedir(d);
	*stamp = h;
	return 0;
}

int
plugins_load_file(struct plugin_registry *reg, const char *path,
    const struct config *cfg, struct diag *diag)
{
	struct loaded_plugin *p = load_checked(AT_FDCWD, path, path, diag);

	if (p == NULL)
		return -1;
	registry_add(reg, p, cfg);
	return 0;
}

const struct loaded_op *
plugins_find_op(const struct plugin_registry *reg, const char *type)
{
	for (size_t i = 0; i < reg->n; i++) {
		const struct loaded_op *op = find_in(reg->plugins[i], type);

		if (op != NULL)
			return op;
	}
	return NULL;
}

static const struct oprun_config_key *
declared_key(const struct loaded_plugin *p, const char *key)
{
	const struct oprun_config_key *k = p->desc.config_keys;

	for (; k != NULL && k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return k;
	return NULL;
}

/* run_timeout_s[.TYPE] in a [plugin NAME] section: seconds, and TYPE
 * must be one of the plugin's operations. */
static void
check_host_key(const struct loaded_plugin *p, const struct config *cfg,
    const struct config_entry *e, struct diag *diag)
{
	const char *type = strchr(e->key, '.');
	uint64_t secs;

	if (parse_u64(e->value, 604800, &secs) != 0)
		diag_add(diag, "%s:%d: %s = %s: expected whole seconds from 0 "
		    "to 604800", cfg->file, e->line, e->key, e->value);
	if (type != NULL && find_in(p, type + 1) == NULL)
		diag_add(diag, "%s:%d: %s: plugin %s has no operation '%s'",
		    cfg->file, e->line, e->key, p->desc.name, type + 1);
}

static void
check_section(const struct loaded_plugin *p, const struct config *cfg,
    struct diag *diag)
{
	const struct config_section *s = p->section;
	const struct oprun_config_key *k;

	for (size_t i = 0; s != NULL && i < s->nentries; i++) {
		if (config_is_host_plugin_key(s->entries[i].key)) {
			check_host_key(p, cfg, &s->entries[i], diag);
			continue;
		}
		if (declared_key(p, s->entries[i].key) != NULL)
			continue;
		diag_add(diag, "%s:%d: unknown key %s in [plugin %s]; run "
		    "`oprun plugins list` to see the keys it accepts",
		    cfg->file, s->entries[i].line, s->entries[i].key,
		    p->desc.name);
	}
	for (k = p->desc.config_keys; k != NULL && k->name != NULL; k++) {
		if (!k->required || config_section_get(s, k->name) != NULL)
			continue;
		diag_add(diag, "%s: [plugin %s] lacks required key %s (%s); "
		    "add `%s = ...` to it", cfg->file, p->desc.name, k->name,
		    k->description != NULL ? k->description : "no description",
		    k->name);
	}
}

void
plugins_check_config(const struct plugin_registry *reg,
    const struct config *cfg, struct diag *diag)
{
	for (size_t i = 0; i < reg->n; i++)
		check_section(reg->plugins[i], cfg, diag);
	for (size_t i = 0; i < cfg->nplugins; i++) {
		const struct config_section *s = &cfg->plugins[i];
		size_t j;

		for (j = 0; j < reg->n; j++)
			if (strcmp(reg->plugins[j]->desc.name, s->name) == 0)
				break;
		if (j == reg->n)
			diag_add(diag, "%s:%d: [plugin %s] names no loaded "
			    "plugin in %s; fix the name or remove the section",
			    cfg->file, s->line, s->name, cfg->plugin_dir);
	}
}

const char *
plugins_config_get(const struct loaded_plugin *p, const char *key)
{
	const char *v = config_section_get(p->section, key);
	const struct oprun_config_key *k;

	if (v != NULL)
		return v;
	k = declared_key(p, key);
	return k != NULL ? k->default_value : NULL;
}

void
plugins_unload(struct plugin_registry *reg)
{
	for (size_t i = 0; i < reg->n; i++) {
		struct loaded_plugin *p = reg->plugins[i];

		if (p->init_state == 1 && p->desc.fini != NULL)
			p->desc.fini();
		free_plugin(p);
	}
	free(reg->plugins);
	reg->plugins = NULL;
	reg->n = 0;
}
