/* ctr containers: create, delete, info, list, label (checkpoint/restore are not supported). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers/v1/containers.pb-c.h"
#include "ctr/container.h"
#include "ctr/cmdopts.h"
#include "ctr/ctr.h"
#include "ctr/labels.h"
#include "ctr/pbjson.h"
#include <ctrbox/jsonw.h>
#include "ctr/spec.h"
#include "runc/options.pb-c.h"
#include "snapshots/v1/snapshots.pb-c.h"
#include "tasks/v1/tasks.pb-c.h"

typedef Containerd__Services__Containers__V1__Container Container;

static int ctr_containers_create(struct ctr *c, int argc, char **argv);

static int c_list(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"quiet,q", CF_BOOL, NULL}};
	struct ctr_args a;
	ProtobufCMessage *resp = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 1, 1, &a))
		goto out;
	Containerd__Services__Containers__V1__ListContainersRequest req =
	    CONTAINERD__SERVICES__CONTAINERS__V1__LIST_CONTAINERS_REQUEST__INIT;
	req.n_filters = (size_t)a.argc;
	req.filters = a.argv;
	if (cx_rpc(c, "/containerd.services.containers.v1.Containers/List", &req.base,
		   &containerd__services__containers__v1__list_containers_response__descriptor,
		   &resp))
		goto out;
	const Containerd__Services__Containers__V1__ListContainersResponse *r = (const void *)resp;
	rc = 0;
	if (ctr_bool(&a, "quiet")) {
		for (size_t i = 0; i < r->n_containers; i++)
			printf("%s\n", r->containers[i]->id);
		goto out;
	}
	struct gotabw *t = gotabw_new(stdout, 4, 4);
	gotabw_printf(t, "CONTAINER\tIMAGE\tRUNTIME\t\n");
	for (size_t i = 0; i < r->n_containers; i++) {
		const Container *ct = r->containers[i];
		gotabw_printf(t, "%s\t%s\t%s\t\n", ct->id,
			      ct->image && *ct->image ? ct->image : "-",
			      ct->runtime && ct->runtime->name ? ct->runtime->name : "");
	}
	gotabw_flush(t);
out:
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	ctr_args_free(&a);
	return rc;
}

static void json_any(struct ctrbox_jsonw *w, const ProtobufCMessage *m)
{
	if (!m)
		ctrbox_jsonw_null(w);
	else
		pbjson_write_message(w, m);
}

static int spec_has_value(const Container *ct)
{
	return ct->spec && ct->spec->value.len > 0;
}

/* Labels as Go marshals the map: null when empty, sorted keys, the first of equal keys. */
static void json_labels(struct ctrbox_jsonw *w, const Container *ct)
{
	if (!ct->n_labels) {
		ctrbox_jsonw_null(w);
		return;
	}
	size_t *idx = calloc(ct->n_labels, sizeof(*idx));
	if (!idx) {
		ctrbox_jsonw_fail(w, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < ct->n_labels; i++)
		idx[i] = i;
	for (size_t i = 1; i < ct->n_labels; i++)
		for (size_t k = i;
		     k > 0 && strcmp(ct->labels[idx[k - 1]]->key, ct->labels[idx[k]]->key) > 0;
		     k--) {
			size_t tmp = idx[k];
			idx[k] = idx[k - 1];
			idx[k - 1] = tmp;
		}
	ctrbox_jsonw_object_begin(w);
	for (size_t i = 0; i < ct->n_labels; i++) {
		if (i && !strcmp(ct->labels[idx[i]]->key, ct->labels[idx[i - 1]]->key))
			continue;
		ctrbox_jsonw_key(w, ct->labels[idx[i]]->key);
		ctrbox_jsonw_string(w, ct->labels[idx[i]]->value);
	}
	ctrbox_jsonw_object_end(w);
	free(idx);
}

static void json_time(struct ctrbox_jsonw *w, const Google__Protobuf__Timestamp *ts)
{
	char *t = ts ? go_time_rfc3339(ts->seconds, ts->nanos) : go_time_rfc3339(-62135596800LL, 0);
	if (!t)
		ctrbox_jsonw_fail(w, -ENOMEM);
	ctrbox_jsonw_string(w, t);
	free(t);
}

/* containers.Container as ctr's info prints it (json.MarshalIndent, 4 spaces); -1 if the
 * spec is not JSON. */
static int json_container(struct ctrbox_jsonw *w, const Container *ct)
{
	int rc = 0;
	ctrbox_jsonw_object_begin(w);
	ctrbox_jsonw_key(w, "ID");
	ctrbox_jsonw_string(w, ct->id);
	ctrbox_jsonw_key(w, "Labels");
	json_labels(w, ct);
	ctrbox_jsonw_key(w, "Image");
	ctrbox_jsonw_string(w, ct->image);
	ctrbox_jsonw_key(w, "Runtime");
	ctrbox_jsonw_object_begin(w);
	ctrbox_jsonw_key(w, "Name");
	ctrbox_jsonw_string(w, ct->runtime ? ct->runtime->name : "");
	ctrbox_jsonw_key(w, "Options");
	json_any(w, ct->runtime && ct->runtime->options ? &ct->runtime->options->base : NULL);
	ctrbox_jsonw_object_end(w);
	if (!spec_has_value(ct)) {
		ctrbox_jsonw_key(w, "Spec");
		json_any(w, ct->spec ? &ct->spec->base : NULL);
	}
	ctrbox_jsonw_key(w, "SnapshotKey");
	ctrbox_jsonw_string(w, ct->snapshot_key);
	ctrbox_jsonw_key(w, "Snapshotter");
	ctrbox_jsonw_string(w, ct->snapshotter);
	ctrbox_jsonw_key(w, "CreatedAt");
	json_time(w, ct->created_at);
	ctrbox_jsonw_key(w, "UpdatedAt");
	json_time(w, ct->updated_at);
	ctrbox_jsonw_key(w, "Extensions");
	if (!ct->n_extensions) {
		ctrbox_jsonw_null(w);
	} else {
		ctrbox_jsonw_object_begin(w);
		for (size_t i = 0; i < ct->n_extensions; i++) {
			ctrbox_jsonw_key(w, ct->extensions[i]->key);
			if (ct->extensions[i]->value) {
				json_any(w, &ct->extensions[i]->value->base);
			} else {
				ctrbox_jsonw_object_begin(w);
				ctrbox_jsonw_object_end(w);
			}
		}
		ctrbox_jsonw_object_end(w);
	}
	if (spec_has_value(ct)) {
		ctrbox_jsonw_key(w, "Spec");
		rc = pbjson_write_json(w, (const char *)ct->spec->value.data, ct->spec->value.len);
	}
	ctrbox_jsonw_object_end(w);
	return rc;
}

static int c_info(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"spec", CF_BOOL, NULL}};
	struct ctr_args a;
	ProtobufCMessage *resp = NULL;
	char *err = NULL, *out = NULL;
	struct ctrbox_jsonw w;
	int rc = 1, bad;
	ctrbox_jsonw_init(&w, "    ", 0);
	if (ctr_parse(argc, argv, flags, 1, 1, &a))
		goto out;
	if (a.argc < 1 || !*a.argv[0]) {
		ctr_fail("container id must be provided: invalid argument");
		goto out;
	}
	if (ctr_container_get(c, a.argv[0], &resp, &err)) {
		cx_fail(c, err);
		goto out;
	}
	const Container *ct =
	    ((Containerd__Services__Containers__V1__GetContainerResponse *)resp)->container;
	if (!ct) {
		ctr_fail("container \"%s\": not found", a.argv[0]);
		goto out;
	}
	if (ctr_bool(&a, "spec"))
		bad =
		    !spec_has_value(ct) ||
		    pbjson_write_json(&w, (const char *)ct->spec->value.data, ct->spec->value.len);
	else
		bad = json_container(&w, ct);
	if (bad && ctrbox_jsonw_error(&w) != -ENOMEM) {
		ctr_fail("invalid spec in container %s", ct->id);
		goto out;
	}
	if (ctrbox_jsonw_finish(&w, &out, NULL)) {
		ctr_fail("out of memory");
		goto out;
	}
	printf("%s\n", out);
	rc = 0;
out:
	ctrbox_jsonw_free(&w);
	free(out);
	free(err);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	ctr_args_free(&a);
	return rc;
}

/* deleteContainer of ctr: a stopped/created task is deleted first; a running one is an error;
 * the snapshot goes (unless keep) before the container record. *err gets the message. */
static int delete_container(struct ctr *c, const char *id, int keep_snapshot, char **err)
{
	ProtobufCMessage *cresp = NULL, *tresp = NULL;
	int rc = 1;
	if (ctr_container_get(c, id, &cresp, err))
		return 1;
	const Container *ct =
	    ((Containerd__Services__Containers__V1__GetContainerResponse *)cresp)->container;
	Containerd__Services__Tasks__V1__GetRequest greq =
	    CONTAINERD__SERVICES__TASKS__V1__GET_REQUEST__INIT;
	greq.container_id = (char *)id;
	char *terr = NULL;
	int code =
	    cx_call(c, "/containerd.services.tasks.v1.Tasks/Get", &greq.base,
		    &containerd__services__tasks__v1__get_response__descriptor, &tresp, &terr);
	free(terr);
	if (!code) {
		const Containerd__V1__Types__Process *p =
		    ((Containerd__Services__Tasks__V1__GetResponse *)tresp)->process;
		int st = p ? (int)p->status : 0;
		if (st != CONTAINERD__V1__TYPES__STATUS__STOPPED &&
		    st != CONTAINERD__V1__TYPES__STATUS__CREATED) {
			char *when = p && p->exited_at ? go_time_string(p->exited_at->seconds,
									p->exited_at->nanos)
						       : strdup("0001-01-01 00:00:00 +0000 UTC");
			if (asprintf(err, "cannot delete a non stopped container: {%s %u %s}",
				     ctr_task_status(st, 0), p ? p->exit_status : 0,
				     when ? when : "") < 0)
				*err = NULL;
			free(when);
			goto out;
		}
		Containerd__Services__Tasks__V1__DeleteTaskRequest dreq =
		    CONTAINERD__SERVICES__TASKS__V1__DELETE_TASK_REQUEST__INIT;
		dreq.container_id = (char *)id;
		ProtobufCMessage *dresp = NULL;
		code = cx_call(c, "/containerd.services.tasks.v1.Tasks/Delete", &dreq.base,
			       &containerd__services__tasks__v1__delete_response__descriptor,
			       &dresp, err);
		if (dresp)
			protobuf_c_message_free_unpacked(dresp, NULL);
		if (code) {
			if (!*err)
				*err = strdup(ctrbox_code_name(code));
			goto out;
		}
	}
	rc = ctr_container_delete(c, id, ct ? ct->snapshotter : NULL, ct ? ct->snapshot_key : NULL,
				  keep_snapshot, err);
out:
	if (cresp)
		protobuf_c_message_free_unpacked(cresp, NULL);
	if (tresp)
		protobuf_c_message_free_unpacked(tresp, NULL);
	return rc;
}

static int c_delete(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"keep-snapshot", CF_BOOL, NULL}};
	struct ctr_args a;
	char *first = NULL;
	if (ctr_parse(argc, argv, flags, 1, 1, &a)) {
		ctr_args_free(&a);
		return 1;
	}
	if (!ctr_client(c)) {
		ctr_args_free(&a);
		return 1;
	}
	if (a.argc == 0) {
		ctr_args_free(&a);
		return ctr_fail("must specify at least one container to delete: invalid argument");
	}
	for (int i = 0; i < a.argc; i++) {
		char *err = NULL;
		if (delete_container(c, a.argv[i], ctr_bool(&a, "keep-snapshot"), &err)) {
			const char *m = err ? err : "unknown error";
			if (!first)
				first = strdup(m);
			ctr_log("error", m, "failed to delete container \"%s\"", a.argv[i]);
		}
		free(err);
	}
	ctr_args_free(&a);
	if (first) {
		ctr_fail("%s", first);
		free(first);
		return 1;
	}
	return 0;
}

/* Containers.Update of id's labels (l), then the labels the container has */
static int c_label_update(struct ctr *c, char *id, const struct ctr_labels *l)
{
	Containerd__Services__Containers__V1__Container__LabelsEntry *e =
	    calloc(l->n + 1, sizeof(*e));
	Containerd__Services__Containers__V1__Container__LabelsEntry **ep =
	    calloc(l->n + 1, sizeof(*ep));
	ProtobufCMessage *resp = NULL;
	int rc = 1;
	if (!e || !ep) {
		ctr_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		e[i] = (Containerd__Services__Containers__V1__Container__LabelsEntry)
		    CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__LABELS_ENTRY__INIT;
		e[i].key = l->v[i].key;
		e[i].value = (char *)l->v[i].value;
		ep[i] = &e[i];
	}
	Container ct = CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__INIT;
	Containerd__Services__Containers__V1__Container__Runtime rt =
	    CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__RUNTIME__INIT;
	ct.id = id;
	ct.n_labels = l->n;
	ct.labels = ep;
	ct.runtime = &rt;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	mask.n_paths = l->npaths;
	mask.paths = l->paths;
	Containerd__Services__Containers__V1__UpdateContainerRequest req =
	    CONTAINERD__SERVICES__CONTAINERS__V1__UPDATE_CONTAINER_REQUEST__INIT;
	req.container = &ct;
	req.update_mask = l->npaths ? &mask : NULL;
	if (cx_rpc(c, "/containerd.services.containers.v1.Containers/Update", &req.base,
		   &containerd__services__containers__v1__update_container_response__descriptor,
		   &resp))
		goto out;
	const Container *r =
	    ((Containerd__Services__Containers__V1__UpdateContainerResponse *)resp)->container;
	struct jbuf b = {0};
	for (size_t i = 0; r && i < r->n_labels; i++) {
		if (i)
			jb_puts(&b, ",");
		jb_printf(&b, "%s=%s", r->labels[i]->key, r->labels[i]->value);
	}
	printf("%s\n", jb_str(&b));
	jb_free(&b);
	rc = 0;
out:
	free(e);
	free(ep);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

static int c_label(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	struct ctr_labels l;
	int rc = 1;
	ProtobufCMessage *resp = NULL;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a))
		goto out;
	if (a.argc < 1 || !*a.argv[0]) {
		ctr_fail("container id must be provided: invalid argument");
		goto out;
	}
	char *gerr = NULL;
	if (ctr_container_get(c, a.argv[0], &resp, &gerr)) {
		cx_fail(c, gerr);
		free(gerr);
		goto out;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	if (ctr_labels_parse(&l, a.argv + 1, (size_t)a.argc - 1, false)) {
		ctr_fail("out of memory");
		goto out;
	}
	rc = c_label_update(c, a.argv[0], &l);
	ctr_labels_free(&l);
out:
	ctr_args_free(&a);
	return rc;
}

int ctr_cmd_containers(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_sub subs[] = {
	    {"create", "create container", ctr_containers_create},
	    {"delete,del,remove,rm", "delete one or more existing containers", c_delete},
	    {"info", "get info about a container", c_info},
	    {"list,ls", "list containers", c_list},
	    {"label", "set and clear labels for a container", c_label},
	    {"checkpoint", "checkpoint a container", NULL},
	    {"restore", "restore a container from checkpoint", NULL},
	};
	return ctr_subcmd(c, "containers", "manage containers", subs,
			  sizeof(subs) / sizeof(subs[0]), argc, argv);
}

/* ---- create ---- */

static const struct ctr_flag create_flags[] = {
    CTR_CONTAINER_FLAGS,
};

/* the arguments containers create needs and the flags ctrbox-ctr does not support */
static int create_flags_check(const struct ctr_args *a, const char *ref, const char *id)
{
	if (!*ref) {
		ctr_fail("image ref must be provided: invalid argument");
		return 1;
	}
	if (!*id) {
		ctr_fail("container id must be provided: invalid argument");
		return 1;
	}
	static const char *const unsupported[] = {
	    "env-file", "privileged",	   "runtime-config-path",      "pid-file",
	    "seccomp",	"seccomp-profile", "apparmor-default-profile", "apparmor-profile",
	    "rdt-class"};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		const char *v = ctr_str(a, unsupported[i]);
		if ((v && *v) || ctr_bool(a, unsupported[i])) {
			ctr_fail("--%s is not supported by ctrbox-ctr", unsupported[i]);
			return 1;
		}
	}
	static const char *const unsupported_multi[] = {"mount",  "with-ns", "gpus",
							"device", "cap-add", "cap-drop"};
	for (size_t i = 0; i < sizeof(unsupported_multi) / sizeof(unsupported_multi[0]); i++) {
		size_t nm;
		ctr_multi(a, unsupported_multi[i], &nm);
		if (nm) {
			ctr_fail("--%s is not supported by ctrbox-ctr", unsupported_multi[i]);
			return 1;
		}
	}
	return 0;
}

/* the spec options of containers create's flags and arguments */
static int create_spec_opts(struct ctr *c, const struct ctr_args *a, const char *id,
			    struct ctr_spec_opts *so)
{
	so->ns = c->ns;
	so->id = id;
	so->tty = ctr_bool(a, "tty");
	so->cwd = ctr_str(a, "cwd");
	so->env = ctr_multi(a, "env", &so->nenv);
	so->labels = ctr_multi(a, "label", &so->nlabels);
	so->annotations = ctr_multi(a, "annotation", &so->nannotations);
	so->read_only = ctr_bool(a, "read-only");
	so->net_host = ctr_bool(a, "net-host");
	so->allow_new_privs = ctr_bool(a, "allow-new-privs");
	so->cpu_shares = 0; /* `containers create` has no --cpu-shares flag */
	if (a->argc > 2) {
		so->args = a->argv + 2;
		so->nargs = (size_t)a->argc - 2;
	}
	const char *ml = ctr_str(a, "memory-limit");
	if (ml && *ml) {
		char *e;
		unsigned long long v = strtoull(ml, &e, 0);
		if (*e || *ml == '-') {
			ctr_fail("invalid value \"%s\" for flag -memory-limit: parse error", ml);
			return 1;
		}
		so->memory_limit = v;
	}
	return 0;
}

/* the spec (*spec), with the user and additional gids of the prepared rootfs' /etc files */
static int create_spec(const ProtobufCMessage *prep, struct ctr_spec_opts *so, char **spec)
{
	const Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *pp = (const void *)prep;
	char *passwd = NULL, *group = NULL, *err = NULL;
	ctr_spec_read_etc(pp->mounts, pp->n_mounts, &passwd, &group);
	so->etc_passwd = passwd;
	so->etc_group = group;
	*spec = ctr_spec_json(so, &err);
	so->etc_passwd = so->etc_group = NULL;
	if (!*spec)
		ctr_fail("%s", err ? err : "spec generation failed");
	free(err);
	free(passwd);
	free(group);
	return *spec ? 0 : 1;
}

static int ctr_containers_create(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	struct ctr_image img;
	struct ctr_spec_opts so;
	struct ctr_container_rec rec = {0};
	char *spec = NULL;
	int rc = 1, have_img = 0, leased = 0, prepared = 0;
	const char *snapshotter = NULL;
	const char *id = NULL;
	ProtobufCMessage *prep = NULL, *cresp = NULL;

	memset(&img, 0, sizeof(img));
	ctr_spec_opts_init(&so);
	if (ctr_parse(argc, argv, create_flags, sizeof(create_flags) / sizeof(create_flags[0]), 1,
		      &a))
		goto out;
	if (ctr_str(&a, "config")) {
		ctr_fail("--config is not supported by ctrbox-ctr");
		goto out;
	}
	const char *ref = a.argc > 0 ? a.argv[0] : "";
	id = a.argc > 1 ? a.argv[1] : "";
	if (create_flags_check(&a, ref, id))
		goto out;
	const char *runtime = ctr_str(&a, "runtime");
	if (!runtime || !*runtime)
		runtime = CTR_RUNC_RUNTIME;
	snapshotter = ctr_snapshotter_arg(&a);
	if (!snapshotter)
		snapshotter = "overlayfs";

	if (create_spec_opts(c, &a, id, &so))
		goto out;

	if (!ctr_client(c))
		goto out;
	if (ctr_image_load(c, ref, &img))
		goto out;
	have_img = 1;
	if (ctr_image_unpack(c, &img, snapshotter))
		goto out;
	if (ctr_lease_begin(c))
		goto out;
	leased = 1;

	if (ctr_rootfs_prepare(c, &a, snapshotter, id, &img, 1, &prep))
		goto out;
	prepared = 1;
	so.image_config = img.config_json;
	if (create_spec(prep, &so, &spec))
		goto out;

	if (ctr_container_rec_init(&rec, id, img.name ? img.name : ref, runtime, NULL, spec,
				   snapshotter, img.config_json, so.labels, so.nlabels))
		goto out;
	Containerd__Services__Containers__V1__CreateContainerRequest req =
	    CONTAINERD__SERVICES__CONTAINERS__V1__CREATE_CONTAINER_REQUEST__INIT;
	req.container = &rec.ct;
	if (cx_rpc(c, "/containerd.services.containers.v1.Containers/Create", &req.base,
		   &containerd__services__containers__v1__create_container_response__descriptor,
		   &cresp))
		goto out;
	rc = 0;
out:
	if (rc && prepared)
		ctr_snapshot_remove(c, snapshotter, id);
	if (leased)
		ctr_lease_end(c);
	if (cresp)
		protobuf_c_message_free_unpacked(cresp, NULL);
	if (prep)
		protobuf_c_message_free_unpacked(prep, NULL);
	ctr_container_rec_free(&rec);
	free(spec);
	if (have_img)
		ctr_image_free(&img);
	ctr_args_free(&a);
	return rc;
}
