/*
 * floor.c - the floor for the probe benchmark: a minimal in-process OpenSSL
 * client, THREADS threads each keeping INFLIGHT non-blocking handshakes in
 * flight with poll(), chain and name validation on (SSL_VERIFY_PEER,
 * SSL_set1_host), nothing else: no DNS, no output, no pins. pinset's probe
 * engine is measured against it at the same total concurrency.
 *
 * usage: floor CAFILE PORTSFILE [INFLIGHT per thread, 16] [THREADS, 2]
 * PORTSFILE: one "PORT ..." a line (bench/probe_server's output); every
 * endpoint is 127.0.0.1 and is verified as probe.test.
 * Prints: RESULT floor <seconds> <handshakes ok> <handshakes failed>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_PORTS    100000
#define MAX_INFLIGHT 1024

static SSL_CTX *ctx;
static unsigned short ports[MAX_PORTS];
static size_t nports;
static int inflight = 16, nthreads = 2;

struct job {
    int t;
    size_t ok, bad;
};

struct slot {
    int fd;
    SSL *ssl;
};

static int start(struct slot *s, unsigned short port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0 ||
        (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)) {
        return -1;
    }
    s->ssl = SSL_new(ctx);
    SSL_set_fd(s->ssl, s->fd);
    SSL_set_tlsext_host_name(s->ssl, "probe.test");
    SSL_set1_host(s->ssl, "probe.test");
    SSL_set_connect_state(s->ssl);
    return 0;
}

static void stop(struct slot *s)
{
    SSL_free(s->ssl);
    close(s->fd);
    s->ssl = NULL;
    s->fd = -1;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    struct slot sl[MAX_INFLIGHT];
    struct pollfd pf[MAX_INFLIGHT];
    size_t next = (size_t)j->t, active = 0;

    for (int i = 0; i < inflight; i++) {
        sl[i].fd = -1;
        sl[i].ssl = NULL;
    }
    for (;;) {
        for (int i = 0; i < inflight; i++) {
            while (sl[i].ssl == NULL && next < nports) {
                if (start(&sl[i], ports[next]) == 0) {
                    active++;
                } else {
                    j->bad++;
                    if (sl[i].fd >= 0) {
                        close(sl[i].fd);
                    }
                    sl[i].fd = -1;
                }
                next += (size_t)nthreads;
            }
        }
        if (active == 0) {
            break;
        }
        for (int i = 0; i < inflight; i++) {
            pf[i].fd = sl[i].fd;
            pf[i].events = 0;
            pf[i].revents = 0;
            if (sl[i].ssl == NULL) {
                pf[i].fd = -1;
                continue;
            }
            int r = SSL_do_handshake(sl[i].ssl);
            if (r == 1) {
                j->ok++;
                stop(&sl[i]);
                active--;
                pf[i].fd = -1;
                continue;
            }
            int e = SSL_get_error(sl[i].ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                pf[i].events = POLLIN;
            } else if (e == SSL_ERROR_WANT_WRITE) {
                pf[i].events = POLLOUT;
            } else {
                ERR_clear_error();
                j->bad++;
                stop(&sl[i]);
                active--;
                pf[i].fd = -1;
            }
        }
        if (active > 0) {
            poll(pf, (nfds_t)inflight, 10000);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    FILE *f;
    char line[128];
    pthread_t th[64];
    struct job jobs[64];
    struct timespec t0, t1;
    size_t ok = 0, bad = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: floor CAFILE PORTSFILE [INFLIGHT] [THREADS]\n");
        return 2;
    }
    if (argc > 3) {
        inflight = (int)strtol(argv[3], NULL, 10);
    }
    if (argc > 4) {
        nthreads = (int)strtol(argv[4], NULL, 10);
    }
    if (inflight < 1 || inflight > MAX_INFLIGHT || nthreads < 1 || nthreads > 64) {
        fprintf(stderr, "floor: bad INFLIGHT or THREADS\n");
        return 2;
    }
    f = fopen(argv[2], "r");
    while (f != NULL && nports < MAX_PORTS && fgets(line, sizeof(line), f) != NULL) {
        ports[nports++] = (unsigned short)strtoul(line, NULL, 10);
    }
    if (f != NULL) {
        fclose(f);
    }
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, argv[1], NULL) != 1 || nports == 0) {
        fprintf(stderr, "floor: cannot load %s or no ports\n", argv[1]);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < nthreads; t++) {
        jobs[t].t = t;
        jobs[t].ok = jobs[t].bad = 0;
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    for (int t = 0; t < nthreads; t++) {
        pthread_join(th[t], NULL);
        ok += jobs[t].ok;
        bad += jobs[t].bad;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("RESULT floor %.3f %zu %zu\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ok, bad);
    SSL_CTX_free(ctx);
    return bad == 0 ? 0 : 1;
}
