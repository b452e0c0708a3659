/* Unit tests: mount option parsing, overlay lowerdir compaction, real mounts in a temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct parse_case {
	const char *opts[8];
	int ret;
	unsigned long flags, prop;
	const char *data;
};

static const struct parse_case parse_cases[] = {
    {{NULL}, 0, 0, 0, ""},
    {{"ro"}, 0, MS_RDONLY, 0, ""},
    {{"rbind", "rw"}, 0, MS_BIND | MS_REC, 0, ""},
    {{"ro", "rw"}, 0, 0, 0, ""},
    {{"rw", "ro"}, 0, MS_RDONLY, 0, ""},
    {{"bind", "ro", "nosuid", "nodev"}, 0, MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, 0, ""},
    {{"noatime", "atime", "nodiratime"}, 0, MS_NODIRATIME, 0, ""},
    {{"sync", "async", "dirsync"}, 0, MS_DIRSYNC, 0, ""},
    {{"remount", "ro", "relatime", "strictatime", "mand"},
     0,
     MS_REMOUNT | MS_RDONLY | MS_RELATIME | MS_STRICTATIME | MS_MANDLOCK,
     0,
     ""},
    /* the overlay snapshotter's options, all data, in their original order */
    {{"index=off", "workdir=/s/4/work", "upperdir=/s/4/fs", "lowerdir=/s/1/fs"},
     0,
     0,
     0,
     "index=off,workdir=/s/4/work,upperdir=/s/4/fs,lowerdir=/s/1/fs"},
    {{"size=64k", "nodev", "mode=755", "noexec", "x"},
     0,
     MS_NODEV | MS_NOEXEC,
     0,
     "size=64k,mode=755,x"},
    /* containerd's table maps "defaults" to 0, and a 0 flag falls through to data */
    {{"defaults", "ro"}, 0, MS_RDONLY, 0, "defaults"},
    {{"bind", "rprivate"}, 0, MS_BIND, MS_PRIVATE | MS_REC, ""},
    {{"shared", "rslave"}, 0, 0, MS_SLAVE | MS_REC, ""},
    {{"unbindable", "ro"}, 0, MS_RDONLY, MS_UNBINDABLE, ""},
    {{"RO", "ro=1"}, 0, 0, 0, "RO,ro=1"},
    {{"ro", "loop"}, -ENOTSUP, MS_RDONLY, 0, NULL},
};

void test_mount_parse_cases(void)
{
	for (size_t i = 0; i < NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t n = 0;
		unsigned long flags = ~0UL, prop = ~0UL;
		char *data = (char *)"unset";
		int loop = -1, r;

		while (n < NELEM(c->opts) && c->opts[n])
			n++;
		r = mount_parse_options((char **)c->opts, n, &flags, &prop, &data, &loop);
		if (r != c->ret || flags != c->flags || prop != c->prop)
			fprintf(stderr, "  parse case %zu: r=%d flags=%#lx prop=%#lx\n", i, r,
				flags, prop);
		CHECK(r == c->ret);
		CHECK(flags == c->flags);
		CHECK(prop == c->prop);
		CHECK(loop == (c->ret == -ENOTSUP));
		if (c->data)
			CHECK_STR(data, c->data);
		else
			CHECK(data == NULL);
		free(data);
	}
}

/* Every word of containerd's table on its own: set words from nothing, clear words undoing
 * their opposite. */
void test_mount_flag_table(void)
{
	static const struct {
		const char *word, *opposite;
		unsigned long flag;
	} t[] = {
	    {"async", "sync", MS_SYNCHRONOUS},
	    {"atime", "noatime", MS_NOATIME},
	    {"bind", NULL, MS_BIND},
	    {"dev", "nodev", MS_NODEV},
	    {"diratime", "nodiratime", MS_NODIRATIME},
	    {"dirsync", NULL, MS_DIRSYNC},
	    {"exec", "noexec", MS_NOEXEC},
	    {"mand", NULL, MS_MANDLOCK},
	    {"noatime", NULL, MS_NOATIME},
	    {"nodev", NULL, MS_NODEV},
	    {"nodiratime", NULL, MS_NODIRATIME},
	    {"noexec", NULL, MS_NOEXEC},
	    {"nomand", "mand", MS_MANDLOCK},
	    {"norelatime", "relatime", MS_RELATIME},
	    {"nostrictatime", "strictatime", MS_STRICTATIME},
	    {"nosuid", NULL, MS_NOSUID},
	    {"rbind", NULL, MS_BIND | MS_REC},
	    {"relatime", NULL, MS_RELATIME},
	    {"remount", NULL, MS_REMOUNT},
	    {"ro", NULL, MS_RDONLY},
	    {"rw", "ro", MS_RDONLY},
	    {"strictatime", NULL, MS_STRICTATIME},
	    {"suid", "nosuid", MS_NOSUID},
	    {"sync", NULL, MS_SYNCHRONOUS},
	};
	static const struct {
		const char *word;
		unsigned long prop;
	} p[] = {
	    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
	    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
	    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
	    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	unsigned long flags, prop;
	char *data;

	for (size_t i = 0; i < NELEM(t); i++) {
		const char *opts[2] = {t[i].opposite ? t[i].opposite : t[i].word, t[i].word};
		int r = mount_parse_options((char **)opts, 2, &flags, &prop, &data, NULL);
		CHECK(r == 0);
		if (flags != (t[i].opposite ? 0 : t[i].flag))
			fprintf(stderr, "  word %s: flags %#lx\n", t[i].word, flags);
		CHECK(flags == (t[i].opposite ? 0 : t[i].flag));
		CHECK(prop == 0);
		CHECK_STR(data, "");
		free(data);
	}
	for (size_t i = 0; i < NELEM(p); i++) {
		const char *opts[1] = {p[i].word};
		CHECK(mount_parse_options((char **)opts, 1, &flags, &prop, &data, NULL) == 0);
		CHECK(flags == 0);
		CHECK(prop == p[i].prop);
		CHECK_STR(data, "");
		free(data);
	}
}

#define SNAPS "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/"

/* "lowerdir=<prefix>N/fs:...:<prefix>1/fs", newest first as the snapshotter writes it. */
static char *lowerdir_list(const char *prefix, int n)
{
	size_t cap = 16 + (size_t)n * (strlen(prefix) + 16);
	char *s = malloc(cap), *w = s;

	w += sprintf(w, "lowerdir=");
	for (int i = n; i >= 1; i--)
		w += sprintf(w, "%s%s%d/fs", i == n ? "" : ":", prefix, i);
	return s;
}

static char *relative_list(int n)
{
	char *s = malloc(16 + (size_t)n * 16), *w = s;

	w += sprintf(w, "lowerdir=");
	for (int i = n; i >= 1; i--)
		w += sprintf(w, "%s%d/fs", i == n ? "" : ":", i);
	return s;
}

void test_mount_compact_overlay(void)
{
	char *lower = lowerdir_list(SNAPS, 100), *want = relative_list(100), *dir, **opts, *data;
	char *o[] = {lower, "index=off", "workdir=" SNAPS "101/work", "upperdir=" SNAPS "101/fs"};
	struct mount_spec m = {"overlay", "overlay", NULL, o, 4};
	unsigned long flags, prop;

	CHECK(strlen(lower) > 4096); /* too long for mount(2) as it is */
	CHECK(mount_compact_overlay(&m, 4096, &dir, &opts) == 0);
	CHECK_STR(dir, SNAPS);
	if (opts) {
		/* lowerdir moves last, the others keep their order */
		CHECK_STR(opts[0], "index=off");
		CHECK_STR(opts[1], o[2]);
		CHECK_STR(opts[2], o[3]);
		CHECK_STR(opts[3], want);
		CHECK(mount_parse_options(opts, 4, &flags, &prop, &data, NULL) == 0);
		CHECK(strlen(data) < 4096);
		free(data);
	}
	mount_compact_free(opts, 4);
	free(dir);

	/* not overlay, or short enough: untouched */
	m.type = "bind";
	CHECK(mount_compact_overlay(&m, 4096, &dir, &opts) == 0);
	CHECK(dir == NULL && opts == NULL);
	m.type = "overlay";
	CHECK(mount_compact_overlay(&m, 1 << 20, &dir, &opts) == 0);
	CHECK(dir == NULL && opts == NULL);
	free(lower);
	free(want);
}

/* containerd compacts at exactly pagesize-512 bytes of options (commas not counted). */
void test_mount_compact_threshold(void)
{
	char *o[] = {"lowerdir=/s/snapshots/10/fs:/s/snapshots/11/fs", "index=off"};
	size_t total = strlen(o[0]) + strlen(o[1]);
	struct mount_spec m = {"overlay", "overlay", NULL, o, 2};
	char *dir, **opts;

	CHECK(mount_compact_overlay(&m, total + 513, &dir, &opts) == 0);
	CHECK(dir == NULL && opts == NULL);
	CHECK(mount_compact_overlay(&m, total + 512, &dir, &opts) == 0);
	/* the common prefix "/s/snapshots/1" is cut back to its parent */
	CHECK_STR(dir, "/s/snapshots/");
	if (opts) {
		CHECK_STR(opts[0], "index=off");
		CHECK_STR(opts[1], "lowerdir=10/fs:11/fs");
	}
	mount_compact_free(opts, 2);
	free(dir);
}

static void no_compaction(const char *lowerdir)
{
	char *o[] = {(char *)lowerdir};
	struct mount_spec m = {"overlay", "overlay", NULL, o, 1};
	char *dir = (char *)"x", **opts = (char **)o;

	CHECK(mount_compact_overlay(&m, 1, &dir, &opts) == 0);
	if (dir || opts)
		fprintf(stderr, "  compacted: %s\n", lowerdir);
	CHECK(dir == NULL && opts == NULL);
}

void test_mount_compact_refusals(void)
{
	char *o[] = {"index=off", "upperdir=/u"};
	struct mount_spec m = {"overlay", "overlay", NULL, o, 2};
	char *dir, **opts;

	no_compaction("lowerdir=/s/snapshots/1/fs");	   /* one lowerdir */
	no_compaction("lowerdir=/a/1:/b/2");		   /* only "/" in common */
	no_compaction("lowerdir=/a:/b");		   /* nothing but "/" */
	no_compaction("lowerdir=abc1:abc2");		   /* "." in common */
	no_compaction("lowerdir=/s/x/1::/s/x/2");	   /* an empty entry */
	no_compaction("lowerdir=/s/x/../y/1:/s/x/../y/2"); /* cleaning would break the cut */
	no_compaction("lowerdir=//x1://x2");
	no_compaction("lowerdir=/s/a/:/s/a/b");		       /* "/s/a/" would become "" */
	CHECK(mount_compact_overlay(&m, 1, &dir, &opts) == 0); /* no lowerdir at all */
	CHECK(dir == NULL && opts == NULL);

	/* identical entries: the parent of the entry itself */
	o[0] = "lowerdir=/s/snapshots/1/fs:/s/snapshots/1/fs";
	m.n_options = 1;
	CHECK(mount_compact_overlay(&m, 1, &dir, &opts) == 0);
	CHECK_STR(dir, "/s/snapshots/1/");
	if (opts)
		CHECK_STR(opts[0], "lowerdir=fs:fs");
	mount_compact_free(opts, 1);
	free(dir);
}

void test_mount_unsupported(void)
{
	char *loop[] = {"loop", "ro"}, *fuse[] = {"allow_other"};
	char big[5000];
	char *toolong[] = {big};
	struct mount_spec m = {"ext4", "/nonexistent.img", NULL, loop, 2};

	CHECK(mount_one(&m, "/nonexistent-target") == -ENOTSUP);
	m = (struct mount_spec){"fuse.sshfs", "host:/", NULL, fuse, 1};
	CHECK(mount_one(&m, "/nonexistent-target") == -ENOTSUP);
	m.type = "fuse3.fuse-overlayfs";
	CHECK(mount_one(&m, "/nonexistent-target") == -ENOTSUP);
	/* data over a page is refused rather than cut by the kernel */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m = (struct mount_spec){"tmpfs", "tmpfs", NULL, toolong, 1};
	CHECK(mount_one(&m, "/nonexistent-target") == -E2BIG);
	CHECK(unmount_all(NULL, 0) == 0);
	CHECK(unmount_all("", 0) == 0);
	CHECK(unmount_all("/nonexistent-target/x", 0) == 0);
}

void test_path_within(void)
{
	CHECK(path_within("/run/containerd", "/run/containerd/t/b") == 1);
	CHECK(path_within("/run/containerd", "/run/containerd") == 1);
	CHECK(path_within("/run/containerd/", "/run/containerd//x/./") == 1);
	CHECK(path_within("/run/containerd", "/run/containerd2") == 0);
	CHECK(path_within("/run/containerd", "/run/containerd/../etc") == 0);
	CHECK(path_within("/run/containerd", "/run/containerd/x/../../containerd/y") == 1);
	CHECK(path_within("/run/containerd", "/run") == 0);
	CHECK(path_within("/", "/etc") == 1);
	CHECK(path_within("/", "/../..") == 1);
	CHECK(path_within("/a", "a/b") == 0);
	CHECK(path_within("a", "/a/b") == 0);
	CHECK(path_within("a", "a/b") == 1);
	CHECK(path_within("a", "b/../a/c") == 1);
	CHECK(path_within(".", "x/y") == 1);
	CHECK(path_within(".", "x/../..") == 0);
	CHECK(path_within("", "..") == 0);
	CHECK(path_within("../a", "../a/b") == 1);
}

void test_path_is_mountpoint(void)
{
	char dir[] = "/tmp/ctrbox-mnt-XXXXXX";

	CHECK(path_is_mountpoint("/") == 1);
	CHECK(mountinfo_has("/") == 1);
	CHECK(path_is_mountpoint("/proc") == mountinfo_has("/proc"));
	CHECK(path_is_mountpoint("/proc/self/../.") == 1); /* symlinks and dots are followed */
	CHECK(path_is_mountpoint("/nonexistent-x") == -ENOENT);
	CHECK(mountinfo_has("/nonexistent-x") == -ENOENT);
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(path_is_mountpoint(dir) == 0);
	CHECK(mountinfo_has(dir) == 0);
	rmdir(dir);
}

/* Real mounts: each test gets a temp dir that teardown empties of mounts and files. */
struct fx {
	char dir[64];
	int ok;
};

static int need_root(const char *test)
{
	if (geteuid() == 0)
		return 1;
	printf("skip %s: real mounts need root (euid %u)\n", test, (unsigned)geteuid());
	return 0;
}

static void fx_setup(struct fx *f)
{
	strcpy(f->dir, "/tmp/ctrbox-mount-XXXXXX");
	f->ok = mkdtemp(f->dir) != NULL;
	CHECK(f->ok);
}

static char *fx_path(struct fx *f, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", f->dir, rel);
	return buf;
}

static void fx_mkdir(struct fx *f, const char *rel)
{
	char p[256];
	CHECK(mkdir(fx_path(f, rel, p, sizeof(p)), 0755) == 0);
}

static void fx_write(struct fx *f, const char *rel, const char *text)
{
	char p[256];
	int fd = open(fx_path(f, rel, p, sizeof(p)), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
		close(fd);
	}
}

static int fx_exists(struct fx *f, const char *rel)
{
	char p[256];
	return access(fx_path(f, rel, p, sizeof(p)), F_OK) == 0;
}

/* Detaches, deepest first, every mount under the temp dir, whatever the test left behind. */
static int detach_under(const char *dir)
{
	size_t n = strlen(dir), cap = 0;
	char *line = NULL, best[512] = "";
	FILE *mi = fopen("/proc/self/mountinfo", "re");

	if (!mi)
		return 0;
	while (getline(&line, &cap, mi) > 0) {
		char *p = line;
		for (int i = 0; i < 4 && p; i++)
			p = strchr(p, ' '), p = p ? p + 1 : NULL;
		if (!p)
			continue;
		p[strcspn(p, " \n")] = '\0';
		if (strncmp(p, dir, n) == 0 && p[n] == '/' && strlen(p) > strlen(best) &&
		    strlen(p) < sizeof(best))
			strcpy(best, p);
	}
	free(line);
	fclose(mi);
	if (!best[0])
		return 0;
	return umount2(best, MNT_DETACH) == 0;
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void fx_teardown(struct fx *f)
{
	int left = 0;

	if (!f->ok)
		return;
	while (detach_under(f->dir))
		left++;
	if (left)
		fprintf(stderr, "  teardown detached %d leftover mount(s)\n", left);
	/* FTW_MOUNT: never walk into a mount that would not go away */
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	CHECK(access(f->dir, F_OK) < 0);
}

void test_mount_tmpfs(void)
{
	char *o[] = {"nodev", "size=1m", "mode=0700"}, t[256];
	struct mount_spec m = {"tmpfs", "ctrbox-test", NULL, o, 3};
	struct fx f;
	struct stat st;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "m");
	fx_path(&f, "m", t, sizeof(t));
	CHECK(path_is_mountpoint(t) == 0);
	CHECK(mount_one(&m, t) == 0);
	CHECK(path_is_mountpoint(t) == 1);
	CHECK(mountinfo_has(t) == 1);
	CHECK(stat(t, &st) == 0 && (st.st_mode & 07777) == 0700);
	fx_write(&f, "m/file", "x");
	CHECK(unmount_all(t, 0) == 0);
	CHECK(path_is_mountpoint(t) == 0);
	CHECK(!fx_exists(&f, "m/file"));
	CHECK(unmount_all(t, 0) == 0); /* nothing mounted */
	fx_teardown(&f);
}

void test_mount_bind_ro(void)
{
	char *o[] = {"rbind", "ro"}, src[256], t[256];
	struct mount_spec m = {"bind", src, NULL, o, 2};
	struct fx f;
	char p[256];
	int fd;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "src");
	fx_mkdir(&f, "m");
	fx_write(&f, "src/hello", "hi");
	fx_path(&f, "src", src, sizeof(src));
	fx_path(&f, "m", t, sizeof(t));
	CHECK(mount_one(&m, t) == 0);
	CHECK(path_is_mountpoint(t) == 1);
	CHECK(fx_exists(&f, "m/hello"));
	errno = 0;
	fd = open(fx_path(&f, "m/new", p, sizeof(p)), O_WRONLY | O_CREAT, 0644);
	CHECK(fd < 0 && errno == EROFS);
	if (fd >= 0)
		close(fd);
	fx_write(&f, "src/still-rw", "y"); /* only the bind is read-only */
	CHECK(fx_exists(&f, "m/still-rw"));
	CHECK(unmount_all(t, 0) == 0);
	CHECK(path_is_mountpoint(t) == 0);
	fx_teardown(&f);
}

void test_mount_overlay(void)
{
	char lo[280], up[280], wo[280], t[256];
	char *o[] = {"index=off", wo, up, lo};
	struct mount_spec m = {"overlay", "overlay", NULL, o, 4};
	struct fx f;
	char p[256];

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "lower");
	fx_mkdir(&f, "upper");
	fx_mkdir(&f, "work");
	fx_mkdir(&f, "m");
	fx_write(&f, "lower/a", "a");
	snprintf(lo, sizeof(lo), "lowerdir=%s", fx_path(&f, "lower", p, sizeof(p)));
	snprintf(up, sizeof(up), "upperdir=%s", fx_path(&f, "upper", p, sizeof(p)));
	snprintf(wo, sizeof(wo), "workdir=%s", fx_path(&f, "work", p, sizeof(p)));
	fx_path(&f, "m", t, sizeof(t));
	CHECK(mount_one(&m, t) == 0);
	CHECK(fx_exists(&f, "m/a"));
	fx_write(&f, "m/b", "b");
	CHECK(fx_exists(&f, "upper/b"));
	CHECK(!fx_exists(&f, "lower/b"));
	CHECK(unmount_all(t, 0) == 0);
	CHECK(!fx_exists(&f, "m/a"));
	fx_teardown(&f);
}

/* 120 layers under a long path: the options exceed a page and only mount after compaction,
 * which briefly changes the working directory. */
void test_mount_overlay_deep(void)
{
	enum { LAYERS = 120 };
	char base[256], up[300], wo[300], t[256], rel[128], *lower, *w;
	char *o[] = {"index=off", NULL, up, wo};
	struct mount_spec m = {"overlay", "overlay", NULL, o, 4};
	char *before, *after;
	struct fx f;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "io.containerd.snapshotter.v1.overlayfs");
	fx_mkdir(&f, "io.containerd.snapshotter.v1.overlayfs/snapshots");
	fx_path(&f, "io.containerd.snapshotter.v1.overlayfs/snapshots/", base, sizeof(base));
	lower = w = malloc(16 + LAYERS * (strlen(base) + 16));
	w += sprintf(w, "lowerdir=");
	for (int i = LAYERS; i >= 1; i--) {
		snprintf(rel, sizeof(rel), "io.containerd.snapshotter.v1.overlayfs/snapshots/%d",
			 i);
		fx_mkdir(&f, rel);
		strcat(rel, "/fs");
		fx_mkdir(&f, rel);
		w += sprintf(w, "%s%s%d/fs", i == LAYERS ? "" : ":", base, i);
	}
	o[1] = lower;
	fx_write(&f, "io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs/bottom", "1");
	fx_write(&f, "io.containerd.snapshotter.v1.overlayfs/snapshots/120/fs/top", "2");
	fx_mkdir(&f, "io.containerd.snapshotter.v1.overlayfs/snapshots/121");
	fx_mkdir(&f, "io.containerd.snapshotter.v1.overlayfs/snapshots/121/fs");
	fx_mkdir(&f, "io.containerd.snapshotter.v1.overlayfs/snapshots/121/work");
	snprintf(up, sizeof(up), "upperdir=%s121/fs", base);
	snprintf(wo, sizeof(wo), "workdir=%s121/work", base);
	fx_mkdir(&f, "m");
	fx_path(&f, "m", t, sizeof(t));
	CHECK(strlen(lower) > 4096);
	before = getcwd(NULL, 0);
	CHECK(mount_one(&m, t) == 0);
	after = getcwd(NULL, 0);
	CHECK_STR(after, before);
	CHECK(fx_exists(&f, "m/bottom"));
	CHECK(fx_exists(&f, "m/top"));
	CHECK(unmount_all(t, 0) == 0);
	free(before);
	free(after);
	free(lower);
	fx_teardown(&f);
}

void test_unmount_all_stacked(void)
{
	char *o1[] = {"size=1m"}, *o2[] = {"size=2m", "ro"}, t[256];
	struct mount_spec ms[] = {{"tmpfs", "one", NULL, o1, 1}, {"tmpfs", "two", NULL, o2, 2}};
	struct fx f;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "m");
	fx_path(&f, "m", t, sizeof(t));
	CHECK(mount_all(ms, 2, t) == 0);
	CHECK(path_is_mountpoint(t) == 1);
	CHECK(umount2(t, 0) == 0); /* the top one goes, the first is still there */
	CHECK(path_is_mountpoint(t) == 1);
	CHECK(mount_one(&ms[1], t) == 0);
	CHECK(unmount_all(t, MNT_DETACH) == 0);
	CHECK(path_is_mountpoint(t) == 0);
	fx_teardown(&f);
}

/* A failing entry undoes the layers mount_all added, and only those. */
void test_mount_all_rollback(void)
{
	char *o[] = {"size=1m"},
	     *bad[] = {"lowerdir=/nonexistent-ctrbox/l", "upperdir=/x", "workdir=/y"};
	struct mount_spec ms[] = {{"tmpfs", "mine", NULL, o, 1},
				  {"tmpfs", "mine2", NULL, o, 1},
				  {"overlay", "overlay", NULL, bad, 3}};
	struct fx f;
	char t[256];

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "m");
	fx_path(&f, "m", t, sizeof(t));
	CHECK(mount_one(&ms[0], t) == 0); /* someone else's mount, before the call */
	fx_write(&f, "m/marker", "x");
	CHECK(mount_all(ms, 3, t) == -ENOENT);
	CHECK(path_is_mountpoint(t) == 1);
	CHECK(fx_exists(&f, "m/marker"));
	CHECK(unmount_all(t, 0) == 0);
	CHECK(path_is_mountpoint(t) == 0);
	fx_teardown(&f);
}
