/*
 * merkle.h - RFC 6962 / RFC 9162 Merkle tree hashing for Certificate
 * Transparency: leaf and node hashes, the root of a list of leaf hashes, the
 * compact range (the right edge of a tree, enough to extend it and compute its
 * root), and the verification of consistency and inclusion proofs.
 * Part of the tool (src/ct); OpenSSL's SHA-256 only.
 */
#ifndef PINSET_CT_MERKLE_H
#define PINSET_CT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define CT_HASH_LEN 32
/* A tree of 2^64 - 1 leaves has at most 64 perfect subtrees on its right edge; proofs are as long.
 */
#define CT_MAX_DEPTH 64

/*
 * The hashes below reuse one digest context per thread. Release the calling thread's with
 * ct_merkle_cleanup before it ends (the next hash makes a new one).
 */
void ct_merkle_cleanup(void);

/* SHA-256(data), on the same context. 0 or -1. */
int ct_sha256(uint8_t out[CT_HASH_LEN], const uint8_t *data, size_t len);
/* SHA-256(0x00 || data): the hash of a leaf (RFC 6962 §2.1). 0, or -1 if the digest failed. */
int ct_leaf_hash(uint8_t out[CT_HASH_LEN], const uint8_t *data, size_t len);
/* SHA-256(0x01 || left || right): an interior node (RFC 6962 §2.1). 0 or -1. */
int ct_node_hash(uint8_t out[CT_HASH_LEN], const uint8_t left[CT_HASH_LEN],
                 const uint8_t right[CT_HASH_LEN]);
/* The tree head of n leaf hashes (MTH, RFC 6962 §2.1; SHA-256 of "" for n = 0). 0 or -1. */
int ct_merkle_root(uint8_t out[CT_HASH_LEN], const uint8_t (*leaves)[CT_HASH_LEN], size_t n);

/*
 * The right edge of a tree of `size` leaves: one hash per set bit of size, the
 * largest subtree first. Appending a leaf merges equal-sized subtrees; the
 * root folds them from the right. Enough to resume a tree from its position.
 */
typedef struct ct_range {
    uint64_t size;
    unsigned int count;
    uint8_t hash[CT_MAX_DEPTH][CT_HASH_LEN];
} ct_range;

void ct_range_init(ct_range *r);
/* Append one leaf hash. 0, or -1 (the tree is full, or the digest failed). */
int ct_range_append(ct_range *r, const uint8_t leaf[CT_HASH_LEN]);
/* The tree head of the range (SHA-256 of "" when empty). 0 or -1. */
int ct_range_root(const ct_range *r, uint8_t out[CT_HASH_LEN]);
/* Whether count matches the bits of size (a range read from a file). */
int ct_range_valid(const ct_range *r);

/*
 * Verify that the tree of `second` leaves with head `second_hash` extends the
 * tree of `first` leaves with head `first_hash`, by the RFC 9162 §2.1.4.2
 * algorithm. first == second needs an empty proof and equal heads; first == 0
 * needs an empty proof. Returns 1 when consistent, 0 otherwise.
 */
int ct_verify_consistency(uint64_t first, uint64_t second, const uint8_t first_hash[CT_HASH_LEN],
                          const uint8_t second_hash[CT_HASH_LEN],
                          const uint8_t (*proof)[CT_HASH_LEN], size_t proof_len);
/*
 * Verify that `leaf` is leaf `index` of the tree of `size` leaves with head
 * `root` (RFC 9162 §2.1.3.2). Returns 1 when included, 0 otherwise.
 */
int ct_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[CT_HASH_LEN],
                        const uint8_t root[CT_HASH_LEN], const uint8_t (*proof)[CT_HASH_LEN],
                        size_t proof_len);

#endif /* PINSET_CT_MERKLE_H */
