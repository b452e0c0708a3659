/* The logging crate: what every containerd logging binary (binary:// log URI) does alike. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ctrbox/logging.h"

#define DEFAULT_MAX_LINE (256 * 1024)
#define READ_CHUNK 65536
#define NSTREAMS 2

/* msg, arg and tail (either may be NULL), cut to errlen. */
static void seterr(char *err, size_t errlen, const char *msg, const char *arg, const char *tail)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", msg, arg ? arg : "", tail ? tail : "");
}

int ctrbox_logging_config_parse(struct ctrbox_logging_config *c, int argc, char **argv, char *err,
				size_t errlen)
{
	*c = (struct ctrbox_logging_config){.stdout_fd = 3, .stderr_fd = 4, .ready_fd = 5};
	c->id = getenv("CONTAINER_ID");
	c->ns = getenv("CONTAINER_NAMESPACE");
	if (!c->id || !*c->id || !c->ns) {
		seterr(err, errlen,
		       "CONTAINER_ID and CONTAINER_NAMESPACE must be set (this runs as a "
		       "containerd binary:// logger)",
		       NULL, NULL);
		return -ENOENT;
	}
	c->args = calloc(argc > 1 ? (size_t)argc : 1, sizeof(*c->args));
	if (!c->args)
		return seterr(err, errlen, "out of memory", NULL, NULL), -ENOMEM;
	for (int i = 1; i < argc; i++) {
		char *key = argv[i], *eq;
		const char *v;

		while (*key == '-')
			key++;
		eq = strchr(key, '=');
		if (eq) {
			*eq = '\0';
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			seterr(err, errlen, "option '", key, "' needs a value");
			ctrbox_logging_config_free(c);
			return -EINVAL;
		}
		c->args[c->nargs++] = (struct ctrbox_logging_arg){key, v};
	}
	return 0;
}

void ctrbox_logging_config_free(struct ctrbox_logging_config *c)
{
	free(c->args);
	c->args = NULL;
	c->nargs = 0;
}

const char *ctrbox_logging_config_get(const struct ctrbox_logging_config *c, const char *key)
{
	for (size_t i = 0; i < c->nargs; i++)
		if (!strcmp(c->args[i].key, key))
			return c->args[i].value;
	return NULL;
}

int ctrbox_logging_setup(struct ctrbox_logging_config *c)
{
	int fds[3] = {c->stdout_fd, c->stderr_fd, c->ready_fd};
	sigset_t set;

	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_GETFD) < 0 &&
		    open("/dev/null", O_RDWR) != fds[i])
			return -EBADF;
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFL, O_NONBLOCK | fcntl(fds[i], F_GETFL));
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void ctrbox_logging_ready(struct ctrbox_logging_config *c)
{
	if (c->ready_fd < 0)
		return;
	close(c->ready_fd);
	c->ready_fd = -1;
}

const char *ctrbox_logging_stream_name(int stream)
{
	return stream == CTRBOX_LOGGING_STDERR ? "stderr" : "stdout";
}

/* ---- the run ---- */

struct run {
	const struct ctrbox_logging_ops *ops;
	void *data;
	struct ctrbox_loop *l;
	struct ctrbox_logging_lines lines[NSTREAMS];
	int fd[NSTREAMS];
	int unpolled[NSTREAMS]; /* a regular file or /dev/null: epoll refuses it, read() never waits
				 */
	struct ctrbox_timer *tick;
	int open, cur, done;
};

static int line_cb(const char *line, size_t n, int partial, void *ctx)
{
	struct run *r = ctx;

	r->ops->line(r->data, r->cur, line, n, partial);
	return 0;
}

static void finish(struct run *r, int signalled);

/* Reads what is there now, up to 16 chunks; closes the stream on EOF or error (flushing its
 * last line). Returns 1 when the pipe is empty or closed, 0 when more may be waiting. */
static int read_stream(struct run *r, int s)
{
	char buf[READ_CHUNK];

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(r->fd[s], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		r->cur = s;
		if (n <= 0) {
			ctrbox_logging_lines_flush(&r->lines[s], line_cb, r);
			if (!r->unpolled[s])
				ctrbox_loop_del(r->l, r->fd[s]);
			close(r->fd[s]);
			r->fd[s] = -1;
			if (--r->open == 0 && !r->done)
				finish(r, 0);
			return 1;
		}
		ctrbox_logging_lines_feed(&r->lines[s], buf, (size_t)n, line_cb, r);
	}
	return 0;
}

/* EOF of both or a signal: take what the pipes hold right now, flush partial lines, tell the
 * driver, stop. */
static void finish(struct run *r, int signalled)
{
	r->done = 1;
	for (int s = 0; s < NSTREAMS; s++)
		while (r->fd[s] >= 0 && !read_stream(r, s))
			;
	for (int s = 0; s < NSTREAMS; s++) {
		r->cur = s;
		ctrbox_logging_lines_flush(&r->lines[s], line_cb, r);
	}
	if (r->ops->finish)
		r->ops->finish(r->data, signalled);
	ctrbox_loop_stop(r->l);
}

static void on_stream(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct run *r = data;

	read_stream(r, fd == r->fd[0] ? 0 : 1);
}

static void on_signal(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) < 0 && errno == EAGAIN)
		return;
	finish(data, 1);
}

/* A stream epoll refuses is always readable, as poll() would say: one read_stream() a loop turn
 * (a zero-delay timer), between the turns that serve the other fds. */
static void on_tick(struct ctrbox_loop *l, void *data)
{
	struct run *r = data;
	int more = 0;

	r->tick = NULL; /* fired: the loop frees it */
	for (int s = 0; s < NSTREAMS && !r->done; s++)
		if (r->unpolled[s] && r->fd[s] >= 0) {
			read_stream(r, s);
			more |= r->fd[s] >= 0;
		}
	if (more && !r->done && !(r->tick = ctrbox_loop_timer_in(l, 0, on_tick, r)))
		finish(r, 0); /* out of memory: what was read so far is handed over */
}

static int run_setup(struct run *r, int sigfd, size_t max_line)
{
	int e = ctrbox_loop_new(&r->l);

	for (int s = 0; s < NSTREAMS && e == 0; s++)
		e = ctrbox_logging_lines_init(&r->lines[s], max_line);
	e = e ?: ctrbox_loop_add(r->l, sigfd, EPOLLIN, on_signal, r);
	if (e == 0 && r->ops->start)
		e = r->ops->start(r->l, r->data);
	for (int s = 0; s < NSTREAMS && e == 0; s++) {
		if (r->fd[s] < 0)
			continue;
		e = ctrbox_loop_add(r->l, r->fd[s], EPOLLIN, on_stream, r);
		if (e == -EPERM) {
			r->unpolled[s] = 1;
			e = 0;
		}
		r->open += e == 0;
	}
	if (e == 0 && (r->unpolled[0] || r->unpolled[1]))
		e = (r->tick = ctrbox_loop_timer_in(r->l, 0, on_tick, r)) ? 0 : -ENOMEM;
	return e;
}

int ctrbox_logging_run(struct ctrbox_logging_config *c, size_t max_line,
		       const struct ctrbox_logging_ops *ops, void *data)
{
	struct run r = {.ops = ops, .data = data, .fd = {c->stdout_fd, c->stderr_fd}};
	sigset_t set;
	int sigfd, e;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return -errno;
	e = run_setup(&r, sigfd, max_line ? max_line : DEFAULT_MAX_LINE);
	if (e == 0 && r.open == 0)
		finish(&r, 0);
	else if (e == 0)
		e = ctrbox_loop_run(r.l);
	for (int s = 0; s < NSTREAMS; s++) {
		ctrbox_logging_lines_free(&r.lines[s]);
		if (r.fd[s] >= 0)
			close(r.fd[s]);
	}
	c->stdout_fd = c->stderr_fd = -1;
	if (r.l)
		ctrbox_loop_free(r.l);
	close(sigfd);
	return e;
}
