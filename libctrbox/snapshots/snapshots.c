/* The snapshots crate: containerd.services.snapshots.v1.Snapshots served over gRPC for a table of
 * operations on plain C structs (ctrbox/snapshots.h). Messages are converted here both ways; the
 * operations never see protobuf. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ctrbox/grpc.h>
#include <ctrbox/log.h>
#include <ctrbox/loop.h>
#include <ctrbox/snapshots.h>

#include "snapshots/v1/snapshots.pb-c.h"

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

static struct ctrbox_snapshot_label *labels_in(size_t n, void **entries)
{
	struct ctrbox_snapshot_label *l = calloc(n ? n : 1, sizeof(*l));
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

static int mounts_to_pb(const struct ctrbox_snapshot_mount *in, size_t n, struct mounts_out *o)
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
		if (in[i].target)
			o->m[i].target = in[i].target;
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

static int info_to_pb(const struct ctrbox_snapshot_info *in, struct info_pb *o)
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

/* Ends a call with an operation's error (and logs it at debug: containerd logs its side). */
static void fail(struct ctrbox_grpc_call *call, int code, char *err)
{
	if (code <= 0 || code > CTRBOX_UNAUTHENTICATED)
		code = CTRBOX_INTERNAL;
	ctrbox_log_debug("%s: %s: %s", ctrbox_grpc_call_method(call), ctrbox_code_name(code),
			 err ? err : "(no message)");
	ctrbox_grpc_call_finish(call, code, "%s", err ? err : "internal error");
	free(err);
}

/* ---- handlers ---- */

static void reply_mounts(struct ctrbox_grpc_call *call, int view,
			 const struct ctrbox_snapshot_mount *m, size_t n)
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

static void do_prepare(struct ctrbox_grpc_call *call, const struct ctrbox_snapshotter *d,
		       const char *key, const char *parent, size_t nl, void **entries, int readonly)
{
	struct ctrbox_snapshot_mount *m = NULL;
	size_t n = 0;
	char *err = NULL;
	struct ctrbox_snapshot_label *l = labels_in(nl, entries);
	if (!l) {
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	int rc =
	    (readonly ? d->ops->view : d->ops->prepare)(d->impl, key, parent, l, nl, &m, &n, &err);
	free(l);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	ctrbox_log_debug("%s key=%s parent=%s", readonly ? "view" : "prepare", key, parent);
	reply_mounts(call, readonly, m, n);
	ctrbox_snapshot_mounts_free(m, n);
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
	const struct ctrbox_snapshotter *d = data;
	struct ctrbox_snapshot_mount *m = NULL;
	size_t n = 0;
	char *err = NULL;
	int rc = d->ops->mounts(d->impl, r->key, &m, &n, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	reply_mounts(call, 2, m, n);
	ctrbox_snapshot_mounts_free(m, n);
}

static void commit_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__CommitSnapshotRequest *r = (const void *)msg;
	const struct ctrbox_snapshotter *d = data;
	char *err = NULL;
	struct ctrbox_snapshot_label *l = labels_in(r->n_labels, (void **)r->labels);
	if (!l) {
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	int rc = d->ops->commit(d->impl, r->name, r->key, l, r->n_labels, &err);
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
	const struct ctrbox_snapshotter *d = data;
	char *err = NULL;
	int rc = d->ops->remove(d->impl, r->key, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	ctrbox_log_debug("remove key=%s", r->key);
	ctrbox_grpc_call_reply(call, NULL);
}

static void reply_info(struct ctrbox_grpc_call *call, const struct ctrbox_snapshot_info *si,
		       int update)
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
	const struct ctrbox_snapshotter *d = data;
	struct ctrbox_snapshot_info si = {0};
	char *err = NULL;
	int rc = d->ops->stat(d->impl, r->key, &si, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	reply_info(call, &si, 0);
	ctrbox_snapshot_info_clear(&si);
}

static void update_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__UpdateSnapshotRequest *r = (const void *)msg;
	const struct ctrbox_snapshotter *d = data;
	struct ctrbox_snapshot_info in = {0}, out = {0};
	char *err = NULL;
	if (!r->info) {
		ctrbox_grpc_call_finish(call, CTRBOX_INVALID_ARGUMENT, "snapshot info is required");
		return;
	}
	in.name = r->info->name;
	in.parent = r->info->parent;
	in.kind = (enum ctrbox_snapshot_kind)r->info->kind;
	in.nlabels = r->info->n_labels;
	in.labels = labels_in(r->info->n_labels, (void **)r->info->labels);
	if (!in.labels) {
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	size_t np = r->update_mask ? r->update_mask->n_paths : 0;
	int rc = d->ops->update(
	    d->impl, &in, np ? (const char *const *)r->update_mask->paths : NULL, np, &out, &err);
	free(in.labels);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	reply_info(call, &out, 1);
	ctrbox_snapshot_info_clear(&out);
}

struct list_ctx {
	struct ctrbox_grpc_call *call;
	const struct ctrbox_snapshot_filter *filter;
	struct ctrbox_snapshot_info batch[CTRBOX_SNAPSHOT_LIST_BATCH];
	size_t n;
	int failed;
};

static int list_flush(struct list_ctx *x)
{
	struct info_pb ip[CTRBOX_SNAPSHOT_LIST_BATCH];
	Info *pi[CTRBOX_SNAPSHOT_LIST_BATCH];
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
		ctrbox_snapshot_info_clear(&x->batch[j]);
	x->n = 0;
	return rc;
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

/* walk hands out borrowed infos: copy the ones that pass the filter into the batch. */
static int list_one(const struct ctrbox_snapshot_info *si, void *data)
{
	struct list_ctx *x = data;
	if (!ctrbox_snapshot_filter_match(x->filter, si))
		return 0;
	struct ctrbox_snapshot_info *c = &x->batch[x->n];
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
	if (x->n == CTRBOX_SNAPSHOT_LIST_BATCH)
		return list_flush(x);
	return 0;
}

static void list_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const Containerd__Services__Snapshots__V1__ListSnapshotsRequest *r = (const void *)msg;
	const struct ctrbox_snapshotter *d = data;
	struct ctrbox_snapshot_filter *f = NULL;
	char *err = NULL;
	int rc =
	    ctrbox_snapshot_filter_parse((const char *const *)r->filters, r->n_filters, &f, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	struct list_ctx *x = calloc(1, sizeof(*x));
	if (!x) {
		ctrbox_snapshot_filter_free(f);
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	x->call = call;
	x->filter = f;
	rc = d->ops->walk(d->impl, list_one, x, &err);
	if (rc == 0)
		rc = list_flush(x);
	for (size_t j = 0; j < x->n; j++)
		ctrbox_snapshot_info_clear(&x->batch[j]);
	free(x);
	ctrbox_snapshot_filter_free(f);
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
	const struct ctrbox_snapshotter *d = data;
	Containerd__Services__Snapshots__V1__UsageResponse resp =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__USAGE_RESPONSE__INIT;
	struct ctrbox_snapshot_usage u = {0, 0};
	char *err = NULL;
	int rc = d->ops->usage(d->impl, r->key, &u, &err);
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	resp.size = u.size;
	resp.inodes = u.inodes;
	ctrbox_grpc_call_reply(call, &resp.base);
}

static void cleanup_h(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg, void *data)
{
	const struct ctrbox_snapshotter *d = data;
	char *err = NULL;
	(void)msg;
	int rc = d->ops->cleanup ? d->ops->cleanup(d->impl, &err) : 0;
	if (rc) {
		fail(call, rc, err);
		return;
	}
	free(err);
	ctrbox_grpc_call_reply(call, NULL);
}

static const struct ctrbox_grpc_method_entry methods[] = {
    {"Prepare", prepare_h}, {"View", view_h},	    {"Mounts", mounts_h}, {"Commit", commit_h},
    {"Remove", remove_h},   {"Stat", stat_h},	    {"Update", update_h}, {"List", list_h},
    {"Usage", usage_h},	    {"Cleanup", cleanup_h}, {NULL, NULL},
};

int ctrbox_snapshotter_register(struct ctrbox_grpc_server *srv, const struct ctrbox_snapshotter *sn)
{
	const struct ctrbox_snapshotter_ops *o = sn ? sn->ops : NULL;
	if (!srv || !o || !o->stat || !o->update || !o->usage || !o->mounts || !o->prepare ||
	    !o->view || !o->commit || !o->remove || !o->walk)
		return -EINVAL;
	return ctrbox_grpc_server_register(
	    srv, &containerd__services__snapshots__v1__snapshots__descriptor, methods, (void *)sn);
}

int ctrbox_snapshotter_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || !*path)
		return -EINVAL;
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

static void on_signal(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;
	(void)events;
	(void)data;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			ctrbox_log_info("received %s, shutting down", strsignal((int)si.ssi_signo));
			ctrbox_loop_stop(l);
		}
	}
}

struct serve_state {
	struct ctrbox_loop *loop;
	struct ctrbox_grpc_server *srv;
	int sfd, lfd;
};

static int serve_setup(struct serve_state *st, const struct ctrbox_snapshotter *sn,
		       const sigset_t *mask)
{
	int rc;
	st->sfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (st->sfd < 0)
		return -errno;
	if ((rc = ctrbox_loop_new(&st->loop)) ||
	    (rc = ctrbox_grpc_server_new(st->loop, &st->srv)) ||
	    (rc = ctrbox_snapshotter_register(st->srv, sn)) ||
	    (rc = ctrbox_loop_add(st->loop, st->sfd, EPOLLIN, on_signal, NULL)))
		return rc < 0 ? rc : -ENOMEM;
	if ((rc = ctrbox_grpc_server_listen_fd(st->srv, st->lfd)))
		return rc < 0 ? rc : -EIO;
	st->lfd = -1; /* the server owns it now */
	return 0;
}

/* 0 when fd is a listening unix stream socket (made non-blocking: accept runs until EAGAIN),
 * else -ENOTSOCK or -EINVAL. */
static int check_listener(int fd)
{
	int v = 0, fl;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0)
		return errno == ENOTSOCK ? -ENOTSOCK : -errno;
	if (v != AF_UNIX)
		return -EINVAL;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM)
		return -EINVAL;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
		return -EINVAL;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* The path a listening socket is bound to, for the log ("fd N" when it has none). */
static void listener_name(int fd, char *buf, size_t size)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && len > sizeof(sa_family_t) &&
	    sa.sun_path[0])
		snprintf(buf, size, "%.*s", (int)(len - sizeof(sa_family_t)), sa.sun_path);
	else
		snprintf(buf, size, "fd %d", fd);
}

static int serve_run(struct serve_state *st, const struct ctrbox_snapshotter *sn,
		     const sigset_t *mask, const struct ctrbox_snapshotter_serve_opts *o)
{
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	int rc = serve_setup(st, sn, mask);
	if (rc)
		return rc;
	if (o->address)
		snprintf(name, sizeof(name), "%s", o->address);
	else
		listener_name(o->listen_fd, name, sizeof(name));
	ctrbox_log_info("serving snapshots on %s%s", name,
			o->address ? "" : " (a listening socket passed in)");
	if (o->on_ready)
		o->on_ready(o->data);
	rc = ctrbox_loop_run(st->loop) < 0 ? -EIO : 0;
	if (o->on_stopping)
		o->on_stopping(o->data);
	return rc;
}

int ctrbox_snapshotter_serve_with(const struct ctrbox_snapshotter_serve_opts *o,
				  const struct ctrbox_snapshotter_ops *ops, void *impl)
{
	struct ctrbox_snapshotter sn = {ops, impl};
	struct serve_state st = {NULL, NULL, -1, -1};
	sigset_t mask;
	int rc;
	if (!o || (!o->address && o->listen_fd < 0))
		return -EINVAL;
	if (!o->address && (rc = check_listener(o->listen_fd))) {
		close(o->listen_fd);
		return rc;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = st.lfd = o->address ? ctrbox_snapshotter_listen(o->address) : o->listen_fd;
	if (rc >= 0) {
		rc = serve_run(&st, &sn, &mask, o);
		if (st.lfd >= 0)
			close(st.lfd);
		if (o->address)
			unlink(o->address);
	}
	ctrbox_grpc_server_free(st.srv);
	if (st.loop)
		ctrbox_loop_free(st.loop);
	if (st.sfd >= 0)
		close(st.sfd);
	return rc;
}

int ctrbox_snapshotter_serve(const char *address, const struct ctrbox_snapshotter_ops *ops,
			     void *impl)
{
	struct ctrbox_snapshotter_serve_opts o = {.address = address, .listen_fd = -1};
	if (!address)
		return -EINVAL;
	return ctrbox_snapshotter_serve_with(&o, ops, impl);
}

void ctrbox_snapshot_info_clear(struct ctrbox_snapshot_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->parent);
	for (size_t i = 0; i < info->nlabels; i++) {
		free(info->labels[i].key);
		free(info->labels[i].value);
	}
	free(info->labels);
	memset(info, 0, sizeof(*info));
}

void ctrbox_snapshot_mounts_free(struct ctrbox_snapshot_mount *m, size_t n)
{
	if (!m)
		return;
	for (size_t i = 0; i < n; i++) {
		free(m[i].type);
		free(m[i].source);
		free(m[i].target);
		for (size_t j = 0; j < m[i].noptions; j++)
			free(m[i].options[j]);
		free(m[i].options);
	}
	free(m);
}
