/*
 * pinset/reporter.h - deliver pin-failure reports to the rules' report_uris.
 *
 * Part of libpinset-curl (link `pkg-config --libs pinset-curl`, CMake
 * pinset::curl). A reporter takes the report documents of the verdict path
 * (report.h) through pinset_reporter_report, which has the signature of the
 * hook's report callback and installs directly:
 *
 *   pinset_reporter *rep;
 *   pinset_reporter_opts ro = PINSET_REPORTER_OPTS_INIT;
 *   ro.state_path = "/var/lib/app/pinset-reports.state";
 *   pinset_reporter_new(&rep, policy, &ro, NULL);
 *   pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
 *   oo.report = pinset_reporter_report;
 *   oo.report_payload = rep;
 *   pinset_ossl_new(&pin, policy, &oo, NULL);     // or pinset_curl_new(&pc, policy, &oo, NULL)
 *   ...
 *   pinset_ossl_free(pin);                        // no more reports after this
 *   pinset_reporter_free(rep);                    // flushes within a deadline, then stops
 *
 * The callback only copies the document into a bounded queue under a mutex
 * and wakes one background thread: it never waits on I/O and never changes a
 * verdict. When the queue is full the oldest report is dropped (counted).
 * The thread, with one reused libcurl easy handle:
 * - deduplicates: a report identical to one sent within the window (the
 *   same hostname, port, noted-hostname, validated-certificate-chain,
 *   known-pins and pinset-verdict; SHA-256 over them) is not sent again.
 *   The keys of sent reports are kept in the state file, written atomically
 *   (temporary file, fsync, rename, fsync of the directory), so a restarted
 *   client does not resend a storm. A state file that cannot be read, is
 *   larger than 1 MiB or is malformed is ignored (and replaced);
 * - appends the report to the JSON-lines file, when one is given: one line
 *   per report, written with O_APPEND in a single write(2), so lines of
 *   several writers never interleave (the file is opened without following
 *   a symbolic link and without blocking, and must be a regular file); and
 *   hands it to the `forward` callback, when one is given (the hook's
 *   callback, moved off the handshake);
 * - POSTs it (Content-Type: application/json) to the report URIs of the
 *   rule the policy gives for its hostname, in order, until one answers
 *   2xx. Each request has a timeout; a failure is retried with exponential
 *   backoff and full jitter, up to a number of attempts and an age;
 * - sends every request through pinset_curl_setup (curl.h) with the
 *   reporter's policy, every rule enforced: a report URI on a host the
 *   policy pins goes only over a connection that host's own rule checked,
 *   and a plain http:// URI to a pinned host is refused. A URI on the host
 *   whose verdict failed is tried last; when the check refuses it, the
 *   report is held (it waits, bounded, and is tried again) or goes to the
 *   next URI: it never goes through an unpinned channel.
 * docs/reports.md explains delivery.
 *
 * Caveats: delivery is at least once: a collector whose 2xx answer is lost
 * (a timeout) receives the report again, and should deduplicate (it can use
 * the same fields). The queue lives in memory: reports not yet delivered
 * when the process ends are lost (pinset_reporter_close says how many).
 * HTTPS proxies are not pinned (as curl.h). Reports from another policy
 * than the reporter's are routed by the reporter's policy: after a policy
 * update, give the reporter the new one too (pinset_reporter_set_policy).
 */
#ifndef PINSET_REPORTER_H
#define PINSET_REPORTER_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/policy.h>
#include <pinset/report.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A report delivery queue and its thread. Opaque. */
typedef struct pinset_reporter pinset_reporter;

/** Current version of struct pinset_reporter_opts. */
#define PINSET_REPORTER_OPTS_VERSION 1

/**
 * Options of a reporter. Initialise with PINSET_REPORTER_OPTS_INIT; a zero
 * number means its default. Strings are copied by pinset_reporter_new.
 */
typedef struct pinset_reporter_opts {
    unsigned int version;
    size_t queue_max;            /**< reports waiting at most, the one in flight included (256) */
    unsigned int timeout_ms;     /**< per request, connection included (10000) */
    unsigned int max_attempts;   /**< attempts per report before it is given up (8) */
    unsigned int backoff_ms;     /**< the first retry's backoff ceiling (1000) */
    unsigned int backoff_max_ms; /**< the largest backoff ceiling (300000) */
    unsigned int max_age_s;      /**< a report older than this is given up, held or not (86400) */
    unsigned int dedup_window_s; /**< identical reports are sent once per window (86400) */
    size_t held_max;             /**< held reports at most; more drops the oldest held (64) */
    unsigned int shutdown_ms;    /**< pinset_reporter_free's flush deadline (5000) */
    const char *state_path;      /**< optional: the deduplication state file */
    const char *jsonl_path;      /**< optional: a JSON-lines file every new report is appended to */
    const char *cafile;          /**< optional: CA file for https URIs (CURLOPT_CAINFO) */
    const char *const *resolve;  /**< optional: CURLOPT_RESOLVE entries "HOST:PORT:ADDRESS" */
    size_t resolve_count;
    int64_t (*clock)(void *payload); /**< optional: wall clock of the window; NULL = time() */
    void *clock_payload;
    /**
     * optional: also hand every new report (after deduplication) to this
     * callback, on the reporter's thread (it may block the reporter, never a
     * handshake)
     */
    pinset_report_fn forward;
    void *forward_payload;
    /**
     * optional: the proxy (CURLOPT_PROXY); NULL = none: the environment's
     * proxy variables are not read. An https report URI is still pinned
     * through a proxy (the TLS session is the report host's own).
     */
    const char *proxy;
} pinset_reporter_opts;

/** Static initialiser for pinset_reporter_opts. */
#define PINSET_REPORTER_OPTS_INIT                                                                 \
    {                                                                                             \
        PINSET_REPORTER_OPTS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, NULL, \
            NULL, NULL, NULL, NULL                                                                \
    }

/** Current version of struct pinset_reporter_stats. */
#define PINSET_REPORTER_STATS_VERSION 1

/** What a reporter did. Counters count since pinset_reporter_new; gauges say "now". */
typedef struct pinset_reporter_stats {
    unsigned int version;  /**< set by pinset_reporter_get_stats */
    uint64_t received;     /**< documents given to pinset_reporter_report */
    uint64_t queued;       /**< gauge: reports waiting, held ones and the one in flight included */
    uint64_t sent;         /**< reports a report URI answered 2xx to */
    uint64_t checked;      /**< of those, sent over a connection a pinned host's rule passed */
    uint64_t dropped;      /**< reports dropped: queue or held bound, after close, unusable */
    uint64_t retried;      /**< times a report was scheduled for another attempt */
    uint64_t deduplicated; /**< reports not sent: identical to one sent or queued in the window */
    uint64_t held;         /**< gauge: reports waiting for a checked connection to a pinned host */
    uint64_t failed;  /**< given up: attempts or age exhausted, every URI refused it, unreadable */
    uint64_t written; /**< lines appended to the JSON-lines file */
    uint64_t undelivered; /**< reports still queued when the thread stopped (close or free) */
} pinset_reporter_stats;

/**
 * Create a reporter and start its thread.
 *
 * @param out    receives it
 * @param policy routes reports (the report URIs of the rule for a report's
 *               hostname) and checks connections to pinned report hosts;
 *               pinset takes a reference
 * @param opts   optional (NULL = defaults); copied
 * @param diag   optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG (bad version or NULL), PINSET_E_NOMEM,
 *         PINSET_E_IO (the JSON-lines file cannot be opened, is a symbolic
 *         link or is not a regular file: a FIFO, a device; the diag's
 *         `input` names it), PINSET_E_UNSUPPORTED
 *         (libcurl without OpenSSL), PINSET_E_INTERNAL (no thread)
 * Ownership: release with pinset_reporter_free.
 * Lifetime: the policy reference and the option strings' copies are kept
 *           until pinset_reporter_free; the thread runs until close or free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_reporter_new(pinset_reporter **out,
                                                            pinset_policy *policy,
                                                            const pinset_reporter_opts *opts,
                                                            pinset_diag *diag);

/**
 * Route and check reports under another policy from now on: the policy of a
 * signed update (update.h) the application has taken, so that reports go to
 * the report URIs and over the pinned channel of the rules in force, not of
 * the policy given to pinset_reporter_new. The reporter's thread adopts it
 * before the next report it handles: a report in flight finishes its round
 * under the old policy; the reports waiting (retried or held) are routed
 * again under the new one, from the first of their new URIs, and held ones
 * are tried at once. The old policy's reference is dropped then.
 *
 * @param rep    the reporter
 * @param policy the new policy; pinset takes a reference
 * @param diag   optional detail
 * @return PINSET_OK; PINSET_E_INVALID_ARG (NULL); PINSET_E_NOMEM (the checked
 *         channel's policy could not be derived: the reporter keeps the one in
 *         force)
 * Ownership: the caller keeps its own reference to policy.
 * Lifetime: the reference is kept until the next pinset_reporter_set_policy
 *           is adopted, or pinset_reporter_free.
 * Thread-safety: safe, also while reports arrive on other threads
 *                (pinset_reporter_report) and are delivered; of calls made at
 *                once on several threads, one wins whole. Not with
 *                pinset_reporter_free.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_reporter_set_policy(pinset_reporter *rep,
                                                                   pinset_policy *policy,
                                                                   pinset_diag *diag);

/**
 * Queue one report document: the hook's report callback (pinset_report_fn).
 * Copies the document, never blocks on I/O, never fails visibly: a
 * document that cannot be queued is counted in `dropped`.
 *
 * @param json    the document (RFC 7469 section 3, as report.h builds it)
 * @param len     its length, at most 1 MiB
 * @param payload the pinset_reporter
 * Ownership: json is copied; nothing of the caller's is kept.
 * Thread-safety: safe, from any number of threads (handshakes in parallel).
 */
PINSET_API void pinset_reporter_report(const char *json, size_t len, void *payload);

/**
 * Wait until every queued report is delivered or given up.
 *
 * @param timeout_ms the deadline
 * @return PINSET_OK when the queue is empty; PINSET_E_IO when reports are
 *         still queued at the deadline (held ones included); PINSET_E_INVALID_ARG
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_reporter_flush(pinset_reporter *rep,
                                                              unsigned int timeout_ms);

/**
 * Flush within the deadline, then stop the thread (a request in flight is
 * aborted) and say what was left. Later reports are dropped. A second call
 * only fills `out`.
 *
 * @param rep        the reporter
 * @param timeout_ms the flush deadline
 * @param out        optional: the final statistics (`undelivered` says what was left)
 * @return PINSET_OK when nothing was left undelivered; PINSET_E_IO otherwise;
 *         PINSET_E_INVALID_ARG
 * Thread-safety: safe; the reporter stays valid until pinset_reporter_free.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_reporter_close(pinset_reporter *rep,
                                                              unsigned int timeout_ms,
                                                              pinset_reporter_stats *out);

/**
 * Close with the options' shutdown_ms deadline (when not closed yet) and free.
 * NULL is a no-op.
 * Lifetime: remove the reporter from every hook first (free the pinset_ossl
 *           or pinset_curl that calls it): no report may arrive during or
 *           after the call.
 * Thread-safety: not with any other call on the same reporter.
 */
PINSET_API void pinset_reporter_free(pinset_reporter *rep);

/**
 * The statistics now.
 *
 * @param out receives them (its version is set)
 * @param rep the reporter
 * Thread-safety: safe.
 */
PINSET_API void pinset_reporter_get_stats(pinset_reporter_stats *out, pinset_reporter *rep);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_REPORTER_H */
