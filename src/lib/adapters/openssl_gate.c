/*
 * openssl_gate.c - after the handshake: the gate pinset_ossl_check, which
 * decides a recorded verdict again (a connection kept open, a resumed
 * session), the connection's result, and session tags
 * (pinset_ossl_get1_session / _set_session).
 */
#include <time.h>

#include "adapters/openssl_int.h"

/* ---- after the handshake ---- */

/*
 * The canonical host (or IP) the application set on ssl; 0 when none, or
 * when it verifies more than one identity (several names, or a name and an
 * IP): sessions are kept only for connections to exactly one, so that a tag
 * names everything the session's pins were checked for.
 */
static int ssl_host(char *buf, size_t cap, const SSL *ssl)
{
    X509_VERIFY_PARAM *vp = SSL_get0_param((SSL *)(uintptr_t)ssl);
    const char *host = X509_VERIFY_PARAM_get0_host(vp, 0);
    char *ip;
    pinset_err err = PINSET_E_INVALID_ARG;

    ERR_set_mark();
    ip = X509_VERIFY_PARAM_get1_ip_asc(vp); /* raises an error when there is no IP */
    ERR_pop_to_mark();
    if (host != NULL && X509_VERIFY_PARAM_get0_host(vp, 1) == NULL && ip == NULL) {
        err = pinset_host_canon(buf, cap, NULL, host, strlen(host), NULL);
    } else if (host == NULL && ip != NULL) {
        err = pinset_host_canon(buf, cap, NULL, ip, strlen(ip), NULL);
    }
    OPENSSL_free(ip);
    return err == PINSET_OK;
}

/* 1 when the tag was made under policy p, for the host and port this connection names. */
static int tag_matches(const pinset_policy *p, const struct ssl_state *st, const SSL *ssl,
                       const struct sess_tag *tag)
{
    char host[PINSET_HOST_MAX];
    uint8_t digest[32];

    pinset_policy_digest(p, digest);
    if (CRYPTO_memcmp(digest, tag->digest, sizeof(digest)) != 0) {
        return 0; /* another policy generation */
    }
    if (!ssl_host(host, sizeof(host), ssl) || strcmp(host, tag->host) != 0) {
        return 0;
    }
    return tag->port == (st == NULL ? 0 : st->port);
}

/*
 * When OpenSSL checks certificate validity for this connection, with the
 * parameters its handshake uses: the store's, then the SSL's over them (as
 * ssl_verify_cert_chain() combines them), a set check time before
 * X509_V_FLAG_NO_CHECK_TIME (as check_cert_time() reads them). Returns 1 and
 * the time; 0 when OpenSSL checks no time; -1 when out of memory.
 */
/* The time a parameter set checks at: 1 and the time, or 0 when it checks none. */
static int time_of(int64_t *out, const X509_VERIFY_PARAM *vp)
{
    unsigned long flags = X509_VERIFY_PARAM_get_flags((X509_VERIFY_PARAM *)(uintptr_t)vp);

    if ((flags & X509_V_FLAG_USE_CHECK_TIME) != 0) {
        *out = (int64_t)X509_VERIFY_PARAM_get_time(vp);
        return 1;
    }
    if ((flags & X509_V_FLAG_NO_CHECK_TIME) != 0) {
        return 0;
    }
    *out = (int64_t)time(NULL);
    return 1;
}

static int verify_time(int64_t *out, const SSL *ssl)
{
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    X509_STORE *store = ctx == NULL ? NULL : SSL_CTX_get_cert_store(ctx);
    const X509_VERIFY_PARAM *sp = store == NULL ? NULL : X509_STORE_get0_param(store);
    X509_VERIFY_PARAM *vp;
    int ret = -1;

    /* the usual case, without allocating: the store sets no time, the SSL's parameters decide */
    if (sp == NULL || (X509_VERIFY_PARAM_get_flags((X509_VERIFY_PARAM *)(uintptr_t)sp) &
                       (X509_V_FLAG_USE_CHECK_TIME | X509_V_FLAG_NO_CHECK_TIME)) == 0) {
        return time_of(out, SSL_get0_param((SSL *)(uintptr_t)ssl));
    }
    ERR_set_mark();
    vp = X509_VERIFY_PARAM_new();
    if (vp != NULL && X509_VERIFY_PARAM_inherit(vp, sp) &&
        X509_VERIFY_PARAM_set1(vp, SSL_get0_param((SSL *)(uintptr_t)ssl))) {
        ret = time_of(out, vp);
    }
    X509_VERIFY_PARAM_free(vp);
    ERR_pop_to_mark();
    return ret;
}

/*
 * The validated chain is within its validity period at OpenSSL's check time
 * (valid from notBefore, expired at notAfter, as OpenSSL counts): 1, else 0.
 */
static int in_period(const struct basis *b, const SSL *ssl)
{
    int64_t t = 0;
    int known;

    if (!b->windowed) {
        return 1; /* nothing was validated (no rule pins the names) */
    }
    known = verify_time(&t, ssl);
    if (known < 0) {
        return 0; /* out of memory: fail closed */
    }
    return known == 0 || (t >= b->not_before && t < b->not_after);
}

/*
 * Decide again, at the gate, over what a verdict was decided over (the pins
 * of the validated chain), under `policy`, for `host` (a resumed session's
 * one identity) or, with host NULL, every identity the connection verifies.
 * Pin and rule times count at the hook's clock now; under a rule (PASS,
 * REPORT_ONLY_FAIL) the validated chain must also be within its validity
 * period at the time OpenSSL checks validity (else FAIL, path-invalid, in
 * every mode, as in a handshake). A REPORT_ONLY_FAIL lets the connection go
 * on, as report mode always does; when this connection has not reported it
 * yet (`reported` 0: it became one since the handshake, or it resumed), the
 * gate sends its report. The result goes to st->result. Returns 1 when the
 * connection may go on.
 */
static int redecide(pinset_ossl *pin, struct ssl_state *st, const SSL *ssl,
                    const pinset_policy *policy, const char *host, const struct basis *b,
                    int reported)
{
    const pinset_cert_pins *pins = b->path_ok ? b->pins : NULL;
    int64_t now = pinset__ossl_read_clock(pin);
    pinset_verdict v;

    if (host != NULL) {
        pinset__ossl_check_host(st, policy, host, pins, b->given, now, b->cert_known);
    } else {
        X509_VERIFY_PARAM *vp = SSL_get0_param((SSL *)(uintptr_t)ssl);
        char *ip;
        int named;

        ip = NULL;
        if (b->has_ip) { /* asking when there is none raises an error: costly */
            ERR_set_mark();
            ip = X509_VERIFY_PARAM_get1_ip_asc(vp);
            ERR_pop_to_mark();
        }
        named = pinset__ossl_check_names(st, policy, vp, ip, pins, b->given, now, b->cert_known);
        OPENSSL_free(ip);
        if (!named) {
            pinset_result_reset(st->result);
            pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_NO_HOST);
            return 0;
        }
    }
    v = pinset_result_verdict(st->result);
    if ((v == PINSET_VERDICT_PASS || v == PINSET_VERDICT_REPORT_ONLY_FAIL) && !in_period(b, ssl)) {
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_PATH_INVALID);
        return 0;
    }
    if (v == PINSET_VERDICT_REPORT_ONLY_FAIL && !reported && !st->gate_reported) {
        st->gate_reported = 1;
        pinset__ossl_report(pin, st, SSL_get_peer_cert_chain(ssl), SSL_get0_verified_chain(ssl));
    }
    return pinset_verdict_allows(v);
}

/*
 * A resumed connection: the session that resumed must carry a tag made under
 * the current policy for this host and port, and its verdict, decided again
 * now, must allow the connection. The connection keeps the snapshot its
 * result's rule belongs to. offer: only asked whether to offer the session
 * (pinset_ossl_set_session): nothing is reported then.
 */
static int resumed_allows(pinset_ossl *pin, struct ssl_state *st, const SSL *ssl,
                          const struct sess_tag *tag, int offer)
{
    pinset_policy *p = pinset__ossl_snapshot(pin, st);

    if (p == NULL || !tag_matches(p, st, ssl, tag)) {
        pinset_policy_free(p);
        pinset_result_reset(st->result);
        return 0;
    }
    pinset_policy_free(st->used);
    st->used = p;
    return redecide(pin, st, ssl, p, tag->host, &tag->basis, offer);
}

pinset_err pinset_ossl_check(pinset_ossl *pin, const SSL *ssl)
{
    struct ssl_state *st;
    X509 *peer;

    if (pin == NULL || ssl == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    if (!SSL_is_init_finished(ssl)) {
        return PINSET_E_TLS;
    }
    st = pinset__ossl_find_state(pin, ssl);
    if (SSL_session_reused(ssl)) {
        /*
         * No certificate was checked in this handshake: only the tag of the
         * session that actually resumed counts (not what was offered, which
         * the application may have replaced with SSL_set_session).
         */
        const SSL_SESSION *sess = SSL_get_session(ssl);
        const struct sess_tag *tag =
            sess == NULL ? NULL : SSL_SESSION_get_ex_data(sess, pin->sess_idx);

        if (st == NULL || tag == NULL) {
            if (st != NULL) {
                pinset_result_reset(st->result);
            }
            return PINSET_E_NO_MATCH;
        }
        return resumed_allows(pin, st, ssl, tag, 0) ? PINSET_OK : PINSET_E_NO_MATCH;
    }
    if (st == NULL || !st->checked || st->leaf == NULL) {
        return PINSET_E_NO_MATCH; /* no verdict: no certificate, PSK, or not attached */
    }
    /* the verdict must be about the certificate this connection presented */
    peer = SSL_get0_peer_certificate(ssl);
    if (peer == NULL || X509_cmp(peer, st->leaf) != 0) {
        return PINSET_E_NO_MATCH;
    }
    if (!pinset_verdict_allows(st->cb_verdict) || st->used == NULL) {
        return PINSET_E_NO_MATCH; /* the handshake's refusal stands */
    }
    if (st->cb_verdict == PINSET_VERDICT_NOT_PINNED) {
        return PINSET_OK; /* a lookup in an immutable snapshot: no time can change it */
    }
    /* decided again: a connection kept open (or reused by libcurl) meets today's times */
    return redecide(pin, st, ssl, st->used, NULL, &st->basis,
                    st->cb_verdict == PINSET_VERDICT_REPORT_ONLY_FAIL)
               ? PINSET_OK
               : PINSET_E_NO_MATCH;
}

const pinset_result *pinset_ossl_result(const pinset_ossl *pin, const SSL *ssl)
{
    const struct ssl_state *st;

    if (pin == NULL || ssl == NULL) {
        return NULL;
    }
    st = pinset__ossl_find_state(pin, ssl);
    return st == NULL ? NULL : st->result;
}

SSL_SESSION *pinset_ossl_get1_session(pinset_ossl *pin, const SSL *ssl)
{
    struct ssl_state *st;
    struct sess_tag *tag;
    SSL_SESSION *sess;
    pinset_verdict v;

    if (pin == NULL || ssl == NULL || pinset_ossl_check(pin, ssl) != PINSET_OK) {
        return NULL;
    }
    st = pinset__ossl_find_state(pin, ssl);
    v = pinset_result_verdict(st->result); /* a resumed one: its session's tag's verdict */
    if (v != PINSET_VERDICT_PASS && v != PINSET_VERDICT_NOT_PINNED) {
        return NULL; /* time- or report-dependent verdicts are decided afresh */
    }
    sess = SSL_get1_session((SSL *)(uintptr_t)ssl);
    if (sess == NULL) {
        return NULL;
    }
    /*
     * A session is tagged once and its tag never replaced: a resumed session
     * (or OpenSSL's copy of it) may be shared with other threads that read
     * the tag.
     */
    tag = SSL_SESSION_get_ex_data(sess, pin->sess_idx);
    if (tag != NULL) {
        /* the gate just matched it (a resumed connection) against st->used */
        if (st->used != NULL && tag_matches(st->used, st, ssl, tag)) {
            return sess;
        }
        SSL_SESSION_free(sess);
        return NULL;
    }
    tag = SSL_session_reused(ssl) ? NULL : pinset__alloc(sizeof(*tag));
    if (tag == NULL || !ssl_host(tag->host, sizeof(tag->host), ssl)) {
        pinset__free(tag);
        SSL_SESSION_free(sess);
        return NULL;
    }
    pinset_policy_digest(st->used, tag->digest);
    tag->port = st->port;
    tag->verdict = v;
    tag->basis = st->basis;
    tag->pin = pinset__ossl_ref(pin);
    ERR_set_mark();
    if (!SSL_SESSION_set_ex_data(sess, pin->sess_idx, tag)) {
        ERR_pop_to_mark();
        pinset__ossl_free_tag(NULL, tag, NULL, 0, 0, NULL);
        SSL_SESSION_free(sess);
        return NULL;
    }
    ERR_pop_to_mark();
    return sess;
}

pinset_err pinset_ossl_set_session(pinset_ossl *pin, SSL *ssl, SSL_SESSION *sess)
{
    const struct sess_tag *tag;
    struct ssl_state *st;

    if (pin == NULL || ssl == NULL || sess == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    tag = SSL_SESSION_get_ex_data(sess, pin->sess_idx);
    st = pinset__ossl_get_state(pin, ssl); /* the gate needs the state of a resumed connection */
    if (st == NULL) {
        return PINSET_E_NOMEM;
    }
    /* offered only when the gate would let it resume now */
    if (tag == NULL || !resumed_allows(pin, st, ssl, tag, 1)) {
        return PINSET_E_NO_MATCH;
    }
    st->gate_reported = 0; /* a new connection: its gate reports what it must */
    ERR_set_mark();
    if (SSL_set_session(ssl, sess) != 1) {
        ERR_pop_to_mark();
        return PINSET_E_TLS;
    }
    ERR_pop_to_mark();
    return PINSET_OK;
}
