/*
 * openssl_client.c - a pinned TLS client with OpenSSL and libpinset.
 *
 *   openssl_client POLICY.json HOST PORT [CAFILE] [CONNECT-ADDRESS]
 *
 * Connects to HOST:PORT (or to CONNECT-ADDRESS:PORT while verifying HOST),
 * validates the server's chain against CAFILE (default: the system store),
 * enforces the pins that POLICY.json gives for HOST, prints the verdict and
 * the first line the server sends. Exit status: 0 connected and passed,
 * 1 refused (path or pins), 2 usage, 3 bad policy, 4 network error.
 *
 * The pinset calls are marked "pinset:"; everything else is plain OpenSSL.
 */
#define _POSIX_C_SOURCE 200809L

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <pinset/check.h>
#include <pinset/openssl.h>
#include <pinset/policy.h>

static int tcp_connect(const char *addr, const char *port)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(addr, port, &hints, &res) != 0) {
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv)
{
    pinset_policy *policy = NULL;
    pinset_ossl *pin = NULL;
    pinset_diag diag = PINSET_DIAG_INIT;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    char line[256], why[512], where[1024];
    int fd = -1, rc = 1, n;

    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s POLICY.json HOST PORT [CAFILE] [CONNECT-ADDRESS]\n", argv[0]);
        return 2;
    }
    /* pinset: load the policy and make the OpenSSL hook state */
    if (pinset_policy_load(&policy, argv[1], &diag) != PINSET_OK ||
        pinset_ossl_new(&pin, policy, NULL, &diag) != PINSET_OK) {
        /* one line: file, position, JSON path and reason; the file named once */
        (void)pinset_diag_format(where, sizeof(where), &diag);
        fprintf(stderr, "openssl_client: %s\n", where);
        pinset_policy_free(policy);
        return 3;
    }
    pinset_policy_free(policy); /* the hook keeps its own reference */

    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        (argc > 4 ? SSL_CTX_load_verify_locations(ctx, argv[4], NULL)
                  : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
        fprintf(stderr, "openssl_client: cannot set up TLS\n");
        rc = 4;
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* pinset: every handshake on this context now checks the pins */
    if (pinset_ossl_attach(pin, ctx, &diag) != PINSET_OK) {
        fprintf(stderr, "openssl_client: %s\n", diag.message);
        rc = 4;
        goto out;
    }
    fd = tcp_connect(argc > 5 ? argv[5] : argv[2], argv[3]);
    ssl = fd < 0 ? NULL : SSL_new(ctx);
    if (ssl == NULL) {
        fprintf(stderr, "openssl_client: cannot connect to %s port %s\n", argv[2], argv[3]);
        rc = 4;
        goto out;
    }
    /* the name OpenSSL verifies is the name pinset looks up: set it */
    SSL_set1_host(ssl, argv[2]);
    SSL_set_tlsext_host_name(ssl, argv[2]);
    SSL_set_fd(ssl, fd);
    if (pinset_ossl_set_port(pin, ssl, (unsigned int)strtoul(argv[3], NULL, 10)) != PINSET_OK) {
        fprintf(stderr, "openssl_client: bad port %s\n", argv[3]);
        rc = 2;
        goto out;
    }

    n = SSL_connect(ssl);
    /* pinset: the verdict and its explanation, whatever happened */
    if (pinset_result_explain(why, sizeof(why), pinset_ossl_result(pin, ssl)) == PINSET_OK) {
        printf("verdict: %s\n", why);
    }
    /* pinset: the gate, after every handshake (covers resumed sessions too) */
    if (n != 1 || pinset_ossl_check(pin, ssl) != PINSET_OK) {
        fprintf(stderr, "openssl_client: %s: refused (%s)\n", argv[2],
                X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
        goto out;
    }
    n = SSL_read(ssl, line, sizeof(line) - 1);
    if (n > 0) {
        line[n] = '\0';
        printf("%s: %s", argv[2], line);
    }
    (void)SSL_shutdown(ssl);
    rc = 0;
out:
    SSL_free(ssl);
    if (fd >= 0) {
        close(fd);
    }
    SSL_CTX_free(ctx);
    pinset_ossl_free(pin);
    return rc;
}
