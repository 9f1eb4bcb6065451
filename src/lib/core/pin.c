/*
 * pin.c - pin values (pinset/pin.h): parse every text form, format, compare,
 * and compute pins from SPKI and certificate DER. The pins of OpenSSL
 * objects (pinset/openssl.h) are in pin_openssl.c.
 *
 * Parsing is strict on purpose: a pin that is accepted in one spelling must
 * mean exactly one 32-byte digest, so non-canonical base64, base64url, missing
 * or extra padding and wrong digest lengths are all refused (RFC 7469 §2.1.1:
 * the pin is the base64 of the SHA-256 digest, RFC 4648 §4 alphabet).
 */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <pinset/pin.h>

#include "core/pin_int.h"
#include "internal.h"
#include "util/base64.h"
#include "util/cursor.h"
#include "util/digest.h"
#include "util/hex.h"

#define B64_LEN   44 /* 32 bytes: ceil(32 / 3) * 4 */
#define HEX_LEN   (2 * PINSET_PIN_LEN)
#define COLON_LEN (3 * PINSET_PIN_LEN - 1)

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* ---- character classes (ASCII only, locale independent) ---- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_value(char c)
{
    return pinset__hex_digit((unsigned char)c, 0);
}

static int lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Does s[0..n) start with the lower-case ASCII word `word`, ignoring case? */
static int starts_with_ci(const char *s, size_t n, const char *word)
{
    size_t i;

    for (i = 0; word[i] != '\0'; i++) {
        if (i >= n || lower_ascii(s[i]) != word[i]) {
            return 0;
        }
    }
    return 1;
}

static int starts_with(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word); /* word is a string literal of ours, not input */

    return n >= wl && memcmp(s, word, wl) == 0;
}

/*
 * Report a bad character at offset `at` (0-based, within the caller's text)
 * with a message that says what is wrong with it.
 */
static pinset_err bad_char(pinset_diag *diag, const char *what, char c, size_t at)
{
    /* the offset is the column (line 1) of the caller's text, not part of the message */
    pinset__diag_pos(diag, diag != NULL ? diag->object : SIZE_MAX, 1, at + 1, at);
    if (c == '\0') {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "%s has an embedded nul byte", what);
    }
    if (is_space(c)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "%s has whitespace inside", what);
    }
    if (c == '-' || c == '_') {
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "%s has base64url character '%c' (pins use standard base64)", what, c);
    }
    if (c > ' ' && c < 0x7f) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "%s has invalid character '%c'", what, c);
    }
    return PINSET_DIAG(diag, PINSET_E_PARSE, "%s has invalid byte 0x%02x", what,
                       (unsigned int)(unsigned char)c);
}

/* ---- the three digest encodings ---- */

/*
 * Strict RFC 4648 §4 base64 of exactly 32 bytes: 43 alphabet characters and
 * one '='; the two unused low bits of the last character must be zero
 * (RFC 4648 §3.5, canonical encoding), so each digest has one spelling.
 */
static pinset_err parse_b64(uint8_t out[PINSET_PIN_LEN], const char *s, size_t n, size_t at,
                            pinset_diag *diag)
{
    unsigned char tmp[48];
    size_t data = n;
    size_t i;
    int v;

    while (data > 0 && s[data - 1] == '=') {
        data--;
    }
    for (i = 0; i < data; i++) {
        if (pinset__b64_digit((unsigned char)s[i], 0) < 0) {
            return bad_char(diag, "base64 pin", s[i], at + i);
        }
    }
    if (data == B64_LEN - 1 && n == B64_LEN - 1) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "base64 pin is missing '=' padding");
    }
    if (data == B64_LEN - 1 && n > B64_LEN) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "base64 pin has extra '=' padding");
    }
    if (n != B64_LEN || data != B64_LEN - 1) {
        /* data * 6 / 8 is the digest length the text encodes */
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "base64 pin encodes %zu bytes, a sha256 pin has 32 (44 characters)",
                           data * 6 / 8);
    }
    v = pinset__b64_digit((unsigned char)s[B64_LEN - 2], 0);
    if ((v & 0x3) != 0) {
        pinset__diag_pos(diag, diag != NULL ? diag->object : SIZE_MAX, 1, at + B64_LEN - 1,
                         at + B64_LEN - 2);
        return PINSET_DIAG(
            diag, PINSET_E_PARSE,
            "base64 pin has a non-canonical encoding (unused bits of the last character are not zero)");
    }
    /* Validated above; EVP_DecodeBlock gives 33 bytes for 44 characters (padding counts). */
    if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) != 33) {
        return PINSET_DIAG(diag, PINSET_E_INTERNAL, "base64 pin decoder disagrees with checks");
    }
    memcpy(out, tmp, PINSET_PIN_LEN);
    return PINSET_OK;
}

static pinset_err parse_hex(uint8_t out[PINSET_PIN_LEN], const char *s, size_t n, size_t at,
                            pinset_diag *diag)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (hex_value(s[i]) < 0) {
            return bad_char(diag, "hex pin", s[i], at + i);
        }
    }
    if (n != HEX_LEN) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "hex pin has %zu hex digits, a sha256 pin has 64",
                           n);
    }
    for (i = 0; i < PINSET_PIN_LEN; i++) {
        out[i] = (uint8_t)(hex_value(s[2 * i]) << 4 | hex_value(s[2 * i + 1]));
    }
    return PINSET_OK;
}

/* "AB:CD:..." - exactly 32 pairs of hex digits separated by single ':' */
static pinset_err parse_colon_hex(uint8_t out[PINSET_PIN_LEN], const char *s, size_t n, size_t at,
                                  pinset_diag *diag)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int want_colon = i % 3 == 2;

        if (want_colon && s[i] != ':') {
            return bad_char(diag, "colon-separated hex pin (expected ':')", s[i], at + i);
        }
        if (!want_colon && hex_value(s[i]) < 0) {
            return bad_char(diag, "hex pin", s[i], at + i);
        }
    }
    if (n != COLON_LEN) {
        return PINSET_DIAG(
            diag, PINSET_E_PARSE,
            "hex pin has %zu characters, expected 32 colon-separated hex pairs (95 characters)", n);
    }
    for (i = 0; i < PINSET_PIN_LEN; i++) {
        out[i] = (uint8_t)(hex_value(s[3 * i]) << 4 | hex_value(s[3 * i + 1]));
    }
    return PINSET_OK;
}

/* A bare digest: 44 characters of base64, 64 hex digits, or colon-separated hex pairs. */
static pinset_err parse_bare(uint8_t out[PINSET_PIN_LEN], const char *s, size_t n, size_t at,
                             pinset_diag *diag)
{
    size_t i;
    int all_hex = 1;

    if (n == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "pin has an empty digest");
    }
    /* The length says which encoding is meant, so errors name the right one. */
    if (n == B64_LEN) {
        return parse_b64(out, s, n, at, diag);
    }
    if (n == HEX_LEN) {
        return parse_hex(out, s, n, at, diag);
    }
    if (n == COLON_LEN) {
        return parse_colon_hex(out, s, n, at, diag);
    }
    for (i = 0; i < n && all_hex; i++) {
        if (hex_value(s[i]) < 0) {
            all_hex = 0;
        }
    }
    if (all_hex) {
        return parse_hex(out, s, n, at, diag);
    }
    if (memchr(s, ':', n) != NULL) {
        return parse_colon_hex(out, s, n, at, diag);
    }
    return parse_b64(out, s, n, at, diag);
}

/*
 * HPKP: pin-sha256="base64" (RFC 7469 §2.1). The directive name is
 * case-insensitive (§2.1), optional whitespace may surround '=' (the
 * RFC 7230 OWS of the directive grammar), and the value must be quoted
 * (§2.1.1 shows it as a quoted-string; we do not accept a bare token).
 */
/* Skip optional whitespace (RFC 7230 OWS: spaces and tabs). */
static void skip_ows(struct pinset_cursor *c)
{
    uint8_t b;

    while (pinset__cursor_peek_u8(c, &b) && (b == ' ' || b == '\t')) {
        (void)pinset__cursor_skip(c, 1);
    }
}

static pinset_err parse_hpkp(uint8_t out[PINSET_PIN_LEN], const char *s, size_t n, size_t at,
                             pinset_diag *diag)
{
    static const uint8_t equals = '=';
    static const uint8_t quote = '"';
    struct pinset_cursor c;
    const uint8_t *close;
    size_t value_at;
    size_t value_len;

    pinset__cursor_init(&c, (const uint8_t *)s, n);
    (void)pinset__cursor_skip(&c, strlen("pin-sha256")); /* the caller matched it */
    skip_ows(&c);
    if (!pinset__cursor_expect(&c, &equals, 1)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "hpkp pin lacks the expected '=' after pin-sha256");
    }
    skip_ows(&c);
    if (!pinset__cursor_expect(&c, &quote, 1)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "hpkp pin value must be a quoted string");
    }
    value_at = pinset__cursor_offset(&c);
    close = memchr(pinset__cursor_ptr(&c), '"', pinset__cursor_remaining(&c));
    if (close == NULL) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "hpkp pin lacks its closing quote");
    }
    value_len = (size_t)(close - pinset__cursor_ptr(&c));
    if (!pinset__cursor_skip(&c, value_len + 1) || !pinset__cursor_at_end(&c)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "hpkp pin has unexpected text after the closing quote");
    }
    return parse_b64(out, s + value_at, value_len, at + value_at, diag);
}

/* Is this a sha1 pin in any spelling? (pin-sha1 = "...", sha1/..., sha1//...) */
static int is_sha1(const char *s, size_t n)
{
    static const uint8_t equals = '=';
    struct pinset_cursor c;

    if (starts_with(s, n, "sha1/")) {
        return 1;
    }
    if (!starts_with_ci(s, n, "pin-sha1")) {
        return 0;
    }
    pinset__cursor_init(&c, (const uint8_t *)s, n);
    (void)pinset__cursor_skip(&c, strlen("pin-sha1"));
    skip_ows(&c);
    return pinset__cursor_expect(&c, &equals, 1);
}

/*
 * The digest a pin names when it is not sha256 nor sha1 (md5/..., sha384//...,
 * pin-sha512="..."), or NULL: such pins are refused as unsupported, with the
 * algorithm named, rather than as base64 of the wrong length.
 */
static const char *other_digest(const char *s, size_t n)
{
    static const char *const algs[] = {"md5",      "sha224",   "sha384",  "sha512",
                                       "sha3-256", "sha3-384", "sha3-512"};
    static const uint8_t equals = '=';

    for (size_t i = 0; i < PINSET_ARRAY_SIZE(algs); i++) {
        size_t len = strlen(algs[i]);
        struct pinset_cursor c;

        if (starts_with_ci(s, n, algs[i]) && n > len && s[len] == '/') {
            return algs[i];
        }
        if (starts_with_ci(s, n, "pin-") && starts_with_ci(s + 4, n - 4, algs[i])) {
            pinset__cursor_init(&c, (const uint8_t *)s, n);
            (void)pinset__cursor_skip(&c, 4 + len);
            skip_ows(&c);
            if (pinset__cursor_expect(&c, &equals, 1)) {
                return algs[i];
            }
        }
    }
    return NULL;
}

/* Is every character of s[0..n) in the base64 alphabet or '='? */
static int all_b64(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != '=' && pinset__b64_digit((unsigned char)s[i], 0) < 0) {
            return 0;
        }
    }
    return 1;
}

/* Parse one trimmed, non-empty pin text s[0..n) found at offset `at` of the caller's text. */
static pinset_err parse_one(uint8_t out[PINSET_PIN_LEN], const char *s, size_t n, size_t at,
                            pinset_diag *diag)
{
    const char *nul = memchr(s, '\0', n);

    if (nul != NULL) {
        return bad_char(diag, "pin", '\0', at + (size_t)(nul - s));
    }
    /*
     * A bare base64 digest may itself begin with "sha256/" or "sha1/" (those
     * are base64 characters). No well-formed prefixed pin is 44 characters of
     * the base64 alphabet (sha256 forms have 51 or more, sha1 forms 33 or 34,
     * HPKP has quotes), so such text is always read as a bare digest.
     */
    if (n == B64_LEN && all_b64(s, n)) {
        return parse_b64(out, s, n, at, diag);
    }
    if (is_sha1(s, n)) {
        return PINSET_DIAG(
            diag, PINSET_E_UNSUPPORTED,
            "sha-1 pins are not supported (sha-1 is collision-prone; rfc 7469 requires sha256)");
    }
    if (other_digest(s, n) != NULL) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "%s pins are not supported (pins are sha256 digests)",
                           other_digest(s, n));
    }
    if (starts_with_ci(s, n, "pin-sha256")) {
        return parse_hpkp(out, s, n, at, diag);
    }
    /*
     * "sha256//X" is curl's form, but it is also OkHttp's "sha256/" followed by
     * base64 that starts with '/'. Read it as OkHttp's only when that gives a
     * well-shaped 44-character digest (ending in '=') and curl's reading cannot.
     */
    if (starts_with(s, n, "sha256//") &&
        (n - 8 == B64_LEN || n - 7 != B64_LEN || s[n - 1] != '=')) {
        return parse_b64(out, s + 8, n - 8, at + 8, diag);
    }
    if (starts_with(s, n, "sha256/")) {
        return parse_b64(out, s + 7, n - 7, at + 7, diag);
    }
    return parse_bare(out, s, n, at, diag);
}

static void trim(const char *text, size_t len, size_t *start, size_t *end)
{
    size_t b = 0;
    size_t e = len;

    while (b < e && is_space(text[b])) {
        b++;
    }
    while (e > b && is_space(text[e - 1])) {
        e--;
    }
    *start = b;
    *end = e;
}

static int kind_valid(pinset_pin_kind kind)
{
    return kind == PINSET_PIN_SPKI || kind == PINSET_PIN_CERT;
}

size_t pinset_pin_str_max(void)
{
    return PINSET_PIN_STR_MAX;
}

pinset_err pinset_pin_parse(pinset_pin *out, const char *text, size_t len, pinset_pin_kind kind,
                            pinset_diag *diag)
{
    pinset_pin pin;
    size_t b;
    size_t e;
    pinset_err err;

    if (out == NULL || text == NULL || !kind_valid(kind)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument or invalid kind");
    }
    /* Checked before looking at the text, so a huge input costs nothing. */
    pinset__diag_pos(diag, SIZE_MAX, 0, 0, 0);
    if (len > PINSET_MAX_PIN_TEXT) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "pin text is %zu bytes, the limit is %d", len,
                           PINSET_MAX_PIN_TEXT);
    }
    trim(text, len, &b, &e);
    if (b == e) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "empty pin");
    }
    memset(&pin, 0, sizeof(pin));
    err = parse_one(pin.sha256, text + b, e - b, b, diag);
    if (err != PINSET_OK) {
        return err;
    }
    pin.kind = kind;
    *out = pin;
    return PINSET_OK;
}

/*
 * One element of a ';'-separated list: trimmed, parsed, and on failure the
 * diag names the element's index.
 */
static pinset_err parse_element(pinset_pin *pin, const char *text, size_t b, size_t e, size_t idx,
                                pinset_diag *diag)
{
    size_t tb;
    size_t te;

    pinset__diag_pos(diag, idx, 0, 0, 0);
    if (e - b > PINSET_MAX_PIN_TEXT) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "pin list element is %zu bytes, the limit is %d",
                           e - b, PINSET_MAX_PIN_TEXT);
    }
    trim(text + b, e - b, &tb, &te);
    if (tb == te) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "empty pin list element");
    }
    return parse_one(pin->sha256, text + b + tb, te - tb, b + tb, diag);
}

pinset_err pinset_pin_parse_list(pinset_pin *out, size_t cap, size_t *count_out, const char *text,
                                 size_t len, pinset_pin_kind kind, pinset_diag *diag)
{
    /* Each element is bounded, so the whole list is too: refuse early without scanning. */
    const size_t max_len = (size_t)PINSET_MAX_PIN_LIST * (PINSET_MAX_PIN_TEXT + 1);
    size_t count = 0;
    size_t b = 0;
    pinset_err err;

    if (count_out != NULL) {
        *count_out = 0;
    }
    if (count_out == NULL || text == NULL || (out == NULL && cap != 0) || !kind_valid(kind)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument or invalid kind");
    }
    if (len > max_len) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "pin list is %zu bytes, the limit is %zu", len,
                           max_len);
    }
    for (;;) {
        const char *semi = memchr(text + b, ';', len - b);
        size_t e = semi != NULL ? (size_t)(semi - text) : len;
        pinset_pin pin;

        if (count >= PINSET_MAX_PIN_LIST) {
            pinset__diag_pos(diag, count, 0, 0, 0);
            return PINSET_DIAG(diag, PINSET_E_LIMIT, "pin list has more than %d pins",
                               PINSET_MAX_PIN_LIST);
        }
        memset(&pin, 0, sizeof(pin));
        pin.kind = kind;
        err = parse_element(&pin, text, b, e, count, diag);
        if (err != PINSET_OK) {
            return err;
        }
        if (count < cap) {
            out[count] = pin;
        }
        count++;
        if (semi == NULL) {
            break;
        }
        b = e + 1;
    }
    if (count > cap) {
        /* Tell the caller how many slots the whole list needs. */
        *count_out = count;
        pinset__diag_pos(diag, cap, 0, 0, 0);
        return PINSET_DIAG(diag, PINSET_E_BUFFER_TOO_SMALL, "%zu pins do not fit in %zu slots",
                           count, cap);
    }
    pinset__diag_pos(diag, SIZE_MAX, 0, 0, 0);
    *count_out = count;
    return PINSET_OK;
}

/* ---- formatting ---- */

/* Write the text form into tmp (at least PINSET_PIN_STR_MAX bytes); return its length. */
static size_t format_into(char *tmp, const pinset_pin *pin, pinset_pin_fmt fmt)
{
    static const char *const prefix[] = {
        [PINSET_PIN_FMT_BASE64] = "",
        [PINSET_PIN_FMT_HPKP] = "pin-sha256=\"",
        [PINSET_PIN_FMT_CURL] = "sha256//",
        [PINSET_PIN_FMT_OKHTTP] = "sha256/",
    };
    size_t n = 0;
    size_t i;

    switch (fmt) {
    case PINSET_PIN_FMT_BASE64:
    case PINSET_PIN_FMT_HPKP:
    case PINSET_PIN_FMT_CURL:
    case PINSET_PIN_FMT_OKHTTP:
        n = strlen(prefix[fmt]);
        memcpy(tmp, prefix[fmt], n);
        n += (size_t)EVP_EncodeBlock((unsigned char *)tmp + n, pin->sha256, PINSET_PIN_LEN);
        if (fmt == PINSET_PIN_FMT_HPKP) {
            tmp[n++] = '"';
        }
        break;
    case PINSET_PIN_FMT_HEX:
        for (i = 0; i < PINSET_PIN_LEN; i++) {
            tmp[n++] = hex_lower[pin->sha256[i] >> 4];
            tmp[n++] = hex_lower[pin->sha256[i] & 0xf];
        }
        break;
    case PINSET_PIN_FMT_HEX_COLON:
        for (i = 0; i < PINSET_PIN_LEN; i++) {
            if (i > 0) {
                tmp[n++] = ':';
            }
            tmp[n++] = hex_upper[pin->sha256[i] >> 4];
            tmp[n++] = hex_upper[pin->sha256[i] & 0xf];
        }
        break;
    default:
        return 0;
    }
    tmp[n] = '\0';
    return n;
}

pinset_err pinset_pin_format(char *buf, size_t cap, const pinset_pin *pin, pinset_pin_fmt fmt)
{
    char tmp[PINSET_PIN_STR_MAX];
    size_t n;

    if (buf != NULL && cap > 0) {
        buf[0] = '\0';
    }
    if ((buf == NULL && cap != 0) || pin == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    n = format_into(tmp, pin, fmt);
    if (n == 0) {
        return PINSET_E_INVALID_ARG;
    }
    if (n + 1 > cap) {
        return PINSET_E_BUFFER_TOO_SMALL;
    }
    memcpy(buf, tmp, n + 1);
    return PINSET_OK;
}

int pinset_pin_equal(const pinset_pin *a, const pinset_pin *b)
{
    int same_digest;

    if (a == NULL || b == NULL) {
        return 0;
    }
    same_digest = CRYPTO_memcmp(a->sha256, b->sha256, PINSET_PIN_LEN) == 0;
    return same_digest & (a->kind == b->kind);
}

/* ---- computing pins (call between ERR_set_mark and ERR_pop_to_mark) ---- */

static pinset_err sha256(uint8_t out[PINSET_PIN_LEN], const uint8_t *data, size_t len,
                         pinset_diag *diag)
{
    if (!pinset__sha256(out, data, len, NULL, NULL)) {
        return PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, "sha256");
    }
    return PINSET_OK;
}

/* A DER input's size: not empty, within PINSET_MAX_DER_SIZE. */
static pinset_err der_size_ok(size_t len, pinset_diag *diag)
{
    if (len == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "empty input");
    }
    if (len > PINSET_MAX_DER_SIZE) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT,
                           "input of %zu bytes exceeds the limit of %zu bytes", len,
                           PINSET_MAX_DER_SIZE);
    }
    return PINSET_OK;
}

pinset_err pinset_pin_from_spki_der(pinset_pin *out, const uint8_t *der, size_t len,
                                    pinset_diag *diag)
{
    const unsigned char *p = der;
    EVP_PKEY *key;
    pinset_pin pin;
    pinset_err err;

    if (out == NULL || der == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
    }
    err = der_size_ok(len, diag);
    if (err != PINSET_OK) {
        return err;
    }
    ERR_set_mark();
    key = d2i_PUBKEY(NULL, &p, (long)len);
    if (key == NULL) {
        return PINSET_DIAG_OSSL(diag, PINSET_E_PARSE,
                                "not a subjectpublickeyinfo openssl can decode");
    }
    EVP_PKEY_free(key);
    if (p != der + len) {
        ERR_pop_to_mark();
        pinset__diag_offset(diag, (size_t)(p - der));
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "%zu trailing bytes after the subjectpublickeyinfo",
                           (size_t)(der + len - p));
    }
    memset(&pin, 0, sizeof(pin));
    pin.kind = PINSET_PIN_SPKI;
    err = sha256(pin.sha256, der, len, diag);
    if (err != PINSET_OK) {
        return err;
    }
    ERR_pop_to_mark();
    *out = pin;
    return PINSET_OK;
}

pinset_err pinset_pin_from_cert_der(pinset_pin *out, const uint8_t *der, size_t len,
                                    pinset_pin_kind kind, pinset_diag *diag)
{
    const unsigned char *p = der;
    X509 *cert;
    pinset_err err;

    if (out == NULL || der == NULL || !kind_valid(kind)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument or invalid kind");
    }
    err = der_size_ok(len, diag);
    if (err != PINSET_OK) {
        return err;
    }
    ERR_set_mark();
    cert = d2i_X509(NULL, &p, (long)len);
    if (cert == NULL) {
        return PINSET_DIAG_OSSL(diag, PINSET_E_PARSE, "not a der certificate openssl can decode");
    }
    if (p != der + len) {
        ERR_pop_to_mark();
        pinset__diag_offset(diag, (size_t)(p - der));
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "%zu trailing bytes after the certificate",
                          (size_t)(der + len - p));
        goto out;
    }
    if (kind == PINSET_PIN_CERT) {
        pinset_pin pin;

        /* The bytes given, which are the bytes a peer sends. */
        memset(&pin, 0, sizeof(pin));
        pin.kind = PINSET_PIN_CERT;
        err = sha256(pin.sha256, der, len, diag);
        if (err == PINSET_OK) {
            ERR_pop_to_mark();
            *out = pin;
        }
        goto out;
    }
    err = pinset__pin_of_x509(out, cert, kind, diag);
out:
    X509_free(cert);
    return err;
}
