/* containerd-shim-runc-v2: runc invocations in flight (libctrbox runc jobs), whose exits come
 * through the process monitor. */
#ifndef CTRBOX_RUNC_SHIM_JOBS_H
#define CTRBOX_RUNC_SHIM_JOBS_H

#include "runc_shim.h"

/* For job_spawn's out/err: an fd, or /dev/null (a container stream nobody asked for). */
#define STDIO_FD(fd) ((fd) >= 0 ? (fd) : CTRBOX_RUNC_JOB_DEVNULL)

/* Starts runc with av for container c: in is its stdin (-1: none); out and err are fds, -1
 * (captured into the job's output) or CTRBOX_RUNC_JOB_DEVNULL. op names the job in errors
 * ("OCI runtime create failed"). done(s, j, ok, err) runs once runc exited, from the
 * monitor's reap, with j's output and wstatus set; call and ctx are the job's, for done.
 * Returns 0, or -errno when runc could not be started (done never runs). */
int job_spawn(struct svc *s, struct container *c, struct ctrbox_runc_argv *av, int in, int out,
	      int err, const char *op, struct ctrbox_ttrpc_call *call, job_done_fn done, void *ctx);
/* Starts a runc job that answers the call; on spawn failure answers it at once and returns the
 * error (the job's done never runs then). */
int job_or_fail(struct svc *s, struct container *c, struct ctrbox_runc_argv *av, const char *op,
		struct ctrbox_ttrpc_call *call, job_done_fn done, void *ctx);
/* A runc that could not be started (r = job_spawn's error), worded as the Go shim does, into
 * buf, which it returns. */
const char *spawn_error(const struct container *c, const char *op, int r, char *buf, size_t cap);
/* At shim exit: SIGKILLs the runc jobs still running and abandons them (their done never
 * runs; their exits land in the monitor's cache). */
void jobs_fini(struct svc *s);

#endif
