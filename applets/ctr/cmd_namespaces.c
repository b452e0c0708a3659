/* ctr namespaces: create, list, remove, label. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr/ctr.h"
#include "ctr/pbjson.h"
#include "namespaces/v1/namespace.pb-c.h"

typedef Containerd__Services__Namespaces__V1__Namespace Namespace;
typedef Containerd__Services__Namespaces__V1__Namespace__LabelsEntry LabelsEntry;

/* name + label args as a Namespace message (labels deduplicated, the last one wins). */
struct labels {
	LabelsEntry *e;
	LabelsEntry **p;
	char **keys;
	size_t n;
};

static int labels_build(struct labels *l, int argc, char **argv)
{
	memset(l, 0, sizeof(*l));
	size_t cap = argc > 0 ? (size_t)argc : 1;
	l->e = calloc(cap, sizeof(*l->e));
	l->p = calloc(cap, sizeof(*l->p));
	l->keys = calloc(cap, sizeof(*l->keys));
	if (!l->e || !l->p || !l->keys)
		return -1;
	for (int i = 0; i < argc; i++) {
		char *k;
		const char *v;
		ctr_label_split(argv[i], &k, &v);
		if (!k)
			return -1;
		size_t j = 0;
		while (j < l->n && strcmp(l->keys[j], k))
			j++;
		if (j < l->n) {
			free(k);
			l->e[j].value = (char *)v;
			continue;
		}
		l->keys[j] = k;
		l->e[j] = (LabelsEntry)
		    CONTAINERD__SERVICES__NAMESPACES__V1__NAMESPACE__LABELS_ENTRY__INIT;
		l->e[j].key = k;
		l->e[j].value = (char *)v;
		l->p[j] = &l->e[j];
		l->n++;
	}
	return 0;
}

static void labels_free(struct labels *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->keys[i]);
	free(l->keys);
	free(l->e);
	free(l->p);
}

/* NAME [LABELS...]: a, l (labels of the args after NAME). 0, or 1 after printing. */
static int ns_args(int argc, char **argv, struct ctr_args *a, struct labels *l)
{
	if (ctr_parse(argc, argv, NULL, 0, 1, a))
		return 1;
	if (a->argc < 1 || !*a->argv[0])
		return ctr_fail("please specify a namespace");
	if (labels_build(l, a->argc - 1, a->argv + 1)) {
		labels_free(l);
		return ctr_fail("out of memory");
	}
	return 0;
}

static int ns_create(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	struct labels l;
	int rc = ns_args(argc, argv, &a, &l);
	if (rc)
		goto out0;
	Namespace ns = CONTAINERD__SERVICES__NAMESPACES__V1__NAMESPACE__INIT;
	ns.name = a.argv[0];
	ns.n_labels = l.n;
	ns.labels = l.p;
	Containerd__Services__Namespaces__V1__CreateNamespaceRequest req =
	    CONTAINERD__SERVICES__NAMESPACES__V1__CREATE_NAMESPACE_REQUEST__INIT;
	req.namespace_ = &ns;
	ProtobufCMessage *resp = NULL;
	rc = cx_rpc(c, "/containerd.services.namespaces.v1.Namespaces/Create", &req.base,
		    &containerd__services__namespaces__v1__create_namespace_response__descriptor,
		    &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	labels_free(&l);
out0:
	ctr_args_free(&a);
	return rc;
}

static int ns_label(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	struct labels l;
	int rc = ns_args(argc, argv, &a, &l);
	if (rc)
		goto out0;
	/* one Update per label, with the mask naming just that label */
	for (size_t i = 0; i < l.n && !rc; i++) {
		Namespace ns = CONTAINERD__SERVICES__NAMESPACES__V1__NAMESPACE__INIT;
		LabelsEntry *one = &l.e[i];
		ns.name = a.argv[0];
		ns.n_labels = 1;
		ns.labels = &one;
		char *path = NULL;
		if (asprintf(&path, "labels.%s", l.e[i].key) < 0) {
			rc = ctr_fail("out of memory");
			break;
		}
		Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
		mask.n_paths = 1;
		mask.paths = &path;
		Containerd__Services__Namespaces__V1__UpdateNamespaceRequest req =
		    CONTAINERD__SERVICES__NAMESPACES__V1__UPDATE_NAMESPACE_REQUEST__INIT;
		req.namespace_ = &ns;
		req.update_mask = &mask;
		ProtobufCMessage *resp = NULL;
		rc = cx_rpc(
		    c, "/containerd.services.namespaces.v1.Namespaces/Update", &req.base,
		    &containerd__services__namespaces__v1__update_namespace_response__descriptor,
		    &resp);
		if (resp)
			protobuf_c_message_free_unpacked(resp, NULL);
		free(path);
	}
	labels_free(&l);
out0:
	ctr_args_free(&a);
	return rc;
}

static int ns_list(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"quiet,q", CF_BOOL, NULL}};
	struct ctr_args a;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 1, 1, &a))
		goto out0;
	Containerd__Services__Namespaces__V1__ListNamespacesRequest req =
	    CONTAINERD__SERVICES__NAMESPACES__V1__LIST_NAMESPACES_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	if (cx_rpc(c, "/containerd.services.namespaces.v1.Namespaces/List", &req.base,
		   &containerd__services__namespaces__v1__list_namespaces_response__descriptor,
		   &resp))
		goto out0;
	const Containerd__Services__Namespaces__V1__ListNamespacesResponse *r = (const void *)resp;
	rc = 0;
	if (ctr_bool(&a, "quiet")) {
		for (size_t i = 0; i < r->n_namespaces; i++)
			printf("%s\n", r->namespaces[i]->name);
		goto out;
	}
	struct gotabw *t = gotabw_new(stdout, 1, 1);
	gotabw_printf(t, "NAME\tLABELS\t\n");
	for (size_t i = 0; i < r->n_namespaces; i++) {
		const Namespace *ns = r->namespaces[i];
		char **kv = calloc(ns->n_labels + 1, sizeof(*kv));
		struct jbuf b = {0};
		for (size_t k = 0; kv && k < ns->n_labels; k++)
			if (asprintf(&kv[k], "%s=%s", ns->labels[k]->key, ns->labels[k]->value) < 0)
				kv[k] = NULL;
		if (kv)
			qsort(kv, ns->n_labels, sizeof(*kv), ctr_cmp_str);
		for (size_t k = 0; kv && k < ns->n_labels; k++) {
			if (k)
				jb_puts(&b, ",");
			jb_puts(&b, kv[k] ? kv[k] : "");
			free(kv[k]);
		}
		free(kv);
		gotabw_printf(t, "%s\t%s\t\n", ns->name, jb_str(&b));
		jb_free(&b);
	}
	gotabw_flush(t);
out:
	protobuf_c_message_free_unpacked(resp, NULL);
out0:
	ctr_args_free(&a);
	return rc;
}

/* runtime/opts.WithNamespaceCgroupDeletion: the namespace's cgroup, deepest first, in the v2
 * hierarchy or every v1 one. */
static int rmdir_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *sub = NULL;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		int r = rmdir_tree(sub);
		free(sub);
		if (r && !rc)
			rc = r;
	}
	closedir(d);
	if (!rc && rmdir(path) && errno != ENOENT)
		rc = -errno;
	return rc;
}

static int delete_cgroup(const char *ns)
{
	struct stat st;
	char *p = NULL;
	int rc = 0;
	if (!stat("/sys/fs/cgroup/cgroup.controllers", &st)) {
		if (asprintf(&p, "/sys/fs/cgroup/%s", ns) < 0)
			return -ENOMEM;
		rc = rmdir_tree(p);
		free(p);
		return rc;
	}
	DIR *d = opendir("/sys/fs/cgroup");
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&p, "/sys/fs/cgroup/%s/%s", e->d_name, ns) < 0) {
			rc = -ENOMEM;
			break;
		}
		int r = rmdir_tree(p);
		free(p);
		if (r && !rc)
			rc = r;
	}
	closedir(d);
	return rc;
}

static int ns_remove(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"cgroup,c", CF_BOOL, NULL}};
	struct ctr_args a;
	char *first_err = NULL;
	if (ctr_parse(argc, argv, flags, 1, 1, &a)) {
		ctr_args_free(&a);
		return 1;
	}
	if (!ctr_client(c)) {
		ctr_args_free(&a);
		return 1;
	}
	for (int i = 0; i < a.argc; i++) {
		const char *target = a.argv[i];
		char *msg = NULL;
		int code = 0;
		if (ctr_bool(&a, "cgroup")) {
			int r = delete_cgroup(target);
			if (r) {
				code = -1;
				msg = strdup(strerror(-r));
			}
		}
		if (!code) {
			Containerd__Services__Namespaces__V1__DeleteNamespaceRequest req =
			    CONTAINERD__SERVICES__NAMESPACES__V1__DELETE_NAMESPACE_REQUEST__INIT;
			req.name = (char *)target;
			code = cx_call(c, "/containerd.services.namespaces.v1.Namespaces/Delete",
				       &req.base, NULL, NULL, &msg);
		}
		if (code && code != CTRBOX_NOT_FOUND) {
			const char *m = msg && *msg ? msg : ctrbox_code_name(code);
			if (!first_err &&
			    asprintf(&first_err, "unable to delete %s: %s", target, m) < 0)
				first_err = NULL;
			ctr_log("error", m, "unable to delete %s", target);
			free(msg);
			continue;
		}
		free(msg);
		printf("%s\n", target);
		fflush(stdout);
	}
	ctr_args_free(&a);
	if (first_err) {
		ctr_fail("%s", first_err);
		free(first_err);
		return 1;
	}
	return 0;
}

int ctr_cmd_namespaces(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_sub subs[] = {
	    {"create,c", "create a new namespace", ns_create},
	    {"list,ls", "list namespaces", ns_list},
	    {"remove,rm", "remove one or more namespaces", ns_remove},
	    {"label", "set and clear labels for a namespace", ns_label},
	};
	return ctr_subcmd(c, "namespaces", "manage namespaces", subs,
			  sizeof(subs) / sizeof(subs[0]), argc, argv);
}
