/* TTRPC wire codec, I/O-free: frame headers, an incremental frame reader, request/response bodies.
 */
#include "ttrpc_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "google/rpc/status.pb-c.h"
#include "ttrpc/ttrpc.pb-c.h"

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ttrpc_hdr_pack(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h)
{
	put_be32(out, h->length);
	put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_hdr_unpack(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h)
{
	h->length = get_be32(in);
	h->stream_id = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

void ttrpc_reader_init(struct ttrpc_reader *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void ttrpc_reader_reset(struct ttrpc_reader *r)
{
	free(r->payload);
	ttrpc_reader_init(r, r->max);
}

int ttrpc_reader_idle(const struct ttrpc_reader *r)
{
	return r->hdrlen == 0;
}

/* Delivers the current frame and gets ready for the next header. */
static int finish_frame(struct ttrpc_reader *r, ttrpc_frame_cb cb, void *ctx)
{
	struct ttrpc_hdr h = r->hdr;
	uint8_t *payload = r->payload;
	int oversize = r->discarding, stop;

	r->payload = NULL;
	r->hdrlen = 0;
	r->got = 0;
	r->discarding = 0;
	stop = cb(ctx, &h, oversize ? NULL : (payload ? payload : (const uint8_t *)""), oversize);
	free(payload);
	return stop;
}

ssize_t ttrpc_reader_feed(struct ttrpc_reader *r, const uint8_t *buf, size_t n, ttrpc_frame_cb cb,
			  void *ctx)
{
	size_t off = 0;

	while (off < n) {
		if (r->hdrlen < TTRPC_HDR_LEN) {
			size_t take = TTRPC_HDR_LEN - r->hdrlen;
			if (take > n - off)
				take = n - off;
			memcpy(r->hdrbuf + r->hdrlen, buf + off, take);
			r->hdrlen += take;
			off += take;
			if (r->hdrlen < TTRPC_HDR_LEN)
				break;
			ttrpc_hdr_unpack(r->hdrbuf, &r->hdr);
			r->got = 0;
			if (r->hdr.length > r->max) {
				r->discarding = 1;
			} else if (r->hdr.length > 0) {
				r->payload = malloc(r->hdr.length);
				if (!r->payload)
					return -ENOMEM;
			}
		}
		size_t want = r->hdr.length - r->got, take = n - off < want ? n - off : want;
		if (!r->discarding && take > 0)
			memcpy(r->payload + r->got, buf + off, take);
		r->got += take;
		off += take;
		if (r->got == r->hdr.length && finish_frame(r, cb, ctx))
			return off;
	}
	return off;
}

int ttrpc_frame_request(uint32_t stream_id, const char *service, const char *method,
			const uint8_t *payload, size_t plen, int64_t timeout_nano,
			const struct ctrbox_kv *md, size_t nmd, uint8_t **out, size_t *outlen)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	Ttrpc__KeyValue *kvs = NULL, **kvp = NULL;
	struct ttrpc_hdr h = {.stream_id = stream_id, .type = TTRPC_TYPE_REQUEST};
	size_t len;
	uint8_t *buf;

	req.service = (char *)service;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = plen;
	req.timeout_nano = timeout_nano;
	if (nmd > 0) {
		kvs = calloc(nmd, sizeof(*kvs));
		kvp = calloc(nmd, sizeof(*kvp));
		if (!kvs || !kvp) {
			free(kvs);
			free(kvp);
			return -ENOMEM;
		}
		for (size_t i = 0; i < nmd; i++) {
			ttrpc__key_value__init(&kvs[i]);
			kvs[i].key = (char *)md[i].key;
			kvs[i].value = (char *)md[i].value;
			kvp[i] = &kvs[i];
		}
		req.n_metadata = nmd;
		req.metadata = kvp;
	}
	len = ttrpc__request__get_packed_size(&req);
	buf = malloc(TTRPC_HDR_LEN + len);
	if (buf) {
		h.length = len;
		ttrpc_hdr_pack(buf, &h);
		ttrpc__request__pack(&req, buf + TTRPC_HDR_LEN);
		*out = buf;
		*outlen = TTRPC_HDR_LEN + len;
	}
	free(kvs);
	free(kvp);
	return buf ? 0 : -ENOMEM;
}

int ttrpc_frame_response(uint32_t stream_id, int code, const char *message, const uint8_t *payload,
			 size_t plen, uint8_t **out, size_t *outlen)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	struct ttrpc_hdr h = {.stream_id = stream_id, .type = TTRPC_TYPE_RESPONSE};
	size_t len;
	uint8_t *buf;

	if (code != CTRBOX_OK) {
		st.code = code;
		st.message = (char *)(message ? message : "");
		resp.status = &st;
	} else {
		resp.payload.data = (uint8_t *)payload;
		resp.payload.len = plen;
	}
	len = ttrpc__response__get_packed_size(&resp);
	buf = malloc(TTRPC_HDR_LEN + len);
	if (!buf)
		return -ENOMEM;
	h.length = len;
	ttrpc_hdr_pack(buf, &h);
	ttrpc__response__pack(&resp, buf + TTRPC_HDR_LEN);
	*out = buf;
	*outlen = TTRPC_HDR_LEN + len;
	return 0;
}

int ttrpc_request_decode(const uint8_t *body, size_t len, struct ttrpc_request *out)
{
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, len, body);

	memset(out, 0, sizeof(*out));
	if (!req)
		return -EBADMSG;
	out->msg = req;
	out->service = req->service;
	out->method = req->method;
	out->payload = req->payload.data;
	out->plen = req->payload.len;
	out->timeout_nano = req->timeout_nano;
	if (req->n_metadata > 0) {
		out->md = calloc(req->n_metadata, sizeof(*out->md));
		if (!out->md) {
			ttrpc__request__free_unpacked(req, NULL);
			out->msg = NULL;
			return -ENOMEM;
		}
		for (size_t i = 0; i < req->n_metadata; i++) {
			out->md[i].key = req->metadata[i]->key;
			out->md[i].value = req->metadata[i]->value;
		}
		out->nmd = req->n_metadata;
	}
	return 0;
}

void ttrpc_request_free(struct ttrpc_request *r)
{
	if (r->msg)
		ttrpc__request__free_unpacked(r->msg, NULL);
	free(r->md);
	memset(r, 0, sizeof(*r));
}

const char *ttrpc_request_metadata(const struct ttrpc_request *r, const char *key)
{
	for (size_t i = 0; i < r->nmd; i++)
		if (strcmp(r->md[i].key, key) == 0)
			return r->md[i].value;
	return NULL;
}

int ttrpc_response_decode(const uint8_t *body, size_t len, struct ttrpc_response *out)
{
	Ttrpc__Response *resp = ttrpc__response__unpack(NULL, len, body);

	memset(out, 0, sizeof(*out));
	if (!resp)
		return -EBADMSG;
	out->msg = resp;
	out->payload = resp->payload.data;
	out->plen = resp->payload.len;
	if (resp->status && resp->status->code != 0) {
		out->code = resp->status->code;
		out->message = resp->status->message;
	}
	return 0;
}

void ttrpc_response_free(struct ttrpc_response *r)
{
	if (r->msg)
		ttrpc__response__free_unpacked(r->msg, NULL);
	memset(r, 0, sizeof(*r));
}
