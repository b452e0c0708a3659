/* ctrbox/snapshots.h: a snapshotter framework (rust-extensions' snapshots crate). A snapshotter
 * fills a table of operations on plain C structs; the crate serves it to containerd as
 * containerd.services.snapshots.v1.Snapshots over gRPC on a unix socket ([proxy_plugins.NAME]
 * type = "snapshot"), converting messages, mapping errors to the codes containerd's errdefs
 * expect, streaming List in batches and applying List's filters (containerd's filter syntax).
 *
 * Every operation returns 0 or a status code of ctrbox/rpc.h, as containerd reads them:
 * CTRBOX_NOT_FOUND (no such key/parent), CTRBOX_ALREADY_EXISTS (key or name taken),
 * CTRBOX_FAILED_PRECONDITION (wrong kind, snapshot has children), CTRBOX_INVALID_ARGUMENT (bad
 * key, label, update path), CTRBOX_INTERNAL (anything else). With a non-zero code the
 * operation may set *err to a malloc'd message (the crate sends it and frees it; NULL: a generic
 * one). Output structs and arrays the operations fill are malloc'd by them and freed by the
 * crate with ctrbox_snapshot_info_clear() and ctrbox_snapshot_mounts_free(). */
#ifndef CTRBOX_SNAPSHOTS_H
#define CTRBOX_SNAPSHOTS_H

#include <stddef.h>
#include <stdint.h>

#include <ctrbox/grpc.h>
#include <ctrbox/rpc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The Kind enum of containerd's snapshots API (same values). */
enum ctrbox_snapshot_kind {
	CTRBOX_SNAPSHOT_UNKNOWN = 0,
	CTRBOX_SNAPSHOT_VIEW = 1,
	CTRBOX_SNAPSHOT_ACTIVE = 2,
	CTRBOX_SNAPSHOT_COMMITTED = 3
};

/* One label (key = value). */
struct ctrbox_snapshot_label {
	char *key;
	char *value;
};

/* A snapshot's Info. */
struct ctrbox_snapshot_info {
	char *name;   /* the key (active, view) or the name (committed) */
	char *parent; /* "" or NULL when none */
	enum ctrbox_snapshot_kind kind;
	int64_t created_ns; /* unix time in ns */
	int64_t updated_ns;
	struct ctrbox_snapshot_label *labels;
	size_t nlabels;
};

/* Disk usage of a snapshot. */
struct ctrbox_snapshot_usage {
	int64_t size; /* bytes */
	int64_t inodes;
};

/* One mount containerd performs to use a snapshot (types.Mount). */
struct ctrbox_snapshot_mount {
	char *type;   /* "bind", "overlay", ... */
	char *source; /* a path, or "overlay" */
	char **options;
	size_t noptions;
	char *target; /* NULL or "" except for mounts nested under another one (containerd 2) */
};

/* The operations of a snapshotter. impl is the pointer given to ctrbox_snapshotter_serve.
 * Every member except cleanup must be set; cleanup NULL answers OK without doing anything. The
 * key/name strings are never NULL; labels may be NULL when nlabels is 0. */
struct ctrbox_snapshotter_ops {
	/* Fills *out with the snapshot's info (key: active/view key or committed name). */
	int (*stat)(void *impl, const char *key, struct ctrbox_snapshot_info *out, char **err);
	/* Updates the mutable fields of in->name; paths (npaths 0: all mutable fields) are
	 * containerd's field paths ("labels", "labels.KEY"). *out gets the updated info. */
	int (*update)(void *impl, const struct ctrbox_snapshot_info *in, const char *const *paths,
		      size_t npaths, struct ctrbox_snapshot_info *out, char **err);
	/* Fills *out with the usage of key. */
	int (*usage)(void *impl, const char *key, struct ctrbox_snapshot_usage *out, char **err);
	/* The mounts of an active or view snapshot: *mounts (malloc'd array of *nmounts). */
	int (*mounts)(void *impl, const char *key, struct ctrbox_snapshot_mount **mounts,
		      size_t *nmounts, char **err);
	/* Creates the active snapshot key on top of parent ("" = none) and returns its mounts. */
	int (*prepare)(void *impl, const char *key, const char *parent,
		       const struct ctrbox_snapshot_label *labels, size_t nlabels,
		       struct ctrbox_snapshot_mount **mounts, size_t *nmounts, char **err);
	/* Creates the read-only view key of parent and returns its mounts. */
	int (*view)(void *impl, const char *key, const char *parent,
		    const struct ctrbox_snapshot_label *labels, size_t nlabels,
		    struct ctrbox_snapshot_mount **mounts, size_t *nmounts, char **err);
	/* Commits the active snapshot key as the committed snapshot name (key is gone after). */
	int (*commit)(void *impl, const char *name, const char *key,
		      const struct ctrbox_snapshot_label *labels, size_t nlabels, char **err);
	/* Removes key (a snapshot with children is CTRBOX_FAILED_PRECONDITION). */
	int (*remove)(void *impl, const char *key, char **err);
	/* Calls fn once per snapshot with an info the crate only borrows for the call; a non-zero
	 * return of fn (a negative errno) must stop the walk and be returned as it is. */
	int (*walk)(void *impl, int (*fn)(const struct ctrbox_snapshot_info *info, void *data),
		    void *data, char **err);
	/* Frees resources no snapshot uses any more (orphan directories). May be NULL. */
	int (*cleanup)(void *impl, char **err);
};

/* Infos sent per List response message (containerd's servers send 100). */
#define CTRBOX_SNAPSHOT_LIST_BATCH 100

/* A snapshotter to serve: its operations and the pointer they get. */
struct ctrbox_snapshotter {
	const struct ctrbox_snapshotter_ops *ops;
	void *impl;
};

/* Registers the Snapshots service on a gRPC server (ctrbox/grpc.h) for a caller that runs its
 * own loop (ctrbox_snapshotter_serve does everything). sn is borrowed and must outlive the
 * server. 0, -EINVAL when an operation other than cleanup is NULL, or -errno. */
int ctrbox_snapshotter_register(struct ctrbox_grpc_server *srv,
				const struct ctrbox_snapshotter *sn);

/* Binds a unix socket at path, owner-only (0600), and listens. A socket file nobody answers on
 * is stale and replaced; one with a live server is refused with -EADDRINUSE. Returns the
 * listening fd (the caller owns it) or -errno. */
int ctrbox_snapshotter_listen(const char *path);

/* Serves ops/impl on the unix socket address until SIGTERM or SIGINT (blocked and read through
 * a signalfd; SIGPIPE is ignored): one thread, one ctrbox_loop. The socket file is removed on
 * the way out. Returns 0 after a signal, -EADDRINUSE when another server answers on address,
 * another -errno when the socket or the server could not be set up (nothing is logged: the
 * caller reports it). */
int ctrbox_snapshotter_serve(const char *address, const struct ctrbox_snapshotter_ops *ops,
			     void *impl);

/* How ctrbox_snapshotter_serve_with serves: zero it, then set address or listen_fd. */
struct ctrbox_snapshotter_serve_opts {
	/* A unix socket to bind (ctrbox_snapshotter_listen) and remove on the way out. NULL: serve
	 * listen_fd instead. */
	const char *address;
	/* With address NULL: a unix stream socket that is already listening (socket activation:
	 * the fd systemd passes). It is made non-blocking and always closed before the call returns
	 * (even when it is refused), and its file is left alone (whoever bound it removes it). */
	int listen_fd;
	/* Called, when set, with data: on_ready once the server accepts, before the loop first
	 * waits (where a systemd service sends READY=1); on_stopping once the loop has ended,
	 * before the server is torn down (STOPPING=1). */
	void (*on_ready)(void *data);
	void (*on_stopping)(void *data);
	void *data;
};

/* ctrbox_snapshotter_serve with the options above (the same signals, loop and return codes);
 * -EINVAL when o is NULL, or address is NULL and listen_fd negative; -ENOTSOCK when listen_fd
 * is not a socket, -EINVAL when it is not a listening unix stream socket. */
int ctrbox_snapshotter_serve_with(const struct ctrbox_snapshotter_serve_opts *o,
				  const struct ctrbox_snapshotter_ops *ops, void *impl);

/* Frees what an info points to (not info itself) and zeroes it; NULL is a no-op. */
void ctrbox_snapshot_info_clear(struct ctrbox_snapshot_info *info);
/* Frees n mounts (their strings and the array m); NULL is a no-op. */
void ctrbox_snapshot_mounts_free(struct ctrbox_snapshot_mount *m, size_t n);

/* ---- containerd's filter syntax (List's filters) ---- */

/* Parsed filters: fields name, parent, kind ("active", "view", "committed"), labels."KEY" or
 * labels.KEY; operators ==, !=, ~= (regexp, POSIX ERE), a field alone = present; selectors
 * joined by ',' are AND-ed, separate filter strings are OR-ed. The server applies them to List
 * itself; they are public for snapshotters that filter elsewhere. */
struct ctrbox_snapshot_filter;

/* Parses n filter strings (n 0 = match everything) into *out (free with
 * ctrbox_snapshot_filter_free). Returns 0, or CTRBOX_INVALID_ARGUMENT with *err set (malloc'd)
 * to a message like containerd's "filters: parse error: ...: invalid argument", or
 * CTRBOX_INTERNAL when out of memory. */
int ctrbox_snapshot_filter_parse(const char *const *filters, size_t n,
				 struct ctrbox_snapshot_filter **out, char **err);
/* 1 if info passes the filters, else 0. */
int ctrbox_snapshot_filter_match(const struct ctrbox_snapshot_filter *f,
				 const struct ctrbox_snapshot_info *info);
/* Frees parsed filters; NULL is a no-op. */
void ctrbox_snapshot_filter_free(struct ctrbox_snapshot_filter *f);

#ifdef __cplusplus
}
#endif

#endif
