/*
 * tiles.h - the read path of static-CT-API logs (c2sp.org/static-ct-api):
 * the checkpoint (a signed note whose RFC6962NoteSignature carries the
 * timestamp and the TreeHeadSignature of a get-sth response), tile paths,
 * the TileLeaf entries of data tiles, and the hash of a perfect subtree read
 * from a hash tile.
 */
#ifndef PINSET_CT_TILES_H
#define PINSET_CT_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "ct/merkle.h"
#include "ct/sth.h"

#define CT_TILE_WIDTH  256
#define CT_TILE_HEIGHT 8

/* Checkpoint outcomes. */
enum { CT_CP_OK = 0, CT_CP_MALFORMED = -1, CT_CP_BAD_SIGNATURE = -2 };

/*
 * Parse a checkpoint and verify the log's signature on it: the origin line
 * must be `origin`; the signature line named `origin` with the key ID of the
 * log key (SHA-256 of origin, 0x0A, 0x05 and the log ID: its first four bytes)
 * must verify as a TreeHeadSignature; other signatures are ignored. On
 * CT_CP_OK, out holds the tree head as get-sth would give it.
 */
int ct_checkpoint_verify(ct_sth *out, const uint8_t *text, size_t len, const char *origin,
                         const ct_log_key *key, char *err, size_t errcap);

/*
 * The path of a tile: "tile/<level>/<N>[.p/<W>]", or "tile/data/<N>[.p/<W>]"
 * for level -1; N in 3-digit elements, all but the last prefixed with 'x'.
 * width 256 is a full tile. 0, or -1 when cap is too small.
 */
int ct_tile_path(char *buf, size_t cap, int level, uint64_t n, unsigned int width);

/* The width of tile n at level (-1: data) in a tree of size: 0 when it does not exist. */
unsigned int ct_tile_width(uint64_t size, int level, uint64_t n);

/*
 * Read the next TileLeaf of a data tile at *off: the MerkleTreeLeaf it stands
 * for (version v1, timestamped_entry, then its TimestampedEntry) into a new
 * malloc'd buffer *leaf, and *off moved past it. 0, or -1 with err.
 */
int ct_tile_leaf_next(const uint8_t *tile, size_t len, size_t *off, uint8_t **leaf,
                      size_t *leaf_len, char *err, size_t errcap);

/*
 * The hash of `count` (a power of two, at most 256) consecutive hashes of a
 * tile, from index `first`: the Merkle tree hash of the subtree they make.
 * 0, or -1 when they are not all in the tile.
 */
int ct_tile_subtree(uint8_t out[CT_HASH_LEN], const uint8_t *tile, size_t len, unsigned int first,
                    unsigned int count);

#endif /* PINSET_CT_TILES_H */
