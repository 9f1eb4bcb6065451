/*
 * formats.c - the conversion layer (pinset/convert.h): format names,
 * detection by content, and pinset_policy_import / pinset_policy_export,
 * which dispatch to the native parser and writer or to one file per foreign
 * format, and the helpers those files share.
 */
#include "formats/formats.h"

#include <pinset/convert.h>

#include "util/buf.h"

static const char *const format_names[] = {
    [PINSET_FORMAT_UNKNOWN] = "unknown",
    [PINSET_FORMAT_NATIVE] = "native",
    [PINSET_FORMAT_HPKP] = "hpkp",
    [PINSET_FORMAT_CURL] = "curl",
    [PINSET_FORMAT_OKHTTP] = "okhttp",
    [PINSET_FORMAT_OKHTTP_KOTLIN] = "okhttp-kotlin",
    [PINSET_FORMAT_OKHTTP_JAVA] = "okhttp-java",
    [PINSET_FORMAT_CHROMIUM] = "chromium",
    [PINSET_FORMAT_TRUSTKIT] = "trustkit",
    [PINSET_FORMAT_ANDROID] = "android",
    [PINSET_FORMAT_TRUSTKIT_PLIST] = "trustkit-plist",
    [PINSET_FORMAT_ATS] = "ats",
    [PINSET_FORMAT_ENVOY] = "envoy",
};

const char *pinset_format_name(pinset_format format)
{
    if ((unsigned)format >= PINSET_ARRAY_SIZE(format_names) || format_names[format] == NULL) {
        return "unknown";
    }
    return format_names[format];
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int eq_nocase(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        if (lower((unsigned char)*a) != lower((unsigned char)*b)) {
            return 0;
        }
    }
    return *a == *b;
}

/* s[0..n) begins with word, ASCII case-insensitive. */
static int starts_nocase(const uint8_t *s, size_t n, const char *word)
{
    size_t k = strlen(word);

    if (n < k) {
        return 0;
    }
    for (size_t i = 0; i < k; i++) {
        if (lower(s[i]) != lower((unsigned char)word[i])) {
            return 0;
        }
    }
    return 1;
}

pinset_format pinset_format_from_name(const char *name)
{
    if (name == NULL) {
        return PINSET_FORMAT_UNKNOWN;
    }
    if (eq_nocase(name, "json")) {
        return PINSET_FORMAT_NATIVE;
    }
    for (size_t i = 1; i < PINSET_ARRAY_SIZE(format_names); i++) {
        if (format_names[i] != NULL && eq_nocase(name, format_names[i])) {
            return (pinset_format)i;
        }
    }
    return PINSET_FORMAT_UNKNOWN;
}

static pinset_format by_extension(const char *name)
{
    const char *dot = name != NULL ? strrchr(name, '.') : NULL;

    if (dot == NULL || strchr(dot, '/') != NULL) {
        return PINSET_FORMAT_UNKNOWN;
    }
    if (eq_nocase(dot, ".json")) {
        return PINSET_FORMAT_NATIVE;
    }
    if (eq_nocase(dot, ".hpkp")) {
        return PINSET_FORMAT_HPKP;
    }
    if (eq_nocase(dot, ".curl")) {
        return PINSET_FORMAT_CURL;
    }
    if (eq_nocase(dot, ".okhttp")) {
        return PINSET_FORMAT_OKHTTP;
    }
    if (eq_nocase(dot, ".xml")) {
        return PINSET_FORMAT_ANDROID;
    }
    if (eq_nocase(dot, ".plist")) {
        return PINSET_FORMAT_ATS;
    }
    if (eq_nocase(dot, ".yaml") || eq_nocase(dot, ".yml")) {
        return PINSET_FORMAT_ENVOY;
    }
    return PINSET_FORMAT_UNKNOWN;
}

/* Whether the (lower-cased) word occurs in s[0..n). */
static int contains_nocase(const uint8_t *s, size_t n, const char *word)
{
    size_t k = strlen(word);

    for (size_t i = 0; i + k <= n; i++) {
        if (starts_nocase(s + i, n - i, word)) {
            return 1;
        }
    }
    return 0;
}

/* OkHttp's list: a pin `sha256/` or `sha1/` after a blank or a comma (PATTERN sha256/B64). */
static int is_okhttp_list(const uint8_t *s, size_t n)
{
    static const char *const marks[] = {" sha256/", "\tsha256/", ",sha256/",
                                        " sha1/",   "\tsha1/",   ",sha1/"};

    for (size_t k = 0; k < PINSET_ARRAY_SIZE(marks); k++) {
        if (contains_nocase(s, n, marks[k])) {
            return 1;
        }
    }
    return 0;
}

/* Whether "key" occurs in s[0..n) as an object key: quoted, then optional blanks and ':'. */
static int has_key(const uint8_t *s, size_t n, const char *key)
{
    size_t k = strlen(key);
    int depth = 0;

    /* a key of the top-level object only: a pin-set named "entries" is no Chromium file */
    for (size_t i = 0; i < n; i++) {
        size_t j;
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n') {
                i++;
            }
            continue;
        }
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++) {
            }
            i++;
            continue;
        }
        if (s[i] == '{' || s[i] == '[') {
            depth++;
            continue;
        }
        if (s[i] == '}' || s[i] == ']') {
            depth--;
            continue;
        }
        if (s[i] != '"') {
            continue;
        }
        for (j = i + 1; j < n && s[j] != '"'; j++) {
            j += s[j] == '\\'; /* an escaped character, a quote included */
        }
        if (j >= n) {
            return 0;
        }
        if (depth == 1 && j - i - 1 == k && memcmp(s + i + 1, key, k) == 0) {
            size_t m = j + 1;
            while (m < n && (s[m] == ' ' || s[m] == '\t' || s[m] == '\r' || s[m] == '\n')) {
                m++;
            }
            if (m < n && s[m] == ':') {
                return 1;
            }
        }
        i = j;
    }
    return 0;
}

/*
 * Which JSON format a document is, from the keys in its first 4096 octets:
 * TrustKit's TSKPinnedDomains, Chromium's entries, native's version or
 * rules; then the name
 * (Chromium's transport_security_state_static*.json, a name with
 * "trustkit"); then comments (only Chromium's JSON has them); else native.
 */
static pinset_format json_flavour(const uint8_t *s, size_t n, const char *name)
{
    const char *base = name != NULL ? strrchr(name, '/') : NULL;

    base = base != NULL ? base + 1 : name;
    if (has_key(s, n, "TSKPinnedDomains") || has_key(s, n, "TSKConfiguration")) {
        return PINSET_FORMAT_TRUSTKIT;
    }
    if (has_key(s, n, "entries")) {
        return PINSET_FORMAT_CHROMIUM;
    }
    if (has_key(s, n, "version") || has_key(s, n, "rules")) {
        return PINSET_FORMAT_NATIVE;
    }
    if (base != NULL && contains_nocase((const uint8_t *)base, strlen(base), "trustkit")) {
        return PINSET_FORMAT_TRUSTKIT;
    }
    if ((base != NULL &&
         contains_nocase((const uint8_t *)base, strlen(base), "transport_security_state")) ||
        s[0] == '/') {
        return PINSET_FORMAT_CHROMIUM;
    }
    return PINSET_FORMAT_NATIVE;
}

/* A property list (XML or binary): TrustKit's when it holds TSKConfiguration, else ATS's. */
static pinset_format plist_flavour(const uint8_t *s, size_t n)
{
    static const char key[] = "TSKConfiguration";

    if (n > (size_t)1 << 20) {
        n = (size_t)1 << 20;
    }
    for (size_t i = 0; i + sizeof(key) - 1 <= n; i++) {
        if (memcmp(s + i, key, sizeof(key) - 1) == 0) {
            return PINSET_FORMAT_TRUSTKIT_PLIST;
        }
    }
    return PINSET_FORMAT_ATS;
}

/* XML: a property list, or an Android Network Security Config (or TrustKit-Android's). */
static pinset_format xml_flavour(const uint8_t *s, size_t n, size_t all)
{
    if (contains_nocase(s, n, "<plist") || contains_nocase(s, n, "<!DOCTYPE plist")) {
        return plist_flavour(s, all);
    }
    if (contains_nocase(s, n, "<network-security-config") ||
        contains_nocase(s, n, "<trustkit-config")) {
        return PINSET_FORMAT_ANDROID;
    }
    return PINSET_FORMAT_UNKNOWN;
}

pinset_format pinset_format_detect(const uint8_t *buf, size_t len, const char *name)
{
    size_t i = 0;
    size_t all = len;

    if (buf == NULL) {
        return by_extension(name);
    }
    if (len >= 8 && memcmp(buf, "bplist00", 8) == 0) {
        return plist_flavour(buf, len);
    }
    if (len > 4096) {
        len = 4096;
    }
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) {
        i = 3; /* a UTF-8 byte order mark */
    }
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')) {
        i++;
    }
    if (i < len && (buf[i] == '{' || buf[i] == '/')) {
        return json_flavour(buf + i, len - i, name);
    }
    if (i < len && buf[i] == '<') {
        pinset_format f = xml_flavour(buf + i, len - i, all - i);
        return f != PINSET_FORMAT_UNKNOWN ? f : by_extension(name);
    }
    if (starts_nocase(buf + i, len - i, "sha256//")) {
        return PINSET_FORMAT_CURL;
    }
    if (starts_nocase(buf + i, len - i, "public-key-pins") ||
        contains_nocase(buf + i, len - i, "max-age") ||
        contains_nocase(buf + i, len - i, "pin-sha256=")) {
        return PINSET_FORMAT_HPKP;
    }
    if (is_okhttp_list(buf + i, len - i)) {
        return PINSET_FORMAT_OKHTTP;
    }
    return by_extension(name);
}

/* ---- helpers shared by the converters ---- */

pinset_err pinset__fmt_rule_host(pinset_policy *p, struct pinset_rule *r, const char *host,
                                 pinset_diag *diag)
{
    char canon[PINSET_HOST_MAX];
    pinset_host_type type = PINSET_HOST_DNS;
    pinset_err err;

    if (host == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "this format names no host: the host option is required");
    }
    err = pinset_host_canon(canon, sizeof(canon), &type, host, strlen(host), diag);
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset__policy_add_str(p, &r->host, canon, strlen(canon));
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory");
    }
    r->host_len = (uint16_t)strlen(canon);
    r->host_type = (uint8_t)type;
    return PINSET_OK;
}

pinset_err pinset__fmt_add_pin(pinset_policy *p, struct pinset_rule *r, const pinset_pin *pin,
                               pinset_role role, int *added_out)
{
    struct pinset__pin_entry *e;

    *added_out = 0;
    if (r->pins_count == 0) {
        r->pins_first = (uint32_t)p->npins;
    }
    for (size_t i = 0; i < r->pins_count; i++) {
        if (pinset_pin_equal(&p->pins[r->pins_first + i].pin, pin)) {
            return PINSET_OK; /* the same pin twice counts once */
        }
    }
    if (r->pins_count >= PINSET_MAX_PINS_PER_RULE) {
        return PINSET_E_LIMIT;
    }
    e = pinset__policy_add_pin(p);
    if (e == NULL) {
        return PINSET_E_NOMEM;
    }
    e->pin = *pin;
    e->role = (uint8_t)role;
    r->pins_count++;
    *added_out = 1;
    return PINSET_OK;
}

pinset_err pinset__fmt_select(const pinset_policy *p, const pinset_convert_options *opts,
                              size_t *first_out, size_t *count_out, pinset_diag *diag)
{
    char canon[PINSET_HOST_MAX];
    pinset_host_type type = PINSET_HOST_DNS;
    const pinset_rule *r;
    pinset_err err;

    *first_out = 0;
    *count_out = p->nrules;
    if (opts->host == NULL) {
        return PINSET_OK;
    }
    err = pinset_host_canon(canon, sizeof(canon), &type, opts->host, strlen(opts->host), diag);
    if (err != PINSET_OK) {
        return err;
    }
    r = pinset__policy_find(p, canon, strlen(canon));
    if (r == NULL) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "no rule names host '%s'", canon);
    }
    *first_out = r->index;
    *count_out = 1;
    return PINSET_OK;
}

size_t pinset__fmt_pin_count(const pinset_policy *p, const struct pinset_rule *r)
{
    size_t n = r->pins_count;

    if (r->pinset >= 0) {
        n += p->pinsets[r->pinset].count;
    }
    return n;
}

const struct pinset__pin_entry *pinset__fmt_pin(const pinset_policy *p, const struct pinset_rule *r,
                                                size_t i)
{
    if (r->pinset >= 0) {
        const struct pinset__pinset *ps = &p->pinsets[r->pinset];
        if (i < ps->count) {
            return &p->pins[ps->first + i];
        }
        i -= ps->count;
    }
    return &p->pins[r->pins_first + i];
}

pinset_err pinset__fmt_lose_settings(pinset_fidelity *f, const pinset_policy *p,
                                     const struct pinset_rule *r, const char *fmt_name)
{
    const char *host = pinset__policy_str(p, r->host);
    pinset_err err = PINSET_OK;

    if (r->mode == PINSET_MODE_REPORT) {
        err = pinset__fidelity_add(f, r->index, host, "mode",
                                   "%s has no report mode: the pins are enforced", fmt_name);
    }
    if (err == PINSET_OK && r->expires != 0) {
        err = pinset__fidelity_add(f, r->index, host, "expires",
                                   "%s has no expiry: the pins never expire", fmt_name);
    }
    if (err == PINSET_OK && r->uris_count > 0) {
        err =
            pinset__fidelity_add(f, r->index, host, "report_uris",
                                 "%s sends no reports: the report uris are not written", fmt_name);
    }
    if (err == PINSET_OK && r->min_pins != 2) {
        err = pinset__fidelity_add(f, r->index, host, "min_pins",
                                   "%s has no min_pins: %u is not kept", fmt_name,
                                   (unsigned)r->min_pins);
    }
    return err == PINSET_OK ? pinset__fmt_lose_common(f, p, r, fmt_name) : err;
}

pinset_err pinset__fmt_lose_common(pinset_fidelity *f, const pinset_policy *p,
                                   const struct pinset_rule *r, const char *fmt_name)
{
    const char *host = pinset__policy_str(p, r->host);
    char field[64];
    pinset_err err = PINSET_OK;

    if (r->pinset >= 0) {
        err = pinset__fidelity_add(f, r->index, host, "pinset",
                                   "%s has no named pin-sets: the pins of '%s' are written inline",
                                   fmt_name, pinset__policy_str(p, p->pinsets[r->pinset].name));
    }
    for (size_t i = 0; err == PINSET_OK && i < pinset__fmt_pin_count(p, r); i++) {
        if (pinset__fmt_pin(p, r, i)->label != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].label", i);
            err = pinset__fidelity_add(f, r->index, host, field, "%s has no pin labels", fmt_name);
        }
    }
    if (err == PINSET_OK && r->blocked_count > 0) {
        err = pinset__fidelity_add(f, r->index, host, "blocked",
                                   "%s has no blocked keys: %u blocked pin(s) not written",
                                   fmt_name, (unsigned)r->blocked_count);
    }
    return err;
}

/* ---- import and export ---- */

static const pinset_convert_options default_opts = PINSET_CONVERT_OPTIONS_INIT;

static pinset_err import_foreign(pinset_policy **out, pinset_fidelity *f, const uint8_t *buf,
                                 size_t len, pinset_format format,
                                 const pinset_convert_options *opts, pinset_diag *diag)
{
    pinset_policy *p = NULL;
    size_t bad = 0;
    pinset_err err = pinset__policy_new(&p);

    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory");
    }
    if (format == PINSET_FORMAT_HPKP) {
        err = pinset__hpkp_import(p, f, buf, len, opts, diag);
    } else if (format == PINSET_FORMAT_OKHTTP) {
        err = pinset__okhttp_import(p, f, buf, len, opts, diag);
    } else if (format == PINSET_FORMAT_CURL) {
        err = pinset__curl_import(p, f, buf, len, opts, diag);
    } else if (format == PINSET_FORMAT_CHROMIUM) {
        err = pinset__chromium_import(p, f, buf, len, opts, diag); /* finishes p */
    } else {
        err = pinset__trustkit_import(p, f, buf, len, opts, diag); /* finishes p */
    }
    if (err == PINSET_OK && (format == PINSET_FORMAT_HPKP || format == PINSET_FORMAT_CURL ||
                             format == PINSET_FORMAT_OKHTTP)) {
        err = pinset__policy_finish(p, &bad, diag);
    }
    if (err != PINSET_OK) {
        pinset_policy_free(p);
        return err;
    }
    *out = p;
    return PINSET_OK;
}

pinset_err pinset_policy_import(pinset_policy **out, pinset_fidelity **fidelity_out,
                                const uint8_t *buf, size_t len, pinset_format format,
                                const pinset_convert_options *opts, pinset_diag *diag)
{
    pinset_fidelity *f = NULL;
    pinset_err err;

    if (out != NULL) {
        *out = NULL;
    }
    if (fidelity_out != NULL) {
        *fidelity_out = NULL;
    }
    if (out == NULL || (buf == NULL && len > 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "no output pointer or no input");
    }
    if (opts == NULL) {
        opts = &default_opts;
    }
    if (opts->version != PINSET_CONVERT_OPTIONS_VERSION || opts->now < 0 ||
        opts->now > PINSET_FMT_TIME_MAX) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "invalid convert options (version %u, or now outside 1970 to 9999)",
                           opts->version);
    }
    err = pinset__fidelity_new(&f);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory");
    }
    switch (format) {
    case PINSET_FORMAT_NATIVE:
        err = pinset_policy_parse(out, buf, len, diag);
        break;
    case PINSET_FORMAT_HPKP:
    case PINSET_FORMAT_CURL:
    case PINSET_FORMAT_OKHTTP:
    case PINSET_FORMAT_CHROMIUM:
    case PINSET_FORMAT_TRUSTKIT:
        err = import_foreign(out, f, buf, len, format, opts, diag);
        break;
    case PINSET_FORMAT_OKHTTP_KOTLIN:
    case PINSET_FORMAT_OKHTTP_JAVA:
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                          "%s is written only: read the pattern/pin list (okhttp)",
                          pinset_format_name(format));
        break;
    case PINSET_FORMAT_ANDROID:
    case PINSET_FORMAT_TRUSTKIT_PLIST:
    case PINSET_FORMAT_ATS:
    case PINSET_FORMAT_ENVOY:
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                          "%s is read by libpinset-formats (pinset_formats_import)",
                          pinset_format_name(format));
        break;
    case PINSET_FORMAT_UNKNOWN:
    default:
        err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "unknown format %d", (int)format);
        break;
    }
    if (err != PINSET_OK || fidelity_out == NULL) {
        pinset_fidelity_free(f);
        return err;
    }
    *fidelity_out = f;
    return PINSET_OK;
}

static pinset_err export_to(pinset_fidelity *f, const pinset_policy *policy, pinset_format format,
                            const pinset_convert_options *opts, pinset_write_fn write,
                            void *payload, pinset_diag *diag)
{
    struct pinset__buf b;
    pinset_err err;

    if (format == PINSET_FORMAT_NATIVE) {
        return pinset_policy_write(policy, write, payload);
    }
    /* foreign documents are small: built whole, so that a failure writes nothing */
    pinset__buf_init(&b, PINSET_MAX_POLICY_SIZE, 0);
    if (format == PINSET_FORMAT_HPKP) {
        err = pinset__hpkp_export(f, policy, opts, &b, diag);
    } else if (format == PINSET_FORMAT_OKHTTP || format == PINSET_FORMAT_OKHTTP_KOTLIN ||
               format == PINSET_FORMAT_OKHTTP_JAVA) {
        err = pinset__okhttp_export(f, policy, format, opts, &b, diag);
    } else if (format == PINSET_FORMAT_CURL) {
        err = pinset__curl_export(f, policy, opts, &b, diag);
    } else if (format == PINSET_FORMAT_CHROMIUM) {
        err = pinset__chromium_export(f, policy, opts, &b, diag);
    } else {
        err = pinset__trustkit_export(f, policy, opts, &b, diag);
    }
    if (err == PINSET_OK) {
        err = pinset__emit(write, payload, (const char *)b.p, b.len);
    }
    pinset__buf_free(&b);
    return err;
}

pinset_err pinset_policy_export(pinset_fidelity **fidelity_out, const pinset_policy *policy,
                                pinset_format format, const pinset_convert_options *opts,
                                pinset_write_fn write, void *payload, pinset_diag *diag)
{
    pinset_fidelity *f = NULL;
    pinset_err err;

    if (fidelity_out != NULL) {
        *fidelity_out = NULL;
    }
    if (policy == NULL || write == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "no policy or no sink");
    }
    if (opts == NULL) {
        opts = &default_opts;
    }
    if (opts->version != PINSET_CONVERT_OPTIONS_VERSION || opts->max_age < 0 || opts->now < 0 ||
        opts->now > PINSET_FMT_TIME_MAX) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "invalid convert options");
    }
    if (format == PINSET_FORMAT_UNKNOWN || (unsigned)format > PINSET_FORMAT_ENVOY) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "unknown format %d", (int)format);
    }
    if (format > PINSET_FORMAT_TRUSTKIT) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                           "%s is written by libpinset-formats (pinset_formats_export)",
                           pinset_format_name(format));
    }
    err = pinset__fidelity_new(&f);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory");
    }
    err = export_to(f, policy, format, opts, write, payload, diag);
    if (err == PINSET_E_NOMEM && diag != NULL && diag->code == PINSET_OK) {
        (void)PINSET_DIAG(diag, err, "out of memory");
    }
    if (err != PINSET_OK || fidelity_out == NULL) {
        pinset_fidelity_free(f);
        return err;
    }
    *fidelity_out = f;
    return PINSET_OK;
}
