/*
 * ct_log.c - a loopback RFC 6962 log for the tests (see ct_log.h). The Merkle
 * tree here is the RFC's recursive definition (§2.1), written apart from
 * src/ct's iterative code so that each checks the other.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include "ct_log.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/sha.h>

struct entry {
    uint8_t *leaf, *extra;
    size_t leaf_len, extra_len;
};

struct testlib_ct_log {
    EVP_PKEY *key;
    struct entry *e;
    size_t n, cap;
    uint64_t size;
    int size_set;
    testlib_ct_mode mode;
    uint64_t fork_at;
    uint64_t fail_from; /* get-entries from this index on: 503 (0: never) */
    pthread_mutex_t mu;
    struct MHD_Daemon *d;
    char origin[64]; /* static-ct-api: "127.0.0.1:PORT" */
};

testlib_ct_log *testlib_ct_log_new(void)
{
    testlib_ct_log *log = calloc(1, sizeof(*log));

    if (log == NULL || (log->key = EVP_EC_gen("P-256")) == NULL) {
        free(log);
        return NULL;
    }
    pthread_mutex_init(&log->mu, NULL);
    return log;
}

void testlib_ct_log_free(testlib_ct_log *log)
{
    if (log == NULL) {
        return;
    }
    testlib_ct_log_stop(log);
    for (size_t i = 0; i < log->n; i++) {
        free(log->e[i].leaf);
        free(log->e[i].extra);
    }
    free(log->e);
    EVP_PKEY_free(log->key);
    pthread_mutex_destroy(&log->mu);
    free(log);
}

int testlib_ct_log_write_key(const testlib_ct_log *log, const char *path)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && PEM_write_PUBKEY(f, log->key) == 1;

    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* ---- TLS encoding ---- */

static void put(uint8_t **p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        *(*p)++ = (uint8_t)(v >> (8 * i));
    }
}

static int der_of(X509 *x, int tbs, uint8_t **out)
{
    *out = NULL;
    return tbs ? i2d_re_X509_tbs(x, out) : i2d_X509(x, out);
}

static int push(testlib_ct_log *log, uint8_t *leaf, size_t leaf_len, uint8_t *extra,
                size_t extra_len)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 16;
        struct entry *e = realloc(log->e, cap * sizeof(*e));

        if (e == NULL) {
            return -1;
        }
        log->e = e;
        log->cap = cap;
    }
    log->e[log->n].leaf = leaf;
    log->e[log->n].leaf_len = leaf_len;
    log->e[log->n].extra = extra;
    log->e[log->n].extra_len = extra_len;
    log->n++;
    return 0;
}

/* RFC 6962 §3.4 MerkleTreeLeaf and §4.6 extra_data for a certificate or precertificate. */
static int add(testlib_ct_log *log, X509 *cert, X509 *issuer, uint64_t ts, int precert)
{
    uint8_t *der = NULL, *idr = NULL, *leaf = NULL, *extra = NULL, *p, *spki = NULL;
    uint8_t ikh[32];
    int dlen = der_of(cert, precert, &der), ilen = der_of(issuer, 0, &idr), clen = 0, slen;
    size_t leaf_len, extra_len;
    int rc = -1;

    if (dlen <= 0 || ilen <= 0) {
        goto out;
    }
    slen = i2d_PUBKEY(X509_get0_pubkey(issuer), &spki);
    if (slen <= 0) {
        goto out;
    }
    SHA256(spki, (size_t)slen, ikh);
    leaf_len = 2 + 8 + 2 + (precert ? 32 : 0) + 3 + (size_t)dlen + 2;
    p = leaf = malloc(leaf_len);
    if (precert) {
        clen = i2d_X509(cert, NULL);
    }
    extra_len = (precert ? 3 + (size_t)clen : 0) + 3 + 3 + (size_t)ilen;
    extra = malloc(extra_len);
    if (leaf == NULL || extra == NULL) {
        goto out;
    }
    put(&p, 0, 1);               /* v1 */
    put(&p, 0, 1);               /* timestamped_entry */
    put(&p, ts, 8);              /* timestamp */
    put(&p, precert ? 1 : 0, 2); /* entry_type */
    if (precert) {
        memcpy(p, ikh, 32);
        p += 32;
    }
    put(&p, (uint64_t)dlen, 3);
    memcpy(p, der, (size_t)dlen);
    p += dlen;
    put(&p, 0, 2); /* no extensions */
    p = extra;
    if (precert) {
        uint8_t *c = p + 3;

        put(&p, (uint64_t)clen, 3);
        i2d_X509(cert, &c);
        p += clen;
    }
    put(&p, 3 + (uint64_t)ilen, 3);
    put(&p, (uint64_t)ilen, 3);
    memcpy(p, idr, (size_t)ilen);
    if (push(log, leaf, leaf_len, extra, extra_len) == 0) {
        leaf = extra = NULL;
        rc = 0;
    }
out:
    OPENSSL_free(der);
    OPENSSL_free(idr);
    OPENSSL_free(spki);
    free(leaf);
    free(extra);
    return rc;
}

int testlib_ct_log_add_x509(testlib_ct_log *log, X509 *cert, X509 *issuer, uint64_t timestamp)
{
    return add(log, cert, issuer, timestamp, 0);
}

int testlib_ct_log_add_precert(testlib_ct_log *log, X509 *cert, X509 *issuer, uint64_t timestamp)
{
    return add(log, cert, issuer, timestamp, 1);
}

int testlib_ct_log_add_raw(testlib_ct_log *log, const uint8_t *leaf, size_t len)
{
    uint8_t *l = malloc(len ? len : 1), *x = calloc(1, 3);

    if (l == NULL || x == NULL) {
        free(l);
        free(x);
        return -1;
    }
    memcpy(l, leaf, len);
    if (push(log, l, len, x, 3) != 0) {
        free(l);
        free(x);
        return -1;
    }
    return 0;
}

size_t testlib_ct_log_count(const testlib_ct_log *log)
{
    return log->n;
}

void testlib_ct_log_set_size(testlib_ct_log *log, uint64_t size)
{
    pthread_mutex_lock(&log->mu);
    log->size = size;
    log->size_set = 1;
    pthread_mutex_unlock(&log->mu);
}

void testlib_ct_log_set_mode(testlib_ct_log *log, testlib_ct_mode mode, uint64_t fork_at)
{
    pthread_mutex_lock(&log->mu);
    log->mode = mode;
    log->fork_at = fork_at;
    pthread_mutex_unlock(&log->mu);
}

void testlib_ct_log_fail_entries_from(testlib_ct_log *log, uint64_t from)
{
    pthread_mutex_lock(&log->mu);
    log->fail_from = from;
    pthread_mutex_unlock(&log->mu);
}

/* ---- the tree (RFC 6962 §2.1, recursive) ---- */

/* The leaf bytes of entry i: rewritten (its timestamp's last bit flipped) when forked. */
static const uint8_t *leaf_of(const testlib_ct_log *log, uint64_t i, int rewrite, uint8_t *tmp,
                              size_t cap, size_t *len)
{
    const struct entry *e = &log->e[i];

    *len = e->leaf_len;
    if (!rewrite || i < log->fork_at || e->leaf_len < 10 || e->leaf_len > cap) {
        return e->leaf;
    }
    memcpy(tmp, e->leaf, e->leaf_len);
    tmp[9] ^= 1;
    return tmp;
}

static void leaf_hash(const testlib_ct_log *log, uint64_t i, int rewrite, uint8_t out[32])
{
    static __thread uint8_t tmp[1 << 16];
    size_t len;
    const uint8_t *l = leaf_of(log, i, rewrite, tmp, sizeof(tmp), &len);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t z = 0;

    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, &z, 1);
    EVP_DigestUpdate(c, l, len);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

static void node(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    uint8_t buf[65];

    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    SHA256(buf, sizeof(buf), out);
}

static uint64_t split(uint64_t n)
{
    uint64_t k = 1;

    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

/* MTH(D[lo:hi]). */
static void mth(const testlib_ct_log *log, int rewrite, uint64_t lo, uint64_t hi, uint8_t out[32])
{
    uint8_t a[32], b[32];
    uint64_t k;

    if (hi == lo) {
        SHA256((const uint8_t *)"", 0, out);
        return;
    }
    if (hi - lo == 1) {
        leaf_hash(log, lo, rewrite, out);
        return;
    }
    k = split(hi - lo);
    mth(log, rewrite, lo, lo + k, a);
    mth(log, rewrite, lo + k, hi, b);
    node(out, a, b);
}

/* SUBPROOF(m, D[lo:hi], b) of RFC 6962 §2.1.2, appended to arr as base64. */
static void subproof(const testlib_ct_log *log, int rw, uint64_t m, uint64_t lo, uint64_t hi, int b,
                     json_t *arr)
{
    uint8_t h[32];
    char b64[64];
    uint64_t n = hi - lo, k;

    if (m == n) {
        if (!b) {
            mth(log, rw, lo, hi, h);
            EVP_EncodeBlock((unsigned char *)b64, h, 32);
            json_array_append_new(arr, json_string(b64));
        }
        return;
    }
    k = split(n);
    if (m <= k) {
        subproof(log, rw, m, lo, lo + k, b, arr);
        mth(log, rw, lo + k, hi, h);
    } else {
        subproof(log, rw, m - k, lo + k, hi, 0, arr);
        mth(log, rw, lo, lo + k, h);
    }
    EVP_EncodeBlock((unsigned char *)b64, h, 32);
    json_array_append_new(arr, json_string(b64));
}

int testlib_ct_log_root(testlib_ct_log *log, uint64_t n, uint8_t out[32])
{
    if (n > log->n) {
        return -1;
    }
    pthread_mutex_lock(&log->mu);
    mth(log, log->mode == TESTLIB_CT_FORK, 0, n, out);
    pthread_mutex_unlock(&log->mu);
    return 0;
}

/* ---- the endpoints ---- */

static char *b64(const uint8_t *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);

    if (s != NULL) {
        EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    }
    return s;
}

static json_t *get_sth(testlib_ct_log *log, uint64_t size)
{
    uint8_t root[32], tbs[50], sig[256], *p = tbs;
    uint8_t ds[260];
    size_t slen = sizeof(sig);
    const uint64_t ts = 1767225600000ull + size; /* 2026-01-01 and a millisecond per entry */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *r, *s;
    json_t *o;

    mth(log, log->mode == TESTLIB_CT_FORK, 0, size, root);
    put(&p, 0, 1);
    put(&p, 1, 1);
    put(&p, ts, 8);
    put(&p, size, 8);
    memcpy(p, root, 32);
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, log->key) != 1 ||
        EVP_DigestSign(ctx, sig, &slen, tbs, sizeof(tbs)) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    EVP_MD_CTX_free(ctx);
    ds[0] = 4; /* sha256 */
    ds[1] = 3; /* ecdsa */
    ds[2] = (uint8_t)(slen >> 8);
    ds[3] = (uint8_t)slen;
    memcpy(ds + 4, sig, slen);
    if (log->mode == TESTLIB_CT_BAD_SIG) {
        ds[4 + slen / 2] ^= 0x01;
    }
    r = b64(root, 32);
    s = b64(ds, slen + 4);
    o = json_pack("{s:I,s:I,s:s,s:s}", "tree_size", (json_int_t)size, "timestamp", (json_int_t)ts,
                  "sha256_root_hash", r, "tree_head_signature", s);
    free(r);
    free(s);
    return o;
}

static int arg_u64(struct MHD_Connection *c, const char *name, uint64_t *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    char *end;

    if (v == NULL || *v == '\0') {
        return -1;
    }
    *out = strtoull(v, &end, 10);
    return *end == '\0' ? 0 : -1;
}

/* The start= of a get-entries request (UINT64_MAX when there is none). */
static uint64_t entries_start(struct MHD_Connection *c)
{
    uint64_t start;

    return arg_u64(c, "start", &start) == 0 ? start : UINT64_MAX;
}

static json_t *get_entries(testlib_ct_log *log, struct MHD_Connection *c, uint64_t size)
{
    static __thread uint8_t tmp[1 << 16];
    uint64_t start, end;
    json_t *o, *arr;

    if (arg_u64(c, "start", &start) != 0 || arg_u64(c, "end", &end) != 0 || start > end ||
        start >= size) {
        return NULL;
    }
    if (end >= size) {
        end = size - 1;
    }
    if (end - start >= 100) {
        end = start + 99; /* logs cap a response; so does this one */
    }
    arr = json_array();
    for (uint64_t i = start; i <= end; i++) {
        size_t len;
        const uint8_t *l =
            leaf_of(log, i, log->mode != TESTLIB_CT_NORMAL && log->mode != TESTLIB_CT_BAD_SIG, tmp,
                    sizeof(tmp), &len);
        char *a = b64(l, len), *x = b64(log->e[i].extra, log->e[i].extra_len);

        json_array_append_new(arr, json_pack("{s:s,s:s}", "leaf_input", a, "extra_data", x));
        free(a);
        free(x);
    }
    o = json_pack("{s:o}", "entries", arr);
    return o;
}

static json_t *get_consistency(testlib_ct_log *log, struct MHD_Connection *c, uint64_t size)
{
    uint64_t first, second;
    json_t *arr;

    if (arg_u64(c, "first", &first) != 0 || arg_u64(c, "second", &second) != 0 || first > second ||
        second > size) {
        return NULL;
    }
    arr = json_array();
    if (first > 0 && first < second) {
        subproof(log, log->mode == TESTLIB_CT_FORK, first, 0, second, 1, arr);
    }
    return json_pack("{s:o}", "consistency", arr);
}

/* ---- the static-CT API (c2sp.org/static-ct-api) ---- */

struct text {
    uint8_t *p;
    size_t len, cap;
};

static void add_bytes(struct text *t, const void *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        uint8_t *q;

        while (cap < t->len + n + 1) {
            cap *= 2;
        }
        q = realloc(t->p, cap);
        if (q == NULL) {
            return;
        }
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
    t->p[t->len] = 0;
}

static void add_str(struct text *t, const char *s)
{
    add_bytes(t, s, strlen(s));
}

static struct text checkpoint(testlib_ct_log *log, uint64_t size)
{
    struct text t = {NULL, 0, 0};
    uint8_t root[32], tbs[50], sig[256], note[300], kid[32], logid[32], *spki = NULL, *p = tbs;
    size_t slen = sizeof(sig);
    const uint64_t ts = 1767225600000ull + size;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    struct text kh = {NULL, 0, 0};
    char line[64], *b;
    int n = i2d_PUBKEY(log->key, &spki), o = 0;

    mth(log, log->mode == TESTLIB_CT_FORK, 0, size, root);
    put(&p, 0, 1);
    put(&p, 1, 1);
    put(&p, ts, 8);
    put(&p, size, 8);
    memcpy(p, root, 32);
    if (ctx == NULL || n <= 0 || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, log->key) != 1 ||
        EVP_DigestSign(ctx, sig, &slen, tbs, sizeof(tbs)) != 1) {
        EVP_MD_CTX_free(ctx);
        OPENSSL_free(spki);
        return t;
    }
    EVP_MD_CTX_free(ctx);
    SHA256(spki, (size_t)n, logid);
    OPENSSL_free(spki);
    /* key ID: SHA-256(origin || 0x0A || 0x05 || log ID)[:4] */
    add_str(&kh, log->origin);
    add_bytes(&kh, "\n\x05", 2);
    add_bytes(&kh, logid, 32);
    SHA256(kh.p, kh.len, kid);
    free(kh.p);
    memcpy(note, kid, 4);
    p = note + 4;
    put(&p, ts, 8);
    put(&p, 4, 1);
    put(&p, 3, 1);
    put(&p, slen, 2);
    memcpy(p, sig, slen);
    o = (int)(p - note) + (int)slen;
    if (log->mode == TESTLIB_CT_BAD_SIG) {
        note[o - 3] ^= 0x01;
    }
    add_str(&t, log->origin);
    snprintf(line, sizeof(line), "\n%llu\n", (unsigned long long)size);
    add_str(&t, line);
    b = b64(root, 32);
    add_str(&t, b);
    free(b);
    /* a witness's cosignature first: a monitor must skip what it does not know */
    add_str(
        &t,
        "\n\n\xe2\x80\x94 witness.example.org AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    add_str(&t, "\xe2\x80\x94 ");
    add_str(&t, log->origin);
    add_str(&t, " ");
    b = b64(note, (size_t)o);
    add_str(&t, b);
    free(b);
    add_str(&t, "\n");
    return t;
}

/* "x001/x234/067[.p/W]" into n and width (256 for a full tile); 0 or -1. */
static int tile_index(const char *s, uint64_t *n, unsigned int *width)
{
    uint64_t v = 0;

    *width = 256;
    for (;;) {
        int x = *s == 'x';

        s += x;
        for (int i = 0; i < 3; i++, s++) {
            if (*s < '0' || *s > '9') {
                return -1;
            }
            v = v * 10 + (uint64_t)(*s - '0');
        }
        if (x) {
            if (*s++ != '/') {
                return -1;
            }
            continue;
        }
        break;
    }
    *n = v;
    if (strncmp(s, ".p/", 3) == 0) {
        *width = (unsigned int)strtoul(s + 3, NULL, 10);
        return *width >= 1 && *width < 256 ? 0 : -1;
    }
    return *s == '\0' ? 0 : -1;
}

static uint64_t tile_avail(uint64_t size, int level)
{
    while (level-- > 0) {
        size /= 256;
    }
    return size;
}

/* The hash tile or data tile at path (after "/tile/") of the tree of size; NULL: 404. */
static struct text *tile(testlib_ct_log *log, const char *path, uint64_t size)
{
    static __thread uint8_t tmp[1 << 16];
    struct text *t = calloc(1, sizeof(*t));
    int data = strncmp(path, "data/", 5) == 0, level = 0;
    uint64_t n, avail, span = 1;
    unsigned int width;

    if (t == NULL) {
        return NULL;
    }
    if (!data && (path[0] < '0' || path[0] > '5' || path[1] != '/')) {
        free(t);
        return NULL;
    }
    if (!data) {
        level = path[0] - '0';
    }
    if (tile_index(path + (data ? 5 : 2), &n, &width) != 0) {
        free(t);
        return NULL;
    }
    avail = tile_avail(size, level);
    if (avail < n * 256 + width || (width < 256 && avail - n * 256 != width)) {
        free(t);
        return NULL; /* only tiles of the current tree */
    }
    for (int l = 0; l < level; l++) {
        span *= 256;
    }
    for (uint64_t i = n * 256; i < n * 256 + width; i++) {
        uint8_t h[32];

        if (!data) {
            mth(log, log->mode == TESTLIB_CT_FORK, i * span, (i + 1) * span, h);
            add_bytes(t, h, 32);
            continue;
        } else {
            size_t len;
            const uint8_t *l =
                leaf_of(log, i, log->mode == TESTLIB_CT_FORK || log->mode == TESTLIB_CT_BAD_ENTRIES,
                        tmp, sizeof(tmp), &len);
            const struct entry *e = &log->e[i];
            const uint8_t *x = e->extra, *end = e->extra + e->extra_len;
            uint8_t fp[2 + 32 * 8], *q = fp + 2;
            size_t chain;

            add_bytes(t, l + 2, len - 2); /* the TimestampedEntry */
            if (len > 11 && l[11] == 1) { /* precert: pre_certificate first */
                size_t c = ((size_t)x[0] << 16) | ((size_t)x[1] << 8) | x[2];

                add_bytes(t, x, 3 + c);
                x += 3 + c;
            }
            chain = x + 3 <= end ? ((size_t)x[0] << 16) | ((size_t)x[1] << 8) | x[2] : 0;
            x += 3;
            while (chain > 0 && x + 3 <= end && q < fp + sizeof(fp)) {
                size_t c = ((size_t)x[0] << 16) | ((size_t)x[1] << 8) | x[2];

                SHA256(x + 3, c, q);
                q += 32;
                x += 3 + c;
                chain -= 3 + c;
            }
            fp[0] = (uint8_t)((q - fp - 2) >> 8);
            fp[1] = (uint8_t)(q - fp - 2);
            add_bytes(t, fp, (size_t)(q - fp));
        }
    }
    return t;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, void *p, size_t n,
                             const char *type)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        n, p != NULL ? p : (void *)"", p != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    enum MHD_Result r;

    if (resp == NULL) {
        free(p);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* TESTLIB_CT_HUGE_ENTRIES: a body of HUGE_BODY bytes, made as it is sent. */
#define HUGE_BODY ((uint64_t)(64u << 20) + 1)

static ssize_t huge_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    static const char prefix[] = "{\"entries\":[";
    size_t n = 0;

    (void)cls;
    for (; n < max && pos + n < HUGE_BODY; n++) {
        buf[n] = pos + n < sizeof(prefix) - 1 ? prefix[pos + n] : ' ';
    }
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result reply_huge(struct MHD_Connection *c)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(HUGE_BODY, 1 << 16, huge_body, NULL, NULL);
    enum MHD_Result r;

    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    r = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    testlib_ct_log *log = cls;
    struct MHD_Response *resp;
    json_t *o = NULL;
    char *text;
    uint64_t size;
    unsigned int status = 200;
    enum MHD_Result r;

    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    if (strcmp(method, "GET") != 0) {
        return MHD_NO;
    }
    pthread_mutex_lock(&log->mu);
    size = log->size_set && log->size < log->n ? log->size : log->n;
    if (strcmp(url, "/checkpoint") == 0 || strncmp(url, "/tile/", 6) == 0) {
        struct text t0 = {NULL, 0, 0}, *t = NULL;

        if (url[1] == 'c') {
            t0 = checkpoint(log, size);
        } else {
            t = tile(log, url + 6, size);
        }
        pthread_mutex_unlock(&log->mu);
        if (url[1] == 'c') {
            return reply(c, t0.p != NULL ? 200 : 500, t0.p, t0.len, "text/plain; charset=utf-8");
        }
        if (t == NULL) {
            return reply(c, 404, NULL, 0, "text/plain");
        }
        r = reply(c, 200, t->p, t->len, "application/octet-stream");
        free(t);
        return r;
    }
    if (strcmp(url, "/ct/v1/get-sth") == 0) {
        o = get_sth(log, size);
    } else if (strcmp(url, "/ct/v1/get-entries") == 0) {
        if (log->mode == TESTLIB_CT_HUGE_ENTRIES) {
            pthread_mutex_unlock(&log->mu);
            return reply_huge(c);
        }
        o = get_entries(log, c, size);
        if ((log->mode == TESTLIB_CT_FAIL_ENTRIES && entries_start(c) >= log->fork_at) ||
            (log->fail_from != 0 && entries_start(c) >= log->fail_from)) {
            json_decref(o);
            o = NULL;
            status = 503;
        }
    } else if (strcmp(url, "/ct/v1/get-sth-consistency") == 0) {
        o = get_consistency(log, c, size);
    } else {
        status = 404;
    }
    pthread_mutex_unlock(&log->mu);
    if (o == NULL && status == 200) {
        status = 400;
    }
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : strdup("{}");
    json_decref(o);
    if (text == NULL) {
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

int testlib_ct_log_start(testlib_ct_log *log, char *url, size_t cap)
{
    struct sockaddr_in sin;
    const union MHD_DaemonInfo *info;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    log->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, log,
                              MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
    if (log->d == NULL) {
        return -1;
    }
    info = MHD_get_daemon_info(log->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        testlib_ct_log_stop(log);
        return -1;
    }
    snprintf(url, cap, "http://127.0.0.1:%u/", (unsigned)info->port);
    snprintf(log->origin, sizeof(log->origin), "127.0.0.1:%u", (unsigned)info->port);
    return 0;
}

void testlib_ct_log_stop(testlib_ct_log *log)
{
    if (log->d != NULL) {
        MHD_stop_daemon(log->d);
        log->d = NULL;
    }
}
