/* The Task service as typed callbacks (ctrbox/task.h): one trampoline per method casts the
 * decoded request to its type and calls the author's callback. */
#include <ctrbox/task.h>

#include <errno.h>
#include <stdlib.h>

#include "protos/ttrpc_int.h"

#define TASK_METHODS(X)                                                                            \
	X(state, "State", StateRequest)                                                            \
	X(create, "Create", CreateTaskRequest)                                                     \
	X(start, "Start", StartRequest)                                                            \
	X(delete_, "Delete", DeleteRequest)                                                        \
	X(pids, "Pids", PidsRequest)                                                               \
	X(pause, "Pause", PauseRequest)                                                            \
	X(resume, "Resume", ResumeRequest)                                                         \
	X(checkpoint, "Checkpoint", CheckpointTaskRequest)                                         \
	X(kill, "Kill", KillRequest)                                                               \
	X(exec, "Exec", ExecProcessRequest)                                                        \
	X(resize_pty, "ResizePty", ResizePtyRequest)                                               \
	X(close_io, "CloseIO", CloseIORequest)                                                     \
	X(update, "Update", UpdateTaskRequest)                                                     \
	X(wait, "Wait", WaitRequest)                                                               \
	X(stats, "Stats", StatsRequest)                                                            \
	X(connect, "Connect", ConnectRequest)                                                      \
	X(shutdown, "Shutdown", ShutdownRequest)

#define COUNT(member, method, Req) +1
enum { NMETHODS = 0 TASK_METHODS(COUNT) };

struct task_reg {
	struct ctrbox_task_ops ops;
	void *data;
	struct ctrbox_ttrpc_method entries[NMETHODS + 1];
};

#define TRAMPOLINE(member, method, Req)                                                            \
	static void t_##member(struct ctrbox_ttrpc_call *call, const ProtobufCMessage *req,        \
			       void *data)                                                         \
	{                                                                                          \
		struct task_reg *r = data;                                                         \
		r->ops.member(call, (const Containerd__Task__V2__##Req *)req, r->data);            \
	}
TASK_METHODS(TRAMPOLINE)

int ctrbox_task_register(struct ctrbox_ttrpc_server *server, const struct ctrbox_task_ops *ops,
			 void *data)
{
	struct task_reg *r = calloc(1, sizeof(*r));
	size_t n = 0;
	int err;

	if (!r)
		return -ENOMEM;
	r->ops = *ops;
	r->data = data;
#define ENTRY(member, method, Req)                                                                 \
	if (ops->member)                                                                           \
		r->entries[n++] = (struct ctrbox_ttrpc_method){method, t_##member};
	TASK_METHODS(ENTRY)
	r->entries[n] = (struct ctrbox_ttrpc_method){NULL, NULL};
	/* Methods left NULL are not listed: the server answers them Unimplemented. */
	/* The same handlers under both names: containerd 2.x calls containerd.task.v3.Task
	 * when the start answer said version 3, 1.6 the v2 name. The first registration owns r. */
	err = ttrpc_server_register_owned(server, NULL, &containerd__task__v2__task__descriptor,
					  r->entries, r, r);
	if (err < 0) {
		free(r);
		return err;
	}
	err = ttrpc_server_register_owned(server, CTRBOX_TASK_SERVICE_V3,
					  &containerd__task__v2__task__descriptor, r->entries, r,
					  NULL);
	return err;
}
