/*
 * pki.h - test-PKI helpers for tests and benchmarks: certificates from the
 * generated test PKI (tests/data, PINSET_TESTDATA), pins computed with
 * OpenSSL alone (to check the library and the tool against), and a small
 * PKI made in memory (EC P-256 root, intermediate, leaf) for programs that
 * need no files. Test-only.
 */
#ifndef PINSET_TESTLIB_PKI_H
#define PINSET_TESTLIB_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The first certificate of the PEM file dir/name; NULL when it cannot be read. */
X509 *testlib_load_cert(const char *dir, const char *name);

/* The pins below of the first certificate of dir/name; 0, or -1 when it cannot be read. */
int testlib_file_spki_sha256(const char *dir, const char *name, unsigned char out[32]);
int testlib_file_spki_b64(const char *dir, const char *name, char out[45]);

/* SHA-256 of the certificate's SubjectPublicKeyInfo (all zero on failure). */
void testlib_spki_sha256(X509 *x, unsigned char out[32]);
/* The same in RFC 7469 base64 (44 characters and a NUL; "" on failure). */
void testlib_spki_b64(X509 *x, char out[45]);

/* An in-memory PKI: root and intermediate CAs, a leaf for leaf_dns (serverAuth). */
typedef struct testlib_pki {
    EVP_PKEY *root_key, *int_key, *leaf_key;
    X509 *root, *inter, *leaf;
} testlib_pki;

/* Make one (valid from an hour ago for a year); 0, or -1 with everything freed. */
int testlib_pki_make(testlib_pki *p, const char *leaf_dns);
void testlib_pki_free(testlib_pki *p);
/* One more leaf from p's intermediate: for dns (SAN and CN), on key (a new P-256 key when NULL). */
X509 *testlib_pki_leaf(const testlib_pki *p, EVP_PKEY *key, const char *dns, long serial);

#endif /* PINSET_TESTLIB_PKI_H */
