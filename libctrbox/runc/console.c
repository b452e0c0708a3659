/* The console socket of a terminal container: a private listening unix socket runc connects
 * to (--console-socket) to hand over the pty master with SCM_RIGHTS. */
#include <ctrbox/loop.h>
#include <ctrbox/runc.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct ctrbox_runc_console_socket {
	char dir[PATH_MAX], path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	struct ctrbox_loop *loop; /* while a receive waits */
	struct ctrbox_timer *timer;
	ctrbox_runc_console_cb cb;
	void *data;
};

static const char *default_dir(void)
{
	const char *t = getenv("XDG_RUNTIME_DIR");

	if (!t || !*t)
		t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* Closes the listener and removes the socket and its directory (once). */
static void remove_socket(struct ctrbox_runc_console_socket *cs)
{
	if (cs->fd >= 0)
		close(cs->fd);
	cs->fd = -1;
	if (cs->path[0])
		unlink(cs->path);
	if (cs->dir[0])
		rmdir(cs->dir);
	cs->path[0] = cs->dir[0] = '\0';
}

int ctrbox_runc_console_socket_new(const char *dir, struct ctrbox_runc_console_socket **out)
{
	struct ctrbox_runc_console_socket *cs = calloc(1, sizeof(*cs));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int e = 0;

	*out = NULL;
	if (!cs)
		return -ENOMEM;
	cs->fd = -1;
	if (!dir || !*dir)
		dir = default_dir();
	if ((size_t)snprintf(cs->dir, sizeof(cs->dir), "%s/ptyXXXXXX", dir) >= sizeof(cs->dir) ||
	    strlen(cs->dir) + sizeof("/pty.sock") > sizeof(sa.sun_path)) {
		free(cs);
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(cs->dir)) { /* 0700: only we and root reach the socket */
		e = -errno;
		free(cs);
		return e;
	}
	{ /* fits: the length was checked above */
		size_t n = strlen(cs->dir);
		memcpy(cs->path, cs->dir, n);
		memcpy(cs->path + n, "/pty.sock", sizeof("/pty.sock"));
	}
	memcpy(sa.sun_path, cs->path, strlen(cs->path) + 1);
	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cs->fd < 0 || bind(cs->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(cs->fd, 1) < 0) {
		e = -errno;
		ctrbox_runc_console_socket_free(cs);
		return e;
	}
	*out = cs;
	return 0;
}

const char *ctrbox_runc_console_socket_path(const struct ctrbox_runc_console_socket *cs)
{
	return cs->path;
}

int ctrbox_runc_console_socket_fd(const struct ctrbox_runc_console_socket *cs)
{
	return cs->fd;
}

int ctrbox_runc_console_socket_take(struct ctrbox_runc_console_socket *cs, int *master)
{
	char buf[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	int conn, fd = -1;

	if (cs->fd < 0)
		return -EBADF;
	conn = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* exactly one fd, as go-runc requires */
	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0 && (cm = CMSG_FIRSTHDR(&msg)) &&
	    cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(conn);
	remove_socket(cs);
	if (fd < 0)
		return -EBADMSG;
	*master = fd;
	return 0;
}

/* The receive is over: no watcher, no timer, then the callback with the master or -errno. */
static void receive_end(struct ctrbox_runc_console_socket *cs, int r)
{
	struct ctrbox_loop *l = cs->loop;

	if (!l)
		return;
	if (cs->fd >= 0)
		ctrbox_loop_del(l, cs->fd);
	if (cs->timer)
		ctrbox_loop_timer_cancel(l, cs->timer);
	cs->timer = NULL;
	cs->loop = NULL;
	cs->cb(cs, r, cs->data);
}

static void console_ready(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctrbox_runc_console_socket *cs = data;
	int master = -1, r;

	ctrbox_loop_del(l, fd);
	r = ctrbox_runc_console_socket_take(cs, &master);
	if (r == -EAGAIN) /* woken for nothing: wait on */
		return (void)ctrbox_loop_add(l, fd, EPOLLIN, console_ready, cs);
	receive_end(cs, r < 0 ? r : master);
}

static void console_timeout(struct ctrbox_loop *l, void *data)
{
	struct ctrbox_runc_console_socket *cs = data;

	cs->timer = NULL; /* the loop frees it */
	receive_end(cs, -ETIMEDOUT);
}

int ctrbox_runc_console_receive(struct ctrbox_runc_console_socket *cs, struct ctrbox_loop *l,
				uint64_t timeout_ms, ctrbox_runc_console_cb cb, void *data)
{
	int r;

	if (cs->fd < 0 || !cb)
		return -EBADF;
	if (cs->loop)
		return -EBUSY;
	if ((r = ctrbox_loop_add(l, cs->fd, EPOLLIN, console_ready, cs)) < 0)
		return r;
	if (timeout_ms && !(cs->timer = ctrbox_loop_timer_in(l, timeout_ms, console_timeout, cs))) {
		ctrbox_loop_del(l, cs->fd);
		return -ENOMEM;
	}
	cs->loop = l;
	cs->cb = cb;
	cs->data = data;
	return 0;
}

void ctrbox_runc_console_socket_free(struct ctrbox_runc_console_socket *cs)
{
	if (!cs)
		return;
	if (cs->loop) {
		if (cs->fd >= 0)
			ctrbox_loop_del(cs->loop, cs->fd);
		if (cs->timer)
			ctrbox_loop_timer_cancel(cs->loop, cs->timer);
	}
	remove_socket(cs);
	free(cs);
}
