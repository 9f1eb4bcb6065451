/*
 * test_reporter_pinned.c - reports to pinned hosts and reports from real
 * handshakes (issue 11, "Delivery, in the library"): pinset_reporter
 * (reporter.h) against loopback HTTPS receivers on libmicrohttpd
 * (tests/testlib/report_receiver.c) and the TLS test server.
 *
 * The report host reports.example has a genuine certificate, whose leaf key
 * the policy pins, and a mis-issued one: the same trusted CA signed another
 * key for the same name, so the chain validates but carries no pinned key
 * (an interception the CA system lets through).
 *
 * - pinned_report_host_checked: a report for app.example goes to
 *   https://reports.example, which the same policy pins. With the genuine
 *   server it arrives over a connection the rule passed (`checked`); with
 *   the rogue server nothing reaches the receiver and the report is held.
 * - failing_host_next_uri_or_held: a report about reports.example itself,
 *   whose first URI is on reports.example (the rogue server answers there)
 *   and second a plain receiver elsewhere: it goes to the second, and the
 *   rogue server sees no request. With only URIs on reports.example (https
 *   to the rogue server, and plain http, a downgrade) it is held, nothing
 *   sent, until the genuine server is back on that port: then it arrives,
 *   checked.
 * - slow_receiver_never_blocks_handshakes: a report-mode rule, real pinned
 *   curl transfers whose reports go to a receiver that holds every request:
 *   all transfers complete while the first report is still in flight
 *   (counters and order, no timing), then every report is accounted for.
 * - set_policy_releases_held: a report held because the report host's
 *   server (the mis-issued one) fails its pins goes, checked, once a policy
 *   update that pins that server's key is given to the reporter
 *   (pinset_reporter_set_policy): the requests' checked channel follows the
 *   update; with the old policy it stays held.
 * - ossl_port_source: the hook's port source (pinset_ossl_set_port_source,
 *   what the curl helper installs), with a plain OpenSSL client: a
 *   connection without a port of its own reports the source's; one given
 *   with pinset_ossl_set_port keeps its own; an answer past 65535, or no
 *   source, is 0.
 * - curl_report_carries_port: a report made by a real pinned curl transfer
 *   to the TLS test server on 127.0.0.1 and a random port carries that port
 *   (RFC 7469 section 3, "port"), not 0, in the report that arrives.
 * - example_reports: examples/reporting_client, run twice as a user runs it
 *   against a server its pins refuse: the report arrives once; the second
 *   run finds it in the state file.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <pinset/check.h>
#include <pinset/curl.h>
#include <pinset/policy.h>
#include <pinset/report.h>
#include <pinset/reporter.h>

#include "pki.h"
#include "report_receiver.h"
#include "tls_server.h"

#define APP     "app.example"
#define REPORTS "reports.example"
#define FAKE1   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define FAKE2   "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="

static testlib_pki genuine, rogue, app;
static char tmpdir[256], cafile[512], app_cafile[512];
static char *genuine_chain, *genuine_key, *rogue_chain, *rogue_key, *app_chain, *app_key;
static char genuine_pin[64];

/* PEM text of the leaf and the intermediate, and of the leaf key. */
static char *pem_chain(const testlib_pki *p)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *s;
    long n;

    assert_non_null(b);
    assert_int_equal(PEM_write_bio_X509(b, p->leaf), 1);
    assert_int_equal(PEM_write_bio_X509(b, p->inter), 1);
    n = BIO_get_mem_data(b, &data);
    s = strndup(data, (size_t)n);
    BIO_free(b);
    return s;
}

static char *pem_key(const testlib_pki *p)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *s;
    long n;

    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey(b, p->leaf_key, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(b, &data);
    s = strndup(data, (size_t)n);
    BIO_free(b);
    return s;
}

static void put(const char *name, const char *text, char *path, size_t cap)
{
    FILE *f;

    snprintf(path, cap, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

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
 * app.example in report mode (pins nothing it serves), reporting to
 * app_uris; reports.example enforced, pinning the genuine leaf key,
 * reporting to reports_uris.
 */
static pinset_policy *policy_with(const char *app_uris, const char *reports_uris)
{
    char json[4096];

    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": ["
             "{\"host\": \"" APP "\", \"mode\": \"report\", \"pins\": [\"" FAKE1 "\", \"" FAKE2
             "\"], \"report_uris\": [%s]},"
             "{\"host\": \"" REPORTS "\", \"pins\": [\"%s\", \"" FAKE2
             "\"], \"report_uris\": [%s]}]}",
             app_uris, genuine_pin, reports_uris);
    return policy_of(json);
}

/* The report of a check of `pki`'s chain for `host`, handed to the reporter. */
static void report_check(pinset_reporter *rep, const pinset_policy *policy, const char *host,
                         const testlib_pki *pki, pinset_verdict want)
{
    unsigned char *leaf = NULL, *inter = NULL;
    int ll = i2d_X509(pki->leaf, &leaf), il = i2d_X509(pki->inter, &inter);
    pinset_cert chain[2] = {{leaf, (size_t)ll}, {inter, (size_t)il}};
    pinset_report_input in = PINSET_REPORT_INPUT_INIT;
    pinset_result *res = NULL;
    struct receiver_doc d = {NULL, 0};

    assert_true(ll > 0 && il > 0);
    assert_int_equal(pinset_result_new(&res, NULL), PINSET_OK);
    assert_int_equal(pinset_check(res, policy, host, strlen(host), chain, 2, time(NULL), NULL),
                     PINSET_OK);
    assert_int_equal(pinset_result_verdict(res), want);
    /* the chain validates: a failure is the pins', not the path's */
    assert_int_equal(pinset_result_reason(res), PINSET_REASON_NO_MATCH);
    in.port = 443;
    in.validated = chain;
    in.validated_count = 2;
    assert_int_equal(pinset_report_write(res, &in, receiver_doc_sink, &d, NULL), PINSET_OK);
    pinset_reporter_report(d.p, d.n, rep);
    free(d.p);
    pinset_result_free(res);
    OPENSSL_free(leaf);
    OPENSSL_free(inter);
}

static pinset_reporter_stats stats_of(pinset_reporter *rep)
{
    pinset_reporter_stats st;

    pinset_reporter_get_stats(&st, rep);
    return st;
}

/* A reporter trusting the roots, reaching reports.example:port (and :port2) at 127.0.0.1. */
static pinset_reporter *reporter2(pinset_policy *policy, unsigned int port, unsigned int port2)
{
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_reporter *rep = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    char entry[2][128];
    const char *resolve[2] = {entry[0], entry[1]};

    snprintf(entry[0], sizeof(entry[0]), REPORTS ":%u:127.0.0.1", port);
    snprintf(entry[1], sizeof(entry[1]), REPORTS ":%u:127.0.0.1", port2);
    o.cafile = cafile;
    o.resolve = resolve;
    o.resolve_count = 2;
    o.timeout_ms = 20000;
    o.backoff_ms = 20;
    o.backoff_max_ms = 100;
    if (pinset_reporter_new(&rep, policy, &o, &d) != PINSET_OK) {
        fail_msg("reporter: %s", d.message);
    }
    return rep;
}

static pinset_reporter *reporter(pinset_policy *policy, unsigned int port)
{
    return reporter2(policy, port, port);
}

static void pinned_report_host_checked(void **state)
{
    report_receiver *good = receiver_start(genuine_chain, genuine_key), *bad;
    pinset_policy *policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    char uris[256];

    (void)state;
    assert_non_null(good);
    snprintf(uris, sizeof(uris), "\"https://" REPORTS ":%u/report\"", receiver_port(good));
    policy = policy_with(uris, "");
    rep = reporter(policy, receiver_port(good));
    report_check(rep, policy, APP, &app, PINSET_VERDICT_REPORT_ONLY_FAIL);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.checked, 1); /* the pinned rule passed the connection */
    assert_int_equal(receiver_accepted(good), 1);
    assert_int_equal(receiver_count(good, "\"hostname\":\"" APP "\""), 1);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    receiver_stop(good);

    /* the same with a server the CA system accepts but the pins do not: held, nothing sent */
    bad = receiver_start(rogue_chain, rogue_key);
    assert_non_null(bad);
    snprintf(uris, sizeof(uris), "\"https://" REPORTS ":%u/report\"", receiver_port(bad));
    policy = policy_with(uris, "");
    rep = reporter(policy, receiver_port(bad));
    report_check(rep, policy, APP, &app, PINSET_VERDICT_REPORT_ONLY_FAIL);
    RECEIVER_WAIT_FOR(stats_of(rep).held == 1 && stats_of(rep).retried >= 3);
    assert_int_equal(pinset_reporter_close(rep, 100, &st), PINSET_E_IO);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.undelivered, 1);
    assert_int_equal(receiver_requests(bad), 0);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    receiver_stop(bad);
}

static void failing_host_next_uri_or_held(void **state)
{
    report_receiver *bad = receiver_start(rogue_chain, rogue_key),
                    *plain = receiver_start(NULL, NULL), *good;
    pinset_policy *policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    unsigned int port;
    char uris[512];

    (void)state;
    assert_non_null(bad);
    assert_non_null(plain);
    port = receiver_port(bad);
    /* the failing host's URI first, another host's second */
    snprintf(uris, sizeof(uris), "\"https://" REPORTS ":%u/report\", \"http://127.0.0.1:%u/r\"",
             port, receiver_port(plain));
    policy = policy_with("", uris);
    rep = reporter(policy, port);
    report_check(rep, policy, REPORTS, &rogue, PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.checked, 0);
    assert_int_equal(receiver_accepted(plain), 1);
    assert_int_equal(receiver_requests(bad), 0);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);

    /* only the failing host: https to the rogue server, and plain http (a downgrade) */
    snprintf(uris, sizeof(uris),
             "\"https://" REPORTS ":%u/report\", \"http://" REPORTS ":%u/plain\"", port,
             receiver_port(plain));
    policy = policy_with("", uris);
    rep = reporter2(policy, port, receiver_port(plain));
    report_check(rep, policy, REPORTS, &rogue, PINSET_VERDICT_FAIL);
    RECEIVER_WAIT_FOR(stats_of(rep).held == 1 && stats_of(rep).retried >= 3);
    st = stats_of(rep);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.queued, 1);
    assert_int_equal(receiver_requests(bad), 0);
    assert_int_equal(receiver_requests(plain), 1); /* the first part's request only */

    /* the genuine server is back on the port: the held report goes, checked */
    assert_int_equal(receiver_down(bad), 0);
    good = receiver_start_at(genuine_chain, genuine_key, port);
    assert_non_null(good);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.checked, 1);
    assert_int_equal(st.held, 0);
    assert_int_equal(receiver_accepted(good), 1);
    assert_int_equal(receiver_count(good, "\"hostname\":\"" REPORTS "\""), 1);
    assert_int_equal(receiver_requests(plain), 1);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    receiver_stop(good);
    receiver_stop(bad);
    receiver_stop(plain);
}

/*
 * The helper's last handshake result is stale for a request that made no
 * handshake (plain http, or no connection at all): it must not count as
 * this request's. A report sent over plain http after one sent over a
 * checked connection is not `checked`; a report whose only URI (not
 * pinned) is down is retried and given up, not held because another
 * report's host failed its pins just before.
 */
static void stale_result_not_this_request(void **state)
{
    report_receiver *good = receiver_start(genuine_chain, genuine_key), *bad,
                    *plain = receiver_start(NULL, NULL);
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_policy *policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    char uris[256], uris2[256], entry[128];
    const char *resolve[1] = {entry};
    unsigned int dead;

    (void)state;
    assert_non_null(good);
    assert_non_null(plain);
    /* app.example's reports over the checked channel, reports.example's over plain http */
    snprintf(uris, sizeof(uris), "\"https://" REPORTS ":%u/report\"", receiver_port(good));
    snprintf(uris2, sizeof(uris2), "\"http://127.0.0.1:%u/r\"", receiver_port(plain));
    policy = policy_with(uris, uris2);
    rep = reporter(policy, receiver_port(good));
    report_check(rep, policy, APP, &app, PINSET_VERDICT_REPORT_ONLY_FAIL);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    assert_int_equal(stats_of(rep).checked, 1);
    report_check(rep, policy, REPORTS, &rogue, PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 2);
    assert_int_equal(receiver_accepted(plain), 1);
    assert_int_equal(st.checked, 1); /* the plain http one was not checked */
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    receiver_stop(good);

    /*
     * reports.example's report goes to the rogue server (held); app.example's
     * to a plain receiver that is down: transient, given up after its attempts.
     */
    bad = receiver_start(rogue_chain, rogue_key);
    assert_non_null(bad);
    dead = receiver_port(plain);
    assert_int_equal(receiver_down(plain), 0);
    snprintf(uris, sizeof(uris), "\"http://127.0.0.1:%u/r\"", dead);
    snprintf(uris2, sizeof(uris2), "\"https://" REPORTS ":%u/report\"", receiver_port(bad));
    policy = policy_with(uris, uris2);
    snprintf(entry, sizeof(entry), REPORTS ":%u:127.0.0.1", receiver_port(bad));
    o.cafile = cafile;
    o.resolve = resolve;
    o.resolve_count = 1;
    o.timeout_ms = 20000;
    o.backoff_ms = 20;
    o.backoff_max_ms = 100;
    o.max_attempts = 3;
    if (pinset_reporter_new(&rep, policy, &o, &d) != PINSET_OK) {
        fail_msg("reporter: %s", d.message);
    }
    report_check(rep, policy, REPORTS, &rogue, PINSET_VERDICT_FAIL);
    RECEIVER_WAIT_FOR(stats_of(rep).held == 1);
    report_check(rep, policy, APP, &app, PINSET_VERDICT_REPORT_ONLY_FAIL);
    RECEIVER_WAIT_FOR(stats_of(rep).failed == 1 || stats_of(rep).held == 2);
    st = stats_of(rep);
    assert_int_equal(st.held, 1); /* the rogue host's report only */
    assert_int_equal(st.failed, 1);
    assert_int_equal(receiver_requests(bad), 0);
    assert_int_equal(pinset_reporter_close(rep, 100, &st), PINSET_E_IO); /* the held one */
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    receiver_stop(bad);
    receiver_stop(plain);
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

#define TRANSFERS 5

static void slow_receiver_never_blocks_handshakes(void **state)
{
    report_receiver *slow = receiver_start(NULL, NULL);
    pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
    pinset_policy *policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    tls_server *srv;
    char uris[256], chain_path[512], key_path[512], url[256], entry[128];
    struct curl_slist *resolve;

    (void)state;
    assert_non_null(slow);
    put("app-chain.pem", app_chain, chain_path, sizeof(chain_path));
    put("app-key.pem", app_key, key_path, sizeof(key_path));
    srv = tls_server_start(chain_path, key_path, 0);
    assert_non_null(srv);
    snprintf(uris, sizeof(uris), "\"http://127.0.0.1:%u/r\"", receiver_port(slow));
    policy = policy_with(uris, "");
    rep = reporter(policy, 1);
    receiver_answer(slow, 200, RECEIVER_HOLD);
    oo.report = pinset_reporter_report;
    oo.report_payload = rep;
    snprintf(url, sizeof(url), "https://" APP ":%u/", tls_server_port(srv));
    snprintf(entry, sizeof(entry), APP ":%u:127.0.0.1", tls_server_port(srv));
    resolve = curl_slist_append(NULL, entry);
    assert_non_null(resolve);
    for (int i = 0; i < TRANSFERS; i++) {
        char err[CURL_ERROR_SIZE] = "";
        CURLcode res;
        pinset_curl *pc = NULL;
        CURL *curl = curl_easy_init();

        assert_non_null(curl);
        assert_int_equal(pinset_curl_new(&pc, policy, &oo, NULL), PINSET_OK);
        assert_int_equal(pinset_curl_setup(pc, curl, NULL), PINSET_OK);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
        curl_easy_setopt(curl, CURLOPT_CAINFO, app_cafile);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
        res = curl_easy_perform(curl);
        if (res != CURLE_OK) {
            fail_msg("transfer %d: %s: %s", i, curl_easy_strerror(res), err);
        }
        /* report mode: let through, reported, the verdict unchanged by the reporter */
        assert_int_equal(pinset_result_verdict(pinset_curl_result(pc)),
                         PINSET_VERDICT_REPORT_ONLY_FAIL);
        assert_int_equal(pinset_curl_check(pc), PINSET_OK);
        curl_easy_cleanup(curl);
        pinset_curl_free(pc);
        if (i == 0) {
            /* the first report is now held by the receiver: the thread is stuck on it */
            RECEIVER_WAIT_FOR(receiver_holding(slow) == 1);
        }
    }
    /* every transfer finished while the first report was still in flight */
    st = stats_of(rep);
    assert_int_equal(st.received, TRANSFERS);
    assert_int_equal(st.sent, 0);
    assert_int_equal(receiver_holding(slow), 1);
    assert_int_equal(receiver_accepted(slow), 0);
    receiver_answer(slow, 200, 0);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    /* one server, one port: the reports are identical, so one is sent and the rest deduplicated */
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.deduplicated, TRANSFERS - 1);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(receiver_accepted(slow), 1);
    assert_true(tls_server_handshakes(srv) >= TRANSFERS);
    curl_slist_free_all(resolve);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    tls_server_stop(srv);
    receiver_stop(slow);
}

/*
 * The report host rotated to a key the policy in force does not know: held.
 * The update that pins the new key, given to the reporter, lets it through,
 * checked under the new rules.
 */
static void set_policy_releases_held(void **state)
{
    report_receiver *rotated = receiver_start(rogue_chain, rogue_key);
    pinset_policy *policy, *updated;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    char uris[256], json[4096], rotated_pin[64];

    (void)state;
    assert_non_null(rotated);
    testlib_spki_b64(rogue.leaf, rotated_pin);
    snprintf(uris, sizeof(uris), "\"https://" REPORTS ":%u/report\"", receiver_port(rotated));
    policy = policy_with(uris, "");
    rep = reporter(policy, receiver_port(rotated));
    report_check(rep, policy, APP, &app, PINSET_VERDICT_REPORT_ONLY_FAIL);
    RECEIVER_WAIT_FOR(stats_of(rep).held == 1 && stats_of(rep).retried >= 3);
    assert_int_equal(receiver_requests(rotated), 0);

    /* the update: reports.example pins the new key */
    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": ["
             "{\"host\": \"" APP "\", \"mode\": \"report\", \"pins\": [\"" FAKE1 "\", \"" FAKE2
             "\"], \"report_uris\": [%s]},"
             "{\"host\": \"" REPORTS "\", \"pins\": [\"%s\", \"" FAKE2 "\"]}]}",
             uris, rotated_pin);
    updated = policy_of(json);
    assert_int_equal(pinset_reporter_set_policy(rep, updated, NULL), PINSET_OK);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.checked, 1); /* over a connection the new rule passed */
    assert_int_equal(st.held, 0);
    assert_int_equal(receiver_accepted(rotated), 1);
    assert_int_equal(receiver_count(rotated, "\"hostname\":\"" APP "\""), 1);
    pinset_reporter_free(rep);
    pinset_policy_free(updated);
    pinset_policy_free(policy);
    receiver_stop(rotated);
}

struct captured {
    unsigned int calls; /* of the port source */
    unsigned int answer;
    char last[65536]; /* the last report */
};

static void capture_report(const char *json, size_t len, void *payload)
{
    struct captured *c = payload;

    snprintf(c->last, sizeof(c->last), "%.*s", (int)len, json);
}

static unsigned int fixed_port(const SSL *ssl, void *payload)
{
    struct captured *c = payload;

    assert_non_null(ssl);
    c->calls++;
    return c->answer;
}

/* One handshake of a plain OpenSSL client with the hook (report mode: it goes through). */
static void ossl_connect(pinset_ossl *pin, unsigned int port, unsigned int set_port)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl;
    int fd = tls_connect_tcp(port);

    assert_non_null(ctx);
    assert_true(fd >= 0);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, app_cafile, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    assert_int_equal(pinset_ossl_attach(pin, ctx, NULL), PINSET_OK);
    ssl = SSL_new(ctx);
    assert_non_null(ssl);
    assert_int_equal(SSL_set1_host(ssl, APP), 1);
    SSL_set_tlsext_host_name(ssl, APP);
    if (set_port != 0) {
        assert_int_equal(pinset_ossl_set_port(pin, ssl, set_port), PINSET_OK);
    }
    SSL_set_fd(ssl, fd);
    assert_int_equal(SSL_connect(ssl), 1);
    assert_int_equal(pinset_ossl_check(pin, ssl), PINSET_OK);
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
}

static void ossl_port_source(void **state)
{
    pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
    struct captured c = {0, 8443, ""};
    pinset_policy *policy;
    pinset_ossl *pin = NULL;
    tls_server *srv;
    char chain_path[512], key_path[512];
    unsigned int port;

    (void)state;
    put("src-chain.pem", app_chain, chain_path, sizeof(chain_path));
    put("src-key.pem", app_key, key_path, sizeof(key_path));
    srv = tls_server_start(chain_path, key_path, 0);
    assert_non_null(srv);
    port = tls_server_port(srv);
    policy = policy_with("", "");
    oo.report = capture_report;
    oo.report_payload = &c;
    assert_int_equal(pinset_ossl_new(&pin, policy, &oo, NULL), PINSET_OK);
    pinset_ossl_set_port_source(NULL, fixed_port, &c); /* a no-op */
    pinset_ossl_set_port_source(pin, fixed_port, &c);

    /* no port of its own: the source's */
    c.last[0] = '\0';
    ossl_connect(pin, port, 0);
    assert_int_equal(c.calls, 1);
    assert_non_null(strstr(c.last, "\"port\":8443,"));

    /* pinset_ossl_set_port wins; the source is not asked */
    c.last[0] = '\0';
    ossl_connect(pin, port, 9443);
    assert_int_equal(c.calls, 1);
    assert_non_null(strstr(c.last, "\"port\":9443,"));

    /* an answer that is no port: unknown */
    c.answer = 70000;
    c.last[0] = '\0';
    ossl_connect(pin, port, 0);
    assert_int_equal(c.calls, 2);
    assert_non_null(strstr(c.last, "\"port\":0,"));

    /* removed: unknown, not asked */
    c.answer = 8443;
    pinset_ossl_set_port_source(pin, NULL, &c);
    c.last[0] = '\0';
    ossl_connect(pin, port, 0);
    assert_int_equal(c.calls, 2);
    assert_non_null(strstr(c.last, "\"port\":0,"));

    pinset_ossl_free(pin);
    pinset_policy_free(policy);
    tls_server_stop(srv);
}

/*
 * The libcurl helper tells the hook the URL's port: a report from a real
 * transfer says the port the request went to (RFC 7469 section 3), here the
 * test server's random one, where it used to say 0.
 */
static void curl_report_carries_port(void **state)
{
    report_receiver *recv = receiver_start(NULL, NULL);
    pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
    pinset_policy *policy;
    pinset_reporter *rep;
    pinset_curl *pc = NULL;
    tls_server *srv;
    CURL *curl;
    CURLcode res;
    char uris[256], chain_path[512], key_path[512], url[256], entry[128], needle[64];
    char err[CURL_ERROR_SIZE] = "";
    struct curl_slist *resolve;
    unsigned int port;

    (void)state;
    assert_non_null(recv);
    put("port-chain.pem", app_chain, chain_path, sizeof(chain_path));
    put("port-key.pem", app_key, key_path, sizeof(key_path));
    srv = tls_server_start(chain_path, key_path, 0);
    assert_non_null(srv);
    port = tls_server_port(srv);
    assert_true(port != 0 && port != 443);
    snprintf(uris, sizeof(uris), "\"http://127.0.0.1:%u/r\"", receiver_port(recv));
    policy = policy_with(uris, "");
    rep = reporter(policy, 1);
    oo.report = pinset_reporter_report;
    oo.report_payload = rep;
    snprintf(url, sizeof(url), "https://" APP ":%u/", port);
    snprintf(entry, sizeof(entry), APP ":%u:127.0.0.1", port);
    resolve = curl_slist_append(NULL, entry);
    assert_non_null(resolve);
    curl = curl_easy_init();
    assert_non_null(curl);
    assert_int_equal(pinset_curl_new(&pc, policy, &oo, NULL), PINSET_OK);
    assert_int_equal(pinset_curl_setup(pc, curl, NULL), PINSET_OK);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(curl, CURLOPT_CAINFO, app_cafile);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
    res = curl_easy_perform(curl);
    if (res != CURLE_OK) {
        fail_msg("transfer: %s: %s", curl_easy_strerror(res), err);
    }
    assert_int_equal(pinset_result_verdict(pinset_curl_result(pc)),
                     PINSET_VERDICT_REPORT_ONLY_FAIL);
    curl_easy_cleanup(curl);
    pinset_curl_free(pc);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    assert_int_equal(stats_of(rep).sent, 1);
    assert_int_equal(receiver_accepted(recv), 1);
    assert_int_equal(receiver_count(recv, "\"hostname\":\"" APP "\""), 1);
    snprintf(needle, sizeof(needle), "\"port\":%u,", port);
    assert_int_equal(receiver_count(recv, needle), 1);
    assert_int_equal(receiver_count(recv, "\"port\":0,"), 0);
    curl_slist_free_all(resolve);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    tls_server_stop(srv);
    receiver_stop(recv);
}

/*
 * A mis-issued certificate: the genuine CA's intermediate signs a leaf for
 * the same name with another key. Path validation accepts it; the pins do not.
 */
static int mis_issue(testlib_pki *out, const testlib_pki *ca)
{
    memset(out, 0, sizeof(*out));
    out->leaf_key = EVP_EC_gen("P-256");
    out->leaf = X509_dup(ca->leaf);
    out->inter = X509_dup(ca->inter);
    out->root = X509_dup(ca->root);
    if (out->leaf_key == NULL || out->leaf == NULL || out->inter == NULL || out->root == NULL ||
        X509_set_pubkey(out->leaf, out->leaf_key) != 1 ||
        X509_sign(out->leaf, ca->int_key, EVP_sha256()) == 0) {
        return -1;
    }
    return 0;
}

/* Run argv (stdout and stderr to /dev/null): its exit status. */
static int run(char *const argv[])
{
    pid_t pid = fork();
    int status = 0;

    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void example_reports(void **state)
{
    const char *build = getenv("PINSET_BUILD_DIR");
    report_receiver *recv = receiver_start(NULL, NULL);
    char bin[1200], json[1024], policy_path[512], state_path[512], chain_path[512], key_path[512],
        port[16];
    tls_server *srv;

    (void)state;
    assert_non_null(recv);
    snprintf(bin, sizeof(bin), "%s/examples/reporting_client", build != NULL ? build : ".");
    if (build == NULL || access(bin, X_OK) != 0) {
        receiver_stop(recv);
        skip();
    }
    put("ex-chain.pem", app_chain, chain_path, sizeof(chain_path));
    put("ex-key.pem", app_key, key_path, sizeof(key_path));
    srv = tls_server_start(chain_path, key_path, 0);
    assert_non_null(srv);
    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": [{\"host\": \"" APP "\", \"pins\": [\"" FAKE1
             "\", \"" FAKE2 "\"], \"report_uris\": [\"http://127.0.0.1:%u/r\"]}]}\n",
             receiver_port(recv));
    put("ex-policy.json", json, policy_path, sizeof(policy_path));
    snprintf(state_path, sizeof(state_path), "%s/ex.state", tmpdir);
    snprintf(port, sizeof(port), "%u", tls_server_port(srv));
    {
        char *argv[] = {bin,        policy_path,         (char *)APP, port,
                        app_cafile, (char *)"127.0.0.1", state_path,  NULL};

        /* refused (the pins do not match), and the report delivered before exit */
        assert_int_equal(run(argv), 1);
        assert_int_equal(receiver_accepted(recv), 1);
        assert_int_equal(receiver_count(recv, "\"hostname\":\"" APP "\""), 1);
        /* a second run: the same failure, deduplicated through the state file */
        assert_int_equal(run(argv), 1);
        assert_int_equal(receiver_accepted(recv), 1);
    }
    tls_server_stop(srv);
    receiver_stop(recv);
}

/* PEM text of `p`'s root, or NULL (the setup fails). */
static char *pem_root(const testlib_pki *p)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *s;
    long n;

    if (b == NULL || PEM_write_bio_X509(b, p->root) != 1) {
        BIO_free(b);
        return NULL;
    }
    n = BIO_get_mem_data(b, &data);
    s = strndup(data, (size_t)n);
    BIO_free(b);
    return s;
}

static int setup(void **state)
{
    char *roots;

    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pinset-reporter-pinned-XXXXXX");
    if (mkdtemp(tmpdir) == NULL || testlib_pki_make(&genuine, REPORTS) != 0 ||
        mis_issue(&rogue, &genuine) != 0 || testlib_pki_make(&app, APP) != 0) {
        return -1;
    }
    testlib_spki_b64(genuine.leaf, genuine_pin);
    genuine_chain = pem_chain(&genuine);
    genuine_key = pem_key(&genuine);
    rogue_chain = pem_chain(&rogue);
    rogue_key = pem_key(&rogue);
    app_chain = pem_chain(&app);
    app_key = pem_key(&app);
    /* one root per file: the test PKIs' roots share a name */
    if ((roots = pem_root(&genuine)) == NULL) {
        return -1;
    }
    put("roots.pem", roots, cafile, sizeof(cafile));
    free(roots);
    if ((roots = pem_root(&app)) == NULL) {
        return -1;
    }
    put("app-root.pem", roots, app_cafile, sizeof(app_cafile));
    free(roots);
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[512];

    (void)state;
    curl_global_cleanup();
    free(genuine_chain);
    free(genuine_key);
    free(rogue_chain);
    free(rogue_key);
    free(app_chain);
    free(app_key);
    testlib_pki_free(&genuine);
    testlib_pki_free(&rogue);
    testlib_pki_free(&app);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pinned_report_host_checked),
        cmocka_unit_test(failing_host_next_uri_or_held),
        cmocka_unit_test(stale_result_not_this_request),
        cmocka_unit_test(slow_receiver_never_blocks_handshakes),
        cmocka_unit_test(set_policy_releases_held),
        cmocka_unit_test(ossl_port_source),
        cmocka_unit_test(curl_report_carries_port),
        cmocka_unit_test(example_reports),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
