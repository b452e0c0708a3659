/* Event publisher: an ordered queue of envelopes forwarded to containerd over TTRPC. */
#ifndef CTRBOX_PUBLISHER_H
#define CTRBOX_PUBLISHER_H

#include <protobuf-c/protobuf-c.h>

#include <ctrbox/loop.h>

struct publisher;

/* address: containerd's TTRPC socket ($TTRPC_ADDRESS); the connection is made lazily. */
int publisher_new(struct ctrbox_loop *l, const char *address, const char *ns,
		  struct publisher **out);
/* Frees the queue without sending what is left (see publisher_drain). */
void publisher_free(struct publisher *p);
/* Queues event under topic; the Any's type_url is the message's full protobuf name. Events go
 * out strictly in queue order; a failed send is retried (1 s, 2 s, ... backoff) up to 5 more
 * times, then the event is dropped with a log line. Returns 0 or -errno (queue full, ENOMEM). */
int publisher_publish(struct publisher *p, const char *topic, const ProtobufCMessage *event);
/* Number of queued (unsent) events. */
unsigned publisher_pending(const struct publisher *p);
/* Runs the loop until the queue is empty or timeout_ms passes. Returns events left. */
unsigned publisher_drain(struct publisher *p, uint64_t timeout_ms);
/* Counters for tests and diagnostics. */
unsigned long publisher_sent(const struct publisher *p);
unsigned long publisher_dropped(const struct publisher *p);

#endif
