/*
 * delegate.h - delegations from a root key to a signing key (update.h,
 * docs/update-protocol.md "Signing keys and delegations"): a DSSE envelope
 * of type PINSET_UPDATE_DELEGATION_TYPE, signed by a root, whose payload
 * names the signing key. Internal; update.c decides what a delegation
 * allows.
 */
#ifndef PINSET_UPDATE_DELEGATE_H
#define PINSET_UPDATE_DELEGATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <pinset/host.h>
#include <pinset/update.h>

#include "update/dsse.h"

/* A delegation's payload, once its root signature has verified. */
struct pinset__delegation {
    uint64_t serial;
    int64_t not_before;
    int64_t expires_at;
    char keyid[PINSET__KEYID_HEX + 1]; /* the signing key's */
    EVP_PKEY *key;                     /* the signing key (public), owned */
    char **scope;                      /* the hosts it may sign for (owned), or NULL: any */
    size_t nscope;
};

/*
 * Open a delegation: its envelope (no nested delegations), a signature by
 * a root whose keyid is in root_ids (the keyids of roots, nroots of them)
 * verifying over PAE(type, payload), the type, then the payload (exactly
 * serial, keyid, key, not_before, expires_at, optional scope; key's keyid
 * is keyid). On
 * failure *why is PINSET_UPDATER_DELEGATION_UNTRUSTED (no root signature
 * that verifies, or not a delegation) or PINSET_UPDATER_INVALID (malformed),
 * and d holds nothing. The caller releases d with pinset__delegation_free.
 */
pinset_err pinset__delegation_open(struct pinset__delegation *d, pinset_updater_status *why,
                                   const uint8_t *text, size_t len,
                                   const char (*root_ids)[PINSET__KEYID_HEX + 1],
                                   const EVP_PKEY *const *roots, size_t nroots, pinset_diag *diag);

/*
 * Read a delegation's payload without checking its signature (the signer's
 * side: the signer need not hold the root's key). PINSET_OK, PINSET_E_PARSE,
 * PINSET_E_UNSUPPORTED (not a delegation), PINSET_E_NOMEM.
 */
pinset_err pinset__delegation_peek(struct pinset__delegation *d, const uint8_t *text, size_t len,
                                   pinset_diag *diag);

void pinset__delegation_free(struct pinset__delegation *d);

/*
 * obj[key] as a time in the one spelling pinset writes, "YYYY-MM-DDTHH:MM:SSZ",
 * into *out; PINSET_E_PARSE (path: key) otherwise.
 */
pinset_err pinset__update_json_time(int64_t *out, json_t *obj, const char *key, pinset_diag *diag);

/*
 * A scope entry ("host" or "*.domain") canonicalised into out (update.c).
 * strict: it must already be canonical. PINSET_OK or PINSET_E_PARSE.
 */
pinset_err pinset__update_scope_canon(char out[PINSET_HOST_MAX + 2], const char *s, size_t len,
                                      int strict, pinset_diag *diag);

/* 1 when every name the scope inner speaks for, the scope outer covers too (update.c). */
int pinset__update_scope_within(char *const *inner, size_t ninner, char *const *outer,
                                size_t nouter);

#endif /* PINSET_UPDATE_DELEGATE_H */
