/* The process monitor with real forked children, each test in a process of its own. Each child
 * is waited for without being reaped (waitid WNOWAIT), so the monitor's reap order is the
 * tests' order. */
#include "unit.h"

#include <ctrbox/loop.h>
#include <ctrbox/monitor.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A child that exits with code, already a zombie when this returns. */
static pid_t exited_child(int code)
{
	siginfo_t si;
	pid_t pid = fork();

	if (pid == 0)
		_exit(code);
	if (pid > 0)
		waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	return pid;
}

struct seen {
	int calls;
	pid_t pid[4];
	int wstatus[4];
	struct ctrbox_monitor *m;
	pid_t rewatch; /* watched from inside the callback */
};

static void on_exit_cb(pid_t pid, int wstatus, void *data)
{
	struct seen *s = data;

	if (s->calls < 4) {
		s->pid[s->calls] = pid;
		s->wstatus[s->calls] = wstatus;
	}
	s->calls++;
	if (s->rewatch) {
		pid_t p = s->rewatch;
		s->rewatch = 0;
		CHECK(ctrbox_monitor_watch(s->m, p, on_exit_cb, s) == 0);
	}
}

static void test_monitor_exit_before_watch_body(void)
{
	struct ctrbox_monitor *m = ctrbox_monitor_new();
	struct seen s = {0};
	pid_t pid = exited_child(3);

	CHECK(m && pid > 0);
	CHECK(ctrbox_monitor_reap(m) == 1);
	CHECK(ctrbox_monitor_cached(m) == 1);
	CHECK(ctrbox_monitor_watch(m, pid, on_exit_cb, &s) == 1); /* ran before returning */
	CHECK(s.calls == 1 && s.pid[0] == pid);
	CHECK(WIFEXITED(s.wstatus[0]) && WEXITSTATUS(s.wstatus[0]) == 3);
	CHECK(ctrbox_monitor_cached(m) == 0);
	CHECK(ctrbox_monitor_unwatch(m, pid) == -ENOENT); /* consumed, not subscribed */
	CHECK(ctrbox_monitor_reap(m) == 0);
	ctrbox_monitor_free(m);
}

static void test_monitor_watch_dispatch_body(void)
{
	struct ctrbox_monitor *m = ctrbox_monitor_new();
	struct seen s = {.m = m};
	pid_t a, b, c;
	int ws = 0;

	/* a: watched, killed; b: watched then unwatched (to the cache); c: watched from a's cb */
	a = fork();
	if (a == 0) {
		pause();
		_exit(0);
	}
	b = fork();
	if (b == 0)
		_exit(5);
	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	CHECK(ctrbox_monitor_watch(m, a, on_exit_cb, &s) == 0);
	CHECK(ctrbox_monitor_watch(m, a, on_exit_cb, &s) == -EEXIST);
	CHECK(ctrbox_monitor_watch(m, b, on_exit_cb, &s) == 0);
	CHECK(ctrbox_monitor_unwatch(m, b) == 0);
	CHECK(ctrbox_monitor_watch(m, -1, on_exit_cb, &s) == -EINVAL);
	s.rewatch = c;
	kill(a, SIGKILL);
	waitid(P_PID, (id_t)a, &(siginfo_t){0}, WEXITED | WNOWAIT);
	waitid(P_PID, (id_t)b, &(siginfo_t){0}, WEXITED | WNOWAIT);
	CHECK(ctrbox_monitor_reap(m) == 2);
	CHECK(s.calls == 1 && s.pid[0] == a);
	CHECK(WIFSIGNALED(s.wstatus[0]) && WTERMSIG(s.wstatus[0]) == SIGKILL);
	CHECK(ctrbox_monitor_claim(m, b, &ws) == 1 && WEXITSTATUS(ws) == 5);
	CHECK(ctrbox_monitor_claim(m, b, &ws) == 0);
	kill(c, SIGTERM);
	waitid(P_PID, (id_t)c, &(siginfo_t){0}, WEXITED | WNOWAIT);
	CHECK(ctrbox_monitor_reap(m) == 1);
	CHECK(s.calls == 2 && s.pid[1] == c && WTERMSIG(s.wstatus[1]) == SIGTERM);
	CHECK(ctrbox_monitor_cached(m) == 0);
	ctrbox_monitor_free(m);
}

static void test_monitor_cache_bound_order_body(void)
{
	struct ctrbox_monitor *m = ctrbox_monitor_new();
	pid_t p[3];
	int ws = 0;

	ctrbox_monitor_set_cache(m, 0, 2);
	for (int i = 0; i < 3; i++) { /* reaped one by one: the cache's order is this order */
		p[i] = exited_child(10 + i);
		CHECK(ctrbox_monitor_reap(m) == 1);
	}
	CHECK(ctrbox_monitor_cached(m) == 2);
	CHECK(ctrbox_monitor_claim(m, p[0], &ws) == 0); /* the oldest was dropped */
	CHECK(ctrbox_monitor_claim(m, p[2], &ws) == 1 && WEXITSTATUS(ws) == 12);
	CHECK(ctrbox_monitor_claim(m, p[1], &ws) == 1 && WEXITSTATUS(ws) == 11);
	CHECK(ctrbox_monitor_cached(m) == 0);
	ctrbox_monitor_free(m);
}

static void test_monitor_cache_ttl_body(void)
{
	struct ctrbox_monitor *m = ctrbox_monitor_new();
	struct seen s = {0};
	uint64_t t0;
	pid_t pid, kept;

	ctrbox_monitor_set_cache(m, 30, 0);
	pid = exited_child(1);
	CHECK(ctrbox_monitor_reap(m) == 1 && ctrbox_monitor_cached(m) == 1);
	t0 = ctrbox_loop_now_ms();
	while (ctrbox_loop_now_ms() - t0 <= 40) /* the clock, not a guess: past the TTL */
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	kept = exited_child(2); /* a fresh one survives the prune its own remember does */
	CHECK(ctrbox_monitor_reap(m) == 1);
	CHECK(ctrbox_monitor_cached(m) == 1);
	CHECK(ctrbox_monitor_claim(m, pid, NULL) == 0);
	CHECK(ctrbox_monitor_watch(m, pid, on_exit_cb, &s) == 0 && s.calls == 0);
	CHECK(ctrbox_monitor_unwatch(m, pid) == 0);
	CHECK(ctrbox_monitor_claim(m, kept, NULL) == 1);
	ctrbox_monitor_free(m);
}

UNIT_TEST(test_monitor_exit_before_watch)
{
	unit_in_own_process(test_monitor_exit_before_watch_body);
}

UNIT_TEST(test_monitor_watch_dispatch)
{
	unit_in_own_process(test_monitor_watch_dispatch_body);
}

UNIT_TEST(test_monitor_cache_bound_order)
{
	unit_in_own_process(test_monitor_cache_bound_order_body);
}

UNIT_TEST(test_monitor_cache_ttl)
{
	unit_in_own_process(test_monitor_cache_ttl_body);
}
