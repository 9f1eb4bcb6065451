/*
 * check_int.h - the parts of the verdict that the OpenSSL hook (adapters/openssl*.c) and the
 * report builder (report.c) share with check.c. Internal; not installed.
 */
#ifndef PINSET_CHECK_INT_H
#define PINSET_CHECK_INT_H

#include <openssl/evp.h>

#include <pinset/check.h>

/*
 * Record a verdict that the hooks decide without a pin check (no host, path
 * invalid, not checked, internal error). Keeps the host and chain pins
 * already recorded.
 */
void pinset__result_set(pinset_result *result, pinset_verdict verdict, pinset_reason reason);

/* The result's SHA-256 (fetched once per result); NULL for a bare result. */
const EVP_MD *pinset__result_md(const pinset_result *result);

/*
 * A result without a digest (no fetch, one allocation): for callers that
 * only use pinset_check_pins / pinset__check_pins_ex (the OpenSSL hook keeps
 * one per SSL). NULL when out of memory.
 */
pinset_result *pinset__result_new_bare(void);

/* 1 when the rule has a cert-kind pin or blocked pin. */
int pinset__rule_needs_cert(const pinset_rule *rule);

/*
 * pinset_check_pins, where cert_known = 0 says the chain's cert pins were not
 * computed (the OpenSSL hook skips them when no rule for the host needs
 * them: re-encoding and hashing whole certificates is most of the hook's
 * cost). A rule that needs them then fails closed (reason INTERNAL), and
 * pinset_result_chain_pin(..., PINSET_PIN_CERT) returns NULL.
 */
pinset_err pinset__check_pins_ex(pinset_result *result, const pinset_policy *policy,
                                 const char *host, size_t host_len, const pinset_cert_pins *chain,
                                 size_t count, int64_t now, int cert_known);

/* Copy everything (verdict and explanation) from src into dst; both must be live results. */
void pinset__result_copy(pinset_result *dst, const pinset_result *src);

#endif /* PINSET_CHECK_INT_H */
