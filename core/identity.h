/*
 * identity - canonical JSON and the dedupe identity (DESIGN section 2).
 *
 * Canonical JSON: object keys sorted bytewise, no whitespace, strings as
 * UTF-8 with only '"', '\\' and control characters escaped (\uXXXX, lower
 * case hex), numbers in one spelling (integers below 2^53 without a
 * fraction or exponent, others in the shortest %.17g form that reads
 * back).  Objects with duplicate keys are refused.
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
