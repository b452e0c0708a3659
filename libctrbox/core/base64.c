/* Base64: Go's base64.StdEncoding both ways, RawURLEncoding to encode. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/base64.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The one encoder: abc is the alphabet; pad: '=' up to a multiple of 4, else nothing. */
static char *encode(const char *abc, int pad, const void *p, size_t n, size_t *len)
{
	const uint8_t *b = p;
	char *o = malloc((n + 2) / 3 * 4 + 1);
	size_t k = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)b[i + 1] << 8;
		if (i + 2 < n)
			v |= b[i + 2];
		o[k++] = abc[(v >> 18) & 63];
		o[k++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			o[k++] = abc[(v >> 6) & 63];
		else if (pad)
			o[k++] = '=';
		if (i + 2 < n)
			o[k++] = abc[v & 63];
		else if (pad)
			o[k++] = '=';
	}
	o[k] = 0;
	if (len)
		*len = k;
	return o;
}

char *ctrbox_base64_encode(const void *p, size_t n, size_t *len)
{
	return encode(alphabet, 1, p, n, len);
}

char *ctrbox_base64url_encode(const void *p, size_t n, size_t *len)
{
	return encode(url_alphabet, 0, p, n, len);
}

static int value_of(char ch)
{
	const char *p = ch ? strchr(alphabet, ch) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* One quantum of 4 symbols (q) into o; the count of bytes (1..3), or -1. */
static int quantum(const char q[4], uint8_t *o)
{
	int v[4], pad = 0;
	for (int i = 0; i < 4; i++) {
		if (q[i] == '=' && i >= 2) {
			pad++;
			v[i] = 0;
		} else if (pad || (v[i] = value_of(q[i])) < 0) {
			return -1; /* data after '=' or outside the alphabet */
		}
	}
	uint32_t x =
	    (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
	o[0] = (uint8_t)(x >> 16);
	o[1] = (uint8_t)(x >> 8);
	o[2] = (uint8_t)x;
	return 3 - pad;
}

int ctrbox_base64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t *o = malloc(len / 4 * 3 + 4);
	size_t k = 0, nq = 0;
	char q[4];
	int last = 3;

	*out = NULL;
	*outlen = 0;
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (last < 3) /* a padded quantum must be the last */
			goto bad;
		q[nq++] = s[i];
		if (nq < 4)
			continue;
		nq = 0;
		if ((last = quantum(q, o + k)) < 0)
			goto bad;
		k += (size_t)last;
	}
	if (nq)
		goto bad;
	o[k] = 0;
	*out = o;
	*outlen = k;
	return 0;
bad:
	free(o);
	return -EINVAL;
}
