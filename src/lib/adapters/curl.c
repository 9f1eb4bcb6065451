/*
 * curl.c - full pin policies for libcurl transfers (include/pinset/curl.h):
 * the SSL_CTX callback that attaches the OpenSSL hook and names the URL's
 * host, and the pre-request gate.
 *
 * This is libpinset-curl, a library of its own on top of libpinset.so: it
 * uses only libpinset's public API (openssl.h, check.h, policy.h, host.h),
 * never src/lib internals, which the shared libpinset does not export. The
 * build compiles it without src/lib on the include path to keep it so. Its
 * one allocation is therefore a plain calloc, outside the test build's
 * allocation-failure counter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <pinset/curl.h>
#include <pinset/host.h>

#include "curl_int.h"
#include "util/diag.h"

struct pinset_curl {
    pinset_ossl *pin;
    CURL *curl;
    pinset_result *last;        /* a copy of the last connection's result */
    pinset_policy *last_policy; /* keeps last->rule alive */
    pinset_err gate;
};

/*
 * Keep a copy of r (NULL: forget the last result) and take over `used`, a
 * reference to the policy that the copy's rule points into.
 */
static void keep(pinset_curl *pc, const pinset_result *r, pinset_policy *used)
{
    if (r == NULL || pinset_result_copy(pc->last, r) != PINSET_OK) {
        pinset_result_reset(pc->last);
    }
    pinset_policy_free(pc->last_policy);
    pc->last_policy = used;
}

/* The observer (pinset_ossl_set_observer): curl frees the SSL of a failed handshake. */
static void observe(const SSL *ssl, const pinset_result *result, pinset_policy *used, void *payload)
{
    pinset_curl *pc = payload;

    (void)ssl;
    keep(pc, result, pinset_policy_ref(used));
    pc->gate = PINSET_E_NO_MATCH; /* until the gate has seen the finished handshake */
}

/*
 * The port source (pinset_ossl_set_port_source): the port of the URL being
 * fetched, its scheme's default when it names none. RFC 7469 section 3's
 * "port" is the port of the original request, so the URL's, also when
 * CURLOPT_CONNECT_TO sends the connection elsewhere. Runs in the handshake,
 * inside curl_easy_perform on the handle's thread, as ctx_cb. 0 = unknown.
 */
static unsigned int url_port(const SSL *ssl, void *payload)
{
    pinset_curl *pc = payload;
    char *url = NULL, *port = NULL;
    CURLU *u;
    unsigned int n = 0;

    (void)ssl;
    if (pc->curl == NULL || curl_easy_getinfo(pc->curl, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK ||
        url == NULL) {
        return 0;
    }
    u = curl_url();
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && port != NULL) {
        /* libcurl gives 1 to 65535 in decimal; anything else counts as unknown */
        for (const char *c = port; *c != '\0' && n <= 65535; c++) {
            n = *c >= '0' && *c <= '9' ? n * 10 + (unsigned int)(*c - '0') : 65536;
        }
    }
    curl_free(port);
    curl_url_cleanup(u);
    return n <= 65535 ? n : 0;
}

pinset_err pinset_curl_new(pinset_curl **out, pinset_policy *policy, const pinset_ossl_opts *opts,
                           pinset_diag *diag)
{
    pinset_curl *pc;
    pinset_err err;

    if (out == NULL || policy == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "curl: out or policy is null");
    }
    *out = NULL;
    pc = calloc(1, sizeof(*pc));
    if (pc == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "curl: out of memory");
    }
    err = pinset_result_new(&pc->last, diag);
    if (err == PINSET_OK) {
        err = pinset_ossl_new(&pc->pin, policy, opts, diag);
    }
    if (err != PINSET_OK) {
        pinset_curl_free(pc);
        return err;
    }
    pinset_ossl_set_observer(pc->pin, observe, pc);
    pinset_ossl_set_port_source(pc->pin, url_port, pc);
    pc->gate = PINSET_E_NO_MATCH;
    *out = pc;
    return PINSET_OK;
}

void pinset_curl_free(pinset_curl *pc)
{
    if (pc == NULL) {
        return;
    }
    if (pc->pin != NULL) {
        /* contexts still cached elsewhere must not call back into freed memory */
        pinset_ossl_set_observer(pc->pin, NULL, NULL);
        pinset_ossl_set_port_source(pc->pin, NULL, NULL);
    }
    pinset_ossl_free(pc->pin);
    pinset_result_free(pc->last);
    pinset_policy_free(pc->last_policy);
    free(pc);
}

char *pinset__curl_uri_host(const char *uri, const char **h, size_t *n)
{
    CURLU *u = curl_url();
    char *host = NULL;

    if (u == NULL) {
        return NULL;
    }
    if (curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host != NULL) {
        *h = host;
        *n = strlen(host);
        if (*n >= 2 && host[0] == '[' && host[*n - 1] == ']') {
            (*h)++;
            *n -= 2;
        }
    }
    curl_url_cleanup(u);
    return host;
}

/* The URL's host, canonical, without IPv6 brackets; 0 on failure. */
static int url_host(char *buf, size_t cap, pinset_host_type *type, CURL *curl)
{
    char *url = NULL, *host;
    const char *h = NULL;
    size_t n = 0;
    int ok;

    if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL) {
        return 0;
    }
    host = pinset__curl_uri_host(url, &h, &n);
    ok = host != NULL && pinset_host_canon(buf, cap, type, h, n, NULL) == PINSET_OK;
    curl_free(host);
    return ok;
}

static CURLcode ctx_cb(CURL *curl, void *sslctx, void *parm)
{
    pinset_curl *pc = parm;
    SSL_CTX *ctx = sslctx;
    X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
    char host[PINSET_HOST_MAX];
    pinset_host_type type = PINSET_HOST_DNS;
    int ok;

    pc->gate = PINSET_E_NO_MATCH;
    keep(pc, NULL, NULL);
    if (!url_host(host, sizeof(host), &type, curl)) {
        return CURLE_SSL_CONNECT_ERROR; /* no name to look up: fail closed */
    }
    ERR_set_mark();
    /* curl 7.88 verifies the name itself and never tells OpenSSL: tell it */
    if (type == PINSET_HOST_DNS) {
        ok = X509_VERIFY_PARAM_set1_host(vp, host, 0);
    } else {
        ok = X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    }
    ERR_pop_to_mark();
    if (ok != 1 || pinset_ossl_attach(pc->pin, ctx, NULL) != PINSET_OK) {
        return CURLE_SSL_CONNECT_ERROR;
    }
    return CURLE_OK;
}

/* No TLS on this connection: refused when the URL's host is pinned (a downgrade). */
static pinset_err plain_gate(pinset_curl *pc)
{
    char host[PINSET_HOST_MAX];
    pinset_host_type type;
    pinset_policy *p = pinset_ossl_get1_policy(pc->pin);
    pinset_match how = PINSET_MATCH_NONE;
    pinset_err err = PINSET_E_NO_MATCH;

    if (p != NULL && url_host(host, sizeof(host), &type, pc->curl)) {
        (void)pinset_policy_lookup(p, host, strlen(host), &how);
        if (how == PINSET_MATCH_NONE || how == PINSET_MATCH_EXCLUDED) {
            err = PINSET_OK;
        }
    }
    pinset_policy_free(p);
    return err;
}

static int prereq_cb(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    pinset_curl *pc = clientp;
    struct curl_tlssessioninfo *info = NULL;
    const SSL *ssl;

    (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
    if (curl_easy_getinfo(pc->curl, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == NULL ||
        info->backend == CURLSSLBACKEND_NONE || info->internals == NULL) {
        pc->gate = plain_gate(pc);
    } else if (info->backend != CURLSSLBACKEND_OPENSSL) {
        pc->gate = PINSET_E_NO_MATCH;
    } else {
        ssl = info->internals;
        pc->gate = pinset_ossl_check(pc->pin, ssl);
        keep(pc, pinset_ossl_result(pc->pin, ssl), pinset_ossl_get1_result_policy(pc->pin, ssl));
    }
    return pc->gate == PINSET_OK ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

pinset_err pinset_curl_setup(pinset_curl *pc, CURL *curl, pinset_diag *diag)
{
    int openssl = 0;

    if (pc == NULL || curl == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "curl: helper or handle is null");
    }
    /* the helper needs libcurl's OpenSSL backend */
    {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

        openssl =
            v != NULL && v->ssl_version != NULL && strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
    }
    if (!openssl) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "curl: libcurl does not use openssl");
    }
    pc->curl = curl;
    if (curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, ctx_cb) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, pc) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, prereq_cb) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_PREREQDATA, pc) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L) != CURLE_OK) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "curl: libcurl refused a pinset option");
    }
    return PINSET_OK;
}

pinset_err pinset_curl_check(const pinset_curl *pc)
{
    if (pc == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    return pc->gate;
}

const pinset_result *pinset_curl_result(const pinset_curl *pc)
{
    return pc == NULL ? NULL : pc->last;
}

pinset_ossl *pinset_curl_ossl(pinset_curl *pc)
{
    return pc == NULL ? NULL : pc->pin;
}
