/* SHA-256 (FIPS 180-4), only to derive shim socket names as containerd does. */
#ifndef CTRBOX_SHA256_H
#define CTRBOX_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ctrbox_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t nbuf;
};

/* Incremental hashing: init, update with any number of pieces, final writes the 32-byte
 * digest (the state is then spent). */
void ctrbox_sha256_init(struct ctrbox_sha256 *s);
void ctrbox_sha256_update(struct ctrbox_sha256 *s, const void *data, size_t n);
void ctrbox_sha256_final(struct ctrbox_sha256 *s, uint8_t out[32]);
/* Lower-case hex digest of data into out (65 bytes with the NUL). */
void ctrbox_sha256_hex(const void *data, size_t n, char out[65]);

#ifdef __cplusplus
}
#endif

#endif
