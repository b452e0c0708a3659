/* TTRPC wire codec, I/O-free: frame headers, an incremental frame reader, request/response bodies.
 */
#ifndef CTRBOX_TTRPC_CODEC_H
#define CTRBOX_TTRPC_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ctrbox/ttrpc.h> /* enum ctrbox_code, struct ctrbox_kv */

#define TTRPC_HDR_LEN 10
#define TTRPC_MAX_MSG (4u << 20) /* ttrpc 1.1.1: larger payloads are refused */

enum { TTRPC_TYPE_REQUEST = 1, TTRPC_TYPE_RESPONSE = 2 };

struct ttrpc_hdr {
	uint32_t length;
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_hdr_pack(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h);
void ttrpc_hdr_unpack(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h);

/* Called per complete frame. payload is NULL (and oversize 1) when the frame's length exceeded
 * the reader's maximum: its bytes were skipped. Return non-zero to stop feeding. */
typedef int (*ttrpc_frame_cb)(void *ctx, const struct ttrpc_hdr *h, const uint8_t *payload,
			      int oversize);

struct ttrpc_reader {
	uint32_t max; /* largest accepted payload */
	uint8_t hdrbuf[TTRPC_HDR_LEN];
	size_t hdrlen; /* header bytes collected */
	struct ttrpc_hdr hdr;
	uint8_t *payload; /* owned; allocated to hdr.length */
	size_t got;	  /* payload bytes collected */
	int discarding;	  /* skipping an oversize payload */
};

void ttrpc_reader_init(struct ttrpc_reader *r, uint32_t max);
void ttrpc_reader_reset(struct ttrpc_reader *r);
/* Consumes bytes; returns bytes consumed (less than n only if cb asked to stop), or -ENOMEM. */
ssize_t ttrpc_reader_feed(struct ttrpc_reader *r, const uint8_t *buf, size_t n, ttrpc_frame_cb cb,
			  void *ctx);
/* True between frames: EOF now is clean, otherwise the peer truncated a frame. */
int ttrpc_reader_idle(const struct ttrpc_reader *r);

/* Builds a whole frame (header + body) in a malloc'd buffer owned by the caller. */
int ttrpc_frame_request(uint32_t stream_id, const char *service, const char *method,
			const uint8_t *payload, size_t plen, int64_t timeout_nano,
			const struct ctrbox_kv *md, size_t nmd, uint8_t **out, size_t *outlen);
/* code 0: success with payload (may be empty); otherwise a status with message. */
int ttrpc_frame_response(uint32_t stream_id, int code, const char *message, const uint8_t *payload,
			 size_t plen, uint8_t **out, size_t *outlen);

/* Decoded request; strings point into the protobuf-c message, freed by ttrpc_request_free. */
struct ttrpc_request {
	void *msg; /* Ttrpc__Request */
	const char *service, *method;
	const uint8_t *payload;
	size_t plen;
	int64_t timeout_nano;
	size_t nmd;
	struct ttrpc_kv_ref {
		const char *key, *value;
	} * md; /* array of nmd, owned */
};
int ttrpc_request_decode(const uint8_t *body, size_t len, struct ttrpc_request *out);
void ttrpc_request_free(struct ttrpc_request *r);
const char *ttrpc_request_metadata(const struct ttrpc_request *r, const char *key);

struct ttrpc_response {
	void *msg; /* Ttrpc__Response */
	int code;
	const char *message;
	const uint8_t *payload;
	size_t plen;
};
int ttrpc_response_decode(const uint8_t *body, size_t len, struct ttrpc_response *out);
void ttrpc_response_free(struct ttrpc_response *r);

#endif
