/* Internal logging helpers on top of the public ctrbox/log.h. */
#ifndef CTRBOX_CORE_LOG_INT_H
#define CTRBOX_CORE_LOG_INT_H

#include <stddef.h>

#include <ctrbox/log.h>

/* Append KEY=VALUE with logrus quoting to buf; returns the new length (truncates at cap). */
size_t log_append_kv(char *buf, size_t len, size_t cap, const char *key, const char *value);

#endif
