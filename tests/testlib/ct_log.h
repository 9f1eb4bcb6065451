/*
 * ct_log.h - a Certificate Transparency log for the tests, served on
 * 127.0.0.1 (libmicrohttpd): real RFC 6962 Merkle tree hashes (computed here,
 * independently of src/ct), tree heads signed with an ECDSA P-256 log key,
 * x509 and precert entries with their extra_data, and the three endpoints a
 * monitor reads: /ct/v1/get-sth, get-sth-consistency and get-entries; and
 * the same tree through the static-CT API: /checkpoint (origin
 * "127.0.0.1:PORT", signed with an RFC6962NoteSignature after a witness's
 * cosignature), hash tiles /tile/<L>/<N>[.p/<W>] and data tiles
 * /tile/data/<N>[.p/<W>].
 *
 * Modes make it misbehave the ways a monitor must notice: a bad tree-head
 * signature, a fork (entries from some index on rewritten, with tree heads and
 * proofs for the forked tree), entries served that are not the tree's, and a
 * rewind (set_size to less than was served before). Test-only.
 */
#ifndef PINSET_TESTLIB_CT_LOG_H
#define PINSET_TESTLIB_CT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct testlib_ct_log testlib_ct_log;

typedef enum testlib_ct_mode {
    TESTLIB_CT_NORMAL = 0,
    TESTLIB_CT_BAD_SIG = 1, /* one bit of every tree-head signature flipped */
    TESTLIB_CT_FORK = 2,    /* entries from fork_at on rewritten (tree, heads and proofs agree) */
    TESTLIB_CT_BAD_ENTRIES = 3,  /* get-entries serves rewritten entries from fork_at on */
    TESTLIB_CT_HUGE_ENTRIES = 4, /* get-entries answers with 64 MiB + 1 bytes (a JSON prefix, then
                                   spaces): more than a client should read */
    TESTLIB_CT_FAIL_ENTRIES =
        5 /* get-entries from fork_at on answers 503 (a log that fails mid-pass) */
} testlib_ct_mode;

/* A log with a fresh P-256 key; NULL on failure. */
testlib_ct_log *testlib_ct_log_new(void);
void testlib_ct_log_free(testlib_ct_log *log);
/* The log key's public half as PEM into path. 0 or -1. */
int testlib_ct_log_write_key(const testlib_ct_log *log, const char *path);

/* Append an x509 entry (the certificate, chain = issuer) or a precert entry (cert's TBS). 0/-1. */
int testlib_ct_log_add_x509(testlib_ct_log *log, X509 *cert, X509 *issuer, uint64_t timestamp);
int testlib_ct_log_add_precert(testlib_ct_log *log, X509 *cert, X509 *issuer, uint64_t timestamp);
/* Append an entry whose leaf_input is these raw bytes (hostile input). 0 or -1. */
int testlib_ct_log_add_raw(testlib_ct_log *log, const uint8_t *leaf, size_t len);
size_t testlib_ct_log_count(const testlib_ct_log *log);

/* The tree size served (at most the count; all entries by default); the mode. */
void testlib_ct_log_set_size(testlib_ct_log *log, uint64_t size);
void testlib_ct_log_set_mode(testlib_ct_log *log, testlib_ct_mode mode, uint64_t fork_at);
/* Whatever the mode, get-entries from index `from` on answers 503 (0: never). */
void testlib_ct_log_fail_entries_from(testlib_ct_log *log, uint64_t from);
/* The tree head of the first n entries as served in the current mode (for the tests). */
int testlib_ct_log_root(testlib_ct_log *log, uint64_t n, uint8_t out[32]);

/* Serve on 127.0.0.1, an ephemeral port; "http://127.0.0.1:PORT/" into url. 0 or -1. */
int testlib_ct_log_start(testlib_ct_log *log, char *url, size_t cap);
void testlib_ct_log_stop(testlib_ct_log *log);

#endif /* PINSET_TESTLIB_CT_LOG_H */
