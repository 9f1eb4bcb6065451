/*
 * dns.c - a target's addresses: the numeric ones it lists (--resolve, a
 * targets file), a numeric host, or an asynchronous evdns lookup; then the
 * first connect.
 */
#define _GNU_SOURCE /* SOCK_NONBLOCK, SOCK_CLOEXEC, MSG_NOSIGNAL */
#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "probe/conn.h"

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

int probe__is_ip_literal(const char *s)
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
    c->res.dns_ms = probe__ms_since(c->t_step);
    if (result != 0 || res == NULL) {
        if (res != NULL) {
            evutil_freeaddrinfo(res);
        }
        if (result == 0) {
            probe__finish(c, PROBE_E_DNS, "dns: no address%s for %s",
                          c->e->opts.family != AF_UNSPEC ? " of the requested family" : "",
                          dial_host(c->t));
        } else {
            probe__finish(c, PROBE_E_DNS, "dns: cannot resolve %s: %s", dial_host(c->t),
                          probe__lc_copy(ebuf, sizeof(ebuf), evutil_gai_strerror(result)));
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
        probe__finish(c, PROBE_E_DNS, "dns: no usable address for %s", dial_host(c->t));
        return;
    }
    probe__connect_next(c);
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
        probe__finish(c, PROBE_E_INTERNAL, "internal: cannot start the dns resolver");
        return;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = c->e->opts.family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    snprintf(port, sizeof(port), "%u", (unsigned int)dial_port(c->t));
    c->step = STEP_DNS;
    probe__arm_timer(c, c->e->opts.timeout_ms);
    req = evdns_getaddrinfo(c->e->dns, dial_host(c->t), port, &hints, dns_cb, c);
    /* NULL: the callback has already run (numeric host, /etc/hosts or an error). */
    if (req != NULL) {
        c->dnsreq = req;
    }
}

void probe__start_target(struct conn *c)
{
    const probe_target *t = c->t;
    uint16_t port = dial_port(t);

    if (t->naddrs > 0 || probe__is_ip_literal(dial_host(t))) {
        size_t n = t->naddrs > 0 ? t->naddrs : 1;
        for (size_t i = 0; i < n && i < PROBE_MAX_ADDRS; i++) {
            const char *ip = t->naddrs > 0 ? t->addrs[i] : dial_host(t);
            if (add_numeric(c, ip, port) < 0) { /* 1 (another family) just skips it */
                probe__finish(c, PROBE_E_DNS, "dns: '%s' is not a numeric address", ip);
                return;
            }
        }
        if (c->naddr == 0) {
            probe__finish(c, PROBE_E_DNS, "dns: no address of the requested family for %s",
                          dial_host(t));
            return;
        }
        probe__connect_next(c);
        return;
    }
    start_resolve(c);
}
