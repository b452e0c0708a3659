/* cgroups for the runc shim: a process's cgroup paths and OOM watches (metrics: cgroup_v1.c,
 * cgroup_v2.c). */
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
#include "cgroup_int.h"

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
		n = cg_split(copy, " ", f, NELEM(f));
		if (n >= 10 && n <= NELEM(f) && strcmp(f[n - 3], "cgroup") == 0) {
			opts = f[n - 1];
			while ((o = cg_next_field(&opts, ","))) {
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
	while (r == 0 && (ctrl = cg_next_field(&list, ","))) {
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

	while (r == 0 && (line = cg_next_line(&text))) {
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
	v2 = cg_exists_in(root, "cgroup.controllers");
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

/* 1 if the mountinfo line (len bytes, maybe without its newline) is a v1 cgroup mount. */
static int is_cgroup_v1_line(const char *line, size_t len)
{
	static const char tag[] = " - cgroup ";

	for (size_t i = 0; i + sizeof(tag) - 1 <= len; i++)
		if (!memcmp(line + i, tag, sizeof(tag) - 1))
			return 1;
	return 0;
}

int cgroup_mountinfo_read(int fd, char **out)
{
	char buf[1024];
	size_t have = 0, olen = 0;
	int skipping = 0;
	char *o = NULL;

	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		size_t len, start = 0;
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(o);
			return -errno;
		}
		len = have + (size_t)n;
		/* whole lines; at the end, a last line without its newline */
		while (start < len) {
			size_t l;
			nl = memchr(buf + start, '\n', len - start);
			if (!nl && n > 0)
				break;
			l = nl ? (size_t)(nl - (buf + start)) + 1 : len - start;
			if (!skipping && is_cgroup_v1_line(buf + start, l)) {
				char *t = realloc(o, olen + l + 2);
				if (!t) {
					free(o);
					return -ENOMEM;
				}
				o = t;
				memcpy(o + olen, buf + start, l);
				olen += l;
				if (o[olen - 1] != '\n')
					o[olen++] = '\n';
			}
			skipping = 0;
			start += l;
		}
		if (n == 0)
			break;
		have = len - start;
		memmove(buf, buf + start, have);
		if (have == sizeof(buf)) { /* a line longer than buf: not a cgroup mount, skip it */
			skipping = 1;
			have = 0;
		}
	}
	if (!o && !(o = malloc(1)))
		return -ENOMEM;
	o[olen] = '\0';
	*out = o;
	return 0;
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
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || cgroup_mountinfo_read(fd, &mountinfo) < 0)
		mountinfo = NULL; /* no mount roots to strip */
	if (fd >= 0)
		close(fd);
	r = cgroup_paths_parse(text, mountinfo, root, out);
	free(mountinfo);
	free(text);
	return r;
}

/* ---- OOM ---- */

int cgroup_v1_oom_eventfd(const char *memory_dir)
{
	char path[PATH_MAX], arg[64];
	int efd, ofd = -1, r;

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	r = cg_path_in(path, sizeof(path), memory_dir, "memory.oom_control");
	if (r < 0)
		goto out;
	ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0) {
		r = -errno;
		goto out;
	}
	/* "<event fd> <control fd> <args>": the OOM event takes no args, hence the final space */
	snprintf(arg, sizeof(arg), "%d %d ", efd, ofd);
	r = cg_path_in(path, sizeof(path), memory_dir, "cgroup.event_control");
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
	int r = cg_read_in(dir, "memory.events", &buf);

	if (r < 0)
		return r;
	*oom_kill = 0;
	p = buf;
	while (r == 0 && (line = cg_next_line(&p))) {
		uint64_t v;
		int known;
		if (cg_split(line, SPACES, f, 2) != 2) {
			r = -EINVAL;
			break;
		}
		known = strcmp(f[0], "low") == 0 || strcmp(f[0], "high") == 0 ||
			strcmp(f[0], "max") == 0 || strcmp(f[0], "oom") == 0 ||
			strcmp(f[0], "oom_kill") == 0;
		if (cg_parse_u64(f[1], &v) < 0) {
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
		r = cg_path_in(path, sizeof(path), dir, files[i]);
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

	if (cg_read_kv(dir, "cgroup.events", keys, 1, (void *const[]){&populated}, 1, &lines) < 0)
		return 1;
	return populated == 0;
}
