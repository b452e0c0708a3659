/* libctrbox version: the release these headers belong to.
 *
 * libctrbox is a static library: a program is built against one installed copy of the headers
 * and the archive together, so compatibility is promised at the source level. Within a major
 * version, functions, types, macros and struct members are only added, never removed or changed
 * in meaning; members are added at the end of structs, so designated initializers keep working.
 * A new major version may break that, and says what it broke in its release notes. */
#ifndef CTRBOX_VERSION_H
#define CTRBOX_VERSION_H

#define CTRBOX_VERSION_MAJOR 1
#define CTRBOX_VERSION_MINOR 0
#define CTRBOX_VERSION_PATCH 0

#define CTRBOX_VERSION_STR_(x) #x
#define CTRBOX_VERSION_STR(x) CTRBOX_VERSION_STR_(x)
/* "1.0.0": also what `ctrbox --version` and the shims' -v print. */
#define CTRBOX_VERSION                                                                             \
	CTRBOX_VERSION_STR(CTRBOX_VERSION_MAJOR)                                                   \
	"." CTRBOX_VERSION_STR(CTRBOX_VERSION_MINOR) "." CTRBOX_VERSION_STR(CTRBOX_VERSION_PATCH)
/* One number that orders releases: 10000 * major + 100 * minor + patch (1.0.0 is 10000). */
#define CTRBOX_VERSION_NUMBER                                                                      \
	(CTRBOX_VERSION_MAJOR * 10000 + CTRBOX_VERSION_MINOR * 100 + CTRBOX_VERSION_PATCH)
/* True if these headers are at least version major.minor.patch:
 *   #if CTRBOX_VERSION_AT_LEAST(1, 1, 0) ... use something 1.1 added ... #endif */
#define CTRBOX_VERSION_AT_LEAST(major, minor, patch)                                               \
	(CTRBOX_VERSION_NUMBER >= ((major)*10000 + (minor)*100 + (patch)))

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library linked in, as CTRBOX_VERSION; compare with the macro to catch a
 * build that mixed the headers of one install with the archive of another. */
const char *ctrbox_version(void);
/* The same as CTRBOX_VERSION_NUMBER. */
int ctrbox_version_number(void);

#ifdef __cplusplus
}
#endif

#endif
