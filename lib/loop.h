/* Single-threaded epoll loop: fd watchers and absolute monotonic timers. */
#ifndef CTRBOX_LOOP_H
#define CTRBOX_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_timer;

typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *data);
typedef void (*loop_timer_cb)(struct loop *l, void *data);

int loop_new(struct loop **out);
/* Frees the loop and all watchers/timers still registered; closes no fd. */
void loop_free(struct loop *l);

/* One watcher per fd. Removing a watcher inside any callback is safe. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *data);
int loop_mod(struct loop *l, int fd, uint32_t events);
int loop_del(struct loop *l, int fd);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t loop_now_ms(void);
/* Fires once at deadline_ms (absolute, monotonic); the loop owns the timer until it fires or is
 * cancelled. Returns NULL on allocation failure. */
struct loop_timer *loop_timer_at(struct loop *l, uint64_t deadline_ms, loop_timer_cb cb,
				 void *data);
struct loop_timer *loop_timer_in(struct loop *l, uint64_t delay_ms, loop_timer_cb cb, void *data);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Runs until loop_stop(); returns 0, or -errno if epoll fails. */
int loop_run(struct loop *l);
/* Runs until *flag becomes non-zero or deadline_ms passes (0 = none); -ETIMEDOUT on expiry. */
int loop_run_until(struct loop *l, const int *flag, uint64_t deadline_ms);
void loop_stop(struct loop *l);

#endif
