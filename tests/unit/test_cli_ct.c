/*
 * test_cli_ct.c - src/ct: Merkle hashing and proofs, tree heads, entries, the
 * DER walk, the known-keys check and the position store.
 *
 * Known-answer values (the eight leaves "", 00, 10, 2021, 3031, 40414243,
 * 5051525354555657, 606162636465666768696a6b6c6d6e6f; their tree heads for
 * sizes 0 to 8; inclusion proofs of leaves 0 and 5 and consistency proofs
 * 2->8 and 6->8 in the tree of 8) are the reference vectors of the
 * certificate-transparency-go merkle test data (RFC 6962 trees), copied as
 * values. Beyond them, every proof for trees up to 64 leaves is checked
 * against proofs generated here by RFC 6962 §2.1's recursive definitions, an
 * implementation independent of src/ct's iterative code.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <pinset/pinset.h>

#include "ct/entries.h"
#include "ct/leaf.h"
#include "ct/match.h"
#include "ct/merkle.h"
#include "ct/state.h"
#include "ct/sth.h"
#include "ct/tiles.h"
#include "pki.h"

typedef uint8_t hash[CT_HASH_LEN];

static void unhex(uint8_t *out, const char *s)
{
    for (size_t i = 0; s[2 * i] != '\0'; i++) {
        unsigned int v;
        char b[3] = {s[2 * i], s[2 * i + 1], 0};

        v = (unsigned int)strtoul(b, NULL, 16);
        out[i] = (uint8_t)v;
    }
}

/* ---- known answers ---- */

static const char *const kLeaves[8] = {"",
                                       "00",
                                       "10",
                                       "2021",
                                       "3031",
                                       "40414243",
                                       "5051525354555657",
                                       "606162636465666768696a6b6c6d6e6f"};
static const char *const kRoots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

static void known_leaf_hashes(hash out[8])
{
    for (int i = 0; i < 8; i++) {
        uint8_t data[16];
        size_t n = strlen(kLeaves[i]) / 2;

        unhex(data, kLeaves[i]);
        assert_int_equal(ct_leaf_hash(out[i], data, n), 0);
    }
}

static void test_roots_known(void **state)
{
    hash leaves[8], root, want;

    (void)state;
    known_leaf_hashes(leaves);
    for (size_t n = 0; n <= 8; n++) {
        unhex(want, kRoots[n]);
        assert_int_equal(ct_merkle_root(root, (const uint8_t(*)[32])leaves, n), 0);
        assert_memory_equal(root, want, 32);
    }
}

static void test_inclusion_known(void **state)
{
    static const char *const p0[] = {
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
    static const char *const p5[] = {
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
    hash leaves[8], root, proof[3];

    (void)state;
    known_leaf_hashes(leaves);
    unhex(root, kRoots[8]);
    for (int i = 0; i < 3; i++) {
        unhex(proof[i], p0[i]);
    }
    assert_true(ct_verify_inclusion(0, 8, leaves[0], root, (const uint8_t(*)[32])proof, 3));
    assert_false(ct_verify_inclusion(1, 8, leaves[0], root, (const uint8_t(*)[32])proof, 3));
    for (int i = 0; i < 3; i++) {
        unhex(proof[i], p5[i]);
    }
    assert_true(ct_verify_inclusion(5, 8, leaves[5], root, (const uint8_t(*)[32])proof, 3));
    assert_false(ct_verify_inclusion(5, 8, leaves[4], root, (const uint8_t(*)[32])proof, 3));
    assert_false(ct_verify_inclusion(5, 8, leaves[5], root, (const uint8_t(*)[32])proof, 2));
    assert_false(ct_verify_inclusion(8, 8, leaves[5], root, (const uint8_t(*)[32])proof, 3));
}

static void test_consistency_known(void **state)
{
    static const char *const p2[] = {
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
    static const char *const p6[] = {
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
    hash r2, r6, r8, proof[3];

    (void)state;
    unhex(r2, kRoots[2]);
    unhex(r6, kRoots[6]);
    unhex(r8, kRoots[8]);
    for (int i = 0; i < 2; i++) {
        unhex(proof[i], p2[i]);
    }
    assert_true(ct_verify_consistency(2, 8, r2, r8, (const uint8_t(*)[32])proof, 2));
    assert_false(ct_verify_consistency(2, 8, r6, r8, (const uint8_t(*)[32])proof, 2));
    assert_false(ct_verify_consistency(3, 8, r2, r8, (const uint8_t(*)[32])proof, 2));
    for (int i = 0; i < 3; i++) {
        unhex(proof[i], p6[i]);
    }
    assert_true(ct_verify_consistency(6, 8, r6, r8, (const uint8_t(*)[32])proof, 3));
    assert_false(ct_verify_consistency(6, 8, r6, r8, (const uint8_t(*)[32])proof, 2));
    assert_false(ct_verify_consistency(8, 6, r8, r6, (const uint8_t(*)[32])proof, 3));
    /* the degenerate cases */
    assert_true(ct_verify_consistency(8, 8, r8, r8, NULL, 0));
    assert_false(ct_verify_consistency(8, 8, r8, r6, NULL, 0));
    assert_false(ct_verify_consistency(8, 8, r8, r8, (const uint8_t(*)[32])proof, 1));
    assert_true(ct_verify_consistency(0, 8, r2, r8, NULL, 0));
    assert_false(ct_verify_consistency(6, 8, r6, r8, NULL, 0));
}

/* ---- the independent reference: RFC 6962 §2.1's recursive definitions ---- */

#define N 64
static hash big[N];

static size_t split(size_t n)
{
    size_t k = 1;

    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

static void ref_mth(const hash *d, size_t n, uint8_t out[32])
{
    uint8_t buf[65];

    if (n == 0) {
        SHA256((const uint8_t *)"", 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, d[0], 32);
        return;
    }
    buf[0] = 1;
    ref_mth(d, split(n), buf + 1);
    ref_mth(d + split(n), n - split(n), buf + 33);
    SHA256(buf, sizeof(buf), out);
}

static void ref_subproof(size_t m, const hash *d, size_t n, int b, hash *out, size_t *len)
{
    size_t k;

    if (m == n) {
        if (!b) {
            ref_mth(d, n, out[(*len)++]);
        }
        return;
    }
    k = split(n);
    if (m <= k) {
        ref_subproof(m, d, k, b, out, len);
        ref_mth(d + k, n - k, out[(*len)++]);
    } else {
        ref_subproof(m - k, d + k, n - k, 0, out, len);
        ref_mth(d, k, out[(*len)++]);
    }
}

static void ref_path(size_t m, const hash *d, size_t n, hash *out, size_t *len)
{
    size_t k;

    if (n <= 1) {
        return;
    }
    k = split(n);
    if (m < k) {
        ref_path(m, d, k, out, len);
        ref_mth(d + k, n - k, out[(*len)++]);
    } else {
        ref_path(m - k, d + k, n - k, out, len);
        ref_mth(d, k, out[(*len)++]);
    }
}

static int setup_big(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        uint8_t b[2] = {(uint8_t)i, (uint8_t)(i * 7)};

        if (ct_leaf_hash(big[i], b, 2) != 0) {
            return -1;
        }
    }
    return 0;
}

static void test_every_consistency_proof(void **state)
{
    hash roots[N + 1], proof[2 * CT_MAX_DEPTH];

    (void)state;
    for (size_t n = 0; n <= N; n++) {
        hash r;

        ref_mth(big, n, roots[n]);
        assert_int_equal(ct_merkle_root(r, (const uint8_t(*)[32])big, n), 0);
        assert_memory_equal(r, roots[n], 32);
    }
    for (size_t second = 1; second <= N; second++) {
        for (size_t first = 1; first < second; first++) {
            size_t len = 0;

            ref_subproof(first, big, second, 1, proof, &len);
            assert_true(ct_verify_consistency(first, second, roots[first], roots[second],
                                              (const uint8_t(*)[32])proof, len));
            /* a flipped bit, a missing hash, one too many, the wrong sizes: refused */
            proof[len - 1][7] ^= 1;
            assert_false(ct_verify_consistency(first, second, roots[first], roots[second],
                                               (const uint8_t(*)[32])proof, len));
            proof[len - 1][7] ^= 1;
            assert_false(ct_verify_consistency(first, second, roots[first], roots[second],
                                               (const uint8_t(*)[32])proof, len - 1));
            memset(proof[len], 0xcd, 32);
            assert_false(ct_verify_consistency(first, second, roots[first], roots[second],
                                               (const uint8_t(*)[32])proof, len + 1));
            if (second < N) {
                assert_false(ct_verify_consistency(first, second + 1, roots[first],
                                                   roots[second + 1], (const uint8_t(*)[32])proof,
                                                   len));
            }
            /* a fork: the old head of another tree */
            assert_false(ct_verify_consistency(first, second, roots[first - 1], roots[second],
                                               (const uint8_t(*)[32])proof, len));
        }
    }
}

static void test_every_inclusion_proof(void **state)
{
    hash root, proof[CT_MAX_DEPTH];

    (void)state;
    for (size_t n = 1; n <= N; n++) {
        ref_mth(big, n, root);
        for (size_t i = 0; i < n; i++) {
            size_t len = 0;

            ref_path(i, big, n, proof, &len);
            assert_true(ct_verify_inclusion(i, n, big[i], root, (const uint8_t(*)[32])proof, len));
            if (len > 0) {
                proof[0][0] ^= 0x80;
                assert_false(
                    ct_verify_inclusion(i, n, big[i], root, (const uint8_t(*)[32])proof, len));
            }
        }
    }
}

static void test_range_resumes(void **state)
{
    ct_range r;
    hash want, got;
    char text[8192];
    ct_position pos, back;

    (void)state;
    ct_range_init(&r);
    for (size_t n = 0; n <= N; n++) {
        assert_true(ct_range_valid(&r));
        ref_mth(big, n, want);
        assert_int_equal(ct_range_root(&r, got), 0);
        assert_memory_equal(got, want, 32);
        /* the position's text form carries the range whole */
        memset(&pos, 0, sizeof(pos));
        pos.sth_size = N;
        pos.sth_timestamp = 1234;
        memcpy(pos.sth_root, want, 32);
        pos.range = r;
        assert_int_equal(ct_position_format(text, sizeof(text), &pos), 0);
        assert_int_equal(ct_position_parse(&back, text, strlen(text)), 0);
        assert_int_equal(back.range.size, n);
        assert_int_equal(ct_range_root(&back.range, got), 0);
        assert_memory_equal(got, want, 32);
        if (n < N) {
            assert_int_equal(ct_range_append(&r, big[n]), 0);
        }
    }
}

static void test_position_hostile(void **state)
{
    static const char *const bad[] = {
        "",
        "pinset-ct-position 2\n",
        "pinset-ct-position 1\nsth_size 1\nsth_timestamp 0\nsth_root 00\nentries 0\n",
        "pinset-ct-position 1\nsth_size 01\nsth_timestamp 0\nsth_root "
        "0000000000000000000000000000000000000000000000000000000000000000\nentries 0\n",
        /* one entry needs one range hash */
        "pinset-ct-position 1\nsth_size 1\nsth_timestamp 0\nsth_root "
        "0000000000000000000000000000000000000000000000000000000000000000\nentries 1\n",
        /* more entries than the tree head */
        "pinset-ct-position 1\nsth_size 0\nsth_timestamp 0\nsth_root "
        "0000000000000000000000000000000000000000000000000000000000000000\nentries 1\nrange "
        "0000000000000000000000000000000000000000000000000000000000000000\n",
        "pinset-ct-position 1\nsth_size 99999999999999999999\n",
        /* a verified tree larger than the entries processed */
        "pinset-ct-position 1\nsth_size 1\nsth_timestamp 0\nsth_root "
        "0000000000000000000000000000000000000000000000000000000000000000\nentries 0\n"
        "verified 1\nvrange 0000000000000000000000000000000000000000000000000000000000000000\n",
        /* a verified tree whose hashes do not match its size */
        "pinset-ct-position 1\nsth_size 1\nsth_timestamp 0\nsth_root "
        "0000000000000000000000000000000000000000000000000000000000000000\nentries 1\nrange "
        "0000000000000000000000000000000000000000000000000000000000000000\nverified 1\n",
        /* anything else after the ranges */
        "pinset-ct-position 1\nsth_size 1\nsth_timestamp 0\nsth_root "
        "0000000000000000000000000000000000000000000000000000000000000000\nentries 1\nrange "
        "0000000000000000000000000000000000000000000000000000000000000000\nnote 1\n",
    };
    ct_position pos, back;
    uint8_t h[CT_HASH_LEN];
    char text[16384];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ct_position_parse(&pos, bad[i], strlen(bad[i])), -1);
    }
    /* a position with a verified tree round-trips; one without (written before) still reads */
    memset(&pos, 0, sizeof(pos));
    ct_range_init(&pos.range);
    ct_range_init(&pos.verified);
    for (unsigned int i = 0; i < 7; i++) {
        memset(h, (int)i, sizeof(h));
        assert_int_equal(ct_range_append(&pos.range, h), 0);
        if (i < 5) {
            assert_int_equal(ct_range_append(&pos.verified, h), 0);
        }
    }
    pos.sth_size = 9;
    pos.have_verified = 1;
    assert_int_equal(ct_position_format(text, sizeof(text), &pos), 0);
    assert_non_null(strstr(text, "\nverified 5\nvrange "));
    assert_int_equal(ct_position_parse(&back, text, strlen(text)), 0);
    assert_int_equal(back.have_verified, 1);
    assert_int_equal(back.verified.size, 5);
    assert_int_equal(back.verified.count, pos.verified.count);
    assert_memory_equal(back.verified.hash, pos.verified.hash, pos.verified.count * CT_HASH_LEN);
    assert_int_equal(back.range.size, 7);
    pos.have_verified = 0;
    assert_int_equal(ct_position_format(text, sizeof(text), &pos), 0);
    assert_null(strstr(text, "verified"));
    assert_int_equal(ct_position_parse(&back, text, strlen(text)), 0);
    assert_int_equal(back.have_verified, 0);
}

/* ---- base64, keys and tree heads ---- */

/*
 * The table decoder against OpenSSL's encoder: every length from 0 to 200 bytes of random data
 * round-trips, and each character outside the alphabet, put at each place of a group, is refused.
 */
static void test_b64_tables(void **state)
{
    uint8_t data[200], out[200];
    char text[272];
    size_t n;

    (void)state;
    for (size_t len = 0; len <= sizeof(data); len++) {
        int tl;

        for (size_t i = 0; i < len; i++) {
            data[i] = (uint8_t)(rand() & 0xff);
        }
        tl = EVP_EncodeBlock((unsigned char *)text, data, (int)len);
        n = 999;
        assert_int_equal(ct_b64_decode(out, sizeof(out), &n, text, (size_t)tl), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, data, len);
    }
    for (int c = 0; c < 256; c++) {
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/';

        for (int at = 0; at < 8; at++) {
            char g[8] = {'Q', 'U', 'J', 'D', 'R', 'E', 'V', 'G'}; /* "ABCDEF" */

            g[at] = (char)c;
            assert_int_equal(ct_b64_decode(out, sizeof(out), &n, g, 8) == 0, ok);
        }
    }
}

/* Read a get-entries document (copied into a padded buffer). 0 or -1 with err. */
static int read_entries(ct_entries_reader *r, ct_batch *b, const char *json, uint64_t max,
                        char *err, size_t errcap)
{
    size_t len = strlen(json);
    uint8_t *buf = calloc(1, len + CT_JSON_PADDING);
    int rc;

    assert_non_null(buf);
    memcpy(buf, json, len);
    rc = ct_entries_read(r, b, buf, len, 100, max, err, errcap);
    free(buf);
    return rc;
}

/* get-entries: what is read, and every hostile shape refused with the reason. */
static void test_entries_read(void **state)
{
    static const struct {
        const char *json, *why;
    } bad[] = {
        {"", "not JSON"},
        {"{\"entries\":[", "not JSON"},
        {"{\"entries\":[]} x", "not JSON"},
        {"{\"entries\":[{\"leaf_input\":\"AA==\",\"extra_data\":\"\xff\"}]}", "not JSON"},
        {"[]", "not a JSON object"},
        {"{}", "entries: missing"},
        {"{\"entries\":{}}", "entries: missing"},
        {"{\"entries\":[]}", "entries: missing"},
        {"{\"entries\":[],\"entries\":[{}]}", "entries: missing"},
        {"{\"entries\":[1]}", "entry 100: not an object"},
        {"{\"entries\":[{\"extra_data\":\"\"}]}", "entry 100: leaf_input: missing"},
        {"{\"entries\":[{\"leaf_input\":\"\"}]}", "entry 100: extra_data: missing"},
        {"{\"entries\":[{\"leaf_input\":\"\",\"leaf_input\":\"\",\"extra_data\":\"\"}]}",
         "entry 100: leaf_input: twice"},
        {"{\"entries\":[{\"leaf_input\":\"\",\"extra_data\":\"\",\"extra_data\":\"\"}]}",
         "entry 100: extra_data: twice"},
        {"{\"entries\":[{\"leaf_input\":1,\"extra_data\":\"\"}]}",
         "entry 100: leaf_input: not a string"},
        {"{\"entries\":[{\"leaf_input\":\"\",\"extra_data\":null}]}",
         "entry 100: extra_data: not a string"},
        {"{\"entries\":[{\"leaf_input\":\"AA=\",\"extra_data\":\"\"}]}",
         "entry 100: leaf_input: not base64"},
        {"{\"entries\":[{\"leaf_input\":\"\",\"extra_data\":\"AB==\"}]}",
         "entry 100: extra_data: not base64"},
        {"{\"entries\":[{\"leaf_input\":\"\",\"extra_data\":\"\"},"
         "{\"leaf_input\":\"A A=\",\"extra_data\":\"\"}]}",
         "entry 101: leaf_input: not base64"},
        {"{\"entries\":[{\"leaf_input\":\"\",\"extra_data\":\"\"},"
         "{\"leaf_input\":\"\",\"extra_data\":\"\"},{\"leaf_input\":\"\",\"extra_data\":\"\"}]}",
         "more than were asked for"},
    };
    ct_entries_reader *r = NULL;
    ct_batch b;
    char err[512], deep[3000];

    (void)state;
    assert_int_equal(ct_entries_reader_new(&r, 1 << 20), 0);
    /* members in any order, unknown ones ignored, JSON escapes ("\/") decoded before base64 */
    assert_int_equal(
        read_entries(r, &b,
                     "{\"x\":[1,{\"y\":2}],\"entries\":["
                     "{\"extra_data\":\"AQID\",\"note\":\"n\",\"leaf_input\":\"\\/w==\"},"
                     "{\"leaf_input\":\"AAEC\",\"extra_data\":\"\"}]}",
                     2, err, sizeof(err)),
        0);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.e[0].leaf_len, 1);
    assert_int_equal(b.e[0].leaf[0], 0xff);
    assert_int_equal(b.e[0].extra_len, 3);
    assert_memory_equal(b.e[0].extra, "\1\2\3", 3);
    assert_int_equal(b.e[1].leaf_len, 3);
    assert_memory_equal(b.e[1].leaf, "\0\1\2", 3);
    assert_int_equal(b.e[1].extra_len, 0);
    ct_batch_free(&b);
    assert_null(b.e);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(read_entries(r, &b, bad[i].json, 2, err, sizeof(err)), -1);
        if (strstr(err, bad[i].why) == NULL) {
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].why);
        }
        assert_null(b.e);
        assert_int_equal(b.n, 0);
    }
    /*
     * nesting deeper than the parser's bound (1024) is refused, not recursed into: a well-formed
     * entry of 1100 nested arrays (within the bound it would be "not an object")
     */
    memcpy(deep, "{\"entries\":[", 12);
    memset(deep + 12, '[', 1100);
    memset(deep + 12 + 1100, ']', 1100);
    memcpy(deep + 12 + 2200, "]}", 3);
    assert_int_equal(read_entries(r, &b, deep, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not JSON"));
    assert_non_null(strstr(err, "too deep"));
    ct_entries_reader_free(r);
    /* a document larger than the reader's bound */
    assert_int_equal(ct_entries_reader_new(&r, 16), 0);
    assert_int_equal(read_entries(r, &b, "{\"entries\":[  1  ]}", 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not JSON"));
    ct_entries_reader_free(r);
}

static void test_b64_strict(void **state)
{
    uint8_t out[16];
    size_t n = 0;

    (void)state;
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "AAEC", 4), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "AAE=", 4), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "AA==", 4), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "AB==", 4), -1); /* non-zero pad bits */
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "AAE", 3), -1);
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "A=AA", 4), -1);
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "AA\nA", 4), -1);
    assert_int_equal(ct_b64_decode(out, 2, &n, "AAEC", 4), -1); /* too long for out */
    assert_int_equal(ct_b64_decode(out, sizeof(out), &n, "", 0), 0);
    assert_int_equal(n, 0);
}

static void sign_sth(EVP_PKEY *key, ct_sth *sth, int alg)
{
    uint8_t tbs[50];
    size_t slen = sizeof(sth->sig) - 4;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    ct_sth_signed_data(tbs, sth->timestamp, sth->tree_size, sth->root);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sth->sig + 4, &slen, tbs, sizeof(tbs)), 1);
    EVP_MD_CTX_free(ctx);
    sth->sig[0] = 4;
    sth->sig[1] = (uint8_t)alg;
    sth->sig[2] = (uint8_t)(slen >> 8);
    sth->sig[3] = (uint8_t)slen;
    sth->sig_len = slen + 4;
}

static void key_of(ct_log_key *k, EVP_PKEY *pkey)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *pem;
    long n;

    assert_int_equal(PEM_write_bio_PUBKEY(b, pkey), 1);
    n = BIO_get_mem_data(b, &pem);
    assert_int_equal(ct_log_key_parse(k, (const uint8_t *)pem, (size_t)n, NULL, 0), 0);
    BIO_free(b);
}

static void test_sth_signatures(void **state)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048), *ec384 = EVP_EC_gen("P-384");
    ct_log_key kec, krsa, k384;
    ct_sth sth, parsed;
    char json[2048], r64[64], s64[1500], err[256];

    (void)state;
    assert_non_null(ec);
    assert_non_null(rsa);
    key_of(&kec, ec);
    key_of(&krsa, rsa);
    memset(&sth, 0, sizeof(sth));
    sth.tree_size = 8;
    sth.timestamp = 1767225600000ull;
    unhex(sth.root, kRoots[8]);
    sign_sth(ec, &sth, 3);
    assert_true(ct_sth_verify(&sth, &kec, err, sizeof(err)));
    assert_false(ct_sth_verify(&sth, &krsa, err, sizeof(err))); /* another key */
    /* through the JSON of get-sth */
    EVP_EncodeBlock((unsigned char *)r64, sth.root, 32);
    EVP_EncodeBlock((unsigned char *)s64, sth.sig, (int)sth.sig_len);
    snprintf(json, sizeof(json),
             "{\"tree_size\":8,\"timestamp\":1767225600000,\"sha256_root_hash\":\"%s\","
             "\"tree_head_signature\":\"%s\"}",
             r64, s64);
    assert_int_equal(ct_sth_parse(&parsed, (const uint8_t *)json, strlen(json), err, sizeof(err)),
                     0);
    assert_true(ct_sth_verify(&parsed, &kec, err, sizeof(err)));
    /* any field changed: refused */
    parsed.tree_size = 9;
    assert_false(ct_sth_verify(&parsed, &kec, err, sizeof(err)));
    parsed.tree_size = 8;
    parsed.root[31] ^= 1;
    assert_false(ct_sth_verify(&parsed, &kec, err, sizeof(err)));
    parsed.root[31] ^= 1;
    parsed.sig[1] = 1; /* says RSA */
    assert_false(ct_sth_verify(&parsed, &kec, err, sizeof(err)));
    parsed.sig[1] = 3;
    parsed.sig_len--; /* length mismatch */
    assert_false(ct_sth_verify(&parsed, &kec, err, sizeof(err)));
    /* RSA logs */
    sign_sth(rsa, &sth, 1);
    assert_true(ct_sth_verify(&sth, &krsa, err, sizeof(err)));
    /* hostile JSON */
    assert_int_equal(
        ct_sth_parse(&parsed, (const uint8_t *)"{\"tree_size\":-1}", 16, err, sizeof(err)), -1);
    assert_int_equal(ct_sth_parse(&parsed, (const uint8_t *)"[]", 2, err, sizeof(err)), -1);
    /* keys a log cannot have */
    {
        BIO *b = BIO_new(BIO_s_mem());
        char *pem;
        long n;

        assert_int_equal(PEM_write_bio_PUBKEY(b, ec384), 1);
        n = BIO_get_mem_data(b, &pem);
        assert_int_equal(ct_log_key_parse(&k384, (const uint8_t *)pem, (size_t)n, err, sizeof(err)),
                         -1);
        BIO_free(b);
    }
    assert_int_equal(ct_log_key_parse(&k384, (const uint8_t *)"not a key", 9, err, sizeof(err)),
                     -1);
    ct_log_key_free(&kec);
    ct_log_key_free(&krsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec384);
}

/* ---- entries and the DER walk ---- */

/* A MerkleTreeLeaf for der (a certificate, or a TBSCertificate for a precert) into out. */
static size_t make_leaf(uint8_t *out, const uint8_t *der, size_t len, int precert)
{
    size_t o = 0;

    out[o++] = 0;
    out[o++] = 0;
    for (int i = 0; i < 8; i++) {
        out[o++] = (uint8_t)(i == 7 ? 42 : 0);
    }
    out[o++] = 0;
    out[o++] = (uint8_t)precert;
    if (precert) {
        memset(out + o, 0xab, 32);
        o += 32;
    }
    out[o++] = (uint8_t)(len >> 16);
    out[o++] = (uint8_t)(len >> 8);
    out[o++] = (uint8_t)len;
    memcpy(out + o, der, len);
    o += len;
    out[o++] = 0;
    out[o++] = 0;
    return o;
}

struct names {
    char got[8][300];
    int n, cn;
};

static int collect(const char *name, size_t len, int from_cn, void *payload)
{
    struct names *s = payload;

    if (s->n < 8 && len < 300) {
        memcpy(s->got[s->n], name, len);
        s->got[s->n][len] = '\0';
        s->n++;
    }
    s->cn |= from_cn;
    return 0;
}

static void test_entries_and_walk(void **state)
{
    testlib_pki pki;
    X509 *wild;
    uint8_t *der = NULL, *tbs = NULL, *spkider = NULL, leaf[8192];
    int dlen, tlen, slen;
    const uint8_t *spki;
    size_t spki_len, llen;
    struct names nm;
    ct_leaf l;
    char err[256];

    (void)state;
    assert_int_equal(testlib_pki_make(&pki, "www.example.com"), 0);
    dlen = i2d_X509(pki.leaf, &der);
    tlen = i2d_re_X509_tbs(pki.leaf, &tbs);
    slen = i2d_PUBKEY(X509_get0_pubkey(pki.leaf), &spkider);
    assert_true(dlen > 0 && tlen > 0 && slen > 0);
    /* x509 entry */
    llen = make_leaf(leaf, der, (size_t)dlen, 0);
    assert_int_equal(ct_leaf_parse(&l, leaf, llen, err, sizeof(err)), 0);
    assert_int_equal(l.type, CT_ENTRY_X509);
    assert_int_equal(l.timestamp, 42);
    assert_int_equal(l.der_len, (size_t)dlen);
    memset(&nm, 0, sizeof(nm));
    assert_int_equal(
        ct_cert_walk(l.der, l.der_len, 0, &spki, &spki_len, collect, &nm, err, sizeof(err)), 0);
    assert_int_equal(spki_len, (size_t)slen);
    assert_memory_equal(spki, spkider, (size_t)slen);
    assert_int_equal(nm.n, 1);
    assert_string_equal(nm.got[0], "www.example.com");
    assert_false(nm.cn);
    /* every truncation of the leaf is refused, none read out of bounds */
    for (size_t cut = 0; cut < llen; cut++) {
        assert_int_equal(ct_leaf_parse(&l, leaf, cut, err, sizeof(err)), -1);
    }
    for (size_t cut = 0; cut < (size_t)dlen; cut++) {
        assert_int_equal(ct_cert_walk(der, cut, 0, &spki, &spki_len, NULL, NULL, err, sizeof(err)),
                         -1);
    }
    /* precert entry: the TBSCertificate */
    llen = make_leaf(leaf, tbs, (size_t)tlen, 1);
    assert_int_equal(ct_leaf_parse(&l, leaf, llen, err, sizeof(err)), 0);
    assert_int_equal(l.type, CT_ENTRY_PRECERT);
    assert_int_equal(l.issuer_key_hash[0], 0xab);
    memset(&nm, 0, sizeof(nm));
    assert_int_equal(
        ct_cert_walk(l.der, l.der_len, 1, &spki, &spki_len, collect, &nm, err, sizeof(err)), 0);
    assert_memory_equal(spki, spkider, (size_t)slen);
    assert_string_equal(nm.got[0], "www.example.com");
    /* a certificate is not a TBSCertificate, nor the other way round */
    assert_int_equal(
        ct_cert_walk(tbs, (size_t)tlen, 0, &spki, &spki_len, NULL, NULL, err, sizeof(err)), -1);
    /* trailing bytes, unknown entry type, bad version */
    leaf[llen] = 0;
    assert_int_equal(ct_leaf_parse(&l, leaf, llen + 1, err, sizeof(err)), -1);
    leaf[11] = 2;
    assert_int_equal(ct_leaf_parse(&l, leaf, llen, err, sizeof(err)), -1);
    leaf[11] = 1;
    leaf[0] = 1;
    assert_int_equal(ct_leaf_parse(&l, leaf, llen, err, sizeof(err)), -1);
    /* extra_data framing */
    {
        static const uint8_t chain[] = {0, 0, 5, 0, 0, 2, 0x30, 0};
        static const uint8_t pre[] = {0, 0, 2, 0x30, 0, 0, 0, 0};

        assert_int_equal(ct_extra_data_check(CT_ENTRY_X509, chain, sizeof(chain), err, sizeof(err)),
                         1);
        assert_int_equal(
            ct_extra_data_check(CT_ENTRY_X509, chain, sizeof(chain) - 1, err, sizeof(err)), -1);
        assert_int_equal(ct_extra_data_check(CT_ENTRY_PRECERT, pre, sizeof(pre), err, sizeof(err)),
                         1);
        assert_int_equal(
            ct_extra_data_check(CT_ENTRY_PRECERT, chain, sizeof(chain), err, sizeof(err)), -1);
    }
    /* a wildcard name; the CN is used only when there is no subjectAltName (the CA has none) */
    wild = testlib_pki_leaf(&pki, NULL, "*.example.com", 9);
    assert_non_null(wild);
    OPENSSL_free(der);
    der = NULL;
    dlen = i2d_X509(wild, &der);
    memset(&nm, 0, sizeof(nm));
    assert_int_equal(
        ct_cert_walk(der, (size_t)dlen, 0, &spki, &spki_len, collect, &nm, err, sizeof(err)), 0);
    assert_string_equal(nm.got[0], "*.example.com");
    OPENSSL_free(der);
    der = NULL;
    dlen = i2d_X509(pki.inter, &der);
    memset(&nm, 0, sizeof(nm));
    assert_int_equal(
        ct_cert_walk(der, (size_t)dlen, 0, &spki, &spki_len, collect, &nm, err, sizeof(err)), 0);
    assert_int_equal(nm.n, 1);
    assert_string_equal(nm.got[0], "testlib intermediate");
    assert_true(nm.cn);
    X509_free(wild);
    OPENSSL_free(der);
    OPENSSL_free(tbs);
    OPENSSL_free(spkider);
    testlib_pki_free(&pki);
}

/* ---- the known-keys check ---- */

static int count_findings(const ct_finding *f, void *payload)
{
    (void)f;
    (*(int *)payload)++;
    return 0;
}

static int check_cert(ct_check *c, X509 *x, int *watched)
{
    uint8_t *der = NULL;
    int len = i2d_X509(x, &der), n = 0, r;
    ct_leaf l;

    memset(&l, 0, sizeof(l));
    l.type = CT_ENTRY_X509;
    l.der = der;
    l.der_len = (size_t)len;
    r = ct_check_entry(c, &l, count_findings, &n, watched, NULL, 0);
    OPENSSL_free(der);
    assert_int_equal(r, n);
    return r;
}

static void test_known_keys(void **state)
{
    testlib_pki pki;
    EVP_PKEY *other = EVP_EC_gen("P-256");
    X509 *x;
    char known[45], blocked[45], doc[1024];
    pinset_policy *policy = NULL;
    ct_check *c = NULL;
    int watched;

    (void)state;
    assert_int_equal(testlib_pki_make(&pki, "www.example.com"), 0);
    testlib_spki_b64(pki.leaf, known);
    x = testlib_pki_leaf(&pki, other, "x.test", 5);
    testlib_spki_b64(x, blocked);
    X509_free(x);
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"rules\": ["
             "{\"host\": \"example.com\", \"include_subdomains\": true, \"pins\": "
             "[{\"sha256\": \"%s\"}], \"blocked\": [\"%s\"]},"
             "{\"host\": \"exact.example.net\", \"pins\": [{\"sha256\": \"%s\"}]},"
             "{\"host\": \"legacy.example.com\", \"exclude\": true}]}",
             known, blocked, known);
    assert_int_equal(pinset_policy_parse(&policy, (const uint8_t *)doc, strlen(doc), NULL),
                     PINSET_OK);
    assert_int_equal(ct_check_new(&c, policy), 0);
    /* known key: watched, no finding */
    assert_int_equal(check_cert(c, pki.leaf, &watched), 0);
    assert_true(watched);
#define CASE(key, dns, want_findings, want_watched)              \
    x = testlib_pki_leaf(&pki, key, dns, 7);                     \
    assert_non_null(x);                                          \
    assert_int_equal(check_cert(c, x, &watched), want_findings); \
    assert_int_equal(watched, want_watched);                     \
    X509_free(x)
    CASE(NULL, "www.example.com", 1, 1);              /* unknown key, exact under the subtree */
    CASE(NULL, "example.com", 1, 1);                  /* the rule's own host */
    CASE(NULL, "a.b.c.example.com", 1, 1);            /* deep in the subtree */
    CASE(NULL, "WWW.EXAMPLE.COM", 1, 1);              /* any spelling */
    CASE(NULL, "legacy.example.com", 0, 0);           /* excluded */
    CASE(NULL, "example.org", 0, 0);                  /* not watched */
    CASE(NULL, "notexample.com", 0, 0);               /* a suffix is not a subtree */
    CASE(NULL, "exact.example.net", 1, 1);            /* exact rule */
    CASE(NULL, "sub.exact.example.net", 0, 0);        /* below an exact rule: not watched */
    CASE(NULL, "*.example.net", 1, 1);                /* a wildcard covering an exact rule */
    CASE(NULL, "*.example.com", 1, 1);                /* a wildcard in the subtree */
    CASE(NULL, "*.org", 0, 0);                        /* a wildcard over nothing pinned */
    CASE(pki.leaf_key, "*.example.com", 0, 1);        /* known key */
    CASE(pki.leaf_key, "deep.www.example.com", 0, 1); /* known key */
    CASE(other, "www.example.com", 1, 1);             /* a blocked key */
#undef CASE
    ct_check_free(c);
    pinset_policy_free(policy);
    EVP_PKEY_free(other);
    testlib_pki_free(&pki);
}

/* ---- static-CT API ---- */

static void test_tile_paths(void **state)
{
    char p[128];

    (void)state;
    /* the examples of c2sp.org/static-ct-api */
    assert_int_equal(ct_tile_path(p, sizeof(p), 0, 1234067, 256), 0);
    assert_string_equal(p, "tile/0/x001/x234/067");
    assert_int_equal(ct_tile_path(p, sizeof(p), -1, 5, 112), 0);
    assert_string_equal(p, "tile/data/005.p/112");
    assert_int_equal(ct_tile_path(p, sizeof(p), 2, 0, 1), 0);
    assert_string_equal(p, "tile/2/000.p/1");
    assert_int_equal(ct_tile_path(p, sizeof(p), 1, 1000, 256), 0);
    assert_string_equal(p, "tile/1/x001/000");
    assert_int_equal(ct_tile_path(p, 8, 0, 1234067, 256), -1);
    /* a tree of 70,000: 273 full level-0 tiles and one of 112; level 1: one full, one of 17 */
    assert_int_equal(ct_tile_width(70000, 0, 272), 256);
    assert_int_equal(ct_tile_width(70000, 0, 273), 112);
    assert_int_equal(ct_tile_width(70000, 0, 274), 0);
    assert_int_equal(ct_tile_width(70000, -1, 273), 112);
    assert_int_equal(ct_tile_width(70000, 1, 0), 256);
    assert_int_equal(ct_tile_width(70000, 1, 1), 17);
    assert_int_equal(ct_tile_width(70000, 2, 0), 1);
    assert_int_equal(ct_tile_width(256, 1, 0), 1);
    assert_int_equal(ct_tile_width(255, 1, 0), 0);
}

static void test_tile_subtree(void **state)
{
    uint8_t tile[N * 32], got[32], want[32];

    (void)state;
    for (int i = 0; i < N; i++) {
        memcpy(tile + 32 * i, big[i], 32);
    }
    for (unsigned int count = 1; count <= 32; count *= 2) {
        for (unsigned int first = 0; first + count <= N; first += count) {
            assert_int_equal(ct_tile_subtree(got, tile, sizeof(tile), first, count), 0);
            ref_mth(big + first, count, want);
            assert_memory_equal(got, want, 32);
        }
    }
    assert_int_equal(ct_tile_subtree(got, tile, sizeof(tile), 0, 3), -1);  /* not a power of 2 */
    assert_int_equal(ct_tile_subtree(got, tile, sizeof(tile), 62, 4), -1); /* past the tile */
}

/* A checkpoint signed as static-ct-api says, and its hostile variants. */
static void test_checkpoint(void **state)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    ct_log_key key;
    ct_sth sth, got;
    uint8_t kh[64], kid[32], note[300], *p = note;
    char r64[64], n64[512], text[2048], bad[2048], err[256];
    const char *origin = "log.example.org/2026h1";

    (void)state;
    key_of(&key, ec);
    memset(&sth, 0, sizeof(sth));
    sth.tree_size = 8;
    sth.timestamp = 1767225600123ull;
    unhex(sth.root, kRoots[8]);
    sign_sth(ec, &sth, 3);
    memcpy(kh, origin, strlen(origin));
    kh[strlen(origin)] = 0x0a;
    kh[strlen(origin) + 1] = 0x05;
    memcpy(kh + strlen(origin) + 2, key.log_id, 32);
    SHA256(kh, strlen(origin) + 34, kid);
    memcpy(p, kid, 4);
    p += 4;
    for (int i = 7; i >= 0; i--) {
        *p++ = (uint8_t)(sth.timestamp >> (8 * i));
    }
    memcpy(p, sth.sig, sth.sig_len);
    p += sth.sig_len;
    EVP_EncodeBlock((unsigned char *)r64, sth.root, 32);
    EVP_EncodeBlock((unsigned char *)n64, note, (int)(p - note));
    snprintf(text, sizeof(text),
             "%s\n8\n%s\n\n\xe2\x80\x94 witness.example AAAA\n\xe2\x80\x94 %s %s\n", origin, r64,
             origin, n64);
    assert_int_equal(ct_checkpoint_verify(&got, (const uint8_t *)text, strlen(text), origin, &key,
                                          err, sizeof(err)),
                     CT_CP_OK);
    assert_int_equal(got.tree_size, 8);
    assert_int_equal(got.timestamp, sth.timestamp);
    assert_memory_equal(got.root, sth.root, 32);
    /* another origin, another size, an extension line, no signature of ours: refused */
    assert_int_equal(ct_checkpoint_verify(&got, (const uint8_t *)text, strlen(text),
                                          "log.example.org", &key, err, sizeof(err)),
                     CT_CP_MALFORMED);
    memcpy(bad, text, sizeof(text));
    bad[strlen(origin) + 1] = '9';
    assert_int_equal(ct_checkpoint_verify(&got, (const uint8_t *)bad, strlen(bad), origin, &key,
                                          err, sizeof(err)),
                     CT_CP_BAD_SIGNATURE);
    snprintf(bad, sizeof(bad), "%s\n8\n%s\next\n\n\xe2\x80\x94 %s %s\n", origin, r64, origin, n64);
    assert_int_equal(ct_checkpoint_verify(&got, (const uint8_t *)bad, strlen(bad), origin, &key,
                                          err, sizeof(err)),
                     CT_CP_MALFORMED);
    snprintf(bad, sizeof(bad), "%s\n8\n%s\n\n\xe2\x80\x94 witness.example AAAA\n", origin, r64);
    assert_int_equal(ct_checkpoint_verify(&got, (const uint8_t *)bad, strlen(bad), origin, &key,
                                          err, sizeof(err)),
                     CT_CP_BAD_SIGNATURE);
    snprintf(bad, sizeof(bad), "%s\n08\n%s\n\n", origin, r64);
    assert_int_equal(ct_checkpoint_verify(&got, (const uint8_t *)bad, strlen(bad), origin, &key,
                                          err, sizeof(err)),
                     CT_CP_MALFORMED);
    /* every truncation: refused, in bounds */
    for (size_t cut = 0; cut < strlen(text) - 1; cut++) {
        assert_int_not_equal(
            ct_checkpoint_verify(&got, (const uint8_t *)text, cut, origin, &key, err, sizeof(err)),
            CT_CP_OK);
    }
    ct_log_key_free(&key);
    EVP_PKEY_free(ec);
}

static void test_tile_leaves(void **state)
{
    uint8_t tile[256], *leaf = NULL, *t = tile;
    size_t off = 0, len = 0, cut_ok;
    ct_leaf l;
    char err[128];

    (void)state;
    /* x509: timestamp 7, type 0, a 2-byte cert, no extensions, no chain */
    memset(t, 0, 7);
    t += 7;
    *t++ = 7;
    *t++ = 0;
    *t++ = 0;
    memcpy(t, "\0\0\2\x30\0\0\0\0\0", 9);
    t += 9;
    cut_ok = (size_t)(t - tile);
    /* precert: timestamp 9, type 1, issuer key hash, a 2-byte TBS, no extensions; then the
     * pre_certificate and one fingerprint */
    memset(t, 0, 7);
    t += 7;
    *t++ = 9;
    *t++ = 0;
    *t++ = 1;
    memset(t, 0xab, 32);
    t += 32;
    memcpy(t, "\0\0\2\x30\0\0\0\0\0\2\x30\0\0\x20", 14);
    t += 14;
    memset(t, 0xcd, 32);
    t += 32;
    assert_int_equal(
        ct_tile_leaf_next(tile, (size_t)(t - tile), &off, &leaf, &len, err, sizeof(err)), 0);
    assert_int_equal(ct_leaf_parse(&l, leaf, len, err, sizeof(err)), 0);
    assert_int_equal(l.type, CT_ENTRY_X509);
    assert_int_equal(l.timestamp, 7);
    free(leaf);
    assert_int_equal(off, cut_ok);
    assert_int_equal(
        ct_tile_leaf_next(tile, (size_t)(t - tile), &off, &leaf, &len, err, sizeof(err)), 0);
    assert_int_equal(ct_leaf_parse(&l, leaf, len, err, sizeof(err)), 0);
    assert_int_equal(l.type, CT_ENTRY_PRECERT);
    assert_int_equal(l.timestamp, 9);
    assert_int_equal(l.issuer_key_hash[0], 0xab);
    free(leaf);
    assert_int_equal(off, (size_t)(t - tile));
    /* every truncation fails, except the one between the two entries */
    for (size_t cut = 1; cut < (size_t)(t - tile); cut++) {
        size_t o = 0;
        int ok = 1;

        while (ok && o < cut) {
            ok = ct_tile_leaf_next(tile, cut, &o, &leaf, &len, err, sizeof(err)) == 0;
            free(leaf);
            leaf = NULL;
        }
        assert_true(!ok || cut == cut_ok);
    }
    /* a fingerprint list that is not a multiple of 32 */
    t[-33] = 0x1f;
    off = cut_ok;
    assert_int_equal(
        ct_tile_leaf_next(tile, (size_t)(t - tile), &off, &leaf, &len, err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots_known),
        cmocka_unit_test(test_inclusion_known),
        cmocka_unit_test(test_consistency_known),
        cmocka_unit_test_setup(test_every_consistency_proof, setup_big),
        cmocka_unit_test_setup(test_every_inclusion_proof, setup_big),
        cmocka_unit_test_setup(test_range_resumes, setup_big),
        cmocka_unit_test(test_position_hostile),
        cmocka_unit_test(test_b64_strict),
        cmocka_unit_test(test_b64_tables),
        cmocka_unit_test(test_entries_read),
        cmocka_unit_test(test_sth_signatures),
        cmocka_unit_test(test_entries_and_walk),
        cmocka_unit_test(test_known_keys),
        cmocka_unit_test(test_tile_paths),
        cmocka_unit_test_setup(test_tile_subtree, setup_big),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_tile_leaves),
    };

    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    ct_merkle_cleanup();
    return rc;
}
