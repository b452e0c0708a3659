/* Unit tests: JSON validation, navigation over nested values, unescaping, Go-style quoting. */
#include <errno.h>
#include <stdlib.h>

#include <ctrbox/json.h>
#include "unit.h"

static int parse(struct ctrbox_json *j, const char *s)
{
	return ctrbox_json_parse(j, s, strlen(s));
}

static void strdup_is(const struct ctrbox_json *j, int tok, const char *want)
{
	char *s = ctrbox_json_strdup(j, tok);
	CHECK_STR(s, want);
	free(s);
}

void test_json_unescape(void)
{
	struct ctrbox_json j;

	CHECK(parse(&j,
		    "[\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\", \"caf\\u00e9\", \"\\ud83d\\ude00!\","
		    "\"lone \\ud800 x\", \"\\udc00\\ud800\\u0041\", \"nul \\u0000\", 5, "
		    "\"\\u20AC\"]") == 0);
	strdup_is(&j, ctrbox_json_array_at(&j, 0, 0), "q\" b\\ s/ \b\f\n\r\t");
	strdup_is(&j, ctrbox_json_array_at(&j, 0, 1), "caf\xc3\xa9");
	strdup_is(&j, ctrbox_json_array_at(&j, 0, 2),
		  "\xf0\x9f\x98\x80!"); /* U+1F600 from a pair */
	/* lone surrogates become U+FFFD, and the escape after one is read on its own (Go) */
	strdup_is(&j, ctrbox_json_array_at(&j, 0, 3), "lone \xef\xbf\xbd x");
	strdup_is(&j, ctrbox_json_array_at(&j, 0, 4),
		  "\xef\xbf\xbd\xef\xbf\xbd"
		  "A");
	errno = 0;
	CHECK(ctrbox_json_strdup(&j, ctrbox_json_array_at(&j, 0, 5)) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(ctrbox_json_strdup(&j, ctrbox_json_array_at(&j, 0, 6)) == NULL &&
	      errno == EINVAL); /* a number */
	strdup_is(&j, ctrbox_json_array_at(&j, 0, 7), "\xe2\x82\xac");
	CHECK(ctrbox_json_streq(&j, ctrbox_json_array_at(&j, 0, 1), "caf\xc3\xa9"));
	CHECK(!ctrbox_json_streq(&j, ctrbox_json_array_at(&j, 0, 1), "cafe"));
	ctrbox_json_free(&j);

	/* a real runc log line: Go escapes < and > */
	CHECK(parse(&j, "{\"level\":\"debug\",\"msg\":\"nsexec-1[2003]: \\u003c~ nsexec stage-1\","
			"\"time\":\"2026-11-23T13:22:22Z\"}") == 0);
	strdup_is(&j, ctrbox_json_get(&j, 0, "msg"), "nsexec-1[2003]: <~ nsexec stage-1");
	ctrbox_json_free(&j);
}

void test_json_nested(void)
{
	const char *doc =
	    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],"
	    "\"env\":[],\"user\":{\"uid\":0}},\"annotations\":{\"io.containerd.runc.v2.group\":"
	    "\"g1\",\"a\":{\"b\":[1,[2,[3,{\"c\":4}]],{}]}},\"linux\":{\"namespaces\":[{\"type\":"
	    "\"pid\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},{\"type\":\"mount\"}]},"
	    "\"k\\u0065y\":1,\"dup\":1,\"dup\":2,\"last\":true}";
	struct ctrbox_json j;
	int ns, t, n = 0;
	int64_t v;
	bool b;

	CHECK(parse(&j, doc) == 0);
	/* dots in keys: one level at a time, never a dotted path */
	strdup_is(&j,
		  ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "annotations"),
				  "io.containerd.runc.v2.group"),
		  "g1");
	CHECK(ctrbox_json_get(&j, 0, "io") == -1);
	CHECK(ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "missing"), "x") == -1); /* -1 chains */
	ns = ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "linux"), "namespaces");
	CHECK(ctrbox_json_array_len(&j, ns) == 3);
	strdup_is(&j, ctrbox_json_get(&j, ctrbox_json_array_at(&j, ns, 1), "path"),
		  "/proc/1/ns/net");
	strdup_is(&j, ctrbox_json_get(&j, ctrbox_json_array_at(&j, ns, 2), "type"), "mount");
	CHECK(ctrbox_json_array_at(&j, ns, 3) == -1 && ctrbox_json_array_at(&j, ns, -1) == -1);
	/* whole subtrees are skipped: keys after nested containers are still found */
	CHECK(ctrbox_json_bool(&j, ctrbox_json_get(&j, 0, "last"), &b) == 0 && b);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_get(&j, 0, "key"), &v) == 0 &&
	      v == 1); /* escaped key */
	CHECK(ctrbox_json_int64(&j, ctrbox_json_get(&j, 0, "dup"), &v) == 0 &&
	      v == 2); /* last one wins */
	t = ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "annotations"), "a");
	t = ctrbox_json_get(&j, t, "b");
	CHECK(ctrbox_json_array_len(&j, t) == 3);
	CHECK(ctrbox_json_is_object(&j, ctrbox_json_array_at(&j, t, 2)));
	t = ctrbox_json_array_at(&j, ctrbox_json_array_at(&j, ctrbox_json_array_at(&j, t, 1), 1),
				 1);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_get(&j, t, "c"), &v) == 0 && v == 4);
	CHECK(ctrbox_json_array_len(
		  &j, ctrbox_json_get(&j, ctrbox_json_get(&j, 0, "process"), "env")) == 0);
	for (int k = -1; (k = ctrbox_json_object_next(&j, 0, k)) >= 0;)
		n++;
	CHECK(n == 8);
	CHECK(ctrbox_json_object_next(&j, ns, -1) == -1); /* not an object */
	CHECK(ctrbox_json_skip(&j, 0) == j.ntoks);
	ctrbox_json_free(&j);
	ctrbox_json_free(&j); /* idempotent */

	CHECK(parse(&j, "{}") == 0 && ctrbox_json_object_next(&j, 0, -1) == -1 &&
	      ctrbox_json_get(&j, 0, "") == -1);
	ctrbox_json_free(&j);
}

void test_json_bad(void)
{
	static const char *const bad[] = {
	    "",		 " ",	       "{",
	    "}",	 "[1 2]",      "{\"a\" \"b\"}",
	    "{a:1}",	 "[1,]",       "{\"a\":1,}",
	    "{\"a\"}",	 "tru",	       "nul",
	    "True",	 "01",	       "1.",
	    ".5",	 "-",	       "1e",
	    "+1",	 "0x10",       "\"\\x\"",
	    "\"\\u12\"", "\"a\nb\"",   "\"open",
	    "{}x",	 "1 2",	       "[]]",
	    "[[]",	 "{\"a\":1}}", "'a'",
	    "[1,,2]",	 "{,}",	       "{\"a\":1 \"b\":2}",
	    "[\"a\":1]", "{\"a\",1}",  "NaN",
	    "\"\\ud8\"",
	};
	struct ctrbox_json j;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(&j, bad[i]);
		if (r != -EINVAL)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK(r == -EINVAL);
		CHECK(j.toks == NULL && j.ntoks == 0);
	}
	CHECK(ctrbox_json_parse(&j, "[1,\0 2]", 7) == -EINVAL); /* an embedded NUL */
	CHECK(ctrbox_json_parse(&j, "\"a\0\"", 4) == -EINVAL);

	static const char *const good[] = {
	    "null",
	    " 1 ",
	    "-0.5e+3",
	    "\"\"",
	    "[]",
	    "{}",
	    "\n[ true , false ]\r\n",
	    "0",
	    "-0",
	    "1E-2",
	    "{\"\":\"\"}",
	    "[[[[]]]]",
	    "\"\\u00e9\\/\"",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = parse(&j, good[i]);
		if (r != 0)
			fprintf(stderr, "  rejected: %s\n", good[i]);
		CHECK(r == 0);
		ctrbox_json_free(&j);
	}
}

/* Token and depth bounds keep hostile input from costing unbounded memory or stack. */
void test_json_bounded(void)
{
	size_t n = CTRBOX_JSON_MAX_TOKENS; /* elements; the array itself is one more token */
	char *s = malloc(2 * n + 2);
	struct ctrbox_json j;

	if (!s) {
		CHECK(0);
		return;
	}
	s[0] = '[';
	for (size_t i = 0; i < n; i++) {
		s[1 + 2 * i] = '0';
		s[2 + 2 * i] = ',';
	}
	s[2 * n] = ']';
	s[2 * n + 1] = '\0';
	CHECK(ctrbox_json_parse(&j, s, 2 * n + 1) == -E2BIG);
	/* one element fewer: exactly at the limit */
	s[2 * n - 2] = ']';
	CHECK(ctrbox_json_parse(&j, s, 2 * n - 1) == 0);
	CHECK(j.ntoks == CTRBOX_JSON_MAX_TOKENS &&
	      ctrbox_json_array_len(&j, 0) == CTRBOX_JSON_MAX_TOKENS - 1);
	ctrbox_json_free(&j);

	/* nesting: 1000 levels are fine, 1001 are not */
	for (size_t i = 0; i < 1001; i++) {
		s[i] = '[';
		s[2001 - i] = ']';
	}
	CHECK(ctrbox_json_parse(&j, s, 2002) == -EINVAL);
	CHECK(ctrbox_json_parse(&j, s + 1, 2000) == 0);
	ctrbox_json_free(&j);
	free(s);
}

void test_json_scalars(void)
{
	struct ctrbox_json j;
	int64_t v = 7;
	bool b;

	CHECK(parse(&j, "[9223372036854775807,-9223372036854775808,9223372036854775808,"
			"-9223372036854775809,1.5,1e3,-0,true,false,null,\"1\"]") == 0);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 0), &v) == 0 && v == INT64_MAX);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 1), &v) == 0 && v == INT64_MIN);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 2), &v) == -ERANGE);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 3), &v) == -ERANGE);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 4), &v) == -EINVAL);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 5), &v) == -EINVAL);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 6), &v) == 0 && v == 0);
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 7), &v) == -EINVAL);
	CHECK(ctrbox_json_bool(&j, ctrbox_json_array_at(&j, 0, 7), &b) == 0 && b);
	CHECK(ctrbox_json_bool(&j, ctrbox_json_array_at(&j, 0, 8), &b) == 0 && !b);
	CHECK(ctrbox_json_bool(&j, ctrbox_json_array_at(&j, 0, 9), &b) == -EINVAL);
	CHECK(ctrbox_json_is_null(&j, ctrbox_json_array_at(&j, 0, 9)));
	CHECK(!ctrbox_json_is_null(&j, ctrbox_json_array_at(&j, 0, 10)));
	CHECK(ctrbox_json_int64(&j, ctrbox_json_array_at(&j, 0, 10), &v) == -EINVAL);
	CHECK(ctrbox_json_bool(&j, -1, &b) == -EINVAL && ctrbox_json_int64(&j, 99, &v) == -EINVAL);
	CHECK(ctrbox_json_is_array(&j, 0) && !ctrbox_json_is_string(&j, 0) &&
	      !ctrbox_json_is_null(&j, -1));
	ctrbox_json_free(&j);
}

static void quote_is(const char *in, const char *want)
{
	char *q = ctrbox_json_quote(in);
	CHECK_STR(q, want);
	free(q);
}

/* What Go's json.Marshal writes for a string (options.json is written that way). */
void test_json_quote(void)
{
	const char *round = "a\"b\\c\n\t\x01 caf\xc3\xa9 \xf0\x9f\x98\x80 </>&";
	struct ctrbox_json j;
	char *q;

	quote_is("", "\"\"");
	quote_is("/usr/sbin/runc", "\"/usr/sbin/runc\"");
	quote_is("a\"b\\c", "\"a\\\"b\\\\c\"");
	quote_is("\n\r\t\b\f\x01\x1f\x7f", "\"\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f\"");
	quote_is("<a&b>", "\"\\u003ca\\u0026b\\u003e\"");
	quote_is("caf\xc3\xa9 \xe2\x80\xa8\xe2\x80\xa9", "\"caf\xc3\xa9 \\u2028\\u2029\"");
	/* invalid UTF-8: a stray byte, an overlong '/', an encoded surrogate, a truncated rune */
	quote_is("\xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82", "\"\\ufffd|\\ufffd\\ufffd|"
							"\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"");
	/* round trip through the parser */
	q = ctrbox_json_quote(round);
	CHECK(q && ctrbox_json_parse(&j, q, strlen(q)) == 0);
	strdup_is(&j, 0, round);
	ctrbox_json_free(&j);
	free(q);
}
