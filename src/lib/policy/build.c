/*
 * build.c - finishing a model that the parser or a converter built: index
 * it (policy.c) and compute its digest, the SHA-256 of its canonical form
 * (write.c). This is the one place where the model meets the format, so
 * that policy.c depends on no file of the native format.
 */
#include <openssl/evp.h>

#include "internal.h"
#include "policy/policy_int.h"

static int digest_sink(const char *buf, size_t len, void *payload)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)payload, buf, len) == 1 ? 0 : 1;
}

static pinset_err compute_digest(pinset_policy *p)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    unsigned int n = 0;
    pinset_err err = PINSET_E_CRYPTO;

    if (ctx == NULL || md == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        goto out;
    }
    err = pinset__policy_serialize(p, digest_sink, ctx);
    if (err == PINSET_E_IO) {
        err = PINSET_E_CRYPTO;
    }
    if (err != PINSET_OK) {
        goto out;
    }
    if (EVP_DigestFinal_ex(ctx, p->digest, &n) != 1 || n != sizeof(p->digest)) {
        err = PINSET_E_CRYPTO;
        goto out;
    }
    err = PINSET_OK;
out:
    EVP_MD_free(md);
    EVP_MD_CTX_free(ctx);
    return err;
}

pinset_err pinset__policy_finish(pinset_policy *p, size_t *bad_rule_out, pinset_diag *diag)
{
    pinset_err err = pinset__policy_index(p, bad_rule_out, diag);

    if (err != PINSET_OK) {
        return err;
    }
    err = compute_digest(p);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "cannot compute the policy digest");
    }
    return PINSET_OK;
}
