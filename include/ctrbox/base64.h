/* ctrbox/base64.h: standard base64 (RFC 4648 alphabet "A-Za-z0-9+/", '=' padding), as Go's
 * encoding/base64.StdEncoding encodes and decodes it; and RawURLEncoding's encoder. */
#ifndef CTRBOX_BASE64_H
#define CTRBOX_BASE64_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Encodes n bytes of p (p may be NULL when n is 0) with padding. Returns the text, malloc'd and
 * NUL-terminated (the caller frees it), its length in *len (may be NULL); NULL on ENOMEM. */
char *ctrbox_base64_encode(const void *p, size_t n, size_t *len);
/* The same with the URL alphabet ("-_" for "+/") and no padding: Go's
 * base64.RawURLEncoding. */
char *ctrbox_base64url_encode(const void *p, size_t n, size_t *len);
/* Decodes len bytes of s as StdEncoding.DecodeString does: '\r' and '\n' are skipped, padding
 * is required, any other byte outside the alphabet or a misplaced '=' is an error. *out gets
 * the bytes (malloc'd, NUL-terminated for convenience, caller frees), *outlen their count.
 * Returns 0, -EINVAL (malformed input; *out NULL) or -ENOMEM. */
int ctrbox_base64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen);

#ifdef __cplusplus
}
#endif

#endif
