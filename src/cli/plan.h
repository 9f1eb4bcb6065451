/*
 * plan.h - what `pinset plan` found (cmd_plan.c) and how it is printed
 * (plan_out.c): a matrix of client versions (the fleet) by host, each cell
 * the verdict a pinned client of that version gives the proposed chain.
 */
#ifndef PINSET_CLI_PLAN_H
#define PINSET_CLI_PLAN_H

#include <stddef.h>
#include <stdint.h>

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

/* The cell of version v on host h. */
const plan_cell *plan_cell_at(const plan_doc *d, size_t v, size_t h);
/* Whether version v breaks (blocks on some host). */
int plan_version_breaks(const plan_doc *d, size_t v);

/* Print the plan; 0, or -1 when out of memory (stdout errors are for the caller to see). */
int plan_print_text(const plan_doc *d);
int plan_print_json(const plan_doc *d);
int plan_print_markdown(const plan_doc *d);

#endif /* PINSET_CLI_PLAN_H */
