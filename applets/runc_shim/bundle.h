/* containerd-shim-runc-v2: ids, the bundle's files, the runtime options of a Create. */
#ifndef CTRBOX_RUNC_SHIM_BUNDLE_H
#define CTRBOX_RUNC_SHIM_BUNDLE_H

#include <ctrbox/task.h>
#include "runc_shim.h"

typedef Containerd__Task__V2__CreateTaskRequest CreateReq;

/* A container or exec id containerd's shim accepts: a path component of at most 76 bytes. */
int valid_id(const char *id);
/* bundle/name, malloc'd (NULL when out of memory). */
char *bundle_path(const struct container *c, const char *name);
/* Does config.json give the container a private pid namespace? (Then the kernel kills the
 * rest when the init dies; otherwise the shim must.) Unreadable config counts as no. */
int spec_has_pidns(const char *bundle);
/* The Create's runtime options into c (runc binary, root, log, criu, ...) and into the bundle's
 * options.json and runtime files. 0, or -errno with *err a malloc'd message (or NULL). */
int container_config(struct container *c, const CreateReq *req, char **err);

#endif
