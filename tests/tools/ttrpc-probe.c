/* ttrpc-probe: sends well-formed or deliberately broken TTRPC frames to a socket and prints
 * each response as "stream=N code=C (Name) message=M payload=LEN" (test tool, not shipped). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctrbox/ttrpc.h>

#include "task/shim.pb-c.h"
#include "protos/ttrpc_codec.h"
#include <ctrbox/util.h> /* ctrbox_unix_connect */

static int fd;

static void send_all(const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			printf("closed\n"); /* the server hung up first */
			exit(0);
		}
		if (w < 0) {
			perror("ttrpc-probe: send");
			exit(3);
		}
		c += w;
		n -= w;
	}
}

static void send_hdr(uint32_t len, uint32_t sid, uint8_t type)
{
	struct ttrpc_hdr h = {.length = len, .stream_id = sid, .type = type};
	uint8_t b[TTRPC_HDR_LEN];
	ttrpc_hdr_pack(b, &h);
	send_all(b, sizeof(b));
}

static void send_request(uint32_t sid, const char *svc, const char *method, const uint8_t *pl,
			 size_t plen)
{
	uint8_t *frame;
	size_t len;
	ttrpc_frame_request(sid, svc, method, pl, plen, 0, NULL, 0, &frame, &len);
	send_all(frame, len);
	free(frame);
}

static void send_connect(uint32_t sid)
{
	Containerd__Task__V2__ConnectRequest r = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	uint8_t buf[64];
	r.id = "probe";
	send_request(sid, "containerd.task.v2.Task", "Connect", buf,
		     containerd__task__v2__connect_request__pack(&r, buf));
}

static int print_frame(void *ctx, const struct ttrpc_hdr *h, const uint8_t *payload, int oversize)
{
	struct ttrpc_response resp;
	int *left = ctx;

	(*left)--;
	if (oversize || ttrpc_response_decode(payload, h->length, &resp) < 0) {
		printf("stream=%u undecodable response (type %u, %u bytes)\n", h->stream_id,
		       h->type, h->length);
		return 0;
	}
	printf("stream=%u code=%d (%s) message=%s payload=%zu\n", h->stream_id, resp.code,
	       ctrbox_code_name(resp.code), resp.message ? resp.message : "", resp.plen);
	ttrpc_response_free(&resp);
	return 0;
}

/* Reads until n responses arrived; 10 s at most. Prints "closed" if the server hung up. */
static void read_responses(int n)
{
	struct ttrpc_reader r;
	struct timeval tv = {.tv_sec = 10};
	uint8_t buf[65536];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ttrpc_reader_init(&r, TTRPC_MAX_MSG);
	while (n > 0) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got == 0 || (got < 0 && errno == ECONNRESET)) {
			printf("closed\n");
			break;
		}
		if (got < 0) {
			printf("timeout: %s\n", strerror(errno));
			break;
		}
		ttrpc_reader_feed(&r, buf, got, print_frame, &n);
	}
	ttrpc_reader_reset(&r);
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* One packed Task request, its response printed, then "ms=N": the round trip. */
static void timed_request(const char *method, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	long long t0;

	protobuf_c_message_pack(m, buf);
	t0 = now_us();
	send_request(1, "containerd.task.v2.Task", method, buf, n);
	read_responses(1);
	printf("ms=%lld\n", (now_us() - t0 + 999) / 1000);
	free(buf);
}

int main(int argc, char **argv)
{
	const char *mode;

	if (argc < 3) {
		fprintf(stderr,
			"usage: ttrpc-probe ADDRESS MODE [ARGS]\n"
			"modes: connect | call SERVICE METHOD | update ID JSON | create-restore ID "
			"BUNDLE CKPT | start ID | delete ID | garbage | garbage-body | "
			"truncated | oversize | even-stream | non-request | state ID | kill ID "
			"SIGNAL | "
			"exec-add ID EXEC_ID (timed: ms=N)\n");
		return 2;
	}
	fd = ctrbox_unix_connect(argv[1], 1);
	if (fd < 0) {
		fprintf(stderr, "ttrpc-probe: connect %s: %s\n", argv[1], strerror(-fd));
		return 3;
	}
	mode = argv[2];
	if (!strcmp(mode, "state") && argc == 4) {
		Containerd__Task__V2__StateRequest r = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
		r.id = argv[3];
		timed_request("State", &r.base);
	} else if (!strcmp(mode, "kill") && argc == 5) {
		Containerd__Task__V2__KillRequest r = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
		r.id = argv[3];
		r.signal = (uint32_t)atoi(argv[4]);
		timed_request("Kill", &r.base);
	} else if (!strcmp(mode, "exec-add") && argc == 5) {
		/* Exec (the add, not its Start): a Process spec running `true` */
		Containerd__Task__V2__ExecProcessRequest r =
		    CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
		Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
		static const char json[] = "{\"args\":[\"true\"],\"cwd\":\"/\"}";
		spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
		spec.value.data = (uint8_t *)json;
		spec.value.len = sizeof(json) - 1;
		r.id = argv[3];
		r.exec_id = argv[4];
		r.spec = &spec;
		timed_request("Exec", &r.base);
	} else if (!strcmp(mode, "connect")) {
		send_connect(1);
		read_responses(1);
	} else if (!strcmp(mode, "call") && argc == 5) {
		send_request(1, argv[3], argv[4], NULL, 0);
		read_responses(1);
	} else if (!strcmp(mode, "update") && argc == 5) {
		/* Task.Update{id, resources: Any(LinuxResources JSON)} -- ctr 1.6 has no task
		 * update */
		Containerd__Task__V2__UpdateTaskRequest u =
		    CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
		Google__Protobuf__Any res = GOOGLE__PROTOBUF__ANY__INIT;
		uint8_t *buf;
		size_t n;
		res.type_url = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
		res.value.data = (uint8_t *)argv[4];
		res.value.len = strlen(argv[4]);
		u.id = argv[3];
		u.resources = &res;
		n = containerd__task__v2__update_task_request__get_packed_size(&u);
		buf = malloc(n);
		containerd__task__v2__update_task_request__pack(&u, buf);
		send_request(1, "containerd.task.v2.Task", "Update", buf, n);
		free(buf);
		read_responses(1);
	} else if (!strcmp(mode, "create-restore") && argc == 6) {
		/* Task.Create{id, bundle, checkpoint}: no runc yet, restore runs at Start */
		Containerd__Task__V2__CreateTaskRequest c =
		    CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
		uint8_t *buf;
		size_t n;
		c.id = argv[3];
		c.bundle = argv[4];
		c.checkpoint = argv[5];
		n = containerd__task__v2__create_task_request__get_packed_size(&c);
		buf = malloc(n);
		containerd__task__v2__create_task_request__pack(&c, buf);
		send_request(1, "containerd.task.v2.Task", "Create", buf, n);
		free(buf);
		read_responses(1);
	} else if ((!strcmp(mode, "start") || !strcmp(mode, "delete")) && argc == 4) {
		Containerd__Task__V2__StartRequest r = CONTAINERD__TASK__V2__START_REQUEST__INIT;
		uint8_t buf[256];
		r.id = argv[3];
		send_request(1, "containerd.task.v2.Task",
			     !strcmp(mode, "start") ? "Start" : "Delete", buf,
			     containerd__task__v2__start_request__pack(&r, buf));
		read_responses(1);
	} else if (!strcmp(mode, "garbage")) {
		/* not TTRPC at all: an HTTP request line, then hang up */
		const char junk[] = "GET / HTTP/1.1\r\nHost: shim\r\n\r\n";
		send_all(junk, sizeof(junk) - 1);
		shutdown(fd, SHUT_WR);
		read_responses(1);
	} else if (!strcmp(mode, "garbage-body")) {
		/* a valid header around a body that is not a Request; the connection stays usable
		 */
		uint8_t body[16];
		memset(body, 0xff, sizeof(body));
		send_hdr(sizeof(body), 1, TTRPC_TYPE_REQUEST);
		send_all(body, sizeof(body));
		send_connect(3);
		read_responses(2);
	} else if (!strcmp(mode, "truncated")) {
		send_hdr(100, 1, TTRPC_TYPE_REQUEST);
		send_all("only twenty bytes...", 20);
		shutdown(fd, SHUT_WR);
		read_responses(1);
	} else if (!strcmp(mode, "oversize")) {
		/* 5 MiB payload: answered ResourceExhausted, then the same connection still serves
		 */
		size_t len = 5u << 20, chunk = 1u << 20;
		uint8_t *zeros = calloc(1, chunk);
		send_hdr(len, 1, TTRPC_TYPE_REQUEST);
		for (size_t sent = 0; sent < len; sent += chunk)
			send_all(zeros, chunk);
		free(zeros);
		send_connect(3);
		read_responses(2);
	} else if (!strcmp(mode, "even-stream")) {
		send_request(2, "containerd.task.v2.Task", "Connect", NULL, 0);
		read_responses(1);
	} else if (!strcmp(mode, "non-request")) {
		/* a response-type frame is ignored without a reply; the next request is served */
		send_hdr(0, 1, TTRPC_TYPE_RESPONSE);
		send_connect(3);
		read_responses(1);
	} else {
		fprintf(stderr, "ttrpc-probe: unknown mode %s\n", mode);
		return 2;
	}
	close(fd);
	return 0;
}
