/* containerd-shim-runc-v2: Exec, and an exec's Start -- its io, runc exec, its console. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ctrbox/json.h>
#include <ctrbox/util.h>
#include "bundle.h"
#include "exec.h"
#include "exits.h"
#include "io.h"
#include "jobs.h"
#include "model.h"

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

void exec_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__ExecProcessRequest *req,
	    void *data)
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

	proc_file_drop(p);
	if (ok && (asprintf(&pidfile, "%s/%s.pid", p->c->bundle, p->id) < 0 ||
		   ctrbox_read_file(pidfile, 64, &buf, NULL) < 0 || (p->pid = atoi(buf)) <= 0)) {
		ok = 0;
		err = "read exec pid file after runc exec";
	}
	free(pidfile);
	free(buf);
	if (!ok)
		return exec_start_failed(s, p, err);
	process_watch(s, p);
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
	/* The spec in a memfd that runc opens as /proc/<shim>/fd/N (the Go shim writes a temp
	 * file): no file to create and remove on the tmp dir's filesystem for every exec. */
	fd = memfd_create("runc-process", MFD_CLOEXEC);
	if (fd < 0 || ctrbox_write_all(fd, p->spec, p->spec_len) < 0) {
		snprintf(msg, sizeof(msg), "write exec process spec: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return exec_not_started(s, p, CTRBOX_UNKNOWN, msg);
	}
	p->proc_fd = fd;
	if (asprintf(&p->proc_file, "/proc/%d/fd/%d", (int)getpid(), fd) < 0) {
		p->proc_file = NULL;
		proc_file_drop(p);
		return exec_not_started(s, p, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
	}
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

void exec_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call)
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
