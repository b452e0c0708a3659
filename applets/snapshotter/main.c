/* ctrbox-snapshotter: a proxy snapshotter for containerd ([proxy_plugins.NAME] type = "snapshot").
 * Serves containerd.services.snapshots.v1.Snapshots over gRPC on a unix socket; the snapshots
 * live under --root (store.c: SQLite metadata, directories named by id), with the overlayfs or
 * the native (copying) backend. One process, one thread, one epoll loop. */
#include <ctrbox/version.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include <ctrbox/log.h>
#include <ctrbox/snapshots.h>
#include "sd_daemon.h"
#include "snapshotter/store.h"
#include <ctrbox/util.h>

/* ---- the store as the crate's operations (store.h already speaks its structs and codes) ---- */

static int op_stat(void *s, const char *key, struct ctrbox_snapshot_info *out, char **err)
{
	return store_stat(s, key, out, err);
}

static int op_update(void *s, const struct ctrbox_snapshot_info *in, const char *const *paths,
		     size_t npaths, struct ctrbox_snapshot_info *out, char **err)
{
	return store_update(s, in, paths, npaths, out, err);
}

static int op_usage(void *s, const char *key, struct ctrbox_snapshot_usage *u, char **err)
{
	return store_usage(s, key, &u->size, &u->inodes, err);
}

static int op_mounts(void *s, const char *key, struct ctrbox_snapshot_mount **m, size_t *n,
		     char **err)
{
	return store_mounts(s, key, m, n, err);
}

static int op_prepare(void *s, const char *key, const char *parent,
		      const struct ctrbox_snapshot_label *l, size_t nl,
		      struct ctrbox_snapshot_mount **m, size_t *n, char **err)
{
	return store_prepare(s, key, parent, l, nl, 0, m, n, err);
}

static int op_view(void *s, const char *key, const char *parent,
		   const struct ctrbox_snapshot_label *l, size_t nl,
		   struct ctrbox_snapshot_mount **m, size_t *n, char **err)
{
	return store_prepare(s, key, parent, l, nl, 1, m, n, err);
}

static int op_commit(void *s, const char *name, const char *key,
		     const struct ctrbox_snapshot_label *l, size_t nl, char **err)
{
	return store_commit(s, name, key, l, nl, err);
}

static int op_remove(void *s, const char *key, char **err)
{
	return store_remove(s, key, err);
}

static int op_walk(void *s, int (*fn)(const struct ctrbox_snapshot_info *, void *), void *data,
		   char **err)
{
	return store_walk(s, fn, data, err);
}

static int op_cleanup(void *s, char **err)
{
	unsigned removed = 0;
	int rc = store_cleanup(s, &removed, err);
	if (!rc && removed)
		ctrbox_log_info("cleanup removed %u orphan director%s", removed,
				removed == 1 ? "y" : "ies");
	return rc;
}

static const struct ctrbox_snapshotter_ops store_ops = {
    .stat = op_stat,
    .update = op_update,
    .usage = op_usage,
    .mounts = op_mounts,
    .prepare = op_prepare,
    .view = op_view,
    .commit = op_commit,
    .remove = op_remove,
    .walk = op_walk,
    .cleanup = op_cleanup,
};

/* ---- process ---- */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ctrbox-snapshotter --root DIR --address SOCKET [--backend overlayfs|native]\n"
	    "                          [--log-level debug|info|warn|error]\n\n"
	    "Serves containerd.services.snapshots.v1.Snapshots on SOCKET. containerd config:\n"
	    "  [proxy_plugins.ctrbox]\n    type = \"snapshot\"\n    address = \"SOCKET\"\n"
	    "The backend defaults to overlayfs when the kernel and the root's filesystem allow "
	    "it.\n"
	    "Under systemd, socket-activated (LISTEN_PID/LISTEN_FDS: one listening unix\n"
	    "stream socket as fd 3), it serves that socket and --address may be left out;\n"
	    "READY=1 and STOPPING=1 go to $NOTIFY_SOCKET when it is set (Type=notify).\n");
}

struct args {
	const char *root, *address, *backend;
};

static int set_level(const char *v)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	static const int levels[] = {CTRBOX_LOG_DEBUG, CTRBOX_LOG_INFO, CTRBOX_LOG_WARN,
				     CTRBOX_LOG_ERROR};
	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(v, names[i])) {
			ctrbox_log_set_level(levels[i]);
			return 0;
		}
	}
	fprintf(stderr, "ctrbox-snapshotter: bad --log-level %s\n", v);
	return 2;
}

/* -1 to go on, else the exit code (help, version, bad flags). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},    {"address", required_argument, NULL, 'a'},
	    {"backend", required_argument, NULL, 'b'}, {"log-level", required_argument, NULL, 'l'},
	    {"debug", no_argument, NULL, 'd'},	       {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			a->root = optarg;
		else if (c == 'a')
			a->address = optarg;
		else if (c == 'b')
			a->backend = optarg;
		else if (c == 'd')
			ctrbox_log_set_level(CTRBOX_LOG_DEBUG);
		else if (c == 'l') {
			if (set_level(optarg))
				return 2;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else if (c == 'V') {
			printf("ctrbox-snapshotter (ctrbox) %s\n", CTRBOX_VERSION);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !a->root || !*a->root || (a->address && !*a->address)) {
		fprintf(stderr, "ctrbox-snapshotter: --root and --address are required\n");
		usage(stderr);
		return 2;
	}
	if (a->root[0] != '/') {
		fprintf(stderr, "ctrbox-snapshotter: --root must be an absolute path\n");
		return 2;
	}
	return -1;
}

/* 0 with *be set, else the exit code. */
static int pick_backend(const struct args *a, enum snap_backend *be)
{
	if (!a->backend) {
		if (ctrbox_mkdir_p(a->root, 0700) < 0) {
			fprintf(stderr, "ctrbox-snapshotter: mkdir %s: %s\n", a->root,
				strerror(errno));
			return 1;
		}
		*be = store_default_backend(a->root);
	} else if (!strcmp(a->backend, "overlayfs") || !strcmp(a->backend, "overlay")) {
		*be = SNAP_OVERLAYFS;
	} else if (!strcmp(a->backend, "native")) {
		*be = SNAP_NATIVE;
	} else {
		fprintf(stderr, "ctrbox-snapshotter: unknown backend %s (overlayfs or native)\n",
			a->backend);
		return 2;
	}
	return 0;
}

/* The socket systemd passed (fd 3), -1 when none was (then --address is needed), or -2 after
 * printing why the passed fds cannot be served. */
static int activation_fd(const struct args *a)
{
	const char *why;
	int n = sdd_listen_fds();
	if (n < 0) {
		fprintf(stderr,
			"ctrbox-snapshotter: socket activation: bad LISTEN_PID/LISTEN_FDS: %s\n",
			strerror(-n));
		return -2;
	}
	if (n == 0) {
		if (!a->address) {
			fprintf(stderr,
				"ctrbox-snapshotter: --root and --address are required (or a "
				"socket from systemd: LISTEN_FDS)\n");
			return -2;
		}
		return -1;
	}
	if (n > 1) {
		fprintf(
		    stderr,
		    "ctrbox-snapshotter: socket activation passed %d fds; it serves exactly one "
		    "(a single ListenStream= in the .socket unit)\n",
		    n);
		return -2;
	}
	if (sdd_check_unix_listener(SDD_LISTEN_FDS_START, &why)) {
		fprintf(stderr, "ctrbox-snapshotter: socket activation: fd %d %s\n",
			SDD_LISTEN_FDS_START, why);
		return -2;
	}
	if (a->address)
		ctrbox_log_warn("--address %s ignored: serving the socket systemd passed (fd %d)",
				a->address, SDD_LISTEN_FDS_START);
	return SDD_LISTEN_FDS_START;
}

/* Readiness for systemd (Type=notify); a failure to tell it is logged, never fatal. */
static void notify(const char *state)
{
	int r = sdd_notify(state);
	if (r < 0)
		ctrbox_log_warn("sd_notify %s to %s: %s", state, getenv("NOTIFY_SOCKET"),
				strerror(-r));
}

static void on_ready(void *data)
{
	(void)data;
	notify("READY=1");
}

static void on_stopping(void *data)
{
	(void)data;
	notify("STOPPING=1");
}

int snapshotter_main(int argc, char **argv)
{
	struct args a = {NULL, NULL, NULL};
	enum snap_backend be;
	struct store *st = NULL;
	char *err = NULL;

	ctrbox_log_set_level(CTRBOX_LOG_INFO);
	ctrbox_log_add_field("snapshotter", "ctrbox");
	/* Each call's allocations and frees otherwise move the heap's top back and forth: three brk
	 * calls (and fresh zeroed pages) per Prepare+Commit+Remove round. */
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	int lfd = activation_fd(&a);
	if (lfd == -2)
		return 2;
	if ((rc = pick_backend(&a, &be)))
		return rc;
	if (store_open(a.root, be, &st, &err)) {
		fprintf(stderr, "ctrbox-snapshotter: %s\n", err ? err : "cannot open the store");
		free(err);
		return 1;
	}
	free(err);
	ctrbox_log_info("snapshots under %s, backend %s", a.root, store_backend_name(be));
	struct ctrbox_snapshotter_serve_opts o = {
	    .address = lfd >= 0 ? NULL : a.address,
	    .listen_fd = lfd,
	    .on_ready = on_ready,
	    .on_stopping = on_stopping,
	};
	const char *where = lfd >= 0 ? "the socket systemd passed" : a.address;
	rc = ctrbox_snapshotter_serve_with(&o, &store_ops, st);
	if (rc == -EADDRINUSE)
		fprintf(stderr,
			"ctrbox-snapshotter: listen %s: another server is listening there\n",
			a.address);
	else if (rc < 0)
		fprintf(stderr, "ctrbox-snapshotter: serving %s: %s\n", where, strerror(-rc));
	store_close(st);
	return rc < 0 ? 1 : 0;
}
