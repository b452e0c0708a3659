/* containerd-shim-runc-v2: OOM events and Stats, from the container's cgroups (cgroup.c). */
#ifndef CTRBOX_RUNC_SHIM_STATS_H
#define CTRBOX_RUNC_SHIM_STATS_H

#include <ctrbox/task.h>
#include "runc_shim.h"

/* From Start on: publishes /tasks/oom on each OOM in c's memory cgroup (v1 or v2). */
void oom_watch(struct svc *s, struct container *c);
/* Stats: the cgroup metrics of the container, as an Any. */
void stats_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__StatsRequest *req,
	     void *data);

#endif
