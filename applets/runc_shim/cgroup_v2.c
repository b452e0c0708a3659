/* cgroups for the runc shim: v2 Stats metrics, as the Go library's v2 Manager.Stat reads them. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"

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
	int r = cg_read_in(dir, "cgroup.controllers", &ctl);

	if (r < 0)
		return r;
	p = ctl;
	while (r == 0 && (tok = cg_next_field(&p, SPACES))) {
		char name[32];
		if (strcmp(tok, "cpu") != 0 && strcmp(tok, "memory") != 0)
			continue;
		snprintf(name, sizeof(name), "%s.stat", tok);
		r = ignore_enoent(
		    cg_read_kv(dir, name, v2_stat_keys, NELEM(v2_stat_keys), bases, 1, NULL));
	}
	free(ctl);
	return r;
}

/* pids.current / pids.max: a number, "max" as UINT64_MAX, other text 0; missing leaves v. */
static int v2_pid_value(const char *dir, const char *name, uint64_t *v)
{
	char *buf, *s;
	int r = cg_read_in(dir, name, &buf);

	if (r < 0)
		return ignore_enoent(r);
	s = cg_trim(buf);
	if (cg_parse_u64(s, v) < 0)
		*v = strcmp(s, "max") == 0 ? UINT64_MAX : 0;
	free(buf);
	return 0;
}

/* The library's getStatFileContentUint64: any failure reads as 0. */
static uint64_t v2_file_u64(const char *dir, const char *name)
{
	uint64_t v = 0;
	char *buf, *s;

	if (cg_read_in(dir, name, &buf) < 0)
		return 0;
	s = cg_trim(buf);
	if (strcmp(s, "max") == 0)
		v = UINT64_MAX;
	else if (cg_parse_u64(s, &v) < 0)
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
	r = cg_read_kv(dir, "memory.events", v2_event_keys, NELEM(v2_event_keys),
		       (void *const[]){&ev}, 1, &lines);
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
	if (cg_parse_u64_strict(majmin, &e->major) < 0 ||
	    cg_parse_u64_strict(colon + 1, &e->minor) < 0)
		return -1;
	while ((part = strsep(&line, " "))) {
		char *eq = strchr(part, '=');
		uint64_t v;
		if (!eq || strchr(eq + 1, '=') || cg_parse_u64_strict(eq + 1, &v) < 0)
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
	if (cg_read_in(dir, "io.stat", &buf) < 0)
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
		if (k == 1 && (r = cg_push_ptr(&m->io->usage, &m->io->n_usage, e)) == 0)
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

	if (cg_read_in(dir, name, &buf) < 0)
		return 0;
	p = buf;
	while (r == 0 && (line = strsep(&p, "\n"))) {
		V2RdmaEntry *e;
		if (!cg_rdma_parse(line, &l))
			continue;
		if (NEW(e, io__containerd__cgroups__v2__rdma_entry__init) < 0) {
			r = -ENOMEM;
			break;
		}
		e->hca_handles = l.handles;
		e->hca_objects = l.objects;
		if ((r = cg_set_string(&e->device, l.device)) < 0 ||
		    (r = cg_push_ptr(list, n, e)) < 0)
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
	if ((r = cg_set_string(&s->pagesize, pagesize)) < 0 ||
	    (r = cg_push_ptr(&m->hugetlb, &m->n_hugetlb, s)) < 0) {
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
	if (cg_split(name, ".", f, 3) < 3 || cg_read_in(dir, fname, &buf) < 0)
		return 0;
	s = cg_trim(buf);
	r = strcmp(s, "max") == 0 ? (v = UINT64_MAX, 0) : cg_parse_u64_strict(s, &v);
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
