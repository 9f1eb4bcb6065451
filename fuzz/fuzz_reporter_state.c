/*
 * fuzz_reporter_state.c - fuzz target for the reporter's state file
 * (libpinset-curl, reporter.h: the deduplication keys kept across restarts).
 *
 * Target functions: pinset__dedup_parse (src/lib/adapters/curl_report_state.c),
 * which pinset__dedup_load runs on the file's bytes after its bounded read.
 * Properties checked (abort on violation): a refused file leaves no key; an
 * accepted one holds at most REPORT_DEDUP_MAX keys, each sent, distinct, and
 * within the window at the given time (nothing from the future beyond the
 * allowed skew, which would silence a report past the window).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/curl_report_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW    ((int64_t)1700000000)
#define WINDOW ((int64_t)86400)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct report_dedup d;
    int rc;

    if (pinset__dedup_init(&d, WINDOW) != 0) {
        return 0;
    }
    rc = pinset__dedup_parse(&d, (const char *)data, size, NOW);
    if (rc != 0 && d.n != 0) {
        abort();
    }
    if (d.n > REPORT_DEDUP_MAX) {
        abort();
    }
    for (size_t i = 0; i < d.n; i++) {
        if (!d.e[i].sent || d.e[i].at <= NOW - WINDOW || d.e[i].at > NOW + REPORT_STATE_SKEW) {
            abort();
        }
        for (size_t j = 0; j < i; j++) {
            if (memcmp(d.e[i].key, d.e[j].key, 32) == 0) {
                abort();
            }
        }
    }
    pinset__dedup_free(&d);
    return 0;
}
