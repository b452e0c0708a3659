/* containerd-shim-runc-v2: Delete -- the copiers' drain, runc delete, the rootfs, the event. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ctrbox/log.h>
#include "delete.h"
#include "exits.h"
#include "io.h"
#include "jobs.h"
#include "model.h"

static void delete_unmounted(struct svc *s, struct container *c, int r)
{
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	Google__Protobuf__Timestamp ts;
	struct process *p = &c->init;
	struct ctrbox_ttrpc_call *call = p->delete_call;

	if (r < 0)
		ctrbox_log_warn("failed to cleanup rootfs mount of %s: %s", c->id, strerror(-r));
	p->delete_call = NULL;
	p->state = P_DELETED;
	process_unwatch(s, p);
	set_ts(&ts, &p->exited_at);
	ev.container_id = c->id;
	ev.pid = p->pid;
	ev.exit_status = p->exit_status;
	ev.exited_at = &ts;
	publish(s, CTRBOX_TOPIC_TASK_DELETE, &ev.base);
	resp.pid = p->pid;
	resp.exit_status = p->exit_status;
	resp.exited_at = &ts;
	ctrbox_ttrpc_call_reply(call, &resp.base);
	reply_waiters(p);
	container_release(s, c);
}

/* runc has deleted the container: io, the logger, then the rootfs (on the loop), the answer. */
static void delete_finish(struct svc *s, struct process *p)
{
	io_close(p);
	logger_stop(s, p);
	rootfs_unmount(s, p->c, delete_unmounted);
}

static void runc_delete_done(struct svc *s, struct job *j, int ok, const char *err)
{
	struct process *p = j->ctx;

	if (!ok && !contains_ci(err, "does not exist") &&
	    !contains_ci(j->output, "does not exist")) {
		p->c->init.delete_call = NULL;
		return (void)ctrbox_ttrpc_call_error(j->call, CTRBOX_UNKNOWN, "%s", err);
	}
	delete_finish(s, p);
}

/* An exec is forgotten without runc and without an event. */
static void exec_delete_finish(struct svc *s, struct process *p)
{
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;
	struct container *c = p->c;
	char *pidfile;

	if (asprintf(&pidfile, "%s/%s.pid", c->bundle, p->id) >= 0) {
		unlink(pidfile);
		free(pidfile);
	}
	io_close(p);
	logger_stop(s, p);
	set_ts(&ts, &p->exited_at);
	resp.pid = p->pid;
	resp.exit_status = p->exit_status;
	resp.exited_at = &ts;
	ctrbox_ttrpc_call_reply(p->delete_call, &resp.base);
	p->delete_call = NULL;
	p->state = P_DELETED;
	process_unwatch(s, p);
	reply_waiters(p);
	for (struct process **pp = &c->execs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	process_free_fields(s, p);
	free(p);
}

/* The copiers are done (or Delete gave up waiting): runc delete, or an exec's end. */
static void delete_continue(struct svc *s, struct process *p)
{
	struct ctrbox_ttrpc_call *call = p->delete_call;
	struct ctrbox_runc_argv av = {0};
	int r;

	if (p->is_exec)
		return exec_delete_finish(s, p);
	if (ctrbox_runc_argv_delete(&p->c->rc, p->c->id, p->delete_force, &av) < 0) {
		p->delete_call = NULL;
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	}
	r = job_spawn(s, p->c, &av, -1, -1, -1, "OCI runtime delete failed", call, runc_delete_done,
		      p);
	ctrbox_runc_argv_free(&av);
	if (r < 0) {
		p->delete_call = NULL;
		char msg[1024];
		ctrbox_ttrpc_call_error(
		    call, CTRBOX_UNKNOWN, "%s",
		    spawn_error(p->c, "OCI runtime delete failed", r, msg, sizeof(msg)));
	}
}

void delete_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__DeleteRequest *req,
	      void *data)
{
	struct svc *s = data;
	struct container *c = find_any(s, req->id);
	struct process *p;

	/* Delete meets the Create in flight: it completes after it, as the Go shim's (whose
	 * Create holds its lock), so that runc's state, mounts and cgroups go with the task. */
	if (c && c->creating && !*req->exec_id) {
		if (c->pending_delete)
			return (void)ctrbox_ttrpc_call_error(call, CTRBOX_FAILED_PRECONDITION,
							     "delete already in progress");
		c->pending_delete = call;
		return;
	}
	p = lookup(s, call, req->id, req->exec_id);
	if (p)
		delete_start(s, p, call, 0);
}

void delete_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call, int force)
{
	if (p->starting)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN,
						     "cannot delete a running process");
	if (p->delete_call)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_FAILED_PRECONDITION,
						     "delete already in progress");
	if (p->state != P_CREATED && p->state != P_STOPPED)
		return (void)ctrbox_ttrpc_call_error(
		    call, CTRBOX_UNKNOWN, "cannot delete a %s process", state_names[p->state]);
	p->delete_call = call;
	p->delete_force = force;
	p->drained = delete_continue; /* what the copiers' end (io.c) continues */
	if (p->state == P_STOPPED)
		return io_drain(s, p);
	delete_continue(s, p);
}
