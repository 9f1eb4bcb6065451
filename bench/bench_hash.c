/*
 * bench_hash.c - pinset's side of the pin benchmark, over the same bundle
 * as floor_hash.c (see bench/README.md).
 *
 * usage: bench_hash BUNDLE.pem [REPS]
 * Rows (each prints a RESULT line, see bench.h):
 *   fastpath-core     pinset__der_cert_spki + SHA-256 over the DER (the
 *                     internal walker alone; the ceiling for pins-only)
 *   fastpath+d2i_PUBKEY the same plus d2i_PUBKEY of the span: what it would
 *                     cost to make the fast path validate the key too
 *   pin-from-cert-der pinset_pin_from_cert_der per certificate (DER input,
 *                     OpenSSL's full parser)
 *   bundle-full       pinset_bundle_parse of the PEM bundle + pinset_object_pin
 *                     for every object, then pinset_bundle_free
 *   bundle-pins-only  the same with PINSET_LOAD_PINS_ONLY
 *   bundle-pins-only+span  pins-only loading, then SHA-256 of the SPKI span
 *                     the walker finds in pinset_object_der (no key decode)
 * The two bundle rows start from the PEM text (base64 decoding included);
 * the others from DER decoded before timing, like the floor.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <pinset/bundle.h>
#include <pinset/pin.h>

#include "bench.h"
#include "core/der.h"

typedef void (*row_fn)(struct bench_set *s, EVP_MD *md);

static void fastpath_core(struct bench_set *s, EVP_MD *md)
{
    for (size_t i = 0; i < s->n; i++) {
        const uint8_t *spki;
        size_t len;

        if (pinset__der_cert_spki(s->der[i], s->der_len[i], &spki, &len) != PINSET_OK) {
            bench_die("the fast path declined a benchmark certificate");
        }
        if (!EVP_Digest(spki, len, s->pins[i], NULL, md, NULL)) {
            bench_die("sha-256 failed");
        }
    }
}

static void fastpath_pubkey(struct bench_set *s, EVP_MD *md)
{
    for (size_t i = 0; i < s->n; i++) {
        const uint8_t *spki;
        const unsigned char *p;
        size_t len;
        EVP_PKEY *k;

        if (pinset__der_cert_spki(s->der[i], s->der_len[i], &spki, &len) != PINSET_OK) {
            bench_die("the fast path declined a benchmark certificate");
        }
        p = spki;
        k = d2i_PUBKEY(NULL, &p, (long)len);
        if (k == NULL || !EVP_Digest(spki, len, s->pins[i], NULL, md, NULL)) {
            bench_die("d2i_PUBKEY or sha-256 failed");
        }
        EVP_PKEY_free(k);
    }
}

static void pin_from_cert_der(struct bench_set *s, EVP_MD *md)
{
    (void)md;
    for (size_t i = 0; i < s->n; i++) {
        pinset_pin pin;

        if (pinset_pin_from_cert_der(&pin, s->der[i], s->der_len[i], PINSET_PIN_SPKI, NULL) !=
            PINSET_OK) {
            bench_die("pinset_pin_from_cert_der failed");
        }
        memcpy(s->pins[i], pin.sha256, 32);
    }
}

static void bundle_pins(struct bench_set *s, unsigned int flags)
{
    pinset_load_opts opts = PINSET_LOAD_OPTS_INIT;
    pinset_bundle *b = NULL;

    opts.flags = flags;
    if (pinset_bundle_parse(&b, s->pem, s->pem_len, &opts, NULL) != PINSET_OK) {
        bench_die("pinset_bundle_parse failed");
    }
    if (pinset_bundle_count(b) != s->n) {
        bench_die("pinset_bundle_parse found a different number of objects");
    }
    for (size_t i = 0; i < s->n; i++) {
        pinset_pin pin;

        if (pinset_object_pin(&pin, pinset_bundle_get(b, i), PINSET_PIN_SPKI) != PINSET_OK) {
            bench_die("pinset_object_pin failed");
        }
        memcpy(s->pins[i], pin.sha256, 32);
    }
    pinset_bundle_free(b);
}

/*
 * What pins-only loading costs when the pin is the SHA-256 of the span the
 * walker located in pinset_object_der (no key decoding): the projection for
 * pinset_object_pin on PINSET_LOAD_PINS_ONLY certificates.
 */
static void bundle_pins_only_span(struct bench_set *s, EVP_MD *md)
{
    pinset_load_opts opts = PINSET_LOAD_OPTS_INIT;
    pinset_bundle *b = NULL;

    opts.flags = PINSET_LOAD_PINS_ONLY;
    if (pinset_bundle_parse(&b, s->pem, s->pem_len, &opts, NULL) != PINSET_OK ||
        pinset_bundle_count(b) != s->n) {
        bench_die("pinset_bundle_parse failed");
    }
    for (size_t i = 0; i < s->n; i++) {
        size_t der_len = 0;
        const uint8_t *der = pinset_object_der(pinset_bundle_get(b, i), &der_len);
        const uint8_t *spki;
        size_t len;

        if (der == NULL || pinset__der_cert_spki(der, der_len, &spki, &len) != PINSET_OK ||
            !EVP_Digest(spki, len, s->pins[i], NULL, md, NULL)) {
            bench_die("span pin failed");
        }
    }
    pinset_bundle_free(b);
}

static void bundle_full(struct bench_set *s, EVP_MD *md)
{
    (void)md;
    bundle_pins(s, 0);
}

static void bundle_pins_only(struct bench_set *s, EVP_MD *md)
{
    (void)md;
    bundle_pins(s, PINSET_LOAD_PINS_ONLY);
}

static void measure(struct bench_set *s, EVP_MD *md, const char *name, row_fn fn, size_t reps)
{
    double wall[101];
    double cpu[101];

    memset(s->pins, 0, s->n * sizeof(*s->pins));
    fn(s, md); /* warm-up, and the pins checked by the checksum */
    for (size_t r = 0; r < reps; r++) {
        struct bench_run t;

        bench_start(&t);
        fn(s, md);
        bench_stop(&t, &wall[r], &cpu[r]);
    }
    bench_report(s, name, wall, cpu, reps);
}

int main(int argc, char **argv)
{
    struct bench_set s;
    EVP_MD *md;
    size_t reps = bench_reps(argc, argv, 2);

    if (argc < 2) {
        fprintf(stderr, "usage: bench_hash BUNDLE.pem [REPS]\n");
        return 2;
    }
    bench_load(&s, argv[1]);
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (md == NULL) {
        bench_die("no sha-256");
    }
    measure(&s, md, "fastpath-core", fastpath_core, reps);
    measure(&s, md, "fastpath+d2i_PUBKEY", fastpath_pubkey, reps);
    measure(&s, md, "pin-from-cert-der", pin_from_cert_der, reps);
    measure(&s, md, "bundle-full", bundle_full, reps);
    measure(&s, md, "bundle-pins-only", bundle_pins_only, reps);
    measure(&s, md, "bundle-pins-only+span", bundle_pins_only_span, reps);
    EVP_MD_free(md);
    return 0;
}
