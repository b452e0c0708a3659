/* Rootfs mounts the way containerd's mount package does them on Linux, plus mount-point helpers. */
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* containerd 1.6 mount/mount_linux.go parseMountOptions, word for word. */
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
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct mount_flag *flag_find(const struct mount_flag *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

int mount_parse_options(char **options, size_t n, unsigned long *flags, unsigned long *propagation,
			char **data, int *loopdev)
{
	unsigned long fl = 0, prop = 0;
	size_t len = 1, ndata = 0;
	int loop = 0;
	char *d, *w;

	for (size_t i = 0; i < n; i++)
		len += strlen(options[i]) + 1;
	d = w = malloc(len);
	if (!d)
		return -ENOMEM;
	*w = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *o = options[i];
		const struct mount_flag *f = flag_find(mount_flags, NELEM(mount_flags), o);

		/* a word whose flag is 0 ("defaults") is data in containerd, so it is here too */
		if (f && f->flag) {
			fl = f->clear ? fl & ~f->flag : fl | f->flag;
		} else if ((f = flag_find(mount_propagation, NELEM(mount_propagation), o))) {
			prop = f->flag; /* a mount has one propagation type: the last word wins */
		} else if (strcmp(o, "loop") == 0) {
			loop = 1;
		} else {
			if (ndata++)
				*w++ = ',';
			w = stpcpy(w, o);
		}
	}
	*flags = fl;
	*propagation = prop;
	if (loopdev)
		*loopdev = loop;
	if (loop) {
		free(d);
		*data = NULL;
		return -ENOTSUP;
	}
	*data = d;
	return 0;
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
	if (strcmp(path_clean(dir), "/") == 0) { /* "//x" */
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

int mount_compact_overlay(const struct mount_spec *m, size_t pagesize, char **dir, char ***opts)
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

void mount_compact_free(char **opts, size_t n)
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
	abs = path_join((const char *const[]){cwd, path}, 2);
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

/* containerd's three steps; *added says whether target gained a mount layer. */
static int mount_steps(const struct mount_spec *m, const char *target, const char *dir,
		       unsigned long flags, unsigned long prop, const char *data, int *added)
{
	const char *source = m->source ? m->source : "", *type = m->type ? m->type : "";
	const unsigned long bro = MS_BIND | MS_RDONLY;
	int r = 0;

	*added = 0;
	/* a remount that changes data still needs the first call (moby/moby#34077) */
	if (!(flags & MS_REMOUNT) || data[0]) {
		const char *d = data[0] ? data : NULL;
		if (dir)
			r = mount_from(dir, source, target, type, flags, d);
		else if (mount(source, target, type, flags, d) < 0)
			r = -errno;
		if (r < 0)
			return r;
		*added = !(flags & MS_REMOUNT);
	}
	/* rbind's MS_REC makes the propagation change recursive too, as in containerd */
	if (prop && mount(NULL, target, NULL, prop | (flags & MS_REC), NULL) < 0)
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

static int mount_layer(const struct mount_spec *m, const char *target, int *added)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	char *dir = NULL, **copts = NULL, *data = NULL;
	unsigned long flags, prop;
	int r;

	*added = 0;
	if (is_fuse(m->type)) /* containerd execs mount.fuse[3]; nothing here needs it yet */
		return -ENOTSUP;
	if (pagesize <= 0)
		pagesize = 4096;
	r = mount_compact_overlay(m, pagesize, &dir, &copts);
	if (r < 0)
		return r;
	r = mount_parse_options(copts ? copts : m->options, m->n_options, &flags, &prop, &data,
				NULL);
	if (r < 0)
		goto out;
	/* the kernel copies one page of data and would silently cut the rest */
	if (strlen(data) > (size_t)pagesize) {
		r = -E2BIG;
		goto out;
	}
	r = mount_steps(m, target, dir, flags, prop, data, added);
out:
	free(data);
	free(dir);
	mount_compact_free(copts, m->n_options);
	return r;
}

int mount_one(const struct mount_spec *m, const char *target)
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

int mount_all(const struct mount_spec *ms, size_t n, const char *target)
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

int unmount_all_nowait(const char *target, int flags, int *unmounted)
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

int unmount_all(const char *target, int flags)
{
	int r, n, tries = 0;

	/* EBUSY usually means a process is still leaving the mount: each mount gets 50 tries,
	 * 50 ms apart */
	while ((r = unmount_all_nowait(target, flags, &n)) == -EBUSY) {
		tries = n > 0 ? 1 : tries + 1;
		if (tries >= UNMOUNT_BUSY_TRIES)
			break;
		sleep_ms(UNMOUNT_BUSY_RETRY_MS);
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

int mountinfo_has(const char *path)
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

int path_is_mountpoint(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_TYPE, &sx) < 0)
		return -errno;
	/* kernels before 5.8 do not report the attribute: ask mountinfo instead */
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return mountinfo_has(path);
}

int path_within(const char *root, const char *path)
{
	char *r = strdup(root), *p = strdup(path);
	int res;

	if (!r || !p) {
		res = -ENOMEM;
		goto out;
	}
	path_clean(r);
	path_clean(p);
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
