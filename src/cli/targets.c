/*
 * targets.c - parse probe targets and curl-style --resolve / --connect-to.
 */
#include "targets.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct resolve_entry {
    char host[PINSET_HOST_MAX];
    uint16_t port;
    size_t naddrs;
    char addrs[PROBE_MAX_ADDRS][INET6_ADDRSTRLEN + 2];
};

struct connect_entry {
    char host1[PINSET_HOST_MAX]; /* "" = any host */
    uint16_t port1;              /* 0 = any port */
    char host2[PINSET_HOST_MAX]; /* "" = keep the host */
    uint16_t port2;              /* 0 = keep the port */
};

struct target_map {
    struct resolve_entry *res;
    size_t nres;
    struct connect_entry *con;
    size_t ncon;
};

/* A copy of s owned by the list (freed by targets_free); NULL when out of memory. */
static const char *pool_dup(target_list *l, const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy;

    if (l->nstrs == l->capstrs) {
        size_t ncap = l->capstrs ? l->capstrs * 2 : 64;
        char **n = realloc(l->strs, ncap * sizeof(*n));
        if (n == NULL) {
            return NULL;
        }
        l->strs = n;
        l->capstrs = ncap;
    }
    copy = malloc(len);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, s, len);
    l->strs[l->nstrs++] = copy;
    return copy;
}

target_map *target_map_new(void)
{
    return calloc(1, sizeof(target_map));
}

void target_map_free(target_map *m)
{
    if (m == NULL) {
        return;
    }
    free(m->res);
    free(m->con);
    free(m);
}

/*
 * Read one ':'-terminated field; a field that starts with '[' runs to the
 * matching ']' (brackets removed). *p moves past the ':' (or to the end).
 */
static int take_field(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    const char *end;
    size_t len;

    if (*s == '[') {
        end = strchr(s, ']');
        if (end == NULL || (end[1] != ':' && end[1] != '\0')) {
            return -1;
        }
        len = (size_t)(end - s - 1);
        s++;
        *p = end[1] == ':' ? end + 2 : end + 1;
    } else {
        end = strchr(s, ':');
        len = end != NULL ? (size_t)(end - s) : strlen(s);
        *p = end != NULL ? end + 1 : s + len;
    }
    if (len >= cap) {
        return -1;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

static int parse_port(const char *s, uint16_t *out, int allow_empty)
{
    unsigned long v;
    char *end = NULL;

    if (*s == '\0' && allow_empty) {
        *out = 0;
        return 0;
    }
    if (*s < '0' || *s > '9' || strlen(s) > 5) {
        return -1;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > 65535) {
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

static int is_numeric(const char *s)
{
    unsigned char tmp[16];

    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

/* Canonicalise a host name or literal into out (PINSET_HOST_MAX). */
static int canon_host(char *out, const char *host, const char *what, char *err, size_t errcap)
{
    pinset_diag diag = PINSET_DIAG_INIT;
    char shown[96];

    if (pinset_host_canon(out, PINSET_HOST_MAX, NULL, host, strlen(host), &diag) == PINSET_OK &&
        out[0] != '\0') {
        return 0;
    }
    snprintf(shown, sizeof(shown), "%.80s", host);
    for (char *q = shown; *q != '\0'; q++) {
        if ((unsigned char)*q < 0x20 || (unsigned char)*q == 0x7f) {
            *q = '?';
        }
    }
    snprintf(err, errcap, "invalid %s '%s': %s", what, shown,
             diag.message[0] != '\0' ? diag.message : "not a host name");
    return -1;
}

static void *grow(void *arr, size_t count, size_t elem)
{
    /* one more element; arrays are bounded by TARGETS_MAX_MAPS */
    return realloc(arr, (count + 1) * elem);
}

int target_map_add_resolve(target_map *m, const char *spec, char *err, size_t errcap)
{
    struct resolve_entry r;
    char host[PINSET_HOST_MAX], port[8], addr[INET6_ADDRSTRLEN + 2];
    const char *p = spec;
    void *n;

    memset(&r, 0, sizeof(r));
    if (*p == '+') {
        p++; /* curl: "+" marks a timed-out entry; the meaning is the same here */
    }
    if (*p == '-') {
        snprintf(err, errcap, "--resolve '%s': removal entries are not supported", spec);
        return -1;
    }
    if (take_field(&p, host, sizeof(host)) != 0 || take_field(&p, port, sizeof(port)) != 0 ||
        *p == '\0' || host[0] == '\0' || parse_port(port, &r.port, 0) != 0) {
        snprintf(err, errcap, "--resolve '%s': expected HOST:PORT:ADDRESS[,ADDRESS...]", spec);
        return -1;
    }
    if (canon_host(r.host, host, "--resolve host", err, errcap) != 0) {
        return -1;
    }
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len >= sizeof(addr) || r.naddrs == PROBE_MAX_ADDRS) {
            snprintf(err, errcap, "--resolve '%s': too many or too long addresses", spec);
            return -1;
        }
        memcpy(addr, p, len);
        addr[len] = '\0';
        if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
            memmove(addr, addr + 1, len - 2);
            addr[len - 2] = '\0';
        }
        if (!is_numeric(addr)) {
            snprintf(err, errcap, "--resolve '%s': '%s' is not a numeric address", spec, addr);
            return -1;
        }
        snprintf(r.addrs[r.naddrs++], sizeof(r.addrs[0]), "%s", addr);
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    if (m->nres + m->ncon >= TARGETS_MAX_MAPS) {
        snprintf(err, errcap, "--resolve: more than %d mappings", TARGETS_MAX_MAPS);
        return -1;
    }
    n = grow(m->res, m->nres, sizeof(*m->res));
    if (n == NULL) {
        snprintf(err, errcap, "out of memory");
        return -2;
    }
    m->res = n;
    m->res[m->nres++] = r;
    return 0;
}

/* ':' separators outside brackets. */
static size_t count_fields(const char *s)
{
    size_t n = 1;
    int depth = 0;

    for (; *s != '\0'; s++) {
        if (*s == '[') {
            depth++;
        } else if (*s == ']' && depth > 0) {
            depth--;
        } else if (*s == ':' && depth == 0) {
            n++;
        }
    }
    return n;
}

int target_map_add_connect_to(target_map *m, const char *spec, char *err, size_t errcap)
{
    struct connect_entry c;
    char h1[PINSET_HOST_MAX], p1[8], h2[PINSET_HOST_MAX], p2[8];
    const char *p = spec;
    void *n;

    memset(&c, 0, sizeof(c));
    if (count_fields(spec) != 4 || take_field(&p, h1, sizeof(h1)) != 0 ||
        take_field(&p, p1, sizeof(p1)) != 0 || take_field(&p, h2, sizeof(h2)) != 0 ||
        take_field(&p, p2, sizeof(p2)) != 0 || *p != '\0' || parse_port(p1, &c.port1, 1) != 0 ||
        parse_port(p2, &c.port2, 1) != 0) {
        snprintf(err, errcap, "--connect-to '%s': expected HOST1:PORT1:HOST2:PORT2", spec);
        return -1;
    }
    if (h1[0] != '\0' && canon_host(c.host1, h1, "--connect-to host", err, errcap) != 0) {
        return -1;
    }
    if (h2[0] != '\0' && canon_host(c.host2, h2, "--connect-to host", err, errcap) != 0) {
        return -1;
    }
    if (m->nres + m->ncon >= TARGETS_MAX_MAPS) {
        snprintf(err, errcap, "--connect-to: more than %d mappings", TARGETS_MAX_MAPS);
        return -1;
    }
    n = grow(m->con, m->ncon, sizeof(*m->con));
    if (n == NULL) {
        snprintf(err, errcap, "out of memory");
        return -2;
    }
    m->con = n;
    m->con[m->ncon++] = c;
    return 0;
}

int target_split_hostport(const char *s, char *host, size_t hostcap, uint16_t *port,
                          uint16_t default_port, char *err, size_t errcap)
{
    const char *colon;
    size_t hlen;

    if (strncmp(s, "https://", 8) == 0) {
        s += 8;
    }
    *port = default_port;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':' && end[1] != '/')) {
            snprintf(err, errcap, "invalid target '%.80s': unbalanced '['", s);
            return -1;
        }
        hlen = (size_t)(end - s - 1);
        if (hlen == 0 || hlen >= hostcap) {
            snprintf(err, errcap, "invalid target '%.80s': bad address", s);
            return -1;
        }
        memcpy(host, s + 1, hlen);
        host[hlen] = '\0';
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        const char *slash = strchr(s, '/');
        size_t span = slash != NULL ? (size_t)(slash - s) : strlen(s);
        colon = memchr(s, ':', span);
        if (colon != NULL && memchr(colon + 1, ':', span - (size_t)(colon + 1 - s)) != NULL) {
            colon = NULL; /* a bare IPv6 literal: the whole argument is the host */
        }
        hlen = colon != NULL ? (size_t)(colon - s) : span;
        if (hlen == 0 || hlen >= hostcap) {
            snprintf(err, errcap, "invalid target '%.80s': empty or too long host", s);
            return -1;
        }
        memcpy(host, s, hlen);
        host[hlen] = '\0';
    }
    if (colon != NULL) {
        char pbuf[8];
        const char *pe = strchr(colon + 1, '/');
        size_t plen = pe != NULL ? (size_t)(pe - colon - 1) : strlen(colon + 1);
        if (plen == 0 || plen >= sizeof(pbuf)) {
            snprintf(err, errcap, "invalid target '%.80s': bad port", s);
            return -1;
        }
        memcpy(pbuf, colon + 1, plen);
        pbuf[plen] = '\0';
        if (parse_port(pbuf, port, 0) != 0) {
            snprintf(err, errcap, "invalid target '%.80s': port must be 1..65535", s);
            return -1;
        }
    }
    return 0;
}

int targets_add(target_list *l, const char *spec, const char *address, const char *servername,
                uint16_t default_port, char *err, size_t errcap)
{
    char raw[PINSET_HOST_MAX + 8], host[PINSET_HOST_MAX], sni[PINSET_HOST_MAX];
    probe_target t;

    memset(&t, 0, sizeof(t));
    if (target_split_hostport(spec, raw, sizeof(raw), &t.port, default_port, err, errcap) != 0 ||
        canon_host(host, raw, "host", err, errcap) != 0) {
        return -1;
    }
    if (l->count >= TARGETS_MAX) {
        snprintf(err, errcap, "more than %d targets", TARGETS_MAX);
        return -1;
    }
    if (address != NULL) {
        char a[INET6_ADDRSTRLEN + 2];
        size_t len = strlen(address);
        if (len >= 2 && len < sizeof(a) && address[0] == '[' && address[len - 1] == ']') {
            memcpy(a, address + 1, len - 2);
            a[len - 2] = '\0';
        } else {
            snprintf(a, sizeof(a), "%s", address);
        }
        if (!is_numeric(a)) {
            snprintf(err, errcap, "target '%.80s': '%.64s' is not a numeric address", spec,
                     address);
            return -1;
        }
        t.addrs[0] = pool_dup(l, a);
        t.naddrs = 1;
        if (t.addrs[0] == NULL) {
            goto nomem;
        }
    }
    if (servername != NULL) {
        if (canon_host(sni, servername, "--servername", err, errcap) != 0) {
            return -1;
        }
        t.servername = pool_dup(l, sni);
        if (t.servername == NULL) {
            goto nomem;
        }
    }
    t.name = pool_dup(l, spec);
    t.host = pool_dup(l, host);
    if (t.name == NULL || t.host == NULL) {
        goto nomem;
    }
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        probe_target *n = realloc(l->items, ncap * sizeof(*n));
        if (n == NULL) {
            goto nomem;
        }
        l->items = n;
        l->cap = ncap;
    }
    l->items[l->count++] = t;
    return 0;
nomem:
    snprintf(err, errcap, "out of memory");
    return -1;
}

/* One line without its '\n': 1 read, 0 end of file, -1 too long, -2 a NUL byte. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int ch = EOF;

    while ((ch = getc(f)) != EOF && ch != '\n') {
        if (ch == '\0') {
            return -2;
        }
        if (n + 1 >= cap) {
            return -1;
        }
        buf[n++] = (char)ch;
    }
    buf[n] = '\0';
    return (ch == EOF && n == 0) ? 0 : 1;
}

int targets_load_file(target_list *l, const char *path, const char *servername,
                      uint16_t default_port, char *err, size_t errcap)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[TARGETS_MAX_LINE + 1];
    char sub[256];
    size_t lineno = 0;
    int rc = -1;

    if (f == NULL) {
        snprintf(err, errcap, "cannot open targets file %s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        char *p = line, *host, *addr, *extra;
        int got = read_line(f, line, sizeof(line));
        if (got == 0) {
            break;
        }
        lineno++;
        if (got == -1) {
            snprintf(err, errcap, "%s:%zu: line longer than %d bytes", path, lineno,
                     TARGETS_MAX_LINE);
            goto out;
        }
        if (got == -2) {
            snprintf(err, errcap, "%s:%zu: NUL byte in the line", path, lineno);
            goto out;
        }
        p[strcspn(p, "#\r\n")] = '\0';
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '\0') {
            continue;
        }
        host = p;
        p += strcspn(p, " \t");
        addr = NULL;
        extra = NULL;
        if (*p != '\0') {
            *p++ = '\0';
            p += strspn(p, " \t");
            if (*p != '\0') {
                addr = p;
                p += strcspn(p, " \t");
                if (*p != '\0') {
                    *p++ = '\0';
                    p += strspn(p, " \t");
                    extra = *p != '\0' ? p : NULL;
                }
            }
        }
        if (extra != NULL) {
            snprintf(err, errcap, "%s:%zu: expected 'HOST[:PORT] [ADDRESS]'", path, lineno);
            goto out;
        }
        if (targets_add(l, host, addr, servername, default_port, sub, sizeof(sub)) != 0) {
            snprintf(err, errcap, "%s:%zu: %s", path, lineno, sub);
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errcap, "cannot read targets file %s", path);
        goto out;
    }
    rc = 0;
out:
    if (f != stdin) {
        fclose(f);
    }
    return rc;
}

int targets_apply_map(target_list *l, const target_map *m, char *err, size_t errcap)
{
    for (size_t i = 0; i < l->count; i++) {
        probe_target *t = &l->items[i];
        const char *dh = t->host;
        uint16_t dp = t->port;
        if (t->naddrs > 0) {
            continue; /* an explicit address (targets file) wins */
        }
        for (size_t j = 0; j < m->ncon; j++) {
            const struct connect_entry *c = &m->con[j];
            if ((c->host1[0] != '\0' && strcmp(c->host1, t->host) != 0) ||
                (c->port1 != 0 && c->port1 != t->port)) {
                continue;
            }
            if (c->host2[0] != '\0') {
                dh = pool_dup(l, c->host2);
                if (dh == NULL) {
                    snprintf(err, errcap, "out of memory");
                    return -1;
                }
                t->connect_host = dh;
            }
            if (c->port2 != 0) {
                dp = c->port2;
                t->connect_port = dp;
            }
            break;
        }
        for (size_t j = 0; j < m->nres; j++) {
            const struct resolve_entry *r = &m->res[j];
            if (r->port != dp || strcmp(r->host, dh) != 0) {
                continue;
            }
            for (size_t k = 0; k < r->naddrs; k++) {
                t->addrs[k] = pool_dup(l, r->addrs[k]);
                if (t->addrs[k] == NULL) {
                    snprintf(err, errcap, "out of memory");
                    return -1;
                }
            }
            t->naddrs = r->naddrs;
            break;
        }
    }
    return 0;
}

void targets_free(target_list *l)
{
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
    for (size_t i = 0; i < l->nstrs; i++) {
        free(l->strs[i]);
    }
    free(l->strs);
    l->strs = NULL;
    l->nstrs = l->capstrs = 0;
}
