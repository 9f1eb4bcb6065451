/*
 * tls_server.c - a loopback TLS server thread for tests (see tls_server.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "tls_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct tls_server {
    SSL_CTX *ctx;
    int fd;
    unsigned int port;
    pthread_t thread;
    atomic_int stop;
    atomic_uint handshakes;
    atomic_uint resumed;
};

static void set_timeouts(int fd)
{
    struct timeval tv = {5, 0};

    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void serve_one(struct tls_server *srv, int fd)
{
    static const char reply[] =
        "HTTP/1.0 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";
    SSL *ssl = SSL_new(srv->ctx);
    char buf[256];

    set_timeouts(fd);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        goto out;
    }
    if (SSL_accept(ssl) != 1) {
        goto out;
    }
    atomic_fetch_add(&srv->handshakes, 1);
    if (SSL_session_reused(ssl)) {
        atomic_fetch_add(&srv->resumed, 1);
    }
    if (SSL_write(ssl, reply, (int)sizeof(reply) - 1) != (int)sizeof(reply) - 1) {
        goto out;
    }
    /* bounded: the receive timeout ends a silent peer */
    for (int i = 0; i < 64 && SSL_read(ssl, buf, sizeof(buf)) > 0; i++) {
    }
    (void)SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
}

static void *run(void *arg)
{
    struct tls_server *srv = arg;

    while (!atomic_load(&srv->stop)) {
        struct pollfd p = {srv->fd, POLLIN, 0};
        int fd;

        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        fd = accept(srv->fd, NULL, NULL);
        if (fd >= 0) {
            serve_one(srv, fd);
        }
    }
    return NULL;
}

static int listen_any(unsigned int *port_out)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    *port_out = ntohs(a.sin_port);
    return fd;
}

tls_server *tls_server_start(const char *chain, const char *key, int version)
{
    struct tls_server *srv = calloc(1, sizeof(*srv));
    static const unsigned char sid[] = "pinset-test";

    if (srv == NULL) {
        return NULL;
    }
    /* a client that hangs up early must not kill the test process */
    signal(SIGPIPE, SIG_IGN);
    srv->fd = -1;
    srv->ctx = SSL_CTX_new(TLS_server_method());
    if (srv->ctx == NULL || SSL_CTX_use_certificate_chain_file(srv->ctx, chain) != 1 ||
        SSL_CTX_use_PrivateKey_file(srv->ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_set_session_id_context(srv->ctx, sid, sizeof(sid) - 1) != 1) {
        fprintf(stderr, "tls_server: cannot load %s / %s\n", chain, key);
        goto fail;
    }
    if (version != 0 && (SSL_CTX_set_min_proto_version(srv->ctx, version) != 1 ||
                         SSL_CTX_set_max_proto_version(srv->ctx, version) != 1)) {
        goto fail;
    }
    srv->fd = listen_any(&srv->port);
    if (srv->fd < 0) {
        fprintf(stderr, "tls_server: cannot listen on 127.0.0.1\n");
        goto fail;
    }
    if (pthread_create(&srv->thread, NULL, run, srv) != 0) {
        goto fail;
    }
    return srv;
fail:
    if (srv->fd >= 0) {
        close(srv->fd);
    }
    SSL_CTX_free(srv->ctx);
    free(srv);
    ERR_clear_error();
    return NULL;
}

unsigned int tls_server_port(const tls_server *srv)
{
    return srv->port;
}

unsigned int tls_server_handshakes(const tls_server *srv)
{
    return atomic_load(&((tls_server *)(uintptr_t)srv)->handshakes);
}

unsigned int tls_server_resumed(const tls_server *srv)
{
    return atomic_load(&((tls_server *)(uintptr_t)srv)->resumed);
}

void tls_server_stop(tls_server *srv)
{
    if (srv == NULL) {
        return;
    }
    atomic_store(&srv->stop, 1);
    pthread_join(srv->thread, NULL);
    close(srv->fd);
    SSL_CTX_free(srv->ctx);
    free(srv);
}

int tls_connect_tcp(unsigned int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    set_timeouts(fd);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
