/* ctrbox/task.h: containerd's Task service (containerd.task.v2.Task, what containerd calls on
 * a runtime v2 shim) as a table of typed callbacks, plus the task event topics.
 *
 * The request and response types are protobuf-c's, generated from containerd's shim.proto
 * (package containerd.task.v2; the installed headers are task/shim.pb-c.h and what it
 * includes, events/task.pb-c.h for events). A callback answers with
 * ctrbox_ttrpc_call_reply(call, &resp.base) (NULL for methods returning google.protobuf.Empty)
 * or ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND, "..."), right away or later from the loop:
 * a slow operation keeps the call and answers when it completes, and the loop serves other
 * calls meanwhile. A NULL callback answers Unimplemented, as Go's ttrpc does. */
#ifndef CTRBOX_TASK_H
#define CTRBOX_TASK_H

#include <ctrbox/shim.h>
#include <ctrbox/ttrpc.h>

#include <protobuf-c/protobuf-c.h>

#include "events/task.pb-c.h"
#ifdef __cplusplus
/* protoc-c names the service stub's members after the methods, and one is "delete": for C++
 * that member is called delete_ (the stubs are not how libctrbox serves anyway). */
#define delete delete_
#endif
#include "task/shim.pb-c.h"
#ifdef __cplusplus
#undef delete
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The service name clients call, and its protobuf-c descriptor. */
#define CTRBOX_TASK_SERVICE "containerd.task.v2.Task"
/* containerd 2.x's name for the same service (package containerd.task.v3: the v2 messages,
 * renamed, wire-identical). ctrbox_task_register serves both. */
#define CTRBOX_TASK_SERVICE_V3 "containerd.task.v3.Task"
#define CTRBOX_TASK_DESCRIPTOR (&containerd__task__v2__task__descriptor)

/* Declares one callback member: void (*name)(call, const Containerd__Task__V2__<Req> *, data). */
#define CTRBOX_TASK_CB(name, Req)                                                                  \
	void (*name)(struct ctrbox_ttrpc_call * call, const Containerd__Task__V2__##Req *req,      \
		     void *data)

/* One member per Task method, in the .proto's order; data is what ctrbox_task_register got. */
struct ctrbox_task_ops {
	CTRBOX_TASK_CB(state, StateRequest);	   /* -> StateResponse */
	CTRBOX_TASK_CB(create, CreateTaskRequest); /* -> CreateTaskResponse */
	CTRBOX_TASK_CB(start, StartRequest);	   /* -> StartResponse */
	CTRBOX_TASK_CB(delete_, DeleteRequest);	   /* -> DeleteResponse ("delete" is C++'s) */
	CTRBOX_TASK_CB(pids, PidsRequest);	   /* -> PidsResponse */
	CTRBOX_TASK_CB(pause, PauseRequest);	   /* -> Empty */
	CTRBOX_TASK_CB(resume, ResumeRequest);	   /* -> Empty */
	CTRBOX_TASK_CB(checkpoint, CheckpointTaskRequest); /* -> Empty */
	CTRBOX_TASK_CB(kill, KillRequest);		   /* -> Empty */
	CTRBOX_TASK_CB(exec, ExecProcessRequest);	   /* -> Empty */
	CTRBOX_TASK_CB(resize_pty, ResizePtyRequest);	   /* -> Empty */
	CTRBOX_TASK_CB(close_io, CloseIORequest);	   /* -> Empty */
	CTRBOX_TASK_CB(update, UpdateTaskRequest);	   /* -> Empty */
	CTRBOX_TASK_CB(wait, WaitRequest);		   /* -> WaitResponse */
	CTRBOX_TASK_CB(stats, StatsRequest);		   /* -> StatsResponse */
	CTRBOX_TASK_CB(connect, ConnectRequest);	   /* -> ConnectResponse */
	CTRBOX_TASK_CB(shutdown, ShutdownRequest);	   /* -> Empty */
};

/* Serves the Task service with ops on server (in a shim: ctrbox_shim_server(shim), from the
 * init hook), under both CTRBOX_TASK_SERVICE and CTRBOX_TASK_SERVICE_V3, so one shim answers
 * containerd 1.6 and 2.x (the framework's start answer tells 2.x to use v3). ops is copied;
 * data goes to every callback. Returns 0 or a negative errno. */
int ctrbox_task_register(struct ctrbox_ttrpc_server *server, const struct ctrbox_task_ops *ops,
			 void *data);

/* Task event topics (publish with ctrbox_shim_publish and the matching
 * Containerd__Events__Task* message from events/task.pb-c.h). */
#define CTRBOX_TOPIC_TASK_CREATE "/tasks/create"	     /* TaskCreate */
#define CTRBOX_TOPIC_TASK_START "/tasks/start"		     /* TaskStart */
#define CTRBOX_TOPIC_TASK_EXIT "/tasks/exit"		     /* TaskExit */
#define CTRBOX_TOPIC_TASK_DELETE "/tasks/delete"	     /* TaskDelete */
#define CTRBOX_TOPIC_TASK_OOM "/tasks/oom"		     /* TaskOOM */
#define CTRBOX_TOPIC_TASK_EXEC_ADDED "/tasks/exec-added"     /* TaskExecAdded */
#define CTRBOX_TOPIC_TASK_EXEC_STARTED "/tasks/exec-started" /* TaskExecStarted */
#define CTRBOX_TOPIC_TASK_PAUSED "/tasks/paused"	     /* TaskPaused */
#define CTRBOX_TOPIC_TASK_RESUMED "/tasks/resumed"	     /* TaskResumed */
#define CTRBOX_TOPIC_TASK_CHECKPOINTED "/tasks/checkpointed" /* TaskCheckpointed */

#ifdef __cplusplus
}
#endif

#endif
