/* ctrbox/base64.h: Go's base64.StdEncoding (RFC 4648 test vectors, padding, errors). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/base64.h>

#include "unit.h"

static int enc_is(const char *in, const char *want)
{
	size_t n = 0;
	char *o = ctrbox_base64_encode(in, strlen(in), &n);
	int ok = o && n == strlen(want) && !strcmp(o, want);
	free(o);
	return ok;
}

static int dec_is(const char *in, const char *want)
{
	uint8_t *o = NULL;
	size_t n = 0;
	int ok = !ctrbox_base64_decode(in, strlen(in), &o, &n) && n == strlen(want) &&
		 !memcmp(o, want, n);
	free(o);
	return ok;
}

static int dec_fails(const char *in)
{
	uint8_t *o = (uint8_t *)"x";
	size_t n = 7;
	int rc = ctrbox_base64_decode(in, strlen(in), &o, &n);
	return rc == -EINVAL && o == NULL && n == 0;
}

UNIT_TEST(test_base64_encode)
{
	CHECK(enc_is("", ""));
	CHECK(enc_is("f", "Zg=="));
	CHECK(enc_is("fo", "Zm8="));
	CHECK(enc_is("foo", "Zm9v"));
	CHECK(enc_is("foob", "Zm9vYg=="));
	CHECK(enc_is("fooba", "Zm9vYmE="));
	CHECK(enc_is("foobar", "Zm9vYmFy"));
	const uint8_t hi[] = {0xfb, 0xff, 0xbf};
	char *o = ctrbox_base64_encode(hi, 3, NULL);
	CHECK(o && !strcmp(o, "+/+/"));
	free(o);
}

UNIT_TEST(test_base64_decode)
{
	CHECK(dec_is("", ""));
	CHECK(dec_is("Zg==", "f"));
	CHECK(dec_is("Zm8=", "fo"));
	CHECK(dec_is("Zm9vYmFy", "foobar"));
	CHECK(dec_is("Zm9v\r\nYmE=\n", "fooba"));
	CHECK(dec_fails("Zg"));	       /* padding required */
	CHECK(dec_fails("Zg=a"));      /* data after '=' */
	CHECK(dec_fails("Z==="));      /* too much padding */
	CHECK(dec_fails("Zg==Zm8="));  /* a padded quantum in the middle */
	CHECK(dec_fails("Zm9-"));      /* URL alphabet is not StdEncoding */
	CHECK(dec_fails("Zm9v Zg==")); /* spaces are not skipped */
}
