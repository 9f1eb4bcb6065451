/*
 * detect.c - what a DER input is: the outer DER header check, the framing
 * checker (definite minimal lengths, no constructed strings, at most
 * PINSET_MAX_DER_DEPTH levels; PKCS#12 excepted, which is BER by design), and
 * the identification of a DER object by trying each decoder, used for format
 * detection and to name what a mislabelled object really is.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "internal.h"
#include "load/load_int.h"
#include "util/cursor.h"
#include "util/der_tlv.h"

/* ---- the outer DER header (X.690 section 8.1; DER: definite, minimal length) ---- */

enum load_outer pinset__load_der_outer(const uint8_t *der, size_t len, size_t *total)
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
pinset_err pinset__load_check_outer(const struct load_ctx *c, const uint8_t *der, size_t len)
{
    size_t total = 0;

    switch (pinset__load_der_outer(der, len, &total)) {
    case OUTER_OK:
        if (total == len) {
            return PINSET_OK;
        }
        return pinset__load_fail(c, PINSET_E_PARSE, "%zu trailing bytes after the der object",
                                 len - total);
    case OUTER_NOT_SEQ:
        return pinset__load_fail(c, PINSET_E_PARSE, "not a der sequence (first byte 0x%02x)",
                                 len > 0 ? der[0] : 0u);
    case OUTER_INDEFINITE:
        return pinset__load_fail(c, PINSET_E_PARSE, "indefinite-length ber encoding is not der");
    case OUTER_BAD_LEN:
        return pinset__load_fail(c, PINSET_E_PARSE, "invalid der length encoding");
    case OUTER_TRUNCATED:
        if (total > len) {
            return pinset__load_fail(c, PINSET_E_PARSE,
                                     "truncated der: length %zu exceeds the %zu bytes present",
                                     total, len);
        }
        return pinset__load_fail(c, PINSET_E_PARSE, "truncated der header");
    default:
        return pinset__load_fail(c, PINSET_E_INTERNAL, "bad outer state");
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
pinset_err pinset__load_check_framing(const struct load_ctx *c, const uint8_t *der, size_t len)
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
            return pinset__load_fail(c, PINSET_E_PARSE, "unsupported der tag at offset %zu", at);
        }
        st = pinset__der_read_len(&cur, &n);
        if (st != PINSET__DER_OK) {
            return pinset__load_fail(c, PINSET_E_PARSE, "%s at offset %zu", len_problem(st), at);
        }
        if (n > ends[depth] - pinset__cursor_offset(&cur)) {
            return pinset__load_fail(c, PINSET_E_PARSE,
                                     "der element at offset %zu overruns its container", at);
        }
        if ((tag & 0x20) == 0) {
            (void)pinset__cursor_skip(&cur, n);
            continue;
        }
        if ((tag & 0xc0) == 0 && tag != 0x30 && tag != 0x31) {
            return pinset__load_fail(c, PINSET_E_PARSE,
                                     "constructed string (ber) at offset %zu is not der", at);
        }
        if (depth == PINSET_MAX_DER_DEPTH) {
            return pinset__load_fail(c, PINSET_E_PARSE, "der nested deeper than %d levels",
                                     PINSET_MAX_DER_DEPTH);
        }
        ends[++depth] = pinset__cursor_offset(&cur) + n;
    }
    return PINSET_OK;
}

/* ---- what a DER object is (for detection and for mislabelled input) ---- */

const char *pinset__load_kind_text(enum load_kind k)
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
static int try_kind(enum load_kind k, const uint8_t *der, size_t len)
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

enum load_kind pinset__load_identify(const uint8_t *der, size_t len)
{
    static const enum load_kind order[] = {K_CERT, K_SPKI,   K_CSR,      K_P8,     K_P8ENC,
                                           K_P12,  K_RSAPUB, K_TRAD_RSA, K_TRAD_EC};

    for (size_t i = 0; i < PINSET_ARRAY_SIZE(order); i++) {
        if (try_kind(order[i], der, len)) {
            return order[i];
        }
    }
    return K_NONE;
}

/* A decoder refused der: say what it is instead, if we can tell. */
pinset_err pinset__load_refuse(const struct load_ctx *c, const char *expected, const char *reason,
                               const uint8_t *der, size_t len)
{
    enum load_kind k = pinset__load_identify(der, len);

    if (k != K_NONE) {
        return pinset__load_fail(c, PINSET_E_PARSE, "contains %s, not %s",
                                 pinset__load_kind_text(k), expected);
    }
    return pinset__load_fail(c, PINSET_E_PARSE, "not %s: %s", expected, reason);
}
