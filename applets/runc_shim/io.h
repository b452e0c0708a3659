/* containerd-shim-runc-v2: process stdio -- fifos, files, pipes, ptys, logging binaries. */
#ifndef CTRBOX_RUNC_SHIM_IO_H
#define CTRBOX_RUNC_SHIM_IO_H

#include "runc_shim.h"

/* A fresh process of c (no fds yet) named id (its strdup: NULL when out of memory). */
void process_init(struct process *p, struct container *c, const char *id);
/* Where the shim's temporary files go: $XDG_RUNTIME_DIR, $TMPDIR or /tmp. */
const char *tmp_dir(void);
/* Opens destinations, makes the pipes (or console socket, or logger) for runc. A binary://
 * logger is started too: io_when_ready says when it is ready. */
int io_prepare(struct process *p);
/* Calls done(s, p, 0) once the logger signalled ready (at once without one), or with
 * -ETIMEDOUT after the bound; from the loop, never blocking it. */
void io_when_ready(struct svc *s, struct process *p,
		   void (*done)(struct svc *s, struct process *p, int r));
/* After runc has the container's ends: start copying stdout/stderr (the pty's output). */
void io_start(struct svc *s, struct process *p);
/* At Start: the shim's own writer on the stdin fifo (until CloseIO), if its input goes on. */
int io_stdin_hold(struct process *p);
void io_close(struct process *p);
/* Delete of an exited process (p->delete_call set): stops feeding stdin, then gives the output
 * copiers up to s->drain_ms to move what it wrote; p->drained(s, p) runs once they are done
 * (or at once without any), or when the time is up. */
void io_drain(struct svc *s, struct process *p);
/* Terminal: waits on the loop for runc's console socket connection and takes the pty
 * master, then calls done(s, p, 0 or -errno). */
void console_receive(struct svc *s, struct process *p,
		     void (*done)(struct svc *s, struct process *p, int r));
/* At Delete: SIGTERM the logging binary now, SIGKILL in 12 s if it is still there. */
void logger_stop(struct svc *s, struct process *p);

#endif
