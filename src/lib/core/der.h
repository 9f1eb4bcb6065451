/*
 * der.h - a strict DER walker that locates the subjectPublicKeyInfo of an
 * X.509 certificate without building an X509 object (the fast path used by
 * PINSET_LOAD_PINS_ONLY). Internal; not installed.
 *
 * Promise: if pinset__der_cert_spki() returns PINSET_OK, OpenSSL's d2i_X509
 * accepts the same bytes (consuming all of them) and the returned span is
 * byte-identical to i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x)); moreover
 * i2d_X509 re-encodes the certificate to exactly the input (the fast path
 * accepts canonical DER only). Whenever the walker cannot be sure of that
 * it declines; callers then use the full OpenSSL path. Declining is always allowed; accepting what
 * OpenSSL rejects is a bug (fuzz/fuzz_der_diff.c checks it).
 */
#ifndef PINSET_DER_H
#define PINSET_DER_H

#include <stddef.h>
#include <stdint.h>

#include <pinset/error.h>

/*
 * Locate the subjectPublicKeyInfo TLV inside one DER certificate that must
 * span exactly der[0..len).
 *
 * On PINSET_OK, *spki_out points into der (borrowed, valid as long as der)
 * and *spki_len_out is the length of the whole SPKI TLV (tag, length and
 * contents). On any error both outputs are set to NULL / 0.
 *
 * Returns:
 *   PINSET_OK            the SPKI was located and the certificate is one
 *                        OpenSSL's d2i_X509 accepts
 *   PINSET_E_INVALID_ARG der, spki_out or spki_len_out is NULL
 *   PINSET_E_LIMIT       len > PINSET_MAX_DER_SIZE (the walk itself is
 *                        iterative and never nests deeper than 6 levels)
 *   PINSET_E_PARSE       not a DER certificate (bad framing, wrong tag,
 *                        something OpenSSL's d2i_X509 also rejects)
 *   PINSET_E_UNSUPPORTED declined: something the walker does not vouch for
 *                        (may still be accepted by OpenSSL: use the slow path)
 * Any non-OK result means "decline, use the OpenSSL path" to callers: the
 * slow path decides the final error and message.
 *
 * Not checked (OpenSSL 3.0's d2i_X509 does not check them either, see der.c):
 * extension contents, the public key itself (a pin of an unusable key is
 * still returned), Time contents, signatures.
 *
 * Thread-safety: reentrant; no allocation, no global state.
 */
pinset_err pinset__der_cert_spki(const uint8_t *der, size_t len, const uint8_t **spki_out,
                                 size_t *spki_len_out);

#endif /* PINSET_DER_H */
