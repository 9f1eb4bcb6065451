/*
 * probe.c - the concurrent TLS probe engine (see probe.h).
 *
 * One event_base; each in-flight target owns a slot (struct conn) with one
 * socket event and one timer. A target moves through the steps
 * DNS -> CONNECT -> STARTTLS (optional) -> HANDSHAKE; each step arms the
 * timer for min(step timeout, overall deadline). Finishing a target never
 * starts the next one from inside its own callbacks: it activates the
 * engine's refill event, so there is no recursion and no reentrancy.
 */
#define _GNU_SOURCE /* SOCK_NONBLOCK, SOCK_CLOEXEC, MSG_NOSIGNAL */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define DEFAULT_CONCURRENCY 64
#define DEFAULT_TIMEOUT_MS  10000
#define DEFAULT_CONNECT_MS  5000
#define FD_RESERVE          32    /* descriptors kept free for stdio, files, DNS */
#define STARTTLS_BUF        4096  /* one preamble line or XMPP chunk */
#define STARTTLS_MAX_BYTES  65536 /* everything the server may send before TLS */

enum step { STEP_IDLE, STEP_DNS, STEP_CONNECT, STEP_STARTTLS, STEP_HANDSHAKE };

struct conn {
    struct probe_engine *e;
    int in_use;
    enum step step;
    size_t index;
    const probe_target *t;
    probe_result res;
    int fd;
    SSL *ssl;
    struct event ev;
    int ev_set;
    struct event tmo;
    struct evdns_getaddrinfo_request *dnsreq;
    struct sockaddr_storage addr[PROBE_MAX_ATTEMPTS];
    socklen_t addrlen[PROBE_MAX_ATTEMPTS];
    int naddr, cur;
    int last_errno;
    uint64_t t0, t_step, deadline;
    /* STARTTLS */
    int st_state;
    char buf[STARTTLS_BUF];
    size_t blen, total_in;
    /* what the handshake saw */
    long first_verr;
    int first_depth;
    unsigned char hdr[5];
    int got_hdr;
    int alert_desc; /* -1: none received */
};

struct probe_engine {
    struct event_base *base;
    struct evdns_base *dns;
    SSL_CTX *ctx;
    int own_ctx;
    probe_opts opts;
    unsigned int conc;
    struct event refill;
    /* the current run */
    const probe_target *targets;
    size_t n, next, done;
    unsigned int active;
    struct conn *slots;
    unsigned int *free_slots; /* a stack of idle slot numbers */
    unsigned int nfree;
    probe_result_fn cb;
    void *payload;
};

static int conn_ex_index = -1;

static void step_handshake(struct conn *c);
static void connect_next(struct conn *c);
static void start_tls(struct conn *c);
static void starttls_read(struct conn *c);
static void on_starttls_readable(evutil_socket_t fd, short what, void *arg);

/* Monotonic microseconds. */
static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double ms_since(uint64_t t)
{
    return (double)(now_us() - t) / 1000.0;
}

const char *probe_status_name(probe_status s)
{
    switch (s) {
    case PROBE_OK:
        return "ok";
    case PROBE_E_DNS:
        return "dns";
    case PROBE_E_REFUSED:
        return "refused";
    case PROBE_E_RESET:
        return "reset";
    case PROBE_E_CLOSED:
        return "closed";
    case PROBE_E_TIMEOUT:
        return "timeout";
    case PROBE_E_NOT_TLS:
        return "not-tls";
    case PROBE_E_HANDSHAKE:
        return "handshake";
    case PROBE_E_STARTTLS:
        return "starttls";
    case PROBE_E_CONNECT:
        return "connect";
    case PROBE_E_INTERNAL:
        return "internal";
    default:
        return "unknown";
    }
}

static const char *const starttls_names[] = {"none", "smtp", "imap",    "pop3",
                                             "ftp",  "xmpp", "postgres"};

int probe_starttls_parse(const char *s, probe_starttls *out)
{
    for (size_t i = 0; i < sizeof(starttls_names) / sizeof(starttls_names[0]); i++) {
        if (strcmp(s, starttls_names[i]) == 0) {
            *out = (probe_starttls)i;
            return 0;
        }
    }
    return -1;
}

const char *probe_starttls_name(probe_starttls p)
{
    if ((size_t)p >= sizeof(starttls_names) / sizeof(starttls_names[0])) {
        return "unknown";
    }
    return starttls_names[p];
}

/* strerror() in lower case, as every message of the tool ("connection refused"). */
static const char *lc_strerror(int err, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", strerror(err));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && (buf[1] < 'A' || buf[1] > 'Z')) {
        buf[0] = (char)(buf[0] - 'A' + 'a');
    }
    return buf;
}

/* evutil_gai_strerror() in lower case. */
static const char *lc_gai(int err, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", evutil_gai_strerror(err));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && (buf[1] < 'A' || buf[1] > 'Z')) {
        buf[0] = (char)(buf[0] - 'A' + 'a');
    }
    return buf;
}

/* ---- engine ---- */

static unsigned int clamp_concurrency(unsigned int want)
{
    struct rlimit rl;
    rlim_t room;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return want;
    }
    /* Each target holds one socket; keep a reserve for everything else. */
    room = rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE : rl.rlim_cur / 2;
    if (room < 1) {
        room = 1;
    }
    return (rlim_t)want > room ? (unsigned int)room : want;
}

static void refill_cb(evutil_socket_t fd, short what, void *arg);

static int make_ctx(probe_engine *e, char *err, size_t errcap)
{
    const probe_opts *o = &e->opts;
    int ok;

    e->ctx = SSL_CTX_new(TLS_client_method());
    if (e->ctx == NULL) {
        snprintf(err, errcap, "cannot create a tls context");
        return -1;
    }
    e->own_ctx = 1;
    SSL_CTX_set_min_proto_version(e->ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(e->ctx, SSL_SESS_CACHE_OFF);
    if (o->cafile != NULL || o->capath != NULL) {
        ERR_clear_error();
        ok = SSL_CTX_load_verify_locations(e->ctx, o->cafile, o->capath);
        if (ok != 1) {
            unsigned long ec = ERR_peek_last_error();
            const char *why = ERR_reason_error_string(ec);
            snprintf(err, errcap, "cannot load trust anchors from %s: %s",
                     o->cafile != NULL ? o->cafile : o->capath,
                     why != NULL ? why : "no certificate");
            ERR_clear_error();
            return -1;
        }
    } else if (SSL_CTX_set_default_verify_paths(e->ctx) != 1) {
        snprintf(err, errcap, "cannot load the system trust store");
        ERR_clear_error();
        return -1;
    }
    return 0;
}

probe_engine *probe_engine_new(const probe_opts *opts, char *err, size_t errcap)
{
    probe_engine *e;
    probe_opts def = PROBE_OPTS_INIT;

    if (conn_ex_index < 0) {
        conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    /* OpenSSL writes to sockets with write(2): a reset peer must not kill the tool. */
    signal(SIGPIPE, SIG_IGN);
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    e->opts = opts != NULL ? *opts : def;
    if (e->opts.timeout_ms == 0) {
        e->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
    }
    if (e->opts.connect_timeout_ms == 0) {
        e->opts.connect_timeout_ms =
            e->opts.timeout_ms < DEFAULT_CONNECT_MS ? e->opts.timeout_ms : DEFAULT_CONNECT_MS;
    }
    if (e->opts.handshake_timeout_ms == 0) {
        e->opts.handshake_timeout_ms = e->opts.timeout_ms;
    }
    e->conc =
        clamp_concurrency(e->opts.concurrency != 0 ? e->opts.concurrency : DEFAULT_CONCURRENCY);
    e->base = event_base_new();
    if (e->base == NULL || event_assign(&e->refill, e->base, -1, 0, refill_cb, e) != 0) {
        snprintf(err, errcap, "cannot create the event loop");
        goto fail;
    }
    if (e->opts.ctx != NULL) {
        e->ctx = e->opts.ctx;
    } else if (make_ctx(e, err, errcap) != 0) {
        goto fail;
    }
    return e;
fail:
    probe_engine_free(e);
    return NULL;
}

unsigned int probe_engine_concurrency(const probe_engine *e)
{
    return e->conc;
}

void probe_engine_free(probe_engine *e)
{
    if (e == NULL) {
        return;
    }
    if (e->dns != NULL) {
        evdns_base_free(e->dns, 1);
    }
    if (e->own_ctx) {
        SSL_CTX_free(e->ctx);
    }
    if (e->base != NULL) {
        event_base_free(e->base);
    }
    free(e);
}

/* ---- finishing a target ---- */

static void conn_release(struct conn *c)
{
    if (c->ev_set) {
        event_del(&c->ev);
        c->ev_set = 0;
    }
    evtimer_del(&c->tmo);
    if (c->dnsreq != NULL) {
        struct evdns_getaddrinfo_request *r = c->dnsreq;
        c->dnsreq = NULL;
        evdns_getaddrinfo_cancel(r); /* its callback sees EVUTIL_EAI_CANCEL and returns */
    }
    if (c->ssl != NULL) {
        /* an on_ssl hook may keep the SSL (SSL_up_ref): leave no pointer to this slot */
        SSL_set_ex_data(c->ssl, conn_ex_index, NULL);
        SSL_set_msg_callback(c->ssl, NULL);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

static void finish(struct conn *c, probe_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void finish(struct conn *c, probe_status st, const char *fmt, ...)
{
    probe_engine *e = c->e;
    va_list ap;

    conn_release(c);
    c->res.status = st;
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(c->res.error, sizeof(c->res.error), fmt, ap);
        va_end(ap);
    }
    c->res.total_ms = ms_since(c->t0);
    if (e->cb != NULL) {
        e->cb(&c->res, e->payload);
    }
    sk_X509_pop_free(c->res.served, X509_free);
    sk_X509_pop_free(c->res.verified, X509_free);
    c->res.served = NULL;
    c->res.verified = NULL;
    c->in_use = 0;
    c->step = STEP_IDLE;
    e->free_slots[e->nfree++] = (unsigned int)(c - e->slots);
    e->active--;
    e->done++;
    event_active(&e->refill, 0, 0);
}

/* ---- timers and socket waits ---- */

static void on_timeout(evutil_socket_t fd, short what, void *arg);

static void arm_timer(struct conn *c, unsigned int step_ms)
{
    uint64_t now = now_us();
    uint64_t until = now + (uint64_t)step_ms * 1000u;
    struct timeval tv;

    if (until > c->deadline) {
        until = c->deadline;
    }
    if (until < now) {
        until = now; /* the deadline has passed: fire at once, never wrap around */
    }
    c->t_step = now;
    tv.tv_sec = (time_t)((until - now) / 1000000u);
    tv.tv_usec = (suseconds_t)((until - now) % 1000000u);
    /* libevent measures from its cached loop time, which may be a busy iteration old */
    event_base_update_cache_time(c->e->base);
    evtimer_add(&c->tmo, &tv);
}

static void wait_fd(struct conn *c, short what, event_callback_fn fn)
{
    if (c->ev_set) {
        event_del(&c->ev);
    }
    event_assign(&c->ev, c->e->base, c->fd, what, fn, c);
    c->ev_set = 1;
    event_add(&c->ev, NULL);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    unsigned int ms = (unsigned int)ms_since(c->t_step);
    int deadline = now_us() >= c->deadline;

    (void)fd;
    (void)what;
    switch (c->step) {
    case STEP_DNS:
        finish(c, PROBE_E_TIMEOUT, "timeout: no dns answer for %s after %u ms",
               c->t->connect_host != NULL ? c->t->connect_host : c->t->host, ms);
        return;
    case STEP_CONNECT:
        if (!deadline && c->cur + 1 < c->naddr) {
            c->last_errno = ETIMEDOUT;
            event_del(&c->ev);
            c->ev_set = 0;
            close(c->fd);
            c->fd = -1;
            c->cur++;
            connect_next(c);
            return;
        }
        finish(c, PROBE_E_TIMEOUT, "timeout: connect to %s after %u ms", c->res.address, ms);
        return;
    case STEP_STARTTLS:
        finish(c, PROBE_E_TIMEOUT, "timeout: no %s starttls answer from %s after %u ms",
               probe_starttls_name(c->e->opts.starttls), c->res.address, ms);
        return;
    case STEP_HANDSHAKE:
        finish(c, PROBE_E_TIMEOUT, "timeout: tls handshake with %s after %u ms", c->res.address,
               ms);
        return;
    case STEP_IDLE:
    default:
        return;
    }
}

/* ---- addresses ---- */

static void format_addr(char *buf, size_t cap, const struct sockaddr *sa)
{
    char ip[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, cap, "[%s]:%u", ip, (unsigned int)ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(buf, cap, "%s:%u", ip, (unsigned int)ntohs(s4->sin_port));
    }
}

/* Add a numeric address (no brackets) if it fits the family filter; 0 added, 1 skipped, -1 bad. */
static int add_numeric(struct conn *c, const char *ip, uint16_t port)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    int fam = c->e->opts.family;

    if (c->naddr >= PROBE_MAX_ATTEMPTS) {
        return 1;
    }
    memset(&s4, 0, sizeof(s4));
    memset(&s6, 0, sizeof(s6));
    if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1) {
        if (fam == AF_INET6) {
            return 1;
        }
        s4.sin_family = AF_INET;
        s4.sin_port = htons(port);
        memcpy(&c->addr[c->naddr], &s4, sizeof(s4));
        c->addrlen[c->naddr++] = sizeof(s4);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &s6.sin6_addr) == 1) {
        if (fam == AF_INET) {
            return 1;
        }
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons(port);
        memcpy(&c->addr[c->naddr], &s6, sizeof(s6));
        c->addrlen[c->naddr++] = sizeof(s6);
        return 0;
    }
    return -1;
}

static int is_ip_literal(const char *s)
{
    unsigned char tmp[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

static uint16_t dial_port(const probe_target *t)
{
    return t->connect_port != 0 ? t->connect_port : t->port;
}

static const char *dial_host(const probe_target *t)
{
    return t->connect_host != NULL ? t->connect_host : t->host;
}

static void dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    char ebuf[128];
    struct conn *c = arg;
    uint16_t port;

    if (result == EVUTIL_EAI_CANCEL) {
        /* conn_release cancelled us; the slot may already serve another target */
        if (res != NULL) {
            evutil_freeaddrinfo(res);
        }
        return;
    }
    c->dnsreq = NULL;
    c->res.dns_ms = ms_since(c->t_step);
    if (result != 0 || res == NULL) {
        if (res != NULL) {
            evutil_freeaddrinfo(res);
        }
        if (result == 0) {
            finish(c, PROBE_E_DNS, "dns: no address%s for %s",
                   c->e->opts.family != AF_UNSPEC ? " of the requested family" : "",
                   dial_host(c->t));
        } else {
            finish(c, PROBE_E_DNS, "dns: cannot resolve %s: %s", dial_host(c->t),
                   lc_gai(result, ebuf, sizeof(ebuf)));
        }
        return;
    }
    port = dial_port(c->t);
    for (struct evutil_addrinfo *ai = res; ai != NULL && c->naddr < PROBE_MAX_ATTEMPTS;
         ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof(c->addr[0])) {
            continue;
        }
        memcpy(&c->addr[c->naddr], ai->ai_addr, ai->ai_addrlen);
        c->addrlen[c->naddr] = (socklen_t)ai->ai_addrlen;
        if (ai->ai_family == AF_INET6) {
            ((struct sockaddr_in6 *)(void *)&c->addr[c->naddr])->sin6_port = htons(port);
        } else {
            ((struct sockaddr_in *)(void *)&c->addr[c->naddr])->sin_port = htons(port);
        }
        c->naddr++;
    }
    evutil_freeaddrinfo(res);
    if (c->naddr == 0) {
        finish(c, PROBE_E_DNS, "dns: no usable address for %s", dial_host(c->t));
        return;
    }
    connect_next(c);
}

static int ensure_dns(probe_engine *e)
{
    const char *path = e->opts.resolv_conf != NULL ? e->opts.resolv_conf : "/etc/resolv.conf";

    if (e->dns != NULL) {
        return 0;
    }
    e->dns = evdns_base_new(e->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (e->dns == NULL) {
        return -1;
    }
    /* A missing resolv.conf leaves evdns with its default (127.0.0.1) and /etc/hosts. */
    (void)evdns_base_resolv_conf_parse(e->dns, DNS_OPTIONS_ALL, path);
    return 0;
}

static void start_resolve(struct conn *c)
{
    struct evutil_addrinfo hints;
    char port[8];
    struct evdns_getaddrinfo_request *req;

    if (ensure_dns(c->e) != 0) {
        finish(c, PROBE_E_INTERNAL, "internal: cannot start the dns resolver");
        return;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = c->e->opts.family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    snprintf(port, sizeof(port), "%u", (unsigned int)dial_port(c->t));
    c->step = STEP_DNS;
    arm_timer(c, c->e->opts.timeout_ms);
    req = evdns_getaddrinfo(c->e->dns, dial_host(c->t), port, &hints, dns_cb, c);
    /* NULL: the callback has already run (numeric host, /etc/hosts or an error). */
    if (req != NULL) {
        c->dnsreq = req;
    }
}

static void start_target(struct conn *c)
{
    const probe_target *t = c->t;
    uint16_t port = dial_port(t);

    if (t->naddrs > 0 || is_ip_literal(dial_host(t))) {
        size_t n = t->naddrs > 0 ? t->naddrs : 1;
        for (size_t i = 0; i < n && i < PROBE_MAX_ADDRS; i++) {
            const char *ip = t->naddrs > 0 ? t->addrs[i] : dial_host(t);
            if (add_numeric(c, ip, port) < 0) { /* 1 (another family) just skips it */
                finish(c, PROBE_E_DNS, "dns: '%s' is not a numeric address", ip);
                return;
            }
        }
        if (c->naddr == 0) {
            finish(c, PROBE_E_DNS, "dns: no address of the requested family for %s", dial_host(t));
            return;
        }
        connect_next(c);
        return;
    }
    start_resolve(c);
}

/* ---- connect ---- */

static probe_status errno_status(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return PROBE_E_REFUSED;
    case ECONNRESET:
    case EPIPE:
        return PROBE_E_RESET;
    case ETIMEDOUT:
        return PROBE_E_TIMEOUT;
    default:
        return PROBE_E_CONNECT;
    }
}

static void on_connected(evutil_socket_t fd, short what, void *arg);

static void connect_next(struct conn *c)
{
    char ebuf[128];
    const struct sockaddr *sa;
    int fd;

    for (; c->cur < c->naddr; c->cur++) {
        sa = (const struct sockaddr *)(const void *)&c->addr[c->cur];
        format_addr(c->res.address, sizeof(c->res.address), sa);
        fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0) {
            finish(c, PROBE_E_INTERNAL, "internal: cannot open a socket: %s",
                   lc_strerror(errno, ebuf, sizeof(ebuf)));
            return;
        }
        c->fd = fd;
        c->step = STEP_CONNECT;
        if (connect(fd, sa, c->addrlen[c->cur]) == 0 || errno == EINPROGRESS) {
            arm_timer(c, c->e->opts.connect_timeout_ms);
            wait_fd(c, EV_WRITE, on_connected);
            return;
        }
        c->last_errno = errno;
        close(fd);
        c->fd = -1;
    }
    finish(c, errno_status(c->last_errno), "%s: connect to %s: %s",
           probe_status_name(errno_status(c->last_errno)), c->res.address,
           lc_strerror(c->last_errno, ebuf, sizeof(ebuf)));
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    (void)what;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
        soerr = errno;
    }
    if (soerr != 0) {
        c->last_errno = soerr;
        event_del(&c->ev);
        c->ev_set = 0;
        close(c->fd);
        c->fd = -1;
        c->cur++;
        connect_next(c);
        return;
    }
    c->res.connect_ms = ms_since(c->t_step);
    if (c->e->opts.starttls != PROBE_STARTTLS_NONE) {
        c->step = STEP_STARTTLS;
        c->st_state = 0;
        c->blen = 0;
        c->total_in = 0;
        arm_timer(c, c->e->opts.handshake_timeout_ms);
        starttls_read(c);
        return;
    }
    start_tls(c);
}

/* ---- STARTTLS preambles (RFC 3207 smtp, RFC 2595 imap/pop3, RFC 4217 ftp,
 *      RFC 6120 xmpp, PostgreSQL SSLRequest) ---- */

static int send_str(struct conn *c, const void *data, size_t len)
{
    char ebuf[128];
    ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);

    if (w < 0 || (size_t)w != len) {
        int err = w < 0 ? errno : EAGAIN;
        if (errno_status(err) == PROBE_E_RESET) {
            finish(c, PROBE_E_RESET, "reset: %s reset the connection during starttls",
                   c->res.address);
        } else {
            finish(c, PROBE_E_STARTTLS, "starttls: cannot send to %s: %s", c->res.address,
                   lc_strerror(err, ebuf, sizeof(ebuf)));
        }
        return -1;
    }
    return 0;
}

/* Copy a server line into a printable, bounded form for messages. */
static void printable(char *out, size_t cap, const char *s, size_t len)
{
    size_t j = 0;

    for (size_t i = 0; i < len && j + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\r' || ch == '\n') {
            break;
        }
        out[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    out[j] = '\0';
}

/*
 * What one response line means to the protocol in its current state:
 * 0 = wait for more, 1 = the step succeeded, -1 = refused.
 */
static int smtp_ftp_line(const char *l, size_t n, const char *code)
{
    if (n < 3 || memcmp(l, code, 3) != 0) {
        return -1;
    }
    return (n > 3 && l[3] == '-') ? 0 : 1; /* "250-" continues a multi-line reply */
}

static int line_verdict(struct conn *c, const char *l, size_t n)
{
    static const char *const smtp_codes[] = {"220", "250", "220"};
    static const char *const ftp_codes[] = {"220", "234"};

    switch (c->e->opts.starttls) {
    case PROBE_STARTTLS_SMTP:
        return smtp_ftp_line(l, n, smtp_codes[c->st_state]);
    case PROBE_STARTTLS_FTP:
        return smtp_ftp_line(l, n, ftp_codes[c->st_state]);
    case PROBE_STARTTLS_POP3:
        return (n >= 3 && memcmp(l, "+OK", 3) == 0) ? 1 : -1;
    case PROBE_STARTTLS_IMAP:
        if (c->st_state == 0) {
            return (n >= 4 && (memcmp(l, "* OK", 4) == 0)) ? 1 : -1;
        }
        if (n >= 1 && l[0] == '*') {
            return 0; /* untagged data before the tagged answer */
        }
        return (n >= 5 && memcmp(l, "P1 OK", 5) == 0) ? 1 : -1;
    case PROBE_STARTTLS_NONE:
    case PROBE_STARTTLS_XMPP:
    case PROBE_STARTTLS_POSTGRES:
    default:
        return -1;
    }
}

/* Send the command that follows a successful step; returns 1 when TLS starts now. */
static int next_command(struct conn *c)
{
    switch (c->e->opts.starttls) {
    case PROBE_STARTTLS_SMTP:
        if (c->st_state == 0) {
            return send_str(c, "EHLO localhost\r\n", 16) == 0 ? 0 : -1;
        }
        if (c->st_state == 1) {
            return send_str(c, "STARTTLS\r\n", 10) == 0 ? 0 : -1;
        }
        return 1;
    case PROBE_STARTTLS_FTP:
        if (c->st_state == 0) {
            return send_str(c, "AUTH TLS\r\n", 10) == 0 ? 0 : -1;
        }
        return 1;
    case PROBE_STARTTLS_POP3:
        if (c->st_state == 0) {
            return send_str(c, "STLS\r\n", 6) == 0 ? 0 : -1;
        }
        return 1;
    case PROBE_STARTTLS_IMAP:
        if (c->st_state == 0) {
            return send_str(c, "P1 STARTTLS\r\n", 13) == 0 ? 0 : -1;
        }
        return 1;
    case PROBE_STARTTLS_NONE:
    case PROBE_STARTTLS_XMPP:
    case PROBE_STARTTLS_POSTGRES:
    default:
        return 1;
    }
}

/* Handle every complete line in the buffer. */
static void starttls_lines(struct conn *c)
{
    char *nl;
    char shown[96];

    while (c->blen > 0 && (nl = memchr(c->buf, '\n', c->blen)) != NULL) {
        size_t n = (size_t)(nl - c->buf) + 1;
        size_t ln = n - 1;
        int v, r;
        if (ln > 0 && c->buf[ln - 1] == '\r') {
            ln--;
        }
        v = line_verdict(c, c->buf, ln);
        if (v < 0) {
            printable(shown, sizeof(shown), c->buf, ln);
            finish(c, PROBE_E_STARTTLS, "starttls: %s server %s refused: '%s'",
                   probe_starttls_name(c->e->opts.starttls), c->res.address, shown);
            return;
        }
        memmove(c->buf, c->buf + n, c->blen - n);
        c->blen -= n;
        if (v == 0) {
            continue;
        }
        r = next_command(c);
        if (r < 0) {
            return;
        }
        if (r == 1) {
            if (c->blen > 0) {
                finish(c, PROBE_E_STARTTLS, "starttls: %s sent data after its go-ahead",
                       c->res.address);
                return;
            }
            start_tls(c);
            return;
        }
        c->st_state++;
    }
    if (c->blen == sizeof(c->buf)) {
        finish(c, PROBE_E_STARTTLS, "starttls: line from %s longer than %u bytes", c->res.address,
               (unsigned int)sizeof(c->buf));
        return;
    }
    wait_fd(c, EV_READ, on_starttls_readable);
}

/* XMPP (RFC 6120 section 5): features must offer <starttls>, the answer must be <proceed>. */
static void starttls_xmpp(struct conn *c)
{
    static const char req[] = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

    c->buf[c->blen < sizeof(c->buf) ? c->blen : sizeof(c->buf) - 1] = '\0';
    if (c->st_state == 1) {
        if (strstr(c->buf, "<starttls") == NULL || strstr(c->buf, "</stream:features>") == NULL) {
            goto more;
        }
        if (send_str(c, req, sizeof(req) - 1) != 0) {
            return;
        }
        c->blen = 0;
        c->st_state = 2;
        goto more;
    }
    if (strstr(c->buf, "<proceed") != NULL) {
        start_tls(c);
        return;
    }
    if (strstr(c->buf, "<failure") != NULL) {
        finish(c, PROBE_E_STARTTLS, "starttls: xmpp server %s refused starttls", c->res.address);
        return;
    }
more:
    if (c->blen >= sizeof(c->buf) - 1) {
        finish(c, PROBE_E_STARTTLS, "starttls: xmpp features from %s longer than %u bytes",
               c->res.address, (unsigned int)sizeof(c->buf) - 1);
        return;
    }
    wait_fd(c, EV_READ, on_starttls_readable);
}

static void on_starttls_readable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    size_t room = sizeof(c->buf) - c->blen;
    ssize_t r;

    (void)what;
    if (c->e->opts.starttls == PROBE_STARTTLS_POSTGRES) {
        room = 1; /* exactly one byte: 'S' or 'N'; never read into the TLS stream */
    } else if (c->e->opts.starttls == PROBE_STARTTLS_XMPP) {
        room = sizeof(c->buf) - 1 - c->blen;
    }
    r = recv(fd, c->buf + c->blen, room, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (r <= 0) {
        int err = r < 0 ? errno : 0;
        if (err != 0 && errno_status(err) == PROBE_E_RESET) {
            finish(c, PROBE_E_RESET, "reset: %s reset the connection during starttls",
                   c->res.address);
        } else {
            finish(c, PROBE_E_CLOSED, "closed: %s closed the connection during starttls",
                   c->res.address);
        }
        return;
    }
    c->blen += (size_t)r;
    c->total_in += (size_t)r;
    if (c->total_in > STARTTLS_MAX_BYTES) {
        finish(c, PROBE_E_STARTTLS, "starttls: %s sent more than %u bytes before tls",
               c->res.address, (unsigned int)STARTTLS_MAX_BYTES);
        return;
    }
    switch (c->e->opts.starttls) {
    case PROBE_STARTTLS_POSTGRES:
        if (c->buf[0] == 'S') {
            start_tls(c);
        } else {
            finish(c, PROBE_E_STARTTLS, "starttls: postgres server %s does not accept tls",
                   c->res.address);
        }
        return;
    case PROBE_STARTTLS_XMPP:
        starttls_xmpp(c);
        return;
    case PROBE_STARTTLS_SMTP:
    case PROBE_STARTTLS_IMAP:
    case PROBE_STARTTLS_POP3:
    case PROBE_STARTTLS_FTP:
    case PROBE_STARTTLS_NONE:
    default:
        starttls_lines(c);
        return;
    }
}

static void starttls_read(struct conn *c)
{
    /* Protocols where the client speaks first. */
    if (c->e->opts.starttls == PROBE_STARTTLS_POSTGRES) {
        /* SSLRequest: length 8, code 80877103 (PostgreSQL protocol, section 55.2.10) */
        static const unsigned char sslreq[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
        if (send_str(c, sslreq, sizeof(sslreq)) != 0) {
            return;
        }
    } else if (c->e->opts.starttls == PROBE_STARTTLS_XMPP) {
        char hello[512];
        int n = snprintf(hello, sizeof(hello),
                         "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                         "xmlns:stream='http://etherx.jabber.org/streams' to='%s' "
                         "version='1.0'>",
                         c->t->servername != NULL ? c->t->servername : c->t->host);
        if (n < 0 || (size_t)n >= sizeof(hello) || send_str(c, hello, (size_t)n) != 0) {
            if (c->in_use && c->step == STEP_STARTTLS) {
                finish(c, PROBE_E_INTERNAL, "internal: xmpp stream header too long");
            }
            return;
        }
        c->st_state = 1;
    }
    wait_fd(c, EV_READ, on_starttls_readable);
}

/* ---- the TLS handshake ---- */

static struct conn *conn_of(SSL *ssl)
{
    return SSL_get_ex_data(ssl, conn_ex_index);
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct conn *c = ssl != NULL ? conn_of(ssl) : NULL;

    if (!ok && c != NULL && c->first_verr == X509_V_OK) {
        c->first_verr = X509_STORE_CTX_get_error(store);
        c->first_depth = X509_STORE_CTX_get_error_depth(store);
    }
    /* Record and go on: fetch must still see the served chain. */
    return 1;
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    struct conn *c = conn_of(ssl);
    const unsigned char *p = buf;

    (void)version;
    (void)arg;
    if (c == NULL || write_p) {
        return;
    }
    if (content_type == SSL3_RT_HEADER && len >= 5 && !c->got_hdr) {
        memcpy(c->hdr, p, 5);
        c->got_hdr = 1;
    } else if (content_type == SSL3_RT_ALERT && len >= 2 && p[0] == SSL3_AL_FATAL &&
               c->alert_desc < 0) {
        c->alert_desc = p[1];
    }
}

static void on_tls_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    step_handshake(arg);
}

static void start_tls(struct conn *c)
{
    const probe_target *t = c->t;
    const char *name = t->servername != NULL ? t->servername : t->host;
    probe_engine *e = c->e;

    if (c->res.starttls_ms == 0 && e->opts.starttls != PROBE_STARTTLS_NONE) {
        c->res.starttls_ms = ms_since(c->t_step);
    }
    c->step = STEP_HANDSHAKE;
    arm_timer(c, e->opts.handshake_timeout_ms);
    c->ssl = SSL_new(e->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
        SSL_set_ex_data(c->ssl, conn_ex_index, c) != 1) {
        finish(c, PROBE_E_INTERNAL, "internal: cannot set up tls for %s", t->host);
        return;
    }
    if (is_ip_literal(name)) {
        /* RFC 6066 section 3: no SNI for IP literals; verify the IP instead */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) != 1) {
            finish(c, PROBE_E_INTERNAL, "internal: cannot set the verify address %s", name);
            return;
        }
    } else {
        char sni[256]; /* a mutable copy: the SNI macro casts its argument to void * */
        if (snprintf(sni, sizeof(sni), "%s", name) >= (int)sizeof(sni) ||
            SSL_set_tlsext_host_name(c->ssl, sni) != 1 || SSL_set1_host(c->ssl, name) != 1) {
            finish(c, PROBE_E_INTERNAL, "internal: cannot set the server name %s", name);
            return;
        }
    }
    if (e->opts.ctx == NULL) {
        SSL_set_verify(c->ssl, SSL_VERIFY_PEER, verify_cb);
    }
    SSL_set_msg_callback(c->ssl, msg_cb);
    if (e->opts.on_ssl != NULL && e->opts.on_ssl(c->ssl, t, e->opts.on_ssl_payload) != 0) {
        finish(c, PROBE_E_INTERNAL, "internal: tls setup hook refused %s", t->host);
        return;
    }
    SSL_set_connect_state(c->ssl);
    c->t_step = now_us();
    step_handshake(c);
}

static int header_is_tls(const unsigned char h[5])
{
    /* RFC 8446 section 5.1: content type 20..23, legacy version 3.x, length <= 2^14 + 2048 */
    unsigned int len = ((unsigned int)h[3] << 8) | h[4];

    return h[0] >= 20 && h[0] <= 23 && h[1] == 3 && len <= 16384 + 2048;
}

static void fail_not_tls(struct conn *c)
{
    char shown[8];

    if (memcmp(c->hdr, "HTTP/", 5) == 0) {
        finish(c, PROBE_E_NOT_TLS, "not-tls: %s answered in plain http", c->res.address);
        return;
    }
    printable(shown, sizeof(shown), (const char *)c->hdr, 5);
    finish(c, PROBE_E_NOT_TLS,
           "not-tls: %s sent bytes that are not tls (%02x %02x %02x %02x %02x '%s')",
           c->res.address, c->hdr[0], c->hdr[1], c->hdr[2], c->hdr[3], c->hdr[4], shown);
}

/* Keep what a failed handshake saw: a chain a verify hook rejected is still evidence. */
static void keep_failed_chain(struct conn *c)
{
    STACK_OF(X509) *served = SSL_get_peer_cert_chain(c->ssl);
    long vr = SSL_get_verify_result(c->ssl);

    if (served != NULL && c->res.served == NULL) {
        c->res.served = X509_chain_up_ref(served);
    }
    if (c->first_verr == X509_V_OK && vr != X509_V_OK) {
        c->first_verr = vr;
    }
    c->res.verify_error = c->first_verr;
    c->res.verify_depth = c->first_depth;
    snprintf(c->res.verify_error_str, sizeof(c->res.verify_error_str), "%s",
             X509_verify_cert_error_string(c->first_verr));
}

static void fail_handshake(struct conn *c, int sslerr, int sys)
{
    char ebuf[128];
    unsigned long ec = ERR_peek_last_error();
    const char *why;

    keep_failed_chain(c);
    if (c->got_hdr && !header_is_tls(c->hdr)) {
        ERR_clear_error();
        fail_not_tls(c);
        return;
    }
    if (c->alert_desc >= 0) {
        ERR_clear_error();
        finish(c, PROBE_E_HANDSHAKE, "handshake: %s sent alert '%s'", c->res.address,
               SSL_alert_desc_string_long(c->alert_desc));
        return;
    }
    if (ec != 0 && ERR_GET_LIB(ec) == ERR_LIB_SYS) {
        sys = ERR_GET_REASON(ec);
    }
    if (sys != 0 && errno_status(sys) == PROBE_E_RESET) {
        ERR_clear_error();
        finish(c, PROBE_E_RESET, "reset: %s reset the connection during the tls handshake",
               c->res.address);
        return;
    }
    if ((sslerr == SSL_ERROR_SYSCALL && sys == 0) ||
        (ec != 0 && ERR_GET_LIB(ec) == ERR_LIB_SSL &&
         ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        ERR_clear_error();
        finish(c, PROBE_E_CLOSED, "closed: %s closed the connection during the tls handshake",
               c->res.address);
        return;
    }
    why = ec != 0 ? ERR_reason_error_string(ec) : NULL;
    ERR_clear_error();
    if (c->first_verr != X509_V_OK) {
        finish(c, PROBE_E_HANDSHAKE, "handshake: with %s failed: %s: %s", c->res.address,
               why != NULL ? why : "certificate verify failed", c->res.verify_error_str);
        return;
    }
    finish(c, PROBE_E_HANDSHAKE, "handshake: with %s failed: %s", c->res.address,
           why != NULL ? why : (sys != 0 ? lc_strerror(sys, ebuf, sizeof(ebuf)) : "unknown error"));
}

static void handshake_done(struct conn *c)
{
    SSL *ssl = c->ssl;
    STACK_OF(X509) *served = SSL_get_peer_cert_chain(ssl);
    long vr = SSL_get_verify_result(ssl);
    probe_result *r = &c->res;

    r->handshake_ms = ms_since(c->t_step);
    snprintf(r->protocol, sizeof(r->protocol), "%s", SSL_get_version(ssl));
    snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(ssl));
    r->served = served != NULL ? X509_chain_up_ref(served) : NULL;
    if (c->first_verr == X509_V_OK && vr != X509_V_OK) {
        c->first_verr = vr;
    }
    if (served == NULL || sk_X509_num(served) == 0) {
        c->first_verr = vr != X509_V_OK ? vr : X509_V_ERR_UNSPECIFIED;
    }
    r->validated = vr == X509_V_OK && c->first_verr == X509_V_OK;
    r->verify_error = c->first_verr;
    r->verify_depth = r->validated ? -1 : c->first_depth;
    snprintf(r->verify_error_str, sizeof(r->verify_error_str), "%s",
             X509_verify_cert_error_string(c->first_verr));
    if (r->validated) {
        STACK_OF(X509) *v = SSL_get0_verified_chain(ssl);
        r->verified = v != NULL ? X509_chain_up_ref(v) : NULL;
    }
    /* No close_notify: a probe reads nothing after the handshake, and the extra
       record costs both ends a write and a decrypt per host. */
    ERR_clear_error();
    finish(c, PROBE_OK, NULL);
}

static void step_handshake(struct conn *c)
{
    int r, err;

    ERR_clear_error();
    errno = 0;
    r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        handshake_done(c);
        return;
    }
    err = SSL_get_error(c->ssl, r);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        wait_fd(c, EV_READ, on_tls_io);
        return;
    case SSL_ERROR_WANT_WRITE:
        wait_fd(c, EV_WRITE, on_tls_io);
        return;
    default:
        fail_handshake(c, err, err == SSL_ERROR_SYSCALL ? errno : 0);
        return;
    }
}

/* ---- the run ---- */

static void start_slot(probe_engine *e, struct conn *c)
{
    size_t i = e->next++;

    memset(&c->res, 0, sizeof(c->res));
    c->in_use = 1;
    c->index = i;
    c->t = &e->targets[i];
    c->res.target = c->t;
    c->res.index = i;
    c->res.verify_depth = -1;
    c->fd = -1;
    c->ssl = NULL;
    c->naddr = 0;
    c->cur = 0;
    c->last_errno = 0;
    c->first_verr = X509_V_OK;
    c->first_depth = -1;
    c->got_hdr = 0;
    c->alert_desc = -1;
    c->t0 = now_us();
    c->t_step = c->t0;
    c->deadline = c->t0 + (uint64_t)e->opts.timeout_ms * 1000u;
    e->active++;
    start_target(c);
}

static void refill_cb(evutil_socket_t fd, short what, void *arg)
{
    probe_engine *e = arg;

    (void)fd;
    (void)what;
    while (e->nfree > 0 && e->next < e->n) {
        start_slot(e, &e->slots[e->free_slots[--e->nfree]]);
    }
    if (e->done == e->n) {
        event_base_loopbreak(e->base);
    }
}

int probe_engine_run(probe_engine *e, const probe_target *targets, size_t n, probe_result_fn cb,
                     void *payload, char *err, size_t errcap)
{
    unsigned int nslots = e->conc;
    int rc = 0;

    if (n == 0) {
        return 0;
    }
    if ((size_t)nslots > n) {
        nslots = (unsigned int)n;
    }
    e->slots = calloc(nslots, sizeof(*e->slots));
    e->free_slots = calloc(nslots, sizeof(*e->free_slots));
    if (e->slots == NULL || e->free_slots == NULL) {
        free(e->slots);
        free(e->free_slots);
        e->slots = NULL;
        e->free_slots = NULL;
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    e->nfree = 0;
    for (unsigned int s = nslots; s-- > 0;) {
        e->free_slots[e->nfree++] = s;
    }
    for (unsigned int s = 0; s < nslots; s++) {
        e->slots[s].e = e;
        e->slots[s].fd = -1;
        evtimer_assign(&e->slots[s].tmo, e->base, on_timeout, &e->slots[s]);
    }
    e->targets = targets;
    e->n = n;
    e->next = 0;
    e->done = 0;
    e->active = 0;
    e->cb = cb;
    e->payload = payload;
    event_active(&e->refill, 0, 0);
    while (e->done < e->n) {
        if (event_base_dispatch(e->base) != 0 && e->done < e->n) {
            snprintf(err, errcap, "the event loop failed");
            rc = -1;
            break;
        }
        if (e->done < e->n && e->active == 0 && e->next >= e->n) {
            break;
        }
    }
    for (unsigned int s = 0; s < nslots; s++) {
        if (e->slots[s].in_use) {
            finish(&e->slots[s], PROBE_E_INTERNAL, "internal: the run stopped");
        }
        evtimer_del(&e->slots[s].tmo);
    }
    for (; e->next < e->n; e->next++) {
        probe_result r;
        memset(&r, 0, sizeof(r));
        r.target = &e->targets[e->next];
        r.index = e->next;
        r.status = PROBE_E_INTERNAL;
        r.verify_depth = -1;
        snprintf(r.error, sizeof(r.error), "internal: the run stopped before this host");
        if (e->cb != NULL) {
            e->cb(&r, e->payload);
        }
        sk_X509_pop_free(r.served, X509_free);
        sk_X509_pop_free(r.verified, X509_free);
    }
    event_del(&e->refill);
    free(e->slots);
    free(e->free_slots);
    e->slots = NULL;
    e->free_slots = NULL;
    e->cb = NULL;
    return rc;
}
