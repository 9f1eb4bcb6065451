/*
 * openssl_int.h - what the libcurl helper (curl.c) needs from the OpenSSL hook
 * (openssl.c) beyond the public API. Internal; not installed.
 */
#ifndef PINSET_OPENSSL_INT_H
#define PINSET_OPENSSL_INT_H

#include <pinset/openssl.h>

/*
 * Called at the end of every cert-verify callback with the connection, its
 * result and the policy snapshot the result's rule belongs to (borrowed).
 */
typedef void (*pinset__ossl_observer)(const SSL *ssl, const pinset_result *result,
                                      pinset_policy *used, void *payload);

/* Install (or, with fn NULL, remove) the observer. Not thread-safe: set it before use. */
void pinset__ossl_set_observer(pinset_ossl *pin, pinset__ossl_observer fn, void *payload);

/* A new reference to the current policy snapshot, or NULL. */
pinset_policy *pinset__ossl_policy(pinset_ossl *pin);

/* The snapshot the connection's last check used (borrowed), or NULL. */
pinset_policy *pinset__ossl_used(const pinset_ossl *pin, const SSL *ssl);

#endif /* PINSET_OPENSSL_INT_H */
