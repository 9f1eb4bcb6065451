/*
 * pki.c - test-PKI helpers (see pki.h).
 */
#include "pki.h"

#include <stdio.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

X509 *testlib_load_cert(const char *dir, const char *name)
{
    char path[1100];
    FILE *f;
    X509 *x;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

void testlib_spki_sha256(X509 *x, unsigned char out[32])
{
    unsigned char *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

    memset(out, 0, 32);
    if (len > 0) {
        SHA256(der, (size_t)len, out);
    }
    OPENSSL_free(der);
}

void testlib_spki_b64(X509 *x, char out[45])
{
    unsigned char *der = NULL, md[32];
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

    out[0] = '\0';
    if (len > 0) {
        SHA256(der, (size_t)len, md);
        EVP_EncodeBlock((unsigned char *)out, md, 32);
    }
    OPENSSL_free(der);
}

int testlib_file_spki_sha256(const char *dir, const char *name, unsigned char out[32])
{
    X509 *x = testlib_load_cert(dir, name);

    if (x == NULL) {
        return -1;
    }
    testlib_spki_sha256(x, out);
    X509_free(x);
    return 0;
}

int testlib_file_spki_b64(const char *dir, const char *name, char out[45])
{
    X509 *x = testlib_load_cert(dir, name);

    if (x == NULL) {
        return -1;
    }
    testlib_spki_b64(x, out);
    X509_free(x);
    return 0;
}

static int ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *e;
    int ok;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    ok = e != NULL && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

static int ca_exts(X509 *x, X509 *issuer)
{
    return ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE") |
           ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
}

static int leaf_exts(X509 *x, X509 *issuer, const char *dns)
{
    char san[300];

    snprintf(san, sizeof(san), "DNS:%s", dns);
    return ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") |
           ext(x, issuer, NID_subject_alt_name, san) |
           ext(x, issuer, NID_ext_key_usage, "serverAuth");
}

/* A certificate for key, issued by issuer (NULL: self-signed); leaf_dns NULL makes a CA. */
static X509 *cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                  const char *leaf_dns, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int bad = x == NULL || name == NULL;

    if (!bad) {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_subject_name(x, name);
        X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
        X509_set_pubkey(x, key);
        bad = leaf_dns != NULL ? leaf_exts(x, issuer, leaf_dns)
                               : ca_exts(x, issuer != NULL ? issuer : x);
        bad = bad || !X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256());
    }
    X509_NAME_free(name);
    if (bad) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int testlib_pki_make(testlib_pki *p, const char *leaf_dns)
{
    memset(p, 0, sizeof(*p));
    p->root_key = EVP_EC_gen("P-256");
    p->int_key = EVP_EC_gen("P-256");
    p->leaf_key = EVP_EC_gen("P-256");
    if (p->root_key == NULL || p->int_key == NULL || p->leaf_key == NULL) {
        testlib_pki_free(p);
        return -1;
    }
    p->root = cert(p->root_key, "testlib root", NULL, NULL, NULL, 1);
    p->inter = p->root != NULL
                   ? cert(p->int_key, "testlib intermediate", p->root, p->root_key, NULL, 2)
                   : NULL;
    p->leaf =
        p->inter != NULL ? cert(p->leaf_key, leaf_dns, p->inter, p->int_key, leaf_dns, 3) : NULL;
    if (p->leaf == NULL) {
        testlib_pki_free(p);
        return -1;
    }
    return 0;
}

void testlib_pki_free(testlib_pki *p)
{
    X509_free(p->root);
    X509_free(p->inter);
    X509_free(p->leaf);
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->int_key);
    EVP_PKEY_free(p->leaf_key);
    memset(p, 0, sizeof(*p));
}

X509 *testlib_pki_leaf(const testlib_pki *p, EVP_PKEY *key, const char *dns, long serial)
{
    EVP_PKEY *k = key != NULL ? key : EVP_EC_gen("P-256");
    X509 *x = k != NULL ? cert(k, dns, p->inter, p->int_key, dns, serial) : NULL;

    if (key == NULL) {
        EVP_PKEY_free(k);
    }
    return x;
}
