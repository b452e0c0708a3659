/* cgroups for the runc shim: a process's cgroup paths, v1/v2 Stats metrics, OOM watches. */
#ifndef CTRBOX_CGROUP_H
#define CTRBOX_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
/* Any.type_url of StatsResponse.stats: bare full names, no type.googleapis.com/ prefix. */
#define CGROUP_V1_METRICS_URL "io.containerd.cgroups.v1.Metrics"
#define CGROUP_V2_METRICS_URL "io.containerd.cgroups.v2.Metrics"

/* Where a process's cgroup lives. Every string is malloc'd and owned by the struct
 * (cgroup_paths_free). On a v1 or hybrid host the per-controller directories are set when they
 * exist and unified is NULL; on a pure v2 host only unified is set. */
struct cgroup_paths {
	char *unified; /* v2: root + the "0::" path */
	char *pids, *cpu, *cpuacct, *memory, *blkio, *hugetlb, *rdma; /* v1, NULL if absent */
	char *partitions; /* v1 blkio device names: "/proc/partitions" */
	char *hugepages;  /* v1 hugetlb page sizes: "/sys/kernel/mm/hugepages" */
};

/* 1 if /sys/fs/cgroup is pure cgroup v2 (it has cgroup.controllers), else 0. */
int cgroup_v2_host(void);

/* Reads /proc/PID/cgroup (and /proc/self/mountinfo) and resolves it under root (NULL:
 * CGROUP_ROOT). A host is v2 when root/cgroup.controllers exists. -ENOENT when the process or
 * every one of its cgroup directories is gone (the Go library's ErrCgroupDeleted), or when a v2
 * host lists no "0::" line; -EINVAL on a malformed file or an unclean v2 path. */
int cgroup_paths_for_pid(pid_t pid, const char *root, struct cgroup_paths *out);
/* The same from the texts of /proc/PID/cgroup and mountinfo (may be NULL). The v1 path of each
 * controller is made relative to its hierarchy's mount root, as the Go library does, and looked
 * up first as root/<hierarchy>/path ("cpu,cpuacct") and then as root/<controller>/path. */
int cgroup_paths_parse(const char *proc_cgroup, const char *mountinfo, const char *root,
		       struct cgroup_paths *out);
void cgroup_paths_free(struct cgroup_paths *p);
/* The v1 cgroup mounts' lines of the mountinfo on fd (all cgroup_paths_parse needs), read
 * through a 1 kB buffer: a node's mountinfo has a long line per container rootfs (overlay's
 * lowerdir/upperdir), and reading it whole left its size in every shim's heap (brk is not
 * trimmed below 128 kB). A line longer than the buffer is skipped: a cgroup mount's is far
 * shorter. *out is malloc'd, "" when there are none; -errno on a read error. */
int cgroup_mountinfo_read(int fd, char **out);

/* The Go library's v1 Cgroup.Stat(IgnoreNotExist): a controller whose file is missing leaves
 * what it had filled so far. cpu{usage, throttling} is always present; memory, its four
 * MemoryEntry, memory_oom_control and blkio appear as soon as their controller starts reading,
 * so empty ones are still encoded. *out is freed with cgroup_v1_metrics_free. Read or parse
 * errors other than ENOENT fail the whole call. */
int cgroup_v1_metrics(const struct cgroup_paths *p, Io__Containerd__Cgroups__V1__Metrics **out);
void cgroup_v1_metrics_free(Io__Containerd__Cgroups__V1__Metrics *m);
/* The Go library's v2 Manager.Stat for the cgroup directory dir: pids, cpu, memory, io, rdma
 * always present, memory_events when memory.events has lines, hugetlb sorted by page size. */
int cgroup_v2_metrics(const char *dir, Io__Containerd__Cgroups__V2__Metrics **out);
void cgroup_v2_metrics_free(Io__Containerd__Cgroups__V2__Metrics *m);

/* v1 OOM notification: a new eventfd (EFD_CLOEXEC, blocking: read it only when poll says so)
 * registered by writing "<efd> <memory.oom_control fd> " to memory_dir/cgroup.event_control.
 * The kernel signals it on each OOM and once more when the cgroup is removed; tell the two
 * apart with cgroup_v1_dir_gone. Returns the fd (the caller owns it) or -errno. */
int cgroup_v1_oom_eventfd(const char *memory_dir);
/* 1 if dir no longer exists, 0 if it does, -errno if that cannot be told. */
int cgroup_v1_dir_gone(const char *dir);

/* The oom_kill counter of dir/memory.events (0 when the line is missing); -errno, or -EINVAL
 * when one of low/high/max/oom/oom_kill is not a number. */
int cgroup_v2_oom_kills(const char *dir, uint64_t *oom_kill);
/* An inotify fd (IN_NONBLOCK | IN_CLOEXEC) watching dir/memory.events and dir/cgroup.events for
 * IN_MODIFY; drain it and re-read memory.events on readiness. The caller owns the fd. */
int cgroup_v2_oom_watch(const char *dir);
/* 1 if dir/cgroup.events says "populated 0" or cannot be read (the Go watcher then stops), 0
 * while the cgroup has processes. */
int cgroup_v2_empty(const char *dir);

#endif
