/* The status code names TTRPC and gRPC share (ctrbox/rpc.h). */
#include <ctrbox/rpc.h>

static const char *const code_names[] = {
    "OK",	"Canceled",	   "Unknown",	       "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",	"OutOfRange",	   "Unimplemented",    "Internal",	    "Unavailable",
    "DataLoss", "Unauthenticated",
};

const char *ctrbox_code_name(int code)
{
	if (code < 0 || code > CTRBOX_UNAUTHENTICATED)
		return "Unknown";
	return code_names[code];
}
