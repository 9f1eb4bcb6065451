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

/* What a verification trusts and requires. */
struct pinset__verify_args {
    const EVP_PKEY *const *roots;
    size_t nroots;
    unsigned int threshold; /* 0 or 1: one */
    uint64_t deleg_floor;   /* a delegation below this serial does not count */
    int64_t now;            /* 0: the current time */
    int timed;              /* 0 skips the validity windows (document and delegations) */
};

/*
 * pinset_update_verify_threshold, with the delegation floor, and the
 * SHA-256 of the payload's bytes (as signed) into digest (may be NULL).
 * *why: PINSET_UPDATER_APPLIED when valid, else the reason.
 */
pinset_err pinset__update_verify(pinset_update **out, uint8_t digest[PINSET__SHA256_LEN],
                                 pinset_updater_status *why, const uint8_t *doc, size_t len,
                                 const struct pinset__verify_args *va, pinset_diag *diag);

#endif /* PINSET_UPDATE_UPDATER_H */
