/* ctr events: Events.Subscribe, one line per envelope: timestamp, namespace, topic and the
 * payload as JSON (decoded by its type URL). Runs until the stream ends or a signal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/ctr.h"
#include "ctr/pbjson.h"
#include "events/container.pb-c.h"
#include "events/content.pb-c.h"
#include "events/image.pb-c.h"
#include "events/namespace.pb-c.h"
#include "events/snapshot.pb-c.h"
#include "events/task.pb-c.h"
#include "events/v1/events.pb-c.h"

static const ProtobufCMessageDescriptor *const event_types[] = {
    &containerd__events__container_create__descriptor,
    &containerd__events__container_update__descriptor,
    &containerd__events__container_delete__descriptor,
    &containerd__events__content_delete__descriptor,
    &containerd__services__images__v1__image_create__descriptor,
    &containerd__services__images__v1__image_update__descriptor,
    &containerd__services__images__v1__image_delete__descriptor,
    &containerd__events__namespace_create__descriptor,
    &containerd__events__namespace_update__descriptor,
    &containerd__events__namespace_delete__descriptor,
    &containerd__events__snapshot_prepare__descriptor,
    &containerd__events__snapshot_commit__descriptor,
    &containerd__events__snapshot_remove__descriptor,
    &containerd__events__task_create__descriptor,
    &containerd__events__task_start__descriptor,
    &containerd__events__task_delete__descriptor,
    &containerd__events__task_io__descriptor,
    &containerd__events__task_exit__descriptor,
    &containerd__events__task_oom__descriptor,
    &containerd__events__task_exec_added__descriptor,
    &containerd__events__task_exec_started__descriptor,
    &containerd__events__task_paused__descriptor,
    &containerd__events__task_resumed__descriptor,
    &containerd__events__task_checkpointed__descriptor,
};

static const ProtobufCMessageDescriptor *event_type(const char *url)
{
	const char *slash = strrchr(url, '/');
	const char *name = slash ? slash + 1 : url;
	for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (!strcmp(event_types[i]->name, name))
			return event_types[i];
	return NULL;
}

static int on_envelope(void *data, const uint8_t *msg, size_t len)
{
	(void)data;
	Containerd__Services__Events__V1__Envelope *e =
	    containerd__services__events__v1__envelope__unpack(NULL, len, msg);
	if (!e)
		return 0;
	struct jbuf b = {0};
	if (e->event) {
		const char *url = e->event->type_url ? e->event->type_url : "";
		const ProtobufCMessageDescriptor *d = event_type(url);
		ProtobufCMessage *m = d ? protobuf_c_message_unpack(d, NULL, e->event->value.len,
								    e->event->value.data)
					: NULL;
		if (!m) {
			char *err = NULL;
			if (!d && asprintf(&err, "type with url %s: not found", url) < 0)
				err = NULL;
			ctr_log("warning", err ? err : "unexpected EOF",
				"cannot unmarshal an event from Any");
			free(err);
			containerd__services__events__v1__envelope__free_unpacked(e, NULL);
			return 0;
		}
		pbjson_message(&b, m, NULL, 0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	char *ts = e->timestamp ? go_time_string(e->timestamp->seconds, e->timestamp->nanos)
				: go_time_string(-62135596800LL, 0);
	printf("%s %s %s %s\n", ts ? ts : "", e->namespace_ ? e->namespace_ : "",
	       e->topic ? e->topic : "", jb_str(&b));
	fflush(stdout);
	free(ts);
	jb_free(&b);
	containerd__services__events__v1__envelope__free_unpacked(e, NULL);
	return 0;
}

int ctr_cmd_events(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	char *err = NULL;
	int rc = 0;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a)) {
		ctr_args_free(&a);
		return 1;
	}
	if (!ctr_client(c)) {
		ctr_args_free(&a);
		return 1;
	}
	Containerd__Services__Events__V1__SubscribeRequest req =
	    CONTAINERD__SERVICES__EVENTS__V1__SUBSCRIBE_REQUEST__INIT;
	req.n_filters = (size_t)a.argc;
	req.filters = a.argv;
	int code = ctr_call_stream(c, "/containerd.services.events.v1.Events/Subscribe", &req.base,
				   on_envelope, NULL, &err);
	if (code) {
		/* the subscription's error reaches ctr as the raw gRPC status */
		char buf[32];
		if (!c->cli)
			rc = 1; /* ctr_client printed it */
		else if (code == CTRBOX_DEADLINE_EXCEEDED)
			rc = ctr_fail("context deadline exceeded");
		else
			rc = ctr_fail("rpc error: code = %s desc = %s",
				      code > 0 && code <= 16 ? ctr_go_code(code, buf) : "Unknown",
				      err ? err : "");
	}
	free(err);
	ctr_args_free(&a);
	return rc;
}
