/*
 * curl_client.c - a pinned HTTPS client with libcurl and libpinset.
 *
 *   curl_client POLICY.json HOST PORT [CAFILE] [CONNECT-ADDRESS]
 *
 * Fetches https://HOST:PORT/ (connecting to CONNECT-ADDRESS instead of
 * resolving HOST, when given), validates the chain against CAFILE (default:
 * curl's store), enforces the pins POLICY.json gives for HOST, prints the
 * verdict and the body. Exit status: 0 fetched and passed, 1 refused,
 * 2 usage, 3 bad policy, 4 other transfer error.
 *
 * The pinset calls are marked "pinset:"; everything else is plain libcurl.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include <pinset/check.h>
#include <pinset/curl.h>
#include <pinset/policy.h>

int main(int argc, char **argv)
{
    pinset_policy *policy = NULL;
    pinset_curl *pc = NULL;
    pinset_diag diag = PINSET_DIAG_INIT;
    struct curl_slist *resolve = NULL;
    char url[512], entry[512], why[512], where[1024];
    CURL *curl = NULL;
    CURLcode res;
    int rc = 4;

    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s POLICY.json HOST PORT [CAFILE] [CONNECT-ADDRESS]\n", argv[0]);
        return 2;
    }
    /* pinset: load the policy and make the libcurl helper */
    if (pinset_policy_load(&policy, argv[1], &diag) != PINSET_OK ||
        pinset_curl_new(&pc, policy, NULL, &diag) != PINSET_OK) {
        /* one line: file, position, JSON path and reason; the file named once */
        (void)pinset_diag_format(where, sizeof(where), &diag);
        fprintf(stderr, "curl_client: %s\n", where);
        pinset_policy_free(policy);
        return 3;
    }
    pinset_policy_free(policy); /* the helper keeps its own reference */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        goto out;
    }
    curl = curl_easy_init();
    if (curl == NULL) {
        goto out;
    }
    snprintf(url, sizeof(url), "https://%s:%s/", argv[2], argv[3]);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (argc > 4) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, argv[4]);
    }
    if (argc > 5) {
        snprintf(entry, sizeof(entry), "%s:%s:%s", argv[2], argv[3], argv[5]);
        resolve = curl_slist_append(NULL, entry);
        curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    /* pinset: install the policy (SSL_CTX callback + pre-request gate) */
    if (pinset_curl_setup(pc, curl, &diag) != PINSET_OK) {
        fprintf(stderr, "curl_client: %s\n", diag.message);
        goto out;
    }
    res = curl_easy_perform(curl);
    /* pinset: the verdict and its explanation */
    if (pinset_result_explain(why, sizeof(why), pinset_curl_result(pc)) == PINSET_OK) {
        fprintf(stderr, "verdict: %s\n", why);
    }
    /* pinset: the gate's answer for the connection used */
    if (res != CURLE_OK || pinset_curl_check(pc) != PINSET_OK) {
        fprintf(stderr, "curl_client: %s: refused or failed: %s\n", argv[2],
                curl_easy_strerror(res));
        rc = res == CURLE_OK || res == CURLE_ABORTED_BY_CALLBACK ||
                     res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CONNECT_ERROR
                 ? 1
                 : 4;
        goto out;
    }
    rc = 0;
out:
    curl_easy_cleanup(curl);
    curl_slist_free_all(resolve);
    pinset_curl_free(pc);
    curl_global_cleanup();
    return rc;
}
