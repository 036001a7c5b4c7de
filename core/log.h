/*
 * log - one logfmt line per event on stderr:
 *   ts=2026-11-30T07:13:53.123Z level=info run=42 type=x tenant=y msg="..."
 * Fields with no value are left out.  Values are quoted when needed and
 * escaped (text.h): no value can end the line early, forge another one or
 * send a control character to a terminal.
 * Never pass a secret: the log is for operators to read and keep.
 */
#ifndef OPRUN_LOG_H
#define OPRUN_LOG_H

#include <stdarg.h>
#include <stdint.h>

/* Lines below level (an enum oprun_log_level) are dropped. */
void	log_set_level(int level);
void	log_event(int level, uint64_t run, const char *type,
	    const char *tenant, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	log_eventv(int level, uint64_t run, const char *type,
	    const char *tenant, const char *fmt, va_list ap)
	    __attribute__((format(printf, 5, 0)));

#endif
