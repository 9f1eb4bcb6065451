/*
 * opt.h - table-driven option parsing. Each command declares its options in
 * a static table; the same table drives parsing, --help and the docs check.
 */
#ifndef PINSET_CLI_OPT_H
#define PINSET_CLI_OPT_H

#include <stddef.h>

typedef struct opt_spec {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 for none */
    const char *arg;  /* argument placeholder ("FILE"), NULL for a flag */
    const char *help; /* one line */
} opt_spec;

typedef struct cmd_spec {
    const char *name;     /* "hash" */
    const char *synopsis; /* "[options] FILE... | -" */
    const char *summary;  /* one line */
    const opt_spec *opts; /* terminated by an entry with name == NULL */
} cmd_spec;

typedef struct opt_state {
    int argc;
    char **argv;
    int next;            /* next argv index to read */
    int only_positional; /* after "--" */
} opt_state;

enum { OPT_END = -1, OPT_ERROR = -2, OPT_HELP = -3, OPT_POSITIONAL = -4 };

void opt_init(opt_state *st, int argc, char **argv);
/*
 * Read the next argument. Returns the index of the matched option in
 * cmd->opts (with *value set for options that take one), OPT_POSITIONAL
 * (with *value set to the argument), OPT_HELP for -h/--help, OPT_END, or
 * OPT_ERROR after printing a usage message to stderr.
 */
int opt_next(opt_state *st, const cmd_spec *cmd, const char **value);
/* Print the command's help (synopsis, summary, options) to stdout. */
void opt_print_help(const cmd_spec *cmd);
/*
 * The message of the last opt_usage_error ("" before any), as printed but
 * without the command name: for a command that must also say it elsewhere.
 */
const char *opt_last_usage(void);
/* Set that message for a refusal that is not opt_usage_error's (an option's file unusable). */
void opt_set_last_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Print "usage: pinset <cmd> <synopsis>" and a hint to stderr; returns EXIT_USAGE. */
int opt_usage_error(const cmd_spec *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/*
 * Parse a duration in seconds with up to millisecond precision ("10", "0.5")
 * into milliseconds: more than 0 and at most 86400 s. 0 on success.
 */
int opt_parse_seconds(const char *s, unsigned int *ms_out);
/* Parse a non-negative decimal into *out with an upper bound; 0 on success. */
int opt_parse_uint(const char *s, unsigned long max, unsigned long *out);

#endif /* PINSET_CLI_OPT_H */
