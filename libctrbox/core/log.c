/* Key=value logging in logrus text format, so shim lines blend into containerd's log. */
#include "log_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX_FIELDS 8
#define LOG_LINE_MAX 4096

static int log_fd = 2;
static enum ctrbox_log_level log_level = CTRBOX_LOG_INFO;
static unsigned long log_drops;
static char *field_keys[LOG_MAX_FIELDS], *field_vals[LOG_MAX_FIELDS];
static int nfields;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void ctrbox_log_set_fd(int fd)
{
	log_fd = fd;
}

void ctrbox_log_set_level(enum ctrbox_log_level level)
{
	log_level = level;
}

enum ctrbox_log_level ctrbox_log_get_level(void)
{
	return log_level;
}

unsigned long ctrbox_log_dropped(void)
{
	return log_drops;
}

int ctrbox_log_add_field(const char *key, const char *value)
{
	if (nfields == LOG_MAX_FIELDS)
		return -ENOSPC;
	field_keys[nfields] = strdup(key);
	field_vals[nfields] = strdup(value);
	if (!field_keys[nfields] || !field_vals[nfields]) {
		free(field_keys[nfields]);
		free(field_vals[nfields]);
		return -ENOMEM;
	}
	nfields++;
	return 0;
}

void ctrbox_log_clear_fields(void)
{
	while (nfields > 0) {
		nfields--;
		free(field_keys[nfields]);
		free(field_vals[nfields]);
	}
}

/* logrus quotes a value unless every byte is in [A-Za-z0-9-._/@^+]; empty stays bare. */
static int needs_quoting(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (strchr("-._/@^+", c))
			continue;
		return 1;
	}
	return 0;
}

static size_t put(char *buf, size_t len, size_t cap, const char *s, size_t n)
{
	if (len >= cap)
		return len;
	if (n > cap - len)
		n = cap - len;
	memcpy(buf + len, s, n);
	return len + n;
}

/* Go's %q escaping, enough for log text: quotes, backslash, control bytes. */
static size_t put_quoted(char *buf, size_t len, size_t cap, const char *s)
{
	len = put(buf, len, cap, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		switch (c) {
		case '"':
			len = put(buf, len, cap, "\\\"", 2);
			break;
		case '\\':
			len = put(buf, len, cap, "\\\\", 2);
			break;
		case '\n':
			len = put(buf, len, cap, "\\n", 2);
			break;
		case '\t':
			len = put(buf, len, cap, "\\t", 2);
			break;
		case '\r':
			len = put(buf, len, cap, "\\r", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\x%02x", c);
				len = put(buf, len, cap, esc, 4);
			} else {
				len = put(buf, len, cap, (const char *)&c, 1);
			}
		}
	}
	return put(buf, len, cap, "\"", 1);
}

size_t log_append_kv(char *buf, size_t len, size_t cap, const char *key, const char *value)
{
	if (len > 0)
		len = put(buf, len, cap, " ", 1);
	len = put(buf, len, cap, key, strlen(key));
	len = put(buf, len, cap, "=", 1);
	if (needs_quoting(value))
		return put_quoted(buf, len, cap, value);
	return put(buf, len, cap, value, strlen(value));
}

/* containerd's RFC3339NanoFixed: 2006-01-02T15:04:05.000000000Z07:00, local time. */
static void format_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char date[32], zone[8];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (tm.tm_gmtoff == 0) {
		strcpy(zone, "Z");
	} else {
		long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
			 (off / 3600) % 100, (off / 60) % 60);
	}
	snprintf(out, cap, "%s.%09ld%s", date, ts.tv_nsec, zone);
}

void ctrbox_log_vmsg(enum ctrbox_log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX / 2], when[64];
	size_t len = 0;
	int saved = errno;
	ssize_t w;

	if (level > log_level) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	format_time(when, sizeof(when));
	len = log_append_kv(line, len, sizeof(line) - 1, "time", when);
	len = log_append_kv(line, len, sizeof(line) - 1, "level", level_names[level]);
	len = log_append_kv(line, len, sizeof(line) - 1, "msg", msg);
	for (int i = 0; i < nfields; i++)
		len = log_append_kv(line, len, sizeof(line) - 1, field_keys[i], field_vals[i]);
	line[len++] = '\n';
	/* One write per line keeps lines whole on a pipe; a full fifo drops the line. */
	do {
		w = write(log_fd, line, len);
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)len)
		log_drops++;
	errno = saved;
}

void ctrbox_log_msg(enum ctrbox_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctrbox_log_vmsg(level, fmt, ap);
	va_end(ap);
}
