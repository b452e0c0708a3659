/* The stdio copier's end with a FIFO destination: done waits until the reader has taken what
 * the FIFO holds, and gives up when the reader takes nothing. */
#include <ctrbox/io.h>
#include <ctrbox/loop.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

struct fifo_case {
	int done;
	int left_at_done; /* bytes the FIFO held when done was called */
	int rd;		  /* the client's reader */
	char path[64];
};

static void on_done(struct ctrbox_io_copy *c, void *data)
{
	struct fifo_case *fc = data;
	int n = -1;

	ioctl(fc->rd, FIONREAD, &n);
	fc->left_at_done = n;
	fc->done = 1;
}

static void read_some(struct ctrbox_loop *l, void *data)
{
	struct fifo_case *fc = data;
	char buf[4096];

	if (fc->done)
		return;
	if (read(fc->rd, buf, sizeof(buf)) < 0 && errno != EAGAIN)
		return;
	ctrbox_loop_timer_in(l, 2, read_some, fc);
}

/* A source with 48 kB, written and closed: the copier reads EOF at once, the FIFO holds it. */
static void setup(struct ctrbox_loop **l, struct ctrbox_io_copy **cp, struct fifo_case *fc)
{
	static char chunk[49152];
	int src[2], dst;

	memset(chunk, 'x', sizeof(chunk));
	snprintf(fc->path, sizeof(fc->path), "/tmp/ctrbox-unit-fifo.%d", (int)getpid());
	unlink(fc->path);
	CHECK(mkfifo(fc->path, 0600) == 0);
	fc->rd = open(fc->path, O_RDONLY | O_NONBLOCK);
	dst = ctrbox_io_open_output(fc->path);
	CHECK(fc->rd >= 0 && dst >= 0);
	CHECK(pipe2(src, O_CLOEXEC) == 0);
	fcntl(src[1], F_SETPIPE_SZ, 65536);
	CHECK(write(src[1], chunk, sizeof(chunk)) == (ssize_t)sizeof(chunk));
	close(src[1]);
	CHECK(ctrbox_loop_new(l) == 0);
	*cp = ctrbox_io_copy_start(*l, src[0], dst, 0, on_done, fc);
	CHECK(*cp != NULL);
}

UNIT_TEST(test_iocopy_fifo_waits_for_reader)
{
	struct fifo_case fc = {0};
	struct ctrbox_loop *l;
	struct ctrbox_io_copy *cp;
	uint64_t t0;
	int n = 0;

	setup(&l, &cp, &fc);
	/* the data is in the FIFO, the source is at EOF: no done while the reader reads on */
	t0 = ctrbox_loop_now_ms();
	while (ctrbox_loop_now_ms() - t0 < 50)
		ctrbox_loop_run_until(l, &fc.done, ctrbox_loop_now_ms() + 10);
	CHECK(!fc.done);
	CHECK(ioctl(fc.rd, FIONREAD, &n) == 0 && n == 49152);
	ctrbox_loop_timer_in(l, 1, read_some, &fc);
	CHECK(ctrbox_loop_run_until(l, &fc.done, ctrbox_loop_now_ms() + 5000) == 0);
	CHECK(fc.done && fc.left_at_done == 0);
	close(fc.rd);
	unlink(fc.path);
	ctrbox_loop_free(l);
}

UNIT_TEST(test_iocopy_fifo_reader_gone)
{
	struct fifo_case fc = {0};
	struct ctrbox_loop *l;
	struct ctrbox_io_copy *cp;
	uint64_t t0;

	setup(&l, &cp, &fc);
	/* nobody reads: done comes after the stall bound (500 ms), with the data still there */
	t0 = ctrbox_loop_now_ms();
	CHECK(ctrbox_loop_run_until(l, &fc.done, t0 + 5000) == 0);
	CHECK(fc.done && fc.left_at_done == 49152);
	CHECK(ctrbox_loop_now_ms() - t0 >= 500);
	close(fc.rd);
	unlink(fc.path);
	ctrbox_loop_free(l);
}

UNIT_TEST(test_iocopy_fifo_stop_while_lingering)
{
	struct fifo_case fc = {0};
	struct ctrbox_loop *l;
	struct ctrbox_io_copy *cp;
	uint64_t t0;

	setup(&l, &cp, &fc);
	t0 = ctrbox_loop_now_ms();
	while (ctrbox_loop_now_ms() - t0 < 30)
		ctrbox_loop_run_until(l, &fc.done, ctrbox_loop_now_ms() + 10);
	CHECK(!fc.done);
	ctrbox_io_copy_stop(cp); /* frees it, timer and all; done is not called */
	t0 = ctrbox_loop_now_ms();
	while (ctrbox_loop_now_ms() - t0 < 600)
		ctrbox_loop_run_until(l, &fc.done, ctrbox_loop_now_ms() + 50);
	CHECK(!fc.done);
	close(fc.rd);
	unlink(fc.path);
	ctrbox_loop_free(l);
}
