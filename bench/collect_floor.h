/*
 * collect_floor.h - what the two floors of the collector's ingest benchmarks
 * share (collect_floor.c for SQLite, collect_floor_pg.c for PostgreSQL;
 * header-only, so that each stays one program): the argument N, a
 * monotonic clock, the row they insert (the pins and the detail of an
 * interception report of rogue.check.test) and its distinct dedup key.
 */
#ifndef PINSET_BENCH_COLLECT_FLOOR_H
#define PINSET_BENCH_COLLECT_FLOOR_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* known_pins, and served_pins and validated_pins: it and one more key */
#define FLOOR_KNOWN "So1zsw+LhI88PGjsv5fpCUTRj4tnrHtHOgfSMdZVEpk="
#define FLOOR_PINS  FLOOR_KNOWN " nEOkRrQQ2j9EfMqA0Gigpxwg0/58jd8G+DdQlCwcnJ8="
#define FLOOR_DETAIL                                                                          \
    "{\"why\":\"the chain does not verify against the trust store and its root's key is not " \
    "pinned\",\"served\":[{\"subject\":\"CN=check.test\",\"issuer\":\"CN=pinset check rogue " \
    "root\",\"pin\":\"So1zsw+LhI88PGjsv5fpCUTRj4tnrHtHOgfSMdZVEpk=\",\"not-before\":1,"       \
    "\"not-after\":2}],\"validated\":[]}"

/* N of `PROG TARGET N`, or 0 after a usage line on stderr naming prog and target. */
static inline long floor_rows(int argc, char **argv, const char *prog, const char *target)
{
    long n;

    if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
        fprintf(stderr, "usage: %s %s N\n", prog, target);
        return 0;
    }
    return n;
}

static inline int64_t floor_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The dedup key of row i: distinct per row, never one the collector computes. */
static inline void floor_key(unsigned char key[32], long i)
{
    memset(key, 0, 32);
    memcpy(key, &i, sizeof(i));
    key[31] = 0xf1; /* never a collector's key */
}

#endif /* PINSET_BENCH_COLLECT_FLOOR_H */
