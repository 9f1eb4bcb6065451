/*
 * netopt.c - the network options, parsed once for every command that probes.
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC, fstat */
#include "netopt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "out.h"

enum netopt_id {
    N_RESOLVE,
    N_CONNECT_TO,
    N_CAFILE,
    N_CAPATH,
    N_TIMEOUT,
    N_CONNECT_TIMEOUT,
    N_CONCURRENCY,
    N_IPV4,
    N_IPV6,
    N_NOW,
    N_FORMAT,
    N_COUNT
};

/* The same entries the commands' tables hold; only the names are read here. */
static const opt_spec shared[N_COUNT] = {
    [N_RESOLVE] = NETOPT_RESOLVE,
    [N_CONNECT_TO] = NETOPT_CONNECT_TO,
    [N_CAFILE] = NETOPT_CAFILE,
    [N_CAPATH] = NETOPT_CAPATH,
    [N_TIMEOUT] = NETOPT_TIMEOUT,
    [N_CONNECT_TIMEOUT] = NETOPT_CONNECT_TIMEOUT,
    [N_CONCURRENCY] = NETOPT_CONCURRENCY,
    [N_IPV4] = NETOPT_IPV4,
    [N_IPV6] = NETOPT_IPV6,
    [N_NOW] = NETOPT_NOW,
    [N_FORMAT] = NETOPT_FORMAT(""),
};

int netopt_init(netopt *n, const char *const *formats)
{
    memset(n, 0, sizeof(*n));
    n->po = (probe_opts)PROBE_OPTS_INIT;
    n->formats = formats;
    n->map = target_map_new();
    return n->map != NULL ? 0 : -1;
}

void netopt_free(netopt *n)
{
    target_map_free(n->map);
    n->map = NULL;
}

int netopt_exit(int r)
{
    return r == NETOPT_NOMEM ? EXIT_INTERNAL : r == NETOPT_INPUT ? EXIT_INPUT : EXIT_USAGE;
}

static int find_shared(const char *name)
{
    for (int i = 0; i < N_COUNT; i++) {
        if (strcmp(shared[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* "text, json or policy" */
static void format_list(char *buf, size_t cap, const char *const *names)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; names[i] != NULL && used < cap; i++) {
        const char *sep = i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ";
        int w = snprintf(buf + used, cap - used, "%s%s", sep, names[i]);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

static int parse_format(netopt *n, const cmd_spec *cmd, const char *v)
{
    char list[128];

    for (int i = 0; n->formats != NULL && n->formats[i] != NULL; i++) {
        if (strcmp(v, n->formats[i]) == 0) {
            n->format = i;
            return 0;
        }
    }
    format_list(list, sizeof(list), n->formats);
    opt_usage_error(cmd, "--format '%s': expected %s", v, list);
    return OPT_ERROR;
}

static int parse_mapping(netopt *n, const cmd_spec *cmd, int id, const char *v)
{
    char err[256];
    int r = id == N_RESOLVE ? target_map_add_resolve(n->map, v, err, sizeof(err))
                            : target_map_add_connect_to(n->map, v, err, sizeof(err));

    if (r == -2) {
        cli_err(cmd->name, "%s", err);
        return NETOPT_NOMEM;
    }
    if (r != 0) {
        opt_usage_error(cmd, "%s", err);
        return OPT_ERROR;
    }
    return 0;
}

static int parse_seconds(const cmd_spec *cmd, const char *name, const char *v, unsigned int *ms)
{
    if (opt_parse_seconds(v, ms) != 0) {
        opt_usage_error(cmd, "--%s '%s': expected seconds, more than 0 and at most 86400", name, v);
        return OPT_ERROR;
    }
    return 0;
}

/* Say why the trust anchors cannot be used, also for the nagios line (opt_last_usage). */
static int anchor_error(const cmd_spec *cmd, const char *name, const char *why)
{
    opt_set_last_usage("%s: %s", name, why);
    cli_err(cmd->name, "%s: %s", name, why);
    return NETOPT_INPUT;
}

/*
 * The trust anchors must at least be there: OpenSSL's own message for a
 * missing file is "system lib". The open does not block (O_NONBLOCK), and a
 * CA file must be a regular file: OpenSSL opens it again by name with a
 * blocking read, which a FIFO with no writer would hold forever.
 */
int netopt_anchors_usable(const char *path, int want_dir, char *why, size_t cap)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int err = errno;

    if (fd >= 0 && fstat(fd, &sb) != 0) {
        err = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        snprintf(why, cap, "cannot open: %s", strerror(err));
        return -1;
    }
    close(fd);
    if (want_dir && !S_ISDIR(sb.st_mode)) {
        snprintf(why, cap, "--capath wants a directory");
        return -1;
    }
    if (!want_dir && S_ISDIR(sb.st_mode)) {
        snprintf(why, cap, "is a directory (use --capath for a hashed directory)");
        return -1;
    }
    if (!want_dir && !S_ISREG(sb.st_mode)) {
        snprintf(why, cap, "not a regular file (trust anchors are read from a PEM file)");
        return -1;
    }
    return 0;
}

/* Says why as `hash` does for its inputs. */
static int check_anchors(const cmd_spec *cmd, const char *path, int want_dir)
{
    char name[256], why[300];

    if (netopt_anchors_usable(path, want_dir, why, sizeof(why)) != 0) {
        out_safe_copy(name, sizeof(name), path);
        return anchor_error(cmd, name, why);
    }
    return 0;
}

/* One network option. 0, OPT_ERROR, NETOPT_INPUT or NETOPT_NOMEM. */
static int parse_one(netopt *n, const cmd_spec *cmd, int id, const char *v)
{
    unsigned long u;

    switch (id) {
    case N_RESOLVE:
    case N_CONNECT_TO:
        return parse_mapping(n, cmd, id, v);
    case N_CAFILE:
        n->po.cafile = v;
        return check_anchors(cmd, v, 0);
    case N_CAPATH:
        n->po.capath = v;
        return check_anchors(cmd, v, 1);
    case N_TIMEOUT:
        return parse_seconds(cmd, "timeout", v, &n->po.timeout_ms);
    case N_CONNECT_TIMEOUT:
        return parse_seconds(cmd, "connect-timeout", v, &n->po.connect_timeout_ms);
    case N_CONCURRENCY:
        if (opt_parse_uint(v, 100000, &u) != 0 || u == 0) {
            opt_usage_error(cmd, "--concurrency '%s': expected 1..100000", v);
            return OPT_ERROR;
        }
        n->po.concurrency = (unsigned int)u;
        return 0;
    case N_IPV4:
        n->po.family = AF_INET;
        return 0;
    case N_IPV6:
        n->po.family = AF_INET6;
        return 0;
    case N_NOW:
        if (out_parse_time(v, &n->now) != 0) {
            opt_usage_error(cmd, "--now '%s': expected a time such as 2027-01-01T00:00:00Z", v);
            return OPT_ERROR;
        }
        return 0;
    case N_FORMAT:
        return parse_format(n, cmd, v);
    default:
        return OPT_ERROR;
    }
}

int netopt_next(opt_state *st, const cmd_spec *cmd, netopt *n, const char **value)
{
    for (;;) {
        int r = opt_next(st, cmd, value);
        int id = r >= 0 ? find_shared(cmd->opts[r].name) : -1;
        int rc;

        if (id < 0) {
            return r;
        }
        rc = parse_one(n, cmd, id, *value);
        if (rc != 0) {
            return rc;
        }
    }
}
