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

/* RawURLEncoding: "-_" for "+/", no padding (Go's base64.RawURLEncoding.EncodeToString). */
UNIT_TEST(test_base64url_encode)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} v[] = {{"", 0, ""},		{"f", 1, "Zg"},	       {"fo", 2, "Zm8"},
		 {"foo", 3, "Zm9v"},	{"foob", 4, "Zm9vYg"}, {"\xfb\xff\xbf", 3, "-_-_"},
		 {"\xfb\xff", 2, "-_8"}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = 99;
		char *s = ctrbox_base64url_encode(v[i].in, v[i].n, &len);
		CHECK_STR(s, v[i].out);
		CHECK(s && len == strlen(v[i].out));
		free(s);
	}
}
