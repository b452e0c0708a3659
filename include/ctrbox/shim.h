/* ctrbox/shim.h: the runtime v2 shim framework. A shim author fills a struct ctrbox_shim_ops
 * and calls ctrbox_shim_run() from main(); the framework implements containerd's shim command
 * line contract:
 *
 *   SHIM [-debug] -namespace NS -id ID -address SOCK [-publish-binary B] [-bundle DIR] start
 *     forks the daemon (new session, child subreaper, oom_score_adj of containerd + 1), listens
 *     on unix:///run/containerd/s/<sha256 of address, namespace and group id>, writes the
 *     bundle's "address" file (containerd 1.6) and prints the address (1.6) or the JSON
 *     bootstrap answer (2.x); an address already served by a live shim of the same group is
 *     reused. Runtime options on stdin go to start_options; SCHED_CORE=1 in the environment
 *     makes a core-scheduling domain for the daemon.
 *   SHIM -info (containerd 2.x): the runtime options on stdin, a RuntimeInfo on stdout.
 *   SHIM ... delete
 *     cleanup after a dead shim, in the bundle: calls delete_shim and prints its
 *     DeleteResponse for containerd.
 *   SHIM ... (no action): the daemon, normally exec'd by start with the socket on fd 3 (or
 *     listening on -socket PATH): logs go to the bundle's "log" fifo as containerd's key=value
 *     lines, the TTRPC server runs on one epoll loop in one thread until
 *     ctrbox_shim_request_exit(), SIGTERM or SIGINT.
 *   SHIM -v prints the version; bad flags print Go-flag style errors and exit 2.
 *
 * What the daemon serves is the author's: init registers services (usually the Task service,
 * ctrbox/task.h) on ctrbox_shim_server(). Event publishing (ctrbox_shim_publish) and the reaper
 * (ctrbox_shim_reap) are there to use, not imposed. */
#ifndef CTRBOX_SHIM_H
#define CTRBOX_SHIM_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ctrbox/loop.h>
#include <ctrbox/ttrpc.h>
#include <ctrbox/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where containerd 1.6 shims put their sockets, whatever containerd's state dir is. */
#define CTRBOX_SHIM_SOCKET_DIR "/run/containerd/s"

/* The parsed command line (filled by the framework, read-only for hooks). */
struct ctrbox_shim_opts {
	const char *ns;		    /* -namespace (never empty when a hook runs) */
	const char *id;		    /* -id: the container (task) id */
	const char *address;	    /* -address: containerd's gRPC socket path */
	const char *publish_binary; /* -publish-binary (unused by containerd 1.6 shims) */
	const char *bundle;	    /* -bundle (start, delete); the daemon runs in the bundle */
	const char *socket;	    /* -socket: listen here instead of on fd 3 */
	int debug;		    /* -debug: log level debug */
	int info;		    /* -info (containerd 2.x): print the RuntimeInfo and exit */
	int version;		    /* -v */
	const char *action;	    /* "start", "delete", or NULL for the daemon */
	/* Not a flag: MAX_SHIM_VERSION is in the environment, which containerd 2.x sets for
	 * every shim and 1.6 does not (ctrbox_shim_run fills it; the daemon inherits it). */
	int containerd_2x;
};

struct ctrbox_shim;
/* From task/shim.pb-c.h (ctrbox/task.h includes it). */
struct Containerd__Task__V2__DeleteResponse;
/* From types/introspection.pb-c.h. */
struct Containerd__Types__RuntimeInfo;

/* Hooks; every one may be NULL. Functions returning int return 0 or a negative errno; a
 * failure fails the action with a message naming the runtime, as containerd expects. */
struct ctrbox_shim_ops {
	/* The runtime name, e.g. "io.containerd.example.v1": in -v output, fatal errors and the
	 * runtime= field of every log line. Required. */
	const char *runtime;
	/* start: the group id (malloc'd; the framework frees it) when one shim serves several
	 * containers (the pod's sandbox id, say); NULL = the container's -id. */
	char *(*group_id)(const struct ctrbox_shim_opts *o);
	/* start, after the daemon was forked: the runtime options containerd gave (an encoded
	 * google.protobuf.Any; len may be 0): stdin as containerd up to 2.2 writes it, or the
	 * options extension of containerd 2.3's BootstrapParams (ctrbox_shim_parse_start_input).
	 * A failure kills the daemon, fails start. */
	int (*start_options)(const struct ctrbox_shim_opts *o, pid_t daemon, const uint8_t *opts,
			     size_t len);
	/* delete: clean up what a dead shim left in the bundle and fill resp (pid, exit_status,
	 * exited_at). NULL answers exit status 137 ("killed"), as for a shim that died. */
	int (*delete_shim)(const struct ctrbox_shim_opts *o,
			   struct Containerd__Task__V2__DeleteResponse *resp);
	/* daemon: register services on ctrbox_shim_server(s) and set *state, handed to the
	 * other daemon hooks. A failure ends the daemon before it serves. */
	int (*init)(struct ctrbox_shim *s, void **state);
	/* daemon: SIGCHLD arrived; reap (ctrbox_shim_reap) and act on the exits. NULL reaps
	 * every child and forgets it. The daemon is a child subreaper: orphaned descendants
	 * (a container's init whose runtime exited) come here too. */
	void (*sigchld)(struct ctrbox_shim *s, void *state);
	/* daemon: the loop ended (Shutdown, SIGTERM); free state. Queued events were flushed. */
	void (*fini)(struct ctrbox_shim *s, void *state);
	/* -info (containerd 2.x asks at start-up, and for `ctr plugins inspect-runtime`): opts is
	 * what containerd wrote on stdin (runtime options as an encoded Any; len may be 0). info
	 * comes with name (runtime) and version (version, revision) filled; the hook may set
	 * options and features to google.protobuf.Any values allocated with malloc (the struct,
	 * type_url and value.data), which the framework frees after writing info on stdout. On
	 * failure it returns a negative errno and may set *err (malloc'd) to the message printed
	 * after "<runtime>: ". NULL: name, version and the options as given. */
	int (*info)(const struct ctrbox_shim_opts *o, const uint8_t *opts, size_t len,
		    struct Containerd__Types__RuntimeInfo *info, char **err);
	/* -v prints "Version: <version>" and "Revision: <revision>": the shim's own release;
	 * NULL = libctrbox's version and "ctrbox". */
	const char *version;
	const char *revision;
	/* The start answer under containerd 2.x (MAX_SHIM_VERSION in the environment). 0: JSON
	 * {"version":3,"address":...,"protocol":"ttrpc"}, as the Go 2.x shim prints, for a daemon
	 * that serves containerd.task.v3.Task (ctrbox_task_register serves it with v2). 2: the
	 * bare address (version 2) for a daemon that serves only the v2 name. containerd 1.6 gets
	 * the bare address either way, plus the bundle's "address" file, which 2.x does not use. */
	unsigned task_api_version;
};

/* The whole shim: parses argv (argv[0] is how the daemon is re-executed, through
 * /proc/self/exe), runs the action, returns the process exit status for main() to return. */
int ctrbox_shim_run(const struct ctrbox_shim_ops *ops, int argc, char **argv);

/* Parses the shim command line (Go flag syntax: -flag, --flag, -flag=value, -flag value) into
 * o, whose strings point into argv. Returns 0, or 2 with the error printed on stderr. */
int ctrbox_shim_parse_flags(int argc, char **argv, struct ctrbox_shim_opts *o);
/* What containerd wrote on start's stdin, in, told apart: containerd 2.3's BootstrapParams
 * (recognised by instance_id == id and namespace == ns; a bare Any decodes as one too) gives
 * its runtime-options extension (the first whose type URL is not containerd.io/...) and
 * socket_dir (*socket_dir, may be NULL to ignore; NULL when unset); anything else is the bare
 * options Any of containerd up to 2.2, copied. *opts is malloc'd (NULL, *optlen 0 when there
 * are none); returns 0 or -ENOMEM. */
int ctrbox_shim_parse_start_input(const uint8_t *in, size_t len, const char *id, const char *ns,
				  uint8_t **opts, size_t *optlen, char **socket_dir);
/* The socket address a shim of this containerd, namespace and group listens on:
 * "unix:///run/containerd/s/<hex sha256>", malloc'd (NULL if out of memory). */
char *ctrbox_shim_socket_address(const char *grpc_address, const char *ns, const char *group);

/* ---- in the daemon (from init on) ---- */

/* The daemon's loop, its TTRPC server (register services on it in init) and the options it
 * was started with; valid until ctrbox_shim_run returns. */
struct ctrbox_loop *ctrbox_shim_loop(struct ctrbox_shim *s);
struct ctrbox_ttrpc_server *ctrbox_shim_server(struct ctrbox_shim *s);
const struct ctrbox_shim_opts *ctrbox_shim_options(struct ctrbox_shim *s);

/* Queues an event for containerd: topic (e.g. "/tasks/exit", CTRBOX_TOPIC_* in
 * ctrbox/task.h) and a protobuf message, sent wrapped in a google.protobuf.Any whose type_url
 * is the message's full name, to containerd's TTRPC socket ($TTRPC_ADDRESS) in the shim's
 * namespace. Events go out strictly in the order queued; a failed send is retried with
 * backoff (1 s, 2 s, ...) 5 times, then dropped with a log line. The message is encoded at
 * once: the caller keeps ownership. Returns 0 or a negative errno (-ENOSPC: queue full). */
int ctrbox_shim_publish(struct ctrbox_shim *s, const char *topic, const ProtobufCMessage *event);
/* Leaves the loop once the current callback returned and its reply went out; queued events
 * get up to 5 s to be sent, then fini runs and ctrbox_shim_run() returns 0. */
void ctrbox_shim_request_exit(struct ctrbox_shim *s);

/* The reaper, for sigchld hooks: waits for every child that exited (waitpid(-1, WNOHANG))
 * and calls exited(pid, wstatus, data) for each, in the order reaped. Returns the number of
 * children reaped. */
int ctrbox_shim_reap(void (*exited)(pid_t pid, int wstatus, void *data), void *data);

#ifdef __cplusplus
}
#endif

#endif
