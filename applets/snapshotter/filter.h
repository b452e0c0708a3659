/* containerd's filter language (filters package) over snapshot Info: name, parent, kind,
 * labels."<key>" / labels.<key>; operators ==, !=, ~= (regexp), a field alone = present;
 * selectors joined by ',' are AND-ed, separate filter strings are OR-ed. */
#ifndef CTRBOX_SNAPSHOTTER_FILTER_H
#define CTRBOX_SNAPSHOTTER_FILTER_H

#include <stddef.h>

#include "store.h"

struct snap_filter;

/* Parses n filter strings (n 0 = match everything). Returns 0, or 3 (InvalidArgument) with *err
 * set (malloc'd) to a message like containerd's "filters: ...: invalid argument". */
int snap_filter_parse(const char *const *filters, size_t n, struct snap_filter **out, char **err);
int snap_filter_match(const struct snap_filter *f, const struct snap_info *info);
void snap_filter_free(struct snap_filter *f);

#endif
