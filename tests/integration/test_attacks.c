/*
 * test_attacks.c - the verdict path against real TLS servers on 127.0.0.1.
 *
 * Each attack test connects an OpenSSL client with pinset attached to a
 * server thread (tests/helpers/tls_server.c) that presents a chain from the
 * test PKI (tests/data/pki.d/20-attack.sh) and asserts that the connection
 * does not get through: either the handshake fails or the post-handshake
 * gate refuses it. The client trusts BOTH the genuine root and a rogue root,
 * so path validation alone accepts every attacker chain here: only the pins
 * stop them. Each test says which naive design it catches; a control case
 * in each shows that the same setup does let the genuine server through.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <pinset/check.h>
#include <pinset/curl.h>
#include <pinset/host.h>
#include <pinset/openssl.h>
#include <pinset/policy.h>
#include <pinset/report.h>

#include "internal.h"
#include "tls_server.h"
#include "tmpdir.h"

static char dir[1024];
static int alloc_torture; /* allocation failures are being injected */

static const char *path_of(const char *name)
{
    return testlib_path(dir, name);
}

/* ---- pins of the test PKI ---- */

static void pin_b64(char *out, size_t cap, const char *cert, pinset_pin_kind kind)
{
    FILE *f = fopen(path_of(cert), "r");
    X509 *x;
    pinset_pin pin;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    assert_int_equal(pinset_pin_from_x509(&pin, x, kind, NULL), PINSET_OK);
    X509_free(x);
    assert_int_equal(pinset_pin_format(out, cap, &pin, PINSET_PIN_FMT_BASE64), PINSET_OK);
}

/* A pin that matches nothing: the backup pin every enforcing rule needs. */
#define BACKUP "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="

static pinset_policy *policy_of(const char *json)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    if (pinset_policy_parse(&p, (const uint8_t *)json, strlen(json), &d) != PINSET_OK) {
        fail_msg("policy: %s (%s)\n%s", d.message, d.path, json);
    }
    return p;
}

/*
 * A policy with one rule for `host`: pins is a JSON array body, extra is
 * more members of the rule (may be "").
 */
static pinset_policy *rule_policy(const char *host, const char *pins, const char *extra)
{
    char json[4096];

    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": [{\"host\": \"%s\", \"pins\": [%s]%s%s}]}", host, pins,
             extra[0] != '\0' ? ", " : "", extra);
    return policy_of(json);
}

static char p_root[64], p_int[64], p_rogue_root[64], p_leaf_ec[64], p_leaf_ec_cert[64],
    p_leaf_rsa[64], p_leaf_ed[64], p_rogue_leaf[64];

/* ---- the client ---- */

struct conn {
    const char *host; /* SSL_set1_host; NULL = none */
    int verify_none;
    int accept_all; /* an application verify callback that accepts every error (2: and clears it) */
    int version;
    SSL_SESSION *offer;      /* offered through pinset_ossl_set_session */
    SSL_SESSION *raw;        /* offered with plain SSL_set_session (bypassing pinset) */
    int want_session;        /* get a session back through pinset_ossl_get1_session */
    unsigned int tag_port;   /* pinset_ossl_set_port; 0 = the server's port */
    const char *host2;       /* a second name (SSL_add1_host) */
    const char *ip;          /* X509_VERIFY_PARAM_set1_ip_asc */
    pinset_policy *override; /* pinset_ossl_override */
    const char *trust;       /* the client's trust file; NULL = trust.pem */
    time_t check_time;       /* X509_VERIFY_PARAM_set_time on the SSL; 0 = the clock */
    time_t store_time;       /* the same on the context's certificate store */
    int64_t *clock;          /* with later: move the hook's clock after the first gate... */
    int64_t later;           /* ...to this, and call the gate again (a reused connection) */
};

struct outcome {
    int handshake; /* SSL_connect succeeded */
    int gate;      /* pinset_ossl_check said PINSET_OK */
    int data;      /* application data was read */
    int resumed;
    int offered;    /* pinset_ossl_set_session accepted conn.offer */
    int gate_later; /* the gate said PINSET_OK again after the clock moved (conn.later) */
    pinset_verdict verdict;
    pinset_reason reason;
    char host[PINSET_HOST_MAX]; /* the result's host */
    int has_rule;               /* the result names a rule */
    long verify_result;
    SSL_SESSION *session;
    STACK_OF(X509) * peer_chain; /* what the server sent (for the naive comparison) */
};

static int through(const struct outcome *o)
{
    return o->handshake && o->gate && o->data;
}

static int errors_seen[X509_V_ERR_APPLICATION_VERIFICATION + 64];

static int accept_all_cb(int ok, X509_STORE_CTX *xctx)
{
    int e = X509_STORE_CTX_get_error(xctx);

    if (!ok && e >= 0 && e < (int)(sizeof(errors_seen) / sizeof(errors_seen[0]))) {
        errors_seen[e]++;
    }
    return 1;
}

/* "Accept and forget": the error is cleared, so X509_verify_cert() ends with X509_V_OK. */
static int clear_all_cb(int ok, X509_STORE_CTX *xctx)
{
    (void)accept_all_cb(ok, xctx);
    X509_STORE_CTX_set_error(xctx, X509_V_OK);
    return 1;
}

static SSL_CTX *client_ctx(pinset_ossl *pin, int verify_none, int accept_all, const char *trust)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    assert_non_null(ctx);
    assert_int_equal(
        SSL_CTX_load_verify_locations(ctx, path_of(trust != NULL ? trust : "trust.pem"), NULL), 1);
    SSL_CTX_set_verify(ctx, verify_none ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       accept_all == 2 ? clear_all_cb
                       : accept_all    ? accept_all_cb
                                       : NULL);
    if (pin != NULL) {
        assert_int_equal(pinset_ossl_attach(pin, ctx, NULL), PINSET_OK);
    }
    return ctx;
}

static void connect_to(struct outcome *o, pinset_ossl *pin, const tls_server *srv,
                       const struct conn *c)
{
    SSL_CTX *ctx = client_ctx(pin, c->verify_none, c->accept_all, c->trust);
    SSL *ssl = SSL_new(ctx);
    int fd = tls_connect_tcp(tls_server_port(srv));
    char buf[128];
    unsigned long err_before;

    memset(o, 0, sizeof(*o));
    assert_non_null(ssl);
    assert_true(fd >= 0);
    if (c->version != 0) {
        SSL_set_min_proto_version(ssl, c->version);
        SSL_set_max_proto_version(ssl, c->version);
    }
    if (c->host != NULL) {
        assert_int_equal(SSL_set1_host(ssl, c->host), 1);
        SSL_set_tlsext_host_name(ssl, c->host);
    }
    if (c->host2 != NULL) {
        assert_int_equal(SSL_add1_host(ssl, c->host2), 1);
    }
    if (c->ip != NULL) {
        assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->ip), 1);
    }
    if (c->check_time != 0) {
        X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl), c->check_time);
    }
    if (c->store_time != 0) {
        X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(SSL_CTX_get_cert_store(ctx)),
                                   c->store_time);
    }
    if (c->override != NULL) {
        assert_int_equal(pinset_ossl_override(pin, ssl, c->override), PINSET_OK);
    }
    if (pinset_ossl_set_port(pin, ssl, c->tag_port ? c->tag_port : tls_server_port(srv)) !=
        PINSET_OK) {
        assert_true(alloc_torture); /* only an injected allocation failure may refuse */
    }
    if (c->offer != NULL) {
        o->offered = pinset_ossl_set_session(pin, ssl, c->offer) == PINSET_OK;
    }
    if (c->raw != NULL) {
        assert_int_equal(SSL_set_session(ssl, c->raw), 1);
    }
    SSL_set_fd(ssl, fd);
    ERR_clear_error();
    o->handshake = SSL_connect(ssl) == 1;
    if (o->handshake) {
        /* the gate leaves OpenSSL's error queue as it was */
        err_before = ERR_peek_error();
        o->gate = pinset_ossl_check(pin, ssl) == PINSET_OK;
        assert_int_equal(ERR_peek_error(), err_before);
        if (c->clock != NULL) {
            *c->clock = c->later;
            o->gate_later = pinset_ossl_check(pin, ssl) == PINSET_OK;
        }
        o->data = SSL_read(ssl, buf, sizeof(buf)) > 0;
        o->resumed = SSL_session_reused(ssl);
        if (SSL_get_peer_cert_chain(ssl) != NULL) {
            o->peer_chain = X509_chain_up_ref(SSL_get_peer_cert_chain(ssl));
        }
        if (c->want_session) {
            o->session = pinset_ossl_get1_session(pin, ssl);
        }
    }
    o->verdict = pinset_result_verdict(pinset_ossl_result(pin, ssl));
    o->reason = pinset_result_reason(pinset_ossl_result(pin, ssl));
    if (pinset_ossl_result(pin, ssl) != NULL) {
        snprintf(o->host, sizeof(o->host), "%s", pinset_result_host(pinset_ossl_result(pin, ssl)));
        o->has_rule = pinset_result_rule(pinset_ossl_result(pin, ssl)) != NULL;
    }
    o->verify_result = SSL_get_verify_result(ssl);
    if (o->handshake) {
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    ERR_clear_error();
}

static void outcome_free(struct outcome *o)
{
    SSL_SESSION_free(o->session);
    sk_X509_pop_free(o->peer_chain, X509_free);
}

/* The naive design: is `b64` (spki) anywhere in the chain the peer SENT? */
static int naive_peer_chain_has(const struct outcome *o, const char *b64)
{
    for (int i = 0; o->peer_chain != NULL && i < sk_X509_num(o->peer_chain); i++) {
        pinset_pin pin;
        char s[PINSET_PIN_STR_MAX];

        assert_int_equal(
            pinset_pin_from_x509(&pin, sk_X509_value(o->peer_chain, i), PINSET_PIN_SPKI, NULL),
            PINSET_OK);
        assert_int_equal(pinset_pin_format(s, sizeof(s), &pin, PINSET_PIN_FMT_BASE64), PINSET_OK);
        if (strcmp(s, b64) == 0) {
            return 1;
        }
    }
    return 0;
}

static tls_server *server(const char *chain, const char *key, int version)
{
    tls_server *srv = tls_server_start(path_of(chain), path_of(key), version);

    assert_non_null(srv);
    return srv;
}

static pinset_ossl *hook(pinset_policy *policy, const pinset_ossl_opts *opts)
{
    pinset_ossl *pin = NULL;

    assert_int_equal(pinset_ossl_new(&pin, policy, opts, NULL), PINSET_OK);
    pinset_policy_free(policy); /* the hook holds its own reference */
    return pin;
}

static char ca_int_pins[256];

static pinset_policy *int_ca_policy(const char *host, const char *extra)
{
    snprintf(ca_int_pins, sizeof(ca_int_pins), "{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\"",
             p_int, BACKUP);
    return rule_policy(host, ca_int_pins, extra);
}

/* example.com: the intermediate pinned (role ca) until 2030-01-01, and a backup pin. */
static pinset_policy *retiring_int_policy(const char *extra)
{
    snprintf(ca_int_pins, sizeof(ca_int_pins),
             "{\"sha256\": \"%s\", \"role\": \"ca\", \"not_after\": \"2030-01-01T00:00:00Z\"}, "
             "\"%s\"",
             p_int, BACKUP);
    return rule_policy("example.com", ca_int_pins, extra);
}

/* ---- 1. a rogue (mis-issued, trusted) leaf ---- */

struct reports {
    int count;
    char last[65536];
};

static void on_report(const char *json, size_t len, void *payload)
{
    struct reports *r = payload;

    r->count++;
    assert_int_equal(strlen(json), len);
    snprintf(r->last, sizeof(r->last), "%s", json);
}

/*
 * Naive design caught: relying on path validation (any trusted CA); a
 * report-mode implementation that blocks, or enforces, or sends no report.
 */
static void rogue_leaf_enforce_and_report(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    struct reports rep = {0};
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);

    (void)state;
    connect_to(&o, pin, rogue, &c);
    assert_false(through(&o));
    assert_false(o.handshake);
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_NO_MATCH);
    assert_int_equal(o.verify_result, X509_V_ERR_APPLICATION_VERIFICATION);
    outcome_free(&o);
    connect_to(&o, pin, good, &c); /* control */
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
    outcome_free(&o);
    /* alternating on one pinset_ossl: its spki cache never mixes keys up */
    for (int i = 0; i < 6; i++) {
        connect_to(&o, pin, i % 2 ? good : rogue, &c);
        assert_int_equal(through(&o), i % 2);
        assert_int_equal(o.verdict, i % 2 ? PINSET_VERDICT_PASS : PINSET_VERDICT_FAIL);
        outcome_free(&o);
    }
    pinset_ossl_free(pin);

    /* report mode: recorded, reported, let through */
    opts.report = on_report;
    opts.report_payload = &rep;
    pin = hook(int_ca_policy("example.com", "\"mode\": \"report\""), &opts);
    connect_to(&o, pin, rogue, &c);
    assert_true(o.handshake && o.gate && o.data);
    assert_int_equal(o.verdict, PINSET_VERDICT_REPORT_ONLY_FAIL);
    assert_int_equal(rep.count, 1);
    assert_non_null(strstr(rep.last, "\"hostname\":\"example.com\""));
    assert_non_null(strstr(rep.last, "\"pinset-verdict\":\"REPORT_ONLY_FAIL\""));
    assert_non_null(
        strstr(rep.last, "\"served-certificate-chain\":[\"-----BEGIN CERTIFICATE-----"));
    outcome_free(&o);
    connect_to(&o, pin, good, &c); /* a PASS makes no report */
    assert_true(through(&o));
    assert_int_equal(rep.count, 1);
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* ---- 2. chain stuffing (OkHttp CVE-2016-2402) ---- */

/*
 * Naive design caught: matching pins against SSL_get_peer_cert_chain(). The
 * rogue server appends the genuine pinned certificates to its own chain;
 * they are in what it sends, but not in the chain that validates.
 */
static void chain_stuffing(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    char pins[256];
    tls_server *stuff_ca = server("stuff-ca.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *stuff_leaf = server("stuff-leaf.chain.pem", "rogue-leaf.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);
    pinset_ossl *pin_any, *pin_naive_check;

    (void)state;
    /* under VERIFY_NONE the handshake completes, so the peer chain can be inspected */
    pin_naive_check =
        hook(rule_policy("unrelated.example", "\"" BACKUP "\", \"" BACKUP "\"", ""), NULL);
    c.verify_none = 1;
    connect_to(&o, pin_naive_check, stuff_ca, &c);
    assert_true(o.handshake);
    assert_true(naive_peer_chain_has(&o, p_int)); /* the naive check would PASS */
    outcome_free(&o);
    c.verify_none = 0;

    connect_to(&o, pin, stuff_ca, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);

    snprintf(pins, sizeof(pins), "\"%s\", \"%s\"", p_leaf_ec, BACKUP);
    pin_any = hook(rule_policy("example.com", pins, ""), NULL);
    c.verify_none = 1;
    connect_to(&o, pin_naive_check, stuff_leaf, &c);
    assert_true(naive_peer_chain_has(&o, p_leaf_ec));
    outcome_free(&o);
    c.verify_none = 0;
    connect_to(&o, pin_any, stuff_leaf, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    /* and under SSL_VERIFY_NONE too */
    c.verify_none = 1;
    connect_to(&o, pin_any, stuff_leaf, &c);
    assert_false(through(&o));
    outcome_free(&o);

    pinset_ossl_free(pin);
    pinset_ossl_free(pin_any);
    pinset_ossl_free(pin_naive_check);
    tls_server_stop(stuff_ca);
    tls_server_stop(stuff_leaf);
}

/* ---- 3. host spelling ---- */

/*
 * Naive design caught: looking up the host as the application spelled it.
 * `Example.COM` passes OpenSSL's (case-insensitive) name check but would
 * miss a case-sensitive lookup; `example.com.` under SSL_VERIFY_NONE would
 * miss it and the path failure would be ignored; a policy written with the
 * U-label would miss the A-label the application uses.
 */
static void host_spelling(void **state)
{
    struct conn c = {0};
    struct outcome o;
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);
    pinset_ossl *idn = hook(int_ca_policy("b\xc3\xbc"
                                          "cher.example",
                                          ""),
                            NULL);
    static const char *const spellings[] = {"Example.COM", "EXAMPLE.com"};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        c.host = spellings[i];
        connect_to(&o, pin, rogue, &c);
        assert_false(through(&o));
        assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
        outcome_free(&o);
        connect_to(&o, pin, good, &c);
        assert_true(through(&o));
        outcome_free(&o);
    }
    c.host = "example.com.";
    c.verify_none = 1;
    connect_to(&o, pin, rogue, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    c.verify_none = 0;

    c.host = "xn--bcher-kva.example";
    connect_to(&o, idn, rogue, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    connect_to(&o, idn, good, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
    outcome_free(&o);

    pinset_ossl_free(pin);
    pinset_ossl_free(idn);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* ---- 4. resumption ---- */

/*
 * Naive design caught: trusting that "the verify callback did not fail",
 * and caching sessions without the policy generation, host and port. A
 * resumed handshake runs no certificate check at all.
 */
static void resumption_one(int version)
{
    struct conn c = {.host = "example.com", .version = version, .want_session = 1};
    struct outcome o, first;
    char pins[256];
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);
    pinset_policy *changed;

    connect_to(&first, pin, good, &c);
    assert_true(through(&first));
    assert_non_null(first.session);

    /* reused after a PASS, same policy, host and port */
    c.want_session = 0;
    c.offer = first.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.offered);
    assert_true(o.resumed);
    assert_true(through(&o));
    outcome_free(&o);

    /* another host: refused; forced in behind pinset's back, the gate fails it */
    c.host = "other.example";
    connect_to(&o, pin, good, &c);
    assert_false(o.offered);
    assert_false(o.resumed);
    outcome_free(&o);
    c.offer = NULL;
    c.raw = first.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.resumed);
    assert_false(through(&o));
    outcome_free(&o);

    /* another port: refused */
    c.host = "example.com";
    c.raw = NULL;
    c.offer = first.session;
    c.tag_port = 1;
    connect_to(&o, pin, good, &c);
    assert_false(o.offered);
    outcome_free(&o);
    c.tag_port = 0;

    /* a policy change: refused, and the gate fails it if forced in */
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\", \"%s\"", p_int,
             BACKUP, p_root);
    changed = rule_policy("example.com", pins, "");
    assert_int_equal(pinset_ossl_set_policy(pin, changed), PINSET_OK);
    pinset_policy_free(changed); /* set_policy took its own reference */
    connect_to(&o, pin, good, &c);
    assert_false(o.offered);
    assert_false(o.resumed);
    assert_true(through(&o)); /* a full handshake under the new policy still passes */
    outcome_free(&o);
    c.offer = NULL;
    c.raw = first.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.resumed);
    assert_false(through(&o));
    outcome_free(&o);

    outcome_free(&first);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

static void resumption(void **state)
{
    (void)state;
    resumption_one(TLS1_3_VERSION);
    resumption_one(TLS1_2_VERSION);
}

/* ---- 5. SSL_VERIFY_NONE ---- */

/*
 * Naive design caught: returning 0 from the verify callback, which OpenSSL
 * ignores under SSL_VERIFY_NONE, so the handshake would complete.
 */
static void verify_none_still_fails(void **state)
{
    struct conn c = {.host = "example.com", .verify_none = 1};
    struct outcome o;
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);

    (void)state;
    connect_to(&o, pin, rogue, &c);
    assert_false(o.handshake);
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    outcome_free(&o);
    /* an unpinned host under VERIFY_NONE is the application's choice */
    c.host = "not-pinned.example";
    connect_to(&o, pin, rogue, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_NOT_PINNED);
    outcome_free(&o);
    /* no host name set at all: refused, pinset does not guess */
    c.host = NULL;
    connect_to(&o, pin, good, &c);
    assert_false(through(&o));
    assert_int_equal(o.reason, PINSET_REASON_NO_HOST);
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* ---- 6. roles ---- */

/*
 * Naive design caught: ignoring roles (any pin anywhere), and checking CA
 * pins only against the certificates the server sends (the root is not sent).
 */
static void roles(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    char pins[256];
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;

    (void)state;
    pin = hook(int_ca_policy("example.com", ""), NULL);
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    outcome_free(&o);
    pinset_ossl_free(pin);

    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\"", p_root, BACKUP);
    pin = hook(rule_policy("example.com", pins, ""), NULL);
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    assert_false(naive_peer_chain_has(&o, p_root)); /* the root was never sent */
    outcome_free(&o);
    pinset_ossl_free(pin);

    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"leaf\"}, \"%s\"", p_int, BACKUP);
    pin = hook(rule_policy("example.com", pins, ""), NULL);
    connect_to(&o, pin, good, &c);
    assert_false(through(&o));
    assert_int_equal(o.reason, PINSET_REASON_ROLE_MISMATCH);
    outcome_free(&o);
    pinset_ossl_free(pin);

    /* and a ca pin naming the leaf key fails too */
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\"", p_leaf_ec,
             BACKUP);
    pin = hook(rule_policy("example.com", pins, ""), NULL);
    connect_to(&o, pin, good, &c);
    assert_false(through(&o));
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

/* ---- 7. rotation with the same key ---- */

/* Naive design caught: treating cert pins as key pins (or the other way round). */
static void rotation(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    char pins[256];
    tls_server *rot = server("leaf-ec-rot.chain.pem", "leaf-ec-rot.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;

    (void)state;
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"leaf\"}, \"%s\"", p_leaf_ec,
             BACKUP);
    pin = hook(rule_policy("example.com", pins, ""), NULL);
    connect_to(&o, pin, rot, &c);
    assert_true(through(&o));
    outcome_free(&o);
    pinset_ossl_free(pin);

    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"kind\": \"cert\"}, \"%s\"", p_leaf_ec_cert,
             BACKUP);
    pin = hook(rule_policy("example.com", pins, ""), NULL);
    connect_to(&o, pin, rot, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    connect_to(&o, pin, good, &c); /* the pinned certificate itself passes */
    assert_true(through(&o));
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(rot);
    tls_server_stop(good);
}

/* ---- 8. expiry, with the clock under test control ---- */

static int64_t test_clock(void *payload)
{
    return *(const int64_t *)payload;
}

#define T_2029 1861920000 /* 2029-01-01 */
#define T_2031 1924992000 /* 2031-01-01 */

/*
 * Naive design caught: ignoring `expires`/`on_expiry` (or treating every
 * expiry as fail-open), and counting a pin past its not_after.
 */
static void expiry(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    struct reports rep = {0};
    int64_t now = T_2029;
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;
    static const char *const modes[] = {"fail-open", "fail-closed", "report"};

    (void)state;
    opts.clock = test_clock;
    opts.clock_payload = &now;
    opts.report = on_report;
    opts.report_payload = &rep;
    for (size_t i = 0; i < 3; i++) {
        char extra[128];

        snprintf(extra, sizeof(extra),
                 "\"expires\": \"2030-01-01T00:00:00Z\", \"on_expiry\": \"%s\"", modes[i]);
        pin = hook(int_ca_policy("example.com", extra), &opts);
        now = T_2029; /* before expiry: enforced */
        connect_to(&o, pin, rogue, &c);
        assert_false(through(&o));
        outcome_free(&o);
        now = T_2031; /* after */
        rep.count = 0;
        connect_to(&o, pin, rogue, &c);
        switch (i) {
        case 0: /* fail-open: not pinned any more */
            assert_true(through(&o));
            assert_int_equal(o.verdict, PINSET_VERDICT_EXPIRED_OPEN);
            assert_int_equal(rep.count, 0);
            break;
        case 1: /* fail-closed: still enforced */
            assert_false(through(&o));
            assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
            assert_int_equal(rep.count, 1);
            break;
        default: /* report: checked, reported, let through */
            assert_true(through(&o));
            assert_int_equal(o.verdict, PINSET_VERDICT_REPORT_ONLY_FAIL);
            assert_int_equal(rep.count, 1);
            assert_non_null(strstr(rep.last, "\"pinset-rule-expired\":true"));
            break;
        }
        outcome_free(&o);
        connect_to(&o, pin, good, &c);
        assert_true(through(&o));
        outcome_free(&o);
        pinset_ossl_free(pin);
    }

    /* a pin's not_after: it counts before, not after */
    pin = hook(retiring_int_policy(""), &opts);
    now = T_2029;
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    outcome_free(&o);
    now = T_2031;
    connect_to(&o, pin, good, &c);
    assert_false(through(&o));
    assert_int_equal(o.reason, PINSET_REASON_NO_MATCH);
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* ---- 9. blocked keys ---- */

/* Naive design caught: first match wins, so a matching pin hides a blocked key. */
static void blocked_key(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    char extra[256];
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;

    (void)state;
    snprintf(extra, sizeof(extra), "\"blocked\": [\"%s\"]", p_leaf_ec);
    pin = hook(int_ca_policy("example.com", extra), NULL);
    connect_to(&o, pin, good, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_BLOCKED);
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

/* ---- 10. protocol versions and key types ---- */

/*
 * Naive design caught: a pin check that only runs (or only hashes keys
 * correctly) for some protocol version or key type. For each version and
 * key type, a leaf pin on that key passes and the same pin fails against
 * another valid leaf from the same CA.
 */
static void versions_and_keys(void **state)
{
    static const struct {
        const char *chain, *key, *other_chain, *other_key;
        const char *pin;
    } k[] = {
        {"leaf-rsa.chain.pem", "leaf-rsa.key.pem", "leaf-ec.chain.pem", "leaf-ec.key.pem",
         p_leaf_rsa},
        {"leaf-ec.chain.pem", "leaf-ec.key.pem", "leaf-ed25519.chain.pem", "leaf-ed25519.key.pem",
         p_leaf_ec},
        {"leaf-ed25519.chain.pem", "leaf-ed25519.key.pem", "leaf-rsa.chain.pem", "leaf-rsa.key.pem",
         p_leaf_ed},
    };
    static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};

    (void)state;
    for (size_t v = 0; v < 2; v++) {
        for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
            struct conn c = {.host = "example.com", .version = versions[v]};
            struct outcome o;
            char pins[256];
            tls_server *right = server(k[i].chain, k[i].key, versions[v]);
            tls_server *wrong = server(k[i].other_chain, k[i].other_key, versions[v]);
            pinset_ossl *pin;

            snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"leaf\"}, \"%s\"",
                     k[i].pin, BACKUP);
            pin = hook(rule_policy("example.com", pins, ""), NULL);
            connect_to(&o, pin, right, &c);
            assert_true(through(&o));
            assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
            outcome_free(&o);
            connect_to(&o, pin, wrong, &c);
            assert_false(through(&o));
            assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
            outcome_free(&o);
            pinset_ossl_free(pin);
            tls_server_stop(right);
            tls_server_stop(wrong);
        }
    }
}

/* ---- report mode never rescues a path-validation failure ---- */

/*
 * Naive design caught: report mode as "record and let everything through",
 * which under SSL_VERIFY_NONE would accept a chain nobody vouches for.
 */
static void report_mode_never_rescues_path_failure(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    struct reports rep = {0};
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    tls_server *stray = server("stray.chain.pem", "stray-leaf.key.pem", 0);
    pinset_ossl *pin;

    (void)state;
    opts.report = on_report;
    opts.report_payload = &rep;
    pin = hook(int_ca_policy("example.com", "\"mode\": \"report\""), &opts);
    for (int none = 0; none < 2; none++) {
        c.verify_none = none;
        connect_to(&o, pin, stray, &c);
        assert_false(through(&o));
        assert_false(o.handshake);
        assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
        assert_int_equal(o.reason, PINSET_REASON_PATH_INVALID);
        /* OpenSSL's own path error is kept, not replaced by pinset's */
        assert_int_not_equal(o.verify_result, X509_V_ERR_APPLICATION_VERIFICATION);
        assert_int_not_equal(o.verify_result, X509_V_OK);
        outcome_free(&o);
    }
    assert_int_equal(rep.count, 2);
    assert_non_null(strstr(rep.last, "\"validated-certificate-chain\":[]"));
    pinset_ossl_free(pin);
    tls_server_stop(stray);
}

/* ---- an application verify callback that accepts errors ---- */

/*
 * Naive design caught: trusting X509_verify_cert()'s return value. The
 * application's verify callback accepts every error, so X509_verify_cert()
 * returns 1 for a forged leaf whose issuer NAME is the genuine pinned
 * intermediate: the chain OpenSSL built runs through the genuine, pinned
 * intermediate, only the leaf's signature is bad. A check of that chain
 * without looking at the store context's error would PASS.
 */
static void verify_callback_override(void **state)
{
    struct conn c = {.host = "example.com", .accept_all = 1};
    struct outcome o;
    tls_server *forged = server("forged.chain.pem", "forged-leaf.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);

    (void)state;
    memset(errors_seen, 0, sizeof(errors_seen));
    connect_to(&o, pin, forged, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_PATH_INVALID);
    /* the chain went through the genuine intermediate: only the signature failed */
    assert_true(errors_seen[X509_V_ERR_CERT_SIGNATURE_FAILURE] > 0);
    outcome_free(&o);
    /* for a host the policy does not pin, the application's choice stands */
    c.host = "not-pinned.example";
    connect_to(&o, pin, forged, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_NOT_PINNED);
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(forged);
}

/*
 * Naive design caught: "X509_verify_cert() returned 1 and the store context
 * holds no error" taken as "the chain is valid". An application verify
 * callback that accepts an error AND clears it (X509_STORE_CTX_set_error(ctx,
 * X509_V_OK), a common "accept and forget" pattern) leaves exactly that
 * state over the forged chain, whose only link to the pinned intermediate is
 * a name. Pins must still be matched against a chain that validates.
 */
static void verify_callback_clears_error(void **state)
{
    struct conn c = {.host = "example.com", .accept_all = 2};
    struct outcome o;
    tls_server *forged = server("forged.chain.pem", "forged-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);

    (void)state;
    memset(errors_seen, 0, sizeof(errors_seen));
    connect_to(&o, pin, forged, &c);
    assert_true(errors_seen[X509_V_ERR_CERT_SIGNATURE_FAILURE] > 0); /* and it was cleared */
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_PATH_INVALID);
    outcome_free(&o);
    /* under SSL_VERIFY_NONE as well */
    c.verify_none = 1;
    connect_to(&o, pin, forged, &c);
    assert_false(through(&o));
    outcome_free(&o);
    c.verify_none = 0;
    /* the same callback with a genuine chain: still PASS */
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
    outcome_free(&o);
    /* a host the policy does not pin: the application's choice stands */
    c.host = "not-pinned.example";
    connect_to(&o, pin, forged, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_NOT_PINNED);
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(forged);
    tls_server_stop(good);
}

/*
 * Naive design caught: the gate trusting "a tagged session was offered on
 * this SSL" instead of looking at the session that actually resumed. The
 * application offers a genuine session through pinset_ossl_set_session, then
 * (its own session cache, or a later SSL_set_session) puts in a session
 * that a rogue server issued while the host was not pinned.
 */
static void resumed_session_is_the_tagged_one_v(int version)
{
    struct conn c = {.host = "example.com", .version = version, .want_session = 1, .tag_port = 443};
    struct outcome g, r, o;
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);
    pinset_ossl *open =
        hook(rule_policy("unrelated.example", "\"" BACKUP "\", \"" BACKUP "\"", ""), NULL);

    connect_to(&g, pin, good, &c);
    assert_true(through(&g));
    assert_non_null(g.session);
    connect_to(&r, open, rogue, &c); /* example.com not pinned there: a rogue session */
    assert_true(through(&r));
    assert_non_null(r.session);

    c.want_session = 0;
    c.offer = g.session;
    c.raw = r.session;
    connect_to(&o, pin, rogue, &c);
    assert_true(o.offered);
    assert_true(o.resumed); /* the rogue server resumed its own session */
    assert_false(through(&o));
    outcome_free(&o);
    /* a tagged session put in with plain SSL_set_session is judged by its own tag */
    c.offer = NULL;
    c.raw = g.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.resumed);
    assert_true(through(&o));
    outcome_free(&o);

    outcome_free(&g);
    outcome_free(&r);
    pinset_ossl_free(pin);
    pinset_ossl_free(open);
    tls_server_stop(good);
    tls_server_stop(rogue);
}

static void resumed_session_is_the_tagged_one(void **state)
{
    (void)state;
    resumed_session_is_the_tagged_one_v(TLS1_3_VERSION);
    resumed_session_is_the_tagged_one_v(TLS1_2_VERSION);
}

/*
 * Naive design caught: tagging a session with the first verified name only.
 * A session from a connection that verified an unpinned name must not be
 * resumed for a connection that verifies that name and, with SSL_add1_host,
 * a pinned one: the pinned name's pins were never checked.
 */
static void session_tag_covers_every_name(void **state)
{
    struct conn c = {
        .host = "other.example", .want_session = 1, .tag_port = 443, .version = TLS1_2_VERSION};
    struct outcome first, o;
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);

    (void)state;
    connect_to(&first, pin, rogue, &c);
    assert_true(through(&first));
    assert_int_equal(first.verdict, PINSET_VERDICT_NOT_PINNED);
    assert_non_null(first.session);
    c.want_session = 0;
    c.offer = first.session;
    c.host2 = "example.com";
    connect_to(&o, pin, rogue, &c);
    assert_false(o.offered);
    assert_false(through(&o));
    outcome_free(&o);
    /* forced in: the gate refuses it */
    c.offer = NULL;
    c.raw = first.session;
    connect_to(&o, pin, rogue, &c);
    assert_true(o.resumed);
    assert_false(through(&o));
    outcome_free(&o);
    /* several names: full handshakes only, and they pass on their merits */
    c.raw = NULL;
    c.want_session = 1;
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    assert_null(o.session);
    outcome_free(&o);
    outcome_free(&first);
    pinset_ossl_free(pin);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* ---- names, IPs, overrides ---- */

/*
 * Naive design caught: looking up only the first name the application
 * verifies (SSL_add1_host adds more; OpenSSL accepts a certificate that
 * matches any of them), and skipping connections made to an IP address.
 */
static void every_verified_name_is_checked(void **state)
{
    struct conn c = {.host = "other.example", .host2 = "example.com"};
    struct outcome o;
    char pins[256];
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);
    pinset_ossl *by_ip;

    (void)state;
    connect_to(&o, pin, rogue, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
    outcome_free(&o);

    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\"", p_int, BACKUP);
    by_ip = hook(rule_policy("127.0.0.1", pins, ""), NULL);
    memset(&c, 0, sizeof(c));
    c.ip = "127.0.0.1";
    connect_to(&o, by_ip, rogue, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    connect_to(&o, by_ip, good, &c);
    assert_true(through(&o));
    outcome_free(&o);
    /*
     * A name and an IP: OpenSSL requires the certificate to match both, so
     * both are looked up. An unpinned name must not hide a pinned IP.
     */
    c.host = "other.example";
    connect_to(&o, by_ip, rogue, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    connect_to(&o, by_ip, good, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
    outcome_free(&o);
    pinset_ossl_free(pin);
    pinset_ossl_free(by_ip);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* A per-connection override replaces the attached policy for that connection only. */
static void per_ssl_override(void **state)
{
    struct conn c = {.host = "example.com"};
    struct outcome o;
    char pins[256];
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);

    (void)state;
    snprintf(pins, sizeof(pins), "\"%s\", \"%s\"", p_rogue_leaf, BACKUP);
    c.override = rule_policy("example.com", pins, "");
    connect_to(&o, pin, good, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    outcome_free(&o);
    pinset_policy_free(c.override);
    c.override = NULL;
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    outcome_free(&o);
    /* misuse */
    assert_int_equal(pinset_ossl_new(NULL, NULL, NULL, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_ossl_set_policy(pin, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_ossl_attach(pin, NULL, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_ossl_check(pin, NULL), PINSET_E_INVALID_ARG);
    assert_null(pinset_ossl_result(pin, NULL));
    pinset_ossl_free(NULL);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

/* ---- libcurl ---- */

struct curl_run {
    CURLcode res;
    pinset_err gate;
    pinset_verdict verdict;
};

static size_t discard(char *p, size_t size, size_t n, void *payload)
{
    (void)p, (void)payload;
    return size * n;
}

static void curl_fetch(struct curl_run *out, pinset_curl *pc, const tls_server *srv, int verify)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *resolve;
    char url[128], entry[128];

    assert_non_null(curl);
    snprintf(url, sizeof(url), "https://example.com:%u/", tls_server_port(srv));
    snprintf(entry, sizeof(entry), "example.com:%u:127.0.0.1", tls_server_port(srv));
    resolve = curl_slist_append(NULL, entry);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(curl, CURLOPT_CAINFO, path_of("trust.pem"));
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, (long)verify);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(pinset_curl_setup(pc, curl, NULL), PINSET_OK);
    out->res = curl_easy_perform(curl);
    out->gate = pinset_curl_check(pc);
    out->verdict = pinset_result_verdict(pinset_curl_result(pc));
    curl_easy_cleanup(curl);
    curl_slist_free_all(resolve);
}

/*
 * Naive design caught: CURLOPT_PINNEDPUBLICKEY-style leaf-only pinning
 * cannot express a CA pin; and curl never hands OpenSSL the host name, so
 * a hook that looks up SSL_set1_host's name would find none.
 */
static void curl_helper(void **state)
{
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_policy *policy = int_ca_policy("example.com", "");
    pinset_curl *pc = NULL;
    struct curl_run r;

    (void)state;
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    assert_int_equal(pinset_curl_new(&pc, policy, NULL, NULL), PINSET_OK);
    pinset_policy_free(policy);
    curl_fetch(&r, pc, good, 1);
    assert_int_equal(r.res, CURLE_OK);
    assert_int_equal(r.gate, PINSET_OK);
    assert_int_equal(r.verdict, PINSET_VERDICT_PASS);
    curl_fetch(&r, pc, rogue, 1);
    assert_int_not_equal(r.res, CURLE_OK);
    assert_int_equal(r.gate, PINSET_E_NO_MATCH);
    assert_int_equal(r.verdict, PINSET_VERDICT_FAIL);
    /* curl told not to verify at all: the pins still hold */
    curl_fetch(&r, pc, rogue, 0);
    assert_int_not_equal(r.res, CURLE_OK);
    assert_int_equal(r.verdict, PINSET_VERDICT_FAIL);
    pinset_curl_free(pc);
    curl_global_cleanup();
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* A plain HTTP server on 127.0.0.1 that answers one request with a redirect, then stops. */
struct redirector {
    int fd;
    unsigned int port;
    char location[256];
    pthread_t thread;
};

static void *redirector_main(void *arg)
{
    struct redirector *r = arg;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    struct timeval tv = {.tv_sec = 5};
    char buf[4096], resp[512];
    int c, n;

    if (poll(&p, 1, 10000) != 1) {
        return NULL;
    }
    c = accept(r->fd, NULL, NULL);
    if (c < 0) {
        return NULL;
    }
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)recv(c, buf, sizeof(buf), 0);
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n",
                 r->location);
    (void)send(c, resp, (size_t)n, MSG_NOSIGNAL);
    close(c);
    return NULL;
}

static void redirector_start(struct redirector *r, const char *location)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);

    snprintf(r->location, sizeof(r->location), "%s", location);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->fd >= 0);
    assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(r->fd, 1), 0);
    assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &len), 0);
    r->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&r->thread, NULL, redirector_main, r), 0);
}

static void redirector_stop(struct redirector *r)
{
    pthread_join(r->thread, NULL);
    close(r->fd);
}

/*
 * Naive design caught: looking the policy up for the host the transfer
 * started with. http://other.example (not pinned) redirects to
 * https://example.com (pinned): the new connection must be checked against
 * example.com's rule, and a rogue server there refused.
 */
static void curl_redirect_to_pinned_host(void **state)
{
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_policy *policy = int_ca_policy("example.com", "");
    pinset_curl *pc = NULL;

    (void)state;
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    assert_int_equal(pinset_curl_new(&pc, policy, NULL, NULL), PINSET_OK);
    pinset_policy_free(policy);
    for (int i = 0; i < 2; i++) {
        const tls_server *srv = i == 0 ? rogue : good;
        struct redirector red;
        struct curl_slist *resolve = NULL;
        char url[128], entry[128];
        CURL *curl = curl_easy_init();
        CURLcode res;

        assert_non_null(curl);
        snprintf(url, sizeof(url), "https://example.com:%u/", tls_server_port(srv));
        redirector_start(&red, url);
        snprintf(entry, sizeof(entry), "example.com:%u:127.0.0.1", tls_server_port(srv));
        resolve = curl_slist_append(resolve, entry);
        snprintf(entry, sizeof(entry), "other.example:%u:127.0.0.1", red.port);
        resolve = curl_slist_append(resolve, entry);
        snprintf(url, sizeof(url), "http://other.example:%u/", red.port);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
        curl_easy_setopt(curl, CURLOPT_CAINFO, path_of("trust.pem"));
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
        assert_int_equal(pinset_curl_setup(pc, curl, NULL), PINSET_OK);
        res = curl_easy_perform(curl);
        if (i == 0) {
            assert_int_not_equal(res, CURLE_OK);
            assert_int_equal(pinset_result_verdict(pinset_curl_result(pc)), PINSET_VERDICT_FAIL);
            assert_string_equal(pinset_result_host(pinset_curl_result(pc)), "example.com");
        } else {
            assert_int_equal(res, CURLE_OK);
            assert_int_equal(pinset_curl_check(pc), PINSET_OK);
            assert_int_equal(pinset_result_verdict(pinset_curl_result(pc)), PINSET_VERDICT_PASS);
        }
        curl_easy_cleanup(curl);
        curl_slist_free_all(resolve);
        redirector_stop(&red);
    }
    pinset_curl_free(pc);
    curl_global_cleanup();
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* ---- allocation failures fail closed ---- */

/*
 * Naive design caught: treating "could not record a verdict" as "nothing to
 * object to". Every pinset allocation in a handshake is failed in turn.
 */
static void allocation_failures_fail_closed(void **state)
{
    struct conn c = {.host = "example.com", .want_session = 1};
    struct outcome o;
    struct reports rep = {0};
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;
    int passed = 0;

    (void)state;
    opts.report = on_report;
    opts.report_payload = &rep;
    pin = hook(int_ca_policy("example.com", ""), &opts);
    alloc_torture = 1;
    for (unsigned long n = 1; n <= 12; n++) {
        pinset__alloc_fail_at(n);
        connect_to(&o, pin, good, &c);
        pinset__alloc_fail_at(0);
        if (through(&o)) {
            assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
            passed++;
        }
        outcome_free(&o);
        pinset__alloc_fail_at(n);
        connect_to(&o, pin, rogue, &c);
        pinset__alloc_fail_at(0);
        assert_false(through(&o));
        outcome_free(&o);
    }
    alloc_torture = 0;
    assert_true(passed > 0); /* failures past the handshake's allocations leave it alone */
    pinset_ossl_free(pin);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

/* ---- many threads, one pinset_ossl ---- */

/* One client handshake over a BIO pair (no sockets); 1 when it completed and passed the gate. */
static int mem_handshake(SSL_CTX *cctx, SSL_CTX *sctx, pinset_ossl *pin)
{
    BIO *cb = NULL, *sb = NULL;
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    int cdone = 0, sdone = 0, rc, ok;

    if (c == NULL || s == NULL || !BIO_new_bio_pair(&cb, 0, &sb, 0)) {
        SSL_free(c);
        SSL_free(s);
        return -1;
    }
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    SSL_set1_host(c, "example.com");
    for (int round = 0; round < 20 && !(cdone && sdone); round++) {
        if (!cdone) {
            rc = SSL_do_handshake(c);
            if (rc == 1) {
                cdone = 1;
            } else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) {
                break;
            }
        }
        if (!sdone) {
            rc = SSL_do_handshake(s);
            if (rc == 1) {
                sdone = 1;
            } else if (SSL_get_error(s, rc) != SSL_ERROR_WANT_READ) {
                break;
            }
        }
    }
    ok = cdone && pinset_ossl_check(pin, c) == PINSET_OK;
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
    return ok;
}

struct mt {
    SSL_CTX *cctx, *good, *rogue;
    pinset_ossl *pin;
    atomic_int wrong;
    atomic_int stop;
};

static void *mt_client(void *arg)
{
    struct mt *m = arg;

    for (int i = 0; i < 24; i++) {
        int want = i % 2;

        if (mem_handshake(m->cctx, want ? m->good : m->rogue, m->pin) != want) {
            atomic_fetch_add(&m->wrong, 1);
        }
    }
    return NULL;
}

static void *mt_swapper(void *arg)
{
    struct mt *m = arg;

    /* swap in equal policies (new snapshots, same pins) while handshakes run */
    for (int i = 0; i < 200 && !atomic_load(&m->stop); i++) {
        pinset_policy *p = int_ca_policy("example.com", "");

        if (pinset_ossl_set_policy(m->pin, p) != PINSET_OK) {
            atomic_fetch_add(&m->wrong, 1);
        }
        pinset_policy_free(p);
    }
    return NULL;
}

static SSL_CTX *mem_server(const char *chain, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, path_of(chain)), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, path_of(key), SSL_FILETYPE_PEM), 1);
    return ctx;
}

/*
 * Naive design caught: per-connection state or caches shared without
 * locking, and a policy swap that frees a snapshot a handshake still uses.
 * Four client threads share one SSL_CTX and one pinset_ossl while a fifth
 * swaps the policy; every verdict must still be right (run it under TSan
 * too: -fsanitize=thread).
 */
static void threads_share_one_hook(void **state)
{
    struct mt m;
    pthread_t t[5];

    (void)state;
    memset(&m, 0, sizeof(m));
    m.pin = hook(int_ca_policy("example.com", ""), NULL);
    m.cctx = client_ctx(m.pin, 0, 0, NULL);
    m.good = mem_server("leaf-ec.chain.pem", "leaf-ec.key.pem");
    m.rogue = mem_server("rogue.chain.pem", "rogue-leaf.key.pem");
    assert_int_equal(pthread_create(&t[4], NULL, mt_swapper, &m), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, mt_client, &m), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    atomic_store(&m.stop, 1);
    pthread_join(t[4], NULL);
    assert_int_equal(atomic_load(&m.wrong), 0);
    SSL_CTX_free(m.cctx);
    SSL_CTX_free(m.good);
    SSL_CTX_free(m.rogue);
    pinset_ossl_free(m.pin);
}

/* ---- TLS 1.2 renegotiation ---- */

/*
 * Pump a client and a server SSL over a BIO pair until the client has read
 * the server's "x" and both handshakes (a renegotiation included) are
 * finished. Returns 1 then, 0 when either side failed first.
 */
static int reneg_pump(SSL *c, SSL *s)
{
    char buf[16];
    int got = 0, wrote = 0, rc;

    for (int round = 0; round < 60; round++) {
        rc = SSL_read(c, buf, sizeof(buf));
        if (rc > 0) {
            got = 1;
        } else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) {
            return 0;
        }
        if (got && SSL_is_init_finished(c) && SSL_is_init_finished(s) &&
            !SSL_renegotiate_pending(s)) {
            return 1;
        }
        rc = SSL_read(s, buf, sizeof(buf)); /* drives the server's side of a handshake */
        if (rc <= 0 && SSL_get_error(s, rc) != SSL_ERROR_WANT_READ) {
            return 0;
        }
        if (!wrote) {
            rc = SSL_write(s, "x", 1);
            if (rc == 1) {
                wrote = 1;
            } else if (SSL_get_error(s, rc) != SSL_ERROR_WANT_READ) {
                return 0;
            }
        }
    }
    return 0;
}

/*
 * Naive design caught: checking pins once per connection. A TLS 1.2 server
 * may renegotiate and present another certificate; the cert-verify callback
 * runs again and a rogue certificate fails the renegotiation, under
 * SSL_VERIFY_PEER and SSL_VERIFY_NONE alike (cases 0-3; a control
 * renegotiation with the genuine certificate goes through). Cases 4-5: an
 * abbreviated renegotiation (the server resumes the connection's own
 * session, OpenSSL's default) checks no certificate and makes the
 * connection look resumed: the gate then fails closed, unless the session
 * was tagged with pinset_ossl_get1_session after the first handshake.
 */
static void renegotiation_rechecks(void **state)
{
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);

    (void)state;
    for (int i = 0; i < 6; i++) {
        int rogue = i < 4 && (i & 1), verify_none = i < 4 && (i & 2), abbreviated = i >= 4;
        SSL_CTX *cctx = client_ctx(pin, verify_none, 0, NULL);
        SSL_CTX *sctx = mem_server("leaf-ec.chain.pem", "leaf-ec.key.pem");
        SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
        BIO *cb = NULL, *sb = NULL;

        assert_non_null(c);
        assert_non_null(s);
        SSL_set_max_proto_version(c, TLS1_2_VERSION);
        if (!abbreviated) {
            SSL_set_options(s, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION | SSL_OP_NO_TICKET);
        }
        assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
        SSL_set_bio(c, cb, cb);
        SSL_set_bio(s, sb, sb);
        SSL_set_connect_state(c);
        SSL_set_accept_state(s);
        assert_int_equal(SSL_set1_host(c, "example.com"), 1);
        assert_int_equal(reneg_pump(c, s), 1);
        assert_int_equal(pinset_ossl_check(pin, c), PINSET_OK);
        if (i == 5) {
            SSL_SESSION_free(pinset_ossl_get1_session(pin, c)); /* tags the session */
        }
        if (rogue) {
            assert_int_equal(SSL_use_certificate_chain_file(s, path_of("rogue.chain.pem")), 1);
            assert_int_equal(
                SSL_use_PrivateKey_file(s, path_of("rogue-leaf.key.pem"), SSL_FILETYPE_PEM), 1);
        }
        assert_int_equal(SSL_renegotiate(s), 1);
        if (rogue) {
            assert_int_equal(reneg_pump(c, s), 0);
            assert_int_equal(pinset_result_verdict(pinset_ossl_result(pin, c)),
                             PINSET_VERDICT_FAIL);
            assert_int_not_equal(pinset_ossl_check(pin, c), PINSET_OK);
        } else {
            assert_int_equal(reneg_pump(c, s), 1);
            assert_int_equal(SSL_total_renegotiations(c), 1);
            assert_int_equal(SSL_session_reused(c), abbreviated);
            assert_int_equal(pinset_ossl_check(pin, c), i == 4 ? PINSET_E_NO_MATCH : PINSET_OK);
            assert_int_equal(pinset_result_verdict(pinset_ossl_result(pin, c)),
                             i == 4 ? PINSET_VERDICT_NONE : PINSET_VERDICT_PASS);
        }
        SSL_free(c);
        SSL_free(s);
        SSL_CTX_free(cctx);
        SSL_CTX_free(sctx);
        ERR_clear_error();
    }
    pinset_ossl_free(pin);
}

/* ---- the gate on its own ---- */

/* Naive design caught: a gate that trusts any SSL, even one that was never checked. */
/* ---- a verdict decided again when it is replayed (resumption, reuse) ---- */

/*
 * Naive design caught: a session tag that replays the verdict it was stored
 * with, keyed by policy, host and port only. The intermediate is pinned
 * until 2030; a session from a 2029 handshake must not resume in 2031, when
 * a full handshake to the same server is refused: a pin retired because its
 * key leaked would otherwise keep working for as long as the server lets the
 * session live.
 */
static void session_outlives_pin_v(int version)
{
    int64_t now = T_2029;
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    struct conn c = {.host = "example.com", .version = version, .want_session = 1};
    struct outcome first, o;
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;

    opts.clock = test_clock;
    opts.clock_payload = &now;
    pin = hook(retiring_int_policy(""), &opts);
    connect_to(&first, pin, good, &c);
    assert_true(through(&first));
    assert_non_null(first.session);
    c.want_session = 0;

    /* control: before the pin's not_after the session resumes */
    c.offer = first.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.offered && o.resumed && through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_PASS);
    assert_string_equal(o.host, "example.com");
    assert_true(o.has_rule);
    outcome_free(&o);

    now = T_2031;
    /* a full handshake is refused now */
    c.offer = NULL;
    connect_to(&o, pin, good, &c);
    assert_false(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_NO_MATCH);
    outcome_free(&o);
    /* pinset does not offer the session any more... */
    c.offer = first.session;
    connect_to(&o, pin, good, &c);
    assert_false(o.offered);
    assert_false(o.resumed);
    assert_false(through(&o));
    outcome_free(&o);
    /* ...and forced in behind its back, it resumes but the gate refuses it */
    c.offer = NULL;
    c.raw = first.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.resumed);
    assert_false(o.gate);
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_NO_MATCH);
    assert_string_equal(o.host, "example.com");
    outcome_free(&o);

    outcome_free(&first);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

static void session_outlives_pin(void **state)
{
    (void)state;
    session_outlives_pin_v(TLS1_3_VERSION);
    session_outlives_pin_v(TLS1_2_VERSION);
}

/*
 * Naive design caught: re-checking only pins on resumption. A rule's expiry
 * changes the verdict as well (fail-open: EXPIRED_OPEN, decided again), and
 * a report-only failure that appears since the session was stored is
 * reported by the gate of the resumed connection, which report mode lets
 * through as a full handshake would: never carried through silently.
 */
static void session_rule_expiry_and_report_mode(void **state)
{
    int64_t now = T_2029;
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    struct conn c = {.host = "example.com", .version = TLS1_3_VERSION, .want_session = 1};
    struct outcome first, o;
    struct reports rep = {0};
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;

    (void)state;
    opts.clock = test_clock;
    opts.clock_payload = &now;
    opts.report = on_report;
    opts.report_payload = &rep;
    pin = hook(int_ca_policy("example.com",
                             "\"expires\": \"2030-01-01T00:00:00Z\", \"on_expiry\": \"fail-open\""),
               &opts);
    connect_to(&first, pin, good, &c);
    assert_true(through(&first));
    assert_int_equal(first.verdict, PINSET_VERDICT_PASS);
    c.want_session = 0;
    c.offer = first.session;
    now = T_2031;
    connect_to(&o, pin, good, &c);
    assert_true(o.resumed && through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_EXPIRED_OPEN); /* not the stored PASS */
    outcome_free(&o);
    outcome_free(&first);
    pinset_ossl_free(pin);

    /* report mode: the pin retires; a full handshake and a resumed one both report */
    now = T_2029;
    pin = hook(retiring_int_policy("\"mode\": \"report\""), &opts);
    c.want_session = 1;
    c.offer = NULL;
    connect_to(&first, pin, good, &c);
    assert_true(through(&first));
    assert_non_null(first.session);
    c.want_session = 0;
    now = T_2031;
    rep.count = 0;
    connect_to(&o, pin, good, &c); /* a full handshake: report-only lets it through... */
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_REPORT_ONLY_FAIL);
    assert_int_equal(rep.count, 1); /* ...and reports it */
    outcome_free(&o);
    rep.count = 0;
    c.offer = first.session;
    connect_to(&o, pin, good, &c); /* resumed: the same verdict, reported by the gate */
    assert_true(o.offered && o.resumed && through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_REPORT_ONLY_FAIL);
    assert_int_equal(rep.count, 1);
    assert_non_null(strstr(rep.last, "\"pinset-verdict\":\"REPORT_ONLY_FAIL\""));
    outcome_free(&o);
    /* report mode never rescues an expired chain: FAIL (path-invalid), as in a handshake */
    c.offer = NULL;
    c.raw = first.session;
    c.check_time = 2208988800; /* 2040 */
    connect_to(&o, pin, good, &c);
    assert_true(o.resumed);
    assert_false(o.gate);
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_PATH_INVALID);
    outcome_free(&o);
    c.raw = NULL;
    c.check_time = 0;
    outcome_free(&first);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

/*
 * Naive design caught: a resumed session outliving its certificates. The
 * validated chain must still be within its validity period when OpenSSL
 * would check it (here X509_VERIFY_PARAM_set_time on the resuming
 * connection: after the leaf's notAfter, and before its notBefore).
 */
static void session_outlives_chain_v(int version)
{
    struct conn c = {.host = "example.com", .version = version, .want_session = 1};
    struct outcome first, o;
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);
    static const time_t outside[] = {2208988800 /* 2040 */, 946684800 /* 2000 */};

    connect_to(&first, pin, good, &c);
    assert_true(through(&first));
    assert_non_null(first.session);
    c.want_session = 0;
    for (size_t i = 0; i < 2; i++) {
        c.check_time = outside[i];
        c.raw = NULL;
        c.offer = first.session;
        connect_to(&o, pin, good, &c);
        assert_false(o.offered);
        assert_false(through(&o)); /* the full handshake: OpenSSL refuses the dates */
        outcome_free(&o);
        c.offer = NULL;
        c.raw = first.session;
        connect_to(&o, pin, good, &c);
        assert_true(o.resumed);
        assert_false(o.gate);
        assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
        assert_int_equal(o.reason, PINSET_REASON_PATH_INVALID);
        outcome_free(&o);
    }
    /* the certificate store's check time counts as OpenSSL counts it */
    c.check_time = 0;
    c.store_time = 2208988800; /* 2040 */
    c.offer = first.session;
    connect_to(&o, pin, good, &c);
    assert_false(o.offered);
    assert_false(through(&o));
    outcome_free(&o);
    c.offer = NULL;
    c.raw = first.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.resumed);
    assert_false(o.gate);
    assert_int_equal(o.reason, PINSET_REASON_PATH_INVALID);
    outcome_free(&o);
    c.store_time = 0;
    /* control: at a time within every certificate's validity, it resumes */
    c.check_time = time(NULL) + 86400;
    c.raw = NULL;
    c.offer = first.session;
    connect_to(&o, pin, good, &c);
    assert_true(o.offered && o.resumed && through(&o));
    outcome_free(&o);

    outcome_free(&first);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

static void session_outlives_chain(void **state)
{
    (void)state;
    session_outlives_chain_v(TLS1_3_VERSION);
    session_outlives_chain_v(TLS1_2_VERSION);
}

/*
 * Naive design caught: a gate that replays the handshake's verdict on a
 * connection kept open (libcurl reuses one for later requests and calls the
 * gate before each). After the pin's not_after the same connection is
 * refused at the next call.
 */
static void reused_connection_meets_the_clock(void **state)
{
    int64_t now = T_2029;
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    struct conn c = {.host = "example.com", .clock = &now};
    struct reports rep = {0};
    struct outcome o;
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    pinset_ossl *pin;

    (void)state;
    opts.clock = test_clock;
    opts.clock_payload = &now;
    pin = hook(retiring_int_policy(""), &opts);
    c.later = T_2029 + 3600; /* control: still before not_after */
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    assert_true(o.gate_later);
    outcome_free(&o);
    now = T_2029;
    c.later = T_2031;
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    assert_false(o.gate_later);
    assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(o.reason, PINSET_REASON_NO_MATCH);
    outcome_free(&o);
    pinset_ossl_free(pin);

    /* report mode: the reused connection goes on, and the gate reports it once */
    opts.report = on_report;
    opts.report_payload = &rep;
    pin = hook(retiring_int_policy("\"mode\": \"report\""), &opts);
    now = T_2029;
    connect_to(&o, pin, good, &c);
    assert_true(through(&o));
    assert_true(o.gate_later);
    assert_int_equal(o.verdict, PINSET_VERDICT_REPORT_ONLY_FAIL);
    assert_int_equal(rep.count, 1);
    assert_non_null(
        strstr(rep.last, "\"served-certificate-chain\":[\"-----BEGIN CERTIFICATE-----"));
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/*
 * Naive design caught: a verdict that gives up on a long chain before it
 * looks up the host. A validated chain of 19 (the leaf, 17 intermediates in
 * the client's trust file, the root) is more than a verdict holds: the
 * handshake fails (in report mode too), and the FAIL names the host and the
 * rule and sends its report, with the whole chain in it.
 */
static void chain_too_long_names_rule_and_reports(void **state)
{
    struct conn c = {.host = "example.com", .trust = "../deep/trust.pem"};
    struct outcome o;
    struct reports rep = {0};
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    char leaf[64], pins[256];
    tls_server *deep = server("../deep/leaf.chain.pem", "../deep/leaf.key.pem", 0);
    pinset_ossl *pin;
    static const char *const modes[] = {"", "\"mode\": \"report\""};

    (void)state;
    pin_b64(leaf, sizeof(leaf), "../deep/leaf.crt.pem", PINSET_PIN_SPKI);
    snprintf(pins, sizeof(pins), "\"%s\", \"%s\"", leaf, BACKUP);
    opts.report = on_report;
    opts.report_payload = &rep;
    for (size_t i = 0; i < 2; i++) {
        rep.count = 0;
        pin = hook(rule_policy("example.com", pins, modes[i]), &opts);
        connect_to(&o, pin, deep, &c);
        assert_false(o.handshake);
        assert_int_equal(o.verdict, PINSET_VERDICT_FAIL);
        assert_int_equal(o.reason, PINSET_REASON_CHAIN_TOO_LONG);
        assert_string_equal(o.host, "example.com");
        assert_true(o.has_rule);
        assert_int_equal(rep.count, 1);
        assert_non_null(strstr(rep.last, "\"hostname\":\"example.com\""));
        assert_non_null(strstr(rep.last, "\"pinset-reason\":\"chain-too-long\""));
        /* served: the leaf; validated: all 19 */
        assert_int_equal(count_of(rep.last, "-----BEGIN CERTIFICATE-----"), 1 + 19);
        outcome_free(&o);
        pinset_ossl_free(pin);
    }
    /* control: the same chain for a host no rule pins is OpenSSL's to accept */
    pin = hook(rule_policy("other.example", pins, ""), NULL);
    connect_to(&o, pin, deep, &c);
    assert_true(through(&o));
    assert_int_equal(o.verdict, PINSET_VERDICT_NOT_PINNED);
    outcome_free(&o);
    pinset_ossl_free(pin);
    tls_server_stop(deep);
}

static void gate_fails_closed_without_verdict(void **state)
{
    pinset_ossl *pin = hook(int_ca_policy("example.com", ""), NULL);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    SSL_CTX *ctx = client_ctx(NULL, 0, 0, NULL); /* NOT attached: no verify callback */
    SSL *ssl = SSL_new(ctx);
    int fd = tls_connect_tcp(tls_server_port(good));

    (void)state;
    assert_int_equal(pinset_ossl_check(pin, ssl), PINSET_E_TLS); /* no handshake yet */
    SSL_set1_host(ssl, "example.com");
    SSL_set_fd(ssl, fd);
    assert_int_equal(SSL_connect(ssl), 1);
    assert_int_equal(pinset_ossl_check(pin, ssl), PINSET_E_NO_MATCH);
    assert_null(pinset_ossl_get1_session(pin, ssl));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    pinset_ossl_free(pin);
    tls_server_stop(good);
}

/* ---- the examples, run as a user runs them ---- */

static int run(char *const argv[])
{
    pid_t pid = fork();
    int status = 0;

    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        if (devnull >= 0) {
            dup2(devnull, 1);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Run argv with stderr into err (cap bytes, NUL-terminated); the exit status. */
static int run_stderr(char *const argv[], char *err, size_t cap)
{
    int fds[2];
    pid_t pid;
    int status = 0;
    size_t n = 0;
    ssize_t k;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        if (devnull >= 0) {
            dup2(devnull, 1);
        }
        dup2(fds[1], 2);
        close(fds[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    assert_true(pid > 0);
    close(fds[1]);
    while (n + 1 < cap && (k = read(fds[0], err + n, cap - 1 - n)) > 0) {
        n += (size_t)k;
    }
    err[n] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A malformed policy: one line that names the file once, with position, path and reason. */
static void example_policy_error(const char *bin, const char *policy_file)
{
    char err[2048];
    char *argv[] = {(char *)bin, (char *)policy_file, (char *)"example.com", (char *)"443", NULL};
    const char *at;
    FILE *f = fopen(policy_file, "w");

    assert_non_null(f);
    fputs("{\"version\": 1,\n \"rules\": [{\"host\": 5}]}\n", f);
    fclose(f);
    assert_int_equal(run_stderr(argv, err, sizeof(err)), 3);
    at = strstr(err, policy_file);
    if (at == NULL || strstr(at + strlen(policy_file), policy_file) != NULL ||
        strstr(at, ":2:21: rules[0].host: expected a host name") == NULL ||
        strchr(err, '\n') != err + strlen(err) - 1) {
        fail_msg("%s: want the file once, then :2:21: rules[0].host: ..., got '%s'", bin, err);
    }
}

static void examples(void **state)
{
    const char *build = getenv("PINSET_BUILD_DIR");
    char ossl_bin[1200], curl_bin[1200], port[16], policy_file[1200];
    char json[1024];
    tls_server *rogue = server("rogue.chain.pem", "rogue-leaf.key.pem", 0);
    tls_server *good = server("leaf-ec.chain.pem", "leaf-ec.key.pem", 0);
    FILE *f;

    (void)state;
    if (build == NULL) {
        skip();
    }
    snprintf(ossl_bin, sizeof(ossl_bin), "%s/examples/openssl_client", build);
    snprintf(curl_bin, sizeof(curl_bin), "%s/examples/curl_client", build);
    if (access(ossl_bin, X_OK) != 0 || access(curl_bin, X_OK) != 0) {
        tls_server_stop(rogue);
        tls_server_stop(good);
        skip();
    }
    snprintf(policy_file, sizeof(policy_file), "%s/attack-examples-policy.%d.json", dir,
             (int)getpid());
    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": "
             "[{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\"]}]}",
             p_int, BACKUP);
    f = fopen(policy_file, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    for (int which = 0; which < 2; which++) {
        char *bin = which == 0 ? ossl_bin : curl_bin;
        char *argv[] = {bin,
                        policy_file,
                        (char *)"example.com",
                        port,
                        (char *)path_of("trust.pem"),
                        (char *)"127.0.0.1",
                        NULL};

        snprintf(port, sizeof(port), "%u", tls_server_port(good));
        assert_int_equal(run(argv), 0);
        snprintf(port, sizeof(port), "%u", tls_server_port(rogue));
        assert_int_not_equal(run(argv), 0);
    }
    example_policy_error(ossl_bin, policy_file);
    example_policy_error(curl_bin, policy_file);
    unlink(policy_file);
    tls_server_stop(rogue);
    tls_server_stop(good);
}

static int setup(void **state)
{
    const char *data = getenv("PINSET_TESTDATA");

    (void)state;
    if (data == NULL) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s/attack", data);
    pin_b64(p_root, sizeof(p_root), "root.crt.pem", PINSET_PIN_SPKI);
    pin_b64(p_int, sizeof(p_int), "int.crt.pem", PINSET_PIN_SPKI);
    pin_b64(p_rogue_root, sizeof(p_rogue_root), "rogue-root.crt.pem", PINSET_PIN_SPKI);
    pin_b64(p_leaf_ec, sizeof(p_leaf_ec), "leaf-ec.crt.pem", PINSET_PIN_SPKI);
    pin_b64(p_leaf_ec_cert, sizeof(p_leaf_ec_cert), "leaf-ec.crt.pem", PINSET_PIN_CERT);
    pin_b64(p_leaf_rsa, sizeof(p_leaf_rsa), "leaf-rsa.crt.pem", PINSET_PIN_SPKI);
    pin_b64(p_leaf_ed, sizeof(p_leaf_ed), "leaf-ed25519.crt.pem", PINSET_PIN_SPKI);
    pin_b64(p_rogue_leaf, sizeof(p_rogue_leaf), "rogue-leaf.crt.pem", PINSET_PIN_SPKI);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rogue_leaf_enforce_and_report),
        cmocka_unit_test(chain_stuffing),
        cmocka_unit_test(host_spelling),
        cmocka_unit_test(resumption),
        cmocka_unit_test(verify_none_still_fails),
        cmocka_unit_test(roles),
        cmocka_unit_test(rotation),
        cmocka_unit_test(expiry),
        cmocka_unit_test(blocked_key),
        cmocka_unit_test(versions_and_keys),
        cmocka_unit_test(report_mode_never_rescues_path_failure),
        cmocka_unit_test(verify_callback_override),
        cmocka_unit_test(verify_callback_clears_error),
        cmocka_unit_test(resumed_session_is_the_tagged_one),
        cmocka_unit_test(session_tag_covers_every_name),
        cmocka_unit_test(every_verified_name_is_checked),
        cmocka_unit_test(per_ssl_override),
        cmocka_unit_test(curl_helper),
        cmocka_unit_test(curl_redirect_to_pinned_host),
        cmocka_unit_test(allocation_failures_fail_closed),
        cmocka_unit_test(threads_share_one_hook),
        cmocka_unit_test(renegotiation_rechecks),
        cmocka_unit_test(gate_fails_closed_without_verdict),
        cmocka_unit_test(session_outlives_pin),
        cmocka_unit_test(session_rule_expiry_and_report_mode),
        cmocka_unit_test(session_outlives_chain),
        cmocka_unit_test(reused_connection_meets_the_clock),
        cmocka_unit_test(chain_too_long_names_rule_and_reports),
        cmocka_unit_test(examples),
    };

    if (getenv("PINSET_TESTDATA") == NULL) {
        return 77;
    }
    return cmocka_run_group_tests(tests, setup, NULL);
}
