/* The streaming JSON writer (see jsonw.h) and the one Go-compatible string escaper. */
#include <ctrbox/jsonw.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctrbox_jsonw_init(struct ctrbox_jsonw *w, const char *indent, unsigned level)
{
	memset(w, 0, sizeof(*w));
	w->indent = indent;
	w->level = level;
}

void ctrbox_jsonw_free(struct ctrbox_jsonw *w)
{
	free(w->buf);
	free(w->stack);
	memset(w, 0, sizeof(*w));
}

void ctrbox_jsonw_fail(struct ctrbox_jsonw *w, int err)
{
	if (!w->err)
		w->err = err;
}

int ctrbox_jsonw_error(const struct ctrbox_jsonw *w)
{
	return w->err;
}

/* Room for n more bytes and the final NUL (len < cap whenever there is a buffer). */
static bool reserve(struct ctrbox_jsonw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 64;
	char *p;

	if (w->err)
		return false;
	if (w->cap && n < w->cap - w->len)
		return true;
	if (n > SIZE_MAX / 2 - w->len - 1) {
		ctrbox_jsonw_fail(w, -ENOMEM);
		return false;
	}
	while (cap < w->len + n + 1)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p) {
		ctrbox_jsonw_fail(w, -ENOMEM);
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void put(struct ctrbox_jsonw *w, const void *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void newline(struct ctrbox_jsonw *w)
{
	size_t il;

	if (!w->indent)
		return;
	il = strlen(w->indent);
	put(w, "\n", 1);
	for (size_t i = 0; i < w->level + w->depth; i++)
		put(w, w->indent, il);
}

/* Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune rules: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 if invalid; *cp gets the code point. */
static size_t utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2, *cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, *cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, *cp = c & 0x07;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if (k > 1 && (s[k] < 0x80 || s[k] > 0xbf))
			return 0;
		*cp = *cp << 6 | (s[k] & 0x3f);
	}
	return len;
}

static bool plain_ascii(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

/* The escape of the ASCII byte c into e (\" \\ \n \r \t, else \u00XX as Go: \b and \f too,
 * and < > & for HTML safety); its length. */
static size_t escape_ascii(unsigned char c, char e[6])
{
	static const char hex[] = "0123456789abcdef";

	e[0] = '\\';
	if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
		e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
		return 2;
	}
	memcpy(e + 1, "u00", 3);
	e[4] = hex[c >> 4];
	e[5] = hex[c & 15];
	return 6;
}

/* s quoted as Go's json.Marshal writes a string: HTML-safe, U+2028 and U+2029 escaped,
 * invalid UTF-8 as \ufffd. Runs of bytes that need nothing are copied at once. */
static void put_quoted(struct ctrbox_jsonw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	put(w, "\"", 1);
	while (i < n) {
		unsigned cp = 0;
		size_t len = p[i] < 0x80 ? 1 : utf8_len(p + i, n - i, &cp);
		char e[6];

		if ((len == 1 && plain_ascii(p[i])) || (len > 1 && cp != 0x2028 && cp != 0x2029)) {
			i += len;
			continue;
		}
		put(w, p + run, i - run);
		if (len == 1) {
			put(w, e, escape_ascii(p[i], e));
		} else if (len == 0) {
			put(w, "\\ufffd", 6);
			len = 1;
		} else {
			put(w, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
		}
		i += len;
		run = i;
	}
	put(w, p + run, n - run);
	put(w, "\"", 1);
}

/* Before a value: the state allows one here; the separator and line of an array element. */
static bool value_begin(struct ctrbox_jsonw *w)
{
	if (w->err)
		return false;
	if (!w->depth) {
		if (w->done)
			ctrbox_jsonw_fail(w, -EINVAL);
		return !w->err;
	}
	if (w->stack[w->depth - 1] == '{') {
		if (!w->key)
			ctrbox_jsonw_fail(w, -EINVAL);
		w->key = false;
		return !w->err;
	}
	if (!w->empty)
		put(w, ",", 1);
	w->empty = false;
	newline(w);
	return !w->err;
}

static void value_end(struct ctrbox_jsonw *w)
{
	if (!w->depth)
		w->done = true;
}

static void begin(struct ctrbox_jsonw *w, unsigned char c)
{
	if (!value_begin(w))
		return;
	if (w->depth == w->stack_cap) {
		size_t cap = w->stack_cap ? w->stack_cap * 2 : 16;
		unsigned char *p = realloc(w->stack, cap);
		if (!p) {
			ctrbox_jsonw_fail(w, -ENOMEM);
			return;
		}
		w->stack = p;
		w->stack_cap = cap;
	}
	w->stack[w->depth++] = c;
	put(w, &c, 1);
	w->empty = true;
}

static void end(struct ctrbox_jsonw *w, unsigned char open, char close)
{
	if (w->err)
		return;
	if (!w->depth || w->stack[w->depth - 1] != open || w->key) {
		ctrbox_jsonw_fail(w, -EINVAL);
		return;
	}
	w->depth--;
	if (!w->empty)
		newline(w);
	put(w, &close, 1);
	w->empty = false; /* the parent has this container as a member */
	value_end(w);
}

void ctrbox_jsonw_object_begin(struct ctrbox_jsonw *w)
{
	begin(w, '{');
}

void ctrbox_jsonw_object_end(struct ctrbox_jsonw *w)
{
	end(w, '{', '}');
}

void ctrbox_jsonw_array_begin(struct ctrbox_jsonw *w)
{
	begin(w, '[');
}

void ctrbox_jsonw_array_end(struct ctrbox_jsonw *w)
{
	end(w, '[', ']');
}

void ctrbox_jsonw_key(struct ctrbox_jsonw *w, const char *key)
{
	if (w->err)
		return;
	if (!w->depth || w->stack[w->depth - 1] != '{' || w->key) {
		ctrbox_jsonw_fail(w, -EINVAL);
		return;
	}
	if (!w->empty)
		put(w, ",", 1);
	w->empty = false;
	newline(w);
	put_quoted(w, key ? key : "", key ? strlen(key) : 0);
	if (w->indent)
		put(w, ": ", 2);
	else
		put(w, ":", 1);
	w->key = true;
}

void ctrbox_jsonw_stringn(struct ctrbox_jsonw *w, const char *s, size_t n)
{
	if (!value_begin(w))
		return;
	put_quoted(w, s, n);
	value_end(w);
}

void ctrbox_jsonw_string(struct ctrbox_jsonw *w, const char *s)
{
	ctrbox_jsonw_stringn(w, s ? s : "", s ? strlen(s) : 0);
}

void ctrbox_jsonw_raw(struct ctrbox_jsonw *w, const char *json, size_t len)
{
	if (!value_begin(w))
		return;
	if (!len)
		ctrbox_jsonw_fail(w, -EINVAL);
	put(w, json, len);
	value_end(w);
}

void ctrbox_jsonw_int(struct ctrbox_jsonw *w, int64_t v)
{
	/* -9223372036854775808 is 20 bytes; the NUL fits in reserve's extra byte */
	if (!value_begin(w) || !reserve(w, 20))
		return;
	w->len += (size_t)snprintf(w->buf + w->len, 21, "%" PRId64, v);
	value_end(w);
}

void ctrbox_jsonw_uint(struct ctrbox_jsonw *w, uint64_t v)
{
	if (!value_begin(w) || !reserve(w, 20))
		return;
	w->len += (size_t)snprintf(w->buf + w->len, 21, "%" PRIu64, v);
	value_end(w);
}

void ctrbox_jsonw_bool(struct ctrbox_jsonw *w, bool v)
{
	ctrbox_jsonw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void ctrbox_jsonw_null(struct ctrbox_jsonw *w)
{
	ctrbox_jsonw_raw(w, "null", 4);
}

int ctrbox_jsonw_finish(struct ctrbox_jsonw *w, char **out, size_t *len)
{
	int err = w->err;

	if (!err && (w->depth || !w->done))
		err = -EINVAL;
	if (err) {
		ctrbox_jsonw_free(w);
		return err;
	}
	w->buf[w->len] = '\0'; /* reserve kept a byte for it */
	*out = w->buf;
	if (len)
		*len = w->len;
	w->buf = NULL;
	ctrbox_jsonw_free(w);
	return 0;
}
