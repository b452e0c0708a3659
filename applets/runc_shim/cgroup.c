/* cgroups for the runc shim: a process's cgroup paths, v1/v2 Stats metrics, OOM watches. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctrbox/util.h>

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

static int ignore_enoent(int r)
{
	return r == -ENOENT ? 0 : r;
}

/* ---- text ---- */

/* The next token of *s split at any of seps (strings.FieldsFunc), NUL-terminated in place. */
static char *next_field(char **s, const char *seps)
{
	char *p = *s, *tok;

	while (*p && strchr(seps, *p))
		p++;
	if (!*p) {
		*s = p;
		return NULL;
	}
	tok = p;
	while (*p && !strchr(seps, *p))
		p++;
	if (*p)
		*p++ = '\0';
	*s = p;
	return tok;
}

/* Splits s in place; stores the first max tokens and returns how many there were in all. */
static size_t split(char *s, const char *seps, char **f, size_t max)
{
	size_t n = 0;
	char *tok;

	while ((tok = next_field(&s, seps))) {
		if (n < max)
			f[n] = tok;
		n++;
	}
	return n;
}

/* Lines as bufio.Scanner yields them: a last line without '\n' counts, an empty tail does not. */
static char *next_line(char **s)
{
	char *line = *s, *nl;

	if (!*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*s = nl + 1;
	} else {
		*s = line + strlen(line);
	}
	return line;
}

static char *trim(char *s)
{
	size_t n;

	while (*s && strchr(SPACES, *s))
		s++;
	n = strlen(s);
	while (n > 0 && strchr(SPACES, s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* strconv.ParseUint(s, 10, 64). */
static int parse_u64_strict(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned char)*s - '0';
		if (d > 9)
			return -EINVAL;
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* The library's parseUint: ParseUint, except that any negative integer (a -1 limit) is 0. */
static int parse_u64(const char *s, uint64_t *v)
{
	uint64_t mag = 0;
	int r;

	if (s[0] != '-')
		return parse_u64_strict(s, v);
	r = parse_u64_strict(s + 1, &mag);
	if (r == -ERANGE || (r == 0 && mag > 0)) {
		*v = 0;
		return 0;
	}
	return -EINVAL; /* "-0" is not negative: Go reports ParseUint's error */
}

/* ---- files ---- */

static int path_in(char *buf, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

static int read_in(const char *dir, const char *name, char **buf)
{
	char path[PATH_MAX];
	int r = path_in(path, sizeof(path), dir, name);

	return r < 0 ? r : ctrbox_read_file(path, FILE_MAX, buf, NULL);
}

static int exists_in(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return path_in(path, sizeof(path), dir, name) == 0 && lstat(path, &st) == 0;
}

/* The library's readUint: the trimmed file as parseUint. */
static int read_uint(const char *dir, const char *name, uint64_t *v)
{
	char *buf;
	int r = read_in(dir, name, &buf);

	if (r < 0)
		return r;
	r = parse_u64(trim(buf), v);
	free(buf);
	return r;
}

/* ---- "key value" files ---- */

struct kv {
	const char *key;
	int which; /* index into the bases passed to parse_kv */
	size_t off;
};
/* clang-format off */
#define KV(key, which, type, field) {key, which, offsetof(type, field)}
/* clang-format on */

/* Each line must be exactly "key value" (the library's parseKV); a key found in tab stores its
 * value at bases[which] + off. v1 wants every value to be a number; v2 (lenient) keeps a
 * non-number as a string, which later reads as 0. *lines counts the lines (may be NULL). */
static int parse_kv(char *text, const struct kv *tab, size_t ntab, void *const *bases, int lenient,
		    size_t *lines)
{
	char *line, *f[2];
	size_t n = 0;

	while ((line = next_line(&text))) {
		uint64_t v = 0;
		int r;

		if (split(line, SPACES, f, 2) != 2)
			return -EINVAL;
		r = parse_u64(f[1], &v);
		if (r < 0 && !lenient)
			return r;
		if (r < 0)
			v = 0;
		n++;
		for (size_t i = 0; i < ntab; i++)
			if (strcmp(tab[i].key, f[0]) == 0)
				*(uint64_t *)((char *)bases[tab[i].which] + tab[i].off) = v;
	}
	if (lines)
		*lines = n;
	return 0;
}

static int read_kv(const char *dir, const char *name, const struct kv *tab, size_t ntab,
		   void *const *bases, int lenient, size_t *lines)
{
	char *buf;
	int r = read_in(dir, name, &buf);

	if (r < 0)
		return r;
	r = parse_kv(buf, tab, ntab, bases, lenient, lines);
	free(buf);
	return r;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Appends elem to a repeated field (arrp points at the array pointer); on -ENOMEM the caller
 * still owns elem. */
static int push_ptr(void *arrp, size_t *n, void *elem)
{
	void **arr, **na;

	memcpy(&arr, arrp, sizeof(arr));
	na = realloc(arr, (*n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	na[(*n)++] = elem;
	memcpy(arrp, &na, sizeof(na));
	return 0;
}

static int set_string(char **field, const char *s)
{
	char *d;

	if (!*s)
		return 0; /* stays protobuf_c_empty_string, which free_unpacked leaves alone */
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	*field = d;
	return 0;
}

/* ---- paths ---- */

int cgroup_v2_host(void)
{
	return access(CGROUP_ROOT "/cgroup.controllers", F_OK) == 0;
}

void cgroup_paths_free(struct cgroup_paths *p)
{
	char **all[] = {&p->unified, &p->pids,	  &p->cpu,  &p->cpuacct,    &p->memory,
			&p->blkio,   &p->hugetlb, &p->rdma, &p->partitions, &p->hugepages};

	for (size_t i = 0; i < NELEM(all); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
}

static char **paths_slot(struct cgroup_paths *p, const char *ctrl)
{
	static const struct {
		const char *name;
		size_t off;
	} slots[] = {
	    {"pids", offsetof(struct cgroup_paths, pids)},
	    {"cpu", offsetof(struct cgroup_paths, cpu)},
	    {"cpuacct", offsetof(struct cgroup_paths, cpuacct)},
	    {"memory", offsetof(struct cgroup_paths, memory)},
	    {"blkio", offsetof(struct cgroup_paths, blkio)},
	    {"hugetlb", offsetof(struct cgroup_paths, hugetlb)},
	    {"rdma", offsetof(struct cgroup_paths, rdma)},
	};

	for (size_t i = 0; i < NELEM(slots); i++)
		if (strcmp(slots[i].name, ctrl) == 0)
			return (char **)((char *)p + slots[i].off);
	return NULL;
}

/* The mount root (mountinfo field 4) of the v1 hierarchy holding ctrl, copied into buf; "" if
 * none is listed. Like the library's getCgroupDestination. */
static void mount_root(const char *mountinfo, const char *ctrl, char *buf, size_t cap)
{
	const char *line = mountinfo;

	buf[0] = '\0';
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len), *f[64], *opts, *o;
		size_t n;

		line = end ? end + 1 : NULL;
		if (!copy)
			return;
		n = split(copy, " ", f, NELEM(f));
		if (n >= 10 && n <= NELEM(f) && strcmp(f[n - 3], "cgroup") == 0) {
			opts = f[n - 1];
			while ((o = next_field(&opts, ","))) {
				if (strcmp(o, ctrl) == 0) {
					snprintf(buf, cap, "%s", f[3]);
					free(copy);
					return;
				}
			}
		}
		free(copy);
	}
}

/* path relative to the hierarchy's mount root (the library's existingPath). */
static const char *strip_mount_root(const char *path, const char *mroot)
{
	size_t n = strlen(mroot);

	if (n <= 1 || strncmp(path, mroot, n) != 0 || path[n] != '/')
		return path;
	return path + n;
}

/* Sets *slot to the first existing of root/hier/path and root/ctrl/path. */
static int resolve_v1(char **slot, const char *root, const char *hier, const char *ctrl,
		      const char *path)
{
	const char *names[] = {hier, ctrl};

	for (size_t i = 0; i < NELEM(names); i++) {
		const char *parts[] = {root, names[i], path};
		struct stat st;
		char *dir;

		if (i > 0 && strcmp(hier, ctrl) == 0)
			break; /* a hierarchy of one controller: same directory */
		dir = ctrbox_path_join(parts, NELEM(parts));
		if (!dir)
			return -ENOMEM;
		if (lstat(dir, &st) == 0) {
			*slot = dir;
			return 0;
		}
		free(dir);
	}
	return 0;
}

static int parse_v1_line(struct cgroup_paths *out, const char *root, const char *mountinfo,
			 char *ctrls, const char *path)
{
	char *hier = strdup(ctrls), *list = ctrls, *ctrl;
	int r = 0;

	if (!hier)
		return -ENOMEM;
	while (r == 0 && (ctrl = next_field(&list, ","))) {
		char **slot = paths_slot(out, ctrl), mroot[PATH_MAX];

		if (!slot || *slot)
			continue;
		mount_root(mountinfo ? mountinfo : "", ctrl, mroot, sizeof(mroot));
		r = resolve_v1(slot, root, hier, ctrl, strip_mount_root(path, mroot));
	}
	free(hier);
	return r;
}

/* The library's VerifyGroupPath: absolute and already clean. */
static int set_unified(struct cgroup_paths *out, const char *root, const char *path)
{
	char *clean = strdup(path);
	int ok = clean && path[0] == '/' && strcmp(ctrbox_path_clean(clean), path) == 0;
	const char *parts[] = {root, path};

	free(clean);
	if (!ok)
		return clean ? -EINVAL : -ENOMEM;
	out->unified = ctrbox_path_join(parts, NELEM(parts));
	return out->unified ? 0 : -ENOMEM;
}

static int parse_lines(struct cgroup_paths *out, char *text, const char *mountinfo,
		       const char *root, int v2)
{
	char *line;
	int r = 0;

	while (r == 0 && (line = next_line(&text))) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			return -EINVAL;
		*c1 = *c2 = '\0';
		if (c1[1] == '\0') {
			if (v2 && strcmp(line, "0") == 0 && !out->unified)
				r = set_unified(out, root, c2 + 1);
		} else if (!v2) {
			r = parse_v1_line(out, root, mountinfo, c1 + 1, c2 + 1);
		}
	}
	return r;
}

int cgroup_paths_parse(const char *proc_cgroup, const char *mountinfo, const char *root,
		       struct cgroup_paths *out)
{
	char *text = strdup(proc_cgroup);
	int v2, r;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -ENOMEM;
	if (!root)
		root = CGROUP_ROOT;
	v2 = exists_in(root, "cgroup.controllers");
	r = parse_lines(out, text, mountinfo, root, v2);
	free(text);
	if (r == 0 && !out->unified && !out->pids && !out->cpu && !out->cpuacct && !out->memory &&
	    !out->blkio && !out->hugetlb && !out->rdma)
		r = -ENOENT;
	if (r == 0) {
		out->partitions = strdup("/proc/partitions");
		out->hugepages = strdup("/sys/kernel/mm/hugepages");
		if (!out->partitions || !out->hugepages)
			r = -ENOMEM;
	}
	if (r < 0)
		cgroup_paths_free(out);
	return r;
}

int cgroup_paths_for_pid(pid_t pid, const char *root, struct cgroup_paths *out)
{
	char path[64], *text, *mountinfo = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	r = ctrbox_read_file(path, FILE_MAX, &text, NULL);
	if (r < 0)
		return r;
	if (ctrbox_read_file("/proc/self/mountinfo", FILE_MAX, &mountinfo, NULL) < 0)
		mountinfo = NULL; /* no mount roots to strip */
	r = cgroup_paths_parse(text, mountinfo, root, out);
	free(mountinfo);
	free(text);
	return r;
}

/* ---- v1 controllers: each mirrors the library's <controller>.Stat ---- */

static int v1_pids(const char *dir, V1Metrics *m)
{
	uint64_t current, max = 0;
	char *buf, *s;
	int r = read_uint(dir, "pids.current", &current);

	if (r < 0 || (r = read_in(dir, "pids.max", &buf)) < 0)
		return r;
	s = trim(buf);
	if (strcmp(s, "max") != 0)
		r = parse_u64(s, &max);
	free(buf);
	if (r < 0 || (r = NEW(m->pids, io__containerd__cgroups__v1__pids_stat__init)) < 0)
		return r;
	m->pids->current = current;
	m->pids->limit = max;
	return 0;
}

/* cpuacct.stat's user and system ticks, in nanoseconds (uint64 arithmetic, as in Go). */
static int v1_cpuacct_times(const char *dir, uint64_t *user, uint64_t *kernel)
{
	char *buf, *f[4];
	int r = read_in(dir, "cpuacct.stat", &buf);

	if (r < 0)
		return r;
	if (split(buf, SPACES, f, 4) != 4 || strcmp(f[0], "user") != 0 ||
	    strcmp(f[2], "system") != 0)
		r = -EINVAL;
	if (r == 0)
		r = parse_u64_strict(f[1], user);
	if (r == 0)
		r = parse_u64_strict(f[3], kernel);
	free(buf);
	*user = *user * 1000000000ull / CLOCK_TICKS;
	*kernel = *kernel * 1000000000ull / CLOCK_TICKS;
	return r;
}

static int v1_percpu(const char *dir, uint64_t **out, size_t *n)
{
	char *buf, *p, *tok;
	uint64_t *a = NULL;
	size_t cnt = 0, cap = 0;
	int r = read_in(dir, "cpuacct.usage_percpu", &buf);

	if (r < 0)
		return r;
	p = buf;
	while (r == 0 && (tok = next_field(&p, SPACES))) {
		if (cnt == cap) {
			uint64_t *na = realloc(a, (cap = cap ? cap * 2 : 16) * sizeof(*a));
			if (!na) {
				r = -ENOMEM;
				break;
			}
			a = na;
		}
		r = parse_u64_strict(tok, &a[cnt++]);
	}
	free(buf);
	if (r < 0) {
		free(a);
		return r;
	}
	*out = a;
	*n = cnt;
	return 0;
}

static int v1_cpuacct(const char *dir, V1CPUUsage *u)
{
	uint64_t user = 0, kernel = 0, total, *percpu;
	size_t n;
	int r = v1_cpuacct_times(dir, &user, &kernel);

	if (r < 0 || (r = read_uint(dir, "cpuacct.usage", &total)) < 0 ||
	    (r = v1_percpu(dir, &percpu, &n)) < 0)
		return r;
	u->total = total;
	u->user = user;
	u->kernel = kernel;
	free(u->per_cpu);
	u->per_cpu = percpu;
	u->n_per_cpu = n;
	return 0;
}

static int v1_cpu(const char *dir, V1Metrics *m)
{
	static const struct kv keys[] = {
	    {"nr_periods", 0, offsetof(Io__Containerd__Cgroups__V1__Throttle, periods)},
	    {"nr_throttled", 0, offsetof(Io__Containerd__Cgroups__V1__Throttle, throttled_periods)},
	    {"throttled_time", 0, offsetof(Io__Containerd__Cgroups__V1__Throttle, throttled_time)},
	};
	void *bases[] = {m->cpu->throttling};

	return read_kv(dir, "cpu.stat", keys, NELEM(keys), bases, 0, NULL);
}

#define MS(key, field) KV(key, 0, V1MemoryStat, field)
static const struct kv v1_memory_keys[] = {
    MS("cache", cache),
    MS("rss", rss),
    MS("rss_huge", rss_huge),
    MS("mapped_file", mapped_file),
    MS("dirty", dirty),
    MS("writeback", writeback),
    MS("pgpgin", pg_pg_in),
    MS("pgpgout", pg_pg_out),
    MS("pgfault", pg_fault),
    MS("pgmajfault", pg_maj_fault),
    MS("inactive_anon", inactive_anon),
    MS("active_anon", active_anon),
    MS("inactive_file", inactive_file),
    MS("active_file", active_file),
    MS("unevictable", unevictable),
    MS("hierarchical_memory_limit", hierarchical_memory_limit),
    MS("hierarchical_memsw_limit", hierarchical_swap_limit),
    MS("total_cache", total_cache),
    MS("total_rss", total_rss),
    MS("total_rss_huge", total_rss_huge),
    MS("total_mapped_file", total_mapped_file),
    MS("total_dirty", total_dirty),
    MS("total_writeback", total_writeback),
    MS("total_pgpgin", total_pg_pg_in),
    MS("total_pgpgout", total_pg_pg_out),
    MS("total_pgfault", total_pg_fault),
    MS("total_pgmajfault", total_pg_maj_fault),
    MS("total_inactive_anon", total_inactive_anon),
    MS("total_active_anon", total_active_anon),
    MS("total_inactive_file", total_inactive_file),
    MS("total_active_file", total_active_file),
    MS("total_unevictable", total_unevictable),
};
#undef MS

static const struct kv v1_oom_keys[] = {
    {"oom_kill_disable", 0, offsetof(V1OomControl, oom_kill_disable)},
    {"under_oom", 0, offsetof(V1OomControl, under_oom)},
    {"oom_kill", 0, offsetof(V1OomControl, oom_kill)},
};

/* memory with its four entries, all present (and so encoded) even when nothing fills them. */
static int v1_memory_new(V1Metrics *m)
{
	V1MemoryStat *ms;

	if (NEW(m->memory, io__containerd__cgroups__v1__memory_stat__init) < 0)
		return -ENOMEM;
	ms = m->memory;
	if (NEW(ms->usage, io__containerd__cgroups__v1__memory_entry__init) < 0 ||
	    NEW(ms->swap, io__containerd__cgroups__v1__memory_entry__init) < 0 ||
	    NEW(ms->kernel, io__containerd__cgroups__v1__memory_entry__init) < 0 ||
	    NEW(ms->kernel_tcp, io__containerd__cgroups__v1__memory_entry__init) < 0)
		return -ENOMEM;
	return 0;
}

/* memory.<module>usage_in_bytes, max_usage_in_bytes, failcnt, limit_in_bytes. */
static int v1_memory_entry(const char *dir, const char *module, V1MemoryEntry *e)
{
	const struct {
		const char *name;
		uint64_t *v;
	} files[] = {
	    {"usage_in_bytes", &e->usage},
	    {"max_usage_in_bytes", &e->max},
	    {"failcnt", &e->failcnt},
	    {"limit_in_bytes", &e->limit},
	};

	for (size_t i = 0; i < NELEM(files); i++) {
		char name[64];
		int r;

		snprintf(name, sizeof(name), "memory.%s%s", module, files[i].name);
		if ((r = read_uint(dir, name, files[i].v)) < 0)
			return r;
	}
	return 0;
}

static int v1_memory(const char *dir, V1Metrics *m)
{
	char *buf;
	int r = read_in(dir, "memory.stat", &buf);

	if (r < 0)
		return r;
	r = v1_memory_new(m);
	if (r == 0)
		r = parse_kv(buf, v1_memory_keys, NELEM(v1_memory_keys), (void *const[]){m->memory},
			     0, NULL);
	free(buf);
	if (r < 0 || (r = read_in(dir, "memory.oom_control", &buf)) < 0)
		return r;
	r = NEW(m->memory_oom_control, io__containerd__cgroups__v1__memory_oom_control__init);
	if (r == 0)
		r = parse_kv(buf, v1_oom_keys, NELEM(v1_oom_keys),
			     (void *const[]){m->memory_oom_control}, 0, NULL);
	free(buf);
	if (r == 0)
		r = v1_memory_entry(dir, "", m->memory->usage);
	if (r == 0)
		r = v1_memory_entry(dir, "memsw.", m->memory->swap);
	if (r == 0)
		r = v1_memory_entry(dir, "kmem.", m->memory->kernel);
	if (r == 0)
		r = v1_memory_entry(dir, "kmem.tcp.", m->memory->kernel_tcp);
	return r;
}

/* /proc/partitions as major:minor -> "/dev/<name>", first occurrence winning. */
struct blkdev {
	uint64_t major, minor;
	char *name;
};

static void blkdevs_free(struct blkdev *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}

static int blkdev_add(struct blkdev **d, size_t *n, char **f)
{
	struct blkdev *nd;
	uint64_t major, minor;
	int r;

	if ((r = parse_u64_strict(f[0], &major)) < 0 || (r = parse_u64_strict(f[1], &minor)) < 0)
		return r;
	nd = realloc(*d, (*n + 1) * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	*d = nd;
	nd[*n].major = major;
	nd[*n].minor = minor;
	nd[*n].name = ctrbox_path_join((const char *const[]){"/dev", f[3]}, 2);
	if (!nd[*n].name)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int blkdevs_read(const char *path, struct blkdev **out, size_t *n)
{
	char *buf, *p, *line, *f[4];
	int r = ctrbox_read_file(path, FILE_MAX, &buf, NULL);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	p = buf;
	for (int i = 0; r == 0 && (line = next_line(&p)); i++) {
		if (i < 2)
			continue; /* the header and the blank line after it */
		r = split(line, SPACES, f, 4) < 4 ? -EINVAL : blkdev_add(out, n, f);
	}
	free(buf);
	if (r < 0) {
		blkdevs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

static const char *blkdev_name(const struct blkdev *d, size_t n, uint64_t major, uint64_t minor)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].major == major && d[i].minor == minor)
			return d[i].name;
	return "";
}

/* One "major:minor [op] value" line ("Total v" lines skipped) into a new entry. */
static int blkio_line(char *line, const struct blkdev *d, size_t nd, V1BlkIOEntry **out)
{
	char *f[4];
	size_t n = split(line, " :", f, 4);
	uint64_t major, minor, value;
	V1BlkIOEntry *e;
	int r;

	*out = NULL;
	if (n < 3)
		return n == 2 && strcmp(f[0], "Total") == 0 ? 0 : -EINVAL;
	if ((r = parse_u64_strict(f[0], &major)) < 0 || (r = parse_u64_strict(f[1], &minor)) < 0 ||
	    (r = parse_u64_strict(f[n == 4 ? 3 : 2], &value)) < 0)
		return r;
	if (NEW(e, io__containerd__cgroups__v1__blk_ioentry__init) < 0)
		return -ENOMEM;
	e->major = major;
	e->minor = minor;
	e->value = value;
	if ((r = set_string(&e->op, n == 4 ? f[2] : "")) < 0 ||
	    (r = set_string(&e->device, blkdev_name(d, nd, major, minor))) < 0) {
		io__containerd__cgroups__v1__blk_ioentry__free_unpacked(e, NULL);
		return r;
	}
	*out = e;
	return 0;
}

struct blkio_file {
	const char *name;
	size_t *n;
	V1BlkIOEntry ***entries;
};

static int blkio_read(const char *dir, const struct blkio_file *bf, const struct blkdev *d,
		      size_t nd)
{
	char *buf, *p, *line;
	int r = read_in(dir, bf->name, &buf);

	if (r < 0)
		return r;
	p = buf;
	while (r == 0 && (line = next_line(&p))) {
		V1BlkIOEntry *e;
		r = blkio_line(line, d, nd, &e);
		if (r == 0 && e && (r = push_ptr(bf->entries, bf->n, e)) < 0)
			io__containerd__cgroups__v1__blk_ioentry__free_unpacked(e, NULL);
	}
	free(buf);
	return r;
}

/* The CFQ *_recursive files when the kernel has them and they list something, else the
 * throttle.* pair (an empty blkio, as on blk-mq hosts, is still sent). */
static int v1_blkio(const char *dir, const char *partitions, V1Metrics *m)
{
	Io__Containerd__Cgroups__V1__BlkIOStat *b;
	struct blkdev *d;
	size_t nd, size = 0;
	int r;

	if (NEW(m->blkio, io__containerd__cgroups__v1__blk_iostat__init) < 0)
		return -ENOMEM;
	b = m->blkio;
	const struct blkio_file cfq[] = {
	    {"blkio.sectors_recursive", &b->n_sectors_recursive, &b->sectors_recursive},
	    {"blkio.io_service_bytes_recursive", &b->n_io_service_bytes_recursive,
	     &b->io_service_bytes_recursive},
	    {"blkio.io_serviced_recursive", &b->n_io_serviced_recursive, &b->io_serviced_recursive},
	    {"blkio.io_queued_recursive", &b->n_io_queued_recursive, &b->io_queued_recursive},
	    {"blkio.io_service_time_recursive", &b->n_io_service_time_recursive,
	     &b->io_service_time_recursive},
	    {"blkio.io_wait_time_recursive", &b->n_io_wait_time_recursive,
	     &b->io_wait_time_recursive},
	    {"blkio.io_merged_recursive", &b->n_io_merged_recursive, &b->io_merged_recursive},
	    {"blkio.time_recursive", &b->n_io_time_recursive, &b->io_time_recursive},
	};
	const struct blkio_file throttle[] = {
	    {"blkio.throttle.io_serviced", &b->n_io_serviced_recursive, &b->io_serviced_recursive},
	    {"blkio.throttle.io_service_bytes", &b->n_io_service_bytes_recursive,
	     &b->io_service_bytes_recursive},
	};
	int use_cfq = exists_in(dir, "blkio.io_serviced_recursive");

	if ((r = blkdevs_read(partitions, &d, &nd)) < 0)
		return r;
	for (size_t i = 0; use_cfq && r == 0 && i < NELEM(cfq); i++) {
		r = blkio_read(dir, &cfq[i], d, nd);
		size += *cfq[i].n;
	}
	for (size_t i = 0; r == 0 && size == 0 && i < NELEM(throttle); i++)
		r = blkio_read(dir, &throttle[i], d, nd);
	blkdevs_free(d, nd);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "hugepages-2048kB" -> "2MB", as the library's units.RAMInBytes + CustomSize("%g%s") do. */
static int hugepage_size_name(const char *entry, char *buf, size_t cap)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
	static const char prefixes[] = "kmgtp";
	const char *dash = strchr(entry, '-'), *p, *k;
	uint64_t v = 0;
	double size;
	size_t i = 0;

	if (!dash || dash[1] < '0' || dash[1] > '9')
		return -EINVAL;
	for (p = dash + 1; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	size = (double)v;
	if (*p && (k = strchr(prefixes, *p | 0x20))) {
		for (long n = k - prefixes + 1; n > 0; n--)
			size *= 1024;
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	while (size >= 1024 && i < NELEM(units) - 1)
		size /= 1024, i++;
	snprintf(buf, cap, "%g%s", size, units[i]);
	return 0;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The page sizes under /sys/kernel/mm/hugepages, in entry-name order (Go's ReadDir). */
static int hugepage_sizes(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, size[32];
	size_t cnt = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		char *s;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s = strdup(de->d_name);
		if (!s || push_ptr(&names, &cnt, s) < 0) {
			free(s);
			r = -ENOMEM;
		}
	}
	closedir(d);
	if (r == 0)
		qsort(names, cnt, sizeof(*names), cmp_str);
	for (size_t i = 0; r == 0 && i < cnt; i++) {
		char *s;
		r = hugepage_size_name(names[i], size, sizeof(size));
		if (r == 0 && !(s = strdup(size)))
			r = -ENOMEM;
		if (r == 0) {
			free(names[i]);
			names[i] = s;
		}
	}
	if (r < 0) {
		free_strv(names, cnt);
		return r;
	}
	*out = names;
	*n = cnt;
	return 0;
}

static int v1_hugetlb_size(const char *dir, const char *size, V1Metrics *m)
{
	V1HugetlbStat *s;
	const char *names[] = {"usage_in_bytes", "max_usage_in_bytes", "failcnt"};
	uint64_t v[3];
	int r;

	for (size_t i = 0; i < NELEM(names); i++) {
		char name[96];
		snprintf(name, sizeof(name), "hugetlb.%s.%s", size, names[i]);
		if ((r = read_uint(dir, name, &v[i])) < 0)
			return r;
	}
	if (NEW(s, io__containerd__cgroups__v1__hugetlb_stat__init) < 0)
		return -ENOMEM;
	s->usage = v[0];
	s->max = v[1];
	s->failcnt = v[2];
	if ((r = set_string(&s->pagesize, size)) < 0 ||
	    (r = push_ptr(&m->hugetlb, &m->n_hugetlb, s)) < 0)
		io__containerd__cgroups__v1__hugetlb_stat__free_unpacked(s, NULL);
	return r;
}

static int v1_hugetlb(const char *dir, const char *hugepages, V1Metrics *m)
{
	char **sizes;
	size_t n;
	int r = hugepage_sizes(hugepages, &sizes, &n);

	if (r == -ENOENT)
		return 0; /* no hugetlb support: the library leaves the controller out */
	for (size_t i = 0; r == 0 && i < n; i++)
		r = v1_hugetlb_size(dir, sizes[i], m);
	free_strv(sizes, n);
	return r;
}

/* ---- rdma (same text in v1 and v2) ---- */

struct rdma_line {
	char *device;
	uint32_t handles, objects;
};

static void rdma_kv(char *kv, struct rdma_line *e)
{
	char *eq = strchr(kv, '=');
	uint64_t v;

	if (!eq || strchr(eq + 1, '='))
		return;
	*eq = '\0';
	if (strcmp(eq + 1, "max") == 0)
		v = UINT32_MAX;
	else if (parse_u64(eq + 1, &v) < 0 || v > UINT32_MAX)
		return;
	if (strcmp(kv, "hca_handle") == 0)
		e->handles = (uint32_t)v;
	else if (strcmp(kv, "hca_object") == 0)
		e->objects = (uint32_t)v;
}

/* "dev hca_handle=N hca_object=N": 1 and *e filled (device points into line), else 0. */
static int rdma_parse(char *line, struct rdma_line *e)
{
	char *f[3];

	if (split(line, SPACES, f, 3) != 3)
		return 0;
	e->device = f[0];
	e->handles = e->objects = 0;
	rdma_kv(f[1], e);
	rdma_kv(f[2], e);
	return 1;
}

/* Go's strings.Split(text, "\n") length. */
static size_t count_pieces(const char *text)
{
	size_t n = 1;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static int v1_rdma_list(char *text, size_t *n, V1RdmaEntry ***list)
{
	char *line;
	struct rdma_line l;

	while ((line = strsep(&text, "\n"))) {
		V1RdmaEntry *e;
		int r;
		if (!rdma_parse(line, &l))
			continue;
		if (NEW(e, io__containerd__cgroups__v1__rdma_entry__init) < 0)
			return -ENOMEM;
		e->hca_handles = l.handles;
		e->hca_objects = l.objects;
		if ((r = set_string(&e->device, l.device)) < 0 || (r = push_ptr(list, n, e)) < 0) {
			io__containerd__cgroups__v1__rdma_entry__free_unpacked(e, NULL);
			return r;
		}
	}
	return 0;
}

static int v1_rdma(const char *dir, V1Metrics *m)
{
	char *cur = NULL, *max = NULL;
	int r = read_in(dir, "rdma.current", &cur);

	if (r == 0)
		r = read_in(dir, "rdma.max", &max);
	/* a device removed between the two reads: no rdma stats at all */
	if (r == 0 && count_pieces(cur) == count_pieces(max)) {
		r = NEW(m->rdma, io__containerd__cgroups__v1__rdma_stat__init);
		if (r == 0)
			r = v1_rdma_list(cur, &m->rdma->n_current, &m->rdma->current);
		if (r == 0)
			r = v1_rdma_list(max, &m->rdma->n_limit, &m->rdma->limit);
	}
	free(cur);
	free(max);
	return r;
}

static int v1_collect(const struct cgroup_paths *p, V1Metrics *m)
{
	int r = 0;

	if (p->pids)
		r = ignore_enoent(v1_pids(p->pids, m));
	if (r == 0 && p->cpu)
		r = ignore_enoent(v1_cpu(p->cpu, m));
	if (r == 0 && p->cpuacct)
		r = ignore_enoent(v1_cpuacct(p->cpuacct, m->cpu->usage));
	if (r == 0 && p->memory)
		r = ignore_enoent(v1_memory(p->memory, m));
	if (r == 0 && p->blkio)
		r = ignore_enoent(v1_blkio(p->blkio, p->partitions, m));
	if (r == 0 && p->hugetlb)
		r = ignore_enoent(v1_hugetlb(p->hugetlb, p->hugepages, m));
	if (r == 0 && p->rdma)
		r = ignore_enoent(v1_rdma(p->rdma, m));
	return r;
}

int cgroup_v1_metrics(const struct cgroup_paths *p, V1Metrics **out)
{
	V1Metrics *m;
	int r;

	*out = NULL;
	if (NEW(m, io__containerd__cgroups__v1__metrics__init) < 0)
		return -ENOMEM;
	r = NEW(m->cpu, io__containerd__cgroups__v1__cpustat__init);
	if (r == 0)
		r = NEW(m->cpu->usage, io__containerd__cgroups__v1__cpuusage__init);
	if (r == 0)
		r = NEW(m->cpu->throttling, io__containerd__cgroups__v1__throttle__init);
	if (r == 0)
		r = v1_collect(p, m);
	if (r < 0) {
		cgroup_v1_metrics_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void cgroup_v1_metrics_free(V1Metrics *m)
{
	if (m)
		io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
}

/* ---- v2 ---- */

#define C2(key, field) KV(key, 0, V2CPUStat, field)
#define M2(key, field) KV(key, 1, V2MemoryStat, field)
/* cpu.stat and memory.stat land in one map in the Go library, so both tables see both files. */
static const struct kv v2_stat_keys[] = {
    C2("usage_usec", usage_usec),
    C2("user_usec", user_usec),
    C2("system_usec", system_usec),
    C2("nr_periods", nr_periods),
    C2("nr_throttled", nr_throttled),
    C2("throttled_usec", throttled_usec),
    M2("anon", anon),
    M2("file", file),
    M2("kernel_stack", kernel_stack),
    M2("slab", slab),
    M2("sock", sock),
    M2("shmem", shmem),
    M2("file_mapped", file_mapped),
    M2("file_dirty", file_dirty),
    M2("file_writeback", file_writeback),
    M2("anon_thp", anon_thp),
    M2("inactive_anon", inactive_anon),
    M2("active_anon", active_anon),
    M2("inactive_file", inactive_file),
    M2("active_file", active_file),
    M2("unevictable", unevictable),
    M2("slab_reclaimable", slab_reclaimable),
    M2("slab_unreclaimable", slab_unreclaimable),
    M2("pgfault", pgfault),
    M2("pgmajfault", pgmajfault),
    M2("workingset_refault", workingset_refault),
    M2("workingset_activate", workingset_activate),
    M2("workingset_nodereclaim", workingset_nodereclaim),
    M2("pgrefill", pgrefill),
    M2("pgscan", pgscan),
    M2("pgsteal", pgsteal),
    M2("pgactivate", pgactivate),
    M2("pgdeactivate", pgdeactivate),
    M2("pglazyfree", pglazyfree),
    M2("pglazyfreed", pglazyfreed),
    M2("thp_fault_alloc", thp_fault_alloc),
    M2("thp_collapse_alloc", thp_collapse_alloc),
};
#undef C2
#undef M2

#define E2(key, field) KV(key, 0, V2MemoryEvents, field)
static const struct kv v2_event_keys[] = {
    E2("low", low), E2("high", high), E2("max", max), E2("oom", oom), E2("oom_kill", oom_kill),
};
#undef E2

/* cpu.stat / memory.stat for the controllers listed in dir/cgroup.controllers. */
static int v2_stat_files(const char *dir, V2Metrics *m)
{
	void *bases[] = {m->cpu, m->memory};
	char *ctl, *p, *tok;
	int r = read_in(dir, "cgroup.controllers", &ctl);

	if (r < 0)
		return r;
	p = ctl;
	while (r == 0 && (tok = next_field(&p, SPACES))) {
		char name[32];
		if (strcmp(tok, "cpu") != 0 && strcmp(tok, "memory") != 0)
			continue;
		snprintf(name, sizeof(name), "%s.stat", tok);
		r = ignore_enoent(
		    read_kv(dir, name, v2_stat_keys, NELEM(v2_stat_keys), bases, 1, NULL));
	}
	free(ctl);
	return r;
}

/* pids.current / pids.max: a number, "max" as UINT64_MAX, other text 0; missing leaves v. */
static int v2_pid_value(const char *dir, const char *name, uint64_t *v)
{
	char *buf, *s;
	int r = read_in(dir, name, &buf);

	if (r < 0)
		return ignore_enoent(r);
	s = trim(buf);
	if (parse_u64(s, v) < 0)
		*v = strcmp(s, "max") == 0 ? UINT64_MAX : 0;
	free(buf);
	return 0;
}

/* The library's getStatFileContentUint64: any failure reads as 0. */
static uint64_t v2_file_u64(const char *dir, const char *name)
{
	uint64_t v = 0;
	char *buf, *s;

	if (read_in(dir, name, &buf) < 0)
		return 0;
	s = trim(buf);
	if (strcmp(s, "max") == 0)
		v = UINT64_MAX;
	else if (parse_u64(s, &v) < 0)
		v = 0;
	free(buf);
	return v;
}

static int v2_memory_events(const char *dir, V2Metrics *m)
{
	V2MemoryEvents ev;
	size_t lines = 0;
	int r;

	io__containerd__cgroups__v2__memory_events__init(&ev);
	r = read_kv(dir, "memory.events", v2_event_keys, NELEM(v2_event_keys), (void *const[]){&ev},
		    1, &lines);
	if (r < 0 || lines == 0)
		return ignore_enoent(r);
	if (NEW(m->memory_events, io__containerd__cgroups__v2__memory_events__init) < 0)
		return -ENOMEM;
	*m->memory_events = ev;
	return 0;
}

/* One io.stat line ("8:0 rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..") into e;
 * 1 if it is an entry, 0 to skip it, -1 to stop reading (the library returns what it has). */
static int v2_io_line(char *line, V2IOEntry *e)
{
	char *majmin = strsep(&line, " "), *colon, *part;

	if (!line)
		return 0;
	colon = strchr(majmin, ':');
	if (!colon || strchr(colon + 1, ':'))
		return 0;
	*colon = '\0';
	if (parse_u64_strict(majmin, &e->major) < 0 || parse_u64_strict(colon + 1, &e->minor) < 0)
		return -1;
	while ((part = strsep(&line, " "))) {
		char *eq = strchr(part, '=');
		uint64_t v;
		if (!eq || strchr(eq + 1, '=') || parse_u64_strict(eq + 1, &v) < 0)
			continue;
		*eq = '\0';
		if (strcmp(part, "rbytes") == 0)
			e->rbytes = v;
		else if (strcmp(part, "wbytes") == 0)
			e->wbytes = v;
		else if (strcmp(part, "rios") == 0)
			e->rios = v;
		else if (strcmp(part, "wios") == 0)
			e->wios = v;
	}
	return 1;
}

static int v2_io(const char *dir, V2Metrics *m)
{
	char *buf, *p, *line;
	int r = 0;

	if (NEW(m->io, io__containerd__cgroups__v2__iostat__init) < 0)
		return -ENOMEM;
	if (read_in(dir, "io.stat", &buf) < 0)
		return 0;
	p = buf;
	while (r == 0 && (line = strsep(&p, "\n"))) {
		V2IOEntry *e;
		int k;
		if (NEW(e, io__containerd__cgroups__v2__ioentry__init) < 0) {
			r = -ENOMEM;
			break;
		}
		k = v2_io_line(line, e);
		if (k == 1 && (r = push_ptr(&m->io->usage, &m->io->n_usage, e)) == 0)
			continue;
		free(e);
		if (k < 0)
			break;
	}
	free(buf);
	return r;
}

static int v2_rdma_file(const char *dir, const char *name, size_t *n, V2RdmaEntry ***list)
{
	char *buf, *p, *line;
	struct rdma_line l;
	int r = 0;

	if (read_in(dir, name, &buf) < 0)
		return 0;
	p = buf;
	while (r == 0 && (line = strsep(&p, "\n"))) {
		V2RdmaEntry *e;
		if (!rdma_parse(line, &l))
			continue;
		if (NEW(e, io__containerd__cgroups__v2__rdma_entry__init) < 0) {
			r = -ENOMEM;
			break;
		}
		e->hca_handles = l.handles;
		e->hca_objects = l.objects;
		if ((r = set_string(&e->device, l.device)) < 0 || (r = push_ptr(list, n, e)) < 0)
			io__containerd__cgroups__v2__rdma_entry__free_unpacked(e, NULL);
	}
	free(buf);
	return r;
}

static int v2_rdma(const char *dir, V2Metrics *m)
{
	int r = NEW(m->rdma, io__containerd__cgroups__v2__rdma_stat__init);

	if (r == 0)
		r = v2_rdma_file(dir, "rdma.current", &m->rdma->n_current, &m->rdma->current);
	if (r == 0)
		r = v2_rdma_file(dir, "rdma.max", &m->rdma->n_limit, &m->rdma->limit);
	return r;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The entry for pagesize, appended if new. */
static int v2_hugetlb_entry(V2Metrics *m, const char *pagesize, V2HugeTlbStat **out)
{
	V2HugeTlbStat *s;
	int r;

	for (size_t i = 0; i < m->n_hugetlb; i++) {
		if (strcmp(m->hugetlb[i]->pagesize, pagesize) == 0) {
			*out = m->hugetlb[i];
			return 0;
		}
	}
	if (NEW(s, io__containerd__cgroups__v2__huge_tlb_stat__init) < 0)
		return -ENOMEM;
	if ((r = set_string(&s->pagesize, pagesize)) < 0 ||
	    (r = push_ptr(&m->hugetlb, &m->n_hugetlb, s)) < 0) {
		io__containerd__cgroups__v2__huge_tlb_stat__free_unpacked(s, NULL);
		return r;
	}
	*out = s;
	return 0;
}

/* hugetlb.<size>.max / .current (and the .rsvd.* ones, which only create the entry). */
static int v2_hugetlb_file(const char *dir, const char *fname, V2Metrics *m)
{
	char name[NAME_MAX + 1], *f[3], *buf, *s;
	uint64_t v;
	V2HugeTlbStat *e = NULL;
	int r;

	snprintf(name, sizeof(name), "%s", fname);
	if (split(name, ".", f, 3) < 3 || read_in(dir, fname, &buf) < 0)
		return 0;
	s = trim(buf);
	r = strcmp(s, "max") == 0 ? (v = UINT64_MAX, 0) : parse_u64_strict(s, &v);
	free(buf);
	if (r < 0)
		return 0;
	if ((r = v2_hugetlb_entry(m, f[1], &e)) < 0)
		return r;
	if (strcmp(f[2], "max") == 0)
		e->max = v;
	else if (strcmp(f[2], "current") == 0)
		e->current = v;
	return 0;
}

static int cmp_hugetlb(const void *a, const void *b)
{
	const V2HugeTlbStat *x = *(V2HugeTlbStat *const *)a, *y = *(V2HugeTlbStat *const *)b;

	return strcmp(x->pagesize, y->pagesize);
}

static int v2_hugetlb(const char *dir, V2Metrics *m)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return 0;
	while (r == 0 && (de = readdir(d))) {
		const char *n = de->d_name;
		if (strstr(n, "hugetlb") && (ends_with(n, "max") || ends_with(n, "current")))
			r = v2_hugetlb_file(dir, n, m);
	}
	closedir(d);
	/* Go returns them in map order; sorted is as good and stable */
	if (m->n_hugetlb > 1)
		qsort(m->hugetlb, m->n_hugetlb, sizeof(*m->hugetlb), cmp_hugetlb);
	return r;
}

static int v2_collect(const char *dir, V2Metrics *m)
{
	V2MemoryStat *ms;
	int r;

	if (NEW(m->pids, io__containerd__cgroups__v2__pids_stat__init) < 0 ||
	    NEW(m->cpu, io__containerd__cgroups__v2__cpustat__init) < 0 ||
	    NEW(m->memory, io__containerd__cgroups__v2__memory_stat__init) < 0)
		return -ENOMEM;
	if ((r = v2_stat_files(dir, m)) < 0 ||
	    (r = v2_pid_value(dir, "pids.current", &m->pids->current)) < 0 ||
	    (r = v2_pid_value(dir, "pids.max", &m->pids->limit)) < 0 ||
	    (r = v2_memory_events(dir, m)) < 0)
		return r;
	ms = m->memory;
	ms->usage = v2_file_u64(dir, "memory.current");
	ms->usage_limit = v2_file_u64(dir, "memory.max");
	ms->swap_usage = v2_file_u64(dir, "memory.swap.current");
	ms->swap_limit = v2_file_u64(dir, "memory.swap.max");
	if ((r = v2_io(dir, m)) < 0 || (r = v2_rdma(dir, m)) < 0)
		return r;
	return v2_hugetlb(dir, m);
}

int cgroup_v2_metrics(const char *dir, V2Metrics **out)
{
	V2Metrics *m;
	int r;

	*out = NULL;
	if (NEW(m, io__containerd__cgroups__v2__metrics__init) < 0)
		return -ENOMEM;
	r = v2_collect(dir, m);
	if (r < 0) {
		cgroup_v2_metrics_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void cgroup_v2_metrics_free(V2Metrics *m)
{
	if (m)
		io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
}

/* ---- OOM ---- */

int cgroup_v1_oom_eventfd(const char *memory_dir)
{
	char path[PATH_MAX], arg[64];
	int efd, ofd = -1, r;

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	r = path_in(path, sizeof(path), memory_dir, "memory.oom_control");
	if (r < 0)
		goto out;
	ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0) {
		r = -errno;
		goto out;
	}
	/* "<event fd> <control fd> <args>": the OOM event takes no args, hence the final space */
	snprintf(arg, sizeof(arg), "%d %d ", efd, ofd);
	r = path_in(path, sizeof(path), memory_dir, "cgroup.event_control");
	if (r < 0)
		goto out;
	do
		r = ctrbox_write_file(path, arg, strlen(arg), 0700);
	while (r == -EINTR);
out:
	if (ofd >= 0)
		close(ofd);
	if (r < 0) {
		close(efd);
		return r;
	}
	return efd;
}

int cgroup_v1_dir_gone(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) == 0)
		return 0;
	return errno == ENOENT ? 1 : -errno;
}

int cgroup_v2_oom_kills(const char *dir, uint64_t *oom_kill)
{
	char *buf, *p, *line, *f[2];
	int r = read_in(dir, "memory.events", &buf);

	if (r < 0)
		return r;
	*oom_kill = 0;
	p = buf;
	while (r == 0 && (line = next_line(&p))) {
		uint64_t v;
		int known;
		if (split(line, SPACES, f, 2) != 2) {
			r = -EINVAL;
			break;
		}
		known = strcmp(f[0], "low") == 0 || strcmp(f[0], "high") == 0 ||
			strcmp(f[0], "max") == 0 || strcmp(f[0], "oom") == 0 ||
			strcmp(f[0], "oom_kill") == 0;
		if (parse_u64(f[1], &v) < 0) {
			if (known)
				r = -EINVAL; /* parseMemoryEvents: "cannot convert ... to uint64" */
			continue;
		}
		if (strcmp(f[0], "oom_kill") == 0)
			*oom_kill = v;
	}
	free(buf);
	return r;
}

int cgroup_v2_oom_watch(const char *dir)
{
	const char *files[] = {"memory.events", "cgroup.events"};
	char path[PATH_MAX];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	for (size_t i = 0; r == 0 && i < NELEM(files); i++) {
		r = path_in(path, sizeof(path), dir, files[i]);
		if (r == 0 && inotify_add_watch(fd, path, IN_MODIFY) < 0)
			r = -errno;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int cgroup_v2_empty(const char *dir)
{
	static const struct kv keys[] = {{"populated", 0, 0}};
	uint64_t populated = 0;
	size_t lines;

	if (read_kv(dir, "cgroup.events", keys, 1, (void *const[]){&populated}, 1, &lines) < 0)
		return 1;
	return populated == 0;
}
