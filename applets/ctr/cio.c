/* ctr's stdio fifos and copying: see cio.h. */
#include "ctr/cio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "ctr/ctr.h"
#include <ctrbox/util.h>

static void cio_init(struct ctr_cio *io)
{
	memset(io, 0, sizeof(*io));
	io->in_fd = io->out_fd = io->err_fd = io->evfd = -1;
}

void ctr_cio_null(struct ctr_cio *io)
{
	cio_init(io);
	io->in = strdup("");
	io->out = strdup("");
	io->err = strdup("");
}

int ctr_cio_log_uri(struct ctr_cio *io, const char *uri)
{
	cio_init(io);
	io->in = strdup("");
	io->out = strdup(uri);
	io->err = strdup(uri);
	return 0;
}

static char *fifo_path(const char *dir, const char *id, const char *suffix)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s-%s", dir, id, suffix) < 0)
		return NULL;
	return p;
}

int ctr_cio_fifos(struct ctr_cio *io, const char *fifo_dir, const char *id, bool terminal)
{
	cio_init(io);
	io->terminal = terminal;
	if (!fifo_dir || !*fifo_dir)
		fifo_dir = CTR_DEFAULT_FIFO_DIR;
	if (ctrbox_mkdir_p(fifo_dir, 0700) < 0) {
		int e = errno;
		ctr_fail("mkdir %s: %s", fifo_dir, strerror(e));
		return -e;
	}
	/* os.MkdirTemp(dir, ""): a random decimal name */
	for (int tries = 0; tries < 100; tries++) {
		uint32_t r;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)getpid() ^ (uint32_t)tries;
		free(io->dir);
		if (asprintf(&io->dir, "%s/%u", fifo_dir, r) < 0) {
			io->dir = NULL;
			return -ENOMEM;
		}
		if (mkdir(io->dir, 0700) == 0)
			break;
		if (errno != EEXIST) {
			int e = errno;
			ctr_fail("mkdir %s: %s", io->dir, strerror(e));
			free(io->dir);
			io->dir = NULL;
			return -e;
		}
	}
	io->in = fifo_path(io->dir, id, "stdin");
	io->out = fifo_path(io->dir, id, "stdout");
	io->err = terminal ? strdup("") : fifo_path(io->dir, id, "stderr");
	const char *paths[3] = {io->in, io->out, io->err};
	for (int i = 0; i < 3; i++) {
		if (!*paths[i])
			continue;
		if (mkfifo(paths[i], 0700) < 0 && errno != EEXIST) {
			int e = errno;
			ctr_fail("mkfifo %s: %s", paths[i], strerror(e));
			return -e;
		}
	}
	/* stdin: read-write so that opening never blocks and the pipe keeps its data until the
	 * shim opens its end */
	io->in_fd = open(io->in, O_RDWR | O_CLOEXEC);
	io->out_fd = open(io->out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*io->err)
		io->err_fd = open(io->err, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->in_fd < 0 || io->out_fd < 0 || (*io->err && io->err_fd < 0)) {
		int e = errno;
		ctr_fail("open fifo: %s", strerror(e));
		return -e;
	}
	return 0;
}

static void *stdin_thread(void *arg)
{
	struct ctr_cio *io = arg;
	char buf[32768];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (ctrbox_write_all(io->in_fd, buf, (size_t)n) < 0)
			break;
	}
	uint64_t one = 1;
	if (write(io->evfd, &one, sizeof(one)) < 0) {
		/* the loop will not learn about it; nothing else to do */
	}
	return NULL;
}

static void on_evfd(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctr_cio *io = data;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno == EAGAIN)
		return;
	ctrbox_loop_del(l, fd);
	/* the thread is done with in_fd */
	pthread_join(io->thread, NULL);
	io->stdin_thread = false;
	if (io->in_fd >= 0) {
		close(io->in_fd);
		io->in_fd = -1;
	}
	io->stdin_eof = true;
	*io->wake = 1;
}

static void on_output(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctr_cio *io = data;
	int dst = fd == io->out_fd ? STDOUT_FILENO : STDERR_FILENO;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (ctrbox_write_all(dst, buf, (size_t)n) < 0) {
				/* our side is gone: keep draining so the shim never blocks */
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break; /* EOF (the shim closed its end) or an error */
	}
	ctrbox_loop_del(l, fd);
	io->outputs_open--;
	*io->wake = 1;
}

int ctr_cio_start(struct ctr_cio *io, struct ctrbox_loop *l, int *wake, bool with_stdin)
{
	io->loop = l;
	io->wake = wake;
	if (io->out_fd >= 0 && ctrbox_loop_add(l, io->out_fd, EPOLLIN, on_output, io) == 0)
		io->outputs_open++;
	if (io->err_fd >= 0 && ctrbox_loop_add(l, io->err_fd, EPOLLIN, on_output, io) == 0)
		io->outputs_open++;
	if (with_stdin && io->in_fd >= 0) {
		io->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (io->evfd < 0)
			return -errno;
		if (ctrbox_loop_add(l, io->evfd, EPOLLIN, on_evfd, io) < 0)
			return -errno;
		if (pthread_create(&io->thread, NULL, stdin_thread, io) != 0)
			return -EAGAIN;
		io->stdin_thread = true;
	}
	return 0;
}

bool ctr_cio_outputs_done(const struct ctr_cio *io)
{
	return io->outputs_open <= 0;
}

void ctr_cio_close(struct ctr_cio *io, bool keep)
{
	if (io->loop) {
		if (io->out_fd >= 0)
			ctrbox_loop_del(io->loop, io->out_fd);
		if (io->err_fd >= 0)
			ctrbox_loop_del(io->loop, io->err_fd);
		if (io->evfd >= 0)
			ctrbox_loop_del(io->loop, io->evfd);
	}
	/* a stdin thread still blocked in read(2) keeps in_fd: leave both to exit */
	if (io->out_fd >= 0)
		close(io->out_fd);
	if (io->err_fd >= 0)
		close(io->err_fd);
	if (!io->stdin_thread) {
		if (io->in_fd >= 0)
			close(io->in_fd);
		if (io->evfd >= 0)
			close(io->evfd);
	}
	io->out_fd = io->err_fd = -1;
	if (io->dir && !keep)
		ctrbox_rm_rf(io->dir);
	free(io->dir);
	free(io->in);
	free(io->out);
	free(io->err);
	io->dir = io->in = io->out = io->err = NULL;
}

/* ---- console ---- */

static int con_fd = -1;
static struct termios con_saved;

int ctr_console_raw(void)
{
	int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
	for (int i = 0; i < 3; i++) {
		if (isatty(fds[i])) {
			con_fd = fds[i];
			break;
		}
	}
	if (con_fd < 0)
		return -1;
	if (tcgetattr(con_fd, &con_saved) < 0) {
		con_fd = -1;
		return -1;
	}
	struct termios t = con_saved;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(con_fd, TCSANOW, &t);
	return con_fd;
}

void ctr_console_reset(void)
{
	if (con_fd >= 0)
		tcsetattr(con_fd, TCSANOW, &con_saved);
}

int ctr_console_size(unsigned *width, unsigned *height)
{
	struct winsize ws;
	if (con_fd < 0 || ioctl(con_fd, TIOCGWINSZ, &ws) < 0)
		return -1;
	*width = ws.ws_col;
	*height = ws.ws_row;
	return 0;
}
