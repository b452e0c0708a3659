/* Unit tests: applets/sd_daemon.c (LISTEN_FDS by sd_listen_fds(3)'s rule, the listener check,
 * sd_notify to a path and an abstract name) and ctrbox_snapshotter_serve_with's refusals. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ctrbox/snapshots.h>
#include "sd_daemon.h"
#include "unit.h"

/* fd 3 becomes (a dup of) fd; the original is closed. */
static void on_fd3(int fd)
{
	if (fd != 3) {
		dup2(fd, 3);
		close(fd);
	}
}

static void set_listen_env(long pid, const char *fds)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", pid);
	setenv("LISTEN_PID", buf, 1);
	setenv("LISTEN_FDS", fds, 1);
	setenv("LISTEN_FDNAMES", "x", 1);
}

static int env_gone(void)
{
	return !getenv("LISTEN_PID") && !getenv("LISTEN_FDS") && !getenv("LISTEN_FDNAMES");
}

static void listen_fds_body(void)
{
	unsetenv("LISTEN_PID");
	CHECK(sdd_listen_fds() == 0);

	on_fd3(socket(AF_UNIX, SOCK_STREAM, 0)); /* no CLOEXEC: sdd_listen_fds sets it */
	set_listen_env(getpid() + 1, "1");	 /* another process's: ignored, and unset */
	CHECK(sdd_listen_fds() == 0);
	CHECK(env_gone());
	CHECK(!(fcntl(3, F_GETFD) & FD_CLOEXEC));

	set_listen_env(getpid(), "1");
	CHECK(sdd_listen_fds() == 1);
	CHECK(env_gone());
	CHECK(fcntl(3, F_GETFD) & FD_CLOEXEC);
	CHECK(sdd_listen_fds() == 0); /* taken once */

	set_listen_env(getpid(), "1x");
	CHECK(sdd_listen_fds() == -EINVAL);
	CHECK(env_gone());
	setenv("LISTEN_PID", "-1", 1);
	setenv("LISTEN_FDS", "1", 1);
	CHECK(sdd_listen_fds() == -EINVAL);
	set_listen_env(getpid(), "0");
	CHECK(sdd_listen_fds() == 0);
	close(4);
	set_listen_env(getpid(), "2"); /* fd 4 is not open */
	CHECK(sdd_listen_fds() == -EBADF);
	close(3);
}

UNIT_TEST(test_sd_listen_fds)
{
	unit_in_own_process(listen_fds_body);
}

UNIT_TEST(test_sd_check_unix_listener)
{
	const char *why = NULL;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(sdd_check_unix_listener(fd, &why) == -1 && why && strstr(why, "not a socket"));
	close(fd);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(sdd_check_unix_listener(fd, &why) == -1 && strstr(why, "not a stream socket"));
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(sdd_check_unix_listener(fd, &why) == -1 && strstr(why, "not an AF_UNIX"));
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(sdd_check_unix_listener(fd, &why) == -1 && strstr(why, "not listening"));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "ctrbox-unit-sd-%d", (int)getpid());
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0);
	CHECK(sdd_check_unix_listener(fd, &why) == 0);
	close(fd);
}

/* A datagram socket bound at name (a path, or "@abstract"); -1 on failure. */
static int dgram_at(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0)
		return -1;
	return fd;
}

static int got(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return !strcmp(buf, want);
}

UNIT_TEST(test_sd_notify)
{
	char path[64], abs[64];
	unsetenv("NOTIFY_SOCKET");
	CHECK(sdd_notify("READY=1") == 0);

	snprintf(path, sizeof(path), "/tmp/ctrbox-unit-notify-%d", (int)getpid());
	unlink(path);
	int fd = dgram_at(path);
	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(sdd_notify("READY=1") == 1);
	CHECK(got(fd, "READY=1"));
	close(fd);
	unlink(path);
	CHECK(sdd_notify("STOPPING=1") == -ENOENT); /* nobody listens any more */

	snprintf(abs, sizeof(abs), "@ctrbox-unit-notify-%d", (int)getpid());
	fd = dgram_at(abs);
	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", abs, 1);
	CHECK(sdd_notify("STOPPING=1") == 1);
	CHECK(got(fd, "STOPPING=1"));
	close(fd);

	setenv("NOTIFY_SOCKET", "vsock:2:9", 1);
	CHECK(sdd_notify("READY=1") == -EAFNOSUPPORT);
	unsetenv("NOTIFY_SOCKET");
}

static int never(void *impl, char **err)
{
	(void)impl;
	(void)err;
	return 0;
}

UNIT_TEST(test_snapshotter_serve_with_refuses)
{
	static const struct ctrbox_snapshotter_ops ops = {.cleanup = never};
	struct ctrbox_snapshotter_serve_opts o = {.listen_fd = -1};
	CHECK(ctrbox_snapshotter_serve_with(NULL, &ops, NULL) == -EINVAL);
	CHECK(ctrbox_snapshotter_serve_with(&o, &ops, NULL) == -EINVAL);
	o.listen_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(ctrbox_snapshotter_serve_with(&o, &ops, NULL) == -ENOTSOCK);
	CHECK(fcntl(o.listen_fd, F_GETFD) < 0); /* closed, as the header says */
	o.listen_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(ctrbox_snapshotter_serve_with(&o, &ops, NULL) == -EINVAL);
	o.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* not listening */
	CHECK(ctrbox_snapshotter_serve_with(&o, &ops, NULL) == -EINVAL);
}
