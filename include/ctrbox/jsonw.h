/* A streaming JSON writer into a growing heap buffer: commas and (optionally) Go's
 * json.MarshalIndent layout are its business; strings are quoted as Go's encoding/json does. */
#ifndef CTRBOX_JSONW_H
#define CTRBOX_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The fields are private. A zeroed struct is a compact writer with nothing written yet.
 * Every call after an error is a no-op; ctrbox_jsonw_finish reports the first one. */
struct ctrbox_jsonw {
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
void ctrbox_jsonw_init(struct ctrbox_jsonw *w, const char *indent, unsigned level);

/* Opens and closes an object or an array (as a value, like the calls below). */
void ctrbox_jsonw_object_begin(struct ctrbox_jsonw *w);
void ctrbox_jsonw_object_end(struct ctrbox_jsonw *w);
void ctrbox_jsonw_array_begin(struct ctrbox_jsonw *w);
void ctrbox_jsonw_array_end(struct ctrbox_jsonw *w);
/* An object member's key (quoted like a string); the next call writes its value. */
void ctrbox_jsonw_key(struct ctrbox_jsonw *w, const char *key);

/* Values, in an array, after a key, or as the whole document. Strings are escaped exactly as
 * ctrbox_json_quote (lib/json.h) does; NULL is written as "". ctrbox_jsonw_stringn takes n bytes
 * (NULs too). */
void ctrbox_jsonw_string(struct ctrbox_jsonw *w, const char *s);
void ctrbox_jsonw_stringn(struct ctrbox_jsonw *w, const char *s, size_t n);
void ctrbox_jsonw_int(struct ctrbox_jsonw *w, int64_t v);
void ctrbox_jsonw_uint(struct ctrbox_jsonw *w, uint64_t v);
void ctrbox_jsonw_bool(struct ctrbox_jsonw *w, bool v);
void ctrbox_jsonw_null(struct ctrbox_jsonw *w);
/* One value already encoded, copied as it is (not checked, but len 0 is -EINVAL; its layout is
 * the caller's). */
void ctrbox_jsonw_raw(struct ctrbox_jsonw *w, const char *json, size_t len);

/* Records err (a negative errno) unless an error is already there: a caller's own failure in
 * the middle of a document, reported by ctrbox_jsonw_finish like the writer's. */
void ctrbox_jsonw_fail(struct ctrbox_jsonw *w, int err);
/* The first error so far, 0 if none. */
int ctrbox_jsonw_error(const struct ctrbox_jsonw *w);

/* Ends the document: 0 with *out (malloc'd, NUL-terminated, now the caller's) and *len (may be
 * NULL), or the first error: -ENOMEM, -EINVAL when the calls did not make exactly one complete
 * value. Either way w's memory is released and w is zeroed. */
int ctrbox_jsonw_finish(struct ctrbox_jsonw *w, char **out, size_t *len);
/* Drops what was written (an early return). w is zeroed. */
void ctrbox_jsonw_free(struct ctrbox_jsonw *w);

#ifdef __cplusplus
}
#endif

#endif
