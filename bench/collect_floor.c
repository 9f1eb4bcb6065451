/*
 * collect_floor.c DB N - the floor of the collector's ingest benchmark
 * (bench/bench_collect.sh, issue 11): a plain loop of one prepared INSERT
 * per report into the collector's own schema (the file was created by
 * `pinset collect`, so the schema and migrations are the real ones), each
 * in its own transaction as the collector commits each report before its
 * answer, WAL and synchronous=NORMAL as the collector sets them. No HTTP, no
 * JSON, no certificate parsing, no classification, no dedup lookup beyond
 * the UNIQUE index: what SQLite alone costs.
 * Prints: RESULT floor-insert NS_PER_ROW - N -
 */
#define _POSIX_C_SOURCE 200809L

#include "collect_floor.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
    long n;
    int64_t t0, t1;
    unsigned char key[32];
    static const char pins[] = FLOOR_PINS;
    static const char detail[] = FLOOR_DETAIL;

    if ((n = floor_rows(argc, argv, "collect_floor", "DB")) == 0) {
        return 2;
    }
    if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO reports (dedup_key, format, host, port, noted_host, class,"
                           " served_pins, validated_pins, known_pins, client, client_time,"
                           " received, detail, count, first_seen, last_seen) VALUES (?1,"
                           " 'rfc7469', 'rogue.check.test', ?2, 'rogue.check.test',"
                           " 'interception', ?3, ?3, ?4, '127.0.0.0/24', ?5, ?5, ?6, 1, ?5, ?5)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) {
        fprintf(stderr, "collect_floor: %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    t0 = floor_now_ns();
    for (long i = 0; i < n; i++) {
        floor_key(key, i);
        sqlite3_bind_blob(ins, 1, key, sizeof(key), SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, i % 65535 + 1);
        sqlite3_bind_text(ins, 3, pins, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, FLOOR_KNOWN, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 5, (sqlite3_int64)time(NULL));
        sqlite3_bind_text(ins, 6, detail, -1, SQLITE_STATIC);
        if (sqlite3_step(begin) != SQLITE_DONE || sqlite3_step(ins) != SQLITE_DONE ||
            sqlite3_step(commit) != SQLITE_DONE) {
            fprintf(stderr, "collect_floor: insert %ld: %s\n", i, sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(begin);
        sqlite3_reset(ins);
        sqlite3_reset(commit);
    }
    t1 = floor_now_ns();
    printf("RESULT floor-insert %.1f - %ld -\n", (double)(t1 - t0) / (double)n, n);
    sqlite3_finalize(ins);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return 0;
}
