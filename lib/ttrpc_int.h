/* Library-internal parts of the TTRPC server (not in the public ctrbox/ttrpc.h). */
#ifndef CTRBOX_TTRPC_INT_H
#define CTRBOX_TTRPC_INT_H

#include <ctrbox/ttrpc.h>

/* ctrbox_ttrpc_server_register(), and owned is freed with the server. */
int ttrpc_server_register_owned(struct ctrbox_ttrpc_server *s,
				const ProtobufCServiceDescriptor *svc,
				const struct ctrbox_ttrpc_method *entries, void *data, void *owned);

#endif
