/* ctrbox/logging.h: a framework for containerd shim logging binaries (the binary:// log URI).
 *
 * The shim starts the logging binary with the container's stdout pipe on fd 3, its stderr pipe
 * on fd 4, a readiness pipe on fd 5 (closed, or written to, once the logger is ready), the
 * environment CONTAINER_ID and CONTAINER_NAMESPACE, and the URI's query as "key value" argument
 * pairs in any order. A driver parses that with ctrbox_logging_config_parse(), opens its
 * destination, calls ctrbox_logging_ready(), then ctrbox_logging_run() with its callbacks: the
 * run reads both streams on a ctrbox_loop and hands the driver complete lines. Functions
 * returning int return 0 or a negative errno unless said otherwise. */
#ifndef CTRBOX_LOGGING_H
#define CTRBOX_LOGGING_H

#include <stddef.h>

#include "ctrbox/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The two streams, as the callbacks name them. */
enum ctrbox_logging_stream { CTRBOX_LOGGING_STDOUT = 0, CTRBOX_LOGGING_STDERR = 1 };

/* One option: argv[i] without its leading dashes, and its value. */
struct ctrbox_logging_arg {
	const char *key, *value;
};

struct ctrbox_logging_config {
	const char *id;			 /* CONTAINER_ID: the container id, or the exec id */
	const char *ns;			 /* CONTAINER_NAMESPACE */
	struct ctrbox_logging_arg *args; /* in argv order; strings point into argv/environ */
	size_t nargs;
	int stdout_fd, stderr_fd, ready_fd; /* 3, 4, 5 */
};

/* Fills c from the environment and argv. Options are "key value" pairs (the shim's form),
 * "--key value", or "key=value" in one argument; leading dashes are dropped from keys, and the
 * '=' of a key=value argument is overwritten with a NUL in argv. Returns 0; -ENOENT if
 * CONTAINER_ID (non-empty) or CONTAINER_NAMESPACE is unset; -EINVAL if the last option has no
 * value; -ENOMEM. On error, err (errlen bytes, may be NULL) holds a one-line message. Free c with
 * ctrbox_logging_config_free() after success. */
int ctrbox_logging_config_parse(struct ctrbox_logging_config *c, int argc, char **argv, char *err,
				size_t errlen);
/* Frees the argument array of c (not the strings, which belong to argv and environ). */
void ctrbox_logging_config_free(struct ctrbox_logging_config *c);
/* The value of the first option named key, or NULL. */
const char *ctrbox_logging_config_get(const struct ctrbox_logging_config *c, const char *key);

/* Makes fds 3-5 usable: any that is not open (a logger run by hand) is filled with /dev/null so
 * that no later fd takes its number; the stream fds are made non-blocking and close-on-exec.
 * Blocks SIGTERM and SIGINT (ctrbox_logging_run() takes them from a signalfd) and ignores
 * SIGPIPE, so call it before opening the destination. -EBADF if an fd cannot be filled. */
int ctrbox_logging_setup(struct ctrbox_logging_config *c);

/* Signals readiness to the shim by closing fd 5; only the first call closes it. */
void ctrbox_logging_ready(struct ctrbox_logging_config *c);

/* "stdout" or "stderr". */
const char *ctrbox_logging_stream_name(int stream);

/* What a driver is given. Every callback may be NULL except line. */
struct ctrbox_logging_ops {
	/* Called once the loop exists, before any line: a driver adds its own fds and timers
	 * (a socket waiting to be writable...). A negative return ends the run with it. */
	int (*start)(struct ctrbox_loop *l, void *data);
	/* One line of stream without its '\n'. A line longer than the run's max_line comes as
	 * max_line-byte pieces with partial=1, then the rest with partial=0; a last line without
	 * '\n' comes as a complete line at EOF or SIGTERM. line points into a buffer of the run,
	 * valid during the call only. The return value is ignored (a driver counts its drops). */
	int (*line)(void *data, int stream, const char *line, size_t n, int partial);
	/* Called once at the end: both streams at EOF (signalled=0) or SIGTERM/SIGINT
	 * (signalled=1), after what the pipes held was read and the last lines flushed. */
	void (*finish)(void *data, int signalled);
};

/* Reads fds 3 and 4 on a ctrbox_loop of its own until both are at EOF or SIGTERM/SIGINT comes,
 * handing the driver lines of at most max_line bytes (0: 256 KiB); closes the stream fds. Call
 * ctrbox_logging_setup() first. Returns 0, or a negative errno (out of memory, epoll failure, a
 * negative start()). */
int ctrbox_logging_run(struct ctrbox_logging_config *c, size_t max_line,
		       const struct ctrbox_logging_ops *ops, void *data);

/* The line splitter the run uses, for drivers and tests that split a byte stream themselves.
 * Zero-initialised is not usable: call ctrbox_logging_lines_init(). */
typedef int (*ctrbox_logging_line_cb)(const char *line, size_t n, int partial, void *ctx);
struct ctrbox_logging_lines {
	char *buf;
	size_t len, max;
};
/* Lines of at most max bytes (0 is taken as 1). -ENOMEM. */
int ctrbox_logging_lines_init(struct ctrbox_logging_lines *lb, size_t max);
/* Frees the buffer; what is still buffered is lost. */
void ctrbox_logging_lines_free(struct ctrbox_logging_lines *lb);
/* Feeds n bytes, calling cb for each line or piece; stops at and returns the first negative cb
 * result, else 0. */
int ctrbox_logging_lines_feed(struct ctrbox_logging_lines *lb, const char *p, size_t n,
			      ctrbox_logging_line_cb cb, void *ctx);
/* Hands over what is buffered (a last line without '\n') as a complete line; returns cb's
 * result, or 0 if nothing was buffered. */
int ctrbox_logging_lines_flush(struct ctrbox_logging_lines *lb, ctrbox_logging_line_cb cb,
			       void *ctx);

#ifdef __cplusplus
}
#endif

#endif
