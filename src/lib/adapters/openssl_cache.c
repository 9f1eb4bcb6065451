/*
 * openssl_cache.c - the pins of a certificate for the OpenSSL hook: SHA-256
 * with the pre-fetched md, and the spki pin cache of each pinset_ossl (the
 * cache's key and slots are described in openssl_int.h).
 */
#include "adapters/openssl_int.h"
#include "util/digest.h"

/*
 * SHA-256 of an encoding with the pre-fetched md, through a stack buffer
 * (util/digest.c): X509_digest() would re-fetch SHA-256 and allocate on
 * every call.
 */
static int hash_i2d(uint8_t out[PINSET_PIN_LEN], pinset__i2d_fn i2d, const void *obj,
                    const EVP_MD *md)
{
    uint8_t stackbuf[4096]; /* certificates and keys in the wild fit */

    return pinset__sha256_i2d(out, i2d, obj, md, stackbuf, sizeof(stackbuf), 0) ==
           PINSET__DIGEST_OK;
}

static int i2d_cert(const void *x, unsigned char **pp)
{
    return i2d_X509((const X509 *)x, pp);
}

static int i2d_spki(const void *x, unsigned char **pp)
{
    /* the certificate's own SubjectPublicKeyInfo, as encoded in it */
    return i2d_X509_PUBKEY(X509_get_X509_PUBKEY((const X509 *)x), pp);
}

/* The cache key of a certificate's key; 0 when it is not cacheable. */
static int spki_key(const X509 *x, const ASN1_OBJECT **alg, int *ptype, const ASN1_OBJECT **param,
                    const ASN1_BIT_STRING **bits)
{
    X509_ALGOR *algor = NULL;
    const void *pval = NULL;

    if (!X509_PUBKEY_get0_param(NULL, NULL, NULL, &algor, X509_get_X509_PUBKEY(x)) ||
        algor == NULL) {
        return 0;
    }
    X509_ALGOR_get0(alg, ptype, &pval, algor);
    *param = *ptype == V_ASN1_OBJECT ? pval : NULL;
    *bits = X509_get0_pubkey_bitstr(x);
    return *alg != NULL && *bits != NULL && (*bits)->length >= 0 &&
           (*bits)->length <= SPKI_CACHE_KEY_MAX &&
           (*ptype == V_ASN1_UNDEF || *ptype == V_ASN1_NULL ||
            (*ptype == V_ASN1_OBJECT && *param != NULL));
}

static int slot_matches(const struct spki_slot *e, const ASN1_OBJECT *alg, int ptype,
                        const ASN1_OBJECT *param, const ASN1_BIT_STRING *bits)
{
    return e->alg != NULL && e->len == bits->length && e->ptype == ptype &&
           e->flags == (bits->flags & 0x0f) && memcmp(e->key, bits->data, (size_t)e->len) == 0 &&
           OBJ_cmp(e->alg, alg) == 0 && (ptype != V_ASN1_OBJECT || OBJ_cmp(e->param, param) == 0);
}

/* The spki pin of a certificate: from the cache, or hashed and cached. */
static int spki_pin(pinset_ossl *pin, uint8_t out[PINSET_PIN_LEN], const X509 *x)
{
    const ASN1_OBJECT *alg = NULL, *param = NULL;
    const ASN1_BIT_STRING *bits = NULL;
    struct spki_slot *e;
    int ptype = V_ASN1_UNDEF, hit = 0;

    if (!spki_key(x, &alg, &ptype, &param, &bits)) {
        return hash_i2d(out, i2d_spki, x, pin->md);
    }
    if (CRYPTO_THREAD_read_lock(pin->lock)) {
        for (size_t i = 0; i < SPKI_CACHE_SLOTS && !hit; i++) {
            if (slot_matches(&pin->cache[i], alg, ptype, param, bits)) {
                memcpy(out, pin->cache[i].pin, PINSET_PIN_LEN);
                hit = 1;
            }
        }
        CRYPTO_THREAD_unlock(pin->lock);
    }
    if (hit) {
        return 1;
    }
    if (!hash_i2d(out, i2d_spki, x, pin->md)) {
        return 0;
    }
    if (CRYPTO_THREAD_write_lock(pin->lock)) {
        e = &pin->cache[pin->cache_next++ % SPKI_CACHE_SLOTS];
        ASN1_OBJECT_free(e->alg);
        ASN1_OBJECT_free(e->param);
        e->alg = OBJ_dup(alg);
        e->param = param != NULL ? OBJ_dup(param) : NULL;
        if (e->alg == NULL || (param != NULL && e->param == NULL)) {
            ASN1_OBJECT_free(e->alg);
            ASN1_OBJECT_free(e->param);
            e->alg = e->param = NULL; /* out of memory: leave the slot empty */
        }
        e->ptype = ptype;
        e->flags = bits->flags & 0x0f;
        e->len = bits->length;
        if (bits->length > 0) {
            memcpy(e->key, bits->data, (size_t)bits->length);
        }
        memcpy(e->pin, out, PINSET_PIN_LEN);
        CRYPTO_THREAD_unlock(pin->lock);
    }
    return 1;
}

/* The pins of one certificate; the cert pin only when a rule needs it. */
int pinset__ossl_hash_pins(pinset_ossl *pin, pinset_cert_pins *out, const X509 *x, int need_cert)
{
    memset(out, 0, sizeof(*out));
    out->spki.kind = PINSET_PIN_SPKI;
    out->cert.kind = PINSET_PIN_CERT;
    if (need_cert && !hash_i2d(out->cert.sha256, i2d_cert, x, pin->md)) {
        return 0;
    }
    return spki_pin(pin, out->spki.sha256, x);
}
