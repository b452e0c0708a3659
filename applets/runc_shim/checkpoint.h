/* containerd-shim-runc-v2: Checkpoint and restore (runc + CRIU). */
#ifndef CTRBOX_RUNC_SHIM_CHECKPOINT_H
#define CTRBOX_RUNC_SHIM_CHECKPOINT_H

#include <ctrbox/task.h>
#include "runc_shim.h"

/* Start of a container created from a checkpoint: runc restore; answers the call. */
void restore_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call);
/* Checkpoint: runc checkpoint into req->path. */
void checkpoint_h(struct ctrbox_ttrpc_call *call,
		  const Containerd__Task__V2__CheckpointTaskRequest *req, void *data);

#endif
