/*
 * test_policy_swap.c - pinset_ossl_set_policy while handshakes run (issue 12,
 * "Tests": handshakes on 8 threads while the policy is swapped 1,000 times).
 *
 * One pinset_ossl is attached to one client SSL_CTX shared by 8 client
 * threads, each making real TLS handshakes in a loop against a loopback
 * server (tests/testlib/tls_server.c) that presents the genuine chain of the
 * attack PKI (tests/data/pki.d/20-attack.sh). A 9th thread swaps the hook's
 * policy 1,000 times between two policies that disagree about that server:
 * A pins the issuing CA's key (PASS), B pins only keys the chain does not
 * carry (FAIL). Every handshake must be decided wholly under A or wholly
 * under B: the policy the result was decided under is A or B, the result's
 * rule belongs to that snapshot, the verdict and reason are the ones that
 * snapshot gives alone (measured before the threads start), the handshake
 * succeeds exactly under A and the gate agrees. Run it under TSan too
 * (`make matrix`).
 *
 * Naive designs caught: a policy pointer swapped without a lock or reference
 * (a snapshot freed under a handshake, or a verdict from one snapshot with
 * the rule of another), a gate that reads the current policy instead of the
 * one the handshake was decided under.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <pinset/check.h>
#include <pinset/openssl.h>
#include <pinset/policy.h>

#include "tls_server.h"
#include "tmpdir.h"

#define CLIENTS 8
#define SWAPS   1000
/* per client thread: bounds the run time under TSan (the server is serial) */
#define MAX_HANDSHAKES 150

/* A pin that matches nothing: the backup pin every enforcing rule needs. */
#define BACKUP "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="

static char dir[1024];

static const char *path_of(const char *name)
{
    return testlib_path(dir, name);
}

static void pin_b64(char *out, size_t cap, const char *cert)
{
    FILE *f = fopen(path_of(cert), "r");
    X509 *x;
    pinset_pin pin;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    assert_int_equal(pinset_pin_from_x509(&pin, x, PINSET_PIN_SPKI, NULL), PINSET_OK);
    X509_free(x);
    assert_int_equal(pinset_pin_format(out, cap, &pin, PINSET_PIN_FMT_BASE64), PINSET_OK);
}

static pinset_policy *policy_pinning(const char *b64)
{
    char json[1024];
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    snprintf(
        json, sizeof(json),
        "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": [\"%s\", \"%s\"]}]}",
        b64, BACKUP);
    if (pinset_policy_parse(&p, (const uint8_t *)json, strlen(json), &d) != PINSET_OK) {
        fail_msg("policy: %s (%s)\n%s", d.message, d.path, json);
    }
    return p;
}

/* What one handshake saw. */
struct seen {
    int handshake;          /* SSL_connect succeeded */
    pinset_err gate;        /* pinset_ossl_check */
    pinset_verdict verdict; /* the recorded result */
    pinset_reason reason;
    const pinset_rule *rule; /* the result's rule */
    pinset_policy *policy;   /* pinset_ossl_get1_result_policy (a reference) */
    pinset_policy *observed; /* the policy the observer was given */
};

/* The observer runs on the handshake's thread: one slot per thread. */
static _Thread_local pinset_policy *observed_policy;
static _Thread_local int observer_calls;

static void observer(const SSL *ssl, const pinset_result *result, pinset_policy *policy,
                     void *payload)
{
    (void)ssl;
    (void)result;
    (void)payload;
    observed_policy = policy; /* borrowed: compared by address only, A and B outlive the run */
    observer_calls++;
}

/* One handshake with the shared context; -1 when the test's own setup failed. */
static int handshake(struct seen *s, SSL_CTX *ctx, pinset_ossl *pin, unsigned int port)
{
    SSL *ssl = SSL_new(ctx);
    int fd = tls_connect_tcp(port);
    char buf[64];

    memset(s, 0, sizeof(*s));
    observed_policy = NULL;
    observer_calls = 0;
    if (ssl == NULL || fd < 0 || SSL_set1_host(ssl, "example.com") != 1 ||
        SSL_set_tlsext_host_name(ssl, "example.com") != 1 ||
        pinset_ossl_set_port(pin, ssl, port) != PINSET_OK || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    s->handshake = SSL_connect(ssl) == 1;
    s->gate = pinset_ossl_check(pin, ssl);
    s->verdict = pinset_result_verdict(pinset_ossl_result(pin, ssl));
    s->reason = pinset_result_reason(pinset_ossl_result(pin, ssl));
    s->rule = pinset_result_rule(pinset_ossl_result(pin, ssl));
    s->policy = pinset_ossl_get1_result_policy(pin, ssl);
    s->observed = observer_calls == 1 ? observed_policy : NULL;
    if (s->handshake) {
        (void)SSL_read(ssl, buf, sizeof(buf));
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return 0;
}

struct run {
    SSL_CTX *ctx;
    pinset_ossl *pin;
    unsigned int port;
    pinset_policy *a, *b;
    struct seen ref_a, ref_b; /* each policy's outcome alone */
    atomic_int swapping_done;
    atomic_int handshakes, under_a, under_b;
    atomic_int wrong;
    atomic_int swap_errors;
    pthread_mutex_t msg_lock;
    char first_wrong[512];
};

static void wrong(struct run *r, int n, const char *what, const struct seen *s)
{
    atomic_fetch_add(&r->wrong, 1);
    pthread_mutex_lock(&r->msg_lock);
    if (r->first_wrong[0] == '\0') {
        snprintf(r->first_wrong, sizeof(r->first_wrong),
                 "handshake %d: %s (handshake %d, gate %s, verdict %s, reason %s, policy %s)", n,
                 what, s->handshake, pinset_err_name(s->gate), pinset_verdict_name(s->verdict),
                 pinset_reason_name(s->reason),
                 s->policy == r->a   ? "A"
                 : s->policy == r->b ? "B"
                 : s->policy == NULL ? "none"
                                     : "other");
    }
    pthread_mutex_unlock(&r->msg_lock);
}

/* Every handshake must be wholly the one of A or wholly the one of B. */
static void judge(struct run *r, int n, const struct seen *s)
{
    const struct seen *ref;

    if (s->policy == r->a) {
        ref = &r->ref_a;
        atomic_fetch_add(&r->under_a, 1);
    } else if (s->policy == r->b) {
        ref = &r->ref_b;
        atomic_fetch_add(&r->under_b, 1);
    } else {
        wrong(r, n, "decided under neither A nor B", s);
        return;
    }
    if (s->observed != s->policy) {
        wrong(r, n, "the observer saw another snapshot than the result's", s);
    }
    if (s->rule == NULL || s->rule != pinset_policy_rule(s->policy, 0)) {
        wrong(r, n, "the result's rule is not the rule of its own snapshot", s);
    }
    if (s->verdict != ref->verdict || s->reason != ref->reason) {
        wrong(r, n, "verdict or reason differs from its policy's alone", s);
    }
    if (s->handshake != ref->handshake || s->gate != ref->gate) {
        wrong(r, n, "handshake or gate differs from its policy's alone", s);
    }
    /* and what those references are, in words: A lets it through, B does not */
    if (ref == &r->ref_a
            ? !(s->handshake && s->gate == PINSET_OK && s->verdict == PINSET_VERDICT_PASS)
            : (s->handshake || s->gate == PINSET_OK || s->verdict != PINSET_VERDICT_FAIL)) {
        wrong(r, n, "the verdict is not its policy's (A: PASS, B: FAIL)", s);
    }
}

static void *client_main(void *arg)
{
    struct run *r = arg;

    for (int i = 0; i < MAX_HANDSHAKES && !atomic_load(&r->swapping_done); i++) {
        struct seen s;
        int n = atomic_fetch_add(&r->handshakes, 1);

        if (handshake(&s, r->ctx, r->pin, r->port) != 0) {
            wrong(r, n, "client setup failed", &s);
            continue;
        }
        judge(r, n, &s);
        pinset_policy_free(s.policy);
    }
    return NULL;
}

static void *swapper_main(void *arg)
{
    struct run *r = arg;
    const struct timespec pause = {0, 2 * 1000 * 1000}; /* 2 ms: spread the swaps over handshakes */

    for (int i = 0; i < SWAPS; i++) {
        if (pinset_ossl_set_policy(r->pin, i % 2 == 0 ? r->b : r->a) != PINSET_OK) {
            atomic_fetch_add(&r->swap_errors, 1);
        }
        nanosleep(&pause, NULL);
    }
    atomic_store(&r->swapping_done, 1);
    return NULL;
}

static void reference(struct seen *out, struct run *r, pinset_policy *p)
{
    assert_int_equal(pinset_ossl_set_policy(r->pin, p), PINSET_OK);
    assert_int_equal(handshake(out, r->ctx, r->pin, r->port), 0);
    assert_ptr_equal(out->policy, p);
    assert_ptr_equal(out->observed, p);
    assert_ptr_equal(out->rule, pinset_policy_rule(p, 0));
    pinset_policy_free(out->policy);
    out->policy = p;
}

static void swap_under_handshakes(void **state)
{
    struct run r;
    pthread_t t[CLIENTS + 1];
    tls_server *srv;
    char p_int[64], p_rogue_root[64];
    struct timespec t0, t1;

    (void)state;
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.msg_lock, NULL);
    pin_b64(p_int, sizeof(p_int), "int.crt.pem");
    pin_b64(p_rogue_root, sizeof(p_rogue_root), "rogue-root.crt.pem");
    r.a = policy_pinning(p_int);        /* the server's issuing CA: PASS */
    r.b = policy_pinning(p_rogue_root); /* a key the server's chain does not carry: FAIL */

    srv = tls_server_start(path_of("leaf-ec.chain.pem"), path_of("leaf-ec.key.pem"), 0);
    assert_non_null(srv);
    r.port = tls_server_port(srv);
    assert_int_equal(pinset_ossl_new(&r.pin, r.a, NULL, NULL), PINSET_OK);
    pinset_ossl_set_observer(r.pin, observer, NULL); /* before attaching: no lock on that path */
    r.ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(r.ctx);
    assert_int_equal(SSL_CTX_load_verify_locations(r.ctx, path_of("trust.pem"), NULL), 1);
    SSL_CTX_set_verify(r.ctx, SSL_VERIFY_PEER, NULL);
    assert_int_equal(pinset_ossl_attach(r.pin, r.ctx, NULL), PINSET_OK);

    /* each policy alone, one thread: what every concurrent handshake must match */
    reference(&r.ref_a, &r, r.a);
    reference(&r.ref_b, &r, r.b);
    assert_true(r.ref_a.handshake);
    assert_int_equal(r.ref_a.gate, PINSET_OK);
    assert_int_equal(r.ref_a.verdict, PINSET_VERDICT_PASS);
    assert_false(r.ref_b.handshake);
    assert_int_not_equal(r.ref_b.gate, PINSET_OK);
    assert_int_equal(r.ref_b.verdict, PINSET_VERDICT_FAIL);
    assert_int_equal(r.ref_b.reason, PINSET_REASON_NO_MATCH);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_create(&t[CLIENTS], NULL, swapper_main, &r), 0);
    for (int i = 0; i < CLIENTS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, client_main, &r), 0);
    }
    pthread_join(t[CLIENTS], NULL);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("%d handshakes (%d under A, %d under B) during %d swaps in %.2f s\n",
                  atomic_load(&r.handshakes), atomic_load(&r.under_a), atomic_load(&r.under_b),
                  SWAPS, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

    if (atomic_load(&r.wrong) != 0) {
        fail_msg("%d wrong handshakes; first: %s", atomic_load(&r.wrong), r.first_wrong);
    }
    assert_int_equal(atomic_load(&r.swap_errors), 0);
    /* the swaps were exercised: both outcomes were seen */
    assert_true(atomic_load(&r.under_a) > 0);
    assert_true(atomic_load(&r.under_b) > 0);
    assert_int_equal(atomic_load(&r.under_a) + atomic_load(&r.under_b), atomic_load(&r.handshakes));

    /* the last swap (i = 999) put A in force */
    {
        pinset_policy *now = pinset_ossl_get1_policy(r.pin);

        assert_ptr_equal(now, r.a);
        pinset_policy_free(now);
    }
    pinset_ossl_set_observer(r.pin, NULL, NULL); /* no handshake can start now */
    SSL_CTX_free(r.ctx);
    pinset_ossl_free(r.pin);
    tls_server_stop(srv);
    pinset_policy_free(r.a);
    pinset_policy_free(r.b);
    pthread_mutex_destroy(&r.msg_lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swap_under_handshakes),
    };
    const char *data = getenv("PINSET_TESTDATA");

    if (data == NULL) {
        return 77;
    }
    snprintf(dir, sizeof(dir), "%s/attack", data);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
