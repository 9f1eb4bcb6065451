/*
 * write.c - the canonical form of a policy: pinset_policy_write, and the
 * serialisation that pinset_policy_digest hashes (build.c computes it).
 */
#include <stdio.h>

#include <pinset/policy.h>

#include "internal.h"
#include "policy/names.h"
#include "policy/policy_int.h"
#include "util/rfc3339.h"

struct wbuf {
    pinset_write_fn write;
    void *payload;
    int failed;
    size_t n;
    char b[4096];
};

static void wflush(struct wbuf *w)
{
    if (!w->failed && w->n > 0 && w->write(w->b, w->n, w->payload) != 0) {
        w->failed = 1;
    }
    w->n = 0;
}

static void wput(struct wbuf *w, const char *s, size_t len)
{
    while (len > 0 && !w->failed) {
        size_t k = sizeof(w->b) - w->n;
        if (k > len) {
            k = len;
        }
        memcpy(w->b + w->n, s, k);
        w->n += k;
        s += k;
        len -= k;
        if (w->n == sizeof(w->b)) {
            wflush(w);
        }
    }
}

static void wstr(struct wbuf *w, const char *s)
{
    wput(w, s, strlen(s));
}

/* Decodes one UTF-8 sequence; returns its length, *cp = U+FFFD when malformed. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) ? 0xFFFD : c;
    return len;
}

/* A JSON string in ASCII only: one spelling per value, so one digest per model. */
static void wjson_str(struct wbuf *w, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    char esc[16];

    wput(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(u + i, n - i, &cp);
        i += k;
        if (cp == '"' || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            wput(w, esc, 2);
        } else if (cp >= 0x20 && cp < 0x7f) {
            esc[0] = (char)cp;
            wput(w, esc, 1);
        } else if (cp < 0x10000) {
            (void)snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
            wstr(w, esc);
        } else {
            cp -= 0x10000;
            (void)snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", (unsigned)(0xD800 + (cp >> 10)),
                           (unsigned)(0xDC00 + (cp & 0x3FF)));
            wstr(w, esc);
        }
    }
    wput(w, "\"", 1);
}

static void wtime(struct wbuf *w, int64_t t)
{
    char s[PINSET__TIME_TEXT_MAX];

    /* the parser keeps times within 1970..9999, and so does this clamp */
    if (t < 0) {
        t = 0;
    } else if (t > 253402300799LL) {
        t = 253402300799LL;
    }
    if (pinset__time_write(s, sizeof(s), t) != 0) {
        w->failed = 1;
        return;
    }
    wput(w, "\"", 1);
    wstr(w, s);
    wput(w, "\"", 1);
}

static void wpin_value(struct wbuf *w, const pinset_pin *pin)
{
    char b64[PINSET_PIN_STR_MAX];

    if (pinset_pin_format(b64, sizeof(b64), pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        w->failed = 1;
        return;
    }
    wstr(w, "{\"sha256\": \"");
    wstr(w, b64);
    wstr(w, "\", \"kind\": \"");
    wstr(w, pinset__policy_kind_names[pin->kind == PINSET_PIN_CERT ? 1 : 0]);
    wstr(w, "\"");
}

static void wpins(struct wbuf *w, const pinset_policy *p, size_t first, size_t count,
                  const char *indent)
{
    wstr(w, "[");
    for (size_t i = 0; i < count; i++) {
        const struct pinset__pin_entry *e = &p->pins[first + i];
        wstr(w, i == 0 ? "\n" : ",\n");
        wstr(w, indent);
        wpin_value(w, &e->pin);
        wstr(w, ", \"role\": \"");
        wstr(w, pinset__policy_role_names[e->role < 4 ? e->role : 0]);
        wstr(w, "\"");
        if (e->label != 0) {
            wstr(w, ", \"label\": ");
            wjson_str(w, pinset__policy_str(p, e->label));
        }
        if (e->not_after != 0) {
            wstr(w, ", \"not_after\": ");
            wtime(w, e->not_after);
        }
        wstr(w, "}");
    }
    wstr(w, "]");
}

/* Decimal digits without printf: the writer runs once per rule at parse time. */
static void wuint(struct wbuf *w, unsigned v, char *tmp, size_t cap)
{
    size_t i = cap;

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    wput(w, tmp + i, cap - i);
}

static void wrule(struct wbuf *w, const pinset_policy *p, const struct pinset_rule *r)
{
    char num[32];

    wstr(w, "    {\n      \"host\": ");
    wjson_str(w, pinset__policy_str(p, r->host));
    if (r->flags & RULE_F_EXCLUDE) {
        wstr(w, ",\n      \"exclude\": true");
    }
    if (r->flags & RULE_F_ONE_LABEL) {
        wstr(w, ",\n      \"include_subdomains\": \"one-label\"");
    } else {
        wstr(w, (r->flags & RULE_F_SUBDOMAINS) ? ",\n      \"include_subdomains\": true"
                                               : ",\n      \"include_subdomains\": false");
    }
    if (r->flags & RULE_F_EXCLUDE) {
        wstr(w, "\n    }");
        return;
    }
    wstr(w, ",\n      \"mode\": \"");
    wstr(w, pinset__policy_mode_names[r->mode == PINSET_MODE_REPORT ? 1 : 0]);
    wstr(w, "\"");
    if (r->pinset >= 0) {
        wstr(w, ",\n      \"pinset\": ");
        wjson_str(w, pinset__policy_str(p, p->pinsets[r->pinset].name));
    }
    if (r->pins_count > 0) {
        wstr(w, ",\n      \"pins\": ");
        wpins(w, p, r->pins_first, r->pins_count, "        ");
    }
    if (r->blocked_count > 0) {
        wstr(w, ",\n      \"blocked\": [");
        for (size_t i = 0; i < r->blocked_count; i++) {
            wstr(w, i == 0 ? "\n        " : ",\n        ");
            wpin_value(w, &p->blocked[r->blocked_first + i]);
            wstr(w, "}");
        }
        wstr(w, "]");
    }
    wstr(w, ",\n      \"min_pins\": ");
    wuint(w, r->min_pins, num, sizeof(num));
    if (r->expires != 0) {
        wstr(w, ",\n      \"expires\": ");
        wtime(w, r->expires);
        wstr(w, ",\n      \"on_expiry\": \"");
        wstr(w, pinset__policy_expiry_names[r->on_expiry < 4 ? r->on_expiry : 0]);
        wstr(w, "\"");
    }
    if (r->uris_count > 0) {
        wstr(w, ",\n      \"report_uris\": [");
        for (size_t i = 0; i < r->uris_count; i++) {
            wstr(w, i == 0 ? "" : ", ");
            wjson_str(w, pinset__policy_str(p, p->uris[r->uris_first + i]));
        }
        wstr(w, "]");
    }
    wstr(w, "\n    }");
}

pinset_err pinset__policy_serialize(const pinset_policy *p, pinset_write_fn write, void *payload)
{
    struct wbuf *w = pinset__alloc(sizeof(*w));
    pinset_err err;

    if (w == NULL) {
        return PINSET_E_NOMEM;
    }
    w->write = write;
    w->payload = payload;
    wstr(w, "{\n  \"version\": 1");
    if (p->npinsets > 0) {
        wstr(w, ",\n  \"pinsets\": {");
        for (size_t i = 0; i < p->npinsets; i++) {
            const struct pinset__pinset *ps = &p->pinsets[i];
            wstr(w, i == 0 ? "\n    " : ",\n    ");
            wjson_str(w, pinset__policy_str(p, ps->name));
            wstr(w, ": {\"pins\": ");
            wpins(w, p, ps->first, ps->count, "      ");
            wstr(w, "}");
        }
        wstr(w, "\n  }");
    }
    wstr(w, ",\n  \"rules\": [");
    for (size_t i = 0; i < p->nrules; i++) {
        wstr(w, i == 0 ? "\n" : ",\n");
        wrule(w, p, &p->rules[i]);
    }
    wstr(w, p->nrules > 0 ? "\n  ]\n}\n" : "]\n}\n");
    wflush(w);
    err = w->failed ? PINSET_E_IO : PINSET_OK;
    pinset__free(w);
    return err;
}

pinset_err pinset_policy_write(const pinset_policy *policy, pinset_write_fn write, void *payload)
{
    if (policy == NULL || write == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    return pinset__policy_serialize(policy, write, payload);
}
