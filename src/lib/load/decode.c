/*
 * decode.c - the decoders of certificates (full, and the PINSET_LOAD_PINS_ONLY
 * span), trusted certificates, public keys (SPKI, PKCS#1), private keys
 * (PKCS#8, encrypted PKCS#8, traditional RSA/EC) and CSRs, and the dispatch
 * by kind. Every DER object must be consumed completely by its OpenSSL
 * decoder; a certificate must also re-encode to the same bytes. Private keys
 * keep only their public half (the SPKI DER); decoded private-key bytes are
 * wiped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/der.h"
#include "internal.h"
#include "load/load_int.h"
#include "util/rfc3339.h"

static const struct {
    const char *ossl;
    const char *name;
} key_types[] = {
    {"RSA", "RSA"},         {"RSA-PSS", "RSA-PSS"}, {"EC", "EC"},
    {"ED25519", "ED25519"}, {"ED448", "ED448"},     {"X25519", "X25519"},
    {"X448", "X448"},       {"DSA", "DSA"},         {"SM2", "SM2"},
};

static const struct {
    const char *ossl;
    const char *name;
} groups[] = {
    {"prime256v1", "P-256"}, {"secp384r1", "P-384"}, {"secp521r1", "P-521"},
    {"P-256", "P-256"},      {"P-384", "P-384"},     {"P-521", "P-521"},
};

static void key_info(struct pinset_object *o, const EVP_PKEY *pk)
{
    char group[sizeof(o->key_group)];
    size_t glen = 0;
    int bits;

    if (pk == NULL) {
        return;
    }
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(key_types); i++) {
        if (EVP_PKEY_is_a(pk, key_types[i].ossl)) {
            o->key_type = key_types[i].name;
            break;
        }
    }
    bits = EVP_PKEY_get_bits(pk);
    o->key_bits = bits > 0 ? (unsigned int)bits : 0;
    ERR_set_mark();
    if ((EVP_PKEY_is_a(pk, "EC") || EVP_PKEY_is_a(pk, "SM2")) &&
        EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) == 1 && glen < sizeof(group)) {
        const char *name = group;

        for (size_t i = 0; i < PINSET_ARRAY_SIZE(groups); i++) {
            if (strcmp(group, groups[i].ossl) == 0) {
                name = groups[i].name;
                break;
            }
        }
        (void)snprintf(o->key_group, sizeof(o->key_group), "%s", name);
    }
    ERR_pop_to_mark();
}

/* Copy der[0..len) into a new buffer. */
static pinset_err copy_der(const struct load_ctx *c, uint8_t **out, const uint8_t *der, size_t len)
{
    *out = pinset__alloc(len);
    if (*out == NULL) {
        return pinset__load_fail(c, PINSET_E_NOMEM, "out of memory");
    }
    memcpy(*out, der, len);
    return PINSET_OK;
}

/* Add a key object from a decoded key (public or private): keep only its SPKI DER. */
pinset_err pinset__load_add_pkey(struct load_ctx *c, const EVP_PKEY *pk, pinset_object_type type)
{
    struct pinset_object *o = NULL;
    unsigned char *p;
    pinset_err err;
    int n;

    err = pinset__load_push(c, &o);
    if (err != PINSET_OK) {
        return err;
    }
    ERR_set_mark();
    n = i2d_PUBKEY(pk, NULL);
    if (n <= 0) {
        return pinset__load_fail(c, PINSET_E_CRYPTO, "cannot encode the public key: %s",
                                 pinset__load_ossl_reason());
    }
    o->der = pinset__alloc((size_t)n);
    if (o->der == NULL) {
        ERR_pop_to_mark();
        return pinset__load_fail(c, PINSET_E_NOMEM, "out of memory");
    }
    o->der_len = (size_t)n;
    p = o->der;
    if (i2d_PUBKEY(pk, &p) != n) {
        const char *r = pinset__load_ossl_reason();

        pinset__load_object_clear(o);
        return pinset__load_fail(c, PINSET_E_CRYPTO, "cannot encode the public key: %s", r);
    }
    ERR_pop_to_mark();
    o->type = type;
    o->spki_off = 0;
    o->spki_len = o->der_len;
    key_info(o, pk);
    pinset__load_commit(c);
    return PINSET_OK;
}

/* RFC 2253 text of a name into a new string. */
static pinset_err name_text(const struct load_ctx *c, char **out, const X509_NAME *name)
{
    BIO *bio;
    char *data = NULL;
    long n;
    pinset_err err = PINSET_OK;

    *out = NULL;
    if (name == NULL) {
        return PINSET_OK;
    }
    ERR_set_mark();
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
        err = pinset__load_fail(c, PINSET_E_NOMEM, "cannot print a name: %s",
                                pinset__load_ossl_reason());
        BIO_free(bio);
        return err;
    }
    n = BIO_get_mem_data(bio, &data);
    *out = pinset__strndup(n > 0 ? data : "", n > 0 ? (size_t)n : 0);
    if (*out == NULL) {
        err = pinset__load_fail(c, PINSET_E_NOMEM, "out of memory");
    }
    BIO_free(bio);
    ERR_pop_to_mark();
    return err;
}

/* The descriptive fields of a fully decoded certificate. */
static pinset_err cert_info(const struct load_ctx *c, struct pinset_object *o, X509 *x)
{
    pinset_err err;

    err = name_text(c, &o->subject, X509_get_subject_name(x));
    if (err == PINSET_OK) {
        err = name_text(c, &o->issuer, X509_get_issuer_name(x));
    }
    if (err != PINSET_OK) {
        return err;
    }
    ERR_set_mark();
    key_info(o, X509_get0_pubkey(x));
    /* RFC 5280 section 4.2.1.9: basicConstraints cA; X509_check_ca() == 1 means exactly that. */
    o->is_ca = X509_check_ca(x) == 1;
    ERR_pop_to_mark();
    o->has_validity = pinset__time_from_asn1(&o->not_before, X509_get0_notBefore(x)) == 0 &&
                      pinset__time_from_asn1(&o->not_after, X509_get0_notAfter(x)) == 0;
    return PINSET_OK;
}

/*
 * Decode a certificate fully: all of der consumed, and OpenSSL's encoding
 * equal to the input (so the cert pin is the hash of these very bytes).
 */
static pinset_err decode_x509(const struct load_ctx *c, X509 **out, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    unsigned char *enc = NULL;
    X509 *x;
    int n, same;

    *out = NULL;
    ERR_set_mark();
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        return pinset__load_refuse(c, "a certificate", pinset__load_ossl_reason(), der, len);
    }
    if (p != der + len) {
        ERR_pop_to_mark();
        X509_free(x);
        return pinset__load_fail(c, PINSET_E_PARSE, "%zu trailing bytes after the certificate",
                                 (size_t)(der + len - p));
    }
    n = i2d_X509(x, &enc);
    if (n < 0) {
        const char *r = pinset__load_ossl_reason();

        X509_free(x);
        return pinset__load_fail(c, PINSET_E_CRYPTO, "cannot encode the certificate: %s", r);
    }
    same = (size_t)n == len && memcmp(enc, der, len) == 0;
    OPENSSL_free(enc);
    ERR_pop_to_mark();
    if (!same) {
        X509_free(x);
        return pinset__load_fail(c, PINSET_E_PARSE,
                                 "certificate is not in der (ber or non-canonical encoding)");
    }
    *out = x;
    return PINSET_OK;
}

/* The SPKI span of a decoded certificate, re-encoded into its own buffer (fallback path). */
static pinset_err spki_of_x509(const struct load_ctx *c, uint8_t **out, size_t *len, const X509 *x)
{
    unsigned char *p;
    int n;

    ERR_set_mark();
    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), NULL);
    if (n <= 0) {
        return pinset__load_fail(c, PINSET_E_CRYPTO, "cannot encode the certificate's key: %s",
                                 pinset__load_ossl_reason());
    }
    *out = pinset__alloc((size_t)n);
    if (*out == NULL) {
        ERR_pop_to_mark();
        return pinset__load_fail(c, PINSET_E_NOMEM, "out of memory");
    }
    *len = (size_t)n;
    p = *out;
    if (i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p) != n) {
        return pinset__load_fail(c, PINSET_E_CRYPTO, "cannot encode the certificate's key: %s",
                                 pinset__load_ossl_reason());
    }
    ERR_pop_to_mark();
    return PINSET_OK;
}

/* Locate the SPKI inside a certificate's DER by searching for its encoding. */
static int find_span(const uint8_t *der, size_t len, const uint8_t *spki, size_t n, size_t *off)
{
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (der[i] == spki[0] && memcmp(der + i, spki, n) == 0) {
            *off = i;
            return 1;
        }
    }
    return 0;
}

/*
 * PINSET_LOAD_PINS_ONLY: locate the SPKI without building an X509. When the
 * DER walker declines, OpenSSL decides (and gives the error), and the span
 * is found again from OpenSSL's encoding of the certificate's key.
 */
static pinset_err pins_only_span(const struct load_ctx *c, const uint8_t *der, size_t len,
                                 size_t *off, size_t *n)
{
    const uint8_t *spki = NULL;
    uint8_t *own = NULL;
    size_t own_len = 0;
    X509 *x = NULL;
    pinset_err err;

    if (pinset__der_cert_spki(der, len, &spki, n) == PINSET_OK) {
        *off = (size_t)(spki - der);
        return PINSET_OK;
    }
    err = decode_x509(c, &x, der, len);
    if (err == PINSET_OK) {
        err = spki_of_x509(c, &own, &own_len, x);
    }
    if (err == PINSET_OK && !find_span(der, len, own, own_len, off)) {
        err = pinset__load_fail(c, PINSET_E_PARSE, "certificate key not found in its der");
    }
    *n = own_len;
    pinset__free(own);
    X509_free(x);
    return err;
}

pinset_err pinset__load_add_cert(struct load_ctx *c, const uint8_t *der, size_t len)
{
    struct pinset_object *o = NULL;
    size_t spki_off = 0, spki_len = 0;
    X509 *x = NULL;
    pinset_err err;

    if (c->flags & PINSET_LOAD_PINS_ONLY) {
        err = pins_only_span(c, der, len, &spki_off, &spki_len);
    } else {
        err = decode_x509(c, &x, der, len);
    }
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset__load_push(c, &o);
    if (err == PINSET_OK) {
        err = copy_der(c, &o->der, der, len);
    }
    if (err != PINSET_OK) {
        X509_free(x);
        return err;
    }
    o->type = PINSET_OBJ_CERT;
    o->der_len = len;
    if (x != NULL) {
        o->x509 = x;
        err = cert_info(c, o, x);
        if (err != PINSET_OK) {
            pinset__load_object_clear(o);
            return err;
        }
    } else {
        o->spki_off = spki_off;
        o->spki_len = spki_len;
    }
    pinset__load_commit(c);
    return PINSET_OK;
}

/* TRUSTED CERTIFICATE: a certificate followed by OpenSSL's trust settings. */
pinset_err pinset__load_add_trusted_cert(struct load_ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    size_t total = 0;
    pinset_err err;
    X509 *x;

    if (pinset__load_der_outer(der, len, &total) != OUTER_OK) {
        return pinset__load_check_outer(c, der, len);
    }
    ERR_set_mark();
    x = d2i_X509_AUX(NULL, &p, (long)len);
    if (x == NULL) {
        return pinset__load_refuse(c, "a trusted certificate", pinset__load_ossl_reason(), der,
                                   len);
    }
    X509_free(x);
    ERR_pop_to_mark();
    if (p != der + len) {
        return pinset__load_fail(c, PINSET_E_PARSE,
                                 "%zu trailing bytes after the trusted certificate",
                                 (size_t)(der + len - p));
    }
    err = pinset__load_check_framing(c, der, total);
    return err != PINSET_OK ? err : pinset__load_add_cert(c, der, total);
}

static pinset_err add_spki(struct load_ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *pk;
    pinset_err err;

    ERR_set_mark();
    pk = d2i_PUBKEY(NULL, &p, (long)len);
    if (pk == NULL) {
        return pinset__load_refuse(c, "a public key", pinset__load_ossl_reason(), der, len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        EVP_PKEY_free(pk);
        return pinset__load_fail(c, PINSET_E_PARSE, "trailing bytes after the public key");
    }
    err = pinset__load_add_pkey(c, pk, PINSET_OBJ_PUBKEY);
    EVP_PKEY_free(pk);
    return err;
}

/* K_RSAPUB (PKCS#1 RSAPublicKey), K_TRAD_RSA, K_TRAD_EC (traditional private keys). */
static pinset_err add_typed_key(struct load_ctx *c, enum load_kind k, const uint8_t *der,
                                size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *pk;
    pinset_err err;

    ERR_set_mark();
    if (k == K_RSAPUB) {
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    } else {
        pk = d2i_PrivateKey(k == K_TRAD_RSA ? EVP_PKEY_RSA : EVP_PKEY_EC, NULL, &p, (long)len);
    }
    if (pk == NULL) {
        return pinset__load_refuse(c, pinset__load_kind_text(k), pinset__load_ossl_reason(), der,
                                   len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        EVP_PKEY_free(pk);
        return pinset__load_fail(c, PINSET_E_PARSE, "trailing bytes after the key");
    }
    err = pinset__load_add_pkey(c, pk, k == K_RSAPUB ? PINSET_OBJ_PUBKEY : PINSET_OBJ_PRIVKEY);
    EVP_PKEY_free(pk);
    return err;
}

/* An unencrypted PKCS#8 PrivateKeyInfo; p8 is consumed. */
static pinset_err add_p8inf(struct load_ctx *c, PKCS8_PRIV_KEY_INFO *p8)
{
    EVP_PKEY *pk;
    pinset_err err;

    ERR_set_mark();
    pk = EVP_PKCS82PKEY(p8);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (pk == NULL) {
        return pinset__load_fail(c, PINSET_E_PARSE, "cannot decode the private key: %s",
                                 pinset__load_ossl_reason());
    }
    ERR_pop_to_mark();
    err = pinset__load_add_pkey(c, pk, PINSET_OBJ_PRIVKEY);
    EVP_PKEY_free(pk);
    return err;
}

static pinset_err add_p8(struct load_ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8;

    ERR_set_mark();
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    if (p8 == NULL) {
        return pinset__load_refuse(c, "a pkcs#8 private key", pinset__load_ossl_reason(), der, len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        PKCS8_PRIV_KEY_INFO_free(p8);
        return pinset__load_fail(c, PINSET_E_PARSE, "trailing bytes after the private key");
    }
    return add_p8inf(c, p8);
}

static pinset_err add_p8enc(struct load_ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8;
    X509_SIG *sig;

    ERR_set_mark();
    sig = d2i_X509_SIG(NULL, &p, (long)len);
    if (sig == NULL) {
        return pinset__load_refuse(c, "an encrypted private key", pinset__load_ossl_reason(), der,
                                   len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        X509_SIG_free(sig);
        return pinset__load_fail(c, PINSET_E_PARSE,
                                 "trailing bytes after the encrypted private key");
    }
    if (c->pass == NULL) {
        X509_SIG_free(sig);
        return pinset__load_fail(c, PINSET_E_PASSPHRASE,
                                 "encrypted private key needs a passphrase");
    }
    ERR_set_mark();
    p8 = PKCS8_decrypt(sig, c->pass, (int)c->pass_len);
    X509_SIG_free(sig);
    if (p8 == NULL) {
        ERR_pop_to_mark();
        return pinset__load_fail(c, PINSET_E_PASSPHRASE, "wrong passphrase");
    }
    ERR_pop_to_mark();
    return add_p8inf(c, p8);
}

static pinset_err add_csr(struct load_ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    struct pinset_object *o = NULL;
    X509_REQ *req;
    pinset_err err;

    ERR_set_mark();
    req = d2i_X509_REQ(NULL, &p, (long)len);
    if (req == NULL) {
        return pinset__load_refuse(c, "a certificate request", pinset__load_ossl_reason(), der,
                                   len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        X509_REQ_free(req);
        return pinset__load_fail(c, PINSET_E_PARSE, "trailing bytes after the certificate request");
    }
    ERR_set_mark();
    if (X509_REQ_get0_pubkey(req) == NULL) {
        X509_REQ_free(req);
        return pinset__load_fail(c, PINSET_E_PARSE, "certificate request key: %s",
                                 pinset__load_ossl_reason());
    }
    ERR_pop_to_mark();
    err = pinset__load_add_pkey(c, X509_REQ_get0_pubkey(req), PINSET_OBJ_CSR);
    if (err == PINSET_OK && !(c->flags & PINSET_LOAD_PINS_ONLY)) {
        o = &c->b->objs[c->b->count - 1];
        err = name_text(c, &o->subject, X509_REQ_get_subject_name(req));
        if (err != PINSET_OK) {
            c->b->count--;
            c->index--;
            pinset__load_object_clear(o);
        }
    }
    X509_REQ_free(req);
    return err;
}

/* ---- dispatch ---- */

pinset_err pinset__load_add_kind(struct load_ctx *c, enum load_kind k, const uint8_t *der,
                                 size_t len)
{
    switch (k) {
    case K_CERT:
        return pinset__load_add_cert(c, der, len);
    case K_SPKI:
        return add_spki(c, der, len);
    case K_CSR:
        return add_csr(c, der, len);
    case K_P8:
        return add_p8(c, der, len);
    case K_P8ENC:
        return add_p8enc(c, der, len);
    case K_P12:
        return pinset__load_add_p12(c, der, len);
    case K_RSAPUB:
    case K_TRAD_RSA:
    case K_TRAD_EC:
        return add_typed_key(c, k, der, len);
    case K_NONE:
    default:
        return pinset__load_fail(
            c, PINSET_E_PARSE,
            "not a certificate, public key, private key, certificate request or pkcs#12 file");
    }
}
