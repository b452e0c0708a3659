/* Unit tests: cgroup paths, v1/v2 metrics from fixture trees and this host, OOM eventfd/inotify. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runc_shim/cgroup.h"
#include "unit.h"
#include <ctrbox/util.h>

#define FIX "tests/unit/fixtures/cgroup"
#define BIG 9223372036854771712ull /* "unlimited" in v1 limit files (LONG_MAX rounded to pages) */

#define CHECK_U64(a, b)                                                                            \
	do {                                                                                       \
		unsigned long long a_ = (a), b_ = (b);                                             \
		if (a_ != b_) {                                                                    \
			fprintf(stderr, "  %s:%d: %s = %llu, want %llu\n", __FILE__, __LINE__, #a, \
				a_, b_);                                                           \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

static void replace(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
}

/* Paths of the fixture container `name` (every controller but freezer/systemd). */
static int fixture_v1_paths(const char *name, struct cgroup_paths *p)
{
	char text[512];
	int r;

	snprintf(text, sizeof(text),
		 "13:rdma:/%s\n12:hugetlb:/%s\n11:pids:/%s\n10:blkio:/%s\n9:memory:/%s\n"
		 "4:cpu,cpuacct:/%s\n3:freezer:/%s\n1:name=systemd:/%s\n0::/%s\n",
		 name, name, name, name, name, name, name, name, name);
	r = cgroup_paths_parse(text, NULL, FIX "/v1", p);
	if (r == 0) {
		replace(&p->partitions, FIX "/v1-proc/partitions");
		replace(&p->hugepages, FIX "/v1-sys/hugepages");
	}
	return r;
}

/* cgroup_mountinfo_read: the cgroup lines only, across reads and over-long lines. */
void test_cgroup_mountinfo_read(void)
{
	static const char cg1[] =
	    "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
	static const char cg2[] =
	    "36 31 0:33 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids";
	static const char v2[] = "30 23 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	char path[] = "/tmp/ctrbox-unit-mountinfo.XXXXXX", *out = NULL, *longline;
	size_t big = 5000;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	/* an overlay line of 5000 bytes that ends in a cgroup-looking tail, then the rest */
	longline = malloc(big + 1);
	memset(longline, 'x', big);
	memcpy(longline, "99 1 0:50 / /run/c/rootfs rw - overlay overlay rw,lowerdir=", 60);
	memcpy(longline + big - 20, " - cgroup cgroup rw\n", 20);
	longline[big] = 0;
	CHECK(write(fd, "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n", 48) == 48);
	CHECK(write(fd, longline, big) == (ssize_t)big);
	CHECK(write(fd, cg1, strlen(cg1)) == (ssize_t)strlen(cg1));
	CHECK(write(fd, v2, strlen(v2)) == (ssize_t)strlen(v2));
	CHECK(write(fd, cg2, strlen(cg2)) == (ssize_t)strlen(cg2)); /* no newline at the end */
	lseek(fd, 0, SEEK_SET);
	CHECK(cgroup_mountinfo_read(fd, &out) == 0);
	char want[512];
	snprintf(want, sizeof(want), "%s%s\n", cg1, cg2);
	CHECK_STR(out, want);
	free(out);
	/* nothing of interest: "" */
	CHECK(ftruncate(fd, 0) == 0);
	lseek(fd, 0, SEEK_SET);
	CHECK(write(fd, v2, strlen(v2)) == (ssize_t)strlen(v2));
	lseek(fd, 0, SEEK_SET);
	CHECK(cgroup_mountinfo_read(fd, &out) == 0);
	CHECK_STR(out, "");
	free(out);
	/* what comes out still strips the mount root */
	struct cgroup_paths p;
	CHECK(cgroup_paths_parse("9:memory:/docker/abc/ctr\n", cg1, FIX "/v1", &p) == 0);
	CHECK_STR(p.memory, FIX "/v1/memory/ctr");
	cgroup_paths_free(&p);
	close(fd);
	free(longline);
	/* a bad fd: -EBADF */
	CHECK(cgroup_mountinfo_read(-1, &out) == -EBADF);
}

void test_cgroup_paths_v1(void)
{
	static const char mountinfo[] =
	    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	    "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	    "36 31 0:33 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";
	struct cgroup_paths p;

	CHECK(fixture_v1_paths("ctr", &p) == 0);
	CHECK_STR(p.memory, FIX "/v1/memory/ctr");
	CHECK_STR(p.cpu, FIX "/v1/cpu,cpuacct/ctr");
	CHECK_STR(p.cpuacct, FIX "/v1/cpu,cpuacct/ctr");
	CHECK_STR(p.pids, FIX "/v1/pids/ctr");
	CHECK_STR(p.blkio, FIX "/v1/blkio/ctr");
	CHECK_STR(p.hugetlb, FIX "/v1/hugetlb/ctr");
	CHECK_STR(p.rdma, FIX "/v1/rdma/ctr");
	CHECK(p.unified == NULL); /* "0::" on a hybrid host is not the container's cgroup */
	cgroup_paths_free(&p);

	/* a directory that does not exist is left out, as the library's Load does */
	CHECK(fixture_v1_paths("ctr2", &p) == 0);
	CHECK_STR(p.memory, FIX "/v1/memory/ctr2");
	CHECK_STR(p.blkio, FIX "/v1/blkio/ctr2");
	CHECK(p.cpu == NULL && p.cpuacct == NULL && p.pids == NULL && p.hugetlb == NULL);
	CHECK_STR(p.partitions, FIX "/v1-proc/partitions");
	cgroup_paths_free(&p);

	/* per-controller directories (no "cpu,cpuacct" mount) are the fallback */
	CHECK(cgroup_paths_parse("4:cpu,cpuacct:/ctr\n", NULL, FIX "/v1", &p) == 0);
	CHECK_STR(p.cpu, FIX "/v1/cpu,cpuacct/ctr");
	cgroup_paths_free(&p);
	CHECK(cgroup_paths_parse("5:pids,memory:/ctr\n", NULL, FIX "/v1", &p) == 0);
	CHECK_STR(p.pids, FIX "/v1/pids/ctr");
	CHECK_STR(p.memory, FIX "/v1/memory/ctr");
	CHECK_STR(p.partitions, "/proc/partitions");
	CHECK_STR(p.hugepages, "/sys/kernel/mm/hugepages");
	cgroup_paths_free(&p);

	/* paths are relative to the hierarchy's mount root (cgroupfs mounted inside a container) */
	CHECK(cgroup_paths_parse("9:memory:/docker/abc/ctr\n8:pids:/ctr\n", mountinfo, FIX "/v1",
				 &p) == 0);
	CHECK_STR(p.memory, FIX "/v1/memory/ctr");
	CHECK_STR(p.pids, FIX "/v1/pids/ctr");
	cgroup_paths_free(&p);

	CHECK(cgroup_paths_parse("9:memory:/gone\n1:name=systemd:/ctr\n", NULL, FIX "/v1", &p) ==
	      -ENOENT);
	CHECK(p.memory == NULL);
	CHECK(cgroup_paths_parse("9:memory\n", NULL, FIX "/v1", &p) == -EINVAL);
	CHECK(cgroup_paths_parse("", NULL, FIX "/v1", &p) == -ENOENT);
}

void test_cgroup_paths_v2(void)
{
	struct cgroup_paths p;

	CHECK(cgroup_paths_parse("0::/ctr\n", NULL, FIX "/v2", &p) == 0);
	CHECK_STR(p.unified, FIX "/v2/ctr");
	CHECK(p.memory == NULL && p.cpu == NULL);
	cgroup_paths_free(&p);
	/* v1 lines are ignored on a unified host; the path is not checked for existence */
	CHECK(cgroup_paths_parse("1:name=systemd:/x\n0::/not/yet\n", NULL, FIX "/v2", &p) == 0);
	CHECK_STR(p.unified, FIX "/v2/not/yet");
	cgroup_paths_free(&p);
	CHECK(cgroup_paths_parse("0::/ctr/../x\n", NULL, FIX "/v2", &p) == -EINVAL);
	CHECK(cgroup_paths_parse("0::ctr\n", NULL, FIX "/v2", &p) == -EINVAL);
	CHECK(cgroup_paths_parse("1:name=systemd:/x\n", NULL, FIX "/v2", &p) == -ENOENT);
	CHECK(cgroup_paths_parse("garbage\n", NULL, FIX "/v2", &p) == -EINVAL);
}

/* This host: the unit-test process itself. */
void test_cgroup_paths_self(void)
{
	struct cgroup_paths p;
	int r = cgroup_paths_for_pid(getpid(), NULL, &p);

	CHECK(r == 0);
	if (r < 0)
		return;
	if (cgroup_v2_host()) {
		Io__Containerd__Cgroups__V2__Metrics *m = NULL;
		CHECK(p.unified != NULL && strncmp(p.unified, CGROUP_ROOT, 14) == 0);
		CHECK(cgroup_v2_metrics(p.unified, &m) == 0);
		CHECK(m && m->cpu && m->cpu->usage_usec > 0);
		cgroup_v2_metrics_free(m);
	} else {
		Io__Containerd__Cgroups__V1__Metrics *m = NULL;
		CHECK(p.unified == NULL);
		CHECK(p.memory != NULL && strncmp(p.memory, CGROUP_ROOT "/memory", 21) == 0);
		CHECK(cgroup_v1_metrics(&p, &m) == 0);
		CHECK(m && m->memory && m->memory->usage->usage > 0);
		CHECK(m && m->memory_oom_control && m->blkio);
		if (p.cpuacct)
			CHECK(m && m->cpu->usage->total > 0 && m->cpu->usage->n_per_cpu > 0);
		cgroup_v1_metrics_free(m);
	}
	cgroup_paths_free(&p);
	CHECK(cgroup_paths_for_pid(0x7ffffff0, NULL, &p) == -ENOENT);
}

static void check_blkio(const Io__Containerd__Cgroups__V1__BlkIOEntry *e, const char *op,
			const char *dev, uint64_t major, uint64_t minor, uint64_t value)
{
	CHECK_STR(e->op, op);
	CHECK_STR(e->device, dev);
	CHECK_U64(e->major, major);
	CHECK_U64(e->minor, minor);
	CHECK_U64(e->value, value);
}

static void check_v1_memory(const Io__Containerd__Cgroups__V1__MemoryStat *ms)
{
	CHECK_U64(ms->cache, 1634304);
	CHECK_U64(ms->rss, 1798144);
	CHECK_U64(ms->rss_huge, 2097152);
	CHECK_U64(ms->mapped_file, 135168);
	CHECK_U64(ms->dirty, 24576);
	CHECK_U64(ms->writeback, 4096);
	CHECK_U64(ms->pg_pg_in, 26921);
	CHECK_U64(ms->pg_pg_out, 26083);
	CHECK_U64(ms->pg_fault, 62701);
	CHECK_U64(ms->pg_maj_fault, 6);
	CHECK_U64(ms->inactive_anon, 1630208);
	CHECK_U64(ms->active_anon, 12288);
	CHECK_U64(ms->inactive_file, 897024);
	CHECK_U64(ms->active_file, 737280);
	CHECK_U64(ms->unevictable, 8192);
	CHECK_U64(ms->hierarchical_memory_limit, 16777216);
	CHECK_U64(ms->hierarchical_swap_limit, BIG);
	CHECK_U64(ms->total_cache, 1634305);
	CHECK_U64(ms->total_rss, 1798145);
	CHECK_U64(ms->total_rss_huge, 2097153);
	CHECK_U64(ms->total_mapped_file, 135169);
	CHECK_U64(ms->total_dirty, 24577);
	CHECK_U64(ms->total_writeback, 4097);
	CHECK_U64(ms->total_pg_pg_in, 26922);
	CHECK_U64(ms->total_pg_pg_out, 26084);
	CHECK_U64(ms->total_pg_fault, 62702);
	CHECK_U64(ms->total_pg_maj_fault, 7);
	CHECK_U64(ms->total_inactive_anon, 1630209);
	CHECK_U64(ms->total_active_anon, 12289);
	CHECK_U64(ms->total_inactive_file, 897025);
	CHECK_U64(ms->total_active_file, 737281);
	CHECK_U64(ms->total_unevictable, 8193);

	CHECK_U64(ms->usage->usage, 5042176);
	CHECK_U64(ms->usage->max, 7127040);
	CHECK_U64(ms->usage->failcnt, 12);
	CHECK_U64(ms->usage->limit, 16777216);
	CHECK_U64(ms->swap->usage, 5435392);
	CHECK_U64(ms->swap->max, 7127041);
	CHECK_U64(ms->swap->limit, BIG);
	CHECK_U64(ms->kernel->usage, 1691648);
	CHECK_U64(ms->kernel->max, 5337088);
	CHECK_U64(ms->kernel->limit, BIG);
	CHECK_U64(ms->kernel_tcp->usage, 0);
	CHECK_U64(ms->kernel_tcp->limit, BIG);
}

static void check_v1_fixture(const Io__Containerd__Cgroups__V1__Metrics *m)
{
	const Io__Containerd__Cgroups__V1__BlkIOStat *b = m->blkio;
	const Io__Containerd__Cgroups__V1__RdmaStat *rd = m->rdma;

	CHECK(m->pids && m->pids->current == 3 && m->pids->limit == 0);
	CHECK_U64(m->cpu->usage->total, 637482355453ull);
	CHECK_U64(m->cpu->usage->user, 323060000000ull); /* 32306 ticks of 10 ms */
	CHECK_U64(m->cpu->usage->kernel, 314420000000ull);
	CHECK_U64(m->cpu->usage->n_per_cpu, 2);
	if (m->cpu->usage->n_per_cpu == 2) {
		CHECK_U64(m->cpu->usage->per_cpu[0], 301177403105ull);
		CHECK_U64(m->cpu->usage->per_cpu[1], 336304952348ull);
	}
	CHECK_U64(m->cpu->throttling->periods, 120);
	CHECK_U64(m->cpu->throttling->throttled_periods, 7);
	CHECK_U64(m->cpu->throttling->throttled_time, 350000000);
	CHECK(m->memory != NULL);
	if (m->memory)
		check_v1_memory(m->memory);
	CHECK(m->memory_oom_control && m->memory_oom_control->oom_kill_disable == 0 &&
	      m->memory_oom_control->under_oom == 1 && m->memory_oom_control->oom_kill == 3);

	CHECK(b != NULL);
	if (!b)
		return;
	CHECK_U64(b->n_io_service_bytes_recursive, 12);
	CHECK_U64(b->n_io_serviced_recursive, 6);
	CHECK_U64(b->n_sectors_recursive, 1);
	CHECK_U64(b->n_io_time_recursive, 1);
	CHECK(b->n_io_queued_recursive == 0 && b->n_io_merged_recursive == 0 &&
	      b->n_io_service_time_recursive == 0 && b->n_io_wait_time_recursive == 0);
	if (b->n_io_service_bytes_recursive == 12) {
		check_blkio(b->io_service_bytes_recursive[0], "Read", "/dev/sda", 8, 0, 1052672);
		check_blkio(b->io_service_bytes_recursive[5], "Total", "/dev/sda", 8, 0, 1060864);
		check_blkio(b->io_service_bytes_recursive[6], "Read", "", 253, 3, 4096);
	}
	if (b->n_io_serviced_recursive == 6)
		check_blkio(b->io_serviced_recursive[1], "Write", "/dev/sda", 8, 0, 2);
	if (b->n_sectors_recursive == 1)
		check_blkio(b->sectors_recursive[0], "", "/dev/sda", 8, 0, 2072);
	if (b->n_io_time_recursive == 1)
		check_blkio(b->io_time_recursive[0], "", "/dev/sda", 8, 0, 41807364);

	CHECK_U64(m->n_hugetlb, 2); /* in /sys/kernel/mm/hugepages entry order */
	if (m->n_hugetlb == 2) {
		CHECK_STR(m->hugetlb[0]->pagesize, "1GB");
		CHECK(m->hugetlb[0]->usage == 0 && m->hugetlb[0]->failcnt == 0);
		CHECK_STR(m->hugetlb[1]->pagesize, "2MB");
		CHECK_U64(m->hugetlb[1]->usage, 4194304);
		CHECK_U64(m->hugetlb[1]->max, 6291456);
		CHECK_U64(m->hugetlb[1]->failcnt, 1);
	}
	CHECK(rd && rd->n_current == 2 && rd->n_limit == 2);
	if (rd && rd->n_current == 2 && rd->n_limit == 2) {
		CHECK_STR(rd->current[0]->device, "mlx4_0");
		CHECK(rd->current[0]->hca_handles == 2 && rd->current[0]->hca_objects == 2000);
		CHECK_STR(rd->current[1]->device, "ocrdma1");
		CHECK(rd->current[1]->hca_handles == 3 &&
		      rd->current[1]->hca_objects == UINT32_MAX);
		CHECK(rd->limit[0]->hca_handles == UINT32_MAX);
		CHECK(rd->limit[1]->hca_handles == 10 && rd->limit[1]->hca_objects == 1000);
	}
	CHECK(m->n_network == 0 && m->cgroup_stats == NULL);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void test_cgroup_v1_fixture(void)
{
	Io__Containerd__Cgroups__V1__Metrics *m = NULL, *back;
	struct cgroup_paths p;
	uint8_t *buf, *buf2, want[64];
	size_t len, len2, n = 0, inner;
	const Io__Containerd__Cgroups__V1__CPUUsage *u;

	CHECK(fixture_v1_paths("ctr", &p) == 0);
	CHECK(cgroup_v1_metrics(&p, &m) == 0);
	cgroup_paths_free(&p);
	if (!m)
		return;
	check_v1_fixture(m);

	/* CPUUsage: fields in order, per_cpu packed into one length-delimited field 4 */
	u = m->cpu->usage;
	want[n++] = 0x08;
	n += put_varint(want + n, u->total);
	want[n++] = 0x10;
	n += put_varint(want + n, u->kernel);
	want[n++] = 0x18;
	n += put_varint(want + n, u->user);
	want[n++] = 0x22;
	inner = put_varint(want + n + 1, u->per_cpu[0]);
	inner += put_varint(want + n + 1 + inner, u->per_cpu[1]);
	want[n++] = (uint8_t)inner;
	n += inner;
	len = io__containerd__cgroups__v1__cpuusage__get_packed_size(u);
	buf = malloc(len);
	io__containerd__cgroups__v1__cpuusage__pack(u, buf);
	CHECK(len == n && memcmp(buf, want, n) == 0);
	free(buf);

	/* the whole message survives encode -> decode -> encode unchanged */
	len = io__containerd__cgroups__v1__metrics__get_packed_size(m);
	buf = malloc(len);
	CHECK(io__containerd__cgroups__v1__metrics__pack(m, buf) == len);
	back = io__containerd__cgroups__v1__metrics__unpack(NULL, len, buf);
	CHECK(back != NULL);
	if (back) {
		check_v1_fixture(back);
		len2 = io__containerd__cgroups__v1__metrics__get_packed_size(back);
		buf2 = malloc(len2);
		io__containerd__cgroups__v1__metrics__pack(back, buf2);
		CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
		free(buf2);
		io__containerd__cgroups__v1__metrics__free_unpacked(back, NULL);
	}
	free(buf);
	cgroup_v1_metrics_free(m);
}

/* ctr2: memory without swap accounting, blkio on blk-mq (only "Total 0"), no cpu, no pids. */
void test_cgroup_v1_partial(void)
{
	/* cpu{usage{}, throttling{}} first and blkio{} and memory_oom_control{1} last */
	static const uint8_t head[] = {0x1a, 0x04, 0x0a, 0x00, 0x12, 0x00};
	static const uint8_t tail[] = {0x2a, 0x00, 0x4a, 0x02, 0x08, 0x01};
	Io__Containerd__Cgroups__V1__Metrics *m = NULL;
	const Io__Containerd__Cgroups__V1__MemoryStat *ms;
	struct cgroup_paths p;
	uint8_t *buf;
	size_t len;

	CHECK(fixture_v1_paths("ctr2", &p) == 0);
	CHECK(cgroup_v1_metrics(&p, &m) == 0);
	cgroup_paths_free(&p);
	if (!m)
		return;
	CHECK(m->pids == NULL && m->rdma == NULL && m->n_hugetlb == 0);
	CHECK(m->cpu && m->cpu->usage && m->cpu->throttling);
	CHECK(m->cpu->usage->total == 0 && m->cpu->usage->n_per_cpu == 0);
	ms = m->memory;
	CHECK(ms && ms->cache == 1634304 && ms->rss == 1798144 && ms->rss_huge == 2097152);
	CHECK(ms && ms->usage->usage == 4096 && ms->usage->max == 8192);
	CHECK(ms && ms->usage->limit == 0); /* "-1" reads as 0, like the library's parseUint */
	/* memory.memsw.* missing: the library stops there, kmem is never read */
	CHECK(ms && ms->swap && ms->swap->usage == 0 && ms->kernel && ms->kernel->usage == 0);
	CHECK(ms && ms->kernel_tcp != NULL);
	CHECK(m->memory_oom_control && m->memory_oom_control->oom_kill_disable == 1);
	CHECK(m->blkio && m->blkio->n_io_service_bytes_recursive == 0 &&
	      m->blkio->n_io_serviced_recursive == 0);

	len = io__containerd__cgroups__v1__metrics__get_packed_size(m);
	buf = malloc(len);
	io__containerd__cgroups__v1__metrics__pack(m, buf);
	CHECK(len > sizeof(head) + sizeof(tail));
	CHECK(memcmp(buf, head, sizeof(head)) == 0);
	CHECK(memcmp(buf + len - sizeof(tail), tail, sizeof(tail)) == 0);
	free(buf);
	cgroup_v1_metrics_free(m);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(ctrbox_write_file(path, text, strlen(text), 0644) == 0);
}

/* Read errors other than ENOENT and malformed files fail the whole call. */
void test_cgroup_v1_errors(void)
{
	char dir[] = "/tmp/ctrbox-cgroup-XXXXXX";
	struct cgroup_paths p = {0};
	Io__Containerd__Cgroups__V1__Metrics *m = (void *)1;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	p.memory = dir;
	put(dir, "memory.stat", "cache 1\nrss\n");
	CHECK(cgroup_v1_metrics(&p, &m) == -EINVAL);
	CHECK(m == NULL);
	put(dir, "memory.stat", "cache x\n");
	CHECK(cgroup_v1_metrics(&p, &m) == -EINVAL);
	put(dir, "memory.stat", "cache 99999999999999999999\n");
	CHECK(cgroup_v1_metrics(&p, &m) == -ERANGE);
	put(dir, "memory.stat", "cache 1\n");
	CHECK(cgroup_v1_metrics(&p, &m) == 0); /* oom_control missing: ignored */
	CHECK(m && m->memory && m->memory->cache == 1 && m->memory_oom_control == NULL);
	cgroup_v1_metrics_free(m);
	p.memory = NULL;

	p.cpuacct = dir;
	put(dir, "cpuacct.stat", "user 1\nsys 2\n");
	put(dir, "cpuacct.usage", "5\n");
	put(dir, "cpuacct.usage_percpu", "5\n");
	CHECK(cgroup_v1_metrics(&p, &m) == -EINVAL);
	put(dir, "cpuacct.stat", "user 1\nsystem 2\n");
	CHECK(cgroup_v1_metrics(&p, &m) == 0);
	CHECK(m && m->cpu->usage->user == 10000000 && m->cpu->usage->kernel == 20000000);
	cgroup_v1_metrics_free(m);
	p.cpuacct = NULL;

	/* blk-mq: the throttle files */
	p.blkio = dir;
	p.partitions = FIX "/v1-proc/partitions";
	put(dir, "blkio.throttle.io_serviced", "254:0 Read 3\n254:0 Total\n");
	CHECK(cgroup_v1_metrics(&p, &m) == -EINVAL);
	put(dir, "blkio.throttle.io_serviced", "254:0 Read 3\n254:0 Total 3\nTotal 3\n");
	put(dir, "blkio.throttle.io_service_bytes", "254:0 Write 4096\nTotal 4096\n");
	CHECK(cgroup_v1_metrics(&p, &m) == 0);
	CHECK(m && m->blkio && m->blkio->n_io_serviced_recursive == 2 &&
	      m->blkio->n_io_service_bytes_recursive == 1);
	if (m && m->blkio && m->blkio->n_io_service_bytes_recursive == 1)
		check_blkio(m->blkio->io_service_bytes_recursive[0], "Write", "/dev/vda", 254, 0,
			    4096);
	cgroup_v1_metrics_free(m);
	/* CFQ files announced but sectors_recursive (read first) missing: the library returns
	 * ENOENT before any fallback, and IgnoreNotExist leaves blkio empty */
	put(dir, "blkio.io_serviced_recursive", "254:0 Read 3\nTotal 3\n");
	CHECK(cgroup_v1_metrics(&p, &m) == 0);
	CHECK(m && m->blkio && m->blkio->n_io_serviced_recursive == 0);
	cgroup_v1_metrics_free(m);
	put(dir, "blkio.sectors_recursive", "254:0 bad\n");
	CHECK(cgroup_v1_metrics(&p, &m) == -EINVAL);
	p.partitions = FIX "/v1-proc/missing";
	CHECK(cgroup_v1_metrics(&p, &m) == 0); /* the library reads partitions first */
	CHECK(m && m->blkio && m->blkio->n_sectors_recursive == 0);
	cgroup_v1_metrics_free(m);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static void check_v2_fixture(const Io__Containerd__Cgroups__V2__Metrics *m)
{
	const Io__Containerd__Cgroups__V2__MemoryStat *ms = m->memory;
	const Io__Containerd__Cgroups__V2__CPUStat *c = m->cpu;

	CHECK(m->pids && m->pids->current == 3 && m->pids->limit == UINT64_MAX);
	CHECK(c && c->usage_usec == 657823328 && c->user_usec == 330144646 &&
	      c->system_usec == 327678682);
	CHECK(c && c->nr_periods == 1200 && c->nr_throttled == 31 && c->throttled_usec == 4183120);
	CHECK(ms != NULL);
	if (ms) {
		CHECK_U64(ms->anon, 1798144);
		CHECK_U64(ms->file, 1634304);
		CHECK_U64(ms->kernel_stack, 49152);
		CHECK_U64(ms->slab, 1499136);
		CHECK_U64(ms->sock, 4096);
		CHECK_U64(ms->shmem, 8192);
		CHECK_U64(ms->file_mapped, 135168);
		CHECK_U64(ms->file_dirty, 24576);
		CHECK_U64(ms->file_writeback, 4096);
		CHECK_U64(ms->anon_thp, 2097152);
		CHECK_U64(ms->inactive_anon, 1630208);
		CHECK_U64(ms->active_anon, 12288);
		CHECK_U64(ms->inactive_file, 897024);
		CHECK_U64(ms->active_file, 737280);
		CHECK_U64(ms->unevictable, 16384);
		CHECK_U64(ms->slab_reclaimable, 389120);
		CHECK_U64(ms->slab_unreclaimable, 1110016);
		CHECK_U64(ms->pgfault, 62701);
		CHECK_U64(ms->pgmajfault, 6);
		CHECK_U64(ms->workingset_refault, 0); /* split into _anon/_file since 5.9 */
		CHECK_U64(ms->workingset_activate, 0);
		CHECK_U64(ms->workingset_nodereclaim, 3);
		CHECK_U64(ms->pgrefill, 9);
		CHECK_U64(ms->pgscan, 55);
		CHECK_U64(ms->pgsteal, 44);
		CHECK_U64(ms->pgactivate, 179);
		CHECK_U64(ms->pgdeactivate, 8);
		CHECK_U64(ms->pglazyfree, 2);
		CHECK_U64(ms->pglazyfreed, 1);
		CHECK_U64(ms->thp_fault_alloc, 4);
		CHECK_U64(ms->thp_collapse_alloc, 5);
		CHECK_U64(ms->usage, 5042176);
		CHECK_U64(ms->usage_limit, UINT64_MAX);
		CHECK_U64(ms->swap_usage, 393216);
		CHECK_U64(ms->swap_limit, 268435456);
	}
	CHECK(m->memory_events && m->memory_events->low == 0 && m->memory_events->high == 5 &&
	      m->memory_events->max == 27 && m->memory_events->oom == 2 &&
	      m->memory_events->oom_kill == 1);
	CHECK(m->io && m->io->n_usage == 2);
	if (m->io && m->io->n_usage == 2) {
		const Io__Containerd__Cgroups__V2__IOEntry *a = m->io->usage[0],
							   *b = m->io->usage[1];
		CHECK(a->major == 8 && a->minor == 16 && a->rbytes == 1459200 &&
		      a->wbytes == 314773504 && a->rios == 192 && a->wios == 353);
		CHECK(b->major == 8 && b->minor == 0 && b->rbytes == 90430464 &&
		      b->wbytes == 299008000 && b->rios == 8950 && b->wios == 1252);
	}
	CHECK(m->rdma && m->rdma->n_current == 2 && m->rdma->n_limit == 2);
	if (m->rdma && m->rdma->n_current == 2 && m->rdma->n_limit == 2) {
		CHECK_STR(m->rdma->current[1]->device, "ocrdma1");
		CHECK(m->rdma->current[1]->hca_objects == UINT32_MAX);
		CHECK(m->rdma->limit[1]->hca_handles == 10);
	}
	CHECK_U64(m->n_hugetlb, 2);
	if (m->n_hugetlb == 2) {
		CHECK_STR(m->hugetlb[0]->pagesize, "1GB");
		CHECK(m->hugetlb[0]->current == 0 && m->hugetlb[0]->max == UINT64_MAX);
		CHECK_STR(m->hugetlb[1]->pagesize, "2MB");
		CHECK(m->hugetlb[1]->current == 4194304 && m->hugetlb[1]->max == 8388608);
	}
}

void test_cgroup_v2_fixture(void)
{
	Io__Containerd__Cgroups__V2__Metrics *m = NULL, *back;
	uint8_t *buf, *buf2;
	size_t len, len2;
	uint64_t kills = 99;

	CHECK(cgroup_v2_metrics(FIX "/v2/ctr", &m) == 0);
	if (!m)
		return;
	check_v2_fixture(m);
	len = io__containerd__cgroups__v2__metrics__get_packed_size(m);
	buf = malloc(len);
	CHECK(io__containerd__cgroups__v2__metrics__pack(m, buf) == len);
	CHECK(len > 0 && buf[0] == 0x0a); /* pids is field 1 */
	back = io__containerd__cgroups__v2__metrics__unpack(NULL, len, buf);
	CHECK(back != NULL);
	if (back) {
		check_v2_fixture(back);
		len2 = io__containerd__cgroups__v2__metrics__get_packed_size(back);
		buf2 = malloc(len2);
		io__containerd__cgroups__v2__metrics__pack(back, buf2);
		CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
		free(buf2);
		io__containerd__cgroups__v2__metrics__free_unpacked(back, NULL);
	}
	free(buf);
	cgroup_v2_metrics_free(m);

	CHECK(cgroup_v2_oom_kills(FIX "/v2/ctr", &kills) == 0 && kills == 1);
	CHECK(cgroup_v2_empty(FIX "/v2/ctr") == 0);
	CHECK(cgroup_v2_empty(FIX "/v2/gone") == 1);
	/* no cgroup.controllers: the library's Stat fails */
	CHECK(cgroup_v2_metrics(FIX "/v2/gone", &m) == -ENOENT && m == NULL);
}

static int poll_in(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* inotify on memory.events / cgroup.events, exercised on ordinary files. */
void test_cgroup_v2_oom_watch(void)
{
	char dir[] = "/tmp/ctrbox-cgroup-XXXXXX", ev[4096];
	uint64_t kills = 99;
	int fd;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	CHECK(cgroup_v2_oom_watch(dir) == -ENOENT);
	put(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
	put(dir, "cgroup.events", "populated 1\nfrozen 0\n");
	fd = cgroup_v2_oom_watch(dir);
	CHECK(fd >= 0);
	CHECK(cgroup_v2_oom_kills(dir, &kills) == 0 && kills == 0);
	CHECK(!poll_in(fd, 0));
	put(dir, "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n");
	CHECK(poll_in(fd, 1000));
	CHECK(read(fd, ev, sizeof(ev)) >= (ssize_t)sizeof(struct inotify_event));
	CHECK(cgroup_v2_oom_kills(dir, &kills) == 0 && kills == 1);
	CHECK(cgroup_v2_empty(dir) == 0);
	put(dir, "cgroup.events", "populated 0\nfrozen 0\n");
	CHECK(poll_in(fd, 1000));
	CHECK(cgroup_v2_empty(dir) == 1);
	close(fd);

	put(dir, "memory.events", "oom_kill x\n");
	CHECK(cgroup_v2_oom_kills(dir, &kills) == -EINVAL);
	put(dir, "memory.events", "oom_group_kill x\noom_kill 4\n");
	CHECK(cgroup_v2_oom_kills(dir, &kills) == 0 && kills == 4);
	put(dir, "memory.events", "oom_kill\n");
	CHECK(cgroup_v2_oom_kills(dir, &kills) == -EINVAL);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* The real v1 memory hierarchy; NULL (and a printed reason) when the test cannot run. */
static const char *v1_memory_root(const char *test)
{
	if (geteuid() != 0) {
		printf("skip %s: not root, cannot create a memory cgroup\n", test);
		return NULL;
	}
	if (access(CGROUP_ROOT "/memory/cgroup.event_control", W_OK) != 0) {
		printf("skip %s: no cgroup v1 memory hierarchy at %s/memory\n", test, CGROUP_ROOT);
		return NULL;
	}
	return CGROUP_ROOT "/memory";
}

static void rmdir_retry(const char *dir)
{
	for (int i = 0; i < 50 && rmdir(dir) < 0 && errno == EBUSY; i++)
		usleep(20000);
}

/* Registration on a fresh memory cgroup; removing the cgroup signals the eventfd. */
void test_cgroup_v1_oom_eventfd(void)
{
	const char *root = v1_memory_root(__func__);
	char dir[256];
	uint64_t count = 0;
	int efd;

	if (!root)
		return;
	snprintf(dir, sizeof(dir), "%s/ctrbox-unit-%d", root, (int)getpid());
	rmdir(dir);
	CHECK(mkdir(dir, 0755) == 0);
	CHECK(cgroup_v1_oom_eventfd("/nonexistent/memory") == -ENOENT);
	efd = cgroup_v1_oom_eventfd(dir);
	CHECK(efd >= 0);
	if (efd >= 0) {
		CHECK(!poll_in(efd, 0));
		CHECK(cgroup_v1_dir_gone(dir) == 0);
		CHECK(rmdir(dir) == 0);
		CHECK(poll_in(efd, 5000));
		CHECK(read(efd, &count, sizeof(count)) == sizeof(count) && count >= 1);
		CHECK(cgroup_v1_dir_gone(dir) == 1);
		close(efd);
	}
	rmdir(dir);
}

static int write_in(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return ctrbox_write_file(path, text, strlen(text), 0644);
}

/* A child joins the cgroup and touches memory until the kernel OOM-kills it. */
static pid_t oom_child(const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		char self[32];
		size_t size = 512u << 20;
		char *p;

		snprintf(self, sizeof(self), "%d", (int)getpid());
		if (write_in(dir, "cgroup.procs", self) < 0)
			_exit(2);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		for (size_t i = 0; i < size; i += 4096)
			p[i] = 1;
		_exit(4); /* not killed: the limit did not hold */
	}
	return pid;
}

/* An actual OOM kill in a 16 MiB v1 memory cgroup: the eventfd fires, the cgroup is still
 * there (so it is an OOM, not a removal) and memory.oom_control counts the kill. */
void test_cgroup_v1_oom_kill(void)
{
	const char *root = v1_memory_root(__func__);
	Io__Containerd__Cgroups__V1__Metrics *m = NULL;
	struct cgroup_paths p = {0};
	char dir[256];
	uint64_t count = 0;
	int efd = -1, status = 0;
	pid_t pid = -1;

	if (!root)
		return;
	snprintf(dir, sizeof(dir), "%s/ctrbox-unit-oom-%d", root, (int)getpid());
	rmdir(dir);
	CHECK(mkdir(dir, 0755) == 0);
	CHECK(write_in(dir, "memory.limit_in_bytes", "16777216") == 0);
	if (access(CGROUP_ROOT "/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
		CHECK(write_in(dir, "memory.memsw.limit_in_bytes", "16777216") == 0);
	write_in(dir, "memory.swappiness", "0");
	efd = cgroup_v1_oom_eventfd(dir);
	CHECK(efd >= 0);
	if (efd < 0)
		goto out;
	pid = oom_child(dir);
	CHECK(pid > 0);
	if (pid <= 0)
		goto out;
	CHECK(poll_in(efd, 10000));
	CHECK(read(efd, &count, sizeof(count)) == sizeof(count) && count >= 1);
	CHECK(cgroup_v1_dir_gone(dir) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	pid = -1;
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	p.memory = dir;
	CHECK(cgroup_v1_metrics(&p, &m) == 0);
	CHECK(m && m->memory_oom_control && m->memory_oom_control->oom_kill >= 1);
	CHECK(m && m->memory && m->memory->usage->limit == 16777216);
	cgroup_v1_metrics_free(m);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (efd >= 0)
		close(efd);
	rmdir_retry(dir);
}
