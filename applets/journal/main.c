/* ctrbox-journal: a containerd logging binary (binary:// log URI) writing to journald or a file.
 *
 * Contract (spec/logging.md Part A): the container's stdout arrives on fd 3, stderr on fd 4; fd 5
 * is the readiness pipe, closed once the destination is known to be writable; CONTAINER_ID and
 * CONTAINER_NAMESPACE come from the environment; options come as "key value" argument pairs in
 * any order (keys with or without leading dashes, or "key=value" in one argument).
 *
 * Journal mode writes the journald native protocol itself: one datagram per entry on a connected
 * AF_UNIX socket, gathered with sendmsg() from the stream's prebuilt fields and the line where it
 * lies (no copy while journald keeps up); entries above JOURNAL_INLINE_MAX (or refused with
 * EMSGSIZE or ENOBUFS) go through a sealed memfd passed with SCM_RIGHTS, as sd_journal_send does.
 *
 * Never blocking the container: fds 3/4 are always read. An entry is sent at once (MSG_DONTWAIT)
 * while nothing is queued; when journald cannot take it (EAGAIN) it is queued in memory, up to
 * buffer= bytes (default 4 MiB), and a sender thread hands the queue to journald with blocking
 * sends, one syscall an entry, woken by the kernel exactly when journald has taken a datagram,
 * while the main thread goes on reading the streams. An entry that does not fit in the queue, or
 * that journald refuses (it went away: ECONNREFUSED, ENOENT...), is dropped and counted; so is
 * what is still queued flush-timeout= ms (default 5000) after EOF or SIGTERM. Drops are reported
 * in a last journal entry (PRIORITY 4) at exit and, with stats-file=PATH, in that file (written
 * at exit).
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
 * backend. The crate's ctrbox_loop carries the streams on the main thread; in journal mode a
 * second thread sends what is queued (above), so no loop turn waits for journald.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "ctrbox/logging.h"
#include "journal_proto.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_INLINE_MAX (64 * 1024)
#define DEFAULT_MAX_LINE (256 * 1024)
#define DEFAULT_BUFFER (4 * 1024 * 1024)
#define MAX_FIELDS 16
#define RECONNECT_MS 1000
#define SEND_BATCH 32	      /* entries a sendmmsg() of the sender */
#define SENDER_KICK_MS 10     /* at the flush timeout, how often the sender is interrupted */
#define DEFAULT_FLUSH_MS 5000 /* the shim SIGKILLs 12 s after its SIGTERM */

enum { S_OUT = CTRBOX_LOGGING_STDOUT, S_ERR = CTRBOX_LOGGING_STDERR, NSTREAMS };

struct qent { /* one line waiting for the socket; its fields are gathered when it is sent */
	struct qent *next;
	size_t len; /* of the journal entry, what buffer= counts */
	size_t n;   /* of the line */
	unsigned char stream, partial;
	char line[];
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
	char sock_name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	long long last_connect_ms;
	/* the queue and the sender thread; mu guards q*, the flags, and sst */
	pthread_mutex_t mu;
	pthread_cond_t more;	/* the sender waits for entries */
	pthread_cond_t drained; /* run_finish waits for an empty queue */
	pthread_t sender;
	int started, waiting, active, stop, abort;
	struct qent *qhead, **qtail;
	size_t qbytes;
	struct stats sst; /* the sender's: memfd, dropped_*; summed into st at the end */
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
		/* blocking for the sender thread (a signal interrupts it at the flush timeout); the
		 * main thread sends with MSG_DONTWAIT */
		j->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (j->sock < 0)
			return -errno;
		/* journald's advice: a large send buffer; FORCE works for root only */
		if (setsockopt(j->sock, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(j->sock, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	j->last_connect_ms = now_ms();
	return connect(j->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

/* Sends the entry via a sealed memfd: journald maps it instead of copying a huge datagram. */
static int send_memfd(struct journal *j, const struct iovec *iov, int niov, int flags,
		      struct stats *st)
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
	for (int i = 0; i < niov && r == 0; i++) {
		const char *data = iov[i].iov_base;

		for (size_t off = 0; off < iov[i].iov_len && r == 0;) {
			ssize_t n = write(fd, data + off, iov[i].iov_len - off);
			if (n < 0 && errno != EINTR)
				r = -errno;
			else if (n > 0)
				off += (size_t)n;
		}
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
		if (sendmsg(j->sock, &mh, MSG_NOSIGNAL | flags) < 0)
			r = -errno;
		else
			st->memfd++;
	}
	close(fd);
	return r;
}

/* One attempt at the entry iov[0..niov) of len bytes: 0 sent, -EAGAIN (journald is not taking
 * it: queue it or try again; also EINTR), other -errno (drop it). flags: MSG_DONTWAIT for the
 * main thread, 0 for the sender (a send then waits until journald takes the datagram, or a
 * signal). Reconnects at most once a second when journald went away and came back. */
static int send_entry(struct journal *j, const struct iovec *iov, int niov, size_t len, int flags,
		      struct stats *st)
{
	struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)niov};

	for (int attempt = 0;; attempt++) {
		int r = 0;

		if (len <= JOURNAL_INLINE_MAX && sendmsg(j->sock, &mh, MSG_NOSIGNAL | flags) < 0)
			r = -errno;
		if (len > JOURNAL_INLINE_MAX || r == -EMSGSIZE || r == -ENOBUFS)
			r = send_memfd(j, iov, niov, flags, st);
		if (r == -EWOULDBLOCK)
			r = -EAGAIN;
		if (r == 0 || r == -EAGAIN || r == -EINTR || attempt > 0)
			return r == -EINTR ? -EAGAIN : r;
		if (r != -ECONNREFUSED && r != -ENOTCONN && r != -ENOENT)
			return r;
		if (now_ms() - j->last_connect_ms < RECONNECT_MS || journal_connect(j) < 0)
			return r;
	}
}

static const char partial_field[] = "CONTAINER_PARTIAL_MESSAGE=true\n";

/* The value's field head: "MESSAGE=" or the binary-safe "MESSAGE\n" + 64-bit LE length. */
static size_t message_head(char out[16], const char *line, size_t n)
{
	if (journal_needs_binary(line, n)) {
		memcpy(out, "MESSAGE\n", 8);
		for (int i = 0; i < 8; i++)
			out[8 + i] = (char)(unsigned char)((uint64_t)n >> (8 * i));
		return 16;
	}
	memcpy(out, "MESSAGE=", 8);
	return 8;
}

/* The entry of one line as iovecs (at most 5): the stream's prefix, the partial mark, MESSAGE
 * (head points to 16 bytes for its field head). Returns the count; *len the entry's size. */
static int entry_iov(const struct journal *j, struct iovec iov[5], char *head, int stream,
		     const char *line, size_t n, int partial, size_t *len)
{
	int niov = 0;

	iov[niov++] = (struct iovec){j->prefix[stream].p, j->prefix[stream].len};
	if (partial)
		iov[niov++] = (struct iovec){(void *)partial_field, sizeof(partial_field) - 1};
	iov[niov++] = (struct iovec){head, message_head(head, line, n)};
	iov[niov++] = (struct iovec){(void *)line, n};
	iov[niov++] = (struct iovec){"\n", 1};
	*len = 0;
	for (int i = 0; i < niov; i++)
		*len += iov[i].iov_len;
	return niov;
}

static void drop(struct stats *st, size_t len)
{
	st->dropped_lines++;
	st->dropped_bytes += len;
}

/* The sender thread: sends the queue in order with blocking sends, up to SEND_BATCH entries a
 * sendmmsg(), until run_finish says stop (then it empties the queue first) or abort (the flush
 * timeout passed). */
static void *sender_main(void *arg)
{
	struct journal *j = arg;
	struct qent *batch[SEND_BATCH];
	struct mmsghdr mm[SEND_BATCH];
	struct iovec iov[SEND_BATCH][5];
	char head[SEND_BATCH][16];

	pthread_mutex_lock(&j->mu);
	for (;;) {
		struct qent *e = j->qhead;
		int n = 0, sent, r = 0;
		size_t len;

		if (j->abort || (!e && j->stop))
			break;
		if (!e) {
			j->waiting = 1;
			pthread_cond_wait(&j->more, &j->mu);
			j->waiting = 0;
			continue;
		}
		/* entries never change once queued, and only this thread unlinks them */
		for (; e && n < SEND_BATCH && e->len <= JOURNAL_INLINE_MAX; e = e->next)
			batch[n++] = e;
		if (n == 0)
			batch[n++] = j->qhead; /* a large one: the memfd, alone */
		j->active = 1;
		pthread_mutex_unlock(&j->mu);
		for (int i = 0; i < n; i++) {
			e = batch[i];
			mm[i] = (struct mmsghdr){0};
			mm[i].msg_hdr.msg_iov = iov[i];
			mm[i].msg_hdr.msg_iovlen = (size_t)entry_iov(
			    j, iov[i], head[i], e->stream, e->line, e->n, e->partial, &len);
		}
		sent = batch[0]->len <= JOURNAL_INLINE_MAX
			   ? sendmmsg(j->sock, mm, (unsigned)n, MSG_NOSIGNAL)
			   : -1;
		if (sent <= 0) { /* the first one failed: its error, memfd, reconnect as for one */
			r = send_entry(j, iov[0], (int)mm[0].msg_hdr.msg_iovlen, batch[0]->len, 0,
				       &j->sst);
			sent = r == -EAGAIN ? 0 : 1;
		}
		pthread_mutex_lock(&j->mu);
		j->active = 0;
		for (int i = 0; i < sent; i++) {
			e = j->qhead;
			if (i == 0 && r < 0)
				drop(&j->sst, e->len);
			j->qhead = e->next;
			j->qbytes -= e->len;
			free(e);
		}
		if (!j->qhead) {
			j->qtail = &j->qhead;
			pthread_cond_broadcast(&j->drained);
		}
		/* sent == 0: interrupted (abort?), or the same entry again */
	}
	j->active = 0;
	pthread_cond_broadcast(&j->drained);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void on_kick(int sig)
{
}

static int sender_start(struct journal *j)
{
	struct sigaction sa = {.sa_handler = on_kick}; /* no SA_RESTART: sendmsg returns EINTR */
	pthread_attr_t a;
	int r;

	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return -errno;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	r = pthread_create(&j->sender, &a, sender_main, j);
	pthread_attr_destroy(&a);
	if (r)
		return -r;
	j->started = 1;
	return 0;
}

/* Called with mu held: appends a copy of the line; the entry is len bytes. */
static void enqueue(struct journal *j, int stream, const char *line, size_t n, int partial,
		    size_t len)
{
	struct qent *e;

	if (j->qbytes + len > j->buffer || !(e = malloc(sizeof(*e) + n))) {
		drop(&j->st, len);
		return;
	}
	e->next = NULL;
	e->len = len;
	e->n = n;
	e->stream = (unsigned char)stream;
	e->partial = (unsigned char)partial;
	memcpy(e->line, line, n);
	*j->qtail = e;
	j->qtail = &e->next;
	j->qbytes += len;
	j->st.queued++;
	if (j->waiting)
		pthread_cond_signal(&j->more);
}

static int journal_line_cb(void *ctx, int stream, const char *line, size_t n, int partial)
{
	struct journal *j = ctx;
	struct iovec iov[5];
	char head[16];
	size_t len;
	int niov, r;

	j->st.lines++;
	j->st.bytes += n;
	j->st.partial += partial ? 1 : 0;
	pthread_mutex_lock(&j->mu);
	if (!j->qhead && !j->active) {
		/* sent at once; the sender is idle (nothing queued), so the socket is ours */
		pthread_mutex_unlock(&j->mu);
		niov = entry_iov(j, iov, head, stream, line, n, partial, &len);
		r = send_entry(j, iov, niov, len, MSG_DONTWAIT, &j->st);
		if (r != -EAGAIN) {
			if (r < 0)
				drop(&j->st, len);
			return 0;
		}
		pthread_mutex_lock(&j->mu);
	} else {
		len = j->prefix[stream].len + (partial ? sizeof(partial_field) - 1 : 0) +
		      (journal_needs_binary(line, n) ? 16 : 8) + n + 1;
	}
	enqueue(j, stream, line, n, partial, len); /* behind what is queued, in order */
	pthread_mutex_unlock(&j->mu);
	return 0;
}

/* The drop report: one last entry, best effort (the sender has stopped). */
static void journal_report(struct journal *j)
{
	char msg[256];
	struct jbuf *b = &j->rec;
	struct iovec iov;

	if (!j->st.dropped_lines || j->sock < 0)
		return;
	snprintf(msg, sizeof(msg),
		 "ctrbox-journal: dropped %llu of %llu log lines (%llu bytes): journald was slow "
		 "or absent",
		 j->st.dropped_lines, j->st.lines, j->st.dropped_bytes);
	b->len = 0;
	if (jbuf_put(b, j->prefix[S_ERR].p, j->prefix[S_ERR].len) == 0 &&
	    journal_append_str(b, "PRIORITY", "4") == 0 &&
	    journal_append_str(b, "MESSAGE", msg) == 0) {
		iov = (struct iovec){b->p, b->len};
		if (send_entry(j, &iov, 1, b->len, MSG_DONTWAIT, &j->st) == -EAGAIN) {
			struct pollfd p = {.fd = j->sock, .events = POLLOUT};
			if (poll(&p, 1, (int)j->flush_ms) > 0)
				send_entry(j, &iov, 1, b->len, MSG_DONTWAIT, &j->st);
		}
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
		drop(&j->st, n);
		return 0;
	}
	for (size_t off = 0; off < b->len;) {
		ssize_t w = write(j->out, b->p + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			drop(&j->st, n);
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

/* EOF of both or SIGTERM: the crate read what the pipes held and flushed the partial lines; the
 * queue gets a bounded time, then what journald did not take is dropped too. */
static void run_finish(void *data, int signalled)
{
	struct journal *j = data;
	struct timespec end;

	if (!j->started)
		return;
	clock_gettime(CLOCK_MONOTONIC, &end); /* a wall-clock jump moves no deadline */
	end.tv_sec += (time_t)(j->flush_ms / 1000);
	end.tv_nsec += (long)(j->flush_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000)
		end.tv_sec++, end.tv_nsec -= 1000000000;
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	if (j->waiting)
		pthread_cond_signal(&j->more);
	while ((j->qhead || j->active) &&
	       pthread_cond_clockwait(&j->drained, &j->mu, CLOCK_MONOTONIC, &end) == 0)
		;
	j->abort = 1;
	if (j->waiting)
		pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->mu);
	/* a send blocked on a journald that takes nothing ends with EINTR; a signal sent just
	 * before the sender entered sendmsg is missed, hence again until it is gone */
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_nsec += SENDER_KICK_MS * 1000000L;
		if (end.tv_nsec >= 1000000000)
			end.tv_sec++, end.tv_nsec -= 1000000000;
		if (pthread_clockjoin_np(j->sender, NULL, CLOCK_MONOTONIC, &end) != ETIMEDOUT)
			break;
		pthread_kill(j->sender, SIGUSR1);
	}
	j->started = 0;
	while (j->qhead) {
		struct qent *e = j->qhead;
		j->qhead = e->next;
		drop(&j->st, e->len);
		free(e);
	}
	j->qtail = &j->qhead;
	j->qbytes = 0;
	j->st.memfd += j->sst.memfd;
	j->st.dropped_lines += j->sst.dropped_lines;
	j->st.dropped_bytes += j->sst.dropped_bytes;
	j->sst = (struct stats){0};
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
	if (r < 0) {
		fprintf(stderr,
			"ctrbox-journal: journal socket %s: %s (is systemd-journald running?)\n",
			j->sock_path, strerror(-r));
		return r;
	}
	r = sender_start(j);
	if (r < 0)
		fprintf(stderr, "ctrbox-journal: sender thread: %s\n", strerror(-r));
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
			    .out = -1,
			    .mu = PTHREAD_MUTEX_INITIALIZER,
			    .more = PTHREAD_COND_INITIALIZER,
			    .drained = PTHREAD_COND_INITIALIZER};
	struct ctrbox_logging_ops ops = {.finish = run_finish};
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
	run_finish(&j, 0); /* if the run failed before its finish: the sender is stopped */
	journal_report(&j);
	write_stats(&j);
	journal_free(&j);
	return r < 0 ? 1 : 0;
}
