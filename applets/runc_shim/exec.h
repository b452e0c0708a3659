/* containerd-shim-runc-v2: Exec, and the Start of an exec. */
#ifndef CTRBOX_RUNC_SHIM_EXEC_H
#define CTRBOX_RUNC_SHIM_EXEC_H

#include <ctrbox/task.h>
#include "runc_shim.h"

/* Exec: adds a created exec process to the container (runc exec runs at its Start). */
void exec_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__ExecProcessRequest *req,
	    void *data);
/* Start of an exec: its io, runc exec; answers the call. */
void exec_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call);

#endif
