/* ctrbox-setup's resolution (containerd's resolveRuntimePath rule) and its config line scan. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "setup/setup.h"
#include "unit.h"

UNIT_TEST(test_setup_binary_name)
{
	char b[64];
	CHECK(shim_binary_name("io.containerd.runc.v2", b, sizeof(b)));
	CHECK_STR(b, "containerd-shim-runc-v2");
	CHECK(shim_binary_name("runc.v2", b, sizeof(b)));
	CHECK_STR(b, "containerd-shim-runc-v2");
	CHECK(shim_binary_name("io.containerd.kata.v2", b, sizeof(b)));
	CHECK_STR(b, "containerd-shim-kata-v2");
	CHECK(!shim_binary_name("runc", b, sizeof(b)));
	CHECK(!shim_binary_name(".runc.v2", b, sizeof(b))); /* 2.x: empty first part */
	CHECK(!shim_binary_name("/usr/bin/containerd-shim-runc-v2", b, sizeof(b)));
}

static const char cfg_v2[] =
    "version = 2\n"
    "imports = [\"/etc/containerd/conf.d/*.toml\", 'rel.toml']\n"
    "# [plugins.\"x\".containerd.runtimes.commented]\n"
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
    "  default_runtime_name = \"runc\"\n"
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
    "  runtime_type = \"io.containerd.runc.v2\"\n"
    "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
    "    runtime_path = \"/not/this/one\"\n"
    "    BinaryName = \"/usr/bin/runc\"\n"
    "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.\"fast.one\"]\n"
    "  runtime_type = 'io.containerd.runc.v2'\n"
    "  runtime_path = \"/opt/fast/containerd-shim-runc-v2\" # a comment\n"
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.kata]\n"
    "  runtime_type = \"io.containerd.kata.v2\"\n"
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.abs]\n"
    "  runtime_type = \"/usr/local/bin/containerd-shim-runc-v2\"\n"
    "[other]\n"
    "  imports = [\"/not/top/level\"]\n"
    "  runtime_type = \"io.containerd.runc.v2\"\n";

UNIT_TEST(test_setup_cfg_scan)
{
	struct ctrd *c = calloc(1, sizeof(*c));
	char imports[4][PATH_MAX];
	CHECK(c);
	if (!c)
		return;
	CHECK(cfg_scan(c, cfg_v2, "/cfg", imports, 4) == 2);
	CHECK_STR(imports[0], "/etc/containerd/conf.d/*.toml");
	CHECK_STR(imports[1], "rel.toml");
	CHECK(c->nrt == 4);
	CHECK_STR(c->rt[0].name, "runc");
	CHECK_STR(c->rt[0].type, "io.containerd.runc.v2");
	CHECK_STR(c->rt[0].path, ""); /* the .options table's key is not the runtime's */
	CHECK(cfg_runtime_is_runc(&c->rt[0]));
	CHECK_STR(c->rt[1].name, "fast.one");
	CHECK_STR(c->rt[1].path, "/opt/fast/containerd-shim-runc-v2");
	CHECK_STR(c->rt[1].file, "/cfg");
	CHECK(cfg_runtime_is_runc(&c->rt[1]));
	CHECK_STR(c->rt[2].name, "kata");
	CHECK(!cfg_runtime_is_runc(&c->rt[2]));
	CHECK_STR(c->rt[3].type, "/usr/local/bin/containerd-shim-runc-v2");
	CHECK(cfg_runtime_is_runc(&c->rt[3]));
	free(c);
}

static void touch(const char *dir, const char *name, mode_t mode)
{
	char p[PATH_MAX];
	sfmt(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(chmod(p, mode) == 0);
}

static void resolve_in(struct ctrd *c, const char *cwd, const char *path, const char *exe)
{
	memset(c, 0, sizeof(*c));
	sfmt(c->cwd, sizeof(c->cwd), "%s", cwd);
	sfmt(c->exe, sizeof(c->exe), "%s", exe);
	c->path_env = path ? strdup(path) : NULL;
	shim_resolve(c);
}

UNIT_TEST(test_setup_resolve_rule)
{
	char root[] = "/tmp/ctrbox-unit-setup.XXXXXX", d[8][PATH_MAX], want[PATH_MAX],
	     p[PATH_MAX * 3];
	struct ctrd *c = calloc(1, sizeof(*c));
	CHECK(c && mkdtemp(root));
	if (!c)
		return;
	static const char *const sub[] = {"cwd",    "a",   "b",	  "dir",
					  "noexec", "exe", "rel", "cwd/rel"};
	for (int i = 0; i < 8; i++) {
		sfmt(d[i], sizeof(d[i]), "%s/%s", root, sub[i]);
		CHECK(mkdir(d[i], 0700) == 0);
	}
	touch(d[1], SHIM_NAME, 0755);
	touch(d[2], SHIM_NAME, 0755);
	touch(d[4], SHIM_NAME, 0644); /* no x bit: LookPath skips it */
	sfmt(p, sizeof(p), "%s/%s", d[3], SHIM_NAME);
	CHECK(mkdir(p, 0700) == 0); /* a directory: skipped */

	/* PATH order, skipping a directory and a file without x */
	sfmt(p, sizeof(p), "%s:%s:%s:%s", d[3], d[4], d[2], d[1]);
	resolve_in(c, d[0], p, "/nonexistent/containerd");
	CHECK(c->how == FOUND_PATH);
	sfmt(want, sizeof(want), "%s/%s", d[2], SHIM_NAME);
	CHECK_STR(c->found, want);
	CHECK_STR(c->found_dir, d[2]);
	ctrd_free(c);

	/* a relative entry is relative to containerd's cwd; "" is "." */
	touch(d[7], SHIM_NAME, 0755);
	resolve_in(c, d[0], "rel:/x", "/nonexistent/containerd");
	sfmt(want, sizeof(want), "%s/%s", d[7], SHIM_NAME);
	CHECK(c->how == FOUND_PATH);
	CHECK_STR(c->found, want);
	ctrd_free(c);

	/* nothing in PATH (and PATH unset): the one beside containerd's executable */
	touch(d[5], SHIM_NAME, 0755);
	sfmt(p, sizeof(p), "%s/containerd", d[5]);
	resolve_in(c, d[0], NULL, p);
	sfmt(want, sizeof(want), "%s/%s", d[5], SHIM_NAME);
	CHECK(c->how == FOUND_BESIDE);
	CHECK_STR(c->found, want);
	ctrd_free(c);
	resolve_in(c, d[0], d[3], "/nonexistent/containerd");
	CHECK(c->how == FOUND_NONE);
	CHECK_STR(c->found, "");
	ctrd_free(c);

	/* a copy in the cwd wins over PATH, executable or not (os.Stat only) */
	touch(d[0], SHIM_NAME, 0600);
	sfmt(p, sizeof(p), "%s", d[1]);
	resolve_in(c, d[0], p, "/nonexistent/containerd");
	sfmt(want, sizeof(want), "%s/%s", d[0], SHIM_NAME);
	CHECK(c->how == FOUND_CWD);
	CHECK_STR(c->found, want);
	ctrd_free(c);
	/* and ":" (an empty entry) finds that same cwd copy through PATH too, but cwd is first */
	resolve_in(c, d[0], ":", "/nonexistent/containerd");
	CHECK(c->how == FOUND_CWD);
	ctrd_free(c);

	char *argv[] = {"rm", "-rf", root, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	int ws;
	CHECK(pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && !WEXITSTATUS(ws));
	free(c);
}
