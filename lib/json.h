/* JSON reading on jsmn tokens (validated first, typed getters, Go-compatible unescaping) and
 * Go encoding/json-compatible string quoting. */
#ifndef CTRBOX_JSON_H
#define CTRBOX_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Types only here: lib/json.c is the one translation unit with jsmn's code (include jsmn
 * through this header only, or its functions would be defined twice). */
#define JSMN_HEADER
#include <jsmn.h>

/* More tokens than this is an attack or a bug, not a container spec. */
#define JSON_MAX_TOKENS (1 << 20)

/* A parsed document. buf is borrowed and must outlive the struct; token 0 is the top value.
 * A zeroed struct is a valid empty one (json_free on it is a no-op). */
struct json {
	const char *buf;
	size_t len;
	jsmntok_t *toks;
	int ntoks;
};

/* Validates buf as one JSON value (RFC 8259, surrounding whitespace allowed) and tokenizes it.
 * -EINVAL on bad JSON (j is left empty), -E2BIG over JSON_MAX_TOKENS or 2 GiB, -ENOMEM. */
int json_parse(struct json *j, const char *buf, size_t len);
void json_free(struct json *j);

/* Every lookup takes a token index and returns one, or -1; a -1 passed in gives -1 back, so
 * lookups chain: json_get(j, json_get(j, 0, "annotations"), "io.containerd.runc.v2.group").
 * Keys are compared unescaped; with duplicate keys the last one wins, as in Go. */
int json_get(const struct json *j, int obj, const char *key);
/* The token after tok's whole subtree (may be j->ntoks). */
int json_skip(const struct json *j, int tok);
/* Object iteration: key = -1 starts; returns the next key token (its value is key + 1), -1 at
 * the end. for (int k = -1; (k = json_object_next(j, obj, k)) >= 0;) ... */
int json_object_next(const struct json *j, int obj, int key);
/* Element count of an array (-1 if tok is not an array), and the i-th element. */
int json_array_len(const struct json *j, int tok);
int json_array_at(const struct json *j, int arr, int i);

bool json_is_string(const struct json *j, int tok);
bool json_is_object(const struct json *j, int tok);
bool json_is_array(const struct json *j, int tok);
bool json_is_null(const struct json *j, int tok);
/* Is tok a string equal to s once unescaped? */
bool json_streq(const struct json *j, int tok, const char *s);

/* The unescaped string (malloc'd, UTF-8; lone surrogates become U+FFFD like Go). NULL with
 * errno EINVAL if tok is not a string or decodes to an embedded NUL, ENOMEM. */
char *json_strdup(const struct json *j, int tok);
/* An integer number (no fraction or exponent, like Go's int): -EINVAL, -ERANGE. */
int json_int64(const struct json *j, int tok, int64_t *out);
int json_bool(const struct json *j, int tok, bool *out);

/* s as a quoted JSON string exactly as Go's json.Marshal writes it (HTML-safe: < > & as
 * \u003c \u003e \u0026; \u2028 \u2029; invalid UTF-8 as \ufffd). malloc'd; NULL on ENOMEM. */
char *json_quote(const char *s);

#endif
