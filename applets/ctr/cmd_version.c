/* ctr version: the client's version lines, then the server's (Version service) and its UUID
 * (Introspection.Server). */
#include <ctrbox/version.h>
#include <stdio.h>
#include <string.h>

#include "ctr/ctr.h"
#include "google/protobuf/empty.pb-c.h"
#include "introspection/v1/introspection.pb-c.h"
#include "version/v1/version.pb-c.h"

#define CTR_REVISION "ctrbox"

int ctr_cmd_version(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	ProtobufCMessage *vr = NULL, *sr = NULL;
	int rc = 1;

	if (ctr_parse(argc, argv, NULL, 0, 1, &a)) {
		ctr_args_free(&a);
		return 1;
	}
	printf("Client:\n");
	printf("  Version:  %s\n", CTRBOX_VERSION);
	printf("  Revision: %s\n", CTR_REVISION);
	printf("  Go version: %s\n", "none (C)");
	printf("\n");
	fflush(stdout);
	if (ctr_rpc(c, "/containerd.services.version.v1.Version/Version", &empty.base,
		    &containerd__services__version__v1__version_response__descriptor, &vr))
		goto out;
	const Containerd__Services__Version__V1__VersionResponse *v = (const void *)vr;
	printf("Server:\n");
	printf("  Version:  %s\n", v->version);
	printf("  Revision: %s\n", v->revision);
	fflush(stdout);
	if (ctr_rpc(c, "/containerd.services.introspection.v1.Introspection/Server", &empty.base,
		    &containerd__services__introspection__v1__server_response__descriptor, &sr))
		goto out;
	printf("  UUID: %s\n",
	       ((const Containerd__Services__Introspection__V1__ServerResponse *)sr)->uuid);
	fflush(stdout);
	if (strcmp(v->version, CTRBOX_VERSION))
		fprintf(stderr, "WARNING: version mismatch\n");
	if (strcmp(v->revision, CTR_REVISION))
		fprintf(stderr, "WARNING: revision mismatch\n");
	rc = 0;
out:
	if (vr)
		protobuf_c_message_free_unpacked(vr, NULL);
	if (sr)
		protobuf_c_message_free_unpacked(sr, NULL);
	ctr_args_free(&a);
	return rc;
}
