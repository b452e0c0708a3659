/* A minimal tar reader for image archives held in memory: ustar, pax (path, size) and GNU long
 * names; regular files, directories and symlinks. */
#ifndef CTRBOX_CTR_TAR_H
#define CTRBOX_CTR_TAR_H

#include <stddef.h>
#include <stdint.h>

struct tar_entry {
	char *name;	     /* cleaned like Go's path.Clean, malloc'd */
	char *link;	     /* symlink target, malloc'd (NULL for others) */
	char type;	     /* '0' regular, '5' directory, '2' symlink, other flags as they are */
	const uint8_t *data; /* regular files: points into the archive */
	size_t size;
};

struct tar {
	struct tar_entry *e;
	size_t n;
};

/* Parses the whole archive; 0, or -EINVAL (bad header), -EPIPE (truncated), -ENOMEM. */
int tar_parse(const uint8_t *buf, size_t len, struct tar *out);
void tar_free(struct tar *t);

#endif
