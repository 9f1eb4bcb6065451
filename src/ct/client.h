/*
 * client.h - the RFC 6962 §4 client side of a CT log over HTTP (libcurl):
 * get-sth, get-sth-consistency and get-entries, each response bounded in size
 * and time; get-sth and its proofs parsed with jansson, get-entries with
 * simdjson (ct/entries.h).
 */
#ifndef PINSET_CT_CLIENT_H
#define PINSET_CT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ct/entries.h"
#include "ct/merkle.h"
#include "ct/sth.h"

typedef struct ct_client ct_client;

/* A client for the log at `url` (its base: "ct/v1/..." or "checkpoint" is appended). 0 or -1. */
int ct_client_new(ct_client **out, const char *url, unsigned int timeout_ms, char *err,
                  size_t errcap);
void ct_client_free(ct_client *c);

/* GET ct/v1/get-sth. 0, or -1 with err (network, HTTP status, or the response). */
int ct_client_get_sth(ct_client *c, ct_sth *out, char *err, size_t errcap);
/* GET ct/v1/get-sth-consistency: the proof into proof (cap hashes) and *len. 0 or -1. */
int ct_client_get_consistency(ct_client *c, uint64_t first, uint64_t second,
                              uint8_t (*proof)[CT_HASH_LEN], size_t cap, size_t *len, char *err,
                              size_t errcap);

/*
 * GET ct/v1/get-entries?start=..&end=.. (inclusive): at least one entry and at
 * most end - start + 1, as RFC 6962 §4.6 lets a log return fewer. 0, or -1.
 */
int ct_client_get_entries(ct_client *c, uint64_t start, uint64_t end, ct_batch *out, char *err,
                          size_t errcap);

/* ---- static-CT-API logs (the URL is the monitoring prefix) ---- */

/* GET base + path, any body: *out (malloc'd) and *len; *status the HTTP status. 0 on 200, or -1. */
int ct_client_get_raw(ct_client *c, const char *path, uint8_t **out, size_t *len, long *status,
                      char *err, size_t errcap);
/* Hash tile n at level of the tree of `size` (its partial tile, or the full one): exactly its
 * hashes. */
int ct_client_get_hash_tile(ct_client *c, uint64_t size, int level, uint64_t n, uint8_t **out,
                            size_t *len, char *err, size_t errcap);
/*
 * The entries [start, end] that the data tile holding `start` has (at least
 * one), each as the MerkleTreeLeaf it stands for (extra is NULL). 0 or -1.
 */
int ct_client_get_tile_entries(ct_client *c, uint64_t size, uint64_t start, uint64_t end,
                               ct_batch *out, char *err, size_t errcap);

#endif /* PINSET_CT_CLIENT_H */
