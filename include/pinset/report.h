/*
 * pinset/report.h - pin-failure report documents (RFC 7469 section 3).
 *
 * A report is the RFC 7469 section 3 JSON object (date-time, hostname,
 * port, effective-expiration-date, include-subdomains, noted-hostname,
 * served-certificate-chain, validated-certificate-chain, known-pins) plus
 * pinset's own members, all prefixed "pinset-": pinset-verdict,
 * pinset-reason, pinset-mode, pinset-rule, pinset-match,
 * pinset-matched-pin, pinset-known-cert-pins. docs/verdict.md shows one.
 *
 * Building a report never changes a verdict. The OpenSSL hooks hand each
 * report to a caller callback (pinset_report_fn) during the handshake: the
 * callback must not block (queue the document and deliver it elsewhere).
 *
 * Caveats: delivering reports (HTTP POST to report_uris) is not done here.
 */
#ifndef PINSET_REPORT_H
#define PINSET_REPORT_H

#include <pinset/check.h>
#include <pinset/common.h>
#include <pinset/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Receives one report document.
 *
 * @param json    the JSON text, NUL-terminated (the NUL is not counted in len)
 * @param len     its length in bytes
 * @param payload the caller's pointer, passed through unchanged
 * Lifetime: json is valid only during the call; copy it to keep it.
 */
typedef void (*pinset_report_fn)(const char *json, size_t len, void *payload);

/** Current version of struct pinset_report_input. */
#define PINSET_REPORT_INPUT_VERSION 1

/**
 * What a report needs beyond the result. Initialise with PINSET_REPORT_INPUT_INIT.
 * All pointers are borrowed for the duration of the call.
 */
typedef struct pinset_report_input {
    unsigned int version;
    unsigned int port;         /**< the server's port; 0 = unknown (reported as 0) */
    const pinset_cert *served; /**< the chain the server sent, as sent; may be NULL */
    size_t served_count;
    const pinset_cert *validated; /**< the validated chain, leaf first; may be NULL */
    size_t validated_count;
} pinset_report_input;

/** Static initialiser for pinset_report_input. */
#define PINSET_REPORT_INPUT_INIT                         \
    {                                                    \
        PINSET_REPORT_INPUT_VERSION, 0, NULL, 0, NULL, 0 \
    }

/**
 * Whether a result calls for a report: a FAIL or REPORT_ONLY_FAIL verdict
 * under a rule (a failure without a rule has nobody to report to).
 * @return 1 or 0
 */
PINSET_API int pinset_report_wanted(const pinset_result *result);

/**
 * Write the report document for a result.
 *
 * @param result  the verdict and its explanation (its rule must still be alive)
 * @param in      the port and the chains; NULL = none known
 * @param write   the sink; it receives the whole document in one call
 * @param payload passed to the sink
 * @param diag    optional detail
 * Every certificate of both chains is written, however many (a chain longer
 * than PINSET_CHAIN_MAX is reported whole).
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_IO (the sink refused)
 * Ownership: nothing retained.
 * Thread-safety: safe with distinct results.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_report_write(const pinset_result *result,
                                                            const pinset_report_input *in,
                                                            pinset_write_fn write, void *payload,
                                                            pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_REPORT_H */
