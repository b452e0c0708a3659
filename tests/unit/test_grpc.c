/* gRPC library tests: I/O-free helpers, then a server and a client sharing one loop over a unix
 * socket, with the snapshots service as the test service. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ctrbox/grpc.h>
#include <ctrbox/loop.h>
#include "snapshots/v1/snapshots.pb-c.h"
#include "unit.h"

#define SVC "/containerd.services.snapshots.v1.Snapshots/"
#define SVC_NAME "containerd.services.snapshots.v1.Snapshots"

typedef Containerd__Services__Snapshots__V1__StatSnapshotRequest StatReq;
typedef Containerd__Services__Snapshots__V1__StatSnapshotResponse StatResp;
typedef Containerd__Services__Snapshots__V1__Info Info;
typedef Containerd__Services__Snapshots__V1__Info__LabelsEntry LabelsEntry;
typedef Containerd__Services__Snapshots__V1__ListSnapshotsRequest ListReq;
typedef Containerd__Services__Snapshots__V1__ListSnapshotsResponse ListResp;

void test_grpc_timeout_parse(void)
{
	CHECK(ctrbox_grpc_timeout_parse("100m") == 100);
	CHECK(ctrbox_grpc_timeout_parse("5S") == 5000);
	CHECK(ctrbox_grpc_timeout_parse("1H") == 3600000);
	CHECK(ctrbox_grpc_timeout_parse("2M") == 120000);
	CHECK(ctrbox_grpc_timeout_parse("1500u") == 2);
	CHECK(ctrbox_grpc_timeout_parse("1000u") == 1);
	CHECK(ctrbox_grpc_timeout_parse("1n") == 1);
	CHECK(ctrbox_grpc_timeout_parse("0m") == 0);
	CHECK(ctrbox_grpc_timeout_parse("99999999S") == 99999999000LL);
	CHECK(ctrbox_grpc_timeout_parse("") == -1);
	CHECK(ctrbox_grpc_timeout_parse("m") == -1);
	CHECK(ctrbox_grpc_timeout_parse("123") == -1);
	CHECK(ctrbox_grpc_timeout_parse("12x") == -1);
	CHECK(ctrbox_grpc_timeout_parse("123456789S") == -1);
	CHECK(ctrbox_grpc_timeout_parse("-1m") == -1);
	CHECK(ctrbox_grpc_timeout_parse(" 1m") == -1);
	CHECK(ctrbox_grpc_timeout_parse(NULL) == -1);
}

void test_grpc_message_codec(void)
{
	const char *plain = "a%b\nc \xc3\xa9";
	char *enc = ctrbox_grpc_message_encode(plain);
	CHECK_STR(enc, "a%25b%0Ac %C3%A9");
	char *dec = enc ? ctrbox_grpc_message_decode(enc, strlen(enc)) : NULL;
	CHECK_STR(dec, plain);
	free(enc);
	free(dec);

	enc = ctrbox_grpc_message_encode("");
	CHECK_STR(enc, "");
	free(enc);
	enc = ctrbox_grpc_message_encode("plain ASCII ~!");
	CHECK_STR(enc, "plain ASCII ~!");
	free(enc);

	dec = ctrbox_grpc_message_decode("%zz", 3);
	CHECK_STR(dec, "%zz");
	free(dec);
	dec = ctrbox_grpc_message_decode("ab%4", 4);
	CHECK_STR(dec, "ab%4");
	free(dec);
	dec = ctrbox_grpc_message_decode("%", 1);
	CHECK_STR(dec, "%");
	free(dec);
	dec = ctrbox_grpc_message_decode("%41%g1%4a", 9);
	CHECK_STR(dec, "A%g1J");
	free(dec);
	/* len bounds the input: the escape past it is not read */
	dec = ctrbox_grpc_message_decode("x%41", 2);
	CHECK_STR(dec, "x%");
	free(dec);
}

/* ---- fixture: server + client on one loop ---- */

enum { MODE_REPLY, MODE_HOLD, MODE_ASYNC, MODE_HOLD_NOCANCEL };

struct gt {
	struct ctrbox_loop *l;
	struct ctrbox_grpc_server *s;
	int mode;
	int calls;		       /* handler invocations */
	char ns[64];		       /* containerd-namespace seen by the last Stat */
	char method[128];	       /* ctrbox_grpc_call_method of the last Stat */
	size_t big;		       /* label value size of Stat replies (0: "v") */
	struct ctrbox_grpc_call *held; /* MODE_HOLD / MODE_ASYNC */
	char held_key[64];
	int got;       /* the handler holds a call */
	int cancelled; /* cancel callbacks run */
	int replied;   /* async replies sent */
};

struct fx {
	char dir[64];
	char path[128];
	struct ctrbox_loop *l;
	struct ctrbox_grpc_server *s;
	struct ctrbox_grpc_client *c;
	struct gt gt;
	int ok;
};

static int stat_reply(struct ctrbox_grpc_call *call, const char *key, size_t big)
{
	StatResp resp = CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_RESPONSE__INIT;
	Info info = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__INIT;
	LabelsEntry le = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__LABELS_ENTRY__INIT;
	LabelsEntry *lp = &le;
	char *bigv = NULL;

	info.name = (char *)key;
	info.parent = "parent";
	info.kind = CONTAINERD__SERVICES__SNAPSHOTS__V1__KIND__COMMITTED;
	le.key = "k";
	le.value = "v";
	if (big) {
		bigv = malloc(big + 1);
		if (!bigv)
			return -ENOMEM;
		for (size_t i = 0; i < big; i++)
			bigv[i] = (char)('a' + i % 26);
		bigv[big] = 0;
		le.value = bigv;
	}
	info.n_labels = 1;
	info.labels = &lp;
	resp.info = &info;
	int rc = ctrbox_grpc_call_reply(call, &resp.base);
	free(bigv);
	return rc;
}

static void on_cancel(struct ctrbox_grpc_call *call, void *data)
{
	struct gt *g = data;
	if (g->held == call)
		g->held = NULL;
	g->cancelled++;
}

static void async_reply_cb(struct ctrbox_loop *l, void *data)
{
	struct gt *g = data;
	(void)l;
	if (!g->held)
		return;
	struct ctrbox_grpc_call *call = g->held;
	g->held = NULL;
	CHECK(stat_reply(call, g->held_key, 0) == 0);
	g->replied++;
}

static void h_stat(struct ctrbox_grpc_call *call, const ProtobufCMessage *m, void *data)
{
	struct gt *g = data;
	const StatReq *req = (const StatReq *)m;
	const char *ns = ctrbox_grpc_call_metadata(call, "containerd-namespace");

	g->calls++;
	snprintf(g->ns, sizeof(g->ns), "%s", ns ? ns : "(none)");
	snprintf(g->method, sizeof(g->method), "%s", ctrbox_grpc_call_method(call));
	if (g->mode != MODE_REPLY) {
		g->held = call;
		g->got = 1;
		snprintf(g->held_key, sizeof(g->held_key), "%s", req->key);
		if (g->mode != MODE_HOLD_NOCANCEL)
			ctrbox_grpc_call_on_cancel(call, on_cancel, g);
		if (g->mode == MODE_ASYNC)
			CHECK(ctrbox_loop_timer_in(g->l, 50, async_reply_cb, g) != NULL);
		return;
	}
	if (strncmp(req->key, "nf", 2) == 0) {
		CHECK(ctrbox_grpc_call_finish(call, CTRBOX_NOT_FOUND, "snapshot %s: not found",
					      req->key) == 0);
		return;
	}
	CHECK(stat_reply(call, req->key, g->big) == 0);
}

static void h_list(struct ctrbox_grpc_call *call, const ProtobufCMessage *m, void *data)
{
	struct gt *g = data;
	(void)m;
	g->calls++;
	for (int i = 0; i < 3; i++) {
		char name[32];
		ListResp resp = CONTAINERD__SERVICES__SNAPSHOTS__V1__LIST_SNAPSHOTS_RESPONSE__INIT;
		Info info = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__INIT;
		Info *ip = &info;
		snprintf(name, sizeof(name), "snap-%d", i);
		info.name = name;
		resp.n_info = 1;
		resp.info = &ip;
		CHECK(ctrbox_grpc_call_send(call, &resp.base) == 0);
	}
	CHECK(ctrbox_grpc_call_finish(call, CTRBOX_OK, "%s", "") == 0);
}

static const struct ctrbox_grpc_method_entry entries[] = {
    {"Stat", h_stat},
    {"List", h_list},
    {NULL, NULL},
};

static int fx_server(struct fx *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (strlen(f->path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	unlink(f->path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	if (ctrbox_grpc_server_new(f->l, &f->s)) {
		close(fd);
		return -1;
	}
	f->gt.s = f->s;
	if (ctrbox_grpc_server_register(f->s,
					&containerd__services__snapshots__v1__snapshots__descriptor,
					entries, &f->gt) ||
	    ctrbox_grpc_server_listen_fd(f->s, fd)) {
		close(fd);
		return -1;
	}
	return 0;
}

static int fx_setup(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/grpc-test-XXXXXX");
	if (!mkdtemp(f->dir)) {
		CHECK(!"mkdtemp");
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/grpc.sock", f->dir);
	if (ctrbox_loop_new(&f->l)) {
		CHECK(!"ctrbox_loop_new");
		return -1;
	}
	f->gt.l = f->l;
	if (fx_server(f)) {
		CHECK(!"server setup");
		return -1;
	}
	if (ctrbox_grpc_client_connect(f->l, f->path, &f->c)) {
		CHECK(!"ctrbox_grpc_client_connect");
		return -1;
	}
	f->ok = 1;
	return 0;
}

static void fx_teardown(struct fx *f)
{
	ctrbox_grpc_client_free(f->c);
	ctrbox_grpc_server_free(f->s);
	if (f->l)
		ctrbox_loop_free(f->l);
	if (f->path[0])
		unlink(f->path);
	if (f->dir[0])
		rmdir(f->dir);
}

/* Runs the loop for up to ms or until *flag is non-zero. */
static void run_for(struct fx *f, const int *flag, uint64_t ms)
{
	ctrbox_loop_run_until(f->l, flag, ctrbox_loop_now_ms() + ms);
}

static int stat_sync(struct fx *f, const char *key, const struct ctrbox_kv *md, size_t nmd,
		     uint64_t timeout_ms, StatResp **resp, char **msg)
{
	StatReq req = CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
	req.snapshotter = "overlayfs";
	req.key = (char *)key;
	return ctrbox_grpc_client_call_sync(
	    f->c, f->l, SVC "Stat", &req.base, md, nmd, timeout_ms,
	    &containerd__services__snapshots__v1__stat_snapshot_response__descriptor,
	    (ProtobufCMessage **)resp, NULL, NULL, msg);
}

void test_grpc_unary_roundtrip(void)
{
	struct fx f;
	if (fx_setup(&f) == 0) {
		struct ctrbox_kv md[] = {{"containerd-namespace", "k8s.io"}};
		StatResp *resp = NULL;
		char *msg = NULL;
		int rc = stat_sync(&f, "sha256:abc", md, 1, 0, &resp, &msg);
		CHECK(rc == CTRBOX_OK);
		CHECK(msg == NULL);
		CHECK(f.gt.calls == 1);
		CHECK_STR(f.gt.ns, "k8s.io");
		CHECK_STR(f.gt.method, SVC "Stat");
		CHECK(resp && resp->info);
		if (resp && resp->info) {
			CHECK_STR(resp->info->name, "sha256:abc");
			CHECK_STR(resp->info->parent, "parent");
			CHECK(resp->info->kind ==
			      CONTAINERD__SERVICES__SNAPSHOTS__V1__KIND__COMMITTED);
			CHECK(resp->info->n_labels == 1);
			if (resp->info->n_labels == 1) {
				CHECK_STR(resp->info->labels[0]->key, "k");
				CHECK_STR(resp->info->labels[0]->value, "v");
			}
		}
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		free(msg);

		/* a second call on the same connection, no metadata this time */
		resp = NULL;
		rc = stat_sync(&f, "second", NULL, 0, 5000, &resp, NULL);
		CHECK(rc == CTRBOX_OK);
		CHECK_STR(f.gt.ns, "(none)");
		CHECK(resp && resp->info && strcmp(resp->info->name, "second") == 0);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		CHECK(ctrbox_grpc_server_connections(f.s) == 1);
	}
	fx_teardown(&f);
}

void test_grpc_error_status(void)
{
	struct fx f;
	if (fx_setup(&f) == 0) {
		StatResp *resp = NULL;
		char *msg = NULL;
		int rc = stat_sync(&f, "nf-one", NULL, 0, 0, &resp, &msg);
		CHECK(rc == CTRBOX_NOT_FOUND);
		CHECK(resp == NULL);
		CHECK_STR(msg, "snapshot nf-one: not found");
		free(msg);

		/* non-ASCII, '%' and control characters survive percent-encoding */
		const char *key = "nf %41 100% \xc3\xa9\xe2\x82\xac\ttab";
		char want[128];
		snprintf(want, sizeof(want), "snapshot %s: not found", key);
		msg = NULL;
		rc = stat_sync(&f, key, NULL, 0, 0, &resp, &msg);
		CHECK(rc == CTRBOX_NOT_FOUND);
		CHECK_STR(msg, want);
		free(msg);

		/* a method of the service without a handler */
		Containerd__Services__Snapshots__V1__UsageRequest ureq =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__USAGE_REQUEST__INIT;
		msg = NULL;
		rc = ctrbox_grpc_client_call_sync(f.c, f.l, SVC "Usage", &ureq.base, NULL, 0, 0,
						  NULL, NULL, NULL, NULL, &msg);
		CHECK(rc == CTRBOX_UNIMPLEMENTED);
		CHECK_STR(msg, "unknown method Usage for service " SVC_NAME);
		free(msg);

		/* a method the service does not have */
		msg = NULL;
		rc = ctrbox_grpc_client_call_sync(f.c, f.l, SVC "Bogus", &ureq.base, NULL, 0, 0,
						  NULL, NULL, NULL, NULL, &msg);
		CHECK(rc == CTRBOX_UNIMPLEMENTED);
		CHECK_STR(msg, "unknown method Bogus for service " SVC_NAME);
		free(msg);

		/* an unknown service */
		msg = NULL;
		rc = ctrbox_grpc_client_call_sync(f.c, f.l, "/foo.v1.Bar/Baz", &ureq.base, NULL, 0,
						  0, NULL, NULL, NULL, NULL, &msg);
		CHECK(rc == CTRBOX_UNIMPLEMENTED);
		CHECK_STR(msg, "unknown service foo.v1.Bar");
		free(msg);

		/* malformed path */
		msg = NULL;
		rc = ctrbox_grpc_client_call_sync(f.c, f.l, "/nomethod", &ureq.base, NULL, 0, 0,
						  NULL, NULL, NULL, NULL, &msg);
		CHECK(rc == CTRBOX_UNIMPLEMENTED);
		CHECK(msg && strstr(msg, "malformed method name"));
		free(msg);

		/* no handler ran for any of the unimplemented calls; the connection lives on */
		CHECK(f.gt.calls == 2);
		rc = stat_sync(&f, "ok", NULL, 0, 0, &resp, NULL);
		CHECK(rc == CTRBOX_OK);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	fx_teardown(&f);
}

struct list_ctx {
	int n;
	int bad;
};

static int list_msg(void *data, const uint8_t *p, size_t len)
{
	struct list_ctx *x = data;
	ListResp *r = (ListResp *)protobuf_c_message_unpack(
	    &containerd__services__snapshots__v1__list_snapshots_response__descriptor, NULL, len,
	    p);
	char want[32];
	snprintf(want, sizeof(want), "snap-%d", x->n);
	if (!r || r->n_info != 1 || strcmp(r->info[0]->name, want) != 0)
		x->bad++;
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	x->n++;
	return 0;
}

void test_grpc_server_streaming(void)
{
	struct fx f;
	if (fx_setup(&f) == 0) {
		ListReq req = CONTAINERD__SERVICES__SNAPSHOTS__V1__LIST_SNAPSHOTS_REQUEST__INIT;
		struct list_ctx x = {0};
		char *msg = NULL;
		int rc = ctrbox_grpc_client_call_sync(f.c, f.l, SVC "List", &req.base, NULL, 0, 0,
						      NULL, NULL, list_msg, &x, &msg);
		CHECK(rc == CTRBOX_OK);
		CHECK(msg == NULL);
		CHECK(x.n == 3);
		CHECK(x.bad == 0);
		free(msg);

		/* twice: the stream state does not leak into the next call */
		memset(&x, 0, sizeof(x));
		rc = ctrbox_grpc_client_call_sync(f.c, f.l, SVC "List", &req.base, NULL, 0, 0, NULL,
						  NULL, list_msg, &x, NULL);
		CHECK(rc == CTRBOX_OK);
		CHECK(x.n == 3 && x.bad == 0);
	}
	fx_teardown(&f);
}

void test_grpc_large_messages(void)
{
	struct fx f;
	if (fx_setup(&f) == 0) {
		/* a ~3 MiB reply crosses the 1 MiB stream window several times */
		size_t big = 3u << 20;
		f.gt.big = big;
		StatResp *resp = NULL;
		int rc = stat_sync(&f, "big", NULL, 0, 0, &resp, NULL);
		CHECK(rc == CTRBOX_OK);
		CHECK(resp && resp->info && resp->info->n_labels == 1);
		if (resp && resp->info && resp->info->n_labels == 1) {
			const char *v = resp->info->labels[0]->value;
			size_t n = strlen(v), bad = 0;
			CHECK(n == big);
			for (size_t i = 0; i < n && i < big; i++)
				bad += v[i] != (char)('a' + i % 26);
			CHECK(bad == 0);
		}
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		f.gt.big = 0;

		/* a 2 MiB request under the default limit goes through (and is echoed back) */
		size_t klen = 2u << 20;
		char *key = malloc(klen + 1);
		CHECK(key != NULL);
		if (key) {
			memset(key, 'x', klen);
			key[klen] = 0;
			resp = NULL;
			rc = stat_sync(&f, key, NULL, 0, 0, &resp, NULL);
			CHECK(rc == CTRBOX_OK);
			CHECK(resp && resp->info && strcmp(resp->info->name, key) == 0);
			if (resp)
				protobuf_c_message_free_unpacked(&resp->base, NULL);
		}

		/* a request over the server's receive limit */
		ctrbox_grpc_server_set_max_message(f.s, 1u << 20, 16u << 20);
		if (key) {
			StatReq req =
			    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
			req.key = key;
			size_t packed = protobuf_c_message_get_packed_size(&req.base);
			char want[128];
			snprintf(want, sizeof(want),
				 "grpc: received message larger than max (%zu vs. 1048576)",
				 packed);
			char *msg = NULL;
			int calls = f.gt.calls;
			rc = ctrbox_grpc_client_call_sync(
			    f.c, f.l, SVC "Stat", &req.base, NULL, 0, 0,
			    &containerd__services__snapshots__v1__stat_snapshot_response__descriptor,
			    (ProtobufCMessage **)&resp, NULL, NULL, &msg);
			CHECK(rc == CTRBOX_RESOURCE_EXHAUSTED);
			CHECK(resp == NULL);
			CHECK_STR(msg, want);
			CHECK(f.gt.calls == calls);
			free(msg);
			free(key);
		}

		/* the same connection still serves a normal call */
		resp = NULL;
		rc = stat_sync(&f, "after", NULL, 0, 0, &resp, NULL);
		CHECK(rc == CTRBOX_OK);
		CHECK(resp && resp->info && strcmp(resp->info->name, "after") == 0);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		CHECK(ctrbox_grpc_server_connections(f.s) == 1);

		/* a reply over the server's send limit ends the call with ResourceExhausted */
		ctrbox_grpc_server_set_max_message(f.s, 1u << 20, 1u << 20);
		f.gt.big = 2u << 20;
		char *msg = NULL;
		resp = NULL;
		rc = stat_sync(&f, "toobig", NULL, 0, 0, &resp, &msg);
		CHECK(rc == CTRBOX_RESOURCE_EXHAUSTED);
		CHECK(msg && strstr(msg, "trying to send message larger than max"));
		CHECK(resp == NULL);
		free(msg);
		f.gt.big = 0;

		/* a reply over the client's receive limit */
		ctrbox_grpc_server_set_max_message(f.s, 16u << 20, 16u << 20);
		ctrbox_grpc_client_set_max_message(f.c, 1u << 20, 16u << 20);
		f.gt.big = 2u << 20;
		msg = NULL;
		rc = stat_sync(&f, "clientmax", NULL, 0, 0, &resp, &msg);
		CHECK(rc == CTRBOX_RESOURCE_EXHAUSTED);
		CHECK(msg && strstr(msg, "received message larger than max"));
		CHECK(resp == NULL);
		free(msg);
		f.gt.big = 0;
		resp = NULL;
		rc = stat_sync(&f, "last", NULL, 0, 0, &resp, NULL);
		CHECK(rc == CTRBOX_OK);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	fx_teardown(&f);
}

struct done_ctx {
	int done;
	int code;
	char msg[128];
	int msgs;
};

static void on_done(void *data, int code, const char *message)
{
	struct done_ctx *d = data;
	d->done++;
	d->code = code;
	snprintf(d->msg, sizeof(d->msg), "%s", message ? message : "(null)");
}

static int count_msg(void *data, const uint8_t *p, size_t len)
{
	struct done_ctx *d = data;
	(void)p, (void)len;
	d->msgs++;
	return 0;
}

static struct ctrbox_grpc_stream *start_stat_md(struct fx *f, const char *key,
						const struct ctrbox_kv *md, size_t nmd,
						uint64_t timeout_ms, struct done_ctx *d)
{
	StatReq req = CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
	struct ctrbox_grpc_stream *h = NULL;
	req.key = (char *)key;
	if (ctrbox_grpc_client_start(f->c, SVC "Stat", md, nmd, timeout_ms, count_msg, on_done, d,
				     &h))
		return NULL;
	if (ctrbox_grpc_stream_send_msg(h, &req.base) || ctrbox_grpc_stream_close_send(h))
		return NULL;
	return h;
}

static struct ctrbox_grpc_stream *start_stat(struct fx *f, const char *key, uint64_t timeout_ms,
					     struct done_ctx *d)
{
	return start_stat_md(f, key, NULL, 0, timeout_ms, d);
}

void test_grpc_deadline_and_cancel(void)
{
	struct fx f;
	if (fx_setup(&f) == 0) {
		f.gt.mode = MODE_HOLD;
		char *msg = NULL;
		StatResp *resp = NULL;
		uint64_t t0 = ctrbox_loop_now_ms();
		int rc = stat_sync(&f, "slow", NULL, 0, 100, &resp, &msg);
		uint64_t el = ctrbox_loop_now_ms() - t0;
		CHECK(rc == CTRBOX_DEADLINE_EXCEEDED);
		CHECK(resp == NULL);
		CHECK(el >= 90 && el < 2000);
		CHECK(msg && strstr(msg, "deadline"));
		free(msg);
		CHECK(f.gt.got == 1);
		run_for(&f, &f.gt.cancelled, 1000);
		CHECK(f.gt.cancelled == 1);
		CHECK(f.gt.held == NULL);

		/* the caller resets a call without a deadline: the server handler hears of it, the
		 * caller's done callback stays silent */
		f.gt.got = 0;
		f.gt.cancelled = 0;
		struct done_ctx d = {0};
		struct ctrbox_grpc_stream *h = start_stat(&f, "forever", 0, &d);
		CHECK(h != NULL);
		if (h) {
			run_for(&f, &f.gt.got, 1000);
			CHECK(f.gt.got == 1);
			CHECK(f.gt.held != NULL);
			CHECK(ctrbox_grpc_call_deadline(f.gt.held) == 0);
			ctrbox_grpc_stream_cancel(h);
			run_for(&f, &f.gt.cancelled, 1000);
			CHECK(f.gt.cancelled == 1);
			CHECK(f.gt.held == NULL);
			int never = 0;
			run_for(&f, &never, 100);
			CHECK(d.done == 0);
		}

		/* the server-side deadline alone: grpc-timeout passed as raw metadata, so the
		 * client arms no timer; the server answers DeadlineExceeded and cancels the call */
		f.gt.got = 0;
		f.gt.cancelled = 0;
		memset(&d, 0, sizeof(d));
		struct ctrbox_kv tmd[] = {{"grpc-timeout", "100m"}};
		h = start_stat_md(&f, "srvdeadline", tmd, 1, 0, &d);
		CHECK(h != NULL);
		if (h) {
			run_for(&f, &f.gt.got, 1000);
			CHECK(f.gt.got == 1);
			uint64_t dl = f.gt.held ? ctrbox_grpc_call_deadline(f.gt.held) : 0;
			CHECK(dl > ctrbox_loop_now_ms() && dl <= ctrbox_loop_now_ms() + 100);
			run_for(&f, &d.done, 1000);
			CHECK(d.done == 1);
			CHECK(d.code == CTRBOX_DEADLINE_EXCEEDED);
			CHECK_STR(d.msg, "context deadline exceeded");
			CHECK(f.gt.cancelled == 1);
			CHECK(f.gt.held == NULL);
		}

		/* a malformed grpc-timeout is refused before any handler runs */
		int calls = f.gt.calls;
		memset(&d, 0, sizeof(d));
		struct ctrbox_kv bmd[] = {{"grpc-timeout", "soon"}};
		h = start_stat_md(&f, "badtimeout", bmd, 1, 0, &d);
		CHECK(h != NULL);
		run_for(&f, &d.done, 1000);
		CHECK(d.done == 1);
		CHECK(d.code == CTRBOX_INTERNAL);
		CHECK_STR(d.msg, "transport: malformed grpc-timeout");
		CHECK(f.gt.calls == calls);

		/* the connection is still good */
		f.gt.mode = MODE_REPLY;
		rc = stat_sync(&f, "ok", NULL, 0, 0, &resp, NULL);
		CHECK(rc == CTRBOX_OK);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	fx_teardown(&f);
}

struct many_ctx {
	int done;
	int ok;
	int nf;
	int wrong;
	int msgs;
	int all;
	int total;
};

struct many_call {
	struct many_ctx *m;
	int expect;
	int msgs;
};

static int many_msg(void *data, const uint8_t *p, size_t len)
{
	struct many_call *mc = data;
	(void)p, (void)len;
	mc->msgs++;
	return 0;
}

static void many_done(void *data, int code, const char *message)
{
	struct many_call *mc = data;
	struct many_ctx *m = mc->m;
	(void)message;
	m->done++;
	if (code == CTRBOX_OK)
		m->ok++;
	else if (code == CTRBOX_NOT_FOUND)
		m->nf++;
	if (code != mc->expect || mc->msgs != (code == CTRBOX_OK ? 1 : 0))
		m->wrong++;
	if (m->done == m->total)
		m->all = 1;
}

void test_grpc_async_reply(void)
{
	struct fx f;
	if (fx_setup(&f) == 0) {
		f.gt.mode = MODE_ASYNC;
		StatResp *resp = NULL;
		uint64_t t0 = ctrbox_loop_now_ms();
		int rc = stat_sync(&f, "later", NULL, 0, 5000, &resp, NULL);
		CHECK(rc == CTRBOX_OK);
		CHECK(ctrbox_loop_now_ms() - t0 >= 45);
		CHECK(f.gt.replied == 1);
		CHECK(f.gt.cancelled == 0);
		CHECK(resp && resp->info && strcmp(resp->info->name, "later") == 0);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);

		/* many concurrent calls: more than the server's stream limit (256) */
		f.gt.mode = MODE_REPLY;
		enum { N = 300 };
		struct many_ctx m = {.total = N};
		struct many_call *mc = calloc(N, sizeof(*mc));
		CHECK(mc != NULL);
		int started = 0;
		for (int i = 0; mc && i < N; i++) {
			char key[32];
			snprintf(key, sizeof(key), "%s-%d", i % 3 == 0 ? "nf" : "ok", i);
			StatReq req =
			    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
			req.key = key;
			uint8_t buf[64];
			size_t len = protobuf_c_message_pack(&req.base, buf);
			mc[i].m = &m;
			mc[i].expect = i % 3 == 0 ? CTRBOX_NOT_FOUND : CTRBOX_OK;
			rc = ctrbox_grpc_client_call_raw(f.c, SVC "Stat", buf, len, NULL, 0, 0,
							 many_msg, many_done, &mc[i]);
			CHECK(rc == 0);
			started += rc == 0;
		}
		CHECK(started == N);
		run_for(&f, &m.all, 5000);
		CHECK(m.done == N);
		CHECK(m.ok == N - (N + 2) / 3);
		CHECK(m.nf == (N + 2) / 3);
		CHECK(m.wrong == 0);
		free(mc);
		CHECK(ctrbox_grpc_server_connections(f.s) == 1);
	}
	fx_teardown(&f);
}

void test_grpc_connection_drop(void)
{
	struct fx f;
	if (fx_setup(&f) == 0) {
		f.gt.mode = MODE_HOLD;
		struct done_ctx d = {0};
		struct ctrbox_grpc_stream *h = start_stat(&f, "pending", 0, &d);
		CHECK(h != NULL);
		run_for(&f, &f.gt.got, 1000);
		CHECK(f.gt.got == 1);
		CHECK(ctrbox_grpc_server_connections(f.s) == 1);

		ctrbox_grpc_server_free(f.s);
		f.s = NULL;
		CHECK(f.gt.cancelled == 1);
		CHECK(f.gt.held == NULL);
		run_for(&f, &d.done, 1000);
		CHECK(d.done == 1);
		CHECK(d.code == CTRBOX_UNAVAILABLE);
		CHECK_STR(d.msg, "grpc: connection closed");
		/* no new calls on a dead connection */
		struct done_ctx d2 = {0};
		CHECK(ctrbox_grpc_client_start(f.c, SVC "Stat", NULL, 0, 0, NULL, on_done, &d2,
					       NULL) == -ENOTCONN);
		CHECK(d2.done == 0);
		int never = 0;
		run_for(&f, &never, 20);
		CHECK(d.done == 1);

		/* a held call without a cancel callback (and with a server-side deadline timer)
		 * outlives the server: it is detached, and replying to it later is a no-op */
		ctrbox_grpc_client_free(f.c);
		f.c = NULL;
		f.gt.got = 0;
		f.gt.cancelled = 0;
		f.gt.mode = MODE_HOLD_NOCANCEL;
		CHECK(fx_server(&f) == 0);
		CHECK(ctrbox_grpc_client_connect(f.l, f.path, &f.c) == 0);
		if (f.c && f.s) {
			memset(&d, 0, sizeof(d));
			h = start_stat(&f, "detached", 5000, &d);
			CHECK(h != NULL);
			run_for(&f, &f.gt.got, 1000);
			CHECK(f.gt.got == 1);
			CHECK(f.gt.held != NULL);
			ctrbox_grpc_server_free(f.s);
			f.s = NULL;
			CHECK(f.gt.cancelled == 0);
			if (f.gt.held) {
				CHECK(stat_reply(f.gt.held, "late", 0) == 0);
				f.gt.held = NULL;
			}
			run_for(&f, &d.done, 1000);
			CHECK(d.done == 1);
			CHECK(d.code == CTRBOX_UNAVAILABLE);
		}

		/* a fresh server and client: freeing the client ends its pending call */
		f.gt.mode = MODE_HOLD;
		ctrbox_grpc_client_free(f.c);
		f.c = NULL;
		f.gt.got = 0;
		f.gt.cancelled = 0;
		CHECK(fx_server(&f) == 0);
		CHECK(ctrbox_grpc_client_connect(f.l, f.path, &f.c) == 0);
		if (f.c && f.s) {
			memset(&d, 0, sizeof(d));
			h = start_stat(&f, "pending2", 0, &d);
			CHECK(h != NULL);
			run_for(&f, &f.gt.got, 1000);
			CHECK(f.gt.got == 1);
			ctrbox_grpc_client_free(f.c);
			f.c = NULL;
			CHECK(d.done == 1);
			CHECK(d.code == CTRBOX_CANCELED);
			CHECK_STR(d.msg, "grpc: client closing");
			/* the server sees the connection go and cancels the held call */
			run_for(&f, &f.gt.cancelled, 1000);
			CHECK(f.gt.cancelled == 1);
			CHECK(f.gt.held == NULL);
			unsigned conns = 1;
			for (int i = 0; i < 50 && (conns = ctrbox_grpc_server_connections(f.s));
			     i++) {
				int n0 = 0;
				run_for(&f, &n0, 10);
			}
			CHECK(conns == 0);
		}
	}
	fx_teardown(&f);
}
