/* libFuzzer target: protobuf-c unpack of every request message the runc shim (Task service) and
 * the snapshotter (Snapshots service) accept. Byte 0 picks the method, the rest is the message:
 * unpack, pack again (the size must match), unpack the result, free. Each decoded message is
 * also rendered by our own walkers over arbitrary messages: pbtext (lib/pbtext.c) and ctr's
 * pbjson (applets/ctr/pbjson.c), whose output must be JSON that lib/json.c accepts. (libprotobuf-c
 * itself is not instrumented: the renderers' coverage is what guides this target.) */
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/pbjson.h"
#include <ctrbox/json.h>
#include <ctrbox/pbtext.h>
#include "snapshots/v1/snapshots.pb-c.h"
#include "task/shim.pb-c.h"

static const ProtobufCServiceDescriptor *const services[] = {
    &containerd__task__v2__task__descriptor,
    &containerd__services__snapshots__v1__snapshots__descriptor,
};

static const ProtobufCMessageDescriptor *pick(uint8_t b)
{
	unsigned total = 0;
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		total += services[i]->n_methods;
	unsigned k = b % total;
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		if (k < services[i]->n_methods)
			return services[i]->methods[k].input;
		k -= services[i]->n_methods;
	}
	abort();
}

static void render(const ProtobufCMessage *m)
{
	static FILE *devnull;
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	ctrbox_pbtext_print(devnull, m);

	for (int indent = 0; indent < 2; indent++) {
		struct jbuf b = {0}, r = {0};
		struct ctrbox_json j;
		pbjson_message(&b, m, indent ? "  " : NULL, 0);
		const char *s = jb_str(&b);
		if (!b.oom) {
			if (ctrbox_json_parse(&j, s, strlen(s)) != 0)
				abort(); /* pbjson wrote something that is not JSON */
			ctrbox_json_free(&j);
			if (pbjson_reindent(&r, s, strlen(s), "\t", 1) != 0)
				abort();
		}
		jb_free(&r);
		jb_free(&b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const ProtobufCMessageDescriptor *d = pick(data[0]);
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
	if (!m)
		return 0;
	if (!protobuf_c_message_check(m))
		abort();
	render(m);
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	if (protobuf_c_message_pack(m, buf) != n)
		abort();
	/* The re-read may fail for one reason outside our code: protobuf-c keeps an unknown field
	 * numbered 0 when its tag came as a non-minimal varint (0x81 0x00), packs it back as 0x01
	 * and then refuses that. Everything else must read back. */
	ProtobufCMessage *m2 = protobuf_c_message_unpack(d, NULL, n, buf);
	if (!m2) {
		free(buf);
		protobuf_c_message_free_unpacked(m, NULL);
		return 0;
	}
	/* a second pack of the re-read message is byte-identical */
	if (protobuf_c_message_get_packed_size(m2) != n)
		abort();
	uint8_t *buf2 = malloc(n ? n : 1);
	if (!buf2)
		abort();
	if (protobuf_c_message_pack(m2, buf2) != n || memcmp(buf, buf2, n))
		abort();
	free(buf2);
	protobuf_c_message_free_unpacked(m2, NULL);
	free(buf);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
