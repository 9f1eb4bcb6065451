/*
 * test_probe_starttls.c - the STARTTLS preambles of the probe engine (smtp,
 * imap, pop3, ftp, postgres, xmpp) against small fake servers in one test
 * server process, and `pinset fetch --format json|policy` run as a user
 * runs it, its output parsed with jansson and checked against pins
 * computed here with OpenSSL alone.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <pinset/policy.h>

#include "pki.h"
#include "probe/probe.h"
#include "probe_servers.h"

static int failures;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

enum {
    K_SMTP,
    K_SMTP_NOTLS,
    K_IMAP,
    K_POP3,
    K_FTP,
    K_POSTGRES,
    K_XMPP,
    K_TLS,
    K_CLOSED,
    K_LONG,
    K_N
};

static const srv_kind kinds[K_N] = {SRV_SMTP,   SRV_SMTP_NOTLS, SRV_IMAP, SRV_POP3,
                                    SRV_FTP,    SRV_POSTGRES,   SRV_XMPP, SRV_TLS_EC,
                                    SRV_CLOSED, SRV_TLS_LONG};

static char ec_b64[64], int_b64[64];

typedef struct one {
    probe_status status;
    int validated;
    long verify_error;
    char error[256];
    char leaf[64];
} one;

static void keep_cb(probe_result *r, void *payload)
{
    one *o = payload;

    o->status = r->status;
    o->validated = r->validated;
    o->verify_error = r->verify_error;
    snprintf(o->error, sizeof(o->error), "%s", r->error);
    if (r->served != NULL && sk_X509_num(r->served) > 0) {
        testlib_spki_b64(sk_X509_value(r->served, 0), o->leaf);
    }
}

static one probe_one(const char *cafile, probe_starttls st, uint16_t port, unsigned int tmo)
{
    probe_opts o = PROBE_OPTS_INIT;
    probe_target t;
    probe_engine *e;
    char err[256];
    one res;

    memset(&res, 0, sizeof(res));
    res.status = PROBE_E_INTERNAL;
    memset(&t, 0, sizeof(t));
    t.name = t.host = "mail.probe.test";
    t.port = port;
    t.naddrs = 1;
    t.addrs[0] = "127.0.0.1";
    o.cafile = cafile;
    o.starttls = st;
    o.timeout_ms = tmo;
    e = probe_engine_new(&o, err, sizeof(err));
    CHECK(e != NULL, "engine: %s", err);
    if (e == NULL) {
        return res;
    }
    CHECK(probe_engine_run(e, &t, 1, keep_cb, &res, err, sizeof(err)) == 0, "run: %s", err);
    probe_engine_free(e);
    return res;
}

static void engine_cases(const char *cafile, const srv *s)
{
    static const struct {
        int k;
        probe_starttls st;
    } good[] = {{K_SMTP, PROBE_STARTTLS_SMTP},         {K_IMAP, PROBE_STARTTLS_IMAP},
                {K_POP3, PROBE_STARTTLS_POP3},         {K_FTP, PROBE_STARTTLS_FTP},
                {K_POSTGRES, PROBE_STARTTLS_POSTGRES}, {K_XMPP, PROBE_STARTTLS_XMPP}};
    one r;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        r = probe_one(cafile, good[i].st, s->ports[good[i].k], 5000);
        CHECK(r.status == PROBE_OK && r.validated, "%s: %s (%s)", probe_starttls_name(good[i].st),
              probe_status_name(r.status), r.error);
        CHECK(strcmp(r.leaf, ec_b64) == 0, "%s: leaf pin %s, want %s",
              probe_starttls_name(good[i].st), r.leaf, ec_b64);
    }
    /* the server says no: a starttls failure naming the reply */
    r = probe_one(cafile, PROBE_STARTTLS_SMTP, s->ports[K_SMTP_NOTLS], 5000);
    CHECK(r.status == PROBE_E_STARTTLS && strstr(r.error, "454") != NULL, "smtp 454: %s (%s)",
          probe_status_name(r.status), r.error);
    /* the wrong protocol: smtp against an imap greeting */
    r = probe_one(cafile, PROBE_STARTTLS_SMTP, s->ports[K_IMAP], 5000);
    CHECK(r.status == PROBE_E_STARTTLS && strstr(r.error, "* OK") != NULL, "smtp vs imap: %s (%s)",
          probe_status_name(r.status), r.error);
    /* a TLS port never greets: the step times out, within its bound */
    r = probe_one(cafile, PROBE_STARTTLS_POP3, s->ports[K_TLS], 500);
    CHECK(r.status == PROBE_E_TIMEOUT, "pop3 vs tls: %s (%s)", probe_status_name(r.status),
          r.error);
    /* and no preamble at all against a starttls server: the greeting is not tls */
    r = probe_one(cafile, PROBE_STARTTLS_NONE, s->ports[K_SMTP], 5000);
    CHECK(r.status == PROBE_E_NOT_TLS, "tls vs smtp: %s (%s)", probe_status_name(r.status),
          r.error);
}

static int hook_calls;

static int refuse_hook(SSL *ssl, const probe_target *t, void *payload)
{
    (void)ssl;
    (void)t;
    (void)payload;
    hook_calls++;
    return 1;
}

/* The caller's SSL_CTX and hook, as `pinset check` installs pinset's verify hooks. */
static void engine_hook_cases(const char *cafile, const srv *s)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    probe_opts o = PROBE_OPTS_INIT;
    probe_target t;
    probe_engine *e;
    char err[256];
    one r;

    memset(&t, 0, sizeof(t));
    t.name = t.host = "wrong.example";
    t.port = s->ports[K_TLS];
    t.naddrs = 1;
    t.addrs[0] = "127.0.0.1";
    CHECK(ctx != NULL && SSL_CTX_load_verify_locations(ctx, cafile, NULL) == 1, "ctx");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL); /* a verify failure aborts the handshake */
    o.ctx = ctx;
    o.timeout_ms = 5000;
    e = probe_engine_new(&o, err, sizeof(err));
    CHECK(e != NULL, "engine: %s", err);
    memset(&r, 0, sizeof(r));
    if (e != NULL) {
        CHECK(probe_engine_run(e, &t, 1, keep_cb, &r, err, sizeof(err)) == 0, "run: %s", err);
        probe_engine_free(e);
    }
    CHECK(r.status == PROBE_E_HANDSHAKE && r.verify_error == X509_V_ERR_HOSTNAME_MISMATCH,
          "caller ctx, wrong name: %s %ld (%s)", probe_status_name(r.status), r.verify_error,
          r.error);
    CHECK(strcmp(r.leaf, ec_b64) == 0, "the rejected chain is kept: leaf '%s'", r.leaf);
    CHECK(strstr(r.error, "hostname mismatch") != NULL, "message names the verify error: %s",
          r.error);

    o.on_ssl = refuse_hook;
    e = probe_engine_new(&o, err, sizeof(err));
    memset(&r, 0, sizeof(r));
    if (e != NULL) {
        CHECK(probe_engine_run(e, &t, 1, keep_cb, &r, err, sizeof(err)) == 0, "run: %s", err);
        probe_engine_free(e);
    }
    CHECK(hook_calls == 1 && r.status == PROBE_E_INTERNAL, "refusing hook: %d calls, %s",
          hook_calls, probe_status_name(r.status));
    SSL_CTX_free(ctx);
}

/* Run the tool; returns its exit status and its stdout (caller frees). */
static int run_tool(const char *args, char **out)
{
    const char *bin = getenv("PINSET_BIN");
    char cmd[4096];
    size_t cap = 1 << 20, len = 0;
    FILE *p;
    int st;

    *out = calloc(1, cap + 1);
    snprintf(cmd, sizeof(cmd), "'%s' fetch %s 2>/dev/null", bin, args);
    p = popen(cmd, "r");
    if (p == NULL || *out == NULL) {
        return -1;
    }
    while (len < cap) {
        size_t r = fread(*out + len, 1, cap - len, p);
        if (r == 0) {
            break;
        }
        len += r;
    }
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *jstr(json_t *o, const char *path0, const char *path1)
{
    json_t *v = json_object_get(o, path0);

    if (path1 != NULL) {
        v = json_object_get(v, path1);
    }
    return json_string_value(v);
}

static void cli_json_cases(const char *cafile, const srv *s)
{
    char args[2048], *out = NULL;
    json_error_t jerr;
    json_t *doc, *hosts, *h, *served, *valid;
    int rc;

    snprintf(args, sizeof(args),
             "--format json --cafile '%s' --resolve probe.test:%u:127.0.0.1 probe.test:%u "
             "127.0.0.1:%u",
             cafile, s->ports[K_TLS], s->ports[K_TLS], s->ports[K_CLOSED]);
    rc = run_tool(args, &out);
    CHECK(rc == 4, "exit status %d with one refused host, want 4", rc);
    doc = json_loads(out, 0, &jerr);
    CHECK(doc != NULL, "json: %s at line %d", jerr.text, jerr.line);
    hosts = json_object_get(doc, "hosts");
    CHECK(json_is_array(hosts) && json_array_size(hosts) == 2, "hosts array");
    h = json_array_get(hosts, 0);
    CHECK(jstr(h, "status", NULL) && strcmp(jstr(h, "status", NULL), "ok") == 0, "status");
    CHECK(json_is_true(json_object_get(h, "validated")), "validated");
    CHECK(json_is_null(json_object_get(h, "verify_error")), "verify_error");
    CHECK(jstr(h, "connect", "host") && strcmp(jstr(h, "connect", "host"), "probe.test") == 0,
          "connect.host");
    CHECK(jstr(h, "address", NULL) && strncmp(jstr(h, "address", NULL), "127.0.0.1:", 10) == 0,
          "address");
    CHECK(json_is_integer(json_object_get(json_object_get(h, "timing_us"), "handshake")),
          "timing_us.handshake");
    served = json_object_get(h, "served_chain");
    valid = json_object_get(h, "validated_chain");
    CHECK(json_array_size(served) == 2 && json_array_size(valid) == 3, "chain lengths %zu %zu",
          json_array_size(served), json_array_size(valid));
    CHECK(jstr(json_array_get(served, 0), "spki_sha256", NULL) &&
              strcmp(jstr(json_array_get(served, 0), "spki_sha256", NULL), ec_b64) == 0,
          "leaf spki pin differs from OpenSSL's");
    CHECK(jstr(json_array_get(valid, 1), "spki_sha256", NULL) &&
              strcmp(jstr(json_array_get(valid, 1), "spki_sha256", NULL), int_b64) == 0,
          "intermediate spki pin differs from OpenSSL's");
    CHECK(strcmp(jstr(json_array_get(valid, 0), "position", NULL), "leaf") == 0 &&
              strcmp(jstr(json_array_get(valid, 1), "position", NULL), "intermediate") == 0 &&
              strcmp(jstr(json_array_get(valid, 2), "position", NULL), "root") == 0,
          "positions");
    CHECK(strcmp(jstr(json_array_get(valid, 0), "key", "type"), "EC") == 0 &&
              strcmp(jstr(json_array_get(valid, 0), "key", "curve"), "P-256") == 0,
          "key type");
    h = json_array_get(hosts, 1);
    CHECK(jstr(h, "status", NULL) && strcmp(jstr(h, "status", NULL), "refused") == 0,
          "second host status");
    CHECK(json_is_null(json_object_get(h, "served_chain")), "no chain for a refused host");
    json_decref(doc);
    free(out);

    /* --connect-to: dial the smtp port for mail.example:25, verify probe.test's chain */
    snprintf(args, sizeof(args),
             "--format json --starttls smtp --cafile '%s' --servername probe.test "
             "--connect-to mail.example:25:127.0.0.1:%u mail.example",
             cafile, s->ports[K_SMTP]);
    rc = run_tool(args, &out);
    CHECK(rc == 0, "starttls smtp via --connect-to: exit %d", rc);
    doc = json_loads(out, 0, &jerr);
    h = json_array_get(json_object_get(doc, "hosts"), 0);
    CHECK(h != NULL && jstr(h, "host", NULL) &&
              strcmp(jstr(h, "host", NULL), "mail.example") == 0 &&
              json_integer_value(json_object_get(h, "port")) == 25,
          "host and default smtp port");
    CHECK(json_is_true(json_object_get(h, "validated")), "smtp chain validated");
    json_decref(doc);
    free(out);

    /* --format policy: a document the library parses, leaf and issuing CA pins */
    snprintf(args, sizeof(args),
             "--format policy --cafile '%s' --resolve probe.test:%u:127.0.0.1 probe.test:%u",
             cafile, s->ports[K_TLS], s->ports[K_TLS]);
    rc = run_tool(args, &out);
    CHECK(rc == 0, "policy: exit %d", rc);
    {
        pinset_policy *pol = NULL;
        pinset_diag diag = PINSET_DIAG_INIT;
        pinset_err perr = pinset_policy_parse(&pol, (const uint8_t *)out, strlen(out), &diag);
        CHECK(perr == PINSET_OK, "policy does not parse: %s", diag.message);
        if (perr == PINSET_OK) {
            const pinset_rule *rule = pinset_policy_lookup(pol, "probe.test", 10, NULL);
            CHECK(rule != NULL && pinset_rule_pin_count(rule) == 2, "policy rule with 2 pins");
            if (rule != NULL && pinset_rule_pin_count(rule) == 2) {
                CHECK(pinset_rule_pin_role(rule, 0) == PINSET_ROLE_LEAF &&
                          pinset_rule_pin_role(rule, 1) == PINSET_ROLE_CA,
                      "pin roles");
            }
        }
        pinset_policy_free(pol);
    }
    doc = json_loads(out, 0, &jerr);
    {
        json_t *pins = json_object_get(json_array_get(json_object_get(doc, "rules"), 0), "pins");
        CHECK(jstr(json_array_get(pins, 0), "sha256", NULL) &&
                  strcmp(jstr(json_array_get(pins, 0), "sha256", NULL), ec_b64) == 0,
              "policy leaf pin");
        CHECK(jstr(json_array_get(pins, 1), "sha256", NULL) &&
                  strcmp(jstr(json_array_get(pins, 1), "sha256", NULL), int_b64) == 0,
              "policy ca pin");
    }
    json_decref(doc);
    free(out);
}

/* A subject of about 390 octets with UTF-8: JSON keeps it whole, the policy label is cut to 256
 * octets. */
static void cli_long_subject(const char *cafile, const srv *s)
{
    char args[2048], *out = NULL;
    json_error_t jerr;
    json_t *doc;
    const char *subj, *label;
    int rc;

    snprintf(args, sizeof(args),
             "--format json --cafile '%s' --resolve probe.test:%u:127.0.0.1 probe.test:%u", cafile,
             s->ports[K_LONG], s->ports[K_LONG]);
    rc = run_tool(args, &out);
    CHECK(rc == 0, "long subject: exit %d", rc);
    doc = json_loads(out, 0, &jerr);
    subj = jstr(
        json_array_get(
            json_object_get(json_array_get(json_object_get(doc, "hosts"), 0), "served_chain"), 0),
        "subject", NULL);
    CHECK(subj != NULL && strlen(subj) > 350 && strstr(subj, "Z\xc3\xbcrich \xe2\x98\x83") != NULL,
          "long subject kept whole in UTF-8: %s", subj != NULL ? subj : "(none)");
    json_decref(doc);
    free(out);

    snprintf(args, sizeof(args),
             "--format policy --cafile '%s' --resolve probe.test:%u:127.0.0.1 probe.test:%u",
             cafile, s->ports[K_LONG], s->ports[K_LONG]);
    rc = run_tool(args, &out);
    CHECK(rc == 0, "long subject policy: exit %d", rc);
    {
        pinset_policy *pol = NULL;
        pinset_diag diag = PINSET_DIAG_INIT;
        CHECK(pinset_policy_parse(&pol, (const uint8_t *)out, strlen(out), &diag) == PINSET_OK,
              "long subject policy does not parse: %s", diag.message);
        pinset_policy_free(pol);
    }
    doc = json_loads(out, 0, &jerr);
    label = jstr(json_array_get(
                     json_object_get(json_array_get(json_object_get(doc, "rules"), 0), "pins"), 0),
                 "label", NULL);
    CHECK(label != NULL && strlen(label) <= 256 && strlen(label) > 200, "label of %zu octets",
          label != NULL ? strlen(label) : 0);
    json_decref(doc);
    free(out);
}

int main(void)
{
    const char *data = getenv("PINSET_TESTDATA");
    char dir[1024], cafile[1100];
    srv s;

    if (data == NULL || getenv("PINSET_BIN") == NULL) {
        fprintf(stderr, "skip: PINSET_TESTDATA or PINSET_BIN not set\n");
        return 77;
    }
    snprintf(dir, sizeof(dir), "%s/probe", data);
    snprintf(cafile, sizeof(cafile), "%s/ca.crt.pem", dir);
    if (access(cafile, R_OK) != 0) {
        fprintf(stderr, "skip: no test PKI in %s (openssl missing?)\n", dir);
        return 77;
    }
    CHECK(testlib_file_spki_b64(dir, "leaf-ec.crt.pem", ec_b64) == 0, "leaf-ec");
    CHECK(testlib_file_spki_b64(dir, "int.crt.pem", int_b64) == 0, "int");
    if (srv_start(&s, kinds, K_N, dir) != 0) {
        fprintf(stderr, "FAIL: cannot start the test server\n");
        srv_stop(&s);
        return 1;
    }
    engine_cases(cafile, &s);
    engine_hook_cases(cafile, &s);
    cli_json_cases(cafile, &s);
    cli_long_subject(cafile, &s);
    srv_stop(&s);
    if (failures != 0) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
