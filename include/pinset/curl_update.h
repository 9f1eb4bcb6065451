/*
 * pinset/curl_update.h - fetching signed policy updates over HTTP(S) with
 * libcurl, then applying them with the updater (update.h). This is part of
 * libpinset-curl (link `pkg-config --libs pinset-curl`, or CMake's
 * pinset::curl); libpinset itself needs no libcurl. Unlike curl.h it does
 * not include <curl/curl.h>: the transfer is wholly inside the library.
 *
 *   pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;
 *   err = pinset_curl_update_apply(&u, &status, "https://updates.example/current.dsse",
 *                                  state_dir, roots, 1, &o, &diag);
 *
 * The signature, not the channel, authenticates the document: the
 * transfer uses libcurl's ordinary TLS verification (o.cafile, or libcurl's
 * default trust store) and is not pinned, so that a client whose pins went
 * stale can still fetch the policy that fixes them. A document from any
 * mirror or plain HTTP is as good as one from the origin; the updater
 * refuses anything unsigned, older, equivocating or out of scope.
 *
 * What the transfer enforces (docs/update-protocol.md "Fetching"):
 * - a size cap while receiving: the Content-Length is refused when over it,
 *   and the body is cut off as soon as it grows over it (chunked or
 *   close-delimited); no content decoding is asked for, so no compressed
 *   body can expand;
 * - a connect timeout and a timeout of the whole transfer;
 * - http and https only; redirects refused unless max_redirects is set,
 *   and then at most that many, to https only when the URL was https;
 * - a 200 status; anything else is refused.
 *
 * pinset_curl_update_apply_index follows an index.json (pinset publish)
 * instead of a document's URL: see "following an index" below.
 *
 * Caveats: proxies from the environment (http_proxy...) are used as
 * libcurl uses them; no HTTP caching (If-None-Match) is done: each call
 * fetches the whole document.
 */
#ifndef PINSET_CURL_UPDATE_H
#define PINSET_CURL_UPDATE_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/update.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Current version of struct pinset_curl_update_options. */
#define PINSET_CURL_UPDATE_OPTIONS_VERSION 1
/** The default timeout of a whole transfer, in milliseconds (30 s). */
#define PINSET_CURL_UPDATE_TIMEOUT_MS 30000L
/** The default connect timeout, in milliseconds (10 s). */
#define PINSET_CURL_UPDATE_CONNECT_TIMEOUT_MS 10000L
/** The most redirects max_redirects may allow. */
#define PINSET_CURL_UPDATE_MAX_REDIRECTS 5

/**
 * How to fetch, and what the updater requires. Initialise with
 * PINSET_CURL_UPDATE_OPTIONS_INIT.
 *
 * Ownership: caller-allocated; strings borrowed for the call.
 */
typedef struct pinset_curl_update_options {
    unsigned int version;
    /** The most octets accepted; 0 or over PINSET_UPDATE_MAX_SIZE: PINSET_UPDATE_MAX_SIZE. */
    size_t max_size;
    /** Timeout of the whole transfer in milliseconds; 0: PINSET_CURL_UPDATE_TIMEOUT_MS. */
    long timeout_ms;
    /** Connect timeout in milliseconds; 0: PINSET_CURL_UPDATE_CONNECT_TIMEOUT_MS. */
    long connect_timeout_ms;
    /** Redirects followed: 0 (default) refuses any; at most PINSET_CURL_UPDATE_MAX_REDIRECTS. */
    long max_redirects;
    /** A PEM CA bundle that verifies the server (NULL: libcurl's default). */
    const char *cafile;
    /** Signatures by distinct keys required (see pinset_update_verify_threshold); 0 or 1: one. */
    unsigned int threshold;
    /** Seconds since the epoch to judge validity at; 0 = the current time. */
    int64_t now;
} pinset_curl_update_options;

/** Static initialiser for struct pinset_curl_update_options. */
#define PINSET_CURL_UPDATE_OPTIONS_INIT                            \
    {                                                              \
        PINSET_CURL_UPDATE_OPTIONS_VERSION, 0, 0, 0, 0, NULL, 0, 0 \
    }

/**
 * Fetch a document from url into the sink, with the caps of the options
 * (only max_size, the timeouts, max_redirects and cafile are used). The
 * sink may have received part of a body when the call fails.
 *
 * @param url     http:// or https:// URL (borrowed)
 * @param opts    options (NULL: the defaults)
 * @param write   the sink for the body
 * @param payload passed to the sink
 * @param diag    optional detail: the reason ("HTTP status 404", "redirect
 *                refused", "larger than N octets", libcurl's error)
 * @return PINSET_OK; PINSET_E_LIMIT (over max_size); PINSET_E_IO (the
 *         transfer failed: connection, TLS, timeout, a status other than 200,
 *         a refused redirect, the sink refused); PINSET_E_UNSUPPORTED (not an
 *         http or https URL); PINSET_E_INVALID_ARG; PINSET_E_NOMEM
 * Ownership: nothing retained.
 * Thread-safety: safe (one libcurl easy handle per call; libcurl must have
 * been initialised with curl_global_init by the application, or is on first use).
 */
PINSET_API PINSET_MUST_CHECK pinset_err
pinset_curl_update_fetch(const char *url, const pinset_curl_update_options *opts,
                         pinset_write_fn write, void *payload, pinset_diag *diag);

/**
 * Fetch a document from url (pinset_curl_update_fetch) and apply it to the
 * state directory (pinset_updater_apply_threshold with opts->threshold and
 * opts->now). A failed transfer leaves the state directory untouched and
 * sets *status_out to PINSET_UPDATER_INVALID.
 *
 * @param update_out receives the applied (or unchanged) update; NULL on refusal
 * @param status_out what happened (optional)
 * @param url        the document's URL
 * @param state_dir  the updater's state directory
 * @param roots      the root keys (borrowed), nroots of them
 * @param nroots     number of root keys
 * @param opts       options (NULL: the defaults)
 * @param diag       optional detail
 * @return the codes of pinset_curl_update_fetch and of pinset_updater_apply
 * Ownership: release *update_out with pinset_update_free.
 * Thread-safety: safe; calls on one state directory are serialised by the updater's lock.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_curl_update_apply(
    pinset_update **update_out, pinset_updater_status *status_out, const char *url,
    const char *state_dir, const struct evp_pkey_st *const *roots, size_t nroots,
    const pinset_curl_update_options *opts, pinset_diag *diag);

/*
 * ---- following an index: index.json, as `pinset publish` writes it ----
 *
 * {"serial": N, "document": "updates/N.dsse", "sha256": "<64 hex>",
 *  "issued_at": "<RFC 3339>", "expires_at": "<RFC 3339>"}
 *
 * The index is a hint for fetching, never trusted for security: it is not
 * signed, and whatever it says, the document it names goes through the
 * updater (signature, threshold, delegations, rollback, equivocation,
 * expiry). It only decides whether a fetch is worth making (its serial) and
 * which document to fetch (its path, relative to the index's URL), and binds
 * the fetched bytes to what the publisher indexed (its SHA-256), so that a
 * mirror serving a stale or mixed-up tree is refused before the updater.
 */

/** The largest index.json accepted, in octets (64 KiB). */
#define PINSET_CURL_UPDATE_INDEX_MAX_SIZE ((size_t)64 * 1024)
/** The longest document path an index may name, in octets. */
#define PINSET_CURL_UPDATE_INDEX_PATH_MAX 1024

/** An index.json, as pinset_curl_update_index_parse read it. */
typedef struct pinset_curl_update_index {
    uint64_t serial; /**< the serial of the document it names (at least 1) */
    /** the document's path relative to the index (letters, digits, "-._~" and "/") */
    char document[PINSET_CURL_UPDATE_INDEX_PATH_MAX + 1];
    uint8_t sha256[32]; /**< the SHA-256 of the document's bytes */
    int64_t issued_at;  /**< issued_at, seconds since the epoch (informative) */
    int64_t expires_at; /**< expires_at, seconds since the epoch (informative) */
} pinset_curl_update_index;

/**
 * Parse an index.json strictly: a JSON object (duplicate keys refused) with
 * exactly the members serial (an integer of at least 1), document (a
 * relative path: not empty, not absolute, no scheme, query or fragment, no
 * "..", no empty segment, only letters, digits, "-._~" and "/"), sha256 (64
 * hex digits), issued_at and expires_at (RFC 3339 strings, expires_at after
 * issued_at). Any other member, or a member of another type, is refused.
 *
 * @param out  receives the index (zeroed on failure)
 * @param buf  the bytes of index.json (borrowed), len of them (at most
 *             PINSET_CURL_UPDATE_INDEX_MAX_SIZE)
 * @param len  number of bytes
 * @param diag optional detail: the member in `path` ("document") and the
 *             reason; a JSON syntax error with its line and column
 * @return PINSET_OK; PINSET_E_PARSE; PINSET_E_LIMIT (over the size cap);
 *         PINSET_E_INVALID_ARG
 * Ownership: nothing retained.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_curl_update_index_parse(
    pinset_curl_update_index *out, const uint8_t *buf, size_t len, pinset_diag *diag);

/**
 * Follow an index: load the applied document from the state directory
 * (pinset_updater_load_threshold), fetch index_url (at most
 * PINSET_CURL_UPDATE_INDEX_MAX_SIZE octets, with the timeouts, redirect rule
 * and cafile of the options) and parse it (pinset_curl_update_index_parse).
 * When the index's serial is not above the applied document's, stop there:
 * PINSET_OK with *status_out PINSET_UPDATER_UP_TO_DATE and *update_out the
 * applied document (NULL when none), nothing else fetched, the state not
 * touched. Otherwise resolve the index's document path against index_url
 * as given (libcurl's URL API, RFC 3986 §5; not against the URL a followed
 * redirect led to), fetch it (pinset_curl_update_fetch),
 * refuse it unless its SHA-256 is the index's, and apply it
 * (pinset_updater_apply_threshold with opts->threshold and opts->now), which
 * makes every check the document needs: the index is never trusted, and an
 * index that names an older document than the applied one with a higher
 * serial gets a rollback refusal from the updater.
 *
 * Any failure leaves the state directory untouched. *status_out is then
 * PINSET_UPDATER_STATE_ERROR when loading the applied document failed, the
 * updater's status when it refused, else PINSET_UPDATER_INVALID.
 *
 * @param update_out receives the applied (unchanged, or up-to-date) update; NULL on refusal
 * @param status_out what happened (optional)
 * @param index_out  receives the index when it was read (optional; zeroed otherwise)
 * @param index_url  the index's http:// or https:// URL
 * @param state_dir  the updater's state directory
 * @param roots      the root keys (borrowed), nroots of them
 * @param nroots     number of root keys
 * @param opts       options (NULL: the defaults); max_size caps the document
 * @param diag       optional detail; its path names the index member at fault
 *                   ("sha256", "document" for the document's transfer)
 * @return PINSET_OK; the codes of pinset_updater_load, of
 *         pinset_curl_update_fetch, of pinset_curl_update_index_parse and of
 *         pinset_updater_apply; PINSET_E_NO_MATCH (the document's SHA-256 is
 *         not the index's)
 * Ownership: release *update_out with pinset_update_free.
 * Thread-safety: safe; calls on one state directory are serialised by the
 * updater's lock (between the load and the apply another caller may apply a
 * document: the apply judges against the state as it is then).
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_curl_update_apply_index(
    pinset_update **update_out, pinset_updater_status *status_out,
    pinset_curl_update_index *index_out, const char *index_url, const char *state_dir,
    const struct evp_pkey_st *const *roots, size_t nroots, const pinset_curl_update_options *opts,
    pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_CURL_UPDATE_H */
