/*
 * cmd_convert.c - `pinset convert`: a policy from one pin format to another,
 * through the library's one model (pinset/convert.h), saying what did not
 * carry over.
 *
 * The input is read whole (a file or standard input), its format detected by
 * content unless --from names it, imported, then exported in the --to
 * format. The converted document goes to standard output, or to -o OUT,
 * written atomically (a temporary file in OUT's directory renamed over it, so
 * that a failure leaves OUT as it was). The fidelity lists of both steps are
 * printed on standard error as `pinset: convert: lost: ...` lines, or in the
 * JSON document with --format json; --strict exits 1 and writes nothing when
 * anything would be lost. docs/formats.md says what each format keeps.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fchmod, fsync */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <util/buf.h>
#include <util/read.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "out.h"
#include "outfile.h"

/* the formats --to writes and --from reads, as the help and the errors name them */
#define CONVERT_TO_FORMATS \
    "native, hpkp, curl, okhttp, okhttp-kotlin, okhttp-java, chromium, trustkit, android, trustkit-plist, ats or envoy"
#define CONVERT_FROM_FORMATS \
    "native, hpkp, curl, okhttp, chromium, trustkit, android, trustkit-plist or ats"

enum {
    CONV_OPT_TO,
    CONV_OPT_OUTPUT,
    CONV_OPT_FROM,
    CONV_OPT_HOST,
    CONV_OPT_STRICT,
    CONV_OPT_FORMAT,
    CONV_OPT_NOW
};

static const opt_spec convert_opts[] = {
    {"to", 0, "FORMAT", "the output format: " CONVERT_TO_FORMATS " (required)"},
    {"output", 'o', "FILE", "write the document to FILE, atomically (default: standard output)"},
    {"from", 0, "FORMAT", "the input format, instead of detecting it: " CONVERT_FROM_FORMATS},
    {"host", 0, "HOST", "the host an HPKP header or curl list is for; export only its rule"},
    {"strict", 0, NULL, "exit 1 and write nothing when anything would be lost"},
    {"format", 'f', "FORMAT", "text (default) or json"},
    {"now", 0, "TIME", "HPKP: turn max-age into an expiry from TIME, and an expiry back"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_convert_spec = {"convert", "[options] --to FORMAT FILE | -",
                                   "Convert a pin policy between formats, naming what is lost.",
                                   convert_opts};

/* Largest input: the library's bound for a policy document. */
#define CONVERT_MAX_INPUT  ((size_t)256 * 1024 * 1024)
#define CONVERT_TIMEOUT_MS 30000L

typedef struct convert_args {
    const char *in, *out, *host;
    int64_t now;
    pinset_format from, to;
    int strict, json;
} convert_args;

/* ---- arguments ---- */

static int want_format(const char *opt, const char *v, pinset_format *out)
{
    *out = pinset_format_from_name(v);
    if (*out == PINSET_FORMAT_UNKNOWN) {
        return opt_usage_error(&cmd_convert_spec, "%s wants " CONVERT_TO_FORMATS ", got '%s'", opt,
                               v);
    }
    return EXIT_OK;
}

static int check_host(const char *host)
{
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;
    pinset_diag d = PINSET_DIAG_INIT;

    if (pinset_host_canon(canon, sizeof(canon), &type, host, strlen(host), &d) != PINSET_OK) {
        return opt_usage_error(&cmd_convert_spec, "--host: %s", d.message);
    }
    return EXIT_OK;
}

static int parse_args(convert_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r, rc = EXIT_OK;

    opt_init(&st, argc, argv);
    while (rc == EXIT_OK && (r = opt_next(&st, &cmd_convert_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_convert_spec);
            return -1;
        case OPT_POSITIONAL:
            if (a->in != NULL) {
                return opt_usage_error(&cmd_convert_spec, "one input only, got '%s' too", v);
            }
            a->in = v;
            break;
        case CONV_OPT_TO:
            rc = want_format("--to", v, &a->to);
            break;
        case CONV_OPT_FROM:
            rc = want_format("--from", v, &a->from);
            break;
        case CONV_OPT_OUTPUT:
            a->out = v;
            break;
        case CONV_OPT_HOST:
            a->host = v;
            rc = check_host(v);
            break;
        case CONV_OPT_NOW:
            if (out_parse_time(v, &a->now) != 0 || a->now > 253402300799LL) {
                return opt_usage_error(
                    &cmd_convert_spec,
                    "--now wants an RFC 3339 time from 1970 to 9999, such as 2027-01-01T00:00:00Z, got '%s'",
                    v);
            }
            break;
        case CONV_OPT_STRICT:
            a->strict = 1;
            break;
        case CONV_OPT_FORMAT:
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                return opt_usage_error(&cmd_convert_spec, "unknown format '%s' (text or json)", v);
            }
            a->json = strcmp(v, "json") == 0;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (rc != EXIT_OK) {
        return rc;
    }
    if (a->in == NULL) {
        return opt_usage_error(&cmd_convert_spec, "no input given (give FILE, or - for standard "
                                                  "input)");
    }
    if (a->to == PINSET_FORMAT_UNKNOWN) {
        return opt_usage_error(&cmd_convert_spec, "--to is required: " CONVERT_TO_FORMATS);
    }
    return EXIT_OK;
}

/* ---- input ---- */

static const char *input_name(const char *in)
{
    return cli_is_stdin(in) ? CLI_STDIN_NAME : in;
}

static int read_input(const convert_args *a, struct pinset__buf *buf)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    if (cli_is_stdin(a->in)) {
        err = pinset__read_fd(buf, STDIN_FILENO, CLI_STDIN_NAME, CONVERT_MAX_INPUT,
                              CONVERT_TIMEOUT_MS, &d);
    } else {
        err = pinset__read_path(buf, a->in, CONVERT_MAX_INPUT, CONVERT_TIMEOUT_MS,
                                PINSET__READ_FIFO, &d);
    }
    if (err != PINSET_OK) {
        cli_err_diag("convert", &d);
        return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
    }
    return EXIT_OK;
}

/* ---- the fidelity list ---- */

static void print_lost(const pinset_fidelity *f)
{
    for (size_t i = 0; i < pinset_fidelity_count(f); i++) {
        size_t rule = pinset_fidelity_rule(f, i);
        const char *host = pinset_fidelity_host(f, i);
        fputs("pinset: convert: lost: ", stderr);
        if (rule == SIZE_MAX) {
            fputs("document", stderr);
        } else {
            fprintf(stderr, "rules[%zu]", rule);
        }
        if (host != NULL) {
            fputs(" (", stderr);
            out_safe(stderr, host);
            fputc(')', stderr);
        }
        fputs(": ", stderr);
        out_safe(stderr, pinset_fidelity_field(f, i));
        fputs(": ", stderr);
        out_safe(stderr, pinset_fidelity_reason(f, i));
        fputc('\n', stderr);
    }
}

static int lost_json(json_t *arr, const pinset_fidelity *f)
{
    for (size_t i = 0; i < pinset_fidelity_count(f); i++) {
        size_t rule = pinset_fidelity_rule(f, i);
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(arr, o) != 0 ||
            out_json_set(o, "rule",
                         rule == SIZE_MAX ? json_null() : json_integer((json_int_t)rule)) ||
            out_json_set(o, "host", out_json_str(pinset_fidelity_host(f, i))) ||
            out_json_set(o, "field", out_json_str(pinset_fidelity_field(f, i))) ||
            out_json_set(o, "reason", out_json_str(pinset_fidelity_reason(f, i)))) {
            return -1;
        }
    }
    return 0;
}

/* {"format": ..., "document": ... or null, "lost": [...]} on standard output. */
static int print_json(const convert_args *a, const struct pinset__buf *doc,
                      pinset_fidelity *const lists[2])
{
    json_t *o = json_object(), *lost = json_array();
    int rc = EXIT_OK;

    if (o == NULL || lost == NULL ||
        out_json_set(o, "format", json_string(pinset_format_name(a->to))) ||
        out_json_set(o, "document",
                     doc != NULL ? json_stringn((const char *)doc->p, doc->len) : json_null()) ||
        lost_json(lost, lists[0]) != 0 || lost_json(lost, lists[1]) != 0 ||
        out_json_set(o, "lost", json_incref(lost)) || out_json_dump(stdout, o) != 0) {
        cli_err("convert", "cannot write the json output");
        rc = EXIT_INTERNAL;
    }
    json_decref(lost);
    json_decref(o);
    return rc;
}

/* ---- output ---- */

/*
 * Write data to path through a temporary file in its directory and rename(2)
 * (outfile.h: a signal between the two removes the temporary too).
 */
static int write_atomic(const char *path, const uint8_t *data, size_t len)
{
    outfile of = OUTFILE_INIT;
    struct stat st;
    mode_t mask;
    char err[512];

    if (outfile_open(&of, path, err, sizeof(err)) != 0) {
        cli_err("convert", "%s", err);
        return EXIT_INPUT;
    }
    if (stat(path, &st) == 0) {
        of.mode = OUTFILE_MODE_SET | (st.st_mode & 07777); /* replace OUT with its permissions */
    } else {
        mask = umask(0);
        (void)umask(mask);
        of.mode = OUTFILE_MODE_SET | (0666 & ~mask);
    }
    if (len > 0 && fwrite(data, 1, len, of.f) != len) {
        cli_err("convert", "cannot write %s: %s", path, strerror(errno));
        outfile_abort(&of);
        return EXIT_INPUT;
    }
    if (outfile_commit(&of, err, sizeof(err)) != 0) {
        cli_err("convert", "%s", err);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

static int write_document(const convert_args *a, const struct pinset__buf *doc)
{
    if (a->out != NULL && strcmp(a->out, "-") != 0) {
        return write_atomic(a->out, doc->p, doc->len);
    }
    if (a->json) {
        return EXIT_OK; /* the document is in the json output */
    }
    if (doc->len > 0 && fwrite(doc->p, 1, doc->len, stdout) != doc->len) {
        cli_err("convert", "cannot write to standard output");
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

/* ---- the conversion ---- */

static int import_input(const convert_args *a, const struct pinset__buf *in, pinset_format from,
                        pinset_policy **p, pinset_fidelity **f)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    o.host = a->host;
    o.now = a->now;
    d.input = input_name(a->in);
    err = pinset_formats_import(p, f, in->p, in->len, from, &o, &d);
    if (err != PINSET_OK) {
        cli_err_diag("convert", &d);
        return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
    }
    return EXIT_OK;
}

static int export_policy(const convert_args *a, const pinset_policy *p, struct pinset__buf *doc,
                         pinset_fidelity **f)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    o.host = a->host;
    o.now = a->now;
    err = pinset_formats_export(f, p, a->to, &o, pinset__buf_sink, doc, &d);
    if (err != PINSET_OK) {
        d.input = input_name(a->in);
        if (d.message[0] == '\0') {
            snprintf(d.message, sizeof(d.message), "cannot write %s: %s", pinset_format_name(a->to),
                     pinset_strerror(err));
        }
        cli_err_diag("convert", &d);
        return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
    }
    return EXIT_OK;
}

static pinset_format choose_from(const convert_args *a, const struct pinset__buf *in)
{
    if (a->from != PINSET_FORMAT_UNKNOWN) {
        return a->from;
    }
    return pinset_format_detect(in->p, in->len, cli_is_stdin(a->in) ? NULL : a->in);
}

static int convert(const convert_args *a, const struct pinset__buf *in)
{
    pinset_format from = choose_from(a, in);
    pinset_fidelity *lists[2] = {NULL, NULL};
    pinset_policy *p = NULL;
    struct pinset__buf doc;
    int rc;

    pinset__buf_init(&doc, CONVERT_MAX_INPUT, 0);
    if (from == PINSET_FORMAT_UNKNOWN) {
        cli_err("convert", "%s: cannot tell its format: give --from (" CONVERT_FROM_FORMATS ")",
                input_name(a->in));
        return EXIT_INPUT;
    }
    if ((from == PINSET_FORMAT_HPKP || from == PINSET_FORMAT_CURL) && a->host == NULL) {
        return opt_usage_error(&cmd_convert_spec, "reading %s needs --host: the %s names no host",
                               pinset_format_name(from),
                               from == PINSET_FORMAT_HPKP ? "header" : "list");
    }
    rc = import_input(a, in, from, &p, &lists[0]);
    if (rc == EXIT_OK) {
        rc = export_policy(a, p, &doc, &lists[1]);
    }
    if (rc != EXIT_OK) {
        goto out;
    }
    if (a->strict && pinset_fidelity_count(lists[0]) + pinset_fidelity_count(lists[1]) > 0) {
        rc = a->json ? print_json(a, NULL, lists) : EXIT_OK;
        if (!a->json) {
            print_lost(lists[0]);
            print_lost(lists[1]);
        }
        cli_err("convert", "--strict: not converted, %zu thing(s) would be lost",
                pinset_fidelity_count(lists[0]) + pinset_fidelity_count(lists[1]));
        rc = rc == EXIT_OK ? EXIT_NEGATIVE : rc;
        goto out;
    }
    rc = write_document(a, &doc);
    if (rc == EXIT_OK && a->json) {
        rc = print_json(a, &doc, lists);
    } else if (rc == EXIT_OK) {
        print_lost(lists[0]);
        print_lost(lists[1]);
    }
out:
    pinset_fidelity_free(lists[0]);
    pinset_fidelity_free(lists[1]);
    pinset_policy_free(p);
    pinset__buf_free(&doc);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    convert_args a;
    struct pinset__buf in;
    int rc;

    memset(&a, 0, sizeof(a));
    rc = parse_args(&a, argc, argv);
    if (rc != EXIT_OK) {
        return rc < 0 ? EXIT_OK : rc; /* -1: --help was printed */
    }
    rc = read_input(&a, &in);
    if (rc == EXIT_OK) {
        rc = convert(&a, &in);
    }
    pinset__buf_free(&in);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        cli_err("convert", "cannot write to standard output");
        rc = EXIT_INTERNAL;
    }
    return rc;
}
