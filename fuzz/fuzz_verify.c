/*
 * fuzz_verify.c - the verdict: pinset_check over arbitrary DER "chains".
 *
 * Input layout (every field optional: a short input just stops early):
 *   byte 0  rule flags: bit 0 report mode, bit 1 include_subdomains, bit 2
 *           expires (2030-01-01) with on_expiry from bits 3-4 (fail-open,
 *           fail-closed, report), bit 5 an exclusion for x.example.com, bit 6
 *           no filler pin (so that only blocked specs make a deny list)
 *   byte 1  the host checked (index into a fixed list of spellings)
 *   byte 2  the time (index into a fixed list around not_after and expires)
 *   byte 3  number of pin specs (0-7), then 2 bytes per spec:
 *           b0 bits 0-3 chain index whose pin is taken (an index past the
 *           chain or of an unparseable certificate gives an unrelated pin), bit 4 kind cert,
 *           bit 5 blocked instead of pin, bit 6 not_after 2029-01-01;
 *           b1 bits 0-1 role (any, leaf, ca, backup)
 *   rest    the chain: [2-byte big-endian length][DER] repeated (at most 20)
 * The policy is built as JSON from these fields with pins computed by an
 * independent oracle (SHA-256 of the DER, and of i2d_X509_PUBKEY after
 * d2i_X509), so PASS, blocked and role paths are reachable.
 *
 * Properties (abort on violation): pinset_check never crashes, leaks or
 * returns a verdict that lets through unless the rules say so: never PASS
 * when no pin of the rule matches at an allowed depth (unless the rule has
 * no pins at all: a deny list), never PASS with a blocked key in the chain,
 * a blocked key FAIL in every mode, never anything but FAIL on an error; the
 * verdict and reason equal a reference model of docs/verdict.md; the
 * matched pin and depth are a real match; pinset_check_pins over the oracle's
 * pins gives the same verdict; every chain pin getter returns the oracle's
 * pin; pinset_result_explain works or reports a short buffer.
 * Seeds: fuzz/corpus/verify/ (chains of examples/chain.pem and the TrustKit
 * certificates in every verdict and reason, malformed and over-long chains,
 * fuzzer finds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <pinset/check.h>
#include <pinset/host.h>
#include <pinset/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CERTS 20
#define MAX_SPECS 7

static const char *const hosts[] = {
    "example.com",
    "x.example.com",
    "a.x.example.com",
    "EXAMPLE.com.",
    "b.example.com",
    "other.org",
    "192.0.2.1",
    "",
    "a..example.com",
    "ex ample.com",
    "xn--bcher-kva.example.com",
};
static const int64_t times[] = {
    1800000000,                         /* 2027 */
    1861919999, 1861920000, 1861920001, /* around not_after 2029-01-01 */
    1893455999, 1893456000, 2000000000, /* around expires 2030-01-01 */
};
#define NOT_AFTER 1861920000
#define EXPIRES   1893456000

struct oracle {
    pinset_cert_pins pins;
    int ok; /* 1: both pins known (an OpenSSL-parseable certificate) */
};

struct spec {
    int blocked;
    pinset_pin pin;
    pinset_role role;
    int64_t not_after;
};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_verify: %s\n", what);
    abort();
}

static void oracle_pins(struct oracle *o, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    unsigned char *spki = NULL;
    X509 *x;
    int n;

    memset(o, 0, sizeof(*o));
    o->pins.spki.kind = PINSET_PIN_SPKI;
    o->pins.cert.kind = PINSET_PIN_CERT;
    if (len == 0) {
        return;
    }
    SHA256(der, len, o->pins.cert.sha256);
    x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p == der + len) {
        n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
        if (n > 0) {
            SHA256(spki, (size_t)n, o->pins.spki.sha256);
            o->ok = 1;
        }
    }
    OPENSSL_free(spki);
    X509_free(x);
    ERR_clear_error();
}

static void hex(char out[65], const uint8_t in[32])
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[64] = '\0';
}

struct text {
    char b[8192];
    size_t n;
};

static void put(struct text *t, const char *s)
{
    size_t l = strlen(s);

    if (t->n + l >= sizeof(t->b)) {
        die("policy text buffer too small");
    }
    memcpy(t->b + t->n, s, l + 1);
    t->n += l;
}

static const char *const role_names[] = {"any", "leaf", "ca", "backup"};
static const char *const expiry_names[] = {"fail-open", "fail-closed", "report", "fail-open"};

static void put_pin(struct text *t, const struct spec *s)
{
    char h[65];

    hex(h, s->pin.sha256);
    put(t, "{\"sha256\": \"");
    put(t, h);
    put(t, s->pin.kind == PINSET_PIN_CERT ? "\", \"kind\": \"cert\"" : "\", \"kind\": \"spki\"");
    if (!s->blocked) {
        put(t, ", \"role\": \"");
        put(t, role_names[s->role]);
        put(t, "\"");
        if (s->not_after != 0) {
            put(t, ", \"not_after\": \"2029-01-01T00:00:00Z\"");
        }
    }
    put(t, "}");
}

static void build_policy(struct text *t, uint8_t flags, const struct spec *specs, size_t nspec)
{
    int first, sep = 0;

    t->n = 0;
    t->b[0] = '\0';
    put(t, "{\"version\": 1, \"rules\": [{\"host\": \"example.com\"");
    put(t, flags & 1 ? ", \"mode\": \"report\"" : ", \"mode\": \"enforce\"");
    if (flags & 2) {
        put(t, ", \"include_subdomains\": true");
    }
    if (flags & 4) {
        put(t, ", \"expires\": \"2030-01-01\", \"on_expiry\": \"");
        put(t, expiry_names[(flags >> 3) & 3]);
        put(t, "\"");
    }
    /* one unrelated pin, unless bit 6 drops it (a rule needs a pin or a blocked entry) */
    put(t, ", \"pins\": [");
    if (!(flags & 0x40) || nspec == 0) {
        put(t, "{\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
               "\"role\": \"backup\"}");
        sep = 1;
    }
    for (size_t i = 0; i < nspec; i++) {
        if (!specs[i].blocked) {
            put(t, sep ? ", " : "");
            put_pin(t, &specs[i]);
            sep = 1;
        }
    }
    put(t, "]");
    first = 1;
    for (size_t i = 0; i < nspec; i++) {
        if (specs[i].blocked) {
            put(t, first ? ", \"blocked\": [" : ", ");
            put_pin(t, &specs[i]);
            first = 0;
        }
    }
    put(t, first ? "}" : "]}");
    if ((flags & 0x22) == 0x22) {
        put(t, ", {\"host\": \"x.example.com\", \"exclude\": true}");
    }
    put(t, "]}");
}

static int pin_eq(const pinset_pin *want, const pinset_cert_pins *have)
{
    const pinset_pin *p = want->kind == PINSET_PIN_CERT ? &have->cert : &have->spki;

    return memcmp(want->sha256, p->sha256, PINSET_PIN_LEN) == 0;
}

static int role_ok(pinset_role role, size_t depth)
{
    return role == PINSET_ROLE_LEAF ? depth == 0 : role == PINSET_ROLE_CA ? depth >= 1 : 1;
}

/* The reference model of docs/verdict.md, for a chain whose pins are all known. */
static void model(pinset_verdict *v, pinset_reason *why, const pinset_policy *policy,
                  const char *host, const struct oracle *o, size_t count, int64_t now)
{
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;
    pinset_match how = PINSET_MATCH_NONE;
    const pinset_rule *r;
    pinset_mode mode;
    int wrong_place = 0;

    *why = PINSET_REASON_NONE;
    if (host[0] == '\0' ||
        pinset_host_canon(canon, sizeof(canon), &type, host, strlen(host), NULL) != PINSET_OK) {
        *v = PINSET_VERDICT_FAIL;
        *why = PINSET_REASON_BAD_HOST;
        return;
    }
    r = pinset_policy_lookup(policy, canon, strlen(canon), &how);
    if (r == NULL || how == PINSET_MATCH_EXCLUDED) {
        *v = PINSET_VERDICT_NOT_PINNED;
        return;
    }
    mode = pinset_rule_mode(r);
    if (pinset_rule_expires(r) != 0 && now >= pinset_rule_expires(r)) {
        if (pinset_rule_on_expiry(r) == PINSET_ON_EXPIRY_FAIL_OPEN) {
            *v = PINSET_VERDICT_EXPIRED_OPEN;
            return;
        }
        if (pinset_rule_on_expiry(r) == PINSET_ON_EXPIRY_REPORT) {
            mode = PINSET_MODE_REPORT;
        }
    }
    *v = mode == PINSET_MODE_REPORT ? PINSET_VERDICT_REPORT_ONLY_FAIL : PINSET_VERDICT_FAIL;
    if (count > PINSET_CHAIN_MAX) {
        *v = PINSET_VERDICT_FAIL; /* in every mode, under the host's rule */
        *why = PINSET_REASON_CHAIN_TOO_LONG;
        return;
    }
    if (count == 0) {
        *v = PINSET_VERDICT_FAIL;
        *why = PINSET_REASON_NO_CHAIN;
        return;
    }
    for (size_t d = 0; d < count; d++) {
        for (size_t i = 0; i < pinset_rule_blocked_count(r); i++) {
            if (pin_eq(pinset_rule_blocked(r, i), &o[d].pins)) {
                *v = PINSET_VERDICT_FAIL; /* blocked keys fail in every mode */
                *why = PINSET_REASON_BLOCKED;
                return;
            }
        }
    }
    if (pinset_rule_pin_count(r) == 0) {
        *v = PINSET_VERDICT_PASS; /* a deny list: blocked keys only */
        return;
    }
    for (size_t d = 0; d < count; d++) {
        for (size_t i = 0; i < pinset_rule_pin_count(r); i++) {
            int64_t na = pinset_rule_pin_not_after(r, i);
            if ((na != 0 && now > na) || !pin_eq(pinset_rule_pin(r, i), &o[d].pins)) {
                continue;
            }
            if (!role_ok(pinset_rule_pin_role(r, i), d)) {
                wrong_place = 1;
                continue;
            }
            *v = PINSET_VERDICT_PASS;
            return;
        }
    }
    *why = wrong_place ? PINSET_REASON_ROLE_MISMATCH : PINSET_REASON_NO_MATCH;
}

/* A PASS must name a real, current, role-allowed match; BLOCKED a real blocked pin. */
static void check_match(const pinset_result *res, const struct oracle *o, int64_t now)
{
    const pinset_rule *r = pinset_result_rule(res);
    size_t idx = 0, depth = 0;

    if (pinset_result_verdict(res) == PINSET_VERDICT_PASS && r != NULL &&
        pinset_rule_pin_count(r) == 0) {
        if (pinset_result_matched(res, &idx, &depth) || pinset_rule_blocked_count(r) == 0) {
            die("PASS under a deny list names a match, or a rule with nothing passed");
        }
        for (size_t d = 0; d < pinset_result_chain_len(res); d++) {
            for (size_t i = 0; i < pinset_rule_blocked_count(r); i++) {
                if (pin_eq(pinset_rule_blocked(r, i), &o[d].pins)) {
                    die("deny list PASS with a blocked key in the chain");
                }
            }
        }
    } else if (pinset_result_verdict(res) == PINSET_VERDICT_PASS) {
        if (r == NULL || !pinset_result_matched(res, &idx, &depth) ||
            depth >= pinset_result_chain_len(res) || idx >= pinset_rule_pin_count(r)) {
            die("PASS without a recorded match");
        }
        int64_t na = pinset_rule_pin_not_after(r, idx);
        if (!pin_eq(pinset_rule_pin(r, idx), &o[depth].pins) ||
            !role_ok(pinset_rule_pin_role(r, idx), depth) || (na != 0 && now > na)) {
            die("PASS on a pin that does not match");
        }
    } else if (pinset_result_reason(res) == PINSET_REASON_BLOCKED) {
        if (pinset_result_verdict(res) != PINSET_VERDICT_FAIL) {
            die("a blocked key that does not FAIL");
        }
        if (r == NULL || !pinset_result_matched(res, &idx, &depth) ||
            idx >= pinset_rule_blocked_count(r) ||
            !pin_eq(pinset_rule_blocked(r, idx), &o[depth].pins)) {
            die("BLOCKED without a blocked pin in the chain");
        }
    }
}

static pinset_result *result(void)
{
    static pinset_result *res;

    if (res == NULL && pinset_result_new(&res, NULL) != PINSET_OK) {
        abort();
    }
    return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct text t;
    pinset_cert chain[MAX_CERTS];
    struct oracle o[MAX_CERTS];
    pinset_cert_pins pins[MAX_CERTS];
    struct spec specs[MAX_SPECS];
    size_t count = 0, nspec = 0, pos = 4, expect_err = 0;
    uint8_t flags;
    const char *host;
    int64_t now;
    pinset_policy *policy = NULL;
    pinset_result *res = result();
    pinset_verdict want_v, got_v;
    pinset_reason want_why;
    pinset_err err;
    char line[1024];

    if (size < 4) {
        return 0;
    }
    flags = data[0];
    host = hosts[data[1] % (sizeof(hosts) / sizeof(hosts[0]))];
    now = times[data[2] % (sizeof(times) / sizeof(times[0]))];
    nspec = data[3] % (MAX_SPECS + 1);
    if (size < pos + 2 * nspec) {
        return 0;
    }
    pos += 2 * nspec;
    while (count < MAX_CERTS && size - pos >= 2) {
        size_t len = ((size_t)data[pos] << 8) | data[pos + 1];
        pos += 2;
        if (len > size - pos) {
            len = size - pos;
        }
        chain[count].der = data + pos;
        chain[count].len = len;
        oracle_pins(&o[count], data + pos, len);
        pins[count] = o[count].pins;
        expect_err |= !o[count].ok;
        count++;
        pos += len;
    }
    for (size_t i = 0; i < nspec; i++) {
        uint8_t b0 = data[4 + 2 * i], b1 = data[5 + 2 * i];
        size_t at = b0 & 15;
        struct spec *s = &specs[i];

        s->blocked = (b0 >> 5) & 1;
        s->role = (pinset_role)(b1 & 3);
        s->not_after = (b0 & 0x40) ? NOT_AFTER : 0;
        if (at < count && o[at].ok) {
            s->pin = (b0 & 0x10) ? o[at].pins.cert : o[at].pins.spki;
        } else {
            memset(s->pin.sha256, 0xa5, sizeof(s->pin.sha256));
            s->pin.sha256[0] = (uint8_t)i;
            s->pin.kind = (b0 & 0x10) ? PINSET_PIN_CERT : PINSET_PIN_SPKI;
        }
    }
    build_policy(&t, flags, specs, nspec);
    if (pinset_policy_parse(&policy, (const uint8_t *)t.b, t.n, NULL) != PINSET_OK) {
        fprintf(stderr, "%s\n", t.b);
        die("the generated policy does not parse");
    }

    err = pinset_check(res, policy, host, strlen(host), chain, count, now, NULL);
    got_v = pinset_result_verdict(res);
    if (err != PINSET_OK) {
        /* an unhashable certificate: fail closed, whatever the rules */
        if (got_v != PINSET_VERDICT_FAIL || pinset_result_reason(res) != PINSET_REASON_INTERNAL) {
            die("an error that is not FAIL/internal");
        }
        if (!expect_err) {
            die("pinset_check failed on certificates OpenSSL parses");
        }
        goto out;
    }
    if (got_v == PINSET_VERDICT_NONE || pinset_verdict_name(got_v)[0] == 'U') {
        die("no verdict after PINSET_OK");
    }
    if (expect_err && got_v != PINSET_VERDICT_FAIL) {
        /* declined only before hashing: a bad host, or a chain too long to hash */
        if (pinset_result_reason(res) != PINSET_REASON_BAD_HOST && count <= PINSET_CHAIN_MAX) {
            die("a verdict on a chain with an unparseable certificate");
        }
    }
    if (!expect_err) {
        model(&want_v, &want_why, policy, host, o, count, now);
        if (got_v != want_v || pinset_result_reason(res) != want_why) {
            fprintf(stderr, "%s\nhost '%s' now %lld: got %s/%s, want %s/%s\n", t.b, host,
                    (long long)now, pinset_verdict_name(got_v),
                    pinset_reason_name(pinset_result_reason(res)), pinset_verdict_name(want_v),
                    pinset_reason_name(want_why));
            die("verdict differs from the reference model");
        }
        check_match(res, o, now);
        if (pinset_result_chain_len(res) == count && count > 0) {
            for (size_t d = 0; d < count; d++) {
                const pinset_pin *s = pinset_result_chain_pin(res, d, PINSET_PIN_SPKI);
                const pinset_pin *c = pinset_result_chain_pin(res, d, PINSET_PIN_CERT);
                if (s == NULL || c == NULL || memcmp(s->sha256, o[d].pins.spki.sha256, 32) != 0 ||
                    memcmp(c->sha256, o[d].pins.cert.sha256, 32) != 0) {
                    die("chain pin differs from the oracle");
                }
            }
        }
        if (pinset_check_pins(res, policy, host, strlen(host), pins, count, now) != PINSET_OK ||
            pinset_result_verdict(res) != got_v || pinset_result_reason(res) != want_why) {
            die("pinset_check_pins disagrees with pinset_check");
        }
        check_match(res, o, now);
    }
    if (got_v == PINSET_VERDICT_PASS && count == 0) {
        die("PASS with an empty chain");
    }
out:
    err = pinset_result_explain(line, sizeof(line), res);
    if (err != PINSET_OK && err != PINSET_E_BUFFER_TOO_SMALL) {
        die("explain failed");
    }
    if (err == PINSET_OK && (line[0] == '\0' || strchr(line, '\n') != NULL)) {
        die("explain is not one line");
    }
    if (pinset_result_explain(line, 8, res) == PINSET_E_BUFFER_TOO_SMALL && line[0] != '\0') {
        die("explain left text in a short buffer");
    }
    pinset_policy_free(policy);
    return 0;
}
