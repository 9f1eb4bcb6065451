/*
 * pin_int.h - what pin.c (pinset/pin.h) takes from pin_openssl.c
 * (pinset/openssl.h) inside core. Internal; not installed.
 */
#ifndef PINSET_CORE_PIN_INT_H
#define PINSET_CORE_PIN_INT_H

#include <openssl/x509.h>

#include <pinset/pin.h>

/*
 * The spki or cert pin of a decoded certificate (its own SPKI fields, never
 * a re-encoding of the decoded key). Call after ERR_set_mark(); pops the mark.
 */
pinset_err pinset__pin_of_x509(pinset_pin *out, const X509 *cert, pinset_pin_kind kind,
                               pinset_diag *diag);

#endif /* PINSET_CORE_PIN_INT_H */
