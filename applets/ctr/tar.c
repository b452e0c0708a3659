/* Tar archives in memory (see tar.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/tar.h"
#include <ctrbox/util.h>

#define BLOCK 512

static int octal(const uint8_t *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	if (n && (p[0] & 0x80)) { /* GNU base-256 */
		v = p[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >> 55)
				return -EINVAL;
			v = (v << 8) | p[i];
		}
		*out = v;
		return 0;
	}
	while (i < n && (p[i] == ' ' || p[i] == 0))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return -EINVAL;
		v = v * 8 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

static char *field(const uint8_t *p, size_t n)
{
	size_t l = strnlen((const char *)p, n);
	return strndup((const char *)p, l);
}

/* pax records "LEN key=value\n": the path and size ones override the next header */
static int pax(const uint8_t *p, size_t n, char **path, char **link, int64_t *size)
{
	size_t off = 0;
	while (off < n) {
		size_t i = off, len = 0;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			len = len * 10 + (size_t)(p[i++] - '0');
		if (i >= n || p[i] != ' ' || len == 0 || off + len > n || len < i - off + 2)
			return -EINVAL;
		const char *kv = (const char *)p + i + 1;
		size_t kvlen = off + len - 1 - (i + 1); /* without the '\n' */
		const char *eq = memchr(kv, '=', kvlen);
		if (eq) {
			size_t kl = (size_t)(eq - kv);
			const char *v = eq + 1;
			size_t vl = kvlen - kl - 1;
			if (kl == 4 && !memcmp(kv, "path", 4)) {
				free(*path);
				*path = strndup(v, vl);
			} else if (kl == 8 && !memcmp(kv, "linkpath", 8)) {
				free(*link);
				*link = strndup(v, vl);
			} else if (kl == 4 && !memcmp(kv, "size", 4)) {
				char tmp[32];
				if (vl >= sizeof(tmp))
					return -EINVAL;
				memcpy(tmp, v, vl);
				tmp[vl] = 0;
				*size = strtoll(tmp, NULL, 10);
			}
		}
		off += len;
	}
	return 0;
}

static char *clean(char *s)
{
	if (!s)
		return NULL;
	ctrbox_path_clean(s);
	if (!*s) {
		free(s);
		return strdup(".");
	}
	return s;
}

/* a header's checksum (the sum of its bytes with the checksum field as spaces) and size */
static int header_size(const uint8_t *h, uint64_t *size)
{
	uint64_t want, sum = 0;
	if (octal(h + 148, 8, &want))
		return -1;
	for (size_t i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	if (sum != want)
		return -1;
	return octal(h + 124, 12, size) ? -1 : 0;
}

/* e's name and link: the pending long (pax or GNU) ones, taken, else the header's */
static void entry_names(const uint8_t *h, char type, char **lname, char **llink,
			struct tar_entry *e)
{
	if (*lname) {
		e->name = *lname;
		*lname = NULL;
	} else if (!memcmp(h + 257, "ustar", 5) && h[345]) {
		char *pre = field(h + 345, 155), *nm = field(h, 100);
		if (pre && nm && asprintf(&e->name, "%s/%s", pre, nm) < 0)
			e->name = NULL;
		free(pre);
		free(nm);
	} else {
		e->name = field(h, 100);
	}
	if (*llink) {
		e->link = *llink;
		*llink = NULL;
	} else if (type == '2' || type == '1') {
		e->link = field(h + 157, 100);
	}
}

/* e appended to t (which then owns its strings); -1 out of memory, e's strings freed */
static int entry_push(struct tar *t, struct tar_entry *e)
{
	struct tar_entry *v = realloc(t->e, (t->n + 1) * sizeof(*v));
	if (!v) {
		free(e->name);
		free(e->link);
		return -1;
	}
	t->e = v;
	t->e[t->n++] = *e;
	return 0;
}

int tar_parse(const uint8_t *buf, size_t len, struct tar *t)
{
	char *lname = NULL, *llink = NULL;
	int64_t psize = -1;
	size_t off = 0;
	int rc = -EINVAL;
	memset(t, 0, sizeof(*t));
	while (off + BLOCK <= len) {
		const uint8_t *h = buf + off;
		int zero = 1;
		for (size_t i = 0; i < BLOCK && zero; i++)
			zero = h[i] == 0;
		if (zero) {
			rc = 0;
			break;
		}
		uint64_t size;
		if (header_size(h, &size))
			goto fail;
		char type = (char)h[156];
		if (psize >= 0 && type != 'x' && type != 'L' && type != 'K')
			size = (uint64_t)psize;
		off += BLOCK;
		if (size > len - off) {
			rc = -EPIPE;
			goto fail;
		}
		const uint8_t *data = buf + off;
		off += (size + BLOCK - 1) / BLOCK * BLOCK;
		if (off > len)
			off = len;
		if (type == 'x') {
			if (pax(data, size, &lname, &llink, &psize))
				goto fail;
			continue;
		}
		if (type == 'g')
			continue;
		if (type == 'L' || type == 'K') {
			char **dst = type == 'L' ? &lname : &llink;
			free(*dst);
			*dst = strndup((const char *)data, strnlen((const char *)data, size));
			continue;
		}
		struct tar_entry e = {0};
		entry_names(h, type, &lname, &llink, &e);
		psize = -1;
		e.name = clean(e.name);
		if (!e.name) {
			free(e.link);
			rc = -ENOMEM;
			goto fail;
		}
		e.type = type ? type : '0';
		if (e.type == '7')
			e.type = '0';
		e.data = data;
		e.size = (size_t)size;
		if (entry_push(t, &e)) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (rc && off < len) { /* a partial header block */
		rc = -EPIPE;
		goto fail;
	}
	if (rc)
		rc = 0; /* archives cut after the last file, without the zero blocks */
	free(lname);
	free(llink);
	return rc;
fail:
	free(lname);
	free(llink);
	tar_free(t);
	return rc;
}

void tar_free(struct tar *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].name);
		free(t->e[i].link);
	}
	free(t->e);
	memset(t, 0, sizeof(*t));
}
