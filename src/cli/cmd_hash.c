/*
 * cmd_hash.c - `pinset hash`: the pins of every certificate, key and request
 * in some files (or standard input).
 *
 * A security tool must not hand out a partial answer that looks whole: the
 * first input or object that cannot be read stops the command with exit
 * status 3, and then nothing at all is written to standard output (results
 * are collected in memory and written only when every input succeeded).
 *
 * --format curl prints the leaf keys only (see "--format curl" below).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <pinset/openssl.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "out.h"

enum { HASH_OPT_KIND, HASH_OPT_FORMAT, HASH_OPT_PASSFILE, HASH_OPT_COLOR };

static const opt_spec hash_opts[] = {
    {"kind", 'k', "KIND", "what the pin covers: spki (the key; default) or cert"},
    {"format", 'f', "FORMAT", "text (default), json, hpkp, curl, okhttp or hex"},
    {"passphrase-file", 0, "FILE", "passphrase for encrypted keys and PKCS#12: FILE's first line"},
    OUT_OPT_COLOR,
    {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_hash_spec = {"hash", "[options] FILE... | -",
                                "Print the pins of the certificates, keys and CSRs in files.",
                                hash_opts};

typedef enum hash_format {
    HASH_FMT_TEXT,
    HASH_FMT_JSON,
    HASH_FMT_HPKP,
    HASH_FMT_CURL,
    HASH_FMT_OKHTTP,
    HASH_FMT_HEX
} hash_format;

/*
 * key_only: the consumer of this form takes public-key pins only, so a
 * certificate digest printed in it could never match: RFC 7469 §2.4 (HPKP)
 * hashes the SubjectPublicKeyInfo, as do curl's CURLOPT_PINNEDPUBLICKEY and
 * OkHttp's CertificatePinner.
 */
static const struct {
    const char *name;
    hash_format format;
    pinset_pin_fmt pin_fmt; /* for the pins-only forms */
    int key_only;
} hash_formats[] = {
    {"text", HASH_FMT_TEXT, PINSET_PIN_FMT_BASE64, 0},
    {"json", HASH_FMT_JSON, PINSET_PIN_FMT_BASE64, 0},
    {"hpkp", HASH_FMT_HPKP, PINSET_PIN_FMT_HPKP, 1},
    {"curl", HASH_FMT_CURL, PINSET_PIN_FMT_CURL, 1},
    {"okhttp", HASH_FMT_OKHTTP, PINSET_PIN_FMT_OKHTTP, 1},
    {"hex", HASH_FMT_HEX, PINSET_PIN_FMT_HEX, 0},
};

/* How long --passphrase-file may wait for a pipe's writer. */
#define HASH_PASSPHRASE_WAIT_MS 10000
/* Longest passphrase accepted from --passphrase-file, in bytes. */
#define HASH_PASSPHRASE_MAX 1024
/* Room for the longest passphrase, a CR and an LF. */
#define HASH_PASSPHRASE_BUF (HASH_PASSPHRASE_MAX + 2)
/* Most inputs on one command line (each is loaded and hashed in turn). */
#define HASH_MAX_INPUTS 100000
/*
 * --format curl: most comparisons, in one input, of a certificate with a
 * possible issuer (only certificates whose subject is its issuer name are
 * compared), so that a hostile bundle of look-alike names cannot make the
 * search quadratic.
 */
#define HASH_ISSUER_CHECKS_MAX 10000
/* --format curl: most object numbers listed in the note on what was left out. */
#define HASH_NOTE_MAX_LISTED 8

typedef struct hash_run {
    pinset_pin_kind kind;
    size_t format_index; /* in hash_formats */
    hash_format format;
    pinset_pin_fmt pin_fmt;
    int color;
    pinset_load_opts opts;
    FILE *text;    /* text and pins-only forms: written here, copied to stdout at the end */
    json_t *array; /* json: one object per pinned object */
} hash_run;

/* ---- arguments ---- */

static int parse_format(const char *s, hash_run *run)
{
    for (size_t i = 0; i < sizeof(hash_formats) / sizeof(hash_formats[0]); i++) {
        if (strcmp(s, hash_formats[i].name) == 0) {
            run->format_index = i;
            run->format = hash_formats[i].format;
            run->pin_fmt = hash_formats[i].pin_fmt;
            return 0;
        }
    }
    return -1;
}

static int parse_kind(const char *s, pinset_pin_kind *out)
{
    if (strcmp(s, "spki") == 0) {
        *out = PINSET_PIN_SPKI;
    } else if (strcmp(s, "cert") == 0) {
        *out = PINSET_PIN_CERT;
    } else {
        return -1;
    }
    return 0;
}

static int pins_only(hash_format f)
{
    return f != HASH_FMT_TEXT && f != HASH_FMT_JSON;
}

/* How an input is named in output and messages (control characters made visible). */
static void input_name(char *buf, size_t cap, const char *path)
{
    out_safe_copy(buf, cap, strcmp(path, "-") == 0 ? "standard input" : path);
}

/*
 * The passphrase: the first `n` bytes of buf up to the first LF, without a CR
 * before it. Wipes whatever follows in buf. Returns 0, or -1 when too long.
 */
static int first_line(char *buf, size_t n, size_t cap, size_t *len_out)
{
    char *nl = memchr(buf, '\n', n);
    size_t len = nl != NULL ? (size_t)(nl - buf) : n;

    if (len > 0 && buf[len - 1] == '\r') {
        len--; /* a file written with CRLF line ends */
    }
    OPENSSL_cleanse(buf + len, cap - len); /* the rest of the file is not ours to keep */
    if (len > HASH_PASSPHRASE_MAX || (nl == NULL && n == cap)) {
        return -1;
    }
    *len_out = len;
    return 0;
}

/*
 * Read the first line of `path` into buf (HASH_PASSPHRASE_BUF bytes) with read(2),
 * not stdio, so that no unwiped copy is left in a FILE buffer. The caller wipes
 * buf. Returns 0, or an exit status after printing the error.
 */
static int read_passphrase(char *buf, size_t cap, size_t *len_out, const char *path)
{
    char name[256];
    struct stat st;
    size_t n = 0;
    int fd;

    out_safe_copy(name, sizeof(name), path);
    /* non-blocking: a FIFO with no writer must not hang the open, nor a silent one the read */
    fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        cli_err("hash", "%s: cannot open passphrase file: %s", name, strerror(errno));
        return EXIT_INPUT;
    }
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
        cli_err("hash", "%s: passphrase file is not a regular file or pipe", name);
        close(fd);
        return EXIT_INPUT;
    }
    while (n < cap) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLIN, 0};

            /* a pipe whose writer has not written yet: wait, but not forever */
            if (poll(&pfd, 1, HASH_PASSPHRASE_WAIT_MS) > 0) {
                continue;
            }
            cli_err("hash", "%s: no passphrase arrived within %d s", name,
                    HASH_PASSPHRASE_WAIT_MS / 1000);
            close(fd);
            return EXIT_INPUT;
        }
        if (got < 0) {
            cli_err("hash", "%s: cannot read passphrase file: %s", name, strerror(errno));
            close(fd);
            return EXIT_INPUT;
        }
        n += (size_t)got;
        if (got == 0 || memchr(buf + n - (size_t)got, '\n', (size_t)got) != NULL) {
            break;
        }
    }
    close(fd);
    if (first_line(buf, n, cap, len_out) != 0) {
        cli_err("hash", "%s: passphrase is longer than %d bytes", name, HASH_PASSPHRASE_MAX);
        return EXIT_INPUT;
    }
    return 0;
}

/* ---- errors ---- */

/* The name of an input in messages: the path the user typed, or CLI_STDIN_NAME for "-". */
static const char *diag_name(const char *path)
{
    return cli_is_stdin(path) ? CLI_STDIN_NAME : path;
}

/*
 * One line: "pinset: hash: " and the diag as pinset_diag_format() renders it
 * ("<input>:<line>: object <n> (<LABEL>): <reason>", objects numbered from 1,
 * each part only when known, control characters made visible), plus a hint.
 */
static int report(const pinset_diag *diag, int had_passphrase)
{
    char line[2048];
    const char *hint = "";

    (void)pinset_diag_format(line, sizeof(line), diag);
    if (diag->code == PINSET_E_PASSPHRASE && !had_passphrase) {
        hint = " (see --passphrase-file)";
    }
    out_progress_done(); /* the error gets a line of its own, not the progress line's end */
    cli_err("hash", "%s%s", line, hint);
    return diag->code == PINSET_OK ? EXIT_INTERNAL : cli_exit_for(diag->code);
}

/* A failure the tool finds itself, located in input `path` and object `object` (or SIZE_MAX). */
static int report_tool(const char *path, size_t object, pinset_err err, const char *message)
{
    pinset_diag diag = PINSET_DIAG_INIT;

    diag.code = err;
    diag.input = diag_name(path);
    diag.object = object;
    if (message != NULL) {
        snprintf(diag.message, sizeof(diag.message), "%s", message);
    }
    return report(&diag, 1);
}

/* ---- one object ---- */

static const char *type_text(const pinset_object *obj)
{
    switch (pinset_object_get_type(obj)) {
    case PINSET_OBJ_CERT:
        return pinset_object_is_ca(obj) ? "CA certificate" : "leaf certificate";
    case PINSET_OBJ_PUBKEY:
        return "public key";
    case PINSET_OBJ_PRIVKEY:
        return "private key";
    case PINSET_OBJ_CSR:
        return "CSR";
    default:
        return "unknown object";
    }
}

static const char *type_json(const pinset_object *obj)
{
    switch (pinset_object_get_type(obj)) {
    case PINSET_OBJ_CERT:
        return pinset_object_is_ca(obj) ? "ca_certificate" : "leaf_certificate";
    case PINSET_OBJ_PUBKEY:
        return "public_key";
    case PINSET_OBJ_PRIVKEY:
        return "private_key";
    case PINSET_OBJ_CSR:
        return "csr";
    default:
        return "unknown";
    }
}

static void emit_text(hash_run *run, const char *name, size_t index, const pinset_object *obj,
                      const pinset_pin *pin)
{
    FILE *f = run->text;
    const char *group = pinset_object_key_group(obj);
    unsigned int bits = pinset_object_key_bits(obj);
    char b64[PINSET_PIN_STR_MAX];
    int64_t nb, na;

    if (pinset_pin_format(b64, sizeof(b64), pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        b64[0] = '\0';
    }
    if (index > 0) {
        fputc('\n', f);
    }
    fprintf(f, "%s%s object %zu: %s%s\n", out_sgr(run->color, OUT_BOLD), name, index + 1,
            type_text(obj), out_sgr_reset(run->color));
    if (pinset_object_subject(obj) != NULL) {
        fputs("  subject:  ", f);
        out_safe(f, pinset_object_subject(obj));
        fputc('\n', f);
    }
    if (pinset_object_issuer(obj) != NULL) {
        fputs("  issuer:   ", f);
        out_safe(f, pinset_object_issuer(obj));
        fputc('\n', f);
    }
    fputs("  key:      ", f);
    out_safe(f, pinset_object_key_type(obj));
    if (group != NULL) {
        fputc(' ', f);
        out_safe(f, group);
    }
    if (bits > 0) {
        fprintf(f, ", %u bits", bits);
    }
    fputc('\n', f);
    if (pinset_object_validity(obj, &nb, &na) == PINSET_OK) {
        char t1[OUT_TIME_MAX], t2[OUT_TIME_MAX];
        (void)out_time_iso(t1, sizeof(t1), nb);
        (void)out_time_iso(t2, sizeof(t2), na);
        fprintf(f, "  valid:    %s to %s\n", t1, t2);
    }
    fprintf(f, "  pin:      %s%s%s (%s)\n", out_sgr(run->color, OUT_GREEN), b64,
            out_sgr_reset(run->color), pin->kind == PINSET_PIN_CERT ? "cert" : "spki");
}

static int json_time(json_t *o, const char *key, int ok, int64_t t)
{
    char buf[OUT_TIME_MAX];

    if (!ok || out_time_iso(buf, sizeof(buf), t) != 0) {
        return out_json_set(o, key, json_null());
    }
    return out_json_set(o, key, json_string(buf));
}

static int emit_json(hash_run *run, const char *name, size_t index, const pinset_object *obj,
                     const pinset_pin *pin)
{
    char b64[PINSET_PIN_STR_MAX], hex[PINSET_PIN_STR_MAX];
    unsigned int bits = pinset_object_key_bits(obj);
    int64_t nb = 0, na = 0;
    int valid = pinset_object_validity(obj, &nb, &na) == PINSET_OK;
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL || pinset_pin_format(b64, sizeof(b64), pin, PINSET_PIN_FMT_BASE64) != 0 ||
        pinset_pin_format(hex, sizeof(hex), pin, PINSET_PIN_FMT_HEX) != 0) {
        json_decref(o);
        return -1;
    }
    /* Field order is part of the output format (pinset-hash(1)): append only. */
    rc |= out_json_set(o, "source", json_string(name));
    rc |= out_json_set(o, "index", json_integer((json_int_t)index + 1));
    rc |= out_json_set(o, "type", json_string(type_json(obj)));
    rc |= out_json_set(o, "subject", out_json_str(pinset_object_subject(obj)));
    rc |= out_json_set(o, "issuer", out_json_str(pinset_object_issuer(obj)));
    rc |= out_json_set(o, "key_type", out_json_str(pinset_object_key_type(obj)));
    rc |= out_json_set(o, "key_group", out_json_str(pinset_object_key_group(obj)));
    rc |= out_json_set(o, "key_bits", bits > 0 ? json_integer(bits) : json_null());
    rc |= json_time(o, "not_before", valid, nb);
    rc |= json_time(o, "not_after", valid, na);
    rc |= out_json_set(o, "pin_kind", json_string(pin->kind == PINSET_PIN_CERT ? "cert" : "spki"));
    rc |= out_json_set(o, "pin", json_string(b64));
    rc |= out_json_set(o, "pin_hex", json_string(hex));
    if (rc != 0 || json_array_append_new(run->array, o) != 0) {
        if (rc != 0) {
            json_decref(o);
        }
        return -1;
    }
    return 0;
}

static int emit_pin_line(hash_run *run, const pinset_pin *pin)
{
    char buf[PINSET_PIN_STR_MAX];

    if (pinset_pin_format(buf, sizeof(buf), pin, run->pin_fmt) != PINSET_OK) {
        return -1;
    }
    fputs(buf, run->text);
    fputc('\n', run->text);
    return 0;
}

/* ---- --format curl: the leaf keys only ---- */

/*
 * curl's --pinnedpubkey (CURLOPT_PINNEDPUBLICKEY) is compared with the
 * server's own (end-entity) key only, never with the rest of its chain, so
 * the pin of an issuing CA printed for curl could never match. In an input
 * holding several certificates, the certificates that issued another
 * certificate of the same input (names, key identifiers and key usage as
 * X509_check_issued() checks them, and the signature) are CAs of that chain
 * and are left out; every other object is kept: the leaf of a chain, each
 * of several unrelated certificates, and keys and CSRs (a key is its own
 * leaf), each key once (a certificate and its private key give one pin).
 * The order of the certificates in the input does not matter.
 */

/* Why --format curl leaves an object out (one byte per object). */
enum { LEFT_KEPT = 0, LEFT_ISSUER = 1, LEFT_SAME_KEY = 2 };

typedef struct by_subject {
    const X509_NAME *name;
    const X509 *cert;
    size_t index;
    size_t copy_of; /* the object this one is a byte-for-byte copy of, or SIZE_MAX */
} by_subject;

/* By subject, then by content (copies of one certificate side by side), then by position. */
static int cmp_subject(const void *a, const void *b)
{
    const by_subject *x = a, *y = b;
    int c = X509_NAME_cmp(x->name, y->name);

    if (c == 0) {
        c = X509_cmp(x->cert, y->cert);
    }
    if (c != 0) {
        return c;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The first entry of the sorted `subj` whose name is not below `name`. */
static size_t first_named(const by_subject *subj, size_t n, const X509_NAME *name)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (X509_NAME_cmp(subj[mid].name, name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Whether certificate `ca` issued (and signed) certificate `x`, another certificate. */
static int issued(const X509 *ca, const X509 *x)
{
    X509 *i = (X509 *)(uintptr_t)ca, *s = (X509 *)(uintptr_t)x;
    EVP_PKEY *key = X509_get0_pubkey(ca);

    if (X509_cmp(ca, x) == 0) {
        return 0; /* the same certificate twice: a copy, not an issuance */
    }
    return X509_check_issued(i, s) == X509_V_OK && key != NULL && X509_verify(s, key) == 1;
}

/*
 * Mark LEFT_ISSUER in `left_out` (one byte per object) the certificates that
 * issued another certificate of the bundle. Returns 0, 1 when out of memory,
 * or 2 when more than HASH_ISSUER_CHECKS_MAX comparisons would be needed.
 */
static int mark_issuers(unsigned char *left_out, const pinset_bundle *bundle, size_t count)
{
    by_subject *subj = calloc(count, sizeof(*subj));
    unsigned char *copy = calloc(count, 1);
    size_t n = 0, checks = 0;
    int rc = 0;

    if (subj == NULL || copy == NULL) {
        free(subj);
        free(copy);
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        const X509 *x = pinset_object_x509(pinset_bundle_get(bundle, i));
        if (x != NULL) {
            subj[n].name = X509_get_subject_name(x);
            subj[n].cert = x;
            subj[n].copy_of = SIZE_MAX;
            subj[n++].index = i;
        }
    }
    qsort(subj, n, sizeof(*subj), cmp_subject);
    /*
     * Copies of one certificate (a root repeated, a chain pasted twice) are one
     * certificate: only the first of each is compared, so that they neither
     * count toward the bound nor change the answer; the copies get its mark.
     */
    for (size_t k = 1; k < n; k++) {
        if (X509_cmp(subj[k].cert, subj[k - 1].cert) == 0) {
            subj[k].copy_of =
                subj[k - 1].copy_of != SIZE_MAX ? subj[k - 1].copy_of : subj[k - 1].index;
            copy[subj[k].index] = 1;
        }
    }
    ERR_set_mark();
    for (size_t j = 0; j < count && rc == 0; j++) {
        const X509 *x = copy[j] ? NULL : pinset_object_x509(pinset_bundle_get(bundle, j));
        const X509_NAME *want = x != NULL ? X509_get_issuer_name(x) : NULL;

        for (size_t k = want != NULL ? first_named(subj, n, want) : n;
             k < n && X509_NAME_cmp(subj[k].name, want) == 0; k++) {
            const pinset_object *ca = pinset_bundle_get(bundle, subj[k].index);
            if (copy[subj[k].index]) {
                continue;
            }
            if (++checks > HASH_ISSUER_CHECKS_MAX) {
                rc = 2;
                break;
            }
            if (subj[k].index != j && left_out[subj[k].index] == LEFT_KEPT &&
                issued(pinset_object_x509(ca), x)) {
                left_out[subj[k].index] = LEFT_ISSUER;
            }
        }
    }
    ERR_pop_to_mark(); /* a failed signature check is an answer, not an error */
    for (size_t k = 0; k < n; k++) {
        if (subj[k].copy_of != SIZE_MAX) {
            left_out[subj[k].index] = left_out[subj[k].copy_of];
        }
    }
    free(copy);
    free(subj);
    return rc;
}

typedef struct by_pin {
    uint8_t sha256[PINSET_PIN_LEN];
    size_t index;
} by_pin;

static int cmp_pin(const void *a, const void *b)
{
    const by_pin *x = a, *y = b;
    int c = memcmp(x->sha256, y->sha256, sizeof(x->sha256));

    if (c != 0) {
        return c;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Mark LEFT_SAME_KEY every kept object whose key is that of an earlier kept
 * object (a certificate and its private key, as in a PKCS#12): curl takes a
 * list, and one key in it once. An object whose pin cannot be computed is
 * kept, for hash_object to report. Returns 0, or -1 when out of memory.
 */
static int mark_same_keys(unsigned char *left_out, const pinset_bundle *bundle, size_t count)
{
    by_pin *pins = calloc(count, sizeof(*pins));
    size_t n = 0;

    if (pins == NULL) {
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        pinset_pin pin;
        if (left_out[i] == LEFT_KEPT &&
            pinset_object_pin(&pin, pinset_bundle_get(bundle, i), PINSET_PIN_SPKI) == PINSET_OK) {
            memcpy(pins[n].sha256, pin.sha256, sizeof(pins[n].sha256));
            pins[n++].index = i;
        }
    }
    qsort(pins, n, sizeof(*pins), cmp_pin);
    for (size_t k = 1; k < n; k++) {
        if (memcmp(pins[k].sha256, pins[k - 1].sha256, sizeof(pins[k].sha256)) == 0) {
            left_out[pins[k].index] = LEFT_SAME_KEY; /* the lowest index of a run is kept */
        }
    }
    free(pins);
    return 0;
}

/* "object 2" or "objects 2, 3, ..." for the objects left out for `why`; how many in *total. */
static void list_left_out(char *buf, size_t cap, const unsigned char *left_out, size_t count,
                          int why, size_t *total)
{
    size_t used, listed = 0;
    int w;

    *total = 0;
    for (size_t i = 0; i < count; i++) {
        *total += left_out[i] == why;
    }
    w = snprintf(buf, cap, "object%s ", *total == 1 ? "" : "s");
    used = w > 0 ? (size_t)w : 0;
    for (size_t i = 0; i < count && used < cap; i++) {
        if (left_out[i] != why) {
            continue;
        }
        if (listed == HASH_NOTE_MAX_LISTED) {
            snprintf(buf + used, cap - used, ", ...");
            break;
        }
        w = snprintf(buf + used, cap - used, "%s%zu", listed++ ? ", " : "", i + 1);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* One line on standard error: which objects of the input were left out, and why. */
static void note_left_out(const char *path, const unsigned char *left_out, size_t count)
{
    char issuers[256], same[256], shown[1024];
    size_t n_issuers, n_same;

    list_left_out(issuers, sizeof(issuers), left_out, count, LEFT_ISSUER, &n_issuers);
    list_left_out(same, sizeof(same), left_out, count, LEFT_SAME_KEY, &n_same);
    if (n_issuers == 0 && n_same == 0) {
        return;
    }
    out_safe_copy(shown, sizeof(shown), diag_name(path));
    out_progress_done();
    if (n_same == 0) {
        cli_err(
            "hash",
            "%s: left out %s for --format curl: %s the issuer of another certificate in the input, and curl checks only the server's own (leaf) key",
            shown, issuers, n_issuers == 1 ? "it is" : "each is");
    } else if (n_issuers == 0) {
        cli_err("hash", "%s: left out %s for --format curl: the same key as an earlier object",
                shown, same);
    } else {
        cli_err(
            "hash",
            "%s: left out %s for --format curl: %s the issuer of another certificate in the input, and curl checks only the server's own (leaf) key; and %s: the same key as an earlier object",
            shown, issuers, n_issuers == 1 ? "it is" : "each is", same);
    }
}

/*
 * --format curl: set *out to one byte per object, LEFT_KEPT for an object to
 * print, else why it is left out. Returns an exit status.
 */
static int curl_leaves(unsigned char **out, const pinset_bundle *bundle, const char *path)
{
    size_t count = pinset_bundle_count(bundle), certs = 0, kept = 0;
    unsigned char *left_out = calloc(count, 1);
    int rc = 0;

    *out = NULL;
    for (size_t i = 0; i < count; i++) {
        certs += pinset_object_x509(pinset_bundle_get(bundle, i)) != NULL;
    }
    if (left_out != NULL && certs >= 2) {
        rc = mark_issuers(left_out, bundle, count);
    }
    if (rc == 2) {
        free(left_out);
        return report_tool(
            path, SIZE_MAX, PINSET_E_LIMIT,
            "too many certificates share an issuer name to tell the leaf for --format curl");
    }
    if (left_out == NULL || rc == 1 || mark_same_keys(left_out, bundle, count) != 0) {
        free(left_out);
        cli_err("hash", "out of memory");
        return EXIT_INTERNAL;
    }
    for (size_t i = 0; i < count; i++) {
        kept += left_out[i] == LEFT_KEPT;
    }
    if (kept == 0) {
        free(left_out);
        return report_tool(
            path, SIZE_MAX, PINSET_E_PARSE,
            "no leaf for --format curl: every certificate is the issuer of another one in the input");
    }
    note_left_out(path, left_out, count);
    *out = left_out;
    return EXIT_OK;
}

/* ---- one input ---- */

static int hash_object(hash_run *run, const char *path, const char *name, size_t i,
                       const pinset_object *obj)
{
    pinset_pin pin;
    pinset_err err = pinset_object_pin(&pin, obj, run->kind);
    int rc;

    if (err == PINSET_E_UNSUPPORTED && run->kind == PINSET_PIN_CERT) {
        char msg[128];
        snprintf(msg, sizeof(msg), "a %s has no cert pin (--kind cert needs a certificate)",
                 type_text(obj));
        return report_tool(path, i, err, msg);
    }
    if (err != PINSET_OK) {
        return report_tool(path, i, err, NULL);
    }
    switch (run->format) {
    case HASH_FMT_TEXT:
        emit_text(run, name, i, obj, &pin);
        rc = 0;
        break;
    case HASH_FMT_JSON:
        rc = emit_json(run, name, i, obj, &pin);
        break;
    case HASH_FMT_HPKP:
    case HASH_FMT_CURL:
    case HASH_FMT_OKHTTP:
    case HASH_FMT_HEX:
    default:
        rc = emit_pin_line(run, &pin);
        break;
    }
    if (rc != 0) {
        cli_err("hash", "out of memory");
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

static int hash_input(hash_run *run, const char *path, size_t nth)
{
    pinset_diag diag = PINSET_DIAG_INIT;
    pinset_bundle *bundle = NULL;
    unsigned char *left_out = NULL;
    char name[1024];
    pinset_err err;
    size_t count;
    int rc = EXIT_OK;

    input_name(name, sizeof(name), path);
    diag.input = diag_name(path); /* the library keeps it, or sets it to the same path */
    err = cli_bundle_read(&bundle, path, &run->opts, &diag);
    if (err != PINSET_OK) {
        diag.code = err;
        return report(&diag, run->opts.passphrase != NULL);
    }
    count = pinset_bundle_count(bundle);
    if (count == 0) {
        /* The library refuses empty inputs itself; this keeps the promise if it ever does not. */
        rc = report_tool(path, SIZE_MAX, PINSET_E_PARSE, "no certificate, key or CSR found");
        goto out;
    }
    if (run->format == HASH_FMT_CURL) {
        rc = curl_leaves(&left_out, bundle, path);
    }
    if (run->format == HASH_FMT_TEXT && nth > 0) {
        fputc('\n', run->text);
    }
    for (size_t i = 0; i < count && rc == EXIT_OK; i++) {
        if (left_out == NULL || left_out[i] == LEFT_KEPT) {
            rc = hash_object(run, path, name, i, pinset_bundle_get(bundle, i));
        }
    }
out:
    free(left_out);
    pinset_bundle_free(bundle);
    return rc;
}

/* ---- the command ---- */

static int write_results(hash_run *run, char *text, size_t text_len)
{
    int bad;

    if (run->format == HASH_FMT_JSON) {
        bad = out_json_dump(stdout, run->array) != 0;
    } else {
        bad = text_len > 0 && fwrite(text, 1, text_len, stdout) != text_len;
    }
    if (fflush(stdout) != 0 || bad) {
        return cli_output_failed("hash");
    }
    return EXIT_OK;
}

static int parse_args(hash_run *run, int argc, char **argv, const char **passfile,
                      const char **inputs, size_t *ninputs)
{
    out_color_mode color = OUT_COLOR_AUTO;
    int stdin_seen = 0;
    opt_state st;
    const char *v;
    int r;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_hash_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_hash_spec);
            return -1;
        case OPT_ERROR:
            return EXIT_USAGE;
        case OPT_POSITIONAL:
            if (strcmp(v, "-") == 0 && stdin_seen++) {
                return opt_usage_error(&cmd_hash_spec, "standard input ('-') given twice");
            }
            if (*ninputs >= HASH_MAX_INPUTS) {
                return opt_usage_error(&cmd_hash_spec, "more than %d inputs", HASH_MAX_INPUTS);
            }
            inputs[(*ninputs)++] = v;
            break;
        case HASH_OPT_KIND:
            if (parse_kind(v, &run->kind) != 0) {
                return opt_usage_error(&cmd_hash_spec, "unknown --kind '%s' (spki or cert)", v);
            }
            break;
        case HASH_OPT_FORMAT:
            if (parse_format(v, run) != 0) {
                return opt_usage_error(&cmd_hash_spec, "unknown --format '%s'", v);
            }
            break;
        case HASH_OPT_PASSFILE:
            *passfile = v;
            break;
        case HASH_OPT_COLOR:
            if (out_color_parse(v, &color) != 0) {
                return opt_usage_error(&cmd_hash_spec,
                                       "--color '%s': expected auto, never or always", v);
            }
            break;
        default:
            return EXIT_INTERNAL;
        }
    }
    if (*ninputs == 0) {
        return opt_usage_error(&cmd_hash_spec, "no input (give FILE, or - for standard input)");
    }
    if (run->kind == PINSET_PIN_CERT && hash_formats[run->format_index].key_only) {
        return opt_usage_error(
            &cmd_hash_spec,
            "--format %s takes public-key pins only; certificate digests (--kind cert) can never match",
            hash_formats[run->format_index].name);
    }
    run->color = run->format == HASH_FMT_TEXT && out_color_enabled(stdout, color);
    return EXIT_OK;
}

static int hash_all(hash_run *run, const char **inputs, size_t ninputs)
{
    int rc = EXIT_OK;

    for (size_t i = 0; i < ninputs && rc == EXIT_OK; i++) {
        if (ninputs > 1) {
            char name[128];
            input_name(name, sizeof(name), inputs[i]);
            out_progress("pinset: hash: %zu/%zu %s", i + 1, ninputs, name);
        }
        rc = hash_input(run, inputs[i], i);
    }
    out_progress_done();
    return rc;
}

int cmd_hash(int argc, char **argv)
{
    hash_run run = {PINSET_PIN_SPKI,       0,    HASH_FMT_TEXT, PINSET_PIN_FMT_BASE64, 0,
                    PINSET_LOAD_OPTS_INIT, NULL, NULL};
    char passphrase[HASH_PASSPHRASE_BUF];
    const char *passfile = NULL;
    const char **inputs = NULL;
    size_t ninputs = 0, text_len = 0;
    char *text = NULL;
    int rc;

    inputs = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*inputs));
    if (inputs == NULL) {
        cli_err("hash", "out of memory");
        return EXIT_INTERNAL;
    }
    rc = parse_args(&run, argc, argv, &passfile, inputs, &ninputs);
    if (rc != EXIT_OK) {
        free(inputs);
        return rc < 0 ? EXIT_OK : rc; /* -1: --help was printed */
    }
    if (passfile != NULL) {
        rc = read_passphrase(passphrase, sizeof(passphrase), &run.opts.passphrase_len, passfile);
        if (rc != EXIT_OK) {
            goto out;
        }
        run.opts.passphrase = passphrase;
    }
    if (pins_only(run.format) && run.format != HASH_FMT_CURL) {
        /* the fast path: no full certificate parse (curl needs names to tell the leaf) */
        run.opts.flags |= PINSET_LOAD_PINS_ONLY;
    }
    if (run.format == HASH_FMT_JSON) {
        run.array = json_array();
    } else {
        run.text = open_memstream(&text, &text_len);
    }
    if (run.array == NULL && run.text == NULL) {
        cli_err("hash", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = hash_all(&run, inputs, ninputs);
    if (run.text != NULL && fclose(run.text) != 0 && rc == EXIT_OK) {
        cli_err("hash", "out of memory");
        rc = EXIT_INTERNAL;
    }
    run.text = NULL;
    if (rc == EXIT_OK) {
        rc = write_results(&run, text, text_len);
    }
out:
    if (passfile != NULL) {
        OPENSSL_cleanse(passphrase, sizeof(passphrase));
    }
    json_decref(run.array);
    free(text);
    free(inputs);
    return rc;
}
