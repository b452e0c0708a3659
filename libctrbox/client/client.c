/* The containerd client crate: a connection, its call metadata and timeout, and the calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/client.h>

#include "google/protobuf/empty.pb-c.h"

struct ctrbox_client {
	struct ctrbox_loop *loop;
	struct ctrbox_grpc_client *grpc;
	char *ns;
	char *lease;
	uint64_t timeout_ms;
};

int ctrbox_client_connect(const char *address, struct ctrbox_client **out)
{
	struct ctrbox_client *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c || !(c->ns = strdup("default"))) {
		free(c);
		return -ENOMEM;
	}
	rc = ctrbox_loop_new(&c->loop);
	if (!rc)
		rc = ctrbox_grpc_client_connect(c->loop, address, &c->grpc);
	if (rc) {
		ctrbox_client_free(c);
		return rc < 0 ? rc : -rc;
	}
	*out = c;
	return 0;
}

void ctrbox_client_free(struct ctrbox_client *c)
{
	if (!c)
		return;
	if (c->grpc)
		ctrbox_grpc_client_free(c->grpc);
	if (c->loop)
		ctrbox_loop_free(c->loop);
	free(c->ns);
	free(c->lease);
	free(c);
}

static int set_str(char **dst, const char *v)
{
	char *n = NULL;
	if (v && *v && !(n = strdup(v)))
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

int ctrbox_client_set_namespace(struct ctrbox_client *c, const char *ns)
{
	return set_str(&c->ns, ns);
}

int ctrbox_client_set_lease(struct ctrbox_client *c, const char *lease)
{
	return set_str(&c->lease, lease);
}

void ctrbox_client_set_timeout(struct ctrbox_client *c, uint64_t timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

const char *ctrbox_client_namespace(const struct ctrbox_client *c)
{
	return c->ns;
}

size_t ctrbox_client_metadata(const struct ctrbox_client *c, struct ctrbox_kv md[2])
{
	size_t n = 0;
	if (c->ns)
		md[n++] = (struct ctrbox_kv){"containerd-namespace", c->ns};
	if (c->lease)
		md[n++] = (struct ctrbox_kv){"containerd-lease", c->lease};
	return n;
}

struct ctrbox_loop *ctrbox_client_loop(struct ctrbox_client *c)
{
	return c->loop;
}

struct ctrbox_grpc_client *ctrbox_client_grpc(struct ctrbox_client *c)
{
	return c->grpc;
}

/* One call: unary (resp_desc) or streaming (on_msg); -errno of the transport -> Unavailable. */
static int call(struct ctrbox_client *c, const char *path, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
		ctrbox_grpc_msg_cb on_msg, void *data, char **err)
{
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	struct ctrbox_kv md[2];
	char *msg = NULL;
	int rc;

	if (err)
		*err = NULL;
	if (resp)
		*resp = NULL;
	rc = ctrbox_grpc_client_call_sync(c->grpc, c->loop, path, req ? req : &empty.base, md,
					  ctrbox_client_metadata(c, md), c->timeout_ms, resp_desc,
					  resp, on_msg, data, &msg);
	if (rc < 0) {
		free(msg);
		msg = strdup(strerror(-rc));
		rc = CTRBOX_UNAVAILABLE;
	}
	if (err)
		*err = msg;
	else
		free(msg);
	return rc;
}

int ctrbox_client_call(struct ctrbox_client *c, const char *path, const ProtobufCMessage *req,
		       const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
		       char **err)
{
	return call(c, path, req, resp_desc, resp_desc ? resp : NULL, NULL, NULL, err);
}

int ctrbox_client_call_stream(struct ctrbox_client *c, const char *path,
			      const ProtobufCMessage *req, ctrbox_grpc_msg_cb on_msg, void *data,
			      char **err)
{
	return call(c, path, req, NULL, NULL, on_msg, data, err);
}

struct decoded {
	const ProtobufCMessageDescriptor *desc;
	ctrbox_client_msg_fn on_msg;
	void *data;
	int bad; /* a response did not decode */
};

static int decode_one(void *data, const uint8_t *msg, size_t len)
{
	struct decoded *d = data;
	ProtobufCMessage *m = protobuf_c_message_unpack(d->desc, NULL, len, msg);
	int r;

	if (!m) {
		d->bad = 1;
		return 1;
	}
	r = d->on_msg(m, d->data);
	protobuf_c_message_free_unpacked(m, NULL);
	return r;
}

int ctrbox_client_call_messages(struct ctrbox_client *c, const char *path,
				const ProtobufCMessage *req,
				const ProtobufCMessageDescriptor *resp_desc,
				ctrbox_client_msg_fn on_msg, void *data, char **err)
{
	struct decoded d = {resp_desc, on_msg, data, 0};
	int rc = call(c, path, req, NULL, NULL, decode_one, &d, err);

	if (d.bad) {
		if (err) {
			free(*err);
			*err = strdup("grpc: failed to unmarshal the response message");
		}
		return CTRBOX_INTERNAL;
	}
	return rc;
}

const char *ctrbox_client_status_name(int status)
{
	static const char *const names[] = {"UNKNOWN", "CREATED", "RUNNING",
					    "STOPPED", "PAUSED",  "PAUSING"};
	return status >= 0 && status <= 5 ? names[status] : "UNKNOWN";
}
