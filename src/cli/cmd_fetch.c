/*
 * cmd_fetch.c - pinset fetch: connect to servers and show their chains and pins.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <util/rfc3339.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <pinset/openssl.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "netopt.h"
#include "out.h"
#include "probe/probe.h"
#include "targets.h"

#define FETCH_NAME_MAX   512 /* a subject or issuer as shown */
#define FETCH_MAX_SANS   32  /* names listed per certificate */
#define POLICY_LABEL_MAX 256 /* octets in a pin's label (docs/policy-format.md) */

enum fetch_opt {
    O_SERVERNAME,
    O_RESOLVE,
    O_CONNECT_TO,
    O_CAFILE,
    O_CAPATH,
    O_STARTTLS,
    O_TIMEOUT,
    O_CONNECT_TIMEOUT,
    O_CONCURRENCY,
    O_IPV4,
    O_IPV6,
    O_FORMAT,
    O_TARGETS,
    O_COLOR,
    O_MODE,
    O_BACKUP,
    O_EXPIRES,
    O_ON_EXPIRY,
    O_END
};

static const opt_spec fetch_opts[] = {
    [O_SERVERNAME] = {"servername", 0, "NAME", "SNI and the name verified, instead of the host"},
    [O_RESOLVE] = NETOPT_RESOLVE,
    [O_CONNECT_TO] = NETOPT_CONNECT_TO,
    [O_CAFILE] = NETOPT_CAFILE,
    [O_CAPATH] = NETOPT_CAPATH,
    [O_STARTTLS] = {"starttls", 0, "PROTO", "smtp, imap, pop3, ftp, xmpp or postgres"},
    [O_TIMEOUT] = NETOPT_TIMEOUT,
    [O_CONNECT_TIMEOUT] = NETOPT_CONNECT_TIMEOUT,
    [O_CONCURRENCY] = NETOPT_CONCURRENCY,
    [O_IPV4] = NETOPT_IPV4,
    [O_IPV6] = NETOPT_IPV6,
    [O_FORMAT] = NETOPT_FORMAT("text (default), json or policy"),
    [O_TARGETS] = {"targets", 0, "FILE", "more hosts, one 'HOST[:PORT] [ADDRESS]' a line"},
    [O_COLOR] = OUT_OPT_COLOR,
    [O_MODE] = {"mode", 0, "MODE", "--format policy: the rules' mode, enforce (default) or report"},
    [O_BACKUP] = {"backup", 0, "FILE",
                  "--format policy: add the key of FILE (CSR, key or cert) as a backup pin"},
    [O_EXPIRES] = {"expires", 0, "TIME",
                   "--format policy: the rules expire then (needs --on-expiry)"},
    [O_ON_EXPIRY] = {"on-expiry", 0, "WHAT", "--format policy: fail-open, fail-closed or report"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_fetch_spec = {
    "fetch", "[options] HOST[:PORT]...",
    "Connect to servers and show the chains they serve and validate, with pins.", fetch_opts};

/* In the order of fetch_formats. */
enum fetch_format { FMT_TEXT, FMT_JSON, FMT_POLICY };
static const char *const fetch_formats[] = {"text", "json", "policy", NULL};

/*
 * Results are printed in input order as soon as every earlier host is done
 * (a reorder window), and their chains freed then, so memory stays bounded
 * by the hosts in flight, not by the number of hosts.
 */
typedef struct fetch_run {
    probe_result *results; /* by target index; chains taken from the engine */
    unsigned char *ready;  /* by target index: result waiting to be printed */
    size_t n, done, printed, emitted;
    int fmt;
    int color;                     /* text: colour validation and errors */
    const struct fetch_args *args; /* --format policy: mode, backups, expiry */
    int rc;                        /* the exit status so far */
    json_t *rules;                 /* --format policy: collected, written at the end */
} fetch_run;

/* ---- describing one certificate ---- */

typedef struct cert_info {
    char subject[FETCH_NAME_MAX];
    char issuer[FETCH_NAME_MAX];
    char serial[80];
    char not_before[32], not_after[32];
    int days_left; /* negative once expired */
    char key_type[16];
    char curve[64];
    int bits;
    char spki[PINSET_PIN_STR_MAX];
    char cert[PINSET_PIN_STR_MAX];
    int self_signed, is_ca;
    const char *position; /* leaf, intermediate, root */
    const char *advice;   /* rotates, good, broad */
    const char *advice_text;
} cert_info;

static void time_text(char *buf, size_t cap, const ASN1_TIME *t)
{
    int64_t when;

    if (pinset__time_from_asn1(&when, t) != 0 || pinset__time_write(buf, cap, when) != 0) {
        snprintf(buf, cap, "invalid");
    }
}

static void key_text(cert_info *ci, X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    char group[64];

    ci->curve[0] = '\0';
    if (pk == NULL) {
        snprintf(ci->key_type, sizeof(ci->key_type), "unknown");
        ci->bits = 0;
        return;
    }
    ci->bits = EVP_PKEY_get_bits(pk);
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        snprintf(ci->key_type, sizeof(ci->key_type), "RSA");
        break;
    case EVP_PKEY_RSA_PSS:
        snprintf(ci->key_type, sizeof(ci->key_type), "RSA-PSS");
        break;
    case EVP_PKEY_EC:
        snprintf(ci->key_type, sizeof(ci->key_type), "EC");
        if (EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) == 1) {
            const char *nist = EC_curve_nid2nist(OBJ_txt2nid(group));
            snprintf(ci->curve, sizeof(ci->curve), "%s", nist != NULL ? nist : group);
        }
        break;
    case EVP_PKEY_ED25519:
        snprintf(ci->key_type, sizeof(ci->key_type), "Ed25519");
        break;
    case EVP_PKEY_ED448:
        snprintf(ci->key_type, sizeof(ci->key_type), "Ed448");
        break;
    case EVP_PKEY_DSA:
        snprintf(ci->key_type, sizeof(ci->key_type), "DSA");
        break;
    default:
        snprintf(ci->key_type, sizeof(ci->key_type), "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
        break;
    }
}

/* The pin in RFC 7469 base64, or "" when OpenSSL cannot encode the certificate's key. */
static void pin_text(char *buf, size_t cap, X509 *x, pinset_pin_kind kind)
{
    pinset_pin pin;

    if (pinset_pin_from_x509(&pin, x, kind, NULL) != PINSET_OK ||
        pinset_pin_format(buf, cap, &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        buf[0] = '\0';
    }
}

static json_t *pin_or_null(const char *pin)
{
    return pin[0] != '\0' ? json_string(pin) : json_null();
}

static void describe(cert_info *ci, X509 *x, int i)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    BIGNUM *bn = sn != NULL ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    int day = 0, sec = 0;

    memset(ci, 0, sizeof(*ci));
    out_x509_name(ci->subject, sizeof(ci->subject), X509_get_subject_name(x));
    out_x509_name(ci->issuer, sizeof(ci->issuer), X509_get_issuer_name(x));
    snprintf(ci->serial, sizeof(ci->serial), "%s", hex != NULL ? hex : "");
    OPENSSL_free(hex);
    BN_free(bn);
    time_text(ci->not_before, sizeof(ci->not_before), X509_get0_notBefore(x));
    time_text(ci->not_after, sizeof(ci->not_after), X509_get0_notAfter(x));
    if (ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(x)) == 1) {
        ci->days_left = day;
    }
    key_text(ci, x);
    pin_text(ci->spki, sizeof(ci->spki), x, PINSET_PIN_SPKI);
    pin_text(ci->cert, sizeof(ci->cert), x, PINSET_PIN_CERT);
    ci->self_signed = X509_check_issued(x, x) == X509_V_OK;
    ci->is_ca = X509_check_ca(x) != 0;
    ERR_clear_error();
    if (i == 0) {
        ci->position = "leaf";
        ci->advice = "rotates";
        ci->advice_text = "leaf key: changes whenever the certificate is renewed with a new key; "
                          "pin it only next to a backup";
    } else if (ci->self_signed) {
        ci->position = "root";
        ci->advice = "broad";
        ci->advice_text = "root key: matches anything this CA ever issues; broad";
    } else {
        ci->position = "intermediate";
        ci->advice = "good";
        ci->advice_text = "issuing CA key: survives leaf renewals; a good pin next to a backup";
    }
}

static json_t *names_json(X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    json_t *arr = json_array();
    int n = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0;

    for (int i = 0; arr != NULL && i < n && i < FETCH_MAX_SANS; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char buf[256];
        if (g->type == GEN_DNS) {
            const ASN1_IA5STRING *s = g->d.dNSName;
            int len = ASN1_STRING_length(s);
            snprintf(buf, sizeof(buf), "%.*s", len > 250 ? 250 : len,
                     (const char *)ASN1_STRING_get0_data(s));
        } else if (g->type == GEN_IPADD) {
            int len = ASN1_STRING_length(g->d.iPAddress);
            char txt[INET6_ADDRSTRLEN] = "?";
            if (len == 4 || len == 16) {
                inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), txt,
                          sizeof(txt));
            }
            snprintf(buf, sizeof(buf), "IP:%s", txt);
        } else {
            continue;
        }
        json_array_append_new(arr, out_json_str(buf));
    }
    GENERAL_NAMES_free(gens);
    return arr;
}

/* ---- text ---- */

static void print_cert_text(X509 *x, int i)
{
    cert_info ci;
    json_t *names = names_json(x);
    size_t nn = names != NULL ? json_array_size(names) : 0;

    describe(&ci, x, i);
    printf("    [%d] %s\n", i, ci.position);
    printf("        subject:  ");
    out_safe(stdout, ci.subject);
    printf("\n        issuer:   ");
    out_safe(stdout, ci.issuer);
    printf("\n");
    if (nn > 0) {
        printf("        names:    ");
        for (size_t k = 0; k < nn && k < 8; k++) {
            printf("%s", k ? ", " : "");
            out_safe(stdout, json_string_value(json_array_get(names, k)));
        }
        printf("%s\n", nn > 8 ? ", ..." : "");
    }
    if (ci.curve[0] != '\0') {
        printf("        key:      %s %s (%d bits)\n", ci.key_type, ci.curve, ci.bits);
    } else {
        printf("        key:      %s %d bits\n", ci.key_type, ci.bits);
    }
    printf("        valid:    %s .. %s (%s%d days %s)\n", ci.not_before, ci.not_after,
           ci.days_left < 0 ? "expired " : "", ci.days_left < 0 ? -ci.days_left : ci.days_left,
           ci.days_left < 0 ? "ago" : "left");
    /* bare RFC 7469 base64 after the kind, as hash and explain write pins */
    printf("        spki:     %s\n", ci.spki[0] ? ci.spki : "unavailable");
    printf("        cert:     %s\n", ci.cert[0] ? ci.cert : "unavailable");
    printf("        as a pin: %s: %s\n", ci.advice, ci.advice_text);
    json_decref(names);
}

static void print_chain_text(const char *title, STACK_OF(X509) * chain)
{
    int n = chain != NULL ? sk_X509_num(chain) : 0;

    printf("  %s (%d certificate%s):\n", title, n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        print_cert_text(sk_X509_value(chain, i), i);
    }
}

static void print_host_text(const probe_result *r, int color)
{
    const probe_target *t = r->target;

    /* an IPv6 literal is shown in brackets, as it is written on the command line */
    printf(strchr(t->host, ':') != NULL ? "[%s]:%u" : "%s:%u", t->host, (unsigned int)t->port);
    if (r->address[0] != '\0') {
        printf(" via %s", r->address);
    }
    if (r->status != PROBE_OK) {
        printf("\n  error:      %s%s%s\n\n", out_sgr(color, OUT_RED), r->error,
               out_sgr_reset(color));
        return;
    }
    printf("\n  tls:        %s %s, handshake %.1f ms (total %.1f ms)\n", r->protocol, r->cipher,
           r->handshake_ms, r->total_ms);
    if (r->validated) {
        printf("  validation: %sok%s for %s\n", out_sgr(color, OUT_GREEN), out_sgr_reset(color),
               t->servername != NULL ? t->servername : t->host);
    } else {
        printf("  validation: %sFAILED%s at depth %d: %s\n", out_sgr(color, OUT_RED),
               out_sgr_reset(color), r->verify_depth, r->verify_error_str);
    }
    print_chain_text("served chain", r->served);
    if (r->validated) {
        print_chain_text("validated chain", r->verified);
    } else {
        printf("  validated chain: none (the served chain does not validate)\n");
    }
    printf("\n");
}

/* ---- JSON ---- */

static json_t *cert_json(X509 *x, int i)
{
    cert_info ci;
    json_t *o = json_object(), *key = json_object();
    int bad = 0;

    describe(&ci, x, i);
    if (o == NULL || key == NULL) {
        json_decref(o);
        json_decref(key);
        return NULL;
    }
    bad |= out_json_set(key, "type", json_string(ci.key_type));
    bad |= out_json_set(key, "bits", json_integer(ci.bits));
    bad |= out_json_set(key, "curve", ci.curve[0] ? json_string(ci.curve) : json_null());
    bad |= out_json_set(o, "position", json_string(ci.position));
    bad |= out_json_set(o, "subject", out_json_str(ci.subject));
    bad |= out_json_set(o, "issuer", out_json_str(ci.issuer));
    bad |= out_json_set(o, "serial", json_string(ci.serial));
    bad |= out_json_set(o, "names", names_json(x));
    bad |= out_json_set(o, "not_before", json_string(ci.not_before));
    bad |= out_json_set(o, "not_after", json_string(ci.not_after));
    bad |= out_json_set(o, "days_left", json_integer(ci.days_left));
    bad |= out_json_set(o, "key", key);
    bad |= out_json_set(o, "spki_sha256", pin_or_null(ci.spki));
    bad |= out_json_set(o, "cert_sha256", pin_or_null(ci.cert));
    bad |= out_json_set(o, "self_signed", json_boolean(ci.self_signed));
    bad |= out_json_set(o, "ca", json_boolean(ci.is_ca));
    bad |= out_json_set(o, "pin_advice", json_string(ci.advice));
    bad |= out_json_set(o, "pin_advice_text", json_string(ci.advice_text));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *chain_json(STACK_OF(X509) * chain)
{
    json_t *arr;
    int n;

    if (chain == NULL) {
        return json_null();
    }
    arr = json_array();
    n = sk_X509_num(chain);
    for (int i = 0; arr != NULL && i < n; i++) {
        json_t *c = cert_json(sk_X509_value(chain, i), i);
        if (c == NULL || json_array_append_new(arr, c) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Milliseconds (double) to whole microseconds for JSON. */
static json_int_t usec(double ms)
{
    return (json_int_t)(ms * 1000.0 + 0.5);
}

static json_t *host_json(const probe_result *r)
{
    const probe_target *t = r->target;
    json_t *o = json_object(), *tm = json_object(), *ve = NULL, *conn = json_object();
    int bad = 0, ok = r->status == PROBE_OK;

    if (o == NULL || tm == NULL || conn == NULL) {
        json_decref(o);
        json_decref(tm);
        json_decref(conn);
        return NULL;
    }
    if (ok && !r->validated) {
        ve = json_object();
        bad |= ve == NULL;
        if (ve != NULL) {
            bad |= out_json_set(ve, "code", json_integer(r->verify_error));
            bad |= out_json_set(ve, "depth", json_integer(r->verify_depth));
            bad |= out_json_set(ve, "message", json_string(r->verify_error_str));
        }
    }
    bad |= out_json_set(conn, "host",
                        out_json_str(t->connect_host != NULL ? t->connect_host : t->host));
    bad |=
        out_json_set(conn, "port", json_integer(t->connect_port != 0 ? t->connect_port : t->port));
    bad |= out_json_set(tm, "dns", json_integer(usec(r->dns_ms)));
    bad |= out_json_set(tm, "connect", json_integer(usec(r->connect_ms)));
    bad |= out_json_set(tm, "starttls", json_integer(usec(r->starttls_ms)));
    bad |= out_json_set(tm, "handshake", json_integer(usec(r->handshake_ms)));
    bad |= out_json_set(tm, "total", json_integer(usec(r->total_ms)));
    bad |= out_json_set(o, "target", out_json_str(t->name));
    bad |= out_json_set(o, "host", json_string(t->host));
    bad |= out_json_set(o, "port", json_integer(t->port));
    bad |=
        out_json_set(o, "servername", json_string(t->servername != NULL ? t->servername : t->host));
    bad |= out_json_set(o, "connect", conn);
    bad |= out_json_set(o, "address", r->address[0] ? json_string(r->address) : json_null());
    bad |= out_json_set(o, "status", json_string(probe_status_name(r->status)));
    bad |= out_json_set(o, "error", ok ? json_null() : out_json_str(r->error));
    bad |= out_json_set(o, "protocol", ok ? json_string(r->protocol) : json_null());
    bad |= out_json_set(o, "cipher", ok ? json_string(r->cipher) : json_null());
    bad |= out_json_set(o, "validated", json_boolean(ok && r->validated));
    bad |= out_json_set(o, "verify_error", ve != NULL ? ve : json_null());
    bad |= out_json_set(o, "timing_us", tm);
    bad |= out_json_set(o, "served_chain", ok ? chain_json(r->served) : json_null());
    bad |= out_json_set(o, "validated_chain",
                        ok && r->validated ? chain_json(r->verified) : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- policy: a starter policy from the validated chains ---- */

/* policy-format.md: a label is 1 to 256 octets; cut on a UTF-8 character boundary. */
static void cut_label(char *label)
{
    if (strlen(label) > POLICY_LABEL_MAX) {
        size_t cut = POLICY_LABEL_MAX;
        while (cut > 0 && ((unsigned char)label[cut] & 0xc0) == 0x80) {
            cut--;
        }
        label[cut] = '\0';
    }
}

static json_t *pin_json(X509 *x, const char *role, const char *label_prefix)
{
    json_t *p = json_object();
    char pin[PINSET_PIN_STR_MAX], subj[FETCH_NAME_MAX], label[FETCH_NAME_MAX + 32];
    int bad = 0;

    if (p == NULL) {
        return NULL;
    }
    pin_text(pin, sizeof(pin), x, PINSET_PIN_SPKI);
    out_x509_name(subj, sizeof(subj), X509_get_subject_name(x));
    snprintf(label, sizeof(label), "%s: %s", label_prefix, subj);
    cut_label(label);
    if (pin[0] == '\0') {
        json_decref(p);
        return NULL; /* no pin: the caller reports an internal error */
    }
    bad |= out_json_set(p, "sha256", json_string(pin));
    bad |= out_json_set(p, "role", json_string(role));
    bad |= out_json_set(p, "label", out_json_str(label));
    if (bad) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *rule_json(const probe_result *r)
{
    json_t *rule = json_object(), *pins = json_array();
    int n = sk_X509_num(r->verified);
    int bad = 0;

    if (rule == NULL || pins == NULL) {
        json_decref(rule);
        json_decref(pins);
        return NULL;
    }
    bad |= json_array_append_new(pins,
                                 pin_json(sk_X509_value(r->verified, 0), "leaf", "leaf key")) != 0;
    if (n > 1) {
        /* the issuing CA: the certificate right above the leaf in the validated chain */
        bad |= json_array_append_new(
                   pins, pin_json(sk_X509_value(r->verified, 1), "ca", "issuing ca key")) != 0;
    }
    bad |= out_json_set(rule, "host", json_string(r->target->host));
    bad |= out_json_set(rule, "pins", pins);
    if (bad) {
        json_decref(rule);
        return NULL;
    }
    return rule;
}

/* ---- the command ---- */

/* Write one JSON value as an element of the "hosts" array (4-space nesting). */
static int write_json_item(const json_t *item, int first)
{
    char *txt = json_dumps(item, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = 0;

    if (txt == NULL) {
        return -1;
    }
    fputs(first ? "    " : ",\n    ", stdout);
    for (const char *p = txt; *p != '\0'; p++) {
        putchar(*p);
        if (*p == '\n') {
            fputs("    ", stdout); /* JSON strings hold no raw newline: only layout ones */
        }
    }
    free(txt);
    return rc;
}

/* Whether the policy being written has a rule for this (canonical) host already. */
static int has_rule(const json_t *rules, const char *host)
{
    const json_t *rule;
    size_t i;

    json_array_foreach(rules, i, rule)
    {
        const char *h = json_string_value(json_object_get(rule, "host"));
        if (h != NULL && strcmp(h, host) == 0) {
            return 1;
        }
    }
    return 0;
}

static void print_one(fetch_run *run, probe_result *r)
{
    json_t *item = NULL;

    if (r->status != PROBE_OK) {
        cli_err("fetch", "%s: %s", r->target->name, r->error);
        run->rc = run->rc == EXIT_OK ? EXIT_NETWORK : run->rc;
    } else if (!r->validated) {
        cli_err("fetch", "%s: chain does not validate: %s", r->target->name, r->verify_error_str);
        run->rc = run->rc == EXIT_OK ? EXIT_NETWORK : run->rc;
    }
    switch (run->fmt) {
    case FMT_TEXT:
        print_host_text(r, run->color);
        break;
    case FMT_JSON:
        item = host_json(r);
        if (item == NULL || write_json_item(item, run->emitted == 0) != 0) {
            run->rc = EXIT_INTERNAL;
        }
        run->emitted++;
        json_decref(item);
        break;
    case FMT_POLICY:
        if (r->status != PROBE_OK || !r->validated) {
            cli_err("fetch", "%s: not added to the policy: %s", r->target->name,
                    r->status != PROBE_OK ? r->error : "the chain does not validate");
            break;
        }
        if (has_rule(run->rules, r->target->host)) {
            /* the same host on another port or address: one rule holds it */
            cli_err("fetch", "%s: not added to the policy again: a rule for %s is there already",
                    r->target->name, r->target->host);
            break;
        }
        item = rule_json(r);
        if (item == NULL || json_array_append_new(run->rules, item) != 0) {
            run->rc = EXIT_INTERNAL;
        }
        break;
    default:
        break;
    }
    sk_X509_pop_free(r->served, X509_free);
    sk_X509_pop_free(r->verified, X509_free);
    r->served = NULL;
    r->verified = NULL;
}

static void on_result(probe_result *res, void *payload)
{
    fetch_run *run = payload;

    run->results[res->index] = *res;
    run->ready[res->index] = 1;
    res->served = NULL; /* taken */
    res->verified = NULL;
    run->done++;
    if (out_progress_enabled()) {
        out_progress("fetch: %zu/%zu hosts", run->done, run->n);
    }
    while (run->printed < run->n && run->ready[run->printed]) {
        if (out_progress_enabled()) {
            out_progress_done();
        }
        print_one(run, &run->results[run->printed]);
        run->ready[run->printed] = 0;
        run->printed++;
    }
}

typedef struct fetch_args {
    netopt net; /* net.po: the probe options */
    const char *servername;
    const char **hosts;
    size_t nhosts;
    const char *targets_file;
    out_color_mode color;  /* --color */
    const char *mode;      /* --mode, NULL: enforce */
    const char *expires;   /* --expires, as given (checked) */
    int64_t expires_at;    /* the same, parsed */
    const char *on_expiry; /* --on-expiry */
    json_t *backups;       /* --backup: pin objects with role backup */
} fetch_args;

/*
 * --backup FILE: the key of every certificate, key and CSR in FILE, as a pin
 * with role backup. -1 to go on, or an exit status after a message.
 */
static int add_backup(fetch_args *a, const char *path)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_bundle *b = NULL;
    pinset_err err;
    size_t added = 0;
    int rc = -1;

    d.input = cli_is_stdin(path) ? CLI_STDIN_NAME : path;
    err = cli_bundle_read(&b, path, NULL, &d);
    if (err != PINSET_OK) {
        d.code = err;
        cli_err_diag("fetch", &d);
        return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
    }
    if (a->backups == NULL && (a->backups = json_array()) == NULL) {
        rc = EXIT_INTERNAL;
    }
    for (size_t i = 0; rc < 0 && i < pinset_bundle_count(b); i++) {
        const pinset_object *o = pinset_bundle_get(b, i);
        char b64[PINSET_PIN_STR_MAX], label[FETCH_NAME_MAX];
        pinset_pin pin;
        json_t *p;
        int seen = 0;

        if (pinset_object_pin(&pin, o, PINSET_PIN_SPKI) != PINSET_OK ||
            pinset_pin_format(b64, sizeof(b64), &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
            continue; /* an object without a key */
        }
        for (size_t j = 0; j < json_array_size(a->backups); j++) {
            const char *have =
                json_string_value(json_object_get(json_array_get(a->backups, j), "sha256"));
            seen |= have != NULL && strcmp(have, b64) == 0;
        }
        if (seen) {
            continue; /* a key and its certificate: one pin */
        }
        snprintf(label, sizeof(label), "backup key: %s", d.input);
        cut_label(label);
        p = json_object();
        if (p == NULL || out_json_set(p, "sha256", json_string(b64)) != 0 ||
            out_json_set(p, "role", json_string("backup")) != 0 ||
            out_json_set(p, "label", out_json_str(label)) != 0 ||
            json_array_append_new(a->backups, p) != 0) {
            rc = EXIT_INTERNAL;
        }
        added++;
    }
    if (rc < 0 && added == 0) {
        cli_err("fetch",
                "%s: --backup: no key in it (a CSR, private or public key, or certificate)",
                d.input);
        rc = EXIT_INPUT;
    } else if (rc == EXIT_INTERNAL) {
        cli_err("fetch", "out of memory");
    }
    pinset_bundle_free(b);
    return rc;
}

/* Parse the command line; returns -1 to go on, or an exit status. */
static int parse_args(fetch_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int64_t t;
    int r, rc;

    opt_init(&st, argc, argv);
    while ((r = netopt_next(&st, &cmd_fetch_spec, &a->net, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_fetch_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            a->hosts[a->nhosts++] = v;
            break;
        case O_SERVERNAME:
            a->servername = v;
            break;
        case O_STARTTLS:
            if (probe_starttls_parse(v, &a->net.po.starttls) != 0 ||
                a->net.po.starttls == PROBE_STARTTLS_NONE) {
                return opt_usage_error(&cmd_fetch_spec,
                                       "--starttls '%s': expected smtp, imap, pop3, ftp, xmpp "
                                       "or postgres",
                                       v);
            }
            break;
        case O_TARGETS:
            a->targets_file = v;
            break;
        case O_COLOR:
            if (out_color_parse(v, &a->color) != 0) {
                return opt_usage_error(&cmd_fetch_spec,
                                       "--color '%s': expected auto, never or always", v);
            }
            break;
        case O_MODE:
            if (strcmp(v, "enforce") != 0 && strcmp(v, "report") != 0) {
                return opt_usage_error(&cmd_fetch_spec, "--mode '%s': expected enforce or report",
                                       v);
            }
            a->mode = v;
            break;
        case O_EXPIRES:
            if (out_parse_time(v, &t) != 0) {
                return opt_usage_error(&cmd_fetch_spec,
                                       "--expires '%s': expected a time such as 2027-01-01 or "
                                       "2027-01-01T00:00:00Z",
                                       v);
            }
            a->expires_at = t; /* written back in UTC, as the policy format takes it */
            a->expires = v;
            break;
        case O_ON_EXPIRY:
            if (strcmp(v, "fail-open") != 0 && strcmp(v, "fail-closed") != 0 &&
                strcmp(v, "report") != 0) {
                return opt_usage_error(&cmd_fetch_spec,
                                       "--on-expiry '%s': expected fail-open, fail-closed or "
                                       "report",
                                       v);
            }
            a->on_expiry = v;
            break;
        case O_BACKUP:
            rc = add_backup(a, v);
            if (rc >= 0) {
                return rc;
            }
            break;
        default:
            return netopt_exit(r);
        }
    }
    if (a->nhosts == 0 && a->targets_file == NULL) {
        return opt_usage_error(&cmd_fetch_spec, "no host given");
    }
    if ((a->expires != NULL) != (a->on_expiry != NULL)) {
        return opt_usage_error(&cmd_fetch_spec, "--expires and --on-expiry go together: a "
                                                "policy says what an expired rule does");
    }
    if ((a->mode != NULL || a->expires != NULL || a->backups != NULL) &&
        a->net.format != FMT_POLICY) {
        return opt_usage_error(&cmd_fetch_spec,
                               "--mode, --backup, --expires and --on-expiry shape --format policy");
    }
    return -1;
}

/* How many rules hold a pin of this value. */
static size_t pin_users(const json_t *rules, const char *sha)
{
    size_t n = 0, i, j;
    json_t *rule, *pin;

    json_array_foreach(rules, i, rule)
    {
        json_array_foreach(json_object_get(rule, "pins"), j, pin)
        {
            const char *v = json_string_value(json_object_get(pin, "sha256"));
            if (v != NULL && strcmp(v, sha) == 0) {
                n++;
                break;
            }
        }
    }
    return n;
}

/*
 * Pins that several hosts share (an issuing CA, a backup key) move into named
 * pin-sets, "shared-1", "shared-2"...: one per group of rules that share the
 * same pins; each rule names its pin-set and keeps its own pins (its leaf).
 * 0, or -1 when out of memory.
 */
static int share_pins(json_t *rules, json_t *pinsets)
{
    json_t *rule, *pin, *many = json_object(); /* sha256 -> true: held by several rules */
    size_t i, j;
    int bad = many == NULL;

    /* first which pins are shared, before any rule gives its shared pins away */
    json_array_foreach(rules, i, rule)
    {
        json_array_foreach(json_object_get(rule, "pins"), j, pin)
        {
            const char *v = json_string_value(json_object_get(pin, "sha256"));
            if (!bad && v != NULL && pin_users(rules, v) > 1) {
                bad = json_object_set_new(many, v, json_true()) != 0;
            }
        }
    }
    json_array_foreach(rules, i, rule)
    {
        json_t *pins = json_object_get(rule, "pins"), *mine = json_array(), *shared = json_array();
        json_t *set;
        const char *name = NULL, *key;
        char fresh[32];

        bad |= mine == NULL || shared == NULL;
        json_array_foreach(pins, j, pin)
        {
            const char *v = json_string_value(json_object_get(pin, "sha256"));
            if (!bad) {
                bad = json_array_append(
                          v != NULL && json_object_get(many, v) != NULL ? shared : mine, pin) != 0;
            }
        }
        if (!bad && json_array_size(shared) > 0) {
            /* a pin-set with exactly these pins already? */
            json_object_foreach(pinsets, key, set)
            {
                if (json_equal(json_object_get(set, "pins"), shared)) {
                    name = key;
                }
            }
            if (name == NULL) {
                snprintf(fresh, sizeof(fresh), "shared-%zu", json_object_size(pinsets) + 1);
                set = json_object();
                bad |= set == NULL || out_json_set(set, "pins", json_incref(shared)) != 0 ||
                       out_json_set(pinsets, fresh, set) != 0;
                name = fresh;
            }
            bad |= out_json_set(rule, "pinset", json_string(name)) != 0;
            if (json_array_size(mine) > 0) {
                bad |= json_object_set(rule, "pins", mine) != 0;
            } else {
                bad |= json_object_del(rule, "pins") != 0;
            }
        }
        json_decref(mine);
        json_decref(shared);
    }
    json_decref(many);
    return bad ? -1 : 0;
}

/* --mode, --backup, --expires/--on-expiry on every rule, then the shared pins into pin-sets. */
static json_t *policy_doc(fetch_run *run)
{
    const fetch_args *a = run->args;
    json_t *doc = json_object(), *pinsets = json_object(), *rule;
    size_t i, j;
    int bad = doc == NULL || pinsets == NULL;

    json_array_foreach(run->rules, i, rule)
    {
        json_t *pins = json_object_get(rule, "pins"), *b;
        json_array_foreach(a->backups, j, b)
        {
            bad |= json_array_append(pins, b) != 0;
        }
        if (a->mode != NULL && strcmp(a->mode, "report") == 0) {
            bad |= out_json_set(rule, "mode", json_string("report")) != 0;
        }
        if (a->expires != NULL) {
            char iso[OUT_TIME_MAX];
            (void)out_time_iso(iso, sizeof(iso), a->expires_at);
            bad |= out_json_set(rule, "expires", json_string(iso)) != 0;
            bad |= out_json_set(rule, "on_expiry", json_string(a->on_expiry)) != 0;
        }
    }
    bad = bad || share_pins(run->rules, pinsets) != 0;
    bad = bad || out_json_set(doc, "version", json_integer(1)) != 0;
    if (!bad && json_object_size(pinsets) > 0) {
        bad = out_json_set(doc, "pinsets", json_incref(pinsets)) != 0;
    }
    bad = bad || out_json_set(doc, "rules", json_incref(run->rules)) != 0;
    json_decref(pinsets);
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/*
 * The starter policy must be one the library reads (too many --backup keys,
 * for instance, would give a rule more pins than a policy may hold). 0, or
 * EXIT_INPUT after a message, or EXIT_INTERNAL.
 */
static int check_policy(const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_policy *p = NULL;
    pinset_err err;

    if (text == NULL) {
        cli_err("fetch", "out of memory");
        return EXIT_INTERNAL;
    }
    err = pinset_policy_parse(&p, (const uint8_t *)text, strlen(text), &d);
    free(text);
    pinset_policy_free(p);
    if (err == PINSET_OK) {
        return 0;
    }
    cli_err("fetch", "the policy would not be valid, so it is not written: %s%s%s", d.path,
            d.path[0] != '\0' ? ": " : "", d.message);
    return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
}

/* 0; -1 when standard output failed; or an exit status after a message. */
static int finish_output(fetch_run *run)
{
    json_t *doc;
    int rc;

    if (run->fmt == FMT_JSON) {
        fputs(run->emitted > 0 ? "\n  ]\n}\n" : "  ]\n}\n", stdout);
    } else if (run->fmt == FMT_POLICY) {
        doc = policy_doc(run);
        if (doc == NULL) {
            return -1;
        }
        rc = check_policy(doc);
        if (rc != 0) {
            json_decref(doc);
            return rc; /* said why; nothing printed */
        }
        rc = out_json_dump(stdout, doc);
        json_decref(doc);
        if (rc != 0) {
            return -1;
        }
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static int run_fetch(fetch_args *a, target_list *tl)
{
    char err[256];
    probe_engine *e;
    fetch_run run;
    int rc;

    memset(&run, 0, sizeof(run));
    run.fmt = a->net.format;
    run.args = a;
    run.color = run.fmt == FMT_TEXT && out_color_enabled(stdout, a->color);
    e = probe_engine_new(&a->net.po, err, sizeof(err));
    if (e == NULL) {
        cli_err("fetch", "%s", err);
        return EXIT_INPUT;
    }
    run.n = tl->count;
    run.results = calloc(tl->count, sizeof(*run.results));
    run.ready = calloc(tl->count, 1);
    run.rules = json_array();
    if (run.results == NULL || run.ready == NULL || run.rules == NULL) {
        cli_err("fetch", "out of memory");
        run.rc = EXIT_INTERNAL;
        goto out;
    }
    if (run.fmt == FMT_JSON) {
        fputs("{\n  \"version\": 1,\n  \"hosts\": [\n", stdout);
    }
    if (probe_engine_run(e, tl->items, tl->count, on_result, &run, err, sizeof(err)) != 0) {
        cli_err("fetch", "%s", err);
        run.rc = EXIT_INTERNAL;
    }
    out_progress_done();
    rc = finish_output(&run);
    if (rc == -1) {
        run.rc = cli_output_failed("fetch");
    } else if (rc != 0) {
        run.rc = rc;
    }
out:
    for (size_t i = 0; run.results != NULL && i < run.n; i++) {
        sk_X509_pop_free(run.results[i].served, X509_free);
        sk_X509_pop_free(run.results[i].verified, X509_free);
    }
    free(run.results);
    free(run.ready);
    json_decref(run.rules);
    probe_engine_free(e);
    return run.rc;
}

int cmd_fetch(int argc, char **argv)
{
    fetch_args a;
    target_list tl = TARGET_LIST_INIT;
    char err[512];
    int rc;

    memset(&a, 0, sizeof(a));
    a.hosts = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a.hosts));
    if (netopt_init(&a.net, fetch_formats) != 0 || a.hosts == NULL) {
        cli_err("fetch", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = parse_args(&a, argc, argv);
    if (rc >= 0) {
        goto out;
    }
    for (size_t i = 0; i < a.nhosts; i++) {
        if (targets_add(&tl, a.hosts[i], NULL, a.servername, probe_starttls_port(a.net.po.starttls),
                        err, sizeof(err)) != 0) {
            cli_err("fetch", "%s", err);
            rc = EXIT_INPUT;
            goto out;
        }
    }
    if (a.targets_file != NULL &&
        targets_load_file(&tl, a.targets_file, a.servername, probe_starttls_port(a.net.po.starttls),
                          err, sizeof(err)) != 0) {
        cli_err("fetch", "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    if (targets_apply_map(&tl, a.net.map, err, sizeof(err)) != 0) {
        cli_err("fetch", "%s", err);
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = run_fetch(&a, &tl);
out:
    targets_free(&tl);
    netopt_free(&a.net);
    json_decref(a.backups);
    free(a.hosts);
    return rc;
}
