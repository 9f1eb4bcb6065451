/*
 * tiles.c - static-CT-API checkpoints and tiles (see tiles.h).
 */
#include "ct/tiles.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ct/err.h"
#include "util/base.h"
#include "util/cursor.h"

/* The next line (without its '\n') of text[*off..len); -1 when there is no '\n'. */
static int next_line(const uint8_t *text, size_t len, size_t *off, const char **line,
                     size_t *line_len)
{
    const uint8_t *nl = memchr(text + *off, '\n', len - *off);

    if (nl == NULL) {
        return -1;
    }
    *line = (const char *)text + *off;
    *line_len = (size_t)(nl - (text + *off));
    *off = (size_t)(nl - text) + 1;
    return 0;
}

static int decimal(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 19 || (n > 1 && s[0] == '0')) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The note key ID of the log's RFC 6962 signature (static-ct-api "Checkpoints"). */
static int key_id(uint8_t out[4], const char *origin, const ct_log_key *key)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    static const uint8_t sep[2] = {0x0a, 0x05};
    uint8_t h[32];
    int ok;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, origin, strlen(origin)) == 1 && EVP_DigestUpdate(ctx, sep, 2) == 1 &&
         EVP_DigestUpdate(ctx, key->log_id, CT_HASH_LEN) == 1 &&
         EVP_DigestFinal_ex(ctx, h, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    memcpy(out, h, 4);
    return ok ? 0 : -1;
}

#define EM_DASH "\xe2\x80\x94 "

int ct_checkpoint_verify(ct_sth *out, const uint8_t *text, size_t len, const char *origin,
                         const ct_log_key *key, char *err, size_t errcap)
{
    const char *line;
    size_t off = 0, n, olen = strlen(origin), rlen = 0;
    uint8_t want[4], sig[4 + 8 + CT_MAX_SIG];
    int found = 0;

    memset(out, 0, sizeof(*out));
    if (next_line(text, len, &off, &line, &n) != 0 || n != olen || memcmp(line, origin, n) != 0) {
        ct_seterr(err, errcap, "checkpoint: the origin line is not '%s'", origin);
        return CT_CP_MALFORMED;
    }
    if (next_line(text, len, &off, &line, &n) != 0 || decimal(line, n, &out->tree_size) != 0) {
        ct_seterr(err, errcap, "checkpoint: line 2: not a tree size");
        return CT_CP_MALFORMED;
    }
    if (next_line(text, len, &off, &line, &n) != 0 ||
        ct_b64_decode(out->root, CT_HASH_LEN, &rlen, line, n) != 0 || rlen != CT_HASH_LEN) {
        ct_seterr(err, errcap, "checkpoint: line 3: not a base64 root hash");
        return CT_CP_MALFORMED;
    }
    /* An RFC 6962-signed checkpoint has no extension lines: the blank line comes next. */
    if (next_line(text, len, &off, &line, &n) != 0 || n != 0) {
        ct_seterr(err, errcap, "checkpoint: line 4: extension lines are not allowed");
        return CT_CP_MALFORMED;
    }
    if (key_id(want, origin, key) != 0) {
        ct_seterr(err, errcap, "cannot hash the key ID");
        return CT_CP_MALFORMED;
    }
    while (off < len) {
        size_t slen = 0, pre = sizeof(EM_DASH) - 1;

        if (next_line(text, len, &off, &line, &n) != 0 || n < pre + 1 ||
            memcmp(line, EM_DASH, pre) != 0) {
            ct_seterr(err, errcap, "checkpoint: a signature line is malformed");
            return CT_CP_MALFORMED;
        }
        if (n < pre + olen + 1 || memcmp(line + pre, origin, olen) != 0 ||
            line[pre + olen] != ' ') {
            continue; /* another signer (a witness): ignored */
        }
        if (ct_b64_decode(sig, sizeof(sig), &slen, line + pre + olen + 1, n - pre - olen - 1) !=
                0 ||
            slen < 4 + 8 + 4 || memcmp(sig, want, 4) != 0) {
            continue; /* another key of the same name, or not ours */
        }
        for (int i = 0; i < 8; i++) {
            out->timestamp = (out->timestamp << 8) | sig[4 + i];
        }
        out->sig_len = slen - 12;
        memcpy(out->sig, sig + 12, out->sig_len);
        found = 1;
        break;
    }
    if (!found) {
        ct_seterr(err, errcap, "checkpoint: no signature by the log key (origin '%s')", origin);
        return CT_CP_BAD_SIGNATURE;
    }
    return ct_sth_verify(out, key, err, errcap) ? CT_CP_OK : CT_CP_BAD_SIGNATURE;
}

int ct_tile_path(char *buf, size_t cap, int level, uint64_t n, unsigned int width)
{
    unsigned int g[8];
    int k = 0, w;
    size_t off;

    do {
        g[k++] = (unsigned int)(n % 1000);
        n /= 1000;
    } while (n > 0);
    w = level < 0 ? snprintf(buf, cap, "tile/data/") : snprintf(buf, cap, "tile/%d/", level);
    for (off = w < 0 ? cap : (size_t)w; k > 0 && off < cap; k--) {
        w = snprintf(buf + off, cap - off, k > 1 ? "x%03u/" : "%03u", g[k - 1]);
        off = w < 0 ? cap : off + (size_t)w;
    }
    if (off < cap && width < CT_TILE_WIDTH) {
        w = snprintf(buf + off, cap - off, ".p/%u", width);
        off = w < 0 ? cap : off + (size_t)w;
    }
    return off < cap ? 0 : -1;
}

unsigned int ct_tile_width(uint64_t size, int level, uint64_t n)
{
    uint64_t avail = size; /* hashes available at this level */

    for (int l = 0; l < level; l++) {
        avail /= CT_TILE_WIDTH;
    }
    if (avail <= n * CT_TILE_WIDTH) {
        return 0;
    }
    avail -= n * CT_TILE_WIDTH;
    return avail >= CT_TILE_WIDTH ? CT_TILE_WIDTH : (unsigned int)avail;
}

static int skip_vec(struct pinset_cursor *c, unsigned int lenbytes, size_t min, size_t unit)
{
    const uint8_t *p;
    size_t n = 0;

    if (!pinset__cursor_read_bytes(c, lenbytes, &p)) {
        return -1;
    }
    for (unsigned int i = 0; i < lenbytes; i++) {
        n = (n << 8) | p[i];
    }
    return n >= min && n % unit == 0 && pinset__cursor_skip(c, n) ? 0 : -1;
}

int ct_tile_leaf_next(const uint8_t *tile, size_t len, size_t *off, uint8_t **leaf,
                      size_t *leaf_len, char *err, size_t errcap)
{
    struct pinset_cursor c;
    const uint8_t *start, *hdr;
    size_t te_len;
    int precert;

    *leaf = NULL;
    pinset__cursor_init(&c, tile + *off, len - *off);
    start = pinset__cursor_ptr(&c);
    /* TimestampedEntry: timestamp, entry_type, signed_entry, extensions. */
    if (!pinset__cursor_read_bytes(&c, 10, &hdr) || hdr[8] != 0 || hdr[9] > 1) {
        ct_seterr(err, errcap, "data tile: offset %zu: truncated or unknown entry_type", *off);
        return -1;
    }
    precert = hdr[9] == 1;
    if ((precert && !pinset__cursor_skip(&c, 32)) || skip_vec(&c, 3, 1, 1) != 0 ||
        skip_vec(&c, 2, 0, 1) != 0) {
        ct_seterr(err, errcap, "data tile: offset %zu: bad TimestampedEntry", *off);
        return -1;
    }
    te_len = (size_t)(pinset__cursor_ptr(&c) - start);
    /* Then the pre_certificate (precert only) and the chain's fingerprints. */
    if ((precert && skip_vec(&c, 3, 1, 1) != 0) || skip_vec(&c, 2, 0, 32) != 0) {
        ct_seterr(err, errcap, "data tile: offset %zu: bad pre_certificate or certificate_chain",
                  *off);
        return -1;
    }
    *leaf = malloc(te_len + 2);
    if (*leaf == NULL) {
        ct_seterr(err, errcap, "out of memory");
        return -1;
    }
    (*leaf)[0] = 0; /* v1 */
    (*leaf)[1] = 0; /* timestamped_entry */
    memcpy(*leaf + 2, start, te_len);
    *leaf_len = te_len + 2;
    *off += pinset__cursor_offset(&c);
    return 0;
}

int ct_tile_subtree(uint8_t out[CT_HASH_LEN], const uint8_t *tile, size_t len, unsigned int first,
                    unsigned int count)
{
    uint8_t h[CT_TILE_WIDTH][CT_HASH_LEN];

    if (count == 0 || count > CT_TILE_WIDTH || (count & (count - 1)) != 0 ||
        first > CT_TILE_WIDTH - count || (size_t)(first + count) * CT_HASH_LEN > len) {
        return -1;
    }
    memcpy(h, tile + (size_t)first * CT_HASH_LEN, (size_t)count * CT_HASH_LEN);
    for (unsigned int n = count; n > 1; n /= 2) {
        for (unsigned int i = 0; i < n / 2; i++) {
            if (ct_node_hash(h[i], h[2 * i], h[2 * i + 1]) != 0) {
                return -1;
            }
        }
    }
    memcpy(out, h[0], CT_HASH_LEN);
    return 0;
}
