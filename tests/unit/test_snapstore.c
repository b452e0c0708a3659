/* Unit tests: the snapshotter's SQLite store (both backends, errors, crash orphans) and filters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <ctrbox/loop.h>
#include <ctrbox/snapshots.h>
#include "snapshotter/store.h"
#include "unit.h"
#include <ctrbox/util.h>

/* A fresh temp dir for one test's store root; tmp_done removes it. */
static char *tmp_root(void)
{
	char *t = strdup("/tmp/snapstore-XXXXXX");

	if (!t || !mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

static void tmp_done(char *t)
{
	if (t)
		ctrbox_rm_rf(t);
	free(t);
}

static struct store *open_store(const char *root, enum snap_backend b)
{
	struct store *s = NULL;
	char *err = NULL;

	CHECK(store_open(root, b, &s, &err) == 0);
	if (err)
		fprintf(stderr, "  store_open: %s\n", err);
	free(err);
	return s;
}

static char *path_of(const char *root, const char *rest)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", root, rest) < 0)
		return NULL;
	return p;
}

/* Prepare (or view) that must succeed; returns the mounts (count in *n). */
static struct ctrbox_snapshot_mount *prep_ok(struct store *s, const char *key, const char *parent,
					     int ro, size_t *n)
{
	struct ctrbox_snapshot_mount *m = NULL;
	char *err = NULL;
	int r = store_prepare(s, key, parent, NULL, 0, ro, &m, n, &err);

	CHECK(r == 0);
	if (r)
		fprintf(stderr, "  prepare %s: %d %s\n", key, r, err ? err : "");
	free(err);
	return m;
}

/* Prepare (or view) that must succeed; the mounts are not needed. */
static void prep_drop(struct store *s, const char *key, const char *parent, int ro)
{
	size_t n = 0;
	struct ctrbox_snapshot_mount *m = prep_ok(s, key, parent, ro, &n);

	ctrbox_snapshot_mounts_free(m, n);
}

static void commit_ok(struct store *s, const char *name, const char *key)
{
	char *err = NULL;
	int r = store_commit(s, name, key, NULL, 0, &err);

	CHECK(r == 0);
	if (r)
		fprintf(stderr, "  commit %s: %d %s\n", key, r, err ? err : "");
	free(err);
}

/* Expects code and exact message from a call that stored its error in *errp (freed and reset
 * here; a pointer, since the call's result and err are arguments of one expression). */
static void expect(int got, int code, char **errp, const char *msg)
{
	char *err = *errp;

	*errp = NULL;
	CHECK(got == code);
	if (got != code)
		fprintf(stderr, "  got %d (%s), want %d\n", got, err ? err : "", code);
	if (msg)
		CHECK_STR(err, msg);
	free(err);
}

static void check_opts(const struct ctrbox_snapshot_mount *m, const char *type, const char *source,
		       const char *const *opts, size_t nopts)
{
	CHECK_STR(m->type, type);
	if (source)
		CHECK_STR(m->source, source);
	CHECK(m->noptions == nopts);
	for (size_t i = 0; i < nopts && i < m->noptions; i++)
		CHECK_STR(m->options[i], opts[i]);
}

static int64_t id_of(const char *root, const char *fs_source)
{
	/* <root>/snapshots/<id>/fs */
	size_t n = strlen(root) + strlen("/snapshots/");
	return strncmp(fs_source, root, strlen(root)) == 0 ? strtoll(fs_source + n, NULL, 10) : -1;
}

static char *fs_of(const char *root, int64_t id)
{
	char *p = NULL;

	if (asprintf(&p, "%s/snapshots/%lld/fs", root, (long long)id) < 0)
		return NULL;
	return p;
}

void test_snapstore_overlay_shapes(void)
{
	char *root = tmp_root(), *err = NULL;
	struct store *s = open_store(root, SNAP_OVERLAYFS);
	size_t n = 0;
	int idx = access("/sys/module/overlay/parameters/index", F_OK) == 0;

	if (!s)
		goto out;
	/* active without parent: rw bind of its own fs, options {"rw", "rbind"} */
	struct ctrbox_snapshot_mount *m = prep_ok(s, "a", "", 0, &n);
	CHECK(n == 1);
	int64_t a = m ? id_of(root, m->source) : -1;
	char *afs = fs_of(root, a), *awork = NULL;
	const char *rw_rbind[] = {"rw", "rbind"}, *ro_rbind[] = {"ro", "rbind"};
	if (m)
		check_opts(m, "bind", afs, rw_rbind, 2);
	ctrbox_snapshot_mounts_free(m, n);
	CHECK(asprintf(&awork, "%s/snapshots/%lld/work", root, (long long)a) > 0);
	struct stat st;
	CHECK(stat(awork, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0711);
	CHECK(stat(afs, &st) == 0 && (st.st_mode & 07777) == 0755);
	commit_ok(s, "l1", "a");
	CHECK(stat(awork, &st) < 0 && errno == ENOENT); /* work dir gone after commit */

	/* chain l1 <- l2 <- l3, then an active on l3 */
	m = prep_ok(s, "b", "l1", 0, &n);
	int64_t b = a + 1; /* ids are handed out in order */
	ctrbox_snapshot_mounts_free(m, n);
	commit_ok(s, "l2", "b");
	m = prep_ok(s, "c", "l2", 0, &n);
	ctrbox_snapshot_mounts_free(m, n);
	commit_ok(s, "l3", "c");

	CHECK(store_mounts(s, "l3", &m, &n, &err) == 9);
	free(err), err = NULL;

	m = prep_ok(s, "top", "l3", 0, &n);
	CHECK(n == 1);
	if (m) {
		CHECK_STR(m->type, "overlay");
		CHECK_STR(m->source, "overlay");
		CHECK(m->noptions == (size_t)(3 + idx));
		if (idx && m->noptions > 0)
			CHECK_STR(m->options[0], "index=off");
		int64_t top = -1;
		if (m->noptions >= 3 && strncmp(m->options[idx], "workdir=", 8) == 0) {
			top = id_of(root, m->options[idx] + 8);
			char *w = NULL, *u = NULL, *l = NULL;
			CHECK(asprintf(&w, "workdir=%s/snapshots/%lld/work", root, (long long)top) >
			      0);
			CHECK(asprintf(&u, "upperdir=%s/snapshots/%lld/fs", root, (long long)top) >
			      0);
			/* nearest parent first: l3 (id top-1), l2 (b), l1 (a) */
			char *l3 = fs_of(root, top - 1), *l2 = fs_of(root, b);
			CHECK(asprintf(&l, "lowerdir=%s:%s:%s", l3, l2, afs) > 0);
			CHECK_STR(m->options[idx], w);
			CHECK_STR(m->options[idx + 1], u);
			CHECK_STR(m->options[idx + 2], l);
			free(w), free(u), free(l), free(l3), free(l2);
		} else {
			CHECK(0);
		}
	}
	ctrbox_snapshot_mounts_free(m, n);
	/* Mounts returns the same shape again */
	CHECK(store_mounts(s, "top", &m, &n, &err) == 0 && n == 1 && m &&
	      strcmp(m->type, "overlay") == 0);
	ctrbox_snapshot_mounts_free(m, n);

	/* view of one parent: ro bind of the parent's fs */
	m = prep_ok(s, "v1", "l1", 1, &n);
	if (m)
		check_opts(m, "bind", afs, ro_rbind, 2);
	ctrbox_snapshot_mounts_free(m, n);
	/* view of several: overlay with lowerdir only */
	m = prep_ok(s, "v2", "l2", 1, &n);
	if (m) {
		char *l2 = fs_of(root, b), *l = NULL;
		CHECK(asprintf(&l, "lowerdir=%s:%s", l2, afs) > 0);
		const char *o1[] = {"index=off", l}, *o0[] = {l};
		check_opts(m, "overlay", "overlay", idx ? o1 : o0, idx ? 2 : 1);
		free(l2), free(l);
	}
	ctrbox_snapshot_mounts_free(m, n);
	/* view of nothing: ro bind of its own empty fs */
	m = prep_ok(s, "v0", NULL, 1, &n);
	if (m) {
		check_opts(m, "bind", NULL, ro_rbind, 2);
		CHECK(strncmp(m->source, root, strlen(root)) == 0);
	}
	ctrbox_snapshot_mounts_free(m, n);
	free(afs);
	free(awork);
	store_close(s);
out:
	tmp_done(root);
}

static int write_str(const char *path, const char *s)
{
	return ctrbox_write_file(path, s, strlen(s), 0644);
}

void test_snapstore_native_copy(void)
{
	char *root = tmp_root(), *err = NULL;
	struct store *s = open_store(root, SNAP_NATIVE);
	size_t n = 0;

	if (!s)
		goto out;
	struct ctrbox_snapshot_mount *m = prep_ok(s, "base", "", 0, &n);
	const char *rbind_rw[] = {"rbind", "rw"}, *rbind_ro[] = {"rbind", "ro"};
	char *fs = m ? strdup(m->source) : NULL;
	if (m)
		check_opts(m, "bind", NULL, rbind_rw, 2);
	ctrbox_snapshot_mounts_free(m, n);
	if (!fs) {
		store_close(s);
		goto out;
	}
	/* a small tree: file (setuid, owned 1000:1000, xattrs), dir, symlink, hard link, fifo,
	 * char device */
	char *f = path_of(fs, "bin"), *d = path_of(fs, "etc"), *f2 = path_of(fs, "etc/conf");
	char *ln = path_of(fs, "link"), *hl = path_of(fs, "hard"), *fifo = path_of(fs, "fifo");
	char *dev = path_of(fs, "null");
	/* VFS_CAP_REVISION_2, CAP_NET_BIND_SERVICE permitted */
	static const unsigned char cap[20] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x04};
	CHECK(write_str(f, "#!/bin/sh\necho hi\n") == 0);
	CHECK(chown(f, 1000, 1000) == 0 && chmod(f, 04755) == 0);
	CHECK(setxattr(f, "user.test", "v1", 2, 0) == 0);
	int have_cap = setxattr(f, "security.capability", cap, sizeof(cap), 0) == 0;
	CHECK(mkdir(d, 0750) == 0 && write_str(f2, "x=1\n") == 0);
	CHECK(symlink("../bin", ln) == 0);
	CHECK(link(f, hl) == 0);
	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK(mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0);
	commit_ok(s, "layer", "base");

	int64_t size = 0, inodes = 0;
	CHECK(store_usage(s, "layer", &size, &inodes, &err) == 0);
	CHECK(inodes == 7); /* root, bin(=hard), etc, etc/conf, link, fifo, null */
	CHECK(size > 0);

	m = prep_ok(s, "child", "layer", 0, &n);
	char *cfs = m ? strdup(m->source) : NULL;
	if (m) {
		check_opts(m, "bind", NULL, rbind_rw, 2);
		CHECK(strcmp(m->source, fs) != 0);
	}
	ctrbox_snapshot_mounts_free(m, n);
	if (cfs) {
		char *cf = path_of(cfs, "bin"), *cf2 = path_of(cfs, "etc/conf");
		char *cd = path_of(cfs, "etc"), *cln = path_of(cfs, "link");
		char *chl = path_of(cfs, "hard"), *cfifo = path_of(cfs, "fifo");
		char *cdev = path_of(cfs, "null"), *buf = NULL, target[64] = {0}, x[8] = {0};
		size_t len;
		struct stat st, st2;
		CHECK(ctrbox_read_file(cf, 4096, &buf, &len) == 0);
		CHECK_STR(buf, "#!/bin/sh\necho hi\n");
		free(buf);
		CHECK(lstat(cf, &st) == 0 && (st.st_mode & 07777) == 04755 && st.st_uid == 1000 &&
		      st.st_gid == 1000);
		CHECK(lstat(chl, &st2) == 0 && st2.st_ino == st.st_ino);
		CHECK(lgetxattr(cf, "user.test", x, sizeof(x)) == 2 && memcmp(x, "v1", 2) == 0);
		if (have_cap) {
			unsigned char got[32];
			CHECK(lgetxattr(cf, "security.capability", got, sizeof(got)) ==
			      (ssize_t)sizeof(cap));
		}
		CHECK(lstat(cd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750);
		CHECK(readlink(cln, target, sizeof(target) - 1) == 6);
		CHECK_STR(target, "../bin");
		CHECK(lstat(cfifo, &st) == 0 && S_ISFIFO(st.st_mode));
		CHECK(lstat(cdev, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
		CHECK(ctrbox_read_file(cf2, 4096, &buf, &len) == 0);
		CHECK_STR(buf, "x=1\n");
		free(buf);
		/* usage of an active is measured now */
		CHECK(store_usage(s, "child", &size, &inodes, &err) == 0 && inodes == 7);
		free(cf), free(cf2), free(cd), free(cln), free(chl), free(cfifo), free(cdev);
	}
	/* native view of a parent mounts the parent read-only (native.go) */
	m = prep_ok(s, "view", "layer", 1, &n);
	if (m)
		check_opts(m, "bind", fs, rbind_ro, 2);
	ctrbox_snapshot_mounts_free(m, n);
	CHECK(store_usage(s, "view", &size, &inodes, &err) == 0 && size == 0 && inodes == 0);
	free(cfs);
	free(f), free(d), free(f2), free(ln), free(hl), free(fifo), free(dev), free(fs);
	store_close(s);
out:
	tmp_done(root);
}

void test_snapstore_errors(void)
{
	char *root = tmp_root(), *err = NULL;
	struct store *s = open_store(root, SNAP_OVERLAYFS);
	struct ctrbox_snapshot_mount *m = NULL;
	struct ctrbox_snapshot_info info;
	size_t n = 0;
	int64_t sz, ino;

	if (!s)
		goto out;
	prep_drop(s, "a", "", 0);
	prep_drop(s, "v", "", 1);

	expect(store_prepare(s, "a", "", NULL, 0, 0, &m, &n, &err), 6, &err,
	       "snapshot a: already exists");
	expect(store_prepare(s, "x", "nope", NULL, 0, 0, &m, &n, &err), 5, &err,
	       "missing parent \"nope\" bucket: not found");
	expect(store_prepare(s, "x", "a", NULL, 0, 0, &m, &n, &err), 3, &err,
	       "parent \"a\" is not committed snapshot: invalid argument");
	/* the parent is checked before the key (bolt.go order) */
	expect(store_prepare(s, "a", "nope", NULL, 0, 1, &m, &n, &err), 5, &err, NULL);
	CHECK(m == NULL && n == 0);

	expect(store_mounts(s, "zz", &m, &n, &err), 5, &err, "snapshot does not exist: not found");
	expect(store_commit(s, "c", "zz", NULL, 0, &err), 5, &err,
	       "snapshot does not exist: not found");
	expect(store_commit(s, "c", "v", NULL, 0, &err), 9, &err,
	       "snapshot \"v\" is not active: failed precondition");
	commit_ok(s, "c", "a");
	expect(store_mounts(s, "c", &m, &n, &err), 9, &err,
	       "requested snapshot c not active or view: failed precondition");
	prep_drop(s, "b", "c", 0);
	expect(store_commit(s, "c", "b", NULL, 0, &err), 6, &err,
	       "committed snapshot c: already exists");
	expect(store_remove(s, "c", &err), 9, &err,
	       "cannot remove snapshot with child: failed precondition");
	expect(store_remove(s, "zz", &err), 5, &err, "snapshot zz: not found");
	expect(store_stat(s, "zz", &info, &err), 5, &err, "snapshot does not exist: not found");
	expect(store_usage(s, "zz", &sz, &ino, &err), 5, &err,
	       "snapshot does not exist: not found");
	struct ctrbox_snapshot_info in = {.name = "c"};
	const char *bad[] = {"labels.x", "parent"};
	expect(store_update(s, &in, bad, 2, &info, &err), 3, &err,
	       "cannot update \"parent\" field on snapshot \"c\": invalid argument");
	in.name = "zz";
	expect(store_update(s, &in, NULL, 0, &info, &err), 5, &err,
	       "snapshot does not exist: not found");

	/* keys: empty and oversized are invalid; so are oversized labels */
	char *big = malloc(SNAP_MAX_KEY + 2);
	memset(big, 'k', SNAP_MAX_KEY + 1);
	big[SNAP_MAX_KEY + 1] = '\0';
	expect(store_prepare(s, "", "", NULL, 0, 0, &m, &n, &err), 3, &err, NULL);
	expect(store_prepare(s, big, "", NULL, 0, 0, &m, &n, &err), 3, &err, NULL);
	expect(store_stat(s, "", &info, &err), 3, &err, NULL);
	expect(store_commit(s, big, "b", NULL, 0, &err), 3, &err, NULL);
	big[SNAP_MAX_KEY] = '\0'; /* exactly the maximum is fine */
	prep_drop(s, big, "", 0);
	struct ctrbox_snapshot_label lb = {"big", big};
	expect(store_prepare(s, "y", "", &lb, 1, 0, &m, &n, &err), 3, &err,
	       "info.Labels: label key and value greater than maximum size (4096 bytes), key: "
	       "big: invalid argument");
	free(big);
	store_close(s);
out:
	tmp_done(root);
}

/* Every entry of <root>/snapshots, space separated and sorted by readdir order. */
static int only_numeric_entries(const char *root)
{
	char *dir = path_of(root, "snapshots");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int ok = d != NULL, count = 0;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		count++;
		for (const char *p = de->d_name; *p; p++)
			if (*p < '0' || *p > '9')
				ok = 0;
	}
	if (d)
		closedir(d);
	free(dir);
	return ok ? count : -1;
}

void test_snapstore_keys_paths(void)
{
	char *root = tmp_root(), *err = NULL;
	struct store *s = open_store(root, SNAP_NATIVE);
	const char *keys[] = {"default/1/sha256:abc", "with space", "../../etc", "/abs/../x", ".."};
	size_t n;

	if (!s)
		goto out;
	for (size_t i = 0; i < 5; i++) {
		struct ctrbox_snapshot_mount *m = prep_ok(s, keys[i], "", 0, &n);
		if (m) {
			char *prefix = path_of(root, "snapshots/");
			CHECK(strncmp(m->source, prefix, strlen(prefix)) == 0);
			CHECK(id_of(root, m->source) > 0);
			free(prefix);
		}
		ctrbox_snapshot_mounts_free(m, n);
		struct ctrbox_snapshot_info info;
		CHECK(store_stat(s, keys[i], &info, &err) == 0);
		CHECK_STR(info.name, keys[i]);
		CHECK(info.kind == CTRBOX_SNAPSHOT_ACTIVE);
		ctrbox_snapshot_info_clear(&info);
	}
	CHECK(only_numeric_entries(root) == 5);
	struct stat st;
	char *snaps = path_of(root, "snapshots");
	CHECK(stat(root, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(snaps, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat("/tmp/etc", &st) < 0); /* nothing escaped */
	free(snaps);
	commit_ok(s, "name/with/slashes and spaces", "../../etc");
	CHECK(store_remove(s, "name/with/slashes and spaces", &err) == 0);
	CHECK(only_numeric_entries(root) == 4);
	store_close(s);
out:
	tmp_done(root);
}

static int label_is(const struct ctrbox_snapshot_info *info, const char *k, const char *v)
{
	for (size_t i = 0; i < info->nlabels; i++)
		if (strcmp(info->labels[i].key, k) == 0)
			return v && strcmp(info->labels[i].value, v) == 0;
	return v == NULL;
}

static int count_cb(const struct ctrbox_snapshot_info *info, void *data)
{
	(*(int *)data)++;
	return info->name ? 0 : 1;
}

static int stop_cb(const struct ctrbox_snapshot_info *info, void *data)
{
	(*(int *)data)++;
	return 42;
}

void test_snapstore_labels_update_walk(void)
{
	char *root = tmp_root(), *err = NULL;
	struct store *s = open_store(root, SNAP_OVERLAYFS);
	struct ctrbox_snapshot_mount *m = NULL;
	struct ctrbox_snapshot_info info, out;
	size_t n;

	if (!s)
		goto out;
	struct ctrbox_snapshot_label l0[] = {{"a", "1"}, {"b", "2"}, {"empty", ""}};
	CHECK(store_prepare(s, "k", "", l0, 3, 0, &m, &n, &err) == 0);
	ctrbox_snapshot_mounts_free(m, n);
	CHECK(store_stat(s, "k", &info, &err) == 0);
	CHECK(info.nlabels == 2 && label_is(&info, "a", "1") && label_is(&info, "b", "2"));
	CHECK(label_is(&info, "empty", NULL));
	CHECK(info.created_ns > 0 && info.created_ns == info.updated_ns);
	CHECK_STR(info.parent, "");
	int64_t created = info.created_ns;
	ctrbox_snapshot_info_clear(&info);

	/* commit replaces labels (no inheritance) and resets both timestamps */
	struct ctrbox_snapshot_label l1[] = {{"c", "3"}};
	usleep(1000);
	CHECK(store_commit(s, "base", "k", l1, 1, &err) == 0);
	CHECK(store_stat(s, "base", &info, &err) == 0);
	CHECK(info.kind == CTRBOX_SNAPSHOT_COMMITTED && info.nlabels == 1 &&
	      label_is(&info, "c", "3"));
	CHECK(info.created_ns > created && info.created_ns == info.updated_ns);
	int64_t t0 = info.updated_ns;
	ctrbox_snapshot_info_clear(&info);
	expect(store_stat(s, "k", &info, &err), 5, &err, NULL);

	/* labels.<k>: set from in, delete when absent from in; others untouched */
	struct ctrbox_snapshot_label l2[] = {{"d", "4"}, {"c", "33"}};
	struct ctrbox_snapshot_info in = {.name = "base", .labels = l2, .nlabels = 2};
	const char *p1[] = {"labels.d", "labels.c", "labels.zzz"};
	usleep(1000);
	CHECK(store_update(s, &in, p1, 3, &out, &err) == 0);
	CHECK(out.nlabels == 2 && label_is(&out, "c", "33") && label_is(&out, "d", "4"));
	CHECK(out.updated_ns > t0 && out.created_ns == t0);
	CHECK(out.kind == CTRBOX_SNAPSHOT_COMMITTED);
	ctrbox_snapshot_info_clear(&out);
	in.nlabels = 1; /* only d: labels.c now deletes c */
	const char *p2[] = {"labels.c"};
	CHECK(store_update(s, &in, p2, 1, &out, &err) == 0);
	CHECK(out.nlabels == 1 && label_is(&out, "d", "4"));
	ctrbox_snapshot_info_clear(&out);
	/* "labels" and an empty mask replace them all */
	struct ctrbox_snapshot_label l3[] = {{"x", "1"}};
	in.labels = l3, in.nlabels = 1;
	const char *p3[] = {"labels"};
	CHECK(store_update(s, &in, p3, 1, &out, &err) == 0);
	CHECK(out.nlabels == 1 && label_is(&out, "x", "1"));
	ctrbox_snapshot_info_clear(&out);
	in.nlabels = 0;
	CHECK(store_update(s, &in, NULL, 0, &out, &err) == 0);
	CHECK(out.nlabels == 0);
	ctrbox_snapshot_info_clear(&out);

	/* walk sees everything; a non-zero return stops it */
	prep_drop(s, "child", "base", 0);
	prep_drop(s, "view", "base", 1);
	int count = 0;
	CHECK(store_walk(s, count_cb, &count, &err) == 0 && count == 3);
	count = 0;
	CHECK(store_walk(s, stop_cb, &count, &err) == 42 && count == 1);
	CHECK(store_stat(s, "child", &info, &err) == 0);
	CHECK_STR(info.parent, "base");
	ctrbox_snapshot_info_clear(&info);
	store_close(s);
out:
	tmp_done(root);
}

void test_snapstore_cleanup_reopen(void)
{
	char *root = tmp_root(), *err = NULL;
	struct store *s = open_store(root, SNAP_NATIVE);
	size_t n;

	if (!s)
		goto out;
	struct ctrbox_snapshot_label lb = {"containerd.io/gc.root", "x"};
	struct ctrbox_snapshot_mount *m = NULL;
	CHECK(store_prepare(s, "a", "", &lb, 1, 0, &m, &n, &err) == 0);
	ctrbox_snapshot_mounts_free(m, n);
	CHECK(store_commit(s, "base", "a", &lb, 1, &err) == 0);
	prep_drop(s, "b", "base", 0);
	prep_drop(s, "c", "", 0);
	CHECK(store_remove(s, "c", &err) == 0); /* id 3 gone for good */

	/* what a kill -9 can leave: a temp dir, a half-removed dir, an id without a row */
	const char *orphans[] = {"snapshots/new-abc", "snapshots/rm-5", "snapshots/3",
				 "snapshots/999", "snapshots/0002"};
	for (size_t i = 0; i < 5; i++) {
		char *p = path_of(root, orphans[i]), *q = path_of(p, "fs");
		CHECK(mkdir(p, 0700) == 0 && mkdir(q, 0755) == 0);
		free(p), free(q);
	}
	unsigned removed = 0;
	CHECK(store_cleanup(s, &removed, &err) == 0);
	CHECK(removed == 5);
	CHECK(only_numeric_entries(root) == 2);
	CHECK(store_cleanup(s, &removed, &err) == 0 && removed == 0);
	store_close(s);

	/* reopen: rows, labels, kinds and directories all still there */
	s = open_store(root, SNAP_NATIVE);
	if (!s)
		goto out;
	struct ctrbox_snapshot_info info;
	CHECK(store_stat(s, "base", &info, &err) == 0);
	CHECK(info.kind == CTRBOX_SNAPSHOT_COMMITTED &&
	      label_is(&info, "containerd.io/gc.root", "x"));
	ctrbox_snapshot_info_clear(&info);
	CHECK(store_stat(s, "b", &info, &err) == 0);
	CHECK(info.kind == CTRBOX_SNAPSHOT_ACTIVE);
	CHECK_STR(info.parent, "base");
	ctrbox_snapshot_info_clear(&info);
	CHECK(store_mounts(s, "b", &m, &n, &err) == 0 && n == 1);
	struct stat st;
	CHECK(m && stat(m->source, &st) == 0 && S_ISDIR(st.st_mode));
	ctrbox_snapshot_mounts_free(m, n);
	/* a new snapshot never reuses the removed id 3; a stale "4" (left by an insert that was
	 * rolled back after its rename) is replaced, not merged */
	char *stale = path_of(root, "snapshots/4"), *stale_fs = path_of(root, "snapshots/4/fs");
	char *stale_f = path_of(root, "snapshots/4/fs/stale");
	CHECK(mkdir(stale, 0700) == 0 && mkdir(stale_fs, 0755) == 0);
	CHECK(ctrbox_write_file(stale_f, "x", 1, 0644) == 0);
	m = prep_ok(s, "d", "", 0, &n);
	CHECK(m && id_of(root, m->source) == 4);
	CHECK(access(stale_f, F_OK) < 0 && errno == ENOENT);
	ctrbox_snapshot_mounts_free(m, n);
	free(stale), free(stale_fs), free(stale_f);
	CHECK(store_remove(s, "b", &err) == 0);
	CHECK(store_remove(s, "base", &err) == 0);
	CHECK(only_numeric_entries(root) == 1);
	store_close(s);
out:
	tmp_done(root);
}

void test_snapstore_default_backend(void)
{
	char *root = tmp_root();
	enum snap_backend b = store_default_backend(root);

	CHECK(b == SNAP_OVERLAYFS || b == SNAP_NATIVE);
	CHECK_STR(store_backend_name(SNAP_OVERLAYFS), "overlayfs");
	CHECK_STR(store_backend_name(SNAP_NATIVE), "native");
	/* the probe leaves nothing behind */
	DIR *d = root ? opendir(root) : NULL;
	struct dirent *de;
	int entries = 0;
	while (d && (de = readdir(d)))
		entries += de->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(entries == 0);
	tmp_done(root);
}

/* ---- filters ---- */

static struct ctrbox_snapshot_filter *parse_ok(const char *const *f, size_t n)
{
	struct ctrbox_snapshot_filter *out = NULL;
	char *err = NULL;
	int r = ctrbox_snapshot_filter_parse(f, n, &out, &err);

	CHECK(r == 0);
	if (r)
		fprintf(stderr, "  parse %s: %s\n", n ? f[0] : "", err ? err : "");
	free(err);
	return out;
}

static int matches1(const char *filter, const struct ctrbox_snapshot_info *info)
{
	struct ctrbox_snapshot_filter *f = parse_ok(&filter, 1);
	int m = f ? ctrbox_snapshot_filter_match(f, info) : -1;

	ctrbox_snapshot_filter_free(f);
	return m;
}

void test_snapfilter_match(void)
{
	struct ctrbox_snapshot_label labels[] = {
	    {"containerd.io/snapshot.ref", "sha256:abc"},
	    {"a.b", "dotted"},
	    {"plain", "v 1"},
	};
	struct ctrbox_snapshot_info info = {.name = "default/3/sha256:abc",
					    .parent = "sha256:parent",
					    .kind = CTRBOX_SNAPSHOT_COMMITTED,
					    .labels = labels,
					    .nlabels = 3};
	struct ctrbox_snapshot_info bare = {
	    .name = "k", .parent = "", .kind = CTRBOX_SNAPSHOT_ACTIVE};

	CHECK(matches1("", &info) == 1);
	CHECK(matches1("kind==committed", &info) == 1);
	CHECK(matches1("kind==Committed", &info) == 0);
	CHECK(matches1("kind==active", &bare) == 1);
	CHECK(matches1("kind!=view", &bare) == 1);
	CHECK(matches1("name==\"default/3/sha256:abc\"", &info) == 1);
	CHECK(matches1("name==default/3/sha256:abc", &info) == 1); /* bare values may hold '/' */
	CHECK(matches1("name!=k", &info) == 1);
	CHECK(matches1("name~=^default/[0-9]+/", &info) == 1);
	CHECK(matches1("name~=/sha256:a.c$/", &info) == 1);
	CHECK(matches1("name~=\"^k$\"", &bare) == 1);
	CHECK(matches1("name~=^x", &bare) == 0);
	CHECK(matches1("name~=(", &bare) == 0); /* bad regexp: matches nothing */
	/* containerd's own adoption query */
	CHECK(
	    matches1("labels.\"containerd.io/snapshot.ref\"==sha256:abc,parent==\"sha256:parent\"",
		     &info) == 1);
	CHECK(matches1("labels.\"containerd.io/snapshot.ref\"==sha256:abc,parent==\"other\"",
		       &info) == 0);
	/* presence; dotted label keys either quoted or spelled as a path */
	CHECK(matches1("labels.\"a.b\"", &info) == 1);
	CHECK(matches1("labels.a.b==dotted", &info) == 1);
	CHECK(matches1("labels.plain==\"v 1\"", &info) == 1);
	CHECK(matches1("labels.missing", &info) == 0);
	CHECK(matches1("labels.plain", &bare) == 0);
	CHECK(matches1("parent", &bare) == 1); /* parent is always present, maybe "" */
	CHECK(matches1("parent==\"\"", &bare) == 1);
	CHECK(matches1("unknown", &info) == 0);
	CHECK(matches1("unknown==x", &info) == 0);
	CHECK(matches1("unknown!=x", &info) == 1); /* containerd: "" != "x" */

	/* OR across strings, AND within one */
	const char *any[] = {"name==nope", "kind==active"};
	struct ctrbox_snapshot_filter *f = parse_ok(any, 2);
	CHECK(f && ctrbox_snapshot_filter_match(f, &bare) == 1 &&
	      ctrbox_snapshot_filter_match(f, &info) == 0);
	ctrbox_snapshot_filter_free(f);
	const char *all[] = {"kind==active,name==k,parent==\"\""};
	f = parse_ok(all, 1);
	CHECK(f && ctrbox_snapshot_filter_match(f, &bare) == 1);
	ctrbox_snapshot_filter_free(f);
	const char *all2[] = {"kind==active,name==x"};
	f = parse_ok(all2, 1);
	CHECK(f && ctrbox_snapshot_filter_match(f, &bare) == 0);
	ctrbox_snapshot_filter_free(f);
	f = parse_ok(NULL, 0);
	CHECK(f && ctrbox_snapshot_filter_match(f, &info) == 1);
	ctrbox_snapshot_filter_free(f);
	/* escapes in quoted values */
	struct ctrbox_snapshot_label el[] = {{"q", "a\"b\tc\xc3\xa9"}};
	struct ctrbox_snapshot_info einfo = {
	    .name = "e", .parent = "", .kind = CTRBOX_SNAPSHOT_VIEW, .labels = el, .nlabels = 1};
	CHECK(matches1("labels.q==\"a\\\"b\\tc\\u00e9\"", &einfo) == 1);
	CHECK(matches1("labels.q==\"a\\x22b\\011c\\xc3\\xa9\"", &einfo) == 1);
}

static void parse_err(const char *filter, const char *msg)
{
	struct ctrbox_snapshot_filter *f = NULL;
	char *err = NULL;

	CHECK(ctrbox_snapshot_filter_parse(&filter, 1, &f, &err) == 3);
	CHECK(f == NULL);
	CHECK(err && strstr(err, "invalid argument") != NULL);
	if (msg)
		CHECK_STR(err, msg);
	free(err);
}

void test_snapfilter_errors(void)
{
	parse_err("name==",
		  "filters: parse error: [name==]: expected value or quoted: invalid argument");
	parse_err("name=x", "filters: parse error: [name >|=|< x]: unsupported operator \"=\": "
			    "invalid argument");
	parse_err("name x", "filters: parse error: [name  >|x|< ]: expected an operator "
			    "(\"==\"|\"!=\"|\"~=\"): invalid argument");
	parse_err(",name", "filters: parse error: [ >|,|< name]: expected field or quoted: invalid "
			   "argument");
	parse_err("name==a b", "filters: parse error: [name==a >| |< b]: unexpected input:  : "
			       "invalid argument");
	parse_err("name==\"abc", NULL);
	parse_err("name==\"a\\qb\"",
		  "filters: parse error: [name== >|\"|< a\\qb\"]: illegal escape "
		  "sequence: invalid argument");
	parse_err("name==/abc/", "filters: parse error: [name== >|/|< abc/]: invalid quote "
				 "encountered: invalid argument");
	parse_err("labels.", NULL);
	parse_err("name==x,", NULL);
	parse_err("name===x", NULL);
	parse_err("@name", NULL);
	parse_err("name==\"x\"y", NULL);
	/* one bad string among good ones fails the whole parse */
	const char *two[] = {"name==a", "kind=="};
	struct ctrbox_snapshot_filter *f = NULL;
	char *err = NULL;
	CHECK(ctrbox_snapshot_filter_parse(two, 2, &f, &err) == 3 && f == NULL);
	CHECK(err && strstr(err, "[kind==]") != NULL);
	free(err);
}

/* The snapshots crate's entry points: an incomplete ops table is refused, the socket is
 * owner-only, a live server's socket is refused and a stale one replaced; the free helpers take
 * NULL. */
static int no_stat(void *impl, const char *key, struct ctrbox_snapshot_info *out, char **err)
{
	return CTRBOX_NOT_FOUND;
}

UNIT_TEST(test_snapshots_crate_entry_points)
{
	struct ctrbox_loop *l = NULL;
	struct ctrbox_grpc_server *srv = NULL;
	struct ctrbox_snapshotter_ops ops = {0};
	struct ctrbox_snapshotter sn = {&ops, NULL};
	struct stat st;
	char dir[] = "/tmp/ctrbox-snapcrate-XXXXXX", path[64];
	CHECK(ctrbox_loop_new(&l) == 0 && ctrbox_grpc_server_new(l, &srv) == 0);
	CHECK(ctrbox_snapshotter_register(srv, &sn) == -EINVAL);
	ops.stat = no_stat;
	CHECK(ctrbox_snapshotter_register(srv, &sn) == -EINVAL); /* the rest still missing */
	CHECK(ctrbox_snapshotter_register(srv, NULL) == -EINVAL);
	ctrbox_grpc_server_free(srv);
	ctrbox_loop_free(l);

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	int fd = ctrbox_snapshotter_listen(path);
	CHECK(fd >= 0 && stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(ctrbox_snapshotter_listen(path) == -EADDRINUSE);
	close(fd); /* now stale: replaced */
	fd = ctrbox_snapshotter_listen(path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(ctrbox_snapshotter_listen("") == -EINVAL);
	unlink(path);
	rmdir(dir);

	ctrbox_snapshot_info_clear(NULL);
	ctrbox_snapshot_mounts_free(NULL, 3);
}
