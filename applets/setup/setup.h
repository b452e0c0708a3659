/* ctrbox-setup: what a running containerd will exec for io.containerd.runc.v2, found the way it
 * does. */
#ifndef CTRBOX_SETUP_H
#define CTRBOX_SETUP_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define SHIM_NAME "containerd-shim-runc-v2"
#define SETUP_MAX_RUNTIMES 32
#define SETUP_MAX_IMPORTS 16

/* How containerd found the shim binary (containerd's resolveRuntimePath, 1.6 and 2.x alike). */
enum found_how {
	FOUND_NONE,   /* not found: containerd fails to start the task */
	FOUND_CWD,    /* ./containerd-shim-runc-v2 relative to containerd's cwd (checked first) */
	FOUND_PATH,   /* first executable in containerd's PATH (Go's exec.LookPath) */
	FOUND_BESIDE, /* next to containerd's own executable (only when PATH has none) */
};

/* A [...runtimes.NAME] table of containerd's config (CRI's runtimes). */
struct cfg_runtime {
	char name[128];
	char type[PATH_MAX]; /* runtime_type ("" if not set) */
	char path[PATH_MAX]; /* runtime_path (2.x CRI; "" if not set) */
	char file[PATH_MAX]; /* the config file it was read from */
};

struct ctrd {
	pid_t pid;	       /* 0: no containerd runs, the values containerd.service would give */
	char exe[PATH_MAX];    /* /proc/PID/exe (" (deleted)" stripped, as Go's os.Executable) */
	char cwd[PATH_MAX];    /* /proc/PID/cwd */
	char *path_env;	       /* PATH of /proc/PID/environ (heap), NULL if it has none */
	char config[PATH_MAX]; /* --config, or /etc/containerd/config.toml */
	int config_missing;    /* the config file does not exist (containerd's defaults then) */
	char found[PATH_MAX];  /* the file the name resolves to ("" for FOUND_NONE) */
	char found_dir[PATH_MAX]; /* FOUND_PATH: the PATH entry that matched (as written in PATH) */
	enum found_how how;
	struct cfg_runtime rt[SETUP_MAX_RUNTIMES];
	int nrt;
	char unscanned[SETUP_MAX_IMPORTS][PATH_MAX]; /* imports the scan did not read */
	int nunscanned;
	char err[256]; /* why this containerd could not be read ("" if it could) */
};

/* snprintf that is fine with truncation (paths here are bounded by PATH_MAX anyway): returns
 * what vsnprintf returns. */
int sfmt(char *buf, size_t sz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fills c (pid 0: the defaults of containerd.service) and resolves the shim name for it. */
void ctrd_read(struct ctrd *c, pid_t pid);
void ctrd_free(struct ctrd *c);

/* Running containerd pids (comm and executable "containerd"), ascending; returns the count or
 * -errno. */
int ctrd_list(pid_t *pids, int max);

/* Resolves SHIM_NAME for cwd/PATH/exe as containerd does; fills c->found, c->how, c->found_dir. */
void shim_resolve(struct ctrd *c);

/* The binary name containerd derives from a runtime type ("io.containerd.runc.v2" ->
 * "containerd-shim-runc-v2"); 0 if the type is not of that form. */
int shim_binary_name(const char *type, char *out, size_t outsz);

/* Scans TOML text for runtime tables (see resolve.c for what it does not understand). Adds to
 * c->rt; import paths found go to imports (up to max), their count is returned. */
int cfg_scan(struct ctrd *c, const char *text, const char *file, char imports[][PATH_MAX], int max);

/* Whether runtime r of the config runs the runc shim by name or by path (a "runc runtime"). */
int cfg_runtime_is_runc(const struct cfg_runtime *r);

#endif
