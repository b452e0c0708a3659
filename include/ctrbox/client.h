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
#include "content/v1/content.pb-c.h"
#include "diff/v1/diff.pb-c.h"
#include "events/v1/events.pb-c.h"
#include "images/v1/images.pb-c.h"
#include "introspection/v1/introspection.pb-c.h"
#include "leases/v1/leases.pb-c.h"
#include "namespaces/v1/namespace.pb-c.h"
#include "snapshots/v1/snapshots.pb-c.h"
#include "tasks/v1/tasks.pb-c.h"
#undef delete
#include "google/protobuf/empty.pb-c.h"
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

/* containerd's name of a task status ("RUNNING", "CREATED", ...; "UNKNOWN" otherwise). Static. */
const char *ctrbox_client_status_name(int status);

/* ---- typed calls: every unary and server-streaming method of the containerd services
 * ctrbox-ctr uses (containers, content, diff, events, images, introspection, leases, namespaces,
 * snapshots, tasks, version), one function each, named ctrbox_client_rpc_<service>_<method>.
 *
 * Unary: int ctrbox_client_rpc_tasks_get(struct ctrbox_client *c,
 *            const Containerd__Services__Tasks__V1__GetRequest *req,
 *            Containerd__Services__Tasks__V1__GetResponse **out, char **err);
 *   req NULL sends the request's empty form; *out is decoded (free it with
 *   protobuf_c_message_free_unpacked; out NULL discards the reply); returns as
 *   ctrbox_client_call (0 or the status code, *err malloc'd).
 * Server streaming: int ctrbox_client_rpc_events_subscribe(struct ctrbox_client *c,
 *            const Containerd__Services__Events__V1__SubscribeRequest *req,
 *            ctrbox_client_msg_fn on_msg, void *data, char **err);
 *   on_msg gets each response decoded as the method's response type (here
 *   Containerd__Services__Events__V1__Envelope), returns as ctrbox_client_call_messages.
 * Client streaming (Content.Write) has no typed call: use ctrbox_client_grpc(). */

/* One response of a server-streaming call, decoded (borrowed: freed after the call returns);
 * non-zero cancels the stream. */
typedef int (*ctrbox_client_msg_fn)(const ProtobufCMessage *msg, void *data);
/* Server-streaming call whose responses are decoded with resp_desc and handed to on_msg; a
 * response that does not decode cancels the call with CTRBOX_INTERNAL. Returns as
 * ctrbox_client_call once the stream ended. */
int ctrbox_client_call_messages(struct ctrbox_client *c, const char *path,
				const ProtobufCMessage *req,
				const ProtobufCMessageDescriptor *resp_desc,
				ctrbox_client_msg_fn on_msg, void *data, char **err);

/* X(name, path, request type, response type, response descriptor) */
#define CTRBOX_CLIENT_UNARY_CALLS(X)                                                               \
	X(containers_get, "/containerd.services.containers.v1.Containers/Get",                     \
	  Containerd__Services__Containers__V1__GetContainerRequest,                               \
	  Containerd__Services__Containers__V1__GetContainerResponse,                              \
	  containerd__services__containers__v1__get_container_response__descriptor)                \
	X(containers_list, "/containerd.services.containers.v1.Containers/List",                   \
	  Containerd__Services__Containers__V1__ListContainersRequest,                             \
	  Containerd__Services__Containers__V1__ListContainersResponse,                            \
	  containerd__services__containers__v1__list_containers_response__descriptor)              \
	X(containers_create, "/containerd.services.containers.v1.Containers/Create",               \
	  Containerd__Services__Containers__V1__CreateContainerRequest,                            \
	  Containerd__Services__Containers__V1__CreateContainerResponse,                           \
	  containerd__services__containers__v1__create_container_response__descriptor)             \
	X(containers_update, "/containerd.services.containers.v1.Containers/Update",               \
	  Containerd__Services__Containers__V1__UpdateContainerRequest,                            \
	  Containerd__Services__Containers__V1__UpdateContainerResponse,                           \
	  containerd__services__containers__v1__update_container_response__descriptor)             \
	X(containers_delete, "/containerd.services.containers.v1.Containers/Delete",               \
	  Containerd__Services__Containers__V1__DeleteContainerRequest, Google__Protobuf__Empty,   \
	  google__protobuf__empty__descriptor)                                                     \
	X(content_info, "/containerd.services.content.v1.Content/Info",                            \
	  Containerd__Services__Content__V1__InfoRequest,                                          \
	  Containerd__Services__Content__V1__InfoResponse,                                         \
	  containerd__services__content__v1__info_response__descriptor)                            \
	X(content_update, "/containerd.services.content.v1.Content/Update",                        \
	  Containerd__Services__Content__V1__UpdateRequest,                                        \
	  Containerd__Services__Content__V1__UpdateResponse,                                       \
	  containerd__services__content__v1__update_response__descriptor)                          \
	X(content_delete, "/containerd.services.content.v1.Content/Delete",                        \
	  Containerd__Services__Content__V1__DeleteContentRequest, Google__Protobuf__Empty,        \
	  google__protobuf__empty__descriptor)                                                     \
	X(content_status, "/containerd.services.content.v1.Content/Status",                        \
	  Containerd__Services__Content__V1__StatusRequest,                                        \
	  Containerd__Services__Content__V1__StatusResponse,                                       \
	  containerd__services__content__v1__status_response__descriptor)                          \
	X(content_list_statuses, "/containerd.services.content.v1.Content/ListStatuses",           \
	  Containerd__Services__Content__V1__ListStatusesRequest,                                  \
	  Containerd__Services__Content__V1__ListStatusesResponse,                                 \
	  containerd__services__content__v1__list_statuses_response__descriptor)                   \
	X(content_abort, "/containerd.services.content.v1.Content/Abort",                          \
	  Containerd__Services__Content__V1__AbortRequest, Google__Protobuf__Empty,                \
	  google__protobuf__empty__descriptor)                                                     \
	X(diff_apply, "/containerd.services.diff.v1.Diff/Apply",                                   \
	  Containerd__Services__Diff__V1__ApplyRequest,                                            \
	  Containerd__Services__Diff__V1__ApplyResponse,                                           \
	  containerd__services__diff__v1__apply_response__descriptor)                              \
	X(diff_diff, "/containerd.services.diff.v1.Diff/Diff",                                     \
	  Containerd__Services__Diff__V1__DiffRequest,                                             \
	  Containerd__Services__Diff__V1__DiffResponse,                                            \
	  containerd__services__diff__v1__diff_response__descriptor)                               \
	X(events_publish, "/containerd.services.events.v1.Events/Publish",                         \
	  Containerd__Services__Events__V1__PublishRequest, Google__Protobuf__Empty,               \
	  google__protobuf__empty__descriptor)                                                     \
	X(events_forward, "/containerd.services.events.v1.Events/Forward",                         \
	  Containerd__Services__Events__V1__ForwardRequest, Google__Protobuf__Empty,               \
	  google__protobuf__empty__descriptor)                                                     \
	X(images_get, "/containerd.services.images.v1.Images/Get",                                 \
	  Containerd__Services__Images__V1__GetImageRequest,                                       \
	  Containerd__Services__Images__V1__GetImageResponse,                                      \
	  containerd__services__images__v1__get_image_response__descriptor)                        \
	X(images_list, "/containerd.services.images.v1.Images/List",                               \
	  Containerd__Services__Images__V1__ListImagesRequest,                                     \
	  Containerd__Services__Images__V1__ListImagesResponse,                                    \
	  containerd__services__images__v1__list_images_response__descriptor)                      \
	X(images_create, "/containerd.services.images.v1.Images/Create",                           \
	  Containerd__Services__Images__V1__CreateImageRequest,                                    \
	  Containerd__Services__Images__V1__CreateImageResponse,                                   \
	  containerd__services__images__v1__create_image_response__descriptor)                     \
	X(images_update, "/containerd.services.images.v1.Images/Update",                           \
	  Containerd__Services__Images__V1__UpdateImageRequest,                                    \
	  Containerd__Services__Images__V1__UpdateImageResponse,                                   \
	  containerd__services__images__v1__update_image_response__descriptor)                     \
	X(images_delete, "/containerd.services.images.v1.Images/Delete",                           \
	  Containerd__Services__Images__V1__DeleteImageRequest, Google__Protobuf__Empty,           \
	  google__protobuf__empty__descriptor)                                                     \
	X(introspection_plugins, "/containerd.services.introspection.v1.Introspection/Plugins",    \
	  Containerd__Services__Introspection__V1__PluginsRequest,                                 \
	  Containerd__Services__Introspection__V1__PluginsResponse,                                \
	  containerd__services__introspection__v1__plugins_response__descriptor)                   \
	X(introspection_server, "/containerd.services.introspection.v1.Introspection/Server",      \
	  Google__Protobuf__Empty, Containerd__Services__Introspection__V1__ServerResponse,        \
	  containerd__services__introspection__v1__server_response__descriptor)                    \
	X(leases_create, "/containerd.services.leases.v1.Leases/Create",                           \
	  Containerd__Services__Leases__V1__CreateRequest,                                         \
	  Containerd__Services__Leases__V1__CreateResponse,                                        \
	  containerd__services__leases__v1__create_response__descriptor)                           \
	X(leases_delete, "/containerd.services.leases.v1.Leases/Delete",                           \
	  Containerd__Services__Leases__V1__DeleteRequest, Google__Protobuf__Empty,                \
	  google__protobuf__empty__descriptor)                                                     \
	X(leases_list, "/containerd.services.leases.v1.Leases/List",                               \
	  Containerd__Services__Leases__V1__ListRequest,                                           \
	  Containerd__Services__Leases__V1__ListResponse,                                          \
	  containerd__services__leases__v1__list_response__descriptor)                             \
	X(leases_add_resource, "/containerd.services.leases.v1.Leases/AddResource",                \
	  Containerd__Services__Leases__V1__AddResourceRequest, Google__Protobuf__Empty,           \
	  google__protobuf__empty__descriptor)                                                     \
	X(leases_delete_resource, "/containerd.services.leases.v1.Leases/DeleteResource",          \
	  Containerd__Services__Leases__V1__DeleteResourceRequest, Google__Protobuf__Empty,        \
	  google__protobuf__empty__descriptor)                                                     \
	X(leases_list_resources, "/containerd.services.leases.v1.Leases/ListResources",            \
	  Containerd__Services__Leases__V1__ListResourcesRequest,                                  \
	  Containerd__Services__Leases__V1__ListResourcesResponse,                                 \
	  containerd__services__leases__v1__list_resources_response__descriptor)                   \
	X(namespaces_get, "/containerd.services.namespaces.v1.Namespaces/Get",                     \
	  Containerd__Services__Namespaces__V1__GetNamespaceRequest,                               \
	  Containerd__Services__Namespaces__V1__GetNamespaceResponse,                              \
	  containerd__services__namespaces__v1__get_namespace_response__descriptor)                \
	X(namespaces_list, "/containerd.services.namespaces.v1.Namespaces/List",                   \
	  Containerd__Services__Namespaces__V1__ListNamespacesRequest,                             \
	  Containerd__Services__Namespaces__V1__ListNamespacesResponse,                            \
	  containerd__services__namespaces__v1__list_namespaces_response__descriptor)              \
	X(namespaces_create, "/containerd.services.namespaces.v1.Namespaces/Create",               \
	  Containerd__Services__Namespaces__V1__CreateNamespaceRequest,                            \
	  Containerd__Services__Namespaces__V1__CreateNamespaceResponse,                           \
	  containerd__services__namespaces__v1__create_namespace_response__descriptor)             \
	X(namespaces_update, "/containerd.services.namespaces.v1.Namespaces/Update",               \
	  Containerd__Services__Namespaces__V1__UpdateNamespaceRequest,                            \
	  Containerd__Services__Namespaces__V1__UpdateNamespaceResponse,                           \
	  containerd__services__namespaces__v1__update_namespace_response__descriptor)             \
	X(namespaces_delete, "/containerd.services.namespaces.v1.Namespaces/Delete",               \
	  Containerd__Services__Namespaces__V1__DeleteNamespaceRequest, Google__Protobuf__Empty,   \
	  google__protobuf__empty__descriptor)                                                     \
	X(snapshots_prepare, "/containerd.services.snapshots.v1.Snapshots/Prepare",                \
	  Containerd__Services__Snapshots__V1__PrepareSnapshotRequest,                             \
	  Containerd__Services__Snapshots__V1__PrepareSnapshotResponse,                            \
	  containerd__services__snapshots__v1__prepare_snapshot_response__descriptor)              \
	X(snapshots_view, "/containerd.services.snapshots.v1.Snapshots/View",                      \
	  Containerd__Services__Snapshots__V1__ViewSnapshotRequest,                                \
	  Containerd__Services__Snapshots__V1__ViewSnapshotResponse,                               \
	  containerd__services__snapshots__v1__view_snapshot_response__descriptor)                 \
	X(snapshots_mounts, "/containerd.services.snapshots.v1.Snapshots/Mounts",                  \
	  Containerd__Services__Snapshots__V1__MountsRequest,                                      \
	  Containerd__Services__Snapshots__V1__MountsResponse,                                     \
	  containerd__services__snapshots__v1__mounts_response__descriptor)                        \
	X(snapshots_commit, "/containerd.services.snapshots.v1.Snapshots/Commit",                  \
	  Containerd__Services__Snapshots__V1__CommitSnapshotRequest, Google__Protobuf__Empty,     \
	  google__protobuf__empty__descriptor)                                                     \
	X(snapshots_remove, "/containerd.services.snapshots.v1.Snapshots/Remove",                  \
	  Containerd__Services__Snapshots__V1__RemoveSnapshotRequest, Google__Protobuf__Empty,     \
	  google__protobuf__empty__descriptor)                                                     \
	X(snapshots_stat, "/containerd.services.snapshots.v1.Snapshots/Stat",                      \
	  Containerd__Services__Snapshots__V1__StatSnapshotRequest,                                \
	  Containerd__Services__Snapshots__V1__StatSnapshotResponse,                               \
	  containerd__services__snapshots__v1__stat_snapshot_response__descriptor)                 \
	X(snapshots_update, "/containerd.services.snapshots.v1.Snapshots/Update",                  \
	  Containerd__Services__Snapshots__V1__UpdateSnapshotRequest,                              \
	  Containerd__Services__Snapshots__V1__UpdateSnapshotResponse,                             \
	  containerd__services__snapshots__v1__update_snapshot_response__descriptor)               \
	X(snapshots_usage, "/containerd.services.snapshots.v1.Snapshots/Usage",                    \
	  Containerd__Services__Snapshots__V1__UsageRequest,                                       \
	  Containerd__Services__Snapshots__V1__UsageResponse,                                      \
	  containerd__services__snapshots__v1__usage_response__descriptor)                         \
	X(snapshots_cleanup, "/containerd.services.snapshots.v1.Snapshots/Cleanup",                \
	  Containerd__Services__Snapshots__V1__CleanupRequest, Google__Protobuf__Empty,            \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_create, "/containerd.services.tasks.v1.Tasks/Create",                              \
	  Containerd__Services__Tasks__V1__CreateTaskRequest,                                      \
	  Containerd__Services__Tasks__V1__CreateTaskResponse,                                     \
	  containerd__services__tasks__v1__create_task_response__descriptor)                       \
	X(tasks_start, "/containerd.services.tasks.v1.Tasks/Start",                                \
	  Containerd__Services__Tasks__V1__StartRequest,                                           \
	  Containerd__Services__Tasks__V1__StartResponse,                                          \
	  containerd__services__tasks__v1__start_response__descriptor)                             \
	X(tasks_delete, "/containerd.services.tasks.v1.Tasks/Delete",                              \
	  Containerd__Services__Tasks__V1__DeleteTaskRequest,                                      \
	  Containerd__Services__Tasks__V1__DeleteResponse,                                         \
	  containerd__services__tasks__v1__delete_response__descriptor)                            \
	X(tasks_delete_process, "/containerd.services.tasks.v1.Tasks/DeleteProcess",               \
	  Containerd__Services__Tasks__V1__DeleteProcessRequest,                                   \
	  Containerd__Services__Tasks__V1__DeleteResponse,                                         \
	  containerd__services__tasks__v1__delete_response__descriptor)                            \
	X(tasks_get, "/containerd.services.tasks.v1.Tasks/Get",                                    \
	  Containerd__Services__Tasks__V1__GetRequest,                                             \
	  Containerd__Services__Tasks__V1__GetResponse,                                            \
	  containerd__services__tasks__v1__get_response__descriptor)                               \
	X(tasks_list, "/containerd.services.tasks.v1.Tasks/List",                                  \
	  Containerd__Services__Tasks__V1__ListTasksRequest,                                       \
	  Containerd__Services__Tasks__V1__ListTasksResponse,                                      \
	  containerd__services__tasks__v1__list_tasks_response__descriptor)                        \
	X(tasks_kill, "/containerd.services.tasks.v1.Tasks/Kill",                                  \
	  Containerd__Services__Tasks__V1__KillRequest, Google__Protobuf__Empty,                   \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_exec, "/containerd.services.tasks.v1.Tasks/Exec",                                  \
	  Containerd__Services__Tasks__V1__ExecProcessRequest, Google__Protobuf__Empty,            \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_resize_pty, "/containerd.services.tasks.v1.Tasks/ResizePty",                       \
	  Containerd__Services__Tasks__V1__ResizePtyRequest, Google__Protobuf__Empty,              \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_close_io, "/containerd.services.tasks.v1.Tasks/CloseIO",                           \
	  Containerd__Services__Tasks__V1__CloseIORequest, Google__Protobuf__Empty,                \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_pause, "/containerd.services.tasks.v1.Tasks/Pause",                                \
	  Containerd__Services__Tasks__V1__PauseTaskRequest, Google__Protobuf__Empty,              \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_resume, "/containerd.services.tasks.v1.Tasks/Resume",                              \
	  Containerd__Services__Tasks__V1__ResumeTaskRequest, Google__Protobuf__Empty,             \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_list_pids, "/containerd.services.tasks.v1.Tasks/ListPids",                         \
	  Containerd__Services__Tasks__V1__ListPidsRequest,                                        \
	  Containerd__Services__Tasks__V1__ListPidsResponse,                                       \
	  containerd__services__tasks__v1__list_pids_response__descriptor)                         \
	X(tasks_checkpoint, "/containerd.services.tasks.v1.Tasks/Checkpoint",                      \
	  Containerd__Services__Tasks__V1__CheckpointTaskRequest,                                  \
	  Containerd__Services__Tasks__V1__CheckpointTaskResponse,                                 \
	  containerd__services__tasks__v1__checkpoint_task_response__descriptor)                   \
	X(tasks_update, "/containerd.services.tasks.v1.Tasks/Update",                              \
	  Containerd__Services__Tasks__V1__UpdateTaskRequest, Google__Protobuf__Empty,             \
	  google__protobuf__empty__descriptor)                                                     \
	X(tasks_metrics, "/containerd.services.tasks.v1.Tasks/Metrics",                            \
	  Containerd__Services__Tasks__V1__MetricsRequest,                                         \
	  Containerd__Services__Tasks__V1__MetricsResponse,                                        \
	  containerd__services__tasks__v1__metrics_response__descriptor)                           \
	X(tasks_wait, "/containerd.services.tasks.v1.Tasks/Wait",                                  \
	  Containerd__Services__Tasks__V1__WaitRequest,                                            \
	  Containerd__Services__Tasks__V1__WaitResponse,                                           \
	  containerd__services__tasks__v1__wait_response__descriptor)                              \
	X(version_version, "/containerd.services.version.v1.Version/Version",                      \
	  Google__Protobuf__Empty, Containerd__Services__Version__V1__VersionResponse,             \
	  containerd__services__version__v1__version_response__descriptor)

/* X(name, path, request type, response type, response descriptor) */
#define CTRBOX_CLIENT_STREAM_CALLS(X)                                                              \
	X(containers_list_stream, "/containerd.services.containers.v1.Containers/ListStream",      \
	  Containerd__Services__Containers__V1__ListContainersRequest,                             \
	  Containerd__Services__Containers__V1__ListContainerMessage,                              \
	  containerd__services__containers__v1__list_container_message__descriptor)                \
	X(content_list, "/containerd.services.content.v1.Content/List",                            \
	  Containerd__Services__Content__V1__ListContentRequest,                                   \
	  Containerd__Services__Content__V1__ListContentResponse,                                  \
	  containerd__services__content__v1__list_content_response__descriptor)                    \
	X(content_read, "/containerd.services.content.v1.Content/Read",                            \
	  Containerd__Services__Content__V1__ReadContentRequest,                                   \
	  Containerd__Services__Content__V1__ReadContentResponse,                                  \
	  containerd__services__content__v1__read_content_response__descriptor)                    \
	X(events_subscribe, "/containerd.services.events.v1.Events/Subscribe",                     \
	  Containerd__Services__Events__V1__SubscribeRequest,                                      \
	  Containerd__Services__Events__V1__Envelope,                                              \
	  containerd__services__events__v1__envelope__descriptor)                                  \
	X(snapshots_list, "/containerd.services.snapshots.v1.Snapshots/List",                      \
	  Containerd__Services__Snapshots__V1__ListSnapshotsRequest,                               \
	  Containerd__Services__Snapshots__V1__ListSnapshotsResponse,                              \
	  containerd__services__snapshots__v1__list_snapshots_response__descriptor)

#define CTRBOX_CLIENT_UNARY_CALL_(name, path, Req, Resp, desc)                                     \
	static inline int ctrbox_client_rpc_##name(struct ctrbox_client *c, const Req *req,        \
						   Resp **out, char **err)                         \
	{                                                                                          \
		return ctrbox_client_call(c, path, req ? &req->base : NULL, out ? &desc : NULL,    \
					  (ProtobufCMessage **)out, err);                          \
	}
#define CTRBOX_CLIENT_STREAM_CALL_(name, path, Req, Resp, desc)                                    \
	static inline int ctrbox_client_rpc_##name(struct ctrbox_client *c, const Req *req,        \
						   ctrbox_client_msg_fn on_msg, void *data,        \
						   char **err)                                     \
	{                                                                                          \
		return ctrbox_client_call_messages(c, path, req ? &req->base : NULL, &desc,        \
						   on_msg, data, err);                             \
	}
CTRBOX_CLIENT_UNARY_CALLS(CTRBOX_CLIENT_UNARY_CALL_)
CTRBOX_CLIENT_STREAM_CALLS(CTRBOX_CLIENT_STREAM_CALL_)

#ifdef __cplusplus
}
#endif

#endif
