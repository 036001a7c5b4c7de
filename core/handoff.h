/*
 * handoff - a submit whose operation acts as the initiator carries the
 * user's delegated token to `oprun serve`, which alone holds it, in
 * memory (docs/DESIGN.md section 6).  The token is never written anywhere.
 *
 * The submitting process prepares and validates the run itself
 * (submit_prepare), then sends the run and the token over the runner's
 * control socket (abstract UNIX seqpacket, named after the store); the
 * supervisor writes the run and keeps the token in the same step, so no
 * executor can claim the run before its token is there.
 *
 * handoff_submit (the submitter): returns 0 with res filled, -1 when no
 * runner listens (nothing was created), -2 when the runner answered with
 * an error; err says why.  handoff_listen / handoff_accept serve the
 * supervisor side.  Tokens pass through buffers that are wiped.
 */
#ifndef OPRUN_HANDOFF_H
#define OPRUN_HANDOFF_H

#include <stddef.h>

#include "run.h"
#include "store.h"

#define HANDOFF_MAX_TOKEN	(16 * 1024)

int	handoff_submit(const char *store_path, const struct run *r,
	    const char *actor, const char *token,
	    struct store_submit_result *res, char *err, size_t errlen);

/* Binds the control socket; returns the listening fd or -1 (err). */
int	handoff_listen(const char *store_path, char *err, size_t errlen);

/* Reads one request from a connection just accepted on the control
 * socket: fills r (caller run_frees), *actor and *token (caller frees;
 * wipe the token).  Returns 0 or -1 (a malformed request). */
int	handoff_read(int conn, struct run *r, char **actor, char **token);
/* Answers the request on conn: the run created or found, or an error. */
void	handoff_reply(int conn, const struct store_submit_result *res,
	    const char *error);

#endif
