/*
 * load_int.h - what the files of src/lib/load share: the object and bundle
 * structs, the state of one parse call, and the functions one file calls in
 * another (detect.c, decode.c, pkcs12.c, bundle.c, object.c). Internal; not
 * installed.
 */
#ifndef PINSET_LOAD_INT_H
#define PINSET_LOAD_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <pinset/bundle.h>
#include <pinset/error.h>

struct pinset_object {
    pinset_object_type type;
    uint8_t *der; /* certificate DER, or SPKI DER for keys and CSRs */
    size_t der_len;
    size_t spki_off; /* the SPKI span inside der */
    size_t spki_len;
    X509 *x509; /* certificates loaded in full mode */
    char *subject;
    char *issuer;
    const char *key_type; /* static */
    char key_group[32];
    unsigned int key_bits;
    int is_ca;
    int has_validity;
    int64_t not_before;
    int64_t not_after;
};

struct pinset_bundle {
    struct pinset_object *objs;
    size_t count;
    size_t cap;
};

/* The state of one parse call. */
struct load_ctx {
    pinset_bundle *b;
    unsigned int flags;
    const char *pass; /* borrowed from the options; NULL for none */
    size_t pass_len;
    pinset_diag *diag;
    size_t index;     /* the current object's index */
    const char *what; /* its PEM label, or "der" / "pkcs#12" */
    size_t what_len;
    size_t line; /* PEM line of the current object, 0 for DER */
    size_t offset;
};

/* What a DER object is (for detection and for mislabelled input). */
enum load_kind {
    K_NONE,
    K_CERT,
    K_SPKI,
    K_CSR,
    K_P8,
    K_P8ENC,
    K_P12,
    K_RSAPUB,
    K_TRAD_RSA,
    K_TRAD_EC
};

/* The outer DER header (X.690 section 8.1; DER: definite, minimal length). */
enum load_outer { OUTER_OK, OUTER_NOT_SEQ, OUTER_INDEFINITE, OUTER_BAD_LEN, OUTER_TRUNCATED };

/* ---- bundle.c: diagnostics and the bundle's objects ---- */

/*
 * Record a failure of the current object in c->diag: the reason in the
 * message, the object (index, label) and its line in the fields. Returns code.
 */
pinset_err pinset__load_fail(const struct load_ctx *c, pinset_err code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The reason of OpenSSL's latest error (a static string), then pop to the caller's mark. */
const char *pinset__load_ossl_reason(void);
/* A zeroed slot for the next object (not yet counted). */
pinset_err pinset__load_push(struct load_ctx *c, struct pinset_object **out);
/* Commit the object filled in by pinset__load_push(); the next object gets the next index. */
void pinset__load_commit(struct load_ctx *c);
void pinset__load_object_clear(struct pinset_object *o);

/* ---- detect.c: DER framing and what a DER object is ---- */

enum load_outer pinset__load_der_outer(const uint8_t *der, size_t len, size_t *total);
/* Check that der[0..len) is exactly one definite-length SEQUENCE. */
pinset_err pinset__load_check_outer(const struct load_ctx *c, const uint8_t *der, size_t len);
/* Check the DER framing of every element. */
pinset_err pinset__load_check_framing(const struct load_ctx *c, const uint8_t *der, size_t len);
const char *pinset__load_kind_text(enum load_kind k);
enum load_kind pinset__load_identify(const uint8_t *der, size_t len);
/* A decoder refused der: say what it is instead, if we can tell. */
pinset_err pinset__load_refuse(const struct load_ctx *c, const char *expected, const char *reason,
                               const uint8_t *der, size_t len);

/* ---- decode.c: the decoders of certificates, keys and CSRs ---- */

/* Add a key object from a decoded key (public or private): keep only its SPKI DER. */
pinset_err pinset__load_add_pkey(struct load_ctx *c, const EVP_PKEY *pk, pinset_object_type type);
pinset_err pinset__load_add_cert(struct load_ctx *c, const uint8_t *der, size_t len);
/* TRUSTED CERTIFICATE: a certificate followed by OpenSSL's trust settings. */
pinset_err pinset__load_add_trusted_cert(struct load_ctx *c, const uint8_t *der, size_t len);
/* Decode der[0..len) as an object of kind k and add it. */
pinset_err pinset__load_add_kind(struct load_ctx *c, enum load_kind k, const uint8_t *der,
                                 size_t len);

/* ---- pkcs12.c ---- */

pinset_err pinset__load_add_p12(struct load_ctx *c, const uint8_t *der, size_t len);

#endif /* PINSET_LOAD_INT_H */
