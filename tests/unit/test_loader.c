/* Unit tests for loader.c: which plugin files load, which are refused
 * and why, duplicate operations, and [plugin NAME] configuration. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "loader.h"
#include "testutil.h"

/* Where the built test plugins are: set in main by tu_find_plugins. */
static char plugins_src[PATH_MAX + 16];

struct fixture {
	char root[PATH_MAX];
	char dir[PATH_MAX + 16];	/* the plugin directory */
	char ini[PATH_MAX + 16];
	struct config cfg;
	struct plugin_registry reg;
	struct diag diag;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_mkdtemp(f->root, sizeof(f->root), "oprun-loader");
	snprintf(f->dir, sizeof(f->dir), "%s/plugins", f->root);
	snprintf(f->ini, sizeof(f->ini), "%s/oprun.ini", f->root);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	plugins_unload(&f->reg);
	diag_free(&f->diag);
	config_free(&f->cfg);
	chmod(f->dir, 0700);
	tu_rmtree(f->root);
	free(f);
	return 0;
}

/* Copies build plugin `name` into the plugin directory as `as`. */
static void
copy_plugin(struct fixture *f, const char *name, const char *as,
    mode_t mode)
{
	char src[PATH_MAX + 64], dst[PATH_MAX + 64];

	snprintf(src, sizeof(src), "%s/%s", plugins_src, name);
	snprintf(dst, sizeof(dst), "%s/%s", f->dir, as);
	tu_copy_file(src, dst, mode);
}

static int
load(struct fixture *f, const struct config *cfg)
{
	return plugins_load_dir(&f->reg, f->dir, cfg, &f->diag);
}

/* Asserts diag holds exactly one line and that it contains each of the
 * NULL-terminated strings. */
static void
assert_one_diag(const struct fixture *f, ...)
{
	const char *want;
	va_list ap;

	if (f->diag.n != 1) {
		for (size_t i = 0; i < f->diag.n; i++)
			print_error("diag: %s\n", f->diag.lines[i]);
		fail_msg("%zu diagnostics, want 1", f->diag.n);
	}
	va_start(ap, f);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(f->diag.lines[0], want) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", f->diag.lines[0], want);
	va_end(ap);
}

static void
good_plugins_register_their_operations(void **state)
{
	struct fixture *f = *state;
	const struct loaded_op *op;

	copy_plugin(f, "instant.so", "instant.so", 0644);
	copy_plugin(f, "items.so", "items.so", 0644);
	copy_plugin(f, "kvconfig.so", "kvconfig.so", 0644);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->diag.n, 0);
	assert_int_equal(f->reg.n, 3);
	op = plugins_find_op(&f->reg, "test-items");
	assert_non_null(op);
	assert_string_equal(op->plugin->desc.name, "items");
	assert_non_null(op->op.run);
	assert_non_null(op->op.validate);
	assert_non_null(plugins_find_op(&f->reg, "test-instant"));
	assert_non_null(plugins_find_op(&f->reg, "test-kv"));
	assert_null(plugins_find_op(&f->reg, "test-nothing"));
}

static void
a_plugin_for_another_abi_is_refused_and_the_others_load(void **state)
{
	struct fixture *f = *state;
	char runner[64];

	snprintf(runner, sizeof(runner), "runner provides %d.%d",
	    OPRUN_ABI_MAJOR, OPRUN_ABI_MINOR);
	copy_plugin(f, "badabi.so", "badabi.so", 0644);
	copy_plugin(f, "instant.so", "instant.so", 0644);
	copy_plugin(f, "items.so", "items.so", 0644);
	assert_int_equal(load(f, NULL), 0);
	assert_one_diag(f, "badabi.so", "ABI 2.0", runner, "rebuild", NULL);
	assert_int_equal(f->reg.n, 2);
	assert_null(plugins_find_op(&f->reg, "test-badabi"));
	assert_non_null(plugins_find_op(&f->reg, "test-instant"));
	assert_non_null(plugins_find_op(&f->reg, "test-items"));
}

static void
a_library_without_the_entry_symbol_is_refused(void **state)
{
	struct fixture *f = *state;

	copy_plugin(f, "nosym.so", "nosym.so", 0644);
	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(load(f, NULL), 0);
	assert_one_diag(f, "nosym.so", "has no oprun_plugin_describe symbol",
	    NULL);
	assert_int_equal(f->reg.n, 1);
	assert_non_null(plugins_find_op(&f->reg, "test-instant"));
}

static void
two_plugins_with_one_operation_are_both_refused(void **state)
{
	struct fixture *f = *state;
	char a[PATH_MAX + 32], b[PATH_MAX + 32];

	copy_plugin(f, "instant.so", "instant.so", 0644);
	copy_plugin(f, "instant.so", "instant2.so", 0644);
	copy_plugin(f, "items.so", "items.so", 0644);
	assert_int_equal(load(f, NULL), 0);
	snprintf(a, sizeof(a), "%s/instant.so", f->dir);
	snprintf(b, sizeof(b), "%s/instant2.so", f->dir);
	assert_one_diag(f, a, b, "both refused", NULL);
	assert_int_equal(f->reg.n, 1);
	assert_null(plugins_find_op(&f->reg, "test-instant"));
	assert_non_null(plugins_find_op(&f->reg, "test-items"));
}

static void
a_plugin_writable_by_group_or_others_is_refused(void **state)
{
	struct fixture *f = *state;

	copy_plugin(f, "instant.so", "instant.so", 0664);
	copy_plugin(f, "items.so", "items.so", 0644);
	copy_plugin(f, "kvconfig.so", "kvconfig.so", 0646);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->diag.n, 2);
	assert_non_null(strstr(f->diag.lines[0], "instant.so: refused: the "
	    "file is writable by group or others"));
	assert_non_null(strstr(f->diag.lines[0], "chmod go-w"));
	assert_non_null(strstr(f->diag.lines[1], "kvconfig.so: refused: the "
	    "file is writable by group or others"));
	assert_int_equal(f->reg.n, 1);
	assert_null(plugins_find_op(&f->reg, "test-instant"));
	assert_null(plugins_find_op(&f->reg, "test-kv"));
	assert_non_null(plugins_find_op(&f->reg, "test-items"));
}

static void
a_symbolic_link_is_refused(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX + 32], link[PATH_MAX + 32];

	copy_plugin(f, "items.so", "items.so", 0644);
	snprintf(src, sizeof(src), "%s/items.so", f->dir);
	snprintf(link, sizeof(link), "%s/link.so", f->dir);
	assert_int_equal(symlink(src, link), 0);
	assert_int_equal(load(f, NULL), 0);
	assert_one_diag(f, "link.so", "symbolic links are refused", NULL);
	assert_int_equal(f->reg.n, 1);
	assert_non_null(plugins_find_op(&f->reg, "test-items"));
}

static void
files_not_named_so_are_ignored(void **state)
{
	struct fixture *f = *state;

	copy_plugin(f, "badabi.so", "badabi.so.bak", 0644);
	copy_plugin(f, "nosym.so", "README", 0644);
	copy_plugin(f, "badabi.so", "upper.SO", 0644);
	copy_plugin(f, "badabi.so", ".so", 0644);
	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->diag.n, 0);
	assert_int_equal(f->reg.n, 1);
}

static void
a_directory_writable_by_others_is_refused(void **state)
{
	struct fixture *f = *state;

	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(chmod(f->dir, 0757), 0);
	assert_int_equal(load(f, NULL), -1);
	assert_one_diag(f, "plugin directory", f->dir,
	    "is writable by group or others", NULL);
	assert_int_equal(f->reg.n, 0);
	diag_free(&f->diag);
	assert_int_equal(chmod(f->dir, 0775), 0);
	assert_int_equal(load(f, NULL), -1);
	assert_int_equal(f->reg.n, 0);
	diag_free(&f->diag);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->reg.n, 1);
}

static void
a_missing_directory_is_reported(void **state)
{
	struct fixture *f = *state;

	strcat(f->dir, "/absent");
	assert_int_equal(load(f, NULL), -1);
	assert_one_diag(f, f->dir, "No such file or directory",
	    "plugin_dir", NULL);
}

/* Writes text as the fixture's config file and loads it. */
static void
load_config(struct fixture *f, const char *text)
{
	tu_write_file(f->ini, text);
	if (config_load(f->ini, &f->cfg, &f->diag) != 0)
		fail_msg("config_load: %s", f->diag.n ? f->diag.lines[0] : "");
}

static void
plugin_sections_are_checked_against_declared_keys(void **state)
{
	struct fixture *f = *state;
	char want[PATH_MAX + 64];

	load_config(f,
	    "[plugin kvconfig]\n"	/* 1 */
	    "greeting = hi\n"		/* 2 */
	    "bogus = 1\n"		/* 3 */
	    "[plugin nosuch]\n"		/* 4 */
	    "x = 1\n");			/* 5 */
	copy_plugin(f, "kvconfig.so", "kvconfig.so", 0644);
	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(load(f, &f->cfg), 0);
	assert_int_equal(f->diag.n, 0);
	plugins_check_config(&f->reg, &f->cfg, &f->diag);
	assert_int_equal(f->diag.n, 2);
	snprintf(want, sizeof(want), "%s:3: unknown key bogus in [plugin "
	    "kvconfig]", f->ini);
	assert_non_null(strstr(f->diag.lines[0], want));
	snprintf(want, sizeof(want), "%s:4: [plugin nosuch] names no loaded "
	    "plugin", f->ini);
	assert_non_null(strstr(f->diag.lines[1], want));
}

static void
config_values_come_from_the_section_else_the_default(void **state)
{
	struct fixture *f = *state;
	const struct loaded_op *op;

	load_config(f, "[plugin kvconfig]\ngreeting = hi\n");
	copy_plugin(f, "kvconfig.so", "kvconfig.so", 0644);
	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(load(f, &f->cfg), 0);
	plugins_check_config(&f->reg, &f->cfg, &f->diag);
	assert_int_equal(f->diag.n, 0);
	op = plugins_find_op(&f->reg, "test-kv");
	assert_non_null(op);
	assert_string_equal(plugins_config_get(op->plugin, "greeting"), "hi");
	assert_null(plugins_config_get(op->plugin, "label"));
	assert_null(plugins_config_get(op->plugin, "undeclared"));
	/* Without a section, the declared default. */
	plugins_unload(&f->reg);
	assert_int_equal(load(f, NULL), 0);
	op = plugins_find_op(&f->reg, "test-kv");
	assert_non_null(op);
	assert_string_equal(plugins_config_get(op->plugin, "greeting"),
	    "hello");
	op = plugins_find_op(&f->reg, "test-instant");
	assert_null(plugins_config_get(op->plugin, "greeting"));
}

/* plugins_load_new: what `oprun serve`'s executors use to pick up
 * plugins installed after they started. */
static void
load_new_adds_only_files_not_loaded_yet(void **state)
{
	struct fixture *f = *state;
	const struct loaded_plugin *first;

	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(load(f, NULL), 0);
	first = f->reg.plugins[0];
	assert_int_equal(plugins_load_new(&f->reg, f->dir, NULL, &f->diag), 0);
	assert_int_equal(f->reg.n, 1);
	copy_plugin(f, "items.so", "items.so", 0644);
	assert_int_equal(plugins_load_new(&f->reg, f->dir, NULL, &f->diag), 1);
	assert_int_equal(f->diag.n, 0);
	assert_int_equal(f->reg.n, 2);
	/* The plugin already loaded is the same one, not a second copy. */
	assert_ptr_equal(f->reg.plugins[0], first);
	assert_non_null(plugins_find_op(&f->reg, "test-items"));
	assert_int_equal(plugins_load_new(&f->reg, f->dir, NULL, &f->diag), 0);
	assert_int_equal(f->reg.n, 2);
	assert_int_equal(f->diag.n, 0);
}

static void
load_new_refuses_a_second_file_of_a_loaded_plugin(void **state)
{
	struct fixture *f = *state;

	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(load(f, NULL), 0);
	copy_plugin(f, "instant.so", "instant-new.so", 0644);
	assert_int_equal(plugins_load_new(&f->reg, f->dir, NULL, &f->diag), 0);
	assert_one_diag(f, "instant-new.so", "'instant' is already loaded",
	    "takes effect at the next reload", NULL);
	assert_int_equal(f->reg.n, 1);
	assert_non_null(plugins_find_op(&f->reg, "test-instant"));
}

static void
load_new_refuses_a_plugin_whose_section_has_a_problem(void **state)
{
	struct fixture *f = *state;

	load_config(f, "[plugin kvconfig]\nbogus = 1\n");
	copy_plugin(f, "instant.so", "instant.so", 0644);
	assert_int_equal(load(f, &f->cfg), 0);
	copy_plugin(f, "kvconfig.so", "kvconfig.so", 0644);
	assert_int_equal(plugins_load_new(&f->reg, f->dir, &f->cfg, &f->diag),
	    0);
	assert_one_diag(f, "unknown key bogus in [plugin kvconfig]",
	    "kvconfig.so refused until it is fixed", NULL);
	assert_null(plugins_find_op(&f->reg, "test-kv"));
}

static uint64_t
stamp_of(const struct fixture *f)
{
	uint64_t stamp = 0;

	assert_int_equal(plugins_dir_stamp(f->dir, &stamp), 0);
	return stamp;
}

static void
the_directory_stamp_changes_with_the_plugin_files_only(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX + 32];
	uint64_t s0, s1, s2;

	copy_plugin(f, "instant.so", "instant.so", 0644);
	s0 = stamp_of(f);
	assert_true(stamp_of(f) == s0);
	copy_plugin(f, "nosym.so", "README", 0644);
	assert_true(stamp_of(f) == s0);
	copy_plugin(f, "items.so", "items.so", 0644);
	s1 = stamp_of(f);
	assert_true(s1 != s0);
	snprintf(path, sizeof(path), "%s/items.so", f->dir);
	assert_int_equal(chmod(path, 0664), 0);
	s2 = stamp_of(f);
	assert_true(s2 != s1);
	assert_int_equal(unlink(path), 0);
	assert_true(stamp_of(f) != s2);
	strcat(f->dir, "/absent");
	assert_int_equal(plugins_dir_stamp(f->dir, &s2), -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(good_plugins_register_their_operations),
		T(a_plugin_for_another_abi_is_refused_and_the_others_load),
		T(a_library_without_the_entry_symbol_is_refused),
		T(two_plugins_with_one_operation_are_both_refused),
		T(a_plugin_writable_by_group_or_others_is_refused),
		T(a_symbolic_link_is_refused),
		T(files_not_named_so_are_ignored),
		T(a_directory_writable_by_others_is_refused),
		T(a_missing_directory_is_reported),
		T(plugin_sections_are_checked_against_declared_keys),
		T(config_values_come_from_the_section_else_the_default),
		T(load_new_adds_only_files_not_loaded_yet),
		T(load_new_refuses_a_second_file_of_a_loaded_plugin),
		T(load_new_refuses_a_plugin_whose_section_has_a_problem),
		T(the_directory_stamp_changes_with_the_plugin_files_only),
	};

	tu_find_plugins(argc > 0 ? argv[0] : "", plugins_src,
	    sizeof(plugins_src));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
