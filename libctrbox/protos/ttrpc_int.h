/* Library-internal parts of the TTRPC server (not in the public ctrbox/ttrpc.h). */
#ifndef CTRBOX_TTRPC_INT_H
#define CTRBOX_TTRPC_INT_H

#include <ctrbox/ttrpc.h>

/* ctrbox_ttrpc_server_register() under another full name (NULL: svc->name; a static string:
 * containerd.task.v3.Task for the v2 descriptor), and owned (may be NULL) is freed with the
 * server. */
int ttrpc_server_register_owned(struct ctrbox_ttrpc_server *s, const char *name,
				const ProtobufCServiceDescriptor *svc,
				const struct ctrbox_ttrpc_method *entries, void *data, void *owned);

/* For the exit path, once the loop has stopped: writes what is still queued for each
 * connection (replies a peer has not read yet, the Shutdown reply among them), waiting up to
 * timeout_ms for slow readers; reads nothing and dispatches nothing. Returns how many
 * connections still had output when the time was up. */
unsigned ttrpc_server_flush(struct ctrbox_ttrpc_server *s, uint64_t timeout_ms);

#endif
