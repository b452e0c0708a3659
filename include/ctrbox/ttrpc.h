/* ctrbox/ttrpc.h: TTRPC, containerd's RPC protocol between containerd and shims, over unix
 * sockets and driven by a ctrbox_loop: a server (what a shim serves) and a client (what talks to
 * a shim, or publishes events to containerd).
 *
 * Messages are protobuf-c messages: a service is registered with its generated
 * ProtobufCServiceDescriptor, requests are decoded and replies encoded by the library. Frames
 * larger than 4 MiB are refused, as by containerd's ttrpc. Functions returning int return 0 or
 * a negative errno unless they say otherwise. */
#ifndef CTRBOX_TTRPC_H
#define CTRBOX_TTRPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include <ctrbox/loop.h>
#include <ctrbox/rpc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- server ---- */

struct ctrbox_ttrpc_server;
struct ctrbox_ttrpc_call;

/* req is the decoded request (the method's input type), owned by the call: valid until the
 * call is answered. The handler answers now, or later from any loop callback (an asynchronous
 * reply), with exactly one ctrbox_ttrpc_call_reply() or ctrbox_ttrpc_call_error(); either one
 * frees the call. */
typedef void (*ctrbox_ttrpc_handler)(struct ctrbox_ttrpc_call *call, const ProtobufCMessage *req,
				     void *data);

struct ctrbox_ttrpc_method {
	const char *method; /* the method's name in the .proto: "Create", "Kill", ... */
	ctrbox_ttrpc_handler fn;
};

/* A server with no listener yet, on loop l: *out, or -ENOMEM. */
int ctrbox_ttrpc_server_new(struct ctrbox_loop *l, struct ctrbox_ttrpc_server **out);
/* Closes the listener and every connection; calls not answered yet are abandoned (their
 * on_cancel callbacks do not run). */
void ctrbox_ttrpc_server_free(struct ctrbox_ttrpc_server *s);
/* Serves the methods listed in entries (terminated by {NULL, NULL}) of the service svc, whose
 * full name (svc->name, e.g. "containerd.task.v2.Task") is what clients call. Methods of svc not
 * listed answer Unimplemented, services never registered too. data goes to every handler.
 * A name registered already is -EEXIST. */
int ctrbox_ttrpc_server_register(struct ctrbox_ttrpc_server *s,
				 const ProtobufCServiceDescriptor *svc,
				 const struct ctrbox_ttrpc_method *entries, void *data);
/* Starts accepting on fd, a listening unix stream socket; the server owns and closes it. */
int ctrbox_ttrpc_server_listen_fd(struct ctrbox_ttrpc_server *s, int fd);
/* Stops accepting (closes the listener); connections already made go on. */
void ctrbox_ttrpc_server_stop_listening(struct ctrbox_ttrpc_server *s);
unsigned ctrbox_ttrpc_server_connections(const struct ctrbox_ttrpc_server *s);

/* Answers the call with resp, a message of the method's output type (NULL for
 * google.protobuf.Empty) and frees the call. Returns 0, or a negative errno if the reply could
 * not be queued; the call is freed either way, and a reply to a client that left is dropped. */
int ctrbox_ttrpc_call_reply(struct ctrbox_ttrpc_call *call, const ProtobufCMessage *resp);
/* Answers with a status code (not CTRBOX_OK) and a printf-style message; frees the call.
 * containerd shows the message to users as "<message>: <code class>". */
int ctrbox_ttrpc_call_error(struct ctrbox_ttrpc_call *call, int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The caller's deadline (absolute, ctrbox_loop_now_ms() clock), or 0 if it sent none. */
uint64_t ctrbox_ttrpc_call_deadline(const struct ctrbox_ttrpc_call *call);
/* The first value of a request metadata key, or NULL. */
const char *ctrbox_ttrpc_call_metadata(const struct ctrbox_ttrpc_call *call, const char *key);
/* The method's name, e.g. "Create". */
const char *ctrbox_ttrpc_call_method(const struct ctrbox_ttrpc_call *call);
/* cb runs at most once, if the call ends before it was answered: the client closed the
 * connection or the deadline passed (the client was answered DeadlineExceeded). The call is
 * freed right after cb returns, so forget it there. */
void ctrbox_ttrpc_call_on_cancel(struct ctrbox_ttrpc_call *call,
				 void (*cb)(struct ctrbox_ttrpc_call *call, void *data),
				 void *data);

/* ---- client ---- */

struct ctrbox_ttrpc_client;

/* A call's outcome: code CTRBOX_OK with the encoded reply in payload/plen (decode it with the
 * method's output descriptor), or an error code with its message. Transport failures come here
 * too: CTRBOX_UNAVAILABLE "ttrpc: closed", CTRBOX_DEADLINE_EXCEEDED. */
typedef void (*ctrbox_ttrpc_reply_cb)(void *data, int code, const char *message,
				      const uint8_t *payload, size_t plen);

/* Connects to addr: "unix:///path", "/path", or "@abstract-name" (synchronously: unix sockets
 * connect at once). */
int ctrbox_ttrpc_client_connect(struct ctrbox_loop *l, const char *addr,
				struct ctrbox_ttrpc_client **out);
/* Fails the pending calls (CTRBOX_UNAVAILABLE "ttrpc: closed") and frees the client. */
void ctrbox_ttrpc_client_free(struct ctrbox_ttrpc_client *c);
/* cb runs once when the connection breaks (not on ctrbox_ttrpc_client_free). */
void ctrbox_ttrpc_client_on_close(struct ctrbox_ttrpc_client *c,
				  void (*cb)(struct ctrbox_ttrpc_client *c, void *data),
				  void *data);
/* Sends service/method (e.g. "containerd.task.v2.Task", "Connect") with req and the metadata
 * md[0..nmd); cb runs from the loop with the outcome. timeout_ms 0 means no deadline; one is
 * sent to the server and enforced here. */
int ctrbox_ttrpc_client_call(struct ctrbox_ttrpc_client *c, const char *service, const char *method,
			     const ProtobufCMessage *req, uint64_t timeout_ms,
			     const struct ctrbox_kv *md, size_t nmd, ctrbox_ttrpc_reply_cb cb,
			     void *data);
/* The same with an already encoded request (payload may hold anything: tests, proxies). */
int ctrbox_ttrpc_client_call_raw(struct ctrbox_ttrpc_client *c, const char *service,
				 const char *method, const uint8_t *payload, size_t plen,
				 uint64_t timeout_ms, const struct ctrbox_kv *md, size_t nmd,
				 ctrbox_ttrpc_reply_cb cb, void *data);

/* A blocking call, for a client whose loop l nobody else is running: runs l until the reply.
 * On CTRBOX_OK, *resp is the reply decoded with out_desc (free it with
 * protobuf_c_message_free_unpacked(*resp, NULL)). Returns the status code (CTRBOX_OK = 0), or a
 * negative errno if the call could not be sent; *errmsg (malloc'd, may be NULL; free it) holds
 * the status message. */
int ctrbox_ttrpc_client_call_sync(struct ctrbox_ttrpc_client *c, struct ctrbox_loop *l,
				  const char *service, const char *method,
				  const ProtobufCMessage *req,
				  const ProtobufCMessageDescriptor *out_desc, uint64_t timeout_ms,
				  ProtobufCMessage **resp, char **errmsg);

#ifdef __cplusplus
}
#endif

#endif
