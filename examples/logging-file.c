/* logging-file: a containerd logging binary built on the logging crate alone (ctrbox/logging.h).
 *
 *   ctr run --log-uri 'binary:///path/logging-file?file=/var/log/c1.log' IMAGE c1 ...
 *
 * Appends every line of the container's stdout and stderr to the file, one record a line:
 * "stdout F text" for a complete line, "stderr P text" for a piece of a line longer than
 * max-line bytes (the last piece of such a line is an F record: concatenating the P pieces and
 * that F text gives the line back). Options: file=PATH (absolute, required), max-line=BYTES (1 to
 * 1048576, default 256 KiB). The file is opened before readiness is signalled, so a run whose
 * file cannot be opened logs nothing; exits 0 at EOF of both streams or on SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ctrbox/logging.h>

struct file_log {
	int fd;
	unsigned long long lines, failed;
};

/* One record with one writev (O_APPEND: records of two writers never interleave). */
static int on_line(void *data, int stream, const char *line, size_t n, int partial)
{
	struct file_log *f = data;
	const char *name = ctrbox_logging_stream_name(stream);
	struct iovec iov[4] = {{(void *)name, strlen(name)},
			       {(void *)(partial ? " P " : " F "), 3},
			       {(void *)line, n},
			       {(void *)"\n", 1}};
	size_t want = iov[0].iov_len + 3 + n + 1;
	ssize_t w;

	do
		w = writev(f->fd, iov, 4);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)want) {
		f->failed++; /* a short write on a full disk: counted, reported at exit */
		return -EIO;
	}
	f->lines++;
	return 0;
}

/* file= and max-line=; anything else is an error, so that a typo is not silently ignored. */
static int options(const struct ctrbox_logging_config *c, const char **path, size_t *max_line)
{
	for (size_t i = 0; i < c->nargs; i++) {
		const char *k = c->args[i].key, *v = c->args[i].value;
		char *end;

		if (!strcmp(k, "file")) {
			*path = v;
		} else if (!strcmp(k, "max-line")) {
			unsigned long n = strtoul(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || n == 0 || n > 1048576) {
				fprintf(stderr, "logging-file: max-line '%s': want 1..1048576\n",
					v);
				return -1;
			}
			*max_line = n;
		} else {
			fprintf(stderr, "logging-file: unknown option '%s' (file, max-line)\n", k);
			return -1;
		}
	}
	if (!*path || (*path)[0] != '/') {
		fprintf(stderr, "logging-file: file=PATH (an absolute path) is required\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctrbox_logging_config c;
	struct ctrbox_logging_ops ops = {.line = on_line};
	struct file_log f = {.fd = -1};
	const char *path = NULL;
	size_t max_line = 0;
	char err[256];
	int r;

	if (ctrbox_logging_config_parse(&c, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "logging-file: %s\n", err);
		return 2;
	}
	r = options(&c, &path, &max_line);
	ctrbox_logging_config_free(&c); /* the strings are argv's: path stays valid */
	if (r < 0)
		return 2;
	/* before any open: a missing fd 3-5 must not be taken by the file */
	if (ctrbox_logging_setup(&c) < 0) {
		fprintf(stderr, "logging-file: cannot set up fds 3-5\n");
		return 1;
	}
	f.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (f.fd < 0) {
		fprintf(stderr, "logging-file: %s: %s\n", path, strerror(errno));
		return 1; /* exiting closes fd 5 too, but nothing was logged */
	}
	ctrbox_logging_ready(&c);
	r = ctrbox_logging_run(&c, max_line, &ops, &f);
	if (r < 0)
		fprintf(stderr, "logging-file: %s\n", strerror(-r));
	if (f.failed)
		fprintf(stderr, "logging-file: %llu of %llu lines not written\n", f.failed,
			f.lines + f.failed);
	close(f.fd);
	return r < 0 ? 1 : 0;
}
