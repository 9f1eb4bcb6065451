/*
 * probe_servers.c - loopback servers for the probe engine (see probe_servers.h).
 */
#define _GNU_SOURCE
#include "probe_servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct sconn {
    struct event_base *base;
    struct event *ev;
    int fd;
    srv_kind kind;
    SSL *ssl;
    int phase; /* 0 plain, 1 tls handshake, 2 tls established */
    int responded;
    char buf[2048];
    size_t blen;
};

static SSL_CTX *srv_ctx[5];

static void sconn_free(struct sconn *c)
{
    if (c->ev != NULL) {
        event_free(c->ev);
    }
    SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

static void sconn_cb(evutil_socket_t fd, short what, void *arg);

static void sconn_wait(struct sconn *c, short what)
{
    if (c->ev != NULL) {
        event_free(c->ev);
    }
    c->ev = event_new(c->base, c->fd, what | EV_PERSIST, sconn_cb, c);
    event_add(c->ev, NULL);
}

static void sputs(struct sconn *c, const char *s)
{
    (void)!send(c->fd, s, strlen(s), MSG_NOSIGNAL);
}

static void start_tls_srv(struct sconn *c, int which)
{
    c->ssl = SSL_new(srv_ctx[which]);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_accept_state(c->ssl);
    c->phase = 1;
}

static void tls_io(struct sconn *c)
{
    char tmp[512];
    int r, e;

    for (;;) {
        r = c->phase == 1 ? SSL_do_handshake(c->ssl) : SSL_read(c->ssl, tmp, sizeof(tmp));
        if (r > 0 && c->phase == 1) {
            c->phase = 2;
            continue;
        }
        if (r > 0) {
            /* a request (curl, in the benchmark): one small answer, then close */
            static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                       "Connection: close\r\n\r\nok\n";
            (void)SSL_write(c->ssl, resp, (int)sizeof(resp) - 1);
            (void)SSL_shutdown(c->ssl);
            sconn_free(c);
            return;
        }
        e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ) {
            sconn_wait(c, EV_READ);
            return;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            sconn_wait(c, EV_WRITE);
            return;
        }
        sconn_free(c);
        return;
    }
}

/* One line of a STARTTLS dialogue; returns 1 when TLS starts. */
static int starttls_line(struct sconn *c, const char *l)
{
    switch (c->kind) {
    case SRV_SMTP:
    case SRV_SMTP_NOTLS:
        if (strncmp(l, "EHLO", 4) == 0) {
            sputs(c, "250-fake.test greets you\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
        } else if (strncmp(l, "STARTTLS", 8) == 0 && c->kind == SRV_SMTP) {
            sputs(c, "220 2.0.0 ready to start tls\r\n");
            return 1;
        } else if (strncmp(l, "STARTTLS", 8) == 0) {
            sputs(c, "454 4.7.0 tls not available\r\n");
        } else {
            sputs(c, "500 what\r\n");
        }
        return 0;
    case SRV_IMAP:
        if (strstr(l, " STARTTLS") != NULL) {
            char tag[32];
            size_t n = strcspn(l, " ");
            snprintf(tag, sizeof(tag), "%.*s", (int)(n < 20 ? n : 20), l);
            sputs(c, "* CAPABILITY IMAP4rev1 STARTTLS\r\n");
            sputs(c, tag);
            sputs(c, " OK begin tls now\r\n");
            return 1;
        }
        sputs(c, "* BAD what\r\n");
        return 0;
    case SRV_POP3:
        if (strncmp(l, "STLS", 4) == 0) {
            sputs(c, "+OK begin tls\r\n");
            return 1;
        }
        sputs(c, "-ERR what\r\n");
        return 0;
    case SRV_FTP:
        if (strncmp(l, "AUTH TLS", 8) == 0) {
            sputs(c, "234 AUTH TLS ok\r\n");
            return 1;
        }
        sputs(c, "500 what\r\n");
        return 0;
    default:
        return 0;
    }
}

static void plain_io(struct sconn *c)
{
    ssize_t r = recv(c->fd, c->buf + c->blen, sizeof(c->buf) - 1 - c->blen, 0);
    char *nl;

    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (r <= 0) {
        sconn_free(c);
        return;
    }
    if (c->kind == SRV_EOF) {
        c->blen = 0;
        return;
    }
    if (c->kind == SRV_HTTP || c->kind == SRV_GARBAGE) {
        c->blen = 0; /* drain; answer once, then wait for the client to close */
        if (!c->responded) {
            static const char garbage[] = "\x01\x02\xfe\xff garbage, not tls \x00\x7f";
            if (c->kind == SRV_HTTP) {
                sputs(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n");
            } else {
                (void)!send(c->fd, garbage, sizeof(garbage) - 1, MSG_NOSIGNAL);
            }
            shutdown(c->fd, SHUT_WR);
            c->responded = 1;
        }
        return;
    }
    c->blen += (size_t)r;
    c->buf[c->blen] = '\0';
    if (c->kind == SRV_POSTGRES) {
        static const unsigned char req[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
        if (c->blen >= 8) {
            if (memcmp(c->buf, req, 8) != 0) {
                sconn_free(c);
                return;
            }
            sputs(c, "S");
            start_tls_srv(c, 0);
            tls_io(c);
        }
        return;
    }
    if (c->kind == SRV_XMPP) {
        if (!c->responded && strstr(c->buf, "version='1.0'>") != NULL) {
            sputs(c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                     "xmlns:stream='http://etherx.jabber.org/streams' id='x1' version='1.0'>"
                     "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                     "<required/></starttls></stream:features>");
            c->responded = 1;
            c->blen = 0;
        } else if (c->responded && strstr(c->buf, "<starttls") != NULL) {
            sputs(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
            start_tls_srv(c, 0);
            tls_io(c);
        } else if (c->blen > 1500) {
            sconn_free(c);
        }
        return;
    }
    while ((nl = memchr(c->buf, '\n', c->blen)) != NULL) {
        size_t n = (size_t)(nl - c->buf) + 1;
        int go;
        *nl = '\0';
        go = starttls_line(c, c->buf);
        memmove(c->buf, c->buf + n, c->blen - n);
        c->blen -= n;
        if (go) {
            start_tls_srv(c, 0);
            tls_io(c);
            return;
        }
    }
    if (c->blen >= sizeof(c->buf) - 1) {
        sconn_free(c);
    }
}

static void sconn_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sconn *c = arg;

    (void)fd;
    (void)what;
    if (c->phase == 0) {
        plain_io(c);
    } else {
        tls_io(c);
    }
}

/* The behaviour of each listening socket, by descriptor. */
static srv_kind *srv_kind_table;
static int srv_kind_table_n;

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct event_base *base = arg;
    srv_kind kind = lfd < srv_kind_table_n ? srv_kind_table[lfd] : SRV_TARPIT;
    int fd;

    (void)what;
    for (int burst = 0; burst < 64; burst++) {
        struct sconn *c;
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        if (kind == SRV_TARPIT) {
            continue; /* held open, never read, closed when the child exits */
        }
        if (kind == SRV_RESET) {
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            close(fd);
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->base = base;
        c->fd = fd;
        c->kind = kind;
        switch (kind) {
        case SRV_TLS_EC:
        case SRV_TLS_RSA:
        case SRV_TLS_ROGUE:
        case SRV_TLS_LONG:
        case SRV_TLS_NOCIPHER:
            start_tls_srv(c, (int)kind - (int)SRV_TLS_EC);
            sconn_wait(c, EV_READ);
            continue;
        case SRV_SMTP:
        case SRV_SMTP_NOTLS:
            sputs(c, "220-fake.test ESMTP\r\n220 fake.test ready\r\n");
            break;
        case SRV_EOF:
            shutdown(fd, SHUT_WR); /* then drain (plain_io) until the client closes */
            c->responded = 1;
            break;
        case SRV_IMAP:
            sputs(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] fake ready\r\n");
            break;
        case SRV_POP3:
            sputs(c, "+OK fake pop3 ready\r\n");
            break;
        case SRV_FTP:
            sputs(c, "220-fake ftp\r\n220 ready\r\n");
            break;
        default:
            break;
        }
        sconn_wait(c, EV_READ);
    }
}

/* RFC 1035 section 4.1: answer A for dns-ok.*, NODATA for its AAAA, NXDOMAIN otherwise. */
static void on_dns(evutil_socket_t fd, short what, void *arg)
{
    unsigned char q[512], a[600];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    size_t p = 12, qend, len;
    int ok, qtype;

    (void)what;
    (void)arg;
    if (n < 17) {
        return;
    }
    while (p < (size_t)n && q[p] != 0) {
        p += (size_t)q[p] + 1;
    }
    if (p + 5 > (size_t)n) {
        return;
    }
    qend = p + 5;
    if (q[12] == 4 && strncasecmp((const char *)q + 13, "slow", 4) == 0) {
        return; /* a resolver that never answers */
    }
    qtype = q[p + 1] << 8 | q[p + 2];
    ok = q[12] == 6 && strncasecmp((const char *)q + 13, "dns-ok", 6) == 0; /* evdns mixes case */
    memcpy(a, q, qend);
    a[2] = 0x81 | (q[2] & 0x01); /* response, recursion desired as asked */
    a[3] = ok ? 0x80 : 0x83;     /* recursion available; NOERROR or NXDOMAIN */
    a[4] = 0, a[5] = 1;          /* one question */
    a[6] = 0, a[7] = (ok && qtype == 1) ? 1 : 0;
    memset(a + 8, 0, 4);
    len = qend;
    if (ok && qtype == 1) {
        static const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
        memcpy(a + len, rr, sizeof(rr));
        len += sizeof(rr);
    }
    (void)!sendto(fd, a, len, 0, (struct sockaddr *)&from, fl);
}

static void on_ctl(evutil_socket_t fd, short what, void *arg)
{
    char b[16];

    (void)what;
    if (read(fd, b, sizeof(b)) <= 0) {
        event_base_loopbreak(arg);
    }
}

/* A loopback socket on an ephemeral port: listening for SOCK_STREAM unless `bind_only`. */
static int listen_on(uint16_t *port, int type, int bind_only)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        (type == SOCK_STREAM && !bind_only && listen(fd, 256) != 0) ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static SSL_CTX *srv_ctx_load(const char *dir, const char *chain, const char *key)
{
    char c[1024], k[1024];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    snprintf(c, sizeof(c), "%s/%s", dir, chain);
    snprintf(k, sizeof(k), "%s/%s", dir, key);
    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, c) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, k, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "server: cannot load %s / %s\n", c, k);
        _exit(3);
    }
    return ctx;
}

static void srv_child(const srv_kind *kinds, size_t n, const char *dir, int ctl, int out)
{
    struct event_base *base;
    uint16_t port;
    int fd, maxfd = 0;
    int *fds = calloc(n, sizeof(*fds));

    alarm(SRV_MAX_SECONDS);
    signal(SIGPIPE, SIG_IGN);
    srv_ctx[0] = srv_ctx_load(dir, "chain-ec.pem", "leaf-ec.key.pem");
    srv_ctx[1] = srv_ctx_load(dir, "chain-rsa.pem", "leaf-rsa.key.pem");
    srv_ctx[2] = srv_ctx_load(dir, "rogue-chain.pem", "rogue-leaf.key.pem");
    srv_ctx[3] = srv_ctx_load(dir, "chain-long.pem", "leaf-long.key.pem");
    srv_ctx[4] = srv_ctx_load(dir, "chain-ec.pem", "leaf-ec.key.pem");
    SSL_CTX_set_max_proto_version(srv_ctx[4], TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(srv_ctx[4], "PSK-AES128-GCM-SHA256");
    base = event_base_new();
    for (size_t i = 0; i < n; i++) {
        /* SRV_CLOSED: bound but not listening, so connecting is refused and the
           port stays ours: no other process can take it, and the kernel never
           picks it as a source port (a TCP self-connect) */
        fds[i] = listen_on(&port, SOCK_STREAM, kinds[i] == SRV_CLOSED);
        if (fds[i] < 0) {
            fprintf(stderr, "server: cannot listen: %s\n", strerror(errno));
            _exit(3);
        }
        if (fds[i] > maxfd) {
            maxfd = fds[i];
        }
        if (write(out, &port, sizeof(port)) != (ssize_t)sizeof(port)) {
            _exit(3);
        }
    }
    srv_kind_table = calloc((size_t)maxfd + 1, sizeof(*srv_kind_table));
    srv_kind_table_n = maxfd + 1;
    for (size_t i = 0; i < n; i++) {
        srv_kind_table[fds[i]] = kinds[i];
        if (kinds[i] == SRV_CLOSED) {
            continue;
        }
        event_add(event_new(base, fds[i], EV_READ | EV_PERSIST, on_accept, base), NULL);
    }
    fd = listen_on(&port, SOCK_DGRAM, 0);
    if (fd < 0 || write(out, &port, sizeof(port)) != (ssize_t)sizeof(port)) {
        _exit(3);
    }
    close(out);
    event_add(event_new(base, fd, EV_READ | EV_PERSIST, on_dns, NULL), NULL);
    event_add(event_new(base, ctl, EV_READ | EV_PERSIST, on_ctl, base), NULL);
    event_base_dispatch(base);
    _exit(0);
}

int srv_start(srv *s, const srv_kind *kinds, size_t n, const char *dir)
{
    int ctl[2], out[2];
    size_t got = 0;

    memset(s, 0, sizeof(*s));
    s->ports = calloc(n, sizeof(*s->ports));
    if (s->ports == NULL || pipe(ctl) != 0 || pipe(out) != 0) {
        return -1;
    }
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0) {
        return -1;
    }
    if (s->pid == 0) {
        close(ctl[1]);
        close(out[0]);
        srv_child(kinds, n, dir, ctl[0], out[1]);
    }
    close(ctl[0]);
    close(out[1]);
    s->ctl = ctl[1];
    s->n = n;
    while (got < n + 1) {
        uint16_t port;
        ssize_t r = read(out[0], &port, sizeof(port));
        if (r != (ssize_t)sizeof(port)) {
            close(out[0]);
            return -1;
        }
        if (got < n) {
            s->ports[got] = port;
        } else {
            s->dns_port = port;
        }
        got++;
    }
    close(out[0]);
    return 0;
}

void srv_stop(srv *s)
{
    int status;

    if (s->ctl > 0) {
        close(s->ctl);
        s->ctl = -1;
    }
    if (s->pid > 0) {
        for (int i = 0; i < 50 && waitpid(s->pid, &status, WNOHANG) == 0; i++) {
            usleep(100000);
            if (i == 30) {
                kill(s->pid, SIGKILL);
            }
        }
        s->pid = 0;
    }
    free(s->ports);
    s->ports = NULL;
}
