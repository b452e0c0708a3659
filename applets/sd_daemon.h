/* systemd's socket activation (LISTEN_FDS) and readiness notification (NOTIFY_SOCKET), the two
 * pieces of sd-daemon(3) ctrbox-snapshotter needs (sd_daemon.c says why they are written here). */
#ifndef CTRBOX_SD_DAEMON_H
#define CTRBOX_SD_DAEMON_H

/* The first fd systemd passes (SD_LISTEN_FDS_START). */
#define SDD_LISTEN_FDS_START 3

/* The fds passed to this process, by sd_listen_fds(3)'s rule: 0 when LISTEN_PID is unset or
 * names another process (the variables were meant for someone else: ignored), else the count
 * in LISTEN_FDS, fds 3 .. 3+count-1, each made close-on-exec. -EINVAL for a malformed
 * LISTEN_PID or LISTEN_FDS, -EBADF when a passed fd is not open. LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES are unset in every case, so nothing started later takes them for its own. */
int sdd_listen_fds(void);

/* 0 when fd is a listening AF_UNIX SOCK_STREAM socket; else -1 with *why set to a phrase that
 * completes "fd N ..." ("is not a socket", "is not listening", ...). */
int sdd_check_unix_listener(int fd, const char **why);

/* Sends state ("READY=1", "STOPPING=1") to $NOTIFY_SOCKET (a path, or an abstract name written
 * with a leading '@'): 1 when sent, 0 when NOTIFY_SOCKET is unset, -errno on failure
 * (-EAFNOSUPPORT for an address that is neither). */
int sdd_notify(const char *state);

#endif
