/* Small file and path helpers shared by applets: path cleaning, atomic writes, mkdir -p. */
#include <ctrbox/util.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

char *ctrbox_path_clean(char *s)
{
	if (s[0] == '\0')
		return s;
	int rooted = s[0] == '/';
	char *out = s, *p = s;
	size_t w = 0;

	if (rooted)
		out[w++] = '/', p++;
	size_t base = w; /* ".." never climbs above this */
	while (*p) {
		char *seg = p;
		size_t n;
		while (*p && *p != '/')
			p++;
		n = p - seg;
		while (*p == '/')
			p++;
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			if (w > base && !(w - base >= 2 && strncmp(out + w - 2, "..", 2) == 0 &&
					  (w - 2 == base || out[w - 3] == '/'))) {
				while (w > base && out[w - 1] != '/')
					w--;
				if (w > base)
					w--; /* the slash before the dropped segment */
				continue;
			}
			if (rooted)
				continue;
		}
		if (w > base)
			out[w++] = '/';
		memmove(out + w, seg, n);
		w += n;
	}
	if (w == 0 && s[0] != '\0') /* an empty input has no room for "." and stays empty */
		out[w++] = '.';
	out[w] = '\0';
	return s;
}

char *ctrbox_path_join(const char *const *parts, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (parts[i][0] == '\0')
			continue;
		if (s[0])
			strcat(s, "/");
		strcat(s, parts[i]);
	}
	if (s[0] == '\0') {
		free(s);
		return strdup("");
	}
	return ctrbox_path_clean(s);
}

int ctrbox_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= w;
	}
	return 0;
}

int ctrbox_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode), r;

	if (fd < 0)
		return -errno;
	r = ctrbox_write_all(fd, data, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int ctrbox_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
	char *tmp = malloc(strlen(path) + 2);
	int r;

	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, dirlen);
	tmp[dirlen] = '.';
	strcpy(tmp + dirlen + 1, path + dirlen);
	r = ctrbox_write_file(tmp, data, len, mode);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

int ctrbox_read_fd_all(int fd, size_t max, char **out, size_t *outlen)
{
	size_t len = 0, cap = 256;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap >= max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			free(buf);
			return err;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	return 0;
}

int ctrbox_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = ctrbox_read_fd_all(fd, max, out, outlen);
	close(fd);
	return r;
}

int ctrbox_mkdir_p(const char *path, mode_t mode)
{
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int err = -errno;
			free(p);
			return err;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		int err = -errno;
		free(p);
		return err;
	}
	free(p);
	return 0;
}

int ctrbox_valid_component(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int ctrbox_rm_rf(const char *path)
{
	int r = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return r < 0 ? (errno == ENOENT ? 0 : -errno) : r;
}

int ctrbox_unix_connect(const char *addr, int cloexec)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = addr;
	socklen_t salen;
	size_t n;
	int fd, abstract = 0;

	if (strncmp(addr, "unix://", 7) == 0)
		path = addr + 7;
	else if (addr[0] == '@')
		abstract = 1, path = addr + 1;
	n = strlen(path);
	if (n == 0 || n >= sizeof(sa.sun_path) - (size_t)abstract)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path + abstract, path, n);
	salen = offsetof(struct sockaddr_un, sun_path) + n + abstract;
	fd = socket(AF_UNIX, SOCK_STREAM | (cloexec ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		int err = errno;
		if (err == EINTR)
			continue;
		close(fd);
		return -err;
	}
	return fd;
}

int ctrbox_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Go's syscall.Errno text: the C library's message with a lower-case first letter. */
const char *ctrbox_go_errno_text(int err, char *buf, size_t cap)
{
	const char *s = strerrordesc_np(err);

	if (!s) {
		snprintf(buf, cap, "errno %d", err);
		return buf;
	}
	snprintf(buf, cap, "%s", s);
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] += 'a' - 'A';
	return buf;
}
