/*
 * cmd_explain.c - pinset explain: which rule applies to a host and why, which
 * pins it holds, and the verdict for a live or a given chain, step by step.
 *
 * Steps: canonicalise the host (pinset_host_canon), look it up
 * (pinset_policy_lookup), show the rule and its pins, get a validated chain,
 * show each element's pins and which rule pins they equal, then the verdict.
 *
 * The verdict is the library's: live, the OpenSSL hook records it during the
 * handshake (as in `pinset check`); with --chain, the given PEM bundle is
 * validated with X509_verify_cert() against the trust anchors, for the host
 * name, at --now, and pinset_check() runs over the chain OpenSSL built. A
 * given chain that does not validate is never pin-checked: the verdict is
 * FAIL (path-invalid), as in a pinned client.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <pinset/openssl.h>

#include "chain_file.h"
#include "check_out.h"
#include "cmd.h"
#include "common.h"
#include "input.h"
#include "netopt.h"
#include "out.h"
#include "probe/probe.h"
#include "targets.h"

#define EXPLAIN_NAME_MAX 512

enum explain_opt {
    O_POLICY,
    O_CHAIN,
    O_CAFILE,
    O_CAPATH,
    O_RESOLVE,
    O_CONNECT_TO,
    O_TIMEOUT,
    O_NOW,
    O_FORMAT,
    O_COLOR,
    O_END
};

static const opt_spec explain_opts[] = {
    [O_POLICY] = {"policy", 'p', "FILE", "the pin policy, in any format pinset reads; required"},
    [O_CHAIN] = {"chain", 'c', "FILE",
                 "judge this PEM chain (leaf first) instead of probing the host"},
    [O_CAFILE] = NETOPT_CAFILE,
    [O_CAPATH] = NETOPT_CAPATH,
    [O_RESOLVE] = NETOPT_RESOLVE,
    [O_CONNECT_TO] = NETOPT_CONNECT_TO,
    [O_TIMEOUT] = NETOPT_TIMEOUT,
    [O_NOW] = NETOPT_NOW,
    [O_FORMAT] = NETOPT_FORMAT("text (default) or json"),
    [O_COLOR] = OUT_OPT_COLOR,
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_explain_spec = {
    "explain", "--policy FILE [options] HOST[:PORT]",
    "Explain which rule and pins apply to a host, and its verdict, step by step.", explain_opts};

static const char *const explain_formats[] = {"text", "json", NULL};

/*
 * The host of HOST[:PORT] ("[::1]:443" -> "::1"), for a policy format that
 * names no host (an HPKP header): it is then the policy of the host explained.
 */
static const char *host_part(char *buf, size_t cap, const char *arg)
{
    char err[256];
    uint16_t port;

    /* the one HOST[:PORT] reader of the tool (targets.c): a bad one is named later, by explain */
    if (arg == NULL || target_split_hostport(arg, buf, cap, &port, 443, err, sizeof(err)) != 0) {
        return NULL;
    }
    return buf;
}

typedef struct explain_args {
    netopt net; /* net.po: cafile, capath, timeout_ms; net.now: 0 for the current time */
    const char *policy;
    const char *chain_file;
    const char *host;
    int json;
    out_color_mode color; /* --color */
} explain_args;

/* What the chain step found. */
typedef struct explain_chain {
    int live;
    char status[32]; /* live: probe status name */
    char error[256]; /* live: probe error, or a --chain read error */
    char address[64];
    size_t sent;                /* certificates sent (or in the file) */
    STACK_OF(X509) * validated; /* the validated chain (owned), or NULL */
    int verify_ok;
    long verify_error;
    int verify_depth;
    const pinset_result *result; /* the verdict; NULL when none was reached */
} explain_chain;

/* ---- step 1 and 2: canonical host and lookup ---- */

static const char *host_type_name(pinset_host_type t)
{
    switch (t) {
    case PINSET_HOST_DNS:
        return "dns";
    case PINSET_HOST_IPV4:
        return "ipv4";
    case PINSET_HOST_IPV6:
        return "ipv6";
    default:
        return "unknown";
    }
}

/* For an exclusion: the rule of its parent, which the exclusion takes the host out of. */
static const pinset_rule *excluded_from(const pinset_policy *p, const pinset_rule *excl)
{
    const char *h = pinset_rule_host(excl);
    const char *dot = h != NULL ? strchr(h, '.') : NULL;

    if (dot == NULL || dot[1] == '\0') {
        return NULL;
    }
    return pinset_policy_lookup(p, dot + 1, strlen(dot + 1), NULL);
}

static void lookup_why(char *buf, size_t cap, const pinset_policy *p, const pinset_rule *rule,
                       pinset_match how)
{
    const pinset_rule *parent;

    switch (how) {
    case PINSET_MATCH_EXACT:
        snprintf(buf, cap, "exact: rules[%zu] \"%s\" names this host%s", pinset_rule_index(rule),
                 pinset_rule_host(rule),
                 pinset_rule_include_subdomains(rule) ? " (and its subdomains)" : "");
        break;
    case PINSET_MATCH_SUBDOMAIN:
        snprintf(buf, cap,
                 "subdomain: no rule names this host; its closest parent with a rule, "
                 "rules[%zu] \"%s\", has include_subdomains%s",
                 pinset_rule_index(rule), pinset_rule_host(rule),
                 pinset_rule_scope(rule) == PINSET_SCOPE_ONE_LABEL
                     ? " \"one-label\" (exactly one label below it)"
                     : "");
        break;
    case PINSET_MATCH_EXCLUDED:
        parent = excluded_from(p, rule);
        if (parent != NULL) {
            snprintf(buf, cap,
                     "excluded: rules[%zu] \"%s\" is an exclusion from rules[%zu] \"%s\" "
                     "(include_subdomains): not pinned",
                     pinset_rule_index(rule), pinset_rule_host(rule), pinset_rule_index(parent),
                     pinset_rule_host(parent));
        } else {
            snprintf(buf, cap, "excluded: rules[%zu] \"%s\" is an exclusion: not pinned",
                     pinset_rule_index(rule), pinset_rule_host(rule));
        }
        break;
    case PINSET_MATCH_NONE:
    default:
        snprintf(buf, cap,
                 "none: no rule names this host or a parent with include_subdomains: "
                 "not pinned");
        break;
    }
}

/* ---- step 4: the chain ---- */

/* Set up the verify parameters as a client would: server purpose, the host name or IP. */
static int set_verify_name(X509_STORE_CTX *vctx, const char *canon, pinset_host_type type,
                           int64_t now)
{
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(vctx);

    if (X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER) != 1) {
        return -1;
    }
    if (now != 0) {
        X509_VERIFY_PARAM_set_time(vp, (time_t)now);
    }
    if (type == PINSET_HOST_DNS) {
        return X509_VERIFY_PARAM_set1_host(vp, canon, 0) == 1 ? 0 : -1;
    }
    return X509_VERIFY_PARAM_set1_ip_asc(vp, canon) == 1 ? 0 : -1;
}

/* Read the PEM bundle (bounded, certificates only) into `sent`; an exit status or -1. */

/*
 * DER copies of every certificate of a stack, for pinset_check: the whole
 * validated chain, however long (the verdict, like the hook's, says
 * chain-too-long; it is never judged on a part). 0 on failure.
 */
static int chain_der(pinset_cert **out, size_t *n, STACK_OF(X509) * sk)
{
    size_t count = (size_t)sk_X509_num(sk);
    pinset_cert *c = count == 0 ? NULL : calloc(count, sizeof(*c));

    *out = c;
    *n = 0;
    if (c == NULL) {
        return count == 0;
    }
    return cli_chain_der(c, n, sk);
}

/* --chain: validate the given chain, then pinset_check over what OpenSSL validated. */
static int chain_offline(explain_chain *ec, pinset_result *res, const explain_args *a,
                         const pinset_policy *policy, const char *canon, pinset_host_type type)
{
    STACK_OF(X509) *sent = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    pinset_cert *ders = NULL;
    size_t n = 0;
    int rc;

    if (sent == NULL || store == NULL || vctx == NULL) {
        cli_err("explain", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = cli_chain_read(sent, "explain", a->chain_file);
    if (rc >= 0) {
        goto out;
    }
    ec->sent = (size_t)sk_X509_num(sent);
    ERR_clear_error();
    if ((a->net.po.cafile != NULL || a->net.po.capath != NULL
             ? X509_STORE_load_locations(store, a->net.po.cafile, a->net.po.capath)
             : X509_STORE_set_default_paths(store)) != 1) {
        char name[256];
        out_safe_copy(name, sizeof(name),
                      a->net.po.cafile != NULL ? a->net.po.cafile : a->net.po.capath);
        cli_err("explain", "cannot load trust anchors from %s",
                a->net.po.cafile != NULL || a->net.po.capath != NULL ? name : "the system store");
        rc = EXIT_INPUT;
        goto out;
    }
    if (X509_STORE_CTX_init(vctx, store, sk_X509_value(sent, 0), sent) != 1 ||
        set_verify_name(vctx, canon, type, a->net.now) != 0) {
        cli_err("explain", "cannot set up chain validation");
        rc = EXIT_INTERNAL;
        goto out;
    }
    ec->verify_ok = X509_verify_cert(vctx) == 1 && X509_STORE_CTX_get_error(vctx) == X509_V_OK;
    ec->verify_error = X509_STORE_CTX_get_error(vctx);
    ec->verify_depth = X509_STORE_CTX_get_error_depth(vctx);
    ERR_clear_error();
    if (ec->verify_ok) {
        ec->validated = X509_STORE_CTX_get1_chain(vctx);
        if (!chain_der(&ders, &n, ec->validated)) {
            cli_err("explain", "cannot encode the validated chain");
            rc = EXIT_INTERNAL;
            goto out;
        }
        /* the library's verdict over the validated chain, at the same instant */
        if (pinset_check(res, policy, canon, strlen(canon), ders, n, a->net.now, NULL) !=
            PINSET_OK) {
            cli_err("explain", "the pin check failed");
        }
        ec->result = res;
    }
    rc = -1;
out:
    for (size_t i = 0; i < n; i++) {
        OPENSSL_free((void *)(uintptr_t)ders[i].der);
    }
    free(ders);
    sk_X509_pop_free(sent, X509_free);
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(store);
    return rc;
}

/* ---- live: one probe with the verdict hook ---- */

typedef struct live_run {
    pinset_ossl *pin;
    SSL *ssl;
    explain_chain *ec;
    int64_t now;
} live_run;

static int64_t live_clock(void *payload)
{
    return ((const live_run *)payload)->now;
}

static int live_on_ssl(SSL *ssl, const probe_target *t, void *payload)
{
    live_run *lr = payload;

    if (SSL_up_ref(ssl) != 1) {
        return -1;
    }
    SSL_free(lr->ssl);
    lr->ssl = ssl;
    return pinset_ossl_set_port(lr->pin, ssl, t->port) == PINSET_OK ? 0 : -1;
}

static void live_on_result(probe_result *res, void *payload)
{
    live_run *lr = payload;
    explain_chain *ec = lr->ec;
    STACK_OF(X509) * served;

    snprintf(ec->status, sizeof(ec->status), "%s", probe_status_name(res->status));
    snprintf(ec->error, sizeof(ec->error), "%s", res->error);
    snprintf(ec->address, sizeof(ec->address), "%s", res->address);
    if (lr->ssl == NULL) {
        return;
    }
    served = SSL_get_peer_cert_chain(lr->ssl);
    ec->sent = served != NULL ? (size_t)sk_X509_num(served) : 0;
    ec->result = pinset_ossl_result(lr->pin, lr->ssl);
    if (ec->result != NULL && pinset_result_verdict(ec->result) == PINSET_VERDICT_NONE &&
        (pinset_result_reason(ec->result) == PINSET_REASON_NONE ||
         pinset_result_reason(ec->result) == PINSET_REASON_NOT_CHECKED)) {
        ec->result = NULL;
    }
    ec->verify_error = SSL_get_verify_result(lr->ssl);
    ec->verify_ok =
        ec->result != NULL && pinset_result_reason(ec->result) != PINSET_REASON_PATH_INVALID &&
        (ec->verify_error == X509_V_OK || ec->verify_error == X509_V_ERR_APPLICATION_VERIFICATION);
    ec->verify_depth = -1;
    if (ec->verify_ok && SSL_get0_verified_chain(lr->ssl) != NULL) {
        ec->validated = X509_chain_up_ref(SSL_get0_verified_chain(lr->ssl));
    }
}

static int chain_live(explain_chain *ec, live_run *lr, const explain_args *a, pinset_policy *policy,
                      SSL_CTX **ctx_out, probe_engine **e_out)
{
    pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
    probe_opts po = a->net.po; /* explain takes --timeout only of the probe options */
    target_list tl = TARGET_LIST_INIT;
    char err[512];
    int rc = -1;

    ec->live = 1;
    lr->ec = ec;
    lr->now = a->net.now != 0 ? a->net.now : (int64_t)time(NULL);
    *ctx_out = chk_client_ctx(a->net.po.cafile, a->net.po.capath, a->net.now, err, sizeof(err));
    if (*ctx_out == NULL) {
        cli_err("explain", "%s", err);
        return EXIT_INPUT;
    }
    oo.clock = live_clock;
    oo.clock_payload = lr;
    if (pinset_ossl_new(&lr->pin, policy, &oo, NULL) != PINSET_OK ||
        pinset_ossl_attach(lr->pin, *ctx_out, NULL) != PINSET_OK) {
        cli_err("explain", "cannot set up the verdict hook");
        return EXIT_INTERNAL;
    }
    po.ctx = *ctx_out;
    po.concurrency = 1;
    po.on_ssl = live_on_ssl;
    po.on_ssl_payload = lr;
    if (targets_add(&tl, a->host, NULL, NULL, 443, err, sizeof(err)) != 0 ||
        targets_apply_map(&tl, a->net.map, err, sizeof(err)) != 0) {
        cli_err("explain", "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    *e_out = probe_engine_new(&po, err, sizeof(err));
    if (*e_out == NULL ||
        probe_engine_run(*e_out, tl.items, tl.count, live_on_result, lr, err, sizeof(err)) != 0) {
        cli_err("explain", "%s", err);
        rc = EXIT_INTERNAL;
    }
out:
    targets_free(&tl);
    return rc;
}

/* ---- output ---- */

/* The rule pins (and blocked pins) equal to a chain element's spki or cert pin. */
static json_t *element_json(const pinset_rule *rule, X509 *x, size_t depth,
                            const pinset_result *res, char *text, size_t textcap)
{
    pinset_pin spki, cert;
    char name[EXPLAIN_NAME_MAX], s1[PINSET_PIN_STR_MAX], s2[PINSET_PIN_STR_MAX];
    json_t *o = json_object(), *eq = json_array(), *bl = json_array();
    size_t mi = 0, md = 0, used = 0;
    int decided = res != NULL && pinset_result_matched(res, &mi, &md) && md == depth &&
                  pinset_result_verdict(res) == PINSET_VERDICT_PASS;
    int bad = o == NULL || eq == NULL || bl == NULL;

    out_x509_name(name, sizeof(name), X509_get_subject_name(x));
    if (pinset_pin_from_x509(&spki, x, PINSET_PIN_SPKI, NULL) != PINSET_OK ||
        pinset_pin_from_x509(&cert, x, PINSET_PIN_CERT, NULL) != PINSET_OK) {
        bad = 1;
    }
    chk_pin_text(s1, sizeof(s1), &spki);
    chk_pin_text(s2, sizeof(s2), &cert);
    text[0] = '\0';
    for (size_t i = 0; !bad && rule != NULL && i < pinset_rule_pin_count(rule); i++) {
        const pinset_pin *p = pinset_rule_pin(rule, i);
        if (pinset_pin_equal(p, &spki) || pinset_pin_equal(p, &cert)) {
            bad |= json_array_append_new(eq, json_integer((json_int_t)i)) != 0;
            used += (size_t)snprintf(text + used, used < textcap ? textcap - used : 0,
                                     "%sequals pin [%zu] (%s, role %s)%s", used ? "; " : "", i,
                                     chk_kind_name(p->kind),
                                     pinset_role_name(pinset_rule_pin_role(rule, i)),
                                     decided && mi == i ? " <- matched" : "");
        }
    }
    for (size_t i = 0; !bad && rule != NULL && i < pinset_rule_blocked_count(rule); i++) {
        const pinset_pin *p = pinset_rule_blocked(rule, i);
        if (pinset_pin_equal(p, &spki) || pinset_pin_equal(p, &cert)) {
            bad |= json_array_append_new(bl, json_integer((json_int_t)i)) != 0;
            used += (size_t)snprintf(text + used, used < textcap ? textcap - used : 0,
                                     "%sBLOCKED key [%zu]", used ? "; " : "", i);
        }
    }
    if (used == 0) {
        snprintf(text, textcap, "no pin");
    }
    if (bad) {
        json_decref(o);
        json_decref(eq);
        json_decref(bl);
        return NULL;
    }
    bad |= out_json_set(o, "depth", json_integer((json_int_t)depth));
    bad |= out_json_set(o, "subject", out_json_str(name));
    bad |= out_json_set(o, "spki_sha256", json_string(s1));
    bad |= out_json_set(o, "cert_sha256", json_string(s2));
    bad |= out_json_set(o, "equal_pins", eq);
    bad |= out_json_set(o, "blocked_pins", bl);
    bad |= out_json_set(o, "matched", json_boolean(decided));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The check's result word, as `pinset check` gives it. */
static const char *result_word(const explain_chain *ec)
{
    pinset_verdict v;

    if (ec->result == NULL) {
        /* offline: only a chain that does not validate has no result; live: no handshake */
        return ec->live ? "ERROR" : "FAIL";
    }
    v = pinset_result_verdict(ec->result);
    if (!ec->verify_ok || !pinset_verdict_allows(v)) {
        return "FAIL";
    }
    return pinset_verdict_name(v);
}

/*
 * The verdict's one-line explanation, for text and JSON alike: the library's
 * (pinset_result_explain), or for a given chain that does not validate, which
 * is never pin-checked and so has no result, a line in the same form with a
 * pinned client's verdict, FAIL (path-invalid), the one the OpenSSL hook
 * records live. 1 when there is one, 0 when there is no verdict.
 */
static int verdict_line(char *buf, size_t cap, const explain_chain *ec)
{
    if (ec->result == NULL && !ec->live) {
        snprintf(buf, cap, "%s (%s): the chain does not validate",
                 pinset_verdict_name(PINSET_VERDICT_FAIL),
                 pinset_reason_name(PINSET_REASON_PATH_INVALID));
        return 1;
    }
    return ec->result != NULL && pinset_result_explain(buf, cap, ec->result) == PINSET_OK;
}

typedef struct explain_doc {
    const char *input;
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;
    const pinset_rule *rule;
    pinset_match how;
    char why[768];
    int64_t now;
    const pinset_policy *policy;
} explain_doc;

static void print_rule_text(const explain_doc *d)
{
    const pinset_rule *r = d->rule;
    char t[OUT_TIME_MAX], pin[PINSET_PIN_STR_MAX];

    if (r == NULL || pinset_rule_is_exclusion(r)) {
        printf("3 rule        none applies: the host is not pinned\n");
        return;
    }
    chk_time_text(t, sizeof(t), pinset_rule_expires(r));
    printf("3 rule        mode %s, min_pins %zu, expires %s", pinset_mode_name(pinset_rule_mode(r)),
           pinset_rule_min_pins(r), t);
    if (pinset_rule_expires(r) != 0) {
        printf(" (on_expiry %s%s)", pinset_on_expiry_name(pinset_rule_on_expiry(r)),
               pinset_rule_expires(r) <= d->now ? ", EXPIRED" : "");
    }
    if (pinset_rule_pinset_name(r) != NULL) {
        printf(", pin-set \"");
        out_safe(stdout, pinset_rule_pinset_name(r));
        printf("\" (its pins come first)");
    }
    printf("\n              pins:\n");
    for (size_t i = 0; i < pinset_rule_pin_count(r); i++) {
        const pinset_pin *p = pinset_rule_pin(r, i);
        int64_t na = pinset_rule_pin_not_after(r, i);
        chk_pin_text(pin, sizeof(pin), p);
        chk_time_text(t, sizeof(t), na);
        printf("                [%zu] %s %s role %-6s not_after %s%s", i, chk_kind_name(p->kind),
               pin, pinset_role_name(pinset_rule_pin_role(r, i)), t,
               na != 0 && na <= d->now ? " (EXPIRED: does not count)" : "");
        if (pinset_rule_pin_label(r, i) != NULL) {
            printf(" \"");
            out_safe(stdout, pinset_rule_pin_label(r, i));
            printf("\"");
        }
        printf("\n");
    }
    for (size_t i = 0; i < pinset_rule_blocked_count(r); i++) {
        chk_pin_text(pin, sizeof(pin), pinset_rule_blocked(r, i));
        printf("              blocked [%zu] %s\n", i, pin);
    }
}

/* The hook failed the handshake itself (a FAIL verdict or an invalid chain): no outage. */
static int hook_failed(const explain_chain *ec)
{
    return ec->result != NULL &&
           (!ec->verify_ok || !pinset_verdict_allows(pinset_result_verdict(ec->result)));
}

static void print_chain_text(const explain_doc *d, const explain_chain *ec, const char *file)
{
    char buf[1024], name[EXPLAIN_NAME_MAX];
    const pinset_rule *rule =
        d->rule != NULL && !pinset_rule_is_exclusion(d->rule) ? d->rule : NULL;

    if (ec->live) {
        printf("4 chain       live: %s", ec->address[0] ? ec->address : "(no address)");
        if (strcmp(ec->status, "ok") != 0 && !hook_failed(ec)) {
            printf(": ");
            out_safe(stdout, ec->error);
        }
        printf(", %zu certificate%s sent\n", ec->sent, ec->sent == 1 ? "" : "s");
    } else {
        printf("4 chain       file ");
        out_safe(stdout, file);
        printf(": %zu certificate%s, leaf first\n", ec->sent, ec->sent == 1 ? "" : "s");
    }
    if (ec->result == NULL && ec->live) {
        return; /* the handshake ended before the certificate was checked */
    }
    if (!ec->verify_ok) {
        printf("              validation FAILED");
        if (ec->verify_depth >= 0) {
            printf(" at depth %d", ec->verify_depth);
        }
        printf(": %s; pins are matched only against a validated chain, so none is compared\n",
               X509_verify_cert_error_string(ec->verify_error));
        return;
    }
    printf("              validation ok for %s: %d certificate%s in the validated chain\n",
           d->canon, sk_X509_num(ec->validated), sk_X509_num(ec->validated) == 1 ? "" : "s");
    for (int i = 0; i < sk_X509_num(ec->validated); i++) {
        X509 *x = sk_X509_value(ec->validated, i);
        json_t *el = element_json(rule, x, (size_t)i, ec->result, buf, sizeof(buf));
        out_x509_name(name, sizeof(name), X509_get_subject_name(x));
        printf("                [%d] ", i);
        out_safe(stdout, name);
        printf("\n                    spki %s  cert %s\n                    %s\n",
               el != NULL ? json_string_value(json_object_get(el, "spki_sha256")) : "?",
               el != NULL ? json_string_value(json_object_get(el, "cert_sha256")) : "?", buf);
        json_decref(el);
    }
}

static void print_text(const explain_doc *d, const explain_chain *ec, const char *file, int color)
{
    char line[512];

    printf("1 canonical   ");
    out_safe(stdout, d->input);
    printf(" -> %s (%s)\n", d->canon, host_type_name(d->type));
    printf("2 lookup      ");
    out_safe(stdout, d->why);
    printf("\n");
    print_rule_text(d);
    print_chain_text(d, ec, file);
    printf("5 verdict     %s%s%s", out_sgr(color, out_result_style(result_word(ec))),
           result_word(ec), out_sgr_reset(color));
    if (verdict_line(line, sizeof(line), ec)) {
        /* the line starts with its verdict; say it once when both agree */
        size_t n = strlen(result_word(ec));
        if (strncmp(line, result_word(ec), n) == 0 && line[n] == ' ') {
            out_safe(stdout, line + n);
        } else {
            printf(": "); /* e.g. FAIL: NOT_PINNED (path-invalid) */
            out_safe(stdout, line);
        }
    } else {
        printf(": no verdict: ");
        out_safe(stdout, ec->error);
    }
    printf("\n");
}

static json_t *chain_json(const explain_doc *d, const explain_chain *ec, const char *file)
{
    json_t *o = json_object(), *els = json_array();
    const pinset_rule *rule =
        d->rule != NULL && !pinset_rule_is_exclusion(d->rule) ? d->rule : NULL;
    char buf[1024];
    int bad = o == NULL || els == NULL;

    for (int i = 0; !bad && ec->validated != NULL && i < sk_X509_num(ec->validated); i++) {
        bad |=
            json_array_append_new(els, element_json(rule, sk_X509_value(ec->validated, i),
                                                    (size_t)i, ec->result, buf, sizeof(buf))) != 0;
    }
    if (bad) {
        json_decref(o);
        json_decref(els);
        return NULL;
    }
    bad |= out_json_set(o, "source", json_string(ec->live ? "live" : "file"));
    bad |= out_json_set(o, "file", ec->live ? json_null() : out_json_str(file));
    bad |= out_json_set(o, "address", ec->address[0] ? json_string(ec->address) : json_null());
    bad |= out_json_set(o, "status", ec->live ? json_string(ec->status) : json_null());
    bad |= out_json_set(o, "error",
                        ec->live && strcmp(ec->status, "ok") != 0 && !hook_failed(ec)
                            ? out_json_str(ec->error)
                            : json_null());
    bad |= out_json_set(o, "sent", json_integer((json_int_t)ec->sent));
    bad |= out_json_set(o, "validated", json_boolean(ec->verify_ok));
    bad |= out_json_set(o, "verify_error",
                        ec->verify_ok || (ec->live && ec->result == NULL)
                            ? json_null()
                            : json_string(X509_verify_cert_error_string(ec->verify_error)));
    bad |= out_json_set(o, "elements", els);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int print_json(const explain_doc *d, const explain_chain *ec, const char *file)
{
    json_t *o = json_object(), *lk = json_object(), *pins = json_array();
    const pinset_rule *r = d->rule;
    const pinset_rule *parent =
        d->how == PINSET_MATCH_EXCLUDED ? excluded_from(d->policy, r) : NULL;
    char line[512];
    int bad = o == NULL || lk == NULL || pins == NULL, rc;

    for (size_t i = 0;
         !bad && r != NULL && !pinset_rule_is_exclusion(r) && i < pinset_rule_pin_count(r); i++) {
        bad |= json_array_append_new(pins, chk_pin_json(r, i, d->now)) != 0;
    }
    if (bad) {
        json_decref(o);
        json_decref(lk);
        json_decref(pins);
        return -1;
    }
    bad |= out_json_set(lk, "match", json_string(pinset_match_name(d->how)));
    bad |= out_json_set(lk, "rule", chk_rule_json(r));
    bad |= out_json_set(lk, "excluded_from", chk_rule_json(parent));
    bad |= out_json_set(lk, "why", out_json_str(d->why));
    bad |= out_json_set(o, "input", out_json_str(d->input));
    bad |= out_json_set(o, "host", json_string(d->canon));
    bad |= out_json_set(o, "host_type", json_string(host_type_name(d->type)));
    bad |= out_json_set(o, "lookup", lk);
    bad |= out_json_set(o, "pins", pins);
    bad |= out_json_set(o, "chain", chain_json(d, ec, file));
    bad |= out_json_set(o, "result", json_string(result_word(ec)));
    bad |= out_json_set(o, "verdict",
                        ec->result != NULL
                            ? json_string(pinset_verdict_name(pinset_result_verdict(ec->result)))
                        : !ec->live ? json_string(pinset_verdict_name(PINSET_VERDICT_FAIL))
                                    : json_null());
    bad |= out_json_set(o, "reason",
                        ec->result != NULL
                            ? json_string(pinset_reason_name(pinset_result_reason(ec->result)))
                        : !ec->live ? json_string(pinset_reason_name(PINSET_REASON_PATH_INVALID))
                                    : json_null());
    bad |= out_json_set(o, "explain",
                        verdict_line(line, sizeof(line), ec) ? out_json_str(line) : json_null());
    if (bad) {
        json_decref(o);
        return -1;
    }
    rc = out_json_dump(stdout, o);
    json_decref(o);
    return rc;
}

/* ---- the command ---- */

static int parse_args(explain_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r;

    opt_init(&st, argc, argv);
    while ((r = netopt_next(&st, &cmd_explain_spec, &a->net, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_explain_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            if (a->host != NULL) {
                return opt_usage_error(&cmd_explain_spec, "one host only, got '%s' too", v);
            }
            a->host = v;
            break;
        case O_POLICY:
            a->policy = v;
            break;
        case O_CHAIN:
            a->chain_file = v;
            break;
        case O_COLOR:
            if (out_color_parse(v, &a->color) != 0) {
                return opt_usage_error(&cmd_explain_spec,
                                       "--color '%s': expected auto, never or always", v);
            }
            break;
        default:
            return netopt_exit(r);
        }
    }
    if (a->policy == NULL) {
        return opt_usage_error(&cmd_explain_spec, "--policy FILE is required");
    }
    if (a->host == NULL) {
        return opt_usage_error(&cmd_explain_spec, "no host given");
    }
    a->json = a->net.format == 1; /* explain_formats[1] */
    return -1;
}

/* Steps 1 and 2. Returns -1 to go on, or an exit status. */
static int resolve_host(explain_doc *d, const explain_args *a, const pinset_policy *policy)
{
    char host[PINSET_HOST_MAX + 8], err[256], shown[PINSET_HOST_MAX + 8];
    pinset_diag diag = PINSET_DIAG_INIT;
    uint16_t port = 0;

    d->input = a->host;
    if (target_split_hostport(a->host, host, sizeof(host), &port, 443, err, sizeof(err)) != 0) {
        cli_err("explain", "%s", err);
        return EXIT_INPUT;
    }
    if (pinset_host_canon(d->canon, sizeof(d->canon), &d->type, host, strlen(host), &diag) !=
        PINSET_OK) {
        out_safe_copy(shown, sizeof(shown), host);
        cli_err("explain", "host '%s' is not a valid host name or ip address: %s", shown,
                diag.message);
        return EXIT_INPUT;
    }
    d->rule = pinset_policy_lookup(policy, d->canon, strlen(d->canon), &d->how);
    lookup_why(d->why, sizeof(d->why), policy, d->rule, d->how);
    return -1;
}

static int exit_for(const explain_chain *ec)
{
    const char *w = result_word(ec);

    if (strcmp(w, "FAIL") == 0) {
        return EXIT_NEGATIVE;
    }
    if (strcmp(w, "ERROR") == 0) {
        return EXIT_NETWORK;
    }
    return EXIT_OK;
}

int cmd_explain(int argc, char **argv)
{
    explain_args a;
    explain_doc d;
    explain_chain ec;
    live_run lr;
    pinset_policy *policy = NULL;
    pinset_result *res = NULL;
    SSL_CTX *ctx = NULL;
    probe_engine *e = NULL;
    char hostbuf[256];
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&d, 0, sizeof(d));
    memset(&ec, 0, sizeof(ec));
    memset(&lr, 0, sizeof(lr));
    ec.verify_depth = -1;
    if (netopt_init(&a.net, explain_formats) != 0) {
        netopt_free(&a.net);
        cli_err("explain", "out of memory");
        return EXIT_INTERNAL;
    }
    rc = parse_args(&a, argc, argv);
    if (rc >= 0) {
        goto out;
    }
    rc = chk_load_policy("explain", a.policy, host_part(hostbuf, sizeof(hostbuf), a.host), &policy);
    if (rc != 0) {
        goto out;
    }
    if (a.net.now == 0) {
        a.net.now = (int64_t)time(NULL);
    }
    d.now = a.net.now;
    d.policy = policy;
    rc = resolve_host(&d, &a, policy);
    if (rc >= 0) {
        goto out;
    }
    if (pinset_result_new(&res, NULL) != PINSET_OK) {
        cli_err("explain", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = a.chain_file != NULL ? chain_offline(&ec, res, &a, policy, d.canon, d.type)
                              : chain_live(&ec, &lr, &a, policy, &ctx, &e);
    if (rc >= 0) {
        goto out;
    }
    if (a.json ? print_json(&d, &ec, a.chain_file) != 0
               : (print_text(&d, &ec, a.chain_file, out_color_enabled(stdout, a.color)), 0)) {
        rc = cli_output_failed("explain");
        goto out;
    }
    rc = fflush(stdout) == 0 && !ferror(stdout) ? exit_for(&ec) : cli_output_failed("explain");
out:
    sk_X509_pop_free(ec.validated, X509_free);
    probe_engine_free(e);
    SSL_free(lr.ssl);
    pinset_ossl_free(lr.pin);
    SSL_CTX_free(ctx);
    pinset_result_free(res);
    pinset_policy_free(policy);
    netopt_free(&a.net);
    return rc;
}
