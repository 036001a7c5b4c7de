/*
 * seal - sealed values: secrets (encrypted OMA values of a backup) kept
 * in documents only as "oprun-sealed:v1:" + base64(key id, nonce,
 * AES-256-GCM ciphertext, tag).  The key is 32 random bytes, hex, in the
 * file [store] secrets_key_file names (mode 0600, refused otherwise),
 * made by `oprun keygen FILE`.  Keys and plaintexts are wiped when done.
 *
 * Errors: 0 on success, -1 with a one-line reason (never the secret) in
 * err.  Strings handed out are malloc'd and owned by the caller; free
 * plaintexts with seal_free_plain.
 */
#ifndef OPRUN_SEAL_H
#define OPRUN_SEAL_H

#include <stddef.h>

#define SEAL_KEY_BYTES 32

struct seal_key {
	unsigned char key[SEAL_KEY_BYTES];
	unsigned char id[4]; /* names the key in sealed strings */
	int loaded;
};

/* Loads the key file path; setting names it in messages. */
int seal_key_load(struct seal_key *k, const char *path, const char *setting,
    char *err, size_t errlen);
void seal_key_wipe(struct seal_key *k);
/* Makes a new key file (never overwriting one), mode 0600. */
int seal_keygen(const char *path, char *err, size_t errlen);

int seal_value(const struct seal_key *k, const char *plain, size_t len,
    char **sealed, char *err, size_t errlen);
/* 1 if s looks like a sealed string. */
int seal_is_sealed(const char *s);
int seal_open(const struct seal_key *k, const char *sealed, char **plain,
    size_t *len, char *err, size_t errlen);
/* Wipes and frees a plaintext from seal_open. */
void seal_free_plain(char *plain, size_t len);

#endif
