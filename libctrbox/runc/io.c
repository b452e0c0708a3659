/* Stdio plumbing for shims: opening containerd's fifos and files, and non-blocking copy loops. */
#include <ctrbox/io.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/list.h"
#include "core/log_int.h"

#define COPY_BUF                                                                                   \
	16384 /* per stream, from its first data on; pages a chatty container dirties stay */
/* A detached copier (its owner is gone) that moved nothing for this long gives up. */
#define DETACHED_IDLE_MS 30000
/* At the source's end a FIFO destination is closed (and done called) once its reader has taken
 * everything in it: checked every LINGER_POLL_MS, given up when the reader took nothing for
 * LINGER_STALL_MS (it is gone, or not reading). */
#define LINGER_POLL_MS 5
#define LINGER_STALL_MS 500

/* One chunk at a time: src is read only while the buffer is empty, and is not watched at all
 * while a chunk waits for dst (a paused source still reports EPOLLHUP/EPOLLERR, whatever the
 * mask: a pty master whose process exited, a pipe whose writers are gone). */
struct ctrbox_io_copy {
	struct ctrbox_loop *loop;
	int src, dst, keep_dst;
	int src_watched, dst_watched;
	int detached;
	int dst_fifo;			    /* dst is a FIFO: linger at the end */
	struct ctrbox_io_copy *prev, *next; /* detached: all of them, so they stay reachable */
	struct ctrbox_timer *idle_timer;
	struct ctrbox_timer *linger_timer; /* the source has ended; the FIFO still holds data */
	int linger_left;		   /* bytes in the FIFO at the last look */
	uint64_t linger_ms;		   /* when the reader last took some */
	uint64_t last_ms;		   /* detached: when data last moved */
	char *buf;
	size_t off, len;
	unsigned long long bytes;
	void (*done)(struct ctrbox_io_copy *c, void *data);
	void *data;
};

/* Detached copiers left when the loop is freed at exit are not leaks: they are listed here. */
static struct ctrbox_io_copy *detached_list;

static void src_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data);
static void dst_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data);

static void copy_close(struct ctrbox_io_copy *c)
{
	if (c->src_watched)
		ctrbox_loop_del(c->loop, c->src);
	if (c->src >= 0)
		close(c->src);
	if (c->dst_watched)
		ctrbox_loop_del(c->loop, c->dst);
	if (!c->keep_dst)
		close(c->dst);
	if (c->idle_timer)
		ctrbox_loop_timer_cancel(c->loop, c->idle_timer);
	if (c->linger_timer)
		ctrbox_loop_timer_cancel(c->loop, c->linger_timer);
	if (c->detached) {
		CTRBOX_LIST_UNLINK(detached_list, c);
	}
	free(c->buf);
	free(c);
}

static void copy_finish(struct ctrbox_io_copy *c)
{
	void (*done)(struct ctrbox_io_copy *, void *) = c->done;
	void *data = c->data;

	copy_close(c);
	if (done)
		done(c, data); /* c is only an identity here: it is freed */
}

/* Bytes the FIFO dst still holds for its reader (0 if unknown). */
static int fifo_left(const struct ctrbox_io_copy *c)
{
	int n = 0;

	return ioctl(c->dst, FIONREAD, &n) < 0 ? 0 : n;
}

static void linger_cb(struct ctrbox_loop *l, void *data)
{
	struct ctrbox_io_copy *c = data;
	uint64_t now = ctrbox_loop_now_ms();
	int left = fifo_left(c);

	c->linger_timer = NULL; /* the loop frees it */
	if (left < c->linger_left) {
		c->linger_left = left;
		c->linger_ms = now;
	}
	if (left > 0 && now - c->linger_ms < LINGER_STALL_MS &&
	    (c->linger_timer = ctrbox_loop_timer_in(l, LINGER_POLL_MS, linger_cb, c)))
		return;
	if (left > 0)
		ctrbox_log_debug("stdio copy: the reader took nothing for %d ms, %d bytes left in "
				 "the fifo",
				 LINGER_STALL_MS, left);
	copy_finish(c);
}

/* The source has ended and everything read is written. A client may close its FIFO reader as
 * soon as what done leads to (Delete's answer) reaches it: containerd 2.x's process.Delete does
 * (cio's Cancel), and what the pipe still held would be lost. So done waits for the reader. */
static void copy_end(struct ctrbox_io_copy *c)
{
	if (c->dst_fifo && (c->linger_left = fifo_left(c)) > 0) {
		if (c->src_watched)
			ctrbox_loop_del(c->loop, c->src);
		c->src_watched = 0;
		close(c->src);
		c->src = -1;
		c->linger_ms = ctrbox_loop_now_ms();
		if ((c->linger_timer = ctrbox_loop_timer_in(c->loop, LINGER_POLL_MS, linger_cb, c)))
			return;
	}
	copy_finish(c);
}

/* Writes what is buffered; returns 1 when the buffer is empty, 0 if dst is full, -1 on error. */
static int flush(struct ctrbox_io_copy *c)
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
		if (c->detached)
			c->last_ms = ctrbox_loop_now_ms();
	}
	c->off = c->len = 0;
	return 1;
}

/* dst is full: stop reading (the chunk stays) until dst takes more. 0, or -1 if it cannot
 * wait (the copier is finished then). */
static int pause_src(struct ctrbox_io_copy *c)
{
	if (c->src_watched) {
		ctrbox_loop_del(c->loop, c->src);
		c->src_watched = 0;
	}
	if (ctrbox_loop_add(c->loop, c->dst, EPOLLOUT, dst_cb, c) < 0) {
		ctrbox_log_warn("stdio copy: cannot wait for the destination, dropping output");
		copy_finish(c);
		return -1;
	}
	c->dst_watched = 1;
	return 0;
}

/* The buffer is empty again: read on. A detached copier reads at once, so that it ends as
 * soon as the source has nothing more (nobody waits for later output). */
static void resume_src(struct ctrbox_io_copy *c)
{
	if (ctrbox_loop_add(c->loop, c->src, EPOLLIN, src_cb, c) < 0) {
		ctrbox_log_warn("stdio copy: cannot watch the source, dropping output");
		copy_finish(c);
		return;
	}
	c->src_watched = 1;
	if (c->detached)
		src_cb(c->loop, c->src, 0, c);
}

static void dst_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctrbox_io_copy *c = data;
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
	resume_src(c);
}

static void src_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctrbox_io_copy *c = data;

	/* The buffer comes with the first data (or EOF): an idle stream costs no heap pages. */
	if (!c->buf && !(c->buf = malloc(COPY_BUF))) {
		ctrbox_log_warn("stdio copy: out of memory, dropping output");
		copy_finish(c);
		return;
	}
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(fd, c->buf, COPY_BUF);
		int r;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (c->detached)
				copy_finish(c); /* all there was is out */
			return;
		}
		if (n <= 0) { /* EOF; EIO: a pty master whose slave side is closed */
			copy_end(c);
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
		if (r == 0) {
			pause_src(c);
			return;
		}
	}
}

static void idle_cb(struct ctrbox_loop *l, void *data)
{
	struct ctrbox_io_copy *c = data;
	uint64_t now = ctrbox_loop_now_ms();

	c->idle_timer = NULL; /* the loop frees it */
	if (now - c->last_ms < DETACHED_IDLE_MS)
		c->idle_timer = ctrbox_loop_timer_at(l, c->last_ms + DETACHED_IDLE_MS, idle_cb, c);
	if (c->idle_timer)
		return;
	ctrbox_log_warn("stdio copy: output not taken for %d s, dropping %zu bytes and the rest",
			DETACHED_IDLE_MS / 1000, c->len - c->off);
	copy_finish(c);
}

struct ctrbox_io_copy *ctrbox_io_copy_start(struct ctrbox_loop *l, int src, int dst, int keep_dst,
					    void (*done)(struct ctrbox_io_copy *c, void *data),
					    void *data)
{
	struct ctrbox_io_copy *c = calloc(1, sizeof(*c));
	struct stat st;

	if (!c)
		return NULL;
	c->loop = l;
	c->src = src;
	c->dst = dst;
	c->keep_dst = keep_dst;
	c->done = done;
	c->data = data;
	fcntl(src, F_SETFL, fcntl(src, F_GETFL) | O_NONBLOCK);
	fcntl(dst, F_SETFL, fcntl(dst, F_GETFL) | O_NONBLOCK);
	c->dst_fifo = fstat(dst, &st) == 0 && S_ISFIFO(st.st_mode);
	if (ctrbox_loop_add(l, src, EPOLLIN, src_cb, c) < 0) {
		free(c);
		return NULL;
	}
	c->src_watched = 1;
	return c;
}

void ctrbox_io_copy_stop(struct ctrbox_io_copy *c)
{
	if (c)
		copy_close(c);
}

void ctrbox_io_copy_detach(struct ctrbox_io_copy *c)
{
	if (!c)
		return;
	c->done = NULL;
	c->data = NULL;
	c->detached = 1;
	CTRBOX_LIST_PUSH(detached_list, c);
	c->last_ms = ctrbox_loop_now_ms();
	c->idle_timer = ctrbox_loop_timer_in(c->loop, DETACHED_IDLE_MS, idle_cb, c);
	if (!c->idle_timer) {
		ctrbox_log_warn("stdio copy: out of memory, dropping output");
		copy_close(c);
		return;
	}
	if (c->src_watched) /* else a chunk waits for dst: dst_cb goes on */
		src_cb(c->loop, c->src, 0, c);
}

unsigned long long ctrbox_io_copy_bytes(const struct ctrbox_io_copy *c)
{
	return c->bytes;
}

int ctrbox_io_open_output(const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

int ctrbox_io_open_input(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ctrbox_io_pipe(int fds[2], int nonblock_read, int nonblock_write)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (nonblock_read)
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	if (nonblock_write)
		fcntl(fds[1], F_SETFL, O_NONBLOCK);
	return 0;
}

static void close_one(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void ctrbox_io_pipes_close_child(struct ctrbox_io_pipes *p)
{
	close_one(&p->child_in);
	close_one(&p->child_out);
	close_one(&p->child_err);
}

void ctrbox_io_pipes_close(struct ctrbox_io_pipes *p)
{
	ctrbox_io_pipes_close_child(p);
	close_one(&p->in);
	close_one(&p->out);
	close_one(&p->err);
}

int ctrbox_io_pipes_new(struct ctrbox_io_pipes *p, int want_in, int want_out, int want_err)
{
	int fds[2], r = 0;

	p->in = p->out = p->err = p->child_in = p->child_out = p->child_err = -1;
	if (want_in && (r = ctrbox_io_pipe(fds, 0, 1)) == 0) {
		p->child_in = fds[0];
		p->in = fds[1];
	}
	if (r == 0 && want_out && (r = ctrbox_io_pipe(fds, 1, 0)) == 0) {
		p->out = fds[0];
		p->child_out = fds[1];
	}
	if (r == 0 && want_err && (r = ctrbox_io_pipe(fds, 1, 0)) == 0) {
		p->err = fds[0];
		p->child_err = fds[1];
	}
	if (r < 0)
		ctrbox_io_pipes_close(p);
	return r;
}
