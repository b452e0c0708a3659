/* libFuzzer target: lib/json.h (validating parser, every getter on every token, Go-compatible
 * quoting) and the runc output parsers (runc_parse_state, runc_parse_ps) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "runc.h"

static void walk(const struct json *j)
{
	for (int t = 0; t < j->ntoks; t++) {
		int64_t i;
		bool b;
		char *s;

		if (json_skip(j, t) <= t || json_skip(j, t) > j->ntoks)
			abort();
		if (json_is_string(j, t)) {
			s = json_strdup(j, t);
			if (s) {
				if (!json_streq(j, t, s))
					abort();
				char *q = json_quote(s);
				free(q);
				free(s);
			}
		}
		(void)json_int64(j, t, &i);
		(void)json_bool(j, t, &b);
		(void)json_is_null(j, t);
		if (json_is_object(j, t)) {
			for (int k = -1; (k = json_object_next(j, t, k)) >= 0;)
				if (k + 1 >= j->ntoks)
					abort();
			(void)json_get(j, t, "id");
			(void)json_get(j, t, "");
		}
		int n = json_array_len(j, t);
		if (json_is_array(j, t) != (n >= 0))
			abort();
		for (int k = 0; k < n; k++)
			if (json_array_at(j, t, k) < 0)
				abort();
		if (n >= 0 && json_array_at(j, t, n) != -1)
			abort();
	}
	(void)json_get(j, json_get(j, 0, "annotations"), "io.containerd.runc.v2.group");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copy, no NUL: the parsers must stay inside len */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	struct json j;
	if (json_parse(&j, buf, size) == 0) {
		walk(&j);
		json_free(&j);
	}

	struct runc_state st;
	if (runc_parse_state(buf, size, &st) == 0)
		runc_state_free(&st);
	int *pids = NULL;
	size_t n = 0;
	if (runc_parse_ps(buf, size, &pids, &n) == 0)
		free(pids);

	/* the input as a C string through the quoter */
	char *z = malloc(size + 1);
	if (z) {
		memcpy(z, data, size);
		z[size] = '\0';
		free(json_quote(z));
		free(z);
	}
	free(buf);
	return 0;
}
