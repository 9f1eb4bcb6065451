/*
 * bench_ct_log.c - the Certificate Transparency benchmark's log: an RFC 6962 log of N entries
 * (bench_ct.h) served on 127.0.0.1 (libmicrohttpd), built in memory at start: leaf hashes, the
 * root, one signed tree head. Before serving it writes into DIR what the monitors need: log.pem
 * (the log key), policy.json (example.com and its subdomains pinned to the pool's known key, for
 * pinset), watchlist (.example.com, for certspotter), loglist.json (a v3 log list with this log,
 * for certspotter), and url (its base URL) last. It serves until standard input closes.
 *
 *   bench_ct_log N DIR
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "bench_ct.h"

static struct bench_ct_pool pool;
static uint64_t n_entries;
static char *sth_json, *extra_b64[BENCH_CT_POOL];

static void die(const char *what)
{
    fprintf(stderr, "bench_ct_log: %s\n", what);
    exit(1);
}

static char *b64(const uint8_t *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);

    if (s == NULL) {
        die("out of memory");
    }
    EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    return s;
}

static void node(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    uint8_t buf[65];

    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    EVP_Digest(buf, sizeof(buf), out, NULL, EVP_sha256(), NULL);
}

/* The root of all entries: leaf hashes folded on the right edge (RFC 6962 section 2.1). */
static void root_of(uint8_t out[32])
{
    static uint8_t edge[64][32];
    uint8_t leaf[8192], h[32];
    unsigned int count = 0;

    for (uint64_t i = 0; i < n_entries; i++) {
        size_t len = bench_ct_leaf(&pool, i, leaf + 1, sizeof(leaf) - 1);
        uint64_t s = i;

        leaf[0] = 0;
        EVP_Digest(leaf, len + 1, edge[count++], NULL, EVP_sha256(), NULL);
        while (s & 1) {
            node(edge[count - 2], edge[count - 2], edge[count - 1]);
            count--;
            s >>= 1;
        }
    }
    if (count == 0) {
        EVP_Digest("", 0, out, NULL, EVP_sha256(), NULL);
        return;
    }
    memcpy(h, edge[count - 1], 32);
    for (unsigned int i = count - 1; i-- > 0;) {
        node(h, edge[i], h);
    }
    memcpy(out, h, 32);
}

static void make_sth(EVP_PKEY *key)
{
    uint8_t root[32], tbs[50], sig[300], *p = tbs;
    size_t slen = sizeof(sig) - 4;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *r, *s;

    root_of(root);
    *p++ = 0;
    *p++ = 1;
    for (int k = 7; k >= 0; k--) {
        *p++ = (uint8_t)((BENCH_CT_T0 + n_entries) >> (8 * k));
    }
    for (int k = 7; k >= 0; k--) {
        *p++ = (uint8_t)(n_entries >> (8 * k));
    }
    memcpy(p, root, 32);
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig + 4, &slen, tbs, sizeof(tbs)) != 1) {
        die("cannot sign the tree head");
    }
    EVP_MD_CTX_free(ctx);
    sig[0] = 4;
    sig[1] = 3;
    sig[2] = (uint8_t)(slen >> 8);
    sig[3] = (uint8_t)slen;
    r = b64(root, 32);
    s = b64(sig, slen + 4);
    sth_json = malloc(strlen(r) + strlen(s) + 200);
    if (sth_json == NULL) {
        die("out of memory");
    }
    snprintf(sth_json, strlen(r) + strlen(s) + 200,
             "{\"tree_size\":%llu,\"timestamp\":%llu,\"sha256_root_hash\":\"%s\","
             "\"tree_head_signature\":\"%s\"}",
             (unsigned long long)n_entries, (unsigned long long)(BENCH_CT_T0 + n_entries), r, s);
    free(r);
    free(s);
}

static int arg(struct MHD_Connection *c, const char *name, uint64_t *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    char *end;

    if (v == NULL || *v == '\0') {
        return -1;
    }
    *out = strtoull(v, &end, 10);
    return *end == '\0' ? 0 : -1;
}

static char *entries(struct MHD_Connection *c, size_t *len)
{
    uint64_t start, end;
    size_t cap, o = 0;
    char *out;

    if (arg(c, "start", &start) != 0 || arg(c, "end", &end) != 0 || start > end ||
        start >= n_entries) {
        return NULL;
    }
    if (end >= n_entries) {
        end = n_entries - 1;
    }
    if (end - start >= 1000) {
        end = start + 999;
    }
    cap = (size_t)(end - start + 1) * 4096 + 64;
    out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    o += (size_t)snprintf(out, cap, "{\"entries\":[");
    for (uint64_t i = start; i <= end; i++) {
        uint8_t leaf[4096];
        size_t n = bench_ct_leaf(&pool, i, leaf, sizeof(leaf));

        o += (size_t)snprintf(out + o, cap - o, "%s{\"leaf_input\":\"", i == start ? "" : ",");
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, leaf, (int)n);
        o += (size_t)snprintf(out + o, cap - o, "\",\"extra_data\":\"%s\"}",
                              extra_b64[i % BENCH_CT_POOL]);
    }
    o += (size_t)snprintf(out + o, cap - o, "]}");
    *len = o;
    return out;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct MHD_Response *resp;
    char *body = NULL;
    size_t len = 0;
    unsigned int status = 200;
    enum MHD_Result r;

    (void)cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    if (strcmp(method, "GET") != 0) {
        return MHD_NO;
    }
    if (strcmp(url, "/ct/v1/get-sth") == 0) {
        body = strdup(sth_json);
        len = body != NULL ? strlen(body) : 0;
    } else if (strcmp(url, "/ct/v1/get-entries") == 0) {
        body = entries(c, &len);
        status = body != NULL ? 200 : 400;
    } else {
        status = 404;
    }
    resp = body != NULL ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                        : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        die("cannot write into DIR");
    }
}

int main(int argc, char **argv)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    struct sockaddr_in sin;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    uint8_t extra[8192], *spki = NULL, logid[32];
    char buf[8192], pin[64], *kb64, *idb64;
    BIO *b;
    char *pem;
    long pem_len;
    int n;

    if (argc != 3 || (n_entries = strtoull(argv[1], NULL, 10)) == 0) {
        fprintf(stderr, "usage: bench_ct_log N DIR\n");
        return 2;
    }
    if (key == NULL || bench_ct_pool_make(&pool) != 0) {
        die("cannot make the pool");
    }
    for (size_t i = 0; i < BENCH_CT_POOL; i++) {
        extra_b64[i] = b64(extra, bench_ct_extra(&pool, i, extra, sizeof(extra)));
    }
    make_sth(key);
    /* log.pem, the log list, the policy, the watch list */
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, key);
    pem_len = BIO_get_mem_data(b, &pem);
    snprintf(buf, sizeof(buf), "%.*s", (int)pem_len, pem);
    BIO_free(b);
    write_file(argv[2], "log.pem", buf);
    n = i2d_PUBKEY(key, &spki);
    EVP_Digest(spki, (size_t)n, logid, NULL, EVP_sha256(), NULL);
    kb64 = b64(spki, (size_t)n);
    idb64 = b64(logid, 32);
    OPENSSL_free(spki);
    testlib_spki_b64(pool.pki.leaf, pin);
    snprintf(buf, sizeof(buf),
             "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"include_subdomains\": "
             "true, \"pins\": [{\"sha256\": \"%s\"}]}]}\n",
             pin);
    write_file(argv[2], "policy.json", buf);
    write_file(argv[2], "watchlist", ".example.com\n");

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
                         MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
    info = d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL) {
        die("cannot listen on 127.0.0.1");
    }
    snprintf(buf, sizeof(buf),
             "{\"version\": \"3.0\", \"log_list_timestamp\": \"2026-01-01T00:00:00Z\", "
             "\"operators\": [{\"name\": \"bench\", \"email\": [], \"logs\": [{\"description\": "
             "\"bench log\", \"log_id\": \"%s\", \"key\": \"%s\", \"url\": "
             "\"http://127.0.0.1:%u/\", \"mmd\": 86400, \"state\": {\"usable\": {\"timestamp\": "
             "\"2026-01-01T00:00:00Z\"}}}]}]}\n",
             idb64, kb64, (unsigned)info->port);
    write_file(argv[2], "loglist.json", buf);
    snprintf(buf, sizeof(buf), "http://127.0.0.1:%u/\n", (unsigned)info->port);
    write_file(argv[2], "url", buf);
    free(kb64);
    free(idb64);
    /* serve until standard input closes */
    while (read(0, buf, sizeof(buf)) > 0) {
    }
    MHD_stop_daemon(d);
    for (size_t i = 0; i < BENCH_CT_POOL; i++) {
        free(extra_b64[i]);
    }
    free(sth_json);
    bench_ct_pool_free(&pool);
    EVP_PKEY_free(key);
    return 0;
}
