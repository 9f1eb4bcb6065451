/*
 * bench_handshake.c - what pinning adds to a client's TLS 1.3 handshake.
 *
 *   bench_handshake [N]             re-runs itself under valgrind --tool=callgrind
 *                                   and prints instructions per client handshake,
 *                                   unpinned vs pinned, measured in the same run
 *   bench_handshake --inner N       the measured program (callgrind client requests)
 *   bench_handshake --time N        wall-clock only, no valgrind
 *
 * One process, no sockets: a client and a server SSL over a BIO pair, with an
 * in-memory PKI (EC P-256 root, intermediate, leaf for example.com) made at
 * start. Only the client's calls are counted (CALLGRIND_TOGGLE_COLLECT around
 * them): SSL_new/SSL_set1_host/SSL_do_handshake/SSL_free, and for the pinned
 * rows also the gate (pinset_ossl_check). The pinned client has a policy with
 * a CA pin on the intermediate plus a backup pin, so every handshake runs the
 * full path: X509_verify_cert, lookup, hashing the validated chain, verdict,
 * gate. Target: pinned / unpinned - 1 < 0.5 %. A third row attaches a policy
 * that does not name the host (no hashing: NOT_PINNED).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <pinset/openssl.h>
#include <pinset/policy.h>

#include "pki.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(x)
#define RUNNING_ON_VALGRIND 0
#endif

static void die(const char *what)
{
    fprintf(stderr, "bench_handshake: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ---- an in-memory PKI (tests/testlib/pki.h) ---- */

static SSL_CTX *server_ctx(const testlib_pki *p)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL || SSL_CTX_use_certificate(ctx, p->leaf) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, p->leaf_key) != 1 ||
        SSL_CTX_add1_chain_cert(ctx, p->inter) != 1) {
        die("server context");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

static SSL_CTX *client_ctx(const testlib_pki *p)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL || X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), p->root) != 1) {
        die("client context");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

static pinset_ossl *pinning(const testlib_pki *p, const char *host)
{
    char json[512], b64[PINSET_PIN_STR_MAX];
    pinset_pin pin;
    pinset_policy *policy = NULL;
    pinset_ossl *h = NULL;

    if (pinset_pin_from_x509(&pin, p->inter, PINSET_PIN_SPKI, NULL) != PINSET_OK ||
        pinset_pin_format(b64, sizeof(b64), &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        die("pin");
    }
    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": [{\"host\": \"%s\", \"include_subdomains\": "
             "true, \"pins\": [{\"sha256\": \"%s\", \"role\": \"ca\"}, "
             "\"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\"]}]}",
             host, b64);
    if (pinset_policy_parse(&policy, (const uint8_t *)json, strlen(json), NULL) != PINSET_OK ||
        pinset_ossl_new(&h, policy, NULL, NULL) != PINSET_OK) {
        die("policy");
    }
    pinset_policy_free(policy);
    return h;
}

/*
 * One handshake over a BIO pair; only the client's work is collected.
 * Returns 1 when the client completed the handshake (and, pinned, passed the gate).
 */
static int handshake(SSL_CTX *cctx, SSL_CTX *sctx, pinset_ossl *pin, int collect)
{
    char host[] = "example.com";
    BIO *cb = NULL, *sb = NULL;
    SSL *c, *s = SSL_new(sctx);
    int cdone = 0, sdone = 0, ok;

    if (s == NULL || !BIO_new_bio_pair(&cb, 0, &sb, 0)) {
        die("bio pair");
    }
    SSL_set_bio(s, sb, sb);
    SSL_set_accept_state(s);
    if (collect) {
        CALLGRIND_TOGGLE_COLLECT;
    }
    c = SSL_new(cctx);
    SSL_set1_host(c, host);
    SSL_set_tlsext_host_name(c, host);
    SSL_set_bio(c, cb, cb);
    SSL_set_connect_state(c);
    if (collect) {
        CALLGRIND_TOGGLE_COLLECT;
    }
    for (int round = 0; round < 20 && !(cdone && sdone); round++) {
        if (!cdone) {
            if (collect) {
                CALLGRIND_TOGGLE_COLLECT;
            }
            ok = SSL_do_handshake(c);
            if (collect) {
                CALLGRIND_TOGGLE_COLLECT;
            }
            if (ok == 1) {
                cdone = 1;
            } else if (SSL_get_error(c, ok) != SSL_ERROR_WANT_READ) {
                break;
            }
        }
        if (!sdone) {
            ok = SSL_do_handshake(s);
            if (ok == 1) {
                sdone = 1;
            } else if (SSL_get_error(s, ok) != SSL_ERROR_WANT_READ) {
                break;
            }
        }
    }
    if (collect) {
        CALLGRIND_TOGGLE_COLLECT;
    }
    ok = cdone && (pin == NULL || pinset_ossl_check(pin, c) == PINSET_OK);
    SSL_free(c);
    if (collect) {
        CALLGRIND_TOGGLE_COLLECT;
    }
    SSL_free(s);
    ERR_clear_error();
    return ok;
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* N handshakes on one client context; returns the wall-clock total in ns. */
static double phase(SSL_CTX *cctx, SSL_CTX *sctx, pinset_ossl *pin, int n, int timing)
{
    double total = 0;

    for (int i = 0; i < n; i++) {
        double t0 = now_ns();

        if (!handshake(cctx, sctx, pin, !timing)) {
            die("a measured handshake failed");
        }
        total += now_ns() - t0;
    }
    return total;
}

/*
 * The measured program: warm up, then three phases of N handshakes, each
 * followed by a callgrind dump (three cost centres of one run): no pinset;
 * pinset attached, host pinned; pinset attached, host not in the policy.
 */
static int inner(int n, int timing)
{
    testlib_pki p;
    SSL_CTX *sctx, *ctx[3];
    pinset_ossl *pin[3] = {NULL, NULL, NULL};
    double t[3];

    if (testlib_pki_make(&p, "example.com") != 0) {
        die("cannot make the pki");
    }
    sctx = server_ctx(&p);
    for (int k = 0; k < 3; k++) {
        ctx[k] = client_ctx(&p);
    }
    pin[1] = pinning(&p, "example.com");
    pin[2] = pinning(&p, "example.org");
    if (pinset_ossl_attach(pin[1], ctx[1], NULL) != PINSET_OK ||
        pinset_ossl_attach(pin[2], ctx[2], NULL) != PINSET_OK) {
        die("attach");
    }
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 3; k++) {
            if (!handshake(ctx[k], sctx, pin[k], 0)) {
                die("a warm-up handshake failed");
            }
        }
    }
    t[0] = phase(ctx[0], sctx, pin[0], n, timing);
    CALLGRIND_DUMP_STATS_AT("unpinned");
    t[1] = phase(ctx[1], sctx, pin[1], n, timing);
    CALLGRIND_DUMP_STATS_AT("pinned");
    t[2] = phase(ctx[2], sctx, pin[2], n, timing);
    CALLGRIND_DUMP_STATS_AT("attached-not-pinned");
    if (timing) {
        printf(
            "wall clock (client and server, %d handshakes each), per handshake: unpinned %.1f us, "
            "pinned %.1f us (%+.2f %%), attached but host not pinned %.1f us (%+.2f %%)\n",
            n, t[0] / n / 1000, t[1] / n / 1000, (t[1] / t[0] - 1) * 100, t[2] / n / 1000,
            (t[2] / t[0] - 1) * 100);
    }
    for (int k = 0; k < 3; k++) {
        pinset_ossl_free(pin[k]);
        SSL_CTX_free(ctx[k]);
    }
    SSL_CTX_free(sctx);
    testlib_pki_free(&p);
    return 0;
}

/* "summary: N" (or "totals: N") of one callgrind dump file. */
static unsigned long long dump_ir(const char *path, char *trigger, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned long long ir = 0;

    trigger[0] = '\0';
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "summary:", 8) == 0 || (ir == 0 && strncmp(line, "totals:", 7) == 0)) {
            ir = strtoull(strchr(line, ':') + 1, NULL, 10);
        } else if (strncmp(line, "desc: Trigger: Client Request: ", 31) == 0) {
            size_t n = strcspn(line + 31, "\n");

            n = n < cap - 1 ? n : cap - 1;
            memcpy(trigger, line + 31, n);
            trigger[n] = '\0';
        }
    }
    fclose(f);
    return ir;
}

/* Run ourselves under callgrind and compare the two dumps. */
static int outer(int n)
{
    char dir[] = "/tmp/pinset-bench-hs.XXXXXX", out[512], self[512], nbuf[16], path[1024];
    unsigned long long ir[3] = {0, 0, 0};
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    struct dirent *e;
    DIR *d;
    pid_t pid;
    int status = 0;

    if (len <= 0 || mkdtemp(dir) == NULL) {
        die("cannot set up the callgrind run");
    }
    self[len] = '\0';
    snprintf(out, sizeof(out), "--callgrind-out-file=%s/cg.out", dir);
    snprintf(nbuf, sizeof(nbuf), "%d", n);
    pid = fork();
    if (pid == 0) {
        char a0[] = "valgrind", a1[] = "--tool=callgrind", a2[] = "-q";
        char a3[] = "--collect-atstart=no", a6[] = "--inner";
        char *argv[] = {a0, a1, a2, a3, out, self, a6, nbuf, NULL};

        execvp("valgrind", argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr,
                "bench_handshake: valgrind --tool=callgrind failed or is not installed "
                "(status %d); try --time\n",
                status);
        return 1;
    }
    d = opendir(dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        char trigger[128];
        unsigned long long v;

        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        v = dump_ir(path, trigger, sizeof(trigger));
        if (strcmp(trigger, "unpinned") == 0) {
            ir[0] = v;
        } else if (strcmp(trigger, "pinned") == 0) {
            ir[1] = v;
        } else if (strcmp(trigger, "attached-not-pinned") == 0) {
            ir[2] = v;
        }
        unlink(path);
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(dir);
    if (ir[0] == 0 || ir[1] == 0 || ir[2] == 0) {
        die("no callgrind totals found");
    }
    printf("TLS 1.3 full handshake, client side, EC P-256, %d handshakes each, callgrind Ir:\n", n);
    printf("  unpinned %12.0f instructions per handshake\n", (double)ir[0] / n);
    printf("  pinned   %12.0f instructions per handshake\n", (double)ir[1] / n);
    printf("  overhead %+11.3f %% (target < 0.5 %%: %s)\n",
           ((double)ir[1] / (double)ir[0] - 1) * 100,
           (double)ir[1] / (double)ir[0] - 1 < 0.005 ? "met" : "MISSED");
    printf("  attached, host not in the policy %12.0f instructions per handshake (%+.3f %%)\n",
           (double)ir[2] / n, ((double)ir[2] / (double)ir[0] - 1) * 100);
    return 0;
}

int main(int argc, char **argv)
{
    int n = 20;

    if (argc >= 3 && strcmp(argv[1], "--inner") == 0) {
        return inner(atoi(argv[2]) > 0 ? atoi(argv[2]) : n, 0);
    }
    if (argc >= 2 && strcmp(argv[1], "--time") == 0) {
        return inner(argc >= 3 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 500, 1);
    }
    if (argc >= 2) {
        n = atoi(argv[1]) > 0 ? atoi(argv[1]) : n;
    }
    if (RUNNING_ON_VALGRIND) {
        return inner(n, 0);
    }
    return outer(n);
}
