/* containerd-shim-runc-v2: the state every file of the applet shares (the service, its
 * containers, processes and runc jobs) and the applet's entry points (main.c).
 *
 * The files, each with its own header, each calling only the ones below it:
 *   handlers.c   the Task service's handlers (Start, State, Kill, ...), registration, fini
 *   create.c     Create                 exec.c   Exec and an exec's Start
 *   checkpoint.c Checkpoint, restore    delete.c Delete
 *   stats.c      OOM events and Stats (through cgroup.c)
 *   exits.c      process exits, Wait's waiters, the reaper (libctrbox's process monitor)
 *   model.c      containers and processes: lookup, lifetime, the rootfs unmount, Shutdown's wait
 *   jobs.c       runc invocations in flight      bundle.c  ids, bundle files, runtime options
 *   io.c         process stdio: fifos, files, pipes, ptys, logging binaries
 */
#ifndef CTRBOX_RUNC_SHIM_H
#define CTRBOX_RUNC_SHIM_H

#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <time.h>

#include "cgroup.h"
#include <ctrbox/io.h>
#include <ctrbox/monitor.h>
#include <ctrbox/runc.h>
#include <ctrbox/shim.h>
#include <ctrbox/ttrpc.h>

#define RUNTIME_NAME "io.containerd.runc.v2"
#define DEFAULT_RUNC_ROOT "/run/containerd/runc"
#define OPTIONS_TYPE "containerd.runc.v1.Options"

enum pstate { P_CREATED, P_RUNNING, P_PAUSED, P_STOPPED, P_DELETED };

struct svc;
struct container;
struct job;
struct unmount_op;

/* Called when a runc child finishes: ok, or err = the message the Go shim would return. */
typedef void (*job_done_fn)(struct svc *s, struct job *j, int ok, const char *err);

/* A runc invocation in flight (a libctrbox runc job, its exit through the process monitor). */
struct job {
	struct ctrbox_runc_job *rj;
	struct svc *s;
	struct container *c;
	struct ctrbox_ttrpc_call *call; /* answered by done (NULL for fire-and-forget) */
	job_done_fn done;
	void *ctx;
	const char *output; /* set before done runs, valid while it runs */
	size_t outlen;
	int wstatus;
	struct job *next;
};

struct waiter {
	struct ctrbox_ttrpc_call *call;
	struct waiter *next;
};

struct process {
	struct container *c;
	struct process *next; /* the container's execs */
	int is_exec;
	char *spec; /* exec: OCI Process JSON, terminal patched in */
	size_t spec_len;
	char *proc_file; /* exec: the path runc exec reads it from, while it runs: proc_fd's */
	int proc_fd;	 /* exec: a memfd with the spec, 0 = none (fd 0 is always /dev/null) */
	int pausing;	 /* init: Pause in flight (State says PAUSING) */
	char *id;	 /* container id for the init, exec id for an exec */
	enum pstate state;
	pid_t pid;
	int exit_status;
	struct timespec exited_at; /* zero until exited */
	int starting;		   /* Start in flight: an exit is held until the start event */
	int start_failed;	   /* an exec whose runc exec failed: still created, Wait returns */
	struct ctrbox_ttrpc_call *start_call; /* exec/restore: the Start, until answered */
	int exit_held;
	int watched;	/* its pid is watched on the monitor (from its pid file to its exit) */
	int early_exit; /* it had exited when its pid was learned: early_wstatus, claimed later */
	int early_wstatus;
	int exit_pending; /* exited, not yet visible: kill --all or the execs' exits come first */
	int killing_all;  /* init: runc kill --all in flight after its exit */
	char *stdin_path, *stdout_path, *stderr_path;
	int terminal;
	int runc_fds[3];    /* the container's ends of the stdio pipes, until runc has them */
	int shim_fds[3];    /* our ends: stdin write end, stdout/stderr read ends */
	int out_fds[2];	    /* opened destinations for stdout/stderr (may be the same fd) */
	int stdin_fifo;	    /* the stdin fifo, read side (copied into the pipe) */
	int stdin_writer;   /* the shim's own writer on the stdin fifo, closed by CloseIO */
	int stdin_closed;   /* CloseIO came (maybe before io_start): keep no writer */
	int console;	    /* terminal: the pty master runc sent us (kept for ResizePty) */
	int console_listen; /* terminal: the console socket runc connects to */
	char *console_dir;  /* its private directory (removed once the master arrived) */
	int log_w[2];	  /* binary://: our copies of the logger pipes' write ends, until Delete */
	int logger_pidfd; /* binary://: the logging binary, signalled at Delete */
	int ready_fd;	  /* binary://: its ready pipe, until it signalled */
	int wait_fd;	  /* the fd a logger or console wait watches */
	struct ctrbox_timer *ready_timer; /* that wait's bound */
	void (*ready_done)(struct svc *s, struct process *p, int r);
	struct ctrbox_io_copy *copies[3];
	int ncopies;
	struct waiter *waiters;
	struct ctrbox_ttrpc_call *delete_call; /* Delete waiting for the copiers to drain */
	int delete_force;		       /* runc delete --force (a cancelled Create's) */
	/* what continues that Delete once the copiers are done (io.c calls it, delete.c sets it) */
	void (*drained)(struct svc *s, struct process *p);
	struct ctrbox_timer *drain_timer;
};

struct container {
	struct svc *svc;
	char *id, *bundle;
	struct ctrbox_runc rc;
	char *runc_binary, *runc_root, *runc_log, *criu;
	int no_pivot, no_new_keyring;
	unsigned io_uid, io_gid;
	int rootfs_mounted;
	int has_pidns;
	char *restore_from; /* Create with a checkpoint: runc restore runs at Start */
	char *parent_checkpoint;
	char *criu_work;	/* the criu_work_path option (restore) */
	struct cgroup_paths cg; /* the init's cgroups, found at create (Stats, OOM) */
	int have_cg;
	int oom_fd;	    /* v1 eventfd or v2 inotify, watched from Start */
	uint64_t oom_kills; /* v2: last memory.events oom_kill seen */
	struct process init;
	struct process *execs;
	int running_execs; /* execs started (or starting) whose exit is not yet published */
	int creating;	   /* runc create in flight: only Delete waits for it, all else not found */
	struct ctrbox_ttrpc_call *pending_delete; /* a Delete that came during the create */
	struct ctrbox_ttrpc_call *create_call;	  /* the Create, until it is answered */
	const void *create_req;			  /* its request (freed with the answer) */
	int fail_code;				  /* a failed Create's answer, once unmounted */
	char *fail_msg;
	struct unmount_op *unmount; /* the rootfs unmount in flight */
	int njobs;		    /* runc jobs in flight for this container */
	int dead;		    /* deleted: freed when its last job is done */
	struct container *next;
};

struct svc {
	struct ctrbox_shim *shim;
	struct ctrbox_loop *loop;
	const char *ns;
	struct container *containers;
	struct ctrbox_monitor *mon; /* the reaper: exits to runc jobs and processes, else cached */
	struct job *jobs;
	struct waiter *shutdowns; /* Shutdown calls held until creates and jobs are done */
	unsigned drain_ms;	  /* Delete's wait for stdio to drain (containerd 1.6 or 2.x) */
};

static inline void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* A case-insensitive substring test that takes a NULL haystack (runc's error or output). */
static inline int contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

/* The applet's entry points (main.c's ctrbox_shim_ops). */
/* handlers.c: the service for sh, registered on its TTRPC server; *state is ours. */
int runc_shim_register(struct ctrbox_shim *sh, void **state);
/* exits.c: reaps every exited child (runc jobs, processes; exits nobody owns yet are cached). */
void runc_shim_sigchld(struct ctrbox_shim *sh, void *state);
/* handlers.c: frees the service, its containers, and kills the runc jobs still running. */
void runc_shim_fini(struct ctrbox_shim *sh, void *state);

#endif
