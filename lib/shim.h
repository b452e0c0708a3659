/* The shim framework: containerd's runtime-v2 shim CLI contract (start, delete, daemon). */
#ifndef CTRBOX_SHIM_H
#define CTRBOX_SHIM_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "ttrpc.h"

/* Where containerd 1.6 shims put their sockets, whatever containerd's state dir is. */
#define SHIM_SOCKET_DIR "/run/containerd/s"

struct shim_opts {
	const char *namespace;
	const char *id;
	const char *address;	    /* containerd's gRPC socket path */
	const char *publish_binary; /* legacy; default "containerd" */
	const char *bundle;
	const char *socket; /* listen here instead of inheriting fd 3 */
	int debug;
	int version;
	const char *action; /* "start", "delete", or NULL (the daemon) */
};

struct shim;
struct Containerd__Task__V2__DeleteResponse;

struct shim_ops {
	/* Runtime name, e.g. "io.containerd.runc.v2": prefixes fatal errors, tagged on log lines.
	 */
	const char *runtime;
	/* start: the grouping id (malloc'd) when several containers share one shim; NULL = -id. */
	char *(*group_id)(const struct shim_opts *o);
	/* start: the runtime options read from stdin (a google.protobuf.Any, maybe empty), after
	 * the daemon was forked. A failure kills the daemon and fails the start. */
	int (*start_options)(const struct shim_opts *o, pid_t daemon, const uint8_t *opts,
			     size_t len);
	/* delete: clean up after a dead shim; fill the response (pid, exit status, time). */
	int (*delete)(const struct shim_opts *o, struct Containerd__Task__V2__DeleteResponse *resp);
	/* daemon: register services on shim_server(s); *state is handed back to the hooks. */
	int (*init)(struct shim *s, void **state);
	/* daemon: SIGCHLD arrived; NULL = reap and forget every child. */
	void (*sigchld)(struct shim *s, void *state);
	/* daemon: the loop ended; free state. */
	void (*fini)(struct shim *s, void *state);
};

/* Parses the shim command line and runs the action; returns the process exit status. */
int shim_run(const struct shim_ops *ops, int argc, char **argv);

/* Parses Go-flag style arguments. Returns 0, or 2 with an error printed (as Go's flag). */
int shim_parse_flags(int argc, char **argv, struct shim_opts *o);
/* "unix:///run/containerd/s/<sha256(join(address, ns, group))>", malloc'd. */
char *shim_socket_address(const char *grpc_address, const char *ns, const char *group);

/* Daemon-mode accessors. */
struct loop *shim_loop(struct shim *s);
struct ttrpc_server *shim_server(struct shim *s);
const struct shim_opts *shim_options(struct shim *s);
/* Queue an event for containerd (topic, protobuf message; type_url = its full name). */
int shim_publish(struct shim *s, const char *topic, const ProtobufCMessage *event);
/* Leave the loop once the current callback returns; queued events get up to 5 s to go out. */
void shim_request_exit(struct shim *s);

#endif
