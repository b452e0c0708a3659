/* Event publisher: an ordered queue of envelopes forwarded to containerd over TTRPC. */
#include "publisher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/ttrpc_events.pb-c.h"
#include "core/log_int.h"
#include <ctrbox/ttrpc.h>

#define QUEUE_MAX 4096	     /* far above what a shim produces between containerd restarts */
#define SEND_TIMEOUT_MS 5000 /* per attempt, as the Go shim */
#define MAX_ATTEMPTS 6

static const char EVENTS_SERVICE[] = "containerd.services.events.ttrpc.v1.Events";

struct item {
	char *topic;
	char *type_url;
	uint8_t *value;
	size_t vlen;
	struct timespec when; /* envelope timestamp: the publish time */
	int attempts;
	struct item *next;
};

struct publisher {
	struct ctrbox_loop *loop;
	char *address;
	char *ns;
	struct ctrbox_ttrpc_client *client;
	struct item *head, **tail;
	unsigned count;
	int in_flight;
	struct ctrbox_timer *retry;
	unsigned long sent, dropped;
};

static void kick(struct publisher *p);

int publisher_new(struct ctrbox_loop *l, const char *address, const char *ns,
		  struct publisher **out)
{
	struct publisher *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->loop = l;
	p->address = strdup(address);
	p->ns = strdup(ns);
	p->tail = &p->head;
	if (!p->address || !p->ns) {
		publisher_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

static void item_free(struct item *it)
{
	free(it->topic);
	free(it->type_url);
	free(it->value);
	free(it);
}

static void pop_head(struct publisher *p)
{
	struct item *it = p->head;

	p->head = it->next;
	if (!p->head)
		p->tail = &p->head;
	p->count--;
	item_free(it);
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	if (p->retry)
		ctrbox_loop_timer_cancel(p->loop, p->retry);
	ctrbox_ttrpc_client_free(
	    p->client); /* fails an in-flight send: its callback sees p->client NULL */
	while (p->head)
		pop_head(p);
	free(p->address);
	free(p->ns);
	free(p);
}

unsigned publisher_pending(const struct publisher *p)
{
	return p->count;
}

unsigned long publisher_sent(const struct publisher *p)
{
	return p->sent;
}

unsigned long publisher_dropped(const struct publisher *p)
{
	return p->dropped;
}

int publisher_publish(struct publisher *p, const char *topic, const ProtobufCMessage *event)
{
	struct item *it;

	if (p->count >= QUEUE_MAX) {
		p->dropped++;
		ctrbox_log_error("event queue full, dropping %s", topic);
		return -ENOSPC;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->topic = strdup(topic);
	it->type_url = strdup(event->descriptor->name);
	it->vlen = protobuf_c_message_get_packed_size(event);
	it->value = malloc(it->vlen ? it->vlen : 1);
	if (!it->topic || !it->type_url || !it->value) {
		item_free(it);
		return -ENOMEM;
	}
	protobuf_c_message_pack(event, it->value);
	clock_gettime(CLOCK_REALTIME, &it->when);
	*p->tail = it;
	p->tail = &it->next;
	p->count++;
	kick(p);
	return 0;
}

static void retry_cb(struct ctrbox_loop *l, void *data)
{
	struct publisher *p = data;
	(void)l;
	p->retry = NULL;
	kick(p);
}

/* The head failed: back off n seconds on the n-th failure, drop it after the last. */
static void head_failed(struct publisher *p, const char *why)
{
	struct item *it = p->head;

	it->attempts++;
	if (it->attempts >= MAX_ATTEMPTS) {
		ctrbox_log_error("evicting %s from queue because of retry count (last error: %s)",
				 it->topic, why);
		p->dropped++;
		pop_head(p);
		kick(p);
		return;
	}
	ctrbox_log_warn("publish %s failed (attempt %d): %s", it->topic, it->attempts, why);
	p->retry = ctrbox_loop_timer_in(p->loop, 1000u * it->attempts, retry_cb, p);
}

static void client_closed(struct ctrbox_ttrpc_client *c, void *data)
{
	struct publisher *p = data;
	(void)c;
	/* Freed later, outside the client's own callback; reconnect on the next send. */
	ctrbox_ttrpc_client_free(p->client);
	p->client = NULL;
}

static void sent_cb(void *data, int code, const char *message, const uint8_t *payload, size_t plen)
{
	struct publisher *p = data;
	(void)payload, (void)plen;

	p->in_flight = 0;
	if (!p->head)
		return; /* publisher_free is running */
	if (code == 0) {
		p->sent++;
		pop_head(p);
		kick(p);
		return;
	}
	if (code == 14 /* Unavailable: connection gone */ && p->client) {
		ctrbox_ttrpc_client_free(p->client);
		p->client = NULL;
	}
	head_failed(p, message ? message : "unknown error");
}

static int send_head(struct publisher *p)
{
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
	    CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
	    CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	struct ctrbox_kv md = {"containerd-namespace-ttrpc", p->ns};
	struct item *it = p->head;

	ts.seconds = it->when.tv_sec;
	ts.nanos = it->when.tv_nsec;
	any.type_url = it->type_url;
	any.value.data = it->value;
	any.value.len = it->vlen;
	env.timestamp = &ts;
	env.namespace_ = p->ns;
	env.topic = it->topic;
	env.event = &any;
	req.envelope = &env;
	return ctrbox_ttrpc_client_call(p->client, EVENTS_SERVICE, "Forward", &req.base,
					SEND_TIMEOUT_MS, &md, 1, sent_cb, p);
}

static void kick(struct publisher *p)
{
	int r;

	if (!p->head || p->in_flight || p->retry)
		return;
	if (!p->client) {
		r = ctrbox_ttrpc_client_connect(p->loop, p->address, &p->client);
		if (r < 0) {
			p->client = NULL;
			head_failed(p, strerror(-r));
			return;
		}
		ctrbox_ttrpc_client_on_close(p->client, client_closed, p);
	}
	r = send_head(p);
	if (r < 0) {
		head_failed(p, strerror(-r));
		return;
	}
	p->in_flight = 1;
}

unsigned publisher_drain(struct publisher *p, uint64_t timeout_ms)
{
	uint64_t deadline = ctrbox_loop_now_ms() + timeout_ms;
	int empty = 0;

	while (p->head && ctrbox_loop_now_ms() < deadline) {
		if (ctrbox_loop_run_until(p->loop, &empty, ctrbox_loop_now_ms() + 50) < 0 &&
		    !p->head)
			break;
	}
	return p->count;
}
