/*
 * demo_pki.c - the throw-away PKI of `pinset demo`, built with the OpenSSL API.
 */
#include "demo_pki.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common.h"

#define DEMO_CA_DAYS   3650
#define DEMO_LEAF_DAYS 90

/* What a certificate is for: the extensions it gets. */
enum cert_kind { KIND_ROOT, KIND_CA, KIND_LEAF };

static void ossl_err(char *err, size_t errcap, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200];

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(err, errcap, "demo pki: %s: %s", what, buf);
    } else {
        snprintf(err, errcap, "demo pki: %s failed", what);
    }
    ERR_clear_error();
}

static EVP_PKEY *new_key(char *err, size_t errcap)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    if (k == NULL) {
        ossl_err(err, errcap, "generating a P-256 key");
    }
    return k;
}

/* A random positive 64-bit serial number (RFC 5280 §4.1.2.2: at most 20 octets). */
static int set_serial(X509 *x)
{
    unsigned char r[8];
    BIGNUM *bn;
    int ok;

    if (RAND_bytes(r, (int)sizeof(r)) != 1) {
        return -1;
    }
    r[0] &= 0x7f;
    r[0] |= 0x01; /* never zero, never negative */
    bn = BN_bin2bn(r, (int)sizeof(r), NULL);
    ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

static int set_name(X509_NAME *name, const char *org, const char *cn)
{
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1) {
        return -1;
    }
    return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok;

    if (ext == NULL) {
        return -1;
    }
    ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static int add_exts(X509 *x, X509 *issuer, enum cert_kind kind, const char *host)
{
    X509V3_CTX ctx;
    char san[300];

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    switch (kind) {
    case KIND_ROOT:
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") != 0) {
            return -1;
        }
        break;
    case KIND_CA:
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") != 0) {
            return -1;
        }
        break;
    case KIND_LEAF:
    default:
        snprintf(san, sizeof(san), "DNS:%s", host);
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") != 0 ||
            add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") != 0 ||
            add_ext(x, &ctx, NID_subject_alt_name, san) != 0) {
            return -1;
        }
        break;
    }
    /* the subject key id first: a self-signed root's authority key id refers to it */
    if (add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") != 0) {
        return -1;
    }
    return 0;
}

/*
 * One certificate: `key`'s public half, named (org, cn), signed by
 * issuer_key as `issuer` (NULL issuer: self-signed with key).
 */
static X509 *make_cert(EVP_PKEY *key, const char *org, const char *cn, X509 *issuer,
                       EVP_PKEY *issuer_key, enum cert_kind kind, const char *host, char *err,
                       size_t errcap)
{
    X509 *x = X509_new();
    long days = kind == KIND_LEAF ? DEMO_LEAF_DAYS : DEMO_CA_DAYS;

    if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) != 0 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) == NULL ||
        X509_set_pubkey(x, key) != 1 || set_name(X509_get_subject_name(x), org, cn) != 0) {
        goto fail;
    }
    if (X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
                                               : X509_get_subject_name(x)) != 1 ||
        add_exts(x, issuer != NULL ? issuer : x, kind, host) != 0 ||
        X509_sign(x, issuer != NULL ? issuer_key : key, EVP_sha256()) <= 0) {
        goto fail;
    }
    return x;
fail:
    ossl_err(err, errcap, cn);
    X509_free(x);
    return NULL;
}

int demo_pki_generate(demo_pki *pki, const char *host, char *err, size_t errcap)
{
    memset(pki, 0, sizeof(*pki));
    pki->root_key = new_key(err, errcap);
    pki->ca_key = pki->root_key != NULL ? new_key(err, errcap) : NULL;
    pki->leaf_key = pki->ca_key != NULL ? new_key(err, errcap) : NULL;
    pki->backup_key = pki->leaf_key != NULL ? new_key(err, errcap) : NULL;
    pki->rogue_key = pki->backup_key != NULL ? new_key(err, errcap) : NULL;
    pki->rogue_leaf_key = pki->rogue_key != NULL ? new_key(err, errcap) : NULL;
    if (pki->rogue_leaf_key == NULL) {
        return -1;
    }
    pki->root = make_cert(pki->root_key, "pinset demo", "pinset demo root CA", NULL, NULL,
                          KIND_ROOT, host, err, errcap);
    if (pki->root == NULL) {
        return -1;
    }
    pki->ca = make_cert(pki->ca_key, "pinset demo", "pinset demo issuing CA", pki->root,
                        pki->root_key, KIND_CA, host, err, errcap);
    if (pki->ca == NULL) {
        return -1;
    }
    pki->leaf = make_cert(pki->leaf_key, "pinset demo", host, pki->ca, pki->ca_key, KIND_LEAF, host,
                          err, errcap);
    pki->rotated_leaf = pki->leaf != NULL ? make_cert(pki->backup_key, "pinset demo", host, pki->ca,
                                                      pki->ca_key, KIND_LEAF, host, err, errcap)
                                          : NULL;
    if (pki->rotated_leaf == NULL) {
        return -1;
    }
    pki->rogue_root = make_cert(pki->rogue_key, "mis-issuing CA (demo)", "rogue trusted root", NULL,
                                NULL, KIND_ROOT, host, err, errcap);
    if (pki->rogue_root == NULL) {
        return -1;
    }
    pki->rogue_leaf = make_cert(pki->rogue_leaf_key, "pinset demo", host, pki->rogue_root,
                                pki->rogue_key, KIND_LEAF, host, err, errcap);
    return pki->rogue_leaf != NULL ? 0 : -1;
}

void demo_pki_free(demo_pki *pki)
{
    /* EVP_PKEY_free wipes the private key material (OpenSSL clears it on free) */
    EVP_PKEY_free(pki->root_key);
    EVP_PKEY_free(pki->ca_key);
    EVP_PKEY_free(pki->leaf_key);
    EVP_PKEY_free(pki->backup_key);
    EVP_PKEY_free(pki->rogue_key);
    EVP_PKEY_free(pki->rogue_leaf_key);
    X509_free(pki->root);
    X509_free(pki->ca);
    X509_free(pki->leaf);
    X509_free(pki->rotated_leaf);
    X509_free(pki->rogue_root);
    X509_free(pki->rogue_leaf);
    memset(pki, 0, sizeof(*pki));
}
