/*
 * test_update_curl.c - libpinset-curl's fetcher of signed updates
 * (curl_update.h: pinset_curl_update_fetch, pinset_curl_update_apply)
 * against the test TLS server (tests/testlib/tls_server.c, body "hello\n")
 * with the check PKI: the body reaches the sink; a cap below the body is
 * PINSET_E_LIMIT; a sink that refuses is PINSET_E_IO; a server the CA file
 * does not vouch for is PINSET_E_IO; another scheme is PINSET_E_UNSUPPORTED;
 * bad options are PINSET_E_INVALID_ARG; a fetched body that is no document
 * is refused by the updater and leaves the state directory empty.
 */
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include <pinset/curl_update.h>

#include "tls_server.h"
#include "tmpdir.h"

static tls_server *srv;
static char url[128], cafile[1024];

static int setup(void **state)
{
    const char *data = getenv("PINSET_TESTDATA");
    char chain[1024], key[1024];

    (void)state;
    snprintf(chain, sizeof(chain), "%s/check/chain.pem", data);
    snprintf(key, sizeof(key), "%s/check/leaf.key.pem", data);
    snprintf(cafile, sizeof(cafile), "%s/check/trust.pem", data);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srv = tls_server_start(chain, key, 0);
    if (srv == NULL) {
        return -1;
    }
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/current.dsse", tls_server_port(srv));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tls_server_stop(srv);
    curl_global_cleanup();
    return 0;
}

struct sink {
    char buf[64];
    size_t len;
    int refuse;
};

static int to_sink(const char *data, size_t len, void *payload)
{
    struct sink *s = payload;

    if (s->refuse || len > sizeof(s->buf) - s->len) {
        return 1;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return 0;
}

static void fetches_into_the_sink(void **state)
{
    pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;
    struct sink s = {{0}, 0, 0};
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    o.cafile = cafile;
    assert_int_equal(pinset_curl_update_fetch(url, &o, to_sink, &s, &d), PINSET_OK);
    assert_int_equal(s.len, 6);
    assert_memory_equal(s.buf, "hello\n", 6);
}

static void transfer_refusals(void **state)
{
    pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;
    struct sink s = {{0}, 0, 0};
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    /* a cap below the body (6 octets) */
    o.cafile = cafile;
    o.max_size = 5;
    assert_int_equal(pinset_curl_update_fetch(url, &o, to_sink, &s, &d), PINSET_E_LIMIT);
    assert_string_equal(d.message, "fetch: the document is larger than 5 octets");
    /* a sink that refuses */
    o.max_size = 0;
    s.refuse = 1;
    assert_int_equal(pinset_curl_update_fetch(url, &o, to_sink, &s, &d), PINSET_E_IO);
    assert_string_equal(d.message, "fetch: the output refused the document");
    s.refuse = 0;
    /* the channel is verified: no CA file that vouches for the test PKI */
    o.cafile = NULL;
    assert_int_equal(pinset_curl_update_fetch(url, &o, to_sink, &s, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "fetch: "));
    /* another scheme, bad options */
    assert_int_equal(pinset_curl_update_fetch("ftp://127.0.0.1/x", NULL, to_sink, &s, &d),
                     PINSET_E_UNSUPPORTED);
    assert_int_equal(pinset_curl_update_fetch("file:///etc/passwd", NULL, to_sink, &s, &d),
                     PINSET_E_UNSUPPORTED);
    o.max_redirects = PINSET_CURL_UPDATE_MAX_REDIRECTS + 1;
    assert_int_equal(pinset_curl_update_fetch(url, &o, to_sink, &s, &d), PINSET_E_INVALID_ARG);
    o.max_redirects = 0;
    o.version = 99;
    assert_int_equal(pinset_curl_update_fetch(url, &o, to_sink, &s, &d), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_curl_update_fetch(NULL, NULL, to_sink, &s, &d), PINSET_E_INVALID_ARG);
    assert_int_equal(s.len, 0);
}

static void fetched_body_goes_to_the_updater(void **state)
{
    pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;
    pinset_updater_status st = PINSET_UPDATER_APPLIED;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_update *u = NULL;
    EVP_PKEY *root = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    const EVP_PKEY *roots[1];
    char *dir = testlib_tmpdir("curl-update"), cmd[128];

    (void)state;
    assert_non_null(root);
    assert_non_null(dir);
    roots[0] = root;
    o.cafile = cafile;
    /* "hello\n" is no envelope: refused by verification, nothing written */
    assert_int_equal(pinset_curl_update_apply(&u, &st, url, dir, roots, 1, &o, &d), PINSET_E_PARSE);
    assert_null(u);
    assert_int_equal(st, PINSET_UPDATER_INVALID);
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
    assert_int_equal(system(cmd), 0);
    /* a failed transfer: the updater is not called */
    o.max_size = 5;
    st = PINSET_UPDATER_APPLIED;
    assert_int_equal(pinset_curl_update_apply(&u, &st, url, dir, roots, 1, &o, &d), PINSET_E_LIMIT);
    assert_int_equal(st, PINSET_UPDATER_INVALID);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
    EVP_PKEY_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fetches_into_the_sink),
        cmocka_unit_test(transfer_refusals),
        cmocka_unit_test(fetched_body_goes_to_the_updater),
    };
    if (getenv("PINSET_TESTDATA") == NULL) {
        return 77;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
