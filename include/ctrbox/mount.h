/* Rootfs mounts the way containerd's mount package does them on Linux, plus mount-point helpers. */
#ifndef CTRBOX_MOUNT_H
#define CTRBOX_MOUNT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* containerd.types.Mount. target is carried along but ctrbox_mount_one ignores it, as
 * containerd 1.6 does (the shim always mounts onto <bundle>/rootfs). */
struct ctrbox_mount_spec {
	const char *type, *source, *target;
	char **options;
	size_t n_options;
};

/* containerd 2.x's parseMountOptions, as a mount_opts. */
struct ctrbox_mount_opts {
	unsigned long flags;	   /* MS_* words set or cleared in order */
	unsigned long propagation; /* MS_PRIVATE etc., MS_REC for the r* forms; the last one wins */
	char *data;    /* everything else joined with ',' in order (malloc'd, "" if none) */
	int loop;      /* "loop": the source is a file to mount through a loop device */
	int direct_io; /* "direct-io" with "loop": taken out of data, the device uses it */
	const char *uidmap, *gidmap; /* the text after the last "uidmap="/"gidmap=" (in options) */
};

/* Parses options into *o (free with ctrbox_mount_opts_free). The propagation words are kept apart
 * (moby/sys/mount has them; containerd applies such bits in a separate call); uidmap= and
 * gidmap= are never data; "direct-io" is only taken out of data when "loop" is there too.
 * Returns 0 or -ENOMEM. */
int ctrbox_mount_parse_options(char **options, size_t n, struct ctrbox_mount_opts *o);
void ctrbox_mount_opts_free(struct ctrbox_mount_opts *o);

/* One range of a user namespace mapping: ids inside..inside+count-1 of the namespace are
 * outside..outside+count-1 of the parent. */
struct ctrbox_mount_idmap {
	unsigned int inside, outside, count;
};
/* The kernel's limit on the ranges of one uid_map/gid_map. */
#define CTRBOX_MOUNT_IDMAP_MAX 340

/* containerd's parseIDMappingList: "inside:outside:count[,inside:outside:count...]", decimal.
 * Fills out (cap entries) and returns how many ranges, or -EINVAL with *why (may be NULL) a
 * static sentence saying what is wrong: not three fields, a field that is not a decimal
 * number, a count of 0, a range past 2^32-1 (the kernel refuses those too), more than cap
 * ranges. */
int ctrbox_mount_parse_idmap(const char *s, struct ctrbox_mount_idmap *out, size_t cap,
			     const char **why);

/* containerd's GetUsernsFD: a short-lived child in a new user namespace with these mappings
 * (written by us, setgroups denied), whose /proc/PID/ns/user fd is returned (O_CLOEXEC) once
 * the child is gone. The child is a clone child (no SIGCHLD, invisible to waitpid(-1)) and is
 * reaped here. Returns the fd or -errno. */
int ctrbox_mount_userns_fd(const struct ctrbox_mount_idmap *uid, size_t nuid,
			   const struct ctrbox_mount_idmap *gid, size_t ngid);

/* containerd's IDMapMountWithAttrs: clones the mount at source (not its submounts), makes
 * the clone idmapped through userns_fd with attr_set (MOUNT_ATTR_RDONLY, ...) and attaches
 * it on target. 0 or -errno. */
int ctrbox_mount_idmapped(const char *source, const char *target, int userns_fd,
			  unsigned long long attr_set);

/* containerd's setupLoop: a free loop device (LOOP_CTL_GET_FREE) attached to backing with
 * LOOP_CONFIGURE (LOOP_SET_FD + LOOP_SET_STATUS64 + LOOP_SET_DIRECT_IO where the kernel lacks
 * it): autoclear, read-only and direct I/O as asked. A device taken by someone else between
 * the two steps (EBUSY) means another free one, up to 99 tries, without waiting. The open
 * device's fd is returned (O_CLOEXEC) and its path copied to dev: with autoclear the device
 * detaches itself when that fd is closed and no mount uses it any more. -errno on failure. */
int ctrbox_mount_loop_attach(const char *backing, int readonly, int autoclear, int direct_io,
			     char *dev, size_t devlen);

/* containerd's compactLowerdirOption, I/O-free: when m is an overlay whose options total at
 * least pagesize-512 bytes and whose lowerdirs share a parent directory, *dir gets that parent
 * (malloc'd, ending in '/') and *opts a malloc'd copy of the option vector (n_options long)
 * with lowerdir= moved last and made relative to *dir; free it with ctrbox_mount_compact_free.
 * Otherwise *dir and *opts are NULL. Returns 0 or -ENOMEM. */
int ctrbox_mount_compact_overlay(const struct ctrbox_mount_spec *m, size_t pagesize, char **dir,
				 char ***opts);
void ctrbox_mount_compact_free(char **opts, size_t n);

/* containerd 2.x's Mount.Mount onto target: one mount(2) with the non-propagation flags and
 * the data (skipped for a bare remount), then the propagation change, then a MS_REMOUNT when a
 * bind is read-only (the kernel ignores MS_RDONLY on the first bind call). Long overlay options
 * are compacted and mounted from the common lowerdir parent: this changes the process's
 * working directory for the duration of the call, so callers must be single-threaded (the
 * shim is).
 * "loop": the source is attached to a loop device (autoclear; read-only with "ro"; direct I/O
 * with "direct-io") and the device is mounted; it detaches itself when the mount goes away.
 * "uidmap=" and "gidmap=" (both, each non-empty; one alone is ignored, as in containerd): a
 * user namespace with those mappings; an overlay gets its lowerdirs through one read-only
 * idmapped mount of their common parent, in a temporary dir (ovl-idmappedXXXXXX under
 * $XDG_RUNTIME_DIR, $TMPDIR or /tmp) that is unmounted and removed again before returning
 * (the overlay keeps its own references); any other type gets an idmapped mount of target
 * stacked on target, except a read-only bind (containerd returns after its remount).
 * Malformed mappings are -EINVAL, logged with the reason.
 * All or nothing: a mount made before a later step fails is detached again. fuse.* types are
 * -ENOTSUP. */
int ctrbox_mount_one(const struct ctrbox_mount_spec *m, const char *target);
/* Mounts each of ms in order onto target; on failure unmounts the layers it added (newest
 * first) and returns the first error. */
int ctrbox_mount_all(const struct ctrbox_mount_spec *ms, size_t n, const char *target);
/* containerd's UnmountAll: umount2(target, flags) until the kernel says it is not a mount point
 * (EINVAL). EBUSY is retried 50 times, 50 ms apart (blocking, as the Go shim's goroutine does).
 * 0 when target is NULL, "", missing, or nothing was mounted. */
int ctrbox_unmount_all(const char *target, int flags);
/* The same without waiting: -EBUSY while a mount is busy (try again later, from a timer).
 * *unmounted (may be NULL): how many mounts came off in this call. */
int ctrbox_unmount_all_nowait(const char *target, int flags, int *unmounted);
/* The bound on a busy mount: this many tries, this far apart, for each mount. */
#define CTRBOX_UNMOUNT_BUSY_TRIES 50
#define CTRBOX_UNMOUNT_BUSY_RETRY_MS 50

/* 1 if path (symlinks followed) is the root of a mount, 0 if not, -errno. */
int ctrbox_path_is_mountpoint(const char *path);
/* The same answer from /proc/self/mountinfo alone (ctrbox_path_is_mountpoint's fallback
 * before 5.8). */
int ctrbox_mountinfo_has(const char *path);
/* Lexically, after cleaning both: 1 if path is root or below it, 0 if not (also when one is
 * absolute and the other relative), -ENOMEM. No symlinks are resolved. */
int ctrbox_path_within(const char *root, const char *path);

#ifdef __cplusplus
}
#endif

#endif
