/* runc-driver: drives runc through libctrbox's runc crate alone, every step an asynchronous
 * job on a ctrbox_loop and every exit through the shim crate's process monitor:
 *
 *   runc-driver [--root DIR] [--runc BIN] BUNDLE ID
 *
 * create (detached, pid file), start, state ("state: running pid N"), kill SIGKILL, the
 * init's exit ("exit: 137"), delete. On a failure: the error on stderr, what was created
 * deleted (--force), exit 1. The driver is a child subreaper so the container's init, whose
 * parent runc create exits, is reaped here. */
#include <ctrbox/loop.h>
#include <ctrbox/monitor.h>
#include <ctrbox/runc.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct driver {
	struct ctrbox_runc r;
	struct ctrbox_loop *loop;
	struct ctrbox_monitor *mon;
	const char *bundle, *id;
	char tmp[64], pidfile[96];
	pid_t init;
	int created, killed, init_status, init_gone, failed;
};

/* Prints "runc-driver: [what: ]err" and stops the loop (main cleans up). */
static void fail(struct driver *d, const char *what, const char *err)
{
	if (what)
		fprintf(stderr, "runc-driver: %s: %s\n", what, err);
	else
		fprintf(stderr, "runc-driver: %s\n", err);
	d->failed = 1;
	ctrbox_loop_stop(d->loop);
}

typedef int (*argv_fn)(struct driver *d, struct ctrbox_runc_argv *av);

/* One step: av built by fn, run as a job whose stdout (only) is captured for next. */
static void step(struct driver *d, argv_fn fn, const char *op, ctrbox_runc_job_done next)
{
	struct ctrbox_runc_argv av = {0};
	struct ctrbox_runc_job_io io = {-1, -1, CTRBOX_RUNC_JOB_DEVNULL};
	int rc = fn(d, &av);

	if (rc == 0)
		rc = ctrbox_runc_job_start(&d->r, d->mon, &av, &io, op, d->id, next, d, NULL);
	ctrbox_runc_argv_free(&av);
	if (rc < 0) {
		char *e = ctrbox_runc_spawn_error(&d->r, op, rc);
		fail(d, e ? NULL : op, e ? e : strerror(-rc)); /* e starts with op */
		free(e);
	}
}

static int delete_argv(struct driver *d, struct ctrbox_runc_argv *av)
{
	return ctrbox_runc_argv_delete(&d->r, d->id, 0, av);
}

static void deleted(struct ctrbox_runc_job *j, int ok, int ws, const char *err, const char *out,
		    size_t len, void *data)
{
	struct driver *d = data;

	if (!ok)
		return fail(d, "delete", err);
	d->created = 0;
	ctrbox_loop_stop(d->loop);
}

/* The init is gone and runc kill returned: delete. */
static void maybe_delete(struct driver *d)
{
	if (d->init_gone && d->killed)
		step(d, delete_argv, "OCI runtime delete failed", deleted);
}

static void init_exited(pid_t pid, int ws, void *data)
{
	struct driver *d = data;

	d->init_status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	d->init_gone = 1;
	printf("exit: %d\n", d->init_status);
	fflush(stdout);
	maybe_delete(d);
}

static void killed(struct ctrbox_runc_job *j, int ok, int ws, const char *err, const char *out,
		   size_t len, void *data)
{
	struct driver *d = data;

	if (!ok)
		return fail(d, "kill", err);
	d->killed = 1;
	maybe_delete(d);
}

static int kill_argv(struct driver *d, struct ctrbox_runc_argv *av)
{
	return ctrbox_runc_argv_kill(&d->r, d->id, SIGKILL, 0, av);
}

static void stated(struct ctrbox_runc_job *j, int ok, int ws, const char *err, const char *out,
		   size_t len, void *data)
{
	struct driver *d = data;
	struct ctrbox_runc_state st;

	if (!ok)
		return fail(d, "state", err);
	if (ctrbox_runc_parse_state(out, len, &st) < 0)
		return fail(d, "state", "runc state printed no state");
	printf("state: %s pid %d\n", st.status, st.pid);
	fflush(stdout);
	ctrbox_runc_state_free(&st);
	step(d, kill_argv, "OCI runtime kill failed", killed);
}

static int state_argv(struct driver *d, struct ctrbox_runc_argv *av)
{
	return ctrbox_runc_argv_state(&d->r, d->id, av);
}

static void started(struct ctrbox_runc_job *j, int ok, int ws, const char *err, const char *out,
		    size_t len, void *data)
{
	struct driver *d = data;

	if (!ok)
		return fail(d, "start", err);
	step(d, state_argv, "runc state failed", stated);
}

static int start_argv(struct driver *d, struct ctrbox_runc_argv *av)
{
	return ctrbox_runc_argv_start(&d->r, d->id, av);
}

static pid_t read_pid(const char *path)
{
	char buf[32] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 ? (pid_t)atoi(buf) : -1;
}

static void created(struct ctrbox_runc_job *j, int ok, int ws, const char *err, const char *out,
		    size_t len, void *data)
{
	struct driver *d = data;

	if (!ok)
		return fail(d, "create", err);
	d->created = 1;
	if ((d->init = read_pid(d->pidfile)) <= 0)
		return fail(d, "create", "no pid in the pid file");
	/* 1: it already exited (reaped into the monitor's cache), init_exited ran */
	if (ctrbox_monitor_watch(d->mon, d->init, init_exited, d) < 0)
		return fail(d, "create", "cannot watch the init");
	step(d, start_argv, "OCI runtime start failed", started);
}

static int create_argv(struct driver *d, struct ctrbox_runc_argv *av)
{
	struct ctrbox_runc_create_opts o = {.bundle = d->bundle, .pid_file = d->pidfile};

	return ctrbox_runc_argv_create(&d->r, d->id, &o, av);
}

static void on_sigchld(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;
	struct driver *d = data;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	ctrbox_monitor_reap(d->mon);
}

/* After a failure: what was created goes (runc delete --force, waited for here, off the
 * loop), and every child left is reaped. */
static void cleanup(struct driver *d)
{
	struct ctrbox_runc_argv av = {0};
	char *out = NULL;
	size_t len;
	int ws;

	if (d->created && ctrbox_runc_argv_delete(&d->r, d->id, 1, &av) == 0 &&
	    ctrbox_runc_run_sync(&av, -1, &out, &len, &ws) == 0 && ws != 0)
		fprintf(stderr, "runc-driver: delete --force: %s", out);
	free(out);
	ctrbox_runc_argv_free(&av);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static int usage(void)
{
	fprintf(stderr, "usage: runc-driver [--root DIR] [--runc BIN] BUNDLE ID\n");
	return 2;
}

static int run(struct driver *d)
{
	sigset_t set;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    ctrbox_loop_new(&d->loop) < 0 || !(d->mon = ctrbox_monitor_new()) ||
	    ctrbox_loop_add(d->loop, sfd, EPOLLIN, on_sigchld, d) < 0) {
		perror("runc-driver: setup");
		return 1;
	}
	step(d, create_argv, "OCI runtime create failed", created);
	if (!d->failed)
		ctrbox_loop_run(d->loop);
	if (d->failed)
		cleanup(d);
	ctrbox_loop_del(d->loop, sfd);
	close(sfd);
	ctrbox_monitor_free(d->mon);
	ctrbox_loop_free(d->loop);
	return d->failed;
}

int main(int argc, char **argv)
{
	struct driver d = {.r = {.binary = "runc", .log_json = 1}};
	char log[128];
	int i = 1, rc;

	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--root"))
			d.r.root = argv[i + 1];
		else if (!strcmp(argv[i], "--runc"))
			d.r.binary = argv[i + 1];
		else
			return usage();
	}
	if (argc - i != 2 || !argv[i][0] || !argv[i + 1][0] || strchr(argv[i + 1], '/'))
		return usage();
	d.bundle = argv[i];
	d.id = argv[i + 1];
	snprintf(d.tmp, sizeof(d.tmp), "/tmp/runc-driver-XXXXXX");
	if (!mkdtemp(d.tmp)) {
		perror("runc-driver: mkdtemp");
		return 1;
	}
	snprintf(d.pidfile, sizeof(d.pidfile), "%s/init.pid", d.tmp);
	snprintf(log, sizeof(log), "%s/log.json", d.tmp);
	d.r.log = log;
	rc = run(&d);
	unlink(d.pidfile);
	unlink(log);
	rmdir(d.tmp);
	return rc;
}
