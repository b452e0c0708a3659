/* ctrbox-ctr: container records (see container.h). */
#include <stdlib.h>
#include <string.h>

#include "ctr/container.h"
#include "ctr/ctr.h"
#include "ctr/pbjson.h"
#include <ctrbox/json.h>
#include "runc/options.pb-c.h"
#include "snapshots/v1/snapshots.pb-c.h"
#include "types/task.pb-c.h"

#define SPEC_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Spec"
#define RUNC_OPTIONS_TYPE_URL "containerd.runc.v1.Options"
#define STOP_SIGNAL_LABEL "io.containerd.image.config.stop-signal"

typedef Containerd__Services__Containers__V1__Container__LabelsEntry CLabel;

void ctr_clabel_set(struct ctr_clabels *l, const char *k, const char *v)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i]->key, k)) {
			free(l->v[i]->value);
			l->v[i]->value = strdup(v);
			return;
		}
	}
	CLabel *e = malloc(sizeof(*e));
	CLabel **nv = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!e || !nv) {
		free(e);
		if (nv)
			l->v = nv;
		return;
	}
	containerd__services__containers__v1__container__labels_entry__init(e);
	e->key = strdup(k);
	e->value = strdup(v);
	l->v = nv;
	l->v[l->n++] = e;
}

void ctr_clabels_free(struct ctr_clabels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]->key);
		free(l->v[i]->value);
		free(l->v[i]);
	}
	free(l->v);
}

const char *ctr_task_status(int status, int upper)
{
	static const char *const lower_names[] = {"unknown", "created", "running",
						  "stopped", "paused",	"pausing"};
	static const char *const upper_names[] = {"UNKNOWN", "CREATED", "RUNNING",
						  "STOPPED", "PAUSED",	"PAUSING"};
	size_t i = 0;
	switch (status) {
	case CONTAINERD__V1__TYPES__STATUS__CREATED:
		i = 1;
		break;
	case CONTAINERD__V1__TYPES__STATUS__RUNNING:
		i = 2;
		break;
	case CONTAINERD__V1__TYPES__STATUS__STOPPED:
		i = 3;
		break;
	case CONTAINERD__V1__TYPES__STATUS__PAUSED:
		i = 4;
		break;
	case CONTAINERD__V1__TYPES__STATUS__PAUSING:
		i = 5;
		break;
	}
	return upper ? upper_names[i] : lower_names[i];
}

int ctr_container_get(struct ctr *c, const char *id, ProtobufCMessage **resp, char **err)
{
	Containerd__Services__Containers__V1__GetContainerRequest req =
	    CONTAINERD__SERVICES__CONTAINERS__V1__GET_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *r = NULL;
	req.id = (char *)id;
	int code = cx_call(
	    c, "/containerd.services.containers.v1.Containers/Get", &req.base,
	    &containerd__services__containers__v1__get_container_response__descriptor, &r, err);
	if (code && !*err)
		*err = strdup(ctrbox_code_name(code));
	if (resp)
		*resp = r;
	else if (r)
		protobuf_c_message_free_unpacked(r, NULL);
	return code;
}

int ctr_container_delete(struct ctr *c, const char *id, const char *snapshotter, const char *key,
			 int keep_snapshot, char **err)
{
	*err = NULL;
	if (!keep_snapshot && key && *key) {
		if (!snapshotter || !*snapshotter) {
			*err =
			    strdup("container.Snapshotter must be set to cleanup rootfs snapshot: "
				   "invalid argument");
			return 1;
		}
		Containerd__Services__Snapshots__V1__RemoveSnapshotRequest sreq =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
		sreq.snapshotter = (char *)snapshotter;
		sreq.key = (char *)key;
		int code = cx_call(c, "/containerd.services.snapshots.v1.Snapshots/Remove",
				   &sreq.base, NULL, NULL, err);
		if (code && code != CTRBOX_NOT_FOUND) {
			if (!*err)
				*err = strdup(ctrbox_code_name(code));
			return 1;
		}
		free(*err);
		*err = NULL;
	}
	Containerd__Services__Containers__V1__DeleteContainerRequest req =
	    CONTAINERD__SERVICES__CONTAINERS__V1__DELETE_CONTAINER_REQUEST__INIT;
	req.id = (char *)id;
	int code = cx_call(c, "/containerd.services.containers.v1.Containers/Delete", &req.base,
			   NULL, NULL, err);
	if (code) {
		if (!*err)
			*err = strdup(ctrbox_code_name(code));
		return 1;
	}
	return 0;
}

/* Image labels from the config (config.Labels) and its StopSignal (*stop, malloc'd or NULL). */
static void image_config_labels(const char *config, struct ctr_clabels *l, char **stop)
{
	struct ctrbox_json j;
	*stop = NULL;
	if (!config || ctrbox_json_parse(&j, config, strlen(config)))
		return;
	int cfg = ctrbox_json_get(&j, 0, "config");
	int lt = ctrbox_json_get(&j, cfg, "Labels");
	if (lt >= 0 && ctrbox_json_is_object(&j, lt)) {
		for (int k = -1; (k = ctrbox_json_object_next(&j, lt, k)) >= 0;) {
			char *key = ctrbox_json_strdup(&j, k), *val = ctrbox_json_strdup(&j, k + 1);
			if (key && val)
				ctr_clabel_set(l, key, val);
			free(key);
			free(val);
		}
	}
	int st = ctrbox_json_get(&j, cfg, "StopSignal");
	if (st >= 0 && ctrbox_json_is_string(&j, st))
		*stop = ctrbox_json_strdup(&j, st);
	ctrbox_json_free(&j);
}

int ctr_container_rec_init(struct ctr_container_rec *r, const char *id, const char *image,
			   const char *runtime, const char *runc_binary, const char *spec,
			   const char *snapshotter, const char *config_json, char **labels,
			   size_t nlabels)
{
	char *stop = NULL;
	memset(r, 0, sizeof(*r));
	containerd__services__containers__v1__container__init(&r->ct);
	containerd__services__containers__v1__container__runtime__init(&r->rt);
	google__protobuf__any__init(&r->rtopts);
	google__protobuf__any__init(&r->spec);

	image_config_labels(config_json, &r->labels, &stop);
	for (size_t i = 0; i < nlabels; i++) {
		char *k;
		const char *v;
		ctr_label_split(labels[i], &k, &v);
		if (k)
			ctr_clabel_set(&r->labels, k, v);
		free(k);
	}
	ctr_clabel_set(&r->labels, STOP_SIGNAL_LABEL, stop && *stop ? stop : "SIGTERM");
	free(stop);

	r->rt.name = (char *)runtime;
	if (!strcmp(runtime, CTR_RUNC_RUNTIME)) {
		Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
		if (runc_binary && *runc_binary)
			ro.binary_name = (char *)runc_binary;
		size_t len = containerd__runc__v1__options__get_packed_size(&ro);
		r->rtbuf = malloc(len ? len : 1);
		if (!r->rtbuf)
			return ctr_fail("out of memory");
		containerd__runc__v1__options__pack(&ro, r->rtbuf);
		r->rtopts.type_url = (char *)RUNC_OPTIONS_TYPE_URL;
		r->rtopts.value.data = r->rtbuf;
		r->rtopts.value.len = len;
		r->rt.options = &r->rtopts;
	}
	r->spec.type_url = (char *)SPEC_TYPE_URL;
	r->spec.value.data = (uint8_t *)spec;
	r->spec.value.len = strlen(spec);
	r->ct.id = (char *)id;
	r->ct.image = (char *)image;
	r->ct.labels = r->labels.v;
	r->ct.n_labels = r->labels.n;
	r->ct.runtime = &r->rt;
	r->ct.spec = &r->spec;
	r->ct.snapshotter = (char *)snapshotter;
	r->ct.snapshot_key = (char *)id;
	return 0;
}

void ctr_container_rec_free(struct ctr_container_rec *r)
{
	ctr_clabels_free(&r->labels);
	free(r->rtbuf);
	r->labels = (struct ctr_clabels){0};
	r->rtbuf = NULL;
}
