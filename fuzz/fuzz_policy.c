/*
 * fuzz_policy.c - fuzz target for the native policy format.
 *
 * Target functions: pinset_policy_parse, pinset_policy_write,
 * pinset_policy_digest, pinset_policy_lookup.
 * Properties checked (abort on violation): a failed parse sets the diag's
 * code and a non-empty one-line message and returns no policy; a policy that
 * parses writes successfully, the output re-parses, writes to the same bytes
 * and has the same digest; every rule is found again by looking up its host
 * (a one-label rule: by a name one label below, and never by its host).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/policy.h>

#include "fuzz_sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lookups(const pinset_policy *p)
{
    for (size_t i = 0; i < pinset_policy_rule_count(p); i++) {
        const pinset_rule *r = pinset_policy_rule(p, i);
        const char *host = pinset_rule_host(r);
        pinset_match how;
        if (pinset_rule_scope(r) == PINSET_SCOPE_ONE_LABEL) {
            /* not its own host; a name one label below, unless a rule names that name */
            char child[300];
            const pinset_rule *c;
            if (pinset_policy_lookup(p, host, strlen(host), NULL) == r) {
                abort();
            }
            (void)snprintf(child, sizeof(child), "fz0.%s", host);
            c = pinset_policy_lookup(p, child, strlen(child), &how);
            if (strlen(host) <= 249 && c != r &&
                (c == NULL || strcmp(pinset_rule_host(c), child))) {
                abort();
            }
            continue;
        }
        if (pinset_policy_lookup(p, host, strlen(host), &how) != r) {
            abort();
        }
        if (how != (pinset_rule_is_exclusion(r) ? PINSET_MATCH_EXCLUDED : PINSET_MATCH_EXACT)) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pinset_policy *p = NULL, *q = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    struct fuzz_sbuf one = {0}, two = {0};
    uint8_t d1[32], d2[32];
    pinset_err err = pinset_policy_parse(&p, data, size, &d);

    if (err != PINSET_OK) {
        if (p != NULL || d.code != err || d.message[0] == '\0' || strchr(d.message, '\n') != NULL) {
            abort();
        }
        return 0;
    }
    check_lookups(p);
    if (pinset_policy_write(p, fuzz_sink, &one) != PINSET_OK) {
        abort();
    }
    if (pinset_policy_parse(&q, (const uint8_t *)one.b, one.n, NULL) != PINSET_OK) {
        abort();
    }
    if (pinset_policy_write(q, fuzz_sink, &two) != PINSET_OK || one.n != two.n ||
        memcmp(one.b, two.b, one.n) != 0) {
        abort();
    }
    pinset_policy_digest(p, d1);
    pinset_policy_digest(q, d2);
    if (memcmp(d1, d2, sizeof(d1)) != 0 ||
        pinset_policy_rule_count(p) != pinset_policy_rule_count(q)) {
        abort();
    }
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(one.b);
    free(two.b);
    return 0;
}
