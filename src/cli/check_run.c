/*
 * check_run.c - one round of `pinset check`: probe the targets through a TLS
 * context that carries pinset's own OpenSSL verdict hook (pinset_ossl_attach)
 * and keep, per host, what a pinned client would have decided.
 *
 * The verdict is the one the cert-verify callback of a pinned client records,
 * over the chain OpenSSL validated, and the post-handshake gate
 * (pinset_ossl_check) says whether the client would go on. The probe's on_ssl
 * hook takes a reference to each SSL so that the recorded result can be read
 * after the engine is done with the connection (also when the hook failed the
 * handshake). Nothing here decides whether a pin matches; the rotation
 * analysis (check_out.c) asks pinset_check_pins about modified chains.
 *
 * What this relies on in probe.h: on_ssl is called before each handshake with
 * a pointer into the target array given to probe_engine_run; with opts.ctx
 * set, the engine installs no verify callback of its own, so the context's
 * SSL_VERIFY_PEER and pinset's cert-verify callback decide.
 * tests/integration/test_check_live.sh breaks if either changes.
 */
#include "check_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common.h"

const char *const check_outcome_names[R_N] = {"PASS",       "FAIL",         "REPORT_ONLY_FAIL",
                                              "NOT_PINNED", "EXPIRED_OPEN", "ERROR"};
const char *const check_alert_names[3] = {NULL, "warning", "critical"};

void check_run_error(check_args *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->why, sizeof(a->why), fmt, ap);
    va_end(ap);
    cli_err(a->cmd != NULL ? a->cmd : "check", "%s", a->why);
}

/* ---- probing with the verdict hook ---- */

static int64_t run_clock(void *payload)
{
    const check_run *run = payload;

    return run->now;
}

static int on_ssl(SSL *ssl, const probe_target *t, void *payload)
{
    check_run *run = payload;
    size_t i = (size_t)(t - run->targets);

    if (i >= run->n || SSL_up_ref(ssl) != 1) {
        return -1;
    }
    SSL_free(run->ssl[i]); /* an earlier attempt's, if any */
    run->ssl[i] = ssl;
    return pinset_ossl_set_port(run->pin, ssl, t->port) == PINSET_OK ? 0 : -1;
}

/*
 * The host's result. No verdict: the handshake ended before the certificate
 * was checked (ERROR). A chain that does not validate, or a verdict that does
 * not allow the connection, is FAIL.
 */
static enum outcome outcome_of(const host_report *h)
{
    if (!h->has_verdict) {
        return R_ERROR;
    }
    if (!h->validated || h->verdict == PINSET_VERDICT_FAIL || h->verdict == PINSET_VERDICT_NONE ||
        !pinset_verdict_allows(h->verdict)) {
        return R_FAIL; /* a chain that does not validate is a finding in every mode */
    }
    if (h->status == PROBE_OK && !h->accepted) {
        return R_FAIL; /* the gate refused what the callback allowed: a pinned client stops */
    }
    if (h->status != PROBE_OK) {
        return R_ERROR; /* the pins passed, the handshake failed later: no client gets through */
    }
    switch (h->verdict) {
    case PINSET_VERDICT_PASS:
        return R_PASS;
    case PINSET_VERDICT_REPORT_ONLY_FAIL:
        return R_REPORT_ONLY_FAIL;
    case PINSET_VERDICT_NOT_PINNED:
        return R_NOT_PINNED;
    case PINSET_VERDICT_EXPIRED_OPEN:
        return R_EXPIRED_OPEN;
    case PINSET_VERDICT_NONE:
    case PINSET_VERDICT_FAIL:
    default:
        return R_FAIL;
    }
}

/* The leaf the server sent; after a failed handshake OpenSSL keeps it only in the chains. */
static X509 *leaf_of(SSL *ssl)
{
    STACK_OF(X509) * sk;

    if (SSL_get0_peer_certificate(ssl) != NULL) {
        return SSL_get0_peer_certificate(ssl);
    }
    sk = SSL_get0_verified_chain(ssl);
    if (sk == NULL || sk_X509_num(sk) == 0) {
        sk = SSL_get_peer_cert_chain(ssl);
    }
    return sk != NULL && sk_X509_num(sk) > 0 ? sk_X509_value(sk, 0) : NULL;
}

static void read_verdict(host_report *h, check_run *run, SSL *ssl, const pinset_result *pr)
{
    long vr = SSL_get_verify_result(ssl);
    X509 *leaf = leaf_of(ssl);

    h->has_verdict = 1;
    h->verdict = pinset_result_verdict(pr);
    h->reason = pinset_result_reason(pr);
    h->rule = pinset_result_rule(pr);
    h->match = pinset_result_match(pr);
    h->mode = pinset_result_mode(pr);
    h->rule_expired = pinset_result_rule_expired(pr);
    h->matched = pinset_result_matched(pr, &h->pin_index, &h->depth);
    if (pinset_result_explain(h->explain, sizeof(h->explain), pr) != PINSET_OK) {
        h->explain[0] = '\0';
    }
    /*
     * The hook turns a pin failure over a valid path into
     * X509_V_ERR_APPLICATION_VERIFICATION; the path itself failed only when
     * OpenSSL says so otherwise (the library's reason is then path-invalid).
     */
    h->verify_error = vr;
    h->validated = h->reason != PINSET_REASON_PATH_INVALID &&
                   (vr == X509_V_OK || vr == X509_V_ERR_APPLICATION_VERIFICATION);
    /* rotation readiness is a question about a host that passes today */
    if (h->validated && h->verdict == PINSET_VERDICT_PASS &&
        chk_rotation_analyse(&h->rot, run->tmp, run->policy, pr, run->now) != 0) {
        run->oom = 1;
    }
    h->leaf_not_after = leaf != NULL ? chk_cert_not_after(leaf) : 0;
    if (h->validated && pinset_result_chain_pin(pr, 0, PINSET_PIN_SPKI) != NULL) {
        chk_pin_text(h->leaf_spki, sizeof(h->leaf_spki),
                     pinset_result_chain_pin(pr, 0, PINSET_PIN_SPKI));
    }
    if (h->validated && run->text &&
        (run->verbose || (pinset_result_verdict(pr) != PINSET_VERDICT_PASS &&
                          pinset_result_verdict(pr) != PINSET_VERDICT_NOT_PINNED &&
                          pinset_result_verdict(pr) != PINSET_VERDICT_EXPIRED_OPEN))) {
        h->served = chk_served_text(SSL_get0_verified_chain(ssl), pr, "              ");
        run->oom |= h->served == NULL && pinset_result_chain_len(pr) > 0;
    }
    if (h->status == PROBE_OK) {
        h->accepted = pinset_ossl_check(run->pin, ssl) == PINSET_OK;
    }
}

static void on_result(probe_result *res, void *payload)
{
    check_run *run = payload;
    host_report *h = &run->hosts[res->index];
    SSL *ssl = run->ssl[res->index];
    const pinset_result *pr = ssl != NULL ? pinset_ossl_result(run->pin, ssl) : NULL;

    run->ssl[res->index] = NULL;
    h->t = res->target;
    h->status = res->status;
    snprintf(h->error, sizeof(h->error), "%s", res->error);
    snprintf(h->address, sizeof(h->address), "%s", res->address);
    snprintf(h->protocol, sizeof(h->protocol), "%s", res->status == PROBE_OK ? res->protocol : "");
    /* a NONE verdict with reason none or not-checked: the cert-verify callback never ran */
    if (pr != NULL && (pinset_result_verdict(pr) != PINSET_VERDICT_NONE ||
                       (pinset_result_reason(pr) != PINSET_REASON_NONE &&
                        pinset_result_reason(pr) != PINSET_REASON_NOT_CHECKED))) {
        read_verdict(h, run, ssl, pr);
    } else {
        /* not checked: still say which rule would have applied (the library's lookup) */
        h->rule = pinset_policy_lookup(run->policy, h->t->host, strlen(h->t->host), &h->match);
        h->mode = h->rule != NULL ? pinset_rule_mode(h->rule) : PINSET_MODE_ENFORCE;
    }
    h->outcome = outcome_of(h);
    /* the hook failed the handshake on purpose: the verdict says why, it is no outage */
    h->aborted = h->has_verdict && h->status == PROBE_E_HANDSHAKE &&
                 (!h->validated || !pinset_verdict_allows(h->verdict));
    SSL_free(ssl);
    ERR_clear_error();
    run->done++;
    if (out_progress_enabled()) {
        out_progress("check: %zu/%zu hosts", run->done, run->n);
    }
}

/* ---- targets: sorted, deduplicated, sharded; or the policy's hosts ---- */

static int target_cmp(const void *pa, const void *pb)
{
    const probe_target *a = pa, *b = pb;
    int c = strcmp(a->host, b->host);

    if (c != 0) {
        return c;
    }
    if (a->port != b->port) {
        return a->port < b->port ? -1 : 1;
    }
    if (a->naddrs != b->naddrs) {
        return a->naddrs < b->naddrs ? -1 : 1;
    }
    for (size_t i = 0; i < a->naddrs; i++) {
        c = strcmp(a->addrs[i], b->addrs[i]);
        if (c != 0) {
            return c;
        }
    }
    return 0;
}

void check_sort_and_shard(target_list *tl, unsigned long si, unsigned long sn)
{
    size_t k = 0, idx = 0;

    if (tl->count > 1) {
        qsort(tl->items, tl->count, sizeof(*tl->items), target_cmp);
    }
    for (size_t j = 0; j < tl->count; j++) {
        if (j > 0 && target_cmp(&tl->items[j], &tl->items[j - 1]) == 0) {
            continue; /* a duplicate */
        }
        if (idx++ % sn == si) {
            tl->items[k++] = tl->items[j];
        }
    }
    tl->count = k;
}

int check_targets_from_policy(target_list *tl, const pinset_policy *p, char *err, size_t cap)
{
    for (size_t i = 0; i < pinset_policy_rule_count(p); i++) {
        const pinset_rule *r = pinset_policy_rule(p, i);
        if (pinset_rule_is_exclusion(r)) {
            continue;
        }
        if (targets_add(tl, pinset_rule_host(r), NULL, NULL, 443, err, cap) != 0) {
            return -1;
        }
    }
    return 0;
}

static int setup_run(check_run *run, check_args *a, SSL_CTX **ctx_out)
{
    pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
    char err[256];
    SSL_CTX *ctx;

    ctx = chk_client_ctx(a->net.po.cafile, a->net.po.capath, a->net.now, err, sizeof(err));
    if (ctx == NULL) {
        check_run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    *ctx_out = ctx;
    oo.clock = run_clock;
    oo.clock_payload = run;
    if (pinset_ossl_new(&run->pin, run->policy, &oo, NULL) != PINSET_OK ||
        pinset_ossl_attach(run->pin, ctx, NULL) != PINSET_OK ||
        pinset_result_new(&run->tmp, NULL) != PINSET_OK) {
        check_run_error(a, "cannot set up the verdict hook");
        return EXIT_INTERNAL;
    }
    a->net.po.ctx = ctx;
    a->net.po.on_ssl = on_ssl;
    a->net.po.on_ssl_payload = run;
    return -1;
}

int check_probe(check_run *run, check_args *a, const target_list *tl)
{
    probe_engine *e = NULL;
    char err[256];
    int rc;

    run->targets = tl->items;
    run->n = tl->count;
    run->ssl = calloc(tl->count ? tl->count : 1, sizeof(*run->ssl));
    run->hosts = calloc(tl->count ? tl->count : 1, sizeof(*run->hosts));
    if (run->ssl == NULL || run->hosts == NULL) {
        check_run_error(a, "out of memory");
        return EXIT_INTERNAL;
    }
    rc = setup_run(run, a, &run->ctx);
    if (rc >= 0) {
        return rc;
    }
    e = probe_engine_new(&a->net.po, err, sizeof(err));
    if (e == NULL) {
        check_run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    if (probe_engine_run(e, tl->items, tl->count, on_result, run, err, sizeof(err)) != 0) {
        check_run_error(a, "%s", err);
        probe_engine_free(e);
        return EXIT_INTERNAL;
    }
    probe_engine_free(e);
    out_progress_done();
    if (run->oom) {
        check_run_error(a, "out of memory");
        return EXIT_INTERNAL;
    }
    return -1;
}

void check_run_release(check_run *run)
{
    for (size_t i = 0; run->ssl != NULL && i < run->n; i++) {
        SSL_free(run->ssl[i]);
    }
    free(run->ssl);
    run->ssl = NULL;
    for (size_t i = 0; run->hosts != NULL && i < run->n; i++) {
        free(run->hosts[i].served);
    }
    free(run->hosts);
    run->hosts = NULL;
    pinset_result_free(run->tmp);
    run->tmp = NULL;
    pinset_ossl_free(run->pin);
    run->pin = NULL;
    SSL_CTX_free(run->ctx);
    run->ctx = NULL;
}
