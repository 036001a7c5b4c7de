/*
 * Encrypted values of Intune objects (encrypted OMA-URI settings, A1):
 * a backup stores them sealed by the host (host->seal), a restore
 * writes them back in plain text (host->unseal).  The plain text is
 * never logged, kept after use or put in an error message: the copies
 * this module makes are wiped before they are freed.
 */
#ifndef INTUNE_SECRET_H
#define INTUNE_SECRET_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <oprun/plugin.h>

#include "family.h"

/* Replaces every encrypted value of obj (an object of fam as Graph
 * returned it; id its id) with a sealed "oprun-sealed:v1:" string: one
 * GET of fam->secret->decrypt each for the plain value, host->seal, then
 * the parsed copy is wiped.  Returns how many were sealed (0 also when
 * fam has none), or -1 with err (naming the setting, never its value):
 * then obj may be half sealed and must not be stored. */
int intune_seal_secrets(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct intune_family *fam, const char *id, cJSON *obj, char *err,
    size_t errlen);

/* For a write: replaces every sealed value of obj with its plain text
 * (host->unseal).  Returns how many, or -1 with err.  Whatever it
 * returns, call intune_wipe_secrets(fam, obj) before freeing obj, and
 * wipe any text printed from it. */
int intune_unseal_secrets(const struct oprun_host *host, struct oprun_ctx *ctx,
    const struct intune_family *fam, cJSON *obj, char *err, size_t errlen);

/* Overwrites the bytes of every encrypted value of obj. */
void intune_wipe_secrets(const struct intune_family *fam, cJSON *obj);

#endif
