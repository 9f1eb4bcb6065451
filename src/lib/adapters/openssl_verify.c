/*
 * openssl_verify.c - the OpenSSL hook's cert-verify callback: path
 * validation (again without the application's verify callback for a pinned
 * host), the names the application verifies, the pins of the validated
 * chain, the verdict and the report; pinset_ossl_attach installs it.
 */
#include <time.h>

#include "adapters/openssl_int.h"
#include "util/buf.h"
#include "util/rfc3339.h"

int64_t pinset__ossl_read_clock(const pinset_ossl *pin)
{
    if (pin->opts.clock != NULL) {
        return pin->opts.clock(pin->opts.clock_payload);
    }
    return (int64_t)time(NULL);
}

/*
 * What the names the application verifies need: returns 1 when a rule pins
 * any of them (else the chain need not be hashed at all: the verdict is
 * NOT_PINNED whatever it holds), and sets *need_cert when such a rule has a
 * cert pin. A wrong "not pinned" here cannot pass a pinned host: the check
 * then sees an empty chain, which fails (no-chain).
 */
static int names_pinned(const pinset_policy *policy, X509_STORE_CTX *xctx, const char *ip,
                        int *need_cert)
{
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(xctx);
    const pinset_rule *rule;
    pinset_match how;
    const char *host;
    int pinned = 0;

    *need_cert = 0;
    for (int i = 0; X509_VERIFY_PARAM_get0_host(vp, i) != NULL; i++) {
        host = X509_VERIFY_PARAM_get0_host(vp, i);
        rule = pinset_policy_lookup(policy, host, strlen(host), &how);
        if (rule != NULL && how != PINSET_MATCH_EXCLUDED) {
            pinned = 1;
            *need_cert |= pinset__rule_needs_cert(rule);
        }
    }
    if (ip != NULL) { /* OpenSSL checks the IP as well as the names */
        rule = pinset_policy_lookup(policy, ip, strlen(ip), &how);
        if (rule != NULL && how != PINSET_MATCH_EXCLUDED) {
            pinned = 1;
            *need_cert |= pinset__rule_needs_cert(rule);
        }
    }
    return pinned;
}

/*
 * DER copies of every certificate of a stack (reports only), however many:
 * a report shows the whole chain. Returns 0 (and *out NULL) when the stack
 * is empty or a copy fails; the report then goes without that chain.
 */
static size_t ders_of(pinset_cert **out, STACK_OF(X509) * sk)
{
    int count = sk == NULL ? 0 : sk_X509_num(sk);
    pinset_cert *c;

    *out = NULL;
    if (count <= 0 || (c = pinset__alloc_array((size_t)count, sizeof(*c))) == NULL) {
        return 0;
    }
    for (int i = 0; i < count; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(sk_X509_value(sk, i), &der);

        if (len <= 0) {
            for (int j = 0; j < i; j++) {
                OPENSSL_free((void *)(uintptr_t)c[j].der);
            }
            pinset__free(c);
            return 0;
        }
        c[i].der = der;
        c[i].len = (size_t)len;
    }
    *out = c;
    return (size_t)count;
}

static void ders_free(pinset_cert *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OPENSSL_free((void *)(uintptr_t)c[i].der);
    }
    pinset__free(c);
}

/* The most a report document may take (util/buf.h bounds every growable buffer). */
#define REPORT_MAX ((size_t)16 << 20)

/* Build and hand over a report; never changes the verdict, never fails the handshake. */
void pinset__ossl_report(const pinset_ossl *pin, const struct ssl_state *st,
                         STACK_OF(X509) * served_sk, STACK_OF(X509) * validated_sk)
{
    pinset_cert *served = NULL, *validated = NULL;
    pinset_report_input in = PINSET_REPORT_INPUT_INIT;
    struct pinset__buf d;

    if (pin->opts.report == NULL || !pinset_report_wanted(st->result)) {
        return;
    }
    in.port = st->port;
    in.served_count = ders_of(&served, served_sk);
    in.served = served;
    in.validated_count = ders_of(&validated, validated_sk);
    in.validated = validated;
    pinset__buf_init(&d, REPORT_MAX, 0);
    if (pinset_report_write(st->result, &in, pinset__buf_sink, &d, NULL) == PINSET_OK &&
        d.p != NULL) {
        pin->opts.report((const char *)d.p, d.len, pin->opts.report_payload);
    }
    pinset__buf_free(&d);
    ders_free(served, in.served_count);
    ders_free(validated, in.validated_count);
}

/*
 * Check one host name against the validated chain (chain == NULL: the path
 * failed). n may exceed PINSET_CHAIN_MAX: the pins are then not read, and a
 * rule for the host fails with chain-too-long.
 */
void pinset__ossl_check_host(struct ssl_state *st, const pinset_policy *policy, const char *host,
                             const pinset_cert_pins *pins, size_t n, int64_t now, int need_cert)
{
    if (pinset__check_pins_ex(st->result, policy, host, strlen(host), pins, n, now, need_cert) !=
        PINSET_OK) {
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
        return;
    }
    if (pins == NULL) {
        /*
         * Path validation failed: a pinned host has FAIL (no-chain) in every
         * mode; others keep OpenSSL's say. Either way the reason is the path.
         */
        pinset__result_set(st->result, pinset_result_verdict(st->result),
                           PINSET_REASON_PATH_INVALID);
    }
}

/*
 * The verdict for every identity the application verifies: each name set
 * with SSL_set1_host/SSL_add1_host (OpenSSL accepts a certificate that
 * matches any of them) and the IP (which OpenSSL requires as well). The
 * first identity whose verdict does not allow the connection decides; else
 * the first one that a rule pins, else the first. Returns 0 when no host and
 * no IP was set.
 */
int pinset__ossl_check_names(struct ssl_state *st, const pinset_policy *policy,
                             X509_VERIFY_PARAM *vp, const char *ip, const pinset_cert_pins *pins,
                             size_t n, int64_t now, int need_cert)
{
    pinset_result *keep = NULL;
    int hosts = 0, total, kept_rule = 0;

    while (X509_VERIFY_PARAM_get0_host(vp, hosts) != NULL) {
        hosts++;
    }
    total = hosts + (ip != NULL);
    if (total > 1) {
        keep = pinset__result_new_bare();
        if (keep == NULL) {
            pinset_result_reset(st->result);
            pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
            goto out;
        }
    }
    for (int i = 0; i < total; i++) {
        pinset__ossl_check_host(st, policy, i < hosts ? X509_VERIFY_PARAM_get0_host(vp, i) : ip,
                                pins, n, now, need_cert);
        if (!pinset_verdict_allows(pinset_result_verdict(st->result))) {
            goto out; /* this identity's refusal stands */
        }
        if (keep != NULL && (i == 0 || (!kept_rule && pinset_result_rule(st->result) != NULL))) {
            pinset__result_copy(keep, st->result);
            kept_rule = pinset_result_rule(st->result) != NULL;
        }
    }
    if (keep != NULL) {
        pinset__result_copy(st->result, keep);
    }
out:
    pinset_result_free(keep);
    return total > 0;
}

/*
 * Under SSL_VERIFY_NONE OpenSSL ignores a failed verification. A pinned
 * mismatch must still fail the handshake: switch this SSL to
 * SSL_VERIFY_PEER so that OpenSSL sends the alert and aborts. The
 * connection is dead either way.
 */
static void force_fail(SSL *ssl, X509_STORE_CTX *xctx)
{
    if (X509_STORE_CTX_get_error(xctx) == X509_V_OK) {
        X509_STORE_CTX_set_error(xctx, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    if (ssl != NULL && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0) {
        SSL_set_verify(ssl, SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER, NULL);
    }
}

static int strict_cb(int ok, X509_STORE_CTX *xctx)
{
    (void)xctx;
    return ok;
}

/* 1 when the application installed a verify callback (on the SSL or SSL_CTX, or on the store). */
static int app_verify_cb(const SSL *ssl, X509_STORE_CTX *xctx)
{
    return SSL_get_verify_callback(ssl) != NULL ||
           X509_STORE_get_verify_cb(X509_STORE_CTX_get0_store(xctx)) != NULL;
}

/*
 * An application verify callback can accept an error and clear it
 * (X509_STORE_CTX_set_error(ctx, X509_V_OK)): X509_verify_cert() then
 * returns 1 with no error left, over a chain that does not validate (its
 * links may be names only). For a pinned host, validate the same leaf,
 * untrusted certificates, store and parameters again without the
 * application's callback. Returns the store context whose chain validated,
 * or NULL.
 */
static X509_STORE_CTX *verify_strict(X509_STORE_CTX *xctx)
{
    X509_STORE_CTX *s = X509_STORE_CTX_new();

    if (s == NULL ||
        !X509_STORE_CTX_init(s, X509_STORE_CTX_get0_store(xctx), X509_STORE_CTX_get0_cert(xctx),
                             X509_STORE_CTX_get0_untrusted(xctx)) ||
        !X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(s), X509_STORE_CTX_get0_param(xctx))) {
        X509_STORE_CTX_free(s);
        return NULL;
    }
    X509_STORE_CTX_set_verify_cb(s, strict_cb);
    if (X509_verify_cert(s) != 1 || X509_STORE_CTX_get_error(s) != X509_V_OK) {
        X509_STORE_CTX_free(s);
        return NULL;
    }
    return s;
}

/* The validated chain's validity period: the latest notBefore and the earliest notAfter. */
static void chain_window(struct basis *b, STACK_OF(X509) * chain)
{
    b->windowed = chain != NULL && sk_X509_num(chain) > 0;
    b->not_before = INT64_MIN;
    b->not_after = INT64_MAX;
    for (int i = 0; b->windowed && i < sk_X509_num(chain); i++) {
        const X509 *x = sk_X509_value(chain, i);
        int64_t nb, na;

        if (pinset__time_from_asn1(&nb, X509_get0_notBefore(x)) != 0 ||
            pinset__time_from_asn1(&na, X509_get0_notAfter(x)) != 0) {
            /*
             * Unreadable (possible only where OpenSSL checked no time): an
             * empty period, so that a connection that checks time refuses it.
             */
            b->not_before = INT64_MAX;
            b->not_after = INT64_MIN;
            break;
        }
        b->not_before = nb > b->not_before ? nb : b->not_before;
        b->not_after = na < b->not_after ? na : b->not_after;
    }
}

static int decide(pinset_ossl *pin, struct ssl_state *st, SSL *ssl, X509_STORE_CTX *xctx,
                  int path_ok)
{
    pinset_cert_pins *pins = st->basis.pins; /* hashed once, kept for the gate */
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xctx);
    X509_STORE_CTX *strict = NULL;
    /* NULL when no IP was set (with an error on the queue, under the caller's mark) */
    char *ip = X509_VERIFY_PARAM_get1_ip_asc(X509_STORE_CTX_get0_param(xctx));
    int64_t now = pinset__ossl_read_clock(pin);
    int need_cert = 0, allow = 0;
    size_t n = 0;

    if (path_ok && names_pinned(st->used, xctx, ip, &need_cert)) {
        if (app_verify_cb(ssl, xctx)) {
            strict = verify_strict(xctx);
            path_ok = strict != NULL; /* a failure here is a path failure like any other */
            chain = path_ok ? X509_STORE_CTX_get0_chain(strict) : NULL;
        }
        n = chain == NULL ? 0 : (size_t)sk_X509_num(chain);
        /* a chain too long to hold is not hashed: check_names fails it under its rule */
        for (size_t i = 0; n <= PINSET_CHAIN_MAX && i < n; i++) {
            if (!pinset__ossl_hash_pins(pin, &pins[i], sk_X509_value(chain, (int)i), need_cert)) {
                pinset_result_reset(st->result);
                pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
                goto out;
            }
        }
        chain_window(&st->basis, chain);
    }
    st->basis.path_ok = path_ok;
    st->basis.has_ip = ip != NULL;
    st->basis.cert_known = need_cert;
    st->basis.given = n;
    if (!pinset__ossl_check_names(st, st->used, X509_STORE_CTX_get0_param(xctx), ip,
                                  path_ok ? pins : NULL, n, now, need_cert)) {
        pinset_result_reset(st->result);
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_NO_HOST);
        goto out;
    }
    /* a report never changes the verdict, never fails the handshake */
    pinset__ossl_report(pin, st, X509_STORE_CTX_get0_untrusted(xctx),
                        pinset_result_reason(st->result) == PINSET_REASON_PATH_INVALID
                            ? NULL
                            : X509_STORE_CTX_get0_chain(strict != NULL ? strict : xctx));
    allow = pinset_verdict_allows(pinset_result_verdict(st->result));
out:
    X509_STORE_CTX_free(strict);
    OPENSSL_free(ip);
    return allow;
}

static int cert_verify_cb(X509_STORE_CTX *xctx, void *arg)
{
    pinset_ossl *pin = arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct ssl_state *st;
    int ok, path_ok, allow;

    ok = X509_verify_cert(xctx);
    if (ssl != NULL && SSL_is_server(ssl)) {
        return ok; /* a server checking client certificates: pins are for servers */
    }
    /*
     * An application verify callback can make X509_verify_cert() return 1
     * over an error it chose to ignore; pins need a chain with no error.
     */
    path_ok = ok > 0 && X509_STORE_CTX_get_error(xctx) == X509_V_OK;
    ERR_set_mark();
    st = ssl == NULL ? NULL : pinset__ossl_get_state(pin, ssl);
    if (st == NULL) {
        ERR_pop_to_mark();
        force_fail(ssl, xctx);
        return 0;
    }
    st->checked = 0;
    st->cb_verdict = PINSET_VERDICT_NONE;
    st->gate_reported = 0;
    if (st->port == 0 && pin->port_source != NULL) {
        unsigned int port = pin->port_source(ssl, pin->port_payload);

        st->port = port <= 65535 ? port : 0; /* before the report that carries it */
    }
    memset(&st->basis, 0, sizeof(st->basis));
    X509_free(st->leaf);
    st->leaf = NULL;
    pinset_policy_free(st->used);
    st->used = pinset__ossl_snapshot(pin, st);
    if (st->used == NULL) {
        pinset_result_reset(st->result);
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
        allow = 0;
    } else {
        allow = decide(pin, st, ssl, xctx, path_ok);
    }
    st->checked = 1;
    st->cb_verdict = pinset_result_verdict(st->result);
    if (X509_STORE_CTX_get0_cert(xctx) != NULL && X509_up_ref(X509_STORE_CTX_get0_cert(xctx))) {
        st->leaf = X509_STORE_CTX_get0_cert(xctx);
    }
    if (pin->observer != NULL) {
        pin->observer(ssl, st->result, st->used, pin->observer_payload);
    }
    ERR_pop_to_mark();
    if (!allow) {
        force_fail(ssl, xctx); /* a path failure on a pinned host too, in every mode */
        return 0;
    }
    /*
     * A path failure on a host no rule pins: OpenSSL's own answer stands
     * (including an error the application's verify callback chose to
     * accept, and SSL_VERIFY_NONE).
     */
    return path_ok ? 1 : (ok > 0 ? ok : 0);
}

pinset_err pinset_ossl_attach(pinset_ossl *pin, SSL_CTX *ctx, pinset_diag *diag)
{
    if (pin == NULL || ctx == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "ossl: pin or ctx is null");
    }
    if (SSL_CTX_get_ex_data(ctx, pin->ctx_idx) == NULL) {
        ERR_set_mark();
        if (!SSL_CTX_set_ex_data(ctx, pin->ctx_idx, pin)) {
            return PINSET_DIAG_OSSL(diag, PINSET_E_NOMEM, "ossl: cannot attach to ctx");
        }
        ERR_pop_to_mark();
        pinset__ossl_ref(pin);
    }
    SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, pin);
    return PINSET_OK;
}
