/* Helpers shared by the unit tests: see testutil.h. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

void
tu_mkdtemp(char *buf, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	n = snprintf(buf, len, "%s/%s.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp", name);
	assert_true(n > 0 && (size_t)n < len);
	assert_non_null(mkdtemp(buf));
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_rmtree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fail_msg("%s: cannot remove the tree", path);
}

void
tu_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		fail_msg("%s: cannot create", path);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

void
tu_copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	in = open(src, O_RDONLY);
	if (in == -1)
		fail_msg("%s: cannot open; build the test plugins (make all) "
		    "or set OPRUN_TEST_PLUGINS", src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(out != -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	assert_int_equal(fchmod(out, mode), 0);
	close(in);
	assert_int_equal(close(out), 0);
}

void
tu_find_plugins(const char *argv0, char *out, size_t len)
{
	const char *env = getenv("OPRUN_TEST_PLUGINS");
	char exe[PATH_MAX];
	char *slash;

	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s", env);
		return;
	}
	snprintf(out, len, "build/test-plugins");
	if (strchr(argv0, '/') == NULL || realpath(argv0, exe) == NULL)
		return;
	*strrchr(exe, '/') = '\0';			/* BUILD/tests */
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	*slash = '\0';					/* BUILD */
	snprintf(out, len, "%s/test-plugins", exe);
}
