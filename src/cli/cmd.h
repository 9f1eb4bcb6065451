/*
 * cmd.h - the subcommands of the pinset tool: one cmd_<name>.c each.
 */
#ifndef PINSET_CLI_CMD_H
#define PINSET_CLI_CMD_H

#include "opt.h"

typedef int (*cmd_fn)(int argc, char **argv);

typedef struct cmd_entry {
    const cmd_spec *spec;
    cmd_fn run;
} cmd_entry;

/* Each command: its spec (options table) and its handler. argv[0] is the command name. */
extern const cmd_spec cmd_hash_spec;
int cmd_hash(int argc, char **argv);
extern const cmd_spec cmd_fetch_spec;
int cmd_fetch(int argc, char **argv);
extern const cmd_spec cmd_check_spec;
int cmd_check(int argc, char **argv);
extern const cmd_spec cmd_explain_spec;
int cmd_explain(int argc, char **argv);
extern const cmd_spec cmd_lint_spec;
int cmd_lint(int argc, char **argv);
extern const cmd_spec cmd_convert_spec;
int cmd_convert(int argc, char **argv);
extern const cmd_spec cmd_backup_key_spec;
int cmd_backup_key(int argc, char **argv);
extern const cmd_spec cmd_keygen_spec;
int cmd_keygen(int argc, char **argv);
extern const cmd_spec cmd_sign_spec;
int cmd_sign(int argc, char **argv);
extern const cmd_spec cmd_delegate_spec;
int cmd_delegate(int argc, char **argv);
extern const cmd_spec cmd_verify_spec;
int cmd_verify(int argc, char **argv);
extern const cmd_spec cmd_update_spec;
int cmd_update(int argc, char **argv);
extern const cmd_spec cmd_policy_spec;
int cmd_policy(int argc, char **argv);
extern const cmd_spec cmd_plan_spec;
int cmd_plan(int argc, char **argv);
extern const cmd_spec cmd_publish_spec;
int cmd_publish(int argc, char **argv);
extern const cmd_spec cmd_collect_spec;
int cmd_collect(int argc, char **argv);
extern const cmd_spec cmd_reports_spec;
int cmd_reports(int argc, char **argv);
extern const cmd_spec cmd_demo_spec;
int cmd_demo(int argc, char **argv);
extern const cmd_spec cmd_completion_spec;
int cmd_completion(int argc, char **argv);
extern const cmd_spec cmd_version_spec;
int cmd_version(int argc, char **argv);
extern const cmd_spec cmd_help_spec;
int cmd_help(int argc, char **argv);

/* The command table (main.c), terminated by {NULL, NULL}. */
extern const cmd_entry cli_commands[];
const cmd_entry *cli_find_command(const char *name);

#endif /* PINSET_CLI_CMD_H */
