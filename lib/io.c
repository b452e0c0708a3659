/* Stdio plumbing for shims: opening containerd's fifos and files, and non-blocking copy loops. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define COPY_BUF 16384 /* per stream; pages a chatty container dirties stay with the shim */

struct io_copy {
	struct ctrbox_loop *loop;
	int src, dst, keep_dst;
	int dst_watched;
	char *buf;
	size_t off, len;
	unsigned long long bytes;
	void (*done)(struct io_copy *c, void *data);
	void *data;
};

static void src_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data);

static void copy_close(struct io_copy *c)
{
	ctrbox_loop_del(c->loop, c->src);
	close(c->src);
	if (c->dst_watched)
		ctrbox_loop_del(c->loop, c->dst);
	if (!c->keep_dst)
		close(c->dst);
	free(c->buf);
	free(c);
}

static void copy_finish(struct io_copy *c)
{
	void (*done)(struct io_copy *, void *) = c->done;
	void *data = c->data;

	copy_close(c);
	if (done)
		done(c, data); /* c is only an identity here: it is freed */
}

/* Writes what is buffered; returns 1 when the buffer is empty, 0 if dst is full, -1 on error. */
static int flush(struct io_copy *c)
{
	while (c->off < c->len) {
		ssize_t w = write(c->dst, c->buf + c->off, c->len - c->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0)
			return -1;
		c->off += w;
		c->bytes += w;
	}
	c->off = c->len = 0;
	return 1;
}

static void dst_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct io_copy *c = data;
	int r = flush(c);

	if (r == 0)
		return;
	ctrbox_loop_del(l, fd);
	c->dst_watched = 0;
	if (r < 0) {
		/* Nobody can take the output any more: drop the rest rather than stall the writer.
		 */
		ctrbox_log_warn("stdio copy: write failed, dropping output");
		copy_finish(c);
		return;
	}
	ctrbox_loop_mod(l, c->src, EPOLLIN);
}

static void src_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct io_copy *c = data;

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(fd, c->buf, COPY_BUF);
		int r;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			copy_finish(c);
			return;
		}
		c->off = 0;
		c->len = n;
		r = flush(c);
		if (r < 0) {
			ctrbox_log_warn("stdio copy: write failed, dropping output");
			copy_finish(c);
			return;
		}
		if (r == 0) { /* dst full: stop reading until it drains */
			ctrbox_loop_mod(l, fd, 0);
			if (ctrbox_loop_add(l, c->dst, EPOLLOUT, dst_cb, c) == 0)
				c->dst_watched = 1;
			return;
		}
	}
}

struct io_copy *io_copy_start(struct ctrbox_loop *l, int src, int dst, int keep_dst,
			      void (*done)(struct io_copy *c, void *data), void *data)
{
	struct io_copy *c = calloc(1, sizeof(*c));

	if (!c || !(c->buf = malloc(COPY_BUF))) {
		free(c);
		return NULL;
	}
	c->loop = l;
	c->src = src;
	c->dst = dst;
	c->keep_dst = keep_dst;
	c->done = done;
	c->data = data;
	fcntl(src, F_SETFL, fcntl(src, F_GETFL) | O_NONBLOCK);
	fcntl(dst, F_SETFL, fcntl(dst, F_GETFL) | O_NONBLOCK);
	if (ctrbox_loop_add(l, src, EPOLLIN, src_cb, c) < 0) {
		free(c->buf);
		free(c);
		return NULL;
	}
	return c;
}

void io_copy_stop(struct io_copy *c)
{
	if (c)
		copy_close(c);
}

unsigned long long io_copy_bytes(const struct io_copy *c)
{
	return c->bytes;
}

int io_open_output(const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

int io_open_input(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int io_pipe(int fds[2], int nonblock_read, int nonblock_write)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (nonblock_read)
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	if (nonblock_write)
		fcntl(fds[1], F_SETFL, O_NONBLOCK);
	return 0;
}
