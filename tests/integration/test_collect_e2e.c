/*
 * test_collect_e2e.c - end to end: a pinned client in report mode
 * (libpinset's OpenSSL hook, the check policy's report.check.test rule)
 * meets a rogue server on 127.0.0.1 (a leaf mis-issued by a second root that
 * the client also trusts); its RFC 7469 report is POSTed with libcurl to a
 * real `pinset collect` process (the policy, and the genuine root as its
 * trust anchor). The report must be answered 201 with the class
 * interception, be in the database (`pinset reports --format json`) with
 * that class and a count of 1, and be shown by the web view (/ and the host
 * page). The collector is stopped with SIGTERM and must exit 0.
 */
#define _POSIX_C_SOURCE 200809L

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include <curl/curl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <pinset/openssl.h>
#include <pinset/policy.h>
#include <pinset/report.h>

#include "tls_server.h"
#include "tmpdir.h"

static char check_dir[512], tmp[64];

static const char *path_of(const char *name)
{
    return testlib_path(check_dir, name);
}

/* ---- the collector process ---- */

typedef struct collector {
    pid_t pid;
    unsigned int port;
    char db[128];
} collector;

static void collector_start(collector *c)
{
    int out[2];
    char line[256];
    size_t n = 0;
    const char *bin = getenv("PINSET_BIN");

    assert_non_null(bin);
    snprintf(c->db, sizeof(c->db), "%s/reports.sqlite", tmp);
    assert_int_equal(pipe(out), 0);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execl(bin, bin, "collect", "--listen", "127.0.0.1:0", "--db", c->db, "--policy",
              path_of("policies/check.json"), "--cafile", path_of("root.crt.pem"), (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    /* the first line says where it listens; bounded by 30 s */
    while (n + 1 < sizeof(line)) {
        struct pollfd p = {out[0], POLLIN, 0};
        assert_int_equal(poll(&p, 1, 30000), 1);
        assert_int_equal(read(out[0], line + n, 1), 1);
        if (line[n] == '\n') {
            break;
        }
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    const char *colon = strrchr(line, ':');
    assert_non_null(strstr(line, "listening on http://127.0.0.1:"));
    c->port = (unsigned int)strtoul(colon + 1, NULL, 10);
    assert_true(c->port > 0);
}

static void collector_stop(collector *c)
{
    int status = 0;

    assert_int_equal(kill(c->pid, SIGTERM), 0);
    for (int i = 0; i < 300 && waitpid(c->pid, &status, WNOHANG) == 0; i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    if (waitpid(c->pid, &status, WNOHANG) == 0 && kill(c->pid, 0) == 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
        fail_msg("the collector did not stop within 30 s of SIGTERM");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- HTTP with libcurl ---- */

typedef struct body {
    char buf[1 << 20];
    size_t len;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *payload)
{
    body *b = payload;
    size_t len = size * n;
    if (b->len + len >= sizeof(b->buf)) {
        return 0;
    }
    memcpy(b->buf + b->len, p, len);
    b->len += len;
    b->buf[b->len] = '\0';
    return len;
}

/* GET (post == NULL) or POST; returns the status; the body in *b. */
static long http(const collector *c, const char *path, const char *post, body *b)
{
    CURL *h = curl_easy_init();
    char url[256];
    long code = 0;

    assert_non_null(h);
    b->len = 0;
    b->buf[0] = '\0';
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", c->port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    if (post != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
    }
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code;
}

/* ---- the pinned client ---- */

static void on_report(const char *json, size_t len, void *payload)
{
    char **out = payload;
    free(*out);
    *out = strndup(json, len);
}

static char *pinned_client_report(unsigned int port)
{
    pinset_policy *pol = NULL;
    pinset_ossl *pin = NULL;
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    char *report = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl;
    int fd = tls_connect_tcp(port);

    assert_int_equal(pinset_policy_load(&pol, path_of("policies/check.json"), NULL), PINSET_OK);
    opts.report = on_report;
    opts.report_payload = &report;
    assert_int_equal(pinset_ossl_new(&pin, pol, &opts, NULL), PINSET_OK);
    pinset_policy_free(pol);
    assert_non_null(ctx);
    /* the client trusts both roots: path validation alone would accept the rogue chain */
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, path_of("trust.pem"), NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    assert_int_equal(pinset_ossl_attach(pin, ctx, NULL), PINSET_OK);
    ssl = SSL_new(ctx);
    assert_non_null(ssl);
    assert_true(fd >= 0);
    assert_int_equal(SSL_set1_host(ssl, "report.check.test"), 1);
    SSL_set_tlsext_host_name(ssl, "report.check.test");
    assert_int_equal(pinset_ossl_set_port(pin, ssl, 443), PINSET_OK);
    SSL_set_fd(ssl, fd);
    /* report mode: the handshake goes through, the failure is reported */
    assert_int_equal(SSL_connect(ssl), 1);
    assert_int_equal(pinset_ossl_check(pin, ssl), PINSET_OK);
    assert_int_equal(pinset_result_verdict(pinset_ossl_result(pin, ssl)),
                     PINSET_VERDICT_REPORT_ONLY_FAIL);
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    pinset_ossl_free(pin);
    ERR_clear_error();
    assert_non_null(report);
    return report;
}

static void report_mode_to_collector_to_web_view(void **state)
{
    collector c;
    body *b = malloc(sizeof(*b));
    tls_server *rogue =
        tls_server_start(path_of("rogue-chain.pem"), path_of("rogue-leaf.key.pem"), 0);
    char *report, cmd[1024];
    json_t *doc, *g;
    FILE *p;

    (void)state;
    assert_non_null(rogue);
    collector_start(&c);
    report = pinned_client_report(tls_server_port(rogue));
    assert_non_null(strstr(report, "\"hostname\":\"report.check.test\""));

    assert_int_equal(http(&c, "/report", report, b), 201);
    assert_non_null(strstr(b->buf, "\"class\":\"interception\""));

    /* in the database, with its class */
    snprintf(cmd, sizeof(cmd), "'%s' reports --db '%s' --format json", getenv("PINSET_BIN"), c.db);
    p = popen(cmd, "r");
    assert_non_null(p);
    doc = json_loadf(p, 0, NULL);
    assert_int_equal(pclose(p), 0);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "groups")), 1);
    g = json_array_get(json_object_get(doc, "groups"), 0);
    assert_string_equal(json_string_value(json_object_get(g, "host")), "report.check.test");
    assert_string_equal(json_string_value(json_object_get(g, "class")), "interception");
    assert_int_equal(json_integer_value(json_object_get(g, "reports")), 1);
    json_decref(doc);

    /* the web view shows it */
    assert_int_equal(http(&c, "/", NULL, b), 200);
    assert_non_null(strstr(b->buf, "href=\"/host/report.check.test\""));
    assert_non_null(strstr(b->buf, "<td class=\"class interception\">interception</td>"));
    assert_non_null(strstr(b->buf, "<td class=\"count\">1</td>"));
    assert_int_equal(http(&c, "/host/report.check.test", NULL, b), 200);
    assert_non_null(strstr(b->buf, "<h1 id=\"host\">report.check.test</h1>"));
    assert_non_null(strstr(b->buf, "<h2 class=\"class interception\">interception</h2>"));
    assert_non_null(strstr(b->buf, "do not pin these keys"));
    free(report);
    collector_stop(&c);
    tls_server_stop(rogue);
    free(b);
}

int main(void)
{
    const char *td = getenv("PINSET_TESTDATA");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_mode_to_collector_to_web_view),
    };
    int rc;

    if (td == NULL || getenv("PINSET_BIN") == NULL) {
        fprintf(stderr, "PINSET_TESTDATA and PINSET_BIN must be set\n");
        return 1;
    }
    snprintf(check_dir, sizeof(check_dir), "%s/check", td);
    snprintf(tmp, sizeof(tmp), "/tmp/pinset-e2e-XXXXXX");
    if (mkdtemp(tmp) == NULL) {
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmp);
    }
    return rc;
}
