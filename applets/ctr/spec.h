/* The default OCI runtime spec ctr 1.6 builds for `ctr run` / `ctr containers create`
 * (containerd's oci.WithDefaultSpec + WithDefaultUnixDevices + WithImageConfig + ctr's flags),
 * written as Go's encoding/json would marshal specs.Spec (same key order, omitempty). */
#ifndef CTRBOX_CTR_SPEC_H
#define CTRBOX_CTR_SPEC_H

#include <stddef.h>
#include <stdint.h>

struct ctr_spec_opts {
	const char *ns;		  /* namespace (cgroupsPath "/<ns>/<id>") */
	const char *id;		  /* container id */
	const char *image_config; /* the image config blob (JSON), NULL = none (--rootfs) */
	const char *rootfs_path;  /* root.path; NULL = "rootfs" */
	char **args;		  /* CMD ARGS... after ID (replace Entrypoint+Cmd); 0 = image's */
	size_t nargs;
	char **env; /* --env K=V (in order, replacing same keys) */
	size_t nenv;
	const char *cwd;       /* --cwd; NULL = image's WorkingDir or "/" */
	int tty;	       /* --tty: process.terminal + TERM=xterm */
	int privileged;	       /* --privileged is NOT implemented (returns NULL, errno ENOTSUP) */
	int read_only;	       /* --read-only: root.readonly */
	int net_host;	       /* --net-host: no network namespace, host hosts/resolv.conf mounts,
				  HOSTNAME=<hostname> env */
	int allow_new_privs;   /* --allow-new-privs */
	uint64_t memory_limit; /* --memory-limit, 0 = unset */
	uint64_t cpu_shares;   /* --cpu-shares (ctr's default 1024; 0 = unset) */
	double cpus;	       /* --cpus, 0 = unset */
	const char *cgroup;    /* --cgroup: cgroupsPath override; NULL = default */
	char **labels;	       /* --label k=v: become annotations too (as ctr does) */
	size_t nlabels;
	char **mounts; /* --mount type=..,src=..,dst=..,options=a:b (appended to the defaults) */
	size_t nmounts;
	char **annotations; /* --annotation k=v */
	size_t nannotations;
	/* The rootfs's /etc/passwd and /etc/group (NUL-terminated contents, NULL = missing), for
	 * the image config's User and the additional gids, as containerd reads them from a
	 * temporary mount of the snapshot. ctr_spec_read_etc fills them from a mounted rootfs. */
	const char *etc_passwd;
	const char *etc_group;
};

/* Sets o to ctr's flag defaults (cpu_shares 1024, everything else unset). */
void ctr_spec_opts_init(struct ctr_spec_opts *o);

/* Mounts the snapshot's mounts read-only on a temporary directory (as containerd's
 * mount.WithTempMount) and reads etc/passwd and etc/group into *passwd / *group (malloc'd,
 * NULL when absent). mounts: containerd.types.Mount messages. Returns 0, or -errno when the
 * mount failed (both left NULL). */
struct Containerd__Types__Mount;
int ctr_spec_read_etc(struct Containerd__Types__Mount **mounts, size_t n, char **passwd,
		      char **group);

/* containerd's oci.WithUser resolution of "uid", "name", "uid:gid", "name:group" against the
 * given /etc/passwd and /etc/group contents (NULL = missing). 0, or -1 with *err (malloc'd).
 * The additional gids of WithUser are then just [gid]. */
int ctr_spec_resolve_user(const char *user, const char *passwd, const char *group, uint32_t *uid,
			  uint32_t *gid, char **err);

/* The spec JSON (malloc'd, NUL-terminated), or NULL with *err (malloc'd message, for
 * "ctr: <err>") on a bad image config or option. */
char *ctr_spec_json(const struct ctr_spec_opts *o, char **err);

#endif
