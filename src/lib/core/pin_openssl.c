/*
 * pin_openssl.c - the pins of OpenSSL objects (pinset/openssl.h): X509 (its
 * own SPKI fields or its whole encoding), EVP_PKEY and X509_REQ, hashed
 * from their DER encodings through util/digest.c.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <pinset/openssl.h>
#include <pinset/pin.h>

#include "core/pin_int.h"
#include "internal.h"
#include "util/digest.h"

/* What to DER-encode; each i2d has its own signature, so each gets a wrapper. */
static int i2d_x509_of(const void *obj, unsigned char **pp)
{
    return i2d_X509((const X509 *)obj, pp);
}

static int i2d_x509_pubkey_of(const void *obj, unsigned char **pp)
{
    return i2d_X509_PUBKEY((const X509_PUBKEY *)obj, pp);
}

static int i2d_pubkey_of(const void *obj, unsigned char **pp)
{
    return i2d_PUBKEY((const EVP_PKEY *)obj, pp);
}

/*
 * SHA-256 of an object's DER (two-pass i2d, util/digest.c). The buffer is
 * wiped: for i2d_PUBKEY the object may be a private key.
 */
static pinset_err hash_encoding(uint8_t out[PINSET_PIN_LEN], pinset__i2d_fn i2d, const void *obj,
                                const char *what, pinset_diag *diag)
{
    /* no scratch: encodings go into a buffer of ours (pinset__alloc, so tests can fail it) */
    switch (pinset__sha256_i2d(out, i2d, obj, NULL, NULL, 0, 1)) {
    case PINSET__DIGEST_OK:
        ERR_pop_to_mark();
        return PINSET_OK;
    case PINSET__DIGEST_NOMEM:
        ERR_pop_to_mark();
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "%s: out of memory", what);
    case PINSET__DIGEST_HASH:
        return PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, "sha256");
    case PINSET__DIGEST_ENCODE:
    default:
        return PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, what);
    }
}

pinset_err pinset__pin_of_x509(pinset_pin *out, const X509 *cert, pinset_pin_kind kind,
                               pinset_diag *diag)
{
    pinset_pin pin;
    pinset_err err;

    memset(&pin, 0, sizeof(pin));
    pin.kind = kind;
    if (kind == PINSET_PIN_CERT) {
        err = hash_encoding(pin.sha256, i2d_x509_of, cert, "certificate", diag);
    } else {
        const X509_PUBKEY *spki = X509_get_X509_PUBKEY(cert);

        if (spki == NULL) {
            return PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, "certificate: no subjectpublickeyinfo");
        }
        /* The certificate's own SPKI fields, never a re-encoding of the decoded key. */
        err = hash_encoding(pin.sha256, i2d_x509_pubkey_of, spki, "certificate spki", diag);
    }
    if (err == PINSET_OK) {
        *out = pin;
    }
    return err;
}

pinset_err pinset_pin_from_x509(pinset_pin *out, const X509 *cert, pinset_pin_kind kind,
                                pinset_diag *diag)
{
    if (out == NULL || cert == NULL || (kind != PINSET_PIN_SPKI && kind != PINSET_PIN_CERT)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "certificate: null argument or invalid kind");
    }
    ERR_set_mark();
    return pinset__pin_of_x509(out, cert, kind, diag);
}

pinset_err pinset_pin_from_pkey(pinset_pin *out, const EVP_PKEY *key, pinset_diag *diag)
{
    pinset_pin pin;
    pinset_err err;

    if (out == NULL || key == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "key: null argument");
    }
    memset(&pin, 0, sizeof(pin));
    pin.kind = PINSET_PIN_SPKI;
    ERR_set_mark();
    /* i2d_PUBKEY writes only the public half, even for a private key. */
    err = hash_encoding(pin.sha256, i2d_pubkey_of, key, "key", diag);
    if (err == PINSET_OK) {
        *out = pin;
    }
    return err;
}

pinset_err pinset_pin_from_x509_req(pinset_pin *out, const X509_REQ *req, pinset_diag *diag)
{
    const X509_PUBKEY *spki;
    pinset_pin pin;
    pinset_err err;

    if (out == NULL || req == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "certificate request: null argument");
    }
    ERR_set_mark();
    /* OpenSSL 3.0 lacks a const getter; X509_REQ_get_X509_PUBKEY does not modify req. */
    spki = X509_REQ_get_X509_PUBKEY((X509_REQ *)(uintptr_t)req);
    if (spki == NULL) {
        return PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO,
                                "certificate request: no subjectpublickeyinfo");
    }
    memset(&pin, 0, sizeof(pin));
    pin.kind = PINSET_PIN_SPKI;
    err = hash_encoding(pin.sha256, i2d_x509_pubkey_of, spki, "certificate request spki", diag);
    if (err == PINSET_OK) {
        *out = pin;
    }
    return err;
}
