/*
 * classify.h - what a pin-failure report means, against the current policy
 * (optional) and a trust store. docs/collector.md defines each class; the
 * checks run in this order and the first that holds wins:
 *   clock-skew      the client's clock is off: its date-time is more than
 *                   CLASSIFY_SKEW_MAX seconds ahead of the receive time, or
 *                   lies outside the leaf's validity period while the
 *                   receive time lies inside it
 *   stale-client    the chain holds a key the current policy pins for the
 *                   host, and the report's known pins lack it
 *   interception    the chain does not verify against the trust store and
 *                   its last certificate's key is not pinned
 *   rotation-drift  the chain verifies against the trust store for the
 *                   report's hostname (a valid
 *                   public chain) and none of its keys is pinned
 *   unclassified    anything else
 * "Pinned" means by the policy's rule for the noted host (else the host)
 * when a policy is given and has one, else by the report's known pins.
 */
#ifndef PINSET_SERVE_CLASSIFY_H
#define PINSET_SERVE_CLASSIFY_H

#include <serve/report.h>

#include <openssl/x509_vfy.h>

#include <pinset/pinset.h>

#define CLASSIFY_SKEW_MAX    300         /* seconds a client's clock may run ahead */
#define CLASSIFY_LOCAL_SLACK (14 * 3600) /* a local time written as UTC (report.h date_local) */

typedef enum report_class {
    CLASS_CLOCK_SKEW = 0,
    CLASS_STALE_CLIENT,
    CLASS_INTERCEPTION,
    CLASS_ROTATION_DRIFT,
    CLASS_UNCLASSIFIED,
    CLASS_COUNT
} report_class;

/* "clock-skew", "stale-client", "interception", "rotation-drift", "unclassified". */
const char *classify_name(report_class c);
/* The class of a name, or CLASS_COUNT. */
report_class classify_from_name(const char *name);
/* One sentence: what the operator should do about reports of this class. */
const char *classify_action(report_class c);

/*
 * A cache of chain verifications by the chain's certificates and the
 * 5-minute slot of the verification time (1,024 slots, the newest wins):
 * X509_verify_cert is most of what is left of a report's cost once its
 * certificates are cached. Thread-safe (one mutex).
 */
typedef struct classify_cache classify_cache;
classify_cache *classify_cache_new(void);
void classify_cache_free(classify_cache *c);
/* classify_report with a verification cache (NULL: none); the result is the same. */
report_class classify_report_cached(const report *r, const pinset_policy *policy, X509_STORE *trust,
                                    classify_cache *cache, int64_t now, char *why, size_t cap);

/*
 * Classify r received at `now`. policy and trust may be NULL (no policy: the
 * report's own known pins; no trust store: nothing verifies). why receives
 * one line saying which check held.
 */
report_class classify_report(const report *r, const pinset_policy *policy, X509_STORE *trust,
                             int64_t now, char *why, size_t cap);

#endif /* PINSET_SERVE_CLASSIFY_H */
