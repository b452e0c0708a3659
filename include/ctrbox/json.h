/* JSON reading on jsmn tokens (validated first, typed getters, Go-compatible unescaping) and
 * Go encoding/json-compatible string quoting. */
#ifndef CTRBOX_JSON_H
#define CTRBOX_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A token's kind (the values are jsmn's, which tokenizes inside libctrbox). */
enum ctrbox_json_type {
	CTRBOX_JSON_UNDEFINED = 0,
	CTRBOX_JSON_OBJECT = 1,
	CTRBOX_JSON_ARRAY = 2,
	CTRBOX_JSON_STRING = 3,
	CTRBOX_JSON_PRIMITIVE = 4 /* number, true, false, null */
};

/* One token: buf[start, end) is its text (a string's without the quotes, undecoded); size is an
 * object's member count, an array's element count, 1 for a key. */
struct ctrbox_json_tok {
	enum ctrbox_json_type type;
	int start;
	int end;
	int size;
};

/* More tokens than this is an attack or a bug, not a container spec. */
#define CTRBOX_JSON_MAX_TOKENS (1 << 20)

/* A parsed document. buf is borrowed and must outlive the struct; token 0 is the top value.
 * A zeroed struct is a valid empty one (ctrbox_json_free on it is a no-op). */
struct ctrbox_json {
	const char *buf;
	size_t len;
	struct ctrbox_json_tok *toks; /* ntoks of them, in document order */
	int ntoks;
};

/* Validates buf as one JSON value (RFC 8259, surrounding whitespace allowed) and tokenizes it.
 * -EINVAL on bad JSON (j is left empty), -E2BIG over CTRBOX_JSON_MAX_TOKENS or 2 GiB, -ENOMEM. */
int ctrbox_json_parse(struct ctrbox_json *j, const char *buf, size_t len);
void ctrbox_json_free(struct ctrbox_json *j);

/* Every lookup takes a token index and returns one, or -1; a -1 passed in gives -1 back, so
 * lookups chain: ctrbox_json_get(j, ctrbox_json_get(j, 0, "annotations"),
 * "io.containerd.runc.v2.group"). Keys are compared unescaped; with duplicate keys the last one
 * wins, as in Go. */
int ctrbox_json_get(const struct ctrbox_json *j, int obj, const char *key);
/* The token after tok's whole subtree (may be j->ntoks). */
int ctrbox_json_skip(const struct ctrbox_json *j, int tok);
/* Object iteration: key = -1 starts; returns the next key token (its value is key + 1), -1 at
 * the end. for (int k = -1; (k = ctrbox_json_object_next(j, obj, k)) >= 0;) ... */
int ctrbox_json_object_next(const struct ctrbox_json *j, int obj, int key);
/* Element count of an array (-1 if tok is not an array), and the i-th element. */
int ctrbox_json_array_len(const struct ctrbox_json *j, int tok);
int ctrbox_json_array_at(const struct ctrbox_json *j, int arr, int i);

/* Is tok a string, an object, an array, the literal null? (false for -1) */
bool ctrbox_json_is_string(const struct ctrbox_json *j, int tok);
bool ctrbox_json_is_object(const struct ctrbox_json *j, int tok);
bool ctrbox_json_is_array(const struct ctrbox_json *j, int tok);
bool ctrbox_json_is_null(const struct ctrbox_json *j, int tok);
/* Is tok a string equal to s once unescaped? */
bool ctrbox_json_streq(const struct ctrbox_json *j, int tok, const char *s);

/* The unescaped string (malloc'd, UTF-8; lone surrogates become U+FFFD like Go). NULL with
 * errno EINVAL if tok is not a string or decodes to an embedded NUL, ENOMEM. */
char *ctrbox_json_strdup(const struct ctrbox_json *j, int tok);
/* An integer number (no fraction or exponent, like Go's int): -EINVAL, -ERANGE. */
int ctrbox_json_int64(const struct ctrbox_json *j, int tok, int64_t *out);
int ctrbox_json_bool(const struct ctrbox_json *j, int tok, bool *out);

/* s as a quoted JSON string exactly as Go's json.Marshal writes it (HTML-safe: < > & as
 * \u003c \u003e \u0026; \u2028 \u2029; invalid UTF-8 as \ufffd). malloc'd; NULL on ENOMEM. */
char *ctrbox_json_quote(const char *s);

#ifdef __cplusplus
}
#endif

#endif
