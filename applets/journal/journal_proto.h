/* I/O-free coding for ctrbox-journal: journald native entries, CRI/JSON lines (the line
 * splitting is the logging crate's, ctrbox/logging.h). */
#ifndef CTRBOX_JOURNAL_PROTO_H
#define CTRBOX_JOURNAL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A growable byte buffer; zero-initialised is empty. */
struct jbuf {
	char *p;
	size_t len, cap;
};

int jbuf_reserve(struct jbuf *b, size_t more);
int jbuf_put(struct jbuf *b, const void *data, size_t n);
void jbuf_free(struct jbuf *b);

/* journald's rule: 1-64 chars of A-Z 0-9 _, not starting with a digit or '_'. */
int journal_field_valid(const char *key, size_t n);
/* Appends one field: KEY=VALUE\n, or the binary-safe form (KEY\n, 64-bit LE length, data, \n)
 * when the value holds a newline or another control byte. -EINVAL for a bad key. */
/* True when the value holds a byte the plain form cannot carry (a control byte but tab). */
int journal_needs_binary(const void *val, size_t n);
int journal_append(struct jbuf *b, const char *key, const void *val, size_t n);
int journal_append_str(struct jbuf *b, const char *key, const char *val);

/* RFC 3339 UTC with nanoseconds, always 9 digits: 2026-11-23T14:29:22.000000001Z (31 bytes +
 * NUL). Returns the length. */
size_t journal_rfc3339(char out[40], const struct timespec *ts);
/* Appends one CRI log line: "<time> <stream> <P|F> <line>\n". */
int journal_cri_line(struct jbuf *b, const struct timespec *ts, const char *stream,
		     const char *line, size_t n, int partial);
/* Appends one docker json-file line: {"log":"<line>[\n]","stream":"..","time":".."}\n; the \n
 * inside log is left out for a partial chunk, as docker does. */
int journal_json_line(struct jbuf *b, const struct timespec *ts, const char *stream,
		      const char *line, size_t n, int partial);

/* "123", "64k", "16K", "1m", "2g" (powers of 1024) -> bytes; -EINVAL if malformed. */
int journal_parse_size(const char *s, uint64_t *out);

#endif
