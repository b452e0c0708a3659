/* The shim framework: containerd's runtime-v2 shim CLI contract (start, delete, daemon). */
#include <ctrbox/shim.h>

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log_int.h"
#include "publisher.h"
#include <ctrbox/jsonw.h>
#include <ctrbox/sha256.h>
#include "bootstrap/v1/bootstrap.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "task/shim.pb-c.h"
#include "types/introspection.pb-c.h"
#include "protos/ttrpc_int.h"
#include <ctrbox/util.h>

extern char **environ;

#define OPTIONS_MAX (1u << 20)
/* On the way out, how long replies still queued for a peer that reads late may take. */
#define REPLY_FLUSH_MS 2000

/* argv[0] of ctrbox_shim_run(): the name in usage messages and how the daemon is exec'd. */
static const char *self_name = "shim";

struct ctrbox_shim {
	const struct ctrbox_shim_ops *ops;
	struct ctrbox_shim_opts opts;
	struct ctrbox_loop *loop;
	struct ctrbox_ttrpc_server *server;
	struct publisher *publisher;
	void *state;
	int sigfd;
	int lfd; /* the listener, its socket file removed as soon as exit is requested */
	int exiting;
};

/* ---- command line (Go's flag package: -name value, -name=value, --name, bool flags) ---- */

enum flag_kind { FLAG_STRING, FLAG_BOOL };

struct flag_def {
	const char *name;
	enum flag_kind kind;
	size_t off;
};

#define OPT(f) offsetof(struct ctrbox_shim_opts, f)
static const struct flag_def flag_defs[] = {
    {"namespace", FLAG_STRING, OPT(ns)},    {"id", FLAG_STRING, OPT(id)},
    {"address", FLAG_STRING, OPT(address)}, {"publish-binary", FLAG_STRING, OPT(publish_binary)},
    {"bundle", FLAG_STRING, OPT(bundle)},   {"socket", FLAG_STRING, OPT(socket)},
    {"debug", FLAG_BOOL, OPT(debug)},	    {"v", FLAG_BOOL, OPT(version)},
    {"info", FLAG_BOOL, OPT(info)},
};

static int parse_bool(const char *s, int *out)
{
	static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(s, t[i]))
			return *out = 1, 0;
		if (!strcmp(s, f[i]))
			return *out = 0, 0;
	}
	return -1;
}

static void flag_usage(void)
{
	fprintf(stderr, "Usage of %s:\n", self_name);
	fprintf(stderr,
		"  -address string\n\tgrpc address back to main containerd\n"
		"  -bundle string\n\tpath to the bundle if not workdir\n"
		"  -debug\n\tenable debug output in logs\n"
		"  -id string\n\tid of the task\n"
		"  -info\n\tget the option protobuf from stdin, print the shim info protobuf "
		"to stdout, and exit\n"
		"  -namespace string\n\tnamespace that owns the shim\n"
		"  -publish-binary string\n\tpath to publish binary (used for publishing "
		"events) (default \"containerd\")\n"
		"  -socket string\n\tsocket path to serve\n"
		"  -v\tshow the shim version and exit\n");
}

int ctrbox_shim_parse_flags(int argc, char **argv, struct ctrbox_shim_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->publish_binary = "containerd";
	for (i = 1; i < argc; i++) {
		const char *s = argv[i], *name, *eq, *val = NULL;
		const struct flag_def *fd = NULL;
		char nbuf[64];
		size_t nlen;

		if (s[0] != '-' || s[1] == '\0')
			break;
		if (!strcmp(s, "--")) {
			i++;
			break;
		}
		name = s + 1 + (s[1] == '-');
		if (name[0] == '-' || name[0] == '=') {
			fprintf(stderr, "bad flag syntax: %s\n", s);
			flag_usage();
			return 2;
		}
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		if (eq)
			val = eq + 1;
		if (nlen < sizeof(nbuf)) {
			memcpy(nbuf, name, nlen);
			nbuf[nlen] = '\0';
			for (size_t k = 0; k < sizeof(flag_defs) / sizeof(flag_defs[0]); k++)
				if (!strcmp(flag_defs[k].name, nbuf))
					fd = &flag_defs[k];
		}
		if (!fd) {
			fprintf(stderr, "flag provided but not defined: -%.*s\n", (int)nlen, name);
			flag_usage();
			return 2;
		}
		if (fd->kind == FLAG_BOOL) {
			int b = 1;
			if (val && parse_bool(val, &b) < 0) {
				fprintf(stderr,
					"invalid boolean value \"%s\" for -%s: parse error\n", val,
					fd->name);
				flag_usage();
				return 2;
			}
			*(int *)((char *)o + fd->off) = b;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "flag needs an argument: -%s\n", fd->name);
				flag_usage();
				return 2;
			}
			val = argv[++i];
		}
		*(const char **)((char *)o + fd->off) = val;
	}
	if (i < argc)
		o->action = argv[i];
	return 0;
}

static char *socket_address_in(const char *dir, const char *grpc_address, const char *ns,
			       const char *group)
{
	const char *parts[] = {grpc_address, ns, group};
	char *joined = ctrbox_path_join(parts, 3), hex[65], *out;

	if (!joined)
		return NULL;
	ctrbox_sha256_hex(joined, strlen(joined), hex);
	free(joined);
	if (asprintf(&out, "unix://%s/%s", dir, hex) < 0)
		return NULL;
	return out;
}

char *ctrbox_shim_socket_address(const char *grpc_address, const char *ns, const char *group)
{
	return socket_address_in(CTRBOX_SHIM_SOCKET_DIR, grpc_address, ns, group);
}

/* ---- what containerd writes on start's stdin ---- */

/* An Any re-encoded on its own (the bytes a bare-Any stdin would have had). */
static int pack_any(const Google__Protobuf__Any *any, uint8_t **out, size_t *len)
{
	*len = google__protobuf__any__get_packed_size(any);
	*out = malloc(*len ? *len : 1);
	if (!*out)
		return -ENOMEM;
	google__protobuf__any__pack(any, *out);
	return 0;
}

int ctrbox_shim_parse_start_input(const uint8_t *in, size_t len, const char *id, const char *ns,
				  uint8_t **opts, size_t *optlen, char **socket_dir)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapParams *bp;
	int r = 0;

	*opts = NULL;
	*optlen = 0;
	if (socket_dir)
		*socket_dir = NULL;
	if (len == 0)
		return 0;
	/* A bare Any (type_url = 1, value = 2) decodes as BootstrapParams too (instance_id,
	 * namespace): only one that names this shim's id and namespace is one. */
	bp = containerd__runtime__bootstrap__v1__bootstrap_params__unpack(NULL, len, in);
	if (!bp || !id || !ns || strcmp(bp->instance_id, id) || strcmp(bp->namespace_, ns)) {
		if (bp)
			containerd__runtime__bootstrap__v1__bootstrap_params__free_unpacked(bp,
											    NULL);
		*opts = malloc(len);
		if (!*opts)
			return -ENOMEM;
		memcpy(*opts, in, len);
		*optlen = len;
		return 0;
	}
	/* The runtime options are the extension that is not one of containerd's own
	 * (containerd.io/cri.v1.PodSandboxConfig and the like). */
	for (size_t i = 0; i < bp->n_extensions; i++) {
		const Google__Protobuf__Any *v = bp->extensions[i]->value;
		if (v && v->type_url && *v->type_url &&
		    strncmp(v->type_url, "containerd.io/", 14)) {
			r = pack_any(v, opts, optlen);
			break;
		}
	}
	if (r == 0 && socket_dir && bp->socket_dir && *bp->socket_dir &&
	    !(*socket_dir = strdup(bp->socket_dir)))
		r = -ENOMEM;
	if (r < 0) {
		free(*opts);
		*opts = NULL;
		*optlen = 0;
	}
	containerd__runtime__bootstrap__v1__bootstrap_params__free_unpacked(bp, NULL);
	return r;
}

/* Fatal errors look like the Go shim's: "<runtime>: <text>" on stderr, no newline, exit 1. */
static int fatal(const struct ctrbox_shim_ops *ops, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fatal(const struct ctrbox_shim_ops *ops, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ops->runtime);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	return 1;
}

/* ---- start ---- */

static int listen_unix(const char *path, int *out_fd, int *already)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	*already = 0;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (int attempt = 0; attempt < 2; attempt++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			if (chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
				r = -errno;
				close(fd);
				unlink(path);
				return r;
			}
			*out_fd = fd;
			return 0;
		}
		r = -errno;
		close(fd);
		if (r != -EADDRINUSE)
			return r;
		/* Someone serves this group already, or a dead shim left its socket. */
		fd = ctrbox_unix_connect(path, 1);
		if (fd >= 0) {
			close(fd);
			*already = 1;
			return 0;
		}
		unlink(path);
	}
	return -EADDRINUSE;
}

static pid_t spawn_daemon(const struct ctrbox_shim_opts *o, int lfd, const char *self)
{
	const char *argv[12];
	int n = 0;
	pid_t pid;

	argv[n++] = self;
	argv[n++] = "-namespace";
	argv[n++] = o->ns;
	argv[n++] = "-id";
	argv[n++] = o->id ? o->id : "";
	argv[n++] = "-address";
	argv[n++] = o->address ? o->address : "";
	if (o->debug)
		argv[n++] = "-debug";
	argv[n] = NULL;

	/* Like Go's cmd.Start(), return once the daemon runs the new image: a close-on-exec pipe
	 * reports exec's errno, or closes when exec succeeded. */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid != 0) {
		int err = 0, saved;
		ssize_t r;
		close(p[1]);
		if (pid > 0) {
			while ((r = read(p[0], &err, sizeof(err))) < 0 && errno == EINTR)
				;
			if (r == sizeof(err)) {
				waitpid(pid, NULL, 0);
				pid = -1;
				errno = err;
			}
		}
		saved = errno;
		close(p[0]);
		errno = saved;
		return pid;
	}
	/* child: new session (own process group), listener on fd 3, stdio on /dev/null */
	int efd = fcntl(p[1], F_DUPFD_CLOEXEC, 64), err;
	setsid();
	int null = open("/dev/null", O_RDWR);
	if (efd < 0 || null < 0 || (lfd == 3 ? fcntl(3, F_SETFD, 0) : dup2(lfd, 3)) < 0)
		goto fail;
	dup2(null, 0), dup2(null, 1), dup2(null, 2);
	for (int fd = 4; fd < 1024; fd++)
		if (fd != efd)
			close(fd);
	/* CTRBOX_SHIM_EXE (tests/valgrind only): a path to re-execute instead of /proc/self/exe,
	 * named after the applet. Under valgrind, /proc/self/exe is valgrind itself, and argv[0]
	 * becomes the path executed. */
	const char *exe = getenv("CTRBOX_SHIM_EXE");
	execve(exe && *exe ? exe : "/proc/self/exe", (char *const *)argv, environ);
fail:
	err = errno;
	if (efd >= 0)
		(void)!write(efd, &err, sizeof(err));
	_exit(127);
}

/* The daemon ends up one point more killable than containerd, as the Go shim does. */
static void adjust_oom_score(pid_t daemon)
{
	char path[64], *val = NULL, buf[16];
	int score;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", getppid());
	if (ctrbox_read_file(path, 32, &val, NULL) < 0)
		return;
	score = atoi(val) + 1;
	free(val);
	if (score > 1000)
		score = 1000;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", daemon);
	snprintf(buf, sizeof(buf), "%d", score);
	ctrbox_write_file(path, buf, strlen(buf), 0644);
}

/* What start prints: containerd 2.x gets the Go 2.x shim's JSON (Task API version 3, which
 * ctrbox_task_register serves; the fields in Go's order), 1.6 the bare address it expects. */
static int print_answer(const struct ctrbox_shim_ops *ops, const struct ctrbox_shim_opts *o,
			const char *addr)
{
	struct ctrbox_jsonw w;
	char *json;
	int r;

	if (!o->containerd_2x || ops->task_api_version == 2)
		return fputs(addr, stdout) < 0 ? -EIO : 0;
	ctrbox_jsonw_init(&w, NULL, 0);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "version");
	ctrbox_jsonw_int(&w, 3);
	ctrbox_jsonw_key(&w, "address");
	ctrbox_jsonw_string(&w, addr);
	ctrbox_jsonw_key(&w, "protocol");
	ctrbox_jsonw_string(&w, "ttrpc");
	ctrbox_jsonw_object_end(&w);
	if ((r = ctrbox_jsonw_finish(&w, &json, NULL)) < 0)
		return r;
	r = fputs(json, stdout) < 0 ? -EIO : 0;
	free(json);
	return r;
}

/* A socket directory from containerd (2.3's socket_dir): absolute, clean, printable ASCII
 * without quotes or backslashes, and short enough for sun_path with the 64-byte name. */
static int valid_socket_dir(const char *d)
{
	size_t n = strlen(d);

	if (d[0] != '/' || n + 1 + 64 >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strstr(d, "//") || strstr(d, "/./") || strstr(d, "/../") ||
	    (n >= 3 && !strcmp(d + n - 3, "/..")) || (n >= 2 && !strcmp(d + n - 2, "/.")))
		return 0;
	for (const char *p = d; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\' || *p == '<' || *p == '>' ||
		    *p == '&')
			return 0;
	return 1;
}

#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#endif
#ifndef PR_SCHED_CORE_CREATE
#define PR_SCHED_CORE_CREATE 1
#endif
#define SCHED_CORE_PIDTYPE_PGID 2

static int do_start(const struct ctrbox_shim_ops *ops, const struct ctrbox_shim_opts *o)
{
	char *group = ops->group_id ? ops->group_id(o) : NULL, *addr = NULL, *in = NULL,
	     *sockdir = NULL, text[128];
	const char *path, *sched = getenv("SCHED_CORE");
	uint8_t *opts = NULL;
	size_t inlen = 0, optlen = 0;
	int lfd = -1, already = 0, r;
	pid_t pid;

	/* stdin first: containerd 2.3's BootstrapParams may name the socket directory. */
	r = ctrbox_read_fd_all(0, OPTIONS_MAX, &in, &inlen);
	if (r == 0)
		r = ctrbox_shim_parse_start_input((uint8_t *)in, inlen, o->id, o->ns, &opts,
						  &optlen, &sockdir);
	free(in);
	if (r < 0) {
		free(group);
		return fatal(ops, "read runtime options: %s", strerror(-r));
	}
	if (sockdir && !valid_socket_dir(sockdir)) {
		fatal(ops, "invalid socket directory %s", sockdir);
		goto fail;
	}
	addr = socket_address_in(sockdir ? sockdir : CTRBOX_SHIM_SOCKET_DIR,
				 o->address ? o->address : "", o->ns,
				 group ? group : (o->id ? o->id : ""));
	if (!addr) {
		fatal(ops, "out of memory");
		goto fail;
	}
	path = addr + strlen("unix://");
	r = ctrbox_mkdir_p(sockdir ? sockdir : CTRBOX_SHIM_SOCKET_DIR, 0700);
	if (r == 0)
		r = listen_unix(path, &lfd, &already);
	if (r < 0) {
		fatal(ops, "create new shim socket: listen unix %s: %s", path, strerror(-r));
		goto fail;
	}
	/* containerd 1.6 finds a running shim again through the bundle's address file; 2.x keeps
	 * the start answer in bootstrap.json itself, and the Go 2.x shim writes none. */
	if (!o->containerd_2x) {
		r = ctrbox_write_file_atomic("address", addr, strlen(addr), 0644);
		if (r < 0) {
			fatal(ops, "write address: %s", strerror(-r));
			goto fail_unlink;
		}
	}
	if (already) {
		/* A shim for this group runs already: hand containerd its address. */
		print_answer(ops, o, addr);
		goto done;
	}
	/* A core-scheduling domain for the daemon and all it starts (containerd's sched_core
	 * option); the daemon inherits the cookie at fork. */
	if (sched && *sched &&
	    prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, 0, SCHED_CORE_PIDTYPE_PGID, 0) < 0) {
		fatal(ops, "enable sched core support: %s",
		      ctrbox_go_errno_text(errno, text, sizeof(text)));
		goto fail_unlink;
	}
	pid = spawn_daemon(o, lfd, self_name);
	if (pid < 0) {
		fatal(ops, "fork/exec %s: %s", self_name, strerror(errno));
		goto fail_unlink;
	}
	close(lfd);
	lfd = -1;
	r = ops->start_options ? ops->start_options(o, pid, opts, optlen) : 0;
	if (r < 0) {
		fatal(ops, "runtime options: %s", strerror(-r));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto fail_unlink;
	}
	adjust_oom_score(pid);
	print_answer(ops, o, addr);
done:
	free(opts);
	free(sockdir);
	free(group);
	free(addr);
	return 0;
fail_unlink:
	unlink(path);
fail:
	if (lfd >= 0)
		close(lfd);
	free(opts);
	free(sockdir);
	free(group);
	free(addr);
	return 1;
}

/* ---- -info ---- */

static int do_info(const struct ctrbox_shim_ops *ops, const struct ctrbox_shim_opts *o)
{
	Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
	Containerd__Types__RuntimeVersion ver = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
	Google__Protobuf__Any *given = NULL;
	Google__Protobuf__Any *anys[2];
	char *in = NULL, *err = NULL;
	uint8_t *buf;
	size_t inlen = 0, len;
	int r;

	info.name = (char *)ops->runtime;
	ver.version = (char *)(ops->version ? ops->version : CTRBOX_VERSION);
	ver.revision = (char *)(ops->revision ? ops->revision : "ctrbox");
	info.version = &ver;
	r = ctrbox_read_fd_all(0, OPTIONS_MAX, &in, &inlen);
	if (r < 0)
		return fatal(ops, "failed to read config bytes from stdin: %s", strerror(-r));
	if (ops->info) {
		r = ops->info(o, (uint8_t *)in, inlen, &info, &err);
	} else if (inlen > 0) { /* no hook: the options as given, if they are an Any */
		given = google__protobuf__any__unpack(NULL, inlen, (uint8_t *)in);
		if (!given)
			r = -EINVAL;
		info.options = given;
	}
	free(in);
	anys[0] = info.options;
	anys[1] = info.features;
	if (r == 0) {
		len = containerd__types__runtime_info__get_packed_size(&info);
		buf = malloc(len ? len : 1);
		if (!buf)
			r = -ENOMEM;
		else {
			containerd__types__runtime_info__pack(&info, buf);
			r = ctrbox_write_all(1, buf, len);
			free(buf);
			if (r < 0)
				fatal(ops, "write: %s", strerror(-r));
		}
	} else {
		fatal(ops, "%s", err ? err : strerror(-r));
	}
	free(err);
	if (given)
		google__protobuf__any__free_unpacked(given, NULL);
	else
		for (int i = 0; i < 2; i++)
			if (anys[i]) {
				free(anys[i]->type_url);
				free(anys[i]->value.data);
				free(anys[i]);
			}
	return r < 0 ? 1 : 0;
}

/* ---- delete ---- */

static int do_delete(const struct ctrbox_shim_ops *ops, const struct ctrbox_shim_opts *o)
{
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct timespec now;
	uint8_t *buf;
	size_t len;
	int r;

	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = now.tv_nsec;
	resp.exit_status = 128 + SIGKILL;
	resp.exited_at = &ts;
	if (ops->delete_shim) {
		r = ops->delete_shim(o, &resp);
		if (r < 0)
			return fatal(ops, "delete: %s", strerror(-r));
	}
	len = containerd__task__v2__delete_response__get_packed_size(&resp);
	buf = malloc(len ? len : 1);
	if (!buf)
		return fatal(ops, "out of memory");
	containerd__task__v2__delete_response__pack(&resp, buf);
	r = ctrbox_write_all(1, buf, len);
	free(buf);
	return r < 0 ? fatal(ops, "write delete response: %s", strerror(-r)) : 0;
}

/* ---- daemon ---- */

struct ctrbox_loop *ctrbox_shim_loop(struct ctrbox_shim *s)
{
	return s->loop;
}

struct ctrbox_ttrpc_server *ctrbox_shim_server(struct ctrbox_shim *s)
{
	return s->server;
}

const struct ctrbox_shim_opts *ctrbox_shim_options(struct ctrbox_shim *s)
{
	return &s->opts;
}

int ctrbox_shim_publish(struct ctrbox_shim *s, const char *topic, const ProtobufCMessage *event)
{
	if (!s->publisher) {
		const char *addr = getenv("TTRPC_ADDRESS");
		int r = publisher_new(
		    s->loop, addr && *addr ? addr : "/run/containerd/containerd.sock.ttrpc",
		    s->opts.ns, &s->publisher);
		if (r < 0)
			return r;
	}
	ctrbox_log_debug("publishing %s", topic);
	return publisher_publish(s->publisher, topic, event);
}

static void unlink_listener(int fd);

static void exit_cb(struct ctrbox_loop *l, void *data)
{
	(void)data;
	ctrbox_loop_stop(l);
}

void ctrbox_shim_request_exit(struct ctrbox_shim *s)
{
	if (s->exiting)
		return;
	s->exiting = 1;
	/* The socket file goes now, as the Go shim removes it in Shutdown: a start for the same
	 * group that comes meanwhile makes a new shim instead of taking this one's address. */
	if (s->lfd >= 0)
		unlink_listener(s->lfd);
	/* From a timer, so the reply being written right now goes out first. */
	if (!ctrbox_loop_timer_in(s->loop, 0, exit_cb, s))
		ctrbox_loop_stop(s->loop);
}

int ctrbox_shim_reap(void (*exited)(pid_t pid, int wstatus, void *data), void *data)
{
	int n = 0, wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		n++;
		if (exited)
			exited(pid, wstatus, data);
	}
	return n;
}

static void signal_cb(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	struct ctrbox_shim *s = data;
	struct signalfd_siginfo si;
	int chld = 0;
	(void)l, (void)events;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			chld = 1;
			break;
		case SIGTERM:
		case SIGINT:
			ctrbox_log_info("received signal %d, shutting down", si.ssi_signo);
			ctrbox_shim_request_exit(s);
			break;
		case SIGUSR1:
			ctrbox_log_info(
			    "shim pid=%d connections=%u events_pending=%u ctrbox_log_dropped=%lu",
			    getpid(), ctrbox_ttrpc_server_connections(s->server),
			    s->publisher ? publisher_pending(s->publisher) : 0,
			    ctrbox_log_dropped());
			break;
		}
	}
	if (chld) {
		if (s->ops->sigchld)
			s->ops->sigchld(s, s->state);
		else
			ctrbox_shim_reap(NULL, NULL);
	}
}

/* stderr goes to the bundle's log fifo, opened without blocking: a missing reader (no
 * containerd) must not hang the shim, and a full fifo drops lines instead of stalling. */
static void open_log(void)
{
	int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fd != 2) {
		dup2(fd, 2);
		close(fd);
	}
	fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
}

static int listener_fd(const struct ctrbox_shim_opts *o)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (o->socket && *o->socket) {
		if (strlen(o->socket) > 106)
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, o->socket);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		unlink(o->socket);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    chmod(o->socket, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
			int err = -errno;
			close(fd);
			return err;
		}
		return fd;
	}
	if (fstat(3, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -EBADF;
	return 3;
}

static void unlink_listener(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && len > sizeof(sa_family_t) &&
	    sa.sun_path[0] == '/')
		unlink(sa.sun_path);
}

static int setup_signals(struct ctrbox_shim *s)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0)
		return -errno;
	return ctrbox_loop_add(s->loop, s->sigfd, EPOLLIN, signal_cb, s);
}

static int do_daemon(const struct ctrbox_shim_ops *ops, const struct ctrbox_shim_opts *o)
{
	struct ctrbox_shim s = {.ops = ops, .opts = *o, .sigfd = -1, .lfd = -1};
	char pidbuf[16];
	unsigned unsent;
	int lfd, r;

	/* A daemon per container for months: big buffers come from mmap and go back on free,
	 * and the heap top is trimmed eagerly, so transient peaks do not stay resident. */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);
	mallopt(M_TOP_PAD, 0);
	open_log();
	ctrbox_log_set_level(o->debug ? CTRBOX_LOG_DEBUG : CTRBOX_LOG_INFO);
	snprintf(pidbuf, sizeof(pidbuf), "%d", getpid());
	ctrbox_log_add_field("namespace", o->ns);
	ctrbox_log_add_field("pid", pidbuf);
	ctrbox_log_add_field("runtime", ops->runtime);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		ctrbox_log_warn("cannot become a child subreaper: %s", strerror(errno));

	r = ctrbox_loop_new(&s.loop);
	if (r == 0)
		r = setup_signals(&s);
	if (r == 0)
		r = ctrbox_ttrpc_server_new(s.loop, &s.server);
	if (r < 0) {
		ctrbox_log_error("shim setup: %s", strerror(-r));
		return fatal(ops, "shim setup: %s", strerror(-r));
	}
	lfd = listener_fd(o);
	if (lfd < 0) {
		ctrbox_log_error("no listening socket (fd 3 or -socket): %s", strerror(-lfd));
		return fatal(ops, "serve: %s", strerror(-lfd));
	}
	s.lfd = lfd;
	r = ops->init ? ops->init(&s, &s.state) : 0;
	if (r == 0)
		r = ctrbox_ttrpc_server_listen_fd(s.server, lfd);
	if (r < 0) {
		ctrbox_log_error("shim init: %s", strerror(-r));
		return fatal(ops, "init: %s", strerror(-r));
	}
	ctrbox_log_info("starting signal loop");
	r = ctrbox_loop_run(s.loop);
	if (r < 0)
		ctrbox_log_error("event loop: %s", strerror(-r));

	if (!s.exiting)
		unlink_listener(lfd);
	ctrbox_ttrpc_server_stop_listening(s.server);
	/* The loop stopped right after the callback that asked for it: replies the kernel could
	 * not take at once (a peer that reads late) are still queued, the Shutdown reply too. */
	unsent = ttrpc_server_flush(s.server, REPLY_FLUSH_MS);
	if (unsent > 0)
		ctrbox_log_warn("exiting with replies unsent on %u connection(s)", unsent);
	if (s.publisher && publisher_drain(s.publisher, 5000) > 0)
		ctrbox_log_warn("exiting with %u events unsent", publisher_pending(s.publisher));
	if (ops->fini)
		ops->fini(&s, s.state);
	publisher_free(s.publisher);
	ctrbox_ttrpc_server_free(s.server);
	ctrbox_loop_free(s.loop);
	close(s.sigfd);
	ctrbox_log_info("shim exited");
	ctrbox_log_clear_fields();
	return 0;
}

int ctrbox_shim_run(const struct ctrbox_shim_ops *ops, int argc, char **argv)
{
	struct ctrbox_shim_opts o;
	int r;

	if (argc > 0 && argv[0] && *argv[0])
		self_name = argv[0];
	r = ctrbox_shim_parse_flags(argc, argv, &o);
	if (r != 0)
		return r;
	/* containerd 2.x puts MAX_SHIM_VERSION in every shim's environment; 1.6 sets none */
	{
		const char *v = getenv("MAX_SHIM_VERSION");
		o.containerd_2x = v && *v;
	}
	if (o.version) {
		printf("%s:\n  Version:  %s\n  Revision: %s\n  Runtime:  %s\n\n", argv[0],
		       ops->version ? ops->version : CTRBOX_VERSION,
		       ops->revision ? ops->revision : "ctrbox", ops->runtime);
		return 0;
	}
	if (o.info)
		return do_info(ops, &o);
	if (!o.ns || !*o.ns)
		return fatal(ops, "shim namespace cannot be empty");
	if (!o.action)
		return do_daemon(ops, &o);
	if (!strcmp(o.action, "start"))
		return do_start(ops, &o);
	if (!strcmp(o.action, "delete"))
		return do_delete(ops, &o);
	return fatal(ops, "unknown action \"%s\" (want start, delete, or none to serve)", o.action);
}
