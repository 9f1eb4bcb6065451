/*
 * bench_ct_floor.c - the floor of the Certificate Transparency benchmark, in process: for each
 * of the N entries of the benchmark's log (bench_ct.h), read it (its MerkleTreeLeaf built into a
 * buffer: the bytes a monitor has after decoding), walk its DER to the SubjectPublicKeyInfo (the
 * library's strict walker for a certificate; the same TLV reader over a precert's
 * TBSCertificate), and SHA-256 the SPKI. No HTTP, no JSON, no base64, no Merkle tree, no names:
 * what no monitor can go below.
 *
 * With "merkle", each entry is also hashed the way verifying it against the log's signed tree
 * head needs (RFC 6962 section 2.1): its leaf hash SHA-256(0x00 || leaf), appended to a compact
 * range of the tree (one node hash SHA-256(0x01 || left || right) per subtree it completes).
 * That hashing covers the whole MerkleTreeLeaf, not only the key, and is the part of a verifying
 * monitor's work that the floor leaves out.
 *
 *   bench_ct_floor N [merkle]   prints: RESULT ct-floor[+merkle] <cpu ns/entry> <entries>
 * <checksum>
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_ct.h"
#include "core/der.h"
#include "util/cursor.h"
#include "util/der_tlv.h"

/* The SPKI of a TBSCertificate: version, serial, signature, issuer, validity, subject, SPKI. */
static int tbs_spki(const uint8_t *der, size_t len, const uint8_t **spki, size_t *spki_len)
{
    struct pinset_cursor c, body;
    struct pinset__tlv t;

    pinset__cursor_init(&c, der, len);
    if (pinset__der_read_tlv(&c, &t) != PINSET__DER_OK || t.tag != 0x30) {
        return -1;
    }
    body = t.body;
    if (pinset__der_read_tlv(&body, &t) != PINSET__DER_OK) { /* version or serial */
        return -1;
    }
    if (t.tag == 0xa0 && pinset__der_read_tlv(&body, &t) != PINSET__DER_OK) { /* serial */
        return -1;
    }
    for (int i = 0; i < 5; i++) { /* signature, issuer, validity, subject, then the SPKI */
        if (pinset__der_read_tlv(&body, &t) != PINSET__DER_OK || t.tag != 0x30) {
            return -1;
        }
    }
    *spki = t.start;
    *spki_len = t.total;
    return 0;
}

/* SHA-256 of prefix || a || b (b may be empty) on a reused context. 0 or -1. */
static int sha256_3(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t prefix, const uint8_t *a,
                    size_t alen, const uint8_t *b, size_t blen, uint8_t out[32])
{
    return EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, &prefix, 1) == 1 &&
                   EVP_DigestUpdate(ctx, a, alen) == 1 &&
                   (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
                   EVP_DigestFinal_ex(ctx, out, NULL) == 1
               ? 0
               : -1;
}

/* The right edge of the tree: one hash per set bit of size, the largest subtree first. */
struct range {
    uint64_t size;
    unsigned int count;
    uint8_t hash[64][32];
};

/* Append a leaf hash, merging the subtrees it completes. 0 or -1. */
static int range_append(struct range *r, EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t h[32])
{
    memcpy(r->hash[r->count++], h, 32);
    for (uint64_t s = r->size; s & 1; s >>= 1) {
        r->count--;
        if (sha256_3(ctx, md, 0x01, r->hash[r->count - 1], 32, r->hash[r->count], 32,
                     r->hash[r->count - 1]) != 0) {
            return -1;
        }
    }
    r->size++;
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_ct_pool pool;
    struct timespec a, b;
    uint64_t n, check = 0;
    uint8_t leaf[8192], h[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL); /* fetched once, as pinset does */
    double ns;
    static struct range r;
    int merkle = argc == 3 && strcmp(argv[2], "merkle") == 0;

    if ((argc != 2 && !merkle) || (n = strtoull(argv[1], NULL, 10)) == 0) {
        fprintf(stderr, "usage: bench_ct_floor N [merkle]\n");
        return 2;
    }
    if (ctx == NULL || md == NULL || bench_ct_pool_make(&pool) != 0) {
        fprintf(stderr, "bench_ct_floor: cannot make the pool\n");
        return 1;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (uint64_t i = 0; i < n; i++) {
        size_t len = bench_ct_leaf(&pool, i, leaf, sizeof(leaf)), off, dlen, spki_len = 0;
        const uint8_t *spki = NULL;
        int pre = leaf[11] == 1;

        off = 12 + (pre ? 32 : 0);
        dlen = ((size_t)leaf[off] << 16) | ((size_t)leaf[off + 1] << 8) | leaf[off + 2];
        if (len == 0 || off + 3 + dlen > len) {
            return 1;
        }
        if (pre ? tbs_spki(leaf + off + 3, dlen, &spki, &spki_len) != 0
                : pinset__der_cert_spki(leaf + off + 3, dlen, &spki, &spki_len) != PINSET_OK) {
            fprintf(stderr, "bench_ct_floor: entry %llu: no SPKI\n", (unsigned long long)i);
            return 1;
        }
        if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, spki, spki_len) != 1 ||
            EVP_DigestFinal_ex(ctx, h, NULL) != 1) {
            return 1;
        }
        check += h[0];
        if (merkle && (sha256_3(ctx, md, 0x00, leaf, len, NULL, 0, h) != 0 ||
                       range_append(&r, ctx, md, h) != 0)) {
            return 1;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
    printf("RESULT ct-floor%s %.1f %llu %llu\n", merkle ? "+merkle" : "", ns, (unsigned long long)n,
           (unsigned long long)(check + (merkle ? r.hash[0][0] : 0)));
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    bench_ct_pool_free(&pool);
    return 0;
}
