/* Asynchronous runc jobs: spawned with their output in a memfd, completed from the process
 * monitor's reap with go-runc's error text. */
#include <ctrbox/log.h>
#include <ctrbox/monitor.h>
#include <ctrbox/runc.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct ctrbox_runc_job {
	const struct ctrbox_runc *r;
	pid_t pid;
	int outfd;    /* the capture memfd */
	int captured; /* out and err both went to it */
	char *op;
	ctrbox_runc_job_done done;
	void *data;
};

pid_t ctrbox_runc_job_pid(const struct ctrbox_runc_job *j)
{
	return j->pid;
}

static void job_free(struct ctrbox_runc_job *j)
{
	close(j->outfd);
	free(j->op);
	free(j);
}

/* What runc wrote, read back sized to it (usually nothing): a shim lives for months. */
static char *read_output(int fd, size_t *len)
{
	struct stat st;
	size_t size = fstat(fd, &st) == 0 && st.st_size < CTRBOX_RUNC_JOB_OUTPUT_MAX
			  ? (size_t)st.st_size
			  : CTRBOX_RUNC_JOB_OUTPUT_MAX;
	char *buf = malloc(size + 1);
	ssize_t n;

	*len = 0;
	if (buf && lseek(fd, 0, SEEK_SET) == 0) {
		n = read(fd, buf, size);
		*len = n > 0 ? (size_t)n : 0;
	}
	if (buf)
		buf[*len] = '\0';
	return buf;
}

static void job_exited(pid_t pid, int wstatus, void *data)
{
	struct ctrbox_runc_job *j = data;
	int ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	size_t outlen;
	char *output = read_output(j->outfd, &outlen), *err = NULL;
	(void)pid;

	if (!ok)
		err = ctrbox_runc_error_message(j->op, j->r, j->captured ? output : NULL, wstatus);
	j->done(j, ok, wstatus, err ? err : j->op, output, outlen, j->data);
	free(err);
	free(output);
	job_free(j);
}

/* "OCI runtime create failed" -> "create": the job, not its error prefix. */
static void log_start(const char *op, pid_t pid, const char *id)
{
	size_t len = strlen(op), pre = strncmp(op, "OCI runtime ", 12) ? 0 : 12;

	if (len >= pre + 7 && !strcmp(op + len - 7, " failed"))
		len -= 7;
	ctrbox_log_debug("runc %.*s pid %d for %s", (int)(len - pre), op + pre, pid, id ? id : "");
}

static int stdio_fd(int fd, int capture)
{
	return fd == CTRBOX_RUNC_JOB_DEVNULL ? -1 : fd >= 0 ? fd : capture;
}

int ctrbox_runc_job_start(const struct ctrbox_runc *r, struct ctrbox_monitor *m,
			  const struct ctrbox_runc_argv *av, const struct ctrbox_runc_job_io *io,
			  const char *op, const char *id, ctrbox_runc_job_done done, void *data,
			  struct ctrbox_runc_job **out)
{
	struct ctrbox_runc_job_io all = {-1, -1, -1};
	struct ctrbox_runc_job *j;
	int w;

	if (!r || !m || !av || !op || !done)
		return -EINVAL;
	if (!io)
		io = &all;
	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	j->outfd = memfd_create("runc-output", MFD_CLOEXEC);
	if (j->outfd < 0 || !(j->op = strdup(op))) {
		int e = j->outfd < 0 ? -errno : -ENOMEM;
		if (j->outfd >= 0)
			close(j->outfd);
		free(j);
		return e;
	}
	j->pid =
	    ctrbox_runc_spawn(av, io->in, stdio_fd(io->out, j->outfd), stdio_fd(io->err, j->outfd));
	if (j->pid < 0) {
		int e = j->pid;
		job_free(j);
		return e;
	}
	log_start(op, j->pid, id);
	j->r = r;
	j->captured = io->out == -1 && io->err == -1;
	j->done = done;
	j->data = data;
	ctrbox_monitor_claim(m, j->pid, NULL); /* a fresh pid: any cached exit is a reused pid's */
	if ((w = ctrbox_monitor_watch(m, j->pid, job_exited, j)) != 0) {
		/* not trackable (ENOMEM, or a stale watch holds the pid): undo the child */
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		job_free(j);
		return w < 0 ? w : -EIO;
	}
	if (out)
		*out = j;
	return 0;
}

void ctrbox_runc_job_abandon(struct ctrbox_monitor *m, struct ctrbox_runc_job *j)
{
	if (!j)
		return;
	ctrbox_monitor_unwatch(m, j->pid);
	job_free(j);
}

char *ctrbox_runc_spawn_error(const struct ctrbox_runc *r, const char *op, int err)
{
	char *e = err == -ENOMEM ? NULL : ctrbox_runc_exec_error(r, err);
	char *msg = e ? ctrbox_runc_runtime_error(op, r->log, e) : NULL;

	if (!msg && asprintf(&msg, "%s: %s", op, strerror(-err)) < 0)
		msg = NULL;
	free(e);
	return msg;
}
