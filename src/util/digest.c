/*
 * digest.c - the one SHA-256 of an SPKI or certificate encoding (see digest.h).
 */
#include "util/digest.h"

#include "util/alloc.h"
#include "util/base.h"

int pinset__sha256(uint8_t out[PINSET__SHA256_LEN], const uint8_t *buf, size_t len,
                   const EVP_MD *md, EVP_MD_CTX *ctx)
{
    unsigned int n = 0;

    if (md == NULL) {
        md = EVP_sha256();
    }
    if (ctx == NULL) {
        return EVP_Digest(buf, len, out, &n, md, NULL) == 1 && n == PINSET__SHA256_LEN;
    }
    return EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, buf, len) == 1 &&
           EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == PINSET__SHA256_LEN;
}

enum pinset__digest_status pinset__sha256_i2d(uint8_t out[PINSET__SHA256_LEN], pinset__i2d_fn i2d,
                                              const void *obj, const EVP_MD *md, uint8_t *scratch,
                                              size_t scratch_len, int wipe)
{
    enum pinset__digest_status st = PINSET__DIGEST_OK;
    int len = i2d(obj, NULL);
    unsigned char *buf = scratch, *p;

    if (len <= 0) {
        return PINSET__DIGEST_ENCODE;
    }
    if (scratch == NULL || (size_t)len > scratch_len) {
        buf = pinset__alloc((size_t)len);
        if (buf == NULL) {
            return PINSET__DIGEST_NOMEM;
        }
    }
    p = buf;
    if (i2d(obj, &p) != len || p != buf + len) {
        st = PINSET__DIGEST_ENCODE;
    } else if (!pinset__sha256(out, buf, (size_t)len, md, NULL)) {
        st = PINSET__DIGEST_HASH;
    }
    if (wipe) {
        pinset__wipe(buf, (size_t)len);
    }
    if (buf != scratch) {
        pinset__free(buf);
    }
    return st;
}
