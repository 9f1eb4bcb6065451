/*
 * plan.h - what `pinset plan` found (cmd_plan.c) and how it is printed
 * (plan_out.c): a matrix of client versions (the fleet) by host, each cell
 * the verdict a pinned client of that version gives the proposed chain.
 */
#ifndef PINSET_CLI_PLAN_H
#define PINSET_CLI_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common.h"
#include "plan_fleet.h"

#define PLAN_HOSTS_MAX   64 /* hosts judged in one plan */
#define PLAN_EXPLAIN_MAX 512

/* One version on one host. */
typedef struct plan_cell {
    pinset_verdict verdict;
    pinset_reason reason;
    int blocks; /* a client of this version would refuse the connection */
    char explain[PLAN_EXPLAIN_MAX];
} plan_cell;

typedef struct plan_doc {
    const plan_fleet *fleet;
    const char *fleet_file;
    const char *chain_file;
    const char *key_file;             /* --key or --csr, or NULL */
    const pinset_cert_pins *new_leaf; /* its leaf's pins: judged in place of the chain's leaf */
    char hosts[PLAN_HOSTS_MAX][PINSET_HOST_MAX];
    size_t host_count;
    int64_t at;
    plan_cell *cells; /* fleet->count * host_count, version-major */
    /* the summary */
    size_t in_support;    /* versions in support at `at` */
    size_t breaking;      /* of them, those with a blocking cell */
    size_t share_unknown; /* of those, how many give no share */
    double share_at_risk; /* the sum of the shares of the breaking ones */
} plan_doc;

/*
 * Validate the chain `sent` for host h at d->at against store, then judge
 * every version over it into the cells of h (with d->new_leaf: a leaf on
 * that key in place of the chain's). 0, or an exit status after a message.
 */
int plan_judge_host(plan_doc *d, size_t h, X509_STORE *store, STACK_OF(X509) * sent,
                    pinset_result *res);
/* Count the summary fields of d from its cells. */
void plan_summarise(plan_doc *d);
/* The pins of a leaf not issued yet on the key `spki` (its cert pin one no policy holds). 0/-1. */
int plan_new_leaf_pins(pinset_cert_pins *out, const pinset_pin *spki);
/*
 * --rotate (plan_rotate.c): d has one host and its cells allocated. Judge a
 * leaf on each candidate key, print the candidates and a proposal (text or
 * json) and return the exit status: 0 when a safe move exists now, else 1.
 */
int plan_rotate(plan_doc *d, X509_STORE *store, STACK_OF(X509) * sent, pinset_result *res,
                int json);

/* The cell of version v on host h. */
const plan_cell *plan_cell_at(const plan_doc *d, size_t v, size_t h);
/* Whether version v breaks (blocks on some host). */
int plan_version_breaks(const plan_doc *d, size_t v);

/* Print the plan; 0, or -1 when out of memory (stdout errors are for the caller to see). */
int plan_print_text(const plan_doc *d);
int plan_print_json(const plan_doc *d);
int plan_print_markdown(const plan_doc *d);

#endif /* PINSET_CLI_PLAN_H */
