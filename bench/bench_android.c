/*
 * bench_android.c - importing an Android Network Security Config of N
 * domains (default 100,000) into the model (issue 10), beside the floor:
 * the time expat alone takes to parse the same file.
 *
 * Usage: bench_android [DOMAINS]
 *
 * The file is generated in memory: one <domain-config> per domain, every
 * fourth with includeSubdomains, each with its own <pin-set> of two pins
 * (the heaviest shape: no pin-set is shared) and every tenth with an
 * expiration; about 230 octets per domain. Rows, each the median of 5 runs
 * after one warm-up:
 *   floor   XML_Parse of the file with element and text handlers that only
 *           count (expat alone, no model);
 *   import  pinset_formats_import(..., PINSET_FORMAT_ANDROID, ...) to a
 *           policy, fidelity list included, then freed.
 * Memory: the peak resident set added by one import, measured in a forked
 * child (ru_maxrss after the import minus before it, the file already in
 * memory). Targets: import < 1 s (wall and CPU shown: CPU is the robust
 * figure on a busy machine) and < 200 MB. The result is checked: the
 * policy must hold N rules and look up a generated host.
 *
 * Output: one "RESULT <row> <value> <unit>" line per row, the ratio, then
 * the targets.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fork */

#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pinset/formats.h>
#include <pinset/policy.h>

#define RUNS 5

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_android: %s\n", what);
    exit(1);
}

static char *generate(size_t n, size_t *len_out)
{
    size_t cap = n * 300 + 256, len = 0;
    char *doc = malloc(cap);

    if (doc == NULL) {
        die("out of memory generating the file");
    }
    len += (size_t)snprintf(doc + len, cap - len,
                            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                            "<network-security-config>\n");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(
            doc + len, cap - len,
            "  <domain-config>\n    <domain includeSubdomains=\"%s\">h%zu.example.com</domain>\n"
            "    <pin-set%s>\n"
            "      <pin digest=\"SHA-256\">%c%041zuA=</pin>\n"
            "      <pin digest=\"SHA-256\">TQEtdMbmwFgYUifM4LDF+xgEtd0z69mPGmkp014d6ZY=</pin>\n"
            "    </pin-set>\n  </domain-config>\n",
            i % 4 == 0 ? "true" : "false", i, i % 10 == 0 ? " expiration=\"2030-06-30\"" : "",
            'A' + (int)(i % 26), i);
    }
    len += (size_t)snprintf(doc + len, cap - len, "</network-security-config>\n");
    if (len >= cap) {
        die("generated file overflowed");
    }
    *len_out = len;
    return doc;
}

static void XMLCALL count_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)name, (void)atts;
    (*(size_t *)ud)++;
}

static void XMLCALL count_end(void *ud, const XML_Char *name)
{
    (void)ud, (void)name;
}

static void XMLCALL count_text(void *ud, const XML_Char *s, int len)
{
    (void)ud, (void)s, (void)len;
}

static void floor_once(const char *doc, size_t len, size_t n)
{
    XML_Parser xp = XML_ParserCreate(NULL);
    size_t elements = 0;

    if (xp == NULL) {
        die("XML_ParserCreate failed");
    }
    XML_SetUserData(xp, &elements);
    XML_SetElementHandler(xp, count_start, count_end);
    XML_SetCharacterDataHandler(xp, count_text);
    if (XML_Parse(xp, doc, (int)len, 1) != XML_STATUS_OK || elements != 1 + 5 * n) {
        die("expat refused the generated file");
    }
    XML_ParserFree(xp);
}

static void import_once(const char *doc, size_t len, size_t n)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_match m = PINSET_MATCH_NONE;

    if (pinset_formats_import(&p, &f, (const uint8_t *)doc, len, PINSET_FORMAT_ANDROID, NULL, &d) !=
        PINSET_OK) {
        fprintf(stderr, "bench_android: import: %s (line %zu)\n", d.message, d.line);
        exit(1);
    }
    if (pinset_policy_rule_count(p) != n ||
        pinset_policy_lookup(p, "x.h0.example.com", strlen("x.h0.example.com"), &m) == NULL ||
        m != PINSET_MATCH_SUBDOMAIN) {
        die("the imported policy is not the generated one");
    }
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median wall and cpu seconds of RUNS runs after one warm-up. */
static void timed(void (*fn)(const char *, size_t, size_t), const char *doc, size_t len, size_t n,
                  double *wall, double *cpu)
{
    double w[RUNS], c[RUNS];

    fn(doc, len, n);
    for (int i = 0; i < RUNS; i++) {
        double w0 = now_s(), c0 = cpu_s();
        fn(doc, len, n);
        w[i] = now_s() - w0;
        c[i] = cpu_s() - c0;
    }
    qsort(w, RUNS, sizeof(w[0]), cmp);
    qsort(c, RUNS, sizeof(c[0]), cmp);
    *wall = w[RUNS / 2];
    *cpu = c[RUNS / 2];
}

/* The peak RSS one import adds, in MiB, measured in a child. */
static double import_peak_mib(const char *doc, size_t len, size_t n)
{
    int fds[2], status;
    double mib = -1;
    pid_t pid;

    if (pipe(fds) != 0) {
        die("pipe failed");
    }
    pid = fork();
    if (pid < 0) {
        die("fork failed");
    }
    if (pid == 0) {
        struct rusage before, after;
        double v;
        close(fds[0]);
        getrusage(RUSAGE_SELF, &before);
        import_once(doc, len, n);
        getrusage(RUSAGE_SELF, &after);
        v = (double)(after.ru_maxrss - before.ru_maxrss) / 1024.0;
        if (write(fds[1], &v, sizeof(v)) != (ssize_t)sizeof(v)) {
            _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    if (read(fds[0], &mib, sizeof(mib)) != (ssize_t)sizeof(mib)) {
        mib = -1;
    }
    close(fds[0]);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        die("the memory child failed");
    }
    return mib;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000, len;
    char *doc;
    double fw, fc, iw, ic, mib;

    if (n == 0 || n > 200000) {
        die("DOMAINS: 1 to 200000");
    }
    doc = generate(n, &len);
    printf("Android Network Security Config import (issue 10): %zu domains, %.1f MB of XML\n", n,
           (double)len / 1e6);
    mib = import_peak_mib(doc, len, n); /* first: a child of a process that never imported */
    timed(floor_once, doc, len, n, &fw, &fc);
    timed(import_once, doc, len, n, &iw, &ic);
    printf("RESULT android-floor-expat %.3f s wall %.3f s cpu\n", fw, fc);
    printf("RESULT android-import %.3f s wall %.3f s cpu\n", iw, ic);
    printf("RESULT android-import-peak-rss %.1f MiB\n", mib);
    printf("ratio import / expat floor: %.1fx wall, %.1fx cpu\n", iw / fw, ic / fc);
    printf("target import < 1 s: %.3f s wall %s, %.3f s cpu %s\n", iw, iw < 1.0 ? "met" : "MISSED",
           ic, ic < 1.0 ? "met" : "MISSED");
    printf("target import < 200 MB: %.1f MiB %s\n", mib,
           mib >= 0 && mib * 1.048576 < 200 ? "met" : "MISSED");
    free(doc);
    return 0;
}
