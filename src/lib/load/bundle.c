/*
 * bundle.c - the bundle container and the entry points of pinset/bundle.h:
 * pinset_bundle_parse (format detection by content: one DER object spanning
 * the whole input, else PEM (some line starts with "-----BEGIN "), else a
 * DER-looking input (first byte 0x30) that gets a precise DER error, else
 * "unrecognised"), the PEM block dispatch, pinset_bundle_read_file (the util
 * reader, with size and time bounds), and the diagnostics of one parse call.
 * Unknown PEM labels (X509 CRL, PARAMETERS, ...) are an error naming the
 * label and the object index: skipping would silently drop what a user
 * meant to pin.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <pinset/bundle.h>

#include "core/der.h"
#include "core/pem.h"
#include "internal.h"
#include "load/load_int.h"
#include "util/diag.h"
#include "util/read.h"

#define READ_TIMEOUT_MS 30000L /* FIFOs and standard input */

#ifdef PINSET_TESTING
static long read_timeout_ms_test;

void pinset__bundle_set_read_timeout_ms(long ms)
{
    read_timeout_ms_test = ms;
}

static long read_timeout_ms(void)
{
    return read_timeout_ms_test > 0 ? read_timeout_ms_test : READ_TIMEOUT_MS;
}
#else
static long read_timeout_ms(void)
{
    return READ_TIMEOUT_MS;
}
#endif

/* ---- diagnostics ---- */

pinset_err pinset__load_fail(const struct load_ctx *c, pinset_err code, const char *fmt, ...)
{
    char msg[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)PINSET_DIAG(c->diag, code, "%s", msg);
    pinset__diag_pos(c->diag, c->index, c->line, 0, c->offset);
    pinset__diag_object(c->diag, c->index, c->what, c->what_len);
    return code;
}

/* The reason of OpenSSL's latest error (a static string), then pop to the caller's mark. */
const char *pinset__load_ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    ERR_pop_to_mark();
    return r != NULL ? r : "unknown openssl error";
}

/* ---- objects ---- */

pinset_err pinset__load_push(struct load_ctx *c, struct pinset_object **out)
{
    pinset_bundle *b = c->b;

    if (b->count == b->cap) {
        size_t cap = b->cap == 0 ? 8 : b->cap * 2;
        struct pinset_object *objs;

        if (b->count >= PINSET_MAX_OBJECTS) {
            return pinset__load_fail(c, PINSET_E_LIMIT, "more than %d objects", PINSET_MAX_OBJECTS);
        }
        if (cap > PINSET_MAX_OBJECTS) {
            cap = PINSET_MAX_OBJECTS;
        }
        objs = pinset__realloc_array(b->objs, cap, sizeof(*objs));
        if (objs == NULL) {
            return pinset__load_fail(c, PINSET_E_NOMEM, "out of memory");
        }
        b->objs = objs;
        b->cap = cap;
    }
    *out = &b->objs[b->count];
    memset(*out, 0, sizeof(**out));
    return PINSET_OK;
}

/* Commit the object filled in by pinset__load_push(); the next object gets the next index. */
void pinset__load_commit(struct load_ctx *c)
{
    c->b->count++;
    c->index++;
}

void pinset__load_object_clear(struct pinset_object *o)
{
    X509_free(o->x509);
    pinset__free(o->subject);
    pinset__free(o->issuer);
    pinset__wipe_free(o->der, o->der_len);
    memset(o, 0, sizeof(*o));
}

/* One DER object spanning the whole input. */
static pinset_err add_der(struct load_ctx *c, const uint8_t *der, size_t len)
{
    const uint8_t *spki;
    size_t spki_len;
    pinset_err err;
    enum load_kind k;

    c->what = "der";
    c->what_len = 3;
    err = pinset__load_check_outer(c, der, len);
    if (err != PINSET_OK) {
        return err;
    }
    if ((c->flags & PINSET_LOAD_PINS_ONLY) &&
        pinset__der_cert_spki(der, len, &spki, &spki_len) == PINSET_OK) {
        return pinset__load_add_cert(c, der, len);
    }
    k = pinset__load_identify(der, len);
    /* PKCS#12 is BER by design (RFC 7292 uses indefinite lengths); OpenSSL decodes it */
    if (k != K_P12) {
        err = pinset__load_check_framing(c, der, len);
        if (err != PINSET_OK) {
            return err;
        }
    }
    return pinset__load_add_kind(c, k, der, len);
}

static const struct {
    const char *label;
    enum load_kind kind;
    int trusted;
} labels[] = {
    {"CERTIFICATE", K_CERT, 0},
    {"X509 CERTIFICATE", K_CERT, 0},
    {"TRUSTED CERTIFICATE", K_CERT, 1},
    {"PUBLIC KEY", K_SPKI, 0},
    {"RSA PUBLIC KEY", K_RSAPUB, 0},
    {"PRIVATE KEY", K_P8, 0},
    {"RSA PRIVATE KEY", K_TRAD_RSA, 0},
    {"EC PRIVATE KEY", K_TRAD_EC, 0},
    {"ENCRYPTED PRIVATE KEY", K_P8ENC, 0},
    {"CERTIFICATE REQUEST", K_CSR, 0},
    {"NEW CERTIFICATE REQUEST", K_CSR, 0},
};

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    const struct load_ctx *c = u;

    (void)rwflag;
    if (c->pass == NULL || size < 0 || c->pass_len > (size_t)size) {
        return -1;
    }
    memcpy(buf, c->pass, c->pass_len);
    return (int)c->pass_len;
}

/* RFC 1421 encrypted traditional key: OpenSSL decrypts the one block we checked. */
static pinset_err add_legacy_encrypted(struct load_ctx *c, const struct pinset_pem_block *blk)
{
    EVP_PKEY *pk;
    BIO *bio;
    pinset_err err;

    if (c->pass == NULL) {
        return pinset__load_fail(c, PINSET_E_PASSPHRASE,
                                 "encrypted private key needs a passphrase");
    }
    ERR_set_mark();
    bio = BIO_new_mem_buf(blk->start, (int)blk->total_len);
    if (bio == NULL) {
        ERR_pop_to_mark();
        return pinset__load_fail(c, PINSET_E_NOMEM, "out of memory");
    }
    pk = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, c);
    BIO_free(bio);
    ERR_pop_to_mark();
    if (pk == NULL) {
        return pinset__load_fail(c, PINSET_E_PASSPHRASE, "wrong passphrase");
    }
    err = pinset__load_add_pkey(c, pk, PINSET_OBJ_PRIVKEY);
    EVP_PKEY_free(pk);
    return err;
}

static pinset_err add_block(struct load_ctx *c, const struct pinset_pem_block *blk)
{
    uint8_t *der = NULL;
    size_t len = 0, i;
    pinset_err err;

    for (i = 0; i < PINSET_ARRAY_SIZE(labels); i++) {
        if (strlen(labels[i].label) == blk->label_len &&
            memcmp(labels[i].label, blk->label, blk->label_len) == 0) {
            break;
        }
    }
    if (i == PINSET_ARRAY_SIZE(labels)) {
        return pinset__load_fail(c, PINSET_E_UNSUPPORTED, "unsupported pem label");
    }
    if (blk->has_headers) {
        if (blk->encrypted && (labels[i].kind == K_TRAD_RSA || labels[i].kind == K_TRAD_EC)) {
            return add_legacy_encrypted(c, blk);
        }
        return pinset__load_fail(c, PINSET_E_PARSE, "unexpected pem headers");
    }
    err = pinset__pem_decode(&der, &len, blk, c->index, PINSET_MAX_DER_SIZE, c->diag);
    if (err != PINSET_OK) {
        return err;
    }
    if (labels[i].trusted) {
        err = pinset__load_add_trusted_cert(c, der, len);
    } else {
        err = pinset__load_check_outer(c, der, len);
        if (err == PINSET_OK) {
            err = pinset__load_check_framing(c, der, len);
        }
        if (err == PINSET_OK) {
            err = pinset__load_add_kind(c, labels[i].kind, der, len);
        }
    }
    pinset__wipe_free(der, len);
    return err;
}

static pinset_err add_pem(struct load_ctx *c, const uint8_t *buf, size_t len)
{
    struct pinset_pem_scan scan;
    struct pinset_pem_block blk;
    pinset_err err;
    int found;

    pinset__pem_scan_init(&scan, buf, len);
    for (;;) {
        scan.blocks = c->index; /* PKCS#12 is never PEM, so one block is one object */
        err = pinset__pem_next(&scan, &blk, &found, c->diag);
        if (err != PINSET_OK || !found) {
            return err;
        }
        c->what = blk.label;
        c->what_len = blk.label_len;
        c->line = blk.line;
        c->offset = blk.offset;
        err = add_block(c, &blk);
        if (err != PINSET_OK) {
            return err;
        }
    }
}

/* ---- public API ---- */

static pinset_err check_opts(const pinset_load_opts *opts, size_t *max, pinset_diag *diag)
{
    *max = PINSET_MAX_INPUT_SIZE;
    if (opts == NULL) {
        return PINSET_OK;
    }
    if (opts->version != PINSET_LOAD_OPTS_VERSION) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "load options: unknown version %u",
                           opts->version);
    }
    if ((opts->flags & ~PINSET_LOAD_PINS_ONLY) != 0) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "load options: unknown flags 0x%x",
                           opts->flags & ~PINSET_LOAD_PINS_ONLY);
    }
    if (opts->passphrase != NULL &&
        (opts->passphrase_len > PINSET_MAX_PASSPHRASE ||
         memchr(opts->passphrase, '\0', opts->passphrase_len) != NULL)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "load options: passphrase longer than %d bytes or containing a nul byte",
                           PINSET_MAX_PASSPHRASE);
    }
    if (opts->max_input != 0) {
        /* clamped so that max + 1 never overflows */
        *max = opts->max_input < SIZE_MAX / 2 ? opts->max_input : SIZE_MAX / 2;
    }
    return PINSET_OK;
}

pinset_err pinset_bundle_parse(pinset_bundle **out, const uint8_t *buf, size_t len,
                               const pinset_load_opts *opts, pinset_diag *diag)
{
    struct load_ctx c;
    size_t max, total = 0;
    pinset_err err;

    if (out == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "bundle: out is null");
    }
    *out = NULL;
    if (buf == NULL && len != 0) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "bundle: buffer is null");
    }
    err = check_opts(opts, &max, diag);
    if (err != PINSET_OK) {
        return err;
    }
    if (len == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "empty input");
    }
    if (len > max) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT,
                           "input of %zu bytes exceeds the limit of %zu bytes", len, max);
    }
    memset(&c, 0, sizeof(c));
    c.diag = diag;
    c.what = "input";
    c.what_len = 5;
    if (opts != NULL) {
        c.flags = opts->flags;
        c.pass = opts->passphrase;
        c.pass_len = opts->passphrase != NULL ? opts->passphrase_len : 0;
    }
    c.b = pinset__alloc(sizeof(*c.b));
    if (c.b == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "bundle: out of memory");
    }
    if (pinset__load_der_outer(buf, len, &total) == OUTER_OK && total == len) {
        err = add_der(&c, buf, len);
    } else if (pinset__pem_detect(buf, len)) {
        err = add_pem(&c, buf, len);
    } else if (buf[0] == 0x30) {
        err = add_der(&c, buf, len);
    } else {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "unrecognised input: neither pem nor der");
    }
    if (err == PINSET_OK && c.b->count == 0) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "no objects in input");
    }
    if (err != PINSET_OK) {
        pinset_bundle_free(c.b);
        return err;
    }
    *out = c.b;
    return PINSET_OK;
}

void pinset_bundle_free(pinset_bundle *bundle)
{
    if (bundle == NULL) {
        return;
    }
    for (size_t i = 0; i < bundle->count; i++) {
        pinset__load_object_clear(&bundle->objs[i]);
    }
    pinset__free(bundle->objs);
    pinset__free(bundle);
}

size_t pinset_bundle_count(const pinset_bundle *bundle)
{
    return bundle != NULL ? bundle->count : 0;
}

const pinset_object *pinset_bundle_get(const pinset_bundle *bundle, size_t i)
{
    if (bundle == NULL || i >= bundle->count) {
        return NULL;
    }
    return &bundle->objs[i];
}

/* ---- reading files (src/util/read.c) ---- */

pinset_err pinset_bundle_read_file(pinset_bundle **out, const char *path,
                                   const pinset_load_opts *opts, pinset_diag *diag)
{
    struct pinset__buf r;
    size_t max;
    pinset_err err;

    if (out == NULL || path == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "bundle: out or path is null");
    }
    *out = NULL;
    pinset__diag_input(diag, path); /* every failure below names the file */
    err = check_opts(opts, &max, diag);
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset__read_path(&r, path, max, read_timeout_ms(), PINSET__READ_FIFO, diag);
    if (err == PINSET_OK && r.len == 0) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "empty input");
    }
    if (err == PINSET_OK) {
        err = pinset_bundle_parse(out, r.p, r.len, opts, diag);
    }
    /* the input may hold private keys: the buffer is wiped */
    pinset__buf_free(&r);
    return err;
}
