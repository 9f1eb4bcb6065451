/*
 * pem.c - a strict, bounded PEM block scanner and base64 body decoder
 * (RFC 7468; RFC 1421 headers for legacy encrypted keys). See pem.h.
 */
#include "core/pem.h"

#include <limits.h>

#include <openssl/evp.h>

#include "internal.h"
#include "util/base64.h"

static const char BEGIN[] = "-----BEGIN ";
static const char END[] = "-----END ";
static const char DASHES[] = "-----";

#define BEGIN_LEN (sizeof(BEGIN) - 1)
#define END_LEN   (sizeof(END) - 1)
#define DASH_LEN  (sizeof(DASHES) - 1)

struct line {
    const char *p;
    size_t len;    /* without the line end and trailing blanks */
    size_t number; /* 1-based */
    size_t offset; /* of the first byte */
};

static int starts_with(const struct line *l, const char *word, size_t n)
{
    return l->len >= n && memcmp(l->p, word, n) == 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int pinset__pem_detect(const uint8_t *buf, size_t len)
{
    size_t pos = 0;

    while (pos < len) {
        const uint8_t *nl;

        if (len - pos >= BEGIN_LEN && memcmp(buf + pos, BEGIN, BEGIN_LEN) == 0) {
            return 1;
        }
        nl = memchr(buf + pos, '\n', len - pos);
        if (nl == NULL) {
            break;
        }
        pos = (size_t)(nl - buf) + 1;
    }
    return 0;
}

void pinset__pem_scan_init(struct pinset_pem_scan *s, const uint8_t *buf, size_t len)
{
    s->buf = buf;
    s->len = len;
    s->pos = 0;
    s->line = 1;
    s->blocks = 0;
    s->label = NULL;
    s->label_len = 0;
}

/* Read the next line; 0 at the end of input. Checks length and NUL bytes. */
/*
 * Where a scan failure happened: line, column and offset, and the block being
 * scanned (index and label) when inside one, else no object.
 */
static void where(pinset_diag *diag, const struct pinset_pem_scan *s, size_t line, size_t col,
                  size_t off)
{
    pinset__diag_pos(diag, s->blocks, line, col, off);
    pinset__diag_object(diag, s->label != NULL ? s->blocks : SIZE_MAX, s->label, s->label_len);
}

/* A decoding failure of a whole block: its index, label and BEGIN line. */
static void block_at(pinset_diag *diag, const struct pinset_pem_block *blk, size_t index)
{
    pinset__diag_pos(diag, index, blk->line, 0, blk->offset);
    pinset__diag_object(diag, index, blk->label, blk->label_len);
}

static pinset_err next_line(struct pinset_pem_scan *s, struct line *l, int *got, pinset_diag *diag)
{
    const uint8_t *start = s->buf + s->pos;
    const uint8_t *nl;
    size_t raw, len;

    *got = 0;
    if (s->pos >= s->len) {
        return PINSET_OK;
    }
    nl = memchr(start, '\n', s->len - s->pos);
    raw = nl != NULL ? (size_t)(nl - start) : s->len - s->pos;
    if (raw > PINSET_MAX_PEM_LINE) {
        where(diag, s, s->line, 0, s->pos);
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "pem line is longer than %zu bytes",
                           PINSET_MAX_PEM_LINE);
    }
    if (memchr(start, '\0', raw) != NULL) {
        size_t col = (size_t)((const uint8_t *)memchr(start, '\0', raw) - start) + 1;

        where(diag, s, s->line, col, s->pos + col - 1);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "nul byte in pem input");
    }
    len = raw;
    if (len > 0 && start[len - 1] == '\r') {
        len--;
    }
    while (len > 0 && is_blank((char)start[len - 1])) {
        len--;
    }
    l->p = (const char *)start;
    l->len = len;
    l->number = s->line;
    l->offset = s->pos;
    s->pos += raw + (nl != NULL ? 1 : 0);
    s->line++;
    *got = 1;
    return PINSET_OK;
}

static pinset_err parse_begin(struct pinset_pem_scan *s, const struct line *l,
                              struct pinset_pem_block *blk, pinset_diag *diag)
{
    size_t n;

    pinset__diag_pos(diag, s->blocks, l->number, 1, l->offset);
    pinset__diag_object(diag, s->blocks, NULL, 0);
    if (l->len < BEGIN_LEN + 1 + DASH_LEN ||
        memcmp(l->p + l->len - DASH_LEN, DASHES, DASH_LEN) != 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "malformed pem begin line");
    }
    n = l->len - BEGIN_LEN - DASH_LEN;
    if (n > PINSET_PEM_MAX_LABEL) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "pem label longer than %d bytes",
                           PINSET_PEM_MAX_LABEL);
    }
    for (size_t i = 0; i < n; i++) {
        char c = l->p[BEGIN_LEN + i];

        if (c < 0x20 || c > 0x7e || c == '-') {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "invalid character 0x%02x in pem label",
                               (unsigned int)(unsigned char)c);
        }
    }
    memset(blk, 0, sizeof(*blk));
    blk->label = l->p + BEGIN_LEN;
    blk->label_len = n;
    blk->start = (const uint8_t *)l->p;
    blk->line = l->number;
    blk->offset = l->offset;
    blk->body = s->buf + s->pos;
    blk->body_line = s->line;
    return PINSET_OK;
}

static pinset_err check_end(const struct pinset_pem_scan *s, const struct line *l,
                            const struct pinset_pem_block *blk, pinset_diag *diag)
{
    size_t n = blk->label_len;

    if (l->len == END_LEN + n + DASH_LEN && memcmp(l->p + END_LEN, blk->label, n) == 0 &&
        memcmp(l->p + END_LEN + n, DASHES, DASH_LEN) == 0) {
        return PINSET_OK;
    }
    where(diag, s, l->number, 1, l->offset);
    return PINSET_DIAG(diag, PINSET_E_PARSE, "end line does not match the begin label");
}

static pinset_err check_body_line(const struct pinset_pem_scan *s, const struct line *l,
                                  pinset_diag *diag)
{
    for (size_t i = 0; i < l->len; i++) {
        char c = l->p[i];

        if (pinset__b64_digit((unsigned char)c, 0) >= 0 || c == '=' || is_blank(c)) {
            continue;
        }
        where(diag, s, l->number, i + 1, l->offset + i);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "invalid character 0x%02x in pem body",
                           (unsigned int)(unsigned char)c);
    }
    return PINSET_OK;
}

static int contains(const char *p, size_t n, const char *word)
{
    size_t w = strlen(word);

    for (size_t i = 0; i + w <= n; i++) {
        if (memcmp(p + i, word, w) == 0) {
            return 1;
        }
    }
    return 0;
}

static int is_header(const struct line *l)
{
    return memchr(l->p, ':', l->len) != NULL;
}

/* Scan one block's lines after its BEGIN line, through the END line. */
static pinset_err scan_block(struct pinset_pem_scan *s, struct pinset_pem_block *blk,
                             pinset_diag *diag)
{
    int in_headers = 0, seen_body = 0, got;
    struct line l;
    pinset_err err;

    for (;;) {
        err = next_line(s, &l, &got, diag);
        if (err != PINSET_OK) {
            return err;
        }
        if (!got) {
            where(diag, s, blk->line, 0, blk->offset);
            return PINSET_DIAG(diag, PINSET_E_PARSE, "missing end line");
        }
        if (starts_with(&l, END, END_LEN)) {
            err = check_end(s, &l, blk, diag);
            if (err != PINSET_OK) {
                return err;
            }
            if (in_headers) {
                where(diag, s, l.number, 1, l.offset);
                return PINSET_DIAG(diag, PINSET_E_PARSE, "pem headers without a body");
            }
            blk->body_len = (size_t)((const uint8_t *)l.p - blk->body);
            blk->total_len = (size_t)((const uint8_t *)l.p + l.len - blk->start);
            return PINSET_OK;
        }
        if (starts_with(&l, BEGIN, BEGIN_LEN)) {
            where(diag, s, l.number, 1, l.offset);
            return PINSET_DIAG(diag, PINSET_E_PARSE, "missing end line before this begin line");
        }
        if (!seen_body && !in_headers && !blk->has_headers && is_header(&l)) {
            /* RFC 1421 section 4.6: headers, then one blank line, then the body. */
            in_headers = 1;
            blk->has_headers = 1;
        }
        if (in_headers) {
            if (l.len == 0) {
                in_headers = 0;
                blk->body = s->buf + s->pos;
                blk->body_line = s->line;
            } else if (is_header(&l) || is_blank(l.p[0])) {
                if (l.len >= 10 && memcmp(l.p, "Proc-Type:", 10) == 0 &&
                    contains(l.p, l.len, "ENCRYPTED")) {
                    blk->encrypted = 1;
                }
            } else {
                where(diag, s, l.number, 1, l.offset);
                return PINSET_DIAG(diag, PINSET_E_PARSE,
                                   "pem headers not followed by a blank line");
            }
            continue;
        }
        err = check_body_line(s, &l, diag);
        if (err != PINSET_OK) {
            return err;
        }
        seen_body = 1;
    }
}

pinset_err pinset__pem_next(struct pinset_pem_scan *s, struct pinset_pem_block *blk, int *found,
                            pinset_diag *diag)
{
    struct line l;
    int got;
    pinset_err err;

    *found = 0;
    for (;;) {
        err = next_line(s, &l, &got, diag);
        if (err != PINSET_OK || !got) {
            return err;
        }
        if (starts_with(&l, END, END_LEN)) {
            pinset__diag_pos(diag, s->blocks, l.number, 1, l.offset);
            pinset__diag_object(diag, s->blocks, NULL, 0);
            return PINSET_DIAG(diag, PINSET_E_PARSE, "pem end line without a begin line");
        }
        if (starts_with(&l, BEGIN, BEGIN_LEN)) {
            break;
        }
        /* any other text outside a block is a comment (openssl x509 -text) */
    }
    err = parse_begin(s, &l, blk, diag);
    if (err == PINSET_OK) {
        s->label = blk->label;
        s->label_len = blk->label_len;
        err = scan_block(s, blk, diag);
        s->label = NULL;
    }
    if (err != PINSET_OK) {
        return err;
    }
    s->blocks++;
    *found = 1;
    return PINSET_OK;
}

pinset_err pinset__pem_decode(uint8_t **out, size_t *len_out, const struct pinset_pem_block *blk,
                              size_t index, size_t max_out, pinset_diag *diag)
{
    uint8_t *text = NULL, *der = NULL;
    size_t n = 0, pad = 0, cap = 0, size;
    pinset_err err = PINSET_OK;
    int got;

    *out = NULL;
    *len_out = 0;
    text = pinset__alloc(blk->body_len + 1);
    if (text == NULL) {
        pinset__diag_object(diag, index, blk->label, blk->label_len);
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < blk->body_len; i++) {
        uint8_t c = blk->body[i];

        if (c != '\r' && c != '\n' && !is_blank((char)c)) {
            text[n++] = c;
        }
    }
    while (pad < 2 && pad < n && text[n - 1 - pad] == '=') {
        pad++;
    }
    if (n == 0 || n % 4 != 0 || memchr(text, '=', n - pad) != NULL || n > INT_MAX) {
        block_at(diag, blk, index);
        err =
            PINSET_DIAG(diag, PINSET_E_PARSE, "%s",
                        n == 0 ? "empty pem body" : "invalid base64 length or padding in pem body");
        goto out;
    }
    size = n / 4 * 3;
    if (size - pad > max_out) {
        block_at(diag, blk, index);
        err = PINSET_DIAG(diag, PINSET_E_LIMIT, "decoded object larger than %zu bytes", max_out);
        goto out;
    }
    cap = size;
    der = pinset__alloc(cap);
    if (der == NULL) {
        pinset__diag_object(diag, index, blk->label, blk->label_len);
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        goto out;
    }
    got = EVP_DecodeBlock(der, text, (int)n);
    if (got < 0 || (size_t)got != size) {
        block_at(diag, blk, index);
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "invalid base64 in pem body");
        goto out;
    }
    *out = der;
    *len_out = size - pad;
    der = NULL;
out:
    pinset__wipe_free(der, cap);
    pinset__wipe_free(text, blk->body_len + 1);
    return err;
}
