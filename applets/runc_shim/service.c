/* containerd-shim-runc-v2: the Task service (containerd.task.v2.Task) driving runc. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include <ctrbox/log.h>
#include <ctrbox/mount.h>
#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "runc/options.pb-c.h"
#include "runc_shim.h"
#include <ctrbox/util.h>
#include <ctrbox/task.h>

#define EARLY_EXITS_MAX 1024
/* An unmatched exit only matters until its pid file is read (milliseconds); past this it could
 * only match a reused pid. */
#define EARLY_EXIT_TTL_MS 10000
/* How long Delete waits for the copiers to move what a process wrote: the Go shim's wait, 2 s in
 * 1.6, 10 s in 2.x (whose ctr stops reading once Delete returns). */
#define DRAIN_TIMEOUT_MS 2000
#define DRAIN_TIMEOUT_2X_MS 10000
#define OUTPUT_MAX 65536

typedef Containerd__Task__V2__CreateTaskRequest CreateReq;

/* ---- small helpers ---- */

static int exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

/* Go's zero time, which containerd's shim always encodes for "not exited". */
static void set_ts(Google__Protobuf__Timestamp *ts, const struct timespec *t)
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
static struct container *find_any(struct svc *s, const char *id)
{
	for (struct container *c = s->containers; c; c = c->next)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

/* A created container: until runc create has returned, it does not exist for requests. */
static struct container *find_container(struct svc *s, const char *id)
{
	struct container *c = find_any(s, id);
	return c && !c->creating ? c : NULL;
}

/* The init process of req's container, or NULL after answering the call with the error. */
static struct process *find_exec(struct container *c, const char *exec_id)
{
	for (struct process *e = c->execs; e; e = e->next)
		if (!strcmp(e->id, exec_id))
			return e;
	return NULL;
}

static struct process *lookup(struct svc *s, struct ctrbox_ttrpc_call *call, const char *id,
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

static void publish(struct svc *s, const char *topic, const ProtobufCMessage *ev)
{
	int r = ctrbox_shim_publish(s->shim, topic, ev);
	if (r < 0)
		ctrbox_log_error("publish %s: %s", topic, strerror(-r));
}

static void container_free(struct container *c);
static void unmount_op_free(struct unmount_op *u);
static void maybe_shutdown(struct svc *s);
static void exec_gone(struct svc *s, struct container *c);
static void stdin_start(struct svc *s, struct process *p);

/* ---- runc jobs: children whose exit arrives through the reaper ---- */

/* For job_spawn's out/err: not captured, /dev/null (a container stream nobody asked for). */
#define JOB_DEVNULL (-2)
#define STDIO_FD(fd) ((fd) >= 0 ? (fd) : JOB_DEVNULL)

static int job_spawn(struct svc *s, struct container *c, struct ctrbox_runc_argv *av, int in,
		     int out, int err, const char *op, struct ctrbox_ttrpc_call *call,
		     job_done_fn done, void *ctx)
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

static struct job *job_take(struct svc *s, pid_t pid)
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

static void job_complete(struct svc *s, struct job *j, int wstatus)
{
	char *err = NULL;
	int ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
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
	if (--j->c->njobs == 0 && j->c->dead)
		container_free(j->c);
	free(j);
	maybe_shutdown(s);
}

/* A runc that could not be started, worded as the Go shim's runtimeError words go-runc's exec
 * error: `exec: "no-runc": executable file not found in $PATH` (or fork/exec's errno) behind
 * the job's prefix and what the runtime log says. Into buf, which it returns. */
static const char *spawn_error(const struct container *c, const char *op, int r, char *buf,
			       size_t cap)
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
static int job_or_fail(struct svc *s, struct container *c, struct ctrbox_runc_argv *av,
		       const char *op, struct ctrbox_ttrpc_call *call, job_done_fn done, void *ctx)
{
	int r = job_spawn(s, c, av, -1, -1, -1, op, call, done, ctx);
	char msg[1024];

	if (r < 0)
		ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN, "%s",
					spawn_error(c, op, r, msg, sizeof(msg)));
	return r;
}

/* ---- process exits ---- */

static void reply_waiters(struct process *p)
{
	Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;

	set_ts(&ts, &p->exited_at);
	resp.exit_status = p->exit_status;
	resp.exited_at = &ts;
	while (p->waiters) {
		struct waiter *w = p->waiters;
		p->waiters = w->next;
		ctrbox_ttrpc_call_reply(w->call, &resp.base);
		free(w);
	}
}

/* The exit becomes visible: state, /tasks/exit, Wait replies. */
static void publish_exit(struct svc *s, struct process *p)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Timestamp ts;
	struct container *c = p->c;

	p->exit_pending = 0;
	p->state = P_STOPPED;
	set_ts(&ts, &p->exited_at);
	ev.container_id = c->id;
	ev.id = p->id;
	ev.pid = p->pid;
	ev.exit_status = p->exit_status;
	ev.exited_at = &ts;
	publish(s, CTRBOX_TOPIC_TASK_EXIT, &ev.base);
	reply_waiters(p);
	if (p->is_exec)
		exec_gone(s, c);
}

/* The init's exit goes out once no exec of its container is left to report (containerd
 * 2.x's order: the init's /tasks/exit is the container's last). */
static void init_exit_continue(struct svc *s, struct process *p)
{
	if (p->exit_pending && !p->killing_all && !p->starting && p->c->running_execs == 0)
		publish_exit(s, p);
}

/* An exec is counted out: its exit was published, or it never started. */
static void exec_gone(struct svc *s, struct container *c)
{
	if (c->running_execs > 0)
		c->running_execs--;
	init_exit_continue(s, &c->init);
}

static void killall_done(struct svc *s, struct job *j, int ok, const char *err)
{
	struct process *p = j->ctx;

	if (!ok)
		ctrbox_log_error("failed to kill init's children of %s: %s", p->c->id, err);
	p->killing_all = 0;
	init_exit_continue(s, p);
}

/* A process exited (and its start, if one was in flight, is done). Without its own pid
 * namespace the container's other processes outlive the init: runc kill --all runs to
 * completion first, as the Go shim's does, so that a client that saw the exit never finds
 * them (and never races its own kill against ours). */
static void finish_exit(struct svc *s, struct process *p)
{
	struct container *c = p->c;
	struct ctrbox_runc_argv av = {0};

	if (p->is_exec)
		return publish_exit(s, p);
	if (!c->has_pidns && ctrbox_runc_argv_kill(&c->rc, c->id, SIGKILL, 1, &av) == 0) {
		p->killing_all =
		    job_spawn(s, c, &av, -1, -1, -1, "kill --all", NULL, killall_done, p) == 0;
		if (!p->killing_all)
			ctrbox_log_error("failed to kill init's children of %s", c->id);
	}
	ctrbox_runc_argv_free(&av);
	init_exit_continue(s, p);
}

static void process_exited(struct svc *s, struct process *p, int status)
{
	if (p->state == P_STOPPED || p->state == P_DELETED || p->exit_pending)
		return;
	p->exit_status = status;
	p->exit_pending = 1;
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	ctrbox_log_debug("process %s pid %d exited with %d", p->id, p->pid, status);
	if (p->starting) { /* published after /tasks/start, by the start completion */
		p->exit_held = 1;
		return;
	}
	finish_exit(s, p);
}

static struct process *process_by_pid(struct svc *s, pid_t pid)
{
	for (struct container *c = s->containers; c; c = c->next) {
		if (c->init.pid == pid && c->init.state != P_DELETED)
			return &c->init;
		for (struct process *e = c->execs; e; e = e->next)
			if (e->pid == pid && e->state != P_DELETED)
				return e;
	}
	return NULL;
}

static void prune_early_exits(struct svc *s)
{
	uint64_t now = ctrbox_loop_now_ms();

	for (struct early_exit **pp = &s->early; *pp;) {
		if (now - (*pp)->when_ms > EARLY_EXIT_TTL_MS) {
			struct early_exit *e = *pp;
			*pp = e->next;
			s->nearly--;
			free(e);
		} else {
			pp = &(*pp)->next;
		}
	}
}

/* Keeps the status of a pid nobody owns yet (exit-before-start race). */
static void remember_exit(struct svc *s, pid_t pid, int status)
{
	struct early_exit *e;

	prune_early_exits(s);
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->pid = pid;
	e->status = status;
	e->when_ms = ctrbox_loop_now_ms();
	e->next = s->early;
	s->early = e;
	if (++s->nearly > EARLY_EXITS_MAX) { /* drop the oldest */
		struct early_exit **pp = &s->early;
		while ((*pp)->next)
			pp = &(*pp)->next;
		free(*pp);
		*pp = NULL;
		s->nearly--;
	}
}

/* A pid became known: if it already exited, apply that now. */
static void claim_early_exit(struct svc *s, struct process *p)
{
	prune_early_exits(s);
	for (struct early_exit **pp = &s->early; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == p->pid) {
			struct early_exit *e = *pp;
			*pp = e->next;
			s->nearly--;
			process_exited(s, p, e->status);
			free(e);
			return;
		}
	}
}

/* One reaped child: a runc job, a known process, or an exit nobody owns yet. */
static void child_exited(pid_t pid, int wstatus, void *data)
{
	struct svc *s = data;
	struct job *j = job_take(s, pid);
	struct process *p;

	if (j) {
		job_complete(s, j, wstatus);
	} else if ((p = process_by_pid(s, pid))) {
		process_exited(s, p, exit_code(wstatus));
	} else {
		remember_exit(s, pid, exit_code(wstatus));
	}
}

void runc_shim_sigchld(struct ctrbox_shim *sh, void *state)
{
	ctrbox_shim_reap(child_exited, state);
}

/* ---- containers ---- */

static void process_free_fields(struct svc *s, struct process *p)
{
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
	if (p->proc_file) {
		unlink(p->proc_file);
		free(p->proc_file);
	}
	free(p->spec);
	free(p->id);
	free(p->stdin_path);
	free(p->stdout_path);
	free(p->stderr_path);
}

static void container_free(struct container *c)
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

static void container_unlink(struct svc *s, struct container *c)
{
	for (struct container **pp = &s->containers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static int valid_id(const char *id)
{
	return ctrbox_valid_component(id) && strlen(id) <= 76;
}

static char *bundle_path(const struct container *c, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", c->bundle, name) < 0 ? NULL : p;
}

/* options.json as the Go shim writes it: snake_case field tags, empty fields omitted. */
static int write_options(const struct container *c, const Containerd__Runc__V1__Options *o)
{
	char *path = bundle_path(c, "options.json"), *doc = NULL;
	struct ctrbox_jsonw w;
	size_t n = 0;
	int r;

	ctrbox_jsonw_init(&w, NULL, 0);
	ctrbox_jsonw_object_begin(&w);
#define OPT_STR(name, v)                                                                           \
	if ((v) && *(v)) {                                                                         \
		ctrbox_jsonw_key(&w, name);                                                        \
		ctrbox_jsonw_string(&w, v);                                                        \
	}
#define OPT_TRUE(name, v)                                                                          \
	if (v) {                                                                                   \
		ctrbox_jsonw_key(&w, name);                                                        \
		ctrbox_jsonw_bool(&w, true);                                                       \
	}
#define OPT_UINT(name, v)                                                                          \
	if (v) {                                                                                   \
		ctrbox_jsonw_key(&w, name);                                                        \
		ctrbox_jsonw_uint(&w, v);                                                          \
	}
	if (o) {
		OPT_TRUE("no_pivot_root", o->no_pivot_root)
		OPT_TRUE("no_new_keyring", o->no_new_keyring)
		OPT_STR("shim_cgroup", o->shim_cgroup)
		OPT_UINT("io_uid", o->io_uid)
		OPT_UINT("io_gid", o->io_gid)
		OPT_STR("binary_name", o->binary_name)
		OPT_STR("root", o->root)
		OPT_STR("criu_path", o->criu_path)
		OPT_TRUE("systemd_cgroup", o->systemd_cgroup)
		OPT_STR("criu_image_path", o->criu_image_path)
		OPT_STR("criu_work_path", o->criu_work_path)
		OPT_STR("task_api_address", o->task_api_address)
		OPT_UINT("task_api_version", o->task_api_version)
	}
#undef OPT_STR
#undef OPT_TRUE
#undef OPT_UINT
	ctrbox_jsonw_object_end(&w);
	r = ctrbox_jsonw_finish(&w, &doc, &n);
	if (r == 0)
		r = path ? ctrbox_write_file(path, doc, n, 0600) : -ENOMEM;
	free(doc);
	free(path);
	if (r == 0 && (path = bundle_path(c, "runtime"))) {
		const char *bin = o && o->binary_name ? o->binary_name : "";
		r = ctrbox_write_file(path, bin, strlen(bin), 0600);
		free(path);
	}
	return r;
}

/* Does config.json give the container a private pid namespace? (Then the kernel kills the
 * rest when the init dies; otherwise the shim must.) Unreadable config counts as no. */
static int spec_has_pidns(const char *bundle)
{
	char path[4096], *buf = NULL;
	struct ctrbox_json j;
	int ns, found = 0;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (ctrbox_read_file(path, 16u << 20, &buf, NULL) < 0)
		return 0;
	if (ctrbox_json_parse(&j, buf, strlen(buf)) == 0) {
		ns = ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "linux"), "namespaces");
		for (int i = 0; ns >= 0 && i < ctrbox_json_array_len(&j, ns); i++) {
			int el = ctrbox_json_array_at(&j, ns, i);
			char *type = ctrbox_json_strdup(&j, ctrbox_json_get(&j, el, "type"));
			char *nspath = ctrbox_json_strdup(&j, ctrbox_json_get(&j, el, "path"));
			if (type && !strcmp(type, "pid") && (!nspath || !*nspath))
				found = 1;
			free(type);
			free(nspath);
		}
		ctrbox_json_free(&j);
	}
	free(buf);
	return found;
}

static int container_config(struct container *c, const CreateReq *req, char **err)
{
	const Containerd__Runc__V1__Options *o = NULL;
	Containerd__Runc__V1__Options *decoded = NULL;
	const char *root;
	int r;

	if (req->options && req->options->type_url && *req->options->type_url) {
		if (strcmp(req->options->type_url, OPTIONS_TYPE) != 0) {
			if (asprintf(err, "unsupported runtime options type %s",
				     req->options->type_url) < 0)
				*err = NULL;
			return -EINVAL;
		}
		decoded = containerd__runc__v1__options__unpack(NULL, req->options->value.len,
								req->options->value.data);
		if (!decoded) {
			if (asprintf(err, "cannot decode %s", OPTIONS_TYPE) < 0)
				*err = NULL;
			return -EINVAL;
		}
		o = decoded;
	}
	root = o && *o->root ? o->root : DEFAULT_RUNC_ROOT;
	if (asprintf(&c->runc_root, "%s/%s", root, c->svc->ns) < 0)
		c->runc_root = NULL;
	c->runc_log = bundle_path(c, "log.json");
	c->runc_binary = strdup(o && *o->binary_name ? o->binary_name : "");
	c->criu = strdup(o && *o->criu_path ? o->criu_path : "");
	if (o) {
		c->no_pivot = o->no_pivot_root;
		c->no_new_keyring = o->no_new_keyring;
		c->io_uid = o->io_uid;
		c->io_gid = o->io_gid;
		c->rc.systemd_cgroup = o->systemd_cgroup;
		if (*o->criu_work_path)
			c->criu_work = strdup(o->criu_work_path);
	}
	r = (!c->runc_root || !c->runc_log || !c->runc_binary || !c->criu) ? -ENOMEM
									   : write_options(c, o);
	c->rc.binary = c->runc_binary;
	c->rc.root = c->runc_root;
	c->rc.log = c->runc_log;
	c->rc.log_json = 1;
	c->rc.criu = *c->criu ? c->criu : NULL;
	if (decoded)
		containerd__runc__v1__options__free_unpacked(decoded, NULL);
	if (r < 0)
		if (asprintf(err, "write options: %s", strerror(-r)) < 0)
			*err = NULL;
	return r;
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
static void rootfs_unmount(struct svc *s, struct container *c,
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

/* The container leaves the service; its memory stays until its last runc job is done. */
static void container_release(struct svc *s, struct container *c)
{
	container_unlink(s, c);
	if (c->njobs > 0)
		c->dead = 1;
	else
		container_free(c);
	maybe_shutdown(s);
}

/* ---- Create ---- */

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

static void delete_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call,
			 int force);

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

static void create_h(struct ctrbox_ttrpc_call *call, const CreateReq *req, void *data)
{
	struct svc *s = data;
	struct container *c;
	char *err = NULL, *rootfs = NULL;
	struct stat st;
	int r;

	if (!valid_id(req->id))
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT,
						     "invalid container id %s", req->id);
	if (req->bundle[0] != '/' || stat(req->bundle, &st) < 0 || !S_ISDIR(st.st_mode))
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT,
						     "invalid bundle %s", req->bundle);
	if (find_any(s, req->id))
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_ALREADY_EXISTS,
						     "container %s: already exists", req->id);
	c = calloc(1, sizeof(*c));
	if (!c)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
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
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	}
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
	rootfs = bundle_path(c, "rootfs");
	if (req->n_rootfs > 0) {
		struct ctrbox_mount_spec *ms = calloc(req->n_rootfs, sizeof(*ms));
		if (!ms || !rootfs) {
			free(ms);
			goto oom;
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
		if (r < 0) {
			if (asprintf(&err, "failed to mount rootfs component: %s", strerror(-r)) <
			    0)
				err = NULL;
			goto fail;
		}
		c->rootfs_mounted = 1;
	}
	free(rootfs);
	rootfs = NULL;
	if (*req->checkpoint) {
		/* restore happens at Start (io too): remember where from, register as created */
		Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
		Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
		Containerd__Task__V2__CreateTaskResponse resp =
		    CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
		c->restore_from = strdup(req->checkpoint);
		c->parent_checkpoint =
		    *req->parent_checkpoint ? strdup(req->parent_checkpoint) : NULL;
		if (!c->restore_from)
			goto oom;
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
	free(rootfs);
}

/* ---- OOM events and Stats (cgroups) ---- */

static void publish_oom(struct svc *s, struct container *c)
{
	Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;

	ev.container_id = c->id;
	publish(s, CTRBOX_TOPIC_TASK_OOM, &ev.base);
}

static void oom_unwatch(struct container *c)
{
	ctrbox_loop_del(c->svc->loop, c->oom_fd);
	close_fd(&c->oom_fd);
}

/* v1: the eventfd fires on an OOM in the memory cgroup, and once more when it is removed. */
static void oom_v1_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct container *c = data;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n) || cgroup_v1_dir_gone(c->cg.memory) > 0) {
		oom_unwatch(c);
		return;
	}
	publish_oom(c->svc, c);
}

/* v2: memory.events changed; an OOM is an oom_kill count above the last one seen. */
static void oom_v2_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct container *c = data;
	char buf[4096];
	uint64_t kills = 0;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (cgroup_v2_oom_kills(c->cg.unified, &kills) < 0) {
		oom_unwatch(c);
		return;
	}
	if (kills > c->oom_kills)
		publish_oom(c->svc, c);
	c->oom_kills = kills;
}

static void oom_watch(struct svc *s, struct container *c)
{
	int v2 = c->cg.unified != NULL, fd;

	if (!c->have_cg || c->oom_fd >= 0 || (!v2 && !c->cg.memory))
		return;
	fd = v2 ? cgroup_v2_oom_watch(c->cg.unified) : cgroup_v1_oom_eventfd(c->cg.memory);
	if (fd < 0) {
		ctrbox_log_warn("%s: cannot watch for OOM: %s", c->id, strerror(-fd));
		return;
	}
	if (v2)
		cgroup_v2_oom_kills(c->cg.unified, &c->oom_kills);
	if (ctrbox_loop_add(s->loop, fd, EPOLLIN, v2 ? oom_v2_cb : oom_v1_cb, c) < 0) {
		close(fd);
		return;
	}
	c->oom_fd = fd;
}

static void stats_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__StatsRequest *req,
		    void *data)
{
	Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	struct process *p = lookup(data, call, req->id, NULL);
	ProtobufCMessage *metrics = NULL;
	struct container *c;
	int r;

	if (!p)
		return;
	c = p->c;
	if (!c->have_cg)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND,
						     "cgroup does not exist: not found");
	if (c->cg.unified) {
		r = cgroup_v2_metrics(c->cg.unified,
				      (Io__Containerd__Cgroups__V2__Metrics **)&metrics);
		any.type_url = "io.containerd.cgroups.v2.Metrics";
	} else {
		r = cgroup_v1_metrics(&c->cg, (Io__Containerd__Cgroups__V1__Metrics **)&metrics);
		any.type_url = "io.containerd.cgroups.v1.Metrics";
	}
	if (r < 0)
		return (void)ctrbox_ttrpc_call_error(
		    call, r == -ENOENT ? CTRBOX_NOT_FOUND : CTRBOX_UNKNOWN, "%s",
		    r == -ENOENT ? "cgroup deleted: not found" : strerror(-r));
	any.value.len = protobuf_c_message_get_packed_size(metrics);
	any.value.data = malloc(any.value.len ? any.value.len : 1);
	if (any.value.data) {
		protobuf_c_message_pack(metrics, any.value.data);
		resp.stats = &any;
		ctrbox_ttrpc_call_reply(call, &resp.base);
	} else {
		ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
	}
	free(any.value.data);
	if (c->cg.unified)
		cgroup_v2_metrics_free((Io__Containerd__Cgroups__V2__Metrics *)metrics);
	else
		cgroup_v1_metrics_free((Io__Containerd__Cgroups__V1__Metrics *)metrics);
}

/* ---- Start ---- */

static const char *const state_names[] = {"created", "running", "paused", "stopped", "deleted"};

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

static void exec_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call);
static void restore_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call);

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

/* ---- State, Wait, Connect ---- */

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

/* ---- Kill ---- */

static int contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
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

/* ---- Delete ---- */

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

void delete_continue(struct svc *s, struct process *p)
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

static void drain_timeout_cb(struct ctrbox_loop *l, void *data)
{
	struct process *p = data;

	p->drain_timer = NULL;
	ctrbox_log_warn("%s: stdio not drained after %u ms, deleting anyway", p->id,
			p->c->svc->drain_ms);
	delete_continue(p->c->svc, p);
}

static void delete_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__DeleteRequest *req,
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

static void delete_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call,
			 int force)
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
	/* Give the copiers up to 2 s to move what the process wrote before it exited. */
	if (p->state == P_STOPPED && p->ncopies > 0) {
		/* stdin never ends by itself: the process is gone, stop feeding it */
		if (p->copies[0]) {
			ctrbox_io_copy_stop(p->copies[0]);
			p->copies[0] = NULL;
			if (--p->ncopies == 0)
				return delete_continue(s, p);
		}
		p->drain_timer = ctrbox_loop_timer_in(s->loop, s->drain_ms, drain_timeout_cb, p);
		if (p->drain_timer)
			return;
	}
	delete_continue(s, p);
}

/* ---- Pids ---- */

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

/* ---- CloseIO, Shutdown ---- */

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

/* Shutdown waits for the Creates in flight (the Go shim's Create holds the lock Shutdown
 * takes) and, with no container left, for the last runc child: the shim never exits from
 * under a runc that is still changing the host. Then, without containers, it exits. */
static void maybe_shutdown(struct svc *s)
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

/* ---- Exec ---- */

/* The exec's Process JSON with "terminal" set from the request, as the Go shim overrides it. */
static char *spec_with_terminal(const char *json, size_t len, int terminal, size_t *outlen)
{
	const char *val = terminal ? "true" : "false";
	struct ctrbox_json j;
	char *out = NULL;
	int t;

	if (ctrbox_json_parse(&j, json, len) < 0 || !ctrbox_json_is_object(&j, 0)) {
		if (j.toks)
			ctrbox_json_free(&j);
		return NULL;
	}
	t = ctrbox_json_get(&j, 0, "terminal");
	if (t >= 0) { /* replace the value in place */
		size_t a = j.toks[t].start, b = j.toks[t].end;
		/* json is the request's bytes, not NUL-terminated: bounded %.*s everywhere */
		if (asprintf(&out, "%.*s%s%.*s", (int)a, json, val, (int)(len - b), json + b) < 0)
			out = NULL;
	} else { /* insert it as the first member */
		size_t a = j.toks[0].start + 1;
		int empty = j.toks[0].size == 0;
		if (asprintf(&out, "%.*s\"terminal\":%s%s%.*s", (int)a, json, val, empty ? "" : ",",
			     (int)(len - a), json + a) < 0)
			out = NULL;
	}
	ctrbox_json_free(&j);
	if (out)
		*outlen = strlen(out);
	return out;
}

static void exec_h(struct ctrbox_ttrpc_call *call,
		   const Containerd__Task__V2__ExecProcessRequest *req, void *data)
{
	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
	struct svc *s = data;
	struct container *c = find_container(s, req->id);
	struct process *p;

	if (!c)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND,
						     "container not created: not found");
	if (!valid_id(req->exec_id))
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT,
						     "invalid exec id %s", req->exec_id);
	if (find_exec(c, req->exec_id))
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_ALREADY_EXISTS,
						     "id %s: already exists", req->exec_id);
	if (c->init.state != P_CREATED && c->init.state != P_RUNNING)
		return (void)ctrbox_ttrpc_call_error(
		    call, CTRBOX_UNKNOWN, "cannot exec in a %s state", state_names[c->init.state]);
	if (!req->spec || !req->spec->value.len)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_INVALID_ARGUMENT,
						     "exec %s: no process spec", req->exec_id);
	p = calloc(1, sizeof(*p));
	if (!p)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED,
						     "out of memory");
	process_init(p, c, req->exec_id);
	p->is_exec = 1;
	p->terminal = req->terminal;
	p->stdin_path = strdup(req->stdin);
	p->stdout_path = strdup(req->stdout);
	p->stderr_path = strdup(req->stderr);
	p->spec = spec_with_terminal((const char *)req->spec->value.data, req->spec->value.len,
				     req->terminal, &p->spec_len);
	if (!p->id || !p->stdin_path || !p->stdout_path || !p->stderr_path || !p->spec) {
		int bad_spec = p->id && p->stdin_path && p->stdout_path && p->stderr_path;
		process_free_fields(s, p);
		free(p);
		return (void)ctrbox_ttrpc_call_error(
		    call, bad_spec ? CTRBOX_INVALID_ARGUMENT : CTRBOX_RESOURCE_EXHAUSTED,
		    bad_spec ? "exec process spec is not a JSON object" : "out of memory");
	}
	p->next = c->execs;
	c->execs = p;
	ev.container_id = c->id;
	ev.exec_id = p->id;
	publish(s, CTRBOX_TOPIC_TASK_EXEC_ADDED, &ev.base);
	ctrbox_ttrpc_call_reply(call, NULL);
}

/* Our writer on the stdin fifo, from Start on; without it the input ends with its client's. */
static void stdin_start(struct svc *s, struct process *p)
{
	int r = io_stdin_hold(p);

	if (r < 0)
		ctrbox_log_warn("%s: cannot hold stdin %s open: %s", p->id, p->stdin_path,
				strerror(-r));
}

/* runc exec/restore is done: the process's io flows, it runs. */
static void process_running(struct svc *s, struct process *p)
{
	io_start(s, p);
	stdin_start(s, p);
	p->state = P_RUNNING;
}

/* After the start event: an exit that came meanwhile (held, or reaped before its pid was known)
 * is published now. */
static void exit_after_start(struct svc *s, struct process *p)
{
	if (p->exit_held)
		finish_exit(s, p);
	else
		claim_early_exit(s, p);
}

static void exec_start_failed(struct svc *s, struct process *p, const char *err)
{
	struct ctrbox_ttrpc_call *call = p->start_call;

	p->start_call = NULL;
	p->starting = 0;
	/* As the Go shim's exec: it stays created (no exit, no state change: TestIssue10589), but
	 * its Wait returns. */
	io_close(p);
	p->start_failed = 1;
	reply_waiters(p);
	ctrbox_ttrpc_call_error(call, CTRBOX_UNKNOWN, "%s", err);
	exec_gone(s, p->c);
}

/* runc exec is done and the console (if any) taken: the exec runs. */
static void exec_started(struct svc *s, struct process *p, int r)
{
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
	struct ctrbox_ttrpc_call *call = p->start_call;

	if (r < 0)
		return exec_start_failed(s, p, "failed to retrieve console master");
	p->start_call = NULL;
	p->starting = 0;
	process_running(s, p);
	ev.container_id = p->c->id;
	ev.exec_id = p->id;
	ev.pid = p->pid;
	publish(s, CTRBOX_TOPIC_TASK_EXEC_STARTED, &ev.base);
	resp.pid = p->pid;
	ctrbox_ttrpc_call_reply(call, &resp.base);
	exit_after_start(s, p);
}

static void exec_start_done(struct svc *s, struct job *j, int ok, const char *err)
{
	struct process *p = j->ctx;
	char *pidfile = NULL, *buf = NULL;

	unlink(p->proc_file);
	free(p->proc_file);
	p->proc_file = NULL;
	if (ok && (asprintf(&pidfile, "%s/%s.pid", p->c->bundle, p->id) < 0 ||
		   ctrbox_read_file(pidfile, 64, &buf, NULL) < 0 || (p->pid = atoi(buf)) <= 0)) {
		ok = 0;
		err = "read exec pid file after runc exec";
	}
	free(pidfile);
	free(buf);
	if (!ok)
		return exec_start_failed(s, p, err);
	if (p->terminal)
		return console_receive(s, p, exec_started);
	exec_started(s, p, 0);
}

/* The exec never reached runc: it stays created, its Start fails. */
static void exec_not_started(struct svc *s, struct process *p, int code, const char *msg)
{
	struct ctrbox_ttrpc_call *call = p->start_call;

	io_close(p);
	p->start_call = NULL;
	p->starting = 0;
	ctrbox_ttrpc_call_error(call, code, "%s", msg);
	exec_gone(s, p->c);
}

/* The exec's io is ready (a binary:// logger signalled): runc exec. */
static void exec_spawn(struct svc *s, struct process *p, int r)
{
	struct ctrbox_runc_exec_opts eo = {0};
	struct ctrbox_runc_argv av = {0};
	char *pidfile = NULL, *console = NULL, msg[256];
	int fd;

	if (r < 0) {
		snprintf(msg, sizeof(msg), "failed to create exec io: logging binary not ready: %s",
			 r == -ETIMEDOUT ? "no ready signal within 30 s" : strerror(-r));
		return exec_not_started(s, p, CTRBOX_UNKNOWN, msg);
	}
	if (asprintf(&p->proc_file, "%s/runc-processXXXXXX", tmp_dir()) < 0) {
		p->proc_file = NULL;
		return exec_not_started(s, p, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
	}
	fd = mkostemp(p->proc_file, O_CLOEXEC);
	if (fd < 0 || ctrbox_write_all(fd, p->spec, p->spec_len) < 0) {
		snprintf(msg, sizeof(msg), "write exec process spec: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(p->proc_file);
		free(p->proc_file);
		p->proc_file = NULL;
		return exec_not_started(s, p, CTRBOX_UNKNOWN, msg);
	}
	close(fd);
	if (asprintf(&pidfile, "%s/%s.pid", p->c->bundle, p->id) < 0)
		pidfile = NULL;
	eo.process = p->proc_file;
	eo.pid_file = pidfile;
	if (p->terminal && asprintf(&console, "%s/pty.sock", p->console_dir) >= 0)
		eo.console_socket = console;
	eo.detach = true;
	if (!pidfile || ctrbox_runc_argv_exec(&p->c->rc, p->c->id, &eo, &av) < 0)
		r = -ENOMEM;
	else
		r = job_spawn(s, p->c, &av, p->runc_fds[0], STDIO_FD(p->runc_fds[1]),
			      STDIO_FD(p->runc_fds[2]), "OCI runtime exec failed", NULL,
			      exec_start_done, p);
	ctrbox_runc_argv_free(&av);
	free(pidfile);
	free(console);
	if (r == -ENOMEM)
		return exec_not_started(s, p, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
	if (r < 0) {
		exec_not_started(s, p, CTRBOX_UNKNOWN,
				 spawn_error(p->c, "OCI runtime exec failed", r, msg, sizeof(msg)));
	}
}

static void exec_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call)
{
	char msg[1024];
	int r;

	/* Once the init has exited no exec starts: its exit waits for theirs (containerd 2.x). */
	if (p->c->init.exit_pending || p->c->init.state == P_STOPPED ||
	    p->c->init.state == P_DELETED)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_FAILED_PRECONDITION,
						     "container %s init process is not running: "
						     "failed precondition",
						     p->c->id);
	/* starting from here: the init's exit waits for this exec, a second Start is refused */
	p->starting = 1;
	p->start_failed = 0;
	p->start_call = call;
	p->c->running_execs++;
	r = io_prepare(p);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "failed to create exec io: %s", strerror(-r));
		return exec_not_started(s, p, CTRBOX_UNKNOWN, msg);
	}
	io_when_ready(s, p, exec_spawn);
}

/* ---- Checkpoint and restore (runc + CRIU) ---- */

static void restore_not_started(struct process *p, int code, const char *msg);

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
	if (p->terminal)
		return console_receive(s, p, restore_started);
	restore_started(s, p, 0);
}

/* The restore never reached runc: the task stays created, its Start fails. */
static void restore_not_started(struct process *p, int code, const char *msg)
{
	struct ctrbox_ttrpc_call *call = p->start_call;

	io_close(p);
	p->start_call = NULL;
	p->starting = 0;
	ctrbox_ttrpc_call_error(call, code, "%s", msg);
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

static void restore_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call)
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

static void checkpoint_h(struct ctrbox_ttrpc_call *call,
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

/* ---- ResizePty ---- */

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

/* ---- Pause, Resume, Update ---- */

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
	while (s->jobs) { /* runc children still running: they are ours to stop */
		struct job *j = s->jobs;
		s->jobs = j->next;
		kill(j->pid, SIGKILL);
		close(j->outfd);
		free(j->op);
		free(j);
	}
	while (s->early) {
		struct early_exit *e = s->early;
		s->early = e->next;
		free(e);
	}
	while (s->shutdowns) {
		struct waiter *w = s->shutdowns;
		s->shutdowns = w->next;
		ctrbox_ttrpc_call_reply(w->call, NULL);
		free(w);
	}
	free(s);
}
