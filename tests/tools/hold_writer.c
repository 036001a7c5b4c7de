/*
 * hold_writer - a test tool: takes the store's LMDB writer lock and keeps
 * it, as a process stopped in the middle of a write transaction would,
 * until it is killed.  The tests check that readers never wait for it.
 *
 *   hold_writer STORE_DIR
 * Prints "held" once the write transaction is open, then sleeps.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

#include <lmdb.h>

int
main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: hold_writer STORE_DIR\n");
		return 2;
	}
	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, 16);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, (size_t)1 << 30);
	if (rc == 0)
		rc = mdb_env_open(env, argv[1], MDB_NOTLS, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc != 0) {
		fprintf(stderr, "hold_writer: %s\n", mdb_strerror(rc));
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}
