/* ctr run, ctr tasks start, ctr tasks exec: container + task creation, stdio, wait. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "containers/v1/containers.pb-c.h"
#include "ctr/cio.h"
#include "ctr/container.h"
#include "ctr/cmdopts.h"
#include "ctr/ctr.h"
#include "ctr/labels.h"
#include "ctr/pbjson.h"
#include "ctr/spec.h"
#include "google/protobuf/any.pb-c.h"
#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include "namespaces/v1/namespace.pb-c.h"
#include "runc/options.pb-c.h"
#include "snapshots/v1/snapshots.pb-c.h"
#include "tasks/v1/tasks.pb-c.h"
#include <ctrbox/util.h>

#define PROCESS_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"

/* ---- the task's life: create/exec, wait, start, stdio, signals, delete ---- */

struct waiter {
	int done;
	int code;
	char *msg;
	uint32_t exit_status;
	int *wake;
};

static int wait_on_msg(void *data, const uint8_t *msg, size_t len)
{
	struct waiter *w = data;
	Containerd__Services__Tasks__V1__WaitResponse *r =
	    containerd__services__tasks__v1__wait_response__unpack(NULL, len, msg);
	if (r) {
		w->exit_status = r->exit_status;
		containerd__services__tasks__v1__wait_response__free_unpacked(r, NULL);
	}
	return 0;
}

static void wait_on_done(void *data, int code, const char *message)
{
	struct waiter *w = data;
	w->code = code;
	if (code && message)
		w->msg = strdup(message);
	w->done = 1;
	if (w->wake)
		*w->wake = 1;
}

struct sigstate {
	int fd;
	int *wake;
	int pending[65];
	int any;
};

static void on_signal(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct sigstate *s = data;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo < 65) {
			s->pending[si.ssi_signo]++;
			s->any = 1;
		}
	}
	*s->wake = 1;
}

/* The signals ctr's signal.Notify(c) catch that make sense to forward (SIGURG is ignored as
 * ctr does; SIGCHLD, SIGPIPE and the tty stop signals are not forwarded here). */
static const int fwd_signals[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
				  SIGUSR2, SIGALRM, SIGCONT, SIGWINCH};

struct task_opts {
	const char *id;
	const char *exec_id;	  /* NULL: the init process (Tasks.Create) */
	const char *process_json; /* exec: the Process spec */
	bool tty, detach, null_io;
	const char *log_uri, *fifo_dir;
	const char *pid_file; /* --pid-file: the task's pid, written before Start */
	Containerd__Types__Mount **rootfs;
	size_t nrootfs;
};

static int call_kill(struct ctr *c, const char *id, const char *exec_id, int sig)
{
	Containerd__Services__Tasks__V1__KillRequest kr =
	    CONTAINERD__SERVICES__TASKS__V1__KILL_REQUEST__INIT;
	kr.container_id = (char *)id;
	kr.exec_id = (char *)(exec_id ? exec_id : "");
	kr.signal = (uint32_t)sig;
	char *msg = NULL;
	int rc =
	    ctr_call(c, "/containerd.services.tasks.v1.Tasks/Kill", &kr.base, NULL, NULL, &msg);
	if (rc && rc != CTRBOX_NOT_FOUND && c->debug)
		fprintf(stderr, "forward signal %d: %s\n", sig, msg ? msg : "");
	free(msg);
	return rc;
}

static void call_resize(struct ctr *c, const char *id, const char *exec_id)
{
	unsigned w, h;
	if (ctr_console_size(&w, &h) < 0) {
		fprintf(stderr, "get pty size: %s\r\n", strerror(errno));
		return;
	}
	Containerd__Services__Tasks__V1__ResizePtyRequest rr =
	    CONTAINERD__SERVICES__TASKS__V1__RESIZE_PTY_REQUEST__INIT;
	rr.container_id = (char *)id;
	rr.exec_id = (char *)(exec_id ? exec_id : "");
	rr.width = w;
	rr.height = h;
	char *msg = NULL;
	if (ctr_call(c, "/containerd.services.tasks.v1.Tasks/ResizePty", &rr.base, NULL, NULL,
		     &msg))
		fprintf(stderr, "resize pty: %s\r\n", msg ? msg : "");
	free(msg);
}

static int delete_task(struct ctr *c, const char *id, const char *exec_id, bool quiet)
{
	char *msg = NULL;
	int rc;
	if (exec_id) {
		Containerd__Services__Tasks__V1__DeleteProcessRequest r =
		    CONTAINERD__SERVICES__TASKS__V1__DELETE_PROCESS_REQUEST__INIT;
		r.container_id = (char *)id;
		r.exec_id = (char *)exec_id;
		rc = ctr_call(c, "/containerd.services.tasks.v1.Tasks/DeleteProcess", &r.base,
			      &containerd__services__tasks__v1__delete_response__descriptor, NULL,
			      &msg);
	} else {
		Containerd__Services__Tasks__V1__DeleteTaskRequest r =
		    CONTAINERD__SERVICES__TASKS__V1__DELETE_TASK_REQUEST__INIT;
		r.container_id = (char *)id;
		rc = ctr_call(c, "/containerd.services.tasks.v1.Tasks/Delete", &r.base,
			      &containerd__services__tasks__v1__delete_response__descriptor, NULL,
			      &msg);
	}
	if (rc && !quiet)
		ctr_fail("%s", ctr_errtext(rc, msg));
	free(msg);
	return rc ? 1 : 0;
}

/* the task's stdio: fifos (tty, or neither --null-io nor --log-uri), null, or the log URI; and
 * the console in raw mode with a tty (*console). Returns 0, or 1 after ctr_fail. */
static int task_io_open(const struct task_opts *o, struct ctr_cio *io, bool *console)
{
	if (o->tty) {
		if (o->null_io)
			return ctr_fail("tty and null-io cannot be used together");
		if (ctr_console_raw() < 0)
			return ctr_fail("provided file is not a console");
		*console = true;
	}
	if (o->tty || (!o->null_io && !(o->log_uri && *o->log_uri))) {
		if (ctr_cio_fifos(io, o->fifo_dir, o->exec_id ? o->exec_id : o->id, o->tty) < 0) {
			ctr_cio_close(io, false);
			if (*console)
				ctr_console_reset();
			return 1;
		}
	} else if (o->null_io) {
		ctr_cio_null(io);
	} else {
		ctr_cio_log_uri(io, o->log_uri);
	}
	return 0;
}

/* signals: blocked before the stdin thread exists so that only the loop sees them */
static void task_signals_block(const struct task_opts *o, sigset_t *set)
{
	sigemptyset(set);
	if (!o->detach) {
		if (o->tty) {
			sigaddset(set, SIGWINCH);
		} else {
			for (size_t i = 0; i < sizeof(fwd_signals) / sizeof(fwd_signals[0]); i++)
				sigaddset(set, fwd_signals[i]);
		}
		sigprocmask(SIG_BLOCK, set, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
}

/* Tasks.Exec (o->exec_id) or Tasks.Create with io's stdio; *pid: the created task's pid */
static int task_create(struct ctr *c, const struct task_opts *o, const struct ctr_cio *io,
		       uint32_t *pid)
{
	char *msg = NULL;
	int rc;
	if (o->exec_id) {
		Containerd__Services__Tasks__V1__ExecProcessRequest er =
		    CONTAINERD__SERVICES__TASKS__V1__EXEC_PROCESS_REQUEST__INIT;
		Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
		spec.type_url = (char *)PROCESS_TYPE_URL;
		spec.value.data = (uint8_t *)o->process_json;
		spec.value.len = strlen(o->process_json);
		er.container_id = (char *)o->id;
		er.exec_id = (char *)o->exec_id;
		er.stdin = io->in;
		er.stdout = io->out;
		er.stderr = io->err;
		er.terminal = o->tty;
		er.spec = &spec;
		rc = ctr_call(c, "/containerd.services.tasks.v1.Tasks/Exec", &er.base,
			      &containerd__services__tasks__v1__exec_process_response__descriptor,
			      NULL, &msg);
	} else {
		Containerd__Services__Tasks__V1__CreateTaskRequest cr =
		    CONTAINERD__SERVICES__TASKS__V1__CREATE_TASK_REQUEST__INIT;
		cr.container_id = (char *)o->id;
		cr.rootfs = o->rootfs;
		cr.n_rootfs = o->nrootfs;
		cr.stdin = io->in;
		cr.stdout = io->out;
		cr.stderr = io->err;
		cr.terminal = o->tty;
		Containerd__Services__Tasks__V1__CreateTaskResponse *cresp = NULL;
		rc = ctr_call(c, "/containerd.services.tasks.v1.Tasks/Create", &cr.base,
			      &containerd__services__tasks__v1__create_task_response__descriptor,
			      (ProtobufCMessage **)&cresp, &msg);
		if (cresp) {
			*pid = cresp->pid;
			protobuf_c_message_free_unpacked(&cresp->base, NULL);
		}
	}
	if (rc) {
		ctr_fail("%s", ctr_errtext(rc, msg));
		free(msg);
		return 1;
	}
	return 0;
}

/* the Tasks.Wait stream, started before Start so that no exit is missed */
static int task_wait_start(struct ctr *c, const struct task_opts *o, struct waiter *w,
			   struct ctrbox_grpc_stream **ws)
{
	struct ctrbox_kv md[1] = {{"containerd-namespace", c->ns}};
	Containerd__Services__Tasks__V1__WaitRequest wr =
	    CONTAINERD__SERVICES__TASKS__V1__WAIT_REQUEST__INIT;
	wr.container_id = (char *)o->id;
	wr.exec_id = (char *)(o->exec_id ? o->exec_id : "");
	if (ctrbox_grpc_client_start(c->cli, "/containerd.services.tasks.v1.Tasks/Wait", md, 1, 0,
				     wait_on_msg, wait_on_done, w, ws) < 0 ||
	    ctrbox_grpc_stream_send_msg(*ws, &wr.base) < 0 ||
	    ctrbox_grpc_stream_close_send(*ws) < 0) {
		ctr_fail("wait: failed to start the call");
		return 1;
	}
	return 0;
}

/* --pid-file: the pid written atomically */
static int task_pid_file(const char *path, uint32_t pid)
{
	char pbuf[16];
	int pl = snprintf(pbuf, sizeof(pbuf), "%u", pid);
	int wr = ctrbox_write_file_atomic(path, pbuf, (size_t)pl, 0666);
	if (wr < 0) {
		ctr_fail("open %s: %s", path, strerror(-wr));
		return 1;
	}
	return 0;
}

/* Tasks.Start; on failure the task (or exec process) is deleted when attached */
static int task_start(struct ctr *c, const struct task_opts *o)
{
	char *msg = NULL;
	Containerd__Services__Tasks__V1__StartRequest sr =
	    CONTAINERD__SERVICES__TASKS__V1__START_REQUEST__INIT;
	sr.container_id = (char *)o->id;
	sr.exec_id = (char *)(o->exec_id ? o->exec_id : "");
	int rc = ctr_call(c, "/containerd.services.tasks.v1.Tasks/Start", &sr.base,
			  &containerd__services__tasks__v1__start_response__descriptor, NULL, &msg);
	if (!rc)
		return 0;
	ctr_fail("%s", ctr_errtext(rc, msg));
	free(msg);
	return 1;
}

/* the pending signals: SIGWINCH resizes the tty, any other is forwarded (without a tty) */
static void task_signals_forward(struct ctr *c, const struct task_opts *o, struct sigstate *ss)
{
	ss->any = 0;
	for (int s = 1; s < 65; s++) {
		while (ss->pending[s] > 0) {
			ss->pending[s]--;
			if (o->tty && s == SIGWINCH)
				call_resize(c, o->id, o->exec_id);
			else if (!o->tty)
				call_kill(c, o->id, o->exec_id, s);
		}
	}
}

/* attached: stdio, stdin's EOF (CloseIO) and signals until the task exited and its output
 * is drained */
static void task_attach(struct ctr *c, const struct task_opts *o, struct ctr_cio *io,
			const sigset_t *set, struct waiter *w, int *wake)
{
	struct sigstate ss = {.fd = -1, .wake = wake};
	ss.fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ss.fd >= 0)
		ctrbox_loop_add(c->loop, ss.fd, EPOLLIN, on_signal, &ss);
	if (o->tty)
		call_resize(c, o->id, o->exec_id);

	bool closed_stdin = false;
	for (;;) {
		if (io->stdin_eof && !closed_stdin) {
			closed_stdin = true;
			Containerd__Services__Tasks__V1__CloseIORequest cio =
			    CONTAINERD__SERVICES__TASKS__V1__CLOSE_IOREQUEST__INIT;
			cio.container_id = (char *)o->id;
			cio.exec_id = (char *)(o->exec_id ? o->exec_id : "");
			cio.stdin = 1;
			char *m = NULL;
			ctr_call(c, "/containerd.services.tasks.v1.Tasks/CloseIO", &cio.base, NULL,
				 NULL, &m);
			free(m);
		}
		if (ss.any)
			task_signals_forward(c, o, &ss);
		if (w->done && ctr_cio_outputs_done(io))
			break;
		*wake = 0;
		if (ctrbox_loop_run_until(c->loop, wake, 0) < 0)
			break;
	}
	if (ss.fd >= 0) {
		ctrbox_loop_del(c->loop, ss.fd);
		close(ss.fd);
	}
}

/* Creates the task (or exec process), starts it and, unless detached, forwards stdio and
 * signals until it exits, then deletes it. Returns the exit status to use. */
static int run_task(struct ctr *c, const struct task_opts *o)
{
	struct ctr_cio io;
	bool console = false, created = false;
	int ret = 1;
	uint32_t pid = 0;

	if (!ctr_client(c))
		return 1;
	if (task_io_open(o, &io, &console))
		return 1;
	sigset_t set;
	task_signals_block(o, &set);
	if (task_create(c, o, &io, &pid))
		goto out;
	created = true;

	int wake = 0;
	struct waiter w = {.wake = &wake};
	struct ctrbox_grpc_stream *ws = NULL;
	if (ctr_cio_start(&io, c->loop, &wake, !o->detach) < 0) {
		ctr_fail("start io: %s", strerror(errno));
		goto out;
	}
	if (!o->detach && task_wait_start(c, o, &w, &ws))
		goto out;
	if (o->pid_file && *o->pid_file && task_pid_file(o->pid_file, pid)) {
		if (ws && !w.done)
			ctrbox_grpc_stream_cancel(ws);
		goto out;
	}
	if (task_start(c, o)) {
		if (ws && !w.done)
			ctrbox_grpc_stream_cancel(ws);
		if (!o->detach && !o->exec_id)
			delete_task(c, o->id, NULL, true);
		else if (!o->detach)
			delete_task(c, o->id, o->exec_id, true);
		created = false;
		goto out;
	}
	if (o->detach) {
		ret = 0;
		goto out;
	}
	task_attach(c, o, &io, &set, &w, &wake);
	if (w.code) {
		ctr_fail("%s", w.msg && *w.msg ? w.msg : ctrbox_code_name(w.code));
		free(w.msg);
		goto out;
	}
	free(w.msg);
	ret = (int)w.exit_status;
	created = false;
	if (delete_task(c, o->id, o->exec_id, false))
		ret = 1;

out:
	if (created && !o->detach)
		delete_task(c, o->id, o->exec_id, true);
	ctr_cio_close(&io, o->detach);
	if (console)
		ctr_console_reset();
	return ret;
}

/* ---- containers ---- */

static int get_container(struct ctr *c, const char *id,
			 Containerd__Services__Containers__V1__GetContainerResponse **out)
{
	Containerd__Services__Containers__V1__GetContainerRequest gr =
	    CONTAINERD__SERVICES__CONTAINERS__V1__GET_CONTAINER_REQUEST__INIT;
	gr.id = (char *)id;
	return ctr_rpc(c, "/containerd.services.containers.v1.Containers/Get", &gr.base,
		       &containerd__services__containers__v1__get_container_response__descriptor,
		       (ProtobufCMessage **)out);
}

static int snapshot_mounts(struct ctr *c, const char *snapshotter, const char *key,
			   Containerd__Services__Snapshots__V1__MountsResponse **out)
{
	Containerd__Services__Snapshots__V1__MountsRequest mr =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__MOUNTS_REQUEST__INIT;
	mr.snapshotter = (char *)snapshotter;
	mr.key = (char *)key;
	return ctr_rpc(c, "/containerd.services.snapshots.v1.Snapshots/Mounts", &mr.base,
		       &containerd__services__snapshots__v1__mounts_response__descriptor,
		       (ProtobufCMessage **)out);
}

static void container_delete(struct ctr *c, const char *id, const char *snapshotter,
			     const char *key)
{
	/* container.Delete(WithSnapshotCleanup): not while a task exists; the snapshot first */
	Containerd__Services__Tasks__V1__GetRequest tg =
	    CONTAINERD__SERVICES__TASKS__V1__GET_REQUEST__INIT;
	tg.container_id = (char *)id;
	char *tm = NULL;
	int trc = ctr_call(c, "/containerd.services.tasks.v1.Tasks/Get", &tg.base, NULL, NULL, &tm);
	free(tm);
	if (trc == 0)
		return;
	char *err = NULL;
	ctr_container_delete(c, id, snapshotter, key, 0, &err);
	free(err);
}

/* ---- run ---- */

static const struct ctr_flag run_flags[] = {
    {"rm", CF_BOOL, NULL},
    {"null-io", CF_BOOL, NULL},
    {"log-uri", CF_STR, NULL},
    {"detach,d", CF_BOOL, NULL},
    {"fifo-dir", CF_STR, NULL},
    {"cgroup", CF_STR, NULL},
    {"platform", CF_STR, NULL},
    {"cni", CF_BOOL, NULL},
    {"runc-binary", CF_STR, NULL},
    {"runc-root", CF_STR, NULL},
    {"runc-systemd-cgroup", CF_BOOL, NULL},
    {"uidmap", CF_STR, NULL},
    {"gidmap", CF_STR, NULL},
    {"remap-labels", CF_BOOL, NULL},
    {"cpus", CF_STR, NULL},
    {"cpu-shares", CF_STR, "1024"},
    CTR_CONTAINER_FLAGS,
    {"checkpoint", CF_STR, NULL},
    {"no-pivot", CF_BOOL, NULL},
};

static int parse_u64(const char *s, uint64_t *out)
{
	char *e;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 0);
	if (!*s || *e || errno || *s == '-')
		return -1;
	*out = v;
	return 0;
}

/* the flags and arguments ctr run refuses, or that ctrbox-ctr does not support */
static int run_flags_check(const struct ctr_args *a, const char *ref, const char *id, bool rm,
			   bool detach)
{
	if (ctr_str(a, "config")) {
		ctr_fail("--config is not supported");
		return 1;
	}
	if (!*ref) {
		ctr_fail("image ref must be provided");
		return 1;
	}
	if (!*id) {
		ctr_fail("container id must be provided");
		return 1;
	}
	if (rm && detach) {
		ctr_fail("flags --detach and --rm cannot be specified together");
		return 1;
	}
	static const char *const unsupported[] = {"cni",
						  "privileged",
						  "uidmap",
						  "gidmap",
						  "seccomp",
						  "env-file",
						  "runc-root",
						  "runc-systemd-cgroup",
						  "checkpoint",
						  "apparmor-default-profile",
						  "apparmor-profile",
						  "rdt-class",
						  "no-pivot",
						  "platform",
						  "runtime-config-path"};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		const char *v = ctr_str(a, unsupported[i]);
		if ((v && *v && strcmp(v, "false")) || ctr_bool(a, unsupported[i])) {
			ctr_fail("--%s is not supported", unsupported[i]);
			return 1;
		}
	}
	size_t nm;
	static const char *const unsupported_multi[] = {"with-ns", "gpus", "device", "cap-add",
							"cap-drop"};
	for (size_t i = 0; i < sizeof(unsupported_multi) / sizeof(unsupported_multi[0]); i++) {
		ctr_multi(a, unsupported_multi[i], &nm);
		if (nm) {
			ctr_fail("--%s is not supported", unsupported_multi[i]);
			return 1;
		}
	}
	return 0;
}

/* the spec options of ctr run's flags and arguments */
static int run_spec_opts(struct ctr *c, const struct ctr_args *a, const char *id, bool tty,
			 struct ctr_spec_opts *so)
{
	so->ns = c->ns;
	so->id = id;
	so->tty = tty;
	so->cwd = ctr_str(a, "cwd");
	so->env = ctr_multi(a, "env", &so->nenv);
	so->labels = ctr_multi(a, "label", &so->nlabels);
	so->annotations = ctr_multi(a, "annotation", &so->nannotations);
	so->mounts = ctr_multi(a, "mount", &so->nmounts);
	so->read_only = ctr_bool(a, "read-only");
	so->net_host = ctr_bool(a, "net-host");
	so->allow_new_privs = ctr_bool(a, "allow-new-privs");
	so->cgroup = ctr_str(a, "cgroup");
	if (a->argc > 2) {
		so->args = a->argv + 2;
		so->nargs = (size_t)a->argc - 2;
	}
	const char *v;
	if ((v = ctr_str(a, "memory-limit")) && *v && parse_u64(v, &so->memory_limit)) {
		ctr_fail("invalid value \"%s\" for flag -memory-limit", v);
		return 1;
	}
	if ((v = ctr_str(a, "cpu-shares")) && *v) {
		long long sh = strtoll(v, NULL, 10);
		so->cpu_shares = sh > 0 ? (uint64_t)sh : 0;
	}
	if ((v = ctr_str(a, "cpus")) && *v)
		so->cpus = strtod(v, NULL);
	return 0;
}

/* --runtime (io.containerd.runc.v2 by default) and --runc-binary, only for that runtime */
static int run_runtime(const struct ctr_args *a, const char **runtime, const char **runc_binary)
{
	*runtime = ctr_str(a, "runtime");
	if (!*runtime)
		*runtime = CTR_RUNC_RUNTIME;
	*runc_binary = ctr_str(a, "runc-binary");
	if (*runc_binary && **runc_binary && strcmp(*runtime, CTR_RUNC_RUNTIME)) {
		ctr_fail("specifying runc-binary and runc-systemd-cgroup is only supported for "
			 "\"io.containerd.runc.v2\" runtime");
		return 1;
	}
	return 0;
}

/* the spec (*spec), with the user and additional gids of the rootfs' /etc files; on failure
 * the prepared snapshot is removed */
static int
run_container_create(struct ctr *c, struct ctr_spec_opts *so,
		     const Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *prep,
		     const char *snapshotter, char **spec)
{
	char *passwd = NULL, *group = NULL, *err = NULL;
	ctr_spec_read_etc(prep->mounts, prep->n_mounts, &passwd, &group);
	so->etc_passwd = passwd;
	so->etc_group = group;
	*spec = ctr_spec_json(so, &err);
	so->etc_passwd = so->etc_group = NULL;
	if (!*spec) {
		ctr_fail("%s", err ? err : "spec generation failed");
		ctr_snapshot_remove(c, snapshotter, so->id);
	}
	free(err);
	free(passwd);
	free(group);
	return *spec ? 0 : 1;
}

/* Containers.Create of rec */
static int run_container_rpc(struct ctr *c, struct ctr_container_rec *rec)
{
	Containerd__Services__Containers__V1__CreateContainerRequest ccr =
	    CONTAINERD__SERVICES__CONTAINERS__V1__CREATE_CONTAINER_REQUEST__INIT;
	ccr.container = &rec->ct;
	return ctr_rpc(c, "/containerd.services.containers.v1.Containers/Create", &ccr.base,
		       &containerd__services__containers__v1__create_container_response__descriptor,
		       NULL);
}

/* the task of the container just created, on its snapshot's mounts: run_task's status */
static int run_start(struct ctr *c, const struct ctr_args *a, const char *snapshotter,
		     const char *id, bool tty, bool detach)
{
	Containerd__Services__Snapshots__V1__MountsResponse *mounts = NULL;
	if (snapshot_mounts(c, snapshotter, id, &mounts))
		return 1;
	struct task_opts to = {
	    .id = id,
	    .tty = tty,
	    .detach = detach,
	    .null_io = ctr_bool(a, "null-io"),
	    .log_uri = ctr_str(a, "log-uri"),
	    .fifo_dir = ctr_str(a, "fifo-dir"),
	    .pid_file = ctr_str(a, "pid-file"),
	    .rootfs = mounts->mounts,
	    .nrootfs = mounts->n_mounts,
	};
	int ret = run_task(c, &to);
	protobuf_c_message_free_unpacked(&mounts->base, NULL);
	return ret;
}

int ctr_cmd_run(struct ctr *c, int argc, char **argv)
{
	const char *snapshotter = NULL; /* set below; the cleanup at out: reads it */
	struct ctr_args a;
	if (ctr_parse(argc, argv, run_flags, sizeof(run_flags) / sizeof(run_flags[0]), 0, &a))
		return 1;
	int ret = 1;
	const char *ref = a.argc > 0 ? a.argv[0] : "";
	const char *id = a.argc > 1 ? a.argv[1] : "";
	bool rm = ctr_bool(&a, "rm"), detach = ctr_bool(&a, "detach"), tty = ctr_bool(&a, "tty");
	struct ctr_image img;
	bool have_img = false, created = false, leased = false;
	char *spec = NULL, *snap_alloc = NULL;
	Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *prep = NULL;
	struct ctr_container_rec rec = {0};
	struct ctr_spec_opts so;
	ctr_spec_opts_init(&so);

	memset(&img, 0, sizeof(img));
	if (run_flags_check(&a, ref, id, rm, detach))
		goto out;

	const char *runtime, *runc_binary;
	if (run_runtime(&a, &runtime, &runc_binary))
		goto out;
	snapshotter = ctr_snapshotter_arg(&a);
	if (run_spec_opts(c, &a, id, tty, &so))
		goto out;

	if (!ctr_client(c))
		goto out;
	if (ctr_image_load(c, ref, &img))
		goto out;
	have_img = true;
	if (!snapshotter || !*snapshotter) {
		if (!(snap_alloc = ctr_default_snapshotter(c, 1)))
			goto out;
		snapshotter = snap_alloc;
	}
	if (ctr_image_unpack(c, &img, snapshotter))
		goto out;

	/* client.NewContainer runs inside a lease */
	if (ctr_lease_begin(c))
		goto out;
	leased = true;

	if (ctr_rootfs_prepare(c, &a, snapshotter, id, &img, 0, (ProtobufCMessage **)&prep))
		goto out;

	so.image_config = img.config_json;
	if (run_container_create(c, &so, prep, snapshotter, &spec))
		goto out;
	if (ctr_container_rec_init(&rec, id, img.name ? img.name : ref, runtime, runc_binary, spec,
				   snapshotter, img.config_json, so.labels, so.nlabels) ||
	    run_container_rpc(c, &rec)) {
		ctr_snapshot_remove(c, snapshotter, id);
		goto out;
	}
	created = true;
	ctr_lease_end(c);
	leased = false;

	ret = run_start(c, &a, snapshotter, id, tty, detach);

out:
	if (leased)
		ctr_lease_end(c);
	if (created && rm && !detach)
		container_delete(c, id, snapshotter, id);
	if (prep)
		protobuf_c_message_free_unpacked(&prep->base, NULL);
	ctr_container_rec_free(&rec);
	free(snap_alloc);
	free(spec);
	if (have_img)
		ctr_image_free(&img);
	ctr_args_free(&a);
	return ret;
}

/* ---- tasks start ---- */

static const struct ctr_flag start_flags[] = {
    {"null-io", CF_BOOL, NULL}, {"log-uri", CF_STR, NULL},   {"fifo-dir", CF_STR, NULL},
    {"pid-file", CF_STR, NULL}, {"detach,d", CF_BOOL, NULL},
};

/* The "process" object of a spec JSON: terminal. */
static bool spec_terminal(const Google__Protobuf__Any *spec)
{
	if (!spec || !spec->value.len)
		return false;
	struct ctrbox_json j;
	bool t = false;
	if (ctrbox_json_parse(&j, (const char *)spec->value.data, spec->value.len) == 0) {
		int tok = ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "process"), "terminal");
		if (tok >= 0)
			ctrbox_json_bool(&j, tok, &t);
		ctrbox_json_free(&j);
	}
	return t;
}

int ctr_tasks_start(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	if (ctr_parse(argc, argv, start_flags, sizeof(start_flags) / sizeof(start_flags[0]), 1, &a))
		return 1;
	int ret = 1;
	const char *id = a.argc > 0 ? a.argv[0] : "";
	Containerd__Services__Containers__V1__GetContainerResponse *gc = NULL;
	Containerd__Services__Snapshots__V1__MountsResponse *mounts = NULL;
	if (!*id) {
		ctr_fail("container id must be provided");
		goto out;
	}
	if (get_container(c, id, &gc))
		goto out;
	const Containerd__Services__Containers__V1__Container *ct = gc->container;
	if (ct->snapshot_key && *ct->snapshot_key &&
	    snapshot_mounts(c, ct->snapshotter, ct->snapshot_key, &mounts))
		goto out;
	struct task_opts to = {
	    .id = id,
	    .tty = spec_terminal(ct->spec),
	    .detach = ctr_bool(&a, "detach"),
	    .null_io = ctr_bool(&a, "null-io"),
	    .log_uri = ctr_str(&a, "log-uri"),
	    .fifo_dir = ctr_str(&a, "fifo-dir"),
	    .pid_file = ctr_str(&a, "pid-file"),
	    .rootfs = mounts ? mounts->mounts : NULL,
	    .nrootfs = mounts ? mounts->n_mounts : 0,
	};
	ret = run_task(c, &to);
out:
	if (mounts)
		protobuf_c_message_free_unpacked(&mounts->base, NULL);
	if (gc)
		protobuf_c_message_free_unpacked(&gc->base, NULL);
	ctr_args_free(&a);
	return ret;
}

/* ---- tasks exec ---- */

static const struct ctr_flag exec_flags[] = {
    {"cwd", CF_STR, NULL},     {"tty,t", CF_BOOL, NULL},   {"detach,d", CF_BOOL, NULL},
    {"exec-id", CF_STR, NULL}, {"fifo-dir", CF_STR, NULL}, {"log-uri", CF_STR, NULL},
    {"user", CF_STR, NULL},
};

static void json_args(struct ctrbox_jsonw *w, char **args, size_t nargs)
{
	ctrbox_jsonw_key(w, "args");
	ctrbox_jsonw_array_begin(w);
	for (size_t i = 0; i < nargs; i++)
		ctrbox_jsonw_string(w, args[i]);
	ctrbox_jsonw_array_end(w);
}

/* The container spec's process with terminal, args, cwd (and user) replaced, as JSON. */
struct exec_user {
	uint32_t uid, gid;
};

static char *exec_process_json(const Google__Protobuf__Any *spec, bool tty, char **args,
			       size_t nargs, const char *cwd, const struct exec_user *user,
			       char **err)
{
	struct ctrbox_json j;
	if (!spec || ctrbox_json_parse(&j, (const char *)spec->value.data, spec->value.len) < 0) {
		*err = strdup("invalid container spec");
		return NULL;
	}
	int p = ctrbox_json_get(&j, 0, "process");
	if (p < 0 || !ctrbox_json_is_object(&j, p)) {
		ctrbox_json_free(&j);
		*err = strdup("container spec has no process");
		return NULL;
	}
	struct ctrbox_jsonw w = {0};
	bool wrote_args = false;
	char *out = NULL;
	ctrbox_jsonw_object_begin(&w);
	if (tty) {
		ctrbox_jsonw_key(&w, "terminal");
		ctrbox_jsonw_bool(&w, true);
	}
	for (int k = -1; (k = ctrbox_json_object_next(&j, p, k)) >= 0;) {
		if (ctrbox_json_streq(&j, k, "terminal"))
			continue;
		if (ctrbox_json_streq(&j, k, "args") || ctrbox_json_streq(&j, k, "commandLine") ||
		    ctrbox_json_streq(&j, k, "env") || ctrbox_json_streq(&j, k, "cwd")) {
			if (!wrote_args) {
				wrote_args = true;
				if (nargs)
					json_args(&w, args, nargs);
			}
			if (ctrbox_json_streq(&j, k, "args"))
				continue;
			if (ctrbox_json_streq(&j, k, "cwd") && cwd && *cwd) {
				ctrbox_jsonw_key(&w, "cwd");
				ctrbox_jsonw_string(&w, cwd);
				continue;
			}
		}
		if (ctrbox_json_streq(&j, k, "user") && user) {
			ctrbox_jsonw_key(&w, "user");
			ctrbox_jsonw_object_begin(&w);
			ctrbox_jsonw_key(&w, "uid");
			ctrbox_jsonw_uint(&w, user->uid);
			ctrbox_jsonw_key(&w, "gid");
			ctrbox_jsonw_uint(&w, user->gid);
			ctrbox_jsonw_key(&w, "additionalGids");
			ctrbox_jsonw_array_begin(&w);
			ctrbox_jsonw_uint(&w, user->gid);
			ctrbox_jsonw_array_end(&w);
			ctrbox_jsonw_object_end(&w);
			continue;
		}
		/* any other member as it is; the key re-quoted (Go's quoting: the same bytes) */
		char *key = ctrbox_json_strdup(&j, k);
		const struct ctrbox_json_tok *vt = &j.toks[k + 1];
		int q = vt->type == CTRBOX_JSON_STRING;
		if (!key) /* out of memory, or a \u0000 in the key */
			ctrbox_jsonw_fail(&w, errno == ENOMEM ? -ENOMEM : -EINVAL);
		ctrbox_jsonw_key(&w, key);
		ctrbox_jsonw_raw(&w, j.buf + vt->start - q, (size_t)(vt->end - vt->start + 2 * q));
		free(key);
	}
	if (!wrote_args && nargs)
		json_args(&w, args, nargs);
	ctrbox_jsonw_object_end(&w);
	ctrbox_json_free(&j);
	int rc = ctrbox_jsonw_finish(&w, &out, NULL);
	if (rc)
		*err = strdup(rc == -ENOMEM ? "out of memory" : "invalid container spec");
	return out;
}

int ctr_tasks_exec(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	if (ctr_parse(argc, argv, exec_flags, sizeof(exec_flags) / sizeof(exec_flags[0]), 0, &a))
		return 1;
	int ret = 1;
	const char *id = a.argc > 0 ? a.argv[0] : "";
	const char *exec_id = ctr_str(&a, "exec-id");
	bool tty = ctr_bool(&a, "tty");
	const char *log_uri = ctr_str(&a, "log-uri"), *fifo_dir = ctr_str(&a, "fifo-dir");
	Containerd__Services__Containers__V1__GetContainerResponse *gc = NULL;
	char *pj = NULL, *err = NULL;
	if (!exec_id) {
		ctr_fail("Required flag \"exec-id\" not set");
		goto out;
	}
	if (!*id) {
		ctr_fail("container id must be provided");
		goto out;
	}
	if (get_container(c, id, &gc))
		goto out;
	const char *user = ctr_str(&a, "user");
	struct exec_user eu;
	if (user && *user) {
		/* oci.WithUser reads the rootfs' /etc files through a temporary mount */
		const Containerd__Services__Containers__V1__Container *ct = gc->container;
		Containerd__Services__Snapshots__V1__MountsResponse *mr = NULL;
		char *passwd = NULL, *group = NULL;
		if (ct->snapshot_key && *ct->snapshot_key) {
			if (snapshot_mounts(c, ct->snapshotter, ct->snapshot_key, &mr))
				goto out;
			ctr_spec_read_etc(mr->mounts, mr->n_mounts, &passwd, &group);
			protobuf_c_message_free_unpacked(&mr->base, NULL);
		}
		int ur = ctr_spec_resolve_user(user, passwd, group, &eu.uid, &eu.gid, &err);
		free(passwd);
		free(group);
		if (ur < 0) {
			ctr_fail("%s", err ? err : "bad user");
			goto out;
		}
	}
	pj = exec_process_json(gc->container->spec, tty, a.argv + 1, (size_t)(a.argc - 1),
			       ctr_str(&a, "cwd"), user && *user ? &eu : NULL, &err);
	if (!pj) {
		ctr_fail("%s", err ? err : "bad spec");
		goto out;
	}
	if (tty && log_uri && *log_uri) {
		ctr_fail("can't use log-uri with tty");
		goto out;
	}
	if (log_uri && *log_uri && fifo_dir && *fifo_dir) {
		ctr_fail("can't use log-uri with fifo-dir");
		goto out;
	}
	struct task_opts to = {
	    .id = id,
	    .exec_id = exec_id,
	    .process_json = pj,
	    .tty = tty,
	    .detach = ctr_bool(&a, "detach"),
	    .log_uri = log_uri,
	    .fifo_dir = fifo_dir,
	};
	ret = run_task(c, &to);
out:
	free(pj);
	free(err);
	if (gc)
		protobuf_c_message_free_unpacked(&gc->base, NULL);
	ctr_args_free(&a);
	return ret;
}
