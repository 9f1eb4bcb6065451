/*
 * client.c - an RFC 6962 log over libcurl (see client.h).
 */
#include "ct/client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/tiles.h"
#include "util/base.h"
#include "util/buf.h"

#define BODY_MAX  (64u << 20) /* a get-entries response of a thousand large entries fits */
#define BODY_KEEP (8u << 20)  /* a larger buffer is released after use, not kept for the next */

struct ct_client {
    CURL *curl;
    char *base;
    unsigned int timeout_ms;
    /* The last response, at most BODY_MAX bytes and room for CT_JSON_PADDING after them; its
     * storage is reused by the next request. */
    struct pinset__buf body;
    int too_big;
    ct_entries_reader *entries;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    ct_client *c = userdata;
    size_t n = size * nmemb;

    if (n > BODY_MAX - c->body.len) {
        c->too_big = 1;
        return 0;
    }
    return pinset__buf_append(&c->body, ptr, n) == PINSET_OK ? n : 0;
}

/* Forget the last response; its storage stays for the next unless it is large. */
static void body_done(ct_client *c)
{
    if (c->body.cap > BODY_KEEP) {
        pinset__buf_free(&c->body);
    }
    pinset__buf_reset(&c->body);
}

int ct_client_new(ct_client **out, const char *url, unsigned int timeout_ms, char *err,
                  size_t errcap)
{
    ct_client *c = calloc(1, sizeof(*c));
    size_t n = strlen(url);

    *out = NULL;
    if (c == NULL || (c->base = malloc(n + 2)) == NULL || (c->curl = curl_easy_init()) == NULL ||
        ct_entries_reader_new(&c->entries, BODY_MAX) != 0) {
        snprintf(err, errcap, "out of memory");
        ct_client_free(c);
        return -1;
    }
    pinset__buf_init(&c->body, BODY_MAX + CT_JSON_PADDING, 0);
    snprintf(c->base, n + 2, "%s%s", url, n > 0 && url[n - 1] == '/' ? "" : "/");
    c->timeout_ms = timeout_ms;
    *out = c;
    return 0;
}

void ct_client_free(ct_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->curl != NULL) {
        curl_easy_cleanup(c->curl);
    }
    ct_entries_reader_free(c->entries);
    pinset__buf_free(&c->body);
    free(c->base);
    free(c);
}

/* GET base + path: 0 on HTTP 200 with the body in c->body, else -1 (*status the HTTP status). */
static int fetch(ct_client *c, const char *path, long *status, char *url, size_t urlcap, char *err,
                 size_t errcap)
{
    CURLcode cc;

    pinset__buf_reset(&c->body);
    c->too_big = 0;
    *status = 0;
    snprintf(url, urlcap, "%s%s", c->base, path);
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_BUFFERSIZE, 256L << 10);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, ""); /* data tiles may be gzip'd */
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "pinset-ct");
    cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) {
        snprintf(err, errcap, "%s: %s", url,
                 c->too_big ? "response larger than 64 MiB" : curl_easy_strerror(cc));
        body_done(c);
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    if (*status != 200) {
        snprintf(err, errcap, "%s: HTTP status %ld", url, *status);
        body_done(c);
        return -1;
    }
    return 0;
}

/* GET base + "ct/v1/" + path; the parsed JSON object into *out. */
static int get_json(ct_client *c, const char *path, json_t **out, char *err, size_t errcap)
{
    char url[4096], full[256];
    long status = 0;
    json_error_t je;

    *out = NULL;
    snprintf(full, sizeof(full), "ct/v1/%s", path);
    if (fetch(c, full, &status, url, sizeof(url), err, errcap) != 0) {
        return -1;
    }
    *out = json_loadb(c->body.p != NULL ? (const char *)c->body.p : "", c->body.len,
                      JSON_REJECT_DUPLICATES, &je);
    body_done(c);
    if (*out == NULL || !json_is_object(*out)) {
        snprintf(err, errcap, "%s: not a JSON object (%s)", url, *out == NULL ? je.text : "type");
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int ct_client_get_raw(ct_client *c, const char *path, uint8_t **out, size_t *len, long *status,
                      char *err, size_t errcap)
{
    char url[4096];

    *out = NULL;
    *len = 0;
    if (fetch(c, path, status, url, sizeof(url), err, errcap) != 0) {
        return -1;
    }
    /* The caller keeps the body: the buffer starts again empty. */
    *out = c->body.p != NULL ? c->body.p : calloc(1, 1);
    *len = c->body.len;
    pinset__buf_init(&c->body, BODY_MAX + CT_JSON_PADDING, 0);
    return *out != NULL ? 0 : -1;
}

/* A tile (level -1: data) of the tree of `size`: the partial tile, or the full one instead. */
static int get_tile(ct_client *c, uint64_t size, int level, uint64_t n, uint8_t **out, size_t *len,
                    unsigned int *width, char *err, size_t errcap)
{
    char path[256];
    long status = 0;

    *width = ct_tile_width(size, level, n);
    if (*width == 0 || ct_tile_path(path, sizeof(path), level, n, *width) != 0) {
        snprintf(err, errcap, "tile %d/%llu: not in a tree of %llu entries", level,
                 (unsigned long long)n, (unsigned long long)size);
        return -1;
    }
    if (ct_client_get_raw(c, path, out, len, &status, err, errcap) == 0) {
        return 0;
    }
    /* static-ct-api: a partial tile may be gone once the full one exists. */
    if (*width < CT_TILE_WIDTH && status == 404 &&
        ct_tile_path(path, sizeof(path), level, n, CT_TILE_WIDTH) == 0) {
        return ct_client_get_raw(c, path, out, len, &status, err, errcap);
    }
    return -1;
}

int ct_client_get_hash_tile(ct_client *c, uint64_t size, int level, uint64_t n, uint8_t **out,
                            size_t *len, char *err, size_t errcap)
{
    unsigned int width;

    if (get_tile(c, size, level, n, out, len, &width, err, errcap) != 0) {
        return -1;
    }
    if (*len != (size_t)width * CT_HASH_LEN && *len != (size_t)CT_TILE_WIDTH * CT_HASH_LEN) {
        snprintf(err, errcap, "tile %d/%llu: %zu bytes, not %u hashes", level,
                 (unsigned long long)n, *len, width);
        free(*out);
        *out = NULL;
        return -1;
    }
    *len = (size_t)width * CT_HASH_LEN;
    return 0;
}

int ct_client_get_tile_entries(ct_client *c, uint64_t size, uint64_t start, uint64_t end,
                               ct_batch *out, char *err, size_t errcap)
{
    uint64_t n = start / CT_TILE_WIDTH, first = n * CT_TILE_WIDTH;
    uint8_t *tile = NULL;
    size_t len = 0, off = 0;
    unsigned int width, i;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (start > end || end >= size) {
        snprintf(err, errcap, "entries %llu..%llu: not in a tree of %llu",
                 (unsigned long long)start, (unsigned long long)end, (unsigned long long)size);
        return -1;
    }
    if (get_tile(c, size, -1, n, &tile, &len, &width, err, errcap) != 0) {
        return -1;
    }
    if (end >= first + width) {
        end = first + width - 1;
    }
    out->e = calloc(CT_TILE_WIDTH, sizeof(*out->e));
    if (out->e == NULL) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    for (i = 0; i < width; i++) {
        uint8_t *leaf;
        size_t leaf_len;

        if (ct_tile_leaf_next(tile, len, &off, &leaf, &leaf_len, err, errcap) != 0) {
            goto out;
        }
        if (first + i < start || first + i > end) {
            free(leaf);
            continue;
        }
        out->e[out->n].leaf = leaf;
        out->e[out->n].leaf_len = leaf_len;
        out->n++;
    }
    if (width == CT_TILE_WIDTH && off != len) {
        snprintf(err, errcap, "data tile %llu: trailing bytes after 256 entries",
                 (unsigned long long)n);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        ct_batch_free(out);
    }
    free(tile);
    return rc;
}

int ct_client_get_sth(ct_client *c, ct_sth *out, char *err, size_t errcap)
{
    char url[4096];
    long status = 0;
    int rc;

    /* ct_sth_parse reads the JSON itself: the body goes to it as received */
    if (fetch(c, "ct/v1/get-sth", &status, url, sizeof(url), err, errcap) != 0) {
        return -1;
    }
    rc = ct_sth_parse(out, c->body.p != NULL ? c->body.p : (const uint8_t *)"", c->body.len, err,
                      errcap);
    body_done(c);
    return rc;
}

int ct_client_get_consistency(ct_client *c, uint64_t first, uint64_t second,
                              uint8_t (*proof)[CT_HASH_LEN], size_t cap, size_t *len, char *err,
                              size_t errcap)
{
    char path[128];
    json_t *j, *arr, *v;
    size_t i, n;
    int rc = -1;

    snprintf(path, sizeof(path), "get-sth-consistency?first=%llu&second=%llu",
             (unsigned long long)first, (unsigned long long)second);
    if (get_json(c, path, &j, err, errcap) != 0) {
        return -1;
    }
    arr = json_object_get(j, "consistency");
    if (!json_is_array(arr) || json_array_size(arr) > cap) {
        snprintf(err, errcap, "get-sth-consistency: consistency: missing, or more than %zu hashes",
                 cap);
        goto out;
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) ||
            ct_b64_decode(proof[i], CT_HASH_LEN, &n, json_string_value(v), json_string_length(v)) !=
                0 ||
            n != CT_HASH_LEN) {
            snprintf(err, errcap, "get-sth-consistency: consistency[%zu]: not a base64 hash", i);
            goto out;
        }
    }
    *len = json_array_size(arr);
    rc = 0;
out:
    json_decref(j);
    return rc;
}

int ct_client_get_entries(ct_client *c, uint64_t start, uint64_t end, ct_batch *out, char *err,
                          size_t errcap)
{
    char path[128], url[4096];
    long status = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "ct/v1/get-entries?start=%llu&end=%llu", (unsigned long long)start,
             (unsigned long long)end);
    if (fetch(c, path, &status, url, sizeof(url), err, errcap) != 0) {
        return -1;
    }
    /* simdjson reads past the end: the room was kept (body's max), zeroed for determinism. */
    if (pinset__buf_reserve(&c->body, CT_JSON_PADDING) != PINSET_OK) {
        snprintf(err, errcap, "out of memory");
        body_done(c);
        return -1;
    }
    memset(c->body.p + c->body.len, 0, CT_JSON_PADDING);
    rc = ct_entries_read(c->entries, out, c->body.p, c->body.len, start, end - start + 1, err,
                         errcap);
    body_done(c);
    return rc;
}

void ct_batch_free(ct_batch *b)
{
    for (size_t i = 0; b->arena == NULL && b->e != NULL && i < b->n; i++) {
        free(b->e[i].leaf);
        free(b->e[i].extra);
    }
    free(b->arena);
    free(b->e);
    memset(b, 0, sizeof(*b));
}
