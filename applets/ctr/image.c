/* ctrbox-ctr: images as containerd's client sees them (record, manifest for this platform,
 * config, layer chain ids), whole-blob content reads, unpacking into a snapshotter and leases. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "content/v1/content.pb-c.h"
#include "ctr/ctr.h"
#include "ctr/pbjson.h"
#include "diff/v1/diff.pb-c.h"
#include "google/protobuf/field_mask.pb-c.h"
#include "images/v1/images.pb-c.h"
#include <ctrbox/base64.h>
#include <ctrbox/json.h>
#include "leases/v1/leases.pb-c.h"
#include "namespaces/v1/namespace.pb-c.h"
#include <ctrbox/sha256.h>
#include "snapshots/v1/snapshots.pb-c.h"

/* A blob bigger than this is not a manifest or config anyone should hold in memory. */
#define CTR_MAX_READ ((size_t)1 << 30)

/* ---- content ---- */

struct read_ctx {
	char *buf;
	size_t len, cap, max;
	int bad;
};

static int on_read(void *data, const uint8_t *msg, size_t len)
{
	struct read_ctx *r = data;
	Containerd__Services__Content__V1__ReadContentResponse *m =
	    containerd__services__content__v1__read_content_response__unpack(NULL, len, msg);
	if (!m) {
		r->bad = 1;
		return 1;
	}
	size_t n = m->data.len;
	if (r->len + n + 1 > r->max) {
		r->bad = 2;
		containerd__services__content__v1__read_content_response__free_unpacked(m, NULL);
		return 1;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = (r->len + n + 1) * 2;
		char *p = realloc(r->buf, cap);
		if (!p) {
			r->bad = 3;
			containerd__services__content__v1__read_content_response__free_unpacked(
			    m, NULL);
			return 1;
		}
		r->buf = p;
		r->cap = cap;
	}
	if (n)
		memcpy(r->buf + r->len, m->data.data, n);
	r->len += n;
	r->buf[r->len] = 0;
	containerd__services__content__v1__read_content_response__free_unpacked(m, NULL);
	return 0;
}

int ctr_blob_read(struct ctr *c, const char *digest, size_t max, char **data, size_t *len, int *bad,
		  char **msg)
{
	Containerd__Services__Content__V1__ReadContentRequest req =
	    CONTAINERD__SERVICES__CONTENT__V1__READ_CONTENT_REQUEST__INIT;
	struct read_ctx r = {.max = max};
	req.digest = (char *)digest;
	*data = NULL;
	*len = 0;
	int rc = ctr_call_stream(c, "/containerd.services.content.v1.Content/Read", &req.base,
				 on_read, &r, msg);
	*bad = r.bad;
	if (rc || r.bad) {
		free(r.buf);
		return rc;
	}
	*data = r.buf;
	*len = r.len;
	return 0;
}

int ctr_content_read(struct ctr *c, const char *digest, char **data, size_t *len)
{
	char *msg = NULL;
	int bad;
	int rc = ctr_blob_read(c, digest, CTR_MAX_READ, data, len, &bad, &msg);
	if (bad) {
		free(msg);
		return ctr_fail(bad == 2   ? "content %s: too large"
				: bad == 3 ? "out of memory"
					   : "content %s: bad message",
				digest);
	}
	if (rc) {
		if (rc == CTRBOX_DEADLINE_EXCEEDED)
			ctr_fail("context deadline exceeded");
		else if (!(rc == CTRBOX_UNAVAILABLE && !c->cli))
			ctr_fail("%s", ctr_errtext(rc, msg));
		free(msg);
		return 1;
	}
	free(msg);
	if (!*data) {
		*data = strdup("");
		if (!*data)
			return ctr_fail("out of memory");
	}
	return 0;
}

/* ---- image resolution ---- */

int ctr_mt_is_index(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

int ctr_mt_is_manifest(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST));
}

static int arch_is_amd64(char *a)
{
	return a && (!strcmp(a, "amd64") || !strcmp(a, "x86_64") || !strcmp(a, "x86-64"));
}

/* Does the "platform" object at tok match linux/amd64 (this host, as platforms.Default())? */
static int platform_matches(const struct ctrbox_json *j, int tok)
{
	char *os = ctrbox_json_strdup(j, ctrbox_json_get(j, tok, "os"));
	char *arch = ctrbox_json_strdup(j, ctrbox_json_get(j, tok, "architecture"));
	char *var = ctrbox_json_strdup(j, ctrbox_json_get(j, tok, "variant"));
	int ok = os && !strcmp(os, "linux") && arch_is_amd64(arch) &&
		 (!var || !*var || !strcmp(var, "v1"));
	free(os);
	free(arch);
	free(var);
	return ok;
}

static char *json_str_at(const struct ctrbox_json *j, int obj, const char *key)
{
	return ctrbox_json_strdup(j, ctrbox_json_get(j, obj, key));
}

/* Follows indexes down to the manifest for this platform: *mdigest gets its digest. */
static int pick_manifest(struct ctr *c, const char *digest, const char *mt, int depth,
			 char **mdigest)
{
	if (ctr_mt_is_manifest(mt) || (!ctr_mt_is_index(mt) && depth > 0)) {
		*mdigest = strdup(digest);
		return *mdigest ? 0 : ctr_fail("out of memory");
	}
	if (!ctr_mt_is_index(mt) || depth > 8)
		return ctr_fail("unexpected media type %s for %s: not found", mt ? mt : "", digest);
	char *buf;
	size_t len;
	if (ctr_content_read(c, digest, &buf, &len))
		return 1;
	struct ctrbox_json j = {0};
	if (ctrbox_json_parse(&j, buf, len)) {
		free(buf);
		return ctr_fail("failed to parse index %s", digest);
	}
	int arr = ctrbox_json_get(&j, 0, "manifests");
	int n = ctrbox_json_array_len(&j, arr), rc = -1;
	for (int i = 0; i < n && rc < 0; i++) {
		int m = ctrbox_json_array_at(&j, arr, i);
		int p = ctrbox_json_get(&j, m, "platform");
		if (p >= 0 && !platform_matches(&j, p))
			continue;
		char *d = json_str_at(&j, m, "digest");
		char *cmt = json_str_at(&j, m, "mediaType");
		if (d && (ctr_mt_is_manifest(cmt) || ctr_mt_is_index(cmt)))
			rc = pick_manifest(c, d, cmt, depth + 1, mdigest);
		free(d);
		free(cmt);
	}
	ctrbox_json_free(&j);
	free(buf);
	if (rc < 0)
		return ctr_fail("manifest %s: not found", digest);
	return rc;
}

static char *chain_of(const char *parent, const char *diff)
{
	char *s, hex[65], *out;
	if (asprintf(&s, "%s %s", parent, diff) < 0)
		return NULL;
	ctrbox_sha256_hex(s, strlen(s), hex);
	free(s);
	if (asprintf(&out, "sha256:%s", hex) < 0)
		return NULL;
	return out;
}

/* the manifest's config digest and layers (digest, media type, size) */
static int load_manifest(struct ctr *c, struct ctr_image *out)
{
	char *buf = NULL;
	size_t len;
	struct ctrbox_json j = {0};
	int rc = 1;
	/* the manifest: config and layers */
	if (ctr_content_read(c, out->manifest_digest, &buf, &len))
		goto out;
	if (ctrbox_json_parse(&j, buf, len)) {
		ctr_fail("failed to parse manifest %s", out->manifest_digest);
		goto out;
	}
	out->config_digest = json_str_at(&j, ctrbox_json_get(&j, 0, "config"), "digest");
	if (!out->config_digest) {
		ctr_fail("manifest %s: no config", out->manifest_digest);
		goto out;
	}
	int layers = ctrbox_json_get(&j, 0, "layers");
	int n = ctrbox_json_array_len(&j, layers);
	if (n < 0)
		n = 0;
	out->layer_digests = calloc((size_t)n + 1, sizeof(char *));
	out->layer_media_types = calloc((size_t)n + 1, sizeof(char *));
	out->layer_sizes = calloc((size_t)n + 1, sizeof(int64_t));
	if (!out->layer_digests || !out->layer_media_types || !out->layer_sizes) {
		ctr_fail("out of memory");
		goto out;
	}
	out->nlayers = (size_t)n;
	for (int i = 0; i < n; i++) {
		int l = ctrbox_json_array_at(&j, layers, i);
		out->layer_digests[i] = json_str_at(&j, l, "digest");
		out->layer_media_types[i] = json_str_at(&j, l, "mediaType");
		if (!out->layer_media_types[i])
			out->layer_media_types[i] = strdup("");
		ctrbox_json_int64(&j, ctrbox_json_get(&j, l, "size"), &out->layer_sizes[i]);
		if (!out->layer_digests[i] || !out->layer_media_types[i]) {
			ctr_fail("manifest %s: bad layer %d", out->manifest_digest, i);
			goto out;
		}
	}
	rc = 0;
out:
	ctrbox_json_free(&j);
	free(buf);
	return rc;
}

/* the image config (config_json) and its rootfs.diff_ids, with their chain ids */
static int load_config(struct ctr *c, struct ctr_image *out)
{
	size_t len;
	struct ctrbox_json j = {0};
	int rc = 1;
	/* the config: rootfs.diff_ids */
	if (ctr_content_read(c, out->config_digest, &out->config_json, &len))
		goto out;
	if (ctrbox_json_parse(&j, out->config_json, len)) {
		ctr_fail("failed to parse image config %s", out->config_digest);
		goto out;
	}
	int diffs = ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "rootfs"), "diff_ids");
	int nd = ctrbox_json_array_len(&j, diffs);
	if (nd < 0)
		nd = 0;
	if ((size_t)nd != out->nlayers) {
		ctr_fail("mismatched image rootfs and manifest layers");
		goto out;
	}
	out->diff_ids = calloc((size_t)nd + 1, sizeof(char *));
	out->chain_ids = calloc((size_t)nd + 1, sizeof(char *));
	if (!out->diff_ids || !out->chain_ids) {
		ctr_fail("out of memory");
		goto out;
	}
	for (int i = 0; i < nd; i++) {
		out->diff_ids[i] = ctrbox_json_strdup(&j, ctrbox_json_array_at(&j, diffs, i));
		if (!out->diff_ids[i]) {
			ctr_fail("image config %s: bad diff_id", out->config_digest);
			goto out;
		}
		out->chain_ids[i] = i == 0 ? strdup(out->diff_ids[0])
					   : chain_of(out->chain_ids[i - 1], out->diff_ids[i]);
		if (!out->chain_ids[i]) {
			ctr_fail("out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	ctrbox_json_free(&j);
	return rc;
}

int ctr_image_load(struct ctr *c, const char *name, struct ctr_image *out)
{
	Containerd__Services__Images__V1__GetImageRequest req =
	    CONTAINERD__SERVICES__IMAGES__V1__GET_IMAGE_REQUEST__INIT;
	Containerd__Services__Images__V1__GetImageResponse *resp = NULL;
	int rc = 1;

	memset(out, 0, sizeof(*out));
	req.name = (char *)name;
	if (ctr_rpc(c, "/containerd.services.images.v1.Images/Get", &req.base,
		    &containerd__services__images__v1__get_image_response__descriptor,
		    (ProtobufCMessage **)&resp))
		return 1;
	if (!resp->image || !resp->image->target) {
		ctr_fail("image \"%s\": not found", name);
		goto out;
	}
	Containerd__Types__Descriptor *t = resp->image->target;
	out->name = strdup(resp->image->name && *resp->image->name ? resp->image->name : name);
	out->target_digest = strdup(t->digest ? t->digest : "");
	out->target_media_type = strdup(t->media_type ? t->media_type : "");
	out->target_size = t->size;
	if (!out->name || !out->target_digest || !out->target_media_type) {
		ctr_fail("out of memory");
		goto out;
	}
	if (pick_manifest(c, out->target_digest, out->target_media_type, 0, &out->manifest_digest))
		goto out;
	if (load_manifest(c, out) || load_config(c, out))
		goto out;
	rc = 0;
out:
	if (resp)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	if (rc)
		ctr_image_free(out);
	return rc;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void ctr_image_free(struct ctr_image *img)
{
	if (!img)
		return;
	free(img->name);
	free(img->target_digest);
	free(img->target_media_type);
	free(img->manifest_digest);
	free(img->config_digest);
	free(img->config_json);
	free_strv(img->layer_digests, img->nlayers);
	free_strv(img->layer_media_types, img->nlayers);
	free(img->layer_sizes);
	free_strv(img->diff_ids, img->nlayers);
	free_strv(img->chain_ids, img->nlayers);
	memset(img, 0, sizeof(*img));
}

/* ---- leases ---- */

/* leases.WithRandomID / the unpack keys: "<nanoseconds>-<3 random bytes, base64url>" */
static void unique_part(char *out, size_t n)
{
	unsigned char b[3] = {0};
	struct timespec ts;
	char *u;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		b[0] = (unsigned char)ts.tv_nsec;
		b[1] = (unsigned char)(ts.tv_nsec >> 8);
		b[2] = (unsigned char)rand();
	}
	u = ctrbox_base64url_encode(b, sizeof(b), NULL); /* 4 characters */
	snprintf(out, n, "%ld-%s", ts.tv_nsec, u ? u : "AAAA");
	free(u);
}

int ctr_lease_begin(struct ctr *c)
{
	Containerd__Services__Leases__V1__CreateRequest req =
	    CONTAINERD__SERVICES__LEASES__V1__CREATE_REQUEST__INIT;
	Containerd__Services__Leases__V1__CreateRequest__LabelsEntry label =
	    CONTAINERD__SERVICES__LEASES__V1__CREATE_REQUEST__LABELS_ENTRY__INIT;
	Containerd__Services__Leases__V1__CreateRequest__LabelsEntry *labels[1] = {&label};
	Containerd__Services__Leases__V1__CreateResponse *resp = NULL;
	char id[64], expire[64];
	time_t t = time(NULL) + 24 * 3600;
	struct tm tm;

	unique_part(id, sizeof(id));
	gmtime_r(&t, &tm);
	strftime(expire, sizeof(expire), "%Y-%m-%dT%H:%M:%SZ", &tm);
	label.key = "containerd.io/gc.expire";
	label.value = expire;
	req.id = id;
	req.n_labels = 1;
	req.labels = labels;
	if (ctr_rpc(c, "/containerd.services.leases.v1.Leases/Create", &req.base,
		    &containerd__services__leases__v1__create_response__descriptor,
		    (ProtobufCMessage **)&resp))
		return 1;
	char *l = strdup(resp->lease && resp->lease->id && *resp->lease->id ? resp->lease->id : id);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	if (!l)
		return ctr_fail("out of memory");
	c->lease = l;
	return 0;
}

void ctr_lease_end(struct ctr *c)
{
	Containerd__Services__Leases__V1__DeleteRequest req =
	    CONTAINERD__SERVICES__LEASES__V1__DELETE_REQUEST__INIT;
	char *id = (char *)c->lease;
	if (!id)
		return;
	c->lease = NULL; /* the delete itself runs outside the lease */
	req.id = id;
	char *msg = NULL;
	ctr_call(c, "/containerd.services.leases.v1.Leases/Delete", &req.base, NULL, NULL, &msg);
	free(msg);
	free(id);
}

/* ---- unpack ---- */

char *ctr_default_snapshotter(struct ctr *c, int strict)
{
	Containerd__Services__Namespaces__V1__GetNamespaceRequest req =
	    CONTAINERD__SERVICES__NAMESPACES__V1__GET_NAMESPACE_REQUEST__INIT;
	Containerd__Services__Namespaces__V1__GetNamespaceResponse *r = NULL;
	char *msg = NULL, *out = NULL;
	req.name = (char *)c->ns;
	const char *path = "/containerd.services.namespaces.v1.Namespaces/Get";
	const ProtobufCMessageDescriptor *d =
	    &containerd__services__namespaces__v1__get_namespace_response__descriptor;
	int code = strict ? ctr_rpc(c, path, &req.base, d, (ProtobufCMessage **)&r)
			  : ctr_call(c, path, &req.base, d, (ProtobufCMessage **)&r, &msg);
	free(msg);
	if (code && strict)
		return NULL;
	if (!code && r->namespace_) {
		for (size_t i = 0; i < r->namespace_->n_labels; i++)
			if (!strcmp(r->namespace_->labels[i]->key,
				    "containerd.io/defaults/snapshotter") &&
			    r->namespace_->labels[i]->value && *r->namespace_->labels[i]->value)
				out = strdup(r->namespace_->labels[i]->value);
	}
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	return out ? out : strdup("overlayfs");
}

static int snap_stat(struct ctr *c, const char *sn, const char *key, char **errmsg)
{
	Containerd__Services__Snapshots__V1__StatSnapshotRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
	req.snapshotter = (char *)sn;
	req.key = (char *)key;
	return ctr_call(c, "/containerd.services.snapshots.v1.Snapshots/Stat", &req.base,
			&containerd__services__snapshots__v1__stat_snapshot_response__descriptor,
			NULL, errmsg);
}

int ctr_snapshot_remove(struct ctr *c, const char *snapshotter, const char *key)
{
	Containerd__Services__Snapshots__V1__RemoveSnapshotRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
	char *msg = NULL;
	req.snapshotter = (char *)snapshotter;
	req.key = (char *)key;
	int code = ctr_call(c, "/containerd.services.snapshots.v1.Snapshots/Remove", &req.base,
			    NULL, NULL, &msg);
	free(msg);
	return code;
}

static int content_label(struct ctr *c, const char *digest, const char *key, const char *value)
{
	Containerd__Services__Content__V1__UpdateRequest req =
	    CONTAINERD__SERVICES__CONTENT__V1__UPDATE_REQUEST__INIT;
	Containerd__Services__Content__V1__Info info =
	    CONTAINERD__SERVICES__CONTENT__V1__INFO__INIT;
	Containerd__Services__Content__V1__Info__LabelsEntry le =
	    CONTAINERD__SERVICES__CONTENT__V1__INFO__LABELS_ENTRY__INIT;
	Containerd__Services__Content__V1__Info__LabelsEntry *lv[1] = {&le};
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *path = NULL;
	if (asprintf(&path, "labels.%s", key) < 0)
		return ctr_fail("out of memory");
	le.key = (char *)key;
	le.value = (char *)value;
	info.digest = (char *)digest;
	info.n_labels = 1;
	info.labels = lv;
	mask.n_paths = 1;
	mask.paths = &path;
	req.info = &info;
	req.update_mask = &mask;
	int rc = ctr_rpc(c, "/containerd.services.content.v1.Content/Update", &req.base,
			 &containerd__services__content__v1__update_response__descriptor, NULL);
	free(path);
	return rc;
}

static void free_mounts(Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *m)
{
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* One layer, as containerd's applyLayers: 1 applied, 0 already there, -1 error (printed). */
/* Snapshots.Prepare of an "extract-UNIQUE CHAIN" snapshot on parent (a new name while one
 * exists): its key in key, its mounts in *pr */
static int extract_prepare(struct ctr *c, const char *sn, const char *chain, const char *parent,
			   char *key, size_t keylen,
			   Containerd__Services__Snapshots__V1__PrepareSnapshotResponse **pr)
{
	char uniq[64], *msg = NULL;
	int rc;
	for (int tries = 0;; tries++) {
		Containerd__Services__Snapshots__V1__PrepareSnapshotRequest req =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
		unique_part(uniq, sizeof(uniq));
		snprintf(key, keylen, "extract-%s %s", uniq, chain);
		req.snapshotter = (char *)sn;
		req.key = key;
		req.parent = (char *)parent;
		rc = ctr_call(
		    c, "/containerd.services.snapshots.v1.Snapshots/Prepare", &req.base,
		    &containerd__services__snapshots__v1__prepare_snapshot_response__descriptor,
		    (ProtobufCMessage **)pr, &msg);
		if (rc == CTRBOX_ALREADY_EXISTS && tries < 16) {
			free(msg);
			msg = NULL;
			continue;
		}
		if (rc) {
			ctr_fail("failed to prepare extraction snapshot \"%s\": %s", key,
				 ctr_errtext(rc, msg));
			free(msg);
			return -1;
		}
		break;
	}
	free(msg);
	return 0;
}

static int apply_layer(struct ctr *c, const struct ctr_image *img, size_t i, const char *sn)
{
	const char *chain = img->chain_ids[i];
	const char *parent = i ? img->chain_ids[i - 1] : "";
	Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *pr = NULL;
	char key[512], *msg = NULL;
	int rc;

	if (extract_prepare(c, sn, chain, parent, key, sizeof(key), &pr))
		return -1;

	Containerd__Services__Diff__V1__ApplyRequest areq =
	    CONTAINERD__SERVICES__DIFF__V1__APPLY_REQUEST__INIT;
	Containerd__Types__Descriptor d = CONTAINERD__TYPES__DESCRIPTOR__INIT;
	Containerd__Services__Diff__V1__ApplyResponse *ar = NULL;
	d.media_type = img->layer_media_types[i];
	d.digest = img->layer_digests[i];
	d.size = img->layer_sizes[i];
	areq.diff = &d;
	areq.n_mounts = pr->n_mounts;
	areq.mounts = pr->mounts;
	rc = ctr_call(c, "/containerd.services.diff.v1.Diff/Apply", &areq.base,
		      &containerd__services__diff__v1__apply_response__descriptor,
		      (ProtobufCMessage **)&ar, &msg);
	free_mounts(pr);
	if (rc) {
		ctr_fail("failed to extract layer %s: %s", img->diff_ids[i], ctr_errtext(rc, msg));
		free(msg);
		ctr_snapshot_remove(c, sn, key);
		return -1;
	}
	free(msg);
	msg = NULL;
	const char *got = ar->applied && ar->applied->digest ? ar->applied->digest : "";
	if (strcmp(got, img->diff_ids[i])) {
		ctr_fail("wrong diff id calculated on extraction \"%s\"", got);
		protobuf_c_message_free_unpacked(&ar->base, NULL);
		ctr_snapshot_remove(c, sn, key);
		return -1;
	}
	protobuf_c_message_free_unpacked(&ar->base, NULL);

	Containerd__Services__Snapshots__V1__CommitSnapshotRequest creq =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__COMMIT_SNAPSHOT_REQUEST__INIT;
	creq.snapshotter = (char *)sn;
	creq.name = (char *)chain;
	creq.key = key;
	rc = ctr_call(c, "/containerd.services.snapshots.v1.Snapshots/Commit", &creq.base, NULL,
		      NULL, &msg);
	if (rc) {
		ctr_snapshot_remove(c, sn, key);
		if (rc == CTRBOX_ALREADY_EXISTS) { /* someone else unpacked it meanwhile */
			free(msg);
			return 0;
		}
		ctr_fail("failed to commit snapshot %s: %s", key, ctr_errtext(rc, msg));
		free(msg);
		return -1;
	}
	free(msg);
	return 1;
}

int ctr_image_unpack(struct ctr *c, const struct ctr_image *img, const char *snapshotter)
{
	char *dsn = snapshotter && *snapshotter ? NULL : ctr_default_snapshotter(c, 0);
	const char *sn = dsn ? dsn : snapshotter;
	int own = c->lease == NULL, rc = 1;
	if (!sn)
		return ctr_fail("out of memory");
	if (own && ctr_lease_begin(c)) {
		free(dsn);
		return 1;
	}
	for (size_t i = 0; i < img->nlayers; i++) {
		char *msg = NULL;
		int st = snap_stat(c, sn, img->chain_ids[i], &msg);
		if (st == 0) {
			free(msg);
			continue;
		}
		if (st != CTRBOX_NOT_FOUND) {
			ctr_fail("failed to stat snapshot %s: %s", img->chain_ids[i],
				 ctr_errtext(st, msg));
			free(msg);
			goto out;
		}
		free(msg);
		int a = apply_layer(c, img, i, sn);
		if (a < 0)
			goto out;
		/* the uncompressed digest is verified now: record it, as the client does */
		if (a > 0 && content_label(c, img->layer_digests[i], "containerd.io/uncompressed",
					   img->diff_ids[i]))
			goto out;
	}
	if (img->nlayers) {
		char key[256];
		snprintf(key, sizeof(key), "containerd.io/gc.ref.snapshot.%s", sn);
		if (content_label(c, img->config_digest, key, img->chain_ids[img->nlayers - 1]))
			goto out;
	}
	rc = 0;
out:
	if (own)
		ctr_lease_end(c);
	free(dsn);
	return rc;
}
