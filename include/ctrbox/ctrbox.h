/* ctrbox/ctrbox.h: all of libctrbox's public API in one include, crate by crate
 * (libctrbox/<crate>/README.md says more of each).
 *
 * core       ctrbox/version.h   CTRBOX_VERSION* macros, ctrbox_version()
 *            ctrbox/loop.h      the epoll loop: fd watchers, monotonic timers
 *            ctrbox/log.h       containerd-style key=value logging
 *            ctrbox/rpc.h       status codes and metadata pairs (TTRPC and gRPC)
 *            ctrbox/json.h      strict JSON reading, Go-compatible unescaping
 *            ctrbox/jsonw.h     the JSON writer (Go's escaping and indent layout)
 *            ctrbox/base64.h    Go's StdEncoding
 *            ctrbox/util.h      paths, files, sockets
 *            ctrbox/sha256.h    SHA-256
 * protos     ctrbox/ttrpc.h     TTRPC server and client
 *            ctrbox/grpc.h      gRPC over HTTP/2 on unix sockets, server and client
 *            ctrbox/pbtext.h    protobuf text format of any message
 * shim       ctrbox/shim.h      the shim framework: ctrbox_shim_run() and its hooks, events
 *            ctrbox/task.h      the Task service as typed callbacks, task event topics
 *            ctrbox/monitor.h   the process monitor: exit subscriptions, early exits
 *            ctrbox/mount.h     rootfs mounts with containerd's rules
 * runc       ctrbox/runc.h      the runc wrapper: argv, spawn, async jobs, parsers, console
 *            ctrbox/io.h        fifos, pipes and copy loops for a process's stdio
 * client     ctrbox/client.h    containerd's gRPC API as a client
 * snapshots  ctrbox/snapshots.h a snapshotter served as containerd's Snapshots service
 * logging    ctrbox/logging.h   a shim logging binary (binary:// log URI)
 *
 * Build with: cc prog.c $(pkg-config --cflags --libs ctrbox)   (add --static for -static). */
#ifndef CTRBOX_CTRBOX_H
#define CTRBOX_CTRBOX_H

#include <ctrbox/base64.h>
#include <ctrbox/client.h>
#include <ctrbox/grpc.h>
#include <ctrbox/io.h>
#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include <ctrbox/log.h>
#include <ctrbox/logging.h>
#include <ctrbox/loop.h>
#include <ctrbox/monitor.h>
#include <ctrbox/mount.h>
#include <ctrbox/pbtext.h>
#include <ctrbox/rpc.h>
#include <ctrbox/runc.h>
#include <ctrbox/sha256.h>
#include <ctrbox/shim.h>
#include <ctrbox/snapshots.h>
#include <ctrbox/task.h>
#include <ctrbox/ttrpc.h>
#include <ctrbox/util.h>
#include <ctrbox/version.h>

#endif
