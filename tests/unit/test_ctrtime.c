/* ctrbox-ctr's one RFC 3339 formatter (go_time_rfc3339; ctr_time_rfc3339 is the same). */
#include <stdlib.h>
#include <string.h>

#include "ctr/ctr.h"
#include "ctr/pbjson.h"
#include "unit.h"

static int is(char *got, const char *want)
{
	int ok = got && !strcmp(got, want);
	free(got);
	return ok;
}

UNIT_TEST(test_go_time_rfc3339)
{
	CHECK(is(go_time_rfc3339(0, 0), "1970-01-01T00:00:00Z"));
	CHECK(is(go_time_rfc3339(1700000000, 120000000), "2023-11-14T22:13:20.12Z"));
	CHECK(is(go_time_rfc3339(1700000000, 1), "2023-11-14T22:13:20.000000001Z"));
	CHECK(is(go_time_rfc3339(-62135596800LL, 0), "0001-01-01T00:00:00Z")); /* Go's zero time */
	CHECK(is(go_time_rfc3339(1700000000, 5), "2023-11-14T22:13:20.000000005Z"));
}
