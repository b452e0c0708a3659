/* ctrbox-ctr: container records shared by `ctr run`, `ctr containers` and `ctr tasks`
 * (client.LoadContainer, client.NewContainer's record, container.Delete). */
#ifndef CTRBOX_CTR_CONTAINER_H
#define CTRBOX_CTR_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "containers/v1/containers.pb-c.h"
#include "ctr/ctr.h"

#define CTR_RUNC_RUNTIME "io.containerd.runc.v2"

/* ctr's SnapshotterFlags + ContainerFlags, the flags `run` and `containers create` share. */
/* clang-format off */
#define CTR_CONTAINER_FLAGS \
	{"snapshotter", CF_STR, NULL}, \
	{"snapshotter-label", CF_MULTI, NULL}, \
	{"config,c", CF_STR, NULL}, \
	{"cwd", CF_STR, NULL}, \
	{"env", CF_MULTI, NULL}, \
	{"env-file", CF_STR, NULL}, \
	{"label", CF_MULTI, NULL}, \
	{"annotation", CF_MULTI, NULL}, \
	{"mount", CF_MULTI, NULL}, \
	{"net-host", CF_BOOL, NULL}, \
	{"privileged", CF_BOOL, NULL}, \
	{"read-only", CF_BOOL, NULL}, \
	{"runtime", CF_STR, CTR_RUNC_RUNTIME}, \
	{"runtime-config-path", CF_STR, NULL}, \
	{"tty,t", CF_BOOL, NULL}, \
	{"with-ns", CF_MULTI, NULL}, \
	{"pid-file", CF_STR, NULL}, \
	{"gpus", CF_MULTI, NULL}, \
	{"allow-new-privs", CF_BOOL, NULL}, \
	{"memory-limit", CF_STR, NULL}, \
	{"device", CF_MULTI, NULL}, \
	{"cap-add", CF_MULTI, NULL}, \
	{"cap-drop", CF_MULTI, NULL}, \
	{"seccomp", CF_BOOL, NULL}, \
	{"seccomp-profile", CF_STR, NULL}, \
	{"apparmor-default-profile", CF_STR, NULL}, \
	{"apparmor-profile", CF_STR, NULL}, \
	{"rdt-class", CF_STR, NULL}
/* clang-format on */

/* A container's labels (the last value of a key wins). */
struct ctr_clabels {
	Containerd__Services__Containers__V1__Container__LabelsEntry **v;
	size_t n;
};
void ctr_clabel_set(struct ctr_clabels *l, const char *k, const char *v);
void ctr_clabels_free(struct ctr_clabels *l);

/* A task status as Go prints containerd.ProcessStatus ("running"), upper-cased if upper. */
const char *ctr_task_status(int status, int upper);

/* Containers.Get (client.LoadContainer): 0, or the gRPC code with *err (malloc'd) in errdefs
 * form. resp may be NULL to drop the reply. */
int ctr_container_get(struct ctr *c, const char *id, ProtobufCMessage **resp, char **err);

/* container.Delete (the task is the caller's business): with the snapshot cleanup unless
 * keep_snapshot (its NotFound ignored), then Containers.Delete. 0, or 1 with *err set. */
int ctr_container_delete(struct ctr *c, const char *id, const char *snapshotter, const char *key,
			 int keep_snapshot, char **err);

/* The record client.NewContainer creates for `ctr run` and `ctr containers create`: labels
 * from the image config, then the --label args, then the stop-signal label; the runtime (runc
 * options, with binary_name = runc_binary when set, for io.containerd.runc.v2); the spec JSON;
 * the rootfs snapshot key = id. Strings are borrowed, not copied. */
struct ctr_container_rec {
	Containerd__Services__Containers__V1__Container ct;
	Containerd__Services__Containers__V1__Container__Runtime rt;
	Google__Protobuf__Any rtopts, spec;
	struct ctr_clabels labels;
	uint8_t *rtbuf;
};
/* 0, or 1 after printing "ctr: out of memory" (free r anyway). */
int ctr_container_rec_init(struct ctr_container_rec *r, const char *id, const char *image,
			   const char *runtime, const char *runc_binary, const char *spec,
			   const char *snapshotter, const char *config_json, char **labels,
			   size_t nlabels);
void ctr_container_rec_free(struct ctr_container_rec *r);

#endif
