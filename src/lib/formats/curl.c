/*
 * curl.c - curl's --pinnedpubkey / CURLOPT_PINNEDPUBLICKEY lists,
 * `sha256//A;sha256//B`, in and out of the model.
 *
 * curl (lib/vtls/vtls.c, Curl_pin_peer_pubkey) treats a value as a list only
 * when it starts with "sha256//", splits it at each ";sha256//", and compares
 * every element's text with the base64 of the leaf key's SHA-256 digest. So
 * an element with whitespace, a stray ';', base64url, missing padding or
 * unused bits set can never match: the importer refuses each of them, with
 * its byte offset, rather than accept a pin curl would never honour.
 */
#include <stdio.h>

#include <pinset/convert.h>

#include "formats/formats.h"
#include "util/buf.h"

#define PREFIX     "sha256//"
#define PREFIX_LEN 8
#define B64_LEN    44

static pinset_err fail_at(pinset_diag *diag, pinset_err err, size_t at, const char *msg)
{
    (void)PINSET_DIAG(diag, err, "%s", msg);
    pinset__diag_offset(diag, at);
    return err;
}

static int is_b64(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/' || ch == '=';
}

/* Why the character at s[i] can never be part of a pin curl matches. */
static const char *why_not(char ch)
{
    if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f') {
        return "whitespace in a curl pin list never matches: curl splits at ';sha256//' exactly "
               "and compares the text";
    }
    if (ch == ';') {
        return "';' not followed by 'sha256//': curl reads it as part of the pin, which then "
               "never matches";
    }
    if (ch == '-' || ch == '_') {
        return "base64url never matches: curl compares with standard base64";
    }
    if (ch == '\0') {
        return "NUL byte in a curl pin list";
    }
    return "not a base64 character: this pin never matches in curl";
}

/* One element, s[b..e) after its "sha256//": exactly curl's 44-character base64. */
static pinset_err element(const char *s, size_t b, size_t e, pinset_pin *pin, pinset_diag *diag)
{
    pinset_diag pd = PINSET_DIAG_INIT;

    for (size_t i = b; i < e; i++) {
        if (!is_b64(s[i])) {
            return fail_at(diag, PINSET_E_PARSE, i, why_not(s[i]));
        }
    }
    if (e - b != B64_LEN) {
        return fail_at(diag, PINSET_E_PARSE, b,
                       "a sha256// pin is 44 characters of base64 (curl compares the text, so "
                       "this one never matches)");
    }
    if (pinset_pin_parse(pin, s + b, e - b, PINSET_PIN_SPKI, &pd) != PINSET_OK) {
        char msg[PINSET_DIAG_MESSAGE_MAX + 64];
        (void)snprintf(msg, sizeof(msg), "%.180s (curl compares canonical base64: never matches)",
                       pd.message);
        return fail_at(diag, PINSET_E_PARSE, b, msg);
    }
    return PINSET_OK;
}

/* Where the element starting at b ends: at the next ";sha256//", or the end. */
static size_t element_end(const char *s, size_t n, size_t b)
{
    for (size_t i = b; i + 1 + PREFIX_LEN <= n; i++) {
        if (s[i] == ';' && memcmp(s + i + 1, PREFIX, PREFIX_LEN) == 0) {
            return i;
        }
    }
    return n;
}

static pinset_err read_list(pinset_policy *p, struct pinset_rule *r, const char *s, size_t n,
                            pinset_diag *diag)
{
    size_t b = PREFIX_LEN, count = 0;
    pinset_err err;
    int added;

    if (n < PREFIX_LEN || memcmp(s, PREFIX, PREFIX_LEN) != 0) {
        return fail_at(diag, PINSET_E_PARSE, 0,
                       "not a sha256// list: curl reads any other value as a file name");
    }
    for (;;) {
        size_t e = element_end(s, n, b);
        pinset_pin pin;
        err = element(s, b, e, &pin, diag);
        if (err != PINSET_OK) {
            return err;
        }
        if (++count > PINSET_MAX_PIN_LIST) {
            return fail_at(diag, PINSET_E_LIMIT, b, "more than 64 pins in a curl list");
        }
        err = pinset__fmt_add_pin(p, r, &pin, PINSET_ROLE_LEAF, &added);
        if (err != PINSET_OK) {
            return PINSET_DIAG(diag, err, "out of memory");
        }
        if (e == n) {
            return PINSET_OK;
        }
        b = e + 1 + PREFIX_LEN;
    }
}

pinset_err pinset__curl_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf, size_t len,
                               const pinset_convert_options *opts, pinset_diag *diag)
{
    const char *s = (const char *)buf;
    struct pinset_rule *r;
    pinset_err err;

    (void)f; /* a curl list holds nothing the model cannot keep */
    if (opts->host == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "a curl pin list names no host: the host option is required");
    }
    if (len > PINSET_MAX_CURL_LIST) {
        return fail_at(diag, PINSET_E_LIMIT, PINSET_MAX_CURL_LIST,
                       "a curl pin list is at most 16384 octets");
    }
    /* a file's final line ends (what `$(cat FILE)` strips) are not part of the value */
    while (len > 0 && s[len - 1] == '\n') {
        len--;
    }
    r = pinset__policy_add_rule(p);
    if (r == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    err = pinset__fmt_rule_host(p, r, opts->host, diag);
    if (err != PINSET_OK) {
        return err;
    }
    r->mode = PINSET_MODE_ENFORCE;
    r->min_pins = 2; /* the native format's default for an enforcing rule */
    return read_list(p, r, s, len, diag);
}

/* ---- export ---- */

static pinset_err lose_rule(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r,
                            const pinset_convert_options *opts)
{
    const char *host = pinset__policy_str(p, r->host);
    pinset_err err = PINSET_OK;

    if (opts->host == NULL) {
        err = pinset__fidelity_add(f, r->index, host, "host",
                                   "curl has no host: the list applies to the one host it is "
                                   "given for");
    }
    if (err == PINSET_OK && (r->flags & (RULE_F_SUBDOMAINS | RULE_F_ONE_LABEL))) {
        err = pinset__fidelity_add(f, r->index, host, "include_subdomains",
                                   "curl has no subdomains: the list applies to one host");
    }
    return err == PINSET_OK ? pinset__fmt_lose_settings(f, p, r, "curl") : err;
}

/* Whether the i-th pin goes in the list; when not (or only in part), why, in the list. */
static pinset_err judge_pin(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r,
                            size_t i, int *keep)
{
    const struct pinset__pin_entry *e = pinset__fmt_pin(p, r, i);
    const char *host = pinset__policy_str(p, r->host);
    char field[48];
    pinset_err err = PINSET_OK;

    *keep = 0;
    (void)snprintf(field, sizeof(field), "pins[%zu]", i);
    if (e->pin.kind != PINSET_PIN_SPKI) {
        return pinset__fidelity_add(f, r->index, host, field,
                                    "curl pins are leaf-key hashes: a cert pin cannot be used by "
                                    "curl");
    }
    switch ((pinset_role)e->role) {
    case PINSET_ROLE_CA:
        return pinset__fidelity_add(f, r->index, host, field,
                                    "curl checks only the leaf key: the CA pin cannot be used by "
                                    "curl");
    case PINSET_ROLE_BACKUP:
        return pinset__fidelity_add(f, r->index, host, field,
                                    "curl checks only the leaf key: the backup pin cannot be used "
                                    "by curl");
    case PINSET_ROLE_ANY:
        (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
        err = pinset__fidelity_add(f, r->index, host, field,
                                   "curl checks only the leaf key: this pin (role any) matches "
                                   "only as the leaf's key");
        break;
    case PINSET_ROLE_LEAF:
    default:
        break;
    }
    if (err == PINSET_OK && e->not_after != 0) {
        (void)snprintf(field, sizeof(field), "pins[%zu].not_after", i);
        err = pinset__fidelity_add(f, r->index, host, field, "curl has no expiry date for a pin");
    }
    *keep = 1;
    return err;
}

static pinset_err put_list(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r,
                           struct pinset__buf *b, pinset_diag *diag)
{
    char b64[PINSET_PIN_STR_MAX];
    size_t written = 0;
    pinset_err err = PINSET_OK;
    int keep;

    for (size_t i = 0; i < pinset__fmt_pin_count(p, r) && err == PINSET_OK; i++) {
        err = judge_pin(f, p, r, i, &keep);
        if (err != PINSET_OK || !keep) {
            continue;
        }
        err = pinset_pin_format(b64, sizeof(b64), &pinset__fmt_pin(p, r, i)->pin,
                                PINSET_PIN_FMT_CURL);
        if (err == PINSET_OK && written > 0) {
            err = pinset__buf_append(b, ";", 1);
        }
        if (err == PINSET_OK) {
            err = pinset__buf_append(b, b64, strlen(b64));
            written++;
        }
    }
    if (err == PINSET_OK && written == 0) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "rule %u (%s): no leaf-key pin: curl can use none of its pins",
                           (unsigned)r->index, pinset__policy_str(p, r->host));
    }
    return err == PINSET_OK ? pinset__buf_append(b, "\n", 1) : err;
}

pinset_err pinset__curl_export(pinset_fidelity *f, const pinset_policy *p,
                               const pinset_convert_options *opts, struct pinset__buf *out,
                               pinset_diag *diag)
{
    const struct pinset_rule *r;
    size_t first, count;
    pinset_err err = pinset__fmt_select(p, opts, &first, &count, diag);

    if (err != PINSET_OK) {
        return err;
    }
    if (count != 1) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "a curl list is for one host and the policy has %zu rules: name the "
                           "host",
                           count);
    }
    r = &p->rules[first];
    if (r->flags & RULE_F_EXCLUDE) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "rule %u (%s) is an exclusion: curl cannot say that a host is not "
                           "pinned",
                           (unsigned)r->index, pinset__policy_str(p, r->host));
    }
    err = lose_rule(f, p, r, opts);
    return err == PINSET_OK ? put_list(f, p, r, out, diag) : err;
}
