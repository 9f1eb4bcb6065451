/*
 * floor_hash.c - the floor: SPKI pins for every certificate of a bundle
 * with OpenSSL alone (d2i_X509, i2d_X509_PUBKEY, SHA-256 with a prefetched
 * EVP_MD), the way a careful program without pinset would do it.
 *
 * usage: floor_hash BUNDLE.pem [REPS [PINS_OUT [K]]]
 * The PEM blocks are decoded to DER before timing; the timed loop is DER ->
 * pin. Prints a RESULT line (see bench.h). With
 * PINS_OUT, also writes the base64 pins of the first K certificates (one a
 * line), which run.sh compares with the openssl pipeline's output.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bench.h"

static void run(struct bench_set *s, EVP_MD *md)
{
    for (size_t i = 0; i < s->n; i++) {
        const unsigned char *p = s->der[i];
        unsigned char *spki = NULL;
        X509 *x = d2i_X509(NULL, &p, (long)s->der_len[i]);
        int len;

        if (x == NULL) {
            bench_die("d2i_X509 failed");
        }
        len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
        if (len <= 0 || !EVP_Digest(spki, (size_t)len, s->pins[i], NULL, md, NULL)) {
            bench_die("spki pin failed");
        }
        OPENSSL_free(spki);
        X509_free(x);
    }
}

static void write_pins(const struct bench_set *s, const char *path, long k)
{
    FILE *f = fopen(path, "w");
    unsigned char b64[64];

    if (f == NULL) {
        bench_die("cannot write the pins file");
    }
    for (size_t i = 0; i < s->n && (long)i < k; i++) {
        EVP_EncodeBlock(b64, s->pins[i], 32);
        fprintf(f, "%s\n", (const char *)b64);
    }
    if (fclose(f) != 0) {
        bench_die("cannot write the pins file");
    }
}

int main(int argc, char **argv)
{
    struct bench_set s;
    EVP_MD *md;
    size_t reps = bench_reps(argc, argv, 2);
    double wall[101];
    double cpu[101];

    if (argc < 2) {
        fprintf(stderr, "usage: floor_hash BUNDLE.pem [REPS]\n");
        return 2;
    }
    bench_load(&s, argv[1]);
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (md == NULL) {
        bench_die("no sha-256");
    }
    run(&s, md); /* warm-up */
    for (size_t r = 0; r < reps; r++) {
        struct bench_run t;

        bench_start(&t);
        run(&s, md);
        bench_stop(&t, &wall[r], &cpu[r]);
    }
    bench_report(&s, "floor", wall, cpu, reps);
    if (argc > 3) {
        write_pins(&s, argv[3], argc > 4 ? strtol(argv[4], NULL, 10) : 200);
    }
    EVP_MD_free(md);
    return 0;
}
