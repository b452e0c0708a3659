/* shim-proto-connect: send Connect, then Shutdown, to a shim's TTRPC socket; print the replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "google/protobuf/empty.pb-c.h"
#include <ctrbox/loop.h>
#include <ctrbox/pbtext.h>
#include "task/shim.pb-c.h"
#include <ctrbox/ttrpc.h>

#define TASK_SERVICE "containerd.task.v2.Task"
#define CALL_TIMEOUT_MS 10000

/* One call; prints "<Name> response: <text>" or the error. Returns 0 on success. */
static int call(struct ctrbox_ttrpc_client *c, struct ctrbox_loop *l, const char *method,
		const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out)
{
	ProtobufCMessage *resp = NULL;
	char *err = NULL;
	int code;

	printf("Sending `%s` request...\n", method);
	fflush(stdout);
	code = ctrbox_ttrpc_client_call_sync(c, l, TASK_SERVICE, method, req, out, CALL_TIMEOUT_MS,
					     &resp, &err);
	if (code != 0) {
		if (code < 0)
			fprintf(stderr, "shim-proto-connect: %s: %s\n", method, strerror(-code));
		else
			fprintf(stderr, "shim-proto-connect: %s failed: %s: %s\n", method,
				ctrbox_code_name(code), err ? err : "");
		free(err);
		return 1;
	}
	printf("%s response: ", method);
	ctrbox_pbtext_print(stdout, resp);
	printf("\n");
	protobuf_c_message_free_unpacked(resp, NULL);
	free(err);
	return 0;
}

int shim_proto_connect_main(int argc, char **argv)
{
	Containerd__Task__V2__ConnectRequest creq = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	Containerd__Task__V2__ShutdownRequest sreq = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	struct ctrbox_ttrpc_client *c;
	struct ctrbox_loop *l;
	int r;

	if (applet_std_flags(argc, argv))
		return 0;
	if (argc < 2 || argc > 3 || argv[1][0] == '-') {
		applet_usage(stderr);
		return 2;
	}
	creq.id = sreq.id = argc > 2 ? argv[2] : "";
	if (ctrbox_loop_new(&l) < 0) {
		fprintf(stderr, "shim-proto-connect: out of memory\n");
		return 1;
	}
	printf("Connecting to %s...\n", argv[1]);
	fflush(stdout);
	r = ctrbox_ttrpc_client_connect(l, argv[1], &c);
	if (r < 0) {
		fprintf(stderr, "shim-proto-connect: connect %s: %s\n", argv[1], strerror(-r));
		ctrbox_loop_free(l);
		return 1;
	}
	r = call(c, l, "Connect", &creq.base, &containerd__task__v2__connect_response__descriptor);
	if (r == 0)
		r = call(c, l, "Shutdown", &sreq.base, &google__protobuf__empty__descriptor);
	ctrbox_ttrpc_client_free(c);
	ctrbox_loop_free(l);
	return r;
}
