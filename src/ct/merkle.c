/*
 * merkle.c - RFC 6962 Merkle tree hashing and proof verification (see merkle.h).
 */
#include "ct/merkle.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/*
 * One SHA-256 and one digest context per thread, fetched and made once: an implicit fetch
 * (EVP_sha256() in EVP_DigestInit_ex) takes a lock at every hash, and a log of a billion
 * entries takes two billion hashes. ct_merkle_cleanup releases the calling thread's.
 */
static _Thread_local EVP_MD *sha256_md;
static _Thread_local EVP_MD_CTX *sha256_ctx;

void ct_merkle_cleanup(void)
{
    EVP_MD_CTX_free(sha256_ctx);
    EVP_MD_free(sha256_md);
    sha256_ctx = NULL;
    sha256_md = NULL;
}

/* SHA-256 of prefix (none when NULL), a and b, on the thread's own digest and context. */
static int sha256_parts(uint8_t out[CT_HASH_LEN], const uint8_t *prefix, const uint8_t *a,
                        size_t alen, const uint8_t *b, size_t blen)
{
    unsigned int n = 0;

    if (sha256_md == NULL && (sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
        return -1;
    }
    if (sha256_ctx == NULL && (sha256_ctx = EVP_MD_CTX_new()) == NULL) {
        return -1;
    }
    return EVP_DigestInit_ex(sha256_ctx, sha256_md, NULL) == 1 &&
                   (prefix == NULL || EVP_DigestUpdate(sha256_ctx, prefix, 1) == 1) &&
                   (alen == 0 || EVP_DigestUpdate(sha256_ctx, a, alen) == 1) &&
                   (blen == 0 || EVP_DigestUpdate(sha256_ctx, b, blen) == 1) &&
                   EVP_DigestFinal_ex(sha256_ctx, out, &n) == 1 && n == CT_HASH_LEN
               ? 0
               : -1;
}

int ct_sha256(uint8_t out[CT_HASH_LEN], const uint8_t *data, size_t len)
{
    return sha256_parts(out, NULL, data, len, NULL, 0);
}

int ct_leaf_hash(uint8_t out[CT_HASH_LEN], const uint8_t *data, size_t len)
{
    static const uint8_t leaf = 0x00;
    return sha256_parts(out, &leaf, data, len, NULL, 0);
}

int ct_node_hash(uint8_t out[CT_HASH_LEN], const uint8_t left[CT_HASH_LEN],
                 const uint8_t right[CT_HASH_LEN])
{
    static const uint8_t node = 0x01;
    return sha256_parts(out, &node, left, CT_HASH_LEN, right, CT_HASH_LEN);
}

static int empty_root(uint8_t out[CT_HASH_LEN])
{
    unsigned int n = 0;

    return EVP_Digest("", 0, out, &n, EVP_sha256(), NULL) == 1 && n == CT_HASH_LEN ? 0 : -1;
}

int ct_merkle_root(uint8_t out[CT_HASH_LEN], const uint8_t (*leaves)[CT_HASH_LEN], size_t n)
{
    ct_range r;

    ct_range_init(&r);
    for (size_t i = 0; i < n; i++) {
        if (ct_range_append(&r, leaves[i]) != 0) {
            return -1;
        }
    }
    return ct_range_root(&r, out);
}

void ct_range_init(ct_range *r)
{
    memset(r, 0, sizeof(*r));
}

int ct_range_append(ct_range *r, const uint8_t leaf[CT_HASH_LEN])
{
    uint64_t size = r->size;

    if (size == UINT64_MAX || r->count >= CT_MAX_DEPTH) {
        return -1;
    }
    memcpy(r->hash[r->count++], leaf, CT_HASH_LEN);
    /* Each trailing one bit of the old size is a perfect subtree the new leaf completes. */
    while (size & 1) {
        if (ct_node_hash(r->hash[r->count - 2], r->hash[r->count - 2], r->hash[r->count - 1]) !=
            0) {
            return -1;
        }
        r->count--;
        size >>= 1;
    }
    r->size++;
    return 0;
}

int ct_range_root(const ct_range *r, uint8_t out[CT_HASH_LEN])
{
    uint8_t h[CT_HASH_LEN];

    if (r->count == 0) {
        return empty_root(out);
    }
    memcpy(h, r->hash[r->count - 1], CT_HASH_LEN);
    for (unsigned int i = r->count - 1; i-- > 0;) {
        if (ct_node_hash(h, r->hash[i], h) != 0) {
            return -1;
        }
    }
    memcpy(out, h, CT_HASH_LEN);
    return 0;
}

int ct_range_valid(const ct_range *r)
{
    unsigned int bits = 0;

    for (uint64_t s = r->size; s != 0; s &= s - 1) {
        bits++;
    }
    return bits == r->count && r->count <= CT_MAX_DEPTH;
}

static int hash_eq(const uint8_t a[CT_HASH_LEN], const uint8_t b[CT_HASH_LEN])
{
    return CRYPTO_memcmp(a, b, CT_HASH_LEN) == 0;
}

/* RFC 9162 §2.1.4.2, step by step; the step numbers are the RFC's. */
int ct_verify_consistency(uint64_t first, uint64_t second, const uint8_t first_hash[CT_HASH_LEN],
                          const uint8_t second_hash[CT_HASH_LEN],
                          const uint8_t (*proof)[CT_HASH_LEN], size_t proof_len)
{
    uint8_t fr[CT_HASH_LEN], sr[CT_HASH_LEN];
    uint64_t fn, sn;
    size_t i = 0;

    if (first > second || proof_len > CT_MAX_DEPTH * 2) {
        return 0;
    }
    if (first == second) {
        return proof_len == 0 && hash_eq(first_hash, second_hash);
    }
    if (first == 0) {
        return proof_len == 0; /* the empty tree is a prefix of every tree */
    }
    if (proof_len == 0) { /* 1 */
        return 0;
    }
    fn = first - 1; /* 3 */
    sn = second - 1;
    while (fn & 1) { /* 4 */
        fn >>= 1;
        sn >>= 1;
    }
    /* 2 and 5: a power-of-two first tree is itself the first node of the path. */
    if ((first & (first - 1)) == 0) {
        memcpy(fr, first_hash, CT_HASH_LEN);
    } else {
        memcpy(fr, proof[i++], CT_HASH_LEN);
    }
    memcpy(sr, fr, CT_HASH_LEN);
    for (; i < proof_len; i++) { /* 6 */
        if (sn == 0) {
            return 0;
        }
        if ((fn & 1) || fn == sn) {
            if (ct_node_hash(fr, proof[i], fr) != 0 || ct_node_hash(sr, proof[i], sr) != 0) {
                return 0;
            }
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else if (ct_node_hash(sr, sr, proof[i]) != 0) {
            return 0;
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_eq(fr, first_hash) && hash_eq(sr, second_hash); /* 7 */
}

/* RFC 9162 §2.1.3.2. */
int ct_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[CT_HASH_LEN],
                        const uint8_t root[CT_HASH_LEN], const uint8_t (*proof)[CT_HASH_LEN],
                        size_t proof_len)
{
    uint8_t r[CT_HASH_LEN];
    uint64_t fn = index, sn = size - 1;

    if (index >= size || proof_len > CT_MAX_DEPTH) {
        return 0;
    }
    memcpy(r, leaf, CT_HASH_LEN);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0) {
            return 0;
        }
        if ((fn & 1) || fn == sn) {
            if (ct_node_hash(r, proof[i], r) != 0) {
                return 0;
            }
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else if (ct_node_hash(r, r, proof[i]) != 0) {
            return 0;
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_eq(r, root);
}
