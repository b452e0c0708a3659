/* snapshotter-passthrough: a minimal native snapshotter built on libctrbox's snapshots crate
 * (ctrbox/snapshots.h) alone.
 *
 *   snapshotter-passthrough --root DIR --address SOCK
 *
 * containerd uses it as a proxy plugin:
 *   [proxy_plugins.example]
 *     type = "snapshot"
 *     address = "SOCK"
 *
 * Every snapshot is a plain directory, DIR/snapshots/<id>. Prepare and View copy the parent's
 * directory (files, directories, symlinks, device nodes and fifos, with owner, mode and times;
 * hard links become copies); the mounts containerd gets are one bind mount of that directory,
 * read-write for an active snapshot and read-only for a view. Commit only changes the kind.
 * Metadata lives in memory: the snapshots of an earlier run are gone (their directories are
 * removed at start), which containerd copes with (its metadata then points at nothing and its
 * garbage collection forgets them). The crate does the rest: the gRPC server, the conversions,
 * List's batches and filters, the status codes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <ctrbox/log.h>
#include <ctrbox/snapshots.h>
#include <ctrbox/util.h>

struct snap {
	struct snap *next;
	struct ctrbox_snapshot_info info; /* name = the key (active, view) or the committed name */
	unsigned id;			  /* its directory: <root>/snapshots/<id> */
};

struct passthrough {
	char *dir; /* <root>/snapshots */
	struct snap *head;
	unsigned next_id;
};

/* A status code with a message for containerd (the crate frees the message). */
static int failf(char **err, int code, const char *fmt, const char *arg)
{
	if (asprintf(err, fmt, arg) < 0)
		*err = NULL;
	return code;
}

static struct snap *find(struct passthrough *p, const char *key)
{
	for (struct snap *s = p->head; s; s = s->next)
		if (!strcmp(s->info.name, key))
			return s;
	return NULL;
}

static char *snap_dir(const struct passthrough *p, unsigned id)
{
	char *d;
	return asprintf(&d, "%s/%u", p->dir, id) < 0 ? NULL : d;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- labels and infos ---- */

static int labels_copy(const struct ctrbox_snapshot_label *in, size_t n,
		       struct ctrbox_snapshot_info *to)
{
	to->labels = calloc(n ? n : 1, sizeof(*to->labels));
	if (!to->labels)
		return -1;
	for (size_t i = 0; i < n; i++) {
		to->labels[i].key = strdup(in[i].key);
		to->labels[i].value = strdup(in[i].value ? in[i].value : "");
		to->nlabels++;
		if (!to->labels[i].key || !to->labels[i].value)
			return -1;
	}
	return 0;
}

static int info_copy(const struct ctrbox_snapshot_info *in, struct ctrbox_snapshot_info *out)
{
	*out = *in;
	out->labels = NULL;
	out->nlabels = 0;
	out->name = strdup(in->name);
	out->parent = strdup(in->parent ? in->parent : "");
	if (!out->name || !out->parent || labels_copy(in->labels, in->nlabels, out)) {
		ctrbox_snapshot_info_clear(out);
		return -1;
	}
	return 0;
}

/* Sets (value non-NULL) or deletes one label. */
static int label_set(struct ctrbox_snapshot_info *info, const char *key, const char *value)
{
	size_t i;
	for (i = 0; i < info->nlabels && strcmp(info->labels[i].key, key); i++)
		;
	if (i < info->nlabels) {
		free(info->labels[i].value);
		if (value)
			return (info->labels[i].value = strdup(value)) ? 0 : -1;
		free(info->labels[i].key);
		info->labels[i] = info->labels[--info->nlabels];
		return 0;
	}
	if (!value)
		return 0;
	struct ctrbox_snapshot_label *l = realloc(info->labels, (i + 1) * sizeof(*l));
	if (!l)
		return -1;
	info->labels = l;
	l[i].key = strdup(key);
	l[i].value = strdup(value);
	info->nlabels++;
	return l[i].key && l[i].value ? 0 : -1;
}

/* ---- directories ---- */

/* nftw has no user pointer: the one copy running (the server is single-threaded). */
static const char *copy_src, *copy_dst;

static int copy_file(const char *from, const char *to, const struct stat *st)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int out =
	    in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (ctrbox_write_all(out, buf, (size_t)n) < 0)
			n = -1;
	int rc = in < 0 || out < 0 || n < 0 ? -1 : 0;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		rc = -1;
	return rc;
}

static int copy_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char to[PATH_MAX], link[PATH_MAX];
	int rc;
	(void)ftw;
	if (snprintf(to, sizeof(to), "%s%s", copy_dst, path + strlen(copy_src)) >= (int)sizeof(to))
		return ENAMETOOLONG;
	if (type == FTW_D)
		rc = path[strlen(copy_src)] ? mkdir(to, st->st_mode & 07777) : 0;
	else if (S_ISREG(st->st_mode))
		rc = copy_file(path, to, st);
	else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		rc = n < 0 ? -1 : (link[n] = 0, symlink(link, to));
	} else
		rc = mknod(to, st->st_mode, st->st_rdev);
	if (rc < 0 || lchown(to, st->st_uid, st->st_gid) < 0 ||
	    (!S_ISLNK(st->st_mode) && chmod(to, st->st_mode & 07777) < 0))
		return errno ? errno : EIO;
	struct timespec t[2] = {st->st_atim, st->st_mtim};
	utimensat(AT_FDCWD, to, t, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* Copies the tree under src into the existing directory dst. 0 or an errno. */
static int copy_tree(const char *src, const char *dst)
{
	copy_src = src;
	copy_dst = dst;
	return nftw(src, copy_one, 64, FTW_PHYS);
}

static int64_t usage_size, usage_inodes;

static int count_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path, (void)type, (void)ftw;
	usage_size += (int64_t)st->st_blocks * 512;
	usage_inodes++;
	return 0;
}

/* ---- the operations ---- */

static int op_stat(void *impl, const char *key, struct ctrbox_snapshot_info *out, char **err)
{
	struct snap *s = find(impl, key);
	if (!s)
		return failf(err, CTRBOX_NOT_FOUND, "snapshot %s does not exist", key);
	return info_copy(&s->info, out) ? CTRBOX_INTERNAL : 0;
}

/* Only labels are mutable: paths "labels" (all of them) or "labels.KEY" (one). */
static int op_update(void *impl, const struct ctrbox_snapshot_info *in, const char *const *paths,
		     size_t npaths, struct ctrbox_snapshot_info *out, char **err)
{
	struct snap *s = find(impl, in->name);
	if (!s)
		return failf(err, CTRBOX_NOT_FOUND, "snapshot %s does not exist", in->name);
	for (size_t i = 0; i < npaths; i++)
		if (strcmp(paths[i], "labels") && strncmp(paths[i], "labels.", 7))
			return failf(err, CTRBOX_INVALID_ARGUMENT, "cannot update %s field",
				     paths[i]);
	for (size_t i = 0; i < npaths; i++) {
		const char *k = paths[i] + 7, *v = NULL;
		if (!strcmp(paths[i], "labels"))
			continue;
		for (size_t j = 0; j < in->nlabels; j++)
			if (!strcmp(in->labels[j].key, k))
				v = in->labels[j].value;
		if (label_set(&s->info, k, v))
			return CTRBOX_INTERNAL;
	}
	int all = !npaths;
	for (size_t i = 0; i < npaths; i++)
		all |= !strcmp(paths[i], "labels");
	if (all) {
		struct ctrbox_snapshot_info tmp = {0};
		if (labels_copy(in->labels, in->nlabels, &tmp)) {
			ctrbox_snapshot_info_clear(&tmp);
			return CTRBOX_INTERNAL;
		}
		struct ctrbox_snapshot_info old = {NULL,	   NULL,	   0, 0, 0,
						   s->info.labels, s->info.nlabels};
		ctrbox_snapshot_info_clear(&old);
		s->info.labels = tmp.labels;
		s->info.nlabels = tmp.nlabels;
	}
	s->info.updated_ns = now_ns();
	return info_copy(&s->info, out) ? CTRBOX_INTERNAL : 0;
}

static int op_usage(void *impl, const char *key, struct ctrbox_snapshot_usage *u, char **err)
{
	struct passthrough *p = impl;
	struct snap *s = find(p, key);
	if (!s)
		return failf(err, CTRBOX_NOT_FOUND, "snapshot %s does not exist", key);
	char *d = snap_dir(p, s->id);
	usage_size = usage_inodes = 0;
	int rc = d ? nftw(d, count_one, 64, FTW_PHYS) : -1;
	free(d);
	u->size = usage_size;
	u->inodes = usage_inodes;
	return rc ? CTRBOX_INTERNAL : 0;
}

static int one_mount(struct passthrough *p, const struct snap *s, struct ctrbox_snapshot_mount **m,
		     size_t *n)
{
	*m = calloc(1, sizeof(**m));
	if (!*m)
		return CTRBOX_INTERNAL;
	*n = 1;
	(*m)->type = strdup("bind");
	(*m)->source = snap_dir(p, s->id);
	(*m)->options = calloc(2, sizeof(char *));
	if ((*m)->options) {
		(*m)->options[0] = strdup(s->info.kind == CTRBOX_SNAPSHOT_VIEW ? "ro" : "rw");
		(*m)->options[1] = strdup("rbind");
		(*m)->noptions = 2;
	}
	if (!(*m)->type || !(*m)->source || !(*m)->options || !(*m)->options[0] ||
	    !(*m)->options[1])
		return CTRBOX_INTERNAL; /* the crate frees what was filled */
	return 0;
}

static int op_mounts(void *impl, const char *key, struct ctrbox_snapshot_mount **m, size_t *n,
		     char **err)
{
	struct snap *s = find(impl, key);
	if (!s)
		return failf(err, CTRBOX_NOT_FOUND, "snapshot %s does not exist", key);
	if (s->info.kind == CTRBOX_SNAPSHOT_COMMITTED)
		return failf(err, CTRBOX_FAILED_PRECONDITION, "snapshot %s is committed", key);
	return one_mount(impl, s, m, n);
}

/* A new snapshot of kind on parent: metadata first, then its directory (a copy of parent's). */
static int create(struct passthrough *p, enum ctrbox_snapshot_kind kind, const char *key,
		  const char *parent, const struct ctrbox_snapshot_label *l, size_t nl, char **err)
{
	struct snap *par = *parent ? find(p, parent) : NULL;
	if (!*key)
		return failf(err, CTRBOX_INVALID_ARGUMENT, "%sempty key", "");
	if (find(p, key))
		return failf(err, CTRBOX_ALREADY_EXISTS, "snapshot %s already exists", key);
	if (*parent && !par)
		return failf(err, CTRBOX_NOT_FOUND, "parent snapshot %s does not exist", parent);
	if (par && par->info.kind != CTRBOX_SNAPSHOT_COMMITTED)
		return failf(err, CTRBOX_INVALID_ARGUMENT, "parent %s is not committed", parent);
	struct snap *s = calloc(1, sizeof(*s));
	struct ctrbox_snapshot_info in = {
	    (char *)key, (char *)parent, kind, 0, 0, (struct ctrbox_snapshot_label *)l, nl};
	in.created_ns = in.updated_ns = now_ns();
	if (!s || info_copy(&in, &s->info)) {
		free(s);
		return CTRBOX_INTERNAL;
	}
	s->id = ++p->next_id;
	char *d = snap_dir(p, s->id), *pd = par ? snap_dir(p, par->id) : NULL;
	int rc = !d || mkdir(d, 0755) < 0 || (par && (!pd || copy_tree(pd, d)));
	if (rc) {
		rc = failf(err, CTRBOX_INTERNAL, "cannot create the directory of %s", key);
		if (d)
			ctrbox_rm_rf(d);
		ctrbox_snapshot_info_clear(&s->info);
		free(s);
	} else {
		s->next = p->head;
		p->head = s;
	}
	free(d);
	free(pd);
	return rc;
}

static int op_prepare(void *impl, const char *key, const char *parent,
		      const struct ctrbox_snapshot_label *l, size_t nl,
		      struct ctrbox_snapshot_mount **m, size_t *n, char **err)
{
	int rc = create(impl, CTRBOX_SNAPSHOT_ACTIVE, key, parent, l, nl, err);
	return rc ? rc : one_mount(impl, find(impl, key), m, n);
}

static int op_view(void *impl, const char *key, const char *parent,
		   const struct ctrbox_snapshot_label *l, size_t nl,
		   struct ctrbox_snapshot_mount **m, size_t *n, char **err)
{
	int rc = create(impl, CTRBOX_SNAPSHOT_VIEW, key, parent, l, nl, err);
	return rc ? rc : one_mount(impl, find(impl, key), m, n);
}

static int op_commit(void *impl, const char *name, const char *key,
		     const struct ctrbox_snapshot_label *l, size_t nl, char **err)
{
	struct snap *s = find(impl, key);
	if (!s)
		return failf(err, CTRBOX_NOT_FOUND, "snapshot %s does not exist", key);
	if (s->info.kind != CTRBOX_SNAPSHOT_ACTIVE)
		return failf(err, CTRBOX_FAILED_PRECONDITION, "snapshot %s is not active", key);
	if (!*name || find(impl, name))
		return failf(err, *name ? CTRBOX_ALREADY_EXISTS : CTRBOX_INVALID_ARGUMENT,
			     "snapshot %s already exists", name);
	char *nm = strdup(name);
	struct ctrbox_snapshot_info tmp = {0};
	if (!nm || labels_copy(l, nl, &tmp)) {
		free(nm);
		ctrbox_snapshot_info_clear(&tmp);
		return CTRBOX_INTERNAL;
	}
	free(s->info.name);
	s->info.name = nm;
	tmp.name = NULL;
	if (nl) { /* labels given at commit replace the active snapshot's */
		struct ctrbox_snapshot_info old = {NULL,	   NULL,	   0, 0, 0,
						   s->info.labels, s->info.nlabels};
		ctrbox_snapshot_info_clear(&old);
		s->info.labels = tmp.labels;
		s->info.nlabels = tmp.nlabels;
	} else
		ctrbox_snapshot_info_clear(&tmp);
	s->info.kind = CTRBOX_SNAPSHOT_COMMITTED;
	s->info.updated_ns = now_ns();
	return 0;
}

static int op_remove(void *impl, const char *key, char **err)
{
	struct passthrough *p = impl;
	struct snap **pp = &p->head, *s;
	while (*pp && strcmp((*pp)->info.name, key))
		pp = &(*pp)->next;
	if (!(s = *pp))
		return failf(err, CTRBOX_NOT_FOUND, "snapshot %s does not exist", key);
	for (struct snap *c = p->head; c; c = c->next)
		if (s->info.kind == CTRBOX_SNAPSHOT_COMMITTED && !strcmp(c->info.parent, key))
			return failf(err, CTRBOX_FAILED_PRECONDITION,
				     "cannot remove snapshot %s with child", key);
	char *d = snap_dir(p, s->id);
	if (!d || ctrbox_rm_rf(d) < 0) {
		free(d);
		return failf(err, CTRBOX_INTERNAL, "cannot remove the directory of %s", key);
	}
	free(d);
	*pp = s->next;
	ctrbox_snapshot_info_clear(&s->info);
	free(s);
	return 0;
}

static int op_walk(void *impl, int (*fn)(const struct ctrbox_snapshot_info *, void *), void *data,
		   char **err)
{
	struct passthrough *p = impl;
	(void)err;
	for (struct snap *s = p->head; s; s = s->next) {
		int rc = fn(&s->info, data);
		if (rc)
			return rc;
	}
	return 0;
}

static const struct ctrbox_snapshotter_ops passthrough_ops = {
    .stat = op_stat,
    .update = op_update,
    .usage = op_usage,
    .mounts = op_mounts,
    .prepare = op_prepare,
    .view = op_view,
    .commit = op_commit,
    .remove = op_remove,
    .walk = op_walk,
    .cleanup = NULL, /* nothing outlives its snapshot */
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
					     {"address", required_argument, NULL, 'a'},
					     {NULL, 0, NULL, 0}};
	const char *root = NULL, *address = NULL;
	struct passthrough p = {NULL, NULL, 0};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			root = optarg;
		else if (c == 'a')
			address = optarg;
		else
			return 2;
	}
	if (optind != argc || !root || !address || root[0] != '/') {
		fprintf(stderr, "usage: snapshotter-passthrough --root /DIR --address SOCK\n");
		return 2;
	}
	if (asprintf(&p.dir, "%s/snapshots", root) < 0)
		return 1;
	/* metadata is in memory: what an earlier run left is nobody's */
	if (ctrbox_rm_rf(p.dir) < 0 || ctrbox_mkdir_p(p.dir, 0700) < 0) {
		fprintf(stderr, "snapshotter-passthrough: %s: %s\n", p.dir, strerror(errno));
		return 1;
	}
	ctrbox_log_add_field("snapshotter", "passthrough");
	int rc = ctrbox_snapshotter_serve(address, &passthrough_ops, &p);
	if (rc < 0)
		fprintf(stderr, "snapshotter-passthrough: %s: %s\n", address, strerror(-rc));
	while (p.head) {
		struct snap *s = p.head;
		p.head = s->next;
		ctrbox_snapshot_info_clear(&s->info);
		free(s);
	}
	free(p.dir);
	return rc < 0 ? 1 : 0;
}
