/*
 * envoy.c - Envoy's validation_context as YAML (libyaml's emitter), written
 * from the one model: one YAML document per rule, each an UpstreamTlsContext
 * (envoy.extensions.transport_sockets.tls.v3) with the rule's host as `sni`
 * and its pins in common_tls_context.validation_context:
 * `verify_certificate_spki` (base64 SHA-256 of the leaf's SPKI) and
 * `verify_certificate_hash` (hex SHA-256 of the leaf certificate's DER).
 * Envoy checks both against the presented (leaf) certificate only; a match
 * in either list accepts it. docs/formats.md lists what is lost.
 */
#include <stdio.h>
#include <yaml.h>

#include <pinset/host.h>
#include <pinset/pin.h>

#include "xf.h"

struct em {
    yaml_emitter_t e;
    int ok;
    pinset_fidelity *f;
    const pinset_rule *r;
    pinset_diag *diag;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    return pinset__buf_append(data, buffer, size) == PINSET_OK;
}

static void emit(struct em *m, yaml_event_t *ev, int init_ok)
{
    if (!m->ok) {
        if (init_ok) {
            yaml_event_delete(ev);
        }
        return;
    }
    m->ok = init_ok && yaml_emitter_emit(&m->e, ev);
}

/* A scalar; `quoted` for values that must stay strings (hex could read as a number). */
static void scalar(struct em *m, const char *s, int quoted)
{
    yaml_event_t ev;
    int ok = yaml_scalar_event_initialize(
        &ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)strlen(s), !quoted, 1,
        quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE);
    emit(m, &ev, ok);
}

static void map_start(struct em *m)
{
    yaml_event_t ev;
    int ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    emit(m, &ev, ok);
}

static void map_end(struct em *m)
{
    yaml_event_t ev;
    int ok = yaml_mapping_end_event_initialize(&ev);
    emit(m, &ev, ok);
}

static void seq(struct em *m, const char *key, char (*items)[128], size_t n)
{
    yaml_event_t ev;
    int ok;

    if (n == 0) {
        return;
    }
    scalar(m, key, 0);
    ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    emit(m, &ev, ok);
    for (size_t i = 0; i < n; i++) {
        scalar(m, items[i], 1);
    }
    ok = yaml_sequence_end_event_initialize(&ev);
    emit(m, &ev, ok);
}

static pinset_err lose(struct em *m, const char *field, const char *reason)
{
    pinset_err err =
        pinset_fidelity_add(m->f, pinset_rule_index(m->r), pinset_rule_host(m->r), field, reason);
    return err == PINSET_OK ? PINSET_OK : PINSET_DIAG(m->diag, err, "out of memory");
}

/* What Envoy's validation_context cannot say about the rule, besides its pins. */
static pinset_err rule_losses(struct em *m, pinset_host_type type)
{
    const pinset_rule *r = m->r;
    size_t def = pinset_rule_mode(r) == PINSET_MODE_REPORT ? 1 : 2;
    pinset_err err = PINSET_OK;

    if (pinset_rule_scope(r) != PINSET_SCOPE_EXACT) {
        err = lose(m, "include_subdomains",
                   "an Envoy cluster names one host (sni): use the context on the clusters "
                   "of the subdomains too");
    }
    if (err == PINSET_OK && type != PINSET_HOST_DNS) {
        err = lose(m, "host", "an IP address is not sent as SNI: no sni written");
    }
    if (err == PINSET_OK && pinset_rule_mode(r) == PINSET_MODE_REPORT) {
        err = lose(m, "mode", "Envoy has no report-only mode: written enforcing");
    }
    if (err == PINSET_OK && pinset_rule_expires(r) != 0) {
        err = lose(m, "expires", "Envoy's pins do not expire");
    }
    if (err == PINSET_OK && pinset_rule_report_uri_count(r) > 0) {
        err = lose(m, "report_uris", "Envoy sends no pin reports");
    }
    if (err == PINSET_OK && pinset_rule_blocked_count(r) > 0) {
        err = lose(m, "blocked", "Envoy has no blocked keys");
    }
    if (err == PINSET_OK && pinset_rule_min_pins(r) != def) {
        err = lose(m, "min_pins", "Envoy has no backup-pin count");
    }
    if (err == PINSET_OK && pinset_rule_pinset_name(r) != NULL) {
        err = lose(m, "pinset", "Envoy has no named pin-sets: the pins are written inline");
    }
    return err;
}

/* The rule's leaf pins into spki[] and hash[] (at most 256 each, as the model). */
static pinset_err collect(struct em *m, char (*spki)[128], size_t *ns, char (*hash)[128],
                          size_t *nh)
{
    const pinset_rule *r = m->r;
    char field[48];
    pinset_err err = PINSET_OK;

    *ns = *nh = 0;
    for (size_t i = 0; err == PINSET_OK && i < pinset_rule_pin_count(r) && i < 256; i++) {
        const pinset_pin *pin = pinset_rule_pin(r, i);
        pinset_role role = pinset_rule_pin_role(r, i);
        (void)snprintf(field, sizeof(field), "pins[%zu]", i);
        if (role == PINSET_ROLE_CA) {
            err = lose(m, field, "Envoy checks the leaf certificate only: a CA pin is not written");
            continue;
        }
        if (role != PINSET_ROLE_LEAF) {
            (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
            err = lose(m, field,
                       "Envoy checks the leaf certificate only: the pin is written and matches "
                       "only the leaf");
        }
        if (err == PINSET_OK && pinset_rule_pin_label(r, i) != NULL) {
            (void)snprintf(field, sizeof(field), "pins[%zu].label", i);
            err = lose(m, field, "Envoy's pins have no label");
        }
        if (err == PINSET_OK && pinset_rule_pin_not_after(r, i) != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].not_after", i);
            err = lose(m, field, "Envoy's pins do not expire");
        }
        if (err != PINSET_OK) {
            break;
        }
        if (pin->kind == PINSET_PIN_SPKI) {
            err = pinset_pin_format(spki[(*ns)++], 128, pin, PINSET_PIN_FMT_BASE64);
        } else {
            err = pinset_pin_format(hash[(*nh)++], 128, pin, PINSET_PIN_FMT_HEX);
        }
    }
    return err;
}

static pinset_err document(struct em *m, size_t i, char (*spki)[128], char (*hash)[128])
{
    const char *host = pinset_rule_host(m->r);
    pinset_host_type type = PINSET_HOST_DNS;
    char canon[PINSET_HOST_MAX];
    size_t ns = 0, nh = 0;
    yaml_event_t ev;
    int ok;
    pinset_err err;

    if (pinset_host_canon(canon, sizeof(canon), &type, host, strlen(host), NULL) != PINSET_OK) {
        type = PINSET_HOST_DNS; /* the model's hosts are canonical already */
    }
    err = rule_losses(m, type);
    if (err == PINSET_OK) {
        err = collect(m, spki, &ns, hash, &nh);
    }
    if (err != PINSET_OK) {
        return err;
    }
    if (ns + nh == 0) {
        return PINSET_DIAG(m->diag, PINSET_E_UNSUPPORTED,
                           "rules[%zu] ('%s'): no leaf pin that Envoy can carry", i, host);
    }
    ok = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
    emit(m, &ev, ok);
    map_start(m);
    if (type == PINSET_HOST_DNS) {
        scalar(m, "sni", 0);
        scalar(m, host, 0);
    }
    scalar(m, "common_tls_context", 0);
    map_start(m);
    scalar(m, "validation_context", 0);
    map_start(m);
    seq(m, "verify_certificate_spki", spki, ns);
    seq(m, "verify_certificate_hash", hash, nh);
    map_end(m);
    map_end(m);
    map_end(m);
    ok = yaml_document_end_event_initialize(&ev, 1);
    emit(m, &ev, ok);
    return PINSET_OK;
}

pinset_err xf_envoy_export(pinset_fidelity *f, const pinset_policy *p,
                           const pinset_convert_options *opts, struct pinset__buf *out,
                           pinset_diag *diag)
{
    char want[PINSET_HOST_MAX] = "";
    char(*spki)[128] = NULL, (*hash)[128] = NULL;
    size_t written = 0, selected = 0;
    struct em m;
    yaml_event_t ev;
    int ok;
    pinset_err err = PINSET_OK;

    if (opts->host != NULL && pinset_host_canon(want, sizeof(want), NULL, opts->host,
                                                strlen(opts->host), diag) != PINSET_OK) {
        return diag != NULL ? diag->code : PINSET_E_INVALID_ARG;
    }
    memset(&m, 0, sizeof(m));
    spki = malloc(256 * sizeof(*spki));
    hash = malloc(256 * sizeof(*hash));
    if (spki == NULL || hash == NULL || !yaml_emitter_initialize(&m.e)) {
        free(spki);
        free(hash);
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    m.ok = 1;
    m.f = f;
    m.diag = diag;
    yaml_emitter_set_output(&m.e, write_handler, out);
    yaml_emitter_set_unicode(&m.e, 1);
    yaml_emitter_set_width(&m.e, -1);
    ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    emit(&m, &ev, ok);
    for (size_t i = 0; err == PINSET_OK && i < pinset_policy_rule_count(p); i++) {
        m.r = pinset_policy_rule(p, i);
        if (want[0] != '\0' && strcmp(pinset_rule_host(m.r), want) != 0) {
            continue;
        }
        selected++;
        if (pinset_rule_is_exclusion(m.r)) {
            err = lose(&m, "exclude",
                       "Envoy has no exclusions: not written (no context is the same as no "
                       "pins for a cluster)");
            continue;
        }
        err = document(&m, i, spki, hash);
        written++;
    }
    if (err == PINSET_OK && want[0] != '\0' && selected == 0) {
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "no rule for the host '%s'", want);
    }
    if (err == PINSET_OK && written == 0) {
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "no rule to write");
    }
    if (err == PINSET_OK) {
        ok = yaml_stream_end_event_initialize(&ev);
        emit(&m, &ev, ok);
        if (m.ok) {
            m.ok = yaml_emitter_flush(&m.e);
        }
        if (!m.ok) {
            err = PINSET_DIAG(diag, PINSET_E_NOMEM, "YAML emitter: %s",
                              m.e.problem != NULL ? m.e.problem : "out of memory");
        }
    }
    yaml_emitter_delete(&m.e);
    free(spki);
    free(hash);
    return err;
}
