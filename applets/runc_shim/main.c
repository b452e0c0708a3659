/* containerd-shim-runc-v2: start/delete actions and the daemon's wiring (see service.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "applet.h"
#include "google/protobuf/any.pb-c.h"
#include <ctrbox/json.h>
#include <ctrbox/log.h>
#include <ctrbox/mount.h>
#include "runc/options.pb-c.h"
#include "runc_shim.h"
#include <ctrbox/runc.h>
#include "task/shim.pb-c.h"
#include "types/introspection.pb-c.h"
#include <ctrbox/util.h>

/* Grouping: containers that share one shim process hash the group label instead of their id,
 * looked up in ./config.json in this order, as the Go shim does. */
static char *group_id(const struct ctrbox_shim_opts *o)
{
	static const char *const labels[] = {"io.containerd.runc.v2.group",
					     "io.kubernetes.cri.sandbox-id"};
	char *buf = NULL, *group = NULL;
	struct ctrbox_json j;
	int ann;

	if (ctrbox_read_file("config.json", 16u << 20, &buf, NULL) < 0)
		return NULL;
	if (ctrbox_json_parse(&j, buf, strlen(buf)) == 0) {
		ann = ctrbox_json_get(&j, 0, "annotations");
		for (size_t i = 0; ann >= 0 && !group && i < 2; i++)
			group = ctrbox_json_strdup(&j, ctrbox_json_get(&j, ann, labels[i]));
		ctrbox_json_free(&j);
	}
	free(buf);
	return group;
}

/* Moves pid into cgroup (relative to each hierarchy root), v2 or every v1 hierarchy. */
static int join_cgroup(const char *cgroup, pid_t pid)
{
	char path[PATH_MAX], buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid), joined = 0, r = 0;
	struct stat st;

	if (strstr(cgroup, ".."))
		return -EINVAL;
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.procs", cgroup);
		return ctrbox_write_file(path, buf, n, 0644);
	}
	static const char *const v1[] = {"cpu",	    "cpuacct", "cpuset",  "memory",  "pids",
					 "blkio",   "devices", "freezer", "net_cls", "perf_event",
					 "hugetlb", "systemd", "unified"};
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s/cgroup.procs", v1[i], cgroup);
		if (stat(path, &st) < 0)
			continue;
		r = ctrbox_write_file(path, buf, n, 0644);
		if (r < 0)
			return r;
		joined++;
	}
	return joined ? 0 : -ENOENT;
}

static int start_options(const struct ctrbox_shim_opts *o, pid_t daemon, const uint8_t *opts,
			 size_t len)
{
	Google__Protobuf__Any *any;
	Containerd__Runc__V1__Options *ro;
	int r = 0;

	if (len == 0)
		return 0;
	any = google__protobuf__any__unpack(NULL, len, opts);
	if (!any)
		return -EINVAL;
	if (!strcmp(any->type_url, OPTIONS_TYPE)) {
		ro = containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
		if (!ro)
			r = -EINVAL;
		else if (*ro->shim_cgroup)
			r = join_cgroup(ro->shim_cgroup, daemon);
		if (ro)
			containerd__runc__v1__options__free_unpacked(ro, NULL);
	}
	google__protobuf__any__free_unpacked(any, NULL);
	return r;
}

/* ---- -info ---- */

#define FEATURES_TYPE "types.containerd.io/opencontainers/runtime-spec/1/features/Features"

/* JSON without the whitespace between tokens, strings untouched: `runc features` prints the
 * runtime-spec Features indented, and the Go shim hands containerd the same document
 * re-encoded by encoding/json, which for runc's output (Go-encoded, the same fields in the same
 * order) is exactly this. */
static size_t json_compact(char *buf, size_t n)
{
	size_t w = 0;
	int in_str = 0, esc = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (ch == '\\')
				esc = 1;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			continue;
		} else if (ch == '"') {
			in_str = 1;
		}
		buf[w++] = ch;
	}
	return w;
}

static Google__Protobuf__Any *new_any(const char *type_url, uint8_t *value, size_t len)
{
	Google__Protobuf__Any *a = malloc(sizeof(*a));

	if (!a)
		return NULL;
	google__protobuf__any__init(a);
	a->type_url = strdup(type_url);
	a->value.data = value;
	a->value.len = len;
	if (!a->type_url) {
		free(a);
		return NULL;
	}
	return a;
}

/* The OCI runtime's `features` output as the Any the Go shim sends, or NULL when the runtime
 * has no such command or prints no JSON (the Go shim then leaves features out too). */
static Google__Protobuf__Any *runc_features(const char *path)
{
	struct ctrbox_runc_argv av = {0};
	char *out = NULL;
	size_t outlen = 0;
	int wstatus = 0, ok;
	struct ctrbox_json j;

	if (ctrbox_runc_argv_add(&av, path) < 0 || ctrbox_runc_argv_add(&av, "features") < 0 ||
	    ctrbox_runc_run_sync(&av, -1, &out, &outlen, &wstatus) < 0) {
		ctrbox_runc_argv_free(&av);
		return NULL;
	}
	ctrbox_runc_argv_free(&av);
	ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 &&
	     ctrbox_json_parse(&j, out, outlen) == 0;
	if (ok) {
		ok = ctrbox_json_is_object(&j, 0);
		ctrbox_json_free(&j);
	}
	if (!ok) {
		free(out);
		return NULL;
	}
	outlen = json_compact(out, outlen);
	Google__Protobuf__Any *a = new_any(FEATURES_TYPE, (uint8_t *)out, outlen);
	if (!a)
		free(out);
	return a;
}

/* containerd 2.x's question at start-up (CRI: user namespaces, recursive read-only mounts)
 * and for `ctr plugins inspect-runtime`: the runtime options given, re-encoded, and the
 * features of the runc binary they name. */
static int info_hook(const struct ctrbox_shim_opts *o, const uint8_t *opts, size_t len,
		     Containerd__Types__RuntimeInfo *info, char **err)
{
	Google__Protobuf__Any *any = NULL;
	Containerd__Runc__V1__Options *ro = NULL;
	const char *binary = "runc";
	char *path = NULL;
	int r = 0;

	(void)o;
	if (len > 0) {
		any = google__protobuf__any__unpack(NULL, len, opts);
		if (!any) {
			r = -EINVAL;
			(void)!asprintf(err, "failed to read runtime options (*options.Options): "
					     "proto: cannot parse invalid wire-format data");
			goto out;
		}
		if (strcmp(any->type_url, OPTIONS_TYPE)) {
			r = -EINVAL;
			(void)!asprintf(err,
					"failed to read runtime options (*options.Options): type "
					"with url %s: not found",
					any->type_url);
			goto out;
		}
		ro = containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
		if (!ro) {
			r = -EINVAL;
			(void)!asprintf(err, "failed to read runtime options (*options.Options): "
					     "proto: cannot parse invalid wire-format data");
			goto out;
		}
		size_t n = containerd__runc__v1__options__get_packed_size(ro);
		uint8_t *buf = malloc(n ? n : 1);
		if (!buf || !(info->options = new_any(OPTIONS_TYPE, buf, n))) {
			free(buf);
			r = -ENOMEM;
			goto out;
		}
		containerd__runc__v1__options__pack(ro, buf);
		if (*ro->binary_name)
			binary = ro->binary_name;
	}
	r = ctrbox_runc_lookpath(binary, &path);
	if (r == 0 && strchr(binary, '/') && access(path, X_OK) < 0)
		r = -errno;
	if (r < 0) {
		if (r == -ENOMEM)
			goto out;
		if (!strchr(binary, '/'))
			(void)!asprintf(err,
					"failed to look up the path of \"%s\": exec: \"%s\": "
					"executable file not found in $PATH",
					binary, binary);
		else
			(void)!asprintf(err,
					"failed to look up the path of \"%s\": exec: \"%s\": "
					"stat %s: %s",
					binary, binary, binary,
					r == -ENOENT ? "no such file or directory"
						     : "permission denied");
		goto out;
	}
	info->features = runc_features(path);
out:
	free(path);
	if (ro)
		containerd__runc__v1__options__free_unpacked(ro, NULL);
	if (any)
		google__protobuf__any__free_unpacked(any, NULL);
	return r;
}

/* options.json's "root" (runc's state root), or the default. */
static char *options_root(const char *bundle)
{
	char path[PATH_MAX + 32], *buf = NULL, *root = NULL;
	struct ctrbox_json j;

	snprintf(path, sizeof(path), "%s/options.json", bundle);
	if (ctrbox_read_file(path, 1u << 20, &buf, NULL) == 0 &&
	    ctrbox_json_parse(&j, buf, strlen(buf)) == 0) {
		root = ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "root"));
		ctrbox_json_free(&j);
	}
	free(buf);
	if (root && *root)
		return root;
	free(root);
	return strdup(DEFAULT_RUNC_ROOT);
}

/* delete action: clean up after a dead (or finished) shim, as containerd asks after every
 * task and whenever a shim connection drops. The bundle is <parent of cwd>/<id>. */
static int delete_action(const struct ctrbox_shim_opts *o,
			 Containerd__Task__V2__DeleteResponse *resp)
{
	char cwd[PATH_MAX], bundle[PATH_MAX], path[PATH_MAX + 32],
	    *binary = NULL, *root, *rroot = NULL, *pid = NULL, *out = NULL;
	struct ctrbox_runc rc = {0};
	struct ctrbox_runc_argv av = {0};
	size_t outlen;
	int r, wstatus;

	if (!o->id || !ctrbox_valid_component(o->id))
		return -EINVAL;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	snprintf(bundle, sizeof(bundle), "%s", cwd);
	{
		char *slash = strrchr(bundle, '/');
		if (!slash)
			return -EINVAL;
		snprintf(slash + 1, sizeof(bundle) - (slash + 1 - bundle), "%s", o->id);
	}
	snprintf(path, sizeof(path), "%s/runtime", bundle);
	r = ctrbox_read_file(path, 4096, &binary, NULL);
	if (r < 0) {
		fprintf(stderr, "%s: read %s: %s", RUNTIME_NAME, path, strerror(-r));
		return r;
	}
	root = options_root(bundle);
	if (!root || asprintf(&rroot, "%s/%s", root, o->ns) < 0) {
		free(binary);
		free(root);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/log.json", bundle);
	rc.binary = binary;
	rc.root = rroot;
	rc.log = path;
	rc.log_json = 1;
	if (ctrbox_runc_argv_delete(&rc, o->id, 1, &av) == 0) {
		r = ctrbox_runc_run_sync(&av, -1, &out, &outlen, &wstatus);
		if (r < 0 || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
			ctrbox_log_warn("failed to delete container %s: %s", o->id,
					r < 0 ? strerror(-r) : (out ? out : ""));
		ctrbox_runc_argv_free(&av);
	}
	snprintf(path, sizeof(path), "%s/rootfs", bundle);
	r = ctrbox_unmount_all(path, 0);
	if (r < 0)
		ctrbox_log_warn("failed to cleanup rootfs mount: %s", strerror(-r));
	snprintf(path, sizeof(path), "%s/init.pid", bundle);
	if (ctrbox_read_file(path, 64, &pid, NULL) == 0)
		resp->pid = atoi(pid);
	else
		ctrbox_log_warn("failed to read init pid file");
	free(pid);
	free(out);
	free(binary);
	free(root);
	free(rroot);
	return 0;
}

static const struct ctrbox_shim_ops runc_ops = {
    .runtime = RUNTIME_NAME,
    .group_id = group_id,
    .start_options = start_options,
    .delete_shim = delete_action,
    .info = info_hook,
    .init = runc_shim_register,
    .sigchld = runc_shim_sigchld,
    .fini = runc_shim_fini,
};

int shim_runc_v2_main(int argc, char **argv)
{
	if (applet_std_flags(argc, argv)) /* ctrbox's --help/--version; -v is the shim's */
		return 0;
	return ctrbox_shim_run(&runc_ops, argc, argv);
}
