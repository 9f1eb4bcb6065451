/*
 * fuzz_bundle.c - libFuzzer target for loading objects.
 *
 * Targets: pinset_bundle_parse (format detection, the PEM block scanner and
 * base64 decoder in core/pem.c, every DER decoder path in load/ (detect.c, decode.c), PKCS#12, and
 * the PINSET_LOAD_PINS_ONLY fast path through pinset__der_cert_spki), then
 * every object getter and pinset_object_pin on what was loaded. Each input
 * is parsed twice: in full mode with a passphrase, and pins-only without.
 * Seed corpus: fuzz/corpus/bundle/ (public certificates, keys and CSRs from
 * the test PKI, throw-away private keys made only for the corpus, and
 * malformed variants).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pinset/bundle.h>
#include <pinset/openssl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const pinset_bundle *b)
{
    for (size_t i = 0; i < pinset_bundle_count(b); i++) {
        const pinset_object *o = pinset_bundle_get(b, i);
        const char *s;
        int64_t nb, na;
        size_t len = 0;
        pinset_pin pin;

        (void)pinset_object_get_type(o);
        s = pinset_object_subject(o);
        if (s != NULL) {
            (void)strlen(s);
        }
        s = pinset_object_issuer(o);
        if (s != NULL) {
            (void)strlen(s);
        }
        (void)pinset_object_key_type(o);
        (void)pinset_object_key_group(o);
        (void)pinset_object_key_bits(o);
        (void)pinset_object_is_ca(o);
        if (pinset_object_validity(o, &nb, &na) == PINSET_OK && nb > na) {
            nb = na; /* nothing to check: just use the values */
        }
        (void)pinset_object_der(o, &len);
        (void)pinset_object_x509(o);
        if (pinset_object_pin(&pin, o, PINSET_PIN_SPKI) != PINSET_OK &&
            pinset_object_pin(&pin, o, PINSET_PIN_CERT) == PINSET_OK) {
            memset(&pin, 0, sizeof(pin));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char pass[] = "throwaway";
    pinset_load_opts full = PINSET_LOAD_OPTS_INIT, fast = PINSET_LOAD_OPTS_INIT;
    pinset_bundle *b = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    full.passphrase = pass;
    full.passphrase_len = sizeof(pass) - 1;
    fast.flags = PINSET_LOAD_PINS_ONLY;
    if (pinset_bundle_parse(&b, data, size, &full, &d) == PINSET_OK) {
        walk(b);
    }
    pinset_bundle_free(b);
    b = NULL;
    if (pinset_bundle_parse(&b, data, size, &fast, &d) == PINSET_OK) {
        walk(b);
    }
    pinset_bundle_free(b);
    return 0;
}
