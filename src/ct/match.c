/*
 * match.c - watched names and the known-keys check (see match.h).
 */
#include "ct/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/merkle.h"
#include "util/base.h"

/* An exact rule, filed under its parent domain: what a wildcard one label above covers. */
struct child {
    const char *parent;
    const pinset_rule *rule;
};

struct ct_check {
    pinset_policy *policy;
    struct child *children;
    size_t nchildren;
};

/* The label that stands for "any host one label below" when looking up a wildcard's rule. */
#define PROBE_LABEL "ct-wildcard-probe."

static int child_cmp(const void *a, const void *b)
{
    return strcmp(((const struct child *)a)->parent, ((const struct child *)b)->parent);
}

int ct_check_new(ct_check **out, pinset_policy *policy)
{
    ct_check *c = calloc(1, sizeof(*c));
    size_t n = pinset_policy_rule_count(policy);

    *out = NULL;
    if (c == NULL) {
        return -1;
    }
    c->children = n > 0 ? calloc(n, sizeof(*c->children)) : NULL;
    if (n > 0 && c->children == NULL) {
        free(c);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const pinset_rule *r = pinset_policy_rule(policy, i);
        const char *host = pinset_rule_host(r), *dot;

        if (r == NULL || host == NULL || pinset_rule_is_exclusion(r) ||
            (dot = strchr(host, '.')) == NULL) {
            continue;
        }
        c->children[c->nchildren].parent = dot + 1;
        c->children[c->nchildren].rule = r;
        c->nchildren++;
    }
    if (c->nchildren > 1) {
        qsort(c->children, c->nchildren, sizeof(*c->children), child_cmp);
    }
    c->policy = pinset_policy_ref(policy);
    *out = c;
    return 0;
}

void ct_check_free(ct_check *c)
{
    if (c == NULL) {
        return;
    }
    pinset_policy_free(c->policy);
    free(c->children);
    free(c);
}

/* The state of one entry's check, shared by its names. */
struct entry {
    ct_check *c;
    const ct_leaf *leaf;
    const uint8_t *spki;
    size_t spki_len;
    int have_pins; /* spki (and cert) pins computed */
    pinset_pin spki_pin, cert_pin;
    int have_cert_pin;
    ct_finding_cb cb;
    void *payload;
    int findings, watched, failed;
    char *err;
    size_t errcap;
};

/*
 * The entry's spki pin: SHA-256 of the SubjectPublicKeyInfo exactly as the certificate encodes
 * it (the strict walk found its span), as a pin is defined (RFC 7469 section 2.4). Not decoded:
 * a key that does not decode is not a pinned key either, and decoding every watched entry's key
 * with OpenSSL costs more than the rest of the pass.
 */
static int pins_of(struct entry *e)
{
    if (e->have_pins) {
        return 0;
    }
    if (ct_sha256(e->spki_pin.sha256, e->spki, e->spki_len) != 0) {
        snprintf(e->err, e->errcap, "cannot hash the SubjectPublicKeyInfo");
        return -1;
    }
    e->spki_pin.kind = PINSET_PIN_SPKI;
    e->have_pins = 1;
    return 0;
}

/* Whether p is the entry's key, or (a cert pin) its certificate; precerts have no certificate. */
static int known(struct entry *e, const pinset_pin *p)
{
    if (p->kind != PINSET_PIN_CERT) {
        return pinset_pin_equal(p, &e->spki_pin);
    }
    if (!e->have_cert_pin && e->leaf->type == CT_ENTRY_X509 &&
        ct_sha256(e->cert_pin.sha256, e->leaf->der, e->leaf->der_len) == 0) {
        e->cert_pin.kind = PINSET_PIN_CERT;
        e->have_cert_pin = 1;
    }
    return e->have_cert_pin && pinset_pin_equal(p, &e->cert_pin);
}

/* One watched (name, rule) pair: a finding unless the key is one of the rule's. */
static int check_rule(struct entry *e, const pinset_rule *r, const char *name, int from_cn)
{
    ct_finding f;
    size_t n = pinset_rule_pin_count(r), i;
    const char *kind = "unknown-key";
    int rc;

    if (r == NULL || pinset_rule_is_exclusion(r)) {
        return 0;
    }
    e->watched = 1;
    if (pins_of(e) != 0) {
        return -1;
    }
    for (i = 0; i < pinset_rule_blocked_count(r); i++) {
        if (known(e, pinset_rule_blocked(r, i))) {
            break;
        }
    }
    if (i == pinset_rule_blocked_count(r)) {
        for (i = 0; i < n; i++) {
            if (known(e, pinset_rule_pin(r, i))) {
                return 0;
            }
        }
        if (n == 0) {
            return 0; /* a rule with no pins of its own pins nothing */
        }
    } else {
        kind = "blocked-key";
    }
    f.kind = kind;
    f.name = name;
    f.rule = pinset_rule_host(r);
    f.from_cn = from_cn;
    f.spki = e->spki_pin;
    e->findings++;
    if (e->cb != NULL && (rc = e->cb(&f, e->payload)) != 0) {
        return rc < 0 ? rc : -rc - 1;
    }
    return 0;
}

static int on_name(const char *name, size_t len, int from_cn, void *payload)
{
    struct entry *e = payload;
    char host[256], probe[sizeof(PROBE_LABEL) + 256];
    const pinset_rule *r;
    pinset_match how = PINSET_MATCH_NONE;
    int rc;

    if (len == 0 || len >= sizeof(host) || memchr(name, '\0', len) != NULL) {
        return 0; /* not a host name: nothing can be pinned for it */
    }
    memcpy(host, name, len);
    host[len] = '\0';
    if (len > 2 && host[0] == '*' && host[1] == '.') {
        struct child key = {host + 2, NULL}, *hit;

        snprintf(probe, sizeof(probe), PROBE_LABEL "%s", host + 2);
        r = pinset_policy_lookup(e->c->policy, probe, strlen(probe), &how);
        if (how != PINSET_MATCH_EXACT && (rc = check_rule(e, r, host, from_cn)) != 0) {
            return rc;
        }
        hit = e->c->nchildren > 0 ? bsearch(&key, e->c->children, e->c->nchildren,
                                            sizeof(*e->c->children), child_cmp)
                                  : NULL;
        if (hit == NULL) {
            return 0;
        }
        while (hit > e->c->children && child_cmp(hit - 1, &key) == 0) {
            hit--;
        }
        for (; hit < e->c->children + e->c->nchildren && child_cmp(hit, &key) == 0; hit++) {
            if ((rc = check_rule(e, hit->rule, host, from_cn)) != 0) {
                return rc;
            }
        }
        return 0;
    }
    r = pinset_policy_lookup(e->c->policy, host, len, &how);
    return check_rule(e, r, host, from_cn);
}

int ct_check_entry(ct_check *c, const ct_leaf *leaf, ct_finding_cb cb, void *payload,
                   int *watched_out, char *err, size_t errcap)
{
    struct entry e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.c = c;
    e.leaf = leaf;
    e.cb = cb;
    e.payload = payload;
    e.err = err;
    e.errcap = errcap;
    if (watched_out != NULL) {
        *watched_out = 0;
    }
    rc = ct_cert_walk(leaf->der, leaf->der_len, leaf->type == CT_ENTRY_PRECERT, &e.spki,
                      &e.spki_len, on_name, &e, err, errcap);
    if (watched_out != NULL) {
        *watched_out = e.watched;
    }
    if (rc != 0) {
        return rc;
    }
    return e.findings;
}
