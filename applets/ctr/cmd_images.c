/* ctrbox-ctr images: ls, check, rm, label and import (OCI layout tarballs), with ctr's output. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content/v1/content.pb-c.h"
#include "ctr/cmdopts.h"
#include "ctr/ctr.h"
#include "ctr/labels.h"
#include "ctr/pbjson.h"
#include "ctr/tar.h"
#include "google/protobuf/field_mask.pb-c.h"
#include "images/v1/images.pb-c.h"
#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include "namespaces/v1/namespace.pb-c.h"
#include <ctrbox/sha256.h>
#include "snapshots/v1/snapshots.pb-c.h"
#include <ctrbox/util.h>

#define IMG_SVC "/containerd.services.images.v1.Images/"
#define CONTENT_SVC "/containerd.services.content.v1.Content/"

#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

#define MAX_BLOB_JSON ((size_t)64 << 20)

typedef Containerd__Services__Images__V1__Image image_t;

/* ---- descriptors ---- */

struct desc {
	char *mt, *digest;
	int64_t size;
	int has_platform;
	char *os, *arch, *variant;
	size_t nann;
	char **ann_k, **ann_v;
};

static void desc_clear(struct desc *d)
{
	free(d->mt);
	free(d->digest);
	free(d->os);
	free(d->arch);
	free(d->variant);
	for (size_t i = 0; i < d->nann; i++) {
		free(d->ann_k[i]);
		free(d->ann_v[i]);
	}
	free(d->ann_k);
	free(d->ann_v);
	memset(d, 0, sizeof(*d));
}

static void descs_free(struct desc *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		desc_clear(&v[i]);
	free(v);
}

static const char *desc_ann(const struct desc *d, const char *k)
{
	for (size_t i = 0; i < d->nann; i++)
		if (!strcmp(d->ann_k[i], k))
			return d->ann_v[i];
	return NULL;
}

static void desc_from_json(const struct ctrbox_json *j, int t, struct desc *d)
{
	memset(d, 0, sizeof(*d));
	d->mt = ctrbox_json_strdup(j, ctrbox_json_get(j, t, "mediaType"));
	d->digest = ctrbox_json_strdup(j, ctrbox_json_get(j, t, "digest"));
	ctrbox_json_int64(j, ctrbox_json_get(j, t, "size"), &d->size);
	int p = ctrbox_json_get(j, t, "platform");
	if (p >= 0 && ctrbox_json_is_object(j, p)) {
		d->has_platform = 1;
		d->os = ctrbox_json_strdup(j, ctrbox_json_get(j, p, "os"));
		d->arch = ctrbox_json_strdup(j, ctrbox_json_get(j, p, "architecture"));
		d->variant = ctrbox_json_strdup(j, ctrbox_json_get(j, p, "variant"));
	}
	int a = ctrbox_json_get(j, t, "annotations");
	if (a >= 0 && ctrbox_json_is_object(j, a)) {
		size_t n = 0;
		for (int k = -1; (k = ctrbox_json_object_next(j, a, k)) >= 0;)
			n++;
		d->ann_k = calloc(n + 1, sizeof(char *));
		d->ann_v = calloc(n + 1, sizeof(char *));
		if (d->ann_k && d->ann_v)
			for (int k = -1; (k = ctrbox_json_object_next(j, a, k)) >= 0;) {
				char *kk = ctrbox_json_strdup(j, k),
				     *vv = ctrbox_json_strdup(j, k + 1);
				if (kk && vv) {
					d->ann_k[d->nann] = kk;
					d->ann_v[d->nann++] = vv;
				} else {
					free(kk);
					free(vv);
				}
			}
	}
	if (!d->mt)
		d->mt = strdup("");
	if (!d->digest)
		d->digest = strdup("");
}

static int is_config(const char *mt)
{
	return mt &&
	       (!strcmp(mt, MT_OCI_CONFIG) || !strcmp(mt, MT_DOCKER_CONFIG) ||
		!strcmp(mt, "application/vnd.containerd.container.checkpoint.config.v1+proto"));
}

static int is_layer(const char *mt)
{
	return mt && (!strncmp(mt, "application/vnd.oci.image.layer.", 32) ||
		      !strncmp(mt, "application/vnd.docker.image.rootfs.", 36));
}

/* platforms.Normalize, into malloc'd os/arch/variant */
static void normalize(const char *os, const char *arch, const char *variant, char **nos,
		      char **narch, char **nvar)
{
	char *o = strdup(os ? os : ""), *a = strdup(arch ? arch : ""),
	     *v = strdup(variant ? variant : "");
	for (char *p = o; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	const char *na = NULL, *nv = NULL;
	if (a && v) {
		if (!strcmp(a, "i386"))
			na = "386", nv = "";
		else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") || !strcmp(a, "amd64"))
			na = "amd64", nv = !strcmp(v, "v1") ? "" : v;
		else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64"))
			na = "arm64", nv = (!strcmp(v, "8") || !strcmp(v, "v8")) ? "" : v;
		else if (!strcmp(a, "armhf"))
			na = "arm", nv = "v7";
		else if (!strcmp(a, "armel"))
			na = "arm", nv = "v6";
		else if (!strcmp(a, "arm"))
			na = "arm", nv = !*v || !strcmp(v, "7") ? "v7"
					 : !strcmp(v, "5") || !strcmp(v, "6") || !strcmp(v, "8")
					     ? (v[0] == '5'   ? "v5"
						: v[0] == '6' ? "v6"
							      : "v8")
					     : v;
	}
	if (na) {
		char *x = strdup(na), *y = strdup(nv);
		free(a);
		free(v);
		a = x;
		v = y;
	}
	*nos = o;
	*narch = a;
	*nvar = v;
}

static char *platform_format(const char *os, const char *arch, const char *variant)
{
	char *o, *a, *v, *out = NULL;
	if (!os || !*os)
		return strdup("unknown");
	normalize(os, arch, variant, &o, &a, &v);
	if (o && a && v) {
		if (asprintf(&out, "%s%s%s%s%s", o, *a ? "/" : "", a, *v ? "/" : "", v) < 0)
			out = NULL;
	}
	free(o);
	free(a);
	free(v);
	return out;
}

/* The platform a matcher wants: linux/amd64 by default, or --platform's. */
struct want {
	int all;
	char *os, *arch, *variant;
};

static int plat_match(const struct want *w, const char *os, const char *arch, const char *var)
{
	if (w->all)
		return 1;
	char *o, *a, *v;
	normalize(os, arch, var, &o, &a, &v);
	int ok = o && a && v && !strcmp(o, w->os) && !strcmp(a, w->arch) &&
		 (!strcmp(v, w->variant) || (!*w->variant && !strcmp(a, "amd64") && !*v));
	free(o);
	free(a);
	free(v);
	return ok;
}

static int desc_match(const struct want *w, const struct desc *d)
{
	return !d->has_platform || plat_match(w, d->os, d->arch, d->variant);
}

/* ---- content ---- */

/* Reads a blob without printing: the gRPC code, *err (malloc'd) on failure. */
static int blob_read(struct ctr *c, const char *digest, char **data, size_t *len, char **err)
{
	char *raw = NULL;
	int bad;
	int rc = ctr_blob_read(c, digest, MAX_BLOB_JSON, data, len, &bad, &raw);
	*err = NULL;
	if (rc)
		*err = ctr_errdefs(rc, raw);
	free(raw);
	if (!rc && bad) {
		rc = CTRBOX_INTERNAL;
		free(*err);
		*err = strdup("failed to read content");
	}
	if (rc)
		return rc;
	if (!*data)
		*data = strdup("");
	return 0;
}

/* Children of a manifest/index blob (images.Children); n = 0 for others. */
static int children(struct ctr *c, const struct desc *d, struct desc **out, size_t *n, char **err)
{
	*out = NULL;
	*n = 0;
	if (!ctr_mt_is_manifest(d->mt) && !ctr_mt_is_index(d->mt))
		return 0;
	char *buf;
	size_t len;
	int rc = blob_read(c, d->digest, &buf, &len, err);
	if (rc)
		return rc;
	struct ctrbox_json j = {0};
	if (ctrbox_json_parse(&j, buf, len)) {
		free(buf);
		*err = strdup("invalid JSON");
		return CTRBOX_INTERNAL;
	}
	int cfg = ctr_mt_is_manifest(d->mt) ? ctrbox_json_get(&j, 0, "config") : -1;
	int arr = ctrbox_json_get(&j, 0, ctr_mt_is_manifest(d->mt) ? "layers" : "manifests");
	int na = ctrbox_json_array_len(&j, arr);
	if (na < 0)
		na = 0;
	struct desc *v = calloc((size_t)na + 2, sizeof(*v));
	size_t k = 0;
	if (v) {
		if (cfg >= 0)
			desc_from_json(&j, cfg, &v[k++]);
		for (int i = 0; i < na; i++)
			desc_from_json(&j, ctrbox_json_array_at(&j, arr, i), &v[k++]);
	}
	ctrbox_json_free(&j);
	free(buf);
	if (!v) {
		*err = strdup("out of memory");
		return CTRBOX_RESOURCE_EXHAUSTED;
	}
	*out = v;
	*n = k;
	return 0;
}

static void desc_of_target(const Containerd__Types__Descriptor *t, struct desc *d)
{
	memset(d, 0, sizeof(*d));
	d->mt = strdup(t && t->media_type ? t->media_type : "");
	d->digest = strdup(t && t->digest ? t->digest : "");
	d->size = t ? t->size : 0;
}

/* images.Manifest for platform w: *cfg and layers of the chosen manifest. NotFound if none. */
static int resolve_manifest(struct ctr *c, const struct desc *d, const struct want *w, int depth,
			    struct desc **parts, size_t *nparts, char **err)
{
	struct desc *ch;
	size_t n;
	if (depth > 8) {
		*err = strdup("too deep");
		return CTRBOX_NOT_FOUND;
	}
	int rc = children(c, d, &ch, &n, err);
	if (rc)
		return rc;
	if (ctr_mt_is_manifest(d->mt)) {
		if (depth > 0 && !d->has_platform && n > 0 && !w->all) {
			/* no platform on the descriptor: the config says */
			char *buf;
			size_t len;
			rc = blob_read(c, ch[0].digest, &buf, &len, err);
			if (rc) {
				descs_free(ch, n);
				return rc;
			}
			struct ctrbox_json j = {0};
			int ok = 0;
			if (!ctrbox_json_parse(&j, buf, len)) {
				char *os = ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "os"));
				char *arch =
				    ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "architecture"));
				ok = plat_match(w, os, arch, NULL);
				free(os);
				free(arch);
			}
			ctrbox_json_free(&j);
			free(buf);
			if (!ok) {
				descs_free(ch, n);
				return -1; /* skipped */
			}
		}
		*parts = ch;
		*nparts = n;
		return 0;
	}
	if (!ctr_mt_is_index(d->mt)) {
		*err = NULL;
		return -1;
	}
	/* manifests with a matching platform first, those without after */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if (pass == 0 ? !ch[i].has_platform : ch[i].has_platform)
				continue;
			if (!desc_match(w, &ch[i]))
				continue;
			rc = resolve_manifest(c, &ch[i], w, depth + 1, parts, nparts, err);
			if (rc >= 0) {
				descs_free(ch, n);
				return rc;
			}
		}
	descs_free(ch, n);
	return -1;
}

static int manifest_parts(struct ctr *c, const struct desc *target, const struct want *w,
			  struct desc **parts, size_t *nparts, char **err)
{
	*err = NULL;
	int rc = resolve_manifest(c, target, w, 0, parts, nparts, err);
	if (rc < 0) {
		free(*err);
		if (asprintf(err, "manifest %s: not found", target->digest) < 0)
			*err = NULL;
		return CTRBOX_NOT_FOUND;
	}
	return rc;
}

static int content_exists(struct ctr *c, const char *digest, char **err)
{
	Containerd__Services__Content__V1__InfoRequest req =
	    CONTAINERD__SERVICES__CONTENT__V1__INFO_REQUEST__INIT;
	req.digest = (char *)digest;
	return ctr_call(c, CONTENT_SVC "Info", &req.base,
			&containerd__services__content__v1__info_response__descriptor, NULL, err);
}

static const struct want default_want = {0, "linux", "amd64", ""};

/* ---- list ---- */

static int list_images(struct ctr *c, int nf, char **filters,
		       Containerd__Services__Images__V1__ListImagesResponse **out, const char *what)
{
	Containerd__Services__Images__V1__ListImagesRequest req =
	    CONTAINERD__SERVICES__IMAGES__V1__LIST_IMAGES_REQUEST__INIT;
	char *msg = NULL;
	req.n_filters = (size_t)nf;
	req.filters = filters;
	int rc = ctr_call(c, IMG_SVC "List", &req.base,
			  &containerd__services__images__v1__list_images_response__descriptor,
			  (ProtobufCMessage **)out, &msg);
	if (rc) {
		if (rc == CTRBOX_DEADLINE_EXCEEDED)
			ctr_fail("%s: context deadline exceeded", what);
		else if (!(rc == CTRBOX_UNAVAILABLE && !c->cli))
			ctr_fail("%s: %s", what, ctr_errtext(rc, msg));
		free(msg);
		return 1;
	}
	free(msg);
	return 0;
}

/* image.Size: the target, the manifest for this platform (first match), config and layers */
static int64_t image_size(struct ctr *c, const struct desc *d, int depth)
{
	int64_t size = d->size;
	struct desc *ch;
	size_t n;
	char *err = NULL;
	if (depth > 8 || children(c, d, &ch, &n, &err)) {
		free(err);
		return size;
	}
	if (ctr_mt_is_index(d->mt)) {
		ssize_t pick = -1;
		for (int pass = 0; pass < 2 && pick < 0; pass++)
			for (size_t i = 0; i < n && pick < 0; i++) {
				if (pass == 0 ? !ch[i].has_platform : ch[i].has_platform)
					continue;
				if (desc_match(&default_want, &ch[i]))
					pick = (ssize_t)i;
			}
		if (pick >= 0)
			size += image_size(c, &ch[pick], depth + 1);
	} else {
		for (size_t i = 0; i < n; i++)
			size += image_size(c, &ch[i], depth + 1);
	}
	descs_free(ch, n);
	return size;
}

struct strset {
	char **v;
	size_t n;
};

static void strset_add(struct strset *s, char *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x)) {
			free(x);
			return;
		}
	char **v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v) {
		free(x);
		return;
	}
	s->v = v;
	s->v[s->n++] = x;
}

/* images.Platforms */
static int image_platforms(struct ctr *c, const struct desc *d, struct strset *s, int depth)
{
	if (d->has_platform) {
		strset_add(s, platform_format(d->os, d->arch, d->variant));
		return 0;
	}
	if (is_config(d->mt)) {
		char *buf, *err = NULL;
		size_t len;
		int rc = blob_read(c, d->digest, &buf, &len, &err);
		free(err);
		if (rc)
			return rc;
		struct ctrbox_json j = {0};
		if (!ctrbox_json_parse(&j, buf, len)) {
			char *os = ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "os"));
			char *arch = ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "architecture"));
			strset_add(s, platform_format(os, arch, NULL));
			free(os);
			free(arch);
		}
		ctrbox_json_free(&j);
		free(buf);
		return 0;
	}
	struct desc *ch;
	size_t n;
	char *err = NULL;
	if (depth > 8)
		return 0;
	int rc = children(c, d, &ch, &n, &err);
	free(err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		rc = image_platforms(c, &ch[i], s, depth + 1);
	descs_free(ch, n);
	return rc;
}

static int cmp_img_label(const void *a, const void *b)
{
	const Containerd__Services__Images__V1__Image__LabelsEntry *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

static void print_labels_line(image_t *img, const char *sep, FILE *f)
{
	if (img->n_labels)
		qsort(img->labels, img->n_labels, sizeof(*img->labels), cmp_img_label);
	for (size_t i = 0; i < img->n_labels; i++)
		fprintf(f, "%s%s=%s", i ? sep : "", img->labels[i]->key,
			img->labels[i]->value ? img->labels[i]->value : "");
}

static int cmd_ls(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"quiet,q", CF_BOOL, NULL}};
	struct ctr_args a;
	Containerd__Services__Images__V1__ListImagesResponse *r = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 1, 1, &a))
		goto out;
	if (list_images(c, a.argc, a.argv, &r, "failed to list images"))
		goto out;
	if (ctr_bool(&a, "quiet")) {
		for (size_t i = 0; i < r->n_images; i++)
			printf("%s\n", r->images[i]->name);
		rc = 0;
		goto out;
	}
	struct gotabw *t = gotabw_new(stdout, 1, 1);
	gotabw_printf(t, "REF\tTYPE\tDIGEST\tSIZE\tPLATFORMS\tLABELS\t\n");
	for (size_t i = 0; i < r->n_images; i++) {
		image_t *img = r->images[i];
		struct desc d;
		desc_of_target(img->target, &d);
		int64_t size = image_size(c, &d, 0);
		struct strset ps = {0};
		char *plat = NULL;
		if (!image_platforms(c, &d, &ps, 0) && ps.n) {
			qsort(ps.v, ps.n, sizeof(char *), ctr_cmp_str);
			size_t total = 1;
			for (size_t k = 0; k < ps.n; k++)
				total += strlen(ps.v[k]) + 1;
			plat = calloc(1, total);
			for (size_t k = 0; plat && k < ps.n; k++) {
				if (k)
					strcat(plat, ",");
				strcat(plat, ps.v[k]);
			}
		}
		for (size_t k = 0; k < ps.n; k++)
			free(ps.v[k]);
		free(ps.v);
		char *hs = ctr_human_bytes(size);
		gotabw_printf(t, "%s\t%s\t%s\t%s\t%s\t", img->name, d.mt, d.digest, hs ? hs : "",
			      plat ? plat : "-");
		if (img->n_labels) {
			char *lb = NULL;
			size_t lbn = 0;
			FILE *m = open_memstream(&lb, &lbn);
			if (m) {
				print_labels_line(img, ",", m);
				fclose(m);
			}
			gotabw_printf(t, "%s\t\n", lb ? lb : "");
			free(lb);
		} else {
			gotabw_printf(t, "-\t\n");
		}
		free(hs);
		free(plat);
		desc_clear(&d);
	}
	gotabw_flush(t);
	rc = 0;
out:
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	ctr_args_free(&a);
	return rc;
}

/* ---- check ---- */

/* resolveSnapshotterName: the namespace's containerd.io/defaults/snapshotter label, else
 * overlayfs (also when the namespace cannot be read, as SnapshotService falls back). */
static char *chain_top(struct ctr *c, const struct desc *cfg, char **err)
{
	char *buf;
	size_t len;
	int rc = blob_read(c, cfg->digest, &buf, &len, err);
	if (rc)
		return NULL;
	struct ctrbox_json j = {0};
	char *chain = NULL;
	if (!ctrbox_json_parse(&j, buf, len)) {
		int diffs = ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "rootfs"), "diff_ids");
		int n = ctrbox_json_array_len(&j, diffs);
		for (int i = 0; i < n; i++) {
			char *d = ctrbox_json_strdup(&j, ctrbox_json_array_at(&j, diffs, i));
			if (!d)
				break;
			if (!chain) {
				chain = d;
				continue;
			}
			char *s = NULL, hex[65];
			if (asprintf(&s, "%s %s", chain, d) >= 0) {
				ctrbox_sha256_hex(s, strlen(s), hex);
				free(chain);
				chain = NULL;
				if (asprintf(&chain, "sha256:%s", hex) < 0)
					chain = NULL;
			}
			free(s);
			free(d);
			if (!chain)
				break;
		}
	}
	ctrbox_json_free(&j);
	free(buf);
	if (!chain)
		*err = strdup("no rootfs");
	return chain;
}

/* how many of an image's parts the content store has: "complete (n/n)" or "incomplete
 * (k/n)" in status, "PRESENT/REQUIRED" in size; 1 when complete */
static int check_parts(struct ctr *c, const struct desc *parts, size_t np, char *status,
		       size_t statuslen, char *size, size_t sizelen)
{
	int complete = 1;
	int64_t req = 0, pres = 0;
	size_t npres = 0;
	for (size_t k = 0; k < np; k++) {
		char *e2 = NULL;
		req += parts[k].size;
		if (!content_exists(c, parts[k].digest, &e2)) {
			pres += parts[k].size;
			npres++;
		}
		free(e2);
	}
	if (npres < np)
		complete = 0;
	char *hp = ctr_human_bytes(pres), *hr = ctr_human_bytes(req);
	snprintf(status, statuslen, "%s (%zu/%zu)", npres < np ? "incomplete" : "complete", npres,
		 np);
	snprintf(size, sizelen, "%s/%s", hp ? hp : "", hr ? hr : "");
	free(hp);
	free(hr);
	return complete;
}

/* image.IsUnpacked: the top chain id exists in the snapshotter sn; the first error other
 * than not found in *exit_err */
static int check_unpacked(struct ctr *c, const char *sn, const char *name,
			  const struct desc *top_part, char **exit_err)
{
	char *err = NULL;
	int unpacked = 0;
	char *top = chain_top(c, top_part, &err);
	if (top) {
		Containerd__Services__Snapshots__V1__StatSnapshotRequest sreq =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
		char *se = NULL;
		sreq.snapshotter = (char *)sn;
		sreq.key = top;
		int src = ctr_call(
		    c, "/containerd.services.snapshots.v1.Snapshots/Stat", &sreq.base,
		    &containerd__services__snapshots__v1__stat_snapshot_response__descriptor, NULL,
		    &se);
		if (!src)
			unpacked = 1;
		else if (src != CTRBOX_NOT_FOUND && !*exit_err &&
			 asprintf(exit_err, "unable to check unpack for %s: %s", name,
				  ctr_errtext(src, se)) < 0)
			*exit_err = NULL;
		free(se);
	}
	free(top);
	free(err);
	return unpacked;
}

static int cmd_check(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"quiet,q", CF_BOOL, NULL},
					     {"snapshotter", CF_STR, NULL}};
	struct ctr_args a;
	Containerd__Services__Images__V1__ListImagesResponse *r = NULL;
	char *exit_err = NULL, *dsn = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 2, 1, &a))
		goto out;
	int quiet = ctr_bool(&a, "quiet");
	if (list_images(c, a.argc, a.argv, &r, "failed listing images"))
		goto out;
	const char *sn = ctr_snapshotter_arg(&a);
	if (!sn)
		sn = dsn = ctr_default_snapshotter(c, 0);
	if (!sn) {
		ctr_fail("out of memory");
		goto out;
	}
	if (r->n_images == 0) {
		rc = 0;
		goto out;
	}
	struct gotabw *t = quiet ? NULL : gotabw_new(stdout, 1, 1);
	if (t)
		gotabw_printf(t, "REF\tTYPE\tDIGEST\tSTATUS\tSIZE\tUNPACKED\t\n");
	for (size_t i = 0; i < r->n_images; i++) {
		image_t *img = r->images[i];
		struct desc d, *parts = NULL;
		size_t np = 0;
		char *err = NULL, status[128], size[128];
		int complete = 1, unpacked = 0;
		desc_of_target(img->target, &d);
		int mrc = manifest_parts(c, &d, &default_want, &parts, &np, &err);
		if (mrc && mrc != CTRBOX_NOT_FOUND) {
			if (!exit_err &&
			    asprintf(&exit_err, "unable to check %s: failed to check image %s: %s",
				     img->name, d.digest, err ? err : "") < 0)
				exit_err = NULL;
			snprintf(status, sizeof(status), "error");
			snprintf(size, sizeof(size), "-");
			complete = 0;
		} else if (mrc == CTRBOX_NOT_FOUND) {
			/* unavailable: the target itself counts as required and missing */
			char *h = ctr_human_bytes(0);
			snprintf(status, sizeof(status), "unavailable (0/?)");
			snprintf(size, sizeof(size), "%s/?", h ? h : "");
			free(h);
			complete = 0;
		} else {
			complete =
			    check_parts(c, parts, np, status, sizeof(status), size, sizeof(size));
		}
		free(err);
		err = NULL;
		if (!mrc && np > 0)
			unpacked = check_unpacked(c, sn, img->name, &parts[0], &exit_err);
		free(err);
		descs_free(parts, np);
		if (t)
			gotabw_printf(t, "%s\t%s\t%s\t%s\t%s\t%s\n", img->name, d.mt, d.digest,
				      status, size, unpacked ? "true" : "false");
		else if (complete)
			printf("%s\n", img->name);
		desc_clear(&d);
	}
	if (t)
		gotabw_flush(t);
	rc = 0;
	if (exit_err)
		rc = ctr_fail("%s", exit_err);
out:
	free(dsn);
	free(exit_err);
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	ctr_args_free(&a);
	return rc;
}

/* ---- rm ---- */

static void log_line(const char *level, const char *msg, const char *err)
{
	char ts[64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* logrus' text format: the zone as +hh:mm or Z */
	size_t l = strlen(ts);
	if (l > 5 && !strcmp(ts + l - 5, "+0000"))
		strcpy(ts + l - 5, "Z");
	else if (l > 5) {
		memmove(ts + l - 1, ts + l - 2, 3);
		ts[l - 2] = ':';
	}
	char *q = ctrbox_json_quote(msg);
	fprintf(stderr, "time=\"%s\" level=%s msg=%s", ts, level, q ? q : msg);
	free(q);
	if (err) {
		q = ctrbox_json_quote(err);
		fprintf(stderr, " error=%s", q ? q : err);
		free(q);
	}
	fputc('\n', stderr);
}

static int cmd_rm(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"sync", CF_BOOL, NULL}};
	struct ctr_args a;
	char *exit_err = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 1, 1, &a))
		goto out;
	for (int i = 0; i < a.argc; i++) {
		Containerd__Services__Images__V1__DeleteImageRequest req =
		    CONTAINERD__SERVICES__IMAGES__V1__DELETE_IMAGE_REQUEST__INIT;
		char *msg = NULL;
		req.name = a.argv[i];
		req.sync = ctr_bool(&a, "sync") && i == a.argc - 1;
		int r = ctr_call(c, IMG_SVC "Delete", &req.base, NULL, NULL, &msg);
		if (r == 0) {
			printf("%s\n", a.argv[i]);
		} else if (r == CTRBOX_NOT_FOUND) {
			char *m = NULL;
			if (asprintf(&m, "%s: image not found", a.argv[i]) >= 0)
				log_line("warning", m, NULL);
			free(m);
		} else {
			const char *e = ctr_errtext(r, msg);
			if (r == CTRBOX_UNAVAILABLE && !c->cli) {
				free(msg);
				goto out;
			}
			if (!exit_err &&
			    asprintf(&exit_err, "unable to delete %s: %s", a.argv[i], e) < 0)
				exit_err = NULL;
			char *m = NULL;
			if (asprintf(&m, "unable to delete %s", a.argv[i]) >= 0)
				log_line("error", m, e);
			free(m);
		}
		free(msg);
	}
	rc = exit_err ? ctr_fail("%s", exit_err) : 0;
out:
	free(exit_err);
	ctr_args_free(&a);
	return rc;
}

/* ---- label ---- */

/* Images.Update of name's labels (l), then the labels the image has */
static int label_update(struct ctr *c, const char *name, const struct ctr_labels *l)
{
	Containerd__Services__Images__V1__Image__LabelsEntry *ents =
	    calloc(l->n + 1, sizeof(*ents));
	Containerd__Services__Images__V1__Image__LabelsEntry **lv = calloc(l->n + 1, sizeof(*lv));
	int rc = 1;
	if (!ents || !lv) {
		ctr_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		ents[i] = (Containerd__Services__Images__V1__Image__LabelsEntry)
		    CONTAINERD__SERVICES__IMAGES__V1__IMAGE__LABELS_ENTRY__INIT;
		ents[i].key = l->v[i].key;
		ents[i].value = (char *)l->v[i].value;
		lv[i] = &ents[i];
	}
	Containerd__Services__Images__V1__UpdateImageRequest req =
	    CONTAINERD__SERVICES__IMAGES__V1__UPDATE_IMAGE_REQUEST__INIT;
	image_t img = CONTAINERD__SERVICES__IMAGES__V1__IMAGE__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	/* an empty target, as ctr's Go struct always encodes one: containerd 2.x dereferences it */
	Containerd__Types__Descriptor target = CONTAINERD__TYPES__DESCRIPTOR__INIT;
	img.name = (char *)name;
	img.target = &target;
	img.n_labels = l->n;
	img.labels = lv;
	req.image = &img;
	if (l->npaths) {
		mask.n_paths = l->npaths;
		mask.paths = l->paths;
		req.update_mask = &mask;
	}
	Containerd__Services__Images__V1__UpdateImageResponse *r = NULL;
	if (ctr_rpc(c, IMG_SVC "Update", &req.base,
		    &containerd__services__images__v1__update_image_response__descriptor,
		    (ProtobufCMessage **)&r))
		goto out;
	if (r->image)
		print_labels_line(r->image, ",", stdout);
	printf("\n");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	rc = 0;
out:
	free(lv);
	free(ents);
	return rc;
}

static int cmd_label(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"replace-all,r", CF_BOOL, NULL}};
	struct ctr_args a;
	struct ctr_labels l;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 1, 1, &a))
		goto out;
	const char *name = a.argc ? a.argv[0] : "";
	if (!*name) {
		ctr_fail("please specify an image");
		goto out;
	}
	if (ctr_labels_parse(&l, a.argv + 1, (size_t)a.argc - 1, ctr_bool(&a, "replace-all"))) {
		ctr_fail("out of memory");
		goto out;
	}
	rc = label_update(c, name, &l);
	ctr_labels_free(&l);
out:
	ctr_args_free(&a);
	return rc;
}

/* ---- import ---- */

struct wctx {
	int wake, got, done, code, bad;
	char *msg;
	Containerd__Services__Content__V1__WriteContentResponse *resp;
};

static int w_msg(void *data, const uint8_t *msg, size_t len)
{
	struct wctx *w = data;
	if (w->resp)
		containerd__services__content__v1__write_content_response__free_unpacked(w->resp,
											 NULL);
	w->resp = containerd__services__content__v1__write_content_response__unpack(NULL, len, msg);
	if (!w->resp)
		w->bad = 1;
	w->got = 1;
	w->wake = 1;
	return 0;
}

static void w_done(void *data, int code, const char *message)
{
	struct wctx *w = data;
	w->done = 1;
	w->code = code;
	w->msg = message ? strdup(message) : NULL;
	w->wake = 1;
}

/* Sends one request and waits for its response: 0, or the call's code (w->msg). */
static int w_roundtrip(struct ctr *c, struct ctrbox_grpc_stream *st, struct wctx *w,
		       const Containerd__Services__Content__V1__WriteContentRequest *req)
{
	if (w->done)
		return w->code ? w->code : CTRBOX_INTERNAL;
	w->got = 0;
	if (ctrbox_grpc_stream_send_msg(st, &req->base))
		return CTRBOX_UNAVAILABLE;
	while (!w->got && !w->done) {
		w->wake = 0;
		int rc = ctrbox_loop_run_until(c->loop, &w->wake, c->deadline_ms);
		if (rc < 0 && !w->wake)
			return CTRBOX_DEADLINE_EXCEEDED;
	}
	if (w->got && !w->bad)
		return 0;
	if (w->bad)
		return CTRBOX_INTERNAL;
	return w->code ? w->code : CTRBOX_INTERNAL;
}

/* content.WriteBlob through the Write stream: 0 (written or already there) or 1 printed. */
/* the data from *off on, in writes of at most 1 MiB; *off: where the writer is */
static int w_write_all(struct ctr *c, struct ctrbox_grpc_stream *st, struct wctx *w,
		       const uint8_t *data, size_t len, int64_t *off)
{
	int rc;
	while ((size_t)*off < len) {
		size_t n = len - (size_t)*off;
		if (n > (1u << 20))
			n = 1u << 20;
		Containerd__Services__Content__V1__WriteContentRequest wr =
		    CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
		wr.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__WRITE;
		wr.offset = *off;
		wr.data.data = (uint8_t *)data + *off;
		wr.data.len = n;
		rc = w_roundtrip(c, st, w, &wr);
		if (rc)
			return rc;
		if (w->resp->offset <= *off) {
			rc = CTRBOX_INTERNAL;
			free(w->msg);
			w->msg = strdup("short write");
			return rc;
		}
		*off = w->resp->offset;
	}
	return 0;
}

/* the write stream closed and its end awaited (cancelled at the deadline) */
static void w_close(struct ctr *c, struct ctrbox_grpc_stream *st, struct wctx *w)
{
	if (!w->done)
		ctrbox_grpc_stream_close_send(st);
	while (!w->done) {
		w->wake = 0;
		if (ctrbox_loop_run_until(c->loop, &w->wake, c->deadline_ms) < 0 && !w->wake) {
			ctrbox_grpc_stream_cancel(st);
			w->done = 1;
			break;
		}
	}
}

static int ingest(struct ctr *c, const char *name, const char *ref, const uint8_t *data, size_t len,
		  const char *digest)
{
	struct ctrbox_kv md[2];
	struct wctx w = {0};
	struct ctrbox_grpc_stream *st = NULL;
	int rc;
	const char *stage = "failed to open writer";
	if (!ctr_client(c))
		return 1;
	rc = ctrbox_grpc_client_start(c->cli, CONTENT_SVC "Write", md, ctr_metadata(c, md),
				      ctr_timeout_left(c), w_msg, w_done, &w, &st);
	if (rc)
		return ctr_fail("failed to ingest \"%s\": %s", name, strerror(-rc));
	Containerd__Services__Content__V1__WriteContentRequest req =
	    CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
	req.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__STAT;
	req.ref = (char *)ref;
	req.total = (int64_t)len;
	req.expected = (char *)digest;
	rc = w_roundtrip(c, st, &w, &req);
	if (rc == CTRBOX_ALREADY_EXISTS) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto fail;
	int64_t off = w.resp->offset;
	if (off < 0 || (size_t)off > len)
		off = 0;
	stage = "failed to send write";
	rc = w_write_all(c, st, &w, data, len, &off);
	if (rc)
		goto fail;
	stage = "commit failed";
	Containerd__Services__Content__V1__WriteContentRequest cm =
	    CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
	cm.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__COMMIT;
	cm.total = (int64_t)len;
	cm.offset = off;
	cm.expected = (char *)digest;
	rc = w_roundtrip(c, st, &w, &cm);
	if (rc == CTRBOX_ALREADY_EXISTS) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto fail;
	if (!w.resp->digest || strcmp(w.resp->digest, digest)) {
		ctr_fail("failed to ingest \"%s\": unexpected digest: %s != %s", name,
			 w.resp->digest ? w.resp->digest : "", digest);
		rc = 1;
		goto out;
	}
	w_close(c, st, &w);
	st = NULL;
	rc = 0;
	goto out;
fail:
	if (rc == CTRBOX_DEADLINE_EXCEEDED && !w.done)
		ctr_fail("failed to ingest \"%s\": %s: context deadline exceeded", name, stage);
	else
		ctr_fail("failed to ingest \"%s\": %s: %s", name, stage, ctr_errtext(rc, w.msg));
	rc = 1;
out:
	if (st && !w.done)
		ctrbox_grpc_stream_cancel(st);
	if (w.resp)
		containerd__services__content__v1__write_content_response__free_unpacked(w.resp,
											 NULL);
	free(w.msg);
	return rc;
}

struct named {
	char *name;
	struct desc d; /* borrowed copy: mt/digest/size/annotations */
};

struct import_state {
	struct ctr *c;
	struct want want;
	const struct desc *index;
	const char *base;
	int prefix_filter; /* --base-name given */
	int digests, skip_named;
	struct named *imgs;
	size_t nimgs;
};

static int desc_dup(const struct desc *s, struct desc *d)
{
	memset(d, 0, sizeof(*d));
	d->mt = strdup(s->mt ? s->mt : "");
	d->digest = strdup(s->digest ? s->digest : "");
	d->size = s->size;
	d->ann_k = calloc(s->nann + 1, sizeof(char *));
	d->ann_v = calloc(s->nann + 1, sizeof(char *));
	if (!d->mt || !d->digest || !d->ann_k || !d->ann_v)
		return -1;
	for (size_t i = 0; i < s->nann; i++) {
		d->ann_k[i] = strdup(s->ann_k[i]);
		d->ann_v[i] = strdup(s->ann_v[i]);
		d->nann++;
	}
	return 0;
}

static void add_image(struct import_state *s, char *name, const struct desc *d)
{
	struct named *v = realloc(s->imgs, (s->nimgs + 1) * sizeof(*v));
	if (!v || !name) {
		free(name);
		return;
	}
	s->imgs = v;
	v[s->nimgs].name = name;
	desc_dup(d, &v[s->nimgs].d);
	s->nimgs++;
}

static int is_image_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n))
		return 0;
	return !s[n] || s[n] == '/' || s[n] == ':' || s[n] == '@';
}

static char *image_name(const struct import_state *s, const struct desc *m)
{
	const char *n = desc_ann(m, "io.containerd.image.name");
	if (n && *n)
		return strdup(n);
	n = desc_ann(m, "org.opencontainers.image.ref.name");
	if (!n || !*n)
		return NULL;
	if (strpbrk(n, "/:@")) {
		if (s->prefix_filter && !is_image_prefix(n, s->base))
			return NULL;
		return strdup(n);
	}
	char *out = NULL;
	if (asprintf(&out, "%s:%s", s->base, n) < 0)
		return NULL;
	return out;
}

/* images.SetChildrenLabels(FilterPlatforms(handler)) over the walk */
static int label_children(struct ctr *c, const struct desc *parent, const struct desc *ch, size_t n)
{
	if (!n)
		return 0;
	Containerd__Services__Content__V1__UpdateRequest req =
	    CONTAINERD__SERVICES__CONTENT__V1__UPDATE_REQUEST__INIT;
	Containerd__Services__Content__V1__Info info =
	    CONTAINERD__SERVICES__CONTENT__V1__INFO__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	Containerd__Services__Content__V1__Info__LabelsEntry *ents = calloc(n, sizeof(*ents));
	Containerd__Services__Content__V1__Info__LabelsEntry **lv = calloc(n, sizeof(*lv));
	char **paths = calloc(n, sizeof(*paths)), **keys = calloc(n, sizeof(*keys));
	size_t cnt_m = 0, cnt_l = 0, cnt_c = 0, cnt_o = 0;
	int rc = 1;
	if (!ents || !lv || !paths || !keys) {
		ctr_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *mt = ch[i].mt;
		char *k = NULL;
		int r;
		if (is_config(mt))
			r = cnt_c++
				? asprintf(&k, "containerd.io/gc.ref.content.config%zu", cnt_c - 1)
				: asprintf(&k, "containerd.io/gc.ref.content.config");
		else if (ctr_mt_is_manifest(mt))
			r = asprintf(&k, "containerd.io/gc.ref.content.m.%zu", cnt_m++);
		else if (is_layer(mt))
			r = asprintf(&k, "containerd.io/gc.ref.content.l.%zu", cnt_l++);
		else
			r = asprintf(&k, "containerd.io/gc.ref.content.%zu", cnt_o++);
		if (r < 0) {
			ctr_fail("out of memory");
			goto out;
		}
		keys[i] = k;
		Containerd__Services__Content__V1__Info__LabelsEntry e =
		    CONTAINERD__SERVICES__CONTENT__V1__INFO__LABELS_ENTRY__INIT;
		e.key = k;
		e.value = ch[i].digest;
		ents[i] = e;
		lv[i] = &ents[i];
		if (asprintf(&paths[i], "labels.%s", k) < 0) {
			ctr_fail("out of memory");
			goto out;
		}
	}
	info.digest = parent->digest;
	info.n_labels = n;
	info.labels = lv;
	mask.n_paths = n;
	mask.paths = paths;
	req.info = &info;
	req.update_mask = &mask;
	rc = ctr_rpc(c, CONTENT_SVC "Update", &req.base,
		     &containerd__services__content__v1__update_response__descriptor, NULL);
out:
	for (size_t i = 0; keys && paths && i < n; i++) {
		free(keys[i]);
		free(paths[i]);
	}
	free(keys);
	free(paths);
	free(lv);
	free(ents);
	return rc;
}

static int import_walk(struct import_state *s, const struct desc *d, int depth)
{
	struct desc *ch = NULL;
	size_t n = 0;
	char *err = NULL;
	int rc;
	if (depth > 16)
		return ctr_fail("image index too deep");
	rc = children(s->c, d, &ch, &n, &err);
	if (rc) {
		ctr_fail("%s", err ? err : ctrbox_code_name(rc));
		free(err);
		return 1;
	}
	if (d == s->index) {
		for (size_t i = 0; i < n; i++) {
			char *name = image_name(s, &ch[i]);
			if (name)
				add_image(s, strdup(name), &ch[i]);
			if (!(s->skip_named && name)) {
				if (s->digests) {
					char *r = NULL;
					if (asprintf(&r, "%s@%s", s->base, ch[i].digest) >= 0)
						add_image(s, r, &ch[i]);
				}
			}
			free(name);
		}
	}
	/* FilterPlatforms */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (desc_match(&s->want, &ch[i])) {
			if (k != i) {
				struct desc tmp = ch[k];
				ch[k] = ch[i];
				ch[i] = tmp;
			}
			k++;
		}
	}
	rc = label_children(s->c, d, ch, k);
	for (size_t i = 0; i < k && !rc; i++)
		rc = import_walk(s, &ch[i], depth + 1);
	descs_free(ch, n);
	return rc;
}

static int save_image(struct ctr *c, const struct named *im)
{
	Containerd__Types__Descriptor t = CONTAINERD__TYPES__DESCRIPTOR__INIT;
	image_t img = CONTAINERD__SERVICES__IMAGES__V1__IMAGE__INIT;
	Containerd__Types__Descriptor__AnnotationsEntry *ae = calloc(im->d.nann + 1, sizeof(*ae));
	Containerd__Types__Descriptor__AnnotationsEntry **av = calloc(im->d.nann + 1, sizeof(*av));
	int rc = 1;
	if (!ae || !av) {
		ctr_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < im->d.nann; i++) {
		Containerd__Types__Descriptor__AnnotationsEntry e =
		    CONTAINERD__TYPES__DESCRIPTOR__ANNOTATIONS_ENTRY__INIT;
		e.key = im->d.ann_k[i];
		e.value = im->d.ann_v[i];
		ae[i] = e;
		av[i] = &ae[i];
	}
	t.media_type = im->d.mt;
	t.digest = im->d.digest;
	t.size = im->d.size;
	t.n_annotations = im->d.nann;
	t.annotations = av;
	img.name = im->name;
	img.target = &t;

	Containerd__Services__Images__V1__UpdateImageRequest ureq =
	    CONTAINERD__SERVICES__IMAGES__V1__UPDATE_IMAGE_REQUEST__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *path = "target";
	mask.n_paths = 1;
	mask.paths = &path;
	ureq.image = &img;
	ureq.update_mask = &mask;
	char *msg = NULL;
	int r = ctr_call(c, IMG_SVC "Update", &ureq.base,
			 &containerd__services__images__v1__update_image_response__descriptor, NULL,
			 &msg);
	if (r == CTRBOX_NOT_FOUND) {
		Containerd__Services__Images__V1__CreateImageRequest creq =
		    CONTAINERD__SERVICES__IMAGES__V1__CREATE_IMAGE_REQUEST__INIT;
		creq.image = &img;
		rc = ctr_rpc(c, IMG_SVC "Create", &creq.base,
			     &containerd__services__images__v1__create_image_response__descriptor,
			     NULL);
	} else if (r) {
		if (!(r == CTRBOX_UNAVAILABLE && !c->cli))
			ctr_fail("%s", ctr_errtext(r, msg));
	} else {
		rc = 0;
	}
	free(msg);
out:
	free(ae);
	free(av);
	return rc;
}

static int parse_platform(const char *s, struct want *w)
{
	char *cp = strdup(s), *parts[3] = {0};
	int n = 0;
	if (!cp)
		return -1;
	for (char *p = strtok(cp, "/"); p && n < 3; p = strtok(NULL, "/"))
		parts[n++] = p;
	if (n == 0) {
		free(cp);
		return -1;
	}
	const char *os = "linux", *arch = parts[0], *var = n > 1 ? parts[1] : "";
	if (!strcmp(parts[0], "linux") || !strcmp(parts[0], "windows") ||
	    !strcmp(parts[0], "darwin") || !strcmp(parts[0], "freebsd")) {
		os = parts[0];
		arch = n > 1 ? parts[1] : "amd64";
		var = n > 2 ? parts[2] : "";
	}
	normalize(os, arch, var, &w->os, &w->arch, &w->variant);
	free(cp);
	return w->os && w->arch && w->variant ? 0 : -1;
}

/* ---- docker archives (manifest.json), as archive.ImportIndex rewrites them ---- */

/* distribution's ParseDockerRef(ref).String() for the usual shapes; NULL if malformed */
static char *normalize_ref(const char *ref)
{
	char *name = strdup(ref), *dg = NULL, *tag = NULL, *out = NULL;
	if (!name || !*name)
		goto out;
	char *at = strchr(name, '@');
	if (at) {
		*at = 0;
		dg = at + 1;
	}
	char *slash = strrchr(name, '/'), *colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = 0;
		tag = colon + 1;
	}
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			goto out;
	const char *domain = "docker.io", *rest = name;
	char *first = strchr(name, '/');
	if (first) {
		size_t fl = (size_t)(first - name);
		if (memchr(name, '.', fl) || memchr(name, ':', fl) ||
		    (fl == 9 && !strncmp(name, "localhost", 9))) {
			*first = 0;
			domain = name;
			rest = first + 1;
		}
	}
	if (!strcmp(domain, "index.docker.io"))
		domain = "docker.io";
	int lib = !strcmp(domain, "docker.io") && !strchr(rest, '/');
	if (dg)
		tag = NULL; /* a digest wins over a tag */
	else if (!tag)
		tag = "latest";
	if (asprintf(&out, "%s/%s%s%s%s%s%s", domain, lib ? "library/" : "", rest, tag ? ":" : "",
		     tag ? tag : "", dg ? "@" : "", dg ? dg : "") < 0)
		out = NULL;
out:
	free(name);
	return out;
}

/* containerd reference.Parse(name).Object: the tag and/or "@digest" */
static const char *oci_ref_name(const char *name)
{
	const char *at = strchr(name, '@');
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(name, ':');
	if (at && colon > at) { /* the ':' of the digest */
		colon = NULL;
		for (const char *p = name; p < at; p++)
			if (*p == ':' && (!slash || p > slash))
				colon = p;
	}
	if (colon && (!slash || colon > slash))
		return colon + 1;
	return at ? at : name;
}

struct sbuf {
	char *s;
	size_t n;
	FILE *f;
};

/* A descriptor's mediaType, digest and size members. */
static void json_desc(struct ctrbox_jsonw *w, const char *mt, const char *dg, int64_t size)
{
	ctrbox_jsonw_key(w, "mediaType");
	ctrbox_jsonw_string(w, mt);
	ctrbox_jsonw_key(w, "digest");
	ctrbox_jsonw_string(w, dg);
	ctrbox_jsonw_key(w, "size");
	ctrbox_jsonw_int(w, size);
}

static ssize_t tar_find(const struct tar *tr, const char *name, int depth)
{
	for (size_t i = 0; i < tr->n; i++) {
		if (strcmp(tr->e[i].name, name))
			continue;
		if (tr->e[i].type == '0')
			return (ssize_t)i;
		if (tr->e[i].type == '2' && tr->e[i].link && depth == 0) {
			char *dir = strdup(name), *p = NULL;
			char *sl = dir ? strrchr(dir, '/') : NULL;
			if (!dir)
				return -1;
			if (sl)
				*sl = 0;
			if (tr->e[i].link[0] == '/' || !sl)
				p = strdup(tr->e[i].link);
			else if (asprintf(&p, "%s/%s", dir, tr->e[i].link) < 0)
				p = NULL;
			free(dir);
			if (!p)
				return -1;
			ctrbox_path_clean(p);
			ssize_t r = tar_find(tr, p[0] == '/' ? p + 1 : p, 1);
			free(p);
			return r;
		}
	}
	return -1;
}

/* The Docker manifest of the manifest.json entry t: its config and layers found in the tar
 * (as docker's importer writes it). 0 with *out (malloc'd), or 1 after ctr_fail. */
static int docker_manifest(const struct tar *tr, char (*dgs)[80], const struct ctrbox_json *j,
			   int t, ssize_t ci, char **out, size_t *outlen)
{
	struct ctrbox_jsonw w = {0};
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "schemaVersion");
	ctrbox_jsonw_int(&w, 2);
	ctrbox_jsonw_key(&w, "mediaType");
	ctrbox_jsonw_string(&w, MT_DOCKER_MANIFEST);
	ctrbox_jsonw_key(&w, "config");
	ctrbox_jsonw_object_begin(&w);
	json_desc(&w, MT_DOCKER_CONFIG, dgs[ci], (int64_t)tr->e[ci].size);
	ctrbox_jsonw_object_end(&w);
	ctrbox_jsonw_key(&w, "layers");
	ctrbox_jsonw_array_begin(&w); /* never null: the importer makes the slice */
	int layers = ctrbox_json_get(j, t, "Layers");
	int nl = ctrbox_json_array_len(j, layers);
	for (int l = 0; l < nl; l++) {
		char *ln = ctrbox_json_strdup(j, ctrbox_json_array_at(j, layers, l));
		ssize_t li = ln ? tar_find(tr, ln, 0) : -1;
		if (li < 0) {
			ctr_fail("failed to resolve layers: layer \"%s\" not found", ln ? ln : "");
			free(ln);
			ctrbox_jsonw_free(&w);
			return 1;
		}
		free(ln);
		const struct tar_entry *le = &tr->e[li];
		int gz = le->size >= 2 && le->data[0] == 0x1f && le->data[1] == 0x8b;
		int zst = le->size >= 4 && !memcmp(le->data, "\x28\xb5\x2f\xfd", 4);
		ctrbox_jsonw_object_begin(&w);
		json_desc(&w,
			  gz || zst ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
				    : "application/vnd.docker.image.rootfs.diff.tar",
			  dgs[li], (int64_t)le->size);
		ctrbox_jsonw_object_end(&w);
	}
	ctrbox_jsonw_array_end(&w);
	ctrbox_jsonw_object_end(&w);
	if (ctrbox_jsonw_finish(&w, out, outlen))
		return ctr_fail("out of memory");
	return 0;
}

/* The index entry's platform object from the image config (normalized), NULL if the config
 * is not JSON. */
static char *docker_platform(const struct tar_entry *cfg)
{
	struct ctrbox_json cj = {0};
	struct ctrbox_jsonw w = {0};
	char *out = NULL;
	if (ctrbox_json_parse(&cj, (const char *)cfg->data, cfg->size))
		return NULL;
	char *os = ctrbox_json_strdup(&cj, ctrbox_json_get(&cj, 0, "os"));
	char *arch = ctrbox_json_strdup(&cj, ctrbox_json_get(&cj, 0, "architecture"));
	char *var = ctrbox_json_strdup(&cj, ctrbox_json_get(&cj, 0, "variant"));
	char *no, *na, *nv;
	normalize(os, arch, var, &no, &na, &nv);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "architecture");
	ctrbox_jsonw_string(&w, na);
	ctrbox_jsonw_key(&w, "os");
	ctrbox_jsonw_string(&w, no);
	if (nv && *nv) {
		ctrbox_jsonw_key(&w, "variant");
		ctrbox_jsonw_string(&w, nv);
	}
	ctrbox_jsonw_object_end(&w);
	if (ctrbox_jsonw_finish(&w, &out, NULL))
		out = NULL;
	free(os), free(arch), free(var), free(no), free(na), free(nv);
	ctrbox_json_free(&cj);
	return out;
}

/* manifest.json's entry t into w's manifests: its manifest ingested, then one descriptor per
 * RepoTags entry (one without a name when there are none). 0, or 1 after ctr_fail. */
static int docker_entry(struct ctr *c, const struct tar *tr, char (*dgs)[80],
			const struct ctrbox_json *j, int t, struct ctrbox_jsonw *w)
{
	char *cfg = ctrbox_json_strdup(j, ctrbox_json_get(j, t, "Config"));
	ssize_t ci = cfg ? tar_find(tr, cfg, 0) : -1;
	if (ci < 0) {
		ctr_fail("image config \"%s\" not found", cfg ? cfg : "");
		free(cfg);
		return 1;
	}
	free(cfg);
	char *mbuf = NULL, *ref = NULL, hex[65], mdg[80];
	size_t mlen = 0;
	if (docker_manifest(tr, dgs, j, t, ci, &mbuf, &mlen))
		return 1;
	ctrbox_sha256_hex(mbuf, mlen, hex);
	snprintf(mdg, sizeof(mdg), "sha256:%s", hex);
	if (asprintf(&ref, "manifest-%s", mdg) < 0) {
		free(mbuf);
		return ctr_fail("out of memory");
	}
	int ir = ingest(c, "manifest.json", ref, (const uint8_t *)mbuf, mlen, mdg);
	free(ref);
	free(mbuf);
	if (ir)
		return 1;
	char *plat = docker_platform(&tr->e[ci]);
	int tags = ctrbox_json_get(j, t, "RepoTags");
	int nt = ctrbox_json_array_len(j, tags);
	for (int k = 0; k < (nt > 0 ? nt : 1); k++) {
		char *name = NULL;
		if (nt > 0) {
			char *r = ctrbox_json_strdup(j, ctrbox_json_array_at(j, tags, k));
			name = r ? normalize_ref(r) : NULL;
			if (!name) {
				ctr_fail("normalize image ref \"%s\": invalid reference format",
					 r ? r : "");
				free(r);
				free(plat);
				return 1;
			}
			free(r);
		}
		ctrbox_jsonw_object_begin(w);
		json_desc(w, MT_DOCKER_MANIFEST, mdg, (int64_t)mlen);
		if (name) {
			ctrbox_jsonw_key(w, "annotations");
			ctrbox_jsonw_object_begin(w);
			ctrbox_jsonw_key(w, "io.containerd.image.name");
			ctrbox_jsonw_string(w, name);
			ctrbox_jsonw_key(w, "org.opencontainers.image.ref.name");
			ctrbox_jsonw_string(w, oci_ref_name(name));
			ctrbox_jsonw_object_end(w);
		}
		if (plat) {
			ctrbox_jsonw_key(w, "platform");
			ctrbox_jsonw_raw(w, plat, strlen(plat));
		}
		ctrbox_jsonw_object_end(w);
		free(name);
	}
	free(plat);
	return 0;
}

static int docker_index(struct ctr *c, const struct tar *tr, char (*dgs)[80],
			const struct tar_entry *mf, struct desc *index)
{
	struct ctrbox_json j = {0};
	struct ctrbox_jsonw w = {0};
	char *ibuf = NULL;
	size_t ilen = 0;
	int rc = 1;
	if (ctrbox_json_parse(&j, (const char *)mf->data, mf->size) || !ctrbox_json_is_array(&j, 0))
		return ctr_fail("untar manifest \"manifest.json\": invalid JSON");
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "schemaVersion");
	ctrbox_jsonw_int(&w, 2);
	ctrbox_jsonw_key(&w, "manifests");
	int n = ctrbox_json_array_len(&j, 0);
	if (!n)
		ctrbox_jsonw_null(&w);
	else
		ctrbox_jsonw_array_begin(&w);
	for (int m = 0; m < n; m++)
		if (docker_entry(c, tr, dgs, &j, ctrbox_json_array_at(&j, 0, m), &w))
			goto out;
	if (n)
		ctrbox_jsonw_array_end(&w);
	ctrbox_jsonw_object_end(&w);
	if (ctrbox_jsonw_finish(&w, &ibuf, &ilen)) {
		ctr_fail("out of memory");
		goto out;
	}
	char hex[65], idg[80];
	ctrbox_sha256_hex(ibuf, ilen, hex);
	snprintf(idg, sizeof(idg), "sha256:%s", hex);
	char *ref = NULL;
	if (asprintf(&ref, "manifest-%s", idg) < 0) {
		ctr_fail("out of memory");
		goto out;
	}
	int ir = ingest(c, "index", ref, (const uint8_t *)ibuf, ilen, idg);
	free(ref);
	if (ir)
		goto out;
	index->mt = strdup(MT_OCI_INDEX);
	index->digest = strdup(idg);
	index->size = (int64_t)ilen;
	rc = 0;
out:
	ctrbox_jsonw_free(&w);
	free(ibuf);
	ctrbox_json_free(&j);
	return rc;
}

static int load_input(const char *in, uint8_t **buf, size_t *len, int *mapped)
{
	*mapped = 0;
	if (!strcmp(in, "-")) {
		char *b;
		int rc = ctrbox_read_fd_all(0, (size_t)16 << 30, &b, len);
		if (rc)
			return rc;
		*buf = (uint8_t *)b;
		return 0;
	}
	int fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (st.st_size == 0) {
		close(fd);
		*buf = NULL;
		*len = 0;
		return 0;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED)
		return -e;
	*buf = p;
	*len = (size_t)st.st_size;
	*mapped = 1;
	return 0;
}

/* the import flags: base name (--base-name, else import-DATE), digests, platforms */
static int import_opts(const struct ctr_args *a, struct import_state *s, char *base, size_t baselen,
		       struct want *pw)
{
	const char *bn = ctr_str(a, "base-name");
	if (bn && *bn) {
		s->base = bn;
		s->prefix_filter = 1;
	} else {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(base, baselen, "import-%Y-%m-%d", &tm);
		s->base = base;
	}
	s->digests = ctr_bool(a, "digests");
	if (ctr_bool(a, "skip-digest-for-named")) {
		if (!s->digests) {
			ctr_fail("--skip-digest-for-named must be specified with --digests option");
			return 1;
		}
		s->skip_named = 1;
	}
	const char *plat = ctr_str(a, "platform");
	if (plat && *plat) {
		if (parse_platform(plat, pw)) {
			ctr_fail(
			    "\"%s\": unknown operating system or architecture: invalid argument",
			    plat);
			return 1;
		}
		s->want = *pw;
	}
	if (ctr_bool(a, "all-platforms"))
		s->want.all = 1;
	return 0;
}

/* the archive (a file, or - for stdin) read and its tar entries parsed */
static int import_read(const char *in, uint8_t **buf, size_t *len, int *mapped, struct tar *tr)
{
	int e = load_input(in, buf, len, mapped);
	if (e) {
		char es[128];
		snprintf(es, sizeof(es), "%s", strerror(-e));
		es[0] = (char)tolower((unsigned char)es[0]); /* Go's wording */
		ctr_fail("open %s: %s", in, es);
		return 1;
	}
	e = tar_parse(*buf, *len, tr);
	if (e) {
		ctr_fail("%s", e == -ENOMEM  ? "out of memory"
			       : e == -EPIPE ? "unexpected EOF"
					     : "archive/tar: invalid tar header");
		return 1;
	}
	return 0;
}

/* every regular file of the archive into the content store (unless there), its digest in
 * dgs[i]; oci-layout, manifest.json and index.json found on the way */
static int import_ingest(struct ctr *c, const struct tar *tr, char (*dgs)[80],
			 const struct tar_entry **layout, const struct tar_entry **dmanifest,
			 const struct tar_entry **idx, char *idx_digest)
{
	for (size_t i = 0; i < tr->n; i++) {
		const struct tar_entry *te = &tr->e[i];
		if (te->type != '0')
			continue;
		if (!strcmp(te->name, "oci-layout")) {
			*layout = te;
			continue;
		}
		if (!strcmp(te->name, "manifest.json")) {
			*dmanifest = te;
			continue;
		}
		char hex[65], dg[80], *ref = NULL;
		ctrbox_sha256_hex(te->data, te->size, hex);
		snprintf(dg, sizeof(dg), "sha256:%s", hex);
		memcpy(dgs[i], dg, sizeof(dg));
		if (!strcmp(te->name, "index.json")) {
			*idx = te;
			snprintf(idx_digest, 80, "%s", dg);
		}
		char *ierr = NULL;
		int ir = content_exists(c, dg, &ierr);
		free(ierr);
		if (ir == 0)
			continue;
		if (asprintf(&ref, "tar-%s", te->name) < 0) {
			ctr_fail("out of memory");
			return 1;
		}
		ir = ingest(c, te->name, ref, te->data, te->size, dg);
		free(ref);
		if (ir)
			return 1;
	}
	return 0;
}

/* the archive's index: index.json of an OCI layout 1.0.0, else one made of docker's
 * manifest.json */
static int import_index(struct ctr *c, const struct tar *tr, char (*dgs)[80],
			const struct tar_entry *layout, const struct tar_entry *dmanifest,
			const struct tar_entry *idx, const char *idx_digest, struct desc *index)
{
	if (layout) {
		struct ctrbox_json j = {0};
		char *ver = NULL;
		if (!ctrbox_json_parse(&j, (const char *)layout->data, layout->size))
			ver = ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "imageLayoutVersion"));
		ctrbox_json_free(&j);
		if (ver && *ver && strcmp(ver, "1.0.0")) {
			ctr_fail("unsupported OCI version %s", ver);
			free(ver);
			return 1;
		}
		if (!ver || !*ver)
			layout = NULL;
		free(ver);
	}
	if (!layout && !dmanifest) {
		ctr_fail("unrecognized image format");
		return 1;
	}
	if (layout && !idx) {
		ctr_fail("missing index.json in OCI layout 1.0.0");
		return 1;
	}
	if (layout) {
		index->mt = strdup(MT_OCI_INDEX);
		index->digest = strdup(idx_digest);
		index->size = (int64_t)idx->size;
	} else if (docker_index(c, tr, dgs, dmanifest, index)) {
		return 1;
	}
	if (!index->mt || !index->digest) {
		ctr_fail("out of memory");
		return 1;
	}
	return 0;
}

/* each imported image unpacked into the snapshotter, as ctr prints it */
static int import_unpack(struct ctr *c, const struct ctr_args *a, const struct import_state *s)
{
	const char *sn = ctr_snapshotter_arg(a);
	for (size_t i = 0; i < s->nimgs; i++) {
		struct ctr_image img;
		printf("unpacking %s (%s)...", s->imgs[i].name, s->imgs[i].d.digest);
		fflush(stdout);
		if (ctr_image_load(c, s->imgs[i].name, &img))
			return 1;
		int ur = ctr_image_unpack(c, &img, sn);
		ctr_image_free(&img);
		if (ur)
			return 1;
		printf("done\n");
		fflush(stdout);
	}
	return 0;
}

/* the images of the index (and --index-name's) found and saved in the image store */
static int import_save(struct ctr *c, const char *iname, struct import_state *s, struct desc *index)
{
	if (iname && *iname)
		add_image(s, strdup(iname), index);
	if (import_walk(s, index, 0))
		return 1;
	for (size_t i = 0; i < s->nimgs; i++)
		if (save_image(c, &s->imgs[i]))
			return 1;
	return 0;
}

static int cmd_import(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {
	    {"base-name", CF_STR, NULL},
	    {"digests", CF_BOOL, NULL},
	    {"skip-digest-for-named", CF_BOOL, NULL},
	    {"index-name", CF_STR, NULL},
	    {"all-platforms", CF_BOOL, NULL},
	    {"platform", CF_STR, NULL},
	    {"no-unpack", CF_BOOL, NULL},
	    {"compress-blobs", CF_BOOL, NULL},
	    {"snapshotter", CF_STR, NULL},
	};
	struct ctr_args a;
	struct import_state s = {0};
	struct tar tr = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	int mapped = 0, rc = 1;
	char base[64], *base_alloc = NULL;
	struct desc index = {0};
	struct want pw = {0};
	char(*dgs)[80] = NULL;

	s.c = c;
	s.want = default_want;
	if (ctr_parse(argc, argv, fl, sizeof(fl) / sizeof(fl[0]), 1, &a))
		goto out;
	if (import_opts(&a, &s, base, sizeof(base), &pw))
		goto out;
	const char *in = a.argc ? a.argv[0] : "";
	if (import_read(in, &buf, &len, &mapped, &tr))
		goto out;
	/* ingest, inside a lease, as the client's Import */
	if (ctr_lease_begin(c))
		goto out;
	const struct tar_entry *layout = NULL, *dmanifest = NULL, *idx = NULL;
	char idx_digest[80] = "";
	dgs = calloc(tr.n + 1, sizeof(*dgs));
	if (!dgs) {
		ctr_fail("out of memory");
		goto lease_out;
	}
	if (import_ingest(c, &tr, dgs, &layout, &dmanifest, &idx, idx_digest))
		goto lease_out;
	if (import_index(c, &tr, dgs, layout, dmanifest, idx, idx_digest, &index))
		goto lease_out;
	s.index = &index;
	if (import_save(c, ctr_str(&a, "index-name"), &s, &index))
		goto lease_out;
	ctr_lease_end(c);
	if (!ctr_bool(&a, "no-unpack") && import_unpack(c, &a, &s))
		goto out;
	rc = 0;
	goto out;
lease_out:
	ctr_lease_end(c);
out:
	for (size_t i = 0; i < s.nimgs; i++) {
		free(s.imgs[i].name);
		desc_clear(&s.imgs[i].d);
	}
	free(s.imgs);
	free(pw.os);
	free(pw.arch);
	free(pw.variant);
	desc_clear(&index);
	free(base_alloc);
	free(dgs);
	tar_free(&tr);
	if (mapped)
		munmap(buf, len);
	else
		free(buf);
	ctr_args_free(&a);
	return rc;
}

/* ---- tag ---- */

static int cmd_tag(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"force", CF_BOOL, NULL}};
	struct ctr_args a;
	Containerd__Services__Images__V1__GetImageResponse *g = NULL;
	char *orig_name = NULL;
	Google__Protobuf__Timestamp *orig_c = NULL, *orig_u = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 1, 1, &a))
		goto out;
	if (a.argc < 1 || !*a.argv[0]) {
		ctr_fail("please provide an image reference to tag from");
		goto out;
	}
	if (a.argc < 2) {
		ctr_fail("please provide an image reference to tag to");
		goto out;
	}
	if (ctr_lease_begin(c))
		goto out;
	Containerd__Services__Images__V1__GetImageRequest greq =
	    CONTAINERD__SERVICES__IMAGES__V1__GET_IMAGE_REQUEST__INIT;
	greq.name = a.argv[0];
	if (ctr_rpc(c, IMG_SVC "Get", &greq.base,
		    &containerd__services__images__v1__get_image_response__descriptor,
		    (ProtobufCMessage **)&g))
		goto lout;
	if (!g->image) {
		ctr_fail("image \"%s\": not found", a.argv[0]);
		goto lout;
	}
	orig_name = g->image->name;
	orig_c = g->image->created_at;
	orig_u = g->image->updated_at;
	for (int i = 1; i < a.argc; i++) {
		Containerd__Services__Images__V1__CreateImageRequest creq =
		    CONTAINERD__SERVICES__IMAGES__V1__CREATE_IMAGE_REQUEST__INIT;
		char *msg = NULL;
		g->image->name = a.argv[i];
		g->image->created_at = NULL;
		g->image->updated_at = NULL;
		creq.image = g->image;
		int r = ctr_call(c, IMG_SVC "Create", &creq.base, NULL, NULL, &msg);
		if (r == CTRBOX_ALREADY_EXISTS && ctr_bool(&a, "force")) {
			Containerd__Services__Images__V1__DeleteImageRequest dreq =
			    CONTAINERD__SERVICES__IMAGES__V1__DELETE_IMAGE_REQUEST__INIT;
			dreq.name = a.argv[i];
			free(msg);
			msg = NULL;
			r = ctr_call(c, IMG_SVC "Delete", &dreq.base, NULL, NULL, &msg);
			if (!r)
				r = ctr_call(c, IMG_SVC "Create", &creq.base, NULL, NULL, &msg);
		}
		if (r) {
			if (!(r == CTRBOX_UNAVAILABLE && !c->cli))
				ctr_fail("%s", ctr_errtext(r, msg));
			free(msg);
			goto lout;
		}
		free(msg);
		printf("%s\n", a.argv[i]);
	}
	rc = 0;
lout:
	ctr_lease_end(c);
out:
	if (g) {
		if (g->image && orig_name) { /* the decoded fields back, for the free */
			g->image->name = orig_name;
			g->image->created_at = orig_c;
			g->image->updated_at = orig_u;
		}
		protobuf_c_message_free_unpacked(&g->base, NULL);
	}
	ctr_args_free(&a);
	return rc;
}

/* ---- dispatch ---- */

static int ctr_cmd_images_sub(struct ctr *c, int argc, char **argv);

static const char images_help[] =
    "NAME:\n"
    "   ctr images - manage images\n"
    "\n"
    "USAGE:\n"
    "   ctr images command [command options] [arguments...]\n"
    "\n"
    "COMMANDS:\n"
    "   check                    check existing images to ensure all content is available locally\n"
    "   export                   export images\n"
    "   import                   import images\n"
    "   list, ls                 list images known to containerd\n"
    "   mount                    mount an image to a target path\n"
    "   unmount                  unmount the image from the target\n"
    "   pull                     pull an image from a remote\n"
    "   push                     push an image to a remote\n"
    "   delete, del, remove, rm  remove one or more images by reference\n"
    "   tag                      tag an image\n"
    "   label                    set and clear labels for an image\n"
    "   convert                  convert an image\n"
    "\n"
    "OPTIONS:\n"
    "   --help, -h  show help\n"
    "   \n";

int ctr_cmd_images(struct ctr *c, int argc, char **argv)
{
	static const char *const subs[] = {"check", "import", "list,ls", "delete,del,remove,rm",
					   "tag",   "label",  "help,h"};
	if (ctr_completing()) {
		ctr_complete_group();
		for (size_t i = 0; argc > 1 && i < sizeof(subs) / sizeof(subs[0]) - 1; i++)
			if (ctr_name_in(subs[i], argv[1], strlen(argv[1])))
				return ctr_cmd_images_sub(c, argc, argv);
		ctr_complete_subs(subs, sizeof(subs) / sizeof(subs[0]));
		return 0;
	}
	return ctr_cmd_images_sub(c, argc, argv);
}

static int ctr_cmd_images_sub(struct ctr *c, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "h") ||
	    !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(images_help, stdout);
		return 0;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return cmd_ls(c, argc - 1, argv + 1);
	if (!strcmp(sub, "check"))
		return cmd_check(c, argc - 1, argv + 1);
	if (!strcmp(sub, "rm") || !strcmp(sub, "remove") || !strcmp(sub, "delete") ||
	    !strcmp(sub, "del"))
		return cmd_rm(c, argc - 1, argv + 1);
	if (!strcmp(sub, "label"))
		return cmd_label(c, argc - 1, argv + 1);
	if (!strcmp(sub, "import"))
		return cmd_import(c, argc - 1, argv + 1);
	if (!strcmp(sub, "tag"))
		return cmd_tag(c, argc - 1, argv + 1);
	fprintf(stderr, "No help topic for '%s'\n", sub);
	return 3;
}
