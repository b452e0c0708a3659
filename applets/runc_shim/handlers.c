/* containerd-shim-runc-v2: the Task service (containerd.task.v2.Task) driving runc: its
 * handlers (Create, Delete, Exec, Stats and Checkpoint have files of their own) and its
 * registration. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ctrbox/json.h>
#include <ctrbox/util.h>
#include "checkpoint.h"
#include "create.h"
#include "delete.h"
#include "exec.h"
#include "exits.h"
#include "google/protobuf/any.pb-c.h"
#include "io.h"
#include "jobs.h"
#include "model.h"
#include "runc/options.pb-c.h"
#include "stats.h"

/* How long Delete waits for the copiers to move what a process wrote: the Go shim's wait, 2 s in
 * 1.6, 10 s in 2.x (whose ctr stops reading once Delete returns). */
#define DRAIN_TIMEOUT_MS 2000
#define DRAIN_TIMEOUT_2X_MS 10000

static void start_done(struct svc *s, struct job *j, int ok, const char *err)
{
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
	struct process *p = j->ctx;

	p->starting = 0;
	if (!ok) {
		ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN, "%s", err);
		if (p->exit_held)
			finish_exit(s, p);
		return;
	}
	if (p->state == P_CREATED)
		p->state = P_RUNNING;
	oom_watch(s, p->c);
	ev.container_id = p->c->id;
	ev.pid = p->pid;
	publish(s, CTRBOX_TOPIC_TASK_START, &ev.base); /* queued before any exit of this process */
	resp.pid = p->pid;
	ctrbox_ttrpc_call_reply(j->call, &resp.base);
	if (p->exit_held)
		finish_exit(s, p);
}

static void start_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__StartRequest *req,
		    void *data)
{
	struct svc *s = data;
	struct process *p = lookup(s, call, req->id, req->exec_id);
	struct ctrbox_runc_argv av = {0};

	if (!p)
		return;
	if (p->state != P_CREATED || p->starting)
		return (void)ctrbox_ttrpc_call_error(
		    call, CTRBOX_UNKNOWN, "cannot start a %s process",
		    p->starting ? "running" : state_names[p->state]);
	if (p->is_exec)
		return exec_start(s, p, call);
	if (p->c->restore_from)
		return restore_start(s, p, call);
	if (ctrbox_runc_argv_start(&p->c->rc, p->c->id, &av) < 0)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	stdin_start(s, p);
	p->starting =
	    job_or_fail(s, p->c, &av, "OCI runtime start failed", call, start_done, p) == 0;
	ctrbox_runc_argv_free(&av);
}

static void state_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__StateRequest *req,
		    void *data)
{
	Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	static const Containerd__V1__Types__Status map[] = {
	    CONTAINERD__V1__TYPES__STATUS__CREATED, CONTAINERD__V1__TYPES__STATUS__RUNNING,
	    CONTAINERD__V1__TYPES__STATUS__PAUSED, CONTAINERD__V1__TYPES__STATUS__STOPPED,
	    CONTAINERD__V1__TYPES__STATUS__STOPPED};
	Google__Protobuf__Timestamp ts;
	struct process *p = lookup(data, call, req->id, req->exec_id);

	if (!p)
		return;
	resp.id = p->id;
	resp.bundle = p->c->bundle;
	resp.pid = p->pid;
	resp.status = p->c->init.pausing ? CONTAINERD__V1__TYPES__STATUS__PAUSING : map[p->state];
	if (p->is_exec && p->c->init.state == P_PAUSED && p->state == P_RUNNING)
		resp.status = CONTAINERD__V1__TYPES__STATUS__PAUSED; /* an exec is paused with its
									container */
	resp.stdin = p->stdin_path;
	resp.stdout = p->stdout_path;
	resp.stderr = p->stderr_path;
	resp.terminal = p->terminal;
	resp.exit_status = p->exit_status;
	set_ts(&ts, &p->exited_at);
	resp.exited_at = &ts;
	ctrbox_ttrpc_call_reply(call, &resp.base);
}

static void wait_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__WaitRequest *req,
		   void *data)
{
	struct process *p = lookup(data, call, req->id, req->exec_id);
	struct waiter *w;

	if (!p)
		return;
	w = calloc(1, sizeof(*w));
	if (!w)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	w->call = call;
	w->next = p->waiters;
	p->waiters = w;
	if (p->state == P_STOPPED || p->state == P_DELETED || p->start_failed)
		reply_waiters(p);
}

static void connect_h(struct ctrbox_ttrpc_call *call,
		      const Containerd__Task__V2__ConnectRequest *req, void *data)
{
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	struct container *c = find_container(data, req->id);

	resp.shim_pid = getpid();
	resp.task_pid = c ? c->init.pid : 0;
	ctrbox_ttrpc_call_reply(call, &resp.base);
}

static void kill_done(struct svc *s, struct job *j, int ok, const char *err)
{
	const char *out = j->output;

	if (ok)
		return (void)ctrbox_ttrpc_call_reply(j->call, NULL);
	if (contains_ci(err, "os: process already finished") ||
	    contains_ci(err, "container not running") || contains_ci(err, "no such process") ||
	    contains_ci(out, "container not running"))
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_NOT_FOUND,
						     "process already finished: not found");
	if (contains_ci(err, "does not exist") || contains_ci(out, "does not exist"))
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_NOT_FOUND,
						     "no such container: not found");
	ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN, "unknown error after kill: %s", err);
}

static void kill_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__KillRequest *req,
		   void *data)
{
	struct svc *s = data;
	struct process *p = lookup(s, call, req->id, req->exec_id);
	struct ctrbox_runc_argv av = {0};

	if (!p)
		return;
	if (p->state == P_DELETED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND,
						     "cannot kill a deleted process: not found");
	if (p->is_exec) { /* execs are signalled directly; `all` does not apply */
		if (p->state == P_CREATED)
			return (void)ctrbox_ttrpc_call_error(
			    call, CTRBOX_FAILED_PRECONDITION,
			    "process not created: failed precondition");
		if (p->state == P_STOPPED || kill(p->pid, req->signal) < 0)
			return (void)ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND,
							     "process already finished: not found");
		return (void)ctrbox_ttrpc_call_reply(call, NULL);
	}
	if (ctrbox_runc_argv_kill(&p->c->rc, p->c->id, req->signal, req->all, &av) < 0)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	job_or_fail(s, p->c, &av, "OCI runtime kill failed", call, kill_done, p);
	ctrbox_runc_argv_free(&av);
}

static void pids_done(struct svc *s, struct job *j, int ok, const char *err)
{
	Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	Containerd__V1__Types__ProcessInfo *infos = NULL, **ptrs = NULL;
	Containerd__Runc__V1__ProcessDetails *details = NULL;
	Google__Protobuf__Any *anys = NULL;
	int *pids = NULL;
	size_t n = 0;

	if (!ok)
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN,
						     "failed to list pids: %s", err);
	/* runc prints the JSON on stdout; the capture also holds stderr, empty on success */
	if (ctrbox_runc_parse_ps(j->output, j->outlen, &pids, &n) < 0)
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN,
						     "failed to parse runc ps output");
	if (n > 0) {
		infos = calloc(n, sizeof(*infos));
		ptrs = calloc(n, sizeof(*ptrs));
		if (!infos || !ptrs) {
			free(infos), free(ptrs), free(pids);
			return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_RESOURCE_EXHAUSTED,
							     "out of memory");
		}
		details = calloc(n, sizeof(*details));
		anys = calloc(n, sizeof(*anys));
		if (!details || !anys) {
			free(infos), free(ptrs), free(pids), free(details), free(anys);
			return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_RESOURCE_EXHAUSTED,
							     "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			containerd__v1__types__process_info__init(&infos[i]);
			infos[i].pid = pids[i];
			ptrs[i] = &infos[i];
			for (struct process *e = j->c->execs; e; e = e->next) {
				if (e->pid != pids[i] || e->pid <= 0)
					continue;
				/* exec pids carry ProcessDetails{exec_id}, as the Go shim reports
				 */
				containerd__runc__v1__process_details__init(&details[i]);
				details[i].exec_id = e->id;
				google__protobuf__any__init(&anys[i]);
				anys[i].type_url = "containerd.runc.v1.ProcessDetails";
				anys[i].value.len =
				    containerd__runc__v1__process_details__get_packed_size(
					&details[i]);
				anys[i].value.data =
				    malloc(anys[i].value.len ? anys[i].value.len : 1);
				if (anys[i].value.data) {
					containerd__runc__v1__process_details__pack(
					    &details[i], anys[i].value.data);
					infos[i].info = &anys[i];
				}
			}
		}
	}
	resp.n_processes = n;
	resp.processes = ptrs;
	ctrbox_ttrpc_call_reply(j->call, &resp.base);
	for (size_t i = 0; anys && i < n; i++)
		free(anys[i].value.data);
	free(details);
	free(anys);
	free(infos);
	free(ptrs);
	free(pids);
}

static void pids_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__PidsRequest *req,
		   void *data)
{
	struct svc *s = data;
	struct process *p = lookup(s, call, req->id, NULL);
	struct ctrbox_runc_argv av = {0};

	if (!p)
		return;
	if (ctrbox_runc_argv_ps(&p->c->rc, p->c->id, &av) < 0)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	job_or_fail(s, p->c, &av, "OCI runtime ps failed", call, pids_done, p);
	ctrbox_runc_argv_free(&av);
}

static void closeio_h(struct ctrbox_ttrpc_call *call,
		      const Containerd__Task__V2__CloseIORequest *req, void *data)
{
	struct container *c = find_container(data, req->id);

	if (!c)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND,
						     "container not created: not found");
	struct process *p = &c->init;
	if (*req->exec_id) {
		p = find_exec(c, req->exec_id);
		if (!p) /* the Go service does not map this one */
			return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
							     "process does not exist %s: not found",
							     req->exec_id);
	}
	/* Our writer goes; the process sees EOF once the clients' writers are gone too. ctr sends
	 * CloseIO as soon as its stdin ends, which may be before Start (or an exec's runc exec)
	 * is done and io_stdin_hold would open the writer: remember it. */
	p->stdin_closed = 1;
	close_fd(&p->stdin_writer);
	ctrbox_ttrpc_call_reply(call, NULL);
}

static void shutdown_h(struct ctrbox_ttrpc_call *call,
		       const Containerd__Task__V2__ShutdownRequest *req, void *data)
{
	struct svc *s = data;
	struct waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	w->call = call;
	w->next = s->shutdowns;
	s->shutdowns = w;
	maybe_shutdown(s);
}

static void resize_h(struct ctrbox_ttrpc_call *call,
		     const Containerd__Task__V2__ResizePtyRequest *req, void *data)
{
	struct process *p = lookup(data, call, req->id, req->exec_id);
	struct winsize ws = {.ws_row = req->height, .ws_col = req->width};

	if (!p)
		return;
	if (p->is_exec && p->state == P_STOPPED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot resize a stopped container");
	if (p->console >= 0 && ioctl(p->console, TIOCSWINSZ, &ws) < 0)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN, "resize pty: %s",
						     strerror(errno));
	ctrbox_ttrpc_call_reply(call, NULL); /* no console: nothing to do, as the Go shim */
}

static void pause_done(struct svc *s, struct job *j, int ok, const char *err)
{
	Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
	struct process *p = j->ctx;

	p->pausing = 0;
	if (!ok)
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN, "%s", err);
	if (p->state == P_RUNNING)
		p->state = P_PAUSED;
	ev.container_id = p->c->id;
	publish(s, CTRBOX_TOPIC_TASK_PAUSED, &ev.base);
	ctrbox_ttrpc_call_reply(j->call, NULL);
}

static void resume_done(struct svc *s, struct job *j, int ok, const char *err)
{
	Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
	struct process *p = j->ctx;

	if (!ok)
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN, "%s", err);
	if (p->state == P_PAUSED)
		p->state = P_RUNNING;
	ev.container_id = p->c->id;
	publish(s, CTRBOX_TOPIC_TASK_RESUMED, &ev.base);
	ctrbox_ttrpc_call_reply(j->call, NULL);
}

static void pause_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__PauseRequest *req,
		    void *data)
{
	struct svc *s = data;
	struct process *p = lookup(s, call, req->id, NULL);
	struct ctrbox_runc_argv av = {0};

	if (!p)
		return;
	if (p->state == P_CREATED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot pause task in created state");
	if (p->state != P_RUNNING || p->pausing)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot pause a %s container",
						     p->pausing ? "paused" : state_names[p->state]);
	if (ctrbox_runc_argv_pause(&p->c->rc, p->c->id, &av) < 0)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	p->pausing =
	    job_or_fail(s, p->c, &av, "OCI runtime pause failed", call, pause_done, p) == 0;
	ctrbox_runc_argv_free(&av);
}

static void resume_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__ResumeRequest *req,
		     void *data)
{
	struct svc *s = data;
	struct process *p = lookup(s, call, req->id, NULL);
	struct ctrbox_runc_argv av = {0};

	if (!p)
		return;
	if (p->state == P_CREATED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot resume task in created state");
	if (p->state == P_RUNNING)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot resume a running process");
	if (p->state != P_PAUSED)
		return (void)ctrbox_ttrpc_call_error(
		    call, CTRBOX_UNKNOWN, "cannot resume a %s container", state_names[p->state]);
	if (ctrbox_runc_argv_resume(&p->c->rc, p->c->id, &av) < 0)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	job_or_fail(s, p->c, &av, "OCI runtime resume failed", call, resume_done, p);
	ctrbox_runc_argv_free(&av);
}

static void update_done(struct svc *s, struct job *j, int ok, const char *err)
{
	if (!ok)
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN, "%s", err);
	ctrbox_ttrpc_call_reply(j->call, NULL);
}

static void update_h(struct ctrbox_ttrpc_call *call,
		     const Containerd__Task__V2__UpdateTaskRequest *req, void *data)
{
	struct svc *s = data;
	struct process *p = lookup(s, call, req->id, NULL);
	struct ctrbox_runc_argv av = {0};
	struct ctrbox_json j;
	int fd, r;

	if (!p)
		return;
	if (p->state == P_STOPPED || p->state == P_DELETED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot update a stopped container");
	/* resources: OCI LinuxResources JSON (the type URL is not checked, as in the Go shim) */
	if (!req->resources || ctrbox_json_parse(&j, (const char *)req->resources->value.data,
						 req->resources->value.len) < 0)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT,
						     "update: resources are not JSON");
	ctrbox_json_free(&j);
	fd = memfd_create("runc-resources", MFD_CLOEXEC);
	if (fd < 0 ||
	    ctrbox_write_all(fd, req->resources->value.data, req->resources->value.len) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0 ||
	    ctrbox_runc_argv_update(&p->c->rc, p->c->id, NULL, &av) < 0) {
		if (fd >= 0)
			close(fd);
		ctrbox_runc_argv_free(&av);
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "update: cannot stage resources");
	}
	r = job_spawn(s, p->c, &av, fd, -1, -1, "OCI runtime update failed", call, update_done, p);
	close(fd); /* runc has its own copy */
	ctrbox_runc_argv_free(&av);
	if (r < 0) {
		char msg[1024];
		ctrbox_ttrpc_call_error(
		    call, CTRBOX_UNKNOWN, "%s",
		    spawn_error(p->c, "OCI runtime update failed", r, msg, sizeof(msg)));
	}
}

static const struct ctrbox_task_ops task_ops = {
    .state = state_h,
    .create = create_h,
    .start = start_h,
    .delete_ = delete_h,
    .pids = pids_h,
    .pause = pause_h,
    .resume = resume_h,
    .checkpoint = checkpoint_h,
    .kill = kill_h,
    .exec = exec_h,
    .resize_pty = resize_h,
    .close_io = closeio_h,
    .update = update_h,
    .wait = wait_h,
    .stats = stats_h,
    .connect = connect_h,
    .shutdown = shutdown_h,
};

int runc_shim_register(struct ctrbox_shim *sh, void **state)
{
	struct svc *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->shim = sh;
	if (!(s->mon = ctrbox_monitor_new())) {
		free(s);
		return -ENOMEM;
	}
	s->loop = ctrbox_shim_loop(sh);
	s->ns = ctrbox_shim_options(sh)->ns;
	s->drain_ms =
	    ctrbox_shim_options(sh)->containerd_2x ? DRAIN_TIMEOUT_2X_MS : DRAIN_TIMEOUT_MS;
	*state = s;
	return ctrbox_task_register(ctrbox_shim_server(sh), &task_ops, s);
}

void runc_shim_fini(struct ctrbox_shim *sh, void *state)
{
	struct svc *s = state;

	while (s->containers) {
		struct container *c = s->containers;
		s->containers = c->next;
		container_free(c);
	}
	jobs_fini(s);
	exits_fini(s);
	while (s->shutdowns) {
		struct waiter *w = s->shutdowns;
		s->shutdowns = w->next;
		ctrbox_ttrpc_call_reply(w->call, NULL);
		free(w);
	}
	free(s);
}
