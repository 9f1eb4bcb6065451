/*
 * bundle.c - load certificates, keys and CSRs from PEM, DER or PKCS#12
 * (pinset/bundle.h), and read input files with size and time bounds.
 *
 * Format detection is by content: one DER object spanning the whole input,
 * else PEM (some line starts with "-----BEGIN "), else a DER-looking input
 * (first byte 0x30) that gets a precise DER error, else "unrecognised".
 * Every DER object must be DER-framed (definite minimal lengths, no
 * constructed strings, at most PINSET_MAX_DER_DEPTH levels; PKCS#12 excepted,
 * which is BER by design) and consumed completely by its OpenSSL decoder; a
 * certificate must also re-encode to the same bytes.
 * Unknown PEM labels (X509 CRL, PARAMETERS, ...) are an error naming the
 * label and the object index: skipping would silently drop what a user
 * meant to pin. Private keys keep only their public half (the SPKI DER);
 * decoded private-key bytes are wiped.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fstat, O_CLOEXEC */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <pinset/bundle.h>
#include <pinset/openssl.h>

#include "core/der.h"
#include "core/pem.h"
#include "internal.h"
#include "util/cursor.h"
#include "util/der_tlv.h"
#include "util/digest.h"
#include "util/read.h"
#include "util/rfc3339.h"

#define READ_TIMEOUT_MS 30000L /* FIFOs and standard input */

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
struct ctx {
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

#ifdef PINSET_TESTING
static long read_timeout_ms_test;

void pinset__bundle_set_read_timeout_ms(long ms)
{
    read_timeout_ms_test = ms;
}

static long read_timeout_ms(void)
{
    return read_timeout_ms_test > 0 ? read_timeout_ms_test : READ_TIMEOUT_MS;
}
#else
static long read_timeout_ms(void)
{
    return READ_TIMEOUT_MS;
}
#endif

/* ---- diagnostics ---- */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static pinset_err
fail(const struct ctx *c, pinset_err code, const char *fmt, ...)
{
    char msg[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)PINSET_DIAG(c->diag, code, "object %zu (%.*s): %s", c->index, (int)c->what_len, c->what,
                      msg);
    pinset__diag_pos(c->diag, c->index, c->line, 0, c->offset);
    return code;
}

/* The reason of OpenSSL's latest error (a static string), then pop to the caller's mark. */
static const char *ossl_reason_pop(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    ERR_pop_to_mark();
    return r != NULL ? r : "unknown openssl error";
}

/* ---- the outer DER header (X.690 section 8.1; DER: definite, minimal length) ---- */

enum outer { OUTER_OK, OUTER_NOT_SEQ, OUTER_INDEFINITE, OUTER_BAD_LEN, OUTER_TRUNCATED };

static enum outer der_outer(const uint8_t *der, size_t len, size_t *total)
{
    struct pinset_cursor cur;
    uint8_t tag;
    size_t content = 0;

    pinset__cursor_init(&cur, der, len);
    if (!pinset__cursor_read_u8(&cur, &tag) || tag != 0x30) {
        return OUTER_NOT_SEQ;
    }
    switch (pinset__der_read_len(&cur, &content)) {
    case PINSET__DER_OK:
        break;
    case PINSET__DER_INDEFINITE:
        return OUTER_INDEFINITE;
    case PINSET__DER_NO_LENGTH:
    case PINSET__DER_LENGTH_TRUNCATED:
        return OUTER_TRUNCATED;
    case PINSET__DER_NO_TAG:
    case PINSET__DER_HIGH_TAG:
    case PINSET__DER_LENGTH_TOO_LONG:
    case PINSET__DER_LENGTH_LEADING_ZERO:
    case PINSET__DER_LENGTH_SHORT_AS_LONG:
    case PINSET__DER_OVERRUN:
    default:
        return OUTER_BAD_LEN;
    }
    *total = pinset__cursor_offset(&cur) + content;
    return content > pinset__cursor_remaining(&cur) ? OUTER_TRUNCATED : OUTER_OK;
}

/* Check that der[0..len) is exactly one definite-length SEQUENCE. */
static pinset_err check_outer(const struct ctx *c, const uint8_t *der, size_t len)
{
    size_t total = 0;

    switch (der_outer(der, len, &total)) {
    case OUTER_OK:
        if (total == len) {
            return PINSET_OK;
        }
        return fail(c, PINSET_E_PARSE, "%zu trailing bytes after the der object", len - total);
    case OUTER_NOT_SEQ:
        return fail(c, PINSET_E_PARSE, "not a der sequence (first byte 0x%02x)",
                    len > 0 ? der[0] : 0u);
    case OUTER_INDEFINITE:
        return fail(c, PINSET_E_PARSE, "indefinite-length ber encoding is not der");
    case OUTER_BAD_LEN:
        return fail(c, PINSET_E_PARSE, "invalid der length encoding");
    case OUTER_TRUNCATED:
        if (total > len) {
            return fail(c, PINSET_E_PARSE,
                        "truncated der: length %zu exceeds the %zu bytes present", total, len);
        }
        return fail(c, PINSET_E_PARSE, "truncated der header");
    default:
        return fail(c, PINSET_E_INTERNAL, "bad outer state");
    }
}

/* Why a DER length did not read, in the words of the framing check's messages. */
static const char *len_problem(enum pinset__der_status st)
{
    switch (st) {
    case PINSET__DER_NO_LENGTH:
        return "truncated der header";
    case PINSET__DER_INDEFINITE:
        return "indefinite-length ber encoding is not der";
    case PINSET__DER_LENGTH_TRUNCATED:
    case PINSET__DER_LENGTH_LEADING_ZERO:
        return "invalid or truncated der length";
    case PINSET__DER_OK:
    case PINSET__DER_NO_TAG:
    case PINSET__DER_HIGH_TAG:
    case PINSET__DER_LENGTH_TOO_LONG:
    case PINSET__DER_LENGTH_SHORT_AS_LONG:
    case PINSET__DER_OVERRUN:
    default:
        return "invalid der length encoding";
    }
}

/*
 * Check the DER framing of every element (iteratively, at most
 * PINSET_MAX_DER_DEPTH levels): definite minimal lengths that nest exactly,
 * no constructed strings. OpenSSL's decoders accept BER (indefinite lengths
 * inside a certificate, for one) and keep such bytes verbatim, so a pin over
 * them would not be a pin over DER. Value-level rules (BOOLEAN as 0xff,
 * DEFAULT values omitted) are left to the decoders.
 */
static pinset_err check_framing(const struct ctx *c, const uint8_t *der, size_t len)
{
    size_t ends[PINSET_MAX_DER_DEPTH + 1];
    struct pinset_cursor cur;
    enum pinset__der_status st;
    size_t depth = 0, n = 0, at;
    uint8_t tag;

    ends[0] = len;
    pinset__cursor_init(&cur, der, len);
    while (!pinset__cursor_at_end(&cur)) {
        while (depth > 0 && pinset__cursor_offset(&cur) == ends[depth]) {
            depth--;
        }
        at = pinset__cursor_offset(&cur);
        if (!pinset__cursor_read_u8(&cur, &tag) || (tag & 0x1f) == 0x1f) {
            return fail(c, PINSET_E_PARSE, "unsupported der tag at offset %zu", at);
        }
        st = pinset__der_read_len(&cur, &n);
        if (st != PINSET__DER_OK) {
            return fail(c, PINSET_E_PARSE, "%s at offset %zu", len_problem(st), at);
        }
        if (n > ends[depth] - pinset__cursor_offset(&cur)) {
            return fail(c, PINSET_E_PARSE, "der element at offset %zu overruns its container", at);
        }
        if ((tag & 0x20) == 0) {
            (void)pinset__cursor_skip(&cur, n);
            continue;
        }
        if ((tag & 0xc0) == 0 && tag != 0x30 && tag != 0x31) {
            return fail(c, PINSET_E_PARSE, "constructed string (ber) at offset %zu is not der", at);
        }
        if (depth == PINSET_MAX_DER_DEPTH) {
            return fail(c, PINSET_E_PARSE, "der nested deeper than %d levels",
                        PINSET_MAX_DER_DEPTH);
        }
        ends[++depth] = pinset__cursor_offset(&cur) + n;
    }
    return PINSET_OK;
}

/* ---- what a DER object is (for detection and for mislabelled input) ---- */

enum kind { K_NONE, K_CERT, K_SPKI, K_CSR, K_P8, K_P8ENC, K_P12, K_RSAPUB, K_TRAD_RSA, K_TRAD_EC };

static const char *kind_text(enum kind k)
{
    switch (k) {
    case K_CERT:
        return "a certificate";
    case K_SPKI:
        return "a public key (subjectpublickeyinfo)";
    case K_CSR:
        return "a certificate request";
    case K_P8:
        return "a private key (pkcs#8)";
    case K_P8ENC:
        return "an encrypted private key (pkcs#8)";
    case K_P12:
        return "a pkcs#12 file";
    case K_RSAPUB:
        return "an rsa public key (pkcs#1)";
    case K_TRAD_RSA:
        return "an rsa private key";
    case K_TRAD_EC:
        return "an ec private key";
    case K_NONE:
    default:
        return "nothing recognised";
    }
}

/* Try one decoder; 1 when it accepts all of der[0..len). */
static int try_kind(enum kind k, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    long n = (long)len;
    int ok = 0;

    ERR_set_mark();
    switch (k) {
    case K_CERT: {
        X509 *x = d2i_X509(NULL, &p, n);
        ok = x != NULL;
        X509_free(x);
        break;
    }
    case K_SPKI: {
        EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, n);
        ok = pk != NULL;
        EVP_PKEY_free(pk);
        break;
    }
    case K_CSR: {
        X509_REQ *r = d2i_X509_REQ(NULL, &p, n);
        ok = r != NULL;
        X509_REQ_free(r);
        break;
    }
    case K_P8: {
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, n);
        ok = p8 != NULL;
        PKCS8_PRIV_KEY_INFO_free(p8);
        break;
    }
    case K_P8ENC: {
        X509_SIG *sig = d2i_X509_SIG(NULL, &p, n);
        ok = sig != NULL;
        X509_SIG_free(sig);
        break;
    }
    case K_P12: {
        PKCS12 *p12 = d2i_PKCS12(NULL, &p, n);
        ok = p12 != NULL;
        PKCS12_free(p12);
        break;
    }
    case K_RSAPUB:
    case K_TRAD_RSA:
    case K_TRAD_EC: {
        EVP_PKEY *pk = k == K_RSAPUB     ? d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, n)
                       : k == K_TRAD_RSA ? d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, n)
                                         : d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, n);
        ok = pk != NULL;
        EVP_PKEY_free(pk);
        break;
    }
    case K_NONE:
    default:
        break;
    }
    ERR_pop_to_mark();
    return ok && p == der + len;
}

static enum kind identify(const uint8_t *der, size_t len)
{
    static const enum kind order[] = {K_CERT, K_SPKI,   K_CSR,      K_P8,     K_P8ENC,
                                      K_P12,  K_RSAPUB, K_TRAD_RSA, K_TRAD_EC};

    for (size_t i = 0; i < PINSET_ARRAY_SIZE(order); i++) {
        if (try_kind(order[i], der, len)) {
            return order[i];
        }
    }
    return K_NONE;
}

/* A decoder refused der: say what it is instead, if we can tell. */
static pinset_err refuse(const struct ctx *c, const char *expected, const char *reason,
                         const uint8_t *der, size_t len)
{
    enum kind k = identify(der, len);

    if (k != K_NONE) {
        return fail(c, PINSET_E_PARSE, "contains %s, not %s", kind_text(k), expected);
    }
    return fail(c, PINSET_E_PARSE, "not %s: %s", expected, reason);
}

/* ---- objects ---- */

static pinset_err push(struct ctx *c, struct pinset_object **out)
{
    pinset_bundle *b = c->b;

    if (b->count == b->cap) {
        size_t cap = b->cap == 0 ? 8 : b->cap * 2;
        struct pinset_object *objs;

        if (b->count >= PINSET_MAX_OBJECTS) {
            return fail(c, PINSET_E_LIMIT, "more than %d objects", PINSET_MAX_OBJECTS);
        }
        if (cap > PINSET_MAX_OBJECTS) {
            cap = PINSET_MAX_OBJECTS;
        }
        objs = pinset__realloc_array(b->objs, cap, sizeof(*objs));
        if (objs == NULL) {
            return fail(c, PINSET_E_NOMEM, "out of memory");
        }
        b->objs = objs;
        b->cap = cap;
    }
    *out = &b->objs[b->count];
    memset(*out, 0, sizeof(**out));
    return PINSET_OK;
}

/* Commit the object filled in by push(); the next object gets the next index. */
static void commit(struct ctx *c)
{
    c->b->count++;
    c->index++;
}

static void object_clear(struct pinset_object *o)
{
    X509_free(o->x509);
    pinset__free(o->subject);
    pinset__free(o->issuer);
    pinset__wipe_free(o->der, o->der_len);
    memset(o, 0, sizeof(*o));
}

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
static pinset_err copy_der(const struct ctx *c, uint8_t **out, const uint8_t *der, size_t len)
{
    *out = pinset__alloc(len);
    if (*out == NULL) {
        return fail(c, PINSET_E_NOMEM, "out of memory");
    }
    memcpy(*out, der, len);
    return PINSET_OK;
}

/* Add a key object from a decoded key (public or private): keep only its SPKI DER. */
static pinset_err add_pkey(struct ctx *c, const EVP_PKEY *pk, pinset_object_type type)
{
    struct pinset_object *o = NULL;
    unsigned char *p;
    pinset_err err;
    int n;

    err = push(c, &o);
    if (err != PINSET_OK) {
        return err;
    }
    ERR_set_mark();
    n = i2d_PUBKEY(pk, NULL);
    if (n <= 0) {
        return fail(c, PINSET_E_CRYPTO, "cannot encode the public key: %s", ossl_reason_pop());
    }
    o->der = pinset__alloc((size_t)n);
    if (o->der == NULL) {
        ERR_pop_to_mark();
        return fail(c, PINSET_E_NOMEM, "out of memory");
    }
    o->der_len = (size_t)n;
    p = o->der;
    if (i2d_PUBKEY(pk, &p) != n) {
        const char *r = ossl_reason_pop();

        object_clear(o);
        return fail(c, PINSET_E_CRYPTO, "cannot encode the public key: %s", r);
    }
    ERR_pop_to_mark();
    o->type = type;
    o->spki_off = 0;
    o->spki_len = o->der_len;
    key_info(o, pk);
    commit(c);
    return PINSET_OK;
}

/* RFC 2253 text of a name into a new string. */
static pinset_err name_text(const struct ctx *c, char **out, const X509_NAME *name)
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
        err = fail(c, PINSET_E_NOMEM, "cannot print a name: %s", ossl_reason_pop());
        BIO_free(bio);
        return err;
    }
    n = BIO_get_mem_data(bio, &data);
    *out = pinset__strndup(n > 0 ? data : "", n > 0 ? (size_t)n : 0);
    if (*out == NULL) {
        err = fail(c, PINSET_E_NOMEM, "out of memory");
    }
    BIO_free(bio);
    ERR_pop_to_mark();
    return err;
}

static int time_to_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    int ok;

    memset(&tm, 0, sizeof(tm));
    ERR_set_mark();
    ok = t != NULL && ASN1_TIME_to_tm(t, &tm) == 1;
    ERR_pop_to_mark();
    if (!ok) {
        return 0;
    }
    *out = pinset__time_from_tm(&tm);
    return 1;
}

/* The descriptive fields of a fully decoded certificate. */
static pinset_err cert_info(const struct ctx *c, struct pinset_object *o, X509 *x)
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
    o->has_validity = time_to_epoch(X509_get0_notBefore(x), &o->not_before) &&
                      time_to_epoch(X509_get0_notAfter(x), &o->not_after);
    return PINSET_OK;
}

/*
 * Decode a certificate fully: all of der consumed, and OpenSSL's encoding
 * equal to the input (so the cert pin is the hash of these very bytes).
 */
static pinset_err decode_x509(const struct ctx *c, X509 **out, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    unsigned char *enc = NULL;
    X509 *x;
    int n, same;

    *out = NULL;
    ERR_set_mark();
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        return refuse(c, "a certificate", ossl_reason_pop(), der, len);
    }
    if (p != der + len) {
        ERR_pop_to_mark();
        X509_free(x);
        return fail(c, PINSET_E_PARSE, "%zu trailing bytes after the certificate",
                    (size_t)(der + len - p));
    }
    n = i2d_X509(x, &enc);
    if (n < 0) {
        const char *r = ossl_reason_pop();

        X509_free(x);
        return fail(c, PINSET_E_CRYPTO, "cannot encode the certificate: %s", r);
    }
    same = (size_t)n == len && memcmp(enc, der, len) == 0;
    OPENSSL_free(enc);
    ERR_pop_to_mark();
    if (!same) {
        X509_free(x);
        return fail(c, PINSET_E_PARSE, "certificate is not in der (ber or non-canonical encoding)");
    }
    *out = x;
    return PINSET_OK;
}

/* The SPKI span of a decoded certificate, re-encoded into its own buffer (fallback path). */
static pinset_err spki_of_x509(const struct ctx *c, uint8_t **out, size_t *len, const X509 *x)
{
    unsigned char *p;
    int n;

    ERR_set_mark();
    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), NULL);
    if (n <= 0) {
        return fail(c, PINSET_E_CRYPTO, "cannot encode the certificate's key: %s",
                    ossl_reason_pop());
    }
    *out = pinset__alloc((size_t)n);
    if (*out == NULL) {
        ERR_pop_to_mark();
        return fail(c, PINSET_E_NOMEM, "out of memory");
    }
    *len = (size_t)n;
    p = *out;
    if (i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p) != n) {
        return fail(c, PINSET_E_CRYPTO, "cannot encode the certificate's key: %s",
                    ossl_reason_pop());
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
static pinset_err pins_only_span(const struct ctx *c, const uint8_t *der, size_t len, size_t *off,
                                 size_t *n)
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
        err = fail(c, PINSET_E_PARSE, "certificate key not found in its der");
    }
    *n = own_len;
    pinset__free(own);
    X509_free(x);
    return err;
}

static pinset_err add_cert(struct ctx *c, const uint8_t *der, size_t len)
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
    err = push(c, &o);
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
            object_clear(o);
            return err;
        }
    } else {
        o->spki_off = spki_off;
        o->spki_len = spki_len;
    }
    commit(c);
    return PINSET_OK;
}

/* TRUSTED CERTIFICATE: a certificate followed by OpenSSL's trust settings. */
static pinset_err add_trusted_cert(struct ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    size_t total = 0;
    pinset_err err;
    X509 *x;

    if (der_outer(der, len, &total) != OUTER_OK) {
        return check_outer(c, der, len);
    }
    ERR_set_mark();
    x = d2i_X509_AUX(NULL, &p, (long)len);
    if (x == NULL) {
        return refuse(c, "a trusted certificate", ossl_reason_pop(), der, len);
    }
    X509_free(x);
    ERR_pop_to_mark();
    if (p != der + len) {
        return fail(c, PINSET_E_PARSE, "%zu trailing bytes after the trusted certificate",
                    (size_t)(der + len - p));
    }
    err = check_framing(c, der, total);
    return err != PINSET_OK ? err : add_cert(c, der, total);
}

static pinset_err add_spki(struct ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *pk;
    pinset_err err;

    ERR_set_mark();
    pk = d2i_PUBKEY(NULL, &p, (long)len);
    if (pk == NULL) {
        return refuse(c, "a public key", ossl_reason_pop(), der, len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        EVP_PKEY_free(pk);
        return fail(c, PINSET_E_PARSE, "trailing bytes after the public key");
    }
    err = add_pkey(c, pk, PINSET_OBJ_PUBKEY);
    EVP_PKEY_free(pk);
    return err;
}

/* K_RSAPUB (PKCS#1 RSAPublicKey), K_TRAD_RSA, K_TRAD_EC (traditional private keys). */
static pinset_err add_typed_key(struct ctx *c, enum kind k, const uint8_t *der, size_t len)
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
        return refuse(c, kind_text(k), ossl_reason_pop(), der, len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        EVP_PKEY_free(pk);
        return fail(c, PINSET_E_PARSE, "trailing bytes after the key");
    }
    err = add_pkey(c, pk, k == K_RSAPUB ? PINSET_OBJ_PUBKEY : PINSET_OBJ_PRIVKEY);
    EVP_PKEY_free(pk);
    return err;
}

/* An unencrypted PKCS#8 PrivateKeyInfo; p8 is consumed. */
static pinset_err add_p8inf(struct ctx *c, PKCS8_PRIV_KEY_INFO *p8)
{
    EVP_PKEY *pk;
    pinset_err err;

    ERR_set_mark();
    pk = EVP_PKCS82PKEY(p8);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (pk == NULL) {
        return fail(c, PINSET_E_PARSE, "cannot decode the private key: %s", ossl_reason_pop());
    }
    ERR_pop_to_mark();
    err = add_pkey(c, pk, PINSET_OBJ_PRIVKEY);
    EVP_PKEY_free(pk);
    return err;
}

static pinset_err add_p8(struct ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8;

    ERR_set_mark();
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    if (p8 == NULL) {
        return refuse(c, "a pkcs#8 private key", ossl_reason_pop(), der, len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        PKCS8_PRIV_KEY_INFO_free(p8);
        return fail(c, PINSET_E_PARSE, "trailing bytes after the private key");
    }
    return add_p8inf(c, p8);
}

static pinset_err add_p8enc(struct ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8;
    X509_SIG *sig;

    ERR_set_mark();
    sig = d2i_X509_SIG(NULL, &p, (long)len);
    if (sig == NULL) {
        return refuse(c, "an encrypted private key", ossl_reason_pop(), der, len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        X509_SIG_free(sig);
        return fail(c, PINSET_E_PARSE, "trailing bytes after the encrypted private key");
    }
    if (c->pass == NULL) {
        X509_SIG_free(sig);
        return fail(c, PINSET_E_PASSPHRASE, "encrypted private key needs a passphrase");
    }
    ERR_set_mark();
    p8 = PKCS8_decrypt(sig, c->pass, (int)c->pass_len);
    X509_SIG_free(sig);
    if (p8 == NULL) {
        ERR_pop_to_mark();
        return fail(c, PINSET_E_PASSPHRASE, "wrong passphrase");
    }
    ERR_pop_to_mark();
    return add_p8inf(c, p8);
}

static pinset_err add_csr(struct ctx *c, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    struct pinset_object *o = NULL;
    X509_REQ *req;
    pinset_err err;

    ERR_set_mark();
    req = d2i_X509_REQ(NULL, &p, (long)len);
    if (req == NULL) {
        return refuse(c, "a certificate request", ossl_reason_pop(), der, len);
    }
    ERR_pop_to_mark();
    if (p != der + len) {
        X509_REQ_free(req);
        return fail(c, PINSET_E_PARSE, "trailing bytes after the certificate request");
    }
    ERR_set_mark();
    if (X509_REQ_get0_pubkey(req) == NULL) {
        X509_REQ_free(req);
        return fail(c, PINSET_E_PARSE, "certificate request key: %s", ossl_reason_pop());
    }
    ERR_pop_to_mark();
    err = add_pkey(c, X509_REQ_get0_pubkey(req), PINSET_OBJ_CSR);
    if (err == PINSET_OK && !(c->flags & PINSET_LOAD_PINS_ONLY)) {
        o = &c->b->objs[c->b->count - 1];
        err = name_text(c, &o->subject, X509_REQ_get_subject_name(req));
        if (err != PINSET_OK) {
            c->b->count--;
            c->index--;
            object_clear(o);
        }
    }
    X509_REQ_free(req);
    return err;
}

/* ---- PKCS#12 ---- */

static pinset_err p12_objects(struct ctx *c, EVP_PKEY *pk, X509 *cert, STACK_OF(X509) * ca)
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
            return fail(c, PINSET_E_CRYPTO, "cannot encode a certificate: %s", ossl_reason_pop());
        }
        ERR_pop_to_mark();
        err = add_cert(c, der, (size_t)len);
        OPENSSL_free(der);
    }
    if (err == PINSET_OK && pk != NULL) {
        err = add_pkey(c, pk, PINSET_OBJ_PRIVKEY);
    }
    return err;
}

static pinset_err add_p12(struct ctx *c, const uint8_t *der, size_t len)
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
        return fail(c, PINSET_E_PARSE, "not a valid pkcs#12 file: %s", ossl_reason_pop());
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
            err = fail(c, PINSET_E_PASSPHRASE, "wrong passphrase");
            goto out;
        }
        if (use == NULL) {
            if (PKCS12_verify_mac(p12, "", 0)) {
                use = "";
            } else if (!PKCS12_verify_mac(p12, NULL, 0)) {
                err = fail(c, PINSET_E_PASSPHRASE, "pkcs#12 file needs a passphrase");
                goto out;
            }
        }
    }
    if (!PKCS12_parse(p12, use, &pk, &cert, &ca)) {
        err = fail(c, use == NULL ? PINSET_E_PASSPHRASE : PINSET_E_CRYPTO,
                   "cannot decrypt the pkcs#12 file: %s", ossl_reason_pop());
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

/* ---- dispatch ---- */

static pinset_err add_kind(struct ctx *c, enum kind k, const uint8_t *der, size_t len)
{
    switch (k) {
    case K_CERT:
        return add_cert(c, der, len);
    case K_SPKI:
        return add_spki(c, der, len);
    case K_CSR:
        return add_csr(c, der, len);
    case K_P8:
        return add_p8(c, der, len);
    case K_P8ENC:
        return add_p8enc(c, der, len);
    case K_P12:
        return add_p12(c, der, len);
    case K_RSAPUB:
    case K_TRAD_RSA:
    case K_TRAD_EC:
        return add_typed_key(c, k, der, len);
    case K_NONE:
    default:
        return fail(
            c, PINSET_E_PARSE,
            "not a certificate, public key, private key, certificate request or pkcs#12 file");
    }
}

/* One DER object spanning the whole input. */
static pinset_err add_der(struct ctx *c, const uint8_t *der, size_t len)
{
    const uint8_t *spki;
    size_t spki_len;
    pinset_err err;
    enum kind k;

    c->what = "der";
    c->what_len = 3;
    err = check_outer(c, der, len);
    if (err != PINSET_OK) {
        return err;
    }
    if ((c->flags & PINSET_LOAD_PINS_ONLY) &&
        pinset__der_cert_spki(der, len, &spki, &spki_len) == PINSET_OK) {
        return add_cert(c, der, len);
    }
    k = identify(der, len);
    /* PKCS#12 is BER by design (RFC 7292 uses indefinite lengths); OpenSSL decodes it */
    if (k != K_P12) {
        err = check_framing(c, der, len);
        if (err != PINSET_OK) {
            return err;
        }
    }
    return add_kind(c, k, der, len);
}

static const struct {
    const char *label;
    enum kind kind;
    int trusted;
} labels[] = {
    {"CERTIFICATE", K_CERT, 0},
    {"X509 CERTIFICATE", K_CERT, 0},
    {"TRUSTED CERTIFICATE", K_CERT, 1},
    {"PUBLIC KEY", K_SPKI, 0},
    {"RSA PUBLIC KEY", K_RSAPUB, 0},
    {"PRIVATE KEY", K_P8, 0},
    {"RSA PRIVATE KEY", K_TRAD_RSA, 0},
    {"EC PRIVATE KEY", K_TRAD_EC, 0},
    {"ENCRYPTED PRIVATE KEY", K_P8ENC, 0},
    {"CERTIFICATE REQUEST", K_CSR, 0},
    {"NEW CERTIFICATE REQUEST", K_CSR, 0},
};

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    const struct ctx *c = u;

    (void)rwflag;
    if (c->pass == NULL || size < 0 || c->pass_len > (size_t)size) {
        return -1;
    }
    memcpy(buf, c->pass, c->pass_len);
    return (int)c->pass_len;
}

/* RFC 1421 encrypted traditional key: OpenSSL decrypts the one block we checked. */
static pinset_err add_legacy_encrypted(struct ctx *c, const struct pinset_pem_block *blk)
{
    EVP_PKEY *pk;
    BIO *bio;
    pinset_err err;

    if (c->pass == NULL) {
        return fail(c, PINSET_E_PASSPHRASE, "encrypted private key needs a passphrase");
    }
    ERR_set_mark();
    bio = BIO_new_mem_buf(blk->start, (int)blk->total_len);
    if (bio == NULL) {
        ERR_pop_to_mark();
        return fail(c, PINSET_E_NOMEM, "out of memory");
    }
    pk = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, c);
    BIO_free(bio);
    ERR_pop_to_mark();
    if (pk == NULL) {
        return fail(c, PINSET_E_PASSPHRASE, "wrong passphrase");
    }
    err = add_pkey(c, pk, PINSET_OBJ_PRIVKEY);
    EVP_PKEY_free(pk);
    return err;
}

static pinset_err add_block(struct ctx *c, const struct pinset_pem_block *blk)
{
    uint8_t *der = NULL;
    size_t len = 0, i;
    pinset_err err;

    for (i = 0; i < PINSET_ARRAY_SIZE(labels); i++) {
        if (strlen(labels[i].label) == blk->label_len &&
            memcmp(labels[i].label, blk->label, blk->label_len) == 0) {
            break;
        }
    }
    if (i == PINSET_ARRAY_SIZE(labels)) {
        return fail(c, PINSET_E_UNSUPPORTED, "unsupported pem label at line %zu", blk->line);
    }
    if (blk->has_headers) {
        if (blk->encrypted && (labels[i].kind == K_TRAD_RSA || labels[i].kind == K_TRAD_EC)) {
            return add_legacy_encrypted(c, blk);
        }
        return fail(c, PINSET_E_PARSE, "unexpected pem headers at line %zu", blk->line);
    }
    err = pinset__pem_decode(&der, &len, blk, c->index, PINSET_MAX_DER_SIZE, c->diag);
    if (err != PINSET_OK) {
        return err;
    }
    if (labels[i].trusted) {
        err = add_trusted_cert(c, der, len);
    } else {
        err = check_outer(c, der, len);
        if (err == PINSET_OK) {
            err = check_framing(c, der, len);
        }
        if (err == PINSET_OK) {
            err = add_kind(c, labels[i].kind, der, len);
        }
    }
    pinset__wipe_free(der, len);
    return err;
}

static pinset_err add_pem(struct ctx *c, const uint8_t *buf, size_t len)
{
    struct pinset_pem_scan scan;
    struct pinset_pem_block blk;
    pinset_err err;
    int found;

    pinset__pem_scan_init(&scan, buf, len);
    for (;;) {
        scan.blocks = c->index; /* PKCS#12 is never PEM, so one block is one object */
        err = pinset__pem_next(&scan, &blk, &found, c->diag);
        if (err != PINSET_OK || !found) {
            return err;
        }
        c->what = blk.label;
        c->what_len = blk.label_len;
        c->line = blk.line;
        c->offset = blk.offset;
        err = add_block(c, &blk);
        if (err != PINSET_OK) {
            return err;
        }
    }
}

/* ---- public API ---- */

static pinset_err check_opts(const pinset_load_opts *opts, size_t *max, pinset_diag *diag)
{
    *max = PINSET_MAX_INPUT_SIZE;
    if (opts == NULL) {
        return PINSET_OK;
    }
    if (opts->version != PINSET_LOAD_OPTS_VERSION) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "load options: unknown version %u",
                           opts->version);
    }
    if ((opts->flags & ~PINSET_LOAD_PINS_ONLY) != 0) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "load options: unknown flags 0x%x",
                           opts->flags & ~PINSET_LOAD_PINS_ONLY);
    }
    if (opts->passphrase != NULL &&
        (opts->passphrase_len > PINSET_MAX_PASSPHRASE ||
         memchr(opts->passphrase, '\0', opts->passphrase_len) != NULL)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "load options: passphrase longer than %d bytes or containing a nul byte",
                           PINSET_MAX_PASSPHRASE);
    }
    if (opts->max_input != 0) {
        /* clamped so that max + 1 never overflows */
        *max = opts->max_input < SIZE_MAX / 2 ? opts->max_input : SIZE_MAX / 2;
    }
    return PINSET_OK;
}

pinset_err pinset_bundle_parse(pinset_bundle **out, const uint8_t *buf, size_t len,
                               const pinset_load_opts *opts, pinset_diag *diag)
{
    struct ctx c;
    size_t max, total = 0;
    pinset_err err;

    if (out == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "bundle: out is null");
    }
    *out = NULL;
    if (buf == NULL && len != 0) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "bundle: buffer is null");
    }
    err = check_opts(opts, &max, diag);
    if (err != PINSET_OK) {
        return err;
    }
    if (len == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "empty input");
    }
    if (len > max) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT,
                           "input of %zu bytes exceeds the limit of %zu bytes", len, max);
    }
    memset(&c, 0, sizeof(c));
    c.diag = diag;
    c.what = "input";
    c.what_len = 5;
    if (opts != NULL) {
        c.flags = opts->flags;
        c.pass = opts->passphrase;
        c.pass_len = opts->passphrase != NULL ? opts->passphrase_len : 0;
    }
    c.b = pinset__alloc(sizeof(*c.b));
    if (c.b == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "bundle: out of memory");
    }
    if (der_outer(buf, len, &total) == OUTER_OK && total == len) {
        err = add_der(&c, buf, len);
    } else if (pinset__pem_detect(buf, len)) {
        err = add_pem(&c, buf, len);
    } else if (buf[0] == 0x30) {
        err = add_der(&c, buf, len);
    } else {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "unrecognised input: neither pem nor der");
    }
    if (err == PINSET_OK && c.b->count == 0) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "no objects in input");
    }
    if (err != PINSET_OK) {
        pinset_bundle_free(c.b);
        return err;
    }
    *out = c.b;
    return PINSET_OK;
}

void pinset_bundle_free(pinset_bundle *bundle)
{
    if (bundle == NULL) {
        return;
    }
    for (size_t i = 0; i < bundle->count; i++) {
        object_clear(&bundle->objs[i]);
    }
    pinset__free(bundle->objs);
    pinset__free(bundle);
}

size_t pinset_bundle_count(const pinset_bundle *bundle)
{
    return bundle != NULL ? bundle->count : 0;
}

const pinset_object *pinset_bundle_get(const pinset_bundle *bundle, size_t i)
{
    if (bundle == NULL || i >= bundle->count) {
        return NULL;
    }
    return &bundle->objs[i];
}

pinset_object_type pinset_object_get_type(const pinset_object *obj)
{
    return obj != NULL ? obj->type : (pinset_object_type)0;
}

pinset_err pinset_object_pin(pinset_pin *out, const pinset_object *obj, pinset_pin_kind kind)
{
    pinset_pin pin;
    int ok;

    if (out == NULL || obj == NULL || (kind != PINSET_PIN_SPKI && kind != PINSET_PIN_CERT)) {
        return PINSET_E_INVALID_ARG;
    }
    if (kind == PINSET_PIN_CERT && obj->type != PINSET_OBJ_CERT) {
        return PINSET_E_UNSUPPORTED;
    }
    if (obj->x509 != NULL) {
        return pinset_pin_from_x509(out, obj->x509, kind, NULL);
    }
    /*
     * Keys and CSRs hold the SPKI that OpenSSL encoded; a certificate loaded
     * with PINSET_LOAD_PINS_ONLY holds the span the strict walker located
     * (byte-identical to i2d_X509_PUBKEY's output wherever it accepts, see
     * der.c). Either way the span is hashed as it is: decoding the key again
     * would cost as much as the full certificate parse the fast path avoids.
     */
    memset(&pin, 0, sizeof(pin));
    pin.kind = kind;
    ERR_set_mark();
    if (kind == PINSET_PIN_SPKI) {
        ok = pinset__sha256(pin.sha256, obj->der + obj->spki_off, obj->spki_len, NULL, NULL);
    } else {
        ok = pinset__sha256(pin.sha256, obj->der, obj->der_len, NULL, NULL);
    }
    ERR_pop_to_mark();
    if (!ok) {
        return PINSET_E_CRYPTO;
    }
    *out = pin;
    return PINSET_OK;
}

const char *pinset_object_subject(const pinset_object *obj)
{
    return obj != NULL ? obj->subject : NULL;
}

const char *pinset_object_issuer(const pinset_object *obj)
{
    return obj != NULL ? obj->issuer : NULL;
}

const char *pinset_object_key_type(const pinset_object *obj)
{
    return obj != NULL ? obj->key_type : NULL;
}

const char *pinset_object_key_group(const pinset_object *obj)
{
    return obj != NULL && obj->key_group[0] != '\0' ? obj->key_group : NULL;
}

unsigned int pinset_object_key_bits(const pinset_object *obj)
{
    return obj != NULL ? obj->key_bits : 0;
}

int pinset_object_is_ca(const pinset_object *obj)
{
    return obj != NULL && obj->is_ca;
}

pinset_err pinset_object_validity(const pinset_object *obj, int64_t *not_before_out,
                                  int64_t *not_after_out)
{
    if (obj == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    if (!obj->has_validity) {
        return PINSET_E_UNSUPPORTED;
    }
    if (not_before_out != NULL) {
        *not_before_out = obj->not_before;
    }
    if (not_after_out != NULL) {
        *not_after_out = obj->not_after;
    }
    return PINSET_OK;
}

const uint8_t *pinset_object_der(const pinset_object *obj, size_t *len_out)
{
    if (obj == NULL) {
        if (len_out != NULL) {
            *len_out = 0;
        }
        return NULL;
    }
    if (len_out != NULL) {
        *len_out = obj->der_len;
    }
    return obj->der;
}

const X509 *pinset_object_x509(const pinset_object *obj)
{
    return obj != NULL ? obj->x509 : NULL;
}

/* ---- reading files (src/util/read.c) ---- */

pinset_err pinset_bundle_read_file(pinset_bundle **out, const char *path,
                                   const pinset_load_opts *opts, pinset_diag *diag)
{
    struct pinset__buf r;
    size_t max;
    pinset_err err;

    if (out == NULL || path == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "bundle: out or path is null");
    }
    *out = NULL;
    err = check_opts(opts, &max, diag);
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset__read_path(&r, path, max, read_timeout_ms(), PINSET__READ_FIFO, diag);
    if (err == PINSET_OK && r.len == 0) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "%s: empty input", path);
    }
    if (err == PINSET_OK) {
        err = pinset_bundle_parse(out, r.p, r.len, opts, diag);
    }
    /* the input may hold private keys: the buffer is wiped */
    pinset__buf_free(&r);
    return err;
}
