/*
 * okhttp.c - OkHttp's CertificatePinner (okhttp3.CertificatePinner) in and
 * out of the model: the pattern/pin list (read and written) and the
 * CertificatePinner.Builder() chain as Kotlin or Java (written only).
 *
 * OkHttp's rules, from CertificatePinner.kt (Pin's init, findMatchingPins)
 * and Okio's Base64.kt (decodeBase64ToArray):
 * - a pattern is a host, `*.host` (exactly one label below host, not host)
 *   or `**.host` (host and every name below it); a `*` anywhere else is
 *   refused ("Unexpected pattern"), and the host is canonicalised
 *   (lower case, IDN to A-labels) or refused ("Invalid pattern");
 * - a pin is `sha256/` or `sha1/` and base64 as Okio decodes it: the
 *   standard or URL-safe alphabet, trailing `=` optional, unused bits
 *   ignored; anything else is refused;
 * - a host that several patterns match needs a pin of any of them
 *   (findMatchingPins returns their union). The model gives a host one
 *   rule, so on import a narrower rule gets the pins of every broader
 *   pattern that covers it (listed).
 * docs/formats.md says what maps to what and what is lost.
 */
#include <stdlib.h>

#include "formats/formats.h"
#include "util/base64.h"
#include "util/buf.h"

/* One pin of one line: the pattern it belongs to and where it was read. */
struct entry {
    uint32_t host; /* offset of the canonical host in names */
    uint16_t host_len;
    uint8_t flags; /* 0, RULE_F_SUBDOMAINS or RULE_F_ONE_LABEL */
    uint8_t host_type;
    uint32_t seq;       /* order of reading */
    uint32_t first_seq; /* the seq of the pattern's first pin (after grouping) */
    uint8_t drop;       /* an exact pattern beside "**." for the same host: not kept */
    pinset_pin pin;
};

struct reader {
    pinset_policy *p;
    pinset_fidelity *f;
    struct pinset__buf names; /* canonical hosts, NUL-terminated */
    struct entry *e;
    size_t n, cap;
    const uint8_t *buf;
    size_t len;
    pinset_diag *diag;
};

/* Fail with msg and detail (may be ""), at the line and column of buf[at]. */
static pinset_err fail_at(struct reader *rd, pinset_err err, size_t at, const char *msg,
                          const char *detail)
{
    size_t line = 1, col = 1;

    for (size_t i = 0; i < at && i < rd->len; i++) {
        if (rd->buf[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    (void)PINSET_DIAG(rd->diag, err, "%s%s", msg, detail);
    pinset__diag_pos(rd->diag, SIZE_MAX, line, col, at);
    return err;
}

/* ---- Okio's base64 (decodeBase64ToArray), then pinset's 32 octets ---- */

/*
 * Decode s[0..n) as Okio does: trailing '=' dropped, both alphabets, a last
 * group of 2 or 3 characters keeps only its whole octets (the unused bits
 * are ignored), a last group of 1 is refused. *bad_out: the offset of the
 * first character Okio refuses, or n when the length is the problem.
 */
static int okio_decode(uint8_t out[PINSET_PIN_LEN], const uint8_t *s, size_t n, size_t *got_out,
                       size_t *bad_out)
{
    uint32_t word = 0;
    size_t in = 0, got = 0;

    while (n > 0 && s[n - 1] == '=') {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        int v = pinset__b64_digit(s[i], 1);
        if (v < 0) {
            *bad_out = i;
            return -1;
        }
        word = (word << 6) | (uint32_t)v;
        if (++in % 4 == 0) {
            for (int k = 2; k >= 0; k--) {
                if (got < PINSET_PIN_LEN) {
                    out[got] = (uint8_t)(word >> (8 * k));
                }
                got++;
            }
            word = 0;
        }
    }
    if (in % 4 == 1) {
        *bad_out = n;
        return -1;
    }
    for (size_t k = 0; k + 1 < in % 4; k++) {
        uint32_t w = word << (6 * (4 - in % 4));
        if (got < PINSET_PIN_LEN) {
            out[got] = (uint8_t)(w >> (16 - 8 * k));
        }
        got++;
    }
    *got_out = got;
    return 0;
}

static pinset_err read_pin(struct reader *rd, size_t at, size_t end, pinset_pin *pin, int *odd)
{
    const uint8_t *s = rd->buf + at;
    size_t n = end - at, got = 0, bad = 0;
    char canon[PINSET_PIN_STR_MAX];

    *odd = 0;
    if (n >= 5 && memcmp(s, "sha1/", 5) == 0) {
        return fail_at(rd, PINSET_E_UNSUPPORTED, at,
                       "sha1 pins are not supported: pinset pins are sha256 (OkHttp's 'sha1/' "
                       "form is refused)",
                       "");
    }
    if (n < 7 || memcmp(s, "sha256/", 7) != 0) {
        return fail_at(rd, PINSET_E_PARSE, at, "pins must start with 'sha256/' (OkHttp's pin form)",
                       "");
    }
    if (okio_decode(pin->sha256, s + 7, n - 7, &got, &bad) != 0) {
        return fail_at(rd, PINSET_E_PARSE, at + 7 + bad,
                       "invalid pin hash: not base64 as OkHttp (Okio) decodes it", "");
    }
    if (got != PINSET_PIN_LEN) {
        return fail_at(rd, PINSET_E_PARSE, at,
                       "invalid pin hash: a sha256 pin is 32 octets (OkHttp would accept it and "
                       "never match)",
                       "");
    }
    pin->kind = PINSET_PIN_SPKI;
    if (pinset_pin_format(canon, sizeof(canon), pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        return PINSET_E_INTERNAL;
    }
    *odd = strlen(canon) != n - 7 || memcmp(canon, s + 7, n - 7) != 0;
    return PINSET_OK;
}

/* ---- patterns ---- */

static pinset_err read_pattern(struct reader *rd, size_t at, size_t end, struct entry *e)
{
    const uint8_t *s = rd->buf + at;
    size_t n = end - at, skip = 0;
    char text[PINSET_HOST_MAX + 4], canon[PINSET_HOST_MAX];
    pinset_host_type type = PINSET_HOST_DNS;
    pinset_diag hd = PINSET_DIAG_INIT;
    pinset_err err;

    e->flags = 0;
    if (n >= 3 && memcmp(s, "**.", 3) == 0) {
        e->flags = RULE_F_SUBDOMAINS;
        skip = 3;
    } else if (n >= 2 && memcmp(s, "*.", 2) == 0) {
        e->flags = RULE_F_ONE_LABEL;
        skip = 2;
    }
    for (size_t i = skip; i < n; i++) {
        if (s[i] == '*') {
            return fail_at(rd, PINSET_E_PARSE, at + i,
                           "unexpected pattern: a wildcard is only '*.' or '**.' before the "
                           "host",
                           "");
        }
    }
    if (n - skip == 0 || n - skip >= sizeof(text)) {
        return fail_at(rd, PINSET_E_PARSE, at, "invalid pattern: no host, or too long", "");
    }
    memcpy(text, s + skip, n - skip);
    text[n - skip] = '\0';
    err = pinset_host_canon(canon, sizeof(canon), &type, text, n - skip, &hd);
    if (err != PINSET_OK) {
        return fail_at(rd, err == PINSET_E_NOMEM ? err : PINSET_E_PARSE, at,
                       "invalid pattern: ", hd.message);
    }
    if (e->flags != 0 && type != PINSET_HOST_DNS) {
        return fail_at(rd, PINSET_E_PARSE, at, "invalid pattern: an ip address has no subdomains",
                       "");
    }
    e->host = (uint32_t)rd->names.len;
    e->host_len = (uint16_t)strlen(canon);
    e->host_type = (uint8_t)type;
    err = pinset__buf_append(&rd->names, canon, strlen(canon) + 1);
    return err == PINSET_OK ? PINSET_OK : PINSET_DIAG(rd->diag, err, "out of memory");
}

static struct entry *add_entry(struct reader *rd)
{
    if (rd->n == rd->cap) {
        size_t ncap = rd->cap == 0 ? 64 : rd->cap * 2;
        struct entry *a = pinset__realloc_array(rd->e, ncap, sizeof(*a));
        if (a == NULL) {
            return NULL;
        }
        rd->e = a;
        rd->cap = ncap;
    }
    memset(&rd->e[rd->n], 0, sizeof(rd->e[0]));
    rd->e[rd->n].seq = (uint32_t)rd->n;
    return &rd->e[rd->n++];
}

static int is_sep(uint8_t c)
{
    return c == ' ' || c == '\t' || c == ',';
}

/* One line [at, end): PATTERN PIN [PIN...], separated by blanks and/or commas. */
static pinset_err read_line(struct reader *rd, size_t at, size_t end)
{
    struct entry pat;
    size_t i = at, tok, npins = 0;
    pinset_err err;

    while (i < end && (rd->buf[i] == ' ' || rd->buf[i] == '\t')) {
        i++;
    }
    if (i == end || rd->buf[i] == '#') {
        return PINSET_OK; /* blank or a comment */
    }
    for (size_t k = at; k < end; k++) {
        if (rd->buf[k] < 0x20 && rd->buf[k] != '\t') {
            return fail_at(rd, PINSET_E_PARSE, k, "control character in the list", "");
        }
    }
    tok = i;
    while (i < end && !is_sep(rd->buf[i])) {
        i++;
    }
    memset(&pat, 0, sizeof(pat));
    err = read_pattern(rd, tok, i, &pat);
    while (err == PINSET_OK) {
        struct entry *e;
        int odd = 0;
        while (i < end && is_sep(rd->buf[i])) {
            i++;
        }
        if (i == end) {
            break;
        }
        tok = i;
        while (i < end && !is_sep(rd->buf[i])) {
            i++;
        }
        if (rd->n >= PINSET_MAX_RULES) {
            return fail_at(rd, PINSET_E_LIMIT, tok, "too many pins in the list", "");
        }
        e = add_entry(rd);
        if (e == NULL) {
            return PINSET_DIAG(rd->diag, PINSET_E_NOMEM, "out of memory");
        }
        *e = pat;
        e->seq = (uint32_t)(rd->n - 1);
        err = read_pin(rd, tok, i, &e->pin, &odd);
        npins++;
        if (err == PINSET_OK && odd) {
            err =
                pinset__fidelity_add(rd->f, SIZE_MAX, (const char *)rd->names.p + pat.host, "pins",
                                     "pin '%.*s' is not canonical base64: OkHttp (Okio) accepts "
                                     "it; stored in its canonical spelling",
                                     (int)(i - tok), (const char *)rd->buf + tok);
        }
    }
    if (err == PINSET_OK && npins == 0) {
        return fail_at(rd, PINSET_E_PARSE, end,
                       "no pin after the pattern: each line is PATTERN sha256/BASE64...", "");
    }
    return err;
}

/* ---- grouping the pins by pattern, in the order patterns first appear ---- */

static const char *names_str(const struct reader *rd, uint32_t off)
{
    return (const char *)rd->names.p + off;
}

/* qsort has no payload: the names live in a NUL-separated buffer reached through this. */
static int cmp_key(const struct entry *a, const struct entry *b, const char *names)
{
    int c = strcmp(names + a->host, names + b->host);

    if (c != 0) {
        return c;
    }
    if (a->flags != b->flags) {
        return a->flags < b->flags ? -1 : 1;
    }
    return 0;
}

struct sort_item {
    struct entry e;
    const char *names;
};

static int cmp_by_pattern(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    int c = cmp_key(&a->e, &b->e, a->names);

    if (c != 0) {
        return c;
    }
    return a->e.seq < b->e.seq ? -1 : a->e.seq > b->e.seq;
}

static int cmp_by_first(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;

    if (a->e.first_seq != b->e.first_seq) {
        return a->e.first_seq < b->e.first_seq ? -1 : 1;
    }
    return a->e.seq < b->e.seq ? -1 : a->e.seq > b->e.seq;
}

/* Whether pin is among the n entries from s. */
static int run_has(const struct sort_item *s, size_t n, const pinset_pin *pin)
{
    for (size_t i = 0; i < n; i++) {
        if (pinset_pin_equal(&s[i].e.pin, pin)) {
            return 1;
        }
    }
    return 0;
}

/*
 * `host` and `**.host` both match host. The model has one rule per host, and
 * giving the exact pattern's pins to "**.host" would give them to every
 * subdomain too, so the exact pattern is dropped (stricter for host itself)
 * and the pins that only it had are listed. s is sorted by pattern: the
 * exact run (flags 0) comes right before the "**." run (RULE_F_SUBDOMAINS).
 */
static pinset_err drop_exact(struct reader *rd, struct sort_item *s)
{
    size_t i = 0;

    while (i < rd->n) {
        size_t a = i, b, c;
        while (i < rd->n && cmp_key(&s[a].e, &s[i].e, s[a].names) == 0) {
            i++;
        }
        b = i;
        if (s[a].e.flags != 0 || b == rd->n || s[b].e.flags != RULE_F_SUBDOMAINS ||
            strcmp(s[a].names + s[a].e.host, s[b].names + s[b].e.host) != 0) {
            continue;
        }
        c = b;
        while (c < rd->n && cmp_key(&s[b].e, &s[c].e, s[b].names) == 0) {
            c++;
        }
        if (b - a > PINSET_MAX_PINS_PER_RULE) {
            return PINSET_DIAG(rd->diag, PINSET_E_LIMIT, "pattern '%s': more than %d pins",
                               s[a].names + s[a].e.host, PINSET_MAX_PINS_PER_RULE);
        }
        for (size_t k = a; k < b; k++) {
            s[k].e.drop = 1;
            if (c - b <= PINSET_MAX_PINS_PER_RULE && !run_has(s + b, c - b, &s[k].e.pin) &&
                !run_has(s + a, k - a, &s[k].e.pin)) {
                char b64[PINSET_PIN_STR_MAX];
                const char *host = s[a].names + s[a].e.host;
                pinset_err err =
                    pinset_pin_format(b64, sizeof(b64), &s[k].e.pin, PINSET_PIN_FMT_OKHTTP);
                if (err == PINSET_OK) {
                    err = pinset__fidelity_add(
                        rd->f, SIZE_MAX, host, "pins",
                        "'%s' and '**.%s' both match %s, which has one rule in pinset: the pin %s "
                        "of '%s' is not kept (giving it to '**.%s' would pin every subdomain "
                        "with it too)",
                        host, host, host, b64, host, host);
                }
                if (err != PINSET_OK) {
                    return err;
                }
            }
        }
    }
    return PINSET_OK;
}

/*
 * Order the entries by pattern (in the order each pattern first appears),
 * then by reading order within a pattern.
 */
static pinset_err group(struct reader *rd)
{
    struct sort_item *s;
    pinset_err err;

    if (rd->n == 0) {
        return PINSET_OK;
    }
    s = pinset__alloc_array(rd->n, sizeof(*s));
    if (s == NULL) {
        return PINSET_E_NOMEM;
    }
    for (size_t i = 0; i < rd->n; i++) {
        s[i].e = rd->e[i];
        s[i].names = (const char *)rd->names.p;
    }
    qsort(s, rd->n, sizeof(*s), cmp_by_pattern);
    for (size_t i = 0; i < rd->n; i++) {
        int same = i > 0 && cmp_key(&s[i - 1].e, &s[i].e, s[i].names) == 0;
        s[i].e.first_seq = same ? s[i - 1].e.first_seq : s[i].e.seq;
    }
    err = drop_exact(rd, s);
    if (err != PINSET_OK) {
        pinset__free(s);
        return err;
    }
    qsort(s, rd->n, sizeof(*s), cmp_by_first);
    for (size_t i = 0; i < rd->n; i++) {
        rd->e[i] = s[i].e;
    }
    pinset__free(s);
    return PINSET_OK;
}

/* ---- building: one rule per pattern in t, then p with the union of pins ---- */

static pinset_err build_own(struct reader *rd, pinset_policy *t)
{
    struct pinset_rule *r = NULL;
    pinset_err err = PINSET_OK;

    for (size_t i = 0; i < rd->n && err == PINSET_OK; i++) {
        const struct entry *e = &rd->e[i];
        int added;
        if (e->drop) {
            continue;
        }
        if (r == NULL || e->first_seq != rd->e[i - 1].first_seq) {
            r = pinset__policy_add_rule(t);
            if (r == NULL) {
                return t->nrules >= PINSET_MAX_RULES ? PINSET_E_LIMIT : PINSET_E_NOMEM;
            }
            err = pinset__policy_add_str(t, &r->host, names_str(rd, e->host), e->host_len);
            r->host_len = e->host_len;
            r->host_type = e->host_type;
            r->flags = e->flags;
            r->mode = PINSET_MODE_ENFORCE;
            r->min_pins = 2;
        }
        if (err == PINSET_OK) {
            err = pinset__fmt_add_pin(t, r, &e->pin, PINSET_ROLE_ANY, &added);
        }
        if (err == PINSET_E_LIMIT) {
            return PINSET_DIAG(rd->diag, err, "pattern '%s%s': more than %d pins",
                               e->flags == RULE_F_ONE_LABEL    ? "*."
                               : e->flags == RULE_F_SUBDOMAINS ? "**."
                                                               : "",
                               names_str(rd, e->host), PINSET_MAX_PINS_PER_RULE);
        }
    }
    return err;
}

const char *pinset__okhttp_prefix(const struct pinset_rule *r)
{
    if (r->flags & RULE_F_ONE_LABEL) {
        return "*.";
    }
    return (r->flags & RULE_F_SUBDOMAINS) ? "**." : "";
}

size_t pinset__okhttp_covering(const pinset_policy *p, const struct pinset_rule *r,
                               const struct pinset_rule **out, size_t cap)
{
    const char *host = pinset__policy_str(p, r->host);
    size_t n = 0;
    int exact = (r->flags & (RULE_F_SUBDOMAINS | RULE_F_ONE_LABEL)) == 0;
    const struct pinset_rule *q;

    if (r->host_type != PINSET_HOST_DNS) {
        return 0;
    }
    if ((r->flags & RULE_F_ONE_LABEL) != 0) {
        q = pinset__policy_find(p, host, r->host_len);
        if (q != NULL && (q->flags & RULE_F_SUBDOMAINS) != 0 && n < cap) {
            out[n++] = q; /* "**.host" matches every name "*.host" does */
        }
    }
    for (size_t i = 0; i < r->host_len; i++) {
        if (host[i] != '.') {
            continue;
        }
        if (exact) {
            exact = 0; /* "*.parent" matches the host itself */
            q = pinset__policy_find_one_label(p, host + i + 1, r->host_len - i - 1);
            if (q != NULL && n < cap) {
                out[n++] = q;
            }
        }
        q = pinset__policy_find(p, host + i + 1, r->host_len - i - 1);
        if (q != NULL && (q->flags & RULE_F_SUBDOMAINS) != 0 && n < cap) {
            out[n++] = q;
        }
    }
    return n;
}

/* The "*.parent" rule that also matches a "**.host" rule's own host, or NULL. */
const struct pinset_rule *pinset__okhttp_self_wildcard(const pinset_policy *p,
                                                       const struct pinset_rule *r)
{
    const char *host = pinset__policy_str(p, r->host);
    const char *dot;

    if ((r->flags & RULE_F_SUBDOMAINS) == 0 || r->host_type != PINSET_HOST_DNS) {
        return NULL;
    }
    dot = memchr(host, '.', r->host_len);
    if (dot == NULL) {
        return NULL;
    }
    return pinset__policy_find_one_label(p, dot + 1, r->host_len - (size_t)(dot + 1 - host));
}

static pinset_err merge_rule(struct reader *rd, const pinset_policy *t,
                             const struct pinset_rule *tr)
{
    const struct pinset_rule *cov[PINSET_MAX_HOST_LEN + 2];
    const struct pinset_rule *w;
    struct pinset_rule *r = pinset__policy_add_rule(rd->p);
    const char *host = pinset__policy_str(t, tr->host);
    size_t n;
    pinset_err err;
    int added;

    if (r == NULL) {
        return PINSET_E_NOMEM;
    }
    err = pinset__policy_add_str(rd->p, &r->host, host, tr->host_len);
    r->host_len = tr->host_len;
    r->host_type = tr->host_type;
    r->flags = tr->flags;
    r->mode = PINSET_MODE_ENFORCE;
    r->min_pins = 2; /* the native format's default for an enforcing rule */
    for (size_t i = 0; i < tr->pins_count && err == PINSET_OK; i++) {
        err = pinset__fmt_add_pin(rd->p, r, &t->pins[tr->pins_first + i].pin, PINSET_ROLE_ANY,
                                  &added);
    }
    n = pinset__okhttp_covering(t, tr, cov, PINSET_ARRAY_SIZE(cov));
    for (size_t k = 0; k < n && err == PINSET_OK; k++) {
        size_t merged = 0;
        if (rd->p->npins + cov[k]->pins_count > PINSET_MAX_OKHTTP_PINS) {
            return PINSET_DIAG(rd->diag, PINSET_E_LIMIT,
                               "the patterns' union would give the policy more than %d pins "
                               "(OkHttp gives every name the pins of each pattern that matches it)",
                               PINSET_MAX_OKHTTP_PINS);
        }
        for (size_t i = 0; i < cov[k]->pins_count && err == PINSET_OK; i++) {
            err = pinset__fmt_add_pin(rd->p, r, &t->pins[cov[k]->pins_first + i].pin,
                                      PINSET_ROLE_ANY, &added);
            merged += (size_t)added;
        }
        if (err == PINSET_OK && merged > 0) {
            err = pinset__fidelity_add(
                rd->f, r->index, host, "pins",
                "OkHttp accepts a pin of any pattern that matches a host: %zu pin(s) of '%s%s' "
                "added to '%s%s'",
                merged, pinset__okhttp_prefix(cov[k]), pinset__policy_str(t, cov[k]->host),
                pinset__okhttp_prefix(tr), host);
        }
    }
    w = pinset__okhttp_self_wildcard(t, tr);
    if (err == PINSET_OK && w != NULL) {
        err = pinset__fidelity_add(
            rd->f, r->index, host, "pins",
            "OkHttp also accepts the pins of '*.%s' for '%s' itself; pinset cannot give them to "
            "the host without giving them to its subdomains, so '%s' takes only the pins of "
            "'**.%s' (stricter)",
            pinset__policy_str(t, w->host), host, host, host);
    }
    if (err == PINSET_E_LIMIT) {
        return PINSET_DIAG(rd->diag, err,
                           "pattern '%s%s': more than %d pins with the pins of the "
                           "patterns that cover it",
                           pinset__okhttp_prefix(tr), host, PINSET_MAX_PINS_PER_RULE);
    }
    return err;
}

static pinset_err build(struct reader *rd)
{
    pinset_policy *t = NULL;
    size_t bad = 0;
    pinset_err err = pinset__policy_new(&t);

    if (err == PINSET_OK) {
        err = build_own(rd, t);
    }
    if (err == PINSET_OK) {
        err = pinset__policy_index(t, &bad, rd->diag);
    }
    for (size_t i = 0; err == PINSET_OK && i < t->nrules; i++) {
        err = merge_rule(rd, t, &t->rules[i]);
    }
    pinset_policy_free(t);
    return err;
}

pinset_err pinset__okhttp_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf,
                                 size_t len, const pinset_convert_options *opts, pinset_diag *diag)
{
    struct reader rd;
    size_t at = 0;
    pinset_err err = PINSET_OK;

    (void)opts; /* every line names its pattern: no host option */
    memset(&rd, 0, sizeof(rd));
    rd.p = p;
    rd.f = f;
    rd.buf = buf;
    rd.len = len;
    rd.diag = diag;
    pinset__buf_init(&rd.names, PINSET_MAX_POLICY_SIZE, 0);
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) {
        at = 3; /* a UTF-8 byte order mark */
    }
    while (at < len && err == PINSET_OK) {
        const uint8_t *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl == NULL ? len : (size_t)(nl - buf);
        size_t stop = end > at && buf[end - 1] == '\r' ? end - 1 : end;
        if (stop - at > PINSET_MAX_OKHTTP_LINE) {
            err = fail_at(&rd, PINSET_E_LIMIT, at, "line longer than 16384 octets", "");
            break;
        }
        err = read_line(&rd, at, stop);
        at = end + 1;
    }
    if (err == PINSET_OK && rd.n == 0) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "no pattern in the list");
    }
    if (err == PINSET_OK) {
        err = group(&rd);
        err = err == PINSET_OK ? build(&rd) : err;
    }
    if (err == PINSET_E_NOMEM && diag != NULL && diag->code == PINSET_OK) {
        (void)PINSET_DIAG(diag, err, "out of memory");
    }
    pinset__free(rd.e);
    pinset__buf_free(&rd.names);
    return err;
}

/* ---- export: the list, and the builder chain in Kotlin or Java ---- */

static pinset_err put(struct pinset__buf *b, const char *s)
{
    return pinset__buf_append(b, s, strlen(s));
}

/* What a rule's settings lose in OkHttp (its pins are judged one by one). */
static pinset_err lose_rule(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r)
{
    return pinset__fmt_lose_settings(f, p, r, "OkHttp");
}

/* Whether the i-th pin is written; what it loses, in the list. */
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
                                    "OkHttp pins are public-key (SPKI) hashes: a cert pin is not "
                                    "written");
    }
    (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
    if (e->role == PINSET_ROLE_LEAF || e->role == PINSET_ROLE_CA) {
        err = pinset__fidelity_add(f, r->index, host, field,
                                   "OkHttp matches a pin at any depth of the chain: the role '%s' "
                                   "is not kept",
                                   pinset_role_name((pinset_role)e->role));
    } else if (e->role == PINSET_ROLE_BACKUP) {
        err = pinset__fidelity_add(f, r->index, host, field,
                                   "OkHttp has no backup pins: written as an ordinary pin, "
                                   "accepted at any depth");
    }
    if (err == PINSET_OK && e->not_after != 0) {
        (void)snprintf(field, sizeof(field), "pins[%zu].not_after", i);
        err = pinset__fidelity_add(f, r->index, host, field, "OkHttp has no expiry date for a pin");
    }
    *keep = 1;
    return err;
}

/* Whether every SPKI pin of q is among r's. */
static int pins_cover(const pinset_policy *p, const struct pinset_rule *r,
                      const struct pinset_rule *q)
{
    for (size_t i = 0; i < pinset__fmt_pin_count(p, q); i++) {
        const struct pinset__pin_entry *e = pinset__fmt_pin(p, q, i);
        int found = e->pin.kind != PINSET_PIN_SPKI;
        for (size_t k = 0; k < pinset__fmt_pin_count(p, r) && !found; k++) {
            found = pinset_pin_equal(&pinset__fmt_pin(p, r, k)->pin, &e->pin);
        }
        if (!found) {
            return 0;
        }
    }
    return 1;
}

/*
 * OkHttp gives a host the union of the pins of every pattern that matches
 * it: where a broader rule has pins this rule has not, OkHttp accepts more
 * for this rule's names than the policy does.
 */
static pinset_err lose_union(pinset_fidelity *f, const pinset_policy *p,
                             const struct pinset_rule *r)
{
    const struct pinset_rule *cov[PINSET_MAX_HOST_LEN + 2];
    const struct pinset_rule *w = pinset__okhttp_self_wildcard(p, r);
    const char *host = pinset__policy_str(p, r->host);
    size_t n = pinset__okhttp_covering(p, r, cov, PINSET_ARRAY_SIZE(cov));
    pinset_err err = PINSET_OK;

    for (size_t k = 0; k < n && err == PINSET_OK; k++) {
        if ((cov[k]->flags & RULE_F_EXCLUDE) == 0 && !pins_cover(p, r, cov[k])) {
            err =
                pinset__fidelity_add(f, r->index, host, "pins",
                                     "OkHttp accepts a pin of any pattern that matches a host: "
                                     "the names of '%s%s' also accept the pins of '%s%s'",
                                     pinset__okhttp_prefix(r), host, pinset__okhttp_prefix(cov[k]),
                                     pinset__policy_str(p, cov[k]->host));
        }
    }
    if (err == PINSET_OK && w != NULL && !pins_cover(p, r, w)) {
        err = pinset__fidelity_add(f, r->index, host, "pins",
                                   "OkHttp accepts a pin of any pattern that matches a host: '%s' "
                                   "itself also accepts the pins of '*.%s'",
                                   host, pinset__policy_str(p, w->host));
    }
    return err;
}

static pinset_err put_rule(pinset_fidelity *f, const pinset_policy *p, const struct pinset_rule *r,
                           pinset_format style, struct pinset__buf *b, pinset_diag *diag)
{
    char pin[PINSET_PIN_STR_MAX];
    const char *host = pinset__policy_str(p, r->host);
    size_t written = 0;
    int keep;
    pinset_err err = lose_rule(f, p, r);

    if (err == PINSET_OK) {
        err = lose_union(f, p, r);
    }
    if (err == PINSET_OK) {
        err = style == PINSET_FORMAT_OKHTTP ? PINSET_OK : put(b, "    .add(\"");
    }
    err = err == PINSET_OK ? put(b, pinset__okhttp_prefix(r)) : err;
    err = err == PINSET_OK ? put(b, host) : err;
    err = err == PINSET_OK && style != PINSET_FORMAT_OKHTTP ? put(b, "\"") : err;
    for (size_t i = 0; i < pinset__fmt_pin_count(p, r) && err == PINSET_OK; i++) {
        err = judge_pin(f, p, r, i, &keep);
        if (err != PINSET_OK || !keep) {
            continue;
        }
        err = pinset_pin_format(pin, sizeof(pin), &pinset__fmt_pin(p, r, i)->pin,
                                PINSET_PIN_FMT_OKHTTP);
        if (err == PINSET_OK) {
            err = put(b, style == PINSET_FORMAT_OKHTTP ? " " : ", \"");
        }
        err = err == PINSET_OK ? put(b, pin) : err;
        err = err == PINSET_OK && style != PINSET_FORMAT_OKHTTP ? put(b, "\"") : err;
        written++;
    }
    if (err == PINSET_OK && written == 0) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "rule %u (%s): no pin OkHttp can carry (OkHttp pins are public-key "
                           "hashes)",
                           (unsigned)r->index, host);
    }
    return err == PINSET_OK ? put(b, style == PINSET_FORMAT_OKHTTP ? "\n" : ")\n") : err;
}

pinset_err pinset__okhttp_export(pinset_fidelity *f, const pinset_policy *p, pinset_format style,
                                 const pinset_convert_options *opts, struct pinset__buf *out,
                                 pinset_diag *diag)
{
    pinset_err err = PINSET_OK;

    (void)opts; /* every rule is written: the list names its hosts */
    if (style == PINSET_FORMAT_OKHTTP_KOTLIN) {
        err = put(out, "val certificatePinner = CertificatePinner.Builder()\n");
    } else if (style == PINSET_FORMAT_OKHTTP_JAVA) {
        err = put(out, "CertificatePinner certificatePinner = new CertificatePinner.Builder()\n");
    }
    for (size_t i = 0; i < p->nrules && err == PINSET_OK; i++) {
        const struct pinset_rule *r = &p->rules[i];
        if (r->flags & RULE_F_EXCLUDE) {
            err = pinset__fidelity_add(f, r->index, pinset__policy_str(p, r->host), "exclude",
                                       "OkHttp has no exclusions: the host stays pinned by the "
                                       "patterns that match it (not written)");
            continue;
        }
        err = put_rule(f, p, r, style, out, diag);
    }
    if (err == PINSET_OK && style == PINSET_FORMAT_OKHTTP_KOTLIN) {
        err = put(out, "    .build()\n");
    } else if (err == PINSET_OK && style == PINSET_FORMAT_OKHTTP_JAVA) {
        err = put(out, "    .build();\n");
    }
    return err;
}
