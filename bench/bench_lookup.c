/*
 * bench_lookup.c - the policy model at scale: build a policy of N simple
 * rules (default 1,000,000) from generated JSON, then report the build time,
 * the memory the model keeps per rule, and the cost of one lookup.
 *
 * Usage: bench_lookup [RULES]
 *
 * Rules are "many domains, one pin-set": {"host": "hN.example.com",
 * "pinset": "k"}, every fourth with include_subdomains. Memory is the growth
 * of the heap in use (mallinfo2) across the parse, after jansson's tree has
 * been freed, i.e. what the policy itself holds. Lookups are timed over
 * 1,000,000 prepared host names in a shuffled order, for three cases: exact
 * hits, subdomains (half covered by a parent, half not) and names that no
 * rule covers. Targets: < 300 bytes per rule, build < 2 s, lookup < 1 us.
 * For context it also measures this machine's latency of one dependent
 * random memory access over 64 MiB: a lookup in a table far larger than the
 * caches costs about two such accesses (the slot, then the host's octets).
 *
 * Output: one "RESULT <row> <value> <unit>" line per row, then the targets.
 */
#define _GNU_SOURCE /* mallinfo2 */

#include <jansson.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <pinset/policy.h>

#define LOOKUPS 1000000u
#define PIN_1   "TQEtdMbmwFgYUifM4LDF+xgEtd0z69mPGmkp014d6ZY="
#define PIN_2   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_lookup: %s\n", what);
    exit(1);
}

static char *generate(size_t n, size_t *len_out)
{
    size_t cap = n * 80 + 256, len = 0;
    char *doc = malloc(cap);

    if (doc == NULL) {
        die("out of memory generating the policy");
    }
    len += (size_t)snprintf(doc + len, cap - len,
                            "{\"version\": 1, \"pinsets\": {\"k\": {\"pins\": [\"" PIN_1
                            "\", \"" PIN_2 "\"]}}, \"rules\": [\n");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(
            doc + len, cap - len, "%s{\"host\": \"h%zu.example.com\", \"pinset\": \"k\"%s}",
            i == 0 ? "" : ",\n", i, i % 4 == 0 ? ", \"include_subdomains\": true" : "");
    }
    len += (size_t)snprintf(doc + len, cap - len, "\n]}\n");
    *len_out = len;
    return doc;
}

/* xorshift64*: a fixed sequence, so that runs compare */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

struct hosts {
    char (*name)[48];
    size_t *len;
};

static void prepare(struct hosts *h, size_t n, const char *prefix, const char *suffix,
                    uint64_t seed)
{
    h->name = malloc(LOOKUPS * sizeof(*h->name));
    h->len = malloc(LOOKUPS * sizeof(*h->len));
    if (h->name == NULL || h->len == NULL) {
        die("out of memory preparing hosts");
    }
    for (size_t i = 0; i < LOOKUPS; i++) {
        size_t k = (size_t)(next_rand(&seed) % n);
        int w = snprintf(h->name[i], sizeof(h->name[i]), "%sh%zu.example.%s", prefix, k, suffix);
        h->len[i] = (size_t)w;
    }
}

/* ns per dependent random access over a 64 MiB array (a pointer chase) */
static double memory_latency(void)
{
    size_t n = (64u << 20) / sizeof(size_t), steps = 2000000, x = 0;
    size_t *a = malloc(n * sizeof(*a));
    uint64_t seed = 7;
    double t0, ns;

    if (a == NULL) {
        die("out of memory measuring latency");
    }
    for (size_t i = 0; i < n; i++) {
        a[i] = i;
    }
    for (size_t i = n - 1; i > 0; i--) { /* Sattolo: one cycle through every element */
        size_t j = (size_t)(next_rand(&seed) % i), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    t0 = now_ns();
    for (size_t i = 0; i < steps; i++) {
        x = a[x];
    }
    ns = (now_ns() - t0) / (double)steps;
    if (x == SIZE_MAX) {
        puts("unreachable");
    }
    free(a);
    return ns;
}

/* ns per lookup; *hits_out counts the lookups that found a rule */
static double time_lookups(const pinset_policy *p, const struct hosts *h, size_t *hits_out)
{
    size_t hits = 0;
    double t0 = now_ns();

    for (size_t i = 0; i < LOOKUPS; i++) {
        hits += pinset_policy_lookup(p, h->name[i], h->len[i], NULL) != NULL;
    }
    *hits_out = hits;
    return (now_ns() - t0) / LOOKUPS;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t len, hits;
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    struct mallinfo2 m0, m1;
    struct rusage ru;
    struct hosts exact, sub, miss;
    double t0, build_ms, json_ms, per_rule, ns_exact, ns_sub, ns_miss;
    char *doc;

    if (n == 0 || n > 2000000) {
        die("usage: bench_lookup [RULES] (1 to 2000000)");
    }
    doc = generate(n, &len);

    /* jansson alone, for scale: how much of the build is reading JSON */
    {
        json_error_t jerr;
        json_t *root;
        t0 = now_ns();
        root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
        json_ms = (now_ns() - t0) / 1e6;
        if (root == NULL) {
            die(jerr.text);
        }
        json_decref(root);
    }

    malloc_trim(0);
    m0 = mallinfo2();
    t0 = now_ns();
    if (pinset_policy_parse(&p, (const uint8_t *)doc, len, &d) != PINSET_OK) {
        fprintf(stderr, "bench_lookup: parse: %s (%s)\n", d.message, d.path);
        return 1;
    }
    build_ms = (now_ns() - t0) / 1e6;
    m1 = mallinfo2();
    /* uordblks: in use in the heap; hblkhd: in use in mmap'ed chunks (the big arrays) */
    per_rule = ((double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd)) / (double)n;
    getrusage(RUSAGE_SELF, &ru);
    free(doc);

    prepare(&exact, n, "", "com", 1);
    prepare(&sub, n, "www.", "com", 2);
    prepare(&miss, n, "", "org", 3);
    (void)time_lookups(p, &exact, &hits); /* warm the caches once */
    ns_exact = time_lookups(p, &exact, &hits);
    if (hits != LOOKUPS) {
        die("an exact lookup missed");
    }
    ns_sub = time_lookups(p, &sub, &hits);
    printf("subdomain lookups covered by a parent: %zu of %u\n", hits, LOOKUPS);
    ns_miss = time_lookups(p, &miss, &hits);
    if (hits != 0) {
        die("a lookup that should miss found a rule");
    }

    printf("policy: %zu rules, %zu octets of JSON\n", n, len);
    {
        /* timings depend on what else runs: say so next to them */
        FILE *f = fopen("/proc/loadavg", "r");
        double load = -1;
        if (f != NULL) {
            if (fscanf(f, "%lf", &load) != 1) {
                load = -1;
            }
            fclose(f);
        }
        printf("machine load average (1 min) during the run: %.2f\n", load);
    }
    printf("RESULT policy-json-only %.0f ms\n", json_ms);
    printf("RESULT policy-build %.0f ms\n", build_ms);
    printf("RESULT policy-bytes-per-rule %.1f B\n", per_rule);
    printf("RESULT policy-peak-rss %ld MiB\n", ru.ru_maxrss / 1024);
    printf("RESULT lookup-exact %.1f ns\n", ns_exact);
    printf("RESULT lookup-subdomain %.1f ns\n", ns_sub);
    printf("RESULT lookup-miss %.1f ns\n", ns_miss);
    printf("RESULT memory-latency %.1f ns\n", memory_latency());
    printf("target memory < 300 B/rule: %.1f %s\n", per_rule, per_rule < 300 ? "met" : "MISSED");
    printf("target build < 2 s: %.2f s %s\n", build_ms / 1e3, build_ms < 2000 ? "met" : "MISSED");
    printf("target lookup < 1 us: %.0f ns worst %s\n",
           ns_exact > ns_sub ? (ns_exact > ns_miss ? ns_exact : ns_miss)
                             : (ns_sub > ns_miss ? ns_sub : ns_miss),
           ns_exact < 1000 && ns_sub < 1000 && ns_miss < 1000 ? "met" : "MISSED");
    pinset_policy_free(p);
    free(exact.name);
    free(exact.len);
    free(sub.name);
    free(sub.len);
    free(miss.name);
    free(miss.len);
    return 0;
}
