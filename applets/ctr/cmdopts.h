/* Flag helpers shared by ctr's image, container and run commands. */
#ifndef CTR_CMDOPTS_H
#define CTR_CMDOPTS_H

#include "ctr/ctr.h"

/* --snapshotter, else $CONTAINERD_SNAPSHOTTER; NULL when neither is set (or both are empty):
 * the namespace's default then. The string belongs to a (or to the environment). */
const char *ctr_snapshotter_arg(const struct ctr_args *a);

#endif
