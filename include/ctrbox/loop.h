/* ctrbox/loop.h: the single-threaded epoll loop every ctrbox shim runs on.
 *
 * One loop, one thread: callbacks run one at a time, so nothing in libctrbox takes a lock. fd
 * watchers are level-triggered epoll registrations; timers are one-shot, on absolute
 * CLOCK_MONOTONIC deadlines in milliseconds. A shim gets its loop from ctrbox_shim_loop(); a
 * client program makes its own with ctrbox_loop_new(). Functions returning int return 0 or a
 * negative errno. */
#ifndef CTRBOX_LOOP_H
#define CTRBOX_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ctrbox_loop;
struct ctrbox_timer;

/* events: the EPOLL* bits that are ready (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR). */
typedef void (*ctrbox_fd_cb)(struct ctrbox_loop *l, int fd, uint32_t events, void *data);
typedef void (*ctrbox_timer_cb)(struct ctrbox_loop *l, void *data);

/* A new loop (an epoll instance, close-on-exec): *out, or -errno. */
int ctrbox_loop_new(struct ctrbox_loop **out);
/* Frees the loop with every watcher and timer still registered; closes no fd. */
void ctrbox_loop_free(struct ctrbox_loop *l);

/* One watcher per fd (a second add of the same fd is -EEXIST); events are EPOLL* bits. Removing
 * a watcher, its own or another, inside any callback is safe; the loop never closes the fd. */
int ctrbox_loop_add(struct ctrbox_loop *l, int fd, uint32_t events, ctrbox_fd_cb cb, void *data);
int ctrbox_loop_mod(struct ctrbox_loop *l, int fd, uint32_t events);
int ctrbox_loop_del(struct ctrbox_loop *l, int fd);

/* Milliseconds on CLOCK_MONOTONIC, the clock of every deadline here. */
uint64_t ctrbox_loop_now_ms(void);
/* Calls cb once at deadline_ms (absolute, monotonic; a past deadline fires on the next turn).
 * The loop owns the timer and frees it after cb returns: cancel it only before it fired.
 * Returns NULL if out of memory. */
struct ctrbox_timer *ctrbox_loop_timer_at(struct ctrbox_loop *l, uint64_t deadline_ms,
					  ctrbox_timer_cb cb, void *data);
struct ctrbox_timer *ctrbox_loop_timer_in(struct ctrbox_loop *l, uint64_t delay_ms,
					  ctrbox_timer_cb cb, void *data);
void ctrbox_loop_timer_cancel(struct ctrbox_loop *l, struct ctrbox_timer *t);

/* Dispatches until ctrbox_loop_stop(); returns 0, or a negative errno if epoll fails. */
int ctrbox_loop_run(struct ctrbox_loop *l);
/* Dispatches until *flag becomes non-zero (0), or deadline_ms passes (-ETIMEDOUT; 0 = no
 * deadline): how a blocking client call is written on a private loop. */
int ctrbox_loop_run_until(struct ctrbox_loop *l, const int *flag, uint64_t deadline_ms);
/* Makes ctrbox_loop_run() return once the current callback is done. */
void ctrbox_loop_stop(struct ctrbox_loop *l);

#ifdef __cplusplus
}
#endif

#endif
