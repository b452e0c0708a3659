/* containerd-shim-runc-v2: Delete. */
#ifndef CTRBOX_RUNC_SHIM_DELETE_H
#define CTRBOX_RUNC_SHIM_DELETE_H

#include <ctrbox/task.h>
#include "runc_shim.h"

/* Delete; one that meets the Create in flight waits for it. */
void delete_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__DeleteRequest *req,
	      void *data);
/* Deletes p and answers call: after the copiers drained, runc delete (--force if force) for an
 * init, the rootfs, the event. */
void delete_start(struct svc *s, struct process *p, struct ctrbox_ttrpc_call *call, int force);

#endif
