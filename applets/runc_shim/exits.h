/* containerd-shim-runc-v2: process exits, Wait's waiters, the reaper (the process monitor). */
#ifndef CTRBOX_RUNC_SHIM_EXITS_H
#define CTRBOX_RUNC_SHIM_EXITS_H

#include "runc_shim.h"

/* Answers p's Wait calls with its exit status and time. */
void reply_waiters(struct process *p);
/* An exec is counted out: its exit was published, or it never started. */
void exec_gone(struct svc *s, struct container *c);
/* A process exited (and its start, if one was in flight, is done): its exit goes out, for an
 * init after runc kill --all (no pid namespace) and after its execs' exits. */
void finish_exit(struct svc *s, struct process *p);
/* p's pid was just read from its pid file: its exit is watched from now on; one that came
 * before is kept in p for claim_early_exit. */
void process_watch(struct svc *s, struct process *p);
/* Where p's exit may first be published: an exit it had before its pid was known, now. */
void claim_early_exit(struct svc *s, struct process *p);
/* After the start event: an exit that came meanwhile (held, or reaped before its pid was known)
 * is published now. */
void exit_after_start(struct svc *s, struct process *p);
/* At shim exit: frees the monitor (the exits nobody claimed with it). */
void exits_fini(struct svc *s);

#endif
