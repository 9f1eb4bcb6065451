/*
 * demo_pki.h - the throw-away PKI of `pinset demo`, generated in memory with
 * the OpenSSL API (no openssl CLI, no files): ECDSA P-256 keys throughout.
 *
 *   genuine root CA -> issuing CA -> leaf for the demo host (the live key)
 *                                 -> rotated leaf (the backup key, deployed)
 *   rogue root CA (also trusted)  -> mis-issued leaf for the same host
 *   backup key: generated now, not deployed until the rotation
 *
 * Caveats: for a demonstration only. The keys live in memory for the run and
 * are never written anywhere; the certificates carry no CRL or OCSP pointers.
 */
#ifndef PINSET_CLI_DEMO_PKI_H
#define PINSET_CLI_DEMO_PKI_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct demo_pki {
    EVP_PKEY *root_key, *ca_key, *leaf_key, *backup_key, *rogue_key, *rogue_leaf_key;
    X509 *root;         /* genuine root CA, self-signed */
    X509 *ca;           /* issuing (intermediate) CA, signed by root */
    X509 *leaf;         /* the live leaf, signed by ca, key leaf_key */
    X509 *rotated_leaf; /* a new leaf, signed by ca, key backup_key */
    X509 *rogue_root;   /* a second trusted root that mis-issues */
    X509 *rogue_leaf;   /* leaf for the same host, signed by rogue_root */
} demo_pki;

/*
 * Generate every key and certificate for `host` (a DNS name). Returns 0, or
 * -1 with a one-line message in err (then call demo_pki_free).
 */
int demo_pki_generate(demo_pki *pki, const char *host, char *err, size_t errcap);

/* Free everything; the struct is zeroed. */
void demo_pki_free(demo_pki *pki);

#endif /* PINSET_CLI_DEMO_PKI_H */
