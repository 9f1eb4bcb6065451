/*
 * updater.h - what the updater (updater.c) needs from update.c: the
 * verification of pinset_update_verify with the payload's digest, and
 * with the time check optional (a cached document is loaded even when it
 * has expired, and reported stale). Internal.
 */
#ifndef PINSET_UPDATE_UPDATER_H
#define PINSET_UPDATE_UPDATER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <pinset/update.h>

#include "util/digest.h"

/*
 * pinset_update_verify, and the SHA-256 of the payload's bytes (as signed)
 * into digest (may be NULL). timed 0 skips step 5 (the validity window).
 */
pinset_err pinset__update_verify(pinset_update **out, uint8_t digest[PINSET__SHA256_LEN],
                                 const uint8_t *doc, size_t len, const EVP_PKEY *const *trusted,
                                 size_t ntrusted, int64_t now, int timed, pinset_diag *diag);

#endif /* PINSET_UPDATE_UPDATER_H */
