/* ctrbox-ctr output helpers shared by the inspection commands: protobuf-c messages rendered as
 * Go's encoding/json renders containerd's gogo structs, JSON re-indentation as
 * json.MarshalIndent, Go's text/tabwriter with any minwidth/padding, Go time formats and
 * logrus-style log lines, errdefs texts. Pure formatting: nothing here calls
 * containerd (util.c, the calls and flags, is built on this file, not the other way). */
#ifndef CTRBOX_CTR_PBJSON_H
#define CTRBOX_CTR_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A growing string. */
struct jbuf {
	char *s;
	size_t len, cap;
	int oom;
};
void jb_put(struct jbuf *b, const char *s, size_t n);
void jb_puts(struct jbuf *b, const char *s);
void jb_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The NUL-terminated text (owned by b; "" when empty). */
const char *jb_str(struct jbuf *b);
void jb_free(struct jbuf *b);

/* m as encoding/json writes the gogo struct: fields in declaration order with their proto
 * names, zero scalars/empty strings/empty lists/nil messages left out (omitempty), maps as
 * objects with sorted keys, bytes in base64, Timestamps (stdtime) always present as RFC3339Nano
 * strings; one value of w. */
struct ctrbox_jsonw;
void pbjson_write_message(struct ctrbox_jsonw *w, const ProtobufCMessage *m);
/* Raw JSON text as one value of w, re-written by the writer's rules (strings re-quoted the Go
 * way, the writer's layout, as json.MarshalIndent). -1 if the text is not JSON or w failed
 * (w has the error). */
int pbjson_write_json(struct ctrbox_jsonw *w, const char *json, size_t len);
/* The same as a document of its own appended to b: indent NULL = compact; else
 * json.MarshalIndent's layout with this unit at depth level (the opening brace is not
 * indented). */
void pbjson_message(struct jbuf *b, const ProtobufCMessage *m, const char *indent, int level);
int pbjson_reindent(struct jbuf *b, const char *json, size_t len, const char *indent, int level);

/* Go's text/tabwriter (padchar ' ', no flags) with ctr's settings (minwidth, padding). */
struct gotabw;
struct gotabw *gotabw_new(FILE *out, int minwidth, int padding);
void gotabw_printf(struct gotabw *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gotabw_vprintf(struct gotabw *t, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Writes everything and frees t. */
void gotabw_flush(struct gotabw *t);

/* Go's time formats (ctr_time_rfc3339 in ctr.h is the same RFC 3339 formatter). */
/* time.Time.String() of a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC" (malloc'd). */
char *go_time_string(int64_t sec, int32_t nsec);
/* RFC3339Nano, with Go's zero time (sec 0 and nsec 0 given as NULL ts) handled (malloc'd). */
char *go_time_rfc3339(int64_t sec, int32_t nsec);

/* A logrus text line on stderr as ctr's log.G(ctx) prints it:
 * time="..." level=LEVEL msg="MSG" [error="ERR"] */
void ctr_log(const char *level, const char *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ObjectWithLabelArgs' label parsing: "k=v" -> k, v; "k" -> k, "true". */
void ctr_label_split(const char *arg, char **key, const char **val);

/* errdefs.FromGRPC's message: the status message with ": <class>" (not found, already exists,
 * invalid argument, failed precondition, unavailable, not implemented, unknown, ...) appended
 * unless already there. malloc'd. */
char *ctr_errdefs(int code, const char *msg);
/* ctr_errdefs kept in a buffer valid until the next call (ctrbox_code_name if out of memory). */
const char *ctr_errtext(int code, const char *msg);
/* Go's codes.Code.String(): "NotFound", ...; "Code(N)" (in buf) out of range. */
const char *ctr_go_code(int32_t code, char buf[32]);
/* qsort comparator of char * elements by strcmp. */
int ctr_cmp_str(const void *a, const void *b);
#endif
