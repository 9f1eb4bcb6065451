/*
 * leaf.h - the entries of an RFC 6962 log: a MerkleTreeLeaf (§3.4) with its
 * TimestampedEntry, an x509_entry (the certificate) or a precert_entry (the
 * issuer key hash and the TBSCertificate); the extra_data chains (§4.6);
 * and a strict, bounded DER walk of a Certificate or a TBSCertificate to its
 * SubjectPublicKeyInfo and its names (SAN dNSName; the subject's CN only
 * when there is no SAN extension, RFC 6125 §6.4.4).
 *
 * Everything here reads untrusted bytes: every length is checked against
 * what remains, nothing is copied, and the spans point into the input.
 */
#ifndef PINSET_CT_LEAF_H
#define PINSET_CT_LEAF_H

#include <stddef.h>
#include <stdint.h>

enum ct_entry_type { CT_ENTRY_X509 = 0, CT_ENTRY_PRECERT = 1 };

typedef struct ct_leaf {
    uint64_t timestamp;
    enum ct_entry_type type;
    const uint8_t *der; /* x509: the Certificate; precert: the TBSCertificate */
    size_t der_len;
    const uint8_t *issuer_key_hash; /* precert only: 32 bytes */
} ct_leaf;

/* Parse a MerkleTreeLeaf (the decoded leaf_input). 0, or -1 with the reason in err. */
int ct_leaf_parse(ct_leaf *out, const uint8_t *buf, size_t len, char *err, size_t errcap);
/*
 * Check the framing of extra_data for an entry of `type`: x509, a
 * certificate_chain; precert, a PrecertChainEntry (the pre-certificate and
 * its chain). Returns the number of certificates, or -1 with the reason.
 */
int ct_extra_data_check(enum ct_entry_type type, const uint8_t *buf, size_t len, char *err,
                        size_t errcap);

/* One name of a certificate, borrowed from its DER; not NUL-terminated. */
typedef int (*ct_name_cb)(const char *name, size_t len, int from_cn, void *payload);

/*
 * Walk a DER Certificate (is_tbs 0) or TBSCertificate (is_tbs 1): the SPKI's
 * span into *spki and *spki_len, and each dNSName of the subjectAltName (or, when
 * the certificate has no subjectAltName, each commonName of the subject) to
 * `cb` (which may be NULL; a non-zero return stops the walk and is returned).
 * 0, or -1 with the reason in err (malformed DER).
 */
int ct_cert_walk(const uint8_t *der, size_t len, int is_tbs, const uint8_t **spki, size_t *spki_len,
                 ct_name_cb cb, void *payload, char *err, size_t errcap);

#endif /* PINSET_CT_LEAF_H */
