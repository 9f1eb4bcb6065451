/*
 * android.c - Android Network Security Config (XML, read with expat) into
 * the one model; android_out.c writes it.
 *
 * The rules are AOSP's own (frameworks/base, android.security.net.config:
 * XmlConfigSource parses, ApplicationConfig looks hosts up,
 * NetworkSecurityTrustManager checks the pins): what XmlConfigSource throws
 * on is an import error with line and column; what Android accepts but a pin
 * policy cannot hold (trust anchors, overridePins, debug-overrides,
 * cleartext and HSTS settings, a domain that is no host name) is listed in
 * the fidelity list. TrustKit-Android's <trustkit-config> inside a
 * <domain-config> (enforcePinning, disableDefaultReportUri, <report-uri>)
 * gives the rule's mode and report URIs.
 *
 * Every <domain> becomes one rule: the pins of its nearest <pin-set> (its own
 * <domain-config>'s or an ancestor's, as Android inherits), expiry at the
 * expiration date with on_expiry fail-open. A domain without pins (no
 * pin-set, or an empty or always-expired one) is not pinned: an exclusion
 * when a pinned domain with includeSubdomains would otherwise cover it,
 * otherwise no rule at all. Lookup in the model is then Android's: an exact
 * domain wins, else the longest includeSubdomains domain.
 *
 * Hostile input: a DTD stops the parse (so no entity is ever declared or
 * expanded and nothing external is read), UTF-16 and encodings other than
 * UTF-8 are refused, nesting is capped (the stack here is an array; expat's
 * own is on the heap), text per element and the number of domains are
 * bounded.
 */
#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include <pinset/host.h>

#include "util/alloc.h"
#include "util/base64.h"
#include "util/rfc3339.h"
#include "xf.h"

#define AX_MAX_DEPTH   64     /* elements open at once */
#define AX_MAX_DOMAINS 200000 /* <domain> elements in a document */
#define AX_MAX_TEXT    4096   /* octets of text in <domain>, <pin>, <report-uri> */
#define AX_MAX_PINS    256    /* distinct pins in a <pin-set>: the model's limit */
#define AX_MAX_URIS    16     /* report URIs of a <trustkit-config>: the model's limit */
#define AX_MAX_URI     2048   /* octets of a report URI: the model's limit */

enum ax_kind {
    K_SKIP,    /* not read: its content is ignored, as Android's skipCurrentTag does */
    K_ROOT,    /* <network-security-config> */
    K_BASE,    /* <base-config> */
    K_CFG,     /* <domain-config> */
    K_DOMAIN,  /* <domain> */
    K_PINSET,  /* <pin-set> */
    K_PIN,     /* <pin> */
    K_ANCHORS, /* <trust-anchors> */
    K_LEAF,    /* <certificates>: read, its content ignored */
    K_TK,      /* <trustkit-config> */
    K_TKURI    /* <report-uri> */
};

struct ax_pinset {
    uint8_t (*pins)[PINSET_PIN_LEN];
    size_t n, cap;
    int64_t expires; /* 0: never */
    int dead;        /* expired before 1970: never pins */
    unsigned long line;
    size_t uses; /* pinned domains that take it */
};

struct ax_tk {
    int enforce;   /* enforcePinning (TrustKit's default: false) */
    int nodefault; /* disableDefaultReportUri: 1, 0, or -1 when not given */
    size_t uris_first, uris_n;
};

struct ax_cfg {
    long parent; /* -1: top level (base-config is the parent of the whole file) */
    long pinset; /* own <pin-set>, or -1 */
    long tk;     /* own <trustkit-config>, or -1 */
    int base, seen_anchors;
    size_t ndomains;
    /* after the parse: what the config inherits */
    long eff_pinset, eff_tk;
    int eff_nodefault;
};

struct ax_domain {
    size_t name; /* canonical host, offset in strs */
    long cfg;
    int subs;
    int pinned;
    int same; /* the text as written is the canonical host */
    unsigned long col;
    unsigned long line;
};

struct ax {
    XML_Parser xp;
    pinset_fidelity *f;
    pinset_diag *diag;
    pinset_err err;
    enum ax_kind kind[AX_MAX_DEPTH];
    long frame_cfg[AX_MAX_DEPTH];
    size_t depth;
    int seen_base, seen_debug;
    /* text of the element being read */
    struct pinset__buf text;
    int text_seen;
    unsigned long el_line, el_col; /* where that element starts */
    int cur_subs;                  /* <domain includeSubdomains> */
    /* what the document holds */
    struct ax_cfg *cfgs;
    size_t ncfgs, capcfgs;
    struct ax_pinset *sets;
    size_t nsets, capsets;
    struct ax_tk *tks;
    size_t ntks, captks;
    size_t *uris; /* offsets in strs */
    size_t nuris, capuris;
    struct ax_domain *doms;
    size_t ndoms, capdoms, nseen;
    struct pinset__buf strs; /* NUL-terminated strings, by offset */
    json_t *seen;            /* domain as written, when not its canonical host -> line */
    json_t *hosts;           /* canonical host -> index in doms */
};

/* ---- failures and fidelity ---- */

static unsigned long cur_line(struct ax *a)
{
    return (unsigned long)XML_GetCurrentLineNumber(a->xp);
}

static unsigned long cur_col(struct ax *a)
{
    return (unsigned long)XML_GetCurrentColumnNumber(a->xp) + 1;
}

/* Messages are one line: control characters from the input are shown as '?'. */
static void one_line(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = '?';
        }
    }
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 5, 6)))
#endif
static void
fail_at(struct ax *a, pinset_err code, unsigned long line, unsigned long col, const char *fmt, ...)
{
    char msg[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;

    if (a->err != PINSET_OK) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    one_line(msg);
    a->err = PINSET_DIAG(a->diag, code, "%s", msg);
    if (a->diag != NULL) {
        pinset__diag_pos(a->diag, SIZE_MAX, line, col, 0);
    }
    if (a->xp != NULL) {
        (void)XML_StopParser(a->xp, XML_FALSE);
    }
}

#define FAIL(a, code, ...) fail_at((a), (code), cur_line(a), cur_col(a), __VA_ARGS__)

/* One fidelity entry about the document: field "<element> (line N)". */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static void
lose(struct ax *a, const char *element, unsigned long line, const char *fmt, ...)
{
    char field[96], reason[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;

    if (a->err != PINSET_OK) {
        return;
    }
    (void)snprintf(field, sizeof(field), "<%s> (line %lu)", element, line);
    va_start(ap, fmt);
    (void)vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    one_line(reason);
    if (pinset_fidelity_add(a->f, SIZE_MAX, NULL, field, reason) != PINSET_OK) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
    }
}

/* Grow an array to hold one more element; 0 on success. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    void *p;
    size_t c;

    if (n < *cap) {
        return 0;
    }
    c = *cap == 0 ? 16 : *cap * 2;
    p = pinset__realloc_array(*arr, c, size);
    if (p == NULL) {
        return -1;
    }
    memset((char *)p + *cap * size, 0, (c - *cap) * size);
    *arr = p;
    *cap = c;
    return 0;
}

static const char *str_at(const struct ax *a, size_t off)
{
    return (const char *)a->strs.p + off;
}

/* Keep a string; its offset in *off. */
static int keep_str(struct ax *a, const char *s, size_t len, size_t *off)
{
    *off = a->strs.len;
    if (pinset__buf_append(&a->strs, s, len) != PINSET_OK ||
        pinset__buf_append(&a->strs, "", 1) != PINSET_OK) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- values as Android reads them ---- */

static const char *attr(const XML_Char **atts, const char *name)
{
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(atts[i], name) == 0) {
            return atts[i + 1];
        }
    }
    return NULL;
}

static int ascii_ieq(const char *s, const char *t)
{
    for (; *s != '\0' && *t != '\0'; s++, t++) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        char d = *t >= 'A' && *t <= 'Z' ? (char)(*t + 32) : *t;
        if (c != d) {
            return 0;
        }
    }
    return *s == *t;
}

/*
 * A boolean attribute as the compiled resource holds it: aapt compiles
 * "true" and "false" (any case) to booleans. Anything else is refused here
 * (Android would silently take the default).
 */
static int bool_attr(struct ax *a, const XML_Char **atts, const char *name, int def)
{
    const char *v = attr(atts, name);

    if (v == NULL) {
        return def;
    }
    if (ascii_ieq(v, "true")) {
        return 1;
    }
    if (ascii_ieq(v, "false")) {
        return 0;
    }
    FAIL(a, PINSET_E_PARSE, "%s: expected true or false", name);
    return def;
}

/* Java's String.trim(): every character up to U+0020 at either end. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (unsigned char)(*s)[0] <= 0x20) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && (unsigned char)(*s)[*n - 1] <= 0x20) {
        (*n)--;
    }
}

/* A base64 digit's value, -2 for '=', -1 for any other octet. */
static int b64_digit(unsigned char c)
{
    return c == '=' ? -2 : pinset__b64_digit(c, 0);
}

/*
 * android.util.Base64.decode(text, DEFAULT): characters outside the
 * alphabet are skipped, padding may be missing, the unused bits of the last
 * character are dropped; '=' in the wrong place or a lone last character is
 * an error. Returns the decoded length (the first `cap` octets in out), or
 * -1.
 */
static long android_b64(const char *s, size_t n, uint8_t *out, size_t cap)
{
    unsigned state = 0;
    uint32_t v = 0;
    size_t op = 0;

#define EMIT(x)                     \
    do {                            \
        if (op < cap) {             \
            out[op] = (uint8_t)(x); \
        }                           \
        op++;                       \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        int d = b64_digit((unsigned char)s[i]);
        if (d == -1) {
            continue;
        }
        if (state <= 3 && d >= 0) {
            v = (v << 6) | (uint32_t)d;
            if (++state == 4) {
                EMIT(v >> 16);
                EMIT(v >> 8);
                EMIT(v);
                state = 0;
                v = 0;
            }
        } else if (state == 2 && d == -2) {
            EMIT(v >> 4);
            state = 4;
        } else if (state == 3 && d == -2) {
            EMIT(v >> 10);
            EMIT(v >> 2);
            state = 5;
        } else if (state == 4 && d == -2) {
            state = 5;
        } else {
            return -1; /* '=' too early, or anything after the padding */
        }
    }
    if (state == 1 || state == 4) {
        return -1;
    }
    if (state == 2) {
        EMIT(v >> 4);
    } else if (state == 3) {
        EMIT(v >> 10);
        EMIT(v >> 2);
    }
#undef EMIT
    return op > (size_t)LONG_MAX ? -1 : (long)op;
}

/* Digits [s, *end) as a number; -1 when none or more than 9. */
static long digits(const char *s, const char **end)
{
    long v = 0;
    size_t k = 0;

    while (s[k] >= '0' && s[k] <= '9' && k < 9) {
        v = v * 10 + (s[k] - '0');
        k++;
    }
    *end = s + k;
    return k == 0 || (s[k] >= '0' && s[k] <= '9') ? -1 : v;
}

/*
 * <pin-set expiration>: SimpleDateFormat("yyyy-MM-dd"), not lenient, as
 * XmlConfigSource reads it: numbers of any width, a real calendar date,
 * trailing text ignored. Android stops checking the pins once the device's
 * clock passes midnight at the start of that day, local time.
 */
static void expiration(struct ax *a, struct ax_pinset *ps, const char *v)
{
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p;
    long y = digits(v, &p), m = -1, d = -1;
    int64_t t;
    int leap;

    if (y >= 0 && *p == '-') {
        m = digits(p + 1, &p);
    }
    if (m >= 0 && *p == '-') {
        d = digits(p + 1, &p);
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap)) {
        FAIL(a, PINSET_E_PARSE, "invalid expiration date in pin-set: '%.40s' (expected yyyy-MM-dd)",
             v);
        return;
    }
    if (*p != '\0' || p - v != 10) {
        lose(a, "pin-set", ps->line,
             "expiration '%.40s' read as %04ld-%02ld-%02ld, as Android's date parser reads it", v,
             y, m, d);
    }
    if (y > 9999) {
        lose(a, "pin-set", ps->line,
             "expiration after the year 9999: pinset keeps the pins without expiry");
        return;
    }
    t = pinset__days_from_civil(y, m, d) * 86400;
    if (t <= 0) {
        ps->dead = 1;
        lose(a, "pin-set", ps->line,
             "expiration before 1970: the pins have always expired, so Android never checks "
             "them: not pinned");
        return;
    }
    ps->expires = t;
    lose(a, "pin-set", ps->line,
         "Android's expiration is a local date (pins stop at midnight starting that day, in the "
         "device's time zone): read as %04ld-%02ld-%02ldT00:00:00Z with on_expiry fail-open, up "
         "to 14 hours off",
         y, m, d);
}

/* ---- elements ---- */

static long new_cfg(struct ax *a, long parent, int base)
{
    struct ax_cfg *c;

    if (grow((void **)&a->cfgs, &a->capcfgs, a->ncfgs, sizeof(*a->cfgs)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return -1;
    }
    c = &a->cfgs[a->ncfgs];
    c->parent = parent;
    c->pinset = -1;
    c->tk = -1;
    c->base = base;
    return (long)a->ncfgs++;
}

/* cleartextTrafficPermitted and hstsEnforced: settings, not pins. */
static void config_attrs(struct ax *a, const char *name, const XML_Char **atts)
{
    for (size_t i = 0; atts[i] != NULL && a->err == PINSET_OK; i += 2) {
        if (strcmp(atts[i], "cleartextTrafficPermitted") == 0 ||
            strcmp(atts[i], "hstsEnforced") == 0) {
            (void)bool_attr(a, atts, atts[i], 0);
            lose(a, name, cur_line(a), "%s: a connection setting, not part of a pin policy",
                 atts[i]);
        }
    }
}

static void start_pinset(struct ax *a, long cfg, const XML_Char **atts)
{
    struct ax_pinset *ps;
    const char *exp = attr(atts, "expiration");

    if (a->cfgs[cfg].pinset >= 0) {
        FAIL(a, PINSET_E_PARSE, "multiple pin-set elements not allowed in one domain-config");
        return;
    }
    if (grow((void **)&a->sets, &a->capsets, a->nsets, sizeof(*a->sets)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return;
    }
    ps = &a->sets[a->nsets];
    ps->line = cur_line(a);
    a->cfgs[cfg].pinset = (long)a->nsets++;
    if (exp != NULL) {
        expiration(a, ps, exp);
    }
}

static void start_certificates(struct ax *a, const XML_Char **atts)
{
    const char *src = attr(atts, "src");
    int override = bool_attr(a, atts, "overridePins", 0);

    if (src == NULL) {
        FAIL(a, PINSET_E_PARSE, "certificates element missing src attribute");
        return;
    }
    if (strcmp(src, "system") != 0 && strcmp(src, "user") != 0 && strcmp(src, "wfa") != 0 &&
        src[0] != '@') {
        FAIL(a, PINSET_E_PARSE,
             "unknown certificates src '%.64s' (expected system, user, wfa or @resource)", src);
        return;
    }
    if (override) {
        lose(a, "certificates", cur_line(a),
             "overridePins: Android skips the pins for chains that end in these anchors (%.64s); "
             "pinset always checks them",
             src);
    }
}

static void start_tk(struct ax *a, long cfg, const XML_Char **atts)
{
    struct ax_tk *tk;
    const char *v;

    if (a->cfgs[cfg].tk >= 0) {
        FAIL(a, PINSET_E_PARSE, "multiple trustkit-config elements in one domain-config");
        return;
    }
    if (grow((void **)&a->tks, &a->captks, a->ntks, sizeof(*a->tks)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return;
    }
    tk = &a->tks[a->ntks];
    a->cfgs[cfg].tk = (long)a->ntks++;
    /* TrustKit-Android reads both with Boolean.parseBoolean: "true" in any case, else false */
    v = attr(atts, "enforcePinning");
    tk->enforce = v != NULL && ascii_ieq(v, "true");
    v = attr(atts, "disableDefaultReportUri");
    tk->nodefault = v == NULL ? -1 : ascii_ieq(v, "true");
    tk->uris_first = a->nuris;
    if (!tk->enforce) {
        lose(a, "trustkit-config", cur_line(a),
             "enforcePinning is not true: read as report mode (TrustKit reports and lets the "
             "connection go on; Android 7 and later still enforce the <pin-set> itself)");
    }
}

/* The kind of a new element under `parent`; may fail. */
static enum ax_kind child_kind(struct ax *a, enum ax_kind parent, const char *name,
                               const XML_Char **atts)
{
    long cfg = a->depth > 0 ? a->frame_cfg[a->depth - 1] : -1;
    long c;

    switch (parent) {
    case K_ROOT:
        if (strcmp(name, "base-config") == 0) {
            if (a->seen_base) {
                FAIL(a, PINSET_E_PARSE, "only one base-config allowed");
            }
            a->seen_base = 1;
            c = new_cfg(a, -1, 1);
            a->frame_cfg[a->depth] = c;
            config_attrs(a, name, atts);
            return K_BASE;
        }
        if (strcmp(name, "domain-config") == 0) {
            c = new_cfg(a, -1, 0);
            a->frame_cfg[a->depth] = c;
            config_attrs(a, name, atts);
            return K_CFG;
        }
        if (strcmp(name, "debug-overrides") == 0) {
            if (a->seen_debug) {
                FAIL(a, PINSET_E_PARSE, "only one debug-overrides allowed");
            }
            a->seen_debug = 1;
            lose(a, name, cur_line(a),
                 "applies to debuggable builds only (their trust anchors, which override the "
                 "pins by default): not part of the release policy");
            return K_SKIP;
        }
        break;
    case K_BASE:
    case K_CFG:
        if (strcmp(name, "domain") == 0) {
            if (parent == K_BASE) {
                FAIL(a, PINSET_E_PARSE, "domain element not allowed in base-config");
            }
            a->cur_subs = bool_attr(a, atts, "includeSubdomains", 0);
            return K_DOMAIN;
        }
        if (strcmp(name, "pin-set") == 0) {
            if (parent == K_BASE) {
                FAIL(a, PINSET_E_PARSE, "pin-set element not allowed in base-config");
                return K_SKIP;
            }
            start_pinset(a, cfg, atts);
            return K_PINSET;
        }
        if (strcmp(name, "domain-config") == 0) {
            if (parent == K_BASE) {
                FAIL(a, PINSET_E_PARSE, "nested domain-config not allowed in base-config");
                return K_SKIP;
            }
            c = new_cfg(a, cfg, 0);
            a->frame_cfg[a->depth] = c;
            config_attrs(a, name, atts);
            return K_CFG;
        }
        if (strcmp(name, "trust-anchors") == 0) {
            if (a->cfgs[cfg].seen_anchors) {
                FAIL(a, PINSET_E_PARSE, "multiple trust-anchor elements not allowed");
            }
            a->cfgs[cfg].seen_anchors = 1;
            lose(a, name, cur_line(a),
                 "trust anchors (which CAs are trusted) have no place in a pin policy: not "
                 "carried");
            return K_ANCHORS;
        }
        if (strcmp(name, "trustkit-config") == 0 && parent == K_CFG) {
            start_tk(a, cfg, atts);
            return K_TK;
        }
        if (strcmp(name, "certificateTransparency") == 0) {
            lose(a, name, cur_line(a),
                 "a Certificate Transparency setting, not part of a pin policy");
            return K_SKIP;
        }
        break;
    case K_PINSET:
        if (strcmp(name, "pin") == 0) {
            const char *dg = attr(atts, "digest");
            if (dg == NULL || !ascii_ieq(dg, "SHA-256")) {
                FAIL(a, PINSET_E_PARSE,
                     "unsupported pin digest algorithm: %.64s (Android pins are SHA-256)",
                     dg == NULL ? "none (no digest attribute)" : dg);
            }
            return K_PIN;
        }
        break;
    case K_ANCHORS:
        if (strcmp(name, "certificates") == 0) {
            start_certificates(a, atts);
            return K_LEAF;
        }
        break;
    case K_TK:
        if (strcmp(name, "report-uri") == 0) {
            return K_TKURI;
        }
        break;
    case K_DOMAIN:
    case K_PIN:
    case K_TKURI:
        FAIL(a, PINSET_E_PARSE, "%s contains additional elements (<%.64s>)",
             parent == K_DOMAIN ? "domain"
             : parent == K_PIN  ? "pin"
                                : "report-uri",
             name);
        return K_SKIP;
    case K_SKIP:
    case K_LEAF:
        return K_SKIP; /* inside an element that is not read */
    }
    lose(a, name, cur_line(a),
         "not a Network Security Config element here: skipped, as Android does");
    return K_SKIP;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct ax *a = ud;
    enum ax_kind k;

    if (a->err != PINSET_OK) {
        return;
    }
    if (a->depth >= AX_MAX_DEPTH) {
        FAIL(a, PINSET_E_LIMIT, "elements nested deeper than %d levels", AX_MAX_DEPTH);
        return;
    }
    a->frame_cfg[a->depth] = a->depth > 0 ? a->frame_cfg[a->depth - 1] : -1;
    if (a->depth == 0) {
        if (strcmp(name, "network-security-config") != 0) {
            FAIL(a, PINSET_E_PARSE, "the root element is <%.64s>, not <network-security-config>",
                 name);
            return;
        }
        k = K_ROOT;
    } else {
        k = child_kind(a, a->kind[a->depth - 1], name, atts);
    }
    if (k == K_DOMAIN || k == K_PIN || k == K_TKURI) {
        a->text.len = 0;
        a->text_seen = 0;
        a->el_line = cur_line(a);
        a->el_col = cur_col(a);
    }
    a->kind[a->depth++] = k;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct ax *a = ud;
    enum ax_kind k = a->depth > 0 ? a->kind[a->depth - 1] : K_SKIP;

    if (a->err != PINSET_OK || (k != K_DOMAIN && k != K_PIN && k != K_TKURI) || len <= 0) {
        return;
    }
    a->text_seen = 1;
    if (a->text.len + (size_t)len > AX_MAX_TEXT) {
        FAIL(a, PINSET_E_LIMIT, "text longer than %d octets", AX_MAX_TEXT);
        return;
    }
    if (pinset__buf_append(&a->text, s, (size_t)len) != PINSET_OK) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
    }
}

/*
 * Android refuses the same domain text twice anywhere in the file. A domain
 * whose text is its canonical host is found through `hosts`; only the others
 * (dropped, or written in another form) are kept in `seen`, so the common
 * case costs one hash lookup.
 */
static int seen_before(struct ax *a, const char *low, size_t n)
{
    json_t *prev = json_object_getn(a->seen, low, n);
    unsigned long line = 0;

    if (prev != NULL) {
        line = (unsigned long)json_integer_value(prev);
    } else if ((prev = json_object_getn(a->hosts, low, n)) != NULL &&
               a->doms[json_integer_value(prev)].same) {
        line = a->doms[json_integer_value(prev)].line;
    }
    if (line != 0) {
        fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col,
                "%.253s has already been specified (line %lu)", low, line);
        return 1;
    }
    return 0;
}

/* A domain not in its canonical form: remembered by its text. */
static int remember(struct ax *a, const char *low, size_t n)
{
    if (seen_before(a, low, n)) {
        return -1;
    }
    if (json_object_setn_new(a->seen, low, n, json_integer((json_int_t)a->el_line)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

/* A domain Android accepts and pinset cannot pin: listed, not carried. */
static void drop(struct ax *a, const char *low, size_t n, const char *why)
{
    pinset_diag hd = PINSET_DIAG_INIT;

    if (remember(a, low, n) != 0) {
        return;
    }
    if (why != NULL) {
        lose(a, "domain", a->el_line, "%s", why);
    } else if (low[n - 1] == '.') {
        lose(a, "domain", a->el_line,
             "Android never matches a domain written with a trailing dot ('%.253s'): not carried",
             low);
    } else {
        char canon[PINSET_HOST_MAX];
        if (pinset_host_canon(canon, sizeof(canon), NULL, low, n, &hd) == PINSET_OK) {
            hd.message[0] = '\0'; /* cannot happen: the caller found it refused */
        }
        lose(a, "domain", a->el_line,
             "'%.200s' is not a host name (%s): Android accepts it but no host matches it: "
             "not carried",
             low, hd.message);
    }
}

/* The end of a <domain>: Android's checks, then pinset's host form. */
static void end_domain(struct ax *a)
{
    const char *s = (const char *)a->text.p;
    size_t n = a->text.len, off;
    char low[AX_MAX_TEXT + 1], canon[PINSET_HOST_MAX];
    json_t *prev;
    long cfg = a->frame_cfg[a->depth - 1];
    int same;

    if (!a->text_seen) {
        fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col, "domain name missing");
        return;
    }
    if (++a->nseen > AX_MAX_DOMAINS) {
        fail_at(a, PINSET_E_LIMIT, a->el_line, a->el_col, "more than %d domains", AX_MAX_DOMAINS);
        return;
    }
    trim(&s, &n);
    for (size_t i = 0; i < n; i++) {
        low[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
    }
    low[n] = '\0';
    a->cfgs[cfg].ndomains++;
    if (n == 0) {
        drop(a, low, n, "an empty domain matches no host on Android: not carried");
        return;
    }
    if (strlen(low) != n) {
        drop(a, low, n, "a domain with a NUL character matches no host: not carried");
        return;
    }
    if (low[n - 1] == '.' ||
        pinset_host_canon(canon, sizeof(canon), NULL, low, n, NULL) != PINSET_OK) {
        drop(a, low, n, NULL);
        return;
    }
    same = strcmp(canon, low) == 0;
    if (!same) {
        if (remember(a, low, n) != 0) {
            return;
        }
        lose(a, "domain", a->el_line,
             "Android compares the name as written ('%.100s'); pinset pins its canonical form "
             "'%.100s'",
             low, canon);
    }
    prev = json_object_get(a->hosts, canon);
    if (prev != NULL) {
        const struct ax_domain *d = &a->doms[json_integer_value(prev)];
        if (same && d->same) {
            fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col,
                    "%.253s has already been specified (line %lu)", low, d->line);
        } else {
            fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col,
                    "'%.200s' names the same host as the domain at line %lu", low, d->line);
        }
        return;
    }
    if (a->err != PINSET_OK ||
        grow((void **)&a->doms, &a->capdoms, a->ndoms, sizeof(*a->doms)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return;
    }
    if (keep_str(a, canon, strlen(canon), &off) != 0) {
        return;
    }
    if (json_object_set_new(a->hosts, canon, json_integer((json_int_t)a->ndoms)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return;
    }
    a->doms[a->ndoms].name = off;
    a->doms[a->ndoms].cfg = cfg;
    a->doms[a->ndoms].subs = a->cur_subs;
    a->doms[a->ndoms].line = a->el_line;
    a->doms[a->ndoms].col = a->el_col;
    a->doms[a->ndoms].same = same;
    a->ndoms++;
}

static void end_pin(struct ax *a)
{
    const char *s = (const char *)a->text.p;
    size_t n = a->text.len;
    struct ax_pinset *ps = &a->sets[a->cfgs[a->frame_cfg[a->depth - 1]].pinset];
    uint8_t raw[PINSET_PIN_LEN];
    char canon[PINSET_PIN_STR_MAX];
    pinset_pin pin;
    long got;

    if (!a->text_seen) {
        fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col, "missing pin digest");
        return;
    }
    trim(&s, &n);
    got = android_b64(s, n, raw, sizeof(raw));
    if (got < 0) {
        fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col, "invalid pin digest: not base64");
        return;
    }
    if (got != PINSET_PIN_LEN) {
        fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col,
                "digest length %ld does not match expected length for SHA-256 of 32", got);
        return;
    }
    memcpy(pin.sha256, raw, sizeof(raw));
    pin.kind = PINSET_PIN_SPKI;
    if (pinset_pin_format(canon, sizeof(canon), &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        FAIL(a, PINSET_E_INTERNAL, "cannot format a pin");
        return;
    }
    if (strlen(canon) != n || memcmp(canon, s, n) != 0) {
        lose(a, "pin", a->el_line,
             "non-canonical base64 (unused bits set, padding missing or characters outside the "
             "alphabet, as Android's decoder accepts): stored as %s",
             canon);
    }
    for (size_t i = 0; i < ps->n; i++) {
        if (memcmp(ps->pins[i], raw, sizeof(raw)) == 0) {
            return; /* Android keeps a set of pins */
        }
    }
    if (ps->n >= AX_MAX_PINS) {
        fail_at(a, PINSET_E_LIMIT, a->el_line, a->el_col, "more than %d pins in one pin-set",
                AX_MAX_PINS);
        return;
    }
    if (grow((void **)&ps->pins, &ps->cap, ps->n, sizeof(*ps->pins)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return;
    }
    memcpy(ps->pins[ps->n++], raw, sizeof(raw));
}

static void end_uri(struct ax *a)
{
    const char *s = (const char *)a->text.p;
    size_t n = a->text.len, off;
    struct ax_tk *tk = &a->tks[a->cfgs[a->frame_cfg[a->depth - 1]].tk];

    trim(&s, &n);
    if (n == 0 || n > AX_MAX_URI ||
        (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)) {
        fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col,
                "report-uri: expected an http:// or https:// URI of at most %d octets", AX_MAX_URI);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) {
            fail_at(a, PINSET_E_PARSE, a->el_line, a->el_col,
                    "report-uri: a space or control character inside the URI");
            return;
        }
    }
    for (size_t i = 0; i < tk->uris_n; i++) {
        const char *u = str_at(a, a->uris[tk->uris_first + i]);
        if (strlen(u) == n && memcmp(u, s, n) == 0) {
            return; /* TrustKit keeps a set */
        }
    }
    if (tk->uris_n >= AX_MAX_URIS) {
        fail_at(a, PINSET_E_LIMIT, a->el_line, a->el_col, "more than %d report URIs", AX_MAX_URIS);
        return;
    }
    if (grow((void **)&a->uris, &a->capuris, a->nuris, sizeof(*a->uris)) != 0) {
        FAIL(a, PINSET_E_NOMEM, "out of memory");
        return;
    }
    if (keep_str(a, s, n, &off) == 0) {
        a->uris[a->nuris++] = off;
        tk->uris_n++;
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct ax *a = ud;
    enum ax_kind k;

    (void)name;
    if (a->err != PINSET_OK || a->depth == 0) {
        return;
    }
    k = a->kind[a->depth - 1];
    if (k == K_DOMAIN) {
        end_domain(a);
    } else if (k == K_PIN) {
        end_pin(a);
    } else if (k == K_TKURI) {
        end_uri(a);
    } else if (k == K_CFG && a->cfgs[a->frame_cfg[a->depth - 1]].ndomains == 0) {
        FAIL(a, PINSET_E_PARSE, "no domain elements in domain-config");
    }
    a->depth--;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    FAIL((struct ax *)ud, PINSET_E_PARSE,
         "a document type declaration (<!DOCTYPE>) is refused: no DTD, no entities, nothing "
         "external");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid, (void)pubid,
        (void)notation;
    FAIL((struct ax *)ud, PINSET_E_PARSE, "an entity declaration is refused");
}

static int XMLCALL on_external(XML_Parser xp, const XML_Char *context, const XML_Char *base,
                               const XML_Char *sysid, const XML_Char *pubid)
{
    (void)xp, (void)context, (void)base, (void)sysid, (void)pubid;
    return XML_STATUS_ERROR; /* never reached without a DTD: nothing external is ever read */
}

static void XMLCALL on_xmldecl(void *ud, const XML_Char *version, const XML_Char *encoding,
                               int standalone)
{
    (void)version, (void)standalone;
    if (encoding != NULL && !ascii_ieq(encoding, "UTF-8") && !ascii_ieq(encoding, "US-ASCII")) {
        FAIL((struct ax *)ud, PINSET_E_PARSE,
             "encoding '%.32s' is not read: save the file as UTF-8", encoding);
    }
}

/* ---- the model ---- */

/* What each config inherits (parents come before their children). */
static void inherit(struct ax *a)
{
    for (size_t i = 0; i < a->ncfgs; i++) {
        struct ax_cfg *c = &a->cfgs[i];
        const struct ax_cfg *p = c->parent >= 0 ? &a->cfgs[c->parent] : NULL;
        c->eff_pinset = c->pinset >= 0 ? c->pinset : p != NULL ? p->eff_pinset : -1;
        c->eff_tk = c->tk >= 0 ? c->tk : p != NULL ? p->eff_tk : -1;
        c->eff_nodefault = p != NULL ? p->eff_nodefault : 0;
        if (c->tk >= 0 && a->tks[c->tk].nodefault >= 0) {
            c->eff_nodefault = a->tks[c->tk].nodefault;
        }
    }
}

static int pins_live(const struct ax *a, long set)
{
    return set >= 0 && a->sets[set].n > 0 && !a->sets[set].dead;
}

/*
 * Whether an unpinned domain needs an exclusion: the nearest domain with
 * includeSubdomains above it is pinned (else nothing covers it, or an
 * exclusion above already does).
 */
static int needs_exclusion(const struct ax *a, const char *host)
{
    for (const char *p = strchr(host, '.'); p != NULL; p = strchr(p + 1, '.')) {
        json_t *j = json_object_get(a->hosts, p + 1);
        if (j != NULL && a->doms[json_integer_value(j)].subs) {
            return a->doms[json_integer_value(j)].pinned;
        }
    }
    return 0;
}

/*
 * The native document is written as text straight into a buffer (the
 * values are canonical hosts, base64 pins, dates and checked URIs, escaped
 * as JSON strings all the same) and read by pinset_policy_parse, so that
 * every policy passes the one native parser. Building a jansson tree and
 * dumping it would cost a third of an import of 100,000 domains.
 */
struct tout {
    struct pinset__buf *b;
    pinset_err err; /* the first failure: nothing more is appended after it */
};

static void app(struct tout *t, const void *s, size_t n)
{
    if (t->err == PINSET_OK) {
        t->err = pinset__buf_append(t->b, s, n);
    }
}

static void put(struct tout *t, const char *s)
{
    app(t, s, strlen(s));
}

static void put_str(struct tout *t, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    put(t, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\' || c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            app(t, run, (size_t)(s - run));
            app(t, esc, sizeof(esc));
            run = s + 1;
        }
    }
    app(t, run, (size_t)(s - run));
    put(t, "\"");
}

static void put_pins(struct tout *t, const struct ax_pinset *ps)
{
    char b64[PINSET_PIN_STR_MAX];

    put(t, "[");
    for (size_t i = 0; i < ps->n; i++) {
        pinset_pin pin;
        memcpy(pin.sha256, ps->pins[i], PINSET_PIN_LEN);
        pin.kind = PINSET_PIN_SPKI;
        if (pinset_pin_format(b64, sizeof(b64), &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
            b64[0] = '\0'; /* cannot happen; the parser would refuse it */
        }
        put(t, i == 0 ? "\"" : ",\"");
        put(t, b64);
        put(t, "\"");
    }
    put(t, "]");
}

static void put_rule(const struct ax *a, struct tout *t, const struct ax_domain *d)
{
    const struct ax_cfg *c = &a->cfgs[d->cfg];
    const struct ax_pinset *ps;
    char tmp[48];

    put(t, "{\"host\":");
    put_str(t, str_at(a, d->name));
    put(t, d->subs ? ",\"include_subdomains\":true" : ",\"include_subdomains\":false");
    if (!d->pinned) {
        put(t, ",\"exclude\":true}");
        return;
    }
    ps = &a->sets[c->eff_pinset];
    if (ps->uses > 1) {
        (void)snprintf(tmp, sizeof(tmp), ",\"pinset\":\"android-line-%lu\"", ps->line);
        put(t, tmp);
    } else {
        put(t, ",\"pins\":");
        put_pins(t, ps);
    }
    if (ps->expires != 0) {
        int64_t y;
        unsigned m, dd;
        pinset__civil_from_days(ps->expires / 86400, &y, &m, &dd);
        (void)snprintf(tmp, sizeof(tmp), ",\"expires\":\"%04lld-%02u-%02u\"", (long long)y, m, dd);
        put(t, tmp);
        put(t, ",\"on_expiry\":\"fail-open\"");
    }
    if (c->eff_tk >= 0) {
        const struct ax_tk *tk = &a->tks[c->eff_tk];
        put(t, tk->enforce ? ",\"mode\":\"enforce\"" : ",\"mode\":\"report\"");
        if (tk->uris_n > 0) {
            put(t, ",\"report_uris\":[");
            for (size_t i = 0; i < tk->uris_n; i++) {
                put(t, i == 0 ? "" : ",");
                put_str(t, str_at(a, a->uris[tk->uris_first + i]));
            }
            put(t, "]");
        }
    }
    put(t, "}");
}

/*
 * The native document of what was read, into t; *at receives each rule's
 * <domain> position (line, column), for a refusal by the native parser.
 */
static pinset_err build(struct ax *a, struct tout *t, unsigned long (**at)[2])
{
    size_t tk_default = 0, first = 1, nrules = 0;

    *at = pinset__alloc_array(a->ndoms + 1, sizeof(**at));
    if (*at == NULL) {
        return PINSET_DIAG(a->diag, PINSET_E_NOMEM, "out of memory");
    }

    inherit(a);
    for (size_t i = 0; i < a->ndoms; i++) {
        struct ax_domain *d = &a->doms[i];
        d->pinned = pins_live(a, a->cfgs[d->cfg].eff_pinset);
        if (d->pinned) {
            a->sets[a->cfgs[d->cfg].eff_pinset].uses++;
            if (a->cfgs[d->cfg].eff_tk >= 0 && !a->cfgs[d->cfg].eff_nodefault) {
                tk_default++;
            }
        }
    }
    if (tk_default > 0) {
        char why[200];
        (void)snprintf(why, sizeof(why),
                       "TrustKit also reports to its default server unless "
                       "disableDefaultReportUri is true (%zu domain(s)): pinset reports only to "
                       "the listed URIs",
                       tk_default);
        if (pinset_fidelity_add(a->f, SIZE_MAX, NULL, "<trustkit-config>", why) != PINSET_OK) {
            return PINSET_DIAG(a->diag, PINSET_E_NOMEM, "out of memory");
        }
    }
    put(t, "{\"version\":1,\"pinsets\":{");
    for (size_t i = 0; i < a->nsets; i++) {
        char name[48];
        if (a->sets[i].uses < 2) {
            continue;
        }
        (void)snprintf(name, sizeof(name), "%s\"android-line-%lu\":{\"pins\":", first ? "" : ",",
                       a->sets[i].line);
        put(t, name);
        put_pins(t, &a->sets[i]);
        put(t, "}");
        first = 0;
    }
    put(t, "},\"rules\":[");
    first = 1;
    for (size_t i = 0; i < a->ndoms; i++) {
        const struct ax_domain *d = &a->doms[i];
        if (d->pinned || needs_exclusion(a, str_at(a, d->name))) {
            put(t, first ? "" : ",");
            put_rule(a, t, d);
            first = 0;
            (*at)[nrules][0] = d->line;
            (*at)[nrules++][1] = d->col;
        }
    }
    put(t, "]}");
    if (t->err == PINSET_E_LIMIT) {
        return PINSET_DIAG(a->diag, t->err, "the model's document would exceed %zu octets",
                           XF_MAX_DOC);
    }
    return t->err == PINSET_OK ? PINSET_OK : PINSET_DIAG(a->diag, t->err, "out of memory");
}

/* ---- entry ---- */

static void ax_free(struct ax *a)
{
    for (size_t i = 0; i < a->nsets; i++) {
        pinset__free(a->sets[i].pins);
    }
    pinset__free(a->sets);
    pinset__free(a->cfgs);
    pinset__free(a->tks);
    pinset__free(a->uris);
    pinset__free(a->doms);
    pinset__buf_free(&a->text);
    pinset__buf_free(&a->strs);
    json_decref(a->seen);
    json_decref(a->hosts);
    if (a->xp != NULL) {
        XML_ParserFree(a->xp);
    }
}

/*
 * A refusal by the native parser (a report URI its grammar refuses, say):
 * the generated text's positions would mislead, so the position becomes
 * that of the rule's <domain> (the path names the rule: rules[N]...), or of
 * the <pin-set> a shared pin-set's name holds; the reason and path stay.
 */
static void native_refused(pinset_diag *diag, unsigned long (*at)[2], size_t nrules)
{
    const char *p = diag->path;
    unsigned long line = 0, col = 0;
    char *end;

    if (strncmp(p, "rules[", 6) == 0) {
        unsigned long i = strtoul(p + 6, &end, 10);
        if (*end == ']' && i < nrules) {
            line = at[i][0];
            col = at[i][1];
        }
    } else if (strncmp(p, "pinsets.android-line-", 21) == 0) {
        line = strtoul(p + 21, &end, 10);
    }
    pinset__diag_pos(diag, SIZE_MAX, line, col, 0);
}

/* UTF-16 (with or without a byte order mark) is refused before expat sees it. */
static int utf16(const uint8_t *b, size_t len)
{
    return len >= 2 && ((b[0] == 0xfe && b[1] == 0xff) || (b[0] == 0xff && b[1] == 0xfe) ||
                        (b[0] == 0 && b[1] == '<') || (b[0] == '<' && b[1] == 0));
}

pinset_err xf_android_import(pinset_policy **out, pinset_fidelity *f, const uint8_t *buf,
                             size_t len, const pinset_convert_options *opts, pinset_diag *diag)
{
    struct ax a;
    struct pinset__buf doc;
    unsigned long(*at)[2] = NULL;
    size_t nrules;
    pinset_err err;

    (void)opts; /* a Network Security Config names its domains */
    memset(&a, 0, sizeof(a));
    a.f = f;
    a.diag = diag;
    pinset__buf_init(&a.text, AX_MAX_TEXT, 0);
    pinset__buf_init(&a.strs, XF_MAX_DOC, 0);
    if (utf16(buf, len)) {
        fail_at(&a, PINSET_E_PARSE, 1, 1,
                "UTF-16 is not read: save the Network Security Config as UTF-8");
        return a.err;
    }
    if (len > (size_t)INT_MAX) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "document over %d octets", INT_MAX);
    }
    a.seen = json_object();
    a.hosts = json_object();
    a.xp = XML_ParserCreate(NULL);
    if (a.xp == NULL || a.seen == NULL || a.hosts == NULL) {
        ax_free(&a);
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    XML_SetUserData(a.xp, &a);
    XML_SetElementHandler(a.xp, on_start, on_end);
    XML_SetCharacterDataHandler(a.xp, on_text);
    XML_SetStartDoctypeDeclHandler(a.xp, on_doctype);
    XML_SetEntityDeclHandler(a.xp, on_entity);
    XML_SetExternalEntityRefHandler(a.xp, on_external);
    XML_SetXmlDeclHandler(a.xp, on_xmldecl);
    (void)XML_SetParamEntityParsing(a.xp, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(a.xp, (const char *)buf, (int)len, 1) != XML_STATUS_OK && a.err == PINSET_OK) {
        fail_at(&a, PINSET_E_PARSE, cur_line(&a), cur_col(&a), "invalid xml: %s",
                XML_ErrorString(XML_GetErrorCode(a.xp)));
    }
    err = a.err;
    pinset__buf_init(&doc, XF_MAX_DOC, 0);
    if (err == PINSET_OK) {
        struct tout t = {&doc, PINSET_OK};
        err = build(&a, &t, &at);
    }
    nrules = a.ndoms;
    ax_free(&a); /* before the native parser runs: the peak is one model, not two */
    if (err == PINSET_OK) {
        err = pinset_policy_parse(out, doc.p, doc.len, diag);
        if (err != PINSET_OK && diag != NULL) {
            native_refused(diag, at, nrules);
        }
    }
    pinset__free(at);
    pinset__buf_free(&doc);
    return err;
}
