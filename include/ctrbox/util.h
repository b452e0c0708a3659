/* Small file and path helpers shared by applets: path cleaning, atomic writes, mkdir -p. */
#ifndef CTRBOX_UTIL_H
#define CTRBOX_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lexical clean like Go's filepath.Clean, in place; returns s. Unlike Go, "" stays "" (there
 * is no room for "." in place). */
char *ctrbox_path_clean(char *s);
/* filepath.Join(parts...) into a malloc'd string (NULL on ENOMEM). */
char *ctrbox_path_join(const char *const *parts, size_t n);
/* Writes data to dir/name through dir/.name + rename; mode applies to the new file. */
int ctrbox_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
int ctrbox_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole (small) file into a NUL-terminated malloc'd buffer; max bytes at most. */
int ctrbox_read_file(const char *path, size_t max, char **out, size_t *outlen);
/* Reads all of fd until EOF (max bytes at most). */
int ctrbox_read_fd_all(int fd, size_t max, char **out, size_t *outlen);
int ctrbox_mkdir_p(const char *path, mode_t mode);
/* True if s can be one path component: non-empty, no '/', not "." or "..". */
int ctrbox_valid_component(const char *s);
/* Removes a directory tree without following symlinks or crossing mounts. */
int ctrbox_rm_rf(const char *path);
int ctrbox_write_all(int fd, const void *data, size_t len);
/* The value of the hex digit c (0-9, a-f, A-F), or -1. */
int ctrbox_hex_digit(int c);
/* A unix stream socket connected to addr: "unix:///path", "/path" or "@abstract"; fd or -errno. */
int ctrbox_unix_connect(const char *addr, int cloexec);

/* Go's syscall.Errno text for err (positive): the C library's description, first letter
 * lower-case ("errno N" for an unknown one), into buf, which it returns. */
const char *ctrbox_go_errno_text(int err, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
