/* containerd-shim-runc-v2: Create -- the rootfs, the io, runc create. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ctrbox/log.h>
#include <ctrbox/mount.h>
#include <ctrbox/util.h>
#include "cgroup.h"
#include "create.h"
#include "delete.h"
#include "exits.h"
#include "io.h"
#include "jobs.h"
#include "model.h"

static void create_fail_unmounted(struct svc *s, struct container *c, int r)
{
	if (r < 0)
		ctrbox_log_warn("failed to cleanup rootfs mount of %s: %s", c->id, strerror(-r));
	ctrbox_ttrpc_call_error(c->create_call, c->fail_code, "%s",
				c->fail_msg ? c->fail_msg : "create failed");
	c->create_call = NULL;
	/* A Delete that waited for this Create finds nothing, as after the Go shim's failure. */
	if (c->pending_delete)
		ctrbox_ttrpc_call_error(c->pending_delete, CTRBOX_NOT_FOUND,
					"container not created: not found");
	c->pending_delete = NULL;
	container_release(s, c);
}

/* The Create fails: its logger is stopped, the rootfs unmounted, then the answer goes. */
static void create_failed(struct svc *s, struct container *c, int code, const char *msg)
{
	io_close(&c->init);
	logger_stop(s, &c->init);
	c->fail_code = code;
	free(c->fail_msg);
	c->fail_msg = strdup(msg);
	rootfs_unmount(s, c, create_fail_unmounted);
}

/* runc create is done (and the console taken): the task exists. */
static void create_registered(struct svc *s, struct container *c)
{
	const CreateReq *req = c->create_req;
	Containerd__Task__V2__CreateTaskResponse resp =
	    CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
	struct ctrbox_ttrpc_call *pending = c->pending_delete;

	/* its cgroups, for Stats and OOM (runc has put the init there by now) */
	c->have_cg = cgroup_paths_for_pid(c->init.pid, NULL, &c->cg) == 0;
	c->creating = 0;
	c->pending_delete = NULL;
	io_start(s, &c->init);

	ev.container_id = c->id;
	ev.bundle = c->bundle;
	ev.n_rootfs = req->n_rootfs;
	ev.rootfs = req->rootfs;
	tio.stdin = req->stdin;
	tio.stdout = req->stdout;
	tio.stderr = req->stderr;
	tio.terminal = req->terminal;
	ev.io = &tio;
	ev.checkpoint = req->checkpoint;
	ev.pid = c->init.pid;
	publish(s, CTRBOX_TOPIC_TASK_CREATE, &ev.base);
	resp.pid = c->init.pid;
	ctrbox_ttrpc_call_reply(c->create_call, &resp.base); /* frees req */
	c->create_call = NULL;
	c->create_req = NULL;
	claim_early_exit(s, &c->init);
	/* containerd gave up on this Create (its client went away) and sent Delete meanwhile:
	 * now that runc is done, the Delete removes what it made. */
	if (pending)
		delete_start(s, &c->init, pending, 1);
	maybe_shutdown(s);
}

static void create_console_done(struct svc *s, struct process *p, int r)
{
	char msg[128];

	if (r == 0)
		return create_registered(s, p->c);
	snprintf(msg, sizeof(msg), "failed to retrieve console master: %s", strerror(-r));
	create_failed(s, p->c, CTRBOX_UNKNOWN, msg);
}

static void create_done(struct svc *s, struct job *j, int ok, const char *err)
{
	struct container *c = j->c;
	char *pidfile, *buf = NULL;

	if (!ok)
		return create_failed(s, c, CTRBOX_UNKNOWN, err);
	pidfile = bundle_path(c, "init.pid");
	if (!pidfile || ctrbox_read_file(pidfile, 64, &buf, NULL) < 0 ||
	    (c->init.pid = atoi(buf)) <= 0) {
		free(pidfile);
		free(buf);
		return create_failed(s, c, CTRBOX_UNKNOWN, "read init.pid after runc create");
	}
	free(pidfile);
	free(buf);
	process_watch(s, &c->init);
	if (c->init.terminal)
		return console_receive(s, &c->init, create_console_done);
	create_registered(s, c);
}

/* The io is ready (a binary:// logger signalled): runc create. */
static void create_spawn(struct svc *s, struct process *p, int r)
{
	struct container *c = p->c;
	struct ctrbox_runc_create_opts co = {0};
	struct ctrbox_runc_argv av = {0};
	char *pidfile = NULL, *console = NULL, msg[1024];

	if (r < 0) {
		snprintf(msg, sizeof(msg),
			 "failed to create shim task io: logging binary not ready: %s",
			 r == -ETIMEDOUT ? "no ready signal within 30 s" : strerror(-r));
		return create_failed(s, c, CTRBOX_UNKNOWN, msg);
	}
	pidfile = bundle_path(c, "init.pid");
	co.bundle = c->bundle;
	co.pid_file = pidfile;
	co.no_pivot = c->no_pivot;
	co.no_new_keyring = c->no_new_keyring;
	if (c->init.terminal && asprintf(&console, "%s/pty.sock", c->init.console_dir) >= 0)
		co.console_socket = console;
	if (!pidfile || ctrbox_runc_argv_create(&c->rc, c->id, &co, &av) < 0)
		r = -ENOMEM;
	else
		r = job_spawn(s, c, &av, c->init.runc_fds[0], STDIO_FD(c->init.runc_fds[1]),
			      STDIO_FD(c->init.runc_fds[2]), "OCI runtime create failed",
			      c->create_call, create_done, NULL);
	ctrbox_runc_argv_free(&av);
	free(pidfile);
	free(console);
	if (r < 0) {
		create_failed(s, c, CTRBOX_UNKNOWN,
			      spawn_error(c, "OCI runtime create failed", r, msg, sizeof(msg)));
	}
}

/* A Create refused before anything is made: 1 once the call has its error. */
static int create_refused(struct svc *s, struct ctrbox_ttrpc_call *call, const CreateReq *req)
{
	struct stat st;

	if (!valid_id(req->id)) {
		ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT, "invalid container id %s",
					req->id);
		return 1;
	}
	if (req->bundle[0] != '/' || stat(req->bundle, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT, "invalid bundle %s",
					req->bundle);
		return 1;
	}
	if (find_any(s, req->id)) {
		ctrbox_ttrpc_call_error(call, CTRBOX_ALREADY_EXISTS, "container %s: already exists",
					req->id);
		return 1;
	}
	return 0;
}

/* The new container with its init, not yet listed; NULL when out of memory. */
static struct container *create_container(struct svc *s, const CreateReq *req)
{
	struct container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->svc = s;
	c->oom_fd = -1;
	c->id = strdup(req->id);
	c->bundle = strdup(req->bundle);
	process_init(&c->init, c, req->id);
	c->init.terminal = req->terminal;
	c->init.stdin_path = strdup(req->stdin);
	c->init.stdout_path = strdup(req->stdout);
	c->init.stderr_path = strdup(req->stderr);
	if (!c->id || !c->bundle || !c->init.id || !c->init.stdin_path || !c->init.stdout_path ||
	    !c->init.stderr_path) {
		container_free(c);
		return NULL;
	}
	return c;
}

/* Mounts the request's rootfs on bundle/rootfs: 0, or -errno with *err the message (malloc'd,
 * NULL if even that failed). */
static int create_mount_rootfs(struct container *c, const CreateReq *req, char **err)
{
	char *rootfs = bundle_path(c, "rootfs");
	struct ctrbox_mount_spec *ms = calloc(req->n_rootfs, sizeof(*ms));
	int r;

	if (!ms || !rootfs) {
		free(ms);
		free(rootfs);
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < req->n_rootfs; i++) {
		ms[i].type = req->rootfs[i]->type;
		ms[i].source = req->rootfs[i]->source;
		ms[i].options = req->rootfs[i]->options;
		ms[i].n_options = req->rootfs[i]->n_options;
	}
	if (mkdir(rootfs, 0711) < 0 && errno != EEXIST)
		r = -errno;
	else
		r = ctrbox_mount_all(ms, req->n_rootfs, rootfs);
	free(ms);
	free(rootfs);
	if (r < 0) {
		if (asprintf(err, "failed to mount rootfs component: %s", strerror(-r)) < 0)
			*err = NULL;
		return r;
	}
	c->rootfs_mounted = 1;
	return 0;
}

/* A Create with a checkpoint: restore happens at Start (io too); remember where from, register
 * as created, answer. -ENOMEM (nothing answered) when out of memory. */
static int create_for_restore(struct svc *s, struct container *c, struct ctrbox_ttrpc_call *call,
			      const CreateReq *req)
{
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
	Containerd__Task__V2__CreateTaskResponse resp =
	    CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;

	c->restore_from = strdup(req->checkpoint);
	c->parent_checkpoint = *req->parent_checkpoint ? strdup(req->parent_checkpoint) : NULL;
	if (!c->restore_from)
		return -ENOMEM;
	c->creating = 0;
	c->create_call = NULL;
	c->create_req = NULL;
	ev.container_id = c->id;
	ev.bundle = c->bundle;
	ev.n_rootfs = req->n_rootfs;
	ev.rootfs = req->rootfs;
	tio.stdin = req->stdin, tio.stdout = req->stdout, tio.stderr = req->stderr;
	tio.terminal = req->terminal;
	ev.io = &tio;
	ev.checkpoint = req->checkpoint;
	publish(s, CTRBOX_TOPIC_TASK_CREATE, &ev.base);
	ctrbox_ttrpc_call_reply(call, &resp.base);
	return 0;
}

void create_h(struct ctrbox_ttrpc_call *call, const CreateReq *req, void *data)
{
	struct svc *s = data;
	struct container *c;
	char *err = NULL;
	int r;

	if (create_refused(s, call, req))
		return;
	if (!(c = create_container(s, req)))
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	/* listed from now on, so that a Delete or Shutdown meeting this Create waits for it */
	c->creating = 1;
	c->create_call = call;
	c->create_req = req;
	c->next = s->containers;
	s->containers = c;
	if (container_config(c, req, &err) < 0) {
		create_failed(s, c, CTRBOX_UNKNOWN, err ? err : "runtime options");
		free(err);
		return;
	}
	c->has_pidns = spec_has_pidns(c->bundle);
	if (req->n_rootfs > 0 && create_mount_rootfs(c, req, &err) < 0)
		goto fail;
	if (*req->checkpoint) {
		if (create_for_restore(s, c, call, req) < 0)
			goto oom;
		return;
	}
	r = io_prepare(&c->init);
	if (r < 0) {
		if (asprintf(&err, "failed to create shim task io: %s", strerror(-r)) < 0)
			err = NULL;
		goto fail;
	}
	/* a binary:// logger first signals that it is ready; the loop serves others meanwhile */
	io_when_ready(s, &c->init, create_spawn);
	return;
oom:
	err = strdup("out of memory");
fail:
	create_failed(s, c, CTRBOX_UNKNOWN, err ? err : "create failed");
	free(err);
}
