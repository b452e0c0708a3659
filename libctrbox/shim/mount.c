/* Rootfs mounts the way containerd's mount package does them on Linux, plus mount-point helpers. */
#include <ctrbox/mount.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ctrbox/log.h>

#include <ctrbox/util.h>

/* containerd mount/mount_linux.go parseMountOptions (1.6 and 2.1 alike), word for word. */
static const struct mount_flag {
	const char *name;
	int clear;
	unsigned long flag;
} mount_flags[] = {
    {"async", 1, MS_SYNCHRONOUS},
    {"atime", 1, MS_NOATIME},
    {"bind", 0, MS_BIND},
    {"defaults", 0, 0},
    {"dev", 1, MS_NODEV},
    {"diratime", 1, MS_NODIRATIME},
    {"dirsync", 0, MS_DIRSYNC},
    {"exec", 1, MS_NOEXEC},
    {"mand", 0, MS_MANDLOCK},
    {"noatime", 0, MS_NOATIME},
    {"nodev", 0, MS_NODEV},
    {"nodiratime", 0, MS_NODIRATIME},
    {"noexec", 0, MS_NOEXEC},
    {"nomand", 1, MS_MANDLOCK},
    {"norelatime", 1, MS_RELATIME},
    {"nostrictatime", 1, MS_STRICTATIME},
    {"nosuid", 0, MS_NOSUID},
    {"rbind", 0, MS_BIND | MS_REC},
    {"relatime", 0, MS_RELATIME},
    {"remount", 0, MS_REMOUNT},
    {"ro", 0, MS_RDONLY},
    {"rw", 1, MS_RDONLY},
    {"strictatime", 0, MS_STRICTATIME},
    {"suid", 1, MS_NOSUID},
    {"sync", 0, MS_SYNCHRONOUS},
};

/* containerd 1.6's table lacks these (they would end up in data); moby/sys/mount has them and
 * containerd applies such bits in a separate call, so they are kept apart here. */
static const struct mount_flag mount_propagation[] = {
    {"private", 0, MS_PRIVATE},	      {"rprivate", 0, MS_PRIVATE | MS_REC},
    {"shared", 0, MS_SHARED},	      {"rshared", 0, MS_SHARED | MS_REC},
    {"slave", 0, MS_SLAVE},	      {"rslave", 0, MS_SLAVE | MS_REC},
    {"unbindable", 0, MS_UNBINDABLE}, {"runbindable", 0, MS_UNBINDABLE | MS_REC},
};

#define LOWERDIR "lowerdir="
#define UIDMAP "uidmap="
#define GIDMAP "gidmap="
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct mount_flag *flag_find(const struct mount_flag *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

int ctrbox_mount_parse_options(char **options, size_t n, struct ctrbox_mount_opts *o)
{
	size_t len = 1, ndata = 0;
	int direct_taken = 0;
	char *w;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n; i++) {
		len += strlen(options[i]) + 1;
		o->loop |= strcmp(options[i], "loop") == 0;
	}
	o->data = w = malloc(len);
	if (!w)
		return -ENOMEM;
	*w = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *opt = options[i];
		const struct mount_flag *f = flag_find(mount_flags, NELEM(mount_flags), opt);

		/* a word whose flag is 0 ("defaults") is data in containerd, so it is here too */
		if (f && f->flag) {
			o->flags = f->clear ? o->flags & ~f->flag : o->flags | f->flag;
		} else if ((f = flag_find(mount_propagation, NELEM(mount_propagation), opt))) {
			o->propagation = f->flag; /* a mount has one propagation type */
		} else if (strcmp(opt, "loop") == 0) {
			continue;
		} else if (strncmp(opt, UIDMAP, strlen(UIDMAP)) == 0) {
			o->uidmap = opt + strlen(UIDMAP);
		} else if (strncmp(opt, GIDMAP, strlen(GIDMAP)) == 0) {
			o->gidmap = opt + strlen(GIDMAP);
		} else if (o->loop && !direct_taken && strcmp(opt, "direct-io") == 0) {
			direct_taken = o->direct_io =
			    1; /* containerd's hasDirectIO: the first one */
		} else {
			if (ndata++)
				*w++ = ',';
			w = stpcpy(w, opt);
		}
	}
	return 0;
}

void ctrbox_mount_opts_free(struct ctrbox_mount_opts *o)
{
	free(o->data);
	o->data = NULL;
}

/* One decimal field of a mapping, up to the next ':' or ',' (or the end). */
static int idmap_field(const char **s, unsigned long long *v)
{
	const char *p = *s;

	*v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		*v = *v * 10 + (unsigned)(*p - '0');
		if (*v > 0xffffffffULL)
			return -1;
	}
	*s = p;
	return 0;
}

int ctrbox_mount_parse_idmap(const char *s, struct ctrbox_mount_idmap *out, size_t cap,
			     const char **why)
{
	static const char *const bad_field[] = {
	    "invalid container id for user namespace remapping",
	    "invalid host id for user namespace remapping",
	    "invalid size for user namespace remapping",
	};
	const char *dummy;
	size_t n = 0;

	if (!why)
		why = &dummy;
	*why = NULL;
	for (;;) {
		unsigned long long v[3];
		const char *end = strchrnul(s, ','), *p = s;
		int fields = 1;

		for (const char *q = s; q < end; q++)
			fields += *q == ':';
		if (fields != 3) {
			*why = "user namespace mappings require the format "
			       "`container-id:host-id:size`";
			return -EINVAL;
		}
		for (int i = 0; i < 3; i++) {
			if (idmap_field(&p, &v[i]) < 0 || *p != (i < 2 ? ':' : *end)) {
				*why = bad_field[i];
				return -EINVAL;
			}
			p += i < 2;
		}
		if (v[2] == 0) {
			*why = "invalid size for user namespace remapping: 0";
			return -EINVAL;
		}
		/* the kernel's own rule: first + count must not pass 2^32-1 */
		if (v[0] + v[2] > 0xffffffffULL || v[1] + v[2] > 0xffffffffULL) {
			*why = "user namespace mapping range past the last id (2^32-2)";
			return -EINVAL;
		}
		if (n == cap) {
			*why = "too many user namespace mapping ranges";
			return -EINVAL;
		}
		out[n++] =
		    (struct ctrbox_mount_idmap){(unsigned)v[0], (unsigned)v[1], (unsigned)v[2]};
		if (!*end)
			return (int)n;
		s = end + 1;
	}
}

/* "inside outside count\n" lines, as one write (the kernel takes a map in a single write). */
static int write_idmap(pid_t pid, const char *file, const struct ctrbox_mount_idmap *m, size_t n)
{
	char path[64], buf[4096];
	size_t len = 0;
	int fd, r = 0;

	for (size_t i = 0; i < n; i++) {
		int k = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].inside,
				 m[i].outside, m[i].count);
		if (k < 0 || (size_t)k >= sizeof(buf) - len)
			return -E2BIG; /* the kernel wants less than a page */
		len += (size_t)k;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

int ctrbox_mount_userns_fd(const struct ctrbox_mount_idmap *uid, size_t nuid,
			   const struct ctrbox_mount_idmap *gid, size_t ngid)
{
	/* exit_signal 0: a clone child, which no waitpid(-1) of the caller's (the shim's
	 * SIGCHLD reaper) can take away from us */
	struct clone_args ca = {.flags = CLONE_NEWUSER, .exit_signal = 0};
	char path[64];
	int p[2], fd = -1, r = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && errno == ENOSYS) /* seccomp profiles and valgrind refuse clone3 */
#if defined(__s390__) || defined(__s390x__)
		pid = (pid_t)syscall(SYS_clone, 0L, (long)CLONE_NEWUSER);
#else
		pid = (pid_t)syscall(SYS_clone, (long)CLONE_NEWUSER, 0L, 0L, 0L, 0L);
#endif
	if (pid == 0) {
		/* the child: raw syscalls only, until the parent closes its end (or dies) */
		char c;
		/* hold nothing of the caller's (a pipe's write end, a socket) while it lives */
		close_range(3, (unsigned)p[0] - 1, 0);
		close_range((unsigned)p[0] + 1, ~0U, 0);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		r = -errno;
		close(p[1]);
		return r;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		r = -errno;
	if (r == 0)
		r = write_idmap(pid, "uid_map", uid, nuid);
	if (r == 0) {
		char sgpath[64];
		int sg;
		snprintf(sgpath, sizeof(sgpath), "/proc/%d/setgroups", (int)pid);
		sg = open(sgpath, O_WRONLY | O_CLOEXEC);
		/* as Go's exec does for GidMappings; a kernel without the file is fine */
		if (sg >= 0) {
			if (write(sg, "deny", 4) != 4)
				r = errno ? -errno : -EIO;
			close(sg);
		} else if (errno != ENOENT) {
			r = -errno;
		}
	}
	if (r == 0)
		r = write_idmap(pid, "gid_map", gid, ngid);
	close(p[1]); /* the child sees EOF and exits */
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

int ctrbox_mount_idmapped(const char *source, const char *target, int userns_fd,
			  unsigned long long attr_set)
{
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_IDMAP | attr_set,
	    .userns_fd = (unsigned long long)userns_fd,
	};
	int fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ||
	    move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* One try on one free device: 0 with *out the device's fd, or -errno (-EBUSY: taken). */
static int loop_setup_dev(const char *backing, const char *dev, int readonly, int autoclear,
			  int direct_io, int *out)
{
	int oflags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC, back, lfd, r = 0;
	struct loop_config cfg;
	unsigned flags = 0;

	back = open(backing, oflags);
	if (back < 0)
		return -errno;
	lfd = open(dev, oflags);
	if (lfd < 0) {
		r = -errno;
		close(back);
		return r;
	}
	if (readonly)
		flags |= LO_FLAGS_READ_ONLY;
	if (autoclear)
		flags |= LO_FLAGS_AUTOCLEAR;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (unsigned)back;
	cfg.info.lo_flags = flags | (direct_io ? LO_FLAGS_DIRECT_IO : 0);
	/* the kernel keeps 63 bytes and a NUL, as losetup shows it */
	strncpy((char *)cfg.info.lo_file_name, backing, LO_NAME_SIZE - 1);
	if (ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0) {
		r = -errno;
		if (r == -EINVAL || r == -ENOTTY) { /* before 5.8: the three old steps */
			struct loop_info64 info = cfg.info;
			info.lo_flags = flags;
			r = 0;
			if (ioctl(lfd, LOOP_SET_FD, back) < 0)
				r = -errno;
			else if (ioctl(lfd, LOOP_SET_STATUS64, &info) < 0 ||
				 (direct_io && ioctl(lfd, LOOP_SET_DIRECT_IO, 1UL) < 0)) {
				r = -errno;
				ioctl(lfd, LOOP_CLR_FD, 0);
			}
		}
	}
	close(back);
	if (r < 0) {
		close(lfd);
		return r;
	}
	*out = lfd;
	return 0;
}

int ctrbox_mount_loop_attach(const char *backing, int readonly, int autoclear, int direct_io,
			     char *dev, size_t devlen)
{
	int r = -EBUSY;

	/* containerd waits a random few ms between tries; the shim never sleeps, and the next
	 * LOOP_CTL_GET_FREE names another device anyway */
	for (int retry = 1; retry < 100 && r == -EBUSY; retry++) {
		int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), num, fd;

		if (ctl < 0)
			return -errno;
		num = ioctl(ctl, LOOP_CTL_GET_FREE);
		r = num < 0 ? -errno : 0;
		close(ctl);
		if (r < 0)
			return r;
		if (snprintf(dev, devlen, "/dev/loop%d", num) >= (int)devlen)
			return -ENAMETOOLONG;
		r = loop_setup_dev(backing, dev, readonly, autoclear, direct_io, &fd);
		if (r == 0)
			return fd;
	}
	return r == -EBUSY ? -EAGAIN : r;
}

/* path.Dir of the common prefix, then the trailing '/': "/s/snapshots/1" (from .../10/fs and
 * .../11/fs) gives "/s/snapshots/". NULL-with-0 when there is nothing worth compacting. */
static int common_parent(const char *lower, char **out)
{
	const char *first = lower, *end = strchr(lower, ':');
	size_t lcp = end - first;
	char *dir, *slash;

	*out = NULL;
	for (const char *seg = end + 1;; seg = end + 1) {
		size_t i = 0;
		end = strchrnul(seg, ':');
		while (i < lcp && seg + i < end && seg[i] == first[i])
			i++;
		lcp = i;
		if (!*end)
			break;
	}
	dir = strndup(first, lcp);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) { /* "." or "/": containerd gives up on both */
		free(dir);
		return 0;
	}
	*slash = '\0';
	if (strcmp(ctrbox_path_clean(dir), "/") == 0) { /* "//x" */
		free(dir);
		return 0;
	}
	slash = dir + strlen(dir);
	*slash++ = '/'; /* room: the cut '/' was at least this far in */
	*slash = '\0';
	*out = dir;
	return 0;
}

/* Every lowerdir must be strictly below dir; containerd slices blindly, which path.Dir's
 * cleaning of "//" or "..", or an entry that is dir itself, would turn into garbage, so such
 * lists are left alone instead. */
static int all_under(const char *lower, const char *dir)
{
	size_t n = strlen(dir);

	for (const char *seg = lower;; seg++) {
		const char *end = strchrnul(seg, ':');
		if ((size_t)(end - seg) <= n || strncmp(seg, dir, n) != 0)
			return 0;
		if (!*end)
			return 1;
		seg = end;
	}
}

static char *relative_lowerdir(const char *lower, size_t cut)
{
	char *out = malloc(strlen(LOWERDIR) + strlen(lower) + 1), *w;

	if (!out)
		return NULL;
	w = stpcpy(out, LOWERDIR);
	for (const char *seg = lower;; seg++) {
		const char *end = strchrnul(seg, ':');
		w = mempcpy(w, seg + cut, end - seg - cut);
		if (!*end)
			break;
		*w++ = ':';
		seg = end;
	}
	*w = '\0';
	return out;
}

int ctrbox_mount_compact_overlay(const struct ctrbox_mount_spec *m, size_t pagesize, char **dir,
				 char ***opts)
{
	size_t total = 0, idx, n = m->n_options, j = 0;
	const char *lower;
	char *common, **out;
	int r;

	*dir = NULL;
	*opts = NULL;
	if (!m->type || strcmp(m->type, "overlay") != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(m->options[i]);
	if (total + 512 < pagesize) /* containerd keeps 512 bytes of slack */
		return 0;
	for (idx = 0; idx < n; idx++)
		if (strncmp(m->options[idx], LOWERDIR, strlen(LOWERDIR)) == 0)
			break;
	if (idx == n)
		return 0;
	lower = m->options[idx] + strlen(LOWERDIR);
	if (!strchr(lower, ':')) /* a single lowerdir cannot get shorter */
		return 0;
	r = common_parent(lower, &common);
	if (r < 0 || !common)
		return r;
	if (!all_under(lower, common)) {
		free(common);
		return 0;
	}
	out = malloc(n * sizeof(*out));
	if (!out || !(out[n - 1] = relative_lowerdir(lower, strlen(common)))) {
		free(out);
		free(common);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (i != idx)
			out[j++] = m->options[i];
	*dir = common;
	*opts = out;
	return 0;
}

void ctrbox_mount_compact_free(char **opts, size_t n)
{
	if (!opts)
		return;
	free(opts[n - 1]);
	free(opts);
}

static int is_fuse(const char *type)
{
	return type && (strncmp(type, "fuse.", 5) == 0 || strncmp(type, "fuse3.", 6) == 0);
}

static char *absolute(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	abs = ctrbox_path_join((const char *const[]){cwd, path}, 2);
	free(cwd);
	return abs;
}

/* containerd forks a CLONE_FILES child that fchdirs and mounts; the shim is single-threaded, so
 * changing its own working directory for one mount(2) and back does the same without a fork.
 * A relative target is resolved first, against the directory it was meant for. */
static int mount_from(const char *dir, const char *source, const char *target, const char *type,
		      unsigned long flags, const char *data)
{
	int cwd = -1, dfd = -1, r = 0;
	char *abs = absolute(target);

	if (!abs)
		return -errno;
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || dfd < 0 || fchdir(dfd) < 0) {
		r = -errno;
		goto out;
	}
	if (mount(source, abs, type, flags, data) < 0)
		r = -errno;
	if (fchdir(cwd) < 0 && r == 0) {
		r = -errno;
		umount2(abs, MNT_DETACH);
	}
out:
	if (dfd >= 0)
		close(dfd);
	if (cwd >= 0)
		close(cwd);
	free(abs);
	return r;
}

/* containerd's three steps (a loop device first when asked); *added: how many mount layers
 * target gained (0 or 1). */
static int mount_steps(const struct ctrbox_mount_spec *m, const char *target, const char *dir,
		       const struct ctrbox_mount_opts *o, int *added)
{
	const char *source = m->source ? m->source : "", *type = m->type ? m->type : "";
	const unsigned long bro = MS_BIND | MS_RDONLY, flags = o->flags;
	const char *data = o->data;
	int r = 0;

	*added = 0;
	/* a remount that changes data still needs the first call (moby/moby#34077) */
	if (!(flags & MS_REMOUNT) || data[0]) {
		const char *d = data[0] ? data : NULL;
		char dev[32];
		int lfd = -1;

		if (o->loop) {
			lfd = ctrbox_mount_loop_attach(source, !!(flags & MS_RDONLY), 1,
						       o->direct_io, dev, sizeof(dev));
			if (lfd < 0) {
				ctrbox_log_error("failed to set up a loop device for %s: %s",
						 source, strerror(-lfd));
				return lfd;
			}
			source = dev;
		}
		if (dir)
			r = mount_from(dir, source, target, type, flags, d);
		else if (mount(source, target, type, flags, d) < 0)
			r = -errno;
		/* autoclear: from now on the mount alone keeps the device (if it failed, this
		 * detaches it again) */
		if (lfd >= 0)
			close(lfd);
		if (r < 0)
			return r;
		*added = !(flags & MS_REMOUNT);
	}
	/* rbind's MS_REC makes the propagation change recursive too, as in containerd */
	if (o->propagation &&
	    mount(NULL, target, NULL, o->propagation | (flags & MS_REC), NULL) < 0)
		r = -errno;
	/* the kernel ignores MS_RDONLY on a new bind: only a bind remount makes it read-only */
	if (r == 0 && (flags & bro) == bro &&
	    mount(NULL, target, NULL, flags | MS_REMOUNT, NULL) < 0)
		r = -errno;
	if (r < 0 && *added) {
		umount2(target, MNT_DETACH);
		*added = 0;
	}
	return r;
}

/* containerd's temp dir: $XDG_RUNTIME_DIR, else Go's os.TempDir ($TMPDIR, else /tmp). */
static const char *temp_dir(void)
{
	const char *d = getenv("XDG_RUNTIME_DIR");

	if (!d || !d[0])
		d = getenv("TMPDIR");
	return d && d[0] ? d : "/tmp";
}

/* containerd's getCommonDirectory: path.Dir of the lowerdirs' longest common prefix (of the
 * one lowerdir itself when alone); "." and "/" are refused. */
static int idmap_common_dir(const char *lower, char **out)
{
	size_t lcp = strcspn(lower, ":");
	char *dir, *slash;

	*out = NULL;
	for (const char *seg = lower + lcp; *seg;) {
		size_t i = 0;
		const char *end;
		seg++;
		end = strchrnul(seg, ':');
		while (i < lcp && seg + i < end && seg[i] == lower[i])
			i++;
		lcp = i;
		seg = end;
	}
	dir = strndup(lower, lcp);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0'; /* path.Dir keeps the root's '/' */
	if (!slash || strcmp(ctrbox_path_clean(dir), "/") == 0 || strcmp(dir, ".") == 0 ||
	    !dir[0]) {
		free(dir);
		return -EINVAL;
	}
	*out = dir;
	return 0;
}

/* *out: "lowerdir=" with each lowerdir's part below common joined onto tmp (filepath.Join),
 * malloc'd. Every lowerdir must be below common (-EINVAL): containerd would paste an unrelated
 * one whole onto tmp. */
static int idmap_lowerdir(const char *lower, const char *common, const char *tmp, char **out)
{
	size_t n = strlen(common), cap = strlen(LOWERDIR) + 1;
	char *w;

	*out = NULL;
	for (const char *seg = lower;; seg++) {
		const char *end = strchrnul(seg, ':');
		if ((size_t)(end - seg) < n || strncmp(seg, common, n) != 0 ||
		    (seg[n] != '/' && seg + n != end))
			return -EINVAL;
		cap += strlen(tmp) + (size_t)(end - seg - n) + 2;
		if (!*end)
			break;
		seg = end;
	}
	*out = w = malloc(cap);
	if (!w)
		return -ENOMEM;
	w = stpcpy(w, LOWERDIR);
	for (const char *seg = lower;; seg++) {
		const char *end = strchrnul(seg, ':');
		char *part = w;
		w = stpcpy(w, tmp);
		*w++ = '/';
		w = mempcpy(w, seg + n, (size_t)(end - seg - n));
		*w = '\0';
		w = part + strlen(ctrbox_path_clean(part));
		if (!*end)
			break;
		*w++ = ':';
		seg = end;
	}
	return 0;
}

/* containerd's prepareIDMappedOverlay: the lowerdirs' common parent, idmapped and read-only,
 * on a fresh temp dir (*tmp, malloc'd); *opts: m's options without lowerdir= and with the
 * rewritten one last (malloc'd vector, n_options long, last entry malloc'd). */
static int idmap_overlay_prepare(const struct ctrbox_mount_spec *m, int userns, char **tmp,
				 char ***opts)
{
	size_t idx, n = m->n_options, j = 0;
	char *common = NULL, *t = NULL, *lower = NULL, **out = NULL;
	int r;

	*tmp = NULL;
	*opts = NULL;
	for (idx = 0; idx < n; idx++)
		if (strncmp(m->options[idx], LOWERDIR, strlen(LOWERDIR)) == 0)
			break;
	if (idx == n) {
		ctrbox_log_error("failed to prepare idmapped overlay: no lowerdir= option");
		return -EINVAL;
	}
	r = idmap_common_dir(m->options[idx] + strlen(LOWERDIR), &common);
	if (r == -EINVAL)
		ctrbox_log_error("failed to prepare idmapped overlay: the lowerdirs of %s have no "
				 "common parent directory",
				 m->options[idx]);
	if (r < 0)
		return r;
	if (asprintf(&t, "%s/ovl-idmappedXXXXXX", temp_dir()) < 0) {
		t = NULL;
		r = -ENOMEM;
		goto fail;
	}
	if (!mkdtemp(t)) {
		r = -errno;
		ctrbox_log_error("failed to create temporary overlay lowerdir mount location: %s",
				 strerror(-r));
		free(t);
		t = NULL;
		goto fail;
	}
	r = idmap_lowerdir(m->options[idx] + strlen(LOWERDIR), common, t, &lower);
	if (r == -EINVAL)
		ctrbox_log_error(
		    "failed to prepare idmapped overlay: a lowerdir of %s is not below "
		    "their common parent %s",
		    m->options[idx], common);
	if (r < 0)
		goto fail;
	out = malloc(n * sizeof(*out));
	if (!out) {
		r = -ENOMEM;
		goto fail;
	}
	r = ctrbox_mount_idmapped(common, t, userns, MOUNT_ATTR_RDONLY);
	if (r < 0) {
		ctrbox_log_error("failed to create idmapped mount of %s: %s", common, strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		if (i != idx)
			out[j++] = m->options[i];
	out[n - 1] = lower;
	free(common);
	*tmp = t;
	*opts = out;
	return 0;
fail:
	if (t)
		rmdir(t);
	free(t);
	free(lower);
	free(out);
	free(common);
	return r;
}

/* The overlay holds its own clones of the lower mounts: the temp one goes at once. containerd
 * retries a busy one for 2.5 s; nothing should hold it, and the shim must not wait, so a busy
 * one is detached instead. */
static void idmap_overlay_cleanup(char *tmp, char **opts, size_t n)
{
	if (tmp) {
		if (umount2(tmp, 0) < 0 && errno == EBUSY)
			umount2(tmp, MNT_DETACH);
		if (rmdir(tmp) < 0)
			ctrbox_log_info("failed to remove idmapped directory %s: %s", tmp,
					strerror(errno));
		free(tmp);
	}
	if (opts) {
		free(opts[n - 1]);
		free(opts);
	}
}

/* The user namespace of "uidmap=" and "gidmap=" (-EINVAL logged when malformed). */
static int userns_for(const struct ctrbox_mount_opts *o)
{
	struct ctrbox_mount_idmap *u = NULL, *g = NULL;
	const char *why = NULL, *which = "uidmap";
	int nu, ng = -EINVAL, r;

	u = malloc(CTRBOX_MOUNT_IDMAP_MAX * sizeof(*u));
	g = malloc(CTRBOX_MOUNT_IDMAP_MAX * sizeof(*g));
	if (!u || !g) {
		r = -ENOMEM;
		goto out;
	}
	nu = ctrbox_mount_parse_idmap(o->uidmap, u, CTRBOX_MOUNT_IDMAP_MAX, &why);
	if (nu > 0) {
		which = "gidmap";
		ng = ctrbox_mount_parse_idmap(o->gidmap, g, CTRBOX_MOUNT_IDMAP_MAX, &why);
	}
	if (nu < 0 || ng < 0) {
		ctrbox_log_error("%s=%s: %s", which, which[0] == 'u' ? o->uidmap : o->gidmap, why);
		r = -EINVAL;
		goto out;
	}
	r = ctrbox_mount_userns_fd(u, (size_t)nu, g, (size_t)ng);
	if (r < 0)
		ctrbox_log_error("failed to create a user namespace for uidmap=%s gidmap=%s: %s",
				 o->uidmap, o->gidmap, strerror(-r));
out:
	free(u);
	free(g);
	return r;
}

/* One mount_spec onto target; *added: the mount layers target gained (0, 1 or 2). */
static int mount_layer(const struct ctrbox_mount_spec *m, const char *target, int *added)
{
	const int overlay = m->type && strcmp(m->type, "overlay") == 0;
	long pagesize = sysconf(_SC_PAGESIZE);
	char *dir = NULL, **copts = NULL, **iopts = NULL, *itmp = NULL;
	struct ctrbox_mount_spec mm = *m;
	struct ctrbox_mount_opts o;
	int r, userns = -1, idmap;

	*added = 0;
	if (is_fuse(m->type)) /* containerd execs mount.fuse[3]; nothing here needs it yet */
		return -ENOTSUP;
	if (pagesize <= 0)
		pagesize = 4096;
	r = ctrbox_mount_parse_options(m->options, m->n_options, &o);
	if (r < 0)
		return r;
	/* containerd remaps only with both, each non-empty */
	idmap = o.uidmap && o.uidmap[0] && o.gidmap && o.gidmap[0];
	if (!idmap && ((o.uidmap && o.uidmap[0]) || (o.gidmap && o.gidmap[0])))
		ctrbox_log_warn("%s mount on %s: uidmap= and gidmap= go together; no idmapping",
				m->type ? m->type : "", target);
	if (idmap) {
		r = userns = userns_for(&o);
		if (r < 0)
			goto out;
		/* overlay wants its lowerdirs idmapped instead */
		if (overlay) {
			r = idmap_overlay_prepare(m, userns, &itmp, &iopts);
			if (r < 0)
				goto out;
			mm.options = iopts;
		}
	}
	r = ctrbox_mount_compact_overlay(&mm, pagesize, &dir, &copts);
	if (r < 0)
		goto out;
	if (copts || iopts) {
		ctrbox_mount_opts_free(&o);
		r = ctrbox_mount_parse_options(copts ? copts : mm.options, m->n_options, &o);
		if (r < 0)
			goto out;
	}
	/* the kernel copies one page of data and would silently cut the rest */
	if (strlen(o.data) > (size_t)pagesize) {
		r = -E2BIG;
		goto out;
	}
	r = mount_steps(&mm, target, dir, &o, added);
	/* a non-overlay mount gets an idmapped copy of itself on top; containerd returns after
	 * the read-only bind remount, before this step, and so does this */
	if (r == 0 && idmap && !overlay &&
	    (o.flags & (MS_BIND | MS_RDONLY)) != (MS_BIND | MS_RDONLY)) {
		r = ctrbox_mount_idmapped(target, target, userns, 0);
		if (r == 0) {
			++*added;
		} else {
			ctrbox_log_error("unable to shift GID/UID for %s: %s", target,
					 strerror(-r));
			for (; *added > 0; --*added)
				umount2(target, MNT_DETACH);
		}
	}
out:
	idmap_overlay_cleanup(itmp, iopts, m->n_options);
	if (userns >= 0)
		close(userns);
	ctrbox_mount_opts_free(&o);
	free(dir);
	ctrbox_mount_compact_free(copts, m->n_options);
	return r;
}

int ctrbox_mount_one(const struct ctrbox_mount_spec *m, const char *target)
{
	int added;

	return mount_layer(m, target, &added);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int ctrbox_mount_all(const struct ctrbox_mount_spec *ms, size_t n, const char *target)
{
	size_t layers = 0;
	int r = 0, added;

	for (size_t i = 0; i < n && r == 0; i++) {
		r = mount_layer(&ms[i], target, &added);
		layers += added;
	}
	/* only our own layers: whatever target had before the call stays. Nobody has entered
	 * them yet; one that is busy all the same is detached rather than waited for (this runs
	 * in the shim's loop) */
	for (; r < 0 && layers > 0; layers--)
		if (umount2(target, 0) < 0)
			umount2(target, MNT_DETACH);
	return r;
}

int ctrbox_unmount_all_nowait(const char *target, int flags, int *unmounted)
{
	struct stat st;

	if (unmounted)
		*unmounted = 0;
	if (!target || !target[0])
		return 0;
	if (stat(target, &st) < 0 && errno == ENOENT)
		return 0;
	while (umount2(target, flags) == 0)
		if (unmounted)
			++*unmounted;
	/* EINVAL: no longer a mount point (or bad flags, which containerd squelches too) */
	return errno == EINVAL ? 0 : -errno;
}

int ctrbox_unmount_all(const char *target, int flags)
{
	int r, n, tries = 0;

	/* EBUSY usually means a process is still leaving the mount: each mount gets 50 tries,
	 * 50 ms apart */
	while ((r = ctrbox_unmount_all_nowait(target, flags, &n)) == -EBUSY) {
		tries = n > 0 ? 1 : tries + 1;
		if (tries >= CTRBOX_UNMOUNT_BUSY_TRIES)
			break;
		sleep_ms(CTRBOX_UNMOUNT_BUSY_RETRY_MS);
	}
	return r;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' in paths as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The 5th field of a mountinfo line is the mount point. */
static int mountinfo_line_is(char *line, const char *path)
{
	char *p = line;

	for (int i = 0; i < 4; i++) {
		p = strchr(p, ' ');
		if (!p)
			return 0;
		p++;
	}
	p[strcspn(p, " \n")] = '\0';
	unescape_octal(p);
	return strcmp(p, path) == 0;
}

int ctrbox_mountinfo_has(const char *path)
{
	char *real = realpath(path, NULL), *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	if (!real)
		return -errno;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		int err = -errno;
		free(real);
		return err;
	}
	while (!found && getline(&line, &cap, f) > 0)
		found = mountinfo_line_is(line, real);
	free(line);
	fclose(f);
	free(real);
	return found;
}

int ctrbox_path_is_mountpoint(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_TYPE, &sx) < 0)
		return -errno;
	/* kernels before 5.8 do not report the attribute: ask mountinfo instead */
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return ctrbox_mountinfo_has(path);
}

int ctrbox_path_within(const char *root, const char *path)
{
	char *r = strdup(root), *p = strdup(path);
	int res;

	if (!r || !p) {
		res = -ENOMEM;
		goto out;
	}
	ctrbox_path_clean(r);
	ctrbox_path_clean(p);
	if ((r[0] == '/') != (p[0] == '/'))
		res = 0;
	else if (strcmp(r, "/") == 0)
		res = 1;
	else if (r[0] == '\0' || strcmp(r, ".") == 0) /* relative: anything not climbing out */
		res = strcmp(p, "..") != 0 && strncmp(p, "../", 3) != 0;
	else {
		size_t n = strlen(r);
		res = strncmp(p, r, n) == 0 && (p[n] == '\0' || p[n] == '/');
	}
out:
	free(r);
	free(p);
	return res;
}
