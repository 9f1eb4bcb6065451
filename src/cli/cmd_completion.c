/*
 * cmd_completion.c - pinset completion bash|zsh|fish: print a shell
 * completion script, generated from the command table (main.c) and each
 * command's options table, so that the scripts never fall behind the tool.
 *
 * What an option's argument completes to comes from the table too: FILE and
 * DIR complete to paths; an option whose help is a list of values ("text
 * (default), json or policy", "colour: auto (default), never or always")
 * completes to those values; any other argument (N, TIME, HOST:PORT:ADDR)
 * completes to nothing. Positional arguments follow the synopsis: FILE... to
 * paths, HOST to host names, COMMAND to the commands, "a|b|c" to its words.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "common.h"

static const opt_spec completion_opts[] = {{NULL, 0, NULL, NULL}};

const cmd_spec cmd_completion_spec = {
    "completion", "bash|zsh|fish",
    "Print a shell completion script for bash, zsh or fish, to load or install.", completion_opts};

/* Longest list of values taken from one option's help. */
#define VALUES_MAX 256

typedef enum arg_kind { ARG_NONE, ARG_FILE, ARG_DIR, ARG_VALUES, ARG_OTHER } arg_kind;
typedef enum pos_kind { POS_NONE, POS_FILES, POS_HOSTS, POS_COMMANDS, POS_VALUES } pos_kind;

static int is_value_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Append the word [w, w + len) to the space-separated list in buf; -1 if it does not fit. */
static int append_word(char *buf, size_t cap, const char *w, size_t len)
{
    size_t n = strlen(buf);

    if (n + (n > 0) + len + 1 > cap) {
        return -1;
    }
    if (n > 0) {
        buf[n++] = ' ';
    }
    memcpy(buf + n, w, len);
    buf[n + len] = '\0';
    return 0;
}

/*
 * The values an option's help lists, space-separated into buf: the text after
 * its last ": ", without parenthesised remarks, must be lower-case words joined
 * by ", " and " or " ("text (default), json or policy"). Returns 0 and an empty
 * buf for any other help.
 */
static int help_values(char *buf, size_t cap, const char *help)
{
    const char *p = help;
    int need_sep = 0;

    buf[0] = '\0';
    for (const char *q = strstr(help, ": "); q != NULL; q = strstr(q + 2, ": ")) {
        p = q + 2;
    }
    while (*p != '\0') {
        const char *w = p;
        size_t len;

        if (*p == ' ') {
            p++;
            continue;
        }
        if (*p == '(') {
            p = strchr(p, ')');
            if (p == NULL) {
                goto none;
            }
            p++;
            continue;
        }
        if (*p == ',' && need_sep) {
            need_sep = 0;
            p++;
            continue;
        }
        while (is_value_char(*p)) {
            p++;
        }
        len = (size_t)(p - w);
        if (len == 0 || (*p != '\0' && *p != ' ' && *p != ',' && *p != '(')) {
            goto none;
        }
        if (len == 2 && memcmp(w, "or", 2) == 0 && need_sep) {
            need_sep = 0;
            continue;
        }
        if (need_sep || append_word(buf, cap, w, len) != 0) {
            goto none;
        }
        need_sep = 1;
    }
    if (need_sep) {
        return (int)strlen(buf);
    }
none:
    buf[0] = '\0';
    return 0;
}

static arg_kind arg_of(const opt_spec *o, char *values, size_t cap)
{
    values[0] = '\0';
    if (o->arg == NULL) {
        return ARG_NONE;
    }
    if (strcmp(o->arg, "FILE") == 0) {
        return ARG_FILE;
    }
    if (strcmp(o->arg, "DIR") == 0) {
        return ARG_DIR;
    }
    return help_values(values, cap, o->help) > 0 ? ARG_VALUES : ARG_OTHER;
}

/* What a command's positional arguments are, from its synopsis. */
static pos_kind positional_of(const cmd_spec *c, char *values, size_t cap)
{
    const char *s = c->synopsis;

    values[0] = '\0';
    if (strstr(s, "COMMAND") != NULL) {
        return POS_COMMANDS;
    }
    if (strstr(s, "FILE...") != NULL) {
        return POS_FILES;
    }
    if (strstr(s, "HOST") != NULL) {
        return POS_HOSTS;
    }
    if (strchr(s, '|') == NULL ||
        strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-|") != strlen(s)) {
        return POS_NONE;
    }
    for (const char *w = s; *w != '\0';) {
        size_t len = strcspn(w, "|");
        if (len > 0 && append_word(values, cap, w, len) != 0) {
            return POS_NONE;
        }
        w += len + (w[len] == '|');
    }
    return POS_VALUES;
}

/* Names that go into a script unquoted: the tables' command and option names. */
static int plain_name(const char *s)
{
    return s != NULL && *s != '\0' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

/* A short option letter that goes into a script unquoted (a glob or comment character never). */
static int short_ok(char c)
{
    return c != '\0' && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", c);
}

static void print_command_names(void)
{
    const char *sep = "";

    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (plain_name(c->spec->name)) {
            printf("%s%s", sep, c->spec->name);
            sep = " ";
        }
    }
}

/* ---- bash ---- */

static void bash_option_values(const cmd_spec *c)
{
    char values[VALUES_MAX];

    for (const opt_spec *o = c->opts; o != NULL && o->name != NULL; o++) {
        arg_kind k = arg_of(o, values, sizeof(values));

        if (k == ARG_NONE || !plain_name(o->name)) {
            continue;
        }
        printf("        ");
        if (short_ok(o->short_name)) {
            printf("-%c|", o->short_name);
        }
        printf("--%s) ", o->name);
        switch (k) {
        case ARG_FILE:
            printf("_pinset_paths -f; ");
            break;
        case ARG_DIR:
            printf("_pinset_paths -d; ");
            break;
        case ARG_VALUES:
            printf("_pinset_words \"%s\"; ", values);
            break;
        case ARG_NONE:
        case ARG_OTHER:
        default:
            break; /* a value, with nothing to offer */
        }
        printf("return 0 ;;\n");
    }
}

static void bash_command(const cmd_spec *c)
{
    char values[VALUES_MAX];
    pos_kind pos = positional_of(c, values, sizeof(values));

    printf("    %s)\n        case $prev in\n", c->name);
    bash_option_values(c);
    printf("        esac\n        if [[ $cur == -* ]]; then\n            _pinset_words \"");
    for (const opt_spec *o = c->opts; o != NULL && o->name != NULL; o++) {
        if (plain_name(o->name)) {
            printf("--%s ", o->name);
        }
        if (short_ok(o->short_name)) {
            printf("-%c ", o->short_name);
        }
    }
    printf("--help -h\"\n            return 0\n        fi\n");
    switch (pos) {
    case POS_FILES:
        printf("        _pinset_paths -f\n");
        break;
    case POS_HOSTS:
        printf("        _pinset_words \"$(compgen -A hostname)\"\n");
        break;
    case POS_COMMANDS: /* one argument: complete it only as the first */
        printf("        ((cword == 2)) && _pinset_words \"");
        print_command_names();
        printf("\"\n");
        break;
    case POS_VALUES:
        printf("        ((cword == 2)) && _pinset_words \"%s\"\n", values);
        break;
    case POS_NONE:
    default:
        break;
    }
    printf("        ;;\n");
}

static void print_bash(void)
{
    printf("# bash completion for pinset(1), written by 'pinset completion bash' from the\n"
           "# tool's option tables. Load it with: source <(pinset completion bash)\n"
           "\n"
           "# _pinset_words WORDS: the words that start with $cur.\n"
           "_pinset_words() {\n"
           "    local IFS=$' \\t\\n'\n"
           "    mapfile -t COMPREPLY < <(compgen -P \"$pfx\" -W \"$1\" -- \"$cur\")\n"
           "}\n"
           "# _pinset_paths -f|-d: the files (or directories) that start with $cur.\n"
           "_pinset_paths() {\n"
           "    mapfile -t COMPREPLY < <(compgen -P \"$pfx\" \"$1\" -- \"$cur\")\n"
           "    compopt -o filenames 2> /dev/null\n"
           "}\n"
           "\n"
           "_pinset() {\n"
           "    local cword=$COMP_CWORD cur prev= pfx=\n"
           "    cur=${COMP_WORDS[cword]}\n"
           "    COMPREPLY=()\n"
           "    ((cword > 0)) && prev=${COMP_WORDS[cword - 1]}\n"
           "    # --option=value: COMP_WORDBREAKS usually splits it at '='\n"
           "    if [[ $cur == = ]]; then\n"
           "        cur=\n"
           "    elif [[ $prev == = ]] && ((cword > 1)); then\n"
           "        prev=${COMP_WORDS[cword - 2]}\n"
           "    elif [[ $cur == --*=* ]]; then\n"
           "        prev=${cur%%%%=*} pfx=${cur%%%%=*}= cur=${cur#*=}\n"
           "    fi\n"
           "    if ((cword <= 1)); then\n"
           "        if [[ $cur == -* ]]; then\n"
           "            _pinset_words \"--help -h --version\"\n"
           "        else\n"
           "            _pinset_words \"");
    print_command_names();
    printf("\"\n"
           "        fi\n"
           "        return 0\n"
           "    fi\n"
           "    case ${COMP_WORDS[1]} in\n");
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (plain_name(c->spec->name)) {
            bash_command(c->spec);
        }
    }
    printf("    esac\n"
           "    return 0\n"
           "}\n"
           "complete -F _pinset pinset\n");
}

/* ---- zsh ---- */

/*
 * Text inside a single-quoted zsh string: a quote closes and reopens the
 * string; the characters in special (those _arguments reads in this part of
 * a spec) are escaped with a backslash.
 */
static void zsh_text(const char *s, const char *special)
{
    for (; *s != '\0'; s++) {
        if (*s == '\'') {
            fputs("'\\''", stdout);
        } else if (strchr(special, *s) != NULL) {
            printf("\\%c", *s);
        } else if ((unsigned char)*s >= 0x20 && *s != 0x7f) {
            putchar(*s);
        }
    }
}

/* What _arguments reads specially in an option's [description] and in its :message: */
#define ZSH_DESC    "[]\\"
#define ZSH_MESSAGE ":\\"

static void zsh_option(const opt_spec *o)
{
    char values[VALUES_MAX];
    arg_kind k = arg_of(o, values, sizeof(values));
    int many = strstr(o->help, "repeatable") != NULL;
    const char *long_suffix = k == ARG_NONE ? "" : "=";

    printf("        ");
    if (short_ok(o->short_name)) {
        if (many) {
            printf("'*'");
        } else {
            printf("'(-%c --%s)'", o->short_name, o->name);
        }
        printf("{-%c%s,--%s%s}'[", o->short_name, k == ARG_NONE ? "" : "+", o->name, long_suffix);
    } else {
        printf("'%s--%s%s[", many ? "*" : "", o->name, long_suffix);
    }
    zsh_text(o->help, ZSH_DESC);
    printf("]");
    if (k != ARG_NONE) {
        printf(":");
        zsh_text(o->arg, ZSH_MESSAGE);
        printf(":");
    }
    switch (k) {
    case ARG_FILE:
        printf("_files");
        break;
    case ARG_DIR:
        printf("_files -/");
        break;
    case ARG_VALUES:
        printf("(%s)", values);
        break;
    case ARG_NONE:
    case ARG_OTHER:
    default:
        break;
    }
    printf("' \\\n");
}

static void zsh_command(const cmd_spec *c)
{
    char values[VALUES_MAX];
    pos_kind pos = positional_of(c, values, sizeof(values));

    printf("_pinset_%s() {\n    _arguments -s -S \\\n", c->name);
    for (const opt_spec *o = c->opts; o != NULL && o->name != NULL; o++) {
        if (plain_name(o->name)) {
            zsh_option(o);
        }
    }
    printf("        '(- *)'{-h,--help}'[show this help]'");
    switch (pos) {
    case POS_FILES:
        printf(" \\\n        '*:file:_files'");
        break;
    case POS_HOSTS:
        printf(" \\\n        '*:host:_hosts'");
        break;
    case POS_COMMANDS:
        printf(" \\\n        ':command:(");
        print_command_names();
        printf(")'");
        break;
    case POS_VALUES:
        printf(" \\\n        ':argument:(%s)'", values);
        break;
    case POS_NONE:
    default:
        break;
    }
    printf("\n}\n\n");
}

static void print_zsh(void)
{
    printf("#compdef pinset\n"
           "# zsh completion for pinset(1), written by 'pinset completion zsh' from the\n"
           "# tool's option tables. Install it as _pinset in a directory of $fpath, or\n"
           "# load it with: source <(pinset completion zsh) (after compinit).\n\n");
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (plain_name(c->spec->name)) {
            zsh_command(c->spec);
        }
    }
    printf("_pinset() {\n"
           "    local curcontext=$curcontext state line\n"
           "    local -a commands\n"
           "    commands=(\n");
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (plain_name(c->spec->name)) {
            printf("        '%s:", c->spec->name);
            zsh_text(c->spec->summary, "");
            printf("'\n");
        }
    }
    printf("    )\n"
           "    _arguments -C \\\n"
           "        '(- *)'{-h,--help}'[show the commands]' \\\n"
           "        '(- *)--version[print the versions]' \\\n"
           "        '1:command:->command' \\\n"
           "        '*::argument:->argument'\n"
           "    case $state in\n"
           "    command) _describe -t commands 'pinset command' commands ;;\n"
           "    argument)\n"
           "        case $words[1] in\n");
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (plain_name(c->spec->name)) {
            printf("        %s) _pinset_%s ;;\n", c->spec->name, c->spec->name);
        }
    }
    printf("        esac\n"
           "        ;;\n"
           "    esac\n"
           "}\n\n"
           "# autoloaded from $fpath: complete; sourced: register\n"
           "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
           "    _pinset \"$@\"\n"
           "else\n"
           "    compdef _pinset pinset\n"
           "fi\n");
}

/* ---- fish ---- */

/* Text inside a single-quoted fish string: only \ and ' are special. */
static void fish_text(const char *s)
{
    putchar('\'');
    for (; *s != '\0'; s++) {
        if (*s == '\'' || *s == '\\') {
            printf("\\%c", *s);
        } else if ((unsigned char)*s >= 0x20 && *s != 0x7f) {
            putchar(*s);
        }
    }
    putchar('\'');
}

static void fish_command(const cmd_spec *c)
{
    char values[VALUES_MAX], pos_values[VALUES_MAX];
    pos_kind pos = positional_of(c, pos_values, sizeof(pos_values));
    const char *cond = "complete -c pinset -n '__fish_seen_subcommand_from";

    printf("\n# pinset %s\n", c->name);
    for (const opt_spec *o = c->opts; o != NULL && o->name != NULL; o++) {
        arg_kind k = arg_of(o, values, sizeof(values));

        if (!plain_name(o->name)) {
            continue;
        }
        printf("%s %s'", cond, c->name);
        if (short_ok(o->short_name)) {
            printf(" -s %c", o->short_name);
        }
        printf(" -l %s", o->name);
        switch (k) {
        case ARG_FILE:
            printf(" -r -F");
            break;
        case ARG_DIR:
            printf(" -x -a '(__fish_complete_directories)'");
            break;
        case ARG_VALUES:
            printf(" -x -a '%s'", values);
            break;
        case ARG_OTHER:
            printf(" -x");
            break;
        case ARG_NONE:
        default:
            break;
        }
        printf(" -d ");
        fish_text(o->help);
        printf("\n");
    }
    printf("%s %s' -s h -l help -d 'show this help'\n", cond, c->name);
    switch (pos) {
    case POS_FILES:
        printf("%s %s' -F\n", cond, c->name);
        break;
    case POS_HOSTS:
        printf("%s %s' -x -a '(__fish_print_hostnames)'\n", cond, c->name);
        break;
    case POS_COMMANDS:
        printf("%s %s' -x -a '", cond, c->name);
        print_command_names();
        printf("'\n");
        break;
    case POS_VALUES:
        printf("%s %s' -x -a '%s'\n", cond, c->name, pos_values);
        break;
    case POS_NONE:
    default:
        break;
    }
}

static void print_fish(void)
{
    printf("# fish completion for pinset(1), written by 'pinset completion fish' from the\n"
           "# tool's option tables. Install it as pinset.fish in a completions directory,\n"
           "# or load it with: pinset completion fish | source\n\n"
           "complete -c pinset -f\n"
           "complete -c pinset -n __fish_use_subcommand -s h -l help -d 'show the commands'\n"
           "complete -c pinset -n __fish_use_subcommand -l version -d 'print the versions'\n");
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (plain_name(c->spec->name)) {
            printf("complete -c pinset -n __fish_use_subcommand -a %s -d ", c->spec->name);
            fish_text(c->spec->summary);
            printf("\n");
        }
    }
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (plain_name(c->spec->name)) {
            fish_command(c->spec);
        }
    }
}

int cmd_completion(int argc, char **argv)
{
    const char *shell = NULL, *v;
    opt_state st;
    int r;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_completion_spec, &v)) != OPT_END) {
        if (r == OPT_HELP) {
            opt_print_help(&cmd_completion_spec);
            return EXIT_OK;
        }
        if (r != OPT_POSITIONAL) {
            return EXIT_USAGE;
        }
        if (shell != NULL) {
            return opt_usage_error(&cmd_completion_spec, "unexpected argument '%s'", v);
        }
        shell = v;
    }
    if (shell == NULL) {
        return opt_usage_error(&cmd_completion_spec, "no shell given (bash, zsh or fish)");
    }
    if (strcmp(shell, "bash") == 0) {
        print_bash();
    } else if (strcmp(shell, "zsh") == 0) {
        print_zsh();
    } else if (strcmp(shell, "fish") == 0) {
        print_fish();
    } else {
        return opt_usage_error(&cmd_completion_spec, "unknown shell '%s' (bash, zsh or fish)",
                               shell);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return cli_output_failed("completion");
    }
    return EXIT_OK;
}
