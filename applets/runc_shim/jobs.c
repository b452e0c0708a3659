/* containerd-shim-runc-v2: runc jobs (libctrbox's), children whose exit arrives through the
 * process monitor; the shim keeps each one's container, call and context. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/runc.h>
#include "jobs.h"
#include "model.h"

/* runc exited: the job's done, then the container's job count (a released container goes
 * with its last job) and a Shutdown that waited for it. */
static void job_exited(struct ctrbox_runc_job *rj, int ok, int wstatus, const char *err,
		       const char *output, size_t outlen, void *data)
{
	struct job *j = data;
	struct svc *s = j->s;
	struct container *c = j->c;
	int last;
	(void)rj;

	for (struct job **pp = &s->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	j->output = output;
	j->outlen = outlen;
	j->wstatus = wstatus;
	j->done(s, j, ok, err);
	last = --c->njobs == 0 && c->dead;
	free(j);
	if (last)
		container_free(c);
	maybe_shutdown(s);
}

int job_spawn(struct svc *s, struct container *c, struct ctrbox_runc_argv *av, int in, int out,
	      int err, const char *op, struct ctrbox_ttrpc_call *call, job_done_fn done, void *ctx)
{
	struct ctrbox_runc_job_io io = {in, out, err};
	struct job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->s = s;
	j->c = c;
	j->call = call;
	j->done = done;
	j->ctx = ctx;
	r = ctrbox_runc_job_start(&c->rc, s->mon, av, &io, op, c->id, job_exited, j, &j->rj);
	if (r < 0) {
		free(j);
		return r;
	}
	j->next = s->jobs;
	s->jobs = j;
	c->njobs++;
	return 0;
}

/* A runc that could not be started, worded as the Go shim's runtimeError words go-runc's exec
 * error: `exec: "no-runc": executable file not found in $PATH` (or fork/exec's errno) behind
 * the job's prefix and what the runtime log says. Into buf, which it returns. */
const char *spawn_error(const struct container *c, const char *op, int r, char *buf, size_t cap)
{
	char *m = ctrbox_runc_spawn_error(&c->rc, op, r);

	if (m)
		snprintf(buf, cap, "%s", m);
	else
		snprintf(buf, cap, "%s: %s", op, strerror(-r));
	free(m);
	return buf;
}

/* Starts a runc job that answers the call; on spawn failure answers it at once and returns
 * the error (the job's done never runs then). */
int job_or_fail(struct svc *s, struct container *c, struct ctrbox_runc_argv *av, const char *op,
		struct ctrbox_ttrpc_call *call, job_done_fn done, void *ctx)
{
	int r = job_spawn(s, c, av, -1, -1, -1, op, call, done, ctx);
	char msg[1024];

	if (r < 0)
		ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN, "%s",
					spawn_error(c, op, r, msg, sizeof(msg)));
	return r;
}

void jobs_fini(struct svc *s)
{
	while (s->jobs) { /* runc children still running: they are ours to stop */
		struct job *j = s->jobs;
		s->jobs = j->next;
		kill(ctrbox_runc_job_pid(j->rj), SIGKILL);
		ctrbox_runc_job_abandon(s->mon, j->rj);
		free(j);
	}
}
