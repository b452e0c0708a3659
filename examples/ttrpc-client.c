/* A TTRPC client of a shim on libctrbox (what containerd does first): Connect, State, and with
 * "shutdown" Shutdown.   usage: ttrpc-client ADDRESS TASK-ID [shutdown]
 * ADDRESS is the shim's socket, as its start action printed it ("unix:///run/containerd/s/..."). */
#include <ctrbox/ctrbox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One blocking call: prints "<method>: <code name>: <message>" on failure, returns the code. */
static int call(struct ctrbox_ttrpc_client *c, struct ctrbox_loop *l, const char *method,
		const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
		ProtobufCMessage **resp)
{
	char *msg = NULL;
	int code = ctrbox_ttrpc_client_call_sync(c, l, CTRBOX_TASK_SERVICE, method, req, out, 10000,
						 resp, &msg);

	if (code < 0)
		printf("%s: %s\n", method, strerror(-code));
	else if (code != CTRBOX_OK)
		printf("%s: %s: %s\n", method, ctrbox_code_name(code), msg ? msg : "");
	free(msg);
	return code;
}

int main(int argc, char **argv)
{
	Containerd__Task__V2__ConnectRequest creq = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	Containerd__Task__V2__StateRequest sreq = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	Containerd__Task__V2__ShutdownRequest dreq = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	Containerd__Task__V2__ConnectResponse *cresp;
	Containerd__Task__V2__StateResponse *sresp;
	ProtobufCMessage *resp = NULL;
	struct ctrbox_ttrpc_client *c;
	struct ctrbox_loop *l;
	int r, rc = 0;

	if (argc < 3 || (argc == 4 && strcmp(argv[3], "shutdown")) || argc > 4) {
		fprintf(stderr, "usage: %s ADDRESS TASK-ID [shutdown]\n", argv[0]);
		return 2;
	}
	if ((r = ctrbox_loop_new(&l)) < 0 || (r = ctrbox_ttrpc_client_connect(l, argv[1], &c)) < 0) {
		fprintf(stderr, "%s: connect %s: %s\n", argv[0], argv[1], strerror(-r));
		return 1;
	}
	creq.id = sreq.id = argv[2];
	if (call(c, l, "Connect", &creq.base, &containerd__task__v2__connect_response__descriptor,
		 &resp) == CTRBOX_OK) {
		cresp = (Containerd__Task__V2__ConnectResponse *)resp;
		printf("Connect: shim_pid=%u task_pid=%u version=%s\n", cresp->shim_pid,
		       cresp->task_pid, cresp->version);
		protobuf_c_message_free_unpacked(resp, NULL);
	} else
		rc = 1;
	if (call(c, l, "State", &sreq.base, &containerd__task__v2__state_response__descriptor,
		 &resp) == CTRBOX_OK) {
		sresp = (Containerd__Task__V2__StateResponse *)resp;
		printf("State: pid=%u status=%d\n", sresp->pid, (int)sresp->status);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	if (argc == 4) {
		if (call(c, l, "Shutdown", &dreq.base, &google__protobuf__empty__descriptor, &resp) ==
		    CTRBOX_OK) {
			printf("Shutdown: ok\n");
			protobuf_c_message_free_unpacked(resp, NULL);
		} else
			rc = 1;
	}
	ctrbox_ttrpc_client_free(c);
	ctrbox_loop_free(l);
	return rc;
}
