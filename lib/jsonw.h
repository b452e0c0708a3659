/* A streaming JSON writer into a growing heap buffer: commas and (optionally) Go's
 * json.MarshalIndent layout are its business; strings are quoted as Go's encoding/json does. */
#ifndef CTRBOX_JSONW_H
#define CTRBOX_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields are private. A zeroed struct is a compact writer with nothing written yet.
 * Every call after an error is a no-op; jsonw_finish reports the first one. */
struct jsonw {
	char *buf;
	size_t len, cap;
	int err;	      /* sticky: -ENOMEM, or -EINVAL for calls that do not make JSON */
	const char *indent;   /* NULL: compact */
	unsigned level;	      /* extra indent units of every line after the first */
	unsigned char *stack; /* the open containers, '{' or '[' */
	size_t depth, stack_cap;
	bool empty; /* the innermost container has no member yet */
	bool key;   /* a key was written, its value comes next */
	bool done;  /* the top-level value is complete */
};

/* indent NULL: compact. Otherwise json.MarshalIndent's layout with this indent unit (borrowed):
 * each member and the closing bracket of a non-empty container on a line of its own, ": "
 * after keys, empty containers as {} and []. level > 0 is for a document placed at that depth
 * of an indented one: its lines get level more units (the first bracket none). */
void jsonw_init(struct jsonw *w, const char *indent, unsigned level);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* An object member's key (quoted like a string); the next call writes its value. */
void jsonw_key(struct jsonw *w, const char *key);

/* Values, in an array, after a key, or as the whole document. Strings are escaped exactly as
 * json_quote (lib/json.h) does; NULL is written as "". jsonw_stringn takes n bytes (NULs too). */
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_stringn(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* One value already encoded, copied as it is (not checked, but len 0 is -EINVAL; its layout is
 * the caller's). */
void jsonw_raw(struct jsonw *w, const char *json, size_t len);

/* Records err (a negative errno) unless an error is already there: a caller's own failure in
 * the middle of a document, reported by jsonw_finish like the writer's. */
void jsonw_fail(struct jsonw *w, int err);
/* The first error so far, 0 if none. */
int jsonw_error(const struct jsonw *w);

/* Ends the document: 0 with *out (malloc'd, NUL-terminated, now the caller's) and *len (may be
 * NULL), or the first error: -ENOMEM, -EINVAL when the calls did not make exactly one complete
 * value. Either way w's memory is released and w is zeroed. */
int jsonw_finish(struct jsonw *w, char **out, size_t *len);
/* Drops what was written (an early return). w is zeroed. */
void jsonw_free(struct jsonw *w);

#endif
