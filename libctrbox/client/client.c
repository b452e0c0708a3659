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

int ctrbox_client_version(struct ctrbox_client *c,
			  Containerd__Services__Version__V1__VersionResponse **out, char **err)
{
	return ctrbox_client_call(c, "/containerd.services.version.v1.Version/Version", NULL,
				  &containerd__services__version__v1__version_response__descriptor,
				  (ProtobufCMessage **)out, err);
}

int ctrbox_client_containers_list(
    struct ctrbox_client *c, char **filters, size_t n,
    Containerd__Services__Containers__V1__ListContainersResponse **out, char **err)
{
	Containerd__Services__Containers__V1__ListContainersRequest req =
	    CONTAINERD__SERVICES__CONTAINERS__V1__LIST_CONTAINERS_REQUEST__INIT;
	req.n_filters = n;
	req.filters = filters;
	return ctrbox_client_call(
	    c, "/containerd.services.containers.v1.Containers/List", &req.base,
	    &containerd__services__containers__v1__list_containers_response__descriptor,
	    (ProtobufCMessage **)out, err);
}

int ctrbox_client_tasks_list(struct ctrbox_client *c, const char *filter,
			     Containerd__Services__Tasks__V1__ListTasksResponse **out, char **err)
{
	Containerd__Services__Tasks__V1__ListTasksRequest req =
	    CONTAINERD__SERVICES__TASKS__V1__LIST_TASKS_REQUEST__INIT;
	if (filter)
		req.filter = (char *)filter;
	return ctrbox_client_call(c, "/containerd.services.tasks.v1.Tasks/List", &req.base,
				  &containerd__services__tasks__v1__list_tasks_response__descriptor,
				  (ProtobufCMessage **)out, err);
}

const char *ctrbox_client_status_name(int status)
{
	static const char *const names[] = {"UNKNOWN", "CREATED", "RUNNING",
					    "STOPPED", "PAUSED",  "PAUSING"};
	return status >= 0 && status <= 5 ? names[status] : "UNKNOWN";
}
