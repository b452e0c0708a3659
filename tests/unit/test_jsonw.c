/* Unit tests: the JSON writer's commas, layout, escaping, integers, size and misuse errors. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <ctrbox/json.h>
#include <ctrbox/jsonw.h>
#include "unit.h"

/* w's document; NULL (and a failed check) if it does not finish or does not parse back. */
static char *finish(struct ctrbox_jsonw *w)
{
	struct ctrbox_json j;
	char *out = NULL;
	size_t len = 0;
	int rc = ctrbox_jsonw_finish(w, &out, &len);

	CHECK(rc == 0);
	if (rc)
		return NULL;
	CHECK(len == strlen(out));
	CHECK(ctrbox_json_parse(&j, out, len) == 0);
	ctrbox_json_free(&j);
	return out;
}

static void doc_is(struct ctrbox_jsonw *w, const char *want)
{
	char *s = finish(w);
	CHECK_STR(s, want);
	free(s);
}

void test_jsonw_nesting(void)
{
	struct ctrbox_jsonw w = {0};

	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "a");
	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_int(&w, 1);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "b");
	ctrbox_jsonw_null(&w);
	ctrbox_jsonw_key(&w, "c");
	ctrbox_jsonw_bool(&w, false);
	ctrbox_jsonw_object_end(&w);
	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_array_end(&w);
	ctrbox_jsonw_string(&w, "x");
	ctrbox_jsonw_array_end(&w);
	ctrbox_jsonw_key(&w, "d");
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_object_end(&w);
	ctrbox_jsonw_key(&w, "e");
	ctrbox_jsonw_raw(&w, "{\"pre\":[1,2]}", 13);
	ctrbox_jsonw_key(&w, "f");
	ctrbox_jsonw_bool(&w, true);
	ctrbox_jsonw_object_end(&w);
	doc_is(&w, "{\"a\":[1,{\"b\":null,\"c\":false},[],\"x\"],\"d\":{},\"e\":{\"pre\":[1,2]},"
		   "\"f\":true}");

	/* a scalar alone is a document too */
	ctrbox_jsonw_string(&w, "only");
	doc_is(&w, "\"only\"");
	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_array_end(&w);
	doc_is(&w, "[]");
}

/* json.MarshalIndent's layout, and a document meant for depth 1 of another. */
void test_jsonw_indent(void)
{
	struct ctrbox_jsonw w;

	ctrbox_jsonw_init(&w, "  ", 0);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "a");
	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_int(&w, 1);
	ctrbox_jsonw_int(&w, 2);
	ctrbox_jsonw_array_end(&w);
	ctrbox_jsonw_key(&w, "empty");
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_object_end(&w);
	ctrbox_jsonw_key(&w, "none");
	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_array_end(&w);
	ctrbox_jsonw_key(&w, "o");
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "k");
	ctrbox_jsonw_string(&w, "v");
	ctrbox_jsonw_object_end(&w);
	ctrbox_jsonw_object_end(&w);
	doc_is(&w, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"empty\": {},\n  \"none\": [],\n"
		   "  \"o\": {\n    \"k\": \"v\"\n  }\n}");

	ctrbox_jsonw_init(&w, "\t", 1);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "k");
	ctrbox_jsonw_uint(&w, 7);
	ctrbox_jsonw_object_end(&w);
	doc_is(&w, "{\n\t\t\"k\": 7\n\t}");

	ctrbox_jsonw_init(&w, "    ", 0);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_object_end(&w);
	doc_is(&w, "{}");
}

static void string_is(const char *in, size_t n, const char *want)
{
	struct ctrbox_jsonw w = {0};
	char *q = ctrbox_json_quote(in);

	ctrbox_jsonw_stringn(&w, in, n);
	doc_is(&w, want);
	if (n == strlen(in))
		CHECK_STR(q, want); /* one escaper: ctrbox_json_quote writes the same */
	free(q);
}

/* a literal with its length: NULs in it count */
#define STRING_IS(lit, want) string_is(lit, sizeof(lit) - 1, want)

/* Go's encoding/json escaping, keys the same way as values. */
void test_jsonw_escaping(void)
{
	struct ctrbox_jsonw w = {0};

	STRING_IS("", "\"\"");
	STRING_IS("a\"b\\c", "\"a\\\"b\\\\c\"");
	STRING_IS("\n\r\t\b\f\x01\x1f\x7f", "\"\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f\"");
	STRING_IS("<a&b>", "\"\\u003ca\\u0026b\\u003e\"");
	STRING_IS("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8\xe2\x80\xa9",
		  "\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\u2028\\u2029\"");
	/* invalid UTF-8: a stray byte, an overlong '/', an encoded surrogate, a truncated rune */
	STRING_IS("\xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82",
		  "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"");
	/* embedded NUL with an explicit length */
	STRING_IS("a\0b", "\"a\\u0000b\"");

	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "k\"<\n");
	ctrbox_jsonw_string(&w, NULL);
	ctrbox_jsonw_object_end(&w);
	doc_is(&w, "{\"k\\\"\\u003c\\n\":\"\"}");
}

void test_jsonw_integers(void)
{
	struct ctrbox_jsonw w = {0};
	struct ctrbox_json j;
	int64_t v;
	char *s;

	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_int(&w, INT64_MIN);
	ctrbox_jsonw_int(&w, INT64_MAX);
	ctrbox_jsonw_int(&w, -1);
	ctrbox_jsonw_int(&w, 0);
	ctrbox_jsonw_uint(&w, UINT64_MAX);
	ctrbox_jsonw_uint(&w, 0);
	ctrbox_jsonw_array_end(&w);
	s = finish(&w);
	CHECK_STR(s, "[-9223372036854775808,9223372036854775807,-1,0,18446744073709551615,0]");
	if (s && ctrbox_json_parse(&j, s, strlen(s)) == 0) {
		CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 0), &v) == 0 &&
		      v == INT64_MIN);
		CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 1), &v) == 0 &&
		      v == INT64_MAX);
		ctrbox_json_free(&j);
	}
	free(s);
}

/* Far past 64 KiB: many members and one long string, read back. */
void test_jsonw_large(void)
{
	struct ctrbox_jsonw w;
	struct ctrbox_json j;
	size_t big = 100000, len = 0;
	char *long_str = malloc(big + 1), *out = NULL, *back;
	int n = 20000;

	CHECK(long_str != NULL);
	if (!long_str)
		return;
	for (size_t i = 0; i < big; i++)
		long_str[i] = "ab<\"\n"[i % 5];
	long_str[big] = '\0';
	ctrbox_jsonw_init(&w, "  ", 0);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "list");
	ctrbox_jsonw_array_begin(&w);
	for (int i = 0; i < n; i++)
		ctrbox_jsonw_int(&w, (int64_t)i * 1000003);
	ctrbox_jsonw_array_end(&w);
	ctrbox_jsonw_key(&w, "long");
	ctrbox_jsonw_string(&w, long_str);
	ctrbox_jsonw_object_end(&w);
	CHECK(ctrbox_jsonw_finish(&w, &out, &len) == 0);
	CHECK(out && len > 65536 * 4 && len == strlen(out));
	if (out && ctrbox_json_parse(&j, out, len) == 0) {
		int64_t v = 0;
		int list = ctrbox_json_get(&j, 0, "list");
		CHECK(ctrbox_json_array_len(&j, list) == n);
		CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, list, n - 1), &v) == 0 &&
		      v == (int64_t)(n - 1) * 1000003);
		back = ctrbox_json_strdup(&j, ctrbox_json_get(&j, 0, "long"));
		CHECK(back && !strcmp(back, long_str));
		free(back);
		ctrbox_json_free(&j);
	} else {
		CHECK(!"the large document parses");
	}
	free(out);
	free(long_str);
}

static void fails_with(struct ctrbox_jsonw *w, int err)
{
	char *out = (char *)"untouched";
	CHECK(ctrbox_jsonw_finish(w, &out, NULL) == err);
	CHECK_STR(out, "untouched");
	CHECK(w->buf == NULL && w->stack == NULL && w->err == 0); /* released and zeroed */
}

/* Calls that do not make JSON are -EINVAL, reported once at the end; later calls do nothing. */
void test_jsonw_misuse(void)
{
	struct ctrbox_jsonw w = {0};

	fails_with(&w, -EINVAL); /* nothing written */
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_int(&w, 1); /* a value without its key */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_key(&w, "k"); /* a key in an array */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "k");
	ctrbox_jsonw_key(&w, "k2"); /* two keys */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "k");
	ctrbox_jsonw_object_end(&w); /* the key's value missing */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_array_end(&w); /* the wrong bracket */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_array_begin(&w); /* left open */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_array_end(&w); /* nothing to close */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_int(&w, 1);
	ctrbox_jsonw_int(&w, 2); /* two documents */
	fails_with(&w, -EINVAL);
	ctrbox_jsonw_raw(&w, "", 0);
	fails_with(&w, -EINVAL);

	/* the first error sticks: a caller's own, then nothing more is written */
	ctrbox_jsonw_array_begin(&w);
	ctrbox_jsonw_fail(&w, -ENOMEM);
	ctrbox_jsonw_fail(&w, -EINVAL);
	CHECK(ctrbox_jsonw_error(&w) == -ENOMEM);
	ctrbox_jsonw_string(&w, "ignored");
	ctrbox_jsonw_array_end(&w);
	CHECK(w.len == 1);
	fails_with(&w, -ENOMEM);

	/* ctrbox_jsonw_free drops a half-written document; w is usable again */
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "k");
	ctrbox_jsonw_free(&w);
	ctrbox_jsonw_bool(&w, true);
	doc_is(&w, "true");
}
