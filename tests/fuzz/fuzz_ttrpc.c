/* libFuzzer target: the TTRPC frame reader (ttrpc_reader_*) fed in input-chosen chunk sizes, and
 * every frame's body decoded as a request (and a response), re-encoded and decoded again.
 * Byte 0 picks the chunk size, byte 1 the reader's maximum payload; the rest is the stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protos/ttrpc_codec.h"

static void check_request(const uint8_t *body, size_t len)
{
	struct ttrpc_request rq;
	if (ttrpc_request_decode(body, len, &rq) != 0)
		return;
	/* touch everything the decoder hands out */
	size_t n = strlen(rq.service) + strlen(rq.method);
	for (size_t i = 0; i < rq.nmd; i++)
		n += strlen(rq.md[i].key) + strlen(rq.md[i].value);
	(void)n;
	if (rq.plen)
		(void)(volatile uint8_t)rq.payload[rq.plen - 1];
	(void)ttrpc_request_metadata(&rq, "containerd-namespace");
	(void)ttrpc_request_metadata(&rq, "");

	/* round trip: what we decoded must encode and decode to the same call */
	struct ctrbox_kv *kv = calloc(rq.nmd + 1, sizeof(*kv));
	if (!kv) {
		ttrpc_request_free(&rq);
		return;
	}
	for (size_t i = 0; i < rq.nmd; i++) {
		kv[i].key = rq.md[i].key;
		kv[i].value = rq.md[i].value;
	}
	uint8_t *frame = NULL;
	size_t flen = 0;
	if (ttrpc_frame_request(7, rq.service, rq.method, rq.payload, rq.plen, rq.timeout_nano, kv,
				rq.nmd, &frame, &flen) == 0) {
		struct ttrpc_hdr h;
		struct ttrpc_request rq2;
		if (flen < TTRPC_HDR_LEN)
			abort();
		ttrpc_hdr_unpack(frame, &h);
		if (h.length != flen - TTRPC_HDR_LEN || h.stream_id != 7 ||
		    h.type != TTRPC_TYPE_REQUEST)
			abort();
		if (ttrpc_request_decode(frame + TTRPC_HDR_LEN, flen - TTRPC_HDR_LEN, &rq2) != 0)
			abort();
		if (strcmp(rq.service, rq2.service) || strcmp(rq.method, rq2.method) ||
		    rq.plen != rq2.plen || (rq.plen && memcmp(rq.payload, rq2.payload, rq.plen)) ||
		    rq.nmd != rq2.nmd || rq.timeout_nano != rq2.timeout_nano)
			abort();
		ttrpc_request_free(&rq2);
		free(frame);
	}
	free(kv);
	ttrpc_request_free(&rq);
}

static void check_response(const uint8_t *body, size_t len)
{
	struct ttrpc_response rs;
	if (ttrpc_response_decode(body, len, &rs) != 0)
		return;
	(void)ctrbox_code_name(rs.code);
	uint8_t *frame = NULL;
	size_t flen = 0;
	if (ttrpc_frame_response(3, rs.code, rs.message ? rs.message : "", rs.payload, rs.plen,
				 &frame, &flen) == 0)
		free(frame);
	ttrpc_response_free(&rs);
}

struct ctx {
	unsigned frames;
};

static int on_frame(void *data, const struct ttrpc_hdr *h, const uint8_t *payload, int oversize)
{
	struct ctx *c = data;
	uint8_t hb[TTRPC_HDR_LEN];
	struct ttrpc_hdr h2;

	ttrpc_hdr_pack(hb, h);
	ttrpc_hdr_unpack(hb, &h2);
	if (h->length != h2.length || h->stream_id != h2.stream_id || h->type != h2.type ||
	    h->flags != h2.flags)
		abort();
	if (oversize != (payload == NULL))
		abort();
	if (payload) {
		if (h->type == TTRPC_TYPE_REQUEST) {
			check_request(payload, h->length);
		} else {
			check_response(payload, h->length);
		}
	}
	/* stop feeding after a few frames now and then: the caller resumes */
	return ++c->frames % 5 == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t chunk = (size_t)data[0] % 17 + 1;
	uint32_t max = 16u << (data[1] % 10); /* 16 B .. 8 KiB */
	data += 2;
	size -= 2;

	/* the whole input as one body, whatever the framing says */
	check_request(data, size);
	check_response(data, size);

	struct ttrpc_reader r;
	struct ctx c = {0};
	ttrpc_reader_init(&r, max);
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		/* an exact-size copy so that ASan sees reads past the chunk */
		uint8_t *buf = malloc(n);
		if (!buf)
			break;
		memcpy(buf, data + off, n);
		ssize_t used = ttrpc_reader_feed(&r, buf, n, on_frame, &c);
		free(buf);
		if (used < 0)
			break;
		if (used == 0 || (size_t)used > n) /* every call makes progress */
			abort();
		off += (size_t)used;
	}
	(void)ttrpc_reader_idle(&r);
	ttrpc_reader_reset(&r);
	return 0;
}
