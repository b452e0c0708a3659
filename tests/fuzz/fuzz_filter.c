/* libFuzzer target: the snapshotter's filter language (ctrbox_snapshot_filter_parse, containerd's
 * filters package) and ctrbox_snapshot_filter_match on fixed snapshot infos. The input is split at
 * '\n' into up to 8 filter strings (OR-ed, as in a List request). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/snapshots.h>

#define MAX_FILTERS 8

static struct ctrbox_snapshot_label labels[] = {
    {"containerd.io/snapshot.ref", "sha256:0123456789abcdef"},
    {"containerd.io/gc.root", "2026-11-23T16:00:00Z"},
    {"a.b", "c d"},
    {"", ""},
};

static struct ctrbox_snapshot_info infos[] = {
    {"k8s.io/1/sha256:abc", "", CTRBOX_SNAPSHOT_COMMITTED, 1, 2, labels, 4},
    {"default/7/work", "default/3/base", CTRBOX_SNAPSHOT_ACTIVE, 0, 0, NULL, 0},
    {"v", "p", CTRBOX_SNAPSHOT_VIEW, 0, 0, labels + 2, 1},
    {"", "", CTRBOX_SNAPSHOT_UNKNOWN, 0, 0, NULL, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *filters[MAX_FILTERS];
	size_t n = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; n < MAX_FILTERS;) {
		filters[n++] = p;
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}

	struct ctrbox_snapshot_filter *f = NULL;
	char *err = NULL;
	int rc = ctrbox_snapshot_filter_parse(filters, n, &f, &err);
	if (rc == 0) {
		if (!f || err)
			abort();
		for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
			(void)ctrbox_snapshot_filter_match(f, &infos[i]);
		ctrbox_snapshot_filter_free(f);
	} else {
		if (f || !err || rc != 3)
			abort();
		free(err);
	}
	free(buf);
	return 0;
}
