/*
 * reporting_client.c - a pinned HTTPS client that reports pin failures.
 *
 *   reporting_client POLICY.json HOST PORT [CAFILE] [CONNECT-ADDRESS] [STATE-FILE]
 *
 * As curl_client.c (fetch https://HOST:PORT/, enforce the pins POLICY.json
 * gives for HOST), plus a reporter: every pin failure (FAIL, or
 * REPORT_ONLY_FAIL under a report-mode rule) is POSTed to the report_uris
 * of its rule from a background thread, deduplicated across runs through
 * STATE-FILE when given. Before exiting it waits up to 10 s for the reports
 * and prints what happened to them. Exit status: 0 fetched and passed,
 * 1 refused, 2 usage, 3 bad policy, 4 other transfer error; a report that
 * could not be delivered does not change it.
 *
 * The pinset calls are marked "pinset:"; everything else is plain libcurl.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include <pinset/check.h>
#include <pinset/curl.h>
#include <pinset/policy.h>
#include <pinset/reporter.h>

static size_t body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)userdata;
    return fwrite(ptr, size, nmemb, stdout);
}

int main(int argc, char **argv)
{
    pinset_policy *policy = NULL;
    pinset_reporter *rep = NULL;
    pinset_reporter_opts ro = PINSET_REPORTER_OPTS_INIT;
    pinset_reporter_stats st;
    pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
    pinset_curl *pc = NULL;
    pinset_diag diag = PINSET_DIAG_INIT;
    struct curl_slist *resolve = NULL;
    char url[512], entry[512], why[512], where[1024];
    CURL *curl = NULL;
    CURLcode res;
    pinset_err err;
    int rc = 4;

    if (argc < 4 || argc > 7) {
        fprintf(stderr, "usage: %s POLICY.json HOST PORT [CAFILE] [CONNECT-ADDRESS] [STATE-FILE]\n",
                argv[0]);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return 4;
    }
    /* pinset: the policy, the reporter, and the curl helper that hands it its reports */
    ro.cafile = argc > 4 ? argv[4] : NULL; /* for https report URIs */
    ro.state_path = argc > 6 ? argv[6] : NULL;
    err = pinset_policy_load(&policy, argv[1], &diag);
    if (err == PINSET_OK) {
        err = pinset_reporter_new(&rep, policy, &ro, &diag);
    }
    if (err == PINSET_OK) {
        oo.report = pinset_reporter_report; /* the hook's report callback, as is */
        oo.report_payload = rep;
        err = pinset_curl_new(&pc, policy, &oo, &diag);
    }
    if (err != PINSET_OK) {
        (void)pinset_diag_format(where, sizeof(where), &diag);
        fprintf(stderr, "reporting_client: %s\n", where);
        pinset_reporter_free(rep);
        pinset_policy_free(policy);
        curl_global_cleanup();
        return 3;
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
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body);
    /* pinset: install the policy (SSL_CTX callback + pre-request gate) */
    if (pinset_curl_setup(pc, curl, &diag) != PINSET_OK) {
        fprintf(stderr, "reporting_client: %s\n", diag.message);
        goto out;
    }
    res = curl_easy_perform(curl);
    if (pinset_result_explain(why, sizeof(why), pinset_curl_result(pc)) == PINSET_OK) {
        fprintf(stderr, "verdict: %s\n", why);
    }
    if (res != CURLE_OK || pinset_curl_check(pc) != PINSET_OK) {
        fprintf(stderr, "reporting_client: %s: refused or failed: %s\n", argv[2],
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
    pinset_curl_free(pc); /* pinset: no report can arrive after this */
    /* pinset: wait up to 10 s for the reports, then stop the reporter's thread */
    if (pinset_reporter_close(rep, 10000, &st) != PINSET_OK) {
        fprintf(stderr, "reporting_client: %llu report(s) not delivered\n",
                (unsigned long long)st.undelivered);
    }
    fprintf(stderr, "reports: %llu sent, %llu deduplicated, %llu failed, %llu dropped\n",
            (unsigned long long)st.sent, (unsigned long long)st.deduplicated,
            (unsigned long long)st.failed, (unsigned long long)st.dropped);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    curl_global_cleanup();
    return rc;
}
