/* cgroups for the runc shim, inside cgroup*.c only: the text, file and "key value" helpers
 * and the message types the v1 and v2 readers share. */
#ifndef CTRBOX_CGROUP_INT_H
#define CTRBOX_CGROUP_INT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cgroup.h"

#define FILE_MAX (4u << 20) /* biggest cgroup or proc file read (blkio stats, mountinfo) */
#define CLOCK_TICKS 100ull  /* USER_HZ: the Go library hard-codes it as well */
#define SPACES " \t\n\v\f\r"

typedef Io__Containerd__Cgroups__V1__Metrics V1Metrics;
typedef Io__Containerd__Cgroups__V1__CPUUsage V1CPUUsage;
typedef Io__Containerd__Cgroups__V1__MemoryStat V1MemoryStat;
typedef Io__Containerd__Cgroups__V1__MemoryEntry V1MemoryEntry;
typedef Io__Containerd__Cgroups__V1__MemoryOomControl V1OomControl;
typedef Io__Containerd__Cgroups__V1__BlkIOEntry V1BlkIOEntry;
typedef Io__Containerd__Cgroups__V1__HugetlbStat V1HugetlbStat;
typedef Io__Containerd__Cgroups__V1__RdmaEntry V1RdmaEntry;
typedef Io__Containerd__Cgroups__V2__Metrics V2Metrics;
typedef Io__Containerd__Cgroups__V2__CPUStat V2CPUStat;
typedef Io__Containerd__Cgroups__V2__MemoryStat V2MemoryStat;
typedef Io__Containerd__Cgroups__V2__MemoryEvents V2MemoryEvents;
typedef Io__Containerd__Cgroups__V2__IOEntry V2IOEntry;
typedef Io__Containerd__Cgroups__V2__RdmaEntry V2RdmaEntry;
typedef Io__Containerd__Cgroups__V2__HugeTlbStat V2HugeTlbStat;

/* p = a fresh malloc'd message set up by its generated init function; 0 or -ENOMEM. Messages
 * are built entirely from malloc'd parts so that the generated free_unpacked can free them. */
#define NEW(p, init) (((p) = malloc(sizeof(*(p)))) ? (init(p), 0) : -ENOMEM)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static inline int ignore_enoent(int r)
{
	return r == -ENOENT ? 0 : r;
}

/* A "key value" file's key and where its value goes. */
struct kv {
	const char *key;
	int which; /* index into the bases passed to cg_parse_kv */
	size_t off;
};
/* clang-format off */
#define KV(key, which, type, field) {key, which, offsetof(type, field)}
/* clang-format on */

/* One line of rdma.current or rdma.max. */
struct rdma_line {
	char *device;
	uint32_t handles, objects;
};

/* The next token of *s split at any of seps (strings.FieldsFunc), NUL-terminated in place. */
char *cg_next_field(char **s, const char *seps);
/* Splits s in place; stores the first max tokens and returns how many there were in all. */
size_t cg_split(char *s, const char *seps, char **f, size_t max);
/* Lines as bufio.Scanner yields them: a last line without '\n' counts, an empty tail does not. */
char *cg_next_line(char **s);
/* s without leading and trailing white space (in place). */
char *cg_trim(char *s);
/* strconv.ParseUint(s, 10, 64). */
int cg_parse_u64_strict(const char *s, uint64_t *v);
/* The library's parseUint: ParseUint, except that any negative integer (a -1 limit) is 0. */
int cg_parse_u64(const char *s, uint64_t *v);
/* dir/name into buf; -ENAMETOOLONG if it does not fit. */
int cg_path_in(char *buf, size_t cap, const char *dir, const char *name);
/* The whole of dir/name (at most FILE_MAX), malloc'd into *buf; 0 or -errno. */
int cg_read_in(const char *dir, const char *name, char **buf);
/* 1 if dir/name exists (not following a last symlink), else 0. */
int cg_exists_in(const char *dir, const char *name);
/* The library's readUint: the trimmed file as parseUint. */
int cg_read_uint(const char *dir, const char *name, uint64_t *v);
/* Each line must be exactly "key value" (the library's parseKV); a key found in tab stores its
 * value at bases[which] + off. v1 wants every value to be a number; v2 (lenient) keeps a
 * non-number as a string, which later reads as 0. *lines counts the lines (may be NULL). */
int cg_parse_kv(char *text, const struct kv *tab, size_t ntab, void *const *bases, int lenient,
		size_t *lines);
/* cg_parse_kv over the file dir/name; 0 or -errno. */
int cg_read_kv(const char *dir, const char *name, const struct kv *tab, size_t ntab,
	       void *const *bases, int lenient, size_t *lines);
/* Appends elem to a repeated field (arrp points at the array pointer); on -ENOMEM the caller
 * still owns elem. */
int cg_push_ptr(void *arrp, size_t *n, void *elem);
/* A string field set to a copy of s (left empty for ""); 0 or -ENOMEM. */
int cg_set_string(char **field, const char *s);
/* "dev hca_handle=N hca_object=N": 1 and *e filled (device points into line), else 0. */
int cg_rdma_parse(char *line, struct rdma_line *e);

#endif
