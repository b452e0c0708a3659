/* ctrbox/rpc.h: what TTRPC (ctrbox/ttrpc.h) and gRPC (ctrbox/grpc.h) share: the status codes
 * and a metadata pair. */
#ifndef CTRBOX_RPC_H
#define CTRBOX_RPC_H

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: gRPC's, used unchanged by TTRPC (and by containerd's errdefs mapping:
 * NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, ...). */
enum ctrbox_code {
	CTRBOX_OK = 0,
	CTRBOX_CANCELED = 1,
	CTRBOX_UNKNOWN = 2,
	CTRBOX_INVALID_ARGUMENT = 3,
	CTRBOX_DEADLINE_EXCEEDED = 4,
	CTRBOX_NOT_FOUND = 5,
	CTRBOX_ALREADY_EXISTS = 6,
	CTRBOX_PERMISSION_DENIED = 7,
	CTRBOX_RESOURCE_EXHAUSTED = 8,
	CTRBOX_FAILED_PRECONDITION = 9,
	CTRBOX_ABORTED = 10,
	CTRBOX_OUT_OF_RANGE = 11,
	CTRBOX_UNIMPLEMENTED = 12,
	CTRBOX_INTERNAL = 13,
	CTRBOX_UNAVAILABLE = 14,
	CTRBOX_DATA_LOSS = 15,
	CTRBOX_UNAUTHENTICATED = 16
};

/* "NotFound", "Unimplemented", ... ("Unknown" for a code outside 0..16). */
const char *ctrbox_code_name(int code);

/* One metadata entry (TTRPC's KeyValue), e.g. {"containerd-namespace", "default"}. */
struct ctrbox_kv {
	const char *key;
	const char *value;
};

#ifdef __cplusplus
}
#endif

#endif
