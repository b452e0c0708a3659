/* TTRPC server and client over unix sockets, driven by the epoll loop. */
#include <ctrbox/ttrpc.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/list.h"
#include "core/log_int.h"
#include "ttrpc_codec.h"
#include "ttrpc_int.h"
#include <ctrbox/util.h>

#define READ_CHUNK 16384 /* what one read(2) of a read callback takes */

/* The read callbacks' buffer, off the stack: 16 kB on the stack would push every handler they
 * call 16 kB deeper, onto stack pages a long-lived process keeps dirty from then on (4 pages of
 * each shim). One per thread; a read callback that runs while another is on the stack (a
 * handler that runs the loop) gets a buffer of its own. */
static __thread uint8_t read_buf[READ_CHUNK];
static __thread int read_buf_busy;

static uint8_t *read_buf_get(void)
{
	if (read_buf_busy)
		return malloc(READ_CHUNK);
	read_buf_busy = 1;
	return read_buf;
}

static void read_buf_put(uint8_t *b)
{
	if (b == read_buf)
		read_buf_busy = 0;
	else
		free(b);
}
#define MAX_CALLS_PER_CONN 1024
#define MAX_OUTBUF (64u << 20) /* a peer that stops reading is cut off past this */

/* ---- output buffer shared by both sides ---- */

struct outbuf {
	uint8_t *buf;
	size_t len, off;
};

static int outbuf_append(struct outbuf *o, const uint8_t *p, size_t n)
{
	if (o->off > 0 && o->off == o->len) {
		o->off = o->len = 0;
	}
	if (o->len - o->off + n > MAX_OUTBUF)
		return -ENOBUFS;
	uint8_t *nb = realloc(o->buf, o->len + n);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + o->len, p, n);
	o->buf = nb;
	o->len += n;
	return 0;
}

/* Returns 1 if everything was written, 0 if some is left, -errno on a broken peer. */
static int outbuf_flush(struct outbuf *o, int fd)
{
	while (o->off < o->len) {
		ssize_t w = send(fd, o->buf + o->off, o->len - o->off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		o->off += w;
	}
	free(o->buf);
	o->buf = NULL;
	o->off = o->len = 0;
	return 1;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- server ---- */

struct svc_reg {
	const char *name; /* what clients call: desc->name or another name for the same service */
	const ProtobufCServiceDescriptor *desc;
	const struct ctrbox_ttrpc_method *entries;
	void *data;
	void *owned; /* freed with the server */
	struct svc_reg *next;
};

struct conn;

struct ctrbox_ttrpc_call {
	struct ctrbox_ttrpc_server *srv;
	struct conn *conn; /* NULL once the peer is gone */
	uint32_t sid;
	int answered; /* a reply (or DeadlineExceeded) went out */
	char *method;
	struct ttrpc_request req;
	ProtobufCMessage *msg;
	uint64_t deadline;
	struct ctrbox_timer *timer;
	void (*cancel)(struct ctrbox_ttrpc_call *, void *);
	void *cancel_data;
	struct ctrbox_ttrpc_call *prev, *next;
};

struct conn {
	struct ctrbox_ttrpc_server *srv;
	int fd;
	int dead;
	struct ctrbox_timer *close_timer;
	struct ttrpc_reader rd;
	struct outbuf out;
	struct ctrbox_ttrpc_call *calls;
	unsigned ncalls;
	struct conn *prev, *next;
};

struct ctrbox_ttrpc_server {
	struct ctrbox_loop *loop;
	int lfd;
	struct svc_reg *svcs;
	struct conn *conns;
	unsigned nconns;
	struct ctrbox_ttrpc_call *current; /* call whose handler is running */
};

int ctrbox_ttrpc_server_new(struct ctrbox_loop *l, struct ctrbox_ttrpc_server **out)
{
	struct ctrbox_ttrpc_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->lfd = -1;
	*out = s;
	return 0;
}

unsigned ctrbox_ttrpc_server_connections(const struct ctrbox_ttrpc_server *s)
{
	return s->nconns;
}

static const struct svc_reg *find_service(struct ctrbox_ttrpc_server *s, const char *name);

int ttrpc_server_register_owned(struct ctrbox_ttrpc_server *s, const char *name,
				const ProtobufCServiceDescriptor *svc,
				const struct ctrbox_ttrpc_method *entries, void *data, void *owned)
{
	struct svc_reg *r;

	if (!name)
		name = svc->name;
	if (find_service(s, name))
		return -EEXIST;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = name;
	r->desc = svc;
	r->entries = entries;
	r->data = data;
	r->owned = owned;
	r->next = s->svcs;
	s->svcs = r;
	return 0;
}

int ctrbox_ttrpc_server_register(struct ctrbox_ttrpc_server *s,
				 const ProtobufCServiceDescriptor *svc,
				 const struct ctrbox_ttrpc_method *entries, void *data)
{
	return ttrpc_server_register_owned(s, NULL, svc, entries, data, NULL);
}

static void call_unlink(struct ctrbox_ttrpc_call *c)
{
	struct conn *cn = c->conn;
	if (!cn)
		return;
	CTRBOX_LIST_UNLINK(cn->calls, c);
	cn->ncalls--;
	c->conn = NULL;
}

static void call_free(struct ctrbox_ttrpc_call *c)
{
	if (c->srv->current == c)
		c->srv->current = NULL;
	call_unlink(c);
	if (c->timer)
		ctrbox_loop_timer_cancel(c->srv->loop, c->timer);
	if (c->msg)
		protobuf_c_message_free_unpacked(c->msg, NULL);
	ttrpc_request_free(&c->req);
	free(c->method);
	free(c);
}

static void conn_close(struct conn *cn);

static void conn_close_cb(struct ctrbox_loop *l, void *data)
{
	struct conn *cn = data;
	(void)l;
	cn->close_timer = NULL;
	conn_close(cn);
}

/* Marks a connection broken; it is closed from the loop, never under a caller's feet. */
static void conn_fail(struct conn *cn)
{
	cn->dead = 1;
	if (!cn->close_timer)
		cn->close_timer = ctrbox_loop_timer_in(cn->srv->loop, 0, conn_close_cb, cn);
}

static void conn_io_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data);

static void conn_send(struct conn *cn, uint8_t *frame, size_t len)
{
	int r;

	if (cn->dead)
		goto out;
	r = outbuf_append(&cn->out, frame, len);
	if (r < 0) {
		ctrbox_log_warn("ttrpc: dropping connection: %s", strerror(-r));
		conn_fail(cn);
		goto out;
	}
	r = outbuf_flush(&cn->out, cn->fd);
	if (r < 0)
		conn_fail(cn);
	else if (r == 0)
		ctrbox_loop_mod(cn->srv->loop, cn->fd, EPOLLIN | EPOLLOUT);
out:
	free(frame);
}

static void send_status(struct conn *cn, uint32_t sid, int code, const char *msg)
{
	uint8_t *frame;
	size_t len;

	if (ttrpc_frame_response(sid, code, msg, NULL, 0, &frame, &len) == 0)
		conn_send(cn, frame, len);
}

static int call_send(struct ctrbox_ttrpc_call *c, int code, const char *msg, const uint8_t *payload,
		     size_t plen)
{
	uint8_t *frame;
	size_t len;
	int r = 0;

	if (c->conn && !c->answered) {
		r = ttrpc_frame_response(c->sid, code, msg, payload, plen, &frame, &len);
		if (r == 0)
			conn_send(c->conn, frame, len);
	}
	c->answered = 1;
	return r;
}

int ctrbox_ttrpc_call_reply(struct ctrbox_ttrpc_call *c, const ProtobufCMessage *resp)
{
	uint8_t stackbuf[512], *buf = stackbuf;
	size_t len = resp ? protobuf_c_message_get_packed_size(resp) : 0;
	int r;

	if (len > TTRPC_MAX_MSG) {
		r = call_send(c, CTRBOX_RESOURCE_EXHAUSTED, "response exceeds maximum message size",
			      NULL, 0);
		call_free(c);
		return r;
	}
	if (len > sizeof(stackbuf) && !(buf = malloc(len))) {
		r = call_send(c, CTRBOX_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
		call_free(c);
		return -ENOMEM;
	}
	if (resp)
		protobuf_c_message_pack(resp, buf);
	r = call_send(c, CTRBOX_OK, NULL, len ? buf : NULL, len);
	if (buf != stackbuf)
		free(buf);
	call_free(c);
	return r;
}

int ctrbox_ttrpc_call_error(struct ctrbox_ttrpc_call *c, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r = call_send(c, code == CTRBOX_OK ? CTRBOX_UNKNOWN : code, msg, NULL, 0);
	call_free(c);
	return r;
}

uint64_t ctrbox_ttrpc_call_deadline(const struct ctrbox_ttrpc_call *c)
{
	return c->deadline;
}

const char *ctrbox_ttrpc_call_metadata(const struct ctrbox_ttrpc_call *c, const char *key)
{
	return ttrpc_request_metadata(&c->req, key);
}

const char *ctrbox_ttrpc_call_method(const struct ctrbox_ttrpc_call *c)
{
	return c->method;
}

void ctrbox_ttrpc_call_on_cancel(struct ctrbox_ttrpc_call *c,
				 void (*cb)(struct ctrbox_ttrpc_call *, void *), void *data)
{
	c->cancel = cb;
	c->cancel_data = data;
}

/* The call ends without a handler reply: tell the handler, then free it. Without a cancel
 * callback the handler still holds the call, so it stays (answered) until it replies. */
static void call_abandon(struct ctrbox_ttrpc_call *c)
{
	if (c->cancel) {
		void (*cb)(struct ctrbox_ttrpc_call *, void *) = c->cancel;
		c->cancel = NULL;
		cb(c, c->cancel_data);
		call_free(c);
	}
}

static void call_deadline_cb(struct ctrbox_loop *l, void *data)
{
	struct ctrbox_ttrpc_call *c = data;
	(void)l;
	c->timer = NULL;
	call_send(c, CTRBOX_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0);
	call_abandon(c);
}

static const struct svc_reg *find_service(struct ctrbox_ttrpc_server *s, const char *name)
{
	for (struct svc_reg *r = s->svcs; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static ctrbox_ttrpc_handler find_handler(const struct svc_reg *r, const char *method)
{
	for (const struct ctrbox_ttrpc_method *e = r->entries; e && e->method; e++)
		if (strcmp(e->method, method) == 0)
			return e->fn;
	return NULL;
}

static void dispatch(struct conn *cn, uint32_t sid, struct ttrpc_request *req)
{
	struct ctrbox_ttrpc_server *s = cn->srv;
	const struct svc_reg *reg = find_service(s, req->service);
	const ProtobufCMethodDescriptor *md;
	struct ctrbox_ttrpc_call *c;
	ctrbox_ttrpc_handler fn;

	if (!reg) {
		char msg[300];
		snprintf(msg, sizeof(msg), "service %s", req->service);
		send_status(cn, sid, CTRBOX_UNIMPLEMENTED, msg);
		goto out;
	}
	md = protobuf_c_service_descriptor_get_method_by_name(reg->desc, req->method);
	fn = md ? find_handler(reg, req->method) : NULL;
	if (!fn) {
		char msg[300];
		snprintf(msg, sizeof(msg), "method %s", req->method);
		send_status(cn, sid, CTRBOX_UNIMPLEMENTED, msg);
		goto out;
	}
	if (cn->ncalls >= MAX_CALLS_PER_CONN) {
		send_status(cn, sid, CTRBOX_RESOURCE_EXHAUSTED, "too many requests in flight");
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->method = strdup(req->method))) {
		free(c);
		send_status(cn, sid, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	c->msg = protobuf_c_message_unpack(md->input, NULL, req->plen, req->payload);
	if (!c->msg) {
		free(c->method);
		free(c);
		send_status(cn, sid, CTRBOX_INTERNAL,
			    "ttrpc: error unmarshalling payload: invalid protobuf encoding");
		goto out;
	}
	c->srv = s;
	c->sid = sid;
	c->req = *req; /* the call now owns the decoded request */
	memset(req, 0, sizeof(*req));
	c->conn = cn;
	CTRBOX_LIST_PUSH(cn->calls, c);
	cn->ncalls++;
	if (c->req.timeout_nano > 0)
		c->deadline =
		    ctrbox_loop_now_ms() + (uint64_t)(c->req.timeout_nano + 999999) / 1000000;
	s->current = c;
	fn(c, c->msg, reg->data);
	if (s->current == c) { /* still pending: the handler answers later */
		s->current = NULL;
		if (c->deadline)
			c->timer = ctrbox_loop_timer_at(s->loop, c->deadline, call_deadline_cb, c);
	}
out:
	ttrpc_request_free(req);
}

static int server_frame_cb(void *ctx, const struct ttrpc_hdr *h, const uint8_t *payload,
			   int oversize)
{
	struct conn *cn = ctx;
	struct ttrpc_request req;
	char msg[128];

	if (h->type != TTRPC_TYPE_REQUEST) {
		ctrbox_log_debug("ttrpc: ignoring frame of type %u on stream %u", h->type,
				 h->stream_id);
		return cn->dead;
	}
	if (oversize) {
		snprintf(msg, sizeof(msg), "message length %u exceed maximum message size of %u",
			 h->length, TTRPC_MAX_MSG);
		send_status(cn, h->stream_id, CTRBOX_RESOURCE_EXHAUSTED, msg);
		return cn->dead;
	}
	if (h->stream_id % 2 == 0) {
		send_status(cn, h->stream_id, CTRBOX_INVALID_ARGUMENT,
			    "StreamID must be odd for client initiated streams");
		return cn->dead;
	}
	if (ttrpc_request_decode(payload, h->length, &req) < 0) {
		send_status(cn, h->stream_id, CTRBOX_INVALID_ARGUMENT,
			    "unmarshal request error: invalid protobuf encoding");
		return cn->dead;
	}
	dispatch(cn, h->stream_id, &req);
	return cn->dead;
}

static void conn_close(struct conn *cn)
{
	struct ctrbox_ttrpc_server *s = cn->srv;

	if (cn->close_timer)
		ctrbox_loop_timer_cancel(s->loop, cn->close_timer);
	ctrbox_loop_del(s->loop, cn->fd);
	close(cn->fd);
	while (cn->calls) {
		struct ctrbox_ttrpc_call *c = cn->calls;
		call_unlink(c);
		if (c->timer) {
			ctrbox_loop_timer_cancel(s->loop, c->timer);
			c->timer = NULL;
		}
		call_abandon(c);
	}
	CTRBOX_LIST_UNLINK(s->conns, cn);
	s->nconns--;
	ttrpc_reader_reset(&cn->rd);
	free(cn->out.buf);
	free(cn);
}

static void conn_io_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct conn *cn = data;
	uint8_t *buf = NULL;

	if (events & EPOLLOUT) {
		int r = outbuf_flush(&cn->out, fd);
		if (r < 0)
			cn->dead = 1;
		else if (r == 1)
			ctrbox_loop_mod(l, fd, EPOLLIN);
	}
	if (!cn->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !(buf = read_buf_get())) {
		ctrbox_log_warn("ttrpc: out of memory reading a frame, closing connection");
		cn->dead = 1;
	}
	/* A bounded number of reads per wake-up keeps one busy peer from starving the others. */
	for (int i = 0; i < 16 && !cn->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)); i++) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (!ttrpc_reader_idle(&cn->rd))
				ctrbox_log_warn(
				    "ttrpc: connection closed inside a frame (truncated "
				    "frame, %zu of %u payload bytes)",
				    cn->rd.got, cn->rd.hdr.length);
			cn->dead = 1;
			break;
		}
		if (ttrpc_reader_feed(&cn->rd, buf, n, server_frame_cb, cn) < 0) {
			ctrbox_log_warn("ttrpc: out of memory reading a frame, closing connection");
			cn->dead = 1;
		}
	}
	if (buf)
		read_buf_put(buf);
	if (cn->dead)
		conn_close(cn);
}

static int peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		ctrbox_log_warn("ttrpc: cannot read peer credentials: %s", strerror(errno));
		return 0;
	}
	if (cred.uid != geteuid() || cred.gid != getegid()) {
		ctrbox_log_warn(
		    "ttrpc: refusing connection from pid %d uid %u gid %u (want uid %u gid %u)",
		    cred.pid, cred.uid, cred.gid, geteuid(), getegid());
		return 0;
	}
	return 1;
}

static void accept_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctrbox_ttrpc_server *s = data;
	(void)events;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *cn;

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				ctrbox_log_warn("ttrpc: accept: %s", strerror(errno));
			return;
		}
		if (!peer_allowed(cfd)) {
			close(cfd);
			continue;
		}
		cn = calloc(1, sizeof(*cn));
		if (!cn || ctrbox_loop_add(l, cfd, EPOLLIN, conn_io_cb, cn) < 0) {
			ctrbox_log_warn("ttrpc: cannot serve a new connection");
			free(cn);
			close(cfd);
			continue;
		}
		cn->srv = s;
		cn->fd = cfd;
		ttrpc_reader_init(&cn->rd, TTRPC_MAX_MSG);
		CTRBOX_LIST_PUSH(s->conns, cn);
		s->nconns++;
	}
}

int ctrbox_ttrpc_server_listen_fd(struct ctrbox_ttrpc_server *s, int fd)
{
	int r;

	set_nonblock(fd);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	r = ctrbox_loop_add(s->loop, fd, EPOLLIN, accept_cb, s);
	if (r < 0)
		return r;
	s->lfd = fd;
	return 0;
}

void ctrbox_ttrpc_server_stop_listening(struct ctrbox_ttrpc_server *s)
{
	if (s->lfd >= 0) {
		ctrbox_loop_del(s->loop, s->lfd);
		close(s->lfd);
		s->lfd = -1;
	}
}

static int conn_has_output(const struct conn *cn)
{
	return !cn->dead && cn->out.off < cn->out.len;
}

unsigned ttrpc_server_flush(struct ctrbox_ttrpc_server *s, uint64_t timeout_ms)
{
	uint64_t deadline = ctrbox_loop_now_ms() + timeout_ms, now;
	struct pollfd *pfd = s->nconns ? calloc(s->nconns, sizeof(*pfd)) : NULL;
	struct conn **who = s->nconns ? calloc(s->nconns, sizeof(*who)) : NULL;
	unsigned n = 0;

	for (;;) {
		n = 0;
		for (struct conn *cn = s->conns; cn; cn = cn->next) {
			if (!conn_has_output(cn))
				continue;
			if (pfd && who && n < s->nconns) {
				pfd[n] = (struct pollfd){.fd = cn->fd, .events = POLLOUT};
				who[n] = cn;
			}
			n++;
		}
		now = ctrbox_loop_now_ms();
		if (n == 0 || !pfd || !who || n > s->nconns || now >= deadline)
			break;
		int r = poll(pfd, n, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			break;
		/* POLLERR/POLLHUP too: the send fails and the connection is given up */
		for (unsigned i = 0; r > 0 && i < n; i++)
			if (pfd[i].revents && outbuf_flush(&who[i]->out, who[i]->fd) < 0)
				who[i]->dead = 1;
	}
	free(pfd);
	free(who);
	return n;
}

void ctrbox_ttrpc_server_free(struct ctrbox_ttrpc_server *s)
{
	if (!s)
		return;
	ctrbox_ttrpc_server_stop_listening(s);
	while (s->conns)
		conn_close(s->conns);
	while (s->svcs) {
		struct svc_reg *r = s->svcs;
		s->svcs = r->next;
		free(r->owned);
		free(r);
	}
	free(s);
}

/* ---- client ---- */

struct pending {
	struct ctrbox_ttrpc_client *c;
	uint32_t sid;
	ctrbox_ttrpc_reply_cb cb;
	void *data;
	struct ctrbox_timer *timer;
	struct pending *next;
};

struct ctrbox_ttrpc_client {
	struct ctrbox_loop *loop;
	int fd;
	int dead;
	int busy; /* inside a callback: freeing is deferred */
	int free_requested;
	uint32_t next_sid;
	struct ttrpc_reader rd;
	struct outbuf out;
	struct pending *pending;
	void (*on_close)(struct ctrbox_ttrpc_client *, void *);
	void *close_data;
};

static void client_release(struct ctrbox_ttrpc_client *c)
{
	ttrpc_reader_reset(&c->rd);
	free(c->out.buf);
	free(c);
}

static void pending_finish(struct pending *p, int code, const char *msg, const uint8_t *payload,
			   size_t plen)
{
	if (p->timer)
		ctrbox_loop_timer_cancel(p->c->loop, p->timer);
	p->cb(p->data, code, msg, payload, plen);
	free(p);
}

static struct pending *pending_take(struct ctrbox_ttrpc_client *c, uint32_t sid)
{
	for (struct pending **pp = &c->pending; *pp; pp = &(*pp)->next) {
		if ((*pp)->sid == sid) {
			struct pending *p = *pp;
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void fail_all(struct ctrbox_ttrpc_client *c, int code, const char *msg)
{
	while (c->pending) {
		struct pending *p = c->pending;
		c->pending = p->next;
		pending_finish(p, code, msg, NULL, 0);
	}
}

static void client_break(struct ctrbox_ttrpc_client *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	ctrbox_loop_del(c->loop, c->fd);
	fail_all(c, CTRBOX_UNAVAILABLE, "ttrpc: closed");
	if (c->on_close)
		c->on_close(c, c->close_data);
}

static int client_frame_cb(void *ctx, const struct ttrpc_hdr *h, const uint8_t *payload,
			   int oversize)
{
	struct ctrbox_ttrpc_client *c = ctx;
	struct ttrpc_response resp;
	struct pending *p;

	if (h->type != TTRPC_TYPE_RESPONSE) {
		ctrbox_log_debug("ttrpc client: ignoring frame of type %u", h->type);
		return c->free_requested;
	}
	p = pending_take(c, h->stream_id);
	if (!p) {
		ctrbox_log_debug("ttrpc client: response for unknown stream %u", h->stream_id);
		return c->free_requested;
	}
	if (oversize) {
		pending_finish(p, CTRBOX_RESOURCE_EXHAUSTED,
			       "response exceeds maximum message size", NULL, 0);
	} else if (ttrpc_response_decode(payload, h->length, &resp) < 0) {
		pending_finish(p, CTRBOX_INTERNAL, "ttrpc: cannot decode response", NULL, 0);
	} else {
		pending_finish(p, resp.code, resp.message, resp.payload, resp.plen);
		ttrpc_response_free(&resp);
	}
	return c->free_requested;
}

static void client_io_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctrbox_ttrpc_client *c = data;
	uint8_t *buf = NULL;

	c->busy++;
	if (events & EPOLLOUT) {
		int r = outbuf_flush(&c->out, fd);
		if (r < 0)
			client_break(c);
		else if (r == 1)
			ctrbox_loop_mod(l, fd, EPOLLIN);
	}
	if (!c->dead && !c->free_requested && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    !(buf = read_buf_get()))
		client_break(c);
	while (!c->dead && !c->free_requested && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0 || ttrpc_reader_feed(&c->rd, buf, n, client_frame_cb, c) < 0) {
			client_break(c);
			break;
		}
	}
	if (buf)
		read_buf_put(buf);
	if (--c->busy == 0 && c->free_requested)
		ctrbox_ttrpc_client_free(c);
}

int ctrbox_ttrpc_client_connect(struct ctrbox_loop *l, const char *addr,
				struct ctrbox_ttrpc_client **out)
{
	struct ctrbox_ttrpc_client *c;
	int fd = ctrbox_unix_connect(addr, 1), r;

	if (fd < 0)
		return fd;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	set_nonblock(fd);
	c->loop = l;
	c->fd = fd;
	c->next_sid = 1;
	ttrpc_reader_init(&c->rd, TTRPC_MAX_MSG);
	r = ctrbox_loop_add(l, fd, EPOLLIN, client_io_cb, c);
	if (r < 0) {
		close(fd);
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void ctrbox_ttrpc_client_on_close(struct ctrbox_ttrpc_client *c,
				  void (*cb)(struct ctrbox_ttrpc_client *, void *), void *data)
{
	c->on_close = cb;
	c->close_data = data;
}

void ctrbox_ttrpc_client_free(struct ctrbox_ttrpc_client *c)
{
	if (!c)
		return;
	c->on_close = NULL;
	if (!c->dead) {
		c->dead = 1;
		ctrbox_loop_del(c->loop, c->fd);
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->busy) { /* inside one of our callbacks: finish there */
		c->free_requested = 1;
		return;
	}
	c->busy++;
	fail_all(c, CTRBOX_UNAVAILABLE, "ttrpc: closed");
	client_release(c);
}

static void call_timeout_cb(struct ctrbox_loop *l, void *data)
{
	struct pending *p = data;
	struct ctrbox_ttrpc_client *c = p->c;
	(void)l;
	p->timer = NULL;
	pending_take(c, p->sid);
	c->busy++;
	pending_finish(p, CTRBOX_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0);
	if (--c->busy == 0 && c->free_requested)
		ctrbox_ttrpc_client_free(c);
}

int ctrbox_ttrpc_client_call_raw(struct ctrbox_ttrpc_client *c, const char *service,
				 const char *method, const uint8_t *payload, size_t plen,
				 uint64_t timeout_ms, const struct ctrbox_kv *md, size_t nmd,
				 ctrbox_ttrpc_reply_cb cb, void *data)
{
	struct pending *p;
	uint8_t *frame;
	size_t len;
	int r;

	if (c->dead)
		return -ENOTCONN;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = ttrpc_frame_request(c->next_sid, service, method, payload, plen,
				(int64_t)timeout_ms * 1000000, md, nmd, &frame, &len);
	if (r < 0) {
		free(p);
		return r;
	}
	r = outbuf_append(&c->out, frame, len);
	free(frame);
	if (r < 0) {
		free(p);
		return r;
	}
	p->c = c;
	p->sid = c->next_sid;
	p->cb = cb;
	p->data = data;
	c->next_sid += 2;
	if (timeout_ms &&
	    !(p->timer = ctrbox_loop_timer_in(c->loop, timeout_ms, call_timeout_cb, p))) {
		free(p);
		return -ENOMEM;
	}
	p->next = c->pending;
	c->pending = p;
	r = outbuf_flush(&c->out, c->fd);
	if (r == 0)
		ctrbox_loop_mod(c->loop, c->fd, EPOLLIN | EPOLLOUT);
	/* A broken peer is reported through the read side (EPOLLHUP), not here. */
	return 0;
}

int ctrbox_ttrpc_client_call(struct ctrbox_ttrpc_client *c, const char *service, const char *method,
			     const ProtobufCMessage *req, uint64_t timeout_ms,
			     const struct ctrbox_kv *md, size_t nmd, ctrbox_ttrpc_reply_cb cb,
			     void *data)
{
	uint8_t stackbuf[512], *buf = stackbuf;
	size_t len = req ? protobuf_c_message_get_packed_size(req) : 0;
	int r;

	if (len > sizeof(stackbuf) && !(buf = malloc(len)))
		return -ENOMEM;
	if (req)
		protobuf_c_message_pack(req, buf);
	r = ctrbox_ttrpc_client_call_raw(c, service, method, len ? buf : NULL, len, timeout_ms, md,
					 nmd, cb, data);
	if (buf != stackbuf)
		free(buf);
	return r;
}

struct sync_result {
	int done;
	int code;
	char *message;
	uint8_t *payload;
	size_t plen;
};

static void sync_cb(void *data, int code, const char *message, const uint8_t *payload, size_t plen)
{
	struct sync_result *sr = data;

	sr->done = 1;
	sr->code = code;
	sr->message = message ? strdup(message) : NULL;
	if (code == CTRBOX_OK && plen > 0 && (sr->payload = malloc(plen))) {
		memcpy(sr->payload, payload, plen);
		sr->plen = plen;
	}
}

int ctrbox_ttrpc_client_call_sync(struct ctrbox_ttrpc_client *c, struct ctrbox_loop *l,
				  const char *service, const char *method,
				  const ProtobufCMessage *req,
				  const ProtobufCMessageDescriptor *out_desc, uint64_t timeout_ms,
				  ProtobufCMessage **resp, char **errmsg)
{
	struct sync_result sr = {0};
	int r =
	    ctrbox_ttrpc_client_call(c, service, method, req, timeout_ms, NULL, 0, sync_cb, &sr);

	*resp = NULL;
	if (errmsg)
		*errmsg = NULL;
	if (r < 0)
		return r;
	r = ctrbox_loop_run_until(l, &sr.done, 0);
	if (r < 0)
		return r;
	if (sr.code == CTRBOX_OK && out_desc) {
		*resp = protobuf_c_message_unpack(out_desc, NULL, sr.plen, sr.payload);
		if (!*resp) {
			sr.code = CTRBOX_INTERNAL;
			free(sr.message);
			sr.message = strdup("cannot decode response payload");
		}
	}
	if (errmsg)
		*errmsg = sr.message;
	else
		free(sr.message);
	free(sr.payload);
	return sr.code;
}
