/* ctrbox/log.h: logging in logrus' text format (time="..." level=info msg="..." key=value), so
 * a shim's lines blend into containerd's own log. A shim daemon's stderr is the bundle's "log"
 * fifo, which containerd copies into its log; ctrbox_shim_run() points the log there and adds
 * namespace=, pid= and runtime= to every line. Writes never block: a line that cannot be
 * written at once is dropped and counted. */
#ifndef CTRBOX_LOG_H
#define CTRBOX_LOG_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ctrbox_log_level {
	CTRBOX_LOG_ERROR = 0,
	CTRBOX_LOG_WARN,
	CTRBOX_LOG_INFO, /* the default */
	CTRBOX_LOG_DEBUG /* a shim started with -debug */
};

/* Where lines go (default: fd 2) and the least important level written. */
void ctrbox_log_set_fd(int fd);
void ctrbox_log_set_level(enum ctrbox_log_level level);
enum ctrbox_log_level ctrbox_log_get_level(void);
/* A key=value field appended to every line from now on; key and value are copied. Returns 0
 * or -ENOMEM. */
int ctrbox_log_add_field(const char *key, const char *value);
void ctrbox_log_clear_fields(void);
/* Lines dropped so far because the fd would have blocked or failed. */
unsigned long ctrbox_log_dropped(void);

/* One line at level (if the level is enabled), msg= formatted printf-style. */
void ctrbox_log_msg(enum ctrbox_log_level level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void ctrbox_log_vmsg(enum ctrbox_log_level level, const char *fmt, va_list ap)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 0)))
#endif
    ;

#define ctrbox_log_error(...) ctrbox_log_msg(CTRBOX_LOG_ERROR, __VA_ARGS__)
#define ctrbox_log_warn(...) ctrbox_log_msg(CTRBOX_LOG_WARN, __VA_ARGS__)
#define ctrbox_log_info(...) ctrbox_log_msg(CTRBOX_LOG_INFO, __VA_ARGS__)
/* The arguments are not evaluated unless debug is on. */
#define ctrbox_log_debug(...)                                                                      \
	do {                                                                                       \
		if (ctrbox_log_get_level() >= CTRBOX_LOG_DEBUG)                                    \
			ctrbox_log_msg(CTRBOX_LOG_DEBUG, __VA_ARGS__);                             \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif
