/*
 * update_doc.c - the --root keys, the document and the host list shared by
 * `pinset verify` and `pinset update` (update_doc.h).
 */
#include "update_doc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <util/read.h>

#include <pinset/curl_update.h>
#include <pinset/update.h>

#include "common.h"
#include "input.h"
#include "keyfile.h"
#include "out.h"

int update_doc_read_keys(const char *cmd, const char *const *paths, size_t n, EVP_PKEY **keys)
{
    for (size_t i = 0; i < n; i++) {
        keys[i] = keyfile_read(cmd, paths[i], 0);
        if (keys[i] == NULL) {
            return -1;
        }
    }
    return 0;
}

void update_doc_free_keys(EVP_PKEY **keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        EVP_PKEY_free(keys[i]);
        keys[i] = NULL;
    }
}

int update_doc_read(struct pinset__buf *in, const char *cmd, const char *path)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err e;

    pinset__buf_init(in, 0, 0);
    e = cli_is_stdin(path)
            ? pinset__read_fd(in, STDIN_FILENO, CLI_STDIN_NAME, PINSET_UPDATE_MAX_SIZE, 30000, &d)
            : pinset__read_path(in, path, PINSET_UPDATE_MAX_SIZE, 0, 0, &d);
    if (e != PINSET_OK) {
        cli_err_diag(cmd, &d);
        return e == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
    }
    return EXIT_OK;
}

void update_doc_print_hosts(const pinset_policy *p)
{
    size_t n = pinset_policy_rule_count(p);

    printf("%zu rule%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const pinset_rule *r = pinset_policy_rule(p, i);
        printf("%s%s%s", i == 0 ? ": " : " ",
               pinset_rule_scope(r) == PINSET_SCOPE_SUBDOMAINS  ? "**."
               : pinset_rule_scope(r) == PINSET_SCOPE_ONE_LABEL ? "*."
                                                                : "",
               pinset_rule_host(r));
    }
}

int update_doc_is_url(const char *doc)
{
    return strncmp(doc, "http://", 7) == 0 || strncmp(doc, "https://", 8) == 0;
}

int update_args_parse(update_args *a, const cmd_spec *spec, int argc, char **argv,
                      const update_opt_ids *ids, const char *required)
{
    opt_state st;
    const char *v;
    int r;

    memset(a, 0, sizeof(*a));
    a->threshold = 1;
    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, spec, &v)) != OPT_END) {
        if (r == OPT_HELP) {
            opt_print_help(spec);
            return EXIT_OK;
        }
        if (r == OPT_POSITIONAL) {
            if (a->doc != NULL) {
                return opt_usage_error(spec, "unexpected argument '%s' (one DOC)", v);
            }
            a->doc = v;
        } else if (r == ids->root) {
            if (a->nroots == UPDATE_DOC_MAX_ROOTS) {
                return opt_usage_error(spec, "more than %d --root options", UPDATE_DOC_MAX_ROOTS);
            }
            a->roots[a->nroots++] = v;
        } else if (r == ids->now) {
            if (out_parse_time(v, &a->now) != 0) {
                return opt_usage_error(
                    spec, "--now '%s': expected an RFC 3339 time, a date or @SECONDS", v);
            }
        } else if (r >= 0 && r == ids->threshold) {
            if (opt_parse_uint(v, PINSET_UPDATE_MAX_SIGNATURES, &a->threshold) != 0 ||
                a->threshold == 0) {
                return opt_usage_error(spec, "--threshold '%s': expected a number from 1 to %d", v,
                                       PINSET_UPDATE_MAX_SIGNATURES);
            }
        } else if (r >= 0 && r == ids->dir) {
            a->dir = v;
        } else if (r >= 0 && r == ids->index) {
            a->index = 1;
        } else if (r >= 0 && r == ids->cafile) {
            a->cafile = v;
        } else if (r >= 0 && r == ids->max_redirects) {
            if (opt_parse_uint(v, PINSET_CURL_UPDATE_MAX_REDIRECTS, &a->max_redirects) != 0) {
                return opt_usage_error(spec, "--max-redirects '%s': expected 0 to %d", v,
                                       PINSET_CURL_UPDATE_MAX_REDIRECTS);
            }
        } else if (r >= 0 && r == ids->timeout) {
            if (opt_parse_uint(v, 3600, &a->timeout) != 0 || a->timeout == 0) {
                return opt_usage_error(spec, "--timeout '%s': expected seconds from 1 to 3600", v);
            }
        } else {
            return EXIT_USAGE;
        }
    }
    if (a->nroots == 0 || a->doc == NULL || (ids->dir >= 0 && a->dir == NULL)) {
        return opt_usage_error(spec, "%s", required);
    }
    if (a->now == 0) {
        a->now = (int64_t)time(NULL);
    }
    return -1;
}

int update_doc_open(EVP_PKEY **keys, struct pinset__buf *in, const char *cmd, const update_args *a)
{
    pinset__buf_init(in, 0, 0);
    if (update_doc_read_keys(cmd, a->roots, a->nroots, keys) != 0) {
        return EXIT_INPUT;
    }
    return update_doc_read(in, cmd, a->doc);
}
