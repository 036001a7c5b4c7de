/*
 * throttle - write throttling (S8): a token bucket per (tenant, app or
 * user, Intune family) holding throttle.writes_per_window tokens that
 * refill evenly over throttle.window_s seconds.  A write without a token
 * gets 429 and Retry-After: the whole seconds until the next token, so a
 * client that waits exactly that long succeeds.  A write answered 429
 * takes no token; one refused later, by validation, has taken one.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <stdlib.h>
#include <string.h>

static struct bucket *
bucket_get(struct server *s, const char *key, int64_t now)
{
	struct bucket *b;
	size_t i;

	for (i = 0; i < s->nbuckets; i++)
		if (strcmp(s->buckets[i].key, key) == 0)
			return &s->buckets[i];
	s->buckets = xrealloc(s->buckets, (s->nbuckets + 1) * sizeof(*b));
	b = &s->buckets[s->nbuckets++];
	b->key = xstrdup(key);
	b->tokens = (double)s->throttle_writes;
	b->last_ms = now;
	return b;
}

int
throttle_take(struct server *s, const struct token *t, const char *family,
    long *retry_after_s)
{
	int64_t now = server_now_ms(s);
	double cap = (double)s->throttle_writes;
	double per_ms = cap / ((double)s->throttle_window_s * 1000.0);
	struct buf key = {0};
	struct bucket *b;
	long wait_ms;
	int rc = 0;

	if (s->throttle_writes <= 0)
		return 0;
	buf_addf(&key, "%s|%s|%s", t->tenant->id, t->subject, family);
	b = bucket_get(s, key.p, now);
	free(key.p);
	if (now > b->last_ms) {
		b->tokens += (double)(now - b->last_ms) * per_ms;
		if (b->tokens > cap)
			b->tokens = cap;
		b->last_ms = now;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
	} else {
		/* Rounded up (no libm needed): never tell a client to
		 * come back before the token is there. */
		wait_ms = (long)((1.0 - b->tokens) / per_ms) + 1;
		*retry_after_s = (wait_ms + 999) / 1000;
		rc = -1;
	}
	return rc;
}

void
throttle_clear(struct server *s)
{
	size_t i;

	for (i = 0; i < s->nbuckets; i++)
		free(s->buckets[i].key);
	free(s->buckets);
	s->buckets = NULL;
	s->nbuckets = 0;
}
