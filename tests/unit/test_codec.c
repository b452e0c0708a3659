/* Unit tests: TTRPC framing and message coding, byte for byte against observed Go traffic. */
#include <stdlib.h>

#include "task/shim.pb-c.h"
#include "protos/ttrpc_codec.h"
#include "unit.h"

struct frames {
	int n, oversize;
	struct ttrpc_hdr h[8];
	size_t len[8];
	uint8_t first[8];
};

static int collect(void *ctx, const struct ttrpc_hdr *h, const uint8_t *payload, int oversize)
{
	struct frames *f = ctx;
	if (f->n < 8) {
		f->h[f->n] = *h;
		f->len[f->n] = oversize ? 0 : h->length;
		f->first[f->n] = (!oversize && h->length) ? payload[0] : 0;
	}
	f->oversize += oversize;
	f->n++;
	return 0;
}

void test_hdr_roundtrip(void)
{
	struct ttrpc_hdr h = {.length = 0x26, .stream_id = 5, .type = 1, .flags = 0}, g;
	uint8_t b[10];
	static const uint8_t want[10] = {0, 0, 0, 0x26, 0, 0, 0, 5, 1, 0};

	ttrpc_hdr_pack(b, &h);
	CHECK(memcmp(b, want, 10) == 0);
	ttrpc_hdr_unpack(b, &g);
	CHECK(g.length == 0x26 && g.stream_id == 5 && g.type == 1 && g.flags == 0);
}

/* The 38-byte Start request containerd sent to the Go shim. */
void test_request_bytes(void)
{
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	static const char want[] = "\x0a\x17"
				   "containerd.task.v2.Task"
				   "\x12\x05"
				   "Start"
				   "\x1a\x04\x0a\x02"
				   "t2";
	uint8_t payload[16], *frame;
	size_t plen, flen;
	struct ttrpc_request req;

	sr.id = "t2";
	plen = containerd__task__v2__start_request__pack(&sr, payload);
	CHECK(ttrpc_frame_request(5, "containerd.task.v2.Task", "Start", payload, plen, 0, NULL, 0,
				  &frame, &flen) == 0);
	CHECK(flen == 10 + 38);
	CHECK(frame[3] == 38 && frame[7] == 5 && frame[8] == 1);
	CHECK(memcmp(frame + 10, want, 38) == 0);
	CHECK(ttrpc_request_decode(frame + 10, 38, &req) == 0);
	CHECK_STR(req.service, "containerd.task.v2.Task");
	CHECK_STR(req.method, "Start");
	CHECK(req.plen == 4 && req.timeout_nano == 0 && req.nmd == 0);
	ttrpc_request_free(&req);
	free(frame);
}

void test_request_metadata_timeout(void)
{
	struct ctrbox_kv md[] = {{"containerd-namespace-ttrpc", "specns"}};
	struct ttrpc_request req;
	uint8_t *frame;
	size_t flen;

	CHECK(ttrpc_frame_request(1, "s", "m", NULL, 0, 1999987271, md, 1, &frame, &flen) == 0);
	CHECK(ttrpc_request_decode(frame + 10, flen - 10, &req) == 0);
	CHECK(req.timeout_nano == 1999987271);
	CHECK_STR(ttrpc_request_metadata(&req, "containerd-namespace-ttrpc"), "specns");
	CHECK(ttrpc_request_metadata(&req, "other") == NULL);
	ttrpc_request_free(&req);
	free(frame);
}

/* Error body: 0a <len> 08 <code> 12 <len> <message>, no payload. */
void test_response_error_bytes(void)
{
	const char *msg = "container not created: not found";
	struct ttrpc_response resp;
	uint8_t *frame;
	size_t flen;

	CHECK(ttrpc_frame_response(7, CTRBOX_NOT_FOUND, msg, NULL, 0, &frame, &flen) == 0);
	CHECK(flen == 10 + 38);
	CHECK(frame[8] == TTRPC_TYPE_RESPONSE);
	CHECK(frame[10] == 0x0a && frame[11] == 0x24 && frame[12] == 0x08 && frame[13] == 5 &&
	      frame[14] == 0x12 && frame[15] == 0x20);
	CHECK(ttrpc_response_decode(frame + 10, flen - 10, &resp) == 0);
	CHECK(resp.code == CTRBOX_NOT_FOUND);
	CHECK_STR(resp.message, msg);
	ttrpc_response_free(&resp);
	free(frame);
}

/* Success with Empty is a 0-byte body; with a result, 12 <len> <payload>. */
void test_response_ok_bytes(void)
{
	static const uint8_t pl[] = {0x08, 0xdd, 0x61};
	uint8_t *frame;
	size_t flen;

	CHECK(ttrpc_frame_response(13, 0, NULL, NULL, 0, &frame, &flen) == 0);
	CHECK(flen == 10 && frame[3] == 0);
	free(frame);
	CHECK(ttrpc_frame_response(5, 0, NULL, pl, 3, &frame, &flen) == 0);
	CHECK(flen == 15 && frame[10] == 0x12 && frame[11] == 3 && frame[12] == 0x08);
	free(frame);
}

/* Frames split at every possible byte boundary come out whole and in order. */
void test_reader_fragmented(void)
{
	uint8_t *f1, *f2, buf[256];
	size_t l1, l2;

	ttrpc_frame_request(1, "svc", "A", (const uint8_t *)"xyz", 3, 0, NULL, 0, &f1, &l1);
	ttrpc_frame_request(3, "svc", "B", NULL, 0, 0, NULL, 0, &f2, &l2);
	memcpy(buf, f1, l1);
	memcpy(buf + l1, f2, l2);
	for (size_t split = 0; split <= l1 + l2; split++) {
		struct ttrpc_reader r;
		struct frames fr = {0};
		ttrpc_reader_init(&r, TTRPC_MAX_MSG);
		CHECK(ttrpc_reader_feed(&r, buf, split, collect, &fr) == (ssize_t)split);
		CHECK(ttrpc_reader_feed(&r, buf + split, l1 + l2 - split, collect, &fr) ==
		      (ssize_t)(l1 + l2 - split));
		CHECK(fr.n == 2 && fr.h[0].stream_id == 1 && fr.h[1].stream_id == 3);
		CHECK(ttrpc_reader_idle(&r));
		ttrpc_reader_reset(&r);
	}
	free(f1);
	free(f2);
}

/* An oversize frame is skipped without buffering; the next frame still parses. */
void test_reader_oversize(void)
{
	struct ttrpc_reader r;
	struct frames fr = {0};
	struct ttrpc_hdr h = {.length = TTRPC_MAX_MSG + 1, .stream_id = 9, .type = 1};
	uint8_t hdr[10], *chunk = calloc(1, 65536), *f2;
	size_t left = h.length, l2;

	ttrpc_reader_init(&r, TTRPC_MAX_MSG);
	ttrpc_hdr_pack(hdr, &h);
	ttrpc_reader_feed(&r, hdr, 10, collect, &fr);
	CHECK(r.payload == NULL && r.discarding);
	while (left > 0) {
		size_t n = left > 65536 ? 65536 : left;
		ttrpc_reader_feed(&r, chunk, n, collect, &fr);
		left -= n;
	}
	CHECK(fr.n == 1 && fr.oversize == 1 && fr.h[0].stream_id == 9 &&
	      fr.h[0].length == TTRPC_MAX_MSG + 1);
	ttrpc_frame_request(11, "s", "m", NULL, 0, 0, NULL, 0, &f2, &l2);
	ttrpc_reader_feed(&r, f2, l2, collect, &fr);
	CHECK(fr.n == 2 && fr.oversize == 1 && fr.h[1].stream_id == 11);
	CHECK(ttrpc_reader_idle(&r));
	/* exactly the maximum is buffered, not discarded */
	h.length = TTRPC_MAX_MSG;
	ttrpc_hdr_pack(hdr, &h);
	ttrpc_reader_feed(&r, hdr, 10, collect, &fr);
	CHECK(r.payload != NULL && !r.discarding);
	free(f2);
	free(chunk);
	ttrpc_reader_reset(&r);
}

void test_reader_truncated(void)
{
	struct ttrpc_reader r;
	struct frames fr = {0};
	uint8_t *f;
	size_t l;

	ttrpc_reader_init(&r, TTRPC_MAX_MSG);
	ttrpc_frame_request(1, "svc", "Method", NULL, 0, 0, NULL, 0, &f, &l);
	ttrpc_reader_feed(&r, f, l - 3, collect, &fr);
	CHECK(fr.n == 0 && !ttrpc_reader_idle(&r));
	ttrpc_reader_reset(&r);
	ttrpc_reader_feed(&r, f, 4, collect, &fr); /* inside the header */
	CHECK(!ttrpc_reader_idle(&r));
	ttrpc_reader_reset(&r);
	free(f);
}

void test_garbage_request_body(void)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
	struct ttrpc_request req;
	struct ttrpc_response resp;

	CHECK(ttrpc_request_decode(junk, sizeof(junk), &req) < 0);
	CHECK(ttrpc_response_decode(junk, sizeof(junk), &resp) < 0);
	CHECK(strcmp(ctrbox_code_name(CTRBOX_RESOURCE_EXHAUSTED), "ResourceExhausted") == 0);
	CHECK(strcmp(ctrbox_code_name(99), "Unknown") == 0);
}

/* DeleteResponse{pid 12509, status 137, exited_at} as the Go shim printed it. */
void test_delete_response_bytes(void)
{
	Containerd__Task__V2__DeleteResponse d = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	static const uint8_t want[] = {0x08, 0xdd, 0x61, 0x10, 0x89, 0x01, 0x1a, 0x0b, 0x08, 0x8c,
				       0xb2, 0x8f, 0xd8, 0x06, 0x10, 0xfd, 0xe2, 0xf2, 0x4b};
	uint8_t buf[64];

	d.pid = 12509;
	d.exit_status = 137;
	ts.seconds = 1795414284;
	ts.nanos = 159166845;
	d.exited_at = &ts;
	CHECK(containerd__task__v2__delete_response__get_packed_size(&d) == sizeof(want));
	containerd__task__v2__delete_response__pack(&d, buf);
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
}
