/* Unit tests: mount option parsing, overlay lowerdir compaction, real mounts in a temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctrbox/mount.h>
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct parse_case {
	const char *opts[8];
	int loop;
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
    {{"ro", "loop"}, 1, MS_RDONLY, 0, ""},
    {{"direct-io", "x"}, 0, 0, 0, "direct-io,x"},
};

/* loop's direct-io and the id mappings. */
static const struct {
	const char *opts[5], *data;
	int loop, direct_io;
	const char *uidmap, *gidmap;
} extra_cases[] = {
    /* direct-io is taken out of data with loop (the first one only), not without */
    {{"loop", "direct-io", "direct-io", "errors=remount-ro"},
     "direct-io,errors=remount-ro",
     1,
     1,
     NULL,
     NULL},
    {{"direct-io", "loop"}, "", 1, 1, NULL, NULL},
    {{"direct-io"}, "direct-io", 0, 0, NULL, NULL},
    /* uidmap=/gidmap= are never data; the last one wins; "" is kept as given */
    {{"uidmap=0:1000:1", "lowerdir=/l", "gidmap=0:2000:1"},
     "lowerdir=/l",
     0,
     0,
     "0:1000:1",
     "0:2000:1"},
    {{"uidmap=1:1:1", "uidmap=0:5:6,6:7:8", "gidmap="}, "", 0, 0, "0:5:6,6:7:8", ""},
    {{"uidmap", "gidmap:0:1:2"}, "uidmap,gidmap:0:1:2", 0, 0, NULL, NULL},
};

static void idmap_parse_cases(void);

void test_mount_parse_cases(void)
{
	for (size_t i = 0; i < NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct ctrbox_mount_opts o;
		size_t n = 0;
		int r;

		memset(&o, 0xa5, sizeof(o));
		while (n < NELEM(c->opts) && c->opts[n])
			n++;
		r = ctrbox_mount_parse_options((char **)c->opts, n, &o);
		if (r != 0 || o.flags != c->flags || o.propagation != c->prop)
			fprintf(stderr, "  parse case %zu: r=%d flags=%#lx prop=%#lx\n", i, r,
				o.flags, o.propagation);
		CHECK(r == 0);
		CHECK(o.flags == c->flags);
		CHECK(o.propagation == c->prop);
		CHECK(o.loop == c->loop);
		CHECK(o.direct_io == 0);
		CHECK_STR(o.data, c->data);
		CHECK(o.uidmap == NULL && o.gidmap == NULL);
		ctrbox_mount_opts_free(&o);
		CHECK(o.data == NULL);
	}
	for (size_t i = 0; i < NELEM(extra_cases); i++) {
		struct ctrbox_mount_opts o;
		size_t n = 0;

		while (n < NELEM(extra_cases[i].opts) && extra_cases[i].opts[n])
			n++;
		CHECK(ctrbox_mount_parse_options((char **)extra_cases[i].opts, n, &o) == 0);
		CHECK(o.flags == 0 && o.propagation == 0);
		CHECK(o.loop == extra_cases[i].loop);
		CHECK(o.direct_io == extra_cases[i].direct_io);
		CHECK_STR(o.data, extra_cases[i].data);
		if (extra_cases[i].uidmap)
			CHECK_STR(o.uidmap, extra_cases[i].uidmap);
		else
			CHECK(o.uidmap == NULL);
		if (extra_cases[i].gidmap)
			CHECK_STR(o.gidmap, extra_cases[i].gidmap);
		else
			CHECK(o.gidmap == NULL);
		ctrbox_mount_opts_free(&o);
	}
	idmap_parse_cases();
}

/* Mapping strings: well-formed lists come back range by range; every malformed one is
 * -EINVAL with a sentence, and nothing is read past the string. */
static void idmap_parse_cases(void)
{
	static const struct {
		const char *s;
		int n;
		struct ctrbox_mount_idmap m[3];
	} good[] = {
	    {"0:1000:65536", 1, {{0, 1000, 65536}}},
	    {"0:100000:1,1:200000:65535", 2, {{0, 100000, 1}, {1, 200000, 65535}}},
	    {"0:0:4294967295", 1, {{0, 0, 4294967295U}}},
	    {"4294967294:0:1", 1, {{4294967294U, 0, 1}}},
	    {"007:08:9", 1, {{7, 8, 9}}},
	    {"1:2:3,4:5:6,7:8:9", 3, {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}},
	};
	static const char *const bad[] = {
	    "",
	    "0",
	    "0:1",
	    "0:1:2:3",
	    "a:1:2",
	    "0:b:2",
	    "0:1:c",
	    "-1:0:1",
	    "0:-1:1",
	    "0:1:-1",
	    "+1:0:1",
	    "0 :1:2",
	    "0:1:2 ",
	    " 0:1:2",
	    "0:1:0",
	    "0:1:2,",
	    ",0:1:2",
	    "0:1:2,,3:4:5",
	    "0::2",
	    ":1:2",
	    "0:1:",
	    "4294967296:0:1",
	    "0:4294967296:1",
	    "0:0:4294967296",
	    "1:0:4294967295",
	    "0:4294967295:1",
	    "99999999999999999999:0:1",
	    "0:1:2;3:4:5",
	    "0x10:0:1",
	};
	struct ctrbox_mount_idmap m[3];
	const char *why;

	for (size_t i = 0; i < NELEM(good); i++) {
		int n = ctrbox_mount_parse_idmap(good[i].s, m, NELEM(m), &why);
		if (n != good[i].n)
			fprintf(stderr, "  idmap \"%s\": %d (%s)\n", good[i].s, n, why ? why : "-");
		CHECK(n == good[i].n);
		for (int j = 0; j < n && j == good[i].n; j++)
			CHECK(memcmp(&m[j], &good[i].m[j], sizeof(m[j])) == 0);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		int n;
		why = NULL;
		n = ctrbox_mount_parse_idmap(bad[i], m, NELEM(m), &why);
		if (n != -EINVAL || !why)
			fprintf(stderr, "  idmap \"%s\" accepted: %d\n", bad[i], n);
		CHECK(n == -EINVAL);
		CHECK(why && strlen(why) > 10);
	}
	/* more ranges than room; why may be NULL */
	CHECK(ctrbox_mount_parse_idmap("1:2:3,4:5:6,7:8:9,10:11:12", m, 3, &why) == -EINVAL);
	CHECK(why && strstr(why, "too many"));
	CHECK(ctrbox_mount_parse_idmap("1:2", m, 3, NULL) == -EINVAL);
	CHECK(ctrbox_mount_parse_idmap("1:2:3", m, 1, NULL) == 1);
	ctrbox_mount_parse_idmap("0:1:2", m, 1, &why);
	CHECK(why == NULL);
	CHECK(ctrbox_mount_parse_idmap("0:1:0", m, 1, &why) == -EINVAL && strstr(why, "size"));
	CHECK(ctrbox_mount_parse_idmap("x:1:1", m, 1, &why) == -EINVAL &&
	      strstr(why, "container id"));
	CHECK(ctrbox_mount_parse_idmap("1:x:1", m, 1, &why) == -EINVAL && strstr(why, "host id"));
	CHECK(ctrbox_mount_parse_idmap("1:1", m, 1, &why) == -EINVAL && strstr(why, "format"));
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
	struct ctrbox_mount_opts o;

	for (size_t i = 0; i < NELEM(t); i++) {
		const char *opts[2] = {t[i].opposite ? t[i].opposite : t[i].word, t[i].word};
		int r = ctrbox_mount_parse_options((char **)opts, 2, &o);
		CHECK(r == 0);
		if (o.flags != (t[i].opposite ? 0 : t[i].flag))
			fprintf(stderr, "  word %s: flags %#lx\n", t[i].word, o.flags);
		CHECK(o.flags == (t[i].opposite ? 0 : t[i].flag));
		CHECK(o.propagation == 0);
		CHECK_STR(o.data, "");
		ctrbox_mount_opts_free(&o);
	}
	for (size_t i = 0; i < NELEM(p); i++) {
		const char *opts[1] = {p[i].word};
		CHECK(ctrbox_mount_parse_options((char **)opts, 1, &o) == 0);
		CHECK(o.flags == 0);
		CHECK(o.propagation == p[i].prop);
		CHECK_STR(o.data, "");
		ctrbox_mount_opts_free(&o);
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
	char *lower = lowerdir_list(SNAPS, 100), *want = relative_list(100), *dir, **opts;
	char *o[] = {lower, "index=off", "workdir=" SNAPS "101/work", "upperdir=" SNAPS "101/fs"};
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 4};
	struct ctrbox_mount_opts mo;

	CHECK(strlen(lower) > 4096); /* too long for mount(2) as it is */
	CHECK(ctrbox_mount_compact_overlay(&m, 4096, &dir, &opts) == 0);
	CHECK_STR(dir, SNAPS);
	if (opts) {
		/* lowerdir moves last, the others keep their order */
		CHECK_STR(opts[0], "index=off");
		CHECK_STR(opts[1], o[2]);
		CHECK_STR(opts[2], o[3]);
		CHECK_STR(opts[3], want);
		CHECK(ctrbox_mount_parse_options(opts, 4, &mo) == 0);
		CHECK(strlen(mo.data) < 4096);
		ctrbox_mount_opts_free(&mo);
	}
	ctrbox_mount_compact_free(opts, 4);
	free(dir);

	/* not overlay, or short enough: untouched */
	m.type = "bind";
	CHECK(ctrbox_mount_compact_overlay(&m, 4096, &dir, &opts) == 0);
	CHECK(dir == NULL && opts == NULL);
	m.type = "overlay";
	CHECK(ctrbox_mount_compact_overlay(&m, 1 << 20, &dir, &opts) == 0);
	CHECK(dir == NULL && opts == NULL);
	free(lower);
	free(want);
}

/* containerd compacts at exactly pagesize-512 bytes of options (commas not counted). */
void test_mount_compact_threshold(void)
{
	char *o[] = {"lowerdir=/s/snapshots/10/fs:/s/snapshots/11/fs", "index=off"};
	size_t total = strlen(o[0]) + strlen(o[1]);
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 2};
	char *dir, **opts;

	CHECK(ctrbox_mount_compact_overlay(&m, total + 513, &dir, &opts) == 0);
	CHECK(dir == NULL && opts == NULL);
	CHECK(ctrbox_mount_compact_overlay(&m, total + 512, &dir, &opts) == 0);
	/* the common prefix "/s/snapshots/1" is cut back to its parent */
	CHECK_STR(dir, "/s/snapshots/");
	if (opts) {
		CHECK_STR(opts[0], "index=off");
		CHECK_STR(opts[1], "lowerdir=10/fs:11/fs");
	}
	ctrbox_mount_compact_free(opts, 2);
	free(dir);
}

static void no_compaction(const char *lowerdir)
{
	char *o[] = {(char *)lowerdir};
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 1};
	char *dir = (char *)"x", **opts = (char **)o;

	CHECK(ctrbox_mount_compact_overlay(&m, 1, &dir, &opts) == 0);
	if (dir || opts)
		fprintf(stderr, "  compacted: %s\n", lowerdir);
	CHECK(dir == NULL && opts == NULL);
}

void test_mount_compact_refusals(void)
{
	char *o[] = {"index=off", "upperdir=/u"};
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 2};
	char *dir, **opts;

	no_compaction("lowerdir=/s/snapshots/1/fs");	   /* one lowerdir */
	no_compaction("lowerdir=/a/1:/b/2");		   /* only "/" in common */
	no_compaction("lowerdir=/a:/b");		   /* nothing but "/" */
	no_compaction("lowerdir=abc1:abc2");		   /* "." in common */
	no_compaction("lowerdir=/s/x/1::/s/x/2");	   /* an empty entry */
	no_compaction("lowerdir=/s/x/../y/1:/s/x/../y/2"); /* cleaning would break the cut */
	no_compaction("lowerdir=//x1://x2");
	no_compaction("lowerdir=/s/a/:/s/a/b");			      /* "/s/a/" would become "" */
	CHECK(ctrbox_mount_compact_overlay(&m, 1, &dir, &opts) == 0); /* no lowerdir at all */
	CHECK(dir == NULL && opts == NULL);

	/* identical entries: the parent of the entry itself */
	o[0] = "lowerdir=/s/snapshots/1/fs:/s/snapshots/1/fs";
	m.n_options = 1;
	CHECK(ctrbox_mount_compact_overlay(&m, 1, &dir, &opts) == 0);
	CHECK_STR(dir, "/s/snapshots/1/");
	if (opts)
		CHECK_STR(opts[0], "lowerdir=fs:fs");
	ctrbox_mount_compact_free(opts, 1);
	free(dir);
}

void test_mount_unsupported(void)
{
	char *loop[] = {"loop", "ro"}, *fuse[] = {"allow_other"};
	char big[5000];
	char *toolong[] = {big};
	char *badmap[] = {"uidmap=0:100000", "gidmap=0:100000:65536", "rbind"};
	char *badgid[] = {"uidmap=0:100000:65536", "gidmap=0:100000:x", "rbind"};
	struct ctrbox_mount_spec m = {"ext4", "/nonexistent.img", NULL, loop, 2};
	int r;

	/* loop: the backing file is opened before anything is mounted */
	r = ctrbox_mount_one(&m, "/nonexistent-target");
	CHECK(r == -ENOENT || (geteuid() != 0 && r == -EACCES));
	/* malformed mappings: refused before any namespace, mount or temp dir */
	m = (struct ctrbox_mount_spec){"bind", "/", NULL, badmap, 3};
	CHECK(ctrbox_mount_one(&m, "/nonexistent-target") == -EINVAL);
	m.options = badgid;
	CHECK(ctrbox_mount_one(&m, "/nonexistent-target") == -EINVAL);
	m.type = "overlay";
	CHECK(ctrbox_mount_one(&m, "/nonexistent-target") == -EINVAL);
	m = (struct ctrbox_mount_spec){"fuse.sshfs", "host:/", NULL, fuse, 1};
	CHECK(ctrbox_mount_one(&m, "/nonexistent-target") == -ENOTSUP);
	m.type = "fuse3.fuse-overlayfs";
	CHECK(ctrbox_mount_one(&m, "/nonexistent-target") == -ENOTSUP);
	/* data over a page is refused rather than cut by the kernel */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m = (struct ctrbox_mount_spec){"tmpfs", "tmpfs", NULL, toolong, 1};
	CHECK(ctrbox_mount_one(&m, "/nonexistent-target") == -E2BIG);
	CHECK(ctrbox_unmount_all(NULL, 0) == 0);
	CHECK(ctrbox_unmount_all("", 0) == 0);
	CHECK(ctrbox_unmount_all("/nonexistent-target/x", 0) == 0);
}

void test_path_within(void)
{
	CHECK(ctrbox_path_within("/run/containerd", "/run/containerd/t/b") == 1);
	CHECK(ctrbox_path_within("/run/containerd", "/run/containerd") == 1);
	CHECK(ctrbox_path_within("/run/containerd/", "/run/containerd//x/./") == 1);
	CHECK(ctrbox_path_within("/run/containerd", "/run/containerd2") == 0);
	CHECK(ctrbox_path_within("/run/containerd", "/run/containerd/../etc") == 0);
	CHECK(ctrbox_path_within("/run/containerd", "/run/containerd/x/../../containerd/y") == 1);
	CHECK(ctrbox_path_within("/run/containerd", "/run") == 0);
	CHECK(ctrbox_path_within("/", "/etc") == 1);
	CHECK(ctrbox_path_within("/", "/../..") == 1);
	CHECK(ctrbox_path_within("/a", "a/b") == 0);
	CHECK(ctrbox_path_within("a", "/a/b") == 0);
	CHECK(ctrbox_path_within("a", "a/b") == 1);
	CHECK(ctrbox_path_within("a", "b/../a/c") == 1);
	CHECK(ctrbox_path_within(".", "x/y") == 1);
	CHECK(ctrbox_path_within(".", "x/../..") == 0);
	CHECK(ctrbox_path_within("", "..") == 0);
	CHECK(ctrbox_path_within("../a", "../a/b") == 1);
}

void test_path_is_mountpoint(void)
{
	char dir[] = "/tmp/ctrbox-mnt-XXXXXX";

	CHECK(ctrbox_path_is_mountpoint("/") == 1);
	CHECK(ctrbox_mountinfo_has("/") == 1);
	CHECK(ctrbox_path_is_mountpoint("/proc") == ctrbox_mountinfo_has("/proc"));
	CHECK(ctrbox_path_is_mountpoint("/proc/self/../.") ==
	      1); /* symlinks and dots are followed */
	CHECK(ctrbox_path_is_mountpoint("/nonexistent-x") == -ENOENT);
	CHECK(ctrbox_mountinfo_has("/nonexistent-x") == -ENOENT);
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(ctrbox_path_is_mountpoint(dir) == 0);
	CHECK(ctrbox_mountinfo_has(dir) == 0);
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
	struct ctrbox_mount_spec m = {"tmpfs", "ctrbox-test", NULL, o, 3};
	struct fx f;
	struct stat st;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "m");
	fx_path(&f, "m", t, sizeof(t));
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	CHECK(ctrbox_mount_one(&m, t) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 1);
	CHECK(ctrbox_mountinfo_has(t) == 1);
	CHECK(stat(t, &st) == 0 && (st.st_mode & 07777) == 0700);
	fx_write(&f, "m/file", "x");
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	CHECK(!fx_exists(&f, "m/file"));
	CHECK(ctrbox_unmount_all(t, 0) == 0); /* nothing mounted */
	fx_teardown(&f);
}

void test_mount_bind_ro(void)
{
	char *o[] = {"rbind", "ro"}, src[256], t[256];
	struct ctrbox_mount_spec m = {"bind", src, NULL, o, 2};
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
	CHECK(ctrbox_mount_one(&m, t) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 1);
	CHECK(fx_exists(&f, "m/hello"));
	errno = 0;
	fd = open(fx_path(&f, "m/new", p, sizeof(p)), O_WRONLY | O_CREAT, 0644);
	CHECK(fd < 0 && errno == EROFS);
	if (fd >= 0)
		close(fd);
	fx_write(&f, "src/still-rw", "y"); /* only the bind is read-only */
	CHECK(fx_exists(&f, "m/still-rw"));
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	fx_teardown(&f);
}

static void idmapped_overlay(void);
static void idmapped_bind(void);
static void loop_ext4(void);

void test_mount_overlay(void)
{
	char lo[280], up[280], wo[280], t[256];
	char *o[] = {"index=off", wo, up, lo};
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 4};
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
	CHECK(ctrbox_mount_one(&m, t) == 0);
	CHECK(fx_exists(&f, "m/a"));
	fx_write(&f, "m/b", "b");
	CHECK(fx_exists(&f, "upper/b"));
	CHECK(!fx_exists(&f, "lower/b"));
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(!fx_exists(&f, "m/a"));
	fx_teardown(&f);
	idmapped_overlay();
	idmapped_bind();
	loop_ext4();
}

static void idmapped_deep(struct fx *f, char *lower, char *up, char *wo, const char *t);

/* 120 layers under a long path: the options exceed a page and only mount after compaction,
 * which briefly changes the working directory. */
void test_mount_overlay_deep(void)
{
	enum { LAYERS = 120 };
	char base[256], up[300], wo[300], t[256], rel[128], *lower, *w;
	char *o[] = {"index=off", NULL, up, wo};
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 4};
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
	CHECK(ctrbox_mount_one(&m, t) == 0);
	after = getcwd(NULL, 0);
	CHECK_STR(after, before);
	CHECK(fx_exists(&f, "m/bottom"));
	CHECK(fx_exists(&f, "m/top"));
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	idmapped_deep(&f, lower, up, wo, t);
	free(before);
	free(after);
	free(lower);
	fx_teardown(&f);
}

void test_unmount_all_stacked(void)
{
	char *o1[] = {"size=1m"}, *o2[] = {"size=2m", "ro"}, t[256];
	struct ctrbox_mount_spec ms[] = {{"tmpfs", "one", NULL, o1, 1},
					 {"tmpfs", "two", NULL, o2, 2}};
	struct fx f;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "m");
	fx_path(&f, "m", t, sizeof(t));
	CHECK(ctrbox_mount_all(ms, 2, t) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 1);
	CHECK(umount2(t, 0) == 0); /* the top one goes, the first is still there */
	CHECK(ctrbox_path_is_mountpoint(t) == 1);
	CHECK(ctrbox_mount_one(&ms[1], t) == 0);
	CHECK(ctrbox_unmount_all(t, MNT_DETACH) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	fx_teardown(&f);
}

/* A failing entry undoes the layers ctrbox_mount_all added, and only those. */
void test_mount_all_rollback(void)
{
	char *o[] = {"size=1m"},
	     *bad[] = {"lowerdir=/nonexistent-ctrbox/l", "upperdir=/x", "workdir=/y"};
	struct ctrbox_mount_spec ms[] = {{"tmpfs", "mine", NULL, o, 1},
					 {"tmpfs", "mine2", NULL, o, 1},
					 {"overlay", "overlay", NULL, bad, 3}};
	struct fx f;
	char t[256];

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "m");
	fx_path(&f, "m", t, sizeof(t));
	CHECK(ctrbox_mount_one(&ms[0], t) == 0); /* someone else's mount, before the call */
	fx_write(&f, "m/marker", "x");
	CHECK(ctrbox_mount_all(ms, 3, t) == -ENOENT);
	CHECK(ctrbox_path_is_mountpoint(t) == 1);
	CHECK(fx_exists(&f, "m/marker"));
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	fx_teardown(&f);
}

static uid_t owner(struct fx *f, const char *rel, gid_t *gid)
{
	char p[256];
	struct stat st;

	if (lstat(fx_path(f, rel, p, sizeof(p)), &st) < 0)
		return (uid_t)-1;
	if (gid)
		*gid = st.st_gid;
	return st.st_uid;
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n == 0;
}

/* Points XDG_RUNTIME_DIR (where containerd's temp mounts go first) at dir; restore undoes it. */
struct env_save {
	char *xdg;
};
static void temp_here(struct env_save *e, const char *dir)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	e->xdg = x ? strdup(x) : NULL;
	setenv("XDG_RUNTIME_DIR", dir, 1);
}
static void temp_restore(struct env_save *e)
{
	if (e->xdg)
		setenv("XDG_RUNTIME_DIR", e->xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(e->xdg);
}

/* No child left behind: the userns helper is a clone child, reaped by ctrbox_mount_userns_fd. */
static void no_children_left(void)
{
	errno = 0;
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) <= 0);
}

/* Two layers as containerd's overlayfs snapshotter lays them out, mounted with the mappings
 * of a user-namespaced container: what is root's on disk is the mapping's root through the
 * mount, other owners shift by the same offset, the upper dir (chowned by the snapshotter) is
 * not remapped; the temp idmapped mount of the common parent is gone after the call. */
static void idmapped_overlay(void)
{
	char lo[600], up[300], wo[300], t[256], tmp[256], p[256];
	char *o[] = {"index=off", "uidmap=0:100000:65536", wo, up, lo, "gidmap=0:200000:65536"};
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 6};
	struct env_save env;
	struct fx f;
	gid_t g;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "tmp");
	fx_mkdir(&f, "snapshots");
	fx_mkdir(&f, "snapshots/1");
	fx_mkdir(&f, "snapshots/1/fs");
	fx_mkdir(&f, "snapshots/2");
	fx_mkdir(&f, "snapshots/2/fs");
	fx_mkdir(&f, "snapshots/3");
	fx_mkdir(&f, "snapshots/3/fs");
	fx_mkdir(&f, "snapshots/3/work");
	fx_mkdir(&f, "m");
	fx_write(&f, "snapshots/1/fs/root-file", "r");
	fx_write(&f, "snapshots/2/fs/user-file", "u");
	CHECK(chown(fx_path(&f, "snapshots/2/fs/user-file", p, sizeof(p)), 1000, 1001) == 0);
	CHECK(chown(fx_path(&f, "snapshots/3/fs", p, sizeof(p)), 100000, 200000) == 0);
	snprintf(lo, sizeof(lo), "lowerdir=%s/snapshots/2/fs:%s/snapshots/1/fs", f.dir, f.dir);
	snprintf(up, sizeof(up), "upperdir=%s/snapshots/3/fs", f.dir);
	snprintf(wo, sizeof(wo), "workdir=%s/snapshots/3/work", f.dir);
	fx_path(&f, "m", t, sizeof(t));
	fx_path(&f, "tmp", tmp, sizeof(tmp));
	temp_here(&env, tmp);
	CHECK(ctrbox_mount_one(&m, t) == 0);
	temp_restore(&env);
	no_children_left();
	CHECK(ctrbox_path_is_mountpoint(t) == 1);
	CHECK(owner(&f, "m/root-file", &g) == 100000 && g == 200000);
	CHECK(owner(&f, "m/user-file", &g) == 101000 && g == 201001);
	CHECK(owner(&f, "m", &g) == 100000 && g == 200000); /* the upper dir, as it is */
	/* on disk nothing changed */
	CHECK(owner(&f, "snapshots/1/fs/root-file", &g) == 0 && g == 0);
	fx_write(&f, "m/new", "n");
	CHECK(fx_exists(&f, "snapshots/3/fs/new"));
	/* the temp mount of the lowerdirs' parent came off and its dir went */
	CHECK(dir_is_empty(tmp) == 1);
	CHECK(ctrbox_mountinfo_has(tmp) == 0);
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);

	/* a single lowerdir: its parent is the common dir */
	snprintf(lo, sizeof(lo), "lowerdir=%s/snapshots/1/fs", f.dir);
	temp_here(&env, tmp);
	CHECK(ctrbox_mount_one(&m, t) == 0);
	temp_restore(&env);
	CHECK(owner(&f, "m/root-file", &g) == 100000 && g == 200000);
	CHECK(!fx_exists(&f, "m/user-file"));
	CHECK(dir_is_empty(tmp) == 1);
	CHECK(ctrbox_unmount_all(t, 0) == 0);

	/* lowerdirs without a common parent below / are refused, and leave nothing */
	snprintf(lo, sizeof(lo), "lowerdir=%s/snapshots/1/fs:/nonexistent-ctrbox/fs", f.dir);
	temp_here(&env, tmp);
	CHECK(ctrbox_mount_one(&m, t) == -EINVAL);
	/* no lowerdir at all */
	o[4] = "index=off";
	CHECK(ctrbox_mount_one(&m, t) == -EINVAL);
	o[4] = lo;
	/* a lowerdir that does not exist: the overlay fails, the temp mount still goes */
	snprintf(lo, sizeof(lo), "lowerdir=%s/snapshots/1/nonexistent", f.dir);
	CHECK(ctrbox_mount_one(&m, t) == -ENOENT);
	temp_restore(&env);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	CHECK(dir_is_empty(tmp) == 1);
	no_children_left();
	fx_teardown(&f);
}

/* Creates path as uid:gid in a child; 0 if it could. */
static int create_as(const char *path, uid_t uid, gid_t gid)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd;
		if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(2);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		_exit(fd < 0 ? 1 : 0);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A bind with mappings gets an idmapped copy on top (two layers); a read-only bind does not,
 * as in containerd, whose ro remount returns first. uidmap alone is ignored (and not data). */
static void idmapped_bind(void)
{
	char src[256], t[256], p[256];
	char *rw[] = {"uidmap=0:100000:65536", "gidmap=0:100000:65536", "rw", "rbind"};
	char *ro[] = {"uidmap=0:100000:65536", "gidmap=0:100000:65536", "ro", "rbind"};
	char *one[] = {"uidmap=0:100000:65536", "size=1m"};
	struct ctrbox_mount_spec ms[] = {{"bind", src, NULL, rw, 4},
					 {"tmpfs", "tmpfs", NULL, one, 2}};
	struct fx f;
	gid_t g;
	int n;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "src");
	fx_mkdir(&f, "m");
	fx_write(&f, "src/file", "x");
	CHECK(chmod(f.dir, 0711) == 0); /* for the mapped root's create_as */
	fx_path(&f, "src", src, sizeof(src));
	fx_path(&f, "m", t, sizeof(t));
	CHECK(ctrbox_mount_all(ms, 1, t) == 0);
	CHECK(owner(&f, "m/file", &g) == 100000 && g == 100000);
	/* host root is not in the mount's mapping: it cannot create files there; the mapping's
	 * root can, and what it makes is root's on disk */
	errno = 0;
	CHECK(open(fx_path(&f, "m/host", p, sizeof(p)), O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 &&
	      errno == EOVERFLOW);
	CHECK(create_as(fx_path(&f, "m/made", p, sizeof(p)), 100000, 100000) == 0);
	CHECK(owner(&f, "src/made", &g) == 0 && g == 0);
	CHECK(owner(&f, "m/made", &g) == 100000 && g == 100000);
	CHECK(ctrbox_unmount_all_nowait(t, 0, &n) == 0 && n == 2);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	ms[0].options = ro;
	CHECK(ctrbox_mount_one(&ms[0], t) == 0);
	CHECK(owner(&f, "m/file", &g) == 0 && g == 0);
	CHECK(ctrbox_unmount_all_nowait(t, 0, &n) == 0 && n == 1);
	/* a failing later entry takes the two layers of the first one off again */
	ms[0].options = rw;
	ms[1].type = "nonexistent-fs-type";
	CHECK(ctrbox_mount_all(ms, 2, t) == -ENODEV);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	ms[1].type = "tmpfs";
	CHECK(ctrbox_mount_one(&ms[1], t) == 0);
	CHECK(ctrbox_unmount_all_nowait(t, 0, &n) == 0 && n == 1);
	no_children_left();
	fx_teardown(&f);
}

/* mkfs.ext4 IMG (4 MiB, root-owned root dir), no shell; 0, or -1 when it is not there. */
static int make_ext4(const char *img)
{
	char *argv[] = {"mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", (char *)img, NULL};
	posix_spawn_file_actions_t fa;
	int fd, st = -1;
	pid_t pid;

	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, 4 << 20) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
	if (posix_spawnp(&pid, "mkfs.ext4", &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The loop device under the mount at path: its /sys/dev/block dir, or "" if not a loop. */
static void loop_sysdir(const char *path, char *out, size_t len)
{
	struct stat st;

	out[0] = '\0';
	if (stat(path, &st) == 0 && major(st.st_dev) == 7)
		snprintf(out, len, "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
}

static int sys_read(const char *dir, const char *file, char *buf, size_t len)
{
	char p[320];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Whether any loop device has img as its backing file. */
static int image_attached(const char *img)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char dir[300], v[320];
		if (strncmp(e->d_name, "loop", 4) != 0)
			continue;
		snprintf(dir, sizeof(dir), "/sys/block/%s", e->d_name);
		found =
		    sys_read(dir, "loop/backing_file", v, sizeof(v)) == 0 && strcmp(v, img) == 0;
	}
	closedir(d);
	return found;
}

/* "loop": an ext4 image through a loop device that autoclear detaches at unmount; "ro" makes
 * the device read-only, "direct-io" turns direct I/O on and is not passed to ext4. */
static void loop_ext4(void)
{
	char img[256], t[256], sys[64], v[320];
	char *rw[] = {"loop"}, *ro[] = {"ro", "loop"}, *dio[] = {"loop", "direct-io", "noatime"};
	struct ctrbox_mount_spec m = {"ext4", img, NULL, rw, 1};
	struct fx f;
	int fd;

	if (!need_root(__func__))
		return;
	fx_setup(&f);
	fx_mkdir(&f, "m");
	fx_path(&f, "disk.img", img, sizeof(img));
	fx_path(&f, "m", t, sizeof(t));
	if (make_ext4(img) < 0) {
		printf("skip %s: no mkfs.ext4 (e2fsprogs)\n", __func__);
		fx_teardown(&f);
		return;
	}
	CHECK(ctrbox_mount_one(&m, t) == 0);
	loop_sysdir(t, sys, sizeof(sys));
	CHECK(sys[0] != '\0');
	CHECK(sys_read(sys, "loop/backing_file", v, sizeof(v)) == 0);
	CHECK_STR(v, img);
	CHECK(sys_read(sys, "loop/autoclear", v, sizeof(v)) == 0 && strcmp(v, "1") == 0);
	CHECK(sys_read(sys, "ro", v, sizeof(v)) == 0 && strcmp(v, "0") == 0);
	fx_write(&f, "m/kept", "k");
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	/* autoclear: the device let go of the image with the last mount */
	CHECK(sys_read(sys, "loop/backing_file", v, sizeof(v)) < 0);

	m.options = ro;
	m.n_options = 2;
	CHECK(ctrbox_mount_one(&m, t) == 0);
	loop_sysdir(t, sys, sizeof(sys));
	CHECK(sys[0] && sys_read(sys, "ro", v, sizeof(v)) == 0 && strcmp(v, "1") == 0);
	CHECK(fx_exists(&f, "m/kept"));
	errno = 0;
	fd = open(fx_path(&f, "m/new", v, sizeof(v)), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd < 0 && errno == EROFS);
	if (fd >= 0)
		close(fd);
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(sys_read(sys, "loop/backing_file", v, sizeof(v)) < 0);

	m.options = dio;
	m.n_options = 3;
	CHECK(ctrbox_mount_one(&m, t) == 0);
	loop_sysdir(t, sys, sizeof(sys));
	CHECK(sys[0] && sys_read(sys, "loop/dio", v, sizeof(v)) == 0 && strcmp(v, "1") == 0);
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	CHECK(sys_read(sys, "loop/backing_file", v, sizeof(v)) < 0);

	/* a mount that fails (not ext4: the image is truncated to nothing) detaches the device
	 * again: the image is not attached anywhere afterwards */
	fd = open(img, O_WRONLY | O_TRUNC | O_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	if (fd >= 0)
		close(fd);
	m.options = rw;
	m.n_options = 1;
	CHECK(ctrbox_mount_one(&m, t) < 0);
	CHECK(ctrbox_path_is_mountpoint(t) == 0);
	CHECK(!image_attached(img));
	fx_teardown(&f);
}

/* The 120 layers again with mappings: the lowerdirs through the temp idmapped mount are still
 * over a page, so they are compacted against the temp dir afterwards. */
static void idmapped_deep(struct fx *f, char *lower, char *up, char *wo, const char *t)
{
	char *o[] = {"uidmap=0:100000:65536", "index=off", lower, up, wo, "gidmap=0:100000:65536"};
	struct ctrbox_mount_spec m = {"overlay", "overlay", NULL, o, 6};
	char tmp[256], *before, *after;
	struct env_save env;
	gid_t g;

	fx_mkdir(f, "tmp");
	fx_path(f, "tmp", tmp, sizeof(tmp));
	temp_here(&env, tmp);
	before = getcwd(NULL, 0);
	CHECK(ctrbox_mount_one(&m, t) == 0);
	after = getcwd(NULL, 0);
	temp_restore(&env);
	CHECK_STR(after, before);
	CHECK(owner(f, "m/bottom", &g) == 100000 && g == 100000);
	CHECK(owner(f, "m/top", &g) == 100000 && g == 100000);
	CHECK(dir_is_empty(tmp) == 1);
	CHECK(ctrbox_unmount_all(t, 0) == 0);
	free(before);
	free(after);
}
