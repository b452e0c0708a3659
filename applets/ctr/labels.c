/* The KEY[=VALUE] arguments of ctr's `label` commands: see labels.h. */
#include "labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/ctr.h"
#include "ctr/pbjson.h"

int ctr_labels_parse(struct ctr_labels *l, char *const *args, size_t nargs, bool replace_all)
{
	memset(l, 0, sizeof(*l));
	l->v = calloc(nargs + 1, sizeof(*l->v));
	l->paths = calloc(nargs + 1, sizeof(*l->paths));
	if (!l->v || !l->paths) {
		ctr_labels_free(l);
		return -1;
	}
	for (size_t i = 0; i < nargs; i++) {
		char *k;
		const char *v;
		ctr_label_split(args[i], &k, &v);
		if (!k)
			continue;
		size_t j = 0;
		while (j < l->n && strcmp(l->v[j].key, k))
			j++;
		if (j < l->n) { /* a key given twice: the last value wins, one path */
			free(k);
			l->v[j].value = v;
			l->v[j].last = i;
			continue;
		}
		l->v[l->n++] = (struct ctr_label){k, v, i};
		char **p = &l->paths[l->npaths];
		if (replace_all)
			*p = strdup("labels");
		else if (asprintf(p, "labels.%s", k) < 0)
			*p = NULL;
		if (*p)
			l->npaths++;
	}
	return 0;
}

void ctr_labels_free(struct ctr_labels *l)
{
	for (size_t i = 0; l->v && i < l->n; i++)
		free(l->v[i].key);
	for (size_t i = 0; l->paths && i < l->npaths; i++)
		free(l->paths[i]);
	free(l->v);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}

int ctr_snap_labels(struct ctr_snap_labels *l, char *const *args, size_t nargs)
{
	memset(l, 0, sizeof(*l));
	if (!nargs)
		return 0;
	l->e = calloc(nargs, sizeof(*l->e));
	l->p = calloc(nargs, sizeof(*l->p));
	if (!l->e || !l->p) {
		ctr_snap_labels_free(l);
		return -1;
	}
	for (size_t i = 0; i < nargs; i++) {
		const char *v;
		char *k;
		containerd__services__snapshots__v1__prepare_snapshot_request__labels_entry__init(
		    &l->e[i]);
		ctr_label_split(args[i], &k, &v);
		l->e[i].key = k;
		l->e[i].value = (char *)v;
		l->p[i] = &l->e[i];
		l->n++;
		if (!k) {
			ctr_snap_labels_free(l);
			return -1;
		}
	}
	return 0;
}

void ctr_snap_labels_free(struct ctr_snap_labels *l)
{
	for (size_t i = 0; l->e && i < l->n; i++)
		free(l->e[i].key);
	free(l->e);
	free(l->p);
	memset(l, 0, sizeof(*l));
}

int ctr_rootfs_prepare(struct ctr *c, const struct ctr_args *a, const char *snapshotter,
		       const char *id, const struct ctr_image *img, int errdefs,
		       ProtobufCMessage **prep)
{
	static const char path[] = "/containerd.services.snapshots.v1.Snapshots/Prepare";
	const ProtobufCMessageDescriptor *d =
	    &containerd__services__snapshots__v1__prepare_snapshot_response__descriptor;
	Containerd__Services__Snapshots__V1__PrepareSnapshotRequest pr =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
	struct ctr_snap_labels l;
	size_t nsl;
	char **sl = ctr_multi(a, "snapshotter-label", &nsl);
	int rc;

	pr.snapshotter = (char *)snapshotter;
	pr.key = (char *)id;
	pr.parent = img->nlayers ? img->chain_ids[img->nlayers - 1] : (char *)"";
	if (ctr_snap_labels(&l, sl, nsl))
		return ctr_fail("out of memory");
	pr.labels = l.p;
	pr.n_labels = l.n;
	rc = errdefs ? cx_rpc(c, path, &pr.base, d, prep) : ctr_rpc(c, path, &pr.base, d, prep);
	ctr_snap_labels_free(&l);
	return rc ? 1 : 0;
}
