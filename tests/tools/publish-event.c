/* publish-event: drives lib/publisher against a real containerd: queues /tasks/oom events for
 * the given container ids on $TTRPC_ADDRESS and waits until they are delivered (test tool). */
#include <stdio.h>
#include <stdlib.h>

#include "events/task.pb-c.h"
#include <ctrbox/loop.h>
#include "shim/publisher.h"

int main(int argc, char **argv)
{
	const char *addr = getenv("TTRPC_ADDRESS");
	struct publisher *p;
	struct ctrbox_loop *l;
	unsigned left;
	unsigned long dropped;

	if (argc < 3 || !addr) {
		fprintf(stderr, "usage: TTRPC_ADDRESS=SOCK publish-event NAMESPACE ID...\n");
		return 2;
	}
	if (ctrbox_loop_new(&l) < 0 || publisher_new(l, addr, argv[1], &p) < 0)
		return 1;
	for (int i = 2; i < argc; i++) {
		Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
		ev.container_id = argv[i];
		if (publisher_publish(p, "/tasks/oom", &ev.base) < 0)
			return 1;
	}
	/* long enough for the whole retry schedule (1+2+3+4+5 s) */
	left = publisher_drain(p, 20000);
	dropped = publisher_dropped(p);
	printf("sent=%lu dropped=%lu pending=%u\n", publisher_sent(p), dropped, left);
	publisher_free(p);
	ctrbox_loop_free(l);
	return left == 0 && dropped == 0 ? 0 : 1;
}
