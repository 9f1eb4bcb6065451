/*
 * leaf.c - RFC 6962 log entries and the DER walk to the SPKI and names (see leaf.h).
 */
#include "ct/leaf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ct/err.h"
#include "util/base.h"
#include "util/cursor.h"
#include "util/der_tlv.h"

/* A big-endian integer of n bytes (n <= 8). */
static int read_uint(struct pinset_cursor *c, unsigned int n, uint64_t *out)
{
    const uint8_t *p;
    uint64_t v = 0;

    if (!pinset__cursor_read_bytes(c, n, &p)) {
        return -1;
    }
    for (unsigned int i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    *out = v;
    return 0;
}

/* A TLS opaque<min..2^(8*lenbytes)-1> vector: its body. */
static int read_vec(struct pinset_cursor *c, unsigned int lenbytes, size_t min, const uint8_t **out,
                    size_t *out_len)
{
    uint64_t n;

    if (read_uint(c, lenbytes, &n) != 0 || n < min ||
        !pinset__cursor_read_bytes(c, (size_t)n, out)) {
        return -1;
    }
    *out_len = (size_t)n;
    return 0;
}

int ct_leaf_parse(ct_leaf *out, const uint8_t *buf, size_t len, char *err, size_t errcap)
{
    struct pinset_cursor c;
    uint64_t version, leaf_type, type;
    const uint8_t *ext;
    size_t ext_len;

    memset(out, 0, sizeof(*out));
    pinset__cursor_init(&c, buf, len);
    if (read_uint(&c, 1, &version) != 0 || version != 0) {
        ct_seterr(err, errcap, "leaf_input: version is not v1");
        return -1;
    }
    if (read_uint(&c, 1, &leaf_type) != 0 || leaf_type != 0) {
        ct_seterr(err, errcap, "leaf_input: leaf_type is not timestamped_entry");
        return -1;
    }
    if (read_uint(&c, 8, &out->timestamp) != 0 || read_uint(&c, 2, &type) != 0) {
        ct_seterr(err, errcap, "leaf_input: truncated TimestampedEntry");
        return -1;
    }
    if (type == CT_ENTRY_X509) {
        out->type = CT_ENTRY_X509;
    } else if (type == CT_ENTRY_PRECERT) {
        out->type = CT_ENTRY_PRECERT;
        if (!pinset__cursor_read_bytes(&c, 32, &out->issuer_key_hash)) {
            ct_seterr(err, errcap, "leaf_input: truncated issuer_key_hash");
            return -1;
        }
    } else {
        ct_seterr(err, errcap, "leaf_input: unknown entry_type %llu", (unsigned long long)type);
        return -1;
    }
    if (read_vec(&c, 3, 1, &out->der, &out->der_len) != 0) {
        ct_seterr(err, errcap, "leaf_input: %s: bad length",
                  type == CT_ENTRY_X509 ? "ASN.1Cert" : "tbs_certificate");
        return -1;
    }
    if (read_vec(&c, 2, 0, &ext, &ext_len) != 0 || !pinset__cursor_at_end(&c)) {
        ct_seterr(err, errcap, "leaf_input: bad CtExtensions or trailing bytes");
        return -1;
    }
    return 0;
}

/* A certificate_chain: ASN.1Cert<1..2^24-1> inside a <0..2^24-1> vector. */
static int read_chain(struct pinset_cursor *c, int *count)
{
    const uint8_t *body, *cert;
    size_t body_len, cert_len;
    struct pinset_cursor ch;

    if (read_vec(c, 3, 0, &body, &body_len) != 0) {
        return -1;
    }
    pinset__cursor_init(&ch, body, body_len);
    while (!pinset__cursor_at_end(&ch)) {
        if (read_vec(&ch, 3, 1, &cert, &cert_len) != 0) {
            return -1;
        }
        (*count)++;
    }
    return 0;
}

int ct_extra_data_check(enum ct_entry_type type, const uint8_t *buf, size_t len, char *err,
                        size_t errcap)
{
    struct pinset_cursor c;
    const uint8_t *pre;
    size_t pre_len;
    int count = 0;

    pinset__cursor_init(&c, buf, len);
    if (type == CT_ENTRY_PRECERT) {
        if (read_vec(&c, 3, 1, &pre, &pre_len) != 0) {
            ct_seterr(err, errcap, "extra_data: bad pre_certificate length");
            return -1;
        }
        count++;
    }
    if (read_chain(&c, &count) != 0 || !pinset__cursor_at_end(&c)) {
        ct_seterr(err, errcap, "extra_data: bad certificate chain or trailing bytes");
        return -1;
    }
    return count;
}

/* ---- the DER walk ---- */

/* DER of the OIDs we look for: 2.5.29.17 subjectAltName, 2.5.4.3 commonName. */
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};

static int tlv(struct pinset_cursor *c, uint8_t want, struct pinset__tlv *t)
{
    return pinset__der_read_tlv(c, t) == PINSET__DER_OK && t->tag == want ? 0 : -1;
}

static int oid_is(const struct pinset__tlv *t, const uint8_t *oid, size_t n)
{
    return t->tag == 0x06 && t->body.len == n && memcmp(t->body.buf, oid, n) == 0;
}

/* GeneralNames (RFC 5280 §4.2.1.6): each dNSName ([2] IA5String) to cb. */
static int walk_san(struct pinset_cursor *value, ct_name_cb cb, void *payload)
{
    struct pinset__tlv names, gn;
    int r;

    if (tlv(value, 0x30, &names) != 0 || !pinset__cursor_at_end(value)) {
        return -1;
    }
    while (!pinset__cursor_at_end(&names.body)) {
        if (pinset__der_read_tlv(&names.body, &gn) != PINSET__DER_OK) {
            return -1;
        }
        if (gn.tag == 0x82 && cb != NULL &&
            (r = cb((const char *)gn.body.buf, gn.body.len, 0, payload)) != 0) {
            return r;
        }
    }
    return 0;
}

/* Extensions: find subjectAltName; *has_san says whether there was one. */
static int walk_exts(struct pinset_cursor *c, int *has_san, ct_name_cb cb, void *payload)
{
    struct pinset__tlv exts, ext, oid, t;
    int r;

    if (tlv(c, 0x30, &exts) != 0 || !pinset__cursor_at_end(c)) {
        return -1;
    }
    while (!pinset__cursor_at_end(&exts.body)) {
        if (tlv(&exts.body, 0x30, &ext) != 0 || tlv(&ext.body, 0x06, &oid) != 0 ||
            pinset__der_read_tlv(&ext.body, &t) != PINSET__DER_OK) {
            return -1;
        }
        if (t.tag == 0x01 && pinset__der_read_tlv(&ext.body, &t) != PINSET__DER_OK) {
            return -1; /* critical BOOLEAN, then the value */
        }
        if (t.tag != 0x04 || !pinset__cursor_at_end(&ext.body)) {
            return -1;
        }
        if (oid_is(&oid, oid_san, sizeof(oid_san))) {
            if (*has_san) {
                return -1; /* RFC 5280 §4.2: an extension appears at most once */
            }
            *has_san = 1;
            if ((r = walk_san(&t.body, cb, payload)) != 0) {
                return r;
            }
        }
    }
    return 0;
}

/* Name: each commonName (a string type) of the subject to cb. */
static int walk_cn(struct pinset_cursor subject, ct_name_cb cb, void *payload)
{
    struct pinset__tlv rdn, atv, oid, val;
    int r;

    while (!pinset__cursor_at_end(&subject)) {
        if (tlv(&subject, 0x31, &rdn) != 0) {
            return -1;
        }
        while (!pinset__cursor_at_end(&rdn.body)) {
            if (tlv(&rdn.body, 0x30, &atv) != 0 || tlv(&atv.body, 0x06, &oid) != 0 ||
                pinset__der_read_tlv(&atv.body, &val) != PINSET__DER_OK) {
                return -1;
            }
            if (oid_is(&oid, oid_cn, sizeof(oid_cn)) &&
                (val.tag == 0x0c || val.tag == 0x13 || val.tag == 0x16 || val.tag == 0x14) &&
                cb != NULL && (r = cb((const char *)val.body.buf, val.body.len, 1, payload)) != 0) {
                return r;
            }
        }
    }
    return 0;
}

/* TBSCertificate (RFC 5280 §4.1): version, serial, signature, issuer, validity, subject, SPKI, ...
 */
static int walk_tbs(struct pinset_cursor *tbs, const uint8_t **spki, size_t *spki_len,
                    ct_name_cb cb, void *payload)
{
    struct pinset__tlv t, subject, key;
    int has_san = 0, r;
    uint8_t tag;

    if (pinset__cursor_peek_u8(tbs, &tag) && tag == 0xa0 && tlv(tbs, 0xa0, &t) != 0) {
        return -1;
    }
    if (tlv(tbs, 0x02, &t) != 0 || tlv(tbs, 0x30, &t) != 0 || tlv(tbs, 0x30, &t) != 0 ||
        tlv(tbs, 0x30, &t) != 0 || tlv(tbs, 0x30, &subject) != 0 || tlv(tbs, 0x30, &key) != 0) {
        return -1;
    }
    *spki = key.start;
    *spki_len = key.total;
    while (!pinset__cursor_at_end(tbs)) {
        if (pinset__der_read_tlv(tbs, &t) != PINSET__DER_OK) {
            return -1;
        }
        if (t.tag == 0xa3) {
            if (!pinset__cursor_at_end(tbs)) {
                return -1; /* extensions come last */
            }
            if ((r = walk_exts(&t.body, &has_san, cb, payload)) != 0) {
                return r;
            }
        } else if (t.tag != 0x81 && t.tag != 0x82) {
            return -1;
        }
    }
    return has_san ? 0 : walk_cn(subject.body, cb, payload);
}

int ct_cert_walk(const uint8_t *der, size_t len, int is_tbs, const uint8_t **spki, size_t *spki_len,
                 ct_name_cb cb, void *payload, char *err, size_t errcap)
{
    struct pinset_cursor c;
    struct pinset__tlv cert, tbs, t;
    int r;

    *spki = NULL;
    *spki_len = 0;
    pinset__cursor_init(&c, der, len);
    if (is_tbs) {
        if (tlv(&c, 0x30, &tbs) != 0 || !pinset__cursor_at_end(&c)) {
            ct_seterr(err, errcap, "tbs_certificate: not one DER SEQUENCE");
            return -1;
        }
    } else if (tlv(&c, 0x30, &cert) != 0 || !pinset__cursor_at_end(&c) ||
               tlv(&cert.body, 0x30, &tbs) != 0 || tlv(&cert.body, 0x30, &t) != 0 ||
               tlv(&cert.body, 0x03, &t) != 0 || !pinset__cursor_at_end(&cert.body)) {
        ct_seterr(err, errcap, "certificate: not a DER Certificate (RFC 5280 section 4.1)");
        return -1;
    }
    r = walk_tbs(&tbs.body, spki, spki_len, cb, payload);
    if (r < 0) {
        ct_seterr(err, errcap, "%s: malformed TBSCertificate",
                  is_tbs ? "tbs_certificate" : "certificate");
        return -1;
    }
    return r;
}
