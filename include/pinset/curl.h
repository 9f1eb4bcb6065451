/*
 * pinset/curl.h - full pin policies for libcurl transfers (OpenSSL backend).
 *
 * These functions live in their own library, libpinset-curl, which links
 * libpinset and libcurl: link it with `pkg-config --libs pinset-curl` or
 * CMake's find_package(pinset COMPONENTS curl) and pinset::curl (libpinset
 * itself needs no libcurl). Like openssl.h, this is an optional adapter
 * header: it includes <curl/curl.h> and <pinset/openssl.h>, and the umbrella
 * pinset.h does not include it. It needs libcurl 7.80 or later built with
 * OpenSSL. libpinset-curl uses only libpinset's public API (the observer of
 * openssl.h keeps each connection's result).
 *
 *   pinset_curl *pc;
 *   pinset_curl_new(&pc, policy, NULL, NULL);
 *   pinset_curl_setup(pc, curl, NULL);       // before curl_easy_perform
 *   res = curl_easy_perform(curl);           // CURLE_SSL_CACERT / CURLE_PEER_FAILED_VERIFICATION
 *                                            // or CURLE_ABORTED_BY_CALLBACK on a pin failure
 *   pinset_curl_check(pc) == PINSET_OK       // the last connection passed the gate
 *
 * What setup installs on the easy handle:
 * - CURLOPT_SSL_CTX_FUNCTION/DATA: attaches the policy to each new SSL_CTX
 *   (the cert-verify callback of openssl.h) and sets the URL's host (or IP)
 *   as the name OpenSSL verifies (X509_VERIFY_PARAM_set1_host). curl 7.88
 *   checks the host name with its own code after the handshake and never
 *   calls SSL_set1_host, so without this OpenSSL would know no name and
 *   pinset would have nothing verified to look up. The host comes from the
 *   URL (CURLINFO_EFFECTIVE_URL), also when CURLOPT_RESOLVE or
 *   CURLOPT_CONNECT_TO sends the connection elsewhere.
 * - CURLOPT_PREREQFUNCTION/DATA: the post-handshake gate
 *   (pinset_ossl_check) on every request, before anything is sent; a
 *   refusal aborts the transfer.
 * - CURLOPT_SSL_SESSIONID_CACHE = 0: curl's own session cache would resume
 *   sessions pinset never tagged, which the gate refuses.
 * Do not replace these options after setup.
 * The helper also gives the hook each connection's port
 * (pinset_ossl_set_port_source): the URL's port, or its scheme's default,
 * which reports carry (RFC 7469 section 3, the port of the original request,
 * also when CURLOPT_CONNECT_TO sends the connection elsewhere).
 *
 * Caveats: HTTPS proxies are not pinned (CURLOPT_PROXY_SSL_CTX... is not
 * installed); curl's CURLOPT_SSL_VERIFYHOST = 0 no longer disables the name
 * check, since OpenSSL now checks the URL's host. CURLOPT_PORT, which
 * overrides the URL's port, is not seen: reports then say the URL's.
 */
#ifndef PINSET_CURL_H
#define PINSET_CURL_H

#include <curl/curl.h>

#include <pinset/openssl.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A policy installed on one curl easy handle. Opaque. */
typedef struct pinset_curl pinset_curl;

/**
 * Create the helper for one easy handle.
 *
 * @param out    receives it
 * @param policy the policy (pinset takes a reference)
 * @param opts   optional OpenSSL hook options (reports, test clock); copied
 * @param diag   optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_CRYPTO
 * Ownership: free with pinset_curl_free after the easy handle is cleaned up.
 * Thread-safety: one easy handle, one thread, as curl itself.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_curl_new(pinset_curl **out, pinset_policy *policy,
                                                        const pinset_ossl_opts *opts,
                                                        pinset_diag *diag);

/** Free the helper. NULL is a no-op. Free it after curl_easy_cleanup of its handle. */
PINSET_API void pinset_curl_free(pinset_curl *pc);

/**
 * Install the helper on an easy handle (see the header comment for the options it sets).
 *
 * @return PINSET_OK; PINSET_E_INVALID_ARG; PINSET_E_UNSUPPORTED when libcurl
 *         does not use OpenSSL or refuses an option (too old)
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_curl_setup(pinset_curl *pc, CURL *curl,
                                                          pinset_diag *diag);

/**
 * The gate's answer for the last connection the handle used.
 *
 * @return PINSET_OK when it passed; PINSET_E_NO_MATCH when it was refused
 *         or no connection was checked yet; PINSET_E_INVALID_ARG
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_curl_check(const pinset_curl *pc);

/**
 * The verdict and explanation of the last connection's check.
 * @return borrowed, valid until the next transfer or pinset_curl_free; never NULL for a live helper
 */
PINSET_API const pinset_result *pinset_curl_result(const pinset_curl *pc);

/**
 * The OpenSSL hook state inside the helper (to swap policies with pinset_ossl_set_policy).
 * @return borrowed, valid until pinset_curl_free
 */
PINSET_API pinset_ossl *pinset_curl_ossl(pinset_curl *pc);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_CURL_H */
