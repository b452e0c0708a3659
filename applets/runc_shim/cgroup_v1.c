/* cgroups for the runc shim: v1 Stats metrics, as the Go library's v1 Cgroup.Stat reads them. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/util.h>
#include "cgroup_int.h"

/* ---- v1 controllers: each mirrors the library's <controller>.Stat ---- */

static int v1_pids(const char *dir, V1Metrics *m)
{
	uint64_t current, max = 0;
	char *buf, *s;
	int r = cg_read_uint(dir, "pids.current", &current);

	if (r < 0 || (r = cg_read_in(dir, "pids.max", &buf)) < 0)
		return r;
	s = cg_trim(buf);
	if (strcmp(s, "max") != 0)
		r = cg_parse_u64(s, &max);
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
	int r = cg_read_in(dir, "cpuacct.stat", &buf);

	if (r < 0)
		return r;
	if (cg_split(buf, SPACES, f, 4) != 4 || strcmp(f[0], "user") != 0 ||
	    strcmp(f[2], "system") != 0)
		r = -EINVAL;
	if (r == 0)
		r = cg_parse_u64_strict(f[1], user);
	if (r == 0)
		r = cg_parse_u64_strict(f[3], kernel);
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
	int r = cg_read_in(dir, "cpuacct.usage_percpu", &buf);

	if (r < 0)
		return r;
	p = buf;
	while (r == 0 && (tok = cg_next_field(&p, SPACES))) {
		if (cnt == cap) {
			uint64_t *na = realloc(a, (cap = cap ? cap * 2 : 16) * sizeof(*a));
			if (!na) {
				r = -ENOMEM;
				break;
			}
			a = na;
		}
		r = cg_parse_u64_strict(tok, &a[cnt++]);
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

	if (r < 0 || (r = cg_read_uint(dir, "cpuacct.usage", &total)) < 0 ||
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

	return cg_read_kv(dir, "cpu.stat", keys, NELEM(keys), bases, 0, NULL);
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
		if ((r = cg_read_uint(dir, name, files[i].v)) < 0)
			return r;
	}
	return 0;
}

static int v1_memory(const char *dir, V1Metrics *m)
{
	char *buf;
	int r = cg_read_in(dir, "memory.stat", &buf);

	if (r < 0)
		return r;
	r = v1_memory_new(m);
	if (r == 0)
		r = cg_parse_kv(buf, v1_memory_keys, NELEM(v1_memory_keys),
				(void *const[]){m->memory}, 0, NULL);
	free(buf);
	if (r < 0 || (r = cg_read_in(dir, "memory.oom_control", &buf)) < 0)
		return r;
	r = NEW(m->memory_oom_control, io__containerd__cgroups__v1__memory_oom_control__init);
	if (r == 0)
		r = cg_parse_kv(buf, v1_oom_keys, NELEM(v1_oom_keys),
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

	if ((r = cg_parse_u64_strict(f[0], &major)) < 0 ||
	    (r = cg_parse_u64_strict(f[1], &minor)) < 0)
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
	for (int i = 0; r == 0 && (line = cg_next_line(&p)); i++) {
		if (i < 2)
			continue; /* the header and the blank line after it */
		r = cg_split(line, SPACES, f, 4) < 4 ? -EINVAL : blkdev_add(out, n, f);
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
	size_t n = cg_split(line, " :", f, 4);
	uint64_t major, minor, value;
	V1BlkIOEntry *e;
	int r;

	*out = NULL;
	if (n < 3)
		return n == 2 && strcmp(f[0], "Total") == 0 ? 0 : -EINVAL;
	if ((r = cg_parse_u64_strict(f[0], &major)) < 0 ||
	    (r = cg_parse_u64_strict(f[1], &minor)) < 0 ||
	    (r = cg_parse_u64_strict(f[n == 4 ? 3 : 2], &value)) < 0)
		return r;
	if (NEW(e, io__containerd__cgroups__v1__blk_ioentry__init) < 0)
		return -ENOMEM;
	e->major = major;
	e->minor = minor;
	e->value = value;
	if ((r = cg_set_string(&e->op, n == 4 ? f[2] : "")) < 0 ||
	    (r = cg_set_string(&e->device, blkdev_name(d, nd, major, minor))) < 0) {
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
	int r = cg_read_in(dir, bf->name, &buf);

	if (r < 0)
		return r;
	p = buf;
	while (r == 0 && (line = cg_next_line(&p))) {
		V1BlkIOEntry *e;
		r = blkio_line(line, d, nd, &e);
		if (r == 0 && e && (r = cg_push_ptr(bf->entries, bf->n, e)) < 0)
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
	int use_cfq = cg_exists_in(dir, "blkio.io_serviced_recursive");

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
		if (!s || cg_push_ptr(&names, &cnt, s) < 0) {
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
		if ((r = cg_read_uint(dir, name, &v[i])) < 0)
			return r;
	}
	if (NEW(s, io__containerd__cgroups__v1__hugetlb_stat__init) < 0)
		return -ENOMEM;
	s->usage = v[0];
	s->max = v[1];
	s->failcnt = v[2];
	if ((r = cg_set_string(&s->pagesize, size)) < 0 ||
	    (r = cg_push_ptr(&m->hugetlb, &m->n_hugetlb, s)) < 0)
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
		if (!cg_rdma_parse(line, &l))
			continue;
		if (NEW(e, io__containerd__cgroups__v1__rdma_entry__init) < 0)
			return -ENOMEM;
		e->hca_handles = l.handles;
		e->hca_objects = l.objects;
		if ((r = cg_set_string(&e->device, l.device)) < 0 ||
		    (r = cg_push_ptr(list, n, e)) < 0) {
			io__containerd__cgroups__v1__rdma_entry__free_unpacked(e, NULL);
			return r;
		}
	}
	return 0;
}

static int v1_rdma(const char *dir, V1Metrics *m)
{
	char *cur = NULL, *max = NULL;
	int r = cg_read_in(dir, "rdma.current", &cur);

	if (r == 0)
		r = cg_read_in(dir, "rdma.max", &max);
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
