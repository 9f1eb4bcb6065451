/*
 * digest.h - the one SHA-256 of a SubjectPublicKeyInfo or certificate
 * encoding, for every caller's speed: a pre-fetched EVP_MD (the OpenSSL
 * hook, the check) avoids a fetch per call, a reused EVP_MD_CTX (the check)
 * avoids an allocation per call, and an i2d encoding goes through the
 * caller's scratch buffer when it fits. Call between ERR_set_mark() and ERR_pop_to_mark():
 * on failure OpenSSL's queue holds the reason. Internal; not installed.
 */
#ifndef PINSET_UTIL_DIGEST_H
#define PINSET_UTIL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define PINSET__SHA256_LEN 32

/*
 * SHA-256 of buf[0..len) into out. md: a fetched SHA-256, or NULL for
 * EVP_sha256(). ctx: a context to reuse (no allocation), or NULL for a
 * one-shot digest. Returns 1, or 0 on failure.
 */
int pinset__sha256(uint8_t out[PINSET__SHA256_LEN], const uint8_t *buf, size_t len,
                   const EVP_MD *md, EVP_MD_CTX *ctx);

/* An i2d function over a const object (i2d_X509 and friends, wrapped). */
typedef int (*pinset__i2d_fn)(const void *obj, unsigned char **pp);

enum pinset__digest_status {
    PINSET__DIGEST_OK = 0,
    PINSET__DIGEST_ENCODE, /* i2d failed or was inconsistent */
    PINSET__DIGEST_NOMEM,  /* an encoding too large for the stack buffer, and no memory */
    PINSET__DIGEST_HASH    /* the digest failed */
};

/*
 * SHA-256 of obj's DER as i2d writes it (two passes), as pinset__sha256.
 * The encoding goes into scratch[0..scratch_len) when it fits (the hook
 * passes a stack buffer: no allocation per handshake), else into a buffer
 * from pinset__alloc. wipe: 1 when the encoding may come from a private key
 * (i2d_PUBKEY writes only the public half, but the buffer is wiped all the same).
 */
enum pinset__digest_status pinset__sha256_i2d(uint8_t out[PINSET__SHA256_LEN], pinset__i2d_fn i2d,
                                              const void *obj, const EVP_MD *md, uint8_t *scratch,
                                              size_t scratch_len, int wipe);

#endif /* PINSET_UTIL_DIGEST_H */
