/*
 * match.h - the known-keys check of Certificate Transparency entries against
 * a pin policy. The watched names are the policy's: a certificate name is
 * watched when pinset_policy_lookup finds a rule for it (exact hosts and
 * subtrees with include_subdomains, as the verdict finds them); a wildcard
 * certificate name `*.example.com` is watched when a host one label below
 * example.com is (an exact rule for such a host, or the rule that covers
 * them). For each watched name, the entry's SPKI pin (and, for a
 * certificate, its cert pin) must be one of the rule's pins, of any role,
 * backups included; otherwise it is an "unknown-key" finding. A key the rule
 * blocks is a "blocked-key" finding.
 */
#ifndef PINSET_CT_MATCH_H
#define PINSET_CT_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include <pinset/pinset.h>

#include "ct/leaf.h"

typedef struct ct_check ct_check;

typedef struct ct_finding {
    const char *kind; /* "unknown-key" or "blocked-key" */
    const char *name; /* the certificate's name, NUL-terminated, as written in it */
    const char *rule; /* the host of the rule it falls under */
    int from_cn;      /* the name is the subject's CN (no subjectAltName) */
    pinset_pin spki;  /* the entry's SPKI pin */
} ct_finding;

/* Return 0 to go on; anything else stops the check and is returned. */
typedef int (*ct_finding_cb)(const ct_finding *f, void *payload);

/* Build the check for a policy (referenced until ct_check_free). 0, or -1 (out of memory). */
int ct_check_new(ct_check **out, pinset_policy *policy);
void ct_check_free(ct_check *c);

/*
 * Check one parsed entry: its names, then for each watched name its key.
 * Returns the number of findings (each given to cb, which may be NULL), the
 * callback's non-zero return as a negative number below -1, or -1 with the
 * reason in err (the certificate could not be read).
 * *watched_out (optional) is set to 1 when some name was watched.
 */
int ct_check_entry(ct_check *c, const ct_leaf *leaf, ct_finding_cb cb, void *payload,
                   int *watched_out, char *err, size_t errcap);

#endif /* PINSET_CT_MATCH_H */
