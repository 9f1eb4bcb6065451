/*
 * bench.h - helpers shared by the bench programs (header-only, so that
 * every bench program stays one .c file): reading the bundle, splitting its PEM
 * blocks into DER without parsing them, a monotonic clock, the median, and
 * a checksum over all computed pins so that run.sh can check that every
 * row computed the same pins.
 *
 * Every program prints one line per measured row:
 *   RESULT <row> <wall ns/cert> <cpu ns/cert> <certificates> <pin checksum>
 * where wall is the median over the repetitions of CLOCK_MONOTONIC time and
 * cpu the median of CLOCK_PROCESS_CPUTIME_ID time (less disturbed by other
 * load on the machine).
 */
#ifndef PINSET_BENCH_H
#define PINSET_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define BENCH_MAX_CERTS 200000

struct bench_set {
    uint8_t *pem; /* the bundle file */
    size_t pem_len;
    uint8_t **der; /* each certificate's DER */
    size_t *der_len;
    size_t n;
    uint8_t (*pins)[32]; /* one SHA-256 per certificate, filled by the row */
};

static inline _Noreturn void bench_die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

static inline double bench_clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One repetition's wall and CPU time. */
struct bench_run {
    double wall0, cpu0;
};

static inline void bench_start(struct bench_run *r)
{
    r->wall0 = bench_clock_ns(CLOCK_MONOTONIC);
    r->cpu0 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static inline void bench_stop(const struct bench_run *r, double *wall, double *cpu)
{
    *cpu = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - r->cpu0;
    *wall = bench_clock_ns(CLOCK_MONOTONIC) - r->wall0;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void bench_load(struct bench_set *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    BIO *bio;
    long size = -1;

    memset(s, 0, sizeof(*s));
    if (f != NULL && fseek(f, 0, SEEK_END) == 0) {
        size = ftell(f);
    }
    if (size <= 0 || fseek(f, 0, SEEK_SET) != 0) {
        bench_die("cannot read the bundle");
    }
    s->pem = malloc((size_t)size);
    if (s->pem == NULL || fread(s->pem, 1, (size_t)size, f) != (size_t)size) {
        bench_die("cannot read the bundle");
    }
    fclose(f);
    s->pem_len = (size_t)size;
    s->der = calloc(BENCH_MAX_CERTS, sizeof(*s->der));
    s->der_len = calloc(BENCH_MAX_CERTS, sizeof(*s->der_len));
    bio = BIO_new_mem_buf(s->pem, (int)s->pem_len);
    if (s->der == NULL || s->der_len == NULL || bio == NULL) {
        bench_die("out of memory");
    }
    for (;;) {
        char *name = NULL;
        char *header = NULL;
        unsigned char *data = NULL;
        long len = 0;

        if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
            break;
        }
        if (s->n == BENCH_MAX_CERTS) {
            bench_die("too many certificates");
        }
        s->der[s->n] = data;
        s->der_len[s->n] = (size_t)len;
        s->n++;
        OPENSSL_free(name);
        OPENSSL_free(header);
    }
    BIO_free(bio);
    s->pins = calloc(s->n ? s->n : 1, sizeof(*s->pins));
    if (s->n == 0 || s->pins == NULL) {
        bench_die("no certificates in the bundle");
    }
}

/* First 8 bytes (hex) of SHA-256 over every pin in order. */
static inline void bench_checksum(const struct bench_set *s, char out[17])
{
    uint8_t d[32];

    if (!EVP_Digest(s->pins, s->n * 32, d, NULL, EVP_sha256(), NULL)) {
        bench_die("sha-256 failed");
    }
    for (int i = 0; i < 8; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

static inline void bench_report(const struct bench_set *s, const char *row, double *wall_ns,
                                double *cpu_ns, size_t reps)
{
    char sum[17];

    bench_checksum(s, sum);
    printf("RESULT %s %.1f %.1f %zu %s\n", row, bench_median(wall_ns, reps) / (double)s->n,
           bench_median(cpu_ns, reps) / (double)s->n, s->n, sum);
    fflush(stdout);
}

static inline size_t bench_reps(int argc, char **argv, int idx)
{
    long r = argc > idx ? strtol(argv[idx], NULL, 10) : 7;

    return r >= 1 && r <= 101 ? (size_t)r : 7;
}

#endif /* PINSET_BENCH_H */
