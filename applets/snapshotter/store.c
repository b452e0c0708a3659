/* Snapshot store: SQLite metadata plus <root>/snapshots/<id>/{fs,work}, crash-safe ordering. */
/*
 * Crash safety rests on one invariant: a committed metadata row always has its directory.
 * New directories are built under "new-XXXXXX", renamed to "<id>" and the rename made durable
 * (fsync of the snapshots dir) before the inserting transaction commits; removals commit first
 * and delete the directory afterwards. Whatever a kill -9 leaves behind is a
 * directory without a row, which store_cleanup removes.
 *
 * Messages follow containerd's snapshots/storage (bolt.go) wording with the errdefs suffix
 * (": not found", ...); the overlay/native snapshotters' outer prefixes ("failed to create
 * snapshot: ") are left to the caller.
 */
#include "snapshotter/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <sqlite3.h>

#include <ctrbox/log.h>
#include <ctrbox/util.h>

#define SCHEMA_VERSION 1

/* Prepared statements, kept for the store's life (keyed by the address of their SQL text: every
 * caller passes a string literal). Parsing the SQL again on every call was most of the store's
 * user time. */
#define STMT_CACHE 32

struct store {
	char *root;
	char *snapdir; /* root/snapshots */
	int snapfd;    /* snapdir, open for the fsyncs that make a new directory's name durable */
	sqlite3 *db;
	enum snap_backend backend;
	int index_off; /* overlay's "index=off": /sys/module/overlay/parameters/index exists */
	int mode_ok;   /* the umask leaves 0755 and 0711 alone: mkdir needs no chmod after it */
	int own_ok;    /* snapdir is not set-gid: a new directory is owned by uid:gid */
	dev_t dev;     /* snapdir's filesystem: removals stay on it */
	uid_t uid;     /* the effective ids */
	gid_t gid;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	size_t ncache;
};

/* One metadata row, as the store reads it back. */
struct row {
	int64_t id;
	int64_t parent_id; /* 0 = none */
	int kind;
	int64_t created_ns, updated_ns, size, inodes;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS snapshots("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " key TEXT UNIQUE NOT NULL,"
    " parent_id INTEGER REFERENCES snapshots(id),"
    " kind INTEGER NOT NULL,"
    " created_ns INTEGER NOT NULL,"
    " updated_ns INTEGER NOT NULL,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " inodes INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id);"
    "CREATE TABLE IF NOT EXISTS labels("
    " snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY(snapshot_id, key)) WITHOUT ROWID;";

__attribute__((format(printf, 3, 4))) static int fail(char **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (err) {
		free(*err);
		*err = m;
	} else {
		free(m);
	}
	return code;
}

static int db_fail(struct store *s, char **err, const char *what)
{
	return fail(err, 13, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int sys_fail(char **err, int e, const char *what, const char *path)
{
	return fail(err, 13, "%s %s: %s", what, path, strerror(e < 0 ? -e : e));
}

/* Go's %q for the messages that use it: printable ASCII and UTF-8 kept, the rest escaped. */
static char *goquote(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n * 4 + 3), *p = out;

	if (!out)
		return NULL;
	*p++ = '"';
	for (const unsigned char *c = (const unsigned char *)in; *c; c++) {
		static const char named[] = "\a\b\f\n\r\t\v", letter[] = "abfnrtv";
		const char *e = strchr(named, *c);
		if (*c == '"' || *c == '\\') {
			*p++ = '\\', *p++ = *c;
		} else if (e) {
			*p++ = '\\', *p++ = letter[e - named];
		} else if (*c < 0x20 || *c == 0x7f) {
			p += sprintf(p, "\\x%02x", *c);
		} else {
			*p++ = *c;
		}
	}
	*p++ = '"';
	*p = '\0';
	return out;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int check_key(const char *key, const char *what, char **err)
{
	if (!key || !*key)
		return fail(err, 3, "%s must not be empty: invalid argument", what);
	if (strlen(key) > SNAP_MAX_KEY)
		return fail(err, 3, "%s longer than %d bytes: invalid argument", what,
			    SNAP_MAX_KEY);
	return 0;
}

/* containerd's labels.Validate, as wrapped by metadata's validateSnapshot. */
static int check_labels(const struct ctrbox_snapshot_label *l, size_t n, char **err)
{
	for (size_t i = 0; i < n; i++) {
		if (!l[i].key || !l[i].value)
			return fail(err, 3, "info.Labels: missing key or value: invalid argument");
		if (strlen(l[i].key) + strlen(l[i].value) > SNAP_MAX_LABEL)
			return fail(
			    err, 3,
			    "info.Labels: label key and value greater than maximum size (%d "
			    "bytes), key: %.10s: invalid argument",
			    SNAP_MAX_LABEL, l[i].key);
	}
	return 0;
}

/* ---- paths ---- */

static char *id_path(const struct store *s, int64_t id, const char *sub)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%lld%s%s", s->snapdir, (long long)id, sub ? "/" : "", sub ? sub : "") <
	    0)
		return NULL;
	return p;
}

/* Removes path (a file or a directory tree) under dfd, staying on dfd's filesystem (a mount
 * point in the tree is left alone, as nftw's FTW_MOUNT did). The snapshot layouts are nearly
 * always empty directories, which the first unlinkat removes. 0, or -errno of the first failure;
 * a missing path is 0. */
static int rm_at(int dfd, const char *name, dev_t dev)
{
	if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	if (errno == ENOTDIR)
		return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -errno;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return -errno;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (st.st_dev != dev)
		return -EXDEV;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int e =
		    de->d_type == DT_DIR || de->d_type == DT_UNKNOWN
			? rm_at(dirfd(d), de->d_name, dev)
			: (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT ? 0 : -errno);
		if (e < 0 && r == 0)
			r = e;
	}
	closedir(d);
	if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

/* rm_at for a name directly under snapdir (the snapshots' own filesystem). */
static int rm_snap(const struct store *s, const char *name)
{
	return rm_at(s->snapfd, name, s->dev);
}

/* ---- disk usage (continuity's fs.DiskUsage: st_blocks*512, every inode once) ---- */

struct inode_set {
	struct {
		dev_t dev;
		ino_t ino;
	} * v;
	size_t n, cap;
};

/* Returns 1 if (dev, ino) was new (and records it), 0 if seen, -ENOMEM. */
static int inode_add(struct inode_set *set, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].dev == dev && set->v[i].ino == ino)
			return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		void *nv = realloc(set->v, cap * sizeof(*set->v));
		if (!nv)
			return -ENOMEM;
		set->v = nv, set->cap = cap;
	}
	set->v[set->n].dev = dev, set->v[set->n].ino = ino;
	set->n++;
	return 1;
}

struct du {
	int64_t size, inodes;
	struct inode_set links; /* only multiply-linked non-directories need remembering */
};

static int du_walk(int at, const char *name, struct du *du)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	int isnew = 1;
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
		isnew = inode_add(&du->links, st.st_dev, st.st_ino);
	if (isnew < 0)
		return isnew;
	if (isnew) {
		du->size += (int64_t)st.st_blocks * 512;
		du->inodes++;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;

	/* getdents64 straight into a buffer: fdopendir's fstat and two fcntls per directory were
	 * a tenth of a Commit's system calls */
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	enum { DENTS = 8192 };
	char *buf = malloc(DENTS);
	int r = buf ? 0 : -ENOMEM;
	while (r == 0) {
		ssize_t n = getdents64(fd, buf, DENTS);
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		for (ssize_t off = 0; r == 0 && off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			off += de->d_reclen;
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				r = du_walk(fd, de->d_name, du);
		}
	}
	free(buf);
	close(fd);
	return r;
}

static int disk_usage(const char *path, int64_t *size, int64_t *inodes)
{
	struct du du = {0};
	int r = du_walk(AT_FDCWD, path, &du);

	free(du.links.v);
	*size = du.size, *inodes = du.inodes;
	return r;
}

/* ---- native copy (continuity's fs.CopyDir) ---- */

struct link_map {
	struct {
		dev_t dev;
		ino_t ino;
		char *path;
	} * v;
	size_t n, cap;
};

static const char *link_find(const struct link_map *m, const struct stat *st)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].dev == st->st_dev && m->v[i].ino == st->st_ino)
			return m->v[i].path;
	return NULL;
}

static int link_add(struct link_map *m, const struct stat *st, const char *path)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		void *nv = realloc(m->v, cap * sizeof(*m->v));
		if (!nv)
			return -ENOMEM;
		m->v = nv, m->cap = cap;
	}
	if (!(m->v[m->n].path = strdup(path)))
		return -ENOMEM;
	m->v[m->n].dev = st->st_dev, m->v[m->n].ino = st->st_ino;
	m->n++;
	return 0;
}

/* xattrs that cannot be set (security.* without privilege, ...) are skipped, as containerd's
 * native snapshotter does with its xattr error handler. */
static int copy_xattrs(const char *src, const char *dst)
{
	ssize_t n = llistxattr(src, NULL, 0);

	if (n < 0)
		return errno == ENOTSUP ? 0 : -errno;
	if (n == 0)
		return 0;
	char *names = malloc(n);
	if (!names)
		return -ENOMEM;
	n = llistxattr(src, names, n);
	for (ssize_t off = 0; n > 0 && off < n; off += strlen(names + off) + 1) {
		const char *name = names + off;
		ssize_t vn = lgetxattr(src, name, NULL, 0);
		if (vn < 0)
			continue;
		char *val = malloc(vn ? vn : 1);
		if (!val)
			break;
		vn = lgetxattr(src, name, val, vn);
		if (vn >= 0)
			(void)lsetxattr(dst, name, val, vn, 0);
		free(val);
	}
	free(names);
	return 0;
}

/* Owner, mode, xattrs, times: in that order, since chown clears set-id bits and
 * security.capability. */
static int copy_meta(const char *src, const char *dst, const struct stat *st)
{
	if (lchown(dst, st->st_uid, st->st_gid) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode) && chmod(dst, st->st_mode & 07777) < 0)
		return -errno;
	int r = copy_xattrs(src, dst);
	if (r < 0)
		return r;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, r = 0;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			break;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
			r = -errno;
			goto out;
		}
		/* fall back to read/write from wherever copy_file_range stopped */
		char buf[65536];
		while ((n = read(in, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || (r = ctrbox_write_all(out, buf, n)) < 0) {
				r = r < 0 ? r : -errno;
				goto out;
			}
		}
		break;
	}
out:
	if (out >= 0 && close(out) < 0 && r == 0)
		r = -errno;
	close(in);
	return r;
}

static int copy_tree(const char *src, const char *dst, struct link_map *links);

static int copy_entry(const char *src, const char *dst, struct link_map *links)
{
	struct stat st;
	int r = 0;

	if (lstat(src, &st) < 0)
		return -errno;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		if (mkdir(dst, 0700) < 0)
			return -errno;
		if ((r = copy_tree(src, dst, links)) < 0)
			return r;
		break;
	case S_IFREG: {
		const char *first = st.st_nlink > 1 ? link_find(links, &st) : NULL;
		if (first)
			return link(first, dst) < 0 ? -errno : 0;
		if ((r = copy_file(src, dst)) < 0)
			return r;
		if (st.st_nlink > 1 && (r = link_add(links, &st, dst)) < 0)
			return r;
		break;
	}
	case S_IFLNK: {
		char *target = malloc(st.st_size + 1);
		if (!target)
			return -ENOMEM;
		ssize_t n = readlink(src, target, st.st_size + 1);
		if (n < 0 || n > st.st_size) {
			r = n < 0 ? -errno : -ENAMETOOLONG;
			free(target);
			return r;
		}
		target[n] = '\0';
		r = symlink(target, dst) < 0 ? -errno : 0;
		free(target);
		if (r < 0)
			return r;
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		if (mknod(dst, st.st_mode, S_ISFIFO(st.st_mode) ? 0 : st.st_rdev) < 0)
			return -errno;
		break;
	default: /* sockets belong to a running process, not to a layer */
		return 0;
	}
	return copy_meta(src, dst, &st);
}

/* Copies the contents of directory src into the existing directory dst. */
static int copy_tree(const char *src, const char *dst, struct link_map *links)
{
	DIR *d = opendir(src);
	int r = 0;

	if (!d)
		return -errno;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		const char *sp[] = {src, de->d_name}, *dp[] = {dst, de->d_name};
		char *s = ctrbox_path_join(sp, 2), *t = ctrbox_path_join(dp, 2);
		r = s && t ? copy_entry(s, t, links) : -ENOMEM;
		free(s);
		free(t);
	}
	closedir(d);
	return r;
}

/* Makes dst (an existing empty directory) a copy of the directory src, root included. */
static int copy_dir(const char *src, const char *dst)
{
	struct link_map links = {0};
	struct stat st;
	int r = lstat(src, &st) < 0 ? -errno : 0;

	if (r == 0)
		r = copy_tree(src, dst, &links);
	if (r == 0)
		r = copy_meta(src, dst, &st);
	for (size_t i = 0; i < links.n; i++)
		free(links.v[i].path);
	free(links.v);
	return r;
}

/* ---- SQL helpers ---- */

static int exec(struct store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* The cached statement for sql (a string literal), reset; NULL if it does not prepare. Callers
 * end with done(). */
static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].st);
			return s->cache[i].st;
		}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return NULL;
	if (s->ncache < STMT_CACHE) {
		s->cache[s->ncache].sql = sql;
		s->cache[s->ncache++].st = st;
	}
	return st;
}

/* Ends a use of a statement from prep (a statement left running would hold its read open). */
static void done(struct store *s, sqlite3_stmt *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st); /* the cache was full */
}

/* Runs a statement without parameters or rows (BEGIN, COMMIT, ROLLBACK). */
static int run(struct store *s, const char *sql)
{
	sqlite3_stmt *st = prep(s, sql);

	if (!st)
		return SQLITE_ERROR;
	int rc = sqlite3_step(st);
	done(s, st); /* keeps the error message for db_fail */
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int begin(struct store *s, char **err)
{
	if (run(s, "BEGIN IMMEDIATE") != SQLITE_OK)
		return db_fail(s, err, "begin transaction");
	return 0;
}

static void rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run(s, "ROLLBACK");
}

static int commit(struct store *s, char **err)
{
	if (run(s, "COMMIT") != SQLITE_OK) {
		int r = db_fail(s, err, "commit failed");
		rollback(s);
		return r;
	}
	return 0;
}

#define ROW_COLS "id, IFNULL(parent_id, 0), kind, created_ns, updated_ns, size, inodes"

static void read_row(sqlite3_stmt *st, int col, struct row *r)
{
	r->id = sqlite3_column_int64(st, col);
	r->parent_id = sqlite3_column_int64(st, col + 1);
	r->kind = sqlite3_column_int(st, col + 2);
	r->created_ns = sqlite3_column_int64(st, col + 3);
	r->updated_ns = sqlite3_column_int64(st, col + 4);
	r->size = sqlite3_column_int64(st, col + 5);
	r->inodes = sqlite3_column_int64(st, col + 6);
}

/* 1 found, 0 not found, <0 SQLite failure (message in *err). */
static int lookup(struct store *s, const char *key, struct row *r, char **err)
{
	sqlite3_stmt *st = prep(s, "SELECT " ROW_COLS " FROM snapshots WHERE key = ?");
	int found;

	if (!st)
		return -db_fail(s, err, "lookup");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, 0, r);
		found = 1;
	} else if (rc == SQLITE_DONE) {
		found = 0;
	} else {
		found = -db_fail(s, err, "lookup");
	}
	done(s, st);
	return found;
}

static int parent_of(struct store *s, int64_t id, int64_t *parent)
{
	sqlite3_stmt *st = prep(s, "SELECT IFNULL(parent_id, 0) FROM snapshots WHERE id = ?");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	*parent = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	done(s, st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Parent ids, nearest first (*ids malloc'd). */
static int parent_chain(struct store *s, int64_t parent, int64_t **ids, size_t *n, char **err)
{
	*ids = NULL, *n = 0;
	while (parent) {
		int64_t *nv = realloc(*ids, (*n + 1) * sizeof(**ids));
		if (!nv) {
			free(*ids), *ids = NULL;
			return fail(err, 13, "out of memory");
		}
		*ids = nv;
		(*ids)[(*n)++] = parent;
		if (parent_of(s, parent, &parent) < 0) {
			free(*ids), *ids = NULL;
			return fail(err, 5, "missing parent: not found");
		}
	}
	return 0;
}

/* Replaces the labels of id by l. bolt's writeMap stores no empty value, so an empty value
 * removes the key; entries apply in order (a later duplicate wins). */
static int put_labels(struct store *s, int64_t id, const struct ctrbox_snapshot_label *l, size_t n,
		      int fresh)
{
	sqlite3_stmt *del = fresh ? NULL : prep(s, "DELETE FROM labels WHERE snapshot_id = ?");
	sqlite3_stmt *ins =
	    prep(s, "INSERT OR REPLACE INTO labels(snapshot_id, key, value) VALUES(?, ?, ?)");
	sqlite3_stmt *rm = prep(s, "DELETE FROM labels WHERE snapshot_id = ? AND key = ?");
	int ok = (fresh || del) && ins && rm;

	if (ok && !fresh) {
		sqlite3_bind_int64(del, 1, id);
		ok = sqlite3_step(del) == SQLITE_DONE;
	}
	for (size_t i = 0; ok && i < n; i++) {
		sqlite3_stmt *st = *l[i].value ? ins : rm;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, l[i].key, -1, SQLITE_STATIC);
		if (*l[i].value)
			sqlite3_bind_text(st, 3, l[i].value, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	done(s, del);
	done(s, ins);
	done(s, rm);
	return ok ? 0 : -1;
}

static int get_labels(struct store *s, int64_t id, struct ctrbox_snapshot_label **out, size_t *nout)
{
	sqlite3_stmt *st =
	    prep(s, "SELECT key, value FROM labels WHERE snapshot_id = ? ORDER BY key");
	struct ctrbox_snapshot_label *v = NULL;
	size_t n = 0;
	int rc = SQLITE_ERROR;

	*out = NULL, *nout = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctrbox_snapshot_label *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n].key = strdup((const char *)sqlite3_column_text(st, 0));
		v[n].value = strdup((const char *)sqlite3_column_text(st, 1));
		n++;
		if (!v[n - 1].key || !v[n - 1].value)
			break;
	}
	done(s, st);
	*out = v, *nout = n;
	return rc == SQLITE_DONE ? 0 : -1;
}

static enum ctrbox_snapshot_kind kind_of(int k)
{
	return k == CTRBOX_SNAPSHOT_VIEW || k == CTRBOX_SNAPSHOT_ACTIVE ||
		       k == CTRBOX_SNAPSHOT_COMMITTED
		   ? (enum ctrbox_snapshot_kind)k
		   : CTRBOX_SNAPSHOT_UNKNOWN;
}

static char *key_of(struct store *s, int64_t id)
{
	sqlite3_stmt *st = prep(s, "SELECT key FROM snapshots WHERE id = ?");
	char *k = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		k = strdup((const char *)sqlite3_column_text(st, 0));
	done(s, st);
	return k;
}

static int fill_info(struct store *s, const char *key, const struct row *r,
		     struct ctrbox_snapshot_info *out, char **err)
{
	memset(out, 0, sizeof(*out));
	out->name = strdup(key);
	out->parent = r->parent_id ? key_of(s, r->parent_id) : strdup("");
	out->kind = kind_of(r->kind);
	out->created_ns = r->created_ns;
	out->updated_ns = r->updated_ns;
	int lr = get_labels(s, r->id, &out->labels, &out->nlabels);
	if (!out->name || !out->parent || lr < 0) {
		ctrbox_snapshot_info_clear(out);
		return fail(err, 13, "failed to read snapshot %s", key);
	}
	return 0;
}

/* ---- mounts ---- */

static int mount_set(struct ctrbox_snapshot_mount *m, const char *type, char *source, char **opts,
		     size_t nopts)
{
	m->type = strdup(type);
	m->source = source;
	m->options = opts;
	m->noptions = nopts;
	return m->type && m->source ? 0 : -1;
}

static char **opts_of(size_t n, ...)
{
	char **o = calloc(n ? n : 1, sizeof(char *));
	va_list ap;

	if (!o)
		return NULL;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		o[i] = va_arg(ap, char *);
	va_end(ap);
	for (size_t i = 0; i < n; i++)
		if (!o[i]) {
			for (size_t j = 0; j < n; j++)
				free(o[j]);
			free(o);
			return NULL;
		}
	return o;
}

/* containerd's native snapshotter: bind, options {"rbind", rw|ro}; a view of a parent mounts the
 * parent itself. */
static int mounts_native(struct store *s, int64_t id, int kind, const int64_t *parents,
			 size_t nparents, struct ctrbox_snapshot_mount *m)
{
	int64_t src = kind == CTRBOX_SNAPSHOT_VIEW && nparents ? parents[0] : id;
	char **o = opts_of(2, strdup("rbind"), strdup(kind == CTRBOX_SNAPSHOT_VIEW ? "ro" : "rw"));

	if (!o)
		return -1;
	return mount_set(m, "bind", id_path(s, src, "fs"), o, 2);
}

static char *lowerdir(struct store *s, const int64_t *parents, size_t n)
{
	size_t len = strlen("lowerdir=") + 1;
	char **p = calloc(n, sizeof(char *));
	char *out = NULL;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!(p[i] = id_path(s, parents[i], "fs")))
			goto out;
		len += strlen(p[i]) + 1;
	}
	if (!(out = malloc(len)))
		goto out;
	strcpy(out, "lowerdir=");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, ":");
		strcat(out, p[i]);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	free(p);
	return out;
}

static char *prefixed(const char *prefix, char *path)
{
	char *r = NULL;

	if (path && asprintf(&r, "%s%s", prefix, path) < 0)
		r = NULL;
	free(path);
	return r;
}

/* containerd's overlay snapshotter (overlay.go mounts()); "userxattr" is never added: ctrbox runs
 * as real root, where containerd's NeedsUserXAttr is false. */
static int mounts_overlay(struct store *s, int64_t id, int kind, const int64_t *parents,
			  size_t nparents, struct ctrbox_snapshot_mount *m)
{
	if (nparents == 0 || (kind == CTRBOX_SNAPSHOT_VIEW && nparents == 1)) {
		int64_t src = nparents ? parents[0] : id;
		char **o =
		    opts_of(2, strdup(kind == CTRBOX_SNAPSHOT_VIEW ? "ro" : "rw"), strdup("rbind"));
		if (!o)
			return -1;
		return mount_set(m, "bind", id_path(s, src, "fs"), o, 2);
	}
	char *opt[4];
	size_t n = 0;
	if (s->index_off)
		opt[n++] = strdup("index=off");
	if (kind == CTRBOX_SNAPSHOT_ACTIVE) {
		opt[n++] = prefixed("workdir=", id_path(s, id, "work"));
		opt[n++] = prefixed("upperdir=", id_path(s, id, "fs"));
	}
	opt[n++] = lowerdir(s, parents, nparents);
	char **o = n == 4   ? opts_of(4, opt[0], opt[1], opt[2], opt[3])
		   : n == 3 ? opts_of(3, opt[0], opt[1], opt[2])
		   : n == 2 ? opts_of(2, opt[0], opt[1])
			    : opts_of(1, opt[0]);
	if (!o)
		return -1;
	return mount_set(m, "overlay", strdup("overlay"), o, n);
}

static int make_mounts(struct store *s, int64_t id, int kind, int64_t parent,
		       struct ctrbox_snapshot_mount **mounts, size_t *nmounts, char **err)
{
	int64_t *parents;
	size_t np;
	int r = parent_chain(s, parent, &parents, &np, err);

	*mounts = NULL, *nmounts = 0;
	if (r)
		return r;
	struct ctrbox_snapshot_mount *m = calloc(1, sizeof(*m));
	if (m)
		r = s->backend == SNAP_NATIVE ? mounts_native(s, id, kind, parents, np, m)
					      : mounts_overlay(s, id, kind, parents, np, m);
	free(parents);
	if (!m || r < 0) {
		ctrbox_snapshot_mounts_free(m, 1);
		return fail(err, 13, "out of memory");
	}
	*mounts = m, *nmounts = 1;
	return 0;
}

/* ---- open / close ---- */

static int init_schema(struct store *s, char **err)
{
	int version = 0;
	/* One process owns the store: an exclusive lock (held until close; the kernel drops it
	 * when a killed snapshotter dies) keeps a second one out and spares the per-transaction
	 * lock calls and the WAL index in shared memory. */
	if (exec(s, "PRAGMA locking_mode=EXCLUSIVE") != SQLITE_OK)
		return db_fail(s, err,
			       "configure metadata (is another snapshotter using this root?)");
	sqlite3_stmt *st = prep(s, "PRAGMA user_version");

	if (st && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	done(s, st);
	if (!st)
		return db_fail(s, err, "read schema version");
	if (version > SCHEMA_VERSION)
		return fail(err, 13, "metadata schema version %d is newer than supported (%d)",
			    version, SCHEMA_VERSION);
	if (exec(s, "PRAGMA journal_mode=WAL") != SQLITE_OK ||
	    exec(s, "PRAGMA synchronous=FULL") != SQLITE_OK ||
	    exec(s, "PRAGMA foreign_keys=ON") != SQLITE_OK)
		return db_fail(s, err,
			       "configure metadata (is another snapshotter using this root?)");
	if (exec(s, "BEGIN IMMEDIATE") != SQLITE_OK || exec(s, "COMMIT") != SQLITE_OK)
		return fail(err, 13, "metadata %s: %s (is another snapshotter using this root?)",
			    "lock", sqlite3_errmsg(s->db));
	if (version == SCHEMA_VERSION)
		return 0;
	int r = begin(s, err);
	if (r)
		return r;
	char ver[64];
	snprintf(ver, sizeof(ver), "PRAGMA user_version=%d", SCHEMA_VERSION);
	if (exec(s, schema_sql) != SQLITE_OK || exec(s, ver) != SQLITE_OK) {
		r = db_fail(s, err, "create schema");
		rollback(s);
		return r;
	}
	return commit(s, err);
}

/* CTRBOX_SNAPSHOTTER_SQL_TRACE set: every statement the store runs is logged at debug level
 * ("sql: ..."), for counting statements per call (bench/snapshotter.sh's profile). */
static int trace_stmt(unsigned type, void *data, void *stmt, void *sql)
{
	(void)type, (void)data, (void)stmt;
	ctrbox_log_debug("sql: %s", (const char *)sql);
	return 0;
}

int store_open(const char *root, enum snap_backend backend, struct store **out, char **err)
{
	struct store *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (!s)
		return fail(err, 13, "out of memory");
	s->snapfd = -1;
	s->backend = backend;
	mode_t mask = umask(0);
	umask(mask);
	s->mode_ok = (mask & 0755) == 0;
	s->index_off = access("/sys/module/overlay/parameters/index", F_OK) == 0;
	const char *sp[] = {root, "snapshots"};
	s->root = strdup(root);
	s->snapdir = ctrbox_path_join(sp, 2);
	if (!s->root || !s->snapdir) {
		r = fail(err, 13, "out of memory");
		goto fail;
	}
	if ((r = ctrbox_mkdir_p(root, 0700)) < 0 || (r = ctrbox_mkdir_p(s->snapdir, 0700)) < 0) {
		r = sys_fail(err, r, "failed to create", s->snapdir);
		goto fail;
	}
	struct stat sst;
	if ((s->snapfd = open(s->snapdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(s->snapfd, &sst) < 0) {
		r = sys_fail(err, errno, "failed to open", s->snapdir);
		goto fail;
	}
	s->own_ok = !(sst.st_mode & S_ISGID);
	s->dev = sst.st_dev;
	s->uid = geteuid(), s->gid = getegid();
	char *dbpath = NULL;
	if (asprintf(&dbpath, "%s/metadata.db", root) < 0) {
		r = fail(err, 13, "out of memory");
		goto fail;
	}
	int rc = sqlite3_open_v2(
	    dbpath, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		chmod(dbpath, 0600);
	free(dbpath);
	if (rc != SQLITE_OK) {
		r = fail(err, 13, "open metadata: %s",
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 2000);
	if (getenv("CTRBOX_SNAPSHOTTER_SQL_TRACE"))
		sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, trace_stmt, NULL);
	if ((r = init_schema(s, err)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	if (s->db)
		sqlite3_close(s->db);
	if (s->snapfd >= 0)
		close(s->snapfd);
	free(s->root);
	free(s->snapdir);
	free(s);
}

const char *store_backend_name(enum snap_backend b)
{
	return b == SNAP_NATIVE ? "native" : "overlayfs";
}

static int kernel_has_overlay(void)
{
	char *buf = NULL;
	size_t len;
	int yes = 0;

	if (ctrbox_read_file("/proc/filesystems", 1 << 16, &buf, &len) < 0)
		return 0;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *tab = strrchr(line, '\t');
		if (strcmp(tab ? tab + 1 : line, "overlay") == 0)
			yes = 1;
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	return yes;
}

static int overlay_probe(const char *dir)
{
	static const char *const sub[] = {"lower", "upper", "work", "merged"};
	char *p[4] = {0}, *opts = NULL;
	int ok = 0;

	for (int i = 0; i < 4; i++) {
		const char *parts[] = {dir, sub[i]};
		if (!(p[i] = ctrbox_path_join(parts, 2)) || mkdir(p[i], 0755) < 0)
			goto out;
	}
	if (asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", p[0], p[1], p[2]) < 0) {
		opts = NULL;
		goto out;
	}
	if (mount("overlay", p[3], "overlay", 0, opts) == 0) {
		ok = 1;
		umount2(p[3], MNT_DETACH);
	}
out:
	for (int i = 0; i < 4; i++)
		free(p[i]);
	free(opts);
	return ok;
}

enum snap_backend store_default_backend(const char *root)
{
	char *tmp = NULL;
	int ok = 0;

	if (!kernel_has_overlay() || ctrbox_mkdir_p(root, 0700) < 0)
		return SNAP_NATIVE;
	if (asprintf(&tmp, "%s/overlay-probe-XXXXXX", root) < 0)
		return SNAP_NATIVE;
	if (mkdtemp(tmp)) {
		ok = overlay_probe(tmp);
		ctrbox_rm_rf(tmp);
	}
	free(tmp);
	return ok ? SNAP_OVERLAYFS : SNAP_NATIVE;
}

/* ---- prepare / view ---- */

/* Builds <snapdir>/new-XXXXXX/{fs,work}; for native actives, a copy of the parent's fs. */
static int build_dir(struct store *s, int kind, int64_t parent, char **out, char **err)
{
	char *td = NULL, *fs = NULL;
	int r = 0;

	*out = NULL;
	if (asprintf(&td, "%s/new-XXXXXX", s->snapdir) < 0)
		return fail(err, 13, "out of memory");
	if (!mkdtemp(td)) {
		r = sys_fail(err, errno, "failed to create temp dir in", s->snapdir);
		free(td);
		return r;
	}
	const char *fp[] = {td, "fs"};
	if (!(fs = ctrbox_path_join(fp, 2))) {
		r = fail(err, 13, "out of memory");
		goto out;
	}
	if (mkdir(fs, 0755) < 0 || (!s->mode_ok && chmod(fs, 0755) < 0)) {
		r = sys_fail(err, errno, "failed to create", fs);
		goto out;
	}
	if (s->backend == SNAP_OVERLAYFS && kind == CTRBOX_SNAPSHOT_ACTIVE) {
		const char *wp[] = {td, "work"};
		char *work = ctrbox_path_join(wp, 2);
		int e = !work ? ENOMEM : mkdir(work, 0711) < 0 ? errno : 0;
		free(work);
		if (e) {
			r = sys_fail(err, e, "failed to create work dir in", td);
			goto out;
		}
	}
	if (parent) {
		char *pfs = id_path(s, parent, "fs");
		struct stat st;
		int e = 0;
		if (!pfs)
			e = -ENOMEM;
		else if (s->backend == SNAP_NATIVE && kind == CTRBOX_SNAPSHOT_ACTIVE)
			e = copy_dir(pfs, fs);
		else if (s->backend == SNAP_OVERLAYFS) /* overlay.go: fs owned like the parent's */
			e = lstat(pfs, &st) < 0					      ? -errno
			    : s->own_ok && st.st_uid == s->uid && st.st_gid == s->gid ? 0
			    : lchown(fs, st.st_uid, st.st_gid) < 0		      ? -errno
										      : 0;
		if (e < 0)
			r = sys_fail(err, e, "copying of parent failed:", pfs ? pfs : "");
		free(pfs);
	}
out:
	free(fs);
	if (r) {
		rm_snap(s, td + strlen(s->snapdir) + 1);
		free(td);
		return r;
	}
	*out = td;
	return 0;
}

/* The containerd checks, in bolt.go's order: parent first, then the key. */
static int check_create(struct store *s, const char *key, const char *parent, int64_t *parent_id,
			char **err)
{
	struct row r;
	int found;

	*parent_id = 0;
	if (parent && *parent) {
		if ((found = lookup(s, parent, &r, err)) < 0)
			return -found;
		char *q = goquote(parent);
		if (!found)
			found = fail(err, 5, "missing parent %s bucket: not found", q ? q : parent);
		else if (r.kind != CTRBOX_SNAPSHOT_COMMITTED)
			found =
			    fail(err, 3, "parent %s is not committed snapshot: invalid argument",
				 q ? q : parent);
		else
			found = 0, *parent_id = r.id;
		free(q);
		if (found)
			return found;
	}
	if ((found = lookup(s, key, &r, err)) < 0)
		return -found;
	if (found)
		return fail(err, 6, "snapshot %s: already exists", key);
	return 0;
}

static int insert_row(struct store *s, const char *key, int64_t parent, int kind,
		      const struct ctrbox_snapshot_label *labels, size_t nlabels, int64_t *id,
		      char **err)
{
	sqlite3_stmt *st =
	    prep(s, "INSERT INTO snapshots(key, parent_id, kind, created_ns, updated_ns) "
		    "VALUES(?, ?, ?, ?, ?)");
	int64_t t = now_ns();

	if (!st)
		return db_fail(s, err, "insert snapshot");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_int64(st, 2, parent);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int(st, 3, kind);
	sqlite3_bind_int64(st, 4, t);
	sqlite3_bind_int64(st, 5, t);
	int rc = sqlite3_step(st);
	done(s, st);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "insert snapshot");
	*id = sqlite3_last_insert_rowid(s->db);
	if (put_labels(s, *id, labels, nlabels, 1) < 0) /* a new id has no labels yet */
		return db_fail(s, err, "write labels");
	return 0;
}

/* Moves td to <id>; an existing <id> can only be an orphan of a rolled-back insert. */
static int install_dir(struct store *s, const char *td, int64_t id, char **err)
{
	char *path = id_path(s, id, NULL);
	int r = 0;

	if (!path)
		return fail(err, 13, "out of memory");
	if (rename(td, path) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			rm_snap(s, path + strlen(s->snapdir) + 1);
			if (rename(td, path) < 0)
				r = sys_fail(err, errno, "failed to rename to", path);
		} else {
			r = sys_fail(err, errno, "failed to rename to", path);
		}
	}
	int e;
	if (r == 0 && (e = fsync(s->snapfd) < 0 ? -errno : 0) < 0)
		r = sys_fail(err, e, "failed to sync", s->snapdir);
	if (r)
		rename(path, td); /* leave nothing named like an id behind; cleanup gets td */
	free(path);
	return r;
}

int store_prepare(struct store *s, const char *key, const char *parent,
		  const struct ctrbox_snapshot_label *labels, size_t nlabels, int readonly,
		  struct ctrbox_snapshot_mount **mounts, size_t *nmounts, char **err)
{
	int kind = readonly ? CTRBOX_SNAPSHOT_VIEW : CTRBOX_SNAPSHOT_ACTIVE;
	int64_t parent_id, id = 0;
	char *td = NULL;
	int r, installed = 0;

	*mounts = NULL, *nmounts = 0;
	if ((r = check_key(key, "snapshot key", err)) || (r = check_labels(labels, nlabels, err)))
		return r;
	if (parent && *parent && (r = check_key(parent, "parent key", err)))
		return r;
	/* One transaction from the checks to the insert (the store is the database's only user:
	 * locking_mode=EXCLUSIVE), the directory built inside it. */
	if ((r = begin(s, err)))
		return r;
	if ((r = check_create(s, key, parent, &parent_id, err)) ||
	    (r = build_dir(s, kind, parent_id, &td, err))) {
		rollback(s);
		return r;
	}
	r = insert_row(s, key, parent_id, kind, labels, nlabels, &id, err);
	if (r == 0 && (r = install_dir(s, td, id, err)) == 0)
		installed = 1;
	if (r == 0)
		r = commit(s, err);
	if (r == 0) {
		free(td);
		return make_mounts(s, id, kind, parent_id, mounts, nmounts, err);
	}
	rollback(s);
	if (installed) { /* the COMMIT failed after the rename: <id> has no row */
		struct row chk;
		char *e2 = NULL, name[24];
		snprintf(name, sizeof(name), "%lld", (long long)id);
		if (lookup(s, key, &chk, &e2) == 0)
			rm_snap(s, name);
		free(e2);
	} else {
		rm_snap(s, td + strlen(s->snapdir) + 1);
	}
	free(td);
	return r;
}

/* ---- mounts / commit / remove ---- */

int store_mounts(struct store *s, const char *key, struct ctrbox_snapshot_mount **mounts,
		 size_t *nmounts, char **err)
{
	struct row r;
	int found;

	*mounts = NULL, *nmounts = 0;
	if ((found = check_key(key, "snapshot key", err)))
		return found;
	if ((found = lookup(s, key, &r, err)) < 0)
		return -found;
	if (!found)
		return fail(err, 5, "snapshot does not exist: not found");
	if (r.kind != CTRBOX_SNAPSHOT_ACTIVE && r.kind != CTRBOX_SNAPSHOT_VIEW)
		return fail(err, 9, "requested snapshot %s not active or view: failed precondition",
			    key);
	return make_mounts(s, r.id, r.kind, r.parent_id, mounts, nmounts, err);
}

int store_commit(struct store *s, const char *name, const char *key,
		 const struct ctrbox_snapshot_label *labels, size_t nlabels, char **err)
{
	struct row r, other;
	int found, rc;

	if ((rc = check_key(name, "snapshot name", err)) ||
	    (rc = check_key(key, "snapshot key", err)) || (rc = check_labels(labels, nlabels, err)))
		return rc;
	/* overlay.go/native.go read the key first (GetInfo), then bolt.go's CommitActive checks */
	if ((found = lookup(s, key, &r, err)) < 0)
		return -found;
	if (!found)
		return fail(err, 5, "snapshot does not exist: not found");
	if ((found = lookup(s, name, &other, err)) < 0)
		return -found;
	if (found)
		return fail(err, 6, "committed snapshot %s: already exists", name);
	if (r.kind != CTRBOX_SNAPSHOT_ACTIVE) {
		char *q = goquote(key);
		rc = fail(err, 9, "snapshot %s is not active: failed precondition", q ? q : key);
		free(q);
		return rc;
	}
	char *fs = id_path(s, r.id, "fs");
	int64_t size = 0, inodes = 0;
	int e = fs ? disk_usage(fs, &size, &inodes) : -ENOMEM;
	if (e < 0) {
		rc = sys_fail(err, e, "failed to measure", fs ? fs : "snapshot");
		free(fs);
		return rc;
	}
	free(fs);

	if ((rc = begin(s, err)))
		return rc;
	sqlite3_stmt *st = prep(s, "UPDATE snapshots SET key = ?, kind = ?, created_ns = ?, "
				   "updated_ns = ?, size = ?, inodes = ? WHERE id = ?");
	int64_t t = now_ns();
	if (!st) {
		rc = db_fail(s, err, "commit snapshot");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, CTRBOX_SNAPSHOT_COMMITTED);
	sqlite3_bind_int64(st, 3, t);
	sqlite3_bind_int64(st, 4, t);
	sqlite3_bind_int64(st, 5, size);
	sqlite3_bind_int64(st, 6, inodes);
	sqlite3_bind_int64(st, 7, r.id);
	int step = sqlite3_step(st);
	done(s, st);
	if (step == SQLITE_CONSTRAINT)
		rc = fail(err, 6, "committed snapshot %s: already exists", name);
	else if (step != SQLITE_DONE)
		rc = db_fail(s, err, "commit snapshot");
	else if (put_labels(s, r.id, labels, nlabels, 0) < 0) /* replaced, not inherited */
		rc = db_fail(s, err, "write labels");
	else
		rc = commit(s, err);
out:
	rollback(s);
	if (rc == 0 && s->backend == SNAP_OVERLAYFS) {
		char work[40];
		snprintf(work, sizeof(work), "%lld/work", (long long)r.id);
		rm_snap(s, work); /* a committed layer is never an upper dir again */
	}
	return rc;
}

static int has_child(struct store *s, int64_t id)
{
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	done(s, st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_remove(struct store *s, const char *key, char **err)
{
	struct row r;
	int found, rc;

	if ((rc = check_key(key, "snapshot key", err)))
		return rc;
	if ((rc = begin(s, err)))
		return rc;
	if ((found = lookup(s, key, &r, err)) <= 0) {
		rc = found < 0 ? -found : fail(err, 5, "snapshot %s: not found", key);
		goto out;
	}
	int child = has_child(s, r.id);
	if (child != 0) {
		rc = child < 0
			 ? db_fail(s, err, "remove")
			 : fail(err, 9, "cannot remove snapshot with child: failed precondition");
		goto out;
	}
	sqlite3_stmt *st = prep(s, "DELETE FROM snapshots WHERE id = ?");
	sqlite3_stmt *lt = prep(s, "DELETE FROM labels WHERE snapshot_id = ?");
	int ok = st && lt;
	if (ok) {
		sqlite3_bind_int64(lt, 1, r.id);
		sqlite3_bind_int64(st, 1, r.id);
		ok = sqlite3_step(lt) == SQLITE_DONE && sqlite3_step(st) == SQLITE_DONE;
	}
	done(s, st);
	done(s, lt);
	rc = ok ? commit(s, err) : db_fail(s, err, "failed to delete snapshot");
out:
	rollback(s);
	if (rc)
		return rc;
	/* Committed: from here on the directory is an orphan whatever happens (ids are never
	 * reused: AUTOINCREMENT), and store_cleanup removes what a kill -9 leaves of it. */
	char name[24], sub[32];
	snprintf(name, sizeof(name), "%lld", (long long)r.id);
	for (int i = 0; i < 2; i++) { /* the layout first: three rmdirs when it is empty */
		snprintf(sub, sizeof(sub), "%s/%s", name, i ? "work" : "fs");
		rm_snap(s, sub);
	}
	rm_snap(s, name);
	return 0;
}

/* ---- stat / update / walk / usage ---- */

int store_stat(struct store *s, const char *key, struct ctrbox_snapshot_info *out, char **err)
{
	struct row r;
	int found, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_key(key, "snapshot key", err)))
		return rc;
	if ((found = lookup(s, key, &r, err)) < 0)
		return -found;
	if (!found)
		return fail(err, 5, "snapshot does not exist: not found");
	return fill_info(s, key, &r, out, err);
}

/* Index of key in l, or -1. */
static ssize_t label_index(const struct ctrbox_snapshot_label *l, size_t n, const char *key)
{
	for (size_t i = n; i-- > 0;) /* last one wins, as in a map filled in order */
		if (strcmp(l[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

/* The label set after applying paths to cur (bolt.go UpdateInfo); entries borrow strings from
 * cur and in. An empty value means "delete" (bolt's writeMap stores no empty value). */
static int updated_labels(const struct ctrbox_snapshot_info *cur,
			  const struct ctrbox_snapshot_info *in, const char *const *paths,
			  size_t npaths, struct ctrbox_snapshot_label **out, size_t *nout,
			  char **err)
{
	size_t cap = cur->nlabels + in->nlabels + npaths + 1, n = 0;
	struct ctrbox_snapshot_label *v = calloc(cap, sizeof(*v));
	int replace = npaths == 0;

	if (!v)
		return fail(err, 13, "out of memory");
	for (size_t i = 0; i < npaths; i++) {
		if (strcmp(paths[i], "labels") == 0) {
			replace = 1;
		} else if (strncmp(paths[i], "labels.", 7) != 0) {
			char *qp = goquote(paths[i]), *qn = goquote(in->name);
			int rc =
			    fail(err, 3, "cannot update %s field on snapshot %s: invalid argument",
				 qp ? qp : paths[i], qn ? qn : in->name);
			free(qp);
			free(qn);
			free(v);
			return rc;
		}
	}
	/* Go applies the paths in order; "labels" anywhere resets what came before it. */
	size_t start = 0;
	for (size_t i = 0; i < npaths; i++)
		if (strcmp(paths[i], "labels") == 0)
			start = i;
	if (replace) {
		for (size_t i = 0; i < in->nlabels; i++)
			v[n++] = in->labels[i];
	} else {
		for (size_t i = 0; i < cur->nlabels; i++)
			v[n++] = cur->labels[i];
	}
	for (size_t i = replace && npaths ? start + 1 : 0; i < npaths; i++) {
		const char *k = paths[i] + 7;
		ssize_t j = label_index(in->labels, in->nlabels, k);
		v[n].key = (char *)k;
		v[n].value = j >= 0 ? in->labels[j].value : "";
		n++;
	}
	*out = v, *nout = n;
	return 0;
}

int store_update(struct store *s, const struct ctrbox_snapshot_info *in, const char *const *paths,
		 size_t npaths, struct ctrbox_snapshot_info *out, char **err)
{
	struct ctrbox_snapshot_info cur;
	struct ctrbox_snapshot_label *next = NULL;
	size_t nnext = 0;
	struct row r;
	int rc, found;

	memset(out, 0, sizeof(*out));
	if (!in->name || !*in->name)
		return fail(err, 3, "snapshot name must not be empty: invalid argument");
	if ((rc = check_labels(in->labels, in->nlabels, err)))
		return rc;
	if ((rc = begin(s, err)))
		return rc;
	if ((found = lookup(s, in->name, &r, err)) <= 0) {
		rc = found < 0 ? -found : fail(err, 5, "snapshot does not exist: not found");
		goto out;
	}
	if ((rc = fill_info(s, in->name, &r, &cur, err)))
		goto out;
	rc = updated_labels(&cur, in, paths, npaths, &next, &nnext, err);
	if (rc == 0) {
		sqlite3_stmt *st = prep(s, "UPDATE snapshots SET updated_ns = ? WHERE id = ?");
		int ok = st != NULL;
		if (ok) {
			sqlite3_bind_int64(st, 1, now_ns());
			sqlite3_bind_int64(st, 2, r.id);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		done(s, st);
		rc = ok && put_labels(s, r.id, next, nnext, 0) == 0
			 ? commit(s, err)
			 : db_fail(s, err, "update snapshot");
	}
	free(next);
	ctrbox_snapshot_info_clear(&cur);
	if (rc == 0)
		rc = store_stat(s, in->name, out, err);
out:
	rollback(s);
	return rc;
}

struct walk_item {
	char *key;
	struct row r;
};

int store_walk(struct store *s, int (*fn)(const struct ctrbox_snapshot_info *info, void *data),
	       void *data, char **err)
{
	sqlite3_stmt *st = prep(s, "SELECT key, " ROW_COLS " FROM snapshots ORDER BY id");
	struct walk_item *items = NULL;
	size_t n = 0;
	int rc = 0, step;

	if (!st)
		return db_fail(s, err, "walk");
	/* collect first: fn may call back into the store */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct walk_item *nv = realloc(items, (n + 1) * sizeof(*items));
		if (!nv)
			break;
		items = nv;
		read_row(st, 1, &items[n].r);
		if (!(items[n].key = strdup((const char *)sqlite3_column_text(st, 0))))
			break;
		n++;
	}
	if (step != SQLITE_DONE)
		rc = step == SQLITE_ROW ? fail(err, 13, "out of memory") : db_fail(s, err, "walk");
	done(s, st);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct ctrbox_snapshot_info info;
		if ((rc = fill_info(s, items[i].key, &items[i].r, &info, err)) == 0) {
			rc = fn(&info, data);
			ctrbox_snapshot_info_clear(&info);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(items[i].key);
	free(items);
	return rc;
}

int store_usage(struct store *s, const char *key, int64_t *size, int64_t *inodes, char **err)
{
	struct row r;
	int found, rc;

	*size = 0, *inodes = 0;
	if ((rc = check_key(key, "snapshot key", err)))
		return rc;
	if ((found = lookup(s, key, &r, err)) < 0)
		return -found;
	if (!found)
		return fail(err, 5, "snapshot does not exist: not found");
	if (r.kind != CTRBOX_SNAPSHOT_ACTIVE) { /* containerd: only actives are measured live */
		*size = r.size, *inodes = r.inodes;
		return 0;
	}
	char *fs = id_path(s, r.id, "fs");
	int e = fs ? disk_usage(fs, size, inodes) : -ENOMEM;
	rc = e < 0 ? sys_fail(err, e, "failed to measure", fs ? fs : "snapshot") : 0;
	free(fs);
	return rc;
}

/* ---- cleanup ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The id a directory name stands for, or 0 when it is not a canonical decimal id. */
static int64_t name_id(const char *name)
{
	int64_t v = 0;

	if (name[0] < '1' || name[0] > '9' || strlen(name) > 18)
		return 0;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v;
}

int store_cleanup(struct store *s, unsigned *removed, char **err)
{
	int64_t *ids = NULL;
	size_t n = 0;
	unsigned count = 0;
	int rc;

	if (removed)
		*removed = 0;
	/* the write lock keeps a concurrent prepare from installing a directory mid-scan */
	if ((rc = begin(s, err)))
		return rc;
	sqlite3_stmt *st = prep(s, "SELECT id FROM snapshots");
	int step = SQLITE_ERROR;
	while (st && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t *nv = realloc(ids, (n + 1) * sizeof(*ids));
		if (!nv)
			break;
		ids = nv;
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	done(s, st);
	if (step != SQLITE_DONE) {
		rc = db_fail(s, err, "cleanup");
		goto out;
	}
	qsort(ids, n, sizeof(*ids), cmp_i64);
	DIR *d = opendir(s->snapdir);
	if (!d) {
		rc = sys_fail(err, errno, "failed to open", s->snapdir);
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int64_t id = name_id(de->d_name);
		if (id && bsearch(&id, ids, n, sizeof(*ids), cmp_i64))
			continue;
		const char *parts[] = {s->snapdir, de->d_name};
		char *p = ctrbox_path_join(parts, 2);
		if (p && rm_snap(s, de->d_name) == 0)
			count++;
		free(p);
	}
	closedir(d);
out:
	rollback(s); /* read-only transaction: nothing to keep */
	free(ids);
	if (removed)
		*removed = count;
	return rc;
}
