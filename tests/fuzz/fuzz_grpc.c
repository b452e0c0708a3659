/* libFuzzer target: the gRPC server path (HTTP/2 framing and HPACK in nghttp2, then lib/grpc.c's
 * header checks, message deframing, request decoding, dispatch, replies, streams, cancellation).
 * A grpc_server with the snapshots service (handlers that reply, fail, stream, and hold calls)
 * adopts one end of a socketpair; the input (behind the HTTP/2 client preface unless it brings
 * its own) is written into the other end, the loop runs a bounded number of non-blocking steps
 * while the client end is drained, then the client closes and everything is freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctrbox/grpc.h>
#include <ctrbox/log.h>
#include <ctrbox/loop.h>
#include "snapshots/v1/snapshots.pb-c.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define MAX_HELD 64

typedef Containerd__Services__Snapshots__V1__StatSnapshotRequest StatReq;
typedef Containerd__Services__Snapshots__V1__StatSnapshotResponse StatResp;
typedef Containerd__Services__Snapshots__V1__Info Info;
typedef Containerd__Services__Snapshots__V1__ListSnapshotsResponse ListResp;
typedef Containerd__Services__Snapshots__V1__ViewSnapshotRequest ViewReq;

static struct ctrbox_grpc_call *held[MAX_HELD];
static size_t nheld;

static void on_cancel(struct ctrbox_grpc_call *call, void *data)
{
	(void)data;
	for (size_t i = 0; i < nheld; i++)
		if (held[i] == call) {
			held[i] = held[--nheld];
			return;
		}
	abort(); /* a cancel for a call we do not hold */
}

static void hold(struct ctrbox_grpc_call *call)
{
	if (nheld == MAX_HELD) {
		ctrbox_grpc_call_finish(call, CTRBOX_RESOURCE_EXHAUSTED, "too many held calls");
		return;
	}
	held[nheld++] = call;
	ctrbox_grpc_call_on_cancel(call, on_cancel, NULL);
	(void)ctrbox_grpc_call_deadline(call);
}

static void h_stat(struct ctrbox_grpc_call *call, const ProtobufCMessage *m, void *data)
{
	const StatReq *req = (const StatReq *)m;
	const char *ns = ctrbox_grpc_call_metadata(call, "containerd-namespace");

	(void)data;
	(void)ctrbox_grpc_call_method(call);
	if (req->key[0] == 'n') {
		ctrbox_grpc_call_finish(call, CTRBOX_NOT_FOUND, "snapshot %s in %s: not found", req->key,
				 ns ? ns : "(none)");
		return;
	}
	StatResp resp = CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_RESPONSE__INIT;
	Info info = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__INIT;
	info.name = req->key;
	info.parent = ns ? (char *)ns : "";
	resp.info = &info;
	ctrbox_grpc_call_reply(call, &resp.base);
}

static void h_list(struct ctrbox_grpc_call *call, const ProtobufCMessage *m, void *data)
{
	(void)m;
	(void)data;
	for (int i = 0; i < 2; i++) {
		ListResp resp = CONTAINERD__SERVICES__SNAPSHOTS__V1__LIST_SNAPSHOTS_RESPONSE__INIT;
		Info info = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__INIT;
		Info *ip = &info;
		info.name = i ? "b" : "a";
		resp.n_info = 1;
		resp.info = &ip;
		if (ctrbox_grpc_call_send(call, &resp.base) < 0)
			break;
	}
	ctrbox_grpc_call_finish(call, CTRBOX_OK, "");
}

static void h_empty(struct ctrbox_grpc_call *call, const ProtobufCMessage *m, void *data)
{
	(void)m;
	(void)data;
	ctrbox_grpc_call_reply(call, NULL);
}

static void h_view(struct ctrbox_grpc_call *call, const ProtobufCMessage *m, void *data)
{
	const ViewReq *req = (const ViewReq *)m;
	(void)data;
	/* a status picked by the request, message with bytes that need percent-encoding */
	ctrbox_grpc_call_finish(call, (unsigned char)req->key[0] % 17, "view %s: \xff%%\n", req->key);
}

static void h_hold(struct ctrbox_grpc_call *call, const ProtobufCMessage *m, void *data)
{
	(void)m;
	(void)data;
	hold(call);
}

static const struct ctrbox_grpc_method_entry entries[] = {
    {"Stat", h_stat},	 {"List", h_list},     {"Remove", h_empty},
    {"Commit", h_empty}, {"Cleanup", h_empty}, {"View", h_view},
    {"Prepare", h_hold}, {"Mounts", h_hold},   {NULL, NULL},
};

static int tick;

static void tick_cb(struct ctrbox_loop *l, void *data)
{
	(void)l;
	(void)data;
	tick = 1;
}

/* One non-blocking pass of the loop: ready fds, then due timers (ours last among them). */
static void step(struct ctrbox_loop *l)
{
	tick = 0;
	if (!ctrbox_loop_timer_in(l, 0, tick_cb, NULL))
		abort();
	ctrbox_loop_run_until(l, &tick, 0);
}

static void drain(int fd)
{
	char b[16384];
	while (read(fd, b, sizeof(b)) > 0)
		;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		ctrbox_log_set_fd(fd); /* the server's warnings are expected here; keep the run quiet */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctrbox_loop *l;
	struct ctrbox_grpc_server *s;
	int sv[2];

	if (size > 1 << 16)
		return 0; /* stays under the socket buffer: one write, no blocking */
	if (ctrbox_loop_new(&l) < 0)
		abort();
	if (ctrbox_grpc_server_new(l, &s) < 0 ||
	    ctrbox_grpc_server_register(s, &containerd__services__snapshots__v1__snapshots__descriptor,
				 entries, NULL) < 0)
		abort();
	ctrbox_grpc_server_set_max_message(s, 4096, 4096);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	int bufsz = 1 << 18;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (ctrbox_grpc_server_adopt_fd(s, sv[1]) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);

	if (size < 3 || memcmp(data, "PRI", 3))
		if (write(sv[0], PREFACE, sizeof(PREFACE) - 1) != sizeof(PREFACE) - 1)
			abort();
	for (size_t off = 0; off < size;) {
		ssize_t w = write(sv[0], data + off, size - off);
		if (w <= 0) {
			if (w < 0 && errno == EAGAIN) {
				step(l);
				drain(sv[0]);
				continue;
			}
			break; /* the server closed already */
		}
		off += (size_t)w;
	}
	for (int i = 0; i < 6; i++) {
		step(l);
		drain(sv[0]);
		if (i == 2) /* answer the held calls that are still there */
			while (nheld > 0) {
				struct ctrbox_grpc_call *c = held[--nheld];
				if (nheld % 2)
					ctrbox_grpc_call_reply(c, NULL);
				else
					ctrbox_grpc_call_finish(c, CTRBOX_ABORTED, "held");
			}
	}
	close(sv[0]);
	for (int i = 0; i < 3 && ctrbox_grpc_server_connections(s) > 0; i++)
		step(l);
	ctrbox_grpc_server_free(s); /* cancels what is left */
	if (nheld != 0)
		abort();
	ctrbox_loop_free(l);
	return 0;
}
