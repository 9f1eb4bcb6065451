/*
 * httpd.c - the one libmicrohttpd start-up of the tool's servers (httpd.h):
 * the listen address, the thread model, the limits, and HTTPS from files
 * checked with OpenSSL before GnuTLS loads them.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <serve/httpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <util/read.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common.h"

struct httpd {
    struct MHD_Daemon *d;
    pthread_mutex_t lock; /* over capture and why */
    int capture;          /* 1 while starting: libmicrohttpd's last message is kept in why */
    char why[200];
};

/* ---- the listen address ---- */

int serve_parse_listen(const char *text, void *ss_out, size_t *len_out)
{
    struct sockaddr_storage *ss = ss_out;
    char host[64];
    const char *colon, *port_s;
    unsigned long port;
    char *end;

    memset(ss, 0, sizeof(*ss));
    if (text == NULL) {
        return -1;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host)) {
            return -1;
        }
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_s = close + 2;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || (size_t)(colon - text) >= sizeof(host)) {
            return -1;
        }
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_s = colon + 1;
    }
    errno = 0;
    port = strtoul(port_s, &end, 10);
    if (port_s[0] < '0' || port_s[0] > '9' || *end != '\0' || errno != 0 || port > 65535) {
        return -1;
    }
    if (host[0] == '\0') {
        snprintf(host, sizeof(host), "0.0.0.0");
    }
    struct sockaddr_in *in = (struct sockaddr_in *)ss_out;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss_out;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *len_out = sizeof(*in);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len_out = sizeof(*in6);
        return 0;
    }
    return -1;
}

void httpd_url(char *buf, size_t cap, const char *listen, unsigned int port, int tls)
{
    const char *colon = listen[0] == '[' ? strchr(listen, ']') : NULL;
    int n;

    colon = colon != NULL ? colon + 1 : strrchr(listen, ':');
    n = colon != NULL ? (int)(colon - listen) : 0;
    snprintf(buf, cap, "%s://%.*s:%u", tls ? "https" : "http", n > 0 ? n : 7,
             n > 0 ? listen : "0.0.0.0", port);
}

/* ---- TLS material ---- */

/* OpenSSL's reason for the last failure (its queue is left as it was before the mark). */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    return r != NULL ? r : "no PEM data";
}

static int read_pem(struct pinset__buf *b, const char *path, const char *what, char *err,
                    size_t cap)
{
    pinset_diag d = PINSET_DIAG_INIT;

    if (pinset__read_path(b, path, HTTPD_PEM_MAX, 10000, 0, &d) != PINSET_OK) {
        char msg[400];
        pinset_diag_format(msg, sizeof(msg), &d);
        snprintf(err, cap, "%s (the TLS %s)", msg, what);
        return -1;
    }
    if (b->len == 0 || memchr(b->p, '\0', b->len) != NULL) {
        snprintf(err, cap, "%s: the TLS %s is %s", path, what,
                 b->len == 0 ? "empty" : "not PEM text (a NUL byte)");
        return -1;
    }
    return 0;
}

/* The key file: refused when users other than its owner and group may read or write it. */
static int key_private(const char *path, char *err, size_t cap)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(err, cap, "%s: the TLS key: %s", path, strerror(errno));
        return -1;
    }
    if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        snprintf(err, cap,
                 "%s: the TLS key is open to every user (mode %04o): let only its owner (and "
                 "group) read it: chmod o= %s",
                 path, (unsigned int)(st.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

/* A password callback that refuses: an encrypted key is an error, never a prompt. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* The certificates parse, the key parses and is the first certificate's. */
static int tls_check(const httpd_tls *t, const char *cert_path, const char *key_path, char *err,
                     size_t cap)
{
    BIO *cb = BIO_new_mem_buf(t->cert.p, (int)t->cert.len);
    BIO *kb = BIO_new_mem_buf(t->key.p, (int)t->key.len);
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    int rc = -1;

    ERR_set_mark();
    if (cb == NULL || kb == NULL) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    leaf = PEM_read_bio_X509(cb, NULL, no_password, NULL);
    if (leaf == NULL) {
        snprintf(err, cap, "%s: the TLS certificate: not a PEM certificate: %s", cert_path,
                 ossl_reason());
        goto out;
    }
    if (strstr((const char *)t->key.p, "ENCRYPTED") != NULL) {
        snprintf(err, cap,
                 "%s: the TLS key is encrypted: give it unencrypted (openssl pkey -in KEY -out "
                 "NEW), readable by the server's user only",
                 key_path);
        goto out;
    }
    key = PEM_read_bio_PrivateKey(kb, NULL, no_password, NULL);
    if (key == NULL) {
        snprintf(err, cap, "%s: the TLS key: not a PEM private key: %s", key_path, ossl_reason());
        goto out;
    }
    if (X509_check_private_key(leaf, key) != 1) {
        snprintf(err, cap, "%s: the TLS key is not the key of the certificate in %s", key_path,
                 cert_path);
        goto out;
    }
    rc = 0;
out:
    ERR_pop_to_mark();
    EVP_PKEY_free(key);
    X509_free(leaf);
    BIO_free(kb);
    BIO_free(cb);
    return rc;
}

int httpd_tls_load(httpd_tls *t, const char *cert_path, const char *key_path, char *err, size_t cap)
{
    pinset__buf_init(&t->cert, HTTPD_PEM_MAX, 0);
    pinset__buf_init(&t->key, HTTPD_PEM_MAX, 1);
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, cap,
                 "HTTPS: this libmicrohttpd was built without TLS (GnuTLS); serve plain HTTP "
                 "behind a TLS reverse proxy instead");
        return -1;
    }
    if (read_pem(&t->cert, cert_path, "certificate", err, cap) != 0 ||
        key_private(key_path, err, cap) != 0 || read_pem(&t->key, key_path, "key", err, cap) != 0 ||
        tls_check(t, cert_path, key_path, err, cap) != 0) {
        httpd_tls_free(t);
        return -1;
    }
    return 0;
}

void httpd_tls_free(httpd_tls *t)
{
    pinset__buf_free(&t->cert);
    pinset__buf_free(&t->key);
}

/* ---- the daemon ---- */

/* libmicrohttpd's messages: the last one while starting says why it did not; later ones
 * (a client's failed handshake, a closed connection) are not logged. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    httpd *h = cls;
    size_t n;

    pthread_mutex_lock(&h->lock);
    if (h->capture) {
        vsnprintf(h->why, sizeof(h->why), fmt, ap);
        n = strlen(h->why);
        while (n > 0 && (h->why[n - 1] == '\n' || h->why[n - 1] == '.')) {
            h->why[--n] = '\0';
        }
    }
    pthread_mutex_unlock(&h->lock);
}

int httpd_start(httpd **out, const httpd_config *cfg, char *err, size_t cap)
{
    struct sockaddr_storage ss;
    size_t sslen = 0;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem tls[4] = {{MHD_OPTION_END, 0, NULL}};
    httpd *h;

    *out = NULL;
    if (serve_parse_listen(cfg->listen, &ss, &sslen) != 0) {
        snprintf(err, cap, "listen '%s': not ADDR:PORT or [ADDR6]:PORT",
                 cfg->listen != NULL ? cfg->listen : "");
        return -1;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&h->lock, NULL);
    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (cfg->tls != NULL) {
        flags |= MHD_USE_TLS;
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cfg->tls->cert.p};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, cfg->tls->key.p};
        tls[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                         (void *)(uintptr_t)HTTPD_TLS_PRIORITIES};
        tls[3] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    h->capture = 1;
    /* the logger first: options are applied in order, and a warning about one of them would
     * otherwise go to libmicrohttpd's default logger, standard error. A pool of one thread is
     * the polling thread alone (libmicrohttpd warns about a pool size of 1). */
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, cfg->handler, cfg->handler_cls, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        cfg->threads > 1 ? cfg->threads : 0u, MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
        MHD_OPTION_NOTIFY_COMPLETED, cfg->completed, cfg->completed_cls, MHD_OPTION_ARRAY, tls,
        MHD_OPTION_END);
    pthread_mutex_lock(&h->lock);
    h->capture = 0;
    pthread_mutex_unlock(&h->lock);
    if (cfg->tls != NULL) {
        /* GnuTLS holds its own copy now: ours goes, whether the daemon started or not */
        pinset__buf_free(&cfg->tls->key);
    }
    if (h->d == NULL) {
        if (h->why[0] != '\0') {
            snprintf(err, cap, "cannot serve on %s: %s", cfg->listen, h->why);
        } else {
            snprintf(err, cap, "cannot listen on %s (in use, or not this machine's address)",
                     cfg->listen);
        }
        pthread_mutex_destroy(&h->lock);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

unsigned int httpd_port(const httpd *h)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return i != NULL ? i->port : 0;
}

void httpd_stop(httpd *h)
{
    if (h == NULL) {
        return;
    }
    MHD_stop_daemon(h->d); /* finishes the requests in progress */
    pthread_mutex_destroy(&h->lock);
    free(h);
}
