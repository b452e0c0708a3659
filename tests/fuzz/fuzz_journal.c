/* libFuzzer target: the I/O-free journald/CRI/json-file encoder (lib/journal_proto.h). Byte 0 sets
 * the line splitter's maximum, byte 1 the read size; the rest is a container's output stream.
 * Every emitted line goes through each encoder; the lines must rebuild the stream exactly, and a
 * json-file line must parse back to the same text. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrbox/logging.h"
#include "journal/journal_proto.h"
#include <ctrbox/json.h>

struct ctx {
	struct jbuf rebuilt; /* lines joined again: must equal the input */
	struct jbuf out;     /* encoder output, reset per line */
	size_t max;
};

static void check_json_line(const struct jbuf *b, const char *line, size_t n, int partial)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] >= 0x80 || line[i] == '\0')
			return; /* docker passes invalid UTF-8 through; NUL cannot be strdup'ed */
	struct ctrbox_json j;
	if (ctrbox_json_parse(&j, b->p, b->len) != 0)
		abort();
	char *log = ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "log"));
	if (!log || strlen(log) != n + !partial || memcmp(log, line, n) ||
	    (!partial && log[n] != '\n'))
		abort();
	free(log);
	ctrbox_json_free(&j);
}

static int on_line(const char *line, size_t n, int partial, void *data)
{
	struct ctx *c = data;
	struct timespec ts = {.tv_sec = (time_t)n * 1000003, .tv_nsec = (long)(n % 1000000000)};

	if (n > c->max || (partial && n != c->max))
		abort();
	if (jbuf_put(&c->rebuilt, line, n) || (!partial && jbuf_put(&c->rebuilt, "\n", 1)))
		abort();

	c->out.len = 0;
	if (journal_append(&c->out, "MESSAGE", line, n) != 0)
		abort();
	c->out.len = 0;
	if (journal_cri_line(&c->out, &ts, partial ? "stderr" : "stdout", line, n, partial) != 0)
		abort();
	c->out.len = 0;
	if (journal_json_line(&c->out, &ts, "stdout", line, n, partial) != 0)
		abort();
	check_json_line(&c->out, line, n, partial);

	/* the line as a field name and as a size */
	char *z = malloc(n + 1);
	if (!z)
		abort();
	memcpy(z, line, n);
	z[n] = '\0';
	c->out.len = 0;
	int r = journal_append_str(&c->out, z, "v");
	if ((r == 0) != journal_field_valid(z, strlen(z)))
		abort();
	uint64_t sz;
	(void)journal_parse_size(z, &sz);
	free(z);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct ctx c = {.max = (size_t)data[0] % 64 + 1};
	size_t chunk = (size_t)data[1] % 31 + 1;
	const char *p = (const char *)data + 2;
	size_t n = size - 2;
	struct ctrbox_logging_lines lb;

	if (ctrbox_logging_lines_init(&lb, c.max) != 0)
		return 0;
	for (size_t off = 0; off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;
		if (ctrbox_logging_lines_feed(&lb, p + off, k, on_line, &c) != 0)
			abort();
	}
	if (ctrbox_logging_lines_flush(&lb, on_line, &c) != 0)
		abort();
	/* the lines rebuild the stream, plus the '\n' the flush adds to an unterminated last line
	 */
	size_t want = n + (n > 0 && p[n - 1] != '\n');
	if (c.rebuilt.len != want || (n && memcmp(c.rebuilt.p, p, n)))
		abort();
	ctrbox_logging_lines_free(&lb);
	jbuf_free(&c.rebuilt);
	jbuf_free(&c.out);
	return 0;
}
