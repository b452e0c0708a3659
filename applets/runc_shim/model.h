/* containerd-shim-runc-v2: the container and process model: lookup, lifetime, events. */
#ifndef CTRBOX_RUNC_SHIM_MODEL_H
#define CTRBOX_RUNC_SHIM_MODEL_H

#include <ctrbox/task.h>
#include "runc_shim.h"

/* The names of enum pstate, as the Go shim's errors say them ("cannot start a running ..."). */
extern const char *const state_names[];

/* t as a protobuf Timestamp; zero is Go's zero time, which containerd's shim encodes for "not
 * exited". */
void set_ts(Google__Protobuf__Timestamp *ts, const struct timespec *t);
/* Any container by id, one still being created included. */
struct container *find_any(struct svc *s, const char *id);
/* A created container: until runc create has returned, it does not exist for requests. */
struct container *find_container(struct svc *s, const char *id);
/* An exec of c by its id, or NULL. */
struct process *find_exec(struct container *c, const char *exec_id);
/* The process a request names (the init for an empty exec_id), or NULL after answering the
 * call with NOT_FOUND. */
struct process *lookup(struct svc *s, struct ctrbox_ttrpc_call *call, const char *id,
		       const char *exec_id);
/* Publishes a task event (an error is only logged). */
void publish(struct svc *s, const char *topic, const ProtobufCMessage *ev);
/* Frees what p holds (io, logger, timers, paths); its waiters get UNAVAILABLE. Not p itself. */
void process_free_fields(struct svc *s, struct process *p);
/* Closes an exec's spec memfd and frees its path, if it has them (runc exec is done). */
void proc_file_drop(struct process *p);
/* Cancels the watch on p's pid, if p has one (deleted or freed: its exit is nobody's then). */
void process_unwatch(struct svc *s, struct process *p);
/* Frees c, its execs and all they hold. */
void container_free(struct container *c);
/* Takes c off the service's list. */
void container_unlink(struct svc *s, struct container *c);
/* Unmounts the rootfs if we mounted it, a busy mount retried from a timer; then done. */
void rootfs_unmount(struct svc *s, struct container *c,
		    void (*done)(struct svc *s, struct container *c, int r));
/* The container leaves the service; its memory stays until its last runc job is done. */
void container_release(struct svc *s, struct container *c);
/* Answers the held Shutdowns once no Create and no last runc job is in flight; without
 * containers the shim then exits. */
void maybe_shutdown(struct svc *s);
/* Our writer on the stdin fifo, from Start on; without it the input ends with its client's. */
void stdin_start(struct svc *s, struct process *p);
/* runc exec/restore is done: the process's io flows, it runs. */
void process_running(struct svc *s, struct process *p);

#endif
