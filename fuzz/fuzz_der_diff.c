/*
 * fuzz_der_diff.c - differential target for pinset__der_cert_spki (der.c)
 * against OpenSSL's d2i_X509 + i2d_X509_PUBKEY.
 *
 * Property: whenever the fast walker accepts an input, d2i_X509 accepts it,
 * consuming every byte, and the SPKI span the walker returns is
 * byte-identical to i2d_X509_PUBKEY's output. Declining is always fine.
 * Also: i2d_X509 re-encodes an accepted input to the same bytes, so the fast
 * path never accepts what a loader that insists on canonical DER rejects.
 * Any violation aborts. Seeds: fuzz/corpus/der_diff/ (real certificates,
 * crafted OpenSSL edge cases, structure-aware mutants, fuzzer finds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_der_diff: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    const unsigned char *p = data;
    unsigned char *enc = NULL;
    unsigned char *re = NULL;
    X509 *x;
    int enc_len;
    int re_len;

    if (pinset__der_cert_spki(data, size, &spki, &spki_len) != PINSET_OK) {
        return 0;
    }
    if (spki == NULL || spki < data || spki_len > size || (size_t)(spki - data) > size - spki_len) {
        fail("spki span outside the input");
    }
    if (size > 0x7fffffff) {
        return 0;
    }
    x = d2i_X509(NULL, &p, (long)size);
    if (x == NULL) {
        fail("fast path accepted what d2i_X509 rejects");
    }
    if ((size_t)(p - data) != size) {
        fail("d2i_X509 did not consume the whole input the fast path accepted");
    }
    enc_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &enc);
    if (enc_len <= 0) {
        fail("i2d_X509_PUBKEY failed on a certificate the fast path accepted");
    }
    if ((size_t)enc_len != spki_len || memcmp(enc, spki, spki_len) != 0) {
        fail("spki bytes differ from i2d_X509_PUBKEY");
    }
    re_len = i2d_X509(x, &re);
    if (re_len <= 0 || (size_t)re_len != size || memcmp(re, data, size) != 0) {
        fail("i2d_X509 does not reproduce a certificate the fast path accepted");
    }
    OPENSSL_free(re);
    OPENSSL_free(enc);
    X509_free(x);
    ERR_clear_error();
    return 0;
}
