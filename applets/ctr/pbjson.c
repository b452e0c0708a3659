/* ctrbox-ctr output helpers: Go-style JSON of protobuf-c messages, JSON re-indentation, Go's
 * tabwriter, Go time formats, logrus-style log lines. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctr/pbjson.h"
#include <ctrbox/base64.h>
#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include <ctrbox/pbtext.h>
#include <ctrbox/rpc.h>

/* ---- growing string ---- */

void jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void jb_puts(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

void jb_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	jb_put(b, s, (size_t)n);
	free(s);
}

const char *jb_str(struct jbuf *b)
{
	return b->s ? b->s : "";
}

void jb_free(struct jbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* ---- times ---- */

char *go_time_rfc3339(int64_t sec, int32_t nsec)
{
	char *out = NULL, frac[16] = "";
	time_t t = (time_t)sec;
	struct tm tm;
	/* Go writes four-digit years: the zero time (year 1) is "0001-01-01T00:00:00Z" */
	gmtime_r(&t, &tm);
	if (nsec) {
		/* RFC3339Nano: trailing zeros trimmed */
		snprintf(frac, sizeof(frac), ".%09d", nsec);
		for (int i = 9; i > 1 && frac[i] == '0'; i--)
			frac[i] = 0;
	}
	if (asprintf(&out, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac) < 0)
		return NULL;
	return out;
}

char *go_time_string(int64_t sec, int32_t nsec)
{
	char buf[64], frac[16] = "", *out = NULL;
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (nsec) {
		snprintf(frac, sizeof(frac), ".%09d", nsec);
		for (int i = 9; i > 1 && frac[i] == '0'; i--)
			frac[i] = 0;
	}
	if (asprintf(&out, "%s%s +0000 UTC", buf, frac) < 0)
		return NULL;
	return out;
}

/* ---- protobuf-c -> JSON ---- */

/* Standard base64 with padding, as a JSON string (Go's []byte). */
static void put_base64(struct ctrbox_jsonw *w, const uint8_t *p, size_t n)
{
	size_t k;
	char *o = ctrbox_base64_encode(p, n, &k);

	if (!o) {
		ctrbox_jsonw_fail(w, -ENOMEM);
		return;
	}
	ctrbox_jsonw_stringn(w, o, k);
	free(o);
}

static int is_timestamp(const ProtobufCMessageDescriptor *d)
{
	return d && !strcmp(d->name, "google.protobuf.Timestamp");
}

static int is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t n = strlen(d->short_name);
	return d->n_fields == 2 && n > 5 && !strcmp(d->short_name + n - 5, "Entry") &&
	       !strcmp(d->fields[0].name, "key") && !strcmp(d->fields[1].name, "value");
}

/* Is the value at p (one element of field f) Go's empty value for omitempty? */
static int scalar_empty(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return *(const uint32_t *)p == 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)p == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		return !m && !is_timestamp(f->descriptor);
	}
	}
	return 1;
}

/* The Timestamp message m (NULL: Go's zero time) as an RFC3339Nano string. */
static void put_timestamp(struct ctrbox_jsonw *w, const ProtobufCMessageDescriptor *d,
			  const ProtobufCMessage *m)
{
	int64_t sec = -62135596800LL;
	int32_t nsec = 0;
	if (m) {
		sec = *(const int64_t *)((const char *)m + d->fields[0].offset);
		nsec = *(const int32_t *)((const char *)m + d->fields[1].offset);
	}
	char *t = go_time_rfc3339(sec, nsec);
	if (!t)
		ctrbox_jsonw_fail(w, -ENOMEM);
	ctrbox_jsonw_string(w, t);
	free(t);
}

static void value(struct ctrbox_jsonw *w, const ProtobufCFieldDescriptor *f, const void *p)
{
	char num[32]; /* %.17g is at most 24 bytes */
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		ctrbox_jsonw_int(w, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		ctrbox_jsonw_uint(w, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		ctrbox_jsonw_int(w, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		ctrbox_jsonw_uint(w, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		ctrbox_jsonw_raw(
		    w, num, (size_t)snprintf(num, sizeof(num), "%.7g", (double)*(const float *)p));
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		ctrbox_jsonw_raw(w, num,
				 (size_t)snprintf(num, sizeof(num), "%.17g", *(const double *)p));
		break;
	case PROTOBUF_C_TYPE_BOOL:
		ctrbox_jsonw_bool(w, *(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		ctrbox_jsonw_string(w, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *d = p;
		put_base64(w, d->data, d->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (is_timestamp(f->descriptor))
			put_timestamp(w, f->descriptor, m);
		else if (m)
			pbjson_write_message(w, m);
		else
			ctrbox_jsonw_null(w);
		break;
	}
	}
}

struct kv {
	const char *key;
	const ProtobufCMessage *entry;
};

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static void map_value(struct ctrbox_jsonw *w, const ProtobufCFieldDescriptor *f, const void *arr,
		      size_t n)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	struct kv *kvs = calloc(n, sizeof(*kvs));
	if (!kvs) {
		ctrbox_jsonw_fail(w, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *e = ((const ProtobufCMessage *const *)arr)[i];
		const char *k = *(char *const *)((const char *)e + ed->fields[0].offset);
		kvs[i] = (struct kv){k ? k : "", e};
	}
	if (n)
		qsort(kvs, n, sizeof(*kvs), kv_cmp);
	ctrbox_jsonw_object_begin(w);
	for (size_t i = 0; i < n; i++) {
		ctrbox_jsonw_key(w, kvs[i].key);
		value(w, &ed->fields[1], (const char *)kvs[i].entry + ed->fields[1].offset);
	}
	ctrbox_jsonw_object_end(w);
	free(kvs);
}

static void repeated_value(struct ctrbox_jsonw *w, const ProtobufCFieldDescriptor *f,
			   const void *arr, size_t n)
{
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor)) {
		map_value(w, f, arr, n);
		return;
	}
	size_t es = ctrbox_pbtext_value_size(f);
	ctrbox_jsonw_array_begin(w);
	for (size_t k = 0; k < n; k++)
		value(w, f, (const char *)arr + k * es);
	ctrbox_jsonw_array_end(w);
}

void pbjson_write_message(struct ctrbox_jsonw *w, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	ctrbox_jsonw_object_begin(w);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			if (!n)
				continue;
			ctrbox_jsonw_key(w, f->name);
			repeated_value(w, f, *(void *const *)(base + f->offset), n);
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING &&
		    !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (scalar_empty(f, base + f->offset))
			continue;
		ctrbox_jsonw_key(w, f->name);
		value(w, f, base + f->offset);
	}
	ctrbox_jsonw_object_end(w);
}

/* The writer's text appended to b; an error of the writer makes b out of memory. */
static void append_doc(struct jbuf *b, struct ctrbox_jsonw *w)
{
	char *s;
	size_t n;
	if (ctrbox_jsonw_finish(w, &s, &n)) {
		b->oom = 1;
		return;
	}
	jb_put(b, s, n);
	free(s);
}

void pbjson_message(struct jbuf *b, const ProtobufCMessage *m, const char *indent, int level)
{
	struct ctrbox_jsonw w;
	ctrbox_jsonw_init(&w, indent, (unsigned)level);
	pbjson_write_message(&w, m);
	append_doc(b, &w);
}

/* ---- JSON re-indentation ---- */

/* ctrbox_json_strdup's failure: out of memory, or a string with \u0000 (not text) */
static int strdup_err(void)
{
	return errno == ENOMEM ? -ENOMEM : -EINVAL;
}

static void rewrite(struct ctrbox_jsonw *w, const struct ctrbox_json *j, int tok)
{
	const struct ctrbox_json_tok *t = &j->toks[tok];
	char *s;
	switch (t->type) {
	case CTRBOX_JSON_OBJECT:
		ctrbox_jsonw_object_begin(w);
		for (int k = -1; (k = ctrbox_json_object_next(j, tok, k)) >= 0;) {
			if (!(s = ctrbox_json_strdup(j, k)))
				ctrbox_jsonw_fail(w, strdup_err());
			ctrbox_jsonw_key(w, s);
			free(s);
			rewrite(w, j, k + 1);
		}
		ctrbox_jsonw_object_end(w);
		break;
	case CTRBOX_JSON_ARRAY: {
		int n = ctrbox_json_array_len(j, tok);
		ctrbox_jsonw_array_begin(w);
		for (int i = 0; i < n; i++)
			rewrite(w, j, ctrbox_json_array_at(j, tok, i));
		ctrbox_jsonw_array_end(w);
		break;
	}
	case CTRBOX_JSON_STRING:
		if (!(s = ctrbox_json_strdup(j, tok)))
			ctrbox_jsonw_fail(w, strdup_err());
		ctrbox_jsonw_string(w, s);
		free(s);
		break;
	default:
		ctrbox_jsonw_raw(w, j->buf + t->start, (size_t)(t->end - t->start));
	}
}

int pbjson_write_json(struct ctrbox_jsonw *w, const char *text, size_t len)
{
	struct ctrbox_json j = {0};
	if (ctrbox_json_parse(&j, text, len)) {
		ctrbox_jsonw_fail(w, -EINVAL);
		return -1;
	}
	rewrite(w, &j, 0);
	ctrbox_json_free(&j);
	return ctrbox_jsonw_error(w) ? -1 : 0;
}

int pbjson_reindent(struct jbuf *b, const char *text, size_t len, const char *indent, int level)
{
	struct ctrbox_jsonw w;
	ctrbox_jsonw_init(&w, indent, (unsigned)level);
	if (pbjson_write_json(&w, text, len)) {
		ctrbox_jsonw_free(&w);
		return -1;
	}
	append_doc(b, &w);
	return 0;
}

/* ---- Go's text/tabwriter ---- */

struct gotabw {
	FILE *out;
	int minwidth, padding;
	struct jbuf text;
};

struct tw_cell {
	const char *s;
	size_t len, width;
};

struct tw_line {
	struct tw_cell *cells;
	size_t n;
};

struct tw_state {
	FILE *out;
	int minwidth, padding;
	struct tw_line *lines;
	size_t nlines;
	size_t *widths;
	size_t nwidths;
};

struct gotabw *gotabw_new(FILE *out, int minwidth, int padding)
{
	struct gotabw *t = calloc(1, sizeof(*t));
	if (t) {
		t->out = out;
		t->minwidth = minwidth;
		t->padding = padding;
	}
	return t;
}

void gotabw_vprintf(struct gotabw *t, const char *fmt, va_list ap)
{
	char *s = NULL;
	if (!t)
		return;
	int n = vasprintf(&s, fmt, ap);
	if (n < 0)
		return;
	jb_put(&t->text, s, (size_t)n);
	free(s);
}

void gotabw_printf(struct gotabw *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gotabw_vprintf(t, fmt, ap);
	va_end(ap);
}

static size_t runes(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

static void tw_write_lines(struct tw_state *st, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const struct tw_line *l = &st->lines[i];
		for (size_t j = 0; j < l->n; j++) {
			const struct tw_cell *c = &l->cells[j];
			fwrite(c->s, 1, c->len, st->out);
			if (j < st->nwidths)
				for (size_t k = c->width; k < st->widths[j]; k++)
					fputc(' ', st->out);
		}
		if (i + 1 < st->nlines)
			fputc('\n', st->out);
	}
}

static void tw_format(struct tw_state *st, size_t line0, size_t line1)
{
	size_t column = st->nwidths;
	for (size_t cur = line0; cur < line1; cur++) {
		if (column + 1 >= st->lines[cur].n)
			continue;
		tw_write_lines(st, line0, cur);
		line0 = cur;
		size_t width = (size_t)st->minwidth;
		for (; cur < line1; cur++) {
			const struct tw_line *l = &st->lines[cur];
			if (column + 1 >= l->n)
				break;
			size_t w = l->cells[column].width + (size_t)st->padding;
			if (w > width)
				width = w;
		}
		st->widths[st->nwidths++] = width;
		tw_format(st, line0, cur);
		st->nwidths--;
		line0 = cur;
		if (cur >= line1)
			break;
	}
	tw_write_lines(st, line0, line1);
}

void gotabw_flush(struct gotabw *t)
{
	if (!t)
		return;
	const char *p = jb_str(&t->text);
	struct tw_state st = {.out = t->out, .minwidth = t->minwidth, .padding = t->padding};
	size_t maxcells = 1;
	/* lines: split on '\n'; the text after the last newline is the last (unfinished) line */
	size_t nl = 1;
	for (const char *q = p; *q; q++)
		nl += *q == '\n';
	st.lines = calloc(nl, sizeof(*st.lines));
	if (!st.lines)
		goto out;
	const char *l = p;
	for (size_t i = 0; i < nl; i++) {
		const char *e = strchr(l, '\n');
		size_t ll = e ? (size_t)(e - l) : strlen(l);
		size_t nc = 1;
		for (size_t k = 0; k < ll; k++)
			nc += l[k] == '\t';
		struct tw_line *ln = &st.lines[i];
		ln->cells = calloc(nc, sizeof(*ln->cells));
		if (!ln->cells)
			goto out;
		size_t start = 0;
		for (size_t k = 0; k <= ll; k++) {
			if (k < ll && l[k] != '\t')
				continue;
			ln->cells[ln->n++] =
			    (struct tw_cell){l + start, k - start, runes(l + start, k - start)};
			start = k + 1;
		}
		if (nc > maxcells)
			maxcells = nc;
		st.nlines++;
		l = e ? e + 1 : l + ll;
	}
	st.widths = calloc(maxcells + 1, sizeof(*st.widths));
	if (!st.widths)
		goto out;
	tw_format(&st, 0, st.nlines);
out:
	fflush(t->out);
	for (size_t i = 0; st.lines && i < nl; i++)
		free(st.lines[i].cells);
	free(st.lines);
	free(st.widths);
	jb_free(&t->text);
	free(t);
}

/* ---- logrus ---- */

/* logrus quotes a value unless it is made only of [A-Za-z0-9-._/@^+]; %q style */
static void log_value(struct jbuf *b, const char *s)
{
	int plain = *s != 0;
	for (const char *p = s; *p && plain; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-._/@^+", c)))
			plain = 0;
	}
	if (plain) {
		jb_puts(b, s);
		return;
	}
	jb_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			jb_printf(b, "\\%c", *p);
		else if (*p == '\n')
			jb_puts(b, "\\n");
		else if (*p == '\t')
			jb_puts(b, "\\t");
		else if (*p == '\r')
			jb_puts(b, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			jb_printf(b, "\\x%02x", *p);
		else
			jb_put(b, (const char *)p, 1);
	}
	jb_put(b, "\"", 1);
}

void ctr_log(const char *level, const char *err, const char *fmt, ...)
{
	struct jbuf b = {0};
	char ts[64], *msg = NULL;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* Go writes Z for UTC and +hh:mm otherwise */
	size_t n = strlen(ts);
	if (n > 5 && !strcmp(ts + n - 5, "+0000"))
		strcpy(ts + n - 5, "Z");
	else if (n > 5) {
		memmove(ts + n - 1, ts + n - 2, 3);
		ts[n - 2] = ':';
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	jb_printf(&b, "time=\"%s\" level=%s msg=", ts, level);
	log_value(&b, msg ? msg : "");
	if (err) {
		jb_puts(&b, " error=");
		log_value(&b, err);
	}
	fprintf(stderr, "%s\n", jb_str(&b));
	free(msg);
	jb_free(&b);
}

/* ---- labels ---- */

void ctr_label_split(const char *arg, char **key, const char **val)
{
	const char *eq = strchr(arg, '=');
	if (eq) {
		*key = strndup(arg, (size_t)(eq - arg));
		*val = eq + 1;
	} else {
		*key = strdup(arg);
		*val = "true";
	}
}

/* ---- errdefs ---- */

char *ctr_errdefs(int code, const char *msg)
{
	const char *cls;
	char *out = NULL;
	switch (code) {
	case CTRBOX_INVALID_ARGUMENT:
		cls = "invalid argument";
		break;
	case CTRBOX_ALREADY_EXISTS:
		cls = "already exists";
		break;
	case CTRBOX_NOT_FOUND:
		cls = "not found";
		break;
	case CTRBOX_UNAVAILABLE:
		cls = "unavailable";
		break;
	case CTRBOX_FAILED_PRECONDITION:
		cls = "failed precondition";
		break;
	case CTRBOX_UNIMPLEMENTED:
		cls = "not implemented";
		break;
	case CTRBOX_CANCELED:
		cls = "context canceled";
		break;
	case CTRBOX_DEADLINE_EXCEEDED:
		cls = "context deadline exceeded";
		break;
	default:
		cls = "unknown";
	}
	const char *desc = msg ? msg : "";
	size_t dl = strlen(desc), cl = strlen(cls);
	if (!strcmp(desc, cls))
		return strdup(cls);
	if (dl >= cl + 2 && !strcmp(desc + dl - cl, cls) && !strncmp(desc + dl - cl - 2, ": ", 2))
		dl -= cl + 2;
	if (!dl)
		return strdup(cls);
	if (asprintf(&out, "%.*s: %s", (int)dl, desc, cls) < 0)
		return NULL;
	return out;
}

const char *ctr_errtext(int code, const char *msg)
{
	static char *last;
	free(last);
	last = ctr_errdefs(code, msg);
	return last ? last : ctrbox_code_name(code);
}

const char *ctr_go_code(int32_t code, char buf[32])
{
	static const char *const names[] = {"OK",
					    "Canceled",
					    "Unknown",
					    "InvalidArgument",
					    "DeadlineExceeded",
					    "NotFound",
					    "AlreadyExists",
					    "PermissionDenied",
					    "ResourceExhausted",
					    "FailedPrecondition",
					    "Aborted",
					    "OutOfRange",
					    "Unimplemented",
					    "Internal",
					    "Unavailable",
					    "DataLoss",
					    "Unauthenticated"};
	if (code >= 0 && code <= 16)
		return names[code];
	snprintf(buf, 32, "Code(%d)", code);
	return buf;
}

int ctr_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
