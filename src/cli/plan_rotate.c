/*
 * plan_rotate.c - `pinset plan --rotate HOST`: a safe order to move HOST's
 * leaf to another key.
 *
 * The candidates are the keys the fleet's policies already name for HOST
 * (spki pins of role backup, any or leaf that the current leaf does not
 * hold, and that still count at the date), then a new key that no version
 * pins. For each, every version is judged on a leaf on that key under the
 * current issuing chain, as `plan --key` does (pinset_check_pins). A
 * candidate is safe now when no version in support breaks; otherwise it is
 * safe from the day every version it breaks is past its end of support, or
 * never by end of support alone when one of them has none.
 */
#include <jansson.h>

#include <openssl/evp.h>

#include "check_out.h"
#include "out.h"
#include "plan.h"

#define ROTATE_CANDIDATES_MAX 64

typedef struct candidate {
    pinset_pin spki;
    int fresh;             /* a new key that no version pins */
    pinset_role role;      /* the role the first version that pins it gives it */
    const char *label;     /* that pin's label, or NULL (borrowed from the policy) */
    unsigned char *pins;   /* per version: 1 when its rule for the host holds the key */
    unsigned char *break_; /* per version: in support and breaks */
    size_t breaking;
    double share_at_risk;
    size_t share_unknown;
    int64_t safe_from; /* 0: never by end of support alone; d->at: now */
} candidate;

typedef struct rotation {
    candidate c[ROTATE_CANDIDATES_MAX + 1];
    size_t n;
    pinset_pin current; /* the current leaf's spki pin */
} rotation;

static const pinset_rule *host_rule(const plan_doc *d, size_t v)
{
    const pinset_rule *r =
        pinset_policy_lookup(d->fleet->v[v].policy, d->hosts[0], strlen(d->hosts[0]), NULL);

    return r != NULL && !pinset_rule_is_exclusion(r) ? r : NULL;
}

static int add_candidates(rotation *rt, const plan_doc *d)
{
    for (size_t v = 0; v < d->fleet->count; v++) {
        const pinset_rule *r = host_rule(d, v);
        for (size_t i = 0; r != NULL && i < pinset_rule_pin_count(r); i++) {
            const pinset_pin *p = pinset_rule_pin(r, i);
            int64_t na = pinset_rule_pin_not_after(r, i);
            size_t k = 0;
            if (p->kind != PINSET_PIN_SPKI || pinset_rule_pin_role(r, i) == PINSET_ROLE_CA ||
                (na != 0 && na <= d->at) || pinset_pin_equal(p, &rt->current)) {
                continue;
            }
            while (k < rt->n && !pinset_pin_equal(&rt->c[k].spki, p)) {
                k++;
            }
            if (k < rt->n) {
                continue;
            }
            if (rt->n == ROTATE_CANDIDATES_MAX) {
                cli_err("plan", "--rotate: more than %d candidate keys", ROTATE_CANDIDATES_MAX);
                return EXIT_INPUT;
            }
            rt->c[rt->n].spki = *p;
            rt->c[rt->n].role = pinset_rule_pin_role(r, i);
            rt->c[rt->n].label = pinset_rule_pin_label(r, i);
            rt->n++;
        }
    }
    return 0;
}

/* A key no version pins: its pin is the digest of a fixed label, which no policy holds. */
static int add_fresh(rotation *rt)
{
    static const char tag[] = "pinset plan: a new key that no version pins";
    unsigned int mdlen = 0;

    rt->c[rt->n].spki.kind = PINSET_PIN_SPKI;
    if (EVP_Digest(tag, sizeof(tag), rt->c[rt->n].spki.sha256, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != PINSET_PIN_LEN) {
        return -1;
    }
    rt->c[rt->n].fresh = 1;
    rt->n++;
    return 0;
}

/* Judge a leaf on candidate c; record what breaks and from when it is safe. */
static int judge(candidate *c, plan_doc *d, X509_STORE *store, STACK_OF(X509) * sent,
                 pinset_result *res)
{
    pinset_cert_pins leaf;
    int rc;

    if (plan_new_leaf_pins(&leaf, &c->spki) != 0) {
        return EXIT_INTERNAL;
    }
    d->new_leaf = &leaf;
    rc = plan_judge_host(d, 0, store, sent, res);
    d->new_leaf = NULL;
    if (rc != 0) {
        return rc;
    }
    plan_summarise(d);
    c->breaking = d->breaking;
    c->share_at_risk = d->share_at_risk;
    c->share_unknown = d->share_unknown;
    c->safe_from = d->at;
    for (size_t v = 0; v < d->fleet->count; v++) {
        const plan_version *pv = &d->fleet->v[v];
        const pinset_rule *r = host_rule(d, v);
        for (size_t i = 0; r != NULL && i < pinset_rule_pin_count(r); i++) {
            c->pins[v] |= pinset_pin_equal(pinset_rule_pin(r, i), &c->spki);
        }
        c->break_[v] = plan_version_in_support(pv, d->at) && plan_version_breaks(d, v);
        if (!c->break_[v]) {
            continue;
        }
        if (pv->end_of_support == 0 || c->safe_from == 0) {
            c->safe_from = 0;
        } else if (pv->end_of_support > c->safe_from) {
            c->safe_from = pv->end_of_support;
        }
    }
    return 0;
}

/* The proposal: the first candidate safe now, else the one safe soonest, else the least share. */
static size_t best(const rotation *rt)
{
    size_t b = 0;

    for (size_t k = 0; k < rt->n; k++) {
        const candidate *c = &rt->c[k], *o = &rt->c[b];
        if (c->breaking == 0 && o->breaking != 0) {
            b = k;
        } else if (o->breaking == 0) {
            continue;
        } else if (c->safe_from != 0 && (o->safe_from == 0 || c->safe_from < o->safe_from)) {
            b = k;
        } else if (c->safe_from == o->safe_from && c->share_at_risk < o->share_at_risk) {
            b = k;
        }
    }
    return b;
}

static void names(FILE *f, const plan_doc *d, const unsigned char *set)
{
    size_t said = 0;

    for (size_t v = 0; v < d->fleet->count; v++) {
        if (set[v]) {
            fprintf(f, "%s", said++ ? ", " : "");
            out_safe(f, d->fleet->v[v].name);
        }
    }
    if (said == 0) {
        fprintf(f, "none");
    }
}

static void print_candidate(const rotation *rt, const plan_doc *d, size_t k)
{
    const candidate *c = &rt->c[k];
    char pin[PINSET_PIN_STR_MAX], t[OUT_TIME_MAX];

    if (c->fresh) {
        printf("candidate %zu: a new key that no version pins\n", k + 1);
    } else {
        chk_pin_text(pin, sizeof(pin), &c->spki);
        printf("candidate %zu: key %s (role %s", k + 1, pin, pinset_role_name(c->role));
        if (c->label != NULL) {
            printf(", \"");
            out_safe(stdout, c->label);
            printf("\"");
        }
        printf("), pinned by ");
        names(stdout, d, c->pins);
        printf("\n");
    }
    if (c->breaking == 0) {
        printf("  safe now: no version in support breaks\n");
        return;
    }
    printf("  breaks ");
    names(stdout, d, c->break_);
    printf(": share at risk %.4g%s\n", c->share_at_risk,
           c->share_unknown > 0 ? " (and versions with no share)" : "");
    if (c->safe_from != 0) {
        (void)out_time_iso(t, sizeof(t), c->safe_from);
        printf("  safe from %s, when they are all past their end of support\n", t);
    } else {
        printf("  never safe by end of support alone: a version it breaks has no end of support\n");
    }
}

static void print_proposal(const rotation *rt, size_t b)
{
    const candidate *c = &rt->c[b];
    char t[OUT_TIME_MAX];

    if (c->breaking == 0) {
        printf("proposal: move the leaf to candidate %zu now; the old key may go as soon as the "
               "server has moved. Then make a new backup key (pinset backup-key new) and ship "
               "its pin in the next release\n",
               b + 1);
        return;
    }
    if (c->safe_from != 0) {
        (void)out_time_iso(t, sizeof(t), c->safe_from);
        printf("proposal: no safe move now. Keep the current key; %s candidate %zu in every "
               "release from now on (role backup), and move the leaf to it from %s, when the "
               "versions it breaks are past their end of support; the old key may go then\n",
               c->fresh ? "pin" : "keep", b + 1, t);
        return;
    }
    printf("warning: no safe order exists: every candidate breaks a version in support that has "
           "no end of support. Ship a release that pins candidate %zu (role backup), give the "
           "versions it breaks an end of support, and keep the current key until then\n",
           b + 1);
}

static int print_text(const rotation *rt, const plan_doc *d, size_t b)
{
    char pin[PINSET_PIN_STR_MAX], t[OUT_TIME_MAX];

    chk_pin_text(pin, sizeof(pin), &rt->current);
    (void)out_time_iso(t, sizeof(t), d->at);
    printf("rotate: %s at %s: the leaf key now %s (chain ", d->hosts[0], t, pin);
    out_safe(stdout, d->chain_file);
    printf(")\n");
    for (size_t k = 0; k < rt->n; k++) {
        print_candidate(rt, d, k);
    }
    print_proposal(rt, b);
    return 0;
}

static json_t *set_json(const plan_doc *d, const unsigned char *set)
{
    json_t *a = json_array();

    for (size_t v = 0; a != NULL && v < d->fleet->count; v++) {
        if (set[v] && json_array_append_new(a, out_json_str(d->fleet->v[v].name)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *candidate_json(const rotation *rt, const plan_doc *d, size_t k)
{
    const candidate *c = &rt->c[k];
    json_t *o = json_object();
    char pin[PINSET_PIN_STR_MAX], t[OUT_TIME_MAX];
    int bad = o == NULL;

    chk_pin_text(pin, sizeof(pin), &c->spki);
    (void)out_time_iso(t, sizeof(t), c->safe_from);
    bad |= out_json_set(o, "index", json_integer((json_int_t)k + 1));
    bad |= out_json_set(o, "spki_sha256", c->fresh ? json_null() : json_string(pin));
    bad |= out_json_set(o, "new_key", json_boolean(c->fresh));
    bad |= out_json_set(o, "role", c->fresh ? json_null() : json_string(pinset_role_name(c->role)));
    bad |= out_json_set(o, "label", out_json_str(c->label));
    bad |= out_json_set(o, "pinned_by", set_json(d, c->pins));
    bad |= out_json_set(o, "breaking", set_json(d, c->break_));
    bad |= out_json_set(o, "share_at_risk", json_real(c->share_at_risk));
    bad |= out_json_set(o, "share_unknown", json_integer((json_int_t)c->share_unknown));
    bad |= out_json_set(o, "safe_now", json_boolean(c->breaking == 0));
    bad |= out_json_set(o, "safe_from", c->safe_from != 0 ? json_string(t) : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int print_json(const rotation *rt, const plan_doc *d, size_t b)
{
    json_t *o = json_object(), *cs = json_array();
    char pin[PINSET_PIN_STR_MAX], t[OUT_TIME_MAX];
    int bad = o == NULL || cs == NULL;

    for (size_t k = 0; !bad && k < rt->n; k++) {
        bad |= json_array_append_new(cs, candidate_json(rt, d, k)) != 0;
    }
    if (bad) {
        json_decref(o);
        json_decref(cs);
        return -1;
    }
    chk_pin_text(pin, sizeof(pin), &rt->current);
    (void)out_time_iso(t, sizeof(t), d->at);
    bad |= out_json_set(o, "host", json_string(d->hosts[0]));
    bad |= out_json_set(o, "at", json_string(t));
    bad |= out_json_set(o, "chain", out_json_str(d->chain_file));
    bad |= out_json_set(o, "current_spki_sha256", json_string(pin));
    bad |= out_json_set(o, "candidates", cs);
    bad |= out_json_set(o, "proposal", json_integer((json_int_t)b + 1));
    bad |= out_json_set(o, "safe_now", json_boolean(rt->c[b].breaking == 0));
    bad |= bad ||
           json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) !=
               0 ||
           fputc('\n', stdout) == EOF;
    json_decref(o);
    return bad ? -1 : 0;
}

int plan_rotate(plan_doc *d, X509_STORE *store, STACK_OF(X509) * sent, pinset_result *res, int json)
{
    rotation *rt = calloc(1, sizeof(*rt));
    unsigned char *flags = NULL;
    size_t b;
    int rc;

    if (rt == NULL || pinset_pin_from_x509(&rt->current, sk_X509_value(sent, 0), PINSET_PIN_SPKI,
                                           NULL) != PINSET_OK) {
        cli_err("plan", "out of memory");
        free(rt);
        return EXIT_INTERNAL;
    }
    rc = add_candidates(rt, d);
    if (rc == 0 && add_fresh(rt) != 0) {
        rc = EXIT_INTERNAL;
    }
    flags = rc == 0 ? calloc(rt->n * 2, d->fleet->count) : NULL;
    if (rc == 0 && flags == NULL) {
        cli_err("plan", "out of memory");
        rc = EXIT_INTERNAL;
    }
    for (size_t k = 0; rc == 0 && k < rt->n; k++) {
        rt->c[k].pins = flags + 2 * k * d->fleet->count;
        rt->c[k].break_ = rt->c[k].pins + d->fleet->count;
        rc = judge(&rt->c[k], d, store, sent, res);
    }
    if (rc == 0) {
        b = best(rt);
        rc = (json ? print_json(rt, d, b) : print_text(rt, d, b)) != 0 || fflush(stdout) != 0 ||
                     ferror(stdout)
                 ? cli_output_failed("plan")
             : rt->c[b].breaking == 0 ? EXIT_OK
                                      : EXIT_NEGATIVE;
    }
    free(flags);
    free(rt);
    return rc;
}
