/* cgroups for the runc shim: the text, file and "key value" helpers of cgroup*.c. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ctrbox/util.h>
#include "cgroup_int.h"

/* ---- text ---- */

/* The next token of *s split at any of seps (strings.FieldsFunc), NUL-terminated in place. */
char *cg_next_field(char **s, const char *seps)
{
	char *p = *s, *tok;

	while (*p && strchr(seps, *p))
		p++;
	if (!*p) {
		*s = p;
		return NULL;
	}
	tok = p;
	while (*p && !strchr(seps, *p))
		p++;
	if (*p)
		*p++ = '\0';
	*s = p;
	return tok;
}

/* Splits s in place; stores the first max tokens and returns how many there were in all. */
size_t cg_split(char *s, const char *seps, char **f, size_t max)
{
	size_t n = 0;
	char *tok;

	while ((tok = cg_next_field(&s, seps))) {
		if (n < max)
			f[n] = tok;
		n++;
	}
	return n;
}

/* Lines as bufio.Scanner yields them: a last line without '\n' counts, an empty tail does not. */
char *cg_next_line(char **s)
{
	char *line = *s, *nl;

	if (!*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*s = nl + 1;
	} else {
		*s = line + strlen(line);
	}
	return line;
}

char *cg_trim(char *s)
{
	size_t n;

	while (*s && strchr(SPACES, *s))
		s++;
	n = strlen(s);
	while (n > 0 && strchr(SPACES, s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* strconv.ParseUint(s, 10, 64). */
int cg_parse_u64_strict(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned char)*s - '0';
		if (d > 9)
			return -EINVAL;
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* The library's parseUint: ParseUint, except that any negative integer (a -1 limit) is 0. */
int cg_parse_u64(const char *s, uint64_t *v)
{
	uint64_t mag = 0;
	int r;

	if (s[0] != '-')
		return cg_parse_u64_strict(s, v);
	r = cg_parse_u64_strict(s + 1, &mag);
	if (r == -ERANGE || (r == 0 && mag > 0)) {
		*v = 0;
		return 0;
	}
	return -EINVAL; /* "-0" is not negative: Go reports ParseUint's error */
}

/* ---- files ---- */

int cg_path_in(char *buf, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

int cg_read_in(const char *dir, const char *name, char **buf)
{
	char path[PATH_MAX];
	int r = cg_path_in(path, sizeof(path), dir, name);

	return r < 0 ? r : ctrbox_read_file(path, FILE_MAX, buf, NULL);
}

int cg_exists_in(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return cg_path_in(path, sizeof(path), dir, name) == 0 && lstat(path, &st) == 0;
}

/* The library's readUint: the trimmed file as parseUint. */
int cg_read_uint(const char *dir, const char *name, uint64_t *v)
{
	char *buf;
	int r = cg_read_in(dir, name, &buf);

	if (r < 0)
		return r;
	r = cg_parse_u64(cg_trim(buf), v);
	free(buf);
	return r;
}

/* ---- "key value" files ---- */

/* Each line must be exactly "key value" (the library's parseKV); a key found in tab stores its
 * value at bases[which] + off. v1 wants every value to be a number; v2 (lenient) keeps a
 * non-number as a string, which later reads as 0. *lines counts the lines (may be NULL). */
int cg_parse_kv(char *text, const struct kv *tab, size_t ntab, void *const *bases, int lenient,
		size_t *lines)
{
	char *line, *f[2];
	size_t n = 0;

	while ((line = cg_next_line(&text))) {
		uint64_t v = 0;
		int r;

		if (cg_split(line, SPACES, f, 2) != 2)
			return -EINVAL;
		r = cg_parse_u64(f[1], &v);
		if (r < 0 && !lenient)
			return r;
		if (r < 0)
			v = 0;
		n++;
		for (size_t i = 0; i < ntab; i++)
			if (strcmp(tab[i].key, f[0]) == 0)
				*(uint64_t *)((char *)bases[tab[i].which] + tab[i].off) = v;
	}
	if (lines)
		*lines = n;
	return 0;
}

int cg_read_kv(const char *dir, const char *name, const struct kv *tab, size_t ntab,
	       void *const *bases, int lenient, size_t *lines)
{
	char *buf;
	int r = cg_read_in(dir, name, &buf);

	if (r < 0)
		return r;
	r = cg_parse_kv(buf, tab, ntab, bases, lenient, lines);
	free(buf);
	return r;
}

/* Appends elem to a repeated field (arrp points at the array pointer); on -ENOMEM the caller
 * still owns elem. */
int cg_push_ptr(void *arrp, size_t *n, void *elem)
{
	void **arr, **na;

	memcpy(&arr, arrp, sizeof(arr));
	na = realloc(arr, (*n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	na[(*n)++] = elem;
	memcpy(arrp, &na, sizeof(na));
	return 0;
}

int cg_set_string(char **field, const char *s)
{
	char *d;

	if (!*s)
		return 0; /* stays protobuf_c_empty_string, which free_unpacked leaves alone */
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	*field = d;
	return 0;
}

/* ---- rdma (same text in v1 and v2) ---- */

static void rdma_kv(char *kv, struct rdma_line *e)
{
	char *eq = strchr(kv, '=');
	uint64_t v;

	if (!eq || strchr(eq + 1, '='))
		return;
	*eq = '\0';
	if (strcmp(eq + 1, "max") == 0)
		v = UINT32_MAX;
	else if (cg_parse_u64(eq + 1, &v) < 0 || v > UINT32_MAX)
		return;
	if (strcmp(kv, "hca_handle") == 0)
		e->handles = (uint32_t)v;
	else if (strcmp(kv, "hca_object") == 0)
		e->objects = (uint32_t)v;
}

/* "dev hca_handle=N hca_object=N": 1 and *e filled (device points into line), else 0. */
int cg_rdma_parse(char *line, struct rdma_line *e)
{
	char *f[3];

	if (cg_split(line, SPACES, f, 3) != 3)
		return 0;
	e->device = f[0];
	e->handles = e->objects = 0;
	rdma_kv(f[1], e);
	rdma_kv(f[2], e);
	return 1;
}
