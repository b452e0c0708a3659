/* ctr's stdio plumbing (containerd's cio package, as ctr uses it): a fifo set in a fresh random
 * directory under the fifo dir, our stdin copied into the task's stdin fifo (by a thread: stdin
 * may be a file), the task's stdout/stderr fifos copied to ours from the epoll loop. */
#ifndef CTRBOX_CTR_CIO_H
#define CTRBOX_CTR_CIO_H

#include <pthread.h>
#include <stdbool.h>

#include <ctrbox/loop.h>

#define CTR_DEFAULT_FIFO_DIR "/run/containerd/fifo"

struct ctr_cio {
	char *dir; /* the random directory holding the fifos (removed by ctr_cio_close) */
	char *in, *out, *err; /* paths for the Create/Exec request ("" = none) */
	bool terminal;
	int in_fd, out_fd, err_fd; /* our ends, -1 when unused */
	/* loop state */
	struct ctrbox_loop *loop;
	int *wake;	/* set to 1 on any event the caller should look at */
	int evfd;	/* stdin thread -> loop: stdin reached EOF */
	bool stdin_eof; /* our stdin ended and the fifo is closed (send CloseIO) */
	bool stdin_thread;
	pthread_t thread;
	int outputs_open; /* stdout/stderr fifos not at EOF yet */
};

/* No stdio at all (--null-io) or a log URI for stdout/stderr (--log-uri). */
void ctr_cio_null(struct ctr_cio *io);
int ctr_cio_log_uri(struct ctr_cio *io, const char *uri);

/* Creates fifo_dir (NULL/"" = the default) and a random subdirectory, mkfifo's
 * <id>-stdin, <id>-stdout and (unless terminal) <id>-stderr there and opens our ends.
 * 0, or -errno with a message printed as ctr would. */
int ctr_cio_fifos(struct ctr_cio *io, const char *fifo_dir, const char *id, bool terminal);

/* After the task (or exec) is created: starts copying (stdin thread, stdout/stderr watchers on
 * l). *wake is set to 1 whenever stdin_eof or the outputs change. with_stdin false: our stdin
 * is not read (detached). */
int ctr_cio_start(struct ctr_cio *io, struct ctrbox_loop *l, int *wake, bool with_stdin);

/* True once every output fifo reached EOF (the shim closed its ends). */
bool ctr_cio_outputs_done(const struct ctr_cio *io);

/* Stops watching, closes our ends; removes the fifo directory unless keep (detached). */
void ctr_cio_close(struct ctr_cio *io, bool keep);

/* Puts the controlling console (stdin, else stdout, else stderr) in raw mode, remembering its
 * state; returns its fd, or -1 if none is a terminal. */
int ctr_console_raw(void);
void ctr_console_reset(void);
/* Size of the console from ctr_console_raw; 0 or -1. */
int ctr_console_size(unsigned *width, unsigned *height);

#endif
