/* runc CLI wrapper after go-runc: exact argv per subcommand, execve without a shell, output
 * capture, and the error texts the Go shim builds from runc's JSON log. */
#ifndef CTRBOX_RUNC_H
#define CTRBOX_RUNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Global options; strings are borrowed. Empty strings and zero flags are left out of argv. */
struct ctrbox_runc {
	const char *binary; /* NULL or "" = "runc", looked up in $PATH */
	const char *root;   /* --root: the caller joins <root>/<namespace> */
	const char *log;    /* --log, e.g. <bundle>/log.json */
	int log_json;	    /* --log-format json */
	int systemd_cgroup; /* --systemd-cgroup */
	int debug;	    /* --debug (the Go shim never sets it) */
	const char *criu;   /* --criu */
};

/* A NULL-terminated argv that owns its strings. Zero-initialise it (= {0}); every builder
 * below fills an empty one and leaves it empty again on failure. v[0] is the binary as
 * configured ("runc" or binary_name), as go-runc passes it. */
struct ctrbox_runc_argv {
	char **v;
	size_t n, cap;
};

/* Appends a copy of s (keeping v NULL-terminated): 0 or -ENOMEM. */
int ctrbox_runc_argv_add(struct ctrbox_runc_argv *a, const char *s);
/* Frees the strings and the vector and zeroes a (safe on an empty one). */
void ctrbox_runc_argv_free(struct ctrbox_runc_argv *a);

struct ctrbox_runc_create_opts {
	const char *bundle;	    /* --bundle (required) */
	const char *pid_file;	    /* --pid-file, made absolute and cleaned (filepath.Abs) */
	const char *console_socket; /* --console-socket */
	bool no_pivot, no_new_keyring, detach;
};

struct ctrbox_runc_exec_opts {
	const char *process; /* --process: the OCI Process JSON file (required) */
	const char *console_socket;
	bool detach;
	const char *pid_file; /* made absolute like create's */
};

/* What checkpoint and restore share (go-runc CheckpointOpts, the options the shim uses). */
struct ctrbox_runc_criu_opts {
	const char *image_path, *work_path, *parent_path;
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
	const char *const *empty_ns; /* --empty-ns, once each */
	size_t n_empty_ns;
};

struct ctrbox_runc_checkpoint_opts {
	struct ctrbox_runc_criu_opts criu;
	bool leave_running;
};

struct ctrbox_runc_restore_opts {
	struct ctrbox_runc_criu_opts criu;
	const char *bundle; /* --bundle (required) */
	const char *pid_file;
	const char *console_socket;
	bool detach, no_pivot, no_subreaper;
};

/* Builders: the global options in go-runc's order (--root, --debug, --log, --log-format,
 * --criu, --systemd-cgroup), then the subcommand exactly as spec task-service.md §5. All
 * return 0 or -ENOMEM (-EINVAL for a missing required field, -errno from getcwd). */
int ctrbox_runc_argv_create(const struct ctrbox_runc *r, const char *id,
			    const struct ctrbox_runc_create_opts *o, struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_run(const struct ctrbox_runc *r, const char *id,
			 const struct ctrbox_runc_create_opts *o, struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_start(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_exec(const struct ctrbox_runc *r, const char *id,
			  const struct ctrbox_runc_exec_opts *o, struct ctrbox_runc_argv *a);
/* kill [--all] <id> <signo as decimal> */
int ctrbox_runc_argv_kill(const struct ctrbox_runc *r, const char *id, int sig, int all,
			  struct ctrbox_runc_argv *a);
/* delete [--force] <id> */
int ctrbox_runc_argv_delete(const struct ctrbox_runc *r, const char *id, int force,
			    struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_pause(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_resume(const struct ctrbox_runc *r, const char *id,
			    struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_state(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a);
/* ps --format json <id> */
int ctrbox_runc_argv_ps(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a);
/* list --format=json (one word, as go-runc) */
int ctrbox_runc_argv_list(const struct ctrbox_runc *r, struct ctrbox_runc_argv *a);
/* events --stats <id> */
int ctrbox_runc_argv_stats(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a);
/* update --resources <file> <id>; NULL file = "-" (the JSON on stdin, as the shim does) */
int ctrbox_runc_argv_update(const struct ctrbox_runc *r, const char *id, const char *resources,
			    struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_checkpoint(const struct ctrbox_runc *r, const char *id,
				const struct ctrbox_runc_checkpoint_opts *o,
				struct ctrbox_runc_argv *a);
int ctrbox_runc_argv_restore(const struct ctrbox_runc *r, const char *id,
			     const struct ctrbox_runc_restore_opts *o, struct ctrbox_runc_argv *a);

/* Resolves a binary like Go's exec.LookPath: a name with a slash is used as is, otherwise the
 * first $PATH entry ("" = ".") holding a non-directory with an execute bit. malloc'd path in
 * *out; -ENOENT when not found. */
int ctrbox_runc_lookpath(const char *name, char **out);

/* fork + execve of a->v: the child gets in/out/err as fds 0/1/2 (-1 = /dev/null) and no other
 * fd, default signal mask and dispositions, PR_SET_PDEATHSIG SIGKILL (as the Go shim), and
 * environ without NOTIFY_SOCKET. Returns the pid, which the caller reaps, or -errno: a binary
 * that is missing or fails to exec is reported here (the failed child is reaped). */
pid_t ctrbox_runc_spawn(const struct ctrbox_runc_argv *a, int in, int out, int err);

/* Runs a->v to completion with stdout and stderr together in a memfd (go-runc's combined
 * output), waiting for that pid only: for the shim's delete action and tools, never the
 * shim's loop (it would steal the reaper's exits). *out is malloc'd and NUL-terminated.
 * Returns 0 whatever the exit status (in *wstatus), or -errno. */
int ctrbox_runc_run_sync(const struct ctrbox_runc_argv *a, int in, char **out, size_t *outlen,
			 int *wstatus);

/* The msg of the last complete line with "level":"error" in runc's JSON log, trimmed like
 * Go's strings.TrimSpace (looks at the last 1 MiB). 0 with *msg malloc'd, or *msg = NULL if
 * there is none; -errno if the log cannot be read (a missing log is -ENOENT). */
int ctrbox_runc_last_error(const char *log_path, char **msg);

/* Error texts, each malloc'd (NULL on ENOMEM). They never carry containerd's ": unknown":
 * containerd's errdefs.FromGRPC appends that on its side for code Unknown.
 *
 * go-runc's error for a run that exited non-zero: "<binary> did not terminate successfully:
 * exit status <N>" (N = 128 + signal if killed), then ": <output>" when the output was
 * captured (output != NULL, even if empty); pass NULL when runc's stdout/stderr went to the
 * container's pipes, where go-runc has no output to add. */
char *ctrbox_runc_exit_error(const struct ctrbox_runc *r, int wstatus, const char *output);
/* Go's os/exec text for a runc that could not be started (err from ctrbox_runc_spawn): `exec:
 * "runc": executable file not found in $PATH`, or "fork/exec <path>: <errno text>". */
char *ctrbox_runc_exec_error(const struct ctrbox_runc *r, int err);
/* containerd's runtimeError(rErr, op): "<op>: <last log error>", or "<op>: <runc_err>" when the
 * log has none, or "<op>: unable to retrieve OCI runtime error (open <log>: <errno text>):
 * <runc_err>" when the log cannot be read. NULL/"" log_path = no log. */
char *ctrbox_runc_runtime_error(const char *op, const char *log_path, const char *runc_err);
/* ctrbox_runc_runtime_error(op, r->log, ctrbox_runc_exit_error(r, wstatus, output)): what the Go
 * shim returns for a failed create/start/exec/pause/resume/restore/killall (task-service.md §1). */
char *ctrbox_runc_error_message(const char *op, const struct ctrbox_runc *r, const char *output,
				int wstatus);

/* runc state <id> output. Strings are malloc'd and "" when absent (Go's zero value). */
struct ctrbox_runc_state {
	char *id;
	int pid;
	char *status; /* "created", "running", "paused", "stopped" */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 with nanoseconds, as runc prints it */
};

/* -EINVAL on bad JSON or a field of the wrong type (as Go's Unmarshal would fail). */
int ctrbox_runc_parse_state(const char *json, size_t len, struct ctrbox_runc_state *st);
/* Frees st's strings (not st) and zeroes them. */
void ctrbox_runc_state_free(struct ctrbox_runc_state *st);
/* runc ps --format json: a JSON array of pids, or null (no processes: *pids NULL, *n 0). */
int ctrbox_runc_parse_ps(const char *json, size_t len, int **pids, size_t *n);

/* runc list --format json: an array of states (or null), each like runc state's; owner and
 * ociVersion are left out. 0 with *out (calloc'd, *n entries, NULL when none; free with
 * ctrbox_runc_list_free), -EINVAL on bad JSON or a field of the wrong type, -ENOMEM. */
int ctrbox_runc_parse_list(const char *json, size_t len, struct ctrbox_runc_state **out, size_t *n);
/* Frees n states of a ctrbox_runc_parse_list array and the array (NULL is a no-op). */
void ctrbox_runc_list_free(struct ctrbox_runc_state *v, size_t n);

/* "events [--interval <interval_s>s] <id>" (0 = runc's default interval, 5 s): a stream of
 * JSON lines (ctrbox_runc_parse_event) for as long as the container runs; "events --stats" is
 * ctrbox_runc_argv_stats. 0, -ENOMEM or -EINVAL (no id). Run it as a job whose out is a pipe
 * the caller reads line by line on its loop. */
int ctrbox_runc_argv_events(const struct ctrbox_runc *r, const char *id, unsigned interval_s,
			    struct ctrbox_runc_argv *a);

enum ctrbox_runc_event_type {
	CTRBOX_RUNC_EVENT_OTHER, /* a type runc may add later: see type_name */
	CTRBOX_RUNC_EVENT_STATS, /* "stats": the numbers below */
	CTRBOX_RUNC_EVENT_OOM,	 /* "oom": the container hit its memory limit */
};

/* The numbers a stats event carries that shims use (0 when runc left them out; a limit past
 * int64, runc's "none" on some kernels, is UINT64_MAX). */
struct ctrbox_runc_stats {
	uint64_t cpu_total, cpu_kernel, cpu_user;			/* ns, data.cpu.usage */
	uint64_t mem_usage, mem_limit, mem_max, mem_failcnt, mem_cache; /* bytes, data.memory */
	uint64_t pids_current, pids_limit;				/* data.pids */
};

/* One line of runc events (or the one of events --stats). id is malloc'd ("" if absent). */
struct ctrbox_runc_event {
	enum ctrbox_runc_event_type type;
	char type_name[16]; /* the "type" as runc wrote it, truncated */
	char *id;
	struct ctrbox_runc_stats stats; /* for CTRBOX_RUNC_EVENT_STATS */
};

/* Parses one events line into *ev (free with ctrbox_runc_event_free, also after an error):
 * 0, -EINVAL on bad JSON or a field of the wrong type, -ENOMEM. */
int ctrbox_runc_parse_event(const char *line, size_t len, struct ctrbox_runc_event *ev);
/* Frees what ctrbox_runc_parse_event allocated in ev (not ev itself). */
void ctrbox_runc_event_free(struct ctrbox_runc_event *ev);

/* ---- the console socket of a terminal container ---- */

struct ctrbox_loop;
struct ctrbox_runc_console_socket;

/* Makes a private directory (mkdtemp, 0700) "ptyXXXXXX" under dir (NULL or "" =
 * $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp) with a listening unix socket "pty.sock" in it,
 * non-blocking and close-on-exec: its path goes to runc's --console-socket. 0 with *out, or
 * -ENAMETOOLONG (the path must fit sun_path), -ENOMEM, -errno. */
int ctrbox_runc_console_socket_new(const char *dir, struct ctrbox_runc_console_socket **out);
/* The socket's path ("" once the master was taken: the socket is gone then). */
const char *ctrbox_runc_console_socket_path(const struct ctrbox_runc_console_socket *cs);
/* The listening fd (-1 once taken), to poll on a loop of one's own. */
int ctrbox_runc_console_socket_fd(const struct ctrbox_runc_console_socket *cs);
/* Accepts one connection and takes the pty master from it (exactly one SCM_RIGHTS fd, as
 * go-runc requires; close-on-exec), then removes the socket and its directory. 0 with *master
 * (the caller's to close), -EAGAIN if nobody connected yet, -EBADMSG if the connection carried
 * no single fd (the socket is removed all the same), -EBADF once taken. */
int ctrbox_runc_console_socket_take(struct ctrbox_runc_console_socket *cs, int *master);

/* A receive is over: master is the pty master (the callee's to close) or -errno (-ETIMEDOUT,
 * -EBADMSG, ...). cs may be freed from inside. */
typedef void (*ctrbox_runc_console_cb)(struct ctrbox_runc_console_socket *cs, int master,
				       void *data);
/* Waits on l for runc's connection and calls cb once with the master (take's result), or with
 * -ETIMEDOUT after timeout_ms (0 = no timeout). 0, -EBUSY (a receive is waiting), -EBADF
 * (taken already), -ENOMEM. Freeing cs cancels the receive without calling cb. */
int ctrbox_runc_console_receive(struct ctrbox_runc_console_socket *cs, struct ctrbox_loop *l,
				uint64_t timeout_ms, ctrbox_runc_console_cb cb, void *data);
/* Cancels a waiting receive (no call), closes the listener, removes the socket and its
 * directory, frees cs. NULL is a no-op. */
void ctrbox_runc_console_socket_free(struct ctrbox_runc_console_socket *cs);

/* ---- asynchronous jobs: a runc child whose exit comes through the process monitor ---- */

struct ctrbox_monitor;
struct ctrbox_runc_job;

/* For ctrbox_runc_job_io's out/err: /dev/null, not captured. */
#define CTRBOX_RUNC_JOB_DEVNULL (-2)
/* A job's captured output is read back up to this many bytes (sized to what runc wrote). */
#define CTRBOX_RUNC_JOB_OUTPUT_MAX 65536

/* A job's stdio (borrowed: the caller closes its fds after ctrbox_runc_job_start returns).
 * in: an fd, or -1 for /dev/null. out/err: an fd, -1 for the job's capture (one memfd that
 * stdout and stderr share, go-runc's combined output) or CTRBOX_RUNC_JOB_DEVNULL. */
struct ctrbox_runc_job_io {
	int in, out, err;
};

/* A job is done: ok = exited 0; wstatus raw (waitpid's). err is never NULL: on failure the
 * go-runc-compatible error (ctrbox_runc_error_message(op, r, output if out and err were both
 * captured else NULL, wstatus); op alone if that could not be built), on success op. output
 * (NUL-terminated, outlen bytes, NULL only on ENOMEM) is what the capture got, empty when
 * nothing was captured. All three are the job's, valid until done returns; j is freed right
 * after. */
typedef void (*ctrbox_runc_job_done)(struct ctrbox_runc_job *j, int ok, int wstatus,
				     const char *err, const char *output, size_t outlen,
				     void *data);

/* Spawns av (ctrbox_runc_spawn) with io (NULL = all captured, in from /dev/null), logs
 * "runc <op's verb> pid N for <id>" at debug level (op "OCI runtime create failed" logs
 * "create") and watches the pid on m; a stale early exit of a reused pid is dropped first. done
 * runs once, from ctrbox_monitor_reap, then the job is freed. op is the error prefix, copied;
 * r is borrowed until done runs (its log and binary make the error text); av and id are only
 * read here. Returns 0 with *out (if out is not NULL) set, or -errno on spawn failure (done
 * never runs; ctrbox_runc_spawn_error(r, op, err) words it). */
int ctrbox_runc_job_start(const struct ctrbox_runc *r, struct ctrbox_monitor *m,
			  const struct ctrbox_runc_argv *av, const struct ctrbox_runc_job_io *io,
			  const char *op, const char *id, ctrbox_runc_job_done done, void *data,
			  struct ctrbox_runc_job **out);

/* The job's runc pid. */
pid_t ctrbox_runc_job_pid(const struct ctrbox_runc_job *j);

/* Forgets a job whose done has not run (its owner goes away): unwatches it on m and frees it
 * without calling done. The runc child is not signalled; its exit will land in m's cache. */
void ctrbox_runc_job_abandon(struct ctrbox_monitor *m, struct ctrbox_runc_job *j);

/* The error of a job that could not be started (err from ctrbox_runc_job_start), worded as the
 * Go shim words go-runc's exec error: ctrbox_runc_runtime_error(op, r->log,
 * ctrbox_runc_exec_error(r, err)), or "<op>: <strerror>" for ENOMEM. malloc'd; NULL on
 * ENOMEM. */
char *ctrbox_runc_spawn_error(const struct ctrbox_runc *r, const char *op, int err);

#ifdef __cplusplus
}
#endif

#endif
