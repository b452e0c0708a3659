/* containerd-shim-runc-v2: OOM events and Stats, from the container's cgroups (cgroup.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctrbox/log.h>
#include "cgroup.h"
#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "model.h"
#include "stats.h"

static void publish_oom(struct svc *s, struct container *c)
{
	Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;

	ev.container_id = c->id;
	publish(s, CTRBOX_TOPIC_TASK_OOM, &ev.base);
}

static void oom_unwatch(struct container *c)
{
	ctrbox_loop_del(c->svc->loop, c->oom_fd);
	close_fd(&c->oom_fd);
}

/* v1: the eventfd fires on an OOM in the memory cgroup, and once more when it is removed. */
static void oom_v1_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct container *c = data;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n) || cgroup_v1_dir_gone(c->cg.memory) > 0) {
		oom_unwatch(c);
		return;
	}
	publish_oom(c->svc, c);
}

/* v2: memory.events changed; an OOM is an oom_kill count above the last one seen. */
static void oom_v2_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct container *c = data;
	char buf[4096];
	uint64_t kills = 0;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (cgroup_v2_oom_kills(c->cg.unified, &kills) < 0) {
		oom_unwatch(c);
		return;
	}
	if (kills > c->oom_kills)
		publish_oom(c->svc, c);
	c->oom_kills = kills;
}

void oom_watch(struct svc *s, struct container *c)
{
	int v2 = c->cg.unified != NULL, fd;

	if (!c->have_cg || c->oom_fd >= 0 || (!v2 && !c->cg.memory))
		return;
	fd = v2 ? cgroup_v2_oom_watch(c->cg.unified) : cgroup_v1_oom_eventfd(c->cg.memory);
	if (fd < 0) {
		ctrbox_log_warn("%s: cannot watch for OOM: %s", c->id, strerror(-fd));
		return;
	}
	if (v2)
		cgroup_v2_oom_kills(c->cg.unified, &c->oom_kills);
	if (ctrbox_loop_add(s->loop, fd, EPOLLIN, v2 ? oom_v2_cb : oom_v1_cb, c) < 0) {
		close(fd);
		return;
	}
	c->oom_fd = fd;
}

void stats_h(struct ctrbox_ttrpc_call *call, const Containerd__Task__V2__StatsRequest *req,
	     void *data)
{
	Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	struct process *p = lookup(data, call, req->id, NULL);
	ProtobufCMessage *metrics = NULL;
	struct container *c;
	int r;

	if (!p)
		return;
	c = p->c;
	if (!c->have_cg)
		return (void)ctrbox_ttrpc_call_error(call, CTRBOX_NOT_FOUND,
						     "cgroup does not exist: not found");
	if (c->cg.unified) {
		r = cgroup_v2_metrics(c->cg.unified,
				      (Io__Containerd__Cgroups__V2__Metrics **)&metrics);
		any.type_url = "io.containerd.cgroups.v2.Metrics";
	} else {
		r = cgroup_v1_metrics(&c->cg, (Io__Containerd__Cgroups__V1__Metrics **)&metrics);
		any.type_url = "io.containerd.cgroups.v1.Metrics";
	}
	if (r < 0)
		return (void)ctrbox_ttrpc_call_error(
		    call, r == -ENOENT ? CTRBOX_NOT_FOUND : CTRBOX_UNKNOWN, "%s",
		    r == -ENOENT ? "cgroup deleted: not found" : strerror(-r));
	any.value.len = protobuf_c_message_get_packed_size(metrics);
	any.value.data = malloc(any.value.len ? any.value.len : 1);
	if (any.value.data) {
		protobuf_c_message_pack(metrics, any.value.data);
		resp.stats = &any;
		ctrbox_ttrpc_call_reply(call, &resp.base);
	} else {
		ctrbox_ttrpc_call_error(call, CTRBOX_RESOURCE_EXHAUSTED, "out of memory");
	}
	free(any.value.data);
	if (c->cg.unified)
		cgroup_v2_metrics_free((Io__Containerd__Cgroups__V2__Metrics *)metrics);
	else
		cgroup_v1_metrics_free((Io__Containerd__Cgroups__V1__Metrics *)metrics);
}
