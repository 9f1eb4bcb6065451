/*
 * report_receiver.c - a loopback HTTP(S) receiver of POSTed reports on
 * libmicrohttpd (report_receiver.h). Test-only.
 */
#define _POSIX_C_SOURCE 200809L

#include "report_receiver.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BODY_MAX     ((size_t)1 << 20)
#define ACCEPTED_MAX 100000
#define HOLD_MAX_MS  30000u

struct report_receiver {
    struct MHD_Daemon *d;
    char *cert, *key;
    unsigned int port;
    pthread_mutex_t mu;
    pthread_cond_t changed; /* the answer changed, or stopping */
    int status;
    unsigned int delay_ms;
    unsigned long generation; /* bumped by receiver_answer */
    int stopping;
    unsigned int requests, holding;
    char **bodies;
    size_t n;
};

struct body {
    char *p;
    size_t n;
    int too_big;
};

static void deadline(struct timespec *ts, unsigned int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000u;
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait as the answer says (under r->mu); the status to send. */
static int wait_answer(report_receiver *r)
{
    int status = r->status;
    unsigned int delay = r->delay_ms;
    unsigned long gen = r->generation;
    struct timespec ts;

    if (delay == RECEIVER_HOLD) {
        r->holding++;
        deadline(&ts, HOLD_MAX_MS);
        while (!r->stopping && r->generation == gen &&
               pthread_cond_timedwait(&r->changed, &r->mu, &ts) == 0) {
        }
        r->holding--;
        return r->stopping ? 503 : r->status;
    }
    deadline(&ts, delay);
    while (!r->stopping && delay > 0 && pthread_cond_timedwait(&r->changed, &r->mu, &ts) == 0) {
    }
    return status;
}

static enum MHD_Result reply(struct MHD_Connection *c, int status)
{
    static const char text[] = "ok\n";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (resp == NULL) {
        return MHD_NO;
    }
    ret = MHD_queue_response(c, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    report_receiver *r = cls;
    struct body *b = *con_cls;
    int status;

    (void)url, (void)version;
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        *con_cls = b;
        return b != NULL ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        if (!b->too_big && b->n + *upload_size <= BODY_MAX) {
            char *p = realloc(b->p, b->n + *upload_size + 1);

            if (p == NULL) {
                return MHD_NO;
            }
            memcpy(p + b->n, upload, *upload_size);
            b->p = p;
            b->n += *upload_size;
            b->p[b->n] = '\0';
        } else {
            b->too_big = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0 || b->too_big || b->p == NULL) {
        return reply(c, 400);
    }
    pthread_mutex_lock(&r->mu);
    status = wait_answer(r);
    r->requests++;
    if (status >= 200 && status < 300 && r->n < ACCEPTED_MAX) {
        char **bodies = realloc(r->bodies, (r->n + 1) * sizeof(*bodies));

        if (bodies != NULL) {
            r->bodies = bodies;
            r->bodies[r->n++] = b->p;
            b->p = NULL;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return reply(c, status);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct body *b = *con_cls;

    (void)cls, (void)c, (void)toe;
    if (b != NULL) {
        free(b->p);
        free(b);
        *con_cls = NULL;
    }
}

static int listen_on(report_receiver *r, unsigned int port)
{
    struct sockaddr_in sin;
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (r->cert != NULL) {
        flags |= MHD_USE_TLS;
        r->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, r, MHD_OPTION_SOCK_ADDR,
                                &sin, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, r, MHD_OPTION_HTTPS_MEM_KEY,
                                r->key, MHD_OPTION_HTTPS_MEM_CERT, r->cert, MHD_OPTION_END);
    } else {
        r->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, r, MHD_OPTION_SOCK_ADDR,
                                &sin, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, r, MHD_OPTION_END);
    }
    if (r->d == NULL) {
        fprintf(stderr, "report_receiver: cannot listen on 127.0.0.1:%u\n", port);
        return -1;
    }
    info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        MHD_stop_daemon(r->d);
        r->d = NULL;
        return -1;
    }
    r->port = info->port;
    return 0;
}

report_receiver *receiver_start(const char *cert_pem, const char *key_pem)
{
    return receiver_start_at(cert_pem, key_pem, 0);
}

report_receiver *receiver_start_at(const char *cert_pem, const char *key_pem, unsigned int port)
{
    report_receiver *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->changed, NULL);
    r->status = 200;
    if ((cert_pem != NULL && (r->cert = strdup(cert_pem)) == NULL) ||
        (key_pem != NULL && (r->key = strdup(key_pem)) == NULL) || listen_on(r, port) != 0) {
        receiver_stop(r);
        return NULL;
    }
    return r;
}

unsigned int receiver_port(const report_receiver *r)
{
    return r->port;
}

void receiver_answer(report_receiver *r, int status, unsigned int delay_ms)
{
    pthread_mutex_lock(&r->mu);
    r->status = status;
    r->delay_ms = delay_ms;
    r->generation++;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->mu);
}

int receiver_down(report_receiver *r)
{
    if (r->d != NULL) {
        MHD_stop_daemon(r->d);
        r->d = NULL;
    }
    return 0;
}

int receiver_up(report_receiver *r)
{
    return r->d != NULL ? 0 : listen_on(r, r->port);
}

unsigned int receiver_requests(report_receiver *r)
{
    unsigned int n;

    pthread_mutex_lock(&r->mu);
    n = r->requests;
    pthread_mutex_unlock(&r->mu);
    return n;
}

unsigned int receiver_holding(report_receiver *r)
{
    unsigned int n;

    pthread_mutex_lock(&r->mu);
    n = r->holding;
    pthread_mutex_unlock(&r->mu);
    return n;
}

size_t receiver_accepted(report_receiver *r)
{
    size_t n;

    pthread_mutex_lock(&r->mu);
    n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

size_t receiver_count(report_receiver *r, const char *needle)
{
    size_t n = 0;

    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++) {
        n += strstr(r->bodies[i], needle) != NULL;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

char *receiver_body(report_receiver *r, size_t i)
{
    char *s = NULL;

    pthread_mutex_lock(&r->mu);
    if (i < r->n) {
        s = strdup(r->bodies[i]);
    }
    pthread_mutex_unlock(&r->mu);
    return s;
}

void receiver_stop(report_receiver *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->mu);
    receiver_down(r);
    for (size_t i = 0; i < r->n; i++) {
        free(r->bodies[i]);
    }
    free(r->bodies);
    free(r->cert);
    free(r->key);
    pthread_cond_destroy(&r->changed);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void receiver_sleep_ms(unsigned int ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};

    nanosleep(&ts, NULL);
}

int receiver_doc_sink(const char *buf, size_t len, void *payload)
{
    struct receiver_doc *d = payload;
    char *p = realloc(d->p, d->n + len + 1);

    if (p == NULL) {
        return -1;
    }
    memcpy(p + d->n, buf, len);
    d->p = p;
    d->n += len;
    d->p[d->n] = '\0';
    return 0;
}
