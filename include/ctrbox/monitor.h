/* ctrbox/monitor.h: the process monitor of the shim crate. It reaps a shim's children and
 * hands each exit to the one who subscribed to that pid; an exit that arrives before anybody
 * watches its pid (a process that exits before its spawner learned its pid) is kept in an
 * early-exit cache for a later watch or claim. Single-threaded: use it from the loop's thread,
 * usually from the shim's sigchld hook (ctrbox_monitor_reap). */
#ifndef CTRBOX_MONITOR_H
#define CTRBOX_MONITOR_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Early-exit cache defaults: entries older than this are pruned, at most this many are kept. */
#define CTRBOX_MONITOR_TTL_MS 10000u
#define CTRBOX_MONITOR_CACHE_MAX 1024u

struct ctrbox_monitor;

/* A subscriber's callback: pid exited with wstatus (raw, as waitpid gives it). */
typedef void (*ctrbox_monitor_exit_fn)(pid_t pid, int wstatus, void *data);

/* A new monitor with no subscription and an empty cache. NULL on ENOMEM. */
struct ctrbox_monitor *ctrbox_monitor_new(void);

/* Frees m (NULL is a no-op): drops its subscriptions and its cache, calls no callback. */
void ctrbox_monitor_free(struct ctrbox_monitor *m);

/* Subscribes once to pid's exit: cb(pid, wstatus, data) runs from ctrbox_monitor_reap when the
 * pid is reaped, and the subscription is gone before it runs. If pid already exited unclaimed
 * (it is in the early-exit cache), the entry is taken, cb runs before this returns and the
 * result is 1. Otherwise 0 (subscribed), -ENOMEM, -EINVAL (pid <= 0 or no cb), or -EEXIST if
 * pid is already watched (the existing subscription is kept). */
int ctrbox_monitor_watch(struct ctrbox_monitor *m, pid_t pid, ctrbox_monitor_exit_fn cb,
			 void *data);

/* Cancels pid's subscription without calling it: 0, or -ENOENT if pid is not watched. */
int ctrbox_monitor_unwatch(struct ctrbox_monitor *m, pid_t pid);

/* Reaps every exited child (waitpid(-1, WNOHANG), through ctrbox_shim_reap) and dispatches each
 * exit in reap order: to its subscriber (removed before the call), else into the early-exit
 * cache (entries older than the TTL pruned first; past the bound the oldest is dropped).
 * Callbacks may call watch, unwatch and claim. Returns how many children were reaped. */
int ctrbox_monitor_reap(struct ctrbox_monitor *m);

/* Takes pid's cached exit, if any (expired entries are pruned first): 1 with *wstatus set
 * (wstatus may be NULL), or 0 if the cache has none for pid. */
int ctrbox_monitor_claim(struct ctrbox_monitor *m, pid_t pid, int *wstatus);

/* How many exits the early-exit cache holds (for tests and diagnostics). */
unsigned ctrbox_monitor_cached(const struct ctrbox_monitor *m);

/* Changes the cache's TTL (milliseconds, ctrbox_loop_now_ms clock) and bound (at least 1);
 * 0 keeps a value as it is. The defaults are CTRBOX_MONITOR_TTL_MS and
 * CTRBOX_MONITOR_CACHE_MAX, the runc shim's; mainly for tests. */
void ctrbox_monitor_set_cache(struct ctrbox_monitor *m, unsigned ttl_ms, unsigned max);

#ifdef __cplusplus
}
#endif

#endif
