/* containerd-shim-runc-v2: runc jobs, children whose exit arrives through the reaper. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctrbox/log.h>
#include <ctrbox/runc.h>
#include "jobs.h"

#define OUTPUT_MAX 65536

int job_spawn(struct svc *s, struct container *c, struct ctrbox_runc_argv *av, int in, int out,
	      int err, const char *op, struct ctrbox_ttrpc_call *call, job_done_fn done, void *ctx)
{
	struct job *j = calloc(1, sizeof(*j));
	int capture = -1;
	pid_t pid;

	if (!j)
		return -ENOMEM;
	capture = memfd_create("runc-output", MFD_CLOEXEC);
	if (capture < 0 || !(j->op = strdup(op))) {
		int e = capture < 0 ? -errno : -ENOMEM;
		close_fd(&capture);
		free(j);
		return e;
	}
	pid = ctrbox_runc_spawn(av, in,
				out == JOB_DEVNULL ? -1
				: out >= 0	   ? out
						   : capture,
				err == JOB_DEVNULL ? -1
				: err >= 0	   ? err
						   : capture);
	if (pid < 0) {
		close(capture);
		free(j->op);
		free(j);
		return pid;
	}
	{ /* "OCI runtime create failed" -> "create": the job, not its error prefix */
		size_t len = strlen(op), pre = strncmp(op, "OCI runtime ", 12) ? 0 : 12;
		if (len >= pre + 7 && !strcmp(op + len - 7, " failed"))
			len -= 7;
		ctrbox_log_debug("runc %.*s pid %d for %s", (int)(len - pre), op + pre, pid, c->id);
	}
	j->pid = pid;
	j->outfd = capture;
	j->captured = out == -1 && err == -1;
	j->c = c;
	j->call = call;
	j->done = done;
	j->ctx = ctx;
	j->next = s->jobs;
	s->jobs = j;
	c->njobs++;
	return 0;
}

struct job *job_take(struct svc *s, pid_t pid)
{
	for (struct job **pp = &s->jobs; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct job *j = *pp;
			*pp = j->next;
			return j;
		}
	}
	return NULL;
}

int job_complete(struct svc *s, struct job *j, int wstatus)
{
	char *err = NULL;
	int last, ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	ssize_t n;

	struct stat st;
	size_t size =
	    fstat(j->outfd, &st) == 0 && st.st_size < OUTPUT_MAX ? (size_t)st.st_size : OUTPUT_MAX;

	j->wstatus = wstatus;
	/* sized to what runc wrote (usually nothing): a shim lives for months, keep it small */
	j->output = malloc(size + 1);
	if (j->output && lseek(j->outfd, 0, SEEK_SET) == 0) {
		n = read(j->outfd, j->output, size);
		j->outlen = n > 0 ? (size_t)n : 0;
	}
	if (j->output)
		j->output[j->outlen] = '\0';
	if (!ok)
		err = ctrbox_runc_error_message(j->op, &j->c->rc, j->captured ? j->output : NULL,
						wstatus);
	j->done(s, j, ok, err ? err : j->op);
	free(err);
	close(j->outfd);
	free(j->output);
	free(j->op);
	last = --j->c->njobs == 0 && j->c->dead;
	free(j);
	return last;
}

/* A runc that could not be started, worded as the Go shim's runtimeError words go-runc's exec
 * error: `exec: "no-runc": executable file not found in $PATH` (or fork/exec's errno) behind
 * the job's prefix and what the runtime log says. Into buf, which it returns. */
const char *spawn_error(const struct container *c, const char *op, int r, char *buf, size_t cap)
{
	char *e = r == -ENOMEM ? NULL : ctrbox_runc_exec_error(&c->rc, r);
	char *m = e ? ctrbox_runc_runtime_error(op, c->rc.log, e) : NULL;

	if (m)
		snprintf(buf, cap, "%s", m);
	else
		snprintf(buf, cap, "%s: %s", op, strerror(-r));
	free(m);
	free(e);
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
		kill(j->pid, SIGKILL);
		close(j->outfd);
		free(j->op);
		free(j);
	}
}
