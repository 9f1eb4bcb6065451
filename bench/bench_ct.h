/*
 * bench_ct.h - the Certificate Transparency benchmark's log (header-only, shared by
 * bench_ct_log.c, the loopback RFC 6962 server, and bench_ct_floor.c, the in-process floor):
 * a pool of certificates made at bench time and the entries built from it.
 *
 * Entry i is pool certificate i % BENCH_CT_POOL with timestamp BENCH_CT_T0 + i, an x509 entry,
 * or a precert entry (the certificate's TBSCertificate) for every fourth pool slot. In the pool,
 * slot 0 is www.example.com on the pinned key, slot 1 www.example.com and slot 3 (a precert)
 * api.example.com on unknown keys; every other slot is a name nobody watches (the bulk of a real
 * log). So 3 entries in 64 are watched and 2 in 64 alert.
 */
#ifndef PINSET_BENCH_CT_H
#define PINSET_BENCH_CT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki.h"

#define BENCH_CT_POOL 64
#define BENCH_CT_T0   1767225600000ull

struct bench_ct_pool {
    testlib_pki pki;
    uint8_t *der[BENCH_CT_POOL]; /* the certificate, or the TBSCertificate of a precert slot */
    size_t der_len[BENCH_CT_POOL];
    uint8_t *cert[BENCH_CT_POOL]; /* the certificate (a precert entry's pre_certificate) */
    size_t cert_len[BENCH_CT_POOL];
    uint8_t ikh[32]; /* the issuer key hash of precert entries */
    uint8_t *issuer; /* the issuing CA's DER: every entry's chain */
    size_t issuer_len;
};

static inline int bench_ct_precert(size_t slot)
{
    return slot % 4 == 3;
}

static inline int bench_ct_pool_make(struct bench_ct_pool *p)
{
    uint8_t *spki = NULL;
    int n;

    memset(p, 0, sizeof(*p));
    if (testlib_pki_make(&p->pki, "www.example.com") != 0) {
        return -1;
    }
    for (size_t i = 0; i < BENCH_CT_POOL; i++) {
        char dns[64];
        X509 *x;
        int len;

        if (i == 0) {
            x = p->pki.leaf;
            X509_up_ref(x);
        } else {
            if (i == 1 || i == 3) {
                snprintf(dns, sizeof(dns), "%s.example.com", i == 1 ? "www" : "api");
            } else {
                snprintf(dns, sizeof(dns), "host%zu.unwatched%zu.test", i, i % 7);
            }
            x = testlib_pki_leaf(&p->pki, NULL, dns, (long)(100 + i));
        }
        if (x == NULL) {
            return -1;
        }
        if (bench_ct_precert(i)) {
            /* A real precertificate (RFC 6962 section 3.1): the poison extension, critical, in the
             * pre_certificate; the TBSCertificate of the leaf is the same without it. */
            ASN1_NULL *null = ASN1_NULL_new();
            int ok =
                null != NULL &&
                X509_add1_ext_i2d(x, NID_ct_precert_poison, null, 1, X509V3_ADD_DEFAULT) == 1 &&
                X509_sign(x, p->pki.int_key, EVP_sha256()) > 0;

            ASN1_NULL_free(null);
            len = ok ? i2d_X509(x, &p->cert[i]) : 0;
            p->cert_len[i] = len > 0 ? (size_t)len : 0;
            X509_EXTENSION *poison =
                ok ? X509_delete_ext(x, X509_get_ext_by_NID(x, NID_ct_precert_poison, -1)) : NULL;

            len = poison != NULL ? i2d_re_X509_tbs(x, &p->der[i]) : 0;
            X509_EXTENSION_free(poison);
        } else {
            len = i2d_X509(x, &p->cert[i]);
            p->cert_len[i] = len > 0 ? (size_t)len : 0;
            len = i2d_X509(x, &p->der[i]);
        }
        X509_free(x);
        if (len <= 0 || p->cert_len[i] == 0) {
            return -1;
        }
        p->der_len[i] = (size_t)len;
    }
    n = i2d_X509(p->pki.inter, &p->issuer);
    if (n <= 0) {
        return -1;
    }
    p->issuer_len = (size_t)n;
    n = i2d_PUBKEY(X509_get0_pubkey(p->pki.inter), &spki);
    if (n <= 0) {
        return -1;
    }
    EVP_Digest(spki, (size_t)n, p->ikh, NULL, EVP_sha256(), NULL);
    OPENSSL_free(spki);
    return 0;
}

/* The MerkleTreeLeaf of entry i into out (cap bytes); its length, or 0. */
static inline size_t bench_ct_leaf(const struct bench_ct_pool *p, uint64_t i, uint8_t *out,
                                   size_t cap)
{
    size_t slot = (size_t)(i % BENCH_CT_POOL), o = 0, len = p->der_len[slot];
    uint64_t ts = BENCH_CT_T0 + i;
    int pre = bench_ct_precert(slot);

    if (cap < 2 + 8 + 2 + 32 + 3 + len + 2) {
        return 0;
    }
    out[o++] = 0;
    out[o++] = 0;
    for (int k = 7; k >= 0; k--) {
        out[o++] = (uint8_t)(ts >> (8 * k));
    }
    out[o++] = 0;
    out[o++] = (uint8_t)pre;
    if (pre) {
        memcpy(out + o, p->ikh, 32);
        o += 32;
    }
    out[o++] = (uint8_t)(len >> 16);
    out[o++] = (uint8_t)(len >> 8);
    out[o++] = (uint8_t)len;
    memcpy(out + o, p->der[slot], len);
    o += len;
    out[o++] = 0;
    out[o++] = 0;
    return o;
}

/* The extra_data of pool slot `slot` into out: (pre_certificate and) the issuer. Its length. */
static inline size_t bench_ct_extra(const struct bench_ct_pool *p, size_t slot, uint8_t *out,
                                    size_t cap)
{
    size_t o = 0, chain = 3 + p->issuer_len;

    if (cap < 3 + p->cert_len[slot] + 3 + chain) {
        return 0;
    }
    if (bench_ct_precert(slot)) {
        out[o++] = (uint8_t)(p->cert_len[slot] >> 16);
        out[o++] = (uint8_t)(p->cert_len[slot] >> 8);
        out[o++] = (uint8_t)p->cert_len[slot];
        memcpy(out + o, p->cert[slot], p->cert_len[slot]);
        o += p->cert_len[slot];
    }
    out[o++] = (uint8_t)(chain >> 16);
    out[o++] = (uint8_t)(chain >> 8);
    out[o++] = (uint8_t)chain;
    out[o++] = (uint8_t)(p->issuer_len >> 16);
    out[o++] = (uint8_t)(p->issuer_len >> 8);
    out[o++] = (uint8_t)p->issuer_len;
    memcpy(out + o, p->issuer, p->issuer_len);
    return o + p->issuer_len;
}

static inline void bench_ct_pool_free(struct bench_ct_pool *p)
{
    for (size_t i = 0; i < BENCH_CT_POOL; i++) {
        OPENSSL_free(p->der[i]);
        OPENSSL_free(p->cert[i]);
    }
    OPENSSL_free(p->issuer);
    testlib_pki_free(&p->pki);
}

#endif /* PINSET_BENCH_CT_H */
