/* Stdio plumbing for shims: opening containerd's fifos and files, and non-blocking copy loops. */
#ifndef CTRBOX_IO_H
#define CTRBOX_IO_H

#include <stddef.h>
#include <sys/types.h>

#include <ctrbox/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ctrbox_io_copy;

/* Copies src to dst on the loop until src reaches EOF or fails, then calls done (may be NULL).
 * Backpressure: while dst cannot take more, src is not read. The copier owns src (closed at
 * the end); dst is closed too unless keep_dst (a shared destination). A FIFO (or pipe) dst is
 * closed, and done called, only once its reader has taken what it holds, or has taken nothing
 * for 500 ms: a client may close its reader as soon as done's consequence reaches it.
 * Returns NULL on ENOMEM. */
struct ctrbox_io_copy *ctrbox_io_copy_start(struct ctrbox_loop *l, int src, int dst, int keep_dst,
					    void (*done)(struct ctrbox_io_copy *c, void *data),
					    void *data);
/* Stops a copier early (closing its fds as above); done is not called. Data it has read and
 * not written yet is lost: for output use ctrbox_io_copy_detach. */
void ctrbox_io_copy_stop(struct ctrbox_io_copy *c);
/* Lets a copier finish without its owner: done is never called, c is not the caller's any
 * more. It still writes what it has read and reads what src has now (never waiting for more),
 * then closes its fds; if dst takes nothing for 30 s it drops the rest. */
void ctrbox_io_copy_detach(struct ctrbox_io_copy *c);
/* Bytes moved so far. */
unsigned long long ctrbox_io_copy_bytes(const struct ctrbox_io_copy *c);

/* Opens a stdout/stderr destination given by path: a FIFO is opened read-write and
 * non-blocking (never blocks, never EPIPE while the client is away, as the Go shim's spare
 * reader); anything else is opened O_WRONLY|O_APPEND|O_CREAT 0644. Returns fd or -errno. */
int ctrbox_io_open_output(const char *path);
/* Opens a stdin FIFO for reading, non-blocking. */
int ctrbox_io_open_input(const char *path);

/* A pipe with both ends CLOEXEC; the shim's end non-blocking. fds[0] read, fds[1] write. */
int ctrbox_io_pipe(int fds[2], int nonblock_read, int nonblock_write);

/* A child's stdio as pipes (go-runc's pipe IO): the child_* ends go to the child (runc, or a
 * job's ctrbox_runc_job_io: {child_in, child_out, child_err}, where an unwanted -1 in is
 * /dev/null), the others are the caller's, non-blocking, for ctrbox_io_copy_start or a loop
 * watcher. All close-on-exec; an fd not asked for is -1. */
struct ctrbox_io_pipes {
	int in, out, err;		    /* ours: write stdin, read stdout/stderr */
	int child_in, child_out, child_err; /* the child's ends */
};

/* Makes the pipes asked for (want_* non-zero). 0, or -errno with every fd closed and -1. */
int ctrbox_io_pipes_new(struct ctrbox_io_pipes *p, int want_in, int want_out, int want_err);
/* Closes the child's ends (after the child was spawned: our reads then see EOF once it and its
 * descendants exit) and sets them to -1. */
void ctrbox_io_pipes_close_child(struct ctrbox_io_pipes *p);
/* Closes every fd still open and sets it to -1 (fds handed to a copier are the copier's: set
 * them to -1 first). */
void ctrbox_io_pipes_close(struct ctrbox_io_pipes *p);

#ifdef __cplusplus
}
#endif

#endif
