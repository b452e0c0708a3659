/* TTRPC server and client over unix sockets, driven by the epoll loop. */
#ifndef CTRBOX_TTRPC_H
#define CTRBOX_TTRPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "loop.h"
#include "ttrpc_codec.h"

/* ---- server ---- */

struct ttrpc_server;
struct ttrpc_call;

/* req is the decoded input message, owned by the call. The handler answers now or later with
 * exactly one ttrpc_call_reply()/ttrpc_call_error(), which frees the call. */
typedef void (*ttrpc_handler)(struct ttrpc_call *call, const ProtobufCMessage *req, void *data);

struct ttrpc_method_entry {
	const char *method;
	ttrpc_handler fn;
};

int ttrpc_server_new(struct loop *l, struct ttrpc_server **out);
/* Frees the server: closes the listener and every connection; pending calls are abandoned. */
void ttrpc_server_free(struct ttrpc_server *s);
/* Registers the methods listed in `entries` (NULL-terminated) of a protoc-c service; other
 * methods of the service answer Unimplemented. */
int ttrpc_server_register(struct ttrpc_server *s, const ProtobufCServiceDescriptor *svc,
			  const struct ttrpc_method_entry *entries, void *data);
/* Starts accepting on a listening socket; the server owns and closes the fd. */
int ttrpc_server_listen_fd(struct ttrpc_server *s, int fd);
/* Stops accepting (closes the listener); existing connections go on. */
void ttrpc_server_stop_listening(struct ttrpc_server *s);
unsigned ttrpc_server_connections(const struct ttrpc_server *s);

/* resp NULL means google.protobuf.Empty. Returns 0, or -errno if the reply could not be queued
 * (the call is freed either way; a reply for a gone peer is silently dropped). */
int ttrpc_call_reply(struct ttrpc_call *call, const ProtobufCMessage *resp);
int ttrpc_call_error(struct ttrpc_call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Absolute monotonic deadline in ms, 0 if the caller sent none. */
uint64_t ttrpc_call_deadline(const struct ttrpc_call *call);
const char *ttrpc_call_metadata(const struct ttrpc_call *call, const char *key);
const char *ttrpc_call_method(const struct ttrpc_call *call);
/* Called at most once if the call ends before a reply (peer gone or deadline passed); the call
 * is freed right after, so the handler must forget it. */
void ttrpc_call_on_cancel(struct ttrpc_call *call, void (*cb)(struct ttrpc_call *, void *),
			  void *data);

/* ---- client ---- */

struct ttrpc_client;

/* code is TTRPC_OK with payload, or an error code with message (transport errors included:
 * Unavailable "ttrpc: closed", DeadlineExceeded). */
typedef void (*ttrpc_reply_cb)(void *data, int code, const char *message, const uint8_t *payload,
			       size_t plen);

/* addr: "unix:///path", "/path", or "@abstract". Connecting is synchronous (unix sockets). */
int ttrpc_client_connect(struct loop *l, const char *addr, struct ttrpc_client **out);
/* Fails pending calls with "ttrpc: closed" and frees the client. */
void ttrpc_client_free(struct ttrpc_client *c);
/* Called once when the connection breaks (not on ttrpc_client_free). */
void ttrpc_client_on_close(struct ttrpc_client *c, void (*cb)(struct ttrpc_client *, void *),
			   void *data);
int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const ProtobufCMessage *req, uint64_t timeout_ms, const struct ttrpc_kv *md,
		      size_t nmd, ttrpc_reply_cb cb, void *data);
/* Same, with raw request bytes (tests and tools). */
int ttrpc_client_call_raw(struct ttrpc_client *c, const char *service, const char *method,
			  const uint8_t *payload, size_t plen, uint64_t timeout_ms,
			  const struct ttrpc_kv *md, size_t nmd, ttrpc_reply_cb cb, void *data);

/* Blocking call on a client whose loop is private to the caller. On success *resp is the decoded
 * output (free with protobuf_c_message_free_unpacked). Returns the TTRPC code (0 = OK), or a
 * negative errno; *errmsg (malloc'd, may be NULL) holds the status message. */
int ttrpc_client_call_sync(struct ttrpc_client *c, struct loop *l, const char *service,
			   const char *method, const ProtobufCMessage *req,
			   const ProtobufCMessageDescriptor *out_desc, uint64_t timeout_ms,
			   ProtobufCMessage **resp, char **errmsg);

/* Opens a unix stream socket connected to addr (see ttrpc_client_connect). */
int unix_connect(const char *addr, int cloexec);

#endif
