/* Plugin boilerplate of the Intune plugins; see kit.h. */
#include <stddef.h>

#include "json.h"
#include "kit.h"

/* Names the first member of the group that host lacks, or NULL. */
#define MISSING(host, m) (!OPRUN_HOST_HAS(host, m) ? #m : NULL)

static const char *
first_missing(const struct oprun_host *host, unsigned need, const char **abi)
{
	const char *m = NULL;

	*abi = "1.1";
	if (need & INTUNE_NEED_GRAPH)
		if ((m = MISSING(host, graph_request)) != NULL ||
		    (m = MISSING(host, graph_list)) != NULL ||
		    (m = MISSING(host, graph_batch)) != NULL)
			return m;
	*abi = "1.2";
	if (need & INTUNE_NEED_DOCS)
		if ((m = MISSING(host, doc_put)) != NULL)
			return m;
	if (need & INTUNE_NEED_DIR_READ)
		if ((m = MISSING(host, directory_get)) != NULL ||
		    (m = MISSING(host, directory_synced_at)) != NULL)
			return m;
	if (need & INTUNE_NEED_DIR_WRITE)
		if ((m = MISSING(host, directory_begin)) != NULL ||
		    (m = MISSING(host, directory_put)) != NULL ||
		    (m = MISSING(host, directory_commit)) != NULL)
			return m;
	return NULL;
}

int
intune_host_check(const struct oprun_host *host, unsigned need, char *err,
    size_t errlen)
{
	const char *abi, *m = first_missing(host, need, &abi);

	if (m == NULL)
		return 0;
	return intune_errf(err, errlen,
	    "this oprun host lacks %s (plugin ABI %s); upgrade oprun", m, abi);
}

const char *
intune_last_error(const struct oprun_host *host, struct oprun_ctx *ctx)
{
	const char *e = OPRUN_HOST_HAS(host, last_error) ?
	    host->last_error(ctx) :
	    NULL;

	return e != NULL && e[0] != '\0' ? e : "the host gave no reason";
}

enum oprun_outcome
intune_outcome(uint64_t ok, uint64_t failed)
{
	if (failed == 0)
		return OPRUN_OK;
	return ok == 0 ? OPRUN_FAILED : OPRUN_PARTIAL;
}
