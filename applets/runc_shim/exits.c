/* containerd-shim-runc-v2: process exits -- the reaper (libctrbox's process monitor, which
 * also keeps the exits nobody watches yet), /tasks/exit and the waiters. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <ctrbox/log.h>
#include <ctrbox/monitor.h>
#include "exits.h"
#include "jobs.h"
#include "model.h"

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

static void process_exit_cb(pid_t pid, int wstatus, void *data)
{
	struct process *p = data;
	(void)pid;

	p->watched = 0;
	process_exited(p->c->svc, p, exit_code(wstatus));
}

/* p's pid was just read from its pid file: its exit comes to it from now on. One that came
 * before (reaped while nobody knew the pid, kept by the monitor) waits in p for
 * claim_early_exit, at the point where it may be published. */
void process_watch(struct svc *s, struct process *p)
{
	int wstatus, r;

	if (p->watched) /* a new pid (restore): the old one's exit is no longer p's */
		process_unwatch(s, p);
	if (ctrbox_monitor_claim(s->mon, p->pid, &wstatus)) {
		p->early_exit = 1;
		p->early_wstatus = wstatus;
		return;
	}
	r = ctrbox_monitor_watch(s->mon, p->pid, process_exit_cb, p);
	if (r == 0)
		p->watched = 1;
	else
		ctrbox_log_error("cannot watch pid %d of %s: %s", p->pid, p->id, strerror(-r));
}

/* The exit p had before its pid was known, if any, is applied now. */
void claim_early_exit(struct svc *s, struct process *p)
{
	if (p->early_exit) {
		p->early_exit = 0;
		process_exited(s, p, exit_code(p->early_wstatus));
	}
}

void runc_shim_sigchld(struct ctrbox_shim *sh, void *state)
{
	struct svc *s = state;
	(void)sh;

	ctrbox_monitor_reap(s->mon);
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
	ctrbox_monitor_free(s->mon);
	s->mon = NULL;
}
