/*
 * der.c - locate the subjectPublicKeyInfo of a DER X.509 certificate with a
 * strict, allocation-free walk (RFC 5280 §4.1, X.690 §10 DER rules).
 *
 * The promise (see der.h): whenever pinset__der_cert_spki() accepts an
 * input, OpenSSL's d2i_X509 accepts it too, consuming every byte, and the
 * span we return is byte-identical to i2d_X509_PUBKEY() of the decoded
 * certificate; also i2d_X509 gives back exactly the input, so a loader that
 * insists on canonical DER never rejects what we accept. Declining is always
 * allowed. fuzz/fuzz_der_diff.c checks the
 * promise; tests/unit/test_der.c pins down every rule below.
 *
 * What OpenSSL 3.0 (measured on 3.0.22, d2i_X509 with and without a
 * preallocated X509, on crafted certificates; scratch harness, results
 * reproduced by tests/unit/test_der.c) checks and does not check:
 *
 *  Rejected by d2i_X509, so we must reject (or decline) too:
 *  - INTEGER with empty content or non-minimal padding (00 05, ff 80..);
 *  - OBJECT IDENTIFIER that is empty, ends with a byte >= 0x80 or has a
 *    subidentifier starting with 0x80;
 *  - NULL with content; BIT STRING that is empty or has unused bits > 7;
 *  - AlgorithmIdentifier with more than one parameter; trailing fields in
 *    tbsCertificate or Certificate; wrong tags anywhere in the template;
 *  - Name attribute values of a type outside OpenSSL's DirectoryString
 *    MSTRING mask (VisibleString, GeneralString, OCTET STRING, INTEGER),
 *    and values whose canonical form cannot be computed (x509_name_canon:
 *    UTF8String that is not valid UTF-8 - overlong, surrogate, > U+10FFFF,
 *    truncated - BMPString of odd length or containing a surrogate unit,
 *    UniversalString of bad length);
 *  - ATV that is not exactly { OID, value }.
 *
 *  Accepted by d2i_X509 3.0 (so checking them is not needed for the
 *  promise; we still decline some because DER or RFC 5280 forbids them):
 *  - extension contents: garbage in basicConstraints, keyUsage, SAN, AKI,
 *    SKI, name constraints, EKU, CRLDP, AIA, policies, SCT list, unknown
 *    critical extensions; duplicate extensions; an empty extension list.
 *    d2i_X509 in 3.0 does not run ossl_x509v3_cache_extensions (measured
 *    both with a NULL and with a preallocated X509), so extnValue is an
 *    opaque OCTET STRING to us as well;
 *  - the public key itself: an RSA key with garbage, an EC point not on
 *    the curve, an unknown curve, an unknown algorithm, a bad Ed25519
 *    length, RSA-PSS/DSA with bad parameters are all accepted (the key is
 *    decoded opportunistically, errors are popped). So no d2i_PUBKEY here:
 *    a pin is a hash of SPKI bytes, and this keeps the fast path fast. A
 *    caller that needs a usable EVP_PKEY must still decode the key;
 *  - version values other than 0..2, explicit v1, extensions in v1/v2,
 *    issuer/subjectUniqueID, any UTCTime/GeneralizedTime content (even
 *    empty or garbage), mismatched signature algorithms, BOOLEAN critical
 *    encoded as 00 or 01, serial numbers that are zero, negative or long,
 *    empty Names and empty RDN sets, SEQUENCE or BIT STRING Name values,
 *    PrintableString/IA5String/T61String/NumericString with any bytes.
 *
 *  i2d_X509_PUBKEY re-encodes the SPKI from decoded fields (X509_PUBKEY is
 *  not a cached-encoding type), so the span equals OpenSSL's bytes only
 *  when the SPKI is already in OpenSSL's canonical form. Measured: a BIT
 *  STRING with nonzero padding bits, or with unused bits and no content, is
 *  re-encoded differently. We therefore require unused bits == 0 in the
 *  subjectPublicKey and accept only parameters that round-trip verbatim
 *  (absent, NULL, OBJECT IDENTIFIER, or a SEQUENCE kept as raw bytes).
 *
 * Validating the key (d2i_PUBKEY on the span) was measured with
 * bench/bench_hash.c (row fastpath+d2i_PUBKEY): it costs about as much as
 * d2i_X509 itself in OpenSSL 3.0 (provider decoders), i.e. it would remove
 * the fast path's advantage, and d2i_X509 does not require it. Callers that
 * want only decodable keys decode the SPKI themselves.
 *
 * Policy: strict DER framing (single-byte tags, definite minimal lengths of
 * at most 4 bytes), and every OpenSSL rejection above. We decline
 * (PINSET_E_UNSUPPORTED) what is legal to OpenSSL but rare or outside DER:
 * explicit v1, versions > v3, extensions outside v3, unique identifiers,
 * empty RDNs, Name value types other than the common string types, critical
 * flags other than ff, empty extension lists, unusual parameters, nonzero
 * unused bits, OIDs longer than PINSET_DER_MAX_OID bytes. The structure is
 * fixed, so nesting never exceeds 6 levels (< PINSET_MAX_DER_DEPTH) and
 * there is no recursion; opaque values (parameters, extnValue) are skipped
 * as whole TLVs.
 */
#include "core/der.h"

#include <stdbool.h>

#include "internal.h"
#include "util/cursor.h"
#include "util/der_tlv.h"

/* Longest OBJECT IDENTIFIER content we vouch for (real OIDs are < 32 bytes). */
#define PINSET_DER_MAX_OID 128

/* The deepest nesting this walker reaches: Certificate > tbs > Name > RDN > ATV > value. */
#define DER_FIXED_DEPTH 6
_Static_assert(DER_FIXED_DEPTH <= PINSET_MAX_DER_DEPTH, "der walker nests deeper than allowed");

/* X.690 universal tags (all single-byte, low tag numbers). */
enum {
    TAG_BOOLEAN = 0x01,
    TAG_INTEGER = 0x02,
    TAG_BIT_STRING = 0x03,
    TAG_OCTET_STRING = 0x04,
    TAG_NULL = 0x05,
    TAG_OID = 0x06,
    TAG_UTF8STRING = 0x0c,
    TAG_NUMERICSTRING = 0x12,
    TAG_PRINTABLESTRING = 0x13,
    TAG_T61STRING = 0x14,
    TAG_IA5STRING = 0x16,
    TAG_UTCTIME = 0x17,
    TAG_GENERALIZEDTIME = 0x18,
    TAG_BMPSTRING = 0x1e,
    TAG_SEQUENCE = 0x30,
    TAG_SET = 0x31,
    TAG_CTX0 = 0xa0, /* [0] EXPLICIT version */
    TAG_CTX1 = 0x81, /* [1] IMPLICIT issuerUniqueID */
    TAG_CTX2 = 0x82, /* [2] IMPLICIT subjectUniqueID */
    TAG_CTX3 = 0xa3  /* [3] EXPLICIT extensions */
};

/* One TLV is a struct pinset__tlv (util/der_tlv.h): tag, content sub-cursor, whole encoding. */

/* X.690 §8.1 and §10.1 (definite, minimal lengths of at most 4 bytes), read by src/util. */
static pinset_err read_tlv(struct pinset_cursor *c, struct pinset__tlv *out)
{
    switch (pinset__der_read_tlv(c, out)) {
    case PINSET__DER_OK:
        return PINSET_OK;
    case PINSET__DER_HIGH_TAG:
        return PINSET_E_UNSUPPORTED; /* high-tag-number form: nothing in X.509 needs it */
    case PINSET__DER_NO_TAG:
    case PINSET__DER_NO_LENGTH:
    case PINSET__DER_INDEFINITE:
    case PINSET__DER_LENGTH_TOO_LONG:
    case PINSET__DER_LENGTH_TRUNCATED:
    case PINSET__DER_LENGTH_LEADING_ZERO:
    case PINSET__DER_LENGTH_SHORT_AS_LONG:
    case PINSET__DER_OVERRUN:
    default:
        return PINSET_E_PARSE;
    }
}

static pinset_err expect_tlv(struct pinset_cursor *c, uint8_t tag, struct pinset__tlv *out)
{
    pinset_err err = read_tlv(c, out);

    if (err != PINSET_OK) {
        return err;
    }
    return out->tag == tag ? PINSET_OK : PINSET_E_PARSE;
}

static bool next_tag_is(const struct pinset_cursor *c, uint8_t tag)
{
    uint8_t b;

    return pinset__cursor_peek_u8(c, &b) && b == tag;
}

/* INTEGER content, X.690 §8.3.2: non-empty and minimal (OpenSSL c2i_ibuf rejects the rest). */
static pinset_err check_integer(const struct pinset_cursor *body)
{
    size_t n = pinset__cursor_remaining(body);
    const uint8_t *p = pinset__cursor_ptr(body);

    if (n == 0) {
        return PINSET_E_PARSE;
    }
    if (n > 1 && ((p[0] == 0x00 && (p[1] & 0x80) == 0) || (p[0] == 0xff && (p[1] & 0x80) != 0))) {
        return PINSET_E_PARSE;
    }
    return PINSET_OK;
}

/* OBJECT IDENTIFIER content, X.690 §8.19: what OpenSSL's c2i_ASN1_OBJECT enforces. */
static pinset_err check_oid(const struct pinset_cursor *body)
{
    size_t n = pinset__cursor_remaining(body);
    const uint8_t *p = pinset__cursor_ptr(body);

    if (n == 0 || (p[n - 1] & 0x80) != 0) {
        return PINSET_E_PARSE;
    }
    if (n > PINSET_DER_MAX_OID) {
        return PINSET_E_UNSUPPORTED;
    }
    for (size_t i = 0; i < n; i++) {
        /* a subidentifier may not start with 0x80 (non-minimal) */
        if (p[i] == 0x80 && (i == 0 || (p[i - 1] & 0x80) == 0)) {
            return PINSET_E_PARSE;
        }
    }
    return PINSET_OK;
}

static pinset_err read_oid(struct pinset_cursor *c)
{
    struct pinset__tlv t;
    pinset_err err = expect_tlv(c, TAG_OID, &t);

    return err != PINSET_OK ? err : check_oid(&t.body);
}

/*
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }
 * (RFC 5280 §4.1.1.2). Parameters we vouch for: absent, NULL, an OID (EC named
 * curve) or a SEQUENCE (RSA-PSS, DSA, explicit EC), which OpenSSL keeps and
 * writes back as raw bytes.
 */
static pinset_err read_algorithm(struct pinset_cursor *c)
{
    struct pinset__tlv seq;
    struct pinset__tlv param;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, &seq);

    if (err == PINSET_OK) {
        err = read_oid(&seq.body);
    }
    if (err != PINSET_OK || pinset__cursor_at_end(&seq.body)) {
        return err;
    }
    err = read_tlv(&seq.body, &param);
    if (err != PINSET_OK) {
        return err;
    }
    switch (param.tag) {
    case TAG_NULL:
        err = pinset__cursor_at_end(&param.body) ? PINSET_OK : PINSET_E_PARSE;
        break;
    case TAG_OID:
        err = check_oid(&param.body);
        break;
    case TAG_SEQUENCE:
        err = PINSET_OK;
        break;
    default:
        err = PINSET_E_UNSUPPORTED;
        break;
    }
    if (err == PINSET_OK && !pinset__cursor_at_end(&seq.body)) {
        err = PINSET_E_PARSE;
    }
    return err;
}

/* UTF-8 as RFC 3629 defines it: shortest form, no surrogates, at most U+10FFFF. */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t b = p[i];
        size_t extra;
        uint32_t cp;
        uint32_t min;

        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf) {
            extra = 1;
            cp = b & 0x1f;
            min = 0x80;
        } else if (b >= 0xe0 && b <= 0xef) {
            extra = 2;
            cp = b & 0x0f;
            min = 0x800;
        } else if (b >= 0xf0 && b <= 0xf4) {
            extra = 3;
            cp = b & 0x07;
            min = 0x10000;
        } else {
            return false; /* continuation byte, overlong C0/C1, or F5..FF */
        }
        if (extra > n - i - 1) {
            return false;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

/* BMPString (UCS-2): an even number of bytes and no surrogate code unit. */
static bool bmp_valid(const uint8_t *p, size_t n)
{
    if (n % 2 != 0) {
        return false;
    }
    for (size_t i = 0; i < n; i += 2) {
        if (p[i] >= 0xd8 && p[i] <= 0xdf) {
            return false;
        }
    }
    return true;
}

/* AttributeValue of a Name: the DirectoryString types OpenSSL canonicalises without failing. */
static pinset_err check_attr_value(const struct pinset__tlv *v)
{
    const uint8_t *p = pinset__cursor_ptr(&v->body);
    size_t n = pinset__cursor_remaining(&v->body);

    switch (v->tag) {
    case TAG_PRINTABLESTRING:
    case TAG_IA5STRING:
    case TAG_T61STRING:
    case TAG_NUMERICSTRING:
        return PINSET_OK; /* OpenSSL reads these byte by byte; any byte is accepted */
    case TAG_UTF8STRING:
        return utf8_valid(p, n) ? PINSET_OK : PINSET_E_PARSE;
    case TAG_BMPSTRING:
        return bmp_valid(p, n) ? PINSET_OK : PINSET_E_PARSE;
    default:
        return PINSET_E_UNSUPPORTED;
    }
}

/* AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY } (RFC 5280 §4.1.2.4). */
static pinset_err read_atv(struct pinset_cursor *c)
{
    struct pinset__tlv atv;
    struct pinset__tlv value;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, &atv);

    if (err == PINSET_OK) {
        err = read_oid(&atv.body);
    }
    if (err == PINSET_OK) {
        err = read_tlv(&atv.body, &value);
    }
    if (err == PINSET_OK) {
        err = check_attr_value(&value);
    }
    if (err == PINSET_OK && !pinset__cursor_at_end(&atv.body)) {
        err = PINSET_E_PARSE;
    }
    return err;
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET SIZE (1..MAX) OF ATV. */
static pinset_err read_name(struct pinset_cursor *c)
{
    struct pinset__tlv name;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, &name);

    while (err == PINSET_OK && !pinset__cursor_at_end(&name.body)) {
        struct pinset__tlv rdn;

        err = expect_tlv(&name.body, TAG_SET, &rdn);
        if (err == PINSET_OK && pinset__cursor_at_end(&rdn.body)) {
            err = PINSET_E_UNSUPPORTED; /* empty RDN: OpenSSL takes it, RFC 5280 does not */
        }
        while (err == PINSET_OK && !pinset__cursor_at_end(&rdn.body)) {
            err = read_atv(&rdn.body);
        }
    }
    return err;
}

/* Validity ::= SEQUENCE { notBefore Time, notAfter Time }; Time is UTCTime or GeneralizedTime. */
static pinset_err read_validity(struct pinset_cursor *c)
{
    struct pinset__tlv seq;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, &seq);

    for (int i = 0; i < 2 && err == PINSET_OK; i++) {
        struct pinset__tlv t;

        err = read_tlv(&seq.body, &t);
        if (err == PINSET_OK && t.tag != TAG_UTCTIME && t.tag != TAG_GENERALIZEDTIME) {
            err = PINSET_E_PARSE;
        }
    }
    if (err == PINSET_OK && !pinset__cursor_at_end(&seq.body)) {
        err = PINSET_E_PARSE;
    }
    return err;
}

/*
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
 * subjectPublicKey BIT STRING } (RFC 5280 §4.1.2.7). Unused bits must be 0
 * so that OpenSSL's re-encoding is byte-identical.
 */
static pinset_err read_spki(struct pinset_cursor *c, struct pinset__tlv *spki)
{
    struct pinset__tlv bits;
    uint8_t unused;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, spki);

    if (err == PINSET_OK) {
        err = read_algorithm(&spki->body);
    }
    if (err == PINSET_OK) {
        err = expect_tlv(&spki->body, TAG_BIT_STRING, &bits);
    }
    if (err != PINSET_OK) {
        return err;
    }
    if (!pinset__cursor_read_u8(&bits.body, &unused)) {
        return PINSET_E_PARSE;
    }
    if (unused != 0) {
        return unused > 7 ? PINSET_E_PARSE : PINSET_E_UNSUPPORTED;
    }
    return pinset__cursor_at_end(&spki->body) ? PINSET_OK : PINSET_E_PARSE;
}

/*
 * Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
 * extnValue OCTET STRING } (RFC 5280 §4.1.2.9). DER omits a FALSE critical
 * flag and encodes TRUE as ff (X.690 §11.1).
 */
static pinset_err read_extension(struct pinset_cursor *c)
{
    static const uint8_t critical_true[] = {TAG_BOOLEAN, 0x01, 0xff};
    struct pinset__tlv ext;
    struct pinset__tlv value;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, &ext);

    if (err == PINSET_OK) {
        err = read_oid(&ext.body);
    }
    if (err == PINSET_OK && next_tag_is(&ext.body, TAG_BOOLEAN) &&
        !pinset__cursor_expect(&ext.body, critical_true, sizeof(critical_true))) {
        err = PINSET_E_UNSUPPORTED;
    }
    if (err == PINSET_OK) {
        err = expect_tlv(&ext.body, TAG_OCTET_STRING, &value);
    }
    if (err == PINSET_OK && !pinset__cursor_at_end(&ext.body)) {
        err = PINSET_E_PARSE;
    }
    return err;
}

/* extensions [3] EXPLICIT SEQUENCE SIZE (1..MAX) OF Extension. */
static pinset_err read_extensions(struct pinset_cursor *c)
{
    struct pinset__tlv ctx;
    struct pinset__tlv seq;
    pinset_err err = expect_tlv(c, TAG_CTX3, &ctx);

    if (err == PINSET_OK) {
        err = expect_tlv(&ctx.body, TAG_SEQUENCE, &seq);
    }
    if (err == PINSET_OK && !pinset__cursor_at_end(&ctx.body)) {
        err = PINSET_E_PARSE;
    }
    if (err == PINSET_OK && pinset__cursor_at_end(&seq.body)) {
        err = PINSET_E_UNSUPPORTED;
    }
    while (err == PINSET_OK && !pinset__cursor_at_end(&seq.body)) {
        err = read_extension(&seq.body);
    }
    return err;
}

/*
 * version [0] EXPLICIT Version DEFAULT v1. Sets *v3 when the version is v3.
 * DER omits the default (an explicit v1 is declined), and we vouch only for
 * v2 and v3.
 */
static pinset_err read_version(struct pinset_cursor *c, bool *v3)
{
    static const uint8_t v2[] = {TAG_INTEGER, 0x01, 0x01};
    static const uint8_t v3_enc[] = {TAG_INTEGER, 0x01, 0x02};
    struct pinset__tlv ctx;
    pinset_err err;

    *v3 = false;
    if (!next_tag_is(c, TAG_CTX0)) {
        return PINSET_OK;
    }
    err = read_tlv(c, &ctx);
    if (err != PINSET_OK) {
        return err;
    }
    if (pinset__cursor_expect(&ctx.body, v3_enc, sizeof(v3_enc))) {
        *v3 = true;
    } else if (!pinset__cursor_expect(&ctx.body, v2, sizeof(v2))) {
        return PINSET_E_UNSUPPORTED;
    }
    return pinset__cursor_at_end(&ctx.body) ? PINSET_OK : PINSET_E_PARSE;
}

/* TBSCertificate (RFC 5280 §4.1): returns the subjectPublicKeyInfo TLV. */
static pinset_err read_tbs(struct pinset_cursor *c, struct pinset__tlv *spki)
{
    struct pinset__tlv tbs;
    struct pinset__tlv serial;
    bool v3 = false;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, &tbs);

    if (err == PINSET_OK) {
        err = read_version(&tbs.body, &v3);
    }
    if (err == PINSET_OK) {
        err = expect_tlv(&tbs.body, TAG_INTEGER, &serial);
    }
    if (err == PINSET_OK) {
        err = check_integer(&serial.body);
    }
    if (err == PINSET_OK) {
        err = read_algorithm(&tbs.body);
    }
    if (err == PINSET_OK) {
        err = read_name(&tbs.body); /* issuer */
    }
    if (err == PINSET_OK) {
        err = read_validity(&tbs.body);
    }
    if (err == PINSET_OK) {
        err = read_name(&tbs.body); /* subject */
    }
    if (err == PINSET_OK) {
        err = read_spki(&tbs.body, spki);
    }
    if (err != PINSET_OK || pinset__cursor_at_end(&tbs.body)) {
        return err;
    }
    if (next_tag_is(&tbs.body, TAG_CTX1) || next_tag_is(&tbs.body, TAG_CTX2)) {
        return PINSET_E_UNSUPPORTED; /* unique identifiers: legal, never seen in practice */
    }
    if (!v3) {
        return PINSET_E_UNSUPPORTED; /* extensions (or junk) outside a v3 certificate */
    }
    err = read_extensions(&tbs.body);
    if (err == PINSET_OK && !pinset__cursor_at_end(&tbs.body)) {
        err = PINSET_E_PARSE;
    }
    return err;
}

/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
static pinset_err read_certificate(struct pinset_cursor *c, struct pinset__tlv *spki)
{
    static const uint8_t no_unused_bits = 0x00;
    struct pinset__tlv cert;
    struct pinset__tlv sig;
    pinset_err err = expect_tlv(c, TAG_SEQUENCE, &cert);

    if (err == PINSET_OK) {
        err = read_tbs(&cert.body, spki);
    }
    if (err == PINSET_OK) {
        err = read_algorithm(&cert.body);
    }
    if (err == PINSET_OK) {
        err = expect_tlv(&cert.body, TAG_BIT_STRING, &sig);
    }
    if (err == PINSET_OK && !pinset__cursor_expect(&sig.body, &no_unused_bits, 1)) {
        err = pinset__cursor_at_end(&sig.body) ? PINSET_E_PARSE : PINSET_E_UNSUPPORTED;
    }
    if (err == PINSET_OK && !pinset__cursor_at_end(&cert.body)) {
        err = PINSET_E_PARSE;
    }
    if (err == PINSET_OK && !pinset__cursor_at_end(c)) {
        err = PINSET_E_PARSE; /* bytes after the certificate */
    }
    return err;
}

pinset_err pinset__der_cert_spki(const uint8_t *der, size_t len, const uint8_t **spki_out,
                                 size_t *spki_len_out)
{
    struct pinset_cursor c;
    struct pinset__tlv spki;
    pinset_err err;

    if (spki_out == NULL || spki_len_out == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    *spki_out = NULL;
    *spki_len_out = 0;
    if (der == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    if (len > PINSET_MAX_DER_SIZE) {
        return PINSET_E_LIMIT;
    }
    pinset__cursor_init(&c, der, len);
    err = read_certificate(&c, &spki);
    if (err != PINSET_OK) {
        return err;
    }
    *spki_out = spki.start;
    *spki_len_out = spki.total;
    return PINSET_OK;
}
