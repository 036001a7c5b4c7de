#include "log.h"

#include <stdio.h>
#include <string.h>

#include "oprun/plugin.h"
#include "text.h"
#include "util.h"

static int min_level = OPRUN_LOG_INFO;

void
log_set_level(int level)
{
	min_level = level;
}

/* Appends key=value, quoting the value when it needs it and escaping it
 * (text.c), so that a value - a plugin's message, a name - can neither
 * forge a log line nor send a control sequence to a terminal.  A value
 * that does not fit is cut short, never inside a character or an escape,
 * and its closing quote is kept. */
static size_t
put_field(char *buf, size_t len, size_t off, const char *key,
    const char *value)
{
	int quote = value[0] == '\0' || strpbrk(value, " =\"\\") != NULL ||
	    text_needs_escape(value, 0);
	int n;

	if (off + 1 >= len)
		return off;
	n = snprintf(buf + off, len - off, " %s=%s", key, quote ? "\"" : "");
	if (n < 0 || (size_t)n >= len - off - 1) {
		buf[off] = '\0';
		return off;
	}
	off += (size_t)n;
	off += text_escape_buf(value, TEXT_ESC_QUOTES, buf + off,
	    len - off - (quote ? 1 : 0));
	if (quote)
		buf[off++] = '"';
	buf[off] = '\0';
	return off;
}

void
log_eventv(int level, uint64_t run, const char *type, const char *tenant,
    const char *fmt, va_list ap)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char line[2048], msg[1024], ts[32], num[24];
	size_t off;

	if (level < min_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	format_rfc3339(now_ms(), ts, sizeof(ts));
	off = (size_t)snprintf(line, sizeof(line), "ts=%s level=%s", ts,
	    names[level < 0 ? 0 : level > 3 ? 3 : level]);
	if (run != 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)run);
		off = put_field(line, sizeof(line), off, "run", num);
	}
	if (type != NULL)
		off = put_field(line, sizeof(line), off, "type", type);
	if (tenant != NULL)
		off = put_field(line, sizeof(line), off, "tenant", tenant);
	put_field(line, sizeof(line), off, "msg", msg);
	fprintf(stderr, "%s\n", line);
}

void
log_event(int level, uint64_t run, const char *type, const char *tenant,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_eventv(level, run, type, tenant, fmt, ap);
	va_end(ap);
}
