/* Unit tests for lib/journal_proto.c: native-protocol fields, line splitting, CRI/JSON lines. */
#include <errno.h>
#include <stdlib.h>

#include "ctrbox/logging.h"
#include "journal/journal_proto.h"
#include "unit.h"

void test_journal_fields(void)
{
	struct jbuf b = {0};
	static const char want[] = "PRIORITY=6\n"
				   "FOO\n\x03\0\0\0\0\0\0\0B\nR\n"
				   "MESSAGE\n\x03\0\0\0\0\0\0\0a\0b\n"
				   "T=tab\there\n";

	CHECK(journal_append_str(&b, "PRIORITY", "6") == 0);
	CHECK(journal_append(&b, "FOO", "B\nR", 3) == 0);
	CHECK(journal_append(&b, "MESSAGE", "a\0b", 3) == 0);
	CHECK(journal_append_str(&b, "T", "tab\there") == 0);
	CHECK(b.len == sizeof(want) - 1);
	CHECK(b.len == sizeof(want) - 1 && memcmp(b.p, want, b.len) == 0);
	CHECK(journal_append_str(&b, "lower", "x") == -EINVAL);
	CHECK(journal_append_str(&b, "_TRUSTED", "x") == -EINVAL);
	jbuf_free(&b);
}

void test_journal_field_names(void)
{
	CHECK(journal_field_valid("CONTAINER_ID", 12));
	CHECK(journal_field_valid("A1_", 3));
	CHECK(!journal_field_valid("", 0));
	CHECK(!journal_field_valid("1A", 2));
	CHECK(!journal_field_valid("_A", 2));
	CHECK(!journal_field_valid("A-B", 3));
	CHECK(!journal_field_valid(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 65));
}

struct lines {
	char out[512];
	size_t len;
};

static int collect(const char *line, size_t n, int partial, void *ctx)
{
	struct lines *l = ctx;

	l->len += (size_t)snprintf(l->out + l->len, sizeof(l->out) - l->len, "[%.*s]%s", (int)n,
				   line, partial ? "P" : "F");
	return 0;
}

void test_journal_line_split(void)
{
	struct ctrbox_logging_lines lb;
	struct lines l = {.len = 0};

	CHECK(ctrbox_logging_lines_init(&lb, 4) == 0);
	/* pieces arrive in any cut; a line of exactly max bytes is not split */
	CHECK(ctrbox_logging_lines_feed(&lb, "ab", 2, collect, &l) == 0);
	CHECK(ctrbox_logging_lines_feed(&lb, "cd\nabcdefghij\n\nxy", 17, collect, &l) == 0);
	CHECK(ctrbox_logging_lines_feed(&lb, "z", 1, collect, &l) == 0);
	CHECK(ctrbox_logging_lines_feed(&lb, "w", 1, collect, &l) == 0);
	CHECK(ctrbox_logging_lines_feed(&lb, "\n12345", 6, collect, &l) == 0);
	CHECK(ctrbox_logging_lines_flush(&lb, collect, &l) == 0);
	CHECK(ctrbox_logging_lines_flush(&lb, collect, &l) == 0);
	CHECK_STR(l.out, "[abcd]F[abcd]P[efgh]P[ij]F[]F[xyzw]F[1234]P[5]F");
	ctrbox_logging_lines_free(&lb);
}

void test_journal_cri_json(void)
{
	struct jbuf b = {0};
	struct timespec ts = {.tv_sec = 1700000000, .tv_nsec = 5};
	char t[40];

	CHECK(journal_rfc3339(t, &ts) == 30);
	CHECK_STR(t, "2023-11-14T22:13:20.000000005Z");
	CHECK(journal_cri_line(&b, &ts, "stdout", "hi there", 8, 0) == 0);
	CHECK(journal_cri_line(&b, &ts, "stderr", "par", 3, 1) == 0);
	CHECK(jbuf_put(&b, "", 1) == 0);
	CHECK_STR(b.p, "2023-11-14T22:13:20.000000005Z stdout F hi there\n"
		       "2023-11-14T22:13:20.000000005Z stderr P par\n");
	b.len = 0;
	CHECK(journal_json_line(&b, &ts, "stdout", "a\"b\\\x01\t", 6, 0) == 0);
	CHECK(journal_json_line(&b, &ts, "stderr", "p", 1, 1) == 0);
	CHECK(jbuf_put(&b, "", 1) == 0);
	CHECK_STR(
	    b.p,
	    "{\"log\":\"a\\\"b\\\\\\u0001\\t\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-"
	    "14T22:13:20.000000005Z\"}\n"
	    "{\"log\":\"p\",\"stream\":\"stderr\",\"time\":\"2023-11-14T22:13:20.000000005Z\"}\n");
	jbuf_free(&b);
}

void test_journal_parse_size(void)
{
	uint64_t v = 0;

	CHECK(journal_parse_size("123", &v) == 0 && v == 123);
	CHECK(journal_parse_size("16k", &v) == 0 && v == 16384);
	CHECK(journal_parse_size("1M", &v) == 0 && v == 1048576);
	CHECK(journal_parse_size("2gb", &v) == 0 && v == 2147483648ULL);
	CHECK(journal_parse_size("", &v) == -EINVAL);
	CHECK(journal_parse_size("k", &v) == -EINVAL);
	CHECK(journal_parse_size("12x", &v) == -EINVAL);
	CHECK(journal_parse_size("99999999999999999999", &v) == -EINVAL);
	CHECK(journal_parse_size("99999999999999g", &v) == -EINVAL);
}
