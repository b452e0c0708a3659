/* containerd's filter language (filters/{scanner,parser,quote}.go) over snapshot Info. */
/*
 * The scanner and parser follow containerd's token by token, so that what containerd accepts is
 * accepted here and its parse errors read the same ("filters: parse error: [a >|=|< b]: msg:
 * invalid argument"). Fields follow snapshots/storage adaptSnapshot: name, parent (present even
 * when empty), kind as "active" / "view" / "committed", labels.<k> (the rest of the path joined
 * with '.'; absent when the snapshot has no labels). An unknown field is "not present": it fails
 * "==", presence and matches "!=" (containerd compares "" != value).
 *
 * "~=" uses POSIX extended regular expressions (regcomp REG_EXTENDED, unanchored search like
 * Go's MatchString) as an approximation of Go's RE2 syntax: \d, \w, (?i) and friends are not
 * available. A regexp that does not compile matches nothing, as in containerd, where the
 * compile error is only logged at match time. glibc's regcomp copies the operand of "+" and of
 * "{n,m}" (a+ is built as aa*), so nested repetitions grow exponentially ("a++++...", 40 bytes,
 * takes gigabytes) and chains of "?" or "*" make its epsilon closures slow: a pattern whose
 * expanded size is over RE_MAX_NODES, or that stacks repetition operators (a**, a???, a{2}+;
 * Go's "invalid nested repetition operator", a single lazy "?" is allowed), is treated as one
 * that does not compile, as RE2 refuses it too.
 */
#include <ctrbox/snapshots.h>
#include <ctrbox/util.h>

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_PRESENT, OP_EQ, OP_NE, OP_MATCH };

struct selector {
	char **path;
	size_t npath;
	enum op op;
	char *value;
	regex_t re;
	int re_ok;
};

struct conj { /* one filter string: every selector must match; none = always */
	struct selector *v;
	size_t n;
};

struct ctrbox_snapshot_filter {
	struct conj *v; /* any one must match; none = always */
	size_t n;
};

/* ---- scanner (scanner.go) ---- */

enum {
	TOK_EOF = -1,
	TOK_QUOTED = -2,
	TOK_VALUE = -3,
	TOK_FIELD = -4,
	TOK_SEP = -5,
	TOK_OP = -6,
	TOK_ILLEGAL = -7,
};

struct scanner {
	const char *in;
	size_t len;
	size_t pos, ppos; /* start and end of the current rune */
	int value;	  /* the next bare word is a value */
	const char *err;  /* first error only */
};

struct token {
	size_t pos;
	int tok;
	size_t start, end; /* text */
};

/* Go's utf8.DecodeRune: returns the rune, or 0xFFFD with *w 1 on bad input. */
static int32_t decode_rune(const unsigned char *s, size_t n, size_t *w)
{
	static const int32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t need;
	int32_t r;

	*w = n ? 1 : 0;
	if (!n)
		return 0xFFFD;
	if (s[0] < 0x80)
		return s[0];
	if ((s[0] & 0xE0) == 0xC0)
		need = 2, r = s[0] & 0x1F;
	else if ((s[0] & 0xF0) == 0xE0)
		need = 3, r = s[0] & 0x0F;
	else if ((s[0] & 0xF8) == 0xF0)
		need = 4, r = s[0] & 0x07;
	else
		return 0xFFFD;
	if (n < need)
		return 0xFFFD;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0xFFFD;
		r = r << 6 | (s[i] & 0x3F);
	}
	if (r < min[need] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		return 0xFFFD;
	*w = need;
	return r;
}

static void scan_error(struct scanner *s, const char *msg)
{
	if (!s->err)
		s->err = msg;
}

static int next(struct scanner *s)
{
	size_t w;

	if (s->pos >= s->len)
		return TOK_EOF;
	s->pos = s->ppos;
	int32_t r = decode_rune((const unsigned char *)s->in + s->ppos, s->len - s->ppos, &w);
	s->ppos += w;
	if (r == 0xFFFD) {
		if (w > 0) {
			scan_error(s, "rune error");
			return TOK_ILLEGAL;
		}
		return TOK_EOF;
	}
	if (r == 0) {
		scan_error(s, "unexpected null");
		return TOK_ILLEGAL;
	}
	return r;
}

static int peek(struct scanner *s)
{
	size_t pos = s->pos, ppos = s->ppos;
	int ch = next(s);

	s->pos = pos, s->ppos = ppos;
	return ch;
}

/* Go's unicode.IsSpace. */
static int is_space(int r)
{
	switch (r) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xA0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
		return 1;
	}
	return r >= 0x2000 && r <= 0x200A;
}

static int is_field_rune(int r)
{
	return r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') ||
	       (r >= '0' && r <= '9');
}

static int is_operator_rune(int r)
{
	return r == '=' || r == '!' || r == '~';
}

static int is_quote_rune(int r)
{
	return r == '/' || r == '|' || r == '"';
}

static int is_separator_rune(int r)
{
	return r == ',' || r == '.';
}

/* Go: letter, digit, number, graphic or punct, not ',' nor space. Outside ASCII this treats
 * every non-space, non-C1-control rune as graphic (an approximation of the Unicode tables). */
static int is_value_rune(int r)
{
	if (r < 0 || r == ',' || is_space(r))
		return 0;
	if (r < 0x80)
		return r > 0x20 && r < 0x7f;
	return r >= 0xA0;
}

static int scan_digits(struct scanner *s, int ch, int base, int n, int *legal)
{
	for (int d; n > 0 && (d = ctrbox_hex_digit(ch)) >= 0 && d < base;) {
		ch = next(s);
		n--;
	}
	*legal = n == 0;
	if (n > 0)
		scan_error(s, "illegal numeric escape sequence");
	return ch;
}

static int scan_escape(struct scanner *s, int quote, int *legal)
{
	int ch = next(s);

	*legal = 0;
	switch (ch) {
	case 'a':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
	case 'v':
	case '\\':
		*legal = 1;
		return next(s);
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
		return scan_digits(s, ch, 8, 3, legal);
	case 'x':
		return scan_digits(s, next(s), 16, 2, legal);
	case 'u':
		return scan_digits(s, next(s), 16, 4, legal);
	case 'U':
		return scan_digits(s, next(s), 16, 8, legal);
	}
	if (ch == quote) {
		*legal = 1;
		return next(s);
	}
	scan_error(s, "illegal escape sequence");
	return ch;
}

static int scan_quoted(struct scanner *s, int quote)
{
	int illegal = 0, ch = next(s);

	while (ch != quote) {
		if (ch == '\n' || ch < 0) {
			scan_error(s, "quoted literal not terminated");
			return 0;
		}
		if (ch == '\\') {
			int legal;
			ch = scan_escape(s, quote, &legal);
			if (!legal)
				illegal = 1;
		} else {
			ch = next(s);
		}
	}
	return !illegal;
}

static void scan_while(struct scanner *s, int (*pred)(int))
{
	while (pred(peek(s)))
		next(s);
}

static struct token scan(struct scanner *s)
{
	int ch = next(s);
	size_t pos = s->pos;

	while (ch >= 0 && is_space(ch)) {
		ch = next(s);
		pos = s->pos;
	}
	if (ch == TOK_EOF || ch == TOK_ILLEGAL)
		return (struct token){s->pos, ch, 0, 0};
	if (is_quote_rune(ch)) {
		int ok = scan_quoted(s, ch);
		return (struct token){pos, ok ? TOK_QUOTED : TOK_ILLEGAL, pos, s->ppos};
	}
	if (is_separator_rune(ch)) {
		s->value = 0;
		return (struct token){pos, TOK_SEP, pos, s->ppos};
	}
	if (is_operator_rune(ch)) {
		scan_while(s, is_operator_rune);
		s->value = 1;
		return (struct token){pos, TOK_OP, pos, s->ppos};
	}
	if (s->value) {
		scan_while(s, is_value_rune);
		s->value = 0;
		return (struct token){pos, TOK_VALUE, pos, s->ppos};
	}
	if (is_field_rune(ch)) {
		scan_while(s, is_field_rune);
		return (struct token){pos, TOK_FIELD, pos, s->ppos};
	}
	return (struct token){s->pos, ch, 0, 0};
}

/* ---- unquoting (quote.go) ---- */

static size_t encode_rune(int32_t r, char *out)
{
	if (r >= 0xD800 && r <= 0xDFFF)
		r = 0xFFFD;
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xC0 | r >> 6), out[1] = (char)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xE0 | r >> 12), out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		out[2] = (char)(0x80 | (r & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | r >> 18), out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((r >> 6) & 0x3F)), out[3] = (char)(0x80 | (r & 0x3F));
	return 4;
}

/* One (possibly escaped) character of s[0..n) into out; returns bytes consumed, 0 on error. */
static size_t unquote_char(const char *s, size_t n, char quote, char *out, size_t *outn)
{
	static const char esc[] = "abfnrtv", val[] = "\a\b\f\n\r\t\v";
	unsigned char c = (unsigned char)s[0];

	if (c == (unsigned char)quote)
		return 0;
	if (c != '\\') {
		out[0] = (char)c, *outn = 1;
		return 1;
	}
	if (n < 2)
		return 0;
	c = (unsigned char)s[1];
	const char *e = c ? strchr(esc, c) : NULL;
	if (e) {
		out[0] = val[e - esc], *outn = 1;
		return 2;
	}
	if (c == 'x' || c == 'u' || c == 'U') {
		size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
		uint32_t v = 0; /* \U has 8 digits: up to 0xFFFFFFFF */
		if (n < 2 + digits)
			return 0;
		for (size_t j = 0; j < digits; j++) {
			int d = ctrbox_hex_digit((unsigned char)s[2 + j]);
			if (d < 0)
				return 0;
			v = v << 4 | (uint32_t)d;
		}
		if (c == 'x') {
			out[0] = (char)v, *outn = 1;
		} else {
			if (v > 0x10FFFF)
				return 0;
			*outn = encode_rune((int32_t)v, out);
		}
		return 2 + digits;
	}
	if (c >= '0' && c <= '7') {
		int v = c - '0';
		if (n < 4)
			return 0;
		for (int j = 2; j < 4; j++) {
			if (s[j] < '0' || s[j] > '7')
				return 0;
			v = v << 3 | (s[j] - '0');
		}
		if (v > 255)
			return 0;
		out[0] = (char)v, *outn = 1;
		return 4;
	}
	if (c == '\\' ||
	    ((c == '\'' || c == '"' || c == '|' || c == '/') && c == (unsigned char)quote)) {
		out[0] = (char)c, *outn = 1;
		return 2;
	}
	return 0;
}

/* s[0..n) including its quotes; returns malloc'd text or NULL (syntax error / ENOMEM). */
static char *unquote(const char *s, size_t n)
{
	if (n < 2 || s[0] != s[n - 1])
		return NULL;
	char quote = s[0];
	if (quote != '"' && quote != '\'' && quote != '|' && quote != '/')
		return NULL;
	s++, n -= 2;
	if (memchr(s, '\n', n))
		return NULL;
	char *out = malloc(n + 1), *p = out;
	if (!out)
		return NULL;
	while (n > 0) {
		size_t outn = 0, used = unquote_char(s, n, quote, p, &outn);
		if (!used) {
			free(out);
			return NULL;
		}
		s += used, n -= used, p += outn;
	}
	*p = '\0';
	return out;
}

/* ---- parser (parser.go) ---- */

struct parser {
	struct scanner sc;
	char *err; /* malloc'd "parse error: [...]: msg" */
};

__attribute__((format(printf, 3, 4))) static int mkerr(struct parser *p, size_t pos,
						       const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	const char *in = p->sc.in, *m = msg ? msg : "out of memory";
	int len = (int)p->sc.len, at = (int)pos, r;
	free(p->err);
	if (pos < p->sc.len)
		r = asprintf(&p->err, "parse error: [%.*s >|%c|< %s]: %s", at, in, in[pos],
			     in + pos + 1, m);
	else
		r = asprintf(&p->err, "parse error: [%.*s]: %s", len, in, m);
	if (r < 0)
		p->err = NULL;
	free(msg);
	return -1;
}

static char *tok_text(const struct parser *p, const struct token *t)
{
	return strndup(p->sc.in + t->start, t->end - t->start);
}

static int parse_unquote(struct parser *p, const struct token *t, int allow_alts, char **out)
{
	char q = p->sc.in[t->start];

	if (!allow_alts && q != '\'' && q != '"')
		return mkerr(p, t->pos, "invalid quote encountered");
	*out = unquote(p->sc.in + t->start, t->end - t->start);
	if (!*out)
		return mkerr(p, t->pos, "unquoting failed: quote syntax error");
	return 0;
}

static int parse_field(struct parser *p, char **out)
{
	struct token t = scan(&p->sc);

	*out = NULL;
	if (t.tok == TOK_FIELD)
		return (*out = tok_text(p, &t)) ? 0 : mkerr(p, t.pos, "out of memory");
	if (t.tok == TOK_QUOTED)
		return parse_unquote(p, &t, 0, out);
	if (t.tok == TOK_ILLEGAL)
		return mkerr(p, t.pos, "%s", p->sc.err ? p->sc.err : "illegal token");
	return mkerr(p, t.pos, "expected field or quoted");
}

static int push_path(struct selector *sel, char *f)
{
	char **nv = realloc(sel->path, (sel->npath + 1) * sizeof(char *));

	if (!nv) {
		free(f);
		return -1;
	}
	sel->path = nv;
	sel->path[sel->npath++] = f;
	return 0;
}

static int parse_fieldpath(struct parser *p, struct selector *sel)
{
	char *f;

	if (parse_field(p, &f) < 0 || push_path(sel, f) < 0)
		return -1;
	while (peek(&p->sc) == '.') {
		struct token t = scan(&p->sc);
		if (t.tok != TOK_SEP)
			return mkerr(p, t.pos, "expected a field separator (`.`)");
		if (parse_field(p, &f) < 0 || push_path(sel, f) < 0)
			return -1;
	}
	return 0;
}

static int parse_operator(struct parser *p, enum op *op)
{
	struct token t = scan(&p->sc);

	if (t.tok == TOK_OP) {
		size_t n = t.end - t.start;
		const char *s = p->sc.in + t.start;
		if (n == 2 && memcmp(s, "==", 2) == 0)
			*op = OP_EQ;
		else if (n == 2 && memcmp(s, "!=", 2) == 0)
			*op = OP_NE;
		else if (n == 2 && memcmp(s, "~=", 2) == 0)
			*op = OP_MATCH;
		else
			return mkerr(p, t.pos, "unsupported operator \"%.*s\"", (int)n, s);
		return 0;
	}
	if (t.tok == TOK_ILLEGAL)
		return mkerr(p, t.pos, "%s", p->sc.err ? p->sc.err : "illegal token");
	return mkerr(p, t.pos, "expected an operator (\"==\"|\"!=\"|\"~=\")");
}

static int parse_value(struct parser *p, int allow_alts, char **out)
{
	struct token t = scan(&p->sc);

	*out = NULL;
	if (t.tok == TOK_VALUE || t.tok == TOK_FIELD)
		return (*out = tok_text(p, &t)) ? 0 : mkerr(p, t.pos, "out of memory");
	if (t.tok == TOK_QUOTED)
		return parse_unquote(p, &t, allow_alts, out);
	if (t.tok == TOK_ILLEGAL)
		return mkerr(p, t.pos, "%s", p->sc.err ? p->sc.err : "illegal token");
	return mkerr(p, t.pos, "expected value or quoted");
}

/* Upper bound of the syntax tree glibc builds for an ERE (its compile time grows faster than
 * linearly: ~50 ms at 1000 nodes, seconds at 4000); what a real filter needs is a few
 * hundred nodes ([0-9a-f]{64} is 64). */
#define RE_MAX_NODES 1000

static size_t re_cap(size_t a, size_t k)
{
	return k && a > (RE_MAX_NODES + 1) / k ? RE_MAX_NODES + 1 : a * k;
}

/* Reads a decimal repeat count; -1 if none. */
static long re_count(const char **pp)
{
	const char *p = *pp;
	long n = -1;
	while (*p >= '0' && *p <= '9') {
		n = (n < 0 ? 0 : n) * 10 + (*p++ - '0');
		if (n > 100000)
			n = 100000;
	}
	*pp = p;
	return n;
}

/* Estimated node count of p up to an unmatched ')' or the end (*pp is left there), capped at
 * RE_MAX_NODES + 1. Conservative: anything odd counts as a literal. */
static size_t re_size(const char **pp, int depth)
{
	const char *p = *pp;
	size_t total = 0, atom = 0;
	int rep = 0; /* since the last atom: 1 a repetition operator, 2 and its lazy '?' */

	if (depth > 1000)
		return RE_MAX_NODES + 1;
	while (*p && *p != ')' && total <= RE_MAX_NODES) {
		if (rep && (*p == '*' || *p == '+' || *p == '?' || *p == '{')) {
			if (rep == 2 || *p != '?') {
				atom = RE_MAX_NODES + 1; /* nested repetition */
				break;
			}
			rep = 2;
			atom += 1;
			p++;
			continue;
		}
		if (*p == '*' || *p == '?') { /* STAR / ALT node over the operand, no copy */
			atom += 1;
			rep = 1;
			p++;
			continue;
		}
		if (*p == '+') { /* the operand, then a starred copy of it */
			atom = re_cap(atom, 2) + 1;
			rep = 1;
			p++;
			continue;
		}
		if (*p == '{') {
			const char *q = p + 1;
			long lo = re_count(&q), hi = lo;
			if (*q == ',') {
				q++;
				hi = re_count(&q);
				if (hi < 0) /* {n,}: n copies and a starred one */
					hi = (lo < 0 ? 0 : lo) + 1;
			}
			if (*q == '}' && (lo >= 0 || hi >= 0)) {
				atom = re_cap(atom, (size_t)(hi > lo ? hi : lo)) + 1;
				rep = 1;
				p = q + 1;
				continue;
			}
		}
		total += atom; /* the previous atom is complete */
		rep = 0;
		if (*p == '(') {
			p++;
			atom = re_size(&p, depth + 1) + 1;
			if (atom > RE_MAX_NODES)
				break;
			if (*p == ')')
				p++;
		} else if (*p == '[') {
			const char *q = p + 1;
			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']') {
				if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.')) {
					char end = q[1];
					const char *e = q + 2;
					while (*e && !(e[0] == end && e[1] == ']'))
						e++;
					q = *e ? e + 2 : e;
				} else {
					q++;
				}
			}
			p = *q ? q + 1 : q;
			atom = 1;
		} else {
			if (*p == '\\' && p[1])
				p++;
			p++;
			atom = 1;
		}
	}
	*pp = p;
	total += atom;
	return total > RE_MAX_NODES ? RE_MAX_NODES + 1 : total;
}

static int re_small(const char *re)
{
	const char *p = re;
	size_t n = 0;
	while (n <= RE_MAX_NODES) {
		n += re_size(&p, 0);
		if (!*p)
			break;
		p++; /* an unmatched ')' is a literal in glibc's ERE */
	}
	return n <= RE_MAX_NODES;
}

static int parse_selector(struct parser *p, struct selector *sel)
{
	if (parse_fieldpath(p, sel) < 0)
		return -1;
	int ch = peek(&p->sc);
	if (ch == ',' || ch == TOK_SEP || ch == TOK_EOF) {
		sel->op = OP_PRESENT;
		return 0;
	}
	if (parse_operator(p, &sel->op) < 0 || parse_value(p, sel->op == OP_MATCH, &sel->value) < 0)
		return -1;
	if (sel->op == OP_MATCH)
		sel->re_ok = re_small(sel->value) &&
			     regcomp(&sel->re, sel->value, REG_EXTENDED | REG_NOSUB) == 0;
	return 0;
}

static void selector_free(struct selector *sel)
{
	for (size_t i = 0; i < sel->npath; i++)
		free(sel->path[i]);
	free(sel->path);
	free(sel->value);
	if (sel->re_ok)
		regfree(&sel->re);
}

static void conj_free(struct conj *c)
{
	for (size_t i = 0; i < c->n; i++)
		selector_free(&c->v[i]);
	free(c->v);
}

static int add_selector(struct parser *p, struct conj *c)
{
	struct selector *nv = realloc(c->v, (c->n + 1) * sizeof(*c->v));

	if (!nv)
		return mkerr(p, p->sc.pos, "out of memory");
	c->v = nv;
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	c->n++; /* counted before parsing so that a failure frees what was parsed */
	return parse_selector(p, &c->v[c->n - 1]);
}

static int parse_selectors(struct parser *p, struct conj *c)
{
	if (add_selector(p, c) < 0)
		return -1;
	for (;;) {
		int ch = peek(&p->sc);
		if (ch == TOK_EOF)
			return 0;
		if (ch != ',') {
			char buf[8] = "\xEF\xBF\xBD"; /* Go's string(rune) of a negative token */
			if (ch >= 0)
				buf[encode_rune(ch, buf)] = '\0';
			return mkerr(p, p->sc.ppos, "unexpected input: %s", buf);
		}
		struct token t = scan(&p->sc);
		if (t.tok != TOK_SEP)
			return mkerr(p, t.pos, "expected a separator");
		if (add_selector(p, c) < 0)
			return -1;
	}
}

/* Parses one non-empty filter string into c; on error *err is containerd's message. */
static int parse_one(const char *s, struct conj *c, char **err)
{
	struct parser p = {.sc = {.in = s, .len = strlen(s)}};

	memset(c, 0, sizeof(*c));
	if (parse_selectors(&p, c) == 0)
		return 0;
	conj_free(c);
	memset(c, 0, sizeof(*c));
	if (asprintf(err, "filters: %s: invalid argument", p.err ? p.err : "parse error") < 0)
		*err = NULL;
	free(p.err);
	return 3;
}

int ctrbox_snapshot_filter_parse(const char *const *filters, size_t n,
				 struct ctrbox_snapshot_filter **out, char **err)
{
	struct ctrbox_snapshot_filter *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f || (n && !(f->v = calloc(n, sizeof(*f->v))))) {
		free(f);
		if (err)
			*err = strdup("out of memory");
		return 13;
	}
	for (size_t i = 0; i < n; i++) {
		f->n = i + 1;
		if (!filters[i] || !*filters[i]) /* Parse("") is Always: an empty conjunction */
			continue;
		char *e = NULL;
		if (parse_one(filters[i], &f->v[i], &e)) {
			ctrbox_snapshot_filter_free(f);
			if (err) {
				free(*err);
				*err = e;
			} else {
				free(e);
			}
			return 3;
		}
	}
	*out = f;
	return 0;
}

void ctrbox_snapshot_filter_free(struct ctrbox_snapshot_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		conj_free(&f->v[i]);
	free(f->v);
	free(f);
}

/* ---- matching ---- */

static const char *kind_name(enum ctrbox_snapshot_kind k)
{
	switch (k) {
	case CTRBOX_SNAPSHOT_ACTIVE:
		return "active";
	case CTRBOX_SNAPSHOT_VIEW:
		return "view";
	case CTRBOX_SNAPSHOT_COMMITTED:
		return "committed";
	default:
		return NULL;
	}
}

/* labels.<a>.<b> names the label "a.b". */
static const char *label_value(const struct ctrbox_snapshot_info *info, char *const *path, size_t n)
{
	for (size_t i = info->nlabels; i-- > 0;) {
		const char *k = info->labels[i].key;
		size_t j = 0;
		for (; j < n; j++) {
			size_t len = strlen(path[j]);
			if (j > 0 && *k++ != '.')
				break;
			if (strncmp(k, path[j], len) != 0)
				break;
			k += len;
		}
		if (j == n && *k == '\0')
			return info->labels[i].value;
	}
	return NULL;
}

/* adaptSnapshot: the value of a field path, NULL when not present. */
static const char *field_value(const struct ctrbox_snapshot_info *info, char *const *path, size_t n)
{
	if (n == 0)
		return NULL;
	if (strcmp(path[0], "kind") == 0)
		return kind_name(info->kind);
	if (strcmp(path[0], "name") == 0)
		return info->name ? info->name : "";
	if (strcmp(path[0], "parent") == 0)
		return info->parent ? info->parent : "";
	if (strcmp(path[0], "labels") == 0)
		return info->nlabels ? label_value(info, path + 1, n - 1) : NULL;
	return NULL;
}

static int selector_match(const struct selector *sel, const struct ctrbox_snapshot_info *info)
{
	const char *v = field_value(info, sel->path, sel->npath);

	switch (sel->op) {
	case OP_PRESENT:
		return v != NULL;
	case OP_EQ:
		return v && strcmp(v, sel->value) == 0;
	case OP_NE:
		return strcmp(v ? v : "", sel->value) != 0;
	case OP_MATCH:
		return sel->re_ok && regexec(&sel->re, v ? v : "", 0, NULL, 0) == 0;
	}
	return 0;
}

int ctrbox_snapshot_filter_match(const struct ctrbox_snapshot_filter *f,
				 const struct ctrbox_snapshot_info *info)
{
	if (!f || f->n == 0)
		return 1;
	for (size_t i = 0; i < f->n; i++) {
		size_t j = 0;
		while (j < f->v[i].n && selector_match(&f->v[i].v[j], info))
			j++;
		if (j == f->v[i].n)
			return 1;
	}
	return 0;
}
