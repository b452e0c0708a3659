/* libFuzzer target: lib/json.h (validating parser, every getter on every token, Go-compatible
 * quoting) and the runc output parsers (ctrbox_runc_parse_state, ctrbox_runc_parse_ps) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/json.h>
#include <ctrbox/runc.h>

static void walk(const struct ctrbox_json *j)
{
	for (int t = 0; t < j->ntoks; t++) {
		int64_t i;
		bool b;
		char *s;

		if (ctrbox_json_skip(j, t) <= t || ctrbox_json_skip(j, t) > j->ntoks)
			abort();
		if (ctrbox_json_is_string(j, t)) {
			s = ctrbox_json_strdup(j, t);
			if (s) {
				if (!ctrbox_json_streq(j, t, s))
					abort();
				char *q = ctrbox_json_quote(s);
				free(q);
				free(s);
			}
		}
		(void)ctrbox_json_int64(j, t, &i);
		(void)ctrbox_json_bool(j, t, &b);
		(void)ctrbox_json_is_null(j, t);
		if (ctrbox_json_is_object(j, t)) {
			for (int k = -1; (k = ctrbox_json_object_next(j, t, k)) >= 0;)
				if (k + 1 >= j->ntoks)
					abort();
			(void)ctrbox_json_get(j, t, "id");
			(void)ctrbox_json_get(j, t, "");
		}
		int n = ctrbox_json_array_len(j, t);
		if (ctrbox_json_is_array(j, t) != (n >= 0))
			abort();
		for (int k = 0; k < n; k++)
			if (ctrbox_json_array_at(j, t, k) < 0)
				abort();
		if (n >= 0 && ctrbox_json_array_at(j, t, n) != -1)
			abort();
	}
	(void)ctrbox_json_get(j, ctrbox_json_get(j, 0, "annotations"), "io.containerd.runc.v2.group");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copy, no NUL: the parsers must stay inside len */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	struct ctrbox_json j;
	if (ctrbox_json_parse(&j, buf, size) == 0) {
		walk(&j);
		ctrbox_json_free(&j);
	}

	struct ctrbox_runc_state st;
	if (ctrbox_runc_parse_state(buf, size, &st) == 0)
		ctrbox_runc_state_free(&st);
	int *pids = NULL;
	size_t n = 0;
	if (ctrbox_runc_parse_ps(buf, size, &pids, &n) == 0)
		free(pids);

	/* the input as a C string through the quoter */
	char *z = malloc(size + 1);
	if (z) {
		memcpy(z, data, size);
		z[size] = '\0';
		free(ctrbox_json_quote(z));
		free(z);
	}
	free(buf);
	return 0;
}
