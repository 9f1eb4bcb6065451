/*
 * test_probe_reliability.c - the probe engine over 1,000 loopback endpoints
 * served by one server process: 10% tarpit, 5% reset, 5% plain HTTP, 5%
 * garbage, 5% refused, 5% rogue chain, 5% wrong name, 5% resolved through
 * DNS (a quarter of them NXDOMAIN, a quarter never answered), 5% a handshake alert (no shared
 * cipher), 5% closed without a word, the rest valid EC or RSA chains.
 *
 * Asserts: every host gets its own right class (and, for TLS hosts, the
 * right validation result, verify error and leaf key); the run ends within
 * its time bound; descriptors stay bounded during the run and none leaks;
 * and the engine respects a low RLIMIT_NOFILE.
 *
 * Links the engine (src/cli/probe/, in the tool library pinset_cli), as `pinset check` does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/sha.h>

#include "pki.h"
#include "probe/probe.h"
#include "probe_servers.h"

#define N_ENDPOINTS 1000
#define TIMEOUT_MS  2000 /* handshake and overall per host (generous: CI runs under sanitizers) */
#define RUN_BOUND_S 30   /* the whole run; tarpits alone need ~100 x 2 s / 64 */

static int failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            failures++;                                                         \
            if (failures < 30) {                                                \
                fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
                fprintf(stderr, __VA_ARGS__);                                   \
                fputc('\n', stderr);                                            \
            }                                                                   \
        }                                                                       \
    } while (0)

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    if (d == NULL) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* What each endpoint is, and what the probe must say. */
typedef enum plan {
    P_EC,
    P_RSA,
    P_ROGUE,
    P_WRONG_NAME,
    P_TARPIT,
    P_RESET,
    P_HTTP,
    P_GARBAGE,
    P_REFUSED,
    P_DNS_OK,
    P_DNS_NX,
    P_DNS_SLOW,
    P_ALERT,
    P_EOF
} plan;

static plan plan_of(size_t i)
{
    static const plan cycle[20] = {P_TARPIT,  P_TARPIT, P_RESET,      P_HTTP, P_GARBAGE,
                                   P_REFUSED, P_ROGUE,  P_WRONG_NAME, P_EC,   P_EC,
                                   P_EC,      P_ALERT,  P_EOF,        P_RSA,  P_RSA,
                                   P_RSA,     P_RSA,    P_RSA,        P_EC,   P_DNS_OK};
    plan p = cycle[i % 20];
    if (p == P_DNS_OK && (i / 20) % 4 == 1) {
        return P_DNS_NX;
    }
    if (p == P_DNS_OK && (i / 20) % 4 == 3) {
        return P_DNS_SLOW;
    }
    return p;
}

static srv_kind kind_of(plan p)
{
    switch (p) {
    case P_RSA:
        return SRV_TLS_RSA;
    case P_ROGUE:
        return SRV_TLS_ROGUE;
    case P_TARPIT:
        return SRV_TARPIT;
    case P_RESET:
        return SRV_RESET;
    case P_HTTP:
        return SRV_HTTP;
    case P_GARBAGE:
        return SRV_GARBAGE;
    case P_REFUSED:
        return SRV_CLOSED;
    case P_ALERT:
        return SRV_TLS_NOCIPHER;
    case P_EOF:
        return SRV_EOF;
    case P_EC:
    case P_WRONG_NAME:
    case P_DNS_OK:
    case P_DNS_NX:
    case P_DNS_SLOW:
    default:
        return SRV_TLS_EC;
    }
}

typedef struct run_state {
    unsigned char ec[32], rsa[32];
    int seen[N_ENDPOINTS];
    int max_fds;
    int fd_base;
    size_t n_results;
    double tarpit_min_ms, tarpit_max_ms;
} run_state;

static void check_tls(const probe_result *r, plan p, const run_state *st)
{
    unsigned char got[32];
    size_t i = r->index;

    CHECK(r->status == PROBE_OK, "host %zu: status %s (%s)", i, probe_status_name(r->status),
          r->error);
    if (r->status != PROBE_OK) {
        return;
    }
    CHECK(r->served != NULL && sk_X509_num(r->served) >= 1, "host %zu: no served chain", i);
    if (p == P_EC || p == P_RSA || p == P_DNS_OK) {
        CHECK(r->validated == 1, "host %zu: not validated: %s", i, r->verify_error_str);
        CHECK(r->verified != NULL && sk_X509_num(r->verified) == 3,
              "host %zu: validated chain of %d", i, r->verified ? sk_X509_num(r->verified) : -1);
        CHECK(sk_X509_num(r->served) == 2, "host %zu: served chain of %d", i,
              sk_X509_num(r->served));
        testlib_spki_sha256(sk_X509_value(r->served, 0), got);
        CHECK(memcmp(got, p == P_RSA ? st->rsa : st->ec, 32) == 0, "host %zu: wrong leaf key", i);
        CHECK(strncmp(r->protocol, "TLSv1.", 6) == 0, "host %zu: protocol %s", i, r->protocol);
    } else if (p == P_ROGUE) {
        CHECK(!r->validated && r->verified == NULL, "host %zu: rogue chain validated", i);
        CHECK(r->verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
              "host %zu: rogue verify error %ld", i, r->verify_error);
    } else {
        CHECK(!r->validated && r->verified == NULL, "host %zu: wrong name validated", i);
        CHECK(r->verify_error == X509_V_ERR_HOSTNAME_MISMATCH,
              "host %zu: wrong-name verify error %ld (%s)", i, r->verify_error,
              r->verify_error_str);
    }
}

static void on_result_cb(probe_result *r, void *payload)
{
    run_state *st = payload;
    size_t i = r->index;
    plan p = plan_of(i);
    int fds = count_fds();

    st->n_results++;
    if (fds > st->max_fds) {
        st->max_fds = fds;
    }
    CHECK(i < N_ENDPOINTS && !st->seen[i], "host %zu reported twice", i);
    if (i >= N_ENDPOINTS) {
        return;
    }
    st->seen[i] = 1;
    CHECK(r->status == PROBE_OK || r->error[0] != '\0', "host %zu: failure without message", i);
    CHECK(strchr(r->error, '\n') == NULL, "host %zu: multi-line message", i);
    switch (p) {
    case P_EC:
    case P_RSA:
    case P_ROGUE:
    case P_WRONG_NAME:
    case P_DNS_OK:
        check_tls(r, p, st);
        break;
    case P_TARPIT:
        CHECK(r->status == PROBE_E_TIMEOUT, "host %zu: tarpit gave %s (%s)", i,
              probe_status_name(r->status), r->error);
        if (r->total_ms < st->tarpit_min_ms) {
            st->tarpit_min_ms = r->total_ms;
        }
        if (r->total_ms > st->tarpit_max_ms) {
            st->tarpit_max_ms = r->total_ms;
        }
        break;
    case P_RESET:
        CHECK(r->status == PROBE_E_RESET, "host %zu: reset gave %s (%s)", i,
              probe_status_name(r->status), r->error);
        break;
    case P_HTTP:
        CHECK(r->status == PROBE_E_NOT_TLS && strstr(r->error, "plain http") != NULL,
              "host %zu: http gave %s (%s)", i, probe_status_name(r->status), r->error);
        break;
    case P_GARBAGE:
        CHECK(r->status == PROBE_E_NOT_TLS, "host %zu: garbage gave %s (%s)", i,
              probe_status_name(r->status), r->error);
        break;
    case P_REFUSED:
        CHECK(r->status == PROBE_E_REFUSED, "host %zu: closed port gave %s (%s)", i,
              probe_status_name(r->status), r->error);
        break;
    case P_ALERT:
        CHECK(r->status == PROBE_E_HANDSHAKE && strstr(r->error, "alert 'handshake failure'"),
              "host %zu: no shared cipher gave %s (%s)", i, probe_status_name(r->status), r->error);
        break;
    case P_EOF:
        CHECK(r->status == PROBE_E_CLOSED, "host %zu: eof gave %s (%s)", i,
              probe_status_name(r->status), r->error);
        break;
    case P_DNS_SLOW:
        CHECK(r->status == PROBE_E_TIMEOUT && strstr(r->error, "no dns answer") != NULL,
              "host %zu: unanswered dns gave %s (%s)", i, probe_status_name(r->status), r->error);
        break;
    case P_DNS_NX:
        CHECK(r->status == PROBE_E_DNS, "host %zu: nxdomain gave %s (%s)", i,
              probe_status_name(r->status), r->error);
        break;
    default:
        CHECK(0, "host %zu: no plan", i);
    }
}

typedef struct names {
    char host[N_ENDPOINTS][64];
} names;

static void build_targets(probe_target *t, names *nm, const srv *s)
{
    for (size_t i = 0; i < N_ENDPOINTS; i++) {
        plan p = plan_of(i);
        memset(&t[i], 0, sizeof(t[i]));
        if (p == P_WRONG_NAME) {
            snprintf(nm->host[i], sizeof(nm->host[i]), "h%zu.wrong.test", i);
        } else if (p == P_DNS_OK) {
            snprintf(nm->host[i], sizeof(nm->host[i]), "dns-ok.h%zu.test", i);
        } else if (p == P_DNS_NX) {
            snprintf(nm->host[i], sizeof(nm->host[i]), "nx.h%zu.test", i);
        } else if (p == P_DNS_SLOW) {
            snprintf(nm->host[i], sizeof(nm->host[i]), "slow.h%zu.test", i);
        } else {
            snprintf(nm->host[i], sizeof(nm->host[i]), "h%zu.probe.test", i);
        }
        t[i].name = nm->host[i];
        t[i].host = nm->host[i];
        t[i].port = s->ports[i];
        if (p == P_DNS_OK) {
            /* the certificate names probe.test, so verify that name over the DNS answer */
            t[i].servername = "probe.test";
        } else if (p != P_DNS_NX && p != P_DNS_SLOW) {
            t[i].naddrs = 1;
            t[i].addrs[0] = "127.0.0.1";
        }
    }
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct low_count {
    size_t ok, total;
} low_count;

static void count_ok_cb(probe_result *r, void *payload)
{
    low_count *lc = payload;

    lc->total++;
    if (r->status == PROBE_OK && r->validated) {
        lc->ok++;
    } else {
        CHECK(0, "low limit: host %zu: %s (%s)", r->index, probe_status_name(r->status), r->error);
    }
}

/* With RLIMIT_NOFILE just above what is open, the engine clamps itself and still finishes. */
static void low_rlimit_run(const char *dir, probe_target *t)
{
    struct rlimit old, low;
    probe_opts o = PROBE_OPTS_INIT;
    probe_engine *e;
    char err[256];
    low_count lc = {0, 0};
    int before = count_fds();
    size_t n = 0;
    probe_target sub[100];
    char cafile[1024];

    for (size_t i = 0; i < N_ENDPOINTS && n < 100; i++) {
        if (plan_of(i) == P_EC || plan_of(i) == P_RSA) {
            sub[n++] = t[i];
        }
    }
    snprintf(cafile, sizeof(cafile), "%s/ca.crt.pem", dir);
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = (rlim_t)before + 40;
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0, "cannot lower RLIMIT_NOFILE");
    o.cafile = cafile;
    o.concurrency = 64;
    o.timeout_ms = 5000;
    e = probe_engine_new(&o, err, sizeof(err));
    CHECK(e != NULL, "engine: %s", err);
    if (e != NULL) {
        CHECK(probe_engine_concurrency(e) < 64 &&
                  (rlim_t)probe_engine_concurrency(e) + (rlim_t)before < low.rlim_cur,
              "concurrency %u not clamped to the descriptor limit %lu", probe_engine_concurrency(e),
              (unsigned long)low.rlim_cur);
        CHECK(probe_engine_run(e, sub, n, count_ok_cb, &lc, err, sizeof(err)) == 0, "run: %s", err);
        CHECK(lc.total == n && lc.ok == n, "low limit: %zu of %zu hosts ok", lc.ok, n);
        probe_engine_free(e);
    }
    setrlimit(RLIMIT_NOFILE, &old);
    CHECK(count_fds() == before, "descriptors leaked under a low limit: %d -> %d", before,
          count_fds());
}

int main(void)
{
    const char *data = getenv("PINSET_TESTDATA");
    char dir[1024], cafile[1100], resolv[1100];
    static srv_kind kinds[N_ENDPOINTS];
    static probe_target targets[N_ENDPOINTS];
    static names nm;
    static run_state st;
    struct rlimit rl;
    probe_opts o = PROBE_OPTS_INIT;
    probe_engine *e;
    char err[256];
    srv s;
    double t0, elapsed;
    FILE *f;

    if (data == NULL) {
        fprintf(stderr, "skip: PINSET_TESTDATA not set\n");
        return 77;
    }
    snprintf(dir, sizeof(dir), "%s/probe", data);
    snprintf(cafile, sizeof(cafile), "%s/ca.crt.pem", dir);
    if (access(cafile, R_OK) != 0) {
        fprintf(stderr, "skip: no test PKI in %s (openssl missing?)\n", dir);
        return 77;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < 1400) {
        fprintf(stderr, "skip: RLIMIT_NOFILE hard limit below 1400\n");
        return 77;
    }
    if (rl.rlim_cur < 1400) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    CHECK(testlib_file_spki_sha256(dir, "leaf-ec.crt.pem", st.ec) == 0, "cannot read leaf-ec");
    CHECK(testlib_file_spki_sha256(dir, "leaf-rsa.crt.pem", st.rsa) == 0, "cannot read leaf-rsa");
    for (size_t i = 0; i < N_ENDPOINTS; i++) {
        kinds[i] = kind_of(plan_of(i));
    }
    if (srv_start(&s, kinds, N_ENDPOINTS, dir) != 0) {
        fprintf(stderr, "FAIL: cannot start the test server\n");
        srv_stop(&s);
        return 1;
    }
    build_targets(targets, &nm, &s);
    snprintf(resolv, sizeof(resolv), "%s/resolv.conf.%ld", data, (long)getpid());
    f = fopen(resolv, "w");
    CHECK(f != NULL, "cannot write %s", resolv);
    if (f != NULL) {
        fprintf(f, "nameserver 127.0.0.1:%u\noptions timeout:5 attempts:1 ndots:1\n",
                (unsigned int)s.dns_port);
        fclose(f);
    }

    st.fd_base = count_fds();
    st.tarpit_min_ms = 1e9;
    o.cafile = cafile;
    o.concurrency = 64;
    o.timeout_ms = TIMEOUT_MS;
    o.resolv_conf = resolv;
    t0 = now_s();
    e = probe_engine_new(&o, err, sizeof(err));
    CHECK(e != NULL, "engine: %s", err);
    if (e != NULL) {
        CHECK(probe_engine_run(e, targets, N_ENDPOINTS, on_result_cb, &st, err, sizeof(err)) == 0,
              "run: %s", err);
        probe_engine_free(e);
    }
    elapsed = now_s() - t0;
    CHECK(st.n_results == N_ENDPOINTS, "%zu results for %d hosts", st.n_results, N_ENDPOINTS);
    CHECK(elapsed < RUN_BOUND_S, "run took %.1f s (bound %d s)", elapsed, RUN_BOUND_S);
    CHECK(st.tarpit_min_ms >= TIMEOUT_MS * 0.9 && st.tarpit_max_ms < TIMEOUT_MS * 2.5,
          "tarpit times %.0f..%.0f ms for a %d ms timeout", st.tarpit_min_ms, st.tarpit_max_ms,
          TIMEOUT_MS);
    /* in flight: at most 64 sockets plus the resolver's and the engine's own */
    CHECK(st.max_fds <= st.fd_base + 64 + 8, "up to %d descriptors open (base %d)", st.max_fds,
          st.fd_base);
    CHECK(count_fds() == st.fd_base, "descriptors leaked: %d before, %d after", st.fd_base,
          count_fds());
    fprintf(stderr, "1000 hosts in %.2f s; tarpits %.0f..%.0f ms; fds %d..%d\n", elapsed,
            st.tarpit_min_ms, st.tarpit_max_ms, st.fd_base, st.max_fds);

    low_rlimit_run(dir, targets);

    unlink(resolv);
    srv_stop(&s);
    if (failures != 0) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
