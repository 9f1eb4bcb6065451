/*
 * tls.c - the non-blocking OpenSSL handshake: server name and verify name,
 * the caller's hook, and what a handshake saw (the first verify error, the
 * first record header, a fatal alert) to say why one failed.
 */
#define _GNU_SOURCE /* SOCK_NONBLOCK, SOCK_CLOEXEC, MSG_NOSIGNAL */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "probe/conn.h"

static int conn_ex_index = -1;

static void step_handshake(struct conn *c);

void probe__tls_init(void)
{
    if (conn_ex_index < 0) {
        conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
}

void probe__tls_release(struct conn *c)
{
    if (c->ssl != NULL) {
        /* an on_ssl hook may keep the SSL (SSL_up_ref): leave no pointer to this slot */
        SSL_set_ex_data(c->ssl, conn_ex_index, NULL);
        SSL_set_msg_callback(c->ssl, NULL);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
}

static struct conn *conn_of(SSL *ssl)
{
    return SSL_get_ex_data(ssl, conn_ex_index);
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct conn *c = ssl != NULL ? conn_of(ssl) : NULL;

    if (!ok && c != NULL && c->first_verr == X509_V_OK) {
        c->first_verr = X509_STORE_CTX_get_error(store);
        c->first_depth = X509_STORE_CTX_get_error_depth(store);
    }
    /* Record and go on: fetch must still see the served chain. */
    return 1;
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    struct conn *c = conn_of(ssl);
    const unsigned char *p = buf;

    (void)version;
    (void)arg;
    if (c == NULL || write_p) {
        return;
    }
    if (content_type == SSL3_RT_HEADER && len >= 5 && !c->got_hdr) {
        memcpy(c->hdr, p, 5);
        c->got_hdr = 1;
    } else if (content_type == SSL3_RT_ALERT && len >= 2 && p[0] == SSL3_AL_FATAL &&
               c->alert_desc < 0) {
        c->alert_desc = p[1];
    }
}

static void on_tls_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    step_handshake(arg);
}

void probe__tls_start(struct conn *c)
{
    const probe_target *t = c->t;
    const char *name = t->servername != NULL ? t->servername : t->host;
    probe_engine *e = c->e;

    if (c->res.starttls_ms == 0 && e->opts.starttls != PROBE_STARTTLS_NONE) {
        c->res.starttls_ms = probe__ms_since(c->t_step);
    }
    c->step = STEP_HANDSHAKE;
    probe__arm_timer(c, e->opts.handshake_timeout_ms);
    c->ssl = SSL_new(e->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
        SSL_set_ex_data(c->ssl, conn_ex_index, c) != 1) {
        probe__finish(c, PROBE_E_INTERNAL, "internal: cannot set up tls for %s", t->host);
        return;
    }
    if (probe__is_ip_literal(name)) {
        /* RFC 6066 section 3: no SNI for IP literals; verify the IP instead */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) != 1) {
            probe__finish(c, PROBE_E_INTERNAL, "internal: cannot set the verify address %s", name);
            return;
        }
    } else {
        char sni[256]; /* a mutable copy: the SNI macro casts its argument to void * */
        if (snprintf(sni, sizeof(sni), "%s", name) >= (int)sizeof(sni) ||
            SSL_set_tlsext_host_name(c->ssl, sni) != 1 || SSL_set1_host(c->ssl, name) != 1) {
            probe__finish(c, PROBE_E_INTERNAL, "internal: cannot set the server name %s", name);
            return;
        }
    }
    if (e->opts.ctx == NULL) {
        SSL_set_verify(c->ssl, SSL_VERIFY_PEER, verify_cb);
    }
    SSL_set_msg_callback(c->ssl, msg_cb);
    if (e->opts.on_ssl != NULL && e->opts.on_ssl(c->ssl, t, e->opts.on_ssl_payload) != 0) {
        probe__finish(c, PROBE_E_INTERNAL, "internal: tls setup hook refused %s", t->host);
        return;
    }
    SSL_set_connect_state(c->ssl);
    c->t_step = probe__now_us();
    step_handshake(c);
}

static int header_is_tls(const unsigned char h[5])
{
    /* RFC 8446 section 5.1: content type 20..23, legacy version 3.x, length <= 2^14 + 2048 */
    unsigned int len = ((unsigned int)h[3] << 8) | h[4];

    return h[0] >= 20 && h[0] <= 23 && h[1] == 3 && len <= 16384 + 2048;
}

static void fail_not_tls(struct conn *c)
{
    char shown[8];

    if (memcmp(c->hdr, "HTTP/", 5) == 0) {
        probe__finish(c, PROBE_E_NOT_TLS, "not-tls: %s answered in plain http", c->res.address);
        return;
    }
    probe__printable(shown, sizeof(shown), (const char *)c->hdr, 5);
    probe__finish(c, PROBE_E_NOT_TLS,
                  "not-tls: %s sent bytes that are not tls (%02x %02x %02x %02x %02x '%s')",
                  c->res.address, c->hdr[0], c->hdr[1], c->hdr[2], c->hdr[3], c->hdr[4], shown);
}

/* Keep what a failed handshake saw: a chain a verify hook rejected is still evidence. */
static void keep_failed_chain(struct conn *c)
{
    STACK_OF(X509) *served = SSL_get_peer_cert_chain(c->ssl);
    long vr = SSL_get_verify_result(c->ssl);

    if (served != NULL && c->res.served == NULL) {
        c->res.served = X509_chain_up_ref(served);
    }
    if (c->first_verr == X509_V_OK && vr != X509_V_OK) {
        c->first_verr = vr;
    }
    c->res.verify_error = c->first_verr;
    c->res.verify_depth = c->first_depth;
    snprintf(c->res.verify_error_str, sizeof(c->res.verify_error_str), "%s",
             X509_verify_cert_error_string(c->first_verr));
}

static void fail_handshake(struct conn *c, int sslerr, int sys)
{
    char ebuf[128];
    unsigned long ec = ERR_peek_last_error();
    const char *why;

    keep_failed_chain(c);
    if (c->got_hdr && !header_is_tls(c->hdr)) {
        ERR_clear_error();
        fail_not_tls(c);
        return;
    }
    if (c->alert_desc >= 0) {
        ERR_clear_error();
        probe__finish(c, PROBE_E_HANDSHAKE, "handshake: %s sent alert '%s'", c->res.address,
                      SSL_alert_desc_string_long(c->alert_desc));
        return;
    }
    if (ec != 0 && ERR_GET_LIB(ec) == ERR_LIB_SYS) {
        sys = ERR_GET_REASON(ec);
    }
    if (sys != 0 && probe__errno_status(sys) == PROBE_E_RESET) {
        ERR_clear_error();
        probe__finish(c, PROBE_E_RESET, "reset: %s reset the connection during the tls handshake",
                      c->res.address);
        return;
    }
    if ((sslerr == SSL_ERROR_SYSCALL && sys == 0) ||
        (ec != 0 && ERR_GET_LIB(ec) == ERR_LIB_SSL &&
         ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        ERR_clear_error();
        probe__finish(c, PROBE_E_CLOSED,
                      "closed: %s closed the connection during the tls handshake", c->res.address);
        return;
    }
    why = ec != 0 ? ERR_reason_error_string(ec) : NULL;
    ERR_clear_error();
    if (c->first_verr != X509_V_OK) {
        probe__finish(c, PROBE_E_HANDSHAKE, "handshake: with %s failed: %s: %s", c->res.address,
                      why != NULL ? why : "certificate verify failed", c->res.verify_error_str);
        return;
    }
    probe__finish(c, PROBE_E_HANDSHAKE, "handshake: with %s failed: %s", c->res.address,
                  why != NULL
                      ? why
                      : (sys != 0 ? probe__strerror(sys, ebuf, sizeof(ebuf)) : "unknown error"));
}

static void handshake_done(struct conn *c)
{
    SSL *ssl = c->ssl;
    STACK_OF(X509) *served = SSL_get_peer_cert_chain(ssl);
    long vr = SSL_get_verify_result(ssl);
    probe_result *r = &c->res;

    r->handshake_ms = probe__ms_since(c->t_step);
    snprintf(r->protocol, sizeof(r->protocol), "%s", SSL_get_version(ssl));
    snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(ssl));
    r->served = served != NULL ? X509_chain_up_ref(served) : NULL;
    if (c->first_verr == X509_V_OK && vr != X509_V_OK) {
        c->first_verr = vr;
    }
    if (served == NULL || sk_X509_num(served) == 0) {
        c->first_verr = vr != X509_V_OK ? vr : X509_V_ERR_UNSPECIFIED;
    }
    r->validated = vr == X509_V_OK && c->first_verr == X509_V_OK;
    r->verify_error = c->first_verr;
    r->verify_depth = r->validated ? -1 : c->first_depth;
    snprintf(r->verify_error_str, sizeof(r->verify_error_str), "%s",
             X509_verify_cert_error_string(c->first_verr));
    if (r->validated) {
        STACK_OF(X509) *v = SSL_get0_verified_chain(ssl);
        r->verified = v != NULL ? X509_chain_up_ref(v) : NULL;
    }
    /* No close_notify: a probe reads nothing after the handshake, and the extra
       record costs both ends a write and a decrypt per host. */
    ERR_clear_error();
    probe__finish(c, PROBE_OK, NULL);
}

static void step_handshake(struct conn *c)
{
    int r, err;

    ERR_clear_error();
    errno = 0;
    r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        handshake_done(c);
        return;
    }
    err = SSL_get_error(c->ssl, r);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        probe__wait_fd(c, EV_READ, on_tls_io);
        return;
    case SSL_ERROR_WANT_WRITE:
        probe__wait_fd(c, EV_WRITE, on_tls_io);
        return;
    default:
        fail_handshake(c, err, err == SSL_ERROR_SYSCALL ? errno : 0);
        return;
    }
}
