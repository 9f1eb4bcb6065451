/*
 * gen_bundle.c - generate the benchmark's certificate bundle.
 *
 * usage: gen_bundle N OUTDIR [SAMPLE]
 *
 * Writes OUTDIR/bundle.pem with N distinct certificates (serial, subject,
 * SAN and validity differ per certificate) and the first SAMPLE of them
 * (default 200) also as OUTDIR/sample/NNNNN.pem for the per-certificate
 * openssl pipeline. Keys come from a pool so that generation stays fast:
 * certificate i uses key i % 16, where keys 0..7 are RSA-2048 and 8..15 are
 * EC P-256 (so the bundle is half RSA, half ECDSA, like a mixed trust store).
 * Every certificate is an X.509 v3 end-entity certificate with
 * basicConstraints, keyUsage, extendedKeyUsage, subjectAltName and
 * subjectKeyIdentifier, signed by one ECDSA P-256 CA key.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define KEY_POOL 16

static void die(const char *what)
{
    fprintf(stderr, "gen_bundle: %s\n", what);
    exit(1);
}

static EVP_PKEY *make_key(int i)
{
    EVP_PKEY *k = i < KEY_POOL / 2 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");

    if (k == NULL) {
        die("key generation failed");
    }
    return k;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

    if (e == NULL || !X509_add_ext(x, e, -1)) {
        die("cannot add extension");
    }
    X509_EXTENSION_free(e);
}

static X509 *make_cert(long i, EVP_PKEY *key, EVP_PKEY *ca_key, const X509_NAME *issuer)
{
    X509 *x = X509_new();
    X509_NAME *subj = X509_NAME_new();
    X509V3_CTX ctx;
    char cn[64];
    char san[80];

    if (x == NULL || subj == NULL) {
        die("out of memory");
    }
    snprintf(cn, sizeof(cn), "host%ld.bench.example", i);
    snprintf(san, sizeof(san), "DNS:host%ld.bench.example", i);
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), i + 1) ||
        !X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC, (const unsigned char *)"pinset bench",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_set_subject_name(x, subj) || !X509_set_issuer_name(x, issuer) ||
        X509_gmtime_adj(X509_getm_notBefore(x), -86400 + i) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400 + i) == NULL ||
        !X509_set_pubkey(x, key)) {
        die("cannot fill certificate");
    }
    X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
    add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
    add_ext(x, &ctx, NID_subject_alt_name, san);
    add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (X509_sign(x, ca_key, EVP_sha256()) <= 0) {
        die("cannot sign certificate");
    }
    X509_NAME_free(subj);
    return x;
}

int main(int argc, char **argv)
{
    EVP_PKEY *keys[KEY_POOL];
    EVP_PKEY *ca_key;
    X509_NAME *issuer = X509_NAME_new();
    char path[4096];
    long n;
    long sample = 200;
    FILE *all;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: gen_bundle N OUTDIR [SAMPLE]\n");
        return 2;
    }
    n = strtol(argv[1], NULL, 10);
    if (argc == 4) {
        sample = strtol(argv[3], NULL, 10);
    }
    if (n <= 0 || n > 1000000 || sample < 0 || issuer == NULL) {
        die("bad arguments");
    }
    for (int i = 0; i < KEY_POOL; i++) {
        keys[i] = make_key(i);
    }
    ca_key = EVP_EC_gen("P-256");
    if (ca_key == NULL ||
        !X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"pinset bench CA", -1, -1, 0)) {
        die("cannot make the CA");
    }
    snprintf(path, sizeof(path), "%s/sample", argv[2]);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        die("cannot create the sample directory");
    }
    snprintf(path, sizeof(path), "%s/bundle.pem", argv[2]);
    all = fopen(path, "w");
    if (all == NULL) {
        die("cannot create bundle.pem");
    }
    for (long i = 0; i < n; i++) {
        X509 *x = make_cert(i, keys[i % KEY_POOL], ca_key, issuer);

        if (!PEM_write_X509(all, x)) {
            die("cannot write bundle.pem");
        }
        if (i < sample) {
            FILE *one;

            snprintf(path, sizeof(path), "%s/sample/%05ld.pem", argv[2], i);
            one = fopen(path, "w");
            if (one == NULL || !PEM_write_X509(one, x) || fclose(one) != 0) {
                die("cannot write a sample certificate");
            }
        }
        X509_free(x);
    }
    if (fclose(all) != 0) {
        die("cannot write bundle.pem");
    }
    for (int i = 0; i < KEY_POOL; i++) {
        EVP_PKEY_free(keys[i]);
    }
    EVP_PKEY_free(ca_key);
    X509_NAME_free(issuer);
    return 0;
}
