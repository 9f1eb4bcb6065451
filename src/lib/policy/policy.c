/*
 * policy.c - the policy model: building, the host hash table, lookup,
 * getters and reference counting. It calls nothing of the native format:
 * the digest is computed over the canonical form by build.c (write.c).
 *
 * Memory: strings live in one arena, pins in one array, and each rule holds
 * offsets into them, so a simple rule costs a rule record (64 bytes), its
 * host, its own pins and two to four hash slots of 16 bytes. A slot carries
 * the host's arena offset, length and flags, so that a lookup touches the
 * slot and the host's octets and nothing else.
 */
#include <openssl/rand.h>

#include <pinset/policy.h>

#include "core/host_int.h"
#include "internal.h"
#include "policy/policy_int.h"

/* ---- growth helpers ---- */

static void *grow(void *arr, size_t *cap, size_t n, size_t size, size_t max)
{
    size_t ncap;
    void *p;

    if (n < *cap) {
        return arr;
    }
    if (n >= max) {
        return NULL;
    }
    ncap = *cap == 0 ? 16 : *cap * 2;
    if (ncap > max) {
        ncap = max;
    }
    p = pinset__realloc_array(arr, ncap, size);
    if (p == NULL) {
        return NULL;
    }
    memset((char *)p + *cap * size, 0, (ncap - *cap) * size);
    *cap = ncap;
    return p;
}

pinset_err pinset__policy_new(pinset_policy **out)
{
    pinset_policy *p = pinset__alloc(sizeof(*p));

    *out = NULL;
    if (p == NULL) {
        return PINSET_E_NOMEM;
    }
    atomic_init(&p->refs, 1);
    p->arena = pinset__alloc(256);
    if (p->arena == NULL) {
        pinset__free(p);
        return PINSET_E_NOMEM;
    }
    p->arena_cap = 256;
    p->arena_len = 1; /* offset 0 is the empty string: "none" */
    *out = p;
    return PINSET_OK;
}

pinset_err pinset__policy_add_str(pinset_policy *p, uint32_t *off_out, const char *s, size_t len)
{
    if (len >= UINT32_MAX - p->arena_len) {
        return PINSET_E_LIMIT;
    }
    if (p->arena_len + len + 1 > p->arena_cap) {
        size_t ncap = p->arena_cap;
        char *a;
        while (ncap < p->arena_len + len + 1) {
            ncap *= 2;
        }
        a = pinset__realloc_array(p->arena, ncap, 1);
        if (a == NULL) {
            return PINSET_E_NOMEM;
        }
        p->arena = a;
        p->arena_cap = ncap;
    }
    memcpy(p->arena + p->arena_len, s, len);
    p->arena[p->arena_len + len] = '\0';
    *off_out = (uint32_t)p->arena_len;
    p->arena_len += len + 1;
    return PINSET_OK;
}

struct pinset_rule *pinset__policy_add_rule(pinset_policy *p)
{
    void *a = grow(p->rules, &p->cap_rules, p->nrules, sizeof(*p->rules), PINSET_MAX_RULES);

    if (a == NULL) {
        return NULL;
    }
    p->rules = a;
    p->rules[p->nrules].pinset = -1;
    p->rules[p->nrules].index = (uint32_t)p->nrules;
    return &p->rules[p->nrules++];
}

struct pinset__pin_entry *pinset__policy_add_pin(pinset_policy *p)
{
    void *a = grow(p->pins, &p->cap_pins, p->npins, sizeof(*p->pins), UINT32_MAX / 2);

    if (a == NULL) {
        return NULL;
    }
    p->pins = a;
    return &p->pins[p->npins++];
}

pinset_pin *pinset__policy_add_blocked(pinset_policy *p)
{
    void *a = grow(p->blocked, &p->cap_blocked, p->nblocked, sizeof(*p->blocked), UINT32_MAX / 2);

    if (a == NULL) {
        return NULL;
    }
    p->blocked = a;
    return &p->blocked[p->nblocked++];
}

uint32_t *pinset__policy_add_uri(pinset_policy *p)
{
    void *a = grow(p->uris, &p->cap_uris, p->nuris, sizeof(*p->uris), UINT32_MAX / 2);

    if (a == NULL) {
        return NULL;
    }
    p->uris = a;
    return &p->uris[p->nuris++];
}

struct pinset__pinset *pinset__policy_add_pinset(pinset_policy *p)
{
    void *a = grow(p->pinsets, &p->cap_pinsets, p->npinsets, sizeof(*p->pinsets), UINT32_MAX / 2);

    if (a == NULL) {
        return NULL;
    }
    p->pinsets = a;
    return &p->pinsets[p->npinsets++];
}

int32_t pinset__policy_find_pinset(const pinset_policy *p, const char *name, size_t len)
{
    size_t lo = 0, hi = p->npinsets;

    /* pin-sets are kept in strictly increasing name order (see policy_int.h) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *n = pinset__policy_str(p, p->pinsets[mid].name);
        size_t nlen = strlen(n);
        int c = memcmp(n, name, nlen < len ? nlen : len);
        if (c == 0) {
            c = nlen < len ? -1 : nlen > len ? 1 : 0;
        }
        if (c == 0) {
            return (int32_t)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

/* ---- the hash table ---- */

/*
 * FNV-1a over the host read from its last octet to its first, started from a
 * per-policy random seed and finished with the murmur3 fmix64 mixer. Reading
 * backwards makes every parent suffix's state a step of the same pass, so a
 * lookup hashes all its candidates in one pass over the name. The seed makes
 * collisions unpredictable to whoever writes a policy.
 */
#define FNV_PRIME 0x100000001b3ULL

static uint64_t hash_start(uint64_t seed)
{
    return 0xcbf29ce484222325ULL ^ seed;
}

static uint64_t hash_finish(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_host(uint64_t seed, const char *s, size_t len)
{
    uint64_t h = hash_start(seed);

    while (len > 0) {
        h = (h ^ (unsigned char)s[--len]) * FNV_PRIME;
    }
    return hash_finish(h);
}

/* Probe for s[0..len) with hash h; the slot, or NULL. */
static const struct pinset__slot *probe(const pinset_policy *p, uint64_t h, const char *s,
                                        size_t len)
{
    size_t mask = p->nslots - 1;
    uint32_t tag = (uint32_t)(h >> 32);

    /* the table is at most half full, so an empty slot always ends the probe */
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const struct pinset__slot *slot = &p->slots[i];
        if (slot->rule1 == 0) {
            return NULL;
        }
        if (slot->tag == tag && slot->host_len == len &&
            memcmp(p->arena + slot->host, s, len) == 0) {
            return slot;
        }
    }
}

const pinset_rule *pinset__policy_find(const pinset_policy *p, const char *host, size_t len)
{
    const struct pinset__slot *slot;

    if (p->nslots == 0 || len == 0 || len > PINSET_MAX_HOST_LEN + 2) {
        return NULL;
    }
    slot = probe(p, hash_host(p->seed, host, len), host, len);
    return slot == NULL ? NULL : &p->rules[slot->rule1 - 1];
}

const pinset_rule *pinset__policy_find_one_label(const pinset_policy *p, const char *host,
                                                 size_t len)
{
    char key[PINSET_MAX_HOST_LEN + 2];

    if (p->n_one_label == 0 || len == 0 || len > PINSET_MAX_HOST_LEN) {
        return NULL;
    }
    key[0] = '*';
    key[1] = '.';
    memcpy(key + 2, host, len);
    return pinset__policy_find(p, key, len + 2);
}

static pinset_err build_table(pinset_policy *p, size_t *dup_out)
{
    size_t n = 16;

    while (n < p->nrules * 2) {
        n *= 2;
    }
    p->slots = pinset__alloc_array(n, sizeof(*p->slots));
    if (p->slots == NULL) {
        return PINSET_E_NOMEM;
    }
    p->nslots = n;
    if (RAND_bytes((unsigned char *)&p->seed, sizeof(p->seed)) != 1) {
        p->seed = 0x9e3779b97f4a7c15ULL; /* no entropy: still correct, only predictable */
    }
    for (size_t r = 0; r < p->nrules; r++) {
        const struct pinset_rule *rule = &p->rules[r];
        /* a one-label rule's key is "*.host", stored just before its host */
        size_t pre = (rule->flags & RULE_F_ONE_LABEL) != 0 ? 2 : 0;
        uint32_t key = rule->host - (uint32_t)pre;
        size_t key_len = rule->host_len + pre;
        const char *host = p->arena + key;
        uint64_t h = hash_host(p->seed, host, key_len);
        size_t i = (size_t)h & (n - 1);

        for (;; i = (i + 1) & (n - 1)) {
            struct pinset__slot *s = &p->slots[i];
            if (s->rule1 == 0) {
                s->rule1 = (uint32_t)r + 1;
                s->tag = (uint32_t)(h >> 32);
                s->host = key;
                s->host_len = (uint8_t)key_len;
                s->flags = rule->flags;
                break;
            }
            if (s->tag == (uint32_t)(h >> 32) && s->host_len == key_len &&
                memcmp(p->arena + s->host, host, key_len) == 0) {
                *dup_out = r;
                return PINSET_E_PARSE;
            }
        }
    }
    return PINSET_OK;
}

/*
 * The rule for host itself (how = EXACT), else the nearest parent whose rule
 * covers subdomains (how = SUBDOMAIN), else NULL. The hashes of the name and
 * of all its parents come from one backward pass, and their slots are
 * prefetched together, so the cache misses of a deep name overlap instead of
 * adding up.
 */
static const struct pinset__slot *find_canon(const pinset_policy *p, const char *host, size_t len,
                                             int exact, pinset_match *how)
{
    size_t off[PINSET_MAX_HOST_LEN / 2 + 2];
    uint64_t hs[PINSET_MAX_HOST_LEN / 2 + 2];
    uint64_t raw_parent = 0; /* the unfinished hash of the immediate parent */
    size_t n = 0;
    uint64_t h;

    if (p->nslots == 0 || len == 0 || len > PINSET_MAX_HOST_LEN) {
        return NULL;
    }
    h = hash_start(p->seed);
    for (size_t i = len; i > 0; i--) {
        h = (h ^ (unsigned char)host[i - 1]) * FNV_PRIME;
        if (i == 1 || host[i - 2] == '.') {
            if (n == PINSET_ARRAY_SIZE(off)) {
                return NULL; /* more labels than a 253-octet name can have */
            }
            off[n] = i - 1;
            hs[n] = hash_finish(h);
            if (i > 1) {
                raw_parent = h; /* the last one kept is the whole name's parent */
            }
#if defined(__GNUC__) || defined(__clang__)
            __builtin_prefetch(&p->slots[(size_t)hs[n] & (p->nslots - 1)]);
#endif
            n++;
        }
    }
    /* off[n-1] is the whole name, off[n-2] its parent, ..., off[0] the last label */
    for (size_t k = n; k > 0; k--) {
        const struct pinset__slot *slot;
        int self = k == n;
        if (self && !exact) {
            continue;
        }
        if (k == n - 1 && p->n_one_label > 0) {
            /* the parent's one-label rule ("*.parent") beats its include_subdomains one */
            char key[PINSET_MAX_HOST_LEN + 2];
            size_t plen = len - off[k - 1];
            uint64_t hw = hash_finish((((raw_parent ^ '.') * FNV_PRIME) ^ '*') * FNV_PRIME);
            key[0] = '*';
            key[1] = '.';
            memcpy(key + 2, host + off[k - 1], plen);
            slot = probe(p, hw, key, plen + 2);
            if (slot != NULL) {
                *how = PINSET_MATCH_SUBDOMAIN;
                return slot;
            }
        }
        slot = probe(p, hs[k - 1], host + off[k - 1], len - off[k - 1]);
        if (slot != NULL && (self || (slot->flags & RULE_F_SUBDOMAINS) != 0)) {
            *how = self ? PINSET_MATCH_EXACT : PINSET_MATCH_SUBDOMAIN;
            return slot;
        }
    }
    return NULL;
}

/* The nearest parent rule that covers host's subtree, or NULL. */
static const struct pinset_rule *covering_parent(const pinset_policy *p, const char *host,
                                                 size_t len)
{
    pinset_match how;
    const struct pinset__slot *slot = find_canon(p, host, len, 0, &how);

    return slot == NULL ? NULL : &p->rules[slot->rule1 - 1];
}

/* Gives back the slack of the doubling growth; a failed shrink keeps the block. */
static void *fit(void *arr, size_t *cap, size_t n, size_t size)
{
    void *q;

    if (arr == NULL || n == 0 || n == *cap) {
        return arr;
    }
    q = pinset__realloc_array(arr, n, size);
    if (q == NULL) {
        return arr;
    }
    *cap = n;
    return q;
}

static void shrink(pinset_policy *p)
{
    p->rules = fit(p->rules, &p->cap_rules, p->nrules, sizeof(*p->rules));
    p->pins = fit(p->pins, &p->cap_pins, p->npins, sizeof(*p->pins));
    p->blocked = fit(p->blocked, &p->cap_blocked, p->nblocked, sizeof(*p->blocked));
    p->uris = fit(p->uris, &p->cap_uris, p->nuris, sizeof(*p->uris));
    p->pinsets = fit(p->pinsets, &p->cap_pinsets, p->npinsets, sizeof(*p->pinsets));
    p->arena = fit(p->arena, &p->arena_cap, p->arena_len, 1);
}

/*
 * Store each one-label rule's hash key "*.host" and point its host two
 * octets into it (see RULE_F_ONE_LABEL); a rule already keyed is left alone.
 */
static pinset_err key_one_label(pinset_policy *p)
{
    char key[PINSET_MAX_HOST_LEN + 3];

    p->n_one_label = 0;
    for (size_t r = 0; r < p->nrules; r++) {
        struct pinset_rule *rule = &p->rules[r];
        uint32_t off;
        if ((rule->flags & RULE_F_ONE_LABEL) == 0) {
            continue;
        }
        p->n_one_label++;
        if (rule->host >= 2 && p->arena[rule->host - 2] == '*' && p->arena[rule->host - 1] == '.') {
            continue;
        }
        if (rule->host_len > PINSET_MAX_HOST_LEN) {
            return PINSET_E_LIMIT;
        }
        key[0] = '*';
        key[1] = '.';
        memcpy(key + 2, p->arena + rule->host, rule->host_len);
        if (pinset__policy_add_str(p, &off, key, rule->host_len + 2u) != PINSET_OK) {
            return PINSET_E_NOMEM;
        }
        rule->host = off + 2;
    }
    return PINSET_OK;
}

pinset_err pinset__policy_index(pinset_policy *p, size_t *bad_rule_out, pinset_diag *diag)
{
    pinset_err err;
    size_t dup = 0;

    *bad_rule_out = SIZE_MAX;
    for (size_t i = 1; i < p->npinsets; i++) {
        if (strcmp(pinset__policy_str(p, p->pinsets[i - 1].name),
                   pinset__policy_str(p, p->pinsets[i].name)) >= 0) {
            return PINSET_DIAG(diag, PINSET_E_INTERNAL, "pin-sets are not in name order");
        }
    }
    err = key_one_label(p);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory building the host table");
    }
    shrink(p);
    for (size_t r = 0; r < p->nrules; r++) {
        p->rules[r].policy = p;
    }
    err = build_table(p, &dup);
    if (err == PINSET_E_PARSE) {
        *bad_rule_out = dup;
        return PINSET_DIAG(diag, err, "duplicate rule for host '%s'%s",
                           pinset__policy_str(p, p->rules[dup].host),
                           (p->rules[dup].flags & RULE_F_ONE_LABEL) != 0 ? " (one-label)" : "");
    }
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory building the host table");
    }
    for (size_t r = 0; r < p->nrules; r++) {
        const struct pinset_rule *rule = &p->rules[r];
        const struct pinset_rule *parent;
        if ((rule->flags & RULE_F_EXCLUDE) == 0) {
            continue;
        }
        parent = covering_parent(p, p->arena + rule->host, rule->host_len);
        if (parent == NULL || (parent->flags & RULE_F_EXCLUDE) != 0) {
            *bad_rule_out = r;
            return PINSET_DIAG(diag, PINSET_E_PARSE,
                               "exclusion for '%s' has no parent rule with include_subdomains",
                               pinset__policy_str(p, rule->host));
        }
    }
    return PINSET_OK;
}

/* ---- public: lifetime ---- */

pinset_policy *pinset_policy_ref(pinset_policy *policy)
{
    if (policy != NULL) {
        atomic_fetch_add_explicit(&policy->refs, 1, memory_order_relaxed);
    }
    return policy;
}

void pinset_policy_free(pinset_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    /* release/acquire so that the freeing thread sees every other thread's last use */
    if (atomic_fetch_sub_explicit(&policy->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    pinset__free(policy->rules);
    pinset__free(policy->pins);
    pinset__free(policy->blocked);
    pinset__free(policy->uris);
    pinset__free(policy->pinsets);
    pinset__free(policy->arena);
    pinset__free(policy->slots);
    pinset__free(policy);
}

void pinset_policy_digest(const pinset_policy *policy, uint8_t out[32])
{
    if (out == NULL) {
        return;
    }
    if (policy == NULL) {
        memset(out, 0, 32);
        return;
    }
    memcpy(out, policy->digest, 32);
}

size_t pinset_policy_rule_count(const pinset_policy *policy)
{
    return policy == NULL ? 0 : policy->nrules;
}

const pinset_rule *pinset_policy_rule(const pinset_policy *policy, size_t i)
{
    if (policy == NULL || i >= policy->nrules) {
        return NULL;
    }
    return &policy->rules[i];
}

/* ---- lookup ---- */

const pinset_rule *pinset__policy_lookup_canon(const pinset_policy *policy, const char *host,
                                               size_t len, pinset_host_type type,
                                               pinset_match *how_out)
{
    const struct pinset__slot *slot;
    pinset_match how = PINSET_MATCH_NONE;

    if (how_out != NULL) {
        *how_out = PINSET_MATCH_NONE;
    }
    if (policy == NULL || host == NULL || len == 0) {
        return NULL;
    }
    if (type != PINSET_HOST_DNS) {
        /* IP literals match only exactly */
        const pinset_rule *r = pinset__policy_find(policy, host, len);
        if (r != NULL && how_out != NULL) {
            *how_out = PINSET_MATCH_EXACT;
        }
        return r;
    }
    /* exact beats subdomain; then parents from the longest down */
    slot = find_canon(policy, host, len, 1, &how);
    if (slot == NULL) {
        return NULL;
    }
    if (how_out != NULL) {
        *how_out = (slot->flags & RULE_F_EXCLUDE) != 0 ? PINSET_MATCH_EXCLUDED : how;
    }
    return &policy->rules[slot->rule1 - 1];
}

const pinset_rule *pinset_policy_lookup(const pinset_policy *policy, const char *host, size_t len,
                                        pinset_match *how_out)
{
    char buf[PINSET_HOST_MAX];
    pinset_host_type type = PINSET_HOST_DNS;

    if (how_out != NULL) {
        *how_out = PINSET_MATCH_NONE;
    }
    if (policy == NULL || host == NULL) {
        return NULL;
    }
    if (pinset__host_is_canonical_dns(host, len)) {
        return pinset__policy_lookup_canon(policy, host, len, PINSET_HOST_DNS, how_out);
    }
    if (pinset_host_canon(buf, sizeof(buf), &type, host, len, NULL) != PINSET_OK) {
        return NULL;
    }
    return pinset__policy_lookup_canon(policy, buf, strlen(buf), type, how_out);
}

/* ---- rule getters ---- */

const char *pinset_rule_host(const pinset_rule *rule)
{
    return rule == NULL ? NULL : pinset__policy_str(rule->policy, rule->host);
}

int pinset_rule_include_subdomains(const pinset_rule *rule)
{
    return rule != NULL && (rule->flags & RULE_F_SUBDOMAINS) != 0;
}

pinset_scope pinset_rule_scope(const pinset_rule *rule)
{
    if (rule == NULL) {
        return PINSET_SCOPE_EXACT;
    }
    if ((rule->flags & RULE_F_ONE_LABEL) != 0) {
        return PINSET_SCOPE_ONE_LABEL;
    }
    return (rule->flags & RULE_F_SUBDOMAINS) != 0 ? PINSET_SCOPE_SUBDOMAINS : PINSET_SCOPE_EXACT;
}

int pinset_rule_is_exclusion(const pinset_rule *rule)
{
    return rule != NULL && (rule->flags & RULE_F_EXCLUDE) != 0;
}

pinset_mode pinset_rule_mode(const pinset_rule *rule)
{
    return rule == NULL ? PINSET_MODE_ENFORCE : (pinset_mode)rule->mode;
}

const char *pinset_rule_pinset_name(const pinset_rule *rule)
{
    if (rule == NULL || rule->pinset < 0) {
        return NULL;
    }
    return pinset__policy_str(rule->policy, rule->policy->pinsets[rule->pinset].name);
}

static size_t set_count(const pinset_rule *rule)
{
    return rule->pinset < 0 ? 0 : rule->policy->pinsets[rule->pinset].count;
}

static const struct pinset__pin_entry *pin_entry(const pinset_rule *rule, size_t i)
{
    size_t n;

    if (rule == NULL) {
        return NULL;
    }
    n = set_count(rule);
    if (i < n) {
        return &rule->policy->pins[rule->policy->pinsets[rule->pinset].first + i];
    }
    i -= n;
    if (i >= rule->pins_count) {
        return NULL;
    }
    return &rule->policy->pins[rule->pins_first + i];
}

size_t pinset_rule_pin_count(const pinset_rule *rule)
{
    return rule == NULL ? 0 : set_count(rule) + rule->pins_count;
}

const pinset_pin *pinset_rule_pin(const pinset_rule *rule, size_t i)
{
    const struct pinset__pin_entry *e = pin_entry(rule, i);

    return e == NULL ? NULL : &e->pin;
}

pinset_role pinset_rule_pin_role(const pinset_rule *rule, size_t i)
{
    const struct pinset__pin_entry *e = pin_entry(rule, i);

    return e == NULL ? PINSET_ROLE_ANY : (pinset_role)e->role;
}

const char *pinset_rule_pin_label(const pinset_rule *rule, size_t i)
{
    const struct pinset__pin_entry *e = pin_entry(rule, i);

    if (e == NULL || e->label == 0) {
        return NULL;
    }
    return pinset__policy_str(rule->policy, e->label);
}

int64_t pinset_rule_pin_not_after(const pinset_rule *rule, size_t i)
{
    const struct pinset__pin_entry *e = pin_entry(rule, i);

    return e == NULL ? 0 : e->not_after;
}

size_t pinset_rule_blocked_count(const pinset_rule *rule)
{
    return rule == NULL ? 0 : rule->blocked_count;
}

const pinset_pin *pinset_rule_blocked(const pinset_rule *rule, size_t i)
{
    if (rule == NULL || i >= rule->blocked_count) {
        return NULL;
    }
    return &rule->policy->blocked[rule->blocked_first + i];
}

int64_t pinset_rule_expires(const pinset_rule *rule)
{
    return rule == NULL ? 0 : rule->expires;
}

pinset_on_expiry pinset_rule_on_expiry(const pinset_rule *rule)
{
    return rule == NULL ? PINSET_ON_EXPIRY_NONE : (pinset_on_expiry)rule->on_expiry;
}

size_t pinset_rule_min_pins(const pinset_rule *rule)
{
    return rule == NULL ? 0 : rule->min_pins;
}

size_t pinset_rule_report_uri_count(const pinset_rule *rule)
{
    return rule == NULL ? 0 : rule->uris_count;
}

const char *pinset_rule_report_uri(const pinset_rule *rule, size_t i)
{
    if (rule == NULL || i >= rule->uris_count) {
        return NULL;
    }
    return pinset__policy_str(rule->policy, rule->policy->uris[rule->uris_first + i]);
}

size_t pinset_rule_index(const pinset_rule *rule)
{
    return rule == NULL ? 0 : rule->index;
}

/* ---- names: the policy format's spelling of each enumeration ---- */

static const char *name_of(const char *const *names, size_t count, unsigned int v)
{
    return v < count ? names[v] : "unknown";
}

const char *pinset_mode_name(pinset_mode mode)
{
    static const char *const names[] = {"enforce", "report"};

    return name_of(names, PINSET_ARRAY_SIZE(names), (unsigned int)mode);
}

const char *pinset_role_name(pinset_role role)
{
    static const char *const names[] = {"any", "leaf", "ca", "backup"};

    return name_of(names, PINSET_ARRAY_SIZE(names), (unsigned int)role);
}

const char *pinset_on_expiry_name(pinset_on_expiry on_expiry)
{
    static const char *const names[] = {"none", "fail-open", "fail-closed", "report"};

    return name_of(names, PINSET_ARRAY_SIZE(names), (unsigned int)on_expiry);
}

const char *pinset_match_name(pinset_match match)
{
    static const char *const names[] = {"none", "exact", "subdomain", "excluded"};

    return name_of(names, PINSET_ARRAY_SIZE(names), (unsigned int)match);
}

const char *pinset_scope_name(pinset_scope scope)
{
    static const char *const names[] = {"exact", "subdomains", "one-label"};

    return name_of(names, PINSET_ARRAY_SIZE(names), (unsigned int)scope);
}
