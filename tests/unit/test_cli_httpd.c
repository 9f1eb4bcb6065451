/*
 * test_cli_httpd.c - the one start-up of the tool's HTTP(S) servers
 * (src/serve/httpd.c), on the check PKI of tests/data/pki.d/40-check.sh: TLS
 * files checked before the daemon sees them (each refusal names the file and
 * says why, never showing the key), a real HTTPS server on 127.0.0.1 fetched
 * with libcurl (the key's text wiped once the daemon has it; plain HTTP and
 * TLS 1.1 refused), a port in use refused with libmicrohttpd's reason, and
 * the URL printed for each listen form.
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
#include <serve/httpd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

static char pki[512], tmp[512];

static void path(char *out, size_t cap, const char *d, const char *name)
{
    snprintf(out, cap, "%s/%s", d, name);
}

static void copy(const char *from, const char *to, mode_t mode)
{
    char buf[65536];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;

    assert_non_null(in);
    assert_non_null(out);
    n = fread(buf, 1, sizeof(buf), in);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    assert_int_equal(chmod(to, mode), 0);
}

static int setup(void **state)
{
    const char *td = getenv("PINSET_TESTDATA");
    const char *t = getenv("TMPDIR");

    (void)state;
    if (td == NULL) {
        return -1;
    }
    snprintf(pki, sizeof(pki), "%s/check", td);
    snprintf(tmp, sizeof(tmp), "%s/test_cli_httpd.XXXXXX", t != NULL ? t : "/tmp");
    if (mkdtemp(tmp) == NULL) {
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];

    (void)state;
    curl_global_cleanup();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* httpd_tls_load fails; err holds want1 and want2, and nothing of the key file's text */
static void refused(const char *cert, const char *key, const char *want1, const char *want2)
{
    httpd_tls t;
    char err[512];

    memset(&t, 0, sizeof(t));
    assert_int_equal(httpd_tls_load(&t, cert, key, err, sizeof(err)), -1);
    if (strstr(err, want1) == NULL || strstr(err, want2) == NULL) {
        fail_msg("'%s' lacks '%s' or '%s'", err, want1, want2);
    }
    assert_null(strstr(err, "PRIVATE KEY"));
    assert_null(t.key.p);
    assert_null(t.cert.p);
    httpd_tls_free(&t);
}

static void tls_files_checked(void **state)
{
    char chain[600], key[600], rogue_key[600], open_key[600], missing[600], empty[600];
    char enc[600];
    httpd_tls t;
    char err[512];

    (void)state;
    path(chain, sizeof(chain), pki, "chain.pem");
    path(key, sizeof(key), pki, "leaf.key.pem");
    path(rogue_key, sizeof(rogue_key), pki, "rogue-leaf.key.pem");
    path(open_key, sizeof(open_key), tmp, "open.key.pem");
    path(missing, sizeof(missing), tmp, "missing.pem");
    path(empty, sizeof(empty), tmp, "empty.pem");
    path(enc, sizeof(enc), tmp, "encrypted.key.pem");

    memset(&t, 0, sizeof(t));
    assert_int_equal(httpd_tls_load(&t, chain, key, err, sizeof(err)), 0);
    assert_non_null(strstr((const char *)t.cert.p, "BEGIN CERTIFICATE"));
    assert_true(t.key.len > 0);
    httpd_tls_free(&t);
    assert_null(t.key.p);

    /* group may read (Debian's ssl-cert group); other users may not */
    copy(key, open_key, 0640);
    memset(&t, 0, sizeof(t));
    assert_int_equal(httpd_tls_load(&t, chain, open_key, err, sizeof(err)), 0);
    httpd_tls_free(&t);
    assert_int_equal(chmod(open_key, 0644), 0);
    refused(chain, open_key, open_key, "open to every user (mode 0644)");

    refused(chain, rogue_key, rogue_key, "is not the key of the certificate in");
    refused(chain, missing, missing, "the TLS key");
    refused(missing, key, missing, "the TLS certificate");
    refused(key, key, key, "the TLS certificate: not a PEM certificate");
    copy(key, empty, 0600);
    assert_int_equal(truncate(empty, 0), 0);
    refused(chain, empty, empty, "the TLS key is empty");
    refused(chain, chain, chain, "the TLS key: not a PEM private key");

    {
        FILE *in = fopen(key, "r"), *out = fopen(enc, "w");
        EVP_PKEY *k;
        assert_non_null(in);
        assert_non_null(out);
        k = PEM_read_PrivateKey(in, NULL, NULL, NULL);
        assert_non_null(k);
        assert_int_equal(
            PEM_write_PKCS8PrivateKey(out, k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)"secret"),
            1);
        EVP_PKEY_free(k);
        fclose(in);
        fclose(out);
        assert_int_equal(chmod(enc, 0600), 0);
    }
    refused(chain, enc, enc, "the TLS key is encrypted");
}

static enum MHD_Result hello(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (*con_cls == NULL) {
        *con_cls = c;
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(6, (void *)(uintptr_t) "hello\n", MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static size_t sink(char *p, size_t size, size_t n, void *cls)
{
    char *body = cls;
    size_t have = strlen(body), len = size * n;

    if (have + len < 64) {
        memcpy(body + have, p, len);
        body[have + len] = '\0';
    }
    return len;
}

/* GET url; the curl result, with the status and the body */
static CURLcode get(const char *url, const char *cafile, long tls_max, long *code, char *body)
{
    CURL *h = curl_easy_init();
    CURLcode rc;

    assert_non_null(h);
    body[0] = '\0';
    *code = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    if (cafile != NULL) {
        curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
    }
    if (tls_max != 0) {
        /* a client able to speak the old versions: only the server can refuse them */
        curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1 | tls_max);
        curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
    }
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(h);
    return rc;
}

/* one thread, a few connections, the hello handler, on a free port of 127.0.0.1 */
static void small_config(httpd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = "127.0.0.1:0";
    cfg->threads = 1;
    cfg->connection_limit = 4;
    cfg->timeout = 15;
    cfg->handler = hello;
}

static void https_served_key_wiped(void **state)
{
    char chain[600], key[600], root[600], url[128], body[64];
    httpd_tls t;
    httpd_config cfg;
    httpd *h = NULL;
    char err[512];
    long code;

    (void)state;
    path(chain, sizeof(chain), pki, "chain.pem");
    path(key, sizeof(key), pki, "leaf.key.pem");
    path(root, sizeof(root), pki, "root.crt.pem");
    memset(&t, 0, sizeof(t));
    assert_int_equal(httpd_tls_load(&t, chain, key, err, sizeof(err)), 0);
    small_config(&cfg);
    cfg.tls = &t;
    if (httpd_start(&h, &cfg, err, sizeof(err)) != 0) {
        fail_msg("httpd_start: %s", err);
    }
    /* the daemon has the key: the text is gone from our memory */
    assert_null(t.key.p);
    assert_int_equal(t.key.len, 0);
    assert_true(httpd_port(h) != 0);

    httpd_url(url, sizeof(url), cfg.listen, httpd_port(h), 1);
    assert_int_equal(get(url, root, 0, &code, body), CURLE_OK);
    assert_int_equal(code, 200);
    assert_string_equal(body, "hello\n");
    /* TLS 1.1 and below are not offered */
    assert_int_not_equal(get(url, root, CURL_SSLVERSION_MAX_TLSv1_1, &code, body), CURLE_OK);
    /* plain HTTP to the HTTPS port gets no HTTP answer */
    httpd_url(url, sizeof(url), cfg.listen, httpd_port(h), 0);
    assert_int_not_equal(get(url, NULL, 0, &code, body), CURLE_OK);
    assert_int_equal(code, 0);
    httpd_stop(h);
    httpd_tls_free(&t);
}

static void port_in_use_refused(void **state)
{
    httpd_config cfg;
    httpd *a = NULL, *b = NULL;
    char listen[64], err[512];

    (void)state;
    small_config(&cfg);
    assert_int_equal(httpd_start(&a, &cfg, err, sizeof(err)), 0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", httpd_port(a));
    cfg.listen = listen;
    assert_int_equal(httpd_start(&b, &cfg, err, sizeof(err)), -1);
    assert_null(b);
    assert_non_null(strstr(err, listen));
    assert_non_null(strstr(err, "in use"));
    cfg.listen = "localhost:80";
    assert_int_equal(httpd_start(&b, &cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "listen 'localhost:80': not ADDR:PORT or [ADDR6]:PORT");
    httpd_stop(a);
    httpd_stop(NULL);
}

static void urls_of_listen_forms(void **state)
{
    char u[128];

    (void)state;
    httpd_url(u, sizeof(u), "127.0.0.1:0", 8443, 1);
    assert_string_equal(u, "https://127.0.0.1:8443");
    httpd_url(u, sizeof(u), "[::1]:0", 80, 0);
    assert_string_equal(u, "http://[::1]:80");
    httpd_url(u, sizeof(u), ":9469", 9469, 0);
    assert_string_equal(u, "http://0.0.0.0:9469");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_files_checked),
        cmocka_unit_test(https_served_key_wiped),
        cmocka_unit_test(port_in_use_refused),
        cmocka_unit_test(urls_of_listen_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
