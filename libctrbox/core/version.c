/* The library's version (ctrbox/version.h). */
#include <ctrbox/version.h>

const char *ctrbox_version(void)
{
	return CTRBOX_VERSION;
}

int ctrbox_version_number(void)
{
	return CTRBOX_VERSION_NUMBER;
}
