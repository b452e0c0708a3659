/* The public Task service table (ctrbox_task_register) over a real socket: typed dispatch,
 * NULL members answering Unimplemented, an asynchronous reply from a timer; and the reaper. */
#include <ctrbox/task.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

struct tstate {
	struct ctrbox_loop *loop;
	int connects, states;
	char last_id[64];
	struct ctrbox_ttrpc_call *held; /* State answered later, from a timer */
};

static void t_connect(struct ctrbox_ttrpc_call *call,
		      const Containerd__Task__V2__ConnectRequest *req, void *data)
{
	struct tstate *t = data;
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;

	t->connects++;
	snprintf(t->last_id, sizeof(t->last_id), "%s", req->id);
	resp.shim_pid = 4242;
	resp.task_pid = 7;
	resp.version = "unit";
	ctrbox_ttrpc_call_reply(call, &resp.base);
}

static void state_later(struct ctrbox_loop *l, void *data)
{
	struct tstate *t = data;
	Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	(void)l;

	resp.id = t->last_id;
	resp.pid = 99;
	resp.status = CONTAINERD__V1__TYPES__STATUS__RUNNING;
	ctrbox_ttrpc_call_reply(t->held, &resp.base);
	t->held = NULL;
}

static void t_state(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__StateRequest *req,
		    void *data)
{
	struct tstate *t = data;

	t->states++;
	snprintf(t->last_id, sizeof(t->last_id), "%s", req->id);
	t->held = call;
	ctrbox_loop_timer_in(t->loop, 20, state_later, t);
}

static void t_delete(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__DeleteRequest *req,
		     void *data)
{
	ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND, "task %s not found", req->id);
	(void)data;
}

void test_task_register(void)
{
	static const struct ctrbox_task_ops ops = {
	    .connect = t_connect, .state = t_state, .delete_ = t_delete};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct tstate t = {0};
	struct ctrbox_ttrpc_server *srv = NULL;
	struct ctrbox_ttrpc_client *cl = NULL;
	Containerd__Task__V2__ConnectRequest creq = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	Containerd__Task__V2__StateRequest sreq = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	Containerd__Task__V2__DeleteRequest dreq = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	Containerd__Task__V2__KillRequest kreq = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char *msg = NULL;
	int fd, code;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/ctrbox-unit-task.%d.sock", getpid());
	unlink(sa.sun_path);
	CHECK(ctrbox_loop_new(&t.loop) == 0);
	CHECK(ctrbox_ttrpc_server_new(t.loop, &srv) == 0);
	CHECK(ctrbox_task_register(srv, &ops, &t) == 0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 8) == 0);
	CHECK(ctrbox_ttrpc_server_listen_fd(srv, fd) == 0);
	CHECK(ctrbox_ttrpc_client_connect(t.loop, sa.sun_path, &cl) == 0);
	if (!cl)
		goto out;

	creq.id = "c1";
	code = ctrbox_ttrpc_client_call_sync(cl, t.loop, CTRBOX_TASK_SERVICE, "Connect", &creq.base,
					     &containerd__task__v2__connect_response__descriptor,
					     2000, &resp, &msg);
	CHECK(code == CTRBOX_OK && resp);
	if (code == CTRBOX_OK && resp) {
		Containerd__Task__V2__ConnectResponse *r = (void *)resp;
		CHECK(r->shim_pid == 4242 && r->task_pid == 7);
		CHECK_STR(r->version, "unit");
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	CHECK(t.connects == 1);
	CHECK_STR(t.last_id, "c1");
	free(msg), msg = NULL, resp = NULL;

	/* asynchronous: the callback returned before the reply was made */
	sreq.id = "s1";
	code = ctrbox_ttrpc_client_call_sync(cl, t.loop, CTRBOX_TASK_SERVICE, "State", &sreq.base,
					     &containerd__task__v2__state_response__descriptor,
					     2000, &resp, &msg);
	CHECK(code == CTRBOX_OK && resp);
	if (code == CTRBOX_OK && resp) {
		Containerd__Task__V2__StateResponse *r = (void *)resp;
		CHECK(r->pid == 99 && r->status == CONTAINERD__V1__TYPES__STATUS__RUNNING);
		CHECK_STR(r->id, "s1");
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	free(msg), msg = NULL, resp = NULL;

	/* the member named delete_ serves "Delete" */
	dreq.id = "gone";
	code = ctrbox_ttrpc_client_call_sync(cl, t.loop, CTRBOX_TASK_SERVICE, "Delete", &dreq.base,
					     &containerd__task__v2__delete_response__descriptor,
					     2000, &resp, &msg);
	CHECK(code == CTRBOX_NOT_FOUND);
	CHECK_STR(msg, "task gone not found");
	free(msg), msg = NULL, resp = NULL;

	/* a NULL member answers Unimplemented, as for a method never listed */
	kreq.id = "k";
	code =
	    ctrbox_ttrpc_client_call_sync(cl, t.loop, CTRBOX_TASK_SERVICE, "Kill", &kreq.base,
					  &google__protobuf__empty__descriptor, 2000, &resp, &msg);
	CHECK(code == CTRBOX_UNIMPLEMENTED);
	CHECK_STR(msg, "method Kill");
	free(msg), msg = NULL;
	CHECK(t.states == 1 && t.connects == 1);
out:
	ctrbox_ttrpc_client_free(cl);
	ctrbox_ttrpc_server_free(srv);
	ctrbox_loop_free(t.loop);
	unlink(sa.sun_path);
}

struct reaped {
	int n;
	pid_t pids[4];
	int codes[4];
};

static void on_exit_cb(pid_t pid, int wstatus, void *data)
{
	struct reaped *r = data;

	if (r->n < 4) {
		r->pids[r->n] = pid;
		r->codes[r->n] =
		    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	}
	r->n++;
}

void test_shim_reap(void)
{
	struct reaped r = {0};
	pid_t kids[3];
	int i, j, found;

	for (i = 0; i < 3; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(10 + i);
	}
	for (i = 0; i < 3; i++) { /* all three are zombies before the reap */
		siginfo_t si = {0};
		CHECK(waitid(P_PID, kids[i], &si, WEXITED | WNOWAIT) == 0);
	}
	CHECK(ctrbox_shim_reap(on_exit_cb, &r) == 3);
	CHECK(r.n == 3);
	for (i = 0; i < 3; i++) {
		found = 0;
		for (j = 0; j < r.n && j < 4; j++)
			found |= r.pids[j] == kids[i] && r.codes[j] == 10 + i;
		CHECK(found);
	}
	CHECK(ctrbox_shim_reap(on_exit_cb, &r) == 0); /* nothing left: no block, no call */
	CHECK(r.n == 3);
	CHECK(ctrbox_shim_reap(NULL, NULL) == 0);
}
