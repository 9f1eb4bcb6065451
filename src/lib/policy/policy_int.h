/*
 * policy_int.h - the policy model's layout and the builder shared by
 * policy.c (model, lookup) and parse.c/parse_rule.c (native format). Other modules
 * (verdict/, adapters/, formats/) may use the read-only parts: the struct
 * layouts and pinset__policy_lookup_canon.
 */
#ifndef PINSET_POLICY_INT_H
#define PINSET_POLICY_INT_H

#include <stdatomic.h>

#include <pinset/host.h>
#include <pinset/policy.h>

#include "internal.h"

#define RULE_F_SUBDOMAINS 0x01u
#define RULE_F_EXCLUDE    0x02u
/*
 * PINSET_SCOPE_ONE_LABEL: the names one label below the host, not the host.
 * Such a rule is keyed in the hash table as "*.host" (pinset__policy_index
 * stores that string and points r->host two octets into it), so it may sit
 * beside an exact or include_subdomains rule for the same host.
 */
#define RULE_F_ONE_LABEL 0x04u

/* One pin of a rule or pin-set. */
struct pinset__pin_entry {
    pinset_pin pin;
    uint8_t role;      /* pinset_role */
    uint32_t label;    /* arena offset of the label, or 0 = none */
    int64_t not_after; /* seconds since the epoch; 0 = never */
};

/* A named pin-set: pins[first .. first+count) of the policy's pin array. */
struct pinset__pinset {
    uint32_t name; /* arena offset */
    uint32_t first;
    uint32_t count;
};

/* Ranges index the policy's pins[], blocked[] and uris[] arrays. */
struct pinset_rule {
    const struct pinset_policy *policy;
    uint32_t host; /* arena offset */
    uint16_t host_len;
    uint8_t mode;      /* pinset_mode */
    uint8_t on_expiry; /* pinset_on_expiry */
    uint8_t flags;     /* RULE_F_* */
    uint8_t host_type; /* pinset_host_type */
    uint16_t min_pins;
    int32_t pinset; /* index into pinsets[], or -1 */
    uint32_t index;
    uint32_t pins_first, pins_count; /* the rule's own pins */
    uint32_t blocked_first, blocked_count;
    uint32_t uris_first, uris_count;
    int64_t expires; /* 0 = never */
};

/*
 * Hash slot: rule index + 1 (0 = empty), the upper bits of the hash, and the
 * rule's host and flags, so that a probe need not touch the rule.
 */
struct pinset__slot {
    uint32_t rule1;
    uint32_t tag;
    uint32_t host; /* arena offset */
    uint8_t host_len;
    uint8_t flags;
    uint16_t reserved;
};

struct pinset_policy {
    atomic_size_t refs;
    struct pinset_rule *rules;
    size_t nrules;
    struct pinset__pin_entry *pins;
    size_t npins;
    pinset_pin *blocked;
    size_t nblocked;
    uint32_t *uris; /* arena offsets */
    size_t nuris;
    struct pinset__pinset *pinsets;
    size_t npinsets;
    char *arena; /* NUL-terminated strings; offset 0 holds "" */
    size_t arena_len, arena_cap;
    struct pinset__slot *slots;
    size_t nslots; /* a power of two, or 0 */
    uint64_t seed;
    size_t n_one_label; /* rules with RULE_F_ONE_LABEL: lookups skip the "*." probe when 0 */
    uint8_t digest[32];
    size_t cap_rules, cap_pins, cap_blocked, cap_uris, cap_pinsets;
};

/* ---- read side ---- */

/*
 * Lookup for a host that is already canonical (pinset_host_canon output or
 * pinset__host_is_canonical_dns true), with its type. No allocation, no libidn2.
 */
const pinset_rule *pinset__policy_lookup_canon(const pinset_policy *policy, const char *host,
                                               size_t len, pinset_host_type type,
                                               pinset_match *how_out);

/* Exact lookup of a canonical host; NULL when no rule names it. */
const pinset_rule *pinset__policy_find(const pinset_policy *policy, const char *host, size_t len);
/* The PINSET_SCOPE_ONE_LABEL rule of a canonical host ("*.host"), or NULL. */
const pinset_rule *pinset__policy_find_one_label(const pinset_policy *policy, const char *host,
                                                 size_t len);

static inline const char *pinset__policy_str(const pinset_policy *p, uint32_t off)
{
    return p->arena + off;
}

/*
 * ---- build side (parse.c and converters) ----
 *
 * A converter builds a model the way parse.c does:
 *   pinset__policy_new(&p);
 *   pin-sets first, in strictly increasing name order: pins with
 *     pinset__policy_add_pin, then pinset__policy_add_pinset {name, first, count};
 *   per rule: r = pinset__policy_add_rule(p) (pinset = -1, index set), then
 *     r->host/host_len/host_type from pinset_host_canon + pinset__policy_add_str,
 *     r->flags (RULE_F_ONE_LABEL with the plain host: index adds the "*." key),
 *     r->mode, r->min_pins (no default is applied here: 2 for enforce,
 *     1 for report, 0 for an exclusion, as the parser does), the pin, blocked
 *     and uri ranges, r->expires with r->on_expiry;
 *   pinset__policy_finish(p, &bad, diag), then pinset_policy_free(p) on failure.
 * Pointers returned by the add functions are valid only until the next add
 * of the same kind.
 */

pinset_err pinset__policy_new(pinset_policy **out);
/* Copies s[0..len) into the arena; *off_out receives its offset. */
pinset_err pinset__policy_add_str(pinset_policy *p, uint32_t *off_out, const char *s, size_t len);
/* Appends a zeroed element and returns a pointer to it (valid until the next append). */
struct pinset_rule *pinset__policy_add_rule(pinset_policy *p);
struct pinset__pin_entry *pinset__policy_add_pin(pinset_policy *p);
pinset_pin *pinset__policy_add_blocked(pinset_policy *p);
uint32_t *pinset__policy_add_uri(pinset_policy *p);
struct pinset__pinset *pinset__policy_add_pinset(pinset_policy *p);
/*
 * Index of the pin-set named `name`, or -1. Pin-sets must be added in
 * strictly increasing strcmp order of their names (the canonical order);
 * pinset__policy_finish checks this.
 */
int32_t pinset__policy_find_pinset(const pinset_policy *p, const char *name, size_t len);
/*
 * Finish (build.c): build the hash table (duplicate hosts fail with the index of the
 * second in *dup_out), check exclusions, set back pointers and compute the
 * digest. On failure the policy is left for the caller to free.
 */
pinset_err pinset__policy_finish(pinset_policy *p, size_t *bad_rule_out, pinset_diag *diag);
/* The model part of pinset__policy_finish (policy.c): everything but the digest. */
pinset_err pinset__policy_index(pinset_policy *p, size_t *bad_rule_out, pinset_diag *diag);
/*
 * RFC 3339 UTC date-time ("2027-01-01T00:00:00Z") or full-date ("2027-01-01",
 * midnight UTC) to seconds since the epoch; 0 on success, -1 when malformed
 * or not after 1970-01-01T00:00:00Z.
 */
int pinset__parse_time(const char *s, size_t len, int64_t *out);
/* The canonical serialisation (what pinset_policy_write emits). */
pinset_err pinset__policy_serialize(const pinset_policy *p, pinset_write_fn write, void *payload);

#endif /* PINSET_POLICY_INT_H */
