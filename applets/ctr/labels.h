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

#endif
