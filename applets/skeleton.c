/* containerd-shim-skeleton-v1: the smallest shim on lib/shim (Connect and Shutdown only; its
 * delete action stops a daemon that containerd gave up on). */
#include <stdlib.h>
#include <unistd.h>

#include "applet.h"
#include <ctrbox/log.h>
#include <ctrbox/shim.h>
#include <ctrbox/task.h>

/* The delete action's Shutdown call (containerd kills the action after 5 s). */
#define DELETE_SHUTDOWN_MS 2000

static void connect_h(struct ctrbox_ttrpc_call *call,
		      const Containerd__Task__V2__ConnectRequest *req, void *data)
{
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	(void)req, (void)data;

	ctrbox_log_info("Connect request");
	resp.shim_pid = getpid();
	resp.version = "example";
	ctrbox_ttrpc_call_reply(call, &resp.base);
}

static void shutdown_h(struct ctrbox_ttrpc_call *call,
		       const Containerd__Task__V2__ShutdownRequest *req, void *data)
{
	struct ctrbox_shim *s = data;
	(void)req;

	ctrbox_log_info("Shutdown request");
	ctrbox_ttrpc_call_reply(call, NULL);
	ctrbox_shim_request_exit(s);
}

/* Every other Task method answers Unimplemented: ctrbox_task_register leaves NULL ones out. */
static const struct ctrbox_task_ops task_ops = {
    .connect = connect_h,
    .shutdown = shutdown_h,
};

static int skeleton_init(struct ctrbox_shim *s, void **state)
{
	*state = NULL;
	return ctrbox_task_register(ctrbox_shim_server(s), &task_ops, s);
}

/* delete: containerd runs it once it has given up on this shim (after Create failed, or its
 * connection closed). The skeleton never holds a container, so a daemon still serving this id
 * serves nothing, and nothing else would ever stop it if containerd's Shutdown did not reach
 * it (containerd gives up on Shutdown when its cleanup deadline has passed, and then only
 * closes the connection). Ask it to shut down: the address is derived from the flags as start
 * derives it, so this works without the bundle's address file. A daemon that is gone already
 * (the normal case) is no error, and the DeleteResponse is the framework's default. */
static int skeleton_delete(const struct ctrbox_shim_opts *o,
			   Containerd__Task__V2__DeleteResponse *resp)
{
	Containerd__Task__V2__ShutdownRequest req = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	char *addr =
	    ctrbox_shim_socket_address(o->address ? o->address : "", o->ns, o->id ? o->id : "");
	struct ctrbox_ttrpc_client *c;
	struct ctrbox_loop *l = NULL;
	ProtobufCMessage *out = NULL;
	int code;
	(void)resp;

	if (!addr || ctrbox_loop_new(&l) < 0)
		goto out;
	if (ctrbox_ttrpc_client_connect(l, addr, &c) == 0) {
		req.id = o->id ? (char *)o->id : "";
		code =
		    ctrbox_ttrpc_client_call_sync(c, l, CTRBOX_TASK_SERVICE, "Shutdown", &req.base,
						  NULL, DELETE_SHUTDOWN_MS, &out, NULL);
		if (code == CTRBOX_OK)
			ctrbox_log_warn("a skeleton daemon still served %s: shut it down", addr);
		ctrbox_ttrpc_client_free(c);
	}
out:
	ctrbox_loop_free(l);
	free(addr);
	return 0;
}

static const struct ctrbox_shim_ops skeleton_ops = {
    .runtime = "io.containerd.skeleton.v1",
    .delete_shim = skeleton_delete,
    .init = skeleton_init,
};

int shim_skeleton_main(int argc, char **argv)
{
	if (applet_std_flags(argc, argv)) /* ctrbox's --help/--version; -v is the shim's */
		return 0;
	return ctrbox_shim_run(&skeleton_ops, argc, argv);
}
