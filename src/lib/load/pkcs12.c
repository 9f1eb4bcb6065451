/*
 * pkcs12.c - PKCS#12 files: MAC and passphrase handling, then each
 * certificate and the private key become objects of the bundle.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "internal.h"
#include "load/load_int.h"

static pinset_err p12_objects(struct load_ctx *c, EVP_PKEY *pk, X509 *cert, STACK_OF(X509) * ca)
{
    pinset_err err = PINSET_OK;
    int n = ca != NULL ? sk_X509_num(ca) : 0;

    for (int i = -1; i < n && err == PINSET_OK; i++) {
        X509 *x = i < 0 ? cert : sk_X509_value(ca, i);
        unsigned char *der = NULL;
        int len;

        if (x == NULL) {
            continue;
        }
        ERR_set_mark();
        len = i2d_X509(x, &der);
        if (len <= 0) {
            return pinset__load_fail(c, PINSET_E_CRYPTO, "cannot encode a certificate: %s",
                                     pinset__load_ossl_reason());
        }
        ERR_pop_to_mark();
        err = pinset__load_add_cert(c, der, (size_t)len);
        OPENSSL_free(der);
    }
    if (err == PINSET_OK && pk != NULL) {
        err = pinset__load_add_pkey(c, pk, PINSET_OBJ_PRIVKEY);
    }
    return err;
}

pinset_err pinset__load_add_p12(struct load_ctx *c, const uint8_t *der, size_t len)
{
    char pass[PINSET_MAX_PASSPHRASE + 1];
    const unsigned char *p = der;
    const char *use = NULL;
    STACK_OF(X509) *ca = NULL;
    EVP_PKEY *pk = NULL;
    X509 *cert = NULL;
    PKCS12 *p12;
    pinset_err err;

    c->what = "pkcs#12";
    c->what_len = 7;
    ERR_set_mark();
    p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (p12 == NULL || p != der + len) {
        PKCS12_free(p12);
        return pinset__load_fail(c, PINSET_E_PARSE, "not a valid pkcs#12 file: %s",
                                 pinset__load_ossl_reason());
    }
    ERR_pop_to_mark();
    /* PKCS#12 functions take C strings: a temporary copy, wiped below. */
    memset(pass, 0, sizeof(pass));
    if (c->pass != NULL) {
        memcpy(pass, c->pass, c->pass_len);
        use = pass;
    }
    ERR_set_mark();
    if (PKCS12_mac_present(p12)) {
        if (use != NULL && !PKCS12_verify_mac(p12, use, (int)c->pass_len)) {
            err = pinset__load_fail(c, PINSET_E_PASSPHRASE, "wrong passphrase");
            goto out;
        }
        if (use == NULL) {
            if (PKCS12_verify_mac(p12, "", 0)) {
                use = "";
            } else if (!PKCS12_verify_mac(p12, NULL, 0)) {
                err = pinset__load_fail(c, PINSET_E_PASSPHRASE, "pkcs#12 file needs a passphrase");
                goto out;
            }
        }
    }
    if (!PKCS12_parse(p12, use, &pk, &cert, &ca)) {
        err = pinset__load_fail(c, use == NULL ? PINSET_E_PASSPHRASE : PINSET_E_CRYPTO,
                                "cannot decrypt the pkcs#12 file: %s", pinset__load_ossl_reason());
        ERR_set_mark(); /* balanced by the pop below */
        goto out;
    }
    err = p12_objects(c, pk, cert, ca);
out:
    ERR_pop_to_mark();
    pinset__wipe(pass, sizeof(pass));
    EVP_PKEY_free(pk);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return err;
}
