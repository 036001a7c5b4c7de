/*
 * util - small helpers shared by every core module.
 *
 * OOM policy: xmalloc/xcalloc/xstrdup/xrealloc log and abort on failure;
 * they are for small internal allocations only.  Sizes that come from
 * input are checked against a maximum before allocating.
 */
#ifndef OPRUN_UTIL_H
#define OPRUN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t count, size_t n);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);
/* NULL-safe strdup: NULL stays NULL. */
char	*xstrdup_or_null(const char *s);

/* snprintf into err (if errlen > 0); always returns -1 so callers can
 * write `return errf(err, errlen, "...")`. */
int	 errf(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Milliseconds since the epoch (wall clock) / monotonic. */
int64_t	 now_ms(void);
int64_t	 monotonic_ms(void);
int64_t	 monotonic_us(void);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds:
 * "2026-11-30T07:13:53.123Z".  buf must hold at least 25 bytes. */
void	 format_rfc3339(int64_t ms, char *buf, size_t len);

/* Parses a decimal unsigned integer that must fill all of s.
 * Returns 0, or -1 if s is empty, not a number or above max. */
int	 parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Reads a whole file of at most max bytes into a NUL-terminated buffer
 * the caller frees.  Returns 0, -2 if the file is larger than max, or -1
 * (cannot read it), with a reason in err. */
int	 read_file(const char *path, size_t max, char **out, size_t *outlen,
	    char *err, size_t errlen);

/* Start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat): with the pid it names one process exactly, since pids
 * are reused but not at the same instant.  Returns 0, or -1 if the
 * process does not exist. */
int	 proc_start_time(long pid, uint64_t *ticks);

/* A list of diagnostics (one line each) collected before reporting, so
 * `config check` can show every problem at once.  diag_free releases. */
struct diag {
	char **lines;
	size_t n;
};
void	 diag_add(struct diag *d, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 diag_free(struct diag *d);
#endif
