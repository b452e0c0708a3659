/* containerd-shim-runc-v2: process exits -- the reaper, the early-exit cache, /tasks/exit and
 * the waiters. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <ctrbox/log.h>
#include "exits.h"
#include "jobs.h"
#include "model.h"

#define EARLY_EXITS_MAX 1024
/* An unmatched exit only matters until its pid file is read (milliseconds); past this it could
 * only match a reused pid. */
#define EARLY_EXIT_TTL_MS 10000

static int exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

void reply_waiters(struct process *p)
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
void exec_gone(struct svc *s, struct container *c)
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
void finish_exit(struct svc *s, struct process *p)
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
void claim_early_exit(struct svc *s, struct process *p)
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
		struct container *c = j->c;
		if (job_complete(s, j, wstatus))
			container_free(c);
		maybe_shutdown(s);
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

/* After the start event: an exit that came meanwhile (held, or reaped before its pid was known)
 * is published now. */
void exit_after_start(struct svc *s, struct process *p)
{
	if (p->exit_held)
		finish_exit(s, p);
	else
		claim_early_exit(s, p);
}

void exits_fini(struct svc *s)
{
	while (s->early) {
		struct early_exit *e = s->early;
		s->early = e->next;
		free(e);
	}
}
