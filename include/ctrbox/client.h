/* ctrbox/client.h: a containerd gRPC client (rust-extensions' client crate). Connects to
 * containerd's socket, carries the containerd-namespace and containerd-lease metadata and a
 * per-call timeout, and makes unary and server-streaming calls of containerd's services on top
 * of the gRPC transport (ctrbox/grpc.h). A client is blocking and single-threaded: it owns a
 * private event loop that runs only inside its calls. */
#ifndef CTRBOX_CLIENT_H
#define CTRBOX_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include <ctrbox/grpc.h>
#include <ctrbox/loop.h>
#include <ctrbox/rpc.h>

/* protoc-c names the service stubs' members after the methods, and one is "delete": for C++
 * that member is called delete_ (the stubs are not how the client calls anyway). */
#define delete delete_
#include "containers/v1/containers.pb-c.h"
#include "tasks/v1/tasks.pb-c.h"
#undef delete
#include "version/v1/version.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* containerd's default socket. */
#define CTRBOX_CLIENT_DEFAULT_ADDRESS "/run/containerd/containerd.sock"

struct ctrbox_client;

/* Connects to address ("/path", "unix:///path" or "@abstract"); the namespace starts as
 * "default", no lease, no timeout. *out is owned by the caller (ctrbox_client_free).
 * Returns 0 or -errno (the connect's, e.g. -ENOENT, -ECONNREFUSED; -ENOMEM). */
int ctrbox_client_connect(const char *address, struct ctrbox_client **out);
/* Ends pending calls, closes the connection and frees c (NULL is a no-op). */
void ctrbox_client_free(struct ctrbox_client *c);
/* The containerd-namespace of every later call (copied; NULL or "" sends none). 0 or -ENOMEM. */
int ctrbox_client_set_namespace(struct ctrbox_client *c, const char *ns);
/* The containerd-lease of every later call (copied; NULL or "" sends none). 0 or -ENOMEM. */
int ctrbox_client_set_lease(struct ctrbox_client *c, const char *lease);
/* The timeout of every later call in ms, sent as grpc-timeout (0 = none). */
void ctrbox_client_set_timeout(struct ctrbox_client *c, uint64_t timeout_ms);
/* The current namespace (NULL if none); valid until the next set_namespace. */
const char *ctrbox_client_namespace(const struct ctrbox_client *c);
/* Fills md with the call metadata (namespace, then lease while set; pointers into c, valid until
 * the next set_*) and returns how many (0..2): for calls made on ctrbox_client_grpc directly. */
size_t ctrbox_client_metadata(const struct ctrbox_client *c, struct ctrbox_kv md[2]);
/* The client's event loop and gRPC connection (owned by c), for bidirectional or client
 * streams made with ctrbox_grpc_client_start and driven with ctrbox_loop_run_until. */
struct ctrbox_loop *ctrbox_client_loop(struct ctrbox_client *c);
struct ctrbox_grpc_client *ctrbox_client_grpc(struct ctrbox_client *c);

/* Unary call of path ("/containerd.services.version.v1.Version/Version"). req is any message
 * (NULL sends an empty one). With resp_desc, *resp gets the decoded reply (the caller frees it
 * with protobuf_c_message_free_unpacked); resp_desc NULL discards it (resp may be NULL then).
 * Returns 0 (CTRBOX_OK) or the gRPC status code with *err (malloc'd, caller frees; may be NULL
 * when err is NULL) set to the status message; transport failures are CTRBOX_UNAVAILABLE (with
 * the errno text), a passed timeout CTRBOX_DEADLINE_EXCEEDED. */
int ctrbox_client_call(struct ctrbox_client *c, const char *path, const ProtobufCMessage *req,
		       const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
		       char **err);
/* Server-streaming call: on_msg sees every raw response message (return non-zero to cancel).
 * Returns as ctrbox_client_call once the stream ended. */
int ctrbox_client_call_stream(struct ctrbox_client *c, const char *path,
			      const ProtobufCMessage *req, ctrbox_grpc_msg_cb on_msg, void *data,
			      char **err);

/* ---- typed calls (each as ctrbox_client_call; the caller frees *out with
 * protobuf_c_message_free_unpacked(&(*out)->base, NULL)) ---- */

/* Version.Version: containerd's version and revision. */
int ctrbox_client_version(struct ctrbox_client *c,
			  Containerd__Services__Version__V1__VersionResponse **out, char **err);
/* Containers.List of the namespace; filters (n strings, may be NULL when 0) as containerd's. */
int ctrbox_client_containers_list(
    struct ctrbox_client *c, char **filters, size_t n,
    Containerd__Services__Containers__V1__ListContainersResponse **out, char **err);
/* Tasks.List of the namespace; filter as containerd's (NULL or "" = all). */
int ctrbox_client_tasks_list(struct ctrbox_client *c, const char *filter,
			     Containerd__Services__Tasks__V1__ListTasksResponse **out, char **err);
/* containerd's name of a task status ("RUNNING", "CREATED", ...; "UNKNOWN" otherwise). Static. */
const char *ctrbox_client_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif
