/*
 * identity - canonical JSON and the dedupe identity (docs/DESIGN.md
 * section 2).
 *
 * Canonical JSON: object keys sorted bytewise, no whitespace, strings as
 * UTF-8 with only '"', '\\' and control characters escaped (\uXXXX, lower
 * case hex), numbers in one exact spelling taken from their text, never
 * rounded through a double: integers of up to 64 digits written out in
 * full (1e3 is 1000, 12345678901234567890 stays itself), other numbers
 * from 1e-4 up positionally (0.25), the rest in exponent form as %g
 * writes it (1e+64, 1.5e-05), always with every significant digit.
 * Input that is not UTF-8, numbers JSON does not allow (01, 1.), numbers
 * a double cannot hold and objects with duplicate keys are refused.
 *
 * The identity is SHA-256 over a version tag and the NUL-separated tenant,
 * type, target and canonical payload; bump IDENTITY_VERSION if that ever
 * changes, since it changes which runs count as the same.
 */
#ifndef OPRUN_IDENTITY_H
#define OPRUN_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define IDENTITY_VERSION "oprun-identity-v1"

/* Parses json (must be an object) and returns its canonical text, which
 * the caller frees.  Returns NULL with a reason (naming the place, e.g.
 * "payload.items[2]") in err. */
char	*identity_canonical_object(const char *json, const char *what,
	    char *err, size_t errlen);

/* Computes the 32-byte identity hash; target may be NULL. */
void	 identity_hash(const char *tenant, const char *type,
	    const char *target, const char *canonical_payload,
	    uint8_t out[32]);

#endif
