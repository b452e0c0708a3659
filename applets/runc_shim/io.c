/* containerd-shim-runc-v2: process stdio -- fifos, files, pipes, ptys, logging binaries. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <ctrbox/log.h>
#include "io.h"
#include <ctrbox/util.h>

/* ---- stdio (fifo and file:// destinations; empty = /dev/null) ---- */

void process_init(struct process *p, struct container *c, const char *id)
{
	p->c = c;
	p->id = strdup(id);
	for (int i = 0; i < 3; i++)
		p->runc_fds[i] = p->shim_fds[i] = -1;
	p->out_fds[0] = p->out_fds[1] = -1;
	p->stdin_fifo = p->stdin_writer = -1;
	p->console = p->console_listen = -1;
	p->log_w[0] = p->log_w[1] = p->logger_pidfd = -1;
	p->ready_fd = p->wait_fd = -1;
}

/* ---- binary:// logging binaries ---- */

#define LOGGER_READY_TIMEOUT_MS 30000
#define CONSOLE_TIMEOUT_MS 10000
#define LOGGER_KILL_AFTER_MS 12000

/* url.QueryUnescape: %XX and '+' -> ' ', in place; -EINVAL on a bad escape. */
static int query_unescape(char *s)
{
	char *w = s;
	for (; *s; s++) {
		if (*s == '+') {
			*w++ = ' ';
		} else if (*s == '%') {
			int hi = ctrbox_hex_digit(s[1]), lo = hi >= 0 ? ctrbox_hex_digit(s[2]) : -1;
			if (lo < 0)
				return -EINVAL;
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* binary:///path?k=v&flag -> argv {path, k, v, flag, ""} (the Go shim's order is random anyway). */
static char **logger_argv(const char *uri)
{
	const char *rest = uri + strlen("binary://");
	size_t n = 2, cap = 2;
	char *copy = strdup(rest), *q, **argv;

	if (!copy)
		return NULL;
	for (const char *c = rest; *c; c++)
		cap += *c == '&' || *c == '?' ? 2 : 0;
	argv = calloc(cap + 2, sizeof(*argv));
	q = strchr(copy, '?');
	if (q)
		*q++ = '\0';
	if (!argv || copy[0] != '/' || query_unescape(copy) < 0) {
		free(copy);
		free(argv);
		return NULL;
	}
	argv[0] = copy; /* owns the buffer all other args point into */
	n = 1;
	for (char *tok = q ? strtok(q, "&") : NULL; tok; tok = strtok(NULL, "&")) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq++ = '\0';
		if (query_unescape(tok) < 0 || (eq && query_unescape(eq) < 0))
			continue;
		argv[n++] = tok;
		argv[n++] = eq ? eq : (char *)"";
	}
	argv[n] = NULL;
	return argv;
}

/* Starts the logger with fds 3/4 (read ends) and 5 (ready); p->ready_fd is the read end of
 * its ready pipe, which io_when_ready waits on. */
static int logger_start(struct process *p, const char *uri, int out_r, int err_r)
{
	char **argv = logger_argv(uri), env_id[512], env_ns[512];
	char *envp[] = {env_id, env_ns, NULL};
	int ready[2], r = 0;
	pid_t pid;

	if (!argv)
		return -EINVAL;
	snprintf(env_id, sizeof(env_id), "CONTAINER_ID=%s", p->id);
	snprintf(env_ns, sizeof(env_ns), "CONTAINER_NAMESPACE=%s", p->c->svc->ns);
	if (pipe2(ready, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDWR);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* move the three fds above 5 first so the dup2s cannot clobber each other */
		int a = fcntl(out_r, F_DUPFD, 10), b = fcntl(err_r, F_DUPFD, 10),
		    c = fcntl(ready[1], F_DUPFD, 10);
		if (null < 0 || a < 0 || b < 0 || c < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0 || dup2(c, 5) < 0)
			_exit(127);
		for (int fd = 6; fd < 1024; fd++)
			close(fd);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(ready[1]);
	if (pid < 0) {
		r = -errno;
		close(ready[0]);
		goto out;
	}
	p->logger_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	p->ready_fd = ready[0];
out:
	if (argv)
		free(argv[0]);
	free(argv);
	return r;
}

/* ---- waits on the loop: an fd that becomes readable, or a deadline ---- */

/* Ends the wait in flight, if any, without calling its done. */
static void wait_stop(struct process *p)
{
	struct ctrbox_loop *l = p->c->svc->loop;

	if (p->wait_fd >= 0)
		ctrbox_loop_del(l, p->wait_fd);
	if (p->ready_timer)
		ctrbox_loop_timer_cancel(l, p->ready_timer);
	p->wait_fd = -1;
	p->ready_timer = NULL;
	p->ready_done = NULL;
}

static void wait_end(struct process *p, int r)
{
	void (*done)(struct svc *, struct process *, int) = p->ready_done;

	wait_stop(p);
	if (done)
		done(p->c->svc, p, r);
}

static void wait_timeout_cb(struct ctrbox_loop *l, void *data)
{
	struct process *p = data;

	p->ready_timer = NULL; /* the loop frees it */
	wait_end(p, -ETIMEDOUT);
}

/* Watches fd with cb until cb ends the wait (wait_end) or ms pass (done gets -ETIMEDOUT). */
static void wait_start(struct svc *s, struct process *p, int fd, ctrbox_fd_cb cb, uint64_t ms,
		       void (*done)(struct svc *, struct process *, int))
{
	p->ready_done = done;
	if (ctrbox_loop_add(s->loop, fd, EPOLLIN, cb, p) < 0)
		return wait_end(p, -ENOMEM);
	p->wait_fd = fd;
	if (!(p->ready_timer = ctrbox_loop_timer_in(s->loop, ms, wait_timeout_cb, p)))
		wait_end(p, -ENOMEM);
}

/* A byte or EOF on fd 5: the Go shim reads one byte and takes EOF as ready too. */
static void ready_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct process *p = data;
	char byte;

	if (read(fd, &byte, 1) < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	ctrbox_loop_del(l, fd); /* before the close: wait_end's del is then a no-op */
	p->wait_fd = -1;
	close_fd(&p->ready_fd);
	wait_end(p, 0);
}

void io_when_ready(struct svc *s, struct process *p,
		   void (*done)(struct svc *, struct process *, int))
{
	if (p->ready_fd < 0)
		return done(s, p, 0);
	/* The Go shim waits without a limit; the bound keeps a broken logger from holding a
	 * Create for ever. The loop serves everyone else meanwhile. */
	wait_start(s, p, p->ready_fd, ready_cb, LOGGER_READY_TIMEOUT_MS, done);
}

/* The timer's data is the pidfd itself: nothing to free if the shim exits before it fires. */
static void logger_kill_cb(struct ctrbox_loop *l, void *data)
{
	int pidfd = (int)(intptr_t)data;

	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0); /* no-op if it exited */
	close(pidfd);
}

/* At Delete: SIGTERM now, SIGKILL in 12 s if it is still there (the reaper collects it). */
void logger_stop(struct svc *s, struct process *p)
{
	if (p->logger_pidfd < 0)
		return;
	syscall(SYS_pidfd_send_signal, p->logger_pidfd, SIGTERM, NULL, 0);
	if (ctrbox_loop_timer_in(s->loop, LOGGER_KILL_AFTER_MS, logger_kill_cb,
				 (void *)(intptr_t)p->logger_pidfd)) {
		p->logger_pidfd = -1;
		return;
	}
	close_fd(&p->logger_pidfd);
}

const char *tmp_dir(void)
{
	const char *t = getenv("XDG_RUNTIME_DIR");
	if (!t || !*t)
		t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* A console socket in a private 0700 dir; runc connects and sends the pty master. */
static int console_listen(struct process *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (asprintf(&p->console_dir, "%s/ptyXXXXXX", tmp_dir()) < 0) {
		p->console_dir = NULL;
		return -ENOMEM;
	}
	if (!mkdtemp(p->console_dir)) {
		free(p->console_dir);
		p->console_dir = NULL;
		return -errno;
	}
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pty.sock", p->console_dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	p->console_listen = fd;
	return 0;
}

static void console_socket_remove(struct process *p)
{
	char path[4200];

	close_fd(&p->console_listen);
	if (p->console_dir) {
		snprintf(path, sizeof(path), "%s/pty.sock", p->console_dir);
		unlink(path);
		rmdir(p->console_dir);
		free(p->console_dir);
		p->console_dir = NULL;
	}
}

/* Takes the master from the queued connection (exactly one SCM_RIGHTS fd, as go-runc
 * requires). */
static int console_take(struct process *p)
{
	char buf[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	int conn, fd = -1;

	conn = accept4(p->console_listen, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return -errno;
	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0 && (cm = CMSG_FIRSTHDR(&msg)) &&
	    cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(conn);
	console_socket_remove(p);
	if (fd < 0)
		return -EBADMSG;
	p->console = fd;
	return 0;
}

static void console_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct process *p = data;

	ctrbox_loop_del(l, fd); /* console_take closes the listener */
	p->wait_fd = -1;
	wait_end(p, console_take(p));
}

/* runc has exited, so its connection is normally queued already; a wrapper may still be on
 * its way. Waits on the loop, never in it. */
void console_receive(struct svc *s, struct process *p,
		     void (*done)(struct svc *, struct process *, int))
{
	if (p->console_listen < 0)
		return done(s, p, -EBADF);
	wait_start(s, p, p->console_listen, console_cb, CONSOLE_TIMEOUT_MS, done);
}

static const char *strip_file_uri(const char *uri)
{
	return strncmp(uri, "file://", 7) == 0 ? uri + 7 : uri;
}

/* Starts the logging binary for uri on two fresh pipes (its fds 3 and 4) and hands back their
 * write ends. On failure after the pipes exist the write ends are still handed back (closed
 * with the process). */
static int logger_open(struct process *p, const char *uri, int *out_w, int *err_w)
{
	int o[2], e[2], r;

	if ((r = ctrbox_io_pipe(o, 0, 0)) < 0)
		return r;
	if ((r = ctrbox_io_pipe(e, 0, 0)) < 0) {
		close(o[0]), close(o[1]);
		return r;
	}
	r = logger_start(p, uri, o[0], e[0]);
	close(o[0]);
	close(e[0]);
	*out_w = o[1];
	*err_w = e[1];
	return r < 0 ? r : 0;
}

/* The stdin fifo's read side, from Create on: what a client writes before Start is kept. */
static int stdin_open(struct process *p)
{
	int r = *p->stdin_path ? ctrbox_io_open_input(p->stdin_path) : 0;

	if (r > 0)
		p->stdin_fifo = r;
	return r < 0 ? r : 0;
}

/* Opens destinations and makes the pipes runc hands to the container. */
int io_prepare(struct process *p)
{
	const char *out = p->stdout_path, *errp = p->stderr_path;
	int fds[2], r;

	if (!strncmp(out, "binary://", 9) && !p->terminal) {
		/* the container writes straight into the logger's pipes; we keep the write ends */
		r = logger_open(p, out, &p->runc_fds[1], &p->runc_fds[2]);
		if (p->runc_fds[1] >= 0) {
			p->log_w[0] = fcntl(p->runc_fds[1], F_DUPFD_CLOEXEC, 3);
			p->log_w[1] = fcntl(p->runc_fds[2], F_DUPFD_CLOEXEC, 3);
		}
		return r;
	}
	if (p->terminal) { /* the pty replaces the pipes; stderr is unused */
		if ((r = console_listen(p)) < 0)
			return r;
		if ((r = stdin_open(p)) < 0)
			return r;
		if (!strncmp(out, "binary://", 9)) /* pty output into the logger's fd 3 pipe */
			return logger_open(p, out, &p->out_fds[0], &p->log_w[1]);
		if (*out) {
			if ((r = ctrbox_io_open_output(strip_file_uri(out))) < 0)
				return r;
			p->out_fds[0] = r;
		}
		return 0;
	}
	if (!strncmp(out, "file://", 7)) {
		/* file:// sends both streams to one file, as the Go shim does */
		char *dir = strdup(strip_file_uri(out)), *slash;
		if (!dir)
			return -ENOMEM;
		if ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			ctrbox_mkdir_p(dir, 0755);
		}
		free(dir);
		errp = out;
	}
	if (*p->stdin_path) {
		if ((r = ctrbox_io_pipe(fds, 0, 1)) < 0)
			return r;
		p->runc_fds[0] = fds[0];
		p->shim_fds[0] = fds[1];
		if ((r = stdin_open(p)) < 0)
			return r;
	}
	for (int i = 0; i < 2; i++) {
		const char *dst = i == 0 ? out : errp;
		if (!*dst)
			continue;
		if ((r = ctrbox_io_pipe(fds, 1, 0)) < 0)
			return r;
		p->shim_fds[i + 1] = fds[0];
		p->runc_fds[i + 1] = fds[1];
		if (i == 1 && !strcmp(dst, out) && p->out_fds[0] >= 0) {
			p->out_fds[1] = p->out_fds[0]; /* one shared handle */
			continue;
		}
		if ((r = ctrbox_io_open_output(strip_file_uri(dst))) < 0)
			return r;
		p->out_fds[i] = r;
	}
	for (int i = 0; i < 3; i++)
		if (p->runc_fds[i] >= 0 && (p->c->io_uid || p->c->io_gid) &&
		    fchown(p->runc_fds[i], p->c->io_uid, p->c->io_gid) < 0)
			return -errno;
	return 0;
}

static void copy_done(struct ctrbox_io_copy *cp, void *data)
{
	struct process *p = data;

	for (int i = 0; i < 3; i++)
		if (p->copies[i] == cp)
			p->copies[i] = NULL;
	if (--p->ncopies == 0 && p->delete_call) {
		ctrbox_loop_timer_cancel(p->c->svc->loop, p->drain_timer);
		p->drain_timer = NULL;
		p->drained(p->c->svc, p);
	}
}

static void drain_timeout_cb(struct ctrbox_loop *l, void *data)
{
	struct process *p = data;

	p->drain_timer = NULL;
	ctrbox_log_warn("%s: stdio not drained after %u ms, deleting anyway", p->id,
			p->c->svc->drain_ms);
	p->drained(p->c->svc, p);
}

void io_drain(struct svc *s, struct process *p)
{
	/* Give the copiers up to drain_ms to move what the process wrote before it exited. */
	if (p->ncopies > 0) {
		/* stdin never ends by itself: the process is gone, stop feeding it */
		if (p->copies[0]) {
			ctrbox_io_copy_stop(p->copies[0]);
			p->copies[0] = NULL;
			if (--p->ncopies == 0)
				return p->drained(s, p);
		}
		p->drain_timer = ctrbox_loop_timer_in(s->loop, s->drain_ms, drain_timeout_cb, p);
		if (p->drain_timer)
			return;
	}
	p->drained(s, p);
}

/* After runc has the container's ends: start copying, keep our own stdin writer. */
static void io_start_console(struct svc *s, struct process *p)
{
	/* a dup of the master: each copier needs its own fd in the loop (stdin: stdin_copy) */
	if (p->out_fds[0] >= 0) {
		int r = fcntl(p->console, F_DUPFD_CLOEXEC, 3);
		if (r >= 0)
			p->copies[1] =
			    ctrbox_io_copy_start(s->loop, r, p->out_fds[0], 0, copy_done, p);
		if (!p->copies[1]) {
			close_fd(&r);
			close_fd(&p->out_fds[0]);
		}
		p->out_fds[0] = -1;
		p->ncopies += p->copies[1] != NULL;
	}
}

/* Feeds the fifo into the container (the pipe, or the pty master). Without a writer of ours
 * (io_stdin_hold adds it at Start) a client whose writer has come and gone ends the input. */
static void stdin_copy(struct svc *s, struct process *p)
{
	int dst;

	if (p->stdin_fifo < 0)
		return;
	dst = p->terminal ? fcntl(p->console, F_DUPFD_CLOEXEC, 3) : p->shim_fds[0];
	p->shim_fds[0] = -1;
	if (dst >= 0)
		p->copies[0] = ctrbox_io_copy_start(s->loop, p->stdin_fifo, dst, 0, copy_done, p);
	if (!p->copies[0]) {
		close_fd(&p->stdin_fifo);
		if (dst >= 0)
			close(dst);
	}
	p->stdin_fifo = -1;
	p->ncopies += p->copies[0] != NULL;
}

void io_start(struct svc *s, struct process *p)
{
	for (int i = 0; i < 3; i++)
		close_fd(&p->runc_fds[i]);
	stdin_copy(s, p);
	if (p->terminal)
		return io_start_console(s, p);
	for (int i = 1; i < 3; i++) {
		int dst = p->out_fds[i - 1], keep = 0;
		if (p->shim_fds[i] < 0)
			continue;
		/* one destination for both streams (file://): the stdout copier gets a dup of its
		 * own, so that neither closes it under the other (a copier may outlive Delete);
		 * without a dup it shares the stderr copier's, which closes it */
		if (i == 1 && dst >= 0 && dst == p->out_fds[1]) {
			dst = fcntl(dst, F_DUPFD_CLOEXEC, 3);
			if (dst < 0) {
				dst = p->out_fds[1];
				keep = 1;
			}
		}
		p->copies[i] =
		    ctrbox_io_copy_start(s->loop, p->shim_fds[i], dst, keep, copy_done, p);
		if (!p->copies[i]) {
			close(p->shim_fds[i]);
			if (!keep)
				close(dst);
		}
		p->ncopies += p->copies[i] != NULL;
		p->shim_fds[i] = -1;
		p->out_fds[i - 1] = -1;
	}
	if (p->out_fds[1] >= 0 && p->out_fds[1] != p->out_fds[0])
		close_fd(&p->out_fds[1]);
}

/* At Start: our own writer keeps the container's stdin open while clients come and go, until
 * CloseIO, as the Go shim's does. Not before Start: ctr sends CloseIO only for an input that
 * ends after its NewTask returned, so a client's writer that came and went before Start (its
 * input was short) is the end of the input: the copier has seen EOF and is gone, and the
 * container reads what was written, then EOF. */
int io_stdin_hold(struct process *p)
{
	if (!p->copies[0] || p->stdin_closed || p->stdin_writer >= 0)
		return 0;
	p->stdin_writer = open(p->stdin_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return p->stdin_writer < 0 ? -errno : 0;
}

void io_close(struct process *p)
{
	wait_stop(p); /* a logger or console wait in flight */
	close_fd(&p->ready_fd);
	for (int i = 0; i < 3; i++) {
		/* stdin stops; what the process wrote is still the client's: the output copiers
		 * finish on their own (bounded), whether or not Delete's wait for them timed out */
		if (i == 0)
			ctrbox_io_copy_stop(p->copies[i]);
		else
			ctrbox_io_copy_detach(p->copies[i]);
		p->copies[i] = NULL;
		close_fd(&p->runc_fds[i]);
		close_fd(&p->shim_fds[i]);
	}
	p->ncopies = 0;
	if (p->out_fds[1] == p->out_fds[0])
		p->out_fds[1] = -1;
	close_fd(&p->out_fds[0]);
	close_fd(&p->out_fds[1]);
	close_fd(&p->stdin_fifo);
	close_fd(&p->stdin_writer);
	close_fd(&p->console);
	console_socket_remove(p);
	close_fd(&p->log_w[0]);
	close_fd(&p->log_w[1]);
}
