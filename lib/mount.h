/* Rootfs mounts the way containerd's mount package does them on Linux, plus mount-point helpers. */
#ifndef CTRBOX_MOUNT_H
#define CTRBOX_MOUNT_H

#include <stddef.h>

/* containerd.types.Mount. target is carried along but mount_one ignores it, as containerd 1.6
 * does (the shim always mounts onto <bundle>/rootfs). */
struct mount_spec {
	const char *type, *source, *target;
	char **options;
	size_t n_options;
};

/* containerd's parseMountOptions: known flag words set or clear MS_* bits in *flags, in order;
 * the propagation words (private, rshared, ...) go to *propagation (MS_PRIVATE etc., with MS_REC
 * for the r* forms; the last one wins); everything else is joined with ',' in its original order
 * into *data (malloc'd, "" when empty, caller frees). "loop" sets *loopdev (may be NULL) and
 * returns -ENOTSUP with *data NULL: there is no loop-device support. */
int mount_parse_options(char **options, size_t n, unsigned long *flags, unsigned long *propagation,
			char **data, int *loopdev);

/* containerd's compactLowerdirOption, I/O-free: when m is an overlay whose options total at
 * least pagesize-512 bytes and whose lowerdirs share a parent directory, *dir gets that parent
 * (malloc'd, ending in '/') and *opts a malloc'd copy of the option vector (n_options long)
 * with lowerdir= moved last and made relative to *dir; free it with mount_compact_free.
 * Otherwise *dir and *opts are NULL. Returns 0 or -ENOMEM. */
int mount_compact_overlay(const struct mount_spec *m, size_t pagesize, char **dir, char ***opts);
void mount_compact_free(char **opts, size_t n);

/* containerd's Mount.Mount onto target: one mount(2) with the non-propagation flags and the
 * data (skipped for a bare remount), then the propagation change, then a MS_REMOUNT when a bind
 * is read-only (the kernel ignores MS_RDONLY on the first bind call). Long overlay options are
 * compacted and mounted from the common lowerdir parent: this changes the process's working
 * directory for the duration of the call, so callers must be single-threaded (the shim is).
 * All or nothing: a mount made before a later step fails is detached again. fuse.* types and
 * "loop" are -ENOTSUP. */
int mount_one(const struct mount_spec *m, const char *target);
/* Mounts each of ms in order onto target; on failure unmounts the layers it added (newest
 * first) and returns the first error. */
int mount_all(const struct mount_spec *ms, size_t n, const char *target);
/* containerd's UnmountAll: umount2(target, flags) until the kernel says it is not a mount point
 * (EINVAL). EBUSY is retried 50 times, 50 ms apart (blocking, as the Go shim's goroutine does).
 * 0 when target is NULL, "", missing, or nothing was mounted. */
int unmount_all(const char *target, int flags);
/* The same without waiting: -EBUSY while a mount is busy (try again later, from a timer).
 * *unmounted (may be NULL): how many mounts came off in this call. */
int unmount_all_nowait(const char *target, int flags, int *unmounted);
/* The bound on a busy mount: this many tries, this far apart, for each mount. */
#define UNMOUNT_BUSY_TRIES 50
#define UNMOUNT_BUSY_RETRY_MS 50

/* 1 if path (symlinks followed) is the root of a mount, 0 if not, -errno. */
int path_is_mountpoint(const char *path);
/* The same answer from /proc/self/mountinfo alone (path_is_mountpoint's fallback before 5.8). */
int mountinfo_has(const char *path);
/* Lexically, after cleaning both: 1 if path is root or below it, 0 if not (also when one is
 * absolute and the other relative), -ENOMEM. No symlinks are resolved. */
int path_within(const char *root, const char *path);

#endif
