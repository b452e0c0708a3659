/* Flag helpers shared by ctr's image, container and run commands: see cmdopts.h. */
#include "ctr/cmdopts.h"

#include <stdlib.h>

const char *ctr_snapshotter_arg(const struct ctr_args *a)
{
	const char *sn = ctr_str(a, "snapshotter");
	if (!sn || !*sn)
		sn = getenv("CONTAINERD_SNAPSHOTTER");
	return sn && *sn ? sn : NULL;
}
