/*
 * connect.c - non-blocking connects: each address of the target in turn
 * (a refused or timed-out attempt moves on to the next one), then the
 * STARTTLS preamble or the TLS handshake.
 */
#define _GNU_SOURCE /* SOCK_NONBLOCK, SOCK_CLOEXEC, MSG_NOSIGNAL */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>

#include "probe/conn.h"

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

probe_status probe__errno_status(int err)
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

void probe__connect_next(struct conn *c)
{
    char ebuf[128];
    const struct sockaddr *sa;
    int fd;

    for (; c->cur < c->naddr; c->cur++) {
        sa = (const struct sockaddr *)(const void *)&c->addr[c->cur];
        format_addr(c->res.address, sizeof(c->res.address), sa);
        fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0) {
            probe__finish(c, PROBE_E_INTERNAL, "internal: cannot open a socket: %s",
                          probe__strerror(errno, ebuf, sizeof(ebuf)));
            return;
        }
        c->fd = fd;
        c->step = STEP_CONNECT;
        if (connect(fd, sa, c->addrlen[c->cur]) == 0 || errno == EINPROGRESS) {
            probe__arm_timer(c, c->e->opts.connect_timeout_ms);
            probe__wait_fd(c, EV_WRITE, on_connected);
            return;
        }
        c->last_errno = errno;
        close(fd);
        c->fd = -1;
    }
    probe__finish(c, probe__errno_status(c->last_errno), "%s: connect to %s: %s",
                  probe_status_name(probe__errno_status(c->last_errno)), c->res.address,
                  probe__strerror(c->last_errno, ebuf, sizeof(ebuf)));
}

void probe__connect_retry(struct conn *c, int err)
{
    c->last_errno = err;
    event_del(&c->ev);
    c->ev_set = 0;
    close(c->fd);
    c->fd = -1;
    c->cur++;
    probe__connect_next(c);
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
        probe__connect_retry(c, soerr);
        return;
    }
    c->res.connect_ms = probe__ms_since(c->t_step);
    if (c->e->opts.starttls != PROBE_STARTTLS_NONE) {
        probe__starttls_begin(c);
        return;
    }
    probe__tls_start(c);
}
