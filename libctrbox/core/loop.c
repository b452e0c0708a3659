/* Single-threaded epoll loop: fd watchers and absolute monotonic timers. */
#include <ctrbox/loop.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct watcher {
	int fd;
	int dead;
	ctrbox_fd_cb cb;
	void *data;
	struct watcher *next; /* all watchers, for lookup by fd */
};

struct ctrbox_timer {
	uint64_t deadline;
	ctrbox_timer_cb cb;
	void *data;
	struct ctrbox_timer *next; /* sorted by deadline */
};

struct ctrbox_loop {
	int epfd;
	int stop;
	int dispatching;
	struct watcher *watchers;
	struct ctrbox_timer *timers;
};

uint64_t ctrbox_loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ctrbox_loop_new(struct ctrbox_loop **out)
{
	struct ctrbox_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

static void reap_dead_watchers(struct ctrbox_loop *l)
{
	struct watcher **pp = &l->watchers;
	while (*pp) {
		struct watcher *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

void ctrbox_loop_free(struct ctrbox_loop *l)
{
	if (!l)
		return;
	for (struct watcher *w = l->watchers; w; w = w->next)
		w->dead = 1;
	reap_dead_watchers(l);
	while (l->timers) {
		struct ctrbox_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	close(l->epfd);
	free(l);
}

static struct watcher *find_watcher(struct ctrbox_loop *l, int fd)
{
	for (struct watcher *w = l->watchers; w; w = w->next)
		if (w->fd == fd && !w->dead)
			return w;
	return NULL;
}

int ctrbox_loop_add(struct ctrbox_loop *l, int fd, uint32_t events, ctrbox_fd_cb cb, void *data)
{
	struct epoll_event ev = {.events = events};
	struct watcher *w;

	if (find_watcher(l, fd))
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->data = data;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		free(w);
		return err;
	}
	w->next = l->watchers;
	l->watchers = w;
	return 0;
}

int ctrbox_loop_mod(struct ctrbox_loop *l, int fd, uint32_t events)
{
	struct watcher *w = find_watcher(l, fd);
	struct epoll_event ev = {.events = events};

	if (!w)
		return -ENOENT;
	ev.data.ptr = w;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int ctrbox_loop_del(struct ctrbox_loop *l, int fd)
{
	struct watcher *w = find_watcher(l, fd);

	if (!w)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* Freed after the current dispatch round: pending events may still point at it. */
	w->dead = 1;
	if (!l->dispatching)
		reap_dead_watchers(l);
	return 0;
}

struct ctrbox_timer *ctrbox_loop_timer_at(struct ctrbox_loop *l, uint64_t deadline_ms,
					  ctrbox_timer_cb cb, void *data)
{
	struct ctrbox_timer *t = calloc(1, sizeof(*t)), **pp = &l->timers;

	if (!t)
		return NULL;
	t->deadline = deadline_ms;
	t->cb = cb;
	t->data = data;
	while (*pp && (*pp)->deadline <= deadline_ms)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	return t;
}

struct ctrbox_timer *ctrbox_loop_timer_in(struct ctrbox_loop *l, uint64_t delay_ms,
					  ctrbox_timer_cb cb, void *data)
{
	return ctrbox_loop_timer_at(l, ctrbox_loop_now_ms() + delay_ms, cb, data);
}

void ctrbox_loop_timer_cancel(struct ctrbox_loop *l, struct ctrbox_timer *t)
{
	for (struct ctrbox_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

static void fire_timers(struct ctrbox_loop *l)
{
	uint64_t now = ctrbox_loop_now_ms();

	while (l->timers && l->timers->deadline <= now && !l->stop) {
		struct ctrbox_timer *t = l->timers;
		l->timers = t->next;
		t->cb(l, t->data);
		free(t);
	}
}

static int next_timeout(struct ctrbox_loop *l, uint64_t until)
{
	uint64_t now = ctrbox_loop_now_ms(), next = until;

	if (l->timers && (next == 0 || l->timers->deadline < next))
		next = l->timers->deadline;
	if (next == 0)
		return -1;
	if (next <= now)
		return 0;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

static int loop_once(struct ctrbox_loop *l, uint64_t until)
{
	struct epoll_event evs[32];
	int n = epoll_wait(l->epfd, evs, 32, next_timeout(l, until));

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->dispatching = 1;
	for (int i = 0; i < n && !l->stop; i++) {
		struct watcher *w = evs[i].data.ptr;
		if (!w->dead)
			w->cb(l, w->fd, evs[i].events, w->data);
	}
	l->dispatching = 0;
	reap_dead_watchers(l);
	fire_timers(l);
	return 0;
}

int ctrbox_loop_run(struct ctrbox_loop *l)
{
	int ret = 0;

	l->stop = 0;
	while (!l->stop && ret == 0)
		ret = loop_once(l, 0);
	return ret;
}

int ctrbox_loop_run_until(struct ctrbox_loop *l, const int *flag, uint64_t deadline_ms)
{
	int ret = 0;

	l->stop = 0;
	while (!*flag && !l->stop && ret == 0) {
		if (deadline_ms && ctrbox_loop_now_ms() >= deadline_ms)
			return -ETIMEDOUT;
		ret = loop_once(l, deadline_ms);
	}
	return ret;
}

void ctrbox_loop_stop(struct ctrbox_loop *l)
{
	l->stop = 1;
}
