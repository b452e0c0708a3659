/* ctrbox/ctrbox.h: all of libctrbox's public API in one include.
 *
 *   ctrbox/version.h  CTRBOX_VERSION* macros, ctrbox_version()
 *   ctrbox/loop.h     the epoll loop: fd watchers, monotonic timers
 *   ctrbox/log.h      containerd-style key=value logging
 *   ctrbox/ttrpc.h    TTRPC server and client, status codes
 *   ctrbox/shim.h     the shim framework: ctrbox_shim_run() and its hooks, events, reaper
 *   ctrbox/task.h     the Task service as typed callbacks, task event topics
 *
 * Build with: cc prog.c $(pkg-config --cflags --libs ctrbox)   (add --static for -static). */
#ifndef CTRBOX_CTRBOX_H
#define CTRBOX_CTRBOX_H

#include <ctrbox/log.h>
#include <ctrbox/loop.h>
#include <ctrbox/shim.h>
#include <ctrbox/task.h>
#include <ctrbox/ttrpc.h>
#include <ctrbox/version.h>
#include <ctrbox/client.h>

#endif
