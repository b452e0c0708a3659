/* containerd-shim-runc-v2: Create. */
#ifndef CTRBOX_RUNC_SHIM_CREATE_H
#define CTRBOX_RUNC_SHIM_CREATE_H

#include "bundle.h"

/* Create: the rootfs, the io, runc create (or, from a checkpoint, nothing until Start). */
void create_h(struct ctrbox_ttrpc_call *call, const CreateReq *req, void *data);

#endif
