/* The process monitor: exits of reaped children to their subscribers, or into an early-exit
 * cache (newest first) until somebody watches or claims the pid. */
#include <ctrbox/loop.h>
#include <ctrbox/monitor.h>
#include <ctrbox/shim.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

struct watch {
	pid_t pid;
	ctrbox_monitor_exit_fn cb;
	void *data;
	struct watch *next;
};

struct early {
	pid_t pid;
	int wstatus;
	uint64_t when_ms;
	struct early *next;
};

struct ctrbox_monitor {
	struct watch *watches;
	struct early *early; /* newest first */
	unsigned nearly, ttl_ms, max;
};

struct ctrbox_monitor *ctrbox_monitor_new(void)
{
	struct ctrbox_monitor *m = calloc(1, sizeof(*m));

	if (m) {
		m->ttl_ms = CTRBOX_MONITOR_TTL_MS;
		m->max = CTRBOX_MONITOR_CACHE_MAX;
	}
	return m;
}

void ctrbox_monitor_free(struct ctrbox_monitor *m)
{
	if (!m)
		return;
	while (m->watches) {
		struct watch *w = m->watches;
		m->watches = w->next;
		free(w);
	}
	while (m->early) {
		struct early *e = m->early;
		m->early = e->next;
		free(e);
	}
	free(m);
}

void ctrbox_monitor_set_cache(struct ctrbox_monitor *m, unsigned ttl_ms, unsigned max)
{
	if (ttl_ms)
		m->ttl_ms = ttl_ms;
	if (max)
		m->max = max;
}

static void prune(struct ctrbox_monitor *m)
{
	uint64_t now = ctrbox_loop_now_ms();

	for (struct early **pp = &m->early; *pp;) {
		if (now - (*pp)->when_ms > m->ttl_ms) {
			struct early *e = *pp;
			*pp = e->next;
			m->nearly--;
			free(e);
		} else {
			pp = &(*pp)->next;
		}
	}
}

/* An exit nobody watches: kept newest first, the oldest dropped past the bound. */
static void remember(struct ctrbox_monitor *m, pid_t pid, int wstatus)
{
	struct early *e;

	prune(m);
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->pid = pid;
	e->wstatus = wstatus;
	e->when_ms = ctrbox_loop_now_ms();
	e->next = m->early;
	m->early = e;
	m->nearly++;
	while (m->nearly > m->max) { /* drop the oldest */
		struct early **pp = &m->early;
		while ((*pp)->next)
			pp = &(*pp)->next;
		free(*pp);
		*pp = NULL;
		m->nearly--;
	}
}

int ctrbox_monitor_claim(struct ctrbox_monitor *m, pid_t pid, int *wstatus)
{
	prune(m);
	for (struct early **pp = &m->early; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct early *e = *pp;
			*pp = e->next;
			m->nearly--;
			if (wstatus)
				*wstatus = e->wstatus;
			free(e);
			return 1;
		}
	}
	return 0;
}

unsigned ctrbox_monitor_cached(const struct ctrbox_monitor *m)
{
	return m->nearly;
}

static struct watch *take_watch(struct ctrbox_monitor *m, pid_t pid)
{
	for (struct watch **pp = &m->watches; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct watch *w = *pp;
			*pp = w->next;
			return w;
		}
	}
	return NULL;
}

int ctrbox_monitor_watch(struct ctrbox_monitor *m, pid_t pid, ctrbox_monitor_exit_fn cb, void *data)
{
	struct watch *w;
	int wstatus;

	if (pid <= 0 || !cb)
		return -EINVAL;
	for (w = m->watches; w; w = w->next)
		if (w->pid == pid)
			return -EEXIST;
	if (ctrbox_monitor_claim(m, pid, &wstatus)) {
		cb(pid, wstatus, data);
		return 1;
	}
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	w->pid = pid;
	w->cb = cb;
	w->data = data;
	w->next = m->watches;
	m->watches = w;
	return 0;
}

int ctrbox_monitor_unwatch(struct ctrbox_monitor *m, pid_t pid)
{
	struct watch *w = take_watch(m, pid);

	if (!w)
		return -ENOENT;
	free(w);
	return 0;
}

static void dispatch(pid_t pid, int wstatus, void *data)
{
	struct ctrbox_monitor *m = data;
	struct watch *w = take_watch(m, pid);

	if (w) {
		ctrbox_monitor_exit_fn cb = w->cb;
		void *cbdata = w->data;
		free(w);
		cb(pid, wstatus, cbdata);
	} else {
		remember(m, pid, wstatus);
	}
}

int ctrbox_monitor_reap(struct ctrbox_monitor *m)
{
	return ctrbox_shim_reap(dispatch, m);
}
