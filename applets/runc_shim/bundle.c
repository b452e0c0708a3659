/* containerd-shim-runc-v2: ids, the bundle's files, the runtime options of a Create. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include <ctrbox/util.h>
#include "runc/options.pb-c.h"
#include "bundle.h"

int valid_id(const char *id)
{
	return ctrbox_valid_component(id) && strlen(id) <= 76;
}

char *bundle_path(const struct container *c, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", c->bundle, name) < 0 ? NULL : p;
}

/* options.json as the Go shim writes it: snake_case field tags, empty fields omitted. */
static int write_options(const struct container *c, const Containerd__Runc__V1__Options *o)
{
	char *path = bundle_path(c, "options.json"), *doc = NULL;
	struct ctrbox_jsonw w;
	size_t n = 0;
	int r;

	ctrbox_jsonw_init(&w, NULL, 0);
	ctrbox_jsonw_object_begin(&w);
#define OPT_STR(name, v)                                                                           \
	if ((v) && *(v)) {                                                                         \
		ctrbox_jsonw_key(&w, name);                                                        \
		ctrbox_jsonw_string(&w, v);                                                        \
	}
#define OPT_TRUE(name, v)                                                                          \
	if (v) {                                                                                   \
		ctrbox_jsonw_key(&w, name);                                                        \
		ctrbox_jsonw_bool(&w, true);                                                       \
	}
#define OPT_UINT(name, v)                                                                          \
	if (v) {                                                                                   \
		ctrbox_jsonw_key(&w, name);                                                        \
		ctrbox_jsonw_uint(&w, v);                                                          \
	}
	if (o) {
		OPT_TRUE("no_pivot_root", o->no_pivot_root)
		OPT_TRUE("no_new_keyring", o->no_new_keyring)
		OPT_STR("shim_cgroup", o->shim_cgroup)
		OPT_UINT("io_uid", o->io_uid)
		OPT_UINT("io_gid", o->io_gid)
		OPT_STR("binary_name", o->binary_name)
		OPT_STR("root", o->root)
		OPT_STR("criu_path", o->criu_path)
		OPT_TRUE("systemd_cgroup", o->systemd_cgroup)
		OPT_STR("criu_image_path", o->criu_image_path)
		OPT_STR("criu_work_path", o->criu_work_path)
		OPT_STR("task_api_address", o->task_api_address)
		OPT_UINT("task_api_version", o->task_api_version)
	}
#undef OPT_STR
#undef OPT_TRUE
#undef OPT_UINT
	ctrbox_jsonw_object_end(&w);
	r = ctrbox_jsonw_finish(&w, &doc, &n);
	if (r == 0)
		r = path ? ctrbox_write_file(path, doc, n, 0600) : -ENOMEM;
	free(doc);
	free(path);
	if (r == 0 && (path = bundle_path(c, "runtime"))) {
		const char *bin = o && o->binary_name ? o->binary_name : "";
		r = ctrbox_write_file(path, bin, strlen(bin), 0600);
		free(path);
	}
	return r;
}

/* Does config.json give the container a private pid namespace? (Then the kernel kills the
 * rest when the init dies; otherwise the shim must.) Unreadable config counts as no. */
int spec_has_pidns(const char *bundle)
{
	char path[4096], *buf = NULL;
	struct ctrbox_json j;
	int ns, found = 0;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (ctrbox_read_file(path, 16u << 20, &buf, NULL) < 0)
		return 0;
	if (ctrbox_json_parse(&j, buf, strlen(buf)) == 0) {
		ns = ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "linux"), "namespaces");
		for (int i = 0; ns >= 0 && i < ctrbox_json_array_len(&j, ns); i++) {
			int el = ctrbox_json_array_at(&j, ns, i);
			char *type = ctrbox_json_strdup(&j, ctrbox_json_get(&j, el, "type"));
			char *nspath = ctrbox_json_strdup(&j, ctrbox_json_get(&j, el, "path"));
			if (type && !strcmp(type, "pid") && (!nspath || !*nspath))
				found = 1;
			free(type);
			free(nspath);
		}
		ctrbox_json_free(&j);
	}
	free(buf);
	return found;
}

int container_config(struct container *c, const CreateReq *req, char **err)
{
	const Containerd__Runc__V1__Options *o = NULL;
	Containerd__Runc__V1__Options *decoded = NULL;
	const char *root;
	int r;

	if (req->options && req->options->type_url && *req->options->type_url) {
		if (strcmp(req->options->type_url, OPTIONS_TYPE) != 0) {
			if (asprintf(err, "unsupported runtime options type %s",
				     req->options->type_url) < 0)
				*err = NULL;
			return -EINVAL;
		}
		decoded = containerd__runc__v1__options__unpack(NULL, req->options->value.len,
								req->options->value.data);
		if (!decoded) {
			if (asprintf(err, "cannot decode %s", OPTIONS_TYPE) < 0)
				*err = NULL;
			return -EINVAL;
		}
		o = decoded;
	}
	root = o && *o->root ? o->root : DEFAULT_RUNC_ROOT;
	if (asprintf(&c->runc_root, "%s/%s", root, c->svc->ns) < 0)
		c->runc_root = NULL;
	c->runc_log = bundle_path(c, "log.json");
	c->runc_binary = strdup(o && *o->binary_name ? o->binary_name : "");
	c->criu = strdup(o && *o->criu_path ? o->criu_path : "");
	if (o) {
		c->no_pivot = o->no_pivot_root;
		c->no_new_keyring = o->no_new_keyring;
		c->io_uid = o->io_uid;
		c->io_gid = o->io_gid;
		c->rc.systemd_cgroup = o->systemd_cgroup;
		if (*o->criu_work_path)
			c->criu_work = strdup(o->criu_work_path);
	}
	r = (!c->runc_root || !c->runc_log || !c->runc_binary || !c->criu) ? -ENOMEM
									   : write_options(c, o);
	c->rc.binary = c->runc_binary;
	c->rc.root = c->runc_root;
	c->rc.log = c->runc_log;
	c->rc.log_json = 1;
	c->rc.criu = *c->criu ? c->criu : NULL;
	if (decoded)
		containerd__runc__v1__options__free_unpacked(decoded, NULL);
	if (r < 0)
		if (asprintf(err, "write options: %s", strerror(-r)) < 0)
			*err = NULL;
	return r;
}
