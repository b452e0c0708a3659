/* runc CLI wrapper after go-runc: exact argv per subcommand, execve without a shell, output
 * capture, and the error texts the Go shim builds from runc's JSON log. */
#include <ctrbox/runc.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctrbox/json.h>
#include <ctrbox/util.h>

extern char **environ;

/* runc's JSON log grows for the container's lifetime; its last error is near the end. */
#define LOG_TAIL (1 << 20)
/* Captured output: enough for `runc ps` of a very large container. */
#define OUTPUT_MAX (64 << 20)

/* ---- argv building ----
 * Every helper returns 0 or a negative errno, so a builder chains them with GNU ?: and
 * stops at the first failure. */

int ctrbox_runc_argv_add(struct ctrbox_runc_argv *a, const char *s)
{
	char *d;

	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	a->v[a->n++] = d;
	a->v[a->n] = NULL;
	return 0;
}

void ctrbox_runc_argv_free(struct ctrbox_runc_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int add_if(struct ctrbox_runc_argv *a, int cond, const char *flag)
{
	return cond ? ctrbox_runc_argv_add(a, flag) : 0;
}

/* "flag value", left out when value is NULL or "" (go-runc's `if o.X != ""`). */
static int add_opt(struct ctrbox_runc_argv *a, const char *flag, const char *value)
{
	if (!value || !*value)
		return 0;
	return ctrbox_runc_argv_add(a, flag) ?: ctrbox_runc_argv_add(a, value);
}

/* go-runc passes pid files through filepath.Abs: relative to the cwd, and cleaned. */
static int add_abs(struct ctrbox_runc_argv *a, const char *flag, const char *path)
{
	char *cwd = NULL, *abs;
	int r;

	if (!path || !*path)
		return 0;
	if (path[0] == '/') {
		abs = strdup(path);
		if (abs)
			ctrbox_path_clean(abs);
	} else {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return -errno;
		abs = ctrbox_path_join((const char *const[]){cwd, path}, 2);
	}
	if (!abs) {
		free(cwd);
		return -ENOMEM;
	}
	r = ctrbox_runc_argv_add(a, flag) ?: ctrbox_runc_argv_add(a, abs);
	free(abs);
	free(cwd);
	return r;
}

static const char *binary_name(const struct ctrbox_runc *r)
{
	return r->binary && *r->binary ? r->binary : "runc";
}

/* argv[0] and the global options in go-runc's Runc.args() order. */
static int add_global(struct ctrbox_runc_argv *a, const struct ctrbox_runc *r)
{
	return ctrbox_runc_argv_add(a, binary_name(r)) ?: add_opt(a, "--root", r->root)
		?: add_if(a, r->debug, "--debug") ?: add_opt(a, "--log", r->log)
		?: add_opt(a, "--log-format", r->log_json ? "json" : NULL)
		?: add_opt(a, "--criu", r->criu) ?: add_if(a, r->systemd_cgroup, "--systemd-cgroup");
}

static int finish(struct ctrbox_runc_argv *a, int r)
{
	if (r < 0)
		ctrbox_runc_argv_free(a);
	return r;
}

/* The subcommands that take nothing but the container id. */
static int simple(const struct ctrbox_runc *r, const char *cmd, const char *id,
		  struct ctrbox_runc_argv *a)
{
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, cmd) ?: ctrbox_runc_argv_add(a, id));
}

static int create_or_run(const struct ctrbox_runc *r, const char *cmd, const char *id,
			 const struct ctrbox_runc_create_opts *o, struct ctrbox_runc_argv *a)
{
	if (!o->bundle || !*o->bundle)
		return -EINVAL;
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, cmd)
				 ?: add_opt(a, "--bundle", o->bundle)
				 ?: add_abs(a, "--pid-file", o->pid_file)
				 ?: add_opt(a, "--console-socket", o->console_socket)
				 ?: add_if(a, o->no_pivot, "--no-pivot")
				 ?: add_if(a, o->no_new_keyring, "--no-new-keyring")
				 ?: add_if(a, o->detach, "--detach") ?: ctrbox_runc_argv_add(a, id));
}

int ctrbox_runc_argv_create(const struct ctrbox_runc *r, const char *id,
			    const struct ctrbox_runc_create_opts *o, struct ctrbox_runc_argv *a)
{
	return create_or_run(r, "create", id, o, a);
}

int ctrbox_runc_argv_run(const struct ctrbox_runc *r, const char *id,
			 const struct ctrbox_runc_create_opts *o, struct ctrbox_runc_argv *a)
{
	return create_or_run(r, "run", id, o, a);
}

int ctrbox_runc_argv_start(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a)
{
	return simple(r, "start", id, a);
}

int ctrbox_runc_argv_exec(const struct ctrbox_runc *r, const char *id,
			  const struct ctrbox_runc_exec_opts *o, struct ctrbox_runc_argv *a)
{
	if (!o->process || !*o->process)
		return -EINVAL;
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "exec")
				 ?: add_opt(a, "--process", o->process)
				 ?: add_opt(a, "--console-socket", o->console_socket)
				 ?: add_if(a, o->detach, "--detach")
				 ?: add_abs(a, "--pid-file", o->pid_file) ?: ctrbox_runc_argv_add(a, id));
}

int ctrbox_runc_argv_kill(const struct ctrbox_runc *r, const char *id, int sig, int all,
			  struct ctrbox_runc_argv *a)
{
	char signo[16];

	snprintf(signo, sizeof(signo), "%d", sig);
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "kill") ?: add_if(a, all, "--all")
				 ?: ctrbox_runc_argv_add(a, id) ?: ctrbox_runc_argv_add(a, signo));
}

int ctrbox_runc_argv_delete(const struct ctrbox_runc *r, const char *id, int force,
			    struct ctrbox_runc_argv *a)
{
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "delete")
				 ?: add_if(a, force, "--force") ?: ctrbox_runc_argv_add(a, id));
}

int ctrbox_runc_argv_pause(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a)
{
	return simple(r, "pause", id, a);
}

int ctrbox_runc_argv_resume(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a)
{
	return simple(r, "resume", id, a);
}

int ctrbox_runc_argv_state(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a)
{
	return simple(r, "state", id, a);
}

int ctrbox_runc_argv_ps(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a)
{
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "ps")
				 ?: add_opt(a, "--format", "json") ?: ctrbox_runc_argv_add(a, id));
}

int ctrbox_runc_argv_list(const struct ctrbox_runc *r, struct ctrbox_runc_argv *a)
{
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "list")
				 ?: ctrbox_runc_argv_add(a, "--format=json"));
}

int ctrbox_runc_argv_stats(const struct ctrbox_runc *r, const char *id, struct ctrbox_runc_argv *a)
{
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "events")
				 ?: ctrbox_runc_argv_add(a, "--stats") ?: ctrbox_runc_argv_add(a, id));
}

int ctrbox_runc_argv_update(const struct ctrbox_runc *r, const char *id, const char *resources,
			    struct ctrbox_runc_argv *a)
{
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "update")
				 ?: add_opt(a, "--resources", resources ? resources : "-")
				 ?: ctrbox_runc_argv_add(a, id));
}

/* go-runc's CheckpointOpts.args() order, restricted to the options the shim uses. */
static int add_criu(struct ctrbox_runc_argv *a, const struct ctrbox_runc_criu_opts *o)
{
	int r = add_opt(a, "--image-path", o->image_path) ?: add_opt(a, "--work-path", o->work_path)
		?: add_opt(a, "--parent-path", o->parent_path)
		?: add_if(a, o->tcp_established, "--tcp-established")
		?: add_if(a, o->ext_unix_sk, "--ext-unix-sk") ?: add_if(a, o->shell_job, "--shell-job")
		?: add_if(a, o->file_locks, "--file-locks");

	for (size_t i = 0; r == 0 && i < o->n_empty_ns; i++)
		r = ctrbox_runc_argv_add(a, "--empty-ns")
			?: ctrbox_runc_argv_add(a, o->empty_ns[i]);
	return r;
}

int ctrbox_runc_argv_checkpoint(const struct ctrbox_runc *r, const char *id,
				const struct ctrbox_runc_checkpoint_opts *o,
				struct ctrbox_runc_argv *a)
{
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "checkpoint") ?: add_criu(a, &o->criu)
				 ?: add_if(a, o->leave_running, "--leave-running")
				 ?: ctrbox_runc_argv_add(a, id));
}

int ctrbox_runc_argv_restore(const struct ctrbox_runc *r, const char *id,
			     const struct ctrbox_runc_restore_opts *o, struct ctrbox_runc_argv *a)
{
	if (!o->bundle || !*o->bundle)
		return -EINVAL;
	/* "-no-subreaper" with one dash is what go-runc passes; runc's flag parser takes it. */
	return finish(a, add_global(a, r) ?: ctrbox_runc_argv_add(a, "restore") ?: add_criu(a, &o->criu)
				 ?: add_if(a, o->detach, "--detach")
				 ?: add_abs(a, "--pid-file", o->pid_file)
				 ?: add_opt(a, "--console-socket", o->console_socket)
				 ?: add_if(a, o->no_pivot, "--no-pivot")
				 ?: add_if(a, o->no_subreaper, "-no-subreaper")
				 ?: add_opt(a, "--bundle", o->bundle) ?: ctrbox_runc_argv_add(a, id));
}

/* ---- running ---- */

int ctrbox_runc_lookpath(const char *name, char **out)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;

	if (strchr(name, '/')) /* exec.Command looks up bare names only */
		return (*out = strdup(name)) ? 0 : -ENOMEM;
	for (p = path; p && *p; p = *end ? end + 1 : end) {
		char *dir, *cand;
		end = strchrnul(p, ':');
		dir = end > p ? strndup(p, end - p) : strdup(".");
		cand = dir ? ctrbox_path_join((const char *const[]){dir, name}, 2) : NULL;
		free(dir);
		if (!cand)
			return -ENOMEM;
		if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) {
			*out = cand;
			return 0;
		}
		free(cand);
	}
	return -ENOENT;
}

/* environ minus NOTIFY_SOCKET, which would make runc talk to systemd (go-runc drops it too).
 * The strings stay environ's. */
static char **child_env(void)
{
	size_t n = 0, w = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = malloc((n + 1) * sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0)
			env[w++] = environ[i];
	env[w] = NULL;
	return env;
}

static void __attribute__((noreturn)) child_fail(int fd)
{
	int e = errno;

	(void)!write(fd, &e, sizeof(e));
	_exit(127);
}

static void close_from(unsigned fd)
{
	if (close_range(fd, ~0U, 0) == 0)
		return;
	/* kernels before 5.9 */
	for (long max = sysconf(_SC_OPEN_MAX), i = fd; i < max; i++)
		close(i);
}

/* In the child: nothing but what execve needs, and all of it prepared before the fork. The
 * error pipe ends up as fd 3 (close-on-exec), so a failed execve can still report. */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], char *const envp[], const int fds[3], int errfd,
	   pid_t parent)
{
	/* An all-zero kernel sigaction is SIG_DFL, no flags, empty mask on every architecture. */
	const unsigned long dfl[8] = {0};
	int hi[3], herr;
	sigset_t none;

	/* The shim ignores SIGPIPE and blocks its signalfd signals; exec keeps both. The raw
	 * syscall also reaches glibc's reserved 32 and 33, which sigaction() refuses but an
	 * ignoring ancestor (GNU make does) passes down. EINVAL for SIGKILL/SIGSTOP: fine. */
	for (int s = 1; s < NSIG; s++)
		syscall(SYS_rt_sigaction, s, dfl, NULL, (NSIG - 1) / 8);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(errfd);
	if (getppid() != parent) /* the shim died before prctl: nobody would reap us */
		_exit(127);
	/* Copies above 3 first, so that e.g. out == 0 is not clobbered by dup2(in, 0). */
	herr = fcntl(errfd, F_DUPFD_CLOEXEC, 4);
	if (herr < 0)
		child_fail(errfd);
	for (int i = 0; i < 3; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 4)) < 0)
			child_fail(herr);
	for (int i = 0; i < 3; i++)
		if (dup2(hi[i], i) < 0) /* dup2 clears close-on-exec on the target */
			child_fail(herr);
	if (dup3(herr, 3, O_CLOEXEC) < 0)
		child_fail(herr);
	close_from(4);
	execve(path, argv, envp);
	child_fail(3);
}

pid_t ctrbox_runc_spawn(const struct ctrbox_runc_argv *a, int in, int out, int err)
{
	int fds[3] = {in, out, err}, ep[2] = {-1, -1}, devnull = -1, code;
	char *path = NULL, **envp = NULL;
	pid_t parent = getpid(), pid = -EINVAL;
	ssize_t n;

	if (!a->v || !a->v[0])
		goto out;
	pid = ctrbox_runc_lookpath(a->v[0], &path);
	if (pid < 0)
		goto out;
	envp = child_env();
	if (!envp) {
		pid = -ENOMEM;
		goto out;
	}
	if (in < 0 || out < 0 || err < 0) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull < 0) {
			pid = -errno;
			goto out;
		}
		for (int i = 0; i < 3; i++)
			if (fds[i] < 0)
				fds[i] = devnull;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		pid = -errno;
		goto out;
	}
	pid = fork();
	if (pid == 0)
		child_exec(path, a->v, envp, fds, ep[1], parent);
	if (pid < 0) {
		pid = -errno;
		goto out;
	}
	close(ep[1]);
	ep[1] = -1;
	/* EOF: execve succeeded (close-on-exec); an int: the child's errno. */
	while ((n = read(ep[0], &code, sizeof(code))) < 0 && errno == EINTR)
		;
	if (n != 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		pid = n == sizeof(code) ? -code : -EIO;
	}
out:
	if (ep[0] >= 0)
		close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (devnull >= 0)
		close(devnull);
	free(envp);
	free(path);
	return pid;
}

int ctrbox_runc_run_sync(const struct ctrbox_runc_argv *a, int in, char **out, size_t *outlen,
			 int *wstatus)
{
	int mfd = memfd_create("runc-output", MFD_CLOEXEC), st, r = 0;
	pid_t pid;

	if (mfd < 0)
		return -errno;
	pid = ctrbox_runc_spawn(a, in, mfd, mfd);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			goto out;
		}
	}
	if (lseek(mfd, 0, SEEK_SET) < 0) {
		r = -errno;
		goto out;
	}
	r = ctrbox_read_fd_all(mfd, OUTPUT_MAX, out, outlen);
	if (r == 0 && wstatus)
		*wstatus = st;
out:
	close(mfd);
	return r;
}

/* ---- runc's log and error texts ---- */

/* The last LOG_TAIL bytes, starting at a line boundary. *op says which call failed, for the
 * Go-style "open <path>: ..." / "read <path>: ..." text. */
static int read_tail(const char *path, char **buf, size_t *len, const char **op)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	size_t cap, got = 0;
	struct stat st;
	off_t off = 0;
	char *b = NULL, *nl;

	*op = "open";
	if (fd < 0)
		return -errno;
	*op = "read";
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* One byte before the window too: it tells whether the window starts a line. */
	if (st.st_size > LOG_TAIL)
		off = st.st_size - LOG_TAIL - 1;
	/* One byte more than the size, so even an empty file gets a read that can fail (a
	 * directory: EISDIR, as Go's decoder would report). */
	cap = st.st_size - off + 1;
	b = malloc(cap + 1);
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	while (got < cap) {
		ssize_t n = pread(fd, b + got, cap - got, off + got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += n;
	}
	b[got] = '\0';
	if (off > 0) { /* drop the partial first line */
		nl = memchr(b, '\n', got);
		got = nl ? got - (nl + 1 - b) : 0;
		memmove(b, nl ? nl + 1 : b, got + 1);
	}
	*buf = b;
	*len = got;
	b = NULL;
out:
	free(b);
	close(fd);
	return r;
}

/* Go's strings.TrimSpace, ASCII part (runc's messages carry no Unicode spaces). */
static char *trim(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n > 0 && strchr(" \t\n\v\f\r", s[n - 1]))
		n--;
	while (start < n && strchr(" \t\n\v\f\r", s[start]))
		start++;
	memmove(s, s + start, n - start);
	s[n - start] = '\0';
	return s;
}

/* Is this line a JSON object with "level":"error"? Then its msg (or "" if it has none). */
static int error_line(const char *line, size_t len, char **msg)
{
	struct ctrbox_json j;
	int m, r = 0;

	if (!memmem(line, len, "\"error\"", 7)) /* cheap filter before parsing */
		return 0;
	if (ctrbox_json_parse(&j, line, len) < 0)
		return 0; /* a partial or foreign line is not an error record */
	if (ctrbox_json_is_object(&j, 0) &&
	    ctrbox_json_streq(&j, ctrbox_json_get(&j, 0, "level"), "error")) {
		m = ctrbox_json_get(&j, 0, "msg");
		*msg = ctrbox_json_is_string(&j, m) ? ctrbox_json_strdup(&j, m) : strdup("");
		r = *msg ? 1 : -ENOMEM;
	}
	ctrbox_json_free(&j);
	return r;
}

static int last_error(const char *log_path, char **msg, const char **op)
{
	char *buf = NULL;
	size_t len = 0, end;
	int r;

	*msg = NULL;
	r = read_tail(log_path, &buf, &len, op);
	if (r < 0)
		return r;
	/* From the end: the first error record found is the last one written. */
	for (end = len; end > 0 && r == 0;) {
		size_t start = end;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		r = error_line(buf + start, end - start, msg);
		end = start ? start - 1 : 0;
	}
	free(buf);
	if (r > 0)
		trim(*msg);
	return r < 0 ? r : 0;
}

int ctrbox_runc_last_error(const char *log_path, char **msg)
{
	const char *op;

	return last_error(log_path, msg, &op);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

char *ctrbox_runc_exit_error(const struct ctrbox_runc *r, int wstatus, const char *output)
{
	/* the exit status the Go shim's reaper reports: 128 + signal when killed */
	int status = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);

	return xasprintf("%s did not terminate successfully: exit status %d%s%s", binary_name(r),
			 status, output ? ": " : "", output ? output : "");
}

char *ctrbox_runc_exec_error(const struct ctrbox_runc *r, int err)
{
	const char *name = binary_name(r);
	char *path = NULL, *s, text[128];

	if (ctrbox_runc_lookpath(name, &path) == -ENOENT)
		return xasprintf("exec: \"%s\": executable file not found in $PATH", name);
	s = xasprintf("fork/exec %s: %s", path ? path : name,
		      ctrbox_go_errno_text(-err, text, sizeof(text)));
	free(path);
	return s;
}

char *ctrbox_runc_runtime_error(const char *op, const char *log_path, const char *runc_err)
{
	const char *what;
	char *msg = NULL, *s, text[128];
	int r;

	if (!runc_err)
		return NULL;
	if (!log_path || !*log_path)
		return xasprintf("%s: %s", op, runc_err);
	r = last_error(log_path, &msg, &what);
	if (r == -ENOMEM)
		return NULL;
	if (r < 0)
		return xasprintf("%s: unable to retrieve OCI runtime error (%s %s: %s): %s", op,
				 what, log_path, ctrbox_go_errno_text(-r, text, sizeof(text)),
				 runc_err);
	s = msg && *msg ? xasprintf("%s: %s", op, msg) : xasprintf("%s: %s", op, runc_err);
	free(msg);
	return s;
}

char *ctrbox_runc_error_message(const char *op, const struct ctrbox_runc *r, const char *output,
				int wstatus)
{
	char *e = ctrbox_runc_exit_error(r, wstatus, output), *s;

	s = ctrbox_runc_runtime_error(op, r->log, e);
	free(e);
	return s;
}

/* ---- parsers ---- */

/* Go's Unmarshal into a string: absent or null leaves "", another type is an error. */
static int get_string(const struct ctrbox_json *j, const char *key, char **out)
{
	int t = ctrbox_json_get(j, 0, key);

	if (t < 0 || ctrbox_json_is_null(j, t))
		*out = strdup("");
	else if (ctrbox_json_is_string(j, t))
		*out = ctrbox_json_strdup(j, t);
	else
		return -EINVAL;
	return *out ? 0 : (errno == EINVAL ? -EINVAL : -ENOMEM);
}

static int get_int(const struct ctrbox_json *j, int t, int *out)
{
	int64_t v;
	int r;

	if (t < 0 || ctrbox_json_is_null(j, t)) {
		*out = 0;
		return 0;
	}
	r = ctrbox_json_int64(j, t, &v);
	if (r < 0)
		return r;
	if (v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

void ctrbox_runc_state_free(struct ctrbox_runc_state *st)
{
	free(st->id);
	free(st->status);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	memset(st, 0, sizeof(*st));
}

int ctrbox_runc_parse_state(const char *json, size_t len, struct ctrbox_runc_state *st)
{
	struct ctrbox_json j;
	int r;

	memset(st, 0, sizeof(*st));
	r = ctrbox_json_parse(&j, json, len);
	if (r < 0)
		return r;
	if (!ctrbox_json_is_object(&j, 0))
		r = -EINVAL;
	else
		r = get_string(&j, "id", &st->id) ?: get_int(&j, ctrbox_json_get(&j, 0, "pid"), &st->pid)
			?: get_string(&j, "status", &st->status) ?: get_string(&j, "bundle", &st->bundle)
			?: get_string(&j, "rootfs", &st->rootfs)
			?: get_string(&j, "created", &st->created);
	ctrbox_json_free(&j);
	if (r < 0)
		ctrbox_runc_state_free(st);
	return r;
}

int ctrbox_runc_parse_ps(const char *json, size_t len, int **pids, size_t *n)
{
	struct ctrbox_json j;
	int r, count, t;
	int *v = NULL;

	*pids = NULL;
	*n = 0;
	r = ctrbox_json_parse(&j, json, len);
	if (r < 0)
		return r;
	if (ctrbox_json_is_null(&j, 0))
		goto out;
	count = ctrbox_json_array_len(&j, 0);
	if (count < 0) {
		r = -EINVAL;
		goto out;
	}
	if (count > 0 && !(v = malloc(count * sizeof(*v)))) {
		r = -ENOMEM;
		goto out;
	}
	t = 1;
	for (int i = 0; i < count && r == 0; i++, t = ctrbox_json_skip(&j, t))
		r = ctrbox_json_is_null(&j, t) ? -EINVAL : get_int(&j, t, &v[i]);
	if (r == 0) {
		*pids = v;
		*n = count;
		v = NULL;
	}
out:
	free(v);
	ctrbox_json_free(&j);
	return r;
}
