/* The few lines of systemd's sd-daemon protocol ctrbox-snapshotter speaks: take the listening
 * socket systemd passes (LISTEN_PID/LISTEN_FDS, fds from 3) and tell systemd READY=1 and
 * STOPPING=1 on $NOTIFY_SOCKET (one AF_UNIX datagram each). Written here rather than linked from
 * libsystemd because ctrbox links fully static and Debian ships no static libsystemd
 * (libsystemd-dev has the shared library only); the protocol itself is small and documented in
 * sd_listen_fds(3) and sd_notify(3). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd_daemon.h"

/* A decimal in [0, max] with nothing around it, else -1. */
static long parse_decimal(const char *s, long max)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	return v;
}

static int listen_fds(void)
{
	const char *e = getenv("LISTEN_PID");
	if (!e)
		return 0;
	long pid = parse_decimal(e, INT_MAX);
	if (pid <= 0)
		return -EINVAL;
	if (pid != (long)getpid())
		return 0;
	long n = parse_decimal(getenv("LISTEN_FDS"), INT_MAX - SDD_LISTEN_FDS_START);
	if (n < 0)
		return -EINVAL;
	for (int fd = SDD_LISTEN_FDS_START; fd < SDD_LISTEN_FDS_START + (int)n; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
			return -errno;
	}
	return (int)n;
}

int sdd_listen_fds(void)
{
	int r = listen_fds();
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return r;
}

int sdd_check_unix_listener(int fd, const char **why)
{
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0) {
		*why = errno == ENOTSOCK ? "is not a socket" : "cannot be queried (getsockopt)";
		return -1;
	}
	if (v != AF_UNIX) {
		*why = "is not an AF_UNIX socket";
		return -1;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM) {
		*why = "is not a stream socket (ListenStream= in the .socket unit)";
		return -1;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v) {
		*why = "is not listening (Accept=no in the .socket unit passes the listener)";
		return -1;
	}
	return 0;
}

int sdd_notify(const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n;

	if (!e || !*e)
		return 0;
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n < 2 || n >= sizeof(sa.sun_path))
		return -EAFNOSUPPORT;
	memcpy(sa.sun_path, e, n);
	if (e[0] == '@')
		sa.sun_path[0] =
		    '\0'; /* abstract: the name is the bytes after the NUL, no terminator */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct iovec iov = {.iov_base = (void *)state, .iov_len = strlen(state)};
	struct msghdr mh = {
	    .msg_name = &sa, .msg_namelen = salen, .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
	int r = w < 0 ? -errno : (size_t)w == iov.iov_len ? 1 : -EIO;
	close(fd);
	return r;
}
