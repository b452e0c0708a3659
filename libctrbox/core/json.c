/* JSON reading on jsmn tokens (validated first, typed getters, Go-compatible unescaping) and
 * Go encoding/json-compatible string quoting. */

/* jsmn is header-only: this is the one translation unit that compiles its code. */
#include <jsmn.h>
#include <stddef.h>

#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The public token is jsmn's, field for field: jsmn writes into it directly. */
_Static_assert(sizeof(struct ctrbox_json_tok) == sizeof(jsmntok_t), "token layout");
_Static_assert(offsetof(struct ctrbox_json_tok, start) == offsetof(jsmntok_t, start),
	       "token layout");
_Static_assert(offsetof(struct ctrbox_json_tok, end) == offsetof(jsmntok_t, end), "token layout");
_Static_assert(offsetof(struct ctrbox_json_tok, size) == offsetof(jsmntok_t, size), "token layout");
_Static_assert(CTRBOX_JSON_OBJECT == (int)JSMN_OBJECT && CTRBOX_JSON_ARRAY == (int)JSMN_ARRAY &&
		   CTRBOX_JSON_STRING == (int)JSMN_STRING &&
		   CTRBOX_JSON_PRIMITIVE == (int)JSMN_PRIMITIVE,
	       "token types");

/* Go's encoding/json refuses nesting deeper than 10000; a C recursion that deep would cost
 * the shim a megabyte of stack for a spec nobody writes. */
#define MAX_DEPTH 1000

/* ---- validation ----
 * jsmn tokenizes but does not validate: it takes [1 2], {"a" "b"} and bare words. So each
 * document is checked against the JSON grammar first; the same pass counts the tokens jsmn
 * will produce, so the token array is allocated once at its exact size. */

struct vstate {
	const unsigned char *s;
	size_t n, i;
	long toks;
};

static void v_ws(struct vstate *v)
{
	while (v->i < v->n && (v->s[v->i] == ' ' || v->s[v->i] == '\t' || v->s[v->i] == '\n' ||
			       v->s[v->i] == '\r'))
		v->i++;
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int v_string(struct vstate *v)
{
	v->i++; /* the opening quote */
	while (v->i < v->n) {
		unsigned char c = v->s[v->i++];
		if (c == '"')
			return 0;
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		if (v->i >= v->n)
			return -1;
		c = v->s[v->i++];
		if (c == 'u') {
			for (int k = 0; k < 4; k++, v->i++)
				if (v->i >= v->n || !is_hex(v->s[v->i]))
					return -1;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return -1;
		}
	}
	return -1;
}

static int v_digits(struct vstate *v)
{
	size_t start = v->i;

	while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
		v->i++;
	return v->i > start ? 0 : -1;
}

static int v_number(struct vstate *v)
{
	if (v->s[v->i] == '-')
		v->i++;
	if (v->i < v->n && v->s[v->i] == '0')
		v->i++;
	else if (v_digits(v) < 0)
		return -1;
	if (v->i < v->n && v->s[v->i] == '.') {
		v->i++;
		if (v_digits(v) < 0)
			return -1;
	}
	if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E')) {
		v->i++;
		if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-'))
			v->i++;
		if (v_digits(v) < 0)
			return -1;
	}
	return 0;
}

static int v_literal(struct vstate *v, const char *word)
{
	size_t len = strlen(word);

	if (v->n - v->i < len || memcmp(v->s + v->i, word, len) != 0)
		return -1;
	v->i += len;
	return 0;
}

static int v_value(struct vstate *v, int depth);

/* Objects and arrays: members separated by commas, keys are strings followed by a colon. */
static int v_container(struct vstate *v, int depth)
{
	int object = v->s[v->i] == '{';
	unsigned char close = object ? '}' : ']';

	if (depth >= MAX_DEPTH)
		return -1;
	v->i++;
	v_ws(v);
	if (v->i < v->n && v->s[v->i] == close) {
		v->i++;
		return 0;
	}
	for (;;) {
		if (object) {
			v_ws(v);
			if (v->i >= v->n || v->s[v->i] != '"' || v_string(v) < 0)
				return -1;
			v->toks++;
			v_ws(v);
			if (v->i >= v->n || v->s[v->i++] != ':')
				return -1;
		}
		if (v_value(v, depth + 1) < 0)
			return -1;
		if (v->i >= v->n)
			return -1;
		if (v->s[v->i] == close) {
			v->i++;
			return 0;
		}
		if (v->s[v->i++] != ',')
			return -1;
	}
}

/* One value with the whitespace around it. */
static int v_value(struct vstate *v, int depth)
{
	int r;

	v_ws(v);
	if (v->i >= v->n)
		return -1;
	switch (v->s[v->i]) {
	case '{':
	case '[':
		r = v_container(v, depth);
		break;
	case '"':
		r = v_string(v);
		break;
	case 't':
		r = v_literal(v, "true");
		break;
	case 'f':
		r = v_literal(v, "false");
		break;
	case 'n':
		r = v_literal(v, "null");
		break;
	default:
		r = (v->s[v->i] == '-' || (v->s[v->i] >= '0' && v->s[v->i] <= '9')) ? v_number(v)
										    : -1;
	}
	if (r < 0)
		return -1;
	v->toks++;
	v_ws(v);
	return 0;
}

int ctrbox_json_parse(struct ctrbox_json *j, const char *buf, size_t len)
{
	struct vstate v = {(const unsigned char *)buf, len, 0, 0};
	jsmn_parser p;
	int r;

	memset(j, 0, sizeof(*j));
	if (len > INT_MAX) /* jsmn keeps offsets in int */
		return -E2BIG;
	if (v_value(&v, 0) < 0 || v.i != len)
		return -EINVAL;
	if (v.toks > CTRBOX_JSON_MAX_TOKENS)
		return -E2BIG;
	j->toks = malloc(v.toks * sizeof(*j->toks));
	if (!j->toks)
		return -ENOMEM;
	jsmn_init(&p);
	r = jsmn_parse(&p, buf, len, (jsmntok_t *)j->toks, v.toks);
	if (r != v.toks) { /* cannot happen on validated input; refuse rather than trust it */
		ctrbox_json_free(j);
		return -EINVAL;
	}
	j->buf = buf;
	j->len = len;
	j->ntoks = r;
	return 0;
}

void ctrbox_json_free(struct ctrbox_json *j)
{
	free(j->toks);
	memset(j, 0, sizeof(*j));
}

/* ---- navigation ---- */

static const struct ctrbox_json_tok *tok_at(const struct ctrbox_json *j, int tok)
{
	return tok >= 0 && tok < j->ntoks ? &j->toks[tok] : NULL;
}

/* Tokens are in document order, so a subtree is every following token that starts before
 * its root ends. */
int ctrbox_json_skip(const struct ctrbox_json *j, int tok)
{
	const struct ctrbox_json_tok *t = tok_at(j, tok);
	int next = tok + 1;

	if (!t)
		return -1;
	while (next < j->ntoks && j->toks[next].start < t->end)
		next++;
	return next;
}

int ctrbox_json_object_next(const struct ctrbox_json *j, int obj, int key)
{
	const struct ctrbox_json_tok *o = tok_at(j, obj);
	int next;

	if (!o || o->type != CTRBOX_JSON_OBJECT)
		return -1;
	next = key < 0 ? obj + 1 : ctrbox_json_skip(j, key + 1);
	if (next < 0 || next >= j->ntoks || j->toks[next].start >= o->end)
		return -1;
	return next;
}

int ctrbox_json_get(const struct ctrbox_json *j, int obj, const char *key)
{
	int found = -1;

	for (int k = -1; (k = ctrbox_json_object_next(j, obj, k)) >= 0;)
		if (ctrbox_json_streq(j, k, key))
			found = k + 1; /* keep going: the last duplicate wins, as in Go */
	return found;
}

int ctrbox_json_array_len(const struct ctrbox_json *j, int tok)
{
	const struct ctrbox_json_tok *t = tok_at(j, tok);

	return t && t->type == CTRBOX_JSON_ARRAY ? t->size : -1;
}

int ctrbox_json_array_at(const struct ctrbox_json *j, int arr, int i)
{
	int t = arr + 1;

	if (i < 0 || i >= ctrbox_json_array_len(j, arr))
		return -1;
	while (i-- > 0)
		t = ctrbox_json_skip(j, t);
	return t;
}

static bool is_type(const struct ctrbox_json *j, int tok, enum ctrbox_json_type type)
{
	const struct ctrbox_json_tok *t = tok_at(j, tok);

	return t && t->type == type;
}

bool ctrbox_json_is_string(const struct ctrbox_json *j, int tok)
{
	return is_type(j, tok, CTRBOX_JSON_STRING);
}

bool ctrbox_json_is_object(const struct ctrbox_json *j, int tok)
{
	return is_type(j, tok, CTRBOX_JSON_OBJECT);
}

bool ctrbox_json_is_array(const struct ctrbox_json *j, int tok)
{
	return is_type(j, tok, CTRBOX_JSON_ARRAY);
}

bool ctrbox_json_is_null(const struct ctrbox_json *j, int tok)
{
	return is_type(j, tok, CTRBOX_JSON_PRIMITIVE) && j->buf[j->toks[tok].start] == 'n';
}

/* ---- scalars ---- */

static int hex4(const char *p)
{
	int v = 0;

	for (int k = 0; k < 4; k++) {
		char c = p[k];
		v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* \uXXXX at in[*i] (the backslash), with Go's surrogate rules: a valid pair is one code
 * point; anything else surrogate is U+FFFD and the following escape is read on its own. */
static unsigned unescape_u(const char *in, size_t n, size_t *i)
{
	unsigned cp = hex4(in + *i + 2), lo;

	*i += 6;
	if (cp < 0xd800 || cp > 0xdfff)
		return cp;
	if (cp <= 0xdbff && *i + 6 <= n && in[*i] == '\\' && in[*i + 1] == 'u') {
		lo = hex4(in + *i + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*i += 6;
			return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
	}
	return 0xfffd;
}

/* Unescapes validated string content into out, which needs n + 1 bytes: no escape expands
 * (\uXXXX is 6 bytes for at most 3, a pair 12 for 4). Bytes that are not valid UTF-8 pass
 * through unchanged (Go would replace them with U+FFFD). Returns the length. */
static size_t unescape(const char *in, size_t n, char *out)
{
	size_t i = 0, w = 0;

	while (i < n) {
		if (in[i] != '\\') {
			out[w++] = in[i++];
			continue;
		}
		switch (in[i + 1]) {
		case 'b':
			out[w++] = '\b';
			break;
		case 'f':
			out[w++] = '\f';
			break;
		case 'n':
			out[w++] = '\n';
			break;
		case 'r':
			out[w++] = '\r';
			break;
		case 't':
			out[w++] = '\t';
			break;
		case 'u':
			w += put_utf8(out + w, unescape_u(in, n, &i));
			continue;
		default: /* \" \\ \/ */
			out[w++] = in[i + 1];
		}
		i += 2;
	}
	out[w] = '\0';
	return w;
}

char *ctrbox_json_strdup(const struct ctrbox_json *j, int tok)
{
	const struct ctrbox_json_tok *t = tok_at(j, tok);
	size_t n, len;
	char *s;

	if (!t || t->type != CTRBOX_JSON_STRING) {
		errno = EINVAL;
		return NULL;
	}
	n = t->end - t->start;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	len = unescape(j->buf + t->start, n, s);
	if (memchr(s, '\0', len)) { /* \u0000: no C string can carry it */
		free(s);
		errno = EINVAL;
		return NULL;
	}
	return s;
}

bool ctrbox_json_streq(const struct ctrbox_json *j, int tok, const char *s)
{
	const struct ctrbox_json_tok *t = tok_at(j, tok);
	size_t n, slen = strlen(s);
	char *u;
	bool eq;

	if (!t || t->type != CTRBOX_JSON_STRING)
		return false;
	n = t->end - t->start;
	if (!memchr(j->buf + t->start, '\\', n)) /* the usual case: compare in place */
		return n == slen && memcmp(j->buf + t->start, s, n) == 0;
	u = malloc(n + 1);
	if (!u)
		return false;
	eq = unescape(j->buf + t->start, n, u) == slen && memcmp(u, s, slen) == 0;
	free(u);
	return eq;
}

int ctrbox_json_int64(const struct ctrbox_json *j, int tok, int64_t *out)
{
	const struct ctrbox_json_tok *t = tok_at(j, tok);
	const char *p, *end;
	uint64_t v = 0, limit;
	int neg;

	if (!t || t->type != CTRBOX_JSON_PRIMITIVE)
		return -EINVAL;
	p = j->buf + t->start;
	end = j->buf + t->end;
	neg = *p == '-';
	p += neg;
	if (p == end || *p < '0' || *p > '9')
		return -EINVAL; /* true, false, null */
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL; /* a fraction or an exponent: Go's int refuses both */
		if (v > (limit - (*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*p - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int ctrbox_json_bool(const struct ctrbox_json *j, int tok, bool *out)
{
	const struct ctrbox_json_tok *t = tok_at(j, tok);

	if (!t || t->type != CTRBOX_JSON_PRIMITIVE)
		return -EINVAL;
	if (j->buf[t->start] == 't' || j->buf[t->start] == 'f') {
		*out = j->buf[t->start] == 't';
		return 0;
	}
	return -EINVAL;
}

/* ---- writing: a one-string document of lib/jsonw.c, which holds the escaper ---- */

char *ctrbox_json_quote(const char *s)
{
	struct ctrbox_jsonw w = {0};
	char *out;

	ctrbox_jsonw_string(&w, s);
	return ctrbox_jsonw_finish(&w, &out, NULL) ? NULL : out;
}
