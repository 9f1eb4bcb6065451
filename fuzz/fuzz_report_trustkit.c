/*
 * fuzz_report_trustkit.c - fuzz target for the collector's report parser
 * (src/serve/report.c), seeded with TrustKit pin-failure reports.
 *
 * Target function: report_parse. Properties checked (abort on violation):
 * fuzz_report.h.
 */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdint.h>

#include "fuzz_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_report_one(data, size, REPORT_TRUSTKIT);
    return 0;
}
