/* ctrbox-snapshotter: a proxy snapshotter for containerd ([proxy_plugins.NAME] type = "snapshot").
 * Serves containerd.services.snapshots.v1.Snapshots over gRPC on a unix socket; the snapshots
 * live under --root (store.c: SQLite metadata, directories named by id), with the overlayfs or
 * the native (copying) backend. One process, one thread, one epoll loop. */
#include <ctrbox/version.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include <ctrbox/grpc.h>
#include <ctrbox/log.h>
#include <ctrbox/loop.h>
#include "snapshots/v1/snapshots.pb-c.h"
#include "snapshotter/filter.h"
#include "snapshotter/store.h"
#include <ctrbox/util.h>

/* containerd's reference servers send 100 Info per List message. */
#define LIST_BATCH 100

struct snapd {
	struct ctrbox_loop *loop;
	struct ctrbox_grpc_server *srv;
	struct store *store;
	int sfd;
	int stop;
};

/* ---- conversions ---- */

typedef Containerd__Types__Mount Mount;
typedef Containerd__Services__Snapshots__V1__Info Info;
typedef Containerd__Services__Snapshots__V1__Info__LabelsEntry InfoLabel;

/* Map entries of every request type have the same layout (base, key, value). */
struct map_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

static struct snap_label *labels_in(size_t n, void **entries)
{
	struct snap_label *l = calloc(n ? n : 1, sizeof(*l));
	if (!l)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct map_entry *e = entries[i];
		l[i].key = e->key;
		l[i].value = e->value;
	}
	return l;
}

struct mounts_out {
	Mount *m;
	Mount **pm;
};

static int mounts_to_pb(const struct snap_mount *in, size_t n, struct mounts_out *o)
{
	o->m = calloc(n ? n : 1, sizeof(*o->m));
	o->pm = calloc(n ? n : 1, sizeof(*o->pm));
	if (!o->m || !o->pm)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		Mount init = CONTAINERD__TYPES__MOUNT__INIT;
		o->m[i] = init;
		o->m[i].type = in[i].type;
		o->m[i].source = in[i].source;
		o->m[i].n_options = in[i].noptions;
		o->m[i].options = in[i].options;
		o->pm[i] = &o->m[i];
	}
	return 0;
}

static void mounts_out_free(struct mounts_out *o)
{
	free(o->m);
	free(o->pm);
}

/* An Info message pointing into a snap_info (which must outlive it). */
struct info_pb {
	Info info;
	Google__Protobuf__Timestamp created, updated;
	InfoLabel *labels;
	InfoLabel **plabels;
};

static void ts_set(Google__Protobuf__Timestamp *t, int64_t ns)
{
	Google__Protobuf__Timestamp init = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	*t = init;
	t->seconds = ns / 1000000000;
	t->nanos = (int32_t)(ns % 1000000000);
}

static int info_to_pb(const struct snap_info *in, struct info_pb *o)
{
	Info init = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__INIT;
	o->info = init;
	o->info.name = in->name;
	o->info.parent = in->parent ? in->parent : "";
	o->info.kind = (Containerd__Services__Snapshots__V1__Kind)in->kind;
	ts_set(&o->created, in->created_ns);
	ts_set(&o->updated, in->updated_ns);
	o->info.created_at = &o->created;
	o->info.updated_at = &o->updated;
	o->labels = calloc(in->nlabels ? in->nlabels : 1, sizeof(*o->labels));
	o->plabels = calloc(in->nlabels ? in->nlabels : 1, sizeof(*o->plabels));
	if (!o->labels || !o->plabels)
		return -ENOMEM;
	for (size_t i = 0; i < in->nlabels; i++) {
		InfoLabel li = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__LABELS_ENTRY__INIT;
		o->labels[i] = li;
		o->labels[i].key = in->labels[i].key;
		o->labels[i].value = in->labels[i].value;
		o->plabels[i] = &o->labels[i];
	}
	o->info.n_labels = in->nlabels;
	o->info.labels = o->plabels;
	return 0;
}

static void info_pb_free(struct info_pb *o)
{
	free(o->labels);
	free(o->plabels);
}

/* Ends a call with a store error (and logs it at debug: containerd logs its side). */
static void fail(struct ctrbox_grpc_call *call, int code, char *err)
{
	ctrbox_log_debug("%s: %s: %s", ctrbox_grpc_call_method(call), ctrbox_code_name(code),
			 err ? err : "(no message)");
	ctrbox_grpc_call_finish(call, code, "%s", err ? err : "internal error");
	free(err);
}

/* ---- handlers ---- */

static void reply_mounts(struct ctrbox_grpc_call *call, int view, const struct snap_mount *m,
			 size_t n)
{
	struct mounts_out mo = {0};
	if (mounts_to_pb(m, n, &mo)) {
		mounts_out_free(&mo);
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	/* Prepare, View and Mounts responses have the same shape; pack the right type. */
	if (view == 1) {
		Containerd__Services__Snapshots__V1__ViewSnapshotResponse r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__VIEW_SNAPSHOT_RESPONSE__INIT;
		r.n_mounts = n;
		r.mounts = mo.pm;
		ctrbox_grpc_call_reply(call, &r.base);
	} else if (view == 2) {
		Containerd__Services__Snapshots__V1__MountsResponse r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__MOUNTS_RESPONSE__INIT;
		r.n_mounts = n;
		r.mounts = mo.pm;
		ctrbox_grpc_call_reply(call, &r.base);
	} else {
		Containerd__Services__Snapshots__V1__PrepareSnapshotResponse r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_RESPONSE__INIT;
		r.n_mounts = n;
		r.mounts = mo.pm;
		ctrbox_grpc_call_reply(call, &r.base);
	}
	mounts_out_free(&mo);
}

static void do_prepare(struct ctrbox_grpc_call *call, struct snapd *d, const char *key,
		       const char *parent, size_t nl, void **entries, int readonly)
{
	struct snap_mount *m = NULL;
	size_t n = 0;
	char *err = NULL;
	struct snap_label *l = labels_in(nl, entries);
	if (!l) {
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	int rc = store_prepare(d->store, key, parent, l, nl, readonly, &m, &n, &err);
	free(l);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	ctrbox_log_debug("%s key=%s parent=%s", readonly ? "view" : "prepare", key, parent);
	reply_mounts(call, readonly, m, n);
	snap_mounts_free(m, n);
}

static void prepare_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__PrepareSnapshotRequest *r = (const void *)msg;
	do_prepare(call, data, r->key, r->parent, r->n_labels, (void **)r->labels, 0);
}

static void view_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__ViewSnapshotRequest *r = (const void *)msg;
	do_prepare(call, data, r->key, r->parent, r->n_labels, (void **)r->labels, 1);
}

static void mounts_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__MountsRequest *r = (const void *)msg;
	struct snapd *d = data;
	struct snap_mount *m = NULL;
	size_t n = 0;
	char *err = NULL;
	int rc = store_mounts(d->store, r->key, &m, &n, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	reply_mounts(call, 2, m, n);
	snap_mounts_free(m, n);
}

static void commit_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__CommitSnapshotRequest *r = (const void *)msg;
	struct snapd *d = data;
	char *err = NULL;
	struct snap_label *l = labels_in(r->n_labels, (void **)r->labels);
	if (!l) {
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	int rc = store_commit(d->store, r->name, r->key, l, r->n_labels, &err);
	free(l);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	ctrbox_log_debug("commit key=%s name=%s", r->key, r->name);
	ctrbox_grpc_call_reply(call, NULL);
}

static void remove_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__RemoveSnapshotRequest *r = (const void *)msg;
	struct snapd *d = data;
	char *err = NULL;
	int rc = store_remove(d->store, r->key, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	ctrbox_log_debug("remove key=%s", r->key);
	ctrbox_grpc_call_reply(call, NULL);
}

static void reply_info(struct ctrbox_grpc_call *call, const struct snap_info *si, int update)
{
	struct info_pb ip;
	if (info_to_pb(si, &ip)) {
		info_pb_free(&ip);
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	if (update) {
		Containerd__Services__Snapshots__V1__UpdateSnapshotResponse r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__UPDATE_SNAPSHOT_RESPONSE__INIT;
		r.info = &ip.info;
		ctrbox_grpc_call_reply(call, &r.base);
	} else {
		Containerd__Services__Snapshots__V1__StatSnapshotResponse r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_RESPONSE__INIT;
		r.info = &ip.info;
		ctrbox_grpc_call_reply(call, &r.base);
	}
	info_pb_free(&ip);
}

static void stat_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__StatSnapshotRequest *r = (const void *)msg;
	struct snapd *d = data;
	struct snap_info si = {0};
	char *err = NULL;
	int rc = store_stat(d->store, r->key, &si, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	reply_info(call, &si, 0);
	snap_info_clear(&si);
}

static void update_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__UpdateSnapshotRequest *r = (const void *)msg;
	struct snapd *d = data;
	struct snap_info in = {0}, out = {0};
	char *err = NULL;
	if (!r->info) {
		ctrbox_grpc_call_finish(call, CTRBOX_INVALID_ARGUMENT, "snapshot info is required");
		return;
	}
	in.name = r->info->name;
	in.parent = r->info->parent;
	in.kind = (enum snap_kind)r->info->kind;
	in.nlabels = r->info->n_labels;
	in.labels = labels_in(r->info->n_labels, (void **)r->info->labels);
	if (!in.labels) {
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	size_t np = r->update_mask ? r->update_mask->n_paths : 0;
	int rc = store_update(d->store, &in, np ? (const char *const *)r->update_mask->paths : NULL,
			      np, &out, &err);
	free(in.labels);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	reply_info(call, &out, 1);
	snap_info_clear(&out);
}

struct list_ctx {
	struct ctrbox_grpc_call *call;
	const struct snap_filter *filter;
	struct snap_info batch[LIST_BATCH];
	size_t n;
	int failed;
};

static int list_flush(struct list_ctx *x)
{
	struct info_pb ip[LIST_BATCH];
	Info *pi[LIST_BATCH];
	int rc = 0;
	size_t i;
	if (!x->n)
		return 0;
	for (i = 0; i < x->n; i++) {
		if (info_to_pb(&x->batch[i], &ip[i])) {
			info_pb_free(&ip[i]);
			rc = -ENOMEM;
			break;
		}
		pi[i] = &ip[i].info;
	}
	if (!rc) {
		Containerd__Services__Snapshots__V1__ListSnapshotsResponse r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__LIST_SNAPSHOTS_RESPONSE__INIT;
		r.n_info = x->n;
		r.info = pi;
		rc = ctrbox_grpc_call_send(x->call, &r.base);
	}
	for (size_t j = 0; j < i; j++)
		info_pb_free(&ip[j]);
	for (size_t j = 0; j < x->n; j++)
		snap_info_clear(&x->batch[j]);
	x->n = 0;
	return rc;
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

/* store_walk hands out borrowed infos: copy the ones that pass the filter into the batch. */
static int list_one(const struct snap_info *si, void *data)
{
	struct list_ctx *x = data;
	if (!snap_filter_match(x->filter, si))
		return 0;
	struct snap_info *c = &x->batch[x->n];
	memset(c, 0, sizeof(*c));
	c->name = dup0(si->name);
	c->parent = dup0(si->parent);
	c->kind = si->kind;
	c->created_ns = si->created_ns;
	c->updated_ns = si->updated_ns;
	c->labels = calloc(si->nlabels ? si->nlabels : 1, sizeof(*c->labels));
	x->n++;
	if (!c->name || !c->parent || !c->labels)
		return -ENOMEM;
	for (size_t i = 0; i < si->nlabels; i++) {
		c->labels[i].key = dup0(si->labels[i].key);
		c->labels[i].value = dup0(si->labels[i].value);
		c->nlabels++;
		if (!c->labels[i].key || !c->labels[i].value)
			return -ENOMEM;
	}
	if (x->n == LIST_BATCH)
		return list_flush(x);
	return 0;
}

static void list_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__ListSnapshotsRequest *r = (const void *)msg;
	struct snapd *d = data;
	struct snap_filter *f = NULL;
	char *err = NULL;
	int rc = snap_filter_parse((const char *const *)r->filters, r->n_filters, &f, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	struct list_ctx *x = calloc(1, sizeof(*x));
	if (!x) {
		snap_filter_free(f);
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	x->call = call;
	x->filter = f;
	rc = store_walk(d->store, list_one, x, &err);
	if (rc == 0)
		rc = list_flush(x);
	for (size_t j = 0; j < x->n; j++)
		snap_info_clear(&x->batch[j]);
	free(x);
	snap_filter_free(f);
	if (rc > 0)
		fail(call, rc, err);
	else if (rc < 0) {
		free(err);
		ctrbox_grpc_call_finish(call, CTRBOX_INTERNAL, "list: %s", strerror(-rc));
	} else {
		free(err);
		ctrbox_grpc_call_finish(call, CTRBOX_OK, "%s", "");
	}
}

static void usage_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__UsageRequest *r = (const void *)msg;
	struct snapd *d = data;
	Containerd__Services__Snapshots__V1__UsageResponse resp =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__USAGE_RESPONSE__INIT;
	char *err = NULL;
	int rc = store_usage(d->store, r->key, &resp.size, &resp.inodes, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	ctrbox_grpc_call_reply(call, &resp.base);
}

static void cleanup_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	struct snapd *d = data;
	unsigned removed = 0;
	char *err = NULL;
	(void)msg;
	int rc = store_cleanup(d->store, &removed, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	if (removed)
		ctrbox_log_info("cleanup removed %u orphan director%s", removed,
				removed == 1 ? "y" : "ies");
	ctrbox_grpc_call_reply(call, NULL);
}

static const struct ctrbox_grpc_method_entry methods[] = {
    {"Prepare", prepare_h}, {"View", view_h},	    {"Mounts", mounts_h}, {"Commit", commit_h},
    {"Remove", remove_h},   {"Stat", stat_h},	    {"Update", update_h}, {"List", list_h},
    {"Usage", usage_h},	    {"Cleanup", cleanup_h}, {NULL, NULL},
};

/* ---- process ---- */

static void on_signal(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct snapd *d = data;
	struct signalfd_siginfo si;
	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			ctrbox_log_info("received %s, shutting down", strsignal((int)si.ssi_signo));
			d->stop = 1;
			ctrbox_loop_stop(l);
		}
	}
}

/* Binds a unix socket owner-only. A socket file nobody answers on is stale and replaced; one
 * with a live server is refused (two snapshotters must not share a root). */
static int listen_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno == EADDRINUSE) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			umask(old);
			close(fd);
			return -EADDRINUSE;
		}
		unlink(path);
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ctrbox-snapshotter --root DIR --address SOCKET [--backend overlayfs|native]\n"
	    "                          [--log-level debug|info|warn|error]\n\n"
	    "Serves containerd.services.snapshots.v1.Snapshots on SOCKET. containerd config:\n"
	    "  [proxy_plugins.ctrbox]\n    type = \"snapshot\"\n    address = \"SOCKET\"\n"
	    "The backend defaults to overlayfs when the kernel and the root's filesystem allow "
	    "it.\n");
}

int snapshotter_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},    {"address", required_argument, NULL, 'a'},
	    {"backend", required_argument, NULL, 'b'}, {"log-level", required_argument, NULL, 'l'},
	    {"debug", no_argument, NULL, 'd'},	       {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
	};
	const char *root = NULL, *address = NULL, *backend = NULL;
	struct snapd d = {.sfd = -1};
	int c, rc = 1;

	ctrbox_log_set_level(CTRBOX_LOG_INFO);
	ctrbox_log_add_field("snapshotter", "ctrbox");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'a':
			address = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'd':
			ctrbox_log_set_level(CTRBOX_LOG_DEBUG);
			break;
		case 'l':
			if (!strcmp(optarg, "debug"))
				ctrbox_log_set_level(CTRBOX_LOG_DEBUG);
			else if (!strcmp(optarg, "info"))
				ctrbox_log_set_level(CTRBOX_LOG_INFO);
			else if (!strcmp(optarg, "warn"))
				ctrbox_log_set_level(CTRBOX_LOG_WARN);
			else if (!strcmp(optarg, "error"))
				ctrbox_log_set_level(CTRBOX_LOG_ERROR);
			else {
				fprintf(stderr, "ctrbox-snapshotter: bad --log-level %s\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ctrbox-snapshotter (ctrbox) %s\n", CTRBOX_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !root || !address || !*root || !*address) {
		fprintf(stderr, "ctrbox-snapshotter: --root and --address are required\n");
		usage(stderr);
		return 2;
	}
	if (root[0] != '/') {
		fprintf(stderr, "ctrbox-snapshotter: --root must be an absolute path\n");
		return 2;
	}
	enum snap_backend be;
	if (!backend) {
		if (ctrbox_mkdir_p(root, 0700) < 0) {
			fprintf(stderr, "ctrbox-snapshotter: mkdir %s: %s\n", root,
				strerror(errno));
			return 1;
		}
		be = store_default_backend(root);
	} else if (!strcmp(backend, "overlayfs") || !strcmp(backend, "overlay")) {
		be = SNAP_OVERLAYFS;
	} else if (!strcmp(backend, "native")) {
		be = SNAP_NATIVE;
	} else {
		fprintf(stderr, "ctrbox-snapshotter: unknown backend %s (overlayfs or native)\n",
			backend);
		return 2;
	}

	char *err = NULL;
	if (store_open(root, be, &d.store, &err)) {
		fprintf(stderr, "ctrbox-snapshotter: %s\n", err ? err : "cannot open the store");
		free(err);
		return 1;
	}
	free(err);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	int lfd = listen_socket(address);
	if (lfd < 0) {
		fprintf(stderr, "ctrbox-snapshotter: listen %s: %s\n", address,
			lfd == -EADDRINUSE ? "another server is listening there" : strerror(-lfd));
		goto out;
	}
	d.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d.sfd < 0 || ctrbox_loop_new(&d.loop) || ctrbox_grpc_server_new(d.loop, &d.srv) ||
	    ctrbox_grpc_server_register(
		d.srv, &containerd__services__snapshots__v1__snapshots__descriptor, methods, &d) ||
	    ctrbox_loop_add(d.loop, d.sfd, EPOLLIN, on_signal, &d)) {
		fprintf(stderr, "ctrbox-snapshotter: setup failed\n");
		close(lfd);
		unlink(address);
		goto out;
	}
	if (ctrbox_grpc_server_listen_fd(d.srv, lfd)) {
		close(lfd);
		unlink(address);
		goto out;
	}
	ctrbox_log_info("serving snapshots on %s (root %s, backend %s)", address, root,
			store_backend_name(be));
	rc = ctrbox_loop_run(d.loop) < 0 ? 1 : 0;
	unlink(address);
out:
	ctrbox_grpc_server_free(d.srv);
	if (d.loop)
		ctrbox_loop_free(d.loop);
	if (d.sfd >= 0)
		close(d.sfd);
	store_close(d.store);
	return rc;
}
