/* Unit tests for seal.c: key files, sealing round trips, tampering and
 * the wrong key. */
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

#include <cmocka.h>

#include "seal.h"
#include "testutil.h"

struct fixture {
	char dir[PATH_MAX];
	char key[PATH_MAX + 8];
	char err[512];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_mkdtemp(f->dir, sizeof(f->dir), "oprun-seal");
	snprintf(f->key, sizeof(f->key), "%s/key", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void
load(struct fixture *f, struct seal_key *k)
{
	if (seal_key_load(k, f->key, "secrets_key_file", f->err,
	    sizeof(f->err)) != 0)
		fail_msg("load: %s", f->err);
}

static void
round_trip_and_tampering(void **state)
{
	struct fixture *f = *state;
	struct seal_key k;
	char *sealed, *plain;
	size_t len;

	assert_int_equal(seal_keygen(f->key, f->err, sizeof(f->err)), 0);
	load(f, &k);
	assert_int_equal(seal_value(&k, "wifi-psk", 8, &sealed, f->err,
	    sizeof(f->err)), 0);
	assert_true(seal_is_sealed(sealed));
	assert_null(strstr(sealed, "wifi"));
	assert_int_equal(seal_open(&k, sealed, &plain, &len, f->err,
	    sizeof(f->err)), 0);
	assert_string_equal(plain, "wifi-psk");
	assert_int_equal(len, 8);
	seal_free_plain(plain, len);
	/* One changed character fails authentication. */
	sealed[strlen(sealed) - 3] ^= 1;
	assert_int_equal(seal_open(&k, sealed, &plain, &len, f->err,
	    sizeof(f->err)), -1);
	assert_null(plain);
	assert_int_equal(seal_open(&k, "oprun-sealed:v1:!!", &plain, &len,
	    f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "not a sealed value"));
	free(sealed);
	seal_key_wipe(&k);
}

static void
another_key_is_named_and_a_key_is_never_overwritten(void **state)
{
	struct fixture *f = *state;
	struct seal_key a, b;
	char *sealed, *plain;
	size_t len;

	assert_int_equal(seal_keygen(f->key, f->err, sizeof(f->err)), 0);
	load(f, &a);
	assert_int_equal(seal_keygen(f->key, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "never overwritten"));
	assert_int_equal(seal_value(&a, "", 0, &sealed, f->err,
	    sizeof(f->err)), 0);
	remove(f->key);
	assert_int_equal(seal_keygen(f->key, f->err, sizeof(f->err)), 0);
	load(f, &b);
	assert_int_equal(seal_open(&b, sealed, &plain, &len, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "sealed with another key"));
	assert_int_equal(seal_open(&a, sealed, &plain, &len, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(len, 0);
	seal_free_plain(plain, len);
	free(sealed);
}

static void
a_readable_or_garbled_key_file_is_refused(void **state)
{
	struct fixture *f = *state;
	struct seal_key k;

	assert_int_equal(seal_key_load(&k, f->key, "secrets_key_file", f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "oprun keygen"));
	assert_int_equal(seal_keygen(f->key, f->err, sizeof(f->err)), 0);
	chmod(f->key, 0640);
	assert_int_equal(seal_key_load(&k, f->key, "secrets_key_file", f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "chmod 600"));
	remove(f->key);
	tu_write_file(f->key, "not hex\n");
	chmod(f->key, 0600);
	assert_int_equal(seal_key_load(&k, f->key, "secrets_key_file", f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "does not hold a key"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_and_tampering,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    another_key_is_named_and_a_key_is_never_overwritten, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    a_readable_or_garbled_key_file_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
