/*
 * testutil - helpers shared by the unit tests: temp directories, files
 * and the built test plugins.
 *
 * The rule: a helper that can fail fails the running test through a
 * cmocka assertion (fail_msg, assert_*) and never returns an error code,
 * so a test reads as a list of steps.  Call them only from a cmocka test,
 * setup or teardown; tu_find_plugins cannot fail and may be called from
 * main before the tests run.
 */
#ifndef OPRUN_TESTUTIL_H
#define OPRUN_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Creates a new directory "$TMPDIR/NAME.XXXXXX" (/tmp when TMPDIR is
 * unset or empty) and stores its path in buf, of size len.
 * NAME is a prefix such as "oprun-store".  The caller removes it with
 * tu_rmtree. */
void	tu_mkdtemp(char *buf, size_t len, const char *name);

/* Removes path and everything below it, without following symbolic
 * links. */
void	tu_rmtree(const char *path);

/* Creates or truncates path and writes text to it. */
void	tu_write_file(const char *path, const char *text);

/* Copies src to dst, which must not exist yet, then gives dst mode.
 * A missing src is reported as test plugins that were not built. */
void	tu_copy_file(const char *src, const char *dst, mode_t mode);

/* Stores in out, of size len, the directory of the built test plugins:
 * $OPRUN_TEST_PLUGINS, else BUILD/test-plugins when argv0 is
 * BUILD/tests/<binary>, else "build/test-plugins" (relative to the
 * repository root). */
void	tu_find_plugins(const char *argv0, char *out, size_t len);

#endif
