/* Unit tests: runc argv per subcommand (task-service.md §5), spawning, runc's log and the Go
 * shim's error texts, state/ps parsing on output captured from runc 1.1.5. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctrbox/io.h>
#include <ctrbox/loop.h>
#include <ctrbox/monitor.h>
#include <ctrbox/runc.h>
#include "unit.h"
#include <ctrbox/util.h>

#define ROOT "/run/containerd/runc/default"
#define BUNDLE "/run/containerd/io.containerd.runtime.v2.task/default/t1"
#define PREFIX "runc", "--root", ROOT, "--log", BUNDLE "/log.json", "--log-format", "json"

/* The runc the Go shim configures: binary_name unset, root/<ns>, log.json, JSON logs. */
static const struct ctrbox_runc shim_runc = {
    .root = ROOT,
    .log = BUNDLE "/log.json",
    .log_json = 1,
};

static void argv_is_(int line, int r, struct ctrbox_runc_argv *a, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	if (r != 0 || a->n != n || !a->v || a->v[n] != NULL) {
		fprintf(stderr, "  line %d: r=%d, %zu args, want %zu\n", line, r, a->n, n);
		unit_failures++;
	}
	for (size_t i = 0; i < n && i < a->n; i++) {
		if (strcmp(a->v[i], want[i]) != 0) {
			fprintf(stderr, "  line %d: argv[%zu] \"%s\" != \"%s\"\n", line, i, a->v[i],
				want[i]);
			unit_failures++;
		}
	}
	ctrbox_runc_argv_free(a);
}
#define argv_is(r, a, ...) argv_is_(__LINE__, r, a, (const char *const[]){__VA_ARGS__, NULL})

void test_runc_argv_global(void)
{
	struct ctrbox_runc all = {.binary = "/usr/sbin/runc",
				  .root = "/run/spec-runc/specns",
				  .log = "/b/log.json",
				  .log_json = 1,
				  .systemd_cgroup = 1,
				  .debug = 1,
				  .criu = "/usr/sbin/criu"};
	struct ctrbox_runc bare = {0};
	struct ctrbox_runc_argv a = {0};

	/* go-runc's order: --root --debug --log --log-format --criu --systemd-cgroup */
	argv_is(ctrbox_runc_argv_start(&all, "t1", &a), &a, "/usr/sbin/runc", "--root",
		"/run/spec-runc/specns", "--debug", "--log", "/b/log.json", "--log-format", "json",
		"--criu", "/usr/sbin/criu", "--systemd-cgroup", "start", "t1");
	argv_is(ctrbox_runc_argv_start(&bare, "t1", &a), &a, "runc", "start", "t1");
	bare.binary = "";
	argv_is(ctrbox_runc_argv_state(&bare, "t1", &a), &a, "runc", "state", "t1");
}

void test_runc_argv_create(void)
{
	struct ctrbox_runc_create_opts o = {.bundle = BUNDLE, .pid_file = BUNDLE "/init.pid"};
	struct ctrbox_runc_argv a = {0};
	char *cwd = getcwd(NULL, 0), want[4096];

	argv_is(ctrbox_runc_argv_create(&shim_runc, "t1", &o, &a), &a, PREFIX, "create", "--bundle",
		BUNDLE, "--pid-file", BUNDLE "/init.pid", "t1");
	o.console_socket = "/tmp/pty123/pty.sock";
	o.no_pivot = o.no_new_keyring = o.detach = true;
	argv_is(ctrbox_runc_argv_create(&shim_runc, "t1", &o, &a), &a, PREFIX, "create", "--bundle",
		BUNDLE, "--pid-file", BUNDLE "/init.pid", "--console-socket",
		"/tmp/pty123/pty.sock", "--no-pivot", "--no-new-keyring", "--detach", "t1");
	argv_is(ctrbox_runc_argv_run(&shim_runc, "t1", &o, &a), &a, PREFIX, "run", "--bundle",
		BUNDLE, "--pid-file", BUNDLE "/init.pid", "--console-socket",
		"/tmp/pty123/pty.sock", "--no-pivot", "--no-new-keyring", "--detach", "t1");
	/* pid files go through filepath.Abs: cleaned, relative ones joined to the cwd */
	o = (struct ctrbox_runc_create_opts){.bundle = "/b", .pid_file = "/b//x/../init.pid"};
	argv_is(ctrbox_runc_argv_create(&shim_runc, "t1", &o, &a), &a, PREFIX, "create", "--bundle",
		"/b", "--pid-file", "/b/init.pid", "t1");
	o.pid_file = "./p/init.pid";
	snprintf(want, sizeof(want), "%s/p/init.pid", cwd);
	argv_is(ctrbox_runc_argv_create(&shim_runc, "t1", &o, &a), &a, PREFIX, "create", "--bundle",
		"/b", "--pid-file", want, "t1");
	o.bundle = NULL;
	CHECK(ctrbox_runc_argv_create(&shim_runc, "t1", &o, &a) == -EINVAL && a.n == 0);
	free(cwd);
}

void test_runc_argv_exec(void)
{
	struct ctrbox_runc_exec_opts o = {
	    .process = "/tmp/runc-process123", .detach = true, .pid_file = BUNDLE "/e1.pid"};
	struct ctrbox_runc_argv a = {0};

	argv_is(ctrbox_runc_argv_exec(&shim_runc, "t1", &o, &a), &a, PREFIX, "exec", "--process",
		"/tmp/runc-process123", "--detach", "--pid-file", BUNDLE "/e1.pid", "t1");
	o.console_socket = "/tmp/pty9/pty.sock";
	argv_is(ctrbox_runc_argv_exec(&shim_runc, "t1", &o, &a), &a, PREFIX, "exec", "--process",
		"/tmp/runc-process123", "--console-socket", "/tmp/pty9/pty.sock", "--detach",
		"--pid-file", BUNDLE "/e1.pid", "t1");
	o.process = "";
	CHECK(ctrbox_runc_argv_exec(&shim_runc, "t1", &o, &a) == -EINVAL);
}

void test_runc_argv_simple(void)
{
	struct ctrbox_runc_argv a = {0};

	argv_is(ctrbox_runc_argv_start(&shim_runc, "t1", &a), &a, PREFIX, "start", "t1");
	argv_is(ctrbox_runc_argv_kill(&shim_runc, "t2", SIGKILL, 0, &a), &a, PREFIX, "kill", "t2",
		"9");
	argv_is(ctrbox_runc_argv_kill(&shim_runc, "t2", SIGTERM, 1, &a), &a, PREFIX, "kill",
		"--all", "t2", "15");
	argv_is(ctrbox_runc_argv_delete(&shim_runc, "t1", 0, &a), &a, PREFIX, "delete", "t1");
	argv_is(ctrbox_runc_argv_delete(&shim_runc, "t1", 1, &a), &a, PREFIX, "delete", "--force",
		"t1");
	argv_is(ctrbox_runc_argv_pause(&shim_runc, "t1", &a), &a, PREFIX, "pause", "t1");
	argv_is(ctrbox_runc_argv_resume(&shim_runc, "t1", &a), &a, PREFIX, "resume", "t1");
	argv_is(ctrbox_runc_argv_state(&shim_runc, "t1", &a), &a, PREFIX, "state", "t1");
	argv_is(ctrbox_runc_argv_ps(&shim_runc, "t1", &a), &a, PREFIX, "ps", "--format", "json",
		"t1");
	argv_is(ctrbox_runc_argv_list(&shim_runc, &a), &a, PREFIX, "list", "--format=json");
	argv_is(ctrbox_runc_argv_stats(&shim_runc, "t1", &a), &a, PREFIX, "events", "--stats",
		"t1");
	argv_is(ctrbox_runc_argv_update(&shim_runc, "t1", NULL, &a), &a, PREFIX, "update",
		"--resources", "-", "t1");
	argv_is(ctrbox_runc_argv_update(&shim_runc, "t1", "/tmp/r.json", &a), &a, PREFIX, "update",
		"--resources", "/tmp/r.json", "t1");
}

void test_runc_argv_criu(void)
{
	const char *const ns[] = {"network", "ipc"};
	struct ctrbox_runc_checkpoint_opts c = {
	    .criu = {.image_path = "/tmp/ctd-checkpoint1", .work_path = BUNDLE "/work/criu-work"},
	    .leave_running = true};
	struct ctrbox_runc_restore_opts r = {
	    .criu = {.image_path = "/ckpt", .work_path = BUNDLE "/work"},
	    .bundle = BUNDLE,
	    .pid_file = BUNDLE "/init.pid",
	    .detach = true,
	    .no_subreaper = true};
	struct ctrbox_runc_argv a = {0};

	argv_is(ctrbox_runc_argv_checkpoint(&shim_runc, "t4", &c, &a), &a, PREFIX, "checkpoint",
		"--image-path", "/tmp/ctd-checkpoint1", "--work-path", BUNDLE "/work/criu-work",
		"--leave-running", "t4");
	c.criu.tcp_established = c.criu.ext_unix_sk = c.criu.shell_job = c.criu.file_locks = true;
	c.criu.empty_ns = ns;
	c.criu.n_empty_ns = 2;
	c.leave_running = false;
	argv_is(ctrbox_runc_argv_checkpoint(&shim_runc, "t4", &c, &a), &a, PREFIX, "checkpoint",
		"--image-path", "/tmp/ctd-checkpoint1", "--work-path", BUNDLE "/work/criu-work",
		"--tcp-established", "--ext-unix-sk", "--shell-job", "--file-locks", "--empty-ns",
		"network", "--empty-ns", "ipc", "t4");

	argv_is(ctrbox_runc_argv_restore(&shim_runc, "t4", &r, &a), &a, PREFIX, "restore",
		"--image-path", "/ckpt", "--work-path", BUNDLE "/work", "--detach", "--pid-file",
		BUNDLE "/init.pid", "-no-subreaper", "--bundle", BUNDLE, "t4");
	r.criu.parent_path = "/parent";
	r.console_socket = "/tmp/pty1/pty.sock";
	r.no_pivot = true;
	argv_is(ctrbox_runc_argv_restore(&shim_runc, "t4", &r, &a), &a, PREFIX, "restore",
		"--image-path", "/ckpt", "--work-path", BUNDLE "/work", "--parent-path", "/parent",
		"--detach", "--pid-file", BUNDLE "/init.pid", "--console-socket",
		"/tmp/pty1/pty.sock", "--no-pivot", "-no-subreaper", "--bundle", BUNDLE, "t4");
}

/* ---- spawning ---- */

static int wait_status(pid_t pid)
{
	int st = -1;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static int plain_argv(struct ctrbox_runc_argv *a, const char *const *v)
{
	int r = 0;

	for (; *v && r == 0; v++)
		r = ctrbox_runc_argv_add(a, *v);
	return r;
}

void test_runc_spawn(void)
{
	char noexec[] = "/tmp/ctrbox-unit-noexec-XXXXXX";
	struct ctrbox_runc r = shim_runc;
	struct ctrbox_runc_argv a = {0};
	pid_t pid;
	int st;

	close(mkstemp(noexec)); /* mode 0600 */

	/* runc's argv to /bin/true and /bin/false: they ignore it and exit 0 / 1 */
	r.binary = "/bin/true";
	CHECK(ctrbox_runc_argv_start(&r, "t1", &a) == 0);
	pid = ctrbox_runc_spawn(&a, -1, -1, -1);
	CHECK(pid > 0);
	st = wait_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ctrbox_runc_argv_free(&a);
	r.binary = "/bin/false";
	CHECK(ctrbox_runc_argv_kill(&r, "t1", 9, 1, &a) == 0);
	pid = ctrbox_runc_spawn(&a, -1, -1, -1);
	CHECK(pid > 0);
	st = wait_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ctrbox_runc_argv_free(&a);
	/* a bare name goes through $PATH */
	r.binary = "true";
	CHECK(ctrbox_runc_argv_start(&r, "t1", &a) == 0);
	pid = ctrbox_runc_spawn(&a, -1, -1, -1);
	CHECK(pid > 0 && WIFEXITED(wait_status(pid)));
	ctrbox_runc_argv_free(&a);

	/* a missing binary is an error from ctrbox_runc_spawn, not a child exiting 127 */
	r.binary = "/nonexistent/runc";
	CHECK(ctrbox_runc_argv_start(&r, "t1", &a) == 0);
	CHECK(ctrbox_runc_spawn(&a, -1, -1, -1) == -ENOENT);
	ctrbox_runc_argv_free(&a);
	r.binary = "ctrbox-no-such-runc";
	CHECK(ctrbox_runc_argv_start(&r, "t1", &a) == 0);
	CHECK(ctrbox_runc_spawn(&a, -1, -1, -1) == -ENOENT);
	ctrbox_runc_argv_free(&a);
	/* found but not executable: execve's errno comes back through the pipe */
	r.binary = noexec;
	CHECK(ctrbox_runc_argv_start(&r, "t1", &a) == 0);
	CHECK(ctrbox_runc_spawn(&a, -1, -1, -1) == -EACCES);
	ctrbox_runc_argv_free(&a);
	unlink(noexec);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD); /* failed children were reaped */
}

/* What the child inherits: stdio only, default signals, environ without NOTIFY_SOCKET. */
void test_runc_spawn_child_env(void)
{
	struct ctrbox_runc_argv a = {0};
	sigset_t block, old;
	char *out = NULL;
	size_t len = 0;
	int st = -1, leak = open("/dev/null", O_RDONLY); /* not close-on-exec on purpose */

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGPIPE, SIG_IGN);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	setenv("CTRBOX_UNIT", "kept", 1);

	CHECK(plain_argv(&a, (const char *const[]){"/bin/grep", "-E", "^Sig(Blk|Ign):",
						   "/proc/self/status", NULL}) == 0);
	CHECK(ctrbox_runc_run_sync(&a, -1, &out, &len, &st) == 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_STR(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	free(out);
	ctrbox_runc_argv_free(&a);
	CHECK(plain_argv(&a, (const char *const[]){"/usr/bin/env", NULL}) == 0);
	out = NULL;
	CHECK(ctrbox_runc_run_sync(&a, -1, &out, &len, &st) == 0);
	CHECK(out && strstr(out, "CTRBOX_UNIT=kept\n"));
	CHECK(out && !strstr(out, "NOTIFY_SOCKET"));
	free(out);
	ctrbox_runc_argv_free(&a);

	/* fds: 0-2 plus the one ls opens for the directory itself */
	CHECK(plain_argv(&a, (const char *const[]){"/bin/ls", "/proc/self/fd", NULL}) == 0);
	out = NULL;
	CHECK(ctrbox_runc_run_sync(&a, leak, &out, &len, &st) == 0);
	CHECK_STR(out, "0\n1\n2\n3\n");
	free(out);
	ctrbox_runc_argv_free(&a);

	/* stdin from the caller, stdout and stderr into one capture */
	CHECK(plain_argv(&a, (const char *const[]){"/bin/cat", "-", "/nonexistent", NULL}) == 0);
	{
		int p[2];
		CHECK(pipe(p) == 0);
		CHECK(write(p[1], "in\n", 3) == 3);
		close(p[1]);
		out = NULL;
		CHECK(ctrbox_runc_run_sync(&a, p[0], &out, &len, &st) == 0);
		close(p[0]);
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CHECK_STR(out, "in\n/bin/cat: /nonexistent: No such file or directory\n");
	CHECK(len == strlen("in\n/bin/cat: /nonexistent: No such file or directory\n"));
	free(out);
	ctrbox_runc_argv_free(&a);

	unsetenv("NOTIFY_SOCKET");
	unsetenv("CTRBOX_UNIT");
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(leak);
}

/* ---- runc's log and error texts ---- */

/* Lines as runc 1.1.5 writes them (--debug --log-format json, a create whose process is
 * missing), plus a warning, a later info line and a partial last line. */
static const char log_fixture[] =
    "{\"level\":\"debug\",\"msg\":\"nsexec[2002]: =\\u003e nsexec container setup\","
    "\"time\":\"2026-11-23T13:22:22Z\"}\n"
    "{\"level\":\"error\",\"msg\":\"an older error\",\"time\":\"2026-11-23T13:22:21Z\"}\n"
    "{\"level\":\"debug\",\"msg\":\"nsexec-1[2003]: \\u003c~ nsexec stage-1\","
    "\"time\":\"2026-11-23T13:22:22Z\"}\n"
    "{\"file\":\"github.com/opencontainers/runc/utils.go:61\",\"func\":\"main.fatalWithCode\","
    "\"level\":\"error\",\"msg\":\"runc create failed: unable to start container process: exec: "
    "\\\"/bin/nonexistent\\\": stat /bin/nonexistent: no such file or directory\","
    "\"time\":\"2026-11-23T13:22:22Z\"}\n"
    "{\"level\":\"warning\",\"msg\":\"the msg says error\",\"time\":\"2026-11-23T13:22:23Z\"}\n"
    "{\"level\":\"info\",\"msg\":\"\\\"error\\\" is quoted here\"}\n"
    "{\"level\":\"error\",\"msg\":\"cut sho";

static const char create_failed[] =
    "runc create failed: unable to start container process: exec: \"/bin/nonexistent\": stat "
    "/bin/nonexistent: no such file or directory";

static char *fixture(const char *content, size_t len)
{
	char *path = strdup("/tmp/ctrbox-unit-log-XXXXXX");
	int fd = path ? mkstemp(path) : -1;

	if (fd < 0 || ctrbox_write_all(fd, content, len) < 0) {
		CHECK(0);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

static char *fixture_str(const char *content)
{
	return fixture(content, strlen(content));
}

void test_runc_last_error(void)
{
	char *path = fixture(log_fixture, sizeof(log_fixture) - 1), *msg = (char *)"x";
	size_t big = (1 << 20) + 4096, line;
	char *buf;

	CHECK(ctrbox_runc_last_error(path, &msg) == 0);
	CHECK_STR(msg, create_failed);
	free(msg);
	unlink(path);
	free(path);

	/* msg is trimmed like strings.TrimSpace; no error line at all gives NULL */
	path = fixture_str("{\"level\":\"error\",\"msg\":\" \\n spaced\\t\\n\"}\n");
	CHECK(ctrbox_runc_last_error(path, &msg) == 0);
	CHECK_STR(msg, "spaced");
	free(msg);
	unlink(path);
	free(path);
	path = fixture_str("{\"level\":\"info\",\"msg\":\"ok\"}\n");
	msg = (char *)"x";
	CHECK(ctrbox_runc_last_error(path, &msg) == 0 && msg == NULL);
	unlink(path);
	free(path);
	CHECK(ctrbox_runc_last_error("/nonexistent/log.json", &msg) == -ENOENT && msg == NULL);

	/* only the last 1 MiB is read: an error before it is not seen, one after it is */
	buf = malloc(big + 200);
	if (!buf) {
		CHECK(0);
		return;
	}
	line = sprintf(buf, "{\"level\":\"error\",\"msg\":\"too old\"}\n");
	for (; line < big; line++)
		buf[line] = line % 64 ? 'x' : '\n';
	path = fixture(buf, line);
	msg = (char *)"x";
	CHECK(ctrbox_runc_last_error(path, &msg) == 0 && msg == NULL);
	unlink(path);
	free(path);
	line += sprintf(buf + line, "\n{\"level\":\"error\",\"msg\":\"recent\"}\n");
	path = fixture(buf, line);
	CHECK(ctrbox_runc_last_error(path, &msg) == 0);
	CHECK_STR(msg, "recent");
	free(msg);
	unlink(path);
	free(path);
	free(buf);
}

void test_runc_error_message(void)
{
	char *path = fixture(log_fixture, sizeof(log_fixture) - 1), *s;
	struct ctrbox_runc r = shim_runc;
	const int exit1 = 1 << 8, killed = SIGKILL; /* wait statuses */

	/* the log's last error wins over runc's exit status and output */
	r.log = path;
	s = ctrbox_runc_error_message("OCI runtime create failed", &r, NULL, exit1);
	CHECK_STR(s, "OCI runtime create failed: runc create failed: unable to start container "
		     "process: exec: \"/bin/nonexistent\": stat /bin/nonexistent: no such file or "
		     "directory");
	free(s);
	unlink(path);
	free(path);

	/* no error in the log: go-runc's error, with the captured output verbatim */
	path = fixture_str("{\"level\":\"info\",\"msg\":\"ok\"}\n");
	r.log = path;
	s = ctrbox_runc_error_message("OCI runtime start failed", &r, "container not running\n",
				      exit1);
	CHECK_STR(s,
		  "OCI runtime start failed: runc did not terminate successfully: exit status 1: "
		  "container not running\n");
	free(s);
	s = ctrbox_runc_error_message("OCI runtime pause failed", &r, "",
				      exit1); /* captured, empty */
	CHECK_STR(s,
		  "OCI runtime pause failed: runc did not terminate successfully: exit status 1: ");
	free(s);
	s = ctrbox_runc_error_message("OCI runtime create failed", &r, NULL, killed); /* pipes */
	CHECK_STR(
	    s, "OCI runtime create failed: runc did not terminate successfully: exit status 137");
	free(s);
	r.binary = "/usr/sbin/runc";
	s = ctrbox_runc_error_message("OCI runtime exec failed", &r, NULL, 2 << 8);
	CHECK_STR(s, "OCI runtime exec failed: /usr/sbin/runc did not terminate successfully: exit "
		     "status 2");
	free(s);
	unlink(path);
	free(path);

	/* the log cannot be read */
	r = shim_runc;
	r.log = "/nonexistent/log.json";
	s = ctrbox_runc_error_message("OCI runtime create failed", &r, NULL, exit1);
	CHECK_STR(s, "OCI runtime create failed: unable to retrieve OCI runtime error (open "
		     "/nonexistent/log.json: no such file or directory): runc did not terminate "
		     "successfully: exit status 1");
	free(s);
	r.log = "/tmp";
	s = ctrbox_runc_error_message("OCI runtime start failed", &r, "x", exit1);
	CHECK_STR(s,
		  "OCI runtime start failed: unable to retrieve OCI runtime error (read /tmp: is "
		  "a directory): runc did not terminate successfully: exit status 1: x");
	free(s);
	/* no log configured */
	r.log = NULL;
	s = ctrbox_runc_error_message("OCI runtime start failed", &r, "out", exit1);
	CHECK_STR(s,
		  "OCI runtime start failed: runc did not terminate successfully: exit status 1: "
		  "out");
	free(s);

	/* a runc that cannot be started: Go's os/exec texts, then runtimeError as above */
	r.binary = "ctrbox-no-such-runc";
	s = ctrbox_runc_exec_error(&r, -ENOENT);
	CHECK_STR(s, "exec: \"ctrbox-no-such-runc\": executable file not found in $PATH");
	free(s);
	r.binary = "/nonexistent/runc";
	s = ctrbox_runc_exec_error(&r, -ENOENT);
	CHECK_STR(s, "fork/exec /nonexistent/runc: no such file or directory");
	free(s);
	r.binary = "/tmp/not-executable";
	s = ctrbox_runc_exec_error(&r, -EACCES);
	CHECK_STR(s, "fork/exec /tmp/not-executable: permission denied");
	free(s);
	s = ctrbox_runc_runtime_error("OCI runtime create failed", "/nonexistent/log.json",
				      "exec: \"runc\": executable file not found in $PATH");
	CHECK_STR(s,
		  "OCI runtime create failed: unable to retrieve OCI runtime error (open "
		  "/nonexistent/log.json: no such file or directory): exec: \"runc\": executable "
		  "file not found in $PATH");
	free(s);
}

/* ---- parsers, on runc 1.1.5's own output ---- */

void test_runc_parse_state(void)
{
	static const char state[] = "{\n"
				    "  \"ociVersion\": \"1.0.2-dev\",\n"
				    "  \"id\": \"c1\",\n"
				    "  \"pid\": 442,\n"
				    "  \"status\": \"running\",\n"
				    "  \"bundle\": \"/tmp/rxb\",\n"
				    "  \"rootfs\": \"/tmp/rxb/rootfs\",\n"
				    "  \"created\": \"2026-11-23T13:16:10.598270488Z\",\n"
				    "  \"owner\": \"\"\n"
				    "}";
	static const char stopped[] =
	    "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"pid\":0,\"status\":\"stopped\","
	    "\"bundle\":\"/tmp/rxb\",\"rootfs\":\"/tmp/rxb/rootfs\",\"created\":"
	    "\"2026-11-23T13:16:10.598270488Z\",\"annotations\":{\"a.b\":\"c\"},\"owner\":\"\"}";
	struct ctrbox_runc_state st;

	CHECK(ctrbox_runc_parse_state(state, sizeof(state) - 1, &st) == 0);
	CHECK_STR(st.id, "c1");
	CHECK(st.pid == 442);
	CHECK_STR(st.status, "running");
	CHECK_STR(st.bundle, "/tmp/rxb");
	CHECK_STR(st.rootfs, "/tmp/rxb/rootfs");
	CHECK_STR(st.created, "2026-11-23T13:16:10.598270488Z");
	ctrbox_runc_state_free(&st);
	CHECK(ctrbox_runc_parse_state(stopped, sizeof(stopped) - 1, &st) == 0);
	CHECK(st.pid == 0);
	CHECK_STR(st.status, "stopped");
	ctrbox_runc_state_free(&st);
	/* absent fields are Go's zero values; wrong types and non-objects fail */
	CHECK(ctrbox_runc_parse_state("{\"id\":\"x\"}", 10, &st) == 0);
	CHECK_STR(st.status, "");
	CHECK(st.pid == 0);
	ctrbox_runc_state_free(&st);
	CHECK(ctrbox_runc_parse_state("{\"pid\":\"1\"}", 11, &st) == -EINVAL && st.id == NULL);
	CHECK(ctrbox_runc_parse_state("{\"id\":1}", 8, &st) == -EINVAL);
	CHECK(ctrbox_runc_parse_state("[]", 2, &st) == -EINVAL);
	CHECK(ctrbox_runc_parse_state("container does not exist\n", 25, &st) == -EINVAL);
}

void test_runc_parse_ps(void)
{
	int *pids = (int *)1;
	size_t n = 9;

	CHECK(ctrbox_runc_parse_ps("[442]\n", 6, &pids, &n) == 0 && n == 1 && pids &&
	      pids[0] == 442);
	free(pids);
	CHECK(ctrbox_runc_parse_ps("[1,22,333]", 10, &pids, &n) == 0 && n == 3 && pids[2] == 333);
	free(pids);
	/* a stopped container: runc prints null */
	CHECK(ctrbox_runc_parse_ps("null\n", 5, &pids, &n) == 0 && n == 0 && pids == NULL);
	CHECK(ctrbox_runc_parse_ps("[]", 2, &pids, &n) == 0 && n == 0 && pids == NULL);
	CHECK(ctrbox_runc_parse_ps("[\"1\"]", 5, &pids, &n) == -EINVAL && pids == NULL);
	CHECK(ctrbox_runc_parse_ps("[1.5]", 5, &pids, &n) == -EINVAL);
	CHECK(ctrbox_runc_parse_ps("[null]", 6, &pids, &n) == -EINVAL);
	CHECK(ctrbox_runc_parse_ps("[4294967296]", 12, &pids, &n) == -ERANGE);
	CHECK(ctrbox_runc_parse_ps("{}", 2, &pids, &n) == -EINVAL);
	CHECK(ctrbox_runc_parse_ps("", 0, &pids, &n) == -EINVAL);
}

/* ---- asynchronous jobs, with /bin/sh standing in for runc ---- */

struct job_seen {
	int calls, ok, wstatus;
	char err[512], output[64];
	size_t outlen;
	pid_t pid;
};

static void job_done_cb(struct ctrbox_runc_job *j, int ok, int wstatus, const char *err,
			const char *output, size_t outlen, void *data)
{
	struct job_seen *s = data;

	s->calls++;
	s->ok = ok;
	s->wstatus = wstatus;
	s->pid = ctrbox_runc_job_pid(j);
	snprintf(s->err, sizeof(s->err), "%s", err ? err : "(null)");
	snprintf(s->output, sizeof(s->output), "%s", output ? output : "(null)");
	s->outlen = outlen;
}

/* Starts sh -c script as a job on m and reaps it once it exited. */
static int run_job(struct ctrbox_monitor *m, const struct ctrbox_runc *r, const char *script,
		   const struct ctrbox_runc_job_io *io, struct job_seen *s)
{
	struct ctrbox_runc_argv av = {0};
	struct ctrbox_runc_job *j = NULL;
	siginfo_t si;
	int rc;

	ctrbox_runc_argv_add(&av, r->binary);
	ctrbox_runc_argv_add(&av, "-c");
	ctrbox_runc_argv_add(&av, script);
	rc = ctrbox_runc_job_start(r, m, &av, io, "OCI runtime create failed", "c1", job_done_cb, s,
				   &j);
	ctrbox_runc_argv_free(&av);
	if (rc < 0)
		return rc;
	CHECK(j && ctrbox_runc_job_pid(j) > 0);
	waitid(P_PID, (id_t)ctrbox_runc_job_pid(j), &si, WEXITED | WNOWAIT);
	CHECK(s->calls == 0);
	CHECK(ctrbox_monitor_reap(m) == 1);
	return 0;
}

static void test_runc_job_complete_body(void)
{
	struct ctrbox_monitor *m = ctrbox_monitor_new();
	struct ctrbox_runc r = {.binary = "/bin/sh"};
	struct ctrbox_runc_job_io quiet = {-1, CTRBOX_RUNC_JOB_DEVNULL, CTRBOX_RUNC_JOB_DEVNULL};
	struct job_seen s = {0}, t = {0};

	CHECK(run_job(m, &r, "echo out; echo err >&2; exit 3", NULL, &s) == 0);
	CHECK(s.calls == 1 && !s.ok && WEXITSTATUS(s.wstatus) == 3);
	CHECK_STR(s.output, "out\nerr\n");
	CHECK(s.outlen == 8);
	CHECK_STR(s.err, "OCI runtime create failed: /bin/sh did not terminate successfully: exit "
			 "status 3: out\nerr\n");
	CHECK(run_job(m, &r, "echo lost; exit 0", &quiet, &t) == 0);
	CHECK(t.calls == 1 && t.ok && t.outlen == 0);
	CHECK_STR(t.output, "");
	CHECK_STR(t.err, "OCI runtime create failed");
	CHECK(ctrbox_monitor_cached(m) == 0);
	ctrbox_monitor_free(m);
}

static void test_runc_job_spawn_error_body(void)
{
	struct ctrbox_monitor *m = ctrbox_monitor_new();
	struct ctrbox_runc r = {.binary = "/nonexistent-ctrbox/runc"};
	struct ctrbox_runc q = {.binary = "no-such-runc-ctrbox"};
	struct job_seen s = {0};
	char *e;
	int rc = run_job(m, &r, "exit 0", NULL, &s);

	CHECK(rc == -ENOENT && s.calls == 0);
	e = ctrbox_runc_spawn_error(&r, "OCI runtime start failed", rc);
	CHECK_STR(e,
		  "OCI runtime start failed: fork/exec /nonexistent-ctrbox/runc: no such file or "
		  "directory");
	free(e);
	e = ctrbox_runc_spawn_error(&q, "OCI runtime start failed", -ENOENT);
	CHECK_STR(e, "OCI runtime start failed: exec: \"no-such-runc-ctrbox\": executable file not "
		     "found in $PATH");
	free(e);
	e = ctrbox_runc_spawn_error(&q, "kill", -ENOMEM);
	CHECK_STR(e, "kill: Cannot allocate memory");
	free(e);
	CHECK(ctrbox_monitor_reap(m) == 0);
	ctrbox_monitor_free(m);
}

/* ---- list and events output, as runc 1.1.5 prints it (cgroup v1) ---- */

UNIT_TEST(test_runc_parse_list)
{
	static const char out[] =
	    "[{\"ociVersion\":\"1.0.2-dev\",\"id\":\"f1\",\"pid\":12516,\"status\":\"running\","
	    "\"bundle\":\"/tmp/rdb4\",\"rootfs\":\"/tmp/rdb/rootfs\",\"created\":"
	    "\"2026-12-02T14:28:40.952798254Z\",\"owner\":\"root\"},{\"id\":\"f2\",\"pid\":0,"
	    "\"status\":\"stopped\"}]\n";
	struct ctrbox_runc_state *v = NULL;
	size_t n = 9;

	CHECK(ctrbox_runc_parse_list(out, strlen(out), &v, &n) == 0 && n == 2);
	if (v && n == 2) {
		CHECK_STR(v[0].id, "f1");
		CHECK(v[0].pid == 12516);
		CHECK_STR(v[0].status, "running");
		CHECK_STR(v[0].bundle, "/tmp/rdb4");
		CHECK_STR(v[0].created, "2026-12-02T14:28:40.952798254Z");
		CHECK_STR(v[1].status, "stopped");
		CHECK_STR(v[1].rootfs, "");
	}
	ctrbox_runc_list_free(v, n);
	CHECK(ctrbox_runc_parse_list("null", 4, &v, &n) == 0 && n == 0 && !v);
	CHECK(ctrbox_runc_parse_list("[{\"id\":1}]", 10, &v, &n) == -EINVAL && !v);
	CHECK(ctrbox_runc_parse_list("{}", 2, &v, &n) == -EINVAL);
	CHECK(ctrbox_runc_parse_list("[", 1, &v, &n) == -EINVAL);
}

UNIT_TEST(test_runc_parse_event)
{
	static const char stats[] =
	    "{\"type\":\"stats\",\"id\":\"f1\",\"data\":{\"cpu\":{\"usage\":{\"total\":11908476,"
	    "\"percpu\":[7569519,4338957],\"kernel\":8000000,\"user\":4000000},\"throttling\":{}},"
	    "\"memory\":{\"cache\":196608,\"usage\":{\"limit\":9223372036854771712,\"usage\":"
	    "729088,\"max\":2789376,\"failcnt\":0},\"raw\":{\"rss\":53248}},\"pids\":{\"current\":"
	    "1,\"limit\":18446744073709551615}}}\n";
	static const char oom[] = "{\"type\":\"oom\",\"id\":\"f1\"}";
	static const char badnum[] =
	    "{\"type\":\"stats\",\"data\":{\"cpu\":{\"usage\":{\"total\":\"x\"}}}}";
	struct ctrbox_runc_event ev;

	CHECK(ctrbox_runc_parse_event(stats, strlen(stats), &ev) == 0);
	CHECK(ev.type == CTRBOX_RUNC_EVENT_STATS);
	CHECK_STR(ev.type_name, "stats");
	CHECK_STR(ev.id, "f1");
	CHECK(ev.stats.cpu_total == 11908476 && ev.stats.cpu_kernel == 8000000);
	CHECK(ev.stats.cpu_user == 4000000);
	CHECK(ev.stats.mem_usage == 729088 && ev.stats.mem_max == 2789376);
	CHECK(ev.stats.mem_limit == 9223372036854771712ull && ev.stats.mem_cache == 196608);
	CHECK(ev.stats.pids_current == 1 && ev.stats.pids_limit == UINT64_MAX);
	ctrbox_runc_event_free(&ev);
	CHECK(ctrbox_runc_parse_event(oom, strlen(oom), &ev) == 0);
	CHECK(ev.type == CTRBOX_RUNC_EVENT_OOM && ev.stats.cpu_total == 0);
	ctrbox_runc_event_free(&ev);
	CHECK(ctrbox_runc_parse_event("{\"type\":\"x\"}", 12, &ev) == 0);
	CHECK(ev.type == CTRBOX_RUNC_EVENT_OTHER);
	CHECK_STR(ev.type_name, "x");
	CHECK_STR(ev.id, "");
	ctrbox_runc_event_free(&ev);
	CHECK(ctrbox_runc_parse_event("{\"type\":3}", 10, &ev) == -EINVAL);
	ctrbox_runc_event_free(&ev);
	CHECK(ctrbox_runc_parse_event("[]", 2, &ev) == -EINVAL);
	CHECK(ctrbox_runc_parse_event(badnum, strlen(badnum), &ev) == -EINVAL); /* valid JSON */
	ctrbox_runc_event_free(&ev);
}

UNIT_TEST(test_runc_argv_events)
{
	struct ctrbox_runc_argv a = {0};

	CHECK(ctrbox_runc_argv_events(&shim_runc, "c1", 0, &a) == 0);
	CHECK(a.n == 9);
	if (a.n == 9) {
		CHECK_STR(a.v[7], "events");
		CHECK_STR(a.v[8], "c1");
		CHECK(!a.v[9]);
	}
	ctrbox_runc_argv_free(&a);
	CHECK(ctrbox_runc_argv_events(&shim_runc, "c1", 2, &a) == 0 && a.n == 11);
	if (a.n == 11) {
		CHECK_STR(a.v[8], "--interval");
		CHECK_STR(a.v[9], "2s");
		CHECK_STR(a.v[10], "c1");
	}
	ctrbox_runc_argv_free(&a);
	CHECK(ctrbox_runc_argv_events(&shim_runc, "", 0, &a) == -EINVAL && a.n == 0);
}

/* ---- the console socket: a client standing in for runc sends a pipe's end ---- */

struct console_seen {
	int done, master;
};

static void console_got(struct ctrbox_runc_console_socket *cs, int master, void *data)
{
	struct console_seen *s = data;

	s->done = 1;
	s->master = master;
}

/* Connects to path and sends fd with SCM_RIGHTS (fd < 0: a message with no fd). */
static int console_send(const char *path, int fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0}, byte = 'x';
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0) {
		struct cmsghdr *cm;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	rc = connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 && sendmsg(s, &msg, 0) == 1;
	close(s);
	return rc ? 0 : -1;
}

UNIT_TEST(test_runc_console_socket)
{
	struct ctrbox_runc_console_socket *cs = NULL;
	struct ctrbox_loop *l = NULL;
	struct console_seen s = {0, -1};
	char dir[] = "/tmp/ctrbox-console-XXXXXX", path[128], b = 0;
	int p[2], master = -1;

	CHECK(mkdtemp(dir) && ctrbox_loop_new(&l) == 0 && pipe(p) == 0);
	CHECK(ctrbox_runc_console_socket_new(dir, &cs) == 0 && cs);
	snprintf(path, sizeof(path), "%s", ctrbox_runc_console_socket_path(cs));
	CHECK(!strncmp(path, dir, strlen(dir)) && access(path, F_OK) == 0);
	CHECK(ctrbox_runc_console_socket_take(cs, &master) == -EAGAIN);
	CHECK(ctrbox_runc_console_receive(cs, l, 10000, console_got, &s) == 0);
	CHECK(ctrbox_runc_console_receive(cs, l, 10000, console_got, &s) == -EBUSY);
	CHECK(console_send(path, p[1]) == 0);
	CHECK(ctrbox_loop_run_until(l, &s.done, ctrbox_loop_now_ms() + 10000) == 0);
	CHECK(s.master >= 0 && write(s.master, "y", 1) == 1 && read(p[0], &b, 1) == 1 && b == 'y');
	CHECK(access(path, F_OK) < 0 && *ctrbox_runc_console_socket_path(cs) == '\0');
	CHECK(ctrbox_runc_console_socket_take(cs, &master) == -EBADF);
	if (s.master >= 0)
		close(s.master);
	ctrbox_runc_console_socket_free(cs);

	/* a connection without an fd; a receive nobody answers times out */
	CHECK(ctrbox_runc_console_socket_new(dir, &cs) == 0);
	CHECK(console_send(ctrbox_runc_console_socket_path(cs), -1) == 0);
	CHECK(ctrbox_runc_console_socket_take(cs, &master) == -EBADMSG);
	ctrbox_runc_console_socket_free(cs);
	s.done = 0;
	CHECK(ctrbox_runc_console_socket_new(dir, &cs) == 0);
	CHECK(ctrbox_runc_console_receive(cs, l, 30, console_got, &s) == 0);
	CHECK(ctrbox_loop_run_until(l, &s.done, ctrbox_loop_now_ms() + 10000) == 0);
	CHECK(s.master == -ETIMEDOUT);
	ctrbox_runc_console_socket_free(cs);
	CHECK(rmdir(dir) == 0); /* every socket dir went */
	close(p[0]);
	close(p[1]);
	ctrbox_loop_free(l);
}

/* ---- a job's stdio as pipes: sh standing in for runc writes to both, reads stdin ---- */

static void test_runc_job_pipes_body(void)
{
	struct ctrbox_monitor *m = ctrbox_monitor_new();
	struct ctrbox_runc r = {.binary = "/bin/sh"};
	struct ctrbox_io_pipes p;
	struct job_seen s = {0};
	struct ctrbox_runc_job_io io;
	char buf[64] = {0};
	ssize_t n;

	CHECK(ctrbox_io_pipes_new(&p, 1, 1, 0) == 0);
	CHECK(p.in >= 0 && p.out >= 0 && p.err == -1 && p.child_err == -1);
	io = (struct ctrbox_runc_job_io){p.child_in, p.child_out, CTRBOX_RUNC_JOB_DEVNULL};
	CHECK(write(p.in, "ping\n", 5) == 5);
	{
		int in = p.in;
		p.in = -1;
		close(in); /* EOF for the child's read after the line */
	}
	CHECK(run_job(m, &r, "read l; echo \"got $l\"; echo lost >&2", &io, &s) == 0);
	ctrbox_io_pipes_close_child(&p);
	CHECK(p.child_in == -1 && p.child_out == -1);
	CHECK(s.calls == 1 && s.ok && s.outlen == 0); /* nothing captured: it went to the pipe */
	n = read(p.out, buf, sizeof(buf) - 1);
	CHECK(n == 9 && !strcmp(buf, "got ping\n"));
	CHECK(read(p.out, buf, sizeof(buf)) == 0); /* EOF: every writer closed */
	ctrbox_io_pipes_close(&p);
	CHECK(p.out == -1);
	ctrbox_monitor_free(m);
}

UNIT_TEST(test_runc_job_complete)
{
	unit_in_own_process(test_runc_job_complete_body);
}

UNIT_TEST(test_runc_job_spawn_error)
{
	unit_in_own_process(test_runc_job_spawn_error_body);
}

UNIT_TEST(test_runc_job_pipes)
{
	unit_in_own_process(test_runc_job_pipes_body);
}
