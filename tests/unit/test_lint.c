/*
 * test_lint.c - every lint rule fires on a policy made to trip it, with the
 * right severity and path, and a healthy policy gives no finding at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pinset/lint.h>
#include <pinset/policy.h>

#include "internal.h"

/* 2026-11-27T00:00:00Z: every test judges expiry at this instant */
#define NOW 1795737600

/* Distinct well-formed pins (32 bytes in base64): only the letter differs. */
#define PIN_A "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define PIN_E "\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=\""
#define PIN_I "\"IIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIA=\""
#define PIN_M "\"MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMA=\""
#define PIN_Q "\"QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQA=\""

#define MAX_FINDINGS 64

struct found {
    pinset_lint_severity sev;
    char id[48];
    char path[128];
    char message[1024];
    char fix[256];
    size_t rule;
    char host[256];
};

struct findings {
    size_t n;
    struct found f[MAX_FINDINGS];
};

static int collect(const pinset_lint_finding *f, void *payload)
{
    struct findings *all = payload;
    struct found *x;

    assert_true(all->n < MAX_FINDINGS);
    x = &all->f[all->n++];
    x->sev = pinset_lint_finding_severity(f);
    snprintf(x->id, sizeof(x->id), "%s", pinset_lint_finding_id(f));
    snprintf(x->path, sizeof(x->path), "%s", pinset_lint_finding_path(f));
    snprintf(x->message, sizeof(x->message), "%s", pinset_lint_finding_message(f));
    snprintf(x->fix, sizeof(x->fix), "%s", pinset_lint_finding_fix(f));
    x->rule = pinset_lint_finding_rule(f);
    snprintf(x->host, sizeof(x->host), "%s",
             pinset_lint_finding_host(f) != NULL ? pinset_lint_finding_host(f) : "");
    return 0;
}

static pinset_policy *parse(const char *json)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = pinset_policy_parse(&p, (const uint8_t *)json, strlen(json), &d);

    if (err != PINSET_OK) {
        fail_msg("test policy does not parse: %s (%s)", d.message, d.path);
    }
    return p;
}

/* Lint `json` at NOW with the default 30-day window. */
static void lint(const char *json, struct findings *out)
{
    pinset_policy *p = parse(json);
    pinset_lint_options o = PINSET_LINT_OPTIONS_INIT;

    memset(out, 0, sizeof(*out));
    o.now = NOW;
    assert_int_equal(pinset_lint_run(p, &o, collect, out, NULL), PINSET_OK);
    for (size_t i = 0; i < out->n; i++) {
        /* every finding says why and how, on one line */
        assert_true(out->f[i].message[0] != '\0');
        assert_true(out->f[i].fix[0] != '\0');
        assert_null(strchr(out->f[i].message, '\n'));
    }
    pinset_policy_free(p);
}

/* The finding with this id and path, or NULL. */
static const struct found *find(const struct findings *all, const char *id, const char *path)
{
    for (size_t i = 0; i < all->n; i++) {
        if (strcmp(all->f[i].id, id) == 0 && strcmp(all->f[i].path, path) == 0) {
            return &all->f[i];
        }
    }
    return NULL;
}

static size_t count_id(const struct findings *all, const char *id)
{
    size_t n = 0;

    for (size_t i = 0; i < all->n; i++) {
        n += strcmp(all->f[i].id, id) == 0;
    }
    return n;
}

static void dump(const struct findings *all)
{
    for (size_t i = 0; i < all->n; i++) {
        print_message("  %s: %s: %s: %s\n", all->f[i].path,
                      pinset_lint_severity_name(all->f[i].sev), all->f[i].id, all->f[i].message);
    }
}

static void expect(const struct findings *all, const char *id, const char *path,
                   pinset_lint_severity sev)
{
    const struct found *f = find(all, id, path);

    if (f == NULL) {
        dump(all);
        fail_msg("no %s finding at %s", id, path);
    }
    assert_int_equal(f->sev, sev);
}

/* ---- a healthy policy ---- */

static const char clean_policy[] =
    "{\"version\": 1,"
    " \"pinsets\": {\"corp\": {\"pins\": ["
    "   {\"sha256\": " PIN_A ", \"role\": \"ca\", \"label\": \"issuing ca\"},"
    "   {\"sha256\": " PIN_E ", \"role\": \"backup\", \"label\": \"offline spare\"}]}},"
    " \"rules\": ["
    "  {\"host\": \"example.com\", \"include_subdomains\": true, \"pinset\": \"corp\","
    "   \"expires\": \"2028-01-01\", \"on_expiry\": \"fail-open\","
    "   \"report_uris\": [\"https://reports.example.net/pinset\"]},"
    "  {\"host\": \"legacy.example.com\", \"exclude\": true},"
    "  {\"host\": \"api.example.org\", \"pins\": ["
    "   {\"sha256\": " PIN_I ", \"role\": \"any\", \"not_after\": \"2028-06-01\"},"
    "   {\"sha256\": " PIN_M ", \"role\": \"ca\"},"
    "   {\"sha256\": " PIN_Q ", \"role\": \"backup\"}]},"
    "  {\"host\": \"192.0.2.7\", \"mode\": \"report\", \"pins\": ["
    "   {\"sha256\": " PIN_I ", \"role\": \"leaf\"},"
    "   {\"sha256\": " PIN_M ", \"role\": \"ca\"},"
    "   {\"sha256\": " PIN_Q ", \"role\": \"backup\"}]}"
    " ]}";

static void clean_policy_has_no_findings(void **state)
{
    struct findings all;

    (void)state;
    lint(clean_policy, &all);
    if (all.n != 0) {
        dump(&all);
    }
    assert_int_equal(all.n, 0);
}

/* ---- min_pins and backups ---- */

static void too_few_pins_is_an_error_when_enforcing(void **state)
{
    struct findings all;

    (void)state;
    /* two distinct pins but min_pins 3: an error when enforcing, a warning when reporting */
    lint("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"min_pins\": 3, \"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}"
         "]}, {\"host\": \"b.example\", \"mode\": \"report\", \"min_pins\": 3, \"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}"
         "]}]}",
         &all);
    expect(&all, "too-few-pins", "rules[0]", PINSET_LINT_ERROR);
    expect(&all, "too-few-pins", "rules[1]", PINSET_LINT_WARNING);
    assert_non_null(strstr(find(&all, "too-few-pins", "rules[0]")->message, "min_pins is 3"));
    assert_int_equal(find(&all, "too-few-pins", "rules[0]")->rule, 0);
    assert_string_equal(find(&all, "too-few-pins", "rules[0]")->host, "a.example");
}

static void expired_pins_do_not_count_toward_min_pins(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"},"
         "{\"sha256\": " PIN_E ", \"role\": \"backup\", \"not_after\": \"2026-01-01\"}]}]}",
         &all);
    expect(&all, "too-few-pins", "rules[0]", PINSET_LINT_ERROR);
    expect(&all, "pin-expired", "rules[0].pins[1]", PINSET_LINT_WARNING);
    /* the only backup has expired, so there is no backup left either */
    expect(&all, "no-backup-pin", "rules[0]", PINSET_LINT_ERROR);
}

static void rule_without_live_pins_fails_every_chain(void **state)
{
    struct findings all;

    (void)state;
    /* blocked keys only: the verdict finds no pin, so every chain fails */
    lint("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"min_pins\": 0, "
         "\"blocked\": [" PIN_A "]}]}",
         &all);
    expect(&all, "too-few-pins", "rules[0]", PINSET_LINT_ERROR);
    assert_non_null(strstr(find(&all, "too-few-pins", "rules[0]")->message, "every chain fails"));
    /* one finding says it all: no pin means no backup pin either */
    assert_int_equal(all.n, 1);
}

static void no_backup_pin(void **state)
{
    struct findings all;

    (void)state;
    /* one pin, min_pins 1: certainly no spare key -> error; two pins, none backup -> warning */
    lint("{\"version\": 1, \"rules\": ["
         "{\"host\": \"one.example\", \"min_pins\": 1, \"pins\": [{\"sha256\": " PIN_A
         ", \"role\": \"ca\"}]},"
         "{\"host\": \"two.example\", \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"ca\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"any\"}]},"
         "{\"host\": \"rep.example\", \"mode\": \"report\", \"pins\": [" PIN_A "]}]}",
         &all);
    expect(&all, "no-backup-pin", "rules[0]", PINSET_LINT_ERROR);
    expect(&all, "no-backup-pin", "rules[1]", PINSET_LINT_WARNING);
    expect(&all, "no-backup-pin", "rules[2]", PINSET_LINT_WARNING);
    assert_int_equal(count_id(&all, "no-backup-pin"), 3);
    assert_non_null(strstr(find(&all, "no-backup-pin", "rules[0]")->message, "7469"));
}

static void backup_pin_equal_to_a_current_pin(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"leaf\"},"
         "{\"sha256\": " PIN_A ", \"role\": \"backup\"}]}]}",
         &all);
    expect(&all, "backup-pin-is-current", "rules[0].pins[2]", PINSET_LINT_ERROR);
    /* and the pair is not also called a plain duplicate */
    assert_int_equal(count_id(&all, "duplicate-pin"), 0);
    /* reported once, as backup-pin-is-current, and not again as no-backup-pin */
    assert_int_equal(count_id(&all, "no-backup-pin"), 0);
}

static void backup_pin_in_pinset_equal_to_rule_pin(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"corp\": {\"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"backup\"}, {\"sha256\": " PIN_I ", \"role\": \"ca\"}"
         "]}}, \"rules\": [{\"host\": \"a.example\", \"pinset\": \"corp\", \"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}]}]}",
         &all);
    /* the rule's own pins[0] is the pin-set's backup pin */
    expect(&all, "backup-pin-is-current", "rules[0].pins[0]", PINSET_LINT_ERROR);
}

static void duplicate_pin(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"corp\": {\"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"},"
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}]}}, \"rules\": ["
         "{\"host\": \"a.example\", \"pinset\": \"corp\"},"
         "{\"host\": \"b.example\", \"pinset\": \"corp\"}]}",
         &all);
    /* inside a pin-set: reported once, at the pin-set, not once per rule */
    expect(&all, "duplicate-pin", "pinsets.corp[2]", PINSET_LINT_WARNING);
    assert_int_equal(count_id(&all, "duplicate-pin"), 1);
    assert_int_equal(find(&all, "duplicate-pin", "pinsets.corp[2]")->rule, SIZE_MAX);
}

static void pin_that_is_also_blocked(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E
         ", \"role\": \"backup\"}],"
         " \"blocked\": [" PIN_I ", " PIN_E "]}]}",
         &all);
    expect(&all, "pin-blocked", "rules[0].pins[1]", PINSET_LINT_ERROR);
    assert_non_null(
        strstr(find(&all, "pin-blocked", "rules[0].pins[1]")->message, "rules[0].blocked[1]"));
}

/* ---- expiry ---- */

static void pin_expiry(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"corp\": {\"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\", \"not_after\": \"2026-12-10\"},"
         "{\"sha256\": " PIN_E ", \"role\": \"backup\"}]}}, \"rules\": ["
         "{\"host\": \"a.example\", \"pinset\": \"corp\", \"pins\": ["
         "{\"sha256\": " PIN_I ", \"role\": \"ca\", \"not_after\": \"2026-11-26T23:59:59Z\"},"
         "{\"sha256\": " PIN_M ", \"role\": \"ca\", \"not_after\": \"2026-11-27T00:00:00Z\"},"
         "{\"sha256\": " PIN_Q ", \"role\": \"ca\", \"not_after\": \"2027-06-01\"}]}]}",
         &all);
    expect(&all, "pin-expiring", "pinsets.corp[0]", PINSET_LINT_WARNING);
    assert_non_null(strstr(find(&all, "pin-expiring", "pinsets.corp[0]")->message, "in 13 days"));
    expect(&all, "pin-expired", "rules[0].pins[0]", PINSET_LINT_WARNING);
    /* a pin still counts in its not_after second, as in the verdict */
    expect(&all, "pin-expiring", "rules[0].pins[1]", PINSET_LINT_WARNING);
    assert_null(find(&all, "pin-expired", "rules[0].pins[1]"));
    /* half a year away is outside the 30-day window */
    assert_null(find(&all, "pin-expiring", "rules[0].pins[2]"));
}

static void warn_days_moves_the_window(void **state)
{
    const char *json = "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": ["
                       "{\"sha256\": " PIN_A ", \"role\": \"ca\", \"not_after\": \"2027-01-15\"},"
                       "{\"sha256\": " PIN_E ", \"role\": \"backup\"}]}]}";
    pinset_policy *p = parse(json);
    pinset_lint_options o = PINSET_LINT_OPTIONS_INIT;
    struct findings all;

    (void)state;
    o.now = NOW;
    memset(&all, 0, sizeof(all));
    assert_int_equal(pinset_lint_run(p, &o, collect, &all, NULL), PINSET_OK);
    assert_int_equal(all.n, 0);
    o.warn_days = 60;
    assert_int_equal(pinset_lint_run(p, &o, collect, &all, NULL), PINSET_OK);
    expect(&all, "pin-expiring", "rules[0].pins[0]", PINSET_LINT_WARNING);
    pinset_policy_free(p);
}

static void rule_expiry(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"rules\": ["
         "{\"host\": \"open.example\", \"expires\": \"2026-01-01\", \"on_expiry\": \"fail-open\","
         " \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E
         ", \"role\": \"backup\"}]},"
         "{\"host\": \"closed.example\", \"expires\": \"2026-01-01\", \"on_expiry\": "
         "\"fail-closed\","
         " \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E
         ", \"role\": \"backup\"}]},"
         "{\"host\": \"soon.example\", \"expires\": \"2026-12-01\", \"on_expiry\": \"report\","
         " \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E
         ", \"role\": \"backup\"}]},"
         "{\"host\": \"later.example\", \"expires\": \"2027-06-01\", \"on_expiry\": "
         "\"fail-closed\","
         " \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E
         ", \"role\": \"backup\"}]}]}",
         &all);
    expect(&all, "rule-expired", "rules[0].expires", PINSET_LINT_WARNING);
    expect(&all, "rule-expired", "rules[1].expires", PINSET_LINT_ERROR);
    expect(&all, "rule-expiring", "rules[2].expires", PINSET_LINT_WARNING);
    assert_null(find(&all, "rule-expiring", "rules[3].expires"));
    expect(&all, "fail-closed-expiry", "rules[3].on_expiry", PINSET_LINT_WARNING);
    /* once expired, the expiry finding says it all */
    assert_null(find(&all, "fail-closed-expiry", "rules[1].on_expiry"));
    assert_int_equal(all.n, 4);
}

/* ---- hosts ---- */

static void include_subdomains_on_a_public_suffix(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}"
         "]}}, \"rules\": ["
         "{\"host\": \"com\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"co.uk\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"github.io\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"example.co.uk\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"corp\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"net\", \"pinset\": \"s\"}]}",
         &all);
    expect(&all, "public-suffix-subdomains", "rules[0].include_subdomains", PINSET_LINT_ERROR);
    expect(&all, "public-suffix-subdomains", "rules[1].include_subdomains", PINSET_LINT_ERROR);
    /* the private section of the list counts too */
    expect(&all, "public-suffix-subdomains", "rules[2].include_subdomains", PINSET_LINT_ERROR);
    /* a registrable domain and an unlisted internal name: fine */
    assert_int_equal(count_id(&all, "public-suffix-subdomains"), 3);
    /* an exact rule on a suffix is public-suffix-host instead */
    expect(&all, "public-suffix-host", "rules[5].host", PINSET_LINT_ERROR);
    /* one finding per rule: a suffix with include_subdomains is not also public-suffix-host */
    assert_int_equal(count_id(&all, "public-suffix-host"), 1);
}

/* TrustKit refuses a pinned domain that is a public suffix, with or without subdomains. */
static void rule_for_a_public_suffix(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}"
         "]}}, \"rules\": ["
         "{\"host\": \"com\", \"pinset\": \"s\"},"
         "{\"host\": \"CO.UK.\", \"mode\": \"report\", \"pinset\": \"s\"},"
         "{\"host\": \"github.io\", \"pinset\": \"s\"},"
         "{\"host\": \"\u0440\u0444\", \"pinset\": \"s\"},"
         "{\"host\": \"foo.ck\", \"pinset\": \"s\"},"
         "{\"host\": \"www.ck\", \"pinset\": \"s\"},"
         "{\"host\": \"example.co.uk\", \"pinset\": \"s\"},"
         "{\"host\": \"corp\", \"pinset\": \"s\"},"
         "{\"host\": \"uk\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"ac.uk\", \"exclude\": true},"
         "{\"host\": \"192.0.2.1\", \"pinset\": \"s\"}]}",
         &all);
    expect(&all, "public-suffix-host", "rules[0].host", PINSET_LINT_ERROR);
    /* any spelling, and report mode too: the rule is a mistake whatever it enforces */
    expect(&all, "public-suffix-host", "rules[1].host", PINSET_LINT_ERROR);
    assert_string_equal(find(&all, "public-suffix-host", "rules[1].host")->host, "co.uk");
    assert_non_null(strstr(find(&all, "public-suffix-host", "rules[1].host")->message, "'co.uk'"));
    /* the private section of the list counts, as in public-suffix-subdomains */
    expect(&all, "public-suffix-host", "rules[2].host", PINSET_LINT_ERROR);
    /* an IDN suffix, looked up by its A-label (xn--p1ai) */
    expect(&all, "public-suffix-host", "rules[3].host", PINSET_LINT_ERROR);
    /* a wildcard entry of the list (*.ck), but not its exception (!www.ck) */
    expect(&all, "public-suffix-host", "rules[4].host", PINSET_LINT_ERROR);
    assert_null(find(&all, "public-suffix-host", "rules[5].host"));
    /* include_subdomains on a suffix is public-suffix-subdomains; an exclusion is no finding */
    expect(&all, "public-suffix-subdomains", "rules[8].include_subdomains", PINSET_LINT_ERROR);
    assert_null(find(&all, "public-suffix-host", "rules[9].host"));
    /* a registrable domain, an internal name and an IP address: fine */
    assert_int_equal(count_id(&all, "public-suffix-host"), 5);
    assert_int_equal(count_id(&all, "public-suffix-subdomains"), 1);
}

/* TrustKit refuses a configuration with no pinned domains; lint calls it an error. */
static void policy_without_rules(void **state)
{
    struct findings all;
    const struct found *f;

    (void)state;
    lint("{\"version\": 1, \"rules\": []}", &all);
    expect(&all, "no-rules", "rules", PINSET_LINT_ERROR);
    f = find(&all, "no-rules", "rules");
    assert_int_equal(f->rule, SIZE_MAX);
    assert_string_equal(f->host, "");
    assert_int_equal(all.n, 1);
    /* pin-sets alone pin nothing either: still no rules, and the pin-set is unused */
    lint("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": [" PIN_A "]}}, \"rules\": []}", &all);
    expect(&all, "no-rules", "rules", PINSET_LINT_ERROR);
    expect(&all, "unused-pinset", "pinsets.s", PINSET_LINT_INFO);
    assert_int_equal(all.n, 2);
}

static void leaf_only_pinning(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"rules\": ["
         /* leaf pins and a backup: the rotation goes to the backup key, so not leaf-only */
         "{\"host\": \"a.example\", \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"leaf\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"leaf\"}, {\"sha256\": " PIN_I
         ", \"role\": \"backup\"}]},"
         "{\"host\": \"b.example\", \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"leaf\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"ca\"}, {\"sha256\": " PIN_I
         ", \"role\": \"backup\"}]},"
         "{\"host\": \"c.example\", \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"leaf\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"leaf\"}]},"
         /* an expired backup is no backup */
         "{\"host\": \"d.example\", \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"leaf\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"leaf\"}, {\"sha256\": " PIN_I
         ", \"role\": \"backup\", \"not_after\": \"2026-01-01\"}]}]}",
         &all);
    assert_null(find(&all, "leaf-only-pinning", "rules[0]"));
    assert_null(find(&all, "leaf-only-pinning", "rules[1]"));
    expect(&all, "leaf-only-pinning", "rules[2]", PINSET_LINT_WARNING);
    assert_non_null(strstr(find(&all, "leaf-only-pinning", "rules[2]")->message, "90-day"));
    expect(&all, "leaf-only-pinning", "rules[3]", PINSET_LINT_WARNING);
    assert_int_equal(count_id(&all, "leaf-only-pinning"), 2);
}

/* A pin-set that makes its rules leaf-only is reported once, at the pin-set, not per rule. */
static void leaf_only_pinning_of_a_shared_pinset(void **state)
{
    struct findings all;
    const struct found *f;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {"
         "\"leafs\": {\"pins\": [{\"sha256\": " PIN_A ", \"role\": \"leaf\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"leaf\"}]},"
         "\"spared\": {\"pins\": [{\"sha256\": " PIN_A ", \"role\": \"leaf\"},"
         " {\"sha256\": " PIN_Q ", \"role\": \"backup\"}]}}, \"rules\": ["
         "{\"host\": \"own-backup.example\", \"pinset\": \"leafs\", \"pins\": [{\"sha256\": " PIN_I
         ", \"role\": \"backup\"}]},"
         "{\"host\": \"a.example\", \"pinset\": \"leafs\"},"
         "{\"host\": \"b.example\", \"pinset\": \"leafs\", \"mode\": \"report\"},"
         "{\"host\": \"c.example\", \"pinset\": \"leafs\"},"
         "{\"host\": \"d.example\", \"pinset\": \"leafs\"},"
         "{\"host\": \"e.example\", \"pinset\": \"leafs\"},"
         "{\"host\": \"f.example\", \"pinset\": \"leafs\", \"pins\": [{\"sha256\": " PIN_M
         ", \"role\": \"ca\", \"not_after\": \"2026-01-01\"}]},"
         "{\"host\": \"own-leaf.example\", \"pinset\": \"leafs\", \"pins\": [{\"sha256\": " PIN_M
         ", \"role\": \"leaf\"}]},"
         "{\"host\": \"g.example\", \"pinset\": \"spared\"},"
         "{\"host\": \"h.example\", \"pinset\": \"spared\"}]}",
         &all);
    /* six rules (f's own pin has expired) rely on 'leafs' alone: one finding, at the pin-set */
    expect(&all, "leaf-only-pinning", "pinsets.leafs", PINSET_LINT_WARNING);
    f = find(&all, "leaf-only-pinning", "pinsets.leafs");
    assert_int_equal(f->rule, SIZE_MAX);
    assert_string_equal(f->host, "");
    assert_non_null(strstr(f->message, "pin-set 'leafs'"));
    assert_non_null(strstr(f->message, "6 rules rely on it alone"));
    assert_non_null(strstr(f->message, "rules[1], 'a.example'"));
    /* a rule that adds its own leaf pin is judged on the union, at the rule */
    expect(&all, "leaf-only-pinning", "rules[7]", PINSET_LINT_WARNING);
    /* a rule with its own backup pin is not leaf-only; a pin-set with a backup neither */
    assert_null(find(&all, "leaf-only-pinning", "rules[0]"));
    assert_null(find(&all, "leaf-only-pinning", "pinsets.spared"));
    assert_int_equal(count_id(&all, "leaf-only-pinning"), 2);
}

static void no_backup_pin_of_a_shared_pinset(void **state)
{
    struct findings all;
    const struct found *f;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {"
         "\"double\": {\"pins\": [{\"sha256\": " PIN_A ", \"role\": \"ca\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"ca\"}]},"
         "\"lone\": {\"pins\": [{\"sha256\": " PIN_Q ", \"role\": \"ca\"}]},"
         "\"single\": {\"pins\": [{\"sha256\": " PIN_M ", \"role\": \"ca\"}]}}, \"rules\": ["
         "{\"host\": \"a.example\", \"pinset\": \"single\"},"
         "{\"host\": \"b.example\", \"pinset\": \"single\", \"mode\": \"report\"},"
         "{\"host\": \"c.example\", \"pinset\": \"double\", \"min_pins\": 1},"
         "{\"host\": \"d.example\", \"pinset\": \"double\", \"min_pins\": 1},"
         "{\"host\": \"e.example\", \"pinset\": \"lone\", \"mode\": \"report\"},"
         "{\"host\": \"f.example\", \"pinset\": \"single\", \"pins\": [{\"sha256\": " PIN_I
         ", \"role\": \"backup\"}]}]}",
         &all);
    /* two rules rely on 'single' alone, one enforcing, one pin: one error, at the pin-set */
    expect(&all, "no-backup-pin", "pinsets.single", PINSET_LINT_ERROR);
    f = find(&all, "no-backup-pin", "pinsets.single");
    assert_int_equal(f->rule, SIZE_MAX);
    assert_non_null(
        strstr(f->message, "2 rules rely on it alone (the first is rules[0], 'a.example')"));
    /* two pins: perhaps one is a spare, so a warning, once for both rules */
    expect(&all, "no-backup-pin", "pinsets.double", PINSET_LINT_WARNING);
    /* one pin but no rule enforces: a warning */
    expect(&all, "no-backup-pin", "pinsets.lone", PINSET_LINT_WARNING);
    /* no rule is reported itself, and f's own backup pin covers it */
    for (size_t i = 0; i < 6; i++) {
        char path[16];
        snprintf(path, sizeof(path), "rules[%zu]", i);
        assert_null(find(&all, "no-backup-pin", path));
    }
    assert_int_equal(count_id(&all, "no-backup-pin"), 3);
}

static void redundant_rule(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}"
         "]}}, \"rules\": ["
         "{\"host\": \"example.com\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"www.example.com\", \"pinset\": \"s\"},"
         "{\"host\": \"api.example.com\", \"pins\": [{\"sha256\": " PIN_E ", \"role\": "
         "\"backup\"}, {\"sha256\": " PIN_A ", \"role\": \"ca\"}]},"
         "{\"host\": \"cdn.example.com\", \"mode\": \"report\", \"pinset\": \"s\"},"
         "{\"host\": \"x.example.org\", \"pinset\": \"s\"}]}",
         &all);
    expect(&all, "redundant-rule", "rules[1]", PINSET_LINT_INFO);
    /* the same pins listed directly, in another order */
    expect(&all, "redundant-rule", "rules[2]", PINSET_LINT_INFO);
    /* a different mode is not redundant; a rule without a parent neither */
    assert_int_equal(count_id(&all, "redundant-rule"), 2);
}

/* The one-label scope (OkHttp's "*."): on a public suffix, and in redundant-rule's parent walk. */
static void one_label_scope(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": ["
         "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}"
         "]}}, \"rules\": ["
         "{\"host\": \"co.uk\", \"include_subdomains\": \"one-label\", \"pinset\": \"s\"},"
         "{\"host\": \"example.com\", \"include_subdomains\": \"one-label\", \"pinset\": \"s\"},"
         "{\"host\": \"www.example.com\", \"pinset\": \"s\"},"
         "{\"host\": \"a.www.example.com\", \"pinset\": \"s\"},"
         "{\"host\": \"example.net\", \"include_subdomains\": true, \"pinset\": \"s\"},"
         "{\"host\": \"example.net\", \"include_subdomains\": \"one-label\", \"pinset\": \"s\"}]}",
         &all);
    /* "*.co.uk" pins every domain registered directly under the suffix */
    expect(&all, "public-suffix-subdomains", "rules[0].include_subdomains", PINSET_LINT_ERROR);
    assert_int_equal(count_id(&all, "public-suffix-subdomains"), 1);
    assert_int_equal(count_id(&all, "public-suffix-host"), 0);
    /* www.example.com is what "*.example.com" gives it already */
    expect(&all, "redundant-rule", "rules[2]", PINSET_LINT_INFO);
    assert_non_null(strstr(find(&all, "redundant-rule", "rules[2]")->message, "*.example.com"));
    /* two labels below: "*.example.com" does not cover it, so it is not redundant */
    assert_null(find(&all, "redundant-rule", "rules[3]"));
    /* "*.example.net" gives what example.net's include_subdomains gives */
    expect(&all, "redundant-rule", "rules[5]", PINSET_LINT_INFO);
    assert_int_equal(count_id(&all, "redundant-rule"), 2);
}

static void unused_pinset(void **state)
{
    struct findings all;

    (void)state;
    lint("{\"version\": 1, \"pinsets\": {\"old\": {\"pins\": [" PIN_Q "]}}, \"rules\": ["
         "{\"host\": \"a.example\", \"pins\": [{\"sha256\": " PIN_A ", \"role\": \"ca\"},"
         " {\"sha256\": " PIN_E ", \"role\": \"backup\"}]}]}",
         &all);
    expect(&all, "unused-pinset", "pinsets.old", PINSET_LINT_INFO);
    assert_int_equal(all.n, 1);
}

/*
 * Duplicate hosts and exclusions without a parent are never findings: the
 * parser refuses them, and `pinset lint` reports the parse error. This pins
 * down the contract lint relies on.
 */
static void unreachable_rules_are_parse_errors(void **state)
{
    static const char *const bad[] = {
        "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": [" PIN_A ", " PIN_E
        "]}, {\"host\": \"EXAMPLE.com.\", \"include_subdomains\": true, \"pins\": [" PIN_A "]}]}",
        "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": [" PIN_A ", " PIN_E
        "]}, {\"host\": \"a.example.com\", \"exclude\": true}]}",
        "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"include_subdomains\": true,"
        " \"pins\": [" PIN_A "]}, {\"host\": \"a.example.com\", \"exclude\": true,"
        " \"include_subdomains\": true}, {\"host\": \"b.a.example.com\", \"exclude\": true}]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        assert_int_equal(pinset_policy_parse(&p, (const uint8_t *)bad[i], strlen(bad[i]), &d),
                         PINSET_E_PARSE);
        assert_null(p);
        assert_true(strncmp(d.path, "rules[", 6) == 0);
    }
}

/* ---- report URIs and modes ---- */

static void report_uris(void **state)
{
    struct findings all;

    (void)state;
    lint(
        "{\"version\": 1, \"rules\": ["
        "{\"host\": \"example.com\", \"include_subdomains\": true, \"pins\": ["
        "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}],"
        " \"report_uris\": [\"https://report.example.com/r\", \"http://collector.example.net/r\","
        " \"https://Staging.Example.ORG./r\", \"https://[::1]:8443/r\", \"https://ok.example.net/\","
        " \"https://bad-port.example.net:99999/r\"]},"
        "{\"host\": \"staging.example.org\", \"mode\": \"report\", \"pins\": ["
        "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E
        ", \"role\": \"backup\"}]},"
        "{\"host\": \"::1\", \"pins\": ["
        "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}]}"
        "]}",
        &all);
    /* a subdomain of an enforcing include_subdomains rule: an error */
    expect(&all, "report-uri-pinned-host", "rules[0].report_uris[0]", PINSET_LINT_ERROR);
    expect(&all, "report-uri-not-https", "rules[0].report_uris[1]", PINSET_LINT_WARNING);
    assert_null(find(&all, "report-uri-pinned-host", "rules[0].report_uris[1]"));
    /* any spelling of the host is looked up canonically; report mode only warns */
    expect(&all, "report-uri-pinned-host", "rules[0].report_uris[2]", PINSET_LINT_WARNING);
    /* an IPv6 literal in brackets is looked up bare */
    expect(&all, "report-uri-pinned-host", "rules[0].report_uris[3]", PINSET_LINT_ERROR);
    assert_int_equal(count_id(&all, "report-uri-pinned-host"), 3);
    assert_int_equal(count_id(&all, "report-uri-not-https"), 1);
    /* the parser only checks the scheme; curl's url parser finds the bad port */
    expect(&all, "report-uri-invalid", "rules[0].report_uris[5]", PINSET_LINT_ERROR);
    assert_int_equal(all.n, 5);
}

/* The report-URI grammar (docs/lint-rules.md, policy/uri.c) as lint reports it. */
static void report_uri_grammar(void **state)
{
    struct findings all;
    const struct found *f;

    (void)state;
    lint(
        "{\"version\": 1, \"rules\": ["
        "{\"host\": \"example.com\", \"pins\": ["
        "{\"sha256\": " PIN_A ", \"role\": \"ca\"}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}],"
        " \"report_uris\": [\"https://user:secret@collector.example.net/r\","
        " \"https://collector.example.net/%zz\", \"https://collector.example.net/caf\u00e9?a=%2F\","
        " \"https://[::1/r\", \"https://collector.example.net:0/\","
        " \"https://example.com@collector.example.net/\", \"https://collector.example.net/\u202e\"]}"
        "]}",
        &all);
    static const struct {
        const char *path, *why;
    } want[] = {
        {"rules[0].report_uris[0]", "userinfo"},
        {"rules[0].report_uris[1]", "bad percent-encoding at offset 30"},
        {"rules[0].report_uris[3]", "ipv6"},
        {"rules[0].report_uris[4]", "port out of range"},
        /* userinfo that names a pinned host: refused, never looked up */
        {"rules[0].report_uris[5]", "userinfo"},
        {"rules[0].report_uris[6]", "bad character"},
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        expect(&all, "report-uri-invalid", want[i].path, PINSET_LINT_ERROR);
        f = find(&all, "report-uri-invalid", want[i].path);
        assert_non_null(strstr(f->message, want[i].why));
    }
    /* UTF-8 and percent-encoding in the path are fine */
    assert_null(find(&all, "report-uri-invalid", "rules[0].report_uris[2]"));
    assert_null(find(&all, "report-uri-pinned-host", "rules[0].report_uris[5]"));
    assert_int_equal(count_id(&all, "report-uri-invalid"), 6);
    assert_int_equal(all.n, 6);
}

/* Values at the parser's limits: messages stay bounded, one line, NUL-terminated. */
static void hostile_long_values(void **state)
{
    char host[254], name[65], json[8192], uri[2100];
    struct findings all;
    int n;

    (void)state;
    /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 octets */
    memset(host, 'a', sizeof(host));
    host[63] = host[127] = host[191] = '.';
    host[253] = '\0';
    memset(name, 'n', sizeof(name));
    name[64] = '\0';
    n = snprintf(uri, sizeof(uri), "https://%s/", host);
    /* a path of multi-byte UTF-8 characters, so that any cut could land inside one */
    while (n + 3 < 2040) {
        memcpy(uri + n, "\xc3\xa9", 2);
        n += 2;
    }
    uri[n] = '\0';
    n = snprintf(json, sizeof(json),
                 "{\"version\": 1, \"pinsets\": {\"%s\": {\"pins\": [" PIN_A "]}},"
                 " \"rules\": [{\"host\": \"%s\", \"include_subdomains\": true, \"pinset\": \"%s\","
                 " \"min_pins\": 3, \"report_uris\": [\"%s\"]}]}",
                 name, host, name, uri);
    assert_true(n > 0 && (size_t)n < sizeof(json));
    lint(json, &all);
    expect(&all, "report-uri-pinned-host", "rules[0].report_uris[0]", PINSET_LINT_ERROR);
    expect(&all, "too-few-pins", "rules[0]", PINSET_LINT_ERROR);
    for (size_t i = 0; i < all.n; i++) {
        assert_true(strlen(all.f[i].message) < 1023);
        /* a pin-set finding has no host: its message names the first rule's */
        assert_non_null(
            strstr(all.f[i].host[0] != '\0' ? all.f[i].host : all.f[i].message, "aaaa.aaaa"));
    }
}

/* ---- the API ---- */

static int stop_at_first(const pinset_lint_finding *f, void *payload)
{
    (void)f;
    (*(int *)payload)++;
    return 1;
}

static void callback_can_stop_the_run(void **state)
{
    pinset_policy *p = parse("{\"version\": 1, \"rules\": ["
                             "{\"host\": \"a.example\", \"min_pins\": 1, \"pins\": [" PIN_A "]},"
                             "{\"host\": \"b.example\", \"min_pins\": 1, \"pins\": [" PIN_A "]}]}");
    pinset_lint_options o = PINSET_LINT_OPTIONS_INIT;
    pinset_diag d = PINSET_DIAG_INIT;
    int calls = 0;

    (void)state;
    o.now = NOW;
    assert_int_equal(pinset_lint_run(p, &o, stop_at_first, &calls, &d), PINSET_E_IO);
    assert_int_equal(calls, 1);
    assert_int_equal(d.code, PINSET_E_IO);
    pinset_policy_free(p);
}

static void bad_arguments(void **state)
{
    pinset_policy *p = parse(clean_policy);
    pinset_lint_options o = PINSET_LINT_OPTIONS_INIT;
    struct findings all;

    (void)state;
    assert_int_equal(pinset_lint_run(NULL, NULL, collect, &all, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_lint_run(p, NULL, NULL, &all, NULL), PINSET_E_INVALID_ARG);
    o.version = 99;
    assert_int_equal(pinset_lint_run(p, &o, collect, &all, NULL), PINSET_E_INVALID_ARG);
    o.version = PINSET_LINT_OPTIONS_VERSION;
    o.warn_days = 36501;
    assert_int_equal(pinset_lint_run(p, &o, collect, &all, NULL), PINSET_E_INVALID_ARG);
    /* NULL options: defaults and the current time */
    memset(&all, 0, sizeof(all));
    assert_int_equal(pinset_lint_run(p, NULL, collect, &all, NULL), PINSET_OK);
    /* getters tolerate NULL */
    assert_null(pinset_lint_finding_id(NULL));
    assert_int_equal(pinset_lint_finding_rule(NULL), SIZE_MAX);
    assert_string_equal(pinset_lint_severity_name(PINSET_LINT_ERROR), "error");
    assert_string_equal(pinset_lint_severity_name((pinset_lint_severity)7), "unknown");
    pinset_policy_free(p);
}

/* Every rule id is documented in docs/lint-rules.md, and every id there exists. */
static void every_rule_id_is_documented(void **state)
{
    const char *src = getenv("PINSET_SOURCE_DIR");
    char path[1024], *doc;
    FILE *f;
    long n;
    size_t i;

    (void)state;
    if (src == NULL) {
        skip();
    }
    snprintf(path, sizeof(path), "%s/docs/lint-rules.md", src);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0 && n < 1000000);
    rewind(f);
    doc = malloc((size_t)n + 1);
    assert_non_null(doc);
    assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
    doc[n] = '\0';
    fclose(f);
    for (i = 0; pinset_lint_rule_id(i) != NULL; i++) {
        char head[96];
        snprintf(head, sizeof(head), "## `%s`", pinset_lint_rule_id(i));
        if (strstr(doc, head) == NULL) {
            fail_msg("docs/lint-rules.md lacks a section '%s'", head);
        }
    }
    assert_true(i >= 17);
    /* and no section for an id the library does not have */
    for (char *h = strstr(doc, "\n## `"); h != NULL; h = strstr(h + 1, "\n## `")) {
        char id[64];
        char *end = strchr(h + 5, '`');
        size_t k;
        int known = 0;
        assert_non_null(end);
        k = (size_t)(end - (h + 5));
        assert_true(k < sizeof(id));
        memcpy(id, h + 5, k);
        id[k] = '\0';
        for (size_t j = 0; pinset_lint_rule_id(j) != NULL; j++) {
            known |= strcmp(pinset_lint_rule_id(j), id) == 0;
        }
        if (!known) {
            fail_msg("docs/lint-rules.md documents unknown rule '%s'", id);
        }
    }
    free(doc);
}

/* Every allocation failure is reported as PINSET_E_NOMEM, never a crash or a partial run. */
static void allocation_failures(void **state)
{
    pinset_policy *p = parse(clean_policy);
    pinset_lint_options o = PINSET_LINT_OPTIONS_INIT;
    struct findings all;

    (void)state;
    o.now = NOW;
    for (unsigned long k = 1; k < 16; k++) {
        pinset_err err;
        memset(&all, 0, sizeof(all));
        pinset__alloc_fail_at(k);
        err = pinset_lint_run(p, &o, collect, &all, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        if (err == PINSET_OK) {
            assert_int_equal(all.n, 0);
        }
    }
    pinset_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_policy_has_no_findings),
        cmocka_unit_test(too_few_pins_is_an_error_when_enforcing),
        cmocka_unit_test(expired_pins_do_not_count_toward_min_pins),
        cmocka_unit_test(rule_without_live_pins_fails_every_chain),
        cmocka_unit_test(no_backup_pin),
        cmocka_unit_test(backup_pin_equal_to_a_current_pin),
        cmocka_unit_test(backup_pin_in_pinset_equal_to_rule_pin),
        cmocka_unit_test(duplicate_pin),
        cmocka_unit_test(pin_that_is_also_blocked),
        cmocka_unit_test(pin_expiry),
        cmocka_unit_test(warn_days_moves_the_window),
        cmocka_unit_test(rule_expiry),
        cmocka_unit_test(include_subdomains_on_a_public_suffix),
        cmocka_unit_test(rule_for_a_public_suffix),
        cmocka_unit_test(policy_without_rules),
        cmocka_unit_test(leaf_only_pinning),
        cmocka_unit_test(leaf_only_pinning_of_a_shared_pinset),
        cmocka_unit_test(no_backup_pin_of_a_shared_pinset),
        cmocka_unit_test(redundant_rule),
        cmocka_unit_test(unused_pinset),
        cmocka_unit_test(unreachable_rules_are_parse_errors),
        cmocka_unit_test(report_uris),
        cmocka_unit_test(report_uri_grammar),
        cmocka_unit_test(hostile_long_values),
        cmocka_unit_test(callback_can_stop_the_run),
        cmocka_unit_test(one_label_scope),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(every_rule_id_is_documented),
        cmocka_unit_test(allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
