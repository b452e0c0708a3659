/* journal-ceiling SOCKET TAG FILE [SNDBUF [BATCH]]: the fastest plain sender of journald
 * native-protocol entries, the yardstick of bench/journal.sh. Every line of FILE becomes one
 * datagram carrying the fields ctrbox-journal gives a stdout line of a container with id and
 * namespace "bench" (PRIORITY=6, SYSLOG_IDENTIFIER=TAG, CONTAINER_ID, CONTAINER_ID_FULL,
 * CONTAINER_NAMESPACE, CONTAINER_TAG=TAG, MESSAGE), in the same order and sizes. Nothing else is
 * done per line: the fields before MESSAGE are one prebuilt iovec, the line (with its '\n', which
 * ends MESSAGE) a second one pointing into the mapped file, and the send is a blocking sendmsg(),
 * so the sender waits in the kernel exactly as long as journald is not taking datagrams. SNDBUF
 * (bytes, default 8388608 as ctrbox-journal; 0 leaves the kernel's default) is set with
 * SO_SNDBUFFORCE, else SO_SNDBUF. BATCH > 1 (default 1): BATCH datagrams a blocking sendmmsg()
 * instead, as ctrbox-journal's sender thread does with what is queued. Lines must be plain text (no
 * control bytes) below 64 KiB; prints the count sent. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	enum { MAXBATCH = 64 };
	char head[1024];
	struct iovec iov[MAXBATCH][2];
	struct mmsghdr mm[MAXBATCH];
	unsigned long long sent = 0;
	struct stat st;
	int sz, fd, sock, hl, batch;
	const char *p, *end;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: journal-ceiling SOCKET TAG FILE [SNDBUF [BATCH]]\n");
		return 2;
	}
	sz = argc >= 5 ? atoi(argv[4]) : 8 * 1024 * 1024;
	batch = argc == 6 ? atoi(argv[5]) : 1;
	if (batch < 1 || batch > MAXBATCH) {
		fprintf(stderr, "journal-ceiling: BATCH is 1..%d\n", MAXBATCH);
		return 2;
	}
	hl = snprintf(
	    head, sizeof(head),
	    "PRIORITY=6\nSYSLOG_IDENTIFIER=%s\nCONTAINER_ID=bench\nCONTAINER_ID_FULL=bench\n"
	    "CONTAINER_NAMESPACE=bench\nCONTAINER_TAG=%s\nMESSAGE=",
	    argv[2], argv[2]);
	if (hl < 0 || hl >= (int)sizeof(head) || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "journal-ceiling: tag or socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = open(argv[3], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "journal-ceiling: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	p = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : "";
	if (p == MAP_FAILED) {
		fprintf(stderr, "journal-ceiling: mmap: %s\n", strerror(errno));
		return 1;
	}
	end = p + st.st_size;
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		fprintf(stderr, "journal-ceiling: socket: %s\n", strerror(errno));
		return 1;
	}
	if (sz > 0 && setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "journal-ceiling: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int i = 0; i < MAXBATCH; i++) {
		iov[i][0] = (struct iovec){head, (size_t)hl};
		mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = iov[i], .msg_iovlen = 2}};
	}
	while (p < end) {
		int n = 0, done = 0;

		for (; n < batch && p < end; n++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

			iov[n][1] = (struct iovec){(void *)p,
						   len}; /* no '\n' at EOF: the datagram ends it */
			p += len;
		}
		while (done < n) {
			int r = batch == 1
				    ? (int)sendmsg(sock, &mm[0].msg_hdr, MSG_NOSIGNAL)
				    : sendmmsg(sock, mm + done, (unsigned)(n - done), MSG_NOSIGNAL);
			if (r < 0 && errno != EINTR) {
				fprintf(stderr, "journal-ceiling: sendmsg: %s\n", strerror(errno));
				return 1;
			}
			done += r < 0 ? 0 : batch == 1 ? 1 : r;
		}
		sent += (unsigned long long)n;
	}
	printf("%llu\n", sent);
	return 0;
}
