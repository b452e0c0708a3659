/* A containerd shim on libctrbox: Connect and Shutdown, every other Task method Unimplemented. */
#include <ctrbox/ctrbox.h>
#include <unistd.h>

static void on_connect(struct ctrbox_ttrpc_call *call,
		       const Containerd__Task__V2__ConnectRequest *req, void *shim)
{
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;

	ctrbox_log_info("Connect request for %s", req->id);
	resp.shim_pid = getpid();
	resp.version = "example";
	ctrbox_ttrpc_call_reply(call, &resp.base);
}

static void on_shutdown(struct ctrbox_ttrpc_call *call,
			const Containerd__Task__V2__ShutdownRequest *req, void *shim)
{
	ctrbox_ttrpc_call_reply(call, NULL); /* NULL: google.protobuf.Empty */
	ctrbox_shim_request_exit(shim);
}

static int init(struct ctrbox_shim *shim, void **state)
{
	static const struct ctrbox_task_ops task = {.connect = on_connect, .shutdown = on_shutdown};
	return ctrbox_task_register(ctrbox_shim_server(shim), &task, shim);
}

int main(int argc, char **argv)
{
	static const struct ctrbox_shim_ops ops = {.runtime = "io.containerd.example.v1", .init = init};
	return ctrbox_shim_run(&ops, argc, argv);
}
