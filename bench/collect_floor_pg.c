/*
 * collect_floor_pg.c URL N - the floor of the collector's PostgreSQL ingest
 * benchmark (bench/bench_collect_pg.sh, issue 11): a plain loop of one
 * prepared INSERT per report through libpq into the collector's own schema
 * (the database was migrated by `pinset collect`, so the schema is the real
 * one), each its own transaction (autocommit), as the collector commits each
 * report before its answer, on one connection as the collector uses one. No
 * HTTP, no JSON, no certificate parsing, no classification, no hourly count,
 * no dedup beyond the UNIQUE index: what PostgreSQL and the round trip alone
 * cost.
 * Prints: RESULT floor-insert-pg NS_PER_ROW - N -
 */
#define _POSIX_C_SOURCE 200809L

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect_floor.h"

int main(int argc, char **argv)
{
    PGconn *db;
    PGresult *res;
    long n;
    int64_t t0, t1;
    unsigned char key[32];
    char port[16], when[24];
    static const char pins[] = FLOOR_PINS;
    static const char detail[] = FLOOR_DETAIL;
    static const char known[] = FLOOR_KNOWN;
    const char *v[6] = {(const char *)key, port, pins, known, when, detail};
    int len[6] = {(int)sizeof(key), 0, 0, 0, 0, 0}, fmt[6] = {1, 0, 0, 0, 0, 0};

    if ((n = floor_rows(argc, argv, "collect_floor_pg", "URL")) == 0) {
        return 2;
    }
    db = PQconnectdb(argv[1]);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "collect_floor_pg: %s", PQerrorMessage(db));
        return 1;
    }
    res = PQprepare(db, "ins",
                    "INSERT INTO reports (dedup_key, format, host, port, noted_host, class,"
                    " served_pins, validated_pins, known_pins, client, client_time, received,"
                    " detail, count, first_seen, last_seen) VALUES ($1::bytea, 'rfc7469',"
                    " 'rogue.check.test', $2::integer, 'rogue.check.test', 'interception',"
                    " $3::text, $3::text, $4::text, '127.0.0.0/24', $5::bigint, $5::bigint,"
                    " $6::text, 1, $5::bigint, $5::bigint)",
                    6, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "collect_floor_pg: prepare: %s", PQresultErrorMessage(res));
        return 1;
    }
    PQclear(res);
    t0 = floor_now_ns();
    for (long i = 0; i < n; i++) {
        floor_key(key, i);
        snprintf(port, sizeof(port), "%ld", i % 65535 + 1);
        snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
        res = PQexecPrepared(db, "ins", 6, v, len, fmt, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "collect_floor_pg: insert %ld: %s", i, PQresultErrorMessage(res));
            return 1;
        }
        PQclear(res);
    }
    t1 = floor_now_ns();
    printf("RESULT floor-insert-pg %.1f - %ld -\n", (double)(t1 - t0) / (double)n, n);
    PQfinish(db);
    return 0;
}
