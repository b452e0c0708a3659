/* schedcore PID|self: prints the core-scheduling cookie of PID (0: none), for the tests of the
 * shim's SCHED_CORE support; exits 1 with the reason where the kernel has no core scheduling. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#endif
#ifndef PR_SCHED_CORE_GET
#define PR_SCHED_CORE_GET 0
#endif
#define PIDTYPE_PID 0

int main(int argc, char **argv)
{
	unsigned long long cookie = 0;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: schedcore PID|self\n");
		return 2;
	}
	pid = strcmp(argv[1], "self") ? (pid_t)atoi(argv[1]) : getpid();
	if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, pid, PIDTYPE_PID, &cookie) < 0) {
		fprintf(stderr, "schedcore: PR_SCHED_CORE_GET %d: %s\n", pid, strerror(errno));
		return 1;
	}
	printf("%llu\n", cookie);
	return 0;
}
