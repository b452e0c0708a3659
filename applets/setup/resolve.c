/* ctrbox-setup: finding running containerds in /proc and the shim file each will exec.
 *
 * containerd (1.6 runtime/v2/manager.go, 2.x core/runtime/v2/shim_manager.go: resolveRuntimePath,
 * the same rule in both) turns a runtime name into a file like this:
 *   - an absolute runtime (ctr --runtime /path, CRI runtime_path in 2.x, an absolute runtime_type)
 *     is that file, as it is;
 *   - otherwise the name is "containerd-shim-" + the last two dot-separated parts of the runtime
 *     name (io.containerd.runc.v2 -> containerd-shim-runc-v2; shim BinaryName), and
 *     1. ./NAME in containerd's working directory wins if it exists at all (os.Stat; BinaryPath
 *        is filepath.Abs(filepath.Join(filepath.Dir(runtime), NAME)), the dir being ".");
 *     2. else the first executable NAME in containerd's PATH (exec.LookPath: an empty entry means
 *        ".", a relative entry is taken relative to the cwd, a directory or a file without any x
 *        bit is skipped);
 *     3. else, only when PATH has none, NAME next to containerd's own executable.
 *   containerd caches the answer per name for its lifetime: ctrbox-setup changes the file at that
 *   path, never which path it is, so the cache does not matter to it (but a cwd or PATH copy
 *   added after containerd first ran a runc container is not seen by that containerd).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctrbox/util.h>

#include "setup.h"

/* systemd's default PATH for services (Debian 12's systemd, split-usr build), and its cwd. */
#define SYSTEMD_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_CONFIG "/etc/containerd/config.toml"
#define DEFAULT_EXE "/usr/bin/containerd"
#define MAX_FILE (4 << 20)

int sfmt(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	return n;
}

/* ctrbox_read_file with its error in errno (the callers name the file and errno). */
static char *read_all(const char *path, size_t *len)
{
	char *buf;
	int r = ctrbox_read_file(path, MAX_FILE, &buf, len);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return buf;
}

static int proc_link(pid_t pid, const char *what, char *out, size_t outsz)
{
	char p[64];
	sfmt(p, sizeof(p), "/proc/%d/%s", (int)pid, what);
	ssize_t n = readlink(p, out, outsz - 1);
	if (n < 0)
		return -errno;
	out[n] = 0;
	return 0;
}

static void strip_deleted(char *s)
{
	static const char suf[] = " (deleted)";
	size_t n = strlen(s), k = sizeof(suf) - 1;
	if (n > k && !strcmp(s + n - k, suf))
		s[n - k] = 0;
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int ctrd_list(pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end, p[64], comm[64], exe[PATH_MAX];
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		sfmt(p, sizeof(p), "/proc/%ld/comm", pid);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t r = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (r <= 0)
			continue;
		comm[r] = 0;
		comm[strcspn(comm, "\n")] = 0;
		if (strcmp(comm, "containerd"))
			continue;
		/* comm is only the start of argv[0]'s name: the executable must say it too (a
		 * kernel thread or a zombie has none and is not a running containerd). */
		if (proc_link((pid_t)pid, "exe", exe, sizeof(exe)) < 0)
			continue;
		strip_deleted(exe);
		if (strcmp(base_of(exe), "containerd"))
			continue;
		if (n < max)
			pids[n] = (pid_t)pid;
		n++;
	}
	closedir(d);
	/* ascending, for a stable report */
	int m = n < max ? n : max;
	for (int i = 1; i < m; i++)
		for (int j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			pid_t t = pids[j];
			pids[j] = pids[j - 1], pids[j - 1] = t;
		}
	return m;
}

/* The value of --config / -c (also -config, --c, and NAME=VALUE forms, as Go's flag parsing of
 * urfave/cli takes them) in a NUL-separated command line. */
static const char *cmdline_config(const char *cl, size_t len)
{
	static const char *const flags[] = {"--config", "-config", "-c", "--c"};
	const char *end = cl + len;
	for (const char *a = cl; a < end; a += strlen(a) + 1) {
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			size_t fl = strlen(flags[i]);
			if (strncmp(a, flags[i], fl))
				continue;
			if (a[fl] == '=')
				return a + fl + 1;
			if (!a[fl] && a + fl + 1 < end)
				return a + fl + 1;
		}
		if (!strcmp(a, "--")) /* flags end; containerd takes no config after it */
			break;
	}
	return NULL;
}

static char *environ_path(const char *env, size_t len)
{
	for (const char *a = env; a < env + len; a += strlen(a) + 1)
		if (!strncmp(a, "PATH=", 5))
			return strdup(a + 5);
	return NULL;
}

/* dir + "/" + name, into out; dir relative -> relative to base. */
static void join3(char *out, size_t outsz, const char *base, const char *dir, const char *name)
{
	if (dir[0] == '/' || !base)
		sfmt(out, outsz, "%s/%s", dir, name);
	else
		sfmt(out, outsz, "%s/%s/%s", base, dir, name);
}

/* Go's filepath.Clean for an absolute path: no "//", ".", or "..". */
static void clean_abs(char *p)
{
	char out[PATH_MAX];
	size_t o = 0;
	const char *s = p;
	out[o++] = '/';
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0)
			break;
		if (n == 1 && s[0] == '.') {
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			while (o > 1 && out[o - 1] != '/')
				o--;
		} else if (o + n + 1 < sizeof(out)) {
			if (out[o - 1] != '/')
				out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
	}
	if (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = 0;
	strcpy(p, out);
}

/* exec.LookPath's test of a candidate: exists, not a directory, some execute bit. */
static int is_executable(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111);
}

void shim_resolve(struct ctrd *c)
{
	char cand[PATH_MAX];
	struct stat st;

	c->how = FOUND_NONE;
	c->found[0] = c->found_dir[0] = 0;
	join3(cand, sizeof(cand), NULL, c->cwd, SHIM_NAME);
	if (stat(cand, &st) == 0) {
		c->how = FOUND_CWD;
		goto found;
	}
	const char *p = c->path_env ? c->path_env : "";
	while (*p) { /* Go's filepath.SplitList: "" is no entries, an empty entry is "." */
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char dir[PATH_MAX];
		sfmt(dir, sizeof(dir), "%.*s", (int)n, n ? p : ".");
		join3(cand, sizeof(cand), c->cwd, dir, SHIM_NAME);
		if (is_executable(cand)) {
			c->how = FOUND_PATH;
			sfmt(c->found_dir, sizeof(c->found_dir), "%s", dir);
			goto found;
		}
		if (!e)
			break;
		p = e + 1;
		if (!*p) { /* a trailing ':' is one more empty entry */
			join3(cand, sizeof(cand), c->cwd, ".", SHIM_NAME);
			if (is_executable(cand)) {
				c->how = FOUND_PATH;
				strcpy(c->found_dir, ".");
				goto found;
			}
		}
	}
	if (c->exe[0]) {
		char dir[PATH_MAX];
		sfmt(dir, sizeof(dir), "%s", c->exe);
		char *sl = strrchr(dir, '/');
		if (sl) {
			*sl = 0;
			join3(cand, sizeof(cand), NULL, dir[0] ? dir : "/", SHIM_NAME);
			if (stat(cand, &st) == 0) {
				c->how = FOUND_BESIDE;
				goto found;
			}
		}
	}
	return;
found:
	sfmt(c->found, sizeof(c->found), "%s", cand);
	clean_abs(c->found);
}

int shim_binary_name(const char *type, char *out, size_t outsz)
{
	const char *last = strrchr(type, '.');
	if (!last || last == type || type[0] == '.' || strchr(type, '/'))
		return 0;
	const char *prev = last;
	while (prev > type && prev[-1] != '.')
		prev--;
	sfmt(out, outsz, "containerd-shim-%.*s-%s", (int)(last - prev), prev, last + 1);
	return 1;
}

int cfg_runtime_is_runc(const struct cfg_runtime *r)
{
	char name[PATH_MAX];
	if (r->type[0] == '/')
		return !strcmp(base_of(r->type), SHIM_NAME);
	return shim_binary_name(r->type, name, sizeof(name)) && !strcmp(name, SHIM_NAME);
}

/* A TOML basic ("...") or literal ('...') string at s, into out (backslash escapes other than
 * \" and \\ are kept as written). 0 if s is not one. */
static int toml_string(const char *s, char *out, size_t outsz)
{
	char q = *s;
	if (q != '"' && q != '\'')
		return 0;
	size_t o = 0;
	for (s++; *s && *s != q && *s != '\n'; s++) {
		if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		if (o + 1 < outsz)
			out[o++] = *s;
	}
	out[o] = 0;
	return *s == q;
}

/* One key of a table header or key line: bare (A-Za-z0-9_-) or quoted. Returns the end. */
static const char *toml_key(const char *s, char *out, size_t outsz)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '"' || *s == '\'') {
		char q = *s;
		if (!toml_string(s, out, outsz))
			return NULL;
		s = strchr(s + 1, q) + 1;
	} else {
		size_t o = 0;
		while (isalnum((unsigned char)*s) || *s == '_' || *s == '-') {
			if (o + 1 < outsz)
				out[o++] = *s;
			s++;
		}
		out[o] = 0;
		if (!o)
			return NULL;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The table a header line names: if it is "...runtimes.NAME" (nothing after NAME), NAME goes to
 * rt and 1 is returned. */
static int header_runtime(const char *s, char *rt, size_t rtsz)
{
	char key[PATH_MAX], prev[PATH_MAX] = "";
	int after_runtimes = 0, n = 0;
	while (*s == '[')
		s++;
	for (;;) {
		s = toml_key(s, key, sizeof(key));
		if (!s)
			return 0;
		after_runtimes = !strcmp(prev, "runtimes") && n > 0;
		sfmt(prev, sizeof(prev), "%s", key);
		n++;
		if (*s == '.') {
			s++;
			continue;
		}
		break;
	}
	if (*s != ']' || !after_runtimes)
		return 0;
	sfmt(rt, rtsz, "%s", key);
	return 1;
}

/* A TOML line scan, not a TOML parser. It understands: [table] / [[table]] headers with bare or
 * quoted keys, `runtime_type = "..."` and `runtime_path = "..."` lines directly in a
 * [...runtimes.NAME] table, and a one-line top-level `imports = ["...", ...]`. It does not
 * understand: dotted keys (runtimes.runc.runtime_type = ...), inline tables, multi-line strings or
 * arrays, escapes other than \" and \\, nor a header or key split over lines. A config written
 * that way is not seen; containerd's own `config dump` is the authority. */
int cfg_scan(struct ctrd *c, const char *text, const char *file, char imports[][PATH_MAX], int max)
{
	struct cfg_runtime *cur = NULL;
	int toplevel = 1, nimp = 0;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		const char *s = line;
		line = nl ? nl + 1 : NULL;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#' || *s == '\n' || !*s)
			continue;
		if (*s == '[') {
			char name[128];
			toplevel = 0;
			cur = NULL;
			if (header_runtime(s, name, sizeof(name)) && c->nrt < SETUP_MAX_RUNTIMES) {
				cur = &c->rt[c->nrt++];
				memset(cur, 0, sizeof(*cur));
				sfmt(cur->name, sizeof(cur->name), "%s", name);
				sfmt(cur->file, sizeof(cur->file), "%s", file);
			}
			continue;
		}
		char key[64], val[PATH_MAX];
		const char *v = toml_key(s, key, sizeof(key));
		if (!v || *v != '=')
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		if (toplevel && !strcmp(key, "imports") && *v == '[') {
			for (v++; *v && *v != ']' && *v != '\n';) {
				while (*v == ' ' || *v == '\t' || *v == ',')
					v++;
				if (!toml_string(v, val, sizeof(val)))
					break;
				if (nimp < max)
					sfmt(imports[nimp++], PATH_MAX, "%s", val);
				v = strchr(v + 1, *v) + 1;
			}
			continue;
		}
		if (!cur || !toml_string(v, val, sizeof(val)))
			continue;
		if (!strcmp(key, "runtime_type"))
			sfmt(cur->type, sizeof(cur->type), "%s", val);
		else if (!strcmp(key, "runtime_path"))
			sfmt(cur->path, sizeof(cur->path), "%s", val);
	}
	return nimp;
}

/* Go's filepath.Match for '*' and '?' within one path element ('*' matches a leading dot too).
 * Character classes and escapes are not handled: read_config lists such imports as unscanned. */
static int elem_match(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return 1;
			for (; *s; s++)
				if (elem_match(p, s))
					return 1;
			return 0;
		}
		if (!*s || (*p != '?' && *p != *s))
			return 0;
	}
	return !*s;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands the pattern rest (elements after base) the way filepath.Glob does: a wildcard element
 * matches the names of base's directory, in sorted order; a plain one must exist. Adds to
 * out[n..max) and returns the new count. (Not glibc's glob(3): its tilde expansion links the
 * NSS machinery, 150 kB, into the static binary.) */
static int expand(const char *base, const char *rest, char out[][PATH_MAX], int n, int max)
{
	struct stat st;
	while (*rest == '/')
		rest++;
	if (!*rest) {
		if (n < max && lstat(base, &st) == 0)
			sfmt(out[n++], PATH_MAX, "%s", base);
		return n;
	}
	const char *sl = strchr(rest, '/'), *next = sl ? sl + 1 : "";
	char elem[NAME_MAX + 1], path[PATH_MAX];
	size_t len = sl ? (size_t)(sl - rest) : strlen(rest);
	if (len > NAME_MAX)
		return n;
	memcpy(elem, rest, len);
	elem[len] = 0;
	if (!strpbrk(elem, "*?")) {
		sfmt(path, sizeof(path), "%s/%s", strcmp(base, "/") ? base : "", elem);
		return expand(path, next, out, n, max);
	}
	DIR *d = opendir(base);
	if (!d)
		return n;
	char **names = NULL;
	size_t nn = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !elem_match(elem, e->d_name))
			continue;
		char **t = realloc(names, (nn + 1) * sizeof(*names));
		if (!t || !(t[nn] = strdup(e->d_name))) {
			names = t ? t : names;
			break;
		}
		names = t;
		nn++;
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), name_cmp);
	for (size_t i = 0; i < nn; i++) {
		sfmt(path, sizeof(path), "%s/%s", strcmp(base, "/") ? base : "", names[i]);
		n = expand(path, next, out, n, max);
		free(names[i]);
	}
	free(names);
	return n;
}

/* Reads containerd's config and, one level deep, the files its imports name (globs expanded,
 * relative ones relative to the config's dir, as containerd resolves them). */
static void read_config(struct ctrd *c)
{
	char imports[SETUP_MAX_IMPORTS][PATH_MAX];
	char *text = read_all(c->config, NULL);
	if (!text) {
		if (errno == ENOENT)
			c->config_missing = 1;
		else
			sfmt(c->err, sizeof(c->err), "cannot read %s: %s", c->config,
			     strerror(errno));
		return;
	}
	int n = cfg_scan(c, text, c->config, imports, SETUP_MAX_IMPORTS);
	free(text);
	char dir[PATH_MAX];
	sfmt(dir, sizeof(dir), "%s", c->config);
	char *sl = strrchr(dir, '/');
	if (sl)
		*sl = 0;
	for (int i = 0; i < n; i++) {
		char pat[PATH_MAX];
		join3(pat, sizeof(pat), NULL, imports[i][0] == '/' ? "" : dir, imports[i]);
		if (imports[i][0] == '/')
			sfmt(pat, sizeof(pat), "%s", imports[i]);
		char(*files)[PATH_MAX] = calloc(SETUP_MAX_IMPORTS, PATH_MAX);
		int nf = 0;
		if (!files)
			continue;
		if (strpbrk(pat, "[\\")) { /* a class or an escape: not expanded here */
			if (c->nunscanned < SETUP_MAX_IMPORTS)
				sfmt(c->unscanned[c->nunscanned++], PATH_MAX, "%s", pat);
		} else if (strpbrk(pat, "*?"))
			nf = expand("/", pat, files, 0, SETUP_MAX_IMPORTS);
		else
			sfmt(files[nf++], PATH_MAX, "%s", pat);
		for (int j = 0; j < nf; j++) {
			char *t = read_all(files[j], NULL);
			char sub[1][PATH_MAX];
			if (!t) {
				if (errno != ENOENT && c->nunscanned < SETUP_MAX_IMPORTS)
					sfmt(c->unscanned[c->nunscanned++], PATH_MAX, "%s",
					     files[j]);
				continue;
			}
			if (cfg_scan(c, t, files[j], sub, 0) > 0 &&
			    c->nunscanned <
				SETUP_MAX_IMPORTS) /* imports of imports: not followed */
				sfmt(c->unscanned[c->nunscanned++], PATH_MAX, "imports of %s",
				     files[j]);
			free(t);
		}
		free(files);
	}
}

void ctrd_read(struct ctrd *c, pid_t pid)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	if (!pid) {
		sfmt(c->exe, sizeof(c->exe), "%s", DEFAULT_EXE);
		strcpy(c->cwd, "/");
		c->path_env = strdup(SYSTEMD_DEFAULT_PATH);
		sfmt(c->config, sizeof(c->config), "%s", DEFAULT_CONFIG);
	} else {
		char p[64];
		size_t len;
		int r = proc_link(pid, "exe", c->exe, sizeof(c->exe));
		if (!r)
			r = proc_link(pid, "cwd", c->cwd, sizeof(c->cwd));
		if (r) {
			sfmt(c->err, sizeof(c->err), "cannot read /proc/%d: %s", (int)pid,
			     strerror(-r));
			return;
		}
		strip_deleted(c->exe);
		strip_deleted(c->cwd);
		sfmt(p, sizeof(p), "/proc/%d/environ", (int)pid);
		char *env = read_all(p, &len);
		if (!env) {
			sfmt(c->err, sizeof(c->err), "cannot read %s: %s", p, strerror(errno));
			return;
		}
		c->path_env = environ_path(env, len);
		free(env);
		sfmt(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
		char *cl = read_all(p, &len);
		if (!cl) {
			sfmt(c->err, sizeof(c->err), "cannot read %s: %s", p, strerror(errno));
			return;
		}
		const char *cfg = cmdline_config(cl, len);
		join3(c->config, sizeof(c->config), NULL, cfg && cfg[0] != '/' ? c->cwd : "",
		      cfg ? cfg : DEFAULT_CONFIG + 1);
		if (cfg && cfg[0] == '/')
			sfmt(c->config, sizeof(c->config), "%s", cfg);
		free(cl);
	}
	read_config(c);
	shim_resolve(c);
}

void ctrd_free(struct ctrd *c)
{
	free(c->path_env);
	c->path_env = NULL;
}
