/* Key=value logging in logrus text format, so shim lines blend into containerd's log. */
#ifndef CTRBOX_LOG_H
#define CTRBOX_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Where lines go (default 2) and the least important level written. */
void log_set_fd(int fd);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Fields appended to every line (e.g. namespace=, runtime=); keys and values are copied. */
int log_add_field(const char *key, const char *value);
void log_clear_fields(void);
/* Lines that could not be written because the fd would block or failed. */
unsigned long log_dropped(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Append KEY=VALUE with logrus quoting to buf; returns the new length (truncates at cap). */
size_t log_append_kv(char *buf, size_t len, size_t cap, const char *key, const char *value);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_DEBUG)                                                  \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
