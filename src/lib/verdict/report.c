/*
 * report.c - pin-failure report documents: RFC 7469 section 3 plus pinset's
 * own "pinset-" members. Building a report never changes a verdict.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#include <pinset/report.h>

#include "internal.h"
#include "util/rfc3339.h"

int pinset_report_wanted(const pinset_result *result)
{
    pinset_verdict v = pinset_result_verdict(result);

    return pinset_result_rule(result) != NULL &&
           (v == PINSET_VERDICT_FAIL || v == PINSET_VERDICT_REPORT_ONLY_FAIL);
}

/* RFC 3339 date-time in UTC, as RFC 7469 section 3 asks ("2014-04-06T13:00:50Z"). */
static json_t *date_time(int64_t t)
{
    char buf[PINSET__TIME_TEXT_MAX];

    if (pinset__time_write(buf, sizeof(buf), t) != 0) {
        return json_null();
    }
    return json_string(buf);
}

/* One DER certificate as PEM text (64-column base64 lines, RFC 7468). */
static json_t *pem_of(const pinset_cert *c)
{
    static const char head[] = "-----BEGIN CERTIFICATE-----\n";
    static const char tail[] = "-----END CERTIFICATE-----\n";
    unsigned char *b64 = NULL;
    char *pem = NULL;
    size_t b64len, lines, cap, o = 0;
    json_t *s = NULL;

    if (c->der == NULL || c->len == 0 || c->len > PINSET_MAX_DER_SIZE) {
        return NULL;
    }
    b64 = pinset__alloc((c->len + 2) / 3 * 4 + 1);
    if (b64 == NULL) {
        return NULL;
    }
    b64len = (size_t)EVP_EncodeBlock(b64, c->der, (int)c->len);
    lines = (b64len + 63) / 64;
    cap = sizeof(head) + b64len + lines + sizeof(tail);
    pem = pinset__alloc(cap);
    if (pem == NULL) {
        goto out;
    }
    memcpy(pem, head, sizeof(head) - 1);
    o = sizeof(head) - 1;
    for (size_t i = 0; i < b64len; i += 64) {
        size_t n = b64len - i < 64 ? b64len - i : 64;

        memcpy(pem + o, b64 + i, n);
        o += n;
        pem[o++] = '\n';
    }
    memcpy(pem + o, tail, sizeof(tail) - 1);
    o += sizeof(tail) - 1;
    s = json_stringn(pem, o);
out:
    pinset__free(b64);
    pinset__free(pem);
    return s;
}

static json_t *chain_of(const pinset_cert *chain, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && chain != NULL && i < n; i++) {
        if (json_array_append_new(a, pem_of(&chain[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *pin_str(const pinset_pin *pin, pinset_pin_fmt fmt)
{
    char buf[PINSET_PIN_STR_MAX];

    if (pinset_pin_format(buf, sizeof(buf), pin, fmt) != PINSET_OK) {
        return NULL;
    }
    return json_string(buf);
}

/* known-pins: RFC 7469 knows spki pins only, as `pin-sha256="..."` strings. */
static int add_known_pins(json_t *doc, const pinset_rule *rule)
{
    json_t *spki = json_array(), *cert = json_array();
    size_t n = pinset_rule_pin_count(rule);

    if (spki == NULL || cert == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const pinset_pin *p = pinset_rule_pin(rule, i);
        json_t *s =
            pin_str(p, p->kind == PINSET_PIN_SPKI ? PINSET_PIN_FMT_HPKP : PINSET_PIN_FMT_BASE64);

        if (json_array_append_new(p->kind == PINSET_PIN_SPKI ? spki : cert, s) != 0) {
            goto fail;
        }
    }
    if (json_object_set_new(doc, "known-pins", spki) != 0) {
        spki = NULL;
        goto fail;
    }
    return json_object_set_new(doc, "pinset-known-cert-pins", cert);
fail:
    json_decref(spki);
    json_decref(cert);
    return -1;
}

static json_t *matched_of(const pinset_result *r)
{
    size_t idx, depth;
    const pinset_rule *rule = pinset_result_rule(r);
    const pinset_pin *p;
    json_t *o;

    if (!pinset_result_matched(r, &idx, &depth)) {
        return json_null();
    }
    p = pinset_result_reason(r) == PINSET_REASON_BLOCKED ? pinset_rule_blocked(rule, idx)
                                                         : pinset_rule_pin(rule, idx);
    if (p == NULL) {
        return json_null();
    }
    o = json_pack("{s:o*, s:s, s:I, s:I}", "pin", pin_str(p, PINSET_PIN_FMT_BASE64), "kind",
                  p->kind == PINSET_PIN_CERT ? "cert" : "spki", "index", (json_int_t)idx, "depth",
                  (json_int_t)depth);
    return o;
}

static json_t *build(const pinset_result *r, const pinset_report_input *in)
{
    const pinset_rule *rule = pinset_result_rule(r);
    int64_t expires = pinset_rule_expires(rule);
    json_t *doc;

    /* RFC 7469 section 3 members first, in the RFC's order */
    doc = json_pack("{s:o, s:s, s:I, s:o, s:b, s:s, s:o, s:o}", "date-time",
                    date_time(pinset_result_time(r)), "hostname", pinset_result_host(r), "port",
                    (json_int_t)in->port, "effective-expiration-date",
                    expires != 0 ? date_time(expires) : json_null(), "include-subdomains",
                    pinset_rule_include_subdomains(rule), "noted-hostname", pinset_rule_host(rule),
                    "served-certificate-chain", chain_of(in->served, in->served_count),
                    "validated-certificate-chain", chain_of(in->validated, in->validated_count));
    if (doc == NULL || add_known_pins(doc, rule) != 0) {
        json_decref(doc);
        return NULL;
    }
    if (json_object_set_new(doc, "pinset-verdict",
                            json_string(pinset_verdict_name(pinset_result_verdict(r)))) != 0 ||
        json_object_set_new(doc, "pinset-reason",
                            json_string(pinset_reason_name(pinset_result_reason(r)))) != 0 ||
        json_object_set_new(
            doc, "pinset-mode",
            json_string(pinset_result_mode(r) == PINSET_MODE_REPORT ? "report" : "enforce")) != 0 ||
        json_object_set_new(doc, "pinset-rule",
                            json_pack("{s:s, s:I}", "host", pinset_rule_host(rule), "index",
                                      (json_int_t)pinset_rule_index(rule))) != 0 ||
        json_object_set_new(doc, "pinset-match",
                            json_string(pinset_match_name(pinset_result_match(r)))) != 0 ||
        json_object_set_new(doc, "pinset-rule-expired",
                            json_boolean(pinset_result_rule_expired(r))) != 0 ||
        json_object_set_new(doc, "pinset-matched-pin", matched_of(r)) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

pinset_err pinset_report_write(const pinset_result *result, const pinset_report_input *in,
                               pinset_write_fn write, void *payload, pinset_diag *diag)
{
    pinset_report_input none = PINSET_REPORT_INPUT_INIT;
    json_t *doc;
    char *text;
    int rc;

    if (result == NULL || write == NULL || pinset_result_rule(result) == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "report: result without a rule or no sink");
    }
    if (in == NULL) {
        in = &none;
    }
    if (in->version != PINSET_REPORT_INPUT_VERSION || in->port > 65535 ||
        (in->served == NULL && in->served_count != 0) ||
        (in->validated == NULL && in->validated_count != 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "report: bad input version, port or chain");
    }
    /* every certificate given is written: a report never shows part of a chain */
    if (in->served_count > SIZE_MAX / 4 || in->validated_count > SIZE_MAX / 4) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "report: chain counts overflow");
    }
    for (size_t i = 0; i < in->served_count + in->validated_count; i++) {
        const pinset_cert *c =
            i < in->served_count ? &in->served[i] : &in->validated[i - in->served_count];

        if (c->der == NULL || c->len == 0 || c->len > PINSET_MAX_DER_SIZE) {
            return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                               "report: %s chain element %zu is empty or too large",
                               i < in->served_count ? "served" : "validated",
                               i < in->served_count ? i : i - in->served_count);
        }
    }
    doc = build(result, in);
    if (doc == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "report: cannot build the document");
    }
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (text == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "report: cannot serialise the document");
    }
    rc = write(text, strlen(text), payload);
    free(text);
    if (rc != 0) {
        return PINSET_DIAG(diag, PINSET_E_IO, "report: the sink refused the document");
    }
    return PINSET_OK;
}
