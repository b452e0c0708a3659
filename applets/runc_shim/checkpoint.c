/* containerd-shim-runc-v2: Checkpoint and restore (runc + CRIU). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/util.h>
#include "bundle.h"
#include "cgroup.h"
#include "checkpoint.h"
#include "exits.h"
#include "io.h"
#include "jobs.h"
#include "model.h"
#include "runc/options.pb-c.h"
#include "stats.h"

/* The restore never reached runc: the task stays created, its Start fails. */
static void restore_not_started(struct process *p, int code, const char *msg)
{
	struct ctrbox_ttrpc_call *call = p->start_call;

	io_close(p);
	p->start_call = NULL;
	p->starting = 0;
	ctrbox_ttrpc_call_error(call, code, "%s", msg);
}

static void restore_started(struct svc *s, struct process *p, int r)
{
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
	struct ctrbox_ttrpc_call *call = p->start_call;
	struct container *c = p->c;

	p->start_call = NULL;
	p->starting = 0;
	if (r < 0) {
		io_close(p);
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "failed to retrieve console master");
	}
	free(c->restore_from);
	c->restore_from = NULL;
	c->have_cg = cgroup_paths_for_pid(p->pid, NULL, &c->cg) == 0;
	oom_watch(s, c);
	process_running(s, p);
	ev.container_id = c->id;
	ev.pid = p->pid;
	publish(s, CTRBOX_TOPIC_TASK_START, &ev.base);
	resp.pid = p->pid;
	ctrbox_ttrpc_call_reply(call, &resp.base);
	exit_after_start(s, p);
}

static void restore_done(struct svc *s, struct job *j, int ok, const char *err)
{
	struct process *p = j->ctx;
	char *pidfile = bundle_path(p->c, "init.pid"), *buf = NULL;

	if (ok && (!pidfile || ctrbox_read_file(pidfile, 64, &buf, NULL) < 0 ||
		   (p->pid = atoi(buf)) <= 0)) {
		ok = 0;
		err = "read init.pid after runc restore";
	}
	free(pidfile);
	free(buf);
	if (!ok)
		return restore_not_started(p, CTRBOX_UNKNOWN, err);
	process_watch(s, p);
	if (p->terminal)
		return console_receive(s, p, restore_started);
	restore_started(s, p, 0);
}

/* The io is ready (a binary:// logger signalled): runc restore. */
static void restore_spawn(struct svc *s, struct process *p, int r)
{
	struct container *c = p->c;
	struct ctrbox_runc_restore_opts ro = {0};
	struct ctrbox_runc_argv av = {0};
	char *pidfile, *work, *console = NULL, msg[256];

	if (r < 0) {
		snprintf(msg, sizeof(msg),
			 "failed to create restore io: logging binary not ready: %s",
			 r == -ETIMEDOUT ? "no ready signal within 30 s" : strerror(-r));
		return restore_not_started(p, CTRBOX_UNKNOWN, msg);
	}
	pidfile = bundle_path(c, "init.pid");
	work = c->criu_work ? NULL : bundle_path(c, "work");
	ro.criu.image_path = c->restore_from;
	ro.criu.work_path = c->criu_work ? c->criu_work : work;
	ro.criu.parent_path = c->parent_checkpoint;
	ro.bundle = c->bundle;
	ro.pid_file = pidfile;
	ro.detach = true;
	ro.no_pivot = c->no_pivot;
	ro.no_subreaper = true;
	if (p->terminal && asprintf(&console, "%s/pty.sock", p->console_dir) >= 0)
		ro.console_socket = console;
	if (!pidfile || ctrbox_runc_argv_restore(&c->rc, c->id, &ro, &av) < 0)
		r = -ENOMEM;
	else
		r = job_spawn(s, c, &av, p->runc_fds[0], STDIO_FD(p->runc_fds[1]),
			      STDIO_FD(p->runc_fds[2]), "OCI runtime restore failed", NULL,
			      restore_done, p);
	ctrbox_runc_argv_free(&av);
	free(pidfile);
	free(work);
	free(console);
	if (r == -ENOMEM)
		return restore_not_started(p, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
	if (r < 0) {
		restore_not_started(
		    p, CTRBOX_UNKNOWN,
		    spawn_error(c, "OCI runtime restore failed", r, msg, sizeof(msg)));
	}
}

void restore_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call)
{
	char msg[1024];
	int r;

	p->starting = 1;
	p->start_call = call;
	r = io_prepare(p);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "failed to create restore io: %s", strerror(-r));
		return restore_not_started(p, CTRBOX_UNKNOWN, msg);
	}
	io_when_ready(s, p, restore_spawn);
}

struct checkpoint_ctx {
	struct process *p;
	char *work;	 /* CRIU work dir */
	int remove_work; /* ours (bundle/work/criu-work): removed afterwards */
};

static void checkpoint_done(struct svc *s, struct job *j, int ok, const char *err)
{
	struct checkpoint_ctx *cx = j->ctx;
	struct container *c = cx->p->c;

	if (!ok) {
		/* keep CRIU's story next to the bundle, and point at it, as the Go shim does */
		char *src = NULL, *dst = bundle_path(c, "criu-dump.log"), *log = NULL, *first;
		size_t len = 0;
		if (asprintf(&src, "%s/dump.log", cx->work) >= 0 &&
		    ctrbox_read_file(src, 16u << 20, &log, &len) == 0 && dst)
			ctrbox_write_file(dst, log, len, 0600);
		first = ctrbox_runc_exit_error(&c->rc, j->wstatus, j->output);
		if (first && strchr(first, '\n'))
			*strchr(first, '\n') = '\0';
		ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN, "%s path= %s", first ? first : err,
					dst ? dst : "");
		free(first);
		free(src);
		free(dst);
		free(log);
	} else {
		ctrbox_ttrpc_call_reply(j->call, NULL);
	}
	if (cx->remove_work)
		ctrbox_rm_rf(cx->work);
	free(cx->work);
	free(cx);
}

void checkpoint_h(struct ctrbox_ttrpc_call *call,
		  const Containerd__Task__V2__CheckpointTaskRequest *req, void *data)
{
	Containerd__Runc__V1__CheckpointOptions *o = NULL;
	struct svc *s = data;
	struct process *p = lookup(s, call, req->id, NULL);
	struct ctrbox_runc_checkpoint_opts co = {0};
	struct ctrbox_runc_argv av = {0};
	struct checkpoint_ctx *cx;
	int r;

	if (!p)
		return;
	if (p->state == P_CREATED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot checkpoint a task in created state");
	if (p->state != P_RUNNING && p->state != P_PAUSED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot checkpoint a %s container",
						     p->state == P_STOPPED ? "stopped" : "deleted");
	if (req->options && *req->options->type_url) {
		o = containerd__runc__v1__checkpoint_options__unpack(NULL, req->options->value.len,
								     req->options->value.data);
		if (!o)
			return (void)ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT,
							     "cannot decode checkpoint options");
	}
	cx = calloc(1, sizeof(*cx));
	if (!cx)
		goto oom;
	cx->p = p;
	if (o && *o->work_path) {
		cx->work = strdup(o->work_path);
	} else {
		cx->work = bundle_path(p->c, "work/criu-work");
		cx->remove_work = 1;
		if (cx->work)
			ctrbox_mkdir_p(cx->work, 0711);
	}
	if (!cx->work)
		goto oom;
	co.criu.image_path = req->path;
	co.criu.work_path = cx->work;
	if (o) {
		co.criu.tcp_established = o->open_tcp;
		co.criu.ext_unix_sk = o->external_unix_sockets;
		co.criu.shell_job = o->terminal;
		co.criu.file_locks = o->file_locks;
		co.criu.empty_ns = (const char *const *)o->empty_namespaces;
		co.criu.n_empty_ns = o->n_empty_namespaces;
	}
	co.leave_running = !(o && o->exit);
	if (ctrbox_runc_argv_checkpoint(&p->c->rc, p->c->id, &co, &av) < 0)
		goto oom;
	r = job_spawn(s, p->c, &av, -1, -1, -1, "OCI runtime checkpoint failed", call,
		      checkpoint_done, cx);
	ctrbox_runc_argv_free(&av);
	if (o)
		containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
	if (r < 0) {
		free(cx->work);
		free(cx);
		char msg[1024];
		ctrbox_ttrpc_call_error(
		    call, CTRBOX_UNKNOWN, "%s",
		    spawn_error(p->c, "OCI runtime checkpoint failed", r, msg, sizeof(msg)));
	}
	return;
oom:
	ctrbox_runc_argv_free(&av);
	if (o)
		containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
	if (cx)
		free(cx->work);
	free(cx);
	ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
}
