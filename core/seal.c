#define _POSIX_C_SOURCE 200809L
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "oprun/plugin.h"
#include "util.h"

#define NONCE_BYTES 12
#define TAG_BYTES   16
#define HEAD_BYTES  (4 + NONCE_BYTES)
#define SEALED_MAX  (16u << 20) /* a document's limit */
#define KEY_HEX	    (SEAL_KEY_BYTES * 2)

static const char aad[] = OPRUN_SEALED_PREFIX;

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
key_id(struct seal_key *k)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, "oprun key id", 12) == 1 &&
	    EVP_DigestUpdate(c, k->key, sizeof(k->key)) == 1)
		EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	memcpy(k->id, md, sizeof(k->id));
}

/* The file must be ours (or root's) and private to its owner. */
static int
check_key_file(int fd, const char *path, const char *setting, char *err,
    size_t errlen)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return errf(err, errlen, "%s %s: %s", setting, path,
		    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return errf(err, errlen,
		    "%s %s is not a regular file; make "
		    "one with `oprun keygen %s`",
		    setting, path, path);
	if (sb.st_mode & 077)
		return errf(err, errlen,
		    "%s %s can be read by group or others "
		    "(mode %04o): run `chmod 600 %s`",
		    setting, path, (unsigned)(sb.st_mode & 07777), path);
	if (sb.st_uid != geteuid() && sb.st_uid != 0)
		return errf(err, errlen,
		    "%s %s belongs to uid %u, not to the "
		    "user oprun runs as (%u) or root: chown it",
		    setting, path, (unsigned)sb.st_uid, (unsigned)geteuid());
	return 0;
}

static int
parse_key(struct seal_key *k, const char *text, size_t n)
{
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (n != KEY_HEX)
		return -1;
	for (size_t i = 0; i < SEAL_KEY_BYTES; i++) {
		int hi = hex_value(text[2 * i]),
		    lo = hex_value(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		k->key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
seal_key_load(struct seal_key *k, const char *path, const char *setting,
    char *err, size_t errlen)
{
	char text[KEY_HEX + 8];
	ssize_t n;
	int fd, rc = -1;

	memset(k, 0, sizeof(*k));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errf(err, errlen,
		    "%s %s: %s; make one with `oprun "
		    "keygen %s`",
		    setting, path, strerror(errno), path);
	if (check_key_file(fd, path, setting, err, errlen) != 0)
		goto out;
	n = read(fd, text, sizeof(text));
	if (n < 0 || parse_key(k, text, (size_t)n) != 0) {
		errf(err, errlen,
		    "%s %s does not hold a key (one line of %d "
		    "hex digits); make one with `oprun keygen FILE`",
		    setting, path, KEY_HEX);
		goto out;
	}
	key_id(k);
	k->loaded = 1;
	rc = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (rc != 0)
		seal_key_wipe(k);
	close(fd);
	return rc;
}

void
seal_key_wipe(struct seal_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int
seal_keygen(const char *path, char *err, size_t errlen)
{
	unsigned char key[SEAL_KEY_BYTES];
	char text[KEY_HEX + 2];
	int fd, rc = 0;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return errf(err, errlen,
		    "keygen: no random bytes from "
		    "libcrypto");
	for (size_t i = 0; i < sizeof(key); i++)
		snprintf(text + 2 * i, 3, "%02x", key[i]);
	text[KEY_HEX] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		rc = errf(err, errlen, "keygen %s: %s%s", path, strerror(errno),
		    errno == EEXIST ?
			" (a key file is "
			"never overwritten: values sealed with it would be lost)" :
			"");
	else if (write(fd, text, KEY_HEX + 1) != KEY_HEX + 1 || fsync(fd) != 0)
		rc = errf(err, errlen, "keygen %s: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = errf(err, errlen, "keygen %s: %s", path, strerror(errno));
	if (rc != 0 && fd >= 0)
		unlink(path);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

/* AES-256-GCM of in (n bytes) into out with tag; enc = 1 to encrypt. */
static int
gcm(const struct seal_key *k, int enc, const unsigned char *nonce,
    const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok;

	ok = c != NULL && n <= SEALED_MAX &&
	    EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) ==
		1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) ==
		1 &&
	    EVP_CipherInit_ex(c, NULL, NULL, k->key, nonce, enc) == 1 &&
	    EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)aad,
		(int)strlen(aad)) == 1 &&
	    EVP_CipherUpdate(c, out, &len, in, (int)n) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES,
			 tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(c, out + len, &len) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES,
			 tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int
seal_value(const struct seal_key *k, const char *plain, size_t len,
    char **sealed, char *err, size_t errlen)
{
	size_t raw_len = HEAD_BYTES + len + TAG_BYTES, plen = strlen(aad);
	unsigned char *raw = NULL;
	char *out = NULL;
	int rc = -1;

	*sealed = NULL;
	if (!k->loaded || len > SEALED_MAX)
		return errf(err, errlen, "seal: %s",
		    !k->loaded ? "no key" : "value too large");
	raw = malloc(raw_len);
	out = malloc(plen + 4 * ((raw_len + 2) / 3) + 1);
	if (raw == NULL || out == NULL) {
		errf(err, errlen, "seal: out of memory");
		goto out;
	}
	memcpy(raw, k->id, 4);
	if (RAND_bytes(raw + 4, NONCE_BYTES) != 1 ||
	    gcm(k, 1, raw + 4, (const unsigned char *)plain, len,
		raw + HEAD_BYTES, raw + HEAD_BYTES + len) != 0) {
		errf(err, errlen, "seal: AES-256-GCM failed in libcrypto");
		goto out;
	}
	memcpy(out, aad, plen);
	EVP_EncodeBlock((unsigned char *)out + plen, raw, (int)raw_len);
	*sealed = out;
	out = NULL;
	rc = 0;
out:
	free(raw);
	free(out);
	return rc;
}

int
seal_is_sealed(const char *s)
{
	return s != NULL && strncmp(s, aad, strlen(aad)) == 0;
}

/* Decodes the base64 after the prefix into a malloc'd *raw. */
static int
decode(const char *b64, unsigned char **raw, size_t *n)
{
	size_t len = strlen(b64), pad = 0;
	int got;

	*raw = NULL;
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > SEALED_MAX + 64)
		return -1;
	pad = (b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
	*raw = malloc(len / 4 * 3 + 1);
	if (*raw == NULL)
		return -1;
	got = EVP_DecodeBlock(*raw, (const unsigned char *)b64, (int)len);
	if (got < 0 || (size_t)got < pad) {
		free(*raw);
		*raw = NULL;
		return -1;
	}
	*n = (size_t)got - pad;
	return 0;
}

int
seal_open(const struct seal_key *k, const char *sealed, char **plain,
    size_t *len, char *err, size_t errlen)
{
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t n = 0, clen;

	*plain = NULL;
	*len = 0;
	if (!seal_is_sealed(sealed) ||
	    decode(sealed + strlen(aad), &raw, &n) != 0 ||
	    n < HEAD_BYTES + TAG_BYTES) {
		free(raw);
		return errf(err, errlen, "unseal: not a sealed value (%s...)",
		    aad);
	}
	clen = n - HEAD_BYTES - TAG_BYTES;
	if (!k->loaded || memcmp(raw, k->id, 4) != 0) {
		errf(err, errlen,
		    "unseal: the value was sealed with another "
		    "key (id %02x%02x%02x%02x) than [store] secrets_key_file "
		    "holds",
		    raw[0], raw[1], raw[2], raw[3]);
		free(raw);
		return -1;
	}
	out = malloc(clen + 1);
	if (out == NULL ||
	    gcm(k, 0, raw + 4, raw + HEAD_BYTES, clen, (unsigned char *)out,
		raw + HEAD_BYTES + clen) != 0) {
		free(raw);
		seal_free_plain(out, clen + 1);
		return errf(err, errlen,
		    "unseal: the sealed value is damaged "
		    "(authentication failed)");
	}
	out[clen] = '\0';
	free(raw);
	*plain = out;
	*len = clen;
	return 0;
}

void
seal_free_plain(char *plain, size_t len)
{
	if (plain == NULL)
		return;
	OPENSSL_cleanse(plain, len);
	free(plain);
}
