/*
 * cmd_plan.c - pinset plan: before a certificate, key or CA change, which
 * client versions in the field (the fleet file, docs/fleet-format.md) would
 * refuse the proposed chain, on which hosts, and what share of users that is.
 *
 * Each version is judged as its pinned client would judge the chain: the
 * chain is validated with X509_verify_cert() against the trust anchors, for
 * the host name, at --at (a chain that does not validate is FAIL
 * (path-invalid) for every version, as in a pinned client, and is never
 * pin-checked), then pinset_check() runs the version's policy over the chain
 * OpenSSL built. This file never decides whether a pin matches.
 *
 * The hosts: the one given with --host; otherwise every host that some
 * version's policy has a rule for and that the proposed leaf certificate is
 * valid for (X509_check_host / X509_check_ip_asc).
 *
 * With --host and no --chain, the chain is the one the host's server sends
 * now (one probe through the probe engine, which keeps the served chain
 * whether or not it validates), then judged exactly as a given chain is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
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
#include "plan.h"
#include "plan_fleet.h"
#include "probe/probe.h"
#include "targets.h"

enum plan_opt {
    O_FLEET,
    O_CHAIN,
    O_HOST,
    O_AT,
    O_CAFILE,
    O_CAPATH,
    O_RESOLVE,
    O_CONNECT_TO,
    O_TIMEOUT,
    O_KEY,
    O_CSR,
    O_ROTATE,
    O_FORMAT,
    O_END
};

static const opt_spec plan_opts[] = {
    [O_FLEET] = {"fleet", 0, "FILE", "the client versions in the field (docs/fleet-format.md)"},
    [O_CHAIN] = {"chain", 'c', "FILE", "the proposed chain (PEM, leaf first)"},
    [O_HOST] = {"host", 'H', "HOST[:PORT]",
                "judge this host only; without --chain, the chain its server sends now"},
    [O_AT] = {"at", 0, "DATE", "judge at this date or RFC 3339 time (default: now)"},
    [O_CAFILE] = NETOPT_CAFILE,
    [O_CAPATH] = NETOPT_CAPATH,
    [O_RESOLVE] = NETOPT_RESOLVE,
    [O_CONNECT_TO] = NETOPT_CONNECT_TO,
    [O_TIMEOUT] = NETOPT_TIMEOUT,
    [O_KEY] = {"key", 'k', "FILE",
               "judge a new leaf on this key (public or private, PEM or DER) under the chain"},
    [O_CSR] = {"csr", 0, "FILE", "judge a new leaf on the key of this CSR under the chain"},
    [O_ROTATE] = {"rotate", 0, "HOST[:PORT]",
                  "propose a safe order to move HOST's leaf to another key (text or json)"},
    [O_FORMAT] = NETOPT_FORMAT("text (default), json or markdown"),
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_plan_spec = {
    "plan", "--fleet FILE (--chain FILE [--host HOST] | --host HOST[:PORT]) [options]",
    "Plan a change: which client versions would refuse a proposed chain.", plan_opts};

static const char *const plan_formats[] = {"text", "json", "markdown", NULL};

typedef struct plan_args {
    netopt net; /* net.po: cafile, capath; net.format */
    const char *fleet;
    const char *chain;
    const char *host;
    const char *key; /* --key or --csr */
    int key_is_csr;
    int rotate;
    int64_t at;
} plan_args;

static int parse_args(plan_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r;

    opt_init(&st, argc, argv);
    while ((r = netopt_next(&st, &cmd_plan_spec, &a->net, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_plan_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            return opt_usage_error(&cmd_plan_spec, "unexpected argument '%s'", v);
        case O_FLEET:
            a->fleet = v;
            break;
        case O_CHAIN:
            a->chain = v;
            break;
        case O_HOST:
            if (a->host != NULL) {
                return opt_usage_error(&cmd_plan_spec, "one --host or --rotate only");
            }
            a->host = v;
            break;
        case O_KEY:
        case O_CSR:
            if (a->key != NULL) {
                return opt_usage_error(&cmd_plan_spec, "one --key or --csr only");
            }
            a->key = v;
            a->key_is_csr = r == O_CSR;
            break;
        case O_ROTATE:
            if (a->host != NULL) {
                return opt_usage_error(&cmd_plan_spec, "--rotate names the host: no --host too");
            }
            a->host = v;
            a->rotate = 1;
            break;
        case O_AT:
            if (out_parse_time(v, &a->at) != 0) {
                return opt_usage_error(&cmd_plan_spec,
                                       "--at '%s': expected a date (2027-01-01) or an RFC 3339 "
                                       "time",
                                       v);
            }
            break;
        default:
            return netopt_exit(r);
        }
    }
    if (a->fleet == NULL) {
        return opt_usage_error(&cmd_plan_spec, "--fleet FILE is required");
    }
    if (a->chain == NULL && a->host == NULL) {
        return opt_usage_error(&cmd_plan_spec, "--chain FILE or --host HOST is required");
    }
    if (a->rotate && a->key != NULL) {
        return opt_usage_error(&cmd_plan_spec, "--rotate proposes the keys: no --key or --csr");
    }
    if (a->rotate && a->net.format == 2) {
        return opt_usage_error(&cmd_plan_spec, "--rotate: --format text or json");
    }
    return -1;
}

/* ---- the proposed chain ---- */

/* Read the PEM bundle (bounded, certificates only) into `sent`; an exit status or -1. */

static X509_STORE *load_trust(const plan_args *a)
{
    X509_STORE *store = X509_STORE_new();
    const char *cafile = a->net.po.cafile, *capath = a->net.po.capath;
    char name[256];

    ERR_clear_error();
    if (store != NULL &&
        (cafile != NULL || capath != NULL ? X509_STORE_load_locations(store, cafile, capath)
                                          : X509_STORE_set_default_paths(store)) == 1) {
        return store;
    }
    X509_STORE_free(store);
    out_safe_copy(name, sizeof(name), cafile != NULL ? cafile : capath);
    cli_err("plan", "cannot load trust anchors from %s",
            cafile != NULL || capath != NULL ? name : "the system store");
    return NULL;
}

/* ---- a proposed new leaf key (--key, --csr) ---- */

/*
 * The pins of a leaf not yet issued: the key's spki pin, and for its
 * certificate pin a digest no policy can hold (the certificate does not
 * exist yet): SHA-256 over a fixed label and the key's pin.
 */
int plan_new_leaf_pins(pinset_cert_pins *out, const pinset_pin *spki)
{
    static const char tag[] = "pinset plan: a certificate not issued yet";
    uint8_t buf[sizeof(tag) + PINSET_PIN_LEN];
    unsigned int mdlen = 0;

    out->spki = *spki;
    memcpy(buf, tag, sizeof(tag));
    memcpy(buf + sizeof(tag), spki->sha256, PINSET_PIN_LEN);
    out->cert.kind = PINSET_PIN_CERT;
    return EVP_Digest(buf, sizeof(buf), out->cert.sha256, &mdlen, EVP_sha256(), NULL) == 1 &&
                   mdlen == PINSET_PIN_LEN
               ? 0
               : -1;
}

static int read_new_key(pinset_cert_pins *out, const char *path, int csr)
{
    pinset_load_opts lo = PINSET_LOAD_OPTS_INIT;
    pinset_bundle *b = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    const pinset_object *o;
    char name[256];
    pinset_err err;
    int rc = -1;

    out_safe_copy(name, sizeof(name), path);
    lo.max_input = CLI_CHAIN_FILE_MAX;
    d.input = cli_is_stdin(path) ? CLI_STDIN_NAME : path;
    err = cli_bundle_read(&b, path, &lo, &d);
    if (err != PINSET_OK) {
        cli_err_diag("plan", &d);
        return cli_exit_for(err) == EXIT_USAGE ? EXIT_INPUT : cli_exit_for(err);
    }
    o = pinset_bundle_count(b) == 1 ? pinset_bundle_get(b, 0) : NULL;
    if (o == NULL || (csr ? pinset_object_get_type(o) != PINSET_OBJ_CSR
                          : pinset_object_get_type(o) != PINSET_OBJ_PUBKEY &&
                                pinset_object_get_type(o) != PINSET_OBJ_PRIVKEY)) {
        cli_err("plan", "--%s %s: expected one %s", csr ? "csr" : "key", name,
                csr ? "certificate signing request" : "public or private key");
        rc = EXIT_INPUT;
    } else if (pinset_object_pin(&out->spki, o, PINSET_PIN_SPKI) != PINSET_OK) {
        cli_err("plan", "--%s %s: cannot compute the key's pin", csr ? "csr" : "key", name);
        rc = EXIT_INPUT;
    } else if (plan_new_leaf_pins(out, &out->spki) != 0) {
        cli_err("plan", "cannot compute a digest");
        rc = EXIT_INTERNAL;
    }
    pinset_bundle_free(b);
    return rc;
}

/* ---- a live server's chain ---- */

typedef struct live_run {
    STACK_OF(X509) * sent;
    probe_status status;
    char error[256];
    char address[64];
    int got;
} live_run;

static void live_on_result(probe_result *res, void *payload)
{
    live_run *lr = payload;

    lr->status = res->status;
    snprintf(lr->error, sizeof(lr->error), "%s", res->error);
    snprintf(lr->address, sizeof(lr->address), "%s", res->address);
    for (int i = 0; res->served != NULL && i < sk_X509_num(res->served); i++) {
        X509 *x = sk_X509_value(res->served, i);
        if (X509_up_ref(x) != 1) {
            return;
        }
        if (sk_X509_push(lr->sent, x) <= 0) {
            X509_free(x);
            return;
        }
    }
    lr->got = res->served != NULL && sk_X509_num(res->served) > 0 &&
              sk_X509_num(lr->sent) == sk_X509_num(res->served);
}

/*
 * The chain the server of --host sends now, into `sent`: the probe engine
 * takes it whether or not it validates; it is then validated and judged as a
 * given chain is. An exit status, or -1 to go on; `label` names it.
 */
static int chain_live(STACK_OF(X509) * sent, const plan_args *a, char *label, size_t cap)
{
    probe_opts po = a->net.po;
    target_list tl = TARGET_LIST_INIT;
    probe_engine *e = NULL;
    live_run lr;
    char err[512], shown[PINSET_HOST_MAX + 16];
    int rc = -1;

    memset(&lr, 0, sizeof(lr));
    lr.sent = sent;
    po.concurrency = 1;
    if (targets_add(&tl, a->host, NULL, NULL, 443, err, sizeof(err)) != 0 ||
        targets_apply_map(&tl, a->net.map, err, sizeof(err)) != 0) {
        cli_err("plan", "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    e = probe_engine_new(&po, err, sizeof(err));
    if (e == NULL ||
        probe_engine_run(e, tl.items, tl.count, live_on_result, &lr, err, sizeof(err)) != 0) {
        cli_err("plan", "%s", err);
        rc = EXIT_INTERNAL;
        goto out;
    }
    out_safe_copy(shown, sizeof(shown), a->host);
    if (!lr.got) {
        cli_err("plan", "%s: no chain: %s", shown,
                lr.error[0] ? lr.error : probe_status_name(lr.status));
        rc = lr.status == PROBE_E_INTERNAL ? EXIT_INTERNAL : EXIT_NETWORK;
        goto out;
    }
    snprintf(label, cap, "%s (live, %s)", shown, lr.address);
out:
    probe_engine_free(e);
    targets_free(&tl);
    return rc;
}

/* ---- the hosts ---- */

static int add_host(plan_doc *d, const char *canon)
{
    for (size_t i = 0; i < d->host_count; i++) {
        if (strcmp(d->hosts[i], canon) == 0) {
            return 0;
        }
    }
    if (d->host_count == PLAN_HOSTS_MAX) {
        cli_err("plan", "the leaf is valid for more than %d pinned hosts: name one with --host",
                PLAN_HOSTS_MAX);
        return EXIT_INPUT;
    }
    snprintf(d->hosts[d->host_count++], PINSET_HOST_MAX, "%s", canon);
    return 0;
}

/* Whether the certificate is valid for a canonical host (a name, or an IP literal). */
static int leaf_covers(X509 *leaf, const char *host)
{
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;

    if (pinset_host_canon(canon, sizeof(canon), &type, host, strlen(host), NULL) != PINSET_OK) {
        return 0;
    }
    if (type == PINSET_HOST_DNS) {
        return X509_check_host(leaf, canon, strlen(canon), 0, NULL) == 1;
    }
    return X509_check_ip_asc(leaf, canon, 0) == 1;
}

/* Every host a version's policy pins (a rule, not an exclusion) that the leaf is valid for. */
static int hosts_from_leaf(plan_doc *d, X509 *leaf)
{
    const plan_fleet *f = d->fleet;
    char name[256];

    for (size_t v = 0; v < f->count; v++) {
        for (size_t r = 0; r < pinset_policy_rule_count(f->v[v].policy); r++) {
            const pinset_rule *rule = pinset_policy_rule(f->v[v].policy, r);
            int rc;
            if (pinset_rule_is_exclusion(rule) || !leaf_covers(leaf, pinset_rule_host(rule))) {
                continue;
            }
            rc = add_host(d, pinset_rule_host(rule));
            if (rc != 0) {
                return rc;
            }
        }
    }
    if (d->host_count == 0) {
        out_safe_copy(name, sizeof(name), d->chain_file);
        cli_err("plan",
                "--chain %s: its leaf is valid for no host that a version's policy pins: "
                "name one with --host",
                name);
        return EXIT_INPUT;
    }
    return 0;
}

static int host_given(plan_doc *d, const char *arg)
{
    char host[PINSET_HOST_MAX + 8], err[256], shown[PINSET_HOST_MAX + 8];
    char canon[PINSET_HOST_MAX];
    pinset_diag diag = PINSET_DIAG_INIT;
    pinset_host_type type;
    uint16_t port = 0;

    if (target_split_hostport(arg, host, sizeof(host), &port, 443, err, sizeof(err)) != 0) {
        cli_err("plan", "--host: %s", err);
        return EXIT_INPUT;
    }
    if (pinset_host_canon(canon, sizeof(canon), &type, host, strlen(host), &diag) != PINSET_OK) {
        out_safe_copy(shown, sizeof(shown), host);
        cli_err("plan", "--host '%s' is not a valid host name or ip address: %s", shown,
                diag.message);
        return EXIT_INPUT;
    }
    return add_host(d, canon);
}

/* ---- the verdicts ---- */

/* Verify parameters as a client sets them: server purpose, the host name or IP, the time. */
static int set_verify(X509_STORE_CTX *vctx, const char *host, int64_t at)
{
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(vctx);
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;

    if (X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER) != 1 ||
        pinset_host_canon(canon, sizeof(canon), &type, host, strlen(host), NULL) != PINSET_OK) {
        return -1;
    }
    X509_VERIFY_PARAM_set_time(vp, (time_t)at);
    if (type == PINSET_HOST_DNS) {
        return X509_VERIFY_PARAM_set1_host(vp, canon, 0) == 1 ? 0 : -1;
    }
    return X509_VERIFY_PARAM_set1_ip_asc(vp, canon) == 1 ? 0 : -1;
}

/* DER copies of a validated chain, for pinset_check; 0 when out of memory. */

/*
 * The cells of every version on host h, over a validated chain (its DER, or
 * with --key its pins with the leaf's replaced), or none (why: it is invalid).
 */
static int judge_host(plan_doc *d, size_t h, const pinset_cert *ders, const pinset_cert_pins *pins,
                      size_t n, const char *why, pinset_result *res)
{
    const plan_fleet *f = d->fleet;

    for (size_t v = 0; v < f->count; v++) {
        plan_cell *c = &d->cells[v * d->host_count + h];
        const char *host = d->hosts[h];
        pinset_err err;
        if (why != NULL) {
            /* never pin-checked: a pinned client fails the handshake on path validation */
            c->verdict = PINSET_VERDICT_FAIL;
            c->reason = PINSET_REASON_PATH_INVALID;
            c->blocks = 1;
            snprintf(c->explain, sizeof(c->explain), "FAIL (path-invalid): %s", why);
            continue;
        }
        pinset_result_reset(res);
        err = pins != NULL
                  ? pinset_check_pins(res, f->v[v].policy, host, strlen(host), pins, n, d->at)
                  : pinset_check(res, f->v[v].policy, host, strlen(host), ders, n, d->at, NULL);
        if (err != PINSET_OK) {
            cli_err("plan", "the pin check failed");
            return EXIT_INTERNAL;
        }
        c->verdict = pinset_result_verdict(res);
        c->reason = pinset_result_reason(res);
        c->blocks = !pinset_verdict_allows(c->verdict);
        if (pinset_result_explain(c->explain, sizeof(c->explain), res) != PINSET_OK) {
            snprintf(c->explain, sizeof(c->explain), "%s", pinset_verdict_name(c->verdict));
        }
    }
    return 0;
}

/*
 * --key: the issuing chain must be valid at the date (the new leaf is issued
 * for it, so the current leaf's own dates do not count). 0, or -1 with why.
 */
static int issuers_valid(STACK_OF(X509) * validated, int64_t at, char *why, size_t cap)
{
    time_t t = (time_t)at;

    for (int i = 1; i < sk_X509_num(validated); i++) {
        X509 *x = sk_X509_value(validated, i);
        if (X509_cmp_time(X509_get0_notAfter(x), &t) < 0) {
            snprintf(why, cap,
                     "the issuing chain does not validate: certificate at depth %d has "
                     "expired",
                     i);
            return -1;
        }
        if (X509_cmp_time(X509_get0_notBefore(x), &t) > 0) {
            snprintf(why, cap,
                     "the issuing chain does not validate: certificate at depth %d is "
                     "not yet valid",
                     i);
            return -1;
        }
    }
    return 0;
}

/* The pins of a validated chain with the leaf's replaced by the new leaf's. 0 on success. */
static int chain_pins(pinset_cert_pins *pins, size_t *n, STACK_OF(X509) * sk,
                      const pinset_cert_pins *leaf)
{
    *n = 0;
    for (int i = 0; i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);
        if (i == 0) {
            pins[0] = *leaf;
        } else if (pinset_pin_from_x509(&pins[i].spki, x, PINSET_PIN_SPKI, NULL) != PINSET_OK ||
                   pinset_pin_from_x509(&pins[i].cert, x, PINSET_PIN_CERT, NULL) != PINSET_OK) {
            return -1;
        }
        *n = (size_t)i + 1;
    }
    return 0;
}

int plan_judge_host(plan_doc *d, size_t h, X509_STORE *store, STACK_OF(X509) * sent,
                    pinset_result *res)
{
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    STACK_OF(X509) *validated = NULL;
    pinset_cert ders[PINSET_CHAIN_MAX + 1];
    pinset_cert_pins pins[PINSET_CHAIN_MAX + 1];
    size_t n = 0;
    char why[256];
    int ok, rc = 0;

    if (vctx == NULL || X509_STORE_CTX_init(vctx, store, sk_X509_value(sent, 0), sent) != 1 ||
        set_verify(vctx, d->hosts[h], d->at) != 0) {
        cli_err("plan", "cannot set up chain validation");
        X509_STORE_CTX_free(vctx);
        return EXIT_INTERNAL;
    }
    if (d->new_leaf != NULL) {
        /* the dates are checked below, for the issuers only (a time set would win over this) */
        X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(vctx);
        X509_VERIFY_PARAM_clear_flags(vp, X509_V_FLAG_USE_CHECK_TIME);
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_NO_CHECK_TIME);
    }
    ok = X509_verify_cert(vctx) == 1 && X509_STORE_CTX_get_error(vctx) == X509_V_OK;
    snprintf(why, sizeof(why), "the chain does not validate: %s",
             X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx)));
    ERR_clear_error();
    if (ok) {
        validated = X509_STORE_CTX_get1_chain(vctx);
        /* more than a verdict holds: judge one element too many (chain-too-long) */
        while (validated != NULL && sk_X509_num(validated) > PINSET_CHAIN_MAX + 1) {
            X509_free(sk_X509_pop(validated));
        }
        if (validated == NULL) {
            rc = EXIT_INTERNAL;
        } else if (d->new_leaf != NULL) {
            ok = issuers_valid(validated, d->at, why, sizeof(why)) == 0;
            rc = chain_pins(pins, &n, validated, d->new_leaf) == 0 ? 0 : EXIT_INTERNAL;
        } else if (!cli_chain_der(ders, &n, validated)) {
            rc = EXIT_INTERNAL;
        }
        if (rc != 0) {
            cli_err("plan", "cannot encode the validated chain");
        }
    }
    if (rc == 0) {
        rc = judge_host(d, h, d->new_leaf != NULL ? NULL : ders, d->new_leaf != NULL ? pins : NULL,
                        n, ok ? NULL : why, res);
    }
    for (size_t i = 0; d->new_leaf == NULL && i < n; i++) {
        OPENSSL_free((void *)(uintptr_t)ders[i].der);
    }
    sk_X509_pop_free(validated, X509_free);
    X509_STORE_CTX_free(vctx);
    return rc;
}

void plan_summarise(plan_doc *d)
{
    const plan_fleet *f = d->fleet;

    d->in_support = 0;
    d->breaking = 0;
    d->share_unknown = 0;
    d->share_at_risk = 0.0;
    for (size_t v = 0; v < f->count; v++) {
        if (!plan_version_in_support(&f->v[v], d->at)) {
            continue;
        }
        d->in_support++;
        if (!plan_version_breaks(d, v)) {
            continue;
        }
        d->breaking++;
        if (f->v[v].has_share) {
            d->share_at_risk += f->v[v].share;
        } else {
            d->share_unknown++;
        }
    }
}

const plan_cell *plan_cell_at(const plan_doc *d, size_t v, size_t h)
{
    return &d->cells[v * d->host_count + h];
}

int plan_version_breaks(const plan_doc *d, size_t v)
{
    for (size_t h = 0; h < d->host_count; h++) {
        if (plan_cell_at(d, v, h)->blocks) {
            return 1;
        }
    }
    return 0;
}

/* Hosts, then every cell. An exit status, or -1 to print. */
static int run_plan(plan_doc *d, const plan_args *a, STACK_OF(X509) * sent)
{
    X509_STORE *store = NULL;
    pinset_result *res = NULL;
    int rc = a->host != NULL ? host_given(d, a->host) : hosts_from_leaf(d, sk_X509_value(sent, 0));

    if (rc != 0) {
        return rc;
    }
    store = load_trust(a);
    if (store == NULL) {
        return EXIT_INPUT;
    }
    d->cells = calloc(d->fleet->count * d->host_count, sizeof(*d->cells));
    if (d->cells == NULL || pinset_result_new(&res, NULL) != PINSET_OK) {
        cli_err("plan", "out of memory");
        rc = EXIT_INTERNAL;
    }
    if (rc == 0 && a->rotate) {
        rc = plan_rotate(d, store, sent, res, a->net.format == 1);
        pinset_result_free(res);
        X509_STORE_free(store);
        return rc;
    }
    for (size_t h = 0; rc == 0 && h < d->host_count; h++) {
        rc = plan_judge_host(d, h, store, sent, res);
    }
    pinset_result_free(res);
    X509_STORE_free(store);
    if (rc != 0) {
        return rc;
    }
    plan_summarise(d);
    return -1;
}

int cmd_plan(int argc, char **argv)
{
    plan_args a;
    plan_fleet fleet;
    plan_doc *d = NULL;
    STACK_OF(X509) *sent = NULL;
    char hostbuf[PINSET_HOST_MAX + 8], err[256], label[PINSET_HOST_MAX + 96];
    char keylabel[PINSET_HOST_MAX + 400];
    pinset_cert_pins new_leaf;
    uint16_t port;
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&fleet, 0, sizeof(fleet));
    if (netopt_init(&a.net, plan_formats) != 0) {
        netopt_free(&a.net);
        cli_err("plan", "out of memory");
        return EXIT_INTERNAL;
    }
    rc = parse_args(&a, argc, argv);
    if (rc >= 0) {
        goto out;
    }
    if (a.at == 0) {
        a.at = (int64_t)time(NULL);
    }
    /* the host given names the policies of the formats that name none (HPKP, curl) */
    rc = plan_fleet_load(&fleet, "plan", a.fleet,
                         a.host != NULL && target_split_hostport(a.host, hostbuf, sizeof(hostbuf),
                                                                 &port, 443, err, sizeof(err)) == 0
                             ? hostbuf
                             : NULL);
    if (rc != 0) {
        goto out;
    }
    sent = sk_X509_new_null();
    d = calloc(1, sizeof(*d));
    if (sent == NULL || d == NULL) {
        cli_err("plan", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = a.chain != NULL ? cli_chain_read(sent, "plan", a.chain)
                         : chain_live(sent, &a, label, sizeof(label));
    if (rc >= 0) {
        goto out;
    }
    d->fleet = &fleet;
    d->fleet_file = a.fleet;
    d->chain_file = a.chain != NULL ? a.chain : label;
    if (a.key != NULL) {
        rc = read_new_key(&new_leaf, a.key, a.key_is_csr);
        if (rc >= 0) {
            goto out;
        }
        d->new_leaf = &new_leaf;
        d->key_file = a.key;
        snprintf(keylabel, sizeof(keylabel), "a new leaf on %.256s under %s", a.key, d->chain_file);
        d->chain_file = keylabel;
    }
    d->at = a.at;
    rc = run_plan(d, &a, sent);
    if (rc >= 0) {
        goto out;
    }
    rc = a.net.format == 1   ? plan_print_json(d)
         : a.net.format == 2 ? plan_print_markdown(d)
                             : plan_print_text(d);
    if (rc != 0 || fflush(stdout) != 0 || ferror(stdout)) {
        rc = cli_output_failed("plan");
        goto out;
    }
    rc = d->breaking > 0 ? EXIT_NEGATIVE : EXIT_OK;
out:
    if (d != NULL) {
        free(d->cells);
    }
    free(d);
    sk_X509_pop_free(sent, X509_free);
    plan_fleet_free(&fleet);
    netopt_free(&a.net);
    return rc;
}
