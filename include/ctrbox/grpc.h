/* gRPC over HTTP/2 cleartext (prior knowledge) on unix sockets: server and client, built on
 * nghttp2 and driven by the epoll loop. Unary and server-streaming calls on the server; any call
 * shape on the client (a stream handle can send several messages). Messages use gRPC's 5-byte
 * framing (no compression); status travels in grpc-status/grpc-message trailers. */
#ifndef CTRBOX_GRPC_H
#define CTRBOX_GRPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include <ctrbox/loop.h>
#include <ctrbox/rpc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* containerd's default limit, both ways (16 MiB). */
#define CTRBOX_GRPC_DEFAULT_MAX_MESSAGE (16u << 20)

/* ---- server ---- */

struct ctrbox_grpc_server;
struct ctrbox_grpc_call;

/* req is the decoded request, owned by the call. The handler finishes the call now or later
 * with ctrbox_grpc_call_reply() or ctrbox_grpc_call_finish(); before that, ctrbox_grpc_call_send()
 * may stream any number of messages (server streaming). */
typedef void (*ctrbox_grpc_handler)(struct ctrbox_grpc_call *call, const ProtobufCMessage *req,
				    void *data);

struct ctrbox_grpc_method_entry {
	const char *method;
	ctrbox_grpc_handler fn;
};

/* A server with no listener yet, on loop l: *out, or -ENOMEM. */
int ctrbox_grpc_server_new(struct ctrbox_loop *l, struct ctrbox_grpc_server **out);
/* Closes the listener and every connection; calls still held by handlers become detached
 * (their replies are dropped) after their cancel callbacks run. */
void ctrbox_grpc_server_free(struct ctrbox_grpc_server *s);
/* Methods of a protoc-c service listed in entries (NULL-terminated); the service's other methods
 * answer Unimplemented. */
int ctrbox_grpc_server_register(struct ctrbox_grpc_server *s, const ProtobufCServiceDescriptor *svc,
				const struct ctrbox_grpc_method_entry *entries, void *data);
void ctrbox_grpc_server_set_max_message(struct ctrbox_grpc_server *s, size_t recv_max,
					size_t send_max);
/* Starts accepting on a listening socket; the server owns and closes it. */
int ctrbox_grpc_server_listen_fd(struct ctrbox_grpc_server *s, int fd);
/* Serves one already-connected stream socket as if accept had returned it (tests, fuzzing,
 * socket activation): made non-blocking; on success the server owns and closes fd. 0 or -errno. */
int ctrbox_grpc_server_adopt_fd(struct ctrbox_grpc_server *s, int fd);
unsigned ctrbox_grpc_server_connections(const struct ctrbox_grpc_server *s);

/* One framed message on the response stream (server streaming). 0 or -errno. */
int ctrbox_grpc_call_send(struct ctrbox_grpc_call *call, const ProtobufCMessage *msg);
/* Sends resp (NULL = google.protobuf.Empty) and status OK; frees the call. */
int ctrbox_grpc_call_reply(struct ctrbox_grpc_call *call, const ProtobufCMessage *resp);
/* Ends the call with a status (CTRBOX_OK after ctrbox_grpc_call_send for streams); frees the call.
 */
int ctrbox_grpc_call_finish(struct ctrbox_grpc_call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Absolute monotonic deadline in ms from grpc-timeout, 0 if none. */
uint64_t ctrbox_grpc_call_deadline(const struct ctrbox_grpc_call *call);
/* Request metadata (lower-case key), NULL if absent; the last value wins. */
const char *ctrbox_grpc_call_metadata(const struct ctrbox_grpc_call *call, const char *key);
const char *ctrbox_grpc_call_method(const struct ctrbox_grpc_call *call);
/* Called at most once if the call ends before the handler finished it (the peer reset the
 * stream, the connection closed or the deadline passed); the call is freed right after. */
void ctrbox_grpc_call_on_cancel(struct ctrbox_grpc_call *call,
				void (*cb)(struct ctrbox_grpc_call *, void *), void *data);

/* ---- client ---- */

struct ctrbox_grpc_client;
struct ctrbox_grpc_stream;

/* One response message (framing removed). Return non-zero to cancel the call. */
typedef int (*ctrbox_grpc_msg_cb)(void *data, const uint8_t *msg, size_t len);
/* The call's end: status and message (transport failures included: Unavailable, Cancelled,
 * DeadlineExceeded, Internal). Called exactly once unless the stream was cancelled by the
 * caller or the client freed. */
typedef void (*ctrbox_grpc_done_cb)(void *data, int code, const char *message);

/* addr: "unix:///path", "/path" or "@abstract"; connecting is synchronous. */
int ctrbox_grpc_client_connect(struct ctrbox_loop *l, const char *addr,
			       struct ctrbox_grpc_client **out);
/* Ends pending calls with Cancelled "grpc: client closing" and frees the client. */
void ctrbox_grpc_client_free(struct ctrbox_grpc_client *c);
void ctrbox_grpc_client_set_max_message(struct ctrbox_grpc_client *c, size_t recv_max,
					size_t send_max);

/* Opens a call to path ("/pkg.Service/Method"); timeout_ms 0 = none (sent as grpc-timeout).
 * *out (may be NULL) is valid until done is called or the stream is cancelled. */
int ctrbox_grpc_client_start(struct ctrbox_grpc_client *c, const char *path,
			     const struct ctrbox_kv *md, size_t nmd, uint64_t timeout_ms,
			     ctrbox_grpc_msg_cb on_msg, ctrbox_grpc_done_cb on_done, void *data,
			     struct ctrbox_grpc_stream **out);
/* Queues one message (raw protobuf bytes; framing added). */
int ctrbox_grpc_stream_send(struct ctrbox_grpc_stream *st, const uint8_t *msg, size_t len);
int ctrbox_grpc_stream_send_msg(struct ctrbox_grpc_stream *st, const ProtobufCMessage *msg);
/* Bytes that already carry gRPC framing (tests and tools: compressed flags, lying lengths). */
int ctrbox_grpc_stream_send_framed(struct ctrbox_grpc_stream *st, const uint8_t *data, size_t len);
/* Half-closes: no more messages from the client. */
int ctrbox_grpc_stream_close_send(struct ctrbox_grpc_stream *st);
/* Resets the stream (CANCEL); done is not called. */
void ctrbox_grpc_stream_cancel(struct ctrbox_grpc_stream *st);

/* Unary call with raw bytes: start + send + close_send. */
int ctrbox_grpc_client_call_raw(struct ctrbox_grpc_client *c, const char *path, const uint8_t *req,
				size_t len, const struct ctrbox_kv *md, size_t nmd,
				uint64_t timeout_ms, ctrbox_grpc_msg_cb on_msg,
				ctrbox_grpc_done_cb on_done, void *data);

/* Blocking unary or server-streaming call on a client whose loop is private to the caller.
 * Unary: pass out_desc and resp; *resp gets the (last) response. Streaming: pass on_msg, which
 * sees every raw message. Returns the gRPC code (0 OK) or -errno; *errmsg (malloc'd, may be
 * NULL) gets the status message. */
int ctrbox_grpc_client_call_sync(struct ctrbox_grpc_client *c, struct ctrbox_loop *l,
				 const char *path, const ProtobufCMessage *req,
				 const struct ctrbox_kv *md, size_t nmd, uint64_t timeout_ms,
				 const ProtobufCMessageDescriptor *out_desc,
				 ProtobufCMessage **resp, ctrbox_grpc_msg_cb on_msg, void *msg_data,
				 char **errmsg);

/* ---- helpers (I/O-free, exposed for tests) ---- */

/* Parses a grpc-timeout value ("100m", "5S", up to 8 digits + H M S m u n) into ms, rounding
 * up; -1 if malformed. */
int64_t ctrbox_grpc_timeout_parse(const char *v);
/* Percent-encodes a grpc-message (bytes outside 0x20..0x7E and '%'); malloc'd. */
char *ctrbox_grpc_message_encode(const char *msg);
/* Decodes %XX escapes (invalid escapes are kept as they are); malloc'd. */
char *ctrbox_grpc_message_decode(const char *msg, size_t len);

#ifdef __cplusplus
}
#endif

#endif
