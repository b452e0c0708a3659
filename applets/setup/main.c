/* ctrbox-setup: switch the runc shim containerd (1.6 and 2.x) runs for new containers to ctrbox's
 * and back, by a dpkg diversion of the file containerd resolves containerd-shim-runc-v2 to.
 *
 * enable:  dpkg-divert --package ctrbox --no-rename --divert T.distrib --add T; link(T, T.distrib);
 *          symlink(SHIM, tmp); rename(tmp, T). T always resolves: first to the Go shim, then to
 *          ctrbox. A containerd upgrade then writes its Go shim to T.distrib.
 * disable: rename(T.distrib, T); dpkg-divert --package ctrbox --no-rename --remove T.
 * Running shims hold their inode and keep running either way.
 *
 * It refuses (exit 1, nothing changed) where it cannot tell what containerd runs: no dpkg, a file
 * no package owns, containerds that resolve different files, a copy in containerd's cwd, a
 * diversion by another package, a link that is not ctrbox's, a CRI runtime with its own path.
 * External commands run with fork+execve and an argv; no shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "applet.h"
#include "setup.h"

#define MAX_CTRD 64
#define DIVERT_SUFFIX ".distrib"
#define PKG "ctrbox"
/* enable and disable hold an flock of dpkg's database directory (where the diversions are kept):
 * two of them do not interleave, and no lock file is left on the node (dpkg's own locks are
 * fcntl locks on files inside it, which an flock of the directory does not touch). */
#define LOCK_DIR "/var/lib/dpkg"
#define TOOL_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

struct setup {
	int dry_run;
	char shim[PATH_MAX];   /* the ctrbox binary the link points at */
	char divert[PATH_MAX]; /* dpkg-divert */
	char query[PATH_MAX];  /* dpkg-query */
	struct ctrd *c;	       /* running containerds, or the one default (pid 0) */
	int nc;
	char target[PATH_MAX]; /* the file they resolve to (dir canonical) */
};

static int err_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int err_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ctrbox-setup: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

/* ---- external commands ---- */

/* Runs argv[0] (an absolute path) with a fixed environment; stdout into out (NUL-terminated,
 * truncated to outsz), or passed on as stderr is when out is NULL. Returns the exit status, or
 * -1 (message printed). quiet: stderr into out too (dpkg-query's "no path found" is not shown;
 * the caller shows it on a failure). */
static int run(char *const argv[], char *out, size_t outsz, int quiet)
{
	static char *const envp[] = {"PATH=" TOOL_PATH, "LC_ALL=C", NULL};
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_("pipe: %s", strerror(errno)), -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]), close(pfd[1]);
		return err_("fork: %s", strerror(e)), -1;
	}
	if (pid == 0) {
		if (out)
			dup2(pfd[1], 1);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		if (quiet && out)
			dup2(pfd[1], 2);
		execve(argv[0], argv, envp);
		fprintf(stderr, "ctrbox-setup: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	for (;;) {
		char tmp[4096];
		ssize_t r = read(pfd[0], tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && out && n + 1 < outsz; i++)
			out[n++] = tmp[i];
	}
	if (out && outsz)
		out[n] = 0;
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_("waitpid %s: %s", argv[0], strerror(errno)), -1;
	if (WIFSIGNALED(st))
		return err_("%s killed by signal %d", argv[0], WTERMSIG(st)), -1;
	return WEXITSTATUS(st);
}

static int find_tool(const char *name, char *out, size_t outsz)
{
	char dirs[] = TOOL_PATH;
	for (char *d = strtok(dirs, ":"); d; d = strtok(NULL, ":")) {
		sfmt(out, outsz, "%s/%s", d, name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* The package that diverts path ("" none, "LOCAL" a local diversion); -1 if dpkg-divert failed. */
static int diverted_by(const struct setup *s, const char *path, char *pkg, size_t pkgsz)
{
	char *const argv[] = {(char *)s->divert, "--listpackage", (char *)path, NULL};
	int st = run(argv, pkg, pkgsz, 0);
	if (st != 0)
		return st < 0 ? -1
			      : (err_("%s --listpackage %s exited %d", s->divert, path, st), -1);
	pkg[strcspn(pkg, "\n")] = 0;
	return 0;
}

/* The package(s) owning path ("" none); -1 if dpkg-query failed otherwise. */
static int owned_by(const struct setup *s, const char *path, char *pkg, size_t pkgsz)
{
	char out[8192];
	char *const argv[] = {(char *)s->query, "-S", (char *)path, NULL};
	int st = run(argv, out, sizeof(out), 1);
	pkg[0] = 0;
	if (st < 0)
		return -1;
	if (st > 1) /* 1 is "no path found" */
		return err_("%s -S %s exited %d: %s", s->query, path, st, out), -1;
	/* lines "pkg[, pkg...]: /path"; "diversion by ..." lines are not ownership */
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
		char *colon = strstr(l, ": ");
		if (!colon || !strncmp(l, "diversion ", 10) || strcmp(colon + 2, path))
			continue;
		*colon = 0;
		sfmt(pkg, pkgsz, "%s", l);
		return 0;
	}
	return 0; /* exit 1 "no path found": no owner */
}

/* ---- what the node runs ---- */

static const char *how_text(const struct ctrd *c, char *buf, size_t bufsz)
{
	switch (c->how) {
	case FOUND_CWD:
		sfmt(buf, bufsz,
		     "a copy in containerd's working directory %s (checked before PATH)", c->cwd);
		break;
	case FOUND_PATH:
		sfmt(buf, bufsz, "the first in PATH (entry %s)", c->found_dir);
		break;
	case FOUND_BESIDE:
		sfmt(buf, bufsz, "none in PATH: the one next to containerd's executable %s",
		     c->exe);
		break;
	default:
		sfmt(buf, bufsz, "not found in cwd, PATH or beside %s", c->exe);
	}
	return buf;
}

/* Canonical dir + the name: /bin/x and /usr/bin/x are one file on a merged-/usr system and dpkg
 * knows it under one of them. */
static int canon_target(const char *found, char *out, size_t outsz)
{
	char dir[PATH_MAX], real[PATH_MAX];
	sfmt(dir, sizeof(dir), "%s", found);
	char *sl = strrchr(dir, '/');
	if (!sl)
		return -EINVAL;
	*sl = 0;
	if (!realpath(dir[0] ? dir : "/", real))
		return -errno;
	sfmt(out, outsz, "%s/%s", strcmp(real, "/") ? real : "", sl + 1);
	return 0;
}

static int load_ctrds(struct setup *s)
{
	pid_t pids[MAX_CTRD];
	int n = ctrd_list(pids, MAX_CTRD);
	if (n < 0)
		return err_("cannot list /proc: %s", strerror(-n));
	s->nc = n ? n : 1;
	s->c = calloc((size_t)s->nc, sizeof(*s->c));
	if (!s->c)
		return err_("out of memory");
	int k = 0;
	for (int i = 0; i < s->nc; i++) {
		char p[64];
		ctrd_read(&s->c[k], n ? pids[i] : 0);
		sfmt(p, sizeof(p), "/proc/%d", n ? (int)pids[i] : 1);
		if (n && s->c[k].err[0] && access(p, F_OK) < 0) { /* it exited meanwhile */
			ctrd_free(&s->c[k]);
			continue;
		}
		k++;
	}
	if (n && !k) /* all of them exited: the node has none now */
		ctrd_read(&s->c[k++], 0);
	s->nc = k;
	return 0;
}

static void free_ctrds(struct setup *s)
{
	for (int i = 0; i < s->nc; i++)
		ctrd_free(&s->c[i]);
	free(s->c);
}

/* Whether file is the ctrbox binary self is (same inode after links), or named ctrbox. */
static const char *ctrbox_or_not(const struct setup *s, const char *file, char *buf, size_t bufsz)
{
	struct stat a, b;
	char real[PATH_MAX];
	if (!realpath(file, real))
		return sfmt(buf, bufsz, "cannot resolve: %s", strerror(errno)), buf;
	if (stat(real, &a) == 0 && stat(s->shim, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		sfmt(buf, bufsz, "ctrbox (%s)", real);
	else if (!strcmp(strrchr(real, '/') + 1, "ctrbox"))
		sfmt(buf, bufsz, "ctrbox (%s, another build than %s)", real, s->shim);
	else
		sfmt(buf, bufsz, "not ctrbox (%s)", real);
	return buf;
}

/* ---- status ---- */

static void print_runtimes(const struct ctrd *c)
{
	if (c->config_missing)
		printf("  config:    %s (does not exist: containerd's defaults)\n", c->config);
	else
		printf("  config:    %s\n", c->config);
	for (int i = 0; i < c->nrt; i++) {
		const struct cfg_runtime *r = &c->rt[i];
		if (!cfg_runtime_is_runc(r) && !r->path[0] && r->type[0] != '/')
			continue;
		printf("  runtime %s (%s): runtime_type %s", r->name, r->file,
		       r->type[0] ? r->type : "(unset)");
		if (r->path[0])
			printf(", runtime_path %s: containerd 2.x CRI execs that file for this "
			       "runtime, "
			       "not the one PATH gives",
			       r->path);
		else if (r->type[0] == '/')
			printf(": an absolute runtime_type, execed as it is (PATH not used)");
		printf("\n");
	}
	for (int i = 0; i < c->nunscanned; i++)
		printf("  not scanned: %s\n", c->unscanned[i]);
}

static void print_ctrd(const struct setup *s, const struct ctrd *c)
{
	char buf[PATH_MAX + 128], ver[PATH_MAX + 64];
	if (c->pid)
		printf("containerd pid %d (%s)\n", (int)c->pid, c->exe);
	else
		printf("no containerd running; containerd.service would start %s with systemd's "
		       "defaults:\n",
		       c->exe);
	if (c->err[0]) {
		printf("  error:     %s\n", c->err);
		return;
	}
	printf("  cwd:       %s\n", c->cwd);
	printf("  PATH:      %s\n", c->path_env ? c->path_env : "(not set)");
	print_runtimes(c);
	if (c->how == FOUND_NONE) {
		printf("  %s:  %s\n", SHIM_NAME, how_text(c, buf, sizeof(buf)));
		return;
	}
	printf("  %s -> %s\n", SHIM_NAME, c->found);
	printf("    because: %s\n", how_text(c, buf, sizeof(buf)));
	printf("    that is: %s\n", ctrbox_or_not(s, c->found, ver, sizeof(ver)));
}

static void print_file_state(const struct setup *s, const char *t)
{
	char pkg[256], owner[256], link[PATH_MAX];
	if (diverted_by(s, t, pkg, sizeof(pkg)) == 0)
		printf("    diversion: %s%s\n", pkg[0] ? "by " : "none", pkg);
	if (owned_by(s, t, owner, sizeof(owner)) == 0)
		printf("    package:   %s\n", owner[0] ? owner : "none (no package owns it)");
	ssize_t n = readlink(t, link, sizeof(link) - 1);
	if (n >= 0)
		link[n] = 0, printf("    file:      symlink to %s\n", link);
	char d[PATH_MAX + 16];
	sfmt(d, sizeof(d), "%s%s", t, DIVERT_SUFFIX);
	if (access(d, F_OK) == 0)
		printf("    diverted:  %s (the package's shim) exists\n", d);
}

static int cmd_status(struct setup *s)
{
	if (load_ctrds(s))
		return 1;
	int have_dpkg = s->divert[0] && s->query[0];
	char seen[MAX_CTRD][PATH_MAX];
	int nseen = 0;
	for (int i = 0; i < s->nc; i++) {
		struct ctrd *c = &s->c[i];
		print_ctrd(s, c);
		char t[PATH_MAX];
		if (c->err[0] || c->how == FOUND_NONE || canon_target(c->found, t, sizeof(t)))
			continue;
		int dup = 0;
		for (int j = 0; j < nseen; j++)
			dup |= !strcmp(seen[j], t);
		if (!dup && have_dpkg) {
			printf("  the file %s:\n", t);
			print_file_state(s, t);
		}
		if (!dup && nseen < MAX_CTRD)
			sfmt(seen[nseen++], PATH_MAX, "%s", t);
	}
	if (!have_dpkg)
		printf("dpkg-divert or dpkg-query not found in %s: enable/disable refuse\n",
		       TOOL_PATH);
	if (nseen > 1)
		printf("the containerds resolve %s to %d different files: enable refuses\n",
		       SHIM_NAME, nseen);
	free_ctrds(s);
	return 0;
}

/* ---- enable / disable ---- */

static int step_divert(const struct setup *s, const char *add_or_remove)
{
	char d[PATH_MAX + 16];
	sfmt(d, sizeof(d), "%s%s", s->target, DIVERT_SUFFIX);
	char *const argv[] = {(char *)s->divert,     "--package",	PKG,
			      "--no-rename",	     "--divert",	d,
			      (char *)add_or_remove, (char *)s->target, NULL};
	printf("%s%s --package %s --no-rename --divert %s %s %s\n", s->dry_run ? "would run: " : "",
	       s->divert, PKG, d, add_or_remove, s->target);
	if (s->dry_run)
		return 0;
	int st = run(argv, NULL, 0, 0);
	if (st != 0)
		return st < 0 ? 1
			      : err_("dpkg-divert %s %s exited %d", add_or_remove, s->target, st);
	return 0;
}

/* Checks every containerd agrees on one dpkg file; sets s->target. 0 ok, 1 refused. */
static int agree_on_target(struct setup *s)
{
	for (int i = 0; i < s->nc; i++) {
		struct ctrd *c = &s->c[i];
		char t[PATH_MAX], who[64];
		if (c->pid)
			sfmt(who, sizeof(who), "containerd pid %d", (int)c->pid);
		else
			sfmt(who, sizeof(who), "containerd.service (not running)");
		if (c->err[0])
			return err_("%s: %s", who, c->err);
		if (c->how == FOUND_NONE)
			return err_("%s finds no %s (cwd %s, PATH %s): nothing to switch", who,
				    SHIM_NAME, c->cwd, c->path_env ? c->path_env : "(unset)");
		if (c->how == FOUND_CWD)
			return err_(
			    "%s runs %s from its working directory (a copy there wins over PATH): "
			    "remove it or start containerd elsewhere",
			    who, c->found);
		int r = canon_target(c->found, t, sizeof(t));
		if (r)
			return err_("%s: %s: %s", who, c->found, strerror(-r));
		if (i > 0 && strcmp(t, s->target))
			return err_("containerds resolve %s to different files: %s and %s (%s); "
				    "cannot switch them as one",
				    SHIM_NAME, s->target, t, who);
		sfmt(s->target, sizeof(s->target), "%s", t);
		for (int k = 0; k < c->nrt; k++) {
			const struct cfg_runtime *rt = &c->rt[k];
			const char *p = rt->path[0]	     ? rt->path
					: rt->type[0] == '/' ? rt->type
							     : NULL;
			if (!p ||
			    (!cfg_runtime_is_runc(rt) && strcmp(strrchr(p, '/') + 1, SHIM_NAME)))
				continue;
			char pt[PATH_MAX];
			if (canon_target(p, pt, sizeof(pt)) || strcmp(pt, t))
				return err_(
				    "%s: runtime %s in %s runs %s, not %s: switching %s would not "
				    "switch it",
				    who, rt->name, rt->file, p, t, t);
		}
	}
	return 0;
}

/* The state of the target: what enable/disable find. */
struct tstate {
	char divpkg[256]; /* diverting package */
	char owner[256];  /* owning package */
	char link[PATH_MAX];
	int is_link, exists, d_exists, same_inode, link_is_shim;
	char d[PATH_MAX + 16];
};

static int read_state(const struct setup *s, struct tstate *ts)
{
	struct stat st, dst;
	memset(ts, 0, sizeof(*ts));
	sfmt(ts->d, sizeof(ts->d), "%s%s", s->target, DIVERT_SUFFIX);
	if (diverted_by(s, s->target, ts->divpkg, sizeof(ts->divpkg)) ||
	    owned_by(s, s->target, ts->owner, sizeof(ts->owner)))
		return 1;
	ts->exists = lstat(s->target, &st) == 0;
	ts->d_exists = lstat(ts->d, &dst) == 0;
	ts->is_link = ts->exists && S_ISLNK(st.st_mode);
	ts->same_inode =
	    ts->exists && ts->d_exists && st.st_dev == dst.st_dev && st.st_ino == dst.st_ino;
	if (ts->is_link) {
		ssize_t n = readlink(s->target, ts->link, sizeof(ts->link) - 1);
		ts->link[n > 0 ? n : 0] = 0;
		char a[PATH_MAX], b[PATH_MAX];
		ts->link_is_shim = realpath(s->target, a) && realpath(s->shim, b) && !strcmp(a, b);
	}
	return 0;
}

static int enable_steps(const struct setup *s, const struct tstate *ts)
{
	char tmp[PATH_MAX + 32];
	if (!ts->divpkg[0] && step_divert(s, "--add"))
		return 1;
	if (!ts->d_exists) {
		printf("%shard-link %s to %s (the package's shim keeps a name)\n",
		       s->dry_run ? "would " : "", s->target, ts->d);
		if (!s->dry_run && link(s->target, ts->d) < 0) {
			int e = errno;
			err_("link %s %s: %s", s->target, ts->d, strerror(e));
			goto undo_divert;
		}
	}
	sfmt(tmp, sizeof(tmp), "%s.ctrbox-setup.%d", s->target, (int)getpid());
	printf("%ssymlink %s -> %s, renamed over %s\n", s->dry_run ? "would " : "", tmp, s->shim,
	       s->target);
	if (s->dry_run)
		return 0;
	if (symlink(s->shim, tmp) < 0) {
		err_("symlink %s: %s", tmp, strerror(errno));
		goto undo_link;
	}
	if (rename(tmp, s->target) < 0) {
		err_("rename %s %s: %s", tmp, s->target, strerror(errno));
		unlink(tmp);
		goto undo_link;
	}
	return 0;
undo_link:
	if (!ts->d_exists)
		unlink(ts->d);
undo_divert:
	if (!ts->divpkg[0])
		step_divert(s, "--remove");
	return 1;
}

static int cmd_enable(struct setup *s)
{
	struct tstate ts;
	if (agree_on_target(s) || read_state(s, &ts))
		return 1;
	const char *t = s->target;
	if (ts.divpkg[0] && strcmp(ts.divpkg, PKG))
		return err_("%s is diverted by %s (dpkg-divert --list %s): not switching a file "
			    "another package diverts",
			    t, ts.divpkg, t);
	if (!ts.divpkg[0]) {
		if (!ts.owner[0])
			return err_(
			    "%s belongs to no package (dpkg-query -S): cannot tell what it is "
			    "or how to restore it",
			    t);
		if (ts.is_link)
			return err_("%s (of package %s) is a symlink to %s, not the package's shim",
				    t, ts.owner, ts.link);
		if (!ts.exists)
			return err_("%s: %s", t, strerror(ENOENT));
		if (ts.d_exists)
			return err_(
			    "%s already exists (not by ctrbox's diversion): remove it first", ts.d);
	} else { /* ctrbox's diversion: enabled, or an enable that stopped half way */
		if (ts.is_link && ts.link_is_shim) {
			printf("already enabled: %s -> %s (the Go shim is %s)\n", t, ts.link, ts.d);
			return 0;
		}
		if (ts.is_link)
			return err_("%s is a link to %s, not to %s: run ctrbox-setup disable first",
				    t, ts.link, s->shim);
		if (ts.d_exists && !ts.same_inode)
			return err_(
			    "%s and %s are different files under ctrbox's diversion: cannot "
			    "tell which is the package's shim",
			    t, ts.d);
		if (!ts.exists)
			return err_("%s does not exist under ctrbox's diversion", t);
	}
	if (enable_steps(s, &ts))
		return 1;
	if (!s->dry_run)
		printf("enabled: new containers run %s; running shims keep theirs\n", s->shim);
	return 0;
}

/* Undoes enable for s->target (the path of a diversion by ctrbox): 0 done or nothing to do, 1
 * refused or failed. */
static int disable_one(const struct setup *s)
{
	struct tstate ts;
	if (read_state(s, &ts))
		return 1;
	const char *t = s->target;
	if (strcmp(ts.divpkg, PKG)) {
		if (ts.is_link && ts.link_is_shim)
			return err_(
			    "%s links to ctrbox but is not diverted by ctrbox (%s): not touching "
			    "it",
			    t, ts.divpkg[0] ? ts.divpkg : "no diversion");
		printf("not enabled: %s is not diverted by ctrbox\n", t);
		return 0;
	}
	if (ts.exists && !ts.is_link && !ts.same_inode && ts.d_exists)
		return err_(
		    "%s is a file, not ctrbox's link, and %s exists: cannot tell which to keep", t,
		    ts.d);
	/* Any symlink at t under ctrbox's diversion is enable's (it refuses to divert a link): it
	 * is replaced even if it points at another ctrbox build, or at one that is gone. */
	if (!ts.d_exists && (!ts.exists || ts.is_link))
		return err_("%s is missing: no shim to put back at %s", ts.d, t);
	if (ts.d_exists && ts.same_inode) {
		printf("%sunlink %s (the same file as %s)\n", s->dry_run ? "would " : "", ts.d, t);
		if (!s->dry_run && unlink(ts.d) < 0)
			return err_("unlink %s: %s", ts.d, strerror(errno));
	} else if (ts.d_exists) {
		printf("%srename %s over %s\n", s->dry_run ? "would " : "", ts.d, t);
		if (!s->dry_run && rename(ts.d, t) < 0)
			return err_("rename %s %s: %s", ts.d, t, strerror(errno));
	}
	if (step_divert(s, "--remove"))
		return 1;
	if (!s->dry_run)
		printf("disabled: new containers run %s again; running shims keep theirs\n", t);
	return 0;
}

/* ctrbox's diversions of containerd-shim-runc-v2 files (normally one). */
static int list_ours(const struct setup *s, char out[][PATH_MAX], int max)
{
	char buf[16384];
	char *const argv[] = {(char *)s->divert, "--list", "*/" SHIM_NAME, NULL};
	int st = run(argv, buf, sizeof(buf), 0);
	if (st != 0)
		return st < 0 ? -1 : (err_("%s --list exited %d", s->divert, st), -1);
	int n = 0;
	/* "diversion of /x to /x.distrib by ctrbox" */
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		char of[PATH_MAX], to[PATH_MAX], by[256];
		if (sscanf(l, "diversion of %4095s to %4095s by %255s", of, to, by) == 3 &&
		    !strcmp(by, PKG) && n < max)
			sfmt(out[n++], PATH_MAX, "%s", of);
	}
	return n;
}

static int cmd_disable(struct setup *s)
{
	char ours[8][PATH_MAX];
	int n = list_ours(s, ours, 8);
	if (n < 0)
		return 1;
	if (n == 0) {
		printf("not enabled: no diversion of %s by ctrbox\n", SHIM_NAME);
		return 0;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		sfmt(s->target, sizeof(s->target), "%s", ours[i]);
		rc |= disable_one(s);
	}
	return rc;
}

/* ---- main ---- */

static int usage(FILE *f)
{
	applet_usage(f);
	fprintf(f,
		"\n  enable    make containerd run ctrbox's %s for new containers\n"
		"  disable   go back to the package's shim\n"
		"  status    which shim each running containerd will pick, and why\n"
		"  --shim PATH  the ctrbox binary to link (default: this one)\n"
		"  --dry-run    print the steps, change nothing\n",
		SHIM_NAME);
	return f == stdout ? 0 : 2;
}

static int resolve_shim(struct setup *s, const char *opt)
{
	char real[PATH_MAX];
	if (opt) {
		if (opt[0] != '/')
			return err_("--shim %s: give an absolute path", opt);
		if (!realpath(opt, real))
			return err_("--shim %s: %s", opt, strerror(errno));
		struct stat st;
		if (stat(real, &st) || !S_ISREG(st.st_mode) || access(real, X_OK))
			return err_("--shim %s: not an executable file", opt);
		char out[256];
		char *const argv[] = {real, "--version", NULL};
		int r = run(argv, out, sizeof(out), 1);
		if (r != 0 || strncmp(out, "ctrbox ", 7)) /* stderr is in out too */
			return err_("--shim %s: %s does not answer --version as ctrbox does", opt,
				    real);
		sfmt(s->shim, sizeof(s->shim), "%s", opt);
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", real, sizeof(real) - 1);
	if (n < 0)
		return err_("readlink /proc/self/exe: %s", strerror(errno));
	real[n] = 0;
	sfmt(s->shim, sizeof(s->shim), "%s", real);
	return 0;
}

int setup_main(int argc, char **argv)
{
	static const struct option opts[] = {{"shim", required_argument, NULL, 's'},
					     {"dry-run", no_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	struct setup s = {0};
	const char *shim = NULL;
	int o;
	if (applet_std_flags(argc, argv))
		return 0;
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			shim = optarg;
			break;
		case 'n':
			s.dry_run = 1;
			break;
		case 'h':
			return usage(stdout);
		case 'V':
			applet_std_flags(2, (char *[]){argv[0], "--version", NULL});
			return 0;
		default:
			return usage(stderr);
		}
	}
	const char *cmd = optind < argc ? argv[optind++] : NULL;
	/* options may also follow the command */
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (o == 's')
			shim = optarg;
		else if (o == 'n')
			s.dry_run = 1;
		else
			return o == 'h' ? usage(stdout) : usage(stderr);
	}
	if (!cmd || optind < argc ||
	    (strcmp(cmd, "enable") && strcmp(cmd, "disable") && strcmp(cmd, "status"))) {
		if (cmd)
			err_(optind < argc ? "unexpected argument '%s'" : "unknown command '%s'",
			     optind < argc ? argv[optind] : cmd);
		else
			err_("no command given");
		return usage(stderr);
	}
	if (resolve_shim(&s, shim))
		return 1;
	find_tool("dpkg-divert", s.divert, sizeof(s.divert)) && (s.divert[0] = 0);
	find_tool("dpkg-query", s.query, sizeof(s.query)) && (s.query[0] = 0);
	if (!strcmp(cmd, "status"))
		return cmd_status(&s);
	if (!s.divert[0] || !s.query[0])
		return err_(
		    "no dpkg here (dpkg-divert and dpkg-query not found in %s): refusing to "
		    "switch a node without a package manager that knows its files",
		    TOOL_PATH);
	if (geteuid() != 0 && !s.dry_run)
		return err_("%s needs root", cmd);
	int lock = -1;
	if (!s.dry_run) {
		lock = open(LOCK_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lock < 0 || flock(lock, LOCK_EX) < 0)
			return err_("cannot lock %s: %s", LOCK_DIR, strerror(errno));
	}
	int rc;
	if (!strcmp(cmd, "enable")) {
		rc = load_ctrds(&s) ? 1 : cmd_enable(&s);
		free_ctrds(&s);
	} else {
		rc = cmd_disable(&s);
	}
	if (lock >= 0)
		close(lock);
	return rc;
}
