/*
 * main.c - the pinset tool: dispatch to one handler per subcommand.
 */
#define _POSIX_C_SOURCE 200809L /* sigprocmask */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cmd.h"
#include "common.h"
#include "out.h"
#include "suggest.h"

const cmd_entry cli_commands[] = {
    {&cmd_hash_spec, cmd_hash},
    {&cmd_fetch_spec, cmd_fetch},
    {&cmd_check_spec, cmd_check},
    {&cmd_explain_spec, cmd_explain},
    {&cmd_lint_spec, cmd_lint},
    {&cmd_convert_spec, cmd_convert},
    {&cmd_policy_spec, cmd_policy},
    {&cmd_backup_key_spec, cmd_backup_key},
    {&cmd_plan_spec, cmd_plan},
    {&cmd_keygen_spec, cmd_keygen},
    {&cmd_sign_spec, cmd_sign},
    {&cmd_delegate_spec, cmd_delegate},
    {&cmd_verify_spec, cmd_verify},
    {&cmd_update_spec, cmd_update},
    {&cmd_publish_spec, cmd_publish},
    {&cmd_collect_spec, cmd_collect},
    {&cmd_reports_spec, cmd_reports},
    {&cmd_ct_watch_spec, cmd_ct_watch},
    {&cmd_monitor_spec, cmd_monitor},
    {&cmd_demo_spec, cmd_demo},
    {&cmd_completion_spec, cmd_completion},
    {&cmd_version_spec, cmd_version},
    {&cmd_help_spec, cmd_help},
    {NULL, NULL},
};

/* The command nearest to a mistyped name, or NULL. */
static const char *nearest_command(const char *name)
{
    suggest sg;

    suggest_init(&sg, name, strlen(name), 0);
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        suggest_offer(&sg, c->spec->name);
    }
    return suggest_result(&sg);
}

/* "unknown command 'chek'; did you mean 'check'?" and the way to the list. */
static void unknown_command(const char *where, const char *name)
{
    const char *near = nearest_command(name);
    char safe[128];

    out_safe_copy(safe, sizeof(safe), name);
    fprintf(stderr, "pinset: %sunknown command '%s'", where, safe);
    if (near != NULL) {
        fprintf(stderr, "; did you mean '%s'?", near);
    }
    fprintf(stderr, " (see 'pinset help')\n");
}

const cmd_entry *cli_find_command(const char *name)
{
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        if (strcmp(c->spec->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

/* Whether standard output is a pipe or socket whose reader has gone. */
static int stdout_reader_gone(void)
{
    struct stat sb;
    struct pollfd p = {STDOUT_FILENO, POLLOUT, 0};

    if (fstat(STDOUT_FILENO, &sb) != 0 || !(S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode))) {
        return 0;
    }
    return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

int cli_output_failed(const char *cmd)
{
    int err = errno;

    if (fflush(stdout) != 0) {
        err = errno;
    }
    if (err == EPIPE || stdout_reader_gone()) {
        sigset_t set;

        /* The probing commands ignore SIGPIPE for their sockets: end as cat would. */
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(SIGPIPE);
    }
    if (err == 0) {
        cli_err(cmd, "cannot write the output"); /* no reason known (a document not built) */
    } else {
        cli_err(cmd, "cannot write the output: %s", strerror(err));
    }
    return EXIT_INTERNAL;
}

int cli_exit_for(pinset_err err)
{
    switch (err) {
    case PINSET_OK:
        return EXIT_OK;
    case PINSET_E_INVALID_ARG:
        return EXIT_USAGE;
    case PINSET_E_PARSE:
    case PINSET_E_UNSUPPORTED:
    case PINSET_E_LIMIT:
    case PINSET_E_IO:
    case PINSET_E_PASSPHRASE:
    case PINSET_E_CRYPTO:
    case PINSET_E_EXPIRED:
        return EXIT_INPUT;
    case PINSET_E_TLS:
        return EXIT_NETWORK;
    case PINSET_E_NO_MATCH:
        return EXIT_NEGATIVE;
    case PINSET_E_NOMEM:
    case PINSET_E_BUFFER_TOO_SMALL:
    case PINSET_E_INTERNAL:
        return EXIT_INTERNAL;
    default:
        return EXIT_INTERNAL;
    }
}

static const opt_spec no_opts[] = {{NULL, 0, NULL, NULL}};

const cmd_spec cmd_version_spec = {"version", "",
                                   "Print the versions of pinset, libpinset and OpenSSL.", no_opts};

int cmd_version(int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_version_spec, &v)) != OPT_END) {
        if (r == OPT_HELP) {
            opt_print_help(&cmd_version_spec);
            return EXIT_OK;
        }
        if (r == OPT_POSITIONAL) {
            return opt_usage_error(&cmd_version_spec, "unexpected argument '%s'", v);
        }
        return EXIT_USAGE;
    }
    printf("pinset %s (libpinset %s, %s)\n", PINSET_VERSION_STRING, pinset_version(),
           OpenSSL_version(OPENSSL_VERSION)); /* the OpenSSL loaded at run time */
    return EXIT_OK;
}

const cmd_spec cmd_help_spec = {"help", "[COMMAND]", "Show the commands, or one command's help.",
                                no_opts};

static void print_overview(FILE *f)
{
    fprintf(f, "usage: pinset <command> [options] [arguments]\n\n"
               "Certificate and public-key pinning for the people who run TLS clients.\n\n"
               "commands:\n");
    for (const cmd_entry *c = cli_commands; c->spec != NULL; c++) {
        fprintf(f, "  %-10s %s\n", c->spec->name, c->spec->summary);
    }
    fprintf(f,
            "\n'pinset <command> --help' shows a command's options; man pinset for exit codes.\n");
}

int cmd_help(int argc, char **argv)
{
    const cmd_entry *c;

    if (argc < 2) {
        print_overview(stdout);
        return EXIT_OK;
    }
    if (argc > 2) {
        return opt_usage_error(&cmd_help_spec, "too many arguments");
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        opt_print_help(&cmd_help_spec);
        return EXIT_OK;
    }
    c = cli_find_command(argv[1]);
    if (c == NULL) {
        unknown_command("help: ", argv[1]);
        return EXIT_USAGE;
    }
    opt_print_help(c->spec);
    return EXIT_OK;
}

/*
 * Every command's last word on standard output: what it wrote must have gone
 * out (help, version and --help too). A command that already said its output
 * failed (EXIT_INTERNAL) is not told again.
 */
static int finish(const char *cmd, int rc)
{
    if (rc != EXIT_INTERNAL && (fflush(stdout) != 0 || ferror(stdout))) {
        return cli_output_failed(cmd);
    }
    return rc;
}

int main(int argc, char **argv)
{
    const cmd_entry *c;

    if (argc < 2) {
        print_overview(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_overview(stdout);
        return finish("help", EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0) {
        /* "pinset --version x" is a usage error */
        return finish("version", cmd_version(argc - 1, argv + 1));
    }
    c = cli_find_command(argv[1]);
    if (c == NULL) {
        unknown_command("", argv[1]);
        return EXIT_USAGE;
    }
    return finish(c->spec->name, c->run(argc - 1, argv + 1));
}
