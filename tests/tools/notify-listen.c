/* notify-listen: the receiving end of sd_notify for tests, standing in for systemd's
 * NOTIFY_SOCKET: binds an AF_UNIX datagram socket at PATH (owner-only), prints each datagram it
 * receives on a line of its own (newlines inside one shown as \n), and exits 0 after a datagram
 * that holds READY=1, or after COUNT datagrams with --count; exits 1 after --timeout SECS
 * (default 30) without getting there. The socket file is removed on the way out. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Prints one datagram; 1 when it holds the line READY=1. */
static int print_datagram(const char *buf, size_t n)
{
	int ready = 0;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			fputs("\\n", stdout);
		else
			putchar(buf[i]);
		if ((i == 0 || buf[i - 1] == '\n') && n - i >= 7 &&
		    !memcmp(buf + i, "READY=1", 7) && (n - i == 7 || buf[i + 7] == '\n'))
			ready = 1;
	}
	putchar('\n');
	fflush(stdout);
	return ready;
}

static int bind_dgram(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "notify-listen: %s: path too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* a stale one from an earlier run of this test */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0077);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "notify-listen: bind %s: %s\n", path, strerror(errno));
		umask(old);
		return -1;
	}
	umask(old);
	return fd;
}

int main(int argc, char **argv)
{
	long count = 0, timeout_s = 30, got = 0;
	const char *path = NULL;
	char buf[4096];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atol(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = atol(argv[++i]);
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path || count < 0 || timeout_s <= 0) {
		fprintf(stderr, "usage: notify-listen PATH [--count N] [--timeout SECS]\n");
		return 2;
	}
	int fd = bind_dgram(path);
	if (fd < 0)
		return 1;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	long deadline = now_ms() + timeout_s * 1000L;
	int rc = 1;
	while (!stop) {
		long left = deadline - now_ms();
		if (left <= 0) {
			fprintf(stderr, "notify-listen: timed out after %lds (%ld datagrams)\n",
				timeout_s, got);
			break;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		got++;
		int ready = print_datagram(buf, (size_t)n);
		if (count ? got >= count : ready) {
			rc = 0;
			break;
		}
	}
	close(fd);
	unlink(path);
	return rc;
}
