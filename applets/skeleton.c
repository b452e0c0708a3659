/* containerd-shim-skeleton-v1: the smallest shim on lib/shim (Connect and Shutdown only). */
#include <stdlib.h>
#include <unistd.h>

#include "applet.h"
#include "log.h"
#include <ctrbox/shim.h>
#include <ctrbox/task.h>

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

static const struct ctrbox_shim_ops skeleton_ops = {
    .runtime = "io.containerd.skeleton.v1",
    .init = skeleton_init,
};

int shim_skeleton_main(int argc, char **argv)
{
	if (applet_std_flags(argc, argv)) /* ctrbox's --help/--version; -v is the shim's */
		return 0;
	return ctrbox_shim_run(&skeleton_ops, argc, argv);
}
