/*
 * engine.c - the probe engine's scheduler (see probe.h and conn.h).
 *
 * One event_base; each in-flight target owns a slot (struct conn) with one
 * socket event and one timer. Each step arms the timer for min(step timeout,
 * overall deadline). Finishing a target never starts the next one from
 * inside its own callbacks: it activates the engine's refill event, so there
 * is no recursion and no reentrancy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "probe/conn.h"
#include "probe/probe.h"

#define DEFAULT_CONCURRENCY 64
#define DEFAULT_TIMEOUT_MS  10000
#define DEFAULT_CONNECT_MS  5000
#define FD_RESERVE          32 /* descriptors kept free for stdio, files, DNS */

uint64_t probe__now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double probe__ms_since(uint64_t t)
{
    return (double)(probe__now_us() - t) / 1000.0;
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

const char *probe__lc_copy(char *buf, size_t cap, const char *msg)
{
    snprintf(buf, cap, "%s", msg);
    if (buf[0] >= 'A' && buf[0] <= 'Z' && (buf[1] < 'A' || buf[1] > 'Z')) {
        buf[0] = (char)(buf[0] - 'A' + 'a');
    }
    return buf;
}

/* strerror() in lower case ("connection refused"). */
const char *probe__strerror(int err, char *buf, size_t cap)
{
    return probe__lc_copy(buf, cap, strerror(err));
}

void probe__printable(char *out, size_t cap, const char *s, size_t len)
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

    probe__tls_init();
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
    probe__tls_release(c);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

void probe__finish(struct conn *c, probe_status st, const char *fmt, ...)
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
    c->res.total_ms = probe__ms_since(c->t0);
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

void probe__arm_timer(struct conn *c, unsigned int step_ms)
{
    uint64_t now = probe__now_us();
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

void probe__wait_fd(struct conn *c, short what, event_callback_fn fn)
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
    unsigned int ms = (unsigned int)probe__ms_since(c->t_step);
    int deadline = probe__now_us() >= c->deadline;

    (void)fd;
    (void)what;
    switch (c->step) {
    case STEP_DNS:
        probe__finish(c, PROBE_E_TIMEOUT, "timeout: no dns answer for %s after %u ms",
                      c->t->connect_host != NULL ? c->t->connect_host : c->t->host, ms);
        return;
    case STEP_CONNECT:
        if (!deadline && c->cur + 1 < c->naddr) {
            probe__connect_retry(c, ETIMEDOUT);
            return;
        }
        probe__finish(c, PROBE_E_TIMEOUT, "timeout: connect to %s after %u ms", c->res.address, ms);
        return;
    case STEP_STARTTLS:
        probe__finish(c, PROBE_E_TIMEOUT, "timeout: no %s starttls answer from %s after %u ms",
                      probe_starttls_name(c->e->opts.starttls), c->res.address, ms);
        return;
    case STEP_HANDSHAKE:
        probe__finish(c, PROBE_E_TIMEOUT, "timeout: tls handshake with %s after %u ms",
                      c->res.address, ms);
        return;
    case STEP_IDLE:
    default:
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
    c->t0 = probe__now_us();
    c->t_step = c->t0;
    c->deadline = c->t0 + (uint64_t)e->opts.timeout_ms * 1000u;
    e->active++;
    probe__start_target(c);
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
            probe__finish(&e->slots[s], PROBE_E_INTERNAL, "internal: the run stopped");
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
