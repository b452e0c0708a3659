/* containerd-shim-runc-v2: the container and process model: lookup, lifetime, events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctrbox/log.h>
#include <ctrbox/mount.h>
#include "bundle.h"
#include "io.h"
#include "model.h"

const char *const state_names[] = {"created", "running", "paused", "stopped", "deleted"};

/* Go's zero time, which containerd's shim always encodes for "not exited". */
void set_ts(Google__Protobuf__Timestamp *ts, const struct timespec *t)
{
	google__protobuf__timestamp__init(ts);
	if (t->tv_sec == 0 && t->tv_nsec == 0) {
		ts->seconds = -62135596800LL;
		ts->nanos = 0;
	} else {
		ts->seconds = t->tv_sec;
		ts->nanos = t->tv_nsec;
	}
}

/* Any container by id, one still being created included. */
struct container *find_any(struct svc *s, const char *id)
{
	for (struct container *c = s->containers; c; c = c->next)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

/* A created container: until runc create has returned, it does not exist for requests. */
struct container *find_container(struct svc *s, const char *id)
{
	struct container *c = find_any(s, id);
	return c && !c->creating ? c : NULL;
}

struct process *find_exec(struct container *c, const char *exec_id)
{
	for (struct process *e = c->execs; e; e = e->next)
		if (!strcmp(e->id, exec_id))
			return e;
	return NULL;
}

/* The init process of req's container, or NULL after answering the call with the error. */
struct process *lookup(struct svc *s, struct ctrbox_ttrpc_call *call, const char *id,
		       const char *exec_id)
{
	struct process *e;

	struct container *c = find_container(s, id);

	if (!c) {
		ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND, "container not created: not found");
		return NULL;
	}
	if (exec_id && *exec_id) {
		if ((e = find_exec(c, exec_id)))
			return e;
		ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND,
					"process does not exist %s: not found", exec_id);
		return NULL;
	}
	return &c->init;
}

void publish(struct svc *s, const char *topic, const ProtobufCMessage *ev)
{
	int r = ctrbox_shim_publish(s->shim, topic, ev);
	if (r < 0)
		ctrbox_log_error("publish %s: %s", topic, strerror(-r));
}

/* ---- the rootfs, unmounted on the loop ---- */

struct unmount_op {
	struct svc *s;
	struct container *c;
	char *path;
	int tries;
	struct ctrbox_timer *timer;
	void (*done)(struct svc *s, struct container *c, int r);
};

static void unmount_op_free(struct unmount_op *u)
{
	if (u->timer)
		ctrbox_loop_timer_cancel(u->s->loop, u->timer);
	u->c->unmount = NULL;
	free(u->path);
	free(u);
}

static void unmount_try(struct ctrbox_loop *l, void *data)
{
	struct unmount_op *u = data;
	void (*done)(struct svc *, struct container *, int) = u->done;
	struct container *c = u->c;
	struct svc *s = u->s;
	int n, r = ctrbox_unmount_all_nowait(u->path, 0, &n);

	u->timer = NULL;
	/* EBUSY: a process is still leaving the mount; each mount gets containerd's bound */
	u->tries = n > 0 ? 1 : u->tries + 1;
	if (r == -EBUSY && u->tries < CTRBOX_UNMOUNT_BUSY_TRIES &&
	    (u->timer = ctrbox_loop_timer_in(l, CTRBOX_UNMOUNT_BUSY_RETRY_MS, unmount_try, u)))
		return;
	unmount_op_free(u);
	done(s, c, r);
}

/* Unmounts the rootfs if we mounted it, a busy mount retried from a timer; then done. */
void rootfs_unmount(struct svc *s, struct container *c,
		    void (*done)(struct svc *s, struct container *c, int r))
{
	struct unmount_op *u;

	if (!c->rootfs_mounted)
		return done(s, c, 0);
	c->rootfs_mounted = 0;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->path = bundle_path(c, "rootfs"))) {
		free(u);
		return done(s, c, -ENOMEM);
	}
	u->s = s;
	u->c = c;
	u->done = done;
	c->unmount = u;
	unmount_try(s->loop, u);
}

/* ---- containers and processes ---- */

void proc_file_drop(struct process *p)
{
	if (p->proc_fd > 0)
		close(p->proc_fd);
	p->proc_fd = 0;
	free(p->proc_file);
	p->proc_file = NULL;
}

void process_unwatch(struct svc *s, struct process *p)
{
	if (p->watched)
		ctrbox_monitor_unwatch(s->mon, p->pid);
	p->watched = 0;
}

void process_free_fields(struct svc *s, struct process *p)
{
	process_unwatch(s, p);
	io_close(p);
	close_fd(&p->logger_pidfd);
	if (p->drain_timer)
		ctrbox_loop_timer_cancel(s->loop, p->drain_timer);
	while (p->waiters) { /* only reached on shutdown: answer rather than leak */
		struct waiter *w = p->waiters;
		p->waiters = w->next;
		ctrbox_ttrpc_call_error(w->call, CTRBOX_UNAVAILABLE, "shim shutting down");
		free(w);
	}
	proc_file_drop(p);
	free(p->spec);
	free(p->id);
	free(p->stdin_path);
	free(p->stdout_path);
	free(p->stderr_path);
}

void container_free(struct container *c)
{
	struct process *p = &c->init;

	while (c->execs) {
		struct process *e = c->execs;
		c->execs = e->next;
		process_free_fields(c->svc, e);
		free(e);
	}
	process_free_fields(c->svc, p);
	if (c->oom_fd >= 0) {
		ctrbox_loop_del(c->svc->loop, c->oom_fd);
		close(c->oom_fd);
	}
	if (c->have_cg)
		cgroup_paths_free(&c->cg);
	if (c->unmount)
		unmount_op_free(c->unmount);
	free(c->fail_msg);
	free(c->restore_from);
	free(c->parent_checkpoint);
	free(c->criu_work);
	free(c->id);
	free(c->bundle);
	free(c->runc_binary);
	free(c->runc_root);
	free(c->runc_log);
	free(c->criu);
	free(c);
}

void container_unlink(struct svc *s, struct container *c)
{
	for (struct container **pp = &s->containers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

/* The container leaves the service; its memory stays until its last runc job is done. */
void container_release(struct svc *s, struct container *c)
{
	container_unlink(s, c);
	if (c->njobs > 0)
		c->dead = 1;
	else
		container_free(c);
	maybe_shutdown(s);
}

/* Shutdown waits for the Creates in flight (the Go shim's Create holds the lock Shutdown
 * takes) and, with no container left, for the last runc child: the shim never exits from
 * under a runc that is still changing the host. Then, without containers, it exits. */
void maybe_shutdown(struct svc *s)
{
	if (!s->shutdowns || (!s->containers && s->jobs))
		return;
	for (struct container *c = s->containers; c; c = c->next)
		if (c->creating)
			return;
	while (s->shutdowns) {
		struct waiter *w = s->shutdowns;
		s->shutdowns = w->next;
		ctrbox_ttrpc_call_reply(w->call, NULL);
		free(w);
	}
	if (!s->containers)
		ctrbox_shim_request_exit(s->shim);
}

/* Our writer on the stdin fifo, from Start on; without it the input ends with its client's. */
void stdin_start(struct svc *s, struct process *p)
{
	int r = io_stdin_hold(p);

	if (r < 0)
		ctrbox_log_warn("%s: cannot hold stdin %s open: %s", p->id, p->stdin_path,
				strerror(-r));
}

/* runc exec/restore is done: the process's io flows, it runs. */
void process_running(struct svc *s, struct process *p)
{
	io_start(s, p);
	stdin_start(s, p);
	p->state = P_RUNNING;
}
