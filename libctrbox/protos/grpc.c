/* gRPC over nghttp2 on the epoll loop: one connection type for both roles. nghttp2 parses and
 * frames HTTP/2 (HPACK with Huffman and dynamic table, flow control, SETTINGS/PING); this file
 * maps streams to calls, frames messages, and moves bytes between the socket and the session
 * with nghttp2_session_mem_recv/mem_send. */
#include <ctrbox/version.h>
#include <ctrbox/grpc.h>

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/list.h"
#include "core/log_int.h"
#include <ctrbox/ttrpc.h>
#include <ctrbox/util.h> /* ctrbox_unix_connect, ctrbox_hex_digit */

/* A client stream the server resets this close to our own deadline ran out of time. */
#define DEADLINE_SLACK_MS 100
#define READ_CHUNK 16384
#define OUT_HIGH (256u << 10) /* stop pulling from nghttp2 above this much unwritten output */
#define LOCAL_WINDOW (1u << 20)
#define MAX_STREAMS 256
#define MAX_MD_BYTES (16u << 10)

struct buf {
	uint8_t *p;
	size_t len, off, cap;
};

static int buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + len > b->cap) {
		if (b->off) {
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		if (b->len + len > b->cap) {
			size_t cap = b->cap ? b->cap : 256;
			while (cap < b->len + len)
				cap *= 2;
			uint8_t *p = realloc(b->p, cap);
			if (!p)
				return -ENOMEM;
			b->p = p;
			b->cap = cap;
		}
	}
	if (len && data)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static size_t buf_avail(const struct buf *b)
{
	return b->len - b->off;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- connection (both roles) ---- */

struct stream;

struct conn {
	struct ctrbox_loop *loop;
	int fd;
	int server; /* 1: accepted by a grpc_server; 0: a grpc_client's */
	nghttp2_session *sess;
	struct buf out;
	int dead;
	int in_io; /* inside mem_recv/mem_send: flushing is deferred to the caller */
	uint32_t events;
	struct ctrbox_timer *close_timer;
	struct stream *streams;
	struct ctrbox_grpc_server *srv; /* server role */
	struct ctrbox_grpc_client *cli; /* client role */
	struct conn *prev, *next;
};

struct md {
	char *key, *value;
};

struct stream {
	struct conn *conn;
	int32_t id;
	struct stream *prev, *next;
	struct buf in;	  /* received DATA not yet framed into messages */
	struct buf out;	  /* framed messages not yet handed to nghttp2 */
	int data_started; /* a data provider is attached */
	int out_done;	  /* no more messages: EOF after out drains */
	int closed;

	/* server role */
	char *path;
	char *content_type;
	char *method_name;
	int is_post;
	struct md *md;
	size_t nmd, md_bytes;
	uint64_t deadline; /* server: the caller's; client: ours (absolute, loop clock) */
	int err_code;	   /* a request-side error to answer once the request ends */
	char *err_msg;
	size_t nmsgs;
	uint8_t *msg; /* the request message */
	size_t msglen;
	struct ctrbox_grpc_call *call;
	int status;
	char *status_msg;

	/* client role */
	ctrbox_grpc_msg_cb on_msg;
	ctrbox_grpc_done_cb on_done;
	void *data;
	int http_status;
	int have_status;
	int rst_sent;
	struct ctrbox_timer *timer;
	struct ctrbox_grpc_stream *handle;
};

struct svc_reg {
	const ProtobufCServiceDescriptor *desc;
	const struct ctrbox_grpc_method_entry *entries;
	void *data;
	struct svc_reg *next;
};

struct ctrbox_grpc_server {
	struct ctrbox_loop *loop;
	int lfd;
	struct svc_reg *svcs;
	struct conn *conns;
	unsigned nconns;
	size_t recv_max, send_max;
};

struct ctrbox_grpc_call {
	struct ctrbox_grpc_server *srv;
	struct ctrbox_loop *loop; /* a detached call can outlive srv (ctrbox_grpc_server_free) */
	struct stream *st;	  /* NULL once the stream is gone */
	const ProtobufCMethodDescriptor *mdesc;
	ProtobufCMessage *req;
	char *method;
	struct md *md;
	size_t nmd;
	uint64_t deadline;
	struct ctrbox_timer *timer;
	void (*cancel)(struct ctrbox_grpc_call *, void *);
	void *cancel_data;
};

struct ctrbox_grpc_client {
	struct ctrbox_loop *loop;
	struct conn *conn;
	size_t recv_max, send_max;
	int closing;
};

struct ctrbox_grpc_stream {
	struct stream *st;
};

/* ---- I/O-free helpers ---- */

int64_t ctrbox_grpc_timeout_parse(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	if (n < 2 || n > 9)
		return -1;
	int64_t x = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	switch (v[n - 1]) {
	case 'H':
		return x * 3600000;
	case 'M':
		return x * 60000;
	case 'S':
		return x * 1000;
	case 'm':
		return x;
	case 'u':
		return (x + 999) / 1000;
	case 'n':
		return (x + 999999) / 1000000;
	}
	return -1;
}

char *ctrbox_grpc_message_encode(const char *msg)
{
	size_t n = strlen(msg);
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '%')
			o += sprintf(o, "%%%02X", *p);
		else
			*o++ = (char)*p;
	}
	*o = 0;
	return out;
}

char *ctrbox_grpc_message_decode(const char *msg, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int h, l;
		if (msg[i] == '%' && i + 2 < len && (h = ctrbox_hex_digit(msg[i + 1])) >= 0 &&
		    (l = ctrbox_hex_digit(msg[i + 2])) >= 0) {
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else {
			*o++ = msg[i];
		}
	}
	*o = 0;
	return out;
}

/* ---- connection I/O ---- */

static void conn_close(struct conn *cn);

static void conn_close_cb(struct ctrbox_loop *l, void *data)
{
	struct conn *cn = data;
	(void)l;
	cn->close_timer = NULL;
	conn_close(cn);
}

static void conn_kill(struct conn *cn)
{
	if (cn->dead)
		return;
	cn->dead = 1;
	if (!cn->close_timer)
		cn->close_timer = ctrbox_loop_timer_in(cn->loop, 0, conn_close_cb, cn);
	if (!cn->close_timer)
		ctrbox_log_error("grpc: cannot schedule a connection close");
}

static void conn_set_events(struct conn *cn, uint32_t ev)
{
	if (cn->events == ev || cn->dead)
		return;
	cn->events = ev;
	ctrbox_loop_mod(cn->loop, cn->fd, ev);
}

/* Pulls frames out of nghttp2 and writes them; returns -1 if the connection broke. */
static int conn_flush(struct conn *cn)
{
	if (cn->dead || cn->in_io)
		return cn->dead ? -1 : 0;
	for (;;) {
		while (buf_avail(&cn->out)) {
			ssize_t w = send(cn->fd, cn->out.p + cn->out.off, buf_avail(&cn->out),
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN) {
					conn_set_events(cn, EPOLLIN | EPOLLOUT);
					return 0;
				}
				conn_kill(cn);
				return -1;
			}
			cn->out.off += (size_t)w;
		}
		cn->out.off = cn->out.len = 0;
		const uint8_t *p;
		cn->in_io = 1;
		ssize_t n = nghttp2_session_mem_send(cn->sess, &p);
		cn->in_io = 0;
		if (n < 0) {
			ctrbox_log_warn("grpc: nghttp2 send: %s", nghttp2_strerror((int)n));
			conn_kill(cn);
			return -1;
		}
		if (n == 0)
			break;
		if (buf_append(&cn->out, p, (size_t)n) < 0) {
			conn_kill(cn);
			return -1;
		}
		/* keep pulling while there is room; the loop above writes it */
		while (buf_avail(&cn->out) < OUT_HIGH) {
			cn->in_io = 1;
			n = nghttp2_session_mem_send(cn->sess, &p);
			cn->in_io = 0;
			if (n <= 0)
				break;
			if (buf_append(&cn->out, p, (size_t)n) < 0) {
				conn_kill(cn);
				return -1;
			}
		}
		if (n < 0) {
			conn_kill(cn);
			return -1;
		}
	}
	conn_set_events(cn, EPOLLIN);
	if (!nghttp2_session_want_read(cn->sess) && !nghttp2_session_want_write(cn->sess))
		conn_kill(cn);
	return 0;
}

static void conn_io(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct conn *cn = data;
	(void)l;
	if (cn->dead)
		return;
	if (events & EPOLLIN) {
		uint8_t rb[READ_CHUNK];
		for (int i = 0; i < 4; i++) {
			ssize_t r = recv(fd, rb, sizeof(rb), MSG_DONTWAIT);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN)
				break;
			if (r <= 0) {
				conn_kill(cn);
				return;
			}
			cn->in_io = 1;
			ssize_t n = nghttp2_session_mem_recv(cn->sess, rb, (size_t)r);
			cn->in_io = 0;
			if (n < 0) {
				ctrbox_log_warn("grpc: closing connection: %s",
						nghttp2_strerror((int)n));
				/* a GOAWAY may be queued: try to send it, then close */
				conn_flush(cn);
				conn_kill(cn);
				return;
			}
			if (cn->dead)
				return;
			if ((size_t)r < sizeof(rb))
				break;
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		conn_kill(cn);
		return;
	}
	conn_flush(cn);
}

static void stream_unlink(struct stream *st)
{
	struct conn *cn = st->conn;
	if (!cn)
		return;
	CTRBOX_LIST_UNLINK(cn->streams, st);
	st->conn = NULL;
}

static void call_detach(struct ctrbox_grpc_call *c);
static void client_stream_done(struct stream *st, int code, const char *msg);

static void stream_free(struct stream *st)
{
	if (st->timer && st->conn)
		ctrbox_loop_timer_cancel(st->conn->loop, st->timer);
	stream_unlink(st);
	if (st->call)
		call_detach(st->call);
	buf_free(&st->in);
	buf_free(&st->out);
	free(st->path);
	free(st->content_type);
	free(st->method_name);
	for (size_t i = 0; i < st->nmd; i++) {
		free(st->md[i].key);
		free(st->md[i].value);
	}
	free(st->md);
	free(st->err_msg);
	free(st->msg);
	free(st->status_msg);
	if (st->handle)
		st->handle->st = NULL;
	free(st->handle);
	free(st);
}

static void conn_close(struct conn *cn)
{
	if (cn->close_timer)
		ctrbox_loop_timer_cancel(cn->loop, cn->close_timer);
	cn->close_timer = NULL;
	cn->dead = 1;
	ctrbox_loop_del(cn->loop, cn->fd);
	close(cn->fd);
	while (cn->streams) {
		struct stream *st = cn->streams;
		if (!cn->server) {
			if (st->timer) {
				ctrbox_loop_timer_cancel(cn->loop, st->timer);
				st->timer = NULL;
			}
			client_stream_done(
			    st, cn->cli && cn->cli->closing ? CTRBOX_CANCELED : CTRBOX_UNAVAILABLE,
			    cn->cli && cn->cli->closing ? "grpc: client closing"
							: "grpc: connection closed");
		}
		stream_free(st);
	}
	nghttp2_session_del(cn->sess);
	buf_free(&cn->out);
	if (cn->srv) {
		CTRBOX_LIST_UNLINK(cn->srv->conns, cn);
		cn->srv->nconns--;
	}
	if (cn->cli)
		cn->cli->conn = NULL;
	free(cn);
}

/* ---- data provider shared by both roles ---- */

static void server_send_trailers(struct stream *st);

static ssize_t data_read_cb(nghttp2_session *sess, int32_t id, uint8_t *b, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct stream *st = src->ptr;
	(void)sess, (void)id, (void)ud;
	size_t n = buf_avail(&st->out);
	if (n > len)
		n = len;
	if (n)
		memcpy(b, st->out.p + st->out.off, n);
	st->out.off += n;
	if (buf_avail(&st->out) == 0) {
		st->out.off = st->out.len = 0;
		if (st->out_done) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			if (st->conn && st->conn->server) {
				*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
				server_send_trailers(st);
			}
		} else if (n == 0) {
			return NGHTTP2_ERR_DEFERRED;
		}
	}
	return (ssize_t)n;
}

/* Wakes a deferred data provider; not being deferred (data already flowing) is fine. */
static int resume(struct conn *cn, int32_t id)
{
	int rc = nghttp2_session_resume_data(cn->sess, id);
	return rc && rc != NGHTTP2_ERR_INVALID_ARGUMENT ? -EIO : 0;
}

static int frame_message(struct buf *b, const ProtobufCMessage *msg, size_t max)
{
	size_t len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
	if (len > max || len > 0xffffffffu)
		return -EMSGSIZE;
	uint8_t hdr[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len};
	size_t start = b->len;
	if (buf_append(b, hdr, 5) < 0 || buf_append(b, NULL, len) < 0)
		return -ENOMEM;
	if (len)
		protobuf_c_message_pack(msg, b->p + start + 5);
	return 0;
}

static int frame_raw(struct buf *b, const uint8_t *msg, size_t len)
{
	uint8_t hdr[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len};
	if (buf_append(b, hdr, 5) < 0 || buf_append(b, msg, len) < 0)
		return -ENOMEM;
	return 0;
}

/* Splits st->in into messages; calls fn for each. Returns 0, or a gRPC code with *msg. */
static int deframe(struct stream *st, size_t max,
		   int (*fn)(struct stream *, const uint8_t *, size_t), char **emsg)
{
	while (buf_avail(&st->in) >= 5) {
		const uint8_t *p = st->in.p + st->in.off;
		uint32_t len =
		    (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
		if (p[0] != 0) {
			if (asprintf(emsg,
				     "grpc: compressed flag set with identity or empty encoding") <
			    0)
				*emsg = NULL;
			return CTRBOX_INTERNAL;
		}
		if (len > max) {
			if (asprintf(emsg, "grpc: received message larger than max (%u vs. %zu)",
				     len, max) < 0)
				*emsg = NULL;
			return CTRBOX_RESOURCE_EXHAUSTED;
		}
		if (buf_avail(&st->in) < 5 + (size_t)len)
			break;
		st->in.off += 5 + len;
		int rc = fn(st, p + 5, len);
		if (rc)
			return rc;
	}
	if (buf_avail(&st->in) == 0)
		st->in.off = st->in.len = 0;
	return 0;
}

/* ---- server ---- */

static const struct svc_reg *find_service(struct ctrbox_grpc_server *s, const char *name, size_t n)
{
	for (struct svc_reg *r = s->svcs; r; r = r->next)
		if (strlen(r->desc->name) == n && memcmp(r->desc->name, name, n) == 0)
			return r;
	return NULL;
}

static void call_free(struct ctrbox_grpc_call *c)
{
	if (c->timer)
		ctrbox_loop_timer_cancel(c->loop, c->timer);
	if (c->st)
		c->st->call = NULL;
	if (c->req)
		protobuf_c_message_free_unpacked(c->req, NULL);
	for (size_t i = 0; i < c->nmd; i++) {
		free(c->md[i].key);
		free(c->md[i].value);
	}
	free(c->md);
	free(c->method);
	free(c);
}

/* The stream is gone before the handler finished: tell the handler and free, or (without a
 * cancel callback) keep the call detached until the handler ends it. */
static void call_detach(struct ctrbox_grpc_call *c)
{
	c->st = NULL;
	if (c->cancel) {
		void (*cb)(struct ctrbox_grpc_call *, void *) = c->cancel;
		c->cancel = NULL;
		cb(c, c->cancel_data);
		call_free(c);
	}
}

static int submit_headers(struct stream *st, int trailers_only, int code, const char *msg)
{
	char codebuf[16];
	char *emsg = NULL;
	nghttp2_nv nv[4];
	size_t n = 0;
#define NV(k, v)                                                                                   \
	nv[n++] = (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v),               \
			       NGHTTP2_NV_FLAG_NO_COPY_NAME}
	NV(":status", "200");
	NV("content-type", "application/grpc");
	if (trailers_only) {
		snprintf(codebuf, sizeof(codebuf), "%d", code);
		emsg = ctrbox_grpc_message_encode(msg ? msg : "");
		NV("grpc-status", codebuf);
		NV("grpc-message", emsg ? emsg : "");
		int rc = nghttp2_submit_response(st->conn->sess, st->id, nv, n, NULL);
		free(emsg);
		return rc;
	}
	nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read_cb};
	st->data_started = 1;
	return nghttp2_submit_response(st->conn->sess, st->id, nv, n, &prd);
#undef NV
}

static void server_send_trailers(struct stream *st)
{
	char codebuf[16];
	snprintf(codebuf, sizeof(codebuf), "%d", st->status);
	char *emsg = ctrbox_grpc_message_encode(st->status_msg ? st->status_msg : "");
	nghttp2_nv nv[2] = {
	    {(uint8_t *)"grpc-status", (uint8_t *)codebuf, 11, strlen(codebuf), 0},
	    {(uint8_t *)"grpc-message", (uint8_t *)(emsg ? emsg : ""), 12, emsg ? strlen(emsg) : 0,
	     0},
	};
	int rc = nghttp2_submit_trailer(st->conn->sess, st->id, nv, 2);
	if (rc)
		ctrbox_log_warn("grpc: trailers for stream %d: %s", st->id, nghttp2_strerror(rc));
	free(emsg);
}

/* Ends a server stream with a status (after any queued messages). */
static int stream_finish(struct stream *st, int code, const char *msg)
{
	struct conn *cn = st->conn;
	int rc;
	if (!cn || st->out_done)
		return 0;
	st->out_done = 1;
	if (!st->data_started && buf_avail(&st->out) == 0) {
		rc = submit_headers(st, 1, code, msg);
	} else {
		st->status = code;
		free(st->status_msg);
		st->status_msg = msg ? strdup(msg) : NULL;
		rc = st->data_started ? resume(cn, st->id) : submit_headers(st, 0, 0, NULL);
	}
	conn_flush(cn);
	return rc ? -EIO : 0;
}

static void call_deadline_cb(struct ctrbox_loop *l, void *data)
{
	struct ctrbox_grpc_call *c = data;
	(void)l;
	c->timer = NULL;
	struct stream *st = c->st;
	if (st) {
		st->call = NULL;
		c->st = NULL;
		stream_finish(st, CTRBOX_DEADLINE_EXCEEDED, "context deadline exceeded");
	}
	if (c->cancel) {
		void (*cb)(struct ctrbox_grpc_call *, void *) = c->cancel;
		c->cancel = NULL;
		cb(c, c->cancel_data);
		call_free(c);
	}
}

static int take_request(struct stream *st, const uint8_t *p, size_t len)
{
	if (st->nmsgs++) {
		/* unary and server-streaming methods take exactly one message */
		if (asprintf(&st->err_msg, "grpc: more than one request message for a unary call") <
		    0)
			st->err_msg = NULL;
		return CTRBOX_UNIMPLEMENTED;
	}
	st->msg = malloc(len ? len : 1);
	if (!st->msg)
		return CTRBOX_RESOURCE_EXHAUSTED;
	memcpy(st->msg, p, len);
	st->msglen = len;
	return 0;
}

static void server_dispatch(struct stream *st)
{
	struct ctrbox_grpc_server *s = st->conn->srv;
	char *emsg = NULL;

	if (st->err_code) {
		stream_finish(st, st->err_code, st->err_msg);
		return;
	}
	const char *path = st->path;
	const char *slash = path && path[0] == '/' ? strchr(path + 1, '/') : NULL;
	if (!slash || slash == path + 1 || !slash[1]) {
		if (asprintf(&emsg, "malformed method name: \"%s\"", path ? path : "") < 0)
			emsg = NULL;
		stream_finish(st, CTRBOX_UNIMPLEMENTED, emsg);
		free(emsg);
		return;
	}
	const struct svc_reg *r = find_service(s, path + 1, (size_t)(slash - path - 1));
	if (!r) {
		if (asprintf(&emsg, "unknown service %.*s", (int)(slash - path - 1), path + 1) < 0)
			emsg = NULL;
		stream_finish(st, CTRBOX_UNIMPLEMENTED, emsg);
		free(emsg);
		return;
	}
	const char *mname = slash + 1;
	const ProtobufCMethodDescriptor *md =
	    protobuf_c_service_descriptor_get_method_by_name(r->desc, mname);
	ctrbox_grpc_handler fn = NULL;
	if (md)
		for (const struct ctrbox_grpc_method_entry *e = r->entries; e->method; e++)
			if (strcmp(e->method, mname) == 0)
				fn = e->fn;
	if (!fn) {
		if (asprintf(&emsg, "unknown method %s for service %s", mname, r->desc->name) < 0)
			emsg = NULL;
		stream_finish(st, CTRBOX_UNIMPLEMENTED, emsg);
		free(emsg);
		return;
	}
	if (buf_avail(&st->in)) {
		stream_finish(st, CTRBOX_INTERNAL,
			      "grpc: request ended inside a message (truncated)");
		return;
	}
	if (st->nmsgs != 1) {
		stream_finish(st, CTRBOX_INTERNAL, "grpc: no request message");
		return;
	}
	struct ctrbox_grpc_call *c = calloc(1, sizeof(*c));
	if (!c) {
		stream_finish(st, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	c->srv = s;
	c->loop = s->loop;
	c->mdesc = md;
	c->method = strdup(path);
	c->req = protobuf_c_message_unpack(md->input, NULL, st->msglen, st->msg);
	if (!c->req || !c->method) {
		call_free(c);
		stream_finish(st, CTRBOX_INTERNAL,
			      "grpc: error unmarshalling request: proto: cannot parse invalid "
			      "wire-format data");
		return;
	}
	c->md = st->md;
	c->nmd = st->nmd;
	st->md = NULL;
	st->nmd = 0;
	c->deadline = st->deadline;
	c->st = st;
	st->call = c;
	if (c->deadline) {
		c->timer = ctrbox_loop_timer_at(s->loop, c->deadline, call_deadline_cb, c);
		if (!c->timer) {
			call_free(c);
			stream_finish(st, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
	}
	fn(c, c->req, r->data);
}

int ctrbox_grpc_call_send(struct ctrbox_grpc_call *c, const ProtobufCMessage *msg)
{
	struct stream *st = c->st;
	if (!st || !st->conn)
		return -EPIPE;
	int rc = frame_message(&st->out, msg, st->conn->srv->send_max);
	if (rc)
		return rc;
	if (!st->data_started)
		rc = submit_headers(st, 0, 0, NULL) ? -EIO : 0;
	else
		rc = resume(st->conn, st->id);
	conn_flush(st->conn);
	return rc;
}

static int call_end(struct ctrbox_grpc_call *c, int code, const char *msg)
{
	struct stream *st = c->st;
	int rc = 0;
	if (st && st->conn) {
		st->call = NULL;
		c->st = NULL;
		rc = stream_finish(st, code, msg);
	}
	call_free(c);
	return rc;
}

int ctrbox_grpc_call_reply(struct ctrbox_grpc_call *c, const ProtobufCMessage *resp)
{
	struct stream *st = c->st;
	if (st && st->conn) {
		int rc = frame_message(&st->out, resp, st->conn->srv->send_max);
		if (rc == -EMSGSIZE) {
			char *m = NULL;
			if (asprintf(&m,
				     "grpc: trying to send message larger than max (%zu vs. %zu)",
				     protobuf_c_message_get_packed_size(resp),
				     st->conn->srv->send_max) < 0)
				m = NULL;
			rc = call_end(c, CTRBOX_RESOURCE_EXHAUSTED, m);
			free(m);
			return rc;
		}
		if (rc)
			return call_end(c, CTRBOX_INTERNAL, "out of memory");
	}
	return call_end(c, CTRBOX_OK, "");
}

int ctrbox_grpc_call_finish(struct ctrbox_grpc_call *c, int code, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	int rc = call_end(c, code, msg ? msg : "");
	free(msg);
	return rc;
}

uint64_t ctrbox_grpc_call_deadline(const struct ctrbox_grpc_call *c)
{
	return c->deadline;
}

const char *ctrbox_grpc_call_metadata(const struct ctrbox_grpc_call *c, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < c->nmd; i++)
		if (strcmp(c->md[i].key, key) == 0)
			v = c->md[i].value;
	return v;
}

const char *ctrbox_grpc_call_method(const struct ctrbox_grpc_call *c)
{
	return c->method;
}

void ctrbox_grpc_call_on_cancel(struct ctrbox_grpc_call *c,
				void (*cb)(struct ctrbox_grpc_call *, void *), void *data)
{
	c->cancel = cb;
	c->cancel_data = data;
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *sess, const nghttp2_frame *f, void *ud)
{
	struct conn *cn = ud;
	if (!cn->server || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	st->conn = cn;
	st->id = f->hd.stream_id;
	CTRBOX_LIST_PUSH(cn->streams, st);
	nghttp2_session_set_stream_user_data(sess, st->id, st);
	return 0;
}

static void set_err(struct stream *st, int code, const char *msg)
{
	if (st->err_code)
		return;
	st->err_code = code;
	st->err_msg = strdup(msg);
}

static int on_header(nghttp2_session *sess, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	struct conn *cn = ud;
	struct stream *st = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id);
	(void)flags;
	if (!st)
		return 0;
#define IS(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, namelen) == 0)
	if (!cn->server) {
		if (IS(":status")) {
			st->http_status = atoi((const char *)value);
		} else if (IS("grpc-status")) {
			st->status = atoi((const char *)value);
			st->have_status = 1;
		} else if (IS("grpc-message")) {
			free(st->status_msg);
			st->status_msg = ctrbox_grpc_message_decode((const char *)value, valuelen);
		}
		return 0;
	}
	if (IS(":path")) {
		free(st->path);
		st->path = strndup((const char *)value, valuelen);
	} else if (IS(":method")) {
		st->is_post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
	} else if (IS("content-type")) {
		free(st->content_type);
		st->content_type = strndup((const char *)value, valuelen);
	} else if (IS("grpc-timeout")) {
		char tb[16];
		int64_t ms = -1;
		if (valuelen < sizeof(tb)) {
			memcpy(tb, value, valuelen);
			tb[valuelen] = 0;
			ms = ctrbox_grpc_timeout_parse(tb);
		}
		if (ms < 0)
			set_err(st, CTRBOX_INTERNAL, "transport: malformed grpc-timeout");
		else
			st->deadline = ctrbox_loop_now_ms() + (uint64_t)ms;
	} else if (name[0] != ':') {
		st->md_bytes += namelen + valuelen;
		if (st->md_bytes > MAX_MD_BYTES) {
			set_err(st, CTRBOX_RESOURCE_EXHAUSTED, "grpc: request metadata too large");
			return 0;
		}
		struct md *m = realloc(st->md, (st->nmd + 1) * sizeof(*m));
		if (!m)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		st->md = m;
		m[st->nmd].key = strndup((const char *)name, namelen);
		m[st->nmd].value = strndup((const char *)value, valuelen);
		st->nmd++;
	}
#undef IS
	return 0;
}

static int server_take(struct stream *st, const uint8_t *p, size_t len)
{
	int rc = take_request(st, p, len);
	if (rc && !st->err_code) {
		st->err_code = rc;
		if (!st->err_msg)
			st->err_msg = strdup("out of memory");
	}
	return rc;
}

static int client_take(struct stream *st, const uint8_t *p, size_t len)
{
	if (st->on_msg && st->on_msg(st->data, p, len)) {
		/* the caller cancelled from its callback */
		st->on_msg = NULL;
		st->on_done = NULL;
		if (!st->rst_sent && st->conn) {
			st->rst_sent = 1;
			nghttp2_submit_rst_stream(st->conn->sess, NGHTTP2_FLAG_NONE, st->id,
						  NGHTTP2_CANCEL);
		}
		return CTRBOX_CANCELED;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *sess, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct conn *cn = ud;
	struct stream *st = nghttp2_session_get_stream_user_data(sess, id);
	(void)flags;
	if (!st)
		return 0;
	if (cn->server) {
		if (st->err_code || st->out_done)
			return 0; /* answered already: drop the rest (windows still advance) */
		if (buf_append(&st->in, data, len) < 0) {
			set_err(st, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
			return 0;
		}
		char *emsg = NULL;
		int rc = deframe(st, cn->srv->recv_max, server_take, &emsg);
		if (rc) {
			if (emsg) {
				set_err(st, rc, emsg);
				free(emsg);
			}
			buf_free(&st->in);
			/* answer now: the client may still be sending a huge message */
			stream_finish(st, st->err_code, st->err_msg);
		}
		return 0;
	}
	if (st->have_status || !st->on_done)
		return 0;
	if (buf_append(&st->in, data, len) < 0) {
		client_stream_done(st, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		return 0;
	}
	char *emsg = NULL;
	int rc = deframe(st, cn->cli->recv_max, client_take, &emsg);
	if (rc && rc != CTRBOX_CANCELED) {
		client_stream_done(st, rc, emsg);
		if (!st->rst_sent) {
			st->rst_sent = 1;
			nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
		}
	}
	free(emsg);
	return 0;
}

static int on_frame_recv(nghttp2_session *sess, const nghttp2_frame *f, void *ud)
{
	struct conn *cn = ud;
	if (!cn->server)
		return 0;
	struct stream *st = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id);
	if (!st)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		if (!st->is_post || !st->path) {
			nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, st->id,
						  NGHTTP2_PROTOCOL_ERROR);
			st->out_done = 1;
			return 0;
		}
		if (!st->content_type || strncmp(st->content_type, "application/grpc", 16) != 0 ||
		    (st->content_type[16] && st->content_type[16] != '+' &&
		     st->content_type[16] != ';')) {
			/* not gRPC: plain HTTP 415, as the gRPC spec asks */
			nghttp2_nv nv = {(uint8_t *)":status", (uint8_t *)"415", 7, 3, 0};
			nghttp2_submit_response(sess, st->id, &nv, 1, NULL);
			st->out_done = 1;
			return 0;
		}
	}
	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM) && !st->out_done)
		server_dispatch(st);
	return 0;
}

/* After our final HEADERS (END_STREAM) went out on a stream whose request side is still open (an
 * early error such as an oversized message), reset it so the client stops sending. */
static int on_frame_send(nghttp2_session *sess, const nghttp2_frame *f, void *ud)
{
	struct conn *cn = ud;
	if (cn->server && f->hd.type == NGHTTP2_HEADERS &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
	    nghttp2_session_get_stream_remote_close(sess, f->hd.stream_id) == 0)
		nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, f->hd.stream_id,
					  NGHTTP2_NO_ERROR);
	return 0;
}

static void client_stream_done(struct stream *st, int code, const char *msg)
{
	ctrbox_grpc_done_cb done = st->on_done;
	st->on_done = NULL;
	st->on_msg = NULL;
	if (st->timer && st->conn) {
		ctrbox_loop_timer_cancel(st->conn->loop, st->timer);
		st->timer = NULL;
	}
	if (st->handle) {
		st->handle->st = NULL;
		free(st->handle);
		st->handle = NULL;
	}
	if (done)
		done(st->data, code, msg ? msg : "");
}

static int http_to_grpc(int status)
{
	switch (status) {
	case 400:
		return CTRBOX_INTERNAL;
	case 401:
		return CTRBOX_UNAUTHENTICATED;
	case 403:
		return CTRBOX_PERMISSION_DENIED;
	case 404:
		return CTRBOX_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return CTRBOX_UNAVAILABLE;
	}
	return CTRBOX_UNKNOWN;
}

static int on_stream_close(nghttp2_session *sess, int32_t id, uint32_t error_code, void *ud)
{
	struct conn *cn = ud;
	struct stream *st = nghttp2_session_get_stream_user_data(sess, id);
	if (!st)
		return 0;
	st->closed = 1;
	if (!cn->server && st->on_done) {
		char m[96];
		if (st->have_status) {
			client_stream_done(st, st->status, st->status_msg);
		} else if (st->http_status && st->http_status != 200) {
			snprintf(m, sizeof(m), "unexpected HTTP status code %d", st->http_status);
			client_stream_done(st, http_to_grpc(st->http_status), m);
		} else if (error_code == NGHTTP2_REFUSED_STREAM) {
			client_stream_done(st, CTRBOX_UNAVAILABLE,
					   "grpc: stream refused by the server");
		} else if (error_code == NGHTTP2_CANCEL && st->deadline &&
			   ctrbox_loop_now_ms() + DEADLINE_SLACK_MS >= st->deadline) {
			/* the server gave up at the deadline we sent (containerd 2.x does): ours,
			 * as grpc-go reports a call whose context ran out */
			client_stream_done(st, CTRBOX_DEADLINE_EXCEEDED,
					   "context deadline exceeded");
		} else if (error_code == NGHTTP2_CANCEL) {
			client_stream_done(st, CTRBOX_CANCELED,
					   "grpc: stream cancelled by the server");
		} else {
			snprintf(m, sizeof(m), "grpc: stream ended without status (%s)",
				 nghttp2_http2_strerror(error_code));
			client_stream_done(st, CTRBOX_INTERNAL, m);
		}
	}
	nghttp2_session_set_stream_user_data(sess, id, NULL);
	stream_free(st);
	return 0;
}

static nghttp2_session_callbacks *make_callbacks(void)
{
	nghttp2_session_callbacks *cbs;
	if (nghttp2_session_callbacks_new(&cbs))
		return NULL;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	return cbs;
}

static struct conn *conn_new(struct ctrbox_loop *l, int fd, int server)
{
	struct conn *cn = calloc(1, sizeof(*cn));
	nghttp2_session_callbacks *cbs = make_callbacks();
	nghttp2_option *opt = NULL;
	if (!cn || !cbs || nghttp2_option_new(&opt)) {
		free(cn);
		if (cbs)
			nghttp2_session_callbacks_del(cbs);
		return NULL;
	}
	/* grpc-go's server sends no MAX_CONCURRENT_STREAMS; ours is bounded for memory */
	nghttp2_option_set_peer_max_concurrent_streams(opt, 100);
	cn->loop = l;
	cn->fd = fd;
	cn->server = server;
	int rc = server ? nghttp2_session_server_new2(&cn->sess, cbs, cn, opt)
			: nghttp2_session_client_new2(&cn->sess, cbs, cn, opt);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	if (rc) {
		free(cn);
		return NULL;
	}
	nghttp2_settings_entry iv[3] = {
	    {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 16384},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, LOCAL_WINDOW},
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
	};
	if (nghttp2_submit_settings(cn->sess, NGHTTP2_FLAG_NONE, iv, server ? 3 : 2) ||
	    nghttp2_session_set_local_window_size(cn->sess, NGHTTP2_FLAG_NONE, 0,
						  4 * LOCAL_WINDOW) ||
	    ctrbox_loop_add(l, fd, EPOLLIN, conn_io, cn)) {
		nghttp2_session_del(cn->sess);
		free(cn);
		return NULL;
	}
	cn->events = EPOLLIN;
	return cn;
}

static void server_accept(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctrbox_grpc_server *s = data;
	(void)events;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				ctrbox_log_warn("grpc: accept: %s", strerror(errno));
			return;
		}
		if (ctrbox_grpc_server_adopt_fd(s, cfd) < 0) {
			ctrbox_log_error("grpc: cannot set up a connection");
			close(cfd);
		}
	}
}

int ctrbox_grpc_server_adopt_fd(struct ctrbox_grpc_server *s, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return -errno;
	struct conn *cn = conn_new(s->loop, fd, 1);
	if (!cn)
		return -ENOMEM;
	cn->srv = s;
	CTRBOX_LIST_PUSH(s->conns, cn);
	s->nconns++;
	conn_flush(cn); /* our SETTINGS first */
	return 0;
}

int ctrbox_grpc_server_new(struct ctrbox_loop *l, struct ctrbox_grpc_server **out)
{
	struct ctrbox_grpc_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->lfd = -1;
	s->recv_max = s->send_max = CTRBOX_GRPC_DEFAULT_MAX_MESSAGE;
	*out = s;
	return 0;
}

void ctrbox_grpc_server_free(struct ctrbox_grpc_server *s)
{
	if (!s)
		return;
	if (s->lfd >= 0) {
		ctrbox_loop_del(s->loop, s->lfd);
		close(s->lfd);
	}
	while (s->conns)
		conn_close(s->conns);
	while (s->svcs) {
		struct svc_reg *r = s->svcs;
		s->svcs = r->next;
		free(r);
	}
	free(s);
}

int ctrbox_grpc_server_register(struct ctrbox_grpc_server *s, const ProtobufCServiceDescriptor *svc,
				const struct ctrbox_grpc_method_entry *entries, void *data)
{
	struct svc_reg *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->desc = svc;
	r->entries = entries;
	r->data = data;
	r->next = s->svcs;
	s->svcs = r;
	return 0;
}

void ctrbox_grpc_server_set_max_message(struct ctrbox_grpc_server *s, size_t recv_max,
					size_t send_max)
{
	s->recv_max = recv_max;
	s->send_max = send_max;
}

int ctrbox_grpc_server_listen_fd(struct ctrbox_grpc_server *s, int fd)
{
	int rc = ctrbox_loop_add(s->loop, fd, EPOLLIN, server_accept, s);
	if (rc)
		return rc;
	s->lfd = fd;
	return 0;
}

unsigned ctrbox_grpc_server_connections(const struct ctrbox_grpc_server *s)
{
	return s->nconns;
}

/* ---- client ---- */

int ctrbox_grpc_client_connect(struct ctrbox_loop *l, const char *addr,
			       struct ctrbox_grpc_client **out)
{
	int fd = ctrbox_unix_connect(addr, 1);
	if (fd < 0)
		return fd;
	struct ctrbox_grpc_client *c = calloc(1, sizeof(*c));
	struct conn *cn = c ? conn_new(l, fd, 0) : NULL;
	if (!cn) {
		free(c);
		close(fd);
		return -ENOMEM;
	}
	c->loop = l;
	c->conn = cn;
	cn->cli = c;
	c->recv_max = c->send_max = CTRBOX_GRPC_DEFAULT_MAX_MESSAGE;
	conn_flush(cn);
	*out = c;
	return 0;
}

void ctrbox_grpc_client_free(struct ctrbox_grpc_client *c)
{
	if (!c)
		return;
	c->closing = 1;
	if (c->conn)
		conn_close(c->conn);
	free(c);
}

void ctrbox_grpc_client_set_max_message(struct ctrbox_grpc_client *c, size_t recv_max,
					size_t send_max)
{
	c->recv_max = recv_max;
	c->send_max = send_max;
}

static void client_deadline_cb(struct ctrbox_loop *l, void *data)
{
	struct stream *st = data;
	(void)l;
	st->timer = NULL;
	struct conn *cn = st->conn;
	client_stream_done(st, CTRBOX_DEADLINE_EXCEEDED, "context deadline exceeded");
	if (cn && !st->rst_sent && !st->closed) {
		st->rst_sent = 1;
		nghttp2_submit_rst_stream(cn->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
		conn_flush(cn);
	}
}

int ctrbox_grpc_client_start(struct ctrbox_grpc_client *c, const char *path,
			     const struct ctrbox_kv *md, size_t nmd, uint64_t timeout_ms,
			     ctrbox_grpc_msg_cb on_msg, ctrbox_grpc_done_cb on_done, void *data,
			     struct ctrbox_grpc_stream **out)
{
	struct conn *cn = c->conn;
	if (!cn || cn->dead)
		return -ENOTCONN;
	struct stream *st = calloc(1, sizeof(*st));
	struct ctrbox_grpc_stream *h = calloc(1, sizeof(*h));
	nghttp2_nv *nv = calloc(8 + nmd, sizeof(*nv));
	if (!st || !h || !nv) {
		free(st), free(h), free(nv);
		return -ENOMEM;
	}
	char tbuf[24];
	size_t n = 0;
#define NV(k, v)                                                                                   \
	nv[n++] = (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v),               \
			       NGHTTP2_NV_FLAG_NONE}
	NV(":method", "POST");
	NV(":scheme", "http");
	NV(":path", path);
	NV(":authority", "localhost");
	NV("content-type", "application/grpc");
	NV("user-agent", "ctrbox-grpc/" CTRBOX_VERSION);
	NV("te", "trailers");
	if (timeout_ms) {
		/* at most 8 digits: switch to seconds for long timeouts */
		if (timeout_ms < 100000000)
			snprintf(tbuf, sizeof(tbuf), "%llum", (unsigned long long)timeout_ms);
		else
			snprintf(tbuf, sizeof(tbuf), "%lluS",
				 (unsigned long long)((timeout_ms + 999) / 1000));
		NV("grpc-timeout", tbuf);
	}
	for (size_t i = 0; i < nmd; i++)
		NV(md[i].key, md[i].value);
#undef NV
	st->on_msg = on_msg;
	st->on_done = on_done;
	st->data = data;
	st->conn = cn;
	h->st = st;
	st->handle = h;
	nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read_cb};
	st->data_started = 1;
	int32_t id = nghttp2_submit_request(cn->sess, NULL, nv, n, &prd, st);
	free(nv);
	if (id < 0) {
		free(st), free(h);
		return id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE ? -EAGAIN : -EIO;
	}
	st->id = id;
	CTRBOX_LIST_PUSH(cn->streams, st);
	if (timeout_ms) {
		st->deadline = ctrbox_loop_now_ms() + timeout_ms;
		st->timer = ctrbox_loop_timer_in(c->loop, timeout_ms, client_deadline_cb, st);
		if (!st->timer)
			ctrbox_log_warn("grpc: no timer for the call deadline");
	}
	if (out)
		*out = h;
	conn_flush(cn);
	return 0;
}

static int stream_resume(struct stream *st)
{
	int rc = resume(st->conn, st->id);
	conn_flush(st->conn);
	return rc;
}

int ctrbox_grpc_stream_send(struct ctrbox_grpc_stream *h, const uint8_t *msg, size_t len)
{
	struct stream *st = h ? h->st : NULL;
	if (!st || !st->conn || st->out_done)
		return -EPIPE;
	if (len > st->conn->cli->send_max)
		return -EMSGSIZE;
	if (frame_raw(&st->out, msg, len))
		return -ENOMEM;
	return stream_resume(st);
}

int ctrbox_grpc_stream_send_framed(struct ctrbox_grpc_stream *h, const uint8_t *data, size_t len)
{
	struct stream *st = h ? h->st : NULL;
	if (!st || !st->conn || st->out_done)
		return -EPIPE;
	if (buf_append(&st->out, data, len))
		return -ENOMEM;
	return stream_resume(st);
}

int ctrbox_grpc_stream_send_msg(struct ctrbox_grpc_stream *h, const ProtobufCMessage *msg)
{
	struct stream *st = h ? h->st : NULL;
	if (!st || !st->conn || st->out_done)
		return -EPIPE;
	int rc = frame_message(&st->out, msg, st->conn->cli->send_max);
	return rc ? rc : stream_resume(st);
}

int ctrbox_grpc_stream_close_send(struct ctrbox_grpc_stream *h)
{
	struct stream *st = h ? h->st : NULL;
	if (!st || !st->conn)
		return -EPIPE;
	st->out_done = 1;
	return stream_resume(st);
}

void ctrbox_grpc_stream_cancel(struct ctrbox_grpc_stream *h)
{
	struct stream *st = h ? h->st : NULL;
	if (!st)
		return;
	st->on_done = NULL;
	st->on_msg = NULL;
	if (st->conn && !st->rst_sent && !st->closed) {
		st->rst_sent = 1;
		nghttp2_submit_rst_stream(st->conn->sess, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_CANCEL);
		conn_flush(st->conn);
	}
}

int ctrbox_grpc_client_call_raw(struct ctrbox_grpc_client *c, const char *path, const uint8_t *req,
				size_t len, const struct ctrbox_kv *md, size_t nmd,
				uint64_t timeout_ms, ctrbox_grpc_msg_cb on_msg,
				ctrbox_grpc_done_cb on_done, void *data)
{
	struct ctrbox_grpc_stream *h;
	int rc = ctrbox_grpc_client_start(c, path, md, nmd, timeout_ms, on_msg, on_done, data, &h);
	if (rc)
		return rc;
	struct stream *st = h->st;
	if (frame_raw(&st->out, req, len))
		return -ENOMEM;
	st->out_done = 1;
	return stream_resume(st);
}

struct sync_ctx {
	int done;
	int code;
	char *msg;
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *resp;
	ctrbox_grpc_msg_cb on_msg;
	void *msg_data;
	int bad;
};

static int sync_msg(void *data, const uint8_t *p, size_t len)
{
	struct sync_ctx *x = data;
	if (x->on_msg)
		return x->on_msg(x->msg_data, p, len);
	if (!x->desc)
		return 0;
	if (x->resp)
		protobuf_c_message_free_unpacked(x->resp, NULL);
	x->resp = protobuf_c_message_unpack(x->desc, NULL, len, p);
	if (!x->resp)
		x->bad = 1;
	return 0;
}

static void sync_done(void *data, int code, const char *msg)
{
	struct sync_ctx *x = data;
	x->done = 1;
	x->code = code;
	x->msg = msg && *msg ? strdup(msg) : NULL;
}

int ctrbox_grpc_client_call_sync(struct ctrbox_grpc_client *c, struct ctrbox_loop *l,
				 const char *path, const ProtobufCMessage *req,
				 const struct ctrbox_kv *md, size_t nmd, uint64_t timeout_ms,
				 const ProtobufCMessageDescriptor *out_desc,
				 ProtobufCMessage **resp, ctrbox_grpc_msg_cb on_msg, void *msg_data,
				 char **errmsg)
{
	struct sync_ctx x = {.desc = out_desc, .on_msg = on_msg, .msg_data = msg_data};
	struct ctrbox_grpc_stream *h;
	if (errmsg)
		*errmsg = NULL;
	if (resp)
		*resp = NULL;
	int rc =
	    ctrbox_grpc_client_start(c, path, md, nmd, timeout_ms, sync_msg, sync_done, &x, &h);
	if (rc)
		return rc;
	rc = ctrbox_grpc_stream_send_msg(h, req);
	if (!rc)
		rc = ctrbox_grpc_stream_close_send(h);
	if (rc) {
		ctrbox_grpc_stream_cancel(h);
		return rc;
	}
	while (!x.done) {
		rc = ctrbox_loop_run_until(l, &x.done, 0);
		if (rc < 0 && !x.done) {
			ctrbox_grpc_stream_cancel(h);
			if (x.resp)
				protobuf_c_message_free_unpacked(x.resp, NULL);
			return rc;
		}
	}
	if (x.code == CTRBOX_OK && x.bad) {
		x.code = CTRBOX_INTERNAL;
		free(x.msg);
		x.msg = strdup("grpc: failed to unmarshal the response");
	}
	if (x.code == CTRBOX_OK && out_desc && !x.resp && !x.bad) {
		x.code = CTRBOX_INTERNAL;
		x.msg = strdup("grpc: the server sent no response message");
	}
	if (x.code != CTRBOX_OK && x.resp) {
		protobuf_c_message_free_unpacked(x.resp, NULL);
		x.resp = NULL;
	}
	if (resp)
		*resp = x.resp;
	else if (x.resp)
		protobuf_c_message_free_unpacked(x.resp, NULL);
	if (errmsg)
		*errmsg = x.msg;
	else
		free(x.msg);
	return x.code;
}
