/*
 * plan_fleet.h - the fleet file of `pinset plan` (docs/fleet-format.md): the
 * client versions in the field, each with its pin policy (any format pinset
 * reads, path relative to the fleet file), its share of users and its end of
 * support.
 *
 * The file is read with the bounded reader and parsed with jansson; every
 * refusal names the file, the line and column of the value and its JSON path
 * ("fleet.json:4:17: versions[1].share: ..."), and nothing is half loaded.
 */
#ifndef PINSET_CLI_PLAN_FLEET_H
#define PINSET_CLI_PLAN_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define PLAN_FLEET_FILE_MAX   ((size_t)1 << 20) /* a fleet file is a short list */
#define PLAN_FLEET_VERSIONS   256               /* client versions in one fleet */
#define PLAN_FLEET_NAME_MAX   64                /* bytes of a version name */
#define PLAN_FLEET_POLICY_MAX 4096              /* bytes of a policy path */

typedef struct plan_version {
    char name[PLAN_FLEET_NAME_MAX + 1];
    char *policy_path;     /* as resolved against the fleet file's folder (owned) */
    pinset_policy *policy; /* owned */
    double share;          /* 0..1; valid when has_share */
    int has_share;
    int64_t end_of_support; /* the first second out of support; 0: no end given */
    char eos_text[48];      /* end_of_support as written ("" when none) */
} plan_version;

typedef struct plan_fleet {
    plan_version *v;
    size_t count;
} plan_fleet;

/*
 * Read and check the fleet file at path, then load each version's policy
 * (`host`, or NULL, for the policy formats that name no host). On failure
 * prints "pinset: CMD: ..." and returns the exit status (3 for bad input);
 * 0 on success. plan_fleet_free releases *out either way.
 */
int plan_fleet_load(plan_fleet *out, const char *cmd, const char *path, const char *host);
void plan_fleet_free(plan_fleet *f);

/* Whether version v is in support at time t (no end, or t before it). */
int plan_version_in_support(const plan_version *v, int64_t t);

#endif /* PINSET_CLI_PLAN_FLEET_H */
