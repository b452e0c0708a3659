/* Snapshot store of ctrbox-snapshotter: SQLite metadata (WAL, one transaction per mutation) and
 * the on-disk layout <root>/snapshots/<id>/{fs,work}, derived from ids, never from keys.
 *
 * Every function returns 0 (gRPC OK) or a gRPC status code (3 InvalidArgument, 5 NotFound,
 * 6 AlreadyExists, 9 FailedPrecondition, 13 Internal, ...) with *err set to a malloc'd message
 * in containerd's words (the caller frees it). The store is single-threaded. */
#ifndef CTRBOX_SNAPSHOTTER_STORE_H
#define CTRBOX_SNAPSHOTTER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <ctrbox/snapshots.h>

enum snap_backend { SNAP_OVERLAYFS = 0, SNAP_NATIVE = 1 };

/* Longest key or name accepted (bytes); longer ones, and empty ones, are InvalidArgument. */
#define SNAP_MAX_KEY 4096
/* Most labels per snapshot, and the longest label key/value (containerd's own limits: 4096 B
 * per label key+value). */
#define SNAP_MAX_LABEL 4096

struct store;

/* Opens (creating) root, root/metadata.db and root/snapshots (all 0700). */
int store_open(const char *root, enum snap_backend backend, struct store **out, char **err);
void store_close(struct store *s);
/* The backend to use when the caller does not choose: overlayfs if the kernel has it and root's
 * filesystem can be an upper dir, else native. */
enum snap_backend store_default_backend(const char *root);
const char *store_backend_name(enum snap_backend b);

/* Prepare (readonly 0) or View (readonly 1). labels may be NULL when nlabels is 0. */
int store_prepare(struct store *s, const char *key, const char *parent,
		  const struct ctrbox_snapshot_label *labels, size_t nlabels, int readonly,
		  struct ctrbox_snapshot_mount **mounts, size_t *nmounts, char **err);
int store_mounts(struct store *s, const char *key, struct ctrbox_snapshot_mount **mounts,
		 size_t *nmounts, char **err);
int store_commit(struct store *s, const char *name, const char *key,
		 const struct ctrbox_snapshot_label *labels, size_t nlabels, char **err);
int store_remove(struct store *s, const char *key, char **err);
int store_stat(struct store *s, const char *key, struct ctrbox_snapshot_info *out, char **err);
/* Only labels are mutable. paths: "labels" (replace all) or "labels.<k>" (set or delete one);
 * npaths 0 = replace all labels; anything else InvalidArgument. out gets the updated info. */
int store_update(struct store *s, const struct ctrbox_snapshot_info *in, const char *const *paths,
		 size_t npaths, struct ctrbox_snapshot_info *out, char **err);
/* Calls fn for every snapshot (any order); a non-zero return from fn stops the walk and is
 * returned. */
int store_walk(struct store *s, int (*fn)(const struct ctrbox_snapshot_info *info, void *data),
	       void *data, char **err);
/* Bytes and inodes used: active = its fs dir measured now; committed = measured at commit; view
 * = 0/0 (containerd measures only actives live). */
int store_usage(struct store *s, const char *key, int64_t *size, int64_t *inodes, char **err);
/* Removes every directory under root/snapshots that metadata does not name (orphans of a crash
 * or of a remove interrupted before the directory was gone). *removed (may be NULL) counts
 * them. */
int store_cleanup(struct store *s, unsigned *removed, char **err);

#endif
