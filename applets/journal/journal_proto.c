/* I/O-free coding for ctrbox-journal: journald native entries, CRI/JSON lines. */
#include "journal_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jbuf_reserve(struct jbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	if (more > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int jbuf_put(struct jbuf *b, const void *data, size_t n)
{
	int r = jbuf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

void jbuf_free(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int journal_field_valid(const char *key, size_t n)
{
	if (n == 0 || n > 64 || key[0] == '_' || (key[0] >= '0' && key[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/* The plain form ends a value at '\n'; other control bytes would reach journald fine, but
 * binary-safe keeps them exact and costs 9 bytes. */
int journal_needs_binary(const void *val, size_t n)
{
	const unsigned char *v = val;

	for (size_t i = 0; i < n; i++)
		if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return 1;
	return 0;
}

int journal_append(struct jbuf *b, const char *key, const void *val, size_t n)
{
	size_t klen = strlen(key);
	unsigned char le[8];
	int r;

	if (!journal_field_valid(key, klen))
		return -EINVAL;
	r = jbuf_reserve(b, klen + n + 10);
	if (r < 0)
		return r;
	jbuf_put(b, key, klen);
	if (!journal_needs_binary(val, n)) {
		jbuf_put(b, "=", 1);
	} else {
		jbuf_put(b, "\n", 1);
		for (int i = 0; i < 8; i++)
			le[i] = (unsigned char)((uint64_t)n >> (8 * i));
		jbuf_put(b, le, 8);
	}
	jbuf_put(b, val, n);
	return jbuf_put(b, "\n", 1);
}

int journal_append_str(struct jbuf *b, const char *key, const char *val)
{
	return journal_append(b, key, val, strlen(val));
}

size_t journal_rfc3339(char out[40], const struct timespec *ts)
{
	struct tm tm;
	time_t t = ts->tv_sec;

	gmtime_r(&t, &tm);
	return (size_t)snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
				tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				(long)ts->tv_nsec);
}

int journal_cri_line(struct jbuf *b, const struct timespec *ts, const char *stream,
		     const char *line, size_t n, int partial)
{
	char t[40];
	size_t tl = journal_rfc3339(t, ts), sl = strlen(stream);
	int r = jbuf_reserve(b, tl + sl + n + 6);

	if (r < 0)
		return r;
	jbuf_put(b, t, tl);
	jbuf_put(b, " ", 1);
	jbuf_put(b, stream, sl);
	jbuf_put(b, partial ? " P " : " F ", 3);
	jbuf_put(b, line, n);
	return jbuf_put(b, "\n", 1);
}

/* JSON string body: quote, backslash and control bytes escaped; other bytes verbatim. */
static int json_escape(struct jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r = jbuf_reserve(b, n + n / 8 + 8);

	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			r = jbuf_put(b, e, 2);
		} else if (c == '\n' || c == '\t' || c == '\r') {
			e[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			r = jbuf_put(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			r = jbuf_put(b, e, 6);
		} else {
			r = jbuf_put(b, &s[i], 1);
		}
	}
	return r;
}

int journal_json_line(struct jbuf *b, const struct timespec *ts, const char *stream,
		      const char *line, size_t n, int partial)
{
	char t[40];
	size_t tl = journal_rfc3339(t, ts);
	int r = jbuf_put(b, "{\"log\":\"", 8);

	if (r == 0)
		r = json_escape(b, line, n);
	if (r == 0 && !partial)
		r = jbuf_put(b, "\\n", 2);
	if (r == 0)
		r = jbuf_put(b, "\",\"stream\":\"", 12);
	if (r == 0)
		r = json_escape(b, stream, strlen(stream));
	if (r == 0)
		r = jbuf_put(b, "\",\"time\":\"", 10);
	if (r == 0)
		r = jbuf_put(b, t, tl);
	if (r == 0)
		r = jbuf_put(b, "\"}\n", 3);
	return r;
}

int journal_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case 'k':
	case 'K':
		mul = 1024, p++;
		break;
	case 'm':
	case 'M':
		mul = 1024 * 1024, p++;
		break;
	case 'g':
	case 'G':
		mul = 1024 * 1024 * 1024, p++;
		break;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p || v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}
