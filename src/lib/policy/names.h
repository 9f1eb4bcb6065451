/*
 * names.h - the native format's names of pinset_pin_kind, pinset_role,
 * pinset_mode and pinset_on_expiry, indexed by value. Shared by the parser
 * (parse_rule.c) and the writer (write.c), which both use every table.
 */
#ifndef PINSET_POLICY_NAMES_H
#define PINSET_POLICY_NAMES_H

static const char *const pinset__policy_kind_names[] = {"spki", "cert"};
static const char *const pinset__policy_role_names[] = {"any", "leaf", "ca", "backup"};
static const char *const pinset__policy_mode_names[] = {"enforce", "report"};
static const char *const pinset__policy_expiry_names[] = {"none", "fail-open", "fail-closed",
                                                          "report"};

#endif /* PINSET_POLICY_NAMES_H */
