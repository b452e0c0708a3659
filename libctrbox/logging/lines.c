/* The line splitter of ctrbox_logging_run(): lines of at most max bytes, longer ones in pieces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrbox/logging.h"

int ctrbox_logging_lines_init(struct ctrbox_logging_lines *lb, size_t max)
{
	lb->len = 0;
	lb->max = max ? max : 1;
	lb->buf = malloc(lb->max);
	return lb->buf ? 0 : -ENOMEM;
}

void ctrbox_logging_lines_free(struct ctrbox_logging_lines *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->len = 0;
}

/* Emits buffered bytes plus p[0..n) as one piece without copying when nothing is buffered. */
static int emit(struct ctrbox_logging_lines *lb, const char *p, size_t n, int partial,
		ctrbox_logging_line_cb cb, void *ctx)
{
	int r;

	if (lb->len == 0)
		return cb(p, n, partial, ctx);
	memcpy(lb->buf + lb->len, p, n); /* callers keep lb->len + n <= max */
	r = cb(lb->buf, lb->len + n, partial, ctx);
	lb->len = 0;
	return r;
}

int ctrbox_logging_lines_feed(struct ctrbox_logging_lines *lb, const char *p, size_t n,
			      ctrbox_logging_line_cb cb, void *ctx)
{
	while (n > 0) {
		size_t room = lb->max - lb->len;
		const char *nl = memchr(p, '\n', n < room + 1 ? n : room + 1);
		int r;

		if (nl) { /* a complete line that fits (the '\n' may sit just past room) */
			r = emit(lb, p, (size_t)(nl - p), 0, cb, ctx);
			n -= (size_t)(nl - p) + 1;
			p = nl + 1;
		} else if (n > room) { /* full and more is coming: a partial chunk */
			r = emit(lb, p, room, 1, cb, ctx);
			n -= room;
			p += room;
		} else { /* keep for later: the line's end may be in the next read */
			memcpy(lb->buf + lb->len, p, n);
			lb->len += n;
			return 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int ctrbox_logging_lines_flush(struct ctrbox_logging_lines *lb, ctrbox_logging_line_cb cb,
			       void *ctx)
{
	int r;

	if (lb->len == 0)
		return 0;
	r = cb(lb->buf, lb->len, 0, ctx);
	lb->len = 0;
	return r;
}
