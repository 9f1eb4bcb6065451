/*
 * pinset/openssl.h - adapters for OpenSSL objects. The only public header
 * that includes <openssl/...>. OpenSSL objects passed in are borrowed; when
 * pinset keeps one it takes its own reference.
 */
#ifndef PINSET_OPENSSL_H
#define PINSET_OPENSSL_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <pinset/bundle.h>
#include <pinset/error.h>
#include <pinset/pin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pins from OpenSSL objects ---- */

/**
 * Compute a certificate's pin. The spki pin hashes the certificate's own
 * SubjectPublicKeyInfo DER, never a re-encoding of the decoded key.
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_CRYPTO
 * Thread-safety: safe for distinct or unmodified certificates.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_x509(pinset_pin *out, const X509 *cert,
                                                             pinset_pin_kind kind,
                                                             pinset_diag *diag);

/**
 * Compute the spki pin of a key (public, or the public half of a private key).
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_CRYPTO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_pkey(pinset_pin *out,
                                                             const EVP_PKEY *key,
                                                             pinset_diag *diag);

/**
 * Compute the spki pin of a certificate request's key.
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_CRYPTO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_x509_req(pinset_pin *out,
                                                                 const X509_REQ *req,
                                                                 pinset_diag *diag);

/**
 * The certificate behind a bundle object.
 * @return borrowed, valid until the bundle is freed; NULL when not a certificate
 *         or loaded with PINSET_LOAD_PINS_ONLY
 */
PINSET_API const X509 *pinset_object_x509(const pinset_object *obj);

/* ---- the verdict hooks (see check.h) follow below ---- */

#ifdef __cplusplus
}
#endif

#endif /* PINSET_OPENSSL_H */
