/* The KEY[=VALUE] arguments of ctr's `label` commands (images, containers, snapshots). */
#ifndef CTR_LABELS_H
#define CTR_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshots/v1/snapshots.pb-c.h"

/* one key: its value (the last one given, pointing into the argument) and that argument's index */
struct ctr_label {
	char *key;
	const char *value;
	size_t last;
};

/* the labels of one command line, a key once each, in the order of its first appearance */
struct ctr_labels {
	struct ctr_label *v;
	size_t n;
	char **paths; /* the update mask: one path per key, "labels.KEY" (or "labels") */
	size_t npaths;
};

/* Parses args[0..nargs) ("KEY=VALUE", or "KEY" for KEY=true) into *l; replace_all makes every
 * path "labels". Returns 0, or -1 (out of memory, l freed). Free l with ctr_labels_free. */
int ctr_labels_parse(struct ctr_labels *l, char *const *args, size_t nargs, bool replace_all);

/* Frees what ctr_labels_parse allocated; the values point into the arguments. */
void ctr_labels_free(struct ctr_labels *l);

/* the labels of a Snapshots.Prepare request (--snapshotter-label), one entry per argument */
struct ctr_snap_labels {
	Containerd__Services__Snapshots__V1__PrepareSnapshotRequest__LabelsEntry *e, **p;
	size_t n;
};

/* Fills *l from args[0..nargs) ("KEY=VALUE", or "KEY" for KEY=true, as ctr's LabelArgs); the
 * values point into the arguments. Returns 0, or -1 (out of memory, l empty). Free l with
 * ctr_snap_labels_free. */
int ctr_snap_labels(struct ctr_snap_labels *l, char *const *args, size_t nargs);

/* Frees what ctr_snap_labels allocated. */
void ctr_snap_labels_free(struct ctr_snap_labels *l);

struct ctr;
struct ctr_args;
struct ctr_image;
/* Snapshots.Prepare of a container's rootfs (key id) on the image's top layer, with the
 * command's --snapshotter-label labels, for run and containers create. errdefs: a failure is
 * printed in containerd's errdefs form (cx_rpc) rather than ctr_rpc's. 0 with *prep, or 1
 * (printed). */
int ctr_rootfs_prepare(struct ctr *c, const struct ctr_args *a, const char *snapshotter,
		       const char *id, const struct ctr_image *img, int errdefs,
		       ProtobufCMessage **prep);

#endif
