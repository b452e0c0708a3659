/* libFuzzer target: the shim's Go-flag style command line parser (ctrbox_shim_parse_flags, what ctrbox_shim_run
 * calls before anything starts), then the socket address it would derive. The input is split at
 * NUL bytes into argv[1..]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ctrbox/shim.h>

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
	int argc = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "containerd-shim-runc-v2";
	for (char *p = buf; p <= buf + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	struct ctrbox_shim_opts o;
	if (ctrbox_shim_parse_flags(argc, argv, &o) == 0) {
		/* every string it hands out points into argv */
		const char *s[] = {o.ns, o.id,	  o.address, o.publish_binary,
				   o.bundle,	o.socket, o.action};
		for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
			if (s[i])
				(void)strlen(s[i]);
		char *addr = ctrbox_shim_socket_address(o.address ? o.address : "",
						 o.ns ? o.ns : "", o.id ? o.id : "");
		if (!addr ||
		    strncmp(addr, "unix://" CTRBOX_SHIM_SOCKET_DIR "/", 7 + sizeof(CTRBOX_SHIM_SOCKET_DIR)))
			abort();
		free(addr);
	}
	free(buf);
	return 0;
}
