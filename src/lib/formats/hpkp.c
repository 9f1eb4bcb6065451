/*
 * hpkp.c - HTTP Public Key Pinning headers (RFC 7469), in and out of the
 * model: `Public-Key-Pins` / `Public-Key-Pins-Report-Only`, with or without
 * the header name. docs/formats.md states every choice made here, and where
 * it follows Chromium's or Firefox's parser when they disagree.
 */
#include <stdio.h>

#include <pinset/convert.h>

#include "formats/formats.h"
#include "policy/uri.h"
#include "util/buf.h"

#define NAME_PKP    "Public-Key-Pins"
#define NAME_PKP_RO "Public-Key-Pins-Report-Only"

/* One directive as read: its name and its value (unquoted), with offsets for errors. */
struct directive {
    const char *name;
    size_t name_len, at;
    char value[PINSET_MAX_HPKP_HEADER + 1];
    size_t value_len, value_at;
    int has_value, quoted;
};

/* What the header says, before it becomes a rule. */
struct header {
    int report_only;
    int has_max_age, subdomains, has_uri;
    uint64_t max_age; /* saturates at UINT32_MAX: far past any cap */
    char uri[PINSET_URI_MAX + 1];
    pinset_pin pins[PINSET_MAX_PINS_PER_RULE];
    size_t npins;
};

struct hctx {
    const char *s;
    size_t n, i;
    pinset_diag *diag;
    pinset_fidelity *f;
    const char *host;
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int eq_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower((unsigned char)s[i]) != lower((unsigned char)word[i])) {
            return 0;
        }
    }
    return 1;
}

/* RFC 7230 section 3.2.6: tchar. */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static pinset_err fail_at(struct hctx *c, pinset_err err, size_t at, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Fail with the reason and the byte offset where it happened. */
static pinset_err fail_at(struct hctx *c, pinset_err err, size_t at, const char *fmt, ...)
{
    char msg[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)PINSET_DIAG(c->diag, err, "%s", msg);
    pinset__diag_offset(c->diag, at);
    return err;
}

static void skip_ows(struct hctx *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t')) {
        c->i++;
    }
}

static size_t token(struct hctx *c)
{
    size_t start = c->i;

    while (c->i < c->n && is_tchar((unsigned char)c->s[c->i])) {
        c->i++;
    }
    return c->i - start;
}

/* RFC 7230 section 3.2.6: quoted-string, unescaped into d->value. */
static pinset_err quoted_string(struct hctx *c, struct directive *d)
{
    size_t start = c->i++;

    d->value_len = 0;
    while (c->i < c->n && c->s[c->i] != '"') {
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch == '\\') {
            if (++c->i == c->n) {
                break;
            }
            ch = (unsigned char)c->s[c->i];
        }
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return fail_at(c, PINSET_E_PARSE, c->i, "control character in a quoted string");
        }
        d->value[d->value_len++] = (char)ch;
        c->i++;
    }
    if (c->i >= c->n) {
        return fail_at(c, PINSET_E_PARSE, start, "unterminated quoted string");
    }
    c->i++;
    d->value[d->value_len] = '\0';
    d->quoted = 1;
    return PINSET_OK;
}

/* directive = directive-name [ OWS "=" OWS ( token / quoted-string ) ] (RFC 7469 section 2.1) */
static pinset_err read_directive(struct hctx *c, struct directive *d)
{
    d->at = c->i;
    d->name = c->s + c->i;
    d->name_len = token(c);
    d->has_value = d->quoted = 0;
    d->value_len = 0;
    d->value[0] = '\0';
    if (d->name_len == 0) {
        return fail_at(c, PINSET_E_PARSE, c->i, "expected a directive name");
    }
    skip_ows(c);
    if (c->i < c->n && c->s[c->i] == '=') {
        c->i++;
        skip_ows(c);
        d->has_value = 1;
        d->value_at = c->i;
        if (c->i < c->n && c->s[c->i] == '"') {
            pinset_err err = quoted_string(c, d);
            if (err != PINSET_OK) {
                return err;
            }
        } else {
            size_t start = c->i, k = token(c);
            if (k == 0) {
                return fail_at(c, PINSET_E_PARSE, c->i,
                               "expected a value (a token or a quoted string) after '='");
            }
            memcpy(d->value, c->s + start, k);
            d->value[k] = '\0';
            d->value_len = k;
            if (eq_nocase(d->name, d->name_len, "pin-sha256") ||
                eq_nocase(d->name, d->name_len, "report-uri")) {
                return fail_at(c, PINSET_E_PARSE, d->at,
                               "%.*s wants a quoted string (RFC 7469 section 2.1)",
                               (int)d->name_len, d->name);
            }
        }
        skip_ows(c);
    }
    if (c->i < c->n && c->s[c->i] != ';') {
        return fail_at(c, PINSET_E_PARSE, c->i, "expected ';' or the end after a directive");
    }
    return PINSET_OK;
}

/* RFC 7469 section 2.1.2: delta-seconds, saturating so that a huge value cannot overflow. */
static pinset_err max_age(struct hctx *c, const struct directive *d, struct header *h)
{
    if (!d->has_value || d->value_len == 0) {
        return fail_at(c, PINSET_E_PARSE, d->at, "max-age needs a value");
    }
    h->max_age = 0;
    for (size_t i = 0; i < d->value_len; i++) {
        if (d->value[i] < '0' || d->value[i] > '9') {
            return fail_at(c, PINSET_E_PARSE, d->value_at,
                           "max-age wants delta-seconds (digits only), got '%.40s'", d->value);
        }
        h->max_age = h->max_age * 10 + (uint64_t)(d->value[i] - '0');
        if (h->max_age > UINT32_MAX) {
            h->max_age = UINT32_MAX;
        }
    }
    h->has_max_age = 1;
    return PINSET_OK;
}

static int b64_value(char ch)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = ch != '\0' ? strchr(a, ch) : NULL;

    return p == NULL ? -1 : (int)(p - a);
}

/*
 * RFC 7469 section 2.1.1: pin-sha256 = quoted-string of base64. Firefox's
 * decoder accepts the last character's two unused bits set (its test's
 * "ZZZ...Z=" pin); so do we, and store the canonical value.
 */
static pinset_err pin_sha256(struct hctx *c, struct directive *d, struct header *h)
{
    pinset_diag pd = PINSET_DIAG_INIT;
    pinset_pin pin;
    int v, noncanonical = 0;

    if (!d->has_value || !d->quoted) {
        return fail_at(c, PINSET_E_PARSE, d->at,
                       "pin-sha256 wants a quoted string (RFC 7469 section 2.1.1)");
    }
    if (d->value_len == 44 && d->value[43] == '=' && (v = b64_value(d->value[42])) >= 0 &&
        (v & 3) != 0) {
        d->value[42] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[v & ~3];
        noncanonical = 1;
    }
    if (pinset_pin_parse(&pin, d->value, d->value_len, PINSET_PIN_SPKI, &pd) != PINSET_OK ||
        d->value_len != 44) {
        return fail_at(c, PINSET_E_PARSE, d->value_at,
                       "pin-sha256 is not the base64 of a sha-256 digest: %s",
                       pd.message[0] != '\0' ? pd.message : "44 characters expected");
    }
    for (size_t i = 0; i < h->npins; i++) {
        if (pinset_pin_equal(&h->pins[i], &pin)) {
            return PINSET_OK; /* a pin named twice counts once (Chromium, Firefox) */
        }
    }
    if (h->npins == PINSET_ARRAY_SIZE(h->pins)) {
        return fail_at(c, PINSET_E_LIMIT, d->at, "more than 256 pins");
    }
    h->pins[h->npins++] = pin;
    if (noncanonical) {
        char field[32];
        (void)snprintf(field, sizeof(field), "pins[%zu]", h->npins - 1);
        return pinset__fidelity_add(c->f, 0, c->host, field,
                                    "non-canonical base64 (unused bits set, as Firefox accepts): "
                                    "stored in canonical form");
    }
    return PINSET_OK;
}

static pinset_err report_uri(struct hctx *c, const struct directive *d, struct header *h)
{
    struct pinset__uri u;
    pinset_diag ud = PINSET_DIAG_INIT;

    if (!d->has_value || !d->quoted) {
        return fail_at(c, PINSET_E_PARSE, d->at,
                       "report-uri wants a quoted string (RFC 7469 section 2.1.4)");
    }
    if (d->value_len > PINSET_URI_MAX ||
        pinset__uri_parse(&u, d->value, d->value_len, &ud) != PINSET_OK) {
        return fail_at(c, PINSET_E_PARSE, d->value_at, "report-uri is not an http(s) uri: %s",
                       ud.message[0] != '\0' ? ud.message : "too long");
    }
    memcpy(h->uri, d->value, d->value_len + 1);
    h->has_uri = 1;
    return PINSET_OK;
}

static pinset_err once(struct hctx *c, const struct directive *d, int *seen)
{
    if (*seen) {
        char name[32];
        (void)snprintf(name, sizeof(name), "%.*s", (int)(d->name_len > 30 ? 30 : d->name_len),
                       d->name);
        return fail_at(c, PINSET_E_PARSE, d->at, "duplicate directive '%s' (RFC 7469 section 2.1)",
                       name);
    }
    *seen = 1;
    return PINSET_OK;
}

static pinset_err apply(struct hctx *c, struct directive *d, struct header *h, int seen[3])
{
    pinset_err err;

    if (eq_nocase(d->name, d->name_len, "max-age")) {
        err = once(c, d, &seen[0]);
        return err != PINSET_OK ? err : max_age(c, d, h);
    }
    if (eq_nocase(d->name, d->name_len, "includesubdomains")) {
        err = once(c, d, &seen[1]);
        if (err == PINSET_OK && d->has_value) {
            err = fail_at(c, PINSET_E_PARSE, d->at, "includeSubDomains takes no value");
        }
        h->subdomains = 1;
        return err;
    }
    if (eq_nocase(d->name, d->name_len, "report-uri")) {
        err = once(c, d, &seen[2]);
        return err != PINSET_OK ? err : report_uri(c, d, h);
    }
    if (eq_nocase(d->name, d->name_len, "pin-sha256")) {
        return pin_sha256(c, d, h);
    }
    /* RFC 7469 section 2.1: UAs MUST ignore directives they do not recognise */
    return pinset__fidelity_add(c->f, 0, c->host, "directive",
                                "unknown directive '%.*s' ignored (RFC 7469 section 2.1)",
                                (int)(d->name_len > 40 ? 40 : d->name_len), d->name);
}

/* The optional header name: "Public-Key-Pins:" or "Public-Key-Pins-Report-Only:". */
static pinset_err header_name(struct hctx *c, struct header *h)
{
    size_t start, k;

    skip_ows(c);
    start = c->i;
    k = token(c);
    if (c->i < c->n && c->s[c->i] == ':') {
        if (eq_nocase(c->s + start, k, NAME_PKP_RO)) {
            h->report_only = 1;
        } else if (!eq_nocase(c->s + start, k, NAME_PKP)) {
            char name[48];
            (void)snprintf(name, sizeof(name), "%.*s", (int)(k > 40 ? 40 : k), c->s + start);
            return fail_at(c, PINSET_E_PARSE, start,
                           "not an HPKP header: '%s' (Public-Key-Pins or "
                           "Public-Key-Pins-Report-Only)",
                           name);
        }
        c->i++;
        return PINSET_OK;
    }
    c->i = start; /* no name: the value of a Public-Key-Pins header */
    return PINSET_OK;
}

/* Size, NUL and CR/LF: one header, one line (a trailing line end is allowed). */
static pinset_err frame(struct hctx *c)
{
    if (c->n > PINSET_MAX_HPKP_HEADER) {
        return fail_at(c, PINSET_E_LIMIT, PINSET_MAX_HPKP_HEADER,
                       "an HPKP header is at most 8192 octets");
    }
    if (c->n > 0 && c->s[c->n - 1] == '\n') {
        c->n--;
        if (c->n > 0 && c->s[c->n - 1] == '\r') {
            c->n--;
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->s[i] == '\r' || c->s[i] == '\n') {
            return fail_at(c, PINSET_E_PARSE, i,
                           "CR or LF inside the header: one header per input, no folded or "
                           "injected lines");
        }
        if (c->s[i] == '\0') {
            return fail_at(c, PINSET_E_PARSE, i, "NUL byte in the header");
        }
    }
    return PINSET_OK;
}

static pinset_err read_header(struct hctx *c, struct header *h)
{
    struct directive *d = pinset__alloc(sizeof(*d));
    int seen[3] = {0, 0, 0};
    pinset_err err;

    if (d == NULL) {
        return PINSET_DIAG(c->diag, PINSET_E_NOMEM, "out of memory");
    }
    err = frame(c);
    if (err == PINSET_OK) {
        err = header_name(c, h);
    }
    while (err == PINSET_OK) {
        skip_ows(c);
        if (c->i >= c->n) {
            break;
        }
        if (c->s[c->i] == ';') {
            c->i++; /* empty directives: *( ";" ) in RFC 7469's grammar */
            continue;
        }
        err = read_directive(c, d);
        if (err == PINSET_OK) {
            err = apply(c, d, h, seen);
        }
    }
    pinset__free(d);
    if (err == PINSET_E_NOMEM && c->diag != NULL && c->diag->code == PINSET_OK) {
        (void)PINSET_DIAG(c->diag, err, "out of memory");
    }
    return err;
}

/* RFC 7469 sections 2.1.2 and 4.3: what a header must hold to pin. */
static pinset_err validate(struct hctx *c, const struct header *h)
{
    if (!h->report_only && !h->has_max_age) {
        return fail_at(c, PINSET_E_PARSE, 0,
                       "missing max-age: a Public-Key-Pins header requires it (RFC 7469 section "
                       "2.1.2)");
    }
    if (!h->report_only && h->max_age == 0) {
        return PINSET_OK; /* max-age=0 removes the pins: no pin needed */
    }
    if (h->npins == 0) {
        return fail_at(c, PINSET_E_PARSE, 0, "no pin-sha256 directive (RFC 7469 section 2.1.1)");
    }
    if (!h->report_only && h->npins < 2) {
        return fail_at(c, PINSET_E_PARSE, 0,
                       "one distinct pin: a Public-Key-Pins header needs a backup pin, at least "
                       "two distinct pin-sha256 (RFC 7469 section 4.3)");
    }
    return PINSET_OK;
}

static pinset_err lose_max_age(struct hctx *c, const struct header *h)
{
    if (!h->has_max_age) {
        return PINSET_OK;
    }
    if (h->report_only) {
        return pinset__fidelity_add(c->f, 0, c->host, "max_age",
                                    "Public-Key-Pins-Report-Only ignores max-age=%llu: not kept",
                                    (unsigned long long)h->max_age);
    }
    return pinset__fidelity_add(c->f, 0, c->host, "max_age",
                                "HPKP max-age=%llu counts from the last time the header was "
                                "seen: the rule does not expire (give a time to map it)",
                                (unsigned long long)h->max_age);
}

static pinset_err build_rule(struct hctx *c, pinset_policy *p, const struct header *h,
                             const pinset_convert_options *opts)
{
    struct pinset_rule *r;
    pinset_err err;
    int added;

    if (!h->report_only && h->max_age == 0) {
        /*
         * RFC 7469 section 2.1.2: max-age=0 tells the browser to forget the
         * host's pins: the host is not pinned, so the policy has no rule (an
         * exclusion would need a parent rule to take the host out of).
         */
        return pinset__fidelity_add(
            c->f, SIZE_MAX, c->host, "max_age",
            "max-age=0 removes the host's pins: no rule for the host%s",
            h->npins > 0 || h->has_uri ? "; its pins and report-uri are not kept" : "");
    }
    r = pinset__policy_add_rule(p);
    if (r == NULL) {
        return PINSET_DIAG(c->diag, PINSET_E_NOMEM, "out of memory");
    }
    err = pinset__fmt_rule_host(p, r, opts->host, c->diag);
    if (err != PINSET_OK) {
        return err;
    }
    if (h->subdomains && r->host_type != PINSET_HOST_DNS) {
        return PINSET_DIAG(c->diag, PINSET_E_PARSE,
                           "includeSubDomains: an ip address has no subdomains");
    }
    r->flags = h->subdomains ? RULE_F_SUBDOMAINS : 0;
    r->mode = (uint8_t)(h->report_only ? PINSET_MODE_REPORT : PINSET_MODE_ENFORCE);
    r->min_pins = h->report_only ? 1 : 2;
    for (size_t i = 0; i < h->npins && err == PINSET_OK; i++) {
        err = pinset__fmt_add_pin(p, r, &h->pins[i], PINSET_ROLE_ANY, &added);
    }
    if (err == PINSET_OK && h->has_uri) {
        uint32_t *u = pinset__policy_add_uri(p);
        err = u == NULL ? PINSET_E_NOMEM : pinset__policy_add_str(p, u, h->uri, strlen(h->uri));
        if (err == PINSET_OK) {
            r->uris_first = (uint32_t)(p->nuris - 1);
            r->uris_count = 1;
        }
    }
    if (err != PINSET_OK) {
        return PINSET_DIAG(c->diag, err, "out of memory");
    }
    if (h->report_only || !h->has_max_age || opts->now == 0) {
        return lose_max_age(c, h);
    }
    r->expires =
        opts->now +
        (int64_t)(h->max_age > PINSET_HPKP_MAX_AGE_CAP ? PINSET_HPKP_MAX_AGE_CAP : h->max_age);
    r->on_expiry = PINSET_ON_EXPIRY_FAIL_OPEN;
    if (h->max_age > PINSET_HPKP_MAX_AGE_CAP) {
        return pinset__fidelity_add(c->f, 0, c->host, "max_age",
                                    "max-age=%llu capped at 5184000 (60 days), as browsers do",
                                    (unsigned long long)h->max_age);
    }
    return PINSET_OK;
}

pinset_err pinset__hpkp_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf, size_t len,
                               const pinset_convert_options *opts, pinset_diag *diag)
{
    struct hctx c = {(const char *)buf, len, 0, diag, f, NULL};
    struct header *h;
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;
    pinset_err err;

    if (opts->host == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "an HPKP header names no host: the host option is required");
    }
    if (pinset_host_canon(canon, sizeof(canon), &type, opts->host, strlen(opts->host), NULL) ==
        PINSET_OK) {
        c.host = canon;
    }
    h = pinset__alloc(sizeof(*h));
    if (h == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    err = read_header(&c, h);
    if (err == PINSET_OK) {
        err = validate(&c, h);
    }
    if (err == PINSET_OK) {
        err = build_rule(&c, p, h, opts);
    }
    if (err == PINSET_E_NOMEM && diag != NULL && diag->code == PINSET_OK) {
        (void)PINSET_DIAG(diag, err, "out of memory");
    }
    pinset__free(h);
    return err;
}

/* ---- export ---- */

static pinset_err put(struct pinset__buf *b, const char *s)
{
    return pinset__buf_append(b, s, strlen(s));
}

/* A quoted-string: '"' and '\' escaped (RFC 7230 section 3.2.6). */
static pinset_err put_quoted(struct pinset__buf *b, const char *s)
{
    pinset_err err = put(b, "\"");

    for (; *s != '\0' && err == PINSET_OK; s++) {
        if (*s == '"' || *s == '\\') {
            err = put(b, "\\");
        }
        if (err == PINSET_OK) {
            err = pinset__buf_append(b, s, 1);
        }
    }
    return err == PINSET_OK ? put(b, "\"") : err;
}

static const char *const role_why[] = {
    NULL,
    "HPKP pins match any certificate of the chain: role 'leaf' is not kept",
    "HPKP pins match any certificate of the chain: role 'ca' is not kept",
    "HPKP has no backup role (a backup is a pin the chain does not hold yet): written as a "
    "plain pin",
};

/* The pins HPKP can carry, written as pin-sha256 directives; the rest goes to the list. */
static pinset_err put_pins(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r,
                           struct pinset__buf *b, size_t *written)
{
    const char *host = pinset__policy_str(p, r->host);
    char field[48], b64[PINSET_PIN_STR_MAX];
    pinset_err err = PINSET_OK;

    *written = 0;
    for (size_t i = 0; i < pinset__fmt_pin_count(p, r) && err == PINSET_OK; i++) {
        const struct pinset__pin_entry *e = pinset__fmt_pin(p, r, i);
        (void)snprintf(field, sizeof(field), "pins[%zu]", i);
        if (e->pin.kind != PINSET_PIN_SPKI) {
            err = pinset__fidelity_add(f, r->index, host, field,
                                       "HPKP pins are SPKI hashes: a cert pin cannot be written");
            continue;
        }
        if (e->role != PINSET_ROLE_ANY && e->role < PINSET_ARRAY_SIZE(role_why)) {
            (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
            err = pinset__fidelity_add(f, r->index, host, field, "%s", role_why[e->role]);
        }
        if (err == PINSET_OK && e->not_after != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].not_after", i);
            err =
                pinset__fidelity_add(f, r->index, host, field, "HPKP has no expiry date for a pin");
        }
        if (err == PINSET_OK) {
            err = pinset_pin_format(b64, sizeof(b64), &e->pin, PINSET_PIN_FMT_BASE64);
        }
        if (err == PINSET_OK) {
            err = put(b, b->len >= 2 && b->p[b->len - 1] == ' ' && b->p[b->len - 2] == ':'
                             ? "pin-sha256=\""
                             : "; pin-sha256=\"");
        }
        if (err == PINSET_OK) {
            err = put(b, b64);
        }
        if (err == PINSET_OK) {
            err = put(b, "\"");
            (*written)++;
        }
    }
    return err;
}

/* max-age: from expires when a time is given, else the option (or 60 days). */
static pinset_err put_max_age(pinset_fidelity *f, const pinset_policy *p,
                              const struct pinset_rule *r, const pinset_convert_options *opts,
                              struct pinset__buf *b)
{
    const char *host = pinset__policy_str(p, r->host);
    int64_t age = opts->max_age > 0 ? opts->max_age : PINSET_HPKP_MAX_AGE_CAP;
    char num[32];
    pinset_err err = PINSET_OK;

    if (r->expires != 0 && opts->now > 0) {
        age = r->expires > opts->now ? r->expires - opts->now : 0;
        if (r->on_expiry != PINSET_ON_EXPIRY_FAIL_OPEN) {
            err = pinset__fidelity_add(f, r->index, host, "on_expiry",
                                       "HPKP pins lapse when max-age passes (fail-open): "
                                       "on_expiry '%s' is not kept",
                                       pinset_on_expiry_name((pinset_on_expiry)r->on_expiry));
        }
    } else if (r->expires != 0) {
        err = pinset__fidelity_add(f, r->index, host, "expires",
                                   "HPKP has no expiry date, only max-age: max-age=%lld written "
                                   "(give a time to map the expiry)",
                                   (long long)age);
    }
    (void)snprintf(num, sizeof(num), "max-age=%lld", (long long)age);
    return err == PINSET_OK ? put(b, num) : err;
}

/*
 * The first report URI the HPKP importer (and lint's grammar) accepts, as
 * report-uri: HPKP takes one; the others are listed.
 */
static pinset_err put_uris(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r,
                           struct pinset__buf *b)
{
    const char *host = pinset__policy_str(p, r->host);
    pinset_err err = PINSET_OK;
    int written = 0;

    for (size_t i = 0; i < r->uris_count && err == PINSET_OK; i++) {
        const char *uri = pinset__policy_str(p, p->uris[r->uris_first + i]);
        struct pinset__uri u;
        char field[32];
        (void)snprintf(field, sizeof(field), "report_uris[%zu]", i);
        if (written) {
            err = pinset__fidelity_add(f, r->index, host, field,
                                       "HPKP takes one report-uri: this one is not written");
        } else if (pinset__uri_parse(&u, uri, strlen(uri), NULL) != PINSET_OK) {
            err = pinset__fidelity_add(f, r->index, host, field,
                                       "not an absolute http(s) uri (RFC 3986): not written");
        } else {
            err = put(b, "; report-uri=");
            err = err == PINSET_OK ? put_quoted(b, uri) : err;
            written = 1;
        }
    }
    return err;
}

static pinset_err put_rule(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r,
                           const pinset_convert_options *opts, struct pinset__buf *b,
                           pinset_diag *diag)
{
    const char *host = pinset__policy_str(p, r->host);
    size_t npins = 0;
    pinset_err err = PINSET_OK;

    if (r->flags & RULE_F_ONE_LABEL) {
        /* a header pins the host that sends it (and, with includeSubDomains, all below) */
        return pinset__fidelity_add(f, r->index, host, "include_subdomains",
                                    "HPKP cannot pin only the names one label below a host: "
                                    "the one-label rule is not written");
    }
    if (opts->host == NULL) {
        err = pinset__fidelity_add(f, r->index, host, "host",
                                   "HPKP has no host: the header applies to the host that sends "
                                   "it");
    }
    if (err == PINSET_OK && (r->flags & RULE_F_EXCLUDE)) {
        /* RFC 7469 section 2.1.2: max-age=0 tells a browser to forget the host's pins */
        err = pinset__fidelity_add(f, r->index, host, "exclude",
                                   "HPKP has no exclusions: written as max-age=0, which makes a "
                                   "browser forget the host's pins (read back: no rule)");
        if (err == PINSET_OK) {
            err = put(b, NAME_PKP ": max-age=0");
        }
        if (err == PINSET_OK && (r->flags & RULE_F_SUBDOMAINS)) {
            err = put(b, "; includeSubDomains");
        }
        return err == PINSET_OK ? put(b, "\n") : err;
    }
    if (err == PINSET_OK) {
        err = put(b, r->mode == PINSET_MODE_REPORT ? NAME_PKP_RO ": " : NAME_PKP ": ");
    }
    if (err == PINSET_OK && r->mode == PINSET_MODE_REPORT && r->expires != 0) {
        err = pinset__fidelity_add(f, r->index, host, "expires",
                                   "Public-Key-Pins-Report-Only has no lifetime: the expiry is "
                                   "not kept");
    }
    if (err == PINSET_OK && r->mode != PINSET_MODE_REPORT) {
        err = put_max_age(f, p, r, opts, b);
    }
    if (err == PINSET_OK) {
        err = put_pins(f, p, r, b, &npins);
    }
    if (err == PINSET_OK && npins == 0) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "rule %u (%s): no pin HPKP can carry (HPKP pins are SPKI hashes)",
                           (unsigned)r->index, host);
    }
    if (err == PINSET_OK && r->mode != PINSET_MODE_REPORT && npins < 2) {
        err = pinset__fidelity_add(f, r->index, host, "pins",
                                   "HPKP requires a backup pin (RFC 7469 section 4.3): browsers "
                                   "ignore a header with one pin");
    }
    if (err == PINSET_OK && r->min_pins != (r->mode == PINSET_MODE_REPORT ? 1 : 2)) {
        err = pinset__fidelity_add(f, r->index, host, "min_pins",
                                   "HPKP has no min_pins: %u is not kept", (unsigned)r->min_pins);
    }
    if (err == PINSET_OK && (r->flags & RULE_F_SUBDOMAINS)) {
        err = put(b, "; includeSubDomains");
    }
    if (err == PINSET_OK && r->uris_count > 0) {
        err = put_uris(f, p, r, b);
    }
    if (err == PINSET_OK) {
        err = pinset__fmt_lose_common(f, p, r, "HPKP");
    }
    return err == PINSET_OK ? put(b, "\n") : err;
}

pinset_err pinset__hpkp_export(pinset_fidelity *f, const pinset_policy *p,
                               const pinset_convert_options *opts, struct pinset__buf *out,
                               pinset_diag *diag)
{
    size_t first, count;
    pinset_err err = pinset__fmt_select(p, opts, &first, &count, diag);

    for (size_t i = first; i < first + count && err == PINSET_OK; i++) {
        err = put_rule(f, p, &p->rules[i], opts, out, diag);
    }
    return err;
}
