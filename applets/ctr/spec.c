/* The default OCI runtime spec of `ctr run` (containerd 1.6): see spec.h. */
#include "spec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include <ctrbox/mount.h>
#include "types/mount.pb-c.h"
#include <ctrbox/util.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DEFAULT_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void ctr_spec_opts_init(struct ctr_spec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cpu_shares = 1024;
}

/* ---- string vectors ---- */

struct strv {
	char **v;
	size_t n;
};

static void strv_push(struct strv *s, const char *x)
{
	s->v = realloc(s->v, (s->n + 1) * sizeof(char *));
	s->v[s->n++] = strdup(x);
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static size_t keylen(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (size_t)(eq - e) : strlen(e);
}

/* containerd's replaceOrAppendEnvValues: overrides replace same-key entries, "KEY" alone
 * unsets, new keys are appended. Result replaces *defs. */
static void env_merge(struct strv *defs, char *const *over, size_t nover)
{
	for (size_t i = 0; i < nover; i++) {
		const char *o = over[i];
		size_t kl = keylen(o);
		bool has_eq = strchr(o, '=') != NULL;
		ssize_t found = -1;
		for (size_t j = 0; j < defs->n; j++) {
			/* last index with the key (Go's cache keeps the last one) */
			if (defs->v[j][0] && keylen(defs->v[j]) == kl &&
			    !strncmp(defs->v[j], o, kl))
				found = (ssize_t)j;
		}
		if (!has_eq) {
			if (found >= 0)
				defs->v[found][0] = '\0';
			continue;
		}
		if (found >= 0) {
			free(defs->v[found]);
			defs->v[found] = strdup(o);
		} else {
			strv_push(defs, o);
		}
	}
	size_t w = 0;
	for (size_t j = 0; j < defs->n; j++) {
		if (defs->v[j][0])
			defs->v[w++] = defs->v[j];
		else
			free(defs->v[j]);
	}
	defs->n = w;
}

/* ---- /etc/passwd and /etc/group ---- */

/* Field i (0-based, ':'-separated) of a line into buf; false if missing. */
static bool field(const char *line, size_t len, int i, char *buf, size_t bufsz)
{
	const char *p = line, *end = line + len;
	for (int k = 0; k < i; k++) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		if (!c)
			return false;
		p = c + 1;
	}
	const char *c = memchr(p, ':', (size_t)(end - p));
	size_t fl = c ? (size_t)(c - p) : (size_t)(end - p);
	if (fl >= bufsz)
		fl = bufsz - 1;
	memcpy(buf, p, fl);
	buf[fl] = '\0';
	return true;
}

static bool parse_int(const char *s, long long *out)
{
	if (!*s)
		return false;
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (*e || errno)
		return false;
	*out = v;
	return true;
}

/* Finds a passwd entry by name (name != NULL) or uid. Returns true and fills the outputs. */
static bool passwd_find(const char *passwd, const char *name, long long uid, char *oname,
			size_t onamesz, long long *ouid, long long *ogid)
{
	if (!passwd)
		return false;
	const char *p = passwd;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char n[256], u[32], g[32];
		if (len && p[0] != '#' && field(p, len, 0, n, sizeof(n))) {
			long long vu = 0, vg = 0;
			if (!field(p, len, 2, u, sizeof(u)) || !parse_int(u, &vu))
				vu = 0;
			if (!field(p, len, 3, g, sizeof(g)) || !parse_int(g, &vg))
				vg = 0;
			if (name ? !strcmp(n, name) : vu == uid) {
				snprintf(oname, onamesz, "%s", n);
				*ouid = vu;
				*ogid = vg;
				return true;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return false;
}

static bool group_find(const char *group, const char *name, long long *ogid)
{
	if (!group)
		return false;
	const char *p = group;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char n[256], g[32];
		if (len && p[0] != '#' && field(p, len, 0, n, sizeof(n)) && !strcmp(n, name)) {
			long long v = 0;
			if (field(p, len, 2, g, sizeof(g)) && parse_int(g, &v)) {
				*ogid = v;
				return true;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return false;
}

/* Gids of the groups listing username as a member (not the group named username). */
static size_t supplementary(const char *group, const char *username, uint32_t *gids, size_t max)
{
	size_t n = 0;
	if (!group)
		return 0;
	const char *p = group;
	while (*p && n < max) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char name[256], g[32], members[4096];
		long long v;
		if (len && p[0] != '#' && field(p, len, 0, name, sizeof(name)) &&
		    strcmp(name, username) && field(p, len, 2, g, sizeof(g)) && parse_int(g, &v) &&
		    field(p, len, 3, members, sizeof(members))) {
			char *save = NULL;
			for (char *m = strtok_r(members, ",", &save); m;
			     m = strtok_r(NULL, ",", &save)) {
				if (!strcmp(m, username)) {
					gids[n++] = (uint32_t)v;
					break;
				}
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

int ctr_spec_read_etc(struct Containerd__Types__Mount **mounts, size_t n, char **passwd,
		      char **group)
{
	*passwd = *group = NULL;
	char dir[] = "/tmp/containerd-mountXXXXXX";
	if (!mkdtemp(dir))
		return -errno;
	struct ctrbox_mount_spec *ms = calloc(n ? n : 1, sizeof(*ms));
	char ***opts = calloc(n ? n : 1, sizeof(char **));
	for (size_t i = 0; i < n; i++) {
		ms[i].type = mounts[i]->type;
		ms[i].source = mounts[i]->source;
		ms[i].target = mounts[i]->target;
		/* tryReadonlyMounts: a lone overlay mount gets "ro" */
		opts[i] = calloc(mounts[i]->n_options + 1, sizeof(char *));
		size_t k = 0;
		for (size_t j = 0; j < mounts[i]->n_options; j++)
			opts[i][k++] = mounts[i]->options[j];
		if (n == 1 && !strcmp(mounts[i]->type, "overlay"))
			opts[i][k++] = (char *)"ro";
		ms[i].options = opts[i];
		ms[i].n_options = k;
	}
	int r = ctrbox_mount_all(ms, n, dir);
	if (r == 0) {
		char *p = NULL;
		size_t len;
		if (asprintf(&p, "%s/etc/passwd", dir) >= 0) {
			if (ctrbox_read_file(p, 16 << 20, passwd, &len) < 0)
				*passwd = NULL;
			free(p);
		}
		if (asprintf(&p, "%s/etc/group", dir) >= 0) {
			if (ctrbox_read_file(p, 16 << 20, group, &len) < 0)
				*group = NULL;
			free(p);
		}
		ctrbox_unmount_all(dir, MNT_DETACH);
	}
	rmdir(dir);
	for (size_t i = 0; i < n; i++)
		free(opts[i]);
	free(opts);
	free(ms);
	return r;
}

/* ---- JSON output ---- */

/* key: s (NULL as "") */
static void jstr(struct ctrbox_jsonw *w, const char *key, const char *s)
{
	ctrbox_jsonw_key(w, key);
	ctrbox_jsonw_string(w, s);
}

/* key: [v[0], ..., v[n-1]] */
static void jstrv(struct ctrbox_jsonw *w, const char *key, const char *const *v, size_t n)
{
	ctrbox_jsonw_key(w, key);
	ctrbox_jsonw_array_begin(w);
	for (size_t i = 0; i < n; i++)
		ctrbox_jsonw_string(w, v[i]);
	ctrbox_jsonw_array_end(w);
}

/* The entries of a NULL-terminated list. */
static size_t count(const char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	return n;
}

/* A specs.Mount: type and source left out when empty, options when NULL (omitempty). */
static void jmount(struct ctrbox_jsonw *w, const char *dst, const char *type, const char *src,
		   const char *const *opts, size_t nopts)
{
	ctrbox_jsonw_object_begin(w);
	jstr(w, "destination", dst);
	if (type && *type)
		jstr(w, "type", type);
	if (src && *src)
		jstr(w, "source", src);
	if (opts)
		jstrv(w, "options", opts, nopts);
	ctrbox_jsonw_object_end(w);
}

static const char *const caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE",
};

/* Mounts as destination, type, source, then the options up to NULL. */
static const char *const default_mounts[][10] = {
    {"/proc", "proc", "proc", "nosuid", "noexec", "nodev"},
    {"/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"},
    {"/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
     "mode=0620", "gid=5"},
    {"/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"},
    {"/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"},
    {"/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"},
    {"/run", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"},
};

/* --net-host's */
static const char *const host_mounts[][10] = {
    {"/etc/hosts", "bind", "/etc/hosts", "rbind", "ro"},
    {"/etc/resolv.conf", "bind", "/etc/resolv.conf", "rbind", "ro"},
};

static void jmounts(struct ctrbox_jsonw *w, const char *const (*m)[10], size_t n)
{
	for (size_t i = 0; i < n; i++)
		jmount(w, m[i][0], m[i][1], m[i][2], m[i] + 3, count(m[i] + 3));
}

struct kv {
	char *k, *v;
};

/* Go maps marshal with sorted keys; later duplicates win. */
static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

static void kv_set(struct kv **m, size_t *n, const char *k, const char *v)
{
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*m)[i].k, k)) {
			free((*m)[i].v);
			(*m)[i].v = strdup(v);
			return;
		}
	}
	*m = realloc(*m, (*n + 1) * sizeof(**m));
	(*m)[*n].k = strdup(k);
	(*m)[*n].v = strdup(v);
	(*n)++;
}

/* commands.LabelArgs: "k=v" → k,v; "k" → k,"true" (annotations: 0 = "k" is an error). */
static const char *kv_args(struct kv **m, size_t *n, char **args, size_t nargs, bool labels)
{
	for (size_t i = 0; i < nargs; i++) {
		char *eq = strchr(args[i], '=');
		if (eq) {
			char *k = strndup(args[i], (size_t)(eq - args[i]));
			kv_set(m, n, k, eq + 1);
			free(k);
		} else if (labels) {
			kv_set(m, n, args[i], "true");
		} else {
			return args[i];
		}
	}
	return NULL;
}

static char *errf(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *errf(char **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return NULL;
}

static void strv_from_json(struct strv *out, const struct ctrbox_json *j, int arr)
{
	int n = ctrbox_json_array_len(j, arr);
	for (int i = 0; i < n; i++) {
		char *s = ctrbox_json_strdup(j, ctrbox_json_array_at(j, arr, i));
		if (s) {
			strv_push(out, s);
			free(s);
		}
	}
}

int ctr_spec_resolve_user(const char *userstr, const char *passwd, const char *group, uint32_t *uid,
			  uint32_t *gid, char **err)
{
	char *user = strdup(userstr);
	char *colon = strchr(user, ':');
	long long v, pu, pg;
	char pname[256];
	int r = -1;
	if (!colon) {
		if (parse_int(user, &v) && v >= 0 && v <= INT32_MAX) {
			if (passwd_find(passwd, NULL, v, pname, sizeof(pname), &pu, &pg)) {
				*uid = (uint32_t)pu;
				*gid = (uint32_t)pg;
			} else {
				*uid = (uint32_t)v;
				*gid = 0;
			}
		} else {
			if (!passwd_find(passwd, user, 0, pname, sizeof(pname), &pu, &pg)) {
				errf(err, passwd ? "no users found"
						 : "open /etc/passwd: no such file or directory");
				goto out;
			}
			*uid = (uint32_t)pu;
			*gid = (uint32_t)pg;
		}
	} else {
		*colon = '\0';
		const char *us = user, *gs = colon + 1;
		if (strchr(gs, ':')) {
			errf(err, "invalid USER value %s:%s", us, gs);
			goto out;
		}
		long long g;
		if (parse_int(us, &v) && v >= 0 && v <= INT32_MAX)
			*uid = (uint32_t)v;
		else if (passwd_find(passwd, us, 0, pname, sizeof(pname), &pu, &pg))
			*uid = (uint32_t)pu;
		else {
			errf(err, passwd ? "no users found"
					 : "open /etc/passwd: no such file or directory");
			goto out;
		}
		if (parse_int(gs, &g) && g >= 0 && g <= INT32_MAX)
			*gid = (uint32_t)g;
		else if (group_find(group, gs, &g))
			*gid = (uint32_t)g;
		else {
			errf(err, group ? "no groups found"
					: "open /etc/group: no such file or directory");
			goto out;
		}
	}
	r = 0;
out:
	free(user);
	return r;
}

/* ctr's parseMountFlag: "type=foo,source=/path,destination=/target,options=rbind:rw" (one CSV
 * record, no quoting here) written as a specs.Mount object. 0, or -1 with *err set. */
static int mount_flag_json(struct ctrbox_jsonw *w, const char *spec, char **err)
{
	char *type = NULL, *src = NULL, *dst = NULL, *opts = NULL;
	char *dup = strdup(spec), *save = NULL;
	const char **optv = NULL;
	size_t nopts = 0;
	int r = -1;
	if (!dup) {
		errf(err, "out of memory");
		return -1;
	}
	for (char *fld = strtok_r(dup, ",", &save); fld; fld = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(fld, '=');
		if (!eq) {
			errf(err, "invalid mount specification: expected key=val");
			goto out;
		}
		*eq = '\0';
		char *val = eq + 1;
		if (!strcmp(fld, "type"))
			type = val;
		else if (!strcmp(fld, "source") || !strcmp(fld, "src"))
			src = val;
		else if (!strcmp(fld, "destination") || !strcmp(fld, "dst"))
			dst = val;
		else if (!strcmp(fld, "options"))
			opts = val;
		else {
			char *q = ctrbox_json_quote(fld);
			errf(err, "mount option %s not supported", q ? q : fld);
			free(q);
			goto out;
		}
	}
	if (opts) { /* a:b:c, each ':' ending one */
		nopts = 1;
		for (const char *p = opts; *p; p++)
			nopts += *p == ':';
		optv = calloc(nopts, sizeof(*optv));
		if (!optv) {
			errf(err, "out of memory");
			goto out;
		}
		optv[0] = opts;
		for (size_t i = 1; i < nopts; i++) {
			char *colon = strchr(optv[i - 1], ':');
			*colon = '\0';
			optv[i] = colon + 1;
		}
	}
	jmount(w, dst ? dst : "", type, src, optv, nopts);
	r = 0;
out:
	free(optv);
	free(dup);
	return r;
}

/* process: the user, args, env, cwd, capabilities, rlimits and noNewPrivileges. */
static void spec_process(struct ctrbox_jsonw *w, const struct ctr_spec_opts *o, uint32_t uid,
			 uint32_t gid, const uint32_t *gids, size_t ngids, const struct strv *args,
			 const struct strv *env, const char *cwd)
{
	ctrbox_jsonw_key(w, "process");
	ctrbox_jsonw_object_begin(w);
	if (o->tty) {
		ctrbox_jsonw_key(w, "terminal");
		ctrbox_jsonw_bool(w, true);
	}
	ctrbox_jsonw_key(w, "user");
	ctrbox_jsonw_object_begin(w);
	ctrbox_jsonw_key(w, "uid");
	ctrbox_jsonw_uint(w, uid);
	ctrbox_jsonw_key(w, "gid");
	ctrbox_jsonw_uint(w, gid);
	if (ngids) {
		ctrbox_jsonw_key(w, "additionalGids");
		ctrbox_jsonw_array_begin(w);
		for (size_t i = 0; i < ngids; i++)
			ctrbox_jsonw_uint(w, gids[i]);
		ctrbox_jsonw_array_end(w);
	}
	ctrbox_jsonw_object_end(w);
	if (args->n)
		jstrv(w, "args", (const char *const *)args->v, args->n);
	if (env->n)
		jstrv(w, "env", (const char *const *)env->v, env->n);
	jstr(w, "cwd", cwd);
	ctrbox_jsonw_key(w, "capabilities");
	ctrbox_jsonw_object_begin(w);
	jstrv(w, "bounding", caps, NELEM(caps));
	jstrv(w, "effective", caps, NELEM(caps));
	jstrv(w, "permitted", caps, NELEM(caps));
	ctrbox_jsonw_object_end(w);
	ctrbox_jsonw_key(w, "rlimits");
	ctrbox_jsonw_array_begin(w);
	ctrbox_jsonw_object_begin(w);
	jstr(w, "type", "RLIMIT_NOFILE");
	ctrbox_jsonw_key(w, "hard");
	ctrbox_jsonw_uint(w, 1024);
	ctrbox_jsonw_key(w, "soft");
	ctrbox_jsonw_uint(w, 1024);
	ctrbox_jsonw_object_end(w);
	ctrbox_jsonw_array_end(w);
	if (!o->allow_new_privs) {
		ctrbox_jsonw_key(w, "noNewPrivileges");
		ctrbox_jsonw_bool(w, true);
	}
	ctrbox_jsonw_object_end(w);
}

/* mounts: the defaults, --mount's, --net-host's. 0, or -1 with *err. */
static int spec_mounts(struct ctrbox_jsonw *w, const struct ctr_spec_opts *o, char **err)
{
	ctrbox_jsonw_key(w, "mounts");
	ctrbox_jsonw_array_begin(w);
	jmounts(w, default_mounts, NELEM(default_mounts));
	for (size_t i = 0; i < o->nmounts; i++)
		if (mount_flag_json(w, o->mounts[i], err) < 0)
			return -1;
	if (o->net_host)
		jmounts(w, host_mounts, NELEM(host_mounts));
	ctrbox_jsonw_array_end(w);
	return 0;
}

/* linux.resources: the default unix devices' rules, --memory-limit, --cpu-shares, --cpus. */
static void spec_resources(struct ctrbox_jsonw *w, const struct ctr_spec_opts *o)
{
	static const int devs[][2] = {{1, 3}, {1, 8}, {1, 7},	 {5, 0}, {1, 5},
				      {1, 9}, {5, 1}, {136, -1}, {5, 2}};
	ctrbox_jsonw_key(w, "resources");
	ctrbox_jsonw_object_begin(w);
	ctrbox_jsonw_key(w, "devices");
	ctrbox_jsonw_array_begin(w);
	ctrbox_jsonw_object_begin(w);
	ctrbox_jsonw_key(w, "allow");
	ctrbox_jsonw_bool(w, false);
	jstr(w, "access", "rwm");
	ctrbox_jsonw_object_end(w);
	for (size_t i = 0; i < NELEM(devs); i++) {
		ctrbox_jsonw_object_begin(w);
		ctrbox_jsonw_key(w, "allow");
		ctrbox_jsonw_bool(w, true);
		jstr(w, "type", "c");
		ctrbox_jsonw_key(w, "major");
		ctrbox_jsonw_int(w, devs[i][0]);
		if (devs[i][1] >= 0) {
			ctrbox_jsonw_key(w, "minor");
			ctrbox_jsonw_int(w, devs[i][1]);
		}
		jstr(w, "access", "rwm");
		ctrbox_jsonw_object_end(w);
	}
	ctrbox_jsonw_array_end(w);
	if (o->memory_limit) {
		ctrbox_jsonw_key(w, "memory");
		ctrbox_jsonw_object_begin(w);
		ctrbox_jsonw_key(w, "limit");
		ctrbox_jsonw_int(w, (int64_t)o->memory_limit);
		ctrbox_jsonw_object_end(w);
	}
	if (o->cpu_shares || o->cpus > 0) {
		ctrbox_jsonw_key(w, "cpu");
		ctrbox_jsonw_object_begin(w);
		if (o->cpu_shares) {
			ctrbox_jsonw_key(w, "shares");
			ctrbox_jsonw_uint(w, o->cpu_shares);
		}
		if (o->cpus > 0) {
			ctrbox_jsonw_key(w, "quota");
			ctrbox_jsonw_int(w, (int64_t)(o->cpus * 100000.0));
			ctrbox_jsonw_key(w, "period");
			ctrbox_jsonw_uint(w, 100000);
		}
		ctrbox_jsonw_object_end(w);
	}
	ctrbox_jsonw_object_end(w);
}

/* linux: resources, cgroupsPath, namespaces, maskedPaths, readonlyPaths. */
static void spec_linux(struct ctrbox_jsonw *w, const struct ctr_spec_opts *o)
{
	static const char *const nss[] = {"pid", "ipc", "uts", "mount", "network"};
	static const char *const masked[] = {
	    "/proc/acpi",	   "/proc/asound",     "/proc/kcore",	    "/proc/keys",
	    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	    "/sys/firmware",	   "/proc/scsi",
	};
	static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					       "/proc/sysrq-trigger"};
	ctrbox_jsonw_key(w, "linux");
	ctrbox_jsonw_object_begin(w);
	spec_resources(w, o);
	if (o->cgroup) {
		if (*o->cgroup)
			jstr(w, "cgroupsPath", o->cgroup);
	} else {
		char *cp = NULL;
		if (asprintf(&cp, "/%s/%s", o->ns ? o->ns : "default", o->id ? o->id : "") < 0)
			cp = NULL;
		if (cp) {
			ctrbox_path_clean(cp);
			jstr(w, "cgroupsPath", cp);
			free(cp);
		}
	}
	ctrbox_jsonw_key(w, "namespaces");
	ctrbox_jsonw_array_begin(w);
	for (size_t i = 0; i < NELEM(nss); i++) {
		if (o->net_host && !strcmp(nss[i], "network"))
			continue;
		ctrbox_jsonw_object_begin(w);
		jstr(w, "type", nss[i]);
		ctrbox_jsonw_object_end(w);
	}
	ctrbox_jsonw_array_end(w);
	jstrv(w, "maskedPaths", masked, NELEM(masked));
	jstrv(w, "readonlyPaths", readonly, NELEM(readonly));
	ctrbox_jsonw_object_end(w);
}

/* the process' user, args, env and cwd as ctr_spec_json builds them */
struct spec_proc {
	struct strv env, args;
	char *cwd;
	uint32_t uid, gid;
	uint32_t gids[64];
	size_t ngids;
};

/* what WithImageConfig reads of the image config: config.Env, Entrypoint, Cmd, WorkingDir, User
 */
static int image_config_read(const char *config, struct strv *img_env, struct strv *entry,
			     struct strv *cmd, char **cwd, char **user)
{
	struct ctrbox_json j;
	if (ctrbox_json_parse(&j, config, strlen(config)) < 0)
		return -1;
	int cfg = ctrbox_json_get(&j, 0, "config");
	strv_from_json(img_env, &j, ctrbox_json_get(&j, cfg, "Env"));
	strv_from_json(entry, &j, ctrbox_json_get(&j, cfg, "Entrypoint"));
	strv_from_json(cmd, &j, ctrbox_json_get(&j, cfg, "Cmd"));
	int t = ctrbox_json_get(&j, cfg, "WorkingDir");
	if (t >= 0 && ctrbox_json_is_string(&j, t))
		*cwd = ctrbox_json_strdup(&j, t);
	t = ctrbox_json_get(&j, cfg, "User");
	if (t >= 0 && ctrbox_json_is_string(&j, t))
		*user = ctrbox_json_strdup(&j, t);
	ctrbox_json_free(&j);
	return 0;
}

/* WithUser(config.User) then WithAdditionalGIDs: uid, gid and the gid list, gid first */
static int image_user(const struct ctr_spec_opts *o, const char *user, struct spec_proc *p,
		      char **err)
{
	char uname[256] = "root";
	if (user && *user) {
		if (ctr_spec_resolve_user(user, o->etc_passwd, o->etc_group, &p->uid, &p->gid,
					  err) < 0)
			return -1;
		/* WithAdditionalGIDs(uid): the username of uid, when passwd has it */
		long long pu2, pg2;
		char pname2[256];
		if (passwd_find(o->etc_passwd, NULL, p->uid, pname2, sizeof(pname2), &pu2, &pg2))
			snprintf(uname, sizeof(uname), "%s", pname2);
		else
			uname[0] = '\0';
	}
	if (uname[0])
		p->ngids = supplementary(o->etc_group, uname, p->gids + 1, 63);
	/* ensureAdditionalGids: gid first unless already listed */
	bool have = false;
	for (size_t i = 1; i <= p->ngids; i++)
		have |= p->gids[i] == p->gid;
	if (have) {
		memmove(p->gids, p->gids + 1, p->ngids * sizeof(p->gids[0]));
	} else {
		p->gids[0] = p->gid;
		p->ngids++;
	}
	return 0;
}

/* WithImageConfig over p->env (the --env already there), then ctr's WithProcessArgs */
static int image_apply(const struct ctr_spec_opts *o, struct spec_proc *p, char **err)
{
	struct strv img_env = {0}, entry = {0}, cmd = {0};
	char *user = NULL;
	int rc = -1;
	if (image_config_read(o->image_config, &img_env, &entry, &cmd, &p->cwd, &user) < 0) {
		errf(err, "invalid image config");
		goto out;
	}
	struct strv merged = {0};
	if (img_env.n)
		for (size_t i = 0; i < img_env.n; i++)
			strv_push(&merged, img_env.v[i]);
	else
		strv_push(&merged, DEFAULT_PATH_ENV);
	env_merge(&merged, p->env.v, p->env.n);
	strv_free(&p->env);
	p->env = merged;

	/* WithImageConfig: Entrypoint + Cmd; ctr's WithProcessArgs then replaces them all */
	if (o->nargs) {
		for (size_t i = 0; i < o->nargs; i++)
			strv_push(&p->args, o->args[i]);
	} else {
		for (size_t i = 0; i < entry.n; i++)
			strv_push(&p->args, entry.v[i]);
		for (size_t i = 0; i < cmd.n; i++)
			strv_push(&p->args, cmd.v[i]);
	}
	if (!p->cwd || !*p->cwd) {
		free(p->cwd);
		p->cwd = strdup("/");
	}
	rc = image_user(o, user, p, err);
out:
	strv_free(&img_env);
	strv_free(&entry);
	strv_free(&cmd);
	free(user);
	return rc;
}

/* the process of the spec: --env, the image config, args, --cwd, --tty, --net-host */
static int spec_proc_build(const struct ctr_spec_opts *o, struct spec_proc *p, char **err)
{
	/* WithEnv(--env) is applied before the image config */
	env_merge(&p->env, o->env, o->nenv);
	if (o->image_config) {
		if (image_apply(o, p, err) < 0)
			return -1;
	} else {
		p->cwd = strdup("/");
		for (size_t i = 0; i < o->nargs; i++)
			strv_push(&p->args, o->args[i]);
	}
	if (o->cwd && *o->cwd) {
		free(p->cwd);
		p->cwd = strdup(o->cwd);
	}
	if (o->tty)
		strv_push(&p->env, "TERM=xterm");
	if (o->net_host) {
		char hn[256] = "", *h = NULL;
		gethostname(hn, sizeof(hn) - 1);
		if (asprintf(&h, "HOSTNAME=%s", hn) >= 0) {
			env_merge(&p->env, &h, 1);
			free(h);
		}
	}
	return 0;
}

static void kv_free(struct kv *ann, size_t nann)
{
	for (size_t i = 0; i < nann; i++) {
		free(ann[i].k);
		free(ann[i].v);
	}
	free(ann);
}

/* the spec's annotations: --annotation, then the --label ones, sorted by key */
static int spec_annotations(const struct ctr_spec_opts *o, struct kv **ann, size_t *nann,
			    char **err)
{
	const char *bad = kv_args(ann, nann, o->annotations, o->nannotations, false);
	if (bad) {
		errf(err, "invalid key=value format annotation: %s", bad);
		kv_free(*ann, *nann);
		*ann = NULL;
		*nann = 0;
		return -1;
	}
	kv_args(ann, nann, o->labels, o->nlabels, true);
	if (*nann)
		qsort(*ann, *nann, sizeof(**ann), kv_cmp);
	return 0;
}

/* the spec JSON in containerd's field order; NULL (and *err) when a mount is bad */
static char *spec_write(const struct ctr_spec_opts *o, const struct spec_proc *p,
			const struct kv *ann, size_t nann, char **err)
{
	char *res = NULL;
	struct ctrbox_jsonw w = {0};
	ctrbox_jsonw_object_begin(&w);
	jstr(&w, "ociVersion", "1.0.2-dev");
	spec_process(&w, o, p->uid, p->gid, p->gids, p->ngids, &p->args, &p->env, p->cwd);
	ctrbox_jsonw_key(&w, "root");
	ctrbox_jsonw_object_begin(&w);
	jstr(&w, "path", o->rootfs_path ? o->rootfs_path : "rootfs");
	if (o->read_only) {
		ctrbox_jsonw_key(&w, "readonly");
		ctrbox_jsonw_bool(&w, true);
	}
	ctrbox_jsonw_object_end(&w);
	if (spec_mounts(&w, o, err) == 0) {
		if (nann) {
			ctrbox_jsonw_key(&w, "annotations");
			ctrbox_jsonw_object_begin(&w);
			for (size_t i = 0; i < nann; i++)
				jstr(&w, ann[i].k, ann[i].v);
			ctrbox_jsonw_object_end(&w);
		}
		spec_linux(&w, o);
		ctrbox_jsonw_object_end(&w);
		if (ctrbox_jsonw_finish(&w, &res, NULL))
			errf(err, "out of memory");
	}
	ctrbox_jsonw_free(&w);
	return res;
}

char *ctr_spec_json(const struct ctr_spec_opts *o, char **err)
{
	if (err)
		*err = NULL;
	if (o->privileged)
		return errf(err, "--privileged is not supported");

	struct spec_proc p = {0};
	struct kv *ann = NULL;
	size_t nann = 0;
	char *res = NULL;
	if (spec_proc_build(o, &p, err) == 0 && spec_annotations(o, &ann, &nann, err) == 0) {
		res = spec_write(o, &p, ann, nann, err);
		kv_free(ann, nann);
	}
	strv_free(&p.env);
	strv_free(&p.args);
	free(p.cwd);
	return res;
}
