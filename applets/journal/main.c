/* ctrbox-journal: a containerd logging binary (binary:// log URI) writing to journald or a file.
 *
 * Contract (spec/logging.md Part A): the container's stdout arrives on fd 3, stderr on fd 4; fd 5
 * is the readiness pipe, closed once the destination is known to be writable; CONTAINER_ID and
 * CONTAINER_NAMESPACE come from the environment; options come as "key value" argument pairs in
 * any order (keys with or without leading dashes, or "key=value" in one argument).
 *
 * Journal mode writes the journald native protocol itself: one datagram per entry on a connected
 * non-blocking AF_UNIX socket; entries above JOURNAL_INLINE_MAX (or refused with EMSGSIZE or
 * ENOBUFS) go through a sealed memfd passed with SCM_RIGHTS, as sd_journal_send does.
 *
 * Never blocking the container: fds 3/4 are always read. When journald cannot take an entry
 * (EAGAIN) it is queued in memory, up to buffer= bytes (default 4 MiB), and sent when the socket is
 * writable again; an entry that does not fit in the queue, or that journald refuses (it went away:
 * ECONNREFUSED, ENOENT...), is dropped and counted; so is what is still queued flush-timeout=
 * ms (default 5000) after EOF or SIGTERM. Drops are reported in a last journal entry
 * (PRIORITY 4) at exit and, with stats-file=PATH, in that file (written at exit).
 *
 * Long lines: a line longer than max-line= bytes (default 256 KiB; docker uses 16 KiB, larger here
 * so that long JSON lines usually stay one entry) is split into max-line chunks; every chunk but
 * the last carries CONTAINER_PARTIAL_MESSAGE=true (journal), "P" (CRI) or a log without "\n"
 * (json). A last line without a newline is flushed as a complete line at EOF or SIGTERM.
 *
 * File mode writes CRI or docker json-file lines with size-based rotation; a record is never split
 * across files (rotation happens before a record that would overflow max-size). File writes are
 * ordinary blocking writes: a full disk stalls the logger, not the container until the pipe fills.
 *
 * The contract itself (fds 3-5, the environment, the option pairs, reading both streams into
 * lines, SIGTERM) is the logging crate's (ctrbox/logging.h); this file is its journald and file
 * backend. One process, one thread: the crate's ctrbox_loop carries the streams, and here the
 * journal socket while entries are queued, with a reconnect timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "ctrbox/logging.h"
#include "ctrbox/loop.h"
#include "journal_proto.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_INLINE_MAX (64 * 1024)
#define DEFAULT_MAX_LINE (256 * 1024)
#define DEFAULT_BUFFER (4 * 1024 * 1024)
#define MAX_FIELDS 16
#define RECONNECT_MS 1000
#define DEFAULT_FLUSH_MS 5000 /* the shim SIGKILLs 12 s after its SIGTERM */

enum { S_OUT = CTRBOX_LOGGING_STDOUT, S_ERR = CTRBOX_LOGGING_STDERR, NSTREAMS };

struct qent { /* one serialized journal entry waiting for the socket */
	struct qent *next;
	size_t len;
	char data[];
};

struct stats {
	unsigned long long lines, bytes, partial, memfd, queued, dropped_lines, dropped_bytes;
};

struct journal {
	/* options */
	const char *mode, *tag, *sock_path, *stats_file, *path, *format;
	const char *fields[MAX_FIELDS];
	int nfields;
	uint64_t max_line, buffer, max_size, max_files, flush_ms;
	/* environment */
	const char *id, *ns;
	struct jbuf prefix[NSTREAMS]; /* the fields every entry of a stream shares */
	/* journal mode */
	int sock;
	struct ctrbox_loop *loop;   /* the run's, while it runs */
	struct ctrbox_timer *retry; /* while queued: a refused socket never turns writable */
	int watching;		    /* sock is on the loop for EPOLLOUT */
	char sock_name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct qent *qhead, **qtail;
	size_t qbytes;
	long long last_connect_ms;
	/* file mode */
	int out;
	uint64_t out_size;
	struct jbuf rec;
	struct stats st;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ctrbox-journal [KEY VALUE | --KEY VALUE | KEY=VALUE]...\n\n"
	    "containerd logging binary: ctr run --log-uri 'binary:///path/ctrbox-journal?tag=web'\n"
	    "reads the container's stdout on fd 3 and stderr on fd 4, closes fd 5 when ready.\n\n"
	    "journal mode (default), journald native protocol:\n"
	    "  socket PATH       journal socket (default " JOURNAL_SOCKET ")\n"
	    "  namespace NS      use /run/systemd/journal.NS/socket\n"
	    "  tag NAME          SYSLOG_IDENTIFIER and CONTAINER_TAG (default: the container id)\n"
	    "  field KEY=VALUE   extra field on every entry; also field1, field2, ... (a URI "
	    "query\n"
	    "                    passes only the first value of a key)\n"
	    "  buffer BYTES      memory queue while journald is slow (default 4m); beyond it, new\n"
	    "                    lines are dropped and counted\n"
	    "  flush-timeout MS  at EOF or SIGTERM, how long queued entries may wait for journald\n"
	    "                    (default 5000); what is left is dropped and counted\n"
	    "  fields: MESSAGE, PRIORITY (6 stdout, 3 stderr), SYSLOG_IDENTIFIER, CONTAINER_ID "
	    "(12\n"
	    "  chars), CONTAINER_ID_FULL, CONTAINER_NAMESPACE, CONTAINER_TAG, "
	    "CONTAINER_PARTIAL_MESSAGE\n"
	    "  entries above 64 KiB go through a sealed memfd\n\n"
	    "file mode (mode file):\n"
	    "  path PATH         log file (required)\n"
	    "  format cri|json   CRI log lines (default) or docker json-file lines\n"
	    "  max-size BYTES    rotate before a line would make the file larger (0: never)\n"
	    "  max-files N       files kept, PATH and PATH.1..PATH.N-1 (default 1)\n\n"
	    "both modes:\n"
	    "  max-line BYTES    longer lines are split, all chunks but the last marked partial\n"
	    "                    (default 256k)\n"
	    "  stats-file PATH   written at exit: lines, bytes (of messages), partial, memfd,\n"
	    "                    queued, dropped_lines, dropped_bytes (of journal entries); drops\n"
	    "                    are also reported in a last journal entry (PRIORITY 4)\n\n"
	    "Exits on EOF of both streams, or on SIGTERM after draining what is readable.\n");
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- options ---- */

static int set_size(const char *key, const char *v, uint64_t *out)
{
	if (journal_parse_size(v, out) == 0)
		return 0;
	fprintf(stderr, "ctrbox-journal: %s: bad size '%s'\n", key, v);
	return -1;
}

static int set_option(struct journal *j, const char *key, const char *v)
{
	if (!strcmp(key, "mode"))
		j->mode = v;
	else if (!strcmp(key, "tag"))
		j->tag = v;
	else if (!strcmp(key, "socket"))
		j->sock_path = v;
	else if (!strcmp(key, "namespace")) {
		if (snprintf(j->sock_name, sizeof(j->sock_name), "/run/systemd/journal.%s/socket",
			     v) >= (int)sizeof(j->sock_name))
			return fprintf(stderr, "ctrbox-journal: namespace too long\n"), -1;
		j->sock_path = j->sock_name;
	} else if (!strncmp(key, "field", 5) && strspn(key + 5, "0123456789") == strlen(key + 5)) {
		const char *eq = strchr(v, '=');
		if (!eq || !journal_field_valid(v, (size_t)(eq - v)) || j->nfields == MAX_FIELDS)
			return fprintf(
				   stderr,
				   "ctrbox-journal: field '%s': want KEY=VALUE, KEY of A-Z 0-9 _ "
				   "(at most %d fields)\n",
				   v, MAX_FIELDS),
			       -1;
		j->fields[j->nfields++] = v;
	} else if (!strcmp(key, "stats-file"))
		j->stats_file = v;
	else if (!strcmp(key, "path"))
		j->path = v;
	else if (!strcmp(key, "format"))
		j->format = v;
	else if (!strcmp(key, "max-line"))
		return set_size(key, v, &j->max_line);
	else if (!strcmp(key, "buffer"))
		return set_size(key, v, &j->buffer);
	else if (!strcmp(key, "flush-timeout"))
		return set_size(key, v, &j->flush_ms);
	else if (!strcmp(key, "max-size"))
		return set_size(key, v, &j->max_size);
	else if (!strcmp(key, "max-files"))
		return set_size(key, v, &j->max_files);
	else
		return fprintf(stderr, "ctrbox-journal: unknown option '%s' (--help lists them)\n",
			       key),
		       -1;
	return 0;
}

/* The options the crate parsed ("key value" pairs, "--key value" or "key=value"), in order. */
static int parse_args(struct journal *j, const struct ctrbox_logging_config *c)
{
	for (size_t i = 0; i < c->nargs; i++)
		if (set_option(j, c->args[i].key, c->args[i].value) < 0)
			return -1;
	if (j->max_line == 0 || j->max_line > 64 * 1024 * 1024)
		return fprintf(stderr, "ctrbox-journal: max-line must be 1..64m\n"), -1;
	if (strcmp(j->mode, "journal") && strcmp(j->mode, "file"))
		return fprintf(stderr, "ctrbox-journal: mode must be journal or file\n"), -1;
	if (!strcmp(j->mode, "file") && !j->path)
		return fprintf(stderr, "ctrbox-journal: mode file needs path\n"), -1;
	if (strcmp(j->format, "cri") && strcmp(j->format, "json"))
		return fprintf(stderr, "ctrbox-journal: format must be cri or json\n"), -1;
	if (j->flush_ms > 600000)
		return fprintf(stderr, "ctrbox-journal: flush-timeout is at most 600000 ms\n"), -1;
	if (j->max_files == 0)
		j->max_files = 1;
	return 0;
}

/* ---- journal mode ---- */

static int build_prefixes(struct journal *j)
{
	char shortid[13];
	int r = 0;

	snprintf(shortid, sizeof(shortid), "%s", j->id);
	for (int s = 0; s < NSTREAMS && r == 0; s++) {
		struct jbuf *b = &j->prefix[s];
		r = journal_append_str(b, "PRIORITY", s == S_OUT ? "6" : "3");
		r = r ?: journal_append_str(b, "SYSLOG_IDENTIFIER", j->tag ? j->tag : j->id);
		r = r ?: journal_append_str(b, "CONTAINER_ID", shortid);
		r = r ?: journal_append_str(b, "CONTAINER_ID_FULL", j->id);
		r = r ?: journal_append_str(b, "CONTAINER_NAMESPACE", j->ns);
		if (j->tag)
			r = r ?: journal_append_str(b, "CONTAINER_TAG", j->tag);
		for (int i = 0; i < j->nfields && r == 0; i++) {
			const char *eq = strchr(j->fields[i], '=');
			char key[65];

			snprintf(key, sizeof(key), "%.*s", (int)(eq - j->fields[i]), j->fields[i]);
			r = journal_append_str(b, key, eq + 1);
		}
	}
	return r;
}

static int journal_connect(struct journal *j)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int sz = 8 * 1024 * 1024;

	if (strlen(j->sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, j->sock_path);
	if (j->sock < 0) {
		j->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (j->sock < 0)
			return -errno;
		/* journald's advice: a large send buffer; FORCE works for root only */
		if (setsockopt(j->sock, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(j->sock, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	j->last_connect_ms = now_ms();
	return connect(j->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

/* Sends data via a sealed memfd: journald maps it instead of copying a huge datagram. */
static int send_memfd(struct journal *j, const char *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	int fd, r = 0;

	fd = memfd_create("ctrbox-journal", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		r = -errno;
	if (r == 0) {
		memset(u.buf, 0, sizeof(u.buf));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(j->sock, &mh, MSG_NOSIGNAL) < 0)
			r = -errno;
		else
			j->st.memfd++;
	}
	close(fd);
	return r;
}

/* One attempt: 0 sent, -EAGAIN (queue it), other -errno (drop it). Reconnects at most once a
 * second when journald went away and came back. */
static int send_entry(struct journal *j, const char *data, size_t len)
{
	for (int attempt = 0;; attempt++) {
		int r = 0;

		if (len <= JOURNAL_INLINE_MAX && send(j->sock, data, len, MSG_NOSIGNAL) < 0)
			r = -errno;
		if (len > JOURNAL_INLINE_MAX || r == -EMSGSIZE || r == -ENOBUFS)
			r = send_memfd(j, data, len);
		if (r == -EWOULDBLOCK)
			r = -EAGAIN;
		if (r == 0 || r == -EAGAIN || attempt > 0)
			return r;
		if (r != -ECONNREFUSED && r != -ENOTCONN && r != -ENOENT)
			return r;
		if (now_ms() - j->last_connect_ms < RECONNECT_MS || journal_connect(j) < 0)
			return r;
	}
}

static void drop(struct journal *j, size_t len)
{
	j->st.dropped_lines++;
	j->st.dropped_bytes += len;
}

static void enqueue(struct journal *j, const char *data, size_t len)
{
	struct qent *e;

	if (j->qbytes + len > j->buffer || !(e = malloc(sizeof(*e) + len))) {
		drop(j, len);
		return;
	}
	e->next = NULL;
	e->len = len;
	memcpy(e->data, data, len);
	*j->qtail = e;
	j->qtail = &e->next;
	j->qbytes += len;
	j->st.queued++;
}

/* Sends queued entries in order until the socket would block. */
static void watch_queue(struct journal *j);

static void flush_queue(struct journal *j)
{
	struct qent *e;

	while ((e = j->qhead)) {
		int r = send_entry(j, e->data, e->len);
		if (r == -EAGAIN)
			return;
		if (r < 0)
			drop(j, e->len);
		j->qhead = e->next;
		if (!j->qhead)
			j->qtail = &j->qhead;
		j->qbytes -= e->len;
		free(e);
	}
}

static void on_retry(struct ctrbox_loop *l, void *data);

static void on_writable(struct ctrbox_loop *l, int fd, uint32_t events, void *data)
{
	flush_queue(data);
	watch_queue(data);
}

/* While entries are queued (and the run is on), the loop flushes the queue when the socket turns
 * writable and at least every RECONNECT_MS; with an empty queue it stops watching. */
static void watch_queue(struct journal *j)
{
	int want = j->qhead && j->loop;

	if (want && !j->watching)
		j->watching = ctrbox_loop_add(j->loop, j->sock, EPOLLOUT, on_writable, j) == 0;
	else if (!want && j->watching) {
		ctrbox_loop_del(j->loop, j->sock);
		j->watching = 0;
	}
	if (want && !j->retry)
		j->retry = ctrbox_loop_timer_in(j->loop, RECONNECT_MS, on_retry, j);
	else if (!want && j->retry) {
		ctrbox_loop_timer_cancel(j->loop, j->retry);
		j->retry = NULL;
	}
}

static void on_retry(struct ctrbox_loop *l, void *data)
{
	struct journal *j = data;

	j->retry = NULL; /* fired: the loop frees it */
	flush_queue(j);
	watch_queue(j);
}

static void submit(struct journal *j, const char *data, size_t len)
{
	int r;

	if (j->qhead)
		flush_queue(j);
	if (j->qhead) {
		enqueue(j, data, len);
	} else {
		r = send_entry(j, data, len);
		if (r == -EAGAIN)
			enqueue(j, data, len);
		else if (r < 0)
			drop(j, len);
	}
	watch_queue(j);
}

static int journal_line_cb(void *ctx, int stream, const char *line, size_t n, int partial)
{
	struct journal *j = ctx;
	struct jbuf *b = &j->rec;
	int r;

	b->len = 0;
	r = jbuf_put(b, j->prefix[stream].p, j->prefix[stream].len);
	if (partial)
		r = r ?: journal_append_str(b, "CONTAINER_PARTIAL_MESSAGE", "true");
	r = r ?: journal_append(b, "MESSAGE", line, n);
	if (r < 0) {
		drop(j, n);
		return 0;
	}
	j->st.lines++;
	j->st.bytes += n;
	j->st.partial += partial ? 1 : 0;
	submit(j, b->p, b->len);
	return 0;
}

/* The drop report: one last entry, best effort. */
static void journal_report(struct journal *j)
{
	char msg[256];
	struct jbuf *b = &j->rec;

	if (!j->st.dropped_lines || j->sock < 0)
		return;
	snprintf(msg, sizeof(msg),
		 "ctrbox-journal: dropped %llu of %llu log lines (%llu bytes): journald was slow "
		 "or absent",
		 j->st.dropped_lines, j->st.lines, j->st.dropped_bytes);
	b->len = 0;
	if (jbuf_put(b, j->prefix[S_ERR].p, j->prefix[S_ERR].len) == 0 &&
	    journal_append_str(b, "PRIORITY", "4") == 0 &&
	    journal_append_str(b, "MESSAGE", msg) == 0 && send_entry(j, b->p, b->len) == -EAGAIN) {
		struct pollfd p = {.fd = j->sock, .events = POLLOUT};
		if (poll(&p, 1, (int)j->flush_ms) > 0)
			send_entry(j, b->p, b->len);
	}
}

/* ---- file mode ---- */

static int file_open(struct journal *j)
{
	struct stat st;

	j->out = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (j->out < 0)
		return -errno;
	j->out_size = fstat(j->out, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static void fsync_dir(const char *path)
{
	char *d = strdup(path), *s;
	int fd;

	if (!d)
		return;
	s = strrchr(d, '/');
	if (s)
		*(s == d ? s + 1 : s) = '\0';
	fd = open(s ? d : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(d);
}

/* PATH.(n-2) -> PATH.(n-1), ..., PATH -> PATH.1; with max-files 1 PATH is simply started over. */
static int file_rotate(struct journal *j)
{
	size_t pl = strlen(j->path);
	char *a = malloc(pl + 24), *b = malloc(pl + 24);
	int r = 0;

	if (!a || !b) {
		r = -ENOMEM;
		goto out;
	}
	fsync(j->out);
	close(j->out);
	j->out = -1;
	if (j->max_files <= 1) {
		unlink(j->path);
	} else {
		for (uint64_t i = j->max_files - 1; i >= 1; i--) {
			snprintf(b, pl + 24, "%s.%llu", j->path, (unsigned long long)i);
			if (i == 1)
				snprintf(a, pl + 24, "%s", j->path);
			else
				snprintf(a, pl + 24, "%s.%llu", j->path, (unsigned long long)i - 1);
			if (rename(a, b) < 0 && errno != ENOENT)
				r = -errno;
		}
	}
	fsync_dir(j->path);
	if (file_open(j) < 0 && r == 0)
		r = -errno;
out:
	free(a);
	free(b);
	return r;
}

static int file_line_cb(void *ctx, int stream, const char *line, size_t n, int partial)
{
	struct journal *j = ctx;
	struct jbuf *b = &j->rec;
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	b->len = 0;
	if (!strcmp(j->format, "json"))
		r = journal_json_line(b, &ts, ctrbox_logging_stream_name(stream), line, n, partial);
	else
		r = journal_cri_line(b, &ts, ctrbox_logging_stream_name(stream), line, n, partial);
	if (r == 0 && j->max_size && j->out_size > 0 && j->out_size + b->len > j->max_size)
		file_rotate(j);
	if (j->out < 0) /* a rotation could not reopen the file: try again for each line */
		file_open(j);
	if (r < 0 || j->out < 0) {
		drop(j, n);
		return 0;
	}
	for (size_t off = 0; off < b->len;) {
		ssize_t w = write(j->out, b->p + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			drop(j, n);
			return 0;
		}
		off += (size_t)w;
	}
	j->out_size += b->len;
	j->st.lines++;
	j->st.bytes += n;
	j->st.partial += partial ? 1 : 0;
	return 0;
}

/* ---- the run (ctrbox/logging.h) ---- */

static int run_start(struct ctrbox_loop *l, void *data)
{
	struct journal *j = data;

	j->loop = l;
	return 0;
}

/* EOF of both or SIGTERM: the crate read what the pipes held and flushed the partial lines; the
 * queue gets a bounded time, then what journald did not take is dropped too. */
static void run_finish(void *data, int signalled)
{
	struct journal *j = data;

	j->loop = NULL;
	j->watching = 0;
	j->retry = NULL; /* the loop, freed after the run, owns the watcher and the timer */
	for (long long end = now_ms() + (long long)j->flush_ms; j->qhead && now_ms() < end;) {
		struct pollfd p = {.fd = j->sock, .events = POLLOUT};
		poll(&p, 1, (int)(end - now_ms()));
		flush_queue(j);
	}
	while (j->qhead) {
		struct qent *e = j->qhead;
		j->qhead = e->next;
		drop(j, e->len);
		free(e);
	}
	j->qtail = &j->qhead;
}

static void write_stats(struct journal *j)
{
	char buf[512];
	int n;
	FILE *f;

	if (!j->stats_file)
		return;
	n = snprintf(buf, sizeof(buf),
		     "lines=%llu\nbytes=%llu\npartial=%llu\nmemfd=%llu\nqueued=%llu\n"
		     "dropped_lines=%llu\ndropped_bytes=%llu\n",
		     j->st.lines, j->st.bytes, j->st.partial, j->st.memfd, j->st.queued,
		     j->st.dropped_lines, j->st.dropped_bytes);
	f = fopen(j->stats_file, "we");
	if (!f)
		return;
	fwrite(buf, 1, (size_t)n, f);
	fclose(f);
}

/* Opens the destination; only then is the shim told we are ready. */
static int open_destination(struct journal *j)
{
	int r;

	if (!strcmp(j->mode, "file")) {
		r = file_open(j);
		if (r < 0)
			fprintf(stderr, "ctrbox-journal: %s: %s\n", j->path, strerror(-r));
		return r;
	}
	r = build_prefixes(j);
	if (r < 0) {
		fprintf(stderr, "ctrbox-journal: %s\n", strerror(-r));
		return r;
	}
	r = journal_connect(j);
	if (r < 0)
		fprintf(stderr,
			"ctrbox-journal: journal socket %s: %s (is systemd-journald running?)\n",
			j->sock_path, strerror(-r));
	return r;
}

static void journal_free(struct journal *j)
{
	while (j->qhead) {
		struct qent *e = j->qhead;
		j->qhead = e->next;
		free(e);
	}
	for (int s = 0; s < NSTREAMS; s++)
		jbuf_free(&j->prefix[s]);
	jbuf_free(&j->rec);
	if (j->sock >= 0)
		close(j->sock);
	if (j->out >= 0) {
		fsync(j->out);
		close(j->out);
	}
}

int journal_main(int argc, char **argv)
{
	struct journal j = {.mode = "journal",
			    .sock_path = JOURNAL_SOCKET,
			    .format = "cri",
			    .max_line = DEFAULT_MAX_LINE,
			    .buffer = DEFAULT_BUFFER,
			    .flush_ms = DEFAULT_FLUSH_MS,
			    .max_files = 1,
			    .sock = -1,
			    .out = -1};
	struct ctrbox_logging_ops ops = {.start = run_start, .finish = run_finish};
	struct ctrbox_logging_config c;
	char err[256];
	int r;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (applet_std_flags(argc, argv))
		return 0;
	j.qtail = &j.qhead;
	r = ctrbox_logging_config_parse(&c, argc, argv, err, sizeof(err));
	if (r < 0)
		return fprintf(stderr, "ctrbox-journal: %s\n", err), r == -ENOMEM ? 1 : 2;
	j.id = c.id;
	j.ns = c.ns;
	if (parse_args(&j, &c) < 0) {
		ctrbox_logging_config_free(&c);
		return 2;
	}
	ctrbox_logging_config_free(&c); /* the option strings stay: they are argv's */
	/* Run by hand, some of fds 3-5 may be missing: /dev/null stands in (an empty stream, a
	 * readiness nobody waits for). */
	if (ctrbox_logging_setup(&c) < 0)
		return fprintf(stderr, "ctrbox-journal: cannot fill fds 3-5\n"), 1;
	r = open_destination(&j);
	if (r < 0) {
		journal_free(&j);
		/* Exiting closes fd 5 as well: the shim cannot tell this from readiness (spec
		 * A.3), but nothing was signalled while the destination was unusable. */
		return 1;
	}
	ctrbox_logging_ready(&c);
	ops.line = strcmp(j.mode, "file") ? journal_line_cb : file_line_cb;
	r = ctrbox_logging_run(&c, (size_t)j.max_line, &ops, &j);
	journal_report(&j);
	write_stats(&j);
	journal_free(&j);
	return r < 0 ? 1 : 0;
}
